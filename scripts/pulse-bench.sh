#!/usr/bin/env bash
# Calibration pulses placed every way a printer places them: renders 3x4 +
# lead II rhythm strip pages (200 dpi, clean) from the 10 records A1980..A1989
# of ../shared/data/records in four sets, digitizes each with the release
# binary and prints its `ecgdig eval` line:
#   end    pulse right of each row (0.2 s, 10 mm/mV)
#   both   pulse at both ends (0.12 s)
#   none   no pulse
#   gain   pulse at the end, 0.16 s, at 5 mm/mV (records 1-5) or 20 mm/mV (6-10)
#   scripts/pulse-bench.sh [out-folder]      (default out/pulse-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${1:-out/pulse-bench}
BIN=${BIN:-target/release/ecgdig}
RBIN=${RBIN:-$BIN}
rm -rf "$OUT"
n=0
for r in A1980 A1981 A1982 A1983 A1984 A1985 A1986 A1987 A1988 A1989; do
  n=$((n + 1))
  hea="$SHARED/data/records/$r.hea"
  "$RBIN" render --record "$hea" --layout 3x4r --pulse end -o "$OUT/end/pages" --seed $n >/dev/null 2>&1
  "$RBIN" render --record "$hea" --layout 3x4r --pulse both --pulse-width 0.12 -o "$OUT/both/pages" --seed $n >/dev/null 2>&1
  "$RBIN" render --record "$hea" --layout 3x4r --pulse none -o "$OUT/none/pages" --seed $n >/dev/null 2>&1
  g=5; [ $n -gt 5 ] && g=20
  "$RBIN" render --record "$hea" --layout 3x4r --pulse end --pulse-width 0.16 --gain $g -o "$OUT/gain/pages" --seed $n >/dev/null 2>&1
done
for s in end both none gain; do
  rm -f "$OUT/$s"/pages/*_mask.png
  "$BIN" digitize "$OUT/$s/pages" -o "$OUT/$s/pred" --format csv,json >/dev/null 2>"$OUT/$s/digitize.log" || true
  echo "$s: $("$BIN" eval --truth "$OUT/$s/pages" --pred "$OUT/$s/pred" | tail -1)"
done

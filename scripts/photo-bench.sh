#!/usr/bin/env bash
# How the pipeline reads phone photos of printouts: renders 40 pages with
# `--preset photo` (fixed seeds) from the 32 records of ../shared/data/records
# that no dev page uses, plus 8 synthetic records; digitizes them with the
# release binary and scores with `ecgdig eval`. Prints the uncapped and capped
# mean SNR and the share of leads under 5 dB.
#   scripts/photo-bench.sh [out-folder]      (default out/photo-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${1:-out/photo-bench}
cargo build --release -q -p ecgdig
BIN=${BIN:-target/release/ecgdig}
RECS="A1980 A1981 A1982 A1983 A1984 A1985 A1986 A1987 A1988 A1989 E00666 E07510
E07511 E07512 E07513 E07514 E07515 E07516 E07517 E07518 E07519 JS00666 JS20010
JS20011 JS20012 JS20013 JS20014 JS20015 JS20016 JS20017 JS20018 JS20019"
rm -rf "$OUT"
mkdir -p "$OUT/pages" "$OUT/masks" "$OUT/pred"
n=0
for r in $RECS; do
  n=$((n + 1))
  hea="$SHARED/data/records/$r.hea"
  [ -f "$hea" ] || { echo "missing $hea" >&2; exit 1; }
  "$BIN" render --record "$hea" --preset photo --seed $((9300 + n)) -o "$OUT/pages" >/dev/null 2>>"$OUT/render.log"
done
"$BIN" render --synthetic --records 8 --name phsyn --preset photo --seed 9400 \
  -o "$OUT/pages" >/dev/null 2>>"$OUT/render.log"
# the renderer's truth masks sit beside the pages; keep them out of the set
mv "$OUT"/pages/*_mask.png "$OUT/masks/"
pages=$(ls "$OUT/pages" | grep -ciE '\.(png|jpe?g)$')
"$BIN" digitize "$OUT/pages" -o "$OUT/pred" --format csv,json 2>"$OUT/digitize.log" || true
line=$("$BIN" eval --truth "$OUT/pages" --pred "$OUT/pred" --json "$OUT/eval.json" | tail -1)
echo "pages: $pages"
echo "eval: $line"
python3 - "$OUT" <<'PY'
import json, os, sys
ev = json.load(open(os.path.join(sys.argv[1], "eval.json")))
snrs = [l["snr_db"] for im in ev["per_image"] for l in im["leads"].values() if l["snr_db"] is not None]
under = sum(1 for v in snrs if v < 5.0)
print(f"uncapped mean: {ev['mean_snr_db_uncapped']:.2f} dB")
print(f"capped mean:   {ev['mean_snr_db_capped']:.2f} dB")
print(f"leads under 5 dB: {under}/{len(snrs)} = {under / max(len(snrs), 1):.1%}")
PY

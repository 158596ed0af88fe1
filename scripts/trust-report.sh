#!/usr/bin/env bash
# Prints how far the per-lead confidence can be trusted, per dev set: scored
# leads, the share that failed (SNR under 5 dB), the AUROC of 1 - confidence
# for failure, and the failed leads that still claimed 0.9 or more.
#   scripts/trust-report.sh [config.toml] [extra digitize args...]
# Sets: every folder of ../shared/data/dev (override with SETS="clean bw").
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
CONFIG=${1:-}
shift || true
cargo build --release -q -p ecgdig
BIN=target/release/ecgdig
OUT=${OUT:-out/trust-report}
SETS=${SETS:-$(ls "$SHARED/data/dev" 2>/dev/null | tr '\n' ' ')}
[ -n "$SETS" ] || { echo "no sets under $SHARED/data/dev" >&2; exit 2; }
echo "| set | leads | failed (< 5 dB) | AUROC | failed claiming >= 0.9 |"
echo "|---|---|---|---|---|"
for set in $SETS; do
  dir="$SHARED/data/dev/$set"
  [ -d "$dir" ] || { echo "skip $set: $dir not found" >&2; continue; }
  rm -rf "$OUT/$set"; mkdir -p "$OUT/$set"
  "$BIN" digitize "$dir" -o "$OUT/$set" --format csv,json -j 2 ${CONFIG:+--config "$CONFIG"} "$@" \
    >"$OUT/$set.log" 2>&1 || true
  line=$("$BIN" eval --truth "$dir" --pred "$OUT/$set" --missing-as-zero | grep "^leads=" | tail -1)
  get() { sed -E "s/(^|.* )$1=([^ ]+).*/\2/" <<<"$line"; }
  leads=$(get leads); failed=$(get failed_leads); auroc=$(get auroc); over=$(get overconfident_failed)
  pct=$(python3 -c "print(f'{100*$failed/max($leads,1):.1f} %')")
  echo "| $set | $leads | $failed ($pct) | $auroc | $over of $failed |"
done

#!/usr/bin/env bash
# How the pipeline reads ecg-image-kit-like distorted scans: renders 40 pages with
# `--preset distorted` (fixed seeds) from the 32 records of ../shared/data/records
# that no dev page uses, plus 8 synthetic records; digitizes them with the
# release binary and scores with `ecgdig eval`. Prints the uncapped and capped
# mean SNR and the share of leads under 5 dB.
#   scripts/distorted-bench.sh [out-folder]  (default out/distorted-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${1:-out/distorted-bench}
cargo build --release -q -p ecgdig
BIN=${BIN:-target/release/ecgdig}
# shellcheck source=lib/bench-set.sh
. scripts/lib/bench-set.sh
# shellcheck disable=SC2086
render_set "$OUT" distorted 9500 dssyn 8 9600 $HELD_OUT_RECORDS
pages=$(ls "$OUT/pages" | grep -ciE '\.(png|jpe?g)$')
score_set "$OUT"
echo "pages: $pages"
echo "eval: $(tail -1 "$OUT/eval.txt")"
print_means "$OUT"

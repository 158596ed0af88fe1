#!/usr/bin/env bash
# Peak memory and throughput of a large batch (not a test).
#
#   scripts/bench-batch.sh [PAGES=500] [WORKDIR=/tmp/ecgdig-bench] [JOBS=all cores]
#
# Builds the release binary, renders PAGES synthetic pages with
# `ecgdig render` (200 dpi PNG, kept between runs), then digitizes the folder
# under `/usr/bin/time -v` with `--format csv` and prints peak RSS, wall time
# and pages/s. Memory must not grow with PAGES: run it with 50 and 500 and
# compare the peaks.
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES="${1:-500}"
WORK="${2:-/tmp/ecgdig-bench}"
JOBS="${3:-$(nproc)}"
BIN=target/release/ecgdig

cargo build --release -p ecgdig >&2
mkdir -p "$WORK"
PAGES_DIR="$WORK/pages-$PAGES"
if [ ! -f "$PAGES_DIR/.done" ]; then
  rm -rf "$PAGES_DIR"
  echo "rendering $PAGES pages into $PAGES_DIR ..." >&2
  "$BIN" render --synthetic --records "$PAGES" --dpi 200 --seed 1 -o "$PAGES_DIR" >&2
  touch "$PAGES_DIR/.done"
fi
N_IMAGES=$(find "$PAGES_DIR" -name '*-0.png' | wc -l)
OUT="$WORK/out-$PAGES"
rm -rf "$OUT"
echo "digitizing $N_IMAGES images with -j $JOBS ..." >&2
/usr/bin/time -v "$BIN" digitize "$PAGES_DIR" --glob '*-0.png' -o "$OUT" -j "$JOBS" -q \
  2> "$WORK/time-$PAGES.txt" || true
grep -E "pages ok|pages failed|seconds per page|pages per second|wall seconds" "$WORK/time-$PAGES.txt" || true
RSS_KB=$(grep "Maximum resident set size" "$WORK/time-$PAGES.txt" | awk '{print $NF}')
ELAPSED=$(grep "Elapsed (wall clock)" "$WORK/time-$PAGES.txt" | awk '{print $NF}')
echo "images:        $N_IMAGES"
echo "jobs:          $JOBS"
echo "peak RSS:      $((RSS_KB / 1024)) MiB"
echo "elapsed:       $ELAPSED"

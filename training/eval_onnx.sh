#!/usr/bin/env bash
# Compares the classical default pipeline with configs/onnx.toml (the learned
# segmenter) on each ../shared/data/dev set; prints one ablation table per set.
#   training/eval_onnx.sh [extra ablate args, e.g. --limit 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
eval "$(scripts/setup-onnxruntime.sh --export)"
cargo build --release -q -p ecgdig
for set in clean distorted bw; do
  echo "## $set"
  target/release/ecgdig ablate configs/default.toml configs/onnx.toml \
    --data "$SHARED/data/dev/$set" --out "training/runs/ablate-$set" "$@" 2>/dev/null
done

#!/usr/bin/env bash
# Where the learned segmenter wins: pages whose grid is as dark as the trace
# (black or grey ink, as on many photocopied and scanned ECGs). Renders a
# small labelled set with our renderer (synthetic signals, seeds unused in
# training), then compares the default pipeline, the learned segmenter
# (configs/onnx.toml) and the fallback (configs/onnx-fallback.toml).
#   scripts/dark-grid-bench.sh [out-folder]      (default out/dark-grid)
# Needs ONNX Runtime: eval "$(scripts/setup-onnxruntime.sh --export)".
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/dark-grid}
cargo build --release -q -p ecgdig
BIN=target/release/ecgdig
rm -rf "$OUT/pages"
mkdir -p "$OUT/pages"
n=0
for colour in black grey; do
  for dpi in 100 150 200; do
    for layout in 3x4r 6x2; do
      n=$((n + 1))
      "$BIN" render --synthetic --name "dark$n" --seed $((7000 + n)) --grid-color "$colour" \
        --dpi "$dpi" --layout "$layout" -o "$OUT/pages" >/dev/null
    done
  done
done
# the renderer's truth masks sit beside the pages; keep them out of the set
mkdir -p "$OUT/masks"
mv "$OUT"/pages/*_mask.png "$OUT/masks/"
"$BIN" ablate configs/default.toml configs/onnx.toml configs/onnx-fallback.toml \
  --data "$OUT/pages" --out "$OUT/ablate"

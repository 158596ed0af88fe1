#!/usr/bin/env bash
# How far could a better segmenter go? Draws each dev page's perfect trace
# mask from its ecg-image-kit annotation (scripts/oracle_masks.py), then runs
# the default pipeline against the same pipeline whose tracer reads that mask
# (the `mask_file` stage; rows and pulses are still found on the classical
# mask, since pulses are not annotated). The gap is the most that any
# segmenter, learned or not, can add to the tracing with today's downstream.
#   scripts/oracle-mask-bound.sh [set ...]        (default: clean distorted bw)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${OUT:-out/oracle}
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
"$PY" -c "import PIL" 2>/dev/null || { echo "needs Pillow: scripts/setup-python.sh, or pip install pillow" >&2; exit 2; }
cargo build --release -q -p ecgdig
BIN=target/release/ecgdig
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(clean distorted bw)
echo "| set | pages | default (dB) | perfect trace mask (dB) | gap (dB) |"
echo "|---|---|---|---|---|"
for set in "${sets[@]}"; do
  dir="$SHARED/data/dev/$set"
  [ -d "$dir" ] || { echo "skip $set: $dir not found" >&2; continue; }
  masks="$OUT/$set/masks"
  "$PY" scripts/oracle_masks.py "$dir" "$masks" >&2
  cfg="$OUT/$set/oracle-trace-mask.toml"
  cat >"$cfg" <<EOF
extends = "builtin:default"
name = "oracle-trace-mask"
description = "Default pipeline; the tracer reads the annotation's perfect mask"

[stages.truth_mask]
type = "mask_file"
inputs = ["deskew"]
dir = "masks"

[stages.trace]
type = "trace_viterbi"
inputs = { mask = "truth_mask", layout = "layout", grid = "calibrate", image = "deskew" }
EOF
  "$BIN" ablate configs/default.toml "$cfg" --data "$dir" --out "$OUT/$set/ablate" >"$OUT/$set/ablate.txt" 2>"$OUT/$set/ablate.log"
  pages=$(ls "$dir" | grep -ciE '\.(png|jpe?g)$')
  # ablate prints one row per config; take the uncapped mean of each
  uncapped() { awk -F'|' -v c="$1" '$2 ~ "^ *"c" *$" {gsub(/ /, "", $4); print $4}' "$OUT/$set/ablate.txt"; }
  def=$(uncapped default)
  orc=$(uncapped oracle-trace-mask)
  gap=$(python3 -c "print(f'{$orc-$def:+.2f}')")
  echo "| $set | $pages | $def | $orc | $gap |"
done

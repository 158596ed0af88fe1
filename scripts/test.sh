#!/usr/bin/env bash
# The project's test command: sets up what the tests need (a Python venv with
# numpy + wfdb for cross-checks, ONNX Runtime for the segmenter), then runs
# every test of the workspace. Extra arguments go to `cargo test`.
#   scripts/test.sh
#   scripts/test.sh -p ecgdig-core
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
eval "$(scripts/setup-onnxruntime.sh --export)"
export PATH="$PWD/.venv/bin:$PATH"
cargo test --workspace "$@"

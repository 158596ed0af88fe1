#!/usr/bin/env bash
# Installs ONNX Runtime from PyPI into .venv (no prebuilt download at build
# time) and prints the ORT_DYLIB_PATH that ecgdig's `onnx_segment` stage needs.
#   eval "$(scripts/setup-onnxruntime.sh --export)"
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv >&2
fi
if ! .venv/bin/python -c "import onnxruntime" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check "onnxruntime>=1.24,<2" >&2
fi
lib=$(.venv/bin/python -c 'import onnxruntime as o,glob,os;print(sorted(glob.glob(os.path.join(os.path.dirname(o.__file__),"capi","libonnxruntime.so*")))[0])')
if [ "${1:-}" = "--export" ]; then
  echo "export ORT_DYLIB_PATH=$lib"
else
  echo "ONNX Runtime ready. Use it with:" >&2
  echo "  export ORT_DYLIB_PATH=$lib"
fi

#!/usr/bin/env bash
# Creates .venv with the Python packages the tests use to cross-check ecgdig
# (numpy + wfdb for the reference scorer and WFDB read-back). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, wfdb" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check "numpy<3" "wfdb>=4,<5"
fi
echo "python venv ready: $(pwd)/.venv (numpy, wfdb)"

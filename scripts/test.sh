#!/usr/bin/env bash
# The project's test command: sets up what the tests need, then runs them all.
#   scripts/test.sh            # every test of the workspace
#   scripts/test.sh -p ecgdig-core   # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
export PATH="$PWD/.venv/bin:$PATH"
cargo test --workspace "$@"

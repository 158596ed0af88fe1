#!/usr/bin/env bash
# The project's test command: sets up what the tests need (a Python venv with
# numpy + wfdb for cross-checks, ONNX Runtime for the segmenter), then runs
# every test of the workspace; with arguments, `cargo test <arguments>` instead.
#   scripts/test.sh
#   scripts/test.sh -p ecgdig-core
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
eval "$(scripts/setup-onnxruntime.sh --export)"
# Liberation fonts (a Debian package, a few MB) for the lead-label reader's
# test on fonts it has no templates of; that test skips without them.
if [ ! -d /usr/share/fonts/truetype/liberation ] && command -v apt-get >/dev/null; then
  apt-get install -y -q fonts-liberation >/dev/null 2>&1 ||
    echo "fonts-liberation not installed: the unseen-font label test will skip" >&2
fi
export PATH="$PWD/.venv/bin:$PATH"
# CI explores a fixed slice of the property tests' input space, so a run's
# verdict is reproducible; locally every run draws new cases.
if [ "${CI:-}" = true ]; then export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261125}"; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set -o pipefail
if [ "$#" -eq 0 ]; then set -- --workspace; fi
cargo test "$@" 2>&1 | tee "$log"
# one closing line with the totals over every test binary and doctest run
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"

#!/usr/bin/env bash
# Fits the `lead_confidence` model on rendered pages with exact truth, then
# checks it on rendered pages it never saw and on the dev sets.
#
#   scripts/fit-confidence.sh [out-folder]        (default out/fit-confidence)
#   INSTALL=1 scripts/fit-confidence.sh           also copy the model into
#                                                 stages/src/trust/ (rebuild after)
#
# Fitting pages: the records the dev pages were made from, plus synthetic
# records, rendered with --preset clean, distorted, bw and variety (and photo
# when the renderer has it). Held-out pages: the 32 records no dev page uses
# plus 8 synthetic ones, other seeds, same presets. Each set is digitized
# with the release binary (--format csv,json) and scored per lead with
# `ecgdig eval --json`; scripts/fit_confidence.py fits and reports.
# Prints the fitted weights and, per set, leads, failed share, AUROC,
# overconfident failures and calibration.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${1:-out/fit-confidence}
bash scripts/setup-python.sh >/dev/null
PY=.venv/bin/python
cargo build --release -q -p ecgdig
BIN=${BIN:-target/release/ecgdig}
# shellcheck source=lib/bench-set.sh
. scripts/lib/bench-set.sh
FIT_RECS=$(ls "$SHARED"/data/dev/*/ | grep -E '\.hea$' | sed 's/\.hea$//' | sort -u)
n_fit=$(echo $FIT_RECS | wc -w)
n_held=$(echo $HELD_OUT_RECORDS | wc -w)
PRESETS="clean distorted bw variety"
if "$BIN" render --help | grep -q "photo"; then PRESETS="$PRESETS photo"; fi

fit_sets=()
held_sets=()
k=0
for p in $PRESETS; do
  k=$((k + 1))
  first=$((20000 + 1000 * k))
  # shellcheck disable=SC2086
  render_set "$OUT/fit-$p" "$p" $first "syn$p" 12 $((first + n_fit + 1000)) $FIT_RECS
  score_set "$OUT/fit-$p"
  fit_sets+=("$OUT/fit-$p")
  first=$((40000 + 1000 * k))
  # shellcheck disable=SC2086
  render_set "$OUT/held-$p" "$p" $first "syn$p" 8 $((first + n_held + 1000)) $HELD_OUT_RECORDS
  score_set "$OUT/held-$p"
  held_sets+=("$OUT/held-$p")
done
"$PY" scripts/fit_confidence.py fit "$OUT/lead_confidence_model.json" "${fit_sets[@]}"
if [ "${INSTALL:-0}" = 1 ]; then
  cp "$OUT/lead_confidence_model.json" stages/src/trust/lead_confidence_model.json
  cargo build --release -q -p ecgdig
  echo "installed; re-digitizing with the new model"
  for d in "${fit_sets[@]}" "${held_sets[@]}"; do
    rm -rf "$d/pred"
    "$BIN" digitize "$d/pages" -o "$d/pred" --format csv,json -q 2>"$d/digitize.log" || true
  done
fi
echo
echo "fitting sets (in-sample):"
"$PY" scripts/fit_confidence.py eval "${fit_sets[@]}"
echo
echo "held-out rendered sets:"
"$PY" scripts/fit_confidence.py eval "${held_sets[@]}"

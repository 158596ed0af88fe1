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
FIT_RECS=$(ls "$SHARED"/data/dev/*/ | grep -E '\.hea$' | sed 's/\.hea$//' | sort -u)
HELD_RECS="A1980 A1981 A1982 A1983 A1984 A1985 A1986 A1987 A1988 A1989 E00666 E07510
E07511 E07512 E07513 E07514 E07515 E07516 E07517 E07518 E07519 JS00666 JS20010
JS20011 JS20012 JS20013 JS20014 JS20015 JS20016 JS20017 JS20018 JS20019"
PRESETS="clean distorted bw variety"
if "$BIN" render --help | grep -q "photo"; then PRESETS="$PRESETS photo"; fi

# render_set <dir> <preset> <first seed> <synthetic count> <records...>
render_set() {
  local dir=$1 preset=$2 seed=$3 nsyn=$4
  shift 4
  rm -rf "$dir"
  mkdir -p "$dir/pages" "$dir/pred"
  for r in "$@"; do
    seed=$((seed + 1))
    "$BIN" render --record "$SHARED/data/records/$r.hea" --preset "$preset" --seed "$seed" \
      -o "$dir/pages" >/dev/null 2>>"$dir/render.log"
  done
  "$BIN" render --synthetic --records "$nsyn" --name "syn$preset" --preset "$preset" \
    --seed $((seed + 1000)) -o "$dir/pages" >/dev/null 2>>"$dir/render.log"
  rm -f "$dir"/pages/*_mask.png
  "$BIN" digitize "$dir/pages" -o "$dir/pred" --format csv,json -q 2>"$dir/digitize.log" || true
  "$BIN" eval --truth "$dir/pages" --pred "$dir/pred" --json "$dir/eval.json" --missing-as-zero \
    >"$dir/eval.txt"
}

fit_sets=()
held_sets=()
k=0
for p in $PRESETS; do
  k=$((k + 1))
  # shellcheck disable=SC2086
  render_set "$OUT/fit-$p" "$p" $((20000 + 1000 * k)) 12 $FIT_RECS
  fit_sets+=("$OUT/fit-$p")
  # shellcheck disable=SC2086
  render_set "$OUT/held-$p" "$p" $((40000 + 1000 * k)) 8 $HELD_RECS
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

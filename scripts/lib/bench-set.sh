# Shared by the benchmark scripts (source it): the records no dev page uses,
# and the steps that render a set of pages, digitize and score it.
# Needs BIN (the ecgdig binary) and SHARED (the folder holding data/).

# The 32 records of ../shared/data/records that no dev page was made from.
HELD_OUT_RECORDS="A1980 A1981 A1982 A1983 A1984 A1985 A1986 A1987 A1988 A1989 E00666 E07510
E07511 E07512 E07513 E07514 E07515 E07516 E07517 E07518 E07519 JS00666 JS20010
JS20011 JS20012 JS20013 JS20014 JS20015 JS20016 JS20017 JS20018 JS20019"

# render_set <dir> <preset> <first seed> <synthetic name> <synthetic count> <synthetic seed> <records...>
# Renders one page per record (seeds first+1, first+2, ...) and the synthetic
# records into <dir>/pages, moving the truth masks to <dir>/masks so that
# they are not digitized.
render_set() {
  local dir=$1 preset=$2 seed=$3 syn=$4 nsyn=$5 synseed=$6
  shift 6
  rm -rf "$dir"
  mkdir -p "$dir/pages" "$dir/masks" "$dir/pred"
  local r hea
  for r in "$@"; do
    seed=$((seed + 1))
    hea="$SHARED/data/records/$r.hea"
    [ -f "$hea" ] || { echo "missing $hea" >&2; return 1; }
    "$BIN" render --record "$hea" --preset "$preset" --seed "$seed" -o "$dir/pages" \
      >/dev/null 2>>"$dir/render.log"
  done
  "$BIN" render --synthetic --records "$nsyn" --name "$syn" --preset "$preset" \
    --seed "$synseed" -o "$dir/pages" >/dev/null 2>>"$dir/render.log"
  mv "$dir"/pages/*_mask.png "$dir/masks/" 2>/dev/null || true
}

# score_set <dir>: digitizes <dir>/pages into <dir>/pred (CSV and JSON) and
# scores it; the last line of `ecgdig eval` goes to <dir>/eval.txt, every
# score to <dir>/eval.json.
score_set() {
  local dir=$1
  # shellcheck disable=SC2086
  "$BIN" digitize "$dir/pages" -o "$dir/pred" --format csv,json -q ${DIGITIZE_ARGS:-} 2>"$dir/digitize.log" || true
  "$BIN" eval --truth "$dir/pages" --pred "$dir/pred" --json "$dir/eval.json" --missing-as-zero \
    >"$dir/eval.txt"
}

# print_means <dir>: uncapped and capped mean and the share of leads under 5 dB.
print_means() {
  python3 - "$1" <<'PY'
import json, os, sys
ev = json.load(open(os.path.join(sys.argv[1], "eval.json")))
snrs = [l["snr_db"] for im in ev["per_image"] for l in im["leads"].values() if l["snr_db"] is not None]
under = sum(1 for v in snrs if v < 5.0)
print(f"uncapped mean: {ev['mean_snr_db_uncapped']:.2f} dB")
print(f"capped mean:   {ev['mean_snr_db_capped']:.2f} dB")
print(f"leads under 5 dB: {under}/{len(snrs)} = {under / max(len(snrs), 1):.1%}")
PY
}

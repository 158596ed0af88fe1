#!/usr/bin/env bash
# Checks that two builds of ecgdig digitize the same pages to the same bytes:
# runs both binaries over every set in ../shared/data/dev (and, when present,
# real-unlabeled) with the embedded default pipeline and compares every
# output file (CSV, and JSON but for its config hash). A refactor that must not change behaviour
# passes with "identical".
#   scripts/compare-outputs.sh OLD_BINARY [NEW_BINARY]
# NEW_BINARY defaults to target/release/ecgdig (built here).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OLD=${1:?usage: scripts/compare-outputs.sh OLD_BINARY [NEW_BINARY]}
NEW=${2:-}
if [ -z "$NEW" ]; then
  cargo build --release -q -p ecgdig
  NEW=target/release/ecgdig
fi
WORK=${WORK:-$(mktemp -d)}
sets=()
for d in "$SHARED"/data/dev/* "$SHARED/data/real-unlabeled"; do
  [ -d "$d" ] && sets+=("$d")
done
[ "${#sets[@]}" -gt 0 ] || { echo "no data under $SHARED/data: nothing to compare" >&2; exit 2; }
status=0
for d in "${sets[@]}"; do
  name=$(basename "$d")
  for which in old new; do
    bin=$OLD; [ "$which" = new ] && bin=$NEW
    rm -rf "$WORK/$which/$name"; mkdir -p "$WORK/$which/$name"
    "$bin" digitize "$d" -o "$WORK/$which/$name" --format csv,json -j 2 \
      >"$WORK/$which/$name.log" 2>&1 || true
  done
  # the resolved pipeline names the binary's version and hash: not compared
  files=$(cd "$WORK/old/$name" && find . -type f ! -name pipeline.resolved.toml | sort)
  n=$(wc -l <<<"$files")
  diffs=0
  while read -r f; do
    same=0
    case "$f" in
      # a JSON names the resolved config's hash, which changes with any
      # default parameter, even one that leaves every output as it was
      *.json) cmp -s <(sed -E 's/"config_hash": *"[0-9a-f]*"//' "$WORK/old/$name/$f") \
                     <(sed -E 's/"config_hash": *"[0-9a-f]*"//' "$WORK/new/$name/$f") && same=1 ;;
      *) cmp -s "$WORK/old/$name/$f" "$WORK/new/$name/$f" && same=1 ;;
    esac
    if [ "$same" -eq 0 ]; then
      echo "differs: $name/$f"; diffs=$((diffs + 1))
    fi
  done <<<"$files"
  extra=$(cd "$WORK/new/$name" && find . -type f ! -name pipeline.resolved.toml | sort | comm -13 <(echo "$files") - | wc -l)
  if [ "$diffs" -eq 0 ] && [ "$extra" -eq 0 ]; then
    echo "$name: $n files identical"
  else
    echo "$name: $diffs of $n files differ, $extra only in the new output"; status=1
  fi
done
[ "$status" -eq 0 ] && echo "identical" || echo "DIFFERENT"
exit $status

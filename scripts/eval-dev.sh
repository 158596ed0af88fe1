#!/usr/bin/env bash
# Reproduces the README's accuracy and speed table on ../shared/data/dev:
# digitizes every page of each set with the release binary, one thread, then
# scores with `ecgdig eval` and with the independent Python scorer.
#   scripts/eval-dev.sh [config.toml] [extra digitize args...]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
CONFIG=${1:-}
shift || true
cargo build --release -q -p ecgdig
BIN=target/release/ecgdig
OUT=${OUT:-out/eval-dev}
echo "| set | pages | uncapped mean (dB) | capped mean (dB) | Challenge-2024 (dB) | python uncapped (dB) | s/page (1 thread) |"
echo "|---|---|---|---|---|---|---|"
for set in clean distorted bw; do
  dir="$SHARED/data/dev/$set"
  [ -d "$dir" ] || { echo "skip $set: $dir not found" >&2; continue; }
  rm -rf "$OUT/$set"; mkdir -p "$OUT/$set"
  start=$(date +%s.%N)
  "$BIN" digitize "$dir" -o "$OUT/$set" -j 1 ${CONFIG:+--config "$CONFIG"} "$@" 2>"$OUT/$set.log" || true
  end=$(date +%s.%N)
  pages=$(ls "$dir" | grep -ciE '\.(png|jpe?g)$')
  line=$("$BIN" eval --missing-as-zero --truth "$dir" --pred "$OUT/$set" | tail -1)
  cap=$(sed -E 's/.*mean_snr_db_capped=([^ ]+).*/\1/' <<<"$line")
  unc=$(sed -E 's/.*mean_snr_db_uncapped=([^ ]+).*/\1/' <<<"$line")
  c24=$(sed -E 's/.*challenge2024_db=([^ ]+).*/\1/' <<<"$line")
  PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python
  py=$("$PY" "$SHARED/tools/ecg_score.py" "$dir" "$OUT/$set" --cap 1e6 2>/dev/null | tail -1 | sed -E 's/mean_snr_db=([^ ]+).*/\1/' || echo n/a)
  spp=$(python3 -c "print(f'{($end-$start)/$pages:.3f}')")
  echo "| $set | $pages | $unc | $cap | $c24 | $py | $spp |"
done

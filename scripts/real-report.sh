#!/usr/bin/env bash
# How the default pipeline reads pages without ground truth: digitizes
# ../shared/data/real-unlabeled (or the folder given) with overlays and JSON,
# then prints one row per page: verdict, layout template, rows, panels named
# from a printed label read on the page (the rest from the layout's prior),
# scale source, paper speed and where it came from, mean lead confidence.
# Then a summary. Check the overlays (<out>/<stem>_overlay.png) by eye.
#   scripts/real-report.sh [folder] [out-folder]   (default out/real-report)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
DIR=${1:-$SHARED/data/real-unlabeled}
OUT=${2:-out/real-report}
[ -d "$DIR" ] || { echo "skip: $DIR not found" >&2; exit 0; }
cargo build --release -q -p ecgdig
BIN=${BIN:-target/release/ecgdig}
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN" digitize "$DIR" -o "$OUT" --format csv,json,overlay -j 2 -q >"$OUT/digitize.log" 2>&1 || true
python3 - "$OUT" <<'EOF'
import csv, json, os, sys
out = sys.argv[1]
review = {}
path = os.path.join(out, "review.csv")
if os.path.exists(path):
    for r in csv.DictReader(open(path)):
        review[r.get("stem") or os.path.splitext(os.path.basename(r.get("input", "")))[0]] = r
print("| page | verdict | layout | rows | named by labels | scale | speed | mean confidence |")
print("|---|---|---|---|---|---|---|---|")
counts = {}
panels_total = panels_read = 0
for f in sorted(os.listdir(out)):
    if not f.endswith(".json"):
        continue
    d = json.load(open(os.path.join(out, f)))
    stem = d.get("stem") or f[:-5]
    layout = d.get("layout") or {}
    panels = layout.get("panels") or []
    read = sum(1 for p in panels if p.get("label_score") is not None)
    rows = len({p["row"] for p in panels})
    grid = d.get("grid") or {}
    leads = d.get("leads") or {}
    confs = [v.get("confidence", 0) for v in leads.values() if isinstance(v, dict)]
    mean = sum(confs) / len(confs) if confs else 0
    verdict = d.get("verdict") or "?"
    counts[verdict] = counts.get(verdict, 0) + 1
    panels_total += len(panels)
    panels_read += read
    speed = f"{grid.get('mm_per_second', 0):g} ({grid.get('speed_source', '?')})"
    print(f"| {stem} | {verdict} | {layout.get('template') or layout.get('kind', '?')} | {rows} "
          f"| {read} of {len(panels)} | {grid.get('source', '?')} | {speed} | {mean:.2f} |")
for stem, r in sorted(review.items()):
    if not os.path.exists(os.path.join(out, stem + ".json")):
        print(f"| {stem} | {r.get('verdict') or 'failed'} (no JSON: {r.get('reasons', '')}) | – | – | – | – | – | – |")
print()
print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
print(f"panels named from a label read on the page: {panels_read} of {panels_total}"
      f" ({100 * panels_read / max(panels_total, 1):.0f} %); the rest follow the layout's prior")
EOF

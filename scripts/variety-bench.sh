#!/usr/bin/env bash
# How the pipeline reads printouts of every convention: renders 40 pages with
# `--preset variety` (fixed seeds) from the 32 records of ../shared/data/records
# that no dev page uses, plus 8 synthetic records; digitizes them with the
# release binary and scores with `ecgdig eval`. Prints the uncapped and capped
# mean SNR, the share of leads under 5 dB and, from the pipeline's JSON, how
# many panels carry the truth's lead name at the same place.
#   scripts/variety-bench.sh [out-folder]      (default out/variety-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ECGDIG_SHARED:-../shared}
OUT=${1:-out/variety-bench}
cargo build --release -q -p ecgdig
BIN=${BIN:-target/release/ecgdig}
# shellcheck source=lib/bench-set.sh
. scripts/lib/bench-set.sh
# shellcheck disable=SC2086
render_set "$OUT" variety 9100 varsyn 8 9200 $HELD_OUT_RECORDS
pages=$(ls "$OUT/pages" | grep -ciE '\.(png|jpe?g)$')
score_set "$OUT"
echo "pages: $pages"
echo "eval: $(tail -1 "$OUT/eval.txt")"
print_means "$OUT"
python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
ev = json.load(open(os.path.join(out, "eval.json")))

# Lead naming: a truth panel counts as named right when, of the pipeline's
# panels whose box holds the truth panel's point, the one with the nearest
# centre names the same lead (a -aVR panel named aVR is right). The point is
# the box's horizontal centre at the median height of the lead's plotted
# pixels (its baseline): a lead with one tall wave has a box whose centre
# lies in the next row.
def centre(ld):
    q = ld["lead_bounding_box"]
    ys = [q[k][0] for k in "0123"]; xs = [q[k][1] for k in "0123"]
    x, y = sum(xs) / 4, sum(ys) / 4
    px = ld.get("plotted_pixels")
    if isinstance(px, str):
        try:
            px = json.loads(px)
        except ValueError:
            px = None
    if px:
        py = sorted(p[0] for p in px)
        y = py[len(py) // 2]
    return x, y

def pred_panels(p):
    try:
        d = json.load(open(p))
    except (OSError, ValueError):
        return []
    found = []
    def walk(v):
        if isinstance(v, dict):
            lead = v.get("lead") or v.get("lead_name")
            box = v.get("bbox") or v.get("box") or v.get("bounding_box")
            if isinstance(lead, str) and box is not None:
                found.append((lead, box, v.get("baseline_y")))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(d)
    return found

def box_xyxy(box):
    if isinstance(box, dict):
        x0, y0 = box.get("x0", box.get("x")), box.get("y0", box.get("y"))
        x1 = box.get("x1", (x0 or 0) + box.get("w", box.get("width", 0)))
        y1 = box.get("y1", (y0 or 0) + box.get("h", box.get("height", 0)))
    elif isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box):
        x0, y0, x1, y1 = box
    else:
        return None
    return None if None in (x0, y0, x1, y1) else (x0, y0, x1, y1)

def inside(box, x, y):
    b = box_xyxy(box)
    return b is not None and b[0] <= x <= b[2] and b[1] <= y <= b[3]

def dist(box, base, x, y):
    # to the panel's baseline where it has one (boxes reach into the
    # neighbouring rows, so their centres mislead)
    b = box_xyxy(box)
    cy = base if isinstance(base, (int, float)) else (b[1] + b[3]) / 2
    return ((b[0] + b[2]) / 2 - x) ** 2 + (cy - y) ** 2

total = right = 0
pages_with_panels = 0
for f in sorted(os.listdir(os.path.join(out, "pages"))):
    if not f.endswith(".json"):
        continue
    truth = json.load(open(os.path.join(out, "pages", f)))
    pred = pred_panels(os.path.join(out, "pred", f))
    pages_with_panels += bool(pred)
    for ld in truth["leads"]:
        total += 1
        x, y = centre(ld)
        got = sorted((dist(box, base, x, y), lead) for lead, box, base in pred if inside(box, x, y))
        right += bool(got) and got[0][1].lstrip("-") == ld["lead_name"]
print(f"lead names at the truth position: {right}/{total} = {right / max(total, 1):.1%}"
      f" (pipeline JSON with panels on {pages_with_panels} pages)")
EOF

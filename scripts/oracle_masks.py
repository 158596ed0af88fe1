"""Draws a perfect trace mask for every page of an ecg-image-kit folder.

    python3 scripts/oracle_masks.py <pages-folder> <out-folder> [--pen-pt 0.75]

For each `<page>.json` annotation, the lead polylines in `leads[].plotted_pixels`
(one [row, col] per plotted sample, in the final image's coordinates) are drawn
with a pen of `--pen-pt` points at the page's dpi (ecg-image-kit draws its
traces 0.75 pt wide), antialiased by 4x supersampling, into `<page>.png`
(0 = no ink, 255 = ink, the image's size). The `mask_file` stage reads these,
so the rest of the pipeline runs on what a perfect segmenter would give.
Calibration pulses and lead separators are not annotated, so they are absent:
use the masks for tracing and keep layout on a real segmenter
(scripts/oracle-mask-bound.sh does).

Needs Pillow.
"""
import argparse
import ast
import json
import os

from PIL import Image, ImageDraw

SUPERSAMPLE = 4


def plotted(lead):
    pts = lead.get("plotted_pixels") or []
    if isinstance(pts, str):
        pts = ast.literal_eval(pts)
    return pts


def draw_mask(annotation, pen_pt):
    w, h = int(annotation["width"]), int(annotation["height"])
    pen_px = max(1.0, pen_pt / 72.0 * float(annotation["resolution"]))
    s = SUPERSAMPLE
    big = Image.new("L", (w * s, h * s), 0)
    draw = ImageDraw.Draw(big)
    for lead in annotation["leads"]:
        # pixel centres: pixel (c, r) spans [c, c+1) in PIL's coordinates
        pts = [((c + 0.5) * s, (r + 0.5) * s) for r, c in plotted(lead)]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, round(pen_px * s)), joint="curve")
    return big.resize((w, h), Image.BOX)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pages")
    ap.add_argument("out")
    ap.add_argument("--pen-pt", type=float, default=0.75)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(a.pages)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(a.pages, name)) as f:
            annotation = json.load(f)
        if "leads" not in annotation or "resolution" not in annotation:
            continue
        draw_mask(annotation, a.pen_pt).save(os.path.join(a.out, name[:-5] + ".png"))
        n += 1
    print(f"{n} masks in {a.out}")


if __name__ == "__main__":
    main()

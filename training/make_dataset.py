"""Renders the training and validation pages for the learned segmenter.

    training/.venv/bin/python training/make_dataset.py [--train 240] [--val 24]
        [--extras] [--flat 0]
        [--out training/runs/data] [--bin target/release/ecgdig]

Every page is one `ecgdig render` call with a fixed seed (page index based),
so the set is reproducible bit for bit. Half the pages are synthetic, half
are recorded signals from ../shared/data/records, restricted to records that
do NOT appear in the dev sets (../shared/data/dev/*), so evaluation never
sees a training signal. Styles: the `distorted` and `bw` presets (with dpi,
layout, JPEG quality, perspective and shadows varied on top), the `clean`
preset with random grids, and fully random settings (dpi 100..300, every grid
colour and style, rotation, perspective, blur, noise, JPEG, shadows, creases,
wrinkles, black-and-white, line width).

Each page folder gets `page.<png|jpg>`, the renderer's JSON truth, and
`target.png`: the training label, 255 where trace ink is, i.e. the
renderer's lead mask (all leads) plus the 1 mV calibration pulses and the
lead separators. The renderer leaves those two out of its mask, but the
`classical_segment` mask contains them and `layout_detect` /
`calibration_pulse` need them, so they are re-drawn here from the page
geometry (render/src/page/layout.rs and mod.rs) through the JSON homography.
"""
import argparse
import glob
import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYOUTS = ["3x4r", "3x4r", "3x4r", "3x4", "6x2", "12x1"]
COLORS = ["red", "pink", "green", "blue", "grey", "black"]
STYLES = ["lines", "lines", "lines", "dots", "none"]
# rows of each layout (only their count and the rhythm flag matter here)
N_ROWS = {"3x4r": 4, "3x4": 3, "6x2": 6, "12x1": 12}


def training_records(shared):
    recs = sorted(glob.glob(os.path.join(shared, "data/records/*.hea")))
    dev = {
        os.path.basename(p)[:-4]
        for p in glob.glob(os.path.join(shared, "data/dev/*/*.hea"))
    }
    keep = [r for r in recs if os.path.basename(r)[:-4] not in dev]
    return keep


def page_args(i, rng, records, extras=False):
    """The render arguments of page `i` (rng seeded per page)."""
    args = ["--seed", str(1000 + i)]
    if rng.random() < 0.5 or not records:
        args += ["--synthetic", "--name", f"syn{i:04d}"]
    else:
        args += ["--record", rng.choice(records)]
    args += ["--layout", rng.choice(LAYOUTS)]
    style = rng.choices(["distorted", "bw", "clean", "random"], [35, 30, 10, 25])[0]
    if style == "distorted":
        args += ["--preset", "distorted", "--dpi", str(rng.choice([150, 200, 200, 250, 300]))]
        args += ["--jpeg", str(rng.randint(55, 95))]
        if rng.random() < 0.4:
            args += ["--perspective", f"{rng.uniform(0.0, 0.03):.4f}"]
        if rng.random() < 0.3:
            args += ["--shadows"]
        if extras and rng.random() < 0.4:
            # dark grids: flat trace segments then look like grid lines
            args += ["--grid-color", rng.choice(["black", "grey"])]
        if extras and rng.random() < 0.5:
            args += ["--line-width", f"{rng.uniform(0.2, 0.35):.2f}"]
    elif style == "bw":
        args += ["--preset", "bw", "--dpi", str(rng.choice([100, 100, 100, 120, 150, 200]))]
        args += ["--jpeg", str(rng.randint(55, 95))]
        if rng.random() < 0.3:
            args += ["--perspective", f"{rng.uniform(0.0, 0.03):.4f}"]
        if extras and rng.random() < 0.5:
            args += ["--line-width", f"{rng.uniform(0.25, 0.45):.2f}"]
    elif style == "clean":
        args += ["--preset", "clean", "--dpi", str(rng.randint(100, 300))]
        args += ["--grid-color", rng.choice(COLORS), "--grid-style", rng.choice(STYLES)]
    else:
        args += ["--dpi", str(rng.randint(100, 300))]
        args += ["--grid-color", rng.choice(COLORS), "--grid-style", rng.choice(STYLES)]
        args += ["--line-width", f"{rng.uniform(0.2, 0.6):.2f}"]
        args += ["--rotate", f"{rng.uniform(-8, 8):.2f}"]
        if rng.random() < 0.5:
            args += ["--perspective", f"{rng.uniform(0.0, 0.04):.4f}"]
        args += ["--blur", f"{rng.uniform(0.0, 1.5):.2f}", "--noise", f"{rng.uniform(0, 20):.1f}"]
        if rng.random() < 0.7:
            args += ["--jpeg", str(rng.randint(40, 95))]
        if rng.random() < 0.5:
            args += ["--shadows"]
        args += ["--creases", str(rng.randint(0, 8)), "--wrinkles", f"{rng.uniform(0, 0.9):.2f}"]
        if rng.random() < 0.3:
            args += ["--bw"]
        if rng.random() < 0.5:
            args += ["--header", "ID: 12345    Name:    Date:\\nSex: Female    Age: 55 yrs"]
    return args


def hom_apply(h, x, y):
    u = h[0][0] * x + h[0][1] * y + h[0][2]
    v = h[1][0] * x + h[1][1] * y + h[1][2]
    w = h[2][0] * x + h[2][1] * y + h[2][2]
    return u / w, v / w


def draw_polyline(draw, h, pts, width):
    """Draws a page-space polyline mapped through the homography: every
    pixel whose centre is within width/2 of the mapped centreline."""
    r = width / 2.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        n = max(2, int(np.hypot(x1 - x0, y1 - y0) * 3))
        for t in np.linspace(0.0, 1.0, n):
            u, v = hom_apply(h, x0 + t * (x1 - x0), y0 + t * (y1 - y0))
            draw.ellipse([u - r, v - r, u + r, v + r], fill=255)


def extra_ink(truth, size):
    """Calibration pulses and lead separators, as a mask of the image size."""
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    h = truth["homography"]
    ppmm = truth["px_per_mm"]
    width = truth["trace_width_px"]
    layout = truth["layout"]
    n_rows = N_ROWS[layout]
    top = 32.0 if truth.get("printed_text") else 20.0
    pitch = (215.9 - top - 15.0) / n_rows
    baselines = [(top + pitch * (r + 0.6)) * ppmm for r in range(n_rows)]
    mv = truth["gain_mm_per_mv"] * ppmm
    x0 = 15.0 * ppmm
    px_per_sample = truth["paper_speed_mm_per_s"] * ppmm / truth["sampling_frequency"]
    start = truth["page_start_sample"]
    # the row of each panel, in the order layout.rs emits them
    n_cols = {"3x4r": 4, "3x4": 4, "6x2": 2, "12x1": 1}[layout]
    short = [l for l in truth["leads"] if not l.get("rhythm")]
    rhythm = [l for l in truth["leads"] if l.get("rhythm")]
    rows = [k // n_cols for k in range(len(short))]
    panels = list(zip(short, rows)) + [(l, 3) for l in rhythm]
    if truth.get("dc_pulse", True):
        for b in sorted({baselines[r] for _, r in panels}):
            xa = x0 - 5.0 * ppmm
            pts = [(xa - 1.0 * ppmm, b), (xa, b), (xa, b - mv), (x0, b - mv), (x0, b)]
            draw_polyline(draw, h, pts, width)
    for k, (lead, r) in enumerate(panels):
        col = 0 if lead.get("rhythm") else k % n_cols
        if col == 0:
            continue
        x = x0 + (lead["start_sample"] - start) * px_per_sample
        b = baselines[r]
        draw_polyline(draw, h, [(x, b - 3.0 * ppmm), (x, b + 3.0 * ppmm)], 2.0 * width)
    return np.array(img)


def flatten_source(binary, tmp, args, rng):
    """Renders `args` once to get its signals as CSV, flattens some of them
    (whole leads at 0 mV, as from a detached electrode, and windows held at a
    constant), and returns `args` with the source swapped for that CSV.
    Without this the net takes a perfectly straight trace for a grid line."""
    src = tmp + ".src"
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    subprocess.run([binary, "render", "-o", src] + args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    truth = json.load(open(glob.glob(os.path.join(src, "*-0.json"))[0]))
    csvs = [f for f in glob.glob(os.path.join(src, "*.csv"))]
    header = open(csvs[0]).readline().strip().split(",")
    x = np.genfromtxt(csvs[0], delimiter=",", skip_header=1)
    fs = truth["sampling_frequency"]
    n_leads = x.shape[1]
    for li in rng.sample(range(n_leads), rng.randint(1, 4)):
        x[:, li] = 0.0
    for li in rng.sample(range(n_leads), rng.randint(1, 4)):
        a = rng.randrange(max(1, len(x) - int(fs)))
        b = min(len(x), a + int(fs * rng.uniform(0.5, 3.0)))
        x[a:b, li] = x[a, li] if np.isfinite(x[a, li]) else 0.0
    out = os.path.join(tmp + ".flat", "flat.csv")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    np.savetxt(out, x, delimiter=",", fmt="%.4f", header=",".join(header), comments="")
    shutil.rmtree(src)
    new = []
    skip = 0
    for k, v in enumerate(args):
        if skip:
            skip -= 1
            continue
        if v == "--synthetic":
            continue
        if v in ("--record", "--name"):
            skip = 1
            continue
        new.append(v)
    return new + ["--record", out, "--fs", str(fs)]


def render_one(binary, out_dir, args, flat_rng=None):
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    if flat_rng is not None:
        args = flatten_source(binary, tmp, args, flat_rng)
    subprocess.run([binary, "render", "-o", tmp] + args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    imgs = [f for f in os.listdir(tmp)
            if f.endswith((".png", ".jpg")) and not f.endswith("_mask.png")]
    assert len(imgs) == 1, imgs
    stem, ext = os.path.splitext(imgs[0])
    truth = json.load(open(os.path.join(tmp, stem + ".json")))
    lead_mask = np.array(Image.open(os.path.join(tmp, stem + "_mask.png")))
    page = Image.open(os.path.join(tmp, imgs[0]))
    extra = extra_ink(truth, page.size)
    target = np.where((lead_mask > 0) | (extra > 0), 255, 0).astype(np.uint8)
    os.makedirs(out_dir, exist_ok=True)
    shutil.move(os.path.join(tmp, imgs[0]), os.path.join(out_dir, "page" + ext))
    shutil.move(os.path.join(tmp, stem + ".json"), os.path.join(out_dir, "truth.json"))
    Image.fromarray(target).save(os.path.join(out_dir, "target.png"))
    with open(os.path.join(out_dir, "args.txt"), "w") as f:
        f.write(" ".join(args) + "\n")
    shutil.rmtree(tmp)
    shutil.rmtree(tmp + ".flat", ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=240)
    ap.add_argument("--val", type=int, default=24)
    ap.add_argument("--extras", action="store_true",
                    help="also dark grids and thin pens on the distorted / bw pages")
    ap.add_argument("--flat", type=int, default=0,
                    help="extra training pages with flat leads and flat windows")
    ap.add_argument("--out", default=os.path.join(ROOT, "training/runs/data"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/ecgdig"))
    ap.add_argument("--shared", default=os.environ.get("ECGDIG_SHARED", os.path.join(ROOT, "../shared")))
    a = ap.parse_args()
    records = training_records(a.shared)
    print(f"{len(records)} training records (dev records excluded)", file=sys.stderr)
    jobs = ([("train", i) for i in range(a.train)] + [("val", 100000 + i) for i in range(a.val)]
            + [("train", 200000 + i) for i in range(a.flat)])
    for split, i in jobs:
        out_dir = os.path.join(a.out, split, f"p{i:06d}")
        if os.path.exists(os.path.join(out_dir, "target.png")):
            continue
        rng = random.Random(i)
        args = page_args(i, rng, records, a.extras)
        render_one(a.bin, out_dir, args, random.Random(-i) if i >= 200000 else None)
        print(split, i, " ".join(args), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

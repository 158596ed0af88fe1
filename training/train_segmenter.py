"""Trains the learned trace segmenter used by the `onnx_segment` stage and
exports it to ONNX.

    training/.venv/bin/python training/train_segmenter.py \
        --data training/runs/data --out training/runs/seg --minutes 30
    # then copy training/runs/seg/segmenter.onnx to models/

The pages come from training/make_dataset.py (rendered with `ecgdig render`;
`target.png` = trace ink incl. calibration pulses and lead separators).

Model: a small U-Net-like fully convolutional net. One 3x3 layer of 8
channels at full resolution, then stride-2 convolutions down to 1/8 (16, 32,
48 channels, dilated convolutions at 1/8 for context), bilinear upsampling
with additive skip connections back to full resolution, a 1x1 head and a
sigmoid. Input `image` float32 [1,3,H,W] RGB in 0..1 (H, W multiples of 8),
output `prob` float32 [1,1,H,W].

Training: random 256x256 crops (half centred near trace ink), colour and
contrast augmentation on top of the renderer's distortions, loss = BCE +
soft Dice (the trace is ~1-3 % of the pixels), Adam with a one-cycle
schedule over a fixed wall-clock budget, CPU only (2 threads), fixed seed.
"""
import argparse
import glob
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

SEED = 1234


def cbr(cin, cout, stride=1, dil=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dil, dilation=dil, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SegNet(nn.Module):
    def __init__(self, c=(8, 16, 32, 48)):
        super().__init__()
        c0, c1, c2, c3 = c
        self.e0 = cbr(3, c0)
        self.d1 = cbr(c0, c1, stride=2)
        self.e1 = cbr(c1, c1)
        self.d2 = cbr(c1, c2, stride=2)
        self.e2 = cbr(c2, c2)
        self.d3 = cbr(c2, c3, stride=2)
        self.e3 = nn.Sequential(cbr(c3, c3, dil=2), cbr(c3, c3, dil=4), cbr(c3, c3, dil=1))
        self.p2 = nn.Conv2d(c3, c2, 1)
        self.u2 = cbr(c2, c2)
        self.p1 = nn.Conv2d(c2, c1, 1)
        self.u1 = cbr(c1, c1)
        self.p0 = nn.Conv2d(c1, c0, 1)
        self.u0 = cbr(c0, c0)
        self.head = nn.Conv2d(c0, 1, 1)

    @staticmethod
    def up(x):
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    def logits(self, x):
        x = (x - 0.5) * 4.0
        f0 = self.e0(x)
        f1 = self.e1(self.d1(f0))
        f2 = self.e2(self.d2(f1))
        f3 = self.e3(self.d3(f2))
        g2 = self.u2(self.p2(self.up(f3)) + f2)
        g1 = self.u1(self.p1(self.up(g2)) + f1)
        g0 = self.u0(self.p0(self.up(g1)) + f0)
        return self.head(g0)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def load_pages(folder, limit=None):
    pages = []
    for d in sorted(glob.glob(os.path.join(folder, "p*")))[:limit]:
        if not os.path.exists(os.path.join(d, "target.png")):
            continue
        img = glob.glob(os.path.join(d, "page.*"))[0]
        rgb = np.array(Image.open(img).convert("RGB"))
        tgt = np.array(Image.open(os.path.join(d, "target.png"))) > 127
        ys, xs = np.nonzero(tgt)
        pages.append((rgb, tgt, ys.astype(np.int32), xs.astype(np.int32)))
    return pages


def random_crop(page, size, rng):
    rgb, tgt, ys, xs = page
    h, w = tgt.shape
    if rng.random() < 0.5 and len(ys):
        k = rng.randrange(len(ys))
        cy = ys[k] + rng.randint(-size // 3, size // 3)
        cx = xs[k] + rng.randint(-size // 3, size // 3)
    else:
        cy, cx = rng.randrange(h), rng.randrange(w)
    y0 = min(max(cy - size // 2, 0), max(h - size, 0))
    x0 = min(max(cx - size // 2, 0), max(w - size, 0))
    a = np.ones((size, size, 3), np.uint8) * 255
    m = np.zeros((size, size), bool)
    ch, cw = min(size, h - y0), min(size, w - x0)
    a[:ch, :cw] = rgb[y0:y0 + ch, x0:x0 + cw]
    m[:ch, :cw] = tgt[y0:y0 + ch, x0:x0 + cw]
    return a, m


def augment(x, rng):
    """x: float32 [3,H,W] in 0..1. Colour, contrast, gamma, grey."""
    if rng.random() < 0.3:
        x = x[rng.sample([0, 1, 2], 3)]
    if rng.random() < 0.15:
        x = np.repeat(x.mean(0, keepdims=True), 3, 0)
    gain = np.array([rng.uniform(0.75, 1.1) for _ in range(3)], np.float32)[:, None, None]
    x = x * gain
    c = rng.uniform(0.6, 1.3)
    b = rng.uniform(-0.15, 0.15)
    x = (x - 0.5) * c + 0.5 + b
    x = np.clip(x, 0.0, 1.0) ** rng.uniform(0.7, 1.5)
    return np.ascontiguousarray(x, dtype=np.float32)


def make_batch(pages, n, size, rng, aug=True):
    xs, ys = [], []
    for _ in range(n):
        a, m = random_crop(pages[rng.randrange(len(pages))], size, rng)
        x = a.transpose(2, 0, 1).astype(np.float32) / 255.0
        m = m[None].astype(np.float32)
        if aug:
            if rng.random() < 0.5:
                x, m = x[:, :, ::-1], m[:, :, ::-1]
            if rng.random() < 0.2:
                x, m = x[:, ::-1, :], m[:, ::-1, :]
            x = augment(x, rng)
        xs.append(np.ascontiguousarray(x))
        ys.append(np.ascontiguousarray(m))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def loss_fn(logits, y):
    bce = F.binary_cross_entropy_with_logits(logits, y)
    p = torch.sigmoid(logits)
    inter = (p * y).sum()
    dice = 1.0 - (2.0 * inter + 1.0) / (p.sum() + y.sum() + 1.0)
    return bce + dice


@torch.no_grad()
def iou(model, xs, ys, thr=0.5):
    model.eval()
    inter = union = 0.0
    for i in range(0, len(xs), 8):
        p = model(xs[i:i + 8]) >= thr
        t = ys[i:i + 8] > 0.5
        inter += (p & t).sum().item()
        union += (p | t).sum().item()
    model.train()
    return inter / max(union, 1.0)


def export(model, path):
    """Exports to ONNX (dynamic H, W) and checks onnxruntime against torch
    on an odd-sized input; returns the largest absolute difference."""
    model.eval()
    dummy = torch.rand(1, 3, 256, 256)
    torch.onnx.export(
        model, dummy, path, input_names=["image"], output_names=["prob"],
        dynamic_axes={"image": {2: "H", 3: "W"}, "prob": {2: "H", 3: "W"}},
        opset_version=17, do_constant_folding=True, dynamo=False)
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path))
    x = torch.rand(1, 3, 328, 496, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = model(x).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(["prob"], {"image": x.numpy()})[0]
    diff = float(np.abs(got - ref).max())
    print(f"onnxruntime vs torch on [1,3,328,496]: max |diff| = {diff:.2e}", flush=True)
    assert got.shape == ref.shape and diff < 1e-4, diff
    model.train()
    return diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="training/runs/data")
    ap.add_argument("--out", default="training/runs/seg")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--width", default="8,16,32,48")
    ap.add_argument("--init", default=None, help="start from these weights (.pt)")
    ap.add_argument("--bench", action="store_true", help="only time the forward pass")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    os.makedirs(a.out, exist_ok=True)
    model = SegNet(tuple(int(v) for v in a.width.split(",")))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}", flush=True)
    if a.bench:
        export(model, os.path.join(a.out, "bench.onnx"))
        return
    if a.init:
        model.load_state_dict(torch.load(a.init))

    t0 = time.time()
    train = load_pages(os.path.join(a.data, "train"))
    val = load_pages(os.path.join(a.data, "val"))
    print(f"loaded {len(train)} train / {len(val)} val pages in {time.time() - t0:.0f} s", flush=True)
    vrng = random.Random(99)
    vx, vy = make_batch(val, 96, 256, vrng, aug=False)

    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    rng = random.Random(SEED)
    budget = a.minutes * 60.0
    start = time.time()
    step = 0
    best = -1.0
    log = []
    run_loss = 0.0
    while True:
        frac = (time.time() - start) / budget
        if frac >= 1.0:
            break
        # one-cycle: 5 % warm-up, cosine decay to 2 % of the peak
        lr = a.lr * (frac / 0.05 if frac < 0.05 else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (frac - 0.05) / 0.95)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = make_batch(train, a.batch, a.crop, rng)
        loss = loss_fn(model.logits(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run_loss = 0.98 * run_loss + 0.02 * loss.item() if step else loss.item()
        step += 1
        if step % 200 == 0:
            v = iou(model, vx, vy)
            el = time.time() - start
            print(f"step {step} {el / 60:.1f} min lr {lr:.5f} loss {run_loss:.4f} val IoU {v:.4f}", flush=True)
            log.append({"step": step, "minutes": el / 60, "loss": run_loss, "val_iou": v})
            if v > best:
                best = v
                torch.save(model.state_dict(), os.path.join(a.out, "best.pt"))
    torch.save(model.state_dict(), os.path.join(a.out, "last.pt"))
    v = iou(model, vx, vy)
    print(f"final step {step} val IoU {v:.4f} (best {best:.4f})", flush=True)
    # keep the last weights: with the cosine schedule they are normally the best
    if v < best:
        model.load_state_dict(torch.load(os.path.join(a.out, "best.pt")))
        v = best
    onnx_path = os.path.join(a.out, "segmenter.onnx")
    ort_diff = export(model, onnx_path)
    # full-page validation IoU at several thresholds (whole pages, one pass)
    model.eval()
    thrs = (0.3, 0.4, 0.5, 0.6, 0.7)
    inter = dict.fromkeys(thrs, 0)
    union = dict.fromkeys(thrs, 0)
    with torch.no_grad():
        for rgb, tgt, _, _ in val:
            h, w = tgt.shape
            ph, pw = -(-h // 8) * 8, -(-w // 8) * 8
            x = np.ones((3, ph, pw), np.float32)
            x[:, :h, :w] = rgb.transpose(2, 0, 1) / 255.0
            prob = model(torch.from_numpy(x)[None])[0, 0, :h, :w].numpy()
            for thr in thrs:
                p = prob >= thr
                inter[thr] += int((p & tgt).sum())
                union[thr] += int((p | tgt).sum())
    full = {thr: inter[thr] / max(union[thr], 1) for thr in thrs}
    print("full-page val IoU:", full, flush=True)
    summary = {
        "steps": step, "batch": a.batch, "crop": a.crop, "minutes": a.minutes,
        "params": n_params, "width": a.width, "seed": SEED, "lr": a.lr,
        "val_iou_crops": v, "val_iou_pages": full,
        "onnx_max_abs_diff": ort_diff, "train_pages": len(train), "val_pages": len(val), "log": log,
    }
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=1)
    print("wrote", onnx_path)


if __name__ == "__main__":
    main()

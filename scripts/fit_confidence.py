"""Fits the lead_confidence model and reports how well it ranks and how well
it is calibrated.

  fit_confidence.py fit  MODEL_OUT  SET_DIR...   fit on the sets, write MODEL_OUT
  fit_confidence.py eval [--model M] SET_DIR...  AUROC, failed share, overconfident, calibration
                                                 (with --model: confidences recomputed by M
                                                 from the JSON's evidence, as the stage would)

A SET_DIR holds `pred/<image>.json` (the pipeline's JSON, with each lead's
`evidence` and `confidence`) and `eval.json` (`ecgdig eval --json`, with
each lead's SNR). A lead is a row; its label is SNR >= 5 dB. The model is
L2-regularised logistic regression on standardised evidence (spread floored
at 0.25, each value clipped to +-4), fitted by
Newton's method (numpy only).
"""

import json
import os
import sys

import numpy as np

FAILED_DB = 5.0
L2 = 10.0  # ridge penalty on the standardised weights (not on the bias)
# Evidence is standardised by its spread, but by no less than this: a share
# that is nearly constant on the fitting pages (grid confidence, gaps) would
# otherwise turn a rare small deviation into many standard deviations.
SCALE_FLOOR = 0.25
CLIP = 4.0  # standardised values are clipped to +-CLIP (as the stage does)


def rows(set_dir):
    """(features dict, confidence, snr_db) per scored lead of a set."""
    ev = json.load(open(os.path.join(set_dir, "eval.json")))
    out = []
    for im in ev["per_image"]:
        path = os.path.join(set_dir, "pred", im["image"] + ".json")
        if not os.path.exists(path):
            continue  # not digitized (refused or failed): no evidence
        pred = json.load(open(path))
        for lead, score in im["leads"].items():
            snr = score.get("snr_db")
            p = pred["leads"].get(lead)
            if snr is None or p is None or "evidence" not in p:
                continue
            out.append((p["evidence"], p["confidence"], snr))
    return out


def matrix(data, names):
    x = np.array([[r[0].get(n, np.nan) for n in names] for r in data], dtype=float)
    y = np.array([1.0 if r[2] >= FAILED_DB else 0.0 for r in data])
    return x, y


def fit(x, y):
    mean = np.nanmean(x, axis=0)
    x = np.where(np.isnan(x), mean, x)
    scale = np.maximum(x.std(axis=0), SCALE_FLOOR)
    z = np.clip((x - mean) / scale, -CLIP, CLIP)
    a = np.hstack([np.ones((len(z), 1)), z])
    w = np.zeros(a.shape[1])
    pen = np.full(a.shape[1], L2)
    pen[0] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-a @ w))
        g = a.T @ (p - y) + pen * w
        h = (a * (p * (1 - p))[:, None]).T @ a + np.diag(pen) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[0], w[1:]


def auroc(score_fail, failed):
    """AUROC of a score for failure (ties count half)."""
    pos = score_fail[failed]
    neg = score_fail[~failed]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    r = np.arange(1, len(order) + 1, dtype=float)
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        r[i : j + 1] = (i + j + 2) / 2
        i = j + 1
    ranks[order] = r
    return (ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def predict(model, evidence):
    """The stage's probability for one lead's evidence (missing -> mean)."""
    z = model["bias"]
    for n, m, sc, w in zip(model["features"], model["mean"], model["scale"], model["weights"]):
        x = evidence.get(n)
        if x is None or not np.isfinite(x):
            x = m
        z += w * min(max((x - m) / sc, -CLIP), CLIP)
    return 1 / (1 + np.exp(-z))


def report(name, data):
    if not data:
        print(f"| {name} | 0 | - | - | - | - |")
        return
    conf = np.array([r[1] for r in data])
    failed = np.array([r[2] < FAILED_DB for r in data])
    au = auroc(1 - conf, failed)
    over = int((conf[failed] >= 0.9).sum())
    # calibration: mean predicted vs observed share right, in 5 bins
    bins = np.clip((conf * 5).astype(int), 0, 4)
    cal = []
    for b in range(5):
        m = bins == b
        if m.sum():
            cal.append(f"{conf[m].mean():.2f}/{1 - failed[m].mean():.2f}({m.sum()})")
    ece = sum(
        abs(conf[bins == b].mean() - (1 - failed[bins == b].mean())) * (bins == b).sum()
        for b in range(5)
        if (bins == b).sum()
    ) / len(conf)
    print(
        f"| {name} | {len(conf)} | {failed.sum()} ({100 * failed.mean():.1f} %) | "
        f"{au:.3f} | {over} of {failed.sum()} | {ece:.3f} | {' '.join(cal)} |"
    )


def main():
    cmd = sys.argv[1]
    if cmd == "fit":
        out, sets = sys.argv[2], sys.argv[3:]
        data = [r for s in sets for r in rows(s)]
        names = list(data[0][0].keys())
        x, y = matrix(data, names)
        mean, scale, bias, w = fit(x, y)
        model = {
            "format": "ecgdig-lead-confidence/1",
            "target": "P(lead SNR >= 5 dB)",
            "fitted_on": [os.path.basename(s.rstrip("/")) for s in sets],
            "leads": int(len(y)),
            "failed_share": round(float(1 - y.mean()), 4),
            "l2": L2,
            "scale_floor": SCALE_FLOOR,
            "features": names,
            "mean": [round(float(v), 6) for v in mean],
            "scale": [round(float(v), 6) for v in scale],
            "weights": [round(float(v), 6) for v in w],
            "bias": round(float(bias), 6),
        }
        with open(out, "w") as f:
            json.dump(model, f, indent=2)
            f.write("\n")
        print(f"fitted on {len(y)} leads ({100 * (1 - y.mean()):.1f} % failed) -> {out}")
        for n, v in sorted(zip(names, w), key=lambda t: -abs(t[1])):
            print(f"  {n:<20} {v:+.3f}")
    elif cmd == "eval":
        print("| set | leads | failed (< 5 dB) | AUROC | failed claiming >= 0.9 | calibration error | predicted/observed right (n) per bin |")
        print("|---|---|---|---|---|---|---|")
        args = sys.argv[2:]
        model = None
        if args[:1] == ["--model"]:
            model = json.load(open(args[1]))
            args = args[2:]
        for s in args:
            data = rows(s)
            if model is not None:
                data = [(e, predict(model, e), snr) for e, _, snr in data]
            report(os.path.basename(s.rstrip("/")), data)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()

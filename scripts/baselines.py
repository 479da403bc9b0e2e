#!/usr/bin/env python3
"""1-nearest-neighbour baselines on UEA/UCR .ts problems, to put rowseq's LSTM accuracy in context.

  baselines.py data/GunPoint/GunPoint data/JapaneseVowels/JapaneseVowels

For each problem (NAME_TRAIN.ts, NAME_TEST.ts): test accuracy of 1NN with Euclidean distance
(equal-length problems only) and with full-window dynamic time warping (squared pointwise
distance; for multivariate series the dependent form DTW_D, one warping path over all dimensions,
which also handles unequal lengths). No normalisation beyond what the archive files hold.
numpy only.
"""
import sys

import numpy as np


def read_ts(path):
    labels, cases, data = [], [], False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#%":
                continue
            if not data:
                data = line.lower().startswith("@data")
                continue
            *dims, label = line.split(":")
            series = np.array([[float(v) for v in d.split(",")] for d in dims]).T  # [T, D]
            cases.append(series)
            labels.append(label.strip())
    return cases, labels


def dtw_to_all(x, ys):
    """DTW_D distance from x [Tx, D] to every y in ys (list of [Ty, D]), vectorised over ys."""
    n = len(ys)
    ty = max(len(y) for y in ys)
    d = x.shape[1]
    padded = np.full((n, ty, d), np.nan)
    for k, y in enumerate(ys):
        padded[k, : len(y)] = y
    cost = ((x[:, None, None, :] - padded[None, :, :, :]) ** 2).sum(-1)  # [Tx, n, Ty]
    cost = np.nan_to_num(cost, nan=np.inf)
    acc = np.full((len(x) + 1, n, ty + 1), np.inf)
    acc[0, :, 0] = 0.0
    for i in range(1, len(x) + 1):
        for j in range(1, ty + 1):
            best = np.minimum(np.minimum(acc[i - 1, :, j], acc[i, :, j - 1]), acc[i - 1, :, j - 1])
            acc[i, :, j] = cost[i - 1, :, j - 1] + best
    ends = np.array([len(y) for y in ys])
    return acc[len(x), np.arange(n), ends]


def main():
    for stem in sys.argv[1:]:
        train, ytrain = read_ts(stem + "_TRAIN.ts")
        test, ytest = read_ts(stem + "_TEST.ts")
        ytrain, ytest = np.array(ytrain), np.array(ytest)
        out = [f"{stem}: {len(train)} train / {len(test)} test"]
        if len({len(s) for s in train + test}) == 1:
            a = np.stack([s.reshape(-1) for s in train])
            b = np.stack([s.reshape(-1) for s in test])
            dist = ((b[:, None, :] - a[None, :, :]) ** 2).sum(-1)
            acc = (ytrain[dist.argmin(1)] == ytest).mean()
            out.append(f"1NN-ED {acc:.4f}")
        hits = [ytrain[dtw_to_all(x, train).argmin()] == y for x, y in zip(test, ytest)]
        out.append(f"1NN-DTW (full window{', dependent' if train[0].shape[1] > 1 else ''}) {np.mean(hits):.4f}")
        print("; ".join(out), flush=True)


if __name__ == "__main__":
    main()

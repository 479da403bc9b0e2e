#!/usr/bin/env python3
"""1-nearest-neighbour baselines on UEA/UCR .ts problems, to put rowseq's LSTM accuracy in context.

  baselines.py data/GunPoint/GunPoint data/JapaneseVowels/JapaneseVowels ...

For each problem (NAME_TRAIN.ts, NAME_TEST.ts), the test accuracy of the 1-nearest-neighbour
classifier with two distances, computed from the same files rowseq reads:
  1NN-ED   squared Euclidean distance over all values (equal-length problems only);
  1NN-DTW  dynamic time warping with a full window and squared pointwise cost; for
           multivariate series the dependent form DTW_D (one warping path over all
           dimensions). Unequal lengths are warped end to end.
No normalisation beyond what the archive files hold, as the archive's published figures.
Ties go to the first training series in file order. numpy only; the DTW is vectorised along
anti-diagonals over all (test, train) pairs of a chunk of test series, so a 100 x 100 problem
of length 1,460 takes a few minutes on 2 cores.

Prints one line per problem:  NAME  n_train  n_test  1NN-ED  1NN-DTW  (ED '-' when unequal).
"""
import os
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


def padded(cases):
    """[n, T_max, D] with NaN after each series' end, and the lengths."""
    t = max(len(c) for c in cases)
    out = np.full((len(cases), t, cases[0].shape[1]), np.nan)
    for k, c in enumerate(cases):
        out[k, : len(c)] = c
    return out, np.array([len(c) for c in cases])


def dtw(xs, lx, ys, ly):
    """DTW_D distances [a, b] between padded xs [a, Tx, D] and ys [b, Ty, D].

    Anti-diagonal d holds the cells (i, d - i); cur[i] = cost(i, d-i) + min(prev[i-1],
    prev[i], prev2[i-1]) (the cells above, left and diagonal). A pair's distance is read on
    the diagonal lx + ly - 2 where its end cell lies."""
    a, tx, _ = xs.shape
    b, ty, _ = ys.shape
    inf = np.inf
    prev2 = np.full((a, b, tx), inf)
    prev1 = np.full((a, b, tx), inf)
    out = np.full((a, b), inf)
    end_diag = lx[:, None] + ly[None, :] - 2
    rows = np.arange(a)[:, None]
    cols = np.arange(b)[None, :]
    for d in range(tx + ty - 1):
        lo, hi = max(0, d - ty + 1), min(d, tx - 1)
        i = np.arange(lo, hi + 1)
        cost = ((xs[:, None, i, :] - ys[None, :, d - i, :]) ** 2).sum(-1)  # [a, b, k]
        cost = np.where(np.isnan(cost), inf, cost)
        cur = np.full((a, b, tx), inf)
        if d == 0:
            cur[:, :, 0] = cost[:, :, 0]
        else:
            up = np.full((a, b, len(i)), inf)  # prev1[i - 1]
            diag = np.full((a, b, len(i)), inf)  # prev2[i - 1]
            has_up = i >= 1
            up[:, :, has_up] = prev1[:, :, i[has_up] - 1]
            diag[:, :, has_up] = prev2[:, :, i[has_up] - 1]
            left = prev1[:, :, i]
            cur[:, :, i] = cost + np.minimum(np.minimum(up, left), diag)
        hit = end_diag == d
        if hit.any():
            r, c = np.nonzero(hit)
            out[r, c] = cur[r, c, lx[r] - 1]
        prev2, prev1 = prev1, cur
    return out


def dtw_1nn(train, ytrain, test, ytest, budget=2e7):
    ys, ly = padded(train)
    xs, lx = padded(test)
    chunk = max(1, int(budget // (len(train) * xs.shape[1])))
    hits = 0
    for s in range(0, len(test), chunk):
        dist = dtw(xs[s : s + chunk], lx[s : s + chunk], ys, ly)
        hits += (ytrain[dist.argmin(1)] == ytest[s : s + chunk]).sum()
    return hits / len(test)


def main():
    for stem in sys.argv[1:]:
        train, ytrain = read_ts(stem + "_TRAIN.ts")
        test, ytest = read_ts(stem + "_TEST.ts")
        ytrain, ytest = np.array(ytrain), np.array(ytest)
        ed = "-"
        if len({len(s) for s in train + test}) == 1:
            a = np.stack([s.reshape(-1) for s in train])
            b = np.stack([s.reshape(-1) for s in test])
            dist = ((b[:, None, :] - a[None, :, :]) ** 2).sum(-1)
            ed = f"{(ytrain[dist.argmin(1)] == ytest).mean():.4f}"
        acc = dtw_1nn(train, ytrain, test, ytest)
        print(f"{os.path.basename(stem)}\t{len(train)}\t{len(test)}\t{ed}\t{acc:.4f}", flush=True)


if __name__ == "__main__":
    main()

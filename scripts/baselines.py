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
Ties go to the first training series in file order. numpy only; the DTW is vectorised over
all (test, train) pairs of a chunk of test series and along each row of the cost matrix.

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

    Row by row, vectorised over all pairs and over j: with a_j = cost(i, j) + min(D(i-1, j-1),
    D(i-1, j)), the recurrence D(i, j) = min(a_j, cost(i, j) + D(i, j-1)) unrolls to
    D(i, j) = S_j + min_{k <= j} (a_k - S_k), S the running sum of row i's costs. Cells past a
    series' end never feed its end cell (lx - 1, ly - 1), so padding costs 0 and is ignored."""
    a, tx, _ = xs.shape
    b, ty, _ = ys.shape
    xs, ys = np.nan_to_num(xs), np.nan_to_num(ys)
    out = np.full((a, b), np.inf)
    prev = None
    for i in range(tx):
        cost = ((xs[:, None, None, i, :] - ys[None, :, :, :]) ** 2).sum(-1)  # [a, b, Ty]
        if prev is None:
            row = np.cumsum(cost, axis=-1)
        else:
            diag = np.concatenate([np.full((a, b, 1), np.inf), prev[:, :, :-1]], axis=-1)
            first = cost + np.minimum(diag, prev)
            run = np.cumsum(cost, axis=-1)
            row = run + np.minimum.accumulate(first - run, axis=-1)
        hit = lx == i + 1
        if hit.any():
            out[hit] = row[hit][:, np.arange(b), ly - 1]
        prev = row
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

#!/usr/bin/env python3
"""The PyTorch reference for `rowseq bench`: the same model, training step and evaluation as
rowseq, written the plain PyTorch way, timed the same way. rowseq bundles this file, runs it
with the venv's Python and reads the JSON it prints on stdout; progress goes to stderr.

Same model: nn.LSTM(28, H, batch_first=True) and nn.Linear(H, 10) on h_T, PyTorch's default
init (U(+-1/sqrt(H)), which rowseq uses too); with --init-dir the weights are rowseq's own
initial weights (init-<H>.f32 and init-<H>.json, written by rowseq). Same data: the MNIST IDX
files rowseq read (raw or .gz), x = byte/255 as [N, 28, 28] float32, the last 5,000 training
images held out. Same batches: --order holds the int64 example indices of every step (warm-up
and timed), from rowseq's shuffles. Same step: cross-entropy, zero_grad, backward, global-norm
clipping, Adam (torch.optim.Adam, defaults), then the epoch sums and the loss read back, as
rowseq's trainer does. Same evaluation: no_grad, batches of 500 (rowseq's EVAL_BATCH), loss and accuracy read back
per batch. Threads: torch.set_num_threads(--threads), one inter-op thread.

--config SWEEP.toml instead trains every run of a rowseq sweep config, one after another, as a
rowseq run does (per-epoch shuffles, the lr schedule, clipping, evaluation on validation and
test after every epoch) and reports seconds per run and in all: the PyTorch side of
scripts/sweep-vs-torch.sh, which compares a sweep's wall time.
"""
import argparse
import gzip
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

VAL_SIZE = 5000


def read_idx(path, images):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if images:
        n, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows, cols)
    n = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, dtype=np.uint8, offset=8)[:n]


def load(files, val_size=VAL_SIZE):
    """(train, validation, test) as (x, y) pairs; validation is the last val_size images."""
    train_x, train_y, test_x, test_y = (
        read_idx(files[0], True),
        read_idx(files[1], False),
        read_idx(files[2], True),
        read_idx(files[3], False),
    )

    def split(x, y):
        return (
            torch.from_numpy(x.astype(np.float32) / np.float32(255.0)),
            torch.from_numpy(y.astype(np.int64)),
        )

    (x, y), test = split(train_x, train_y), split(test_x, test_y)
    n = x.shape[0] - val_size
    return (x[:n], y[:n]), (x[n:], y[n:]), test


class SeqClassifier(nn.Module):
    def __init__(self, inputs, hidden, classes):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def load_init(model, directory, hidden):
    """Copies rowseq's initial weights (names as in its VarStore) into the model."""
    with open(os.path.join(directory, f"init-{hidden}.json")) as f:
        index = json.load(f)
    values = np.fromfile(os.path.join(directory, f"init-{hidden}.f32"), dtype="<f4")
    state = model.state_dict()
    at = 0
    for entry in index:
        count = int(np.prod(entry["shape"]))
        t = torch.from_numpy(values[at : at + count].copy()).view(entry["shape"])
        if entry["name"] not in state or state[entry["name"]].shape != t.shape:
            raise SystemExit(f"bench_torch: unexpected weight {entry['name']} {entry['shape']}")
        state[entry["name"]].copy_(t)
        at += count
    if at != values.size or len(index) != len(state):
        raise SystemExit("bench_torch: the handed-over weights do not match the model")


def train_step(model, opt, x, y, clip, tally):
    """rowseq's `train::train_step`: forward, loss, backward, clip, Adam, sums, loss read."""
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    if clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    with torch.no_grad():
        detached = loss.detach()
        tally[0] += detached * y.shape[0]
        tally[1] += (logits.argmax(-1) == y).sum()
        return detached.item()


def evaluate(model, x, y, batch):
    """rowseq's `train::evaluate`: no gradients, large batches, loss and accuracy."""
    n = x.shape[0]
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, n, batch):
            xb, yb = x[start : start + batch], y[start : start + batch]
            logits = model(xb)
            loss += F.cross_entropy(logits, yb).item() * xb.shape[0]
            correct += (logits.argmax(-1) == yb).sum().item()
    return loss / n, correct / n


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_width(h, args, data, order, device):
    (x, y), _, (tx, ty) = data
    torch.manual_seed(args.seed)
    model = SeqClassifier(x.shape[2], h, 10)
    if args.init_dir:
        load_init(model, args.init_dir, h)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    x, y = x.to(device), y.to(device)
    order = order.to(device)
    tally = [torch.zeros((), device=device), torch.zeros((), dtype=torch.int64, device=device)]
    b = args.batch_size
    step_no = [0]

    def step():
        idx = order[step_no[0] * b : (step_no[0] + 1) * b]
        step_no[0] += 1
        return train_step(model, opt, x.index_select(0, idx), y.index_select(0, idx), args.clip, tally)

    losses = [step() for _ in range(args.warmup)]
    chunk_ms = []
    for c in range(args.chunks):
        n = args.steps * (c + 1) // args.chunks - args.steps * c // args.chunks
        sync(device)
        started = time.perf_counter()
        for _ in range(n):
            losses.append(step())
        sync(device)
        chunk_ms.append(1e3 * (time.perf_counter() - started) / n)
    tx, ty = tx[: args.eval_samples].to(device), ty[: args.eval_samples].to(device)
    warm = min(args.eval_batch, args.eval_samples)
    evaluate(model, tx[:warm], ty[:warm], args.eval_batch)
    best = math.inf
    for _ in range(2):
        sync(device)
        started = time.perf_counter()
        evaluate(model, tx, ty, args.eval_batch)
        sync(device)
        best = min(best, time.perf_counter() - started)
    return {
        "num_units": h,
        "chunk_ms": chunk_ms,
        "eval_samples_per_s": args.eval_samples / best,
        "loss_first": losses[0],
        "loss_last": losses[-1],
    }


RUN_DEFAULTS = {
    "num_units": 128, "seed": 0, "epochs": 12, "lr": 3e-3, "schedule": "cosine",
    "clip_grad_norm": 1.0, "batch_size": 128, "val_size": 5000, "train_size": 0, "test_size": 0,
}


def grid_runs(path):
    """The runs of a rowseq sweep config (flat TOML; a list is swept), defaults filled in."""
    import itertools
    import tomllib

    with open(path, "rb") as f:
        grid = tomllib.load(f)
    grid.pop("name", None)
    dataset = grid.pop("dataset", "mnist")
    if dataset != "mnist" and dataset != ["mnist"]:
        raise SystemExit(f"bench_torch: {path}: dataset {dataset!r}: only mnist")
    unknown = set(grid) - set(RUN_DEFAULTS)
    if unknown:
        raise SystemExit(f"bench_torch: {path}: unknown keys {sorted(unknown)}")
    keys = list(RUN_DEFAULTS)
    values = [grid.get(k, RUN_DEFAULTS[k]) for k in keys]
    values = [v if isinstance(v, list) else [v] for v in values]
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


_loaded = {}


def load_cached(files, val_size):
    """`load`, once per validation size (a rowseq sweep loads MNIST once per process too)."""
    if val_size not in _loaded:
        _loaded[val_size] = load(files, val_size)
    return _loaded[val_size]


def full_run(run, files, device, eval_batch):
    """One rowseq run the PyTorch way: per-epoch shuffles, the learning-rate schedule, and
    evaluation on validation and test after every epoch. Returns seconds and test accuracy."""
    (x, y), (vx, vy), (tx, ty) = load_cached(files, run["val_size"])
    if run["train_size"]:
        x, y = x[: run["train_size"]], y[: run["train_size"]]
    if run["test_size"]:
        tx, ty = tx[: run["test_size"]], ty[: run["test_size"]]
    torch.manual_seed(run["seed"])
    model = SeqClassifier(x.shape[2], run["num_units"], 10).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=run["lr"])
    x, y, vx, vy, tx, ty = (t.to(device) for t in (x, y, vx, vy, tx, ty))
    n, b, epochs = x.shape[0], run["batch_size"], run["epochs"]
    batches = math.ceil(n / b)
    total = batches * epochs
    rng = np.random.default_rng(run["seed"])
    step = 0
    started = time.perf_counter()
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(n)).to(device)
        tally = [torch.zeros((), device=device), torch.zeros((), dtype=torch.int64, device=device)]
        for i in range(batches):
            idx = perm[i * b : (i + 1) * b]
            lr = run["lr"]
            if run["schedule"] == "cosine":
                lr *= 0.5 * (1 + math.cos(math.pi * step / total))
            for g in opt.param_groups:
                g["lr"] = lr
            loss = train_step(model, opt, x.index_select(0, idx), y.index_select(0, idx),
                              run["clip_grad_norm"], tally)
            if not math.isfinite(loss):
                raise SystemExit(f"bench_torch: run {run}: loss {loss}")
            step += 1
        evaluate(model, vx, vy, eval_batch)
        _, acc = evaluate(model, tx, ty, eval_batch)
    sync(device)
    return {**run, "seconds": time.perf_counter() - started, "test_acc": acc}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", help="comma-separated widths (bench mode)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--chunks", type=int, default=5)
    p.add_argument("--eval-samples", type=int, default=10000)
    p.add_argument("--eval-batch", type=int, default=500)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--order", help="int64 example indices of every step (from rowseq)")
    p.add_argument("--init-dir", help="folder with rowseq's init-<H>.f32/.json")
    p.add_argument("--files", nargs=4, required=True, metavar="IDX",
                   help="train images, train labels, test images, test labels")
    p.add_argument("--config", help="train every run of this rowseq sweep config instead, one "
                   "after another, and report seconds per run (a sweep's wall time)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("bench_torch: --device cuda but torch sees no CUDA GPU")
        torch.backends.cudnn.enabled = True
    about = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "device": args.device,
    }
    if args.config:
        runs = []
        started = time.perf_counter()
        for run in grid_runs(args.config):
            r = full_run(run, args.files, device, args.eval_batch)
            print(f"bench_torch: H={r['num_units']} seed={r['seed']}: {r['seconds']:.1f} s, "
                  f"test acc {r['test_acc']:.4f}", file=sys.stderr, flush=True)
            runs.append(r)
        about.update(runs=runs, seconds=time.perf_counter() - started)
        json.dump(about, sys.stdout)
        print()
        return
    if not args.units:
        raise SystemExit("bench_torch: --units is required (or --config)")
    units = [int(u) for u in args.units.split(",")]
    data = load(args.files)
    if not args.order:
        raise SystemExit("bench_torch: --order is required (rowseq writes it)")
    order = torch.from_numpy(np.fromfile(args.order, dtype="<i8"))
    if order.numel() < (args.warmup + args.steps) * args.batch_size:
        raise SystemExit("bench_torch: --order holds fewer indices than the steps need")
    widths = []
    for h in units:
        w = bench_width(h, args, data, order, device)
        ms = float(np.median(w["chunk_ms"]))
        print(f"PyTorch H={h:<4} {ms:8.2f} ms/batch  eval {w['eval_samples_per_s']:9.0f} samples/s",
              file=sys.stderr, flush=True)
        widths.append(w)
    about["widths"] = widths
    json.dump(about, sys.stdout)
    print()


if __name__ == "__main__":
    main()

"""A finished rowseq run in plain PyTorch: its weights work outside rowseq.

Builds the matching nn.LSTM / nn.GRU / nn.RNN (layers, directions, batch_first) and nn.Linear
head from the run's config.json, loads its model.safetensors (rowseq's variables have
PyTorch's names: lstm.weight_ih_l0, ..., head.weight), reads a .ts or CSV file of series (with
the run's CSV keys; labels optional), scales them
as the run did (normalization.json: each feature with the training split's mean and std, each
series on its own, or not at all), reads them `patch` values a step as the run did
(result.json), and prints each series' class probabilities. With --check PREDICTIONS.csv (the
output of `rowseq predict RUN_DIR DATA`), it compares them with rowseq's and exits 1 if any
differs by more than 1e-5.

    .venv/bin/python scripts/load_in_pytorch.py RUN_DIR DATA.ts|DATA.csv [--check predictions.csv]

Needs torch and numpy only (the safetensors file is read by hand). The functions below are
what you would paste into your own code: read_safetensors, RowseqModel, prepare.
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch


def read_safetensors(path):
    """{name: tensor} of a .safetensors file."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        data = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=dtypes[meta["dtype"]])
        out[name] = torch.from_numpy(data.reshape(meta["shape"]).copy())
    return out


class RowseqModel(torch.nn.Module):
    """rowseq's classifier: a recurrent stack read to each sequence's length, a linear head
    on the last layer's final state (both directions' when bidirectional)."""

    def __init__(self, cfg, features, classes):
        super().__init__()
        self.cell = cfg.get("cell", "lstm")
        self.bidirectional = cfg.get("bidirectional", False)
        cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[self.cell]
        self.rnn = cls(
            features,
            cfg["num_units"],
            num_layers=cfg.get("layers", 1),
            bidirectional=self.bidirectional,
            batch_first=True,
        )
        directions = 2 if self.bidirectional else 1
        self.head = torch.nn.Linear(directions * cfg["num_units"], classes)

    def load_rowseq(self, tensors):
        self.rnn.load_state_dict({k[len(self.cell) + 1 :]: v for k, v in tensors.items() if k.startswith(self.cell + ".")})
        self.head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})

    def forward(self, x, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        h = h[0] if self.cell == "lstm" else h
        last = torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1]
        return self.head(last)


def read_ts(path):
    """(series, labels) of a .ts file: each series an array [length, features]; labels are
    None for a file with @classLabel false (values only)."""
    series, labels, data, labelled = [], [], False, True
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#%":
            continue
        if not data:
            words = line.lower().split()
            if words[0] == "@classlabel" and words[1:2] == ["false"]:
                labelled = False
            data = words[0] == "@data"
            continue
        dims = line.split(":")
        label = dims.pop().strip() if labelled else None
        values = [[float(v) for v in d.split(",")] for d in dims]
        series.append(np.array(values, dtype=np.float32).T)
        labels.append(label)
    return series, labels


def read_csv(path, cfg):
    """(series, labels) of a CSV file read with the run's CSV keys (config.json): wide, one
    series per row (every column but the label a timestep; empty cells at the end shorten
    it), or long, one timestep per row (rows grouped by the id column in order of first
    appearance, ordered by the time column if set; every other column a feature). Labels are
    None when the label column is absent (new data)."""
    import csv

    label_col = cfg.get("label_column", "label")
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    header, rows = rows[0], rows[1:]
    label = header.index(label_col) if label_col in header else None
    if cfg.get("csv_layout", "wide") == "wide":
        series, labels = [], []
        for r in rows:
            cells = [c for i, c in enumerate(r) if i != label]
            while cells and cells[-1] == "":
                cells.pop()
            series.append(np.array([[float(c)] for c in cells], dtype=np.float32))
            labels.append(r[label] if label is not None else None)
        return series, labels
    ident = header.index(cfg.get("id_column", "id"))
    time_col = cfg.get("time_column", "")
    time = header.index(time_col) if time_col else None
    features = [i for i in range(len(header)) if i not in (label, ident, time)]
    groups = {}
    for k, r in enumerate(rows):
        g = groups.setdefault(r[ident], (r[label] if label is not None else None, []))
        g[1].append((float(r[time]) if time is not None else k, [float(r[i]) for i in features]))
    series = [np.array([v for _, v in sorted(steps, key=lambda s: s[0])], dtype=np.float32) for _, steps in groups.values()]
    return series, [lab for lab, _ in groups.values()]


def prepare(series, normalization, patch):
    """The padded batch [N, T', P*F] and lengths that the run reads: scaled as it scaled its
    series (in float64, then float32, as rowseq does), then `patch` values of every feature
    per step (the last patch filled with zeros)."""
    kind = normalization["kind"]
    out = []
    for s in series:
        x = s.astype(np.float64)
        if kind == "feature":
            x = (x - np.array(normalization["mean"])) / np.array(normalization["std"])
        elif kind == "series":
            std = x.std(axis=0)
            x = (x - x.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
        x = x.astype(np.float32)
        steps = math.ceil(len(x) / patch)
        padded = np.zeros((steps * patch, x.shape[1]), dtype=np.float32)
        padded[: len(x)] = x
        out.append(padded.reshape(steps, patch * x.shape[1]))
    lengths = torch.tensor([len(x) for x in out], dtype=torch.int64)
    batch = torch.zeros(len(out), int(lengths.max()), out[0].shape[1])
    for i, x in enumerate(out):
        batch[i, : len(x)] = torch.from_numpy(x)
    return batch, lengths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("data", type=Path, help="a .ts or CSV file of series like the run's data, with or without labels")
    parser.add_argument("--check", type=Path, help="rowseq predict's CSV to compare with")
    args = parser.parse_args()
    run = args.run_dir
    cfg = json.loads((run / "config.json").read_text())
    result = json.loads((run / "result.json").read_text())
    normalization = json.loads((run / "normalization.json").read_text())
    classes = result["data"]["class_names"]
    patch = result["data"].get("patch") or 1

    if args.data.suffix == ".csv":
        series, labels = read_csv(args.data, cfg)
    else:
        series, labels = read_ts(args.data)
    x, lengths = prepare(series, normalization, patch)
    model = RowseqModel(cfg, x.shape[2], len(classes))
    model.load_rowseq(read_safetensors(run / "model.safetensors"))
    model.eval()
    with torch.no_grad():
        probs = model(x, lengths).softmax(-1)
    predicted = [classes[i] for i in probs.argmax(-1).tolist()]
    shape = f"{len(series)} series, {patch} values a step ({x.shape[1]} steps of {x.shape[2]})"
    if all(t is not None for t in labels):
        correct = sum(p == t for p, t in zip(predicted, labels))
        print(f"{shape}: accuracy {correct / len(series):.4f}")
    else:
        print(f"{shape}: no labels, no accuracy")
    if args.check:
        rows = [line.split(",") for line in args.check.read_text().splitlines()]
        header, rows = rows[0], rows[1:]
        theirs = torch.tensor([[float(v) for v in r[3:]] for r in rows])
        if header[3:] != [f"p_{c}" for c in classes] or theirs.shape != probs.shape:
            sys.exit(f"{args.check}: not rowseq predict's output for this run and data")
        diff = (theirs - probs).abs().max().item()
        print(f"max |p(PyTorch) - p(rowseq)| = {diff:.2e} over {probs.numel()} probabilities")
        if diff > 1e-5:
            sys.exit(1)


if __name__ == "__main__":
    main()

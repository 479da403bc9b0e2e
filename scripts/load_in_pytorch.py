"""A finished rowseq run in plain PyTorch: its weights work outside rowseq.

Builds the matching nn.LSTM / nn.GRU / nn.RNN (layers, directions, batch_first) and nn.Linear
head from the run's config.json, loads its model.safetensors (rowseq's variables have
PyTorch's names: lstm.weight_ih_l0, ..., head.weight), reads DATA as the run's task does, scales
it as the run did (normalization.json), reads it `patch` values a step as the run did
(result.json data.patch; the last patch filled with zeros), and prints what the model predicts.
With --check PREDICTIONS.csv (the output of `rowseq predict RUN_DIR DATA --out
PREDICTIONS.csv`), it compares that with rowseq's and exits 1 if any value differs by more than
the task's tolerance.

    .venv/bin/python scripts/load_in_pytorch.py RUN_DIR [RUN_DIR...] DATA [--check PREDICTIONS.csv]

Several run folders are an ensemble, as `rowseq predict RUN_DIR... DATA` makes one: the mean of
their class probabilities (the class is the mean's argmax), of their values, or of their
forecasts.

config.json's "task" says what DATA is and what the head predicts:

- "classify" (the default): DATA is a .ts file (@classLabel true LABELS, or false: no labels), a
  NumPy .npz archive (X and y, as `npz:` data), or
  a CSV file read with the run's CSV keys (wide or long; labels optional). Series are scaled
  with the training split's mean and std per feature (normalization.json "kind": "feature"),
  each on its own ("series"; "series_stats" adds each series' mean and log std, standardised
  by "stats_inputs", as two more features a feature) or not at all ("none"). The head has one
  output per class (result.json data.class_names); prints the accuracy when there are labels. Check: the p_<class>
  columns against the softmax of the head, |p(PyTorch) - p(rowseq)| <= 1e-5.
- "regress": DATA as for classification, the label a number (.ts: @targetLabel true, a number
  after each case's last ':'; @targetLabel false: none; CSV: the label column, absent for none),
  inputs scaled the same way. The head has one output, the target's z-score: value = out *
  target_std + target_mean (normalization.json). Prints the RMSE when there are targets. Check:
  the `predicted` column of rowseq's `index,<target>,predicted`.
- "forecast": DATA is one series CSV file (SERIES.csv or csv:SERIES.csv; a header, one row per
  time step): the run's "columns" (comma-separated; empty: every column whose first value is a
  number), "target_column" the one forecast (empty: the only column read). A panel run's file
  holds many series (an "id_column" column, or with target_column "*" one column per series):
  each is forecast on its own, with its own statistics (normalization.json "series", by id),
  and the output gains an "id" column. The model reads the
  last `window` rows (the run's resolved.json; for older runs result.json "resolved", else
  "config") and its head outputs the next
  `horizon` (default 1) values' z-scores. Scaling (normalization.json "kind"; "mean", "std" per
  column read, in the order read: `columns`' own order, else the file's): "last" (forecasting's
  default) (v - v[last row]) / std, "feature" (v - mean) / std, "none" v as it is (mean 0, std 1
  where the file gives none); value = out * target_std + centre, centre the target at the last
  row for "last", else target_mean. With decompose = "classical" (forecasting's default) and a
  season m, the target first loses rowseq's classical seasonal indices of the whole series
  (`seasonal_indices`), and each step's centre adds its index back. With transform = "log"
  (resolved.json; forecasting's "auto" resolves to it where every target value is positive),
  the target is read as its natural logarithm before all of this, and value = exp(out *
  target_std + centre). Check: the <target> column
  of rowseq's `step,row,<target>,...`, one row per step ahead (the step and row columns must
  match too).

Numeric tolerance (regress, forecast): rowseq computes in float32, so a value y = z * target_std
+ centre agrees up to float32 rounding of the model's output z; a value passes when
|y(PyTorch) - y(rowseq)| <= 1e-5 * target_std * max(1, |z|) (under transform = "log", where y =
exp(z * target_std + centre), target_std * y in place of target_std), i.e. 1e-5 of the z-score (as
classification's 1e-5 on probabilities), relative to |z| when |z| > 1 (kind "none", where
target_std is 1 and z is the raw value). The printed line gives the largest difference in the
target's units and in target stds (runs on Covid3Month, sunspots and co2 agree to ~1e-7 target
std or better).

Needs torch and numpy only (the safetensors file is read by hand). The functions below are
what you would paste into your own code: read_safetensors, RowseqModel, read_ts, read_csv,
prepare (classify, regress), read_series_csv and prepare_window (forecast).
"""
import argparse
import csv
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


class ConvBranch(torch.nn.Module):
    """rowseq's convolutional branch (conv_filters = N, LSTM-FCN's): three nn.Conv1d of N, 2N
    and N filters, kernels 8, 5 and 3, padding "same", each with nn.BatchNorm1d and ReLU, over
    the steps the recurrent layers read, zero past each sequence's length; then the mean over
    each sequence's real steps."""

    def __init__(self, features, filters):
        super().__init__()
        shapes = [(features, filters, 8), (filters, 2 * filters, 5), (2 * filters, filters, 3)]
        for i, (inputs, out, kernel) in enumerate(shapes, 1):
            setattr(self, f"conv{i}", torch.nn.Conv1d(inputs, out, kernel, padding="same"))
            setattr(self, f"bn{i}", torch.nn.BatchNorm1d(out))

    def forward(self, x, lengths):
        steps = torch.arange(x.shape[1]).view(1, 1, -1)
        real = (steps < lengths.view(-1, 1, 1)).to(x.dtype)
        h = x.transpose(1, 2)
        for i in (1, 2, 3):
            conv, bn = getattr(self, f"conv{i}"), getattr(self, f"bn{i}")
            h = torch.relu(bn(conv(h * real)))
        return (h * real).sum(2) / lengths.view(-1, 1).to(x.dtype)


class RowseqModel(torch.nn.Module):
    """rowseq's model: a recurrent stack read to each sequence's length; a linear head on the
    last layer's final state (both directions' when bidirectional), or with pooling = "mean"
    on the mean of its outputs over each sequence's real steps, beside the convolutional
    branch's means when conv_filters > 0; `outputs` outputs (the classes' logits, one
    regression z-score, or `horizon` forecast z-scores), plus, with highway = true (a
    forecast's default), an nn.Linear(T*F, outputs) on the whole window flattened."""

    def __init__(self, cfg, features, outputs):
        super().__init__()
        self.cell = cfg.get("cell", "lstm")
        self.bidirectional = cfg.get("bidirectional", False)
        self.pooling = cfg.get("pooling", "last")
        filters = cfg.get("conv_filters", 0)
        cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[self.cell]
        self.rnn = cls(
            features,
            cfg["num_units"],
            num_layers=cfg.get("layers", 1),
            bidirectional=self.bidirectional,
            batch_first=True,
        )
        self.conv = ConvBranch(features, filters) if filters else None
        directions = 2 if self.bidirectional else 1
        self.head = torch.nn.Linear(directions * cfg["num_units"] + filters, outputs)
        self.highway = None  # sized by load_rowseq from the saved weight: [outputs, T*F]
        self.wants_highway = cfg.get("highway", False)

    def load_rowseq(self, tensors):
        def part(prefix):
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.rnn.load_state_dict(part(self.cell + "."))
        if self.conv is not None:
            state = part("conv.")
            # rowseq keeps no count of batches (momentum is fixed at PyTorch's 0.1).
            for i in (1, 2, 3):
                state[f"bn{i}.num_batches_tracked"] = torch.tensor(0)
            self.conv.load_state_dict(state)
        self.head.load_state_dict(part("head."))
        if self.wants_highway:
            state = part("highway.")
            outputs, inputs = state["weight"].shape
            self.highway = torch.nn.Linear(inputs, outputs)
            self.highway.load_state_dict(state)

    def forward(self, x, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        outputs, h = self.rnn(packed)
        if self.pooling == "mean":
            padded, _ = torch.nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
            readout = padded.sum(1) / lengths.view(-1, 1).to(x.dtype)
        else:
            h = h[0] if self.cell == "lstm" else h
            readout = torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1]
        if self.conv is not None:
            readout = torch.cat([readout, self.conv(x, lengths)], 1)
        out = self.head(readout)
        if self.highway is not None:
            out = out + self.highway(x.flatten(1))
        return out


def read_ts(path):
    """(series, labels) of a .ts file: each series an array [length, features]; labels are
    strings (a class, or a regression target with @targetLabel true), or None for a file with
    @classLabel false / @targetLabel false (values only)."""
    series, labels, data, labelled = [], [], False, True
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#%":
            continue
        if not data:
            words = line.lower().split()
            if words[0] in ("@classlabel", "@targetlabel") and words[1:2] == ["false"]:
                labelled = False
            data = words[0] == "@data"
            continue
        dims = line.split(":")
        label = dims.pop().strip() if labelled else None
        values = [[float(v) for v in d.split(",")] for d in dims]
        series.append(np.array(values, dtype=np.float32).T)
        labels.append(label)
    return series, labels


def read_npz(path):
    """(series, labels) of a NumPy archive as rowseq reads it: X (n_cases, n_channels,
    n_timepoints), or (n_cases, n_timepoints), each case cut after its last timepoint with a
    value (trailing NaN is padding); y the labels as rowseq writes them (integral floats without
    a decimal point), or None for an archive without y. Never unpickles (allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as z:
        x = z["X"].astype(np.float64)
        y = z["y"] if "y" in z.files else None
    if x.ndim == 2:
        x = x[:, None, :]
    series, labels = [], []
    for i, case in enumerate(x):
        filled = np.nonzero(~np.isnan(case).all(axis=0))[0]
        length = int(filled[-1]) + 1 if len(filled) else 0
        series.append(case[:, :length].T.astype(np.float32))
        if y is None:
            labels.append(None)
        elif np.issubdtype(y.dtype, np.floating) and float(y[i]).is_integer():
            labels.append(str(int(y[i])))
        else:
            labels.append(str(y[i]).strip())
    return series, labels


def read_series(path, cfg):
    """(series, labels) of a .ts, CSV or .npz file, as the run's data is read."""
    if path.suffix == ".csv":
        return read_csv(path, cfg)
    if path.suffix == ".npz":
        return read_npz(path)
    return read_ts(path)


def read_csv(path, cfg):
    """(series, labels) of a CSV file read with the run's CSV keys (config.json): wide, one
    series per row (every column but the label and group a timestep; empty cells at the end
    shorten it), or long, one timestep per row (rows grouped by the id column in order of first
    appearance, ordered by the time column if set; every other column a feature). Labels are
    None when the label column is absent (new data)."""
    label_col = cfg.get("label_column", "label")
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r]
    header, rows = rows[0], rows[1:]
    label = header.index(label_col) if label_col in header else None
    # A group_column names each series' group (for the validation split): never a value.
    group_col = cfg.get("group_column", "")
    group = header.index(group_col) if group_col in header else None
    if cfg.get("csv_layout", "wide") == "wide":
        series, labels = [], []
        for r in rows:
            cells = [c for i, c in enumerate(r) if i not in (label, group)]
            while cells and cells[-1] == "":
                cells.pop()
            series.append(np.array([[float(c)] for c in cells], dtype=np.float32))
            labels.append(r[label] if label is not None else None)
        return series, labels
    ident = header.index(cfg.get("id_column", "id"))
    time_col = cfg.get("time_column", "")
    time = header.index(time_col) if time_col else None
    features = [i for i in range(len(header)) if i not in (label, ident, time, group)]
    groups = {}
    for k, r in enumerate(rows):
        g = groups.setdefault(r[ident], (r[label] if label is not None else None, []))
        g[1].append((float(r[time]) if time is not None else k, [float(r[i]) for i in features]))
    series = [np.array([v for _, v in sorted(steps, key=lambda s: s[0])], dtype=np.float32) for _, steps in groups.values()]
    return series, [lab for lab, _ in groups.values()]


def patch_batch(xs, patch):
    """The padded batch [N, T', P*F] and lengths of float32 arrays [length, F], read `patch`
    values of every feature per step (the last patch filled with zeros)."""
    out = []
    for x in xs:
        steps = math.ceil(len(x) / patch)
        padded = np.zeros((steps * patch, x.shape[1]), dtype=np.float32)
        padded[: len(x)] = x
        out.append(padded.reshape(steps, patch * x.shape[1]))
    lengths = torch.tensor([len(x) for x in out], dtype=torch.int64)
    batch = torch.zeros(len(out), int(lengths.max()), out[0].shape[1])
    for i, x in enumerate(out):
        batch[i, : len(x)] = torch.from_numpy(x)
    return batch, lengths


def prepare(series, normalization, patch):
    """The padded batch [N, T', P*F] and lengths that a classification or regression run
    reads: scaled as it scaled its series (in float64, then float32, as rowseq does), then
    `patch` values of every feature per step."""
    kind = normalization["kind"]
    scaled = []
    for s in series:
        x = s.astype(np.float64)
        if kind == "feature":
            x = (x - np.array(normalization["mean"])) / np.array(normalization["std"])
        elif kind == "series":
            std = x.std(axis=0)
            x = (x - x.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
        elif kind == "series_stats":
            # Each series on its own, then its mean and log std (standardised as the training
            # split's were) as two more features a feature, constant over its steps.
            s_in = normalization["stats_inputs"]
            mean, std = x.mean(axis=0), x.std(axis=0)
            level = (mean - np.array(s_in["level_mean"])) / np.array(s_in["level_std"])
            spread = np.log(std + np.array(s_in["spread_floor"]))
            spread = (spread - np.array(s_in["spread_mean"])) / np.array(s_in["spread_std"])
            z = (x - mean) / np.where(std > 1e-12, std, 1.0)
            steps = np.ones((len(x), 1))
            x = np.concatenate([z, steps * level, steps * spread], axis=1)
        scaled.append(x.astype(np.float32))
    return patch_batch(scaled, patch)


def read_series_csv(path, cfg):
    """Each series of a forecasting run's series file as (id, names, target, values): the
    columns read (config "columns", comma-separated, or every column whose first value is a
    number), in file order, never the "date_column" or the "id_column"; the index of
    "target_column" among them (empty: the only one); values [steps, columns] float64. A plain
    file is one series with id ""; a long panel (its header has "id_column", default "id")
    one per id, in the order the ids first appear; a wide one (target_column "*") one per
    column read, named by it."""
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r]
    header, rows = rows[0], rows[1:]

    def numeric(cell):
        try:
            float(cell)
            return True
        except ValueError:
            return False

    target_col = cfg.get("target_column", "")
    wide = target_col == "*"
    id_col = cfg.get("id_column", "id")
    ids = header.index(id_col) if id_col in header and not wide else None
    if ids is not None and "id_column" not in cfg:
        # Under the default "id", a column of numbers (a variable) or of one label is no panel.
        cells = [r[ids] for r in rows if r[ids]]
        if not cells or numeric(cells[0]) or len(set(cells)) < 2:
            ids = None
    wanted = [c.strip() for c in cfg.get("columns", "").split(",") if c.strip()]
    missing = [c for c in wanted + ([] if wide else [target_col]) if c and c not in header]
    if missing:
        sys.exit(f"{path}: no column {missing[0]!r} (header: {', '.join(header)}): not the run's series")
    # A date column ("date_column") is never a variable, even when its dates are numbers.
    dates = cfg.get("date_column", "")
    chosen = [header.index(c) for c in wanted] if wanted else [
        i for i, c in enumerate(rows[0]) if numeric(c) and header[i] != dates and i != ids
    ]
    names = [header[i] for i in chosen]
    if wide:
        return [(header[i], [header[i]], 0, np.array([[float(r[i])] for r in rows])) for i in chosen]
    if not target_col and len(names) != 1:
        sys.exit(f"{path}: several numeric columns ({', '.join(names)}) and no target_column")
    target = names.index(target_col) if target_col else 0
    groups = {}
    for r in rows:
        groups.setdefault(r[ids] if ids is not None else "", []).append(r)
    return [
        (key, names, target, np.array([[float(r[i]) for i in chosen] for r in group], dtype=np.float64))
        for key, group in groups.items()
    ]


SEASONAL_CYCLES = 7


def seasonal_indices(y, m):
    """rowseq's classical seasonal indices (data::forecast::seasonal_indices), in the same
    order of float64 operations: each step's value less its centred moving average over one
    season (2 x m for an even m), averaged per phase (s mod m) over the latest 7 steps of that
    phase whose average exists, centred to sum to zero."""
    n, h = len(y), m // 2
    sums, counts = [0.0] * m, [0] * m
    for s in range(n - h - 1, h - 1, -1):
        p = s % m
        if counts[p] == SEASONAL_CYCLES:
            continue
        if m % 2 == 1:
            trend = sum(y[s - h : s + h + 1]) / m
        else:
            trend = (0.5 * y[s - h] + sum(y[s - h + 1 : s + h]) + 0.5 * y[s + h]) / m
        sums[p] += y[s] - trend
        counts[p] += 1
    raw = [sums[p] / counts[p] if counts[p] else 0.0 for p in range(m)]
    mean = sum(raw) / m
    return [r - mean for r in raw]


def prepare_window(values, target, window, normalization, patch, season, horizon, calendar=0):
    """The batch [1, T', P*F] and lengths a forecasting run reads from the last `window` rows
    of `values` [steps, F], and the centres its `horizon` outputs are relative to: kind "last"
    scales every column relative to its value at the last row, "feature" with the training
    stretch's mean, "none" not at all (in float64, then float32, as rowseq does). With a
    `season` (decompose = "classical"), the target first loses its seasonal indices, which the
    centres add back. With a `calendar` season (config "calendar"), every step also carries the
    sine and cosine of its row's phase in it, as two more columns."""
    kind = normalization.get("kind", "last")
    f = values.shape[1]
    mean = np.array(normalization.get("mean") or [0.0] * f)
    std = np.array(normalization.get("std") or [1.0] * f)
    n = len(values)
    ahead = [0.0] * horizon
    if season:
        y = values[:, target].tolist()
        idx = seasonal_indices(y, season)
        values = values.copy()
        values[:, target] = [y[s] - idx[s % season] for s in range(n)]
        ahead = [idx[(n - 1 + k) % season] for k in range(1, horizon + 1)]
    last = values[-1]
    x = values[-window:]
    if kind == "last":
        x, centre = (x - last) / std, last[target]
    elif kind == "feature":
        x, centre = (x - mean) / std, normalization["target_mean"]
    else:
        centre = normalization.get("target_mean", 0.0)
    x = x.astype(np.float32)
    if calendar > 1:
        rows = np.arange(n - window, n)
        angle = 2 * np.pi * (rows % calendar) / calendar
        phase = np.stack([np.sin(angle), np.cos(angle)], axis=1).astype(np.float32)
        x = np.concatenate([x, phase], axis=1)
    batch, lengths = patch_batch([x], patch)
    return batch, lengths, torch.tensor([centre + a for a in ahead], dtype=torch.float64)


def load(cfg, run, features, outputs):
    """The run's model, weights loaded, in eval mode."""
    model = RowseqModel(cfg, features, outputs)
    model.load_rowseq(read_safetensors(run / "model.safetensors"))
    return model.eval()


def read_check(path):
    """(header, rows) of a rowseq predict CSV."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    return rows[0], rows[1:]


def check_values(ours, theirs, z, target_std):
    """Prints the numeric comparison line; exits 1 if a value is off by more than
    1e-5 * target_std * max(1, |z|) (target_std: one, or one per value for a panel)."""
    diff = (ours - theirs).abs()
    worst = diff.max().item()
    target_std = torch.as_tensor(target_std, dtype=torch.float64)
    relative = (diff / target_std).max().item()
    print(f"max |y(PyTorch) - y(rowseq)| = {worst:.2e} ({relative:.2e} target std) over {diff.numel()} values")
    if (diff > 1e-5 * target_std * z.abs().clamp(min=1.0)).any():
        sys.exit(1)


def classify(args, members):
    run, cfg, result, normalization, patch = members[0]
    classes = result["data"]["class_names"]
    series, labels = read_series(args.data, cfg)
    probs = 0
    for run, cfg, result, normalization, patch in members:
        if result["data"]["class_names"] != classes:
            sys.exit(f"{run}: other classes than {members[0][0]}'s: not an ensemble of one problem")
        x, lengths = prepare(series, normalization, patch)
        model = load(cfg, run, x.shape[2], len(classes))
        with torch.no_grad():
            # An ensemble's probabilities are the mean of its runs' (in float64, as rowseq's).
            probs = probs + model(x, lengths).softmax(-1).double()
    probs = probs / len(members)
    predicted = [classes[i] for i in probs.argmax(-1).tolist()]
    shape = f"{len(series)} series, {patch} values a step ({x.shape[1]} steps of {x.shape[2]})"
    if len(members) > 1:
        shape = f"an ensemble of {len(members)} runs, " + shape
    if all(t is not None for t in labels):
        correct = sum(p == t for p, t in zip(predicted, labels))
        print(f"{shape}: accuracy {correct / len(series):.4f}")
    else:
        print(f"{shape}: no labels, no accuracy")
    if args.check:
        header, rows = read_check(args.check)
        theirs = torch.tensor([[float(v) for v in r[3:]] for r in rows])
        if header[3:] != [f"p_{c}" for c in classes] or theirs.shape != probs.shape:
            sys.exit(f"{args.check}: not rowseq predict's output for this run and data")
        diff = (theirs - probs).abs().max().item()
        print(f"max |p(PyTorch) - p(rowseq)| = {diff:.2e} over {probs.numel()} probabilities")
        if diff > 1e-5:
            sys.exit(1)


def regress(args, members):
    run, cfg, result, normalization, patch = members[0]
    series, labels = read_series(args.data, cfg)
    values, z = 0, 0
    for run, cfg, result, normalization, patch in members:
        x, lengths = prepare(series, normalization, patch)
        model = load(cfg, run, x.shape[2], 1)
        with torch.no_grad():
            zm = model(x, lengths)[:, 0].double()
        # An ensemble predicts the mean of its runs' values, in the target's units.
        values = values + zm * normalization["target_std"] + normalization["target_mean"]
        z = z + zm.abs()
    values, z = values / len(members), z / len(members)
    std = members[0][3]["target_std"]
    shape = f"{len(series)} series, {patch} values a step ({x.shape[1]} steps of {x.shape[2]})"
    if len(members) > 1:
        shape = f"an ensemble of {len(members)} runs, " + shape
    if all(t is not None for t in labels):
        truth = torch.tensor([float(t) for t in labels], dtype=torch.float64)
        print(f"{shape}: RMSE {((values - truth) ** 2).mean().sqrt().item():.4g}")
    else:
        print(f"{shape}: no targets, no RMSE")
    if args.check:
        header, rows = read_check(args.check)
        if len(header) != 3 or header[0] != "index" or header[2] != "predicted" or len(rows) != len(series):
            sys.exit(f"{args.check}: not rowseq predict's output for this run and data")
        theirs = torch.tensor([float(r[2]) for r in rows], dtype=torch.float64)
        check_values(values, theirs, z, std)


def resolved_config(run, result):
    """The config the run trained, "auto" resolved: its resolved.json, written before it
    trained; runs from before that record keep it in result.json."""
    path = run / "resolved.json"
    if path.exists():
        return json.loads(path.read_text())
    return result.get("resolved") or result["config"]


def series_normalization(normalization, key, target):
    """The statistics a series is read with: a panel run's own for its id (normalization.json
    "series"), else the run's."""
    each = normalization.get("series")
    if not each:
        return normalization
    found = [s for s in each if s["id"] == key]
    if not found:
        sys.exit(f"series {key!r}: not one the run trained on")
    s = found[0]
    return dict(normalization, mean=s["mean"], std=s["std"], target_mean=s["mean"][target], target_std=s["std"][target])


def forecast_one(args, run, cfg, result, normalization, patch):
    """One run's forecasts of every series of DATA: (series, window, horizon, values, |z|,
    target std per value, x shape), series as (id, names, target, steps)."""
    resolved = resolved_config(run, result)
    window, horizon = resolved["window"], resolved.get("horizon", 1)
    path = Path(str(args.data).removeprefix("csv:"))
    season = resolved.get("season", 0) if resolved.get("decompose") == "classical" else 0
    calendar = resolved.get("season", 0) if resolved.get("calendar") else 0
    log = resolved.get("transform") == "log"
    series, values, zs, stds = [], [], [], []
    for key, names, target, table in read_series_csv(path, cfg):
        if len(table) < window:
            sys.exit(f"{path}: {len(table)} steps, fewer than the run's window of {window}")
        norm = series_normalization(normalization, key, target)
        if log:
            # The run read the target's natural logarithm (transform = "log").
            bad = np.flatnonzero(~(table[:, target] > 0))
            if len(bad):
                which = f" (series {key!r})" if key else ""
                sys.exit(
                    f"{path}: the target {names[target]!r}{which} is {table[bad[0], target]} at step "
                    f"{bad[0]} (0-based): expected positive values only, as the run read the logarithm "
                    "of its target (transform = \"log\")"
                )
            table = table.copy()
            table[:, target] = np.log(table[:, target])
        x, lengths, centre = prepare_window(table, target, window, norm, patch, season, horizon, calendar)
        model = load(cfg, run, x.shape[2], horizon)
        with torch.no_grad():
            z = model(x, lengths)[0].double()
        std = norm.get("target_std", 1.0)
        series.append((key, names, target, len(table)))
        value = z * std + centre
        if log:
            # A value's float32 rounding scales with it: its tolerance is in std * value.
            value = value.exp()
            stds += (std * value).tolist()
        else:
            stds += [std] * horizon
        values.append(value)
        zs.append(z.abs())
    return series, window, horizon, torch.cat(values), torch.cat(zs), torch.tensor(stds), x.shape


def forecast(args, members):
    # An ensemble forecasts the mean of its runs' forecasts.
    each = [forecast_one(args, *m) for m in members]
    series, window, horizon, _, _, std, x_shape = each[0]
    if any(e[2] != horizon for e in each):
        sys.exit("the runs forecast different horizons: not an ensemble of one problem")
    values = sum(e[3] for e in each) / len(each)
    z = sum(e[4] for e in each) / len(each)
    patch = members[0][4]
    _, names, target, steps = series[0]
    panel = len(series) > 1 or series[0][0] != ""
    # A wide panel's series are its columns: predict writes their values in one column.
    column = "value" if members[0][1].get("target_column") == "*" else names[target]
    where = f"{len(series)} series" if panel else f"{steps} rows"
    print(
        f"{column} after {where}, a window of {window} of {len(names)} column(s), "
        f"{patch} values a step ({x_shape[1]} steps of {x_shape[2]}): "
        + ", ".join(f"{v:.6g}" for v in values.tolist())
    )
    if args.check:
        header, rows = read_check(args.check)
        want = [[str(k + 1), str(n + k)] + ([key] if panel else []) for key, _, _, n in series for k in range(horizon)]
        # Prediction intervals (lo_80, hi_80, ...) follow the value; a dated series' date, then
        # a panel's id, are last.
        rest = [h for h in header[3:] if not h.startswith(("lo_", "hi_"))]
        got = [r[:2] + (r[-1:] if panel else []) for r in rows]
        tail = ["id"] if panel else []
        if header[:3] != ["step", "row", column] or rest not in (tail, ["date"] + tail) or got != want:
            sys.exit(f"{args.check}: not rowseq predict's output for this run and series")
        theirs = torch.tensor([float(r[2]) for r in rows], dtype=torch.float64)
        check_values(values, theirs, z, std)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", help="a finished run's folder; several: an ensemble (the mean of their predictions)")
    parser.add_argument(
        "data",
        type=Path,
        help="classify/regress: a .ts or CSV file of series like the run's data, with or without labels; "
        "forecast: a series CSV file with the run's columns",
    )
    parser.add_argument("--check", type=Path, help="rowseq predict's CSV to compare with")
    args = parser.parse_args()
    members = []
    for run in args.run_dirs:
        cfg = json.loads((run / "config.json").read_text())
        result = json.loads((run / "result.json").read_text())
        normalization = json.loads((run / "normalization.json").read_text())
        resolved = resolved_config(run, result)
        patch = resolved["patch"] if isinstance(resolved.get("patch"), int) else result["data"].get("patch") or 1
        members.append((run, cfg, result, normalization, patch))
    tasks = {m[1].get("task", "classify") for m in members}
    if len(tasks) > 1:
        sys.exit(f"runs of several tasks ({', '.join(sorted(tasks))}): not an ensemble of one problem")
    task = {"classify": classify, "regress": regress, "forecast": forecast}[tasks.pop()]
    task(args, members)


if __name__ == "__main__":
    main()

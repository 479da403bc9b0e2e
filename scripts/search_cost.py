#!/usr/bin/env python3
"""Prints what a sweep folder's search found and what it cost: the best validation score of its
finished runs (the final epoch's, as the closing table ranks them: accuracy, or minus the RMSE
for numeric tasks), that run's config, and the worker-seconds of every run in it (training and
evaluation seconds summed over every epoch in each metrics.jsonl, the runs that successive
halving stopped included, and every candidate of a run that chose on validation).

  search_cost.py experiments/asha-mnist [experiments/asha-mnist-asha ...]
"""
import json
import sys
from pathlib import Path


def score(result):
    # result.json: accuracy for classification; numeric tasks record val_rmse.
    if result.get("val_rmse") is not None:
        return -result["val_rmse"]
    return result["val_acc"]


def summary(folder):
    best, seconds, runs, finished = None, 0.0, 0, 0
    for run in sorted(Path(folder).iterdir()):
        metrics = run / "metrics.jsonl"
        if not metrics.is_file():
            continue
        runs += 1
        # A run that chose on validation trained each candidate; its own metrics.jsonl is a
        # copy of the kept one's.
        candidates = sorted((run / "candidates").glob("*/metrics.jsonl"))
        for path in candidates or [metrics]:
            for line in path.read_text().splitlines():
                m = json.loads(line)
                seconds += m.get("train_seconds", 0.0) + m.get("eval_seconds", 0.0)
        result = run / "result.json"
        if result.is_file():
            finished += 1
            r = json.loads(result.read_text())
            if best is None or score(r) > score(best):
                best = r
    return best, seconds, runs, finished


def main():
    rows = [(f, *summary(f)) for f in sys.argv[1:]]
    base = rows[0]
    print("| sweep | runs (finished) | best validation score | its config | worker-seconds | share of the first |")
    print("| --- | --: | --: | --- | --: | --: |")
    for folder, best, seconds, runs, finished in rows:
        c = best["config"]
        cfg = f"units={c['num_units']}, lr={c.get('lr')}, batch={c.get('batch_size')}"
        print(f"| {Path(folder).name} | {runs} ({finished}) | {score(best):.4f} | {cfg} | {seconds:.0f} | {seconds / base[2]:.2f} |")


if __name__ == "__main__":
    main()

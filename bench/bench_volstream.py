#!/usr/bin/python3
"""Storage volume upload and download over streams: vrtd beside Debian's
libvirtd, and `cp` of the same file (the machine's limit for the copy).

For each daemon it starts a private daemon, defines and starts a dir pool in
its work directory, creates a raw volume of the file's size (allocation 0)
and times `virsh vol-upload` and `virsh vol-download` of:

- dense: SIZE bytes of pseudo-random data;
- sparse: the same size, 10% data in 64 extents, 90% holes;
- sparse with --sparse: the holes go as hole messages, and come out as
  holes (seek + ftruncate) in the volume and in the downloaded file.

cp copies the same files (`cp --sparse=never` for the plain rows, `cp
--sparse=always` for the --sparse rows). Every transfer's result is checked
against the source by checksum. Files are in the page cache (the source is
read once before); it measures the daemons' stream paths, not the disk.
Figures are MB/s (10^6 bytes of the file's size per second, holes included),
the median of --runs runs.

  /usr/bin/python3 bench/bench_volstream.py [--size-mib 1024] [--runs 3] [--only vrtd|libvirtd]
"""

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MIB = 1024 * 1024


def make_file(path, size, sparse):
    with open(path, "wb") as f:
        f.truncate(size)
        if not sparse:
            chunk = os.urandom(4 * MIB)
            for off in range(0, size, len(chunk)):
                f.write(chunk[:size - off])
            return
        extents = 64
        stride = size // extents
        data = stride // 10
        chunk = os.urandom(data)
        for i in range(extents):
            f.seek(i * stride + (stride - data) // 2)
            f.write(chunk)


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def timed(argv):
    # Dirty pages of the previous step (the files just made, the last
    # transfer) are written back first, not during this one.
    os.sync()
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


CASES = [("dense", "dense", False), ("sparse", "sparse", False), ("sparse --sparse", "sparse", True)]


def bench_daemon(name, files, sums, size, runs, work):
    d = common.STARTERS[name]()
    try:
        d.wait_first_answer()
        pooldir = os.path.join(work, f"pool-{name}")
        os.makedirs(pooldir, exist_ok=True)
        v = ["virsh", "-q", "-c", d.uri]
        subprocess.run(v + ["pool-create-as", "bench", "dir", "--target", pooldir], check=True,
                       stdout=subprocess.DEVNULL)
        out = {}
        for label, kind, sparse in CASES:
            opt = ["--sparse"] if sparse else []
            up, down = [], []
            for _ in range(runs):
                subprocess.run(v + ["vol-create-as", "bench", "v", str(size), "--format", "raw", "--allocation", "0"],
                               check=True, stdout=subprocess.DEVNULL)
                up.append(timed(v + ["vol-upload", "v", files[kind], "--pool", "bench", *opt]))
                assert digest(os.path.join(pooldir, "v")) == sums[kind], f"{name}: upload of {label} differs"
                dst = os.path.join(work, "down.img")
                if os.path.exists(dst):
                    os.unlink(dst)
                down.append(timed(v + ["vol-download", "v", dst, "--pool", "bench", *opt]))
                assert digest(dst) == sums[kind], f"{name}: download of {label} differs"
                os.unlink(dst)
                subprocess.run(v + ["vol-delete", "v", "--pool", "bench"], check=True, stdout=subprocess.DEVNULL)
            out[f"upload {label}"] = size / statistics.median(up) / 1e6
            out[f"download {label}"] = size / statistics.median(down) / 1e6
        return out
    finally:
        d.stop()


def bench_cp(files, size, runs, work):
    out = {}
    for label, kind, sparse in CASES:
        times = []
        for _ in range(runs):
            dst = os.path.join(work, "cp.img")
            if os.path.exists(dst):
                os.unlink(dst)
            times.append(timed(["cp", "--sparse=always" if sparse else "--sparse=never", files[kind], dst]))
            os.unlink(dst)
        # A copy is one way: the same figure stands for both directions.
        out[f"upload {label}"] = out[f"download {label}"] = size / statistics.median(times) / 1e6
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=sorted(common.STARTERS))
    args = ap.parse_args()
    size = args.size_mib * MIB
    work = tempfile.mkdtemp(prefix="vrt-bench-volstream-", dir="/var/tmp")
    try:
        files = {k: os.path.join(work, f"{k}.img") for k in ("dense", "sparse")}
        for k, path in files.items():
            make_file(path, size, k == "sparse")
        sums = {k: digest(p) for k, p in files.items()}
        daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
        results = {}
        for name in daemons:
            try:
                results[name] = bench_daemon(name, files, sums, size, args.runs, work)
            except (FileNotFoundError, subprocess.CalledProcessError) as e:
                print(f"{name}: n/a ({e})", file=sys.stderr)
                results[name] = {}
        results["cp"] = bench_cp(files, size, args.runs, work)
        cols = daemons + ["cp"]
        rows = []
        for label, _, _ in CASES:
            for way in ("upload", "download"):
                key = f"{way} {label}"
                rows.append((key, {c: results[c].get(key) for c in cols}, ".0f"))
        common.print_table(f"volume stream MB/s, {args.size_mib} MiB file, median of {args.runs}", rows, cols)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

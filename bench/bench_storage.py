#!/usr/bin/python3
"""Volume create and save/restore: vrtd beside Debian's libvirtd, each next
to the limit the machine sets for the same work.

- Volume create: `virsh vol-create-as POOL v 1G --format qcow2` in a dir
  pool in each daemon's work directory, then `vol-delete`, timed as the
  client sees it. The limit is `qemu-img create -f qcow2` of the same size
  in the same directory, run by hand (both daemons end in that program).
- Save and restore of a running 256 MiB domain (TCG, no guest OS: SeaBIOS
  waits for a boot device; the memory is what QEMU touched): `virsh save`
  and `virsh restore`, timed as the client sees them, the restored domain
  destroyed after each round. The limit is QEMU's own migration to a file
  and back on a bare QEMU with the same memory and machine: `migrate` to
  `exec:cat > FILE` until `query-migrate` says completed, then a QEMU started
  with `-incoming exec:cat FILE` until `query-status` says it can run
  (`cont` answered). The save file sizes are printed too, and what a
  virsh call that does nothing costs (`virsh uri`: process start, connect,
  one call), which every daemon figure includes and no limit does.

Figures are medians over --runs rounds, in ms. Run as root with Debian's
python3 on an idle machine:

  /usr/bin/python3 bench/bench_storage.py [--runs 5] [--vol-gib 1] [--mib 256] [--only vrtd|libvirtd]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
QMP_TIMEOUT_S = 60


def ms(seconds):
    return seconds * 1000.0


def timed(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return elapsed


def domain_xml(name, mib):
    return (f"<domain type='qemu'><name>{name}</name>"
            f"<memory unit='MiB'>{mib}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
            f"<devices><emulator>{QEMU}</emulator><memballoon model='none'/></devices></domain>")


# ------------------------------------------------------------ the limits

def qemu_img_create(work, gib, runs):
    path = os.path.join(work, "limit.qcow2")
    times = []
    for _ in range(runs):
        times.append(timed(["qemu-img", "create", "-q", "-f", "qcow2", path, f"{gib}G"]))
        os.unlink(path)
    return statistics.median(times)


class Qmp:
    def __init__(self, path, proc):
        deadline = time.monotonic() + QMP_TIMEOUT_S
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bare QEMU did not open its monitor")
                time.sleep(0.0005)
        self.s.settimeout(QMP_TIMEOUT_S)
        self.f = self.s.makefile("rwb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\r\n")
        self.f.flush()
        while True:
            line = json.loads(self.f.readline())
            if "event" in line:
                continue
            if "error" in line:
                raise RuntimeError(f"{name}: {line['error']}")
            return line["return"]

    def close(self):
        self.s.close()


def bare_qemu(work, tag, mib, incoming=None):
    sock = os.path.join(work, f"{tag}.qmp")
    if os.path.exists(sock):
        os.unlink(sock)
    argv = [QEMU, "-S", "-no-user-config", "-nodefaults", "-machine", "q35,accel=tcg",
            "-m", str(mib), "-smp", "1", "-display", "none", "-qmp", f"unix:{sock},server=on,wait=off"]
    if incoming:
        argv += ["-incoming", incoming]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, Qmp(sock, proc)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(QMP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bare_save_restore(work, mib, runs):
    saves, restores, size = [], [], 0
    img = os.path.join(work, "bare.save")
    for r in range(runs):
        proc, q = bare_qemu(work, f"src{r}", mib)
        try:
            q.cmd("cont")
            time.sleep(0.5)  # as long as the daemons' domains run before their save
            t0 = time.perf_counter()
            q.cmd("stop")
            q.cmd("migrate", uri=f"exec:cat > {img}")
            while True:
                st = q.cmd("query-migrate").get("status")
                if st == "completed":
                    break
                if st in ("failed", "cancelled"):
                    raise RuntimeError(f"bare QEMU migrate to file: {st}")
                time.sleep(0.001)
            saves.append(time.perf_counter() - t0)
        finally:
            q.close()
            stop(proc)
        size = os.path.getsize(img)
        t0 = time.perf_counter()
        proc, q = bare_qemu(work, f"dst{r}", mib, incoming=f"exec:cat {img}")
        try:
            while True:
                st = q.cmd("query-status")["status"]
                if st in ("paused", "running"):
                    break
                time.sleep(0.001)
            q.cmd("cont")
            restores.append(time.perf_counter() - t0)
        finally:
            q.close()
            stop(proc)
        os.unlink(img)
    return statistics.median(saves), statistics.median(restores), size


# ------------------------------------------------------------ the daemons

def bench_daemon(name, gib, mib, runs):
    d = common.STARTERS[name]()
    out = {}
    try:
        d.wait_first_answer()
        v = ["virsh", "-q", "-c", d.uri]
        pooldir = os.path.join(d.dir, "bench-pool")
        os.makedirs(pooldir, exist_ok=True)
        subprocess.run(v + ["pool-create-as", "bench", "dir", "--target", pooldir], check=True,
                       stdout=subprocess.DEVNULL)
        # what any virsh call costs here (process start, connect, one
        # call): part of every figure below, not of the limits'
        out["virsh"] = statistics.median(timed(v + ["uri"]) for _ in range(runs))
        times = []
        for _ in range(runs):
            times.append(timed(v + ["vol-create-as", "bench", "v", f"{gib}G", "--format", "qcow2"]))
            subprocess.run(v + ["vol-delete", "--pool", "bench", "v"], check=True, stdout=subprocess.DEVNULL)
        out["vol"] = statistics.median(times)

        xml = os.path.join(d.dir, "dom.xml")
        with open(xml, "w") as f:
            f.write(domain_xml("bench-save", mib))
        img = os.path.join(d.dir, "dom.save")
        saves, restores = [], []
        for _ in range(runs):
            subprocess.run(v + ["create", xml], check=True, stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            saves.append(timed(v + ["save", "bench-save", img]))
            out["size"] = os.path.getsize(img)
            restores.append(timed(v + ["restore", img]))
            subprocess.run(v + ["destroy", "bench-save"], check=True, stdout=subprocess.DEVNULL)
            os.unlink(img)
        out["save"], out["restore"] = statistics.median(saves), statistics.median(restores)
    finally:
        d.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--vol-gib", type=int, default=1)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--only", choices=["vrtd", "libvirtd"])
    args = ap.parse_args()
    daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
    res = {}
    for name in daemons:
        try:
            res[name] = bench_daemon(name, args.vol_gib, args.mib, args.runs)
        except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as e:
            print(f"{name}: {e}", file=sys.stderr)
            res[name] = {}
    work = tempfile.mkdtemp(prefix="vrt-bench-storage-")
    try:
        limit_vol = qemu_img_create(work, args.vol_gib, args.runs)
        bare_save, bare_restore, bare_size = bare_save_restore(work, args.mib, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cols = daemons + ["limit"]
    res["limit"] = {"vol": limit_vol, "save": bare_save, "restore": bare_restore, "size": bare_size}

    def row(label, key, conv, fmt):
        return (label, {c: (conv(res[c][key]) if key in res.get(c, {}) else None) for c in cols}, fmt)

    common.print_table(f"volume create ({args.vol_gib} GiB qcow2) and save/restore ({args.mib} MiB TCG domain), "
                       f"medians of {args.runs}; limit: qemu-img create, bare QEMU migrate to/from file",
                       [row("virsh uri ms (client cost)", "virsh", ms, ".1f"),
                       row("vol-create-as ms", "vol", ms, ".1f"),
                        row("save ms", "save", ms, ".1f"),
                        row("restore ms", "restore", ms, ".1f"),
                        row("save file MiB", "size", lambda b: b / 1048576, ".1f")], cols)


if __name__ == "__main__":
    main()

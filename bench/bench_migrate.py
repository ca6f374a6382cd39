#!/usr/bin/python3
"""Live migration of a 256 MiB idle guest between two hosts: two vrtds,
and two bare QEMUs migrating the same machine between the same network
namespaces (the physical limit: QEMU's own stream, nothing around it).

The hosts are the migration test's (tests/integration/migrate_env.py): two
network namespaces joined by a veth pair made inside them, a vrtd in each
with its own root and TLS certificates. Each round moves the domain A->B
and back with `virsh migrate --live` (client-managed: virsh, run in A's
namespace, talks to both daemons), then A->B and back with --p2p (the
source's vrtd talks to the destination itself). QEMU's migration stream
goes plain over the veth pair in every case. Total time and downtime are
the completed job's statistics as the source reports them (`virsh
domjobinfo --completed`, libvirt's DOMAIN_GET_JOB_STATS: QEMU's own
query-migrate figures). vrtd keeps them at the source only (libvirt's
destination has them too, from the migration cookie), and only while the
domain is defined there: hence the domain is defined on both hosts
first, and each keeps the shut-off definition of a domain that left
(--persistent would do for a client-managed move, but vrtd refuses it
peer to peer: "no persistent definition in the migration cookie"); "virsh wall" is how long the `virsh migrate`
command took, the management's share included.

Bare QEMU: a qemu-system-x86_64 in each namespace with a QMP socket, the
destination started with `-incoming tcp:ADDR:PORT`, `migrate` sent to the
source, timings from its query-migrate once completed (total-time,
downtime); then back the same way.

libvirtd is not in the table yet: migrating between two libvirtds needs
each in its own mount namespace (its /run/libvirt, /etc/pki/libvirt,
/var/lib/libvirt) and its own network namespace, with host UUIDs, TLS
listening and migration addresses of its own; that setup is not written.

The domain is a guest-less TCG machine (SeaBIOS finds nothing to boot and
idles); --guest boots the test guest's kernel (tests/guest) in it instead,
for vrtd and bare QEMU alike. Figures are medians over --rounds rounds
(each round: two moves per mode).

  /usr/bin/python3 bench/bench_migrate.py [--rounds 3] [--mib 256] [--guest]
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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("VRT_BUILD", os.path.join(REPO, "build"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import migrate_env  # noqa: E402
from migrate_env import DST_IP, DST_UUID, SRC_IP, SRC_UUID  # noqa: E402
from vrt_fixtures import kill_vms_under, virsh, wait_for  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
BARE_PORT = 49300


def guest_boot():
    """(xml extra for <os>, QEMU argv) booting the test guest, or None."""
    import guest as g
    kernel, initrd = g.guest_paths()
    return kernel, initrd, g.KERNEL_CMDLINE


def domain_xml(name, mib, boot):
    if not boot:
        return migrate_env.domain_xml(name, mib)
    import guest as g
    return g.domain_xml(name, machine="pc", memory_mib=mib)


def job_stats(d, name):
    """Completed job's total time and downtime (ms) at daemon d."""
    out = virsh(d.uri, "domjobinfo", "--completed", name).stdout
    got = {}
    for line in out.splitlines():
        key, _, val = line.partition(":")
        got[key.strip()] = val.strip()
    return float(got["Time elapsed"].split()[0]), float(got["Total downtime"].split()[0])


def vrtd_round(ns_of, hosts, name, flags, results):
    """Moves name A->B and B->A; appends (total, downtime, wall) per move."""
    a, b = hosts
    for src, dst in ((a, b), (b, a)):
        uri = dst.tls.split("?")[0] if "--p2p" in flags else dst.tls
        t0 = time.perf_counter()
        r = ns_of[src].run(["virsh", "-q", "-c", src.tls, "migrate", "--live", *flags, name, uri],
                           timeout=300)
        wall = (time.perf_counter() - t0) * 1000
        if r.returncode != 0:
            raise RuntimeError(f"virsh migrate {' '.join(flags)}: {r.stderr.strip()}")
        total, down = job_stats(src, name)
        results.append((total, down, wall))


class Qmp:
    """A QMP connection to a QEMU's UNIX socket (capabilities negotiated)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        wait_for(lambda: self._connect(path), timeout=30, what="QEMU's QMP socket")
        self.f = self.s.makefile("rwb")
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def _connect(self, path):
        try:
            self.s.connect(path)
            return True
        except OSError:
            return False

    def read(self):
        while True:
            msg = json.loads(self.f.readline())
            if "event" not in msg:
                return msg

    def cmd(self, execute, **args):
        self.f.write(json.dumps({"execute": execute, "arguments": args}).encode() + b"\n")
        self.f.flush()
        r = self.read()
        if "error" in r:
            raise RuntimeError(f"QMP {execute}: {r['error']}")
        return r["return"]

    def close(self):
        self.s.close()


def bare_qemu(ns, work, tag, mib, boot, incoming=None):
    sock = os.path.join(work, f"{tag}.qmp")
    argv = [QEMU, "-machine", "pc,accel=tcg", "-m", str(mib), "-smp", "1", "-nodefaults", "-display", "none",
            "-serial", "null", "-qmp", f"unix:{sock},server=on,wait=off"]
    if boot:
        kernel, initrd, cmdline = boot
        argv += ["-kernel", kernel, "-initrd", initrd, "-append", cmdline]
    if incoming:
        argv += ["-incoming", incoming]
    proc = subprocess.Popen(ns.cmd(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, f"{tag}.log"), "ab"))
    return proc, Qmp(sock)


def bare_round(nets, work, rnd, mib, boot, results, settle):
    a, b = nets
    procs = []
    try:
        src = bare_qemu(a, work, f"bare-{rnd}-a", mib, boot)
        procs.append(src)
        time.sleep(settle)
        for n, (sns, dns, dip) in enumerate(((a, b, DST_IP), (b, a, SRC_IP))):
            dst = bare_qemu(dns, work, f"bare-{rnd}-{n}", mib, boot, incoming=f"tcp:{dip}:{BARE_PORT}")
            procs.append(dst)
            # The incoming side listens once its QMP answers.
            dst[1].cmd("query-status")
            src[1].cmd("migrate", uri=f"tcp:{dip}:{BARE_PORT}")
            while True:
                info = src[1].cmd("query-migrate")
                if info.get("status") == "completed":
                    break
                if info.get("status") in ("failed", "cancelled"):
                    raise RuntimeError(f"bare QEMU migration: {info}")
                time.sleep(0.01)
            results.append((float(info["total-time"]), float(info["downtime"]), None))
            src[1].cmd("quit")
            src[0].wait(30)
            src = dst
    finally:
        for proc, q in procs:
            q.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def med(results, i):
    vals = [r[i] for r in results if r[i] is not None]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--guest", action="store_true", help="boot the TCG test guest (tests/guest)")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds the machine runs before its first move (SeaBIOS idle, or the guest booting)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_migrate needs root (network namespaces)")
    boot = guest_boot() if args.guest else None
    settle = max(args.settle, 20.0) if args.guest else args.settle

    work = tempfile.mkdtemp(prefix="vrt-bench-mig-")
    a, b = migrate_env.make_net()
    daemons = []
    res = {"managed": [], "p2p": [], "bare": []}
    try:
        certs = migrate_env.make_certs(os.path.join(work, "pki"))
        src = migrate_env.start_vrtd(a, certs, certs.src, SRC_UUID, SRC_IP, os.path.join(work, "vrtd-a"))
        daemons.append(src)
        dst = migrate_env.start_vrtd(b, certs, certs.dst, DST_UUID, DST_IP, os.path.join(work, "vrtd-b"))
        daemons.append(dst)
        ns_of = {src: a, dst: b}
        xml = os.path.join(work, "dom.xml")
        for rnd in range(args.rounds):
            name = f"bench-mig-{rnd}"
            with open(xml, "w") as f:
                f.write(domain_xml(name, args.mib, boot))
            for d in (src, dst):
                virsh(d.uri, "define", xml)
            virsh(src.uri, "start", name)
            time.sleep(settle)
            vrtd_round(ns_of, (src, dst), name, (), res["managed"])
            vrtd_round(ns_of, (src, dst), name, ("--p2p",), res["p2p"])
            virsh(src.uri, "destroy", name)
            for d in (src, dst):
                virsh(d.uri, "undefine", name)
            bare_round((a, b), work, rnd, args.mib, boot, res["bare"], settle)
            print(f"round {rnd + 1}: " + ", ".join(
                f"{k} {res[k][-1][0]:.0f}/{res[k][-1][1]:.0f} ms" for k in res), file=sys.stderr)
    finally:
        for d in daemons:
            d.stop()
            kill_vms_under(d.root)
        a.close()
        b.close()
        shutil.rmtree(work, ignore_errors=True)

    cols = ["vrtd", "vrtd --p2p", "libvirtd", "bare QEMU"]
    rows = [("total ms", {"vrtd": med(res["managed"], 0), "vrtd --p2p": med(res["p2p"], 0),
                          "bare QEMU": med(res["bare"], 0)}),
            ("downtime ms", {"vrtd": med(res["managed"], 1), "vrtd --p2p": med(res["p2p"], 1),
                             "bare QEMU": med(res["bare"], 1)}),
            ("virsh wall ms", {"vrtd": med(res["managed"], 2), "vrtd --p2p": med(res["p2p"], 2)})]
    what = "test guest" if boot else "idle guest-less"
    print(f"Live migration, {args.mib} MiB {what} TCG machine, veth between two netns; "
          f"medians of {args.rounds} rounds x 2 moves")
    print("".ljust(16) + "".join(c.rjust(14) for c in cols))
    for label, vals in rows:
        print(label.ljust(16) + "".join(("n/a" if vals.get(c) is None else f"{vals[c]:.0f}").rjust(14) for c in cols))
    print("libvirtd: not measured (two libvirtds in private mount and network namespaces are not set up yet)")


if __name__ == "__main__":
    main()

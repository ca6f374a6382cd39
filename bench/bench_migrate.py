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

libvirtd: the same moves between two Debian libvirtds, each in a private
mount namespace (tests/lib/private_libvirtd.py: its own /run/libvirt,
/etc/libvirt, /var/lib/libvirt) inside its host's network namespace,
listening on TLS with the same certificates (libvirtd.conf's ca_file,
cert_file, key_file), its own host_uuid and migration address (qemu.conf).
Its figures are libvirt's: the total runs from its begin phase (the
destination's QEMU start included), the downtime from the source's pause
to the destination's resume; vrtd's total is its perform phase and its
downtime QEMU's own. The virsh wall times compare like with like.

The domain is a guest-less TCG machine (SeaBIOS finds nothing to boot and
idles); --guest boots the test guest's kernel (tests/guest) in it instead,
for vrtd and bare QEMU alike. Figures are medians over --rounds rounds
(each round: two moves per column). A daemon pair that fails is shown as
n/a, with why.

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
import private_libvirtd  # noqa: E402
from migrate_env import DST_IP, DST_UUID, SRC_IP, SRC_UUID  # noqa: E402
from vrt_fixtures import kill_vms_under, virsh, wait_for  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
LIBVIRTD = private_libvirtd.LIBVIRTD
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
        uri = dst.tls.split("?")[0] if "--p2p" in flags and not isinstance(dst, NsLibvirtd) else dst.tls
        t0 = time.perf_counter()
        r = ns_of[src].run(["virsh", "-q", "-c", src.tls, "migrate", "--live", *flags, name, uri],
                           timeout=300)
        wall = (time.perf_counter() - t0) * 1000
        if r.returncode != 0:
            raise RuntimeError(f"virsh migrate {' '.join(flags)}: {r.stderr.strip()}")
        total, down = job_stats(src, name)
        results.append((total, down, wall))


class NsLibvirtd:
    """Debian's libvirtd in a private mount namespace (tests/lib/
    private_libvirtd.py) inside network namespace ns, listening on TLS at
    address with its certificates from the work dir (libvirtd.conf's
    ca_file, cert_file, key_file: the host has no /etc/pki to mount over),
    its own host UUID and migration address (qemu.conf)."""

    def __init__(self, ns, certs, key_cert, host_uuid, address, workdir):
        os.makedirs(workdir)
        prep = private_libvirtd.prepare(workdir)
        # listen_tls = 0 in place (libvirtd takes a key's first value).
        with open(prep.conf) as f:
            conf = f.read().replace("listen_tls = 0", "listen_tls = 1")
        with open(prep.conf, "w") as f:
            f.write(conf + f'host_uuid = "{host_uuid}"\nca_file = "{certs.ca}"\n'
                    f'key_file = "{key_cert[0]}"\ncert_file = "{key_cert[1]}"\n')
        qemu_conf = os.path.join(workdir, private_libvirtd.PRIVATE_DIRS["/etc/libvirt"], "qemu.conf")
        with open(qemu_conf, "a") as f:
            f.write(f'migration_host = "{address}"\nmigration_address = "{address}"\n')
        self.root = workdir
        self.uri = prep.uri
        self.tls = f"qemu+tls://{address}/system?pkipath={certs.client}"
        self.proc = subprocess.Popen(ns.cmd(prep.argv + ["--listen"]), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "stderr"), "ab"))
        wait_for(lambda: self.proc.poll() is not None or virsh(self.uri, "version", check=False).returncode == 0,
                 timeout=600, what="libvirtd")
        if self.proc.poll() is not None:
            raise RuntimeError(f"libvirtd exited: {private_libvirtd_log(workdir)}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def private_libvirtd_log(workdir):
    try:
        with open(os.path.join(workdir, "libvirtd.log"), errors="replace") as f:
            return "".join(f.readlines()[-10:])
    except OSError:
        return "(no log)"


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


def kill_pidfiles(root):
    """Kills the QEMUs whose pid files a libvirtd left under its private
    /run/libvirt (its QEMUs' command lines do not name the work dir)."""
    import glob
    import signal
    for pf in glob.glob(os.path.join(root, "ns-run", "qemu", "*.pid")):
        try:
            with open(pf) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


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
    res = {k: [] for k in ("vrtd", "vrtd --p2p", "libvirtd", "libvirtd --p2p", "bare QEMU")}
    why_not = {}
    try:
        certs = migrate_env.make_certs(os.path.join(work, "pki"))
        xml = os.path.join(work, "dom.xml")

        def start_vrtd(ns, key_cert, host_uuid, ip, tag):
            return migrate_env.start_vrtd(ns, certs, key_cert, host_uuid, ip, os.path.join(work, tag))

        def start_libvirtd(ns, key_cert, host_uuid, ip, tag):
            return NsLibvirtd(ns, certs, key_cert, host_uuid, ip, os.path.join(work, tag))

        for kind, start in (("vrtd", start_vrtd), ("libvirtd", start_libvirtd)):
            daemons = []
            try:
                src = start(a, certs.src, SRC_UUID, SRC_IP, f"{kind}-a")
                daemons.append(src)
                dst = start(b, certs.dst, DST_UUID, DST_IP, f"{kind}-b")
                daemons.append(dst)
                ns_of = {src: a, dst: b}
                for rnd in range(args.rounds):
                    name = f"bench-mig-{rnd}"
                    with open(xml, "w") as f:
                        f.write(domain_xml(name, args.mib, boot))
                    for d in (src, dst):
                        virsh(d.uri, "define", xml)
                    virsh(src.uri, "start", name)
                    time.sleep(settle)
                    vrtd_round(ns_of, (src, dst), name, (), res[kind])
                    vrtd_round(ns_of, (src, dst), name, ("--p2p",), res[f"{kind} --p2p"])
                    virsh(src.uri, "destroy", name)
                    for d in (src, dst):
                        virsh(d.uri, "undefine", name)
                    print(f"{kind} round {rnd + 1}: {res[kind][-1][0]:.0f}/{res[kind][-1][1]:.0f} ms", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - shown in the table's footnote
                why_not[kind] = f"{type(e).__name__}: {e}"
                if kind == "libvirtd" and daemons:
                    why_not[kind] += "\nits log: " + private_libvirtd_log(daemons[0].root)
                res[kind] = res[f"{kind} --p2p"] = []
            finally:
                for d in daemons:
                    d.stop()
                    kill_vms_under(d.root)
                    kill_pidfiles(d.root)
        for rnd in range(args.rounds):
            bare_round((a, b), work, rnd, args.mib, boot, res["bare QEMU"], settle)
    finally:
        a.close()
        b.close()
        shutil.rmtree(work, ignore_errors=True)

    cols = list(res)
    rows = [("total ms", 0), ("downtime ms", 1), ("virsh wall ms", 2)]
    what = "test guest" if boot else "idle guest-less"
    print(f"Live migration, {args.mib} MiB {what} TCG machine, veth between two netns; "
          f"medians of {args.rounds} rounds x 2 moves")
    print("".ljust(14) + "".join(c.rjust(15) for c in cols))
    for label, i in rows:
        cells = (med(res[c], i) for c in cols)
        print(label.ljust(14) + "".join(("n/a" if v is None else f"{v:.0f}").rjust(15) for v in cells))
    print("vrtd's total is its perform phase and its downtime QEMU's own; libvirtd's total runs from its"
          " begin phase (the destination's QEMU start included) and its downtime from the source's pause"
          " to the destination's resume: compare the virsh wall times")
    for kind, why in why_not.items():
        print(f"{kind}: not measured: {why}")

if __name__ == "__main__":
    main()

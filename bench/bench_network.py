#!/usr/bin/python3
"""Virtual networks, vrtd beside Debian's libvirtd (issue 13, item 7).

Each daemon runs in a network namespace of its own (`ip netns exec`), so
its bridge, dnsmasq and firewall rules touch no host interface or ruleset;
libvirtd also in its private mount namespace (tests/lib/private_libvirtd.py).
The same python3-libvirt client measures:

(a) the default NAT network (Debian's default.xml): start (create) and
    destroy times, median of --rounds;
(b) a tap-backed `<interface type='network'>` on a running guest-less VM
    (pc, TCG or KVM): the time of one live attach (tap, port, getfd,
    netdev_add, device_add), median over a few attaches (a guest-less QEMU
    never acknowledges an unplug, so it is not used for detaches);
(c) attach+detach cycles per second of that interface on the TCG test
    guest (tests/guest, q35 with root ports), which acknowledges each
    unplug: a cycle is the attach, the detach and the wait until the
    interface has left the live XML (tap and port released), so both
    daemons are timed to the same end whether their detach returns before
    or after the guest's acknowledgement.

Prints metric | vrtd | libvirtd; never asserts timings. Run as root with
/usr/bin/python3. A daemon that cannot run is reported with its reason.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402 - also puts tests/lib on the path
import libvirt  # noqa: E402

DEFAULT_XML = "/usr/share/libvirt/networks/default.xml"
if not os.path.exists(DEFAULT_XML):
    DEFAULT_XML = os.path.join(common.REPO, "tests", "data", "network", "default.xml")
QEMU = os.environ.get("VRT_QEMU", "/usr/bin/qemu-system-x86_64")
ATTACHES = 6  # pc has 32 slots; keep well below
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
GUEST_DIR = os.path.join(common.REPO, "tests", "guest")
UNPLUG_TIMEOUT_S = 30


def netns_add():
    name = f"vrt-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    return name


def netns_del(name):
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), 9)  # what is left in our namespace is ours
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", name])


def start_in_netns(which, ns):
    if which == "vrtd":
        d = tempfile.mkdtemp(prefix="vrt-bench-vrtd-")
        os.chmod(d, 0o755)  # dnsmasq (nobody) reads its hosts files under it
        argv = ["ip", "netns", "exec", ns, common.VRTD, "--root", d]
        uri = f"qemu+unix:///system?socket={d}/run/vrt/vrtd-sock"
        return common.Daemon("vrtd", argv, uri, d, os.path.join(d, "vrtd.stderr.log"))
    if not os.path.exists(common.LIBVIRTD):
        raise FileNotFoundError(f"{common.LIBVIRTD} not found")
    d = tempfile.mkdtemp(prefix="vrt-bench-libvirtd-")
    os.chmod(d, 0o755)
    prep = common.private_libvirtd.prepare(d, log_level=common.LIBVIRTD_LOG_LEVEL, host_like=common.HOST_LIKE)
    return common.Daemon("libvirtd", ["ip", "netns", "exec", ns, *prep.argv], prep.uri, d,
                         os.path.join(d, "stderr.log"))


def guestless(name):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
            f"<devices><emulator>{QEMU}</emulator><memballoon model='none'/></devices></domain>")


def iface(i):
    return (f"<interface type='network'><source network='default'/>"
            f"<mac address='52:54:00:be:00:{i:02x}'/><model type='virtio'/></interface>")


def iface_count(dom):
    return dom.XMLDesc(0).count("<interface ")


def guest_cycles(conn, n, workdir):
    """Boots the test guest on the default network's daemon and times n
    attach+detach cycles of iface(1); returns cycles/s and the medians."""
    sys.path.insert(0, GUEST_DIR)
    import guest  # noqa: E402 - tests/guest/guest.py builds or finds the cached guest
    kernel, initrd = guest.guest_paths()
    # a world-readable copy: libvirtd's QEMU runs as libvirt-qemu
    gdir = os.path.join(workdir, "guest")
    os.makedirs(gdir, exist_ok=True)
    os.chmod(workdir, 0o755)
    os.chmod(gdir, 0o777)
    k, i = os.path.join(gdir, "kernel"), os.path.join(gdir, "initrd.img")
    shutil.copyfile(kernel, k)
    shutil.copyfile(initrd, i)
    console = os.path.join(gdir, "console.log")
    xml = guest.domain_xml("vrtbench-net-guest", machine="q35", console_log=console, root_ports=2, emulator=QEMU)
    dom = conn.defineXML(xml.replace(kernel, k).replace(initrd, i))
    dom.create()
    try:
        guest.wait_file_marker(console)
        base = iface_count(dom)
        att, det = [], []
        t0 = None
        for c in range(n + 1):  # the first cycle warms the guest's virtio-net driver up
            if c == 1:
                t0 = time.perf_counter()
            t = time.perf_counter()
            dom.attachDeviceFlags(iface(1), LIVE)
            att.append(time.perf_counter() - t)
            t = time.perf_counter()
            dom.detachDeviceFlags(iface(1), LIVE)
            deadline = time.monotonic() + UNPLUG_TIMEOUT_S
            while iface_count(dom) != base:
                if time.monotonic() > deadline:
                    raise TimeoutError("the guest did not release the interface")
                time.sleep(0.005)
            det.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
        return {"cycles/s": n / total, "cycle attach ms": statistics.median(att[1:]) * 1e3,
                "cycle detach ms": statistics.median(det[1:]) * 1e3}
    finally:
        dom.destroy()
        dom.undefine()


def bench_one(which, rounds, cycles):
    ns = netns_add()
    daemon = None
    out = {}
    try:
        daemon = start_in_netns(which, ns)
        daemon.wait_first_answer()
        conn = libvirt.open(daemon.uri)
        net = conn.networkDefineXML(open(DEFAULT_XML).read())
        starts, stops = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            net.create()
            starts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            net.destroy()
            stops.append(time.perf_counter() - t0)
        out["net start ms"] = statistics.median(starts) * 1e3
        out["net destroy ms"] = statistics.median(stops) * 1e3
        net.create()
        dom = conn.defineXML(guestless(f"vrtbench-net-{which}"))
        dom.create()
        times = []
        for i in range(ATTACHES):
            t0 = time.perf_counter()
            dom.attachDeviceFlags(iface(i), LIVE)
            times.append(time.perf_counter() - t0)
        out["tap attach ms"] = statistics.median(times) * 1e3
        dom.destroy()
        dom.undefine()
        if cycles:
            try:
                gwork = tempfile.mkdtemp(prefix="vrt-bench-netguest-")
                try:
                    out.update(guest_cycles(conn, cycles, gwork))
                finally:
                    shutil.rmtree(gwork, ignore_errors=True)
            except Exception as e:  # noqa: BLE001 - the rest was measured
                out["cycles error"] = f"{type(e).__name__}: {e}"
        net.destroy()
        net.undefine()
        conn.close()
    except Exception as e:  # a daemon that cannot run here: say why
        out["error"] = f"{type(e).__name__}: {e}"
        if daemon:
            out["error"] += "\n" + common.tail(daemon.log_path)
    finally:
        if daemon:
            daemon.stop()
        netns_del(ns)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--daemons", default="vrtd,libvirtd")
    ap.add_argument("--cycles", type=int, default=10,
                    help="attach+detach cycles on the test guest (0: none; default 10)")
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("ip"):
        sys.exit("needs root and iproute2 (network namespaces)")
    daemons = args.daemons.split(",")
    results = {d: bench_one(d, args.rounds, args.cycles) for d in daemons}
    for d, r in results.items():
        if "error" in r:
            print(f"{d}: not measured: {r['error']}")
        if "cycles error" in r:
            print(f"{d}: cycles not measured: {r['cycles error']}")
    rows = [(m, {d: results[d].get(m) for d in daemons}, ".2f" if m == "cycles/s" else ".1f")
            for m in ("net start ms", "net destroy ms", "tap attach ms", "cycles/s", "cycle attach ms",
                      "cycle detach ms")]
    common.print_table(f"default NAT network, {args.rounds} rounds; tap attach median of {ATTACHES}; "
                       f"{args.cycles} attach+detach cycles on the TCG test guest (detach timed until the "
                       "interface left the live XML)", rows, daemons)


if __name__ == "__main__":
    main()

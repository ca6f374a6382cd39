#!/usr/bin/python3
"""Live attach/detach of network interfaces, vrtd beside Debian's libvirtd (issue 4, item 6).

The same python3-libvirt client (attachDeviceFlags / detachDeviceFlags with
VIR_DOMAIN_AFFECT_LIVE) measures:

(a) hostdev: attach+detach cycles per second of an `<interface type='network'>`
    from a hostdev pool (an SR-IOV VF with MAC and VLAN) on the simulated
    SR-IOV host (tests/hostsim) with the QMP emulator (tests/qmpemu) in
    QEMU's place, the emulator acknowledging each unplug after
    --ack-ms (default 0). vrtd only: libvirtd cannot drive the simulated host.
(b) user-mode virtio-net on real QEMU, guest-less (pc, kvm when /dev/kvm
    opens): time per attach (nobody acknowledges an unplug there, so no
    cycles), then one detach the guest never acknowledges: libvirt and vrtd
    both return after about 5 s with the device still present.
(c) user-mode virtio-net on real QEMU running the test guest (tests/guest,
    TCG, q35 with root ports): attach+detach cycles per second, the guest
    acknowledging each unplug.

Prints metric | vrtd | libvirtd | ratio; never asserts timings. Run as root
with /usr/bin/python3. libvirtd sees a qemu.conf with stdio_handler = "file"
(see bench_domains.py); nothing outside its mount namespace changes.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402 - also puts tests/lib on the path
import qmpemu_wrapper  # noqa: E402
import bench_domains  # noqa: E402
import libvirt  # noqa: E402

PY = "/usr/bin/python3"
QEMU = bench_domains.QEMU
HOSTSIM = os.path.join(common.REPO, "tests", "hostsim", "hostsim")
GUEST_DIR = os.path.join(common.REPO, "tests", "guest")
PREFIX = bench_domains.PREFIX
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
UNPLUG_TARGET_S = 5.0
GUESTLESS_ATTACHES = 8     # pc has 32 slots; keep well below
HOSTSIM_TIMEOUT_S = 60

POOL_IF = ("<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='pool'/>"
           "<vlan><tag id='42'/></vlan></interface>")


def user_if(i):
    return (f"<interface type='user'><mac address='52:54:00:bc:{i // 256:02x}:{i % 256:02x}'/>"
            "<model type='virtio'/></interface>")


def iface_count(dom):
    return dom.XMLDesc(0).count("<interface ")


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def cycles(dom, xml, n):
    """attach+detach n times; returns (cycles/s, median attach ms, median detach ms)."""
    base = iface_count(dom)
    att, det = [], []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        dom.attachDeviceFlags(xml, LIVE)
        att.append(time.perf_counter() - t)
        t = time.perf_counter()
        dom.detachDeviceFlags(xml, LIVE)
        det.append(time.perf_counter() - t)
        if iface_count(dom) != base:
            # Not acknowledged within the daemon's wait: a cycle that did not happen.
            raise RuntimeError("detach returned with the interface still present")
    total = time.perf_counter() - t0
    return n / total, statistics.median(att) * 1e3, statistics.median(det) * 1e3


# ---------------------------------------------------------------- (a) hostdev on the simulated host

def hostsim(*args):
    r = subprocess.run([PY, HOSTSIM, *args], capture_output=True, text=True, timeout=HOSTSIM_TIMEOUT_S)
    if r.returncode != 0:
        raise RuntimeError(f"hostsim {args[0]} failed: {r.stderr.strip()}")
    return r.stdout


def kill_leftovers(root):
    """QEMU stand-ins of a root we made, should vrtd have left any."""
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if root.encode() in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def bench_hostdev(n, ack_ms):
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        raise RuntimeError("hostsim needs root and /dev/fuse")
    root = tempfile.mkdtemp(prefix="vrt-bench-hostdev-")
    host = os.path.join(root, "host")
    os.makedirs(host)
    vrtd_dir = os.path.join(root, "vrtd")
    os.makedirs(vrtd_dir)
    hostsim("start", host, "--pfs", "1", "--vfs", "4")
    daemon = None
    try:
        daemon = common.start_vrtd(workdir=vrtd_dir, extra_args=["--host-root", host])
        daemon.wait_first_answer()
        conn = libvirt.open(daemon.uri)
        net = conn.networkDefineXML("<network><name>pool</name><forward mode='hostdev' managed='yes'>"
                                    "<pf dev='ens1f0'/></forward></network>")
        net.create()
        cfg = os.path.join(root, "qmpemu.json")
        with open(cfg, "w") as f:
            json.dump({"device_del_ack_ms": ack_ms, "vfio_sysfs_root": host}, f)
        emu = qmpemu_wrapper.write(os.path.join(root, "g-qemu"), cfg, os.path.join(root, "qmp.log"))
        dom = conn.defineXML(f"<domain type='qemu'><name>{PREFIX}hd</name><memory unit='MiB'>64</memory>"
                             "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
                             f"<devices><emulator>{emu}</emulator><controller type='usb' model='none'/>"
                             "<memballoon model='none'/></devices></domain>")
        dom.create()
        cycles(dom, POOL_IF, 2)  # warm-up
        cpu0 = common.cpu_ticks(daemon.pid)
        per_s, att_ms, det_ms = cycles(dom, POOL_IF, n)
        cpu_ms = (common.cpu_ticks(daemon.pid) - cpu0) / common.CLK_TCK / n * 1e3
        dom.destroy()
        dom.undefine()
        net.destroy()
        net.undefine()
        conn.close()
        return {"hd_per_s": per_s, "hd_attach_ms": att_ms, "hd_detach_ms": det_ms, "hd_cpu_ms": cpu_ms}
    finally:
        if daemon:
            daemon.stop(keep_dir=True)
        kill_leftovers(root)
        subprocess.run([PY, HOSTSIM, "stop", host], capture_output=True, timeout=HOSTSIM_TIMEOUT_S)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- (b), (c) real QEMU

def guestless_xml(name, vtype):
    return (f"<domain type='{vtype}'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
            f"<devices><emulator>{QEMU}</emulator><memballoon model='none'/></devices></domain>")


def bench_guestless(conn, vtype):
    dom = conn.defineXML(guestless_xml(PREFIX + "gl", vtype))
    dom.create()
    try:
        times = []
        for i in range(GUESTLESS_ATTACHES):
            t = time.perf_counter()
            dom.attachDeviceFlags(user_if(i), LIVE)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        dom.detachDeviceFlags(user_if(0), LIVE)
        unacked = time.perf_counter() - t
        still = "52:54:00:bc:00:00" in dom.XMLDesc(0)
        return {"gl_attach_ms": statistics.median(times[1:]) * 1e3, "gl_unacked_s": unacked,
                "gl_still_present": still}
    finally:
        dom.destroy()
        dom.undefine()


def bench_guest(conn, n, workdir):
    sys.path.insert(0, GUEST_DIR)
    import guest  # noqa: E402 - tests/guest/guest.py builds or finds the cached guest
    kernel, initrd = guest.guest_paths()
    # A private copy in a world-readable dir: libvirtd's QEMU runs as
    # libvirt-qemu and libvirt relabels the files it is given.
    gdir = os.path.join(workdir, "guest")
    os.makedirs(gdir, exist_ok=True)
    os.chmod(workdir, 0o755)
    os.chmod(gdir, 0o777)
    k, i = os.path.join(gdir, "kernel"), os.path.join(gdir, "initrd.img")
    shutil.copyfile(kernel, k)
    shutil.copyfile(initrd, i)
    console = os.path.join(gdir, "console.log")
    xml = guest.domain_xml(PREFIX + "guest", machine="q35", console_log=console, root_ports=2)
    xml = xml.replace(kernel, k).replace(initrd, i)
    dom = conn.defineXML(xml)
    dom.create()
    try:
        boot = guest.wait_file_marker(console)
        cycles(dom, user_if(1), 1)  # warm-up; the virtio-net driver is loaded by then
        per_s, att_ms, det_ms = cycles(dom, user_if(1), n)
        return {"g_per_s": per_s, "g_attach_ms": att_ms, "g_detach_ms": det_ms, "g_boot_s": boot}
    finally:
        dom.destroy()
        dom.undefine()


def bench_daemon(name, vtype, args):
    daemon = bench_domains.start_daemon(name)
    res = {}
    workdir = tempfile.mkdtemp(prefix=f"vrt-bench-hotplug-{name}-")
    try:
        daemon.wait_first_answer()
        conn = libvirt.open(daemon.uri)
        bench_domains.cleanup_domains(conn)
        for label, fn in (("guest-less", lambda: bench_guestless(conn, vtype)),
                          ("test guest", lambda: bench_guest(conn, args.guest_cycles, workdir))):
            try:
                res.update(fn())
            except Exception as e:  # noqa: BLE001 - show what was measured
                print(f"{name}: {label}: {type(e).__name__}: {e}\n  log: {daemon.log_path}", file=sys.stderr)
                bench_domains.cleanup_domains(conn)
        conn.close()
    finally:
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return res


def fmt(v, f):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return format(v, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["vrtd", "libvirtd"])
    ap.add_argument("--cycles", type=int, default=100, help="hostdev attach+detach cycles (default 100)")
    ap.add_argument("--guest-cycles", type=int, default=10,
                    help="virtio-net cycles with the test guest (default 10)")
    ap.add_argument("--ack-ms", type=int, default=0, help="emulator's unplug acknowledgement delay")
    ap.add_argument("--skip", action="append", default=[], choices=["hostdev", "real"])
    args = ap.parse_args()

    vtype = "kvm" if bench_domains.kvm_usable() else "qemu"
    daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
    results = {d: {} for d in ("vrtd", "libvirtd")}
    if "vrtd" in daemons and "hostdev" not in args.skip:
        print("measuring vrtd: hostdev on the simulated host ...", file=sys.stderr)
        try:
            results["vrtd"].update(bench_hostdev(args.cycles, args.ack_ms))
        except Exception as e:  # noqa: BLE001
            print(f"vrtd: hostdev: {type(e).__name__}: {e}", file=sys.stderr)
    if "real" not in args.skip:
        for d in daemons:
            print(f"measuring {d}: virtio-net on real QEMU ...", file=sys.stderr)
            try:
                results[d].update(bench_daemon(d, vtype, args))
            except Exception as e:  # noqa: BLE001
                print(f"{d}: {type(e).__name__}: {e}", file=sys.stderr)

    v, l_ = results["vrtd"], results["libvirtd"]
    rows = [
        (f"(a) hostdev VF attach+detach cycles/s (ack {args.ack_ms} ms)", "hd_per_s", ".1f", True, "vrtd only"),
        ("(a) hostdev attach, ms (median)", "hd_attach_ms", ".1f", False, ""),
        ("(a) hostdev detach, ms (median)", "hd_detach_ms", ".1f", False, ""),
        ("(a) vrtd CPU per cycle, ms", "hd_cpu_ms", ".2f", False, ""),
        (f"(b) guest-less {vtype}: user virtio-net attach, ms", "gl_attach_ms", ".1f", False,
         "libvirtd ~9 ms (issue 4)"),
        ("(b) detach never acknowledged: returns after, s", "gl_unacked_s", ".2f", None,
         f"~{UNPLUG_TARGET_S:.0f} s for both"),
        ("(b) device still present after it", "gl_still_present", "", None, "yes for both"),
        ("(c) test guest (TCG q35): attach+detach cycles/s", "g_per_s", ".2f", True, ""),
        ("(c) test guest: attach, ms (median)", "g_attach_ms", ".1f", False, ""),
        ("(c) test guest: detach incl. guest ack, ms (median)", "g_detach_ms", ".1f", False, ""),
        ("(c) test guest boot to READY, s", "g_boot_s", ".2f", None, ""),
    ]
    w = max(len(r[0]) for r in rows) + 2
    print(f"\nbench_hotplug: {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{args.cycles} hostdev cycles, {args.guest_cycles} guest cycles")
    print("metric".ljust(w) + "vrtd".rjust(10) + "libvirtd".rjust(10) + "ratio".rjust(8) + "   note")
    for label, key, f, higher, note in rows:
        a, b = v.get(key), l_.get(key)
        ratio = ""
        if higher is not None and a and b and not isinstance(a, bool):
            ratio = f"{(a / b if higher else b / a):.1f}x"
        print(label.ljust(w) + fmt(a, f).rjust(10) + fmt(b, f).rjust(10) + ratio.rjust(8) + "   " + note)
    print("ratio = how many times vrtd is ahead of libvirtd (>1: vrtd better)")


if __name__ == "__main__":
    main()

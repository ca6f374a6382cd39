#!/usr/bin/python3
"""What confinement costs a domain start (issue 15, item 6).

Three daemons in the same run, driven by the same python3-libvirt client:
vrtd with QEMU confined (its defaults: libvirt-qemu, DAC labels remembered
in xattrs, -sandbox, a private mount namespace with a minimal /dev), vrtd
with confinement off (qemu.conf: user "root", dynamic_ownership 0,
seccomp_sandbox 0, namespaces []), and Debian's libvirtd (private, see
bench/common.py). Each round starts (createXML until it returns: QEMU runs)
and destroys a guest-less 128 MiB q35 domain with one root-owned 0600 raw
disk, the daemons taking turns. Prints the median and spread of each and
confinement's cost (confined - unconfined) beside the target (at most
10 ms). It never asserts timings. Run as root with /usr/bin/python3:

    bench/bench_confine.py [--rounds N] [--no-libvirtd]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import libvirt  # noqa: E402

TARGET_MS = 10.0
UNCONFINED = 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nseccomp_sandbox = 0\nnamespaces = [ ]\n'


def xml(name, disk):
    vtype = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"
    return f"""<domain type='{vtype}'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{disk}'/>
<target dev='vda' bus='virtio'/></disk><memballoon model='none'/></devices></domain>"""


def vrtd(qemu_conf):
    d = tempfile.mkdtemp(prefix="vrt-bench-confine-")
    os.chmod(d, 0o755)
    if qemu_conf is not None:
        os.makedirs(os.path.join(d, "etc", "vrt"), exist_ok=True)
        with open(os.path.join(d, "etc", "vrt", "qemu.conf"), "w") as f:
            f.write(qemu_conf)
    return common.start_vrtd(workdir=d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--no-libvirtd", action="store_true")
    args = ap.parse_args()

    imgdir = tempfile.mkdtemp(prefix="vrt-bench-img-", dir="/var/tmp")
    os.chmod(imgdir, 0o755)
    daemons = {"vrtd confined": vrtd(None), "vrtd unconfined": vrtd(UNCONFINED)}
    if not args.no_libvirtd:
        daemons["libvirtd"] = common.start_libvirtd()
    conns, disks, times = {}, {}, {k: [] for k in daemons}
    try:
        for i, (label, d) in enumerate(daemons.items()):
            d.wait_first_answer()
            conns[label] = libvirt.open(d.uri)
            disks[label] = os.path.join(imgdir, f"d{i}.img")
            with open(disks[label], "wb") as f:
                f.truncate(16 << 20)
            os.chmod(disks[label], 0o600)
        for r in range(args.rounds + 1):  # round 0 warms up
            for label, conn in conns.items():
                t0 = time.perf_counter()
                dom = conn.createXML(xml(f"vrtbench-confine-{r}", disks[label]), 0)
                elapsed = (time.perf_counter() - t0) * 1000
                dom.destroy()
                st = os.stat(disks[label])
                assert st.st_uid == 0, f"{label}: the disk was not given back to root"
                if r:
                    times[label].append(elapsed)
    finally:
        for label, conn in conns.items():
            conn.close()
        for d in daemons.values():
            d.stop()
        shutil.rmtree(imgdir, ignore_errors=True)

    print(f"domain start (createXML until running), {args.rounds} rounds, ms:")
    for label, t in times.items():
        print(f"  {label:16} median {statistics.median(t):7.1f}  min {min(t):7.1f}  max {max(t):7.1f}")
    cost = statistics.median(times["vrtd confined"]) - statistics.median(times["vrtd unconfined"])
    print(f"confinement's cost: {cost:+.1f} ms (target: at most {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()

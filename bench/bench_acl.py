#!/usr/bin/python3
"""listAllDomains with polkit access control on and off, vrtd beside Debian's
libvirtd (issue 14, item 7).

With access_drivers = [ "polkit" ] both daemons ask polkitd about every
listed domain (domain.getattr, libvirt's @aclfilter) besides the call's own
connect.search-domains, one D-Bus round trip each. The benchmark defines
--count guest-less domains in each daemon, then times listAllDomains (calls
per second, daemon CPU µs per call) with access control off and on. polkitd
runs on a private system bus in a private mount namespace
(tests/integration/test_polkit.py's PolkitBus), and the client runs as root:
polkitd authorizes uid 0 without running rules, so the figures are the
daemons' own cost per checked object plus polkitd's round trip, not the
rules' JavaScript. Prints a table; it never asserts timings. Run as root.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import libvirt  # noqa: E402
import private_libvirtd  # noqa: E402

sys.path.insert(0, os.path.join(common.REPO, "tests", "integration"))
import test_polkit  # noqa: E402

XML = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type></os><devices><memballoon model='none'/></devices></domain>"""


def start(kind, acl):
    extra = 'access_drivers = [ "polkit" ]\n' if acl else ""
    if kind == "vrtd":
        return common.start_vrtd(config=extra)
    d = tempfile.mkdtemp(prefix="vrt-bench-libvirtd-")
    prep = private_libvirtd.prepare(d, log_level=common.LIBVIRTD_LOG_LEVEL, host_like=common.HOST_LIKE)
    with open(prep.conf, "a") as f:
        f.write(extra)
    return common.Daemon("libvirtd", prep.argv, prep.uri, d, os.path.join(d, "stderr.log"))


def measure(kind, acl, count, seconds):
    daemon = start(kind, acl)
    try:
        daemon.wait_first_answer()
        conn = libvirt.open(daemon.uri)
        have = len(conn.listAllDomains())
        for i in range(have, count):
            conn.defineXML(XML.format(name=f"acl{i:05d}"))
        assert len(conn.listAllDomains()) == count
        n = 0
        cpu0 = daemon.cpu_seconds()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds or n < 3:
            conn.listAllDomains()
            n += 1
        elapsed = time.perf_counter() - t0
        cpu = daemon.cpu_seconds() - cpu0
        for d in conn.listAllDomains():
            d.undefine()
        conn.close()
        return n / elapsed, cpu / n * 1e6
    finally:
        daemon.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--daemons", default="vrtd,libvirtd")
    args = ap.parse_args()
    pk = test_polkit.PolkitBus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = pk.address
    try:
        daemons = args.daemons.split(",")
        rows = {}
        for kind in daemons:
            for acl in (False, True):
                rate, cpu_us = measure(kind, acl, args.count, args.seconds)
                rows.setdefault(f"calls/s, ACL {'on' if acl else 'off'}", {})[kind] = rate
                rows.setdefault(f"daemon CPU µs/call, ACL {'on' if acl else 'off'}", {})[kind] = cpu_us
        common.print_table(f"listAllDomains of {args.count} domains", [(k, v, ".1f") for k, v in rows.items()],
                           daemons)
    finally:
        pk.close()


if __name__ == "__main__":
    main()

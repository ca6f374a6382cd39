#!/usr/bin/python3
"""Bulk domain statistics, vrtd beside Debian's libvirtd (issue 11).

The same python3-libvirt client starts --count guest-less 128 MiB q35
domains (type kvm when /dev/kvm opens, else qemu; no disks, no NICs, no
balloon) on a private vrtd and a private libvirtd (bench/common.py), then
calls getAllDomainStats() with the default groups (every group the daemon
answers) and with the groups both answer the same way (state, cpu-total,
balloon, vcpu, interface, block) in a loop for about LOOP_SECONDS, and
prints per daemon: calls/s, the daemon's CPU per call (utime+stime of all
its threads from /proc, clock ticks), its CPU per call and domain, the
parameters per record, and the QEMU processes' CPU over the loop (what the
queries cost the guests' side). Also domainListGetStats of one domain.
It never asserts timings. Run as root with /usr/bin/python3; a daemon that
cannot be started is shown as n/a.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import libvirt  # noqa: E402

QEMU = os.environ.get("VRT_QEMU", "/usr/bin/qemu-system-x86_64")
PREFIX = "vrtbench-st-"
MEMORY_MIB = 128
LOOP_SECONDS = float(os.environ.get("BENCH_LOOP_SECONDS", "6"))
MIN_CALLS = 10
WARMUP = 3
GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON
          | libvirt.VIR_DOMAIN_STATS_VCPU | libvirt.VIR_DOMAIN_STATS_INTERFACE | libvirt.VIR_DOMAIN_STATS_BLOCK)


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def domain_xml(name, vtype):
    return (f"<domain type='{vtype}'><name>{name}</name>"
            f"<memory unit='MiB'>{MEMORY_MIB}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
            f"<devices><emulator>{QEMU}</emulator><memballoon model='none'/></devices></domain>")


def qemu_pids(conn):
    """Pids of the running benchmark domains' QEMUs, from /proc (their -name)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and "qemu-system" in os.path.basename(argv[0]) and any(PREFIX in a for a in argv):
            pids.append(int(entry))
    return pids


def ticks_sum(pids):
    total = 0
    for p in pids:
        try:
            total += common.cpu_ticks(p)
        except (OSError, ValueError):
            pass
    return total


def timed_loop(daemon, fn, qpids):
    for _ in range(WARMUP):
        fn()
    cpu0, q0 = common.cpu_ticks(daemon.pid), ticks_sum(qpids)
    t0 = time.perf_counter()
    calls = 0
    while calls < MIN_CALLS or time.perf_counter() - t0 < LOOP_SECONDS:
        fn()
        calls += 1
    elapsed = time.perf_counter() - t0
    cpu = (common.cpu_ticks(daemon.pid) - cpu0) / common.CLK_TCK
    qcpu = (ticks_sum(qpids) - q0) / common.CLK_TCK
    return calls / elapsed, cpu / calls * 1e6, qcpu / calls * 1e6


def cleanup(conn):
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(PREFIX):
            try:
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
            except libvirt.libvirtError:
                pass


def bench_daemon(name, vtype, count):
    daemon = common.STARTERS[name]()
    out = {}
    try:
        daemon.wait_first_answer()
        conn = libvirt.open(daemon.uri)
        try:
            t0 = time.perf_counter()
            doms = []
            for i in range(count):
                dom = conn.defineXML(domain_xml(f"{PREFIX}{i:04d}", vtype))
                dom.create()
                doms.append(dom)
            out["start_all_s"] = time.perf_counter() - t0
            qpids = qemu_pids(conn)
            recs = conn.getAllDomainStats(0)
            out["records"] = len(recs)
            out["params_per_record"] = sum(len(p) for _, p in recs) / max(1, len(recs))
            for key, fn in (("all", lambda: conn.getAllDomainStats(0)),
                            ("groups", lambda: conn.getAllDomainStats(GROUPS)),
                            ("one", lambda: conn.domainListGetStats([doms[0]], GROUPS))):
                per_s, cpu_us, qemu_us = timed_loop(daemon, fn, qpids)
                out[f"{key}_per_s"] = per_s
                out[f"{key}_cpu_us"] = cpu_us
                out[f"{key}_qemu_us"] = qemu_us
            out["all_cpu_us_per_dom"] = out["all_cpu_us"] / max(1, count)
            out["groups_cpu_us_per_dom"] = out["groups_cpu_us"] / max(1, count)
            out["rss_mb"] = common.rss_kib(daemon.pid) / 1024
        finally:
            cleanup(conn)
            conn.close()
    finally:
        daemon.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["vrtd", "libvirtd"])
    ap.add_argument("--count", type=int, default=100, help="running domains (default 100)")
    args = ap.parse_args()

    vtype = "kvm" if kvm_usable() else "qemu"
    daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
    print(f"domain type {vtype}, {args.count} running domains, {os.cpu_count()} CPUs", file=sys.stderr)
    results = {}
    for d in daemons:
        print(f"measuring {d} ...", file=sys.stderr)
        try:
            results[d] = bench_daemon(d, vtype, args.count)
        except (OSError, RuntimeError, TimeoutError, libvirt.libvirtError) as e:
            print(f"{d}: {e}", file=sys.stderr)
            results[d] = {}

    n = args.count
    rows = [
        (f"start {n} domains, s", "start_all_s", ".1f"),
        ("records (default groups)", "records", "d"),
        ("parameters per record (default groups)", "params_per_record", ".1f"),
        ("getAllDomainStats(0) per s", "all_per_s", ",.1f"),
        ("  daemon CPU us/call", "all_cpu_us", ",.0f"),
        ("  daemon CPU us/call/domain", "all_cpu_us_per_dom", ",.1f"),
        ("  QEMUs' CPU us/call", "all_qemu_us", ",.0f"),
        ("getAllDomainStats(6 common groups) per s", "groups_per_s", ",.1f"),
        ("  daemon CPU us/call", "groups_cpu_us", ",.0f"),
        ("  daemon CPU us/call/domain", "groups_cpu_us_per_dom", ",.1f"),
        ("  QEMUs' CPU us/call", "groups_qemu_us", ",.0f"),
        ("domainListGetStats(1 domain) per s", "one_per_s", ",.1f"),
        ("  daemon CPU us/call", "one_cpu_us", ",.0f"),
        ("daemon RSS after, MB", "rss_mb", ".1f"),
    ]
    common.print_table(f"bulk domain statistics, {n} running guest-less domains",
                       [(label, {d: results[d].get(key) for d in daemons}, fmt) for label, key, fmt in rows],
                       daemons)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""getVersion over one python3-libvirt connection: vrtd beside Debian's libvirtd.

For each daemon: start it privately, time spawn -> first answered
connect+getVersion, read its idle RSS, then run N getVersion calls on one
connection and report calls per second and the daemon's CPU time per call
(utime+stime from /proc, so N must be large enough for clock-tick resolution).
A daemon that cannot be started (vrtd not built yet) is shown as n/a.

  /usr/bin/python3 bench/bench_connect.py [--calls N] [--runs R] [--only vrtd|libvirtd]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import libvirt  # noqa: E402

DEFAULT_CALLS = 20000
DEFAULT_RUNS = 3
IDLE_SETTLE_S = 1.0


def bench_one(name, calls):
    d = common.STARTERS[name]()
    try:
        first = d.wait_first_answer()
        time.sleep(IDLE_SETTLE_S)
        idle_rss = d.rss_kib()
        conn = libvirt.open(d.uri)
        try:
            rate, cpu_us = common.measure_loop(d, conn, lambda c: c.getVersion(), calls)
        finally:
            conn.close()
        return {"first_ms": first * 1000, "rss_mb": idle_rss / 1024,
                "rate": rate, "cpu_us": cpu_us}
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    ap.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                    help="fresh daemon per run; the median is shown")
    ap.add_argument("--only", choices=sorted(common.STARTERS))
    args = ap.parse_args()
    names = [args.only] if args.only else ["vrtd", "libvirtd"]

    results = {}
    for name in names:
        runs = []
        if name == "libvirtd":
            # Fills libvirtd's QEMU capability cache (see tests/lib/private_libvirtd.py)
            # so the runs measure a start as on a host, not a QEMU probe.
            try:
                d = common.start_libvirtd()
                try:
                    print(f"libvirtd warm-up start: {d.wait_first_answer() * 1000:.0f} ms",
                          file=sys.stderr)
                finally:
                    d.stop()
            except (FileNotFoundError, RuntimeError, TimeoutError) as e:
                print(f"{name}: {e}", file=sys.stderr)
                continue
        for _ in range(args.runs):
            try:
                runs.append(bench_one(name, args.calls))
            except (FileNotFoundError, RuntimeError, TimeoutError) as e:
                print(f"{name}: {e}", file=sys.stderr)
                break
        if runs:
            results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            results[name]["runs"] = len(runs)

    def col(key):
        return {n: results[n][key] for n in results}

    common.print_table(
        f"getVersion over one connection, {args.calls} calls, median of "
        f"{args.runs} runs (python3-libvirt {libvirt.getVersion()})",
        [("calls/s", col("rate"), ",.0f"),
         ("daemon CPU us/call", col("cpu_us"), ".1f"),
         ("idle RSS MB", col("rss_mb"), ".1f"),
         ("start-to-first-answer ms", col("first_ms"), ".1f")],
        names)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())

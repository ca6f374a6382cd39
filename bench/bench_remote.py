#!/usr/bin/python3
"""Remote access over TLS: vrtd beside Debian's libvirtd --listen, same run.

Both daemons run inside one private network namespace (loopback only,
`ip netns add`, removed at the end) with certificates made by certtool for
this run (tests/integration/pki.py): vrtd on 127.0.0.1:16514, libvirtd on
127.0.0.1:16515, both with auth_tls = "none" and libvirt's x509 checks.
The client is python3-libvirt inside the namespace with a pkipath of the
run's client certificate. For each daemon it reports the median over runs of:

- open ms: libvirt.open() of qemu+tls:// (TCP connect, TLS handshake with
  the certificate checks, AUTH_LIST, CONNECT_OPEN) plus close;
- getVersion calls/s over one TLS connection, and the daemon's CPU µs per
  call (utime+stime of all its threads from /proc, clock ticks: use enough
  calls).

  /usr/bin/python3 bench/bench_remote.py [--opens N] [--calls N] [--runs R] [--only vrtd|libvirtd]

Needs root, ip, certtool, libvirt-daemon-system and a built vrtd.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

sys.path.insert(0, os.path.join(common.REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(common.REPO, "tests", "lib"))
import pki  # noqa: E402
import private_libvirtd  # noqa: E402

PORTS = {"vrtd": 16514, "libvirtd": 16515}
DEFAULT_OPENS = 200
DEFAULT_CALLS = 20000
DEFAULT_RUNS = 3

# Runs in the namespace: argv uri mode n; prints JSON.
CLIENT = r"""
import json, sys, time, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
uri, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "wait":
    deadline = time.monotonic() + n
    while True:
        try:
            libvirt.open(uri).close()
            break
        except libvirt.libvirtError as e:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    print("{}")
elif mode == "open":
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        c = libvirt.open(uri)
        c.close()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"median_ms": times[len(times) // 2] * 1000, "p90_ms": times[int(len(times) * 0.9)] * 1000}))
else:
    c = libvirt.open(uri)
    for _ in range(200):
        c.getVersion()
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(n):
        c.getVersion()
    print(json.dumps({"rate": n / (time.perf_counter() - t0)}), flush=True)
    c.close()
"""


def start_vrtd(ns, certs, workdir):
    root = os.path.join(workdir, "vrtd")
    pki.install_server(certs, root, certs.server_key, certs.server_cert)
    os.makedirs(os.path.join(root, "etc", "vrt"), exist_ok=True)
    conf = os.path.join(root, "etc", "vrt", "vrtd.conf")
    with open(conf, "w") as f:
        f.write('listen_tls = 1\nlisten_tcp = 0\nauth_tls = "none"\n'
                f'tls_port = "{PORTS["vrtd"]}"\nlisten_addr = "127.0.0.1"\n')
    argv = ns.cmd([common.VRTD, "--root", root, "--listen"])
    return common.Daemon("vrtd", argv, None, root, os.path.join(workdir, "vrtd.log"))


def start_libvirtd(ns, certs, workdir):
    d = os.path.join(workdir, "libvirtd")
    os.makedirs(d, exist_ok=True)
    prep = private_libvirtd.prepare(d, host_like=common.HOST_LIKE)
    with open(prep.conf) as f:
        text = f.read()
    text = text.replace("listen_tls = 0\n", "listen_tls = 1\n")
    text += (f'tls_port = "{PORTS["libvirtd"]}"\nlisten_addr = "127.0.0.1"\nauth_tls = "none"\n'
             f'ca_file = "{certs.ca}"\ncert_file = "{certs.server_cert}"\nkey_file = "{certs.server_key}"\n')
    with open(prep.conf, "w") as f:
        f.write(text)
    # --listen after the config: libvirtd checks the certificates at start.
    argv = prep.argv + ["--listen"]
    return common.Daemon("libvirtd", ns.cmd(argv), None, d, os.path.join(workdir, "libvirtd.log"))


def client(ns, uri, mode, n, timeout=600):
    p = ns.run([pki.PY, "-c", CLIENT, uri, mode, str(n)], timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"client {mode} failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def calls_with_cpu(ns, daemon, uri, calls):
    """getVersion calls/s over one connection and the daemon's CPU µs per call
    (its CPU read around the timed loop only, the client told to start)."""
    p = subprocess.Popen(ns.cmd([pki.PY, "-c", CLIENT, uri, "calls", str(calls)]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    cpu0 = common.cpu_ticks(daemon.pid)
    p.stdin.write("go\n")
    p.stdin.flush()
    line = p.stdout.readline()
    cpu1 = common.cpu_ticks(daemon.pid)
    p.wait(60)
    rate = json.loads(line)["rate"]
    return rate, (cpu1 - cpu0) / common.CLK_TCK / calls * 1e6


def bench_one(name, ns, certs, pkipath, opens, calls):
    work = tempfile.mkdtemp(prefix=f"vrt-bench-remote-{name}-")
    d = (start_vrtd if name == "vrtd" else start_libvirtd)(ns, certs, work)
    uri = f"qemu+tls://127.0.0.1:{PORTS[name]}/system?pkipath={pkipath}"
    try:
        client(ns, uri, "wait", int(common.START_TIMEOUT_S))
        opened = client(ns, uri, "open", opens)
        rate, cpu_us = calls_with_cpu(ns, d, uri, calls)
        return {"open_ms": opened["median_ms"], "open_p90_ms": opened["p90_ms"], "rate": rate, "cpu_us": cpu_us}
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opens", type=int, default=DEFAULT_OPENS)
    ap.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    ap.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    ap.add_argument("--only", choices=sorted(PORTS))
    a = ap.parse_args()

    ns = pki.Netns()
    pkidir = tempfile.mkdtemp(prefix="vrt-bench-pki-")
    try:
        certs = pki.Pki(pkidir)
        certs.server_key, certs.server_cert = certs.server()
        ckey, ccert = certs.cert("client", "bench client")
        pkipath = certs.client_dir("client", ckey, ccert)
        names = [a.only] if a.only else ["vrtd", "libvirtd"]
        results = {n: [] for n in names}
        for _ in range(a.runs):
            for n in names:
                try:
                    results[n].append(bench_one(n, ns, certs, pkipath, a.opens, a.calls))
                except (RuntimeError, FileNotFoundError, TimeoutError, OSError) as e:
                    print(f"{n}: n/a ({e})", file=sys.stderr)
        print(f"TLS on 127.0.0.1 in a network namespace; median of {a.runs} runs, "
              f"{a.opens} opens, {a.calls} getVersion calls")
        print(f"{'daemon':10} {'open ms':>9} {'open p90':>9} {'calls/s':>9} {'CPU µs/call':>12}")
        for n in names:
            rs = results[n]
            if not rs:
                print(f"{n:10} {'n/a':>9}")
                continue
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            print(f"{n:10} {med['open_ms']:9.2f} {med['open_p90_ms']:9.2f} {med['rate']:9.0f} {med['cpu_us']:12.1f}")
    finally:
        ns.close()
        shutil.rmtree(pkidir, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Domain lifecycle and inventory, vrtd beside Debian's libvirtd (issue 3, item 7).

The same python3-libvirt client drives a private vrtd and a private libvirtd
(bench/common.py) through: start (defineXML + create until the domain is
running) and destroy of a guest-less 128 MiB q35 domain (type kvm when
/dev/kvm opens, else qemu); define+undefine pairs per second; with --count
domains defined, listAllDomains (calls/s and daemon CPU µs per call),
dumpxml of every domain (total and per call) and the daemon's RSS. Bare QEMU
is measured too: exec of qemu-system-x86_64 -S with QMP until `cont` answers,
and its exit on SIGTERM. Prints figures side by side with the issue's
targets; it never asserts timings. Run as root with /usr/bin/python3.

libvirtd needs `stdio_handler = "file"` (or virtlogd) to start a domain.
Rather than edit /etc/libvirt/qemu.conf, libvirtd runs in a private mount
namespace where that file is a copy with the line added; nothing outside
changes.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import libvirt  # noqa: E402

QEMU = os.environ.get("VRT_QEMU", "/usr/bin/qemu-system-x86_64")
PREFIX = "vrtbench-"
MEMORY_MIB = 128
LOOP_SECONDS = 6.0          # listAllDomains loop: vrtd's CPU in it is ~50 clock ticks (10 ms each)
DUMPXML_PASSES = 5          # dumpxml of every domain, this many times: the median pass, CPU over all
MIN_LOOP_CALLS = 20
RUNNING_TIMEOUT_S = 60
QMP_TIMEOUT_S = 30
QEMU_CONF = "/etc/libvirt/qemu.conf"

TARGET_START_VS_QEMU = 1.3
TARGET_DESTROY_MS = 50
TARGET_AHEAD = 5.0


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def domain_xml(name, vtype):
    return (f"<domain type='{vtype}'><name>{name}</name>"
            f"<memory unit='MiB'>{MEMORY_MIB}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
            "<features><acpi/></features>"
            f"<devices><emulator>{QEMU}</emulator><memballoon model='none'/></devices></domain>")


# ---------------------------------------------------------------- bare QEMU

def qmp_line(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("QMP closed")
        if b'"event"' not in line:
            return line


def bare_qemu_once(vtype, workdir):
    """Seconds from exec to `cont` answered, and from SIGTERM to exit."""
    sock = os.path.join(workdir, "qmp.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    accel = "kvm" if vtype == "kvm" else "tcg"
    argv = [QEMU, "-S", "-no-user-config", "-nodefaults", "-machine", f"q35,accel={accel}",
            "-m", str(MEMORY_MIB), "-smp", "1", "-display", "none",
            "-qmp", f"unix:{sock},server=on,wait=off"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + QMP_TIMEOUT_S
    while True:
        try:
            s.connect(sock)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"bare QEMU did not open its monitor ({argv})")
            time.sleep(0.0005)
    s.settimeout(QMP_TIMEOUT_S)
    f = s.makefile("rwb")
    f.readline()  # greeting
    for cmd in (b'{"execute":"qmp_capabilities"}', b'{"execute":"cont"}'):
        f.write(cmd + b"\r\n")
        f.flush()
        qmp_line(f)
    running = time.perf_counter() - t0
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    exited = time.perf_counter() - t1
    s.close()
    return running, exited


def bench_bare_qemu(vtype, runs):
    d = tempfile.mkdtemp(prefix="vrt-bench-qemu-")
    try:
        bare_qemu_once(vtype, d)  # warm the page cache
        res = [bare_qemu_once(vtype, d) for _ in range(runs)]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return statistics.median(r[0] for r in res), statistics.median(r[1] for r in res)


# ---------------------------------------------------------------- libvirtd

def start_libvirtd_with_file_stdio():
    """common.start_libvirtd's daemon, but seeing a qemu.conf with stdio_handler = "file"."""
    deadline = time.monotonic() + common.LIBVIRTD_BUSY_WAIT_S
    while (other := common.system_libvirtd_pid()) is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"another system libvirtd (pid {other}) holds /run/libvirt")
        time.sleep(0.5)
    d = tempfile.mkdtemp(prefix="vrt-bench-libvirtd-")
    qconf = os.path.join(d, "qemu.conf")
    with open(QEMU_CONF) as src, open(qconf, "w") as dst:
        dst.write(src.read())
        dst.write('\nstdio_handler = "file"\n')
    conf = os.path.join(d, "libvirtd.conf")
    with open(conf, "w") as f:
        f.write(f'unix_sock_dir = "{d}"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                f'listen_tls = 0\nlisten_tcp = 0\n'
                f'log_outputs = "{common.LIBVIRTD_LOG_LEVEL}:file:{d}/libvirtd.log"\n')
    argv = [common.LIBVIRTD, "--config", conf, "--pid-file", os.path.join(d, "libvirtd.pid")]
    if common.HOST_LIKE:
        argv = common.host_like_wrapper(argv)
    # unshare without --fork keeps the pid, so Daemon.pid stays libvirtd's.
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount --bind "{qconf}" {QEMU_CONF} && exec "$@"', "sh", *argv]
    uri = f"qemu+unix:///system?socket={d}/libvirt-sock"
    return common.Daemon("libvirtd", argv, uri, d, os.path.join(d, "stderr.log"))


def remove_libvirtd_logs():
    """QEMU logs libvirtd wrote for our domains (stdio_handler = "file")."""
    d = "/var/log/libvirt/qemu"
    try:
        for f in os.listdir(d):
            if f.startswith(PREFIX):
                os.unlink(os.path.join(d, f))
    except OSError:
        pass


def start_daemon(name):
    return start_libvirtd_with_file_stdio() if name == "libvirtd" else common.start_vrtd()


def cleanup_domains(conn):
    """Destroys and undefines every domain this benchmark may have left behind."""
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(PREFIX):
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                dom.undefine()
            except libvirt.libvirtError:
                pass


# ---------------------------------------------------------------- measurements

def bench_lifecycle(conn, vtype, runs):
    """Start and destroy times; each start is paired with a bare QEMU start
    made right before it, so that their ratio is not skewed by the machine
    getting faster or slower between the two measurements."""
    starts, destroys, ratios = [], [], []
    name = PREFIX + "life"
    xml = domain_xml(name, vtype)
    qdir = tempfile.mkdtemp(prefix="vrt-bench-qemu-")
    for i in range(runs + 1):          # run 0 warms up (QEMU binary, caps)
        bare = bare_qemu_once(vtype, qdir)[0]
        t0 = time.perf_counter()
        dom = conn.defineXML(xml)
        dom.create()
        state = dom.state()[0]
        started = time.perf_counter() - t0
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise RuntimeError(f"domain state {state} after create, not running")
        t1 = time.perf_counter()
        dom.destroy()
        destroyed = time.perf_counter() - t1
        dom.undefine()
        if i:
            starts.append(started)
            destroys.append(destroyed)
            ratios.append(started / bare)
    shutil.rmtree(qdir, ignore_errors=True)
    return starts, destroys, ratios


WARMUP_PAIRS = 200


def bench_define_undefine(conn, vtype, count):
    xmls = [domain_xml(f"{PREFIX}du{i}", vtype) for i in range(count)]
    # Warm-up under other names (both daemons' first hundreds of pairs run
    # slower: caches, allocator arenas, the directory).
    for i in range(WARMUP_PAIRS):
        conn.defineXML(domain_xml(f"{PREFIX}dw{i}", vtype)).undefine()
    t0 = time.perf_counter()
    for xml in xmls:
        conn.defineXML(xml).undefine()
    return count / (time.perf_counter() - t0)


def bench_inventory(daemon, conn, vtype, count):
    """Defines count domains; measures list, dumpxml, RSS; undefines them."""
    out = {}
    t0 = time.perf_counter()
    for i in range(count):
        conn.defineXML(domain_xml(f"{PREFIX}{i:05d}", vtype))
    out["define_s"] = time.perf_counter() - t0
    time.sleep(1)
    out["rss_kib"] = daemon.rss_kib()
    out["anon_kib"] = daemon.anon_kib()

    n = len([d for d in conn.listAllDomains(0) if d.name().startswith(PREFIX)])
    if n != count:
        raise RuntimeError(f"listAllDomains shows {n} of {count} domains")
    for _ in range(5):
        conn.listAllDomains(0)
    cpu0 = common.cpu_ticks(daemon.pid)
    client0 = time.process_time()
    t0 = time.perf_counter()
    calls = 0
    while calls < MIN_LOOP_CALLS or time.perf_counter() - t0 < LOOP_SECONDS:
        conn.listAllDomains(0)
        calls += 1
    elapsed = time.perf_counter() - t0
    out["list_per_s"] = calls / elapsed
    out["list_cpu_us"] = (common.cpu_ticks(daemon.pid) - cpu0) / common.CLK_TCK / calls * 1e6
    # The same python3-libvirt client for both daemons: its own CPU per call
    # bounds the calls per second either can reach.
    out["list_client_cpu_us"] = (time.process_time() - client0) / calls * 1e6

    doms = [d for d in conn.listAllDomains(0) if d.name().startswith(PREFIX)]
    cpu0 = common.cpu_ticks(daemon.pid)
    client0 = time.process_time()
    passes = []
    for _ in range(DUMPXML_PASSES):
        t0 = time.perf_counter()
        for d in doms:
            d.XMLDesc(0)
        passes.append(time.perf_counter() - t0)
    calls = DUMPXML_PASSES * len(doms)
    out["dumpxml_s"] = statistics.median(passes)
    out["dumpxml_client_cpu_us"] = (time.process_time() - client0) / calls * 1e6
    out["dumpxml_cpu_us"] = (common.cpu_ticks(daemon.pid) - cpu0) / common.CLK_TCK / calls * 1e6

    t0 = time.perf_counter()
    for d in doms:
        d.undefine()
    out["undefine_s"] = time.perf_counter() - t0
    return out


def bench_daemon(name, vtype, args):
    daemon = start_daemon(name)
    res = {}
    try:
        res["first_answer_ms"] = daemon.wait_first_answer() * 1e3
        conn = libvirt.open(daemon.uri)
        cleanup_domains(conn)
        try:
            starts, destroys, ratios = bench_lifecycle(conn, vtype, args.runs)
            res["start_ms"] = statistics.median(starts) * 1e3
            res["start_vs_bare"] = statistics.median(ratios)
            res["start_max_ms"] = max(starts) * 1e3
            res["destroy_ms"] = statistics.median(destroys) * 1e3
            res["destroy_max_ms"] = max(destroys) * 1e3
        except libvirt.libvirtError as e:
            print(f"{name}: start/destroy failed: {e}", file=sys.stderr)
            cleanup_domains(conn)
        res["define_undefine_per_s"] = bench_define_undefine(conn, vtype, args.count)
        inv = bench_inventory(daemon, conn, vtype, args.count)
        res["list_per_s"] = inv["list_per_s"]
        res["list_cpu_us"] = inv["list_cpu_us"]
        res["list_client_cpu_us"] = inv["list_client_cpu_us"]
        res["dumpxml_client_cpu_us"] = inv["dumpxml_client_cpu_us"]
        res["dumpxml_total_ms"] = inv["dumpxml_s"] * 1e3
        res["dumpxml_per_call_us"] = inv["dumpxml_s"] / args.count * 1e6
        res["dumpxml_cpu_us"] = inv["dumpxml_cpu_us"]
        res["rss_mb"] = inv["rss_kib"] / 1024
        res["anon_mb"] = inv["anon_kib"] / 1024
        res["define_n_ms"] = inv["define_s"] * 1e3
        cleanup_domains(conn)
        conn.close()
    except Exception as e:  # noqa: BLE001 - one daemon failing must not hide the other's figures
        print(f"{name}: {type(e).__name__}: {e}\n  log: {daemon.log_path}\n{common.tail(daemon.log_path)}",
              file=sys.stderr)
        try:
            c = libvirt.open(daemon.uri)
            cleanup_domains(c)
            c.close()
        except libvirt.libvirtError:
            pass
    finally:
        daemon.stop()
        if name == "libvirtd":
            remove_libvirtd_logs()
    if name == "vrtd":
        # The same with definitions flushed in batches (vrtd's default, like
        # libvirtd, flushes each one before the call returns).
        daemon = common.start_vrtd(config="config_sync_ms = 100\n")
        try:
            daemon.wait_first_answer()
            conn = libvirt.open(daemon.uri)
            res["define_undefine_batched_per_s"] = bench_define_undefine(conn, vtype, args.count)
            conn.close()
        finally:
            daemon.stop()
    else:
        res["define_undefine_batched_per_s"] = res.get("define_undefine_per_s")
    return res


def fmt(v, f):
    return "n/a" if v is None else format(v, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["vrtd", "libvirtd"])
    ap.add_argument("--count", type=int, default=1000, help="domains defined (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="start/destroy runs, median (default 5)")
    args = ap.parse_args()

    vtype = "kvm" if kvm_usable() else "qemu"
    daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
    print(f"domain type {vtype}, {args.count} domains, {args.runs} start/destroy runs, "
          f"{os.cpu_count()} CPUs", file=sys.stderr)
    qemu_run_s, qemu_exit_s = bench_bare_qemu(vtype, args.runs)
    results = {}
    for d in daemons:
        print(f"measuring {d} ...", file=sys.stderr)
        results[d] = bench_daemon(d, vtype, args)

    v, l_ = results.get("vrtd", {}), results.get("libvirtd", {})
    n = args.count
    # (label, key, format, higher_is_better, target text)
    rows = [
        ("start: define+create to running, ms (median)", "start_ms", ".1f", False,
         f"vrtd <= {TARGET_START_VS_QEMU}x bare QEMU = {qemu_run_s * 1e3 * TARGET_START_VS_QEMU:.0f} ms"),
        ("start, slowest run, ms", "start_max_ms", ".1f", False, ""),
        ("start / bare QEMU started just before (median)", "start_vs_bare", ".2f", False,
         f"vrtd <= {TARGET_START_VS_QEMU}"),
        ("destroy, ms (median)", "destroy_ms", ".1f", False, f"vrtd <= {TARGET_DESTROY_MS} ms"),
        ("destroy, slowest run, ms", "destroy_max_ms", ".1f", False, ""),
        ("define+undefine per s", "define_undefine_per_s", ",.0f", True, f">= {TARGET_AHEAD:.0f}x libvirtd"),
        ("  the same, vrtd with config_sync_ms = 100", "define_undefine_batched_per_s", ",.0f", True,
         f">= {TARGET_AHEAD:.0f}x libvirtd"),
        (f"listAllDomains ({n} defined) per s", "list_per_s", ",.1f", True, f">= {TARGET_AHEAD:.0f}x libvirtd"),
        ("listAllDomains daemon CPU us/call", "list_cpu_us", ",.0f", False, f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("listAllDomains client CPU us/call", "list_client_cpu_us", ",.0f", False, "python3-libvirt's own"),
        (f"dumpxml of {n} domains, total ms", "dumpxml_total_ms", ",.0f", False, f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("dumpxml per call, us", "dumpxml_per_call_us", ",.0f", False, ""),
        ("dumpxml daemon CPU us/call", "dumpxml_cpu_us", ",.0f", False, ""),
        ("dumpxml client CPU us/call", "dumpxml_client_cpu_us", ",.0f", False, "python3-libvirt's own"),
        (f"daemon RSS with {n} defined, MB", "rss_mb", ".1f", False, f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("  of it anonymous (heap, stacks), MB", "anon_mb", ".1f", False, ""),
        (f"define of {n} domains, total ms", "define_n_ms", ",.0f", False, ""),
        ("daemon start to first answer, ms", "first_answer_ms", ".1f", False, ""),
    ]
    w = max(len(r[0]) for r in rows) + 2
    print(f"\nbench_domains: {vtype} q35 {MEMORY_MIB} MiB guest-less; {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"bare QEMU: exec to `cont` answered {qemu_run_s * 1e3:.1f} ms, exit on SIGTERM "
          f"{qemu_exit_s * 1e3:.1f} ms (median of {args.runs})")
    print("metric".ljust(w) + "vrtd".rjust(10) + "libvirtd".rjust(10) + "ratio".rjust(8) + "   target")
    for label, key, f, higher, target in rows:
        a, b = v.get(key), l_.get(key)
        ratio = ""
        if a and b:
            # "x ahead": how many times better vrtd is than libvirtd.
            ratio = f"{(a / b if higher else b / a):.1f}x"
        print(label.ljust(w) + fmt(a, f).rjust(10) + fmt(b, f).rjust(10) + ratio.rjust(8) + "   " + target)
    print("ratio = how many times vrtd is ahead of libvirtd (>1: vrtd better)")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Domain lifecycle and inventory, vrtd beside Debian's libvirtd (issue 3, item 7).

The same python3-libvirt client drives a private vrtd and a private libvirtd
(bench/common.py) through: start (defineXML + create until the domain is
running) and destroy of a guest-less 128 MiB q35 domain (type kvm when
/dev/kvm opens, else qemu); define+undefine pairs per second and daemon CPU
per pair with 1 client and with CLIENTS concurrent clients (processes), the
single client's time per pair beside the machine's fsync floor (the fsyncs
one durable define+undefine needs, timed in the same run) and the 8 clients'
rate beside the disk's own limit for as many clients (bench/fsync_limit.c,
built as build/bench/vrt-bench-fsync-limit, or $VRT_BENCH_FSYNC_LIMIT); with --count
domains defined, listAllDomains (calls/s and daemon CPU µs per call),
dumpxml of every domain (total and per call) and the daemon's anonymous
memory and RSS. Bare QEMU
is measured too, two ways: with no devices (`-nodefaults -machine q35`), and
with vrtd's own command line for the benchmark's domain (read from
/proc/PID/cmdline of the QEMU vrtd starts in the warm-up run, its inherited
QMP descriptor replaced by a socket path and its pidfile put in a fresh
directory), which is the physical limit for starting that VM: exec until
`cont` answers, and the exit on SIGTERM. Each daemon start is paired with
one bare start of each kind made just before it. Prints figures side by
side with the issue's targets; it never asserts timings. Run as root with
/usr/bin/python3.

libvirtd runs in a private mount namespace (tests/lib/private_libvirtd.py)
with its own /etc/libvirt (qemu.conf with stdio_handler = "file", as it has
no virtlogd), /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
/var/log/libvirt; nothing outside changes.
"""

import argparse
import multiprocessing
import os
import re
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

TARGET_START_VS_QEMU = 1.15
TARGET_DESTROY_MS = 50
TARGET_AHEAD = 5.0
TARGET_VS_FSYNC_FLOOR = 1.3    # 1 client: time per define+undefine / fsync floor
TARGET_CLIENTS_AHEAD = 4.0     # CLIENTS clients: pairs/s, x libvirtd's with as many
CLIENTS = 8
CLIENT_WARMUP_PAIRS = 20
FLOOR_WARMUP = 20
FLOOR_DATA = b"x" * 1024       # about a formatted definition of domain_xml()


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


def bare_argv(vtype, monitor_fd):
    """The devices-free bare QEMU: q35 with -nodefaults and nothing else."""
    accel = "kvm" if vtype == "kvm" else "tcg"
    return [QEMU, "-S", "-no-user-config", "-nodefaults", "-machine", f"q35,accel={accel}",
            "-m", str(MEMORY_MIB), "-smp", "1", "-display", "none",
            "-chardev", f"socket,id=charmonitor,fd={monitor_fd},server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control"]


def qemu_opt_escape(value):
    """QEMU's key=value escape: a comma in a value is doubled."""
    return value.replace(",", ",,")


def read_cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")[:-1]


def vrtd_qemu_cmdline(daemon, name):
    """argv of the QEMU vrtd runs for domain name (pid from its status file)."""
    with open(os.path.join(daemon.dir, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid='(\d+)'", f.read()).group(1))
    return read_cmdline(pid)


def same_cmdline_argv(template, root, workdir, monitor_fd="FD"):
    """vrtd's argv for the domain, run by hand: the QMP socket it inherits
    is the bench's (monitor_fd, bound and listening before the exec, as
    vrtd gives one), the pidfile goes to workdir. Nothing else may point
    into vrtd's root."""
    argv = list(template)
    for i, a in enumerate(argv):
        if a.startswith("socket,id=charmonitor,"):
            opts = [o for o in a.split(",") if not o.startswith(("fd=", "path="))]
            opts.insert(2, f"fd={monitor_fd}")
            argv[i] = ",".join(opts)
        elif i and argv[i - 1] == "-pidfile":
            argv[i] = os.path.join(workdir, "qemu.pid")
    stray = [a for a in argv if root in a]
    if stray:
        raise RuntimeError(f"vrtd's QEMU command line names its root in {stray}")
    return argv


def bare_qemu_once(vtype, workdir, template=None, root=None):
    """Seconds from exec to `cont` answered, and from SIGTERM to exit. With
    template (vrtd's QEMU argv) and root (vrtd's root), that command line;
    else the devices-free one. QEMU gets an environment like vrtd's and
    writes to a log file, as under vrtd. Like vrtd, the bench binds and
    listens on the monitor socket before the exec and hands QEMU the
    descriptor, so it connects at once (no polling for the socket) and
    reads the greeting when QEMU is ready."""
    sock = os.path.join(workdir, "qmp.sock")
    for f in (sock, os.path.join(workdir, "qemu.pid")):
        if os.path.exists(f):
            os.unlink(f)
    env = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": workdir}
    logpath = os.path.join(workdir, "qemu.log")
    t0 = time.perf_counter()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock)
    listener.listen(1)
    mfd = listener.fileno()
    argv = same_cmdline_argv(template, root, workdir, mfd) if template else bare_argv(vtype, mfd)
    with open(logpath, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                pass_fds=(mfd,))
    listener.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.settimeout(QMP_TIMEOUT_S)
    f = s.makefile("rwb")
    if not f.readline():  # greeting
        proc.kill()
        raise RuntimeError(f"bare QEMU closed its monitor ({argv}); log: {common.tail(logpath)}")
    for cmd in (b'{"execute":"qmp_capabilities"}', b'{"execute":"cont"}'):
        f.write(cmd + b"\r\n")
        f.flush()
        qmp_line(f)
    running = time.perf_counter() - t0
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(QMP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
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


# ---------------------------------------------------------------- daemons

def start_daemon(name, config=None):
    """libvirtd runs in its own mount namespace (tests/lib/private_libvirtd.py):
    its qemu.conf has stdio_handler = "file" and its domain logs stay in its
    temporary dir."""
    if name == "libvirtd":
        return common.start_libvirtd()
    return common.start_vrtd(config=config)


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

# vrtd's QEMU argv for the lifecycle domain, read in vrtd's warm-up run;
# the bare start "with the same command line" runs it before libvirtd's
# starts too (the same VM, libvirt's default q35 devices).
VRTD_QEMU_ARGV = {}


def bench_lifecycle(daemon, conn, vtype, runs):
    """Start and destroy times. Each start is paired with a devices-free
    bare QEMU start and one with vrtd's command line, both made right before
    it, so that their ratios are not skewed by the machine getting faster or
    slower between the measurements."""
    out = {k: [] for k in ("starts", "destroys", "bare", "bare_same", "ratios", "ratios_same")}
    name = PREFIX + "life"
    xml = domain_xml(name, vtype)
    qdir = tempfile.mkdtemp(prefix="vrt-bench-qemu-")
    sdir = tempfile.mkdtemp(prefix="vrt-bench-qemu-same-")
    try:
        for i in range(runs + 1):          # run 0 warms up (QEMU binary, caps) and reads vrtd's argv
            bare = bare_qemu_once(vtype, qdir)[0]
            template = VRTD_QEMU_ARGV.get("argv")
            same = bare_qemu_once(vtype, sdir, template, VRTD_QEMU_ARGV["root"])[0] if template else None
            t0 = time.perf_counter()
            dom = conn.defineXML(xml)
            dom.create()
            state = dom.state()[0]
            started = time.perf_counter() - t0
            if state != libvirt.VIR_DOMAIN_RUNNING:
                raise RuntimeError(f"domain state {state} after create, not running")
            if i == 0 and daemon.name == "vrtd":
                VRTD_QEMU_ARGV["argv"] = vrtd_qemu_cmdline(daemon, name)
                VRTD_QEMU_ARGV["root"] = daemon.dir
                shown = same_cmdline_argv(VRTD_QEMU_ARGV["argv"], daemon.dir, "WORKDIR")
                print("bare QEMU with vrtd's command line: " + " ".join(shown), file=sys.stderr)
            t1 = time.perf_counter()
            dom.destroy()
            destroyed = time.perf_counter() - t1
            dom.undefine()
            if i == 0 and template is None and "argv" in VRTD_QEMU_ARGV:
                # The page cache, for the same-command-line runs.
                bare_qemu_once(vtype, sdir, VRTD_QEMU_ARGV["argv"], VRTD_QEMU_ARGV["root"])
            if i:
                out["starts"].append(started)
                out["destroys"].append(destroyed)
                out["bare"].append(bare)
                out["ratios"].append(started / bare)
                if same is not None:
                    out["bare_same"].append(same)
                    out["ratios_same"].append(started / same)
    finally:
        shutil.rmtree(qdir, ignore_errors=True)
        shutil.rmtree(sdir, ignore_errors=True)
    return out


WARMUP_PAIRS = 200


FLOOR_CHUNK = 10               # pairs: the floor and the daemon take turns by this many


def bench_define_undefine(daemon, conn, vtype, count, floor_dir=None):
    """Pairs per second and daemon CPU µs per pair, one client. With
    floor_dir, the fsync floor is measured interleaved with the loop:
    FLOOR_CHUNK durable pairs by the bench itself (fsync_floor_pair), then
    FLOOR_CHUNK through the daemon, and so on, so that both see the same
    disk and the same load (on a machine shared with other work, a floor
    timed before and after the loop was 2-3x off). Returns (pairs/s, CPU µs
    per pair, the client's own CPU µs per pair (python3-libvirt; the loop
    is sequential, so a pair takes at least this plus the daemon's part),
    floor seconds per pair: mean, median, and the CPU µs per pair
    the floor's own syscalls took in this process: what the kernel charges
    for a durable pair before any daemon work)."""
    xmls = [domain_xml(f"{PREFIX}du{i}", vtype) for i in range(count)]
    # Warm-up under other names (both daemons' first hundreds of pairs run
    # slower: caches, allocator arenas, the directory).
    for i in range(WARMUP_PAIRS):
        conn.defineXML(domain_xml(f"{PREFIX}dw{i}", vtype)).undefine()
    floor = []
    dfd = None
    if floor_dir:
        os.makedirs(floor_dir, exist_ok=True)
        dfd = os.open(floor_dir, os.O_RDONLY | os.O_DIRECTORY)
        for i in range(FLOOR_WARMUP):
            fsync_floor_pair(dfd, floor_dir, f"w{i}")
    elapsed = 0.0
    cpu = 0
    floor_cpu = 0.0
    client_cpu = 0.0
    try:
        for c in range(0, count, FLOOR_CHUNK):
            if dfd is not None:
                t = time.process_time()  # this process's user+system time, not in ticks
                floor.extend(fsync_floor_pair(dfd, floor_dir, str(i)) for i in range(c, min(c + FLOOR_CHUNK, count)))
                floor_cpu += time.process_time() - t
            cpu0 = common.cpu_ticks(daemon.pid)
            client0 = time.process_time()
            t0 = time.perf_counter()
            for xml in xmls[c:c + FLOOR_CHUNK]:
                conn.defineXML(xml).undefine()
            elapsed += time.perf_counter() - t0
            client_cpu += time.process_time() - client0
            cpu += common.cpu_ticks(daemon.pid) - cpu0
    finally:
        if dfd is not None:
            os.close(dfd)
    res = (count / elapsed, cpu / common.CLK_TCK / count * 1e6, client_cpu / count * 1e6)
    if floor:
        res += (statistics.mean(floor), statistics.median(floor), floor_cpu / len(floor) * 1e6)
    return res


def _du_client(uri, vtype, index, count, barrier, results):
    """One of the concurrent clients (its own process and connection)."""
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open(uri)
    for i in range(CLIENT_WARMUP_PAIRS):
        conn.defineXML(domain_xml(f"{PREFIX}c{index}w{i}", vtype)).undefine()
    xmls = [domain_xml(f"{PREFIX}c{index}-{i}", vtype) for i in range(count)]
    barrier.wait()
    for xml in xmls:
        conn.defineXML(xml).undefine()
    results.put((index, time.perf_counter()))
    conn.close()


def bench_define_undefine_concurrent(daemon, vtype, count, clients=CLIENTS):
    """Pairs per second over all clients (each makes count pairs on its own
    connection, all released at once) and daemon CPU µs per pair."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(clients + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_du_client, args=(daemon.uri, vtype, i, count, barrier, results))
             for i in range(clients)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    cpu0 = common.cpu_ticks(daemon.pid)
    t0 = time.perf_counter()
    ends = [results.get(timeout=600)[1] for _ in procs]
    cpu = (common.cpu_ticks(daemon.pid) - cpu0) / common.CLK_TCK
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a define+undefine client exited with {p.exitcode}")
    total = clients * count
    return total / (max(ends) - t0), cpu / total * 1e6


FSYNC_LIMIT = os.environ.get("VRT_BENCH_FSYNC_LIMIT", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(common.VRTD))), "bench", "vrt-bench-fsync-limit"))


def fsync_limit(dirpath, writers, pairs):
    """The disk's own limit for writers concurrent clients: pairs per second
    and CPU µs per pair of vrt-bench-fsync-limit (bench/fsync_limit.c), which
    makes writers x pairs durable pairs in dirpath in lockstep, every
    directory fsync shared by all writers and no daemon in between."""
    os.makedirs(dirpath, exist_ok=True)
    try:
        out = subprocess.run([FSYNC_LIMIT, dirpath, str(writers), str(pairs)], check=True,
                             capture_output=True, text=True).stdout.split()
    finally:
        shutil.rmtree(dirpath, ignore_errors=True)
    return float(out[0]), float(out[1])


def fsync_floor_pair(dfd, dirpath, tag):
    """Seconds one durable define+undefine needs on the file system of
    dirpath (dfd: that directory), with no daemon in between: fsync of the
    new file, rename, fsync of the directory (define); unlink, fsync of the
    directory (undefine). Only writing the file's bytes into the page cache
    is left out."""
    tmp = os.path.join(dirpath, f"f{tag}.xml.new")
    final = os.path.join(dirpath, f"f{tag}.xml")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, FLOOR_DATA)
    t0 = time.perf_counter()
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, final)
    os.fsync(dfd)
    os.unlink(final)
    os.fsync(dfd)
    return time.perf_counter() - t0


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


class SkipStart(Exception):
    """--define-only: no start/destroy runs."""


def bench_daemon(name, vtype, args):
    daemon = start_daemon(name)
    res = {}
    try:
        res["first_answer_ms"] = daemon.wait_first_answer() * 1e3
        conn = libvirt.open(daemon.uri)
        cleanup_domains(conn)
        try:
            if args.define_only:
                raise SkipStart()
            life = bench_lifecycle(daemon, conn, vtype, args.runs)
            res["start_ms"] = statistics.median(life["starts"]) * 1e3
            res["bare_ms"] = statistics.median(life["bare"]) * 1e3
            res["start_vs_bare"] = statistics.median(life["ratios"])
            if life["bare_same"]:
                res["bare_same_ms"] = statistics.median(life["bare_same"]) * 1e3
                res["start_vs_bare_same"] = statistics.median(life["ratios_same"])
            res["start_max_ms"] = max(life["starts"]) * 1e3
            res["destroy_ms"] = statistics.median(life["destroys"]) * 1e3
            res["destroy_max_ms"] = max(life["destroys"]) * 1e3
        except SkipStart:
            pass
        except libvirt.libvirtError as e:
            print(f"{name}: start/destroy failed: {e}", file=sys.stderr)
            cleanup_domains(conn)
        if args.start_only:
            cleanup_domains(conn)
            conn.close()
            return res
        floor_dir = os.path.join(daemon.dir, "fsync-floor")
        # The machine's limit for one client: the fsyncs of one durable pair,
        # timed in turns with the daemon's loop.
        (res["define_undefine_per_s"], res["define_undefine_cpu_us"], res["define_undefine_client_cpu_us"],
         floor, floor_median, res["fsync_floor_cpu_us"]) = \
            bench_define_undefine(daemon, conn, vtype, args.count, floor_dir)
        shutil.rmtree(floor_dir, ignore_errors=True)
        res["fsync_floor_ms"] = floor * 1e3
        res["fsync_floor_median_ms"] = floor_median * 1e3
        res["pair_ms"] = 1e3 / res["define_undefine_per_s"]
        res["pair_vs_floor"] = res["pair_ms"] / res["fsync_floor_ms"]
        # The disk's limit for as many clients, just before and just after
        # the daemon's loop (the same disk and load): the mean of the two.
        limit_dir = os.path.join(daemon.dir, "fsync-limit")
        before = fsync_limit(limit_dir, CLIENTS, args.count)[0]
        res["define_undefine_n_per_s"], res["define_undefine_n_cpu_us"] = \
            bench_define_undefine_concurrent(daemon, vtype, args.count)
        res["fsync_limit_n_per_s"] = (before + fsync_limit(limit_dir, CLIENTS, args.count)[0]) / 2
        res["n_vs_limit"] = res["define_undefine_n_per_s"] / res["fsync_limit_n_per_s"]
        # A sequential client waits for the fsyncs and for its own CPU.
        res["client_floor_ratio"] = 1 + res["define_undefine_client_cpu_us"] / 1e3 / res["fsync_floor_ms"]
        if args.define_only:
            cleanup_domains(conn)
            conn.close()
            return res
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
    if name == "vrtd":
        # The same with definitions flushed in batches (opt-in; vrtd's
        # default flushes each one before the call returns).
        daemon = start_daemon(name, config="config_sync_ms = 100\n")
        try:
            daemon.wait_first_answer()
            conn = libvirt.open(daemon.uri)
            res["define_undefine_batched_per_s"] = bench_define_undefine(daemon, conn, vtype, args.count)[0]
            conn.close()
        finally:
            daemon.stop()
    return res


def fmt(v, f):
    return "n/a" if v is None else format(v, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["vrtd", "libvirtd"])
    ap.add_argument("--count", type=int, default=1000, help="domains defined (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="start/destroy runs, median (default 5)")
    ap.add_argument("--start-only", action="store_true",
                    help="only start and destroy (with the paired bare QEMU starts)")
    ap.add_argument("--define-only", action="store_true",
                    help="only define+undefine with 1 and with 8 clients, beside the fsync floor")
    args = ap.parse_args()

    vtype = "kvm" if kvm_usable() else "qemu"
    daemons = [args.only] if args.only else ["vrtd", "libvirtd"]
    print(f"domain type {vtype}, {args.count} domains, {args.runs} start/destroy runs, "
          f"{os.cpu_count()} CPUs", file=sys.stderr)
    qemu_run_s, qemu_exit_s = bench_bare_qemu(vtype, args.runs) if not args.define_only else (0, 0)
    results = {}
    for d in daemons:
        print(f"measuring {d} ...", file=sys.stderr)
        results[d] = bench_daemon(d, vtype, args)

    v, l_ = results.get("vrtd", {}), results.get("libvirtd", {})
    n = args.count
    # (label, key, format, higher_is_better, target text)
    start_rows = [
        ("bare QEMU, no devices: exec to cont, ms (median)", "bare_ms", ".1f", None,
         "paired: just before each start"),
        ("bare QEMU, vrtd's command line: exec to cont, ms", "bare_same_ms", ".1f", None,
         "paired: just before each start"),
        ("start: define+create to running, ms (median)", "start_ms", ".1f", False, ""),
        ("start, slowest run, ms", "start_max_ms", ".1f", False, ""),
        ("start / bare QEMU, no devices (median)", "start_vs_bare", ".2f", None, ""),
        ("start / bare QEMU, vrtd's command line (median)", "start_vs_bare_same", ".2f", None,
         f"vrtd <= {TARGET_START_VS_QEMU}"),
        ("destroy, ms (median)", "destroy_ms", ".1f", False, f"vrtd <= {TARGET_DESTROY_MS} ms"),
        ("destroy, slowest run, ms", "destroy_max_ms", ".1f", False, ""),
    ]
    rows = start_rows + [
        ("define+undefine per s, 1 client", "define_undefine_per_s", ",.0f", True, ""),
        ("  ms per pair", "pair_ms", ".3f", False, ""),
        ("  fsync floor: fsyncs of one durable pair, ms", "fsync_floor_ms", ".3f", None,
         "mean; measured in turns with each daemon's loop"),
        ("  the same, median, ms", "fsync_floor_median_ms", ".3f", None, ""),
        ("  ms per pair / fsync floor", "pair_vs_floor", ".2f", None, f"vrtd <= {TARGET_VS_FSYNC_FLOOR}"),
        ("  daemon CPU us per pair", "define_undefine_cpu_us", ",.0f", False, ""),
        ("  client CPU us per pair", "define_undefine_client_cpu_us", ",.0f", None, "python3-libvirt's own"),
        ("  fsync floor's own CPU us per pair", "fsync_floor_cpu_us", ",.0f", None,
         "kernel time of the floor's syscalls, no daemon"),
        ("  (floor + client CPU) / floor", "client_floor_ratio", ".2f", None,
         "the least a sequential client can reach"),
        (f"define+undefine per s, {CLIENTS} clients", "define_undefine_n_per_s", ",.0f", True,
         f">= {TARGET_CLIENTS_AHEAD:.0f}x libvirtd"),
        ("  daemon CPU us per pair", "define_undefine_n_cpu_us", ",.0f", False, ""),
        (f"  disk's limit: {CLIENTS} writers in lockstep, pairs/s", "fsync_limit_n_per_s", ",.0f", None,
         "no daemon, no client; around each loop"),
        ("  pairs/s / disk's limit", "n_vs_limit", ".2f", None, ""),
        ("define+undefine per s, vrtd config_sync_ms = 100", "define_undefine_batched_per_s", ",.0f", True,
         "opt-in, 1 client"),
        (f"listAllDomains ({n} defined) per s", "list_per_s", ",.1f", True, f">= {TARGET_AHEAD:.0f}x libvirtd"),
        ("listAllDomains daemon CPU us/call", "list_cpu_us", ",.0f", False, f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("listAllDomains client CPU us/call", "list_client_cpu_us", ",.0f", False, "python3-libvirt's own"),
        (f"dumpxml of {n} domains, total ms", "dumpxml_total_ms", ",.0f", False, f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("dumpxml per call, us", "dumpxml_per_call_us", ",.0f", False, ""),
        ("dumpxml daemon CPU us/call", "dumpxml_cpu_us", ",.0f", False, ""),
        ("dumpxml client CPU us/call", "dumpxml_client_cpu_us", ",.0f", False, "python3-libvirt's own"),
        (f"daemon anonymous memory with {n} defined, MB", "anon_mb", ".1f", False,
         f"<= 1/{TARGET_AHEAD:.0f} libvirtd"),
        ("  RSS (with shared library pages), MB", "rss_mb", ".1f", False, ""),
        (f"define of {n} domains, total ms", "define_n_ms", ",.0f", False, ""),
        ("daemon start to first answer, ms", "first_answer_ms", ".1f", False, ""),
    ]
    if args.start_only:
        rows = start_rows
    elif args.define_only:
        rows = rows[len(start_rows):len(start_rows) + 13]
    w = max(len(r[0]) for r in rows) + 2
    print(f"\nbench_domains: {vtype} q35 {MEMORY_MIB} MiB guest-less; {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"bare QEMU: exec to `cont` answered {qemu_run_s * 1e3:.1f} ms, exit on SIGTERM "
          f"{qemu_exit_s * 1e3:.1f} ms (median of {args.runs})")
    print("metric".ljust(w) + "vrtd".rjust(10) + "libvirtd".rjust(10) + "ratio".rjust(8) + "   target")
    for label, key, f, higher, target in rows:
        a, b = v.get(key), l_.get(key)
        ratio = ""
        if a and b and higher is not None:
            # "x ahead": how many times better vrtd is than libvirtd.
            ratio = f"{(a / b if higher else b / a):.1f}x"
        print(label.ljust(w) + fmt(a, f).rjust(10) + fmt(b, f).rjust(10) + ratio.rjust(8) + "   " + target)
    print("ratio = how many times vrtd is ahead of libvirtd (>1: vrtd better); "
          "client-bound figures are read as daemon CPU per call")
    if l_.get("define_undefine_n_per_s") and v.get("fsync_limit_n_per_s"):
        want = TARGET_CLIENTS_AHEAD * l_["define_undefine_n_per_s"]
        limit = v["fsync_limit_n_per_s"]
        print(f"{CLIENTS} clients: {TARGET_CLIENTS_AHEAD:.0f}x libvirtd is {want:,.0f} pairs/s; the disk's limit in "
              f"vrtd's turn is {limit:,.0f} ({'above' if limit > want else 'below'} the target)")
    print("start, median ms: bare QEMU no devices {} | bare QEMU vrtd's command line {} | vrtd {} | "
          "libvirtd {}".format(fmt(v.get("bare_ms"), ".1f"), fmt(v.get("bare_same_ms"), ".1f"),
                               fmt(v.get("start_ms"), ".1f"), fmt(l_.get("start_ms"), ".1f")))


if __name__ == "__main__":
    main()

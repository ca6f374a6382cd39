"""Shared pieces of vrt's side-by-side benchmarks against Debian's libvirtd.

Starts a private libvirtd (the system instance in its own mount namespace,
with its sockets, pid file, log and state in a temporary directory; the same
code as the integration tests' fixture, tests/lib/private_libvirtd.py) or
a private vrtd (`vrtd --root DIR`, binary from $VRTD or build/daemon/vrtd),
and measures a daemon from /proc: CPU time (utime+stime in clock ticks),
resident memory (VmRSS), and the time from spawn to the first answered
python3-libvirt connect+getVersion. Needs Debian's /usr/bin/python3 (the
libvirt module is built for it) and root for libvirtd.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
import private_libvirtd  # noqa: E402

LIBVIRTD = private_libvirtd.LIBVIRTD
VRTD = os.environ.get("VRTD", os.path.join(REPO, "build", "daemon", "vrtd"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# For finding out why a libvirtd is slow to start, e.g. "1:qemu 3:*" and level 1.
LIBVIRTD_LOG_FILTERS = os.environ.get("BENCH_LIBVIRTD_LOG_FILTERS", "")
LIBVIRTD_LOG_LEVEL = os.environ.get("BENCH_LIBVIRTD_LOG_LEVEL", "3")

# libvirtd re-probes QEMU when its capability cache is stale: seconds, not ms.
START_TIMEOUT_S = float(os.environ.get("BENCH_START_TIMEOUT", "600"))
STOP_TIMEOUT_S = 30
CONNECT_RETRY_S = 0.001
# See tests/lib/private_libvirtd.py; BENCH_LIBVIRTD_STOCK=1 measures the machine as it is.
HOST_LIKE = os.environ.get("BENCH_LIBVIRTD_STOCK", "") != "1"

# Without a handler, every failed connect attempt while a daemon starts would
# be printed by libvirt on stderr.
libvirt.registerErrorHandler(lambda ctx, err: None, None)


class Daemon:
    """A daemon process we started: pid, client URI, work dir; stop() ends it."""

    def __init__(self, name, argv, uri, workdir, log_path, env=None):
        self.name = name
        self.uri = uri
        self.dir = workdir
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.spawned_at = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid
        self.first_answer_s = None

    def wait_first_answer(self, timeout=START_TIMEOUT_S):
        """Seconds from spawn to the first connect+getVersion that succeeds.

        libvirtd accepts connections before its drivers are ready and holds
        CONNECT_OPEN until they are, so each attempt runs in a thread that we
        can stop waiting for.
        """
        deadline = self.spawned_at + timeout
        while True:
            result = {}

            def attempt():
                try:
                    conn = libvirt.open(self.uri)
                    conn.getVersion()
                    result["at"] = time.monotonic()
                    conn.close()
                except libvirt.libvirtError as e:
                    result["error"] = e
            t = threading.Thread(target=attempt, daemon=True)
            t.start()
            t.join(max(0.0, deadline - time.monotonic()))
            if "at" in result:
                self.first_answer_s = result["at"] - self.spawned_at
                return self.first_answer_s
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"log: {self.log_path}\n{tail(self.log_path)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not answer within {timeout} s; "
                                   f"log: {self.log_path}")
            time.sleep(CONNECT_RETRY_S)

    def cpu_seconds(self):
        return cpu_seconds(self.pid)

    def rss_kib(self):
        return rss_kib(self.pid)

    def anon_kib(self):
        return anon_kib(self.pid)

    def stop(self, keep_dir=False):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def cpu_ticks(pid):
    """utime+stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid):
    return cpu_ticks(pid) / CLK_TCK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def anon_kib(pid):
    """The daemon's anonymous resident memory (heap, stacks, its own data):
    what it allocates, without the pages of the shared libraries it maps,
    which VmRSS counts in full (and a unique-set-size count calls private
    whenever no other process happens to map the same library)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Anonymous in smaps_rollup of pid {pid}")


def start_libvirtd(workdir=None):
    """Debian's libvirtd, system instance, in its own mount namespace with
    private sockets, config and state (tests/lib/private_libvirtd.py), so it
    runs beside the host's libvirtd, if any, and never touches it."""
    if not os.path.exists(LIBVIRTD):
        raise FileNotFoundError(f"{LIBVIRTD} not found (apt-get install libvirt-daemon-system)")
    d = workdir or tempfile.mkdtemp(prefix="vrt-bench-libvirtd-")
    prep = private_libvirtd.prepare(d, log_level=LIBVIRTD_LOG_LEVEL, log_filters=LIBVIRTD_LOG_FILTERS,
                                    host_like=HOST_LIKE)
    return Daemon("libvirtd", prep.argv, prep.uri, d, os.path.join(d, "stderr.log"))


def start_vrtd(workdir=None, extra_args=(), config=None):
    """vrtd on a private root: sockets at ROOT/run/vrt/vrtd-sock(-ro);
    config: vrtd.conf text (ROOT/etc/vrt/vrtd.conf)."""
    if not os.path.exists(VRTD):
        raise FileNotFoundError(f"{VRTD} not found (build vrt first, or set VRTD)")
    d = workdir or tempfile.mkdtemp(prefix="vrt-bench-vrtd-")
    # vrtd runs QEMU as qemu.conf's user (libvirt-qemu by default), which
    # must reach the domain's run directory under the root (mkdtemp: 0700).
    os.chmod(d, 0o755)
    if config is not None:
        os.makedirs(os.path.join(d, "etc", "vrt"), exist_ok=True)
        with open(os.path.join(d, "etc", "vrt", "vrtd.conf"), "w") as f:
            f.write(config)
    argv = [VRTD, "--root", d, *extra_args]
    uri = f"qemu+unix:///system?socket={d}/run/vrt/vrtd-sock"
    return Daemon("vrtd", argv, uri, d, os.path.join(d, "vrtd.stderr.log"))


STARTERS = {"libvirtd": start_libvirtd, "vrtd": start_vrtd}


def measure_loop(daemon, conn, fn, calls, warmup=200):
    """Run fn(conn) `calls` times; return (calls per second, daemon CPU µs per call)."""
    for _ in range(warmup):
        fn(conn)
    cpu0 = cpu_ticks(daemon.pid)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn(conn)
    elapsed = time.perf_counter() - t0
    cpu = (cpu_ticks(daemon.pid) - cpu0) / CLK_TCK
    return calls / elapsed, cpu / calls * 1e6


def print_table(title, rows, daemons):
    """rows: list of (label, {daemon: value or None}, format)."""
    width = max(len(r[0]) for r in rows) + 2
    print(title)
    print("".ljust(width) + "".join(d.rjust(14) for d in daemons))
    for label, values, fmt in rows:
        cells = []
        for d in daemons:
            v = values.get(d)
            cells.append(("n/a" if v is None else format(v, fmt)).rjust(14))
        print(label.ljust(width) + "".join(cells))

"""Shared pieces of vrt's side-by-side benchmarks against Debian's libvirtd.

Starts a private libvirtd (the system instance with its sockets, pid file and
log in a temporary directory: config written here, auth none, no TCP/TLS) or
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
import tempfile
import threading
import time

import libvirt

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBVIRTD = os.environ.get("LIBVIRTD", "/usr/sbin/libvirtd")
VRTD = os.environ.get("VRTD", os.path.join(REPO, "build", "daemon", "vrtd"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# For finding out why a libvirtd is slow to start, e.g. "1:qemu 3:*" and level 1.
LIBVIRTD_LOG_FILTERS = os.environ.get("BENCH_LIBVIRTD_LOG_FILTERS", "")
LIBVIRTD_LOG_LEVEL = os.environ.get("BENCH_LIBVIRTD_LOG_LEVEL", "3")

# libvirtd re-probes QEMU when its capability cache is stale: seconds, not ms.
START_TIMEOUT_S = float(os.environ.get("BENCH_START_TIMEOUT", "600"))
STOP_TIMEOUT_S = 30
CONNECT_RETRY_S = 0.001
LIBVIRTD_BUSY_WAIT_S = 300
# See host_like_wrapper(); BENCH_LIBVIRTD_STOCK=1 measures the machine as it is.
HOST_LIKE = os.environ.get("BENCH_LIBVIRTD_STOCK", "") != "1"
HOST_LIKE_DIR = "/var/tmp/vrt-bench-libvirtd"
SYSTEM_DRIVER_LOCKS = ["/run/libvirt/qemu/driver.pid", "/run/libvirt/network/driver.pid",
                       "/run/libvirt/nodedev/driver.pid"]

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


def system_libvirtd_pid():
    """Pid of a running system-instance libvirtd (any socket), or None.

    Its drivers hold locks on pid files under /run/libvirt; a second system
    instance fails with "Failed to acquire pid file" and cannot be measured.
    """
    for lock in SYSTEM_DRIVER_LOCKS:
        try:
            with open(lock) as f:
                pid = int(f.read().strip() or 0)
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "libvirtd":
                    return pid
        except (OSError, ValueError):
            continue
    return None


def host_like_wrapper(argv):
    """Run argv in a private mount namespace that looks like a normal Debian host.

    Here /dev/kvm is 0600 root:root (no udev), so libvirtd finds KVM unusable
    for its libvirt-qemu user, declares its QEMU capability cache stale and
    re-probes QEMU on every start (seconds to minutes on a busy machine), and
    concurrent libvirtds rewrite the shared cache. Only inside the namespace,
    /dev/kvm is replaced by a node with udev's usual 0660 root:kvm and the cache
    directory by one kept for the benchmarks, so after its first start libvirtd
    starts as on a host; its qemu.conf gains stdio_handler = "file" so domains
    start without virtlogd. Nothing outside the namespace changes.
    """
    os.makedirs(HOST_LIKE_DIR, exist_ok=True)
    cache = os.path.join(HOST_LIKE_DIR, "qemu-cache")
    os.makedirs(cache, exist_ok=True)
    kvm = os.path.join(HOST_LIKE_DIR, "kvm")
    if os.path.exists("/dev/kvm") and not os.path.exists(kvm):
        st = os.stat("/dev/kvm")
        os.mknod(kvm, 0o660 | (st.st_mode & 0o170000), st.st_rdev)
    if os.path.exists(kvm):
        os.chmod(kvm, 0o660)    # mknod's mode passes through the umask
        try:
            shutil.chown(kvm, "root", "kvm")
        except LookupError:
            pass
    # Starting a domain needs virtlogd or stdio_handler = "file"; take the
    # host's qemu.conf and add the latter, visible to this libvirtd only.
    qemu_conf = os.path.join(HOST_LIKE_DIR, "qemu.conf")
    with open("/etc/libvirt/qemu.conf") as src, open(qemu_conf + ".tmp", "w") as dst:
        dst.write(src.read() + '\nstdio_handler = "file"\n')
    os.replace(qemu_conf + ".tmp", qemu_conf)
    script = f'mount --bind "{qemu_conf}" /etc/libvirt/qemu.conf && '
    if os.path.exists(kvm):
        script += f'mount --bind "{kvm}" /dev/kvm && '
    script += f'mount --bind "{cache}" /var/cache/libvirt/qemu && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]


def start_libvirtd(workdir=None, wait_busy_s=LIBVIRTD_BUSY_WAIT_S):
    """Debian's libvirtd, system instance, on private sockets in a temporary dir.

    It still keeps state under /etc/libvirt and /run/libvirt, so only one such
    libvirtd (or the host's own) can run at a time: wait up to wait_busy_s for
    another one (e.g. an integration test's) to exit, then give up clearly.
    """
    if not os.path.exists(LIBVIRTD):
        raise FileNotFoundError(f"{LIBVIRTD} not found (apt-get install libvirt-daemon-system)")
    deadline = time.monotonic() + wait_busy_s
    while (other := system_libvirtd_pid()) is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"another system libvirtd (pid {other}) holds /run/libvirt; "
                               f"only one can run at a time")
        time.sleep(0.5)
    d = workdir or tempfile.mkdtemp(prefix="vrt-bench-libvirtd-")
    conf = os.path.join(d, "libvirtd.conf")
    with open(conf, "w") as f:
        f.write(f'unix_sock_dir = "{d}"\n'
                'auth_unix_rw = "none"\n'
                'auth_unix_ro = "none"\n'
                'listen_tls = 0\n'
                'listen_tcp = 0\n'
                f'log_outputs = "{LIBVIRTD_LOG_LEVEL}:file:{d}/libvirtd.log"\n')
        if LIBVIRTD_LOG_FILTERS:
            f.write(f'log_filters = "{LIBVIRTD_LOG_FILTERS}"\n')
    argv = [LIBVIRTD, "--config", conf, "--pid-file", os.path.join(d, "libvirtd.pid")]
    if HOST_LIKE:
        argv = host_like_wrapper(argv)
    uri = f"qemu+unix:///system?socket={d}/libvirt-sock"
    return Daemon("libvirtd", argv, uri, d, os.path.join(d, "stderr.log"))


def start_vrtd(workdir=None, extra_args=(), config=None):
    """vrtd on a private root: sockets at ROOT/run/vrt/vrtd-sock(-ro);
    config: vrtd.conf text (ROOT/etc/vrt/vrtd.conf)."""
    if not os.path.exists(VRTD):
        raise FileNotFoundError(f"{VRTD} not found (build vrt first, or set VRTD)")
    d = workdir or tempfile.mkdtemp(prefix="vrt-bench-vrtd-")
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

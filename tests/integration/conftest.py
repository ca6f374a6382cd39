"""Shared fixtures of vrt's integration tests: a private vrtd on a temporary
root, a private Debian libvirtd (in its own mount namespace, so it runs beside
a host's libvirtd), and helpers to run virsh and vrt.

When VRT_BUILD names a build made with -Db_sanitize=address,undefined, every
vrtd a test starts runs instrumented; a sanitizer report in its stderr (an
ASan error, or a UBSan "runtime error:") fails that test, whether or not
the report also made vrtd exit (UBSAN_OPTIONS=halt_on_error=1)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import private_libvirtd  # noqa: E402
BUILD = os.environ.get("VRT_BUILD", os.path.join(SRC, "build"))
VRTD = os.path.join(BUILD, "daemon", "vrtd")
VRT = os.path.join(BUILD, "client", "vrt")


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# What sanitizers print at the start of a report.
SANITIZER_MARKS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer")
_sanitizer_logs = {}      # vrtd log path -> bytes of it already scanned
_sanitizer_reports = []   # reports found during the current test


def scan_sanitizer_reports(log):
    """Records sanitizer reports written to log since its last scan."""
    try:
        with open(log, "rb") as f:
            f.seek(_sanitizer_logs.get(log, 0))
            data = f.read()
    except FileNotFoundError:
        return
    _sanitizer_logs[log] = _sanitizer_logs.get(log, 0) + len(data)
    text = data.decode(errors="replace")
    hits = [text.find(m) for m in SANITIZER_MARKS if m in text]
    if hits:
        first = min(hits)
        _sanitizer_reports.append(f"{log}:\n{text[max(0, first - 300):first + 4000]}")


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """Fails the test when a vrtd it started reported a sanitizer error. The
    logs are scanned when a vrtd stops and before its root is removed."""
    _sanitizer_logs.clear()
    _sanitizer_reports.clear()
    yield
    for log in list(_sanitizer_logs):
        scan_sanitizer_reports(log)
    reports = list(_sanitizer_reports)
    _sanitizer_logs.clear()
    _sanitizer_reports.clear()
    if reports:
        pytest.fail("vrtd reported sanitizer errors:\n" + "\n".join(reports), pytrace=False)


class Vrtd:
    """A vrtd serving a private root; stopped at the end of the test."""

    def __init__(self, root, config=None, extra_args=(), env=None):
        self.root = root
        self.config = config
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.sock = os.path.join(root, "run", "vrt", "vrtd-sock")
        self.sock_ro = os.path.join(root, "run", "vrt", "vrtd-sock-ro")
        self.uri = f"qemu+unix:///system?socket={self.sock}"
        self.uri_ro = f"qemu+unix:///system?socket={self.sock_ro}"
        self.log = os.path.join(root, "vrtd.stderr")

    def start(self, wait=True):
        args = [VRTD, "--root", self.root] + self.extra_args
        if self.config:
            args += ["--config", self.config]
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        _sanitizer_logs.setdefault(self.log, os.path.getsize(self.log) if os.path.exists(self.log) else 0)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"), env=env)
        if wait:
            # A killed vrtd leaves its socket file: wait until one accepts.
            wait_for(lambda: self._connectable() or self.proc.poll() is not None, what="vrtd's socket")
            assert self.proc.poll() is None, f"vrtd exited: {self.stderr()}"
        return self

    def _connectable(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stderr(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        scan_sanitizer_reports(self.log)
        return self.proc.returncode if self.proc else None


def kill_vms_under(root):
    """VMs outlive vrtd by design: a test's teardown ends those of its root."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if root in cmd and cmd.split("\0", 1)[0].endswith(("qemu-system-x86_64", "-qemu", "qmpemu.py", "python3")) \
                and "qemu" in cmd:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def tmproot():
    d = tempfile.mkdtemp(prefix="vrt-test-")
    yield d
    kill_vms_under(d)
    for log in list(_sanitizer_logs):
        if log.startswith(d + os.sep):
            scan_sanitizer_reports(log)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def vrtd(tmproot):
    d = Vrtd(tmproot).start()
    yield d
    d.stop()


def run(args, check=True, timeout=60, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}):\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def virsh(uri, *args, check=True, timeout=60):
    return run(["virsh", "-q", "-c", uri] + list(args), check=check, timeout=timeout)


def vrt(uri, *args, check=True, timeout=60):
    return run([VRT, "-c", uri] + list(args), check=check, timeout=timeout)


class Libvirtd:
    """Debian's libvirtd in its own mount namespace (tests/lib/private_libvirtd.py):
    private config, sockets, /run/libvirt, /etc/libvirt and state dirs, so it
    runs beside a host libvirtd and never touches it."""

    def __init__(self, d):
        self.prep = private_libvirtd.prepare(d)
        self.dir = d
        self.sock = self.prep.sock
        self.uri = self.prep.uri
        self.conf = self.prep.conf
        self.pidfile = self.prep.pidfile
        self.proc = None

    def start(self):
        with open(os.path.join(self.dir, "stderr.log"), "ab") as err:
            self.proc = subprocess.Popen(self.prep.argv, stdout=subprocess.DEVNULL, stderr=err)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, timeout=120,
                 what="libvirtd's socket")
        if self.proc.poll() is not None:
            log = ""
            for name in ("stderr.log", "libvirtd.log"):
                try:
                    with open(os.path.join(self.dir, name), errors="replace") as f:
                        log += f.read()[-2000:]
                except FileNotFoundError:
                    pass
            raise AssertionError(f"libvirtd exited at start:\n{log}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def libvirtd():
    if not os.path.exists(private_libvirtd.LIBVIRTD):
        pytest.skip("Debian's libvirtd is not installed")
    if os.geteuid() != 0:
        pytest.skip("a private system libvirtd needs root (its own mount namespace)")
    d = tempfile.mkdtemp(prefix="vrt-libvirtd-")
    lv = Libvirtd(d).start()
    yield lv
    lv.stop()
    shutil.rmtree(d, ignore_errors=True)

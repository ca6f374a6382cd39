"""The one fixture module of vrt's Python tests: where the build is, the rule
for a missing prerequisite, and how a test gets a private vrtd, a private
Debian libvirtd, the simulated SR-IOV host (tests/hostsim) and the QMP
emulator (tests/qmpemu) in QEMU's place.

tests/conftest.py imports everything here, so every test under tests/ has
the fixtures (tmproot, vrtd, libvirtd, hostsim, hostsim_vrtd) and the
sanitizer check; test files import the helpers from this module by name.
The pieces the benchmarks share (tests/lib/private_libvirtd.py,
tests/lib/qmpemu_wrapper.py) stay free of pytest.

Missing prerequisites (a program, a Python module, root, /dev/fuse): one
rule, require(). A developer's run skips the test and says what is missing;
a CI run (CI set, as CI systems and .ci/run do) fails it, because
scripts/install-deps installs everything a test needs, so a missing piece
there is a broken machine, not a reason to pass quietly.

When the build was made with -Db_sanitize=address,undefined, every vrtd a
test starts runs instrumented; a sanitizer report in its stderr (an ASan
error, or a UBSan "runtime error:") fails that test, whether or not the
report also made vrtd exit (UBSAN_OPTIONS=halt_on_error=1)."""
import functools
import gc
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

LIB = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(LIB))
if LIB not in sys.path:
    sys.path.insert(0, LIB)
import private_libvirtd  # noqa: E402
import qmpemu_wrapper  # noqa: E402

# tests/run and meson set both; either names the build whose binaries run.
BUILD = os.environ.get("VRT_BUILD") or os.environ.get("VRT_BUILD_DIR") or os.path.join(SRC, "build")
VRTD = os.path.join(BUILD, "daemon", "vrtd")
VRT = os.path.join(BUILD, "client", "vrt")
PY = "/usr/bin/python3"   # Debian's: python3-libvirt and python3-fusepy are built for it
HOSTSIM = os.path.join(SRC, "tests", "hostsim", "hostsim")
QMPEMU = qmpemu_wrapper.QMPEMU


# ---- the rule for missing prerequisites ----

def in_ci():
    """True in a CI run: CI set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(ok, reason):
    """Stops the test (or module, or fixture) when a prerequisite is missing:
    a skip saying `reason` in a developer's run, a failure under CI."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"missing prerequisite (CI installs everything): {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def needs(ok, reason):
    """require() as a decorator, for a check that does not depend on fixtures."""
    def wrap(test):
        if ok:
            return test

        @functools.wraps(test)
        def missing(*args, **kwargs):
            require(False, reason)
        return missing
    return wrap


def import_required(name, reason=None):
    """The module, or require() says it is missing (also at module level)."""
    if "/usr/lib/python3/dist-packages" not in sys.path:
        sys.path.insert(0, "/usr/lib/python3/dist-packages")
    try:
        return __import__(name)
    except ImportError:
        require(False, reason or f"the Python module {name} is not installed")


def built(*relpaths, env=None):
    """The first of relpaths (inside the build dir) that is an executable,
    or $env when set; None when none is built."""
    if env and os.environ.get(env):
        return os.environ[env]
    for rel in relpaths:
        for p in sorted(glob.glob(os.path.join(BUILD, rel))):
            if os.access(p, os.X_OK):
                return p
    return None


# ---- small helpers ----

# How long a vrtd may take to listen: a start that autostarts networks and
# domains first can take tens of seconds on a loaded 2-core machine (ASan,
# other test runs beside it). A bound on a wait, not a speed check.
START_TIMEOUT = 60


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def pid_alive(pid):
    """True while pid runs. A zombie (exited, not reaped yet) counts as gone,
    and so does a process that exits between the open and the read of its
    stat file (the read then fails with ESRCH)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def run(args, check=True, timeout=60, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}):\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def virsh(uri, *args, check=True, timeout=60):
    return run(["virsh", "-q", "-c", uri] + list(args), check=check, timeout=timeout)


def qom_get(uri, name, path, prop):
    """A QOM property of domain name's QEMU (virsh qemu-monitor-command qom-get)."""
    out = virsh(uri, "qemu-monitor-command", name, json.dumps(
        {"execute": "qom-get", "arguments": {"path": path, "property": prop}})).stdout
    return json.loads(out)["return"]


def vrt(uri, *args, check=True, timeout=60):
    return run([VRT, "-c", uri] + list(args), check=check, timeout=timeout)


def kill_vms_under(root):
    """VMs outlive vrtd by design: a test's teardown ends those of its root
    (real QEMU and the emulator's wrapper alike), never anyone else's."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if root in cmd and cmd.split("\0", 1)[0].endswith(("qemu-system-x86_64", "-qemu", "qmpemu.py", "python3")) \
                and ("qemu" in cmd or "qmpemu" in cmd):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---- sanitizer reports of the vrtds a test started ----

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
    # A libvirt connection kept alive by a reference cycle (an exception's
    # traceback holding a frame, say) is closed whenever Python's collector
    # next runs; in a later test, that close on a vanished vrtd would
    # replace the thread's last libvirt error between a failed call and the
    # libvirtError built for it. Collect here, where nothing reads it.
    gc.collect()
    for log in list(_sanitizer_logs):
        scan_sanitizer_reports(log)
    reports = list(_sanitizer_reports)
    _sanitizer_logs.clear()
    _sanitizer_reports.clear()
    if reports:
        pytest.fail("vrtd reported sanitizer errors:\n" + "\n".join(reports), pytrace=False)


# ---- vrtd ----

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
        assert os.access(VRTD, os.X_OK), f"{VRTD} is not built (set VRT_BUILD to the build dir)"
        args = [VRTD, "--root", self.root] + self.extra_args
        if self.config:
            args += ["--config", self.config]
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        _sanitizer_logs.setdefault(self.log, os.path.getsize(self.log) if os.path.exists(self.log) else 0)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"), env=env)
        if wait:
            # A killed vrtd leaves its socket files: wait until both accept
            # (vrtd listens on the read-write socket first, then read-only).
            wait_for(lambda: self._connectable() or self.proc.poll() is not None, timeout=START_TIMEOUT,
                     what="vrtd's sockets")
            assert self.proc.poll() is None, f"vrtd exited: {self.stderr()}"
        return self

    def _connectable(self):
        # The read-only socket is vrtd-sock-ro beside vrtd-sock (a test may
        # move both with unix_sock_dir and set .sock alone).
        for path in (self.sock, self.sock + "-ro"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
            except OSError:
                return False
            finally:
                s.close()
        return True

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


def qemu_user_ids():
    """(uid, gid) of libvirt-qemu, whom vrtd runs QEMU as by default; None
    when the host has no such user."""
    import grp
    import pwd
    try:
        return pwd.getpwnam("libvirt-qemu").pw_uid, grp.getgrnam("libvirt-qemu").gr_gid
    except KeyError:
        return None


@pytest.fixture
def tmp_path():
    """pytest's tmp_path, but reachable by QEMU's user: vrtd runs QEMU as
    qemu.conf's user (libvirt-qemu by default), which must reach the disks,
    kernels and sockets a test puts here, as it must under libvirt; pytest's
    own directory (/tmp/pytest-of-root, 0700, reset at each session) is not.
    A fresh 0755 directory in /tmp, removed at the end."""
    import pathlib
    d = tempfile.mkdtemp(prefix="vrt-tmp-")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def tmproot():
    """A private root (short path: vrtd's sockets live under it); the VMs
    started under it are killed and it is removed at the end."""
    d = tempfile.mkdtemp(prefix="vrt-test-")
    # vrtd runs QEMU as qemu.conf's user (libvirt-qemu by default), which
    # must reach the domains' run directories and files under this root:
    # searchable, as a host's /run and /var/lib are.
    os.chmod(d, 0o755)
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


# ---- Debian's libvirtd ----

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
        # The socket's file appears at bind(), before listen(): connectable.
        wait_for(lambda: self._connectable() or self.proc.poll() is not None, timeout=120,
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

    def _connectable(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

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
    require(os.path.exists(private_libvirtd.LIBVIRTD), "Debian's libvirtd is not installed")
    require(os.geteuid() == 0, "a private system libvirtd needs root (its own mount namespace)")
    d = tempfile.mkdtemp(prefix="vrt-libvirtd-")
    lv = Libvirtd(d)
    try:
        yield lv.start()
    finally:
        lv.stop()
        shutil.rmtree(d, ignore_errors=True)


# ---- the simulated SR-IOV host (tests/hostsim) ----

def hostsim_missing():
    """Why hostsim cannot run here, or None."""
    if os.geteuid() != 0:
        return "hostsim needs root to mount FUSE"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine"
    if subprocess.run([PY, "-c", "import fusepy"], capture_output=True).returncode != 0:
        return "python3-fusepy is not installed (apt-get install python3-fusepy)"
    return None


class Hostsim:
    """tests/hostsim serving a host under root (PF ens1f0 and its VFs
    0000:06:10.x with the defaults); stop() unmounts it."""

    def __init__(self, root):
        self.root = root
        self.started = False

    def run(self, *args, timeout=60):
        r = subprocess.run([PY, HOSTSIM] + list(args), capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def start(self, pfs=1, vfs=4, vfs_per_group=1):
        os.makedirs(self.root, exist_ok=True)
        self.run("start", self.root, "--pfs", str(pfs), "--vfs", str(vfs), "--vfs-per-group", str(vfs_per_group))
        self.started = True
        return self

    def show(self):
        return json.loads(self.run("show", self.root))

    def vfs(self):
        """VF address -> its state (driver, netdev, mac, vlan, ...)."""
        return {vf["addr"]: vf for pf in self.show()["pfs"] for vf in pf["vfs"]}

    def stop(self):
        if self.started:
            self.started = False
            self.run("stop", self.root)


@pytest.fixture
def hostsim(tmp_path):
    """The simulated host under tmp_path/host: 1 PF ens1f0 with 4 VFs."""
    reason = hostsim_missing()
    require(reason is None, reason)
    h = Hostsim(str(tmp_path / "host"))
    try:
        yield h.start()
    finally:
        h.stop()


@pytest.fixture
def hostsim_vrtd(hostsim, tmp_path):
    """vrtd on a private root (tmp_path/root) reading the simulated host;
    .host is the host's root."""
    root = str(tmp_path / "root")
    os.makedirs(root)
    d = Vrtd(root, extra_args=["--host-root", hostsim.root])
    d.host = hostsim.root
    try:
        yield d.start()
    finally:
        d.stop()
        kill_vms_under(root)


# ---- the QMP emulator (tests/qmpemu) in QEMU's place ----

class QmpEmu:
    """A QEMU binary for a domain's <emulator> that runs qmpemu with a
    behaviour file (JSON, rewritable while it runs) and logs its QMP
    commands; files are DIR/NAME-qemu, NAME-qmpemu.json, NAME-qmp.log."""

    def __init__(self, d, name, behaviour=None, defaults=None):
        self.config = os.path.join(d, f"{name}-qmpemu.json")
        self.log = os.path.join(d, f"{name}-qmp.log")
        self.defaults = dict(defaults or {})
        self.set_behaviour(behaviour or {})
        # The emulator runs as QEMU runs, as qemu.conf's user
        # (libvirt-qemu): its log is made writable for it.
        with open(self.log, "a"):
            pass
        os.chmod(self.log, 0o666)
        self.binary = qmpemu_wrapper.write(os.path.join(d, f"{name}-qemu"), self.config, self.log)

    def set_behaviour(self, behaviour):
        b = dict(self.defaults)
        b.update(behaviour)
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(b, f)
        os.replace(tmp, self.config)

    def commands(self):
        """The QMP commands it received, in order."""
        try:
            with open(self.log) as f:
                return [r["cmd"] for r in map(json.loads, filter(str.strip, f)) if "cmd" in r]
        except FileNotFoundError:
            return []

    def agent_commands(self):
        """The guest agent commands its emulated qemu-ga received, in order."""
        try:
            with open(self.log) as f:
                return [r["agent"] for r in map(json.loads, filter(str.strip, f)) if "agent" in r]
        except FileNotFoundError:
            return []

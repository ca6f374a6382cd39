"""The tiny test guest and a direct way to boot it under real QEMU.

Tests import this module (put tests/guest on sys.path) for two things:

- ``guest_paths()`` -> ``(kernel, initrd)``: builds the guest once with
  ``build-guest.sh`` (cached under $VRT_GUEST_CACHE or ~/.cache/vrt/guest/).
  Use these in a domain's ``<os><kernel>/<initrd>/<cmdline>console=ttyS0``
  with ``<domain type='qemu'>`` (TCG: nested KVM hangs a Linux guest here).
- ``domain_xml(name, machine, console_log=...)``: libvirt domain XML that
  boots it (TCG, ACPI, pcie-root-ports on q35, serial console to a file), and
  ``wait_file_marker(path)`` to wait for the ready marker in that file.
- ``Guest``: boots QEMU itself with a QMP socket and the serial console on a
  pipe, for tests of the guest and of QEMU's behaviour (not of vrtd), or,
  given ``paths=vrtd_guest_paths(build)``, of the vrtd guest.
- ``vrtd_guest_paths(build)`` -> ``(kernel, initrd)``: the same kernel with
  the initramfs of ``build-vrtd-guest.sh``, which runs that build's vrtd and
  vrt inside the guest and prints tc's view of a network's <bandwidth>
  (see that script's header; boot it with ``VRTD_GUEST_CMDLINE``).

What the guest does (relied on by the domain and hotplug tests):
  prints ``READY_MARKER`` on the serial console when ready, again after every
  reset; powers off on the ACPI power button (``system_powerdown`` -> SHUTDOWN
  event, QEMU exits), printing ``POWEROFF_MARKER`` first; acknowledges the
  hot-unplug of a virtio-net-pci on pc (ACPI hotplug) and on q35 behind a
  pcie-root-port (DEVICE_DELETED follows ``device_del``); runs a shell on
  the console so ``console_send("reboot -f")`` reboots it from inside.
  In that shell ``udhcpc -i eth0 -q`` takes a DHCP lease and applies it
  (address, default route, /etc/resolv.conf), printing
  ``VRT-GUEST-LEASE eth0 ADDRESS``; busybox's nslookup, ping and nc use
  it (nc and ping given an address; this busybox-static's wget crashes).

Measured on the project machine (2 shared cores, QEMU 7.2, TCG, 256 MiB,
``-append console=ttyS0``): exec to READY 2.45-2.9 s on pc and q35; reset to
READY again 2.6-2.7 s (now and then ~5.2 s); system_powerdown to QEMU exit
~65 ms; device_del to DEVICE_DELETED for a virtio-net-pci with virtio_net
bound 160-210 ms on pc and 90-120 ms on q35 (root port), for a device the
guest has no driver for (e1000) 55-60 ms. test_guest.py enforces looser bounds.

Python 3 stdlib only.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_SCRIPT = os.path.join(HERE, "build-guest.sh")
VRTD_BUILD_SCRIPT = os.path.join(HERE, "build-vrtd-guest.sh")
READY_MARKER = "VRT-GUEST-READY"
POWEROFF_MARKER = "VRT-GUEST-POWEROFF"
KERNEL_CMDLINE = "console=ttyS0"
# The vrtd guest: quiet (the kernel's messages cost time on an emulated
# serial port) and a panic (/init dying) reboots, which -no-reboot turns
# into QEMU's exit.
VRTD_GUEST_CMDLINE = "console=ttyS0 quiet panic=-1"
QEMU = os.environ.get("VRT_QEMU", "qemu-system-x86_64")

# Bounds for waiting; generous because two cores are shared by parallel builds.
BUILD_TIMEOUT_S = 600
BOOT_TIMEOUT_S = 60
QMP_TIMEOUT_S = 30


class QMPError(Exception):
    """A QMP command answered with an error; .cls and .desc are QEMU's."""

    def __init__(self, cls, desc):
        super().__init__(f"{cls}: {desc}")
        self.cls = cls
        self.desc = desc


def guest_paths():
    """Return (kernel, initrd), building the guest first if it is not cached."""
    out = subprocess.run([BUILD_SCRIPT], check=True, capture_output=True,
                         text=True, timeout=BUILD_TIMEOUT_S).stdout
    paths = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    return _reachable(paths["kernel"]), _reachable(paths["initrd"])


def vrtd_guest_paths(build):
    """Return (kernel, initrd) of the vrtd guest for the vrt build dir
    build, building its initramfs first if that build's is not cached."""
    out = subprocess.run([VRTD_BUILD_SCRIPT, build], check=True, capture_output=True,
                         text=True, timeout=BUILD_TIMEOUT_S).stdout
    paths = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    return paths["kernel"], paths["initrd"]


def _reachable(path):
    """path, or a copy of it under /var/tmp/vrt-guest when QEMU's
    unprivileged user (vrtd runs QEMU as libvirt-qemu) cannot reach it,
    e.g. in root's 0700 home. The copy keeps the modification time."""
    d = os.path.dirname(os.path.abspath(path))
    while d != "/":
        if os.stat(d).st_mode & 0o001 == 0:
            break
        d = os.path.dirname(d)
    else:
        return path
    shared = "/var/tmp/vrt-guest"
    os.makedirs(shared, exist_ok=True)
    os.chmod(shared, 0o755)
    copy = os.path.join(shared, os.path.basename(path))
    src = os.stat(path)
    try:
        dst = os.stat(copy)
        if dst.st_size == src.st_size and dst.st_mtime_ns == src.st_mtime_ns:
            return copy
    except FileNotFoundError:
        pass
    tmp = copy + f".{os.getpid()}"
    shutil.copy2(path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, copy)
    return copy


def domain_xml(name, machine="q35", memory_mib=256, console_log=None,
               root_ports=4, devices="", uuid=None, emulator="/usr/bin/qemu-system-x86_64"):
    """libvirt domain XML booting the test guest under TCG (type='qemu').

    console_log: file that receives the serial console (watch it with
    wait_file_marker); root_ports: free pcie-root-ports on q35 for hotplug;
    devices: extra XML put inside <devices>. Valid against libvirt's domain.rng.
    """
    kernel, initrd = guest_paths()
    uuid_xml = f"  <uuid>{uuid}</uuid>\n" if uuid else ""
    ports = ""
    if machine == "q35":
        # libvirt numbers unindexed controllers from 0, which must be pcie-root.
        ports = "    <controller type='pci' index='0' model='pcie-root'/>\n" + "".join(
            f"    <controller type='pci' index='{i}' model='pcie-root-port'/>\n"
            for i in range(1, root_ports + 1))
    serial = ""
    if console_log:
        serial = (f"    <serial type='file'>\n      <source path='{console_log}'/>\n"
                  f"      <target port='0'/>\n    </serial>\n")
    return (f"<domain type='qemu'>\n  <name>{name}</name>\n{uuid_xml}"
            f"  <memory unit='MiB'>{memory_mib}</memory>\n  <vcpu>1</vcpu>\n"
            f"  <os>\n    <type arch='x86_64' machine='{machine}'>hvm</type>\n"
            f"    <kernel>{kernel}</kernel>\n    <initrd>{initrd}</initrd>\n"
            f"    <cmdline>{KERNEL_CMDLINE}</cmdline>\n  </os>\n"
            f"  <features>\n    <acpi/>\n  </features>\n"
            f"  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
            f"  <on_crash>destroy</on_crash>\n"
            f"  <devices>\n    <emulator>{emulator}</emulator>\n{ports}"
            # No USB controller or balloon: they would take root ports meant for hotplug.
            f"    <controller type='usb' model='none'/>\n{serial}{devices}"
            f"    <memballoon model='none'/>\n"
            f"  </devices>\n</domain>\n")


def wait_file_marker(path, marker=READY_MARKER, count=1, timeout=BOOT_TIMEOUT_S):
    """Wait until a console log file holds marker count times; return seconds waited."""
    t0 = time.monotonic()
    while True:
        try:
            with open(path, errors="replace") as f:
                if f.read().count(marker) >= count:
                    return time.monotonic() - t0
        except FileNotFoundError:
            pass
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{marker!r} x{count} not in {path} within {timeout} s")
        time.sleep(0.05)


class QMP:
    """A minimal synchronous QMP client: replies matched by order, events kept."""

    def __init__(self, path, timeout=QMP_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.sock.settimeout(timeout)
        # Own line buffer: a socket file object is unusable after one timeout,
        # and waiting for an event that never comes is a normal outcome here.
        self.buf = b""
        self.events = []
        self.greeting = self._read()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\r\n")

    def execute(self, name, **args):
        """Run a command; return its full reply dict ({"return": ...} or {"error": ...})."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.send_raw(msg)
        while True:
            obj = self._read()
            if "event" in obj:
                self.events.append(obj)
                continue
            return obj

    def cmd(self, name, **args):
        """Run a command; return its "return" value or raise QMPError."""
        reply = self.execute(name, **args)
        if "error" in reply:
            raise QMPError(reply["error"]["class"], reply["error"]["desc"])
        return reply["return"]

    def wait_event(self, name, timeout=QMP_TIMEOUT_S, match=None):
        """Return (and consume) the first event called name, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name and (match is None or match(ev)):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name} event within {timeout} s")
            self.sock.settimeout(left)
            try:
                obj = self._read()
            except socket.timeout:
                raise TimeoutError(f"no {name} event within {timeout} s") from None
            finally:
                self.sock.settimeout(QMP_TIMEOUT_S)
            if "event" in obj:
                self.events.append(obj)


class Guest:
    """Real QEMU running the test guest, with QMP and the serial console.

    g = Guest(machine="q35"); g.start(); g.wait_ready(); g.qmp.cmd(...); g.stop()
    Also a context manager. The console output is kept in g.console (str) and
    written to DIR/console.log.
    """

    def __init__(self, machine="pc", memory_mb=256, extra_args=(),
                 accel="tcg", workdir=None, paths=None, append=KERNEL_CMDLINE):
        self.machine = machine
        self.paths = paths
        self.append = append
        self.memory_mb = memory_mb
        self.extra_args = list(extra_args)
        self.accel = accel
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="vrt-guest-")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.proc = None
        self.qmp = None
        self.console = ""
        self._cond = threading.Condition()
        self._reader = None
        self.started_at = None

    def command_line(self):
        kernel, initrd = self.paths or guest_paths()
        return [QEMU, "-accel", self.accel, "-machine", self.machine,
                "-m", str(self.memory_mb), "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none",
                "-kernel", kernel, "-initrd", initrd,
                "-append", self.append,
                "-serial", "stdio",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
                *self.extra_args]

    def start(self):
        argv = self.command_line()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        self._reader = threading.Thread(target=self._read_console, daemon=True)
        self._reader.start()
        self.qmp = QMP(self.qmp_path)
        self.qmp.cmd("qmp_capabilities")
        return self

    def _read_console(self):
        with open(os.path.join(self.dir, "console.log"), "wb") as log:
            while True:
                chunk = self.proc.stdout.read1(4096)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                with self._cond:
                    self.console += chunk.decode(errors="replace")
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def marker_count(self, marker=READY_MARKER):
        with self._cond:
            return self.console.count(marker)

    def wait_console(self, marker=READY_MARKER, count=1, timeout=BOOT_TIMEOUT_S):
        """Wait until marker has appeared count times; return seconds since start()."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.console.count(marker) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{marker!r} x{count} not seen within "
                                       f"{timeout} s; console tail:\n"
                                       f"{self.console[-2000:]}")
                if not self._reader.is_alive():
                    raise RuntimeError(f"QEMU exited before {marker!r}; output:\n"
                                       f"{self.console[-2000:]}")
                self._cond.wait(min(left, 0.5))
        return time.monotonic() - self.started_at

    def wait_ready(self, count=1, timeout=BOOT_TIMEOUT_S):
        return self.wait_console(READY_MARKER, count, timeout)

    def console_send(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_exit(self, timeout=QMP_TIMEOUT_S):
        return self.proc.wait(timeout)

    def stop(self):
        if self.qmp:
            self.qmp.close()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader:
            self._reader.join(5)
        if self.proc:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

"""Domains on real QEMU through vrtd, as virsh and python3-libvirt users see
them: lifecycle, XML, errors worded as libvirt words them, events, autostart,
transient domains, crash detection, restarts, and a real guest for ACPI
shutdown and reboot."""
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid as uuidlib

import pytest

from vrt_fixtures import Vrtd, import_required, pid_alive, require, run, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))

KVM = os.access("/dev/kvm", os.R_OK | os.W_OK)
VTYPE = "kvm" if KVM else "qemu"


def guestless(name, uuid=None, machine="q35", extra=""):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='{VTYPE}'>
  <name>{name}</name>{u}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='{machine}'>hvm</type></os>
  <devices>{extra}<memballoon model='none'/></devices>
</domain>"""


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def validate(tmp, xml):
    path = write(tmp, "check.xml", xml)
    p = run(["virt-xml-validate", path, "domain"], check=False)
    assert p.returncode == 0, p.stdout + p.stderr + xml


def qemu_pid(root, name):
    path = os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")
    with open(path) as f:
        m = re.search(r"pid=['\"](\d+)['\"]", f.read())
    return int(m.group(1))




def test_virsh_lifecycle_and_xml(vrtd, tmp_path):
    u = vrtd.uri
    path = write(tmp_path, "d.xml", guestless("vm1"))
    virsh(u, "define", path)
    assert re.search(r"-\s+vm1\s+shut off", virsh(u, "list", "--all").stdout)
    assert virsh(u, "domstate", "vm1").stdout.strip() == "shut off"
    inactive = virsh(u, "dumpxml", "--inactive", "vm1").stdout
    validate(tmp_path, inactive)
    assert "<name>vm1</name>" in inactive

    virsh(u, "start", "vm1")
    out = virsh(u, "list").stdout
    m = re.search(r"(\d+)\s+vm1\s+running", out)
    assert m, out
    dom_id = m.group(1)
    info = virsh(u, "dominfo", "vm1").stdout
    assert re.search(r"State:\s+running", info)
    assert re.search(r"Max memory:\s+131072 KiB", info)
    assert re.search(r"CPU\(s\):\s+1", info)
    assert re.search(r"Persistent:\s+yes", info)
    live = virsh(u, "dumpxml", "vm1").stdout
    validate(tmp_path, live)
    assert f"id='{dom_id}'" in live
    assert "id=" not in virsh(u, "dumpxml", "--inactive", "vm1").stdout.split("\n")[0]
    assert virsh(u, "domstate", "--reason", "vm1").stdout.strip() == "running (booted)"

    virsh(u, "suspend", "vm1")
    assert virsh(u, "domstate", "--reason", "vm1").stdout.strip() == "paused (user)"
    virsh(u, "resume", "vm1")
    assert virsh(u, "domstate", "--reason", "vm1").stdout.strip() == "running (unpaused)"

    pid = qemu_pid(vrtd.root, "vm1")
    virsh(u, "destroy", "vm1")
    assert virsh(u, "domstate", "--reason", "vm1").stdout.strip() == "shut off (destroyed)"
    wait_for(lambda: not pid_alive(pid), what="QEMU to exit after destroy")
    assert not os.path.exists(os.path.join(vrtd.root, "run", "vrt", "qemu", "vm1.xml"))

    virsh(u, "autostart", "vm1")
    assert re.search(r"Autostart:\s+enable", virsh(u, "dominfo", "vm1").stdout)
    virsh(u, "autostart", "--disable", "vm1")
    assert re.search(r"Autostart:\s+disable", virsh(u, "dominfo", "vm1").stdout)
    virsh(u, "undefine", "vm1")
    assert "vm1" not in virsh(u, "list", "--all").stdout
    assert not os.path.exists(os.path.join(vrtd.root, "etc", "vrt", "qemu", "vm1.xml"))


def test_python_api_and_libvirt_errors(vrtd):
    conn = libvirt.open(vrtd.uri)
    u = str(uuidlib.uuid4())
    dom = conn.defineXML(guestless("py1", u))
    assert dom.UUIDString() == u
    assert conn.lookupByUUIDString(u).name() == "py1"
    assert dom.isPersistent() == 1 and dom.isActive() == 0
    assert dom.OSType() == "hvm"
    assert dom.maxMemory() == 131072
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN]
    assert conn.listDefinedDomains() == ["py1"]
    assert conn.numOfDefinedDomains() == 1 and conn.numOfDomains() == 0

    with pytest.raises(libvirt.libvirtError) as e:
        conn.lookupByName("nope")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    assert "Domain not found: no domain with matching name 'nope'" in str(e.value)

    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML(guestless("py1", str(uuidlib.uuid4())))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert f"domain 'py1' already exists with uuid {u}" in str(e.value)

    with pytest.raises(libvirt.libvirtError) as e:
        dom.destroy()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "domain is not running" in str(e.value)

    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML("<domain type='qemu'><name>bad</name>")
    assert e.value.get_error_code() == libvirt.VIR_ERR_XML_ERROR

    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML(guestless("bad2", extra="<frobnicator/>"))
    assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert "frobnicator" in str(e.value)
    assert [d.name() for d in conn.listAllDomains()] == ["py1"]

    dom.create()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "domain is already running" in str(e.value)
    assert dom.isActive() == 1
    assert conn.lookupByID(dom.ID()).name() == "py1"
    assert conn.listDomainsID() == [dom.ID()]
    state, maxmem, mem, ncpu, cputime = dom.info()
    assert (state, maxmem, ncpu) == (libvirt.VIR_DOMAIN_RUNNING, 131072, 1)
    flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    assert [d.name() for d in conn.listAllDomains(flags)] == ["py1"]
    assert conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == []

    # Undefine of a running persistent domain leaves it running, transient.
    dom.undefine()
    assert dom.isActive() == 1 and dom.isPersistent() == 0
    dom.destroy()
    with pytest.raises(libvirt.libvirtError) as e:
        conn.lookupByName("py1")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    conn.close()


def test_transient_domain(vrtd):
    conn = libvirt.open(vrtd.uri)
    dom = conn.createXML(guestless("tr1"), 0)
    assert dom.isActive() == 1 and dom.isPersistent() == 0
    with pytest.raises(libvirt.libvirtError) as e:
        dom.undefine()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    dom.destroy()
    assert conn.listAllDomains() == []
    conn.close()


def test_start_paused(vrtd):
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(guestless("p1"))
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER] or \
        dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.resume()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()
    dom.undefine()
    conn.close()


class EventLoop:
    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()


_loop = None


def event_loop():
    global _loop
    if _loop is None:
        _loop = EventLoop()
    return _loop


def test_lifecycle_events_python_and_virsh(vrtd):
    event_loop()
    conn = libvirt.open(vrtd.uri)
    events = []
    cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                     lambda c, d, ev, det, op: events.append((d.name(), ev, det)), None)
    vev = subprocess.Popen(["virsh", "-c", vrtd.uri, "event", "--all", "--loop", "--timeout", "30"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(vev.stdout.readline, "")), daemon=True)
    reader.start()
    time.sleep(0.5)
    dom = conn.defineXML(guestless("ev1"))
    dom.create()
    dom.suspend()
    dom.resume()
    dom.destroy()
    dom.undefine()
    E = libvirt
    want = [("ev1", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            ("ev1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            ("ev1", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            ("ev1", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            ("ev1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
            ("ev1", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
    wait_for(lambda: all(w in events for w in want), timeout=15, what=f"events {want}, got {events}")
    order = [events.index(w) for w in want]
    assert order == sorted(order), events
    conn.domainEventDeregisterAny(cb)
    # virsh prints events as they arrive: wait for the last one, then stop it.
    wait_for(lambda: any("Undefined Removed" in ln for ln in lines), timeout=15,
             what=f"virsh to print the undefined event, got {lines}")
    vev.send_signal(signal.SIGINT)
    vev.wait(timeout=15)
    reader.join(timeout=5)
    out = "".join(lines)
    assert "event 'lifecycle' for domain 'ev1': Defined Added" in out, out
    assert "event 'lifecycle' for domain 'ev1': Started Booted" in out, out
    assert "event 'lifecycle' for domain 'ev1': Stopped Destroyed" in out, out
    assert "event 'lifecycle' for domain 'ev1': Undefined Removed" in out, out
    conn.close()


def test_crash_detected_and_reported(vrtd):
    event_loop()
    conn = libvirt.open(vrtd.uri)
    events = []
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                lambda c, d, ev, det, op: events.append((ev, det)), None)
    dom = conn.defineXML(guestless("cr1"))
    dom.create()
    os.kill(qemu_pid(vrtd.root, "cr1"), signal.SIGKILL)
    wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, what="crash to be noticed")
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED]
    wait_for(lambda: (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED) in events,
             what="a stopped/crashed event")
    dom.undefine()
    conn.close()


def test_restart_keeps_vms_and_honours_autostart(tmproot):
    d = Vrtd(tmproot).start()
    conn = libvirt.open(d.uri)
    run_dom = conn.defineXML(guestless("keep"))
    run_dom.create()
    pid = qemu_pid(tmproot, "keep")
    auto = conn.defineXML(guestless("auto"))
    auto.setAutostart(1)
    conn.close()
    assert d.stop(signal.SIGTERM) == 0
    assert pid_alive(pid), "SIGTERM of vrtd must leave its VMs running"
    d2 = Vrtd(tmproot).start()
    try:
        conn = libvirt.open(d2.uri)
        keep = conn.lookupByName("keep")
        assert keep.isActive() == 1 and qemu_pid(tmproot, "keep") == pid
        assert keep.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        # Autostart ran at start-up.
        wait_for(lambda: conn.lookupByName("auto").isActive() == 1, what="autostart domain to run")
        keep.suspend()
        assert keep.state()[0] == libvirt.VIR_DOMAIN_PAUSED
        # A VM whose QEMU dies while vrtd is down is shut off (crashed) after the next start.
        conn.close()
        d2.stop(signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), what="QEMU to die")
        d3 = Vrtd(tmproot).start()
        conn = libvirt.open(d3.uri)
        assert conn.lookupByName("keep").state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED]
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            dom.destroy()
        conn.close()
        d3.stop()
    finally:
        d2.stop(signal.SIGKILL)


def batched_config(root, ms=100):
    """A vrtd.conf that flushes definitions in batches (config_sync_ms)."""
    path = os.path.join(root, "batched.conf")
    with open(path, "w") as f:
        f.write(f"config_sync_ms = {ms}\n")
    return path


def test_definitions_survive_kill_before_their_flush(tmproot):
    """With definitions flushed to disk in batches (config_sync_ms = 100), a
    define or undefine that returned is still what a vrtd killed right after
    it finds at its next start; the fallback copies kept until the flush are
    gone after that start."""
    d = Vrtd(tmproot, config=batched_config(tmproot)).start()
    confdir = os.path.join(tmproot, "etc", "vrt", "qemu")
    try:
        conn = libvirt.open(d.uri)
        uuids = [conn.defineXML(guestless(f"kf{i}")).UUIDString() for i in range(30)]
        time.sleep(0.5)  # flushed
        # Rewritten and undefined just before the kill, before their flush.
        conn.defineXML(guestless("kf0", uuids[0]).replace("<name>kf0</name>", "<name>kf0</name><title>second</title>"))
        assert os.path.exists(os.path.join(confdir, "kf0.xml.prev")), "the flushed version is kept until the flush"
        for i in range(20, 30):
            conn.lookupByName(f"kf{i}").undefine()
        conn.close()
    finally:
        d.stop(signal.SIGKILL)
    d2 = Vrtd(tmproot, config=batched_config(tmproot)).start()
    try:
        conn = libvirt.open(d2.uri)
        names = sorted(dom.name() for dom in conn.listAllDomains())
        assert names == sorted(f"kf{i}" for i in range(20))
        assert "<title>second</title>" in conn.lookupByName("kf0").XMLDesc(0)
        conn.close()
        assert [f for f in os.listdir(confdir) if not f.endswith(".xml") and f != "autostart"] == []
    finally:
        d2.stop()


@pytest.mark.parametrize("sync_ms", [0, 100])
def test_concurrent_define_dumpxml_undefine_and_lists(tmproot, sync_ms):
    """Several clients defining, reading and undefining domains while
    another lists them: every call succeeds, each reader sees whole XML, and
    what is left on disk and after a restart is exactly what was left
    defined (reads on the I/O thread; definitions flushed in the call or in
    batches)."""
    conf = batched_config(tmproot, sync_ms)
    d = Vrtd(tmproot, config=conf).start()
    errors = []
    stop = threading.Event()

    def worker(k):
        try:
            conn = libvirt.open(d.uri)
            for i in range(60):
                name = f"cc{k}-{i}"
                dom = conn.defineXML(guestless(name))
                xml = dom.XMLDesc(0)
                assert f"<name>{name}</name>" in xml and xml.rstrip().endswith("</domain>")
                assert conn.lookupByUUIDString(dom.UUIDString()).name() == name
                if i % 3:
                    dom.undefine()
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"worker {k}: {e!r}")

    def lister():
        try:
            conn = libvirt.open(d.uri)
            while not stop.is_set():
                for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT):
                    try:
                        dom.XMLDesc(0)
                    except libvirt.libvirtError as e:
                        # Undefined between the list and the read: the only error allowed.
                        if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                            raise
            conn.close()
        except Exception as e:  # noqa: BLE001
            errors.append(f"lister: {e!r}")

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    lt = threading.Thread(target=lister)
    lt.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join(120)
    stop.set()
    lt.join(30)
    try:
        assert errors == []
        want = sorted(f"cc{k}-{i}" for k in range(4) for i in range(60) if i % 3 == 0)
        conn = libvirt.open(d.uri)
        assert sorted(dom.name() for dom in conn.listAllDomains()) == want
        conn.close()
        assert d.stop(signal.SIGTERM) == 0
        confdir = os.path.join(tmproot, "etc", "vrt", "qemu")
        assert sorted(f[:-4] for f in os.listdir(confdir) if f != "autostart") == want
        d2 = Vrtd(tmproot, config=conf).start()
        conn = libvirt.open(d2.uri)
        assert sorted(dom.name() for dom in conn.listAllDomains()) == want
        conn.close()
        d2.stop()
    finally:
        d.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def guest():
    try:
        import guest as g
        return g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")


def guest_domain(name, kernel, initrd, log, machine="pc", cmdline="console=ttyS0"):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='{machine}'>hvm</type>
    <kernel>{kernel}</kernel><initrd>{initrd}</initrd><cmdline>{cmdline}</cmdline></os>
  <features><acpi/></features>
  <on_reboot>restart</on_reboot>
  <devices>
    <serial type='file'><source path='{log}'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>"""


def marker_count(log, marker="VRT-GUEST-READY"):
    try:
        with open(log, errors="replace") as f:
            return f.read().count(marker)
    except FileNotFoundError:
        return 0


def test_guest_acpi_shutdown_and_reboot(vrtd, guest, tmp_path):
    kernel, initrd = guest
    log = str(tmp_path / "console.log")
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(guest_domain("g1", kernel, initrd, log))
    dom.create()
    wait_for(lambda: marker_count(log) >= 1, timeout=90, what="the guest to boot")
    dom.reboot(0)
    wait_for(lambda: marker_count(log) >= 2, timeout=90, what="the guest to boot again after reboot")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.shutdown()
    wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, timeout=60, what="ACPI shutdown")
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    dom.undefine()
    conn.close()


def test_inject_nmi_reaches_the_guest(vrtd, guest, tmp_path):
    """virsh inject-nmi: the guest's kernel reports the NMI on its console;
    a shut-off domain is refused as libvirt refuses it."""
    kernel, initrd = guest
    log = str(tmp_path / "console.log")
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(guest_domain("nmi1", kernel, initrd, log))
    r = virsh(vrtd.uri, "inject-nmi", "nmi1", check=False)
    assert r.returncode != 0 and "domain is not running" in r.stderr, r.stderr
    dom.create()
    wait_for(lambda: marker_count(log) >= 1, timeout=90, what="the guest to boot")
    assert marker_count(log, "NMI received") == 0
    virsh(vrtd.uri, "inject-nmi", "nmi1")
    wait_for(lambda: marker_count(log, "NMI received") >= 1, timeout=30, what="the guest's kernel to report the NMI")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()
    dom.undefine()
    conn.close()


def test_set_lifecycle_action_live_and_config(vrtd, guest, tmp_path):
    """virsh set-lifecycle-action: on_reboot changed on the running domain
    reaches QEMU (set-action), so the guest's next reboot (a kernel panic
    with panic=-1, made by an NMI) ends the domain instead of restarting
    it; --config changes only the definition; libvirt's refusals."""
    kernel, initrd = guest
    log = str(tmp_path / "console.log")
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(guest_domain("lc1", kernel, initrd, log,
                                      cmdline="console=ttyS0 panic=-1 unknown_nmi_panic=1"))
    virsh(vrtd.uri, "set-lifecycle-action", "lc1", "poweroff", "restart", "--config")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<on_poweroff>restart</on_poweroff>" in inactive and "<on_reboot>restart</on_reboot>" in inactive
    # libvirt's QEMU driver cannot do on_poweroff=restart with on_reboot=destroy
    r = virsh(vrtd.uri, "set-lifecycle-action", "lc1", "reboot", "destroy", "--config", check=False)
    assert r.returncode != 0 and "doesn't support 'onReboot' set to 'destroy" in r.stderr, r.stderr
    virsh(vrtd.uri, "set-lifecycle-action", "lc1", "poweroff", "destroy", "--config")
    for args, text in ((("reboot", "preserve"), "doesn't support the 'preserve' action"),
                       (("poweroff", "coredump-destroy"),
                        "Lifecycle event 'poweroff' doesn't support 'coredump-destroy' action"),
                       (("crash", "rename-restart"), "doesn't support the 'rename-restart' action")):
        r = virsh(vrtd.uri, "set-lifecycle-action", "lc1", *args, check=False)
        assert r.returncode != 0 and text in r.stderr, r.stderr
    dom.create()
    wait_for(lambda: marker_count(log) >= 1, timeout=90, what="the guest to boot")
    virsh(vrtd.uri, "set-lifecycle-action", "lc1", "reboot", "destroy", "--live")
    assert "<on_reboot>destroy</on_reboot>" in dom.XMLDesc(0)
    assert "<on_reboot>restart</on_reboot>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    virsh(vrtd.uri, "inject-nmi", "lc1")
    wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, timeout=60,
             what="the domain to end on the guest's reboot")
    assert marker_count(log, "Kernel panic") >= 1 and marker_count(log) == 1
    # the definition kept restart: the next start reboots in place again
    assert "<on_reboot>restart</on_reboot>" in dom.XMLDesc(0)
    dom.undefine()
    conn.close()


def console_until(st, want, timeout=60):
    """Reads console stream st until want shows up; returns what was read.
    The stream's reads block, so they run in a thread that the test waits
    for at most timeout (a destroy at the end ends a read still waiting)."""
    got = {"buf": b""}

    def reader():
        while want not in got["buf"]:
            chunk = st.recv(4096)
            if not chunk:
                return
            got["buf"] += chunk

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    assert want in got["buf"], f"no {want!r} on the console; got {got['buf'][-300:]!r}"
    return got["buf"]


def test_guest_suspended_to_ram_wakes_on_dompmwakeup(vrtd, guest):
    """The guest suspends itself to RAM (S3, from its shell on the console):
    the domain is pmsuspended; virsh dompmwakeup (QEMU's system_wakeup)
    wakes it (running, woken up) and its shell answers again."""
    kernel, initrd = guest
    conn = libvirt.open(vrtd.uri)
    xml = guest_domain("pm1", kernel, initrd, "/dev/null").replace(
        "<serial type='file'><source path='/dev/null'/></serial>",
        "<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>")
    dom = conn.createXML(xml, 0)
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    try:
        console_until(st, b"VRT-GUEST-READY", timeout=120)
        st.send(b"echo mem > /sys/power/state\n")
        wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_PMSUSPENDED, timeout=60,
                 what=f"the guest suspended to RAM, state {dom.state()}")
        assert virsh(vrtd.uri, "domstate", "pm1").stdout.strip() == "pmsuspended"
        virsh(vrtd.uri, "dompmwakeup", "pm1")
        wait_for(lambda: dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_WAKEUP], timeout=60,
                 what=f"the guest awake, state {dom.state()}")
        # the kernel says it resumed; the serial port drops what comes before
        console_until(st, b"PM: suspend exit")
        time.sleep(1)
        st.send(b"\necho awake-$((40+2))\n")
        console_until(st, b"awake-42")
        ro = libvirt.openReadOnly(vrtd.uri_ro)
        try:
            with pytest.raises(libvirt.libvirtError) as e:
                ro.lookupByName("pm1").pMWakeup(0)
            assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        finally:
            ro.close()
    finally:
        dom.destroy()
        conn.close()


def test_set_max_memory(vrtd):
    """virDomainSetMaxMemory (virsh setmaxmem without flags): the maximum of
    a shut-off domain's definition; refused for a running one, with
    libvirt's error."""
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML("<domain type='qemu'><name>mm1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                         "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                         "<devices><memballoon model='none'/></devices></domain>")
    dom.setMaxMemory(131072)
    assert dom.maxMemory() == 131072
    assert "<memory unit='KiB'>131072</memory>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setMaxMemory(262144)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "cannot resize the maximum memory on an active domain" in e.value.get_error_message()
    assert dom.maxMemory() == 131072
    dom.destroy()
    dom.undefine()
    conn.close()


def test_qemu_starts_with_no_signal_blocked_and_exits_on_destroys_sigterm(vrtd):
    """Destroy sends SIGTERM so that QEMU flushes and exits by itself, and
    SIGKILL only to a QEMU that is still there half a second later. QEMU must
    not inherit a blocked signal mask from vrtd's threads, and vrtd must not
    have a monitor command in flight when it destroys a domain it just
    started (QEMU 7.2 then hangs in its exit path): in both cases QEMU would
    ignore the SIGTERM and vrtd would log that it sent SIGKILL."""
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(guestless("sig1"))
    for i in range(40):
        dom.create()
        if i % 2 == 0:
            # Destroyed at once, as a script does.
            dom.destroy()
            continue
        pid = qemu_pid(vrtd.root, "sig1")
        with open(f"/proc/{pid}/status") as f:
            blocked = [ln.split()[1] for ln in f if ln.startswith("SigBlk:")][0]
        # QEMU blocks a few signals of its own (SIGBUS, SIGUSR1, SIGALRM, SIGIO); never SIGTERM.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            assert not int(blocked, 16) & (1 << (sig - 1)), f"QEMU runs with {sig.name} blocked: SigBlk {blocked}"
        dom.destroy()
        wait_for(lambda: not pid_alive(pid), timeout=10, what="QEMU to be gone after destroy")
    ignored = [ln for ln in vrtd.stderr().splitlines() if "ignored SIGTERM" in ln]
    assert ignored == [], "QEMU needed SIGKILL:\n" + "\n".join(ignored)
    dom.undefine()
    conn.close()

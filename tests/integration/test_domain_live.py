"""Live domain calls through vrtd with Debian's virsh and python3-libvirt:
domain events beyond lifecycle (reboot, graphics, balloon-change from real
QEMU or the QMP emulator; the kinds real QEMU cannot be made to raise on
demand from the QMP emulator, tests/qmpemu's x-qmpemu-emit), live vCPU
changes (virsh setvcpus --live, vcpucount, vcpuinfo, kept across a vrtd
restart), job statistics (virsh domjobinfo), interface addresses and
hostname (virsh domifaddr, domhostname), the balloon's statistics period
(virsh dommemstat --period) and the dirty page rate (virsh domdirtyrate-calc,
domstats --dirtyrate), each with libvirt's errors for bad input."""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))

from vrt_fixtures import QmpEmu, import_required, kill_vms_under, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def kvm_usable():
    try:
        if not stat.S_ISCHR(os.stat("/dev/kvm").st_mode):
            return False  # a stray file is no KVM
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def domain_xml(name, devices="<memballoon model='none'/>", vcpu="<vcpu>1</vcpu>", emulator=None, kind=None):
    kind = kind or ("kvm" if kvm_usable() else "qemu")
    emu = f"<emulator>{emulator}</emulator>" if emulator else ""
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory>{vcpu}"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{emu}{devices}</devices></domain>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


def start_event_loop():
    # One default event loop per process, before the connection opens.
    if not getattr(libvirt, "_vrt_event_loop", None):
        libvirt.virEventRegisterDefaultImpl()
        t = threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True)
        t.start()
        libvirt._vrt_event_loop = t


def emu_domain(vrtd, tmproot, name, devices="<memballoon model='none'/>"):
    """A domain whose QEMU is the QMP emulator (tests/qmpemu)."""
    emu = QmpEmu(tmproot, name)
    c = libvirt.open(vrtd.uri)
    try:
        c.defineXML(domain_xml(name, devices, emulator=emu.binary, kind="qemu")).create()
    finally:
        c.close()
    return emu


def emit(vrtd, name, event, data=None):
    """Has the domain's QMP emulator send event (through virsh qemu-monitor-command)."""
    args = {"event": event}
    if data is not None:
        args["data"] = data
    virsh(vrtd.uri, "qemu-monitor-command", name, json.dumps({"execute": "x-qmpemu-emit", "arguments": args}))


# ---- events ----

class Recorder:
    """python3-libvirt callbacks for every event ID under test on one connection."""

    def __init__(self, uri):
        start_event_loop()
        self.conn = libvirt.open(uri)
        self.events = []
        self.lock = threading.Lock()
        L = libvirt
        regs = {
            L.VIR_DOMAIN_EVENT_ID_REBOOT: lambda c, d, o: self.add("reboot", d),
            L.VIR_DOMAIN_EVENT_ID_RTC_CHANGE: lambda c, d, off, o: self.add("rtc-change", d, off),
            L.VIR_DOMAIN_EVENT_ID_WATCHDOG: lambda c, d, act, o: self.add("watchdog", d, act),
            L.VIR_DOMAIN_EVENT_ID_IO_ERROR: lambda c, d, src, alias, act, o: self.add("io-error", d, src, alias, act),
            L.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON:
                lambda c, d, src, alias, act, why, o: self.add("io-error-reason", d, src, alias, act, why),
            L.VIR_DOMAIN_EVENT_ID_GRAPHICS:
                lambda c, d, phase, local, remote, auth, subject, o:
                    self.add("graphics", d, phase, local["node"], remote["family"], auth, subject),
            L.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: lambda c, d, alias, why, o: self.add("tray-change", d, alias, why),
            L.VIR_DOMAIN_EVENT_ID_PMWAKEUP: lambda c, d, why, o: self.add("pmwakeup", d),
            L.VIR_DOMAIN_EVENT_ID_PMSUSPEND: lambda c, d, why, o: self.add("pmsuspend", d),
            L.VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK: lambda c, d, why, o: self.add("pmsuspend-disk", d),
            L.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: lambda c, d, actual, o: self.add("balloon-change", d, actual),
            L.VIR_DOMAIN_EVENT_ID_BLOCK_JOB:
                lambda c, d, path, typ, status, o: self.add("block-job", d, path, typ, status),
            L.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2:
                lambda c, d, dst, typ, status, o: self.add("block-job-2", d, dst, typ, status),
            L.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE:
                lambda c, d, state, why, o: self.add("agent-lifecycle", d, state, why),
            L.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED:
                lambda c, d, alias, o: self.add("device-removal-failed", d, alias),
            L.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: lambda c, d, alias, o: self.add("device-added", d, alias),
            L.VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE:
                lambda c, d, recipient, action, flags, o: self.add("memory-failure", d, recipient, action, flags),
        }
        self.ids = [self.conn.domainEventRegisterAny(None, ev, cb, None) for ev, cb in regs.items()]

    def add(self, kind, dom, *rest):
        with self.lock:
            self.events.append((kind, dom.name()) + tuple(rest))

    def of(self, kind):
        with self.lock:
            return [e for e in self.events if e[0] == kind]

    def wait(self, kind, what=None):
        wait_for(lambda: self.of(kind), timeout=20, what=what or f"a {kind} event, got {self.events}")
        return self.of(kind)

    def close(self):
        for i in self.ids:
            try:
                self.conn.domainEventDeregisterAny(i)
            except libvirt.libvirtError:
                pass
        self.conn.close()


@pytest.fixture
def recorder(vrtd):
    r = Recorder(vrtd.uri)
    yield r
    r.close()


def test_reboot_event_from_real_qemu_reset(conn, vrtd, recorder):
    conn.defineXML(domain_xml("rb1")).create()
    virsh(vrtd.uri, "reset", "rb1")
    # SeaBIOS, reset in the middle of its own start, may reset the machine
    # once more by itself (a guest reset QEMU reports too): one or more.
    got = recorder.wait("reboot")
    assert got[0] == ("reboot", "rb1") and set(got) == {("reboot", "rb1")}


def test_graphics_event_from_a_vnc_client(conn, vrtd, recorder):
    dom = conn.defineXML(domain_xml("gfx1", "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>"
                                            "<memballoon model='none'/>"))
    dom.create()
    port = int(re.search(r"<graphics type='vnc' port='(\d+)'", dom.XMLDesc(0)).group(1))
    s = socket.create_connection(("127.0.0.1", port))
    try:
        # QEMU's VNC server greets, then the client is connected (phase 0).
        assert s.recv(12).startswith(b"RFB ")
        got = recorder.wait("graphics")
        assert got[0][:6] == ("graphics", "gfx1", libvirt.VIR_DOMAIN_EVENT_GRAPHICS_CONNECT, "127.0.0.1",
                              libvirt.VIR_DOMAIN_EVENT_GRAPHICS_ADDRESS_IPV4, "none")
    finally:
        s.close()
    wait_for(lambda: any(e[2] == libvirt.VIR_DOMAIN_EVENT_GRAPHICS_DISCONNECT for e in recorder.of("graphics")),
             timeout=20, what="a graphics disconnect event")


def test_balloon_change_event_from_setmem(vrtd, tmproot, recorder):
    emu_domain(vrtd, tmproot, "bal1", "<memballoon model='virtio'/>")
    virsh(vrtd.uri, "setmem", "bal1", "32M", "--live")
    assert recorder.wait("balloon-change") == [("balloon-change", "bal1", 32768)]
    # A change the guest makes by itself: the live current memory follows.
    emit(vrtd, "bal1", "BALLOON_CHANGE", {"actual": 16 << 20})
    wait_for(lambda: len(recorder.of("balloon-change")) == 2, timeout=20, what="a second balloon-change")
    assert recorder.of("balloon-change")[1] == ("balloon-change", "bal1", 16384)
    assert re.search(r"Used memory:\s+16384 KiB", virsh(vrtd.uri, "dominfo", "bal1").stdout)


def test_events_qemu_raises_on_its_own(vrtd, tmproot, recorder):
    disk = os.path.join(tmproot, "d1.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    devices = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{disk}'/>"
               "<target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
               f"<channel type='unix'><source mode='bind' path='{tmproot}/ga.sock'/>"
               "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
               "<memballoon model='none'/>")
    emu_domain(vrtd, tmproot, "ev1", devices)
    xml = virsh(vrtd.uri, "dumpxml", "ev1").stdout
    vda = re.search(r"<target dev='vda'.*?<alias name='([^']+)'/>", xml, re.S).group(1)
    hdc = re.search(r"<target dev='hdc'.*?<alias name='([^']+)'/>", xml, re.S).group(1)
    chan = re.search(r"org.qemu.guest_agent.0.*?<alias name='([^']+)'/>", xml, re.S).group(1)

    emit(vrtd, "ev1", "RTC_CHANGE", {"offset": 42, "qom-path": "/machine/unattached/device[7]"})
    assert recorder.wait("rtc-change") == [("rtc-change", "ev1", 42)]
    emit(vrtd, "ev1", "WATCHDOG", {"action": "poweroff"})
    assert recorder.wait("watchdog") == [("watchdog", "ev1", libvirt.VIR_DOMAIN_EVENT_WATCHDOG_POWEROFF)]
    emit(vrtd, "ev1", "BLOCK_IO_ERROR", {"device": "", "node-name": "vrt-1-format", "operation": "write",
                                         "action": "stop", "nospace": True, "reason": "No space left on device"})
    assert recorder.wait("io-error") == [("io-error", "ev1", disk, vda, libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE)]
    assert recorder.wait("io-error-reason") == [
        ("io-error-reason", "ev1", disk, vda, libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, "enospc")]
    emit(vrtd, "ev1", "DEVICE_TRAY_MOVED", {"device": "", "id": hdc, "tray-open": True})
    assert recorder.wait("tray-change") == [("tray-change", "ev1", hdc, libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN)]
    # Power management events move the state as libvirt's do.
    emit(vrtd, "ev1", "SUSPEND")
    assert recorder.wait("pmsuspend") == [("pmsuspend", "ev1")]
    wait_for(lambda: virsh(vrtd.uri, "domstate", "ev1", "--reason").stdout.strip() == "pmsuspended (unknown)",
             timeout=20, what="the domain pmsuspended")
    emit(vrtd, "ev1", "WAKEUP")
    assert recorder.wait("pmwakeup") == [("pmwakeup", "ev1")]
    wait_for(lambda: virsh(vrtd.uri, "domstate", "ev1", "--reason").stdout.strip() == "running (event wakeup)",
             timeout=20, what="the domain running after its wakeup")
    emit(vrtd, "ev1", "SUSPEND_DISK")
    assert recorder.wait("pmsuspend-disk") == [("pmsuspend-disk", "ev1")]
    wait_for(lambda: virsh(vrtd.uri, "domstate", "ev1").stdout.strip() == "pmsuspended", timeout=20,
             what="the domain pmsuspended to disk")
    emit(vrtd, "ev1", "WAKEUP")
    emit(vrtd, "ev1", "BLOCK_JOB_COMPLETED", {"type": "commit", "device": vda, "len": 10, "offset": 10,
                                              "speed": 0})
    assert recorder.wait("block-job") == [("block-job", "ev1", disk, libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT,
                                           libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED)]
    assert recorder.wait("block-job-2") == [("block-job-2", "ev1", "vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT,
                                             libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED)]
    emit(vrtd, "ev1", "VSERPORT_CHANGE", {"id": chan, "open": True})
    assert recorder.wait("agent-lifecycle") == [
        ("agent-lifecycle", "ev1", libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED,
         libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL)]
    emit(vrtd, "ev1", "DEVICE_UNPLUG_GUEST_ERROR", {"device": "net0", "path": "/machine/peripheral/net0"})
    assert recorder.wait("device-removal-failed") == [("device-removal-failed", "ev1", "net0")]
    emit(vrtd, "ev1", "MEMORY_FAILURE", {"recipient": "guest", "action": "inject",
                                         "flags": {"action-required": True, "recursive": False}})
    assert recorder.wait("memory-failure") == [
        ("memory-failure", "ev1", libvirt.VIR_DOMAIN_EVENT_MEMORY_FAILURE_RECIPIENT_GUEST,
         libvirt.VIR_DOMAIN_EVENT_MEMORY_FAILURE_ACTION_INJECT,
         libvirt.VIR_DOMAIN_MEMORY_FAILURE_ACTION_REQUIRED)]


def test_virsh_event_all_loop_prints_them(vrtd, tmproot):
    emu_domain(vrtd, tmproot, "ev2")
    p = subprocess.Popen(["virsh", "-c", vrtd.uri, "event", "--all", "--loop", "--timeout", "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    reader = threading.Thread(target=lambda: [out.append(line) for line in p.stdout], daemon=True)
    reader.start()
    try:
        # virsh registers its callbacks before it prints nothing: send until seen.
        def seen():
            emit(vrtd, "ev2", "RTC_CHANGE", {"offset": -7})
            return any("rtc-change" in line for line in out)
        wait_for(seen, timeout=20, what=f"virsh event output, got {out}")
        emit(vrtd, "ev2", "WATCHDOG", {"action": "reset"})
        virsh(vrtd.uri, "reset", "ev2")
        wait_for(lambda: any("watchdog" in line for line in out) and any("reboot" in line for line in out),
                 timeout=20, what=f"watchdog and reboot lines, got {out}")
    finally:
        p.terminate()
        p.wait()
    text = "".join(out)
    assert "event 'rtc-change' for domain 'ev2': -7" in text
    assert "event 'watchdog' for domain 'ev2': reset" in text
    assert "event 'reboot' for domain 'ev2'" in text


# ---- live vCPUs ----

VCPUS = "<vcpu current='1'>4</vcpu>"


def vcpucount(uri, name, *flags):
    return int(virsh(uri, "vcpucount", name, *flags).stdout.strip())


def test_setvcpus_live_hotplugs_and_survives_restart(conn, vrtd):
    dom = conn.defineXML(domain_xml("vc1", vcpu=VCPUS))
    p = virsh(vrtd.uri, "setvcpus", "vc1", "2", "--live", check=False)
    assert p.returncode != 0 and "domain is not running" in p.stderr
    dom.create()
    assert vcpucount(vrtd.uri, "vc1", "--live", "--current") == 1
    virsh(vrtd.uri, "setvcpus", "vc1", "3", "--live")
    assert vcpucount(vrtd.uri, "vc1", "--live", "--current") == 3
    assert vcpucount(vrtd.uri, "vc1", "--config", "--current") == 1
    assert len(re.findall(r"^VCPU:", virsh(vrtd.uri, "vcpuinfo", "vc1").stdout, re.M)) == 3
    assert len(dom.vcpus()[0]) == 3
    assert "current='3'>4</vcpu>" in dom.XMLDesc(0)
    # QEMU has them as libvirt names them: vcpuN, N the vCPU's index.
    cpus = json.loads(virsh(vrtd.uri, "qemu-monitor-command", "vc1",
                            '{"execute":"query-hotpluggable-cpus"}').stdout)["return"]
    assert sorted(c["qom-path"] for c in cpus if "qom-path" in c and "peripheral" in c["qom-path"]) == \
        ["/machine/peripheral/vcpu1", "/machine/peripheral/vcpu2"]
    # Above the maximum: libvirt's error, nothing changes.
    code, msg = error_of(dom.setVcpusFlags, 5, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert code == libvirt.VIR_ERR_INVALID_ARG
    assert "requested vcpus is greater than max allowable vcpus for the live domain: 5 > 4" in msg
    # (--live --maximum is refused by libvirt's client library before any call.)
    # --live --config: both.
    dom.setVcpusFlags(4, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert vcpucount(vrtd.uri, "vc1", "--live", "--current") == 4
    assert vcpucount(vrtd.uri, "vc1", "--config", "--current") == 4
    # The status file keeps the count: a restarted vrtd reports it.
    vrtd.stop()
    vrtd.start()
    c2 = libvirt.open(vrtd.uri)
    try:
        d2 = c2.lookupByName("vc1")
        assert d2.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 4
        assert len(d2.vcpus()[0]) == 4
    finally:
        c2.close()
    # A vCPU of QEMU's command line is not one to unplug (vCPU 0 here,
    # the others were hot-added and stay as QEMU's answer says).
    assert vcpucount(vrtd.uri, "vc1", "--maximum", "--live") == 4


# ---- job statistics ----

def test_job_stats_none(conn, vrtd):
    dom = conn.defineXML(domain_xml("js1"))
    code, msg = error_of(dom.jobStats, 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    # The completed job's statistics need no running domain: none.
    assert dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED) == {"type": libvirt.VIR_DOMAIN_JOB_NONE}
    dom.create()
    assert dom.jobStats(0) == {"type": libvirt.VIR_DOMAIN_JOB_NONE}
    out = virsh(vrtd.uri, "domjobinfo", "js1", "--completed").stdout
    assert re.search(r"Job type:\s+None", out)
    code, msg = error_of(dom.jobStats, 4)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "unsupported flags (0x4) in function qemuDomainGetJobStats" in msg


# ---- interface addresses, hostname ----

def test_domifaddr_sources(conn, vrtd, tmproot):
    devices = ("<interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface>"
               f"<channel type='unix'><source mode='bind' path='{tmproot}/ga.sock'/>"
               "<target type='virtio' name='org.qemu.guest_agent.0'/></channel><memballoon model='none'/>")
    dom = conn.defineXML(domain_xml("ia1", devices))
    code, msg = error_of(dom.interfaceAddresses, libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    dom.create()
    # No interface on a network: no lease to report; the host's ARP table
    # has no entry for this MAC.
    assert dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE) == {}
    assert dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP) == {}
    # The agent's channel is there, but no agent answers on it.
    p = virsh(vrtd.uri, "domifaddr", "ia1", "--source", "agent", check=False)
    assert p.returncode != 0
    assert "Guest agent is not responding: QEMU guest agent is not connected" in p.stderr
    p = virsh(vrtd.uri, "domhostname", "ia1", check=False)
    assert "Guest agent is not responding: QEMU guest agent is not connected" in p.stderr
    p = virsh(vrtd.uri, "domhostname", "ia1", "--source", "lease", check=False)
    assert p.returncode != 0 and "no hostname found for domain ia1" in p.stderr
    code, msg = error_of(dom.interfaceAddresses, 9)
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED and "Unknown IP address data source 9" in msg
    # The agent source needs write access; the others do not.
    ro = libvirt.openReadOnly(vrtd.uri)
    try:
        rdom = ro.lookupByName("ia1")
        assert rdom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP) == {}
        code, msg = error_of(rdom.interfaceAddresses, libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
        assert "read only access prevents virDomainInterfaceAddresses" in msg
    finally:
        ro.close()


def test_agent_not_configured(conn, vrtd):
    dom = conn.defineXML(domain_xml("ia2"))
    dom.create()
    code, msg = error_of(dom.hostname, 0)
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED and "QEMU guest agent is not configured" in msg
    code, msg = error_of(dom.hostname, libvirt.VIR_DOMAIN_GET_HOSTNAME_LEASE | libvirt.VIR_DOMAIN_GET_HOSTNAME_AGENT)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "are mutually exclusive" in msg


def test_domifaddr_arp_from_the_host_table(tmproot):
    """The ARP source reads /proc/net/arp under --host-root: a simulated host
    with an entry for the guest's MAC gives its address."""
    host = os.path.join(tmproot, "host")
    os.makedirs(os.path.join(host, "proc", "net"))
    os.makedirs(os.path.join(host, "sys"))
    os.makedirs(os.path.join(host, "dev"))
    with open(os.path.join(host, "proc", "net", "arp"), "w") as f:
        f.write("IP address       HW type     Flags       HW address            Mask     Device\n"
                "192.0.2.7        0x1         0x2         52:54:00:AA:BB:02     *        vnet9\n"
                "192.0.2.8        0x1         0x0         00:00:00:00:00:00     *        vnet9\n")
    from vrt_fixtures import Vrtd
    d = Vrtd(tmproot, extra_args=["--host-root", host]).start()
    try:
        c = libvirt.open(d.uri)
        devices = ("<interface type='user'><mac address='52:54:00:aa:bb:02'/><model type='virtio'/></interface>"
                   "<memballoon model='none'/>")
        dom = c.defineXML(domain_xml("ia3", devices, kind="qemu"))
        dom.create()
        got = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)
        assert len(got) == 1
        (iface,) = got.values()
        assert iface["hwaddr"] == "52:54:00:aa:bb:02"
        assert iface["addrs"] == [{"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": "192.0.2.7", "prefix": 0}]
        out = virsh(d.uri, "domifaddr", "ia3", "--source", "arp").stdout
        assert "52:54:00:aa:bb:02" in out and "192.0.2.7" in out
        c.close()
    finally:
        d.stop()


# ---- balloon period, dirty rate ----

def test_memory_stats_period(conn, vrtd):
    dom = conn.defineXML(domain_xml("mp1", "<memballoon model='virtio'/>"))
    dom.create()
    virsh(vrtd.uri, "dommemstat", "mp1", "--period", "5", "--live", "--config")
    # QEMU has the interval, the live and the persistent XML name it.
    got = json.loads(virsh(vrtd.uri, "qemu-monitor-command", "mp1", json.dumps(
        {"execute": "qom-get", "arguments": {"path": "/machine/peripheral/balloon0",
                                             "property": "guest-stats-polling-interval"}})).stdout)
    assert got["return"] == 5
    assert re.search(r"<memballoon model='virtio'>\s*<stats period='5'/>", dom.XMLDesc(0))
    assert re.search(r"<stats period='5'/>", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    # Real QEMU without a guest balloon driver: nothing reported yet, the
    # last update 0 (libvirt shows it), the other figures left out.
    got = dict(line.split() for line in virsh(vrtd.uri, "dommemstat", "mp1").stdout.splitlines() if line.strip())
    assert list(got) == ["actual", "last_update", "rss"] and got["last_update"] == "0"
    nob = conn.defineXML(domain_xml("mp2"))
    nob.create()
    code, msg = error_of(nob.setMemoryStatsPeriod, 5, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR
    assert "No memory balloon device configured, can not set the collection period" in msg


def test_dirty_rate_calc(conn, vrtd):
    dom = conn.defineXML(domain_xml("dr1"))
    code, msg = error_of(dom.startDirtyRateCalc, 0, 0)
    assert code == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert "seconds=0 is invalid, please choose value within [1, 60]." in msg
    code, msg = error_of(dom.startDirtyRateCalc, 1, 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    dom.create()
    virsh(vrtd.uri, "domdirtyrate-calc", "dr1", "--seconds", "1")
    log = json.loads(virsh(vrtd.uri, "qemu-monitor-command", "dr1", '{"execute":"query-dirty-rate"}').stdout)
    assert log["return"]["calc-time"] == 1


# ---- statistics groups ----

def domstats(uri, name, *groups):
    out = virsh(uri, "domstats", name, *groups).stdout
    return dict(line.strip().split("=", 1) for line in out.splitlines() if "=" in line)


def test_guest_balloon_stats_in_dommemstat_and_domstats(vrtd, tmproot):
    emu = emu_domain(vrtd, tmproot, "gs1", "<memballoon model='virtio'/>")
    # Before the guest reports anything: the balloon's size, the time of the
    # last update (0: none) and QEMU's RSS, as libvirt shows them.
    got = dict(line.split() for line in virsh(vrtd.uri, "dommemstat", "gs1").stdout.splitlines() if line.strip())
    assert list(got) == ["actual", "last_update", "rss"] and got["last_update"] == "0"
    virsh(vrtd.uri, "dommemstat", "gs1", "--period", "2", "--live")
    emu.set_behaviour({"guest_stats": {"stat-swap-in": 4096, "stat-swap-out": 0, "stat-major-faults": 12,
                                       "stat-minor-faults": 345, "stat-free-memory": 10485760,
                                       "stat-total-memory": 62914560, "stat-available-memory": 31457280,
                                       "stat-disk-caches": 2097152, "stat-htlb-pgalloc": 0,
                                       "stat-htlb-pgfail": -1},
                       "guest_stats_last_update": 1700000000})
    got = dict(line.split() for line in virsh(vrtd.uri, "dommemstat", "gs1").stdout.splitlines() if line.strip())
    assert got["swap_in"] == "4" and got["major_fault"] == "12" and got["minor_fault"] == "345"
    assert got["unused"] == "10240" and got["available"] == "61440" and got["usable"] == "30720"
    assert got["last_update"] == "1700000000" and got["disk_caches"] == "2048"
    assert "hugetlb_pgfail" not in got  # not collected (-1): left out, as libvirt
    assert list(got)[0] == "actual" and list(got)[-1] == "rss"
    st = domstats(vrtd.uri, "gs1", "--balloon")
    assert st["balloon.unused"] == "10240" and st["balloon.last-update"] == "1700000000"
    assert st["balloon.maximum"] == "65536"
    qom = [c for c in emu.commands() if c.get("execute") == "qom-set"]
    assert qom[-1]["arguments"] == {"path": "/machine/peripheral/balloon0",
                                    "property": "guest-stats-polling-interval", "value": 2}


def test_perf_iothread_memory_dirtyrate_groups(conn, vrtd):
    dom = conn.defineXML(domain_xml("st1"))
    dom.create()
    # No perf events, no I/O threads, no memory bandwidth monitors: the
    # groups are accepted and empty, as libvirt's.
    out = virsh(vrtd.uri, "domstats", "st1", "--perf", "--iothread", "--memory", "--enforce").stdout
    assert out.strip() == "Domain: 'st1'"
    st = domstats(vrtd.uri, "st1", "--dirtyrate")
    assert st["dirtyrate.calc_status"] == "0" and st["dirtyrate.calc_mode"] == "page-sampling"
    virsh(vrtd.uri, "domdirtyrate-calc", "st1", "--seconds", "1")
    wait_for(lambda: domstats(vrtd.uri, "st1", "--dirtyrate")["dirtyrate.calc_status"] == "2", timeout=20,
             what="a measured dirty rate")
    st = domstats(vrtd.uri, "st1", "--dirtyrate")
    assert st["dirtyrate.calc_period"] == "1" and "dirtyrate.megabytes_per_second" in st
    assert int(st["dirtyrate.calc_start_time"]) > 0
    # An I/O thread QEMU has is listed with its polling parameters.
    virsh(vrtd.uri, "qemu-monitor-command", "st1",
          '{"execute":"object-add","arguments":{"qom-type":"iothread","id":"iothread1","poll-max-ns":32768}}')
    st = domstats(vrtd.uri, "st1", "--iothread")
    assert st["iothread.count"] == "1" and st["iothread.1.poll-max-ns"] == "32768"
    assert "iothread.1.poll-grow" in st and "iothread.1.poll-shrink" in st
    # Python sees the same bits.
    recs = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_DIRTYRATE | libvirt.VIR_DOMAIN_STATS_IOTHREAD,
                                  libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)
    assert recs[0][1]["iothread.count"] == 1 and recs[0][1]["dirtyrate.calc_status"] == 2


# ---- the vrt command ----

def test_vrt_setvcpus_domifaddr_and_event_kinds(vrtd, tmproot):
    from vrt_fixtures import VRT, vrt
    emu_domain(vrtd, tmproot, "cl1")
    c = libvirt.open(vrtd.uri)
    try:
        c.defineXML(domain_xml("cl2", vcpu=VCPUS)).create()
    finally:
        c.close()
    vrt(vrtd.uri, "setvcpus", "cl2", "2", "--live")
    assert vrt(vrtd.uri, "vcpucount", "cl2", "--live").stdout.strip() == "2"
    assert vrt(vrtd.uri, "vcpucount", "cl2", "--config").stdout.strip() == "1"
    p = vrt(vrtd.uri, "setvcpus", "cl2", "9", "--live", check=False)
    assert p.returncode == 1 and "greater than max allowable vcpus for the live domain: 9 > 4" in p.stderr
    out = vrt(vrtd.uri, "domifaddr", "cl2", "--source", "arp").stdout
    assert "MAC address" in out
    p = vrt(vrtd.uri, "domifaddr", "cl2", "--source", "agent", check=False)
    assert p.returncode == 1 and "QEMU guest agent is not configured" in p.stderr
    # vrt event --all prints the other kinds as virsh does.
    p = subprocess.Popen([VRT, "-c", vrtd.uri,
                          "event", "--all", "--loop", "--timeout", "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    threading.Thread(target=lambda: [out.append(line) for line in p.stdout], daemon=True).start()
    try:
        def seen():
            emit(vrtd, "cl1", "RTC_CHANGE", {"offset": 5})
            return any("rtc-change" in line for line in out)
        wait_for(seen, timeout=20, what=f"vrt event output, got {out}")
        emit(vrtd, "cl1", "BLOCK_IO_ERROR", {"device": "", "node-name": "x", "operation": "read",
                                             "action": "report", "nospace": False})
        virsh(vrtd.uri, "reset", "cl1")
        wait_for(lambda: any("reboot" in line for line in out) and any("io-error-reason" in line for line in out),
                 timeout=20, what=f"reboot and io-error lines, got {out}")
    finally:
        p.terminate()
        p.wait()
    text = "".join(out)
    assert "event 'rtc-change' for domain 'cl1': 5" in text
    assert "event 'reboot' for domain 'cl1'" in text
    assert "event 'io-error' for domain 'cl1':  () report" in text
    assert "event 'io-error-reason' for domain 'cl1':  () report due to " in text


# ---- vCPU unplug acknowledged by a guest (the TCG test guest, booted once) ----

def test_setvcpus_live_unplug_with_a_guest(vrtd, tmproot):
    from vrt_fixtures import require
    try:
        import guest as g
        g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")
    log = os.path.join(tmproot, "console.log")
    xml = g.domain_xml("gv1", machine="pc", console_log=log).replace("<vcpu>1</vcpu>", "<vcpu current='1'>3</vcpu>")
    c = libvirt.open(vrtd.uri)
    try:
        dom = c.defineXML(xml)
        dom.create()
        g.wait_file_marker(log)
        dom.setVcpusFlags(3, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 3
        # The guest ejects the hot-added vCPUs (ACPI): the highest first. A
        # guest slower than the 5 s vrtd waits (libvirt's wait too) gets
        # libvirt's timeout error, and asking again once it has let the
        # vCPU go finds it gone.
        deadline = time.monotonic() + 120
        while True:
            try:
                dom.setVcpusFlags(1, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                break
            except libvirt.libvirtError as e:
                assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_TIMEOUT, e
                assert "vcpu unplug request timed out" in str(e), e
                assert time.monotonic() < deadline, "the guest never let its hot-added vCPUs go"
        assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 1
        assert len(dom.vcpus()[0]) == 1
        assert "current='1'>3</vcpu>" in dom.XMLDesc(0)
    finally:
        c.close()


def test_tray_change_event_from_real_qemu_eject(conn, vrtd, recorder, tmproot):
    iso = os.path.join(tmproot, "cd.iso")
    with open(iso, "wb") as f:
        f.truncate(1 << 20)
    dom = conn.defineXML(domain_xml("tr1", f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                                           f"<source file='{iso}'/><target dev='hdc' bus='ide'/><readonly/></disk>"
                                           "<memballoon model='none'/>"))
    dom.create()
    alias = re.search(r"<target dev='hdc'.*?<alias name='([^']+)'/>", dom.XMLDesc(0), re.S).group(1)
    # QEMU opens the tray itself on eject: DEVICE_TRAY_MOVED, tray-change "opened".
    virsh(vrtd.uri, "qemu-monitor-command", "tr1",
          json.dumps({"execute": "eject", "arguments": {"id": alias, "force": True}}))
    assert recorder.wait("tray-change") == [("tray-change", "tr1", alias, libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN)]


def test_device_added_after_a_live_attach(vrtd, tmproot, recorder):
    emu_domain(vrtd, tmproot, "da1")
    c = libvirt.open(vrtd.uri)
    try:
        dom = c.lookupByName("da1")
        # A refused attach adds nothing: no event.
        with pytest.raises(libvirt.libvirtError):
            dom.attachDeviceFlags("<interface type='user'><model type='nope'/></interface>",
                                  libvirt.VIR_DOMAIN_AFFECT_LIVE)
        dom.attachDeviceFlags("<interface type='user'><mac address='52:54:00:aa:bb:0a'/><model type='virtio'/>"
                              "<alias name='ua-extra'/></interface>", libvirt.VIR_DOMAIN_AFFECT_LIVE)
    finally:
        c.close()
    assert recorder.wait("device-added") == [("device-added", "da1", "ua-extra")]


def test_domifaddr_and_domhostname_from_the_guest_agent(vrtd, tmproot):
    """The QMP emulator plays a guest running qemu-ga on its agent channel."""
    devices = ("<interface type='user'><mac address='52:54:00:aa:bb:04'/><model type='virtio'/></interface>"
               f"<channel type='unix'><source mode='bind' path='{tmproot}/ga4.sock'/>"
               "<target type='virtio' name='org.qemu.guest_agent.0'/></channel><memballoon model='none'/>")
    emu = emu_domain(vrtd, tmproot, "ag1", devices)
    # The guest has not opened the port: libvirt's "not connected".
    p = virsh(vrtd.uri, "domhostname", "ag1", check=False)
    assert p.returncode != 0 and "Guest agent is not responding: QEMU guest agent is not connected" in p.stderr
    emu.set_behaviour({"agent": {"hostname": "guest-one", "interfaces": [
        {"name": "lo", "hardware-address": "00:00:00:00:00:00",
         "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
        {"name": "eth0", "hardware-address": "52:54:00:aa:bb:04",
         "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "192.0.2.44", "prefix": 24},
                          {"ip-address-type": "ipv6", "ip-address": "fe80::5054:ff:feaa:bb04", "prefix": 64}]}]}})
    assert virsh(vrtd.uri, "domhostname", "ag1").stdout.strip() == "guest-one"
    c = libvirt.open(vrtd.uri)
    try:
        got = c.lookupByName("ag1").interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
    finally:
        c.close()
    assert got["eth0"] == {"hwaddr": "52:54:00:aa:bb:04", "addrs": [
        {"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": "192.0.2.44", "prefix": 24},
        {"type": libvirt.VIR_IP_ADDR_TYPE_IPV6, "addr": "fe80::5054:ff:feaa:bb04", "prefix": 64}]}
    assert got["lo"]["addrs"][0]["addr"] == "127.0.0.1"
    out = virsh(vrtd.uri, "domifaddr", "ag1", "--source", "agent").stdout
    assert re.search(r"eth0\s+52:54:00:aa:bb:04\s+ipv4\s+192.0.2.44/24", out)

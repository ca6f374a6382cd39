"""libvirt's QEMU program (qemu_protocol.x) through vrtd, as users of virsh
qemu-monitor-command, qemu-monitor-event, qemu-agent-command and
python3-libvirt's libvirt_qemu see it, on a guest-less QEMU: QMP passed
through and its reply returned as text, HMP through human-monitor-command,
the domain marked tainted (custom-monitor) in vrtd's log, QMP events
forwarded to registered callbacks, and libvirt's errors: a read-only
connection refused, an unknown domain, no guest agent, no attach."""
import json
import os
import re
import subprocess
import threading

import pytest

from vrt_fixtures import import_required, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")
libvirt_qemu = import_required("libvirt_qemu", "python3-libvirt is not installed")

KVM = os.access("/dev/kvm", os.R_OK | os.W_OK)
VTYPE = "kvm" if KVM else "qemu"


def guestless(name):
    return f"""<domain type='{VTYPE}'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>"""


@pytest.fixture
def running(vrtd, tmp_path):
    path = tmp_path / "d.xml"
    path.write_text(guestless("qp1"))
    virsh(vrtd.uri, "create", str(path))
    yield "qp1"
    virsh(vrtd.uri, "destroy", "qp1", check=False)


def test_virsh_qmp_command_reply_and_taint(vrtd, running):
    assert "is tainted" not in vrtd.stderr()
    out = virsh(vrtd.uri, "qemu-monitor-command", running, '{"execute":"query-status"}').stdout
    reply = json.loads(out)
    assert reply["return"]["status"] == "running", out
    assert reply["return"]["running"] is True
    assert "id" in reply
    # libvirt logs the taint once per QEMU: "Domain id=N ... is tainted: custom-monitor".
    dom_id = virsh(vrtd.uri, "domid", running).stdout.strip()
    wait_for(lambda: "is tainted: custom-monitor" in vrtd.stderr(), what="the taint in vrtd's log")
    assert re.search(rf"Domain id={dom_id} name='{running}' uuid=[0-9a-f-]+ is tainted: custom-monitor",
                     vrtd.stderr())
    virsh(vrtd.uri, "qemu-monitor-command", running, '{"execute":"query-name"}')
    assert vrtd.stderr().count("is tainted: custom-monitor") == 1


def test_virsh_qmp_error_reply_is_text(vrtd, running):
    # QEMU's error is the command's result, as libvirt returns it.
    out = virsh(vrtd.uri, "qemu-monitor-command", running, '{"execute":"no-such-command"}').stdout
    reply = json.loads(out)
    assert reply["error"]["class"] == "CommandNotFound", out


def test_virsh_pretty_and_hmp(vrtd, running):
    out = virsh(vrtd.uri, "qemu-monitor-command", "--pretty", running, '{"execute":"query-status"}').stdout
    assert out.startswith('{\n  "return": {\n    "status": "running",'), out
    assert json.loads(out)["return"]["status"] == "running"
    hmp = virsh(vrtd.uri, "qemu-monitor-command", "--hmp", running, "info status").stdout
    assert "VM status: running" in hmp, hmp
    virsh(vrtd.uri, "suspend", running)
    hmp = virsh(vrtd.uri, "qemu-monitor-command", "--hmp", running, "info", "status").stdout
    assert "VM status: paused" in hmp, hmp


def test_python_libvirt_qemu_monitor_command(vrtd, running):
    conn = libvirt.open(vrtd.uri)
    dom = conn.lookupByName(running)
    reply = json.loads(libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0))
    assert reply["return"]["status"] == "running", reply
    text = libvirt_qemu.qemuMonitorCommand(dom, "info status", libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
    assert "VM status: running" in text, text
    conn.close()


def test_not_json_is_refused(vrtd, running):
    # (virsh itself wraps a bare command name in {"execute": ...}.)
    conn = libvirt.open(vrtd.uri)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuMonitorCommand(conn.lookupByName(running), "query-status", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR
    assert "cannot parse json query-status" in str(e.value)
    conn.close()


def test_readonly_connection_refused(vrtd, running):
    p = virsh(vrtd.uri_ro, "qemu-monitor-command", running, '{"execute":"query-status"}', check=False)
    assert p.returncode != 0
    assert "read only access prevents virDomainQemuMonitorCommand" in p.stderr, p.stderr
    conn = libvirt.openReadOnly(vrtd.uri_ro)
    dom = conn.lookupByName(running)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    # Every call of the QEMU program needs write access in libvirt 9.0.
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', 5, 0)
    assert "read only access prevents virDomainQemuAgentCommand" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuMonitorEventRegister(conn, dom, None, lambda *a: None, None, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    conn.close()
    assert "is tainted" not in vrtd.stderr()


def test_unknown_and_inactive_domain(vrtd, running, tmp_path):
    conn = libvirt.open(vrtd.uri)
    dom = conn.lookupByName(running)
    virsh(vrtd.uri, "destroy", running)
    # The domain was transient: it is gone now.
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    path = tmp_path / "off.xml"
    path.write_text(guestless("qp-off"))
    virsh(vrtd.uri, "define", str(path))
    p = virsh(vrtd.uri, "qemu-monitor-command", "qp-off", '{"execute":"query-status"}', check=False)
    assert p.returncode != 0
    assert "domain is not running" in p.stderr, p.stderr
    conn.close()


def test_agent_command_not_configured(vrtd, running):
    p = virsh(vrtd.uri, "qemu-agent-command", running, '{"execute":"guest-ping"}', check=False)
    assert p.returncode != 0
    assert "QEMU guest agent is not configured" in p.stderr, p.stderr
    conn = libvirt.open(vrtd.uri)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuAgentCommand(conn.lookupByName(running), '{"execute":"guest-ping"}', 5, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    conn.close()


def test_attach_not_supported(vrtd):
    conn = libvirt.open(vrtd.uri)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuAttach(conn, os.getpid(), 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    conn.close()


def _monitor_events(vrtd, args, action):
    """Runs virsh qemu-monitor-event with args (with --timeout) and runs
    action again and again until virsh ends (virsh says nothing before its
    first event, so when it registered is not seen); returns its output."""
    p = subprocess.Popen(["virsh", "-c", vrtd.uri, "qemu-monitor-event"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while p.poll() is None:
        action()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    return out


def test_virsh_monitor_event_stop_resume(vrtd, running):
    def act():
        virsh(vrtd.uri, "suspend", running)
        virsh(vrtd.uri, "resume", running)
    out = _monitor_events(vrtd, ["--domain", running, "--loop", "--timeout", "5"], act)
    assert re.search(rf"^event STOP at [0-9]+\.[0-9]{{6}} for domain '{running}': <null>$", out, re.M), out
    assert re.search(rf"^event RESUME at [0-9]+\.[0-9]{{6}} for domain '{running}': <null>$", out, re.M), out
    assert "events received: 0" not in out, out


def test_virsh_monitor_event_filter_by_name(vrtd, running):
    def act():
        virsh(vrtd.uri, "suspend", running)
        virsh(vrtd.uri, "resume", running)
    out = _monitor_events(vrtd, ["--event", "resume", "--no-case", "--loop", "--timeout", "5"], act)
    assert "event RESUME" in out, out
    assert "event STOP" not in out, out
    out = _monitor_events(vrtd, ["--event", "^ST", "--regex", "--loop", "--timeout", "5"], act)
    assert "event STOP" in out, out
    assert "event RESUME" not in out, out


def test_python_monitor_event_callback(vrtd, running):
    libvirt.virEventRegisterDefaultImpl()
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            libvirt.virEventRunDefaultImpl()
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    conn = libvirt.open(vrtd.uri)
    dom = conn.lookupByName(running)
    seen = []

    def cb(conn_, dom_, event, seconds, micros, details, opaque):
        seen.append((dom_.name(), event, seconds, details))
    cid = libvirt_qemu.qemuMonitorEventRegister(conn, dom, "STOP", cb, None, 0)
    virsh(vrtd.uri, "suspend", running)
    virsh(vrtd.uri, "resume", running)
    wait_for(lambda: seen, what="the STOP event")
    assert seen[0][:2] == (running, "STOP"), seen
    assert seen[0][2] > 1600000000
    libvirt_qemu.qemuMonitorEventDeregister(conn, cid)
    with pytest.raises(libvirt.libvirtError):
        libvirt_qemu.qemuMonitorEventDeregister(conn, cid)
    # A QMP command's own event comes with its data as JSON text.
    all_events = []
    cid = libvirt_qemu.qemuMonitorEventRegister(conn, None, None,
                                                lambda *a: all_events.append((a[2], a[5])), None, 0)
    libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"system_reset"}', 0)
    wait_for(lambda: any(e == "RESET" for e, _ in all_events), what="the RESET event")
    details = json.loads(next(d for e, d in all_events if e == "RESET"))
    assert details["reason"] == "host-qmp-system-reset", all_events
    libvirt_qemu.qemuMonitorEventDeregister(conn, cid)
    conn.close()
    stop.set()

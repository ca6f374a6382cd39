"""The guest agent calls through vrtd: virsh domfsfreeze/domfsthaw, domtime,
qemu-agent-command (with libvirt's timeouts and the custom-ga-command taint),
shutdown and reboot --mode agent, against the QMP emulator's emulated
qemu-ga; and libvirt's errors with no agent configured, an agent channel
nobody answers on (also with real QEMU), and a read-only connection."""
import json
import os
import re
import time

import pytest

from vrt_fixtures import QmpEmu, import_required, kill_vms_under, virsh, vrt, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")
libvirt_qemu = import_required("libvirt_qemu", "python3-libvirt is not installed")

NOT_CONNECTED = "Guest agent is not responding: QEMU guest agent is not connected"


def domain_xml(name, devices, emulator=None):
    emu = f"<emulator>{emulator}</emulator>" if emulator else ""
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{emu}{devices}<memballoon model='none'/></devices></domain>")


def agent_channel(tmproot, name):
    return (f"<channel type='unix'><source mode='bind' path='{tmproot}/{name}-ga.sock'/>"
            "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def emu_domain(conn, tmproot, name, agent=True, behaviour=None):
    emu = QmpEmu(tmproot, name, behaviour=behaviour)
    devices = agent_channel(tmproot, name) if agent else ""
    conn.defineXML(domain_xml(name, devices, emulator=emu.binary)).create()
    return emu


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


def test_fsfreeze_and_thaw(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "fz1", behaviour={"agent": {"filesystems": ["/", "/boot"]}})
    virsh(vrtd.uri, "domfsfreeze", "fz1")
    assert emu.agent_commands()[-1] == {"execute": "guest-fsfreeze-freeze"}
    virsh(vrtd.uri, "domfsthaw", "fz1")
    assert emu.agent_commands()[-1] == {"execute": "guest-fsfreeze-thaw"}
    dom = conn.lookupByName("fz1")
    assert dom.fsFreeze() == 2
    assert dom.fsThaw() == 2
    # Chosen mountpoints: guest-fsfreeze-freeze-list.
    assert dom.fsFreeze(["/boot"]) == 1
    assert emu.agent_commands()[-1] == {"execute": "guest-fsfreeze-freeze-list",
                                        "arguments": {"mountpoints": ["/boot"]}}
    # The agent's own refusal, in libvirt's words.
    p = virsh(vrtd.uri, "domfsfreeze", "fz1", check=False)
    assert p.returncode != 0
    assert "unable to execute QEMU agent command 'guest-fsfreeze-freeze'" in p.stderr
    code, msg = error_of(dom.fsThaw, ["/boot"])
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED and "specifying mountpoints is not supported" in msg
    assert dom.fsThaw() == 1
    # Read-only connections are refused, as libvirt's API does.
    ro = libvirt.openReadOnly(vrtd.uri)
    try:
        code, msg = error_of(ro.lookupByName("fz1").fsFreeze)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
        code, _ = error_of(ro.lookupByName("fz1").getTime)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()


def test_domtime(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "tm1", behaviour={"agent": {"hostname": "g"}})
    now = int(time.time())
    got = int(re.search(r"Time: (\d+)", virsh(vrtd.uri, "domtime", "tm1").stdout).group(1))
    assert abs(got - now) < 60
    virsh(vrtd.uri, "domtime", "tm1", "--time", "1000000000")
    got = conn.lookupByName("tm1").getTime()
    assert 1000000000 <= got["seconds"] < 1000000060 and 0 <= got["nseconds"] < 10 ** 9
    sent = [c for c in emu.agent_commands() if c["execute"] == "guest-set-time"]
    assert sent == [{"execute": "guest-set-time", "arguments": {"time": 1000000000 * 10 ** 9}}]
    # After setting the time, the RTC's missed ticks are dropped (x86).
    assert any(c.get("execute") == "rtc-reset-reinjection" for c in emu.commands())
    # --sync: the guest reads its RTC; no time is sent.
    virsh(vrtd.uri, "domtime", "tm1", "--sync")
    assert emu.agent_commands()[-1] == {"execute": "guest-set-time"}
    got = conn.lookupByName("tm1").getTime()
    assert abs(got["seconds"] - int(time.time())) < 60


def test_agent_command_reply_timeout_and_taint(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "ac1", behaviour={"agent": {"hostname": "g1"}})
    assert "is tainted" not in vrtd.stderr()
    out = virsh(vrtd.uri, "qemu-agent-command", "ac1", '{"execute":"guest-get-host-name"}').stdout
    assert json.loads(out) == {"return": {"host-name": "g1"}}
    dom_id = conn.lookupByName("ac1").ID()
    wait_for(lambda: "is tainted: custom-ga-command" in vrtd.stderr(), what="the taint in vrtd's log")
    assert re.search(rf"Domain id={dom_id} name='ac1' uuid=[0-9a-f-]+ is tainted: custom-ga-command", vrtd.stderr())
    dom = conn.lookupByName("ac1")
    assert json.loads(libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', -1, 0)) == {"return": {}}
    assert vrtd.stderr().count("is tainted: custom-ga-command") == 1
    # The agent's error; an unparsable command; libvirt's minimum timeout.
    p = virsh(vrtd.uri, "qemu-agent-command", "ac1", '{"execute":"guest-nope"}', check=False)
    assert p.returncode != 0 and "unable to execute QEMU agent command 'guest-nope'" in p.stderr
    code, msg = error_of(libvirt_qemu.qemuAgentCommand, dom, "{nope", -1, 0)
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR and "cannot parse json" in msg
    code, msg = error_of(libvirt_qemu.qemuAgentCommand, dom, '{"execute":"guest-ping"}', -3, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "guest agent timeout '-3' is less than the minimum '-2'" in msg
    # An agent slower than the timeout: libvirt's "not available for now";
    # NOWAIT (0) never waits for the answer; BLOCK (-2) waits for it.
    emu.set_behaviour({"agent": {"agent_delay_ms": 2500}})
    p = virsh(vrtd.uri, "qemu-agent-command", "ac1", "--timeout", "1", '{"execute":"guest-ping"}', check=False)
    assert p.returncode != 0 and "Guest agent is not responding: Guest agent not available for now" in p.stderr
    code, msg = error_of(libvirt_qemu.qemuAgentCommand, dom, '{"execute":"guest-ping"}', 0, 0)
    assert code == libvirt.VIR_ERR_AGENT_UNRESPONSIVE
    assert json.loads(libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', -2, 0)) == {"return": {}}


def test_shutdown_and_reboot_with_the_agent(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "sd1", behaviour={"agent": {"hostname": "g"}})
    virsh(vrtd.uri, "reboot", "sd1", "--mode", "agent")
    reboot = {"execute": "guest-shutdown", "arguments": {"mode": "reboot"}}
    wait_for(lambda: reboot in emu.agent_commands(), what="guest-shutdown reboot")
    assert not any(c.get("execute") == "system_powerdown" for c in emu.commands())
    assert conn.lookupByName("sd1").isActive()
    virsh(vrtd.uri, "shutdown", "sd1", "--mode", "agent")
    powerdown = {"execute": "guest-shutdown", "arguments": {"mode": "powerdown"}}
    wait_for(lambda: powerdown in emu.agent_commands(), what="guest-shutdown powerdown")
    wait_for(lambda: not conn.lookupByName("sd1").isActive(), what="the guest's shutdown")
    assert not any(c.get("execute") == "system_powerdown" for c in emu.commands())


def test_shutdown_agent_mode_without_agent(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "sd2")
    # Only the agent asked for: its error; with ACPI too: the button.
    p = virsh(vrtd.uri, "shutdown", "sd2", "--mode", "agent", check=False)
    assert p.returncode != 0 and NOT_CONNECTED in p.stderr
    assert not any(c.get("execute") == "system_powerdown" for c in emu.commands())
    virsh(vrtd.uri, "shutdown", "sd2", "--mode", "agent,acpi")
    assert any(c.get("execute") == "system_powerdown" for c in emu.commands())


def test_errors_without_an_agent(conn, vrtd, tmproot):
    emu_domain(conn, tmproot, "na1", agent=False)
    for args in (["domfsfreeze", "na1"], ["domfsthaw", "na1"], ["domtime", "na1"],
                 ["qemu-agent-command", "na1", '{"execute":"guest-ping"}']):
        p = virsh(vrtd.uri, *args, check=False)
        assert p.returncode != 0 and "argument unsupported: QEMU guest agent is not configured" in p.stderr, args
    conn.defineXML(domain_xml("na2", ""))
    code, msg = error_of(conn.lookupByName("na2").fsFreeze)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg


def test_real_qemu_agent_channel_nobody_answers(conn, vrtd, tmproot):
    """Real QEMU with the agent's channel and no guest to run an agent."""
    conn.defineXML(domain_xml("rq1", agent_channel(tmproot, "rq1"))).create()
    for args in (["domfsfreeze", "rq1"], ["domtime", "rq1"], ["domtime", "rq1", "--now"],
                 ["qemu-agent-command", "rq1", '{"execute":"guest-ping"}'],
                 ["shutdown", "rq1", "--mode", "agent"]):
        p = virsh(vrtd.uri, *args, check=False)
        assert p.returncode != 0 and NOT_CONNECTED in p.stderr, (args, p.stderr)
    assert conn.lookupByName("rq1").isActive()


def test_vrt_cli(conn, vrtd, tmproot):
    emu = emu_domain(conn, tmproot, "cl1", behaviour={"agent": {"filesystems": ["/", "/srv"]}})
    assert vrt(vrtd.uri, "domfsfreeze", "cl1", "--mountpoint", "/srv").stdout == "Froze 1 filesystem(s)\n"
    assert json.loads(vrt(vrtd.uri, "--json", "domfsthaw", "cl1").stdout) == {"filesystems": 1}
    vrt(vrtd.uri, "domtime", "cl1", "--time", "2000000000")
    assert emu.agent_commands()[-1] == {"execute": "guest-set-time", "arguments": {"time": 2000000000 * 10 ** 9}}
    got = int(re.search(r"Time: (\d+)", vrt(vrtd.uri, "domtime", "cl1").stdout).group(1))
    assert 2000000000 <= got < 2000000060
    vrt(vrtd.uri, "domtime", "cl1", "--sync")
    emu_domain(conn, tmproot, "cl2", agent=False)
    p = vrt(vrtd.uri, "domfsfreeze", "cl2", check=False)
    assert p.returncode == 1 and "QEMU guest agent is not configured" in p.stderr

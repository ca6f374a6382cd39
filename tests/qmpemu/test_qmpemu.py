"""Checks that qmpemu answers as QEMU 7.2 does, and that its test knobs work.

The first tests run one QMP script against real qemu-system-x86_64 -S and
against the emulator, started with the same vrtd-style command line, and
compare replies (error classes and texts exactly, successful replies by
shape) and the events each step produces. The rest check what only the
emulator has: unplug acknowledgement delays, refusals and crashes on demand,
the command log, pid file and -daemonize.
Run: /usr/bin/python3 -m pytest tests/qmpemu
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from guest import QMP, QMPError  # noqa: E402
from vrt_fixtures import needs  # noqa: E402

QMPEMU = os.path.join(HERE, "qmpemu.py")
PYTHON = sys.executable
EXIT_BOUND_S = 10
UUID = "c7a5fdbd-cdaf-9455-926a-d65c16db1809"


def vrtd_style_args(d, name="t1", paused=True):
    """The shape of command line vrtd gives QEMU (machine q35 with one root port)."""
    args = ["-name", f"guest={name},debug-threads=on", "-S" if paused else None,
            "-machine", "pc-q35-7.2,usb=off", "-accel", "tcg",
            "-m", "size=131072k", "-smp", "2,sockets=1,cores=2,threads=1",
            "-uuid", UUID, "-no-user-config", "-nodefaults", "-display", "none",
            "-chardev", f"socket,id=charmonitor,path={d}/mon.sock,server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control",
            "-device", "pcie-root-port,port=8,chassis=1,id=pci.1,bus=pcie.0,addr=0x1",
            "-device", "pcie-root-port,port=9,chassis=2,id=pci.2,bus=pcie.0,addr=0x2",
            "-pidfile", f"{d}/qemu.pid"]
    return [a for a in args if a is not None]


class Proc:
    def __init__(self, argv, d, env=None):
        self.dir = d
        self.proc = subprocess.Popen(argv, cwd=d, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.qmp = QMP(os.path.join(d, "mon.sock"))

    def stop(self):
        self.qmp.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


def start_emu(d, extra=(), config=None, paused=True, env_extra=None):
    env = dict(os.environ)
    if config is not None:
        path = os.path.join(d, "emu.json")
        with open(path, "w") as f:
            json.dump(config, f)
        env["QMPEMU_CONFIG"] = path
    env.update(env_extra or {})
    return Proc([PYTHON, QMPEMU, *vrtd_style_args(d, paused=paused), *extra], d, env)


def start_qemu(d):
    return Proc(["qemu-system-x86_64", *vrtd_style_args(d)], d)


def shape(v):
    """Types and keys, not values: what a client may rely on across versions."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    return type(v).__name__


def drain_events(q, wait=0.3):
    try:
        q.wait_event("NO-SUCH-EVENT", wait)
    except TimeoutError:
        pass
    evs = [(e["event"], e.get("data")) for e in q.events]
    q.events.clear()
    return evs


# A script of (command, arguments, how to compare): "exact" = same reply,
# "shape" = same keys and types, "names" = same qom-list child names.
SCRIPT = [
    ("query-status", {}, "exact"),
    ("qmp_capabilities", {}, "exact"),
    ("query-status", {}, "exact"),
    ("no-such-command", {}, "exact"),
    ("query-uuid", {}, "exact"),
    ("netdev_add", {"type": "user", "id": "hostnet1"}, "exact"),
    ("netdev_add", {"type": "user", "id": "hostnet1"}, "exact"),
    ("netdev_add", {"id": "x"}, "exact"),
    ("device_add", {"driver": "virtio-net-pci", "id": "net1", "netdev": "hostnet1",
                    "bus": "pci.1", "mac": "52:54:00:aa:bb:cc"}, "exact"),
    ("device_add", {"driver": "virtio-net-pci", "id": "net1", "bus": "pci.2"}, "exact"),
    ("device_add", {"driver": "no-such-model", "id": "x1"}, "exact"),
    ("device_add", {"driver": "virtio-net-pci", "id": "x2", "bus": "nobus"}, "exact"),
    ("device_add", {"driver": "virtio-net-pci", "id": "x3"}, "exact"),
    ("device_add", {"driver": "virtio-net-pci", "id": "x4", "bus": "pci.2",
                    "netdev": "missing"}, "exact"),
    ("device_add", {"driver": "vfio-pci", "id": "hostdev0", "bus": "pci.2"}, "exact"),
    ("device_add", {"id": "x5"}, "exact"),
    ("qom-list", {"path": "/machine/peripheral"}, "names"),
    ("qom-list", {"path": "/nope"}, "exact"),
    ("query-cpus-fast", {}, "shape"),
    ("query-balloon", {}, "exact"),
    ("query-pci", {}, "pci"),
    # The balloon's statistics: vrtd's dommemstat --period and guest stats.
    ("device_add", {"driver": "virtio-balloon-pci", "id": "balloon0", "bus": "pci.2"}, "exact"),
    ("qom-set", {"path": "/machine/peripheral/balloon0", "property": "guest-stats-polling-interval",
                 "value": 2}, "exact"),
    ("qom-get", {"path": "/machine/peripheral/balloon0", "property": "guest-stats-polling-interval"}, "exact"),
    ("qom-get", {"path": "/machine/peripheral/balloon0", "property": "guest-stats"}, "exact"),
    ("qom-get", {"path": "/machine/peripheral/nope", "property": "guest-stats"}, "exact"),
    ("cont", {}, "exact"),
    ("cont", {}, "exact"),
    ("query-status", {}, "exact"),
    ("stop", {}, "exact"),
    ("query-status", {}, "exact"),
    ("cont", {}, "exact"),
    ("system_reset", {}, "exact"),
    ("device_del", {"id": "nope"}, "exact"),
    ("device_del", {"id": "net1"}, "exact"),
    ("device_del", {"id": "net1"}, "exact"),
    ("netdev_del", {"id": "nope"}, "exact"),
    ("quit", {}, "exact"),
]


def run_script(p):
    out = []
    for name, args, how in SCRIPT:
        reply = p.qmp.execute(name, **args)
        if name == "quit":
            time.sleep(0.3)
        evs = drain_events(p.qmp, 0.2) if name != "quit" else []
        out.append((name, args, how, reply, evs))
    return out


def pci_ids(reply):
    found = []

    def walk(devs):
        for d in devs:
            if d.get("qdev_id"):
                found.append(d["qdev_id"])
            walk(d.get("pci_bridge", {}).get("devices", []))
    for bus in reply["return"]:
        walk(bus["devices"])
    return sorted(found)


@needs(shutil.which("qemu-system-x86_64"), "no QEMU")
def test_same_answers_as_qemu(tmproot):
    rd = os.path.join(tmproot, "real")
    ed = os.path.join(tmproot, "emu")
    os.mkdir(rd)
    os.mkdir(ed)
    real = start_qemu(rd)
    # Real QEMU with no guest never acknowledges the unplug; make the emulator agree.
    emu = start_emu(ed, config={"device_del_ack_ms": None})
    try:
        assert shape(real.qmp.greeting) == shape(emu.qmp.greeting)
        assert emu.qmp.greeting["QMP"]["version"]["qemu"]["major"] == 7
        assert emu.qmp.greeting["QMP"]["version"]["qemu"]["minor"] == 2
        r_out = run_script(real)
        e_out = run_script(emu)
        for (name, args, how, r, r_ev), (_, _, _, e, e_ev) in zip(r_out, e_out):
            where = f"{name} {args}"
            assert ("error" in r) == ("error" in e), f"{where}: real {r} emu {e}"
            if "error" in r or how == "exact":
                assert r == e, f"{where}: real {r} emu {e}"
            elif how == "shape":
                assert shape(r) == shape(e), where
            elif how == "names":
                assert sorted(x["name"] for x in r["return"]) == \
                    sorted(x["name"] for x in e["return"]), where
            elif how == "pci":
                # Real QEMU under -S has not numbered the root ports' buses, so
                # only the root bus is comparable: the ids present there.
                r_root = sorted(d["qdev_id"] for d in r["return"][0]["devices"] if d["qdev_id"])
                e_root = sorted(d["qdev_id"] for d in e["return"][0]["devices"] if d["qdev_id"])
                assert r_root == e_root, where
                assert shape(r["return"][0]["devices"][0]) == \
                    shape(e["return"][0]["devices"][0]), where
            # Real firmware may reset the machine itself after a reset (a
            # guest-initiated RESET); the emulator has no firmware.
            r_ev = [x for x in r_ev if not (x[1] or {}).get("guest")]
            assert r_ev == e_ev, f"{where}: events real {r_ev} emu {e_ev}"
        assert real.proc.wait(EXIT_BOUND_S) == 0
        assert emu.proc.wait(EXIT_BOUND_S) == 0
        assert not os.path.exists(os.path.join(ed, "qemu.pid"))
    finally:
        real.stop()
        emu.stop()


SCRIPT_PC = [
    ("qmp_capabilities", {}),
    ("device_add", {"driver": "virtio-net-pci", "id": "net1", "addr": "0x5"}),
    ("device_add", {"driver": "e1000", "id": "net2", "addr": "0x5"}),
    ("device_add", {"driver": "e1000", "id": "net3"}),
    ("device_del", {"id": "net1"}),
    ("device_del", {"id": "net1"}),
    ("query-status", {}),
    ("quit", {}),
]


@needs(shutil.which("qemu-system-x86_64"), "no QEMU")
def test_same_answers_as_qemu_pc(tmproot):
    # pc's root bus takes hotplug directly; a repeated unplug request is refused.
    replies = []
    for kind in ("real", "emu"):
        d = os.path.join(tmproot, kind)
        os.mkdir(d)
        argv = ["-machine", "pc", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
                "-chardev", f"socket,id=mon,path={d}/mon.sock,server=on,wait=off",
                "-mon", "chardev=mon,mode=control"]
        if kind == "real":
            p = Proc(["qemu-system-x86_64", *argv], d)
        else:
            env = dict(os.environ, QMPEMU_CONFIG=os.path.join(d, "emu.json"))
            with open(env["QMPEMU_CONFIG"], "w") as f:
                json.dump({"device_del_ack_ms": None}, f)
            p = Proc([PYTHON, QMPEMU, *argv], d, env)
        try:
            replies.append([p.qmp.execute(name, **args) for name, args in SCRIPT_PC])
            assert p.proc.wait(EXIT_BOUND_S) == 0
        finally:
            p.stop()
    for (name, args), r, e in zip(SCRIPT_PC, *replies):
        assert r == e, f"{name} {args}: real {r} emu {e}"


@needs(shutil.which("qemu-system-x86_64"), "no QEMU")
def test_sigterm_like_qemu(tmproot):
    results = []
    for kind in ("real", "emu"):
        d = os.path.join(tmproot, kind)
        os.mkdir(d)
        p = start_qemu(d) if kind == "real" else start_emu(d)
        try:
            p.qmp.cmd("qmp_capabilities")
            with open(os.path.join(d, "qemu.pid")) as f:
                assert int(f.read()) == p.proc.pid
            p.proc.send_signal(signal.SIGTERM)
            ev = p.qmp.wait_event("SHUTDOWN", EXIT_BOUND_S)
            results.append((ev["data"], p.proc.wait(EXIT_BOUND_S)))
        finally:
            p.stop()
    assert results[0] == results[1]
    assert results[1][0] == {"guest": False, "reason": "host-signal"}


def test_unplug_acknowledged_after_delay(tmproot):
    emu = start_emu(tmproot, config={"device_del_ack_ms": 150}, paused=False)
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        q.cmd("device_add", driver="vfio-pci", id="hostdev0", host="06:10.0", bus="pci.1")
        t0 = time.monotonic()
        q.cmd("device_del", id="hostdev0")
        ev = q.wait_event("DEVICE_DELETED", 5)
        took = time.monotonic() - t0
        assert ev["data"] == {"device": "hostdev0", "path": "/machine/peripheral/hostdev0"}
        assert 0.12 <= took < 2
        names = [x["name"] for x in q.cmd("qom-list", path="/machine/peripheral")]
        assert "hostdev0" not in names
        # The slot is free again: the same device can be added back.
        q.cmd("device_add", driver="vfio-pci", id="hostdev0", host="06:10.0", bus="pci.1")
    finally:
        emu.stop()


def test_unplug_never_acknowledged_then_config_changed(tmproot):
    emu = start_emu(tmproot, config={"device_del_ack": {"hostdev0": None}}, paused=False)
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        q.cmd("device_add", driver="vfio-pci", id="hostdev0", host="0000:06:10.1",
              bus="pci.1")
        q.cmd("device_del", id="hostdev0")
        with pytest.raises(TimeoutError):
            q.wait_event("DEVICE_DELETED", 1)
        # Behind a root port QEMU 7.2 accepts a repeated request (the client
        # must track that one is pending); still nothing is acknowledged.
        assert q.cmd("device_del", id="hostdev0") == {}
        with pytest.raises(TimeoutError):
            q.wait_event("DEVICE_DELETED", 0.5)
        names = [x["name"] for x in q.cmd("qom-list", path="/machine/peripheral")]
        assert "hostdev0" in names
    finally:
        emu.stop()


def test_repeated_unplug_refused_on_pc(tmproot):
    argv = [PYTHON, QMPEMU, "-machine", "pc", "-S", "-chardev",
            f"socket,id=mon,path={tmproot}/mon.sock,server=on,wait=off",
            "-mon", "chardev=mon,mode=control"]
    env = dict(os.environ, QMPEMU_CONFIG=os.path.join(tmproot, "emu.json"))
    with open(env["QMPEMU_CONFIG"], "w") as f:
        json.dump({"device_del_ack_ms": None}, f)
    emu = Proc(argv, tmproot, env)
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        q.cmd("device_add", driver="virtio-net-pci", id="net1")
        q.cmd("device_del", id="net1")
        with pytest.raises(QMPError, match="Device net1 is already in the process of unplug"):
            q.cmd("device_del", id="net1")
    finally:
        emu.stop()


def test_device_add_fails_on_demand_and_logs(tmproot):
    cfg = {"device_add_fail": {"vfio-pci": {
        "class": "GenericError",
        "desc": "vfio 0000:06:10.0: group 12 is not viable"}}}
    emu = start_emu(tmproot, config=cfg)
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        with pytest.raises(QMPError) as err:
            q.cmd("device_add", driver="vfio-pci", id="hostdev0", host="06:10.0",
                  bus="pci.1")
        assert err.value.cls == "GenericError"
        assert "not viable" in err.value.desc
        names = [x["name"] for x in q.cmd("qom-list", path="/machine/peripheral")]
        assert "hostdev0" not in names
        q.cmd("device_add", driver="virtio-net-pci", id="net0", bus="pci.1")
    finally:
        emu.stop()
    with open(os.path.join(tmproot, "mon.sock.log")) as f:
        cmds = [json.loads(line)["cmd"] for line in f]
    assert [c["execute"] for c in cmds] == ["qmp_capabilities", "device_add", "qom-list",
                                            "device_add"]
    assert cmds[1]["arguments"]["host"] == "06:10.0"


def test_crash_on_command(tmproot):
    log = os.path.join(tmproot, "cmds.jsonl")
    cfg = {"crash_on": [{"execute": "device_add", "arguments": {"driver": "vfio-pci"}}]}
    emu = start_emu(tmproot, config=cfg, env_extra={"QMPEMU_LOG": log})
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        q.cmd("device_add", driver="virtio-net-pci", id="net0", bus="pci.1")
        with pytest.raises((EOFError, ConnectionResetError)):
            q.cmd("device_add", driver="vfio-pci", id="hostdev0", host="06:10.0",
                  bus="pci.2")
        assert emu.proc.wait(EXIT_BOUND_S) == -signal.SIGKILL
    finally:
        emu.stop()
    with open(log) as f:
        assert len(f.readlines()) == 3


def test_vfio_requires_vfio_driver_under_sysfs_root(tmproot):
    root = os.path.join(tmproot, "host")
    dev = os.path.join(root, "sys/bus/pci/devices/0000:06:10.0")
    os.makedirs(dev)
    drivers = os.path.join(root, "sys/bus/pci/drivers")
    os.makedirs(os.path.join(drivers, "ixgbevf"))
    os.makedirs(os.path.join(drivers, "vfio-pci"))
    os.symlink(os.path.join(drivers, "ixgbevf"), os.path.join(dev, "driver"))
    emu = start_emu(tmproot, config={"vfio_sysfs_root": root})
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        with pytest.raises(QMPError, match="no such host device"):
            q.cmd("device_add", driver="vfio-pci", id="h1", host="06:11.0", bus="pci.1")
        with pytest.raises(QMPError, match="not bound to vfio-pci"):
            q.cmd("device_add", driver="vfio-pci", id="h1", host="06:10.0", bus="pci.1")
        os.unlink(os.path.join(dev, "driver"))
        os.symlink(os.path.join(drivers, "vfio-pci"), os.path.join(dev, "driver"))
        q.cmd("device_add", driver="vfio-pci", id="h1", host="06:10.0", bus="pci.1")
    finally:
        emu.stop()


def test_powerdown_reconnect_and_no_shutdown(tmproot):
    emu = start_emu(tmproot, extra=["-no-shutdown"], paused=False)
    try:
        emu.qmp.cmd("qmp_capabilities")
        emu.qmp.close()
        # A monitor client may go away and come back (vrtd restarting).
        q = QMP(os.path.join(tmproot, "mon.sock"))
        emu.qmp = q
        assert q.greeting["QMP"]["capabilities"] == ["oob"]
        q.cmd("qmp_capabilities")
        q.cmd("system_powerdown")
        q.wait_event("POWERDOWN", 2)
        assert q.wait_event("SHUTDOWN", 2)["data"] == {"guest": True,
                                                      "reason": "guest-shutdown"}
        q.wait_event("STOP", 2)
        assert q.cmd("query-status")["status"] == "shutdown"
        assert emu.proc.poll() is None
    finally:
        emu.stop()


def test_powerdown_exits(tmproot):
    emu = start_emu(tmproot, paused=False)
    try:
        emu.qmp.cmd("qmp_capabilities")
        emu.qmp.cmd("system_powerdown")
        emu.qmp.wait_event("SHUTDOWN", 2)
        assert emu.proc.wait(EXIT_BOUND_S) == 0
        assert not os.path.exists(os.path.join(tmproot, "mon.sock"))
    finally:
        emu.stop()


def test_daemonize_writes_pidfile(tmproot):
    argv = [PYTHON, QMPEMU, *vrtd_style_args(tmproot), "-daemonize"]
    assert subprocess.run(argv, timeout=EXIT_BOUND_S).returncode == 0
    with open(os.path.join(tmproot, "qemu.pid")) as f:
        pid = int(f.read())
    q = QMP(os.path.join(tmproot, "mon.sock"))
    try:
        q.cmd("qmp_capabilities")
        q.cmd("quit")
    finally:
        q.close()
    deadline = time.monotonic() + EXIT_BOUND_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("daemonized emulator did not exit after quit")


def test_monitor_on_passed_listening_fd(tmproot):
    # A daemon may create the monitor socket itself and pass it as fd=N.
    path = os.path.join(tmproot, "passed.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(1)
    fd = lsock.fileno()
    argv = [PYTHON, QMPEMU, "-machine", "q35", "-chardev", f"socket,id=mon,fd={fd},server=on,wait=off",
            "-mon", "chardev=mon,mode=control"]
    proc = subprocess.Popen(argv, pass_fds=[fd], stderr=subprocess.PIPE)
    lsock.close()
    q = QMP(path)
    try:
        q.cmd("qmp_capabilities")
        assert q.cmd("query-status") == {"status": "running", "singlestep": False,
                                         "running": True}
        q.cmd("quit")
        assert proc.wait(EXIT_BOUND_S) == 0
    finally:
        q.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()


@needs(shutil.which("qemu-system-x86_64"), "no QEMU")
def test_bad_input_like_qemu(tmproot):
    # Malformed QMP input gets the same error as from QEMU, and the monitor goes on.
    lines = [b"[1,2]", b'{"foo": 1}', b"garbage", b'{"execute": "query-status", "id": 7}']
    replies = []
    for kind in ("real", "emu"):
        d = os.path.join(tmproot, kind)
        os.mkdir(d)
        argv = ["-S", "-nodefaults", "-display", "none", "-chardev",
                f"socket,id=mon,path={d}/mon.sock,server=on,wait=off",
                "-mon", "chardev=mon,mode=control"]
        p = Proc(["qemu-system-x86_64", *argv] if kind == "real" else [PYTHON, QMPEMU, *argv], d)
        try:
            p.qmp.cmd("qmp_capabilities")
            got = []
            for line in lines:
                p.qmp.sock.sendall(line + b"\r\n")
                got.append(p.qmp._read())
            replies.append(got)
        finally:
            p.stop()
    assert replies[0] == replies[1]


def test_json_device_syntax(tmproot):
    # vrtd, like libvirt, writes -device and -netdev as JSON objects.
    argv = [PYTHON, QMPEMU, "-machine", "pc-q35-7.2", "-S",
            "-chardev", f"socket,id=mon,path={tmproot}/mon.sock,server=on,wait=off",
            "-mon", "chardev=mon,mode=control",
            "-device", '{"driver":"pcie-root-port","port":8,"chassis":1,"bus":"pcie.0",'
                       '"addr":"0x1","multifunction":true,"id":"pci.1"}',
            "-netdev", '{"type":"user","id":"hostnet0"}',
            "-device", '{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0",'
                       '"mac":"52:54:00:00:00:01","bus":"pci.1","addr":"0x0"}']
    emu = Proc(argv, tmproot)
    try:
        q = emu.qmp
        q.cmd("qmp_capabilities")
        names = {x["name"] for x in q.cmd("qom-list", path="/machine/peripheral")}
        assert {"pci.1", "net0"} <= names
        with pytest.raises(QMPError, match="Duplicate ID 'hostnet0'"):
            q.cmd("netdev_add", type="user", id="hostnet0")
    finally:
        emu.stop()


def test_version_option_like_qemu():
    out = subprocess.run([PYTHON, QMPEMU, "-version"], capture_output=True, text=True,
                         timeout=EXIT_BOUND_S)
    assert out.returncode == 0
    assert out.stdout.startswith("QEMU emulator version 7.2.")

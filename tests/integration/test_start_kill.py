"""vrtd killed with -9 while it starts or destroys domains: never two QEMUs
for one domain, never a QEMU vrtd does not know. A restarted vrtd reconnects
to every QEMU whose start had finished, kills one caught mid-start (the
domain is then shut off, reason failed), and a start after that runs exactly
one QEMU. Checked at every step of start and destroy (VRT_FAULT_DIE_AT) and
in rounds of kill -9 at random moments under concurrent starts and destroys,
counting the QEMU processes of each domain from /proc. A destroy cut short
by the kill still reads destroyed after the restart: it was recorded in the
status file before QEMU was signalled."""
import os
import random
import re
import signal
import threading
import time

import libvirt
import pytest

from vrt_fixtures import Vrtd, pid_alive, virsh, wait_for
from test_qemu_driver import define, domstate, qemu_reaper  # noqa: F401 (fixture)

START_STEPS = ["spawn", "record", "exec", "monitor", "cont", "running"]
DESTROY_STEPS = ["kill", "stop", "cleanup"]


def qemus(root):
    """domain name -> pids of the QEMU processes started under root."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not argv or "qemu-system" not in os.path.basename(argv[0]) or not pid_alive(int(entry)):
            continue
        if not any(root in a for a in argv) or "-name" not in argv:
            continue
        name = argv[argv.index("-name") + 1].split(",")[0].removeprefix("guest=")
        found.setdefault(name, []).append(int(entry))
    return found


def status_pid(root, name):
    try:
        with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
            return int(re.search(r"pid='(\d+)'", f.read()).group(1))
    except FileNotFoundError:
        return None


def check_invariants(uri, root, names):
    """Each domain reads active with exactly its one recorded QEMU, or shut
    off with none; returns name -> state line."""
    procs = qemus(root)
    states = {}
    for name in names:
        state = domstate(uri, name)
        pids = procs.get(name, [])
        assert len(pids) <= 1, f"{name}: {len(pids)} QEMU processes {pids} ({state})"
        if state.startswith("shut off"):
            assert pids == [], f"{name} reads '{state}' but QEMU pid {pids} runs untracked"
        else:
            assert pids == [status_pid(root, name)], f"{name} reads '{state}', QEMU {pids}"
        states[name] = state
    return states


def killed_by_fault(d):
    d.proc.wait(30)
    assert d.proc.returncode == -signal.SIGKILL, d.stderr()


@pytest.mark.parametrize("step", START_STEPS)
def test_kill_at_start_step(tmproot, qemu_reaper, step):  # noqa: F811
    d = Vrtd(tmproot, env={"VRT_FAULT_DIE_AT": f"start:{step}"}).start()
    define(d.uri, tmproot, "vm1")
    p = virsh(d.uri, "start", "vm1", check=False)
    assert p.returncode != 0
    killed_by_fault(d)

    d = Vrtd(tmproot).start()
    try:
        state = check_invariants(d.uri, tmproot, ["vm1"])["vm1"]
        assert state.startswith("shut off")
        if step not in ("spawn", "record"):
            # The start was recorded: the domain's start failed.
            assert state == "shut off (failed)"
        if step not in ("spawn", "record", "exec"):
            # QEMU had exec'd: the restarted vrtd found it and ended it.
            assert "its start was never completed" in d.stderr()
        # Whatever the step, a held process that never exec'd is gone too,
        # and so is the run directory of its monitor socket.
        wait_for(lambda: not qemus(tmproot), what="no QEMU left")
        assert not [e for e in os.listdir(os.path.join(tmproot, "run", "vrt", "qemu")) if e.startswith("domain-")]
        virsh(d.uri, "start", "vm1")
        assert domstate(d.uri, "vm1") == "running (booted)"
        assert check_invariants(d.uri, tmproot, ["vm1"])
        assert len(qemus(tmproot)["vm1"]) == 1
        virsh(d.uri, "destroy", "vm1")
        assert qemus(tmproot) == {}
    finally:
        d.stop()


@pytest.mark.parametrize("step", DESTROY_STEPS)
def test_kill_at_destroy_step(tmproot, qemu_reaper, step):  # noqa: F811
    d = Vrtd(tmproot, env={"VRT_FAULT_DIE_AT": f"destroy:{step}"}).start()
    define(d.uri, tmproot, "vm1")
    virsh(d.uri, "start", "vm1")
    p = virsh(d.uri, "destroy", "vm1", check=False)
    assert p.returncode != 0
    killed_by_fault(d)

    d = Vrtd(tmproot).start()
    try:
        state = check_invariants(d.uri, tmproot, ["vm1"])["vm1"]
        if step == "kill":
            # Killed before any signal: the VM still runs and is reconnected.
            assert state == "running (booted)"
            virsh(d.uri, "destroy", "vm1")
        else:
            # A user asked for the destroy: it reads destroyed, not crashed.
            assert state == "shut off (destroyed)"
        assert not [e for e in os.listdir(os.path.join(tmproot, "run", "vrt", "qemu"))
                    if e.startswith(("vm1.", "domain-"))]
        assert qemus(tmproot) == {}
        virsh(d.uri, "start", "vm1")
        check_invariants(d.uri, tmproot, ["vm1"])
        assert len(qemus(tmproot)["vm1"]) == 1
    finally:
        d.stop()


def churn(uri, name, stop):
    """Starts and destroys name until stop is set or the daemon goes."""
    try:
        conn = libvirt.open(uri)
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    while not stop.is_set():
        try:
            if dom.isActive():
                dom.destroy()
            else:
                dom.create()
        except libvirt.libvirtError:
            if stop.is_set():
                break
            # "already running" and the like between two callers; a dead
            # daemon ends the loop through stop.
            time.sleep(0.01)
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def test_random_kill9_under_concurrent_start_destroy(tmproot, qemu_reaper):  # noqa: F811
    names = ["k1", "k2", "k3"]
    rounds = 20
    rng = random.Random(int(os.environ.get("VRT_TEST_SEED", "1")))
    daemons = []
    try:
        run_kill_rounds(tmproot, names, rounds, rng, daemons)
    finally:
        for d in daemons:
            d.stop(signal.SIGKILL)


def run_kill_rounds(root, names, rounds, rng, daemons):
    d = Vrtd(root).start()
    daemons.append(d)
    for name in names:
        define(d.uri, root, name)
    failed_seen = 0
    for _ in range(rounds):
        stop = threading.Event()
        threads = [threading.Thread(target=churn, args=(d.uri, n, stop)) for n in names]
        # Two callers on one domain: start and destroy also race each other.
        threads.append(threading.Thread(target=churn, args=(d.uri, names[0], stop)))
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.6))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive()

        d = Vrtd(root).start()
        daemons.append(d)
        states = check_invariants(d.uri, root, names)
        failed_seen += sum(s == "shut off (failed)" for s in states.values())
        # A second start finds no first QEMU still running.
        for name, state in states.items():
            if state.startswith("shut off"):
                virsh(d.uri, "start", name)
        check_invariants(d.uri, root, names)
        assert all(len(qemus(root).get(n, [])) == 1 for n in names)
    print(f"{rounds} rounds, {failed_seen} starts caught midway")


def test_recorded_destroy_is_finished_after_restart(tmproot, qemu_reaper):  # noqa: F811
    """A vrtd killed after recording a destroy but before signalling QEMU
    (no fault point falls there: the status file is edited as that vrtd
    would have left it): the next vrtd ends that QEMU instead of
    reconnecting, and the domain reads destroyed."""
    d = Vrtd(tmproot).start()
    define(d.uri, tmproot, "vm1")
    virsh(d.uri, "start", "vm1")
    pid = status_pid(tmproot, "vm1")
    d.stop(signal.SIGKILL)
    path = os.path.join(tmproot, "run", "vrt", "qemu", "vm1.xml")
    with open(path) as f:
        text = f.read()
    assert "destroying='no'" in text
    with open(path, "w") as f:
        f.write(text.replace("destroying='no'", "destroying='yes'"))

    d = Vrtd(tmproot).start()
    try:
        assert domstate(d.uri, "vm1") == "shut off (destroyed)"
        assert not pid_alive(pid)
        assert check_invariants(d.uri, tmproot, ["vm1"])
        virsh(d.uri, "start", "vm1")
        assert domstate(d.uri, "vm1") == "running (booted)"
        virsh(d.uri, "destroy", "vm1")
    finally:
        d.stop()

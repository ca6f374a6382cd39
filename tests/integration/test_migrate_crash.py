"""Crash safety of a live migration at the phases where the guest may
already run at the destination, peer-to-peer (`virsh migrate --live
--p2p`) and client-managed (`virsh migrate --live`, virsh driving both
daemons; the source learns the destination's daemon from the cookie of
its prepare, qemu+tls://ADDRESS:PORT/system): either vrtd is killed (-9, the driver's fault hook VRT_FAULT_DIE_AT) at a
step, both are restarted, and then exactly one running copy of the guest
exists (the destination's once its finish resumed it, the source's
otherwise), no other QEMU of the domain is left under either root, and
both daemons agree where the domain lives. Two vrtds in network
namespaces joined by a veth pair, as test_migrate.py; each test starts its
own pair (TLS ports of their own) so that a kill leaves no other test
without a host.

A restarted source whose transfer had completed asks its destination where
the guest runs, after it listens: each test restarts it while the
destination's vrtd is frozen (SIGSTOP) or down, and checks that it answers
then, with its copy paused and held by the migration (a resume refused),
before the destination may answer."""
import os
import shutil
import signal
import tempfile

import pytest

from vrt_fixtures import kill_vms_under, pid_alive, require, virsh, wait_for
import migrate_env
from migrate_env import DST_IP, SRC_IP, domain_xml, qemu_pid
from migrate_fixtures import certs, net  # noqa: F401 - module fixtures

SRC_PORT, DST_PORT = 16531, 16532
SRC_HOST_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000011"
DST_HOST_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000012"


def vrtd(ns, certs, key_cert, host_uuid, address, port, root, die_at=None, tcp_only=False):
    """vrtd on root (TLS on port); die_at: the fault step where it kills
    itself; tcp_only: plain TCP on port instead (auth_tcp "none"), no TLS.
    .args let restart() start it again on the same root."""
    conf = f'tls_port = "{port}"\n'
    if tcp_only:
        conf = f'listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\ntcp_port = "{port}"\n'
    if die_at:
        os.environ["VRT_FAULT_DIE_AT"] = die_at
    try:
        d = migrate_env.start_vrtd(ns, certs, key_cert, host_uuid, address, root, conf)
    finally:
        os.environ.pop("VRT_FAULT_DIE_AT", None)
    d.tls = f"qemu+tcp://{address}:{port}/system" if tcp_only else \
        f"qemu+tls://{address}:{port}/system?pkipath={certs.client}"
    d.args = (ns, certs, key_cert, host_uuid, address, port, root, None, tcp_only)
    return d


def restart(d):
    """Kills d (-9) unless it died already, then starts it again on its
    root, without a fault step."""
    if d.proc.poll() is None:
        d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=60)
    return vrtd(*d.args)


@pytest.fixture
def pair(net, certs):
    """A source and a destination of the test's own; pair.start(side, step)
    starts both, that side dying at step; pair.start_both(src_step,
    dst_step) each dying at its own."""
    a, b = net

    class Pair:
        src = dst = None
        dst_tcp_only = False

        def start(self, side, step):
            return self.start_both(step if side == "src" else None, step if side == "dst" else None)

        def start_both(self, src_step, dst_step):
            self.src = vrtd(a, certs, certs.src, SRC_HOST_UUID, SRC_IP, SRC_PORT, tempfile.mkdtemp(prefix="vrt-mig-"),
                            src_step)
            self.dst = vrtd(b, certs, certs.dst, DST_HOST_UUID, DST_IP, DST_PORT, tempfile.mkdtemp(prefix="vrt-mig-"),
                            dst_step, self.dst_tcp_only)
            return self.src, self.dst

    p = Pair()
    p.ns = a
    yield p
    for d in (p.src, p.dst):
        if d:
            d.stop(signal.SIGKILL)
            kill_vms_under(d.root)
            shutil.rmtree(d.root, ignore_errors=True)


def assert_held(src, name):
    """The restarted source answers while its question is pending: it
    lists the domain, paused, and refuses a state change for the
    migration that holds it (no half-settled domain)."""
    assert name in names(src)
    assert state(src, name) == "paused"
    r = virsh(src.uri, "resume", name, check=False)
    assert r.returncode != 0 and "migration" in r.stderr, r.stderr


def restart_source_held(p, name):
    """Restarts the source (killed or not) while the destination's vrtd is
    frozen, so that the source's question cannot be answered before it
    listens: it must answer its own clients meanwhile (assert_held). The
    destination then runs on."""
    p.dst.proc.send_signal(signal.SIGSTOP)
    try:
        p.src = restart(p.src)
        assert_held(p.src, name)
    finally:
        p.dst.proc.send_signal(signal.SIGCONT)
    return p.src


def qemus(d, name):
    """The pids of QEMU processes of domain name under d's root, from /proc."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv[0].endswith("qemu-system-x86_64") and any(d.root in a for a in argv) and \
                any(f"guest={name}" in a for a in argv):
            found.append(int(pid))
    return found


def state(d, name):
    """virsh domstate, or None when the daemon does not know the domain."""
    r = virsh(d.uri, "domstate", name, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def names(d):
    return virsh(d.uri, "list", "--all", "--name").stdout.split()


def start(d, tmp_path, name, persistent=False):
    x = tmp_path / f"{name}.xml"
    x.write_text(domain_xml(name))
    if persistent:
        virsh(d.uri, "define", str(x))
        virsh(d.uri, "start", name)
    else:
        virsh(d.uri, "create", str(x))
    return qemu_pid(d, name)


def migrate_p2p(p, name, *flags):
    return p.ns.run(["virsh", "-q", "-c", p.src.tls, "migrate", "--live", "--p2p", *flags, name, p.dst.tls],
                    timeout=180)


def migrate_managed(p, name, *flags):
    """The client-managed migration: virsh calls each phase on each daemon."""
    return p.ns.run(["virsh", "-q", "-c", p.src.tls, "migrate", "--live", *flags, name, p.dst.tls], timeout=180)


def assert_runs_only_at(at, other, name, pid=None):
    """One running copy, at `at`: its state there, none at `other`, one QEMU
    of the domain under at's root and none under other's."""
    assert state(at, name) == "running"
    assert len(qemus(at, name)) == 1 and not qemus(other, name)
    if pid is not None:
        assert qemus(at, name) == [pid]


def test_destination_killed_after_its_finish_resumed_the_guest(pair, tmp_path):
    """The destination's vrtd killed (-9) once its finish resumed the
    guest but before it answered: the guest runs there. The source's
    finish call fails, and the source must not resume its copy: it stays
    paused (it cannot ask the dead destination). Once both restart, the
    source asks the destination, which runs the guest, and ends its own
    copy as migrated: one running copy, at the destination."""
    src, dst = pair.start("dst", "migrate:finished")
    name = "mig-crash-finished"
    pid = start(src, tmp_path, name)
    r = migrate_p2p(pair, name)
    assert r.returncode != 0
    assert dst.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    assert pid_alive(incoming) and pid_alive(pid)
    # Not resumed at the source: that would run the guest twice.
    assert state(src, name) == "paused"

    pair.dst = dst = restart(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)


def test_source_killed_before_its_confirm_ends_as_migrated(pair, tmp_path):
    """The source's vrtd killed (-9) after the destination's finish
    answered, before the source's confirm stopped its paused QEMU; both
    restart. The source asks the destination, which runs the guest: the
    source's QEMU is stopped and, --undefinesource asked, its definition
    goes; the destination keeps the persistent domain, running."""
    src, dst = pair.start("src", "migrate:confirm")
    name = "mig-crash-confirm"
    start(src, tmp_path, name, persistent=True)
    r = migrate_p2p(pair, name, "--persistent", "--undefinesource")
    assert r.returncode != 0
    assert src.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    wait_for(lambda: state(dst, name) == "running", timeout=60, what="the destination to run the guest")

    pair.dst = dst = restart(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)
    assert virsh(dst.uri, "dominfo", name).stdout.split("Persistent:")[1].split()[0] == "yes"


def test_source_killed_after_the_transfer_before_the_finish_resumes(pair, tmp_path):
    """The source's vrtd killed (-9) once QEMU completed the transfer,
    before it asked the destination's finish: the destination never runs
    the guest (its incoming QEMU goes with the source's connection, or at
    its restart). Both restart; the source asks the destination, which
    does not have it, and resumes the guest in the same QEMU."""
    src, dst = pair.start("src", "migrate:performed")
    name = "mig-crash-performed"
    pid = start(src, tmp_path, name)
    r = migrate_p2p(pair, name)
    assert r.returncode != 0
    assert src.proc.wait(timeout=60) == -signal.SIGKILL

    pair.dst = dst = restart(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: state(src, name) == "running", timeout=300, what="the source's guest to run again")
    wait_for(lambda: not qemus(dst, name), timeout=60, what="no QEMU of the domain at the destination")
    assert_runs_only_at(src, dst, name, pid)
    assert name not in names(dst)


def test_destination_killed_while_it_stops_the_incoming_qemu_its_source_left(pair, tmp_path):
    """As above (the source's vrtd killed once the transfer completed,
    before the finish), and the destination's vrtd killed (-9) too while
    it stops the incoming QEMU whose source's connection went, before that
    QEMU stops. The restarted destination still knows it for an unfinished
    incoming QEMU and stops it, rather than keeping a domain paused for a
    finish that never comes; the restarted source asks, finds no domain
    there, and resumes the guest in the same QEMU."""
    src, dst = pair.start_both("migrate:performed", "migrate:abandon")
    name = "mig-crash-abandon"
    pid = start(src, tmp_path, name)
    r = migrate_p2p(pair, name)
    assert r.returncode != 0
    assert src.proc.wait(timeout=60) == -signal.SIGKILL
    assert dst.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    assert pid_alive(incoming)

    pair.dst = dst = restart(dst)
    wait_for(lambda: not qemus(dst, name), timeout=60, what="the incoming QEMU to be stopped")
    assert name not in names(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: state(src, name) == "running", timeout=300, what="the source's guest to run again")
    assert_runs_only_at(src, dst, name, pid)
    assert name not in names(dst)


def kill_source_at_confirm(pair, tmp_path, name):
    """A p2p migration whose source dies before its confirm (the
    destination runs the guest), then the destination's vrtd killed too;
    returns the destination's QEMU pid."""
    src, dst = pair.start("src", "migrate:confirm")
    start(src, tmp_path, name)
    r = migrate_p2p(pair, name)
    assert r.returncode != 0
    assert src.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    dst.proc.send_signal(signal.SIGKILL)
    dst.proc.wait(timeout=60)
    return incoming


def test_source_restarted_while_its_destination_is_down_settles_once_it_is_back(pair, tmp_path):
    """As above (killed before its confirm), but the source restarts while
    the destination's vrtd is down: the source listens at once and keeps
    its copy paused under the migration's job while it asks again and
    again; once the destination's vrtd is back (the source not restarted),
    the source learns the guest runs there and ends its copy."""
    name = "mig-crash-unreachable"
    incoming = kill_source_at_confirm(pair, tmp_path, name)

    pair.src = src = restart(pair.src)
    assert_held(src, name)
    assert len(qemus(src, name)) == 1

    pair.dst = dst = restart(pair.dst)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)


def test_source_stopped_while_it_asks_keeps_the_question_for_its_next_start(pair, tmp_path):
    """A source asking a destination that is down is stopped (SIGTERM): it
    exits cleanly, its guest still paused in its QEMU, and its next start,
    with the destination back, asks again and ends its copy."""
    name = "mig-crash-shutdown"
    incoming = kill_source_at_confirm(pair, tmp_path, name)

    pair.src = src = restart(pair.src)
    assert_held(src, name)
    pid = qemus(src, name)
    assert src.stop(signal.SIGTERM, timeout=120) == 0
    assert qemus(src, name) == pid
    log = open(src.log).read()
    assert "ask 1: cannot ask the migration's destination" in log
    assert "left paused, asked again at the next start" in log

    pair.dst = dst = restart(pair.dst)
    pair.src = src = restart(src)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)


def test_source_destroyed_while_it_asks_stays_destroyed(pair, tmp_path):
    """The one call the migration's hold lets through is destroy: a source
    asking a destination that is down is destroyed by its owner; it shuts
    off as destroyed, its QEMU goes, and its next start has nothing left
    to ask (it stays shut off, the destination's copy runs)."""
    name = "mig-crash-destroy"
    incoming = kill_source_at_confirm(pair, tmp_path, name)

    pair.src = src = restart(pair.src)
    assert_held(src, name)
    virsh(src.uri, "destroy", name)
    assert not qemus(src, name)
    assert name not in names(src) or state(src, name) == "shut off"

    pair.dst = dst = restart(pair.dst)
    pair.src = src = restart(src)
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)


def test_client_managed_source_killed_during_the_transfer_resumes_it(pair, tmp_path):
    """Client-managed: the source's vrtd killed (-9) while QEMU transfers
    the state. virsh's perform fails and its cancelled finish stops the
    destination's incoming QEMU; both restart, and the source cancels the
    transfer and resumes the guest in the same QEMU."""
    src, dst = pair.start("src", "migrate:transfer")
    name = "mig-cm-transfer"
    pid = start(src, tmp_path, name)
    r = migrate_managed(pair, name)
    assert r.returncode != 0
    assert src.proc.wait(timeout=60) == -signal.SIGKILL

    pair.dst = dst = restart(dst)
    pair.src = src = restart(src)
    wait_for(lambda: state(src, name) == "running", timeout=60, what="the source's guest to run again")
    wait_for(lambda: not qemus(dst, name), timeout=60, what="no QEMU of the domain at the destination")
    assert_runs_only_at(src, dst, name, pid)
    assert name not in names(dst)


def test_client_managed_source_killed_before_its_confirm_ends_as_migrated(pair, tmp_path):
    """Client-managed: the source's vrtd killed (-9) after its perform
    returned, once virsh's finish resumed the guest at the destination,
    before the source's confirm. The destination's prepare named its
    daemon in its cookie and the source recorded it: both restart, the
    source asks that daemon, which runs the guest, and ends its own copy
    as migrated."""
    src, dst = pair.start("src", "migrate:confirm")
    name = "mig-cm-confirm"
    start(src, tmp_path, name)
    r = migrate_managed(pair, name)
    # libvirt's client: the confirm failed after a finish that went through.
    assert "probably left in 'paused' state on source" in r.stderr
    assert src.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    assert state(dst, name) == "running"

    pair.dst = dst = restart(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)
    assert f"asking qemu+tls://{DST_IP}:{DST_PORT}/system where it runs" in open(src.log).read()


def test_client_managed_destination_killed_after_its_finish_resumed_the_guest(pair, tmp_path):
    """Client-managed: the destination's vrtd killed (-9) once its finish
    resumed the guest, before it answered. virsh sees the finish fail and
    asks the source's confirm to resume; the source does not resume
    blindly (the guest may run at the destination) but asks the
    destination's daemon, which is down: its copy stays paused, held by
    the migration. Both restart; the source learns the guest runs at the
    destination and ends its copy."""
    src, dst = pair.start("dst", "migrate:finished")
    name = "mig-cm-finished"
    pid = start(src, tmp_path, name)
    r = migrate_managed(pair, name)
    assert r.returncode != 0
    assert dst.proc.wait(timeout=60) == -signal.SIGKILL
    incoming = qemu_pid(dst, name)
    assert pid_alive(incoming) and pid_alive(pid)
    assert_held(src, name)

    pair.dst = dst = restart(dst)
    src = restart_source_held(pair, name)
    wait_for(lambda: not qemus(src, name), timeout=300, what="the source's QEMU to be stopped")
    assert_runs_only_at(dst, src, name, incoming)
    assert name not in names(src)


def test_client_managed_destination_killed_before_its_finish_resumed_the_guest(pair, tmp_path):
    """Client-managed: the destination's vrtd killed (-9) in its finish
    before it resumed the guest. The source's confirm cannot tell this
    from the case above and stays paused; the restarted destination stops
    its unfinished incoming QEMU, and the source, asking again without a
    restart of its own, resumes the guest in the same QEMU."""
    src, dst = pair.start("dst", "migrate:finish")
    name = "mig-cm-finish"
    pid = start(src, tmp_path, name)
    r = migrate_managed(pair, name)
    assert r.returncode != 0
    assert dst.proc.wait(timeout=60) == -signal.SIGKILL
    assert_held(src, name)

    pair.dst = dst = restart(dst)
    wait_for(lambda: not qemus(dst, name), timeout=60, what="the incoming QEMU to be stopped")
    wait_for(lambda: state(src, name) == "running", timeout=300, what="the source's guest to run again")
    assert_runs_only_at(src, dst, name, pid)
    assert name not in names(dst)


def test_client_managed_source_killed_before_its_confirm_stays_paused(pair, tmp_path):
    """A destination that does not listen on TLS (here plain TCP) names no
    daemon in its cookie, so the client-managed source records none it
    could ask: killed before its confirm and restarted, the source leaves
    its copy paused with a warning, as libvirt does, while the
    destination runs the guest. Only one copy runs; the paused one is its
    owner's to destroy."""
    pair.dst_tcp_only = True
    src, dst = pair.start("src", "migrate:confirm")
    name = "mig-crash-managed"
    start(src, tmp_path, name)
    r = migrate_managed(pair, name)
    # libvirt's client: the confirm failed after a finish that went through.
    assert "probably left in 'paused' state on source" in r.stderr
    assert src.proc.wait(timeout=60) == -signal.SIGKILL

    pair.dst = dst = restart(dst)
    pair.src = src = restart(src)
    assert state(dst, name) == "running" and len(qemus(dst, name)) == 1
    assert state(src, name) == "paused" and len(qemus(src, name)) == 1
    log = open(src.log).read()
    assert "when vrtd ended and its destination may run it; left paused" in log
    assert "asking" not in log


def test_destination_killed_before_its_finish_resumed_the_guest(pair, tmp_path):
    """The destination's vrtd killed (-9) in its finish before it resumed
    the guest: the source cannot tell this from a kill after the resume,
    so it stays paused. The restarted destination stops its unfinished
    incoming QEMU; the restarted source asks, finds no domain there and
    resumes the guest in the same QEMU."""
    src, dst = pair.start("dst", "migrate:finish")
    name = "mig-crash-finish"
    pid = start(src, tmp_path, name)
    r = migrate_p2p(pair, name)
    assert r.returncode != 0
    assert dst.proc.wait(timeout=60) == -signal.SIGKILL
    assert state(src, name) == "paused"

    pair.dst = dst = restart(dst)
    wait_for(lambda: not qemus(dst, name), timeout=60, what="the incoming QEMU to be stopped")
    src = restart_source_held(pair, name)
    wait_for(lambda: state(src, name) == "running", timeout=300, what="the source's guest to run again")
    assert_runs_only_at(src, dst, name, pid)
    assert name not in names(dst)

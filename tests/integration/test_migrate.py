"""Live migration between two vrtd hosts as Debian's virsh drives it
(`virsh migrate --live DOM qemu+tls://dst/system`: libvirt's protocol
version 3 with parameters, the client talking to both daemons). Each vrtd
has its own root, certificates and host_uuid and runs in a network
namespace of its own; the test joins the two with a veth pair
(10.77.0.1/24 and 10.77.0.2/24, made inside the namespaces, gone with
them), so nothing touches the host's interfaces. virsh runs in the
source's namespace and reaches both daemons over TLS; QEMU's own
migration stream goes over the veth pair. The domains are guest-less TCG
machines (SeaBIOS finds nothing to boot and idles)."""
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from console_reader import ConsoleReader
from vrt_fixtures import VRT, kill_vms_under, pid_alive, require, virsh, wait_for
import migrate_env
from migrate_env import DST_IP, DST_UUID, SRC_IP, SRC_UUID, domain_xml, qemu_pid
from migrate_fixtures import certs, net  # noqa: F401 - module fixtures

# A third daemon at the destination's address (another TLS port) that
# claims the source's host UUID: libvirt's same-host refusal.
TWIN_PORT = 16515


def start_vrtd(ns, certs, key_cert, host_uuid, address, extra=""):
    root = tempfile.mkdtemp(prefix="vrt-mig-")
    return migrate_env.start_vrtd(ns, certs, key_cert, host_uuid, address, root, extra)


@pytest.fixture(scope="module")
def hosts(net, certs):
    a, b = net
    started = []
    try:
        src = start_vrtd(a, certs, certs.src, SRC_UUID, SRC_IP)
        started.append(src)
        dst = start_vrtd(b, certs, certs.dst, DST_UUID, DST_IP)
        started.append(dst)
        twin = start_vrtd(b, certs, certs.dst, SRC_UUID, DST_IP, f'tls_port = "{TWIN_PORT}"\n')
        started.append(twin)
        twin.tls = f"qemu+tls://{DST_IP}:{TWIN_PORT}/system?pkipath={certs.client}"
        yield a, src, dst, twin
    finally:
        for d in started:
            d.stop()
            kill_vms_under(d.root)
            shutil.rmtree(d.root, ignore_errors=True)


def names(d, *flags):
    return virsh(d.uri, "list", "--name", *flags).stdout.split()


def migrate(ns, src, dst_uri, name, *flags, timeout=120):
    return ns.run(["virsh", "-q", "-c", src.tls, "migrate", "--live", *flags, name, dst_uri], timeout=timeout)


def start_transient(d, tmp_path, name, mib=64):
    x = tmp_path / f"{name}.xml"
    x.write_text(domain_xml(name, mib))
    virsh(d.uri, "create", str(x))
    return qemu_pid(d, name)


class Events:
    """`virsh event --all --loop` on a daemon's UNIX socket: the lifecycle
    events of a domain as virsh prints them ("Suspended Migrated")."""

    def __init__(self, d):
        self.proc = subprocess.Popen(["virsh", "-c", d.uri, "event", "--all", "--loop"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""
        # Registered once virsh answers a second call on the same daemon.
        wait_for(lambda: virsh(d.uri, "list").returncode == 0, what="virsh")

    def lifecycle(self, name, want):
        """Waits (30 s at most) until every event of want was seen for name;
        returns those seen, in order."""
        tag = f"event 'lifecycle' for domain '{name}': "
        end = time.monotonic() + 30
        seen = []
        while not all(w in seen for w in want) and time.monotonic() < end:
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                self.buf += os.read(self.proc.stdout.fileno(), 65536)
            *lines, self.buf = self.buf.split(b"\n")
            seen += [line.decode().split(tag, 1)[1].strip() for line in lines if tag in line.decode()]
        return seen

    def text(self, *want):
        """Reads (30 s at most) until every string of want was printed;
        returns all read so far."""
        end = time.monotonic() + 30
        while not all(w.encode() in self.buf for w in want) and time.monotonic() < end:
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                self.buf += os.read(self.proc.stdout.fileno(), 65536)
        return self.buf.decode()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def test_live_migration_moves_a_running_domain(hosts, tmp_path):
    ns, src, dst, _ = hosts
    src_pid = start_transient(src, tmp_path, "mig-live")
    src_ev, dst_ev = Events(src), Events(dst)

    try:
        r = migrate(ns, src, dst.tls, "mig-live")
        assert r.returncode == 0, r.stderr
        # libvirt's events on both sides, in their order.
        assert dst_ev.lifecycle("mig-live", ["Started Migrated", "Resumed Migrated"]) == [
            "Started Migrated", "Resumed Migrated"]
        assert src_ev.lifecycle("mig-live", ["Suspended Migrated", "Stopped Migrated"]) == [
            "Suspended Migrated", "Stopped Migrated"]
    finally:
        src_ev.close()
        dst_ev.close()

    # The destination runs it in a QEMU of its own ...
    assert virsh(dst.uri, "domstate", "--reason", "mig-live").stdout.strip() == "running (migrated)"
    dst_pid = qemu_pid(dst, "mig-live")
    assert pid_alive(dst_pid) and dst_pid != src_pid
    # ... and the source's QEMU is gone with the (transient) domain.
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-live" not in names(src, "--all")
    virsh(dst.uri, "destroy", "mig-live")


def test_persistent_undefinesource(hosts, tmp_path):
    ns, src, dst, _ = hosts
    x = tmp_path / "p.xml"
    x.write_text(domain_xml("mig-persist"))
    virsh(src.uri, "define", str(x))
    virsh(src.uri, "start", "mig-persist")
    src_pid = qemu_pid(src, "mig-persist")

    r = migrate(ns, src, dst.tls, "mig-persist", "--persistent", "--undefinesource")
    assert r.returncode == 0, r.stderr

    info = virsh(dst.uri, "dominfo", "mig-persist").stdout
    assert "running" in info and "Persistent:     yes" in info
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-persist" not in names(src, "--all")
    # Its definition stays at the destination once it stops.
    virsh(dst.uri, "destroy", "mig-persist")
    assert "mig-persist" in names(dst, "--inactive")
    virsh(dst.uri, "undefine", "mig-persist")


def test_persistent_source_stays_defined_without_undefinesource(hosts, tmp_path):
    ns, src, dst, _ = hosts
    x = tmp_path / "k.xml"
    x.write_text(domain_xml("mig-keep"))
    virsh(src.uri, "define", str(x))
    virsh(src.uri, "start", "mig-keep")

    r = migrate(ns, src, dst.tls, "mig-keep")
    assert r.returncode == 0, r.stderr
    assert virsh(src.uri, "domstate", "--reason", "mig-keep").stdout.strip() == "shut off (migrated)"
    # The source keeps the completed job's statistics.
    done = virsh(src.uri, "domjobinfo", "--completed", "mig-keep").stdout
    assert "Job type:         Completed" in done and "Operation:        Outgoing migration" in done
    assert "Data remaining:   0.000 B" in done
    assert "Persistent:     no" in virsh(dst.uri, "dominfo", "mig-keep").stdout
    virsh(dst.uri, "destroy", "mig-keep")
    virsh(src.uri, "undefine", "mig-keep")


def job_completed_event(text, name):
    """The parameters of the job-completed event virsh printed for name."""
    head = f"event 'job-completed' for domain '{name}':\n"
    assert head in text, text
    params = {}
    for line in text.split(head, 1)[1].split("\n"):
        if not line.startswith("\t"):
            break
        k, v = line.strip().split(": ", 1)
        params[k] = v
    return params


def test_completed_job_on_both_sides(hosts, tmp_path):
    """After a migration each side has its completed job: the source an
    outgoing one, the destination an incoming one with the source's
    figures (libvirt's cookie <statistics>), each announced by the
    job-completed event with libvirt's typed parameters."""
    ns, src, dst, _ = hosts
    x = tmp_path / "s.xml"
    x.write_text(domain_xml("mig-stats"))
    virsh(src.uri, "define", str(x))
    virsh(src.uri, "start", "mig-stats")
    src_ev, dst_ev = Events(src), Events(dst)
    try:
        r = migrate(ns, src, dst.tls, "mig-stats")
        assert r.returncode == 0, r.stderr
        out = job_completed_event(src_ev.text("event 'job-completed' for domain 'mig-stats'", "memory_iteration"),
                                  "mig-stats")
        inc = job_completed_event(dst_ev.text("event 'job-completed' for domain 'mig-stats'", "memory_iteration"),
                                  "mig-stats")
    finally:
        src_ev.close()
        dst_ev.close()
    assert out["operation"] == "5" and inc["operation"] == "4"  # VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT / _IN
    for p in (out, inc):
        assert int(p["memory_total"]) > 0 and int(p["memory_processed"]) > 0 and p["memory_remaining"] == "0"
        assert "time_elapsed" in p and "downtime" in p
    assert inc["memory_processed"] == out["memory_processed"]

    done = virsh(src.uri, "domjobinfo", "--completed", "mig-stats").stdout
    assert "Job type:         Completed" in done and "Operation:        Outgoing migration" in done
    done = virsh(dst.uri, "domjobinfo", "--completed", "--keep-completed", "mig-stats").stdout
    assert "Job type:         Completed" in done and "Operation:        Incoming migration" in done
    assert "Memory processed:" in done and "Total downtime:" in done
    # Kept once, then forgotten as libvirt forgets it.
    assert "Incoming migration" in virsh(dst.uri, "domjobinfo", "--completed", "mig-stats").stdout
    assert "Completed" not in virsh(dst.uri, "domjobinfo", "--completed", "mig-stats").stdout
    virsh(dst.uri, "destroy", "mig-stats")
    virsh(src.uri, "undefine", "mig-stats")


def test_same_host_uuid_is_refused(hosts, tmp_path):
    ns, src, _, twin = hosts
    pid = start_transient(src, tmp_path, "mig-same")

    r = migrate(ns, src, twin.tls, "mig-same")
    assert r.returncode != 0
    assert f"Attempt to migrate guest to the same host {SRC_UUID}" in r.stderr
    # Nothing moved: the source still runs it, the twin never started it.
    assert virsh(src.uri, "domstate", "mig-same").stdout.strip() == "running"
    assert pid_alive(pid)
    assert "mig-same" not in names(twin, "--all")
    virsh(src.uri, "destroy", "mig-same")


def test_domjobabort_leaves_the_source_running(hosts, tmp_path):
    ns, src, dst, _ = hosts
    pid = start_transient(src, tmp_path, "mig-abort", mib=256)
    # 1 MiB/s; and QEMU told (through the QEMU program, as a user could) to
    # wait before its switch-over, so the transfer cannot end by itself
    # while the test looks at it, however little of the guest's memory is
    # not zero.
    virsh(src.uri, "migrate-setspeed", "mig-abort", "1")
    virsh(src.uri, "migrate-setmaxdowntime", "mig-abort", "1")
    assert virsh(src.uri, "migrate-getspeed", "mig-abort").stdout.strip() == "1"
    assert virsh(src.uri, "migrate-getmaxdowntime", "mig-abort").stdout.strip() == "1"
    virsh(src.uri, "qemu-monitor-command", "mig-abort",
          '{"execute":"migrate-set-capabilities","arguments":{"capabilities":'
          '[{"capability":"pause-before-switchover","state":true}]}}')

    proc = subprocess.Popen(ns.cmd(["virsh", "-q", "-c", src.tls, "migrate", "--live", "mig-abort", dst.tls]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the job shows before QEMU's first transfer statistics do
        wait_for(lambda: all(s in virsh(src.uri, "domjobinfo", "mig-abort", check=False).stdout
                             for s in ("Unbounded", "Data processed")),
                 timeout=60, what="the migration job with its transfer begun")
        info = virsh(src.uri, "domjobinfo", "mig-abort").stdout
        assert "Operation:        Outgoing migration" in info and "Data processed" in info
        # The older virDomainGetJobInfo sees it too (python3-libvirt's jobInfo).
        libvirt = pytest.importorskip("libvirt")
        c = libvirt.open(src.uri)
        try:
            job = c.lookupByName("mig-abort").jobInfo()
        finally:
            c.close()
        assert job[0] == libvirt.VIR_DOMAIN_JOB_UNBOUNDED and job[3] > 0  # type, dataTotal
        # The destination's side is not aborted, as libvirt says.
        r = virsh(dst.uri, "domjobabort", "mig-abort", check=False)
        assert r.returncode != 0
        assert "cannot abort incoming migration; use virDomainDestroy instead" in r.stderr
        virsh(src.uri, "domjobabort", "mig-abort")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert "canceled by client" in err
    assert virsh(src.uri, "domstate", "--reason", "mig-abort").stdout.strip() in (
        "running (migration canceled)", "running (booted)")
    assert pid_alive(pid) and qemu_pid(src, "mig-abort") == pid
    wait_for(lambda: "mig-abort" not in names(dst, "--all"), what="the destination to drop the incoming domain")
    virsh(src.uri, "destroy", "mig-abort")


def test_offline_migration_moves_the_definition(hosts, tmp_path):
    ns, src, dst, _ = hosts
    x = tmp_path / "o.xml"
    x.write_text(domain_xml("mig-offline"))
    virsh(src.uri, "define", str(x))

    r = ns.run(["virsh", "-q", "-c", src.tls, "migrate", "--offline", "--persistent", "--undefinesource",
                "mig-offline", dst.tls], timeout=120)
    assert r.returncode == 0, r.stderr
    assert "mig-offline" in names(dst, "--inactive")
    assert "mig-offline" not in names(src, "--all")
    virsh(dst.uri, "undefine", "mig-offline")


def test_dname_renames_at_the_destination(hosts, tmp_path):
    ns, src, dst, _ = hosts
    start_transient(src, tmp_path, "mig-old")

    r = migrate(ns, src, dst.tls, "mig-old", "--dname", "mig-new")
    assert r.returncode == 0, r.stderr
    assert virsh(dst.uri, "domstate", "mig-new").stdout.strip() == "running"
    assert "mig-old" not in names(dst, "--all") and "mig-old" not in names(src, "--all")
    virsh(dst.uri, "destroy", "mig-new")


def test_peer_to_peer_migration(hosts, tmp_path):
    """--p2p: virsh talks to the source alone; the source's vrtd opens its
    own TLS connection to the destination (its client certificate under
    its root) and runs prepare and finish there."""
    ns, src, dst, twin = hosts
    src_pid = start_transient(src, tmp_path, "mig-p2p")

    r = migrate(ns, src, dst.tls.split("?")[0], "mig-p2p", "--p2p")
    assert r.returncode == 0, r.stderr
    assert virsh(dst.uri, "domstate", "--reason", "mig-p2p").stdout.strip() == "running (migrated)"
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-p2p" not in names(src, "--all")
    virsh(dst.uri, "destroy", "mig-p2p")

    # The same host's refusal reaches virsh through the source.
    pid = start_transient(src, tmp_path, "mig-p2p-same")
    r = migrate(ns, src, f"qemu+tls://{DST_IP}:{TWIN_PORT}/system", "mig-p2p-same", "--p2p")
    assert r.returncode != 0 and f"Attempt to migrate guest to the same host {SRC_UUID}" in r.stderr
    assert virsh(src.uri, "domstate", "mig-p2p-same").stdout.strip() == "running" and pid_alive(pid)
    virsh(src.uri, "destroy", "mig-p2p-same")


def test_peer_to_peer_persistent_undefinesource(hosts, tmp_path):
    """--p2p --persistent --undefinesource: the definition travels in the
    perform phase's cookie (libvirt's <persistent>), as the source's own
    finish call passes no domain XML; the destination keeps it defined and
    the source forgets it. Back again with --persistent alone: the source
    of that move keeps its definition, shut off "migrated"."""
    ns, src, dst, _ = hosts
    x = tmp_path / "pp.xml"
    x.write_text(domain_xml("mig-p2p-persist"))
    virsh(src.uri, "define", str(x))
    virsh(src.uri, "start", "mig-p2p-persist")
    src_pid = qemu_pid(src, "mig-p2p-persist")

    r = migrate(ns, src, dst.tls.split("?")[0], "mig-p2p-persist", "--p2p", "--persistent", "--undefinesource")
    assert r.returncode == 0, r.stderr
    info = virsh(dst.uri, "dominfo", "mig-p2p-persist").stdout
    assert "running" in info and "Persistent:     yes" in info
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-p2p-persist" not in names(src, "--all")

    r = migrate(ns, dst, src.tls.split("?")[0], "mig-p2p-persist", "--p2p", "--persistent")
    assert r.returncode == 0, r.stderr
    assert "Persistent:     yes" in virsh(src.uri, "dominfo", "mig-p2p-persist").stdout
    assert virsh(dst.uri, "domstate", "--reason", "mig-p2p-persist").stdout.strip() == "shut off (migrated)"
    virsh(src.uri, "destroy", "mig-p2p-persist")
    assert "mig-p2p-persist" in names(src, "--inactive")
    virsh(src.uri, "undefine", "mig-p2p-persist")
    virsh(dst.uri, "undefine", "mig-p2p-persist")


def test_guest_keeps_running_across_the_migration(hosts):
    """The TCG test guest boots at the source and answers on its serial
    console; after the migration its shell answers at the destination,
    with no boot in between (the same kernel kept running)."""
    libvirt = pytest.importorskip("libvirt")
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))
    try:
        import guest as g
        g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")
    ns, src, dst, _ = hosts
    devices = ("<serial type='pty'><target port='0'/></serial>"
               "<console type='pty'><target type='serial' port='0'/></console>")
    sconn, dconn = libvirt.open(src.uri), libvirt.open(dst.uri)
    try:
        dom = sconn.createXML(g.domain_xml("mig-guest", machine="pc", devices=devices), 0)
        st = sconn.newStream(0)
        dom.openConsole(None, st, 0)
        con = ConsoleReader(st, lambda: f"domain state {dom.state()}")
        con.read_until(b"VRT-GUEST-READY", timeout=180)
        con.send(b"echo before-$((6*7))\n")
        con.read_until(b"before-42", timeout=180)

        r = migrate(ns, src, dst.tls, "mig-guest", timeout=300)
        assert r.returncode == 0, r.stderr

        ddom = dconn.lookupByName("mig-guest")
        assert ddom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        dst_st = dconn.newStream(0)
        ddom.openConsole(None, dst_st, 0)
        dst_con = ConsoleReader(dst_st, lambda: f"domain state {ddom.state()}")
        dst_con.send(b"echo after-$((7*8))\n")
        out = dst_con.read_until(b"after-56", timeout=60)
        assert b"VRT-GUEST-READY" not in out and b"Linux version" not in out
        ddom.destroy()
    finally:
        sconn.close()
        dconn.close()


def vrt_migrate(ns, src, dst_uri, name, *flags, timeout=120):
    return ns.run([VRT, "-c", src.tls, "migrate", "--live", "--verbose", *flags, name, dst_uri], timeout=timeout)


def test_vrt_migrate_with_progress(hosts, tmp_path):
    """`vrt migrate` drives a client-managed migration itself (connected to
    both daemons) and, with --p2p, hands it to the source's daemon; its
    progress bar ends at 100 % once the domain runs at the destination."""
    ns, src, dst, twin = hosts
    src_pid = start_transient(src, tmp_path, "mig-vrt")

    r = vrt_migrate(ns, src, dst.tls, "mig-vrt", "--persistent")
    assert r.returncode == 0, r.stderr
    assert "Migration: [" in r.stderr and r.stderr.rstrip().endswith("100 %"), r.stderr
    assert virsh(dst.uri, "domstate", "--reason", "mig-vrt").stdout.strip() == "running (migrated)"
    assert "Persistent:     yes" in virsh(dst.uri, "dominfo", "mig-vrt").stdout
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-vrt" not in names(src, "--all")

    # Back again, peer to peer: vrt talks to the destination's daemon alone
    # (here the source of this second move).
    r = ns.run([VRT, "-c", dst.tls, "migrate", "--live", "--verbose", "--p2p", "--undefinesource", "mig-vrt",
                src.tls.split("?")[0]], timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.rstrip().endswith("100 %"), r.stderr
    assert virsh(src.uri, "domstate", "--reason", "mig-vrt").stdout.strip() == "running (migrated)"
    assert "mig-vrt" not in names(dst, "--all")
    virsh(src.uri, "destroy", "mig-vrt")


def test_vrt_migrate_failure_leaves_the_source_running(hosts, tmp_path):
    ns, src, _, twin = hosts
    pid = start_transient(src, tmp_path, "mig-vrt-same")

    for extra in ((), ("--p2p",)):
        uri = twin.tls if not extra else f"qemu+tls://{DST_IP}:{TWIN_PORT}/system"
        r = vrt_migrate(ns, src, uri, "mig-vrt-same", *extra)
        assert r.returncode == 1
        assert f"error: internal error: Attempt to migrate guest to the same host {SRC_UUID}" in r.stderr
        assert "100 %" not in r.stderr
        assert virsh(src.uri, "domstate", "mig-vrt-same").stdout.strip() == "running" and pid_alive(pid)
    # A tunnelled migration is peer to peer.
    r = vrt_migrate(ns, src, twin.tls, "mig-vrt-same", "--tunnelled")
    assert r.returncode == 2 and "--tunnelled needs --p2p" in r.stderr
    virsh(src.uri, "destroy", "mig-vrt-same")


def qmp(d, name, command):
    import json
    out = virsh(d.uri, "qemu-monitor-command", name, json.dumps({"execute": command})).stdout
    return json.loads(out)["return"]


def test_tunnelled_migration(hosts, tmp_path):
    """--p2p --tunnelled: QEMU's state goes through the source vrtd's own
    TLS connection to the destination (an RPC stream), not a connection of
    QEMU's; the destination's QEMU reads it from vrtd."""
    ns, src, dst, _ = hosts
    src_pid = start_transient(src, tmp_path, "mig-tun")

    r = migrate(ns, src, dst.tls.split("?")[0], "mig-tun", "--p2p", "--tunnelled")
    assert r.returncode == 0, r.stderr
    assert virsh(dst.uri, "domstate", "--reason", "mig-tun").stdout.strip() == "running (migrated)"
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-tun" not in names(src, "--all")

    # And back with vrt, tunnelled too.
    r = ns.run([VRT, "-c", dst.tls, "migrate", "--live", "--p2p", "--tunnelled", "--verbose", "mig-tun",
                src.tls.split("?")[0]], timeout=120)
    assert r.returncode == 0, r.stderr
    assert virsh(src.uri, "domstate", "--reason", "mig-tun").stdout.strip() == "running (migrated)"
    assert "mig-tun" not in names(dst, "--all")
    virsh(src.uri, "destroy", "mig-tun")


def test_migration_capabilities_reach_both_qemus(hosts, tmp_path):
    """--compressed (XBZRLE, libvirt's default method), --parallel with its
    connections, --postcopy and --auto-converge are QEMU's migration
    capabilities; the destination's QEMU shows those it needs."""
    ns, src, dst, _ = hosts
    start_transient(src, tmp_path, "mig-caps")

    r = migrate(ns, src, dst.tls, "mig-caps", "--compressed", "--auto-converge", "--postcopy")
    assert r.returncode == 0, r.stderr
    caps = {c["capability"]: c["state"] for c in qmp(dst, "mig-caps", "query-migrate-capabilities")}
    assert caps["xbzrle"] and caps["postcopy-ram"] and not caps["multifd"]
    assert virsh(dst.uri, "domstate", "mig-caps").stdout.strip() == "running"

    # zstd compresses multifd channels: only with --parallel, as libvirt says.
    r = migrate(ns, dst, src.tls, "mig-caps", "--compressed", "--comp-methods", "zstd")
    assert r.returncode != 0
    assert "Compression method 'zstd' is only supported with parallel migration" in r.stderr
    assert virsh(dst.uri, "domstate", "mig-caps").stdout.strip() == "running"
    r = migrate(ns, dst, src.tls, "mig-caps", "--compressed", "--comp-methods", "zstd", "--parallel",
                "--parallel-connections", "3")
    assert r.returncode == 0, r.stderr
    caps = {c["capability"]: c["state"] for c in qmp(src, "mig-caps", "query-migrate-capabilities")}
    params = qmp(src, "mig-caps", "query-migrate-parameters")
    assert caps["multifd"] and params["multifd-channels"] == 3 and params["multifd-compression"] == "zstd"
    virsh(src.uri, "destroy", "mig-caps")


def test_tls_migration(hosts, tmp_path):
    """--tls: QEMU's own migration stream is TLS, with the x509 credentials
    of each host's migrate_tls_x509_cert_dir (libvirt's default path under
    the root); the destination's QEMU holds its server credentials."""
    ns, src, dst, _ = hosts
    start_transient(src, tmp_path, "mig-tls")

    r = migrate(ns, src, dst.tls, "mig-tls", "--tls")
    assert r.returncode == 0, r.stderr
    params = qmp(dst, "mig-tls", "query-migrate-parameters")
    assert params["tls-creds"] == "objlibvirt_migrate_tls0"
    assert virsh(dst.uri, "domstate", "mig-tls").stdout.strip() == "running"

    # QEMU's TLS session is a connection of its own: not through a tunnel.
    r = migrate(ns, dst, src.tls, "mig-tls", "--tls", "--p2p", "--tunnelled")
    assert r.returncode != 0 and "TLS migration is not supported with tunnelled migration" in r.stderr
    virsh(dst.uri, "destroy", "mig-tls")


def test_migrate_postcopy_needs_a_postcopy_migration(hosts, tmp_path):
    ns, src, _, _ = hosts
    start_transient(src, tmp_path, "mig-pc")
    r = virsh(src.uri, "migrate-postcopy", "mig-pc", check=False)
    assert r.returncode != 0
    assert "post-copy can only be started while outgoing migration is in progress" in r.stderr
    # The post-copy phase's own bandwidth limit.
    virsh(src.uri, "migrate-setspeed", "--postcopy", "mig-pc", "7")
    assert virsh(src.uri, "migrate-getspeed", "--postcopy", "mig-pc").stdout.strip() == "7"
    assert virsh(src.uri, "migrate-getspeed", "mig-pc").stdout.strip() != "7"
    virsh(src.uri, "destroy", "mig-pc")


def test_postcopy_resume_is_refused(hosts, tmp_path):
    """vrt does not recover a failed post-copy migration: libvirt's
    --postcopy-resume is refused by name, nothing moves."""
    ns, src, dst, _ = hosts
    pid = start_transient(src, tmp_path, "mig-pcr")
    for extra in ((), ("--p2p",)):
        uri = dst.tls if not extra else dst.tls.split("?")[0]
        r = migrate(ns, src, uri, "mig-pcr", "--postcopy", "--postcopy-resume", *extra)
        assert r.returncode != 0
        assert "vrt does not recover a failed post-copy migration (VIR_MIGRATE_POSTCOPY_RESUME)" in r.stderr
        assert virsh(src.uri, "domstate", "mig-pcr").stdout.strip() == "running" and pid_alive(pid)
        assert "mig-pcr" not in names(dst, "--all")
    virsh(src.uri, "destroy", "mig-pcr")


def test_postcopy_switch(hosts, tmp_path):
    """--postcopy, then `virsh migrate-postcopy` while the transfer runs:
    the destination takes the guest over and pulls the rest of its memory;
    the source's QEMU goes once all of it went."""
    ns, src, dst, _ = hosts
    src_pid = start_transient(src, tmp_path, "mig-post", mib=256)
    # 1 MiB/s and a 1 ms downtime limit: the pre-copy phase never ends by
    # itself while the idle guest dirties any page at all.
    virsh(src.uri, "migrate-setspeed", "mig-post", "1")
    virsh(src.uri, "migrate-setmaxdowntime", "mig-post", "1")
    src_ev, dst_ev = Events(src), Events(dst)
    proc = subprocess.Popen(ns.cmd(["virsh", "-q", "-c", src.tls, "migrate", "--live", "--postcopy", "mig-post",
                                    dst.tls]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "Unbounded" in virsh(src.uri, "domjobinfo", "mig-post", check=False).stdout,
                 timeout=60, what="the migration job")
        virsh(src.uri, "migrate-postcopy", "mig-post")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Suspended Post-copy" in src_ev.lifecycle("mig-post", ["Suspended Post-copy", "Stopped Migrated"])
        assert "Resumed Migrated" in dst_ev.lifecycle("mig-post", ["Resumed Migrated"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        src_ev.close()
        dst_ev.close()
    assert virsh(dst.uri, "domstate", "mig-post").stdout.strip() == "running"
    wait_for(lambda: not pid_alive(src_pid), what="the source's QEMU to exit")
    assert "mig-post" not in names(src, "--all")
    virsh(dst.uri, "destroy", "mig-post")


def test_lost_client_leaves_no_waiting_destination(hosts, tmp_path):
    """virsh killed in the middle of a client-managed migration, after the
    destination's prepare: its connection's end stops the incoming QEMU
    there (libvirt's close callback), instead of leaving it waiting, and
    cancels the transfer at the source, which runs the guest on in the
    same QEMU."""
    ns, src, dst, _ = hosts
    pid = start_transient(src, tmp_path, "mig-lost", mib=256)
    # Held before the switch-over, as in the abort test, so that the
    # migration is still running when virsh goes.
    virsh(src.uri, "migrate-setspeed", "mig-lost", "1")
    virsh(src.uri, "qemu-monitor-command", "mig-lost",
          '{"execute":"migrate-set-capabilities","arguments":{"capabilities":'
          '[{"capability":"pause-before-switchover","state":true}]}}')
    proc = subprocess.Popen(ns.cmd(["virsh", "-q", "-c", src.tls, "migrate", "--live", "mig-lost", dst.tls]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: "Unbounded" in virsh(src.uri, "domjobinfo", "mig-lost", check=False).stdout,
                 timeout=60, what="the migration job")
        assert "mig-lost" in names(dst, "--all")
        dst_pid = qemu_pid(dst, "mig-lost")
    finally:
        proc.kill()
        proc.wait()
    wait_for(lambda: "mig-lost" not in names(dst, "--all"), timeout=60,
             what="the destination to drop the abandoned incoming domain")
    wait_for(lambda: not pid_alive(dst_pid), what="the incoming QEMU to exit")
    # The source cancelled its side by itself and runs the guest on.
    wait_for(lambda: "Unbounded" not in virsh(src.uri, "domjobinfo", "mig-lost", check=False).stdout,
             timeout=60, what="the source to cancel its migration job")
    assert virsh(src.uri, "domstate", "mig-lost").stdout.strip() == "running"
    assert pid_alive(pid) and qemu_pid(src, "mig-lost") == pid
    # Both sides act on the lost client at once: the source's cancel, or the
    # destination's QEMU going first and breaking the stream ("failed").
    # Either way the source's QEMU no longer migrates.
    assert qmp(src, "mig-lost", "query-migrate")["status"] in ("cancelled", "failed")
    virsh(src.uri, "destroy", "mig-lost")


PREPARE_PORT, STALL_PORT = 16516, 16517


def test_prepare_timeout_stops_an_unfed_incoming_qemu(net, certs, tmp_path):
    """A destination prepared and then left waiting, its client still
    connected (here a peer-to-peer source that hangs, SIGSTOP'ed by the
    fault hook right before its perform): once migration_prepare_timeout
    passed with nothing of the state received, the incoming QEMU is stopped
    and the domain goes. The source, running again, finds its transfer
    refused and runs the guest on: one copy, at the source."""
    a, b = net
    started = []
    try:
        dst = start_vrtd(b, certs, certs.dst, "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000003", DST_IP,
                         f'tls_port = "{PREPARE_PORT}"\nmigration_prepare_timeout = 3\n')
        started.append(dst)
        os.environ["VRT_FAULT_STOP_AT"] = "migrate:perform"
        try:
            src = start_vrtd(a, certs, certs.src, "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000004", SRC_IP,
                             f'tls_port = "{STALL_PORT}"\n')
        finally:
            del os.environ["VRT_FAULT_STOP_AT"]
        started.append(src)
        src.tls = f"qemu+tls://{SRC_IP}:{STALL_PORT}/system?pkipath={certs.client}"
        pid = start_transient(src, tmp_path, "mig-unfed")

        proc = subprocess.Popen(a.cmd(["virsh", "-q", "-c", src.tls, "migrate", "--live", "--p2p", "mig-unfed",
                                       f"qemu+tls://{DST_IP}:{PREPARE_PORT}/system"]),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: os.path.exists(os.path.join(dst.root, "run/vrt/qemu/mig-unfed.pid")), timeout=60,
                     interval=0.05, what="the destination's prepare")
            dst_pid = qemu_pid(dst, "mig-unfed")
            wait_for(lambda: open(f"/proc/{src.proc.pid}/stat").read().split(") ")[1][0] == "T", timeout=60,
                     what="the source to stop before its perform")
            # Nothing comes: the destination gives up by itself.
            wait_for(lambda: "mig-unfed" not in names(dst, "--all"), timeout=60,
                     what="the destination to drop the unfed incoming domain")
            assert not pid_alive(dst_pid)
        finally:
            os.kill(src.proc.pid, signal.SIGCONT)
            _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0, err
        print(err)
        wait_for(lambda: virsh(src.uri, "domstate", "mig-unfed").stdout.strip() == "running",
                 what="the source to run the guest on")
        assert pid_alive(pid) and "mig-unfed" not in names(dst, "--all")
        virsh(src.uri, "destroy", "mig-unfed")
    finally:
        for d in started:
            os.kill(d.proc.pid, signal.SIGCONT)
            d.stop()
            kill_vms_under(d.root)
            shutil.rmtree(d.root, ignore_errors=True)


def fault_vrtd(ns, certs, key_cert, host_uuid, address, port, die_at):
    """A vrtd of its own (TLS on port) that kills itself (SIGKILL, the
    driver's fault hook) at die_at; restart_vrtd starts it again."""
    root = tempfile.mkdtemp(prefix="vrt-mig-")
    os.environ["VRT_FAULT_DIE_AT"] = die_at
    try:
        d = migrate_env.start_vrtd(ns, certs, key_cert, host_uuid, address, root, f'tls_port = "{port}"\n')
    finally:
        del os.environ["VRT_FAULT_DIE_AT"]
    d.tls = f"qemu+tls://{address}:{port}/system?pkipath={certs.client}"
    d.args = (ns, certs, key_cert, host_uuid, address, port)
    return d


def restart_vrtd(d):
    ns, certs, key_cert, host_uuid, address, port = d.args
    d.proc.wait(timeout=60)
    n = migrate_env.start_vrtd(ns, certs, key_cert, host_uuid, address, d.root, f'tls_port = "{port}"\n')
    n.tls, n.args = d.tls, d.args
    return n


def test_destination_killed_mid_migration_stops_its_incoming_qemu(hosts, net, certs, tmp_path):
    """The destination's vrtd killed (-9) once its incoming QEMU listens:
    the migration fails, the source keeps running the guest, and the
    restarted destination stops the incoming QEMU it finds and forgets
    the domain, so that only the source runs it."""
    ns, src, _, _ = hosts
    _, b = net
    dst = fault_vrtd(b, certs, certs.dst, "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000005", DST_IP, 16518,
                     "migrate:prepared")
    try:
        pid = start_transient(src, tmp_path, "mig-dst-kill")
        r = migrate(ns, src, dst.tls, "mig-dst-kill")
        assert r.returncode != 0
        assert dst.proc.wait(timeout=60) == -signal.SIGKILL
        incoming = qemu_pid(dst, "mig-dst-kill")
        assert pid_alive(incoming)
        assert virsh(src.uri, "domstate", "mig-dst-kill").stdout.strip() == "running" and pid_alive(pid)

        dst = restart_vrtd(dst)
        wait_for(lambda: not pid_alive(incoming), timeout=60, what="the incoming QEMU to be stopped")
        assert "mig-dst-kill" not in names(dst, "--all")
        assert virsh(src.uri, "domstate", "mig-dst-kill").stdout.strip() == "running" and pid_alive(pid)
        virsh(src.uri, "destroy", "mig-dst-kill")
    finally:
        dst.stop()
        kill_vms_under(dst.root)
        shutil.rmtree(dst.root, ignore_errors=True)


def test_source_killed_at_the_switchover_resumes_at_restart(hosts, net, certs, tmp_path):
    """The source's vrtd killed (-9) while QEMU waits at its switch-over
    (pause-before-switchover: the guest's vCPUs stopped by QEMU, the
    transfer not completed): virsh's perform fails, so the destination is
    told to drop its incoming QEMU; the restarted source cancels QEMU's
    migration and runs the guest on in the same QEMU. One running copy,
    at the source."""
    a, _ = net
    _, _, dst, _ = hosts
    src = fault_vrtd(a, certs, certs.src, "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000006", SRC_IP, 16519,
                     "migrate:switchover")
    try:
        pid = start_transient(src, tmp_path, "mig-src-kill")
        virsh(src.uri, "qemu-monitor-command", "mig-src-kill",
              '{"execute":"migrate-set-capabilities","arguments":{"capabilities":'
              '[{"capability":"pause-before-switchover","state":true}]}}')
        r = migrate(a, src, dst.tls, "mig-src-kill")
        assert r.returncode != 0
        assert src.proc.wait(timeout=60) == -signal.SIGKILL
        assert pid_alive(pid)
        wait_for(lambda: "mig-src-kill" not in names(dst, "--all"), timeout=60,
                 what="the destination to drop the incoming domain")

        src = restart_vrtd(src)
        wait_for(lambda: qmp(src, "mig-src-kill", "query-status")["running"], timeout=60,
                 what="the source's guest to run again")
        assert qmp(src, "mig-src-kill", "query-migrate")["status"] == "cancelled"
        assert virsh(src.uri, "domstate", "mig-src-kill").stdout.strip() == "running"
        assert qemu_pid(src, "mig-src-kill") == pid and "mig-src-kill" not in names(dst, "--all")
        virsh(src.uri, "destroy", "mig-src-kill")
    finally:
        src.stop()
        kill_vms_under(src.root)
        shutil.rmtree(src.root, ignore_errors=True)

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
import subprocess
import tempfile
import time
import uuid

import pytest

from vrt_fixtures import kill_vms_under, pid_alive, require, virsh, wait_for
from pki import IP, NsVrtd, Netns, Pki, install_server

SRC_IP, DST_IP = "10.77.0.1", "10.77.0.2"
SRC_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000001"
DST_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000002"
# A third daemon at the destination's address (another TLS port) that
# claims the source's host UUID: libvirt's same-host refusal.
TWIN_PORT = 16515


def ns_ip(ns, *args):
    subprocess.run([IP, "-n", ns.name, *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def net():
    a, b = Netns(), Netns()
    try:
        ns_ip(a, "link", "add", "vrtm0", "type", "veth", "peer", "name", "vrtm1", "netns", b.name)
        ns_ip(a, "addr", "add", SRC_IP + "/24", "dev", "vrtm0")
        ns_ip(a, "link", "set", "vrtm0", "up")
        ns_ip(b, "addr", "add", DST_IP + "/24", "dev", "vrtm1")
        ns_ip(b, "link", "set", "vrtm1", "up")
        yield a, b
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="module")
def certs():
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    d = tempfile.mkdtemp(prefix="vrt-pki-")
    p = Pki(d)
    p.src = p.cert("src", SRC_IP, "tls_www_server", f'ip_address = "{SRC_IP}"\n')
    p.dst = p.cert("dst", DST_IP, "tls_www_server", f'ip_address = "{DST_IP}"\n')
    p.client_key, p.client_cert = p.cert("client", "client1")
    p.client = p.client_dir("client", p.client_key, p.client_cert)
    yield p
    shutil.rmtree(d, ignore_errors=True)


def start_vrtd(ns, certs, key_cert, host_uuid, address, extra=""):
    root = tempfile.mkdtemp(prefix="vrt-mig-")
    # QEMU runs as libvirt-qemu, which must reach its run directory here.
    os.chmod(root, 0o755)
    install_server(certs, root, *key_cert)
    # Its own client certificate, for a peer-to-peer migration's connection.
    for src, dst in ((certs.client_cert, "etc/pki/libvirt/clientcert.pem"),
                     (certs.client_key, "etc/pki/libvirt/private/clientkey.pem")):
        shutil.copy(src, os.path.join(root, dst))
    conf = (f'listen_tls = 1\nlisten_tcp = 0\nhost_uuid = "{host_uuid}"\n'
            f'migration_host = "{address}"\nmigration_address = "{address}"\n' + extra)
    return NsVrtd(ns, root, conf).start()


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
        src.tls = f"qemu+tls://{SRC_IP}/system?pkipath={certs.client}"
        dst.tls = f"qemu+tls://{DST_IP}/system?pkipath={certs.client}"
        twin.tls = f"qemu+tls://{DST_IP}:{TWIN_PORT}/system?pkipath={certs.client}"
        yield a, src, dst, twin
    finally:
        for d in started:
            d.stop()
            kill_vms_under(d.root)
            shutil.rmtree(d.root, ignore_errors=True)


def domain_xml(name, mib=64):
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>"
            f"<memory unit='MiB'>{mib}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def qemu_pid(d, name):
    with open(os.path.join(d.root, "run", "vrt", "qemu", f"{name}.pid")) as f:
        return int(f.read().strip())


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
        wait_for(lambda: "Unbounded" in virsh(src.uri, "domjobinfo", "mig-abort", check=False).stdout,
                 timeout=60, what="the migration job")
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


def read_until(st, want, timeout=180):
    """Reads console stream st until want shows up; returns all read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while want not in buf:
        assert time.monotonic() < deadline, f"no {want!r} on the console; got {buf[-500:]!r}"
        chunk = st.recv(4096)
        assert chunk, f"the console ended before {want!r}; got {buf[-500:]!r}"
        buf += chunk
    return buf


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
        read_until(st, b"VRT-GUEST-READY")
        st.send(b"echo before-$((6*7))\n")
        read_until(st, b"before-42")

        r = migrate(ns, src, dst.tls, "mig-guest", timeout=300)
        assert r.returncode == 0, r.stderr

        ddom = dconn.lookupByName("mig-guest")
        assert ddom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        dst_st = dconn.newStream(0)
        ddom.openConsole(None, dst_st, 0)
        dst_st.send(b"echo after-$((7*8))\n")
        out = read_until(dst_st, b"after-56", timeout=60)
        assert b"VRT-GUEST-READY" not in out and b"Linux version" not in out
        ddom.destroy()
    finally:
        sconn.close()
        dconn.close()

"""Connection procedures, as Debian's virsh and python3-libvirt use them, and
the daemon's behaviour on its sockets (read-only access, bad frames, limits,
keepalive, pid lock, shutdown)."""
import os
import re
import signal
import socket
import struct
import threading

import pytest

from vrt_fixtures import VRTD, Vrtd, import_required, run, virsh, wait_for
import wire

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def qemu_version():
    out = run(["qemu-system-x86_64", "--version"]).stdout
    return re.search(r"version (\d+\.\d+\.\d+)", out).group(1)


def test_virsh_version_hostname_uri_nodeinfo(vrtd):
    out = virsh(vrtd.uri, "version").stdout
    assert f"Running hypervisor: QEMU {qemu_version()}" in out
    assert virsh(vrtd.uri, "hostname").stdout.strip() == socket.gethostname()
    assert virsh(vrtd.uri, "uri").stdout.strip() == vrtd.uri
    info = virsh(vrtd.uri, "nodeinfo").stdout
    cpus = int(re.search(r"CPU\(s\):\s+(\d+)", info).group(1))
    assert cpus == os.cpu_count()
    mem = int(re.search(r"Memory size:\s+(\d+) KiB", info).group(1))
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1])
    assert mem == total


def test_python_libvirt_connection_calls(vrtd):
    conn = libvirt.open(vrtd.uri)
    try:
        assert conn.getType() == "QEMU"
        major, minor, micro = (int(x) for x in qemu_version().split("."))
        assert conn.getVersion() == major * 1000000 + minor * 1000 + micro
        assert conn.getHostname() == socket.gethostname()
        assert conn.getURI() == vrtd.uri
        assert conn.isSecure() == 1
        assert conn.getLibVersion() == 9000000
        assert conn.getMaxVcpus(None) >= 1
        info = conn.getInfo()
        assert info[2] == os.cpu_count()
        assert conn.getFreeMemory() > 0
        assert conn.getSecurityModel() == ["none", "0"]
    finally:
        conn.close()


# A made-up host: its numbers match no machine the tests run on.
FAKE_MEMINFO = "MemTotal:        7654321 kB\nMemFree:         1234567 kB\nMemAvailable:    2345678 kB\n"
FAKE_CPUINFO = "".join(f"processor\t: {i}\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
                       f"cpu MHz\t\t: 1234.567\nflags\t\t: fpu\n\n" for i in range(3))
FAKE_UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.mark.parametrize("online", [None, "0-4,6\n"], ids=["cpuinfo-only", "sysfs-online"])
def test_host_facts_come_from_the_host_root(tmp_path, online):
    """With --host-root, node info, free memory and the capabilities' host
    describe the /proc and /sys under that root, not the machine vrtd runs on:
    memory from proc/meminfo, CPU count from sys/devices/system/cpu/online
    (else the processors of proc/cpuinfo), MHz and vendor from proc/cpuinfo,
    the host UUID from sys/class/dmi/id/product_uuid."""
    import xml.etree.ElementTree as ET
    host = tmp_path / "host"
    (host / "proc").mkdir(parents=True)
    (host / "proc" / "meminfo").write_text(FAKE_MEMINFO)
    (host / "proc" / "cpuinfo").write_text(FAKE_CPUINFO)
    (host / "sys" / "class" / "dmi" / "id").mkdir(parents=True)
    (host / "sys" / "class" / "dmi" / "id" / "product_uuid").write_text(FAKE_UUID + "\n")
    cpus = 3
    if online:
        (host / "sys" / "devices" / "system" / "cpu").mkdir(parents=True)
        (host / "sys" / "devices" / "system" / "cpu" / "online").write_text(online)
        cpus = 6
    root = tmp_path / "root"
    root.mkdir()
    d = Vrtd(str(root), extra_args=["--host-root", str(host)]).start()
    try:
        info = virsh(d.uri, "nodeinfo").stdout
        fields = dict(line.split(":", 1) for line in info.strip().splitlines())
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        assert fields["CPU model"] == os.uname().machine
        assert fields["CPU(s)"] == str(cpus)
        assert fields["CPU frequency"] == "1234 MHz"
        assert fields["CPU socket(s)"] == "1"
        assert fields["Core(s) per socket"] == str(cpus)
        assert fields["Thread(s) per core"] == "1"
        assert fields["NUMA cell(s)"] == "1"
        assert fields["Memory size"] == "7654321 KiB"

        conn = libvirt.open(d.uri)
        try:
            assert conn.getInfo() == [os.uname().machine, 7654321 // 1024, cpus, 1234, 1, 1, cpus, 1]
            assert conn.getFreeMemory() == 1234567 * 1024
            caps = ET.fromstring(conn.getCapabilities())
        finally:
            conn.close()
        assert caps.findtext("host/uuid") == FAKE_UUID
        assert caps.findtext("host/cpu/vendor") == "AMD"
        cell = caps.find("host/topology/cells/cell")
        assert cell.findtext("memory") == "7654321"
        assert cell.find("cpus").get("num") == str(cpus)
    finally:
        d.stop()


def test_unknown_procedure_is_unsupported_and_connection_lives(vrtd):
    w = wire.Wire(vrtd.sock)
    w.open()
    m = w.call(9999)
    assert m["status"] == wire.ERROR
    code, _, msg = wire.error_of(m)
    assert code == libvirt.VIR_ERR_NO_SUPPORT
    assert "9999" in msg
    # The connection still answers.
    m = w.call(3)
    assert m["status"] == wire.OK
    w.close()


def test_call_before_open_is_refused(vrtd):
    w = wire.Wire(vrtd.sock)
    m = w.call(3)
    assert m["status"] == wire.ERROR
    assert "connection not open" in wire.error_of(m)[2]
    w.close()


def test_unknown_program_gets_rpc_error(vrtd):
    w = wire.Wire(vrtd.sock)
    m = w.call(1, prog=0x12345678)
    assert m["status"] == wire.ERROR
    code, _, msg = wire.error_of(m)
    assert code == libvirt.VIR_ERR_RPC
    assert "cannot find program" in msg
    m = w.call(1, prog=wire.REMOTE, vers=7)
    assert wire.error_of(m)[0] == libvirt.VIR_ERR_RPC
    w.close()


def test_bad_frames_close_only_that_connection(vrtd):
    good = libvirt.open(vrtd.uri)
    # A length over 16 MiB, a length shorter than a header, and garbage.
    for data in (struct.pack(">I", 16 * 1024 * 1024 + 100) + b"x" * 64,
                 struct.pack(">I", 8) + b"abcd",
                 b"\xff" * 4 + os.urandom(200)):
        w = wire.Wire(vrtd.sock)
        w.send(data)
        assert wire.is_closed(w)
        w.close()
    # Truncated payload for a procedure with arguments: an error, not a crash.
    w = wire.Wire(vrtd.sock)
    w.open()
    m = w.call(23, b"\x00\x00\x00\x10ab")
    assert m["status"] == wire.ERROR
    assert wire.error_of(m)[0] == libvirt.VIR_ERR_RPC
    w.close()
    assert good.getHostname() == socket.gethostname()
    good.close()
    assert vrtd.proc.poll() is None


def test_readonly_socket_refuses_changes(vrtd):
    ro = libvirt.openReadOnly(vrtd.uri_ro)
    assert ro.getHostname() == socket.gethostname()
    with pytest.raises(libvirt.libvirtError) as e:
        ro.defineXML("<domain type='qemu'><name>x</name><memory>1024</memory><os><type>hvm</type></os></domain>")
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    st = os.stat(vrtd.sock)
    assert st.st_mode & 0o777 == 0o700
    assert os.stat(vrtd.sock_ro).st_mode & 0o777 == 0o777


def test_keepalive_ping_is_answered(vrtd):
    w = wire.Wire(vrtd.sock)
    w.send(wire.frame(wire.KEEPALIVE, 1, wire.MESSAGE, 0))
    m = w.recv()
    assert (m["prog"], m["proc"], m["type"]) == (wire.KEEPALIVE, 2, wire.MESSAGE)
    w.close()


def test_keepalive_answered_while_requests_are_queued(tmproot):
    """Past max_client_requests calls wait in a queue, but PINGs are still answered."""
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write("max_client_requests = 1\nmax_workers = 1\n")
    d = Vrtd(tmproot, config=conf).start()
    try:
        w = wire.Wire(d.sock)
        w.open()
        # Many capability requests (worker calls), then a PING right behind them.
        for i in range(20):
            w.send(wire.frame(wire.REMOTE, 7, wire.CALL, 100 + i))
        w.send(wire.frame(wire.KEEPALIVE, 1, wire.MESSAGE, 0))
        seen_pong = False
        replies = 0
        while replies < 20:
            m = w.recv()
            if m["prog"] == wire.KEEPALIVE:
                seen_pong = True
            elif m["type"] == wire.REPLY:
                replies += 1
        assert seen_pong
        w.close()
    finally:
        d.stop()


def test_many_concurrent_clients(vrtd):
    errors = []

    def worker():
        try:
            c = libvirt.open(vrtd.uri)
            for _ in range(50):
                c.getVersion()
            c.close()
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_second_daemon_on_same_root_refuses(vrtd):
    p = run([VRTD, "--root", vrtd.root], check=False, timeout=10)
    assert p.returncode != 0
    assert "already running" in p.stderr
    assert str(vrtd.proc.pid) in p.stderr
    assert vrtd.proc.poll() is None


def test_sigterm_exits_cleanly(tmproot):
    d = Vrtd(tmproot).start()
    conn = libvirt.open(d.uri)
    assert d.stop(signal.SIGTERM) == 0
    assert not os.path.exists(d.sock)
    assert not os.path.exists(os.path.join(tmproot, "run", "vrt", "vrtd.pid"))
    with pytest.raises(libvirt.libvirtError):
        conn.getHostname()


def test_bad_config_names_file_line_and_key(tmproot):
    conf = os.path.join(tmproot, "bad.conf")
    with open(conf, "w") as f:
        f.write("# ok\nmax_workers = \"lots\"\n")
    p = run([VRTD, "--root", tmproot, "--config", conf], check=False, timeout=10)
    assert p.returncode != 0
    assert f"{conf}:2: max_workers" in p.stderr


def test_config_sets_socket_perms_and_dir(tmproot):
    sockdir = os.path.join(tmproot, "socks")
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write(f'unix_sock_dir = "{sockdir}"\nunix_sock_ro_perms = "0750"\nunix_sock_rw_perms = "0770"\n')
    d = Vrtd(tmproot, config=conf)
    d.sock = os.path.join(sockdir, "vrtd-sock")
    d.start()
    try:
        assert os.stat(os.path.join(sockdir, "vrtd-sock")).st_mode & 0o777 == 0o770
        assert os.stat(os.path.join(sockdir, "vrtd-sock-ro")).st_mode & 0o777 == 0o750
    finally:
        d.stop()


def test_capabilities_valid_and_describe_this_host(vrtd, tmp_path):
    xml = virsh(vrtd.uri, "capabilities").stdout
    path = tmp_path / "caps.xml"
    # libvirt 9.0's schema refuses a '.' in a host CPU feature's name, which
    # libvirtd's own capabilities carry (sse4.1, sse4.2): the document is
    # validated with those dots made dashes, the rest as sent.
    path.write_text(re.sub(r"(<feature name='[^'.]*)\.", r"\1-", xml))
    p = run(["virt-xml-validate", str(path), "capability"], check=False)
    assert p.returncode == 0, p.stdout + p.stderr + xml
    assert f"<arch>{os.uname().machine}</arch>" in xml
    assert "<emulator>/usr/bin/qemu-system-x86_64</emulator>" in xml
    assert "<domain type='qemu'" in xml
    assert ("<domain type='kvm'" in xml) == os.access("/dev/kvm", os.R_OK | os.W_OK)
    machines = run(["qemu-system-x86_64", "-machine", "help"]).stdout
    canonical_q35 = re.search(r"^q35\s+.*alias of (\S+)\)", machines, re.M).group(1)
    assert f"canonical='{canonical_q35}'" in xml and ">q35</machine>" in xml


def test_daemon_option_forks_and_serves(tmproot):
    p = run([VRTD, "--root", tmproot, "--daemon"], check=False, timeout=10)
    assert p.returncode == 0, p.stderr
    pidfile = os.path.join(tmproot, "run", "vrt", "vrtd.pid")
    pid = wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), what="the pid file")
    sock = os.path.join(tmproot, "run", "vrt", "vrtd-sock")
    try:
        uri = f"qemu+unix:///system?socket={sock}"
        wait_for(lambda: os.path.exists(sock), what="the socket")
        assert virsh(uri, "hostname").stdout.strip() == socket.gethostname()
        assert os.path.exists(f"/proc/{int(pid)}")
    finally:
        os.kill(int(pid), signal.SIGTERM)
        wait_for(lambda: not os.path.exists(pidfile), what="vrtd to exit")


def test_flood_of_calls_past_the_queue_limit_is_answered_in_full(tmproot):
    """More calls than the per-client queue holds: vrtd stops reading that
    client for a while, then answers every call, in order, none lost."""
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write("max_client_requests = 1\nmax_workers = 2\n")
    d = Vrtd(tmproot, config=conf).start()
    try:
        w = wire.Wire(d.sock, timeout=60)
        w.open()
        n = 3000
        # getMaxVcpus(NULL) runs on a worker: one at a time for this client.
        w.send(b"".join(wire.frame(wire.REMOTE, 5, wire.CALL, 1000 + i, payload=struct.pack(">I", 0))
                        for i in range(n)))
        serials = []
        while len(serials) < n:
            m = w.recv()
            assert m["status"] == wire.OK, wire.error_of(m)
            serials.append(m["serial"])
        assert serials == list(range(1000, 1000 + n))
        # The connection still serves ordinary calls afterwards.
        assert w.call(3)["status"] == wire.OK
        w.close()
    finally:
        d.stop()

"""SASL on vrtd's TCP, TLS and UNIX sockets (Cyrus SASL with a private
libvirt.conf and sasldb under vrtd's root, made with saslpasswd2 -f), as
Debian's virsh and python3-libvirt use it, inside a private network
namespace: AUTH_LIST says SASL, every other call is refused before the
exchange ends (libvirt's "authentication required"), DIGEST-MD5 over plain
TCP with its security layer, SCRAM-SHA-256 over TLS and over the UNIX socket,
wrong passwords, unknown users and users off sasl_allowed_username_list
refused, and auth_tcp = "none" served with a warning."""
import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from vrt_fixtures import import_required, require
from pki import PY_LIST, PY_RAW, NsVrtd, Netns, Pki, install_server, py_in
import wire

import_required("libvirt", "python3-libvirt is not installed")

SASLPASSWD2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
USERS = {"fred": "fredpass", "anna": "annapass", "bob": "bobpass"}
VIR_ERR_RPC, VIR_FROM_RPC, VIR_ERR_AUTH_FAILED = 39, 7, 45


def sasl_root(mechs):
    """A vrtd root with <root>/etc/sasl2/libvirt.conf and its sasldb."""
    require(os.access(SASLPASSWD2, os.X_OK), "saslpasswd2 (sasl2-bin) is not installed")
    root = tempfile.mkdtemp(prefix="vrt-test-")
    d = os.path.join(root, "etc", "sasl2")
    os.makedirs(d)
    db = os.path.join(d, "passwd.db")
    with open(os.path.join(d, "libvirt.conf"), "w") as f:
        f.write(f"mech_list: {mechs}\nsasldb_path: {db}\n")
    for user, password in USERS.items():
        subprocess.run([SASLPASSWD2, "-p", "-f", db, "-a", "libvirt", "-c", user], input=password + "\n",
                       text=True, check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def netns():
    ns = Netns()
    yield ns
    ns.close()


@pytest.fixture(scope="module")
def tcp_server(netns):
    """TCP with SASL (the default auth_tcp), DIGEST-MD5: a mechanism with a
    security layer, as libvirt's clients require over plain TCP."""
    root = sasl_root("digest-md5")
    d = NsVrtd(netns, root, 'listen_tls = 0\nlisten_tcp = 1\nsasl_allowed_username_list = ["fred", "ann*"]\n').start()
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_server(netns):
    """TLS and the UNIX socket with SASL, SCRAM-SHA-256 (no layer: TLS and
    the UNIX socket are secure already)."""
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    root = sasl_root("scram-sha-256")
    p = Pki(os.path.join(root, "pki-src"))
    install_server(p, root, *p.server())
    d = NsVrtd(netns, root, 'auth_tls = "sasl"\nauth_unix_rw = "sasl"\ntls_port = "16515"\n').start()
    d.pkidir = p.client_dir("good", *p.cert("client", "client1"))
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


TCP = "qemu+tcp://127.0.0.1/system"


def open_as(netns, uri, user, password):
    return py_in(netns, PY_LIST, uri, user, password)


def xdr_unpack_reply(data):
    """The frames in data: (proc, status, payload)."""
    out = []
    while len(data) >= 28:
        (length,) = struct.unpack(">I", data[:4])
        prog, vers, proc, typ, serial, status = struct.unpack(">IIiiIi", data[4:28])
        out.append((proc, status, data[28:length]))
        data = data[length:]
    return out


def test_auth_list_and_calls_refused_before_auth(netns, tcp_server):
    """AUTH_LIST answers SASL; CONNECT_OPEN and every other call get
    libvirt's VIR_ERR_RPC "authentication required" before the exchange."""
    open_args = struct.pack(">I", 0) + struct.pack(">I", 0)  # NULL name, flags 0
    frames = (wire.frame(wire.REMOTE, 66, serial=1) + wire.frame(wire.REMOTE, 1, serial=2, payload=open_args) +
              wire.frame(wire.REMOTE, 2, serial=3))
    r = py_in(netns, PY_RAW, "16509", "2", frames.hex())
    assert r.returncode == 0, r.stderr
    got = bytes.fromhex(r.stdout.split("got ")[1].strip())
    replies = xdr_unpack_reply(got)
    assert [p for p, _, _ in replies] == [66, 1, 2]
    proc, status, payload = replies[0]
    assert status == wire.OK and struct.unpack(">II", payload[:8]) == (1, 1)  # one type: REMOTE_AUTH_SASL
    for proc, status, payload in replies[1:]:
        assert status == wire.ERROR
        assert struct.unpack(">ii", payload[:8]) == (VIR_ERR_RPC, VIR_FROM_RPC)
        assert b"authentication required" in payload
    # The connection stays open for the exchange.
    assert r.stdout.startswith("open"), r.stdout


def test_virsh_and_python_over_tcp_with_sasl(netns, tcp_server, tmp_path):
    auth = tmp_path / "auth.conf"
    auth.write_text("[credentials-t]\nauthname=fred\npassword=fredpass\n[auth-libvirt-127.0.0.1]\ncredentials=t\n")
    r = netns.run(["env", f"LIBVIRT_AUTH_FILE={auth}", "virsh", "-q", "-c", TCP, "list", "--all"])
    assert r.returncode == 0, r.stderr
    r = open_as(netns, TCP, "anna", "annapass")
    # DIGEST-MD5's layer encrypts the connection, as libvirtd reports it.
    assert r.returncode == 0 and "domains [] secure 1 encrypted 1" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("user,password,why", [
    ("fred", "wrong", "doesn't match"),
    ("nobody", "x", "user not found"),
    ("bob", "bobpass", "not on the list of allowed clients"),
], ids=["wrong-password", "unknown-user", "not-allowed"])
def test_refused_then_next_client_served(netns, tcp_server, user, password, why):
    mark = len(tcp_server.stderr())
    r = open_as(netns, TCP, user, password)
    assert r.returncode == 1, r.stdout
    assert r.stdout.startswith(f"error {VIR_ERR_AUTH_FAILED} ") and "authentication failed" in r.stdout, r.stdout
    assert why in tcp_server.stderr()[mark:], tcp_server.stderr()[mark:]
    assert tcp_server.proc.poll() is None
    r = open_as(netns, TCP, "fred", "fredpass")
    assert r.returncode == 0 and "domains []" in r.stdout, r.stdout + r.stderr


def test_scram_over_tls_and_unix(netns, tls_server):
    u = f"qemu+tls://127.0.0.1:16515/system?pkipath={tls_server.pkidir}"
    r = open_as(netns, u, "fred", "fredpass")
    assert r.returncode == 0 and "domains [] secure 1 encrypted 1" in r.stdout, r.stdout + r.stderr
    r = open_as(netns, u, "fred", "nope")
    assert r.returncode == 1 and "authentication failed" in r.stdout, r.stdout
    # auth_unix_rw = "sasl": the read-write socket asks too; the read-only one does not.
    r = open_as(netns, tls_server.uri, "anna", "annapass")
    assert r.returncode == 0 and "domains []" in r.stdout, r.stdout + r.stderr
    r = open_as(netns, tls_server.uri, "anna", "bad")
    assert r.returncode == 1 and "authentication failed" in r.stdout, r.stdout
    r = py_in(netns, PY_LIST, tls_server.uri_ro)
    assert r.returncode == 0 and "domains []" in r.stdout, r.stdout + r.stderr


def test_auth_tcp_none_is_served_with_a_warning(netns):
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        d = NsVrtd(netns, root, 'listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\ntcp_port = "16511"\n').start()
        try:
            r = py_in(netns, PY_LIST, "qemu+tcp://127.0.0.1:16511/system")
            assert r.returncode == 0 and "domains [] secure 0 encrypted 0" in r.stdout, r.stdout + r.stderr
            assert 'auth_tcp = "none"' in d.stderr()
        finally:
            d.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_systemd_tcp_socket_asks_sasl(netns):
    """The TCP socket passed by systemd (vrtd-tcp.socket: FileDescriptorName
    vrtd-tcp) is served as the TCP socket, with no --listen: it asks SASL
    (auth_tcp's default) and a good user gets in."""
    require(shutil.which("systemd-socket-activate"), "systemd-socket-activate is not installed")
    from vrt_fixtures import VRTD
    root = sasl_root("digest-md5")
    try:
        os.makedirs(os.path.join(root, "run", "vrt"))
        rw = os.path.join(root, "run", "vrt", "vrtd-sock")
        proc = subprocess.Popen(netns.cmd(["systemd-socket-activate", "-l", "127.0.0.1:16612", "-l", rw,
                                           "--fdname=vrtd-tcp:vrtd", VRTD, "--root", root]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            u = "qemu+tcp://127.0.0.1:16612/system"
            r = open_as(netns, u, "nobody", "x")
            assert r.returncode == 1 and "authentication failed" in r.stdout, r.stdout + r.stderr
            r = open_as(netns, u, "fred", "fredpass")
            assert r.returncode == 0 and "domains [] secure 1 encrypted 1" in r.stdout, r.stdout + r.stderr
        finally:
            proc.terminate()
            proc.wait(15)
    finally:
        shutil.rmtree(root, ignore_errors=True)

"""vrtd's TLS socket as Debian's virsh, python3-libvirt, gnutls-cli and vrt
use it: certificates made at test time (tests/integration/pki.py), vrtd and
every client inside a private network namespace on 127.0.0.1. One vrtd
serves the refusal matrix: each bad client (no certificate, another CA,
expired, not yet valid, revoked by the CRL, a server-only purpose, a DN off
tls_allowed_dn_list, TLS 1.1 only, plaintext on the TLS port, TLS on the TCP
port) gets a clear error, the daemon logs why, and the next good client is
served."""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time

import pytest

from vrt_fixtures import VRT, import_required, require, virsh
from pki import PY_LIST, PY_RAW, NsVrtd, Netns, Pki, install_server, py_in
import wire

import_required("libvirt", "python3-libvirt is not installed")

EXPIRED = 'activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2021-01-01 00:00:00"\n'
FUTURE = 'activation_date = "2040-01-01 00:00:00"\nexpiration_date = "2041-01-01 00:00:00"\n'


@pytest.fixture(scope="module")
def netns():
    ns = Netns()
    yield ns
    ns.close()


@pytest.fixture(scope="module")
def certs():
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    d = tempfile.mkdtemp(prefix="vrt-pki-")
    p = Pki(d)
    p.server_key, p.server_cert = p.server()
    dirs = {}
    dirs["good"] = p.client_dir("good", *p.cert("client", "client1"))
    dirs["none"] = p.client_dir("none", None, None)
    dirs["other-ca"] = p.client_dir("other-ca", *p.cert("other", "client2", ca=p.other_ca()))
    dirs["expired"] = p.client_dir("expired", *p.cert("expired", "client3", extra=EXPIRED))
    dirs["future"] = p.client_dir("future", *p.cert("future", "client4", extra=FUTURE))
    rkey, rcert = p.cert("revoked", "client5")
    dirs["revoked"] = p.client_dir("revoked", rkey, rcert)
    dirs["server-purpose"] = p.client_dir("server-purpose", *p.cert("srvonly", "client6", purpose="tls_www_server"))
    dirs["outsider"] = p.client_dir("outsider", *p.cert("outsider", "outsider"))
    p.crl_file = p.crl([rcert])
    p.dirs = dirs
    yield p
    shutil.rmtree(d, ignore_errors=True)


def uri(pkidir, port=None, no_sanity=False):
    """no_sanity: the client sends its certificate without checking it
    first (libvirt's URI parameter), so the server's checks are the ones
    that refuse it."""
    host = "127.0.0.1" + (f":{port}" if port else "")
    return f"qemu+tls://{host}/system?pkipath={pkidir}" + ("&no_sanity=1" if no_sanity else "")


@pytest.fixture(scope="module")
def server(netns, certs):
    root = tempfile.mkdtemp(prefix="vrt-test-")
    install_server(certs, root, certs.server_key, certs.server_cert, crl=certs.crl_file)
    d = NsVrtd(netns, root, 'listen_tls = 1\nlisten_tcp = 1\nauth_tcp = "none"\n'
               'tls_allowed_dn_list = ["O=vrt,CN=client*"]\nkeepalive_interval = 1\nkeepalive_count = 3\n').start()
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


def virsh_in(netns, u, *args):
    return netns.run(["virsh", "-q", "-c", u, *args])


def assert_served(netns, server, certs):
    """The daemon runs and a good client lists the (empty) domains."""
    assert server.proc.poll() is None, server.stderr()
    r = virsh_in(netns, uri(certs.dirs["good"]), "list", "--all", "--name")
    assert r.returncode == 0 and r.stdout.strip() == "", r.stderr


def log_since(server, mark):
    return server.stderr()[mark:]


def test_virsh_python_and_vrt_list_over_tls(netns, server, certs):
    good = certs.dirs["good"]
    r = virsh_in(netns, uri(good), "list", "--all")
    assert r.returncode == 0, r.stderr
    r = virsh_in(netns, uri(good), "uri")
    assert r.stdout.strip() == uri(good), r.stdout
    r = py_in(netns, PY_LIST, uri(good))
    # TLS counts as secure and encrypted, as libvirtd says.
    assert r.returncode == 0 and "domains [] secure 1 encrypted 1" in r.stdout, r.stdout + r.stderr
    r = netns.run([VRT, "-c", uri(good), "list", "--all"])
    assert r.returncode == 0 and "Name" in r.stdout, r.stdout + r.stderr
    # localhost is in the server certificate too; vrt checks the name it dialled.
    r = netns.run([VRT, "-c", f"qemu+tls://localhost:16514/system?pkipath={good}", "list", "--all"])
    assert r.returncode == 0, r.stderr


# (client pki dir, what vrtd logs as the reason)
REFUSED = [
    ("none", "No certificate was found"),
    # GnuTLS's client sends only a certificate of a CA the server names in
    # its request, so the server sees none.
    ("other-ca", "No certificate was found"),
    ("expired", "has expired"),
    ("future", "not yet active"),
    ("revoked", "has been revoked"),
    ("server-purpose", "purpose does not allow use for with a TLS client"),
    ("outsider", "Distinguished Name is not on the list"),
]


@pytest.mark.parametrize("name,reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_bad_client_certificate_is_refused(netns, server, certs, name, reason):
    mark = len(server.stderr())
    bad = uri(certs.dirs[name], no_sanity=True)
    r = virsh_in(netns, bad, "list", "--all")
    assert r.returncode != 0
    # libvirt's client words for a server that closed after its checks.
    assert "failed to connect to the hypervisor" in r.stderr, r.stderr
    assert "Unable to read TLS confirmation" in r.stderr, r.stderr
    assert reason in log_since(server, mark), log_since(server, mark)
    r = py_in(netns, PY_LIST, bad)
    assert r.returncode == 1 and "Unable to read TLS confirmation" in r.stdout, r.stdout + r.stderr
    r = netns.run([VRT, "-c", bad, "list"])
    assert r.returncode != 0 and "server verification (of our certificate or IP address) failed" in r.stderr, r.stderr
    assert_served(netns, server, certs)


OWN = [("other-ca", "hasn't got a known issuer"), ("expired", "has expired"), ("future", "is not yet active"),
       ("server-purpose", "purpose does not allow use for with a TLS client")]


@pytest.mark.parametrize("name,reason", OWN, ids=[r[0] for r in OWN])
def test_clients_check_their_own_certificate(netns, server, certs, name, reason):
    """Without no_sanity, virsh and vrt refuse a bad certificate of their
    own before they send it (libvirt's client check; the CRL and the DN
    list are the server's)."""
    for cmd in (["virsh", "-q", "-c"], [VRT, "-c"]):
        r = netns.run(cmd + [uri(certs.dirs[name]), "list"])
        assert r.returncode != 0 and "failed to connect to the hypervisor" in r.stderr, r.stderr
        assert reason in r.stderr, r.stderr


def gnutls_cli(netns, certs, priority, port=16514):
    p = certs
    return netns.run(["gnutls-cli", "--priority", priority, "--x509cafile", p.ca,
                      "--x509certfile", os.path.join(p.dirs["good"], "clientcert.pem"),
                      "--x509keyfile", os.path.join(p.dirs["good"], "clientkey.pem"),
                      "-p", str(port), "127.0.0.1"], input="", timeout=30)


def test_tls_below_1_2_is_refused(netns, server, certs):
    require(shutil.which("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed")
    mark = len(server.stderr())
    r = gnutls_cli(netns, certs, "NORMAL:-VERS-ALL:+VERS-TLS1.1")
    assert r.returncode != 0
    assert "Fatal error" in r.stderr and "Handshake was completed" not in r.stdout, r.stdout + r.stderr
    assert "TLS handshake failed" in log_since(server, mark)
    # The same client with TLS 1.2 gets in and reads libvirt's confirmation.
    r = gnutls_cli(netns, certs, "NORMAL:-VERS-ALL:+VERS-TLS1.2")
    assert "Handshake was completed" in r.stdout + r.stderr, r.stdout + r.stderr
    assert_served(netns, server, certs)


def test_tls_priority_is_the_servers_choice(netns, certs):
    """tls_priority replaces the GnuTLS priority string of the TLS socket:
    with TLS 1.3 taken out, a TLS 1.3-only client is refused and a TLS 1.2
    one is served (with the default, test_tls_below_1_2_is_refused, both are)."""
    require(shutil.which("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed")
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        install_server(certs, root, certs.server_key, certs.server_cert)
        d = NsVrtd(netns, root, 'listen_tls = 1\nlisten_tcp = 0\ntls_port = "16620"\n'
                   'tls_priority = "NORMAL:-VERS-TLS1.3"\n').start()
        try:
            r = gnutls_cli(netns, certs, "NORMAL:-VERS-ALL:+VERS-TLS1.3", port=16620)
            assert r.returncode != 0 and "Handshake was completed" not in r.stdout, r.stdout + r.stderr
            assert "TLS handshake failed" in d.stderr()
            r = gnutls_cli(netns, certs, "NORMAL:-VERS-ALL:+VERS-TLS1.2", port=16620)
            assert "Handshake was completed" in r.stdout + r.stderr, r.stdout + r.stderr
            r = gnutls_cli(netns, certs, "NORMAL", port=16620)
            assert "(TLS1.2-" in r.stdout and "(TLS1.3-" not in r.stdout, r.stdout
            r = virsh_in(netns, uri(certs.dirs["good"], 16620), "list", "--all", "--name")
            assert r.returncode == 0, r.stderr
        finally:
            d.stop()
        # The default lets the same TLS 1.3 client in.
        d = NsVrtd(netns, root, 'listen_tls = 1\nlisten_tcp = 0\ntls_port = "16620"\n').start()
        try:
            r = gnutls_cli(netns, certs, "NORMAL:-VERS-ALL:+VERS-TLS1.3", port=16620)
            assert "Handshake was completed" in r.stdout + r.stderr, r.stdout + r.stderr
        finally:
            d.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_no_verify_certificate_and_listen_addr(netns, certs):
    """tls_no_verify_certificate = 1 lets in a client whose certificate
    fails the checks (expired here), logging why; listen_addr binds the
    TLS socket to that address alone."""
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        install_server(certs, root, certs.server_key, certs.server_cert)
        d = NsVrtd(netns, root, 'listen_tls = 1\nlisten_tcp = 0\ntls_port = "16621"\n'
                   'listen_addr = "127.0.0.2"\ntls_no_verify_certificate = 1\n').start()
        try:
            # The server's certificate names 127.0.0.1: the client skips its own check.
            u = f"qemu+tls://127.0.0.2:16621/system?pkipath={certs.dirs['expired']}&no_sanity=1&no_verify=1"
            r = virsh_in(netns, u, "list", "--all", "--name")
            assert r.returncode == 0, r.stderr
            assert "has expired" in d.stderr(), d.stderr()
            r = virsh_in(netns, uri(certs.dirs["good"], 16621), "list", "--all")
            assert r.returncode != 0 and "Connection refused" in r.stderr, r.stderr
        finally:
            d.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_plaintext_on_the_tls_port_is_dropped(netns, server, certs):
    mark = len(server.stderr())
    open_call = wire.frame(wire.REMOTE, 1, payload=b"\0\0\0\0" + b"\0\0\0\0")
    r = py_in(netns, PY_RAW, "16514", "10", open_call.hex())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("closed"), r.stdout
    assert "TLS handshake failed" in log_since(server, mark)
    assert_served(netns, server, certs)


def test_tls_client_on_the_tcp_port_is_dropped(netns, server, certs):
    require(shutil.which("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed")
    # Its ClientHello is read as a frame length, too large: vrtd closes it.
    r = gnutls_cli(netns, certs, "NORMAL", port=16509)
    assert r.returncode != 0
    assert "Fatal error" in r.stderr and "Handshake was completed" not in r.stdout, r.stdout + r.stderr
    assert_served(netns, server, certs)


def test_keepalive_over_tls(netns, server, certs):
    """vrtd PINGs every second (keepalive_interval = 1) and drops a client
    after 3 unanswered: a client that answers over TLS stays connected."""
    code = r"""
import sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
conn.setKeepAlive(1, 3)
stop = False
def loop():
    while not stop:
        libvirt.virEventRunDefaultImpl()
t = threading.Thread(target=loop, daemon=True)
t.start()
time.sleep(6)
print("alive", conn.isAlive(), len(conn.listAllDomains()))
"""
    r = py_in(netns, code, uri(certs.dirs["good"]))
    assert r.returncode == 0 and "alive 1 0" in r.stdout, r.stdout + r.stderr


def test_keepalive_drops_a_remote_client_that_does_not_answer(netns, server, certs):
    """A remote client (the TCP socket here) that asked for keepalive and
    answers none of vrtd's PINGs is closed after keepalive_count (3) of
    them, as libvirtd does; the daemon serves the next client."""
    open_args = struct.pack(">II", 0, 0)  # NULL name, flags 0
    frames = (wire.frame(wire.REMOTE, 1, serial=1, payload=open_args) +
              wire.frame(wire.REMOTE, 60, serial=2, payload=struct.pack(">i", 10)))  # PROGRAM_KEEPALIVE
    r = py_in(netns, PY_RAW, "16509", "30", frames.hex())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("closed"), r.stdout
    got = bytes.fromhex(r.stdout.split("got ")[1].strip())
    pings = 0
    while len(got) >= 28:
        (length,) = struct.unpack(">I", got[:4])
        prog, _, proc = struct.unpack(">IIi", got[4:16])
        pings += (prog, proc) == (wire.KEEPALIVE, 1)
        got = got[length:]
    assert pings >= 3, r.stdout
    assert_served(netns, server, certs)


def test_bad_server_certificate_fails_start(netns, certs):
    """vrtd checks its own certificate at start-up: one made for a client
    (no TLS server purpose) stops it with libvirt's words."""
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        key = os.path.join(certs.dirs["good"], "clientkey.pem")
        cert = os.path.join(certs.dirs["good"], "clientcert.pem")
        install_server(certs, root, key, cert)
        d = NsVrtd(netns, root)
        d.start(wait=False)
        assert d.proc.wait(30) != 0
        assert "purpose does not allow use for with a TLS server" in d.stderr()
        # Without --listen the TLS socket is not opened and nothing is checked.
        d = NsVrtd(netns, root, extra_args=())
        d.start()
        try:
            assert virsh(d.uri, "list", "--all", "--name").stdout.strip() == ""
        finally:
            d.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_systemd_tls_socket(netns, certs):
    """The TLS socket passed by systemd (vrtd-tls.socket: FileDescriptorName
    vrtd-tls) is served as TLS, with no --listen."""
    require(shutil.which("systemd-socket-activate"), "systemd-socket-activate is not installed")
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        install_server(certs, root, certs.server_key, certs.server_cert)
        os.makedirs(os.path.join(root, "run", "vrt"))
        rw = os.path.join(root, "run", "vrt", "vrtd-sock")
        from vrt_fixtures import VRTD
        proc = subprocess.Popen(netns.cmd(["systemd-socket-activate", "-l", "127.0.0.1:16600", "-l", rw,
                                           "--fdname=vrtd-tls:vrtd", VRTD, "--root", root]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(rw) and time.monotonic() < deadline:
                time.sleep(0.05)
            r = virsh_in(netns, uri(certs.dirs["good"], 16600), "list", "--all")
            assert r.returncode == 0, r.stderr
            r = virsh_in(netns, uri(certs.dirs["none"], 16600), "list", "--all")
            assert r.returncode != 0
        finally:
            proc.terminate()
            proc.wait(15)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_silent_connection_does_not_block_others(netns, server, certs):
    """A client that connects to the TLS port and sends nothing waits in its
    own handshake; the others are served meanwhile (the handshake never
    blocks vrtd's I/O thread)."""
    code = r"""
import socket, subprocess, sys
silent = socket.create_connection(("127.0.0.1", 16514))
r = subprocess.run(["virsh", "-q", "-c", sys.argv[1], "list", "--all", "--name"], capture_output=True, text=True,
                   timeout=60)
print("rc", r.returncode, r.stderr.strip())
silent.close()
"""
    r = py_in(netns, code, uri(certs.dirs["good"]))
    assert r.returncode == 0 and r.stdout.startswith("rc 0"), r.stdout + r.stderr

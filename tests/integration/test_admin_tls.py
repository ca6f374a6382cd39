"""The admin interface and vrtd's TLS socket: a TLS client is listed with
transport tls and its socket address, and `virt-admin srv-update-tls`
makes vrtd read its CA, certificate and key again (the clients of a new CA
are served from then on, the connection made before keeps working).
vrtd and its TLS clients run in a private network namespace
(tests/integration/pki.py); the admin socket is a UNIX socket under the
root, which virt-admin reaches from outside."""
import os
import shutil
import subprocess
import tempfile

import pytest

from vrt_fixtures import PY, import_required, require, wait_for
from pki import NsVrtd, Netns, Pki, install_server, py_in

import_required("libvirt", "python3-libvirt is not installed")

# Opens uri (argv[1]), says "open", answers "ok VERSION" to each line on stdin.
PY_HOLD = r"""
import sys, libvirt
c = libvirt.open(sys.argv[1])
print("open", flush=True)
for line in sys.stdin:
    print("ok", c.getVersion(), flush=True)
"""

PY_OPEN = r"""
import sys, libvirt
try:
    libvirt.open(sys.argv[1]).getVersion()
    print("served")
except libvirt.libvirtError as e:
    print("error", e.get_error_message())
"""


@pytest.fixture(scope="module")
def netns():
    ns = Netns()
    yield ns
    ns.close()


def uri(pkidir):
    return f"qemu+tls://127.0.0.1/system?pkipath={pkidir}"


def va(root, *args, check=True):
    sock = os.path.join(root, "run", "vrt", "vrtd-admin-sock")
    p = subprocess.run(["virt-admin", "-c", f"libvirtd:///system?socket={sock}", *args], capture_output=True,
                       text=True, timeout=30)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def test_tls_client_listed_and_tls_files_updated(netns):
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    require(shutil.which("virt-admin"), "virt-admin (libvirt-clients) is not installed")
    d = tempfile.mkdtemp(prefix="vrt-pki-")
    root = tempfile.mkdtemp(prefix="vrt-test-")
    try:
        old = Pki(os.path.join(d, "old"))
        old.server_key, old.server_cert = old.server()
        old_client = old.client_dir("c", *old.cert("client", "client1"))
        new = Pki(os.path.join(d, "new"))
        new.server_key, new.server_cert = new.server()
        new_client = new.client_dir("c", *new.cert("client", "client2"))

        install_server(old, root, old.server_key, old.server_cert)
        server = NsVrtd(netns, root, 'listen_tls = 1\nlisten_tcp = 0\nauth_tls = "none"\n').start()
        try:
            held = subprocess.Popen(netns.cmd([PY, "-c", PY_HOLD, uri(old_client)]), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            assert held.stdout.readline().strip() == "open"

            rows = [line.split() for line in va(root, "srv-clients-list", "vrtd").splitlines()]
            ids = [r[0] for r in rows if r and r[0].isdigit()]
            assert len(ids) == 1 and rows[[r[0] if r else "" for r in rows].index(ids[0])][1] == "tls", rows
            info = va(root, "client-info", "vrtd", ids[0])
            assert "sock_addr" in info and "127.0.0.1;" in info, info
            assert "unix_process_id" not in info, info

            # The new CA's client is refused while vrtd has the old files ...
            r = py_in(netns, PY_OPEN, uri(new_client))
            assert "served" not in r.stdout, r.stdout + r.stderr
            install_server(new, root, new.server_key, new.server_cert)
            r = py_in(netns, PY_OPEN, uri(new_client))
            assert "served" not in r.stdout, r.stdout + r.stderr
            # ... and served once it has read them again.
            va(root, "srv-update-tls", "vrtd")
            r = py_in(netns, PY_OPEN, uri(new_client))
            assert r.stdout.strip() == "served", r.stdout + r.stderr
            r = py_in(netns, PY_OPEN, uri(old_client))
            assert "served" not in r.stdout, r.stdout + r.stderr
            # The connection made with the old files goes on.
            held.stdin.write("x\n")
            held.stdin.flush()
            assert held.stdout.readline().startswith("ok ")
            held.stdin.close()
            held.wait(30)

            # Files that cannot be read leave the ones in use.
            os.unlink(os.path.join(root, "etc/pki/libvirt/servercert.pem"))
            out = va(root, "srv-update-tls", "vrtd", check=False)
            assert "Cannot read server certificate" in out, out
            wait_for(lambda: py_in(netns, PY_OPEN, uri(new_client)).stdout.strip() == "served",
                     what="the new CA's client served still")
        finally:
            server.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

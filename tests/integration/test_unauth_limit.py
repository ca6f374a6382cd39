"""max_anonymous_clients (libvirtd.conf; the admin program's
nclients_unauth_max, virt-admin srv-clients-set --max-unauth-clients): while
that many clients are still authenticating, vrtd accepts no further
connection (they wait in the listen backlog, as with libvirtd) until one of
them finishes its authentication or leaves; the admin client-limits call
reports how many are authenticating. The clients here are SASL clients of the
read-write UNIX socket (auth_unix_rw = "sasl", SCRAM-SHA-256): raw ones that
send AUTH_LIST and never authenticate, and python3-libvirt's, held inside its
credentials callback, mid-exchange, until the test lets it go on."""
import os
import shutil
import subprocess
import sys

import pytest

from vrt_fixtures import Vrtd, import_required, require
import wire

sys.path.insert(0, os.path.dirname(__file__))
from test_sasl import sasl_root  # noqa: E402

import_required("libvirt", "python3-libvirt is not installed")

AUTH_LIST = 66

# Opens argv[1] as fred; inside the credentials callback (the SASL exchange
# has started: the client is accepted and not authenticated) it says so and
# waits for a line on stdin; once open, it stays connected until another.
PY_HELD = r"""
import sys, libvirt
def cb(creds, data):
    print("in-auth", flush=True)
    sys.stdin.readline()
    for c in creds:
        if c[0] == libvirt.VIR_CRED_AUTHNAME: c[4] = "fred"
        elif c[0] == libvirt.VIR_CRED_PASSPHRASE: c[4] = "fredpass"
    return 0
conn = libvirt.openAuth(sys.argv[1], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
print("open", conn.getType(), flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def server():
    require(shutil.which("virt-admin"), "virt-admin (libvirt-clients) is not installed")
    root = sasl_root("scram-sha-256")
    conf = os.path.join(root, "vrtd.conf")
    with open(conf, "w") as f:
        f.write('auth_unix_rw = "sasl"\nmax_anonymous_clients = 2\n')
    d = Vrtd(root, config=conf).start()
    d.admin_uri = f"libvirtd:///system?socket={os.path.join(root, 'run', 'vrt', 'vrtd-admin-sock')}"
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


def limits(d):
    p = subprocess.run(["virt-admin", "-c", d.admin_uri, "srv-clients-info", "vrtd"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    out = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(":")
        if v.strip().isdigit():
            out[k.strip()] = int(v)
    return out


def unauth_client(d):
    """A client that asks AUTH_LIST (answered: it was accepted) and stops there."""
    w = wire.Wire(d.sock, timeout=60)
    m = w.call(AUTH_LIST)
    assert m["status"] == wire.OK
    return w


def test_clients_beyond_the_limit_wait_until_one_leaves(server):
    a = unauth_client(server)
    b = unauth_client(server)
    info = limits(server)
    assert (info["nclients_unauth_max"], info["nclients_unauth"], info["nclients"]) == (2, 2, 2), info
    # A third connects (the kernel's backlog) but is not accepted: its
    # AUTH_LIST waits, and the server still counts two clients.
    c = wire.Wire(server.sock, timeout=60)
    c.send(wire.frame(wire.REMOTE, AUTH_LIST, serial=7))
    info = limits(server)
    assert (info["nclients"], info["nclients_unauth"]) == (2, 2), info
    # One leaves: the third is accepted and answered.
    a.close()
    m = c.recv()
    assert m["status"] == wire.OK and m["serial"] == 7
    info = limits(server)
    assert (info["nclients"], info["nclients_unauth"]) == (2, 2), info
    # Raising the limit at run time accepts the waiting one at once.
    d = wire.Wire(server.sock, timeout=60)
    d.send(wire.frame(wire.REMOTE, AUTH_LIST, serial=8))
    p = subprocess.run(["virt-admin", "-c", server.admin_uri, "srv-clients-set", "vrtd", "--max-unauth-clients",
                        "3"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    m = d.recv()
    assert m["status"] == wire.OK and m["serial"] == 8
    assert limits(server)["nclients_unauth"] == 3
    for w in (b, c, d):
        w.close()


def test_a_client_that_finishes_authenticating_lets_the_next_in(server):
    held = subprocess.Popen([sys.executable, "-c", PY_HELD, server.uri], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert held.stdout.readline().strip() == "in-auth", held.stderr.read()
        a = unauth_client(server)
        assert limits(server)["nclients_unauth"] == 2
        c = wire.Wire(server.sock, timeout=60)
        c.send(wire.frame(wire.REMOTE, AUTH_LIST, serial=9))
        assert limits(server)["nclients"] == 2
        # The held client completes SCRAM: one fewer authenticating.
        held.stdin.write("go\n")
        held.stdin.flush()
        assert held.stdout.readline().split() == ["open", "QEMU"], held.stderr.read()
        m = c.recv()
        assert m["status"] == wire.OK and m["serial"] == 9
        info = limits(server)
        assert (info["nclients"], info["nclients_unauth"]) == (3, 2), info
        a.close()
        c.close()
    finally:
        held.kill()
        held.wait()

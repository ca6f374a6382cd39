"""polkit authorization of vrtd's UNIX sockets (auth_unix_rw / auth_unix_ro =
"polkit") against a real polkitd on a private D-Bus system bus.

The bus (dbus-daemon with a private system-bus config) and polkitd run in a
private mount namespace that sees the test's own rules file over
/etc/polkit-1/rules.d (and nothing of the host's rules), and /etc/passwd and
/etc/group copies naming three test users, vrtpka (uid 47110), vrtpkb
(47111) and vrtpkc (47112): dbus-daemon refuses a uid without a passwd entry, and the host's
user database is never changed. The libvirt action files are Debian's
(/usr/share/polkit-1/actions/org.libvirt.unix.policy). vrtd runs outside with
DBUS_SYSTEM_BUS_ADDRESS naming the private bus; clients (Debian's virsh) run
in the namespace as those uids (setpriv), as a user's virsh would.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import struct

import pytest

from vrt_fixtures import VRT, Vrtd, require, wait_for
import wire

DBUS_DAEMON = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
POLKITD = "/usr/lib/polkit-1/polkitd"
UNIX_POLICY = "/usr/share/polkit-1/actions/org.libvirt.unix.policy"
UID_A, UID_B, UID_C = 47110, 47111, 47112

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

# vrtpka may manage (read-write socket) and monitor; vrtpkb may only
# monitor; vrtpkc may do neither.
RULES = """polkit.addRule(function(action, subject) {
    if (action.id == "org.libvirt.unix.manage")
        return subject.user == "vrtpka" ? polkit.Result.YES : polkit.Result.NO;
    if (action.id == "org.libvirt.unix.monitor")
        return (subject.user == "vrtpka" || subject.user == "vrtpkb") ? polkit.Result.YES : polkit.Result.NO;
    // access_drivers = [ "polkit" ]: vrtpka may use the connection and see,
    // read and start domain "one" (but not read its secrets), nothing of "two".
    if (subject.user != "vrtpka")
        return polkit.Result.NO;
    if (action.id.indexOf("org.libvirt.api.connect.") == 0)
        return action.lookup("connect_driver") == "QEMU" ? polkit.Result.YES : polkit.Result.NO;
    if (action.id == "org.libvirt.api.domain.read-secure")
        return polkit.Result.NO;
    if (action.id.indexOf("org.libvirt.api.domain.") == 0)
        return action.lookup("domain_name") == "one" ? polkit.Result.YES : polkit.Result.NO;
});
"""

SETUP = """set -e
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
mount -t tmpfs -o mode=0755 vrt-polkit-rules /etc/polkit-1/rules.d
mount -t tmpfs -o mode=0755 vrt-polkit-rules /usr/share/polkit-1/rules.d
cp "$T/50-vrt-test.rules" /etc/polkit-1/rules.d/
"$DBUS_DAEMON" --config-file="$T/bus.conf" --fork --print-pid=3 3>"$T/dbus.pid"
exec "$POLKITD" --no-debug
"""


class PolkitBus:
    """dbus-daemon and polkitd in a private mount namespace (see above)."""

    def __init__(self, rules=RULES):
        for path, what in ((DBUS_DAEMON, "dbus-daemon"), (POLKITD, "polkitd")):
            require(os.access(path, os.X_OK), f"{what} is not installed")
        require(os.path.exists(UNIX_POLICY), "libvirt's polkit action files are not installed")
        require(os.geteuid() == 0, "a private mount namespace needs root")
        self.dir = tempfile.mkdtemp(prefix="vrt-pk-")
        os.chmod(self.dir, 0o755)
        self.bus = os.path.join(self.dir, "bus")
        self.address = f"unix:path={self.bus}"
        with open(os.path.join(self.dir, "bus.conf"), "w") as f:
            f.write(BUS_CONF.format(bus=self.bus))
        with open(os.path.join(self.dir, "50-vrt-test.rules"), "w") as f:
            f.write(rules)
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(passwd + f"vrtpka:x:{UID_A}:{UID_A}::{self.dir}:/bin/sh\n"
                    f"vrtpkb:x:{UID_B}:{UID_B}::{self.dir}:/bin/sh\n"
                    f"vrtpkc:x:{UID_C}:{UID_C}::{self.dir}:/bin/sh\n")
        with open(os.path.join(self.dir, "group"), "w") as f:
            f.write(group + f"vrtpka:x:{UID_A}:\nvrtpkb:x:{UID_B}:\nvrtpkc:x:{UID_C}:\n")
        env = dict(os.environ, T=self.dir, DBUS_DAEMON=DBUS_DAEMON, POLKITD=POLKITD,
                   DBUS_SYSTEM_BUS_ADDRESS=self.address)
        self.log = open(os.path.join(self.dir, "polkitd.log"), "w")
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", SETUP], env=env,
                                     stdout=self.log, stderr=self.log)
        wait_for(lambda: self.proc.poll() is not None or self._polkit_up(), what="polkitd on the private bus")
        assert self.proc.poll() is None, open(self.log.name).read()

    def _polkit_up(self):
        if not os.path.exists(self.bus):
            return False
        p = subprocess.run(["busctl", "--address", self.address, "status", "org.freedesktop.PolicyKit1"],
                           capture_output=True)
        return p.returncode == 0

    def as_user(self, uid, args, timeout=60):
        """args run as uid (no groups) in the namespace, with HOME there."""
        env = dict(os.environ, HOME=self.dir, XDG_CACHE_HOME=os.path.join(self.dir, f"cache{uid}"),
                   XDG_CONFIG_HOME=os.path.join(self.dir, f"config{uid}"), DBUS_SYSTEM_BUS_ADDRESS=self.address)
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "setpriv", f"--reuid={uid}",
                               f"--regid={uid}", "--clear-groups"] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=env)

    def close(self):
        try:
            with open(os.path.join(self.dir, "dbus.pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pk():
    bus = PolkitBus()
    yield bus
    bus.close()


def polkit_vrtd(pk, root, extra=""):
    os.chmod(root, 0o755)
    conf = os.path.join(root, "vrtd.conf")
    with open(conf, "w") as f:
        f.write('auth_unix_rw = "polkit"\nauth_unix_ro = "polkit"\n' + extra)
    d = Vrtd(root, config=conf, env={"DBUS_SYSTEM_BUS_ADDRESS": pk.address}).start()
    os.chmod(os.path.join(root, "run"), 0o755)
    os.chmod(os.path.join(root, "run", "vrt"), 0o755)
    return d


@pytest.fixture
def pkvrtd(pk, tmproot):
    d = polkit_vrtd(pk, tmproot)
    yield d
    d.stop()


def test_rw_socket_is_open_to_all_and_auth_list_says_polkit(pkvrtd, pk):
    # libvirtd's rule: polkit decides who may use the read-write socket.
    assert os.stat(pkvrtd.sock).st_mode & 0o777 == 0o777
    w = wire.Wire(pkvrtd.sock)
    try:
        m = w.call(66)  # AUTH_LIST
        assert m["status"] == wire.OK and struct.unpack(">II", m["payload"][:8]) == (1, 2)  # REMOTE_AUTH_POLKIT
        # Nothing else before AUTH_POLKIT: libvirt's "authentication required".
        m = w.call(2)  # CONNECT_GET_TYPE
        assert m["status"] == wire.ERROR and wire.error_of(m)[2] == "RPC error: authentication required"
    finally:
        w.close()


def test_polkit_allows_a_and_denies_b_on_the_rw_socket(pkvrtd, pk):
    b = pk.as_user(UID_B, ["virsh", "-q", "-c", pkvrtd.uri, "uri"])
    assert b.returncode != 0
    assert "authentication failed: access denied by policy" in b.stderr, b.stderr
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", pkvrtd.uri, "list", "--all"])
    assert a.returncode == 0, a.stderr
    # The daemon logs why B was refused.
    assert f"uid {UID_B}" in pkvrtd.stderr() and "access denied by policy" in pkvrtd.stderr()


def test_ro_socket_checks_monitor(pkvrtd, pk):
    b = pk.as_user(UID_B, ["virsh", "-q", "-c", pkvrtd.uri_ro, "list", "--all"])
    assert b.returncode == 0, b.stderr
    # vrtpkc is in no rule (root would be: polkitd always authorizes uid 0).
    c = pk.as_user(UID_C, ["virsh", "-q", "-c", pkvrtd.uri_ro, "list", "--all"])
    assert c.returncode != 0 and "access denied by policy" in c.stderr, c.stderr


def test_vrt_authenticates_with_polkit(pkvrtd, pk):
    # libvrt answers AUTH_LIST's polkit with AUTH_POLKIT; the server decides.
    a = pk.as_user(UID_A, [VRT, "-c", pkvrtd.uri, "list", "--all"])
    assert a.returncode == 0, a.stderr
    b = pk.as_user(UID_B, [VRT, "-c", pkvrtd.uri, "list", "--all"])
    assert b.returncode != 0 and "authentication failed: access denied by policy" in b.stderr, b.stderr


def domain_xml(name):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>"""


@pytest.fixture
def aclvrtd(pk, tmproot):
    d = polkit_vrtd(pk, tmproot, 'access_drivers = [ "polkit" ]\nlog_level = 2\n')
    for name in ("one", "two"):
        path = os.path.join(tmproot, name + ".xml")
        with open(path, "w") as f:
            f.write(domain_xml(name))
        os.chmod(path, 0o644)
        # root: polkitd authorizes uid 0 for every action.
        r = pk.as_user(0, ["virsh", "-q", "-c", d.uri, "define", path])
        assert r.returncode == 0, r.stderr
    yield d
    d.stop()


def test_acl_list_shows_only_what_the_caller_may_see(aclvrtd, pk):
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", aclvrtd.uri, "list", "--all", "--name"])
    assert a.returncode == 0, a.stderr
    assert a.stdout.split() == ["one"]
    r = pk.as_user(0, ["virsh", "-q", "-c", aclvrtd.uri, "list", "--all", "--name"])
    assert sorted(r.stdout.split()) == ["one", "two"]


def test_acl_refuses_calls_on_a_domain_the_caller_may_not_touch(aclvrtd, pk):
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", aclvrtd.uri, "dominfo", "one"])
    assert a.returncode == 0, a.stderr
    # virsh looks "two" up first (domain.getattr): refused, so virsh has no
    # domain to start.
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", aclvrtd.uri, "start", "two"])
    assert a.returncode != 0 and "failed to get domain 'two'" in a.stderr, a.stderr
    # Through the API by uuid: libvirt's code and words.
    script = (
        "import libvirt, sys\n"
        f"c = libvirt.open('{aclvrtd.uri}')\n"
        "root_uuid = sys.argv[1]\n"
        "try:\n"
        "    c.lookupByUUIDString(root_uuid).create()\n"
        "except libvirt.libvirtError as e:\n"
        "    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())\n")
    uuid = pk.as_user(0, ["virsh", "-q", "-c", aclvrtd.uri, "domuuid", "two"]).stdout.strip()
    r = pk.as_user(UID_A, ["/usr/bin/python3", "-c", script, uuid])
    # VIR_FROM_ACCESS (55): libvirt's access manager words the refusal.
    assert r.stdout.strip() == "88 55 access denied: 'QEMU' denied access", r.stdout + r.stderr
    assert "org.libvirt.api.domain.getattr" in aclvrtd.stderr()


def test_acl_secure_xml_needs_read_secure(aclvrtd, pk):
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", aclvrtd.uri, "dumpxml", "one"])
    assert a.returncode == 0 and "<name>one</name>" in a.stdout, a.stderr
    a = pk.as_user(UID_A, ["virsh", "-q", "-c", aclvrtd.uri, "dumpxml", "--security-info", "one"])
    assert a.returncode != 0 and "access denied: 'QEMU' denied access" in a.stderr, a.stderr

"""polkit's interactive authorization of vrtd's read-write socket
(auth_unix_rw = "polkit"), against a real polkitd on a private system bus
(test_polkit.py's PolkitBus) whose rule wants vrtpkc to authenticate
(polkit.Result.AUTH_SELF) for org.libvirt.unix.manage.

vrtd asks with ALLOW_USER_INTERACTION, as libvirtd does. A client without
an agent gets libvirt's "no polkit agent available" from libvirt's polkit
module (VIR_FROM_POLKIT): Debian's virsh, on a terminal, reads exactly
that to start pkttyagent for its own process and connect again. A client
with an agent registered for it (pkttyagent on its terminal) is
authenticated through that agent (PAM's polkit-1 service); one whose
agent fails is refused ("access denied by policy").

In the bus's private mount namespace, /etc/pam.d holds only a polkit-1
service that runs pam_exec with expose_authtok (it asks for a password and
takes any: the host's users and PAM are never involved), and the bus socket
is also at /run/dbus/system_bus_socket: polkit-agent-helper-1 is setuid,
and GLib ignores DBUS_SYSTEM_BUS_ADDRESS in a setuid process.
"""
import os
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

from vrt_fixtures import VRT, import_required, require
from test_polkit import UID_C, PolkitBus, polkit_vrtd

import_required("libvirt", "python3-libvirt is not installed")

PKTTYAGENT = "/usr/bin/pkttyagent"
HELPER = "/usr/lib/polkit-1/polkit-agent-helper-1"

RULES = """polkit.addRule(function(action, subject) {
    if (action.id == "org.libvirt.unix.manage" && subject.user == "vrtpkc")
        return polkit.Result.AUTH_SELF;
    return polkit.Result.NO;
});
"""

SETUP = """set -e
mount -t tmpfs -o mode=0755 vrt-pam /etc/pam.d
printf 'auth required pam_exec.so expose_authtok /bin/true\\naccount required pam_permit.so\\n' >/etc/pam.d/polkit-1
mount -t tmpfs -o mode=0755 vrt-dbus /run/dbus
touch /run/dbus/system_bus_socket
mount --bind "$BUS" /run/dbus/system_bus_socket
"""


@pytest.fixture(scope="module")
def pk():
    for path in (PKTTYAGENT, HELPER):
        require(os.access(path, os.X_OK), f"{path} is not installed (polkitd, pkexec)")
    bus = PolkitBus(rules=RULES)
    try:
        r = subprocess.run(["nsenter", "-t", str(bus.proc.pid), "-m", "sh", "-c", SETUP],
                           env=dict(os.environ, BUS=bus.bus), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        yield bus
    finally:
        bus.close()


@pytest.fixture
def pkvrtd(pk, tmproot):
    d = polkit_vrtd(pk, tmproot, "log_level = 2\n")
    yield d
    d.stop()


def on_terminal(pk, uid, argv, answer, timeout=120):
    """argv run as uid in the namespace on a terminal of its own (a pty
    that is its controlling terminal), as a user types it; answer is what
    the user types at the first "Password:" prompt. Returns (exit code,
    what the terminal showed)."""
    env = dict(os.environ, HOME=pk.dir, TERM="dumb", DBUS_SYSTEM_BUS_ADDRESS=pk.address,
               XDG_CACHE_HOME=os.path.join(pk.dir, f"cache{uid}"),
               XDG_CONFIG_HOME=os.path.join(pk.dir, f"config{uid}"))
    cmd = ["nsenter", "-t", str(pk.proc.pid), "-m", "setpriv", f"--reuid={uid}", f"--regid={uid}",
           "--clear-groups"] + list(argv)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(cmd[0], cmd, env)
        finally:
            os._exit(127)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: every process of the terminal has gone
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Password:" in out:
                # The agent turns echo off after its prompt, discarding
                # what was typed before (TCSAFLUSH): type once it has.
                while termios.tcgetattr(fd)[3] & termios.ECHO and time.monotonic() < deadline:
                    time.sleep(0.05)
                os.write(fd, answer)
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_without_an_agent_the_refusal_is_polkits(pkvrtd, pk):
    """python3-libvirt starts no agent: libvirt's code, words and origin."""
    script = ("import libvirt, sys\n"
              "try:\n"
              "    libvirt.open(sys.argv[1])\n"
              "except libvirt.libvirtError as e:\n"
              "    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())\n")
    r = pk.as_user(UID_C, ["/usr/bin/python3", "-c", script, pkvrtd.uri])
    assert r.stdout.strip() == ("94 60 authentication unavailable: no polkit agent available to authenticate "
                                "action 'org.libvirt.unix.manage'"), r.stdout + r.stderr
    # vrt starts no agent either.
    r = pk.as_user(UID_C, [VRT, "-c", pkvrtd.uri, "list", "--all"])
    assert r.returncode != 0 and "no polkit agent available" in r.stderr, r.stderr


# A client on a terminal with an authentication agent registered for it
# (pkttyagent --process, not --fallback: polkitd uses a fallback agent,
# which is what virsh starts, only within a logind session, and the test
# has none), as a desktop's agent serves the processes of its session.
WITH_AGENT = r"""
import libvirt, os, subprocess, sys
r, w = os.pipe()
agent = subprocess.Popen(["pkttyagent", "--process", str(os.getpid()), "--notify-fd", str(w)], pass_fds=[w])
os.close(w)
os.read(r, 1)  # EOF: the agent is registered
try:
    print("OPEN", libvirt.open(sys.argv[1]).getURI())
except libvirt.libvirtError as e:
    print("ERROR", e.get_error_code(), e.get_error_domain(), e.get_error_message())
agent.terminate()
agent.wait()
"""


def test_agent_authenticates_the_user(pkvrtd, pk):
    rc, shown = on_terminal(pk, UID_C, ["/usr/bin/python3", "-c", WITH_AGENT, pkvrtd.uri], b"any password\n")
    assert "AUTHENTICATING FOR org.libvirt.unix.manage" in shown, shown
    assert "AUTHENTICATION COMPLETE" in shown, shown
    assert f"OPEN {pkvrtd.uri}" in shown, shown
    assert "polkit allowed action org.libvirt.unix.manage to pid" in pkvrtd.stderr()


def test_user_failing_the_agent_is_refused(pkvrtd, pk):
    # EOF at the password prompt: the agent fails, polkitd refuses.
    rc, shown = on_terminal(pk, UID_C, ["/usr/bin/python3", "-c", WITH_AGENT, pkvrtd.uri], b"\x04")
    assert "AUTHENTICATING FOR org.libvirt.unix.manage" in shown, shown
    assert "ERROR 45 60 authentication failed: access denied by policy" in shown, shown
    # The daemon serves the next client as before.
    rc, shown = on_terminal(pk, UID_C, ["/usr/bin/python3", "-c", WITH_AGENT, pkvrtd.uri], b"any password\n")
    assert f"OPEN {pkvrtd.uri}" in shown, shown

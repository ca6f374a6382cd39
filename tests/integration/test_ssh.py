"""vrtd reached over SSH, as a libvirt user reaches a remote host:
`virsh -c 'qemu+ssh://user@host/system?socket=...'` through the far side's
netcat, python3-libvirt alike, and libvrt's own ssh transport (`vrt -c
qemu+ssh://...`).

The far side is an sshd the test runs in a network namespace of its own
(127.0.0.1 there, port 2222) and a private mount namespace (a tmpfs /run
for its privilege separation directory; libvirt's virt-ssh-helper hidden,
as on a host that runs vrt and not libvirt). Its host key, the client key,
known_hosts and ssh's config are made in the test's directory; the ssh
client runs through the `command` URI parameter as a wrapper naming that
config, so nothing of the host's ~/.ssh or /etc/ssh is read or written.
"""
import os
import shutil
import signal
import subprocess
import uuid

import pytest

from vrt_fixtures import VRT, Vrtd, import_required, pid_alive, require, run, wait_for

libvirt = import_required("libvirt")

SSHD = "/usr/sbin/sshd"
PORT = 2222
HELPER = "/usr/bin/virt-ssh-helper"


def _keygen(path):
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path])


class FarSide:
    """sshd in namespace ns, and the client-side files to reach it."""

    def __init__(self, d):
        self.d = d
        self.ns = f"vrtssh{os.getpid()}"
        self.proc = None

    def start(self):
        d = self.d
        _keygen(f"{d}/hostkey")
        _keygen(f"{d}/id")
        shutil.copy(f"{d}/id.pub", f"{d}/authorized_keys")
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"Port {PORT}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile none\n"
                    f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
                    "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n")
        with open(f"{d}/hostkey.pub") as f:
            hostkey = f.read().strip()
        with open(f"{d}/known_hosts", "w") as f:
            f.write(f"[127.0.0.1]:{PORT} {hostkey}\n")
        with open(f"{d}/id.pub") as f:
            other_key = f.read().strip()
        with open(f"{d}/known_hosts_wrong", "w") as f:
            f.write(f"[127.0.0.1]:{PORT} {other_key}\n")
        for name, known in (("ssh", "known_hosts"), ("ssh-wrong-hostkey", "known_hosts_wrong")):
            with open(f"{d}/{name}.config", "w") as f:
                f.write(f"Host *\n  UserKnownHostsFile {d}/{known}\n  GlobalKnownHostsFile /dev/null\n"
                        f"  IdentityFile {d}/id\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n"
                        "  BatchMode yes\n")
            with open(f"{d}/{name}", "w") as f:
                f.write(f"#!/bin/sh\nexec ssh -F {d}/{name}.config \"$@\"\n")
            os.chmod(f"{d}/{name}", 0o755)

        run(["ip", "netns", "add", self.ns])
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        hide = f"mount --bind /dev/null {HELPER} && " if os.path.exists(HELPER) else ""
        script = (f"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && {hide}"
                  f"exec {SSHD} -D -e -f {d}/sshd_config")
        self.log = open(f"{d}/sshd.log", "wb")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, "unshare", "-m", "sh", "-c", script],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._listening() or self.proc.poll() is not None, timeout=20, what="sshd")
        assert self.proc.poll() is None, open(f"{d}/sshd.log").read()
        return self

    def _listening(self):
        with open(f"{self.d}/sshd.log", errors="replace") as f:
            return f"listening on 127.0.0.1 port {PORT}" in f.read()

    def in_ns(self, argv, check=True, timeout=60):
        """Runs a client in the namespace, where 127.0.0.1:PORT is sshd."""
        return run(["ip", "netns", "exec", self.ns] + argv, check=check, timeout=timeout)

    def uri(self, sock, wrapper="ssh", extra=""):
        return (f"qemu+ssh://root@127.0.0.1:{PORT}/system?socket={sock}"
                f"&command={self.d}/{wrapper}{extra}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        run(["ip", "netns", "del", self.ns], check=False)


@pytest.fixture(scope="module")
def far(tmp_path_factory):
    require(os.path.exists(SSHD), "sshd is not installed (apt-get install openssh-server)")
    require(shutil.which("nc"), "netcat is not installed (apt-get install netcat-openbsd)")
    require(os.geteuid() == 0, "network namespaces need root")
    f = FarSide(str(tmp_path_factory.mktemp("ssh"))).start()
    yield f
    f.stop()


def domain_xml(name):
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>")


def ssh_children(wrapper):
    """Processes still running the ssh of this wrapper's config."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and os.path.basename(cmd[0]) == b"ssh" and f"{wrapper}.config".encode() in cmd:
            out.append(int(pid))
    return [p for p in out if pid_alive(p)]


def test_virsh_over_ssh_reads_and_writes(far, vrtd):
    """virsh through ssh and the far side's netcat: what it defines is
    vrtd's, what vrtd has it lists, and the exact URI of libvirt's docs
    (socket= and nothing else but the transport's own parameters) works."""
    conn = libvirt.open(vrtd.uri)
    conn.defineXML(domain_xml("local-made"))
    uri = far.uri(vrtd.sock)
    listed = far.in_ns(["virsh", "-q", "-c", uri, "list", "--all", "--name"]).stdout.split()
    assert "local-made" in listed

    path = os.path.join(far.d, "remote-made.xml")
    with open(path, "w") as f:
        f.write(domain_xml("remote-made"))
    far.in_ns(["virsh", "-q", "-c", uri, "define", path])
    assert conn.lookupByName("remote-made").name() == "remote-made"
    assert "QEMU" in far.in_ns(["virsh", "-c", uri, "version"]).stdout


def test_python_libvirt_over_ssh(far, vrtd):
    libvirt.open(vrtd.uri).defineXML(domain_xml("py-seen"))
    code = ("import libvirt,sys; c=libvirt.open(sys.argv[1]); "
            "print(c.lookupByName('py-seen').name()); print(c.getLibVersion())")
    p = far.in_ns(["/usr/bin/python3", "-c", code, far.uri(vrtd.sock)])
    name, version = p.stdout.split()
    assert name == "py-seen"
    assert int(version) >= 9000000


def test_vrt_over_ssh(far, vrtd):
    """libvrt's own ssh transport: calls, the read-only socket refusing a
    write, and no ssh left behind once vrt has exited."""
    libvirt.open(vrtd.uri).defineXML(domain_xml("vrt-seen"))
    uri = far.uri(vrtd.sock)
    assert "vrt-seen" in far.in_ns([VRT, "-c", uri, "list", "--all"]).stdout
    assert "Running hypervisor: QEMU" in far.in_ns([VRT, "-c", uri, "version"]).stdout

    ro = far.in_ns([VRT, "-c", far.uri(vrtd.sock_ro), "undefine", "vrt-seen"], check=False)
    assert ro.returncode != 0
    assert "read only access prevents" in ro.stderr
    assert libvirt.open(vrtd.uri).lookupByName("vrt-seen")
    assert ssh_children(f"{far.d}/ssh") == []


def test_vrt_over_ssh_reports_why_ssh_failed(far, vrtd):
    """A host key that does not match, or no vrtd behind the socket: vrt
    says what ssh or netcat said, and the next good client is served."""
    bad = far.in_ns([VRT, "-c", far.uri(vrtd.sock, wrapper="ssh-wrong-hostkey"), "version"], check=False)
    assert bad.returncode != 0
    assert "Host key verification failed" in bad.stderr

    gone = os.path.join(vrtd.root, "run", "vrt", "no-such-sock")
    nosock = far.in_ns([VRT, "-c", far.uri(gone), "version"], check=False)
    assert nosock.returncode != 0
    assert "no-such-sock" in nosock.stderr and "No such file" in nosock.stderr

    wrong = far.in_ns([VRT, "-c", far.uri(vrtd.sock, extra="&no_verify=maybe"), "version"], check=False)
    assert wrong.returncode != 0 and "no_verify" in wrong.stderr

    assert "Running hypervisor: QEMU" in far.in_ns([VRT, "-c", far.uri(vrtd.sock), "version"]).stdout
    assert ssh_children(f"{far.d}/ssh-wrong-hostkey") == []


def test_ssh_connection_survives_daemon_side_events(far, vrtd):
    """A long-lived connection over ssh gets vrtd's lifecycle events, as a
    local one does (virt-manager on a remote host relies on this)."""
    conn = libvirt.open(vrtd.uri)
    code = ("import libvirt,sys,threading\n"
            "libvirt.virEventRegisterDefaultImpl()\n"
            "c=libvirt.open(sys.argv[1]); seen=[]\n"
            "c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,"
            " lambda c,d,e,det,o: seen.append((d.name(),e)), None)\n"
            "print('ready', flush=True)\n"
            "import time; end=time.time()+60\n"
            "while time.time()<end and not seen: libvirt.virEventRunDefaultImpl()\n"
            "print(seen[0][0], seen[0][1])\n")
    p = subprocess.Popen(["ip", "netns", "exec", far.ns, "/usr/bin/python3", "-c", code, far.uri(vrtd.sock)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        conn.defineXML(domain_xml("evented"))
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    name, event = out.split()
    assert name == "evented" and int(event) == libvirt.VIR_DOMAIN_EVENT_DEFINED


def test_vrt_over_ssh_keyfile_and_no_verify(far, vrtd):
    """libvirt's keyfile and no_verify URI parameters reach ssh: through a
    config that knows a wrong host key and names no usable key, vrt gets in
    only with no_verify=1 (StrictHostKeyChecking=no) and keyfile= the
    client's key (-i)."""
    d = far.d
    with open(f"{d}/ssh-nokey.config", "w") as f:
        f.write(f"Host *\n  UserKnownHostsFile {d}/known_hosts_wrong\n  GlobalKnownHostsFile /dev/null\n"
                f"  IdentityFile {d}/absent\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n  BatchMode yes\n")
    with open(f"{d}/ssh-nokey", "w") as f:
        f.write(f"#!/bin/sh\nexec ssh -F {d}/ssh-nokey.config \"$@\"\n")
    os.chmod(f"{d}/ssh-nokey", 0o755)

    def vrt(extra):
        return far.in_ns([VRT, "-c", far.uri(vrtd.sock, wrapper="ssh-nokey", extra=extra), "version"], check=False)

    r = vrt("")
    assert r.returncode != 0 and "Host key verification failed" in r.stderr, r.stderr
    r = vrt("&no_verify=1")
    assert r.returncode != 0 and "Permission denied" in r.stderr, r.stderr
    r = vrt(f"&no_verify=1&keyfile={d}/id")
    assert r.returncode == 0 and "Running hypervisor: QEMU" in r.stdout, r.stdout + r.stderr
    assert ssh_children(f"{d}/ssh-nokey") == []

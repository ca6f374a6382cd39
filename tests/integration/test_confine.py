"""QEMU confined as libvirt confines it, on real guest-less QEMU (TCG):
it runs as qemu.conf's user (libvirt-qemu), with the seccomp sandbox and no
new privileges, in a mount namespace of its own whose /dev has only the
nodes a domain needs; a root-owned 0600 image is usable while the domain
runs and root:root 0600 again after a destroy, after a kill -9 of vrtd and
a restart, and after a crash of QEMU; a shareable image shared by two
domains keeps its label until the second stops; a user that does not exist
is a clear error at start, never a run as root."""
import os
import pwd
import re
import signal
import stat
import subprocess

import pytest
from vrt_fixtures import Vrtd, import_required, require, run, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")

USER = "libvirt-qemu"


def have_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not have_user(),
                                reason="needs root and the libvirt-qemu user (libvirt-daemon-system)")


def domain_xml(name, disks=""):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>{disks}<memballoon model='none'/></devices>
</domain>"""


def disk(path, dev="vda", shareable=False):
    share = "<shareable/>" if shareable else ""
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{dev}' bus='virtio'/>{share}</disk>")


def qemu_pid(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        return int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def owner(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture
def env(tmproot):
    # libvirt-qemu must reach the images (vrt, like libvirt, does not
    # relabel parent directories): the test root is searchable.
    os.chmod(tmproot, 0o755)
    d = Vrtd(tmproot).start()
    yield d
    d.stop()


def image(root, name="disk.img"):
    path = os.path.join(root, name)
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    os.chown(path, 0, 0)
    os.chmod(path, 0o600)
    return path


def define(env, name, disks=""):
    path = os.path.join(env.root, f"{name}.xml")
    with open(path, "w") as f:
        f.write(domain_xml(name, disks))
    virsh(env.uri, "define", path)


def test_qemu_runs_confined(env):
    img = image(env.root)
    define(env, "c1", disk(img))
    virsh(env.uri, "start", "c1")
    pid = qemu_pid(env.root, "c1")
    st = status(pid)
    pw = pwd.getpwnam(USER)
    assert st["Uid"] == [str(pw.pw_uid)] * 4
    assert st["Gid"][0] == str(__import__("grp").getgrnam(USER).gr_gid)
    assert st["Seccomp"] == ["2"]
    assert st["NoNewPrivs"] == ["1"]
    assert "-sandbox" in open(f"/proc/{pid}/cmdline").read().split("\0")
    # its own mount namespace, with a minimal /dev
    assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink(f"/proc/{os.getpid()}/ns/mnt")
    devs = set(os.listdir(f"/proc/{pid}/root/dev"))
    expected = {"null", "zero", "full", "random", "urandom", "ptmx", "pts"}
    if os.path.exists("/dev/net/tun"):
        expected.add("net")
    assert devs == expected
    # the image is QEMU's while it runs, its mode untouched
    assert owner(img) == (pw.pw_uid, __import__("grp").getgrnam(USER).gr_gid, 0o600)
    # QEMU's user cannot read what only root may
    p = run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
             "cat", "/etc/shadow"], check=False)
    assert p.returncode != 0
    virsh(env.uri, "destroy", "c1")
    assert owner(img) == (0, 0, 0o600)


def test_labels_back_after_vrtd_kill_and_restart(env):
    img = image(env.root)
    define(env, "c2", disk(img))
    virsh(env.uri, "start", "c2")
    assert owner(img)[0] != 0
    env.stop(signal.SIGKILL)
    env.start()
    virsh(env.uri, "destroy", "c2")
    assert owner(img) == (0, 0, 0o600)


def test_labels_back_after_qemu_crash(env):
    img = image(env.root)
    define(env, "c3", disk(img))
    virsh(env.uri, "start", "c3")
    os.kill(qemu_pid(env.root, "c3"), signal.SIGKILL)
    wait_for(lambda: "shut off" in virsh(env.uri, "domstate", "c3").stdout, what="c3 shut off")
    assert owner(img) == (0, 0, 0o600)


def test_labels_back_when_qemu_died_while_vrtd_was_down(env):
    img = image(env.root)
    define(env, "c4", disk(img))
    virsh(env.uri, "start", "c4")
    pid = qemu_pid(env.root, "c4")
    env.stop(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}/status") or
             status(pid).get("State", ["Z"])[0] == "Z", what="QEMU gone")
    env.start()
    assert "shut off" in virsh(env.uri, "domstate", "c4").stdout
    assert owner(img) == (0, 0, 0o600)


def test_shareable_image_keeps_label_until_last_user_stops(env):
    img = image(env.root, "shared.img")
    define(env, "s1", disk(img, shareable=True))
    define(env, "s2", disk(img, shareable=True))
    virsh(env.uri, "start", "s1")
    virsh(env.uri, "start", "s2")
    uid = pwd.getpwnam(USER).pw_uid
    assert owner(img)[0] == uid
    virsh(env.uri, "destroy", "s1")
    assert owner(img)[0] == uid
    virsh(env.uri, "destroy", "s2")
    assert owner(img) == (0, 0, 0o600)


def test_missing_user_is_a_clear_error(tmproot):
    os.chmod(tmproot, 0o755)
    os.makedirs(os.path.join(tmproot, "etc", "vrt"), exist_ok=True)
    with open(os.path.join(tmproot, "etc", "vrt", "qemu.conf"), "w") as f:
        f.write('user = "vrt-no-such-user"\n')
    env = Vrtd(tmproot).start()
    try:
        define(env, "m1")
        p = virsh(env.uri, "start", "m1", check=False)
        assert p.returncode != 0
        assert "vrt-no-such-user" in p.stderr
        assert "shut off" in virsh(env.uri, "domstate", "m1").stdout
    finally:
        env.stop()


def test_unreachable_root_is_a_clear_error(tmproot):
    """A private root QEMU's user cannot search (mkdtemp's 0700) fails the
    start with vrtd's error naming the directory, not QEMU's bare
    "Permission denied" on its pidfile; opened, the same domain starts."""
    os.chmod(tmproot, 0o700)
    env = Vrtd(tmproot).start()
    try:
        define(env, "u1")
        p = virsh(env.uri, "start", "u1", check=False)
        assert p.returncode != 0
        assert f"cannot reach '{tmproot}' (mode 0700" in p.stderr, p.stderr
        assert USER in p.stderr
        assert "shut off" in virsh(env.uri, "domstate", "u1").stdout
        os.chmod(tmproot, 0o755)
        virsh(env.uri, "start", "u1")
        virsh(env.uri, "destroy", "u1")
    finally:
        env.stop()


def test_user_root_runs_qemu_as_root(tmproot):
    os.chmod(tmproot, 0o755)
    os.makedirs(os.path.join(tmproot, "etc", "vrt"), exist_ok=True)
    with open(os.path.join(tmproot, "etc", "vrt", "qemu.conf"), "w") as f:
        f.write('user = "root"\ngroup = "root"\n')
    env = Vrtd(tmproot).start()
    try:
        img = image(tmproot)
        define(env, "r1", disk(img))
        virsh(env.uri, "start", "r1")
        st = status(qemu_pid(tmproot, "r1"))
        assert st["Uid"][0] == "0"
        assert st["Seccomp"] == ["2"]
        assert owner(img) == (0, 0, 0o600)
        virsh(env.uri, "destroy", "r1")
    finally:
        env.stop()


def test_external_snapshot_of_running_domain_labels_its_overlay(env):
    # QEMU's user cannot create a file in root's directory: vrtd makes the
    # overlay, gives it to QEMU's user, and takes it back at the stop.
    base = os.path.join(env.root, "base.qcow2")
    run(["qemu-img", "create", "-q", "-f", "qcow2", base, "1M"])
    os.chmod(base, 0o600)
    define(env, "x1", "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                      f"<source file='{base}'/><target dev='vda' bus='virtio'/></disk>")
    virsh(env.uri, "start", "x1")
    overlay = os.path.join(env.root, "base.snap1")
    virsh(env.uri, "snapshot-create-as", "x1", "snap1", "--disk-only", "--atomic")
    uid = pwd.getpwnam(USER).pw_uid
    assert owner(overlay)[0] == uid and owner(base)[0] == uid
    assert overlay in virsh(env.uri, "domblklist", "x1").stdout
    virsh(env.uri, "destroy", "x1")
    assert owner(overlay) == (0, 0, 0o600)
    assert owner(base) == (0, 0, 0o600)


def test_save_and_restore_of_a_confined_domain(env):
    # The image is opened by vrtd and handed to QEMU (getfd, fd:
    # migration): QEMU's user never reaches it, and its sandbox forbids the
    # shell an exec: URI needs.
    img = image(env.root)
    define(env, "v1", disk(img))
    virsh(env.uri, "start", "v1")
    saved = os.path.join(env.root, "v1.save")
    virsh(env.uri, "save", "v1", saved)
    assert owner(saved) == (0, 0, 0o600)
    assert owner(img) == (0, 0, 0o600)
    virsh(env.uri, "restore", saved)
    assert "running" in virsh(env.uri, "domstate", "v1").stdout
    st = status(qemu_pid(env.root, "v1"))
    assert st["Uid"][0] == str(pwd.getpwnam(USER).pw_uid) and st["Seccomp"] == ["2"]
    virsh(env.uri, "managedsave", "v1")
    virsh(env.uri, "start", "v1")
    assert "running" in virsh(env.uri, "domstate", "v1").stdout
    virsh(env.uri, "destroy", "v1")
    assert owner(img) == (0, 0, 0o600)


def test_channel_socket_in_a_root_directory(env):
    # QEMU's user may not create a file in root's directory: vrtd binds
    # the channel's socket, gives it to QEMU's user and passes it (fd=),
    # as libvirt does; a client reaches QEMU through it.
    import socket
    sock = os.path.join(env.root, "ch1.sock")
    define(env, "ch1", "<controller type='virtio-serial' index='0'/>"
                       f"<channel type='unix'><source mode='bind' path='{sock}'/>"
                       "<target type='virtio' name='org.example.ch1'/></channel>")
    virsh(env.uri, "start", "ch1")
    assert stat.S_ISSOCK(os.lstat(sock).st_mode)
    assert os.lstat(sock).st_uid == pwd.getpwnam(USER).pw_uid
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sock)
    c.close()
    virsh(env.uri, "destroy", "ch1")
    assert not os.path.exists(sock)

"""The QEMU driver through vrtd with Debian's virsh: a guest-less VM's life
cycle with libvirt's states, reasons and errors, and a vrtd killed with -9
that leaves its VM running and reconnects to it (a QEMU that died meanwhile
becomes shut off, crashed)."""
import os
import re
import signal

import pytest

from vrt_fixtures import Vrtd, kill_vms_under, pid_alive, virsh, wait_for


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def domain_xml(name):
    kind = "kvm" if kvm_usable() else "qemu"
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
            "<devices><memballoon model='virtio'/></devices></domain>")


def define(uri, root, name):
    path = os.path.join(root, f"{name}.xml")
    with open(path, "w") as f:
        f.write(domain_xml(name))
    virsh(uri, "define", path)


def qemu_pid(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        return int(re.search(r"pid='(\d+)'", f.read()).group(1))




@pytest.fixture
def qemu_reaper(tmproot):
    """Kills every QEMU started under this test's root, also on failure."""
    yield
    kill_vms_under(tmproot)


def domstate(uri, name):
    return virsh(uri, "domstate", "--reason", name).stdout.strip()


def test_lifecycle_with_virsh(vrtd, tmproot, qemu_reaper):
    uri = vrtd.uri
    define(uri, tmproot, "vm1")
    assert re.search(r"vm1\s+shut off", virsh(uri, "list", "--all").stdout)

    virsh(uri, "start", "vm1")
    assert domstate(uri, "vm1") == "running (booted)"
    info = virsh(uri, "dominfo", "vm1").stdout
    assert re.search(r"State:\s+running", info)
    assert re.search(r"Max memory:\s+65536 KiB", info)
    p = virsh(uri, "start", "vm1", check=False)
    assert p.returncode != 0 and "already active" in p.stderr  # virsh checks first

    virsh(uri, "suspend", "vm1")
    assert domstate(uri, "vm1") == "paused (user)"
    virsh(uri, "resume", "vm1")
    assert domstate(uri, "vm1") == "running (unpaused)"

    live = virsh(uri, "dumpxml", "vm1").stdout
    inactive = virsh(uri, "dumpxml", "--inactive", "vm1").stdout
    assert re.search(r"<domain type='\w+' id='\d+'", live)
    assert " id='" not in inactive.splitlines()[0]
    assert os.path.exists(os.path.join(tmproot, "var", "log", "vrt", "qemu", "vm1.log"))

    virsh(uri, "destroy", "vm1")
    assert domstate(uri, "vm1") == "shut off (destroyed)"
    virsh(uri, "undefine", "vm1")
    p = virsh(uri, "domstate", "vm1", check=False)
    assert p.returncode != 0 and "failed to get domain 'vm1'" in p.stderr


def test_vrtd_kill9_leaves_vm_running_and_reconnects(tmproot, qemu_reaper):
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "keep")
        define(d.uri, tmproot, "dies")
        virsh(d.uri, "start", "keep")
        virsh(d.uri, "start", "dies")
        keep, dies = qemu_pid(tmproot, "keep"), qemu_pid(tmproot, "dies")
    finally:
        d.stop(sig=signal.SIGKILL)
    assert pid_alive(keep) and pid_alive(dies)
    os.kill(dies, signal.SIGKILL)
    wait_for(lambda: not pid_alive(dies), what="QEMU to die")

    # The killed vrtd left its socket file behind: wait until the new one answers.
    d = Vrtd(tmproot).start()
    wait_for(lambda: virsh(d.uri, "version", check=False).returncode == 0, what="the new vrtd to answer")
    try:
        assert domstate(d.uri, "keep").startswith("running")
        assert domstate(d.uri, "dies") == "shut off (crashed)"
        # The reattached monitor works, and QEMU's death is a crash.
        virsh(d.uri, "suspend", "keep")
        assert domstate(d.uri, "keep") == "paused (user)"
        os.kill(keep, signal.SIGKILL)
        wait_for(lambda: domstate(d.uri, "keep") == "shut off (crashed)", what="crash to be noticed")
    finally:
        d.stop()


def test_status_write_failure_is_reported_and_logged(vrtd, tmproot, qemu_reaper):
    """A change vrtd cannot record in the domain's status file is reported to
    the caller (as libvirt does) and logged with the domain and the reason."""
    uri = vrtd.uri
    define(uri, tmproot, "vm1")
    virsh(uri, "start", "vm1")
    status = os.path.join(tmproot, "run", "vrt", "qemu", "vm1.xml")
    saved = open(status).read()
    # A non-empty directory where the status file goes: its rename fails.
    os.unlink(status)
    os.makedirs(os.path.join(status, "blocker"))
    try:
        p = virsh(uri, "suspend", "vm1", check=False)
        assert p.returncode != 0, p.stdout
        log = vrtd.stderr()
        assert re.search(r"domain vm1: cannot save its status: .*vm1\.xml", log), log
        # The guest did pause: the state in memory follows QEMU.
        assert domstate(uri, "vm1") == "paused (user)"
        p = virsh(uri, "setmem", "vm1", "32768", "--live", check=False)
        assert p.returncode != 0 and "vm1.xml" in p.stderr, p.stderr
    finally:
        os.rmdir(os.path.join(status, "blocker"))
        os.rmdir(status)
        with open(status, "w") as f:
            f.write(saved)
    virsh(uri, "resume", "vm1")
    assert domstate(uri, "vm1") == "running (unpaused)"
    assert "state='running'" in open(status).read()
    virsh(uri, "destroy", "vm1")


def test_start_fails_with_qemus_message_when_qemu_exits(vrtd, tmproot, qemu_reaper):
    """QEMU exiting before its monitor answers (here: a missing disk image)
    fails the start with QEMU's own message, and leaves nothing running."""
    uri = vrtd.uri
    missing = os.path.join(tmproot, "missing.img")
    xml = domain_xml("bad").replace(
        "<devices>", f"<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                     f"<source file='{missing}'/><target dev='vda' bus='virtio'/></disk>")
    path = os.path.join(tmproot, "bad.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh(uri, "define", path)
    p = virsh(uri, "start", "bad", check=False)
    assert p.returncode != 0
    assert "missing.img" in p.stderr, p.stderr
    assert domstate(uri, "bad").startswith("shut off")
    assert not os.path.exists(os.path.join(tmproot, "run", "vrt", "qemu", "bad.xml"))
    assert not [e for e in os.listdir(os.path.join(tmproot, "run", "vrt", "qemu"))
                if e.startswith(("bad.", "domain-"))]


def test_machine_list_cached_on_disk_by_binary(tmproot):
    """QEMU's machine list (`-machine help`) is kept on disk keyed by the
    binary's path, size and mtime: a restarted vrtd takes it from there, and
    a key that no longer matches the binary makes it ask QEMU again."""
    d = Vrtd(tmproot).start()
    try:
        assert "pc-i440fx" in virsh(d.uri, "capabilities").stdout
    finally:
        d.stop()
    cache_dir = os.path.join(tmproot, "var", "lib", "vrt", "qemu", "capabilities")
    (entry,) = [e for e in os.listdir(cache_dir) if e.startswith("machines-")]
    path = os.path.join(cache_dir, entry)
    key, help_text = open(path).read().split("\n", 1)
    emulator, size, mtime = key.rsplit(" ", 2)
    st = os.stat(emulator)
    assert (int(size), int(mtime)) == (st.st_size, int(st.st_mtime))
    assert "pc-i440fx" in help_text

    # A list only the cache has shows that the restarted vrtd read it (a
    # machine vrtd starts: the capabilities list no other).
    fake = "Supported machines are:\npc-q35-99.9          Cached machine (default)\n"
    with open(path, "w") as f:
        f.write(f"{key}\n{fake}")
    d = Vrtd(tmproot).start()
    try:
        caps = virsh(d.uri, "capabilities").stdout
        assert "pc-q35-99.9" in caps and "pc-i440fx" not in caps
    finally:
        d.stop()

    # The same file under another binary's size: stale, QEMU is asked.
    with open(path, "w") as f:
        f.write(f"{emulator} {int(size) + 1} {mtime}\n{fake}")
    d = Vrtd(tmproot).start()
    try:
        caps = virsh(d.uri, "capabilities").stdout
        assert "pc-q35-99.9" not in caps and "pc-i440fx" in caps
    finally:
        d.stop()
    assert open(path).read().split("\n", 1)[0] == key

"""Domain names and paths as a user may write them, with real QEMU: a name
and file paths with commas (QEMU's key=value options need them doubled),
and the longest name define accepts (230 bytes), whose monitor socket would
not fit in sun_path's 108 bytes under STATE_DIR/NAME.monitor. Each runs,
is listed, survives a vrtd restart (reconnected through the socket path in
its status file) and is destroyed; a domain started under the older layout
(STATE_DIR/NAME.monitor) is still reconnected and cleaned up."""
import os
import shutil
import re
import signal
import subprocess

from vrt_fixtures import Vrtd, pid_alive, virsh, wait_for
from test_qemu_driver import domstate, kvm_usable, qemu_reaper  # noqa: F401 (fixture)

RUN = ("run", "vrt", "qemu")


def xml(name, devices=""):
    kind = "kvm" if kvm_usable() else "qemu"
    name = name.replace("&", "&amp;").replace("<", "&lt;")
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{devices}<memballoon model='none'/></devices></domain>")


def define(uri, root, name, devices=""):
    path = os.path.join(root, "def.xml")
    with open(path, "w") as f:
        f.write(xml(name, devices))
    virsh(uri, "define", path)


def status(root, name):
    with open(os.path.join(root, *RUN, f"{name}.xml")) as f:
        return f.read()


def qemu_argv(root, name):
    pid = int(re.search(r"pid='(\d+)'", status(root, name)).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return pid, f.read().decode().split("\0")


def listed(uri, name):
    out = virsh(uri, "list", "--name").stdout.splitlines()
    return name in [line.strip() for line in out]


def restart(d, root):
    d.stop(sig=signal.SIGKILL)
    d = Vrtd(root).start()
    wait_for(lambda: virsh(d.uri, "version", check=False).returncode == 0, what="the new vrtd to answer")
    return d


def run_entries(root):
    return sorted(os.listdir(os.path.join(root, *RUN)))


def test_commas_in_name_and_paths(tmproot, qemu_reaper):  # noqa: F811
    imgdir = os.path.join(tmproot, "img,dir")
    os.mkdir(imgdir)
    img = os.path.join(imgdir, "disk,1.img")
    subprocess.run(["truncate", "-s", "1M", img], check=True)
    serial = os.path.join(tmproot, "con,sole.log")
    name = "a,comma"
    devices = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{img}'/>"
               "<target dev='vda' bus='virtio'/><serial>s,1</serial></disk>"
               f"<serial type='file'><source path='{serial}'/><target port='0'/></serial>")
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, name, devices)
        virsh(d.uri, "start", name)
        assert domstate(d.uri, name) == "running (booted)"
        assert listed(d.uri, name)
        pid, argv = qemu_argv(tmproot, name)
        assert argv[argv.index("-name") + 1] == "guest=a,,comma,debug-threads=on"
        # A root QEMU opens the path, commas doubled; an unprivileged one
        # gets the file from vrtd as a descriptor (-add-fd).
        assert any(f"path={serial.replace(',', ',,')}" in a for a in argv) or \
            any(a.startswith("file,id=charserial0,path=/dev/fdset/") for a in argv)
        # QEMU opened the files at the paths as written.
        assert os.path.exists(serial)
        fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert img in fds and serial in fds
        assert virsh(d.uri, "domblklist", name).stdout.split()[-1] == img

        d = restart(d, tmproot)
        assert domstate(d.uri, name) == "running (booted)"
        virsh(d.uri, "destroy", name)
        assert domstate(d.uri, name) == "shut off (destroyed)"
        assert not pid_alive(pid)
    finally:
        d.stop()


def test_longest_names_start_reconnect_and_destroy(tmproot, qemu_reaper):  # noqa: F811
    # 230 bytes each; two share their first 20 characters, one is made of
    # 2-byte characters.
    names = ["L" * 230, "L" * 229 + "x", "é" * 115]
    assert all(len(n.encode()) == 230 for n in names)
    d = Vrtd(tmproot).start()
    try:
        for n in names:
            define(d.uri, tmproot, n)
            virsh(d.uri, "start", n)
        pids = {}
        for n in names:
            assert domstate(d.uri, n) == "running (booted)"
            assert listed(d.uri, n)
            monitor = re.search(r"<monitor path='([^']+)'", status(tmproot, n)).group(1)
            assert len(monitor.encode()) < 108, monitor
            pids[n] = qemu_argv(tmproot, n)[0]
        assert len(set(pids.values())) == 3
        monitors = {re.search(r"<monitor path='([^']+)'", status(tmproot, n)).group(1) for n in names}
        assert len(monitors) == 3

        d = restart(d, tmproot)
        for n in names:
            assert domstate(d.uri, n) == "running (booted)"
            assert listed(d.uri, n)
            assert pid_alive(pids[n])
        # The reattached monitors work.
        virsh(d.uri, "suspend", names[0])
        assert domstate(d.uri, names[0]) == "paused (user)"
        virsh(d.uri, "resume", names[0])

        for n in names:
            virsh(d.uri, "destroy", n)
            assert domstate(d.uri, n) == "shut off (destroyed)"
            assert not pid_alive(pids[n])
        assert run_entries(tmproot) == []
    finally:
        d.stop()


def test_domain_of_older_layout_reconnects(tmproot, qemu_reaper):  # noqa: F811
    """A status file naming STATE_DIR/NAME.monitor, as an older vrtd wrote
    it: the socket is moved there (a bound socket keeps working under a new
    name) and the run directory removed before the restart."""
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "old")
        virsh(d.uri, "start", "old")
        pid = qemu_argv(tmproot, "old")[0]
        d.stop(sig=signal.SIGKILL)
        run = os.path.join(tmproot, *RUN)
        st = status(tmproot, "old")
        new_path = re.search(r"<monitor path='([^']+)'", st).group(1)
        old_path = os.path.join(run, "old.monitor")
        os.rename(new_path, old_path)
        # (with what a confined start stages there, its /dev)
        shutil.rmtree(os.path.dirname(new_path))
        with open(os.path.join(run, "old.xml"), "w") as f:
            f.write(st.replace(new_path, old_path))

        d = Vrtd(tmproot).start()
        wait_for(lambda: virsh(d.uri, "version", check=False).returncode == 0, what="the new vrtd to answer")
        assert domstate(d.uri, "old") == "running (booted)"
        virsh(d.uri, "suspend", "old")
        assert domstate(d.uri, "old") == "paused (user)"
        virsh(d.uri, "destroy", "old")
        assert domstate(d.uri, "old") == "shut off (destroyed)"
        assert not pid_alive(pid)
        assert run_entries(tmproot) == []
    finally:
        d.stop()


def test_run_directory_is_no_other_domains_file(tmproot, qemu_reaper):  # noqa: F811
    # The run directory of "x.xml" started as ID was STATE_DIR/domain-ID-x.xml,
    # the status file of a domain named "domain-ID-x".
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "x.xml")
        virsh(d.uri, "start", "x.xml")
        other = f"domain-{virsh(d.uri, 'domid', 'x.xml').stdout.strip()}-x"
        define(d.uri, tmproot, other)
        virsh(d.uri, "start", other)
        for n in ("x.xml", other):
            assert domstate(d.uri, n) == "running (booted)"
        assert os.path.isfile(os.path.join(tmproot, *RUN, f"{other}.xml"))
        d = restart(d, tmproot)
        for n in ("x.xml", other):
            assert domstate(d.uri, n) == "running (booted)"
            virsh(d.uri, "destroy", n)
        assert run_entries(tmproot) == []
    finally:
        d.stop()

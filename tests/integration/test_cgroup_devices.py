"""The cgroup v2 device controller on a running guest-less QEMU (TCG): the
domain's cgroup (under a cgroup v2 subtree this test makes, as
test_tuning.py does) carries a BPF device program, so a process placed in
that cgroup opens the devices of libvirt's default list (/dev/null) but
not a memory device or a block device the domain was not given (EPERM);
after a hotplug of a block disk on that device it can open it. The
unplug, which a guest-less QEMU never completes, is looked at with the
test guest (tests/guest, TCG), which acknowledges it: once the disk has
left the domain the device is refused again. The device nodes are made in the test's own
directory (numbers of /dev/mem and of an existing, unbound loop device),
never under the host's /dev. Skipped, with the reason, where the kernel
or this machine cannot attach cgroup device programs."""
import os
import stat
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))

from vrt_fixtures import Vrtd, import_required, kill_vms_under, require, virsh, wait_for  # noqa: E402

libvirt = import_required("libvirt", "python3-libvirt is not installed")

LOOP_MINOR = 7  # /dev/loop7's numbers: the node is the test's own


def cgroup2_mount():
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "cgroup2":
                return fields[1]
    return None


@pytest.fixture
def cgroot():
    require(os.geteuid() == 0, "needs root (cgroups, device nodes)")
    mount = cgroup2_mount()
    require(mount is not None, "no cgroup v2 file system is mounted")
    path = os.path.join(mount, f"vrt-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.mkdir(path)
    except OSError as e:
        require(False, f"the cgroup v2 tree at {mount} is not writable: {e}")
    yield path

    def gone():
        for dirpath, _, _ in sorted(os.walk(path), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
        return not os.path.isdir(path)
    wait_for(gone, timeout=10, interval=0.05, what=f"{path} to be removed")


@pytest.fixture
def env(tmproot, cgroot):
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write(f'cgroup_root = "{cgroot}"\n')
    d = Vrtd(tmproot, config=conf).start()
    d.cgroot = cgroot
    yield d
    virsh(d.uri, "destroy", "cd", check=False)
    d.stop()
    kill_vms_under(tmproot)


def node(root, name, kind, major, minor):
    path = os.path.join(root, name)
    os.mknod(path, 0o600 | kind, os.makedev(major, minor))
    return path


def scope(env):
    return os.path.join(env.cgroot, "machine.slice", "machine-vrt\\x2dcd.scope")


def open_in(cgroup, path):
    """Opens path read-only from a process placed in cgroup first: None
    when it opens, else the error."""
    script = ("import os, sys\n"
              "if sys.argv[1]:\n"
              "    with open(os.path.join(sys.argv[1], 'cgroup.procs'), 'w') as f:\n"
              "        f.write(str(os.getpid()))\n"
              "try:\n"
              "    os.close(os.open(sys.argv[2], os.O_RDONLY))\n"
              "except OSError as e:\n"
              "    print(e.strerror)\n")
    args = ["/usr/bin/python3", "-c", script, cgroup or "", path]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip() or None


def test_domain_cgroup_limits_devices_and_follows_disk_hotplug(env, tmproot):
    xml = ("<domain type='qemu'><name>cd</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
           "<devices><memballoon model='none'/></devices></domain>")
    conn = libvirt.open(env.uri)
    dom = conn.defineXML(xml)
    dom.create()
    with open(env.log) as f:
        log = f.read()
    require("the cgroup device controller cannot be used" not in log,
            "this kernel or machine cannot attach cgroup device programs: " +
            next((ln for ln in log.splitlines() if "cgroup device controller" in ln), ""))
    blk = node(tmproot, "blk", stat.S_IFBLK, 7, LOOP_MINOR)
    mem = node(tmproot, "mem", stat.S_IFCHR, 1, 1)
    try:
        with open(os.path.join(scope(env), "cgroup.procs"), "a") as f:
            f.write("")
    except OSError as e:
        pytest.skip(f"cannot place a process in the domain's cgroup: {e}")

    # outside the domain's cgroup both open
    assert open_in(None, blk) is None
    # inside: libvirt's default list only
    assert open_in(scope(env), "/dev/null") is None
    assert open_in(scope(env), mem) == "Operation not permitted"
    assert open_in(scope(env), blk) == "Operation not permitted"

    disk = (f"<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='{blk}'/>"
            "<target dev='vdb' bus='virtio'/></disk>")
    dom.attachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert open_in(scope(env), blk) is None
    assert open_in(scope(env), mem) == "Operation not permitted"

    dom.destroy()
    conn.close()


def test_disk_unplug_takes_the_device_back(env, tmproot):
    # the test guest (tests/guest, TCG) acknowledges the unplug, which a
    # guest-less QEMU never does
    try:
        import guest as g
        g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")
    log = os.path.join(tmproot, "console.log")
    conn = libvirt.open(env.uri)
    dom = conn.defineXML(g.domain_xml("cd", machine="pc", console_log=log))
    dom.create()
    with open(env.log) as f:
        vlog = f.read()
    require("the cgroup device controller cannot be used" not in vlog,
            "this kernel or machine cannot attach cgroup device programs: " +
            next((ln for ln in vlog.splitlines() if "cgroup device controller" in ln), ""))
    blk = node(tmproot, "blk", stat.S_IFBLK, 7, LOOP_MINOR)
    try:
        with open(os.path.join(scope(env), "cgroup.procs"), "a") as f:
            f.write("")
    except OSError as e:
        pytest.skip(f"cannot place a process in the domain's cgroup: {e}")
    g.wait_file_marker(log)
    assert open_in(scope(env), blk) == "Operation not permitted"

    disk = (f"<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='{blk}'/>"
            "<target dev='vdb' bus='virtio'/></disk>")
    dom.attachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert open_in(scope(env), blk) is None

    dom.detachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    wait_for(lambda: blk not in dom.XMLDesc(), timeout=30, what="the guest to let the disk go")
    assert open_in(scope(env), blk) == "Operation not permitted"
    assert open_in(scope(env), "/dev/null") is None

    dom.destroy()
    conn.close()

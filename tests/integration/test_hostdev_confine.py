"""A VF hot-plugged into a confined domain, as libvirt confines it: QEMU
runs as libvirt-qemu in a private mount namespace, so at hotplug the VF's
VFIO group node /dev/vfio/N is labelled for QEMU's user and made in QEMU's
own /dev (with the container node /dev/vfio/vfio), and after the unplug
it leaves that /dev and gets its owner back; two VFs of one IOMMU group
share the node until the second leaves; a start makes one node per group
the domain uses (never the host's whole /dev/vfio); a restarted vrtd that
finishes an unplug, rolls back an attach or finds QEMU gone gives the
group back as the live path does. The SR-IOV host is simulated
(tests/hostsim: VF 0000:06:10.k in IOMMU group 100+k, ROOT/dev/vfio/N
present while the VF is on vfio-pci) and the QMP emulator (tests/qmpemu)
stands in for QEMU, run by vrtd as QEMU is; the node is looked at in the
emulator's mount namespace (/proc/PID/root/dev), never in the host's
/dev. Needs root, the libvirt-qemu user and what hostsim needs."""
import grp
import os
import pwd
import re
import resource
import signal

import pytest

from vrt_fixtures import Hostsim, QmpEmu, Vrtd, hostsim_missing, kill_vms_under, require, virsh, wait_for

USER = "libvirt-qemu"
VF = "0000:06:10.1"
GROUP = 101
HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='{managed}'><source>"
           "<address domain='0x0000' bus='0x06' slot='0x10' function='0x{fn}'/></source></hostdev>")


def have_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not have_user(),
                                reason="needs root and the libvirt-qemu user (libvirt-daemon-system)")


def domain_env(hostsim, tmproot, devices="", start=True):
    """vrtd on the simulated host with domain g (the QMP emulator as its
    QEMU, devices in its <devices>), started when start."""
    # qemu.conf's defaults: QEMU (the emulator) runs as libvirt-qemu in its
    # own mount namespace. The emulator cannot read the simulated sysfs (a
    # FUSE mount only root reaches), so it does not check the VF's driver.
    emu = QmpEmu(tmproot, "g", {"vfio_sysfs_root": None}, defaults={"device_del_ack_ms": 20})
    v = Vrtd(tmproot, extra_args=["--host-root", hostsim.root]).start()
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{emu.binary}</emulator><controller type='usb' model='none'/>"
           f"{devices}<memballoon model='none'/></devices></domain>")
    path = os.path.join(tmproot, "g.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh(v.uri, "define", path)
    if start:
        virsh(v.uri, "start", "g")
    v.host = hostsim.root
    v.hostsim = hostsim
    v.emu = emu
    return v


def end_env(v, tmproot):
    virsh(v.uri, "destroy", "g", check=False)
    v.stop()
    kill_vms_under(tmproot)


@pytest.fixture
def env(hostsim, tmproot):
    v = domain_env(hostsim, tmproot)
    try:
        yield v
    finally:
        end_env(v, tmproot)


@pytest.fixture
def shared_hostsim(tmp_path):
    """The simulated host with VFs 0000:06:10.0 and .1 in one IOMMU group
    (100), .2 and .3 in another (101)."""
    reason = hostsim_missing()
    require(reason is None, reason)
    h = Hostsim(str(tmp_path / "host"))
    try:
        yield h.start(vfs_per_group=2)
    finally:
        h.stop()


def qemu_pid(env):
    with open(os.path.join(env.root, "run", "vrt", "qemu", "g.xml")) as f:
        return int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))


def ns_node(env, name):
    """The node as QEMU sees it in its own /dev, or None."""
    try:
        st = os.stat(f"/proc/{qemu_pid(env)}/root/dev/vfio/{name}")
    except FileNotFoundError:
        return None
    return st.st_uid, st.st_gid


def ns_mounts(env, path):
    """How many mounts QEMU's mount namespace has at path (a simulated
    host's node is bound in: made twice, it would be bound twice)."""
    with open(f"/proc/{qemu_pid(env)}/mountinfo") as f:
        return sum(1 for line in f if line.split()[4] == path)


def host_node(env, group=GROUP):
    st = os.stat(os.path.join(env.host, "dev", "vfio", str(group)))
    return st.st_uid, st.st_gid


def dev_xml(env, managed, fn=1):
    path = os.path.join(env.root, f"hostdev{fn}.xml")
    with open(path, "w") as f:
        f.write(HOSTDEV.format(managed=managed, fn=fn))
    return path


def nodedev_detach(env, vf):
    require(virsh(env.uri, "nodedev-detach", "pci_" + vf.replace(":", "_").replace(".", "_"),
                  check=False).returncode == 0, "nodedev-detach of the simulated VF failed")


def has_hostdev(env, fn):
    return f"bus='0x06' slot='0x10' function='0x{fn}'" in virsh(env.uri, "dumpxml", "g").stdout


def qemu_user():
    return pwd.getpwnam(USER).pw_uid, grp.getgrnam(USER).gr_gid


def test_vf_hotplug_labels_and_adds_the_group_node_in_qemus_dev(env):
    # managed='no': the VF stays on vfio-pci after the unplug, so its
    # group node outlives it and its owner can be checked afterwards
    require(virsh(env.uri, "nodedev-detach", "pci_" + VF.replace(":", "_").replace(".", "_"),
                  check=False).returncode == 0, "nodedev-detach of the simulated VF failed")
    assert host_node(env) == (0, 0)
    assert os.readlink(f"/proc/{qemu_pid(env)}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    assert ns_node(env, GROUP) is None

    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live")
    assert host_node(env) == qemu_user()
    assert ns_node(env, GROUP) == qemu_user()
    assert ns_node(env, "vfio") is not None

    virsh(env.uri, "detach-device", "g", dev_xml(env, "no"), "--live")
    wait_for(lambda: ns_node(env, GROUP) is None, timeout=10, what="the group node to leave QEMU's /dev")
    assert host_node(env) == (0, 0)


def test_managed_vf_hotplug_and_unplug(env):
    virsh(env.uri, "attach-device", "g", dev_xml(env, "yes"), "--live")
    assert host_node(env) == qemu_user()
    assert ns_node(env, GROUP) == qemu_user()
    virsh(env.uri, "detach-device", "g", dev_xml(env, "yes"), "--live")
    wait_for(lambda: ns_node(env, GROUP) is None, timeout=10, what="the group node to leave QEMU's /dev")
    # the VF is back on its host driver: the simulated host removed its node
    assert not os.path.exists(os.path.join(env.host, "dev", "vfio", str(GROUP)))


def test_unplug_of_one_of_two_vfs_in_a_group_keeps_the_group(shared_hostsim, tmproot):
    # VFs .0 and .1 share IOMMU group 100: QEMU keeps /dev/vfio/100, and
    # the node its label, until the second leaves (libvirt counts a
    # group's users)
    env = domain_env(shared_hostsim, tmproot)
    try:
        for fn in (0, 1):
            nodedev_detach(env, f"0000:06:10.{fn}")
        for fn in (0, 1):
            virsh(env.uri, "attach-device", "g", dev_xml(env, "no", fn), "--live")
        assert ns_node(env, 100) == qemu_user()
        assert host_node(env, 100) == qemu_user()
        # made once for the group
        assert ns_mounts(env, "/dev/vfio/100") == 1

        virsh(env.uri, "detach-device", "g", dev_xml(env, "no", 1), "--live")
        wait_for(lambda: not has_hostdev(env, 1), timeout=10, what="VF .1 to leave the domain")
        assert has_hostdev(env, 0)
        assert ns_node(env, 100) == qemu_user()
        assert host_node(env, 100) == qemu_user()

        virsh(env.uri, "detach-device", "g", dev_xml(env, "no", 0), "--live")
        wait_for(lambda: ns_node(env, 100) is None, timeout=10, what="the group node to leave QEMU's /dev")
        assert host_node(env, 100) == (0, 0)
    finally:
        end_env(env, tmproot)


def can_lock_guest_memory():
    """Whether QEMU's user can be given RLIMIT_MEMLOCK for VFIO (guest
    memory + 1 GiB): vrtd needs CAP_SYS_RESOURCE unless the hard limit
    allows it already (containers often drop the capability)."""
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    if hard == resource.RLIM_INFINITY or hard >= (64 + 1024) << 20:
        return True
    with open("/proc/self/status") as f:
        eff = int(re.search(r"CapEff:\s*([0-9a-f]+)", f.read()).group(1), 16)
    return bool(eff & (1 << 24))  # CAP_SYS_RESOURCE


# QEMU as its own user needs a locked-memory limit vrtd can only give it
# with CAP_SYS_RESOURCE (or a hard limit high enough): that variant runs
# where the machine allows it (containers, CI's included, often do not).
@pytest.mark.parametrize("user", ["root"] + ([USER] if can_lock_guest_memory() else []))
def test_start_makes_one_node_per_group_in_qemus_dev(hostsim, tmproot, user):
    # libvirt makes /dev/vfio/N of each group the domain uses (and the
    # container /dev/vfio/vfio where the host has one), not the host's
    # whole /dev/vfio; an unprivileged QEMU's group node is its user's
    # while the domain runs and root's again after it stops
    os.makedirs(os.path.join(tmproot, "etc", "vrt"), exist_ok=True)
    with open(os.path.join(tmproot, "etc", "vrt", "qemu.conf"), "w") as f:
        f.write(f'user = "{user}"\ngroup = "{user}"\n')
    owner = (0, 0) if user == "root" else qemu_user()
    env = domain_env(hostsim, tmproot, devices=HOSTDEV.format(managed="no", fn=1), start=False)
    try:
        nodedev_detach(env, VF)
        nodedev_detach(env, "0000:06:10.2")  # group 102, not the domain's
        assert host_node(env) == (0, 0)
        virsh(env.uri, "start", "g")
        assert os.readlink(f"/proc/{qemu_pid(env)}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        names = set(os.listdir(f"/proc/{qemu_pid(env)}/root/dev/vfio"))
        expect = {str(GROUP)} | ({"vfio"} if os.path.exists(os.path.join(env.host, "dev", "vfio", "vfio")) else set())
        assert names == expect
        assert ns_node(env, GROUP) == owner
        assert host_node(env) == owner
        virsh(env.uri, "destroy", "g")
        assert host_node(env) == (0, 0)
    finally:
        end_env(env, tmproot)


@pytest.mark.parametrize("step", ["device-del", "remove"])
def test_unplug_finished_after_restart_gives_the_group_back(env, step):
    # vrtd killed during a VF's unplug; the next one finishes it as the
    # live path does: the node leaves QEMU's /dev, its owner comes back
    nodedev_detach(env, VF)
    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live")
    assert ns_node(env, GROUP) == qemu_user()
    env.stop()
    env.env = {"VRT_FAULT_DIE_AT": f"detach:{step}"}
    env.start()
    virsh(env.uri, "detach-device", "g", dev_xml(env, "no"), "--live", check=False)
    wait_for(lambda: env.proc.poll() is not None, timeout=15, what=f"vrtd to die at detach:{step}")
    assert ns_node(env, GROUP) == qemu_user()
    env.env = None
    env.start()
    wait_for(lambda: not has_hostdev(env, 1), timeout=15, what="the unplug to finish after the restart")
    wait_for(lambda: ns_node(env, GROUP) is None, timeout=10, what="the group node to leave QEMU's /dev")
    assert host_node(env) == (0, 0)


def test_attach_rolled_back_after_restart_gives_the_group_back(env):
    # vrtd killed right after device_add (before the attach's commit): the
    # next one takes the device out of the guest and gives the group back
    nodedev_detach(env, VF)
    env.stop()
    env.env = {"VRT_FAULT_DIE_AT": "attach:commit"}
    env.start()
    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live", check=False)
    wait_for(lambda: env.proc.poll() is not None, timeout=15, what="vrtd to die at attach:commit")
    assert ns_node(env, GROUP) == qemu_user()
    env.env = None
    env.start()
    wait_for(lambda: ns_node(env, GROUP) is None, timeout=15, what="the group node to leave QEMU's /dev")
    assert not has_hostdev(env, 1)
    assert host_node(env) == (0, 0)


def test_stop_gives_a_hotplugged_vfs_group_back(env):
    nodedev_detach(env, VF)
    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live")
    assert host_node(env) == qemu_user()
    virsh(env.uri, "destroy", "g")
    assert host_node(env) == (0, 0)


def test_qemu_gone_while_vrtd_was_down_gives_the_group_back(env):
    # a restarted vrtd that finds QEMU gone gives back the group node's
    # label with the domain's files
    nodedev_detach(env, VF)
    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live")
    assert host_node(env) == qemu_user()
    env.stop()
    pid = qemu_pid(env)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10, what="QEMU to end")
    env.start()
    wait_for(lambda: "shut off" in virsh(env.uri, "domstate", "g").stdout, timeout=15, what="the domain shut off")
    assert host_node(env) == (0, 0)


def test_qemu_gone_during_an_unfinished_attach_gives_the_group_back(env):
    # vrtd killed after device_add, before the attach's commit, and QEMU
    # gone before the next vrtd: the VF's group node, labelled at
    # device_add, gets its owner back though the device never entered
    # the definition
    nodedev_detach(env, VF)
    env.stop()
    env.env = {"VRT_FAULT_DIE_AT": "attach:commit"}
    env.start()
    virsh(env.uri, "attach-device", "g", dev_xml(env, "no"), "--live", check=False)
    wait_for(lambda: env.proc.poll() is not None, timeout=15, what="vrtd to die at attach:commit")
    assert host_node(env) == qemu_user()
    pid = qemu_pid(env)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10, what="QEMU to end")
    env.env = None
    env.start()
    wait_for(lambda: "shut off" in virsh(env.uri, "domstate", "g").stdout, timeout=15, what="the domain shut off")
    assert host_node(env) == (0, 0)

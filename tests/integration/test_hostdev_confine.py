"""A VF hot-plugged into a confined domain, as libvirt confines it: QEMU
runs as libvirt-qemu in a private mount namespace, so at hotplug the VF's
VFIO group node /dev/vfio/N is labelled for QEMU's user and made in QEMU's
own /dev (with the container node /dev/vfio/vfio), and after the unplug
it leaves that /dev and gets its owner back. The SR-IOV host is simulated
(tests/hostsim: VF 0000:06:10.k in IOMMU group 100+k, ROOT/dev/vfio/N
present while the VF is on vfio-pci) and the QMP emulator (tests/qmpemu)
stands in for QEMU, run by vrtd as QEMU is; the node is looked at in the
emulator's mount namespace (/proc/PID/root/dev), never in the host's
/dev. Needs root, the libvirt-qemu user and what hostsim needs."""
import grp
import os
import pwd
import re

import pytest

from vrt_fixtures import QmpEmu, Vrtd, kill_vms_under, require, virsh, wait_for

USER = "libvirt-qemu"
VF = "0000:06:10.1"
GROUP = 101
HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='{managed}'><source>"
           "<address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source></hostdev>")


def have_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not have_user(),
                                reason="needs root and the libvirt-qemu user (libvirt-daemon-system)")


@pytest.fixture
def env(hostsim, tmproot):
    # qemu.conf's defaults: QEMU (the emulator) runs as libvirt-qemu in its
    # own mount namespace. The emulator cannot read the simulated sysfs (a
    # FUSE mount only root reaches), so it does not check the VF's driver.
    emu = QmpEmu(tmproot, "g", {"vfio_sysfs_root": None}, defaults={"device_del_ack_ms": 20})
    v = Vrtd(tmproot, extra_args=["--host-root", hostsim.root]).start()
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{emu.binary}</emulator><controller type='usb' model='none'/>"
           "<memballoon model='none'/></devices></domain>")
    path = os.path.join(tmproot, "g.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh(v.uri, "define", path)
    virsh(v.uri, "start", "g")
    v.host = hostsim.root
    v.hostsim = hostsim
    try:
        yield v
    finally:
        virsh(v.uri, "destroy", "g", check=False)
        v.stop()
        kill_vms_under(tmproot)


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


def host_node(env):
    st = os.stat(os.path.join(env.host, "dev", "vfio", str(GROUP)))
    return st.st_uid, st.st_gid


def dev_xml(env, managed):
    path = os.path.join(env.root, "hostdev.xml")
    with open(path, "w") as f:
        f.write(HOSTDEV.format(managed=managed))
    return path


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

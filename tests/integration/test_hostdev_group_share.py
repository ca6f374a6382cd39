"""An IOMMU group goes to one domain at a time, as libvirt gives it: VFIO
hands a group to one container, so a device whose group mate another
running domain holds is refused at start and at hotplug, in libvirt's
words naming the mate and the other domain, and still after vrtd
restarts (the claims are rebuilt from the running domains' status); once
the other domain lets its device go, the group is free. The SR-IOV host
is simulated (tests/hostsim --vfs-per-group 2: VFs 0000:06:10.0 and .1
share IOMMU group 100) and the QMP emulator stands in for QEMU. Needs
root, the libvirt-qemu user and what hostsim needs."""
import os
import pwd

import pytest

from vrt_fixtures import Hostsim, QmpEmu, Vrtd, hostsim_missing, kill_vms_under, require, virsh, wait_for

HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='no'><source>"
           "<address domain='0x0000' bus='0x06' slot='0x10' function='0x{fn}'/></source></hostdev>")
REFUSAL = "PCI device 0000:06:10.0 is in use by driver QEMU, domain a"


def have_user():
    try:
        return pwd.getpwnam("libvirt-qemu")
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not have_user(),
                                reason="needs root and the libvirt-qemu user (libvirt-daemon-system)")


@pytest.fixture
def env(tmp_path, tmproot):
    reason = hostsim_missing()
    require(reason is None, reason)
    h = Hostsim(str(tmp_path / "host"))
    h.start(vfs_per_group=2)
    # QEMU as root: a start with a VF needs no locked-memory limit vrtd
    # could not give an unprivileged QEMU here
    os.makedirs(os.path.join(tmproot, "etc", "vrt"), exist_ok=True)
    with open(os.path.join(tmproot, "etc", "vrt", "qemu.conf"), "w") as f:
        f.write('user = "root"\ngroup = "root"\n')
    v = Vrtd(tmproot, extra_args=["--host-root", h.root]).start()
    try:
        for fn in (0, 1):
            vf = f"pci_0000_06_10_{fn}"
            require(virsh(v.uri, "nodedev-detach", vf, check=False).returncode == 0,
                    "nodedev-detach of the simulated VF failed")
        for name in ("a", "b"):
            emu = QmpEmu(tmproot, name, {"vfio_sysfs_root": None}, defaults={"device_del_ack_ms": 20})
            xml = (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                   f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                   f"<devices><emulator>{emu.binary}</emulator><controller type='usb' model='none'/>"
                   f"<memballoon model='none'/></devices></domain>")
            path = os.path.join(tmproot, f"{name}.xml")
            with open(path, "w") as f:
                f.write(xml)
            virsh(v.uri, "define", path)
        yield v
    finally:
        for name in ("a", "b"):
            virsh(v.uri, "destroy", name, check=False)
        v.stop()
        kill_vms_under(tmproot)
        h.stop()


def dev_xml(v, fn):
    path = os.path.join(v.root, f"hostdev{fn}.xml")
    with open(path, "w") as f:
        f.write(HOSTDEV.format(fn=fn))
    return path


def hostdevs(v, name):
    return virsh(v.uri, "dumpxml", name).stdout.count("<hostdev ")


def test_group_mate_of_another_running_domain_is_refused(env):
    v = env
    virsh(v.uri, "start", "a")
    virsh(v.uri, "attach-device", "a", dev_xml(v, 0), "--live")

    # hotplug of the mate into another running domain
    virsh(v.uri, "start", "b")
    r = virsh(v.uri, "attach-device", "b", dev_xml(v, 1), "--live", check=False)
    assert r.returncode != 0
    assert REFUSAL in r.stderr
    assert hostdevs(v, "b") == 0

    # a start with the mate in the definition
    virsh(v.uri, "destroy", "b")
    virsh(v.uri, "attach-device", "b", dev_xml(v, 1), "--config")
    r = virsh(v.uri, "start", "b", check=False)
    assert r.returncode != 0
    assert REFUSAL in r.stderr
    assert virsh(v.uri, "domstate", "b").stdout.strip() == "shut off"

    # a restarted vrtd knows a still holds the group
    v.stop()
    v.start()
    r = virsh(v.uri, "start", "b", check=False)
    assert r.returncode != 0
    assert REFUSAL in r.stderr

    # a lets go of its VF: b gets the group
    virsh(v.uri, "detach-device", "a", dev_xml(v, 0), "--live")
    wait_for(lambda: hostdevs(v, "a") == 0, timeout=10, what="VF .0 to leave domain a")
    virsh(v.uri, "start", "b")
    assert hostdevs(v, "b") == 1
    # and now a cannot take it back
    r = virsh(v.uri, "attach-device", "a", dev_xml(v, 0), "--live", check=False)
    assert r.returncode != 0
    assert "PCI device 0000:06:10.1 is in use by driver QEMU, domain b" in r.stderr

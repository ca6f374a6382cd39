"""The simulated SR-IOV host (tests/hostsim) and vrt's host seam against it.

Starts `hostsim` on a temporary root, drives vrt's node device / PCI /
SR-IOV C API through the vrt-nodedev-probe program and checks the host as
a user would: driver links, /dev/vfio nodes, net devices and their MACs,
the PF's VF MAC/VLAN. Needs Debian's python3-fusepy and /dev/fuse.
"""

import errno
import os
import shutil
import subprocess

import pytest

from vrt_fixtures import built, run

PCI = "/sys/bus/pci/devices/"


def probe_path():
    p = built("src/drivers/nodedev/vrt-nodedev-probe", env="VRT_NODEDEV_PROBE")
    if not p:
        pytest.fail("vrt-nodedev-probe not built (set VRT_NODEDEV_PROBE or VRT_BUILD_DIR)")
    return p


@pytest.fixture
def host(hostsim):
    try:
        yield Host(hostsim)
    finally:
        hostsim.stop()
        assert not os.path.ismount(os.path.join(hostsim.root, "sys"))


class Host:
    def __init__(self, sim):
        self.sim = sim
        self.root = sim.root
        self.probe_bin = probe_path()

    def p(self, path):
        return self.root + path

    def driver(self, addr):
        link = self.p(PCI + addr + "/driver")
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def read(self, path):
        with open(self.p(path)) as f:
            return f.read().strip()

    def write(self, path, value):
        with open(self.p(path), "w") as f:
            f.write(value)

    def show(self):
        return self.sim.show()

    def vf(self, index):
        return self.show()["pfs"][0]["vfs"][index]

    def probe(self, *args, ok=True):
        r = subprocess.run([self.probe_bin, self.root] + list(args), capture_output=True, text=True, timeout=30)
        if ok:
            assert r.returncode == 0, r.stderr
        else:
            assert r.returncode == 1, r.stdout
        return r


def test_sysfs_writes_act_like_the_kernel(host):
    vf = "0000:06:10.1"
    assert host.driver(vf) == "ixgbevf"
    assert os.path.exists(host.p("/sys/class/net/ens1f0v1"))
    # bind to a driver whose id table does not match: refused
    with pytest.raises(OSError) as e:
        host.write("/sys/bus/pci/drivers/vfio-pci/bind", vf)
    assert e.value.errno in (errno.EBUSY, errno.ENODEV)
    host.write(PCI + vf + "/driver/unbind", vf)
    assert host.driver(vf) is None                      # gone before write() returned
    assert not os.path.exists(host.p("/sys/class/net/ens1f0v1"))
    with pytest.raises(OSError) as e:
        host.write("/sys/bus/pci/drivers/vfio-pci/bind", vf)
    assert e.value.errno == errno.ENODEV
    host.write(PCI + vf + "/driver_override", "vfio-pci\n")
    host.write("/sys/bus/pci/drivers_probe", vf)
    assert host.driver(vf) == "vfio-pci"
    assert os.path.exists(host.p("/dev/vfio/%d" % host.vf(1)["iommu_group"]))
    assert host.read(PCI + vf + "/driver_override") == "vfio-pci"
    # fewer VFs: the removed ones disappear from the tree and the PF's links
    pf = PCI + "0000:06:00.0"
    with pytest.raises(OSError) as e:
        host.write(pf + "/sriov_numvfs", "2")
    assert e.value.errno == errno.EBUSY
    host.write(pf + "/sriov_numvfs", "0")
    assert host.read(pf + "/sriov_numvfs") == "0"
    assert not os.path.exists(host.p(PCI + vf))
    host.write(pf + "/sriov_numvfs", "2")
    assert sorted(n for n in os.listdir(host.p(pf)) if n.startswith("virtfn")) == ["virtfn0", "virtfn1"]
    assert host.driver(vf) == "ixgbevf"


def test_inventory_and_xml(host, tmp_path):
    names = host.probe("list").stdout.split()
    assert names == sorted(names)
    for n in ("computer", "pci_0000_06_00_0", "pci_0000_06_10_3", "net_ens1f0_00_1b_21_00_00_00"):
        assert n in names
    assert host.probe("list", str(1 << 1)).stdout.split() == \
        ["pci_0000_06_00_0", "pci_0000_06_10_0", "pci_0000_06_10_1", "pci_0000_06_10_2", "pci_0000_06_10_3"]
    assert host.probe("count", "pci").stdout.strip() == "5"
    assert host.probe("vfs", "ens1f0").stdout.split() == ["0000:06:10.%d" % i for i in range(4)]
    validator = shutil.which("virt-xml-validate")
    assert validator, "virt-xml-validate (libvirt-clients) is needed"
    for name in names:
        xml = host.probe("xml", name).stdout
        f = tmp_path / "dev.xml"
        f.write_text(xml)
        r = subprocess.run([validator, str(f), "nodedev"], capture_output=True, text=True)
        assert r.returncode == 0, xml + r.stderr
    pf = host.probe("xml", "pci_0000_06_00_0").stdout
    assert "<capability type='virt_functions' maxCount='8'>" in pf
    assert "<address domain='0x0000' bus='0x06' slot='0x10' function='0x3'/>" in pf
    assert "<name>ixgbe</name>" in pf and "82599ES" in pf
    vf = host.probe("xml", "pci_0000_06_10_2").stdout
    assert "<capability type='phys_function'>" in vf
    assert host.probe("parent", "net_ens1f0v2_02_00_00_00_00_02").stdout.strip() == "pci_0000_06_10_2"
    assert host.probe("caps", "pci_0000_06_10_2").stdout.split() == ["pci"]
    r = host.probe("xml", "pci_0000_07_00_0", ok=False)
    assert "error 53: Node device not found: no node device with matching name 'pci_0000_07_00_0'" in r.stderr


def test_vf_mac_vlan_detach_reattach(host):
    vf = "0000:06:10.2"
    host.probe("setvf", vf, "52:54:00:aa:bb:cc", "42")
    st = host.vf(2)
    assert (st["mac"], st["vlan"]) == ("52:54:00:aa:bb:cc", 42)
    assert host.read("/sys/class/net/ens1f0v2/address") == "52:54:00:aa:bb:cc"
    assert host.probe("getvf", vf).stdout.startswith("mac 52:54:00:aa:bb:cc vlan 42 ")

    host.probe("detach", "pci_0000_06_10_2", "vfio")
    assert host.driver(vf) == "vfio-pci"
    assert os.path.exists(host.p("/dev/vfio/%d" % st["iommu_group"]))
    assert not os.path.exists(host.p("/sys/class/net/ens1f0v2"))
    assert "<name>vfio-pci</name>" in host.probe("xml", "pci_0000_06_10_2").stdout

    host.probe("reattach", "pci_0000_06_10_2")
    assert host.driver(vf) == "ixgbevf"
    assert host.read(PCI + vf + "/driver_override") == "(null)"
    assert not os.path.exists(host.p("/dev/vfio/%d" % st["iommu_group"]))
    assert host.read("/sys/class/net/ens1f0v2/address") == "52:54:00:aa:bb:cc"

    host.probe("setvf", vf, "00:00:00:00:00:00", "0")
    assert (host.vf(2)["mac"], host.vf(2)["vlan"]) == ("00:00:00:00:00:00", 0)
    host.probe("reset", "pci_0000_06_10_2")
    assert host.vf(2)["resets"] == 1


def test_refusals(host):
    r = host.probe("detach-inuse", "pci_0000_06_10_0", "guest1", ok=False)
    assert "error 55:" in r.stderr and "guest1" in r.stderr
    assert host.driver("0000:06:10.0") == "ixgbevf"
    r = host.probe("detach", "pci_0000_06_10_0", "xen", ok=False)
    assert "error 67:" in r.stderr
    r = host.probe("detach", "net_lo_00_00_00_00_00_00", ok=False)
    assert "error 8:" in r.stderr and "not a PCI device" in r.stderr


def test_busy_on_host(host):
    vf = "0000:06:10.1"
    assert host.probe("busy", vf).stdout.strip() == "free"
    # Down, but with addresses someone gave it (an RTM_GETADDR dump lists them).
    host.sim.run("addr", host.root, "ens1f0v1", "192.0.2.7", "2001:db8::7")
    assert host.probe("busy", vf).stdout.strip() == "its host interface 'ens1f0v1' has 2 addresses"
    host.sim.run("addr", host.root, "ens1f0v1")
    assert host.probe("busy", vf).stdout.strip() == "free"
    host.write("/sys/class/net/ens1f0v1/flags", "0x1003")
    assert host.probe("busy", vf).stdout.strip() == "its host interface 'ens1f0v1' is up"
    host.write(PCI + vf + "/driver/unbind", vf)
    host.write(PCI + vf + "/driver_override", "pci-stub")
    host.write("/sys/bus/pci/drivers/pci-stub/bind", vf)
    assert host.probe("busy", vf).stdout.strip() == "it is bound to the host driver 'pci-stub'"


def test_faults(host):
    vf = "0000:06:10.3"
    host.sim.run("fault", host.root, "bind:vfio-pci")
    r = host.probe("detach", "pci_0000_06_10_3", ok=False)
    assert "error 9:" in r.stderr and "vfio-pci" in r.stderr
    assert host.driver(vf) == "ixgbevf"                 # rolled back
    assert host.read(PCI + vf + "/driver_override") == "(null)"
    host.probe("detach", "pci_0000_06_10_3")            # the fault was one-shot
    assert host.driver(vf) == "vfio-pci"

    # the VF driver refuses the bind and the probe: an error, and no driver
    host.sim.run("fault", host.root, "bind:ixgbevf", "--count", "2")
    r = host.probe("reattach", "pci_0000_06_10_3", ok=False)
    assert "error 38:" in r.stderr and "ixgbevf/bind" in r.stderr
    assert host.driver(vf) is None
    host.probe("reattach", "pci_0000_06_10_3")          # a retry finishes the job
    assert host.driver(vf) == "ixgbevf"
    host.probe("detach", "pci_0000_06_10_3")

    host.sim.run("fault", host.root, "netlink:setlink", "--errno", "EBUSY", "--count", "2")
    host.probe("setvf", vf, "52:54:00:00:00:03", "7")   # retried through
    assert host.vf(3)["mac"] == "52:54:00:00:00:03"
    host.sim.run("fault", host.root, "netlink:setlink", "--errno", "EBUSY", "--count", "50")
    r = host.probe("setvf", vf, "52:54:00:00:00:04", "7", ok=False)
    assert "Device or resource busy" in r.stderr
    assert host.vf(3)["mac"] == "52:54:00:00:00:03"


def test_virsh_nodedev_on_simulated_host(host, hostsim_vrtd):
    """vrtd run on the simulated host: what a virsh user sees and does."""
    uri = hostsim_vrtd.uri

    def virsh(*args, ok=True):
        r = run(["virsh", "-c", uri] + list(args), check=False, timeout=30)
        assert (r.returncode == 0) == ok, r.stdout + r.stderr
        return r

    assert virsh("nodedev-list", "--cap", "pci").stdout.split() == \
        ["pci_0000_06_00_0", "pci_0000_06_10_0", "pci_0000_06_10_1", "pci_0000_06_10_2", "pci_0000_06_10_3"]
    xml = virsh("nodedev-dumpxml", "pci_0000_06_00_0").stdout
    assert "<capability type='virt_functions' maxCount='8'>" in xml
    virsh("nodedev-detach", "pci_0000_06_10_3")
    assert host.driver("0000:06:10.3") == "vfio-pci"
    virsh("nodedev-reattach", "pci_0000_06_10_3")
    assert host.driver("0000:06:10.3") == "ixgbevf"
    r = virsh("nodedev-dumpxml", "pci_0000_09_00_0", ok=False)
    assert "no node device with matching name 'pci_0000_09_00_0'" in r.stderr

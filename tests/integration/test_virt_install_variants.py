"""virt-install's install variants through vrtd (Debian's virtinst): a CD-ROM
install (--cdrom), a network boot (--pxe), user-mode networking (--network
user) and an OS from libosinfo (--osinfo debian11): each VM is created,
runs, and its live definition and QEMU command line are what was asked."""
import os
import re
import shutil
import xml.etree.ElementTree as ET

from vrt_fixtures import require, run, virsh

VIRT_INSTALL = shutil.which("virt-install")
OSINFO_NS = "{http://libosinfo.org/xmlns/libvirt/domain/1.0}"


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def install(vrtd, name, *args):
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    # --wait 0: virt-install returns once the install has started.
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", name, "--memory", "128", "--vcpus", "1",
             "--noautoconsole", "--graphics", "none", "--wait", "0", "--disk", "none"] + list(args),
            check=False, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", name).stdout.strip() == "running"
    return ET.fromstring(virsh(vrtd.uri, "dumpxml", name).stdout)


def test_cdrom_install(vrtd, tmproot):
    iso = os.path.join(tmproot, "install.iso")
    with open(iso, "wb") as f:
        f.write(b"\0" * (1 << 20))
    live = install(vrtd, "vc1", "--osinfo", "detect=off,require=off", "--cdrom", iso, "--network", "none")
    cdroms = live.findall("devices/disk[@device='cdrom']")
    assert len(cdroms) == 1
    assert cdroms[0].find("source").get("file") == iso
    assert cdroms[0].find("readonly") is not None
    boots = [b.get("dev") for b in live.findall("os/boot")]
    assert boots[0] == "cdrom", boots
    argv = qemu_argv(vrtd.root, "vc1")
    assert any(iso in a for a in argv), argv


def test_pxe_install_with_user_network(vrtd):
    live = install(vrtd, "vp1", "--osinfo", "detect=off,require=off", "--pxe", "--network", "user")
    assert [b.get("dev") for b in live.findall("os/boot")] == ["network"]
    nets = live.findall("devices/interface")
    assert [n.get("type") for n in nets] == ["user"]
    mac = nets[0].find("mac").get("address")
    argv = " ".join(qemu_argv(vrtd.root, "vp1"))
    assert re.search(r'"type":"user"|\buser,id=', argv), argv
    assert mac in argv


def test_import_with_user_network(vrtd):
    live = install(vrtd, "vu1", "--osinfo", "detect=off,require=off", "--import", "--network", "user")
    assert [b.get("dev") for b in live.findall("os/boot")] == ["hd"]
    assert [n.get("type") for n in live.findall("devices/interface")] == ["user"]
    virsh(vrtd.uri, "destroy", "vu1")
    virsh(vrtd.uri, "undefine", "vu1")
    assert "vu1" not in virsh(vrtd.uri, "list", "--all", "--name").stdout.split()


def test_osinfo_debian11(vrtd):
    live = install(vrtd, "vd1", "--osinfo", "debian11", "--import", "--network", "none")
    os_el = live.find(f"metadata/{OSINFO_NS}libosinfo/{OSINFO_NS}os")
    assert os_el is not None and os_el.get("id") == "http://debian.org/debian/11"
    # libosinfo's debian11 takes q35 with PCIe root ports and the agent's channel.
    assert live.find("os/type").get("machine").startswith("pc-q35-")
    assert live.findall("devices/controller[@model='pcie-root-port']")
    assert live.find("devices/channel/target[@name='org.qemu.guest_agent.0']") is not None
    # The definition keeps the OS for the next start.
    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "vd1").stdout)
    assert inactive.find(f"metadata/{OSINFO_NS}libosinfo/{OSINFO_NS}os").get("id") == "http://debian.org/debian/11"

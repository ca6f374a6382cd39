"""virt-install (Debian's virtinst) creating a VM through vrtd with its
defaults: it reads the capabilities and domain capabilities, writes the
i440FX USB2 set (ich9-ehci1 with its three ich9-uhci companions) and a guest
agent channel without a socket path, and the VM must run."""
import os
import re
import shutil
import xml.etree.ElementTree as ET

from vrt_fixtures import require, run, virsh

VIRT_INSTALL = shutil.which("virt-install")


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def test_virt_install_import_runs(vrtd):
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", "vi1", "--memory", "128", "--vcpus", "1",
             "--osinfo", "detect=off,require=off", "--disk", "none", "--import", "--noautoconsole",
             "--graphics", "none", "--network", "none",
             "--channel", "unix,target.type=virtio,target.name=org.qemu.guest_agent.0"],
            check=False, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", "vi1").stdout.strip() == "running"

    live = ET.fromstring(virsh(vrtd.uri, "dumpxml", "vi1").stdout)
    # The machine virt-install took from the capabilities is one vrtd starts.
    assert live.find("os/type").get("machine").startswith("pc-i440fx-")
    usb = live.findall("devices/controller[@type='usb']")
    assert [c.get("model") for c in usb] == ["ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3"]
    assert {c.get("index") for c in usb} == {"0"}
    assert [c.find("master").get("startport") for c in usb[1:]] == ["0", "2", "4"]
    slots = {c.find("address").get("slot") for c in usb}
    assert len(slots) == 1
    assert [c.find("address").get("function") for c in usb] == ["0x7", "0x0", "0x1", "0x2"]

    # The agent channel got a socket in the domain's run directory.
    src = live.find("devices/channel[@type='unix']/source")
    assert src.get("mode") == "bind"
    path = src.get("path")
    assert path.startswith(os.path.join(vrtd.root, "run", "vrt", "qemu", "domain-"))
    assert path.endswith("/org.qemu.guest_agent.0")
    assert os.path.exists(path)
    # The definition keeps no path: the next start picks its own.
    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "vi1").stdout)
    assert inactive.find("devices/channel[@type='unix']/source") is None or \
        inactive.find("devices/channel[@type='unix']/source").get("path") is None

    argv = qemu_argv(vrtd.root, "vi1")
    uhci = [a for a in argv if '"ich9-usb-uhci' in a]
    assert len(uhci) == 3 and all('"masterbus":"usb.0"' in a for a in uhci), argv
    # QEMU binds it, or (run as libvirt-qemu) listens on the socket vrtd
    # bound there and passed.
    assert any(a.startswith("socket,id=charchannel0,path=" + path) or
               a.startswith("socket,id=charchannel0,fd=") for a in argv), argv

    virsh(vrtd.uri, "destroy", "vi1")
    assert not os.path.exists(os.path.dirname(path))
    virsh(vrtd.uri, "undefine", "vi1")


def test_virt_install_default_graphics_runs(vrtd):
    """With no --graphics virt-install adds what the domain capabilities
    offer: VNC with a VGA card and a USB tablet."""
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", "vi2", "--memory", "128",
             "--osinfo", "detect=off,require=off", "--disk", "none", "--import", "--noautoconsole",
             "--network", "none"], check=False, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", "vi2").stdout.strip() == "running"
    live = ET.fromstring(virsh(vrtd.uri, "dumpxml", "vi2").stdout)
    assert live.find("devices/graphics").get("type") == "vnc"
    assert int(live.find("devices/graphics").get("port")) >= 5900
    assert live.find("devices/input[@type='tablet']").get("bus") == "usb"
    virsh(vrtd.uri, "destroy", "vi2")
    virsh(vrtd.uri, "undefine", "vi2")

"""virtio-9p shares (<filesystem> with no driver or <driver type='path'>),
which QEMU serves itself: virt-install's --filesystem (a 9p share with
accessmode='mapped') defines and starts a domain, whose XML shows the share
as libvirt writes it and whose QEMU has a virtio-9p-pci device with the
share's tag on a local fsdev of that directory; a directory QEMU cannot open
fails the start with QEMU's words; attach and detach --config of a share.
(domcapabilities: test_tpm_virtiofs.py.)

The test guest's kernel (Debian's cloud kernel) has no 9p client, so the
guest does not mount the share here; QEMU opening the directory at start
(its fsdev fails without it) is what the host can see."""
import json
import os
import shutil
import xml.etree.ElementTree as ET

from vrt_fixtures import qom_get, require, run, virsh
from test_qemu_driver import qemu_pid, qemu_reaper  # noqa: F401 (fixture)

VIRT_INSTALL = shutil.which("virt-install")


def fsdev_arg(root, name):
    """QEMU's -fsdev argument, from its command line."""
    with open(f"/proc/{qemu_pid(root, name)}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    return argv[argv.index("-fsdev") + 1]


def test_virt_install_filesystem_share(vrtd, tmproot, qemu_reaper):  # noqa: F811
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    share = os.path.join(tmproot, "share")
    os.mkdir(share)
    with open(os.path.join(share, "hello.txt"), "w") as f:
        f.write("from the host\n")
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", "fs9", "--memory", "128",
             "--osinfo", "detect=off,require=off", "--disk", "none", "--import", "--noautoconsole",
             "--graphics", "none", "--network", "none", "--filesystem", f"{share},hostshare"],
            check=False, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", "fs9").stdout.strip() == "running"

    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "fs9").stdout)
    fs = inactive.find("devices/filesystem")
    assert fs.get("type") == "mount" and fs.get("accessmode") == "mapped"
    assert fs.find("source").get("dir") == share
    assert fs.find("target").get("dir") == "hostshare"
    assert fs.find("driver") is None  # virt-install gives none: 9p, as libvirt's default
    addr = fs.find("address")
    assert addr is not None and addr.get("type") == "pci"
    live = ET.fromstring(virsh(vrtd.uri, "dumpxml", "fs9").stdout)
    assert live.find("devices/filesystem/alias").get("name") == "fs0"

    # QEMU's device, its tag and its fsdev, at the address the XML gives
    assert qom_get(vrtd.uri, "fs9", "/machine/peripheral/fs0", "type") == "virtio-9p-pci"
    assert qom_get(vrtd.uri, "fs9", "/machine/peripheral/fs0/virtio-backend", "mount_tag") == "hostshare"
    assert qom_get(vrtd.uri, "fs9", "/machine/peripheral/fs0/virtio-backend", "fsdev") == "fsdev-fs0"
    assert fsdev_arg(tmproot, "fs9") == f"local,security_model=mapped,id=fsdev-fs0,path={share}"
    pci = json.loads(virsh(vrtd.uri, "qemu-monitor-command", "fs9", '{"execute":"query-pci"}').stdout)
    slots = [d["slot"] for bus in pci["return"] for d in bus["devices"] if d.get("qdev_id") == "fs0"]
    assert slots == [int(addr.get("slot"), 16)]
    virsh(vrtd.uri, "destroy", "fs9")
    virsh(vrtd.uri, "undefine", "fs9")


def share_xml(name, src, extra="", uuid=""):
    uuid = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<domain type='qemu'><name>{name}</name>{uuid}<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            f"<filesystem type='mount' accessmode='squash'><source dir='{src}'/><target dir='t'/>{extra}"
            "</filesystem><memballoon model='none'/></devices></domain>")


def test_share_qemu_cannot_open_fails_the_start(vrtd, tmproot, qemu_reaper):  # noqa: F811
    path = os.path.join(tmproot, "s1.xml")
    missing = os.path.join(tmproot, "no-such-dir")
    with open(path, "w") as f:
        f.write(share_xml("s1", missing))
    virsh(vrtd.uri, "define", path)
    r = virsh(vrtd.uri, "start", "s1", check=False)
    assert r.returncode != 0
    assert f"failed to open '{missing}'" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", "s1").stdout.strip() == "shut off"
    # made read-only, a share of a directory that is there starts
    os.mkdir(missing)
    uuid = virsh(vrtd.uri, "domuuid", "s1").stdout.strip()
    with open(path, "w") as f:
        f.write(share_xml("s1", missing, "<readonly/>", uuid))
    virsh(vrtd.uri, "define", path)
    virsh(vrtd.uri, "start", "s1")
    assert qom_get(vrtd.uri, "s1", "/machine/peripheral/fs0", "type") == "virtio-9p-pci"
    assert fsdev_arg(tmproot, "s1") == f"local,security_model=none,id=fsdev-fs0,path={missing},readonly=on"
    virsh(vrtd.uri, "destroy", "s1")



def test_attach_and_detach_in_the_persistent_definition(vrtd, tmproot, qemu_reaper):  # noqa: F811
    """virt-manager's Add Hardware > Filesystem on a shut-off VM: attach
    --config adds the share (a second one with its target is refused),
    the started domain has it; live attach and detach are refused as
    libvirt refuses them for 9p; detach --config removes it by its target."""
    share = os.path.join(tmproot, "cfg-share")
    os.mkdir(share)
    dom_path = os.path.join(tmproot, "c1.xml")
    with open(dom_path, "w") as f:
        f.write("<domain type='qemu'><name>c1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                "<memballoon model='none'/></devices></domain>")
    fs_path = os.path.join(tmproot, "fs.xml")
    with open(fs_path, "w") as f:
        f.write(f"<filesystem accessmode='mapped'><source dir='{share}'/><target dir='cfg'/></filesystem>")
    virsh(vrtd.uri, "define", dom_path)
    virsh(vrtd.uri, "attach-device", "c1", fs_path, "--config")
    r = virsh(vrtd.uri, "attach-device", "c1", fs_path, "--config", check=False)
    assert r.returncode != 0 and "Target already exists" in r.stderr, r.stderr
    fs = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "c1").stdout).findall("devices/filesystem")
    assert len(fs) == 1 and fs[0].find("target").get("dir") == "cfg"
    virsh(vrtd.uri, "start", "c1")
    assert qom_get(vrtd.uri, "c1", "/machine/peripheral/fs0/virtio-backend", "mount_tag") == "cfg"
    r = virsh(vrtd.uri, "attach-device", "c1", fs_path, "--live", check=False)
    assert r.returncode != 0 and "only virtiofs filesystems can be hotplugged" in r.stderr, r.stderr
    r = virsh(vrtd.uri, "detach-device", "c1", fs_path, "--live", check=False)
    assert r.returncode != 0 and "not supported" in r.stderr, r.stderr
    virsh(vrtd.uri, "destroy", "c1")
    virsh(vrtd.uri, "detach-device", "c1", fs_path, "--config")
    assert ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "c1").stdout).find("devices/filesystem") is None
    r = virsh(vrtd.uri, "detach-device", "c1", fs_path, "--config", check=False)
    assert r.returncode != 0 and "no matching filesystem device was found" in r.stderr, r.stderr

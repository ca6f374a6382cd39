"""A disk's <source startupPolicy=> and USB disks on a real QEMU (TCG, no guest).

startupPolicy='optional' lets a cold boot go on without a missing source
(libvirt 9.0's qemuDomainCheckDiskStartupPolicy): a cdrom starts empty
and loses its policy in the live XML, a plain disk is left out of the
running domain; without a policy the start fails. A disk on bus usb is
QEMU's usb-storage on a port of the USB controller, removable as
<target removable=> says.
"""
import json
import os

import pytest

from vrt_fixtures import import_required, kill_vms_under, run

libvirt = import_required("libvirt", "python3-libvirt is not installed")
libvirt_qemu = import_required("libvirt_qemu", "python3-libvirt is not installed")


def domain_xml(name, disks):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{disks}<controller type='usb' index='0' model='qemu-xhci'/>"
            "<memballoon model='none'/></devices></domain>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


@pytest.fixture
def image(tmproot):
    p = os.path.join(tmproot, "usb.img")
    run(["qemu-img", "create", "-q", "-f", "raw", p, "8M"])
    os.chmod(p, 0o666)
    os.chmod(tmproot, 0o755)
    return p


def qmp(dom, cmd, **args):
    reply = libvirt_qemu.qemuMonitorCommand(dom, json.dumps({"execute": cmd, "arguments": args}), 0)
    return json.loads(reply)["return"]


def test_optional_missing_sources_dropped(conn, image, tmproot):
    gone = os.path.join(tmproot, "gone.iso")
    xml = domain_xml("startup-optional",
                     f"<disk type='file' device='disk'><source file='{image}'/><target dev='vda' bus='virtio'/></disk>"
                     f"<disk type='file' device='cdrom'><source file='{gone}' startupPolicy='optional'/>"
                     "<target dev='hdc' bus='ide'/><readonly/></disk>"
                     f"<disk type='file' device='disk'><source file='{gone}' startupPolicy='optional'/>"
                     "<target dev='vdb' bus='virtio'/></disk>")
    dom = conn.defineXML(xml)
    assert f"<source file='{gone}' startupPolicy='optional'/>" in dom.XMLDesc(0)
    dom.create()
    live = dom.XMLDesc(0)
    assert "vdb" not in live
    assert gone not in live and "<target dev='hdc' bus='ide'/>" in live
    qdevs = {b["qdev"]: b for b in qmp(dom, "query-block")}
    assert "ide0-1-0" in qdevs and "inserted" not in qdevs["ide0-1-0"]
    assert not any("virtio-disk1" in q for q in qdevs)
    # the persistent definition keeps both
    assert f"<source file='{gone}' startupPolicy='optional'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    dom.undefine()


def test_missing_source_without_policy_fails(conn, image, tmproot):
    gone = os.path.join(tmproot, "gone.img")
    xml = domain_xml("startup-mandatory",
                     f"<disk type='file' device='disk'><source file='{gone}' startupPolicy='mandatory'/>"
                     "<target dev='vda' bus='virtio'/></disk>")
    with pytest.raises(libvirt.libvirtError):
        conn.createXML(xml, 0)


def test_network_disk_policy_refused(conn):
    xml = domain_xml("startup-net",
                     "<disk type='network' device='disk'><source protocol='nbd' name='x' startupPolicy='optional'>"
                     "<host name='example.org' port='10809'/></source><target dev='vda' bus='virtio'/></disk>")
    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML(xml)
    assert "disk startupPolicy 'optional' is not allowed for disk of 'network' type" in e.value.get_error_message()


def test_usb_disk_reaches_qemu(conn, image):
    xml = domain_xml("usbdisk",
                     f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>"
                     "<target dev='sda' bus='usb' removable='on'/></disk>")
    dom = conn.createXML(xml, 0)
    assert "<target dev='sda' bus='usb' removable='on'/>" in dom.XMLDesc(0)
    assert "<address type='usb' bus='0' port='1'/>" in dom.XMLDesc(0)
    assert qmp(dom, "qom-get", path="/machine/peripheral/usb-disk0", property="removable") is True
    assert qmp(dom, "qom-get", path="/machine/peripheral/usb-disk0", property="port") == "1"
    qdevs = [b["qdev"] for b in qmp(dom, "query-block") if b.get("inserted")]
    assert any("usb-disk0" in q for q in qdevs)
    dom.destroy()

"""mdev, scsi_host (vhost-scsi) and scsi hostdevs: defined and written back as
libvirt 9 writes them (managed='no', a PCI slot or a drive address), and a start on a host
without the device is refused with libvirt's error, leaving the domain
shut off."""
import os
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import virsh

UUID = "53764d0e-85a0-42b4-af5c-2046b460b1dc"


def define(uri, tmp_path, name, hostdev):
    path = tmp_path / "dom.xml"
    path.write_text(f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>{hostdev}<memballoon model='none'/></devices>
</domain>""")
    virsh(uri, "define", str(path))
    return ET.fromstring(virsh(uri, "dumpxml", "--inactive", name).stdout).find("devices/hostdev")


@pytest.mark.skipif(os.path.exists(f"/sys/bus/mdev/devices/{UUID}"), reason="this host has the mdev")
def test_missing_mdev_refused_at_start(vrtd, tmp_path):
    h = define(vrtd.uri, tmp_path, "mdev", f"""<hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='{UUID}'/></source></hostdev>""")
    assert h.attrib == {"mode": "subsystem", "type": "mdev", "managed": "no", "model": "vfio-pci"}
    assert h.find("source/address").get("uuid") == UUID
    assert h.find("address").attrib == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x02",
                                        "function": "0x0"}
    r = virsh(vrtd.uri, "start", "mdev", check=False)
    assert r.returncode != 0
    assert f"mediated device '{UUID}' not found" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", "mdev").stdout.strip() == "shut off"
    virsh(vrtd.uri, "undefine", "mdev")


@pytest.mark.skipif(os.path.exists("/dev/vhost-scsi"), reason="this host has /dev/vhost-scsi")
def test_vhost_scsi_refused_without_the_device(vrtd, tmp_path):
    h = define(vrtd.uri, tmp_path, "vscsi", """<hostdev mode='subsystem' type='scsi_host'>
      <source protocol='vhost' wwpn='naa.5123456789abcde0'/></hostdev>""")
    assert h.get("managed") == "no"
    assert h.find("source").attrib == {"protocol": "vhost", "wwpn": "naa.5123456789abcde0"}
    r = virsh(vrtd.uri, "start", "vscsi", check=False)
    assert r.returncode != 0
    assert "vhost-scsi device file '/dev/vhost-scsi' cannot be found" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", "vscsi").stdout.strip() == "shut off"
    virsh(vrtd.uri, "undefine", "vscsi")


def test_bad_wwpn_refused_at_define(vrtd, tmp_path):
    path = tmp_path / "dom.xml"
    path.write_text("""<domain type='qemu'><name>badwwpn</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.xyz'/></hostdev></devices>
</domain>""")
    r = virsh(vrtd.uri, "define", str(path), check=False)
    assert r.returncode != 0 and "malformed 'wwpn' value" in r.stderr, r.stderr


SCSI_LUN = "/sys/bus/scsi/devices/99:0:0:5/scsi_generic"


@pytest.mark.skipif(os.path.exists(SCSI_LUN), reason="this host has the SCSI LUN")
def test_scsi_hostdev_gets_libvirts_address_and_missing_lun_refused(vrtd, tmp_path):
    h = define(vrtd.uri, tmp_path, "scsihd", """<hostdev mode='subsystem' type='scsi'>
      <source><adapter name='scsi_host99'/><address bus='0' target='0' unit='5'/></source><readonly/></hostdev>""")
    # the first free unit of controller 0, which libvirt's define adds
    assert h.find("address").attrib == {"type": "drive", "controller": "0", "bus": "0", "target": "0", "unit": "0"}
    assert h.find("readonly") is not None and h.get("managed") == "no"
    dom = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "scsihd").stdout)
    assert [c.get("model") for c in dom.iter("controller") if c.get("type") == "scsi"] == ["virtio-scsi"]
    r = virsh(vrtd.uri, "start", "scsihd", check=False)
    assert r.returncode != 0
    assert f"cannot open directory '{SCSI_LUN}'" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", "scsihd").stdout.strip() == "shut off"
    virsh(vrtd.uri, "undefine", "scsihd")

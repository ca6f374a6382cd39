"""USB hubs, parallel ports and vsock applied, not only parsed: a domain
with hubs and USB mice starts under TCG with the usb-hub devices and the
port paths libvirt 9 assigns (QEMU's own tree shows them on those ports),
a parallel port is QEMU's isa-parallel on its chardev, and a vsock the
host cannot give (no /dev/vhost-vsock) is refused at start by name."""
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import virsh


def qemu_devices(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    return {d.get("id"): d for d in (json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device")}


def define(uri, tmp_path, xml):
    path = tmp_path / "dom.xml"
    path.write_text(xml)
    virsh(uri, "define", str(path))
    return ET.fromstring(xml).find("name").text


HUB_XML = """<domain type='qemu'><name>hubs</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <hub type='usb'><address type='usb' bus='0' port='1'/></hub>
    <input type='mouse' bus='usb'/>
    <hub type='usb'/>
    <input type='tablet' bus='usb'/>
    <parallel type='null'><target port='0'/></parallel>
  </devices>
</domain>"""


def test_hubs_and_parallel_reach_qemu(vrtd, tmp_path):
    name = define(vrtd.uri, tmp_path, HUB_XML)
    # ports as libvirt assigns them: the second hub on the free root port,
    # the mice on the first hub's ports
    dom = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout)
    assert [h.find("address").get("port") for h in dom.iter("hub")] == ["1", "2"]
    assert [i.find("address").get("port") for i in dom.iter("input") if i.get("bus") == "usb"] == ["1.1", "1.2"]
    virsh(vrtd.uri, "start", name)
    devs = qemu_devices(vrtd.root, name)
    assert devs["hub0"] == {"driver": "usb-hub", "id": "hub0", "bus": "usb.0", "port": "1"}
    assert devs["hub1"]["port"] == "2"
    assert devs["input0"]["port"] == "1.1" and devs["input1"]["port"] == "1.2"
    assert devs["parallel0"] == {"driver": "isa-parallel", "chardev": "charparallel0", "id": "parallel0"}
    tree = virsh(vrtd.uri, "qemu-monitor-command", name, "--hmp", "info qtree").stdout
    assert tree.count("dev: usb-hub") == 2 and "dev: isa-parallel" in tree
    assert re.search(r'dev: usb-mouse, id "input0"\n(\s+\S.*\n)*?\s+port = "1\.1"', tree)
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)


def test_missing_hub_refused_as_libvirt(vrtd, tmp_path):
    xml = HUB_XML.replace("<input type='mouse' bus='usb'/>",
                          "<input type='mouse' bus='usb'><address type='usb' bus='0' port='2.1'/></input>")
    path = tmp_path / "dom.xml"
    path.write_text(xml)
    r = virsh(vrtd.uri, "define", str(path), check=False)
    assert r.returncode != 0
    assert "there is no hub at port 2 in USB address bus: 0 port: 2.1" in r.stderr


@pytest.mark.skipif(os.path.exists("/dev/vhost-vsock"), reason="this host has /dev/vhost-vsock")
def test_vsock_refused_at_start_by_name(vrtd, tmp_path):
    xml = """<domain type='qemu'><name>vsock</name><memory unit='MiB'>64</memory>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <devices><vsock model='virtio'><cid auto='no' address='4'/></vsock></devices></domain>"""
    name = define(vrtd.uri, tmp_path, xml)
    r = virsh(vrtd.uri, "start", name, check=False)
    assert r.returncode != 0
    assert "vsock is not supported on this host" in r.stderr
    assert virsh(vrtd.uri, "domstate", name).stdout.strip() == "shut off"
    assert "<cid auto='no' address='4'/>" in virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    virsh(vrtd.uri, "undefine", name)

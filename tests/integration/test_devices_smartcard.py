"""Smartcards applied, not only parsed: a passthrough smartcard starts as
QEMU's usb-ccid reader (ccid0, on the USB port libvirt 9 assigns) holding
a ccid-card-passthru card on its chardev, which QEMU's own device tree
shows; a host-certificates card whose NSS database does not exist fails
the start with QEMU's error, at once, and leaves the domain shut off."""
import json
import os
import re
import socket
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def domain_xml(name, smartcard):
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <controller type='usb' index='0' model='piix3-uhci'/>
    {smartcard}
  </devices>
</domain>"""


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_passthrough_smartcard_reaches_qemu(vrtd, tmp_path, kind):
    port = free_port()
    sock = tmp_path / "card.sock"
    source = (f"<source mode='bind' host='127.0.0.1' service='{port}'/>" if kind == "tcp"
              else f"<source mode='bind' path='{sock}'/>")
    name = define(vrtd.uri, tmp_path, domain_xml("sc-pass", f"""<smartcard mode='passthrough' type='{kind}'>
      {source}<protocol type='raw'/></smartcard>"""))
    dom = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout)
    # libvirt's define adds the reader on the first USB port and the slot
    ccid = [c for c in dom.iter("controller") if c.get("type") == "ccid"]
    assert len(ccid) == 1 and ccid[0].find("address").attrib == {"type": "usb", "bus": "0", "port": "1"}
    assert dom.find("devices/smartcard/address").attrib == {"type": "ccid", "controller": "0", "slot": "0"}
    virsh(vrtd.uri, "start", name)
    try:
        devs = qemu_devices(vrtd.root, name)
        assert devs["ccid0"] == {"driver": "usb-ccid", "id": "ccid0", "bus": "usb.0", "port": "1"}
        assert devs["smartcard0"] == {"driver": "ccid-card-passthru", "chardev": "charsmartcard0",
                                      "id": "smartcard0", "bus": "ccid0.0"}
        tree = virsh(vrtd.uri, "qemu-monitor-command", name, "--hmp", "info qtree").stdout
        assert re.search(r'dev: usb-ccid, id "ccid0"\n(\s+\S.*\n)*?\s+port = "1"', tree)
        assert re.search(r'dev: ccid-card-passthru, id "smartcard0"\n(\s+\S.*\n)*?\s+chardev = "charsmartcard0"',
                         tree)
        # QEMU listens on the card's socket, where a remote card connects
        if kind == "tcp":
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        else:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(str(sock))
    finally:
        virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)


def test_host_certificates_without_database_fails_with_qemus_error(vrtd, tmp_path):
    db = tmp_path / "no-such-nssdb"
    name = define(vrtd.uri, tmp_path, domain_xml("sc-certs", f"""<smartcard mode='host-certificates'>
      <certificate>cert1</certificate><certificate>cert2</certificate><certificate>cert3</certificate>
      <database>{db}</database></smartcard>"""))
    r = virsh(vrtd.uri, "start", name, check=False, timeout=60)
    assert r.returncode != 0
    # QEMU's own refusal of the card, passed on to the user
    assert "ccid-card-emulated: failed to initialize vcard" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", name).stdout.strip() == "shut off"
    virsh(vrtd.uri, "undefine", name)

"""The firmware features of <os> honoured at start: a domain asking for
Secure Boot with enrolled keys boots Debian's Secure Boot OVMF build with
SMM on and writes to its variable store restricted to SMM, as libvirt
starts it; a domain refusing Secure Boot gets the plain build; <genid>
reaches QEMU as the vmgenid device."""
import os
import xml.etree.ElementTree as ET

from test_domain_elems import define_start, json_args, qemu_argv
from vrt_fixtures import require, virsh

SECURE_DESCRIPTOR = "/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json"
SECURE_CODE = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
PLAIN_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"

XML = """<domain type='qemu'>
  <name>{name}</name>
  <genid>e9392370-2917-565e-692b-d057f46512d6</genid>
  <memory unit='MiB'>128</memory>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>
    <firmware><feature enabled='{on}' name='{feature}'/></firmware>
  </os>
  <features><acpi/></features>
</domain>
"""


def test_secure_boot_feature_starts_the_smm_build(vrtd, tmp_path):
    require(os.path.exists(SECURE_DESCRIPTOR), "Debian's ovmf is not installed")
    define_start(vrtd.uri, tmp_path, XML.format(name="sb", on="yes", feature="enrolled-keys"))
    argv = qemu_argv(vrtd.root, "sb")
    nodes = {n["node-name"]: n for n in json_args(argv, "-blockdev")}
    assert nodes["vrt-pflash0-storage"]["filename"] == SECURE_CODE
    machine = argv[argv.index("-machine") + 1]
    assert "smm=on" in machine.split(",")
    assert "driver=cfi.pflash01,property=secure,value=on" in argv
    devices = json_args(argv, "-device")
    assert {"driver": "vmgenid", "guid": "e9392370-2917-565e-692b-d057f46512d6", "id": "vmgenid0"} in devices
    live = ET.fromstring(virsh(vrtd.uri, "dumpxml", "sb").stdout)
    assert live.find("os/loader").get("secure") == "yes"
    assert live.find("features/smm").get("state") == "on"
    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "sb").stdout)
    feats = {f.get("name"): f.get("enabled") for f in inactive.findall("os/firmware/feature")}
    assert feats == {"enrolled-keys": "yes", "secure-boot": "yes"}
    virsh(vrtd.uri, "destroy", "sb")
    virsh(vrtd.uri, "undefine", "sb", "--nvram")


def test_no_secure_boot_feature_starts_the_plain_build(vrtd, tmp_path):
    require(os.path.exists(SECURE_DESCRIPTOR), "Debian's ovmf is not installed")
    define_start(vrtd.uri, tmp_path, XML.format(name="nosb", on="no", feature="secure-boot"))
    argv = qemu_argv(vrtd.root, "nosb")
    nodes = {n["node-name"]: n for n in json_args(argv, "-blockdev")}
    assert nodes["vrt-pflash0-storage"]["filename"] == PLAIN_CODE
    assert "driver=cfi.pflash01,property=secure,value=on" not in argv
    virsh(vrtd.uri, "destroy", "nosb")
    virsh(vrtd.uri, "undefine", "nosb", "--nvram")


SEV_XML = """<domain type='qemu'>
  <name>sev</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <launchSecurity type='sev' kernelHashes='yes'>
    <cbitpos>47</cbitpos>
    <reducedPhysBits>1</reducedPhysBits>
    <policy>0x1</policy>
    <session>IHAVENOIDEA</session>
  </launchSecurity>
</domain>
"""


def test_launch_security_is_kept_and_its_start_refused_by_name(vrtd, tmp_path):
    path = tmp_path / "sev.xml"
    path.write_text(SEV_XML)
    virsh(vrtd.uri, "define", str(path))
    sec = ET.fromstring(virsh(vrtd.uri, "dumpxml", "sev").stdout).find("launchSecurity")
    assert sec.attrib == {"type": "sev", "kernelHashes": "yes"}
    assert [(e.tag, e.text) for e in sec] == [("cbitpos", "47"), ("reducedPhysBits", "1"),
                                              ("policy", "0x0001"), ("session", "IHAVENOIDEA")]
    p = virsh(vrtd.uri, "start", "sev", check=False)
    assert p.returncode != 0 and "SEV launch security is not supported" in p.stderr
    virsh(vrtd.uri, "undefine", "sev")

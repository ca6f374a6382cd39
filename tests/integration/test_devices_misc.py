"""Sound cards and panic devices applied, not only parsed: a domain with
them starts under TCG with the devices libvirt 9 gives QEMU 7.2 (QEMU's
own tree lists them), and what QEMU here cannot run (an audio backend
whose module is not installed, the SDL display, the PC speaker) is refused
at start by name, the definition kept as written."""
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import virsh


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def devices(argv):
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]


def define(uri, tmp_path, xml):
    path = tmp_path / "dom.xml"
    path.write_text(xml)
    virsh(uri, "define", str(path))
    return ET.fromstring(xml).find("name").text


SOUND_XML = """<domain type='qemu'><name>sound</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <sound model='ich9'><codec type='micro'/><codec type='output'/></sound>
    <sound model='ac97'/>
    <sound model='usb'/>
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
  </devices>
</domain>"""


def test_sound_and_panic_reach_qemu(vrtd, tmp_path):
    name = define(vrtd.uri, tmp_path, SOUND_XML)
    virsh(vrtd.uri, "start", name)
    argv = qemu_argv(vrtd.root, name)
    devs = {d.get("id", d["driver"]): d for d in devices(argv)}
    assert devs["sound0"]["driver"] == "ich9-intel-hda"
    assert devs["sound0-codec0"] == {"driver": "hda-micro", "id": "sound0-codec0", "bus": "sound0.0", "cad": 0,
                                     "audiodev": "audio1"}
    assert devs["sound0-codec1"]["driver"] == "hda-output"
    assert devs["sound1"]["driver"] == "AC97" and devs["sound1"]["audiodev"] == "audio1"
    assert devs["sound2"]["driver"] == "usb-audio" and devs["sound2"]["bus"] == "usb.0"
    assert devs["pvpanic"] == {"driver": "pvpanic", "ioport": 1285}
    # QEMU made them: its device tree as the monitor shows it
    tree = virsh(vrtd.uri, "qemu-monitor-command", name, "--hmp", "info qtree").stdout
    for model in ("ich9-intel-hda", "hda-micro", "hda-output", "AC97", "usb-audio", "pvpanic"):
        assert f"dev: {model}" in tree
    # addresses as libvirt assigns them: sound cards on PCI after the
    # interfaces, in their order
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    dom = ET.fromstring(inactive)
    slots = [s.find("address").get("slot") for s in dom.iter("sound") if s.get("model") != "usb"]
    assert slots == ["0x02", "0x03"]
    assert "<address type='isa' iobase='0x505'/>" in inactive
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)


def module_installed(name):
    return os.path.exists(os.path.join("/usr/lib/x86_64-linux-gnu/qemu", name))


@pytest.mark.parametrize("devices_xml,words", [
    ("<audio id='1' type='pulseaudio'/>", "audio type 'pulseaudio'"),
    ("<graphics type='sdl'/>", "graphics type 'sdl'"),
    ("<sound model='pcspk'/>", "'pcspk'"),
])
def test_refused_at_start_by_name(vrtd, tmp_path, devices_xml, words):
    if "pulseaudio" in devices_xml and module_installed("audio-pa.so"):
        pytest.skip("QEMU's pulseaudio module is installed here")
    xml = f"""<domain type='qemu'><name>refused</name><memory unit='MiB'>64</memory>
      <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices_xml}</devices></domain>"""
    name = define(vrtd.uri, tmp_path, xml)
    r = virsh(vrtd.uri, "start", name, check=False)
    assert r.returncode != 0
    assert words in r.stderr
    assert virsh(vrtd.uri, "domstate", name).stdout.strip() == "shut off"
    assert devices_xml.replace("/>", "") in virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    virsh(vrtd.uri, "undefine", name)

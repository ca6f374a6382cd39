"""Floppy disks on the floppy controller, as libvirt passes them to QEMU
(its qemuxml2argvdata disk-floppy, boot-floppy, disk-floppy-q35): each
drive a 'floppy' device of its unit on pc's built-in controller, whose
boot order goes to it with -global isa-fdc.bootindexA/B; q35 gets an
isa-fdc device carrying it. An empty drive has no medium. QEMU's own
view (query-block) shows the image in the drive."""
import json
import os
import re
import xml.etree.ElementTree as ET

from vrt_fixtures import run, virsh


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def json_args(argv, option):
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
            if a == option and argv[i + 1].startswith("{")]


def xml(name, machine, img):
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
      <os><type arch='x86_64' machine='{machine}'>hvm</type></os>
      <devices>
        <disk type='file' device='floppy'>
          <source file='{img}'/><target dev='fda'/><boot order='1'/>
        </disk>
        <disk type='file' device='floppy'><target dev='fdb' bus='fdc'/></disk>
      </devices></domain>"""


def start(uri, tmp_path, name, machine, img):
    path = tmp_path / f"{name}.xml"
    path.write_text(xml(name, machine, img))
    virsh(uri, "define", str(path))
    virsh(uri, "start", name)


def floppy_media(uri, name):
    out = virsh(uri, "qemu-monitor-command", name, '{"execute":"query-block"}').stdout
    return {b.get("qdev", ""): b.get("inserted", {}).get("file") for b in json.loads(out)["return"]}


def test_floppies_on_pc(vrtd, tmp_path):
    img = tmp_path / "fd.img"
    run(["qemu-img", "create", "-f", "raw", str(img), "1440K"])
    start(vrtd.uri, tmp_path, "fdpc", "pc", img)
    argv = qemu_argv(vrtd.root, "fdpc")
    devs = {d["id"]: d for d in json_args(argv, "-device") if "id" in d}
    assert {k: devs["fdc0-0-0"][k] for k in ("driver", "unit")} == {"driver": "floppy", "unit": 0}
    assert "bootindex" not in devs["fdc0-0-0"]
    assert devs["fdc0-0-1"] == {"driver": "floppy", "unit": 1, "id": "fdc0-0-1"}
    assert "isa-fdc.bootindexA=1" in [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-global"]
    assert not [d for d in json_args(argv, "-device") if d["driver"] == "isa-fdc"]  # pc's own
    media = floppy_media(vrtd.uri, "fdpc")
    assert [f for q, f in media.items() if "fdc0-0-0" in q] == [str(img)]
    assert [f for q, f in media.items() if "fdc0-0-1" in q] == [None]

    dom = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "fdpc").stdout)
    fda = dom.find("devices/disk[@device='floppy']")
    assert fda.find("target").attrib == {"dev": "fda", "bus": "fdc"}
    assert fda.find("address").attrib == {"type": "drive", "controller": "0", "bus": "0", "target": "0",
                                          "unit": "0"}
    assert dom.find("devices/disk[@device='floppy'][2]/address").get("unit") == "1"
    assert dom.find("devices/controller[@type='fdc']").attrib == {"type": "fdc", "index": "0"}
    virsh(vrtd.uri, "destroy", "fdpc")
    virsh(vrtd.uri, "undefine", "fdpc")


def test_floppy_on_q35_gets_an_isa_fdc(vrtd, tmp_path):
    img = tmp_path / "fd.img"
    run(["qemu-img", "create", "-f", "raw", str(img), "1440K"])
    start(vrtd.uri, tmp_path, "fdq35", "q35", img)
    argv = qemu_argv(vrtd.root, "fdq35")
    assert [d for d in json_args(argv, "-device") if d["driver"] == "isa-fdc"] == [
        {"driver": "isa-fdc", "bootindexA": 1}]
    media = floppy_media(vrtd.uri, "fdq35")
    assert [f for q, f in media.items() if "fdc0-0-0" in q] == [str(img)]
    virsh(vrtd.uri, "destroy", "fdq35")
    virsh(vrtd.uri, "undefine", "fdq35")


def test_floppy_refusals(vrtd, tmp_path):
    cases = [("<disk type='file' device='floppy'><source file='/x'/><target dev='fda' bus='ide'/></disk>",
              "Invalid bus type 'ide' for floppy disk"),
             ("<disk type='file' device='disk'><source file='/x'/><target dev='fda'/></disk>",
              "Invalid bus type 'fdc' for disk"),
             ("<disk type='file' device='floppy'><source file='/x'/><target dev='fdc'/></disk>",
              "Only 1 fdc controller is supported")]
    for dev, msg in cases:
        path = tmp_path / "bad.xml"
        path.write_text(f"<domain type='qemu'><name>bad</name><memory unit='MiB'>64</memory>"
                        f"<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{dev}</devices></domain>")
        p = virsh(vrtd.uri, "define", str(path), check=False)
        assert p.returncode != 0 and msg in p.stderr, p.stderr


def test_floppy_hotplug_refused_as_libvirt(vrtd, tmp_path):
    img = tmp_path / "fd.img"
    run(["qemu-img", "create", "-f", "raw", str(img), "1440K"])
    path = tmp_path / "d.xml"
    path.write_text("<domain type='qemu'><name>fdhp</name><memory unit='MiB'>64</memory>"
                    "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "fdhp")
    dev = tmp_path / "fd.xml"
    dev.write_text(f"<disk type='file' device='floppy'><source file='{img}'/><target dev='fda'/></disk>")
    p = virsh(vrtd.uri, "attach-device", "fdhp", str(dev), check=False)
    assert p.returncode != 0 and "cdrom and floppy device hotplug isn't supported" in p.stderr, p.stderr
    virsh(vrtd.uri, "destroy", "fdhp")
    virsh(vrtd.uri, "undefine", "fdhp")

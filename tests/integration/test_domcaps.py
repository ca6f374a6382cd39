"""Domain capabilities, CPU model names and the capabilities' machine list,
as virt-install and virt-manager read them: valid against libvirt's schema,
built from what the installed QEMU answers, and naming only what vrtd
starts (a client builds its domain from them)."""
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import import_required, require, run, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")

SCHEMA = "/usr/share/libvirt/schemas/domaincaps.rng"
EMULATOR = shutil.which("qemu-system-x86_64")


def kvm_opens():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def qemu_machines():
    """QEMU's default machine and the machine names -machine help lists."""
    out = run([EMULATOR, "-machine", "help"]).stdout
    names, default = [], None
    for line in out.splitlines()[1:]:
        name = line.split()[0]
        names.append(name)
        if "(default)" in line:
            default = name
    return default, names


def validates(tmp_path, xml):
    require(os.path.exists(SCHEMA), f"{SCHEMA} is missing (Debian package libvirt-daemon)")
    path = tmp_path / "domcaps.xml"
    path.write_text(xml)
    p = run(["xmllint", "--noout", "--relaxng", SCHEMA, str(path)], check=False)
    assert p.returncode == 0, p.stderr + xml


def test_virsh_domcapabilities_describe_what_vrtd_starts(vrtd, tmp_path):
    xml = virsh(vrtd.uri, "domcapabilities").stdout
    validates(tmp_path, xml)
    dc = ET.fromstring(xml)
    default, _ = qemu_machines()
    assert dc.findtext("path") == os.path.realpath(EMULATOR) or dc.findtext("path") == EMULATOR
    assert dc.findtext("domain") == ("kvm" if kvm_opens() else "qemu")
    assert dc.findtext("machine") == default
    assert dc.findtext("arch") == "x86_64"
    assert int(dc.find("vcpu").get("max")) >= 1
    # Only what the command line builds: VNC (no SPICE), PCI host devices.
    assert [v.text for v in dc.findall("devices/graphics/enum[@name='type']/value")] == ["vnc"]
    assert [v.text for v in dc.findall("devices/hostdev/enum[@name='subsysType']/value")] == ["pci"]
    assert "virtio" in [v.text for v in dc.findall("devices/disk/enum[@name='bus']/value")]
    assert "virtio" in [v.text for v in dc.findall("devices/video/enum[@name='modelType']/value")]
    # UEFI from Debian's ovmf (QEMU's firmware descriptors), else nothing to load
    ovmf = os.path.exists("/usr/share/qemu/firmware/60-edk2-x86_64.json")
    assert dc.find("os/loader").get("supported") == ("yes" if ovmf else "no")
    assert [v.text for v in dc.findall("os/enum[@name='firmware']/value")] == (["efi"] if ovmf else [])
    models = dc.findall("cpu/mode[@name='custom']/model")
    assert models and all(m.get("usable") in ("yes", "no") for m in models)
    names = [m.text for m in models]
    assert "qemu64" in names and "max" not in names and not any(re.search(r"-v\d+$", n) for n in names)

    # The machine it names is the one a domain without a machine gets.
    conn = libvirt.open(vrtd.uri)
    try:
        dom = conn.createXML(f"""<domain type='{dc.findtext("domain")}'><name>dc-default</name>
            <memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>
            <devices><memballoon model='none'/></devices></domain>""", 0)
        try:
            live = ET.fromstring(dom.XMLDesc(0))
            assert live.find("os/type").get("machine") == dc.findtext("machine")
        finally:
            dom.destroy()
    finally:
        conn.close()


def test_domcapabilities_for_a_machine_and_refusals(vrtd, tmp_path):
    _, names = qemu_machines()
    q35 = ET.fromstring(virsh(vrtd.uri, "domcapabilities", "--machine", "q35").stdout)
    assert q35.findtext("machine").startswith("pc-q35-")
    assert "ide" not in [v.text for v in q35.findall("devices/disk/enum[@name='bus']/value")]
    validates(tmp_path, ET.tostring(q35, encoding="unicode"))

    if "microvm" in names:
        p = virsh(vrtd.uri, "domcapabilities", "--machine", "microvm", check=False)
        assert p.returncode != 0
        assert "the machine 'microvm' is not supported by emulator" in p.stderr
    p = virsh(vrtd.uri, "domcapabilities", "--arch", "aarch64", check=False)
    assert p.returncode != 0 and "unable to find any emulator to serve 'aarch64' architecture" in p.stderr
    # a domain type libvirt knows asks for an accelerator QEMU lacks here
    p = virsh(vrtd.uri, "domcapabilities", "--virttype", "xen", check=False)
    assert p.returncode != 0 and "the accel 'tcg' is not supported by" in p.stderr
    p = virsh(vrtd.uri, "domcapabilities", "--virttype", "bogus", check=False)
    assert p.returncode != 0 and "unknown virttype: bogus" in p.stderr
    if not kvm_opens():
        p = virsh(vrtd.uri, "domcapabilities", "--virttype", "kvm", check=False)
        assert p.returncode != 0 and "the accel 'kvm' is not supported" in p.stderr
    tcg = ET.fromstring(virsh(vrtd.uri, "domcapabilities", "--virttype", "qemu").stdout)
    assert tcg.findtext("domain") == "qemu"

    # libvirt refuses it on a read-only connection.
    conn = libvirt.openReadOnly(vrtd.uri_ro)
    try:
        with pytest.raises(libvirt.libvirtError, match="read only access prevents"):
            conn.getDomainCapabilities()
    finally:
        conn.close()


def test_capabilities_list_only_machines_vrtd_starts_default_first(vrtd):
    default, names = qemu_machines()
    caps = ET.fromstring(virsh(vrtd.uri, "capabilities").stdout)
    arch = caps.find("guest/arch[@name='x86_64']")
    machines = [m.text for m in arch.findall("machine")]
    assert machines[0] == default
    assert "microvm" not in machines and "isapc" not in machines and "none" not in machines
    assert all(m in ("pc", "q35") or m.startswith(("pc-i440fx-", "pc-q35-")) for m in machines), machines
    # Every pc/q35 machine QEMU knows is there.
    assert set(machines) == {n for n in names if n in ("pc", "q35") or n.startswith(("pc-i440fx-", "pc-q35-"))}


def test_cpu_model_names_and_a_custom_model_runs(vrtd):
    # cpu-models lists libvirt's CPU map (what vrt's map holds), domcapabilities
    # what QEMU offers; every model QEMU offers that the map knows is listed
    out = virsh(vrtd.uri, "cpu-models", "x86_64").stdout.split()
    dc = ET.fromstring(virsh(vrtd.uri, "domcapabilities").stdout)
    models = dc.findall("cpu/mode[@name='custom']/model")
    assert out[:3] == ["486", "pentium", "pentium2"] and "Skylake-Client-IBRS" in out
    assert {"qemu64", "kvm64", "Westmere", "EPYC"} <= set(out) & {m.text for m in models}
    # s390's CPU driver lists no models, as libvirt's; mips has no CPU driver
    p = virsh(vrtd.uri, "cpu-models", "s390x", check=False)
    assert p.returncode == 0 and p.stdout.strip() == "", p.stderr
    p = virsh(vrtd.uri, "cpu-models", "mips", check=False)
    assert p.returncode != 0 and "'mips' architecture is not supported by CPU driver" in p.stderr

    usable = [m.text for m in models if m.get("usable") == "yes"]
    require(usable, "QEMU lists no usable CPU model here")
    model = usable[0]
    conn = libvirt.open(vrtd.uri)
    try:
        dom = conn.createXML(f"""<domain type='{dc.findtext("domain")}'><name>dc-cpu</name>
            <memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>
            <cpu mode='custom' match='exact'><model fallback='forbid'>{model}</model></cpu>
            <devices><memballoon model='none'/></devices></domain>""", 0)
        try:
            path = os.path.join(vrtd.root, "run", "vrt", "qemu", "dc-cpu.xml")
            pid = int(re.search(r"pid=['\"](\d+)['\"]", open(path).read()).group(1))
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
            assert argv[argv.index("-cpu") + 1] == model
        finally:
            dom.destroy()
    finally:
        conn.close()


def test_cpu_models_cached_on_disk_by_binary(tmproot):
    """QEMU is asked for its CPU models once per binary and accelerator; a
    restarted vrtd takes them from the cache beside the machine list."""
    from vrt_fixtures import Vrtd
    d = Vrtd(tmproot).start()
    try:
        dc = ET.fromstring(virsh(d.uri, "domcapabilities").stdout)
    finally:
        d.stop()
    accel = "kvm" if dc.findtext("domain") == "kvm" else "tcg"
    cache_dir = os.path.join(tmproot, "var", "lib", "vrt", "qemu", "capabilities")
    (entry,) = [e for e in os.listdir(cache_dir) if e.startswith(f"cpus2-{accel}-")]
    path = os.path.join(cache_dir, entry)
    key, body = open(path).read().split("\n", 1)
    assert "qemu64\t" in body and "\n=prop\t" in body
    # A model list only the cache has (one model, blocked) shows that the
    # restarted vrtd read it.
    with open(path, "w") as f:
        f.write(f"{key}\nWestmere\tIntel\t0\t0\taes\n")
    d = Vrtd(tmproot).start()
    try:
        dc = ET.fromstring(virsh(d.uri, "domcapabilities").stdout)
        assert [(m.text, m.get("vendor"), m.get("usable")) for m in dc.findall("cpu/mode[@name='custom']/model")] == \
            [("Westmere", "Intel", "no")]
    finally:
        d.stop()

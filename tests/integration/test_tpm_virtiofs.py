"""An emulated TPM (swtpm) and a virtio-fs share (virtiofsd) with real QEMU:
the helper runs with its domain and QEMU has the device; the helper is gone
after destroy, is found again by a vrtd restarted after kill -9 (and ended
with its domain then), and the TPM's state directory lives from the first
start to undefine, which removes it unless --keep-tpm."""
import json
import os
import re
import shutil
import signal

import pytest

from vrt_fixtures import Vrtd, needs, pid_alive, virsh, wait_for
from test_qemu_driver import domstate, kvm_usable, qemu_reaper  # noqa: F401 (fixture)

KIND = "kvm" if kvm_usable() else "qemu"


def tpm_xml(name):
    return (f"<domain type='{KIND}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
            "<devices><tpm model='tpm-crb'><backend type='emulator'/></tpm></devices></domain>")


def fs_xml(name, src, shared=True):
    mem = ("<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>" if shared else "")
    return (f"<domain type='{KIND}'><name>{name}</name><memory unit='MiB'>64</memory>{mem}<vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
            "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>"
            f"<source dir='{src}'/><target dir='share'/></filesystem></devices></domain>")


def define(uri, root, name, xml):
    path = os.path.join(root, f"{name}.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh(uri, "define", path)


def helpers(root, prog):
    """pids of the processes named prog whose command line names root."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == prog and any(root in a for a in argv) and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def uuid_of(uri, name):
    return virsh(uri, "domuuid", name).stdout.strip()


@needs(shutil.which("swtpm") and shutil.which("swtpm_setup"), "swtpm and swtpm-tools are not installed")
def test_tpm_emulator(tmproot, qemu_reaper):  # noqa: F811
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "t1", tpm_xml("t1"))
        xml = virsh(d.uri, "dumpxml", "--inactive", "t1").stdout
        assert "<backend type='emulator' version='2.0'/>" in xml
        uuid = uuid_of(d.uri, "t1")
        state = os.path.join(tmproot, "var", "lib", "vrt", "swtpm", uuid, "tpm2")
        assert not os.path.exists(state)

        virsh(d.uri, "start", "t1")
        assert domstate(d.uri, "t1") == "running (booted)"
        assert len(helpers(tmproot, "swtpm")) == 1
        assert os.listdir(state), "swtpm_setup made the TPM's state"
        out = json.loads(virsh(d.uri, "qemu-monitor-command", "t1", '{"execute":"query-tpm"}').stdout)
        assert [(t["id"], t["model"], t["options"]["type"]) for t in out["return"]] == [
            ("tpm-tpm0", "tpm-crb", "emulator")]
        assert "<alias name='tpm0'/>" in virsh(d.uri, "dumpxml", "t1").stdout

        # vrtd killed with -9: swtpm and QEMU run on, the next vrtd finds them
        swtpm = helpers(tmproot, "swtpm")
        d.stop(signal.SIGKILL)
        assert pid_alive(swtpm[0])
        d = Vrtd(tmproot).start()
        assert domstate(d.uri, "t1") == "running (booted)"
        assert helpers(tmproot, "swtpm") == swtpm
        virsh(d.uri, "destroy", "t1")
        wait_for(lambda: not helpers(tmproot, "swtpm"), what="swtpm's end")

        # the state is kept between runs: a second start reuses it
        ek = sorted(os.listdir(state))
        virsh(d.uri, "start", "t1")
        assert sorted(os.listdir(state)) == ek
        virsh(d.uri, "destroy", "t1")
        wait_for(lambda: not helpers(tmproot, "swtpm"), what="swtpm's end")

        virsh(d.uri, "undefine", "--keep-tpm", "t1")
        assert os.listdir(state)
        define(d.uri, tmproot, "t1", tpm_xml("t1").replace("<name>", f"<uuid>{uuid}</uuid><name>"))
        virsh(d.uri, "undefine", "t1")
        assert not os.path.exists(os.path.dirname(state))
    finally:
        d.stop()


@needs(shutil.which("swtpm"), "swtpm is not installed")
def test_swtpm_without_qemu_is_ended(tmproot, qemu_reaper):  # noqa: F811
    """A vrtd restarted after its domain's QEMU died finds the swtpm left
    without it and ends it."""
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "t2", tpm_xml("t2"))
        virsh(d.uri, "start", "t2")
        swtpm = helpers(tmproot, "swtpm")
        assert len(swtpm) == 1
        with open(os.path.join(tmproot, "run", "vrt", "qemu", "t2.xml")) as f:
            qpid = int(re.search(r"pid='(\d+)'", f.read()).group(1))
        d.stop(signal.SIGKILL)
        # swtpm --terminate would end by itself when QEMU's connection goes:
        # held stopped, it is still there when the next vrtd looks
        os.kill(swtpm[0], signal.SIGSTOP)
        os.kill(qpid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(qpid), what="QEMU's end")
        d = Vrtd(tmproot).start()
        assert domstate(d.uri, "t2").startswith("shut off")
        wait_for(lambda: not helpers(tmproot, "swtpm"), what="swtpm's end")
    finally:
        d.stop()


def test_passthrough_needs_the_device(tmproot, qemu_reaper):  # noqa: F811
    d = Vrtd(tmproot).start()
    try:
        xml = tpm_xml("t3").replace("<backend type='emulator'/>",
                                    f"<backend type='passthrough'><device path='{tmproot}/tpm0'/></backend>")
        define(d.uri, tmproot, "t3", xml)
        r = virsh(d.uri, "start", "t3", check=False)
        assert r.returncode != 0 and f"{tmproot}/tpm0" in r.stderr
    finally:
        d.stop()


def test_virtiofs_needs_shared_memory(tmproot, qemu_reaper):  # noqa: F811
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "f0", fs_xml("f0", tmproot, shared=False))
        r = virsh(d.uri, "start", "f0", check=False)
        assert r.returncode != 0 and "'virtiofs' requires shared memory" in r.stderr
    finally:
        d.stop()


VIRTIOFSD = "/usr/libexec/virtiofsd" if os.path.exists("/usr/libexec/virtiofsd") else "/usr/lib/qemu/virtiofsd"


@needs(os.path.exists(VIRTIOFSD), "virtiofsd is not installed")
def test_virtiofs(tmproot, qemu_reaper):  # noqa: F811
    share = os.path.join(tmproot, "share")
    os.mkdir(share)
    d = Vrtd(tmproot).start()
    try:
        define(d.uri, tmproot, "f1", fs_xml("f1", share))
        xml = virsh(d.uri, "dumpxml", "f1").stdout
        assert "<driver type='virtiofs'/>" in xml and f"<source dir='{share}'/>" in xml
        virsh(d.uri, "start", "f1")
        prog = os.path.basename(VIRTIOFSD)
        assert len(helpers(tmproot, prog)) >= 1
        out = json.loads(virsh(d.uri, "qemu-monitor-command", "f1",
                               '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/fs0",'
                               '"property":"type"}}').stdout)
        assert out["return"] == "vhost-user-fs-pci"
        virsh(d.uri, "destroy", "f1")
        wait_for(lambda: not helpers(tmproot, prog), what="virtiofsd's end")
    finally:
        d.stop()


def test_domcapabilities(vrtd):
    """virsh domcapabilities lists the TPM models and backends, virtio-9p
    and virtio-fs as libvirt 9.0 does (what vrt runs: no external backend,
    not the 'handle' driver QEMU removed)."""
    import xml.etree.ElementTree as ET
    caps = ET.fromstring(virsh(vrtd.uri, "domcapabilities", "--machine", "q35").stdout)
    tpm = caps.find("devices/tpm")
    assert tpm.get("supported") == "yes"
    enums = {e.get("name"): [v.text for v in e.findall("value")] for e in tpm.findall("enum")}
    assert enums["model"] == ["tpm-tis", "tpm-crb"]
    assert "passthrough" in enums["backendModel"]
    assert ("emulator" in enums["backendModel"]) == bool(shutil.which("swtpm"))
    assert enums["backendVersion"] == ["2.0"]
    fs = caps.find("devices/filesystem")
    assert fs.get("supported") == "yes"
    assert [v.text for v in fs.findall("enum[@name='driverType']/value")] == ["path", "virtiofs"]

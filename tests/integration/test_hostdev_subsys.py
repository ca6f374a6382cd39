"""mdev, scsi_host (vhost-scsi) and scsi hostdevs: defined and written back as
libvirt 9 writes them (managed='no', a PCI slot or a drive address), and a start on a host
without the device is refused with libvirt's error, leaving the domain
shut off. An iSCSI hostdev starts against a userspace target (tgtd on a
loopback port) with CHAP: QMP shows QEMU's scsi-generic on the iscsi node;
a wrong password fails the start."""
import json
import os
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import import_required, virsh, wait_for

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
    # the first free unit of controller 0, which libvirt's define adds, of
    # libvirt's default model for QEMU on x86
    assert h.find("address").attrib == {"type": "drive", "controller": "0", "bus": "0", "target": "0", "unit": "0"}
    assert h.find("readonly") is not None and h.get("managed") == "no"
    dom = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "scsihd").stdout)
    assert [c.get("model") for c in dom.iter("controller") if c.get("type") == "scsi"] == ["lsilogic"]
    r = virsh(vrtd.uri, "start", "scsihd", check=False)
    assert r.returncode != 0
    assert f"cannot open directory '{SCSI_LUN}'" in r.stderr, r.stderr
    assert virsh(vrtd.uri, "domstate", "scsihd").stdout.strip() == "shut off"
    virsh(vrtd.uri, "undefine", "scsihd")


MODULE_DIR = "/usr/lib/x86_64-linux-gnu/qemu"
TGT_IQN = "iqn.2026-12.org.vrt:hostdev"
INITIATOR = "iqn.2026-12.org.vrt:initiator"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def define_secret(uri, usage, value):
    """An iscsi secret of usage with value; its UUID."""
    libvirt = import_required("libvirt", "python3-libvirt is not installed")
    conn = libvirt.open(uri)
    try:
        sec = conn.secretDefineXML("<secret ephemeral='no' private='yes'><usage type='iscsi'>"
                                   f"<target>{usage}</target></usage></secret>")
        sec.setValue(value)
        return sec.UUIDString()
    finally:
        conn.close()


@pytest.fixture
def iscsi_target(tmp_path):
    """A userspace iSCSI target (tgtd) on a loopback port of its own, its own
    control socket, LUN 1 a 16 MiB file, CHAP user myname; stopped after."""
    if not shutil.which("tgtd") or not shutil.which("tgtadm"):
        pytest.skip("tgtd (package tgt) is not installed")
    port = free_port()
    ctl = str(port % 32767 + 1)  # its control socket /run/tgtd/socket.N (N at most 32767)
    lun = tmp_path / "lun.img"
    with open(lun, "wb") as f:
        f.truncate(16 << 20)
    log = open(tmp_path / "tgtd.log", "w")
    proc = subprocess.Popen(["tgtd", "-f", "-C", ctl, "--iscsi", f"portal=127.0.0.1:{port}"], stdout=log,
                            stderr=subprocess.STDOUT)

    def tgtadm(*args):
        subprocess.run(["tgtadm", "-C", ctl, "--lld", "iscsi", *args], check=True, capture_output=True, timeout=20)

    try:
        wait_for(lambda: proc.poll() is None and subprocess.run(
            ["tgtadm", "-C", ctl, "--lld", "iscsi", "--op", "show", "--mode", "target"],
            capture_output=True).returncode == 0, timeout=20)
        tgtadm("--op", "new", "--mode", "target", "--tid", "1", "-T", TGT_IQN)
        tgtadm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "-b", str(lun))
        tgtadm("--op", "new", "--mode", "account", "--user", "myname", "--password", "chap-secret-1")
        tgtadm("--op", "bind", "--mode", "account", "--tid", "1", "--user", "myname")
        tgtadm("--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL")
        yield port
    finally:
        proc.kill()  # tgtd keeps running on SIGTERM while it has targets
        proc.wait()
        log.close()
        for suffix in ("", ".lock"):
            try:
                os.unlink(f"/run/tgtd/socket.{ctl}{suffix}")
            except FileNotFoundError:
                pass


@pytest.mark.skipif(not os.path.exists(os.path.join(MODULE_DIR, "block-iscsi.so")),
                    reason="QEMU's iscsi block driver (qemu-block-extra) is not installed")
def test_iscsi_hostdev_starts_with_chap_login(vrtd, tmp_path, iscsi_target):
    """An iSCSI LUN with CHAP <auth> and an <initiator> reaches QEMU as an
    iscsi node under scsi-generic: the domain runs and QMP shows both."""
    uuid = define_secret(vrtd.uri, "vrthostdev", b"chap-secret-1")
    h = define(vrtd.uri, tmp_path, "iscsihd", f"""<controller type='scsi' index='0' model='virtio-scsi'/>
      <hostdev mode='subsystem' type='scsi' managed='yes'>
      <source protocol='iscsi' name='{TGT_IQN}/1'><host name='127.0.0.1' port='{iscsi_target}'/>
        <auth username='myname'><secret type='iscsi' usage='vrthostdev'/></auth>
        <initiator><iqn name='{INITIATOR}'/></initiator></source></hostdev>""")
    assert h.find("source").attrib == {"protocol": "iscsi", "name": f"{TGT_IQN}/1"}
    try:
        virsh(vrtd.uri, "start", "iscsihd")
        assert virsh(vrtd.uri, "domstate", "iscsihd").stdout.strip() == "running"
        out = virsh(vrtd.uri, "qemu-monitor-command", "iscsihd",
                    '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/hostdev0","property":"type"}}')
        assert json.loads(out.stdout)["return"] == "scsi-generic"
        nodes = json.loads(virsh(vrtd.uri, "qemu-monitor-command", "iscsihd",
                                 '{"execute":"query-named-block-nodes"}').stdout)["return"]
        iscsi = [n for n in nodes if n["drv"] == "iscsi"]
        assert len(iscsi) == 1, nodes
        assert iscsi[0]["file"].startswith("json:"), iscsi[0]
        props = json.loads(iscsi[0]["file"][len("json:"):])
        assert {k: props[k] for k in ("portal", "target", "lun", "user", "initiator-name")} == {
            "portal": f"127.0.0.1:{iscsi_target}", "target": TGT_IQN, "lun": 1, "user": "myname",
            "initiator-name": INITIATOR}
        # logged in: QEMU read the LUN's size from the target
        assert iscsi[0]["image"]["virtual-size"] == 16 << 20
        with open(os.path.join(vrtd.root, "var", "log", "vrt", "qemu", "iscsihd.log")) as f:
            log = f.read()
        assert f'"initiator-name":"{INITIATOR}"' in log and '"user":"myname"' in log
        assert "chap-secret-1" not in log  # the value is in a file, not on the command line
    finally:
        virsh(vrtd.uri, "destroy", "iscsihd", check=False)
        virsh(vrtd.uri, "undefine", "iscsihd")
        virsh(vrtd.uri, "secret-undefine", uuid)


@pytest.mark.skipif(not os.path.exists(os.path.join(MODULE_DIR, "block-iscsi.so")),
                    reason="QEMU's iscsi block driver (qemu-block-extra) is not installed")
def test_iscsi_hostdev_wrong_chap_password_fails_start(vrtd, tmp_path, iscsi_target):
    """A CHAP password the target refuses: QEMU cannot log in, the start
    fails with QEMU's reason and the domain stays shut off."""
    uuid = define_secret(vrtd.uri, "vrtwrong", b"not-the-password")
    define(vrtd.uri, tmp_path, "iscsibad", f"""<hostdev mode='subsystem' type='scsi' managed='yes'>
      <source protocol='iscsi' name='{TGT_IQN}/1'><host name='127.0.0.1' port='{iscsi_target}'/>
        <auth username='myname'><secret type='iscsi' uuid='{uuid}'/></auth></source></hostdev>""")
    try:
        r = virsh(vrtd.uri, "start", "iscsibad", check=False)
        assert r.returncode != 0
        assert "Failed to log in to target" in r.stderr and "Authentication failure" in r.stderr, r.stderr
        assert virsh(vrtd.uri, "domstate", "iscsibad").stdout.strip() == "shut off"
    finally:
        virsh(vrtd.uri, "undefine", "iscsibad")
        virsh(vrtd.uri, "secret-undefine", uuid)

"""Internal snapshots of qcow2 disks through vrtd with Debian's virsh and
python3-libvirt: taken on a shut-off domain (qemu-img) and on a running
guest-less QEMU (savevm, with its memory), listed as a tree with the
current one marked, reverted (the disk's data goes back), deleted with
and without children or data, kept across a vrtd restart; undefine
refuses a domain that has snapshots as libvirt does."""
import fcntl
import os
import shutil
import subprocess

import pytest

from vrt_fixtures import Vrtd, import_required, kill_vms_under, run, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

pytestmark = pytest.mark.skipif(not shutil.which("qemu-img") or not shutil.which("qemu-io"),
                                reason="qemu-img and qemu-io (qemu-utils) are needed")


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, 0xAE00) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


def domain_xml(name, disk):
    kind = "kvm" if kvm_usable() else "qemu"
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/>"
            "<target dev='vda' bus='virtio'/></disk><memballoon model='none'/></devices></domain>")


def make_disk(path):
    run(["qemu-img", "create", "-q", "-f", "qcow2", path, "16M"])
    return path


def write_pattern(path, byte):
    run(["qemu-io", "-f", "qcow2", "-c", f"write -P {byte} 0 4k", path])


def has_pattern(path, byte):
    p = subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"read -P {byte} 0 4k", path], capture_output=True, text=True)
    return p.returncode == 0 and "Pattern verification failed" not in p.stdout


def image_snapshots(path):
    out = run(["qemu-img", "snapshot", "-l", path]).stdout
    return [line.split()[1] for line in out.splitlines()[2:] if line.strip()]


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


def test_offline_snapshots_tree_revert_delete(conn, vrtd, tmp_path):
    disk = make_disk(str(tmp_path / "d.qcow2"))
    dom = conn.defineXML(domain_xml("sn1", disk))
    write_pattern(disk, 0xAA)
    virsh(vrtd.uri, "snapshot-create-as", "sn1", "s1", "--description", "first")
    write_pattern(disk, 0xBB)
    virsh(vrtd.uri, "snapshot-create-as", "sn1", "s2")
    assert image_snapshots(disk) == ["s1", "s2"]
    assert virsh(vrtd.uri, "snapshot-current", "sn1", "--name").stdout.strip() == "s2"
    assert virsh(vrtd.uri, "snapshot-parent", "sn1", "s2").stdout.strip() == "s1"
    xml = virsh(vrtd.uri, "snapshot-dumpxml", "sn1", "s1").stdout
    assert "<state>shutoff</state>" in xml and "<description>first</description>" in xml
    assert "<memory snapshot='no'/>" in xml and "<disk name='vda' snapshot='internal'/>" in xml
    assert "<name>sn1</name>" in xml  # the domain as it was
    if shutil.which("virt-xml-validate"):
        f = tmp_path / "snap.xml"
        f.write_text(xml)
        run(["virt-xml-validate", str(f), "domainsnapshot"])
    tree = virsh(vrtd.uri, "snapshot-list", "sn1", "--tree").stdout
    assert tree.index("s1") < tree.index("s2")
    assert [s.getName() for s in dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS)] == ["s1"]
    assert [s.getName() for s in dom.snapshotLookupByName("s1").listAllChildren()] == ["s2"]
    assert dom.snapshotNum() == 2
    assert dom.snapshotLookupByName("s1").numChildren() == 1
    # Revert: the disk's data goes back, s1 is current.
    virsh(vrtd.uri, "snapshot-revert", "sn1", "s1")
    assert has_pattern(disk, 0xAA) and not has_pattern(disk, 0xBB)
    assert dom.snapshotLookupByName("s1").isCurrent() and not dom.snapshotLookupByName("s2").isCurrent()
    # A snapshot taken now is s1's child too.
    virsh(vrtd.uri, "snapshot-create-as", "sn1", "s3")
    assert sorted(s.getName() for s in dom.snapshotLookupByName("s1").listAllChildren()) == ["s2", "s3"]
    # Delete s1 with its children: every snapshot leaves the image too.
    virsh(vrtd.uri, "snapshot-delete", "sn1", "s1", "--children")
    assert dom.snapshotNum() == 0 and image_snapshots(disk) == []
    assert dom.hasCurrentSnapshot() == 0


def test_running_snapshot_with_memory(conn, vrtd, tmp_path):
    disk = make_disk(str(tmp_path / "r.qcow2"))
    dom = conn.defineXML(domain_xml("sn2", disk))
    dom.create()
    snap = dom.snapshotCreateXML("<domainsnapshot><name>live1</name></domainsnapshot>")
    assert snap.getName() == "live1"
    xml = snap.getXMLDesc()
    assert "<state>running</state>" in xml and "<memory snapshot='internal'/>" in xml
    dom.suspend()
    dom.revertToSnapshot(snap)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    # Reverting a shut-off domain to a running snapshot starts it from there.
    dom.destroy()
    dom.revertToSnapshot(snap, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    snap.delete()
    assert dom.snapshotNum() == 0
    dom.destroy()
    assert image_snapshots(disk) == []


def test_metadata_survives_restart_and_undefine_refuses(tmproot, tmp_path):
    disk = make_disk(str(tmp_path / "p.qcow2"))
    d = Vrtd(tmproot).start()
    try:
        c = libvirt.open(d.uri)
        dom = c.defineXML(domain_xml("sn3", disk))
        dom.snapshotCreateXML("<domainsnapshot><name>a</name></domainsnapshot>")
        dom.snapshotCreateXML("<domainsnapshot><name>b</name></domainsnapshot>")
        assert os.path.exists(os.path.join(tmproot, "var", "lib", "vrt", "qemu", "snapshot", "sn3", "a.xml"))
        c.close()
        d.stop()
        d = Vrtd(tmproot).start()
        c = libvirt.open(d.uri)
        dom = c.lookupByName("sn3")
        assert sorted(dom.snapshotListNames()) == ["a", "b"]
        assert dom.snapshotCurrent().getName() == "b"
        assert dom.snapshotLookupByName("b").getParent().getName() == "a"
        assert c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT)[0].name() == "sn3"
        code, msg = error_of(dom.undefine)
        assert code == libvirt.VIR_ERR_OPERATION_INVALID
        assert msg == "Requested operation is not valid: cannot delete inactive domain with 2 snapshots"
        # Metadata only: the image keeps them.
        dom.snapshotLookupByName("b").delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
        assert image_snapshots(disk) == ["a", "b"]
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        assert not os.path.exists(os.path.join(tmproot, "var", "lib", "vrt", "qemu", "snapshot", "sn3"))
        c.close()
    finally:
        d.stop()


def test_snapshot_refusals(conn, tmp_path):
    raw = str(tmp_path / "raw.img")
    run(["qemu-img", "create", "-q", "-f", "raw", raw, "1M"])
    dom = conn.defineXML(domain_xml("sn4", raw).replace("type='qcow2'", "type='raw'"))
    code, msg = error_of(dom.snapshotCreateXML, "<domainsnapshot><name>x</name></domainsnapshot>")
    assert code == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    code, msg = error_of(dom.snapshotLookupByName, "nope")
    assert code == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT
    assert msg == "Domain snapshot not found: no domain snapshot with matching name 'nope'"
    code, msg = error_of(dom.snapshotCreateXML, "<domainsnapshot><name>.x</name></domainsnapshot>")
    assert msg == "parser error: invalid snapshot name '.x': name can't start with '.'"
    code, msg = error_of(dom.snapshotCreateXML, "<domainsnapshot/>", libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE)
    assert code == libvirt.VIR_ERR_INVALID_ARG
    code, _ = error_of(dom.snapshotCurrent)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT


def test_vrt_cli_snapshot_and_managedsave(conn, vrtd, tmp_path):
    from vrt_fixtures import vrt
    disk = make_disk(str(tmp_path / "c.qcow2"))
    dom = conn.defineXML(domain_xml("sn5", disk))
    assert "Domain snapshot c1 created" in vrt(vrtd.uri, "snapshot-create-as", "sn5", "c1").stdout
    vrt(vrtd.uri, "snapshot-create-as", "sn5", "c2", "--description", "two")
    assert vrt(vrtd.uri, "snapshot-current", "sn5").stdout.strip() == "c2"
    listed = vrt(vrtd.uri, "snapshot-list", "sn5").stdout
    assert listed.index("c1") < listed.index("c2")
    assert "<description>two</description>" in vrt(vrtd.uri, "snapshot-dumpxml", "sn5", "c2").stdout
    vrt(vrtd.uri, "snapshot-revert", "sn5", "c1")
    assert vrt(vrtd.uri, "snapshot-current", "sn5").stdout.strip() == "c1"
    vrt(vrtd.uri, "snapshot-delete", "sn5", "c1", "--children")
    assert dom.snapshotNum() == 0
    # managedsave and the start that restores it.
    dom.create()
    vrt(vrtd.uri, "managedsave", "sn5")
    assert dom.hasManagedSaveImage() == 1
    vrt(vrtd.uri, "start", "sn5")
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED]
    image = str(tmp_path / "sn5.img")
    vrt(vrtd.uri, "save", "sn5", image)
    vrt(vrtd.uri, "restore", image, "--paused")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.destroy()


def backing_of(path):
    import json
    info = json.loads(run(["qemu-img", "info", "-U", "--output=json", path]).stdout)
    return info.get("backing-filename")


def test_external_disk_only_offline_and_running(conn, vrtd, tmp_path):
    disk = make_disk(str(tmp_path / "e.qcow2"))
    dom = conn.defineXML(domain_xml("sn6", disk))
    # Shut off: qemu-img makes the overlay, the definition points to it.
    virsh(vrtd.uri, "snapshot-create-as", "sn6", "ext1", "--disk-only")
    overlay1 = str(tmp_path / "e.ext1")
    assert backing_of(overlay1) == disk
    assert f"<source file='{overlay1}'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    xml = dom.snapshotLookupByName("ext1").getXMLDesc()
    assert "<state>disk-snapshot</state>" in xml and "snapshot='external'" in xml and overlay1 in xml
    if shutil.which("virt-xml-validate"):
        f = tmp_path / "ext.xml"
        f.write_text(xml)
        run(["virt-xml-validate", str(f), "domainsnapshot"])
    # Running: QEMU switches to a new overlay of the first one.
    dom.create()
    overlay2 = str(tmp_path / "ovl2.qcow2")
    dom.snapshotCreateXML("<domainsnapshot><name>ext2</name><disks><disk name='vda' snapshot='external'>"
                          f"<source file='{overlay2}'/></disk></disks></domainsnapshot>",
                          libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY)
    out = virsh(vrtd.uri, "qemu-monitor-command", "sn6", '{"execute":"query-block"}').stdout
    assert overlay2 in out
    assert f"<source file='{overlay2}'/>" in dom.XMLDesc(0)
    assert f"<source file='{overlay2}'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert dom.snapshotLookupByName("ext2").getParent().getName() == "ext1"
    dom.destroy()
    assert backing_of(overlay2) == overlay1
    # libvirt 9.0 refuses these too.
    code, msg = error_of(dom.revertToSnapshot, dom.snapshotLookupByName("ext1"))
    assert msg == "unsupported configuration: revert to external snapshot not supported yet"
    code, msg = error_of(dom.snapshotCreateXML, "<domainsnapshot/>",
                         libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE)
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    dom.snapshotLookupByName("ext2").delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
    assert dom.snapshotNum() == 1

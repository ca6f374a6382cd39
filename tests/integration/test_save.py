"""Save, restore and managed save through vrtd with Debian's virsh and
python3-libvirt, on guest-less QEMU domains: the image is libvirt's format
(header, XML, QEMU's stream), the domain stops as saved and starts again
as restored, paused or running as asked; a managed save image is restored
by the next start and then gone, listed by list --with-managed-save and
dominfo, and undefine refuses a domain that has one as libvirt does."""
import fcntl
import os
import struct
import sys

import pytest

from vrt_fixtures import import_required, kill_vms_under, require, virsh, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def kvm_usable():
    """/dev/kvm opens and answers KVM_GET_API_VERSION (a container may
    have the node without a working KVM): else the domains use TCG."""
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


def domain_xml(name):
    kind = "kvm" if kvm_usable() else "qemu"
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


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


def events(conn):
    got = []
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                lambda c, d, ev, det, o: got.append((ev, det)), None)
    return got


def test_save_and_restore_with_virsh(conn, vrtd, tmp_path):
    dom = conn.defineXML(domain_xml("sv1"))
    dom.create()
    image = str(tmp_path / "sv1.img")
    virsh(vrtd.uri, "save", "sv1", image)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED]
    # libvirt's header: magic, version 2, the XML's room, was running.
    with open(image, "rb") as f:
        head = f.read(92)
    magic, version, data_len, was_running, compressed = struct.unpack("=16s4I", head[:32])
    assert (magic, version, was_running, compressed) == (b"LibvirtQemudSave", 2, 1, 0)
    assert os.path.getsize(image) > 92 + data_len  # QEMU's stream follows
    assert os.stat(image).st_mode & 0o777 == 0o600
    xml = virsh(vrtd.uri, "save-image-dumpxml", image).stdout
    assert "<name>sv1</name>" in xml
    virsh(vrtd.uri, "restore", image)
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED]
    # QEMU runs from the loaded state.
    status = virsh(vrtd.uri, "qemu-monitor-command", "sv1", '{"execute":"query-status"}').stdout
    assert '"running"' in status
    # Saved again, restored paused on request.
    virsh(vrtd.uri, "save", "sv1", image)
    virsh(vrtd.uri, "restore", image, "--paused")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.destroy()


def test_save_refusals(conn, tmp_path):
    dom = conn.defineXML(domain_xml("sv2"))
    code, msg = error_of(dom.save, str(tmp_path / "x"))
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and msg == "Requested operation is not valid: domain is not running"
    bad = tmp_path / "bad"
    bad.write_bytes(b"NotAnImageAtAll!" + bytes(100))
    code, msg = error_of(conn.restore, str(bad))
    assert code == libvirt.VIR_ERR_OPERATION_FAILED and msg == "operation failed: image magic is incorrect"
    dom.managedSaveRemove(0)  # nothing to remove is no error, as with libvirt
    code, msg = error_of(dom.managedSaveGetXMLDesc, 0)
    assert msg == "Requested operation is not valid: domain does not have managed save image"


def test_managed_save_then_start(conn, vrtd, tmproot):
    dom = conn.defineXML(domain_xml("ms1"))
    dom.create()
    virsh(vrtd.uri, "managedsave", "ms1")
    path = os.path.join(tmproot, "var", "lib", "vrt", "qemu", "save", "ms1.save")
    assert os.path.exists(path)
    assert dom.hasManagedSaveImage() == 1
    assert "Managed save:   yes" in virsh(vrtd.uri, "dominfo", "ms1").stdout
    assert virsh(vrtd.uri, "list", "--all", "--with-managed-save", "--name").stdout.split() == ["ms1"]
    assert "saved" in virsh(vrtd.uri, "list", "--all", "--managed-save").stdout
    assert virsh(vrtd.uri, "list", "--all", "--without-managed-save", "--name").stdout.strip() == ""
    assert "<name>ms1</name>" in dom.managedSaveGetXMLDesc(0)
    # undefine refuses it, as libvirt.
    p = virsh(vrtd.uri, "undefine", "ms1", check=False)
    assert p.returncode != 0
    assert "Refusing to undefine while domain managed save image exists" in p.stderr
    # start restores it and removes it.
    virsh(vrtd.uri, "start", "ms1")
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED]
    assert not os.path.exists(path)
    assert dom.hasManagedSaveImage() == 0
    # Again, and this time removed with the definition.
    dom.managedSave()
    virsh(vrtd.uri, "undefine", "ms1", "--managed-save")
    assert not os.path.exists(path)


def test_managed_save_survives_restart_and_force_boot(tmproot):
    from vrt_fixtures import Vrtd
    d = Vrtd(tmproot).start()
    try:
        c = libvirt.open(d.uri)
        dom = c.defineXML(domain_xml("ms2"))
        dom.create()
        dom.managedSave()
        c.close()
        d.stop()
        d = Vrtd(tmproot).start()
        c = libvirt.open(d.uri)
        dom = c.lookupByName("ms2")
        assert dom.hasManagedSaveImage() == 1
        # --force-boot discards the image and boots afresh.
        virsh(d.uri, "start", "ms2", "--force-boot")
        assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        assert dom.hasManagedSaveImage() == 0
        dom.destroy()
        c.close()
    finally:
        d.stop()
        kill_vms_under(tmproot)


def test_transient_domain_restores_from_its_image(conn, tmp_path):
    dom = conn.createXML(domain_xml("tr1"))
    image = str(tmp_path / "tr1.img")
    dom.save(image)
    code, _ = error_of(conn.lookupByName, "tr1")
    assert code == libvirt.VIR_ERR_NO_DOMAIN
    conn.restore(image)
    dom = conn.lookupByName("tr1")
    assert dom.isActive() and not dom.isPersistent()
    code, msg = error_of(dom.managedSave)
    assert msg == "Requested operation is not valid: cannot do managed save for transient domain"
    dom.destroy()


def test_libvirtd_reads_a_vrt_save_image(conn, tmp_path, libvirtd):
    """The image is libvirt's format: Debian's libvirtd finds the header and
    the domain XML in it."""
    dom = conn.defineXML(domain_xml("lv1"))
    dom.create()
    image = str(tmp_path / "lv1.img")
    os.chmod(str(tmp_path), 0o755)
    dom.save(image)
    lv = libvirt.open(libvirtd.uri)
    try:
        xml = lv.saveImageGetXMLDesc(image, 0)
    finally:
        lv.close()
    assert "<name>lv1</name>" in xml and dom.UUIDString() in xml


def test_rename_refused_with_managed_save(conn, vrtd):
    dom = conn.defineXML(domain_xml("rn1"))
    dom.create()
    dom.managedSave()
    code, msg = error_of(dom.rename, "rn2", 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID
    assert msg == "Requested operation is not valid: domain with a managed saved state can't be renamed"


@pytest.fixture(scope="module")
def guest():
    try:
        import guest as g
        return g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")


def log_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_guest_goes_on_after_restore(conn, guest, tmp_path):
    """The TCG test guest, saved once booted and restored: its kernel goes
    on from where it was and answers the ACPI power button, printing its
    power-off line, without booting again."""
    import guest as g
    kernel, initrd = guest
    log = str(tmp_path / "console.log")
    xml = f"""<domain type='qemu'><name>gs1</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel><initrd>{initrd}</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features>
  <devices><serial type='file'><source path='{log}'/></serial><memballoon model='none'/></devices></domain>"""
    dom = conn.defineXML(xml)
    dom.create()
    wait_for(lambda: g.READY_MARKER in log_text(log), timeout=90, what="the guest to boot")
    image = str(tmp_path / "gs1.img")
    dom.save(image)
    conn.restore(image)
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED]
    before = log_text(log).count(g.READY_MARKER)
    dom.shutdown()
    wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, timeout=60, what="ACPI shutdown after restore")
    text = log_text(log)
    assert g.POWEROFF_MARKER in text
    assert text.count(g.READY_MARKER) == before  # no second boot: the restored kernel went on


def test_save_image_define_xml(conn, tmp_path):
    dom = conn.defineXML(domain_xml("sd1"))
    dom.create()
    image = str(tmp_path / "sd1.img")
    dom.saveFlags(image, None, libvirt.VIR_DOMAIN_SAVE_PAUSED)
    with open(image, "rb") as f:
        assert struct.unpack("=16s4I", f.read(32))[3] == 0  # was_running: restored paused
    xml = conn.saveImageGetXMLDesc(image, 0)
    new = xml.replace("</name>", "</name><description>edited</description>", 1)
    conn.saveImageDefineXML(image, new, libvirt.VIR_DOMAIN_SAVE_RUNNING)
    assert "<description>edited</description>" in conn.saveImageGetXMLDesc(image, 0)
    with open(image, "rb") as f:
        assert struct.unpack("=16s4I", f.read(32))[3] == 1
    # Another domain's XML is refused.
    code, _ = error_of(conn.saveImageDefineXML, image, domain_xml("other"), 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID
    conn.restore(image)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert "<description>edited</description>" in dom.XMLDesc(0)
    dom.destroy()

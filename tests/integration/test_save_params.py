"""Save and restore with typed parameters (virDomainSaveParams,
virDomainRestoreParams) through vrtd with python3-libvirt: the same image
and states as virsh save/restore, a save without a file as a managed save,
and libvirt's checks of the parameter list."""
import pytest

from vrt_fixtures import import_required, kill_vms_under

libvirt = import_required("libvirt", "python3-libvirt is not installed")

FILE = libvirt.VIR_DOMAIN_SAVE_PARAM_FILE
DXML = libvirt.VIR_DOMAIN_SAVE_PARAM_DXML


def domain_xml(name, title=None):
    t = f"<title>{title}</title>" if title else ""
    return (f"<domain type='qemu'><name>{name}</name>{t}<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
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


def test_save_and_restore_params(conn, tmp_path):
    dom = conn.defineXML(domain_xml("sp1"))
    dom.create()
    image = str(tmp_path / "sp1.img")
    dom.saveParams({FILE: image}, libvirt.VIR_DOMAIN_SAVE_PAUSED)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED]
    assert "<name>sp1</name>" in conn.saveImageGetXMLDesc(image)
    # The image's definition replaced on restore, as DXML asks.
    xml = conn.saveImageGetXMLDesc(image).replace("<name>sp1</name>", "<name>sp1</name><title>restored</title>")
    conn.restoreParams({FILE: image, DXML: xml}, 0)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    assert "<title>restored</title>" in dom.XMLDesc()


def test_save_params_without_file_is_managed_save(conn):
    dom = conn.defineXML(domain_xml("sp2"))
    dom.create()
    dom.saveParams({}, 0)
    assert dom.hasManagedSaveImage() == 1
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED]
    dom.create()
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED]
    assert dom.hasManagedSaveImage() == 0


def test_params_refused_as_libvirt(conn, tmp_path):
    dom = conn.defineXML(domain_xml("sp3"))
    dom.create()
    image = str(tmp_path / "sp3.img")
    code, msg = error_of(dom.saveParams, {FILE: image, "bogus": "x"}, 0)
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED and "parameter 'bogus' not supported" in msg
    code, msg = error_of(dom.saveParams, {FILE: image}, 1 << 5)
    assert code == libvirt.VIR_ERR_INVALID_ARG
    assert "unsupported flags (0x20) in function qemuDomainSaveParams" in msg
    code, msg = error_of(conn.restoreParams, {}, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "missing path to restore from" in msg
    code, msg = error_of(conn.restoreParams, {FILE: str(tmp_path / "none.img")}, 0)
    assert code == libvirt.VIR_ERR_SYSTEM_ERROR
    assert dom.isActive()
    ro = libvirt.openReadOnly(conn.getURI())
    try:
        code, _ = error_of(ro.lookupByName("sp3").saveParams, {FILE: image}, 0)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()

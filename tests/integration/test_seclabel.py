"""<seclabel> on real guest-less QEMU (TCG) under vrtd's confinement, as
libvirt's DAC driver honours it on a host without SELinux and AppArmor:
the live XML carries the DAC label of QEMU's user; a domain DAC label of
type none, or a disk's <seclabel model='dac' relabel='no'/>, leaves the
image's owner alone; a static DAC label +UID:+GID is the user and group
QEMU runs as; an SELinux or AppArmor label is accepted at define and
refused at start with libvirt's error; the capabilities name the dac
model with QEMU's user as its base label."""
import grp
import os
import pwd
import re
import xml.etree.ElementTree as ET

import pytest
from vrt_fixtures import Vrtd, import_required, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

USER = "libvirt-qemu"


def have_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not have_user(),
                                reason="needs root and the libvirt-qemu user (libvirt-daemon-system)")


def domain_xml(name, disks="", seclabel=""):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>{disks}<memballoon model='none'/></devices>
  {seclabel}
</domain>"""


def disk(path, seclabel=""):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'>{seclabel}</source><target dev='vda' bus='virtio'/></disk>")


def image(root, mode=0o600):
    path = os.path.join(root, "disk.img")
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    os.chown(path, 0, 0)
    os.chmod(path, mode)
    return path


def owner(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


def qemu_ids(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/status") as f:
        st = dict(line.split(":", 1) for line in f)
    return int(st["Uid"].split()[0]), int(st["Gid"].split()[0])


@pytest.fixture
def env(tmproot):
    os.chmod(tmproot, 0o755)
    d = Vrtd(tmproot).start()
    yield d
    d.stop()


@pytest.fixture
def conn(env):
    c = libvirt.open(env.uri)
    yield c
    c.close()


def qemu_user():
    return pwd.getpwnam(USER).pw_uid, grp.getgrnam(USER).gr_gid


def test_live_xml_has_the_dac_label_of_qemus_user(env, conn):
    img = image(env.root)
    dom = conn.defineXML(domain_xml("s1", disk(img)))
    dom.create()
    uid, gid = qemu_user()
    live = ET.fromstring(dom.XMLDesc(0)).findall("seclabel")
    assert [(s.get("type"), s.get("model"), s.get("relabel")) for s in live] == [("dynamic", "dac", "yes")]
    assert live[0].findtext("label") == f"+{uid}:+{gid}"
    assert live[0].findtext("imagelabel") == f"+{uid}:+{gid}"
    # the definition has none: the label is the running domain's
    assert ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("seclabel") is None
    assert owner(img) == (uid, gid)
    dom.destroy()
    assert owner(img) == (0, 0)


def test_domain_label_none_keeps_owners(env, conn):
    img = image(env.root, 0o666)
    dom = conn.defineXML(domain_xml("s2", disk(img), "<seclabel type='none' model='dac'/>"))
    assert "<seclabel type='none' model='dac'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    assert owner(img) == (0, 0)
    # QEMU still runs as its user
    assert qemu_ids(env.root, "s2") == qemu_user()
    assert "<seclabel type='none' model='dac'/>" in dom.XMLDesc(0)
    dom.destroy()
    assert owner(img) == (0, 0)


def test_disk_relabel_no_keeps_that_images_owner(env, conn):
    img = image(env.root, 0o666)
    dom = conn.defineXML(domain_xml("s3", disk(img, "<seclabel model='dac' relabel='no'/>")))
    assert "<seclabel model='dac' relabel='no'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    assert owner(img) == (0, 0)
    dom.destroy()
    assert owner(img) == (0, 0)


def test_static_label_is_qemus_user_and_group(env, conn):
    img = image(env.root, 0o666)
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    label = (f"<seclabel type='static' model='dac' relabel='no'><label>+{nobody}:+{nogroup}</label></seclabel>")
    dom = conn.defineXML(domain_xml("s4", disk(img), label))
    dom.create()
    assert qemu_ids(env.root, "s4") == (nobody, nogroup)
    # relabel='no': the image keeps its owner
    assert owner(img) == (0, 0)
    sec = ET.fromstring(dom.XMLDesc(0)).find("seclabel")
    assert (sec.get("type"), sec.get("relabel"), sec.findtext("label")) == ("static", "no", f"+{nobody}:+{nogroup}")
    dom.destroy()


def test_static_label_with_relabel_owns_the_images(env, conn):
    img = image(env.root)
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    label = f"<seclabel type='static' model='dac' relabel='yes'><label>+{nobody}:+{nogroup}</label></seclabel>"
    dom = conn.defineXML(domain_xml("s5", disk(img), label))
    dom.create()
    assert qemu_ids(env.root, "s5") == (nobody, nogroup)
    assert owner(img) == (nobody, nogroup)
    dom.destroy()
    assert owner(img) == (0, 0)


@pytest.mark.parametrize("model", ["selinux", "apparmor"])
def test_mac_models_defined_but_refused_at_start(env, conn, model):
    dom = conn.defineXML(domain_xml(f"s6-{model}", "", f"<seclabel type='dynamic' model='{model}' relabel='yes'/>"))
    assert f"model='{model}'" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert f"Security driver model '{model}' is not available" in str(e.value)


def test_seclabel_errors_as_libvirt(conn):
    cases = [
        ("<seclabel type='dynamic' model='dac' relabel='no'/>", "dynamic label type must use resource relabeling"),
        ("<seclabel type='none' model='dac' relabel='yes'/>",
         "resource relabeling is not compatible with 'none' label type"),
        ("<seclabel type='static' model='dac'/>", "security label is missing"),
        ("<seclabel type='dynamic' model='dac'/><seclabel type='none' model='dac'/>",
         "seclabel for model dac is already provided"),
        ("<seclabel type='static'><label>+0:+0</label></seclabel>", "missing security model in domain seclabel"),
    ]
    for xml, msg in cases:
        with pytest.raises(libvirt.libvirtError) as e:
            conn.defineXML(domain_xml("s7", "", xml))
        assert msg in str(e.value), xml


def test_capabilities_name_the_dac_model(conn):
    uid, gid = qemu_user()
    host = ET.fromstring(conn.getCapabilities()).find("host")
    models = {m.findtext("model"): m for m in host.findall("secmodel")}
    assert list(models) == ["none", "dac"]
    assert models["dac"].findtext("doi") == "0"
    base = {b.get("type"): b.text for b in models["dac"].findall("baselabel")}
    assert base == {"kvm": f"+{uid}:+{gid}", "qemu": f"+{uid}:+{gid}"}


def test_disk_and_chardev_own_dac_label_is_applied_and_given_back(env, conn):
    # libvirt's DAC driver gives a disk's or chardev's file the owner of
    # its own <label> instead of QEMU's user; QEMU (group libvirt-qemu)
    # still opens the image through its group
    nobody = pwd.getpwnam("nobody").pw_uid
    gid = qemu_user()[1]
    img = image(env.root, 0o660)
    log = os.path.join(env.root, "serial.log")
    with open(log, "w"):
        pass
    os.chmod(log, 0o660)
    own = f"<seclabel model='dac' relabel='yes'><label>+{nobody}:+{gid}</label></seclabel>"
    serial = f"<serial type='file'><source path='{log}'>{own}</source><target port='0'/></serial>"
    dom = conn.defineXML(domain_xml("s7", disk(img, own) + serial))
    assert f"<label>+{nobody}:+{gid}</label>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    assert owner(img) == (nobody, gid)
    assert owner(log) == (nobody, gid)
    assert qemu_ids(env.root, "s7") == qemu_user()
    dom.destroy()
    assert owner(img) == (0, 0)
    assert owner(log) == (0, 0)


def test_hotplugged_disk_own_dac_label_is_applied_and_given_back(env, conn):
    nobody = pwd.getpwnam("nobody").pw_uid
    gid = qemu_user()[1]
    dom = conn.defineXML(domain_xml("s8"))
    dom.create()
    img = image(env.root, 0o660)
    own = f"<seclabel model='dac' relabel='yes'><label>+{nobody}:+{gid}</label></seclabel>"
    dom.attachDeviceFlags(disk(img, own).replace("dev='vda'", "dev='vdb'"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert owner(img) == (nobody, gid)
    # a guest-less QEMU never lets the disk go: the stop gives it back
    dom.destroy()
    assert owner(img) == (0, 0)

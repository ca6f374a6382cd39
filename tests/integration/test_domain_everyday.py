"""Everyday domain calls through vrtd with Debian's virsh and python3-libvirt:
title, description and <metadata> (virsh desc, virsh metadata), renaming a
shut-off domain (virsh domrename), keys sent to a running guest-less QEMU
(virsh send-key), the monitor's and job's state (virsh domcontrol,
domjobinfo, domjobabort) and growing a running domain's disk (virsh
blockresize), each with libvirt's errors for bad input."""
import json
import os
import re
import threading

import pytest

from vrt_fixtures import import_required, kill_vms_under, run, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def domain_xml(name, disk=None):
    kind = "kvm" if kvm_usable() else "qemu"
    devices = "<memballoon model='none'/>"
    if disk:
        devices += (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                    f"<source file='{disk}'/><target dev='vdb' bus='virtio'/></disk>")
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{devices}</devices></domain>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def define(conn, name, disk=None):
    return conn.defineXML(domain_xml(name, disk))


def error_code(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


# ---- title, description, metadata ----

def test_desc_and_title_with_virsh(conn, vrtd):
    define(conn, "md1")
    virsh(vrtd.uri, "desc", "md1", "--config", "--new-desc", "A test machine")
    virsh(vrtd.uri, "desc", "md1", "--config", "--title", "--new-desc", "Machine one")
    assert virsh(vrtd.uri, "desc", "md1").stdout.strip() == "A test machine"
    assert virsh(vrtd.uri, "desc", "md1", "--title").stdout.strip() == "Machine one"
    xml = virsh(vrtd.uri, "dumpxml", "md1").stdout
    assert "<title>Machine one</title>" in xml
    assert "<description>A test machine</description>" in xml
    # The title shows in list --title, as with libvirtd.
    assert re.search(r"md1\s+shut off\s+Machine one", virsh(vrtd.uri, "list", "--all", "--title").stdout)
    # An empty text removes it.
    virsh(vrtd.uri, "desc", "md1", "--config", "--new-desc", "")
    assert "<description>" not in virsh(vrtd.uri, "dumpxml", "md1").stdout
    assert virsh(vrtd.uri, "desc", "md1").stdout.strip() == ""  # virsh -q: no "No description"


def test_metadata_with_virsh_round_trips(conn, vrtd):
    define(conn, "md2")
    uri = "http://example.org/app/1"
    virsh(vrtd.uri, "metadata", "md2", uri, "--config", "--key", "app", "--set", "<thing><a>1</a></thing>")
    virsh(vrtd.uri, "metadata", "md2", "http://example.org/other", "--config", "--key", "oth", "--set", "<x/>")
    got = virsh(vrtd.uri, "metadata", "md2", uri).stdout
    assert re.sub(r"\s", "", got) == "<thing><a>1</a></thing>"
    xml = virsh(vrtd.uri, "dumpxml", "md2").stdout
    assert re.search(r"<metadata>.*<app:thing xmlns:app=\"http://example.org/app/1\"><app:a>1</app:a></app:thing>",
                     xml, re.S)
    # Redefining from that XML keeps both elements.
    dom = conn.defineXML(xml)
    assert re.sub(r"\s", "", dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, uri)) == "<thing><a>1</a></thing>"
    assert "oth:x" in dom.XMLDesc(0)
    # --remove takes one namespace's element away; the other stays.
    virsh(vrtd.uri, "metadata", "md2", uri, "--config", "--remove")
    p = virsh(vrtd.uri, "metadata", "md2", uri, check=False)
    assert p.returncode != 0 and "metadata not found: Requested metadata element is not present" in p.stderr
    assert "oth:x" in virsh(vrtd.uri, "dumpxml", "md2").stdout
    # And it is kept on disk: the definition file has it.
    with open(os.path.join(vrtd.root, "etc", "vrt", "qemu", "md2.xml")) as f:
        assert "http://example.org/other" in f.read()


def test_metadata_with_python_live_and_config(conn, vrtd):
    dom = define(conn, "md3")
    dom.create()
    live, config = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "live title", None, None, live)
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, live) == "live title"
    # Live only: the persistent definition has none.
    code, _ = error_code(dom.metadata, libvirt.VIR_DOMAIN_METADATA_TITLE, None, config)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_METADATA
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "both", None, None, live | config)
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, config) == "both"
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, live) == "both"
    dom.destroy()
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0) == "both"
    code, _ = error_code(dom.metadata, libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_METADATA
    # Bad input: live on a shut-off domain, an unknown type, both flags at once.
    code, msg = error_code(dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None, live)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    code, msg = error_code(dom.metadata, 7, None, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "unknown metadata type '7'" in msg
    code, _ = error_code(dom.metadata, libvirt.VIR_DOMAIN_METADATA_TITLE, None, live | config)
    assert code == libvirt.VIR_ERR_INVALID_ARG
    code, _ = error_code(dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<a", "k", "http://x/", config)
    assert code == libvirt.VIR_ERR_XML_DETAIL


def start_event_loop():
    # One default event loop per process, before the connection opens.
    if not getattr(libvirt, "_vrt_everyday_loop", None):
        libvirt.virEventRegisterDefaultImpl()
        t = threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True)
        t.start()
        libvirt._vrt_everyday_loop = t


def test_metadata_change_event(vrtd, tmproot):
    start_event_loop()
    c = libvirt.open(vrtd.uri)
    try:
        events = []
        c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                 lambda conn, d, mtype, nsuri, op: events.append((d.name(), mtype, nsuri)), None)
        dom = c.defineXML(domain_xml("ev1"))
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None, 0)
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "k", "http://example.org/k", 0)
        want = [("ev1", libvirt.VIR_DOMAIN_METADATA_TITLE, None),
                ("ev1", libvirt.VIR_DOMAIN_METADATA_ELEMENT, "http://example.org/k")]
        wait_for(lambda: events == want, timeout=15, what=f"events {want}, got {events}")
    finally:
        c.close()


# ---- rename ----

def test_domrename_with_virsh(conn, vrtd):
    define(conn, "old1")
    define(conn, "taken")
    virsh(vrtd.uri, "autostart", "old1")
    p = virsh(vrtd.uri, "domrename", "old1", "taken", check=False)
    assert p.returncode != 0 and "domain with name 'taken' already exists" in p.stderr
    virsh(vrtd.uri, "domrename", "old1", "new1")
    names = virsh(vrtd.uri, "list", "--all", "--name").stdout.split()
    assert "new1" in names and "old1" not in names
    qdir = os.path.join(vrtd.root, "etc", "vrt", "qemu")
    assert os.path.exists(os.path.join(qdir, "new1.xml"))
    assert not os.path.exists(os.path.join(qdir, "old1.xml"))
    assert "<name>new1</name>" in open(os.path.join(qdir, "new1.xml")).read()
    assert "enable" in virsh(vrtd.uri, "dominfo", "new1").stdout.split("Autostart:")[1].splitlines()[0]
    # The old name is free again.
    define(conn, "old1")
    # A restarted vrtd finds the domain under its new name.
    vrtd.stop()
    vrtd.start()
    names = virsh(vrtd.uri, "list", "--all", "--name").stdout.split()
    assert "new1" in names and "old1" in names


def test_rename_running_refused_with_python(conn):
    dom = define(conn, "run1")
    dom.create()
    code, msg = error_code(dom.rename, "run2", 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "cannot rename active domain" in msg
    dom.destroy()
    dom.rename("run2", 0)
    assert dom.name() == "run2"
    assert conn.lookupByName("run2").UUIDString() == dom.UUIDString()
    code, _ = error_code(conn.lookupByName, "run1")
    assert code == libvirt.VIR_ERR_NO_DOMAIN


# ---- keys, control, jobs ----

def test_send_key_with_virsh(conn, vrtd):
    define(conn, "key1").create()
    virsh(vrtd.uri, "send-key", "key1", "KEY_A")
    virsh(vrtd.uri, "send-key", "key1", "--codeset", "linux", "--holdtime", "50", "KEY_LEFTCTRL", "KEY_LEFTALT",
          "KEY_DELETE")
    virsh(vrtd.uri, "send-key", "key1", "--codeset", "xt", "0x1e")
    virsh(vrtd.uri, "send-key", "key1", "--codeset", "qnum", "0x1e")
    p = virsh(vrtd.uri, "send-key", "key1", "--codeset", "xt", "200", check=False)
    assert p.returncode != 0 and "cannot translate keycode 200 of xt codeset to qnum keycode" in p.stderr


def test_send_key_with_python(conn):
    dom = define(conn, "key2")
    code, msg = error_code(dom.sendKey, libvirt.VIR_KEYCODE_SET_LINUX, 0, [30], 1, 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    dom.create()
    assert dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, 10, [29, 56, 111], 3, 0) == 0
    assert dom.sendKey(libvirt.VIR_KEYCODE_SET_QNUM, 0, [0x1e], 1, 0) == 0


def test_domcontrol_and_jobs_with_virsh(conn, vrtd):
    define(conn, "job1")
    p = virsh(vrtd.uri, "domcontrol", "job1", check=False)
    assert p.returncode != 0 and "domain is not running" in p.stderr
    virsh(vrtd.uri, "start", "job1")
    assert virsh(vrtd.uri, "domcontrol", "job1").stdout.strip() == "ok"
    assert re.search(r"Job type:\s+None", virsh(vrtd.uri, "domjobinfo", "job1").stdout)
    p = virsh(vrtd.uri, "domjobabort", "job1", check=False)
    assert p.returncode != 0 and "no job is active on the domain" in p.stderr


def test_control_and_jobs_with_python(conn):
    dom = define(conn, "job2")
    code, _ = error_code(dom.jobInfo)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID
    dom.create()
    assert dom.controlInfo(0) == [libvirt.VIR_DOMAIN_CONTROL_OK, 0, 0]
    assert dom.jobInfo()[0] == libvirt.VIR_DOMAIN_JOB_NONE
    code, msg = error_code(dom.abortJob)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "no job is active on the domain" in msg
    code, _ = error_code(dom.controlInfo, 4)
    assert code == libvirt.VIR_ERR_INVALID_ARG


# ---- block resize ----

def image_size(path):
    out = run(["qemu-img", "info", "-U", "--output=json", path]).stdout
    return json.loads(out)["virtual-size"]


def test_blockresize_with_virsh_and_python(conn, vrtd, tmproot):
    img = os.path.join(tmproot, "data.qcow2")
    run(["qemu-img", "create", "-q", "-f", "qcow2", img, "16M"])
    dom = define(conn, "blk1", img)
    p = virsh(vrtd.uri, "blockresize", "blk1", "vdb", "32M", check=False)
    assert p.returncode != 0 and "domain is not running" in p.stderr
    dom.create()
    virsh(vrtd.uri, "blockresize", "blk1", "vdb", "32M")
    assert image_size(img) == 32 * 1024 * 1024
    # By source path, in bytes.
    dom.blockResize(img, 48 * 1024 * 1024, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    assert image_size(img) == 48 * 1024 * 1024
    # KiB without the flag.
    dom.blockResize("vdb", 64 * 1024, 0)
    assert image_size(img) == 64 * 1024 * 1024
    # A size QEMU refuses for qcow2 (not whole sectors): its error, the size kept.
    code, msg = error_code(dom.blockResize, "vdb", 64 * 1024 * 1024 + 100, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR and "512" in msg, msg
    assert image_size(img) == 64 * 1024 * 1024
    # Shrinking is QEMU's to allow (libvirt 9.0 passes it on): qcow2 shrinks.
    virsh(vrtd.uri, "blockresize", "blk1", "vdb", "8M")
    assert image_size(img) == 8 * 1024 * 1024
    code, msg = error_code(dom.blockResize, "vdz", 1024, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "disk 'vdz' was not found in the domain config" in msg


def test_read_only_connection(conn, vrtd):
    dom = define(conn, "ro1")
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "seen", None, None, 0)
    ro = libvirt.openReadOnly(vrtd.uri_ro)
    try:
        rdom = ro.lookupByName("ro1")
        assert rdom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "seen"
        for call in (lambda: rdom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "x", None, None, 0),
                     lambda: rdom.rename("ro2", 0), lambda: rdom.abortJob()):
            code, msg = error_code(call)
            assert code == libvirt.VIR_ERR_OPERATION_DENIED and "read only access prevents" in msg
    finally:
        ro.close()

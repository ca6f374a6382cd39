"""Secrets through vrtd with Debian's virsh and python3-libvirt: define,
set and get a value, list with libvirt's filters, look up by UUID and by
usage, undefine; persistent secrets kept in <root>/etc/vrt/secrets with
mode 0600 across a restart, ephemeral ones never on disk and gone after
it; a private secret's value refused; libvirt's errors for bad input and
for a read-only connection."""
import base64
import os
import shutil
import subprocess
import stat

import pytest

from vrt_fixtures import Vrtd, import_required, run, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

UUID1 = "0f0e0d0c-0b0a-4908-8706-050403020100"
UUID2 = "11111111-2222-4333-8444-555555555555"


def secret_xml(uuid=None, usage="ceph", name="client.admin", ephemeral="no", private="no", desc=None):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    d = f"<description>{desc}</description>" if desc else ""
    elem = {"volume": "volume", "ceph": "name", "iscsi": "target", "tls": "name", "vtpm": "name"}[usage]
    return (f"<secret ephemeral='{ephemeral}' private='{private}'>{u}{d}"
            f"<usage type='{usage}'><{elem}>{name}</{elem}></usage></secret>")


@pytest.fixture
def conn(vrtd):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_domain(), e.value.get_error_message()


def secrets_dir(root):
    return os.path.join(root, "etc", "vrt", "secrets")


def test_virsh_secret_lifecycle(vrtd, tmp_path):
    f = tmp_path / "s.xml"
    f.write_text(secret_xml(UUID1, desc="ceph key"))
    virsh(vrtd.uri, "secret-define", str(f))
    value = base64.b64encode(b"s3cr3t-passphrase").decode()
    virsh(vrtd.uri, "secret-set-value", UUID1, value)
    assert virsh(vrtd.uri, "secret-get-value", UUID1).stdout.strip() == value
    listing = virsh(vrtd.uri, "secret-list").stdout
    assert UUID1 in listing and "ceph client.admin" in listing
    xml = virsh(vrtd.uri, "secret-dumpxml", UUID1).stdout
    assert "<secret ephemeral='no' private='no'>" in xml
    assert "<description>ceph key</description>" in xml
    assert "<usage type='ceph'>" in xml and "<name>client.admin</name>" in xml
    if shutil.which("virt-xml-validate"):
        f.write_text(xml)
        run(["virt-xml-validate", str(f), "secret"])
    # Both files are the owner's only.
    for suffix in (".xml", ".base64"):
        st = os.stat(os.path.join(secrets_dir(vrtd.root), UUID1 + suffix))
        assert stat.S_IMODE(st.st_mode) == 0o600
    virsh(vrtd.uri, "secret-undefine", UUID1)
    assert virsh(vrtd.uri, "secret-list").stdout.strip() == ""
    assert os.listdir(secrets_dir(vrtd.root)) == []
    p = virsh(vrtd.uri, "secret-get-value", UUID1, check=False)
    assert p.returncode != 0 and f"Secret not found: no secret with matching uuid '{UUID1}'" in p.stderr


def test_lookups_and_value_round_trip(conn):
    s = conn.secretDefineXML(secret_xml(UUID1, usage="volume", name="/var/lib/images/a.qcow2"))
    assert s.UUIDString() == UUID1
    assert s.usageType() == libvirt.VIR_SECRET_USAGE_TYPE_VOLUME
    assert s.usageID() == "/var/lib/images/a.qcow2"
    raw = bytes(range(256))
    s.setValue(raw)
    assert conn.secretLookupByUUIDString(UUID1).value() == raw
    t = conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/var/lib/images/a.qcow2")
    assert t.UUIDString() == UUID1
    code, dom, msg = error_of(conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_CEPH, "nope")
    assert code == libvirt.VIR_ERR_NO_SECRET and dom == libvirt.VIR_FROM_SECRET
    assert msg == "Secret not found: no secret with matching usage 'nope'"
    # Without a <uuid> one is made up; every usage type of libvirt 9.0 is read.
    for usage in ("iscsi", "tls", "vtpm"):
        s2 = conn.secretDefineXML(secret_xml(usage=usage, name=f"{usage}-1"))
        assert len(s2.UUIDString()) == 36
    assert conn.numOfSecrets() == 4
    assert sorted(conn.listSecrets()) == sorted(x.UUIDString() for x in conn.listAllSecrets())
    # A secret without a value says so.
    code, _, msg = error_of(conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_TLS, "tls-1").value)
    assert code == libvirt.VIR_ERR_NO_SECRET and "does not have a value" in msg


def test_private_secret_value_is_refused(conn):
    s = conn.secretDefineXML(secret_xml(UUID1, private="yes"))
    s.setValue(b"hidden")
    code, dom, msg = error_of(s.value)
    assert (code, dom) == (libvirt.VIR_ERR_INVALID_SECRET, libvirt.VIR_FROM_SECRET)
    assert msg == "Invalid secret: secret is private"
    # Its private flag cannot be dropped by a redefinition.
    code, _, msg = error_of(conn.secretDefineXML, secret_xml(UUID1, private="no"))
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR and "cannot change private flag on existing secret" in msg


def test_list_filters(conn):
    conn.secretDefineXML(secret_xml(UUID1, name="a", ephemeral="yes"))
    conn.secretDefineXML(secret_xml(UUID2, name="b", private="yes"))

    def uuids(flags):
        return sorted(s.UUIDString() for s in conn.listAllSecrets(flags))

    assert uuids(0) == sorted([UUID1, UUID2])
    assert uuids(libvirt.VIR_CONNECT_LIST_SECRETS_EPHEMERAL) == [UUID1]
    assert uuids(libvirt.VIR_CONNECT_LIST_SECRETS_NO_EPHEMERAL) == [UUID2]
    assert uuids(libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE) == [UUID2]
    assert uuids(libvirt.VIR_CONNECT_LIST_SECRETS_NO_PRIVATE) == [UUID1]
    assert uuids(libvirt.VIR_CONNECT_LIST_SECRETS_EPHEMERAL | libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE) == []
    code, dom, msg = error_of(conn.listAllSecrets, 1 << 4)
    assert code == libvirt.VIR_ERR_INVALID_ARG
    assert msg == "unsupported flags (0x10) in function secretConnectListAllSecrets"


def test_persistent_kept_ephemeral_gone_after_restart(tmproot):
    d = Vrtd(tmproot).start()
    c = libvirt.open(d.uri)
    c.secretDefineXML(secret_xml(UUID1, name="keep")).setValue(b"kept value")
    c.secretDefineXML(secret_xml(UUID2, name="drop", ephemeral="yes")).setValue(b"memory only")
    # The ephemeral secret has no file at all.
    assert sorted(os.listdir(secrets_dir(tmproot))) == [UUID1 + ".base64", UUID1 + ".xml"]
    c.close()
    d.stop()
    d = Vrtd(tmproot).start()
    try:
        c = libvirt.open(d.uri)
        assert [s.UUIDString() for s in c.listAllSecrets()] == [UUID1]
        assert c.secretLookupByUUIDString(UUID1).value() == b"kept value"
        code, _, _ = error_of(c.secretLookupByUUIDString, UUID2)
        assert code == libvirt.VIR_ERR_NO_SECRET
        c.close()
    finally:
        d.stop()


def test_ephemeral_turning_persistent_writes_its_value(conn, vrtd):
    s = conn.secretDefineXML(secret_xml(UUID1, ephemeral="yes"))
    s.setValue(b"v1")
    assert os.listdir(secrets_dir(vrtd.root)) == []
    conn.secretDefineXML(secret_xml(UUID1, ephemeral="no"))
    assert sorted(os.listdir(secrets_dir(vrtd.root))) == [UUID1 + ".base64", UUID1 + ".xml"]
    conn.secretDefineXML(secret_xml(UUID1, ephemeral="yes"))
    assert os.listdir(secrets_dir(vrtd.root)) == []
    assert conn.secretLookupByUUIDString(UUID1).value() == b"v1"


def test_bad_definitions(conn):
    cases = [
        ("<secret ephemeral='maybe'/>", libvirt.VIR_ERR_XML_ERROR, "XML error: invalid value of 'ephemeral'"),
        ("<secret private='1'/>", libvirt.VIR_ERR_XML_ERROR, "XML error: invalid value of 'private'"),
        ("<secret><usage/></secret>", libvirt.VIR_ERR_XML_ERROR, "XML error: unknown secret usage type"),
        ("<secret><usage type='bogus'/></secret>", libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
         "unsupported configuration: unknown secret usage type bogus"),
        ("<secret><usage type='ceph'/></secret>", libvirt.VIR_ERR_INTERNAL_ERROR,
         "internal error: Ceph usage specified, but name is missing"),
        ("<secret><uuid>zzz</uuid></secret>", libvirt.VIR_ERR_INTERNAL_ERROR, "internal error: malformed uuid element"),
    ]
    for xml, code, msg in cases:
        got = error_of(conn.secretDefineXML, xml)
        assert (got[0], got[2]) == (code, msg), xml
    # One usage, one secret.
    conn.secretDefineXML(secret_xml(UUID1, name="shared"))
    code, _, msg = error_of(conn.secretDefineXML, secret_xml(UUID2, name="shared"))
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR
    assert msg == f"internal error: a secret with UUID {UUID1} already defined for use with shared"
    code, _, msg = error_of(conn.secretDefineXML, secret_xml(UUID1, name="other"))
    assert msg == f"internal error: a secret with UUID {UUID1} is already defined for use with shared"


def test_read_only_connection(conn, vrtd):
    conn.secretDefineXML(secret_xml(UUID1)).setValue(b"x")
    ro = libvirt.openReadOnly(vrtd.uri_ro)
    try:
        s = ro.secretLookupByUUIDString(UUID1)
        assert "<uuid>" + UUID1 in s.XMLDesc()
        assert [x.UUIDString() for x in ro.listAllSecrets()] == [UUID1]
        # python3-libvirt's client refuses these itself first; virsh over the
        # read-only socket reaches the daemon, which refuses them too.
        for args in (("secret-get-value", UUID1), ("secret-undefine", UUID1)):
            p = virsh(vrtd.uri_ro, *args, check=False)
            assert p.returncode != 0 and "read only access prevents" in p.stderr
    finally:
        ro.close()
    assert conn.secretLookupByUUIDString(UUID1).value() == b"x"


def luks_domain_xml(name, disk, secret_uuid):
    import fcntl
    kind = "qemu"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        try:
            kind = "kvm" if fcntl.ioctl(fd, 0xAE00) == 12 else "qemu"
        finally:
            os.close(fd)
    except OSError:
        pass
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/>"
            "<target dev='vda' bus='virtio'/>"
            f"<encryption format='luks'><secret type='passphrase' uuid='{secret_uuid}'/></encryption>"
            "</disk><memballoon model='none'/></devices></domain>")


@pytest.mark.skipif(not shutil.which("qemu-img"), reason="qemu-img (qemu-utils) is needed")
def test_luks_disk_opens_with_its_secret(conn, vrtd, tmp_path):
    from vrt_fixtures import kill_vms_under
    disk = str(tmp_path / "luks.qcow2")
    # qemu-img times PBKDF2 by the thread's CPU clock and gives up when a
    # round reads 0 ms ("Unable to get accurate CPU usage"), which a coarse
    # or busy clock does now and then: only that refusal is tried again.
    # A short iteration time keeps QEMU's unlock at start well inside the
    # monitor's wait on a loaded host.
    for attempt in range(5):
        p = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "--object", "secret,id=sec0,data=correct horse",
                            "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50", disk, "16M"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode == 0 or "Unable to get accurate CPU usage" not in p.stderr:
            break
    assert p.returncode == 0, p.stderr
    s = conn.secretDefineXML(secret_xml(UUID1, usage="volume", name=disk, private="yes"))
    s.setValue(b"correct horse")
    try:
        dom = conn.defineXML(luks_domain_xml("luks1", disk, UUID1))
        assert f"<secret type='passphrase' uuid='{UUID1}'/>" in dom.XMLDesc()
        dom.create()
        out = virsh(vrtd.uri, "qemu-monitor-command", "luks1", '{"execute":"query-block"}').stdout
        assert '"encrypted": true' in out.replace('":true', '": true') and disk in out
        # QEMU had the passphrase from a file that is gone once it runs.
        run_dir = os.path.join(vrtd.root, "run", "vrt", "qemu")
        leftovers = [f for _, _, fs in os.walk(run_dir) for f in fs if f.endswith(".secret")]
        assert leftovers == []
        dom.destroy()
        # A wrong passphrase: QEMU cannot open the image and the start fails.
        s.setValue(b"wrong")
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        assert "Invalid password" in e.value.get_error_message()
    finally:
        kill_vms_under(vrtd.root)


_loop_started = []


def start_event_loop():
    import threading
    if not _loop_started:
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                         daemon=True).start()
        _loop_started.append(True)


def test_secret_events(vrtd):
    from vrt_fixtures import wait_for
    start_event_loop()
    c = libvirt.open(vrtd.uri)
    try:
        got = []
        c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE,
                                 lambda conn, s, ev, det, o: got.append(("life", s.UUIDString(), ev)), None)
        c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_VALUE_CHANGED,
                                 lambda conn, s, o: got.append(("value", s.UUIDString())), None)
        s = c.secretDefineXML(secret_xml(UUID1))
        s.setValue(b"v")
        s.undefine()
        expect = [("life", UUID1, libvirt.VIR_SECRET_EVENT_DEFINED), ("value", UUID1),
                  ("life", UUID1, libvirt.VIR_SECRET_EVENT_UNDEFINED)]
        wait_for(lambda: len(got) >= 3, what="secret events")
        assert got == expect
    finally:
        c.close()


def test_vrt_cli_secret_commands(vrtd, tmp_path):
    from vrt_fixtures import vrt
    f = tmp_path / "s.xml"
    f.write_text(secret_xml(UUID2, usage="tls", name="tls-cli"))
    assert f"Secret {UUID2} created" in vrt(vrtd.uri, "secret-define", str(f)).stdout
    vrt(vrtd.uri, "secret-set-value", UUID2, "aGVsbG8=")
    assert vrt(vrtd.uri, "secret-get-value", UUID2).stdout.strip() == "aGVsbG8="
    assert UUID2 in vrt(vrtd.uri, "secret-list").stdout
    assert "<usage type='tls'>" in vrt(vrtd.uri, "secret-dumpxml", UUID2).stdout
    vrt(vrtd.uri, "secret-undefine", UUID2)
    p = vrt(vrtd.uri, "secret-get-value", UUID2, check=False)
    assert p.returncode == 1 and "Secret not found" in p.stderr

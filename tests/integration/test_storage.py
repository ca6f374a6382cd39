"""Storage pools (dir) and their volumes through vrtd, as virsh and
python3-libvirt users see them: the pool lifecycle (define, build, start,
refresh, destroy, delete, undefine), volumes (raw sparse and preallocated,
qcow2 with a backing store, clone, resize, wipe, lookups), XML valid against
libvirt's schemas, autostart across a vrtd restart, pool events, a domain
whose disk is a volume, and the refusals with libvirt's errors."""
import json
import os
import re
import shutil
import stat
import threading
import time

import pytest

from vrt_fixtures import Vrtd, import_required, require, run, virsh, vrt, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")

POOL_RNG = "/usr/share/libvirt/schemas/storagepool.rng"
VOL_RNG = "/usr/share/libvirt/schemas/storagevol.rng"


def validate(tmp_path, xml, rng):
    require(os.path.exists(rng) and shutil.which("xmllint"), "libvirt's schemas or xmllint are not installed")
    path = tmp_path / "check.xml"
    path.write_text(xml)
    p = run(["xmllint", "--noout", "--relaxng", rng, str(path)], check=False)
    assert p.returncode == 0, p.stdout + p.stderr + xml


def qemu_img_info(path):
    out = run(["qemu-img", "info", "--output=json", "-U", path]).stdout
    return json.loads(out)


def fail(uri, *args):
    p = virsh(uri, *args, check=False)
    assert p.returncode != 0, p.stdout
    return p.stderr


@pytest.fixture
def pooldir(tmproot):
    return os.path.join(tmproot, "pools", "p1")


def test_dir_pool_lifecycle(vrtd, pooldir, tmp_path):
    u = vrtd.uri
    virsh(u, "pool-define-as", "p1", "dir", "--target", pooldir)
    assert "p1" in virsh(u, "pool-list", "--inactive", "--name").stdout.split()
    # Not built yet: the start fails as libvirt's does, and the pool stays inactive.
    assert "cannot open directory" in fail(u, "pool-start", "p1")
    virsh(u, "pool-build", "p1")
    st = os.stat(pooldir)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o711
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    virsh(u, "pool-start", "p1")
    assert virsh(u, "pool-list", "--name").stdout.split() == ["p1"]
    assert "storage pool 'p1' is already active" in fail(u, "pool-start", "p1")

    conn = libvirt.open(u)
    pool = conn.storagePoolLookupByName("p1")
    state, cap, alloc, avail = pool.info()
    vfs = os.statvfs(pooldir)
    assert state == libvirt.VIR_STORAGE_POOL_RUNNING
    assert cap == vfs.f_frsize * vfs.f_blocks
    assert 0 < avail <= cap and alloc == cap - avail
    assert pool.isActive() == 1 and pool.isPersistent() == 1 and pool.autostart() == 0
    assert conn.storagePoolLookupByUUIDString(pool.UUIDString()).name() == "p1"
    assert conn.storagePoolLookupByTargetPath(pooldir + "/").name() == "p1"
    assert [p.name() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)] == ["p1"]
    assert conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == []
    assert conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL) == []
    assert conn.numOfStoragePools() == 1 and conn.numOfDefinedStoragePools() == 0

    live = virsh(u, "pool-dumpxml", "p1").stdout
    validate(tmp_path, live, POOL_RNG)
    assert f"<path>{pooldir}</path>" in live and "<mode>0711</mode>" in live
    assert f"<capacity unit='bytes'>{cap}</capacity>" in live
    inactive = virsh(u, "pool-dumpxml", "--inactive", "p1").stdout
    validate(tmp_path, inactive, POOL_RNG)
    assert "<capacity unit='bytes'>0</capacity>" in inactive and "<permissions>" not in inactive

    # A file made behind vrtd's back is a volume after a refresh.
    with open(os.path.join(pooldir, "outside.img"), "wb") as f:
        f.truncate(1 << 20)
    assert "outside.img" not in virsh(u, "vol-list", "p1").stdout
    virsh(u, "pool-refresh", "p1")
    assert "outside.img" in virsh(u, "vol-list", "p1").stdout
    assert pool.numOfVolumes() == 1 and pool.listVolumes() == ["outside.img"]

    # Refusals, with libvirt's words.
    err = fail(u, "pool-define-as", "p1", "dir", "--target", pooldir + "x")
    assert "operation failed: pool 'p1' already exists with uuid" in err
    assert "Storage source conflict with pool: 'p1'" in fail(u, "pool-define-as", "p2", "dir", "--target", pooldir)
    assert "storage pool 'p1' is still active" in fail(u, "pool-delete", "p1")
    assert "storage pool 'p1' is still active" in fail(u, "pool-undefine", "p1")
    with pytest.raises(libvirt.libvirtError) as e:
        conn.storagePoolLookupByName("nope")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL
    assert e.value.get_error_domain() == libvirt.VIR_FROM_STORAGE
    assert e.value.get_error_message() == "Storage pool not found: no storage pool with matching name 'nope'"
    with pytest.raises(libvirt.libvirtError) as e:
        conn.findStoragePoolSources("dir", None, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT

    virsh(u, "pool-destroy", "p1")
    assert "storage pool 'p1' is not active" in fail(u, "vol-list", "p1")
    assert "storage pool 'p1' is not active" in fail(u, "pool-destroy", "p1")
    assert "Directory not empty" in fail(u, "pool-delete", "p1")
    os.unlink(os.path.join(pooldir, "outside.img"))
    virsh(u, "pool-delete", "p1")
    assert not os.path.exists(pooldir)
    virsh(u, "pool-undefine", "p1")
    assert conn.listAllStoragePools(0) == []
    assert os.listdir(os.path.join(vrtd.root, "etc", "vrt", "storage")) in ([], ["autostart"])
    conn.close()


def test_transient_pool_and_names(vrtd, tmproot):
    conn = libvirt.open(vrtd.uri)
    d = os.path.join(tmproot, "t")
    xml = f"<pool type='dir'><name>t 1.xml</name><target><path>{d}</path></target></pool>"
    pool = conn.storagePoolCreateXML(xml, libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    assert pool.isActive() == 1 and pool.isPersistent() == 0 and os.path.isdir(d)
    assert [p.name() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT)] == ["t 1.xml"]
    with pytest.raises(libvirt.libvirtError) as e:
        pool.setAutostart(1)
    pool.destroy()
    assert conn.listAllStoragePools(0) == []
    with pytest.raises(libvirt.libvirtError) as e:
        conn.storagePoolDefineXML("<pool type='dir'><name>a/b</name><target><path>/x</path></target></pool>")
    assert e.value.get_error_code() == libvirt.VIR_ERR_XML_ERROR
    assert e.value.get_error_message() == "XML error: name a/b cannot contain '/'"
    with pytest.raises(libvirt.libvirtError) as e:
        conn.storagePoolDefineXML("<pool type='dir'><name>x</name></pool>")
    assert e.value.get_error_message() == "XML error: missing storage pool target path"
    conn.close()


def test_volumes(vrtd, pooldir, tmp_path):
    require(shutil.which("qemu-img"), "qemu-img is not installed")
    u = vrtd.uri
    virsh(u, "pool-define-as", "p1", "dir", "--target", pooldir)
    virsh(u, "pool-start", "p1", "--build")

    # raw, sparse: nothing allocated but the size.
    virsh(u, "vol-create-as", "p1", "sparse.raw", "64M", "--allocation", "0")
    st = os.stat(os.path.join(pooldir, "sparse.raw"))
    assert st.st_size == 64 << 20 and st.st_blocks * 512 < (1 << 20)
    assert stat.S_IMODE(st.st_mode) == 0o600
    # raw without <allocation>: allocated as libvirt does (allocation = capacity).
    virsh(u, "vol-create-as", "p1", "full.raw", "8M")
    st = os.stat(os.path.join(pooldir, "full.raw"))
    assert st.st_size == 8 << 20 and st.st_blocks * 512 >= 8 << 20
    # qcow2 on a backing store.
    base = os.path.join(pooldir, "full.raw")
    virsh(u, "vol-create-as", "p1", "top.qcow2", "16M", "--format", "qcow2", "--backing-vol", base,
          "--backing-vol-format", "raw")
    info = qemu_img_info(os.path.join(pooldir, "top.qcow2"))
    assert info["format"] == "qcow2" and info["virtual-size"] == 16 << 20
    assert info["backing-filename"] == base and info.get("backing-filename-format") == "raw"

    conn = libvirt.open(u)
    pool = conn.storagePoolLookupByName("p1")
    vol = pool.storageVolLookupByName("top.qcow2")
    path = os.path.join(pooldir, "top.qcow2")
    assert vol.path() == path and vol.key() == path
    t, cap, alloc = vol.info()
    assert (t, cap) == (libvirt.VIR_STORAGE_VOL_FILE, 16 << 20) and 0 < alloc < (2 << 20)
    assert conn.storageVolLookupByKey(path).name() == "top.qcow2"
    assert conn.storageVolLookupByPath(pooldir + "//top.qcow2").name() == "top.qcow2"
    assert vol.storagePoolLookupByVolume().name() == "p1"
    xml = vol.XMLDesc(0)
    validate(tmp_path, xml, VOL_RNG)
    assert "<format type='qcow2'/>" in xml and "<compat>0.10</compat>" in xml
    assert f"<backingStore>\n    <path>{base}</path>\n    <format type='raw'/>" in xml
    assert "<timestamps>" in xml
    raw_xml = pool.storageVolLookupByName("sparse.raw").XMLDesc(0)
    validate(tmp_path, raw_xml, VOL_RNG)
    assert "<format type='raw'/>" in raw_xml and "<capacity unit='bytes'>67108864</capacity>" in raw_xml
    assert sorted(v.name() for v in pool.listAllVolumes(0)) == ["full.raw", "sparse.raw", "top.qcow2"]
    assert virsh(u, "vol-path", "--pool", "p1", "top.qcow2").stdout.strip() == path
    assert virsh(u, "vol-key", "--pool", "p1", "top.qcow2").stdout.strip() == path
    assert virsh(u, "vol-pool", path).stdout.strip() == "p1"
    assert "Capacity:       16.00 MiB" in virsh(u, "vol-info", "--pool", "p1", "top.qcow2").stdout

    # clone (qemu-img convert): same content, its own file
    with open(base, "r+b") as f:
        f.write(b"vrt-data" * 16)
    virsh(u, "vol-clone", "--pool", "p1", "full.raw", "copy.raw")
    with open(os.path.join(pooldir, "copy.raw"), "rb") as f:
        assert f.read(128) == b"vrt-data" * 16
    assert os.path.getsize(os.path.join(pooldir, "copy.raw")) == 8 << 20

    # resize: raw grows and, with --shrink, shrinks; qcow2 through qemu-img
    virsh(u, "vol-resize", "--pool", "p1", "copy.raw", "12M")
    assert os.path.getsize(os.path.join(pooldir, "copy.raw")) == 12 << 20
    err = fail(u, "vol-resize", "--pool", "p1", "copy.raw", "4M")
    assert "Can't shrink capacity below current capacity unless shrink flag explicitly specified" in err
    virsh(u, "vol-resize", "--pool", "p1", "sparse.raw", "--shrink", "32M")
    assert os.path.getsize(os.path.join(pooldir, "sparse.raw")) == 32 << 20
    virsh(u, "vol-resize", "--pool", "p1", "top.qcow2", "--delta", "8M")
    assert qemu_img_info(path)["virtual-size"] == 24 << 20
    virsh(u, "vol-resize", "--pool", "p1", "sparse.raw", "40M", "--allocate")
    st = os.stat(os.path.join(pooldir, "sparse.raw"))
    assert st.st_size == 40 << 20 and st.st_blocks * 512 >= 40 << 20

    # wipe: zeroes, the size kept
    virsh(u, "vol-wipe", "--pool", "p1", "copy.raw")
    with open(os.path.join(pooldir, "copy.raw"), "rb") as f:
        assert f.read(128) == bytes(128)
    assert os.path.getsize(os.path.join(pooldir, "copy.raw")) == 12 << 20
    err = fail(u, "vol-wipe", "--pool", "p1", "copy.raw", "--algorithm", "trim")
    assert "'trim' algorithm not supported" in err

    # refusals
    assert "storage volume 'copy.raw' exists already" in fail(u, "vol-create-as", "p1", "copy.raw", "1M")
    with pytest.raises(libvirt.libvirtError) as e:
        pool.storageVolLookupByName("nope")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
    assert e.value.get_error_message() == "Storage volume not found: no storage vol with matching name 'nope'"
    with pytest.raises(libvirt.libvirtError) as e:
        conn.storageVolLookupByPath("/nonexistent")
    assert e.value.get_error_message() == "Storage volume not found: no storage vol with matching path '/nonexistent'"
    with pytest.raises(libvirt.libvirtError) as e:
        pool.createXML("<volume><name>x</name></volume>", 0)
    assert e.value.get_error_message() == "XML error: missing capacity element"
    # a file of that name that the pool does not list yet is not overwritten
    with open(os.path.join(pooldir, "mine.raw"), "wb") as f:
        f.write(b"keep")
    assert "File exists" in fail(u, "vol-create-as", "p1", "mine.raw", "1M")
    with open(os.path.join(pooldir, "mine.raw"), "rb") as f:
        assert f.read() == b"keep"

    # delete
    virsh(u, "vol-delete", "--pool", "p1", "copy.raw")
    assert not os.path.exists(os.path.join(pooldir, "copy.raw"))
    assert "copy.raw" not in virsh(u, "vol-list", "p1").stdout
    conn.close()


def test_readonly_connection_lists_but_does_not_change(vrtd, pooldir):
    virsh(vrtd.uri, "pool-define-as", "p1", "dir", "--target", pooldir)
    assert "p1" in virsh(vrtd.uri_ro, "pool-list", "--all", "--name").stdout
    err = fail(vrtd.uri_ro, "pool-build", "p1")
    assert "read only access prevents virStoragePoolBuild" in err
    err = fail(vrtd.uri_ro, "find-storage-pool-sources", "dir")
    assert "read only access prevents virConnectFindStoragePoolSources" in err
    assert not os.path.exists(pooldir)


def test_autostart_across_restart(tmproot):
    d = Vrtd(tmproot).start()
    pooldir = os.path.join(tmproot, "auto")
    try:
        virsh(d.uri, "pool-define-as", "auto", "dir", "--target", pooldir)
        virsh(d.uri, "pool-build", "auto")
        virsh(d.uri, "pool-autostart", "auto")
        assert virsh(d.uri, "pool-list", "--name").stdout.split() == []
        virsh(d.uri, "pool-start", "auto")
        virsh(d.uri, "vol-create-as", "auto", "v1", "1M", "--allocation", "0")
        virsh(d.uri, "pool-define-as", "manual", "dir", "--target", pooldir + "2")
        virsh(d.uri, "pool-build", "manual")
        virsh(d.uri, "pool-start", "manual")
        assert os.path.islink(os.path.join(tmproot, "etc", "vrt", "storage", "autostart", "auto.xml"))
        d.stop()
        # The autostart pool starts with vrtd; the one active before a
        # restart is active again; both list what their directories hold.
        d.start()
        assert virsh(d.uri, "pool-list", "--name").stdout.split() == ["auto", "manual"]
        with open(os.path.join(pooldir + "2", "late.img"), "wb") as f:
            f.truncate(4096)
        assert "v1" in virsh(d.uri, "vol-list", "auto").stdout
        virsh(d.uri, "pool-destroy", "manual")
        d.stop()
        d.start()
        assert virsh(d.uri, "pool-list", "--name").stdout.split() == ["auto"]
        assert virsh(d.uri, "pool-list", "--inactive", "--name").stdout.split() == ["manual"]
        virsh(d.uri, "pool-start", "manual")
        assert "late.img" in virsh(d.uri, "vol-list", "manual").stdout
        virsh(d.uri, "pool-autostart", "--disable", "auto")
        virsh(d.uri, "pool-destroy", "auto")
        d.stop()
        d.start()
        assert "auto" in virsh(d.uri, "pool-list", "--inactive", "--name").stdout.split()
    finally:
        d.stop()


class EventLoop:
    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            libvirt.virEventRunDefaultImpl()


_loop = None


def test_pool_events(vrtd, pooldir):
    global _loop
    if _loop is None:
        _loop = EventLoop()
    conn = libvirt.open(vrtd.uri)
    events = []
    cb1 = conn.storagePoolEventRegisterAny(
        None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
        lambda c, p, ev, det, op: events.append((p.name(), ev)), None)
    cb2 = conn.storagePoolEventRegisterAny(
        None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, lambda c, p, op: events.append((p.name(), "refresh")), None)
    time.sleep(0.2)
    virsh(vrtd.uri, "pool-define-as", "ev", "dir", "--target", pooldir)
    virsh(vrtd.uri, "pool-build", "ev")
    virsh(vrtd.uri, "pool-start", "ev")
    virsh(vrtd.uri, "pool-refresh", "ev")
    virsh(vrtd.uri, "pool-destroy", "ev")
    virsh(vrtd.uri, "pool-delete", "ev")
    virsh(vrtd.uri, "pool-undefine", "ev")
    E = libvirt
    want = [("ev", E.VIR_STORAGE_POOL_EVENT_DEFINED), ("ev", E.VIR_STORAGE_POOL_EVENT_CREATED),
            ("ev", E.VIR_STORAGE_POOL_EVENT_STARTED), ("ev", "refresh"), ("ev", E.VIR_STORAGE_POOL_EVENT_STOPPED),
            ("ev", E.VIR_STORAGE_POOL_EVENT_DELETED), ("ev", E.VIR_STORAGE_POOL_EVENT_UNDEFINED)]
    wait_for(lambda: len(events) >= len(want), timeout=15, what=f"events {want}, got {events}")
    assert events == want
    conn.storagePoolEventDeregisterAny(cb1)
    conn.storagePoolEventDeregisterAny(cb2)
    with pytest.raises(libvirt.libvirtError):
        conn.storagePoolEventDeregisterAny(cb1)
    conn.close()


def test_domain_disk_from_volume(vrtd, pooldir, tmp_path):
    require(shutil.which("qemu-img"), "qemu-img is not installed")
    u = vrtd.uri
    virsh(u, "pool-define-as", "vm", "dir", "--target", pooldir)
    virsh(u, "pool-start", "vm", "--build")
    virsh(u, "vol-create-as", "vm", "disk.qcow2", "32M", "--format", "qcow2")
    path = os.path.join(pooldir, "disk.qcow2")
    # TCG: what is checked is the disk, not the accelerator
    xml = """<domain type='qemu'>
  <name>voldom</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'>
      <source pool='vm' volume='disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>"""
    conn = libvirt.open(u)
    dom = conn.defineXML(xml)
    inactive = dom.XMLDesc(0)
    assert "<disk type='volume' device='disk'>" in inactive and "<source pool='vm' volume='disk.qcow2'/>" in inactive
    virsh(u, "pool-destroy", "vm")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert "storage pool 'vm' is not active" in e.value.get_error_message()
    virsh(u, "pool-start", "vm")
    dom.create()
    try:
        live = dom.XMLDesc(0)
        assert "<disk type='volume' device='disk'>" in live
        assert "<source pool='vm' volume='disk.qcow2'/>" in live and path not in live
        with open(os.path.join(vrtd.root, "run", "vrt", "qemu", "voldom.xml")) as f:
            status = f.read()
        pid = int(re.search(r"pid=['\"](\d+)['\"]", status).group(1))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode()
        assert f'"filename":"{path}"' in cmdline and '"driver":"qcow2"' in cmdline
        out = virsh(u, "qemu-monitor-command", "voldom", '{"execute":"query-block"}').stdout
        blocks = json.loads(out)["return"]
        files = [b["inserted"]["image"]["filename"] for b in blocks if "inserted" in b]
        assert path in files, blocks
    finally:
        dom.destroy()
        dom.undefine()
    conn.close()


def test_vrt_cli_pool_and_volume_commands(vrtd, pooldir, tmp_path):
    require(shutil.which("qemu-img"), "qemu-img is not installed")
    u = vrtd.uri
    xml = tmp_path / "pool.xml"
    xml.write_text(f"<pool type='dir'><name>cli</name><target><path>{pooldir}</path></target></pool>")
    assert "Pool cli defined" in vrt(u, "pool-define", str(xml)).stdout
    vrt(u, "pool-start", "cli", "--build")
    assert json.loads(vrt(u, "--json", "pool-list").stdout) == [
        {"name": "cli", "uuid": json.loads(vrt(u, "--json", "pool-info", "cli").stdout)["uuid"], "active": True,
         "autostart": False}]
    vrt(u, "vol-create-as", "cli", "d.qcow2", "10M", "--format", "qcow2")
    vrt(u, "vol-create-as", "cli", "r.raw", "1M", "--allocation", "0")
    path = os.path.join(pooldir, "d.qcow2")
    assert qemu_img_info(path)["virtual-size"] == 10 << 20
    listed = json.loads(vrt(u, "--json", "vol-list", "cli").stdout)
    assert listed == [{"name": "d.qcow2", "path": path}, {"name": "r.raw", "path": os.path.join(pooldir, "r.raw")}]
    vrt(u, "vol-resize", "cli", "d.qcow2", "12M")
    info = json.loads(vrt(u, "--json", "vol-info", "cli", "d.qcow2").stdout)
    assert info["capacity"] == 12 << 20 and info["type"] == "file"
    assert vrt(u, "vol-path", "cli", "d.qcow2").stdout.strip() == path
    assert "<format type='qcow2'/>" in vrt(u, "vol-dumpxml", "cli", "d.qcow2").stdout
    vrt(u, "vol-wipe", "cli", "r.raw")
    vrt(u, "vol-delete", "cli", "d.qcow2")
    vrt(u, "vol-delete", "cli", "r.raw")
    assert not os.path.exists(path)
    vrt(u, "pool-destroy", "cli")
    p = vrt(u, "vol-list", "cli", check=False)
    assert p.returncode == 1 and "storage pool 'cli' is not active" in p.stderr
    vrt(u, "pool-delete", "cli")
    vrt(u, "pool-undefine", "cli")
    assert not os.path.exists(pooldir)
    assert json.loads(vrt(u, "--json", "pool-list", "--all").stdout) == []


def test_pool_names_survive_restart(tmproot):
    # Names are file names (NAME.xml): odd ones come back unchanged; the
    # longest is 240 bytes (NAME.xml.new.XXXXXX fits in 255).
    names = [".hidden", "with space", "a'quote", "x.xml", "autostart", "ünïcödé", "-dash", "é" * 120]
    assert len(names[-1].encode()) == 240
    d = Vrtd(tmproot).start()
    try:
        conn = libvirt.open(d.uri)
        uuids = {}
        for i, n in enumerate(names):
            esc = n.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
            pool = conn.storagePoolDefineXML(
                f"<pool type='dir'><name>{esc}</name><target><path>{tmproot}/n{i}</path></target></pool>")
            assert pool.name() == n
            uuids[n] = pool.UUIDString()
        with pytest.raises(libvirt.libvirtError) as e:
            conn.storagePoolDefineXML(
                f"<pool type='dir'><name>{'é' * 120}x</name><target><path>{tmproot}/long</path></target></pool>")
        assert e.value.get_error_code() == libvirt.VIR_ERR_XML_ERROR
        conn.close()
        d.stop()
        d.start()
        conn = libvirt.open(d.uri)
        assert sorted(conn.listDefinedStoragePools()) == sorted(names)
        for n in names:
            assert conn.storagePoolLookupByName(n).UUIDString() == uuids[n]
            conn.storagePoolLookupByName(n).undefine()
        conn.close()
        assert [f for f in os.listdir(os.path.join(tmproot, "etc", "vrt", "storage")) if f.endswith(".xml")] == []
    finally:
        d.stop()


def test_volume_being_built(tmproot):
    # qemu-img is held at its start until the test lets it go: meanwhile
    # vrtd answers other calls (qemu-img runs outside the driver's lock)
    # and refuses what would pull the volume or its pool away.
    real = shutil.which("qemu-img")
    require(real, "qemu-img is not installed")
    fakebin = os.path.join(tmproot, "fakebin")
    os.makedirs(fakebin)
    started, go = os.path.join(tmproot, "started"), os.path.join(tmproot, "go")
    with open(os.path.join(fakebin, "qemu-img"), "w") as f:
        f.write(f"#!/bin/sh\ntouch {started}\nwhile [ ! -e {go} ]; do sleep 0.05; done\nexec {real} \"$@\"\n")
    os.chmod(os.path.join(fakebin, "qemu-img"), 0o755)
    d = Vrtd(tmproot, env={"PATH": fakebin + ":" + os.environ["PATH"]}).start()
    try:
        u = d.uri
        pooldir = os.path.join(tmproot, "bp")
        virsh(u, "pool-define-as", "bp", "dir", "--target", pooldir)
        virsh(u, "pool-start", "bp", "--build")
        result = {}

        def create():
            result["p"] = virsh(u, "vol-create-as", "bp", "slow.qcow2", "8M", "--format", "qcow2", check=False)

        t = threading.Thread(target=create)
        t.start()
        wait_for(lambda: os.path.exists(started), timeout=30, what="qemu-img to start")
        assert "slow.qcow2" in virsh(u, "vol-list", "bp").stdout
        assert "volume 'slow.qcow2' is still being allocated." in fail(u, "vol-delete", "--pool", "bp", "slow.qcow2")
        assert "pool 'bp' has asynchronous jobs running." in fail(u, "pool-destroy", "bp")
        assert "pool 'bp' has asynchronous jobs running." in fail(u, "pool-refresh", "bp")
        virsh(u, "vol-create-as", "bp", "other.raw", "1M")
        open(go, "w").close()
        t.join(timeout=60)
        assert result["p"].returncode == 0, result["p"].stderr
        assert qemu_img_info(os.path.join(pooldir, "slow.qcow2"))["format"] == "qcow2"
        virsh(u, "vol-delete", "--pool", "bp", "slow.qcow2")
        virsh(u, "pool-destroy", "bp")
    finally:
        open(go, "w").close()
        d.stop()

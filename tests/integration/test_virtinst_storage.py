"""virt-manager's storage flow through vrtd, driven by the library
virt-manager itself runs on (Debian's virtinst, the same code its "Add
Storage Pool" and "Create Storage Volume" dialogs and its disk chooser
call): a dir pool defined, built,
started and set to autostart, qcow2 volumes created, cloned and layered on
a backing store, a disk pointed at a volume's path found as that volume,
the pool named 'default' found as virt-manager looks it up, and a local
directory browsed into a pool of its own."""
import os
import sys

import pytest

from vrt_fixtures import import_required, require, run

import_required("libvirt", "python3-libvirt is not installed")
VIRTINST_DIR = "/usr/share/virt-manager"


@pytest.fixture
def virtinst():
    require(os.path.isdir(os.path.join(VIRTINST_DIR, "virtinst")),
            "virtinst is not installed (Debian package virtinst)")
    if VIRTINST_DIR not in sys.path:
        sys.path.insert(0, VIRTINST_DIR)
    import virtinst as mod
    return mod


@pytest.fixture
def conn(virtinst, vrtd):
    c = virtinst.VirtinstConnection(vrtd.uri)
    c.open(None, None)
    yield c
    c.close()


def qemu_img_info(path):
    import json
    return json.loads(run(["qemu-img", "info", "--output=json", "-U", path]).stdout)


def new_pool(virtinst, conn, name, path):
    p = virtinst.StoragePool(conn)
    p.type = "dir"
    p.name = virtinst.StoragePool.find_free_name(conn, name)
    p.target_path = path
    p.validate()
    return p.install(build=True, create=True, autostart=True)


def new_volume(virtinst, conn, pool, name, gib=1, backing=None):
    v = virtinst.StorageVolume(conn)
    v.pool = pool
    v.name = virtinst.StorageVolume.find_free_name(conn, pool, name, suffix=".qcow2")
    v.capacity = gib * 1024 ** 3
    v.allocation = 0
    v.format = "qcow2"
    if backing:
        v.backing_store = backing
    v.validate()
    return v.install()


def test_pool_and_volumes_as_virt_manager_makes_them(virtinst, conn, tmproot):
    path = os.path.join(tmproot, "vmpool")
    pool = new_pool(virtinst, conn, "vmpool", path)
    assert pool.name() == "vmpool"
    assert pool.isActive() and pool.autostart()
    assert os.path.isdir(path)

    vol = new_volume(virtinst, conn, pool, "disk")
    assert vol.name() == "disk.qcow2"
    assert vol.path() == os.path.join(path, "disk.qcow2")
    info = qemu_img_info(vol.path())
    assert info["format"] == "qcow2" and info["virtual-size"] == 1024 ** 3
    # the dialog's next proposal does not collide with what exists
    assert virtinst.StorageVolume.find_free_name(conn, pool, "disk", suffix=".qcow2") == "disk-1.qcow2"

    clone = virtinst.StorageVolume(conn)
    clone.pool = pool
    clone.name = "clone.qcow2"
    clone.set_input_vol(vol)
    clone.validate()
    cvol = clone.install()
    assert qemu_img_info(cvol.path())["virtual-size"] == 1024 ** 3

    overlay = new_volume(virtinst, conn, pool, "overlay", backing=vol.path())
    oinfo = qemu_img_info(overlay.path())
    assert oinfo["backing-filename"] == vol.path()
    assert "<backingStore>" in overlay.XMLDesc(0)
    assert {v.name() for v in pool.listAllVolumes(0)} == {"disk.qcow2", "clone.qcow2", "overlay.qcow2"}

    # the disk chooser: a path inside a pool is that pool's volume
    disk = virtinst.DeviceDisk(conn)
    disk.set_source_path(vol.path())
    disk.validate()
    assert disk.get_vol_object().name() == "disk.qcow2"
    assert disk.type == "file"


def test_default_pool_and_browsed_directory(virtinst, conn, tmproot, tmp_path):
    # No pool named 'default' yet: virt-manager finds none (its first run
    # would build one in the host's /var/lib/libvirt/images: not here).
    assert virtinst.StoragePool.lookup_default_pool(conn) is None
    new_pool(virtinst, conn, "default", os.path.join(tmproot, "images"))
    found = virtinst.StoragePool.lookup_default_pool(conn)
    assert found is not None and found.target_path == os.path.join(tmproot, "images")

    # Browsing to an image in a plain directory makes that directory a pool
    # (virtinst's manage_path), and the image its volume.
    img = tmp_path / "found.img"
    run(["qemu-img", "create", "-q", "-f", "raw", str(img), "16M"])
    from virtinst import diskbackend
    path, vol, pool = diskbackend.manage_path(conn, str(img))
    assert path == str(img)
    assert vol is not None and vol.path() == str(img)
    assert pool.isActive()
    assert pool.XMLDesc(0).count(f"<path>{tmp_path}</path>") == 1

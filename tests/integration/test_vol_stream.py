"""Storage volume upload and download over streams through vrtd, as virsh
and python3-libvirt users do them: a 64 MiB sparse raw file with a few data
extents sent and fetched whole, with and without --sparse (same checksum;
with --sparse the holes stay holes on both sides), partial transfers by
offset and length, an abort mid-upload, a client killed mid-download (its
file descriptor freed), delete refused while a transfer runs, and the
read-only refusal."""
import hashlib
import os
import signal
import subprocess
import threading

import pytest

from vrt_fixtures import import_required, virsh, vrt, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")

MIB = 1024 * 1024
SIZE = 64 * MIB
# (offset, length) of the data extents of the test file; the rest is holes
EXTENTS = [(0, 64 * 1024), (5 * MIB, MIB), (33 * MIB + 4096, 300 * 1024), (60 * MIB, 2 * MIB)]


def make_sparse(path, size=SIZE, extents=EXTENTS):
    with open(path, "wb") as f:
        f.truncate(size)
        for off, length in extents:
            f.seek(off)
            f.write(os.urandom(length))


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def allocated(path):
    return os.stat(path).st_blocks * 512


DATA = sum(length for _, length in EXTENTS)


@pytest.fixture
def pool(vrtd, tmproot):
    target = os.path.join(tmproot, "pools", "vs")
    virsh(vrtd.uri, "pool-define-as", "vs", "dir", "--target", target)
    virsh(vrtd.uri, "pool-build", "vs")
    virsh(vrtd.uri, "pool-start", "vs")
    return target


def new_vol(vrtd, name, size=SIZE, fmt="raw"):
    # Allocation 0: a sparse file (a hole sent over a file's allocated
    # blocks is a seek, which frees nothing, as in libvirt).
    virsh(vrtd.uri, "vol-create-as", "vs", name, str(size), "--format", fmt, "--allocation", "0")


@pytest.mark.parametrize("sparse", [False, True])
def test_virsh_upload_download(vrtd, pool, tmp_path, sparse):
    src = str(tmp_path / "src.img")
    make_sparse(src)
    new_vol(vrtd, "v1")
    opt = ["--sparse"] if sparse else []
    virsh(vrtd.uri, "vol-upload", "v1", src, "--pool", "vs", *opt)
    vol = os.path.join(pool, "v1")
    assert digest(vol) == digest(src)
    if sparse:
        # The holes came as holes: the volume holds about the data alone.
        assert allocated(vol) < DATA + 2 * MIB
    out = str(tmp_path / "out.img")
    virsh(vrtd.uri, "vol-download", "v1", out, "--pool", "vs", *opt)
    assert os.path.getsize(out) == SIZE
    assert digest(out) == digest(src)
    if sparse:
        assert allocated(out) < DATA + 2 * MIB
    else:
        # Without --sparse every byte came as data and was written.
        assert allocated(out) >= SIZE - MIB
    # The volume is free again once the streams ended.
    virsh(vrtd.uri, "vol-wipe", "v1", "--pool", "vs")


def test_sparse_download_ending_in_hole(vrtd, pool, tmp_path):
    src = str(tmp_path / "src.img")
    make_sparse(src, extents=[(MIB, 4096)])
    new_vol(vrtd, "v2")
    virsh(vrtd.uri, "vol-upload", "v2", src, "--pool", "vs", "--sparse")
    out = str(tmp_path / "out.img")
    virsh(vrtd.uri, "vol-download", "v2", out, "--pool", "vs", "--sparse")
    assert os.path.getsize(out) == SIZE and digest(out) == digest(src)
    assert allocated(out) < MIB
    # Into a smaller volume: the last hole extends the file to its full size.
    new_vol(vrtd, "small", size=MIB)
    virsh(vrtd.uri, "vol-upload", "small", src, "--pool", "vs", "--sparse")
    assert os.path.getsize(os.path.join(pool, "small")) == SIZE
    assert digest(os.path.join(pool, "small")) == digest(src)


def test_python_send_recv_all(vrtd, pool, tmp_path):
    src = str(tmp_path / "src.img")
    make_sparse(src)
    new_vol(vrtd, "v3")
    conn = libvirt.open(vrtd.uri)
    vol = conn.storagePoolLookupByName("vs").storageVolLookupByName("v3")
    st = conn.newStream(0)
    vol.upload(st, 0, 0, 0)
    with open(src, "rb") as f:
        st.sendAll(lambda s, n, fd: fd.read(n), f)
    st.finish()
    assert digest(os.path.join(pool, "v3")) == digest(src)

    got = bytearray()
    st = conn.newStream(0)
    vol.download(st, 0, 0, 0)
    st.recvAll(lambda s, buf, opaque: got.extend(buf) or len(buf), None)
    st.finish()
    with open(src, "rb") as f:
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(f.read()).hexdigest()

    # The sparse stream of python3-libvirt: holes come to the hole handler
    # (from a volume that has them: sendAll above wrote zeros).
    new_vol(vrtd, "v3s")
    virsh(vrtd.uri, "vol-upload", "v3s", src, "--pool", "vs", "--sparse")
    vol = conn.storagePoolLookupByName("vs").storageVolLookupByName("v3s")
    got = bytearray()
    holes = []

    def on_hole(stream, length, opaque):
        holes.append(length)
        got.extend(bytes(length))
        return 0

    st = conn.newStream(0)
    vol.download(st, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
    st.sparseRecvAll(lambda s, buf, opaque: got.extend(buf) or len(buf), on_hole, None)
    st.finish()
    with open(src, "rb") as f:
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(f.read()).hexdigest()
    assert sum(holes) == SIZE - DATA and len(holes) == len(EXTENTS)


def test_offset_and_length(vrtd, pool, tmp_path):
    src = str(tmp_path / "src.img")
    make_sparse(src)
    new_vol(vrtd, "v4")
    virsh(vrtd.uri, "vol-upload", "v4", src, "--pool", "vs")
    with open(src, "rb") as f:
        whole = f.read()
    for sparse in ([], ["--sparse"]):
        out = tmp_path / f"part{len(sparse)}.img"
        off, length = 5 * MIB - 1000, MIB + 5000
        virsh(vrtd.uri, "vol-download", "v4", str(out), "--pool", "vs", "--offset", str(off),
              "--length", str(length), *sparse)
        assert out.read_bytes() == whole[off:off + length]
    # An upload at an offset writes only there; the rest of the file stays.
    patch = tmp_path / "patch.bin"
    patch.write_bytes(b"\xab" * 10000)
    virsh(vrtd.uri, "vol-upload", "v4", str(patch), "--pool", "vs", "--offset", str(2 * MIB))
    now = open(os.path.join(pool, "v4"), "rb").read()
    assert len(now) == SIZE
    assert now == whole[:2 * MIB] + b"\xab" * 10000 + whole[2 * MIB + 10000:]
    # A length shorter than what the client sends: libvirt's error.
    conn = libvirt.open(vrtd.uri)
    vol = conn.storagePoolLookupByName("vs").storageVolLookupByName("v4")
    st = conn.newStream(0)
    vol.upload(st, 0, 100, 0)
    with pytest.raises(libvirt.libvirtError) as e:
        st.send(b"x" * 1000)
        st.finish()
    assert "cannot write to stream" in str(e.value)


def test_abort_mid_upload(vrtd, pool, tmp_path):
    new_vol(vrtd, "v5")
    conn = libvirt.open(vrtd.uri)
    vol = conn.storagePoolLookupByName("vs").storageVolLookupByName("v5")
    st = conn.newStream(0)
    vol.upload(st, 0, 0, 0)
    st.send(b"\x11" * MIB)
    st.abort()
    # vrtd still serves, the volume is not held any more.
    assert virsh(vrtd.uri, "vol-list", "vs").returncode == 0
    vol.wipe(0)
    src = str(tmp_path / "src.img")
    make_sparse(src)
    virsh(vrtd.uri, "vol-upload", "v5", src, "--pool", "vs")
    assert digest(os.path.join(pool, "v5")) == digest(src)


def vrtd_fds(vrtd):
    return len(os.listdir(f"/proc/{vrtd.proc.pid}/fd"))


def vrtd_has_open(vrtd, path):
    for fd in os.listdir(f"/proc/{vrtd.proc.pid}/fd"):
        try:
            if os.readlink(f"/proc/{vrtd.proc.pid}/fd/{fd}") == path:
                return True
        except OSError:
            pass
    return False


def test_client_killed_mid_download_and_delete_refused(vrtd, pool, tmp_path):
    new_vol(vrtd, "v6")
    with open(os.path.join(pool, "v6"), "r+b") as f:
        f.write(os.urandom(SIZE))
    vol_path = os.path.join(pool, "v6")
    before = vrtd_fds(vrtd)
    # A client that opens a download and reads nothing: vrtd's queue for it
    # fills and the stream stays open.
    code = ("import libvirt, sys, time\n"
            f"c = libvirt.open({vrtd.uri!r})\n"
            "v = c.storagePoolLookupByName('vs').storageVolLookupByName('v6')\n"
            "s = c.newStream(0)\n"
            "v.download(s, 0, 0, 0)\n"
            "s.recv(1024)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    p = subprocess.Popen(["/usr/bin/python3", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        assert vrtd_has_open(vrtd, vol_path)
        for cmd in (["vol-delete", "v6"], ["vol-wipe", "v6"], ["vol-resize", "v6", "128M"]):
            r = virsh(vrtd.uri, *cmd, "--pool", "vs", check=False)
            assert r.returncode != 0 and "volume 'v6' is still in use." in r.stderr
        # A second transfer of the same volume waits its turn too.
        r = virsh(vrtd.uri, "vol-download", "v6", str(tmp_path / "o"), "--pool", "vs", check=False)
        assert r.returncode != 0 and "still in use" in r.stderr
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    wait_for(lambda: not vrtd_has_open(vrtd, vol_path), what="the volume's fd closed")
    wait_for(lambda: vrtd_fds(vrtd) <= before, what="vrtd's fds back")
    virsh(vrtd.uri, "vol-delete", "v6", "--pool", "vs")
    assert not os.path.exists(vol_path)


def test_read_only_refused(vrtd, pool, tmp_path):
    new_vol(vrtd, "v7", size=MIB)
    src = tmp_path / "s"
    src.write_bytes(b"x" * 1000)
    for cmd in (["vol-upload", "v7", str(src)], ["vol-download", "v7", str(tmp_path / "o")]):
        r = virsh(vrtd.uri_ro, *cmd, "--pool", "vs", check=False)
        assert r.returncode != 0
        assert "read only access prevents virStorageVol" in r.stderr or "read-only" in r.stderr, r.stderr


def test_qcow2_upload_is_raw_bytes(vrtd, pool, tmp_path):
    # libvirt streams the bytes into the file as they are, whatever the format.
    new_vol(vrtd, "q1", size=SIZE, fmt="qcow2")
    src = tmp_path / "q.bin"
    src.write_bytes(os.urandom(3 * 65536))
    virsh(vrtd.uri, "vol-upload", "q1", str(src), "--pool", "vs")
    head = open(os.path.join(pool, "q1"), "rb").read(len(src.read_bytes()))
    assert head == src.read_bytes()


def test_vrt_cli(vrtd, pool, tmp_path):
    src = str(tmp_path / "src.img")
    make_sparse(src)
    new_vol(vrtd, "c1")
    vrt(vrtd.uri, "vol-upload", "vs", "c1", src, "--sparse")
    assert digest(os.path.join(pool, "c1")) == digest(src)
    assert allocated(os.path.join(pool, "c1")) < DATA + 2 * MIB
    for sparse in ([], ["--sparse"]):
        out = str(tmp_path / f"o{len(sparse)}")
        vrt(vrtd.uri, "vol-download", "vs", "c1", out, *sparse)
        assert digest(out) == digest(src)
        if sparse:
            assert allocated(out) < DATA + 2 * MIB

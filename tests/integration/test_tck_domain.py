"""Calls of libvirt's compatibility kit (libvirt-tck, scripts/domain)
that vrtd answered otherwise than libvirtd, made here through
python3-libvirt:

  * virDomainBlockPeek (121-block-info): the bytes of a raw disk's image
    by target name or by path, on an inactive and on a running domain,
    with libvirt's errors for an unknown disk, a read past the end, a
    qcow2 disk, a flag and the read-only socket;
  * a domain on a network that does not exist (180-interface-parameters):
    libvirt's "Network not found", not an interface without a port.
(numatune of a domain without <numatune>, 202-numa-set-parameters, is in
test_tuning.py.)"""
import os
import subprocess

import pytest

from vrt_fixtures import import_required

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def domain_xml(name, raw, qcow2):
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='{raw}'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='{qcow2}'/><target dev='vdb' bus='virtio'/></disk>
  </devices></domain>"""


def peek_error(call):
    with pytest.raises(libvirt.libvirtError) as e:
        call()
    return e.value.get_error_code(), e.value.get_error_message()


def test_block_peek(vrtd, tmp_path):
    raw, qcow2 = str(tmp_path / "raw.img"), str(tmp_path / "q.qcow2")
    data = os.urandom(4096)
    with open(raw, "wb") as f:
        f.write(b"\0" * 65536 + data)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "1M"], check=True)
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(domain_xml("peek-1", raw, qcow2))

    assert dom.blockPeek("vda", 65536, 4096) == data
    assert dom.blockPeek(raw, 65536 + 100, 16) == data[100:116]
    assert peek_error(lambda: dom.blockPeek("vdz", 0, 4)) == (
        libvirt.VIR_ERR_INVALID_ARG, "invalid argument: disk 'vdz' not found in domain")
    assert peek_error(lambda: dom.blockPeek("vda", 65536 + 4090, 10)) == (
        libvirt.VIR_ERR_INVALID_ARG, f"invalid argument: 'vda' starting from {65536 + 4090} has only 6 bytes available")
    assert peek_error(lambda: dom.blockPeek("vdb", 0, 4)) == (
        libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
        "Operation not supported: peeking is only supported for disk with 'raw' format not 'qcow2'")
    assert peek_error(lambda: dom.blockPeek("vda", 0, 4, 1))[0] == libvirt.VIR_ERR_INVALID_ARG

    dom.create()
    try:
        assert dom.blockPeek("vda", 65536, 4096) == data
    finally:
        dom.destroy()

    ro = libvirt.openReadOnly(vrtd.uri_ro)
    code, _ = peek_error(lambda: ro.lookupByName("peek-1").blockPeek("vda", 0, 4))
    assert code == libvirt.VIR_ERR_OPERATION_DENIED


def test_start_on_a_missing_network(vrtd):
    conn = libvirt.open(vrtd.uri)
    xml = """<domain type='qemu'><name>nonet-1</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><interface type='network'><source network='nope'/><model type='virtio'/></interface></devices>
</domain>"""
    assert peek_error(lambda: conn.createXML(xml, 0)) == (
        libvirt.VIR_ERR_NO_NETWORK, "Network not found: no network with matching name 'nope'")
    assert "nonet-1" not in [d.name() for d in conn.listAllDomains()]

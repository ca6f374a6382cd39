"""virsh dump (virDomainCoreDump, virDomainCoreDumpWithFormat) on a real
QEMU (TCG, no guest): the guest's memory as an ELF core or a kdump file
(--memory-only, dump-guest-memory) or as QEMU's migration stream, written
by QEMU into a file vrtd creates; the domain runs on afterwards, is reset
(--reset) or ends as crashed (--crash), as with libvirt.
"""
import os
import struct

import pytest

from vrt_fixtures import import_required, kill_vms_under, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

MEMORY_MIB = 64


def domain_xml(name):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>{MEMORY_MIB}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


@pytest.fixture
def conn(vrtd):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(vrtd.root)


def elf_header(path):
    with open(path, "rb") as f:
        head = f.read(64)
    # e_ident: magic, 64-bit class, little endian; e_type ET_CORE (4); e_machine
    # EM_386 (3) for a guest in the firmware (not yet in long mode)
    e_type, e_machine = struct.unpack_from("<HH", head, 16)
    return head[:4], head[4], head[5], e_type, e_machine


def test_memory_only_elf_core(conn, vrtd, tmp_path):
    dom = conn.createXML(domain_xml("dump1"), 0)
    path = str(tmp_path / "dump1.core")
    virsh(vrtd.uri, "dump", "dump1", path, "--memory-only")
    assert elf_header(path) == (b"\x7fELF", 2, 1, 4, 3)
    # the guest's RAM is in it
    assert os.path.getsize(path) >= MEMORY_MIB << 20
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_UNPAUSED]
    dom.destroy()


def test_memory_only_kdump_format_and_refusals(conn, vrtd, tmp_path):
    dom = conn.createXML(domain_xml("dump2"), 0)
    path = str(tmp_path / "dump2.kdump")
    dom.coreDumpWithFormat(path, libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB, libvirt.VIR_DUMP_MEMORY_ONLY)
    with open(path, "rb") as f:
        # kdump-compressed, in makedumpfile's flattened form (QEMU writes to a descriptor)
        assert f.read(12) == b"makedumpfile"
    # a kdump format needs --memory-only; nothing is written then
    other = str(tmp_path / "never")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.coreDumpWithFormat(other, libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "kdump-compressed format is only supported with memory-only dump" in e.value.get_error_message()
    assert not os.path.exists(other)
    # a directory QEMU cannot be given a file in: the domain runs on
    with pytest.raises(libvirt.libvirtError) as e:
        dom.coreDump(str(tmp_path / "missing" / "core"), libvirt.VIR_DUMP_MEMORY_ONLY)
    assert "Failed to create file" in e.value.get_error_message()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.coreDump(path, 0)
    assert e.value.get_error_code() in (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_NO_DOMAIN)


def test_full_dump_is_qemus_stream_then_reset_and_crash(conn, vrtd, tmp_path):
    dom = conn.defineXML(domain_xml("dump3"))
    dom.create()
    path = str(tmp_path / "dump3.stream")
    virsh(vrtd.uri, "dump", "dump3", path, "--live")
    with open(path, "rb") as f:
        assert f.read(8) == b"QEVM\x00\x00\x00\x03"  # QEMU's migration stream
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_UNPAUSED]
    virsh(vrtd.uri, "dump", "dump3", path, "--memory-only", "--reset")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    virsh(vrtd.uri, "dump", "dump3", path, "--memory-only", "--crash")
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED]
    assert elf_header(path)[0] == b"\x7fELF"
    dom.undefine()

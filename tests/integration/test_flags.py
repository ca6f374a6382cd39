"""A flag bit libvirt's driver does not accept is refused, as libvirt does:
VIR_ERR_INVALID_ARG "unsupported flags (0xBITS) in function FUNC", before
the call looks up the object it names. protocol/remote_flags.tsv lists the
bits each served procedure with flags accepts (libvirt 9.0's virCheckFlags)
and the function named; these tests go over it with raw calls (wire.py), so
that the client library's own checks do not hide the daemon's, and check a
few with python3-libvirt and virsh."""
import os

import pytest

import wire
from test_readonly import call_zero_args, open_wire
from vrt_fixtures import SRC, import_required, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

FLAGS_TSV = os.path.join(SRC, "protocol", "remote_flags.tsv")
PROCS_TSV = os.path.join(SRC, "protocol", "remote_procs.tsv")


def load():
    nums = {}
    with open(PROCS_TSV) as f:
        for line in f:
            # the "@program" line names the program, not a procedure
            if line.strip() and not line.startswith(("#", "@")):
                cols = line.rstrip("\n").split("\t")
                nums[cols[1]] = int(cols[0])
    out = []
    with open(FLAGS_TSV) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, mask, func = line.rstrip("\n").split("\t")
                if mask != "any":
                    out.append((name, nums[name], int(mask, 0), func))
    return out


TABLE = load()
# Procedures whose flags member is followed by others: their size in bytes
# (migration's finish and confirm end with `int cancelled`).
AFTER_FLAGS = {"DOMAIN_MIGRATE_FINISH3_PARAMS": 4, "DOMAIN_MIGRATE_CONFIRM3_PARAMS": 4}


def test_table_covers_the_known_procedures():
    names = {t[0] for t in TABLE}
    assert {"DOMAIN_GET_XML_DESC", "DOMAIN_GET_STATE", "NETWORK_GET_XML_DESC",
            "NODE_DEVICE_GET_XML_DESC", "CONNECT_LIST_ALL_DOMAINS"} <= names
    assert len(TABLE) > 30


def test_unsupported_bits_refused(vrtd):
    w = open_wire(vrtd.sock)
    for name, num, mask, func in TABLE:
        unsupported = [1 << b for b in range(32) if not (1 << b) & mask]
        # The lowest and the highest unsupported bit, and all of them at once.
        for flags in (unsupported[0], unsupported[-1], 0xffffffff):
            m = call_zero_args(w, num, flags=flags, after=AFTER_FLAGS.get(name, 0))
            assert m["status"] == wire.ERROR, name
            code, _, msg = wire.error_of(m)
            assert (code, msg) == (libvirt.VIR_ERR_INVALID_ARG,
                                   f"unsupported flags ({flags & ~mask & 0xffffffff:#x}) "
                                   f"in function {func}"), name
        # An accepted bit gets past the check (the call may fail otherwise:
        # the all-zero arguments name no object, or the driver does not
        # implement what the flag asks).
        for b in range(32):
            if mask & (1 << b):
                m = call_zero_args(w, num, flags=1 << b)
                if m["status"] == wire.ERROR:
                    assert f"in function {func}" not in (wire.error_of(m)[2] or ""), (name, b)
    w.close()


DOMAIN = """<domain type='qemu'><name>flagged</name><memory>65536</memory>
<os><type arch='x86_64'>hvm</type></os></domain>"""


def test_python_libvirt_sees_libvirts_error(vrtd):
    conn = libvirt.open(vrtd.uri)
    dom = conn.defineXML(DOMAIN)
    for call, flags, func in ((dom.state, 1, "qemuDomainGetState"),
                              (dom.XMLDesc, 0x10, "qemuDomainGetXMLDesc"),
                              (dom.hasManagedSaveImage, 1, "qemuDomainHasManagedSaveImage")):
        with pytest.raises(libvirt.libvirtError) as e:
            call(flags)
        assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
        assert e.value.get_error_domain() == libvirt.VIR_FROM_QEMU
        assert e.value.get_error_message() == f"unsupported flags ({flags:#x}) in function {func}"
    assert dom.state(0)[0] == libvirt.VIR_DOMAIN_SHUTOFF
    with pytest.raises(libvirt.libvirtError) as e:
        conn.listAllNetworks(0x40)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    assert e.value.get_error_domain() == libvirt.VIR_FROM_NETWORK
    assert "unsupported flags (0x40) in function networkConnectListAllNetworks" in e.value.get_error_message()
    conn.close()
    assert "<name>flagged</name>" in virsh(vrtd.uri, "dumpxml", "flagged", "--inactive").stdout

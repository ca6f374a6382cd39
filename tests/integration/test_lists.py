"""The list and count calls of an empty daemon: every one answers an empty
list or zero, on the read-write and on the read-only socket. Empty lists are
where a handler copies zero items from a container that has none allocated;
run against the ASan+UBSan build (tests/run does) these calls also check
that no such copy is undefined behaviour."""
import struct

import wire
from vrt_fixtures import import_required

libvirt = import_required("libvirt", "python3-libvirt is not installed")

PROC_CONNECT_LIST_DOMAINS = 37
PROC_CONNECT_LIST_DEFINED_DOMAINS = 21
PROC_CONNECT_LIST_NETWORKS = 38
PROC_CONNECT_LIST_DEFINED_NETWORKS = 36


def test_empty_daemon_lists_nothing(vrtd):
    for conn in (libvirt.open(vrtd.uri), libvirt.openReadOnly(vrtd.uri_ro)):
        assert conn.listDomainsID() == []
        assert conn.numOfDomains() == 0
        assert conn.listDefinedDomains() == []
        assert conn.numOfDefinedDomains() == 0
        assert conn.listAllDomains(0) == []
        assert conn.listNetworks() == []
        assert conn.numOfNetworks() == 0
        assert conn.listDefinedNetworks() == []
        assert conn.numOfDefinedNetworks() == 0
        assert conn.listAllNetworks(0) == []
        conn.close()


def test_running_list_empty_while_domains_are_defined(vrtd):
    conn = libvirt.open(vrtd.uri)
    conn.defineXML("<domain type='qemu'><name>idle</name><memory>65536</memory>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>")
    assert conn.listDomainsID() == []
    assert conn.listDefinedDomains() == ["idle"]
    assert [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)] == []
    conn.close()


def test_list_calls_answer_empty_lists(vrtd):
    # python3-libvirt and virsh ask for the count first and skip a list call
    # when it is 0: the raw calls, as another client may send them.
    for sock in (vrtd.sock, vrtd.sock_ro):
        w = wire.Wire(sock)
        w.open()
        for proc in (PROC_CONNECT_LIST_DOMAINS, PROC_CONNECT_LIST_DEFINED_DOMAINS,
                     PROC_CONNECT_LIST_NETWORKS, PROC_CONNECT_LIST_DEFINED_NETWORKS):
            for maxnames in (0, 10):
                m = w.call(proc, struct.pack(">i", maxnames))
                assert m["status"] == wire.OK, wire.error_of(m)
                assert m["payload"] == struct.pack(">I", 0)
        w.close()

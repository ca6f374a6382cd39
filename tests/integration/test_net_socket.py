"""Socket interfaces and <virtualport> on a real QEMU (TCG, no guest).

An <interface type='server'> makes QEMU listen on the address and port
its <source> names, and a domain with <interface type='client'> connects
to it; an interface with a <virtualport> (no such switch is set up by
vrt) is refused at start with VIR_ERR_CONFIG_UNSUPPORTED naming it.
"""
import socket

import pytest

from vrt_fixtures import import_required, kill_vms_under, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def domain_xml(name, interface):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{interface}<memballoon model='none'/></devices></domain>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_server_interface_listens_and_client_connects(conn):
    port = free_port()
    server = conn.createXML(domain_xml("sock-server", f"<interface type='server'><source address='127.0.0.1' "
                                       f"port='{port}'/><model type='virtio'/><rom enabled='no'/></interface>"))
    wait_for(lambda: listening(port), what=f"QEMU listening on 127.0.0.1:{port}")
    xml = server.XMLDesc(0)
    assert f"<source address='127.0.0.1' port='{port}'/>" in xml
    assert "<rom enabled='no'/>" in xml
    client = conn.createXML(domain_xml("sock-client", f"<interface type='client'><source address='127.0.0.1' "
                                       f"port='{port}'/></interface>"))
    assert client.isActive()
    client.destroy()
    server.destroy()


def test_virtualport_refused_at_start(conn):
    dom = conn.defineXML(domain_xml("vport", "<interface type='bridge'><source bridge='vrtnobr0'/>"
                                    "<virtualport type='openvswitch'/></interface>"))
    assert "<virtualport type='openvswitch'>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert "virtualport type='openvswitch'" in e.value.get_error_message()
    assert not dom.isActive()
    dom.undefine()

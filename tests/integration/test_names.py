"""Names of domains and networks: every name define accepts is still there,
unchanged, after vrtd restarts (the definitions are files named after
them); the names libvirt 9.0 refuses are refused with its error code and
message, and leave nothing behind."""
import os

import pytest

from vrt_fixtures import import_required, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

DOMAIN_NAME_MAX = 230   # NAME.hostdev-start.new.XXXXXX fits in 255 bytes
NETWORK_NAME_MAX = 240  # NAME.xml.new.XXXXXX fits in 255 bytes

# One name of each kind a user may pick; libvirt 9.0 accepts them all.
NAMES = [
    ".hidden", "...", "with space", " leading", "trailing ", "tab\there", "ünïcödé", "emoji\U0001F600",
    "name:colon", "a,comma", "a'quote", 'a"dquote', "a<b&c>", "-dash", "back\\slash", "star*?", "x.xml",
    "a.xml.new.abcdef", "a.xml.new.b", "a.xml.prev", "autostart", "ports",
]
DOMAIN_ONLY = [".", ".."]


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def domain_xml(name):
    return (f"<domain type='qemu'><name>{xml_text(name)}</name><memory>65536</memory>"
            "<os><type arch='x86_64'>hvm</type></os></domain>")


def network_xml(name):
    return f"<network><name>{xml_text(name)}</name></network>"


def long_name(n):
    # Multi-byte characters: the limit is in bytes, as file names are.
    return ("é" * n)[: n // 2] + "x" * (n - 2 * (n // 2))


def test_every_accepted_name_survives_restart(vrtd):
    dom_names = NAMES + DOMAIN_ONLY + [long_name(DOMAIN_NAME_MAX)]
    net_names = NAMES + [long_name(NETWORK_NAME_MAX)]
    assert len(long_name(DOMAIN_NAME_MAX).encode()) == DOMAIN_NAME_MAX
    conn = libvirt.open(vrtd.uri)
    uuids = {}
    for n in dom_names:
        dom = conn.defineXML(domain_xml(n))
        assert dom.name() == n
        uuids[("dom", n)] = dom.UUIDString()
    for n in net_names:
        net = conn.networkDefineXML(network_xml(n))
        assert net.name() == n
        uuids[("net", n)] = net.UUIDString()
    conn.close()

    vrtd.stop()
    vrtd.start()

    conn = libvirt.open(vrtd.uri)
    assert sorted(d.name() for d in conn.listAllDomains(0)) == sorted(dom_names)
    assert sorted(conn.listDefinedDomains()) == sorted(dom_names)
    assert sorted(n.name() for n in conn.listAllNetworks(0)) == sorted(net_names)
    assert sorted(conn.listDefinedNetworks()) == sorted(net_names)
    for n in dom_names:
        assert conn.lookupByName(n).UUIDString() == uuids[("dom", n)]
    for n in net_names:
        assert conn.networkLookupByName(n).UUIDString() == uuids[("net", n)]
    conn.close()
    # virsh finds them too, by the name it lists.
    names = virsh(vrtd.uri, "net-list", "--all", "--name").stdout.splitlines()
    assert ".hidden" in names and "x.xml" in names
    # Undefined, they leave no file behind.
    conn = libvirt.open(vrtd.uri)
    for n in dom_names:
        conn.lookupByName(n).undefine()
    for n in net_names:
        conn.networkLookupByName(n).undefine()
    conn.close()
    for sub in ("qemu", "network"):
        d = os.path.join(vrtd.root, "etc", "vrt", sub)
        assert [f for f in os.listdir(d) if f.endswith(".xml")] == []


@pytest.mark.parametrize("kind,name,code,message", [
    ("dom", "a/b", libvirt.VIR_ERR_XML_ERROR, "XML error: name a/b cannot contain '/'"),
    ("dom", "a\nb", libvirt.VIR_ERR_XML_DETAIL, "invalid char in name: \n"),
    ("net", "a/b", libvirt.VIR_ERR_XML_DETAIL, "invalid char in name: /"),
    ("net", "a\nb", libvirt.VIR_ERR_XML_DETAIL, "invalid char in name: \n"),
    ("net", ".", libvirt.VIR_ERR_XML_ERROR, None),
    ("net", "..", libvirt.VIR_ERR_XML_ERROR, None),
    ("dom", long_name(DOMAIN_NAME_MAX + 1), libvirt.VIR_ERR_XML_ERROR, None),
    ("net", long_name(NETWORK_NAME_MAX + 1), libvirt.VIR_ERR_XML_ERROR, None),
])
def test_refused_names(vrtd, kind, name, code, message):
    conn = libvirt.open(vrtd.uri)
    with pytest.raises(libvirt.libvirtError) as e:
        if kind == "dom":
            conn.defineXML(domain_xml(name))
        else:
            conn.networkDefineXML(network_xml(name))
    assert e.value.get_error_code() == code
    if message:
        assert e.value.get_error_message() == message
    assert conn.listAllDomains(0) == [] and conn.listAllNetworks(0) == []
    conn.close()
    for sub in ("qemu", "network"):
        d = os.path.join(vrtd.root, "etc", "vrt", sub)
        assert not os.path.isdir(d) or [f for f in os.listdir(d) if f.endswith(".xml")] == []

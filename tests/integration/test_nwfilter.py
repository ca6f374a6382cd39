"""Network filters through vrtd with Debian's virsh and python3-libvirt:
Debian's built-in filters (libvirt-daemon-config-nwfilter's
/etc/libvirt/nwfilter, put where vrtd loads them as the install step does)
listed and shown as Debian's libvirtd shows them, nwfilter-define (with --validate)
and nwfilter-undefine kept across a restart, the XML a filter reads back
as Debian's libvirtd writes it for the same input, libvirt's errors, the
empty binding list, read-only connections, and a domain interface with a
<filterref> refused (vrt does not enforce filters)."""
import glob
import os
import re
import shutil
import signal

import pytest

from vrt_fixtures import Vrtd, import_required, require, run, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

DEBIAN = "/etc/libvirt/nwfilter"


@pytest.fixture
def fvrtd(tmproot):
    files = sorted(glob.glob(os.path.join(DEBIAN, "*.xml")))
    require(files, f"Debian's built-in filters are not installed ({DEBIAN}, libvirt-daemon-config-nwfilter)")
    dest = os.path.join(tmproot, "etc", "vrt", "nwfilter")
    os.makedirs(dest)
    for f in files:
        shutil.copy(f, dest)
    d = Vrtd(tmproot).start()
    yield d
    d.stop()


def without_uuid(xml):
    return re.sub(r"\n *<uuid>[^<]*</uuid>", "", xml.strip())


def test_builtin_filters_listed_and_shown_as_libvirt_shows_them(fvrtd, libvirtd):
    """Debian's built-in filter files, as the package installs them (no
    UUID) or as a libvirtd that ran has rewritten them (a UUID and a "do
    not edit" comment), are listed and shown as Debian's libvirtd shows the
    same file; a file without a UUID gets one, kept across a restart."""
    files = sorted(glob.glob(os.path.join(DEBIAN, "*.xml")))
    names = [line.split()[1] for line in virsh(fvrtd.uri, "nwfilter-list").stdout.strip().splitlines()]
    assert names == sorted(os.path.basename(f)[:-4] for f in files)
    assert "clean-traffic" in names
    c2 = libvirt.open(libvirtd.uri)
    differ = []
    try:
        for path in files:
            name = os.path.basename(path)[:-4]
            with open(path) as f:
                text = f.read()
            theirs = c2.nwfilterDefineXML(text).XMLDesc(0).strip()
            ours = virsh(fvrtd.uri, "nwfilter-dumpxml", name).stdout.strip()
            assert re.search(r"<uuid>[0-9a-f-]{36}</uuid>", ours), ours
            if "<uuid>" not in text:
                ours, theirs = without_uuid(ours), without_uuid(theirs)
            if ours != theirs:
                differ.append(f"{name}:\n{ours}\nlibvirtd:\n{theirs}")
    finally:
        c2.close()
    assert not differ, "\n".join(differ)
    # By UUID too, the same one after a restart.
    shown = virsh(fvrtd.uri, "nwfilter-dumpxml", "clean-traffic").stdout
    uuid = re.search(r"<uuid>(.*)</uuid>", shown).group(1)
    fvrtd.stop()
    fvrtd.start()
    assert virsh(fvrtd.uri, "nwfilter-dumpxml", uuid).stdout == shown


def test_define_undefine_and_restart(fvrtd, tmp_path):
    xml = tmp_path / "f.xml"
    xml.write_text("<filter name='vrt-test' chain='ipv4'>\n  <!-- mine -->\n"
                   "  <rule direction='in' action='drop'><ip protocol='tcp' dstportstart='25'/></rule>\n"
                   "  <filterref filter='clean-traffic'/>\n</filter>\n")
    virsh(fvrtd.uri, "nwfilter-define", "--validate", str(xml))
    shown = virsh(fvrtd.uri, "nwfilter-dumpxml", "vrt-test").stdout
    uuid = re.search(r"<uuid>(.*)</uuid>", shown).group(1)
    assert shown.strip() == (f"<filter name='vrt-test' chain='ipv4' priority='-700'>\n  <uuid>{uuid}</uuid>\n"
                             "  <rule action='drop' direction='in' priority='500'>\n"
                             "    <ip protocol='tcp' dstportstart='25'/>\n  </rule>\n"
                             "  <filterref filter='clean-traffic'/>\n</filter>")
    # On disk before the call returned: a killed vrtd loses nothing.
    fvrtd.stop(sig=signal.SIGKILL)
    fvrtd.start()
    assert virsh(fvrtd.uri, "nwfilter-dumpxml", "vrt-test").stdout == shown
    virsh(fvrtd.uri, "nwfilter-undefine", "vrt-test")
    r = virsh(fvrtd.uri, "nwfilter-dumpxml", "vrt-test", check=False)
    assert r.returncode != 0 and "no nwfilter with matching name 'vrt-test'" in r.stderr
    fvrtd.stop()
    fvrtd.start()
    assert "vrt-test" not in virsh(fvrtd.uri, "nwfilter-list").stdout


# Protocol elements with their attributes out of libvirt's order, upper-case
# addresses, numbers in both bases, named values in odd case, variables,
# match='yes' and match='no', attributes libvirt does not know.
RULES_FILTER = (
    "<filter name='vrt-rules' chain='ipv4'><uuid>5c4bbf80-1bc1-4b1e-a8a4-3c5ae0d9a5ac</uuid>"
    "<rule direction='in' action='accept'><tcp comment='web &amp; \"more\"' dstportend='0x400' state='established,new'"
    " srcipmask='255.255.0.0' dstportstart='80' flags='ack,syn/all' srcipaddr='10.0.0.0'"
    " srcmacaddr='AA:BB:CC:DD:EE:0F' bogus='1' match='yes'/></rule>"
    "<rule direction='out' action='drop' priority='-100'><ipv6 protocol='6' match='no' dstipaddr='2001:DB8:0:0::1'"
    " srcportstart='1' srcipmask='FFFF:FFFF::' srcipaddr='FE80::1'/></rule>"
    "<rule direction='inout' action='return'><arp gratuitous='yes' opcode='2' arpdstipaddr='$IP[@1]' hwtype='0x1'"
    " srcmacaddr='$MAC' arpsrcmacaddr='0A:0B:0C:0D:0E:0F' arpsrcipmask='255.255.255.0' arpsrcipaddr='192.168.1.1'/>"
    "</rule>"
    "<rule direction='in' action='accept'><mac protocolid='0x0800' dstmacmask='FF:FF:FF:00:00:00'"
    " dstmacaddr='01:00:5E:00:00:00' comment='multicast'/></rule>"
    "<rule direction='in' action='drop'><udp match='no' dstportstart='53' srcipaddr='192.168.1.1'/></rule>"
    "<rule direction='out' action='accept'><stp root-cost='4294967295' type='0x80' srcmacaddr='01:80:C2:00:00:00'"
    " flags='3' root-address='A:B:C:D:E:F'/></rule>"
    "<rule direction='in' action='accept'><icmpv6 code='0' type='135' dstipaddr='FF02::1:FF00:0'/></rule>"
    "<rule direction='out' action='accept'><vlan encap-protocol='2048' vlanid='0x10'/></rule>"
    "<rule direction='in' action='accept'><ip dscp='0x3f' protocol='47' dstipaddr='10.1.2.3'/></rule>"
    "<rule direction='in' action='accept'><all-ipv6 srcipaddr='$IPV6' ipsetflags='DST,src' ipset='blocked'/></rule>"
    "<rule direction='in' action='accept'><sctp ipset='blocked' srcportend='2' srcportstart='1'/></rule>"
    "<rule direction='out' action='accept' priority='5000'><rarp opcode='request_reverse'"
    " dstmacaddr='FF:FF:FF:FF:FF:FF'/></rule>"
    "<rule direction='in' action='accept'><foo/><udp srcipaddr='10.0.0.1'/><udp dstportstart='53'/>"
    "<tcp dstportstart='1'/></rule>"
    "<filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.2'/><parameter name='DHCPSERVER'"
    " value='10.0.0.1'/><parameter name='IP' value='10.0.0.1'/></filterref></filter>")


def test_same_xml_as_debian_libvirtd(fvrtd, libvirtd):
    xml = ("<filter name='vrt-cmp' chain='mac'><uuid>5c4bbf80-1bc1-4b1e-a8a4-3c5ae0d9a5ab</uuid>"
           "<rule direction='out' action='accept' priority='10'><mac protocolid='arp'/></rule>"
           "<rule direction='inout' action='drop' statematch='false'/>"
           "<filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.1'/></filterref></filter>")
    c1 = libvirt.open(fvrtd.uri)
    c2 = libvirt.open(libvirtd.uri)
    try:
        for text in (xml, RULES_FILTER):
            ours = c1.nwfilterDefineXML(text).XMLDesc(0)
            theirs = c2.nwfilterDefineXML(text).XMLDesc(0)
            assert ours == theirs
        # The protocol elements really were rewritten (not kept as given).
        assert ("<ipv6 match='no' srcipaddr='fe80::1' srcipmask='32' dstipaddr='2001:db8::1' protocol='tcp'"
                " srcportstart='1'/>") in ours
    finally:
        c1.close()
        c2.close()


def test_rule_errors_as_debian_libvirtd(fvrtd, libvirtd):
    """A value libvirt refuses is refused with its error."""
    c1 = libvirt.open(fvrtd.uri)
    c2 = libvirt.open(libvirtd.uri)
    try:
        for element in ("<tcp dstportstart='70000'/>", "<mac protocolid='100'/>", "<ipv6 srcipaddr='10.0.0.1'/>",
                        "<arp arpsrcipmask='255.0.255.0'/>", "<tcp state='OLD' srcipaddr='x'/>",
                        "<ip srcportstart='80'/>", "<udp srcipaddr='$IP[@1001]'/>"):
            xml = (f"<filter name='vrt-bad'><rule action='accept' direction='in'>{element}</rule></filter>")
            errors = []
            for c in (c1, c2):
                with pytest.raises(libvirt.libvirtError) as e:
                    c.nwfilterDefineXML(xml)
                errors.append((e.value.get_error_code(), e.value.get_error_message()))
            assert errors[0] == errors[1], element
            assert errors[0][0] == libvirt.VIR_ERR_INTERNAL_ERROR
    finally:
        c1.close()
        c2.close()


def test_errors_bindings_and_read_only(fvrtd, tmp_path):
    c = libvirt.open(fvrtd.uri)
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            c.nwfilterLookupByName("nope")
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_NWFILTER
        assert e.value.get_error_domain() == libvirt.VIR_FROM_NWFILTER
        with pytest.raises(libvirt.libvirtError) as e:
            c.nwfilterDefineXML("<filter name='x'><rule action='kill' direction='in'/></filter>")
        assert "unknown rule action attribute value" in str(e.value)
        clean = c.nwfilterLookupByName("clean-traffic")
        with pytest.raises(libvirt.libvirtError) as e:
            c.nwfilterDefineXML(f"<filter name='other'><uuid>{clean.UUIDString()}</uuid></filter>")
        assert "filter with same UUID but different name ('clean-traffic') already exists" in str(e.value)
        with pytest.raises(libvirt.libvirtError) as e:
            c.nwfilterDefineXMLFlags("<filter name='x'><bogus/></filter>", libvirt.VIR_NWFILTER_DEFINE_VALIDATE)
        assert e.value.get_error_code() == libvirt.VIR_ERR_XML_INVALID_SCHEMA
        assert c.listAllNWFilterBindings(0) == []
        with pytest.raises(libvirt.libvirtError) as e:
            c.nwfilterBindingLookupByPortDev("vnet0")
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_NWFILTER_BINDING
    finally:
        c.close()
    assert virsh(fvrtd.uri, "nwfilter-binding-list").stdout.strip() == ""

    # Read-only: list and show, not define or undefine.
    assert "clean-traffic" in virsh(fvrtd.uri_ro, "nwfilter-list").stdout
    xml = tmp_path / "ro.xml"
    xml.write_text("<filter name='ro-x'/>")
    r = virsh(fvrtd.uri_ro, "nwfilter-define", str(xml), check=False)
    assert r.returncode != 0 and "read only access prevents virNWFilterDefineXML" in r.stderr, r.stderr
    r = virsh(fvrtd.uri_ro, "nwfilter-undefine", "clean-traffic", check=False)
    assert r.returncode != 0 and "read only access prevents virNWFilterUndefine" in r.stderr, r.stderr


def test_domain_interface_with_filterref_refused(fvrtd, tmp_path):
    xml = tmp_path / "d.xml"
    xml.write_text("<domain type='kvm'><name>fr</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                   "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                   "<interface type='user'><filterref filter='clean-traffic'/></interface>"
                   "</devices></domain>")
    r = virsh(fvrtd.uri, "define", str(xml), check=False)
    assert r.returncode != 0
    assert "element <filterref> in <interface>" in r.stderr and "not supported" in r.stderr, r.stderr
    r = virsh(fvrtd.uri, "create", str(xml), check=False)
    assert r.returncode != 0 and "<filterref>" in r.stderr, r.stderr

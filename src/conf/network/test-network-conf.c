/*
 * Network and network port XML: every file in testdata/ must come back
 * byte for byte after parse + format, validate against libvirt's schemas
 * with virt-xml-validate, and the error cases must carry libvirt's codes.
 */
#include "conf/network/network_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
read_testdata(const char *name)
{
    const char *dir = g_getenv("VRT_NETWORK_TESTDATA");
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *data = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_file_get_contents(path, &data, NULL, &err));
    return data;
}

static void
test_network_roundtrip(gconstpointer data)
{
    const char *file = data;
    g_autofree char *xml = read_testdata(file);
    g_autoptr(GError) err = NULL;
    guint flags = strstr(file, "live") ? VRT_NETWORK_PARSE_STATUS : 0;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(xml, flags, &err);
    g_assert_no_error(err);
    g_autofree char *out = vrt_network_def_format(def);
    g_assert_cmpstr(out, ==, xml);
    g_autoptr(VrtNetworkDef) copy = vrt_network_def_copy(def);
    g_autofree char *out2 = vrt_network_def_format(copy);
    g_assert_cmpstr(out2, ==, xml);
    vrt_test_assert_validates(out, "network", NULL);
}

static void
test_port_roundtrip(gconstpointer data)
{
    g_autofree char *xml = read_testdata(data);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkPortDef) def = vrt_network_port_def_parse(xml, &err);
    g_assert_no_error(err);
    g_autofree char *out = vrt_network_port_def_format(def);
    g_assert_cmpstr(out, ==, xml);
    g_autoptr(VrtNetworkPortDef) copy = vrt_network_port_def_copy(def);
    g_autofree char *out2 = vrt_network_port_def_format(copy);
    g_assert_cmpstr(out2, ==, xml);
    vrt_test_assert_validates(out, "networkport", NULL);
}

static void
test_hostdev_fields(void)
{
    g_autofree char *xml = read_testdata("net-hostdev-addrs.xml");
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(xml, 0, NULL);
    g_assert_nonnull(def);
    g_assert_cmpint(def->forward_mode, ==, VRT_NETWORK_FORWARD_HOSTDEV);
    g_assert_cmpint(def->forward_managed, ==, 0);
    g_assert_cmpuint(def->forward_addrs->len, ==, 3);
    g_autofree char *a = vrt_pci_addr_format(&g_array_index(def->forward_addrs, VrtNetworkForwardAddr, 2).addr);
    g_assert_cmpstr(a, ==, "0001:81:1f.7");
}

static void
test_uuid_generated(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) a = vrt_network_def_parse(
        "<network><name>n</name><forward mode='hostdev'><pf dev='ens1'/></forward></network>", 0, &err);
    g_assert_no_error(err);
    g_autoptr(VrtNetworkDef) b = vrt_network_def_parse("<network><name>n</name></network>", 0, &err);
    g_assert_no_error(err);
    g_assert_false(a->uuid_given);
    static const guchar zero[16];
    g_assert_true(memcmp(a->uuid, zero, 16) != 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
    g_autofree char *out = vrt_network_def_format(a);
    g_assert_nonnull(strstr(out, "<uuid>"));
    vrt_test_assert_validates(out, "network", NULL);
}

typedef struct {
    const char *xml;
    int code;
    const char *needle;
} ErrorCase;

static const ErrorCase network_errors[] = {
    { "<network>\n  <name>x</name>\n  <forward mode='hostdev'>\n</network>", VIR_ERR_XML_ERROR,
      "(network_definition):4:" },
    { "<domain><name>x</name></domain>", VIR_ERR_XML_ERROR, "unexpected root element <domain>, expecting <network>" },
    { "<network><name>x</name><dns enable='no'><txt name='a' value='b'/></dns></network>", VIR_ERR_XML_ERROR,
      "Extra data in disabled network 'x'" },
    { "<network><name>x</name><dns><txt name='a b' value='c'/></dns></network>", VIR_ERR_XML_DETAIL,
      "prohibited character in DNS TXT record name 'a b'" },
    { "<network><name>x</name><dns><txt name='a'/></dns></network>", VIR_ERR_XML_DETAIL,
      "missing required value attribute in DNS TXT record named 'a'" },
    { "<network><name>x</name><dns><srv protocol='tcp'/></dns></network>", VIR_ERR_XML_DETAIL,
      "missing required service attribute" },
    { "<network><name>x</name><dns><srv service='s' protocol='tcp' port='80'/></dns></network>", VIR_ERR_XML_DETAIL,
      "DNS SRV port attribute not permitted without target" },
    { "<network><name>x</name><dns><srv service='s' protocol='tcp' target='t' port='70000'/></dns></network>",
      VIR_ERR_XML_DETAIL, "invalid DNS SRV port attribute" },
    { "<network><name>x</name><dns><srv service='s!' protocol='tcp'/></dns></network>", VIR_ERR_XML_DETAIL,
      "invalid character in service attribute 's!'" },
    { "<network><name>x</name><dns><forwarder/></dns></network>", VIR_ERR_XML_ERROR,
      "must contain at least one of addr or domain" },
    { "<network><name>x</name><dns><forwarder addr='1.2.3'/></dns></network>", VIR_ERR_XML_ERROR,
      "Invalid forwarder IP address '1.2.3'" },
    { "<network><name>x</name><portgroup/></network>", VIR_ERR_XML_ERROR, "Missing required name attribute" },
    { "<network><name>x</name><portgroup name='a' default='yes'/><portgroup name='b' default='yes'/></network>",
      VIR_ERR_XML_ERROR, "multiple default <portgroup> elements (a and b)" },
    { "<network><name>x</name><bandwidth><inbound peak='5'/></bandwidth></network>", VIR_ERR_XML_DETAIL,
      "Missing mandatory average or floor" },
    { "<network><name>x</name><bandwidth><inbound average='5' floor='1'/></bandwidth></network>",
      VIR_ERR_CONFIG_UNSUPPORTED, "floor attribute is not supported" },
    { "<network><name>x</name><bandwidth><inbound average='x'/></bandwidth></network>", VIR_ERR_CONFIG_UNSUPPORTED,
      "could not convert bandwidth average value 'x'" },
    { "<network><name>x</name><ip family='ipv6' address='fd00::1' prefix='64'><tftp root='/t'/></ip></network>",
      VIR_ERR_CONFIG_UNSUPPORTED, "Unsupported <tftp> element in an IPv6 element" },
    { "<network><name>x</name><forward mode='hostdev'><pf dev='ens1'/><address type='pci' domain='0' bus='6' slot='16' function='0'/></forward></network>",
      VIR_ERR_XML_ERROR, "not both" },
    { "<network><name>x</name><forward mode='hostdev'><pf dev='a'/><pf dev='b'/></forward></network>",
      VIR_ERR_XML_ERROR, "only one <pf>" },
    { "<network><name>x</name><forward mode='hostdev'><address type='pci' bus='0x06' slot='0x20' function='0'/></forward></network>",
      VIR_ERR_XML_ERROR, "slot='0x20'" },
    { "<network><name>x</name><forward mode='hostdev'><address type='usb' bus='1' slot='1' function='0'/></forward></network>",
      VIR_ERR_XML_ERROR, "address type 'usb'" },
    { "<network><name>x</name><forward mode='hostdev'><interface dev='eth0'/></forward></network>", VIR_ERR_XML_ERROR,
      "not <interface>" },
    { "<network><name>x</name><forward mode='bridge'><interface dev='.eth1'/></forward></network>", VIR_ERR_XML_ERROR,
      "invalid forward interface name '.eth1'" },
    { "<network><name>x</name><forward mode='bridge'><interface dev='eth1'/><interface dev='a/b'/></forward></network>",
      VIR_ERR_XML_ERROR, "invalid forward interface name 'a/b'" },
    { "<network><name>x</name><forward mode='warp'/></network>", VIR_ERR_XML_ERROR, "unknown forwarding type 'warp'" },
    { "<network><name>x</name><forward mode='bridge'/><bridge name='br0'/><uuid>nope</uuid></network>",
      VIR_ERR_XML_ERROR, "malformed uuid" },
    { "<network><uuid>5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d</uuid></network>", VIR_ERR_NO_NAME, "missing network name" },
    { "<network><name>a/b</name></network>", VIR_ERR_XML_DETAIL, "invalid char in name: /" },
    { "<network><name>a\nb</name></network>", VIR_ERR_XML_DETAIL, "invalid char in name: \n" },
    { "<network><name>..</name></network>", VIR_ERR_XML_ERROR, "names its port directory" },
    { "<network><name>x</name><mac address='01:00:00:00:00:01'/></network>", VIR_ERR_INVALID_MAC, "01:00:00:00:00:01" },
    { "<network><name>x</name><vlan><tag id='5000'/></vlan></network>", VIR_ERR_XML_ERROR, "id='5000'" },
    { "<network><name>x</name><ip address='300.1.1.1'/></network>", VIR_ERR_XML_ERROR, "invalid ip address" },
    { "<network><name>x</name><forward mode='bridge'/></network>", VIR_ERR_XML_ERROR, "needs <bridge name=...>" },
    { "<network><name>x</name><forward mode='hostdev'><pf dev='ens1'/></forward><bridge name='br0'/></network>",
      VIR_ERR_XML_ERROR, "bridge name not allowed in hostdev mode" },
    /* Refusals name the line of the element they are about. */
    { "<network>\n<name>x</name>\n<forward mode='nat'/>\n</network>", VIR_ERR_XML_ERROR,
      "nat forwarding requested, but no IP address provided for network 'x' (line 3)" },
    { "<network>\n<name>x</name>\n<ip address='10.0.0.1' prefix='24'>\n<dhcp>\n<range start='10.0.0.2' end='10.0.0.9'>"
      "\n<lease expiry='1' unit='minutes'/>\n</range></dhcp></ip></network>",
      VIR_ERR_CONFIG_UNSUPPORTED, "The minimum lease time should be greater than 2 minutes (line 6)" },
    { "<network>\n<name>x</name>\n\n<teleporter/>\n</network>", VIR_ERR_CONFIG_UNSUPPORTED,
      "element <teleporter> in network XML is not supported by vrt (line 4)" },
    { "<network>\n<name>x</name>\n<ip address='10.0.0.1' prefix='24'/>\n"
      "<route address='10.1.0.0' prefix='16' gateway='10.9.0.1'/></network>",
      VIR_ERR_CONFIG_UNSUPPORTED, "unreachable static route gateway '10.9.0.1' specified for network 'x'" },
    { "<network><name>x</name><virtualport type='warp'/></network>", VIR_ERR_XML_ERROR,
      "unknown virtualport type warp (line 1)" },
    { "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>x</name>"
      "<dnsmasq:options><dnsmasq:option/></dnsmasq:options></network>",
      VIR_ERR_XML_ERROR, "No dnsmasq options value specified" },
    { "<network><name>x</name><forward mode='passthrough'><interface dev='a'/><interface dev='a'/></forward></network>",
      VIR_ERR_XML_ERROR, "interface 'a' can only be listed once in network x" },
    /* libvirt's sanity checks of a DHCP range, its words */
    { "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.1.9'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "range 10.0.1.2 - 10.0.1.9 is not entirely within network 10.0.0.1/24" },
    { "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.0' end='10.0.0.9'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "start of range 10.0.0.0 - 10.0.0.9 in network 10.0.0.1/24 is the network address" },
    { "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.255'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "end of range 10.0.0.2 - 10.0.0.255 in network 10.0.0.1/24 is the broadcast address" },
    { "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.9' end='10.0.0.2'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "range 10.0.0.9 - 10.0.0.2 is reversed " },
    { "<network><name>x</name><ip address='10.0.0.1' prefix='8'><dhcp><range start='10.0.0.2' end='10.1.0.2'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "range 10.0.0.2 - 10.1.0.2 is too large (> 65535)" },
    { "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='fd00::9'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "mismatch of address family in range 10.0.0.2 - fd00::9" },
    { "<network><name>x</name><ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "mismatch of address family in range 10.0.0.2 - 10.0.0.9 for network fd00::1" },
    { "<network><name>x</name><ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::1:0' end='fd00::2:0'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "range fd00::1:0 - fd00::2:0 is too large (> 65535)" },
    { "<network><name>x</name><ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::0:20' end='fd00::0:10'/></dhcp></ip></network>",
      VIR_ERR_INTERNAL_ERROR, "range fd00::20 - fd00::10 start larger than end" },
    { "", VIR_ERR_XML_ERROR, "(network_definition)" },
};

static const ErrorCase port_errors[] = {
    { "<networkport><mac address='52:54:00:00:00:01'/></networkport>", VIR_ERR_XML_ERROR, "no owner" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner></networkport>",
      VIR_ERR_XML_ERROR, "no mac" },
    { "<networkport><owner><name>g</name></owner><mac address='52:54:00:00:00:01'/></networkport>", VIR_ERR_XML_ERROR,
      "no owner UUID" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='zz'/></networkport>",
      VIR_ERR_INVALID_MAC, "unable to parse mac 'zz'" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='52:54:00:00:00:01'/>"
      "<plug type='hostdev-pci'/></networkport>",
      VIR_ERR_XML_ERROR, "missing PCI <address>" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='52:54:00:00:00:01'/>"
      "<plug type='teleport'/></networkport>",
      VIR_ERR_XML_ERROR, "plug type 'teleport'" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='52:54:00:00:00:01'/>"
      "<virtualport type='openvswitch'/></networkport>",
      VIR_ERR_CONFIG_UNSUPPORTED, "<virtualport>" },
    { "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='52:54:00:00:00:01'/>"
      "<bandwidth><outbound average='1' floor='2'/></bandwidth></networkport>",
      VIR_ERR_CONFIG_UNSUPPORTED, "'floor' attribute allowed only in <inbound> element" },
    { "<network/>", VIR_ERR_XML_ERROR, "expecting <networkport>" },
};

static void
check_error(const GError *err, const ErrorCase *c)
{
    g_assert_nonnull(err);
    g_assert_true(err->domain == VRT_ERROR);
    if (err->code != c->code || !strstr(err->message, c->needle))
        g_error("for %s: got code %d '%s', want code %d containing '%s'", c->xml, err->code, err->message, c->code,
                c->needle);
}

static void
test_network_errors(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(network_errors); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(network_errors[i].xml, 0, &err);
        g_assert_null(def);
        check_error(err, &network_errors[i]);
    }
}

static void
test_port_errors(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(port_errors); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtNetworkPortDef) def = vrt_network_port_def_parse(port_errors[i].xml, &err);
        g_assert_null(def);
        check_error(err, &port_errors[i]);
    }
}

static void
test_live_needs_status_flag(void)
{
    g_autofree char *xml = read_testdata("net-hostdev-live.xml");
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(xml, 0, &err);
    g_assert_null(def);
    g_assert_error(err, VRT_ERROR, VIR_ERR_XML_ERROR);
}

static void
test_escaping(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse("<network><name>a&amp;b 'q'</name></network>", 0, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(def->name, ==, "a&b 'q'");
    g_autofree char *out = vrt_network_def_format(def);
    g_autoptr(VrtNetworkDef) again = vrt_network_def_parse(out, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(again->name, ==, "a&b 'q'");
    vrt_test_assert_validates(out, "network", NULL);
}

/* A namespace declared on <network> must travel with <metadata>. */
static void
test_metadata_namespace(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse("<network xmlns:app='http://example.org/app/1'><name>m</name>"
                                                         "<metadata><app:tag>x</app:tag></metadata></network>",
                                                         0, &err);
    g_assert_no_error(err);
    g_autofree char *out = vrt_network_def_format(def);
    g_autoptr(VrtNetworkDef) again = vrt_network_def_parse(out, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(again->metadata_xml, "http://example.org/app/1"));
    g_autofree char *out2 = vrt_network_def_format(again);
    g_assert_cmpstr(out, ==, out2);
    vrt_test_assert_validates(out, "network", NULL);
}

/* A rate of 0 limits nothing and is not written back; the output parses
 * again to the same text (the network XML fuzzer found the opposite). */
static void
test_zero_rate_dropped(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) def =
        vrt_network_def_parse("<network><name>z</name><portgroup name='p'><bandwidth>"
                              "<inbound average='10'/><outbound average='000'/></bandwidth></portgroup></network>",
                              0, &err);
    g_assert_no_error(err);
    g_autofree char *out = vrt_network_def_format(def);
    g_assert_null(strstr(out, "outbound"));
    g_assert_nonnull(strstr(out, "<inbound average='10'/>"));
    g_autoptr(VrtNetworkDef) again = vrt_network_def_parse(out, 0, &err);
    g_assert_no_error(err);
    g_autofree char *out2 = vrt_network_def_format(again);
    g_assert_cmpstr(out, ==, out2);
}

/* A second <inbound> is refused even when the first limits nothing (it
 * was taken in place of the first before networks shared the domain's
 * parser). */
static void
test_second_inbound_refused(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(
        "<network><name>z</name><bandwidth><inbound average='0'/><inbound average='5'/></bandwidth></network>", 0,
        &err);
    g_assert_null(def);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "Only one child <inbound> element allowed"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    static const char *const nets[] = { "net-hostdev-pf.xml",     "net-hostdev-addrs.xml", "net-hostdev-live.xml",
                                        "net-bridge.xml",         "net-nat.xml",           "net-isolated.xml",
                                        "net-dhcp-hosts.xml",     "net-dns-more.xml",      "net-dns-off.xml",
                                        "net-libvirt-extras.xml", "net-virtualport.xml" };
    static const char *const ports[] = { "port-hostdev.xml", "port-bridge.xml", "port-noplug.xml" };
    for (guint i = 0; i < G_N_ELEMENTS(nets); i++) {
        g_autofree char *name = g_strdup_printf("/network/roundtrip/%s", nets[i]);
        g_test_add_data_func(name, nets[i], test_network_roundtrip);
    }
    for (guint i = 0; i < G_N_ELEMENTS(ports); i++) {
        g_autofree char *name = g_strdup_printf("/network/port-roundtrip/%s", ports[i]);
        g_test_add_data_func(name, ports[i], test_port_roundtrip);
    }
    g_test_add_func("/network/hostdev-fields", test_hostdev_fields);
    g_test_add_func("/network/uuid-generated", test_uuid_generated);
    g_test_add_func("/network/errors", test_network_errors);
    g_test_add_func("/network/port-errors", test_port_errors);
    g_test_add_func("/network/live-needs-status-flag", test_live_needs_status_flag);
    g_test_add_func("/network/escaping", test_escaping);
    g_test_add_func("/network/metadata-namespace", test_metadata_namespace);
    g_test_add_func("/network/zero-rate-dropped", test_zero_rate_dropped);
    g_test_add_func("/network/second-inbound-refused", test_second_inbound_refused);
    return g_test_run();
}

/*
 * Unit tests of the network filter definitions (nwfilter.c): the canonical
 * XML libvirt writes for what it reads (chain and rule defaults, uuid,
 * single quotes, no comments, a rule's protocol element with its
 * attributes in libvirt's order and values in libvirt's form, filterref
 * parameters), libvirt's errors, UUID and name conflicts, reference loops,
 * and definitions kept on disk across a new driver.
 */
#include <string.h>

#include "drivers/nwfilter/nwfilter.h"
#include "testutil.h"
#include "util/error.h"
#include "util/uuid.h"

static void
test_canonical(void)
{
    const char *in = "<filter name='f1' chain='ipv4'>\n  <!-- a comment -->\n"
                     "  <uuid>74eb54f0-0251-4c67-8052-1538f30f786a</uuid>\n"
                     "  <rule direction=\"out\" action=\"accept\">\n     <ip protocol='udp' srcportstart='68'/>\n"
                     "  </rule>\n  <filterref filter='f2'>\n<parameter name='IP' value='10.0.0.1'/></filterref>\n"
                     "  <rule action='drop' direction='inout' priority='-10' statematch='false'/>\n</filter>\n";
    const char *want = "<filter name='f1' chain='ipv4' priority='-700'>\n"
                       "  <uuid>74eb54f0-0251-4c67-8052-1538f30f786a</uuid>\n"
                       "  <rule action='accept' direction='out' priority='500'>\n"
                       "    <ip protocol='udp' srcportstart='68'/>\n  </rule>\n"
                       "  <filterref filter='f2'>\n    <parameter name='IP' value='10.0.0.1'/>\n  </filterref>\n"
                       "  <rule action='drop' direction='inout' priority='-10' statematch='false'/>\n</filter>\n";
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    guint8 uuid[16];
    g_autofree char *out = vrt_nwfilter_canonical(in, &name, uuid, &err);
    g_autofree char *name2 = NULL;
    g_autofree char *again = NULL;

    g_assert_no_error(err);
    g_assert_cmpstr(out, ==, want);
    g_assert_cmpstr(name, ==, "f1");
    again = vrt_nwfilter_canonical(out, &name2, uuid, &err);
    g_assert_cmpstr(again, ==, want);
    vrt_test_assert_validates(out, "nwfilter", "canonical filter");
}

/* What vrt writes inside <rule> for the given children, NULL (and error)
 * if it refuses them. */
static char *
rule_body(const char *children, GError **error)
{
    g_autofree char *in =
        g_strdup_printf("<filter name='r'><rule action='accept' direction='in'>%s</rule></filter>", children);
    g_autofree char *name = NULL;
    guint8 uuid[16];
    g_autofree char *out = vrt_nwfilter_canonical(in, &name, uuid, error);
    const char *start;
    const char *end;

    if (!out)
        return NULL;
    start = strstr(out, "priority='500'");
    g_assert_nonnull(start);
    start += strlen("priority='500'");
    if (g_str_has_prefix(start, "/>\n"))
        return g_strdup("");
    g_assert_true(g_str_has_prefix(start, ">\n"));
    start += 2;
    end = strstr(start, "  </rule>\n");
    g_assert_nonnull(end);
    return g_strndup(start, (gsize)(end - start));
}

static void
test_rule_attribute_order(void)
{
    struct {
        const char *in;
        const char *want;
    } cases[] = {
        /* Debian's allow-dhcpv6: protocol after the addresses, IPv6 in lower case */
        { "<ipv6 protocol='udp' srcipaddr='FE80::' srcipmask='10' dstipaddr='FF02::1:2' srcportstart='546' "
          "dstportstart='547'/>",
          "    <ipv6 srcipaddr='fe80::' srcipmask='10' dstipaddr='ff02::1:2' protocol='udp' srcportstart='546' "
          "dstportstart='547'/>\n" },
        /* Debian's qemu-announce-self-rarp: the Ethernet addresses first, then the ARP fields */
        { "<rarp opcode='Request_Reverse' srcmacaddr='$MAC' dstmacaddr='FF:FF:FF:FF:FF:FF' arpsrcmacaddr='$MAC' "
          "arpdstmacaddr='$MAC' arpsrcipaddr='0.0.0.0' arpdstipaddr='0.0.0.0'/>",
          "    <rarp srcmacaddr='$MAC' dstmacaddr='ff:ff:ff:ff:ff:ff' opcode='Request_Reverse' arpsrcmacaddr='$MAC' "
          "arpdstmacaddr='$MAC' arpsrcipaddr='0.0.0.0' arpdstipaddr='0.0.0.0'/>\n" },
        /* match='yes' is the default and not written; match='no' comes first */
        { "<arp match='yes' arpsrcipaddr='$IP'/>", "    <arp arpsrcipaddr='$IP'/>\n" },
        { "<udp dstipaddr='10.0.0.1' match='no' srcipaddr='10.0.0.2'/>",
          "    <udp match='no' srcipaddr='10.0.0.2' dstipaddr='10.0.0.1'/>\n" },
        /* the common attributes, then the protocol's own, comment last */
        { "<tcp comment='web' flags='SYN/SYN,ACK' option='2' dstportstart='80' state='NEW' srcmacaddr='$MAC'/>",
          "    <tcp srcmacaddr='$MAC' state='NEW' dstportstart='80' option='2' flags='SYN/SYN,ACK' "
          "comment='web'/>\n" },
        { "<mac comment='m' protocolid='ipv6' dstmacaddr='00:11:22:33:44:55' srcmacmask='FF:FF:FF:FF:FF:00' "
          "srcmacaddr='$MAC'/>",
          "    <mac srcmacaddr='$MAC' srcmacmask='ff:ff:ff:ff:ff:00' dstmacaddr='00:11:22:33:44:55' "
          "protocolid='ipv6' comment='m'/>\n" },
        { "<icmpv6 code='0' type='135' dstipaddr='FF02::1'/>",
          "    <icmpv6 dstipaddr='ff02::1' type='135' code='0'/>\n" },
        /* attributes libvirt does not know are dropped, as are other elements */
        { "<foo/><tcp bogus='1' dstportstart='80'/><udp srcportstart='1'/>", "    <tcp dstportstart='80'/>\n" },
        { "<foo bar='1'/>", "" },
        /* a second element of the same name adds to the first */
        { "<udp srcipaddr='10.0.0.1'/><udp dstportstart='53'/>",
          "    <udp srcipaddr='10.0.0.1' dstportstart='53'/>\n" },
        { "<all match='no'/>", "    <all/>\n" },
        /* a port's match='no' follows srcportstart: where negated and plain
         * attributes meet, another element goes on */
        { "<tcp match='no' srcipaddr='10.0.0.1' dstportstart='80'/>",
          "    <tcp match='no' srcipaddr='10.0.0.1'/>\n    <tcp dstportstart='80'/>\n" },
        /* ipset without ipsetflags gets 'src' */
        { "<tcp ipset='blocked'/>", "    <tcp ipset='blocked' ipsetflags='src'/>\n" },
        { "<all ipsetflags='DST,src' ipset='blocked'/>", "    <all ipset='blocked' ipsetflags='dst,src'/>\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *out = rule_body(cases[i].in, &err);

        g_assert_no_error(err);
        g_assert_cmpstr(out, ==, cases[i].want);
    }
}

static void
test_rule_attribute_values(void)
{
    struct {
        const char *in;
        const char *want;
    } cases[] = {
        /* EtherTypes: known ones by name, others in the base given */
        { "<mac protocolid='0x835'/>", "protocolid='0x835'" },
        { "<mac protocolid='2101'/>", "protocolid='2101'" },
        { "<mac protocolid='0x0800'/>", "protocolid='ipv4'" },
        { "<mac protocolid='2054'/>", "protocolid='arp'" },
        { "<mac protocolid='RARP'/>", "protocolid='rarp'" },
        { "<vlan vlanid='0x10' encap-protocol='33024'/>", "vlanid='0x10' encap-protocol='vlan'" },
        /* IP protocols likewise */
        { "<ip protocol='6'/>", "protocol='tcp'" },
        { "<ip protocol='0x2F'/>", "protocol='0x2f'" },
        { "<ip protocol='47'/>", "protocol='47'" },
        { "<ip protocol='ICMP'/>", "protocol='icmp'" },
        /* ARP opcodes by name, others in decimal */
        { "<arp opcode='reply'/>", "opcode='Reply'" },
        { "<arp opcode='3'/>", "opcode='Request_Reverse'" },
        { "<arp opcode='0x10'/>", "opcode='16'" },
        /* numbers: decimal or hexadecimal as given, hex digits alone are hex */
        { "<tcp dstportstart='080' srcportstart='0x0050'/>", "srcportstart='0x50' dstportstart='80'" },
        { "<stp type='ff' root-cost='4294967295'/>", "type='0xff' root-cost='4294967295'" },
        /* addresses canonical, masks as prefix lengths */
        { "<ip srcipaddr='10.1.2.3' srcipmask='255.255.255.0'/>", "srcipaddr='10.1.2.3' srcipmask='24'" },
        { "<ipv6 srcipaddr='2001:0DB8:0:0::1' srcipmask='FFFF:FFFF::'/>", "srcipaddr='2001:db8::1' srcipmask='32'" },
        { "<ipv6 dstipaddr='::FFFF:10.0.0.1'/>", "dstipaddr='::ffff:10.0.0.1'" },
        { "<arp arpsrcmacaddr='A:B:C:D:E:F'/>", "arpsrcmacaddr='0a:0b:0c:0d:0e:0f'" },
        /* variables as libvirt writes them back: $X[@0] is $X */
        { "<ip srcipaddr='$IP[@0]' dstipaddr='$IP[ 2 ]'/>", "srcipaddr='$IP' dstipaddr='$IP[2]'" },
        { "<udp srcipaddr='$IP[@1]'/>", "srcipaddr='$IP[@1]'" },
        /* named flags and states in libvirt's order and case */
        { "<tcp flags='ack,syn/all' state='established,new'/>", "state='NEW,ESTABLISHED' flags='SYN,ACK/ALL'" },
        { "<tcp flags='PSH/' state='NONE,NEW'/>", "state='NONE' flags='PSH/NONE'" },
        { "<arp gratuitous='yes'/>", "gratuitous='true'" },
        { "<arp gratuitous='TRUE'/>", "gratuitous='false'" },
        { "<all comment=\"a'b&amp;c\"/>", "comment='a&apos;b&amp;c'" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *out = rule_body(cases[i].in, &err);

        g_assert_no_error(err);
        if (!strstr(out, cases[i].want))
            g_error("%s: got %s, want %s", cases[i].in, out, cases[i].want);
    }
}

static void
test_rule_attribute_errors(void)
{
    struct {
        const char *in;
        const char *msg;
    } cases[] = {
        { "<tcp dstportstart='70000'/>", "dstportstart has illegal value 70000" },
        { "<mac protocolid='100'/>", "protocolid has illegal value 100" },
        { "<ipv6 srcipaddr='10.0.0.1'/>", "srcipaddr has illegal value 10.0.0.1" },
        { "<ip srcipaddr='::1'/>", "srcipaddr has illegal value ::1" },
        { "<arp arpsrcipmask='255.0.255.0'/>", "arpsrcipmask has illegal value 255.0.255.0" },
        { "<ip srcipmask='33'/>", "srcipmask has illegal value 33" },
        { "<mac srcmacmask='ff:00:ff:00:00:00'/>", "srcmacmask has illegal value ff:00:ff:00:00:00" },
        { "<vlan vlanid='4096'/>", "vlanid has illegal value 4096" },
        { "<ip dscp='64'/>", "dscp has illegal value 64" },
        { "<tcp state='OLD'/>", "state has illegal value OLD" },
        { "<tcp flags='SYN'/>", "flags has illegal value SYN" },
        { "<udp srcipaddr='$IP[@1001]'/>", "srcipaddr has illegal value $IP[@1001]" },
        { "<udp ipset='a/b'/>", "ipset has illegal value a/b" },
        /* libvirt reads every attribute and reports the last illegal one */
        { "<tcp dstportstart='y' srcipaddr='x'/>", "dstportstart has illegal value y" },
        { "<ip srcportstart='80'/>",
          "IP rule with port specification requires protocol specification with protocol to be either one of "
          "tcp(6), udp(17), dccp(33), or sctp(132)" },
        { "<ipv6 protocol='icmpv6' dstportend='1'/>", "IPv6 rule with port specification" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *out = rule_body(cases[i].in, &err);

        g_assert_null(out);
        g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
        if (!strstr(err->message, cases[i].msg))
            g_error("%s: got %s, want %s", cases[i].in, err->message, cases[i].msg);
    }
}

/* Every protocol element libvirt knows, its attributes negated: written
 * back, and read again to the same text. */
static void
test_rule_every_element(void)
{
    static const char *const elements[] = {
        "mac",      "vlan",     "stp",          "arp",      "rarp",    "ip",        "ipv6",   "tcp",
        "udp",      "udplite",  "esp",          "ah",       "sctp",    "icmp",      "igmp",   "all",
        "tcp-ipv6", "udp-ipv6", "udplite-ipv6", "esp-ipv6", "ah-ipv6", "sctp-ipv6", "icmpv6", "all-ipv6",
    };

    for (guint i = 0; i < G_N_ELEMENTS(elements); i++) {
        g_autofree char *in = g_strdup_printf("<%s match='no' srcmacaddr='$MAC' comment='c'/>", elements[i]);
        g_autofree char *want = g_strdup_printf("    <%s match='no' srcmacaddr='$MAC' comment='c'/>\n", elements[i]);
        g_autoptr(GError) err = NULL;
        g_autofree char *out = rule_body(in, &err);
        g_autofree char *again = NULL;

        g_assert_no_error(err);
        g_assert_cmpstr(out, ==, want);
        again = rule_body(out, &err);
        g_assert_no_error(err);
        g_assert_cmpstr(again, ==, want);
    }
}

static void
test_filterref_parameters(void)
{
    const char *in = "<filter name='f'><filterref filter='g'><parameter name='B' value='2'/>"
                     "<parameter name='A' value='1'/><parameter name='B' value='1.2'/>"
                     "<parameter name='C' value=''/><parameter name='D-' value='1'/>"
                     "<parameter name='E' value='a b'/></filterref></filter>";
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    guint8 uuid[16];
    g_autofree char *out = vrt_nwfilter_canonical(in, &name, uuid, &err);

    g_assert_no_error(err);
    g_assert_nonnull(strstr(out, "  <filterref filter='g'>\n    <parameter name='A' value='1'/>\n"
                                 "    <parameter name='B' value='2'/>\n    <parameter name='B' value='1.2'/>\n"
                                 "  </filterref>\n"));
}

/* The filter's priority as libvirt settles it: the chain's default (0 for
 * stp, not written), the one given only with a chain given. */
static void
test_chain_priority(void)
{
    struct {
        const char *xml;
        const char *want;
    } cases[] = {
        { "<filter name='x' chain='stp'/>", "<filter name='x' chain='stp'>\n" },
        { "<filter name='x' chain='stp-in' priority='-5'/>", "<filter name='x' chain='stp-in' priority='-5'>\n" },
        { "<filter name='x' priority='-100'/>", "<filter name='x' chain='root'>\n" },
        { "<filter name='x' chain='arp-ip'/>", "<filter name='x' chain='arp-ip' priority='-500'>\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *name = NULL;
        guint8 uuid[16];
        g_autofree char *out = vrt_nwfilter_canonical(cases[i].xml, &name, uuid, &err);

        g_assert_no_error(err);
        g_assert_true(g_str_has_prefix(out, cases[i].want));
    }
}

static void
test_errors(void)
{
    struct {
        const char *xml;
        int code;
        const char *msg;
    } cases[] = {
        { "<filter chain='root'/>", VIR_ERR_INTERNAL_ERROR, "filter has no name" },
        { "<filter name='x' chain='bogus'/>", VIR_ERR_INVALID_ARG, "unknown chain suffix 'bogus'" },
        { "<filter name='x'><rule direction='in'/></filter>", VIR_ERR_INTERNAL_ERROR,
          "rule node requires action attribute" },
        { "<filter name='x'><rule action='kill' direction='in'/></filter>", VIR_ERR_CONFIG_UNSUPPORTED,
          "unknown rule action attribute value" },
        { "<filter name='x' priority='5000'/>", VIR_ERR_INVALID_ARG, "outside valid range" },
        { "<filter name='x' chain='mac' priority='x'/>", VIR_ERR_INVALID_ARG, "Could not parse chain priority 'x'" },
        { "<network/>", VIR_ERR_XML_ERROR, NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *name = NULL;
        guint8 uuid[16];
        g_autofree char *out = vrt_nwfilter_canonical(cases[i].xml, &name, uuid, &err);

        g_assert_null(out);
        g_assert_nonnull(err);
        g_assert_cmpint(err->code, ==, cases[i].code);
        if (cases[i].msg)
            g_assert_nonnull(strstr(err->message, cases[i].msg));
    }
}

static void
test_driver(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-nwfilter-XXXXXX");
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNwfilterDriver) drv = vrt_nwfilter_driver_new(root, &err);
    g_autoptr(VrtNwfilterRef) a = NULL;
    g_autoptr(VrtNwfilterRef) b = NULL;
    g_autoptr(VrtNwfilterRef) c = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *path = NULL;

    g_assert_no_error(err);
    a = vrt_nwfilter_define(drv, "<filter name='a'><filterref filter='b'/></filter>", 0, &err);
    g_assert_no_error(err);
    b = vrt_nwfilter_define(drv, "<filter name='b'><rule action='accept' direction='in'/></filter>", 0, &err);
    g_assert_no_error(err);
    /* b referencing a closes a loop. */
    g_assert_null(vrt_nwfilter_define(drv, "<filter name='b'><filterref filter='a'/></filter>", 0, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_clear_error(&err);
    /* Redefining by name without its uuid: another uuid, refused. */
    g_assert_null(vrt_nwfilter_define(drv, "<filter name='a'/>", 0, &err));
    g_assert_nonnull(strstr(err->message, "filter 'a' already exists with uuid"));
    g_clear_error(&err);
    {
        char s[VRT_UUID_STRING_LEN];
        g_autofree char *re = NULL;
        g_autofree char *other = NULL;

        vrt_uuid_format(a->uuid, s);
        re = g_strdup_printf("<filter name='a'><uuid>%s</uuid></filter>", s);
        c = vrt_nwfilter_define(drv, re, 0, &err);
        g_assert_no_error(err);
        g_assert_cmpmem(c->uuid, 16, a->uuid, 16);
        other = g_strdup_printf("<filter name='z'><uuid>%s</uuid></filter>", s);
        g_assert_null(vrt_nwfilter_define(drv, other, 0, &err));
        g_assert_nonnull(strstr(err->message, "filter with same UUID but different name ('a') already exists"));
        g_clear_error(&err);
    }
    path = g_build_filename(root, "etc/vrt/nwfilter/b.xml", NULL);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));

    /* A new driver reads them back. */
    g_clear_pointer(&drv, vrt_nwfilter_driver_free);
    drv = vrt_nwfilter_driver_new(root, &err);
    list = vrt_nwfilter_list(drv);
    g_assert_cmpuint(list->len, ==, 2);
    g_assert_cmpstr(((VrtNwfilterRef *)g_ptr_array_index(list, 0))->name, ==, "a");
    xml = vrt_nwfilter_get_xml(drv, b->uuid, &err);
    g_assert_nonnull(strstr(xml, "<rule action='accept' direction='in' priority='500'/>"));
    g_assert_true(vrt_nwfilter_undefine(drv, b->uuid, &err));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_null(vrt_nwfilter_lookup_by_name(drv, "b", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_NWFILTER);
    g_clear_error(&err);
    g_assert_null(vrt_nwfilter_lookup_by_uuid(drv, b->uuid, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_NWFILTER);
    vrt_test_remove_tree(root);
}

/* A file without a UUID (as Debian installs its built-in filters) is
 * written back with the UUID it got, so a new driver shows the same one;
 * its rules in libvirt's form. */
static void
test_loaded_without_uuid(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-nwfilter-XXXXXX");
    g_autofree char *dir = g_build_filename(root, "etc/vrt/nwfilter", NULL);
    g_autofree char *path = g_build_filename(dir, "no-ipv6-multicast.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNwfilterDriver) drv = NULL;
    g_autoptr(VrtNwfilterRef) a = NULL;
    g_autoptr(VrtNwfilterRef) b = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *disk = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path,
                                      "<filter name='no-ipv6-multicast' chain='ipv6'>\n"
                                      "  <rule action='drop' direction='out'>\n"
                                      "    <ipv6 dstipaddr='FF00::' dstipmask='8' />\n  </rule>\n</filter>\n",
                                      -1, NULL));
    drv = vrt_nwfilter_driver_new(root, &err);
    g_assert_no_error(err);
    a = vrt_nwfilter_lookup_by_name(drv, "no-ipv6-multicast", &err);
    g_assert_no_error(err);
    xml = vrt_nwfilter_get_xml(drv, a->uuid, &err);
    g_assert_nonnull(strstr(xml, "    <ipv6 dstipaddr='ff00::' dstipmask='8'/>\n"));
    g_assert_true(g_file_get_contents(path, &disk, NULL, NULL));
    g_assert_cmpstr(disk, ==, xml);

    g_clear_pointer(&drv, vrt_nwfilter_driver_free);
    drv = vrt_nwfilter_driver_new(root, &err);
    g_assert_no_error(err);
    b = vrt_nwfilter_lookup_by_name(drv, "no-ipv6-multicast", &err);
    g_assert_no_error(err);
    g_assert_cmpmem(b->uuid, 16, a->uuid, 16);
    vrt_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nwfilter/canonical", test_canonical);
    g_test_add_func("/nwfilter/rule-attribute-order", test_rule_attribute_order);
    g_test_add_func("/nwfilter/rule-attribute-values", test_rule_attribute_values);
    g_test_add_func("/nwfilter/rule-attribute-errors", test_rule_attribute_errors);
    g_test_add_func("/nwfilter/rule-every-element", test_rule_every_element);
    g_test_add_func("/nwfilter/filterref-parameters", test_filterref_parameters);
    g_test_add_func("/nwfilter/chain-priority", test_chain_priority);
    g_test_add_func("/nwfilter/errors", test_errors);
    g_test_add_func("/nwfilter/driver", test_driver);
    g_test_add_func("/nwfilter/loaded-without-uuid", test_loaded_without_uuid);
    return g_test_run();
}

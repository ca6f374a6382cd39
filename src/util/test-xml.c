/* The XML helper library (xml.h) as the domain, network and node device
 * code use it: parse errors and size limits in each family's wording, the
 * safe parser options (no external entities), element walking and
 * namespaces, typed attribute readers with the errors clients see, PCI
 * address attributes and escaping. */
#include "util/xml.h"
#include "util/error.h"

#include <glib/gstdio.h>
#include <string.h>

static const VrtXmlWording net_wording = {
    .style = VRT_XML_STYLE_NETWORK,
    .max_bytes = 4 * 1024 * 1024,
    .root_label = "network XML",
};

typedef struct {
    xmlDocPtr doc;
} Doc;

static xmlNodePtr
root_of(Doc *d, const char *xml, const VrtXmlWording *w)
{
    g_autoptr(GError) err = NULL;

    d->doc = vrt_xml_read(xml, "(test)", NULL, w, &err);
    g_assert_no_error(err);
    g_assert_nonnull(d->doc);
    return xmlDocGetRootElement(d->doc);
}

static void
doc_clear(Doc *d)
{
    xmlFreeDoc(d->doc);
}

static void
assert_error(const GError *err, int code, const char *text)
{
    g_assert_nonnull(err);
    g_assert_cmpint(vrt_error_code(err), ==, code);
    if (!strstr(err->message, text))
        g_error("'%s' does not contain '%s'", err->message, text);
}

static void
test_read_errors(void)
{
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL, e7 = NULL;
    g_autofree char *big = NULL;

    g_assert_null(vrt_xml_read("<domain>\n  <name>x</name\n</domain>", "domain_definition", NULL, NULL, &e1));
    assert_error(e1, VIR_ERR_XML_ERROR, "domain_definition:3: ");
    assert_error(e1, VIR_ERR_XML_ERROR, "(at line 3)");
    g_assert_null(
        vrt_xml_read("<network>\n  <name>x</name\n</network>", "(network_definition)", "network", &net_wording, &e2));
    assert_error(e2, VIR_ERR_XML_ERROR, "(network_definition):3: ");
    g_assert_null(strstr(e2->message, "(at line"));
    g_assert_null(vrt_xml_read("<network/>", "domain_definition", "domain", NULL, &e3));
    assert_error(e3, VIR_ERR_XML_ERROR, "unexpected root element <network>, expecting <domain>");
    g_assert_null(vrt_xml_read("", "domain_definition", NULL, NULL, &e4));
    assert_error(e4, VIR_ERR_XML_ERROR, "domain_definition");

    /* the network family's 4 MiB limit, the domain family's 10 MiB */
    big = g_strnfill(4 * 1024 * 1024 + 1, ' ');
    g_assert_null(vrt_xml_read(big, "(network_definition)", "network", &net_wording, &e5));
    assert_error(e5, VIR_ERR_XML_ERROR, "(network_definition): document larger than 4194304 bytes");
    g_assert_null(vrt_xml_read(big, "domain_definition", NULL, NULL, &e6));
    g_assert_null(strstr(e6->message, "larger than"));
    g_assert_null(vrt_xml_read(NULL, "(network_definition)", "network", &net_wording, &e7));
    assert_error(e7, VIR_ERR_XML_ERROR, "(network_definition): no XML given");
}

static void
test_no_external_entities(void)
{
    g_autofree char *dir = g_dir_make_tmp("vrt-xml-XXXXXX", NULL);
    g_autofree char *secret = g_build_filename(dir, "secret", NULL);
    g_autofree char *xml = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    xmlDocPtr doc;

    g_assert_true(g_file_set_contents(secret, "top secret", -1, NULL));
    xml = g_strdup_printf("<!DOCTYPE d [<!ENTITY x SYSTEM \"file://%s\">]><d>&x;</d>", secret);
    doc = vrt_xml_read(xml, "(test)", "d", NULL, &err);
    if (doc) {
        text = vrt_xml_text(xmlDocGetRootElement(doc));
        g_assert_null(strstr(text, "top secret"));
        xmlFreeDoc(doc);
    }
    g_unlink(secret);
    g_rmdir(dir);
}

static void
test_elements(void)
{
    Doc d;
    xmlNodePtr root = root_of(&d, "<r xmlns:q='urn:q'> <a/>text<q:a/><b x='1'> in b </b></r>", NULL);
    xmlNodePtr a = vrt_xml_next_element(root->children);
    xmlNodePtr qa = vrt_xml_next_element(a->next);
    xmlNodePtr b = vrt_xml_next_element(qa->next);
    guint n = 0;
    g_autofree char *text = vrt_xml_text(b);
    g_autofree char *x = vrt_xml_prop(b, "x");

    g_assert_true(vrt_xml_is(a, "a"));
    g_assert_false(vrt_xml_is(qa, "a"));
    g_assert_false(vrt_xml_is(root->children, "text"));
    g_assert_false(vrt_xml_is(NULL, "a"));
    g_assert_true(vrt_xml_is(b, "b"));
    VRT_XML_FOREACH_CHILD(c, root)
    n++;
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(text, ==, " in b ");
    g_assert_cmpstr(x, ==, "1");
    g_assert_null(vrt_xml_prop(b, "y"));
    doc_clear(&d);
}

static void
test_unsupported(void)
{
    Doc d, n;
    xmlNodePtr droot = root_of(&d, "<domain>\n<iothreads/>\n</domain>", NULL);
    xmlNodePtr nroot = root_of(&n, "<network xmlns:q='urn:q'><dns/><forward><q:x/></forward></network>", &net_wording);
    xmlNodePtr dns = vrt_xml_next_element(nroot->children);
    xmlNodePtr fwd = vrt_xml_next_element(dns->next);
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;

    g_assert_false(vrt_xml_unsupported(vrt_xml_next_element(droot->children), &e1));
    assert_error(e1, VIR_ERR_CONFIG_UNSUPPORTED, "element <iothreads> in <domain> (line 2) is not supported");
    g_assert_false(vrt_xml_unsupported(dns, &e2));
    assert_error(e2, VIR_ERR_CONFIG_UNSUPPORTED, "element <dns> in network XML is not supported by vrt");
    g_assert_false(vrt_xml_unsupported(vrt_xml_next_element(fwd->children), &e3));
    assert_error(e3, VIR_ERR_CONFIG_UNSUPPORTED, "element <q:x> in <forward> is not supported by vrt");
    doc_clear(&d);
    doc_clear(&n);
}

static void
test_check_attrs(void)
{
    Doc d;
    xmlNodePtr root = root_of(&d, "<a xmlns:q='urn:q' x='1' q:z='2'>\n<b y='1'/></a>", NULL);
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_xml_check_attrs(root, &err, "x", NULL));
    g_assert_false(vrt_xml_check_attrs(vrt_xml_next_element(root->children), &err, "x", NULL));
    assert_error(err, VIR_ERR_CONFIG_UNSUPPORTED, "attribute 'y' of element <b> (line 2) is not supported");
    doc_clear(&d);
}

static void
test_uint(void)
{
    Doc d, n;
    xmlNodePtr a = root_of(&d, "<a hex='0x1f' dec=' 31 ' big='32' neg='-1' bad='3x' empty=''/>", NULL);
    xmlNodePtr na = root_of(&n, "<a big='0x20' neg='-1'/>", &net_wording);
    guint v = 99;
    bool present = true;
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL, e7 = NULL, e8 = NULL;

    g_assert_true(vrt_xml_prop_uint(a, "absent", 31, &v, &present, NULL));
    g_assert_false(present);
    g_assert_cmpuint(v, ==, 99);
    g_assert_true(vrt_xml_prop_uint(a, "hex", 31, &v, &present, NULL));
    g_assert_true(present);
    g_assert_cmpuint(v, ==, 31);
    v = 0;
    g_assert_true(vrt_xml_prop_uint(a, "dec", 31, &v, NULL, NULL));
    g_assert_cmpuint(v, ==, 31);
    g_assert_false(vrt_xml_prop_uint(a, "big", 31, &v, NULL, &e1));
    assert_error(e1, VIR_ERR_XML_ERROR,
                 "invalid value '32' for attribute 'big' of <a> (line 1): expected a number up to 31");
    g_assert_false(vrt_xml_prop_uint(a, "neg", 31, &v, NULL, &e2));
    assert_error(e2, VIR_ERR_XML_ERROR, "'-1'");
    g_assert_false(vrt_xml_prop_uint(a, "bad", 31, &v, NULL, &e3));
    assert_error(e3, VIR_ERR_XML_ERROR, "'3x'");
    g_assert_false(vrt_xml_prop_uint(a, "empty", 31, &v, NULL, &e4));
    assert_error(e4, VIR_ERR_XML_ERROR, "attribute 'empty'");
    g_assert_false(vrt_xml_prop_uint_required(a, "absent", 31, &v, &e5));
    assert_error(e5, VIR_ERR_XML_ERROR, "missing attribute 'absent' of <a> (line 1)");

    g_assert_false(vrt_xml_prop_uint(na, "big", 31, &v, NULL, &e6));
    assert_error(e6, VIR_ERR_XML_ERROR, "invalid big='0x20' in <a> (at most 31)");
    g_assert_false(vrt_xml_prop_uint_required(na, "slot", 31, &v, &e7));
    assert_error(e7, VIR_ERR_XML_ERROR, "missing slot attribute in <a>");
    g_assert_false(vrt_xml_prop_uint(na, "neg", 31, &v, NULL, &e8));
    assert_error(e8, VIR_ERR_XML_ERROR, "invalid neg='-1' in <a>");
    doc_clear(&d);
    doc_clear(&n);
}

static void
test_tristate_yes_no_enum(void)
{
    static const char *const colours[] = { "red", "green", NULL };
    Doc d, n;
    xmlNodePtr a = root_of(&d, "<a y='yes' n='no' on='on' off='off' bad='maybe' c='green' x='blue'/>", NULL);
    xmlNodePtr na = root_of(&n, "<a bad='maybe'/>", &net_wording);
    VrtTristate t = VRT_TRISTATE_DEFAULT;
    int yn = 7;
    int c = -5;
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;

    g_assert_true(vrt_xml_prop_tristate(a, "absent", false, &t, NULL));
    g_assert_cmpint(t, ==, VRT_TRISTATE_DEFAULT);
    g_assert_true(vrt_xml_prop_tristate(a, "y", false, &t, NULL));
    g_assert_cmpint(t, ==, VRT_TRISTATE_YES);
    g_assert_true(vrt_xml_prop_tristate(a, "off", true, &t, NULL));
    g_assert_cmpint(t, ==, VRT_TRISTATE_NO);
    g_assert_false(vrt_xml_prop_tristate(a, "on", false, &t, &e1));
    assert_error(e1, VIR_ERR_XML_ERROR,
                 "invalid value 'on' for attribute 'on' of <a> (line 1): expected 'yes' or 'no'");

    g_assert_true(vrt_xml_prop_yes_no(a, "absent", &yn, NULL));
    g_assert_cmpint(yn, ==, -1);
    g_assert_true(vrt_xml_prop_yes_no(a, "n", &yn, NULL));
    g_assert_cmpint(yn, ==, 0);
    g_assert_true(vrt_xml_prop_yes_no(a, "y", &yn, NULL));
    g_assert_cmpint(yn, ==, 1);
    g_assert_false(vrt_xml_prop_yes_no(na, "bad", &yn, &e2));
    assert_error(e2, VIR_ERR_XML_ERROR, "invalid bad='maybe' in <a>, expecting 'yes' or 'no'");

    g_assert_true(vrt_xml_prop_enum(a, "absent", colours, false, &c, NULL));
    g_assert_cmpint(c, ==, -5);
    g_assert_true(vrt_xml_prop_enum(a, "c", colours, true, &c, NULL));
    g_assert_cmpint(c, ==, 1);
    g_assert_false(vrt_xml_prop_enum(a, "x", colours, false, &c, &e3));
    assert_error(e3, VIR_ERR_CONFIG_UNSUPPORTED, "value 'blue' of attribute 'x' of <a> (line 1) is not supported");
    g_assert_false(vrt_xml_prop_enum(a, "absent", colours, true, &c, &e4));
    assert_error(e4, VIR_ERR_XML_ERROR, "missing attribute 'absent' of <a> (line 1)");
    g_assert_cmpint(vrt_enum_from_string(colours, "red"), ==, 0);
    g_assert_cmpint(vrt_enum_from_string(colours, NULL), ==, -1);
    g_assert_false(vrt_xml_prop_tristate(a, "bad", true, &t, &e5));
    assert_error(e5, VIR_ERR_XML_ERROR, "expected 'on' or 'off'");
    g_assert_false(vrt_xml_prop_tristate(na, "bad", true, &t, &e6));
    assert_error(e6, VIR_ERR_XML_ERROR, "invalid bad='maybe' in <a>, expecting 'on' or 'off'");
    doc_clear(&d);
    doc_clear(&n);
}

static void
test_pci_addr(void)
{
    Doc d;
    xmlNodePtr r = root_of(&d,
                           "<r><address domain='0x0001' bus='0x06' slot='0x10' function='0x2' multifunction='on'/>"
                           "<address slot='0x03'/><address slot='0x20'/></r>",
                           NULL);
    xmlNodePtr full = vrt_xml_next_element(r->children);
    xmlNodePtr part = vrt_xml_next_element(full->next);
    xmlNodePtr bad = vrt_xml_next_element(part->next);
    VrtPciAddr a = { 0 };
    VrtPciAddr b = { .bus = 9 };
    g_autoptr(GError) e1 = NULL, e2 = NULL;

    g_assert_true(vrt_xml_prop_pci_addr(full, VRT_XML_PCI_REQUIRED | VRT_XML_PCI_MULTIFUNCTION, &a, NULL));
    g_assert_cmpuint(a.domain, ==, 1);
    g_assert_cmpuint(a.bus, ==, 6);
    g_assert_cmpuint(a.slot, ==, 0x10);
    g_assert_cmpuint(a.function, ==, 2);
    g_assert_cmpint(a.multifunction, ==, VRT_TRISTATE_YES);
    /* without the flag multifunction= is not read */
    a.multifunction = VRT_TRISTATE_DEFAULT;
    g_assert_true(vrt_xml_prop_pci_addr(full, 0, &a, NULL));
    g_assert_cmpint(a.multifunction, ==, VRT_TRISTATE_DEFAULT);
    /* attributes not given keep the caller's values */
    g_assert_true(vrt_xml_prop_pci_addr(part, 0, &b, NULL));
    g_assert_cmpuint(b.bus, ==, 9);
    g_assert_cmpuint(b.slot, ==, 3);
    g_assert_false(vrt_xml_prop_pci_addr(part, VRT_XML_PCI_REQUIRED, &b, &e1));
    assert_error(e1, VIR_ERR_XML_ERROR, "'bus'");
    g_assert_false(vrt_xml_prop_pci_addr(bad, 0, &b, &e2));
    assert_error(e2, VIR_ERR_XML_ERROR, "expected a number up to 31");
    doc_clear(&d);
}

static void
test_escape(void)
{
    g_autofree char *e = vrt_xml_escape("<a&'\">");
    g_autoptr(GString) out = g_string_new("<x");

    g_assert_cmpstr(e, ==, "&lt;a&amp;&apos;&quot;&gt;");
    g_assert_null(vrt_xml_escape(NULL));
    vrt_xml_format_attr(out, "name", "it's");
    vrt_xml_format_attr(out, "absent", NULL);
    g_string_append(out, "/>");
    g_assert_cmpstr(out->str, ==, "<x name='it&apos;s'/>");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xml/read-errors", test_read_errors);
    g_test_add_func("/xml/no-external-entities", test_no_external_entities);
    g_test_add_func("/xml/elements", test_elements);
    g_test_add_func("/xml/unsupported", test_unsupported);
    g_test_add_func("/xml/check-attrs", test_check_attrs);
    g_test_add_func("/xml/uint", test_uint);
    g_test_add_func("/xml/tristate-yes-no-enum", test_tristate_yes_no_enum);
    g_test_add_func("/xml/pci-addr", test_pci_addr);
    g_test_add_func("/xml/escape", test_escape);
    return g_test_run();
}

/* The PCI address codecs (pciaddr.h): the sysfs text form every layer
 * parses (accepted and refused spellings, the error a client sees), node
 * device names, the XML attribute form, and equality ignoring
 * multifunction. */
#include "util/pciaddr.h"
#include "util/error.h"

#include <string.h>

static void
test_text_forms(void)
{
    static const struct {
        const char *in;
        const char *out;
    } good[] = {
        { "0000:06:10.0", "0000:06:10.0" },
        { "06:10.1", "0000:06:10.1" },
        { "ffff:ff:1f.7", "ffff:ff:1f.7" },
        { "0000:0A:1F.3", "0000:0a:1f.3" },
    };
    static const char *const bad[] = {
        "",    "06:10",       "0000:06:20.0", "0000:06:10.8",  "0000:06:10.0x", "00000:06:10.0", "0000:100:10.0",
        "xyz", "0000:06:10.", ":06:10.0",     "0000:06::10.0", "0000:06:10.00", " 000:06:10.0",  "0000:06:10.0 "
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        VrtPciAddr a;
        g_autoptr(GError) err = NULL;
        g_autofree char *s = NULL;
        g_autofree char *n = NULL;
        char buf[VRT_PCI_ADDR_STRING_LEN];
        VrtPciAddr b;

        g_assert_true(vrt_pci_addr_parse(good[i].in, &a, &err));
        g_assert_no_error(err);
        s = vrt_pci_addr_format(&a);
        g_assert_cmpstr(s, ==, good[i].out);
        g_assert_cmpstr(vrt_pci_addr_format_buf(&a, buf), ==, good[i].out);
        n = vrt_pci_addr_nodedev_name(&a);
        g_assert_true(g_str_has_prefix(n, "pci_"));
        g_assert_true(vrt_pci_addr_parse_nodedev_name(n, &b));
        g_assert_true(vrt_pci_addr_equal(&a, &b));
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        VrtPciAddr a;
        g_autoptr(GError) err = NULL;
        g_assert_false(vrt_pci_addr_parse(bad[i], &a, &err));
        g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_INVALID_ARG);
        g_assert_nonnull(strstr(err->message, bad[i]));
    }
    {
        VrtPciAddr a = { 0, 6, 0x10, 2 };
        g_autofree char *n = vrt_pci_addr_nodedev_name(&a);
        g_assert_cmpstr(n, ==, "pci_0000_06_10_2");
        g_assert_false(vrt_pci_addr_parse_nodedev_name("pci_06_10_2", &a));
        g_assert_false(vrt_pci_addr_parse_nodedev_name("net_0000_06_10_2", &a));
    }
}

static void
test_attrs(void)
{
    VrtPciAddr a = { .domain = 0, .bus = 6, .slot = 0x10, .function = 2 };
    g_autoptr(GString) out = g_string_new("<address");

    vrt_pci_addr_format_attrs(out, &a);
    g_string_append(out, "/>");
    g_assert_cmpstr(out->str, ==, "<address domain='0x0000' bus='0x06' slot='0x10' function='0x2'/>");
}

static void
test_equal_ignores_multifunction(void)
{
    VrtPciAddr a = { 0, 6, 0x10, 0, VRT_TRISTATE_YES };
    VrtPciAddr b = { 0, 6, 0x10, 0, VRT_TRISTATE_DEFAULT };
    VrtPciAddr c = { 1, 6, 0x10, 0, VRT_TRISTATE_YES };

    g_assert_true(vrt_pci_addr_equal(&a, &b));
    g_assert_false(vrt_pci_addr_equal(&a, &c));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pciaddr/text", test_text_forms);
    g_test_add_func("/pciaddr/attrs", test_attrs);
    g_test_add_func("/pciaddr/equal", test_equal_ignores_multifunction);
    return g_test_run();
}

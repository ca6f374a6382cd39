/*
 * Unit tests of the network filter definitions (nwfilter.c): the canonical
 * XML libvirt writes for what it reads (chain and rule defaults, uuid,
 * single quotes, no comments), libvirt's errors, UUID and name conflicts,
 * reference loops, and definitions kept on disk across a new driver.
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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nwfilter/canonical", test_canonical);
    g_test_add_func("/nwfilter/errors", test_errors);
    g_test_add_func("/nwfilter/driver", test_driver);
    return g_test_run();
}

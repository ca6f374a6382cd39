/*
 * Storage pool and volume XML: what a define or a volume create reads,
 * written back in libvirt's order and valid against its schemas
 * (storagepool, storagevol); sizes in every unit libvirt reads; and the
 * refusals with libvirt's codes and messages.
 */
#include "conf/storage/storage_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

static void
test_pool_roundtrip(void)
{
    const char *xml = "<pool type='dir'>\n"
                      "  <name>p&amp;1</name>\n"
                      "  <uuid>4b068149-c396-4887-a1b1-91c97b240148</uuid>\n"
                      "  <capacity unit='bytes'>0</capacity>\n"
                      "  <allocation unit='bytes'>0</allocation>\n"
                      "  <available unit='bytes'>0</available>\n"
                      "  <source>\n"
                      "  </source>\n"
                      "  <target>\n"
                      "    <path>/var/lib/vrt/images</path>\n"
                      "    <permissions>\n"
                      "      <mode>0755</mode>\n"
                      "      <owner>107</owner>\n"
                      "      <group>108</group>\n"
                      "    </permissions>\n"
                      "  </target>\n"
                      "</pool>\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtStoragePoolDef) def = vrt_storage_pool_def_parse(xml, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(def->name, ==, "p&1");
    g_autofree char *out = vrt_storage_pool_def_format(def);
    g_assert_cmpstr(out, ==, xml);
    vrt_test_assert_validates(out, "storagepool", NULL);

    /* the path is cleaned as libvirt's virFileSanitizePath, a uuid made */
    g_autoptr(VrtStoragePoolDef) d2 =
        vrt_storage_pool_def_parse("<pool type='dir'><name>q</name><target><path>//a//b/</path></target></pool>", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(d2->target_path, ==, "/a/b");
    g_assert_cmpint(d2->perms.mode, ==, -1);
    g_autofree char *out2 = vrt_storage_pool_def_format(d2);
    g_assert_null(strstr(out2, "<permissions>"));
    vrt_test_assert_validates(out2, "storagepool", NULL);
}

static void
test_vol_sizes_and_format(void)
{
    static const struct {
        const char *unit;
        guint64 value;
    } cases[] = {
        { "bytes", 5 },        { "b", 5 },          { "KiB", 5120 },   { "k", 5120 },       { "KB", 5000 },
        { "MiB", 5ull << 20 }, { "M", 5ull << 20 }, { "MB", 5000000 }, { "G", 5ull << 30 }, { "GB", 5000000000ull },
        { "T", 5ull << 40 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml =
            g_strdup_printf("<volume><name>v</name><capacity unit='%s'>5</capacity></volume>", cases[i].unit);
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtStorageVolDef) def = vrt_storage_vol_def_parse(xml, 0, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(def->capacity, ==, cases[i].value);
        /* no <allocation>: all of it, as libvirt */
        g_assert_cmpuint(def->allocation, ==, cases[i].value);
        g_assert_cmpstr(def->target.format, ==, "raw");
    }

    g_autoptr(GError) err = NULL;
    g_autoptr(VrtStorageVolDef) def = vrt_storage_vol_def_parse(
        "<volume><name>t.qcow2</name><capacity>1048576</capacity><allocation>0</allocation>"
        "<target><format type='qcow2'/><permissions><mode>0640</mode></permissions><features><lazy_refcounts/>"
        "</features></target><backingStore><path>/b.raw</path><format type='raw'/></backingStore></volume>",
        0, &err);
    g_assert_no_error(err);
    g_assert_true(def->has_allocation);
    g_assert_cmpuint(def->allocation, ==, 0);
    g_assert_cmpstr(def->compat, ==, "1.1");
    g_assert_true(def->lazy_refcounts);
    g_assert_cmpint(def->target.perms.mode, ==, 0640);
    g_assert_cmpstr(def->backing->path, ==, "/b.raw");
    def->key = g_strdup("/p/t.qcow2");
    def->target.path = g_strdup("/p/t.qcow2");
    def->physical = 4096;
    def->target.has_times = true;
    def->target.mtime.sec = 1700000000;
    def->target.mtime.nsec = 5;
    g_autofree char *out = vrt_storage_vol_def_format(def);
    g_assert_nonnull(strstr(out, "<mtime>1700000000.000000005</mtime>"));
    g_assert_nonnull(strstr(out, "<features>\n      <lazy_refcounts/>\n    </features>"));
    g_assert_nonnull(strstr(out, "<backingStore>\n    <path>/b.raw</path>\n    <format type='raw'/>"));
    vrt_test_assert_validates(out, "storagevol", NULL);
    g_autoptr(VrtStorageVolDef) copy = vrt_storage_vol_def_copy(def);
    g_autofree char *out2 = vrt_storage_vol_def_format(copy);
    g_assert_cmpstr(out2, ==, out);
}

static void
test_errors(void)
{
    static const struct {
        bool pool;
        const char *xml;
        int code;
        const char *message;
    } cases[] = {
        { true, "<pool type='dir'><name>a/b</name><target><path>/x</path></target></pool>", VIR_ERR_XML_ERROR,
          "XML error: name a/b cannot contain '/'" },
        { true, "<pool type='dir'><name>a</name></pool>", VIR_ERR_XML_ERROR,
          "XML error: missing storage pool target path" },
        { true, "<pool type='dir'><target><path>/x</path></target></pool>", VIR_ERR_XML_ERROR,
          "XML error: missing pool source name element" },
        { true, "<pool type='dir'><name>a</name><uuid>zz</uuid><target><path>/x</path></target></pool>",
          VIR_ERR_XML_ERROR, "XML error: malformed uuid element" },
        { true,
          "<pool type='dir'><name>a</name><target><path>/x</path><permissions><mode>999</mode></permissions>"
          "</target></pool>",
          VIR_ERR_XML_ERROR, "XML error: malformed octal mode" },
        { true, "<pool type='logical'><name>a</name></pool>", VIR_ERR_NO_SUPPORT, NULL },
        { false, "<volume><capacity>1</capacity></volume>", VIR_ERR_XML_ERROR,
          "XML error: missing volume name element" },
        { false, "<volume><name>v</name></volume>", VIR_ERR_XML_ERROR, "XML error: missing capacity element" },
        { false, "<volume><name>v</name><capacity>-1</capacity></volume>", VIR_ERR_XML_ERROR,
          "XML error: malformed capacity element" },
        { false, "<volume><name>v</name><capacity>1</capacity><target><format type='foo'/></target></volume>",
          VIR_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: unknown volume format type foo" },
        { false, "<volume><name>v</name><capacity>1</capacity><target><compat>1.x</compat></target></volume>",
          VIR_ERR_XML_ERROR, "XML error: forbidden characters in 'compat' attribute" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        if (cases[i].pool) {
            g_autoptr(VrtStoragePoolDef) def = vrt_storage_pool_def_parse(cases[i].xml, &err);
            g_assert_null(def);
        } else {
            g_autoptr(VrtStorageVolDef) def = vrt_storage_vol_def_parse(cases[i].xml, 0, &err);
            g_assert_null(def);
        }
        g_assert_nonnull(err);
        g_assert_cmpint(vrt_error_code(err), ==, cases[i].code);
        if (cases[i].message)
            g_assert_cmpstr(err->message, ==, cases[i].message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-conf/pool-roundtrip", test_pool_roundtrip);
    g_test_add_func("/storage-conf/vol-sizes-and-format", test_vol_sizes_and_format);
    g_test_add_func("/storage-conf/errors", test_errors);
    return g_test_run();
}

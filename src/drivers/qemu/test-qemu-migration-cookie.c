/*
 * The migration cookie as a destination reads it: what the source wrote
 * (name, uuid, hostname, hostuuid, the persistent definition) comes back
 * unchanged; a cookie from this very host UUID is refused with libvirt's
 * "Attempt to migrate guest to the same host"; a cookie missing what
 * libvirt requires, or not a <qemu-migration> document, is refused with
 * its reason.
 */
#include "drivers/qemu/qemu_migration.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

static const guchar DOM_UUID[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                     0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00 };
static const guchar SRC_HOST[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const guchar DST_HOST[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static char *
source_cookie(const char *persistent)
{
    VrtMigrationCookie c = { .name = (char *)"web<1>",
                             .hostname = (char *)"src.example",
                             .persistent_xml = (char *)persistent };

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, SRC_HOST, 16);
    return vrt_migration_cookie_format(&c);
}

static void
test_round_trip(void)
{
    g_autofree char *text = source_cookie("<domain type='qemu'><name>web</name></domain>");
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) c = vrt_migration_cookie_parse(text, strlen(text) + 1, DST_HOST, &err);

    g_assert_no_error(err);
    g_assert_cmpstr(c->name, ==, "web<1>");
    g_assert_cmpmem(c->uuid, 16, DOM_UUID, 16);
    g_assert_cmpstr(c->hostname, ==, "src.example");
    g_assert_cmpmem(c->hostuuid, 16, SRC_HOST, 16);
    g_assert_cmpstr(c->persistent_xml, ==, "<domain type=\"qemu\"><name>web</name></domain>");
}

static void
test_same_host_refused(void)
{
    g_autofree char *text = source_cookie(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) c = vrt_migration_cookie_parse(text, strlen(text), SRC_HOST, &err);
    char uuid[VRT_UUID_STRING_LEN];
    g_autofree char *want = NULL;

    vrt_uuid_format(SRC_HOST, uuid);
    want = g_strdup_printf("internal error: Attempt to migrate guest to the same host %s", uuid);
    g_assert_null(c);
    g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(err->message, ==, want);
}

static void
expect_refused(const char *text, const char *reason)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) c = vrt_migration_cookie_parse(text, text ? strlen(text) : 0, DST_HOST, &err);

    g_assert_null(c);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, reason));
}

static void
test_incomplete_refused(void)
{
    expect_refused(NULL, "missing migration cookie");
    expect_refused("<qemu-migration><name>a</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                   "<hostuuid>01020304-0506-0708-090a-0b0c0d0e0f10</hostuuid></qemu-migration>",
                   "missing hostname element in migration data");
    expect_refused("<qemu-migration><name>a</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                   "<hostname>h</hostname></qemu-migration>",
                   "missing hostuuid element in migration data");
    expect_refused("<qemu-migration><name>a</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                   "<hostname>h</hostname><hostuuid>nope</hostuuid></qemu-migration>",
                   "malformed hostuuid element in migration data");
    expect_refused("<domain/>", "qemu-migration");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-cookie/round-trip", test_round_trip);
    g_test_add_func("/migration-cookie/same-host", test_same_host_refused);
    g_test_add_func("/migration-cookie/incomplete", test_incomplete_refused);
    return g_test_run();
}

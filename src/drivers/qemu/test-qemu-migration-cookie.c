/*
 * The migration cookie as a destination reads it: what the source wrote
 * (name, uuid, hostname, hostuuid, the persistent definition) comes back
 * unchanged; a cookie from this very host UUID is refused with libvirt's
 * "Attempt to migrate guest to the same host"; a cookie missing what
 * libvirt requires, or not a <qemu-migration> document, is refused with
 * its reason. The hostdev plan (vrt's <hostdev-plan>) comes back whole and
 * a malformed one is refused. A destination's <daemon-uri> (vrt's own)
 * comes back as written, and a cookie without one has none.
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

/* The SR-IOV interfaces to re-plug: network, MAC, VLAN tags (a trunk
 * too) and alias come back as written; a plan entry without its MAC, or
 * with a VLAN tag out of range, is refused. */
static void
test_hostdev_plan(void)
{
    VrtMigrationCookie c = { .name = (char *)"web", .hostname = (char *)"src.example" };
    VrtMigrationHostdev a = { .alias = (char *)"hostdev0",
                              .network = (char *)"pool<&>",
                              .mac = { 0x52, 0x54, 0, 0xaa, 0, 1 },
                              .vlan_tags = { 42 },
                              .n_vlan_tags = 1 };
    VrtMigrationHostdev b = { .alias = (char *)"ua-sriov",
                              .network = (char *)"other",
                              .mac = { 0x52, 0x54, 0, 0xaa, 0, 2 },
                              .vlan_tags = { 7, 8 },
                              .n_vlan_tags = 2,
                              .vlan_trunk = true };
    g_autoptr(GPtrArray) plan = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_autofree char *bad = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) back = NULL;
    g_autoptr(VrtMigrationCookie) refused = NULL;
    const VrtMigrationHostdev *h;

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, SRC_HOST, 16);
    g_ptr_array_add(plan, &a);
    g_ptr_array_add(plan, &b);
    c.hostdevs = plan;
    text = vrt_migration_cookie_format(&c);
    back = vrt_migration_cookie_parse(text, strlen(text), DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_nonnull(back->hostdevs);
    g_assert_cmpuint(back->hostdevs->len, ==, 2);
    h = g_ptr_array_index(back->hostdevs, 0);
    g_assert_cmpstr(h->alias, ==, "hostdev0");
    g_assert_cmpstr(h->network, ==, "pool<&>");
    g_assert_cmpmem(h->mac, 6, a.mac, 6);
    g_assert_cmpuint(h->n_vlan_tags, ==, 1);
    g_assert_cmpuint(h->vlan_tags[0], ==, 42);
    g_assert_false(h->vlan_trunk);
    h = g_ptr_array_index(back->hostdevs, 1);
    g_assert_cmpstr(h->alias, ==, "ua-sriov");
    g_assert_cmpuint(h->n_vlan_tags, ==, 2);
    g_assert_cmpuint(h->vlan_tags[1], ==, 8);
    g_assert_true(h->vlan_trunk);

    bad = g_strdup_printf("<qemu-migration><name>web</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                          "<hostname>h</hostname><hostuuid>01020304-0506-0708-090a-0b0c0d0e0f10</hostuuid>"
                          "<hostdev-plan><interface network='pool' mac='52:54:00:aa:00:01'>"
                          "<vlan tag='4096'/></interface></hostdev-plan></qemu-migration>");
    refused = vrt_migration_cookie_parse(bad, strlen(bad), DST_HOST, &err);
    g_assert_null(refused);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

/* A teaming pair's fixed VF: its PCI address, managed=, MAC, VLAN and
 * partner come back, with no network; an entry with neither a network
 * nor a VF address is refused. */
static void
test_hostdev_plan_fixed_vf(void)
{
    VrtMigrationCookie c = { .name = (char *)"web", .hostname = (char *)"src.example" };
    VrtMigrationHostdev a = { .alias = (char *)"hostdev0",
                              .fixed = true,
                              .vf = { .domain = 0, .bus = 6, .slot = 0x10, .function = 1 },
                              .managed = true,
                              .mac = { 0x52, 0x54, 0, 0xaa, 0, 1 },
                              .vlan_tags = { 42 },
                              .n_vlan_tags = 1,
                              .teaming_persistent = (char *)"ua-team0" };
    g_autoptr(GPtrArray) plan = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_autofree char *bad = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) back = NULL;
    g_autoptr(VrtMigrationCookie) refused = NULL;
    const VrtMigrationHostdev *h;

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, SRC_HOST, 16);
    g_ptr_array_add(plan, &a);
    c.hostdevs = plan;
    text = vrt_migration_cookie_format(&c);
    back = vrt_migration_cookie_parse(text, strlen(text), DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(back->hostdevs->len, ==, 1);
    h = g_ptr_array_index(back->hostdevs, 0);
    g_assert_true(h->fixed);
    g_assert_null(h->network);
    g_assert_cmpuint(h->vf.bus, ==, 6);
    g_assert_cmpuint(h->vf.slot, ==, 0x10);
    g_assert_cmpuint(h->vf.function, ==, 1);
    g_assert_true(h->managed);
    g_assert_cmpmem(h->mac, 6, a.mac, 6);
    g_assert_cmpuint(h->n_vlan_tags, ==, 1);
    g_assert_cmpuint(h->vlan_tags[0], ==, 42);
    g_assert_cmpstr(h->teaming_persistent, ==, "ua-team0");

    bad = g_strdup_printf("<qemu-migration><name>web</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                          "<hostname>h</hostname><hostuuid>01020304-0506-0708-090a-0b0c0d0e0f10</hostuuid>"
                          "<hostdev-plan><interface vf='not-an-address' mac='52:54:00:aa:00:01'/>"
                          "</hostdev-plan></qemu-migration>");
    refused = vrt_migration_cookie_parse(bad, strlen(bad), DST_HOST, &err);
    g_assert_null(refused);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

/* A plain <hostdev> of a teaming pair beside an interface: its PCI
 * address, managed='no', partner and source VF come back, as a hostdev
 * with neither MAC nor VLAN; a <hostdev> without a VF address is refused. */
static void
test_hostdev_plan_plain_hostdev(void)
{
    VrtMigrationCookie c = { .name = (char *)"web", .hostname = (char *)"src.example" };
    VrtMigrationHostdev a = { .alias = (char *)"hostdev0",
                              .network = (char *)"pool",
                              .mac = { 0x52, 0x54, 0, 0xaa, 0, 1 },
                              .vlan_tags = { 42 },
                              .n_vlan_tags = 1 };
    VrtMigrationHostdev b = { .alias = (char *)"ua-vf0",
                              .fixed = true,
                              .hostdev = true,
                              .vf = { .domain = 0, .bus = 6, .slot = 0x10, .function = 2 },
                              .managed = false,
                              .teaming_persistent = (char *)"ua-team0",
                              .source_vf = { .domain = 0, .bus = 6, .slot = 0x10, .function = 2 },
                              .source_vf_set = true };
    g_autoptr(GPtrArray) plan = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) back = NULL;
    g_autoptr(VrtMigrationCookie) refused = NULL;
    const char *bad = "<qemu-migration><name>web</name><uuid>11223344-5566-7788-99aa-bbccddeeff00</uuid>"
                      "<hostname>h</hostname><hostuuid>01020304-0506-0708-090a-0b0c0d0e0f10</hostuuid>"
                      "<hostdev-plan><hostdev alias='ua-vf0' managed='yes'/></hostdev-plan></qemu-migration>";
    const VrtMigrationHostdev *h;
    static const guint8 no_mac[6] = { 0 };

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, SRC_HOST, 16);
    g_ptr_array_add(plan, &a);
    g_ptr_array_add(plan, &b);
    c.hostdevs = plan;
    text = vrt_migration_cookie_format(&c);
    back = vrt_migration_cookie_parse(text, strlen(text), DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(back->hostdevs->len, ==, 2);
    h = g_ptr_array_index(back->hostdevs, 0);
    g_assert_false(h->hostdev);
    g_assert_cmpstr(h->network, ==, "pool");
    h = g_ptr_array_index(back->hostdevs, 1);
    g_assert_true(h->hostdev);
    g_assert_true(h->fixed);
    g_assert_null(h->network);
    g_assert_cmpstr(h->alias, ==, "ua-vf0");
    g_assert_cmpuint(h->vf.bus, ==, 6);
    g_assert_cmpuint(h->vf.function, ==, 2);
    g_assert_false(h->managed);
    g_assert_cmpstr(h->teaming_persistent, ==, "ua-team0");
    g_assert_true(h->source_vf_set);
    g_assert_cmpuint(h->source_vf.function, ==, 2);
    g_assert_cmpmem(h->mac, 6, no_mac, 6);
    g_assert_cmpuint(h->n_vlan_tags, ==, 0);

    refused = vrt_migration_cookie_parse(bad, strlen(bad), DST_HOST, &err);
    g_assert_null(refused);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

/* The perform's <statistics>: each figure as libvirt writes it, libvirt's
 * job timestamps (started, stopped, sent) no parameters. */
static void
test_statistics(void)
{
    VrtMigrationCookie c = { .name = (char *)"web", .hostname = (char *)"src.example" };
    g_autofree char *text = NULL;
    g_autofree char *libvirt_text = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) back = NULL;
    g_autoptr(VrtMigrationCookie) lv = NULL;
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);
    char uuid[VRT_UUID_STRING_LEN], host[VRT_UUID_STRING_LEN];

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, SRC_HOST, 16);
    c.stats = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    p->field = g_strdup("memory_processed");
    p->type = VRT_TYPED_PARAM_ULLONG;
    p->v.ul = 123456789012ull;
    g_ptr_array_add(c.stats, p);
    text = vrt_migration_cookie_format(&c);
    g_ptr_array_unref(c.stats);
    g_assert_nonnull(strstr(text, "<statistics>\n    <memory_processed>123456789012</memory_processed>\n"));
    back = vrt_migration_cookie_parse(text, strlen(text), DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(back->stats->len, ==, 1);
    p = g_ptr_array_index(back->stats, 0);
    g_assert_cmpstr(p->field, ==, "memory_processed");
    g_assert_cmpuint(p->v.ul, ==, 123456789012ull);

    vrt_uuid_format(DOM_UUID, uuid);
    vrt_uuid_format(SRC_HOST, host);
    libvirt_text = g_strdup_printf("<qemu-migration><name>web</name><uuid>%s</uuid><hostname>s</hostname>"
                                   "<hostuuid>%s</hostuuid><statistics><started>1</started><stopped>2</stopped>"
                                   "<sent>3</sent><time_elapsed>40</time_elapsed><downtime>x</downtime>"
                                   "</statistics></qemu-migration>",
                                   uuid, host);
    lv = vrt_migration_cookie_parse(libvirt_text, strlen(libvirt_text), DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(lv->stats->len, ==, 1);
    g_assert_cmpstr(((VrtTypedParam *)g_ptr_array_index(lv->stats, 0))->field, ==, "time_elapsed");
}

/* The prepare's cookie names the destination's daemon (escaped as XML
 * text); a source's cookie, written without it, reads back without it. */
static void
test_daemon_uri(void)
{
    VrtMigrationCookie c = { .name = (char *)"web",
                             .hostname = (char *)"dst.example",
                             .daemon_uri = (char *)"qemu+tls://[fd00::2]:16514/system?a=1&b=2" };
    g_autofree char *text = NULL;
    g_autofree char *plain = source_cookie(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtMigrationCookie) back = NULL;
    g_autoptr(VrtMigrationCookie) none = NULL;

    memcpy(c.uuid, DOM_UUID, 16);
    memcpy(c.hostuuid, DST_HOST, 16);
    text = vrt_migration_cookie_format(&c);
    g_assert_nonnull(strstr(text, "<daemon-uri>qemu+tls://[fd00::2]:16514/system?a=1&amp;b=2</daemon-uri>"));
    back = vrt_migration_cookie_parse(text, strlen(text) + 1, SRC_HOST, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(back->daemon_uri, ==, "qemu+tls://[fd00::2]:16514/system?a=1&b=2");
    none = vrt_migration_cookie_parse(plain, strlen(plain) + 1, DST_HOST, &err);
    g_assert_no_error(err);
    g_assert_null(none->daemon_uri);
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
    g_test_add_func("/migration-cookie/hostdev-plan", test_hostdev_plan);
    g_test_add_func("/migration-cookie/hostdev-plan-fixed-vf", test_hostdev_plan_fixed_vf);
    g_test_add_func("/migration-cookie/hostdev-plan-plain-hostdev", test_hostdev_plan_plain_hostdev);
    g_test_add_func("/migration-cookie/same-host", test_same_host_refused);
    g_test_add_func("/migration-cookie/statistics", test_statistics);
    g_test_add_func("/migration-cookie/daemon-uri", test_daemon_uri);
    g_test_add_func("/migration-cookie/incomplete", test_incomplete_refused);
    return g_test_run();
}

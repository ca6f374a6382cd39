/* The MAC codec (mac.h): the spellings every part of vrt accepts (what
 * libvirt's virMacAddrParse takes, and the dash form) and the canonical
 * lower-case output. */
#include "util/mac.h"

#include <string.h>

static void
test_parse_format(void)
{
    static const struct {
        const char *in;
        const char *out;
    } good[] = {
        { "52:54:00:AB:cd:01", "52:54:00:ab:cd:01" },
        { "52:54:0:1:2:3", "52:54:00:01:02:03" },
        { "52-54-00-aa-bb-cc", "52:54:00:aa:bb:cc" },
        { "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff" },
    };
    static const char *const bad[] = {
        "",
        "52:54:00:ab:cd",
        "52:54:00:aa:bb:cc:dd",
        "52:54:00:aa:bb:ccc",
        "52:54:00:aa:bb:",
        " 52:54:00:aa:bb:cc",
        "52:54:00:aa:bb:cc ",
        "52::54:00:aa:bb",
        "zz:54:00:aa:bb:cc",
        "52.54.00.aa.bb.cc",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        guint8 mac[VRT_MAC_LEN];
        char buf[VRT_MAC_STRING_LEN];

        g_assert_true(vrt_mac_parse(good[i].in, mac));
        vrt_mac_format(mac, buf);
        g_assert_cmpstr(buf, ==, good[i].out);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint8 mac[VRT_MAC_LEN] = { 1, 2, 3, 4, 5, 6 };
        static const guint8 before[VRT_MAC_LEN] = { 1, 2, 3, 4, 5, 6 };

        if (vrt_mac_parse(bad[i], mac))
            g_error("'%s' parsed as a MAC", bad[i]);
        /* a refused text leaves the caller's value alone */
        g_assert_cmpmem(mac, VRT_MAC_LEN, before, VRT_MAC_LEN);
    }
    g_assert_false(vrt_mac_parse(NULL, (guint8[VRT_MAC_LEN]){ 0 }));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mac/parse-format", test_parse_format);
    return g_test_run();
}

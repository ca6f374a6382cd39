/* The UUID codec (uuid.h): libvirt's accepted spellings (with or without
 * dashes, blanks around, the newline of /etc/machine-id), what is refused,
 * the canonical output, and random UUIDs. */
#include "util/uuid.h"

#include <string.h>

static void
test_parse_format(void)
{
    static const char *const good[] = {
        "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e21", "7c1c4b1e3f0a4d2c9a550c7d1f3b9e21",
        "7C1C4B1E-3F0A-4D2C-9A55-0C7D1F3B9E21", "  7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e21\n",
        "7c1c4b1e3f0a4d2c9a550c7d1f3b9e21\n",   "7c-1c-4b-1e-3f0a4d2c9a550c7d1f3b9e21",
    };
    static const char *const bad[] = {
        "",
        "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e2",
        "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e211",
        "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e2g",
        "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e21x",
        "7-c1c4b1e3f0a4d2c9a550c7d1f3b9e21",
        "not-a-uuid",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        guint8 uuid[VRT_UUID_LEN];
        char buf[VRT_UUID_STRING_LEN];

        if (!vrt_uuid_parse(good[i], uuid))
            g_error("'%s' refused", good[i]);
        vrt_uuid_format(uuid, buf);
        g_assert_cmpstr(buf, ==, "7c1c4b1e-3f0a-4d2c-9a55-0c7d1f3b9e21");
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint8 uuid[VRT_UUID_LEN] = { 0 };
        static const guint8 zero[VRT_UUID_LEN];

        if (vrt_uuid_parse(bad[i], uuid))
            g_error("'%s' parsed as a UUID", bad[i]);
        g_assert_cmpmem(uuid, VRT_UUID_LEN, zero, VRT_UUID_LEN);
    }
    g_assert_false(vrt_uuid_parse(NULL, (guint8[VRT_UUID_LEN]){ 0 }));
}

static void
test_generate(void)
{
    guint8 a[VRT_UUID_LEN], b[VRT_UUID_LEN], back[VRT_UUID_LEN];
    char buf[VRT_UUID_STRING_LEN];

    vrt_uuid_generate(a);
    vrt_uuid_generate(b);
    g_assert_true(memcmp(a, b, VRT_UUID_LEN) != 0);
    /* version 4, RFC 4122 variant */
    g_assert_cmpuint(a[6] >> 4, ==, 4);
    g_assert_cmpuint(a[8] >> 6, ==, 2);
    vrt_uuid_format(a, buf);
    g_assert_true(vrt_uuid_parse(buf, back));
    g_assert_cmpmem(a, VRT_UUID_LEN, back, VRT_UUID_LEN);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/uuid/parse-format", test_parse_format);
    g_test_add_func("/uuid/generate", test_generate);
    return g_test_run();
}

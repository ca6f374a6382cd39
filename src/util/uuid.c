/*
 * The one UUID codec (see uuid.h): libvirt's accepted syntax, lower-case
 * canonical output.
 */
#include "util/uuid.h"

#include <string.h>

void
vrt_uuid_format(const guint8 uuid[VRT_UUID_LEN], char out[VRT_UUID_STRING_LEN])
{
    g_snprintf(out, VRT_UUID_STRING_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10],
               uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

bool
vrt_uuid_parse(const char *str, guint8 uuid[VRT_UUID_LEN])
{
    guint8 tmp[VRT_UUID_LEN];
    guint i = 0;
    const char *p = str;

    if (!str)
        return false;
    while (g_ascii_isspace(*p))
        p++;
    while (i < VRT_UUID_LEN) {
        if (*p == '-') {
            p++;
            continue;
        }
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return false;
        tmp[i++] = (g_ascii_xdigit_value(p[0]) << 4) | g_ascii_xdigit_value(p[1]);
        p += 2;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (*p != '\0')
        return false;
    memcpy(uuid, tmp, sizeof(tmp));
    return true;
}

void
vrt_uuid_generate(guint8 uuid[VRT_UUID_LEN])
{
    g_autofree char *s = g_uuid_string_random();

    vrt_uuid_parse(s, uuid);
}

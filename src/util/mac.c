/*
 * The one MAC address codec (see mac.h).
 */
#include "util/mac.h"

#include <string.h>

void
vrt_mac_format(const guint8 mac[VRT_MAC_LEN], char out[VRT_MAC_STRING_LEN])
{
    g_snprintf(out, VRT_MAC_STRING_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
               mac[5]);
}

bool
vrt_mac_parse(const char *str, guint8 mac[VRT_MAC_LEN])
{
    guint8 tmp[VRT_MAC_LEN];
    const char *p = str;

    if (!str)
        return false;
    for (guint i = 0; i < VRT_MAC_LEN; i++) {
        guint v = 0, n = 0;
        while (g_ascii_isxdigit(*p) && n < 2) {
            v = (v << 4) | g_ascii_xdigit_value(*p);
            p++;
            n++;
        }
        if (n == 0)
            return false;
        tmp[i] = v;
        if (i < VRT_MAC_LEN - 1) {
            if (*p != ':' && *p != '-')
                return false;
            p++;
        }
    }
    if (*p != '\0')
        return false;
    memcpy(mac, tmp, sizeof(tmp));
    return true;
}

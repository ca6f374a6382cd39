/*
 * The host's ARP table (see arp.h), read from /proc/net/arp under the host
 * root, so a simulated host gives its own.
 */
#include "host/arp.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void
vrt_host_arp_entry_free(VrtHostArpEntry *e)
{
    if (!e)
        return;
    g_free(e->ip);
    g_free(e->mac);
    g_free(e->dev);
    g_free(e);
}

GPtrArray *
vrt_host_parse_arp(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_host_arp_entry_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    /* The first line names the columns: IP address, HW type, Flags, HW
     * address, Mask, Device. */
    for (guint i = 1; lines[i]; i++) {
        char ip[64], hwtype[16], flags[16], mac[64], mask[64], dev[64];
        unsigned long f;

        if (sscanf(lines[i], "%63s %15s %15s %63s %63s %63s", ip, hwtype, flags, mac, mask, dev) != 6)
            continue;
        f = strtoul(flags, NULL, 16);
        if (f == 0)
            continue;
        VrtHostArpEntry *e = g_new0(VrtHostArpEntry, 1);

        e->ip = g_strdup(ip);
        e->mac = g_ascii_strdown(mac, -1);
        e->dev = g_strdup(dev);
        g_ptr_array_add(out, e);
    }
    return out;
}

GPtrArray *
vrt_host_arp_table(VrtHost *host, GError **error)
{
    g_autofree char *path = vrt_host_path(host, "/proc/net/arp");
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        vrt_error_set_errno(error, VIR_ERR_INTERNAL_ERROR, errno, "Could not open /proc/net/arp");
        return NULL;
    }
    return vrt_host_parse_arp(text);
}

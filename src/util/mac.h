/*
 * MAC addresses as vrt reads and writes them: domain interfaces, network
 * and port XML, and the VF MACs set and read through netlink. One codec so
 * that every part accepts the same text and prints the same canonical form.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define VRT_MAC_LEN 6
#define VRT_MAC_STRING_LEN 18 /* 17 characters + NUL */

/* "52:54:00:ab:cd:ef", lower case. */
void vrt_mac_format(const guint8 mac[VRT_MAC_LEN], char out[VRT_MAC_STRING_LEN]);
/* Six groups of one or two hex digits separated by ':' (or '-'); what
 * libvirt's virMacAddrParse takes, plus the dash form. False (mac
 * unchanged) otherwise. */
bool vrt_mac_parse(const char *str, guint8 mac[VRT_MAC_LEN]);

/*
 * The host's ARP table (/proc/net/arp under the host root): the IPv4
 * neighbours the kernel resolved, for the address of a guest's interface
 * by its MAC (virDomainInterfaceAddresses with the ARP source).
 */
#pragma once

#include "host/host.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *ip;
    char *mac; /* lower case, "aa:bb:cc:dd:ee:ff" */
    char *dev;
} VrtHostArpEntry;
void vrt_host_arp_entry_free(VrtHostArpEntry *e);

/* The complete entries of a /proc/net/arp text (incomplete ones, flags 0,
 * have no MAC yet and are left out). Array of VrtHostArpEntry*. */
GPtrArray *vrt_host_parse_arp(const char *text);
/* The host's table; NULL with the reason when it cannot be read. */
GPtrArray *vrt_host_arp_table(VrtHost *host, GError **error);

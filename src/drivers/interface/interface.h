/*
 * Host network interfaces, read-only, as libvirt's udev interface backend
 * shows them (virsh iface-list, iface-dumpxml, iface-mac, iface-name):
 * every net device of the host's sysfs (/sys/class/net, through the host
 * seam) except bridge ports and tap/tun devices; active when its operstate
 * is "up". The XML is libvirt's <interface> of type ethernet, bridge (with
 * its ports), bond (with its slaves) or vlan, with <mtu>, <mac> and <link
 * state= speed=>; like the udev backend it carries no <protocol> (IP
 * addresses). Defining, undefining, starting and stopping interfaces are
 * not supported, as with the udev backend.
 */
#pragma once

#include "host/host.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *name;
    char *mac;
    bool active;
} VrtIface;
void vrt_iface_free(VrtIface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtIface, vrt_iface_free)

/* virConnectListAllInterfaces' flags. */
#define VRT_CONNECT_LIST_INTERFACES_INACTIVE (1u << 0)
#define VRT_CONNECT_LIST_INTERFACES_ACTIVE (1u << 1)

/* The interfaces (VrtIface*, sorted by name). which: 0 all, 1 only
 * active ("up"), 2 only those "down" (libvirt's defined interfaces). */
GPtrArray *vrt_iface_list(VrtHost *host, int which, GError **error);
/* One interface; VIR_ERR_NO_INTERFACE when there is none. */
VrtIface *vrt_iface_lookup_by_name(VrtHost *host, const char *name, GError **error);
/* By MAC (case-insensitive); VIR_ERR_MULTIPLE_INTERFACES when several. */
VrtIface *vrt_iface_lookup_by_mac(VrtHost *host, const char *mac, GError **error);
/* libvirt's interface XML. */
char *vrt_iface_get_xml(VrtHost *host, const char *name, GError **error);

/*
 * Two small pieces of libvirt's device XML kept apart from the big
 * parser: the <source address= port=> (and a udp one's <local>) of the
 * socket interfaces (type server, client, mcast, udp), which QEMU's
 * "socket" netdev carries, and the <rom enabled= bar= file=/> of an
 * interface or a PCI host device, which becomes the PCI device's rombar
 * and romfile properties.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

#include "util/tristate.h"

/* <interface type='server|client|mcast|udp'>'s source */
typedef struct {
    char *address; /* NULL only for type server (listen on every address) */
    int port;
    char *local_address; /* udp: <local address= port=> */
    int local_port;
} VrtNetSocketSource;

/* <rom>: enabled (yes/no), bar (on/off), file; absent when all unset */
typedef struct {
    VrtTristate enabled;
    VrtTristate bar;
    char *file;
} VrtDeviceRom;

/* type_name is libvirt's interface type; udp says whether <local> is needed */
bool vrt_net_socket_source_parse(xmlNodePtr source, const char *type_name, bool udp, VrtNetSocketSource *s,
                                 GError **error);
void vrt_net_socket_source_format(GString *buf, guint indent, const VrtNetSocketSource *s, bool udp);
void vrt_net_socket_source_clear(VrtNetSocketSource *s);

bool vrt_device_rom_parse(xmlNodePtr rom, VrtDeviceRom *r, GError **error);
bool vrt_device_rom_present(const VrtDeviceRom *r);
void vrt_device_rom_format(GString *buf, guint indent, const VrtDeviceRom *r);
void vrt_device_rom_clear(VrtDeviceRom *r);

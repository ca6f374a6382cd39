/*
 * An interface's <virtualport>: the port profile of an 802.1Qbg/802.1Qbh
 * switch, an Open vSwitch port or a MidoNet port (libvirt's
 * virNetDevVPortProfile). Read with libvirt's attribute checks (the
 * instance or interface id generated when missing, as libvirt's parser
 * does), written back in libvirt's form. No such switch is driven by
 * vrt: the QEMU driver refuses a start with one by name.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

typedef enum {
    VRT_VPORT_NONE = 0, /* <virtualport> without type= */
    VRT_VPORT_8021QBG,
    VRT_VPORT_8021QBH,
    VRT_VPORT_OPENVSWITCH,
    VRT_VPORT_MIDONET,
} VrtVportType;

extern const char *const vrt_vport_type_names[];

typedef struct {
    bool set; /* the element is present */
    VrtVportType type;
    bool has_managerid, has_typeid, has_typeidversion, has_instanceid, has_interfaceid;
    guint managerid, typeid, typeidversion;
    guint8 instanceid[16];
    guint8 interfaceid[16];
    char profileid[40]; /* empty: none */
} VrtNetVport;

bool vrt_net_vport_parse(xmlNodePtr node, VrtNetVport *vp, GError **error);
void vrt_net_vport_format(GString *buf, guint indent, const VrtNetVport *vp);

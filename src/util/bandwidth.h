/*
 * <bandwidth> (<inbound>/<outbound> with average, peak, burst and floor),
 * the one element libvirt's domain, network, portgroup and network port
 * XML share: the rates an interface or a bridge is shaped to and the
 * inbound floor a network guarantees a port. Parsed and written once, with
 * libvirt's rules and wording, for every XML family; what the rates do on
 * the host is the network and QEMU drivers' business.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

/* One direction: kB/s rates, KiB burst; 0 is absent. */
typedef struct {
    bool present;
    guint64 average, peak, floor, burst;
} VrtBandwidthRate;

typedef struct {
    VrtBandwidthRate in, out;
} VrtBandwidth;

static inline bool
vrt_bandwidth_is_set(const VrtBandwidth *bw)
{
    return bw->in.present || bw->out.present;
}

/* Parses a <bandwidth> element into bw (cleared first). allow_floor: an
 * inbound floor is allowed (an interface on a network, a network port);
 * libvirt refuses it elsewhere and always on outbound. class_id: where the
 * element may carry classID (a network port's), else NULL and classID is
 * refused. */
bool vrt_bandwidth_parse(xmlNodePtr node, bool allow_floor, guint *class_id, VrtBandwidth *bw, GError **error);

/* Appends bw as libvirt writes it, the <bandwidth> line after indent
 * spaces and its children two further; nothing when neither direction is
 * set. */
void vrt_bandwidth_format(GString *out, const VrtBandwidth *bw, guint indent);

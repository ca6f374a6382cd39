/*
 * An interface's <bandwidth> (<inbound>/<outbound> with average, peak,
 * burst and floor), as libvirt's domain XML carries it: the rates a guest
 * interface is shaped to on its tap, and the inbound floor a network
 * guarantees it. Parsed and written with libvirt's rules and wording
 * (netdev_bandwidth_conf.c); what it does on the host is the QEMU and
 * network drivers' business.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

/* One direction: kB/s rates, KiB burst; 0 is absent. */
typedef struct {
    bool present;
    guint64 average, peak, floor, burst;
} VrtDomainBandwidthRate;

typedef struct {
    VrtDomainBandwidthRate in, out;
} VrtDomainBandwidth;

static inline bool
vrt_domain_bandwidth_is_set(const VrtDomainBandwidth *bw)
{
    return bw->in.present || bw->out.present;
}

/* Parses a <bandwidth> element into bw (cleared first); allow_floor: an
 * <interface type='network'> (libvirt refuses a floor elsewhere). */
bool vrt_domain_bandwidth_parse(xmlNodePtr node, bool allow_floor, VrtDomainBandwidth *bw, GError **error);

/* Appends bw as libvirt writes it, each line after indent spaces; nothing
 * when neither direction is set. */
void vrt_domain_bandwidth_format(GString *out, const VrtDomainBandwidth *bw, guint indent);

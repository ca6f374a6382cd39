/*
 * A virtio interface's <driver> settings beyond name and queues: txmode,
 * ioeventfd, event_idx, rx/tx queue sizes, rss, the <host> and <guest>
 * offloads and the virtio transport options. Read with libvirt's checks,
 * written back in libvirt's order, and passed to QEMU's virtio-net-pci
 * under the property names libvirt uses (qemu_command.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

#include "conf/domain/domain_virtio.h"

typedef enum {
    VRT_NET_TXMODE_DEFAULT = 0,
    VRT_NET_TXMODE_IOTHREAD, /* QEMU's tx=bh */
    VRT_NET_TXMODE_TIMER,
} VrtNetTxMode;

/* <host> offload switches, in libvirt's order */
enum {
    VRT_NET_HOST_CSUM,
    VRT_NET_HOST_GSO,
    VRT_NET_HOST_TSO4,
    VRT_NET_HOST_TSO6,
    VRT_NET_HOST_ECN,
    VRT_NET_HOST_UFO,
    VRT_NET_HOST_MRG_RXBUF,
    VRT_NET_HOST_N
};
/* <guest> offload switches, in libvirt's order */
enum {
    VRT_NET_GUEST_CSUM,
    VRT_NET_GUEST_TSO4,
    VRT_NET_GUEST_TSO6,
    VRT_NET_GUEST_ECN,
    VRT_NET_GUEST_UFO,
    VRT_NET_GUEST_N
};

typedef struct {
    VrtNetTxMode txmode;
    VrtTristate ioeventfd;
    VrtTristate event_idx;
    guint rx_queue_size; /* 0 = QEMU's default */
    guint tx_queue_size;
    VrtTristate rss;
    VrtTristate rss_hash_report;
    VrtTristate host[VRT_NET_HOST_N];
    VrtTristate guest[VRT_NET_GUEST_N];
    VrtVirtioOptions virtio;
} VrtNetDriverOpts;

/* The attributes of <driver> (listed for the caller's attribute check:
 * VRT_NET_DRIVER_ATTRS) and its <host>/<guest> children. */
bool vrt_net_driver_opts_parse(xmlNodePtr driver, VrtNetDriverOpts *o, GError **error);
/* Anything beyond the virtio options is set (written only for virtio). */
bool vrt_net_driver_opts_present(const VrtNetDriverOpts *o);
/* The attributes libvirt writes between name= and queues= ... */
void vrt_net_driver_opts_format_attrs(GString *attrs, const VrtNetDriverOpts *o);
/* ... those after queues= ... */
void vrt_net_driver_opts_format_attrs_tail(GString *attrs, const VrtNetDriverOpts *o);
/* ... and the <host>/<guest> children, each line indented by indent
 * spaces; returns false (nothing written) when there are none. */
bool vrt_net_driver_opts_format_children(GString *buf, const VrtNetDriverOpts *o, int indent);
/* libvirt's QEMU validation: queue sizes must be powers of two. */
bool vrt_net_driver_opts_validate(const VrtNetDriverOpts *o, GError **error);

extern const char *const vrt_net_host_offload_names[];
extern const char *const vrt_net_guest_offload_names[];

#define VRT_NET_DRIVER_ATTRS                                                                        \
    "txmode", "ioeventfd", "event_idx", "rx_queue_size", "tx_queue_size", "rss", "rss_hash_report", \
        VRT_VIRTIO_OPTION_ATTRS

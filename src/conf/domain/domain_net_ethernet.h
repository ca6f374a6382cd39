/*
 * The host side of an interface (domain_net_ethernet.c): <script path=>,
 * <target managed='no'>, an ethernet interface's host-side <ip>s and
 * <route>s in <source>, and <backend tap= vhost=>, read and written as
 * libvirt does; vrt_net_host_side_check refuses at start what vrt does
 * not carry out.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

typedef struct {
    char *script; /* <script path=>: run on the tap by libvirt */
    bool unmanaged; /* <target managed='no'>: an existing tap, opened only */
    GPtrArray *ips; /* host-side <ip .../> lines as libvirt writes them; NULL = none */
    GPtrArray *routes; /* host-side <route .../> lines; NULL = none */
    char *backend_tap; /* <backend tap=>: the tun device to open */
    char *backend_vhost; /* <backend vhost=>: the vhost-net device to open */
    /* <interface trustGuestRxFilters=> (a VrtTristate): libvirt acts on it
     * for macvtap only, which vrt has not; kept and written back */
    int trust_rx_filters;
} VrtNetHostSide;

void vrt_net_host_side_clear(VrtNetHostSide *h);
/* An ethernet interface's <source> (only <ip> and <route> children). */
bool vrt_net_host_source_parse(xmlNodePtr source, VrtNetHostSide *h, GError **error);
bool vrt_net_host_source_present(const VrtNetHostSide *h);
bool vrt_net_script_parse(xmlNodePtr script, VrtNetHostSide *h, GError **error);
bool vrt_net_backend_parse(xmlNodePtr backend, VrtNetHostSide *h, GError **error);
void vrt_net_host_source_format(GString *buf, guint indent, const VrtNetHostSide *h);
void vrt_net_script_format(GString *buf, guint indent, const VrtNetHostSide *h);
void vrt_net_backend_format(GString *buf, guint indent, const VrtNetHostSide *h);
/* libvirt's checks: host-side addresses and an unmanaged tap only on an
 * ethernet interface (type_name: the interface's type). */
bool vrt_net_host_side_validate(bool ethernet, const char *type_name, const VrtNetHostSide *h, GError **error);
/* At start: VIR_ERR_CONFIG_UNSUPPORTED naming the first element vrt does
 * not carry out (a script, host addresses or routes, backend paths). */
bool vrt_net_host_side_check(const char *alias, const VrtNetHostSide *h, GError **error);

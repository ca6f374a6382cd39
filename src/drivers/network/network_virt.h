/*
 * What a started isolated, nat, route or open network is on the host: a
 * bridge vrt creates with the network's addresses (network_bridge.c), one
 * dnsmasq serving its DHCP and DNS (network_dnsmasq.c) and its rules in
 * vrt's own nftables table (network_firewall.c). Each part can be set up,
 * torn down, and checked again after a vrtd restart (kept when there,
 * set up again when gone). Called with no driver lock held: the caller
 * holds the network (NetHold) or it is being loaded.
 */
#pragma once

#include "drivers/network/network_driver_priv.h"

/* True for the modes whose bridge, dnsmasq and rules vrt runs. */
bool vrt_network_is_virtual(const VrtNetworkDef *def);

/* An <ip>'s prefix (from prefix, netmask, or the family's class default),
 * -1 when it has no address. */
int vrt_network_ip_prefix(const VrtNetworkIpDef *ip);
bool vrt_network_ip_is_v6(const VrtNetworkIpDef *ip);
/* The reverse DNS zone of an <ip>'s subnet ("122.168.192.in-addr.arpa"),
 * as libvirt makes it for localPtr='yes'; NULL when its prefix is not a
 * whole number of octets (IPv4) or nibbles (IPv6). */
char *vrt_network_ip_ptr_domain(const VrtNetworkIpDef *ip);

/* Picks a free virbrN for a network without <bridge name>. Driver lock held. */
char *vrt_network_pick_bridge_locked(VrtNetworkDriver *drv);

/* Checks the subnets against the host's routes, creates the bridge, its
 * addresses and sets forwarding for nat/route. On failure nothing is left. */
bool vrt_network_bridge_start(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error);
void vrt_network_bridge_stop(VrtNetworkDriver *drv, const VrtNetworkDef *live);

/* dnsmasq: config under the run dir, started and its pid file read. A
 * network without addresses gets none. */
bool vrt_network_dnsmasq_start(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error);
/* Terminates it (by the pid it wrote, when that pid is still our dnsmasq)
 * and removes its files. */
void vrt_network_dnsmasq_stop(VrtNetworkDriver *drv, const char *name);
/* After a restart: keeps a running dnsmasq of this network, starts one
 * when it died. */
bool vrt_network_dnsmasq_check(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error);
/* After a change of live's hosts (restart false: files rewritten and
 * SIGHUP) or ranges (restart true: a new dnsmasq). */
bool vrt_network_dnsmasq_update(VrtNetworkDriver *drv, const VrtNetworkDef *live, bool restart, GError **error);
/* Its pid, 0 when not running. */
pid_t vrt_network_dnsmasq_pid(VrtNetworkDriver *drv, const char *name);

/* nftables: the network's table, replaced as a whole; removed; or checked
 * and added again when missing. */
bool vrt_network_firewall_add(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error);
void vrt_network_firewall_remove(VrtNetworkDriver *drv, const VrtNetworkDef *live);
bool vrt_network_firewall_check(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error);

/* NETWORK_UPDATE's commands (virNetworkUpdateCommand) */
enum {
    VRT_NETWORK_UPDATE_MODIFY = 1,
    VRT_NETWORK_UPDATE_DELETE = 2,
    VRT_NETWORK_UPDATE_ADD_LAST = 3,
    VRT_NETWORK_UPDATE_ADD_FIRST = 4,
};

/* network_update.c: one update of a <dns><txt>, <dns><srv> or
 * <portgroup> on def (a copy the caller owns). */
bool vrt_network_update_dns_txt(VrtNetworkDef *def, guint command, const char *xml, GError **error);
bool vrt_network_update_dns_srv(VrtNetworkDef *def, guint command, const char *xml, GError **error);
bool vrt_network_update_portgroup(VrtNetworkDef *def, guint command, const char *xml, GError **error);
bool vrt_network_update_forward_if(VrtNetworkDef *def, guint command, const char *xml, GError **error);

/* Whether a running virtual network has a dnsmasq (addresses, and DNS or
 * DHCP or TFTP to serve). */
bool vrt_network_dnsmasq_wanted(const VrtNetworkDef *def);

/* network_bandwidth.c: a <bandwidth> on ifname with tc, as libvirt's
 * virNetDevBandwidthSet (hierarchical: a network's bridge; swapped:
 * inbound is what ifname sends). Clear removes both qdiscs. */
bool vrt_network_bandwidth_set(const char *ifname, const VrtBandwidth *bw, bool hierarchical, bool swapped,
                               GError **error);
void vrt_network_bandwidth_clear(const char *ifname);
/* A port's inbound floor as libvirt's virNetDevBandwidthPlug: class
 * 1:<class_id> under the bridge's 1:1 (rate the floor, ceil the network's
 * peak or average), an sfq below it, a u32 filter on the guest's MAC;
 * nothing left on failure. Unplug removes what is there of the three. */
bool vrt_network_bandwidth_plug(const char *bridge, const VrtBandwidth *net_bw, const guint8 mac[6],
                                const VrtBandwidth *port_bw, guint class_id, GError **error);
void vrt_network_bandwidth_unplug(const char *bridge, guint class_id);
/* The rate of the bridge's default class 1:2 (what no floor guarantees). */
void vrt_network_bandwidth_update_rate(const char *bridge, const VrtBandwidth *net_bw, guint64 rate);

/*
 * Network devices vrt makes on its host for virtual networks: a network's
 * bridge (created over rtnetlink with its MTU, MAC, STP and forward
 * delay), its addresses, and the tap device of each guest interface
 * (/dev/net/tun), enslaved to that bridge. Also what a network start
 * checks first: whether its subnet is already routed on the host
 * (/proc/net/route, as libvirt reads it). These act on the kernel of the
 * network namespace vrtd runs in; a simulated host (tests/hostsim) has no
 * such devices, so there every change fails with VIR_ERR_OPERATION_UNSUPPORTED.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"

/* Creates bridge `name` (RTM_NEWLINK, kind bridge). mac (may be NULL: the
 * kernel's), mtu (0: default), stp (-1: kernel default, else off/on) and
 * delay_s (forward delay in seconds, < 0: kernel default). Errors name the
 * bridge; an existing device: VIR_ERR_SYSTEM_ERROR with EEXIST. */
bool vrt_netdev_bridge_create(VrtHost *host, const char *name, const guint8 *mac, guint mtu, int stp, gint64 delay_s,
                              GError **error);

/* Deletes a link; a missing one is not an error when missing_ok. */
bool vrt_netdev_delete(VrtHost *host, const char *name, bool missing_ok, GError **error);

/* Sets a link up or down. */
bool vrt_netdev_set_up(VrtHost *host, const char *name, bool up, GError **error);

/* Adds an address (text form, IPv4 or IPv6) with its prefix to a link;
 * IPv4 gets its broadcast address. An address already there is fine. */
bool vrt_netdev_add_addr(VrtHost *host, const char *name, const char *addr, guint prefix, GError **error);

/* True when a network device of that name exists. */
bool vrt_netdev_exists(VrtHost *host, const char *name);

/* The interface of an IPv4 route whose destination and mask are those of
 * addr/prefix, NULL when none (libvirt's route collision check). */
char *vrt_netdev_route_user(VrtHost *host, const char *addr, guint prefix);

/* Opens a tap device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) named ifname, or
 * the first free vnetN when ifname is NULL or ends in "%d"; sets its MAC
 * (mac, may be NULL) and MTU (0: unchanged), enslaves it to bridge (NULL:
 * none) and sets it up. Returns the fd (close-on-exec) and the name in
 * *name_out; -1 with an error, leaving no device behind. */
int vrt_netdev_tap_open(VrtHost *host, const char *ifname, const guint8 *mac, guint mtu, const char *bridge,
                        char **name_out, GError **error);

/* Enslaves link to bridge (RTM_NEWLINK IFLA_MASTER). */
bool vrt_netdev_set_master(VrtHost *host, const char *name, const char *bridge, GError **error);

/* Sets the isolated flag of bridge port name (a link enslaved to bridge):
 * an isolated port's traffic goes only to the bridge's ports that are not
 * isolated (libvirt's <port isolated='yes'/>). */
bool vrt_netdev_bridge_port_set_isolated(VrtHost *host, const char *bridge, const char *name, bool isolated,
                                         GError **error);

/* The name of the link's master (bridge), NULL when none or no such link. */
char *vrt_netdev_get_master(VrtHost *host, const char *name);

/* Sets net.ipv4.ip_forward (and, for ipv6, net.ipv6.conf.all.forwarding)
 * to 1 through /proc/sys. */
bool vrt_netdev_enable_forwarding(VrtHost *host, bool ipv6, GError **error);

/*
 * The network driver: defined and running virtual networks, their SR-IOV
 * hostdev pools and the ports (connections of guest interfaces) taken from
 * them. State lives under the daemon's root:
 *   <root>/etc/vrt/network/NAME.xml              persistent definitions
 *   <root>/etc/vrt/network/autostart/NAME.xml    symlinks to the above
 *   <root>/run/vrt/network/NAME.xml              live XML of a running network
 *   <root>/run/vrt/network/NAME/ports/UUID.xml   one file per port in use
 * A port is claimed in memory and its file written before any call that
 * hands it out returns, so a daemon restart rebuilds every pool's accounting
 * from the port files (vrt_network_driver_load).
 *
 * Host facts (a <pf>'s VFs, whether the host itself uses a VF) come from
 * the host seam (VrtHost) given at creation; which VF is whose comes from
 * the daemon's VF ownership registry (drivers/vf_registry.h), where every
 * hostdev port claims its VF, so a domain's own <hostdev> and a node device
 * detach meet the pools' claims there.
 *
 * Locking: one mutex per driver guards the table of networks and their
 * ports; every function takes it itself and may be called from any thread.
 * No host I/O, definition write or fsync runs under it: an operation on a
 * network holds that network's name (and uuid) in the driver's set of
 * networks being changed, does its I/O without the mutex, and commits
 * under it; a port being added or removed is pending in its network (which
 * cannot stop meanwhile) while its VF claim, host checks and file are done.
 * Lock order: driver mutex before the VF registry's.
 *
 * What starts: forward mode 'hostdev' (pool from <pf> or <address> list),
 * forward mode 'bridge' with <bridge name=...> (an existing host bridge,
 * not created or checked), and isolated (no <forward>), nat, route and open
 * networks, whose bridge, dnsmasq and nftables table vrt makes
 * (network_virt.h); nat and route may be restricted to a host interface
 * (<forward dev=>). Macvtap modes (passthrough, private, vepa, bridge with
 * interfaces) and an open network with a forward interface can be defined
 * and dumped but create() refuses them with VIR_ERR_CONFIG_UNSUPPORTED.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/network/network_conf.h"
#include "drivers/vf_registry.h"
#include "host/host.h"

/* virConnectListAllNetworksFlags */
#define VRT_CONNECT_LIST_NETWORKS_INACTIVE (1u << 0)
#define VRT_CONNECT_LIST_NETWORKS_ACTIVE (1u << 1)
#define VRT_CONNECT_LIST_NETWORKS_PERSISTENT (1u << 2)
#define VRT_CONNECT_LIST_NETWORKS_TRANSIENT (1u << 3)
#define VRT_CONNECT_LIST_NETWORKS_AUTOSTART (1u << 4)
#define VRT_CONNECT_LIST_NETWORKS_NO_AUTOSTART (1u << 5)

typedef struct _VrtNetworkDriver VrtNetworkDriver;

/* A network's identity, as the RPC layer needs it for virNetwork. */
typedef struct {
    char *name;
    guchar uuid[16];
} VrtNetworkRef;

VrtNetworkRef *vrt_network_ref_new(const char *name, const guchar uuid[16]);
void vrt_network_ref_free(VrtNetworkRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkRef, vrt_network_ref_free)

/* A port's identity (virNetworkPort): its network and its own uuid. */
typedef struct {
    VrtNetworkRef *net;
    guchar uuid[16];
} VrtNetworkPortRef;

void vrt_network_port_ref_free(VrtNetworkPortRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkPortRef, vrt_network_port_ref_free)

/* ---- driver ---- */

/* Creates the driver rooted at state_root ("/" for the host). host (may
 * be NULL: then a <pf> pool cannot be resolved and no VF is checked for
 * use by the host) gives the host facts; vfs is the VF ownership registry
 * the ports claim in (NULL: one of the driver's own). Both are borrowed
 * and must outlive the driver. Creates the state directories. */
VrtNetworkDriver *vrt_network_driver_new(const char *state_root, VrtHost *host, VrtVfRegistry *vfs, GError **error);
void vrt_network_driver_free(VrtNetworkDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDriver, vrt_network_driver_free)

/* Loads definitions, live state and ports (claiming each port's VF in the
 * registry: the rebuild at daemon start), then starts autostart networks.
 * A broken file is logged and skipped (the daemon still starts); returns
 * false only when a state directory cannot be read. */
bool vrt_network_driver_load(VrtNetworkDriver *drv, GError **error);

/* SIGHUP: takes the definitions under the config directory again, as
 * libvirt's reload: a new file adds its network, a changed file replaces
 * the definition (a running network's live state stays; the file is its
 * next start), autostart marks are read again; a file that does not parse
 * is logged and its network kept; a network whose file is gone is kept.
 * Files are read outside the driver lock. */
void vrt_network_driver_reload(VrtNetworkDriver *drv);

/* ---- networks (libvirt semantics and error codes) ----
 * The calls vrtd serves are vrt_netdrv_*: libvrt's public vrt_network_* are
 * the client's side of the same libvirt API, and one program must never see
 * both under one name. */

VrtNetworkRef *vrt_netdrv_lookup_by_name(VrtNetworkDriver *drv, const char *name, GError **error);
VrtNetworkRef *vrt_netdrv_lookup_by_uuid(VrtNetworkDriver *drv, const guchar uuid[16], GError **error);

/* Defines (or updates) a persistent network. An update of an existing
 * network keeps its uuid when the XML has none; the same name with another
 * uuid, or the uuid of another network, is refused (VIR_ERR_OPERATION_FAILED). */
VrtNetworkRef *vrt_netdrv_define_xml(VrtNetworkDriver *drv, const char *xml, guint flags, GError **error);
/* A running network stays running as a transient one. */
bool vrt_netdrv_undefine(VrtNetworkDriver *drv, const char *name, GError **error);
/* Starts a defined network (virNetworkCreate). */
bool vrt_netdrv_create(VrtNetworkDriver *drv, const char *name, GError **error);
/* Defines and starts a transient network (virNetworkCreateXML). */
VrtNetworkRef *vrt_netdrv_create_xml(VrtNetworkDriver *drv, const char *xml, guint flags, GError **error);
/* Stops a network; refused while it has ports. A transient network is gone
 * afterwards. */
bool vrt_netdrv_destroy(VrtNetworkDriver *drv, const char *name, GError **error);
/* flags: VRT_NETWORK_XML_INACTIVE. */
char *vrt_netdrv_get_xml(VrtNetworkDriver *drv, const char *name, guint flags, GError **error);
/* GPtrArray of VrtNetworkRef*, sorted by name. */
GPtrArray *vrt_netdrv_list_all(VrtNetworkDriver *drv, guint flags, GError **error);
int vrt_netdrv_num_active(VrtNetworkDriver *drv);
int vrt_netdrv_num_defined(VrtNetworkDriver *drv);
/* Names (char*, sorted) of active or of inactive persistent networks. */
GPtrArray *vrt_netdrv_list_names(VrtNetworkDriver *drv, bool active);
/* 1 / 0, or -1 with VIR_ERR_NO_NETWORK. */
int vrt_netdrv_is_active(VrtNetworkDriver *drv, const char *name, GError **error);
int vrt_netdrv_is_persistent(VrtNetworkDriver *drv, const char *name, GError **error);
int vrt_netdrv_get_autostart(VrtNetworkDriver *drv, const char *name, GError **error);
bool vrt_netdrv_set_autostart(VrtNetworkDriver *drv, const char *name, bool autostart, GError **error);
char *vrt_netdrv_get_bridge_name(VrtNetworkDriver *drv, const char *name, GError **error);
/* The network's VrtNetworkForwardMode (VRT_NETWORK_FORWARD_NONE without
 * <forward>; the running definition when active), or -1 with
 * VIR_ERR_NO_NETWORK: lets the qemu driver tell a hostdev pool from a
 * bridge before allocating. */
int vrt_network_get_forward_mode(VrtNetworkDriver *drv, const char *name, GError **error);

/* The network's <port isolated=> (running definition when active): -1
 * absent or no such network, 0 no, 1 yes. */
int vrt_network_get_port_isolated(VrtNetworkDriver *drv, const char *name);

/* virNetworkUpdate of the sections vrt supports: ip-dhcp-host (4) and
 * ip-dhcp-range (5) with commands modify (1, hosts only), delete (2),
 * add-last (3), add-first (4); flags AFFECT_LIVE (1), AFFECT_CONFIG (2),
 * none: the live network when running, else its definition. A live change
 * reaches dnsmasq (hosts: SIGHUP; ranges: a new dnsmasq). Another section:
 * VIR_ERR_NO_SUPPORT. */
bool vrt_netdrv_update(VrtNetworkDriver *drv, const guchar net_uuid[16], guint command, guint section, int parent_index,
                       const char *xml, guint flags, GError **error);

/* ---- DHCP leases (virNetworkGetDHCPLeases) ---- */

typedef struct {
    char *iface; /* the network's bridge */
    gint64 expirytime; /* seconds since the epoch, 0: never */
    int type; /* 0 IPv4, 1 IPv6 (virIPAddrType) */
    char *mac; /* IPv6: NULL unless dnsmasq learned it */
    char *iaid; /* IPv6 only */
    char *ipaddr;
    guint prefix;
    char *hostname; /* NULL: none */
    char *clientid; /* NULL: none (IPv6: the DUID) */
} VrtNetworkDhcpLease;

void vrt_network_dhcp_lease_free(VrtNetworkDhcpLease *lease);

/* The unexpired leases of a running network's dnsmasq (its lease file),
 * those of mac only when mac is not NULL, as VrtNetworkDhcpLease*. An
 * inactive network: VIR_ERR_OPERATION_INVALID; unknown: VIR_ERR_NO_NETWORK. */
GPtrArray *vrt_netdrv_get_dhcp_leases(VrtNetworkDriver *drv, const guchar net_uuid[16], const char *mac, guint flags,
                                      GError **error);

/* ---- ports: the libvirt API (virNetworkPort*) ---- */

/* Creates a port on a running network. With no <plug>, a hostdev network
 * picks a free VF and a bridge network plugs into its bridge; a hostdev
 * <plug> names the VF, which must be in the pool and free. */
VrtNetworkPortRef *vrt_netdrv_port_create_xml(VrtNetworkDriver *drv, const guchar net_uuid[16], const char *xml,
                                              guint flags, GError **error);
VrtNetworkPortRef *vrt_netdrv_port_lookup_by_uuid(VrtNetworkDriver *drv, const guchar net_uuid[16],
                                                  const guchar port_uuid[16], GError **error);
char *vrt_netdrv_port_get_xml(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16], guint flags,
                              GError **error);
/* GPtrArray of VrtNetworkPortRef*. */
GPtrArray *vrt_netdrv_port_list_all(VrtNetworkDriver *drv, const guchar net_uuid[16], guint flags, GError **error);
/* Unknown port: VIR_ERR_NO_NETWORK_PORT. */
bool vrt_netdrv_port_delete(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16], guint flags,
                            GError **error);

/* ---- ports: what the qemu driver uses for <interface type='network'> ---- */

typedef enum {
    VRT_NETWORK_PORT_ACTUAL_HOSTDEV = 1,
    VRT_NETWORK_PORT_ACTUAL_BRIDGE,
} VrtNetworkPortActualType;

typedef struct {
    guchar port_uuid[16];
    VrtNetworkPortActualType type;
    VrtPciAddr pci_addr; /* hostdev: the VF */
    bool managed; /* hostdev: forward managed='yes' */
    char *bridge; /* bridge: host bridge name */
    int vlan; /* first vlan tag of the network, -1 when none */
    VrtNetworkVlan vlan_full;
    VrtBandwidth bandwidth; /* in effect: the interface's or its portgroup's */
    int isolated; /* bridge: the network's <port isolated=>, -1 absent, 0 no, 1 yes */
} VrtNetworkPortAlloc;

void vrt_network_port_alloc_free(VrtNetworkPortAlloc *alloc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkPortAlloc, vrt_network_port_alloc_free)

/* Claims a port (a VF of a hostdev network that nobody holds in the VF
 * registry and the host does not use) for owner and writes its file before
 * returning. Concurrent callers never get the same VF. An
 * exhausted pool fails with VIR_ERR_INTERNAL_ERROR "network 'NAME' requires
 * exclusive access to interfaces, but none are available" and changes
 * nothing. An inactive network: VIR_ERR_OPERATION_INVALID. */
VrtNetworkPortAlloc *vrt_network_port_allocate(VrtNetworkDriver *drv, const char *network_name, const char *owner_name,
                                               const guchar owner_uuid[16], const guint8 mac[6], GError **error);

/* Like vrt_network_port_allocate() with a port uuid the caller chose (and
 * could journal before the call). If that port already exists for the same
 * owner uuid, its allocation is returned unchanged (a retry after a crash);
 * for another owner: VIR_ERR_NETWORK_PORT_EXIST. */
VrtNetworkPortAlloc *vrt_network_port_allocate_uuid(VrtNetworkDriver *drv, const char *network_name,
                                                    const char *owner_name, const guchar owner_uuid[16],
                                                    const guint8 mac[6], const guchar port_uuid[16], GError **error);

/* Like vrt_network_port_allocate_uuid() for an interface with a
 * portgroup (NULL: the network's default one, if any) and a <bandwidth>
 * (NULL or empty: its portgroup's): the port carries the bandwidth in
 * effect (alloc->bandwidth) and an inbound floor is checked against the
 * network's inbound average/peak and the other ports' floors, and put on
 * the bridge, as libvirt (VIR_ERR_OPERATION_UNSUPPORTED without inbound
 * QoS on the network, VIR_ERR_OPERATION_INVALID when it would overcommit). */
VrtNetworkPortAlloc *vrt_network_port_allocate_full(VrtNetworkDriver *drv, const char *network_name,
                                                    const char *owner_name, const guchar owner_uuid[16],
                                                    const guint8 mac[6], const guchar port_uuid[16],
                                                    const char *portgroup, const VrtBandwidth *bandwidth,
                                                    GError **error);

/* A port's portgroup and bandwidth changed (a live update of its
 * interface): the bandwidth in effect is worked out again as at
 * allocation (*effective), its floor checked as then, its class on the
 * bridge replaced, and the port's file rewritten. */
bool vrt_network_port_update_bandwidth(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16],
                                       const char *portgroup, const VrtBandwidth *bandwidth, VrtBandwidth *effective,
                                       GError **error);

/* A <bandwidth> on a guest's tap, as libvirt's virNetDevBandwidthSet with
 * the directions swapped (inbound is what the tap sends to the guest):
 * HTB with sfq on its egress, a policer on its ingress; the old setting
 * is removed first (clear: only that). tc's complaint is the error. */
bool vrt_network_tap_bandwidth_set(const char *ifname, const VrtBandwidth *bw, GError **error);

/* Gives a port back (file removed, then the VF freed). Idempotent for the
 * rollback and recovery paths: an unknown port, or a network that is gone
 * or inactive, is not an error (logged at debug level). Fails only when
 * the port file cannot be removed, leaving the port in place. */
bool vrt_network_port_release(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16],
                              GError **error);

/* Re-registers a port the qemu driver knows from a running domain after a
 * restart. pci_addr is the VF for a hostdev network (NULL for bridge).
 * Already present with the same VF and owner: success, nothing changes.
 * The VF taken by another port, or not in the pool: VIR_ERR_INTERNAL_ERROR.
 * The port is persisted before returning. */
bool vrt_network_port_reserve(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16],
                              const char *owner_name, const guchar owner_uuid[16], const guint8 mac[6],
                              const VrtPciAddr *pci_addr, GError **error);

/* A port as the qemu driver's recovery sees it. */
typedef struct {
    char *network;
    char *owner_name;
    guchar owner_uuid[16];
    VrtNetworkPortAlloc *alloc;
} VrtNetworkPortInfo;

void vrt_network_port_info_free(VrtNetworkPortInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkPortInfo, vrt_network_port_info_free)

/* Every port of every running network whose owner uuid is owner_uuid
 * (all ports when owner_uuid is NULL), as VrtNetworkPortInfo*. After a
 * restart the qemu driver releases the ones its domains do not reference
 * (a crash between allocate and the domain's own status write). */
GPtrArray *vrt_network_port_list_by_owner(VrtNetworkDriver *drv, const guchar *owner_uuid);

/* Ports in use on a network (-1 with VIR_ERR_NO_NETWORK). */
int vrt_network_ports_in_use(VrtNetworkDriver *drv, const char *network_name, GError **error);

/* Checks, for fault tests: every VF owned by at most one port across all
 * networks; each network's connection count equals its ports; each VF
 * claim matches a port and the port holds it in the VF registry; the port files on disk are exactly the ports in
 * memory. Returns false with VIR_ERR_INTERNAL_ERROR naming the first
 * violation. */
bool vrt_network_driver_check_invariants(VrtNetworkDriver *drv, GError **error);

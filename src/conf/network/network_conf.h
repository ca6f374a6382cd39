/*
 * libvirt's network XML (<network>) and network port XML (<networkport>)
 * as C structs: parse, format, copy. Covers what vrt runs (hostdev pools
 * of SR-IOV VFs, bridge mode on an existing host bridge, and isolated, nat,
 * route and open networks with their bridge, ip, dhcp ranges, hosts, bootp
 * and tftp, dns hosts, txt and srv records and forwarders, bandwidth and
 * portgroups). An element vrt does not model is refused by name with
 * VIR_ERR_CONFIG_UNSUPPORTED rather than dropped silently.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/bandwidth.h"
#include "util/mac.h"
#include "util/pciaddr.h"
#include "util/uuid.h"

#define VRT_NETWORK_VLAN_MAX_TAGS 64
#define VRT_NETWORK_XML_MAX_BYTES (4 * 1024 * 1024)

/* virNetworkXMLFlags */
#define VRT_NETWORK_XML_INACTIVE 1u

typedef enum {
    VRT_NETWORK_VLAN_NATIVE_NONE = 0,
    VRT_NETWORK_VLAN_NATIVE_TAGGED,
    VRT_NETWORK_VLAN_NATIVE_UNTAGGED,
} VrtNetworkVlanNative;

typedef struct {
    bool present;
    bool trunk;
    guint ntags;
    guint tags[VRT_NETWORK_VLAN_MAX_TAGS];
    VrtNetworkVlanNative native[VRT_NETWORK_VLAN_MAX_TAGS];
} VrtNetworkVlan;

/* ---- <network> ---- */

typedef enum {
    VRT_NETWORK_FORWARD_NONE = 0, /* no <forward>: isolated network */
    VRT_NETWORK_FORWARD_NAT,
    VRT_NETWORK_FORWARD_ROUTE,
    VRT_NETWORK_FORWARD_OPEN,
    VRT_NETWORK_FORWARD_BRIDGE,
    VRT_NETWORK_FORWARD_PASSTHROUGH,
    VRT_NETWORK_FORWARD_PRIVATE,
    VRT_NETWORK_FORWARD_VEPA,
    VRT_NETWORK_FORWARD_HOSTDEV,
} VrtNetworkForwardMode;

const char *vrt_network_forward_mode_to_string(VrtNetworkForwardMode mode);

typedef struct {
    VrtPciAddr addr;
    guint connections; /* live XML only */
} VrtNetworkForwardAddr;

typedef struct {
    char *dev;
    guint connections; /* live XML only */
} VrtNetworkForwardIf;

/* <lease expiry= unit=/> of a dhcp <range> or <host>: expiry 0 is an
 * infinite lease (no unit written) */
typedef enum {
    VRT_NETWORK_LEASE_SECONDS = 0,
    VRT_NETWORK_LEASE_MINUTES,
    VRT_NETWORK_LEASE_HOURS,
} VrtNetworkLeaseUnit;

typedef struct {
    bool present;
    guint64 expiry;
    VrtNetworkLeaseUnit unit;
} VrtNetworkLease;

/* The lease's length in seconds, 0 for infinite. */
guint64 vrt_network_lease_seconds(const VrtNetworkLease *lease);

typedef struct {
    char *start;
    char *end;
    VrtNetworkLease lease;
} VrtNetworkDhcpRange;

/* <dhcp><host mac= id= name= ip=/>: a fixed lease */
typedef struct {
    char *mac; /* NULL: none (IPv6 hosts go by name or id) */
    char *id; /* DHCPv6 client id (DUID), NULL: none */
    char *name;
    char *ip;
    VrtNetworkLease lease;
} VrtNetworkDhcpHost;

/* <virtualport type=><parameters .../></virtualport> of a network or
 * portgroup: kept as written (validated), for a switch vrt does not run */
typedef struct {
    bool present;
    char *type; /* NULL: none given (a portgroup's) */
    char *managerid, *typeid, *typeidversion, *instanceid, *interfaceid, *profileid;
} VrtNetworkVirtPort;

/* <route family= address= netmask=|prefix= gateway= metric=/> */
typedef struct {
    char *family;
    char *address;
    char *netmask;
    int prefix; /* -1 absent */
    char *gateway;
    guint metric; /* 0 absent */
} VrtNetworkRoute;

/* <dns><host ip=><hostname>NAME</hostname>...</host></dns> */
typedef struct {
    char *ip;
    GStrv hostnames;
} VrtNetworkDnsHost;

/* <dns><forwarder domain= addr=/>: at least one of the two */
typedef struct {
    char *domain;
    char *addr;
} VrtNetworkDnsForwarder;

/* <dns><txt name= value=/> */
typedef struct {
    char *name;
    char *value;
} VrtNetworkDnsTxt;

/* <dns><srv service= protocol= domain= target= port= priority= weight=/>;
 * the numbers are 0 when absent, as libvirt keeps them */
typedef struct {
    char *service;
    char *protocol;
    char *domain;
    char *target;
    guint port, priority, weight;
} VrtNetworkDnsSrv;

/* <portgroup name= default= trustGuestRxFilters=> with its <vlan> and
 * <bandwidth> */
typedef struct {
    char *name;
    bool is_default;
    int trust_guest_rx_filters; /* -1/0/1 */
    VrtNetworkVlan vlan;
    VrtNetworkVirtPort vport;
    VrtBandwidth bandwidth;
} VrtNetworkPortGroup;

typedef struct {
    char *family; /* NULL, "ipv4" or "ipv6" */
    char *address;
    char *netmask;
    int prefix; /* -1 when absent */
    int local_ptr; /* localPtr=: -1 absent, 0 no, 1 yes */
    GPtrArray *ranges; /* VrtNetworkDhcpRange*; empty when no <dhcp> */
    GPtrArray *hosts; /* VrtNetworkDhcpHost* */
    bool has_dhcp;
    char *tftp_root; /* <tftp root=> */
    char *bootp_file, *bootp_server; /* <dhcp><bootp file= server=/> */
} VrtNetworkIpDef;

typedef struct {
    char *name;
    guchar uuid[16];
    bool uuid_given; /* the XML had <uuid> (else it was generated) */
    char *metadata_xml; /* <metadata> element kept verbatim, NULL absent */

    int ipv6; /* root ipv6='yes|no': -1 absent */
    int trust_guest_rx_filters; /* root trustGuestRxFilters: -1 absent */

    char *bridge_name;
    char *bridge_zone;
    char *bridge_mac_table_manager; /* "kernel" or "libvirt" */
    int bridge_stp; /* -1 absent, 0 off, 1 on */
    bool has_bridge_delay;
    guint64 bridge_delay;
    bool has_bridge;
    char *mac; /* as written, validated */
    guint mtu; /* 0: absent */
    char *domain_name;
    int domain_local_only; /* -1/0/1 */

    bool has_forward;
    VrtNetworkForwardMode forward_mode;
    char *forward_dev;
    int forward_managed; /* -1 absent, 0 no, 1 yes */
    char *forward_driver; /* <driver name=...>, NULL absent */
    char *pf_dev;
    GArray *forward_addrs; /* VrtNetworkForwardAddr */
    GPtrArray *forward_ifs; /* VrtNetworkForwardIf* */
    bool has_nat;
    int nat_ipv6; /* -1/0/1 */
    char *nat_addr_start, *nat_addr_end;
    guint nat_port_start, nat_port_end; /* 0: absent */

    VrtNetworkVlan vlan;
    bool has_dns; /* <dns> present */
    int dns_enable; /* <dns enable=>: -1 absent, 0 no (dnsmasq's DNS off), 1 */
    int dns_forward_plain_names; /* -1/0/1 */
    GPtrArray *dns_hosts; /* VrtNetworkDnsHost* */
    GPtrArray *dns_forwarders; /* VrtNetworkDnsForwarder* */
    GPtrArray *dns_txts; /* VrtNetworkDnsTxt* */
    GPtrArray *dns_srvs; /* VrtNetworkDnsSrv* */
    VrtBandwidth bandwidth;
    GPtrArray *portgroups; /* VrtNetworkPortGroup* */
    GPtrArray *ips; /* VrtNetworkIpDef* */
    int port_isolated; /* <port isolated=>: -1 absent, 0 no, 1 yes */
    GPtrArray *routes; /* VrtNetworkRoute* */
    VrtNetworkVirtPort vport;
    GStrv dnsmasq_options; /* <dnsmasq:options> values, NULL: none */

    guint connections; /* live XML only: ports in use */
} VrtNetworkDef;

typedef enum {
    VRT_NETWORK_PARSE_DEFAULT = 0,
    /* A status file written by vrt itself: <pf> together with the
     * resolved <address> list is accepted. */
    VRT_NETWORK_PARSE_STATUS = 1 << 0,
} VrtNetworkParseFlags;

VrtNetworkDef *vrt_network_def_new(void);
void vrt_network_def_free(VrtNetworkDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDef, vrt_network_def_free)

/* Parses <network> XML. Errors: VIR_ERR_XML_ERROR (malformed, wrong root,
 * missing/invalid values, naming the line when libxml2 reports one),
 * VIR_ERR_CONFIG_UNSUPPORTED (an element vrt does not model). */
VrtNetworkDef *vrt_network_def_parse(const char *xml, guint flags, GError **error);

/* Formats def; connection counts are written when non-zero (live XML). */
char *vrt_network_def_format(const VrtNetworkDef *def);

/* Deep copy (never fails). */
VrtNetworkDef *vrt_network_def_copy(const VrtNetworkDef *def);

/* One <host> or <range> element of a <dhcp>, as NETWORK_UPDATE gives it
 * (VIR_ERR_XML_ERROR when it is not one). */
VrtNetworkDhcpHost *vrt_network_dhcp_host_parse(const char *xml, GError **error);
VrtNetworkDhcpRange *vrt_network_dhcp_range_parse(const char *xml, GError **error);
/* libvirt's sanity check of a DHCP range against its <ip> (its
 * virSocketAddrGetRange, with its words): same family as the network,
 * inside it, neither the network nor the broadcast address, start not
 * after end, and only the last 16 bits varying. */
bool vrt_network_check_dhcp_range(const VrtNetworkIpDef *ip, const char *start, const char *end, GError **error);
void vrt_network_dhcp_host_free(VrtNetworkDhcpHost *host);
/* A <host> of <dns>, as NETWORK_UPDATE gives it. */
VrtNetworkDnsHost *vrt_network_dns_host_parse(const char *xml, GError **error);
void vrt_network_dns_host_free(VrtNetworkDnsHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDnsHost, vrt_network_dns_host_free)
void vrt_network_dhcp_range_free(VrtNetworkDhcpRange *range);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDhcpHost, vrt_network_dhcp_host_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDhcpRange, vrt_network_dhcp_range_free)
VrtNetworkDhcpHost *vrt_network_dhcp_host_copy(const VrtNetworkDhcpHost *host);

/* <txt>, <srv> of <dns> and <portgroup>, as NETWORK_UPDATE gives them.
 * partial: a delete's element, which may leave out what libvirt lets
 * it leave out (a txt's value, a srv's service and protocol). */
VrtNetworkDnsTxt *vrt_network_dns_txt_parse(const char *xml, bool partial, GError **error);
VrtNetworkDnsSrv *vrt_network_dns_srv_parse(const char *xml, bool partial, GError **error);
VrtNetworkPortGroup *vrt_network_portgroup_parse(const char *xml, GError **error);
/* The dev of a <forward>'s <interface dev=> (NETWORK_UPDATE's
 * forward-interface section). */
char *vrt_network_forward_if_parse(const char *xml, GError **error);
void vrt_network_dns_txt_free(VrtNetworkDnsTxt *txt);
void vrt_network_dns_srv_free(VrtNetworkDnsSrv *srv);
void vrt_network_portgroup_free(VrtNetworkPortGroup *pg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDnsTxt, vrt_network_dns_txt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkDnsSrv, vrt_network_dns_srv_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkPortGroup, vrt_network_portgroup_free)
/* The portgroup named name, or with name NULL the default one (NULL: none). */
const VrtNetworkPortGroup *vrt_network_def_portgroup(const VrtNetworkDef *def, const char *name);

/* ---- <networkport> ---- */

typedef enum {
    VRT_NETWORK_PLUG_NONE = 0,
    VRT_NETWORK_PLUG_NETWORK,
    VRT_NETWORK_PLUG_BRIDGE,
    VRT_NETWORK_PLUG_DIRECT,
    VRT_NETWORK_PLUG_HOSTDEV_PCI,
} VrtNetworkPlugType;

const char *vrt_network_plug_type_to_string(VrtNetworkPlugType type);

typedef struct {
    guchar uuid[16];
    char *owner_name;
    guchar owner_uuid[16];
    guint8 mac[6];
    char *group;
    int trust_guest_rx_filters; /* -1/0/1 */
    VrtNetworkVlan vlan;
    VrtBandwidth bandwidth; /* the interface's, or its portgroup's */
    guint class_id; /* its class on the network's bridge (a floor), 0: none */

    VrtNetworkPlugType plug_type;
    char *plug_bridge; /* network, bridge */
    char *plug_mac_table_manager;
    char *plug_dev; /* direct */
    char *plug_direct_mode; /* direct */
    int plug_managed; /* hostdev-pci: -1/0/1 */
    char *plug_driver; /* hostdev-pci <driver name> */
    VrtPciAddr plug_addr; /* hostdev-pci */
} VrtNetworkPortDef;

VrtNetworkPortDef *vrt_network_port_def_new(void);
void vrt_network_port_def_free(VrtNetworkPortDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetworkPortDef, vrt_network_port_def_free)

/* Parses <networkport> XML (uuid generated when absent). Errors as for
 * vrt_network_def_parse(). */
VrtNetworkPortDef *vrt_network_port_def_parse(const char *xml, GError **error);
char *vrt_network_port_def_format(const VrtNetworkPortDef *def);
VrtNetworkPortDef *vrt_network_port_def_copy(const VrtNetworkPortDef *def);

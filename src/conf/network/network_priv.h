/*
 * What the network and network port parsers share beyond the XML helper
 * library (util/xml.h): <vlan> and the PCI <address> of a VF, read and
 * written the same way in both documents, and the family's wording of
 * errors. Private to src/conf/network.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/network/network_conf.h"
#include "util/xml.h"

/* The network family's error wording and size limit for vrt_xml_read. */
extern const VrtXmlWording vrt_network_xml_wording;
extern const VrtXmlWording vrt_network_port_xml_wording;

/* <vlan> with <tag> children; the same in network and port XML. */
bool vrt_network_parse_vlan(xmlNodePtr node, VrtNetworkVlan *vlan, GError **error);
void vrt_network_format_vlan(GString *out, const VrtNetworkVlan *vlan, const char *indent);

/* domain/bus/slot/function attributes of a PCI <address> (type='pci' if
 * given; bus, slot and function required). */
bool vrt_network_parse_pci(xmlNodePtr node, VrtPciAddr *addr, GError **error);

/* network_conf_more.c: <dns> beyond its hosts, <bandwidth>, <portgroup>.
 * The new arrays of a VrtNetworkDef are made, freed and copied there. */
void vrt_network_def_more_init(VrtNetworkDef *def);
void vrt_network_def_more_free(VrtNetworkDef *def);
void vrt_network_def_more_copy(VrtNetworkDef *def, const VrtNetworkDef *src);
bool vrt_network_parse_dns_attrs(xmlNodePtr node, VrtNetworkDef *def, GError **error);
/* A child of <dns> other than <host>. */
bool vrt_network_parse_dns_child(xmlNodePtr node, VrtNetworkDef *def, GError **error);
/* libvirt's check of a whole <dns>: a disabled one has no records. */
bool vrt_network_check_dns(const VrtNetworkDef *def, GError **error);
void vrt_network_format_dns(GString *out, const VrtNetworkDef *def);
bool vrt_network_parse_portgroup(xmlNodePtr node, VrtNetworkDef *def, GError **error);
void vrt_network_format_portgroups(GString *out, const VrtNetworkDef *def);

/* network_conf_opts.c: <virtualport>, <route>, <port isolated>, dhcp
 * <lease> and the dnsmasq namespace's <dnsmasq:options>. */
#define VRT_NETWORK_DNSMASQ_NS "http://libvirt.org/schemas/network/dnsmasq/1.0"
void vrt_network_def_opts_init(VrtNetworkDef *def);
void vrt_network_def_opts_free(VrtNetworkDef *def);
void vrt_network_def_opts_copy(VrtNetworkDef *def, const VrtNetworkDef *src);
void vrt_network_virtport_clear(VrtNetworkVirtPort *vp);
void vrt_network_virtport_copy(VrtNetworkVirtPort *dst, const VrtNetworkVirtPort *src);
/* require_type: a network's own <virtualport> must name its type. */
bool vrt_network_parse_virtport(xmlNodePtr node, bool require_type, VrtNetworkVirtPort *vp, GError **error);
void vrt_network_format_virtport(GString *out, const VrtNetworkVirtPort *vp, const char *indent);
bool vrt_network_parse_route(xmlNodePtr node, VrtNetworkDef *def, GError **error);
/* libvirt's check that each route's gateway is on one of the <ip>s. */
bool vrt_network_check_routes(const VrtNetworkDef *def, GError **error);
void vrt_network_format_routes(GString *out, const VrtNetworkDef *def);
/* <lease> inside a <range> or <host>: an element without expiry is no
 * lease, as in libvirt. */
bool vrt_network_parse_lease(xmlNodePtr node, VrtNetworkLease *lease, GError **error);
void vrt_network_format_lease(GString *out, const VrtNetworkLease *lease, const char *indent);
bool vrt_network_is_dnsmasq_options(xmlNodePtr node);
bool vrt_network_parse_dnsmasq_options(xmlNodePtr node, VrtNetworkDef *def, GError **error);
void vrt_network_format_dnsmasq_options(GString *out, const VrtNetworkDef *def);

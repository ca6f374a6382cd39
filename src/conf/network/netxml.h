/*
 * Helpers shared by the network and network port XML parsers: parsing a
 * document with libvirt's error shape, reading attributes, PCI addresses,
 * MACs and UUIDs. Private to src/conf/network except the PCI address, MAC
 * and UUID helpers, which network_conf.h re-exports for the driver.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <libxml/tree.h>

#include "conf/network/network_conf.h"

/* Parses data as XML whose root must be <root_name>. `what` names the
 * document in errors, like libvirt's "(network_definition)". On failure
 * returns NULL with VIR_ERR_XML_ERROR naming the line. */
xmlDocPtr vrt_netxml_parse(const char *data, const char *root_name, const char *what, GError **error);

/* Attribute value as a newly allocated string, NULL when absent. */
char *vrt_netxml_prop(xmlNodePtr node, const char *name);

/* Text content of an element, trimmed; never NULL. */
char *vrt_netxml_text(xmlNodePtr node);

/* True when node is an element named name (no namespace). */
bool vrt_netxml_is(xmlNodePtr node, const char *name);

/* Parses a "yes"/"no" attribute into *out (-1 absent, 0 no, 1 yes). */
bool vrt_netxml_yes_no(xmlNodePtr node, const char *attr, int *out, GError **error);

/* Parses an unsigned number attribute in base 0 (0x.. allowed) with a max. */
bool vrt_netxml_uint(xmlNodePtr node, const char *attr, guint max, bool required, guint *out, bool *present,
                     GError **error);

/* Error for an element vrt does not handle, naming it. */
void vrt_netxml_unsupported(GError **error, xmlNodePtr node, const char *where);

/* <vlan> with <tag> children; the same in network and port XML. */
bool vrt_netxml_parse_vlan(xmlNodePtr node, VrtNetworkVlan *vlan, GError **error);
void vrt_netxml_format_vlan(GString *out, const VrtNetworkVlan *vlan, const char *indent);

/* domain/bus/slot/function attributes of a PCI <address> (type='pci' if
 * given); formatted as libvirt does (domain='0x0000' ...). */
bool vrt_netxml_parse_pci(xmlNodePtr node, VrtNetworkPciAddr *addr, GError **error);
void vrt_netxml_format_pci(GString *out, const VrtNetworkPciAddr *a);

/* Appends " name='escaped value'" when value is non-NULL. */
void vrt_netxml_attr(GString *out, const char *name, const char *value);

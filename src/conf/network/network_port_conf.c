/*
 * <networkport> XML: one connection of a guest interface to a network, as
 * libvirt's virNetworkPort API and vrt's status files carry it. The plug
 * says how the interface is connected: the VF's PCI address for a hostdev
 * pool, the bridge for a bridge network.
 */
#include "conf/network/network_conf.h"
#include "conf/network/network_priv.h"
#include "util/error.h"

#include <string.h>
#include <libxml/tree.h>

const VrtXmlWording vrt_network_port_xml_wording = {
    .style = VRT_XML_STYLE_NETWORK,
    .max_bytes = VRT_NETWORK_XML_MAX_BYTES,
    .root_label = "network port XML",
};

static const char *const plug_type_names[] = {
    [VRT_NETWORK_PLUG_NONE] = "none",
    [VRT_NETWORK_PLUG_NETWORK] = "network",
    [VRT_NETWORK_PLUG_BRIDGE] = "bridge",
    [VRT_NETWORK_PLUG_DIRECT] = "direct",
    [VRT_NETWORK_PLUG_HOSTDEV_PCI] = "hostdev-pci",
};

const char *
vrt_network_plug_type_to_string(VrtNetworkPlugType type)
{
    if ((guint)type >= G_N_ELEMENTS(plug_type_names))
        return "unknown";
    return plug_type_names[type];
}

VrtNetworkPortDef *
vrt_network_port_def_new(void)
{
    VrtNetworkPortDef *def = g_new0(VrtNetworkPortDef, 1);
    def->trust_guest_rx_filters = -1;
    def->plug_managed = -1;
    return def;
}

void
vrt_network_port_def_free(VrtNetworkPortDef *def)
{
    if (!def)
        return;
    g_free(def->owner_name);
    g_free(def->group);
    g_free(def->plug_bridge);
    g_free(def->plug_mac_table_manager);
    g_free(def->plug_dev);
    g_free(def->plug_direct_mode);
    g_free(def->plug_driver);
    g_free(def);
}

VrtNetworkPortDef *
vrt_network_port_def_copy(const VrtNetworkPortDef *src)
{
    VrtNetworkPortDef *def = g_new0(VrtNetworkPortDef, 1);
    *def = *src;
    def->owner_name = g_strdup(src->owner_name);
    def->group = g_strdup(src->group);
    def->plug_bridge = g_strdup(src->plug_bridge);
    def->plug_mac_table_manager = g_strdup(src->plug_mac_table_manager);
    def->plug_dev = g_strdup(src->plug_dev);
    def->plug_direct_mode = g_strdup(src->plug_direct_mode);
    def->plug_driver = g_strdup(src->plug_driver);
    return def;
}

static bool
parse_owner(xmlNodePtr node, VrtNetworkPortDef *def, GError **error)
{
    bool have_uuid = false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "name")) {
            g_free(def->owner_name);
            def->owner_name = g_strstrip(vrt_xml_text(c));
        } else if (vrt_xml_is(c, "uuid")) {
            g_autofree char *s = g_strstrip(vrt_xml_text(c));
            if (!vrt_uuid_parse(s, def->owner_uuid)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "malformed owner uuid element");
                return false;
            }
            have_uuid = true;
        } else {
            vrt_xml_unsupported(c, error);
            return false;
        }
    }
    if (!def->owner_name || !*def->owner_name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network port has no owner name");
        return false;
    }
    if (!have_uuid) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network port has no owner UUID");
        return false;
    }
    return true;
}

static bool
parse_plug(xmlNodePtr node, VrtNetworkPortDef *def, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");
    if (!type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing type attribute in network port <plug>");
        return false;
    }
    def->plug_type = VRT_NETWORK_PLUG_NONE;
    for (guint i = VRT_NETWORK_PLUG_NETWORK; i < G_N_ELEMENTS(plug_type_names); i++)
        if (strcmp(type, plug_type_names[i]) == 0)
            def->plug_type = i;
    switch (def->plug_type) {
    case VRT_NETWORK_PLUG_NETWORK:
    case VRT_NETWORK_PLUG_BRIDGE:
        g_free(def->plug_bridge);
        g_free(def->plug_mac_table_manager);
        def->plug_bridge = vrt_xml_prop(node, "bridge");
        def->plug_mac_table_manager = vrt_xml_prop(node, "macTableManager");
        if (!def->plug_bridge || !*def->plug_bridge) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing bridge name in network port <plug type='%s'>", type);
            return false;
        }
        break;
    case VRT_NETWORK_PLUG_DIRECT:
        g_free(def->plug_dev);
        g_free(def->plug_direct_mode);
        def->plug_dev = vrt_xml_prop(node, "dev");
        def->plug_direct_mode = vrt_xml_prop(node, "mode");
        if (!def->plug_dev || !def->plug_direct_mode) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "network port <plug type='direct'> needs dev and mode");
            return false;
        }
        break;
    case VRT_NETWORK_PLUG_HOSTDEV_PCI: {
        bool have_addr = false;
        if (!vrt_xml_prop_yes_no(node, "managed", &def->plug_managed, error))
            return false;
        for (xmlNodePtr c = node->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            if (vrt_xml_is(c, "address")) {
                if (!vrt_network_parse_pci(c, &def->plug_addr, error))
                    return false;
                have_addr = true;
            } else if (vrt_xml_is(c, "driver")) {
                g_free(def->plug_driver);
                def->plug_driver = vrt_xml_prop(c, "name");
                if (!def->plug_driver ||
                    (strcmp(def->plug_driver, "vfio") != 0 && strcmp(def->plug_driver, "kvm") != 0)) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid <driver> name in network port <plug>");
                    return false;
                }
            } else {
                vrt_xml_unsupported(c, error);
                return false;
            }
        }
        if (!have_addr) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing PCI <address> in network port <plug type='hostdev-pci'>");
            return false;
        }
        break;
    }
    case VRT_NETWORK_PLUG_NONE:
    default: vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown network port plug type '%s'", type); return false;
    }
    return true;
}

static bool
parse_port(xmlNodePtr root, VrtNetworkPortDef *def, GError **error)
{
    bool have_uuid = false, have_owner = false, have_mac = false;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "uuid")) {
            g_autofree char *s = g_strstrip(vrt_xml_text(c));
            if (!vrt_uuid_parse(s, def->uuid)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "malformed uuid element");
                return false;
            }
            have_uuid = true;
        } else if (vrt_xml_is(c, "owner")) {
            if (!parse_owner(c, def, error))
                return false;
            have_owner = true;
        } else if (vrt_xml_is(c, "mac")) {
            g_autofree char *s = vrt_xml_prop(c, "address");
            if (!vrt_mac_parse(s, def->mac) || (def->mac[0] & 1)) {
                vrt_error_set(error, VIR_ERR_INVALID_MAC, "unable to parse mac '%s'", s ? s : "");
                return false;
            }
            have_mac = true;
        } else if (vrt_xml_is(c, "group")) {
            g_free(def->group);
            def->group = g_strstrip(vrt_xml_text(c));
        } else if (vrt_xml_is(c, "rxfilters")) {
            if (!vrt_xml_prop_yes_no(c, "trustGuest", &def->trust_guest_rx_filters, error))
                return false;
        } else if (vrt_xml_is(c, "vlan")) {
            if (!vrt_network_parse_vlan(c, &def->vlan, error))
                return false;
        } else if (vrt_xml_is(c, "bandwidth")) {
            if (!vrt_bandwidth_parse(c, true, &def->class_id, &def->bandwidth, error))
                return false;
        } else if (vrt_xml_is(c, "plug")) {
            if (!parse_plug(c, def, error))
                return false;
        } else {
            vrt_xml_unsupported(c, error);
            return false;
        }
    }
    if (!have_owner) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network port has no owner");
        return false;
    }
    if (!have_mac) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network port has no mac");
        return false;
    }
    if (!have_uuid)
        vrt_uuid_generate(def->uuid);
    return true;
}

VrtNetworkPortDef *
vrt_network_port_def_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(networkport_definition)", "networkport", &vrt_network_port_xml_wording, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtNetworkPortDef) def = vrt_network_port_def_new();
    bool ok = parse_port(xmlDocGetRootElement(doc), def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

char *
vrt_network_port_def_format(const VrtNetworkPortDef *def)
{
    GString *out = g_string_new("<networkport>\n");
    char uuid[VRT_UUID_STRING_LEN], mac[18];
    vrt_uuid_format(def->uuid, uuid);
    g_string_append_printf(out, "  <uuid>%s</uuid>\n", uuid);
    g_autofree char *owner = vrt_xml_escape(def->owner_name ? def->owner_name : "");
    vrt_uuid_format(def->owner_uuid, uuid);
    g_string_append_printf(out, "  <owner>\n    <name>%s</name>\n    <uuid>%s</uuid>\n  </owner>\n", owner, uuid);
    if (def->group) {
        g_autofree char *group = vrt_xml_escape(def->group);
        g_string_append_printf(out, "  <group>%s</group>\n", group);
    }
    vrt_mac_format(def->mac, mac);
    g_string_append_printf(out, "  <mac address='%s'/>\n", mac);
    vrt_network_format_vlan(out, &def->vlan, "  ");
    if (def->bandwidth.in.present || def->bandwidth.out.present) {
        /* libvirt writes the class on the port's <bandwidth> */
        g_autoptr(GString) bw = g_string_new(NULL);
        vrt_bandwidth_format(bw, &def->bandwidth, 2);
        if (def->class_id && g_str_has_prefix(bw->str, "  <bandwidth>")) {
            g_autofree char *cls = g_strdup_printf(" classID='%u'", def->class_id);
            g_string_insert(bw, strlen("  <bandwidth"), cls);
        }
        g_string_append(out, bw->str);
    }
    if (def->trust_guest_rx_filters >= 0)
        g_string_append_printf(out, "  <rxfilters trustGuest='%s'/>\n", def->trust_guest_rx_filters ? "yes" : "no");
    switch (def->plug_type) {
    case VRT_NETWORK_PLUG_NETWORK:
    case VRT_NETWORK_PLUG_BRIDGE:
        g_string_append_printf(out, "  <plug type='%s'", vrt_network_plug_type_to_string(def->plug_type));
        vrt_xml_format_attr(out, "bridge", def->plug_bridge);
        vrt_xml_format_attr(out, "macTableManager", def->plug_mac_table_manager);
        g_string_append(out, "/>\n");
        break;
    case VRT_NETWORK_PLUG_DIRECT:
        g_string_append(out, "  <plug type='direct'");
        vrt_xml_format_attr(out, "dev", def->plug_dev);
        vrt_xml_format_attr(out, "mode", def->plug_direct_mode);
        g_string_append(out, "/>\n");
        break;
    case VRT_NETWORK_PLUG_HOSTDEV_PCI:
        g_string_append(out, "  <plug type='hostdev-pci'");
        if (def->plug_managed >= 0)
            vrt_xml_format_attr(out, "managed", def->plug_managed ? "yes" : "no");
        g_string_append(out, ">\n");
        if (def->plug_driver) {
            g_string_append(out, "    <driver");
            vrt_xml_format_attr(out, "name", def->plug_driver);
            g_string_append(out, "/>\n");
        }
        g_string_append(out, "    <address");
        vrt_pci_addr_format_attrs(out, &def->plug_addr);
        g_string_append(out, "/>\n  </plug>\n");
        break;
    case VRT_NETWORK_PLUG_NONE:
    default: break;
    }
    g_string_append(out, "</networkport>\n");
    return g_string_free(out, FALSE);
}

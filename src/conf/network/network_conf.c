/*
 * <network> XML: parse into VrtNetworkDef and format back. The formatter
 * writes connection counts only when they are non-zero, so the same code
 * produces the inactive definition and the live XML of a running network
 * (whose <forward> lists the hostdev pool with per-VF connections).
 */
#include "conf/network/network_conf.h"
#include "conf/network/network_priv.h"
#include "util/error.h"

#include <string.h>
#include <libxml/tree.h>

/* The wording network XML errors have always had; a child of <network>
 * that vrt does not model is "in network XML". */
const VrtXmlWording vrt_network_xml_wording = {
    .style = VRT_XML_STYLE_NETWORK,
    .max_bytes = VRT_NETWORK_XML_MAX_BYTES,
    .root_label = "network XML",
};
#define NETWORK_MTU_MAX 65535u
#define NETWORK_PORT_MAX 65535u
#define NETWORK_MAX_POOL 4096u

static const char *const forward_mode_names[] = {
    [VRT_NETWORK_FORWARD_NONE] = "none",       [VRT_NETWORK_FORWARD_NAT] = "nat",
    [VRT_NETWORK_FORWARD_ROUTE] = "route",     [VRT_NETWORK_FORWARD_OPEN] = "open",
    [VRT_NETWORK_FORWARD_BRIDGE] = "bridge",   [VRT_NETWORK_FORWARD_PASSTHROUGH] = "passthrough",
    [VRT_NETWORK_FORWARD_PRIVATE] = "private", [VRT_NETWORK_FORWARD_VEPA] = "vepa",
    [VRT_NETWORK_FORWARD_HOSTDEV] = "hostdev",
};

const char *
vrt_network_forward_mode_to_string(VrtNetworkForwardMode mode)
{
    if ((guint)mode >= G_N_ELEMENTS(forward_mode_names))
        return "unknown";
    return forward_mode_names[mode];
}

static void
forward_if_free(gpointer p)
{
    VrtNetworkForwardIf *fi = p;
    if (!fi)
        return;
    g_free(fi->dev);
    g_free(fi);
}

static void
dhcp_range_free(gpointer p)
{
    VrtNetworkDhcpRange *r = p;
    if (!r)
        return;
    g_free(r->start);
    g_free(r->end);
    g_free(r);
}

void
vrt_network_dhcp_host_free(VrtNetworkDhcpHost *host)
{
    if (!host)
        return;
    g_free(host->mac);
    g_free(host->id);
    g_free(host->name);
    g_free(host->ip);
    g_free(host);
}

VrtNetworkDhcpHost *
vrt_network_dhcp_host_copy(const VrtNetworkDhcpHost *host)
{
    VrtNetworkDhcpHost *h = g_new0(VrtNetworkDhcpHost, 1);
    h->mac = g_strdup(host->mac);
    h->id = g_strdup(host->id);
    h->name = g_strdup(host->name);
    h->ip = g_strdup(host->ip);
    h->lease = host->lease;
    return h;
}

void
vrt_network_dns_host_free(VrtNetworkDnsHost *host)
{
    if (!host)
        return;
    g_free(host->ip);
    g_strfreev(host->hostnames);
    g_free(host);
}

static VrtNetworkDnsHost *
dns_host_copy(const VrtNetworkDnsHost *h)
{
    VrtNetworkDnsHost *c = g_new0(VrtNetworkDnsHost, 1);
    c->ip = g_strdup(h->ip);
    c->hostnames = g_strdupv(h->hostnames);
    return c;
}

void
vrt_network_dhcp_range_free(VrtNetworkDhcpRange *range)
{
    dhcp_range_free(range);
}

static void
ip_def_free(gpointer p)
{
    VrtNetworkIpDef *ip = p;
    if (!ip)
        return;
    g_free(ip->family);
    g_free(ip->address);
    g_free(ip->netmask);
    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip->tftp_root);
    g_free(ip->bootp_file);
    g_free(ip->bootp_server);
    g_free(ip);
}

static VrtNetworkIpDef *
ip_def_new(void)
{
    VrtNetworkIpDef *ip = g_new0(VrtNetworkIpDef, 1);
    ip->prefix = -1;
    ip->local_ptr = -1;
    ip->ranges = g_ptr_array_new_with_free_func(dhcp_range_free);
    ip->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dhcp_host_free);
    return ip;
}

VrtNetworkDef *
vrt_network_def_new(void)
{
    VrtNetworkDef *def = g_new0(VrtNetworkDef, 1);
    def->bridge_stp = -1;
    def->ipv6 = -1;
    def->trust_guest_rx_filters = -1;
    def->domain_local_only = -1;
    def->forward_managed = -1;
    def->nat_ipv6 = -1;
    def->forward_addrs = g_array_new(FALSE, TRUE, sizeof(VrtNetworkForwardAddr));
    def->forward_ifs = g_ptr_array_new_with_free_func(forward_if_free);
    def->ips = g_ptr_array_new_with_free_func(ip_def_free);
    def->dns_hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dns_host_free);
    vrt_network_def_more_init(def);
    vrt_network_def_opts_init(def);
    return def;
}

void
vrt_network_def_free(VrtNetworkDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->metadata_xml);
    g_free(def->bridge_name);
    g_free(def->bridge_zone);
    g_free(def->bridge_mac_table_manager);
    g_free(def->mac);
    g_free(def->domain_name);
    g_free(def->forward_dev);
    g_free(def->forward_driver);
    g_free(def->pf_dev);
    g_array_unref(def->forward_addrs);
    g_ptr_array_unref(def->forward_ifs);
    g_ptr_array_unref(def->dns_hosts);
    vrt_network_def_more_free(def);
    vrt_network_def_opts_free(def);
    g_free(def->nat_addr_start);
    g_free(def->nat_addr_end);
    g_ptr_array_unref(def->ips);
    g_free(def);
}

VrtNetworkDef *
vrt_network_def_copy(const VrtNetworkDef *src)
{
    VrtNetworkDef *def = vrt_network_def_new();
    vrt_network_def_more_free(def); /* made again from src's below */
    vrt_network_def_opts_free(def);
    GArray *addrs = def->forward_addrs;
    GPtrArray *ifs = def->forward_ifs, *ips = def->ips, *dns_hosts = def->dns_hosts;
    *def = *src;
    def->forward_addrs = addrs;
    def->forward_ifs = ifs;
    def->ips = ips;
    def->dns_hosts = dns_hosts;
    vrt_network_def_more_copy(def, src);
    vrt_network_def_opts_copy(def, src);
    def->name = g_strdup(src->name);
    def->metadata_xml = g_strdup(src->metadata_xml);
    def->bridge_name = g_strdup(src->bridge_name);
    def->bridge_zone = g_strdup(src->bridge_zone);
    def->bridge_mac_table_manager = g_strdup(src->bridge_mac_table_manager);
    def->mac = g_strdup(src->mac);
    def->domain_name = g_strdup(src->domain_name);
    def->forward_dev = g_strdup(src->forward_dev);
    def->forward_driver = g_strdup(src->forward_driver);
    def->pf_dev = g_strdup(src->pf_dev);
    def->nat_addr_start = g_strdup(src->nat_addr_start);
    def->nat_addr_end = g_strdup(src->nat_addr_end);
    g_array_append_vals(addrs, src->forward_addrs->data, src->forward_addrs->len);
    for (guint i = 0; i < src->forward_ifs->len; i++) {
        const VrtNetworkForwardIf *s = g_ptr_array_index(src->forward_ifs, i);
        VrtNetworkForwardIf *fi = g_new0(VrtNetworkForwardIf, 1);
        fi->dev = g_strdup(s->dev);
        fi->connections = s->connections;
        g_ptr_array_add(ifs, fi);
    }
    def->has_dns = src->has_dns;
    for (guint i = 0; i < src->dns_hosts->len; i++)
        g_ptr_array_add(def->dns_hosts, dns_host_copy(g_ptr_array_index(src->dns_hosts, i)));
    for (guint i = 0; i < src->ips->len; i++) {
        const VrtNetworkIpDef *s = g_ptr_array_index(src->ips, i);
        VrtNetworkIpDef *ip = ip_def_new();
        ip->family = g_strdup(s->family);
        ip->address = g_strdup(s->address);
        ip->netmask = g_strdup(s->netmask);
        ip->prefix = s->prefix;
        ip->local_ptr = s->local_ptr;
        ip->has_dhcp = s->has_dhcp;
        ip->tftp_root = g_strdup(s->tftp_root);
        ip->bootp_file = g_strdup(s->bootp_file);
        ip->bootp_server = g_strdup(s->bootp_server);
        for (guint j = 0; j < s->ranges->len; j++) {
            const VrtNetworkDhcpRange *sr = g_ptr_array_index(s->ranges, j);
            VrtNetworkDhcpRange *r = g_new0(VrtNetworkDhcpRange, 1);
            r->start = g_strdup(sr->start);
            r->end = g_strdup(sr->end);
            r->lease = sr->lease;
            g_ptr_array_add(ip->ranges, r);
        }
        for (guint j = 0; j < s->hosts->len; j++)
            g_ptr_array_add(ip->hosts, vrt_network_dhcp_host_copy(g_ptr_array_index(s->hosts, j)));
        g_ptr_array_add(ips, ip);
    }
    return def;
}

/* ---- parsing ---- */

bool
vrt_network_parse_vlan(xmlNodePtr node, VrtNetworkVlan *vlan, GError **error)
{
    g_autofree char *trunk = vrt_xml_prop(node, "trunk");
    memset(vlan, 0, sizeof(*vlan));
    vlan->present = true;
    if (trunk) {
        if (strcmp(trunk, "yes") != 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid trunk='%s' in <vlan>, only 'yes' is allowed", trunk);
            return false;
        }
        vlan->trunk = true;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!vrt_xml_is(c, "tag")) {
            vrt_xml_unsupported(c, error);
            return false;
        }
        if (vlan->ntags >= VRT_NETWORK_VLAN_MAX_TAGS) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "too many vlan tags (at most %d)", VRT_NETWORK_VLAN_MAX_TAGS);
            return false;
        }
        guint id = 0;
        if (!vrt_xml_prop_uint_required(c, "id", 4095, &id, error))
            return false;
        g_autofree char *native = vrt_xml_prop(c, "nativeMode");
        VrtNetworkVlanNative nm = VRT_NETWORK_VLAN_NATIVE_NONE;
        if (native) {
            if (strcmp(native, "tagged") == 0)
                nm = VRT_NETWORK_VLAN_NATIVE_TAGGED;
            else if (strcmp(native, "untagged") == 0)
                nm = VRT_NETWORK_VLAN_NATIVE_UNTAGGED;
            else {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid nativeMode='%s' in <tag>", native);
                return false;
            }
        }
        vlan->tags[vlan->ntags] = id;
        vlan->native[vlan->ntags] = nm;
        vlan->ntags++;
    }
    if (vlan->ntags == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing <tag> in <vlan>");
        return false;
    }
    if (vlan->ntags > 1 && !vlan->trunk)
        vlan->trunk = true; /* several tags imply a trunk, as in libvirt */
    return true;
}

bool
vrt_network_parse_pci(xmlNodePtr node, VrtPciAddr *addr, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");
    if (type && strcmp(type, "pci") != 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unsupported address type '%s', expecting 'pci'", type);
        return false;
    }
    memset(addr, 0, sizeof(*addr));
    return vrt_xml_prop_pci_addr(node, VRT_XML_PCI_REQUIRED, addr, error);
}

static bool
parse_nat(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    def->has_nat = true;
    if (!vrt_xml_prop_yes_no(node, "ipv6", &def->nat_ipv6, error))
        return false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "address")) {
            g_free(def->nat_addr_start);
            g_free(def->nat_addr_end);
            def->nat_addr_start = vrt_xml_prop(c, "start");
            def->nat_addr_end = vrt_xml_prop(c, "end");
            if (!def->nat_addr_start || !def->nat_addr_end) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "<nat><address> needs both start and end");
                return false;
            }
        } else if (vrt_xml_is(c, "port")) {
            if (!vrt_xml_prop_uint_required(c, "start", NETWORK_PORT_MAX, &def->nat_port_start, error) ||
                !vrt_xml_prop_uint_required(c, "end", NETWORK_PORT_MAX, &def->nat_port_end, error))
                return false;
            if (def->nat_port_start == 0 || def->nat_port_start > def->nat_port_end) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid nat port range %u-%u", def->nat_port_start,
                              def->nat_port_end);
                return false;
            }
        } else {
            vrt_xml_unsupported(c, error);
            return false;
        }
    }
    return true;
}

static bool
parse_mode(const char *mode, VrtNetworkForwardMode *out)
{
    for (guint i = VRT_NETWORK_FORWARD_NAT; i < G_N_ELEMENTS(forward_mode_names); i++) {
        if (strcmp(mode, forward_mode_names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static bool
parse_forward(xmlNodePtr node, VrtNetworkDef *def, guint flags, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    def->has_forward = true;
    def->forward_mode = VRT_NETWORK_FORWARD_NAT;
    if (mode && !parse_mode(mode, &def->forward_mode)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown forwarding type '%s'", mode);
        return false;
    }
    def->forward_dev = vrt_xml_prop(node, "dev");
    if (!vrt_xml_prop_yes_no(node, "managed", &def->forward_managed, error))
        return false;
    guint npf = 0;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "pf")) {
            if (++npf > 1) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "only one <pf> element is allowed in <forward> of network '%s'",
                              def->name ? def->name : "");
                return false;
            }
            def->pf_dev = vrt_xml_prop(c, "dev");
            if (!def->pf_dev || !*def->pf_dev) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "missing dev attribute in <pf>");
                return false;
            }
        } else if (vrt_xml_is(c, "address")) {
            VrtNetworkForwardAddr fa = { 0 };
            if (!vrt_network_parse_pci(c, &fa.addr, error))
                return false;
            /* Kept for round trips; the driver recounts from its ports. */
            if (!vrt_xml_prop_uint(c, "connections", G_MAXUINT, &fa.connections, NULL, error))
                return false;
            for (guint i = 0; i < def->forward_addrs->len; i++) {
                if (vrt_pci_addr_equal(&g_array_index(def->forward_addrs, VrtNetworkForwardAddr, i).addr, &fa.addr)) {
                    g_autofree char *s = vrt_pci_addr_format(&fa.addr);
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI device '%s' can only be listed once in network %s", s,
                                  def->name ? def->name : "");
                    return false;
                }
            }
            if (def->forward_addrs->len >= NETWORK_MAX_POOL) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "too many addresses in <forward> (at most %u)",
                              NETWORK_MAX_POOL);
                return false;
            }
            g_array_append_val(def->forward_addrs, fa);
        } else if (vrt_xml_is(c, "interface")) {
            VrtNetworkForwardIf *fi = g_new0(VrtNetworkForwardIf, 1);
            fi->dev = vrt_xml_prop(c, "dev");
            g_ptr_array_add(def->forward_ifs, fi);
            if (!vrt_xml_prop_uint(c, "connections", G_MAXUINT, &fi->connections, NULL, error))
                return false;
            if (!fi->dev || !*fi->dev) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "missing dev attribute in <forward><interface>");
                return false;
            }
        } else if (vrt_xml_is(c, "driver")) {
            g_free(def->forward_driver);
            def->forward_driver = vrt_xml_prop(c, "name");
            if (!def->forward_driver ||
                (strcmp(def->forward_driver, "vfio") != 0 && strcmp(def->forward_driver, "kvm") != 0)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "invalid <driver name='%s'> in <forward>, expecting 'vfio' or 'kvm'",
                              def->forward_driver ? def->forward_driver : "");
                return false;
            }
        } else if (vrt_xml_is(c, "nat")) {
            if (!parse_nat(c, def, error))
                return false;
        } else {
            vrt_xml_unsupported(c, error);
            return false;
        }
    }
    if (def->forward_addrs->len > 0 && def->forward_ifs->len > 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "<forward> of network '%s' cannot list both <interface> and <address>",
                      def->name ? def->name : "");
        return false;
    }
    if (def->forward_mode == VRT_NETWORK_FORWARD_HOSTDEV) {
        if (def->forward_ifs->len > 0) {
            vrt_error_set(
                error, VIR_ERR_XML_ERROR,
                "network '%s' with forward mode 'hostdev' takes <pf> or PCI <address> elements, not <interface>",
                def->name ? def->name : "");
            return false;
        }
        if (def->pf_dev && def->forward_addrs->len > 0 && !(flags & VRT_NETWORK_PARSE_STATUS)) {
            vrt_error_set(
                error, VIR_ERR_XML_ERROR,
                "network '%s' with forward mode 'hostdev' takes either <pf> or a list of PCI <address>, not both",
                def->name ? def->name : "");
            return false;
        }
    } else if (def->forward_addrs->len > 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI <address> in <forward> needs forward mode 'hostdev', not '%s'",
                      vrt_network_forward_mode_to_string(def->forward_mode));
        return false;
    }
    if (def->has_nat && def->forward_mode != VRT_NETWORK_FORWARD_NAT) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "<nat> needs forward mode 'nat', not '%s'",
                      vrt_network_forward_mode_to_string(def->forward_mode));
        return false;
    }
    return true;
}

/* <host ip=> of <dns> with its <hostname> children. */
static VrtNetworkDnsHost *
parse_dns_host(xmlNodePtr node, GError **error)
{
    g_autoptr(VrtNetworkDnsHost) h = g_new0(VrtNetworkDnsHost, 1);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    h->ip = vrt_xml_prop(node, "ip");
    if (!h->ip || !g_hostname_is_ip_address(h->ip)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid IP address in network's DNS HOST record");
        return NULL;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!vrt_xml_is(c, "hostname")) {
            vrt_xml_unsupported(c, error);
            return NULL;
        }
        g_autofree char *name = g_strstrip(vrt_xml_text(c));
        if (*name)
            g_ptr_array_add(names, g_steal_pointer(&name));
    }
    if (names->len == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing ip and hostname in network's DNS HOST record");
        return NULL;
    }
    g_ptr_array_add(names, NULL);
    h->hostnames = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    return g_steal_pointer(&h);
}

static bool
parse_dns(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    def->has_dns = true;
    if (!vrt_network_parse_dns_attrs(node, def, error))
        return false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!vrt_xml_is(c, "host")) {
            if (!vrt_network_parse_dns_child(c, def, error))
                return false;
            continue;
        }
        VrtNetworkDnsHost *h = parse_dns_host(c, error);
        if (!h)
            return false;
        g_ptr_array_add(def->dns_hosts, h);
    }
    return vrt_network_check_dns(def, error);
}

VrtNetworkDnsHost *
vrt_network_dns_host_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(network_definition)", "host", &vrt_network_xml_wording, error);
    if (!doc)
        return NULL;
    VrtNetworkDnsHost *h = parse_dns_host(xmlDocGetRootElement(doc), error);
    xmlFreeDoc(doc);
    return h;
}

/* <host mac= name= ip=/> of a <dhcp>: an address, and a MAC or a name. */
static VrtNetworkDhcpHost *
parse_dhcp_host(xmlNodePtr node, const char *net_name, GError **error)
{
    g_autoptr(VrtNetworkDhcpHost) h = g_new0(VrtNetworkDhcpHost, 1);
    guint8 mac[VRT_MAC_LEN];
    h->mac = vrt_xml_prop(node, "mac");
    h->id = vrt_xml_prop(node, "id");
    h->name = vrt_xml_prop(node, "name");
    h->ip = vrt_xml_prop(node, "ip");
    if (h->mac && (!vrt_mac_parse(h->mac, mac) || (mac[0] & 1))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "Invalid to specify MAC address '%s' in network '%s' IPv4 static host definition", h->mac,
                      net_name ? net_name : "");
        return NULL;
    }
    if (h->mac) {
        /* as written, lower case: what dnsmasq and a MAC match compare */
        char text[VRT_MAC_STRING_LEN];
        vrt_mac_format(mac, text);
        g_free(h->mac);
        h->mac = g_strdup(text);
    }
    if (!h->ip || !g_hostname_is_ip_address(h->ip) || (!h->mac && !h->name && !h->id)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "static host definition in network '%s' needs an ip address and a mac address, id or name "
                      "(line %ld)",
                      net_name ? net_name : "", xmlGetLineNo(node));
        return NULL;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "lease")) {
            vrt_xml_unsupported(c, error);
            return NULL;
        }
        if (!vrt_network_parse_lease(c, &h->lease, error))
            return NULL;
    }
    return g_steal_pointer(&h);
}

static bool
parse_ip(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    VrtNetworkIpDef *ip = ip_def_new();
    g_ptr_array_add(def->ips, ip);
    ip->family = vrt_xml_prop(node, "family");
    ip->address = vrt_xml_prop(node, "address");
    ip->netmask = vrt_xml_prop(node, "netmask");
    if (ip->family && strcmp(ip->family, "ipv4") != 0 && strcmp(ip->family, "ipv6") != 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid ip family '%s'", ip->family);
        return false;
    }
    bool is6 = (ip->family && strcmp(ip->family, "ipv6") == 0) || (ip->address && strchr(ip->address, ':'));
    if (ip->address && !g_hostname_is_ip_address(ip->address)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid ip address '%s' in network '%s'", ip->address,
                      def->name ? def->name : "");
        return false;
    }
    if (ip->netmask && (is6 || !g_hostname_is_ip_address(ip->netmask))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid netmask '%s' in network '%s'", ip->netmask,
                      def->name ? def->name : "");
        return false;
    }
    guint prefix = 0;
    bool has_prefix = false;
    if (!vrt_xml_prop_uint(node, "prefix", is6 ? 128 : 32, &prefix, &has_prefix, error))
        return false;
    if (has_prefix && ip->netmask) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "<ip> of network '%s' has both netmask and prefix",
                      def->name ? def->name : "");
        return false;
    }
    ip->prefix = has_prefix ? (int)prefix : -1;
    if (!vrt_xml_prop_yes_no(node, "localPtr", &ip->local_ptr, error))
        return false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "tftp") && !ip->tftp_root) {
            if (is6) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "Unsupported <tftp> element in an IPv6 element in network '%s'",
                              def->name ? def->name : "");
                return false;
            }
            ip->tftp_root = vrt_xml_prop(c, "root");
            if (!ip->tftp_root) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "missing root attribute in <tftp> of network '%s'",
                              def->name ? def->name : "");
                return false;
            }
            continue;
        }
        if (!vrt_xml_is(c, "dhcp")) {
            vrt_xml_unsupported(c, error);
            return false;
        }
        ip->has_dhcp = true;
        for (xmlNodePtr r = c->children; r; r = r->next) {
            if (r->type != XML_ELEMENT_NODE)
                continue;
            if (vrt_xml_is(r, "bootp") && !is6 && !r->children) {
                /* libvirt keeps the last one with a file */
                g_autofree char *file = vrt_xml_prop(r, "file");
                g_autofree char *server = vrt_xml_prop(r, "server");
                if (!file)
                    continue;
                if (server && !g_hostname_is_ip_address(server)) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid bootp server address '%s' in network '%s'", server,
                                  def->name ? def->name : "");
                    return false;
                }
                g_free(ip->bootp_file);
                g_free(ip->bootp_server);
                ip->bootp_file = g_steal_pointer(&file);
                ip->bootp_server = g_steal_pointer(&server);
                continue;
            }
            if (vrt_xml_is(r, "host")) {
                VrtNetworkDhcpHost *h = parse_dhcp_host(r, def->name, error);
                if (!h)
                    return false;
                g_ptr_array_add(ip->hosts, h);
                continue;
            }
            if (!vrt_xml_is(r, "range")) {
                vrt_xml_unsupported(r, error);
                return false;
            }
            VrtNetworkDhcpRange *range = g_new0(VrtNetworkDhcpRange, 1);
            g_ptr_array_add(ip->ranges, range);
            range->start = vrt_xml_prop(r, "start");
            range->end = vrt_xml_prop(r, "end");
            if (!range->start || !range->end || !g_hostname_is_ip_address(range->start) ||
                !g_hostname_is_ip_address(range->end)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "invalid dhcp <range> in network '%s': needs IP addresses start and end (line %ld)",
                              def->name ? def->name : "", xmlGetLineNo(r));
                return false;
            }
            if (!vrt_network_check_dhcp_range(ip, range->start, range->end, error))
                return false;
            VRT_XML_FOREACH_CHILD(l, r)
            {
                if (!vrt_xml_is(l, "lease"))
                    return vrt_xml_unsupported(l, error);
                if (!vrt_network_parse_lease(l, &range->lease, error))
                    return false;
            }
        }
    }
    return true;
}

static bool
parse_bridge(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    g_autofree char *stp = vrt_xml_prop(node, "stp");
    g_autofree char *delay = vrt_xml_prop(node, "delay");
    def->has_bridge = true;
    g_free(def->bridge_name);
    g_free(def->bridge_zone);
    g_free(def->bridge_mac_table_manager);
    def->bridge_name = vrt_xml_prop(node, "name");
    def->bridge_zone = vrt_xml_prop(node, "zone");
    def->bridge_mac_table_manager = vrt_xml_prop(node, "macTableManager");
    if (def->bridge_mac_table_manager && strcmp(def->bridge_mac_table_manager, "kernel") != 0 &&
        strcmp(def->bridge_mac_table_manager, "libvirt") != 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "invalid macTableManager='%s' in <bridge>, expecting 'kernel' or 'libvirt'",
                      def->bridge_mac_table_manager);
        return false;
    }
    if (stp) {
        if (strcmp(stp, "on") == 0)
            def->bridge_stp = 1;
        else if (strcmp(stp, "off") == 0)
            def->bridge_stp = 0;
        else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid stp='%s' in <bridge>, expecting 'on' or 'off'", stp);
            return false;
        }
    }
    if (delay) {
        char *end = NULL;
        def->bridge_delay = g_ascii_strtoull(delay, &end, 10);
        if (end == delay || *end || delay[0] == '-') {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid delay='%s' in <bridge>", delay);
            return false;
        }
        def->has_bridge_delay = true;
    }
    return true;
}

static bool
check_device_name(const char *what, const char *name, GError **error)
{
    if (!name)
        return true;
    if (!*name || strlen(name) >= 16 || strchr(name, '/') || g_str_has_prefix(name, ".") || strpbrk(name, " \t\n:")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s name '%s'", what, name);
        return false;
    }
    return true;
}

/* A network's name is a file name component: NAME.xml under etc and run,
 * written through a temporary NAME.xml.new.XXXXXX, which must fit in
 * NAME_MAX (255) bytes so that a name define accepts is saved and loaded
 * again; and a directory, run/.../NAME/ports, which rules out "." and ".."
 * (libvirt 9.0 accepts those two). */
#define VRT_NETWORK_NAME_MAX (255 - 15)

static bool
check_network_name(const char *name, GError **error)
{
    const char *bad = strpbrk(name, "/\n");
    if (bad) {
        /* libvirt's code and message (9.0), no prefix. */
        g_autofree char *msg = g_strdup_printf("invalid char in name: %c", *bad);
        vrt_error_set_literal(error, VIR_ERR_XML_DETAIL, msg);
        return false;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network name '%s' is not allowed: it names its port directory", name);
        return false;
    }
    if (strlen(name) > VRT_NETWORK_NAME_MAX) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network name is longer than %d bytes", VRT_NETWORK_NAME_MAX);
        return false;
    }
    return true;
}

static bool
ns_declared_within(xmlNodePtr node, xmlNodePtr top, xmlNsPtr ns)
{
    for (xmlNodePtr p = node; p; p = p->parent) {
        for (xmlNsPtr d = p->nsDef; d; d = d->next)
            if (d == ns || (g_strcmp0((const char *)d->prefix, (const char *)ns->prefix) == 0 &&
                            g_strcmp0((const char *)d->href, (const char *)ns->href) == 0))
                return true;
        if (p == top)
            break;
    }
    return false;
}

static void
declare_outer_ns(xmlNodePtr node, xmlNodePtr top)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns && !ns_declared_within(n, top, n->ns))
            xmlNewNs(top, n->ns->href, n->ns->prefix);
        for (xmlAttrPtr a = n->properties; a; a = a->next)
            if (a->ns && !ns_declared_within(n, top, a->ns))
                xmlNewNs(top, a->ns->href, a->ns->prefix);
        declare_outer_ns(n->children, top);
    }
}

/* Serialises <metadata> on its own; namespaces its content uses but that
 * were declared on <network> are declared on <metadata> so the kept text
 * stands alone. */
static bool
keep_metadata(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    declare_outer_ns(node->children, node);
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) {
        vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot copy <metadata>");
        return false;
    }
    xmlNodeDump(buf, node->doc, node, 1, 0);
    g_free(def->metadata_xml);
    def->metadata_xml = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return true;
}

/* libvirt's checks of <forward> against the rest of the definition:
 * its dev= and interfaces, and the bridge settings and mtu each mode
 * allows. Errors name the line of <forward>. */
static bool
check_forward(xmlNodePtr node, const VrtNetworkDef *def, GError **error)
{
    const char *mode = vrt_network_forward_mode_to_string(def->forward_mode);
    long line = xmlGetLineNo(node);
    guint nifs = def->forward_ifs->len ? def->forward_ifs->len : (def->forward_dev ? 1 : 0);
    if (def->forward_dev && (def->forward_addrs->len || def->pf_dev)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present "
                      "in network %s (line %ld)",
                      def->name, line);
        return false;
    }
    for (guint i = 0; i < def->forward_ifs->len; i++) {
        const VrtNetworkForwardIf *fi = g_ptr_array_index(def->forward_ifs, i);
        /* the first interface is also written as <forward dev=>, which
         * is checked as a device name: every interface is one */
        if (!check_device_name("forward interface", fi->dev, error))
            return false;
        if (i == 0 && def->forward_dev && strcmp(def->forward_dev, fi->dev) != 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "<forward dev='%s'> must match first <interface dev='%s'/> in network %s (line %ld)",
                          def->forward_dev, fi->dev, def->name, line);
            return false;
        }
        for (guint j = 0; j < i; j++) {
            if (strcmp(((const VrtNetworkForwardIf *)g_ptr_array_index(def->forward_ifs, j))->dev, fi->dev) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "interface '%s' can only be listed once in network %s (line %ld)", fi->dev, def->name,
                              line);
                return false;
            }
        }
    }
    switch (def->forward_mode) {
    case VRT_NETWORK_FORWARD_NONE: break;
    case VRT_NETWORK_FORWARD_NAT:
    case VRT_NETWORK_FORWARD_ROUTE:
    case VRT_NETWORK_FORWARD_OPEN:
        if (def->ips->len == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "%s forwarding requested, but no IP address provided for network '%s' (line %ld)", mode,
                          def->name, line);
            return false;
        }
        if (nifs > 1) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "multiple forwarding interfaces specified for network '%s', only one is supported "
                          "(line %ld)",
                          def->name, line);
            return false;
        }
        if (def->forward_mode == VRT_NETWORK_FORWARD_OPEN && nifs) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "forward dev not allowed for network '%s' with forward mode='%s' (line %ld)", def->name, mode,
                          line);
            return false;
        }
        break;
    case VRT_NETWORK_FORWARD_PRIVATE:
    case VRT_NETWORK_FORWARD_VEPA:
    case VRT_NETWORK_FORWARD_PASSTHROUGH:
    case VRT_NETWORK_FORWARD_HOSTDEV:
        if (def->bridge_name || def->bridge_zone || def->bridge_mac_table_manager) {
            const char *what = "macTableManager setting";
            if (def->bridge_name)
                what = "name";
            else if (def->bridge_zone)
                what = "zone";
            vrt_error_set(error, VIR_ERR_XML_ERROR, "bridge %s not allowed in %s mode (network '%s') (line %ld)", what,
                          mode, def->name, line);
            return false;
        }
        G_GNUC_FALLTHROUGH;
    case VRT_NETWORK_FORWARD_BRIDGE:
        if (def->has_bridge_delay || def->bridge_stp >= 0 || def->bridge_zone) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in %s "
                          "(network '%s') (line %ld)",
                          mode, def->name, line);
            return false;
        }
        if (def->bridge_name && (nifs || def->pf_dev)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "A network with forward mode='%s' can specify a bridge name or a forward dev, but not both "
                          "(network '%s') (line %ld)",
                          mode, def->name, line);
            return false;
        }
        if (def->mtu) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "mtu size only allowed in open, route, nat, and isolated mode, not in %s (network '%s') "
                          "(line %ld)",
                          mode, def->name, line);
            return false;
        }
        break;
    }
    return true;
}

static bool
parse_network(xmlNodePtr root, VrtNetworkDef *def, guint flags, xmlNodePtr *where, GError **error)
{
    xmlNodePtr forward = NULL;
    bool has_bandwidth = false;
    if (!vrt_xml_prop_uint(root, "connections", G_MAXUINT, &def->connections, NULL, error) ||
        !vrt_xml_prop_yes_no(root, "ipv6", &def->ipv6, error) ||
        !vrt_xml_prop_yes_no(root, "trustGuestRxFilters", &def->trust_guest_rx_filters, error))
        return false;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        *where = c;
        if (vrt_xml_is(c, "name")) {
            /* Kept as written, spaces included, as libvirt does. */
            if (!def->name) {
                xmlChar *v = xmlNodeGetContent(c);
                def->name = g_strdup(v ? (const char *)v : "");
                xmlFree(v);
            }
        } else if (vrt_xml_is(c, "uuid")) {
            g_autofree char *s = g_strstrip(vrt_xml_text(c));
            if (!vrt_uuid_parse(s, def->uuid)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "malformed uuid element");
                return false;
            }
            def->uuid_given = true;
        } else if (vrt_xml_is(c, "metadata")) {
            /* Applications' own data: kept as written, never interpreted. */
            if (!keep_metadata(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "bridge")) {
            if (!parse_bridge(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "mac")) {
            guint8 mac[6];
            g_free(def->mac);
            def->mac = vrt_xml_prop(c, "address");
            if (!vrt_mac_parse(def->mac, mac) || (mac[0] & 1)) {
                vrt_error_set(error, VIR_ERR_INVALID_MAC, "invalid bridge mac address '%s' in network '%s'",
                              def->mac ? def->mac : "", def->name ? def->name : "");
                return false;
            }
        } else if (vrt_xml_is(c, "mtu")) {
            if (!vrt_xml_prop_uint_required(c, "size", NETWORK_MTU_MAX, &def->mtu, error))
                return false;
        } else if (vrt_xml_is(c, "domain")) {
            g_free(def->domain_name);
            def->domain_name = vrt_xml_prop(c, "name");
            if (!vrt_xml_prop_yes_no(c, "localOnly", &def->domain_local_only, error))
                return false;
            if (!def->domain_name) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "missing name attribute in <domain>");
                return false;
            }
        } else if (vrt_xml_is(c, "forward")) {
            if (forward) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "only one <forward> element is allowed");
                return false;
            }
            forward = c;
        } else if (vrt_xml_is(c, "vlan")) {
            if (!vrt_network_parse_vlan(c, &def->vlan, error))
                return false;
        } else if (vrt_xml_is(c, "ip")) {
            if (!parse_ip(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "dns") && !def->has_dns) {
            if (!parse_dns(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "bandwidth") && !has_bandwidth) {
            has_bandwidth = true;
            if (!vrt_bandwidth_parse(c, false, NULL, &def->bandwidth, error))
                return false;
        } else if (vrt_xml_is(c, "portgroup")) {
            if (!vrt_network_parse_portgroup(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "route")) {
            if (!vrt_network_parse_route(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "virtualport")) {
            if (!def->vport.present && !vrt_network_parse_virtport(c, true, &def->vport, error))
                return false;
        } else if (vrt_xml_is(c, "port")) {
            if (def->port_isolated < 0 && !vrt_xml_prop_yes_no(c, "isolated", &def->port_isolated, error))
                return false;
        } else if (vrt_network_is_dnsmasq_options(c)) {
            if (!vrt_network_parse_dnsmasq_options(c, def, error))
                return false;
        } else {
            vrt_xml_unsupported(c, error);
            return false;
        }
    }
    *where = root;
    if (!def->name || !*def->name) {
        vrt_error_set(error, VIR_ERR_NO_NAME, "missing network name");
        return false;
    }
    if (!check_network_name(def->name, error))
        return false;
    if (!vrt_network_check_routes(def, error))
        return false;
    if (forward)
        *where = forward;
    if (forward && !parse_forward(forward, def, flags, error))
        return false;
    if (forward && !check_forward(forward, def, error))
        return false;
    *where = root;
    if (!check_device_name("bridge", def->bridge_name, error) ||
        !check_device_name("forward device", def->forward_dev, error) ||
        !check_device_name("pf device", def->pf_dev, error))
        return false;
    if (def->has_bridge && def->has_forward && def->forward_mode == VRT_NETWORK_FORWARD_HOSTDEV) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "network '%s' with forward mode 'hostdev' cannot have a <bridge>",
                      def->name);
        return false;
    }
    if (def->has_forward && def->forward_mode == VRT_NETWORK_FORWARD_BRIDGE && !def->bridge_name &&
        def->forward_ifs->len == 0 && !def->forward_dev) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "network '%s' with forward mode 'bridge' needs <bridge name=...> or interfaces", def->name);
        return false;
    }
    if (!(flags & VRT_NETWORK_PARSE_STATUS)) {
        /* Counts belong to a running network; a definition never has them. */
        def->connections = 0;
        for (guint i = 0; i < def->forward_addrs->len; i++)
            g_array_index(def->forward_addrs, VrtNetworkForwardAddr, i).connections = 0;
        for (guint i = 0; i < def->forward_ifs->len; i++)
            ((VrtNetworkForwardIf *)g_ptr_array_index(def->forward_ifs, i))->connections = 0;
    }
    if (!def->uuid_given)
        vrt_uuid_generate(def->uuid);
    return true;
}

VrtNetworkDef *
vrt_network_def_parse(const char *xml, guint flags, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(network_definition)", "network", &vrt_network_xml_wording, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtNetworkDef) def = vrt_network_def_new();
    xmlNodePtr where = xmlDocGetRootElement(doc);
    bool ok = parse_network(where, def, flags, &where, error);
    /* Every refusal says where in the document it is, as domain
     * refusals do: the line of the element being read (for an element
     * nested deeper, its top-level ancestor's) unless the message has it.
     * A name's invalid character keeps libvirt's exact words, as the
     * domain family's does. */
    if (!ok && error && *error && (*error)->code != VIR_ERR_XML_DETAIL && !strstr((*error)->message, "(line ")) {
        char *msg = g_strdup_printf("%s (line %ld)", (*error)->message, xmlGetLineNo(where));
        g_free((*error)->message);
        (*error)->message = msg;
    }
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

VrtNetworkDhcpHost *
vrt_network_dhcp_host_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(network_definition)", "host", &vrt_network_xml_wording, error);
    if (!doc)
        return NULL;
    VrtNetworkDhcpHost *h = parse_dhcp_host(xmlDocGetRootElement(doc), NULL, error);
    xmlFreeDoc(doc);
    return h;
}

VrtNetworkDhcpRange *
vrt_network_dhcp_range_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(network_definition)", "range", &vrt_network_xml_wording, error);
    if (!doc)
        return NULL;
    xmlNodePtr r = xmlDocGetRootElement(doc);
    g_autoptr(VrtNetworkDhcpRange) range = g_new0(VrtNetworkDhcpRange, 1);
    range->start = vrt_xml_prop(r, "start");
    range->end = vrt_xml_prop(r, "end");
    xmlFreeDoc(doc);
    if (!range->start || !range->end || !g_hostname_is_ip_address(range->start) ||
        !g_hostname_is_ip_address(range->end)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "invalid dhcp <range>: needs IP addresses start and end");
        return NULL;
    }
    return g_steal_pointer(&range);
}

/* ---- formatting ---- */

void
vrt_network_format_vlan(GString *out, const VrtNetworkVlan *vlan, const char *indent)
{
    if (!vlan->present)
        return;
    g_string_append_printf(out, "%s<vlan%s>\n", indent, vlan->trunk ? " trunk='yes'" : "");
    for (guint i = 0; i < vlan->ntags; i++) {
        g_string_append_printf(out, "%s  <tag id='%u'", indent, vlan->tags[i]);
        if (vlan->native[i] != VRT_NETWORK_VLAN_NATIVE_NONE)
            g_string_append_printf(out, " nativeMode='%s'",
                                   vlan->native[i] == VRT_NETWORK_VLAN_NATIVE_TAGGED ? "tagged" : "untagged");
        g_string_append(out, "/>\n");
    }
    g_string_append_printf(out, "%s</vlan>\n", indent);
}

/* libvirt's <forward>: dev= is the first interface (none with a <pf>),
 * managed= is written for hostdev mode only (no by default), and a dev=
 * alone is listed as the one <interface>; then driver, nat, pf and the
 * interfaces or PCI addresses. */
static void
format_forward(GString *out, const VrtNetworkDef *def)
{
    const char *dev = NULL;
    bool dev_as_if = !def->pf_dev && def->forward_dev && def->forward_ifs->len == 0;
    if (!def->pf_dev)
        dev = def->forward_ifs->len ? ((const VrtNetworkForwardIf *)g_ptr_array_index(def->forward_ifs, 0))->dev
                                    : def->forward_dev;
    bool nat_body = def->nat_addr_start || def->nat_port_start || def->nat_ipv6 == 1;
    bool children =
        dev_as_if || def->forward_ifs->len || def->pf_dev || def->forward_addrs->len || nat_body || def->forward_driver;
    g_string_append(out, "  <forward");
    vrt_xml_format_attr(out, "dev", dev);
    vrt_xml_format_attr(out, "mode", vrt_network_forward_mode_to_string(def->forward_mode));
    if (def->forward_mode == VRT_NETWORK_FORWARD_HOSTDEV)
        vrt_xml_format_attr(out, "managed", def->forward_managed == 1 ? "yes" : "no");
    if (!children) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    if (def->forward_driver) {
        g_string_append(out, "    <driver");
        vrt_xml_format_attr(out, "name", def->forward_driver);
        g_string_append(out, "/>\n");
    }
    if (def->forward_mode == VRT_NETWORK_FORWARD_NAT && nat_body) {
        g_string_append(out, "    <nat");
        if (def->nat_ipv6 == 1)
            g_string_append(out, " ipv6='yes'");
        if (!def->nat_addr_start && !def->nat_port_start) {
            g_string_append(out, "/>\n");
        } else {
            g_string_append(out, ">\n");
            if (def->nat_addr_start) {
                g_string_append(out, "      <address");
                vrt_xml_format_attr(out, "start", def->nat_addr_start);
                vrt_xml_format_attr(out, "end", def->nat_addr_end);
                g_string_append(out, "/>\n");
            }
            if (def->nat_port_start)
                g_string_append_printf(out, "      <port start='%u' end='%u'/>\n", def->nat_port_start,
                                       def->nat_port_end);
            g_string_append(out, "    </nat>\n");
        }
    }
    if (def->pf_dev) {
        g_string_append(out, "    <pf");
        vrt_xml_format_attr(out, "dev", def->pf_dev);
        g_string_append(out, "/>\n");
    }
    if (dev_as_if) {
        g_string_append(out, "    <interface");
        vrt_xml_format_attr(out, "dev", def->forward_dev);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < def->forward_ifs->len; i++) {
        const VrtNetworkForwardIf *fi = g_ptr_array_index(def->forward_ifs, i);
        g_string_append(out, "    <interface");
        vrt_xml_format_attr(out, "dev", fi->dev);
        if (fi->connections)
            g_string_append_printf(out, " connections='%u'", fi->connections);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < def->forward_addrs->len; i++) {
        const VrtNetworkForwardAddr *fa = &g_array_index(def->forward_addrs, VrtNetworkForwardAddr, i);
        g_string_append(out, "    <address type='pci'");
        vrt_pci_addr_format_attrs(out, &fa->addr);
        if (fa->connections)
            g_string_append_printf(out, " connections='%u'", fa->connections);
        g_string_append(out, "/>\n");
    }
    g_string_append(out, "  </forward>\n");
}

/* libvirt's <ip>: always an open element; <dhcp> only when it has ranges
 * or hosts (an empty one is dropped, its <bootp> with it). */
static void
format_ip(GString *out, const VrtNetworkIpDef *ip)
{
    g_string_append(out, "  <ip");
    vrt_xml_format_attr(out, "family", ip->family);
    vrt_xml_format_attr(out, "address", ip->address);
    vrt_xml_format_attr(out, "netmask", ip->netmask);
    if (ip->prefix > 0)
        g_string_append_printf(out, " prefix='%d'", ip->prefix);
    if (ip->local_ptr >= 0)
        vrt_xml_format_attr(out, "localPtr", ip->local_ptr ? "yes" : "no");
    g_string_append(out, ">\n");
    if (ip->tftp_root) {
        g_string_append(out, "    <tftp");
        vrt_xml_format_attr(out, "root", ip->tftp_root);
        g_string_append(out, "/>\n");
    }
    if (ip->ranges->len || ip->hosts->len) {
        g_string_append(out, "    <dhcp>\n");
        for (guint i = 0; i < ip->ranges->len; i++) {
            const VrtNetworkDhcpRange *r = g_ptr_array_index(ip->ranges, i);
            g_string_append(out, "      <range");
            vrt_xml_format_attr(out, "start", r->start);
            vrt_xml_format_attr(out, "end", r->end);
            if (!r->lease.present) {
                g_string_append(out, "/>\n");
                continue;
            }
            g_string_append(out, ">\n");
            vrt_network_format_lease(out, &r->lease, "        ");
            g_string_append(out, "      </range>\n");
        }
        for (guint i = 0; i < ip->hosts->len; i++) {
            const VrtNetworkDhcpHost *h = g_ptr_array_index(ip->hosts, i);
            g_string_append(out, "      <host");
            vrt_xml_format_attr(out, "mac", h->mac);
            vrt_xml_format_attr(out, "id", h->id);
            vrt_xml_format_attr(out, "name", h->name);
            vrt_xml_format_attr(out, "ip", h->ip);
            if (!h->lease.present) {
                g_string_append(out, "/>\n");
                continue;
            }
            g_string_append(out, ">\n");
            vrt_network_format_lease(out, &h->lease, "        ");
            g_string_append(out, "      </host>\n");
        }
        if (ip->bootp_file) {
            g_string_append(out, "      <bootp");
            vrt_xml_format_attr(out, "file", ip->bootp_file);
            vrt_xml_format_attr(out, "server", ip->bootp_server);
            g_string_append(out, "/>\n");
        }
        g_string_append(out, "    </dhcp>\n");
    }
    g_string_append(out, "  </ip>\n");
}

char *
vrt_network_def_format(const VrtNetworkDef *def)
{
    GString *out = g_string_new("<network");
    char uuid[VRT_UUID_STRING_LEN];
    if (def->dnsmasq_options && def->dnsmasq_options[0])
        g_string_append(out, " xmlns:dnsmasq='" VRT_NETWORK_DNSMASQ_NS "'");
    if (def->connections)
        g_string_append_printf(out, " connections='%u'", def->connections);
    if (def->ipv6 == 1)
        g_string_append(out, " ipv6='yes'");
    if (def->trust_guest_rx_filters >= 0)
        vrt_xml_format_attr(out, "trustGuestRxFilters", def->trust_guest_rx_filters ? "yes" : "no");
    g_string_append(out, ">\n");
    g_autofree char *name = vrt_xml_escape(def->name ? def->name : "");
    g_string_append_printf(out, "  <name>%s</name>\n", name);
    vrt_uuid_format(def->uuid, uuid);
    g_string_append_printf(out, "  <uuid>%s</uuid>\n", uuid);
    if (def->metadata_xml)
        g_string_append_printf(out, "  %s\n", def->metadata_xml);
    if (def->has_forward)
        format_forward(out, def);
    /* libvirt writes a <bridge> with its stp (on unless off) and delay
     * for the modes that make one, and only a named one otherwise */
    VrtNetworkForwardMode mode = def->has_forward ? def->forward_mode : VRT_NETWORK_FORWARD_NONE;
    bool makes_bridge = mode == VRT_NETWORK_FORWARD_NONE || mode == VRT_NETWORK_FORWARD_NAT ||
                        mode == VRT_NETWORK_FORWARD_ROUTE || mode == VRT_NETWORK_FORWARD_OPEN;
    if (makes_bridge || def->bridge_name || def->bridge_mac_table_manager) {
        g_string_append(out, "  <bridge");
        vrt_xml_format_attr(out, "name", def->bridge_name);
        vrt_xml_format_attr(out, "zone", def->bridge_zone);
        if (makes_bridge)
            g_string_append_printf(out, " stp='%s' delay='%" G_GUINT64_FORMAT "'", def->bridge_stp == 0 ? "off" : "on",
                                   def->has_bridge_delay ? def->bridge_delay : 0);
        vrt_xml_format_attr(out, "macTableManager", def->bridge_mac_table_manager);
        g_string_append(out, "/>\n");
    }
    if (def->mtu)
        g_string_append_printf(out, "  <mtu size='%u'/>\n", def->mtu);
    if (def->mac) {
        guint8 mac[VRT_MAC_LEN];
        char text[VRT_MAC_STRING_LEN];
        g_string_append(out, "  <mac");
        /* lower case, as libvirt writes a MAC */
        if (vrt_mac_parse(def->mac, mac))
            vrt_mac_format(mac, text);
        else
            g_strlcpy(text, def->mac, sizeof(text));
        vrt_xml_format_attr(out, "address", text);
        g_string_append(out, "/>\n");
    }
    if (def->domain_name) {
        g_string_append(out, "  <domain");
        vrt_xml_format_attr(out, "name", def->domain_name);
        if (def->domain_local_only >= 0)
            vrt_xml_format_attr(out, "localOnly", def->domain_local_only ? "yes" : "no");
        g_string_append(out, "/>\n");
    }
    vrt_network_format_dns(out, def);
    vrt_network_format_vlan(out, &def->vlan, "  ");
    vrt_bandwidth_format(out, &def->bandwidth, 2);
    if (def->port_isolated >= 0)
        g_string_append_printf(out, "  <port isolated='%s'/>\n", def->port_isolated ? "yes" : "no");
    for (guint i = 0; i < def->ips->len; i++)
        format_ip(out, g_ptr_array_index(def->ips, i));
    vrt_network_format_routes(out, def);
    vrt_network_format_virtport(out, &def->vport, "  ");
    vrt_network_format_portgroups(out, def);
    vrt_network_format_dnsmasq_options(out, def);
    g_string_append(out, "</network>\n");
    return g_string_free(out, FALSE);
}

/*
 * The parts of <network> beyond its bridge, addresses and dns that
 * libvirt's schema has and its corpus uses: <virtualport> (of the network
 * and of a portgroup, for switches such as Open vSwitch or an 802.1Qbh
 * controller), static <route>s through a guest, <port isolated=>, the
 * <lease> of a dhcp range or host, and dnsmasq's own options in the
 * dnsmasq XML namespace. Parsed with libvirt's checks and written back in
 * libvirt's order and shape; what the network driver does with each (or
 * refuses at start) is the driver's.
 */
#include "conf/network/network_conf.h"
#include "conf/network/network_priv.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <string.h>

static void
route_free(gpointer p)
{
    VrtNetworkRoute *r = p;
    if (!r)
        return;
    g_free(r->family);
    g_free(r->address);
    g_free(r->netmask);
    g_free(r->gateway);
    g_free(r);
}

void
vrt_network_def_opts_init(VrtNetworkDef *def)
{
    def->port_isolated = -1;
    def->routes = g_ptr_array_new_with_free_func(route_free);
}

void
vrt_network_virtport_clear(VrtNetworkVirtPort *vp)
{
    g_free(vp->type);
    g_free(vp->managerid);
    g_free(vp->typeid);
    g_free(vp->typeidversion);
    g_free(vp->instanceid);
    g_free(vp->interfaceid);
    g_free(vp->profileid);
    memset(vp, 0, sizeof(*vp));
}

void
vrt_network_virtport_copy(VrtNetworkVirtPort *dst, const VrtNetworkVirtPort *src)
{
    dst->present = src->present;
    dst->type = g_strdup(src->type);
    dst->managerid = g_strdup(src->managerid);
    dst->typeid = g_strdup(src->typeid);
    dst->typeidversion = g_strdup(src->typeidversion);
    dst->instanceid = g_strdup(src->instanceid);
    dst->interfaceid = g_strdup(src->interfaceid);
    dst->profileid = g_strdup(src->profileid);
}

void
vrt_network_def_opts_free(VrtNetworkDef *def)
{
    g_ptr_array_unref(def->routes);
    vrt_network_virtport_clear(&def->vport);
    g_strfreev(def->dnsmasq_options);
}

void
vrt_network_def_opts_copy(VrtNetworkDef *def, const VrtNetworkDef *src)
{
    def->routes = g_ptr_array_new_with_free_func(route_free);
    for (guint i = 0; i < src->routes->len; i++) {
        const VrtNetworkRoute *s = g_ptr_array_index(src->routes, i);
        VrtNetworkRoute *r = g_memdup2(s, sizeof(*s));
        r->family = g_strdup(s->family);
        r->address = g_strdup(s->address);
        r->netmask = g_strdup(s->netmask);
        r->gateway = g_strdup(s->gateway);
        g_ptr_array_add(def->routes, r);
    }
    memset(&def->vport, 0, sizeof(def->vport));
    vrt_network_virtport_copy(&def->vport, &src->vport);
    def->dnsmasq_options = g_strdupv(src->dnsmasq_options);
}

/* ---- <virtualport> ---- */

static const char *const vport_types[] = { "802.1Qbg", "802.1Qbh", "openvswitch", "midonet", NULL };

/* A number attribute of <parameters> up to max, kept as its decimal. */
static bool
vport_number(xmlNodePtr node, const char *name, guint max, char **out, GError **error)
{
    guint v = 0;
    bool present = false;
    if (!vrt_xml_prop_uint(node, name, max, &v, &present, error))
        return false;
    if (present)
        *out = g_strdup_printf("%u", v);
    return true;
}

static bool
vport_uuid(xmlNodePtr node, const char *name, char **out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    guchar uuid[16];
    char text[VRT_UUID_STRING_LEN];
    if (!s)
        return true;
    if (!vrt_uuid_parse(s, uuid)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "cannot parse virtualport %s '%s' (line %ld)", name, s,
                      xmlGetLineNo(node));
        return false;
    }
    vrt_uuid_format(uuid, text);
    *out = g_strdup(text);
    return true;
}

bool
vrt_network_parse_virtport(xmlNodePtr node, bool require_type, VrtNetworkVirtPort *vp, GError **error)
{
    vrt_network_virtport_clear(vp);
    vp->present = true;
    vp->type = vrt_xml_prop(node, "type");
    if (vp->type && vrt_enum_from_string(vport_types, vp->type) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown virtualport type %s (line %ld)", vp->type, xmlGetLineNo(node));
        return false;
    }
    if (!vp->type && require_type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing required virtualport type (line %ld)", xmlGetLineNo(node));
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "parameters"))
            return vrt_xml_unsupported(c, error);
        if (!vport_number(c, "managerid", 255, &vp->managerid, error) ||
            !vport_number(c, "typeid", 0xffffff, &vp->typeid, error) ||
            !vport_number(c, "typeidversion", 255, &vp->typeidversion, error) ||
            !vport_uuid(c, "instanceid", &vp->instanceid, error) ||
            !vport_uuid(c, "interfaceid", &vp->interfaceid, error))
            return false;
        g_free(vp->profileid);
        vp->profileid = vrt_xml_prop(c, "profileid");
        if (vp->profileid && strlen(vp->profileid) >= 40) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "profileid parameter too long (line %ld)", xmlGetLineNo(c));
            return false;
        }
    }
    return true;
}

void
vrt_network_format_virtport(GString *out, const VrtNetworkVirtPort *vp, const char *indent)
{
    if (!vp->present)
        return;
    const char *t = vp->type;
    bool qbg = !t || g_str_equal(t, "802.1Qbg");
    bool ifid = !t || g_str_equal(t, "midonet") || g_str_equal(t, "openvswitch");
    bool prof = !t || g_str_equal(t, "openvswitch") || g_str_equal(t, "802.1Qbh");
    bool none = !(vp->managerid || vp->typeid || vp->typeidversion || vp->instanceid || vp->interfaceid ||
                  (vp->profileid && *vp->profileid));
    /* libvirt writes the parameters the type takes, and nothing for a
     * typeless one without parameters */
    if (none) {
        if (t)
            g_string_append_printf(out, "%s<virtualport type='%s'/>\n", indent, t);
        return;
    }
    g_string_append_printf(out, "%s<virtualport", indent);
    vrt_xml_format_attr(out, "type", t);
    g_string_append_printf(out, ">\n%s  <parameters", indent);
    if (qbg) {
        vrt_xml_format_attr(out, "managerid", vp->managerid);
        vrt_xml_format_attr(out, "typeid", vp->typeid);
        vrt_xml_format_attr(out, "typeidversion", vp->typeidversion);
        vrt_xml_format_attr(out, "instanceid", vp->instanceid);
    }
    if (ifid)
        vrt_xml_format_attr(out, "interfaceid", vp->interfaceid);
    if (prof && vp->profileid && *vp->profileid)
        vrt_xml_format_attr(out, "profileid", vp->profileid);
    g_string_append_printf(out, "/>\n%s</virtualport>\n", indent);
}

/* ---- <route> ---- */

bool
vrt_network_parse_route(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    g_autoptr(GPtrArray) hold = g_ptr_array_new_with_free_func(route_free);
    VrtNetworkRoute *r = g_new0(VrtNetworkRoute, 1);
    g_ptr_array_add(hold, r);
    const char *net = def->name ? def->name : "";
    long line = xmlGetLineNo(node);
    r->prefix = -1;
    r->family = vrt_xml_prop(node, "family");
    r->address = vrt_xml_prop(node, "address");
    r->netmask = vrt_xml_prop(node, "netmask");
    r->gateway = vrt_xml_prop(node, "gateway");
    guint prefix = 0;
    bool has_prefix = false;
    bool is6 = (r->family && g_str_equal(r->family, "ipv6")) || (r->address && strchr(r->address, ':'));
    if (r->family && !g_str_equal(r->family, "ipv4") && !g_str_equal(r->family, "ipv6")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid route family '%s' in network '%s' (line %ld)", r->family, net,
                      line);
        return false;
    }
    if (!r->address || !g_hostname_is_ip_address(r->address) || !r->gateway || !g_hostname_is_ip_address(r->gateway)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "static route definition of network '%s' needs valid address and gateway (line %ld)", net, line);
        return false;
    }
    if ((strchr(r->gateway, ':') != NULL) != is6 || (strchr(r->address, ':') != NULL) != is6) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "static route of network '%s' mixes IPv4 and IPv6 addresses (line %ld)",
                      net, line);
        return false;
    }
    if (r->netmask && (is6 || !g_hostname_is_ip_address(r->netmask))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid netmask '%s' in static route of network '%s' (line %ld)",
                      r->netmask, net, line);
        return false;
    }
    if (!vrt_xml_prop_uint(node, "prefix", is6 ? 128 : 32, &prefix, &has_prefix, error) ||
        !vrt_xml_prop_uint(node, "metric", G_MAXUINT, &r->metric, NULL, error))
        return false;
    if (has_prefix && r->netmask) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "static route of network '%s' has both netmask and prefix (line %ld)",
                      net, line);
        return false;
    }
    r->prefix = has_prefix ? (int)prefix : -1;
    g_ptr_array_add(def->routes, g_ptr_array_steal_index(hold, 0));
    return true;
}

/* An address as 16 bytes (IPv4 in the first 4); its bit length, 0 when
 * it is not an address. */
static guint
addr_bytes(const char *text, guint8 out[16])
{
    memset(out, 0, 16);
    if (text && inet_pton(AF_INET, text, out) == 1)
        return 32;
    if (text && inet_pton(AF_INET6, text, out) == 1)
        return 128;
    return 0;
}

/* The prefix of an <ip>: prefix=, else netmask=, else IPv4's class (as
 * libvirt takes it); -1 when there is none. */
static int
ip_prefix(const VrtNetworkIpDef *ip, guint bits)
{
    guint8 b[16];
    if (ip->prefix >= 0)
        return ip->prefix;
    if (ip->netmask && addr_bytes(ip->netmask, b) == 32) {
        int n = 0;
        for (guint i = 0; i < 32 && (b[i / 8] & (0x80 >> (i % 8))); i++)
            n++;
        return n;
    }
    if (bits == 32 && addr_bytes(ip->address, b) == 32)
        return b[0] < 128 ? 8 : b[0] < 192 ? 16 : b[0] < 224 ? 24 : -1;
    return bits == 128 ? 64 : -1;
}

static bool
same_subnet(const guint8 a[16], const guint8 b[16], int prefix)
{
    for (int i = 0; i < prefix; i++)
        if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
            return false;
    return true;
}

/* An address as inet_ntop writes it (bits: 32 or 128). */
static void
addr_text(const guint8 b[16], guint bits, char out[INET6_ADDRSTRLEN])
{
    inet_ntop(bits == 32 ? AF_INET : AF_INET6, b, out, INET6_ADDRSTRLEN);
}

bool
vrt_network_check_dhcp_range(const VrtNetworkIpDef *ip, const char *start, const char *end, GError **error)
{
    guint8 s[16], e[16], n[16];
    char st[INET6_ADDRSTRLEN], et[INET6_ADDRSTRLEN], nt[INET6_ADDRSTRLEN];
    guint bits = addr_bytes(start, s);
    guint ebits = addr_bytes(end, e);
    guint nbits = addr_bytes(ip->address, n);

    if (!bits || !ebits)
        return true; /* the parser refuses what is not an address */
    addr_text(s, bits, st);
    addr_text(e, ebits, et);
    if (ebits != bits) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "mismatch of address family in range %s - %s", st, et);
        return false;
    }
    if (!nbits)
        return true;
    addr_text(n, nbits, nt);
    if (nbits != bits) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "mismatch of address family in range %s - %s for network %s", st,
                      et, nt);
        return false;
    }
    int prefix = ip_prefix(ip, bits);
    if (prefix < 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "bad prefix %d for network %s when  checking range %s - %s",
                      prefix, nt, st, et);
        return false;
    }
    if (!same_subnet(s, n, prefix) || !same_subnet(e, n, prefix)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "range %s - %s is not entirely within network %s/%d", st, et, nt,
                      prefix);
        return false;
    }
    if (bits == 32) {
        guint32 mask = prefix ? G_MAXUINT32 << (32 - prefix) : 0;
        guint32 net = ((guint32)n[0] << 24 | (guint32)n[1] << 16 | (guint32)n[2] << 8 | n[3]);
        guint32 sv = ((guint32)s[0] << 24 | (guint32)s[1] << 16 | (guint32)s[2] << 8 | s[3]);
        guint32 ev = ((guint32)e[0] << 24 | (guint32)e[1] << 16 | (guint32)e[2] << 8 | e[3]);
        if (sv == (net & mask)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                          "start of range %s - %s in network %s/%d is the network address", st, et, nt, prefix);
            return false;
        }
        if (ev == (net | ~mask)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                          "end of range %s - %s in network %s/%d is the broadcast address", st, et, nt, prefix);
            return false;
        }
        /* libvirt's limit: all but the last two bytes the same */
        if (s[0] != e[0] || s[1] != e[1]) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "range %s - %s is too large (> 65535)", st, et);
            return false;
        }
        if ((e[2] - s[2]) * 256 + (e[3] - s[3]) < 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "range %s - %s is reversed ", st, et);
            return false;
        }
        return true;
    }
    /* IPv6: all but the last 16 bits the same */
    if (memcmp(s, e, 14) != 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "range %s - %s is too large (> 65535)", st, et);
        return false;
    }
    if ((e[14] << 8 | e[15]) < (s[14] << 8 | s[15])) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "range %s - %s start larger than end", st, et);
        return false;
    }
    return true;
}

bool
vrt_network_check_routes(const VrtNetworkDef *def, GError **error)
{
    for (guint i = 0; i < def->routes->len; i++) {
        const VrtNetworkRoute *r = g_ptr_array_index(def->routes, i);
        guint8 gw[16], a[16];
        guint bits = addr_bytes(r->gateway, gw);
        bool reachable = false;
        for (guint j = 0; j < def->ips->len && !reachable; j++) {
            const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, j);
            int prefix = ip_prefix(ip, bits);
            reachable = addr_bytes(ip->address, a) == bits && prefix >= 0 && same_subnet(a, gw, prefix);
        }
        if (!reachable) {
            /* libvirt's code and words */
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "unreachable static route gateway '%s' specified for network '%s'", r->gateway,
                          def->name ? def->name : "");
            return false;
        }
    }
    return true;
}

void
vrt_network_format_routes(GString *out, const VrtNetworkDef *def)
{
    for (guint i = 0; i < def->routes->len; i++) {
        const VrtNetworkRoute *r = g_ptr_array_index(def->routes, i);
        g_string_append(out, "  <route");
        vrt_xml_format_attr(out, "family", r->family);
        vrt_xml_format_attr(out, "address", r->address);
        vrt_xml_format_attr(out, "netmask", r->netmask);
        if (r->prefix >= 0)
            g_string_append_printf(out, " prefix='%d'", r->prefix);
        vrt_xml_format_attr(out, "gateway", r->gateway);
        if (r->metric)
            g_string_append_printf(out, " metric='%u'", r->metric);
        g_string_append(out, "/>\n");
    }
}

/* ---- <lease> ---- */

static const char *const lease_units[] = { "seconds", "minutes", "hours", NULL };

guint64
vrt_network_lease_seconds(const VrtNetworkLease *lease)
{
    static const guint64 mult[] = { 1, 60, 3600 };
    return lease->expiry * mult[lease->unit];
}

bool
vrt_network_parse_lease(xmlNodePtr node, VrtNetworkLease *lease, GError **error)
{
    g_autofree char *expiry = vrt_xml_prop(node, "expiry");
    g_autofree char *unit = vrt_xml_prop(node, "unit");
    char *end = NULL;
    memset(lease, 0, sizeof(*lease));
    if (!expiry)
        return true;
    guint64 v = g_ascii_strtoull(expiry, &end, 10);
    if (!*expiry || *end || expiry[0] == '-' || v > G_MAXUINT32) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid lease expiry '%s' (line %ld)", expiry, xmlGetLineNo(node));
        return false;
    }
    int u = VRT_NETWORK_LEASE_MINUTES;
    if (unit && (u = vrt_enum_from_string(lease_units, unit)) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid lease unit '%s' (line %ld)", unit, xmlGetLineNo(node));
        return false;
    }
    if (v > 0 && ((u == VRT_NETWORK_LEASE_SECONDS && v < 120) || (u == VRT_NETWORK_LEASE_MINUTES && v < 2))) {
        /* libvirt's words: dnsmasq's shortest lease is two minutes */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "The minimum lease time should be greater than 2 minutes (line %ld)", xmlGetLineNo(node));
        return false;
    }
    lease->present = true;
    lease->expiry = v;
    lease->unit = (VrtNetworkLeaseUnit)u;
    return true;
}

void
vrt_network_format_lease(GString *out, const VrtNetworkLease *lease, const char *indent)
{
    if (lease->expiry == 0)
        g_string_append_printf(out, "%s<lease expiry='0'/>\n", indent);
    else
        g_string_append_printf(out, "%s<lease expiry='%" G_GUINT64_FORMAT "' unit='%s'/>\n", indent, lease->expiry,
                               lease_units[lease->unit]);
}

/* ---- <dnsmasq:options> ---- */

bool
vrt_network_is_dnsmasq_options(xmlNodePtr node)
{
    return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           g_str_equal((const char *)node->ns->href, VRT_NETWORK_DNSMASQ_NS) &&
           g_str_equal((const char *)node->name, "options");
}

bool
vrt_network_parse_dnsmasq_options(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; def->dnsmasq_options && def->dnsmasq_options[i]; i++)
        g_ptr_array_add(opts, g_strdup(def->dnsmasq_options[i]));
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!c->ns || !g_str_equal((const char *)c->ns->href, VRT_NETWORK_DNSMASQ_NS) ||
            !g_str_equal((const char *)c->name, "option"))
            return vrt_xml_unsupported(c, error);
        char *v = vrt_xml_prop(c, "value");
        if (!v) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "No dnsmasq options value specified (line %ld)", xmlGetLineNo(c));
            return false;
        }
        if (strchr(v, '\n')) {
            g_free(v);
            vrt_error_set(error, VIR_ERR_XML_ERROR, "a dnsmasq option cannot span lines (line %ld)", xmlGetLineNo(c));
            return false;
        }
        g_ptr_array_add(opts, v);
    }
    g_ptr_array_add(opts, NULL);
    g_strfreev(def->dnsmasq_options);
    def->dnsmasq_options = (GStrv)g_ptr_array_free(g_steal_pointer(&opts), FALSE);
    return true;
}

void
vrt_network_format_dnsmasq_options(GString *out, const VrtNetworkDef *def)
{
    if (!def->dnsmasq_options || !def->dnsmasq_options[0])
        return;
    g_string_append(out, "  <dnsmasq:options>\n");
    for (guint i = 0; def->dnsmasq_options[i]; i++) {
        g_string_append(out, "    <dnsmasq:option");
        vrt_xml_format_attr(out, "value", def->dnsmasq_options[i]);
        g_string_append(out, "/>\n");
    }
    g_string_append(out, "  </dnsmasq:options>\n");
}

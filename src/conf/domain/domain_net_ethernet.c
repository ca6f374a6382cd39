/*
 * The host side of an interface, as libvirt reads and writes it: the
 * <script path=> run on its tap, <target managed='no'> (a tap the user
 * made and vrt only opens), the host-side <ip>s and <route>s inside an
 * ethernet interface's <source>, and <backend tap= vhost=> (the
 * character devices opened for the tap and vhost-net). What vrt cannot
 * carry out at start (a script, host addresses and routes, other backend
 * paths) is named by vrt_net_host_side_check, so a start refuses it rather
 * than dropping it.
 */
#include "conf/domain/domain_net_ethernet.h"

#include "util/xml.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define IPV4_PREFIX_MAX 32
#define IPV6_PREFIX_MAX 128

void
vrt_net_host_side_clear(VrtNetHostSide *h)
{
    g_clear_pointer(&h->script, g_free);
    g_clear_pointer(&h->ips, g_ptr_array_unref);
    g_clear_pointer(&h->routes, g_ptr_array_unref);
    g_clear_pointer(&h->backend_tap, g_free);
    g_clear_pointer(&h->backend_vhost, g_free);
}

/* The address families, as libvirt's family= names them. */
typedef enum {
    FAM_ANY = 0,
    FAM_V4,
    FAM_V6,
} Family;

/* An address as libvirt prints it (inet_ntop's canonical text), of the
 * family asked (FAM_ANY: either); NULL when it is not one. */
static char *
canon_addr(const char *s, Family want)
{
    unsigned char bin[sizeof(struct in6_addr)];
    char out[INET6_ADDRSTRLEN];

    if (!s)
        return NULL;
    if (want != FAM_V6 && inet_pton(AF_INET, s, bin) == 1)
        return g_strdup(inet_ntop(AF_INET, bin, out, sizeof(out)));
    if (want != FAM_V4 && inet_pton(AF_INET6, s, bin) == 1)
        return g_strdup(inet_ntop(AF_INET6, bin, out, sizeof(out)));
    return NULL;
}

static Family
family_of(const char *family, const char *address)
{
    unsigned char bin[sizeof(struct in6_addr)];

    if (g_strcmp0(family, "ipv4") == 0)
        return FAM_V4;
    if (g_strcmp0(family, "ipv6") == 0)
        return FAM_V6;
    if (address && inet_pton(AF_INET, address, bin) == 1)
        return FAM_V4;
    if (address && inet_pton(AF_INET6, address, bin) == 1)
        return FAM_V6;
    return FAM_ANY;
}

static bool
parse_prefix(xmlNodePtr node, Family fam, const char *what, guint *out, bool *present, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, "prefix");
    char *end = NULL;
    guint64 v;

    *present = s != NULL;
    if (!s)
        return true;
    v = g_ascii_strtoull(s, &end, 10);
    if (!*s || *end || (fam == FAM_V6 && v > IPV6_PREFIX_MAX) || (fam != FAM_V6 && v > IPV4_PREFIX_MAX)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid prefix value '%s' in <%s>", s, what);
        return false;
    }
    *out = (guint)v;
    return true;
}

/* <ip address= family= prefix= peer=/>, kept as the line libvirt writes */
static bool
parse_ip(xmlNodePtr node, GPtrArray *out, GError **error)
{
    g_autofree char *address = vrt_xml_prop(node, "address");
    g_autofree char *family = vrt_xml_prop(node, "family");
    g_autofree char *peer = vrt_xml_prop(node, "peer");
    g_autofree char *addr = NULL;
    g_autofree char *peer_canon = NULL;
    Family fam;
    GString *line;
    guint prefix = 0;
    bool has_prefix = false;

    if (!vrt_xml_check_attrs(node, error, "address", "family", "prefix", "peer", NULL))
        return false;
    if (!address) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required address in <ip>");
        return false;
    }
    fam = family_of(family, address);
    if (!(addr = canon_addr(address, fam))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid address '%s' in <ip>", address);
        return false;
    }
    if (!parse_prefix(node, fam, "ip", &prefix, &has_prefix, error))
        return false;
    if (peer && !(peer_canon = canon_addr(peer, fam))) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Invalid peer '%s' in <ip>", peer);
        return false;
    }
    line = g_string_new(NULL);
    g_string_append_printf(line, "<ip address='%s' family='%s'", addr, fam == FAM_V6 ? "ipv6" : "ipv4");
    if (prefix)
        g_string_append_printf(line, " prefix='%u'", prefix);
    if (peer_canon)
        g_string_append_printf(line, " peer='%s'", peer_canon);
    g_string_append(line, "/>");
    g_ptr_array_add(out, g_string_free(line, FALSE));
    return true;
}

/* <route family= address= netmask= prefix= gateway= metric=/> */
static bool
parse_route(xmlNodePtr node, GPtrArray *out, GError **error)
{
    g_autofree char *family = vrt_xml_prop(node, "family");
    g_autofree char *address = vrt_xml_prop(node, "address");
    g_autofree char *netmask = vrt_xml_prop(node, "netmask");
    g_autofree char *gateway = vrt_xml_prop(node, "gateway");
    g_autofree char *addr = NULL;
    g_autofree char *mask = NULL;
    g_autofree char *gw = NULL;
    Family fam;
    GString *line;
    guint prefix = 0, metric = 0;
    bool has_prefix = false, has_metric = false;

    if (!vrt_xml_check_attrs(node, error, "family", "address", "netmask", "prefix", "gateway", "metric", NULL))
        return false;
    if (family && !g_str_equal(family, "ipv4") && !g_str_equal(family, "ipv6")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid family '%s' in <route>", family);
        return false;
    }
    fam = family_of(family, address);
    if (!address || !(addr = canon_addr(address, fam))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Bad network address '%s' in route definition", address ? address : "");
        return false;
    }
    if (!gateway || !(gw = canon_addr(gateway, fam))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Bad gateway address '%s' in route definition", gateway ? gateway : "");
        return false;
    }
    if (netmask && !(mask = canon_addr(netmask, FAM_V4))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Bad netmask address '%s' in route definition", netmask);
        return false;
    }
    if (!parse_prefix(node, fam, "route", &prefix, &has_prefix, error) ||
        !vrt_xml_prop_uint(node, "metric", G_MAXUINT, &metric, &has_metric, error))
        return false;
    if (mask && has_prefix) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "route definition cannot have both a prefix and a netmask");
        return false;
    }
    line = g_string_new("<route");
    if (family)
        g_string_append_printf(line, " family='%s'", family);
    g_string_append_printf(line, " address='%s'", addr);
    if (mask)
        g_string_append_printf(line, " netmask='%s'", mask);
    if (has_prefix)
        g_string_append_printf(line, " prefix='%u'", prefix);
    g_string_append_printf(line, " gateway='%s'", gw);
    if (has_metric && metric > 0)
        g_string_append_printf(line, " metric='%u'", metric);
    g_string_append(line, "/>");
    g_ptr_array_add(out, g_string_free(line, FALSE));
    return true;
}

bool
vrt_net_host_source_parse(xmlNodePtr node, VrtNetHostSide *h, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "ip")) {
            if (!h->ips)
                h->ips = g_ptr_array_new_with_free_func(g_free);
            if (!parse_ip(c, h->ips, error))
                return false;
        } else if (vrt_xml_is(c, "route")) {
            if (!h->routes)
                h->routes = g_ptr_array_new_with_free_func(g_free);
            if (!parse_route(c, h->routes, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

bool
vrt_net_script_parse(xmlNodePtr node, VrtNetHostSide *h, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "path", NULL))
        return false;
    g_free(h->script);
    h->script = vrt_xml_prop(node, "path");
    return true;
}

bool
vrt_net_backend_parse(xmlNodePtr node, VrtNetHostSide *h, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "tap", "vhost", NULL))
        return false;
    g_free(h->backend_tap);
    h->backend_tap = vrt_xml_prop(node, "tap");
    g_free(h->backend_vhost);
    h->backend_vhost = vrt_xml_prop(node, "vhost");
    return true;
}

bool
vrt_net_host_source_present(const VrtNetHostSide *h)
{
    return (h->ips && h->ips->len) || (h->routes && h->routes->len);
}

void
vrt_net_host_source_format(GString *buf, guint indent, const VrtNetHostSide *h)
{
    g_autofree char *pad = g_strnfill(indent * 2, ' ');

    if (!vrt_net_host_source_present(h))
        return;
    g_string_append_printf(buf, "%s<source>\n", pad);
    for (guint i = 0; h->ips && i < h->ips->len; i++)
        g_string_append_printf(buf, "%s  %s\n", pad, (const char *)h->ips->pdata[i]);
    for (guint i = 0; h->routes && i < h->routes->len; i++)
        g_string_append_printf(buf, "%s  %s\n", pad, (const char *)h->routes->pdata[i]);
    g_string_append_printf(buf, "%s</source>\n", pad);
}

void
vrt_net_script_format(GString *buf, guint indent, const VrtNetHostSide *h)
{
    g_autofree char *esc = h->script ? vrt_xml_escape(h->script) : NULL;

    if (esc)
        g_string_append_printf(buf, "%*s<script path='%s'/>\n", (int)indent * 2, "", esc);
}

void
vrt_net_backend_format(GString *buf, guint indent, const VrtNetHostSide *h)
{
    g_autoptr(GString) a = g_string_new(NULL);

    vrt_xml_format_attr(a, "tap", h->backend_tap);
    vrt_xml_format_attr(a, "vhost", h->backend_vhost);
    if (a->len)
        g_string_append_printf(buf, "%*s<backend%s/>\n", (int)indent * 2, "", a->str);
}

bool
vrt_net_host_side_validate(bool ethernet, const char *type_name, const VrtNetHostSide *h, GError **error)
{
    if (vrt_net_host_source_present(h) && !ethernet) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "Invalid attempt to set network interface host-side IP route and/or address info on interface "
                      "of type '%s'. This is only supported on interfaces of type 'ethernet'",
                      type_name);
        return false;
    }
    if (h->unmanaged && !ethernet) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "unmanaged target dev is not supported on interfaces of type '%s'", type_name);
        return false;
    }
    return true;
}

bool
vrt_net_host_side_check(const char *alias, const VrtNetHostSide *h, GError **error)
{
    /* vrt runs no script, sets no host address or route, and opens the
     * tap and vhost-net itself: each is refused by name at start */
    const char *what = h->script                        ? "<script>"
                       : vrt_net_host_source_present(h) ? "host-side <ip>/<route> in <source>"
                       : h->backend_tap                 ? "<backend tap=>"
                       : h->backend_vhost               ? "<backend vhost=>"
                                                        : NULL;

    if (!what)
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface '%s': %s is not supported on this host",
                  alias ? alias : "", what);
    return false;
}

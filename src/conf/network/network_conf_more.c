/*
 * The parts of libvirt's network XML beyond bridge, forward and addresses:
 * <dns> (enable, forwardPlainNames, <forwarder>, <txt>, <srv>; its <host>
 * records are read by network_conf.c), <bandwidth>, <portgroup>, and the
 * single elements they need to be given alone by NETWORK_UPDATE. Checks
 * and error texts are libvirt's, so a definition libvirt refuses is
 * refused here with the same words, and the output follows libvirt's
 * element and attribute order so a dumped network reads the same.
 */
#include "conf/network/network_priv.h"
#include "util/error.h"

#include <string.h>

/* what libvirt allows in a SRV record's service and protocol */
#define SRV_SERVICE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+"
#define SRV_PROTOCOL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/"
#define SRV_SERVICE_MAX 15
#define SRV_NUMBER_MAX 65535

static void
forwarder_free(gpointer p)
{
    VrtNetworkDnsForwarder *f = p;
    if (!f)
        return;
    g_free(f->domain);
    g_free(f->addr);
    g_free(f);
}

void
vrt_network_dns_txt_free(VrtNetworkDnsTxt *txt)
{
    if (!txt)
        return;
    g_free(txt->name);
    g_free(txt->value);
    g_free(txt);
}

void
vrt_network_dns_srv_free(VrtNetworkDnsSrv *srv)
{
    if (!srv)
        return;
    g_free(srv->service);
    g_free(srv->protocol);
    g_free(srv->domain);
    g_free(srv->target);
    g_free(srv);
}

void
vrt_network_portgroup_free(VrtNetworkPortGroup *pg)
{
    if (!pg)
        return;
    g_free(pg->name);
    vrt_network_virtport_clear(&pg->vport);
    g_free(pg);
}

void
vrt_network_def_more_init(VrtNetworkDef *def)
{
    def->dns_enable = -1;
    def->dns_forward_plain_names = -1;
    def->dns_forwarders = g_ptr_array_new_with_free_func(forwarder_free);
    def->dns_txts = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dns_txt_free);
    def->dns_srvs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dns_srv_free);
    def->portgroups = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_portgroup_free);
}

void
vrt_network_def_more_free(VrtNetworkDef *def)
{
    g_ptr_array_unref(def->dns_forwarders);
    g_ptr_array_unref(def->dns_txts);
    g_ptr_array_unref(def->dns_srvs);
    g_ptr_array_unref(def->portgroups);
}

static VrtNetworkDnsTxt *
txt_copy(const VrtNetworkDnsTxt *s)
{
    VrtNetworkDnsTxt *t = g_new0(VrtNetworkDnsTxt, 1);
    t->name = g_strdup(s->name);
    t->value = g_strdup(s->value);
    return t;
}

static VrtNetworkDnsSrv *
srv_copy(const VrtNetworkDnsSrv *s)
{
    VrtNetworkDnsSrv *t = g_memdup2(s, sizeof(*s));
    t->service = g_strdup(s->service);
    t->protocol = g_strdup(s->protocol);
    t->domain = g_strdup(s->domain);
    t->target = g_strdup(s->target);
    return t;
}

static VrtNetworkPortGroup *
portgroup_copy(const VrtNetworkPortGroup *s)
{
    VrtNetworkPortGroup *t = g_memdup2(s, sizeof(*s));
    t->name = g_strdup(s->name);
    vrt_network_virtport_copy(&t->vport, &s->vport);
    return t;
}

void
vrt_network_def_more_copy(VrtNetworkDef *def, const VrtNetworkDef *src)
{
    vrt_network_def_more_init(def);
    def->dns_enable = src->dns_enable;
    def->dns_forward_plain_names = src->dns_forward_plain_names;
    for (guint i = 0; i < src->dns_forwarders->len; i++) {
        const VrtNetworkDnsForwarder *s = g_ptr_array_index(src->dns_forwarders, i);
        VrtNetworkDnsForwarder *f = g_new0(VrtNetworkDnsForwarder, 1);
        f->domain = g_strdup(s->domain);
        f->addr = g_strdup(s->addr);
        g_ptr_array_add(def->dns_forwarders, f);
    }
    for (guint i = 0; i < src->dns_txts->len; i++)
        g_ptr_array_add(def->dns_txts, txt_copy(g_ptr_array_index(src->dns_txts, i)));
    for (guint i = 0; i < src->dns_srvs->len; i++)
        g_ptr_array_add(def->dns_srvs, srv_copy(g_ptr_array_index(src->dns_srvs, i)));
    for (guint i = 0; i < src->portgroups->len; i++)
        g_ptr_array_add(def->portgroups, portgroup_copy(g_ptr_array_index(src->portgroups, i)));
}

const VrtNetworkPortGroup *
vrt_network_def_portgroup(const VrtNetworkDef *def, const char *name)
{
    for (guint i = 0; i < def->portgroups->len; i++) {
        const VrtNetworkPortGroup *pg = g_ptr_array_index(def->portgroups, i);
        if (name ? g_strcmp0(pg->name, name) == 0 : pg->is_default)
            return pg;
    }
    return NULL;
}

/* ---- <dns> ---- */

static VrtNetworkDnsTxt *
parse_txt(xmlNodePtr node, const char *net, bool partial, GError **error)
{
    g_autoptr(VrtNetworkDnsTxt) t = g_new0(VrtNetworkDnsTxt, 1);
    t->name = vrt_xml_prop(node, "name");
    t->value = vrt_xml_prop(node, "value");
    if (!t->name) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "missing required name attribute in DNS TXT record of network %s",
                      net);
        return NULL;
    }
    if (strcspn(t->name, " ,") != strlen(t->name)) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "prohibited character in DNS TXT record name '%s' of network %s",
                      t->name, net);
        return NULL;
    }
    if (!t->value && !partial) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "missing required value attribute in DNS TXT record named '%s' of network %s", t->name, net);
        return NULL;
    }
    return g_steal_pointer(&t);
}

/* One of a SRV record's numbers: allowed only with a target, at most max. */
static bool
parse_srv_number(xmlNodePtr node, const VrtNetworkDnsSrv *s, const char *attr, const char *what, guint min, guint *out,
                 const char *net, GError **error)
{
    g_autofree char *text = vrt_xml_prop(node, attr);
    if (!text)
        return true;
    if (!s->target) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "DNS SRV %s attribute not permitted without target for service '%s' in network '%s'", attr,
                      s->service ? s->service : "", net);
        return false;
    }
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(text, 10, min, SRV_NUMBER_MAX, &v, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s for service '%s' in network '%s'", what,
                      s->service ? s->service : "", net);
        return false;
    }
    *out = (guint)v;
    return true;
}

static VrtNetworkDnsSrv *
parse_srv(xmlNodePtr node, const char *net, bool partial, GError **error)
{
    g_autoptr(VrtNetworkDnsSrv) s = g_new0(VrtNetworkDnsSrv, 1);
    s->service = vrt_xml_prop(node, "service");
    s->protocol = vrt_xml_prop(node, "protocol");
    s->domain = vrt_xml_prop(node, "domain");
    s->target = vrt_xml_prop(node, "target");
    if (!s->service && !partial) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "missing required service attribute in DNS SRV record of network '%s'",
                      net);
        return NULL;
    }
    if (s->service && strlen(s->service) > SRV_SERVICE_MAX) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "service attribute '%s' in network '%s' is too long, limit is %d bytes", s->service, net,
                      SRV_SERVICE_MAX);
        return NULL;
    }
    if (s->service && strspn(s->service, SRV_SERVICE_CHARS) < strlen(s->service)) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "invalid character in service attribute '%s' in DNS SRV record of network '%s'", s->service, net);
        return NULL;
    }
    if (!s->protocol && !partial) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "missing required protocol attribute in DNS SRV record '%s' of network '%s'",
                      s->service ? s->service : "", net);
        return NULL;
    }
    if (s->protocol && strspn(s->protocol, SRV_PROTOCOL_CHARS) < strlen(s->protocol)) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL,
                      "invalid character in protocol attribute '%s' in DNS SRV record of network '%s'", s->protocol,
                      net);
        return NULL;
    }
    if (!parse_srv_number(node, s, "port", "invalid DNS SRV port attribute", 1, &s->port, net, error) ||
        !parse_srv_number(node, s, "priority", "Invalid DNS SRV priority attribute", 0, &s->priority, net, error) ||
        !parse_srv_number(node, s, "weight", "invalid DNS SRV weight attribute", 0, &s->weight, net, error))
        return NULL;
    return g_steal_pointer(&s);
}

static bool
parse_forwarder(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    VrtNetworkDnsForwarder *f = g_new0(VrtNetworkDnsForwarder, 1);
    g_ptr_array_add(def->dns_forwarders, f);
    f->addr = vrt_xml_prop(node, "addr");
    f->domain = vrt_xml_prop(node, "domain");
    if (f->addr && !g_hostname_is_ip_address(f->addr)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid forwarder IP address '%s' in network '%s'", f->addr,
                      def->name ? def->name : "");
        return false;
    }
    if (!f->addr && !f->domain) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "Invalid forwarder element, must contain at least one of addr or domain");
        return false;
    }
    return true;
}

bool
vrt_network_parse_dns_attrs(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    return vrt_xml_prop_yes_no(node, "enable", &def->dns_enable, error) &&
           vrt_xml_prop_yes_no(node, "forwardPlainNames", &def->dns_forward_plain_names, error);
}

bool
vrt_network_parse_dns_child(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    const char *net = def->name ? def->name : "";
    if (vrt_xml_is(node, "forwarder"))
        return parse_forwarder(node, def, error);
    if (vrt_xml_is(node, "txt")) {
        VrtNetworkDnsTxt *t = parse_txt(node, net, false, error);
        if (t)
            g_ptr_array_add(def->dns_txts, t);
        return t != NULL;
    }
    if (vrt_xml_is(node, "srv")) {
        VrtNetworkDnsSrv *s = parse_srv(node, net, false, error);
        if (s)
            g_ptr_array_add(def->dns_srvs, s);
        return s != NULL;
    }
    vrt_xml_unsupported(node, error);
    return false;
}

bool
vrt_network_check_dns(const VrtNetworkDef *def, GError **error)
{
    if (def->dns_enable == 0 &&
        (def->dns_hosts->len || def->dns_forwarders->len || def->dns_txts->len || def->dns_srvs->len)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Extra data in disabled network '%s'", def->name ? def->name : "");
        return false;
    }
    return true;
}

/* Parses the one element of xml (named root) for NETWORK_UPDATE. */
static xmlDocPtr
read_one(const char *xml, const char *root, GError **error)
{
    return vrt_xml_read(xml, "(network_definition)", root, &vrt_network_xml_wording, error);
}

char *
vrt_network_forward_if_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = read_one(xml, "interface", error);
    if (!doc)
        return NULL;
    char *dev = vrt_xml_prop(xmlDocGetRootElement(doc), "dev");
    xmlFreeDoc(doc);
    if (!dev)
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing dev attribute in <interface> element");
    return dev;
}

VrtNetworkDnsTxt *
vrt_network_dns_txt_parse(const char *xml, bool partial, GError **error)
{
    xmlDocPtr doc = read_one(xml, "txt", error);
    if (!doc)
        return NULL;
    VrtNetworkDnsTxt *t = parse_txt(xmlDocGetRootElement(doc), "", partial, error);
    xmlFreeDoc(doc);
    return t;
}

VrtNetworkDnsSrv *
vrt_network_dns_srv_parse(const char *xml, bool partial, GError **error)
{
    xmlDocPtr doc = read_one(xml, "srv", error);
    if (!doc)
        return NULL;
    VrtNetworkDnsSrv *s = parse_srv(xmlDocGetRootElement(doc), "", partial, error);
    xmlFreeDoc(doc);
    return s;
}

void
vrt_network_format_dns(GString *out, const VrtNetworkDef *def)
{
    bool children = def->dns_hosts->len || def->dns_forwarders->len || def->dns_txts->len || def->dns_srvs->len;
    if (!def->has_dns && !children)
        return;
    g_string_append(out, "  <dns");
    if (def->dns_enable >= 0)
        vrt_xml_format_attr(out, "enable", def->dns_enable ? "yes" : "no");
    if (def->dns_forward_plain_names >= 0)
        vrt_xml_format_attr(out, "forwardPlainNames", def->dns_forward_plain_names ? "yes" : "no");
    if (!children) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
        const VrtNetworkDnsForwarder *f = g_ptr_array_index(def->dns_forwarders, i);
        g_string_append(out, "    <forwarder");
        vrt_xml_format_attr(out, "domain", f->domain);
        vrt_xml_format_attr(out, "addr", f->addr);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < def->dns_txts->len; i++) {
        const VrtNetworkDnsTxt *t = g_ptr_array_index(def->dns_txts, i);
        g_string_append(out, "    <txt");
        vrt_xml_format_attr(out, "name", t->name);
        vrt_xml_format_attr(out, "value", t->value);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < def->dns_srvs->len; i++) {
        const VrtNetworkDnsSrv *s = g_ptr_array_index(def->dns_srvs, i);
        g_string_append(out, "    <srv");
        vrt_xml_format_attr(out, "service", s->service);
        vrt_xml_format_attr(out, "protocol", s->protocol);
        vrt_xml_format_attr(out, "domain", s->domain);
        vrt_xml_format_attr(out, "target", s->target);
        if (s->port)
            g_string_append_printf(out, " port='%u'", s->port);
        if (s->priority)
            g_string_append_printf(out, " priority='%u'", s->priority);
        if (s->weight)
            g_string_append_printf(out, " weight='%u'", s->weight);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const VrtNetworkDnsHost *h = g_ptr_array_index(def->dns_hosts, i);
        g_string_append(out, "    <host");
        vrt_xml_format_attr(out, "ip", h->ip);
        g_string_append(out, ">\n");
        for (guint j = 0; h->hostnames[j]; j++) {
            g_autofree char *n = g_markup_escape_text(h->hostnames[j], -1);
            g_string_append_printf(out, "      <hostname>%s</hostname>\n", n);
        }
        g_string_append(out, "    </host>\n");
    }
    g_string_append(out, "  </dns>\n");
}

/* ---- <portgroup> ---- */

static VrtNetworkPortGroup *
parse_portgroup(xmlNodePtr node, GError **error)
{
    g_autoptr(VrtNetworkPortGroup) pg = g_new0(VrtNetworkPortGroup, 1);
    int is_default = -1;
    pg->name = vrt_xml_prop(node, "name");
    if (!pg->name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required name attribute in portgroup");
        return NULL;
    }
    if (!vrt_xml_prop_yes_no(node, "default", &is_default, error) ||
        !vrt_xml_prop_yes_no(node, "trustGuestRxFilters", &pg->trust_guest_rx_filters, error))
        return NULL;
    pg->is_default = is_default == 1;
    bool seen_vlan = false, seen_bw = false, seen_vport = false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (vrt_xml_is(c, "vlan") && !seen_vlan) {
            seen_vlan = true;
            if (!vrt_network_parse_vlan(c, &pg->vlan, error))
                return NULL;
        } else if (vrt_xml_is(c, "virtualport") && !seen_vport) {
            seen_vport = true;
            if (!vrt_network_parse_virtport(c, false, &pg->vport, error))
                return NULL;
        } else if (vrt_xml_is(c, "bandwidth") && !seen_bw) {
            seen_bw = true;
            if (!vrt_bandwidth_parse(c, false, NULL, &pg->bandwidth, error))
                return NULL;
        } else {
            vrt_xml_unsupported(c, error);
            return NULL;
        }
    }
    return g_steal_pointer(&pg);
}

bool
vrt_network_parse_portgroup(xmlNodePtr node, VrtNetworkDef *def, GError **error)
{
    VrtNetworkPortGroup *pg = parse_portgroup(node, error);
    if (!pg)
        return false;
    g_ptr_array_add(def->portgroups, pg);
    if (pg->is_default) {
        const VrtNetworkPortGroup *other = vrt_network_def_portgroup(def, NULL);
        if (other != pg) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "network '%s' has multiple default <portgroup> elements (%s and %s), but only one default "
                          "is allowed",
                          def->name ? def->name : "", other->name, pg->name);
            return false;
        }
    }
    return true;
}

VrtNetworkPortGroup *
vrt_network_portgroup_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = read_one(xml, "portgroup", error);
    if (!doc)
        return NULL;
    VrtNetworkPortGroup *pg = parse_portgroup(xmlDocGetRootElement(doc), error);
    xmlFreeDoc(doc);
    return pg;
}

void
vrt_network_format_portgroups(GString *out, const VrtNetworkDef *def)
{
    for (guint i = 0; i < def->portgroups->len; i++) {
        const VrtNetworkPortGroup *pg = g_ptr_array_index(def->portgroups, i);
        g_string_append(out, "  <portgroup");
        vrt_xml_format_attr(out, "name", pg->name);
        if (pg->is_default)
            g_string_append(out, " default='yes'");
        if (pg->trust_guest_rx_filters >= 0)
            vrt_xml_format_attr(out, "trustGuestRxFilters", pg->trust_guest_rx_filters ? "yes" : "no");
        g_string_append(out, ">\n");
        vrt_network_format_vlan(out, &pg->vlan, "    ");
        vrt_network_format_virtport(out, &pg->vport, "    ");
        vrt_bandwidth_format(out, &pg->bandwidth, 4);
        g_string_append(out, "  </portgroup>\n");
    }
}

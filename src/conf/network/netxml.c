/*
 * The libxml2 plumbing under the network and network port parsers: one
 * parse entry that turns libxml2's last error into libvirt's
 * "(what):LINE: message" shape, and typed attribute readers whose errors
 * name the element and attribute.
 */
#include "conf/network/netxml.h"
#include "conf/network/network_conf.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

/* libxml2 2.9's lazy global init is not safe when first entered from two
 * threads at once; do it once here (the daemon should also call
 * xmlInitParser() in main before starting workers). */
static gpointer
init_libxml(gpointer unused)
{
    xmlInitParser();
    return NULL;
}

xmlDocPtr
vrt_netxml_parse(const char *data, const char *root_name, const char *what, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, init_libxml, NULL);
    if (!data) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: no XML given", what);
        return NULL;
    }
    size_t len = strlen(data);
    if (len > VRT_NETWORK_XML_MAX_BYTES) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: document larger than %d bytes", what, VRT_NETWORK_XML_MAX_BYTES);
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot allocate XML parser");
        return NULL;
    }
    /* No network access, no entity expansion; errors stay in the context
     * instead of going to stderr. */
    xmlDocPtr doc =
        xmlCtxtReadMemory(ctxt, data, (int)len, what, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        if (err && err->message) {
            g_autofree char *msg = g_strstrip(g_strdup(err->message));
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s:%d: %s", what, err->line, msg);
        } else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: failed to parse XML document", what);
        }
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || !vrt_netxml_is(root, root_name)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unexpected root element <%s>, expecting <%s>",
                      root ? (const char *)root->name : "", root_name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

char *
vrt_netxml_prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

char *
vrt_netxml_text(xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret = g_strstrip(g_strdup(v ? (const char *)v : ""));
    xmlFree(v);
    return ret;
}

bool
vrt_netxml_is(xmlNodePtr node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == NULL && strcmp((const char *)node->name, name) == 0;
}

bool
vrt_netxml_yes_no(xmlNodePtr node, const char *attr, int *out, GError **error)
{
    g_autofree char *v = vrt_netxml_prop(node, attr);
    *out = -1;
    if (!v)
        return true;
    if (strcmp(v, "yes") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0)
        *out = 0;
    else {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s='%s' in <%s>, expecting 'yes' or 'no'", attr, v,
                      (const char *)node->name);
        return false;
    }
    return true;
}

bool
vrt_netxml_uint(xmlNodePtr node, const char *attr, guint max, bool required, guint *out, bool *present, GError **error)
{
    g_autofree char *v = vrt_netxml_prop(node, attr);
    if (present)
        *present = v != NULL;
    if (!v) {
        if (required) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing %s attribute in <%s>", attr, (const char *)node->name);
            return false;
        }
        return true;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 0);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > max) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s='%s' in <%s> (at most %u)", attr, v,
                      (const char *)node->name, max);
        return false;
    }
    *out = (guint)n;
    return true;
}

void
vrt_netxml_unsupported(GError **error, xmlNodePtr node, const char *where)
{
    if (node->ns && node->ns->prefix)
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s:%s> in %s is not supported by vrt",
                      (const char *)node->ns->prefix, (const char *)node->name, where);
    else
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s> in %s is not supported by vrt",
                      (const char *)node->name, where);
}

/* ---- value helpers exported through network_conf.h ---- */

bool
vrt_network_pci_addr_parse(const char *str, VrtNetworkPciAddr *out)
{
    unsigned dom, bus, slot, fn;
    int n = 0;
    /* Exactly DDDD:BB:SS.F: sscanf alone would accept spaces and signs. */
    if (!str || strlen(str) != 12 || str[4] != ':' || str[7] != ':' || str[10] != '.')
        return false;
    for (int i = 0; i < 12; i++)
        if (i != 4 && i != 7 && i != 10 && !g_ascii_isxdigit(str[i]))
            return false;
    if (sscanf(str, "%4x:%2x:%2x.%1x%n", &dom, &bus, &slot, &fn, &n) != 4 || (size_t)n != strlen(str) || slot > 0x1f ||
        fn > 7)
        return false;
    out->domain = dom;
    out->bus = bus;
    out->slot = slot;
    out->function = fn;
    return true;
}

char *
vrt_network_pci_addr_to_string(const VrtNetworkPciAddr *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot, addr->function);
}

bool
vrt_network_pci_addr_equal(const VrtNetworkPciAddr *a, const VrtNetworkPciAddr *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot && a->function == b->function;
}

bool
vrt_network_uuid_parse(const char *str, guchar uuid[16])
{
    /* libvirt accepts hex digits with optional dashes anywhere; 32 digits. */
    guint n = 0;
    if (!str)
        return false;
    const char *p = str;
    while (g_ascii_isspace(*p))
        p++;
    for (; *p && n < 32; p++) {
        if (*p == '-')
            continue;
        if (!g_ascii_isxdigit(*p))
            return false;
        int v = g_ascii_xdigit_value(*p);
        if (n % 2 == 0)
            uuid[n / 2] = (guchar)(v << 4);
        else
            uuid[n / 2] |= (guchar)v;
        n++;
    }
    while (g_ascii_isspace(*p))
        p++;
    return n == 32 && *p == '\0';
}

void
vrt_network_uuid_format(const guchar uuid[16], char out[VRT_NETWORK_UUID_BUFLEN])
{
    g_snprintf(out, VRT_NETWORK_UUID_BUFLEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10],
               uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

void
vrt_network_uuid_generate(guchar uuid[16])
{
    g_autofree char *s = g_uuid_string_random();
    (void)vrt_network_uuid_parse(s, uuid);
}

bool
vrt_network_mac_parse(const char *str, guint8 mac[6])
{
    unsigned b[6];
    int n = 0;
    if (!str || strlen(str) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? str[i] != ':' : !g_ascii_isxdigit(str[i]))
            return false;
    if (sscanf(str, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) != 6 ||
        (size_t)n != strlen(str))
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (guint8)b[i];
    return true;
}

void
vrt_network_mac_format(const guint8 mac[6], char out[18])
{
    g_snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

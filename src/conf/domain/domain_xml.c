/*
 * libxml2 reading helpers for the domain XML parser: document parsing with
 * libvirt-style errors (line numbers), strict attribute checking (anything
 * not handled is refused, naming it), and typed attribute readers.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <libxml/parser.h>

/* Documents larger than this are refused before libxml2 sees them. */
#define VRT_XML_MAX_DOC_BYTES (10 * 1024 * 1024)

/* libxml2 2.9 initialises itself lazily without a lock: the first call
 * must not race between the daemon's worker threads. */
static void
xml_init_once(void)
{
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

xmlDocPtr
vrt_xml_read(const char *xml, const char *what, GError **error)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    size_t len;

    xml_init_once();

    if (!xml) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "no %s document given", what);
        return NULL;
    }
    len = strlen(xml);
    if (len > VRT_XML_MAX_DOC_BYTES) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s document is larger than %d bytes", what, VRT_XML_MAX_DOC_BYTES);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot create XML parser");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, what, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !xmlDocGetRootElement(doc)) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        if (err && err->message) {
            g_autofree char *msg = g_strchomp(g_strdup(err->message));
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s:%d: %s (at line %d)", what, err->line, msg, err->line);
        } else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: empty or unreadable document", what);
        }
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static const char *
parent_name(xmlNodePtr node)
{
    if (node->parent && node->parent->type == XML_ELEMENT_NODE)
        return (const char *)node->parent->name;
    return "document";
}

bool
vrt_xml_check_attrs(xmlNodePtr node, GError **error, ...)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        va_list ap;
        const char *ok;
        bool found = false;

        /* namespaced attributes (e.g. xml:lang) change nothing for us */
        if (a->ns)
            continue;
        va_start(ap, error);
        while ((ok = va_arg(ap, const char *))) {
            if (g_str_equal(ok, (const char *)a->name)) {
                found = true;
                break;
            }
        }
        va_end(ap);
        if (!found) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "attribute '%s' of element <%s> (line %ld) is not supported", (const char *)a->name,
                          (const char *)node->name, xmlGetLineNo(node));
            return false;
        }
    }
    return true;
}

bool
vrt_xml_unsupported(xmlNodePtr node, GError **error)
{
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s> in <%s> (line %ld) is not supported",
                  (const char *)node->name, parent_name(node), xmlGetLineNo(node));
    return false;
}

xmlNodePtr
vrt_xml_next_element(xmlNodePtr node)
{
    while (node && node->type != XML_ELEMENT_NODE)
        node = node->next;
    return node;
}

bool
vrt_xml_is(xmlNodePtr node, const char *name)
{
    return g_str_equal((const char *)node->name, name);
}

char *
vrt_xml_prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *ret;

    if (!v)
        return NULL;
    ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

char *
vrt_xml_text(xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret;

    if (!v)
        return g_strdup("");
    ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

bool
vrt_xml_prop_uint(xmlNodePtr node, const char *name, guint max, guint *out, bool *present, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    guint64 v;
    char *end = NULL;

    if (present)
        *present = false;
    if (!s)
        return true;
    g_strstrip(s);
    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (!*s || *s == '-' || errno || !end || *end || v > max) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "invalid value '%s' for attribute '%s' of <%s> (line %ld): expected a number up to %u", s, name,
                      (const char *)node->name, xmlGetLineNo(node), max);
        return false;
    }
    *out = (guint)v;
    if (present)
        *present = true;
    return true;
}

bool
vrt_xml_prop_tristate(xmlNodePtr node, const char *name, bool onoff, VrtTristate *out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    const char *yes = onoff ? "on" : "yes";
    const char *no = onoff ? "off" : "no";

    if (!s)
        return true;
    if (g_str_equal(s, yes)) {
        *out = VRT_TRISTATE_YES;
    } else if (g_str_equal(s, no)) {
        *out = VRT_TRISTATE_NO;
    } else {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "invalid value '%s' for attribute '%s' of <%s> (line %ld): expected '%s' or '%s'", s, name,
                      (const char *)node->name, xmlGetLineNo(node), yes, no);
        return false;
    }
    return true;
}

bool
vrt_xml_prop_enum(xmlNodePtr node, const char *name, const char *const *table, bool required, int *out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    int v;

    if (!s) {
        if (required) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing attribute '%s' of <%s> (line %ld)", name,
                          (const char *)node->name, xmlGetLineNo(node));
            return false;
        }
        return true;
    }
    v = vrt_enum_from_string(table, s);
    if (v < 0 || !*s) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "value '%s' of attribute '%s' of <%s> (line %ld) is not supported", s, name,
                      (const char *)node->name, xmlGetLineNo(node));
        return false;
    }
    *out = v;
    return true;
}

bool
vrt_alias_visible(const char *alias, guint flags)
{
    if (!alias)
        return false;
    if (g_str_has_prefix(alias, "ua-"))
        return true;
    return !(flags & VRT_DOMAIN_XML_INACTIVE);
}

/*
 * The XML helper library (see xml.h): one parse entry that turns
 * libxml2's last error into libvirt's "what:LINE: message" shape, strict
 * attribute checking, typed attribute readers and escaping. The errors
 * take the wording of the document's family (VrtXmlWording).
 */
#include "util/xml.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "util/error.h"

/* The domain family's limit, the default. */
#define VRT_XML_MAX_DOC_BYTES (10 * 1024 * 1024)

static const VrtXmlWording domain_wording = {
    .style = VRT_XML_STYLE_DOMAIN,
    .max_bytes = VRT_XML_MAX_DOC_BYTES,
    .root_label = NULL,
};

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

/* The wording of the document node belongs to (set by vrt_xml_read). */
static const VrtXmlWording *
wording_of(xmlNodePtr node)
{
    if (node && node->doc && node->doc->_private)
        return node->doc->_private;
    return &domain_wording;
}

static bool
network_style(xmlNodePtr node)
{
    return wording_of(node)->style == VRT_XML_STYLE_NETWORK;
}

static void
set_parse_error(GError **error, const VrtXmlWording *w, const char *what, const xmlError *err)
{
    if (w->style == VRT_XML_STYLE_NETWORK) {
        if (err && err->message) {
            g_autofree char *msg = g_strstrip(g_strdup(err->message));
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s:%d: %s", what, err->line, msg);
        } else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: failed to parse XML document", what);
        }
        return;
    }
    if (err && err->message) {
        g_autofree char *msg = g_strchomp(g_strdup(err->message));
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s:%d: %s (at line %d)", what, err->line, msg, err->line);
    } else {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: empty or unreadable document", what);
    }
}

xmlDocPtr
vrt_xml_read(const char *xml, const char *what, const char *root_name, const VrtXmlWording *wording, GError **error)
{
    const VrtXmlWording *w = wording ? wording : &domain_wording;
    bool net = w->style == VRT_XML_STYLE_NETWORK;
    gsize max = w->max_bytes ? w->max_bytes : VRT_XML_MAX_DOC_BYTES;
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    xmlNodePtr root;
    size_t len;

    xml_init_once();

    if (!xml) {
        if (net)
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: no XML given", what);
        else
            vrt_error_set(error, VIR_ERR_XML_ERROR, "no %s document given", what);
        return NULL;
    }
    len = strlen(xml);
    if (len > max) {
        if (net)
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s: document larger than %" G_GSIZE_FORMAT " bytes", what, max);
        else
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s document is larger than %" G_GSIZE_FORMAT " bytes", what, max);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        vrt_error_set(error, VIR_ERR_NO_MEMORY, net ? "cannot allocate XML parser" : "cannot create XML parser");
        return NULL;
    }
    /* No network access and no entity expansion (XML_PARSE_NOENT is not
     * given); errors stay in the context instead of going to stderr. */
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, what, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    /* The network family has always reported a document without a root
     * element as a wrong root, the domain family as unreadable. */
    if (!doc || (!root && !net)) {
        set_parse_error(error, w, what, xmlCtxtGetLastError(ctxt));
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (root_name && (!root || !vrt_xml_is(root, root_name))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unexpected root element <%s>, expecting <%s>",
                      root ? (const char *)root->name : "", root_name);
        xmlFreeDoc(doc);
        return NULL;
    }
    /* libxml2 leaves a document's _private to the application. */
    doc->_private = (void *)w;
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
    const VrtXmlWording *w = wording_of(node);

    if (w->style == VRT_XML_STYLE_NETWORK) {
        bool under_root = node->parent && node->doc && node->parent == xmlDocGetRootElement(node->doc);
        g_autofree char *where =
            under_root && w->root_label ? g_strdup(w->root_label) : g_strdup_printf("<%s>", parent_name(node));
        if (node->ns && node->ns->prefix)
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s:%s> in %s is not supported by vrt",
                          (const char *)node->ns->prefix, (const char *)node->name, where);
        else
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s> in %s is not supported by vrt",
                          (const char *)node->name, where);
        return false;
    }
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
    return node && node->type == XML_ELEMENT_NODE && !node->ns && g_str_equal((const char *)node->name, name);
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

static void
set_missing_error(GError **error, xmlNodePtr node, const char *name)
{
    if (network_style(node))
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing %s attribute in <%s>", name, (const char *)node->name);
    else
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing attribute '%s' of <%s> (line %ld)", name,
                      (const char *)node->name, xmlGetLineNo(node));
}

bool
vrt_xml_prop_uint(xmlNodePtr node, const char *name, guint max, guint *out, bool *present, GError **error)
{
    g_autofree char *raw = vrt_xml_prop(node, name);
    g_autofree char *s = NULL;
    guint64 v;
    char *end = NULL;

    if (present)
        *present = false;
    if (!raw)
        return true;
    s = g_strstrip(g_strdup(raw));
    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (!*s || *s == '-' || errno || !end || *end || v > max) {
        if (network_style(node))
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s='%s' in <%s> (at most %u)", name, raw,
                          (const char *)node->name, max);
        else
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "invalid value '%s' for attribute '%s' of <%s> (line %ld): expected a number up to %u", s,
                          name, (const char *)node->name, xmlGetLineNo(node), max);
        return false;
    }
    *out = (guint)v;
    if (present)
        *present = true;
    return true;
}

bool
vrt_xml_prop_uint_required(xmlNodePtr node, const char *name, guint max, guint *out, GError **error)
{
    bool present = false;

    if (!vrt_xml_prop_uint(node, name, max, out, &present, error))
        return false;
    if (!present) {
        set_missing_error(error, node, name);
        return false;
    }
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
    } else if (network_style(node)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s='%s' in <%s>, expecting '%s' or '%s'", name, s,
                      (const char *)node->name, yes, no);
        return false;
    } else {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "invalid value '%s' for attribute '%s' of <%s> (line %ld): expected '%s' or '%s'", s, name,
                      (const char *)node->name, xmlGetLineNo(node), yes, no);
        return false;
    }
    return true;
}

bool
vrt_xml_prop_yes_no(xmlNodePtr node, const char *name, int *out, GError **error)
{
    VrtTristate t = VRT_TRISTATE_DEFAULT;

    if (!vrt_xml_prop_tristate(node, name, false, &t, error))
        return false;
    *out = t == VRT_TRISTATE_YES ? 1 : t == VRT_TRISTATE_NO ? 0 : -1;
    return true;
}

int
vrt_enum_from_string(const char *const *table, const char *str)
{
    if (!str)
        return -1;
    for (int i = 0; table[i]; i++) {
        if (g_str_equal(table[i], str))
            return i;
    }
    return -1;
}

bool
vrt_xml_prop_enum(xmlNodePtr node, const char *name, const char *const *table, bool required, int *out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    int v;

    if (!s) {
        if (required) {
            set_missing_error(error, node, name);
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
vrt_xml_prop_choice(xmlNodePtr node, const char *name, const char *const *table, char **out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);

    if (!v)
        return true;
    if (!g_strv_contains(table, v)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", name,
                      (const char *)node->name, v);
        return false;
    }
    g_free(*out);
    *out = g_steal_pointer(&v);
    return true;
}

bool
vrt_xml_prop_pci_addr(xmlNodePtr node, guint flags, VrtPciAddr *addr, GError **error)
{
    if (flags & VRT_XML_PCI_REQUIRED) {
        if (!vrt_xml_prop_uint(node, "domain", VRT_PCI_MAX_DOMAIN, &addr->domain, NULL, error) ||
            !vrt_xml_prop_uint_required(node, "bus", VRT_PCI_MAX_BUS, &addr->bus, error) ||
            !vrt_xml_prop_uint_required(node, "slot", VRT_PCI_MAX_SLOT, &addr->slot, error) ||
            !vrt_xml_prop_uint_required(node, "function", VRT_PCI_MAX_FUNCTION, &addr->function, error))
            return false;
    } else {
        if (!vrt_xml_prop_uint(node, "domain", VRT_PCI_MAX_DOMAIN, &addr->domain, NULL, error) ||
            !vrt_xml_prop_uint(node, "bus", VRT_PCI_MAX_BUS, &addr->bus, NULL, error) ||
            !vrt_xml_prop_uint(node, "slot", VRT_PCI_MAX_SLOT, &addr->slot, NULL, error) ||
            !vrt_xml_prop_uint(node, "function", VRT_PCI_MAX_FUNCTION, &addr->function, NULL, error))
            return false;
    }
    if ((flags & VRT_XML_PCI_MULTIFUNCTION) &&
        !vrt_xml_prop_tristate(node, "multifunction", true, &addr->multifunction, error))
        return false;
    return true;
}

char *
vrt_xml_escape(const char *s)
{
    return s ? g_markup_escape_text(s, -1) : NULL;
}

void
vrt_xml_format_attr(GString *out, const char *name, const char *value)
{
    g_autofree char *esc = vrt_xml_escape(value);

    if (esc)
        g_string_append_printf(out, " %s='%s'", name, esc);
}

void
vrt_xml_line(GString *buf, guint indent, const char *fmt, ...)
{
    va_list ap;

    for (guint i = 0; i < indent; i++)
        g_string_append(buf, "  ");
    va_start(ap, fmt);
    g_string_append_vprintf(buf, fmt, ap);
    va_end(ap);
    g_string_append_c(buf, '\n');
}

/* Collects the validator's messages for the error, one per line. */
static void
collect_rng_error(void *data, const xmlError *e)
{
    GString *out = data;

    if (e && e->message)
        g_string_append(out, e->message); /* libxml2's messages end in a newline */
}

bool
vrt_xml_validate(xmlDocPtr doc, const char *schema, GError **error)
{
    g_autofree char *path = g_build_filename(VRT_LIBVIRT_SCHEMA_DIR, schema, NULL);
    g_autoptr(GString) msgs = g_string_new(NULL);
    xmlRelaxNGParserCtxtPtr pctxt;
    xmlRelaxNGPtr rng;
    xmlRelaxNGValidCtxtPtr vctxt;
    int rc;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "cannot validate: libvirt's schema %s is not installed", path);
        return false;
    }
    pctxt = xmlRelaxNGNewParserCtxt(path);
    if (pctxt)
        xmlRelaxNGSetParserStructuredErrors(pctxt, (xmlStructuredErrorFunc)collect_rng_error, msgs);
    rng = pctxt ? xmlRelaxNGParse(pctxt) : NULL;
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!rng) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Unable to parse schema file %s", path);
        return false;
    }
    g_string_truncate(msgs, 0);
    vctxt = xmlRelaxNGNewValidCtxt(rng);
    if (!vctxt) {
        xmlRelaxNGFree(rng);
        vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot validate against %s", path);
        return false;
    }
    xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)collect_rng_error, msgs);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(rng);
    if (rc != 0) {
        vrt_error_set(error, VIR_ERR_XML_INVALID_SCHEMA, "Unable to validate doc against %s\n%s", path, msgs->str);
        return false;
    }
    return true;
}

bool
vrt_xml_validate_string(const char *xml, const char *what, const char *schema, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, what, NULL, NULL, error);
    bool ok;

    if (!doc)
        return false;
    ok = vrt_xml_validate(doc, schema, error);
    xmlFreeDoc(doc);
    return ok;
}

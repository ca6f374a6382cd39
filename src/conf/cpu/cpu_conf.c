/*
 * The <cpu> definition: parsing with libvirt's checks and error texts (the
 * subset a compare or baseline call reads: type, mode, match, check,
 * model with fallback and vendor_id, vendor, arch, microcode, signature,
 * topology, maxphysaddr, features) and libvirt's formatting of a host or
 * a guest CPU.
 */
#include "conf/cpu/cpu_conf.h"
#include "util/error.h"
#include "util/xml.h"

#include <libxml/parser.h>
#include <string.h>

static const char *const mode_names[] = { "custom", "host-model", "host-passthrough", "maximum", NULL };
static const char *const match_names[] = { "exact", "minimum", "strict", NULL };
static const char *const check_names[] = { "default", "none", "partial", "full", NULL };
static const char *const fallback_names[] = { "allow", "forbid", NULL };
static const char *const policy_names[] = { "force", "require", "optional", "disable", "forbid", NULL };
static const char *const addr_mode_names[] = { "emulate", "passthrough", NULL };

static void
feature_clear(gpointer p)
{
    g_free(((VrtCpuFeature *)p)->name);
}

VrtCpuDef *
vrt_cpu_def_new(VrtCpuType type)
{
    VrtCpuDef *def = g_new0(VrtCpuDef, 1);

    def->type = type;
    def->mode = type == VRT_CPU_TYPE_HOST ? -1 : VRT_CPU_MODE_CUSTOM;
    def->addr_mode = -1;
    def->addr_bits = -1;
    def->features = g_array_new(FALSE, TRUE, sizeof(VrtCpuFeature));
    g_array_set_clear_func(def->features, feature_clear);
    return def;
}

void
vrt_cpu_def_free(VrtCpuDef *def)
{
    if (!def)
        return;
    g_free(def->arch);
    g_free(def->model);
    g_free(def->vendor);
    g_free(def->vendor_id);
    g_array_unref(def->features);
    g_free(def);
}

VrtCpuDef *
vrt_cpu_def_copy(const VrtCpuDef *def)
{
    VrtCpuDef *c = vrt_cpu_def_new(def->type);
    GArray *features = c->features;

    *c = *def;
    c->features = features;
    c->arch = g_strdup(def->arch);
    c->model = g_strdup(def->model);
    c->vendor = g_strdup(def->vendor);
    c->vendor_id = g_strdup(def->vendor_id);
    for (guint i = 0; i < def->features->len; i++) {
        const VrtCpuFeature *f = &g_array_index(def->features, VrtCpuFeature, i);
        vrt_cpu_def_add_feature(c, f->name, f->policy);
    }
    return c;
}

void
vrt_cpu_def_add_feature(VrtCpuDef *def, const char *name, int policy)
{
    VrtCpuFeature f = { g_strdup(name), policy };

    g_array_append_val(def->features, f);
}

VrtCpuFeature *
vrt_cpu_def_find_feature(const VrtCpuDef *def, const char *name)
{
    for (guint i = 0; i < def->features->len; i++) {
        VrtCpuFeature *f = &g_array_index(def->features, VrtCpuFeature, i);
        if (g_str_equal(f->name, name))
            return f;
    }
    return NULL;
}

void
vrt_cpu_def_update_feature(VrtCpuDef *def, const char *name, int policy)
{
    VrtCpuFeature *f = vrt_cpu_def_find_feature(def, name);

    if (f)
        f->policy = policy;
    else
        vrt_cpu_def_add_feature(def, name, policy);
}

/* The first child element named name, or NULL. */
static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, name))
            return c;
    }
    return NULL;
}

/* libvirt's "Invalid value for attribute 'a' in element 'e': 'v'." */
static bool
prop_enum(xmlNodePtr node, const char *name, const char *const *table, int *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);
    int i;

    if (!v)
        return true;
    if ((i = vrt_enum_from_string(table, v)) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", name,
                      (const char *)node->name, v);
        return false;
    }
    *out = i;
    return true;
}

/* An unsigned attribute as libvirt's virXMLPropUInt reads it: required
 * and nonzero as asked, its errors. */
static bool
prop_uint(xmlNodePtr node, const char *name, bool required, bool nonzero, guint *out, bool *present, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);
    guint64 n;
    char *end = NULL;

    if (present)
        *present = v != NULL;
    if (!v) {
        if (required) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element '%s'", name,
                          (const char *)node->name);
            return false;
        }
        return true;
    }
    errno = 0;
    n = g_ascii_strtoull(v, &end, 10);
    if (!*v || *end || errno || n > G_MAXUINT || v[0] == '-' || (nonzero && n == 0)) {
        if (nonzero && !*end && !errno && n == 0)
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "Invalid value for attribute '%s' in element '%s': Zero is not permitted", name,
                          (const char *)node->name);
        else
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
                          name, (const char *)node->name, v);
        return false;
    }
    *out = (guint)n;
    return true;
}

/* The text of the first child named name; NULL when there is none or it
 * is empty (libvirt's XPath string() gives no value for either). */
static char *
child_text(xmlNodePtr node, const char *name)
{
    xmlNodePtr c = child(node, name);
    char *t = c ? vrt_xml_text(c) : NULL;

    if (t && !*t)
        g_clear_pointer(&t, g_free);
    return t;
}

static bool
parse_host_part(xmlNodePtr root, VrtCpuDef *def, GError **error)
{
    xmlNodePtr n;

    def->arch = child_text(root, "arch");
    if (!def->arch) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing CPU architecture");
        return false;
    }
    if (!*def->arch || strspn(def->arch, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(def->arch)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Unknown architecture %s", def->arch);
        return false;
    }
    if ((n = child(root, "microcode"))) {
        g_autofree char *v = vrt_xml_prop(n, "version");
        if (v) {
            char *end = NULL;
            guint64 x = g_ascii_strtoull(v, &end, 10);
            if (!*v || *end || x > G_MAXUINT) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "invalid microcode version");
                return false;
            }
            def->microcode = (guint)x;
        }
    }
    if ((n = child(root, "signature"))) {
        if (!prop_uint(n, "family", true, true, &def->sig_family, NULL, error) ||
            !prop_uint(n, "model", true, false, &def->sig_model, NULL, error) ||
            !prop_uint(n, "stepping", true, false, &def->sig_stepping, NULL, error))
            return false;
    }
    return true;
}

static bool
parse_features(xmlNodePtr root, VrtCpuDef *def, GError **error)
{
    guint n = 0;

    VRT_XML_FOREACH_CHILD(c, root)
    {
        if (vrt_xml_is(c, "feature"))
            n++;
    }
    if (n && !def->model && def->mode == VRT_CPU_MODE_CUSTOM) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Non-empty feature list specified without CPU model");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, root)
    {
        g_autofree char *name = NULL;
        int policy = VRT_CPU_FEATURE_NONE;

        if (!vrt_xml_is(c, "feature"))
            continue;
        if (def->type == VRT_CPU_TYPE_GUEST) {
            g_autofree char *p = vrt_xml_prop(c, "policy");
            policy = p ? vrt_enum_from_string(policy_names, p) : VRT_CPU_FEATURE_REQUIRE;
            if (policy < 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid CPU feature policy");
                return false;
            }
        }
        name = vrt_xml_prop(c, "name");
        if (!name || !*name) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid CPU feature name");
            return false;
        }
        if (vrt_cpu_def_find_feature(def, name)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU feature '%s' specified more than once", name);
            return false;
        }
        vrt_cpu_def_add_feature(def, name, policy);
    }
    return true;
}

static bool
parse_topology(xmlNodePtr root, VrtCpuDef *def, GError **error)
{
    xmlNodePtr t = child(root, "topology");
    bool dies = false;

    if (!t)
        return true;
    if (!prop_uint(t, "sockets", true, true, &def->sockets, NULL, error) ||
        !prop_uint(t, "dies", false, true, &def->dies, &dies, error) ||
        !prop_uint(t, "cores", true, true, &def->cores, NULL, error) ||
        !prop_uint(t, "threads", true, true, &def->threads, NULL, error))
        return false;
    if (!dies)
        def->dies = 1;
    return true;
}

static bool
parse_maxphysaddr(xmlNodePtr root, VrtCpuDef *def, GError **error)
{
    xmlNodePtr a = child(root, "maxphysaddr");
    g_autofree char *mode = NULL;
    guint bits;
    bool present;

    if (!a)
        return true;
    mode = vrt_xml_prop(a, "mode");
    if (!mode) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element '%s'", "mode",
                      "maxphysaddr");
        return false;
    }
    if (!prop_enum(a, "mode", addr_mode_names, &def->addr_mode, error) ||
        !prop_uint(a, "bits", false, false, &bits, &present, error))
        return false;
    if (present)
        def->addr_bits = (int)MIN(bits, (guint)G_MAXINT);
    return true;
}

static VrtCpuDef *
parse_root(xmlNodePtr root, VrtCpuType type, GError **error)
{
    g_autoptr(VrtCpuDef) def = NULL;
    g_autofree char *mode = NULL;
    g_autofree char *migratable = NULL;
    xmlNodePtr model;

    if (!vrt_xml_is(root, "cpu")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "XML does not contain expected 'cpu' element");
        return NULL;
    }
    if (type == VRT_CPU_TYPE_AUTO) {
        if (child(root, "arch")) {
            g_autofree char *match = vrt_xml_prop(root, "match");
            if (match) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "'arch' element cannot be used inside 'cpu' element with 'match' attribute'");
                return NULL;
            }
            type = VRT_CPU_TYPE_HOST;
        } else {
            type = VRT_CPU_TYPE_GUEST;
        }
    }
    def = vrt_cpu_def_new(type);
    if ((mode = vrt_xml_prop(root, "mode"))) {
        if (type == VRT_CPU_TYPE_HOST) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Attribute mode is only allowed for guest CPU");
            return NULL;
        }
        if ((def->mode = vrt_enum_from_string(mode_names, mode)) < 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid mode attribute '%s'", mode);
            return NULL;
        }
    }
    if ((migratable = vrt_xml_prop(root, "migratable"))) {
        if (!g_str_equal(migratable, "on") && !g_str_equal(migratable, "off")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.",
                          "migratable", "cpu", migratable);
            return NULL;
        }
        if (def->mode != VRT_CPU_MODE_HOST_PASSTHROUGH && def->mode != VRT_CPU_MODE_MAXIMUM) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode");
            return NULL;
        }
    }
    if (type == VRT_CPU_TYPE_GUEST) {
        int match = VRT_CPU_MATCH_EXACT, check = 0;
        if (!prop_enum(root, "match", match_names, &match, error) ||
            !prop_enum(root, "check", check_names, &check, error))
            return NULL;
        def->match = match;
        def->check = check;
    }
    if (type == VRT_CPU_TYPE_HOST && !parse_host_part(root, def, error))
        return NULL;
    model = child(root, "model");
    def->model = child_text(root, "model");
    if (!def->model && type == VRT_CPU_TYPE_HOST) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing CPU model name");
        return NULL;
    }
    if (model && type == VRT_CPU_TYPE_GUEST && def->mode != VRT_CPU_MODE_HOST_PASSTHROUGH &&
        def->mode != VRT_CPU_MODE_MAXIMUM) {
        g_autofree char *fallback = vrt_xml_prop(model, "fallback");
        g_autofree char *vendor_id = vrt_xml_prop(model, "vendor_id");
        int fb;

        if (fallback) {
            if ((fb = vrt_enum_from_string(fallback_names, fallback)) < 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid fallback attribute");
                return NULL;
            }
            def->fallback = fb;
        }
        if (vendor_id) {
            if (strlen(vendor_id) != 12) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "vendor_id must be exactly %d characters long", 12);
                return NULL;
            }
            if (strchr(vendor_id, ',')) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "vendor id is invalid");
                return NULL;
            }
            def->vendor_id = g_steal_pointer(&vendor_id);
        }
    }
    def->vendor = child_text(root, "vendor");
    if (def->vendor && !def->model) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU vendor specified without CPU model");
        return NULL;
    }
    if (!parse_topology(root, def, error) || !parse_features(root, def, error) || !parse_maxphysaddr(root, def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* The first fatal parser error, worded as libvirt words it: the document's
 * name and line, libxml2's message, the line's text and a caret under
 * the place (VIR_ERR_XML_DETAIL). */
typedef struct {
    char *message;
} ParseErr;

static void
catch_parse_error(void *ctx, const char *msg, ...)
{
    xmlParserCtxtPtr ctxt = ctx;
    ParseErr *pe = ctxt ? ctxt->_private : NULL;
    const xmlChar *cur, *base;
    g_autoptr(GString) context = g_string_new(NULL);
    g_autoptr(GString) pointer = g_string_new(NULL);
    gsize col;

    (void)msg;
    if (!pe || pe->message || !ctxt->input || ctxt->lastError.level != XML_ERR_FATAL || !ctxt->lastError.message)
        return;
    cur = ctxt->input->cur;
    base = ctxt->input->base;
    while (cur > base && (*cur == '\n' || *cur == '\r'))
        cur--;
    while (cur > base && *cur != '\n' && *cur != '\r')
        cur--;
    if (*cur == '\n' || *cur == '\r')
        cur++;
    col = (gsize)(ctxt->input->cur - cur);
    while (*cur && *cur != '\n' && *cur != '\r')
        g_string_append_c(context, (char)*cur++);
    for (gsize n = 0; n < col && n < context->len; n++)
        g_string_append_c(pointer, context->str[n] == '\t' ? '\t' : '-');
    g_string_append_c(pointer, '^');
    /* an empty line is printed as libvirt's printf prints its NULL */
    pe->message = g_strdup_printf("%s:%d: %s%s\n%s", ctxt->lastError.file ? ctxt->lastError.file : "(CPU_definition)",
                                  ctxt->lastError.line, ctxt->lastError.message, context->len ? context->str : "(null)",
                                  pointer->str);
}

static xmlDocPtr
read_doc(const char *xml, GError **error)
{
    static gsize init_once;
    ParseErr pe = { NULL };
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;

    if (g_once_init_enter(&init_once)) {
        xmlInitParser();
        g_once_init_leave(&init_once, 1);
    }
    if (strlen(xml) > 10 * 1024 * 1024) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU definition document is larger than 10 MiB");
        return NULL;
    }
    if (!(ctxt = xmlNewParserCtxt()) || !ctxt->sax) {
        if (ctxt)
            xmlFreeParserCtxt(ctxt);
        vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot create XML parser");
        return NULL;
    }
    ctxt->_private = &pe;
    ctxt->sax->error = catch_parse_error;
    /* no network, no entity expansion (XML_PARSE_NOENT is not given) */
    doc =
        xmlCtxtReadMemory(ctxt, xml, (int)strlen(xml), "(CPU_definition)", NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING);
    xmlFreeParserCtxt(ctxt);
    if (!doc || !xmlDocGetRootElement(doc)) {
        if (pe.message)
            vrt_error_set_literal(error, VIR_ERR_XML_DETAIL, pe.message);
        else
            vrt_error_set(error, VIR_ERR_XML_ERROR, "failed to parse xml document '%s'", "[inline data]");
        g_free(pe.message);
        xmlFreeDoc(doc);
        return NULL;
    }
    g_free(pe.message);
    return doc;
}

VrtCpuDef *
vrt_cpu_def_parse(const char *xml, VrtCpuType type, GError **error)
{
    xmlDocPtr doc;
    VrtCpuDef *def;

    if (!xml) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "missing CPU definition");
        return NULL;
    }
    if (!(doc = read_doc(xml, error)))
        return NULL;
    def = parse_root(xmlDocGetRootElement(doc), type, error);
    xmlFreeDoc(doc);
    return def;
}

void
vrt_cpu_def_format_body(GString *body, const VrtCpuDef *def, guint in)
{
    bool guest = def->type == VRT_CPU_TYPE_GUEST;
    bool with_model = !guest || def->mode == VRT_CPU_MODE_CUSTOM || def->mode == VRT_CPU_MODE_HOST_MODEL;

    if (!guest && def->arch)
        vrt_xml_line(body, in, "<arch>%s</arch>", def->arch);
    if (with_model && (def->model || def->vendor_id)) {
        g_autoptr(GString) m = g_string_new("<model");
        if (guest && def->model)
            g_string_append_printf(m, " fallback='%s'", fallback_names[def->fallback]);
        if (guest)
            vrt_xml_format_attr(m, "vendor_id", def->vendor_id);
        if (def->model) {
            g_autofree char *name = vrt_xml_escape(def->model);
            g_string_append_printf(m, ">%s</model>", name);
        } else {
            g_string_append(m, "/>");
        }
        vrt_xml_line(body, in, "%s", m->str);
    }
    if (with_model && def->vendor) {
        g_autofree char *v = vrt_xml_escape(def->vendor);
        vrt_xml_line(body, in, "<vendor>%s</vendor>", v);
    }
    if (!guest && def->microcode)
        vrt_xml_line(body, in, "<microcode version='%u'/>", def->microcode);
    if (!guest && def->sig_family)
        vrt_xml_line(body, in, "<signature family='%u' model='%u' stepping='%u'/>", def->sig_family, def->sig_model,
                     def->sig_stepping);
    if (def->sockets && def->dies && def->cores && def->threads)
        vrt_xml_line(body, in, "<topology sockets='%u' dies='%u' cores='%u' threads='%u'/>", def->sockets, def->dies,
                     def->cores, def->threads);
    if (def->addr_mode >= 0) {
        if (def->addr_bits >= 0)
            vrt_xml_line(body, in, "<maxphysaddr mode='%s' bits='%d'/>", addr_mode_names[def->addr_mode],
                         def->addr_bits);
        else
            vrt_xml_line(body, in, "<maxphysaddr mode='%s'/>", addr_mode_names[def->addr_mode]);
    }
    for (guint i = 0; i < def->features->len; i++) {
        const VrtCpuFeature *f = &g_array_index(def->features, VrtCpuFeature, i);
        g_autofree char *name = vrt_xml_escape(f->name);

        if (guest)
            vrt_xml_line(body, in, "<feature policy='%s' name='%s'/>", policy_names[f->policy], name);
        else
            vrt_xml_line(body, in, "<feature name='%s'/>", name);
    }
}

void
vrt_cpu_def_format_buf(GString *buf, const VrtCpuDef *def, guint indent)
{
    bool guest = def->type == VRT_CPU_TYPE_GUEST;
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autoptr(GString) body = g_string_new(NULL);

    if (guest && (def->mode != VRT_CPU_MODE_CUSTOM || def->model)) {
        g_string_append_printf(attrs, " mode='%s'", mode_names[def->mode]);
        if (def->mode == VRT_CPU_MODE_CUSTOM)
            g_string_append_printf(attrs, " match='%s'", match_names[def->match]);
        if (def->check)
            g_string_append_printf(attrs, " check='%s'", check_names[def->check]);
    }
    vrt_cpu_def_format_body(body, def, indent + 1);
    if (body->len == 0 && attrs->len == 0)
        return;
    if (body->len == 0) {
        vrt_xml_line(buf, indent, "<cpu%s/>", attrs->str);
        return;
    }
    vrt_xml_line(buf, indent, "<cpu%s>", attrs->str);
    g_string_append(buf, body->str);
    vrt_xml_line(buf, indent, "</cpu>");
}

char *
vrt_cpu_def_format(const VrtCpuDef *def)
{
    GString *buf = g_string_new(NULL);

    vrt_cpu_def_format_buf(buf, def, 0);
    return g_string_free(buf, FALSE);
}

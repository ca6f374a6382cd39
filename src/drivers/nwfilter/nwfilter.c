/*
 * Network filter definitions (see nwfilter.h): parsed with libxml2, checked
 * as libvirt's nwfilter driver checks them when it reads one (name, chain,
 * priorities, rule actions and directions, UUID and name conflicts, filter
 * reference loops), written canonically, kept in memory by name and on
 * disk under <root>/etc/vrt/nwfilter. One mutex guards the table; file
 * writes run under it (definitions change rarely and each is one small
 * durable write).
 */
#include "drivers/nwfilter/nwfilter.h"
#include "util/error.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <errno.h>
#include <string.h>

typedef struct {
    char *name;
    guint8 uuid[16];
    char *xml; /* canonical */
    GPtrArray *refs; /* names of the filters it references */
} Filter;

struct _VrtNwfilterDriver {
    GMutex lock;
    char *dir; /* <root>/etc/vrt/nwfilter */
    GHashTable *by_name; /* name -> Filter* (owned) */
    VrtDirSync *dirsync;
};

static void
filter_free(gpointer p)
{
    Filter *f = p;

    g_free(f->name);
    g_free(f->xml);
    g_ptr_array_unref(f->refs);
    g_free(f);
}

void
vrt_nwfilter_ref_free(VrtNwfilterRef *ref)
{
    if (!ref)
        return;
    g_free(ref->name);
    g_free(ref);
}

static VrtNwfilterRef *
make_ref(const Filter *f)
{
    VrtNwfilterRef *ref = g_new0(VrtNwfilterRef, 1);

    ref->name = g_strdup(f->name);
    memcpy(ref->uuid, f->uuid, 16);
    return ref;
}

/* ---- canonical XML ---- */

/* Chains and their default priorities (libvirt's virNWFilterChainSuffix
 * table); a chain may also be PREFIX-anything for the non-root ones. */
static const struct {
    const char *name;
    int priority;
} chains[] = {
    { "root", 0 },    { "stp", -810 },  { "mac", -800 }, { "vlan", -750 },
    { "ipv4", -700 }, { "ipv6", -600 }, { "arp", -500 }, { "rarp", -400 },
};

static void
escape_attr(GString *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        default: g_string_append_c(out, *s);
        }
    }
}

static void
indent_to(GString *out, guint indent)
{
    for (guint i = 0; i < indent; i++)
        g_string_append(out, "  ");
}

/* An element as libvirt writes its XML: single-quoted attributes in the
 * order given, children indented, no comments or blank text. */
static void
format_node(GString *out, xmlNodePtr node, guint indent)
{
    bool elements = false;
    g_autofree char *text = NULL;

    indent_to(out, indent);
    g_string_append_printf(out, "<%s", (const char *)node->name);
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);

        g_string_append_printf(out, " %s='", (const char *)a->name);
        escape_attr(out, (const char *)v);
        g_string_append_c(out, '\'');
        xmlFree(v);
    }
    for (xmlNodePtr c = node->children; c; c = c->next)
        elements |= c->type == XML_ELEMENT_NODE;
    if (!elements) {
        xmlChar *v = xmlNodeGetContent(node);
        text = g_strstrip(g_strdup((const char *)v));
        xmlFree(v);
    }
    if (elements) {
        g_string_append(out, ">\n");
        for (xmlNodePtr c = node->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                format_node(out, c, indent + 1);
        indent_to(out, indent);
        g_string_append_printf(out, "</%s>\n", (const char *)node->name);
    } else if (text && *text) {
        g_string_append_c(out, '>');
        escape_attr(out, text);
        g_string_append_printf(out, "</%s>\n", (const char *)node->name);
    } else {
        g_string_append(out, "/>\n");
    }
}

static bool
parse_priority(const char *text, int *out, GError **error)
{
    char *end = NULL;
    gint64 v;

    errno = 0;
    v = g_ascii_strtoll(text, &end, 10);
    if (!*text || errno || *end || v < -1000 || v > 1000) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Priority '%s' is outside valid range of [-1000,1000]", text);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool
check_chain(const char *chain, int *priority)
{
    for (guint i = 0; i < G_N_ELEMENTS(chains); i++) {
        size_t n = strlen(chains[i].name);

        if (g_str_equal(chain, chains[i].name) ||
            (i > 0 && strncmp(chain, chains[i].name, n) == 0 && chain[n] == '-' && chain[n + 1])) {
            *priority = chains[i].priority;
            return true;
        }
    }
    return false;
}

static bool
format_rule(GString *out, xmlNodePtr rule, GError **error)
{
    static const char *const actions[] = { "drop", "accept", "reject", "return", "continue", NULL };
    static const char *const dirs[] = { "in", "out", "inout", NULL };
    g_autofree char *action = vrt_xml_prop(rule, "action");
    g_autofree char *dir = vrt_xml_prop(rule, "direction");
    g_autofree char *prio = vrt_xml_prop(rule, "priority");
    g_autofree char *statematch = vrt_xml_prop(rule, "statematch");
    int priority = 500;
    bool children = false;

    if (!action) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "rule node requires action attribute");
        return false;
    }
    if (!g_strv_contains(actions, action)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown rule action attribute value");
        return false;
    }
    if (!dir) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "rule node requires direction attribute");
        return false;
    }
    if (!g_strv_contains(dirs, dir)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown rule direction attribute value");
        return false;
    }
    if (prio && !parse_priority(prio, &priority, error))
        return false;
    indent_to(out, 1);
    g_string_append_printf(out, "<rule action='%s' direction='%s' priority='%d'", action, dir, priority);
    if (statematch && (g_str_equal(statematch, "0") || g_ascii_strcasecmp(statematch, "false") == 0))
        g_string_append(out, " statematch='false'");
    for (xmlNodePtr c = rule->children; c; c = c->next)
        children |= c->type == XML_ELEMENT_NODE;
    if (!children) {
        g_string_append(out, "/>\n");
        return true;
    }
    g_string_append(out, ">\n");
    for (xmlNodePtr c = rule->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            format_node(out, c, 2);
    indent_to(out, 1);
    g_string_append(out, "</rule>\n");
    return true;
}

static char *
canonical(const char *xml, guint flags, char **name_out, guint8 uuid[16], GPtrArray *refs, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    xmlDocPtr doc = vrt_xml_read(xml, "(nwfilter_definition)", "filter", NULL, error);
    xmlNodePtr root;
    g_autofree char *name = NULL;
    g_autofree char *chain = NULL;
    g_autofree char *prio = NULL;
    int priority = 0;
    bool have_uuid = false;
    char uuidstr[VRT_UUID_STRING_LEN];
    bool ok = false;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if ((flags & VRT_NWFILTER_DEFINE_VALIDATE) && !vrt_xml_validate(doc, "nwfilter.rng", error))
        goto out;
    name = vrt_xml_prop(root, "name");
    if (!name || !*name) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "filter has no name");
        goto out;
    }
    if (strchr(name, '/')) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "name %s cannot contain '/'", name);
        goto out;
    }
    chain = vrt_xml_prop(root, "chain");
    if (!chain)
        chain = g_strdup("root");
    if (!check_chain(chain, &priority)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown chain suffix '%s'", chain);
        goto out;
    }
    prio = vrt_xml_prop(root, "priority");
    if (prio && !parse_priority(prio, &priority, error))
        goto out;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && vrt_xml_is(c, "uuid")) {
            xmlChar *v = xmlNodeGetContent(c);
            g_autofree char *s = g_strstrip(g_strdup((const char *)v));

            xmlFree(v);
            if (!vrt_uuid_parse(s, uuid)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unable to parse uuid '%s'", s);
                goto out;
            }
            have_uuid = true;
        }
    }
    if (!have_uuid)
        vrt_uuid_generate(uuid);
    vrt_uuid_format(uuid, uuidstr);
    g_string_append_printf(out, "<filter name='");
    escape_attr(out, name);
    g_string_append_printf(out, "' chain='%s'", chain);
    if (priority)
        g_string_append_printf(out, " priority='%d'", priority);
    g_string_append_printf(out, ">\n  <uuid>%s</uuid>\n", uuidstr);
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || vrt_xml_is(c, "uuid"))
            continue;
        if (vrt_xml_is(c, "rule")) {
            if (!format_rule(out, c, error))
                goto out;
        } else if (vrt_xml_is(c, "filterref")) {
            g_autofree char *ref = vrt_xml_prop(c, "filter");

            if (!ref || !*ref) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "rule node requires action attribute");
                goto out;
            }
            if (refs)
                g_ptr_array_add(refs, g_strdup(ref));
            format_node(out, c, 1);
        } else {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s> in <filter> is not supported",
                          (const char *)c->name);
            goto out;
        }
    }
    g_string_append(out, "</filter>\n");
    *name_out = g_steal_pointer(&name);
    ok = true;
out:
    xmlFreeDoc(doc);
    return ok ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

char *
vrt_nwfilter_canonical(const char *xml, char **name, guint8 uuid[16], GError **error)
{
    return canonical(xml, 0, name, uuid, NULL, error);
}

/* ---- the table ---- */

static char *
file_path(VrtNwfilterDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);

    return g_build_filename(drv->dir, file, NULL);
}

static Filter *
find_uuid_locked(VrtNwfilterDriver *drv, const guint8 *uuid)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Filter *f = value;
        if (memcmp(f->uuid, uuid, 16) == 0)
            return f;
    }
    return NULL;
}

/* Would name, referencing refs, close a loop of filter references? */
static bool
loops_locked(VrtNwfilterDriver *drv, const char *name, GPtrArray *refs, GHashTable *seen)
{
    for (guint i = 0; i < refs->len; i++) {
        const char *r = g_ptr_array_index(refs, i);
        Filter *f;

        if (g_str_equal(r, name))
            return true;
        if (!g_hash_table_add(seen, (gpointer)r))
            continue;
        f = g_hash_table_lookup(drv->by_name, r);
        if (f && loops_locked(drv, name, f->refs, seen))
            return true;
    }
    return false;
}

static Filter *
filter_new(const char *xml, guint flags, GError **error)
{
    Filter *f = g_new0(Filter, 1);

    f->refs = g_ptr_array_new_with_free_func(g_free);
    f->xml = canonical(xml, flags, &f->name, f->uuid, f->refs, error);
    if (!f->xml) {
        filter_free(f);
        return NULL;
    }
    return f;
}

VrtNwfilterDriver *
vrt_nwfilter_driver_new(const char *root, GError **error)
{
    g_autoptr(VrtNwfilterDriver) drv = g_new0(VrtNwfilterDriver, 1);
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    g_mutex_init(&drv->lock);
    drv->dir = g_build_filename(root && *root ? root : "/", "etc/vrt/nwfilter", NULL);
    drv->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, filter_free);
    drv->dirsync = vrt_dir_sync_new();
    if (!vrt_dir_ensure(drv->dir, 0755, error))
        return NULL;
    dir = g_dir_open(drv->dir, 0, NULL);
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GError) err = NULL;
        Filter *f;

        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(drv->dir, entry, NULL);
        if (!vrt_file_read(path, &text, NULL, &err) || !(f = filter_new(text, 0, &err))) {
            g_warning("nwfilter: skipping %s: %s", path, err->message);
            continue;
        }
        if (g_hash_table_contains(drv->by_name, f->name) || find_uuid_locked(drv, f->uuid)) {
            g_warning("nwfilter: skipping %s: filter '%s' or its uuid is defined twice", path, f->name);
            filter_free(f);
            continue;
        }
        g_hash_table_insert(drv->by_name, f->name, f);
    }
    return g_steal_pointer(&drv);
}

void
vrt_nwfilter_driver_free(VrtNwfilterDriver *drv)
{
    if (!drv)
        return;
    g_hash_table_unref(drv->by_name);
    vrt_dir_sync_free(drv->dirsync);
    g_free(drv->dir);
    g_mutex_clear(&drv->lock);
    g_free(drv);
}

static gint
cmp_ref(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VrtNwfilterRef *const *)a)->name, (*(VrtNwfilterRef *const *)b)->name);
}

GPtrArray *
vrt_nwfilter_list(VrtNwfilterDriver *drv)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_nwfilter_ref_free);
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(out, make_ref(value));
    g_ptr_array_sort(out, cmp_ref);
    return out;
}

VrtNwfilterRef *
vrt_nwfilter_lookup_by_name(VrtNwfilterDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Filter *f = g_hash_table_lookup(drv->by_name, name);

    if (!f) {
        vrt_error_set(error, VIR_ERR_NO_NWFILTER, "no nwfilter with matching name '%s'", name);
        return NULL;
    }
    return make_ref(f);
}

static Filter *
by_uuid_locked(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error)
{
    Filter *f = find_uuid_locked(drv, uuid);

    if (!f) {
        char s[VRT_UUID_STRING_LEN];

        vrt_uuid_format(uuid, s);
        vrt_error_set(error, VIR_ERR_NO_NWFILTER, "no nwfilter with matching uuid '%s'", s);
    }
    return f;
}

VrtNwfilterRef *
vrt_nwfilter_lookup_by_uuid(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Filter *f = by_uuid_locked(drv, uuid, error);

    return f ? make_ref(f) : NULL;
}

char *
vrt_nwfilter_get_xml(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Filter *f = by_uuid_locked(drv, uuid, error);

    return f ? g_strdup(f->xml) : NULL;
}

VrtNwfilterRef *
vrt_nwfilter_define(VrtNwfilterDriver *drv, const char *xml, guint flags, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *path = NULL;
    Filter *f = filter_new(xml, flags, error);
    Filter *old;

    if (!f)
        return NULL;
    locker = g_mutex_locker_new(&drv->lock);
    old = find_uuid_locked(drv, f->uuid);
    if (old && !g_str_equal(old->name, f->name)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "filter with same UUID but different name ('%s') already exists",
                      old->name);
        filter_free(f);
        return NULL;
    }
    if (!old && (old = g_hash_table_lookup(drv->by_name, f->name))) {
        char s[VRT_UUID_STRING_LEN];

        vrt_uuid_format(old->uuid, s);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "filter '%s' already exists with uuid %s", f->name, s);
        filter_free(f);
        return NULL;
    }
    if (loops_locked(drv, f->name, f->refs, seen)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "filter would introduce a loop");
        filter_free(f);
        return NULL;
    }
    path = file_path(drv, f->name);
    if (!vrt_file_write_durable(drv->dirsync, path, f->xml, -1, 0600, error)) {
        filter_free(f);
        return NULL;
    }
    g_hash_table_replace(drv->by_name, f->name, f);
    return make_ref(f);
}

bool
vrt_nwfilter_undefine(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Filter *f = by_uuid_locked(drv, uuid, error);
    g_autofree char *path = NULL;

    if (!f)
        return false;
    path = file_path(drv, f->name);
    if (!vrt_file_remove_durable(drv->dirsync, path, error))
        return false;
    g_hash_table_remove(drv->by_name, f->name);
    return true;
}

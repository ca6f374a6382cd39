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
#include "drivers/nwfilter/nwfilter_rule.h"
#include "util/error.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <errno.h>
#include <stdlib.h>
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
 * table); a chain may also be PREFIX-anything for the non-root ones. libvirt
 * 9.0's table of default priorities has no stp (its -810 is used only for
 * the chain it makes), so an stp chain gets 0, which is not written. */
static const struct {
    const char *name;
    int priority;
} chains[] = {
    { "root", 0 },    { "stp", 0 },     { "mac", -800 }, { "vlan", -750 },
    { "ipv4", -700 }, { "ipv6", -600 }, { "arp", -500 }, { "rarp", -400 },
};

static void
indent_to(GString *out, guint indent)
{
    for (guint i = 0; i < indent; i++)
        g_string_append(out, "  ");
}

static bool
parse_priority(const char *text, int *out, GError **error)
{
    char *end = NULL;
    gint64 v;

    errno = 0;
    v = g_ascii_strtoll(text, &end, 10);
    if (end == text || errno || *end || v < G_MININT || v > G_MAXINT) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Could not parse chain priority '%s'", text);
        return false;
    }
    if (v < -1000 || v > 1000) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Priority '%d' is outside valid range of [-1000,1000]", (int)v);
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

/* A rule priority as libvirt reads it: a number in [-1000,1000]; anything
 * else leaves the default, 500. */
static int
rule_priority(const char *text)
{
    char *end = NULL;
    long v;

    if (!text)
        return 500;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < -1000 || v > 1000)
        return 500;
    return (int)v;
}

/* A rule as libvirt writes it back (its protocol element: nwfilter_rule.c). */
static bool
format_rule(GString *out, xmlNodePtr rule, GError **error)
{
    static const char *const actions[] = { "drop", "accept", "reject", "return", "continue", NULL };
    static const char *const dirs[] = { "in", "out", "inout", NULL };
    g_autofree char *action = vrt_xml_prop(rule, "action");
    g_autofree char *dir = vrt_xml_prop(rule, "direction");
    g_autofree char *prio = vrt_xml_prop(rule, "priority");
    g_autofree char *statematch = vrt_xml_prop(rule, "statematch");
    g_autofree char *element = NULL;

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
    if (!(element = vrt_nwfilter_rule_element(rule, 2, error)))
        return false;
    indent_to(out, 1);
    g_string_append_printf(out, "<rule action='%s' direction='%s' priority='%d'", action, dir, rule_priority(prio));
    if (statematch && (g_str_equal(statematch, "0") || g_ascii_strcasecmp(statematch, "false") == 0))
        g_string_append(out, " statematch='false'");
    if (!*element) {
        g_string_append(out, "/>\n");
        return true;
    }
    g_string_append_printf(out, ">\n%s", element);
    indent_to(out, 1);
    g_string_append(out, "</rule>\n");
    return true;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define VAR_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* A <filterref> as libvirt writes it: its parameters by name (in byte
 * order), the values of one name in document order; a parameter without
 * a valid name (letters, digits, '_') or a non-empty value of letters,
 * digits, '_', '.' and ':' is dropped. */
static bool
format_filterref(GString *out, xmlNodePtr node, GPtrArray *refs, GError **error)
{
    g_autofree char *ref = vrt_xml_prop(node, "filter");
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) values =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);

    if (!ref) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "rule node requires action attribute");
        return false;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        GPtrArray *list;

        if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "parameter"))
            continue;
        name = vrt_xml_prop(c, "name");
        value = vrt_xml_prop(c, "value");
        if (!name || name[strspn(name, VAR_NAME_CHARS)] || !value || !*value ||
            value[strspn(value, VAR_NAME_CHARS ".:")])
            continue;
        if (!(list = g_hash_table_lookup(values, name))) {
            list = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(names, g_steal_pointer(&name));
            g_hash_table_insert(values, g_ptr_array_index(names, names->len - 1), list);
        }
        g_ptr_array_add(list, g_steal_pointer(&value));
    }
    g_ptr_array_sort(names, cmp_str);
    if (refs)
        g_ptr_array_add(refs, g_strdup(ref));
    indent_to(out, 1);
    g_string_append(out, "<filterref");
    vrt_xml_format_attr(out, "filter", ref);
    if (!names->len) {
        g_string_append(out, "/>\n");
        return true;
    }
    g_string_append(out, ">\n");
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        GPtrArray *list = g_hash_table_lookup(values, name);

        for (guint j = 0; j < list->len; j++) {
            indent_to(out, 2);
            g_string_append_printf(out, "<parameter name='%s' value='%s'/>\n", name,
                                   (const char *)g_ptr_array_index(list, j));
        }
    }
    indent_to(out, 1);
    g_string_append(out, "</filterref>\n");
    return true;
}

static char *
canonical(const char *xml, guint flags, char **name_out, guint8 uuid[16], bool *uuid_given, GPtrArray *refs,
          GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    xmlDocPtr doc = vrt_xml_read(xml, "(nwfilter_definition)", "filter", NULL, error);
    xmlNodePtr root;
    g_autofree char *name = NULL;
    g_autofree char *chain = NULL;
    g_autofree char *prio = NULL;
    int priority = 0;
    int given = 0;
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
    /* As in libvirt, the priority is checked first and applies only to a
     * chain given: without one the chain is root, priority 0. */
    prio = vrt_xml_prop(root, "priority");
    if (prio && !parse_priority(prio, &given, error))
        goto out;
    chain = vrt_xml_prop(root, "chain");
    if (!chain) {
        chain = g_strdup("root");
    } else {
        if (!check_chain(chain, &priority)) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown chain suffix '%s'", chain);
            goto out;
        }
        if (prio)
            priority = given;
    }
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
    g_string_append(out, "<filter");
    vrt_xml_format_attr(out, "name", name);
    g_string_append_printf(out, " chain='%s'", chain);
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
            if (!format_filterref(out, c, refs, error))
                goto out;
        } else {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "element <%s> in <filter> is not supported",
                          (const char *)c->name);
            goto out;
        }
    }
    g_string_append(out, "</filter>\n");
    *name_out = g_steal_pointer(&name);
    if (uuid_given)
        *uuid_given = have_uuid;
    ok = true;
out:
    xmlFreeDoc(doc);
    return ok ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

char *
vrt_nwfilter_canonical(const char *xml, char **name, guint8 uuid[16], GError **error)
{
    return canonical(xml, 0, name, uuid, NULL, NULL, error);
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
filter_new(const char *xml, guint flags, bool *uuid_given, GError **error)
{
    Filter *f = g_new0(Filter, 1);

    f->refs = g_ptr_array_new_with_free_func(g_free);
    f->xml = canonical(xml, flags, &f->name, f->uuid, uuid_given, f->refs, error);
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
    g_autoptr(GPtrArray) no_uuid = g_ptr_array_new(); /* Filter* in by_name */
    g_autoptr(GPtrArray) no_uuid_paths = g_ptr_array_new_with_free_func(g_free);
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
        bool uuid_given = false;
        Filter *f;

        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(drv->dir, entry, NULL);
        if (!vrt_file_read(path, &text, NULL, &err) || !(f = filter_new(text, 0, &uuid_given, &err))) {
            g_warning("nwfilter: skipping %s: %s", path, err->message);
            continue;
        }
        if (g_hash_table_contains(drv->by_name, f->name) || find_uuid_locked(drv, f->uuid)) {
            g_warning("nwfilter: skipping %s: filter '%s' or its uuid is defined twice", path, f->name);
            filter_free(f);
            continue;
        }
        if (!uuid_given) {
            g_ptr_array_add(no_uuid, f);
            g_ptr_array_add(no_uuid_paths, g_steal_pointer(&path));
        }
        g_hash_table_insert(drv->by_name, f->name, f);
    }
    /* A file without a UUID (Debian's built-in filters as installed) is
     * written back with the one it got, as libvirt does, so the filter
     * keeps it across restarts. */
    for (guint i = 0; i < no_uuid->len; i++) {
        Filter *f = g_ptr_array_index(no_uuid, i);
        const char *path = g_ptr_array_index(no_uuid_paths, i);
        g_autoptr(GError) err = NULL;

        if (!vrt_file_write_durable(drv->dirsync, path, f->xml, -1, 0600, &err))
            g_warning("nwfilter: %s keeps no UUID across a restart: %s", path, err->message);
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
    Filter *f = filter_new(xml, flags, NULL, error);
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

/*
 * Storage pool and volume XML (see storage_conf.h): parsing with libvirt
 * 9.0's error codes and messages, formatting in its element order
 * (storagepool.rng, storagevol.rng).
 */
#include "conf/storage/storage_conf.h"
#include "util/error.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>

/* Storage XML is small; libvirt's errors for it have the network style. */
static const VrtXmlWording storage_wording = {
    .style = VRT_XML_STYLE_NETWORK,
    .max_bytes = 1024 * 1024,
    .root_label = NULL,
};

/* libvirt's virStorageFileFormat names (storagevol.rng's format types). */
static const char *const vol_formats[] = {
    "none", "raw", "dir",   "bochs", "cloop", "dmg",   "iso", "vpc",  "vdi",
    "fat",  "vhd", "ploop", "cow",   "qcow",  "qcow2", "qed", "vmdk", NULL,
};

bool
vrt_storage_vol_format_known(const char *format)
{
    return vrt_enum_from_string(vol_formats, format) >= 0;
}

static void
perms_clear(VrtStoragePerms *p)
{
    g_clear_pointer(&p->label, g_free);
}

static void
perms_copy(VrtStoragePerms *dst, const VrtStoragePerms *src)
{
    *dst = *src;
    dst->label = g_strdup(src->label);
}

void
vrt_storage_pool_def_free(VrtStoragePoolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->type);
    g_free(def->target_path);
    perms_clear(&def->perms);
    g_free(def);
}

VrtStoragePoolDef *
vrt_storage_pool_def_copy(const VrtStoragePoolDef *def)
{
    VrtStoragePoolDef *c = g_new0(VrtStoragePoolDef, 1);
    *c = *def;
    c->name = g_strdup(def->name);
    c->type = g_strdup(def->type);
    c->target_path = g_strdup(def->target_path);
    perms_copy(&c->perms, &def->perms);
    return c;
}

void
vrt_storage_vol_target_free(VrtStorageVolTarget *t)
{
    if (!t)
        return;
    g_free(t->path);
    g_free(t->format);
    perms_clear(&t->perms);
    g_free(t);
}

static void
target_copy(VrtStorageVolTarget *dst, const VrtStorageVolTarget *src)
{
    *dst = *src;
    dst->path = g_strdup(src->path);
    dst->format = g_strdup(src->format);
    perms_copy(&dst->perms, &src->perms);
}

void
vrt_storage_vol_def_free(VrtStorageVolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->key);
    g_free(def->target.path);
    g_free(def->target.format);
    perms_clear(&def->target.perms);
    vrt_storage_vol_target_free(def->backing);
    g_free(def->compat);
    g_free(def);
}

VrtStorageVolDef *
vrt_storage_vol_def_copy(const VrtStorageVolDef *def)
{
    VrtStorageVolDef *c = g_new0(VrtStorageVolDef, 1);
    *c = *def;
    c->name = g_strdup(def->name);
    c->key = g_strdup(def->key);
    target_copy(&c->target, &def->target);
    if (def->backing) {
        c->backing = g_new0(VrtStorageVolTarget, 1);
        target_copy(c->backing, def->backing);
    }
    c->compat = g_strdup(def->compat);
    return c;
}

/* ---- parsing ---- */

/* The first child element of node named name, NULL without. */
static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    if (!node)
        return NULL;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, name))
            return c;
    }
    return NULL;
}

/* Trimmed text of the child element name, NULL without it. */
static char *
child_text(xmlNodePtr node, const char *name)
{
    xmlNodePtr c = child(node, name);
    if (!c)
        return NULL;
    g_autofree char *t = vrt_xml_text(c);
    return g_strdup(g_strstrip(t));
}

/* libvirt's virStorageDefParsePerms: <mode> octal, <owner>, <group>, <label>. */
static bool
parse_perms(xmlNodePtr perms, VrtStoragePerms *p, GError **error)
{
    p->mode = p->uid = p->gid = -1;
    if (!perms)
        return true;
    g_autofree char *mode = child_text(perms, "mode");
    if (mode) {
        char *end = NULL;
        errno = 0;
        long v = strtol(mode, &end, 8);
        if (errno || end == mode || *end || v < 0 || (v & ~0777)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "malformed octal mode");
            return false;
        }
        p->mode = v;
    }
    const char *ids[] = { "owner", "group" };
    for (int i = 0; i < 2; i++) {
        g_autofree char *s = child_text(perms, ids[i]);
        if (!s)
            continue;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < -1 || v > G_MAXUINT32) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "malformed %s element", ids[i]);
            return false;
        }
        if (i == 0)
            p->uid = v;
        else
            p->gid = v;
    }
    p->label = child_text(perms, "label");
    return true;
}

/* libvirt's virScaleInteger units: bytes, KiB..EiB (k, M, ...) and KB..EB. */
static bool
scale_size(const char *unit, const char *val, guint64 *out, GError **error)
{
    char *end = NULL;
    errno = 0;
    if (!val || !*val || *val == '-') {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "malformed capacity element");
        return false;
    }
    guint64 v = g_ascii_strtoull(val, &end, 10);
    if (errno || end == val || *end) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "malformed capacity element");
        return false;
    }
    guint64 base = 1024;
    int power = 0;
    if (unit && *unit) {
        const char *prefixes = "kmgtpe";
        size_t len = strlen(unit);
        if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
            g_ascii_strcasecmp(unit, "bytes") == 0) {
            power = 0;
        } else {
            const char *p = strchr(prefixes, g_ascii_tolower(unit[0]));
            if (!p || unit[0] == '\0' || len > 3) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
                return false;
            }
            power = (int)(p - prefixes) + 1;
            if (len == 1) {
                base = 1024;
            } else if (len == 2 && g_ascii_tolower(unit[1]) == 'b') {
                base = 1000;
            } else if (len == 3 && unit[1] == 'i' && g_ascii_tolower(unit[2]) == 'b') {
                base = 1024;
            } else {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
                return false;
            }
        }
    }
    for (int i = 0; i < power; i++) {
        if (v > G_MAXINT64 / base) {
            vrt_error_set(error, VIR_ERR_OVERFLOW, "value too large: %s%s", val, unit);
            return false;
        }
        v *= base;
    }
    if (v > G_MAXINT64) {
        vrt_error_set(error, VIR_ERR_OVERFLOW, "value too large: %s%s", val, unit ? unit : "");
        return false;
    }
    *out = v;
    return true;
}

static bool
check_pool_name(const char *name, GError **error)
{
    if (strchr(name, '/')) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "name %s cannot contain '/'", name);
        return false;
    }
    if (!*name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing pool source name element");
        return false;
    }
    if (strlen(name) > VRT_STORAGE_POOL_NAME_MAX) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "pool name is longer than %d bytes", VRT_STORAGE_POOL_NAME_MAX);
        return false;
    }
    return true;
}

/* libvirt's virFileSanitizePath: no repeated or trailing '/'. */
static char *
sanitize_path(const char *path)
{
    GString *s = g_string_new(NULL);
    for (const char *p = path; *p; p++) {
        if (*p == '/' && s->len && s->str[s->len - 1] == '/')
            continue;
        g_string_append_c(s, *p);
    }
    if (s->len > 1 && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

static bool
parse_pool(xmlNodePtr root, VrtStoragePoolDef *def, GError **error)
{
    def->type = vrt_xml_prop(root, "type");
    if (!def->type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required attribute 'type' in element 'pool'");
        return false;
    }
    static const char *const pool_types[] = { "dir",      "fs",           "netfs", "logical",  "disk",
                                              "iscsi",    "iscsi-direct", "scsi",  "mpath",    "rbd",
                                              "sheepdog", "gluster",      "zfs",   "vstorage", NULL };
    if (vrt_enum_from_string(pool_types, def->type) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'pool': '%s'.",
                      def->type);
        return false;
    }
    if (strcmp(def->type, "dir") != 0) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "missing backend for pool type %s (%s)", def->type,
                      "vrt serves dir pools");
        return false;
    }
    def->name = child_text(root, "name");
    if (!def->name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing pool source name element");
        return false;
    }
    if (!check_pool_name(def->name, error))
        return false;
    g_autofree char *uuid = child_text(root, "uuid");
    if (uuid) {
        if (!vrt_uuid_parse(uuid, def->uuid)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "malformed uuid element");
            return false;
        }
    } else {
        vrt_uuid_generate(def->uuid);
    }
    xmlNodePtr target = child(root, "target");
    g_autofree char *path = child_text(target, "path");
    if (!path) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing storage pool target path");
        return false;
    }
    def->target_path = sanitize_path(path);
    return parse_perms(child(target, "permissions"), &def->perms, error);
}

VrtStoragePoolDef *
vrt_storage_pool_def_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(storage_pool_definition)", "pool", &storage_wording, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtStoragePoolDef) def = g_new0(VrtStoragePoolDef, 1);
    bool ok = parse_pool(xmlDocGetRootElement(doc), def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

static bool
parse_format(xmlNodePtr target, char **out, GError **error)
{
    xmlNodePtr f = child(target, "format");
    g_autofree char *type = f ? vrt_xml_prop(f, "type") : NULL;
    if (!type) {
        *out = g_strdup("raw");
        return true;
    }
    if (!vrt_storage_vol_format_known(type)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown volume format type %s", type);
        return false;
    }
    *out = g_steal_pointer(&type);
    return true;
}

static bool
parse_vol(xmlNodePtr root, guint flags, VrtStorageVolDef *def, GError **error)
{
    def->name = child_text(root, "name");
    if (!def->name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing volume name element");
        return false;
    }
    g_autofree char *type = vrt_xml_prop(root, "type");
    if (type && strcmp(type, "file") != 0) {
        static const char *const vol_types[] = { "file", "block", "dir", "network", "netdir", "ploop", NULL };
        if (vrt_enum_from_string(vol_types, type) < 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown volume type '%s'", type);
            return false;
        }
    }
    def->key = child_text(root, "key");
    xmlNodePtr bs = child(root, "backingStore");
    g_autofree char *bpath = child_text(bs, "path");
    if (bpath) {
        def->backing = g_new0(VrtStorageVolTarget, 1);
        def->backing->path = g_steal_pointer(&bpath);
        if (!parse_format(bs, &def->backing->format, error) ||
            !parse_perms(child(bs, "permissions"), &def->backing->perms, error))
            return false;
    }
    xmlNodePtr cap = child(root, "capacity");
    if (cap) {
        g_autofree char *unit = vrt_xml_prop(cap, "unit");
        g_autofree char *val = child_text(root, "capacity");
        if (!scale_size(unit, val, &def->capacity, error))
            return false;
        def->has_capacity = true;
    } else if (!((flags & VRT_STORAGE_VOL_PARSE_OPT_CAPACITY) || def->backing)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing capacity element");
        return false;
    }
    xmlNodePtr alloc = child(root, "allocation");
    if (alloc) {
        g_autofree char *unit = vrt_xml_prop(alloc, "unit");
        g_autofree char *val = child_text(root, "allocation");
        if (!scale_size(unit, val, &def->allocation, error))
            return false;
        def->has_allocation = true;
    } else {
        def->allocation = def->capacity;
    }
    xmlNodePtr target = child(root, "target");
    def->target.path = child_text(target, "path");
    if (!parse_format(target, &def->target.format, error) ||
        !parse_perms(child(target, "permissions"), &def->target.perms, error))
        return false;
    if (child(target, "encryption")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "volume encryption is not supported by vrt");
        return false;
    }
    def->compat = child_text(target, "compat");
    if (def->compat) {
        g_auto(GStrv) v = g_strsplit(def->compat, ".", 2);
        if (!v[0] || !v[1] || !*v[0] || !*v[1] || strspn(v[0], "0123456789") != strlen(v[0]) ||
            strspn(v[1], "0123456789") != strlen(v[1])) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "forbidden characters in 'compat' attribute");
            return false;
        }
    }
    xmlNodePtr cs = child(target, "clusterSize");
    if (cs) {
        g_autofree char *unit = vrt_xml_prop(cs, "unit");
        g_autofree char *val = child_text(target, "clusterSize");
        if (!scale_size(unit, val, &def->cluster_size, error))
            return false;
    }
    xmlNodePtr feats = child(target, "features");
    if (feats) {
        def->has_features = true;
        if (!def->compat)
            def->compat = g_strdup("1.1");
        VRT_XML_FOREACH_CHILD(f, feats)
        {
            if (vrt_xml_is(f, "lazy_refcounts")) {
                def->lazy_refcounts = true;
            } else {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported feature %s", (const char *)f->name);
                return false;
            }
        }
    }
    return true;
}

VrtStorageVolDef *
vrt_storage_vol_def_parse(const char *xml, guint flags, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(storage_volume_definition)", "volume", &storage_wording, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtStorageVolDef) def = g_new0(VrtStorageVolDef, 1);
    bool ok = parse_vol(xmlDocGetRootElement(doc), flags, def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

/* ---- formatting ---- */

static void
format_text(GString *out, const char *indent, const char *name, const char *value)
{
    if (!value)
        return;
    g_autofree char *esc = vrt_xml_escape(value);
    g_string_append_printf(out, "%s<%s>%s</%s>\n", indent, name, esc, name);
}

static void
format_perms(GString *out, const char *indent, const VrtStoragePerms *p)
{
    if (p->mode == -1 && p->uid == -1 && p->gid == -1 && !p->label)
        return;
    g_string_append_printf(out, "%s<permissions>\n", indent);
    if (p->mode != -1)
        g_string_append_printf(out, "%s  <mode>0%o</mode>\n", indent, (unsigned)p->mode);
    if (p->uid != -1)
        g_string_append_printf(out, "%s  <owner>%d</owner>\n", indent, (int)p->uid);
    if (p->gid != -1)
        g_string_append_printf(out, "%s  <group>%d</group>\n", indent, (int)p->gid);
    g_autofree char *in2 = g_strconcat(indent, "  ", NULL);
    format_text(out, in2, "label", p->label);
    g_string_append_printf(out, "%s</permissions>\n", indent);
}

char *
vrt_storage_pool_def_format(const VrtStoragePoolDef *def)
{
    GString *out = g_string_new(NULL);
    char uuid[VRT_UUID_STRING_LEN];
    vrt_uuid_format(def->uuid, uuid);
    g_string_append_printf(out, "<pool type='%s'>\n", def->type);
    format_text(out, "  ", "name", def->name);
    g_string_append_printf(out, "  <uuid>%s</uuid>\n", uuid);
    g_string_append_printf(out, "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n", def->capacity);
    g_string_append_printf(out, "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n", def->allocation);
    g_string_append_printf(out, "  <available unit='bytes'>%" G_GUINT64_FORMAT "</available>\n", def->available);
    g_string_append(out, "  <source>\n  </source>\n");
    g_string_append(out, "  <target>\n");
    format_text(out, "    ", "path", def->target_path);
    format_perms(out, "    ", &def->perms);
    g_string_append(out, "  </target>\n");
    g_string_append(out, "</pool>\n");
    return g_string_free(out, FALSE);
}

static void
format_time(GString *out, const char *name, const VrtStorageTime *t)
{
    g_string_append_printf(out, "      <%s>%" G_GINT64_FORMAT, name, t->sec);
    if (t->nsec)
        g_string_append_printf(out, ".%09ld", t->nsec);
    g_string_append_printf(out, "</%s>\n", name);
}

static void
format_target(GString *out, const VrtStorageVolDef *def, const VrtStorageVolTarget *t, const char *elem)
{
    g_string_append_printf(out, "  <%s>\n", elem);
    format_text(out, "    ", "path", t->path);
    g_string_append_printf(out, "    <format type='%s'/>\n", t->format ? t->format : "raw");
    format_perms(out, "    ", &t->perms);
    if (t->has_times) {
        g_string_append(out, "    <timestamps>\n");
        format_time(out, "atime", &t->atime);
        format_time(out, "mtime", &t->mtime);
        format_time(out, "ctime", &t->ctime);
        g_string_append(out, "    </timestamps>\n");
    }
    if (def) {
        format_text(out, "    ", "compat", def->compat);
        if (def->cluster_size)
            g_string_append_printf(out, "    <clusterSize unit='B'>%" G_GUINT64_FORMAT "</clusterSize>\n",
                                   def->cluster_size);
        if (def->has_features) {
            if (def->lazy_refcounts)
                g_string_append(out, "    <features>\n      <lazy_refcounts/>\n    </features>\n");
            else
                g_string_append(out, "    <features/>\n");
        }
    }
    g_string_append_printf(out, "  </%s>\n", elem);
}

char *
vrt_storage_vol_def_format(const VrtStorageVolDef *def)
{
    GString *out = g_string_new("<volume type='file'>\n");
    format_text(out, "  ", "name", def->name);
    format_text(out, "  ", "key", def->key);
    g_string_append_printf(out, "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n", def->capacity);
    g_string_append_printf(out, "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n", def->allocation);
    if (def->physical)
        g_string_append_printf(out, "  <physical unit='bytes'>%" G_GUINT64_FORMAT "</physical>\n", def->physical);
    format_target(out, def, &def->target, "target");
    if (def->backing)
        format_target(out, NULL, def->backing, "backingStore");
    g_string_append(out, "</volume>\n");
    return g_string_free(out, FALSE);
}

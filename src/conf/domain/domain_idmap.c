/*
 * <idmap> (<uid start= target= count=/>, <gid .../>): the user namespace
 * map of libvirt's container driver. libvirt's QEMU driver reads it,
 * keeps it and writes it back without using it; vrt does the same, so a
 * definition carrying one is kept as it was. Entries are written sorted
 * by start, uid before gid, and only when there is a uid map, as libvirt.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

typedef struct {
    guint start, target, count;
} IdmapEntry;

static gint
entry_cmp(gconstpointer a, gconstpointer b)
{
    const IdmapEntry *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

bool
vrt_parse_idmap(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autoptr(GArray) uids = g_array_new(FALSE, TRUE, sizeof(IdmapEntry));
    g_autoptr(GArray) gids = g_array_new(FALSE, TRUE, sizeof(IdmapEntry));
    g_autoptr(GString) out = g_string_new(NULL);

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        IdmapEntry e = { 0 };
        bool s = false, t = false, n = false;

        if (!vrt_xml_is(c, "uid") && !vrt_xml_is(c, "gid"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "start", "target", "count", NULL))
            return false;
        if (!vrt_xml_prop_uint(c, "start", G_MAXUINT, &e.start, &s, NULL) ||
            !vrt_xml_prop_uint(c, "target", G_MAXUINT, &e.target, &t, NULL) ||
            !vrt_xml_prop_uint(c, "count", G_MAXUINT, &e.count, &n, NULL) || !s || !t || !n) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "invalid idmap start/target/count settings");
            return false;
        }
        g_array_append_val(vrt_xml_is(c, "uid") ? uids : gids, e);
    }
    g_array_sort(uids, entry_cmp);
    g_array_sort(gids, entry_cmp);
    for (guint i = 0; i < uids->len; i++) {
        const IdmapEntry *e = &g_array_index(uids, IdmapEntry, i);

        g_string_append_printf(out, "<uid start='%u' target='%u' count='%u'/>\n", e->start, e->target, e->count);
    }
    for (guint i = 0; uids->len && i < gids->len; i++) {
        const IdmapEntry *e = &g_array_index(gids, IdmapEntry, i);

        g_string_append_printf(out, "<gid start='%u' target='%u' count='%u'/>\n", e->start, e->target, e->count);
    }
    g_free(def->idmap);
    def->idmap = out->len ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
    return true;
}

void
vrt_format_idmap(VrtFmt *f, const VrtDomainDef *def)
{
    g_auto(GStrv) lines = NULL;

    if (!def->idmap)
        return;
    lines = g_strsplit(def->idmap, "\n", -1);
    vrt_fmt_line(f, "<idmap>");
    f->indent++;
    for (guint i = 0; lines[i]; i++)
        if (*lines[i])
            vrt_fmt_line(f, "%s", lines[i]);
    f->indent--;
    vrt_fmt_line(f, "</idmap>");
}

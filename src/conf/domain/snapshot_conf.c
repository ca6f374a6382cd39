/*
 * Domain snapshot XML parser and formatter (see snapshot_conf.h). The
 * embedded <domain> is kept as text: the QEMU driver parses it when it
 * needs the definition back.
 */
#include "conf/domain/snapshot_conf.h"

#include <libxml/tree.h>
#include <string.h>

#include "util/error.h"
#include "util/xml.h"

static void
disk_free(gpointer p)
{
    VrtSnapshotDiskDef *d = p;
    g_free(d->name);
    g_free(d->snapshot);
    g_free(d->source);
    g_free(d);
}

void
vrt_snapshot_def_free(VrtSnapshotDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->description);
    g_free(def->parent);
    g_free(def->state);
    g_free(def->memory);
    if (def->disks)
        g_ptr_array_unref(def->disks);
    g_free(def->domain_xml);
    g_free(def);
}

static char *
trimmed_text(xmlNodePtr node)
{
    g_autofree char *t = vrt_xml_text(node);
    return g_strdup(g_strstrip(t));
}

static char *
node_to_string(xmlDocPtr doc, xmlNodePtr node)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, node, 0, 0);
    char *out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

static bool
parse_root(xmlDocPtr doc, xmlNodePtr root, VrtSnapshotDef *def, GError **error)
{
    VRT_XML_FOREACH_CHILD(c, root)
    {
        if (vrt_xml_is(c, "name"))
            def->name = trimmed_text(c);
        else if (vrt_xml_is(c, "description"))
            def->description = vrt_xml_text(c);
        else if (vrt_xml_is(c, "state"))
            def->state = trimmed_text(c);
        else if (vrt_xml_is(c, "active")) {
            g_autofree char *t = trimmed_text(c);
            def->current = g_str_equal(t, "1");
        } else if (vrt_xml_is(c, "creationTime")) {
            g_autofree char *t = trimmed_text(c);
            char *end = NULL;
            def->creation_time = g_ascii_strtoll(t, &end, 10);
            if (!*t || *end) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing creationTime from existing snapshot");
                return false;
            }
        } else if (vrt_xml_is(c, "parent")) {
            VRT_XML_FOREACH_CHILD(p, c)
            {
                if (vrt_xml_is(p, "name"))
                    def->parent = trimmed_text(p);
            }
        } else if (vrt_xml_is(c, "memory")) {
            def->memory = vrt_xml_prop(c, "snapshot");
        } else if (vrt_xml_is(c, "disks")) {
            VRT_XML_FOREACH_CHILD(d, c)
            {
                if (!vrt_xml_is(d, "disk"))
                    continue;
                VrtSnapshotDiskDef *disk = g_new0(VrtSnapshotDiskDef, 1);
                disk->name = vrt_xml_prop(d, "name");
                disk->snapshot = vrt_xml_prop(d, "snapshot");
                VRT_XML_FOREACH_CHILD(src, d)
                {
                    if (vrt_xml_is(src, "source")) {
                        g_free(disk->source);
                        disk->source = vrt_xml_prop(src, "file");
                    }
                }
                if (disk->source && !disk->snapshot)
                    disk->snapshot = g_strdup("external");
                g_ptr_array_add(def->disks, disk);
                if (!disk->name) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing name from disk snapshot element");
                    return false;
                }
            }
        } else if (vrt_xml_is(c, "domain")) {
            def->domain_xml = node_to_string(doc, c);
        }
    }
    if (def->name && !*def->name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "a snapshot's name must not be empty");
        return false;
    }
    return true;
}

VrtSnapshotDef *
vrt_snapshot_def_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(domain_snapshot)", "domainsnapshot", NULL, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtSnapshotDef) def = g_new0(VrtSnapshotDef, 1);
    def->disks = g_ptr_array_new_with_free_func(disk_free);
    bool ok = parse_root(doc, xmlDocGetRootElement(doc), def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

static void
element(GString *out, const char *indent, const char *name, const char *text)
{
    g_autofree char *esc = vrt_xml_escape(text);
    g_string_append_printf(out, "%s<%s>%s</%s>\n", indent, name, esc, name);
}

char *
vrt_snapshot_def_format(const VrtSnapshotDef *def, bool with_current)
{
    GString *out = g_string_new("<domainsnapshot>\n");
    element(out, "  ", "name", def->name);
    if (def->description)
        element(out, "  ", "description", def->description);
    if (def->state)
        element(out, "  ", "state", def->state);
    if (def->parent) {
        g_string_append(out, "  <parent>\n");
        element(out, "    ", "name", def->parent);
        g_string_append(out, "  </parent>\n");
    }
    g_string_append_printf(out, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n", def->creation_time);
    if (def->memory) {
        g_string_append(out, "  <memory");
        vrt_xml_format_attr(out, "snapshot", def->memory);
        g_string_append(out, "/>\n");
    }
    if (def->disks && def->disks->len) {
        g_string_append(out, "  <disks>\n");
        for (guint i = 0; i < def->disks->len; i++) {
            const VrtSnapshotDiskDef *d = g_ptr_array_index(def->disks, i);
            g_string_append(out, "    <disk");
            vrt_xml_format_attr(out, "name", d->name);
            vrt_xml_format_attr(out, "snapshot", d->snapshot);
            if (d->source) {
                g_string_append(out, " type='file'>\n      <driver type='qcow2'/>\n      <source");
                vrt_xml_format_attr(out, "file", d->source);
                g_string_append(out, "/>\n    </disk>\n");
            } else {
                g_string_append(out, "/>\n");
            }
        }
        g_string_append(out, "  </disks>\n");
    }
    if (def->domain_xml) {
        /* Indented by two more, as libvirt nests it. */
        g_auto(GStrv) lines = g_strsplit(def->domain_xml, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
            if (*lines[i])
                g_string_append_printf(out, "  %s\n", lines[i]);
        }
    }
    if (with_current && def->current)
        g_string_append(out, "  <active>1</active>\n");
    g_string_append(out, "</domainsnapshot>\n");
    return g_string_free(out, false);
}

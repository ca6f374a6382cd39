/*
 * A domain's I/O threads: <iothreads>N</iothreads> and the ids of
 * <iothreadids>, filled up to N with the lowest unused ids as libvirt
 * fills them (those are not written back), and the disks that name one
 * with <driver iothread=>. The QEMU driver makes each an iothread object
 * and gives a virtio disk its thread.
 */
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <stdlib.h>

bool
vrt_parse_iothreads(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    char *end;
    guint64 v;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    v = g_ascii_strtoull(text, &end, 10);
    if (!*text || *end || v > G_MAXUINT || text[0] == '-') {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid iothreads count '%s'", text);
        return false;
    }
    def->iothreads = (guint)v;
    return true;
}

bool
vrt_parse_iothreadids(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    if (!def->iothread_ids)
        def->iothread_ids = g_array_new(FALSE, FALSE, sizeof(guint));
    VRT_XML_FOREACH_CHILD(c, node)
    {
        guint id = 0;
        bool have = false;

        if (!vrt_xml_is(c, "iothread"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "id", NULL) || !vrt_xml_prop_uint(c, "id", G_MAXUINT, &id, &have, error))
            return false;
        if (!have || id == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required attribute 'id' in element 'iothread'");
            return false;
        }
        for (guint i = 0; i < def->iothread_ids->len; i++)
            if (g_array_index(def->iothread_ids, guint, i) == id) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "duplicate iothread id '%u' found", id);
                return false;
            }
        g_array_append_val(def->iothread_ids, id);
    }
    return true;
}

GArray *
vrt_domain_iothread_ids(const VrtDomainDef *def)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));
    guint next = 1;

    if (def->iothread_ids)
        g_array_append_vals(ids, def->iothread_ids->data, def->iothread_ids->len);
    while (ids->len < def->iothreads) {
        bool used = false;

        for (guint i = 0; i < ids->len && !used; i++)
            used = g_array_index(ids, guint, i) == next;
        if (!used)
            g_array_append_val(ids, next);
        next++;
    }
    return ids;
}

bool
vrt_domain_iothreads_post_parse(VrtDomainDef *def, GError **error)
{
    g_autoptr(GArray) ids = NULL;

    if (def->iothread_ids && def->iothread_ids->len > def->iothreads)
        def->iothreads = def->iothread_ids->len;
    ids = vrt_domain_iothread_ids(def);
    if (!vrt_domain_thread_sched_post_parse(def, ids, error))
        return false;
    if (def->tune && def->tune->iothreadpins->len) {
        GPtrArray *pins = def->tune->iothreadpins;
        g_autoptr(GPtrArray) sorted = g_ptr_array_new();

        /* each pin names a thread that exists, once; written in the
         * threads' order as libvirt keeps them on the threads */
        for (guint i = 0; i < pins->len; i++) {
            const VrtDomainVcpuPin *p = g_ptr_array_index(pins, i);
            bool found = false;

            for (guint j = 0; j < ids->len && !found; j++)
                found = g_array_index(ids, guint, j) == p->vcpu;
            if (!found) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Cannot find 'iothread' : %u", p->vcpu);
                return false;
            }
            for (guint j = 0; j < i; j++)
                if (((const VrtDomainVcpuPin *)g_ptr_array_index(pins, j))->vcpu == p->vcpu) {
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "duplicate iothreadpin for same iothread '%u'",
                                  p->vcpu);
                    return false;
                }
        }
        for (guint j = 0; j < ids->len; j++)
            for (guint i = 0; i < pins->len; i++)
                if (((const VrtDomainVcpuPin *)g_ptr_array_index(pins, i))->vcpu == g_array_index(ids, guint, j))
                    g_ptr_array_add(sorted, g_ptr_array_index(pins, i));
        /* the same pins, reordered: the array keeps owning them */
        for (guint i = 0; i < sorted->len; i++)
            pins->pdata[i] = sorted->pdata[i];
    }
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);
        bool found = false;

        if (!d->tuning.iothread)
            continue;
        if (d->bus != VRT_DOMAIN_DISK_BUS_VIRTIO) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "IOThreads not available for bus %s target %s",
                          vrt_disk_bus_names[d->bus], d->target_dev);
            return false;
        }
        for (guint j = 0; j < ids->len && !found; j++)
            found = g_array_index(ids, guint, j) == d->tuning.iothread;
        if (!found) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Disk iothread '%u' not defined in iothreadid",
                          d->tuning.iothread);
            return false;
        }
    }
    for (guint i = 0; def->controllers && i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = g_ptr_array_index(def->controllers, i);
        bool found = false;

        if (!c->iothread)
            continue;
        for (guint j = 0; j < ids->len && !found; j++)
            found = g_array_index(ids, guint, j) == c->iothread;
        if (!found) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "controller iothread '%u' not defined in iothreadid",
                          c->iothread);
            return false;
        }
    }
    return true;
}

void
vrt_format_iothreads(VrtFmt *f, const VrtDomainDef *def)
{
    if (!def->iothreads)
        return;
    vrt_fmt_line(f, "<iothreads>%u</iothreads>", def->iothreads);
    if (!def->iothread_ids || !def->iothread_ids->len)
        return;
    vrt_fmt_line(f, "<iothreadids>");
    f->indent++;
    for (guint i = 0; i < def->iothread_ids->len; i++)
        vrt_fmt_line(f, "<iothread id='%u'/>", g_array_index(def->iothread_ids, guint, i));
    f->indent--;
    vrt_fmt_line(f, "</iothreadids>");
}

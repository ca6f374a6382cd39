/*
 * The device nodes of a domain's mdev, scsi and scsi_host hostdevs (see
 * qemu_hostdev_nodes.h).
 */
#include "drivers/qemu/qemu_hostdev_nodes.h"
#include "drivers/qemu/qemu_security.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

#define VFIO_CONTAINER "/dev/vfio/vfio"
#define VHOST_SCSI "/dev/vhost-scsi"

static char *
real_path(VrtHost *host, const char *path)
{
    return host ? vrt_host_path(host, path) : g_strdup(path);
}

char *
vrt_qemu_scsi_hostdev_sg_node(VrtHost *host, const VrtDomainSubsysHostdevDef *h, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *real = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;
    guint64 adapter;

    if (!h->adapter || !g_str_has_prefix(h->adapter, "scsi_host") ||
        !g_ascii_string_to_unsigned(h->adapter + strlen("scsi_host"), 10, 0, G_MAXUINT, &adapter, NULL)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Cannot parse adapter '%s'", h->adapter ? h->adapter : "");
        return NULL;
    }
    dir = g_strdup_printf("/sys/bus/scsi/devices/%u:%u:%u:%" G_GUINT64_FORMAT "/scsi_generic", (guint)adapter,
                          h->scsi_bus, h->scsi_target, h->scsi_unit);
    real = real_path(host, dir);
    if (!(d = g_dir_open(real, 0, NULL))) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, ENOENT, "cannot open directory '%s'", dir);
        return NULL;
    }
    if (!(name = g_dir_read_name(d))) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "SCSI device '%s' has no SCSI generic node in %s", h->info.alias,
                      dir);
        return NULL;
    }
    return g_strdup_printf("/dev/%s", name);
}

/* The VFIO group node of mediated device uuid ("/dev/vfio/N"), NULL when
 * the host has no iommu_group link for it. */
static char *
mdev_group_node(VrtHost *host, const char *uuid)
{
    g_autofree char *link = g_strdup_printf("/sys/bus/mdev/devices/%s/iommu_group", uuid);
    g_autofree char *real = real_path(host, link);
    g_autofree char *target = g_file_read_link(real, NULL);
    g_autofree char *group = target ? g_path_get_basename(target) : NULL;
    guint64 n;

    if (!group || !g_ascii_string_to_unsigned(group, 10, 0, G_MAXINT, &n, NULL))
        return NULL;
    return g_strdup_printf("/dev/vfio/%u", (guint)n);
}

static void
add_node(GPtrArray *nodes, VrtHost *host, const char *path, bool label, bool readonly)
{
    VrtQemuDevNode *n;

    for (guint i = 0; i < nodes->len; i++) {
        n = nodes->pdata[i];
        if (g_str_equal(n->ns_path, path)) {
            /* one node for two hostdevs: writable if either is */
            n->readonly = n->readonly && readonly;
            return;
        }
    }
    n = g_new0(VrtQemuDevNode, 1);
    n->ns_path = g_strdup(path);
    n->host_path = real_path(host, path);
    n->label = label;
    n->readonly = readonly;
    g_ptr_array_add(nodes, n);
}

GPtrArray *
vrt_qemu_subsys_hostdev_nodes(VrtHost *host, const VrtDomainDef *def)
{
    GPtrArray *nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_dev_node_free);

    for (guint i = 0; def && def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autoptr(GError) err = NULL;
        g_autofree char *path = NULL;

        switch (h->type) {
        case VRT_SUBSYS_HOSTDEV_MDEV:
            if (!(path = mdev_group_node(host, h->uuid))) {
                g_debug("mediated device %s has no IOMMU group", h->uuid);
                break;
            }
            add_node(nodes, host, VFIO_CONTAINER, false, false);
            add_node(nodes, host, path, true, false);
            break;
        case VRT_SUBSYS_HOSTDEV_SCSI:
            if (h->iscsi_name)
                break;
            if (!(path = vrt_qemu_scsi_hostdev_sg_node(host, h, &err))) {
                g_debug("no SCSI generic node for %s: %s", h->info.alias, err->message);
                break;
            }
            add_node(nodes, host, path, true, h->readonly);
            break;
        case VRT_SUBSYS_HOSTDEV_SCSI_HOST: add_node(nodes, host, VHOST_SCSI, true, false); break;
        }
    }
    return nodes;
}

void
vrt_qemu_dev_nodes_merge(GPtrArray *nodes, GPtrArray *more)
{
    while (more->len > 0) {
        VrtQemuDevNode *n = g_ptr_array_steal_index(more, 0);
        bool seen = false;

        for (guint i = 0; i < nodes->len && !seen; i++)
            seen = g_str_equal(((VrtQemuDevNode *)nodes->pdata[i])->ns_path, n->ns_path);
        if (seen)
            vrt_qemu_dev_node_free(n);
        else
            g_ptr_array_add(nodes, n);
    }
}

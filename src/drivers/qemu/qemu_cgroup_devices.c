/*
 * The devices a domain's QEMU may open, enforced by the cgroup v2 device
 * controller on the domain's cgroup (host/cgroup_devices.h): libvirt's
 * default list (null, full, zero, random, urandom, ptmx, kvm), every pty
 * (major 136), and the domain's own device nodes: block disks (read-only
 * ones for reading), VFIO group nodes with /dev/vfio/vfio (a PCI
 * device's or an mdev's), SCSI generic nodes of SCSI hostdevs (read-only
 * ones for reading), /dev/vhost-scsi for a vhost-scsi host, a passthrough
 * TPM, the nodes of type 'dev' character devices, /dev/net/tun (in
 * every private /dev), and /dev/vhost-net for a
 * domain with interfaces (QEMU opens it itself for vhost=on). Set when QEMU enters the
 * cgroup, before its exec; renewed at each hotplug and unplug of a disk
 * or a host device. Where the controller cannot be used (no cgroup, a
 * kernel or a vrtd without cgroup BPF) nothing is refused: the reason is
 * logged once and QEMU's devices are not limited.
 */
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_hostdev_nodes.h"
#include "drivers/qemu/qemu_security.h"
#include "host/cgroup_devices.h"
#include "host/pci.h"
#include "util/error.h"

#include <string.h>

#define PTY_MAJOR 136

/* QEMU's process makes the nodes of its private /dev itself, in the
 * cgroup already, before it drops root and its capabilities: the nodes of
 * the default list may be made as well as opened. */
#define ACL_ACCESS (VRT_CGROUP_DEV_RW | VRT_CGROUP_DEV_MKNOD)

static const char *const default_acl[] = { "/dev/null",   "/dev/full",    "/dev/zero",
                                           "/dev/random", "/dev/urandom", "/dev/ptmx" };

static void
add_hostdev_groups(VrtQemuDriver *drv, GArray *rules, const VrtDomainDef *def, const char *drop)
{
    for (guint i = 0; def->hostdevs && i < def->hostdevs->len; i++) {
        const VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        g_autoptr(GError) err = NULL;
        int group = vrt_pci_get_iommu_group(drv->cfg.host, &h->source, &err);
        g_autofree char *node = NULL;
        g_autofree char *container = NULL;

        if (group < 0)
            continue;
        {
            g_autofree char *path = g_strdup_printf("/dev/vfio/%d", group);

            node = vrt_host_path(drv->cfg.host, path);
        }
        container = vrt_host_path(drv->cfg.host, "/dev/vfio/vfio");
        if (g_strcmp0(node, drop) != 0)
            vrt_cgroup_dev_rules_add_path(rules, node, VRT_CGROUP_DEV_RW);
        vrt_cgroup_dev_rules_add_path(rules, container, VRT_CGROUP_DEV_RW);
    }
}

/* The rules of def, with the device node at add (a host path) and
 * without the one at drop. */
static GArray *
domain_rules(VrtQemuDriver *drv, const VrtDomainDef *def, const char *add, const char *drop)
{
    GArray *rules = vrt_cgroup_dev_rules_new();

    for (guint i = 0; i < G_N_ELEMENTS(default_acl); i++)
        vrt_cgroup_dev_rules_add_path(rules, default_acl[i], ACL_ACCESS);
    vrt_cgroup_dev_rules_add_path(rules, drv->dev_kvm ? drv->dev_kvm : "/dev/kvm", ACL_ACCESS);
    vrt_cgroup_dev_rules_add(rules, 'c', PTY_MAJOR, VRT_CGROUP_DEV_ANY, VRT_CGROUP_DEV_RW);
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = def->disks->pdata[i];

        if (d->src && !d->net && g_strcmp0(d->src, drop) != 0)
            vrt_cgroup_dev_rules_add_path(rules, d->src, d->readonly ? VRT_CGROUP_DEV_READ : VRT_CGROUP_DEV_RW);
    }
    add_hostdev_groups(drv, rules, def, drop);
    {
        g_autoptr(GPtrArray) nodes = vrt_qemu_subsys_hostdev_nodes(drv->cfg.host, def);

        for (guint i = 0; i < nodes->len; i++) {
            const VrtQemuDevNode *n = nodes->pdata[i];

            if (g_strcmp0(n->host_path, drop) != 0)
                vrt_cgroup_dev_rules_add_path(rules, n->host_path,
                                              n->readonly ? VRT_CGROUP_DEV_READ : VRT_CGROUP_DEV_RW);
        }
    }
    for (guint i = 0; def->tpms && i < def->tpms->len; i++) {
        const VrtDomainTpmDef *t = def->tpms->pdata[i];

        if (g_strcmp0(t->backend, "passthrough") == 0)
            vrt_cgroup_dev_rules_add_path(rules, t->device_path ? t->device_path : "/dev/tpm0", VRT_CGROUP_DEV_RW);
    }
    /* the host device nodes of type 'dev' chardevs, made in the private
     * /dev (qemu_security.c) and opened by QEMU */
    {
        GPtrArray *chrs[] = { def->serials, def->consoles, def->parallels, def->channels };

        for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
            for (guint i = 0; chrs[l] && i < chrs[l]->len; i++) {
                const VrtDomainChrDef *c = chrs[l]->pdata[i];

                if (c->type == VRT_DOMAIN_CHR_TYPE_DEV && c->path)
                    vrt_cgroup_dev_rules_add_path(rules, c->path, ACL_ACCESS);
            }
        }
    }
    if (def->nets && def->nets->len > 0) {
        vrt_cgroup_dev_rules_add_path(rules, "/dev/vhost-net", VRT_CGROUP_DEV_RW);
    }
    /* made in every private /dev that has it (qemu_security.c) */
    vrt_cgroup_dev_rules_add_path(rules, "/dev/net/tun", ACL_ACCESS);
    if (add)
        vrt_cgroup_dev_rules_add_path(rules, add, VRT_CGROUP_DEV_RW);
    return rules;
}

static void
log_unavailable(const char *name, const GError *err)
{
    static gsize logged;

    if (g_once_init_enter(&logged)) {
        g_warning("domain %s: the cgroup device controller cannot be used (%s): QEMU's device access is not "
                  "limited",
                  name, err->message);
        g_once_init_leave(&logged, 1);
    } else {
        g_debug("domain %s: no cgroup device limit: %s", name, err->message);
    }
}

void
vrt_qemu_cgroup_devices_update(VrtQemuDom *obj, const char *add, const char *drop)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(GArray) rules = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *real = NULL;

    if (!vrt_cgroups_available(drv->cgroups))
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!obj->def || !vrt_cgroup_domain_exists(drv->cgroups, obj->def->name))
            return;
        rules = domain_rules(drv, obj->def, add, drop);
        dir = vrt_cgroup_domain_path(drv->cgroups, obj->def->name, NULL);
    }
    real = vrt_host_path(drv->cfg.host, dir);
    if (!vrt_cgroup_devices_set(real, rules, &err))
        log_unavailable(obj->def ? obj->def->name : "?", err);
}

void
vrt_qemu_cgroup_devices_setup(VrtQemuDom *obj, const VrtDomainDef *def)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(GArray) rules = domain_rules(drv, def, NULL, NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = vrt_cgroup_domain_path(drv->cgroups, def->name, NULL);
    g_autofree char *real = vrt_host_path(drv->cfg.host, dir);

    if (!vrt_cgroup_devices_set(real, rules, &err))
        log_unavailable(def->name, err);
}

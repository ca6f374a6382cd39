/*
 * The VFIO group nodes of a confined QEMU. At start, the domain's host
 * devices give the device nodes of its private /dev: /dev/vfio/vfio and
 * one /dev/vfio/N per IOMMU group the domain uses (vrt_qemu_vfio_dev_nodes;
 * the group nodes labelled for QEMU's user with the domain's files and
 * given back at stop). A VF hot-plugged into a running QEMU: its group
 * node is labelled (the owner remembered, as a start labels a domain's
 * files) and made in QEMU's private /dev (with the container node
 * /dev/vfio/vfio), as libvirt does by entering QEMU's mount namespace;
 * after the unplug the node leaves that /dev and the label is given
 * back, before the VF returns to its host driver. A group is the domain's
 * once, however many of its functions the domain has: the node and its
 * label stay while another of the domain's host devices is in the group
 * (libvirt counts the group's users the same way). The hostdev engine
 * calls grant and revoke right before device_add and once QEMU no longer
 * has the device (qemu_hostdev_steps.c), which is after the device left
 * the live definition and before it enters it: the definition's other
 * host devices are the group's other users. Paths are the host seam's,
 * so a simulated host's nodes (tests/hostsim) are the ones labelled and
 * bound. The nodes of mdev, scsi and scsi_host hostdevs
 * (qemu_hostdev_nodes.c) join the list after the PCI devices' groups.
 */
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_hostdev.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/qemu/qemu_hostdev_nodes.h"
#include "drivers/qemu/qemu_security.h"
#include "host/pci.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

/* The nodes of the host devices at sources (VrtPciAddr), then those of
 * def's subsystem hostdevs (def may be NULL). */
static GPtrArray *
dev_nodes_of(VrtQemuDriver *drv, const GArray *sources, const VrtDomainDef *def)
{
    GPtrArray *nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_dev_node_free);
    g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));

    for (guint i = 0; i < sources->len; i++) {
        g_autoptr(GError) err = NULL;
        int group = vrt_pci_get_iommu_group(drv->cfg.host, &g_array_index(sources, VrtPciAddr, i), &err);
        bool seen = false;
        VrtQemuDevNode *n;

        if (group < 0) {
            g_debug("no VFIO group for a host device: %s", err->message);
            continue;
        }
        for (guint k = 0; k < groups->len; k++)
            seen = seen || g_array_index(groups, int, k) == group;
        if (seen)
            continue;
        g_array_append_val(groups, group);
        if (nodes->len == 0) {
            n = g_new0(VrtQemuDevNode, 1);
            n->ns_path = g_strdup(VFIO_CONTAINER);
            n->host_path = vrt_host_path(drv->cfg.host, VFIO_CONTAINER);
            g_ptr_array_add(nodes, n);
        }
        n = g_new0(VrtQemuDevNode, 1);
        n->ns_path = g_strdup_printf("/dev/vfio/%d", group);
        n->host_path = vrt_host_path(drv->cfg.host, n->ns_path);
        n->label = true;
        g_ptr_array_add(nodes, n);
    }
    {
        g_autoptr(GPtrArray) subsys = vrt_qemu_subsys_hostdev_nodes(drv->cfg.host, def);

        vrt_qemu_dev_nodes_merge(nodes, subsys);
    }
    return nodes;
}

static void
add_sources(GArray *sources, const VrtDomainDef *def)
{
    for (guint i = 0; def && def->hostdevs && i < def->hostdevs->len; i++)
        g_array_append_val(sources, ((const VrtDomainHostdevDef *)def->hostdevs->pdata[i])->source);
}

GPtrArray *
vrt_qemu_vfio_dev_nodes(VrtQemuDriver *drv, const VrtDomainDef *def)
{
    g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));

    add_sources(sources, def);
    return dev_nodes_of(drv, sources, def);
}

GPtrArray *
vrt_qemu_vfio_status_dev_nodes(VrtQemuDriver *drv, const VrtQemuStatus *st)
{
    g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));

    add_sources(sources, st->def);
    /* a VF whose attach or detach the dead QEMU's vrtd left half done:
     * granted at device-add, not yet revoked (a group granted once stays
     * one node in the list) */
    for (guint i = 0; st->hostdevs && i < st->hostdevs->records->len; i++) {
        const VrtQemuHostdevRecord *rec = st->hostdevs->records->pdata[i];

        if (rec->addr_set && (vrt_qemu_hostdev_record_done(rec, VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD) ||
                              rec->running == VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD))
            g_array_append_val(sources, rec->addr);
    }
    return dev_nodes_of(drv, sources, st->def);
}

GPtrArray *
vrt_qemu_vfio_dom_dev_nodes(VrtQemuDom *obj)
{
    g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));
    g_autoptr(GPtrArray) nodes = NULL;
    g_autoptr(GPtrArray) subsys = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        add_sources(sources, obj->def);
        /* a stopped domain's subsystem hostdevs are not hot-plugged: their
         * nodes are read with the definition that names them */
        subsys = vrt_qemu_subsys_hostdev_nodes(obj->drv->cfg.host, obj->def);
    }
    nodes = dev_nodes_of(obj->drv, sources, NULL);
    vrt_qemu_dev_nodes_merge(nodes, subsys);
    return g_steal_pointer(&nodes);
}

/* Whether another host device of obj's live definition than the one at
 * addr is in IOMMU group. The sources are copied under the object lock;
 * the host's sysfs is read without it. */
static bool
group_shared(VrtQemuDom *obj, int group, const VrtPciAddr *addr)
{
    g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        for (guint i = 0; obj->def && obj->def->hostdevs && i < obj->def->hostdevs->len; i++) {
            const VrtDomainHostdevDef *h = obj->def->hostdevs->pdata[i];

            if (!vrt_pci_addr_equal(&h->source, addr))
                g_array_append_val(sources, h->source);
        }
    }
    for (guint i = 0; i < sources->len; i++) {
        if (vrt_pci_get_iommu_group(obj->drv->cfg.host, &g_array_index(sources, VrtPciAddr, i), NULL) == group)
            return true;
    }
    return false;
}

bool
vrt_qemu_vfio_grant(VrtQemuDom *obj, const VrtPciAddr *addr, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    VrtHost *host = drv->cfg.host;
    int group = vrt_pci_get_iommu_group(host, addr, error);
    g_autofree char *ns_path = NULL;
    g_autofree char *host_path = NULL;
    g_autofree char *container = NULL;
    pid_t pid;

    if (group < 0)
        return false;
    ns_path = g_strdup_printf("/dev/vfio/%d", group);
    host_path = vrt_host_path(host, ns_path);
    container = vrt_host_path(host, VFIO_CONTAINER);
    /* the group is the domain's already: labelled and in its /dev */
    if (group_shared(obj, group, addr)) {
        g_debug("domain %s: VFIO group %d is in use by another of its host devices", obj->def->name, group);
        return true;
    }
    /* AppArmor: the group node joins the profile before QEMU opens it */
    if (!vrt_qemu_apparmor_dom_update(obj, ns_path, NULL, NULL, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        pid = obj->pid;
        if (!vrt_qemu_security_label_file(&drv->sec, obj->def, host_path, error))
            return false;
    }
    vrt_qemu_cgroup_devices_update(obj, host_path, NULL);
    /* no node (a host that simulates none): QEMU's own open says so */
    if (!g_file_test(host_path, G_FILE_TEST_EXISTS)) {
        g_debug("domain %s: no %s to give QEMU", obj->def ? obj->def->name : "?", host_path);
        return true;
    }
    if (pid > 0 &&
        ((g_file_test(container, G_FILE_TEST_EXISTS) && !vrt_qemu_ns_add_node(pid, VFIO_CONTAINER, container, error)) ||
         !vrt_qemu_ns_add_node(pid, ns_path, host_path, error))) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        vrt_qemu_security_restore_file(&drv->sec, obj->def, host_path);
        return false;
    }
    return true;
}

void
vrt_qemu_vfio_revoke(VrtQemuDom *obj, const VrtPciAddr *addr)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(GError) err = NULL;
    int group = vrt_pci_get_iommu_group(drv->cfg.host, addr, &err);
    g_autofree char *ns_path = NULL;
    g_autofree char *host_path = NULL;
    pid_t pid;

    if (group < 0) {
        g_warning("cannot find the VFIO group to take back from QEMU: %s", err->message);
        return;
    }
    /* another of the domain's devices still uses the group: QEMU keeps it */
    if (group_shared(obj, group, addr)) {
        g_debug("domain %s: VFIO group %d stays, another of its host devices uses it", obj->def->name, group);
        vrt_qemu_cgroup_devices_update(obj, NULL, NULL);
        return;
    }
    ns_path = g_strdup_printf("/dev/vfio/%d", group);
    host_path = vrt_host_path(drv->cfg.host, ns_path);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        pid = obj->pid;
        vrt_qemu_security_restore_file(&drv->sec, obj->def, host_path);
    }
    vrt_qemu_cgroup_devices_update(obj, NULL, host_path);
    if (!vrt_qemu_apparmor_dom_update(obj, NULL, NULL, addr, &err)) {
        g_warning("domain %s: %s", obj->def ? obj->def->name : "?", err->message);
        g_clear_error(&err);
    }
    if (pid > 0 && !vrt_qemu_ns_remove_node(pid, ns_path, &err))
        g_warning("domain %s: %s", obj->def ? obj->def->name : "?", err->message);
}

/*
 * A VF hot-plugged into a confined QEMU: its VFIO group node /dev/vfio/N
 * is labelled for QEMU's user (the owner remembered, as a start labels a
 * domain's files) and made in QEMU's private /dev (with the container
 * node /dev/vfio/vfio), as libvirt does by entering QEMU's mount
 * namespace; after the unplug the node leaves that /dev and the label is
 * given back, before the VF returns to its host driver. The hostdev
 * engine calls these right before device_add and once QEMU no longer has
 * the device (qemu_hostdev_steps.c). Paths are the host seam's, so a
 * simulated host's nodes (tests/hostsim) are the ones labelled and bound.
 */
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/qemu/qemu_security.h"
#include "host/pci.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

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
    ns_path = g_strdup_printf("/dev/vfio/%d", group);
    host_path = vrt_host_path(drv->cfg.host, ns_path);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        pid = obj->pid;
        vrt_qemu_security_restore_file(&drv->sec, obj->def, host_path);
    }
    vrt_qemu_cgroup_devices_update(obj, NULL, host_path);
    if (pid > 0 && !vrt_qemu_ns_remove_node(pid, ns_path, &err))
        g_warning("domain %s: %s", obj->def ? obj->def->name : "?", err->message);
}

/*
 * The confinement hook of disk hotplug: a hotplugged disk's image (and
 * its qcow2 backing chain) is labelled for QEMU's user before its
 * blockdev-add, its original owner remembered as at start, and given back
 * after its blockdev-del (qemu_security.c). A no-op when QEMU runs as
 * vrtd's user or dynamic ownership is off, and where libvirt's DAC driver
 * leaves the image alone: the disk's <seclabel model='dac' relabel='no'/>,
 * the domain's DAC <seclabel> of type none or with relabel='no'; a disk's
 * own DAC <label> is the owner its image gets, as at start. Also the
 * DAC base label the capabilities report, from the driver's qemu.conf.
 */
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_security.h"

bool
vrt_qemu_disk_label(VrtQemuDom *obj, const VrtDomainDiskDef *disk, bool grant, GError **error)
{
    if (!disk->src || disk->net)
        return true;
    /* the cgroup's device list: the disk's node in before QEMU opens it,
     * out once QEMU closed it */
    vrt_qemu_cgroup_devices_update(obj, grant ? disk->src : NULL, grant ? NULL : disk->src);
    /* AppArmor: the profile lets QEMU open the image (its list made again
     * with it) before blockdev-add, and no longer once it is gone from the
     * live definition */
    if (!vrt_qemu_apparmor_dom_update(obj, grant ? disk->src : NULL, grant ? NULL : disk->src, NULL, error))
        return false;
    if (!vrt_qemu_security_relabels_dev(disk->seclabels))
        return true;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (obj->def && !vrt_qemu_security_relabels_def(obj->def))
            return true;
    }
    if (grant)
        return vrt_qemu_security_label_dev_path(&obj->drv->sec, disk->src, disk->seclabels, error);
    vrt_qemu_security_restore_path(&obj->drv->sec, disk->src);
    return true;
}

char *
vrt_qemu_driver_dac_baselabel(VrtQemuDriver *drv)
{
    return vrt_qemu_security_baselabel(&drv->sec);
}

/*
 * The confinement hook of disk hotplug: what the QEMU process must be
 * allowed to open (file labels, cgroup device rules) is granted before a
 * hotplugged disk's blockdev-add and taken back after its blockdev-del.
 * Nothing is confined per disk yet, so both directions succeed; this file
 * is where that work goes.
 */
#include "drivers/qemu/qemu_domain.h"

bool
vrt_qemu_disk_label(VrtQemuDom *obj, const VrtDomainDiskDef *disk, bool grant, GError **error)
{
    (void)obj;
    (void)error;
    g_debug("disk %s (%s): access %s", disk->target_dev, disk->src ? disk->src : "no source",
            grant ? "granted" : "revoked");
    return true;
}

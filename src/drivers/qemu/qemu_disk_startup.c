/*
 * startupPolicy at start (libvirt's qemuDomainCheckDiskStartupPolicy):
 * optional lets a cold boot, a restore or an incoming migration go on
 * without a missing medium, except that a restore or migration keeps a
 * plain disk (QEMU's saved state names it); requisite lets only a
 * restore or migration go on, and only for a cdrom or floppy (the
 * parser allows it nowhere else); mandatory and no policy never do.
 * A cdrom or floppy goes on empty and loses its policy, as libvirt's
 * live XML shows; another disk is taken out of the live definition.
 */
#include "drivers/qemu/qemu_disk_startup.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

static bool
source_missing(const VrtDomainDiskDef *d)
{
    GStatBuf st;

    if (d->net || !d->src)
        return false;
    return g_stat(d->src, &st) != 0;
}

static bool
may_drop(const VrtDomainDiskDef *d, bool cold_boot)
{
    bool removable = d->device == VRT_DOMAIN_DISK_DEVICE_CDROM || d->device == VRT_DOMAIN_DISK_DEVICE_FLOPPY;

    switch (d->startup_policy) {
    case VRT_DISK_STARTUP_OPTIONAL: return cold_boot || removable;
    case VRT_DISK_STARTUP_REQUISITE: return !cold_boot;
    case VRT_DISK_STARTUP_DEFAULT:
    case VRT_DISK_STARTUP_MANDATORY: return false;
    }
    return false;
}

void
vrt_qemu_disk_startup_apply(VrtDomainDef *def, bool cold_boot)
{
    for (guint i = def->disks->len; i-- > 0;) {
        VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (!source_missing(d) || !may_drop(d, cold_boot))
            continue;
        g_info("dropping the missing source '%s' of disk '%s' (startupPolicy)", d->src, d->target_dev);
        if (d->device == VRT_DOMAIN_DISK_DEVICE_CDROM || d->device == VRT_DOMAIN_DISK_DEVICE_FLOPPY) {
            g_clear_pointer(&d->src, g_free);
            g_clear_pointer(&d->src_pool, g_free);
            g_clear_pointer(&d->src_volume, g_free);
            if (d->type == VRT_DOMAIN_DISK_TYPE_VOLUME)
                d->type = VRT_DOMAIN_DISK_TYPE_FILE;
            d->startup_policy = VRT_DISK_STARTUP_DEFAULT;
        } else {
            g_ptr_array_remove_index(def->disks, i);
        }
    }
}

/*
 * A disk's <iotune> applied to a QEMU that has just started: with
 * -blockdev, libvirt 9.0 gives each throttled disk's device its limits
 * with block_set_io_throttle (QEMU's throttle groups, by group name)
 * before the CPUs run; vrt does the same. The arguments are built apart
 * (vrt_qemu_disk_iotune_args) so the unit tests can check them.
 */
#include "drivers/qemu/qemu_disk_iotune.h"

#include "util/error.h"

JsonObject *
vrt_qemu_disk_iotune_args(const VrtDomainDiskDef *disk)
{
    JsonObject *args = json_object_new();
    const VrtDiskIotune *t = &disk->iotune;
    g_autofree char *qom = NULL;

    /* the device's QOM name, as libvirt's: a virtio disk's block backend
     * is its virtio-backend child, a USB disk's its SCSI disk's */
    if (disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO)
        json_object_set_string_member(
            args, "id",
            qom = g_strdup_printf("/machine/peripheral/%s/virtio-backend", disk->info.alias ? disk->info.alias : ""));
    else if (disk->bus == VRT_DOMAIN_DISK_BUS_USB)
        json_object_set_string_member(args, "id",
                                      qom = g_strdup_printf("/machine/peripheral/%s/%s.0/legacy[0]",
                                                            disk->info.alias ? disk->info.alias : "",
                                                            disk->info.alias ? disk->info.alias : ""));
    else
        json_object_set_string_member(args, "id", disk->info.alias ? disk->info.alias : "");
    /* the six rates are required by QEMU; the rest as libvirt sends them
     * (bursts and I/O size always, group and lengths when set) */
    for (guint i = 0; i < VRT_IOTUNE_N; i++) {
        if (i == VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH && t->group_name)
            json_object_set_string_member(args, "group", t->group_name);
        if (i <= VRT_IOTUNE_SIZE_IOPS || t->v[i])
            json_object_set_int_member(args, vrt_iotune_qmp_names[i], (gint64)t->v[i]);
    }
    return args;
}

/* libvirt's QEMU driver: the disks of one group must agree */
static bool
groups_agree(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *a = g_ptr_array_index(def->disks, i);

        for (guint j = i + 1; a->iotune.group_name && j < def->disks->len; j++) {
            const VrtDomainDiskDef *b = g_ptr_array_index(def->disks, j);

            if (g_strcmp0(a->iotune.group_name, b->iotune.group_name) == 0 &&
                !vrt_disk_iotune_equal(&a->iotune, &b->iotune)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "different iotunes for disks %s and %s", b->target_dev,
                              a->target_dev);
                return false;
            }
        }
    }
    return true;
}

bool
vrt_qemu_disk_iotune_check(const VrtDomainDef *def, GError **error)
{
    return groups_agree(def, error);
}

bool
vrt_qemu_disk_iotune_apply(VrtQemuMonitor *mon, const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *disk = g_ptr_array_index(def->disks, i);
        g_autoptr(JsonObject) args = NULL;
        g_autoptr(JsonNode) ret = NULL;

        /* an empty drive cannot be throttled (QEMU refuses), as libvirt skips it */
        if (!vrt_disk_iotune_has_any(&disk->iotune) || (!disk->src && !disk->net))
            continue;
        args = vrt_qemu_disk_iotune_args(disk);
        ret = vrt_qemu_monitor_command(mon, "block_set_io_throttle", args, 0, error);
        if (!ret)
            return false;
    }
    return true;
}

/*
 * <iotune> of the disks of a starting domain, given to QEMU with
 * block_set_io_throttle, and virsh blkdeviotune's change and read of them
 * (see qemu_disk_iotune.c).
 */
#pragma once

#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "conf/domain/domain_conf.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_monitor.h"

/* The disk's device as QEMU's query-block and block_set_io_throttle name
 * it: a QOM path for a virtio or USB disk, else its alias (caller frees). */
char *vrt_qemu_disk_qom_id(const VrtDomainDiskDef *disk);
/* The device of a query-block reply whose qdev (or device) is qom
 * (borrowed), or NULL. */
JsonObject *vrt_qemu_query_block_device(JsonNode *reply, const char *qom);
/* block_set_io_throttle's arguments for disk (its device id and limits) */
JsonObject *vrt_qemu_disk_iotune_args(const VrtDomainDiskDef *disk);
/* before anything is prepared: a throttle group's disks agree */
bool vrt_qemu_disk_iotune_check(const VrtDomainDef *def, GError **error);
/* once QEMU is up, before its CPUs run: every throttled disk's limits */
bool vrt_qemu_disk_iotune_apply(VrtQemuMonitor *mon, const VrtDomainDef *def, GError **error);

/* virDomainSetBlockIoTune: params (VrtTypedParam) for the disk named by
 * target or source path, on the running domain, its persistent definition
 * or both (VIR_DOMAIN_AFFECT_*) */
bool vrt_qemu_domain_set_block_io_tune(VrtQemuDriver *drv, const guchar *uuid, const char *disk, GPtrArray *params,
                                       guint flags, GError **error);
/* virDomainGetBlockIoTune: the disk's 20 values in libvirt's order, from
 * QEMU (live) or the persistent definition; with count_only, zeros for
 * any disk or none, once the domain and flags are checked */
GPtrArray *vrt_qemu_domain_get_block_io_tune(VrtQemuDriver *drv, const guchar *uuid, const char *disk, guint flags,
                                             bool count_only, GError **error);

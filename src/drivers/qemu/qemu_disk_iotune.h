/*
 * <iotune> of the disks of a starting domain, given to QEMU with
 * block_set_io_throttle (see qemu_disk_iotune.c).
 */
#pragma once

#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "conf/domain/domain_conf.h"
#include "drivers/qemu/qemu_monitor.h"

/* block_set_io_throttle's arguments for disk (its device id and limits) */
JsonObject *vrt_qemu_disk_iotune_args(const VrtDomainDiskDef *disk);
/* before anything is prepared: a throttle group's disks agree */
bool vrt_qemu_disk_iotune_check(const VrtDomainDef *def, GError **error);
/* once QEMU is up, before its CPUs run: every throttled disk's limits */
bool vrt_qemu_disk_iotune_apply(VrtQemuMonitor *mon, const VrtDomainDef *def, GError **error);

/*
 * A starting domain's disks whose local source is missing, handled by
 * their <source startupPolicy=> as libvirt's QEMU driver does (see
 * qemu_disk_startup.c).
 */
#pragma once

#include <stdbool.h>

#include "conf/domain/domain_conf.h"

/* On the live definition of a start, once volumes are resolved: a
 * missing source the policy lets go is dropped (a cdrom or floppy
 * starts empty, any other disk is left out); others stay, for the start
 * to fail on them. cold_boot: not a restore nor an incoming migration. */
void vrt_qemu_disk_startup_apply(VrtDomainDef *def, bool cold_boot);

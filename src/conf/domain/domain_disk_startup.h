/*
 * A disk's <source startupPolicy=>: what a start does when the disk's
 * local source is missing. mandatory (as without it) fails the start,
 * requisite fails a cold boot but lets a restore or incoming migration
 * go on without the medium, optional goes on in every case. Read,
 * checked and written back as libvirt does; the QEMU driver applies it
 * when it prepares a start (qemu_disk_startup.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

typedef enum {
    VRT_DISK_STARTUP_DEFAULT = 0, /* not given: as mandatory, not written */
    VRT_DISK_STARTUP_MANDATORY,
    VRT_DISK_STARTUP_REQUISITE,
    VRT_DISK_STARTUP_OPTIONAL,
} VrtDiskStartupPolicy;

/* The startupPolicy= of a disk's <source> (absent leaves *out alone) */
bool vrt_disk_startup_parse(xmlNodePtr source, VrtDiskStartupPolicy *out, GError **error);
/* libvirt's checks: local (file/block) or volume sources only, and
 * requisite only for a cdrom or floppy. type and device are libvirt's
 * names ("file", "network"; "disk", "cdrom"). */
bool vrt_disk_startup_validate(VrtDiskStartupPolicy p, const char *type, const char *device, GError **error);
/* " startupPolicy='optional'" or "" for the default */
const char *vrt_disk_startup_attr(VrtDiskStartupPolicy p);

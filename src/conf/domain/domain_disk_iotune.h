/*
 * A disk's <iotune> (libvirt's blkdeviotune): its byte and I/O rate
 * limits, their bursts and burst lengths, the I/O size and the throttle
 * group. Read with libvirt's checks and written back in libvirt's order;
 * the QEMU driver applies them with block_set_io_throttle once QEMU is up,
 * before the CPUs run, as libvirt 9.0 does with -blockdev
 * (qemu_disk_iotune.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

/* the settings in libvirt's order of <iotune>'s children (group_name,
 * written between SIZE_IOPS and the lengths, is kept apart) */
typedef enum {
    VRT_IOTUNE_TOTAL_BYTES = 0,
    VRT_IOTUNE_READ_BYTES,
    VRT_IOTUNE_WRITE_BYTES,
    VRT_IOTUNE_TOTAL_IOPS,
    VRT_IOTUNE_READ_IOPS,
    VRT_IOTUNE_WRITE_IOPS,
    VRT_IOTUNE_TOTAL_BYTES_MAX,
    VRT_IOTUNE_READ_BYTES_MAX,
    VRT_IOTUNE_WRITE_BYTES_MAX,
    VRT_IOTUNE_TOTAL_IOPS_MAX,
    VRT_IOTUNE_READ_IOPS_MAX,
    VRT_IOTUNE_WRITE_IOPS_MAX,
    VRT_IOTUNE_SIZE_IOPS,
    VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH,
    VRT_IOTUNE_READ_BYTES_MAX_LENGTH,
    VRT_IOTUNE_WRITE_BYTES_MAX_LENGTH,
    VRT_IOTUNE_TOTAL_IOPS_MAX_LENGTH,
    VRT_IOTUNE_READ_IOPS_MAX_LENGTH,
    VRT_IOTUNE_WRITE_IOPS_MAX_LENGTH,
    VRT_IOTUNE_N,
} VrtIotuneField;

/* libvirt's element names and QEMU's block_set_io_throttle argument names */
extern const char *const vrt_iotune_names[VRT_IOTUNE_N];
extern const char *const vrt_iotune_qmp_names[VRT_IOTUNE_N];

typedef struct {
    bool set; /* <iotune> present */
    guint64 v[VRT_IOTUNE_N]; /* 0 = not set */
    char *group_name;
} VrtDiskIotune;

bool vrt_disk_iotune_parse(xmlNodePtr node, VrtDiskIotune *t, GError **error);
/* libvirt's checks of one disk's settings (that a group's disks agree is
 * checked at start, as libvirt's QEMU driver does) */
bool vrt_disk_iotune_validate(const VrtDiskIotune *t, GError **error);
bool vrt_disk_iotune_has_any(const VrtDiskIotune *t);
/* The family ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max")
 * whose total is set together with its read or write limit, or NULL:
 * libvirt refuses that in the XML and in virDomainSetBlockIoTune alike. */
const char *vrt_disk_iotune_total_conflict(const VrtDiskIotune *t);
bool vrt_disk_iotune_equal(const VrtDiskIotune *a, const VrtDiskIotune *b);
void vrt_disk_iotune_format(GString *buf, guint indent, const VrtDiskIotune *t);
void vrt_disk_iotune_clear(VrtDiskIotune *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VrtDiskIotune, vrt_disk_iotune_clear)

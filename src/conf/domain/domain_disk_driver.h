/*
 * The tuning attributes of a disk's <driver> element beyond its name, type
 * and cache: libvirt's error_policy, rerror_policy, io, copy_on_read,
 * and discard and detect_zeroes. Each is kept as libvirt's enum
 * (0 = not written, so the definition formats back as it came) and the
 * QEMU driver turns them into -blockdev and -device properties.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/domain/domain_virtio.h"

typedef enum {
    VRT_DISK_ERROR_POLICY_DEFAULT = 0,
    VRT_DISK_ERROR_POLICY_STOP,
    VRT_DISK_ERROR_POLICY_REPORT,
    VRT_DISK_ERROR_POLICY_IGNORE,
    VRT_DISK_ERROR_POLICY_ENOSPACE,
} VrtDiskErrorPolicy;

typedef enum {
    VRT_DISK_IO_DEFAULT = 0,
    VRT_DISK_IO_NATIVE,
    VRT_DISK_IO_THREADS,
    VRT_DISK_IO_URING,
} VrtDiskIo;

typedef enum {
    VRT_DISK_DISCARD_DEFAULT = 0,
    VRT_DISK_DISCARD_UNMAP,
    VRT_DISK_DISCARD_IGNORE,
} VrtDiskDiscard;

typedef enum {
    VRT_DISK_DETECT_ZEROES_DEFAULT = 0,
    VRT_DISK_DETECT_ZEROES_OFF,
    VRT_DISK_DETECT_ZEROES_ON,
    VRT_DISK_DETECT_ZEROES_UNMAP,
} VrtDiskDetectZeroes;

typedef struct {
    VrtDiskErrorPolicy error_policy;
    VrtDiskErrorPolicy rerror_policy;
    VrtDiskIo io;
    int copy_on_read; /* 0 = not written, 1 = on, 2 = off (libvirt's tristate switch) */
    VrtDiskDiscard discard;
    VrtDiskDetectZeroes detect_zeroes;
    guint iothread; /* iothread=, 0 = none */
    VrtTristate ioeventfd; /* virtio-blk only, as the three below */
    VrtTristate event_idx;
    guint queues; /* 0 = QEMU's default */
    guint queue_size;
    VrtVirtioOptions virtio;
} VrtDomainDiskDriverTuning;

/* libvirt's spellings, indexed by the enums above */
extern const char *const vrt_disk_error_policy_names[];
extern const char *const vrt_disk_io_names[];
extern const char *const vrt_disk_discard_names[];
extern const char *const vrt_disk_detect_zeroes_names[];

/* The detect-zeroes mode QEMU gets: libvirt's 'unmap' is only 'unmap'
 * where discards are passed down, 'on' otherwise. */
VrtDiskDetectZeroes vrt_disk_detect_zeroes_effective(const VrtDomainDiskDriverTuning *t);

/* What QEMU's werror= and rerror= get (NULL: QEMU's default), as libvirt
 * words them: 'enospace' is werror=enospc alone, a read policy not
 * written follows the write policy. */
void vrt_disk_error_policies(const VrtDomainDiskDriverTuning *t, const char **werror, const char **rerror);

/*
 * libvirt's storage pool and storage volume XML (storagepool.rng,
 * storagevol.rng) <-> structs, for the pool types vrt serves (dir): what a
 * define or a volume create reads, and what dumpxml writes, in libvirt 9.0's
 * element order so that its schemas validate the output and virsh shows
 * what libvirtd would. Volume facts found on disk (size, allocation,
 * format, backing file, timestamps) are the driver's to fill in.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* A pool's name is a file name: NAME.xml and its temporary
 * NAME.xml.new.XXXXXX must fit in NAME_MAX (255) bytes. */
#define VRT_STORAGE_POOL_NAME_MAX (255 - 15)

/* <permissions>: -1 for an element not given. */
typedef struct {
    gint64 mode;
    gint64 uid;
    gint64 gid;
    char *label;
} VrtStoragePerms;

typedef struct {
    char *name;
    guint8 uuid[16];
    char *type; /* "dir" */
    char *target_path;
    VrtStoragePerms perms;
    /* Runtime (0 in a definition): statvfs of the target. */
    guint64 capacity, allocation, available;
} VrtStoragePoolDef;

typedef struct {
    gint64 sec;
    long nsec;
} VrtStorageTime;

typedef struct {
    char *path;
    char *format; /* "raw", "qcow2", ... */
    VrtStoragePerms perms;
    bool has_times;
    VrtStorageTime atime, mtime, ctime;
} VrtStorageVolTarget;

typedef struct {
    char *name;
    char *key;
    guint64 capacity;
    guint64 allocation;
    bool has_allocation; /* <allocation> was given (else it equals capacity) */
    bool has_capacity;
    guint64 physical; /* on disk, 0: not written */
    VrtStorageVolTarget target;
    VrtStorageVolTarget *backing; /* <backingStore>, NULL without */
    char *compat; /* qcow2: "0.10" or "1.1" */
    guint64 cluster_size; /* qcow2; 0: not written */
    bool has_features; /* qcow2 v3: <features> written */
    bool lazy_refcounts;
} VrtStorageVolDef;

void vrt_storage_pool_def_free(VrtStoragePoolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtStoragePoolDef, vrt_storage_pool_def_free)
VrtStoragePoolDef *vrt_storage_pool_def_copy(const VrtStoragePoolDef *def);
void vrt_storage_vol_def_free(VrtStorageVolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtStorageVolDef, vrt_storage_vol_def_free)
VrtStorageVolDef *vrt_storage_vol_def_copy(const VrtStorageVolDef *def);
void vrt_storage_vol_target_free(VrtStorageVolTarget *t);

/* Reads a <pool>: libvirt's errors for a missing name, target path or a
 * bad uuid; a pool type vrt does not serve is VIR_ERR_NO_SUPPORT. A
 * missing uuid is generated. */
VrtStoragePoolDef *vrt_storage_pool_def_parse(const char *xml, GError **error);
/* <pool> as libvirt writes it (capacity figures included). */
char *vrt_storage_pool_def_format(const VrtStoragePoolDef *def);

/* Flags of vrt_storage_vol_def_parse */
#define VRT_STORAGE_VOL_PARSE_OPT_CAPACITY (1u << 0) /* a clone's XML may leave capacity out */
/* Reads a <volume>; capacity is required unless OPT_CAPACITY. */
VrtStorageVolDef *vrt_storage_vol_def_parse(const char *xml, guint flags, GError **error);
char *vrt_storage_vol_def_format(const VrtStorageVolDef *def);

/* A volume format vrt knows (libvirt's file formats it can create or
 * report): raw, qcow2, and those it only reports. */
bool vrt_storage_vol_format_known(const char *format);

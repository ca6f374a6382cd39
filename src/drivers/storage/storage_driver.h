/*
 * The storage driver: libvirt's storage pools of type dir and the volumes
 * (files) in them. Pools are defined, built (the directory made with its
 * <permissions>), started (its files scanned into volumes), refreshed,
 * stopped, deleted (rmdir) and undefined; volumes are created (raw files
 * sparse or preallocated, qcow2 and other formats through qemu-img),
 * cloned (qemu-img convert), resized, wiped and deleted. The QEMU driver
 * resolves a <disk type='volume'> through vrt_stordrv_volume_path.
 *
 * Definitions are durable files under <root>/etc/vrt/storage (autostart
 * links beside them), active pools are run state files under
 * <root>/run/vrt/storage; vrt_storage_driver_load rebuilds both at start
 * and starts the autostart pools. Pool and volume lifecycle events go to
 * the callbacks given at creation, with no driver lock held.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct _VrtStorageDriver VrtStorageDriver;

/* A pool as the wire names it. */
typedef struct {
    char *name;
    guint8 uuid[16];
} VrtStoragePoolRef;
void vrt_storage_pool_ref_free(VrtStoragePoolRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtStoragePoolRef, vrt_storage_pool_ref_free)

/* A volume as the wire names it: its pool's name, its name and its key
 * (the file's path). */
typedef struct {
    char *pool;
    char *name;
    char *key;
} VrtStorageVolRef;
void vrt_storage_vol_ref_free(VrtStorageVolRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtStorageVolRef, vrt_storage_vol_ref_free)

/* libvirt's virStoragePoolEventLifecycleType */
enum {
    VRT_STORAGE_POOL_EVENT_DEFINED = 0,
    VRT_STORAGE_POOL_EVENT_UNDEFINED = 1,
    VRT_STORAGE_POOL_EVENT_STARTED = 2,
    VRT_STORAGE_POOL_EVENT_STOPPED = 3,
    VRT_STORAGE_POOL_EVENT_CREATED = 4,
    VRT_STORAGE_POOL_EVENT_DELETED = 5,
};
/* event -1: the pool's REFRESH event. */
typedef void (*VrtStoragePoolEventFunc)(const char *name, const guint8 uuid[16], int event, int detail, gpointer data);

/* libvirt's flags (libvirt-storage.h) */
#define VRT_STORAGE_POOL_CREATE_WITH_BUILD (1u << 0)
#define VRT_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE (1u << 1)
#define VRT_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE (1u << 2)
#define VRT_STORAGE_POOL_BUILD_NO_OVERWRITE (1u << 2)
#define VRT_STORAGE_POOL_BUILD_OVERWRITE (1u << 3)
#define VRT_STORAGE_XML_INACTIVE (1u << 0)
#define VRT_STORAGE_VOL_CREATE_PREALLOC_METADATA (1u << 0)
#define VRT_STORAGE_VOL_CREATE_REFLINK (1u << 1)
#define VRT_STORAGE_VOL_RESIZE_ALLOCATE (1u << 0)
#define VRT_STORAGE_VOL_RESIZE_DELTA (1u << 1)
#define VRT_STORAGE_VOL_RESIZE_SHRINK (1u << 2)
#define VRT_STORAGE_VOL_GET_PHYSICAL (1u << 0)
#define VRT_CONNECT_LIST_STORAGE_POOLS_INACTIVE (1u << 0)
#define VRT_CONNECT_LIST_STORAGE_POOLS_ACTIVE (1u << 1)
#define VRT_CONNECT_LIST_STORAGE_POOLS_PERSISTENT (1u << 2)
#define VRT_CONNECT_LIST_STORAGE_POOLS_TRANSIENT (1u << 3)
#define VRT_CONNECT_LIST_STORAGE_POOLS_AUTOSTART (1u << 4)
#define VRT_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART (1u << 5)
#define VRT_CONNECT_LIST_STORAGE_POOLS_DIR (1u << 6)
#define VRT_CONNECT_LIST_STORAGE_POOLS_TYPES 0xfffc0u

/* root: "" or the directory holding etc/ and run/. qemu_img: the
 * qemu-img binary (NULL: found in PATH). */
VrtStorageDriver *vrt_storage_driver_new(const char *root, const char *qemu_img, VrtStoragePoolEventFunc event,
                                         gpointer data, GError **error);
/* Reads the definitions and the run state, refreshes the pools that were
 * active and starts those marked autostart. A broken file is logged and
 * skipped. */
bool vrt_storage_driver_load(VrtStorageDriver *drv, GError **error);
void vrt_storage_driver_free(VrtStorageDriver *drv);
/* SIGHUP: takes the definition files again, as libvirt's reload: a new
 * file adds its pool (inactive), a changed file is an inactive pool's
 * definition or an active one's next-start definition, autostart marks are
 * read again; a file that does not parse, or names a pool of another uuid,
 * is logged and its pool kept; a pool whose file is gone is kept. */
void vrt_storage_driver_reload(VrtStorageDriver *drv);

/* ---- pools ---- */
int vrt_stordrv_num_pools(VrtStorageDriver *drv, bool active);
GPtrArray *vrt_stordrv_list_pools(VrtStorageDriver *drv, bool active, int maxnames); /* of char* */
GPtrArray *vrt_stordrv_list_all_pools(VrtStorageDriver *drv, guint flags); /* of VrtStoragePoolRef* */
VrtStoragePoolRef *vrt_stordrv_pool_lookup_by_name(VrtStorageDriver *drv, const char *name, GError **error);
VrtStoragePoolRef *vrt_stordrv_pool_lookup_by_uuid(VrtStorageDriver *drv, const guint8 uuid[16], GError **error);
VrtStoragePoolRef *vrt_stordrv_pool_lookup_by_target_path(VrtStorageDriver *drv, const char *path, GError **error);
VrtStoragePoolRef *vrt_stordrv_pool_lookup_by_volume(VrtStorageDriver *drv, const char *pool, GError **error);
VrtStoragePoolRef *vrt_stordrv_pool_define_xml(VrtStorageDriver *drv, const char *xml, guint flags, GError **error);
VrtStoragePoolRef *vrt_stordrv_pool_create_xml(VrtStorageDriver *drv, const char *xml, guint flags, GError **error);
/* The pool calls name their pool by its uuid, as libvirt's driver finds it
 * (name: for the error message). */
bool vrt_stordrv_pool_create(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags,
                             GError **error);
bool vrt_stordrv_pool_build(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags,
                            GError **error);
bool vrt_stordrv_pool_destroy(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
bool vrt_stordrv_pool_delete(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags,
                             GError **error);
bool vrt_stordrv_pool_undefine(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
bool vrt_stordrv_pool_refresh(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags,
                              GError **error);
bool vrt_stordrv_pool_get_info(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, int *state,
                               guint64 *capacity, guint64 *allocation, guint64 *available, GError **error);
char *vrt_stordrv_pool_get_xml(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags,
                               GError **error);
int vrt_stordrv_pool_get_autostart(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
bool vrt_stordrv_pool_set_autostart(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, bool autostart,
                                    GError **error);
int vrt_stordrv_pool_is_active(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
int vrt_stordrv_pool_is_persistent(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
int vrt_stordrv_pool_num_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error);
/* of char* (names) or VrtStorageVolRef*; NULL on error */
GPtrArray *vrt_stordrv_pool_list_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, int maxnames,
                                         GError **error);
GPtrArray *vrt_stordrv_pool_list_all_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name,
                                             GError **error);

/* ---- volumes (named by their pool's name and their name) ---- */
VrtStorageVolRef *vrt_stordrv_vol_lookup_by_name(VrtStorageDriver *drv, const char *pool, const char *name,
                                                 GError **error);
VrtStorageVolRef *vrt_stordrv_vol_lookup_by_key(VrtStorageDriver *drv, const char *key, GError **error);
VrtStorageVolRef *vrt_stordrv_vol_lookup_by_path(VrtStorageDriver *drv, const char *path, GError **error);
/* pool: by uuid, as the pool calls. */
VrtStorageVolRef *vrt_stordrv_vol_create_xml(VrtStorageDriver *drv, const guint8 uuid[16], const char *pool,
                                             const char *xml, guint flags, GError **error);
VrtStorageVolRef *vrt_stordrv_vol_create_xml_from(VrtStorageDriver *drv, const guint8 uuid[16], const char *pool,
                                                  const char *xml, const char *src_pool, const char *src_name,
                                                  guint flags, GError **error);
bool vrt_stordrv_vol_delete(VrtStorageDriver *drv, const char *pool, const char *name, guint flags, GError **error);
bool vrt_stordrv_vol_wipe(VrtStorageDriver *drv, const char *pool, const char *name, guint algorithm, guint flags,
                          GError **error);
bool vrt_stordrv_vol_resize(VrtStorageDriver *drv, const char *pool, const char *name, guint64 capacity, guint flags,
                            GError **error);
/* type: libvirt's virStorageVolType (0 file). */
bool vrt_stordrv_vol_get_info(VrtStorageDriver *drv, const char *pool, const char *name, guint flags, int *type,
                              guint64 *capacity, guint64 *allocation, GError **error);
char *vrt_stordrv_vol_get_xml(VrtStorageDriver *drv, const char *pool, const char *name, guint flags, GError **error);
char *vrt_stordrv_vol_get_path(VrtStorageDriver *drv, const char *pool, const char *name, GError **error);

/* STORAGE_VOL_UPLOAD (upload) and _DOWNLOAD: the volume's file opened for
 * writing or reading at offset, the volume marked in use (delete, wipe,
 * resize refused with "volume '%s' is still in use.") until
 * vrt_stordrv_vol_end_transfer, which reads its facts again (an upload
 * also sends the pool's REFRESH event). No driver lock is held while the
 * stream runs. -1 with libvirt's error. */
int vrt_stordrv_vol_open_transfer(VrtStorageDriver *drv, const char *pool, const char *name, bool upload,
                                  guint64 offset, GError **error);
void vrt_stordrv_vol_end_transfer(VrtStorageDriver *drv, const char *pool, const char *name, bool upload);

/* For <disk type='volume'>: the file of volume name in active pool pool
 * and its format ("raw", "qcow2"...), with libvirt's errors. */
bool vrt_stordrv_volume_path(VrtStorageDriver *drv, const char *pool, const char *name, char **path, char **format,
                             GError **error);

/*
 * Handlers of the storage pool and volume procedures, over the storage
 * driver (src/drivers/storage/storage_driver.h), and the storage pool
 * event registry: STORAGE_POOL_EVENT_LIFECYCLE and _REFRESH sent to the
 * connections that registered for them (their callbacks live beside the
 * domain ones, with event IDs of their own).
 */
#include "daemon/daemon.h"
#include "drivers/storage/storage_driver.h"
#include "util/error.h"

#include <string.h>

/* libvirt's VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE and _REFRESH, kept apart
 * from domain event IDs in a connection's callbacks. */
#define STORAGE_EVENT_BASE VRT_EVENT_ID_STORAGE_POOL(0)
#define STORAGE_EVENT_ID_LIFECYCLE 0
#define STORAGE_EVENT_ID_REFRESH 1
#define STORAGE_EVENT_ID_LAST 2

static VrtStorageDriver *
stordrv(VrtCall *call, GError **error)
{
    VrtStorageDriver *drv = vrt_call_daemon(call)->storage;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the storage driver is not running");
    return drv;
}

#define DRV(call, error)                              \
    VrtStorageDriver *drv = stordrv((call), (error)); \
    if (!drv)                                         \
    return false

static void
pool_to_wire(const VrtStoragePoolRef *ref, remote_nonnull_storage_pool *pool)
{
    pool->name = g_strdup(ref->name);
    memcpy(pool->uuid, ref->uuid, 16);
}

static bool
ret_pool(VrtStoragePoolRef *ref, remote_storage_pool_ret *ret)
{
    if (!ref)
        return false;
    pool_to_wire(ref, &ret->pool);
    vrt_storage_pool_ref_free(ref);
    return true;
}

static void
vol_to_wire(const VrtStorageVolRef *ref, remote_nonnull_storage_vol *vol)
{
    vol->pool = g_strdup(ref->pool);
    vol->name = g_strdup(ref->name);
    vol->key = g_strdup(ref->key);
}

static bool
ret_vol(VrtStorageVolRef *ref, remote_storage_vol_ret *ret)
{
    if (!ref)
        return false;
    vol_to_wire(ref, &ret->vol);
    vrt_storage_vol_ref_free(ref);
    return true;
}

#define POOL_ARGS(p) WIRE_UUID((p).uuid), (p).name

/* ---- events ---- */

/* A pool event to the callbacks of its family (the daemon's one emitter). */
static void
emit_storage(VrtDaemon *daemon, int event_id, const guint8 uuid[16], int proc, xdrproc_t filter, const void *msg,
             int *callback_id)
{
    vrt_daemon_emit_event(daemon, STORAGE_EVENT_BASE + event_id, uuid, proc, filter, msg, callback_id);
}

void
vrt_daemon_emit_storage_pool_event(VrtDaemon *daemon, const char *name, const guint8 uuid[16], int event, int detail)
{
    if (event < 0) {
        remote_storage_pool_event_refresh_msg msg = { 0 };
        msg.pool.name = (char *)name;
        memcpy(msg.pool.uuid, uuid, 16);
        emit_storage(daemon, STORAGE_EVENT_ID_REFRESH, uuid, VRT_PROC_STORAGE_POOL_EVENT_REFRESH,
                     (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &msg, &msg.callbackID);
        return;
    }
    remote_storage_pool_event_lifecycle_msg msg = { 0 };
    msg.pool.name = (char *)name;
    memcpy(msg.pool.uuid, uuid, 16);
    msg.event = event;
    msg.detail = detail;
    emit_storage(daemon, STORAGE_EVENT_ID_LIFECYCLE, uuid, VRT_PROC_STORAGE_POOL_EVENT_LIFECYCLE,
                 (xdrproc_t)xdr_remote_storage_pool_event_lifecycle_msg, &msg, &msg.callbackID);
}

bool
vrt_handle_connect_storage_pool_event_register_any(VrtCall *call,
                                                   remote_connect_storage_pool_event_register_any_args *args,
                                                   remote_connect_storage_pool_event_register_any_ret *ret,
                                                   GError **error)
{
    if (args->eventID < 0 || args->eventID >= STORAGE_EVENT_ID_LAST) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported storage pool event ID %d", args->eventID);
        return false;
    }
    VrtEventCallback cb = { 0 };
    cb.event_id = STORAGE_EVENT_BASE + args->eventID;
    if (args->pool) {
        cb.has_dom = true;
        memcpy(cb.uuid, args->pool->uuid, 16);
    }
    ret->callbackID = vrt_conn_add_callback(vrt_call_conn(call), &cb);
    return true;
}

bool
vrt_handle_connect_storage_pool_event_deregister_any(VrtCall *call,
                                                     remote_connect_storage_pool_event_deregister_any_args *args,
                                                     GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);
        for (guint i = 0; i < conn->callbacks->len; i++) {
            const VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, i);
            if (cb->id == args->callbackID && cb->event_id >= STORAGE_EVENT_BASE &&
                cb->event_id < STORAGE_EVENT_BASE + STORAGE_EVENT_ID_LAST) {
                g_array_remove_index(conn->callbacks, i);
                return true;
            }
        }
    }
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "storage pool event callback %d not registered", args->callbackID);
    return false;
}

/* ---- pools ---- */

bool
vrt_handle_connect_num_of_storage_pools(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_stordrv_num_pools(drv, true);
    return true;
}

bool
vrt_handle_connect_num_of_defined_storage_pools(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_stordrv_num_pools(drv, false);
    return true;
}

static bool
names_to_wire(GPtrArray *names, remote_names_ret *ret)
{
    ret->names.names_len = names->len;
    ret->names.names_val = g_new0(char *, MAX(names->len, 1));
    for (guint i = 0; i < names->len; i++)
        ret->names.names_val[i] = g_strdup(g_ptr_array_index(names, i));
    return true;
}

static bool
list_pool_names(VrtCall *call, bool active, int maxnames, remote_names_ret *ret, GError **error)
{
    DRV(call, error);
    if (maxnames < 0 || maxnames > REMOTE_STORAGE_POOL_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxnames > REMOTE_STORAGE_POOL_LIST_MAX");
        return false;
    }
    g_autoptr(GPtrArray) names = vrt_stordrv_list_pools(drv, active, maxnames);
    return names_to_wire(names, ret);
}

bool
vrt_handle_connect_list_storage_pools(VrtCall *call, remote_maxnames_args *args, remote_names_ret *ret, GError **error)
{
    return list_pool_names(call, true, args->maxnames, ret, error);
}

bool
vrt_handle_connect_list_defined_storage_pools(VrtCall *call, remote_maxnames_args *args, remote_names_ret *ret,
                                              GError **error)
{
    return list_pool_names(call, false, args->maxnames, ret, error);
}

bool
vrt_handle_connect_list_all_storage_pools(VrtCall *call, remote_connect_list_all_storage_pools_args *args,
                                          remote_connect_list_all_storage_pools_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) pools = vrt_stordrv_list_all_pools(drv, args->flags);
    if (args->need_results) {
        ret->pools.pools_len = pools->len;
        ret->pools.pools_val = g_new0(remote_nonnull_storage_pool, MAX(pools->len, 1));
        for (guint i = 0; i < pools->len; i++)
            pool_to_wire(g_ptr_array_index(pools, i), &ret->pools.pools_val[i]);
    }
    ret->ret = pools->len;
    return true;
}

bool
vrt_handle_connect_find_storage_pool_sources(VrtCall *call, remote_connect_find_storage_pool_sources_args *args,
                                             remote_string_ret *ret, GError **error)
{
    (void)ret;
    DRV(call, error);
    static const char *const types[] = { "dir",      "fs",           "netfs", "logical",  "disk",
                                         "iscsi",    "iscsi-direct", "scsi",  "mpath",    "rbd",
                                         "sheepdog", "gluster",      "zfs",   "vstorage", NULL };
    if (!g_strv_contains(types, args->type)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unknown storage pool type %s", args->type);
        return false;
    }
    /* dir pools have no sources to discover; vrt serves no other type */
    vrt_error_set(error, VIR_ERR_NO_SUPPORT, "pool type '%s' does not support source discovery", args->type);
    return false;
}

bool
vrt_handle_storage_pool_create_xml(VrtCall *call, remote_xml_flags_args *args, remote_storage_pool_ret *ret,
                                   GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_create_xml(drv, args->xml, args->flags, error), ret);
}

bool
vrt_handle_storage_pool_define_xml(VrtCall *call, remote_xml_flags_args *args, remote_storage_pool_ret *ret,
                                   GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_define_xml(drv, args->xml, args->flags, error), ret);
}

bool
vrt_handle_storage_pool_create(VrtCall *call, remote_storage_pool_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_create(drv, POOL_ARGS(args->pool), args->flags, error);
}

bool
vrt_handle_storage_pool_build(VrtCall *call, remote_storage_pool_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_build(drv, POOL_ARGS(args->pool), args->flags, error);
}

bool
vrt_handle_storage_pool_destroy(VrtCall *call, remote_storage_pool_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_destroy(drv, POOL_ARGS(args->pool), error);
}

bool
vrt_handle_storage_pool_delete(VrtCall *call, remote_storage_pool_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_delete(drv, POOL_ARGS(args->pool), args->flags, error);
}

bool
vrt_handle_storage_pool_undefine(VrtCall *call, remote_storage_pool_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_undefine(drv, POOL_ARGS(args->pool), error);
}

bool
vrt_handle_storage_pool_refresh(VrtCall *call, remote_storage_pool_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_refresh(drv, POOL_ARGS(args->pool), args->flags, error);
}

bool
vrt_handle_storage_pool_lookup_by_name(VrtCall *call, remote_storage_pool_lookup_by_name_args *args,
                                       remote_storage_pool_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_lookup_by_name(drv, args->name, error), ret);
}

bool
vrt_handle_storage_pool_lookup_by_uuid(VrtCall *call, remote_storage_pool_lookup_by_uuid_args *args,
                                       remote_storage_pool_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_lookup_by_uuid(drv, WIRE_UUID(args->uuid), error), ret);
}

bool
vrt_handle_storage_pool_lookup_by_volume(VrtCall *call, remote_storage_vol_only_args *args,
                                         remote_storage_pool_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_lookup_by_volume(drv, args->vol.pool, error), ret);
}

bool
vrt_handle_storage_pool_lookup_by_target_path(VrtCall *call, remote_storage_pool_lookup_by_target_path_args *args,
                                              remote_storage_pool_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_pool(vrt_stordrv_pool_lookup_by_target_path(drv, args->path, error), ret);
}

bool
vrt_handle_storage_pool_get_info(VrtCall *call, remote_storage_pool_only_args *args,
                                 remote_storage_pool_get_info_ret *ret, GError **error)
{
    DRV(call, error);
    int state;
    guint64 cap, alloc, avail;
    if (!vrt_stordrv_pool_get_info(drv, POOL_ARGS(args->pool), &state, &cap, &alloc, &avail, error))
        return false;
    ret->state = state;
    ret->capacity = cap;
    ret->allocation = alloc;
    ret->available = avail;
    return true;
}

bool
vrt_handle_storage_pool_get_xml_desc(VrtCall *call, remote_storage_pool_flags_args *args, remote_string_ret *ret,
                                     GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_stordrv_pool_get_xml(drv, POOL_ARGS(args->pool), args->flags, error), ret);
}

bool
vrt_handle_storage_pool_get_autostart(VrtCall *call, remote_storage_pool_only_args *args, remote_int_ret *ret,
                                      GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_stordrv_pool_get_autostart(drv, POOL_ARGS(args->pool), error), ret);
}

bool
vrt_handle_storage_pool_set_autostart(VrtCall *call, remote_storage_pool_set_autostart_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_pool_set_autostart(drv, POOL_ARGS(args->pool), args->autostart != 0, error);
}

bool
vrt_handle_storage_pool_is_active(VrtCall *call, remote_storage_pool_only_args *args, remote_int_ret *ret,
                                  GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_stordrv_pool_is_active(drv, POOL_ARGS(args->pool), error), ret);
}

bool
vrt_handle_storage_pool_is_persistent(VrtCall *call, remote_storage_pool_only_args *args, remote_int_ret *ret,
                                      GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_stordrv_pool_is_persistent(drv, POOL_ARGS(args->pool), error), ret);
}

bool
vrt_handle_storage_pool_num_of_volumes(VrtCall *call, remote_storage_pool_only_args *args, remote_int_ret *ret,
                                       GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_stordrv_pool_num_volumes(drv, POOL_ARGS(args->pool), error), ret);
}

bool
vrt_handle_storage_pool_list_volumes(VrtCall *call, remote_storage_pool_list_volumes_args *args, remote_names_ret *ret,
                                     GError **error)
{
    DRV(call, error);
    if (args->maxnames < 0 || args->maxnames > REMOTE_STORAGE_VOL_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxnames > REMOTE_STORAGE_VOL_LIST_MAX");
        return false;
    }
    g_autoptr(GPtrArray) names = vrt_stordrv_pool_list_volumes(drv, POOL_ARGS(args->pool), args->maxnames, error);
    return names && names_to_wire(names, ret);
}

bool
vrt_handle_storage_pool_list_all_volumes(VrtCall *call, remote_storage_pool_list_all_volumes_args *args,
                                         remote_storage_pool_list_all_volumes_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) vols = vrt_stordrv_pool_list_all_volumes(drv, POOL_ARGS(args->pool), error);
    if (!vols)
        return false;
    if (args->need_results) {
        ret->vols.vols_len = vols->len;
        ret->vols.vols_val = g_new0(remote_nonnull_storage_vol, MAX(vols->len, 1));
        for (guint i = 0; i < vols->len; i++)
            vol_to_wire(g_ptr_array_index(vols, i), &ret->vols.vols_val[i]);
    }
    ret->ret = vols->len;
    return true;
}

/* ---- volumes ---- */

bool
vrt_handle_storage_vol_create_xml(VrtCall *call, remote_storage_vol_create_xml_args *args, remote_storage_vol_ret *ret,
                                  GError **error)
{
    DRV(call, error);
    return ret_vol(vrt_stordrv_vol_create_xml(drv, POOL_ARGS(args->pool), args->xml, args->flags, error), ret);
}

bool
vrt_handle_storage_vol_create_xml_from(VrtCall *call, remote_storage_vol_create_xml_from_args *args,
                                       remote_storage_vol_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_vol(vrt_stordrv_vol_create_xml_from(drv, POOL_ARGS(args->pool), args->xml, args->clonevol.pool,
                                                   args->clonevol.name, args->flags, error),
                   ret);
}

bool
vrt_handle_storage_vol_delete(VrtCall *call, remote_storage_vol_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_vol_delete(drv, args->vol.pool, args->vol.name, args->flags, error);
}

bool
vrt_handle_storage_vol_lookup_by_name(VrtCall *call, remote_storage_vol_lookup_by_name_args *args,
                                      remote_storage_vol_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_vol(vrt_stordrv_vol_lookup_by_name(drv, args->pool.name, args->name, error), ret);
}

bool
vrt_handle_storage_vol_lookup_by_key(VrtCall *call, remote_storage_vol_lookup_by_key_args *args,
                                     remote_storage_vol_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_vol(vrt_stordrv_vol_lookup_by_key(drv, args->key, error), ret);
}

bool
vrt_handle_storage_vol_lookup_by_path(VrtCall *call, remote_storage_vol_lookup_by_path_args *args,
                                      remote_storage_vol_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_vol(vrt_stordrv_vol_lookup_by_path(drv, args->path, error), ret);
}

static bool
vol_info(VrtCall *call, remote_nonnull_storage_vol *vol, guint flags, remote_storage_vol_get_info_ret *ret,
         GError **error)
{
    DRV(call, error);
    int type;
    guint64 cap, alloc;
    if (!vrt_stordrv_vol_get_info(drv, vol->pool, vol->name, flags, &type, &cap, &alloc, error))
        return false;
    ret->type = type;
    ret->capacity = cap;
    ret->allocation = alloc;
    return true;
}

bool
vrt_handle_storage_vol_get_info(VrtCall *call, remote_storage_vol_only_args *args, remote_storage_vol_get_info_ret *ret,
                                GError **error)
{
    return vol_info(call, &args->vol, 0, ret, error);
}

bool
vrt_handle_storage_vol_get_info_flags(VrtCall *call, remote_storage_vol_get_info_flags_args *args,
                                      remote_storage_vol_get_info_ret *ret, GError **error)
{
    return vol_info(call, &args->vol, args->flags, ret, error);
}

bool
vrt_handle_storage_vol_get_xml_desc(VrtCall *call, remote_storage_vol_flags_args *args, remote_string_ret *ret,
                                    GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_stordrv_vol_get_xml(drv, args->vol.pool, args->vol.name, args->flags, error), ret);
}

bool
vrt_handle_storage_vol_get_path(VrtCall *call, remote_storage_vol_only_args *args, remote_string_ret *ret,
                                GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_stordrv_vol_get_path(drv, args->vol.pool, args->vol.name, error), ret);
}

bool
vrt_handle_storage_vol_wipe(VrtCall *call, remote_storage_vol_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_vol_wipe(drv, args->vol.pool, args->vol.name, 0, args->flags, error);
}

bool
vrt_handle_storage_vol_wipe_pattern(VrtCall *call, remote_storage_vol_wipe_pattern_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_vol_wipe(drv, args->vol.pool, args->vol.name, args->algorithm, args->flags, error);
}

bool
vrt_handle_storage_vol_resize(VrtCall *call, remote_storage_vol_resize_args *args, GError **error)
{
    DRV(call, error);
    return vrt_stordrv_vol_resize(drv, args->vol.pool, args->vol.name, args->capacity, args->flags, error);
}

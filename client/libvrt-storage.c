/*
 * libvrt's storage pool and volume handles: one remote procedure per call,
 * the same ones virsh's pool-* and vol-* commands send.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

#define FREE_RET(type, ret) vrt_message_free_payload((xdrproc_t)xdr_##type, &(ret))

struct vrt_storage_pool {
    vrt_conn *conn;
    char *name;
    unsigned char uuid[VRT_UUID_BUFLEN];
};

struct vrt_storage_vol {
    vrt_conn *conn;
    char *pool;
    char *name;
    char *key;
};

static vrt_storage_pool *
pool_from_wire(vrt_conn *conn, const remote_nonnull_storage_pool *p)
{
    vrt_storage_pool *pool = g_new0(vrt_storage_pool, 1);
    pool->conn = conn;
    pool->name = g_strdup(p->name);
    memcpy(pool->uuid, p->uuid, VRT_UUID_BUFLEN);
    return pool;
}

static void
pool_to_wire(vrt_storage_pool *pool, remote_nonnull_storage_pool *p)
{
    p->name = pool->name;
    memcpy(p->uuid, pool->uuid, VRT_UUID_BUFLEN);
}

static vrt_storage_vol *
vol_from_wire(vrt_conn *conn, const remote_nonnull_storage_vol *v)
{
    vrt_storage_vol *vol = g_new0(vrt_storage_vol, 1);
    vol->conn = conn;
    vol->pool = g_strdup(v->pool);
    vol->name = g_strdup(v->name);
    vol->key = g_strdup(v->key);
    return vol;
}

static void
vol_to_wire(vrt_storage_vol *vol, remote_nonnull_storage_vol *v)
{
    v->pool = vol->pool;
    v->name = vol->name;
    v->key = vol->key;
}

void
vrt_storage_pool_free(vrt_storage_pool *pool)
{
    if (!pool)
        return;
    g_free(pool->name);
    g_free(pool);
}

void
vrt_storage_pool_list_free(vrt_storage_pool **pools)
{
    vrt_list_free_full((void **)pools, (GDestroyNotify)vrt_storage_pool_free);
}

const char *
vrt_storage_pool_get_name(vrt_storage_pool *pool)
{
    return pool ? pool->name : NULL;
}

void
vrt_storage_pool_get_uuid_string(vrt_storage_pool *pool, char buf[VRT_UUID_STRING_BUFLEN])
{
    vrt_uuid_format(pool->uuid, buf);
}

void
vrt_storage_vol_free(vrt_storage_vol *vol)
{
    if (!vol)
        return;
    g_free(vol->pool);
    g_free(vol->name);
    g_free(vol->key);
    g_free(vol);
}

void
vrt_storage_vol_list_free(vrt_storage_vol **vols)
{
    vrt_list_free_full((void **)vols, (GDestroyNotify)vrt_storage_vol_free);
}

const char *
vrt_storage_vol_get_name(vrt_storage_vol *vol)
{
    return vol ? vol->name : NULL;
}

const char *
vrt_storage_vol_get_key(vrt_storage_vol *vol)
{
    return vol ? vol->key : NULL;
}

int
vrt_conn_list_all_storage_pools(vrt_conn *conn, vrt_storage_pool ***pools, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_list_all_storage_pools_args args = { .need_results = pools != NULL, .flags = flags };
    remote_connect_list_all_storage_pools_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_list_all_storage_pools(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    int n = ret.pools.pools_len;
    if (pools) {
        vrt_storage_pool **list = g_new0(vrt_storage_pool *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = pool_from_wire(conn, &ret.pools.pools_val[i]);
        *pools = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_connect_list_all_storage_pools_ret, ret);
    return n;
}

static vrt_storage_pool *
pool_ret(vrt_conn *conn, bool ok, remote_storage_pool_ret *ret, GError *gerr, vrt_error **err)
{
    if (!ok) {
        vrt_err_take(err, gerr, VIR_FROM_STORAGE);
        return NULL;
    }
    vrt_storage_pool *pool = pool_from_wire(conn, &ret->pool);
    FREE_RET(remote_storage_pool_ret, *ret);
    return pool;
}

vrt_storage_pool *
vrt_storage_pool_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_storage_pool_lookup_by_name_args args = { .name = (char *)name };
    remote_storage_pool_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_storage_pool_lookup_by_name(conn->rpc, &args, &ret, &gerr);
    return pool_ret(conn, ok, &ret, gerr, err);
}

vrt_storage_pool *
vrt_storage_pool_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_xml_flags_args args = { .xml = (char *)xml, .flags = flags };
    remote_storage_pool_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_storage_pool_define_xml(conn->rpc, &args, &ret, &gerr);
    return pool_ret(conn, ok, &ret, gerr, err);
}

#define POOL_FLAGS_CALL(fn, stub)                                       \
    int fn(vrt_storage_pool *pool, unsigned int flags, vrt_error **err) \
    {                                                                   \
        VRT_CHECK_ARG(pool, err, -1);                                   \
        remote_storage_pool_flags_args args = { .flags = flags };       \
        pool_to_wire(pool, &args.pool);                                 \
        GError *gerr = NULL;                                            \
        if (!stub(pool->conn->rpc, &args, &gerr))                       \
            return vrt_err_take(err, gerr, VIR_FROM_STORAGE);           \
        return 0;                                                       \
    }

#define POOL_ONLY_CALL(fn, stub)                              \
    int fn(vrt_storage_pool *pool, vrt_error **err)           \
    {                                                         \
        VRT_CHECK_ARG(pool, err, -1);                         \
        remote_storage_pool_only_args args;                   \
        pool_to_wire(pool, &args.pool);                       \
        GError *gerr = NULL;                                  \
        if (!stub(pool->conn->rpc, &args, &gerr))             \
            return vrt_err_take(err, gerr, VIR_FROM_STORAGE); \
        return 0;                                             \
    }

POOL_FLAGS_CALL(vrt_storage_pool_build, vrt_call_storage_pool_build)
POOL_FLAGS_CALL(vrt_storage_pool_create, vrt_call_storage_pool_create)
POOL_FLAGS_CALL(vrt_storage_pool_delete, vrt_call_storage_pool_delete)
POOL_FLAGS_CALL(vrt_storage_pool_refresh, vrt_call_storage_pool_refresh)
POOL_ONLY_CALL(vrt_storage_pool_destroy, vrt_call_storage_pool_destroy)
POOL_ONLY_CALL(vrt_storage_pool_undefine, vrt_call_storage_pool_undefine)

char *
vrt_storage_pool_get_xml_desc(vrt_storage_pool *pool, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, NULL);
    remote_storage_pool_flags_args args = { .flags = flags };
    pool_to_wire(pool, &args.pool);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_storage_pool_get_xml_desc(pool->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_STORAGE);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

int
vrt_storage_pool_get_info(vrt_storage_pool *pool, vrt_storage_pool_info *info, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, -1);
    VRT_CHECK_ARG(info, err, -1);
    remote_storage_pool_only_args args;
    pool_to_wire(pool, &args.pool);
    remote_storage_pool_get_info_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_storage_pool_get_info(pool->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    info->state = ret.state;
    info->capacity = ret.capacity;
    info->allocation = ret.allocation;
    info->available = ret.available;
    return 0;
}

static int
pool_int_call(vrt_storage_pool *pool,
              bool (*stub)(VrtRpcClient *, remote_storage_pool_only_args *, remote_int_ret *, GError **), int *value,
              vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, -1);
    remote_storage_pool_only_args args;
    pool_to_wire(pool, &args.pool);
    remote_int_ret ret = { 0 };
    GError *gerr = NULL;
    if (!stub(pool->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    *value = ret.value;
    return 0;
}

int
vrt_storage_pool_get_autostart(vrt_storage_pool *pool, int *autostart, vrt_error **err)
{
    VRT_CHECK_ARG(autostart, err, -1);
    return pool_int_call(pool, vrt_call_storage_pool_get_autostart, autostart, err);
}

int
vrt_storage_pool_set_autostart(vrt_storage_pool *pool, int autostart, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, -1);
    remote_storage_pool_set_autostart_args args = { .autostart = autostart ? 1 : 0 };
    pool_to_wire(pool, &args.pool);
    GError *gerr = NULL;
    if (!vrt_call_storage_pool_set_autostart(pool->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    return 0;
}

int
vrt_storage_pool_is_active(vrt_storage_pool *pool, vrt_error **err)
{
    int v = 0;
    if (pool_int_call(pool, vrt_call_storage_pool_is_active, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

int
vrt_storage_pool_is_persistent(vrt_storage_pool *pool, vrt_error **err)
{
    int v = 0;
    if (pool_int_call(pool, vrt_call_storage_pool_is_persistent, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

int
vrt_storage_pool_list_all_volumes(vrt_storage_pool *pool, vrt_storage_vol ***vols, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, -1);
    remote_storage_pool_list_all_volumes_args args = { .need_results = vols != NULL, .flags = flags };
    pool_to_wire(pool, &args.pool);
    remote_storage_pool_list_all_volumes_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_storage_pool_list_all_volumes(pool->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    int n = ret.vols.vols_len;
    if (vols) {
        vrt_storage_vol **list = g_new0(vrt_storage_vol *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = vol_from_wire(pool->conn, &ret.vols.vols_val[i]);
        *vols = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_storage_pool_list_all_volumes_ret, ret);
    return n;
}

static vrt_storage_vol *
vol_ret(vrt_conn *conn, bool ok, remote_storage_vol_ret *ret, GError *gerr, vrt_error **err)
{
    if (!ok) {
        vrt_err_take(err, gerr, VIR_FROM_STORAGE);
        return NULL;
    }
    vrt_storage_vol *vol = vol_from_wire(conn, &ret->vol);
    FREE_RET(remote_storage_vol_ret, *ret);
    return vol;
}

vrt_storage_vol *
vrt_storage_vol_lookup_by_name(vrt_storage_pool *pool, const char *name, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_storage_vol_lookup_by_name_args args = { .name = (char *)name };
    pool_to_wire(pool, &args.pool);
    remote_storage_vol_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_storage_vol_lookup_by_name(pool->conn->rpc, &args, &ret, &gerr);
    return vol_ret(pool->conn, ok, &ret, gerr, err);
}

vrt_storage_vol *
vrt_storage_vol_create_xml(vrt_storage_pool *pool, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(pool, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_storage_vol_create_xml_args args = { .xml = (char *)xml, .flags = flags };
    pool_to_wire(pool, &args.pool);
    remote_storage_vol_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_storage_vol_create_xml(pool->conn->rpc, &args, &ret, &gerr);
    return vol_ret(pool->conn, ok, &ret, gerr, err);
}

static char *
vol_string_call(vrt_storage_vol *vol, unsigned int flags, bool xml, vrt_error **err)
{
    VRT_CHECK_ARG(vol, err, NULL);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok;
    if (xml) {
        remote_storage_vol_flags_args args = { .flags = flags };
        vol_to_wire(vol, &args.vol);
        ok = vrt_call_storage_vol_get_xml_desc(vol->conn->rpc, &args, &ret, &gerr);
    } else {
        remote_storage_vol_only_args args;
        vol_to_wire(vol, &args.vol);
        ok = vrt_call_storage_vol_get_path(vol->conn->rpc, &args, &ret, &gerr);
    }
    if (!ok) {
        vrt_err_take(err, gerr, VIR_FROM_STORAGE);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

char *
vrt_storage_vol_get_path(vrt_storage_vol *vol, vrt_error **err)
{
    return vol_string_call(vol, 0, false, err);
}

char *
vrt_storage_vol_get_xml_desc(vrt_storage_vol *vol, unsigned int flags, vrt_error **err)
{
    return vol_string_call(vol, flags, true, err);
}

int
vrt_storage_vol_get_info(vrt_storage_vol *vol, vrt_storage_vol_info *info, vrt_error **err)
{
    VRT_CHECK_ARG(vol, err, -1);
    VRT_CHECK_ARG(info, err, -1);
    remote_storage_vol_only_args args;
    vol_to_wire(vol, &args.vol);
    remote_storage_vol_get_info_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_storage_vol_get_info(vol->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    info->type = ret.type;
    info->capacity = ret.capacity;
    info->allocation = ret.allocation;
    return 0;
}

#define VOL_FLAGS_CALL(fn, stub)                                      \
    int fn(vrt_storage_vol *vol, unsigned int flags, vrt_error **err) \
    {                                                                 \
        VRT_CHECK_ARG(vol, err, -1);                                  \
        remote_storage_vol_flags_args args = { .flags = flags };      \
        vol_to_wire(vol, &args.vol);                                  \
        GError *gerr = NULL;                                          \
        if (!stub(vol->conn->rpc, &args, &gerr))                      \
            return vrt_err_take(err, gerr, VIR_FROM_STORAGE);         \
        return 0;                                                     \
    }

VOL_FLAGS_CALL(vrt_storage_vol_delete, vrt_call_storage_vol_delete)
VOL_FLAGS_CALL(vrt_storage_vol_wipe, vrt_call_storage_vol_wipe)

int
vrt_storage_vol_resize(vrt_storage_vol *vol, unsigned long long capacity, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(vol, err, -1);
    remote_storage_vol_resize_args args = { .capacity = capacity, .flags = flags };
    vol_to_wire(vol, &args.vol);
    GError *gerr = NULL;
    if (!vrt_call_storage_vol_resize(vol->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STORAGE);
    return 0;
}

/* UPLOAD and DOWNLOAD share their args' shape. */
static vrt_stream *
vol_stream(vrt_storage_vol *vol, int proc, xdrproc_t filter, void *args, vrt_error **err)
{
    VrtRpcStream *rpc = NULL;
    GError *gerr = NULL;

    if (!vrt_rpc_client_call_stream(vol->conn->rpc, proc, filter, args, NULL, NULL, &rpc, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_STORAGE);
        return NULL;
    }
    return vrt_stream_wrap(vol->conn, rpc);
}

vrt_stream *
vrt_storage_vol_upload(vrt_storage_vol *vol, unsigned long long offset, unsigned long long length, unsigned int flags,
                       vrt_error **err)
{
    VRT_CHECK_ARG(vol, err, NULL);
    remote_storage_vol_upload_args args = { .offset = offset, .length = length, .flags = flags };
    vol_to_wire(vol, &args.vol);
    return vol_stream(vol, VRT_PROC_STORAGE_VOL_UPLOAD, (xdrproc_t)xdr_remote_storage_vol_upload_args, &args, err);
}

vrt_stream *
vrt_storage_vol_download(vrt_storage_vol *vol, unsigned long long offset, unsigned long long length, unsigned int flags,
                         vrt_error **err)
{
    VRT_CHECK_ARG(vol, err, NULL);
    remote_storage_vol_download_args args = { .offset = offset, .length = length, .flags = flags };
    vol_to_wire(vol, &args.vol);
    return vol_stream(vol, VRT_PROC_STORAGE_VOL_DOWNLOAD, (xdrproc_t)xdr_remote_storage_vol_download_args, &args, err);
}

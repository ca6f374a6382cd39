/*
 * Handlers of STORAGE_VOL_UPLOAD and STORAGE_VOL_DOWNLOAD: the storage
 * driver opens the volume's file at the call's offset and marks the volume
 * in use; the file is bound to an RPC stream (src/rpc/stream.h) limited to
 * the call's length (0: to the end) that carries it after the reply, on
 * the I/O thread, with no storage driver lock held. With the SPARSE_STREAM
 * flag a download sends the file's holes as hole messages and an upload's
 * holes become holes in the file (the client's holes are taken either
 * way: libvirt's clients send them only with the flag). However the stream
 * ends (finished, aborted, failed, its client gone) the volume is given
 * back and its facts read again.
 */
#include "daemon/daemon.h"
#include "drivers/storage/storage_driver.h"
#include "rpc/stream.h"
#include "util/error.h"

/* libvirt's VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM and
 * VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM (both 1 << 0). */
#define VOL_STREAM_SPARSE (1u << 0)

typedef struct {
    VrtStorageDriver *drv;
    char *pool;
    char *name;
    bool upload;
} Transfer;

static void
transfer_free(gpointer data)
{
    Transfer *t = data;

    g_free(t->pool);
    g_free(t->name);
    g_free(t);
}

static void
transfer_ended(VrtServerStream *stream G_GNUC_UNUSED, VrtStreamEnd how G_GNUC_UNUSED, gpointer data)
{
    Transfer *t = data;

    vrt_stordrv_vol_end_transfer(t->drv, t->pool, t->name, t->upload);
}

static bool
open_transfer(VrtCall *call, const remote_nonnull_storage_vol *vol, guint64 offset, guint64 length, guint flags,
              bool upload, GError **error)
{
    VrtStorageDriver *drv = vrt_call_daemon(call)->storage;
    g_autoptr(VrtServerStream) stream = NULL;

    if (!drv) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the storage driver is not running");
        return false;
    }
    int fd = vrt_stordrv_vol_open_transfer(drv, vol->pool, vol->name, upload, offset, error);
    if (fd < 0)
        return false;
    stream = vrt_server_stream_new(call, fd, upload ? VRT_STREAM_SINK : VRT_STREAM_SOURCE);
    vrt_server_stream_set_file(stream, length, !upload && (flags & VOL_STREAM_SPARSE));
    Transfer *t = g_new0(Transfer, 1);
    t->drv = drv;
    t->pool = g_strdup(vol->pool);
    t->name = g_strdup(vol->name);
    t->upload = upload;
    /* Runs once however the stream ends, a failed call's discard too. */
    vrt_server_stream_set_end_func(stream, transfer_ended, t, transfer_free);
    return true;
}

bool
vrt_handle_storage_vol_upload(VrtCall *call, remote_storage_vol_upload_args *args, GError **error)
{
    return open_transfer(call, &args->vol, args->offset, args->length, args->flags, true, error);
}

bool
vrt_handle_storage_vol_download(VrtCall *call, remote_storage_vol_download_args *args, GError **error)
{
    return open_transfer(call, &args->vol, args->offset, args->length, args->flags, false, error);
}

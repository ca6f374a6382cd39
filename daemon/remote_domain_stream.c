/*
 * Handlers of the domain procedures that open a stream: the console and
 * serial ports (DOMAIN_OPEN_CONSOLE), channels (DOMAIN_OPEN_CHANNEL) and
 * screenshots (DOMAIN_SCREENSHOT). The QEMU driver gives the fd; each is
 * bound to an RPC stream (src/rpc/stream.h) that carries it after the reply.
 *
 * A console or channel is held by one stream at a time, as libvirt's
 * virChrdevOpen does: a second open fails with "Active console session
 * exists for this domain" unless it asks FORCE, which ends the first
 * stream (its client gets libvirtd's stream error, "stream had I/O
 * failure") and takes the device. The table
 * of holders is keyed by domain UUID and device path; a holder leaves it
 * when its stream ends (finish, abort, error, client gone); one whose
 * device hung up (the domain stopped) no longer counts as holding it.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver.h"
#include "rpc/stream.h"
#include "util/error.h"

#include <unistd.h>

/* The devices held by a stream: "UUID-HEX PATH" -> VrtServerStream* (a
 * reference). Guarded by lock, which is never held while a stream is
 * ended (its end callback takes the lock). */
struct _VrtStreamHolds {
    GMutex lock;
    GHashTable *held;
};

VrtStreamHolds *
vrt_stream_holds_new(void)
{
    VrtStreamHolds *holds = g_new0(VrtStreamHolds, 1);

    g_mutex_init(&holds->lock);
    holds->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vrt_server_stream_unref);
    return holds;
}

void
vrt_stream_holds_free(VrtStreamHolds *holds)
{
    if (!holds)
        return;
    g_hash_table_unref(holds->held);
    g_mutex_clear(&holds->lock);
    g_free(holds);
}

typedef struct {
    VrtStreamHolds *holds; /* the daemon's, which outlives the stream's end */
    char *key;
} Holder;

static void
holder_free(gpointer data)
{
    Holder *h = data;

    g_free(h->key);
    g_free(h);
}

/* A stream that held a device ended: the device is free, unless another
 * stream took it over (FORCE) meanwhile. */
static void
holder_ended(VrtServerStream *stream, VrtStreamEnd how G_GNUC_UNUSED, gpointer data)
{
    Holder *h = data;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&h->holds->lock);

    if (g_hash_table_lookup(h->holds->held, h->key) == stream)
        g_hash_table_remove(h->holds->held, h->key);
}

/* Binds fd (taken) to a stream of call holding the device key of domain
 * uuid: refused while another stream holds it, unless force. */
static bool
hold_device(VrtCall *call, const guchar *uuid, const char *path, int fd, bool force, GError **error)
{
    g_autofree char *hex = NULL;
    g_autofree char *key = NULL;
    g_autoptr(VrtServerStream) old = NULL;
    g_autoptr(VrtServerStream) stream = NULL;
    VrtStreamHolds *holds = vrt_call_daemon(call)->stream_holds;

    hex = g_strdup_printf("%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", uuid[0], uuid[1], uuid[2],
                          uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12],
                          uuid[13], uuid[14], uuid[15]);
    key = g_strdup_printf("%s %s", hex, path);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&holds->lock);
        VrtServerStream *cur = g_hash_table_lookup(holds->held, key);

        /* A stream whose device hung up (the domain stopped) holds nothing,
         * even before its client finishes it. */
        if (cur && !vrt_server_stream_source_ended(cur) && !force) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "Active console session exists for this domain");
            close(fd);
            return false;
        }
        if (cur)
            old = vrt_server_stream_ref(cur);
        stream = vrt_server_stream_new(call, fd, VRT_STREAM_SOURCE | VRT_STREAM_SINK);
        Holder *h = g_new0(Holder, 1);
        h->holds = holds;
        h->key = g_strdup(key);
        vrt_server_stream_set_end_func(stream, holder_ended, h, holder_free);
        g_hash_table_insert(holds->held, g_strdup(key), vrt_server_stream_ref(stream));
    }
    /* Outside the lock: its end callback takes it. */
    if (old) {
        g_autoptr(GError) err = NULL;

        /* What libvirtd says when virChrdevOpen aborts the holder's stream. */
        vrt_error_set(&err, VIR_ERR_RPC, "%s", "stream had I/O failure");
        vrt_server_stream_abort(old, err, VIR_FROM_STREAMS);
    }
    return true;
}

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

bool
vrt_handle_domain_open_console(VrtCall *call, remote_domain_open_console_args *args, GError **error)
{
    g_autofree char *path = NULL;
    const char *dev = args->dev_name ? *args->dev_name : NULL;
    int fd;

    DRV(call, error);
    fd = vrt_qemu_domain_open_console(drv, WIRE_UUID(args->dom.uuid), dev, args->flags, &path, error);
    if (fd < 0)
        return false;
    return hold_device(call, WIRE_UUID(args->dom.uuid), path, fd, args->flags & VRT_DOMAIN_CONSOLE_FORCE, error);
}

bool
vrt_handle_domain_open_channel(VrtCall *call, remote_domain_open_channel_args *args, GError **error)
{
    g_autofree char *path = NULL;
    const char *name = args->name ? *args->name : NULL;
    int fd;

    DRV(call, error);
    fd = vrt_qemu_domain_open_channel(drv, WIRE_UUID(args->dom.uuid), name, args->flags, &path, error);
    if (fd < 0)
        return false;
    return hold_device(call, WIRE_UUID(args->dom.uuid), path, fd, args->flags & VRT_DOMAIN_CHANNEL_FORCE, error);
}

bool
vrt_handle_domain_screenshot(VrtCall *call, remote_domain_screenshot_args *args, remote_domain_screenshot_ret *ret,
                             GError **error)
{
    g_autofree char *mime = NULL;
    g_autoptr(VrtServerStream) stream = NULL;
    int fd;

    DRV(call, error);
    fd = vrt_qemu_domain_screenshot(drv, WIRE_UUID(args->dom.uuid), args->screen, args->flags, &mime, error);
    if (fd < 0)
        return false;
    stream = vrt_server_stream_new(call, fd, VRT_STREAM_SOURCE);
    ret->mime = g_new0(char *, 1);
    *ret->mime = g_steal_pointer(&mime);
    return true;
}

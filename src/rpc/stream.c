/*
 * Server-side streams bound to a file descriptor: the state machine of
 * libvirt's stream messages (data, hole, finish, abort, error) and its flow
 * control against the client's memory accounting. See stream.h for the
 * protocol; server.c routes the client's stream messages here and tells a
 * stream when its client has room again or went away.
 *
 * Every field after `lock` is guarded by it; the fd is read and written
 * only under it (never blocking: it is non-blocking), so an abort from
 * another thread never races the I/O thread's read or write.
 */
#include "rpc/stream.h"
#include "rpc/message.h"
#include "util/error.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read from the fd per message: libvirt's clients send and take
 * chunks of up to 256 KiB; 64 KiB keeps one client's queue fair. */
#define STREAM_CHUNK 65536

typedef enum {
    STATE_NEW, /* bound during its call, not started */
    STATE_OPEN,
    STATE_CLOSED,
} StreamState;

/* Data of the client waiting for the fd: a received frame and where its
 * payload starts, or a hole (frame NULL). */
typedef struct {
    guint8 *frame;
    gsize off, len;
    gint64 hole;
    gsize cost;
} InItem;

struct _VrtServerStream {
    gint ref;
    VrtServerClient *client;
    vrt_net_header hdr; /* the opening call's prog, vers, proc, serial */
    VrtStreamDirection dir;
    GMainContext *ctx;
    VrtStreamEndFunc end_func;
    gpointer end_data;
    GDestroyNotify end_destroy;

    GMutex lock;
    StreamState state;
    int fd;
    bool registered;
    bool started; /* the call's reply is queued: messages may follow it */
    GError *pending_err; /* the owner's abort before that, sent by start */
    int pending_origin;
    bool eof_sent; /* the source ended and the client was told */
    bool finishing; /* the client finished: answer once inq is written */
    bool waiting_room; /* the fd is not read until the client has room */
    GSource *read_src;
    GSource *write_src;
    GQueue inq; /* InItem* */
    /* A file's stream (storage volumes): at most `left` more bytes each way
     * when `limited`; a sparse source sends its holes as holes. */
    bool limited;
    guint64 left;
    bool sparse;
    gint64 data_end; /* a sparse source: where the data it reads ends */
};

static gboolean on_readable(int fd, GIOCondition cond, gpointer data);
static gboolean on_writable(int fd, GIOCondition cond, gpointer data);

VrtServerStream *
vrt_server_stream_new(VrtCall *call, int fd, VrtStreamDirection dir)
{
    VrtServerStream *st = g_new0(VrtServerStream, 1);

    st->ref = 1;
    st->client = vrt_server_client_ref(vrt_call_get_client(call));
    st->hdr = *vrt_call_get_header(call);
    st->dir = dir;
    st->ctx = g_main_context_ref(vrt_server_client_get_context(st->client));
    st->fd = fd;
    g_mutex_init(&st->lock);
    g_queue_init(&st->inq);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    vrt_call_set_stream(call, st);
    return st;
}

VrtServerStream *
vrt_server_stream_ref(VrtServerStream *st)
{
    g_atomic_int_inc(&st->ref);
    return st;
}

void
vrt_server_stream_unref(VrtServerStream *st)
{
    if (!st || !g_atomic_int_dec_and_test(&st->ref))
        return;
    /* Sources and the client's list hold references: an unstarted or ended
     * stream has neither, so only its fd may be left. */
    if (st->fd >= 0)
        close(st->fd);
    if (st->end_destroy)
        st->end_destroy(st->end_data);
    g_clear_error(&st->pending_err);
    vrt_server_client_unref(st->client);
    g_main_context_unref(st->ctx);
    g_mutex_clear(&st->lock);
    g_free(st);
}

void
vrt_server_stream_set_end_func(VrtServerStream *st, VrtStreamEndFunc func, gpointer data, GDestroyNotify destroy)
{
    st->end_func = func;
    st->end_data = data;
    st->end_destroy = destroy;
}

void
vrt_server_stream_set_file(VrtServerStream *st, guint64 length, bool sparse)
{
    st->limited = length > 0;
    st->left = length;
    st->sparse = sparse;
    st->data_end = -1;
}

bool
vrt_server_stream_is_closed(VrtServerStream *st)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

    return st->state == STATE_CLOSED;
}

bool
vrt_server_stream_source_ended(VrtServerStream *st)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

    return st->state == STATE_CLOSED || st->eof_sent;
}

bool
vrt_server_stream_matches(VrtServerStream *st, const vrt_net_header *hdr)
{
    return hdr->prog == st->hdr.prog && hdr->vers == st->hdr.vers && hdr->proc == st->hdr.proc &&
           hdr->serial == st->hdr.serial;
}

/* ---- sending ---- */

static vrt_net_header
stream_header(VrtServerStream *st, vrt_net_message_status status)
{
    vrt_net_header hdr = st->hdr;

    hdr.type = VRT_NET_STREAM;
    hdr.status = status;
    return hdr;
}

static void
send_data(VrtServerStream *st, vrt_net_message_status status, const void *data, gsize len)
{
    vrt_net_header hdr = stream_header(st, status);
    GBytes *frame = vrt_message_encode_raw(&hdr, data, len, NULL);

    if (frame)
        vrt_server_client_queue_stream_message(st->client, frame);
}

static void
send_error(VrtServerStream *st, const GError *err, int origin)
{
    vrt_server_client_queue_stream_message(st->client,
                                           vrt_message_encode_error_typed(&st->hdr, VRT_NET_STREAM, err, origin));
}

/* ---- ending ---- */

static void
drop_source(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_clear_pointer(src, g_source_unref);
    }
}

/* Drops the client's data not yet written; returns its cost. Under lock. */
static gsize
drop_input_locked(VrtServerStream *st)
{
    gsize cost = 0;
    InItem *item;

    while ((item = g_queue_pop_head(&st->inq))) {
        cost += item->cost;
        g_free(item->frame);
        g_free(item);
    }
    return cost;
}

/* Ends the stream: no more I/O, fd closed. Returns whether it was not
 * ended before (the caller then runs the end callback after the lock, and
 * takes over the client list's reference when *unregister). Under lock. */
static bool
close_locked(VrtServerStream *st, gsize *dropped, bool *unregister)
{
    *dropped = 0;
    *unregister = false;
    if (st->state == STATE_CLOSED)
        return false;
    st->state = STATE_CLOSED;
    drop_source(&st->read_src);
    drop_source(&st->write_src);
    *dropped = drop_input_locked(st);
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    *unregister = st->registered;
    st->registered = false;
    return true;
}

/* After close_locked, outside the lock. */
static void
ended(VrtServerStream *st, bool was_open, gsize dropped, bool unregister, VrtStreamEnd how)
{
    if (dropped)
        vrt_server_client_charge_input(st->client, -(gssize)dropped);
    if (unregister) {
        vrt_server_client_remove_stream(st->client, st);
        vrt_server_stream_unref(st);
    }
    if (was_open && st->end_func)
        st->end_func(st, how, st->end_data);
}

/* Ends the stream with what the closing side says. */
typedef enum {
    SAY_NOTHING,
    SAY_OK, /* empty STREAM OK: the answer to finish and abort */
    SAY_ERROR, /* STREAM ERROR with err */
} Say;

/* Ends the stream saying say. What the client asked (finish, abort) or
 * sent is answered at once: it has the call's reply. The owner's abort
 * (owner) before the reply is queued is said by vrt_server_stream_start. */
static void
end_stream_full(VrtServerStream *st, Say say, const GError *err, int origin, VrtStreamEnd how, bool owner)
{
    gsize dropped;
    bool unregister, was_open;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        was_open = close_locked(st, &dropped, &unregister);
        /* Said under the lock: nothing of the stream's can follow it. */
        if (was_open && say == SAY_OK) {
            send_data(st, VRT_NET_OK, NULL, 0);
        } else if (was_open && say == SAY_ERROR && owner && !st->started) {
            st->pending_err = err ? g_error_copy(err) : NULL;
            st->pending_origin = origin;
        } else if (was_open && say == SAY_ERROR) {
            send_error(st, err, origin);
        }
    }
    ended(st, was_open, dropped, unregister, how);
}

static void
end_stream(VrtServerStream *st, Say say, const GError *err, int origin, VrtStreamEnd how)
{
    end_stream_full(st, say, err, origin, how, false);
}

void
vrt_server_stream_abort(VrtServerStream *st, const GError *err, int origin)
{
    end_stream_full(st, SAY_ERROR, err, origin, VRT_STREAM_END_ERROR, true);
}

void
vrt_server_stream_client_closed(VrtServerStream *st)
{
    end_stream(st, SAY_NOTHING, NULL, 0, VRT_STREAM_END_CLOSED);
}

void
vrt_server_stream_discard(VrtServerStream *st)
{
    end_stream(st, SAY_NOTHING, NULL, 0, VRT_STREAM_END_CLOSED);
}

static void
io_error(VrtServerStream *st, int errsv, const char *what)
{
    g_autoptr(GError) err = NULL;

    vrt_error_set_errno(&err, VIR_ERR_RPC, errsv, "stream had I/O failure: cannot %s", what);
    end_stream(st, SAY_ERROR, err, VIR_FROM_STREAMS, VRT_STREAM_END_ERROR);
}

/* ---- start ---- */

bool
vrt_server_stream_register(VrtServerStream *st)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        /* Ended before its reply (its owner aborted it): start says why. */
        if (st->state == STATE_CLOSED)
            return true;
        /* The client's list holds a reference until the stream ends. */
        if (vrt_server_client_add_stream(st->client, st)) {
            vrt_server_stream_ref(st);
            st->registered = true;
            return true;
        }
    }
    vrt_server_stream_discard(st);
    return false;
}

static GSource *
attach(VrtServerStream *st, GIOCondition cond, gpointer func)
{
    GSource *src = g_unix_fd_source_new(st->fd, cond);

    g_source_set_callback(src, (GSourceFunc)func, vrt_server_stream_ref(st), (GDestroyNotify)vrt_server_stream_unref);
    g_source_attach(src, st->ctx);
    return src;
}

static void flush_sink(VrtServerStream *st);

void
vrt_server_stream_start(VrtServerStream *st)
{
    bool flush;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        if (st->started)
            return;
        st->started = true;
        if (st->state == STATE_CLOSED) {
            if (st->pending_err)
                send_error(st, st->pending_err, st->pending_origin);
            g_clear_error(&st->pending_err);
            return;
        }
        st->state = STATE_OPEN;
        if (st->dir & VRT_STREAM_SOURCE)
            st->read_src = attach(st, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable);
        /* The client may have sent data, or finished, as soon as it read the
         * reply, before this ran. */
        flush = !g_queue_is_empty(&st->inq) || st->finishing;
    }
    if (flush)
        flush_sink(st);
}

/* ---- source: fd -> client ---- */

void
vrt_server_stream_resume(VrtServerStream *st)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

    if (st->state != STATE_OPEN || !st->waiting_room || st->eof_sent || st->read_src)
        return;
    st->waiting_room = false;
    st->read_src = attach(st, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable);
}

/* What one readiness of the fd gives. */
typedef enum {
    READ_MORE,
    READ_WAIT,
    READ_EOF,
    READ_FAILED
} ReadResult;

/* A sparse source where its offset is in a hole: sends the hole (up to
 * where data starts again, or the end of the file) and seeks past it.
 * Otherwise *want is cut to where the data runs out. Returns false with
 * errno set; *sent tells whether a hole went. Under lock. */
static bool
sparse_step_locked(VrtServerStream *st, gsize *want, bool *sent)
{
    off_t cur = lseek(st->fd, 0, SEEK_CUR);
    struct stat sb;

    *sent = false;
    if (cur < 0 || fstat(st->fd, &sb) < 0)
        return false;
    if (cur >= sb.st_size)
        return true; /* read says the end */
    if (cur >= st->data_end) {
        off_t data = lseek(st->fd, cur, SEEK_DATA);

        if (data < 0 && errno != ENXIO)
            return false;
        if (data < 0)
            data = sb.st_size; /* a hole to the end of the file */
        if (data > cur) {
            guint64 len = (guint64)(data - cur);
            vrt_net_stream_hole hole = { 0 };
            vrt_net_header hdr = stream_header(st, VRT_NET_CONTINUE);

            if (st->limited)
                len = MIN(len, st->left);
            hole.length = (gint64)len;
            hdr.type = VRT_NET_STREAM_HOLE;
            GBytes *frame = vrt_message_encode(&hdr, (xdrproc_t)xdr_vrt_net_stream_hole, &hole, NULL);
            if (frame)
                vrt_server_client_queue_stream_message(st->client, frame);
            if (st->limited)
                st->left -= len;
            *sent = true;
            return lseek(st->fd, cur + (off_t)len, SEEK_SET) >= 0;
        }
        off_t end = lseek(st->fd, cur, SEEK_HOLE);

        if (end < 0 || lseek(st->fd, cur, SEEK_SET) < 0)
            return false;
        st->data_end = end;
    }
    *want = MIN(*want, (gsize)(st->data_end - cur));
    return true;
}

static ReadResult
read_locked(VrtServerStream *st, int *errsv)
{
    guint8 buf[STREAM_CHUNK];

    if (!vrt_server_client_stream_room(st->client)) {
        st->waiting_room = true;
        return READ_WAIT;
    }
    for (;;) {
        gsize want = sizeof(buf);
        bool hole = false;

        if (st->limited && st->left == 0)
            return READ_EOF;
        if (st->limited)
            want = MIN(want, st->left);
        if (st->sparse && !sparse_step_locked(st, &want, &hole)) {
            *errsv = errno;
            return READ_FAILED;
        }
        if (hole)
            return READ_MORE;

        ssize_t n = read(st->fd, buf, want);

        if (n > 0) {
            if (st->limited)
                st->left -= (guint64)n;
            send_data(st, VRT_NET_CONTINUE, buf, (gsize)n);
            return READ_MORE;
        }
        if (n == 0)
            return READ_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return READ_MORE;
        /* A pty whose other end is gone (the domain stopped) says EIO. */
        if (errno == EIO)
            return READ_EOF;
        *errsv = errno;
        return READ_FAILED;
    }
}

static gboolean
on_readable(int fd G_GNUC_UNUSED, GIOCondition cond G_GNUC_UNUSED, gpointer data)
{
    VrtServerStream *st = data;
    int errsv = 0;
    ReadResult r;
    gsize dropped = 0;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        if (st->state != STATE_OPEN || !st->read_src)
            return G_SOURCE_REMOVE;
        r = read_locked(st, &errsv);
        if (r == READ_MORE)
            return G_SOURCE_CONTINUE;
        g_clear_pointer(&st->read_src, g_source_unref);
        if (r == READ_EOF) {
            /* The end of the source is an empty data message; the client
             * answers it with finish (or abort). A sink sharing the fd
             * (a console) has nothing to write to any more. */
            st->eof_sent = true;
            send_data(st, VRT_NET_CONTINUE, NULL, 0);
            drop_source(&st->write_src);
            dropped = drop_input_locked(st);
        }
    }
    if (dropped)
        vrt_server_client_charge_input(st->client, -(gssize)dropped);
    if (r == READ_FAILED)
        io_error(st, errsv, "read from the stream's source");
    return G_SOURCE_REMOVE;
}

/* ---- sink: client -> fd ---- */

/* A hole of the client in the sink: a seek forward. A regular file that
 * ends before it is extended to it (libvirt's ftruncate), so an upload
 * that ends in a hole gives a file of the full size; one that is longer
 * already keeps what lies beyond. False with *errsv: a sink that cannot
 * seek (a socket, a pipe). */
static bool
skip_hole(int fd, gint64 len, int *errsv)
{
    off_t off = lseek(fd, len, SEEK_CUR);
    struct stat sb;

    if (off < 0 || fstat(fd, &sb) < 0) {
        *errsv = errno;
        return false;
    }
    if (S_ISREG(sb.st_mode) && sb.st_size < off && ftruncate(fd, off) < 0) {
        *errsv = errno;
        return false;
    }
    return true;
}

/* Writes what the fd takes now. Returns false with *errsv on a failure;
 * *written: the cost of what was written. Under lock. */
static bool
write_locked(VrtServerStream *st, gsize *written, int *errsv)
{
    InItem *item;

    *written = 0;
    while ((item = g_queue_peek_head(&st->inq))) {
        if (item->frame) {
            ssize_t n = write(st->fd, item->frame + item->off, item->len);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return true;
            if (n < 0) {
                *errsv = errno;
                return false;
            }
            item->off += (gsize)n;
            item->len -= (gsize)n;
            if (item->len)
                continue;
        } else if (!skip_hole(st->fd, item->hole, errsv)) {
            return false;
        }
        g_queue_pop_head(&st->inq);
        *written += item->cost;
        g_free(item->frame);
        g_free(item);
    }
    return true;
}

/* Writes, then arms or drops the write watch; finishes when the client
 * finished and everything is written. */
static void
flush_sink(VrtServerStream *st)
{
    gsize written = 0;
    int errsv = 0;
    bool ok, finish = false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        if (st->state != STATE_OPEN)
            return;
        ok = write_locked(st, &written, &errsv);
        if (ok && g_queue_is_empty(&st->inq)) {
            drop_source(&st->write_src);
            finish = st->finishing;
        } else if (ok && !st->write_src) {
            st->write_src = attach(st, G_IO_OUT | G_IO_ERR | G_IO_HUP, on_writable);
        }
    }
    if (written)
        vrt_server_client_charge_input(st->client, -(gssize)written);
    if (!ok)
        io_error(st, errsv, "write to the stream's sink");
    else if (finish)
        end_stream(st, SAY_OK, NULL, 0, VRT_STREAM_END_FINISHED);
}

static gboolean
on_writable(int fd G_GNUC_UNUSED, GIOCondition cond G_GNUC_UNUSED, gpointer data)
{
    VrtServerStream *st = data;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        if (st->state != STATE_OPEN || !st->write_src)
            return G_SOURCE_REMOVE;
        /* flush_sink arms a new watch when it must wait again. */
        g_clear_pointer(&st->write_src, g_source_unref);
    }
    flush_sink(st);
    return G_SOURCE_REMOVE;
}

/* Queues the client's data or hole (item, its cost charged). */
static void
queue_input(VrtServerStream *st, InItem *item)
{
    vrt_server_client_charge_input(st->client, (gssize)item->cost);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

        /* Before the start too: the client sends once it has the reply. */
        if (st->state != STATE_CLOSED && !st->eof_sent && !st->finishing) {
            g_queue_push_tail(&st->inq, item);
            item = NULL;
        }
    }
    if (item) {
        vrt_server_client_charge_input(st->client, -(gssize)item->cost);
        g_free(item->frame);
        g_free(item);
        return;
    }
    flush_sink(st);
}

/* Whether len more bytes fit in a sink of limited length (counted). */
static bool
take_room(VrtServerStream *st, guint64 len)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

    if (!st->limited)
        return true;
    if (len > st->left)
        return false;
    st->left -= len;
    return true;
}

/* The client sent past the length its call gave: libvirt's fdstream
 * error. */
static void
sink_full(VrtServerStream *st)
{
    g_autoptr(GError) err = NULL;

    vrt_error_set_errno(&err, VIR_ERR_SYSTEM_ERROR, ENOSPC, "%s", "cannot write to stream");
    end_stream(st, SAY_ERROR, err, VIR_FROM_STREAMS, VRT_STREAM_END_ERROR);
}

void
vrt_server_stream_incoming(VrtServerStream *st, const vrt_net_header *hdr, guint8 *frame, gsize len)
{
    g_autofree guint8 *owned = frame;
    g_autoptr(GError) err = NULL;
    gsize off = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;

    if (hdr->status == VRT_NET_ERROR) {
        /* Abort: confirmed with an empty OK, unwritten data dropped. */
        g_debug("stream of proc %d serial %u aborted by the client", st->hdr.proc, st->hdr.serial);
        end_stream(st, SAY_OK, NULL, 0, VRT_STREAM_END_ABORTED);
        return;
    }
    if (hdr->status == VRT_NET_OK) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->lock);

            st->finishing = true;
        }
        flush_sink(st);
        return;
    }
    if (hdr->status != VRT_NET_CONTINUE) {
        vrt_error_set(&err, VIR_ERR_RPC, "stream aborted with unexpected status %d", hdr->status);
        end_stream(st, SAY_ERROR, err, VIR_FROM_STREAMS, VRT_STREAM_END_ERROR);
        return;
    }
    if (!(st->dir & VRT_STREAM_SINK)) {
        vrt_error_set(&err, VIR_ERR_RPC, "%s", "stream does not accept data");
        end_stream(st, SAY_ERROR, err, VIR_FROM_STREAMS, VRT_STREAM_END_ERROR);
        return;
    }
    InItem *item = g_new0(InItem, 1);
    if (hdr->type == VRT_NET_STREAM_HOLE) {
        vrt_net_stream_hole hole = { 0 };

        if (!vrt_message_decode_payload(frame, len, (xdrproc_t)xdr_vrt_net_stream_hole, &hole, &err) ||
            hole.length < 0) {
            g_free(item);
            if (!err)
                vrt_error_set(&err, VIR_ERR_RPC, "%s", "stream hole of negative length");
            end_stream(st, SAY_ERROR, err, VIR_FROM_STREAMS, VRT_STREAM_END_ERROR);
            return;
        }
        item->hole = hole.length;
        item->cost = vrt_server_frame_heap_cost(item);
        if (!take_room(st, (guint64)hole.length)) {
            g_free(item);
            sink_full(st);
            return;
        }
    } else {
        if (len == off) {
            g_free(item); /* an empty data message carries nothing */
            return;
        }
        if (!take_room(st, len - off)) {
            g_free(item);
            sink_full(st);
            return;
        }
        item->frame = g_steal_pointer(&owned);
        item->off = off;
        item->len = len - off;
        item->cost = vrt_server_frame_heap_cost(item->frame) + vrt_server_frame_heap_cost(item);
    }
    queue_input(st, item);
}

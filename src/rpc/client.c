/*
 * Client connection: a reader thread owns the socket's read side; callers
 * write their frame under a write lock and wait on their own condition for
 * the reply with their serial. A stream's messages go to its queue, which
 * its user takes them from; a full queue holds the reader (flow control).
 */
#include "rpc/client.h"
#include "rpc/message.h"
#include "rpc/tls.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
    guint8 *frame;
    gsize len;
    bool done;
} VrtPendingCall;

struct _VrtRpcClient {
    int fd;
    /* TLS (the socket is then non-blocking): recv by the reader, send
     * under the write lock; NULL for a plain socket. */
    VrtTransport *transport;
    VrtTlsContext *tls;
    int wake[2]; /* pipe to stop the reader */
    GThread *reader;
    GMutex lock;
    GCond cond;
    GMutex write_lock;
    guint32 serial;
    GHashTable *pending; /* serial -> VrtPendingCall* (owned by the caller) */
    bool closed;
    char *close_reason;
    VrtRpcEventFunc event_func;
    gpointer event_data;
    int ka_interval;
    guint ka_count;
    GHashTable *streams; /* serial -> VrtRpcStream* (owned by its user) */
};

/* Largest data message sent: libvirt's clients send 256 KiB at most. */
#define STREAM_SEND_CHUNK (256u * 1024u)

/* Guarded by the client's lock. */
struct _VrtRpcStream {
    VrtRpcClient *client;
    int proc;
    guint32 serial;
    GQueue data; /* StreamItem*: received data and holes */
    gsize head_off; /* taken from the head */
    gsize queued; /* bytes in data */
    bool eof; /* the server's end of data (an empty CONTINUE) */
    bool done; /* the server's last word: OK or an error */
    GError *err; /* the server's error */
};

/* Received data (bytes), or a hole of the server (bytes NULL). */
typedef struct {
    GBytes *bytes;
    gint64 hole;
} StreamItem;

/* What a queued hole counts for in a stream's queue: holes are not free
 * to hold either. */
#define STREAM_HOLE_COST 64u

static void
stream_item_free(gpointer p)
{
    StreamItem *item = p;

    if (item->bytes)
        g_bytes_unref(item->bytes);
    g_free(item);
}

static bool
write_frame(VrtRpcClient *client, GBytes *frame, GError **error)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    /* Held across send: it keeps each frame whole on the socket. */
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->write_lock);

    while (len > 0) {
        ssize_t n = client->transport ? vrt_transport_send(client->transport, data, len)
                                      : send(client->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { client->fd, POLLOUT, 0 };
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0) {
            vrt_error_set_errno(error, VIR_ERR_RPC, errno, "%s", "cannot send data");
            return false;
        }
        data += n;
        len -= (gsize)n;
    }
    return true;
}

static void
send_keepalive(VrtRpcClient *client, int proc)
{
    vrt_net_header hdr = { VRT_KEEPALIVE_PROGRAM, VRT_KEEPALIVE_VERSION, proc, VRT_NET_MESSAGE, 0, VRT_NET_OK };
    g_autoptr(GBytes) frame = vrt_message_encode(&hdr, NULL, NULL, NULL);
    if (frame)
        write_frame(client, frame, NULL);
}

static bool
read_full(VrtRpcClient *client, guint8 *buf, gsize len, int timeout_ms, bool *timed_out)
{
    gsize have = 0;
    *timed_out = false;
    while (have < len) {
        struct pollfd fds[2] = { { client->fd, POLLIN, 0 }, { client->wake[0], POLLIN, 0 } };
        /* TLS may hold decrypted bytes that poll does not see. */
        int rc = vrt_transport_pending(client->transport) ? 1 : poll(fds, 2, have == 0 ? timeout_ms : -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || fds[1].revents)
            return false;
        if (rc == 0) {
            *timed_out = true;
            return false;
        }
        ssize_t n = client->transport ? vrt_transport_recv(client->transport, buf + have, len - have)
                                      : recv(client->fd, buf + have, len - have, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return false;
        have += (gsize)n;
    }
    return true;
}

static void
mark_closed(VrtRpcClient *client, const char *reason)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        if (!client->closed) {
            client->closed = true;
            client->close_reason = g_strdup(reason);
        }
        g_cond_broadcast(&client->cond);
    }
}

/* Reader thread: a message of a stream. Data waits in the stream's queue;
 * while that is full the reader waits (and reads nothing else). */
static void
stream_incoming(VrtRpcClient *client, const vrt_net_header *hdr, const guint8 *frame, gsize len)
{
    gsize off = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
    VrtRpcStream *st;

    for (;;) {
        st = g_hash_table_lookup(client->streams, GUINT_TO_POINTER(hdr->serial));
        if (!st || st->proc != hdr->proc || st->done || client->closed)
            return; /* a stream no longer used, or the end: dropped */
        if (hdr->status != VRT_NET_CONTINUE || st->queued < VRT_RPC_STREAM_QUEUE)
            break;
        g_cond_wait(&client->cond, &client->lock);
    }
    if (hdr->status == VRT_NET_CONTINUE && hdr->type == VRT_NET_STREAM_HOLE) {
        vrt_net_stream_hole hole = { 0 };
        g_autoptr(GError) err = NULL;

        if (!vrt_message_decode_payload(frame, len, (xdrproc_t)xdr_vrt_net_stream_hole, &hole, &err) ||
            hole.length < 0) {
            st->done = true;
            vrt_error_set(&st->err, VIR_ERR_RPC, "%s", "malformed stream hole");
        } else {
            StreamItem *item = g_new0(StreamItem, 1);

            item->hole = hole.length;
            g_queue_push_tail(&st->data, item);
            st->queued += STREAM_HOLE_COST;
        }
    } else if (hdr->status == VRT_NET_CONTINUE && len > off) {
        StreamItem *item = g_new0(StreamItem, 1);

        item->bytes = g_bytes_new(frame + off, len - off);
        g_queue_push_tail(&st->data, item);
        st->queued += len - off;
    } else if (hdr->status == VRT_NET_CONTINUE) {
        st->eof = true;
    } else {
        st->done = true;
        if (hdr->status == VRT_NET_ERROR && !vrt_message_decode_error(frame, len, &st->err))
            vrt_error_set(&st->err, VIR_ERR_RPC, "%s", "malformed stream error");
    }
    g_cond_broadcast(&client->cond);
}

static gpointer
reader_main(gpointer opaque)
{
    VrtRpcClient *client = opaque;
    guint unanswered = 0;
    for (;;) {
        guint8 lenbuf[4];
        bool timed_out;
        int timeout = client->ka_interval > 0 ? client->ka_interval * 1000 : -1;
        if (!read_full(client, lenbuf, 4, timeout, &timed_out)) {
            if (timed_out) {
                if (++unanswered > client->ka_count) {
                    mark_closed(client, "connection closed due to keepalive timeout");
                    break;
                }
                send_keepalive(client, VRT_KEEPALIVE_PROC_PING);
                continue;
            }
            mark_closed(client, "End of file while reading data: Input/output error");
            break;
        }
        unanswered = 0;
        guint32 total;
        g_autoptr(GError) err = NULL;
        if (!vrt_message_decode_length(lenbuf, &total, &err)) {
            mark_closed(client, err->message);
            break;
        }
        guint8 *frame = g_malloc(total);
        memcpy(frame, lenbuf, 4);
        if (!read_full(client, frame + 4, total - 4, -1, &timed_out)) {
            g_free(frame);
            mark_closed(client, "End of file while reading data: Input/output error");
            break;
        }
        vrt_net_header hdr;
        if (!vrt_message_decode_header(frame, total, &hdr, &err)) {
            g_free(frame);
            mark_closed(client, err->message);
            break;
        }
        if (hdr.prog == VRT_KEEPALIVE_PROGRAM) {
            if (hdr.proc == VRT_KEEPALIVE_PROC_PING)
                send_keepalive(client, VRT_KEEPALIVE_PROC_PONG);
            g_free(frame);
            continue;
        }
        if (hdr.type == VRT_NET_MESSAGE) {
            if (client->event_func)
                client->event_func(hdr.proc, frame, total, client->event_data);
            g_free(frame);
            continue;
        }
        if (hdr.type == VRT_NET_STREAM || hdr.type == VRT_NET_STREAM_HOLE) {
            stream_incoming(client, &hdr, frame, total);
            g_free(frame);
            continue;
        }
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

            VrtPendingCall *pc = g_hash_table_lookup(client->pending, GUINT_TO_POINTER(hdr.serial));
            if (pc && hdr.type == VRT_NET_REPLY) {
                pc->frame = frame;
                pc->len = total;
                pc->done = true;
                g_cond_broadcast(&client->cond);
                frame = NULL;
            }
        }
        g_free(frame);
    }
    return NULL;
}

/* A client on fd over transport t (NULL: plain) with its TLS context; takes
 * all three, also on failure. */
static VrtRpcClient *
client_start(int fd, VrtTransport *t, VrtTlsContext *tls, GError **error)
{
    VrtRpcClient *client = g_new0(VrtRpcClient, 1);
    client->fd = fd;
    client->transport = t;
    client->tls = tls;
    if (pipe2(client->wake, O_CLOEXEC) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot create pipe");
        vrt_transport_free(t);
        vrt_tls_context_free(tls);
        close(fd);
        g_free(client);
        return NULL;
    }
    g_mutex_init(&client->lock);
    g_cond_init(&client->cond);
    g_mutex_init(&client->write_lock);
    client->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
    client->streams = g_hash_table_new(g_direct_hash, g_direct_equal);
    client->ka_count = 5;
    client->reader = g_thread_new("vrt-rpc-reader", reader_main, client);
    return client;
}

VrtRpcClient *
vrt_rpc_client_new_fd(int fd, GError **error)
{
    return client_start(fd, NULL, NULL, error);
}

VrtRpcClient *
vrt_rpc_client_new_unix(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        vrt_error_set(error, VIR_ERR_NO_CONNECT, "socket path '%s' is too long", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot create socket");
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        close(fd);
        g_set_error(error, VRT_ERROR, VIR_ERR_SYSTEM_ERROR, "Failed to connect socket to '%s': %s", path,
                    g_strerror(saved));
        return NULL;
    }
    return vrt_rpc_client_new_fd(fd, error);
}

/* A TCP connection to host's port (TCP_NODELAY), or -1 with *error. */
static int
tcp_connect(const char *host, guint port, GError **error)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *ai = NULL;
    g_autofree char *service = g_strdup_printf("%u", port);
    int fd = -1, saved = 0;

    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to resolve address '%s' service '%s': %s", host, service,
                      gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, saved, "unable to connect to server at '%s:%s'", host,
                            service);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

VrtRpcClient *
vrt_rpc_client_new_tcp(const char *host, guint port, GError **error)
{
    int fd = tcp_connect(host, port, error);

    return fd < 0 ? NULL : vrt_rpc_client_new_fd(fd, error);
}

VrtRpcClient *
vrt_rpc_client_new_tls(const char *host, guint port, const VrtTlsConfig *cfg, GError **error)
{
    g_autoptr(VrtTlsContext) tls = vrt_tls_context_new(cfg, false, error);

    if (!tls)
        return NULL;
    int fd = tcp_connect(host, port, error);
    if (fd < 0)
        return NULL;
    VrtTransport *t = vrt_tls_connect(tls, fd, host, error);
    if (!t) {
        close(fd);
        return NULL;
    }
    return client_start(fd, t, g_steal_pointer(&tls), error);
}

void
vrt_rpc_client_free(VrtRpcClient *client)
{
    if (!client)
        return;
    ssize_t ignored = write(client->wake[1], "x", 1);
    (void)ignored;
    /* A reader waiting for room in a stream's queue stops waiting too. */
    mark_closed(client, "client socket is closed");
    shutdown(client->fd, SHUT_RDWR);
    g_thread_join(client->reader);
    vrt_transport_free(client->transport);
    vrt_tls_context_free(client->tls);
    close(client->fd);
    close(client->wake[0]);
    close(client->wake[1]);
    g_hash_table_destroy(client->pending);
    g_hash_table_destroy(client->streams);
    g_mutex_clear(&client->lock);
    g_cond_clear(&client->cond);
    g_mutex_clear(&client->write_lock);
    g_free(client->close_reason);
    g_free(client);
}

void
vrt_rpc_client_set_event_func(VrtRpcClient *client, VrtRpcEventFunc func, gpointer data)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        client->event_func = func;
        client->event_data = data;
    }
}

void
vrt_rpc_client_set_keepalive(VrtRpcClient *client, int interval, guint count)
{
    client->ka_interval = interval;
    client->ka_count = count;
}

bool
vrt_rpc_client_is_open(VrtRpcClient *client)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    return !client->closed;
}

/* Sends the call of serial (registered in pending as pc) and waits for its reply. */
static bool
call_wait(VrtRpcClient *client, unsigned int prog, unsigned int vers, int proc, guint32 serial, VrtPendingCall *pc,
          xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret, GError **error)
{
    vrt_net_header hdr = { prog, vers, proc, VRT_NET_CALL, serial, VRT_NET_OK };
    g_autoptr(GBytes) frame = vrt_message_encode(&hdr, args ? args_filter : NULL, args, error);
    bool ok = frame && write_frame(client, frame, error);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        while (ok && !pc->done && !client->closed)
            g_cond_wait(&client->cond, &client->lock);
        g_hash_table_remove(client->pending, GUINT_TO_POINTER(serial));
        if (ok && !pc->done) {
            vrt_error_set(error, VIR_ERR_RPC, "%s", client->close_reason ? client->close_reason : "connection closed");
            ok = false;
        }
    }
    if (!ok) {
        g_free(pc->frame);
        return false;
    }

    g_autofree guint8 *reply = pc->frame;
    vrt_net_header rh;
    if (!vrt_message_decode_header(reply, pc->len, &rh, error))
        return false;
    if (rh.status == VRT_NET_ERROR) {
        if (!vrt_message_decode_error(reply, pc->len, error))
            vrt_error_set(error, VIR_ERR_RPC, "%s", "malformed error reply");
        return false;
    }
    if (ret && ret_filter) {
        return vrt_message_decode_payload(reply, pc->len, ret_filter, ret, error);
    }
    return true;
}

static void
stream_unregister(VrtRpcStream *st)
{
    VrtRpcClient *client = st->client;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    g_hash_table_remove(client->streams, GUINT_TO_POINTER(st->serial));
    /* The reader may wait for room in this stream's queue. */
    g_cond_broadcast(&client->cond);
}

/* A call; with stream, a stream of its serial is registered before it goes
 * and kept when it succeeds. */
static bool
call_full(VrtRpcClient *client, unsigned int prog, unsigned int vers, int proc, xdrproc_t args_filter, void *args,
          xdrproc_t ret_filter, void *ret, VrtRpcStream **stream, GError **error)
{
    VrtPendingCall pc = { 0 };
    guint32 serial;
    VrtRpcStream *st = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        if (client->closed) {
            vrt_error_set(error, VIR_ERR_RPC, "%s",
                          client->close_reason ? client->close_reason : "client socket is closed");
            return false;
        }
        serial = ++client->serial;
        g_hash_table_insert(client->pending, GUINT_TO_POINTER(serial), &pc);
        if (stream) {
            st = g_new0(VrtRpcStream, 1);
            st->client = client;
            st->proc = proc;
            st->serial = serial;
            g_queue_init(&st->data);
            g_hash_table_insert(client->streams, GUINT_TO_POINTER(serial), st);
        }
    }
    bool ok = call_wait(client, prog, vers, proc, serial, &pc, args_filter, args, ret_filter, ret, error);
    if (st && ok)
        *stream = st;
    else if (st)
        vrt_rpc_stream_free(st);
    return ok;
}

bool
vrt_rpc_client_call(VrtRpcClient *client, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret,
                    GError **error)
{
    return call_full(client, VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, proc, args_filter, args, ret_filter, ret, NULL,
                     error);
}

bool
vrt_rpc_client_call_program(VrtRpcClient *client, unsigned int prog, unsigned int vers, int proc, xdrproc_t args_filter,
                            void *args, xdrproc_t ret_filter, void *ret, GError **error)
{
    return call_full(client, prog, vers, proc, args_filter, args, ret_filter, ret, NULL, error);
}

bool
vrt_rpc_client_call_stream(VrtRpcClient *client, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter,
                           void *ret, VrtRpcStream **stream, GError **error)
{
    return call_full(client, VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, proc, args_filter, args, ret_filter, ret, stream,
                     error);
}

/* ---- streams ---- */

static bool
stream_send_frame(VrtRpcStream *st, int status, const void *data, gsize len, GError **error)
{
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, st->proc, VRT_NET_STREAM, st->serial, status };
    g_autoptr(GBytes) frame = vrt_message_encode_raw(&hdr, data, len, error);

    return frame && write_frame(st->client, frame, error);
}

/* Why a stream cannot go on: the server's error, or the connection's end.
 * Under the client lock. */
static bool
stream_failed_locked(VrtRpcStream *st, GError **error)
{
    VrtRpcClient *client = st->client;

    if (st->err) {
        g_propagate_error(error, g_error_copy(st->err));
        return true;
    }
    if (client->closed && !st->done) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", client->close_reason ? client->close_reason : "connection closed");
        return true;
    }
    return false;
}

gssize
vrt_rpc_stream_recv(VrtRpcStream *st, void *buf, gsize len, int timeout_ms, GError **error)
{
    return vrt_rpc_stream_recv_sparse(st, buf, len, timeout_ms, NULL, error);
}

gssize
vrt_rpc_stream_recv_sparse(VrtRpcStream *st, void *buf, gsize len, int timeout_ms, gint64 *hole, GError **error)
{
    VrtRpcClient *client = st->client;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gsize got = 0;

    while (g_queue_is_empty(&st->data) && !st->eof && !st->done && !client->closed) {
        if (deadline < 0)
            g_cond_wait(&client->cond, &client->lock);
        else if (!g_cond_wait_until(&client->cond, &client->lock, deadline) && g_queue_is_empty(&st->data) &&
                 !st->eof && !st->done && !client->closed)
            return -2;
    }
    if (hole)
        *hole = 0;
    StreamItem *first = g_queue_peek_head(&st->data);
    if (first && !first->bytes) {
        /* A hole is taken alone, by a caller that takes holes. */
        if (!hole) {
            vrt_error_set(error, VIR_ERR_RPC, "%s", "Unexpected stream hole");
            return -1;
        }
        *hole = first->hole;
        st->queued -= STREAM_HOLE_COST;
        stream_item_free(g_queue_pop_head(&st->data));
        g_cond_broadcast(&client->cond);
        return 0;
    }
    while (got < len && !g_queue_is_empty(&st->data)) {
        StreamItem *item = g_queue_peek_head(&st->data);
        if (!item->bytes)
            break; /* data stops at a hole */
        GBytes *head = item->bytes;
        gsize size;
        const guint8 *p = g_bytes_get_data(head, &size);
        gsize n = MIN(len - got, size - st->head_off);

        memcpy((guint8 *)buf + got, p + st->head_off, n);
        got += n;
        st->head_off += n;
        st->queued -= n;
        if (st->head_off == size) {
            stream_item_free(g_queue_pop_head(&st->data));
            st->head_off = 0;
        }
    }
    if (got) {
        /* The reader may wait for room. */
        g_cond_broadcast(&client->cond);
        return (gssize)got;
    }
    if (stream_failed_locked(st, error))
        return -1;
    return 0;
}

bool
vrt_rpc_stream_send(VrtRpcStream *st, const void *data, gsize len, GError **error)
{
    const guint8 *p = data;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->client->lock);

        if (stream_failed_locked(st, error))
            return false;
    }
    while (len) {
        gsize n = MIN(len, STREAM_SEND_CHUNK);

        if (!stream_send_frame(st, VRT_NET_CONTINUE, p, n, error))
            return false;
        p += n;
        len -= n;
    }
    return true;
}

bool
vrt_rpc_stream_send_hole(VrtRpcStream *st, gint64 length, GError **error)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st->client->lock);

        if (stream_failed_locked(st, error))
            return false;
    }
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM,  VRT_REMOTE_VERSION, st->proc,
                           VRT_NET_STREAM_HOLE, st->serial,         VRT_NET_CONTINUE };
    vrt_net_stream_hole hole = { .length = length, .flags = 0 };
    g_autoptr(GBytes) frame = vrt_message_encode(&hdr, (xdrproc_t)xdr_vrt_net_stream_hole, &hole, error);

    return frame && write_frame(st->client, frame, error);
}

/* Sends the stream's last word (finish: OK, abort: ERROR) and waits for the
 * server's, dropping data that still comes. */
static bool
stream_end(VrtRpcStream *st, int status, GError **error)
{
    VrtRpcClient *client = st->client;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        if (st->done || client->closed)
            return !stream_failed_locked(st, error);
    }
    if (!stream_send_frame(st, status, NULL, 0, error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    for (;;) {
        g_queue_clear_full(&st->data, stream_item_free);
        st->queued = 0;
        st->head_off = 0;
        g_cond_broadcast(&client->cond);
        if (st->done || client->closed)
            break;
        g_cond_wait(&client->cond, &client->lock);
    }
    return !stream_failed_locked(st, error);
}

bool
vrt_rpc_stream_finish(VrtRpcStream *st, GError **error)
{
    return stream_end(st, VRT_NET_OK, error);
}

bool
vrt_rpc_stream_abort(VrtRpcStream *st, GError **error)
{
    return stream_end(st, VRT_NET_ERROR, error);
}

void
vrt_rpc_stream_free(VrtRpcStream *st)
{
    if (!st)
        return;
    stream_unregister(st);
    g_queue_clear_full(&st->data, stream_item_free);
    g_clear_error(&st->err);
    g_free(st);
}

unsigned int
vrt_rpc_client_tls_ssf(VrtRpcClient *client)
{
    return client->transport && client->transport->is_tls ? client->transport->ssf : 0;
}

int
vrt_rpc_client_get_fd(VrtRpcClient *client)
{
    return client->fd;
}

void
vrt_rpc_client_push_layer(VrtRpcClient *client, VrtTransport *layer)
{
    /* Under the write lock: no frame is being sent. The server sends
     * nothing before our next call, so the reader's next recv is the
     * layer's. */
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->write_lock);

    __atomic_store_n(&client->transport, layer, __ATOMIC_SEQ_CST);
}

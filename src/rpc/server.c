/*
 * RPC server: sockets, framing, calls checked against the procedure table and
 * handed to the owner's VrtDispatch, worker pool, replies and keepalive. See
 * server.h for the threading rules.
 *
 * Memory is bounded by backpressure: every queued reply and every call held
 * for a worker is charged at what it costs on the heap, to its client and to
 * the server; a client whose charge reaches max_client_queued (or, past the
 * daemon-wide max_queued, any client with a charge) is no longer read until
 * its charge goes down, so its further calls stay in the kernel's socket
 * buffers and it blocks, as with libvirtd. Likewise at max_clients the
 * listeners are not watched and new clients wait in the listen backlog.
 */
#include "rpc/server.h"
#include "rpc/message.h"
#include "rpc/tls.h"
#include "rpc/stream.h"
#include "rpc/workers.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_MAX_CLIENTS 5000
#define DEFAULT_MAX_UNAUTH_CLIENTS 20 /* libvirtd's max_anonymous_clients */
#define DEFAULT_MAX_WORKERS 20
#define DEFAULT_MAX_CLIENT_REQUESTS 5
#define DEFAULT_MAX_QUEUED_REQUESTS 1000
#define DEFAULT_KEEPALIVE_INTERVAL 5
#define DEFAULT_KEEPALIVE_COUNT 5
/* Heap cost of one client's queued replies and held calls at which it stops
 * being read, and the same over all clients (see server.h). Six clients that
 * never read thus cost at most a few MiB together. */
#define DEFAULT_MAX_CLIENT_QUEUED ((gsize)1 << 20)
#define DEFAULT_MAX_QUEUED ((gsize)32 << 20)
/* Unread output of one client at which it is dropped as stuck. Once it is no
 * longer read only replies of calls already taken and events can add to it;
 * an event is also refused (and the client dropped) when the client is past
 * max_client_queued while the server is past max_queued. */
#define CLIENT_DROP_QUEUED ((gsize)64 << 20)
/* What a queued frame costs beyond its buffer: the GBytes (40 bytes) and its
 * GList node (24), each rounded up to malloc's 16-byte chunks with a header. */
#define FRAME_STRUCTS_COST 80u
/* The GList node of a call waiting for a worker slot. */
#define LIST_NODE_COST 32u
/* An input buffer that grew past this (a large frame) is given back once it
 * is empty, so one large call does not pin its size for the connection. */
#define INBUF_KEEP (2u * READ_CHUNK)
/* Connections waiting to be accepted, at max_clients too (the kernel caps it
 * at net.core.somaxconn); libvirtd's max_queued_clients default. */
#define LISTEN_BACKLOG 1000
/* How long a shutdown waits for one client's replies to drain. */
#define SHUTDOWN_FLUSH_MS 2000
/* One recv takes up to READ_CHUNK bytes; READ_ROUNDS recvs per wakeup at most,
 * so one busy client cannot hold the I/O thread. */
#define READ_CHUNK 65536
#define READ_ROUNDS 16

typedef struct {
    VrtRpcServer *server;
    int fd;
    bool readonly;
    char *path; /* unlinked at shutdown when we created it */
    GSource *source;
    VrtTlsContext *tls; /* a TLS listener's (not owned), else NULL */
    int auth; /* VrtRpcAuth of its clients */
    bool admin; /* the admin socket: its clients call the admin program alone */
} VrtListener;

struct _VrtServerClient {
    gint ref;
    VrtRpcServer *server; /* valid while !detached */
    GMainContext *ctx;
    int fd;
    bool readonly;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    bool local; /* a UNIX socket */
    bool admin; /* of the admin socket (see VrtListener) */
    guint64 id; /* the admin interface's client ID, unique in the server */
    gint64 connect_time; /* seconds since the epoch */
    int transport_kind; /* VrtRpcTransportKind when it connected */
    int auth; /* VrtRpcAuth */
    gint authenticated; /* atomic: calls other than the auth ones may run */
    /* NULL: plain socket calls. Read on the I/O thread; replaced (under
     * lock) by next_layer once the frame layer_after is written. */
    VrtTransport *transport;
    VrtTransport *next_layer; /* under lock */
    VrtTransport *lower; /* the transport below the layer now in use */
    GBytes *layer_after; /* under lock: the frame after which next_layer starts */
    bool layer_armed; /* under lock: next_layer waits for the next queued frame */

    /* I/O thread only */
    GByteArray *inbuf; /* received bytes not yet handled as frames */
    bool inbuf_big; /* inbuf grew past INBUF_KEEP */
    GSource *in_source; /* NULL while the client is not read */
    bool ka_enabled;
    gint64 last_rx;
    guint ka_unanswered;

    /* under lock */
    GMutex lock;
    GQueue out; /* GBytes* */
    gsize out_off;
    gsize out_cost; /* heap cost of out (frame_cost) */
    gsize in_cost; /* heap cost of this client's calls not yet freed */
    GSource *out_source;
    bool closed;
    bool dropped; /* refused an event; being closed on the I/O thread */
    bool read_paused; /* set by the I/O thread when it stops reading */
    GSource *wake_source; /* an idle source that reads again, when queued */
    guint inflight;
    GQueue pending; /* VrtCall* waiting for a worker slot */

    GList *streams; /* VrtServerStream*, each a reference (stream.h) */
    bool streams_waiting; /* a stream waits for room in out */
    GSource *stream_wake_source; /* an idle source that resumes them */

    gpointer data;
    GDestroyNotify data_destroy;
};

struct _VrtCall {
    VrtServerClient *client;
    vrt_net_header hdr;
    const VrtProcInfo *info;
    guint8 *frame;
    gsize len;
    gsize cost; /* heap cost charged to the client and server */
    VrtServerStream *stream; /* bound by the handler; started after the reply */
    int error_origin; /* 0: the procedure's (vrt_call_set_error_origin) */
};

struct _VrtRpcServer {
    GMainContext *ctx;
    VrtRpcServerLimits limits;
    VrtWorkers *pool;
    GMutex lock;
    GPtrArray *listeners;
    GHashTable *clients; /* VrtServerClient* -> itself (holds a ref) */
    VrtDispatch dispatch;
    VrtClientHook on_connect;
    VrtClientHook on_close;
    gpointer hook_data;
    VrtCallCheck check;
    gpointer check_data;
    GSource *keepalive_source;
    gint stopping;
    bool accept_paused; /* I/O thread: listeners unwatched at max_clients */
    bool unauth_paused; /* I/O thread: all but the admin one unwatched at max_unauth_clients */
    gint unauth_check; /* atomic: an idle to look at the limits again is pending */
    gsize queued; /* atomic: the sum of all clients' charges */
    gint waiting; /* atomic: a client stopped for the server's total */
    GPtrArray *handshakes; /* I/O thread: Handshake* under way */
    int unix_auth; /* VrtRpcAuth of the read-write UNIX socket's clients */
    guint64 last_client_id; /* under lock */
    gint busy_workers; /* atomic: workers running calls */
    int unix_ro_auth; /* VrtRpcAuth of the read-only UNIX socket's clients */
    bool no_io_thread_calls; /* every call runs on a worker (the check may block) */
    GMutex wake_lock; /* a leaf lock for wake_source */
    GSource *wake_source; /* reads waiting clients again once below max_queued */
};

static void client_close_now(VrtServerClient *client);
static void client_flush_locked(VrtServerClient *client);
static void client_start_reading(VrtServerClient *client);
static bool client_process_input(VrtServerClient *client);
static void client_resume(VrtServerClient *client);
static void server_watch_listeners(VrtRpcServer *server);
static gboolean on_unauth_check(gpointer opaque);
static void client_wake_locked(VrtServerClient *client);
static void client_dispatch_locked(VrtServerClient *client);
static void server_wake_all(VrtRpcServer *server);
static void client_wake_streams_locked(VrtServerClient *client);
static void client_resume_streams(VrtServerClient *client);

void
vrt_rpc_server_limits_init(VrtRpcServerLimits *limits)
{
    limits->max_clients = DEFAULT_MAX_CLIENTS;
    limits->max_unauth_clients = DEFAULT_MAX_UNAUTH_CLIENTS;
    limits->max_workers = DEFAULT_MAX_WORKERS;
    limits->max_client_requests = DEFAULT_MAX_CLIENT_REQUESTS;
    limits->max_queued_requests = DEFAULT_MAX_QUEUED_REQUESTS;
    limits->max_client_queued = DEFAULT_MAX_CLIENT_QUEUED;
    limits->max_queued = DEFAULT_MAX_QUEUED;
    limits->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
    limits->keepalive_count = DEFAULT_KEEPALIVE_COUNT;
}

/* ---- memory accounting ---- */

/* What a heap block really takes: its usable size (a request rounded up to
 * the allocator's chunk, or a buffer larger than its contents) and malloc's
 * header. */
static gsize
heap_cost(const void *p)
{
    return malloc_usable_size((void *)p) + sizeof(size_t);
}

static gsize
frame_cost(GBytes *frame)
{
    return heap_cost(g_bytes_get_data(frame, NULL)) + FRAME_STRUCTS_COST;
}

static gsize
server_queued(VrtRpcServer *server)
{
    return __atomic_load_n(&server->queued, __ATOMIC_SEQ_CST);
}

static void
server_charge(VrtRpcServer *server, gsize cost)
{
    __atomic_add_fetch(&server->queued, cost, __ATOMIC_SEQ_CST);
}

/* Any thread. A client that stopped for the server's total (server->waiting,
 * set before it looked at the total, see client_check_reading) is read again
 * once the total is below max_queued: either it sees the new total or this
 * sees its flag. */
static void
server_discharge(VrtRpcServer *server, gsize cost)
{
    if (!cost)
        return;
    gsize now = __atomic_sub_fetch(&server->queued, cost, __ATOMIC_SEQ_CST);
    if (now < server->limits.max_queued && g_atomic_int_compare_and_exchange(&server->waiting, 1, 0))
        server_wake_all(server);
}

gsize
vrt_rpc_server_queued_bytes(VrtRpcServer *server)
{
    return server_queued(server);
}

/* Whether the I/O thread may take more calls from client: not while it holds
 * max_queued_requests calls, nor while what it holds costs max_client_queued,
 * nor, past the server's max_queued, while it holds anything. *for_server
 * tells when only the last rule stops it. Under client->lock. */
static bool
client_may_read_locked(VrtServerClient *client, bool *for_server)
{
    VrtRpcServer *server = client->server;
    gsize held = client->out_cost + client->in_cost;

    if (for_server)
        *for_server = false;
    if (client->closed || client->dropped)
        return false;
    if (g_queue_get_length(&client->pending) >= server->limits.max_queued_requests ||
        held >= server->limits.max_client_queued)
        return false;
    if (held > 0 && server_queued(server) >= server->limits.max_queued) {
        if (for_server)
            *for_server = true;
        return false;
    }
    return true;
}

static void
client_stop_watching(VrtServerClient *client)
{
    if (client->in_source) {
        g_source_destroy(client->in_source);
        g_clear_pointer(&client->in_source, g_source_unref);
    }
}

/* I/O thread: true when client may be read now; otherwise its socket is no
 * longer watched (in_source NULL) until a wake-up finds it may be again. */
static bool
client_check_reading(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;
    bool for_server, ok;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        ok = client_may_read_locked(client, &for_server);
        if (!ok && for_server) {
            /* Say so before looking at the total again (see server_discharge). */
            g_atomic_int_set(&server->waiting, 1);
            ok = client_may_read_locked(client, NULL);
        }
        client->read_paused = !ok;
    }
    if (!ok)
        client_stop_watching(client);
    return ok;
}

/* Has the I/O thread call func(client) when source fires, holding a
 * reference on client until the source goes; returns source. */
static GSource *
client_attach(VrtServerClient *client, GSource *source, GSourceFunc func)
{
    g_source_set_callback(source, func, vrt_server_client_ref(client), (GDestroyNotify)vrt_server_client_unref);
    g_source_attach(source, client->ctx);
    return source;
}

/* I/O thread, in the callback of a source client_attach attached, which
 * then ends: forgets it (*slot) under client->lock and returns the guard of
 * that lock, for the caller to go on under it or to free. */
static GMutexLocker *
client_source_fired(VrtServerClient *client, GSource **slot)
{
    GMutexLocker *locker = g_mutex_locker_new(&client->lock);

    g_clear_pointer(slot, g_source_unref);
    return locker;
}

static gboolean
client_wake_cb(gpointer opaque)
{
    VrtServerClient *client = opaque;

    {
        g_autoptr(GMutexLocker) locker = client_source_fired(client, &client->wake_source);
    }
    client_resume(client);
    return G_SOURCE_REMOVE;
}

/* Any thread, under client->lock, after what client holds went down: when it
 * is not read and now may be, has the I/O thread read it again. An idle
 * source, never a direct call: the caller holds the lock. */
static void
client_wake_locked(VrtServerClient *client)
{
    if (!client->read_paused || client->wake_source || !client_may_read_locked(client, NULL))
        return;
    GSource *idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    client->wake_source = client_attach(client, idle, client_wake_cb);
}

/* I/O thread: frames already received run first; when they stop reading
 * again, the socket stays unwatched (a later wake-up comes back here, as the
 * client is marked paused), else it is watched. */
static void
client_resume(VrtServerClient *client)
{
    bool paused;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        paused = client->read_paused && !client->closed;
    }
    if (!paused || !client_check_reading(client))
        return;
    if (!client_process_input(client)) {
        client_close_now(client);
        return;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        paused = client->read_paused;
    }
    if (!paused)
        client_start_reading(client);
}

static gboolean
server_wake_all_cb(gpointer opaque)
{
    VrtRpcServer *server = opaque;
    g_autoptr(GPtrArray) paused = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_server_client_unref);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->wake_lock);

        g_clear_pointer(&server->wake_source, g_source_unref);
    }

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);

        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, server->clients);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            VrtServerClient *client = key;
            {
                g_autoptr(GMutexLocker) client_locker = g_mutex_locker_new(&client->lock);

                client_dispatch_locked(client);
                if (client->read_paused || client->streams_waiting)
                    g_ptr_array_add(paused, vrt_server_client_ref(client));
            }
        }
    }
    for (guint i = 0; i < paused->len; i++) {
        client_resume(g_ptr_array_index(paused, i));
        client_resume_streams(g_ptr_array_index(paused, i));
    }
    return G_SOURCE_REMOVE;
}

/* Any thread: has the I/O thread look at every client not read, or with
 * calls waiting. */
static void
server_wake_all(VrtRpcServer *server)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->wake_lock);

        if (!server->wake_source && !g_atomic_int_get(&server->stopping)) {
            server->wake_source = g_idle_source_new();
            g_source_set_priority(server->wake_source, G_PRIORITY_DEFAULT);
            g_source_set_callback(server->wake_source, server_wake_all_cb, server, NULL);
            g_source_attach(server->wake_source, server->ctx);
        }
    }
}

/* ---- clients ---- */

VrtServerClient *
vrt_server_client_ref(VrtServerClient *client)
{
    g_atomic_int_inc(&client->ref);
    return client;
}

void
vrt_server_client_unref(VrtServerClient *client)
{
    if (!client || !g_atomic_int_dec_and_test(&client->ref))
        return;
    if (client->data_destroy)
        client->data_destroy(client->data);
    g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
    vrt_transport_free(client->next_layer);
    vrt_transport_free(client->transport);
    vrt_transport_free(client->lower);
    if (client->fd >= 0)
        close(client->fd);
    g_byte_array_unref(client->inbuf);
    g_mutex_clear(&client->lock);
    g_main_context_unref(client->ctx);
    g_free(client);
}

bool
vrt_server_client_is_readonly(VrtServerClient *client)
{
    return client->readonly;
}

void
vrt_server_client_set_data(VrtServerClient *client, gpointer data, GDestroyNotify destroy)
{
    client->data = data;
    client->data_destroy = destroy;
}

gpointer
vrt_server_client_get_data(VrtServerClient *client)
{
    return client->data;
}

VrtServerClient *
vrt_call_get_client(VrtCall *call)
{
    return call->client;
}

void
vrt_call_set_error_origin(VrtCall *call, int origin)
{
    call->error_origin = origin;
}

static gboolean
on_client_writable(int fd, GIOCondition cond, gpointer opaque)
{
    VrtServerClient *client = opaque;
    g_autoptr(GMutexLocker) locker = client_source_fired(client, &client->out_source);

    client_flush_locked(client);
    return G_SOURCE_REMOVE;
}

/* Empties the output queue without writing it; returns its cost. Under client->lock. */
static gsize
client_drop_output_locked(VrtServerClient *client)
{
    gsize cost = client->out_cost;
    g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
    client->out_off = 0;
    client->out_cost = 0;
    client->layer_after = NULL;
    return cost;
}

/* The frame that ended the authentication is written: from now on the
 * security layer (SASL) carries the connection both ways. The client sends
 * nothing before it has read that frame, so no byte it sent was read
 * without the layer. Under client->lock. */
static void
client_switch_layer_locked(VrtServerClient *client)
{
    client->lower = client->transport;
    client->transport = g_steal_pointer(&client->next_layer);
    client->layer_after = NULL;
}

/* Writes what the socket takes now; arms a write watch for the rest. What
 * was written is discharged and may let the client be read again. */
static void
client_flush_locked(VrtServerClient *client)
{
    gsize written = 0;

    while (!client->closed && !g_queue_is_empty(&client->out)) {
        GBytes *head = g_queue_peek_head(&client->out);
        gsize size;
        const guint8 *data = g_bytes_get_data(head, &size);
        ssize_t n = client->transport
                        ? vrt_transport_send(client->transport, data + client->out_off, size - client->out_off)
                        : send(client->fd, data + client->out_off, size - client->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!client->out_source)
                    client->out_source =
                        client_attach(client, g_unix_fd_source_new(client->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP),
                                      (GSourceFunc)(void (*)(void))on_client_writable);
                break;
            }
            g_debug("client fd %d: write failed: %s", client->fd, g_strerror(errno));
            /* The read side sees the error too and closes the client; one
             * not read is read again (nothing is queued now) to see it. */
            written += client_drop_output_locked(client);
            shutdown(client->fd, SHUT_RDWR);
            break;
        }
        client->out_off += (gsize)n;
        if (client->out_off == size) {
            GBytes *done = g_queue_pop_head(&client->out);
            if (done == client->layer_after)
                client_switch_layer_locked(client);
            gsize cost = frame_cost(done);
            g_bytes_unref(done);
            client->out_off = 0;
            client->out_cost -= cost;
            written += cost;
        }
    }
    if (written) {
        server_discharge(client->server, written);
        client_dispatch_locked(client);
        client_wake_locked(client);
        client_wake_streams_locked(client);
    }
}

/* Whether a waiting call of client may go to a worker: not while its unread
 * replies cost max_client_queued, nor, past the server's max_queued, while it
 * has any: each call would add a reply (of any size) to them. Writing them
 * lets calls go again. Under client->lock. */
static bool
client_may_dispatch_locked(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;
    if (client->out_cost >= server->limits.max_client_queued)
        return false;
    if (client->out_cost > 0 && server_queued(server) >= server->limits.max_queued) {
        /* As in client_check_reading: say so, then look again. */
        g_atomic_int_set(&server->waiting, 1);
        return server_queued(server) < server->limits.max_queued;
    }
    return true;
}

/* Hands client's waiting calls to the workers, at most max_client_requests
 * at once, while client_may_dispatch_locked. Under client->lock; not once
 * the server stops (its pool takes no more work). */
static void
client_dispatch_locked(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;
    while (client->inflight < server->limits.max_client_requests && !g_queue_is_empty(&client->pending) &&
           !client->closed && !g_atomic_int_get(&server->stopping) && client_may_dispatch_locked(client)) {
        client->inflight++;
        vrt_workers_push(server->pool, g_queue_pop_head(&client->pending));
    }
}

static gboolean
client_drop_cb(gpointer opaque)
{
    client_close_now(opaque);
    return G_SOURCE_REMOVE;
}

/* client_queue's part under the client lock: queues frame (true), or
 * refuses it because the client is closed or, *drop, is dropped now with
 * the *held bytes its output held (*dropped of them charged). Client lock held. */
static bool
client_enqueue_locked(VrtServerClient *client, GBytes *frame, gsize cost, bool unsolicited, bool *drop, gsize *dropped,
                      gsize *held)
{
    VrtRpcServer *server = client->server;
    bool closed = client->closed || client->dropped;

    *drop = !closed && (client->out_cost + cost > CLIENT_DROP_QUEUED ||
                        (unsolicited && client->out_cost >= server->limits.max_client_queued &&
                         server_queued(server) >= server->limits.max_queued));
    if (*drop) {
        client->dropped = true;
        *held = client->out_cost;
        *dropped = client_drop_output_locked(client);
        /* Closed on the I/O thread, which may not be reading it now. */
        g_source_unref(client_attach(client, g_idle_source_new(), client_drop_cb));
    }
    if (closed || *drop)
        return false;
    client->out_cost += cost;
    server_charge(server, cost);
    g_queue_push_tail(&client->out, frame);
    if (client->layer_armed) {
        client->layer_after = frame;
        client->layer_armed = false;
    }
    if (!client->out_source)
        client_flush_locked(client);
    return true;
}

/* Queues a complete frame; takes ownership of frame. Replies (and PINGs
 * and PONGs) are always queued: reading stops before they pile up. An event
 * (unsolicited) comes whether the client reads or not, so one for a client
 * that has stopped reading while the server is past its total is refused
 * and the client dropped, as is any frame past CLIENT_DROP_QUEUED. */
static bool
client_queue(VrtServerClient *client, GBytes *frame, bool unsolicited)
{
    if (!frame)
        return false;
    VrtRpcServer *server = client->server;
    gsize cost = frame_cost(frame);
    gsize dropped = 0, held = 0;
    bool queued, drop;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        queued = client_enqueue_locked(client, frame, cost, unsolicited, &drop, &dropped, &held);
    }
    if (queued)
        return true;
    /* Outside the client lock: the discharge may wake every client. */
    g_bytes_unref(frame);
    if (drop) {
        g_warning("client fd %d does not read its messages (%zu bytes queued): dropping it", client->fd, held);
        shutdown(client->fd, SHUT_RDWR);
        server_discharge(server, dropped);
    }
    return false;
}

bool
vrt_server_client_send_event(VrtServerClient *client, int proc, xdrproc_t filter, const void *msg)
{
    return vrt_server_client_send_program_event(client, VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, proc, filter, msg);
}

bool
vrt_server_client_send_program_event(VrtServerClient *client, unsigned int prog, unsigned int vers, int proc,
                                     xdrproc_t filter, const void *msg)
{
    vrt_net_header hdr = { prog, vers, proc, VRT_NET_MESSAGE, 0, VRT_NET_OK };
    g_autoptr(GError) err = NULL;
    GBytes *frame = vrt_message_encode(&hdr, filter, msg, &err);
    if (!frame) {
        g_warning("cannot encode event %d: %s", proc, err->message);
        return false;
    }
    return client_queue(client, frame, true);
}

static void
send_keepalive(VrtServerClient *client, int proc)
{
    vrt_net_header hdr = { VRT_KEEPALIVE_PROGRAM, VRT_KEEPALIVE_VERSION, proc, VRT_NET_MESSAGE, 0, VRT_NET_OK };
    client_queue(client, vrt_message_encode(&hdr, NULL, NULL, NULL), false);
}

void
vrt_server_client_enable_keepalive(VrtServerClient *client)
{
    client->ka_enabled = true;
}

int
vrt_server_client_get_auth(VrtServerClient *client)
{
    return client->auth;
}

bool
vrt_server_client_get_unix_identity(VrtServerClient *client, pid_t *pid, uid_t *uid)
{
    if (!client->local || client->pid <= 0)
        return false;
    *pid = client->pid;
    *uid = client->uid;
    return true;
}

void
vrt_server_client_set_authenticated(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;

    g_atomic_int_set(&client->authenticated, 1);
    /* One client fewer authenticating: accept again if that was the limit
     * (on the I/O thread, which owns the listeners). */
    if (server->limits.max_unauth_clients && g_atomic_int_compare_and_exchange(&server->unauth_check, 0, 1)) {
        GSource *idle = g_idle_source_new();
        g_source_set_callback(idle, on_unauth_check, server, NULL);
        g_source_attach(idle, server->ctx);
        g_source_unref(idle);
    }
}

bool
vrt_server_client_is_secure(VrtServerClient *client)
{
    return client->local || (client->transport && client->transport->is_tls);
}

unsigned int
vrt_server_client_tls_ssf(VrtServerClient *client)
{
    return client->transport && client->transport->is_tls ? client->transport->ssf : 0;
}

int
vrt_server_client_get_fd(VrtServerClient *client)
{
    return client->fd;
}

VrtTransport *
vrt_server_client_get_transport(VrtServerClient *client)
{
    return client->transport;
}

void
vrt_server_client_push_layer(VrtServerClient *client, VrtTransport *layer)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    vrt_transport_free(client->next_layer);
    client->next_layer = layer;
    client->layer_armed = true;
}

/* ---- calls ---- */

/* A new call of client, charged to it and the server until call_free. */
static VrtCall *
call_new(VrtServerClient *client, const vrt_net_header *hdr, const VrtProcInfo *info, guint8 *frame, gsize len)
{
    VrtCall *call = g_new0(VrtCall, 1);
    call->client = vrt_server_client_ref(client);
    call->hdr = *hdr;
    call->info = info;
    call->frame = frame;
    call->len = len;
    call->cost = heap_cost(frame) + heap_cost(call) + LIST_NODE_COST;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        client->in_cost += call->cost;
    }
    server_charge(client->server, call->cost);
    return call;
}

static void
call_free(VrtCall *call)
{
    VrtServerClient *client = call->client;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        client->in_cost -= call->cost;
    }
    server_discharge(client->server, call->cost);
    if (call->stream)
        vrt_server_stream_unref(call->stream);
    g_free(call->frame);
    vrt_server_client_unref(client);
    g_free(call);
}

static void
reply_error(VrtServerClient *client, const vrt_net_header *call, const GError *err, int origin)
{
    client_queue(client, vrt_message_encode_error(call, err, origin), false);
}

static void
run_call(VrtCall *call)
{
    const VrtProcInfo *info = call->info;
    VrtRpcServer *server = call->client->server;
    g_autoptr(GError) err = NULL;
    g_autofree void *args = info->args_size ? g_malloc0(info->args_size) : NULL;
    g_autofree void *ret = info->ret_size ? g_malloc0(info->ret_size) : NULL;
    bool ok, decoded = false;
    int origin = info->origin;

    if (info->args_size) {
        /* A failed decode has freed what it had decoded. */
        ok = decoded = vrt_message_decode_payload(call->frame, call->len, info->args_filter, args, &err);
    } else {
        ok = call->len == VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;
        if (!ok)
            vrt_error_set(&err, VIR_ERR_RPC, "%s", "unexpected payload for a procedure without arguments");
    }
    if (ok && server->check) {
        ok = server->check(call, info, args, server->check_data, &err);
        /* Its only refusal for access is the read-only one (libvirt's public API). */
        if (!ok && g_error_matches(err, VRT_ERROR, VIR_ERR_OPERATION_DENIED))
            origin = info->ro_origin;
    }
    /* After the read-only check, before the handler: libvirt's public API
     * refuses a read-only call before its driver looks at the flags. */
    if (ok)
        ok = vrt_rpc_flags_check(info, args, &err);
    if (ok)
        ok = server->dispatch(call, info, args, ret, &err);

    if (ok) {
        vrt_net_header hdr = call->hdr;
        hdr.type = VRT_NET_REPLY;
        hdr.status = VRT_NET_OK;
        GError *enc_err = NULL;
        GBytes *frame = vrt_message_encode(&hdr, info->ret_size ? info->ret_filter : NULL, ret, &enc_err);
        /* A stream the call opened is known before its reply goes, so the
         * client's first data finds it, and starts after it, so the reply
         * comes first. */
        if (frame && call->stream && !vrt_server_stream_register(call->stream))
            g_clear_pointer(&frame, g_bytes_unref);
        if (frame) {
            client_queue(call->client, frame, false);
            if (call->stream)
                vrt_server_stream_start(call->stream);
        } else if (enc_err) {
            if (call->stream)
                vrt_server_stream_discard(call->stream);
            reply_error(call->client, &call->hdr, enc_err, info->origin);
            g_error_free(enc_err);
        }
    } else {
        g_debug("proc %s failed: %s", info->name, err ? err->message : "?");
        if (call->stream)
            vrt_server_stream_discard(call->stream);
        reply_error(call->client, &call->hdr, err, call->error_origin ? call->error_origin : origin);
    }
    /* A handler that failed may have filled part of its reply. */
    if (info->ret_size)
        vrt_message_free_payload(info->ret_filter, ret);
    if (decoded)
        vrt_message_free_payload(info->args_filter, args);
}

static void
worker_run(gpointer data, gpointer user_data)
{
    VrtCall *call = data;
    VrtRpcServer *server = user_data;
    VrtServerClient *client = vrt_server_client_ref(call->client);

    g_atomic_int_inc(&server->busy_workers);
    for (;;) {
        run_call(call);
        call_free(call);
        call = NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

            if (!g_queue_is_empty(&client->pending) && g_atomic_int_get(&server->stopping)) {
                /* Shutting down: the pool takes no new work, so run it here. */
                call = g_queue_pop_head(&client->pending);
            } else {
                client->inflight--;
                client_dispatch_locked(client);
            }
            /* The call freed above and the one taken from the queue may let
             * the client be read again. */
            client_wake_locked(client);
        }
        if (!call)
            break;
    }
    g_atomic_int_dec_and_test(&server->busy_workers);
    vrt_server_client_unref(client);
}

/* ---- streams (stream.h) ---- */

void
vrt_call_set_stream(VrtCall *call, VrtServerStream *stream)
{
    if (call->stream)
        vrt_server_stream_unref(call->stream);
    call->stream = vrt_server_stream_ref(stream);
}

const vrt_net_header *
vrt_call_get_header(VrtCall *call)
{
    return &call->hdr;
}

GMainContext *
vrt_server_client_get_context(VrtServerClient *client)
{
    return client->ctx;
}

bool
vrt_server_client_queue_stream_message(VrtServerClient *client, GBytes *frame)
{
    return client_queue(client, frame, false);
}

gsize
vrt_server_frame_heap_cost(const void *frame)
{
    return heap_cost(frame);
}

/* Whether client has room for stream data: its unread messages cost less
 * than half its max_client_queued (replies to its calls keep the other
 * half) and the server is below max_queued. Under client->lock. */
static bool
client_stream_room_locked(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;

    return !client->closed && client->out_cost < server->limits.max_client_queued / 2 &&
           server_queued(server) < server->limits.max_queued;
}

bool
vrt_server_client_stream_room(VrtServerClient *client)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    VrtRpcServer *server = client->server;

    if (client_stream_room_locked(client))
        return true;
    /* Under the lock that every write's discharge takes: no wake-up lost. */
    client->streams_waiting = true;
    if (server_queued(server) >= server->limits.max_queued) {
        /* As in client_check_reading: say so, then look at the total again. */
        g_atomic_int_set(&server->waiting, 1);
        if (client_stream_room_locked(client)) {
            client->streams_waiting = false;
            return true;
        }
    }
    return false;
}

void
vrt_server_client_charge_input(VrtServerClient *client, gssize delta)
{
    if (delta == 0)
        return;
    if (delta > 0) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

            client->in_cost += (gsize)delta;
        }
        server_charge(client->server, (gsize)delta);
        return;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        client->in_cost -= (gsize)-delta;
    }
    server_discharge(client->server, (gsize)-delta);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        client_wake_locked(client);
    }
}

bool
vrt_server_client_add_stream(VrtServerClient *client, VrtServerStream *stream)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    if (client->closed || client->dropped)
        return false;
    client->streams = g_list_prepend(client->streams, stream);
    return true;
}

void
vrt_server_client_remove_stream(VrtServerClient *client, VrtServerStream *stream)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    client->streams = g_list_remove(client->streams, stream);
}

/* The client's stream that hdr belongs to (a reference), or NULL. */
static VrtServerStream *
client_find_stream(VrtServerClient *client, const vrt_net_header *hdr)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    for (GList *l = client->streams; l; l = l->next)
        if (vrt_server_stream_matches(l->data, hdr))
            return vrt_server_stream_ref(l->data);
    return NULL;
}

/* The client's streams, each a reference. Under client->lock. */
static GList *
client_ref_streams_locked(VrtServerClient *client)
{
    GList *copy = g_list_copy(client->streams);

    for (GList *l = copy; l; l = l->next)
        vrt_server_stream_ref(l->data);
    return copy;
}

/* I/O thread: streams that waited for room read their fds again. */
static void
client_resume_streams(VrtServerClient *client)
{
    GList *streams;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        if (!client->streams_waiting || !client_stream_room_locked(client))
            return;
        client->streams_waiting = false;
        streams = client_ref_streams_locked(client);
    }
    for (GList *l = streams; l; l = l->next)
        vrt_server_stream_resume(l->data);
    g_list_free_full(streams, (GDestroyNotify)vrt_server_stream_unref);
}

static gboolean
client_stream_wake_cb(gpointer opaque)
{
    VrtServerClient *client = opaque;

    {
        g_autoptr(GMutexLocker) locker = client_source_fired(client, &client->stream_wake_source);
    }
    client_resume_streams(client);
    return G_SOURCE_REMOVE;
}

/* Under client->lock, after its output went down: has the I/O thread
 * resume the streams waiting for room once there is. */
static void
client_wake_streams_locked(VrtServerClient *client)
{
    if (!client->streams_waiting || client->stream_wake_source || !client_stream_room_locked(client))
        return;
    GSource *idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    client->stream_wake_source = client_attach(client, idle, client_stream_wake_cb);
}

/* Handles one complete frame read from client; takes ownership of frame. */
static bool
handle_frame(VrtServerClient *client, guint8 *frame, gsize len)
{
    vrt_net_header hdr;
    g_autoptr(GError) err = NULL;

    if (!vrt_message_decode_header(frame, len, &hdr, &err)) {
        g_free(frame);
        g_debug("client fd %d: %s; closing", client->fd, err->message);
        return false;
    }
    client->last_rx = g_get_monotonic_time();
    client->ka_unanswered = 0;

    if (hdr.prog == VRT_KEEPALIVE_PROGRAM) {
        g_free(frame);
        if (hdr.vers != VRT_KEEPALIVE_VERSION || hdr.type != VRT_NET_MESSAGE)
            return true;
        if (hdr.proc == VRT_KEEPALIVE_PROC_PING)
            send_keepalive(client, VRT_KEEPALIVE_PROC_PONG);
        return true;
    }
    if (hdr.type == VRT_NET_STREAM || hdr.type == VRT_NET_STREAM_HOLE) {
        VrtServerStream *stream = client_find_stream(client, &hdr);

        /* A stream's messages may still come after it ended (data is not
         * acknowledged): dropped, as libvirtd does. */
        if (stream) {
            vrt_server_stream_incoming(stream, &hdr, frame, len);
            vrt_server_stream_unref(stream);
        } else {
            g_free(frame);
        }
        return true;
    }
    if (hdr.type != VRT_NET_CALL && hdr.type != VRT_NET_CALL_WITH_FDS) {
        /* Stray replies: ignored. */
        g_free(frame);
        return true;
    }
    /* Every program of the table (remote, QEMU): a program is its rows there. */
    /* The admin program is the admin socket's, and only it: each side sees
     * the other's as unknown, as libvirtd's separate servers do. */
    if (!vrt_proc_program_known(hdr.prog, hdr.vers) || (hdr.prog == VRT_ADMIN_PROGRAM) != client->admin) {
        vrt_error_set(&err, VIR_ERR_RPC, "cannot find program %u version %u", hdr.prog, hdr.vers);
        reply_error(client, &hdr, err, VIR_FROM_RPC);
        g_free(frame);
        return true;
    }
    const VrtProcInfo *info = vrt_proc_find(hdr.prog, hdr.vers, hdr.proc);
    if (!info || info->is_message) {
        vrt_error_set(&err, VIR_ERR_NO_SUPPORT, "unknown procedure: %d", hdr.proc);
        reply_error(client, &hdr, err, VIR_FROM_RPC);
        g_free(frame);
        return true;
    }
    if (hdr.type == VRT_NET_CALL_WITH_FDS) {
        vrt_error_set(&err, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "passing file descriptors is not supported");
        reply_error(client, &hdr, err, VIR_FROM_RPC);
        g_free(frame);
        return true;
    }
    /* libvirt's order: a known procedure, then authentication, as libvirtd
     * refuses every call but the auth ones (AUTH_LIST 66 to AUTH_POLKIT 70)
     * until it is done. */
    if (!g_atomic_int_get(&client->authenticated) &&
        !(hdr.prog == VRT_REMOTE_PROGRAM && hdr.proc >= VRT_PROC_AUTH_LIST && hdr.proc <= VRT_PROC_AUTH_LIST + 4)) {
        vrt_error_set(&err, VIR_ERR_RPC, "%s", "authentication required");
        reply_error(client, &hdr, err, VIR_FROM_RPC);
        g_free(frame);
        return true;
    }
    /* Before the arguments are decoded; refused flags need them (the call check). */
    if (client->readonly && !vrt_rpc_readonly_check(info, NULL, &err)) {
        reply_error(client, &hdr, err, info->ro_origin);
        g_free(frame);
        return true;
    }

    VrtCall *call = call_new(client, &hdr, info, frame, len);
    if (info->high_priority && !client->server->no_io_thread_calls) {
        run_call(call);
        call_free(call);
        return true;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        g_queue_push_tail(&client->pending, call);
        client_dispatch_locked(client);
    }
    return true;
}

/* Handles the complete frames in the client's input buffer, in order, while
 * the client may be read (client_check_reading); the rest stays buffered.
 * False when the client must be closed (a bad frame). I/O thread only. */
static bool
client_process_input(VrtServerClient *client)
{
    GByteArray *in = client->inbuf;
    gsize off = 0;
    bool ok = true;

    while (in->len - off >= VRT_MESSAGE_LEN_SIZE) {
        guint32 total;
        g_autoptr(GError) err = NULL;
        if (!vrt_message_decode_length(in->data + off, &total, &err)) {
            g_message("client fd %d: %s; closing", client->fd, err->message);
            ok = false;
            break;
        }
        if (in->len - off < total || !client_check_reading(client))
            break;
        guint8 *frame = g_memdup2(in->data + off, total);
        off += total;
        if (!handle_frame(client, frame, total)) {
            ok = false;
            break;
        }
    }
    /* One move for all the frames handled, not one per frame. */
    if (off)
        g_byte_array_remove_range(in, 0, (guint)off);
    return ok;
}

/* The read side of client's transport; I/O thread. Only a SASL client's
 * transport changes (the writer puts its layer in, under the client lock);
 * the others read it without a lock. */
static ssize_t
client_recv(VrtServerClient *client, void *buf, size_t len)
{
    VrtTransport *t = client->transport;

    if (client->auth == VRT_RPC_AUTH_SASL) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        t = client->transport;
    }
    return t ? vrt_transport_recv(t, buf, len) : recv(client->fd, buf, len, MSG_DONTWAIT);
}

static gboolean
on_client_readable(int fd, GIOCondition cond, gpointer opaque)
{
    VrtServerClient *client = opaque;
    guint8 buf[READ_CHUNK];

    for (int rounds = 0; rounds < READ_ROUNDS; rounds++) {
        ssize_t n = client_recv(client, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return G_SOURCE_CONTINUE;
        if (n <= 0 || !(g_byte_array_append(client->inbuf, buf, (guint)n), client_process_input(client))) {
            client_close_now(client);
            return G_SOURCE_REMOVE;
        }
        if (client->inbuf->len == 0 && client->inbuf_big) {
            g_byte_array_unref(client->inbuf);
            client->inbuf = g_byte_array_new();
            client->inbuf_big = false;
        } else if (client->inbuf->len > INBUF_KEEP) {
            client->inbuf_big = true;
        }
        /* No longer read (see client_check_reading): the source is gone. */
        if (!client->in_source)
            return G_SOURCE_REMOVE;
        /* A short read drained the socket: wait for poll instead of an EAGAIN
         * (unless TLS or SASL holds decrypted bytes poll cannot see). */
        if ((size_t)n < sizeof(buf) && !vrt_transport_pending(client->transport))
            return G_SOURCE_CONTINUE;
    }
    return G_SOURCE_CONTINUE;
}

static void
client_start_reading(VrtServerClient *client)
{
    if (client->in_source)
        return;
    client->in_source = g_unix_fd_source_new(client->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(client->in_source, (GSourceFunc)(void (*)(void))on_client_readable, client, NULL);
    /* GLib blocks a non-recursive source while it is dispatched, which
     * removes and re-adds its fd and wakes the context twice per message;
     * the callback never iterates the context, so there is nothing to
     * block against. */
    g_source_set_can_recurse(client->in_source, TRUE);
    g_source_attach(client->in_source, client->ctx);
}

/* Removes client from the server's table: true when it was there (the
 * caller then owns the table's reference). Takes the server lock. */
static bool
server_steal_client(VrtRpcServer *server, VrtServerClient *client)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);

    return g_hash_table_steal(server->clients, client);
}

/* Closes a client on the I/O thread: no more reads or writes; its calls in
 * the workers finish and their replies are dropped. */
static void
client_close_now(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;
    GSource *wake, *stream_wake;
    GQueue pending;
    gsize unwritten;
    GList *streams;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

        if (client->closed)
            return;
        client->closed = true;
        if (client->out_source)
            g_source_destroy(client->out_source);
        g_clear_pointer(&client->out_source, g_source_unref);
        wake = g_steal_pointer(&client->wake_source);
        stream_wake = g_steal_pointer(&client->stream_wake_source);
        streams = client_ref_streams_locked(client);
        pending = client->pending;
        g_queue_init(&client->pending);
        unwritten = client_drop_output_locked(client);
    }
    server_discharge(server, unwritten);
    g_queue_clear_full(&pending, (GDestroyNotify)call_free);
    if (wake) {
        g_source_destroy(wake);
        g_source_unref(wake);
    }
    if (stream_wake) {
        g_source_destroy(stream_wake);
        g_source_unref(stream_wake);
    }
    /* Each ends, closes its fd and leaves the client's list. */
    for (GList *l = streams; l; l = l->next)
        vrt_server_stream_client_closed(l->data);
    g_list_free_full(streams, (GDestroyNotify)vrt_server_stream_unref);

    client_stop_watching(client);
    shutdown(client->fd, SHUT_RDWR);
    g_debug("client fd %d closed", client->fd);
    if (server->on_close)
        server->on_close(client, server->hook_data);
    if (server_steal_client(server, client))
        vrt_server_client_unref(client);
    server_watch_listeners(server);
}

/* ---- listeners ---- */

static gboolean on_listener_ready(int fd, GIOCondition cond, gpointer opaque);

static void
listener_watch(VrtListener *l, bool on)
{
    if (on && !l->source) {
        l->source = g_unix_fd_source_new(l->fd, G_IO_IN);
        g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))on_listener_ready, l, NULL);
        g_source_attach(l->source, l->server->ctx);
    } else if (!on && l->source) {
        g_source_destroy(l->source);
        g_clear_pointer(&l->source, g_source_unref);
    }
}

/* Clients still authenticating (SASL or polkit pending): libvirt's
 * nclients_unauth. TLS handshakes under way count as clients only. */
static guint
server_unauth_count(VrtRpcServer *server)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);
    GHashTableIter it;
    gpointer key;
    guint n = 0;

    g_hash_table_iter_init(&it, server->clients);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_atomic_int_get(&((VrtServerClient *)key)->authenticated))
            n++;
    return n;
}

/* Whether listener l is watched: not at max_clients, and (but for the
 * admin socket, libvirtd's other server) not at max_unauth_clients. */
static bool
listener_wanted(VrtRpcServer *server, VrtListener *l)
{
    return !server->accept_paused && !(server->unauth_paused && !l->admin);
}

/* I/O thread: at max_clients the listeners are not watched, so further
 * clients wait in the listen backlog (as with libvirtd) instead of being
 * accepted and reset; below it they are watched again. Likewise at
 * max_unauth_clients clients still authenticating (libvirtd's
 * max_anonymous_clients; 0: no limit) until one finishes or leaves. */
static void
server_watch_listeners(VrtRpcServer *server)
{
    if (g_atomic_int_get(&server->stopping) || server->listeners->len == 0)
        return;
    /* TLS handshakes under way count: each holds a connection. */
    guint n = vrt_rpc_server_client_count(server) + server->handshakes->len;
    bool full = n >= server->limits.max_clients;
    guint unauth = server->limits.max_unauth_clients ? server_unauth_count(server) : 0;
    bool unauth_full = server->limits.max_unauth_clients && unauth >= server->limits.max_unauth_clients;
    if (full == server->accept_paused && unauth_full == server->unauth_paused)
        return;
    if (full && !server->accept_paused)
        g_warning("%u clients is the limit (max_clients): new connections wait until one leaves",
                  server->limits.max_clients);
    else if (unauth_full && !server->unauth_paused)
        g_warning("%u clients authenticating is the limit (max_anonymous_clients): new connections wait until "
                  "one finishes",
                  server->limits.max_unauth_clients);
    else
        g_debug("accepting connections again (%u clients, %u authenticating)", n, unauth);
    server->accept_paused = full;
    server->unauth_paused = unauth_full;
    for (guint i = 0; i < server->listeners->len; i++) {
        VrtListener *l = g_ptr_array_index(server->listeners, i);
        listener_watch(l, listener_wanted(server, l));
    }
}

static gboolean
on_unauth_check(gpointer opaque)
{
    VrtRpcServer *server = opaque;

    g_atomic_int_set(&server->unauth_check, 0);
    server_watch_listeners(server);
    return G_SOURCE_REMOVE;
}

/* A new client on fd (accepted, non-blocking) with transport (NULL: plain),
 * served from now on. I/O thread. */
static void
client_new(VrtRpcServer *server, int cfd, bool readonly, bool local, int auth, VrtTransport *transport, bool admin)
{
    VrtServerClient *client = g_new0(VrtServerClient, 1);
    client->ref = 1;
    client->server = server;
    client->ctx = g_main_context_ref(server->ctx);
    client->fd = cfd;
    client->readonly = readonly;
    client->local = local;
    client->admin = admin;
    client->connect_time = g_get_real_time() / G_USEC_PER_SEC;
    client->transport_kind = local                            ? VRT_RPC_TRANSPORT_UNIX
                             : transport && transport->is_tls ? VRT_RPC_TRANSPORT_TLS
                                                              : VRT_RPC_TRANSPORT_TCP;
    client->auth = auth;
    client->authenticated = auth == VRT_RPC_AUTH_NONE;
    client->transport = transport;
    client->pid = -1;
    client->uid = (uid_t)-1;
    client->gid = (gid_t)-1;
    client->last_rx = g_get_monotonic_time();
    client->inbuf = g_byte_array_new();
    g_mutex_init(&client->lock);
    g_queue_init(&client->out);
    g_queue_init(&client->pending);
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (local && getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
        client->pid = cred.pid;
        client->uid = cred.uid;
        client->gid = cred.gid;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);

        client->id = ++server->last_client_id;
        g_hash_table_add(server->clients, client);
    }
    g_debug("client fd %d connected (pid %d uid %d%s%s)", cfd, (int)client->pid, (int)client->uid,
            client->readonly ? ", read-only" : "", transport && transport->is_tls ? ", TLS" : "");
    if (server->on_connect)
        server->on_connect(client, server->hook_data);
    client_start_reading(client);
}

typedef struct {
    VrtRpcServer *server;
    VrtTlsAccept *acc;
    bool readonly;
    int auth;
} Handshake;

/* A TLS handshake ended: the client is served, or was refused (logged and
 * closed by tls.c), and the daemon goes on with the others. */
static void
on_handshake_done(VrtTransport *transport, int fd, const GError *error, gpointer data)
{
    Handshake *hs = data;
    VrtRpcServer *server = hs->server;

    g_ptr_array_remove_fast(server->handshakes, hs);
    if (transport)
        client_new(server, fd, hs->readonly, false, hs->auth, transport, false);
    g_free(hs);
    server_watch_listeners(server);
}

static gboolean
on_listener_ready(int fd, GIOCondition cond, gpointer opaque)
{
    VrtListener *l = opaque;
    VrtRpcServer *server = l->server;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);
    int cfd = accept4(fd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            g_warning("accept failed: %s", g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    bool local = addr.ss_family == AF_UNIX;
    if (!local) {
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (l->tls) {
        Handshake *hs = g_new0(Handshake, 1);
        hs->server = server;
        hs->readonly = l->readonly;
        hs->auth = l->auth;
        g_ptr_array_add(server->handshakes, hs);
        /* A session that cannot even start ends at once, hs with it. */
        VrtTlsAccept *acc = vrt_tls_accept(l->tls, server->ctx, cfd, on_handshake_done, hs);
        if (acc)
            hs->acc = acc;
    } else {
        client_new(server, cfd, l->readonly, local, l->auth, NULL, l->admin);
    }
    /* May unwatch this listener too: then its source is destroyed here. */
    server_watch_listeners(server);
    return l->source ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
listener_free(VrtListener *l)
{
    if (l->source) {
        g_source_destroy(l->source);
        g_source_unref(l->source);
    }
    if (l->fd >= 0)
        close(l->fd);
    if (l->path)
        unlink(l->path);
    g_free(l->path);
    g_free(l);
}

static bool
listener_add(VrtRpcServer *server, int fd, const char *path, bool readonly, VrtTlsContext *tls, int auth)
{
    VrtListener *l = g_new0(VrtListener, 1);
    l->server = server;
    l->fd = fd;
    l->readonly = readonly;
    l->tls = tls;
    l->auth = auth;
    l->path = g_strdup(path);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    listener_watch(l, listener_wanted(server, l));
    g_ptr_array_add(server->listeners, l);
    return true;
}

bool
vrt_rpc_server_add_unix(VrtRpcServer *server, const char *path, mode_t mode, gid_t gid, bool readonly, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "UNIX socket path '%s' is too long", path);
        return false;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create socket");
        return false;
    }
    unlink(path);
    /* Create the socket with the final mode so no client sees it wider. */
    mode_t old = umask(~mode & 0777);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (rc < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot bind socket to '%s'", path);
        close(fd);
        return false;
    }
    if (chmod(path, mode) < 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot set mode or group of '%s'", path);
        close(fd);
        unlink(path);
        return false;
    }
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot listen on '%s'", path);
        close(fd);
        unlink(path);
        return false;
    }
    return listener_add(server, fd, path, readonly, NULL, readonly ? server->unix_ro_auth : server->unix_auth);
}

bool
vrt_rpc_server_add_fd(VrtRpcServer *server, int fd, bool readonly, GError **error)
{
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "file descriptor %d is not a stream socket", fd);
        return false;
    }
    return listener_add(server, fd, NULL, readonly, NULL, readonly ? server->unix_ro_auth : server->unix_auth);
}

bool
vrt_rpc_server_add_fd_remote(VrtRpcServer *server, int fd, VrtTlsContext *tls, VrtRpcAuth auth, GError **error)
{
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "file descriptor %d is not a stream socket", fd);
        return false;
    }
    return listener_add(server, fd, NULL, false, tls, auth);
}

bool
vrt_rpc_server_add_tcp(VrtRpcServer *server, const char *addr, guint port, VrtTlsContext *tls, VrtRpcAuth auth,
                       GError **error)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_ADDRCONFIG, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    g_autofree char *service = g_strdup_printf("%u", port);
    const char *node = addr && *addr ? addr : NULL;
    int rc = getaddrinfo(node, service, &hints, &ai);
    guint added = 0;

    if (rc != 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to resolve address '%s' service '%s': %s", node ? node : "*",
                      service, gai_strerror(rc));
        return false;
    }
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        int one = 1;
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (p->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, p->ai_addr, p->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
            int saved = errno;
            close(fd);
            /* An IPv6 wildcard without IPv6 on the host is not an error. */
            if (saved == EADDRNOTAVAIL || saved == EAFNOSUPPORT)
                continue;
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, saved, "Unable to bind to port %s", service);
            freeaddrinfo(ai);
            return false;
        }
        listener_add(server, fd, NULL, false, tls, auth);
        added++;
    }
    freeaddrinfo(ai);
    if (!added) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "No addresses to bind to for '%s' port %s", node ? node : "*",
                      service);
        return false;
    }
    return true;
}

void
vrt_rpc_server_set_unix_auth(VrtRpcServer *server, VrtRpcAuth auth)
{
    server->unix_auth = auth;
}

void
vrt_rpc_server_set_calls_on_workers(VrtRpcServer *server)
{
    server->no_io_thread_calls = true;
}

void
vrt_rpc_server_set_unix_ro_auth(VrtRpcServer *server, VrtRpcAuth auth)
{
    server->unix_ro_auth = auth;
}

void
vrt_rpc_server_stop_accepting(VrtRpcServer *server)
{
    g_ptr_array_set_size(server->listeners, 0);
}

/* A list of the server's clients, each a reference (takes the server lock). */
static GList *
server_ref_clients(VrtRpcServer *server)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);
    GList *clients = g_hash_table_get_keys(server->clients);

    for (GList *l = clients; l; l = l->next)
        vrt_server_client_ref(l->data);
    return clients;
}

/* Writes what the socket takes of client's output now: true when nothing
 * is left to write (takes the client lock). */
static bool
client_flush_done(VrtServerClient *client)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&client->lock);

    client_flush_locked(client);
    return g_queue_is_empty(&client->out) || client->closed;
}

guint
vrt_rpc_server_client_count(VrtRpcServer *server)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);

    return g_hash_table_size(server->clients);
}

/* ---- keepalive ---- */

static gboolean
on_keepalive_tick(gpointer opaque)
{
    VrtRpcServer *server = opaque;
    gint64 now = g_get_monotonic_time();
    gint64 interval = (gint64)server->limits.keepalive_interval * G_USEC_PER_SEC;
    g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_server_client_unref);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->lock);

        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, server->clients);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            VrtServerClient *client = key;
            if (!client->ka_enabled || now - client->last_rx < interval)
                continue;
            if (client->ka_unanswered >= server->limits.keepalive_count) {
                g_ptr_array_add(dead, vrt_server_client_ref(client));
                continue;
            }
            client->ka_unanswered++;
            client->last_rx = now;
            send_keepalive(client, VRT_KEEPALIVE_PROC_PING);
        }
    }
    for (guint i = 0; i < dead->len; i++) {
        VrtServerClient *client = g_ptr_array_index(dead, i);
        g_message("client fd %d did not answer %u keepalive messages: closing it", client->fd,
                  server->limits.keepalive_count);
        client_close_now(client);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- server ---- */

VrtRpcServer *
vrt_rpc_server_new(GMainContext *ctx, const VrtRpcServerLimits *limits, VrtDispatch dispatch, VrtClientHook on_connect,
                   VrtClientHook on_close, gpointer data, GError **error)
{
    g_autoptr(GError) local = NULL;
    VrtRpcServer *server = g_new0(VrtRpcServer, 1);
    server->ctx = g_main_context_ref(ctx);
    server->limits = *limits;
    if (server->limits.max_workers == 0)
        server->limits.max_workers = 1;
    if (server->limits.max_client_requests == 0)
        server->limits.max_client_requests = 1;
    if (server->limits.max_queued_requests == 0)
        server->limits.max_queued_requests = 1;
    if (server->limits.max_clients == 0)
        server->limits.max_clients = 1;
    g_mutex_init(&server->lock);
    g_mutex_init(&server->wake_lock);
    server->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    server->clients = g_hash_table_new(g_direct_hash, g_direct_equal);
    server->handshakes = g_ptr_array_new();
    server->dispatch = dispatch;
    server->on_connect = on_connect;
    server->on_close = on_close;
    server->hook_data = data;
    server->pool = vrt_workers_new(worker_run, server, server->limits.max_workers, &local);
    if (!server->pool) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot start worker threads: %s", local->message);
        vrt_rpc_server_free(server);
        return NULL;
    }
    if (server->limits.keepalive_interval > 0) {
        server->keepalive_source = g_timeout_source_new_seconds((guint)server->limits.keepalive_interval);
        g_source_set_callback(server->keepalive_source, on_keepalive_tick, server, NULL);
        g_source_attach(server->keepalive_source, ctx);
    }
    return server;
}

void
vrt_rpc_server_set_call_check(VrtRpcServer *server, VrtCallCheck check, gpointer data)
{
    server->check = check;
    server->check_data = data;
}

/* The table's error origins are libvirt's numbers, written out by the
 * generator (the protocol layer includes nothing of src/util/). */
G_STATIC_ASSERT(VRT_PROC_FROM_QEMU == VIR_FROM_QEMU);
G_STATIC_ASSERT(VRT_PROC_FROM_REMOTE == VIR_FROM_REMOTE);
G_STATIC_ASSERT(VRT_PROC_FROM_NETWORK == VIR_FROM_NETWORK);
G_STATIC_ASSERT(VRT_PROC_FROM_NODEDEV == VIR_FROM_NODEDEV);
G_STATIC_ASSERT(VRT_PROC_FROM_SECRET == VIR_FROM_SECRET);
G_STATIC_ASSERT(VRT_PROC_FROM_DOMAIN_SNAPSHOT == VIR_FROM_DOMAIN_SNAPSHOT);
G_STATIC_ASSERT(VRT_PROC_FROM_DOMAIN == VIR_FROM_DOMAIN);
G_STATIC_ASSERT(VRT_PROC_FROM_STORAGE == VIR_FROM_STORAGE);
G_STATIC_ASSERT(VRT_PROC_FROM_INTERFACE == VIR_FROM_INTERFACE);
G_STATIC_ASSERT(VRT_PROC_FROM_NWFILTER == VIR_FROM_NWFILTER);
G_STATIC_ASSERT(VRT_PROC_FROM_ADMIN == VIR_FROM_ADMIN);

bool
vrt_rpc_readonly_check(const VrtProcInfo *info, const void *args, GError **error)
{
    switch (vrt_proc_readonly_verdict(info, args)) {
    case VRT_PROC_RO_ALLOWED: return true;
    case VRT_PROC_RO_DENIED_SECRET:
        vrt_error_set(error, VIR_ERR_OPERATION_DENIED, "%s with secure flag", info->api);
        return false;
    case VRT_PROC_RO_DENIED_WRITE: break;
    }
    vrt_error_set(error, VIR_ERR_OPERATION_DENIED, "read only access prevents %s", info->api);
    return false;
}

bool
vrt_rpc_flags_check(const VrtProcInfo *info, const void *args, GError **error)
{
    unsigned int bad = vrt_proc_unsupported_flags(info, args);

    if (!bad)
        return true;
    vrt_error_set_flags(error, bad, info->flags_func);
    return false;
}

void
vrt_rpc_server_free(VrtRpcServer *server)
{
    if (!server)
        return;
    g_atomic_int_set(&server->stopping, 1);
    g_ptr_array_free(server->listeners, TRUE);
    /* TLS handshakes under way: their connections are closed. */
    for (guint i = 0; i < server->handshakes->len; i++) {
        Handshake *hs = g_ptr_array_index(server->handshakes, i);
        vrt_tls_accept_cancel(hs->acc);
        g_free(hs);
    }
    g_ptr_array_free(server->handshakes, TRUE);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&server->wake_lock);

        if (server->wake_source) {
            g_source_destroy(server->wake_source);
            g_clear_pointer(&server->wake_source, g_source_unref);
        }
    }
    if (server->keepalive_source) {
        g_source_destroy(server->keepalive_source);
        g_source_unref(server->keepalive_source);
    }
    /* Calls in flight finish and queue their replies. */
    if (server->pool)
        vrt_workers_free(server->pool);

    GList *clients = server_ref_clients(server);

    for (GList *l = clients; l; l = l->next) {
        VrtServerClient *client = l->data;
        gint64 deadline = g_get_monotonic_time() + SHUTDOWN_FLUSH_MS * 1000;
        for (;;) {
            if (client_flush_done(client) || g_get_monotonic_time() > deadline)
                break;
            g_usleep(1000);
        }
        client_close_now(client);
        vrt_server_client_unref(client);
    }
    g_list_free(clients);
    g_hash_table_destroy(server->clients);
    g_mutex_clear(&server->lock);
    g_mutex_clear(&server->wake_lock);
    g_main_context_unref(server->ctx);
    g_free(server);
}

/* ---- the admin interface (daemon/remote_admin.c) ---- */

bool
vrt_rpc_server_add_admin_unix(VrtRpcServer *server, const char *path, GError **error)
{
    if (!vrt_rpc_server_add_unix(server, path, 0700, (gid_t)-1, false, error))
        return false;
    VrtListener *l = g_ptr_array_index(server->listeners, server->listeners->len - 1);
    l->admin = true;
    /* Root alone reaches it (mode 0700): no authentication beyond that. */
    l->auth = VRT_RPC_AUTH_NONE;
    return true;
}

GList *
vrt_rpc_server_ref_clients(VrtRpcServer *server, bool admin)
{
    GList *all = server_ref_clients(server);
    GList *out = NULL;

    for (GList *l = all; l; l = l->next) {
        VrtServerClient *client = l->data;
        if (client->admin == admin && !client->closed)
            out = g_list_prepend(out, vrt_server_client_ref(client));
    }
    g_list_free_full(all, (GDestroyNotify)vrt_server_client_unref);
    return out;
}

void
vrt_server_client_get_admin_info(VrtServerClient *client, VrtServerClientAdminInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->id = client->id;
    info->timestamp = client->connect_time;
    info->transport = client->transport_kind;
    info->readonly = client->readonly;
    info->admin = client->admin;
    info->authenticated = g_atomic_int_get(&client->authenticated);
    info->pid = client->pid;
    info->uid = client->uid;
    info->gid = client->gid;
    if (!client->local) {
        struct sockaddr_storage addr;
        socklen_t alen = sizeof(addr);
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (getpeername(client->fd, (struct sockaddr *)&addr, &alen) == 0 &&
            getnameinfo((struct sockaddr *)&addr, alen, host, sizeof(host), serv, sizeof(serv),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            /* libvirt's form of a socket address: "HOST;PORT". */
            info->sock_addr = g_strdup_printf("%s;%s", host, serv);
    }
}

static gboolean
client_close_idle_cb(gpointer opaque)
{
    client_close_now(opaque);
    return G_SOURCE_REMOVE;
}

void
vrt_server_client_close(VrtServerClient *client)
{
    /* From the I/O thread's next turn, so a client may be closed from its
     * own call, whose reply is then dropped with the connection. */
    GSource *idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    g_source_unref(client_attach(client, idle, client_close_idle_cb));
}

void
vrt_rpc_server_get_workers(VrtRpcServer *server, VrtRpcServerWorkers *workers)
{
    workers->max_workers = vrt_workers_get_max(server->pool);
    workers->n_workers = vrt_workers_get_num_threads(server->pool);
    guint busy = (guint)MAX(g_atomic_int_get(&server->busy_workers), 0);
    workers->free_workers = workers->n_workers > busy ? workers->n_workers - busy : 0;
    workers->job_queue_depth = vrt_workers_unprocessed(server->pool);
}

bool
vrt_rpc_server_set_max_workers(VrtRpcServer *server, guint max_workers, GError **error)
{
    (void)error; /* nothing fails: new threads start when calls need them */
    vrt_workers_set_max(server->pool, max_workers);
    server->limits.max_workers = max_workers;
    return true;
}

void
vrt_rpc_server_get_client_counts(VrtRpcServer *server, guint *nclients, guint *nclients_unauth)
{
    GList *clients = vrt_rpc_server_ref_clients(server, false);

    *nclients = 0;
    *nclients_unauth = 0;
    for (GList *l = clients; l; l = l->next) {
        VrtServerClient *client = l->data;
        (*nclients)++;
        if (!g_atomic_int_get(&client->authenticated))
            (*nclients_unauth)++;
    }
    g_list_free_full(clients, (GDestroyNotify)vrt_server_client_unref);
}

guint
vrt_rpc_server_get_max_clients(VrtRpcServer *server)
{
    return server->limits.max_clients;
}

guint
vrt_rpc_server_get_max_unauth_clients(VrtRpcServer *server)
{
    return server->limits.max_unauth_clients;
}

void
vrt_rpc_server_set_max_unauth_clients(VrtRpcServer *server, guint max_unauth_clients)
{
    server->limits.max_unauth_clients = max_unauth_clients;
    server_watch_listeners(server);
}

void
vrt_rpc_server_set_max_clients(VrtRpcServer *server, guint max_clients)
{
    server->limits.max_clients = MAX(max_clients, 1);
    /* Stops or starts accepting at once (the I/O thread runs admin calls). */
    server_watch_listeners(server);
}

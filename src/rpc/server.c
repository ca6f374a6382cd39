/*
 * RPC server: sockets, framing, dispatch to the generated procedure table,
 * worker pool, replies and keepalive. See server.h for the threading rules.
 */
#include "rpc/server.h"
#include "rpc/message.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_MAX_CLIENTS 5000
#define DEFAULT_MAX_WORKERS 20
#define DEFAULT_MAX_CLIENT_REQUESTS 5
#define DEFAULT_MAX_QUEUED_REQUESTS 1000
#define DEFAULT_KEEPALIVE_INTERVAL 5
#define DEFAULT_KEEPALIVE_COUNT 5
/* Replies and events queued for one client before it is dropped as stuck. */
#define MAX_OUT_QUEUE_BYTES (64u * 1024 * 1024)
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
    char *path;      /* unlinked at shutdown when we created it */
    GSource *source;
} VrtListener;

struct _VrtServerClient {
    gint ref;
    VrtRpcServer *server;    /* valid while !detached */
    GMainContext *ctx;
    int fd;
    bool readonly;
    pid_t pid;
    uid_t uid;
    gid_t gid;

    /* I/O thread only */
    GByteArray *inbuf;       /* received bytes not yet handled as frames */
    GSource *in_source;
    bool ka_enabled;
    gint64 last_rx;
    guint ka_unanswered;

    /* under lock */
    GMutex lock;
    GQueue out;              /* GBytes* */
    gsize out_off;
    gsize out_bytes;
    GSource *out_source;
    bool closing;            /* close once the queue is empty */
    bool closed;
    bool read_paused;
    guint inflight;
    GQueue pending;          /* VrtCall* waiting for a worker slot */

    gpointer data;
    GDestroyNotify data_destroy;
};

struct _VrtCall {
    VrtServerClient *client;
    vrt_net_header hdr;
    const VrtProcInfo *info;
    guint8 *frame;
    gsize len;
};

struct _VrtRpcServer {
    GMainContext *ctx;
    VrtRpcServerLimits limits;
    GThreadPool *pool;
    GMutex lock;
    GPtrArray *listeners;
    GHashTable *clients;     /* VrtServerClient* -> itself (holds a ref) */
    VrtClientHook on_connect;
    VrtClientHook on_close;
    gpointer hook_data;
    VrtCallCheck check;
    gpointer check_data;
    GSource *keepalive_source;
    gint stopping;
};

static void client_close_now(VrtServerClient *client);
static void client_flush_locked(VrtServerClient *client);
static void client_start_reading(VrtServerClient *client);
static bool client_process_input(VrtServerClient *client);

void
vrt_rpc_server_limits_init(VrtRpcServerLimits *limits)
{
    limits->max_clients = DEFAULT_MAX_CLIENTS;
    limits->max_workers = DEFAULT_MAX_WORKERS;
    limits->max_client_requests = DEFAULT_MAX_CLIENT_REQUESTS;
    limits->max_queued_requests = DEFAULT_MAX_QUEUED_REQUESTS;
    limits->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
    limits->keepalive_count = DEFAULT_KEEPALIVE_COUNT;
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
vrt_server_client_get_peer(VrtServerClient *client, pid_t *pid, uid_t *uid, gid_t *gid)
{
    if (pid)
        *pid = client->pid;
    if (uid)
        *uid = client->uid;
    if (gid)
        *gid = client->gid;
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

static gboolean
on_client_writable(int fd, GIOCondition cond, gpointer opaque)
{
    VrtServerClient *client = opaque;
    g_mutex_lock(&client->lock);
    g_clear_pointer(&client->out_source, g_source_unref);
    client_flush_locked(client);
    bool close_now = client->closing && g_queue_is_empty(&client->out) && !client->closed;
    g_mutex_unlock(&client->lock);
    if (close_now)
        client_close_now(client);
    return G_SOURCE_REMOVE;
}

/* Writes what the socket takes now; arms a write watch for the rest. */
static void
client_flush_locked(VrtServerClient *client)
{
    while (!client->closed && !g_queue_is_empty(&client->out)) {
        GBytes *head = g_queue_peek_head(&client->out);
        gsize size;
        const guint8 *data = g_bytes_get_data(head, &size);
        ssize_t n = send(client->fd, data + client->out_off, size - client->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!client->out_source) {
                    client->out_source = g_unix_fd_source_new(client->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP);
                    g_source_set_callback(client->out_source, (GSourceFunc)(void (*)(void))on_client_writable,
                                          vrt_server_client_ref(client), (GDestroyNotify)vrt_server_client_unref);
                    g_source_attach(client->out_source, client->ctx);
                }
                return;
            }
            g_debug("client fd %d: write failed: %s", client->fd, g_strerror(errno));
            /* The read side sees the error too and closes the client. */
            g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
            client->out_off = 0;
            client->out_bytes = 0;
            shutdown(client->fd, SHUT_RDWR);
            return;
        }
        client->out_off += (gsize)n;
        if (client->out_off == size) {
            g_bytes_unref(g_queue_pop_head(&client->out));
            client->out_off = 0;
            client->out_bytes -= size;
        }
    }
}

/* Queues a complete frame; takes ownership of frame. */
static bool
client_queue(VrtServerClient *client, GBytes *frame)
{
    if (!frame)
        return false;
    g_mutex_lock(&client->lock);
    if (client->closed || client->out_bytes + g_bytes_get_size(frame) > MAX_OUT_QUEUE_BYTES) {
        bool overflow = !client->closed;
        g_mutex_unlock(&client->lock);
        g_bytes_unref(frame);
        if (overflow) {
            g_warning("client fd %d does not read its replies: dropping it", client->fd);
            shutdown(client->fd, SHUT_RDWR);
        }
        return false;
    }
    client->out_bytes += g_bytes_get_size(frame);
    g_queue_push_tail(&client->out, frame);
    if (!client->out_source)
        client_flush_locked(client);
    g_mutex_unlock(&client->lock);
    return true;
}

bool
vrt_server_client_send_event(VrtServerClient *client, int proc, xdrproc_t filter, const void *msg)
{
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, proc, VRT_NET_MESSAGE, 0, VRT_NET_OK };
    g_autoptr(GError) err = NULL;
    GBytes *frame = vrt_message_encode(&hdr, filter, msg, &err);
    if (!frame) {
        g_warning("cannot encode event %d: %s", proc, err->message);
        return false;
    }
    return client_queue(client, frame);
}

static void
send_keepalive(VrtServerClient *client, int proc)
{
    vrt_net_header hdr = { VRT_KEEPALIVE_PROGRAM, VRT_KEEPALIVE_VERSION, proc, VRT_NET_MESSAGE, 0, VRT_NET_OK };
    client_queue(client, vrt_message_encode(&hdr, NULL, NULL, NULL));
}

void
vrt_server_client_enable_keepalive(VrtServerClient *client)
{
    client->ka_enabled = true;
}

void
vrt_server_client_close(VrtServerClient *client)
{
    g_mutex_lock(&client->lock);
    client->closing = true;
    bool now = g_queue_is_empty(&client->out) && !client->closed;
    g_mutex_unlock(&client->lock);
    if (now)
        shutdown(client->fd, SHUT_RDWR); /* the I/O thread sees EOF and closes */
}

/* ---- calls ---- */

static void
call_free(VrtCall *call)
{
    g_free(call->frame);
    vrt_server_client_unref(call->client);
    g_free(call);
}

static void
reply_error(VrtServerClient *client, const vrt_net_header *call, const GError *err, int origin)
{
    client_queue(client, vrt_message_encode_error(call, err, origin));
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

    if (info->args_size) {
        /* A failed decode has freed what it had decoded. */
        ok = decoded = vrt_message_decode_payload(call->frame, call->len, info->args_filter, args, &err);
    } else {
        ok = call->len == VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;
        if (!ok)
            vrt_error_set(&err, VIR_ERR_RPC, "%s", "unexpected payload for a procedure without arguments");
    }
    if (ok && server->check)
        ok = server->check(call, info, args, server->check_data, &err);
    if (ok)
        ok = vrt_dispatch_func(info)(call, args, ret, &err);

    if (ok) {
        vrt_net_header hdr = call->hdr;
        hdr.type = VRT_NET_REPLY;
        hdr.status = VRT_NET_OK;
        GError *enc_err = NULL;
        GBytes *frame = vrt_message_encode(&hdr, info->ret_size ? info->ret_filter : NULL, ret, &enc_err);
        if (frame)
            client_queue(call->client, frame);
        else {
            reply_error(call->client, &call->hdr, enc_err, info->origin);
            g_error_free(enc_err);
        }
    } else {
        g_debug("proc %s failed: %s", info->name, err ? err->message : "?");
        reply_error(call->client, &call->hdr, err, info->origin);
    }
    /* A handler that failed may have filled part of its reply. */
    if (info->ret_size)
        vrt_message_free_payload(info->ret_filter, ret);
    if (decoded)
        vrt_message_free_payload(info->args_filter, args);
}

static gboolean
resume_reading_cb(gpointer opaque)
{
    VrtServerClient *client = opaque;
    g_mutex_lock(&client->lock);
    bool resume = client->read_paused && !client->closed;
    client->read_paused = false;
    g_mutex_unlock(&client->lock);
    if (!resume)
        return G_SOURCE_REMOVE;
    /* Frames already received run first; they may fill the queue again. */
    if (!client_process_input(client)) {
        client_close_now(client);
        return G_SOURCE_REMOVE;
    }
    g_mutex_lock(&client->lock);
    bool paused = client->read_paused;
    g_mutex_unlock(&client->lock);
    if (!paused)
        client_start_reading(client);
    return G_SOURCE_REMOVE;
}

static void
worker_run(gpointer data, gpointer user_data)
{
    VrtCall *call = data;
    VrtRpcServer *server = user_data;
    VrtServerClient *client = vrt_server_client_ref(call->client);

    for (;;) {
        run_call(call);
        call_free(call);
        call = NULL;
        g_mutex_lock(&client->lock);
        if (!g_queue_is_empty(&client->pending) && g_atomic_int_get(&server->stopping)) {
            /* Shutting down: the pool takes no new work, so run it here. */
            call = g_queue_pop_head(&client->pending);
        } else if (!g_queue_is_empty(&client->pending)) {
            g_thread_pool_push(server->pool, g_queue_pop_head(&client->pending), NULL);
        } else {
            client->inflight--;
        }
        bool resume = client->read_paused && g_queue_get_length(&client->pending) < server->limits.max_queued_requests;
        g_mutex_unlock(&client->lock);
        if (resume)
            g_main_context_invoke_full(client->ctx, G_PRIORITY_DEFAULT, resume_reading_cb,
                                       vrt_server_client_ref(client), (GDestroyNotify)vrt_server_client_unref);
        if (!call)
            break;
    }
    vrt_server_client_unref(client);
}

/* Handles one complete frame read from client; takes ownership of frame. */
static bool
handle_frame(VrtServerClient *client, guint8 *frame, gsize len)
{
    VrtRpcServer *server = client->server;
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
    if (hdr.type != VRT_NET_CALL && hdr.type != VRT_NET_CALL_WITH_FDS) {
        /* Streams and stray replies: vrt has none; ignore them. */
        g_free(frame);
        return true;
    }
    if (hdr.prog != VRT_REMOTE_PROGRAM || hdr.vers != VRT_REMOTE_VERSION) {
        vrt_error_set(&err, VIR_ERR_RPC, "cannot find program %u version %u", hdr.prog, hdr.vers);
        reply_error(client, &hdr, err, VIR_FROM_RPC);
        g_free(frame);
        return true;
    }
    const VrtProcInfo *info = vrt_proc_lookup(hdr.proc);
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
    /* Before the arguments are decoded; refused flags need them (the call check). */
    if (client->readonly && !vrt_proc_readonly_check(info, NULL, &err)) {
        reply_error(client, &hdr, err, info->origin);
        g_free(frame);
        return true;
    }

    VrtCall *call = g_new0(VrtCall, 1);
    call->client = vrt_server_client_ref(client);
    call->hdr = hdr;
    call->info = info;
    call->frame = frame;
    call->len = len;

    if (info->high_priority) {
        run_call(call);
        call_free(call);
        return true;
    }
    g_mutex_lock(&client->lock);
    if (client->inflight < server->limits.max_client_requests) {
        client->inflight++;
        g_thread_pool_push(server->pool, call, NULL);
    } else {
        g_queue_push_tail(&client->pending, call);
        if (g_queue_get_length(&client->pending) >= server->limits.max_queued_requests)
            client->read_paused = true;
    }
    g_mutex_unlock(&client->lock);
    return true;
}

/* Handles the complete frames in the client's input buffer, in order, until
 * it holds none or the client's queue is full. False when the client must
 * be closed (a bad frame). I/O thread only. */
static bool
client_process_input(VrtServerClient *client)
{
    while (client->inbuf->len >= VRT_MESSAGE_LEN_SIZE) {
        guint32 total;
        g_autoptr(GError) err = NULL;
        if (!vrt_message_decode_length(client->inbuf->data, &total, &err)) {
            g_message("client fd %d: %s; closing", client->fd, err->message);
            return false;
        }
        if (client->inbuf->len < total)
            return true;
        guint8 *frame = g_memdup2(client->inbuf->data, total);
        g_byte_array_remove_range(client->inbuf, 0, total);
        if (!handle_frame(client, frame, total))
            return false;
        g_mutex_lock(&client->lock);
        bool paused = client->read_paused;
        g_mutex_unlock(&client->lock);
        if (paused)
            return true;
    }
    return true;
}

static gboolean
on_client_readable(int fd, GIOCondition cond, gpointer opaque)
{
    VrtServerClient *client = opaque;
    guint8 buf[READ_CHUNK];

    for (int rounds = 0; rounds < READ_ROUNDS; rounds++) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return G_SOURCE_CONTINUE;
        if (n <= 0 || !(g_byte_array_append(client->inbuf, buf, (guint)n), client_process_input(client))) {
            client_close_now(client);
            return G_SOURCE_REMOVE;
        }
        g_mutex_lock(&client->lock);
        bool paused = client->read_paused;
        g_mutex_unlock(&client->lock);
        if (paused) {
            g_clear_pointer(&client->in_source, g_source_unref);
            return G_SOURCE_REMOVE;
        }
        /* A short read drained the socket: wait for poll instead of an EAGAIN. */
        if ((size_t)n < sizeof(buf))
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

/* Closes a client on the I/O thread: no more reads or writes; its calls in
 * the workers finish and their replies are dropped. */
static void
client_close_now(VrtServerClient *client)
{
    VrtRpcServer *server = client->server;
    g_mutex_lock(&client->lock);
    if (client->closed) {
        g_mutex_unlock(&client->lock);
        return;
    }
    client->closed = true;
    if (client->out_source)
        g_source_destroy(client->out_source);
    g_clear_pointer(&client->out_source, g_source_unref);
    GQueue pending = client->pending;
    g_queue_init(&client->pending);
    g_mutex_unlock(&client->lock);
    g_queue_clear_full(&pending, (GDestroyNotify)call_free);

    if (client->in_source) {
        g_source_destroy(client->in_source);
        g_clear_pointer(&client->in_source, g_source_unref);
    }
    shutdown(client->fd, SHUT_RDWR);
    g_debug("client fd %d closed", client->fd);
    if (server->on_close)
        server->on_close(client, server->hook_data);
    g_mutex_lock(&server->lock);
    bool removed = g_hash_table_steal(server->clients, client);
    g_mutex_unlock(&server->lock);
    if (removed)
        vrt_server_client_unref(client);
}

/* ---- listeners ---- */

static gboolean
on_listener_ready(int fd, GIOCondition cond, gpointer opaque)
{
    VrtListener *l = opaque;
    VrtRpcServer *server = l->server;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            g_warning("accept failed: %s", g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    g_mutex_lock(&server->lock);
    guint n = g_hash_table_size(server->clients);
    g_mutex_unlock(&server->lock);
    if (n >= server->limits.max_clients) {
        g_message("refusing a connection: %u clients is the limit (max_clients)", server->limits.max_clients);
        close(cfd);
        return G_SOURCE_CONTINUE;
    }
    VrtServerClient *client = g_new0(VrtServerClient, 1);
    client->ref = 1;
    client->server = server;
    client->ctx = g_main_context_ref(server->ctx);
    client->fd = cfd;
    client->readonly = l->readonly;
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
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
        client->pid = cred.pid;
        client->uid = cred.uid;
        client->gid = cred.gid;
    }
    g_mutex_lock(&server->lock);
    g_hash_table_add(server->clients, client);
    g_mutex_unlock(&server->lock);
    g_debug("client fd %d connected (pid %d uid %d%s)", cfd, (int)client->pid, (int)client->uid,
            client->readonly ? ", read-only" : "");
    if (server->on_connect)
        server->on_connect(client, server->hook_data);
    client_start_reading(client);
    return G_SOURCE_CONTINUE;
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
listener_add(VrtRpcServer *server, int fd, const char *path, bool readonly)
{
    VrtListener *l = g_new0(VrtListener, 1);
    l->server = server;
    l->fd = fd;
    l->readonly = readonly;
    l->path = g_strdup(path);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    l->source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))on_listener_ready, l, NULL);
    g_source_attach(l->source, server->ctx);
    g_ptr_array_add(server->listeners, l);
    return true;
}

bool
vrt_rpc_server_add_unix(VrtRpcServer *server, const char *path, mode_t mode, gid_t gid, bool readonly,
                        GError **error)
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
    if (listen(fd, 128) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot listen on '%s'", path);
        close(fd);
        unlink(path);
        return false;
    }
    return listener_add(server, fd, path, readonly);
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
    return listener_add(server, fd, NULL, readonly);
}

void
vrt_rpc_server_stop_accepting(VrtRpcServer *server)
{
    g_ptr_array_set_size(server->listeners, 0);
}

guint
vrt_rpc_server_client_count(VrtRpcServer *server)
{
    g_mutex_lock(&server->lock);
    guint n = g_hash_table_size(server->clients);
    g_mutex_unlock(&server->lock);
    return n;
}

/* ---- keepalive ---- */

static gboolean
on_keepalive_tick(gpointer opaque)
{
    VrtRpcServer *server = opaque;
    gint64 now = g_get_monotonic_time();
    gint64 interval = (gint64)server->limits.keepalive_interval * G_USEC_PER_SEC;
    g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_server_client_unref);

    g_mutex_lock(&server->lock);
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
    g_mutex_unlock(&server->lock);
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
vrt_rpc_server_new(GMainContext *ctx, const VrtRpcServerLimits *limits, VrtClientHook on_connect,
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
    g_mutex_init(&server->lock);
    server->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    server->clients = g_hash_table_new(g_direct_hash, g_direct_equal);
    server->on_connect = on_connect;
    server->on_close = on_close;
    server->hook_data = data;
    server->pool = g_thread_pool_new(worker_run, server, (gint)server->limits.max_workers, FALSE, &local);
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

void
vrt_rpc_server_free(VrtRpcServer *server)
{
    if (!server)
        return;
    g_atomic_int_set(&server->stopping, 1);
    g_ptr_array_free(server->listeners, TRUE);
    if (server->keepalive_source) {
        g_source_destroy(server->keepalive_source);
        g_source_unref(server->keepalive_source);
    }
    /* Calls in flight finish and queue their replies. */
    if (server->pool)
        g_thread_pool_free(server->pool, FALSE, TRUE);

    g_mutex_lock(&server->lock);
    GList *clients = g_hash_table_get_keys(server->clients);
    for (GList *l = clients; l; l = l->next)
        vrt_server_client_ref(l->data);
    g_mutex_unlock(&server->lock);
    for (GList *l = clients; l; l = l->next) {
        VrtServerClient *client = l->data;
        gint64 deadline = g_get_monotonic_time() + SHUTDOWN_FLUSH_MS * 1000;
        for (;;) {
            g_mutex_lock(&client->lock);
            client_flush_locked(client);
            bool empty = g_queue_is_empty(&client->out) || client->closed;
            g_mutex_unlock(&client->lock);
            if (empty || g_get_monotonic_time() > deadline)
                break;
            g_usleep(1000);
        }
        client_close_now(client);
        vrt_server_client_unref(client);
    }
    g_list_free(clients);
    g_hash_table_destroy(server->clients);
    g_mutex_clear(&server->lock);
    g_main_context_unref(server->ctx);
    g_free(server);
}

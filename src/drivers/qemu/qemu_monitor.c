/*
 * QMP client: one UNIX socket per QEMU, newline-delimited JSON, replies
 * matched to commands by "id". The socket is only touched on the event
 * thread; workers enqueue a command and sleep on the monitor's GCond (see the
 * contract in qemu_monitor.h).
 */
#include "drivers/qemu/qemu_monitor.h"
#include "util/error.h"
#include "util/proc.h"

#include <glib-unix.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MONITOR_READ_CHUNK 65536
#define MONITOR_MAX_LINE (16 * 1024 * 1024)
#define MONITOR_CONNECT_RETRY_US 1000
#define MONITOR_GREETING_TIMEOUT_MS 10000

/* ---- event thread ---- */

struct _VrtQemuEventThread {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
};

static gpointer
event_thread_run(gpointer data)
{
    VrtQemuEventThread *thr = data;

    g_main_context_push_thread_default(thr->ctx);
    g_main_loop_run(thr->loop);
    g_main_context_pop_thread_default(thr->ctx);
    return NULL;
}

VrtQemuEventThread *
vrt_qemu_event_thread_new(const char *name)
{
    VrtQemuEventThread *thr = g_new0(VrtQemuEventThread, 1);

    thr->ctx = g_main_context_new();
    thr->loop = g_main_loop_new(thr->ctx, FALSE);
    thr->thread = g_thread_new(name ? name : "vrt-qemu-event", event_thread_run, thr);
    return thr;
}

GMainContext *
vrt_qemu_event_thread_context(VrtQemuEventThread *thr)
{
    return thr->ctx;
}

static gboolean
event_thread_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void
vrt_qemu_event_thread_free(VrtQemuEventThread *thr)
{
    if (!thr)
        return;
    /* Quit from inside the loop so that everything queued before runs first. */
    g_main_context_invoke(thr->ctx, event_thread_quit, thr->loop);
    g_thread_join(thr->thread);
    g_main_loop_unref(thr->loop);
    g_main_context_unref(thr->ctx);
    g_free(thr);
}

/* ---- monitor ---- */

typedef struct {
    JsonNode *reply; /* the whole reply message */
    bool done;
} PendingCommand;

typedef struct {
    GSource base;
    VrtQemuMonitor *mon;
} MonitorSource;

struct _VrtQemuMonitor {
    gint refs;
    GMutex lock;
    GCond cond;
    int fd;
    GMainContext *ctx;
    GSource *source;
    gpointer fd_tag;
    GString *inbuf;
    GString *outbuf; /* bytes not yet written; guarded by lock */
    /* a descriptor to pass (SCM_RIGHTS, getfd) with the byte of outbuf at
     * send_fd_at, -1 when none; owned, guarded by lock */
    int send_fd;
    gsize send_fd_at;
    bool write_armed; /* event thread waits for POLLOUT */
    bool greeted;
    bool closed; /* connection ended or was closed */
    bool closing; /* the owner closed it: no more callbacks */
    guint callbacks_running;
    guint64 next_id;
    GHashTable *pending; /* id -> PendingCommand* (on the caller's stack) */
    VrtQemuMonitorCallbacks cb;
    gpointer opaque;
    char *path;
};

VrtQemuMonitor *
vrt_qemu_monitor_ref(VrtQemuMonitor *mon)
{
    g_atomic_int_inc(&mon->refs);
    return mon;
}

void
vrt_qemu_monitor_unref(VrtQemuMonitor *mon)
{
    if (!mon || !g_atomic_int_dec_and_test(&mon->refs))
        return;
    if (mon->fd >= 0)
        close(mon->fd);
    if (mon->send_fd >= 0)
        close(mon->send_fd);
    g_string_free(mon->inbuf, TRUE);
    g_string_free(mon->outbuf, TRUE);
    g_hash_table_unref(mon->pending);
    g_mutex_clear(&mon->lock);
    g_cond_clear(&mon->cond);
    if (mon->ctx)
        g_main_context_unref(mon->ctx);
    g_free(mon->path);
    g_free(mon);
}

bool
vrt_qemu_monitor_is_closed(VrtQemuMonitor *mon)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

    return mon->closed;
}

/* Marks the connection ended and wakes every waiter. mon->lock held. */
static void
monitor_mark_closed_locked(VrtQemuMonitor *mon)
{
    mon->closed = true;
    g_cond_broadcast(&mon->cond);
}

/* Hands event name of msg to the raw_event callback with QEMU's timestamp
 * and its data as text. */
static void
monitor_raw_event(VrtQemuMonitor *mon, JsonObject *msg, const char *name, JsonObject *data)
{
    gint64 seconds = -1;
    guint micros = 0;
    g_autofree char *details = NULL;
    JsonNode *ts = json_object_get_member(msg, "timestamp");

    if (ts && JSON_NODE_HOLDS_OBJECT(ts)) {
        JsonObject *t = json_node_get_object(ts);

        seconds = json_object_get_int_member_with_default(t, "seconds", -1);
        micros = (guint)json_object_get_int_member_with_default(t, "microseconds", 0);
    }
    if (data) {
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), data);

        details = json_to_string(node, FALSE);
    }
    mon->cb.raw_event(mon, name, seconds, micros, details, mon->opaque);
}

static void
monitor_handle_message(VrtQemuMonitor *mon, JsonNode *msg)
{
    JsonObject *obj;

    if (!JSON_NODE_HOLDS_OBJECT(msg))
        return;
    obj = json_node_get_object(msg);

    if (json_object_has_member(obj, "QMP")) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

            mon->greeted = true;
            g_cond_broadcast(&mon->cond);
        }
        return;
    }

    if (json_object_has_member(obj, "event")) {
        const char *name = json_object_get_string_member_with_default(obj, "event", NULL);
        JsonObject *data = NULL;
        bool deliver;

        if (json_object_has_member(obj, "data") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(obj, "data")))
            data = json_object_get_object_member(obj, "data");
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

            deliver = !mon->closing && name && mon->cb.event;
            if (deliver)
                mon->callbacks_running++;
        }
        if (!deliver)
            return;
        g_debug("qemu monitor %s: event %s", mon->path, name);
        mon->cb.event(mon, name, data, mon->opaque);
        if (mon->cb.raw_event)
            monitor_raw_event(mon, obj, name, data);
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

            mon->callbacks_running--;
            g_cond_broadcast(&mon->cond);
        }
        return;
    }

    if (json_object_has_member(obj, "id")) {
        JsonNode *idn = json_object_get_member(obj, "id");
        PendingCommand *pc;

        if (!JSON_NODE_HOLDS_VALUE(idn) || json_node_get_value_type(idn) != G_TYPE_STRING)
            return;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

            pc = g_hash_table_lookup(mon->pending, json_node_get_string(idn));
            if (pc && !pc->done) {
                pc->reply = json_node_ref(msg);
                pc->done = true;
                g_cond_broadcast(&mon->cond);
            }
        }
        return;
    }
    /* A reply without id (we always send one) or something unknown: ignore. */
}

static void
monitor_process_input(VrtQemuMonitor *mon)
{
    char *nl;

    while ((nl = memchr(mon->inbuf->str, '\n', mon->inbuf->len))) {
        gsize linelen = nl - mon->inbuf->str;
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GError) err = NULL;

        if (linelen > 0 && !json_parser_load_from_data(parser, mon->inbuf->str, linelen, &err))
            g_warning("qemu monitor %s: malformed message dropped: %s", mon->path, err->message);
        else if (linelen > 0 && json_parser_get_root(parser))
            monitor_handle_message(mon, json_parser_get_root(parser));
        g_string_erase(mon->inbuf, 0, linelen + 1);
    }
}

/* send() of buf with fd attached as SCM_RIGHTS (QEMU's getfd takes it with
 * the command's first bytes). */
static ssize_t
send_with_fd(int sock, const char *buf, gsize len, int fd)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control = { 0 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* Writes what it can; true while the connection is usable. Event thread. */
static bool
monitor_flush(VrtQemuMonitor *mon)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

    while (mon->outbuf->len > 0) {
        ssize_t n;

        if (mon->send_fd >= 0 && mon->send_fd_at == 0) {
            n = send_with_fd(mon->fd, mon->outbuf->str, mon->outbuf->len, mon->send_fd);
            if (n > 0) {
                close(mon->send_fd);
                mon->send_fd = -1;
            }
        } else {
            /* bytes before a descriptor's command go alone */
            gsize len = mon->send_fd >= 0 ? mon->send_fd_at : mon->outbuf->len;

            n = send(mon->fd, mon->outbuf->str, len, MSG_NOSIGNAL);
            if (n > 0 && mon->send_fd >= 0)
                mon->send_fd_at -= n;
        }

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            g_debug("qemu monitor %s: write failed: %s", mon->path, g_strerror(errno));
            return false;
        }
        g_string_erase(mon->outbuf, 0, n);
    }
    if (mon->source && !g_source_is_destroyed(mon->source)) {
        bool want = mon->outbuf->len > 0;

        if (want != mon->write_armed) {
            g_source_modify_unix_fd(mon->source, mon->fd_tag, G_IO_IN | G_IO_HUP | G_IO_ERR | (want ? G_IO_OUT : 0));
            mon->write_armed = want;
        }
    }
    return true;
}

static void
monitor_report_eof(VrtQemuMonitor *mon)
{
    bool deliver;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

        monitor_mark_closed_locked(mon);
        deliver = !mon->closing && mon->cb.eof;
        if (deliver)
            mon->callbacks_running++;
    }
    g_debug("qemu monitor %s: end of connection", mon->path);
    if (!deliver)
        return;
    mon->cb.eof(mon, mon->opaque);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

        mon->callbacks_running--;
        g_cond_broadcast(&mon->cond);
    }
}

static gboolean
monitor_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    MonitorSource *ms = (MonitorSource *)source;
    VrtQemuMonitor *mon = ms->mon;
    GIOCondition cond = g_source_query_unix_fd(source, mon->fd_tag);

    if (cond & G_IO_OUT) {
        if (!monitor_flush(mon)) {
            monitor_report_eof(mon);
            return G_SOURCE_REMOVE;
        }
    }
    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        char buf[MONITOR_READ_CHUNK];
        ssize_t n = recv(mon->fd, buf, sizeof(buf), 0);

        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            return G_SOURCE_CONTINUE;
        if (n <= 0) {
            monitor_report_eof(mon);
            return G_SOURCE_REMOVE;
        }
        g_string_append_len(mon->inbuf, buf, n);
        if (mon->inbuf->len > MONITOR_MAX_LINE) {
            g_warning("qemu monitor %s: message over %d bytes, closing", mon->path, MONITOR_MAX_LINE);
            monitor_report_eof(mon);
            return G_SOURCE_REMOVE;
        }
        monitor_process_input(mon);
    }
    return G_SOURCE_CONTINUE;
}

static void
monitor_source_finalize(GSource *source)
{
    vrt_qemu_monitor_unref(((MonitorSource *)source)->mon);
}

static GSourceFuncs monitor_source_funcs = {
    .dispatch = monitor_source_dispatch,
    .finalize = monitor_source_finalize,
};

static gboolean
monitor_flush_idle(gpointer data)
{
    VrtQemuMonitor *mon = data;

    if (!vrt_qemu_monitor_is_closed(mon) && !monitor_flush(mon)) {
        /* The read side sees the same error and reports EOF. */
        g_debug("qemu monitor %s: flush failed", mon->path);
    }
    return G_SOURCE_REMOVE;
}

static int
monitor_connect_once(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

VrtQemuMonitor *
vrt_qemu_monitor_open(const char *path, GMainContext *ctx, pid_t alive_pid, guint connect_timeout_ms,
                      const VrtQemuMonitorCallbacks *cb, gpointer opaque, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)connect_timeout_ms * 1000;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    MonitorSource *ms;
    int fd;

    for (;;) {
        fd = monitor_connect_once(path);
        if (fd >= 0)
            break;
        if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN) {
            vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot connect to QEMU monitor at '%s'", path);
            return NULL;
        }
        if (alive_pid > 0 && !vrt_proc_pid_alive(NULL, alive_pid)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "QEMU exited before its monitor at '%s' was ready", path);
            return NULL;
        }
        if (g_get_monotonic_time() >= deadline) {
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT,
                          "QEMU monitor at '%s' did not accept a connection within %u ms", path, connect_timeout_ms);
            return NULL;
        }
        g_usleep(MONITOR_CONNECT_RETRY_US);
    }
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);

    mon = g_new0(VrtQemuMonitor, 1);
    mon->refs = 1;
    mon->fd = fd;
    g_mutex_init(&mon->lock);
    g_cond_init(&mon->cond);
    mon->ctx = g_main_context_ref(ctx);
    mon->inbuf = g_string_new(NULL);
    mon->outbuf = g_string_new(NULL);
    mon->send_fd = -1;
    mon->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (cb)
        mon->cb = *cb;
    mon->opaque = opaque;
    mon->path = g_strdup(path);

    ms = (MonitorSource *)g_source_new(&monitor_source_funcs, sizeof(MonitorSource));
    ms->mon = vrt_qemu_monitor_ref(mon);
    mon->source = &ms->base;
    mon->fd_tag = g_source_add_unix_fd(mon->source, fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_static_name(mon->source, "vrt-qemu-monitor");
    g_source_attach(mon->source, ctx);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);
        gint64 gdeadline = g_get_monotonic_time() + MONITOR_GREETING_TIMEOUT_MS * 1000;

        while (!mon->greeted && !mon->closed) {
            if (!g_cond_wait_until(&mon->cond, &mon->lock, gdeadline))
                break;
        }
        if (!mon->greeted) {
            bool closed = mon->closed;

            g_clear_pointer(&locker, g_mutex_locker_free);
            vrt_qemu_monitor_close(mon);
            if (closed)
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "QEMU unexpectedly closed the monitor at '%s'", path);
            else
                vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT, "no QMP greeting from QEMU monitor at '%s'", path);
            return NULL;
        }
    }

    if (!vrt_qemu_monitor_simple(mon, "qmp_capabilities", error)) {
        vrt_qemu_monitor_close(mon);
        return NULL;
    }
    return g_steal_pointer(&mon);
}

void
vrt_qemu_monitor_close(VrtQemuMonitor *mon)
{
    GSource *source;

    if (!mon)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

        mon->closing = true;
        monitor_mark_closed_locked(mon);
        source = g_steal_pointer(&mon->source);
        /* Callbacks must have returned before the owner may drop its state;
         * a callback calling close on its own thread would wait forever. */
        if (!g_main_context_is_owner(mon->ctx)) {
            while (mon->callbacks_running > 0)
                g_cond_wait(&mon->cond, &mon->lock);
        }
    }
    if (source) {
        g_source_destroy(source);
        g_source_unref(source);
    }
    /* The fd itself is closed with the last reference, after the event
     * thread can no longer be using it; shutdown tells QEMU now. */
    shutdown(mon->fd, SHUT_RDWR);
}

static JsonNode *monitor_exchange_fd(VrtQemuMonitor *mon, const char *cmd, JsonObject *msg, int fd, guint timeout_ms,
                                     GError **error);

/* Sends msg (a command object; its "id" is set here) and returns QEMU's
 * whole reply object; cmd names it in errors. */
static JsonNode *
monitor_exchange(VrtQemuMonitor *mon, const char *cmd, JsonObject *msg, guint timeout_ms, GError **error)
{
    return monitor_exchange_fd(mon, cmd, msg, -1, timeout_ms, error);
}

/* The same, passing a copy of fd (>= 0) with the command. */
static JsonNode *
monitor_exchange_fd(VrtQemuMonitor *mon, const char *cmd, JsonObject *msg, int fd, guint timeout_ms, GError **error)
{
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    g_autofree char *id = NULL;
    g_autofree char *text = NULL;
    PendingCommand pc = { 0 };
    gint64 deadline;
    bool timed_out = false;
    bool closed;

    if (g_main_context_is_owner(mon->ctx)) {
        /* It would wait for a reply only this thread can read. */
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "QMP command '%s' issued on the monitor thread", cmd);
        return NULL;
    }
    if (timeout_ms == 0)
        timeout_ms = VRT_QEMU_MONITOR_TIMEOUT_MS;
    deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

        if (mon->closed) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "QEMU unexpectedly closed the monitor");
            return NULL;
        }
        if (fd >= 0) {
            if (mon->send_fd >= 0) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "another file descriptor is being passed to QEMU");
                return NULL;
            }
            mon->send_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (mon->send_fd < 0) {
                vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot duplicate file descriptor %d", fd);
                return NULL;
            }
            mon->send_fd_at = mon->outbuf->len;
        }
        id = g_strdup_printf("vrt-%" G_GUINT64_FORMAT, ++mon->next_id);
        json_object_set_string_member(msg, "id", id);
        json_node_set_object(root, msg);
        text = json_to_string(root, FALSE);
        g_string_append(mon->outbuf, text);
        g_string_append(mon->outbuf, "\r\n");
        g_hash_table_insert(mon->pending, g_strdup(id), &pc);
    }

    g_main_context_invoke_full(mon->ctx, G_PRIORITY_DEFAULT, monitor_flush_idle, vrt_qemu_monitor_ref(mon),
                               (GDestroyNotify)vrt_qemu_monitor_unref);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->lock);

        while (!pc.done && !mon->closed) {
            if (!g_cond_wait_until(&mon->cond, &mon->lock, deadline)) {
                timed_out = !pc.done;
                break;
            }
        }
        g_hash_table_remove(mon->pending, id);
        closed = mon->closed;
    }

    if (!pc.done) {
        if (timed_out && !closed)
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT, "QEMU did not answer '%s' within %u ms", cmd, timeout_ms);
        else
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "QEMU unexpectedly closed the monitor");
        return NULL;
    }
    return pc.reply;
}

JsonNode *
vrt_qemu_monitor_command(VrtQemuMonitor *mon, const char *cmd, JsonObject *args, guint timeout_ms, GError **error)
{
    g_autoptr(JsonObject) msg = json_object_new();
    JsonObject *reply;

    json_object_set_string_member(msg, "execute", cmd);
    if (args)
        json_object_set_object_member(msg, "arguments", json_object_ref(args));
    g_autoptr(JsonNode) whole = monitor_exchange(mon, cmd, msg, timeout_ms, error);
    if (!whole)
        return NULL;
    reply = json_node_get_object(whole);
    if (json_object_has_member(reply, "error")) {
        JsonNode *en = json_object_get_member(reply, "error");
        const char *desc = NULL;

        if (JSON_NODE_HOLDS_OBJECT(en))
            desc = json_object_get_string_member_with_default(json_node_get_object(en), "desc", NULL);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unable to execute QEMU command '%s': %s", cmd,
                      desc ? desc : "unknown error");
        return NULL;
    }
    if (json_object_has_member(reply, "return"))
        return json_node_copy(json_object_get_member(reply, "return"));
    return json_node_init_object(json_node_alloc(), json_object_new());
}

char *
vrt_qemu_monitor_arbitrary(VrtQemuMonitor *mon, const char *cmd, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    JsonNode *root;
    const char *name;

    if (!json_parser_load_from_data(parser, cmd, -1, &perr)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot parse json %s: %s", cmd, perr->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "expecting JSON object");
        return NULL;
    }
    /* The node outlives the parser; the monitor adds its "id" to the object. */
    g_autoptr(JsonNode) copy = json_node_copy(root);
    JsonObject *msg = json_node_get_object(copy);
    name = json_object_get_string_member_with_default(msg, "execute", NULL);
    g_autoptr(JsonNode) reply = monitor_exchange(mon, name ? name : "(none)", msg, 0, error);
    if (!reply)
        return NULL;
    return json_to_string(reply, FALSE);
}

char *
vrt_qemu_monitor_human(VrtQemuMonitor *mon, const char *cmdline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "command-line", cmdline);
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, "human-monitor-command", args, 0, error);
    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "human monitor command was missing return data");
        return NULL;
    }
    return g_strdup(json_node_get_string(ret));
}

bool
vrt_qemu_monitor_simple(VrtQemuMonitor *mon, const char *cmd, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, cmd, NULL, 0, error);

    return ret != NULL;
}

bool
vrt_qemu_monitor_cont(VrtQemuMonitor *mon, GError **error)
{
    return vrt_qemu_monitor_simple(mon, "cont", error);
}
bool
vrt_qemu_monitor_stop(VrtQemuMonitor *mon, GError **error)
{
    return vrt_qemu_monitor_simple(mon, "stop", error);
}
bool
vrt_qemu_monitor_system_powerdown(VrtQemuMonitor *mon, GError **error)
{
    return vrt_qemu_monitor_simple(mon, "system_powerdown", error);
}
bool
vrt_qemu_monitor_system_reset(VrtQemuMonitor *mon, GError **error)
{
    return vrt_qemu_monitor_simple(mon, "system_reset", error);
}

/* Runs cmd and returns its reply, which must be a JSON object (a new
 * reference), else VIR_ERR_INTERNAL_ERROR "malformed <cmd> reply". */
static JsonObject *
command_object(VrtQemuMonitor *mon, const char *cmd, JsonObject *args, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, cmd, args, 0, error);

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed %s reply", cmd);
        return NULL;
    }
    return json_object_ref(json_node_get_object(ret));
}

/* As command_object, for a reply that must be a JSON array. */
static JsonArray *
command_array(VrtQemuMonitor *mon, const char *cmd, JsonObject *args, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, cmd, args, 0, error);

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed %s reply", cmd);
        return NULL;
    }
    return json_array_ref(json_node_get_array(ret));
}

bool
vrt_qemu_monitor_query_status(VrtQemuMonitor *mon, bool *running, char **status, GError **error)
{
    g_autoptr(JsonObject) obj = command_object(mon, "query-status", NULL, error);

    if (!obj)
        return false;
    *running = json_object_get_boolean_member_with_default(obj, "running", FALSE);
    if (status)
        *status = g_strdup(json_object_get_string_member_with_default(obj, "status", "unknown"));
    return true;
}

GPtrArray *
vrt_qemu_monitor_list_device_ids(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonArray) arr = NULL;
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

    json_object_set_string_member(args, "path", "/machine/peripheral");
    arr = command_array(mon, "qom-list", args, error);
    if (!arr)
        return NULL;
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *name, *type;

        if (!o)
            continue;
        name = json_object_get_string_member_with_default(o, "name", NULL);
        type = json_object_get_string_member_with_default(o, "type", "");
        /* Children are "child<driver>"; the rest are the container's own props. */
        if (name && g_str_has_prefix(type, "child<"))
            g_ptr_array_add(ids, g_strdup(name));
    }
    return g_steal_pointer(&ids);
}

static bool
monitor_with_args(VrtQemuMonitor *mon, const char *cmd, JsonObject *args, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, cmd, args, 0, error);

    return ret != NULL;
}

/* device_del and netdev_del: one argument, the id. */
static bool
monitor_del_id(VrtQemuMonitor *mon, const char *cmd, const char *id, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "id", id);
    return monitor_with_args(mon, cmd, args, error);
}

bool
vrt_qemu_monitor_device_add(VrtQemuMonitor *mon, JsonObject *props, GError **error)
{
    return monitor_with_args(mon, "device_add", props, error);
}

bool
vrt_qemu_monitor_device_del(VrtQemuMonitor *mon, const char *id, GError **error)
{
    return monitor_del_id(mon, "device_del", id, error);
}

bool
vrt_qemu_monitor_netdev_add(VrtQemuMonitor *mon, JsonObject *props, GError **error)
{
    return monitor_with_args(mon, "netdev_add", props, error);
}

bool
vrt_qemu_monitor_getfd(VrtQemuMonitor *mon, const char *fdname, int fd, GError **error)
{
    g_autoptr(JsonObject) msg = json_object_new();
    g_autoptr(JsonObject) args = json_object_new();
    JsonObject *reply;

    json_object_set_string_member(args, "fdname", fdname);
    json_object_set_string_member(msg, "execute", "getfd");
    json_object_set_object_member(msg, "arguments", json_object_ref(args));
    g_autoptr(JsonNode) whole = monitor_exchange_fd(mon, "getfd", msg, fd, 0, error);
    if (!whole)
        return false;
    reply = json_node_get_object(whole);
    if (json_object_has_member(reply, "error")) {
        JsonNode *en = json_object_get_member(reply, "error");
        const char *desc = JSON_NODE_HOLDS_OBJECT(en)
                               ? json_object_get_string_member_with_default(json_node_get_object(en), "desc", NULL)
                               : NULL;

        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unable to execute QEMU command 'getfd': %s",
                      desc ? desc : "unknown error");
        return false;
    }
    return true;
}

bool
vrt_qemu_monitor_closefd(VrtQemuMonitor *mon, const char *fdname, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "fdname", fdname);
    return monitor_with_args(mon, "closefd", args, error);
}

bool
vrt_qemu_monitor_netdev_del(VrtQemuMonitor *mon, const char *id, GError **error)
{
    return monitor_del_id(mon, "netdev_del", id, error);
}

bool
vrt_qemu_monitor_set_link(VrtQemuMonitor *mon, const char *id, bool up, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "name", id);
    json_object_set_boolean_member(args, "up", up);
    return monitor_with_args(mon, "set_link", args, error);
}

bool
vrt_qemu_monitor_balloon(VrtQemuMonitor *mon, guint64 kib, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_int_member(args, "value", (gint64)(kib * 1024));
    return monitor_with_args(mon, "balloon", args, error);
}

GArray *
vrt_qemu_monitor_query_cpus(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(JsonArray) arr = command_array(mon, "query-cpus-fast", NULL, error);
    g_autoptr(GArray) cpus = g_array_new(FALSE, TRUE, sizeof(VrtQemuCpuInfo));

    if (!arr)
        return NULL;
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        VrtQemuCpuInfo ci;

        if (!o)
            continue;
        ci.cpu_index = json_object_get_int_member_with_default(o, "cpu-index", i);
        ci.thread_id = json_object_get_int_member_with_default(o, "thread-id", 0);
        g_array_append_val(cpus, ci);
    }
    return g_steal_pointer(&cpus);
}

GHashTable *
vrt_qemu_monitor_query_pty_paths(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(JsonArray) arr = command_array(mon, "query-chardev", NULL, error);
    g_autoptr(GHashTable) ptys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    if (!arr)
        return NULL;
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *label, *filename;

        if (!o)
            continue;
        label = json_object_get_string_member_with_default(o, "label", NULL);
        filename = json_object_get_string_member_with_default(o, "filename", NULL);
        if (label && filename && g_str_has_prefix(filename, "pty:"))
            g_hash_table_insert(ptys, g_strdup(label), g_strdup(filename + 4));
    }
    return g_steal_pointer(&ptys);
}

bool
vrt_qemu_monitor_query_vnc_port(VrtQemuMonitor *mon, int *port, GError **error)
{
    g_autoptr(JsonObject) obj = command_object(mon, "query-vnc", NULL, error);

    if (!obj)
        return false;
    *port = 0;
    if (json_object_get_boolean_member_with_default(obj, "enabled", FALSE))
        *port = (int)g_ascii_strtoll(json_object_get_string_member_with_default(obj, "service", "0"), NULL, 10);
    return true;
}

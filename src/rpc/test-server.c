/*
 * Socket tests of the RPC server: a real server on a UNIX socket in a
 * temporary directory, its I/O thread running, and raw clients that send what
 * they like. The handlers served are this file's, behind its own dispatch
 * (any other procedure is not supported): a version and a hostname answered
 * on the I/O thread, capabilities of CAPS_LEN bytes and a call that waits at
 * a gate, both on workers. Covered: framing (a frame sent byte by byte, two
 * in one write, a bad length), keepalive under load, backpressure on clients
 * that do not read (per client and server-wide), events to a stuck client,
 * and max_clients making further clients wait instead of resetting them.
 */
#include "rpc/server.h"
#include "rpc/message.h"
#include "util/error.h"
#include "vrt_procs.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CAPS_LEN 8192
/* Generous bounds for things that must happen; never speed checks. */
#define WAIT_MS 20000
/* How long a client waits to see that nothing comes (a reset would come at once). */
#define QUIET_MS 300

/* ---- the handlers served ---- */

static GMutex gate_lock;
static GCond gate_cond;
static bool gate_open = true;
static guint gate_waiting;

static bool
handle_connect_get_version(VrtCall *call, remote_connect_get_version_ret *ret, GError **error)
{
    ret->hv_ver = 42;
    return true;
}

static bool
handle_connect_get_hostname(VrtCall *call, remote_connect_get_hostname_ret *ret, GError **error)
{
    ret->hostname = g_strdup("test-host");
    return true;
}

static bool
handle_connect_get_capabilities(VrtCall *call, remote_connect_get_capabilities_ret *ret, GError **error)
{
    ret->capabilities = g_malloc(CAPS_LEN + 1);
    memset(ret->capabilities, 'c', CAPS_LEN);
    ret->capabilities[CAPS_LEN] = '\0';
    return true;
}

/* Waits until the test opens the gate. */
static bool
handle_connect_num_of_networks(VrtCall *call, remote_int_ret *ret, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&gate_lock);
    gate_waiting++;
    g_cond_broadcast(&gate_cond);
    while (!gate_open)
        g_cond_wait(&gate_cond, &gate_lock);
    gate_waiting--;
    ret->value = 7;
    return true;
}

static bool
dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error)
{
    switch (info->proc) {
    case VRT_PROC_CONNECT_GET_VERSION: return handle_connect_get_version(call, ret, error);
    case VRT_PROC_CONNECT_GET_HOSTNAME: return handle_connect_get_hostname(call, ret, error);
    case VRT_PROC_CONNECT_GET_CAPABILITIES: return handle_connect_get_capabilities(call, ret, error);
    case VRT_PROC_CONNECT_NUM_OF_NETWORKS: return handle_connect_num_of_networks(call, ret, error);
    default: vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", info->api); return false;
    }
}

static void
gate_set(bool open)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&gate_lock);
    gate_open = open;
    g_cond_broadcast(&gate_cond);
}

static guint
gate_waiters(void)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&gate_lock);
    return gate_waiting;
}

/* ---- a server with its I/O thread ---- */

typedef struct {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    VrtRpcServer *server;
    char *dir;
    char *path;
    GMutex lock;
    GPtrArray *clients; /* VrtServerClient* connected, for events */
} Fixture;

static void
on_connect(VrtServerClient *client, gpointer data)
{
    Fixture *f = data;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);
    g_ptr_array_add(f->clients, vrt_server_client_ref(client));
}

static void
on_close(VrtServerClient *client, gpointer data)
{
    Fixture *f = data;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);
    g_ptr_array_remove(f->clients, client);
}

static gpointer
io_thread(gpointer data)
{
    Fixture *f = data;
    g_main_context_push_thread_default(f->ctx);
    g_main_loop_run(f->loop);
    g_main_context_pop_thread_default(f->ctx);
    return NULL;
}

static void
fixture_start(Fixture *f, const VrtRpcServerLimits *limits)
{
    g_autoptr(GError) err = NULL;
    memset(f, 0, sizeof(*f));
    g_mutex_init(&f->lock);
    f->clients = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_server_client_unref);
    f->dir = vrt_test_make_root("vrt-test-server-XXXXXX");
    f->path = g_build_filename(f->dir, "sock", NULL);
    f->ctx = g_main_context_new();
    f->loop = g_main_loop_new(f->ctx, FALSE);
    f->server = vrt_rpc_server_new(f->ctx, limits, dispatch, on_connect, on_close, f, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_rpc_server_add_unix(f->server, f->path, 0600, (gid_t)-1, false, &err));
    g_assert_no_error(err);
    f->thread = g_thread_new("io", io_thread, f);
}

static gboolean
quit_cb(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static void
fixture_stop(Fixture *f)
{
    gate_set(true);
    g_main_context_invoke(f->ctx, quit_cb, f->loop);
    g_thread_join(f->thread);
    /* As vrtd does: freed on the thread that ran the loop, now stopped. */
    g_main_context_push_thread_default(f->ctx);
    vrt_rpc_server_stop_accepting(f->server);
    vrt_rpc_server_free(f->server);
    while (g_main_context_iteration(f->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(f->ctx);
    g_ptr_array_free(f->clients, TRUE);
    g_main_loop_unref(f->loop);
    g_main_context_unref(f->ctx);
    vrt_test_remove_tree(f->dir);
    g_free(f->path);
    g_free(f->dir);
    g_mutex_clear(&f->lock);
}

static guint
fixture_clients(Fixture *f)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f->lock);
    return f->clients->len;
}

static bool
wait_until(bool (*pred)(gpointer), gpointer data)
{
    for (int i = 0; i < WAIT_MS / 5; i++) {
        if (pred(data))
            return true;
        g_usleep(5000);
    }
    return pred(data);
}

/* ---- a raw client ---- */

static int
client_connect(Fixture *f)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, f->path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

static GBytes *
call_frame(guint32 prog, int proc, int type, guint32 serial)
{
    vrt_net_header hdr = { prog,   prog == VRT_REMOTE_PROGRAM ? VRT_REMOTE_VERSION : VRT_KEEPALIVE_VERSION,
                           proc,   type,
                           serial, VRT_NET_OK };
    g_autoptr(GError) err = NULL;
    GBytes *b = vrt_message_encode(&hdr, NULL, NULL, &err);
    g_assert_no_error(err);
    return b;
}

static void
send_all(int fd, const void *data, gsize len)
{
    const guint8 *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        p += n;
        len -= (gsize)n;
    }
}

static void
send_call(int fd, int proc, guint32 serial)
{
    g_autoptr(GBytes) b = call_frame(VRT_REMOTE_PROGRAM, proc, VRT_NET_CALL, serial);
    gsize len;
    const void *data = g_bytes_get_data(b, &len);
    send_all(fd, data, len);
}

/* Reads exactly len bytes; false at EOF or a reset. */
static bool
recv_all(int fd, guint8 *buf, gsize len)
{
    while (len) {
        struct pollfd p = { fd, POLLIN, 0 };
        g_assert_cmpint(poll(&p, 1, WAIT_MS), ==, 1);
        ssize_t n = recv(fd, buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (gsize)n;
    }
    return true;
}

/* Receives one frame: its header and payload size; false at EOF. */
static bool
recv_frame(int fd, vrt_net_header *hdr, gsize *payload)
{
    guint8 lenbuf[4];
    guint32 total;
    g_autoptr(GError) err = NULL;
    if (!recv_all(fd, lenbuf, 4))
        return false;
    g_assert_true(vrt_message_decode_length(lenbuf, &total, &err));
    g_autofree guint8 *buf = g_malloc(total);
    memcpy(buf, lenbuf, 4);
    g_assert_true(recv_all(fd, buf + 4, total - 4));
    g_assert_true(vrt_message_decode_header(buf, total, hdr, &err));
    if (payload)
        *payload = total - VRT_MESSAGE_LEN_SIZE - VRT_MESSAGE_HEADER_SIZE;
    return true;
}

static void
expect_reply(int fd, int proc, guint32 serial)
{
    vrt_net_header hdr;
    g_assert_true(recv_frame(fd, &hdr, NULL));
    g_assert_cmpint(hdr.type, ==, VRT_NET_REPLY);
    g_assert_cmpint(hdr.proc, ==, proc);
    g_assert_cmpuint(hdr.serial, ==, serial);
    g_assert_cmpint(hdr.status, ==, VRT_NET_OK);
}

/* Nothing arrives, neither data nor EOF nor a reset. */
static void
expect_quiet(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    g_assert_cmpint(poll(&p, 1, QUIET_MS), ==, 0);
}

static bool
is_closed(int fd)
{
    guint8 b;
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, WAIT_MS) != 1)
        return false;
    ssize_t n = recv(fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* ---- framing ---- */

static void
test_framing(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    Fixture f;
    fixture_start(&f, &limits);
    int fd = client_connect(&f);

    /* One frame sent a byte at a time. */
    g_autoptr(GBytes) one = call_frame(VRT_REMOTE_PROGRAM, VRT_PROC_CONNECT_GET_VERSION, VRT_NET_CALL, 1);
    gsize len;
    const guint8 *data = g_bytes_get_data(one, &len);
    for (gsize i = 0; i < len; i++) {
        send_all(fd, data + i, 1);
        if (i % 7 == 0)
            g_usleep(1000);
    }
    expect_reply(fd, VRT_PROC_CONNECT_GET_VERSION, 1);

    /* Two frames in one write: two replies, in order. */
    g_autoptr(GBytes) a = call_frame(VRT_REMOTE_PROGRAM, VRT_PROC_CONNECT_GET_VERSION, VRT_NET_CALL, 2);
    g_autoptr(GBytes) b = call_frame(VRT_REMOTE_PROGRAM, VRT_PROC_CONNECT_GET_HOSTNAME, VRT_NET_CALL, 3);
    g_autoptr(GByteArray) both = g_byte_array_new();
    g_byte_array_append(both, g_bytes_get_data(a, NULL), (guint)g_bytes_get_size(a));
    g_byte_array_append(both, g_bytes_get_data(b, NULL), (guint)g_bytes_get_size(b));
    send_all(fd, both->data, both->len);
    expect_reply(fd, VRT_PROC_CONNECT_GET_VERSION, 2);
    expect_reply(fd, VRT_PROC_CONNECT_GET_HOSTNAME, 3);

    /* An unknown procedure is an error reply; the connection lives. */
    send_call(fd, 99999, 4);
    vrt_net_header hdr;
    g_assert_true(recv_frame(fd, &hdr, NULL));
    g_assert_cmpuint(hdr.serial, ==, 4);
    g_assert_cmpint(hdr.status, ==, VRT_NET_ERROR);
    send_call(fd, VRT_PROC_CONNECT_GET_VERSION, 5);
    expect_reply(fd, VRT_PROC_CONNECT_GET_VERSION, 5);

    /* A length shorter than a header closes that connection only. */
    int other = client_connect(&f);
    const guint8 bad[8] = { 0, 0, 0, 8, 0, 0, 0, 0 };
    send_all(fd, bad, sizeof(bad));
    g_assert_true(is_closed(fd));
    send_call(other, VRT_PROC_CONNECT_GET_VERSION, 6);
    expect_reply(other, VRT_PROC_CONNECT_GET_VERSION, 6);

    close(fd);
    close(other);
    fixture_stop(&f);
}

/* ---- keepalive under load ---- */

static bool
gate_has_one(gpointer data)
{
    return gate_waiters() >= 1;
}

static void
test_keepalive_under_load(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_client_requests = 1;
    limits.max_workers = 1;
    Fixture f;
    fixture_start(&f, &limits);
    int fd = client_connect(&f);

    /* Ten calls that wait at the gate: one in the worker, nine queued. */
    gate_set(false);
    for (guint32 i = 0; i < 10; i++)
        send_call(fd, VRT_PROC_CONNECT_NUM_OF_NETWORKS, 100 + i);
    g_assert_true(wait_until(gate_has_one, NULL));
    /* A PING behind them is answered now, and so is a call of the I/O thread. */
    g_autoptr(GBytes) ping = call_frame(VRT_KEEPALIVE_PROGRAM, VRT_KEEPALIVE_PROC_PING, VRT_NET_MESSAGE, 0);
    send_all(fd, g_bytes_get_data(ping, NULL), g_bytes_get_size(ping));
    vrt_net_header hdr;
    g_assert_true(recv_frame(fd, &hdr, NULL));
    g_assert_cmpuint(hdr.prog, ==, VRT_KEEPALIVE_PROGRAM);
    g_assert_cmpint(hdr.proc, ==, VRT_KEEPALIVE_PROC_PONG);
    send_call(fd, VRT_PROC_CONNECT_GET_VERSION, 1);
    expect_reply(fd, VRT_PROC_CONNECT_GET_VERSION, 1);

    gate_set(true);
    for (guint32 i = 0; i < 10; i++)
        expect_reply(fd, VRT_PROC_CONNECT_NUM_OF_NETWORKS, 100 + i);
    close(fd);
    fixture_stop(&f);
}

/* ---- clients that do not read ---- */

typedef struct {
    int fd;
    int proc;
    guint32 calls; /* to send, from serial 1 */
    GThread *thread;
    int send_errno; /* why sending stopped early (the server closed) */
} Flooder;

static gpointer
flood_thread(gpointer data)
{
    Flooder *fl = data;
    g_autoptr(GBytes) one = call_frame(VRT_REMOTE_PROGRAM, fl->proc, VRT_NET_CALL, 0);
    gsize len = g_bytes_get_size(one);
    g_autofree guint8 *all = g_malloc(len * fl->calls);
    for (guint32 i = 0; i < fl->calls; i++) {
        g_autoptr(GBytes) b = call_frame(VRT_REMOTE_PROGRAM, fl->proc, VRT_NET_CALL, i + 1);
        memcpy(all + i * len, g_bytes_get_data(b, NULL), len);
    }
    /* Blocks once the server stops reading and the socket buffers are full. */
    gsize off = 0, total = len * fl->calls;
    while (off < total) {
        ssize_t n = send(fl->fd, all + off, total - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fl->send_errno = errno;
            break;
        }
        off += (gsize)n;
    }
    return NULL;
}

static void
flooder_start(Flooder *fl, Fixture *f, int proc, guint32 calls)
{
    fl->fd = client_connect(f);
    fl->proc = proc;
    fl->calls = calls;
    fl->send_errno = 0;
    fl->thread = g_thread_new("flood", flood_thread, fl);
}

/* Reads every reply (serials 1..calls, any order), then joins the sender. */
static void
flooder_drain(Flooder *fl)
{
    g_autofree bool *seen = g_new0(bool, fl->calls + 1);
    for (guint32 i = 0; i < fl->calls; i++) {
        vrt_net_header hdr;
        gsize payload;
        g_assert_true(recv_frame(fl->fd, &hdr, &payload));
        g_assert_cmpint(hdr.status, ==, VRT_NET_OK);
        g_assert_cmpuint(hdr.serial, >=, 1);
        g_assert_cmpuint(hdr.serial, <=, fl->calls);
        g_assert_false(seen[hdr.serial]);
        seen[hdr.serial] = true;
        if (fl->proc == VRT_PROC_CONNECT_GET_CAPABILITIES)
            g_assert_cmpuint(payload, ==, 4 + CAPS_LEN);
    }
    g_thread_join(fl->thread);
    g_assert_cmpint(fl->send_errno, ==, 0);
    close(fl->fd);
}

typedef struct {
    VrtRpcServer *server;
    gsize last;
    guint same;
} Settle;

/* True once the server's queued bytes, not 0, stayed the same for 40 looks
 * (about 200 ms): its flooding clients are no longer read. */
static bool
queued_settled(gpointer data)
{
    Settle *s = data;
    gsize now = vrt_rpc_server_queued_bytes(s->server);
    s->same = now == s->last && now > 0 ? s->same + 1 : 0;
    s->last = now;
    return s->same >= 40;
}

static bool
queued_empty(gpointer data)
{
    return vrt_rpc_server_queued_bytes(data) == 0;
}

/* One client floods calls with 8 KiB replies (workers) and one calls of the
 * I/O thread, neither reading: both stop being read near max_client_queued,
 * and once they read every call is answered. */
static void
test_client_that_does_not_read_stops_being_read(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_client_queued = 64 * 1024;
    Fixture f;
    fixture_start(&f, &limits);

    for (guint k = 0; k < 2; k++) {
        int proc = k == 0 ? VRT_PROC_CONNECT_GET_CAPABILITIES : VRT_PROC_CONNECT_GET_VERSION;
        /* 20000 calls of 28 bytes: more than the socket buffers take. */
        Flooder fl;
        flooder_start(&fl, &f, proc, 20000);
        Settle s = { f.server, 0, 0 };
        g_assert_true(wait_until(queued_settled, &s));
        gsize queued = vrt_rpc_server_queued_bytes(f.server);
        g_test_message("%s flood: %zu bytes queued (client limit %zu)", k == 0 ? "worker" : "I/O thread", queued,
                       limits.max_client_queued);
        /* The limit, for held calls and for replies (no call goes to a
         * worker past it), and the replies of the calls in the workers
         * (max_client_requests) and one more. */
        g_assert_cmpuint(queued, >=, limits.max_client_queued);
        g_assert_cmpuint(queued, <=,
                         2 * limits.max_client_queued + (limits.max_client_requests + 1) * (CAPS_LEN + 1024));

        /* Another client is served meanwhile. */
        int good = client_connect(&f);
        send_call(good, VRT_PROC_CONNECT_GET_CAPABILITIES, 1);
        expect_reply(good, VRT_PROC_CONNECT_GET_CAPABILITIES, 1);
        close(good);

        flooder_drain(&fl);
        g_assert_true(wait_until(queued_empty, f.server));
    }
    fixture_stop(&f);
}

/* Three flooders, each under its own limit, together past the server's: each
 * stops being read once the total is reached, while a client that reads its
 * replies keeps being served. */
static void
test_server_wide_limit(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_client_queued = 1024 * 1024;
    limits.max_queued = 128 * 1024;
    Fixture f;
    fixture_start(&f, &limits);

    Flooder fl[3];
    for (guint i = 0; i < G_N_ELEMENTS(fl); i++)
        flooder_start(&fl[i], &f, VRT_PROC_CONNECT_GET_CAPABILITIES, 10000);
    Settle s = { f.server, 0, 0 };
    g_assert_true(wait_until(queued_settled, &s));
    gsize queued = vrt_rpc_server_queued_bytes(f.server);
    g_test_message("3 flooders: %zu bytes queued (server limit %zu, client limit %zu)", queued, limits.max_queued,
                   limits.max_client_queued);
    g_assert_cmpuint(queued, >=, limits.max_queued);
    /* Each stops at the first frame it sends past the total; the replies of
     * its calls in the workers (and its held calls) still come. */
    g_assert_cmpuint(queued, <=, limits.max_queued + 3 * (limits.max_client_requests + 2) * (CAPS_LEN + 1024));

    int good = client_connect(&f);
    for (guint32 i = 1; i <= 20; i++) {
        send_call(good, i % 2 ? VRT_PROC_CONNECT_GET_CAPABILITIES : VRT_PROC_CONNECT_GET_VERSION, i);
        expect_reply(good, i % 2 ? VRT_PROC_CONNECT_GET_CAPABILITIES : VRT_PROC_CONNECT_GET_VERSION, i);
    }
    close(good);

    for (guint i = 0; i < G_N_ELEMENTS(fl); i++)
        flooder_drain(&fl[i]);
    g_assert_true(wait_until(queued_empty, f.server));
    fixture_stop(&f);
}

static bool
no_clients(gpointer data)
{
    Fixture *f = data;
    return fixture_clients(f) == 0 && vrt_rpc_server_client_count(f->server) == 0;
}

/* A client that is not read and goes away is closed, and what it held is
 * given back. */
static void
test_stuck_client_that_leaves_is_closed(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_client_queued = 64 * 1024;
    Fixture f;
    fixture_start(&f, &limits);

    Flooder fl;
    flooder_start(&fl, &f, VRT_PROC_CONNECT_GET_VERSION, 40000);
    Settle s = { f.server, 0, 0 };
    g_assert_true(wait_until(queued_settled, &s));
    g_assert_cmpuint(vrt_rpc_server_queued_bytes(f.server), >=, limits.max_client_queued);
    shutdown(fl.fd, SHUT_RDWR);
    g_thread_join(fl.thread);
    close(fl.fd);
    g_assert_true(wait_until(no_clients, &f));
    g_assert_true(wait_until(queued_empty, f.server));
    fixture_stop(&f);
}

static bool
one_client(gpointer data)
{
    return fixture_clients(data) == 1;
}

/* Events come whether a client reads or not: one for a client that stopped
 * being read while the server is past its total drops that client. */
static void
test_events_to_a_stuck_client_drop_it(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_client_queued = 64 * 1024;
    limits.max_queued = 64 * 1024;
    Fixture f;
    fixture_start(&f, &limits);

    Flooder fl;
    flooder_start(&fl, &f, VRT_PROC_CONNECT_GET_VERSION, 40000);
    g_assert_true(wait_until(one_client, &f));
    Settle s = { f.server, 0, 0 };
    g_assert_true(wait_until(queued_settled, &s));
    VrtServerClient *client = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&f.lock);
        client = vrt_server_client_ref(g_ptr_array_index(f.clients, 0));
    }
    remote_connect_get_hostname_ret ev = { .hostname = (char *)"event" };
    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "client fd * does not read its messages*dropping it");
    g_assert_false(vrt_server_client_send_event(client, VRT_PROC_CONNECT_GET_HOSTNAME,
                                                (xdrproc_t)xdr_remote_connect_get_hostname_ret, &ev));
    vrt_server_client_unref(client);
    g_test_assert_expected_messages();
    g_assert_true(wait_until(no_clients, &f));
    g_assert_true(wait_until(queued_empty, f.server));
    /* Its sender sees the connection end. */
    g_thread_join(fl.thread);
    g_assert_cmpint(fl.send_errno, ==, EPIPE);
    close(fl.fd);
    fixture_stop(&f);
}

/* ---- max_clients ---- */

static bool
two_clients(gpointer data)
{
    return fixture_clients(data) == 2;
}

static void
test_max_clients_makes_further_clients_wait(void)
{
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_clients = 2;
    Fixture f;
    fixture_start(&f, &limits);

    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "2 clients is the limit (max_clients)*");
    int a = client_connect(&f);
    int b = client_connect(&f);
    g_assert_true(wait_until(two_clients, &f));
    g_test_assert_expected_messages();
    /* The third connects (the listen backlog) and calls: no answer, no reset. */
    int c = client_connect(&f);
    send_call(c, VRT_PROC_CONNECT_GET_VERSION, 1);
    expect_quiet(c);
    g_assert_cmpuint(vrt_rpc_server_client_count(f.server), ==, 2);
    send_call(a, VRT_PROC_CONNECT_GET_VERSION, 1);
    expect_reply(a, VRT_PROC_CONNECT_GET_VERSION, 1);

    /* One leaves: the third is accepted (which makes two again) and answered. */
    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "2 clients is the limit (max_clients)*");
    close(b);
    expect_reply(c, VRT_PROC_CONNECT_GET_VERSION, 1);
    g_test_assert_expected_messages();
    int d = client_connect(&f);
    send_call(d, VRT_PROC_CONNECT_GET_VERSION, 1);
    expect_quiet(d);
    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "2 clients is the limit (max_clients)*");
    close(a);
    expect_reply(d, VRT_PROC_CONNECT_GET_VERSION, 1);
    g_test_assert_expected_messages();

    close(c);
    close(d);
    fixture_stop(&f);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/server/framing", test_framing);
    g_test_add_func("/rpc/server/keepalive-under-load", test_keepalive_under_load);
    g_test_add_func("/rpc/server/client-not-reading-stops-being-read", test_client_that_does_not_read_stops_being_read);
    g_test_add_func("/rpc/server/server-wide-limit", test_server_wide_limit);
    g_test_add_func("/rpc/server/stuck-client-that-leaves-is-closed", test_stuck_client_that_leaves_is_closed);
    g_test_add_func("/rpc/server/events-to-stuck-client-drop-it", test_events_to_a_stuck_client_drop_it);
    g_test_add_func("/rpc/server/max-clients-further-clients-wait", test_max_clients_makes_further_clients_wait);
    return g_test_run();
}

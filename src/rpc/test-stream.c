/*
 * Socket tests of the server's streams (stream.h): a real server on a UNIX
 * socket, its I/O thread running, and a raw client speaking libvirt's stream
 * messages. The one procedure served (DOMAIN_OPEN_CONSOLE's number and
 * arguments, this file's handler) binds a stream to one end of a socket pair
 * the test holds ("pair"), to a file ("file"), binds one and fails
 * ("fail"), or binds one and aborts it before the reply ("abort"). Covered: data both ways, finish, abort, the source's end, holes
 * into a file, a failed call's stream, the client going away, an owner's
 * abort and the bound on what a source queues for a client that does not
 * read (the fd is not read meanwhile, so its writer blocks); and libvrt's
 * side (rpc/client.h) against it: data both ways, its bounded queue, finish.
 */
#include "rpc/server.h"
#include "rpc/client.h"
#include "rpc/message.h"
#include "rpc/stream.h"
#include "util/error.h"
#include "vrt_procs.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Generous bounds for things that must happen; never speed checks. */
#define WAIT_MS 20000
#define CLIENT_QUEUED (256u * 1024u)

/* ---- the handler and what it leaves for the test ---- */

static GMutex st_lock;
static GCond st_cond;
static int peer_fd = -1; /* the test's end of the pair */
static char *file_path;
static VrtServerStream *last_stream;
static int ends; /* end callbacks run */
static VrtStreamEnd last_end;

static void
on_end(VrtServerStream *stream, VrtStreamEnd how, gpointer data)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);

    ends++;
    last_end = how;
    g_cond_broadcast(&st_cond);
}

#define SPARSE_SIZE (4 << 20)
#define SPARSE_OFF 3000
#define SPARSE_LEN (1 << 20)

static bool
dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error)
{
    remote_domain_open_console_args *a = args;
    const char *mode = a->dev_name ? *a->dev_name : "";
    g_autoptr(VrtServerStream) st = NULL;
    int fds[2];

    if (info->proc != VRT_PROC_DOMAIN_OPEN_CONSOLE) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", info->api);
        return false;
    }
    if (g_str_has_prefix(mode, "sparse")) {
        /* A sparse file source: whole, or from SPARSE_OFF, SPARSE_LEN bytes. */
        int fd = open(file_path, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        bool part = g_str_equal(mode, "sparse-part");
        if (part)
            g_assert_cmpint(lseek(fd, SPARSE_OFF, SEEK_SET), ==, SPARSE_OFF);
        st = vrt_server_stream_new(call, fd, VRT_STREAM_SOURCE);
        vrt_server_stream_set_file(st, part ? SPARSE_LEN : 0, true);
    } else if (g_str_equal(mode, "file")) {
        int fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        st = vrt_server_stream_new(call, fd, VRT_STREAM_SINK);
    } else {
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        st = vrt_server_stream_new(call, fds[0], VRT_STREAM_SOURCE | VRT_STREAM_SINK);
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);
        peer_fd = fds[1];
    }
    vrt_server_stream_set_end_func(st, on_end, NULL, NULL);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);

        g_clear_pointer(&last_stream, vrt_server_stream_unref);
        last_stream = vrt_server_stream_ref(st);
    }
    if (g_str_equal(mode, "abort")) {
        /* Its owner ends it before the reply goes: the client gets the
         * reply, then the error. */
        g_autoptr(GError) err = NULL;
        vrt_error_set(&err, VIR_ERR_RPC, "%s", "stream had I/O failure");
        vrt_server_stream_abort(st, err, VIR_FROM_STREAMS);
    }
    if (g_str_equal(mode, "fail")) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "refused after binding");
        return false;
    }
    return true;
}

/* Waits until n end callbacks ran; returns how the last stream ended. */
static VrtStreamEnd
wait_ends(int n)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;

    while (ends < n)
        g_assert_true(g_cond_wait_until(&st_cond, &st_lock, deadline));
    return last_end;
}

/* ---- a server with its I/O thread ---- */

typedef struct {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    VrtRpcServer *server;
    char *dir;
    char *path;
} Fixture;

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
fixture_start(Fixture *f)
{
    g_autoptr(GError) err = NULL;
    VrtRpcServerLimits limits;

    vrt_rpc_server_limits_init(&limits);
    limits.max_client_queued = CLIENT_QUEUED;
    memset(f, 0, sizeof(*f));
    f->dir = vrt_test_make_root("vrt-test-stream-XXXXXX");
    f->path = g_build_filename(f->dir, "sock", NULL);
    file_path = g_build_filename(f->dir, "sink", NULL);
    f->ctx = g_main_context_new();
    f->loop = g_main_loop_new(f->ctx, FALSE);
    f->server = vrt_rpc_server_new(f->ctx, &limits, dispatch, NULL, NULL, f, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_rpc_server_add_unix(f->server, f->path, 0600, (gid_t)-1, false, &err));
    f->thread = g_thread_new("io", io_thread, f);
    ends = 0;
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
    g_main_context_invoke(f->ctx, quit_cb, f->loop);
    g_thread_join(f->thread);
    g_main_context_push_thread_default(f->ctx);
    vrt_rpc_server_stop_accepting(f->server);
    vrt_rpc_server_free(f->server);
    while (g_main_context_iteration(f->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(f->ctx);
    g_main_loop_unref(f->loop);
    g_main_context_unref(f->ctx);
    g_clear_pointer(&last_stream, vrt_server_stream_unref);
    if (peer_fd >= 0)
        close(peer_fd);
    peer_fd = -1;
    vrt_test_remove_tree(f->dir);
    g_clear_pointer(&file_path, g_free);
    g_free(f->path);
    g_free(f->dir);
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

static void
send_bytes(int fd, GBytes *b)
{
    gsize len;
    const guint8 *p = g_bytes_get_data(b, &len);
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        p += n;
        len -= (gsize)n;
    }
    g_bytes_unref(b);
}

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

/* One frame: its header, and its payload in *payload (freed by the caller). */
static void
recv_frame(int fd, vrt_net_header *hdr, GBytes **payload)
{
    guint8 lenbuf[4];
    guint32 total;
    g_autoptr(GError) err = NULL;
    g_assert_true(recv_all(fd, lenbuf, 4));
    g_assert_true(vrt_message_decode_length(lenbuf, &total, &err));
    guint8 *buf = g_malloc(total);
    memcpy(buf, lenbuf, 4);
    g_assert_true(recv_all(fd, buf + 4, total - 4));
    g_assert_true(vrt_message_decode_header(buf, total, hdr, &err));
    gsize off = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;
    *payload = g_bytes_new(buf + off, total - off);
    g_free(buf);
}

#define SERIAL 7u

/* Opens a stream (mode: the handler's) and reads the call's reply. */
static void
open_stream(int fd, const char *mode, bool ok)
{
    char *name = (char *)mode;
    remote_domain_open_console_args args = { .dev_name = &name };
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, VRT_PROC_DOMAIN_OPEN_CONSOLE, VRT_NET_CALL, SERIAL,
                           VRT_NET_OK };
    g_autoptr(GBytes) payload = NULL;

    args.dom.name = (char *)"d";
    send_bytes(fd, vrt_message_encode(&hdr, (xdrproc_t)xdr_remote_domain_open_console_args, &args, NULL));
    recv_frame(fd, &hdr, &payload);
    g_assert_cmpint(hdr.type, ==, VRT_NET_REPLY);
    g_assert_cmpuint(hdr.serial, ==, SERIAL);
    g_assert_cmpint(hdr.status, ==, ok ? VRT_NET_OK : VRT_NET_ERROR);
}

static vrt_net_header
stream_hdr(int type, int status)
{
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, VRT_PROC_DOMAIN_OPEN_CONSOLE, type, SERIAL, status };
    return hdr;
}

static void
send_data(int fd, const char *data)
{
    vrt_net_header hdr = stream_hdr(VRT_NET_STREAM, VRT_NET_CONTINUE);
    send_bytes(fd, vrt_message_encode_raw(&hdr, data, strlen(data), NULL));
}

static void
send_status(int fd, int status)
{
    vrt_net_header hdr = stream_hdr(VRT_NET_STREAM, status);
    send_bytes(fd, vrt_message_encode(&hdr, NULL, NULL, NULL));
}

/* The next frame is a stream message of the call with status; returns its payload. */
static GBytes *
expect_stream(int fd, int status)
{
    vrt_net_header hdr;
    GBytes *payload;

    recv_frame(fd, &hdr, &payload);
    g_assert_cmpint(hdr.type, ==, VRT_NET_STREAM);
    g_assert_cmpint(hdr.proc, ==, VRT_PROC_DOMAIN_OPEN_CONSOLE);
    g_assert_cmpuint(hdr.serial, ==, SERIAL);
    g_assert_cmpint(hdr.status, ==, status);
    return payload;
}

static int
peer(void)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);
    return peer_fd;
}

static bool
peer_sees_eof(int fd)
{
    guint8 b[64];
    struct pollfd p = { fd, POLLIN, 0 };
    for (;;) {
        g_assert_cmpint(poll(&p, 1, WAIT_MS), ==, 1);
        ssize_t n = read(fd, b, sizeof(b));
        if (n <= 0)
            return n == 0;
    }
}

/* ---- tests ---- */

static void
test_data_both_ways_and_finish(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "pair", true);

    g_assert_cmpint(write(peer(), "hello", 5), ==, 5);
    g_autoptr(GBytes) got = expect_stream(fd, VRT_NET_CONTINUE);
    g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), "hello", 5);

    send_data(fd, "world");
    char buf[5];
    g_assert_true(recv_all(peer(), (guint8 *)buf, 5));
    g_assert_cmpmem(buf, 5, "world", 5);

    /* Finish: an empty OK, answered with an empty OK; the fd is closed. */
    send_status(fd, VRT_NET_OK);
    g_autoptr(GBytes) ok = expect_stream(fd, VRT_NET_OK);
    g_assert_cmpuint(g_bytes_get_size(ok), ==, 0);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_FINISHED);
    g_assert_true(peer_sees_eof(peer()));
    /* Data after the end is dropped, and the connection serves on. */
    send_data(fd, "late");
    open_stream(fd, "pair", true);
    close(fd);
    fixture_stop(&f);
}

static void
test_source_end_then_abort(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "pair", true);

    /* The source's end is an empty CONTINUE (the client's end of file). */
    shutdown(peer(), SHUT_WR);
    g_autoptr(GBytes) eof = expect_stream(fd, VRT_NET_CONTINUE);
    g_assert_cmpuint(g_bytes_get_size(eof), ==, 0);
    /* Abort: status ERROR, confirmed with an empty OK. */
    send_status(fd, VRT_NET_ERROR);
    g_autoptr(GBytes) ok = expect_stream(fd, VRT_NET_OK);
    g_assert_cmpuint(g_bytes_get_size(ok), ==, 0);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_ABORTED);
    close(fd);
    fixture_stop(&f);
}

static void
test_holes_into_a_file(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "file", true);

    send_data(fd, "ab");
    vrt_net_stream_hole hole = { 10, 0 };
    vrt_net_header hdr = stream_hdr(VRT_NET_STREAM_HOLE, VRT_NET_CONTINUE);
    send_bytes(fd, vrt_message_encode(&hdr, (xdrproc_t)xdr_vrt_net_stream_hole, &hole, NULL));
    send_data(fd, "cd");
    send_status(fd, VRT_NET_OK);
    g_autoptr(GBytes) ok = expect_stream(fd, VRT_NET_OK);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_FINISHED);

    g_autofree char *content = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(file_path, &content, &len, NULL));
    g_assert_cmpmem(content, len, "ab\0\0\0\0\0\0\0\0\0\0cd", 14);
    close(fd);
    fixture_stop(&f);
}

static void
test_failed_call_discards_its_stream(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "fail", false);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_CLOSED);
    g_assert_true(peer_sees_eof(peer()));
    close(fd);
    fixture_stop(&f);
}

static void
test_client_gone_ends_its_streams(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "pair", true);
    close(fd);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_CLOSED);
    g_assert_true(peer_sees_eof(peer()));
    /* The client's queued replies are given back when its last reference
     * goes, which may be just after its streams ended: wait for it. */
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (vrt_rpc_server_queued_bytes(f.server) != 0 && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_cmpuint(vrt_rpc_server_queued_bytes(f.server), ==, 0);
    fixture_stop(&f);
}

static void
test_owner_abort_sends_the_error(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "pair", true);
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtServerStream) st = NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&st_lock);
            st = vrt_server_stream_ref(last_stream);
        }
        vrt_error_set(&err, VIR_ERR_RPC, "%s", "stream had I/O failure");
        vrt_server_stream_abort(st, err, VIR_FROM_STREAMS);
        g_assert_true(vrt_server_stream_is_closed(st));
    }
    vrt_net_header hdr;
    g_autoptr(GBytes) payload = NULL;
    recv_frame(fd, &hdr, &payload);
    g_assert_cmpint(hdr.type, ==, VRT_NET_STREAM);
    g_assert_cmpint(hdr.status, ==, VRT_NET_ERROR);
    g_assert_nonnull(memmem(g_bytes_get_data(payload, NULL), g_bytes_get_size(payload), "stream had I/O failure",
                            strlen("stream had I/O failure")));
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_ERROR);
    close(fd);
    fixture_stop(&f);
}

static void
test_owner_abort_before_the_reply(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "abort", true);
    g_autoptr(GBytes) payload = expect_stream(fd, VRT_NET_ERROR);
    g_assert_nonnull(memmem(g_bytes_get_data(payload, NULL), g_bytes_get_size(payload), "stream had I/O failure",
                            strlen("stream had I/O failure")));
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_ERROR);
    g_assert_true(peer_sees_eof(peer()));
    close(fd);
    fixture_stop(&f);
}

/* A client that does not read: the source's fd stops being read, so what
 * vrtd holds stays bounded and the fd's writer blocks; once the client
 * reads, every byte arrives, in order, then the end. */
static void
test_source_is_bounded_by_the_client(void)
{
    Fixture f;
    fixture_start(&f);
    int fd = client_connect(&f);
    open_stream(fd, "pair", true);
    int w = peer();
    g_unix_set_fd_nonblocking(w, TRUE, NULL);

    guint8 chunk[16384];
    guint64 written = 0;
    guint8 next = 0;
    gint64 quiet_since = g_get_monotonic_time();
    /* Write until the pair has taken nothing for a while: vrtd stopped reading. */
    while (g_get_monotonic_time() - quiet_since < 500 * 1000) {
        for (gsize i = 0; i < sizeof(chunk); i++)
            chunk[i] = (guint8)(next + i);
        ssize_t n = write(w, chunk, sizeof(chunk));
        if (n > 0) {
            next = (guint8)(next + n);
            written += (guint64)n;
            quiet_since = g_get_monotonic_time();
        } else {
            g_assert_true(errno == EAGAIN);
            g_usleep(10000);
        }
        g_assert_cmpuint(written, <, 64u << 20); /* it would never stop */
    }
    g_test_message("the fd gave %" G_GUINT64_FORMAT " bytes; %zu are queued for the client", written,
                   vrt_rpc_server_queued_bytes(f.server));
    /* Queued for the client: half its limit and one chunk at most. */
    g_assert_cmpuint(vrt_rpc_server_queued_bytes(f.server), <=, CLIENT_QUEUED / 2 + 2 * 65536 + 4096);
    shutdown(w, SHUT_WR);

    guint64 got = 0;
    guint8 expect = 0;
    for (;;) {
        g_autoptr(GBytes) data = expect_stream(fd, VRT_NET_CONTINUE);
        gsize len;
        const guint8 *p = g_bytes_get_data(data, &len);
        if (len == 0)
            break;
        for (gsize i = 0; i < len; i++)
            g_assert_cmpuint(p[i], ==, (guint8)(expect + i));
        expect = (guint8)(expect + len);
        got += len;
    }
    g_assert_cmpuint(got, ==, written);
    send_status(fd, VRT_NET_OK);
    g_autoptr(GBytes) ok = expect_stream(fd, VRT_NET_OK);
    close(fd);
    fixture_stop(&f);
}

/* libvrt's RPC client: a stream call, data both ways; a stream not received
 * from holds the client's reader (its queue is bounded), so vrtd's queue
 * stays bounded and the source's writer blocks; then every byte arrives,
 * the end, and finish is confirmed. */
static void
test_client_side(void)
{
    Fixture f;
    g_autoptr(GError) err = NULL;
    fixture_start(&f);
    g_autoptr(VrtRpcClient) client = vrt_rpc_client_new_unix(f.path, &err);
    g_assert_no_error(err);
    char *name = (char *)"pair";
    remote_domain_open_console_args args = { .dev_name = &name };
    args.dom.name = (char *)"d";
    VrtRpcStream *st = NULL;
    g_assert_true(vrt_rpc_client_call_stream(client, VRT_PROC_DOMAIN_OPEN_CONSOLE,
                                             (xdrproc_t)xdr_remote_domain_open_console_args, &args, NULL, NULL, &st,
                                             &err));
    g_assert_no_error(err);

    g_assert_true(vrt_rpc_stream_send(st, "ping", 4, &err));
    char small[4];
    g_assert_true(recv_all(peer(), (guint8 *)small, 4));
    g_assert_cmpmem(small, 4, "ping", 4);

    int w = peer();
    g_unix_set_fd_nonblocking(w, TRUE, NULL);
    guint8 chunk[65536];
    guint64 written = 0;
    guint8 next = 0;
    gint64 quiet_since = g_get_monotonic_time();
    while (g_get_monotonic_time() - quiet_since < 500 * 1000) {
        for (gsize i = 0; i < sizeof(chunk); i++)
            chunk[i] = (guint8)(next + i);
        ssize_t n = write(w, chunk, sizeof(chunk));
        if (n > 0) {
            next = (guint8)(next + n);
            written += (guint64)n;
            quiet_since = g_get_monotonic_time();
        } else {
            g_assert_true(errno == EAGAIN);
            g_usleep(10000);
        }
        g_assert_cmpuint(written, <, 256u << 20);
    }
    g_test_message("the fd gave %" G_GUINT64_FORMAT " bytes to a client not receiving; vrtd holds %zu", written,
                   vrt_rpc_server_queued_bytes(f.server));
    /* The client's queue (1 MiB) and the sockets took some; vrtd holds no more than for a raw client. */
    g_assert_cmpuint(written, >=, VRT_RPC_STREAM_QUEUE);
    g_assert_cmpuint(vrt_rpc_server_queued_bytes(f.server), <=, CLIENT_QUEUED / 2 + 2 * 65536 + 4096);
    shutdown(w, SHUT_WR);

    guint64 got = 0;
    guint8 expect = 0;
    for (;;) {
        guint8 buf[100000];
        gssize n = vrt_rpc_stream_recv(st, buf, sizeof(buf), -1, &err);
        g_assert_no_error(err);
        g_assert_cmpint(n, >=, 0);
        if (n == 0)
            break;
        for (gssize i = 0; i < n; i++)
            g_assert_cmpuint(buf[i], ==, (guint8)(expect + i));
        expect = (guint8)(expect + n);
        got += (guint64)n;
    }
    g_assert_cmpuint(got, ==, written);
    g_assert_true(vrt_rpc_stream_finish(st, &err));
    g_assert_no_error(err);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_FINISHED);
    vrt_rpc_stream_free(st);
    g_clear_pointer(&client, vrt_rpc_client_free);
    fixture_stop(&f);
}

/* The sparse file: data at 0 and at 2 MiB (64 KiB each), holes between
 * and up to its end. Returns its content. */
static guint8 *
make_sparse_file(void)
{
    guint8 *content = g_malloc0(SPARSE_SIZE);
    int fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, SPARSE_SIZE), ==, 0);
    for (gsize i = 0; i < 65536; i++) {
        content[i] = (guint8)(i * 7 + 1);
        content[(2 << 20) + i] = (guint8)(i * 3 + 5);
    }
    g_assert_cmpint(pwrite(fd, content, 65536, 0), ==, 65536);
    g_assert_cmpint(pwrite(fd, content + (2 << 20), 65536, 2 << 20), ==, 65536);
    close(fd);
    return content;
}

/* Receives a sparse stream with libvrt's client: what it gives, holes
 * as zeros, and how many bytes came as holes. */
static GByteArray *
recv_sparse_all(VrtRpcStream *st, guint64 *hole_bytes)
{
    GByteArray *got = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    *hole_bytes = 0;
    for (;;) {
        guint8 buf[100000];
        gint64 hole = -1;
        gssize n = vrt_rpc_stream_recv_sparse(st, buf, sizeof(buf), -1, &hole, &err);
        g_assert_no_error(err);
        g_assert_cmpint(n, >=, 0);
        if (n == 0 && hole == 0)
            break;
        if (n == 0) {
            g_assert_cmpint(hole, >, 0);
            *hole_bytes += (guint64)hole;
            g_byte_array_set_size(got, got->len + (guint)hole);
            memset(got->data + got->len - hole, 0, (gsize)hole);
            continue;
        }
        g_byte_array_append(got, buf, (guint)n);
    }
    return got;
}

static VrtRpcStream *
open_client_stream(VrtRpcClient *client, const char *mode)
{
    g_autoptr(GError) err = NULL;
    char *name = (char *)mode;
    remote_domain_open_console_args args = { .dev_name = &name };
    VrtRpcStream *st = NULL;

    args.dom.name = (char *)"d";
    g_assert_true(vrt_rpc_client_call_stream(client, VRT_PROC_DOMAIN_OPEN_CONSOLE,
                                             (xdrproc_t)xdr_remote_domain_open_console_args, &args, NULL, NULL, &st,
                                             &err));
    g_assert_no_error(err);
    return st;
}

/* A sparse file source sends its holes as holes (the data alone as data),
 * whole or within an offset and a length, and the client rebuilds it. */
static void
test_sparse_source(void)
{
    Fixture f;
    g_autoptr(GError) err = NULL;
    fixture_start(&f);
    g_autofree guint8 *content = make_sparse_file();
    g_autoptr(VrtRpcClient) client = vrt_rpc_client_new_unix(f.path, &err);
    g_assert_no_error(err);

    VrtRpcStream *st = open_client_stream(client, "sparse");
    guint64 holes;
    g_autoptr(GByteArray) got = recv_sparse_all(st, &holes);
    g_assert_cmpmem(got->data, got->len, content, SPARSE_SIZE);
    g_assert_cmpuint(holes, ==, SPARSE_SIZE - 2 * 65536);
    g_assert_true(vrt_rpc_stream_finish(st, &err));
    g_assert_no_error(err);
    vrt_rpc_stream_free(st);
    g_assert_cmpint(wait_ends(1), ==, VRT_STREAM_END_FINISHED);

    st = open_client_stream(client, "sparse-part");
    g_autoptr(GByteArray) part = recv_sparse_all(st, &holes);
    g_assert_cmpmem(part->data, part->len, content + SPARSE_OFF, SPARSE_LEN);
    g_assert_cmpuint(holes, ==, SPARSE_LEN - (65536 - SPARSE_OFF));
    g_assert_true(vrt_rpc_stream_finish(st, &err));
    g_assert_no_error(err);
    vrt_rpc_stream_free(st);
    g_assert_cmpint(wait_ends(2), ==, VRT_STREAM_END_FINISHED);

    /* The plain receive refuses a hole, as libvirt's client on a stream
     * that is not sparse. */
    st = open_client_stream(client, "sparse");
    guint8 buf[65536];
    gsize have = 0;
    while (have < sizeof(buf)) {
        gssize n = vrt_rpc_stream_recv(st, buf + have, sizeof(buf) - have, -1, &err);
        g_assert_no_error(err);
        g_assert_cmpint(n, >, 0);
        have += (gsize)n;
    }
    g_assert_cmpint(vrt_rpc_stream_recv(st, buf, sizeof(buf), -1, &err), ==, -1);
    g_assert_error(err, VRT_ERROR, VIR_ERR_RPC);
    g_clear_error(&err);
    g_assert_true(vrt_rpc_stream_abort(st, &err));
    vrt_rpc_stream_free(st);
    g_assert_cmpint(wait_ends(3), ==, VRT_STREAM_END_ABORTED);
    g_clear_pointer(&client, vrt_rpc_client_free);
    fixture_stop(&f);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/stream/data-both-ways-and-finish", test_data_both_ways_and_finish);
    g_test_add_func("/rpc/stream/source-end-then-abort", test_source_end_then_abort);
    g_test_add_func("/rpc/stream/holes-into-a-file", test_holes_into_a_file);
    g_test_add_func("/rpc/stream/failed-call-discards-its-stream", test_failed_call_discards_its_stream);
    g_test_add_func("/rpc/stream/client-gone-ends-its-streams", test_client_gone_ends_its_streams);
    g_test_add_func("/rpc/stream/owner-abort-sends-the-error", test_owner_abort_sends_the_error);
    g_test_add_func("/rpc/stream/owner-abort-before-the-reply", test_owner_abort_before_the_reply);
    g_test_add_func("/rpc/stream/source-is-bounded-by-the-client", test_source_is_bounded_by_the_client);
    g_test_add_func("/rpc/stream/client-side", test_client_side);
    g_test_add_func("/rpc/stream/sparse-source", test_sparse_source);
    return g_test_run();
}

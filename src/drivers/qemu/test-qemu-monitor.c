/*
 * QMP monitor against a scripted peer on a real UNIX socket: greeting and
 * capabilities, replies matched by id when they come back out of order or
 * split across writes or joined with an event in one write,
 * events delivered, QEMU's errors reported, per-command timeout, and the end
 * of the connection failing a waiting command and reaching the owner.
 */
#include "drivers/qemu/qemu_monitor.h"
#include "util/error.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
    int listen_fd;
    char *path;
    char *dir;
    GThread *peer;
    GMutex lock;
    GCond cond;
    GPtrArray *events;
    int eofs;
} Fixture;

static void peer_send(FILE *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void
peer_send(FILE *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputs("\r\n", f);
    fflush(f);
}

/* Reads one command; returns its "execute" and stores its id. */
static char *
peer_read(FILE *f, char **id)
{
    char line[4096];
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o;

    if (!fgets(line, sizeof(line), f))
        return NULL;
    g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
    o = json_node_get_object(json_parser_get_root(p));
    *id = g_strdup(json_object_get_string_member(o, "id"));
    return g_strdup(json_object_get_string_member(o, "execute"));
}

static gpointer
peer_run(gpointer data)
{
    Fixture *fx = data;
    int fd = accept(fx->listen_fd, NULL, NULL);
    FILE *f;

    g_assert_cmpint(fd, >=, 0);
    f = fdopen(fd, "r+");
    peer_send(f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}");
    for (;;) {
        g_autofree char *id = NULL;
        g_autofree char *cmd = peer_read(f, &id);

        if (!cmd)
            break;
        if (g_str_equal(cmd, "qmp_capabilities")) {
            peer_send(f, "{\"return\": {}, \"id\": \"%s\"}", id);
        } else if (g_str_equal(cmd, "query-status")) {
            /* An event first: it must reach the callback, not the caller. */
            peer_send(f, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}");
            peer_send(f, "{\"return\": {\"running\": false, \"status\": \"paused\"}, \"id\": \"%s\"}", id);
        } else if (g_str_equal(cmd, "slow")) {
            /* Answer the next command first, then this one. */
            g_autofree char *id2 = NULL;
            g_autofree char *cmd2 = peer_read(f, &id2);

            g_assert_cmpstr(cmd2, ==, "fast");
            peer_send(f, "{\"return\": {\"who\": \"fast\"}, \"id\": \"%s\"}", id2);
            peer_send(f, "{\"return\": {\"who\": \"slow\"}, \"id\": \"%s\"}", id);
        } else if (g_str_equal(cmd, "split")) {
            /* One reply in two writes, then an event and a reply in one. */
            fputs("{\"return\": {\"who\": ", f);
            fflush(f);
            g_usleep(50 * 1000);
            fprintf(f, "\"split\"}, \"id\": \"%s\"}\r\n", id);
            fflush(f);
        } else if (g_str_equal(cmd, "joined")) {
            fprintf(f, "{\"event\": \"RESUME\"}\r\n{\"return\": {\"who\": \"joined\"}, \"id\": \"%s\"}\r\n", id);
            fflush(f);
        } else if (g_str_equal(cmd, "bad")) {
            peer_send(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such thing\"}, \"id\": \"%s\"}", id);
        } else if (g_str_equal(cmd, "hang")) {
            /* no answer */
        } else if (g_str_equal(cmd, "die")) {
            break;
        }
    }
    fclose(f);
    return NULL;
}

static void
on_event(VrtQemuMonitor *mon, const char *name, JsonObject *data, gpointer opaque)
{
    Fixture *fx = opaque;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        g_ptr_array_add(fx->events, g_strdup(name));
        g_cond_broadcast(&fx->cond);
    }
}

static void
on_eof(VrtQemuMonitor *mon, gpointer opaque)
{
    Fixture *fx = opaque;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        fx->eofs++;
        g_cond_broadcast(&fx->cond);
    }
}

static const VrtQemuMonitorCallbacks callbacks = { on_event, on_eof };

static void
fixture_setup(Fixture *fx, gconstpointer unused)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    fx->dir = vrt_test_make_root("vrt-qmp-XXXXXX");
    fx->path = g_build_filename(fx->dir, "qmp.sock", NULL);
    g_strlcpy(addr.sun_path, fx->path, sizeof(addr.sun_path));
    fx->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(fx->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fx->listen_fd, 1), ==, 0);
    g_mutex_init(&fx->lock);
    g_cond_init(&fx->cond);
    fx->events = g_ptr_array_new_with_free_func(g_free);
    fx->peer = g_thread_new("peer", peer_run, fx);
}

static void
fixture_teardown(Fixture *fx, gconstpointer unused)
{
    g_thread_join(fx->peer);
    close(fx->listen_fd);
    vrt_test_remove_tree(fx->dir);
    g_free(fx->path);
    g_free(fx->dir);
    g_ptr_array_unref(fx->events);
    g_mutex_clear(&fx->lock);
    g_cond_clear(&fx->cond);
}

typedef struct {
    VrtQemuMonitor *mon;
    const char *cmd;
    JsonNode *ret;
} CallArgs;

static gpointer
call_thread(gpointer data)
{
    CallArgs *a = data;

    a->ret = vrt_qemu_monitor_command(a->mon, a->cmd, NULL, 5000, NULL);
    return NULL;
}

static void
test_commands_and_events(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtQemuEventThread) thr = vrt_qemu_event_thread_new("test-event");
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtQemuMonitor) mon =
        vrt_qemu_monitor_open(fx->path, vrt_qemu_event_thread_context(thr), 0, 1000, &callbacks, fx, &err);
    g_autofree char *status = NULL;
    bool running = true;
    CallArgs slow = { 0 }, fast = { 0 };
    GThread *t1, *t2;
    g_autoptr(JsonNode) bad = NULL;

    g_assert_no_error(err);
    g_assert_nonnull(mon);

    g_assert_true(vrt_qemu_monitor_query_status(mon, &running, &status, &err));
    g_assert_false(running);
    g_assert_cmpstr(status, ==, "paused");
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        while (fx->events->len == 0)
            g_cond_wait(&fx->cond, &fx->lock);
        g_assert_cmpstr(g_ptr_array_index(fx->events, 0), ==, "STOP");
    }

    /* Two callers at once; the peer answers the second first. */
    slow = (CallArgs){ mon, "slow", NULL };
    fast = (CallArgs){ mon, "fast", NULL };
    t1 = g_thread_new("slow", call_thread, &slow);
    g_usleep(100 * 1000);
    t2 = g_thread_new("fast", call_thread, &fast);
    g_thread_join(t1);
    g_thread_join(t2);
    g_assert_nonnull(slow.ret);
    g_assert_nonnull(fast.ret);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(slow.ret), "who"), ==, "slow");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(fast.ret), "who"), ==, "fast");
    json_node_unref(slow.ret);
    json_node_unref(fast.ret);

    {
        g_autoptr(JsonNode) split = vrt_qemu_monitor_command(mon, "split", NULL, 0, &err);
        g_autoptr(JsonNode) joined = NULL;

        g_assert_no_error(err);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(split), "who"), ==, "split");
        joined = vrt_qemu_monitor_command(mon, "joined", NULL, 0, &err);
        g_assert_no_error(err);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(joined), "who"), ==, "joined");
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

            while (fx->events->len < 2)
                g_cond_wait(&fx->cond, &fx->lock);
            g_assert_cmpstr(g_ptr_array_index(fx->events, 1), ==, "RESUME");
        }
    }

    bad = vrt_qemu_monitor_command(mon, "bad", NULL, 0, &err);
    g_assert_null(bad);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(err->message, "'bad': no such thing"));
    g_clear_error(&err);

    g_assert_null(vrt_qemu_monitor_command(mon, "hang", NULL, 200, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_TIMEOUT);
    g_clear_error(&err);

    /* The monitor still works after a timeout, and QEMU's death fails the call. */
    g_assert_null(vrt_qemu_monitor_command(mon, "die", NULL, 5000, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(err->message, "QEMU unexpectedly closed the monitor"));
    g_clear_error(&err);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        while (fx->eofs == 0)
            g_cond_wait(&fx->cond, &fx->lock);
        g_assert_cmpint(fx->eofs, ==, 1);
    }
    g_assert_true(vrt_qemu_monitor_is_closed(mon));

    g_assert_false(vrt_qemu_monitor_cont(mon, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    vrt_qemu_monitor_close(mon);
}

static void
test_close_by_owner(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtQemuEventThread) thr = vrt_qemu_event_thread_new("test-event");
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtQemuMonitor) mon =
        vrt_qemu_monitor_open(fx->path, vrt_qemu_event_thread_context(thr), 0, 1000, &callbacks, fx, &err);

    g_assert_no_error(err);
    vrt_qemu_monitor_close(mon);
    g_assert_true(vrt_qemu_monitor_is_closed(mon));
    g_assert_false(vrt_qemu_monitor_stop(mon, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    /* Closing by the owner is not an EOF the owner must handle. */
    g_usleep(50 * 1000);
    g_assert_cmpint(fx->eofs, ==, 0);
}

static void
test_no_listener(void)
{
    g_autoptr(VrtQemuEventThread) thr = vrt_qemu_event_thread_new("test-event");
    g_autoptr(GError) err = NULL;
    VrtQemuMonitor *mon = vrt_qemu_monitor_open("/nonexistent/vrt-qmp.sock", vrt_qemu_event_thread_context(thr), 0, 100,
                                                &callbacks, NULL, &err);

    g_assert_null(mon);
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_TIMEOUT);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/qemu/monitor/commands-events-timeout-eof", Fixture, NULL, fixture_setup, test_commands_and_events,
               fixture_teardown);
    g_test_add("/qemu/monitor/close-by-owner", Fixture, NULL, fixture_setup, test_close_by_owner, fixture_teardown);
    g_test_add_func("/qemu/monitor/no-listener", test_no_listener);
    return g_test_run();
}

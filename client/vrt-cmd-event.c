/*
 * vrt event: registers for domain events and prints each as virsh does
 * ("event 'lifecycle' for domain 'x': Started Booted"). Callbacks run on
 * libvrt's reader thread, so they only queue the text; the main thread
 * prints it and keeps the timeout.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the main thread checks that the connection is still alive. */
#define EVENT_POLL_US (200 * G_TIME_SPAN_MILLISECOND)

typedef struct {
    GAsyncQueue *lines; /* char*, printed by the main thread */
    bool json;
} EventSink;

static char *
event_json(const vrt_domain_event *ev)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vrt_cli_json_str(b, "event", ev->event_id == VRT_DOMAIN_EVENT_ID_LIFECYCLE ? "lifecycle" : "device-removed");
    vrt_cli_json_str(b, "domain", ev->name);
    if (ev->event_id == VRT_DOMAIN_EVENT_ID_LIFECYCLE) {
        vrt_cli_json_str(b, "type", vrt_domain_event_to_string(ev->event));
        vrt_cli_json_str(b, "detail", vrt_domain_event_detail_to_string(ev->event, ev->detail));
        vrt_cli_json_int(b, "type_code", ev->event);
        vrt_cli_json_int(b, "detail_code", ev->detail);
    } else {
        vrt_cli_json_str(b, "alias", ev->alias);
    }
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static void
on_event(vrt_conn *conn, const vrt_domain_event *ev, void *opaque)
{
    EventSink *sink = opaque;
    char *line;
    if (sink->json)
        line = event_json(ev);
    else if (ev->event_id == VRT_DOMAIN_EVENT_ID_LIFECYCLE)
        line =
            g_strdup_printf("event 'lifecycle' for domain '%s': %s %s", ev->name, vrt_domain_event_to_string(ev->event),
                            vrt_domain_event_detail_to_string(ev->event, ev->detail));
    else
        line = g_strdup_printf("event 'device-removed' for domain '%s': %s", ev->name, ev->alias);
    g_async_queue_push(sink->lines, line);
}

int
vrt_cli_cmd_event(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    int rc;
    if (!vrt_cli_nargs(cmd, args->npos, 0, 0, &rc))
        return rc;
    bool all = vrt_cli_flag(args, "all");
    const char *which = vrt_cli_value(args, "event");
    if (!all && !which)
        return vrt_cli_usage(cmd, "either --all or --event is required");
    if (which && strcmp(which, "lifecycle") != 0 && strcmp(which, "device-removed") != 0)
        return vrt_cli_usage(cmd, "unknown event type (lifecycle or device-removed)");
    gint64 timeout_s = 0;
    const char *t = vrt_cli_value(args, "timeout");
    if (t) {
        char *end = NULL;
        timeout_s = g_ascii_strtoll(t, &end, 10);
        if (!*t || *end || timeout_s <= 0)
            return vrt_cli_usage(cmd, "--timeout needs a positive number of seconds");
    }
    vrt_conn *conn = vrt_cli_conn(cli);
    if (!conn)
        return VRT_EXIT_ERROR;
    g_autoptr(vrt_domain) dom = NULL;
    const char *dname = vrt_cli_value(args, "domain");
    if (dname && !(dom = vrt_cli_domain(cli, dname)))
        return VRT_EXIT_ERROR;

    g_autoptr(GAsyncQueue) queue = g_async_queue_new_full(g_free);
    EventSink sink = { .lines = queue, .json = cli->json };
    int ids[2] = { -1, -1 };
    vrt_error *err = NULL;
    if (all || strcmp(which, "lifecycle") == 0) {
        ids[0] = vrt_conn_domain_event_register(conn, dom, VRT_DOMAIN_EVENT_ID_LIFECYCLE, on_event, &sink, &err);
        if (ids[0] < 0)
            return vrt_cli_fail(err);
    }
    if (all || strcmp(which, "device-removed") == 0) {
        ids[1] = vrt_conn_domain_event_register(conn, dom, VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED, on_event, &sink, &err);
        if (ids[1] < 0)
            return vrt_cli_fail(err);
    }
    bool loop = vrt_cli_flag(args, "loop");
    gint64 deadline = timeout_s ? g_get_monotonic_time() + timeout_s * G_TIME_SPAN_SECOND : 0;
    int count = 0;
    rc = VRT_EXIT_OK;
    for (;;) {
        g_autofree char *line = g_async_queue_timeout_pop(queue, EVENT_POLL_US);
        if (line) {
            printf("%s\n", line);
            fflush(stdout);
            count++;
            if (!loop)
                break;
            continue;
        }
        if (!vrt_conn_is_alive(conn)) {
            rc = vrt_cli_failf("the connection to the daemon was lost");
            break;
        }
        if (deadline && g_get_monotonic_time() >= deadline) {
            if (!cli->json)
                printf("event loop timed out\n");
            break;
        }
    }
    /* The callbacks hold the queue: stop them before it goes. */
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        if (ids[i] >= 0 && vrt_conn_domain_event_deregister(conn, ids[i], &err) < 0)
            vrt_cli_forget(&err);
    }
    vrt_conn_close(cli->conn);
    cli->conn = NULL;
    if (!cli->json)
        printf("events received: %d\n", count);
    return rc;
}

/*
 * vrt event: registers for domain events (one kind, or every kind libvrt
 * delivers with --all) and prints each as virsh does ("event 'lifecycle'
 * for domain 'x': Started Booted", "event 'rtc-change' for domain 'x': 42"). Callbacks run on
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

/* virsh's words for the numbers of the event kinds (virsh-domain-event.c). */
static const char *
word(const char *const *words, guint n, int v)
{
    return v >= 0 && (guint)v < n ? words[v] : "unknown";
}
#define WORD(arr, v) word(arr, G_N_ELEMENTS(arr), v)

static const char *const watchdog_words[] = { "none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi" };
static const char *const io_error_words[] = { "none", "pause", "report" };
static const char *const phase_words[] = { "connect", "initialize", "disconnect" };
static const char *const family_words[] = { "IPv4", "IPv6", "unix" };
static const char *const job_words[] = { "Unknown job",  "Block Pull",          "Block Copy",
                                         "Block Commit", "Active Block Commit", "Backup" };
static const char *const job_status_words[] = { "completed", "failed", "canceled", "ready" };
static const char *const tray_words[] = { "opened", "closed" };
static const char *const agent_state_words[] = { "unknown", "connected", "disconnected" };
static const char *const agent_reason_words[] = { "unknown", "domain started", "channel event" };
static const char *const recipient_words[] = { "hypervisor", "guest" };
static const char *const mf_action_words[] = { "ignore", "inject", "fatal", "reset" };

/* The line virsh event prints for ev. */
static char *
event_text(const vrt_domain_event *ev)
{
    const char *kind = vrt_domain_event_id_to_string(ev->event_id);

    switch (ev->event_id) {
    case VRT_DOMAIN_EVENT_ID_LIFECYCLE:
        return g_strdup_printf("event 'lifecycle' for domain '%s': %s %s", ev->name,
                               vrt_domain_event_to_string(ev->event),
                               vrt_domain_event_detail_to_string(ev->event, ev->detail));
    case VRT_DOMAIN_EVENT_ID_RTC_CHANGE:
        return g_strdup_printf("event 'rtc-change' for domain '%s': %lld", ev->name, ev->offset);
    case VRT_DOMAIN_EVENT_ID_WATCHDOG:
        return g_strdup_printf("event 'watchdog' for domain '%s': %s", ev->name, WORD(watchdog_words, ev->action));
    case VRT_DOMAIN_EVENT_ID_IO_ERROR:
        return g_strdup_printf("event 'io-error' for domain '%s': %s (%s) %s", ev->name, ev->src_path, ev->alias,
                               WORD(io_error_words, ev->action));
    case VRT_DOMAIN_EVENT_ID_IO_ERROR_REASON:
        return g_strdup_printf("event 'io-error-reason' for domain '%s': %s (%s) %s due to %s", ev->name, ev->src_path,
                               ev->alias, WORD(io_error_words, ev->action), ev->reason_text);
    case VRT_DOMAIN_EVENT_ID_GRAPHICS:
        return g_strdup_printf("event 'graphics' for domain '%s': %s local[%s %s %s] remote[%s %s %s] %s", ev->name,
                               WORD(phase_words, ev->phase), WORD(family_words, ev->local_family), ev->local_node,
                               ev->local_service, WORD(family_words, ev->remote_family), ev->remote_node,
                               ev->remote_service, ev->auth_scheme);
    case VRT_DOMAIN_EVENT_ID_BLOCK_JOB:
    case VRT_DOMAIN_EVENT_ID_BLOCK_JOB_2:
        return g_strdup_printf("event '%s' for domain '%s': %s for %s %s", kind, ev->name, WORD(job_words, ev->type),
                               ev->event_id == VRT_DOMAIN_EVENT_ID_BLOCK_JOB ? ev->src_path : ev->alias,
                               WORD(job_status_words, ev->status));
    case VRT_DOMAIN_EVENT_ID_TRAY_CHANGE:
        return g_strdup_printf("event 'tray-change' for domain '%s' disk %s: %s", ev->name, ev->alias,
                               WORD(tray_words, ev->reason));
    case VRT_DOMAIN_EVENT_ID_BALLOON_CHANGE:
        return g_strdup_printf("event 'balloon-change' for domain '%s': %lluKiB", ev->name, ev->actual);
    case VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED:
    case VRT_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED:
        return g_strdup_printf("event '%s' for domain '%s': %s", kind, ev->name, ev->alias);
    case VRT_DOMAIN_EVENT_ID_AGENT_LIFECYCLE:
        return g_strdup_printf("event 'agent-lifecycle' for domain '%s': state: '%s' reason: '%s'", ev->name,
                               WORD(agent_state_words, ev->state), WORD(agent_reason_words, ev->reason));
    case VRT_DOMAIN_EVENT_ID_MEMORY_FAILURE:
        return g_strdup_printf("event 'memory-failure' for domain '%s':\nrecipient: %s\naction: %s\nflags:\n"
                               "\taction required: %d\n\trecursive: %d",
                               ev->name, WORD(recipient_words, ev->type), WORD(mf_action_words, ev->action),
                               !!(ev->flags & 1u), !!(ev->flags & 2u));
    default: /* reboot and the power management ones carry nothing else */
        return g_strdup_printf("event '%s' for domain '%s'", kind, ev->name);
    }
}

static char *
event_json(const vrt_domain_event *ev)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vrt_cli_json_str(b, "event", vrt_domain_event_id_to_string(ev->event_id));
    vrt_cli_json_str(b, "domain", ev->name);
    if (ev->event_id == VRT_DOMAIN_EVENT_ID_LIFECYCLE) {
        vrt_cli_json_str(b, "type", vrt_domain_event_to_string(ev->event));
        vrt_cli_json_str(b, "detail", vrt_domain_event_detail_to_string(ev->event, ev->detail));
        vrt_cli_json_int(b, "type_code", ev->event);
        vrt_cli_json_int(b, "detail_code", ev->detail);
    } else if (ev->event_id == VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED) {
        vrt_cli_json_str(b, "alias", ev->alias);
    } else {
        /* The other kinds: virsh's text of the event. */
        g_autofree char *text = event_text(ev);
        vrt_cli_json_str(b, "text", text);
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
    g_async_queue_push(sink->lines, sink->json ? event_json(ev) : event_text(ev));
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
    int which_id = which ? vrt_domain_event_id_from_string(which) : -1;
    if (which && which_id < 0)
        return vrt_cli_usage(cmd, "unknown event type (see virsh event --list)");
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
    int ids[VRT_DOMAIN_EVENT_ID_MEMORY_FAILURE + 1];
    vrt_error *err = NULL;
    for (int i = 0; i < (int)G_N_ELEMENTS(ids); i++) {
        ids[i] = -1;
        if (!vrt_domain_event_id_to_string(i) || (!all && i != which_id))
            continue;
        ids[i] = vrt_conn_domain_event_register(conn, dom, i, on_event, &sink, &err);
        if (ids[i] < 0) {
            /* The callbacks hold the queue: stop them before it goes. */
            for (int k = 0; k < i; k++) {
                vrt_error *e2 = NULL;
                if (ids[k] >= 0 && vrt_conn_domain_event_deregister(conn, ids[k], &e2) < 0)
                    vrt_cli_forget(&e2);
            }
            return vrt_cli_fail(err);
        }
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

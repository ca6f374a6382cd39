/*
 * Domain events for libvrt: callbacks registered with the server through
 * CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, and the event messages the
 * reader thread hands over, decoded and passed to the matching callback.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

int
vrt_conn_domain_event_register(vrt_conn *conn, vrt_domain *dom, int event_id, vrt_domain_event_cb cb, void *opaque,
                               vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    VRT_CHECK_ARG(cb, err, -1);
    if (!vrt_domain_event_id_to_string(event_id))
        return vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN,
                           "invalid argument: event %d is not delivered by libvrt", event_id);
    remote_nonnull_domain wire;
    remote_connect_domain_event_callback_register_any_args args = { .eventID = event_id };
    if (dom) {
        vrt_domain_to_wire(dom, &wire);
        args.dom = &wire;
    }
    remote_connect_domain_event_callback_register_any_ret ret = { 0 };
    /* The lock is not held across the call: the reader thread takes it to
     * deliver events, and it must stay free to read this call's reply. An
     * event the server sends between its reply and the store below has no
     * callback yet and is dropped; it can only concern what happened before
     * this function returned. */
    GError *gerr = NULL;
    if (!vrt_call_connect_domain_event_callback_register_any(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    VrtEventReg *reg = g_new0(VrtEventReg, 1);
    reg->callback_id = ret.callbackID;
    reg->event_id = event_id;
    reg->cb = cb;
    reg->opaque = opaque;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        g_ptr_array_add(conn->events, reg);
    }
    return ret.callbackID;
}

int
vrt_conn_domain_event_deregister(vrt_conn *conn, int callback_id, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_domain_event_callback_deregister_any_args args = { .callbackID = callback_id };
    GError *gerr = NULL;
    if (!vrt_call_connect_domain_event_callback_deregister_any(conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        for (guint i = 0; i < conn->events->len; i++) {
            VrtEventReg *reg = conn->events->pdata[i];
            if (reg->callback_id == callback_id) {
                g_ptr_array_remove_index(conn->events, i);
                break;
            }
        }
    }
    return 0;
}

static void
deliver(vrt_conn *conn, vrt_domain_event *ev)
{
    vrt_domain_event_cb cb = NULL;
    void *opaque = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        for (guint i = 0; i < conn->events->len; i++) {
            VrtEventReg *reg = conn->events->pdata[i];
            if (reg->callback_id == ev->callback_id && reg->event_id == ev->event_id) {
                cb = reg->cb;
                opaque = reg->opaque;
            }
        }
    }
    if (cb)
        cb(conn, ev, opaque);
    else
        g_debug("event for unknown callback %d dropped", ev->callback_id);
}

static void
fill_domain(vrt_domain_event *ev, const remote_nonnull_domain *d)
{
    ev->name = d->name;
    memcpy(ev->uuid, d->uuid, VRT_UUID_BUFLEN);
    ev->id = d->id;
}

/* Decodes one message of type T (its xdr_T) into msg, hands ev (filled by
 * FILL from msg) to its callback and frees msg. */
#define DELIVER(T, ID, FILL)                                                             \
    do {                                                                                 \
        T msg = { 0 };                                                                   \
        g_autoptr(GError) local = NULL;                                                  \
        if (!vrt_message_decode_payload(frame, len, (xdrproc_t)xdr_##T, &msg, &local)) { \
            g_warning("malformed event message %d: %s", proc, local->message);           \
            return true;                                                                 \
        }                                                                                \
        ev.event_id = (ID);                                                              \
        ev.callback_id = msg.callbackID;                                                 \
        FILL;                                                                            \
        deliver(conn, &ev);                                                              \
        vrt_message_free_payload((xdrproc_t)xdr_##T, &msg);                              \
        return true;                                                                     \
    } while (0)

/* The event messages beside lifecycle and device-removed; false for a
 * procedure that is none of them. */
static bool
dispatch_other(vrt_conn *conn, int proc, const guint8 *frame, gsize len)
{
    vrt_domain_event ev = { 0 };

    switch (proc) {
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_REBOOT:
        DELIVER(remote_domain_event_callback_reboot_msg, VRT_DOMAIN_EVENT_ID_REBOOT, fill_domain(&ev, &msg.msg.dom));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_RTC_CHANGE:
        DELIVER(remote_domain_event_callback_rtc_change_msg, VRT_DOMAIN_EVENT_ID_RTC_CHANGE,
                (fill_domain(&ev, &msg.msg.dom), ev.offset = msg.msg.offset));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_WATCHDOG:
        DELIVER(remote_domain_event_callback_watchdog_msg, VRT_DOMAIN_EVENT_ID_WATCHDOG,
                (fill_domain(&ev, &msg.msg.dom), ev.action = msg.msg.action));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR:
        DELIVER(remote_domain_event_callback_io_error_msg, VRT_DOMAIN_EVENT_ID_IO_ERROR,
                (fill_domain(&ev, &msg.msg.dom), ev.src_path = msg.msg.srcPath, ev.alias = msg.msg.devAlias,
                 ev.action = msg.msg.action));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON:
        DELIVER(remote_domain_event_callback_io_error_reason_msg, VRT_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                (fill_domain(&ev, &msg.msg.dom), ev.src_path = msg.msg.srcPath, ev.alias = msg.msg.devAlias,
                 ev.action = msg.msg.action, ev.reason_text = msg.msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_GRAPHICS:
        DELIVER(remote_domain_event_callback_graphics_msg, VRT_DOMAIN_EVENT_ID_GRAPHICS,
                (fill_domain(&ev, &msg.msg.dom), ev.phase = msg.msg.phase, ev.local_family = msg.msg.local.family,
                 ev.local_node = msg.msg.local.node, ev.local_service = msg.msg.local.service,
                 ev.remote_family = msg.msg.remote.family, ev.remote_node = msg.msg.remote.node,
                 ev.remote_service = msg.msg.remote.service, ev.auth_scheme = msg.msg.authScheme));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB:
        DELIVER(remote_domain_event_callback_block_job_msg, VRT_DOMAIN_EVENT_ID_BLOCK_JOB,
                (fill_domain(&ev, &msg.msg.dom), ev.src_path = msg.msg.path, ev.type = msg.msg.type,
                 ev.status = msg.msg.status));
    case VRT_PROC_DOMAIN_EVENT_BLOCK_JOB_2:
        DELIVER(remote_domain_event_block_job_2_msg, VRT_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                (fill_domain(&ev, &msg.dom), ev.alias = msg.dst, ev.type = msg.type, ev.status = msg.status));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE:
        DELIVER(remote_domain_event_callback_tray_change_msg, VRT_DOMAIN_EVENT_ID_TRAY_CHANGE,
                (fill_domain(&ev, &msg.msg.dom), ev.alias = msg.msg.devAlias, ev.reason = msg.msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_PMWAKEUP:
        DELIVER(remote_domain_event_callback_pmwakeup_msg, VRT_DOMAIN_EVENT_ID_PMWAKEUP,
                (fill_domain(&ev, &msg.msg.dom), ev.reason = msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND:
        DELIVER(remote_domain_event_callback_pmsuspend_msg, VRT_DOMAIN_EVENT_ID_PMSUSPEND,
                (fill_domain(&ev, &msg.msg.dom), ev.reason = msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK:
        DELIVER(remote_domain_event_callback_pmsuspend_disk_msg, VRT_DOMAIN_EVENT_ID_PMSUSPEND_DISK,
                (fill_domain(&ev, &msg.msg.dom), ev.reason = msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE:
        DELIVER(remote_domain_event_callback_balloon_change_msg, VRT_DOMAIN_EVENT_ID_BALLOON_CHANGE,
                (fill_domain(&ev, &msg.msg.dom), ev.actual = msg.msg.actual));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE:
        DELIVER(remote_domain_event_callback_agent_lifecycle_msg, VRT_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                (fill_domain(&ev, &msg.dom), ev.state = msg.state, ev.reason = msg.reason));
    case VRT_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED:
        DELIVER(remote_domain_event_callback_device_removal_failed_msg, VRT_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
                (fill_domain(&ev, &msg.dom), ev.alias = msg.devAlias));
    case VRT_PROC_DOMAIN_EVENT_MEMORY_FAILURE:
        DELIVER(remote_domain_event_memory_failure_msg, VRT_DOMAIN_EVENT_ID_MEMORY_FAILURE,
                (fill_domain(&ev, &msg.dom), ev.type = msg.recipient, ev.action = msg.action, ev.flags = msg.flags));
    default: return false;
    }
}
#undef DELIVER

void
vrt_conn_dispatch_event(vrt_conn *conn, int proc, const guint8 *frame, gsize len)
{
    g_autoptr(GError) local = NULL;
    vrt_domain_event ev = { 0 };
    if (proc == VRT_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE) {
        remote_domain_event_callback_lifecycle_msg msg = { 0 };
        if (!vrt_message_decode_payload(frame, len, (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &msg,
                                        &local)) {
            g_warning("malformed lifecycle event: %s", local->message);
            return;
        }
        ev.event_id = VRT_DOMAIN_EVENT_ID_LIFECYCLE;
        ev.callback_id = msg.callbackID;
        fill_domain(&ev, &msg.msg.dom);
        ev.event = msg.msg.event;
        ev.detail = msg.msg.detail;
        deliver(conn, &ev);
        vrt_message_free_payload((xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &msg);
    } else if (proc == VRT_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED) {
        remote_domain_event_callback_device_removed_msg msg = { 0 };
        if (!vrt_message_decode_payload(frame, len, (xdrproc_t)xdr_remote_domain_event_callback_device_removed_msg,
                                        &msg, &local)) {
            g_warning("malformed device-removed event: %s", local->message);
            return;
        }
        ev.event_id = VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED;
        ev.callback_id = msg.callbackID;
        fill_domain(&ev, &msg.msg.dom);
        ev.alias = msg.msg.devAlias;
        deliver(conn, &ev);
        vrt_message_free_payload((xdrproc_t)xdr_remote_domain_event_callback_device_removed_msg, &msg);
    } else if (!dispatch_other(conn, proc, frame, len)) {
        g_debug("event message %d ignored", proc);
    }
}

const char *
vrt_domain_event_to_string(int event)
{
    static const char *const names[] = {
        "Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped", "Shutdown", "PMSuspended", "Crashed",
    };
    return event >= 0 && event < (int)G_N_ELEMENTS(names) ? names[event] : "unknown";
}

const char *
vrt_domain_event_detail_to_string(int event, int detail)
{
    /* Words of libvirt's detail enums, in their numeric order, per event. */
    static const char *const defined[] = { "Added", "Updated", "Renamed", "Snapshot" };
    static const char *const undefined[] = { "Removed", "Renamed" };
    static const char *const started[] = { "Booted", "Migrated", "Restored", "Snapshot", "Event wakeup", "Recreated" };
    static const char *const suspended[] = { "Paused",   "Migrated",  "I/O Error", "Watchdog",       "Restored",
                                             "Snapshot", "API error", "Post-copy", "Post-copy Error" };
    static const char *const resumed[] = { "Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error" };
    static const char *const stopped[] = {
        "Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot"
    };
    static const char *const shutdown[] = { "Finished", "Finished after guest request", "Finished after host request" };
    static const char *const crashed[] = { "Panicked", "Crashloaded" };
#define PICK(arr) return detail >= 0 && detail < (int)G_N_ELEMENTS(arr) ? arr[detail] : "unknown"
    switch (event) {
    case VRT_DOMAIN_EVENT_DEFINED: PICK(defined);
    case VRT_DOMAIN_EVENT_UNDEFINED: PICK(undefined);
    case VRT_DOMAIN_EVENT_STARTED: PICK(started);
    case VRT_DOMAIN_EVENT_SUSPENDED: PICK(suspended);
    case VRT_DOMAIN_EVENT_RESUMED: PICK(resumed);
    case VRT_DOMAIN_EVENT_STOPPED: PICK(stopped);
    case VRT_DOMAIN_EVENT_SHUTDOWN: PICK(shutdown);
    case VRT_DOMAIN_EVENT_CRASHED: PICK(crashed);
    default: return "unknown";
    }
#undef PICK
}

/* virsh event's names, by event ID. */
static const char *const event_names[] = {
    [VRT_DOMAIN_EVENT_ID_LIFECYCLE] = "lifecycle",
    [VRT_DOMAIN_EVENT_ID_REBOOT] = "reboot",
    [VRT_DOMAIN_EVENT_ID_RTC_CHANGE] = "rtc-change",
    [VRT_DOMAIN_EVENT_ID_WATCHDOG] = "watchdog",
    [VRT_DOMAIN_EVENT_ID_IO_ERROR] = "io-error",
    [VRT_DOMAIN_EVENT_ID_GRAPHICS] = "graphics",
    [VRT_DOMAIN_EVENT_ID_IO_ERROR_REASON] = "io-error-reason",
    [VRT_DOMAIN_EVENT_ID_BLOCK_JOB] = "block-job",
    [VRT_DOMAIN_EVENT_ID_TRAY_CHANGE] = "tray-change",
    [VRT_DOMAIN_EVENT_ID_PMWAKEUP] = "pm-wakeup",
    [VRT_DOMAIN_EVENT_ID_PMSUSPEND] = "pm-suspend",
    [VRT_DOMAIN_EVENT_ID_BALLOON_CHANGE] = "balloon-change",
    [VRT_DOMAIN_EVENT_ID_PMSUSPEND_DISK] = "pm-suspend-disk",
    [VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED] = "device-removed",
    [VRT_DOMAIN_EVENT_ID_BLOCK_JOB_2] = "block-job-2",
    [VRT_DOMAIN_EVENT_ID_AGENT_LIFECYCLE] = "agent-lifecycle",
    [VRT_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED] = "device-removal-failed",
    [VRT_DOMAIN_EVENT_ID_MEMORY_FAILURE] = "memory-failure",
};

const char *
vrt_domain_event_id_to_string(int event_id)
{
    return event_id >= 0 && event_id < (int)G_N_ELEMENTS(event_names) ? event_names[event_id] : NULL;
}

int
vrt_domain_event_id_from_string(const char *name)
{
    for (guint i = 0; name && i < G_N_ELEMENTS(event_names); i++)
        if (event_names[i] && strcmp(event_names[i], name) == 0)
            return (int)i;
    return -1;
}

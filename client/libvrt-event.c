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
    if (event_id != VRT_DOMAIN_EVENT_ID_LIFECYCLE && event_id != VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED)
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
    } else {
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

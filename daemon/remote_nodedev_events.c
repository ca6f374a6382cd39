/*
 * Node device events (virsh nodedev-event, virConnectNodeDeviceEventRegisterAny):
 * libvirt's LIFECYCLE (created, deleted) and UPDATE events, raised when the
 * host's node device inventory changes: a device that appears or goes (a
 * VF made or removed by a sriov_numvfs change), or one whose XML changes
 * (a detach or reattach moving it to another driver). libvirt learns of
 * these from udev; vrt compares the inventory (names and XML, through the
 * node device driver) with the one it saw last, every POLL_MS while any
 * connection has a node device callback, on a thread of its own. The first
 * registration takes the inventory before it returns, so every change
 * after the call is reported; with no callback left the inventory is
 * dropped and the thread waits.
 */
#include "daemon/acl.h"
#include "daemon/daemon.h"
#include "drivers/nodedev/nodedev.h"
#include "util/error.h"

#include <string.h>

#define POLL_MS 500
#define VRT_NODE_DEVICE_EVENT_ID_LIFECYCLE 0
#define VRT_NODE_DEVICE_EVENT_ID_UPDATE 1
#define VRT_NODE_DEVICE_EVENT_ID_LAST 2
#define VRT_NODE_DEVICE_EVENT_CREATED 0
#define VRT_NODE_DEVICE_EVENT_DELETED 1

typedef struct {
    VrtDaemon *daemon;
    GThread *thread;
    GMutex lock; /* guards the fields below; a leaf: no other lock is taken under it */
    GCond cond; /* a registration or stop */
    bool stop;
    GHashTable *seen; /* name -> XML; NULL while nobody listens */
    guint64 registrations; /* counted, so a look at the callbacks can tell one came after it */
} Watch;

/* The inventory now: name -> XML (a device gone between the list and its
 * XML is left out). NULL when the list fails. */
static GHashTable *
inventory(VrtDaemon *daemon)
{
    g_autoptr(GPtrArray) names = vrt_nodedev_drv_list_names(daemon->nodedev, NULL, NULL);
    GHashTable *inv;

    if (!names)
        return NULL;
    inv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        char *xml = vrt_nodedev_drv_get_xml(daemon->nodedev, name, NULL);

        if (xml)
            g_hash_table_insert(inv, g_strdup(name), xml);
    }
    return inv;
}

static bool
anyone_listens(VrtDaemon *daemon)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

    for (guint i = 0; i < daemon->conns->len; i++) {
        VrtConn *conn = g_ptr_array_index(daemon->conns, i);
        g_autoptr(GMutexLocker) conn_locker = g_mutex_locker_new(&conn->lock);

        for (guint j = 0; conn->opened && j < conn->callbacks->len; j++) {
            const VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, j);
            if (cb->event_id >= VRT_EVENT_ID_NODEDEV(0) &&
                cb->event_id < VRT_EVENT_ID_NODEDEV(VRT_NODE_DEVICE_EVENT_ID_LAST))
                return true;
        }
    }
    return false;
}

/* One event to every callback of its kind (for all devices or this one). */
static void
emit(VrtDaemon *daemon, const char *name, int event_id, int event)
{
    remote_node_device_event_lifecycle_msg life = { 0 };
    remote_node_device_event_update_msg update = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

    life.dev.name = (char *)name;
    life.event = event;
    update.dev.name = (char *)name;
    for (guint i = 0; i < daemon->conns->len; i++) {
        VrtConn *conn = g_ptr_array_index(daemon->conns, i);
        g_autoptr(GMutexLocker) conn_locker = g_mutex_locker_new(&conn->lock);

        for (guint j = 0; conn->opened && j < conn->callbacks->len; j++) {
            const VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, j);

            if (cb->event_id != VRT_EVENT_ID_NODEDEV(event_id) || (cb->event && strcmp(cb->event, name) != 0) ||
                !vrt_acl_event_allowed(conn, cb->event_id, &update))
                continue;
            if (event_id == VRT_NODE_DEVICE_EVENT_ID_LIFECYCLE) {
                life.callbackID = cb->id;
                vrt_server_client_send_event(conn->client, VRT_PROC_NODE_DEVICE_EVENT_LIFECYCLE,
                                             (xdrproc_t)xdr_remote_node_device_event_lifecycle_msg, &life);
            } else {
                update.callbackID = cb->id;
                vrt_server_client_send_event(conn->client, VRT_PROC_NODE_DEVICE_EVENT_UPDATE,
                                             (xdrproc_t)xdr_remote_node_device_event_update_msg, &update);
            }
        }
    }
}

typedef struct {
    char *name;
    int event_id;
    int event;
} Change;

static void
change_free(gpointer p)
{
    Change *c = p;

    g_free(c->name);
    g_free(c);
}

static void
add_change(GPtrArray *changes, const char *name, int event_id, int event)
{
    Change *c = g_new0(Change, 1);

    c->name = g_strdup(name);
    c->event_id = event_id;
    c->event = event;
    g_ptr_array_add(changes, c);
}

static gint
cmp_change(gconstpointer a, gconstpointer b)
{
    return strcmp((*(Change *const *)a)->name, (*(Change *const *)b)->name);
}

/* The changes from old to now, sorted by device name. */
static GPtrArray *
diff(GHashTable *old, GHashTable *now)
{
    GPtrArray *changes = g_ptr_array_new_with_free_func(change_free);
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, now);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const char *before = g_hash_table_lookup(old, key);

        if (!before)
            add_change(changes, key, VRT_NODE_DEVICE_EVENT_ID_LIFECYCLE, VRT_NODE_DEVICE_EVENT_CREATED);
        else if (strcmp(before, value) != 0)
            add_change(changes, key, VRT_NODE_DEVICE_EVENT_ID_UPDATE, 0);
    }
    g_hash_table_iter_init(&it, old);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(now, key))
            add_change(changes, key, VRT_NODE_DEVICE_EVENT_ID_LIFECYCLE, VRT_NODE_DEVICE_EVENT_DELETED);
    g_ptr_array_sort(changes, cmp_change);
    return changes;
}

static gpointer
watch_run(gpointer data)
{
    Watch *w = data;

    for (;;) {
        g_autoptr(GHashTable) now = NULL;
        g_autoptr(GPtrArray) changes = NULL;
        guint64 registrations;
        bool listening;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);
            gint64 until = g_get_monotonic_time() + POLL_MS * G_TIME_SPAN_MILLISECOND;

            /* Nobody listening: wait for a registration; else poll. */
            while (!w->stop && !w->seen)
                g_cond_wait(&w->cond, &w->lock);
            while (!w->stop && g_cond_wait_until(&w->cond, &w->lock, until))
                ;
            if (w->stop)
                return NULL;
            registrations = w->registrations;
        }
        listening = anyone_listens(w->daemon);
        now = listening ? inventory(w->daemon) : NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

            /* Nobody listened when it looked: the inventory goes, unless
             * a registration came since, which keeps (or took) one. */
            if (!listening) {
                if (w->registrations == registrations)
                    g_clear_pointer(&w->seen, g_hash_table_unref);
                continue;
            }
            if (!now || !w->seen)
                continue;
            changes = diff(w->seen, now);
            g_hash_table_unref(w->seen);
            w->seen = g_steal_pointer(&now);
        }
        for (guint i = 0; i < changes->len; i++) {
            Change *c = g_ptr_array_index(changes, i);
            emit(w->daemon, c->name, c->event_id, c->event);
        }
    }
}

/* The watcher, started on first use, with an inventory to compare with.
 * Called after the callback is added, and counted under the watcher's
 * lock: a watcher that saw no callback before the addition keeps the
 * inventory this keeps or takes. */
static bool
watch_start(VrtDaemon *daemon, GError **error)
{
    g_autoptr(GMutexLocker) start = g_mutex_locker_new(&daemon->nodedev_events_lock);
    Watch *w = daemon->nodedev_events;
    g_autoptr(GHashTable) inv = NULL;

    if (!w) {
        w = g_new0(Watch, 1);
        w->daemon = daemon;
        g_mutex_init(&w->lock);
        g_cond_init(&w->cond);
        w->thread = g_thread_new("vrt-nodedev-events", watch_run, w);
        daemon->nodedev_events = w;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);
        w->registrations++;
        if (w->seen)
            return true;
    }
    inv = inventory(daemon);
    if (!inv) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "cannot list the node devices");
        return false;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);
        w->registrations++;
        if (!w->seen)
            w->seen = g_steal_pointer(&inv);
        g_cond_signal(&w->cond);
    }
    return true;
}

void
vrt_nodedev_events_stop(VrtDaemon *daemon)
{
    Watch *w = daemon->nodedev_events;

    if (!w)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);
        w->stop = true;
        g_cond_signal(&w->cond);
    }
    g_thread_join(w->thread);
    g_clear_pointer(&w->seen, g_hash_table_unref);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    g_free(w);
    daemon->nodedev_events = NULL;
}

bool
vrt_handle_connect_node_device_event_register_any(VrtCall *call,
                                                  remote_connect_node_device_event_register_any_args *args,
                                                  remote_connect_node_device_event_register_any_ret *ret,
                                                  GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    VrtEventCallback cb = { 0 };

    if (args->eventID < 0 || args->eventID >= VRT_NODE_DEVICE_EVENT_ID_LAST) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported event ID %d", args->eventID);
        return false;
    }
    if (!daemon->nodedev) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the node device driver is not running");
        return false;
    }
    cb.event_id = VRT_EVENT_ID_NODEDEV(args->eventID);
    if (args->dev)
        cb.event = g_strdup(args->dev->name);
    ret->callbackID = vrt_conn_add_callback(vrt_call_conn(call), &cb);
    if (!watch_start(daemon, error)) {
        vrt_conn_remove_callback(vrt_call_conn(call), ret->callbackID, false);
        return false;
    }
    return true;
}

bool
vrt_handle_connect_node_device_event_deregister_any(VrtCall *call,
                                                    remote_connect_node_device_event_deregister_any_args *args,
                                                    GError **error)
{
    if (vrt_conn_remove_callback(vrt_call_conn(call), args->callbackID, false))
        return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "callback ID %d not registered", args->callbackID);
    return false;
}

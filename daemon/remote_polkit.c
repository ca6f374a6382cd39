/*
 * polkit authorization of UNIX socket clients (auth_unix_rw / auth_unix_ro
 * = "polkit"): AUTH_POLKIT asks polkitd, on the system bus, whether the
 * peer process may do org.libvirt.unix.manage (the read-write socket) or
 * org.libvirt.unix.monitor (the read-only one), as libvirtd does. The
 * subject is the peer as the kernel names it (SO_PEERCRED's pid and uid)
 * with the pid's start time from /proc, so polkitd can tell a recycled pid
 * from the process that connected. The call is CheckAuthorization on
 * org.freedesktop.PolicyKit1.Authority through GDBus, the same message
 * libvirt sends; it blocks a worker thread (never the I/O thread) until
 * polkitd answers. A refusal is libvirt's error: "authentication failed:
 * access denied by policy", or "authentication unavailable: no polkit agent
 * available ..." when polkitd wants the user to authenticate and no agent
 * answered.
 */
#include "daemon/daemon.h"
#include "daemon/polkit.h"
#include "util/error.h"
#include "util/proc.h"

#include <gio/gio.h>

int
vrt_polkit_check(const char *action, pid_t pid, guint64 start_time, uid_t uid, const char *const *details,
                 bool allow_interaction, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &local);

    if (!bus) {
        vrt_error_set(error, VIR_ERR_DBUS_SERVICE, "cannot reach the system bus for polkit: %s", local->message);
        return -1;
    }
    GVariantBuilder subject;
    g_variant_builder_init(&subject, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&subject, "{sv}", "pid", g_variant_new_uint32((guint32)pid));
    g_variant_builder_add(&subject, "{sv}", "start-time", g_variant_new_uint64(start_time));
    g_variant_builder_add(&subject, "{sv}", "uid", g_variant_new_int32((gint32)uid));
    GVariantBuilder det;
    g_variant_builder_init(&det, G_VARIANT_TYPE("a{ss}"));
    for (const char *const *d = details; d && d[0] && d[1]; d += 2)
        g_variant_builder_add(&det, "{ss}", d[0], d[1]);
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
        "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
        g_variant_new("((sa{sv})sa{ss}us)", "unix-process", &subject, action, &det, allow_interaction ? 1u : 0u, ""),
        G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &local);
    if (!reply) {
        vrt_error_set(error, VIR_ERR_DBUS_SERVICE, "polkit CheckAuthorization of '%s' failed: %s", action,
                      local->message);
        return -1;
    }
    gboolean authorized = FALSE, challenge = FALSE;
    g_autoptr(GVariantIter) iter = NULL;
    const char *key, *value;
    bool dismissed = false;

    g_variant_get(reply, "((bba{ss}))", &authorized, &challenge, &iter);
    while (g_variant_iter_next(iter, "{&s&s}", &key, &value))
        if (g_str_equal(key, "polkit.dismissed") && g_str_equal(value, "true"))
            dismissed = true;
    if (authorized)
        return 1;
    if (dismissed)
        vrt_error_set(error, VIR_ERR_AUTH_CANCELLED, "%s", "user cancelled authentication process");
    else if (challenge)
        vrt_error_set(error, VIR_ERR_AUTH_UNAVAILABLE, "no polkit agent available to authenticate action '%s'", action);
    else
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "access denied by policy");
    return 0;
}

#define POLKIT_IN_FLIGHT 64

typedef struct {
    guint pending;
    gboolean *allowed;
} Batch;

typedef struct {
    Batch *batch;
    guint index;
} BatchItem;

static void
batch_done(GObject *source, GAsyncResult *res, gpointer data)
{
    BatchItem *item = data;
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &local);
    gboolean authorized = FALSE, challenge = FALSE;

    if (reply) {
        g_autoptr(GVariantIter) iter = NULL;
        g_variant_get(reply, "((bba{ss}))", &authorized, &challenge, &iter);
    } else {
        g_warning("polkit CheckAuthorization failed: %s", local->message);
    }
    item->batch->allowed[item->index] = authorized;
    item->batch->pending--;
    g_free(item);
}

bool
vrt_polkit_check_many(const char *action, pid_t pid, guint64 start_time, uid_t uid, const char *const *const *details,
                      guint n, gboolean *allowed, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &local);

    if (!bus) {
        vrt_error_set(error, VIR_ERR_DBUS_SERVICE, "cannot reach the system bus for polkit: %s", local->message);
        return false;
    }
    /* Every question is sent at once and the answers are gathered on a
     * context of this thread's own: the round trips overlap, where one
     * call after the other waits for each. */
    g_autoptr(GMainContext) ctx = g_main_context_new();
    Batch batch = { .pending = n, .allowed = allowed };

    g_main_context_push_thread_default(ctx);
    for (guint i = 0; i < n; i++) {
        /* dbus-daemon refuses a connection more than its pending replies
         * limit (128 on a system bus): a window of questions in flight. */
        while (i - (n - batch.pending) >= POLKIT_IN_FLIGHT)
            g_main_context_iteration(ctx, TRUE);
        GVariantBuilder subject, det;
        g_variant_builder_init(&subject, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&subject, "{sv}", "pid", g_variant_new_uint32((guint32)pid));
        g_variant_builder_add(&subject, "{sv}", "start-time", g_variant_new_uint64(start_time));
        g_variant_builder_add(&subject, "{sv}", "uid", g_variant_new_int32((gint32)uid));
        g_variant_builder_init(&det, G_VARIANT_TYPE("a{ss}"));
        for (const char *const *d = details[i]; d && d[0] && d[1]; d += 2)
            g_variant_builder_add(&det, "{ss}", d[0], d[1]);
        BatchItem *item = g_new0(BatchItem, 1);
        item->batch = &batch;
        item->index = i;
        allowed[i] = FALSE;
        g_dbus_connection_call(bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                               "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                               g_variant_new("((sa{sv})sa{ss}us)", "unix-process", &subject, action, &det, 0u, ""),
                               G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, batch_done, item);
    }
    while (batch.pending > 0)
        g_main_context_iteration(ctx, TRUE);
    g_main_context_pop_thread_default(ctx);
    return true;
}

bool
vrt_polkit_client_subject(VrtServerClient *client, pid_t *pid, guint64 *start_time, uid_t *uid, GError **error)
{
    if (!vrt_server_client_get_unix_identity(client, pid, uid)) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s",
                      "polkit needs the client's process, which only a UNIX socket gives");
        return false;
    }
    *start_time = vrt_proc_pid_starttime(NULL, *pid);
    if (*start_time == 0) {
        g_warning("failing polkit auth due to missing client (pid=%d) start time", (int)*pid);
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "authentication failed");
        return false;
    }
    return true;
}

bool
vrt_handle_auth_polkit(VrtCall *call, remote_auth_polkit_ret *ret, GError **error)
{
    VrtServerClient *client = vrt_call_get_client(call);
    const char *action = vrt_server_client_is_readonly(client) ? "org.libvirt.unix.monitor" : "org.libvirt.unix.manage";
    pid_t pid;
    uid_t uid;
    guint64 start;

    if (vrt_server_client_get_auth(client) != VRT_RPC_AUTH_POLKIT) {
        g_warning("client fd %d tried invalid PolicyKit init request", vrt_server_client_get_fd(client));
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "authentication failed");
        return false;
    }
    if (!vrt_polkit_client_subject(client, &pid, &start, &uid, error))
        return false;
    g_autoptr(GError) why = NULL;
    /* libvirtd lets polkitd ask the user (an agent of the caller's session). */
    if (vrt_polkit_check(action, pid, start, uid, NULL, true, &why) != 1) {
        g_warning("polkit refused action %s to pid %d uid %d: %s", action, (int)pid, (int)uid, why->message);
        g_propagate_error(error, g_steal_pointer(&why));
        return false;
    }
    g_message("polkit allowed action %s to pid %d uid %d", action, (int)pid, (int)uid);
    ret->complete = 1;
    vrt_server_client_set_authenticated(client);
    return true;
}

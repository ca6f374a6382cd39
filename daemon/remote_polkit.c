/*
 * polkit authorization of UNIX socket clients (auth_unix_rw / auth_unix_ro
 * = "polkit") and the questions of access control (access_drivers =
 * [ "polkit" ]), asked of polkitd through libpolkit-gobject-1, as
 * libvirtd's polkit code did before it dropped the library. AUTH_POLKIT
 * asks whether the peer process may do org.libvirt.unix.manage (the
 * read-write socket) or org.libvirt.unix.monitor (the read-only one). The
 * subject is the peer as the kernel names it (SO_PEERCRED's pid and uid)
 * with the pid's start time from /proc, a PolkitUnixProcess made for that
 * owner, so polkitd can tell a recycled pid from the process that
 * connected and need not look the uid up. A check blocks a worker thread
 * (never the I/O thread) until polkitd answers. A refusal is libvirt's
 * error: "authentication failed: access denied by policy",
 * "authentication unavailable: no polkit agent available ..." when polkitd
 * wants the user to authenticate and no agent answered, "user cancelled
 * authentication process" when the user dismissed the agent's dialog.
 */
#include "daemon/daemon.h"
#include "daemon/polkit.h"
#include "util/error.h"
#include "util/proc.h"

#include <polkit/polkit.h>

/* polkitd's authority, made once: making one is a D-Bus round trip
 * (the proxy reads the authority's properties), and the library keeps a
 * single instance anyway. It is made with no thread-default context pushed,
 * so its proxy's signals go to the daemon's main context. NULL with error
 * when the system bus or polkitd cannot be reached (tried again next
 * time). */
static PolkitAuthority *
authority(GError **error)
{
    static GMutex lock;
    static PolkitAuthority *cached;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);
    g_autoptr(GError) local = NULL;

    if (!cached)
        cached = polkit_authority_get_sync(NULL, &local);
    if (!cached) {
        vrt_error_set(error, VIR_ERR_DBUS_SERVICE, "cannot reach polkit's authority on the system bus: %s",
                      local->message);
        return NULL;
    }
    return g_object_ref(cached);
}

/* The subject and details of one question. */
static PolkitSubject *
subject_of(pid_t pid, guint64 start_time, uid_t uid)
{
    return polkit_unix_process_new_for_owner((gint)pid, start_time, (gint)uid);
}

static PolkitDetails *
details_of(const char *const *details)
{
    PolkitDetails *d = polkit_details_new();

    for (const char *const *p = details; p && p[0] && p[1]; p += 2)
        polkit_details_insert(d, p[0], p[1]);
    return d;
}

int
vrt_polkit_check(const char *action, pid_t pid, guint64 start_time, uid_t uid, const char *const *details,
                 bool allow_interaction, GError **error)
{
    g_autoptr(PolkitAuthority) auth = authority(error);

    if (!auth)
        return -1;
    g_autoptr(PolkitSubject) subject = subject_of(pid, start_time, uid);
    g_autoptr(PolkitDetails) det = details_of(details);
    g_autoptr(GError) local = NULL;
    /* The agent's dialog may take as long as the user takes: the
     * library waits without a timeout, as libvirt's call did. */
    g_autoptr(PolkitAuthorizationResult) result = polkit_authority_check_authorization_sync(
        auth, subject, action, det,
        allow_interaction ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                          : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
        NULL, &local);

    if (!result) {
        vrt_error_set(error, VIR_ERR_DBUS_SERVICE, "polkit CheckAuthorization of '%s' failed: %s", action,
                      local->message);
        return -1;
    }
    if (polkit_authorization_result_get_is_authorized(result))
        return 1;
    if (polkit_authorization_result_get_dismissed(result))
        vrt_error_set(error, VIR_ERR_AUTH_CANCELLED, "%s", "user cancelled authentication process");
    else if (polkit_authorization_result_get_is_challenge(result))
        vrt_error_set(error, VIR_ERR_AUTH_UNAVAILABLE, "no polkit agent available to authenticate action '%s'", action);
    else
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "access denied by policy");
    return 0;
}

/* dbus-daemon refuses a connection more than its pending replies limit
 * (128 on a system bus): a window of questions in flight. */
#define POLKIT_IN_FLIGHT 64

typedef struct {
    guint answered;
    gboolean *allowed;
} Batch;

typedef struct {
    Batch *batch;
    guint index;
} BatchItem;

static void
batch_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree BatchItem *item = data;
    g_autoptr(GError) local = NULL;
    g_autoptr(PolkitAuthorizationResult) result =
        polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &local);

    if (!result)
        g_warning("polkit CheckAuthorization failed: %s", local->message);
    item->batch->allowed[item->index] = result && polkit_authorization_result_get_is_authorized(result);
    item->batch->answered++;
}

bool
vrt_polkit_check_many(const char *action, pid_t pid, guint64 start_time, uid_t uid, const char *const *const *details,
                      guint n, gboolean *allowed, GError **error)
{
    /* Made before this thread's own context is pushed (see authority()). */
    g_autoptr(PolkitAuthority) auth = authority(error);

    if (!auth)
        return false;
    g_autoptr(PolkitSubject) subject = subject_of(pid, start_time, uid);
    /* Every question is sent at once and the answers are gathered on a
     * context of this thread's own: the round trips overlap, where one
     * call after the other waits for each. */
    g_autoptr(GMainContext) ctx = g_main_context_new();
    Batch batch = { .answered = 0, .allowed = allowed };

    g_main_context_push_thread_default(ctx);
    for (guint i = 0; i < n; i++) {
        while (i - batch.answered >= POLKIT_IN_FLIGHT)
            g_main_context_iteration(ctx, TRUE);
        g_autoptr(PolkitDetails) det = details_of(details[i]);
        BatchItem *item = g_new0(BatchItem, 1);
        item->batch = &batch;
        item->index = i;
        allowed[i] = FALSE;
        polkit_authority_check_authorization(auth, subject, action, det, POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, NULL,
                                             batch_done, item);
    }
    while (batch.answered < n)
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
    int allowed = vrt_polkit_check(action, pid, start, uid, NULL, true, &why);
    if (allowed != 1) {
        g_warning("polkit refused action %s to pid %d uid %d: %s", action, (int)pid, (int)uid, why->message);
        /* polkit's refusal comes from libvirt's polkit module: virsh starts
         * its text agent and asks again on VIR_FROM_POLKIT's
         * AUTH_UNAVAILABLE, and on its AUTH_FAILED asks again up to 5 times. */
        if (allowed == 0)
            vrt_call_set_error_origin(call, VIR_FROM_POLKIT);
        g_propagate_error(error, g_steal_pointer(&why));
        return false;
    }
    g_message("polkit allowed action %s to pid %d uid %d", action, (int)pid, (int)uid);
    ret->complete = 1;
    vrt_server_client_set_authenticated(client);
    return true;
}

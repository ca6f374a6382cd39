/*
 * vrtd: the daemon's entry point. Reads options and vrtd.conf, takes the pid
 * file lock of its root, opens the read-write and read-only sockets (or takes
 * them from systemd), starts the drivers and serves. SIGHUP reloads the
 * domain and network definitions, as libvirtd's does. SIGTERM ends it: it
 * finishes the calls in flight, closes its clients and exits 0. VMs keep
 * running across a restart of vrtd.
 */
#include "daemon/acl.h"
#include "daemon/daemon.h"
#include "daemon/drivers.h"
#include "daemon/log.h"
#include "daemon/remote_cpu.h"
#include "daemon/remote_migrate.h"
#include "rpc/server.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "vrt-config.h"

#include <errno.h>
#include <libxml/parser.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define DEFAULT_CONFIG_FILE "/etc/vrt/vrtd.conf"
#define DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
/* The SASL exchange (AUTH_SASL_INIT 67 to STEP 69) and AUTH_POLKIT (70)
 * come before the open. */
#define CONN_CHECK_UNOPENED_OK(info)                                                          \
    (((info)->prog == VRT_REMOTE_PROGRAM &&                                                   \
      ((info)->proc == VRT_PROC_CONNECT_OPEN || (info)->proc == VRT_PROC_AUTH_LIST ||         \
       (info)->proc == VRT_PROC_CONNECT_SUPPORTS_FEATURE ||                                   \
       ((info)->proc >= VRT_PROC_AUTH_SASL_INIT && (info)->proc <= VRT_PROC_AUTH_POLKIT))) || \
     ((info)->prog == VRT_ADMIN_PROGRAM && (info)->proc == VRT_PROC_ADMIN_CONNECT_OPEN))

/* ---- connections and events ---- */

static void
conn_free(gpointer data)
{
    VrtConn *conn = data;
    vrt_conn_auth_clear(conn);
    g_array_free(conn->callbacks, TRUE);
    g_free(conn->uri);
    g_mutex_clear(&conn->lock);
    g_free(conn);
}

static void
on_client_connect(VrtServerClient *client, gpointer data)
{
    VrtDaemon *daemon = data;
    VrtConn *conn = g_new0(VrtConn, 1);
    conn->daemon = daemon;
    conn->client = client;
    g_mutex_init(&conn->lock);
    conn->callbacks = g_array_new(FALSE, TRUE, sizeof(VrtEventCallback));
    g_array_set_clear_func(conn->callbacks, vrt_event_callback_clear);
    vrt_server_client_set_data(client, conn, conn_free);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

        g_ptr_array_add(daemon->conns, conn);
    }
}

static void
on_client_close(VrtServerClient *client, gpointer data)
{
    VrtDaemon *daemon = data;
    VrtConn *conn = vrt_server_client_get_data(client);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

        g_ptr_array_remove(daemon->conns, conn);
    }
    /* An incoming migration it prepared and never finished ends. */
    vrt_migrate_conn_closed(conn);
}

static bool
check_call(VrtCall *call, const VrtProcInfo *info, const void *args, gpointer data, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    if (CONN_CHECK_UNOPENED_OK(info))
        return info->proc != VRT_PROC_CONNECT_OPEN || !vrt_acl_enabled(conn->daemon) ||
               vrt_acl_check_call(call, info, args, error);
    bool opened, ro;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        opened = conn->opened;
        ro = conn->readonly;
    }
    if (!opened) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "connection not open");
        return false;
    }
    /* The read-only socket, or VIR_CONNECT_RO at open: also the flags. */
    if (ro && !vrt_rpc_readonly_check(info, args, error))
        return false;
    /* access_drivers = [ "polkit" ]: the call's permissions (libvirt's @acl). */
    return !vrt_acl_enabled(conn->daemon) || vrt_acl_check_call(call, info, args, error);
}

/* The generated dispatch; with access control, list calls' replies show
 * only the objects the caller may see (libvirt's @aclfilter). */
static bool
dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error)
{
    if (vrt_acl_enabled(vrt_call_daemon(call)))
        return vrt_acl_dispatch(call, info, args, ret, error);
    return vrt_daemon_dispatch(call, info, args, ret, error);
}

/* Sends one event message to every connection with a matching callback;
 * callback_id points into msg and is set per registration. */
static void
emit(VrtDaemon *daemon, int event_id, const guchar uuid[16], int proc, xdrproc_t filter, const void *msg,
     int *callback_id)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

    for (guint i = 0; i < daemon->conns->len; i++) {
        VrtConn *conn = g_ptr_array_index(daemon->conns, i);
        g_autoptr(GMutexLocker) conn_locker = g_mutex_locker_new(&conn->lock);

        for (guint j = 0; conn->opened && j < conn->callbacks->len; j++) {
            VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, j);
            if (cb->event_id != event_id || (cb->has_dom && memcmp(cb->uuid, uuid, 16) != 0) ||
                !vrt_acl_event_allowed(conn, event_id, msg))
                continue;
            *callback_id = cb->id;
            vrt_server_client_send_event(conn->client, proc, filter, msg);
        }
    }
}

void
vrt_daemon_emit_event(VrtDaemon *daemon, int event_id, const guchar uuid[16], int proc, xdrproc_t filter,
                      const void *msg, int *callback_id)
{
    emit(daemon, event_id, uuid, proc, filter, msg, callback_id);
}

void
vrt_daemon_emit_lifecycle(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id, int event, int detail)
{
    remote_domain_event_callback_lifecycle_msg msg = { 0 };
    msg.msg.dom.name = (char *)dom_name;
    memcpy(msg.msg.dom.uuid, uuid, 16);
    msg.msg.dom.id = id;
    msg.msg.event = event;
    msg.msg.detail = detail;
    emit(daemon, VRT_DOMAIN_EVENT_ID_LIFECYCLE, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
         (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &msg, &msg.callbackID);
}

void
vrt_daemon_emit_device_removed(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id,
                               const char *alias)
{
    remote_domain_event_callback_device_removed_msg msg = { 0 };
    msg.msg.dom.name = (char *)dom_name;
    memcpy(msg.msg.dom.uuid, uuid, 16);
    msg.msg.dom.id = id;
    msg.msg.devAlias = (char *)alias;
    emit(daemon, VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED,
         (xdrproc_t)xdr_remote_domain_event_callback_device_removed_msg, &msg, &msg.callbackID);
}

void
vrt_event_callback_clear(gpointer data)
{
    VrtEventCallback *cb = data;

    g_clear_pointer(&cb->event, g_free);
    g_clear_pointer(&cb->regex, g_regex_unref);
}

/* Whether monitor event callback cb wants QMP event name. */
static bool
monitor_event_wanted(const VrtEventCallback *cb, const char *name)
{
    if (!cb->event)
        return true;
    if (cb->regex)
        return g_regex_match(cb->regex, name, 0, NULL);
    if (cb->flags & VRT_QEMU_MONITOR_EVENT_REGISTER_NOCASE)
        return g_ascii_strcasecmp(cb->event, name) == 0;
    return strcmp(cb->event, name) == 0;
}

void
vrt_daemon_emit_monitor_event(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id, const char *event,
                              gint64 seconds, guint micros, const char *details)
{
    qemu_domain_monitor_event_msg msg = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);

    msg.dom.name = (char *)dom_name;
    memcpy(msg.dom.uuid, uuid, 16);
    msg.dom.id = id;
    msg.event = (char *)event;
    msg.seconds = seconds;
    msg.micros = micros;
    msg.details = details ? (char **)&details : NULL;
    for (guint i = 0; i < daemon->conns->len; i++) {
        VrtConn *conn = g_ptr_array_index(daemon->conns, i);
        g_autoptr(GMutexLocker) conn_locker = g_mutex_locker_new(&conn->lock);

        for (guint j = 0; conn->opened && j < conn->callbacks->len; j++) {
            VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, j);
            if (cb->event_id != VRT_EVENT_ID_QEMU_MONITOR || (cb->has_dom && memcmp(cb->uuid, uuid, 16) != 0) ||
                !monitor_event_wanted(cb, event) || !vrt_acl_event_allowed(conn, VRT_EVENT_ID_QEMU_MONITOR, &msg))
                continue;
            msg.callbackID = cb->id;
            vrt_server_client_send_program_event(conn->client, VRT_QEMU_PROGRAM, VRT_QEMU_VERSION,
                                                 VRT_PROC_QEMU_DOMAIN_MONITOR_EVENT,
                                                 (xdrproc_t)xdr_qemu_domain_monitor_event_msg, &msg);
        }
    }
}

void
vrt_daemon_emit_metadata_change(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id, int type,
                                const char *nsuri)
{
    remote_domain_event_callback_metadata_change_msg msg = { 0 };
    char *uri = (char *)nsuri;
    msg.dom.name = (char *)dom_name;
    memcpy(msg.dom.uuid, uuid, 16);
    msg.dom.id = id;
    msg.type = type;
    msg.nsuri = nsuri ? &uri : NULL;
    emit(daemon, VRT_DOMAIN_EVENT_ID_METADATA_CHANGE, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE,
         (xdrproc_t)xdr_remote_domain_event_callback_metadata_change_msg, &msg, &msg.callbackID);
}

/* QEMU's version, cached in <run_dir>/qemu-version with the binary's size and
 * mtime, so a restarted vrtd answers without running QEMU. */
static guint64
qemu_version_cached(VrtDaemon *daemon)
{
    struct stat st;
    if (stat(daemon->emulator, &st) < 0)
        return 0;
    g_autofree char *cache = g_build_filename(daemon->run_dir, "qemu-version", NULL);
    g_autofree char *key =
        g_strdup_printf("%s %lld %lld", daemon->emulator, (long long)st.st_size, (long long)st.st_mtime);
    g_autofree char *text = NULL;
    if (g_file_get_contents(cache, &text, NULL, NULL)) {
        char *sp = strrchr(text, ' ');
        if (sp && (size_t)(sp - text) == strlen(key) && strncmp(text, key, strlen(key)) == 0)
            return g_ascii_strtoull(sp + 1, NULL, 10);
    }
    const char *argv[] = { daemon->emulator, "--version", NULL };
    g_autofree char *out = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;
    guint64 version = 0;
    if (g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &err) &&
        status == 0) {
        const char *v = strstr(out, "version ");
        unsigned maj = 0, min = 0, mic = 0;
        if (v && sscanf(v + 8, "%u.%u.%u", &maj, &min, &mic) >= 2)
            version = (guint64)maj * 1000000 + min * 1000 + mic;
    } else {
        g_warning("cannot run %s --version: %s", daemon->emulator, err ? err->message : "non-zero exit");
    }
    if (version) {
        g_autofree char *line = g_strdup_printf("%s %" G_GUINT64_FORMAT, key, version);
        g_autoptr(GError) werr = NULL;
        if (!vrt_file_write_atomic(cache, line, -1, 0644, &werr))
            g_debug("cannot cache QEMU's version: %s", werr->message);
    }
    return version;
}

void
vrt_daemon_probe(VrtDaemon *daemon)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->probe_lock);

        if (!daemon->probed) {
            daemon->hv_version = qemu_version_cached(daemon);
            daemon->probed = true;
        }
    }
}

/* ---- start-up ---- */

static bool
take_pidfile(VrtDaemon *daemon, GError **error)
{
    int fd = open(daemon->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open pid file '%s'", daemon->pidfile);
        return false;
    }
    if (lockf(fd, F_TLOCK, 0) < 0) {
        char buf[32] = { 0 };
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                      "another vrtd is already running with root '%s' (pid %s, pid file '%s')",
                      *daemon->root ? daemon->root : "/", n > 0 ? g_strstrip(buf) : "?", daemon->pidfile);
        return false;
    }
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot write pid file '%s'", daemon->pidfile);
        close(fd);
        return false;
    }
    daemon->pidfile_fd = fd;
    return true;
}

/* The admin socket, <root>/run/vrt/vrtd-admin-sock: root only (0700), the
 * admin program alone (daemon/remote_admin.c), made by vrtd itself also
 * when systemd passed the other sockets, as libvirtd's admin socket. */
static bool
open_admin_socket(VrtDaemon *daemon, GError **error)
{
    g_autofree char *path = g_build_filename(daemon->run_dir, "vrtd-admin-sock", NULL);

    if (!vrt_rpc_server_add_admin_unix(daemon->server, path, error))
        return false;
    g_message("admin interface on %s", path);
    return true;
}

static bool
open_sockets(VrtDaemon *daemon, GError **error)
{
    if (!open_admin_socket(daemon, error))
        return false;
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    if (n > 0) {
        for (int i = 0; i < n; i++) {
            bool ro = names && names[i] && (strstr(names[i], "-ro") || g_str_equal(names[i], "ro"));
            bool taken = false;
            /* vrtd-tls.socket and vrtd-tcp.socket (FileDescriptorName tls, tcp). */
            if (!vrt_daemon_remote_add_fd(daemon, SD_LISTEN_FDS_START + i, names ? names[i] : NULL, &taken, error)) {
                g_strfreev(names);
                return false;
            }
            if (taken) {
                g_message("serving socket passed by systemd: fd %d (%s)", SD_LISTEN_FDS_START + i, names[i]);
                continue;
            }
            g_message("serving socket passed by systemd: fd %d (%s)%s", SD_LISTEN_FDS_START + i,
                      names && names[i] ? names[i] : "unnamed", ro ? ", read-only" : "");
            if (!vrt_rpc_server_add_fd(daemon->server, SD_LISTEN_FDS_START + i, ro, error)) {
                g_strfreev(names);
                return false;
            }
        }
        g_strfreev(names);
        return true;
    }
    g_strfreev(names);

    g_autofree char *dir = daemon->cfg.unix_sock_dir ? g_strdup(daemon->cfg.unix_sock_dir) : g_strdup(daemon->run_dir);
    if (!vrt_dir_ensure(dir, 0755, error))
        return false;
    gid_t gid = (gid_t)-1;
    if (daemon->cfg.unix_sock_group) {
        struct group *gr = getgrnam(daemon->cfg.unix_sock_group);
        if (!gr) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "unix_sock_group: no group named '%s'",
                          daemon->cfg.unix_sock_group);
            return false;
        }
        gid = gr->gr_gid;
    }
    g_autofree char *rw = g_build_filename(dir, "vrtd-sock", NULL);
    g_autofree char *ro = g_build_filename(dir, "vrtd-sock-ro", NULL);
    if (!vrt_rpc_server_add_unix(daemon->server, rw, daemon->cfg.unix_sock_rw_perms, gid, false, error) ||
        !vrt_rpc_server_add_unix(daemon->server, ro, daemon->cfg.unix_sock_ro_perms, gid, true, error))
        return false;
    g_message("listening on %s and %s", rw, ro);
    return true;
}

static gboolean
on_terminate(gpointer data)
{
    VrtDaemon *daemon = data;
    g_message("shutting down on signal");
    g_main_loop_quit(daemon->loop);
    return G_SOURCE_CONTINUE;
}

static void
run_reload(gpointer item G_GNUC_UNUSED, gpointer data)
{
    vrt_daemon_drivers_reload(data);
}

/* SIGHUP reloads definitions as libvirtd does; listeners and vrtd.conf
 * stay. The reload waits for domain jobs and reads files, so it runs on its
 * own thread: the I/O thread keeps serving clients meanwhile. */
static gboolean
on_reload(gpointer data)
{
    VrtDaemon *daemon = data;
    g_autoptr(GError) err = NULL;

    g_message("SIGHUP: reload requested");
    if (!g_thread_pool_push(daemon->reloader, GINT_TO_POINTER(1), &err))
        g_warning("cannot reload: %s", err->message);
    return G_SOURCE_CONTINUE;
}

static void
daemon_free(VrtDaemon *daemon)
{
    /* Calls in flight finish before the drivers they use go away. */
    /* A reload under way finishes (queued ones are dropped) while the
     * clients its events go to and the drivers are still there. */
    if (daemon->reloader)
        g_thread_pool_free(g_steal_pointer(&daemon->reloader), TRUE, TRUE);
    g_clear_pointer(&daemon->server, vrt_rpc_server_free);
    /* After the server: its clients' streams have ended and closed
     * connections were reported. */
    vrt_stream_holds_free(daemon->stream_holds);
    vrt_migrate_conns_free(daemon->migrations);
    vrt_daemon_remote_free(daemon);
    vrt_daemon_drivers_free(daemon);
    if (daemon->pidfile_fd >= 0) {
        unlink(daemon->pidfile);
        close(daemon->pidfile_fd);
    }
    if (daemon->conns)
        g_ptr_array_free(daemon->conns, TRUE);
    g_mutex_clear(&daemon->conns_lock);
    g_mutex_clear(&daemon->probe_lock);
    g_mutex_clear(&daemon->nodedev_events_lock);
    if (daemon->loop)
        g_main_loop_unref(daemon->loop);
    if (daemon->ctx)
        g_main_context_unref(daemon->ctx);
    vrt_config_clear(&daemon->cfg);
    g_free(daemon->root);
    g_free(daemon->run_dir);
    g_free(daemon->etc_dir);
    g_free(daemon->log_dir);
    g_free(daemon->host_root);
    g_free(daemon->emulator);
    g_free(daemon->pidfile);
    g_free(daemon->capabilities);
    vrt_daemon_host_cpu_free(daemon);
    g_free(daemon);
}

/* --daemon's child tells its parent, through the pipe *fd, that it serves
 * (error NULL: one NUL byte) or why it stopped (the message), as libvirtd
 * does; the parent waits for it (wait_for_daemon). Closes *fd. */
static void
report_ready(int *fd, const char *error)
{
    if (*fd < 0)
        return;
    const char *msg = error ? error : "";
    size_t len = strlen(msg) + 1, done = 0;
    while (done < len) {
        ssize_t n = write(*fd, msg + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(*fd);
    *fd = -1;
}

/* --daemon's parent: the exit status once the child reported on fd, 0 when
 * it serves; otherwise its error printed on stderr and 1 (the child's
 * stderr is /dev/null by then). */
static int
wait_for_daemon(int fd)
{
    g_autoptr(GString) msg = g_string_new(NULL);
    char buf[512];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        g_string_append_len(msg, buf, n);
    }
    close(fd);
    if (msg->len == 1 && msg->str[0] == '\0')
        return 0;
    fprintf(stderr, "vrtd: %s\n", msg->len ? msg->str : "the daemon exited before it was ready");
    return 1;
}

int
main(int argc, char **argv)
{
    g_autofree char *root = NULL;
    g_autofree char *config = NULL;
    g_autofree char *host_root = NULL;
    gboolean daemonize = FALSE, version = FALSE, listen = FALSE;
    GOptionEntry entries[] = {
        { "root", 'r', 0, G_OPTION_ARG_FILENAME, &root, "Keep all state, sockets and logs under DIR", "DIR" },
        { "config", 'f', 0, G_OPTION_ARG_FILENAME, &config, "Configuration file (default <root>/etc/vrt/vrtd.conf)",
          "FILE" },
        { "host-root", 0, 0, G_OPTION_ARG_FILENAME, &host_root,
          "Read sysfs, /proc and /dev under DIR (a simulated host)", "DIR" },
        { "daemon", 'd', 0, G_OPTION_ARG_NONE, &daemonize, "Run in the background", NULL },
        { "listen", 'l', 0, G_OPTION_ARG_NONE, &listen, "Listen for TCP/IP connections (listen_tls, listen_tcp)",
          NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(GOptionContext) octx = g_option_context_new("- the vrt virtualization daemon");
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        fprintf(stderr, "vrtd: %s\n", err->message);
        return 2;
    }
    if (version) {
        printf("vrtd %s\n", VRT_VERSION);
        return 0;
    }

    /* libxml2's globals are set up once, before any worker thread parses. */
    xmlInitParser();
    VrtDaemon *daemon = g_new0(VrtDaemon, 1);
    daemon->pidfile_fd = -1;
    g_mutex_init(&daemon->conns_lock);
    g_mutex_init(&daemon->probe_lock);
    g_mutex_init(&daemon->nodedev_events_lock);
    daemon->conns = g_ptr_array_new();
    daemon->migrations = vrt_migrate_conns_new();
    daemon->stream_holds = vrt_stream_holds_new();
    if (root) {
        g_autofree char *abs = g_canonicalize_filename(root, NULL);
        daemon->root = g_steal_pointer(&abs);
    } else {
        daemon->root = g_strdup("");
    }
    daemon->run_dir = g_strconcat(daemon->root, "/run/vrt", NULL);
    daemon->etc_dir = g_strconcat(daemon->root, "/etc/vrt", NULL);
    daemon->log_dir = g_strconcat(daemon->root, "/var/log/vrt", NULL);
    daemon->pidfile = g_strconcat(daemon->run_dir, "/vrtd.pid", NULL);
    vrt_config_init(&daemon->cfg);

    int rc = 1;
    int ready_fd = -1; /* --daemon: the pipe to the parent, until ready or failed */
    VrtLog *log = NULL;
    g_autofree char *cfgpath = config ? g_strdup(config) : g_strconcat(daemon->etc_dir, "/vrtd.conf", NULL);
    if (config || g_file_test(cfgpath, G_FILE_TEST_EXISTS)) {
        if (!vrt_config_load(&daemon->cfg, cfgpath, &err))
            goto out;
    }
    log = vrt_log_new(daemon->cfg.log_level, daemon->cfg.log_outputs, &err);
    if (!log)
        goto out;
    vrt_log_install(log);
    daemon->log = log;

    daemon->host_root = g_strdup(host_root ? host_root : daemon->cfg.host_root ? daemon->cfg.host_root : "/");
    daemon->emulator = g_strdup(g_getenv("VRT_QEMU") ? g_getenv("VRT_QEMU") : DEFAULT_EMULATOR);

    if (!vrt_dir_ensure(daemon->run_dir, 0755, &err) || !vrt_dir_ensure(daemon->etc_dir, 0755, &err) ||
        !vrt_dir_ensure(daemon->log_dir, 0755, &err))
        goto out;

    if (daemonize) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
            vrt_error_set_errno(&err, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot create a pipe");
            goto out;
        }
        pid_t pid = fork();
        if (pid < 0) {
            vrt_error_set_errno(&err, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot fork");
            close(fds[0]);
            close(fds[1]);
            goto out;
        }
        if (pid > 0) {
            close(fds[1]);
            _exit(wait_for_daemon(fds[0]));
        }
        close(fds[0]);
        ready_fd = fds[1];
        setsid();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (!daemon->cfg.log_outputs || strstr(daemon->cfg.log_outputs, "stderr") == NULL)
                dup2(null, 2);
            close(null);
        }
    }
    if (!take_pidfile(daemon, &err))
        goto out;

    daemon->ctx = g_main_context_ref_thread_default();
    daemon->loop = g_main_loop_new(daemon->ctx, FALSE);
    VrtRpcServerLimits limits;
    vrt_rpc_server_limits_init(&limits);
    limits.max_clients = daemon->cfg.max_clients;
    limits.max_unauth_clients = daemon->cfg.max_anonymous_clients;
    limits.max_workers = daemon->cfg.max_workers;
    limits.max_client_requests = daemon->cfg.max_client_requests;
    limits.keepalive_interval = daemon->cfg.keepalive_interval;
    limits.keepalive_count = daemon->cfg.keepalive_count;
    daemon->server =
        vrt_rpc_server_new(daemon->ctx, &limits, dispatch, on_client_connect, on_client_close, daemon, &err);
    if (!daemon->server)
        goto out;
    vrt_rpc_server_set_call_check(daemon->server, check_call, daemon);

    if (!vrt_daemon_drivers_init(daemon, &err))
        goto out;
    if (!vrt_daemon_remote_init(daemon, listen, &err) || !open_sockets(daemon, &err))
        goto out;

    g_unix_signal_add(SIGTERM, on_terminate, daemon);
    g_unix_signal_add(SIGINT, on_terminate, daemon);
    daemon->reloader = g_thread_pool_new(run_reload, daemon, 1, FALSE, &err);
    if (!daemon->reloader)
        goto out;
    g_unix_signal_add(SIGHUP, on_reload, daemon);
    signal(SIGPIPE, SIG_IGN);
    sd_notify(0, "READY=1");
    report_ready(&ready_fd, NULL);
    g_main_loop_run(daemon->loop);
    sd_notify(0, "STOPPING=1");
    vrt_rpc_server_stop_accepting(daemon->server);
    rc = 0;

out:
    if (err)
        fprintf(stderr, "vrtd: %s\n", err->message);
    /* The pid file and sockets go before the parent hears of the failure,
     * so that what it reports is all that is left of this daemon. */
    daemon_free(daemon);
    report_ready(&ready_fd, err ? err->message : "the daemon failed to start");
    vrt_log_free(log);
    return rc;
}

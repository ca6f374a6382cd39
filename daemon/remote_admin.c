/*
 * The admin program's handlers (protocol/admin_procs.tsv), served on vrtd's
 * admin socket: the servers ("vrtd", whose clients are those of every other
 * socket, and "admin", the admin socket's own, as libvirtd's "libvirtd" and
 * "admin"), the worker pool and client limits of "vrtd" changed at run time,
 * each client's identity and its disconnection, the log's outputs and
 * filters, and the TLS files read again. Every call runs on the I/O thread
 * (the table marks them high), which owns the clients and the listeners.
 * Typed parameters have libvirt-admin.h's names and types, errors libvirt's
 * admin server's codes and words.
 */
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "rpc/tls.h"
#include "util/error.h"
#include "vrt-config.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#define SERVER_MAIN "vrtd"
#define SERVER_ADMIN "admin"
/* virTypedParameterType */
enum {
    PARAM_INT = 1,
    PARAM_UINT = 2,
    PARAM_ULLONG = 4,
    PARAM_BOOLEAN = 6,
    PARAM_STRING = 7
};
static VrtDaemon *
daemon_of(VrtCall *call)
{
    return vrt_call_daemon(call);
}

/* Which server name names: 0 "vrtd", 1 "admin", -1 with libvirt's error. */
static int
server_kind(const char *name, GError **error)
{
    if (g_strcmp0(name, SERVER_MAIN) == 0)
        return 0;
    if (g_strcmp0(name, SERVER_ADMIN) == 0)
        return 1;
    vrt_error_set(error, VIR_ERR_NO_SERVER, "No server named '%s'", name);
    return -1;
}

static bool
check_flags(unsigned int flags, const char *func, GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, func);
        return false;
    }
    return true;
}

static admin_typed_param *
param_add(GArray *params, const char *field, int type)
{
    admin_typed_param p = { 0 };
    p.field = g_strdup(field);
    p.value.type = type;
    g_array_append_val(params, p);
    return &g_array_index(params, admin_typed_param, params->len - 1);
}

static void
param_uint(GArray *params, const char *field, guint v)
{
    param_add(params, field, PARAM_UINT)->value.admin_typed_param_value_u.ui = v;
}

static void
param_int(GArray *params, const char *field, int v)
{
    param_add(params, field, PARAM_INT)->value.admin_typed_param_value_u.i = v;
}

static void
param_string(GArray *params, const char *field, const char *v)
{
    param_add(params, field, PARAM_STRING)->value.admin_typed_param_value_u.s = g_strdup(v);
}

/* The unsigned value of a UINT parameter, else libvirt's error. */
static bool
param_get_uint(const admin_typed_param *p, guint *v, GError **error)
{
    if (p->value.type != PARAM_UINT) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter '%s', expected 'uint'",
                      p->value.type, p->field);
        return false;
    }
    *v = p->value.admin_typed_param_value_u.ui;
    return true;
}

bool
vrt_handle_admin_connect_open(VrtCall *call, admin_connect_open_args *args, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);

    if (!check_flags(args->flags, "virAdmConnectOpen", error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);
    conn->opened = true;
    return true;
}

bool
vrt_handle_admin_connect_close(VrtCall *call, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

    (void)error;
    conn->opened = false;
    return true;
}

bool
vrt_handle_admin_connect_get_lib_version(VrtCall *call, admin_connect_get_lib_version_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->libVer = VRT_LIBVIRT_API_VERSION;
    return true;
}

bool
vrt_handle_admin_connect_list_servers(VrtCall *call, admin_connect_list_servers_args *args,
                                      admin_connect_list_servers_ret *ret, GError **error)
{
    static const char *const names[] = { SERVER_MAIN, SERVER_ADMIN };

    (void)call;
    if (!check_flags(args->flags, "virAdmConnectListServers", error))
        return false;
    ret->ret = G_N_ELEMENTS(names);
    /* need_results is a yes or no (libvirt's client sends !!result). */
    if (args->need_results) {
        guint n = G_N_ELEMENTS(names);
        ret->servers.servers_val = g_new0(admin_nonnull_server, n);
        ret->servers.servers_len = n;
        for (guint i = 0; i < n; i++)
            ret->servers.servers_val[i].name = g_strdup(names[i]);
    }
    return true;
}

bool
vrt_handle_admin_connect_lookup_server(VrtCall *call, admin_connect_lookup_server_args *args,
                                       admin_connect_lookup_server_ret *ret, GError **error)
{
    (void)call;
    if (!check_flags(args->flags, "virAdmConnectLookupServer", error) || server_kind(args->name, error) < 0)
        return false;
    ret->srv.name = g_strdup(args->name);
    return true;
}

/* ---- the worker pool ---- */

bool
vrt_handle_admin_server_get_threadpool_parameters(VrtCall *call, admin_server_get_threadpool_parameters_args *args,
                                                  admin_server_get_threadpool_parameters_ret *ret, GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerGetThreadPoolParameters", error))
        return false;
    /* The admin server's calls run on the I/O thread: it has no pool. */
    VrtRpcServerWorkers w = { 0 };
    if (kind == 0)
        vrt_rpc_server_get_workers(daemon_of(call)->server, &w);
    GArray *params = g_array_new(FALSE, TRUE, sizeof(admin_typed_param));
    /* Threads start on demand and none is kept idle; high-priority calls
     * run on the I/O thread rather than in priority workers. */
    param_uint(params, "minWorkers", 0);
    param_uint(params, "maxWorkers", w.max_workers);
    param_uint(params, "nWorkers", w.n_workers);
    param_uint(params, "freeWorkers", w.free_workers);
    param_uint(params, "prioWorkers", 0);
    param_uint(params, "jobQueueDepth", w.job_queue_depth);
    ret->params.params_len = params->len;
    ret->params.params_val = (admin_typed_param *)(void *)g_array_free(params, FALSE);
    return true;
}

bool
vrt_handle_admin_server_set_threadpool_parameters(VrtCall *call, admin_server_set_threadpool_parameters_args *args,
                                                  GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerSetThreadPoolParameters", error))
        return false;
    if (kind == 1) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "the admin server runs its calls on the I/O thread: it has no worker pool");
        return false;
    }
    bool has_max = false;
    guint max = 0;
    for (guint i = 0; i < args->params.params_len; i++) {
        const admin_typed_param *p = &args->params.params_val[i];
        guint v;
        if (!param_get_uint(p, &v, error))
            return false;
        if (g_str_equal(p->field, "maxWorkers")) {
            has_max = true;
            max = v;
        } else if (g_str_equal(p->field, "minWorkers") || g_str_equal(p->field, "prioWorkers")) {
            if (v != 0) {
                vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                              "parameter '%s': vrtd starts worker threads on demand and runs priority calls on "
                              "its I/O thread, so only 0 is supported",
                              p->field);
                return false;
            }
        } else {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "parameter '%s' not supported", p->field);
            return false;
        }
    }
    if (has_max && max == 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "maxWorkers must be greater than 0");
        return false;
    }
    if (has_max && !vrt_rpc_server_set_max_workers(daemon_of(call)->server, max, error))
        return false;
    if (has_max)
        g_message("admin: max_workers is now %u", max);
    return true;
}

/* ---- clients ---- */

static void
client_to_wire(VrtServerClient *client, const char *server, admin_nonnull_client *out)
{
    VrtServerClientAdminInfo info;

    vrt_server_client_get_admin_info(client, &info);
    out->srv.name = g_strdup(server);
    out->id = info.id;
    out->timestamp = info.timestamp;
    out->transport = (unsigned int)info.transport;
    g_free(info.sock_addr);
}

/* The client of server kind with id, a reference, or NULL with libvirt's error. */
static VrtServerClient *
find_client(VrtDaemon *daemon, int kind, guint64 id, GError **error)
{
    GList *clients = vrt_rpc_server_ref_clients(daemon->server, kind == 1);
    VrtServerClient *found = NULL;

    for (GList *l = clients; l && !found; l = l->next) {
        VrtServerClientAdminInfo info;
        vrt_server_client_get_admin_info(l->data, &info);
        g_free(info.sock_addr);
        if (info.id == id)
            found = vrt_server_client_ref(l->data);
    }
    g_list_free_full(clients, (GDestroyNotify)vrt_server_client_unref);
    if (!found)
        vrt_error_set(error, VIR_ERR_NO_CLIENT, "No client with matching ID '%llu'", (unsigned long long)id);
    return found;
}

static gint
cmp_client_id(gconstpointer a, gconstpointer b)
{
    VrtServerClientAdminInfo ia, ib;
    vrt_server_client_get_admin_info((VrtServerClient *)a, &ia);
    vrt_server_client_get_admin_info((VrtServerClient *)b, &ib);
    g_free(ia.sock_addr);
    g_free(ib.sock_addr);
    return (ia.id > ib.id) - (ia.id < ib.id);
}

bool
vrt_handle_admin_server_list_clients(VrtCall *call, admin_server_list_clients_args *args,
                                     admin_server_list_clients_ret *ret, GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerListClients", error))
        return false;
    GList *clients = g_list_sort(vrt_rpc_server_ref_clients(daemon_of(call)->server, kind == 1), cmp_client_id);
    guint n = g_list_length(clients);
    ret->ret = n;
    if (args->need_results) {
        guint take = n;
        ret->clients.clients_val = g_new0(admin_nonnull_client, take);
        ret->clients.clients_len = take;
        guint i = 0;
        for (GList *l = clients; l && i < take; l = l->next, i++)
            client_to_wire(l->data, args->srv.name, &ret->clients.clients_val[i]);
    }
    g_list_free_full(clients, (GDestroyNotify)vrt_server_client_unref);
    return true;
}

bool
vrt_handle_admin_server_lookup_client(VrtCall *call, admin_server_lookup_client_args *args,
                                      admin_server_lookup_client_ret *ret, GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerLookupClient", error))
        return false;
    g_autoptr(VrtServerClient) client = find_client(daemon_of(call), kind, args->id, error);
    if (!client)
        return false;
    client_to_wire(client, args->srv.name, &ret->clnt);
    return true;
}

bool
vrt_handle_admin_client_get_info(VrtCall *call, admin_client_get_info_args *args, admin_client_get_info_ret *ret,
                                 GError **error)
{
    int kind = server_kind(args->clnt.srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmClientGetInfo", error))
        return false;
    g_autoptr(VrtServerClient) client = find_client(daemon_of(call), kind, args->clnt.id, error);
    if (!client)
        return false;
    VrtServerClientAdminInfo info;
    vrt_server_client_get_admin_info(client, &info);
    g_autofree char *sock_addr = info.sock_addr;

    GArray *params = g_array_new(FALSE, TRUE, sizeof(admin_typed_param));
    param_add(params, "readonly", PARAM_BOOLEAN)->value.admin_typed_param_value_u.b = info.readonly;
    if (sock_addr)
        param_string(params, "sock_addr", sock_addr);
    if (info.transport == VRT_RPC_TRANSPORT_UNIX && info.pid > 0) {
        param_int(params, "unix_user_id", (int)info.uid);
        struct passwd *pw = getpwuid(info.uid);
        if (pw)
            param_string(params, "unix_user_name", pw->pw_name);
        param_int(params, "unix_group_id", (int)info.gid);
        struct group *gr = getgrgid(info.gid);
        if (gr)
            param_string(params, "unix_group_name", gr->gr_name);
        param_int(params, "unix_process_id", (int)info.pid);
    }
    ret->params.params_len = params->len;
    ret->params.params_val = (admin_typed_param *)(void *)g_array_free(params, FALSE);
    return true;
}

bool
vrt_handle_admin_client_close(VrtCall *call, admin_client_close_args *args, GError **error)
{
    int kind = server_kind(args->clnt.srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmClientClose", error))
        return false;
    g_autoptr(VrtServerClient) client = find_client(daemon_of(call), kind, args->clnt.id, error);
    if (!client)
        return false;
    g_message("admin: closing client %llu of server %s", (unsigned long long)args->clnt.id, args->clnt.srv.name);
    vrt_server_client_close(client);
    return true;
}

/* ---- client limits ---- */

bool
vrt_handle_admin_server_get_client_limits(VrtCall *call, admin_server_get_client_limits_args *args,
                                          admin_server_get_client_limits_ret *ret, GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerGetClientLimits", error))
        return false;
    VrtRpcServer *server = daemon_of(call)->server;
    guint n = 0, unauth = 0;
    if (kind == 0) {
        vrt_rpc_server_get_client_counts(server, &n, &unauth);
    } else {
        GList *admins = vrt_rpc_server_ref_clients(server, true);
        n = g_list_length(admins);
        g_list_free_full(admins, (GDestroyNotify)vrt_server_client_unref);
    }
    GArray *params = g_array_new(FALSE, TRUE, sizeof(admin_typed_param));
    param_uint(params, "nclients_max", vrt_rpc_server_get_max_clients(server));
    param_uint(params, "nclients", n);
    param_uint(params, "nclients_unauth_max", kind == 0 ? vrt_rpc_server_get_max_unauth_clients(server) : 0);
    param_uint(params, "nclients_unauth", unauth);
    ret->params.params_len = params->len;
    ret->params.params_val = (admin_typed_param *)(void *)g_array_free(params, FALSE);
    return true;
}

bool
vrt_handle_admin_server_set_client_limits(VrtCall *call, admin_server_set_client_limits_args *args, GError **error)
{
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerSetClientLimits", error))
        return false;
    if (kind == 1) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "the admin server's clients count against the limits of server 'vrtd'");
        return false;
    }
    VrtRpcServer *server = daemon_of(call)->server;
    guint max = vrt_rpc_server_get_max_clients(server);
    guint umax = vrt_rpc_server_get_max_unauth_clients(server);
    for (guint i = 0; i < args->params.params_len; i++) {
        const admin_typed_param *p = &args->params.params_val[i];
        guint v;
        if (!param_get_uint(p, &v, error))
            return false;
        if (g_str_equal(p->field, "nclients_max")) {
            max = v;
        } else if (g_str_equal(p->field, "nclients_unauth_max")) {
            umax = v;
        } else {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "parameter '%s' not supported", p->field);
            return false;
        }
    }
    /* libvirt's checks and words (virNetServerSetClientLimits). */
    if (max == 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "The overall maximum number of clients must be greater than 0");
        return false;
    }
    if (umax > max) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "The overall maximum number of clients must not be less than the number of clients waiting "
                      "for authentication");
        return false;
    }
    vrt_rpc_server_set_max_clients(server, max);
    vrt_rpc_server_set_max_unauth_clients(server, umax);
    g_message("admin: max_clients is now %u, max_anonymous_clients %u", max, umax);
    return true;
}

/* ---- logging ---- */

bool
vrt_handle_admin_connect_get_logging_outputs(VrtCall *call, admin_connect_get_logging_outputs_args *args,
                                             admin_connect_get_logging_outputs_ret *ret, GError **error)
{
    if (!check_flags(args->flags, "virAdmConnectGetLoggingOutputs", error))
        return false;
    ret->outputs = vrt_log_get_outputs(daemon_of(call)->log, &ret->noutputs);
    return true;
}

bool
vrt_handle_admin_connect_get_logging_filters(VrtCall *call, admin_connect_get_logging_filters_args *args,
                                             admin_connect_get_logging_filters_ret *ret, GError **error)
{
    if (!check_flags(args->flags, "virAdmConnectGetLoggingFilters", error))
        return false;
    char *text = vrt_log_get_filters(daemon_of(call)->log, &ret->nfilters);
    /* libvirt sends no string when there is no filter. */
    if (ret->nfilters) {
        ret->filters = g_new0(admin_nonnull_string, 1);
        *ret->filters = text;
    } else {
        g_free(text);
    }
    return true;
}

bool
vrt_handle_admin_connect_set_logging_outputs(VrtCall *call, admin_connect_set_logging_outputs_args *args,
                                             GError **error)
{
    if (!check_flags(args->flags, "virAdmConnectSetLoggingOutputs", error))
        return false;
    return vrt_log_set_outputs(daemon_of(call)->log, args->outputs ? *args->outputs : NULL, error);
}

bool
vrt_handle_admin_connect_set_logging_filters(VrtCall *call, admin_connect_set_logging_filters_args *args,
                                             GError **error)
{
    if (!check_flags(args->flags, "virAdmConnectSetLoggingFilters", error))
        return false;
    return vrt_log_set_filters(daemon_of(call)->log, args->filters ? *args->filters : NULL, error);
}

/* ---- TLS ---- */

static char *
under_root(VrtDaemon *daemon, const char *configured, const char *path)
{
    return configured ? g_strdup(configured) : g_strconcat(daemon->root, path, NULL);
}

bool
vrt_handle_admin_server_update_tls_files(VrtCall *call, admin_server_update_tls_files_args *args, GError **error)
{
    VrtDaemon *daemon = daemon_of(call);
    int kind = server_kind(args->srv.name, error);
    if (kind < 0 || !check_flags(args->flags, "virAdmServerUpdateTlsFiles", error))
        return false;
    if (kind == 1 || !daemon->tls) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "no tls service found, unable to update tls files");
        return false;
    }
    /* The same files, at the same places, as the TLS socket's (remote_auth.c). */
    VrtConfig *cfg = &daemon->cfg;
    g_autofree char *ca = under_root(daemon, cfg->ca_file, VRT_TLS_CACERT);
    g_autofree char *crl = under_root(daemon, cfg->crl_file, VRT_TLS_CACRL);
    g_autofree char *cert = under_root(daemon, cfg->cert_file, VRT_TLS_SERVERCERT);
    g_autofree char *key = under_root(daemon, cfg->key_file, VRT_TLS_SERVERKEY);
    VrtTlsConfig tc = {
        .ca_file = ca,
        .crl_file = crl,
        .cert_file = cert,
        .key_file = key,
        .priority = cfg->tls_priority,
        .no_verify = cfg->tls_no_verify_certificate,
        .allowed_dn = (const char *const *)cfg->tls_allowed_dn_list,
    };
    if (!vrt_tls_context_reload(daemon->tls, &tc, error))
        return false;
    g_message("admin: TLS certificates, key and CRL read again");
    return true;
}

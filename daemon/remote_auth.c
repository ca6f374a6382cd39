/*
 * Remote access: the TLS and TCP sockets (libvirtd.conf's keys, libvirt's
 * default certificate paths under vrtd's root) and the AUTH_SASL_*
 * procedures. A connection on a socket whose auth is "sasl" runs Cyrus SASL
 * (src/rpc/sasl.c) through AUTH_SASL_INIT, START and STEP before the server
 * lets any other call through; over plain TCP the mechanism must bring a
 * security layer, which then carries the connection. What a refused client
 * sees is libvirt's "authentication failed"; why is in the log.
 */
#include "daemon/acl.h"
#include "daemon/daemon.h"
#include "rpc/sasl.h"
#include "rpc/tls.h"
#include "util/error.h"

#include <string.h>
#include <systemd/sd-daemon.h>

/* <root><path> for a libvirt default path. */
static char *
under_root(VrtDaemon *daemon, const char *configured, const char *path)
{
    return configured ? g_strdup(configured) : g_strconcat(daemon->root, path, NULL);
}

static VrtTlsContext *
tls_context(VrtDaemon *daemon, GError **error)
{
    if (daemon->tls)
        return daemon->tls;
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
    daemon->tls = vrt_tls_context_new(&tc, true, error);
    if (daemon->tls && cfg->tls_no_verify_certificate)
        g_warning("tls_no_verify_certificate is set: clients with bad certificates are let in");
    return daemon->tls;
}

static VrtRpcAuth
auth_of(const char *name)
{
    if (g_strcmp0(name, "polkit") == 0)
        return VRT_RPC_AUTH_POLKIT;
    return g_strcmp0(name, "sasl") == 0 ? VRT_RPC_AUTH_SASL : VRT_RPC_AUTH_NONE;
}

static bool
parse_port(const char *key, const char *text, guint *port, GError **error)
{
    guint64 n = 0;

    if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &n, NULL)) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s: '%s' is not a port number", key, text);
        return false;
    }
    *port = (guint)n;
    return true;
}

bool
vrt_daemon_remote_init(VrtDaemon *daemon, bool listen, GError **error)
{
    VrtConfig *cfg = &daemon->cfg;
    bool sasl = g_str_equal(cfg->auth_unix_rw, "sasl");
    guint port;

    if (listen && (cfg->listen_tls || cfg->listen_tcp))
        sasl = sasl || (cfg->listen_tls && g_str_equal(cfg->auth_tls, "sasl")) ||
               (cfg->listen_tcp && g_str_equal(cfg->auth_tcp, "sasl"));
    /* Sockets systemd may pass: either may want SASL. */
    if (sd_listen_fds(0) > 0)
        sasl = sasl || g_str_equal(cfg->auth_tls, "sasl") || g_str_equal(cfg->auth_tcp, "sasl");
    if (sasl) {
        /* Cyrus reads libvirt.conf from <root>/etc/sasl2 under a root, so a
         * private vrtd never reads the host's SASL setup. */
        g_autofree char *dir = *daemon->root ? g_strconcat(daemon->root, "/etc/sasl2", NULL) : NULL;
        if (!vrt_sasl_server_init(dir, error))
            return false;
    }
    vrt_rpc_server_set_unix_auth(daemon->server, auth_of(cfg->auth_unix_rw));
    vrt_rpc_server_set_unix_ro_auth(daemon->server, auth_of(cfg->auth_unix_ro));
    /* Access control asks polkitd before each call: never on the I/O thread. */
    if (vrt_acl_enabled(daemon))
        vrt_rpc_server_set_calls_on_workers(daemon->server);
    if (!listen || sd_listen_fds(0) > 0)
        return true;
    if (cfg->listen_tls) {
        VrtTlsContext *tls = tls_context(daemon, error);
        if (!tls || !parse_port("tls_port", cfg->tls_port, &port, error) ||
            !vrt_rpc_server_add_tcp(daemon->server, cfg->listen_addr, port, tls, auth_of(cfg->auth_tls), error))
            return false;
        g_message("listening for TLS on %s port %u (auth %s)", cfg->listen_addr ? cfg->listen_addr : "*", port,
                  cfg->auth_tls);
    }
    if (cfg->listen_tcp) {
        if (!parse_port("tcp_port", cfg->tcp_port, &port, error) ||
            !vrt_rpc_server_add_tcp(daemon->server, cfg->listen_addr, port, NULL, auth_of(cfg->auth_tcp), error))
            return false;
        if (g_str_equal(cfg->auth_tcp, "none"))
            g_warning("TCP port %u has auth_tcp = \"none\": anyone who reaches it controls this host unencrypted",
                      port);
        g_message("listening for TCP on %s port %u (auth %s)", cfg->listen_addr ? cfg->listen_addr : "*", port,
                  cfg->auth_tcp);
    }
    return true;
}

bool
vrt_daemon_remote_add_fd(VrtDaemon *daemon, int fd, const char *name, bool *taken, GError **error)
{
    VrtConfig *cfg = &daemon->cfg;

    *taken = false;
    if (!name)
        return true;
    if (strstr(name, "tls")) {
        VrtTlsContext *tls = tls_context(daemon, error);
        *taken = true;
        return tls && vrt_rpc_server_add_fd_remote(daemon->server, fd, tls, auth_of(cfg->auth_tls), error);
    }
    if (strstr(name, "tcp")) {
        *taken = true;
        if (g_str_equal(cfg->auth_tcp, "none"))
            g_warning("the TCP socket has auth_tcp = \"none\": anyone who reaches it controls this host unencrypted");
        return vrt_rpc_server_add_fd_remote(daemon->server, fd, NULL, auth_of(cfg->auth_tcp), error);
    }
    return true;
}

void
vrt_daemon_remote_free(VrtDaemon *daemon)
{
    g_clear_pointer((VrtTlsContext **)&daemon->tls, vrt_tls_context_free);
}

void
vrt_conn_auth_clear(VrtConn *conn)
{
    g_clear_pointer((VrtSaslSession **)&conn->sasl, vrt_sasl_session_free);
}

/* ---- AUTH_SASL_* ---- */

/* libvirt's answer to every SASL refusal; why goes to the log. */
static bool
auth_failed(VrtConn *conn, const char *why, GError **error)
{
    g_warning("SASL authentication of client fd %d failed: %s", vrt_server_client_get_fd(conn->client), why);
    vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "authentication failed");
    return false;
}

/* Takes the connection's SASL session out (NULL when there is none): the
 * exchange's steps read the SASL configuration and database, so they run
 * without the connection lock, which events take. */
static VrtSaslSession *
take_session(VrtConn *conn)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

    return g_steal_pointer((VrtSaslSession **)&conn->sasl);
}

/* Gives the session back for the next step; false when another exchange
 * began meanwhile (then sess is freed). */
static bool
put_session(VrtConn *conn, VrtSaslSession *sess)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

    if (conn->sasl) {
        vrt_sasl_session_free(sess);
        return false;
    }
    conn->sasl = sess;
    return true;
}

bool
vrt_handle_auth_sasl_init(VrtCall *call, remote_auth_sasl_init_ret *ret, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    VrtServerClient *client = vrt_call_get_client(call);
    g_autoptr(GError) why = NULL;
    g_autoptr(VrtSaslSession) old = take_session(conn);

    if (vrt_server_client_get_auth(client) != VRT_RPC_AUTH_SASL || old)
        return auth_failed(conn, "client tried invalid SASL init request", error);
    g_autoptr(VrtSaslSession) sess =
        vrt_sasl_session_new(vrt_server_client_is_secure(client), vrt_server_client_tls_ssf(client),
                             vrt_call_daemon(call)->cfg.tcp_min_ssf, &why);
    char *list = sess ? vrt_sasl_session_mechlist(sess, &why) : NULL;
    if (!list)
        return auth_failed(conn, why->message, error);
    if (!put_session(conn, g_steal_pointer(&sess))) {
        g_free(list);
        return auth_failed(conn, "client tried invalid SASL init request", error);
    }
    g_debug("SASL mechanisms for client fd %d: %s", vrt_server_client_get_fd(client), list);
    ret->mechlist = list;
    return true;
}

/* One START (mech given) or STEP. On completion the client is let in and,
 * over plain TCP, the security layer starts after this reply; on a failure
 * the exchange is over (a new one starts with AUTH_SASL_INIT). */
static bool
sasl_step(VrtCall *call, const char *mech, int nil, const char *data, unsigned int len, int *complete, int *ret_nil,
          char **ret_data, unsigned int *ret_len, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    VrtServerClient *client = vrt_call_get_client(call);
    VrtDaemon *daemon = vrt_call_daemon(call);
    g_autoptr(GError) why = NULL;
    g_autoptr(VrtSaslSession) sess = take_session(conn);
    const char *out = NULL;
    unsigned int outlen = 0;

    if (vrt_server_client_get_auth(client) != VRT_RPC_AUTH_SASL || !sess)
        return auth_failed(
            conn, mech ? "client tried invalid SASL start request" : "client tried invalid SASL step request", error);
    int rc = vrt_sasl_session_step(sess, mech, nil ? NULL : data, len, &out, &outlen, &why);
    if (rc < 0 ||
        (rc == 1 && !vrt_sasl_session_check(sess, (const char *const *)daemon->cfg.sasl_allowed_username_list, &why)))
        return auth_failed(conn, why->message, error);
    if (outlen > 65536)
        return auth_failed(conn, "SASL reply data too long", error);
    /* NULL and "" differ in SASL. */
    *ret_nil = out ? 0 : 1;
    *ret_data = out ? g_memdup2(out, outlen) : NULL;
    *ret_len = outlen;
    *complete = rc;
    if (rc == 0) {
        if (!put_session(conn, g_steal_pointer(&sess))) {
            g_clear_pointer(ret_data, g_free);
            return auth_failed(conn, "client tried invalid SASL step request", error);
        }
        return true;
    }
    g_message("client fd %d authenticated as '%s' with SASL", vrt_server_client_get_fd(client),
              vrt_sasl_session_username(sess));
    if (vrt_sasl_session_ssf(sess) > 0 && !vrt_server_client_is_secure(client))
        vrt_server_client_push_layer(client,
                                     vrt_sasl_layer_new(g_steal_pointer(&sess), vrt_server_client_get_transport(client),
                                                        vrt_server_client_get_fd(client)));
    vrt_server_client_set_authenticated(client);
    return true;
}

bool
vrt_handle_auth_sasl_start(VrtCall *call, remote_auth_sasl_start_args *args, remote_auth_sasl_start_ret *ret,
                           GError **error)
{
    return sasl_step(call, args->mech, args->nil, args->data.data_val, args->data.data_len, &ret->complete, &ret->nil,
                     &ret->data.data_val, &ret->data.data_len, error);
}

bool
vrt_handle_auth_sasl_step(VrtCall *call, remote_auth_sasl_step_args *args, remote_auth_sasl_step_ret *ret,
                          GError **error)
{
    return sasl_step(call, NULL, args->nil, args->data.data_val, args->data.data_len, &ret->complete, &ret->nil,
                     &ret->data.data_val, &ret->data.data_len, error);
}

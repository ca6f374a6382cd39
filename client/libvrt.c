/*
 * libvrt's connection: URI to socket, the open sequence libvirt's client
 * uses (auth list, open, keepalive), the host queries, and the error and
 * memory rules every other libvrt file follows.
 */
#include "libvrt-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libvrt-uri.h"
#include "rpc/message.h"
#include "rpc/tls.h"
#include "vrt-config.h"

/* The public codes are the same numbers the RPC layer carries. */
G_STATIC_ASSERT((int)VRT_ERR_NO_SUPPORT == (int)VIR_ERR_NO_SUPPORT &&
                (int)VRT_ERR_INVALID_ARG == (int)VIR_ERR_INVALID_ARG);
G_STATIC_ASSERT((int)VRT_ERR_NO_DOMAIN == (int)VIR_ERR_NO_DOMAIN && (int)VRT_ERR_NO_NETWORK == (int)VIR_ERR_NO_NETWORK);
G_STATIC_ASSERT((int)VRT_ERR_NO_NODE_DEVICE == (int)VIR_ERR_NO_NODE_DEVICE && (int)VRT_ERR_RPC == (int)VIR_ERR_RPC);
G_STATIC_ASSERT((int)VRT_ERR_OPERATION_INVALID == (int)VIR_ERR_OPERATION_INVALID);
G_STATIC_ASSERT((int)VRT_ERR_OPERATION_DENIED == (int)VIR_ERR_OPERATION_DENIED &&
                (int)VRT_ERR_AUTH_FAILED == (int)VIR_ERR_AUTH_FAILED);
G_STATIC_ASSERT((int)VRT_ERR_NO_NETWORK_PORT == (int)VIR_ERR_NO_NETWORK_PORT);
G_STATIC_ASSERT((int)VRT_FROM_URI == (int)VIR_FROM_URI && (int)VRT_FROM_DOMAIN == (int)VIR_FROM_DOMAIN);

/* libvirt's VIR_DRV_FEATURE_PROGRAM_KEEPALIVE. */
#define VRT_FEATURE_PROGRAM_KEEPALIVE 10

void
vrt_error_free(vrt_error *err)
{
    if (!err)
        return;
    free(err->message);
    free(err);
}

void
vrt_free(void *ptr)
{
    free(ptr);
}

void
vrt_list_free_full(void **list, GDestroyNotify free_one)
{
    if (!list)
        return;
    for (void **p = list; *p; p++)
        free_one(*p);
    g_free(list);
}

void
vrt_string_list_free(char **list)
{
    g_strfreev(list);
}

unsigned long
vrt_lib_version(void)
{
    return VRT_VERSION_NUMBER;
}

int
vrt_err_take(vrt_error **err, GError *gerr, int origin)
{
    if (!gerr)
        return -1;
    if (err) {
        vrt_error *e = g_new0(vrt_error, 1);
        e->code = vrt_error_code(gerr);
        e->domain = origin;
        e->message = g_strdup(gerr->message);
        *err = e;
    }
    g_error_free(gerr);
    return -1;
}

int
vrt_err_new(vrt_error **err, int code, int origin, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vrt_error *e = g_new0(vrt_error, 1);
    e->code = code;
    e->domain = origin;
    e->message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    *err = e;
    return -1;
}

static void
on_event(int proc, const guint8 *frame, gsize len, gpointer data)
{
    vrt_conn_dispatch_event(data, proc, frame, len);
}

static const char *
auth_name(int type)
{
    switch (type) {
    case REMOTE_AUTH_SASL: return "sasl";
    case REMOTE_AUTH_POLKIT: return "polkit";
    default: return "unknown";
    }
}

static bool
check_auth(vrt_conn *conn, const VrtUri *uri, vrt_auth_cb cb, void *opaque, GError **error)
{
    remote_auth_list_ret ret = { 0 };
    if (!vrt_call_auth_list(conn->rpc, &ret, error))
        return false;
    bool none = ret.types.types_len == 0, sasl = false;
    int other = REMOTE_AUTH_NONE;
    for (guint i = 0; i < ret.types.types_len; i++) {
        if (ret.types.types_val[i] == REMOTE_AUTH_NONE)
            none = true;
        else if (ret.types.types_val[i] == REMOTE_AUTH_SASL)
            sasl = true;
        else
            other = ret.types.types_val[i];
    }
    vrt_message_free_payload((xdrproc_t)xdr_remote_auth_list_ret, &ret);
    if (none)
        return true;
    if (other == REMOTE_AUTH_POLKIT) {
        /* The server asks polkitd about this process itself: one call. */
        remote_auth_polkit_ret pret = { 0 };
        return vrt_call_auth_polkit(conn->rpc, &pret, error);
    }
    if (sasl)
        return vrt_conn_auth_sasl(conn, uri->host, cb, opaque, error);
    vrt_error_set(error, VIR_ERR_AUTH_FAILED, "the server requires '%s' authentication, which vrt does not support",
                  auth_name(other));
    return false;
}

static void
start_keepalive(vrt_conn *conn)
{
    remote_connect_supports_feature_args args = { .feature = VRT_FEATURE_PROGRAM_KEEPALIVE };
    remote_connect_supports_feature_ret ret = { 0 };
    g_autoptr(GError) local = NULL;
    if (!vrt_call_connect_supports_feature(conn->rpc, &args, &ret, &local)) {
        g_debug("keepalive not negotiated: %s", local->message);
        return;
    }
    if (ret.supported)
        vrt_rpc_client_set_keepalive(conn->rpc, VRT_KEEPALIVE_INTERVAL, VRT_KEEPALIVE_COUNT);
}

static void
conn_free(vrt_conn *conn)
{
    if (!conn)
        return;
    vrt_rpc_client_free(conn->rpc);
    vrt_ssh_child_free(conn->ssh);
    if (conn->events)
        g_ptr_array_unref(conn->events);
    g_mutex_clear(&conn->lock);
    g_free(conn->uri);
    g_free(conn);
}

/* One of libvirt's client certificate files: in pkipath when the URI gives
 * one; else, for a user other than root, in ~/.pki/libvirt when it is
 * there; else at the system's path. */
static char *
client_pki_file(const VrtUri *uri, const char *name, const char *system_path)
{
    if (uri->pkipath)
        return g_build_filename(uri->pkipath, name, NULL);
    if (geteuid() != 0) {
        g_autofree char *user = g_build_filename(g_get_home_dir(), ".pki", "libvirt", name, NULL);
        if (g_file_test(user, G_FILE_TEST_EXISTS))
            return g_steal_pointer(&user);
    }
    return g_strdup(system_path);
}

static VrtRpcClient *
connect_tls(const VrtUri *uri, GError **error)
{
    g_autofree char *ca = client_pki_file(uri, "cacert.pem", VRT_TLS_CACERT);
    g_autofree char *crl = client_pki_file(uri, "cacrl.pem", VRT_TLS_CACRL);
    g_autofree char *cert = client_pki_file(uri, "clientcert.pem", VRT_TLS_CLIENTCERT);
    g_autofree char *key = client_pki_file(uri, "clientkey.pem", VRT_TLS_CLIENTKEY);
    VrtTlsConfig cfg = {
        .ca_file = ca,
        .crl_file = crl,
        .cert_file = cert,
        .key_file = key,
        .no_verify = uri->no_verify,
        .no_sanity = uri->no_sanity,
    };

    return vrt_rpc_client_new_tls(uri->host, uri->port, &cfg, error);
}

vrt_conn *
vrt_conn_open(const char *uri, unsigned int flags, vrt_error **err)
{
    return vrt_conn_open_auth(uri, flags, NULL, NULL, err);
}

vrt_conn *
vrt_conn_open_auth(const char *uri, unsigned int flags, vrt_auth_cb cb, void *opaque, vrt_error **err)
{
    GError *gerr = NULL;
    g_autoptr(VrtUri) parsed = vrt_uri_parse(uri, flags & VRT_CONNECT_RO, &gerr);
    if (!parsed) {
        vrt_err_take(err, gerr, VIR_FROM_URI);
        return NULL;
    }
    vrt_conn *conn = g_new0(vrt_conn, 1);
    g_mutex_init(&conn->lock);
    conn->events = g_ptr_array_new_with_free_func(g_free);
    conn->uri = g_strdup(uri && *uri ? uri : VRT_URI_DEFAULT);
    if (parsed->ssh) {
        int fd = -1;
        conn->ssh = vrt_ssh_spawn(parsed->ssh, &fd, &gerr);
        if (!conn->ssh)
            goto fail;
        conn->rpc = vrt_rpc_client_new_fd(fd, &gerr);
    } else if (parsed->tls) {
        conn->rpc = connect_tls(parsed, &gerr);
    } else if (parsed->tcp) {
        conn->rpc = vrt_rpc_client_new_tcp(parsed->host, parsed->port, &gerr);
    } else {
        conn->rpc = vrt_rpc_client_new_unix(parsed->socket, &gerr);
    }
    if (!conn->rpc)
        goto fail;
    vrt_rpc_client_set_event_func(conn->rpc, on_event, conn);
    if (!check_auth(conn, parsed, cb, opaque, &gerr))
        goto fail;
    remote_connect_open_args open_args = { .name = &parsed->remote_uri, .flags = flags & VRT_CONNECT_RO };
    if (!vrt_call_connect_open(conn->rpc, &open_args, &gerr))
        goto fail;
    start_keepalive(conn);
    return conn;

fail:
    if (conn->ssh && gerr) {
        /* The protocol error says only that the channel ended; ssh says why. */
        g_autofree char *said = vrt_ssh_child_stderr(conn->ssh);
        if (*said) {
            g_autofree char *msg = g_strdup_printf("%s: %s", gerr->message, said);
            g_free(gerr->message);
            gerr->message = g_steal_pointer(&msg);
        }
    }
    conn_free(conn);
    vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    return NULL;
}

void
vrt_conn_close(vrt_conn *conn)
{
    if (!conn)
        return;
    if (vrt_rpc_client_is_open(conn->rpc)) {
        g_autoptr(GError) local = NULL;
        if (!vrt_call_connect_close(conn->rpc, &local))
            g_debug("close: %s", local->message);
    }
    conn_free(conn);
}

int
vrt_conn_is_alive(vrt_conn *conn)
{
    return conn && vrt_rpc_client_is_open(conn->rpc) ? 1 : 0;
}

int
vrt_conn_get_version(vrt_conn *conn, unsigned long long *hv_version, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_get_version_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_get_version(conn->rpc, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    if (hv_version)
        *hv_version = ret.hv_ver;
    return 0;
}

int
vrt_conn_get_lib_version(vrt_conn *conn, unsigned long long *lib_version, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_get_lib_version_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_get_lib_version(conn->rpc, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    if (lib_version)
        *lib_version = ret.lib_ver;
    return 0;
}

/* The calls that answer one string share this shape. */
#define STRING_CALL(fn, stub, rettype, field)                     \
    char *fn(vrt_conn *conn, vrt_error **err)                     \
    {                                                             \
        VRT_CHECK_ARG(conn, err, NULL);                           \
        rettype ret = { 0 };                                      \
        GError *gerr = NULL;                                      \
        if (!stub(conn->rpc, &ret, &gerr)) {                      \
            vrt_err_take(err, gerr, VIR_FROM_REMOTE);             \
            return NULL;                                          \
        }                                                         \
        char *out = g_strdup(ret.field);                          \
        vrt_message_free_payload((xdrproc_t)xdr_##rettype, &ret); \
        return out;                                               \
    }

STRING_CALL(vrt_conn_get_type, vrt_call_connect_get_type, remote_connect_get_type_ret, type)
STRING_CALL(vrt_conn_get_hostname, vrt_call_connect_get_hostname, remote_connect_get_hostname_ret, hostname)

/* As libvirt's client does, the URI is the one the connection was opened
 * with: the server only knows the transport-less part. */
char *
vrt_conn_get_uri(vrt_conn *conn, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    return g_strdup(conn->uri);
}
STRING_CALL(vrt_conn_get_capabilities, vrt_call_connect_get_capabilities, remote_connect_get_capabilities_ret,
            capabilities)

int
vrt_conn_get_max_vcpus(vrt_conn *conn, const char *type, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    char *t = (char *)type;
    remote_connect_get_max_vcpus_args args = { .type = type ? &t : NULL };
    remote_connect_get_max_vcpus_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_get_max_vcpus(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    return ret.max_vcpus;
}

int
vrt_conn_get_free_memory(vrt_conn *conn, unsigned long long *bytes, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_node_get_free_memory_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_get_free_memory(conn->rpc, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    if (bytes)
        *bytes = ret.freeMem;
    return 0;
}

int
vrt_conn_get_node_info(vrt_conn *conn, vrt_node_info *info, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    VRT_CHECK_ARG(info, err, -1);
    remote_node_get_info_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_get_info(conn->rpc, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_REMOTE);
    memset(info, 0, sizeof(*info));
    memcpy(info->model, ret.model, sizeof(info->model) - 1);
    info->memory = ret.memory;
    info->cpus = ret.cpus;
    info->mhz = ret.mhz;
    info->nodes = ret.nodes;
    info->sockets = ret.sockets;
    info->cores = ret.cores;
    info->threads = ret.threads;
    return 0;
}

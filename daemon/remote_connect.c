/*
 * Handlers of the connection procedures: open/close, host questions, auth,
 * features and the event callback registry. Facts about the host's CPUs and
 * memory come from the host seam (src/host/hostinfo.h), so --host-root
 * decides which host they describe.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver.h"
#include "host/hostinfo.h"
#include "util/error.h"
#include "vrt-config.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* libvirt's driver feature numbers (VIR_DRV_FEATURE_*) that vrt answers yes to. */
#define FEATURE_REMOTE 2
#define FEATURE_MIGRATION_P2P 4
#define FEATURE_MIGRATION_V3 6
#define FEATURE_MIGRATE_CHANGE_PROTECTION 7
#define FEATURE_TYPED_PARAM_STRING 9
#define FEATURE_PROGRAM_KEEPALIVE 10
#define FEATURE_MIGRATION_OFFLINE 12
#define FEATURE_MIGRATION_PARAMS 13
#define FEATURE_REMOTE_EVENT_CALLBACK 14
#define FEATURE_REMOTE_CLOSE_CALLBACK 15
/* NETWORK_UPDATE carries command and section in their declared order (as
 * with libvirtd; without it clients swap them) */
#define FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER 16
#define VIR_CONNECT_RO 1

VrtConn *
vrt_call_conn(VrtCall *call)
{
    return vrt_server_client_get_data(vrt_call_get_client(call));
}

VrtDaemon *
vrt_call_daemon(VrtCall *call)
{
    return vrt_call_conn(call)->daemon;
}

static bool
uri_is_ours(const char *name, char **canonical, GError **error)
{
    if (!name || !*name) {
        *canonical = g_strdup("qemu:///system");
        return true;
    }
    g_autoptr(GUri) uri = g_uri_parse(name, G_URI_FLAGS_NONE, NULL);
    if (!uri || g_strcmp0(g_uri_get_scheme(uri), "qemu") != 0) {
        vrt_error_set(error, VIR_ERR_NO_CONNECT, "no connection driver available for %s", name);
        return false;
    }
    const char *path = g_uri_get_path(uri);
    if (g_strcmp0(path, "/system") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unexpected QEMU URI path '%s', try qemu:///system",
                      path && *path ? path : "");
        return false;
    }
    *canonical = g_strdup("qemu:///system");
    return true;
}

bool
vrt_handle_connect_open(VrtCall *call, remote_connect_open_args *args, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    g_autofree char *uri = NULL;
    g_autoptr(GMutexLocker) locker = NULL;

    if (!uri_is_ours(args->name ? *args->name : NULL, &uri, error))
        return false;
    locker = g_mutex_locker_new(&conn->lock);
    if (conn->opened) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "connection already open");
        return false;
    }
    conn->opened = true;
    conn->readonly = vrt_server_client_is_readonly(conn->client) || (args->flags & VIR_CONNECT_RO);
    g_free(conn->uri);
    conn->uri = g_steal_pointer(&uri);
    return true;
}

bool
vrt_handle_connect_close(VrtCall *call, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        conn->opened = false;
        g_array_set_size(conn->callbacks, 0);
    }
    return true;
}

bool
vrt_handle_connect_get_type(VrtCall *call, remote_connect_get_type_ret *ret, GError **error)
{
    ret->type = g_strdup("QEMU");
    return true;
}

bool
vrt_handle_connect_get_version(VrtCall *call, remote_connect_get_version_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    vrt_daemon_probe(daemon);
    if (!daemon->hv_version) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find QEMU's version (is %s installed?)", daemon->emulator);
        return false;
    }
    ret->hv_ver = daemon->hv_version;
    return true;
}

bool
vrt_handle_connect_get_lib_version(VrtCall *call, remote_connect_get_lib_version_ret *ret, GError **error)
{
    /* The libvirt release whose API vrtd serves, not vrt's own version:
     * clients gate features on it (virt-install, virt-manager). */
    ret->lib_ver = VRT_LIBVIRT_API_VERSION;
    return true;
}

bool
vrt_handle_connect_get_hostname(VrtCall *call, remote_connect_get_hostname_ret *ret, GError **error)
{
    char buf[256] = { 0 };
    if (gethostname(buf, sizeof(buf) - 1) < 0 || !buf[0]) {
        vrt_error_set(error, VIR_ERR_NO_HOSTNAME, "%s", "cannot find this host's name");
        return false;
    }
    ret->hostname = g_strdup(buf);
    return true;
}

bool
vrt_handle_connect_get_uri(VrtCall *call, remote_connect_get_uri_ret *ret, GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        ret->uri = g_strdup(conn->uri ? conn->uri : "qemu:///system");
    }
    return true;
}

bool
vrt_handle_connect_get_max_vcpus(VrtCall *call, remote_connect_get_max_vcpus_args *args,
                                 remote_connect_get_max_vcpus_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    const char *type = args->type ? *args->type : NULL;
    if (type && g_ascii_strcasecmp(type, "qemu") != 0 && g_ascii_strcasecmp(type, "kvm") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown type '%s'", type);
        return false;
    }
    const VrtQemuCapsInfo *info = vrt_qemu_driver_get_caps(daemon->qemu, error);
    if (!info)
        return false;
    ret->max_vcpus = (int)info->max_vcpus;
    return true;
}

bool
vrt_handle_connect_is_secure(VrtCall *call, remote_connect_is_secure_ret *ret, GError **error)
{
    /* UNIX sockets are local and authenticated by the kernel; TLS and a SASL
     * security layer encrypt (libvirt's rule). */
    VrtServerClient *client = vrt_call_get_client(call);
    VrtTransport *t = vrt_server_client_get_transport(client);
    ret->secure = vrt_server_client_is_secure(client) || (t && t->ssf > 0);
    return true;
}

bool
vrt_handle_connect_supports_feature(VrtCall *call, remote_connect_supports_feature_args *args,
                                    remote_connect_supports_feature_ret *ret, GError **error)
{
    switch (args->feature) {
    case FEATURE_PROGRAM_KEEPALIVE:
        vrt_server_client_enable_keepalive(vrt_call_get_client(call));
        ret->supported = 1;
        break;
    case FEATURE_REMOTE:
    case FEATURE_TYPED_PARAM_STRING:
    case FEATURE_REMOTE_EVENT_CALLBACK:
    case FEATURE_REMOTE_CLOSE_CALLBACK:
    case FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER:
    /* Migration: version 3 with parameters, peer to peer, offline, the
     * source kept from other changes meanwhile (daemon/remote_migrate.c). */
    case FEATURE_MIGRATION_P2P:
    case FEATURE_MIGRATION_V3:
    case FEATURE_MIGRATION_PARAMS:
    case FEATURE_MIGRATION_OFFLINE:
    case FEATURE_MIGRATE_CHANGE_PROTECTION: ret->supported = 1; break;
    default: ret->supported = 0;
    }
    return true;
}

bool
vrt_handle_auth_list(VrtCall *call, remote_auth_list_ret *ret, GError **error)
{
    ret->types.types_len = 1;
    ret->types.types_val = g_new0(remote_auth_type, 1);
    /* The auth of the socket the client came by (auth_tls, auth_tcp, auth_unix_rw, auth_unix_ro). */
    switch (vrt_server_client_get_auth(vrt_call_get_client(call))) {
    case VRT_RPC_AUTH_SASL: ret->types.types_val[0] = REMOTE_AUTH_SASL; break;
    case VRT_RPC_AUTH_POLKIT: ret->types.types_val[0] = REMOTE_AUTH_POLKIT; break;
    default: ret->types.types_val[0] = REMOTE_AUTH_NONE;
    }
    return true;
}

bool
vrt_handle_connect_register_close_callback(VrtCall *call, GError **error)
{
    return true;
}

bool
vrt_handle_connect_unregister_close_callback(VrtCall *call, GError **error)
{
    return true;
}

bool
vrt_handle_node_get_info(VrtCall *call, remote_node_get_info_ret *ret, GError **error)
{
    struct utsname u;
    uname(&u);
    g_strlcpy(ret->model, u.machine, sizeof(ret->model));
    VrtHost *host = vrt_call_daemon(call)->host;
    ret->memory = vrt_host_meminfo_kib(host, "MemTotal");
    ret->cpus = (int)vrt_host_cpus_online(host);
    g_autofree char *mhz = vrt_host_cpuinfo_field(host, "cpu MHz");
    ret->mhz = mhz ? (int)g_ascii_strtod(mhz, NULL) : 0;
    ret->nodes = 1;
    ret->sockets = 1;
    ret->cores = ret->cpus;
    ret->threads = 1;
    return true;
}

bool
vrt_handle_node_get_free_memory(VrtCall *call, remote_node_get_free_memory_ret *ret, GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    int max_node = vrt_host_numa_max_node(host);
    guint64 sum = 0;

    /* With NUMA, the free memory of the nodes added up, as libvirt counts
     * it (so it is the total virsh freecell --all shows). */
    for (int n = 0; n <= max_node; n++) {
        guint64 total = 0, free_kib = 0;
        if (vrt_host_node_meminfo(host, n, &total, &free_kib, NULL))
            sum += free_kib;
    }
    ret->freeMem = (max_node >= 0 ? sum : vrt_host_meminfo_kib(host, "MemFree")) * 1024;
    return true;
}

bool
vrt_handle_node_get_security_model(VrtCall *call, remote_node_get_security_model_ret *ret, GError **error)
{
    /* No security driver: libvirt reports the model "none" and DOI "0". */
    ret->model.model_val = g_strdup("none");
    ret->model.model_len = sizeof("none");
    ret->doi.doi_val = g_strdup("0");
    ret->doi.doi_len = sizeof("0");
    return true;
}

bool
vrt_handle_connect_domain_event_callback_register_any(VrtCall *call,
                                                      remote_connect_domain_event_callback_register_any_args *args,
                                                      remote_connect_domain_event_callback_register_any_ret *ret,
                                                      GError **error)
{
    VrtConn *conn = vrt_call_conn(call);
    if (args->eventID < 0 || args->eventID > VRT_DOMAIN_EVENT_ID_LAST) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported event ID %d", args->eventID);
        return false;
    }
    VrtEventCallback cb = { 0 };
    cb.event_id = args->eventID;
    if (args->dom) {
        cb.has_dom = true;
        memcpy(cb.uuid, args->dom->uuid, 16);
    }
    ret->callbackID = vrt_conn_add_callback(conn, &cb);
    return true;
}

bool
vrt_handle_connect_domain_event_callback_deregister_any(VrtCall *call,
                                                        remote_connect_domain_event_callback_deregister_any_args *args,
                                                        GError **error)
{
    if (vrt_conn_remove_callback(vrt_call_conn(call), args->callbackID, false))
        return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "callback ID %d not registered", args->callbackID);
    return false;
}

int
vrt_conn_add_callback(VrtConn *conn, VrtEventCallback *cb)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

    cb->id = ++conn->next_callback_id;
    g_array_append_val(conn->callbacks, *cb);
    return cb->id;
}

bool
vrt_conn_remove_callback(VrtConn *conn, int id, bool qemu)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

    for (guint i = 0; i < conn->callbacks->len; i++) {
        const VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, i);

        if (cb->id == id && (cb->event_id == VRT_EVENT_ID_QEMU_MONITOR) == qemu) {
            g_array_remove_index(conn->callbacks, i);
            return true;
        }
    }
    return false;
}

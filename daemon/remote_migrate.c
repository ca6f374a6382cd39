/*
 * Handlers of the migration procedures (version 3 with parameters: begin,
 * prepare, prepare-tunnel, perform, finish, confirm, start-post-copy) and
 * of the migration tunables (max downtime, max speed): the typed parameter
 * list and the opaque cookies translated for the QEMU driver's migration
 * (src/drivers/qemu/qemu_migration.h). Peer-to-peer migration is this
 * file's: the source daemon's own TLS connection to the destination and,
 * tunnelled, the RPC stream that carries QEMU's data between the two.
 * Also the migration's share of domjobinfo and domjobabort, which the
 * generic job handlers ask first, the cleanup of a destination whose
 * client went away between prepare and finish, and the cancel of a
 * client-managed perform whose client went away.
 */
#include "daemon/remote_migrate.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_migration.h"
#include "rpc/client.h"
#include "rpc/stream.h"
#include "rpc/tls.h"
#include "util/error.h"
#include "util/uuid.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

/* ---- destinations waiting for their finish ---- */

/* The incoming migrations each connection prepared: when it goes before
 * their finish, their QEMUs are stopped (libvirt's close callback). */
typedef struct {
    VrtConn *conn; /* identity only: never dereferenced */
    VrtQemuDriver *drv;
    guchar uuid[16];
} Incoming;

/* ---- sources whose client may go ---- */

/* The client-managed performs running, each with its connection: when it
 * goes, the perform is told (its client_lost flag) and cancels the
 * transfer. */
typedef struct {
    VrtConn *conn; /* identity only: never dereferenced */
    gint *lost; /* the perform's flag, alive while the entry is listed */
} Outgoing;

/* The daemon's records of both (VrtDaemon.migrations). */
struct _VrtMigrateConns {
    GMutex lock;
    GArray *incomings; /* Incoming, under lock */
    GArray *outgoings; /* Outgoing, under lock */
    guint abandoning; /* threads stopping abandoned incoming migrations, under lock */
    GCond abandoned; /* signalled when one of them ends */
};

VrtMigrateConns *
vrt_migrate_conns_new(void)
{
    VrtMigrateConns *migs = g_new0(VrtMigrateConns, 1);

    g_mutex_init(&migs->lock);
    g_cond_init(&migs->abandoned);
    migs->incomings = g_array_new(FALSE, TRUE, sizeof(Incoming));
    migs->outgoings = g_array_new(FALSE, TRUE, sizeof(Outgoing));
    return migs;
}

void
vrt_migrate_conns_free(VrtMigrateConns *migs)
{
    if (!migs)
        return;
    /* The threads stopping abandoned migrations finish (the drivers they
     * use are freed after this). */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&migs->lock);

        while (migs->abandoning)
            g_cond_wait(&migs->abandoned, &migs->lock);
    }
    g_array_free(migs->incomings, TRUE);
    g_array_free(migs->outgoings, TRUE);
    g_cond_clear(&migs->abandoned);
    g_mutex_clear(&migs->lock);
    g_free(migs);
}

static void
incoming_add(VrtCall *call, VrtQemuDriver *drv, const guchar *uuid)
{
    VrtMigrateConns *migs = vrt_call_daemon(call)->migrations;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&migs->lock);
    Incoming in = { .conn = vrt_call_conn(call), .drv = drv };

    memcpy(in.uuid, uuid, 16);
    g_array_append_val(migs->incomings, in);
}

static void
outgoing_add(VrtCall *call, gint *lost)
{
    VrtMigrateConns *migs = vrt_call_daemon(call)->migrations;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&migs->lock);
    Outgoing out = { .conn = vrt_call_conn(call), .lost = lost };

    g_array_append_val(migs->outgoings, out);
}

static void
outgoing_remove(VrtCall *call, gint *lost)
{
    VrtMigrateConns *migs = vrt_call_daemon(call)->migrations;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&migs->lock);

    for (guint i = 0; i < migs->outgoings->len; i++)
        if (g_array_index(migs->outgoings, Outgoing, i).lost == lost) {
            g_array_remove_index_fast(migs->outgoings, i);
            return;
        }
}

typedef struct {
    VrtMigrateConns *migs;
    GArray *gone; /* Incoming */
} Abandon;

static gpointer
abandon_thread(gpointer data)
{
    g_autofree Abandon *a = data;

    for (guint i = 0; i < a->gone->len; i++) {
        Incoming *in = &g_array_index(a->gone, Incoming, i);

        vrt_qemu_migrate_incoming_abandoned(in->drv, in->uuid);
    }
    g_array_free(a->gone, TRUE);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&a->migs->lock);

        a->migs->abandoning--;
        g_cond_broadcast(&a->migs->abandoned);
    }
    return NULL;
}

void
vrt_migrate_conn_closed(VrtConn *conn)
{
    VrtMigrateConns *migs = conn->daemon->migrations;
    GArray *gone = g_array_new(FALSE, TRUE, sizeof(Incoming));

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&migs->lock);

        for (guint i = 0; i < migs->outgoings->len; i++)
            if (g_array_index(migs->outgoings, Outgoing, i).conn == conn)
                g_atomic_int_set(g_array_index(migs->outgoings, Outgoing, i).lost, 1);
        for (guint i = 0; i < migs->incomings->len;) {
            if (g_array_index(migs->incomings, Incoming, i).conn == conn) {
                g_array_append_val(gone, g_array_index(migs->incomings, Incoming, i));
                g_array_remove_index_fast(migs->incomings, i);
            } else {
                i++;
            }
        }
        if (gone->len)
            migs->abandoning++;
    }
    if (!gone->len) {
        g_array_free(gone, TRUE);
        return;
    }
    /* Stopping QEMU waits for it: not on the I/O thread that runs this.
     * A domain whose finish came already is no longer marked incoming and
     * is left alone. */
    Abandon *a = g_new0(Abandon, 1);
    a->migs = migs;
    a->gone = gone;
    g_thread_unref(g_thread_new("vrt-mig-abandon", abandon_thread, a));
}

/* Reads the parameters vrt uses from the wire list (strings borrowed from
 * it); a known one of the wrong type is libvirt's VIR_ERR_INVALID_ARG. */
static bool
params_read(const remote_typed_param *val, u_int len, VrtMigrateParams *p, GError **error)
{
    static const char *const strings[] = { "migrate_uri", "destination_name", "destination_xml", "persistent_xml",
                                           "listen_address" };
    const char **dst[] = { &p->uri, &p->dname, &p->dxml, &p->persist_xml, &p->listen_address };

    memset(p, 0, sizeof(*p));
    p->tunnel_fd = -1;
    for (u_int i = 0; i < len; i++) {
        const remote_typed_param_value *v = &val[i].value;
        bool known = false;

        for (guint k = 0; k < G_N_ELEMENTS(strings); k++) {
            if (!g_str_equal(val[i].field, strings[k]))
                continue;
            known = true;
            if (v->type != VRT_TYPED_PARAM_STRING) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter '%s'", v->type,
                              val[i].field);
                return false;
            }
            *dst[k] = v->remote_typed_param_value_u.s;
        }
        if (known)
            continue;
        if (g_str_equal(val[i].field, "bandwidth")) {
            if (v->type != VRT_TYPED_PARAM_ULLONG) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter 'bandwidth'", v->type);
                return false;
            }
            p->bandwidth = v->remote_typed_param_value_u.ul;
        } else if (g_str_equal(val[i].field, "compression")) {
            if (v->type != VRT_TYPED_PARAM_STRING) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter 'compression'", v->type);
                return false;
            }
            if (p->compression && !g_str_equal(p->compression, v->remote_typed_param_value_u.s)) {
                vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                              "vrt migrates with one compression method at a time");
                return false;
            }
            p->compression = v->remote_typed_param_value_u.s;
        } else if (g_str_equal(val[i].field, "parallel.connections")) {
            if (v->type != VRT_TYPED_PARAM_INT) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter 'parallel.connections'",
                              v->type);
                return false;
            }
            p->parallel_connections = v->remote_typed_param_value_u.i;
        }
        /* Others (graphics URI, disks, compression, ...) change nothing vrt does. */
    }
    return true;
}

/* Moves a cookie's text into an opaque reply member (with its NUL, as
 * libvirt sends it). */
static void
cookie_to_wire(char *cookie, char **val, u_int *len)
{
    if (!cookie) {
        *val = NULL;
        *len = 0;
        return;
    }
    *len = (u_int)strlen(cookie) + 1;
    *val = cookie;
}

static void
ref_to_wire(VrtDomainRef *ref, remote_nonnull_domain *dom)
{
    dom->name = g_steal_pointer(&ref->name);
    memcpy(dom->uuid, ref->uuid, 16);
    dom->id = ref->id;
}

bool
vrt_handle_domain_migrate_begin3_params(VrtCall *call, remote_domain_migrate_begin3_params_args *args,
                                        remote_domain_migrate_begin3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    char *xml;

    if (!params_read(args->params.params_val, args->params.params_len, &p, error))
        return false;
    xml = vrt_qemu_migrate_begin(drv, WIRE_UUID(args->dom.uuid), &p, args->flags, &cookie, error);
    if (!xml)
        return false;
    ret->xml = xml;
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    return true;
}

/* Where a migration's source reaches this daemon, put into the prepare's
 * cookie for a source that must ask where the guest runs: its TLS socket,
 * as qemu+tls://HOST:PORT/system (HOST: listen_addr when it names one
 * address, else migration_host, else the hostname; PORT: tls_port). NULL
 * when it does not listen on TLS with certificates alone (auth_tls
 * "none"), which is how a source's daemon connects (p2p_connect). */
static char *
daemon_uri(VrtDaemon *daemon)
{
    const VrtConfig *cfg = &daemon->cfg;
    const char *host = cfg->listen_addr;

    if (!daemon->tls || g_strcmp0(cfg->auth_tls, "none") != 0)
        return NULL;
    if (!host || !*host || g_str_equal(host, "0.0.0.0") || g_str_equal(host, "::"))
        host = cfg->migration_host && *cfg->migration_host ? cfg->migration_host : g_get_host_name();
    return strchr(host, ':') ? g_strdup_printf("qemu+tls://[%s]:%s/system", host, cfg->tls_port)
                             : g_strdup_printf("qemu+tls://%s:%s/system", host, cfg->tls_port);
}

bool
vrt_handle_domain_migrate_prepare3_params(VrtCall *call, remote_domain_migrate_prepare3_params_args *args,
                                          remote_domain_migrate_prepare3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    char *uri = NULL;
    guchar uuid[16];
    g_autofree char *self = daemon_uri(vrt_call_daemon(call));

    if (!params_read(args->params.params_val, args->params.params_len, &p, error))
        return false;
    p.daemon_uri = self;
    if (!vrt_qemu_migrate_prepare(drv, &p, args->cookie_in.cookie_in_val, args->cookie_in.cookie_in_len, args->flags,
                                  &cookie, &uri, uuid, error))
        return false;
    if (!(args->flags & VRT_MIGRATE_OFFLINE))
        incoming_add(call, drv, uuid);
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    if (uri) {
        ret->uri_out = g_new0(char *, 1);
        *ret->uri_out = uri;
    }
    return true;
}

/* ---- tunnelled: the destination's end ---- */

bool
vrt_handle_domain_migrate_prepare_tunnel3_params(VrtCall *call, remote_domain_migrate_prepare_tunnel3_params_args *args,
                                                 remote_domain_migrate_prepare_tunnel3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    int fd = -1;
    guchar uuid[16];
    g_autoptr(VrtServerStream) stream = NULL;
    g_autofree char *self = daemon_uri(vrt_call_daemon(call));

    if (!params_read(args->params.params_val, args->params.params_len, &p, error))
        return false;
    p.daemon_uri = self;
    if (!vrt_qemu_migrate_prepare_tunnel(drv, &p, args->cookie_in.cookie_in_val, args->cookie_in.cookie_in_len,
                                         args->flags, &cookie, &fd, uuid, error))
        return false;
    incoming_add(call, drv, uuid);
    /* What the source's stream carries goes into the socket QEMU reads;
     * the stream's end (finish, abort, the connection's loss) closes it,
     * and QEMU sees the end of its input. */
    stream = vrt_server_stream_new(call, fd, VRT_STREAM_SINK);
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    return stream != NULL;
}

/* ---- peer to peer: the source's own connection to the destination ---- */

/* libvirt's params with name set to value (strings borrowed: the array is
 * never freed with xdr_free). */
static GArray *
params_with(const remote_typed_param *val, u_int len, const char *name, const char *value)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
    remote_typed_param p = { 0 };

    for (u_int i = 0; i < len; i++)
        if (!g_str_equal(val[i].field, name))
            g_array_append_val(out, val[i]);
    if (value) {
        p.field = (char *)name;
        p.value.type = VRT_TYPED_PARAM_STRING;
        p.value.remote_typed_param_value_u.s = (char *)value;
        g_array_append_val(out, p);
    }
    return out;
}

/* An RPC connection to the daemon of dconnuri (qemu+tls://HOST[:PORT]/system)
 * with this daemon's client certificate (libvirt's paths under its root),
 * opened as qemu:///system. */
static VrtRpcClient *
p2p_connect(const char *root, const char *dconnuri, GError **error)
{
    g_autoptr(GUri) uri = g_uri_parse(dconnuri, G_URI_FLAGS_NONE, NULL);
    g_autofree char *ca = g_strconcat(root, VRT_TLS_CACERT, NULL);
    g_autofree char *crl = g_strconcat(root, VRT_TLS_CACRL, NULL);
    g_autofree char *cert = g_strconcat(root, VRT_TLS_CLIENTCERT, NULL);
    g_autofree char *key = g_strconcat(root, VRT_TLS_CLIENTKEY, NULL);
    VrtTlsConfig cfg = { .ca_file = ca, .crl_file = crl, .cert_file = cert, .key_file = key };
    g_autoptr(VrtRpcClient) rpc = NULL;
    char *name = (char *)"qemu:///system";
    remote_connect_open_args open_args = { .name = &name, .flags = 0 };

    if (!uri || g_strcmp0(g_uri_get_scheme(uri), "qemu+tls") != 0 || !g_uri_get_host(uri)) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                      "peer-to-peer migration goes to a qemu+tls://HOST/system URI only, not '%s'", dconnuri);
        return NULL;
    }
    rpc = vrt_rpc_client_new_tls(g_uri_get_host(uri), g_uri_get_port(uri) > 0 ? (guint)g_uri_get_port(uri) : 16514,
                                 &cfg, error);
    if (!rpc || !vrt_rpc_client_call(rpc, VRT_PROC_CONNECT_OPEN, (xdrproc_t)xdr_remote_connect_open_args, &open_args,
                                     (xdrproc_t)xdr_void, NULL, error))
        return NULL;
    return g_steal_pointer(&rpc);
}

bool
vrt_migrate_peer_state(const char *dconnuri, const guchar *uuid, gpointer data, int *state, int *reason, GError **error)
{
    VrtDaemon *daemon = data;
    g_autoptr(VrtRpcClient) dc = p2p_connect(daemon->root, dconnuri, error);
    g_autoptr(GError) err = NULL;
    remote_domain_lookup_by_uuid_args la = { 0 };
    remote_domain_ret lr = { 0 };
    remote_domain_flags_args sa = { 0 };
    remote_domain_get_state_ret sr = { 0 };
    bool ok;

    if (!dc)
        return false;
    /* A destination that stops answering (a frozen vrtd) ends the ask in
     * seconds: the asking worker must not hang a shutdown for long. */
    vrt_rpc_client_set_keepalive(dc, 2, 3);
    memcpy(la.uuid, uuid, VRT_UUID_LEN);
    if (!vrt_rpc_client_call(dc, VRT_PROC_DOMAIN_LOOKUP_BY_UUID, (xdrproc_t)xdr_remote_domain_lookup_by_uuid_args, &la,
                             (xdrproc_t)xdr_remote_domain_ret, &lr, &err)) {
        /* Not defined there: it does not run there. */
        if (vrt_error_code(err) == VIR_ERR_NO_DOMAIN) {
            *state = VRT_DOMAIN_SHUTOFF;
            *reason = 0;
            return true;
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    sa.dom = lr.dom;
    ok = vrt_rpc_client_call(dc, VRT_PROC_DOMAIN_GET_STATE, (xdrproc_t)xdr_remote_domain_flags_args, &sa,
                             (xdrproc_t)xdr_remote_domain_get_state_ret, &sr, &err);
    xdr_free((xdrproc_t)xdr_remote_domain_ret, (char *)&lr);
    if (!ok) {
        /* Gone between the two calls. */
        if (vrt_error_code(err) == VIR_ERR_NO_DOMAIN) {
            *state = VRT_DOMAIN_SHUTOFF;
            *reason = 0;
            return true;
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    *state = sr.state;
    *reason = sr.reason;
    return true;
}

/* A tunnelled migration's pump: what QEMU writes into its end of the
 * socket pair is sent on the stream to the destination, until QEMU closes
 * it (the migration ended) or the stream fails. */
typedef struct {
    int fd; /* this daemon's end */
    VrtRpcStream *stream;
    GError *error;
    guint64 bytes;
} Pump;

#define PUMP_BUF (256 * 1024)

static gpointer
pump_thread(gpointer data)
{
    Pump *pump = data;
    g_autofree char *buf = g_malloc(PUMP_BUF);

    for (;;) {
        ssize_t n = read(pump->fd, buf, PUMP_BUF);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vrt_error_set(&pump->error, VIR_ERR_SYSTEM_ERROR, "cannot read QEMU's migration data: %s",
                          g_strerror(errno));
            break;
        }
        if (n == 0 || !vrt_rpc_stream_send(pump->stream, buf, (gsize)n, &pump->error))
            break;
        pump->bytes += (guint64)n;
    }
    return NULL;
}

/* The destination's prepare of a tunnelled migration: its stream in
 * *stream, its cookie (taken) in *cookie_out. */
static bool
prepare_tunnel_remote(VrtRpcClient *dc, const GArray *pp, const char *cookie, guint flags, VrtRpcStream **stream,
                      char **cookie_out, GError **error)
{
    remote_domain_migrate_prepare_tunnel3_params_args ta = { 0 };
    remote_domain_migrate_prepare_tunnel3_params_ret tr = { 0 };

    ta.params.params_val = (remote_typed_param *)pp->data;
    ta.params.params_len = pp->len;
    ta.cookie_in.cookie_in_val = (char *)cookie;
    ta.cookie_in.cookie_in_len = (u_int)strlen(cookie) + 1;
    ta.flags = flags;
    if (!vrt_rpc_client_call_stream(dc, VRT_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS,
                                    (xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_args, &ta,
                                    (xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_ret, &tr, stream,
                                    error))
        return false;
    *cookie_out =
        tr.cookie_out.cookie_out_len ? g_strndup(tr.cookie_out.cookie_out_val, tr.cookie_out.cookie_out_len) : NULL;
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_ret, (char *)&tr);
    return true;
}

/* Perform of a tunnelled migration: QEMU writes into a socket pair whose
 * other end a pump thread sends on stream; the stream is finished (the
 * destination has all of it) or aborted before this returns. */
static bool
perform_tunnelled(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, guint flags, VrtRpcStream *stream,
                  char **cookie_out, GError **error)
{
    int pair[2];
    Pump pump = { .stream = stream };
    GThread *thread;
    VrtMigrateParams p2 = *p;
    bool performed;
    g_autoptr(GError) serr = NULL;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot create a socket pair: %s", g_strerror(errno));
        vrt_rpc_stream_abort(stream, NULL);
        return false;
    }
    pump.fd = pair[0];
    thread = g_thread_new("vrt-mig-tunnel", pump_thread, &pump);
    p2.tunnel_fd = pair[1];
    performed = vrt_qemu_migrate_perform(drv, uuid, &p2, flags, cookie_out, error);
    /* QEMU has its own copy (getfd) and closes it when the migration ends:
     * the pump then reads the end of what it sent. A migration that did not
     * start leaves QEMU's copy unused, so the pump is stopped here. */
    close(pair[1]);
    if (!performed)
        shutdown(pair[0], SHUT_RDWR);
    g_thread_join(thread);
    close(pair[0]);
    if (performed && !pump.error && vrt_rpc_stream_finish(stream, &serr)) {
        g_debug("tunnelled migration: %" G_GUINT64_FORMAT " bytes sent", pump.bytes);
        return true;
    }
    vrt_rpc_stream_abort(stream, NULL);
    if (performed) {
        g_propagate_prefixed_error(error, pump.error ? pump.error : g_steal_pointer(&serr), "%s",
                                   "tunnelled migration: ");
        return false;
    }
    g_clear_error(&pump.error);
    return false;
}

/* libvirt's peer-to-peer migration (version 3 with parameters): this
 * daemon runs begin, the destination's prepare, perform, the
 * destination's finish and confirm itself. */
static bool
perform_p2p(VrtCall *call, VrtQemuDriver *drv, remote_domain_migrate_perform3_params_args *args,
            const VrtMigrateParams *p, guint flags, GError **error)
{
    const guchar *uuid = WIRE_UUID(args->dom.uuid);
    g_autoptr(VrtRpcClient) dc = p2p_connect(vrt_call_daemon(call)->root, *args->dconnuri, error);
    g_autofree char *xml = NULL;
    g_autofree char *cookie = NULL;
    g_autofree char *cookie3 = NULL;
    g_autofree char *uri = NULL;
    g_autoptr(GArray) pp = NULL;
    g_autoptr(GArray) fp = NULL;
    g_autoptr(GError) perr = NULL;
    g_autoptr(GError) ferr = NULL;
    VrtRpcStream *stream = NULL;
    remote_domain_migrate_prepare3_params_args pa = { 0 };
    remote_domain_migrate_prepare3_params_ret pr = { 0 };
    remote_domain_migrate_finish3_params_args fa = { 0 };
    remote_domain_migrate_finish3_params_ret fr = { 0 };
    VrtMigrateParams p2 = *p;
    bool performed, finished;

    /* Recorded with the performed phase: a restart asks it. */
    p2.peer_uri = *args->dconnuri;
    if (!dc || !(xml = vrt_qemu_migrate_begin(drv, uuid, p, flags, &cookie, error)))
        return false;

    pp = params_with(args->params.params_val, args->params.params_len, "destination_xml", xml);
    if (flags & VRT_MIGRATE_TUNNELLED) {
        g_autofree char *cookie2 = NULL;

        if (!prepare_tunnel_remote(dc, pp, cookie, flags, &stream, &cookie2, error))
            return false;
        performed = perform_tunnelled(drv, uuid, &p2, flags, stream, &cookie3, &perr);
        vrt_rpc_stream_free(stream);
    } else {
        pa.params.params_val = (remote_typed_param *)pp->data;
        pa.params.params_len = pp->len;
        pa.cookie_in.cookie_in_val = cookie;
        pa.cookie_in.cookie_in_len = (u_int)strlen(cookie) + 1;
        pa.flags = flags;
        if (!vrt_rpc_client_call(dc, VRT_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                                 (xdrproc_t)xdr_remote_domain_migrate_prepare3_params_args, &pa,
                                 (xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, &pr, error))
            return false;
        uri = g_strdup(pr.uri_out && *pr.uri_out ? *pr.uri_out : p->uri);
        xdr_free((xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, (char *)&pr);

        p2.uri = uri;
        performed = vrt_qemu_migrate_perform(drv, uuid, &p2, flags, &cookie3, &perr);
    }

    fp = params_with(args->params.params_val, args->params.params_len, "migrate_uri", uri);
    fa.params.params_val = (remote_typed_param *)fp->data;
    fa.params.params_len = fp->len;
    fa.cookie_in.cookie_in_val = cookie3;
    fa.cookie_in.cookie_in_len = cookie3 ? (u_int)strlen(cookie3) + 1 : 0;
    fa.flags = flags;
    fa.cancelled = !performed;
    finished = vrt_rpc_client_call(dc, VRT_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS,
                                   (xdrproc_t)xdr_remote_domain_migrate_finish3_params_args, &fa,
                                   (xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret, &fr, &ferr) &&
               performed;
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret, (char *)&fr);
    if (performed && ferr) {
        int where;

        /* The transfer completed but the finish gave no answer to trust
         * (the destination may have resumed the guest and died before it
         * answered): the destination, asked again, says where the guest
         * runs; resuming here blindly could run it twice. */
        g_message("peer-to-peer migration: the destination's finish failed: %s", ferr->message);
        where = vrt_qemu_migrate_settle(drv, uuid, *args->dconnuri, flags);
        if (where > 0)
            return true;
        if (where < 0)
            g_prefix_error(&ferr, "%s", "the domain stays paused, its destination may run it (vrtd asks it again): ");
        g_propagate_error(error, g_steal_pointer(&ferr));
        return false;
    }

    if (!vrt_qemu_migrate_confirm(drv, uuid, flags, !finished, finished ? error : NULL))
        return false;
    if (!performed) {
        g_propagate_error(error, g_steal_pointer(&perr));
        return false;
    }
    if (!finished) {
        g_propagate_error(error, g_steal_pointer(&ferr));
        return false;
    }
    return true;
}

bool
vrt_handle_domain_migrate_perform3_params(VrtCall *call, remote_domain_migrate_perform3_params_args *args,
                                          remote_domain_migrate_perform3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    gint lost = 0;
    bool performed;

    if (!params_read(args->params.params_val, args->params.params_len, &p, error))
        return false;
    if (args->flags & VRT_MIGRATE_PEER2PEER) {
        if (!args->dconnuri || !*args->dconnuri) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "peer-to-peer migration needs a destination URI");
            return false;
        }
        return perform_p2p(call, drv, args, &p, args->flags & ~VRT_MIGRATE_PEER2PEER, error);
    }
    p.client_lost = &lost;
    /* The destination's prepare cookie: the daemon it names is asked where
     * the guest runs when this source cannot tell. */
    p.peer_cookie = args->cookie_in.cookie_in_val;
    p.peer_cookie_len = args->cookie_in.cookie_in_len;
    outgoing_add(call, &lost);
    performed = vrt_qemu_migrate_perform(drv, WIRE_UUID(args->dom.uuid), &p, args->flags, &cookie, error);
    outgoing_remove(call, &lost);
    if (!performed)
        return false;
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    return true;
}

bool
vrt_handle_domain_migrate_finish3_params(VrtCall *call, remote_domain_migrate_finish3_params_args *args,
                                         remote_domain_migrate_finish3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    g_autoptr(VrtDomainRef) ref = NULL;

    if (!params_read(args->params.params_val, args->params.params_len, &p, error) ||
        !(ref = vrt_qemu_migrate_finish(drv, &p, args->cookie_in.cookie_in_val, args->cookie_in.cookie_in_len,
                                        args->flags, args->cancelled != 0, &cookie, error)))
        return false;
    ref_to_wire(ref, &ret->dom);
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    return true;
}

bool
vrt_handle_domain_migrate_confirm3_params(VrtCall *call, remote_domain_migrate_confirm3_params_args *args,
                                          GError **error)
{
    DRV(call, error);

    return vrt_qemu_migrate_confirm(drv, WIRE_UUID(args->dom.uuid), args->flags, args->cancelled != 0, error);
}

bool
vrt_handle_domain_migrate_start_post_copy(VrtCall *call, remote_domain_migrate_start_post_copy_args *args,
                                          GError **error)
{
    DRV(call, error);

    return vrt_qemu_migrate_start_post_copy(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_migrate_set_max_downtime(VrtCall *call, remote_domain_migrate_set_max_downtime_args *args,
                                           GError **error)
{
    DRV(call, error);

    return vrt_qemu_migrate_set_max_downtime(drv, WIRE_UUID(args->dom.uuid), args->downtime, error);
}

bool
vrt_handle_domain_migrate_get_max_downtime(VrtCall *call, remote_domain_migrate_get_max_downtime_args *args,
                                           remote_domain_migrate_get_max_downtime_ret *ret, GError **error)
{
    DRV(call, error);
    guint64 ms = 0;

    if (!vrt_qemu_migrate_get_max_downtime(drv, WIRE_UUID(args->dom.uuid), &ms, error))
        return false;
    ret->downtime = ms;
    return true;
}

bool
vrt_handle_domain_migrate_set_max_speed(VrtCall *call, remote_domain_migrate_set_max_speed_args *args, GError **error)
{
    DRV(call, error);

    /* VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY (the only flag, checked by the
     * flags table): the post-copy phase's limit. */
    return vrt_qemu_migrate_set_max_speed(drv, WIRE_UUID(args->dom.uuid), args->bandwidth, args->flags != 0, error);
}

bool
vrt_handle_domain_migrate_get_max_speed(VrtCall *call, remote_domain_migrate_get_max_speed_args *args,
                                        remote_domain_migrate_get_max_speed_ret *ret, GError **error)
{
    DRV(call, error);
    guint64 mib = 0;

    if (!vrt_qemu_migrate_get_max_speed(drv, WIRE_UUID(args->dom.uuid), args->flags != 0, &mib, error))
        return false;
    ret->bandwidth = mib;
    return true;
}

/* ---- the job handlers' migration part ---- */

bool
vrt_migrate_job_stats(VrtCall *call, remote_domain_get_job_stats_args *args, remote_domain_get_job_stats_ret *ret,
                      bool *handled, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    g_autoptr(GPtrArray) params = NULL;
    int type = 0;

    *handled = drv && vrt_qemu_migration_job_stats(drv, WIRE_UUID(args->dom.uuid), args->flags, &type, &params);
    if (!*handled)
        return true;
    ret->type = type;
    ret->params.params_len = params->len;
    ret->params.params_val = g_new0(remote_typed_param, params->len ? params->len : 1);
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        remote_typed_param *w = &ret->params.params_val[i];

        w->field = g_steal_pointer(&p->field);
        w->value.type = p->type;
        if (p->type == VRT_TYPED_PARAM_INT)
            w->value.remote_typed_param_value_u.i = p->v.i;
        else
            w->value.remote_typed_param_value_u.ul = p->v.ul;
    }
    return true;
}

bool
vrt_migrate_abort_job(VrtCall *call, const guchar *uuid, bool *handled, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;

    *handled = false;
    return !drv || vrt_qemu_migration_abort(drv, uuid, handled, error);
}

bool
vrt_migrate_job_info(VrtCall *call, const guchar *uuid, remote_domain_get_job_info_ret *ret, bool *handled,
                     GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    g_autoptr(GPtrArray) params = NULL;
    int type = 0;

    *handled = drv && vrt_qemu_migration_job_stats(drv, uuid, 0, &type, &params);
    if (!*handled)
        return true;
    ret->type = type;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);

        if (g_str_equal(p->field, "time_elapsed"))
            ret->timeElapsed = p->v.ul;
        else if (g_str_equal(p->field, "data_total"))
            ret->dataTotal = ret->memTotal = p->v.ul;
        else if (g_str_equal(p->field, "data_processed"))
            ret->dataProcessed = ret->memProcessed = p->v.ul;
        else if (g_str_equal(p->field, "data_remaining"))
            ret->dataRemaining = ret->memRemaining = p->v.ul;
    }
    return true;
}

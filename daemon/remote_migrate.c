/*
 * Handlers of the migration procedures (version 3 with parameters: begin,
 * prepare, perform, finish, confirm) and of the migration tunables (max
 * downtime, max speed): the typed parameter list and the opaque cookies
 * translated for the QEMU driver's migration (src/drivers/qemu/qemu_migration.h).
 * Also the migration's share of domjobinfo and domjobabort, which the
 * generic job handlers ask first.
 */
#include "daemon/remote_migrate.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_migration.h"
#include "rpc/client.h"
#include "rpc/tls.h"
#include "util/error.h"

#include <string.h>

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
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

bool
vrt_handle_domain_migrate_prepare3_params(VrtCall *call, remote_domain_migrate_prepare3_params_args *args,
                                          remote_domain_migrate_prepare3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;
    char *uri = NULL;

    if (!params_read(args->params.params_val, args->params.params_len, &p, error) ||
        !vrt_qemu_migrate_prepare(drv, &p, args->cookie_in.cookie_in_val, args->cookie_in.cookie_in_len, args->flags,
                                  &cookie, &uri, error))
        return false;
    cookie_to_wire(cookie, &ret->cookie_out.cookie_out_val, &ret->cookie_out.cookie_out_len);
    if (uri) {
        ret->uri_out = g_new0(char *, 1);
        *ret->uri_out = uri;
    }
    return true;
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
p2p_connect(VrtCall *call, const char *dconnuri, GError **error)
{
    const char *root = vrt_call_daemon(call)->root;
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

/* libvirt's peer-to-peer migration (version 3 with parameters): this
 * daemon runs begin, the destination's prepare, perform, the
 * destination's finish and confirm itself. */
static bool
perform_p2p(VrtCall *call, VrtQemuDriver *drv, remote_domain_migrate_perform3_params_args *args,
            const VrtMigrateParams *p, guint flags, GError **error)
{
    const guchar *uuid = WIRE_UUID(args->dom.uuid);
    g_autoptr(VrtRpcClient) dc = p2p_connect(call, *args->dconnuri, error);
    g_autofree char *xml = NULL;
    g_autofree char *cookie = NULL;
    g_autofree char *cookie3 = NULL;
    g_autofree char *uri = NULL;
    g_autoptr(GArray) pp = NULL;
    g_autoptr(GArray) fp = NULL;
    g_autoptr(GError) perr = NULL;
    g_autoptr(GError) ferr = NULL;
    remote_domain_migrate_prepare3_params_args pa = { 0 };
    remote_domain_migrate_prepare3_params_ret pr = { 0 };
    remote_domain_migrate_finish3_params_args fa = { 0 };
    remote_domain_migrate_finish3_params_ret fr = { 0 };
    VrtMigrateParams p2 = *p;
    bool performed, finished;

    if (!dc || !(xml = vrt_qemu_migrate_begin(drv, uuid, p, flags, &cookie, error)))
        return false;

    pp = params_with(args->params.params_val, args->params.params_len, "destination_xml", xml);
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
    if (performed && ferr)
        g_message("peer-to-peer migration: the destination's finish failed: %s", ferr->message);
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret, (char *)&fr);

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

    if (!params_read(args->params.params_val, args->params.params_len, &p, error))
        return false;
    if (args->flags & VRT_MIGRATE_PEER2PEER) {
        if (!args->dconnuri || !*args->dconnuri) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "peer-to-peer migration needs a destination URI");
            return false;
        }
        return perform_p2p(call, drv, args, &p, args->flags & ~VRT_MIGRATE_PEER2PEER, error);
    }
    if (!vrt_qemu_migrate_perform(drv, WIRE_UUID(args->dom.uuid), &p, args->flags, &cookie, error))
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

    if (args->flags) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "post-copy migration is not supported by vrt");
        return false;
    }
    return vrt_qemu_migrate_set_max_speed(drv, WIRE_UUID(args->dom.uuid), args->bandwidth, error);
}

bool
vrt_handle_domain_migrate_get_max_speed(VrtCall *call, remote_domain_migrate_get_max_speed_args *args,
                                        remote_domain_migrate_get_max_speed_ret *ret, GError **error)
{
    DRV(call, error);
    guint64 mib = 0;

    if (args->flags) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "post-copy migration is not supported by vrt");
        return false;
    }
    if (!vrt_qemu_migrate_get_max_speed(drv, WIRE_UUID(args->dom.uuid), &mib, error))
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

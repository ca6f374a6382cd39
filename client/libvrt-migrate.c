/*
 * libvrt's live migration: the client-managed flow of libvirt's protocol
 * version 3 with parameters (this process calls begin and perform on the
 * source, prepare and finish on the destination, confirm on the source,
 * passing each phase's opaque cookie to the next, as virDomainMigrate3
 * does), the peer-to-peer request (one perform call to the source, whose
 * daemon does the rest), and the job statistics a progress display reads.
 */
#include "libvrt-private.h"

#include "rpc/message.h"

#include <string.h>

/* libvirt's typed parameter types used here. */
enum {
    PARAM_INT = 1,
    PARAM_ULLONG = 4,
    PARAM_STRING = 7
};

static void
param_string(GArray *a, const char *field, const char *value)
{
    remote_typed_param p = { 0 };

    if (!value)
        return;
    p.field = (char *)field;
    p.value.type = PARAM_STRING;
    p.value.remote_typed_param_value_u.s = (char *)value;
    g_array_append_val(a, p);
}

/* The wire list of params (strings borrowed: never xdr_free'd). */
static GArray *
params_to_wire(const vrt_migrate_params *mp, const char *dxml, const char *uri)
{
    static const vrt_migrate_params none = { 0 };
    GArray *a = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
    remote_typed_param p = { 0 };

    if (!mp)
        mp = &none;
    param_string(a, "migrate_uri", uri ? uri : mp->uri);
    param_string(a, "destination_name", mp->dname);
    param_string(a, "destination_xml", dxml ? dxml : mp->dxml);
    param_string(a, "listen_address", mp->listen_address);
    param_string(a, "compression", mp->compression);
    if (mp->bandwidth) {
        p.field = (char *)"bandwidth";
        p.value.type = PARAM_ULLONG;
        p.value.remote_typed_param_value_u.ul = mp->bandwidth;
        g_array_append_val(a, p);
    }
    if (mp->parallel_connections) {
        p.field = (char *)"parallel.connections";
        p.value.type = PARAM_INT;
        p.value.remote_typed_param_value_u.i = mp->parallel_connections;
        g_array_append_val(a, p);
    }
    return a;
}

#define SET_PARAMS(args, arr)                                         \
    do {                                                              \
        (args).params.params_val = (remote_typed_param *)(arr)->data; \
        (args).params.params_len = (arr)->len;                        \
    } while (0)

vrt_domain *
vrt_domain_migrate(vrt_domain *dom, vrt_conn *dconn, const vrt_migrate_params *params, unsigned int flags,
                   vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    VRT_CHECK_ARG(dconn, err, NULL);
    if (flags & (VRT_MIGRATE_PEER2PEER | VRT_MIGRATE_TUNNELLED)) {
        vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, "%s",
                    "invalid argument: peer-to-peer and tunnelled migration go through vrt_domain_migrate_to_uri");
        return NULL;
    }
    GError *gerr = NULL;
    g_autoptr(GArray) plain = params_to_wire(params, NULL, NULL);

    /* Begin (source): the XML the destination starts and the first cookie. */
    remote_domain_migrate_begin3_params_args ba = { .flags = flags };
    remote_domain_migrate_begin3_params_ret br = { 0 };
    vrt_domain_to_wire(dom, &ba.dom);
    SET_PARAMS(ba, plain);
    if (!vrt_call_domain_migrate_begin3_params(dom->conn->rpc, &ba, &br, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    g_autofree char *xml = g_strdup(br.xml);
    g_autoptr(GBytes) cookie = g_bytes_new(br.cookie_out.cookie_out_val, br.cookie_out.cookie_out_len);
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_migrate_begin3_params_ret, &br);

    /* Prepare (destination): the incoming QEMU and where to send to. */
    g_autoptr(GArray) pp = params_to_wire(params, xml, NULL);
    remote_domain_migrate_prepare3_params_args pa = { .flags = flags };
    remote_domain_migrate_prepare3_params_ret pr = { 0 };
    SET_PARAMS(pa, pp);
    pa.cookie_in.cookie_in_val = (char *)g_bytes_get_data(cookie, NULL);
    pa.cookie_in.cookie_in_len = (u_int)g_bytes_get_size(cookie);
    if (!vrt_call_domain_migrate_prepare3_params(dconn->rpc, &pa, &pr, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    g_autofree char *uri = g_strdup(pr.uri_out && *pr.uri_out ? *pr.uri_out : params ? params->uri : NULL);
    g_bytes_unref(cookie);
    cookie = g_bytes_new(pr.cookie_out.cookie_out_val, pr.cookie_out.cookie_out_len);
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, &pr);

    /* Perform (source): QEMU's transfer, skipped by an offline migration
     * as libvirt's client skips it. */
    g_autoptr(GArray) up = params_to_wire(params, xml, uri);
    GError *perr = NULL;
    bool performed = true;
    if (!(flags & VRT_MIGRATE_OFFLINE)) {
        remote_domain_migrate_perform3_params_args fa = { .flags = flags };
        remote_domain_migrate_perform3_params_ret fr = { 0 };
        vrt_domain_to_wire(dom, &fa.dom);
        SET_PARAMS(fa, up);
        fa.cookie_in.cookie_in_val = (char *)g_bytes_get_data(cookie, NULL);
        fa.cookie_in.cookie_in_len = (u_int)g_bytes_get_size(cookie);
        performed = vrt_call_domain_migrate_perform3_params(dom->conn->rpc, &fa, &fr, &perr);
        g_bytes_unref(cookie);
        cookie = g_bytes_new(fr.cookie_out.cookie_out_val, fr.cookie_out.cookie_out_len);
        if (performed)
            vrt_message_free_payload((xdrproc_t)xdr_remote_domain_migrate_perform3_params_ret, &fr);
    } else {
        g_bytes_unref(cookie);
        cookie = g_bytes_new(NULL, 0);
    }

    /* Finish (destination): resume there, or drop the incoming QEMU when
     * the transfer failed. */
    remote_domain_migrate_finish3_params_args na = { .flags = flags, .cancelled = !performed };
    remote_domain_migrate_finish3_params_ret nr = { 0 };
    GError *ferr = NULL;
    SET_PARAMS(na, up);
    na.cookie_in.cookie_in_val = (char *)g_bytes_get_data(cookie, NULL);
    na.cookie_in.cookie_in_len = (u_int)g_bytes_get_size(cookie);
    vrt_domain *ddom = NULL;
    if (vrt_call_domain_migrate_finish3_params(dconn->rpc, &na, &nr, &ferr)) {
        ddom = performed ? vrt_domain_from_wire(dconn, &nr.dom) : NULL;
        g_bytes_unref(cookie);
        cookie = g_bytes_new(nr.cookie_out.cookie_out_val, nr.cookie_out.cookie_out_len);
        vrt_message_free_payload((xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret, &nr);
    }

    /* Confirm (source): stop there, or run on when the domain did not
     * arrive. */
    remote_domain_migrate_confirm3_params_args ca = { .flags = flags, .cancelled = ddom == NULL };
    GError *cerr = NULL;
    vrt_domain_to_wire(dom, &ca.dom);
    SET_PARAMS(ca, up);
    ca.cookie_in.cookie_in_val = (char *)g_bytes_get_data(cookie, NULL);
    ca.cookie_in.cookie_in_len = (u_int)g_bytes_get_size(cookie);
    bool confirmed = vrt_call_domain_migrate_confirm3_params(dom->conn->rpc, &ca, &cerr);

    /* The first failure is the one reported. */
    if (!performed) {
        g_clear_error(&ferr);
        g_clear_error(&cerr);
        vrt_err_take(err, perr, VIR_FROM_DOMAIN);
        return NULL;
    }
    if (!ddom) {
        g_clear_error(&cerr);
        if (!ferr)
            ferr = g_error_new(VRT_ERROR, VIR_ERR_OPERATION_FAILED, "%s", "migration failed");
        vrt_err_take(err, ferr, VIR_FROM_DOMAIN);
        return NULL;
    }
    if (!confirmed) {
        vrt_domain_free(ddom);
        vrt_err_take(err, cerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    return ddom;
}

int
vrt_domain_migrate_to_uri(vrt_domain *dom, const char *dconnuri, const vrt_migrate_params *params, unsigned int flags,
                          vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(dconnuri, err, -1);
    g_autoptr(GArray) pp = params_to_wire(params, NULL, NULL);
    remote_domain_migrate_perform3_params_args a = { .flags = flags | VRT_MIGRATE_PEER2PEER };
    remote_domain_migrate_perform3_params_ret r = { 0 };
    char *duri = (char *)dconnuri;
    GError *gerr = NULL;

    vrt_domain_to_wire(dom, &a.dom);
    a.dconnuri = &duri;
    SET_PARAMS(a, pp);
    if (!vrt_call_domain_migrate_perform3_params(dom->conn->rpc, &a, &r, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_migrate_perform3_params_ret, &r);
    return 0;
}

int
vrt_domain_get_job_stats(vrt_domain *dom, unsigned int flags, vrt_domain_job_stats *stats, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(stats, err, -1);
    remote_domain_get_job_stats_args a = { .flags = flags };
    remote_domain_get_job_stats_ret r = { 0 };
    GError *gerr = NULL;
    static const struct {
        const char *field;
        size_t off;
    } fields[] = {
        { "time_elapsed", offsetof(vrt_domain_job_stats, time_elapsed) },
        { "data_total", offsetof(vrt_domain_job_stats, data_total) },
        { "data_processed", offsetof(vrt_domain_job_stats, data_processed) },
        { "data_remaining", offsetof(vrt_domain_job_stats, data_remaining) },
        { "memory_bps", offsetof(vrt_domain_job_stats, memory_bps) },
        { "downtime", offsetof(vrt_domain_job_stats, downtime) },
    };

    vrt_domain_to_wire(dom, &a.dom);
    if (!vrt_call_domain_get_job_stats(dom->conn->rpc, &a, &r, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    memset(stats, 0, sizeof(*stats));
    stats->type = r.type;
    for (u_int i = 0; i < r.params.params_len; i++) {
        const remote_typed_param *p = &r.params.params_val[i];

        if (p->value.type != PARAM_ULLONG)
            continue;
        for (guint k = 0; k < G_N_ELEMENTS(fields); k++)
            if (g_str_equal(p->field, fields[k].field))
                *(unsigned long long *)((char *)stats + fields[k].off) = p->value.remote_typed_param_value_u.ul;
    }
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_get_job_stats_ret, &r);
    return 0;
}

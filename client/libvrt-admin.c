/*
 * libvrt's admin interface (vrt.h's vrt_admin_*): libvirt's admin program
 * (protocol/vrt_admin.x) over vrtd's admin socket, the calls virt-admin
 * makes. Typed parameters come back as libvirt-admin.h's names; errors are
 * the daemon's, reported with VIR_FROM_ADMIN.
 */
#include "libvrt-private.h"
#include "rpc/client.h"
#include "util/error.h"
#include "vrt_procs.h"

#include <string.h>

#define DEFAULT_ADMIN_SOCKET "/run/vrt/vrtd-admin-sock"
#define FROM_ADMIN 62

struct vrt_admin {
    VrtRpcClient *rpc;
};

static bool
call(vrt_admin *adm, int proc, xdrproc_t af, void *args, xdrproc_t rf, void *ret, vrt_error **err)
{
    GError *gerr = NULL;

    if (!vrt_rpc_client_call_program(adm->rpc, VRT_ADMIN_PROGRAM, VRT_ADMIN_VERSION, proc, af, args, rf, ret, &gerr)) {
        vrt_err_take(err, gerr, FROM_ADMIN);
        return false;
    }
    return true;
}

vrt_admin *
vrt_admin_open(const char *path, vrt_error **err)
{
    GError *gerr = NULL;
    VrtRpcClient *rpc = vrt_rpc_client_new_unix(path ? path : DEFAULT_ADMIN_SOCKET, &gerr);

    if (!rpc) {
        vrt_err_take(err, gerr, FROM_ADMIN);
        return NULL;
    }
    vrt_admin *adm = g_new0(vrt_admin, 1);
    adm->rpc = rpc;
    admin_connect_open_args args = { 0 };
    if (!call(adm, VRT_PROC_ADMIN_CONNECT_OPEN, (xdrproc_t)xdr_admin_connect_open_args, &args, NULL, NULL, err)) {
        vrt_admin_close(adm);
        return NULL;
    }
    return adm;
}

void
vrt_admin_close(vrt_admin *adm)
{
    if (!adm)
        return;
    if (vrt_rpc_client_is_open(adm->rpc))
        call(adm, VRT_PROC_ADMIN_CONNECT_CLOSE, NULL, NULL, NULL, NULL, NULL);
    vrt_rpc_client_free(adm->rpc);
    g_free(adm);
}

void
vrt_strv_free(char **strv)
{
    g_strfreev(strv);
}

char **
vrt_admin_list_servers(vrt_admin *adm, vrt_error **err)
{
    admin_connect_list_servers_args args = { .need_results = 1 };
    admin_connect_list_servers_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_CONNECT_LIST_SERVERS, (xdrproc_t)xdr_admin_connect_list_servers_args, &args,
              (xdrproc_t)xdr_admin_connect_list_servers_ret, &ret, err))
        return NULL;
    char **names = g_new0(char *, ret.servers.servers_len + 1);
    for (guint i = 0; i < ret.servers.servers_len; i++)
        names[i] = g_strdup(ret.servers.servers_val[i].name);
    xdr_free((xdrproc_t)xdr_admin_connect_list_servers_ret, (char *)&ret);
    return names;
}

/* The UINT parameter field of params, or 0. */
static unsigned int
param_uint(const admin_typed_param *params, guint n, const char *field)
{
    for (guint i = 0; i < n; i++) {
        if (g_str_equal(params[i].field, field) && params[i].value.type == 2)
            return params[i].value.admin_typed_param_value_u.ui;
    }
    return 0;
}

int
vrt_admin_server_get_threadpool(vrt_admin *adm, const char *server, vrt_admin_threadpool *tp, vrt_error **err)
{
    admin_server_get_threadpool_parameters_args args = { .srv.name = (char *)server };
    admin_server_get_threadpool_parameters_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_SERVER_GET_THREADPOOL_PARAMETERS,
              (xdrproc_t)xdr_admin_server_get_threadpool_parameters_args, &args,
              (xdrproc_t)xdr_admin_server_get_threadpool_parameters_ret, &ret, err))
        return -1;
    const admin_typed_param *p = ret.params.params_val;
    guint n = ret.params.params_len;
    tp->min_workers = param_uint(p, n, "minWorkers");
    tp->max_workers = param_uint(p, n, "maxWorkers");
    tp->n_workers = param_uint(p, n, "nWorkers");
    tp->free_workers = param_uint(p, n, "freeWorkers");
    tp->prio_workers = param_uint(p, n, "prioWorkers");
    tp->job_queue_depth = param_uint(p, n, "jobQueueDepth");
    xdr_free((xdrproc_t)xdr_admin_server_get_threadpool_parameters_ret, (char *)&ret);
    return 0;
}

int
vrt_admin_server_set_max_workers(vrt_admin *adm, const char *server, unsigned int max_workers, vrt_error **err)
{
    admin_typed_param p = { .field = (char *)"maxWorkers", .value.type = 2 };
    p.value.admin_typed_param_value_u.ui = max_workers;
    admin_server_set_threadpool_parameters_args args = { .srv.name = (char *)server,
                                                         .params = { .params_len = 1, .params_val = &p } };

    return call(adm, VRT_PROC_ADMIN_SERVER_SET_THREADPOOL_PARAMETERS,
                (xdrproc_t)xdr_admin_server_set_threadpool_parameters_args, &args, NULL, NULL, err)
               ? 0
               : -1;
}

int
vrt_admin_server_get_client_limits(vrt_admin *adm, const char *server, vrt_admin_client_limits *lim, vrt_error **err)
{
    admin_server_get_client_limits_args args = { .srv.name = (char *)server };
    admin_server_get_client_limits_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_SERVER_GET_CLIENT_LIMITS, (xdrproc_t)xdr_admin_server_get_client_limits_args, &args,
              (xdrproc_t)xdr_admin_server_get_client_limits_ret, &ret, err))
        return -1;
    const admin_typed_param *p = ret.params.params_val;
    guint n = ret.params.params_len;
    lim->nclients_max = param_uint(p, n, "nclients_max");
    lim->nclients = param_uint(p, n, "nclients");
    lim->nclients_unauth_max = param_uint(p, n, "nclients_unauth_max");
    lim->nclients_unauth = param_uint(p, n, "nclients_unauth");
    xdr_free((xdrproc_t)xdr_admin_server_get_client_limits_ret, (char *)&ret);
    return 0;
}

int
vrt_admin_server_set_client_limits(vrt_admin *adm, const char *server, long long nclients_max,
                                   long long nclients_unauth_max, vrt_error **err)
{
    admin_typed_param p[2] = { 0 };
    guint n = 0;

    if (nclients_max >= 0) {
        p[n].field = (char *)"nclients_max";
        p[n].value.type = 2;
        p[n++].value.admin_typed_param_value_u.ui = (unsigned int)nclients_max;
    }
    if (nclients_unauth_max >= 0) {
        p[n].field = (char *)"nclients_unauth_max";
        p[n].value.type = 2;
        p[n++].value.admin_typed_param_value_u.ui = (unsigned int)nclients_unauth_max;
    }
    admin_server_set_client_limits_args args = { .srv.name = (char *)server,
                                                 .params = { .params_len = n, .params_val = p } };
    return call(adm, VRT_PROC_ADMIN_SERVER_SET_CLIENT_LIMITS, (xdrproc_t)xdr_admin_server_set_client_limits_args, &args,
                NULL, NULL, err)
               ? 0
               : -1;
}

int
vrt_admin_server_list_clients(vrt_admin *adm, const char *server, vrt_admin_client **clients, vrt_error **err)
{
    admin_server_list_clients_args args = { .srv.name = (char *)server, .need_results = 1 };
    admin_server_list_clients_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_SERVER_LIST_CLIENTS, (xdrproc_t)xdr_admin_server_list_clients_args, &args,
              (xdrproc_t)xdr_admin_server_list_clients_ret, &ret, err))
        return -1;
    guint n = ret.clients.clients_len;
    *clients = g_new0(vrt_admin_client, n + 1);
    for (guint i = 0; i < n; i++) {
        (*clients)[i].id = ret.clients.clients_val[i].id;
        (*clients)[i].timestamp = ret.clients.clients_val[i].timestamp;
        (*clients)[i].transport = (int)ret.clients.clients_val[i].transport;
    }
    xdr_free((xdrproc_t)xdr_admin_server_list_clients_ret, (char *)&ret);
    return (int)n;
}

char **
vrt_admin_client_get_info(vrt_admin *adm, const char *server, unsigned long long id, vrt_error **err)
{
    admin_client_get_info_args args = { .clnt = { .srv.name = (char *)server, .id = id } };
    admin_client_get_info_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_CLIENT_GET_INFO, (xdrproc_t)xdr_admin_client_get_info_args, &args,
              (xdrproc_t)xdr_admin_client_get_info_ret, &ret, err))
        return NULL;
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < ret.params.params_len; i++) {
        const admin_typed_param *p = &ret.params.params_val[i];
        const admin_typed_param_value *v = &p->value;
        char *text;
        switch (v->type) {
        case 1: text = g_strdup_printf("%s=%d", p->field, v->admin_typed_param_value_u.i); break;
        case 2: text = g_strdup_printf("%s=%u", p->field, v->admin_typed_param_value_u.ui); break;
        case 3: text = g_strdup_printf("%s=%lld", p->field, (long long)v->admin_typed_param_value_u.l); break;
        case 4: text = g_strdup_printf("%s=%llu", p->field, (unsigned long long)v->admin_typed_param_value_u.ul); break;
        case 5: text = g_strdup_printf("%s=%g", p->field, v->admin_typed_param_value_u.d); break;
        case 6: text = g_strdup_printf("%s=%s", p->field, v->admin_typed_param_value_u.b ? "yes" : "no"); break;
        default: text = g_strdup_printf("%s=%s", p->field, v->admin_typed_param_value_u.s); break;
        }
        g_ptr_array_add(out, text);
    }
    g_ptr_array_add(out, NULL);
    xdr_free((xdrproc_t)xdr_admin_client_get_info_ret, (char *)&ret);
    return (char **)g_ptr_array_free(out, FALSE);
}

int
vrt_admin_client_close(vrt_admin *adm, const char *server, unsigned long long id, vrt_error **err)
{
    admin_client_close_args args = { .clnt = { .srv.name = (char *)server, .id = id } };

    return call(adm, VRT_PROC_ADMIN_CLIENT_CLOSE, (xdrproc_t)xdr_admin_client_close_args, &args, NULL, NULL, err) ? 0
                                                                                                                  : -1;
}

char *
vrt_admin_get_log_outputs(vrt_admin *adm, vrt_error **err)
{
    admin_connect_get_logging_outputs_args args = { 0 };
    admin_connect_get_logging_outputs_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_CONNECT_GET_LOGGING_OUTPUTS, (xdrproc_t)xdr_admin_connect_get_logging_outputs_args,
              &args, (xdrproc_t)xdr_admin_connect_get_logging_outputs_ret, &ret, err))
        return NULL;
    char *text = g_strdup(ret.outputs);
    xdr_free((xdrproc_t)xdr_admin_connect_get_logging_outputs_ret, (char *)&ret);
    return text;
}

char *
vrt_admin_get_log_filters(vrt_admin *adm, vrt_error **err)
{
    admin_connect_get_logging_filters_args args = { 0 };
    admin_connect_get_logging_filters_ret ret = { 0 };

    if (!call(adm, VRT_PROC_ADMIN_CONNECT_GET_LOGGING_FILTERS, (xdrproc_t)xdr_admin_connect_get_logging_filters_args,
              &args, (xdrproc_t)xdr_admin_connect_get_logging_filters_ret, &ret, err))
        return NULL;
    char *text = g_strdup(ret.filters ? *ret.filters : "");
    xdr_free((xdrproc_t)xdr_admin_connect_get_logging_filters_ret, (char *)&ret);
    return text;
}

int
vrt_admin_set_log_outputs(vrt_admin *adm, const char *outputs, vrt_error **err)
{
    char *text = (char *)outputs;
    admin_connect_set_logging_outputs_args args = { .outputs = outputs ? &text : NULL };

    return call(adm, VRT_PROC_ADMIN_CONNECT_SET_LOGGING_OUTPUTS, (xdrproc_t)xdr_admin_connect_set_logging_outputs_args,
                &args, NULL, NULL, err)
               ? 0
               : -1;
}

int
vrt_admin_set_log_filters(vrt_admin *adm, const char *filters, vrt_error **err)
{
    char *text = (char *)filters;
    admin_connect_set_logging_filters_args args = { .filters = filters ? &text : NULL };

    return call(adm, VRT_PROC_ADMIN_CONNECT_SET_LOGGING_FILTERS, (xdrproc_t)xdr_admin_connect_set_logging_filters_args,
                &args, NULL, NULL, err)
               ? 0
               : -1;
}

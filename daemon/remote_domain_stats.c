/*
 * Handlers of the domain statistics procedures (virConnectGetAllDomainStats
 * and virDomainListGetStats, which share one procedure, and virsh's
 * dommemstat, domblkstat, domifstat, domblkinfo, cpu-stats): thin
 * translations between the wire types and the QEMU driver's statistics
 * (src/drivers/qemu/qemu_driver_stats.h).
 */
#include "daemon/daemon.h"
#include "daemon/remote_params.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "util/error.h"

#include <string.h>

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

bool
vrt_handle_connect_get_all_domain_stats(VrtCall *call, remote_connect_get_all_domain_stats_args *args,
                                        remote_connect_get_all_domain_stats_ret *ret, GError **error)
{
    DRV(call, error);
    g_autofree const guchar **uuids = NULL;
    g_autoptr(GPtrArray) recs = NULL;
    guint n = args->doms.doms_len;

    if (n) {
        uuids = g_new0(const guchar *, n);
        for (guint i = 0; i < n; i++)
            uuids[i] = WIRE_UUID(args->doms.doms_val[i].uuid);
    }
    recs = vrt_qemu_connect_get_all_domain_stats(drv, n ? uuids : NULL, n, args->stats, args->flags, error);
    if (!recs)
        return false;
    if (recs->len > REMOTE_DOMAIN_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Too many records returned: '%u' for limit '%d'", recs->len,
                      REMOTE_DOMAIN_LIST_MAX);
        return false;
    }
    if (recs->len) {
        ret->retStats.retStats_val = g_new0(remote_domain_stats_record, recs->len);
        ret->retStats.retStats_len = recs->len;
        for (guint i = 0; i < recs->len; i++) {
            VrtDomainStatsRecord *rec = g_ptr_array_index(recs, i);
            remote_domain_stats_record *w = &ret->retStats.retStats_val[i];

            w->dom.name = g_steal_pointer(&rec->ref->name);
            memcpy(w->dom.uuid, rec->ref->uuid, 16);
            w->dom.id = rec->ref->id;
            vrt_typed_params_to_wire(rec->params, &w->params.params_val, &w->params.params_len);
        }
    }
    return true;
}

bool
vrt_handle_domain_block_stats(VrtCall *call, remote_domain_block_stats_args *args, remote_domain_block_stats_ret *ret,
                              GError **error)
{
    DRV(call, error);
    VrtBlockStats st;

    if (!vrt_qemu_domain_block_stats(drv, WIRE_UUID(args->dom.uuid), args->path, &st, error))
        return false;
    ret->rd_req = st.rd_req;
    ret->rd_bytes = st.rd_bytes;
    ret->wr_req = st.wr_req;
    ret->wr_bytes = st.wr_bytes;
    ret->errs = st.errs;
    return true;
}

bool
vrt_handle_domain_block_stats_flags(VrtCall *call, remote_domain_block_stats_flags_args *args,
                                    remote_domain_block_stats_flags_ret *ret, GError **error)
{
    DRV(call, error);
    VrtBlockStats st;
    g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    /* libvirt's virDomainBlockStatsFlags names, in its order; errs has no
     * counter in QEMU and is left out, as libvirt does. */
    const struct {
        const char *name;
        gint64 *v;
    } fields[] = {
        { "wr_bytes", &st.wr_bytes },    { "wr_operations", &st.wr_req },    { "rd_bytes", &st.rd_bytes },
        { "rd_operations", &st.rd_req }, { "flush_operations", &st.fl_req }, { "wr_total_times", &st.wr_ns },
        { "rd_total_times", &st.rd_ns }, { "flush_total_times", &st.fl_ns },
    };

    if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "nparams too large");
        return false;
    }
    if (args->flags & ~4u) {
        vrt_error_set_flags(error, args->flags & ~4u, "qemuDomainBlockStatsFlags");
        return false;
    }
    if (!vrt_qemu_domain_block_stats(drv, WIRE_UUID(args->dom.uuid), args->path, &st, error))
        return false;
    if (args->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(fields);
        return true;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields) && params->len < (guint)args->nparams; i++) {
        VrtTypedParam *p = g_new0(VrtTypedParam, 1);

        p->field = g_strdup(fields[i].name);
        p->type = VRT_TYPED_PARAM_LLONG;
        p->v.l = *fields[i].v;
        g_ptr_array_add(params, p);
    }
    ret->nparams = (int)params->len;
    vrt_typed_params_to_wire(params, &ret->params.params_val, &ret->params.params_len);
    return true;
}

bool
vrt_handle_domain_interface_stats(VrtCall *call, remote_domain_interface_stats_args *args,
                                  remote_domain_interface_stats_ret *ret, GError **error)
{
    DRV(call, error);
    gint64 v[8];

    if (!vrt_qemu_domain_interface_stats(drv, WIRE_UUID(args->dom.uuid), args->device, v, error))
        return false;
    ret->rx_bytes = v[0];
    ret->rx_packets = v[1];
    ret->rx_errs = v[2];
    ret->rx_drop = v[3];
    ret->tx_bytes = v[4];
    ret->tx_packets = v[5];
    ret->tx_errs = v[6];
    ret->tx_drop = v[7];
    return true;
}

bool
vrt_handle_domain_memory_stats(VrtCall *call, remote_domain_memory_stats_args *args,
                               remote_domain_memory_stats_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GArray) stats = NULL;

    if (args->maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX");
        return false;
    }
    stats = vrt_qemu_domain_memory_stats(drv, WIRE_UUID(args->dom.uuid), args->maxStats, args->flags, error);
    if (!stats)
        return false;
    ret->stats.stats_val = g_new0(remote_domain_memory_stat, stats->len ? stats->len : 1);
    ret->stats.stats_len = stats->len;
    for (guint i = 0; i < stats->len; i++) {
        ret->stats.stats_val[i].tag = g_array_index(stats, VrtMemoryStat, i).tag;
        ret->stats.stats_val[i].val = g_array_index(stats, VrtMemoryStat, i).val;
    }
    return true;
}

bool
vrt_handle_domain_get_block_info(VrtCall *call, remote_domain_get_block_info_args *args,
                                 remote_domain_get_block_info_ret *ret, GError **error)
{
    DRV(call, error);
    guint64 v[3];

    if (!vrt_qemu_domain_get_block_info(drv, WIRE_UUID(args->dom.uuid), args->path, args->flags, v, error))
        return false;
    ret->allocation = v[0];
    ret->capacity = v[1];
    ret->physical = v[2];
    return true;
}

bool
vrt_handle_domain_get_cpu_stats(VrtCall *call, remote_domain_get_cpu_stats_args *args,
                                remote_domain_get_cpu_stats_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = NULL;
    int count = 0;

    if (args->nparams > 16) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "nparams too large");
        return false;
    }
    if (args->ncpus > REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "ncpus too large");
        return false;
    }
    params = vrt_qemu_domain_get_cpu_stats(drv, WIRE_UUID(args->dom.uuid), args->nparams, args->start_cpu, args->ncpus,
                                           args->flags, &count, error);
    if (!params)
        return false;
    ret->nparams = count;
    if (args->nparams)
        vrt_typed_params_to_wire(params, &ret->params.params_val, &ret->params.params_len);
    return true;
}

/*
 * Handlers of the domain procedures on a running domain's live state: job
 * statistics, interface addresses, hostname, the balloon's statistics
 * period and the dirty page rate calculation; thin translations between
 * the wire types and the QEMU driver (src/drivers/qemu/qemu_driver_live.h).
 */
#include "daemon/daemon.h"
#include "daemon/remote_migrate.h"
#include "daemon/remote_params.h"
#include "drivers/qemu/qemu_driver_live.h"
#include "drivers/qemu/qemu_jobinfo.h"
#include "util/error.h"

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

bool
vrt_handle_domain_get_job_stats(VrtCall *call, remote_domain_get_job_stats_args *args,
                                remote_domain_get_job_stats_ret *ret, GError **error)
{
    DRV(call, error);
    int type = 0;
    bool handled;

    /* A migration's job first (daemon/remote_migrate.c). */
    if (!vrt_migrate_job_stats(call, args, ret, &handled, error))
        return false;
    if (handled)
        return true;
    if (!vrt_qemu_domain_get_job_stats(drv, WIRE_UUID(args->dom.uuid), args->flags, &type, error))
        return false;
    ret->type = type;
    /* A completed save's statistics (qemu_jobinfo.h), forgotten once read
     * unless KEEP_COMPLETED (2). */
    if (args->flags & VRT_DOMAIN_JOB_STATS_COMPLETED) {
        g_autoptr(GPtrArray) params =
            vrt_qemu_job_completed_stats(drv, WIRE_UUID(args->dom.uuid), args->flags & 2u, &type);

        if (params) {
            ret->type = type;
            vrt_typed_params_to_wire(params, &ret->params.params_val, &ret->params.params_len);
        }
    }
    return true;
}

bool
vrt_handle_domain_interface_addresses(VrtCall *call, remote_domain_interface_addresses_args *args,
                                      remote_domain_interface_addresses_ret *ret, GError **error)
{
    DRV(call, error);
    VrtConn *conn = vrt_call_conn(call);
    g_autoptr(GPtrArray) ifaces = NULL;
    bool readonly;

    /* The agent source needs write access (libvirt's API checks it). */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&conn->lock);

        readonly = conn->readonly;
    }
    if (readonly && args->source == VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT) {
        vrt_error_set(error, VIR_ERR_OPERATION_DENIED, "read only access prevents virDomainInterfaceAddresses");
        return false;
    }
    ifaces = vrt_qemu_domain_interface_addresses(drv, WIRE_UUID(args->dom.uuid), args->source, args->flags, error);
    if (!ifaces)
        return false;
    if (ifaces->len > REMOTE_DOMAIN_INTERFACE_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "Number of interfaces, %u exceeds the max limit: %d", ifaces->len,
                      REMOTE_DOMAIN_INTERFACE_MAX);
        return false;
    }
    ret->ifaces.ifaces_len = ifaces->len;
    ret->ifaces.ifaces_val = g_new0(remote_domain_interface, ifaces->len ? ifaces->len : 1);
    for (guint i = 0; i < ifaces->len; i++) {
        VrtDomainIface *src = g_ptr_array_index(ifaces, i);
        remote_domain_interface *dst = &ret->ifaces.ifaces_val[i];

        dst->name = g_steal_pointer(&src->name);
        if (src->hwaddr) {
            dst->hwaddr = g_new0(char *, 1);
            *dst->hwaddr = g_steal_pointer(&src->hwaddr);
        }
        dst->addrs.addrs_len = src->addrs->len;
        dst->addrs.addrs_val = g_new0(remote_domain_ip_addr, src->addrs->len ? src->addrs->len : 1);
        for (guint j = 0; j < src->addrs->len; j++) {
            VrtDomainIpAddr *a = &g_array_index(src->addrs, VrtDomainIpAddr, j);

            dst->addrs.addrs_val[j].type = a->type;
            dst->addrs.addrs_val[j].addr = g_steal_pointer(&a->addr);
            dst->addrs.addrs_val[j].prefix = a->prefix;
        }
    }
    return true;
}

bool
vrt_handle_domain_get_hostname(VrtCall *call, remote_domain_get_hostname_args *args,
                               remote_domain_get_hostname_ret *ret, GError **error)
{
    DRV(call, error);
    ret->hostname = vrt_qemu_domain_get_hostname(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
    return ret->hostname != NULL;
}

bool
vrt_handle_domain_set_memory_stats_period(VrtCall *call, remote_domain_set_memory_stats_period_args *args,
                                          GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_memory_stats_period(drv, WIRE_UUID(args->dom.uuid), args->period, args->flags, error);
}

bool
vrt_handle_domain_start_dirty_rate_calc(VrtCall *call, remote_domain_start_dirty_rate_calc_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_start_dirty_rate_calc(drv, WIRE_UUID(args->dom.uuid), args->seconds, args->flags, error);
}

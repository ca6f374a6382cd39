/*
 * Handlers of the domain tuning procedures (virsh schedinfo, memtune,
 * blkiotune, numatune, blkdeviotune, emulatorpin, vcpupin): thin translations between
 * the wire's typed parameters and cpumaps and the QEMU driver's tuning
 * calls (src/drivers/qemu/qemu_cgroup.h). The "nparams 0 asks for the
 * count" convention and the dropping of string parameters without
 * VIR_TYPED_PARAM_STRING_OKAY are libvirt's remote daemon's.
 */
#include "conf/domain/domain_tune.h"
#include "daemon/daemon.h"
#include "daemon/remote_params.h"
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_disk_iotune.h"
#include "util/error.h"

#include <string.h>

#define TYPED_PARAM_STRING_OKAY 4u

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

/* Moves typed parameters into their wire form, strings only with
 * STRING_OKAY in flags (xdr_free frees them). */
static void
params_to_wire(GPtrArray *params, guint flags, remote_typed_param **val, u_int *len)
{
    remote_typed_param *w = g_new0(remote_typed_param, params->len ? params->len : 1);
    u_int n = 0;

    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        remote_typed_param_value *v = &w[n].value;

        if (p->type == VRT_TYPED_PARAM_STRING && !(flags & TYPED_PARAM_STRING_OKAY))
            continue;
        w[n].field = g_steal_pointer(&p->field);
        v->type = p->type;
        switch (p->type) {
        case VRT_TYPED_PARAM_INT: v->remote_typed_param_value_u.i = p->v.i; break;
        case VRT_TYPED_PARAM_UINT: v->remote_typed_param_value_u.ui = p->v.ui; break;
        case VRT_TYPED_PARAM_LLONG: v->remote_typed_param_value_u.l = p->v.l; break;
        case VRT_TYPED_PARAM_ULLONG: v->remote_typed_param_value_u.ul = p->v.ul; break;
        case VRT_TYPED_PARAM_STRING: v->remote_typed_param_value_u.s = g_steal_pointer(&p->v.s); break;
        }
        n++;
    }
    *val = w;
    *len = n;
}

static bool
check_nparams(int nparams, int max, GError **error)
{
    if (nparams < 0 || nparams > max) {
        vrt_error_set(error, VIR_ERR_RPC, "nparams too large");
        return false;
    }
    return true;
}

/* libvirt's cpumap (bit i of byte i/8 is CPU i) as a canonical cpuset. */
static char *
cpumap_to_cpuset(const char *map, u_int len, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (u_int i = 0; i < len * 8; i++)
        if ((guchar)map[i / 8] & (1u << (i % 8)))
            g_string_append_printf(s, "%s%u", s->len ? "," : "", i);
    if (!s->len) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Empty cpu list for pinning");
        return NULL;
    }
    return vrt_cpuset_canonical(s->str, len * 8, error);
}

static void
cpuset_to_cpumap(const char *cpuset, guchar *map, int maplen)
{
    g_autoptr(GArray) cpus = vrt_cpuset_to_array(cpuset);

    for (guint i = 0; i < cpus->len; i++) {
        guint c = g_array_index(cpus, guint, i);
        if (c / 8 < (guint)maplen)
            map[c / 8] |= (guchar)(1u << (c % 8));
    }
}

/* ---- schedinfo ---- */

bool
vrt_handle_domain_get_scheduler_type(VrtCall *call, remote_domain_get_scheduler_type_args *args,
                                     remote_domain_get_scheduler_type_ret *ret, GError **error)
{
    DRV(call, error);
    int nparams = 0;

    ret->type = vrt_qemu_domain_get_scheduler_type(drv, WIRE_UUID(args->dom.uuid), &nparams, error);
    ret->nparams = nparams;
    return ret->type != NULL;
}

static bool
get_sched(VrtQemuDriver *drv, const guchar *uuid, int nparams, guint flags, remote_typed_param **val, u_int *len,
          GError **error)
{
    g_autoptr(GPtrArray) params = NULL;

    if (!check_nparams(nparams, REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX, error))
        return false;
    params = vrt_qemu_domain_get_scheduler_params(drv, uuid, nparams, flags, error);
    if (!params)
        return false;
    params_to_wire(params, flags | TYPED_PARAM_STRING_OKAY, val, len);
    return true;
}

bool
vrt_handle_domain_get_scheduler_parameters(VrtCall *call, remote_domain_get_scheduler_parameters_args *args,
                                           remote_domain_get_scheduler_parameters_ret *ret, GError **error)
{
    DRV(call, error);
    return get_sched(drv, WIRE_UUID(args->dom.uuid), args->nparams, 0, &ret->params.params_val, &ret->params.params_len,
                     error);
}

bool
vrt_handle_domain_get_scheduler_parameters_flags(VrtCall *call, remote_domain_get_scheduler_parameters_flags_args *args,
                                                 remote_domain_get_scheduler_parameters_flags_ret *ret, GError **error)
{
    DRV(call, error);
    return get_sched(drv, WIRE_UUID(args->dom.uuid), args->nparams, args->flags, &ret->params.params_val,
                     &ret->params.params_len, error);
}

bool
vrt_handle_domain_set_scheduler_parameters(VrtCall *call, remote_domain_set_scheduler_parameters_args *args,
                                           GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_scheduler_params(drv, WIRE_UUID(args->dom.uuid), params, 0, error);
}

bool
vrt_handle_domain_set_scheduler_parameters_flags(VrtCall *call, remote_domain_set_scheduler_parameters_flags_args *args,
                                                 GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_scheduler_params(drv, WIRE_UUID(args->dom.uuid), params, args->flags, error);
}

/* ---- memtune, blkiotune, numatune: the same shape ---- */

/* nparams 0: the count only; else at most nparams of them. */
static bool
reply_params(GPtrArray *params, int nparams, guint flags, remote_typed_param **val, u_int *len, int *ret_nparams)
{
    if (nparams == 0) {
        guint n = 0;

        for (guint i = 0; i < params->len; i++) {
            VrtTypedParam *p = g_ptr_array_index(params, i);
            n += p->type != VRT_TYPED_PARAM_STRING || (flags & TYPED_PARAM_STRING_OKAY);
        }
        *ret_nparams = (int)n;
        return true;
    }
    if (params->len > (guint)nparams)
        g_ptr_array_set_size(params, nparams);
    params_to_wire(params, flags, val, len);
    return true;
}

bool
vrt_handle_domain_get_memory_parameters(VrtCall *call, remote_domain_get_memory_parameters_args *args,
                                        remote_domain_get_memory_parameters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = NULL;

    if (!check_nparams(args->nparams, REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX, error) ||
        !(params = vrt_qemu_domain_get_memory_params(drv, WIRE_UUID(args->dom.uuid), args->flags, error)))
        return false;
    return reply_params(params, args->nparams, args->flags, &ret->params.params_val, &ret->params.params_len,
                        &ret->nparams);
}

bool
vrt_handle_domain_set_memory_parameters(VrtCall *call, remote_domain_set_memory_parameters_args *args, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_memory_params(drv, WIRE_UUID(args->dom.uuid), params, args->flags, error);
}

bool
vrt_handle_domain_get_blkio_parameters(VrtCall *call, remote_domain_get_blkio_parameters_args *args,
                                       remote_domain_get_blkio_parameters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = NULL;

    if (!check_nparams(args->nparams, REMOTE_DOMAIN_BLKIO_PARAMETERS_MAX, error) ||
        !(params = vrt_qemu_domain_get_blkio_params(drv, WIRE_UUID(args->dom.uuid), args->flags, error)))
        return false;
    return reply_params(params, args->nparams, args->flags, &ret->params.params_val, &ret->params.params_len,
                        &ret->nparams);
}

bool
vrt_handle_domain_set_blkio_parameters(VrtCall *call, remote_domain_set_blkio_parameters_args *args, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_blkio_params(drv, WIRE_UUID(args->dom.uuid), params, args->flags, error);
}

bool
vrt_handle_domain_get_numa_parameters(VrtCall *call, remote_domain_get_numa_parameters_args *args,
                                      remote_domain_get_numa_parameters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = NULL;

    if (!check_nparams(args->nparams, REMOTE_DOMAIN_NUMA_PARAMETERS_MAX, error) ||
        !(params = vrt_qemu_domain_get_numa_params(drv, WIRE_UUID(args->dom.uuid), args->flags, error)))
        return false;
    return reply_params(params, args->nparams, args->flags, &ret->params.params_val, &ret->params.params_len,
                        &ret->nparams);
}

bool
vrt_handle_domain_set_numa_parameters(VrtCall *call, remote_domain_set_numa_parameters_args *args, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_numa_params(drv, WIRE_UUID(args->dom.uuid), params, args->flags, error);
}

/* ---- blkdeviotune ---- */

bool
vrt_handle_domain_get_block_io_tune(VrtCall *call, remote_domain_get_block_io_tune_args *args,
                                    remote_domain_get_block_io_tune_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = NULL;

    /* the count needs no disk (libvirt's public API lets it be NULL then) */
    if (!check_nparams(args->nparams, REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX, error) ||
        !(params = vrt_qemu_domain_get_block_io_tune(drv, WIRE_UUID(args->dom.uuid), args->disk ? *args->disk : NULL,
                                                     args->flags, args->nparams == 0, error)))
        return false;
    return reply_params(params, args->nparams, args->flags, &ret->params.params_val, &ret->params.params_len,
                        &ret->nparams);
}

bool
vrt_handle_domain_set_block_io_tune(VrtCall *call, remote_domain_set_block_io_tune_args *args, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    return vrt_qemu_domain_set_block_io_tune(drv, WIRE_UUID(args->dom.uuid), args->disk, params, args->flags, error);
}

/* ---- pins ---- */

bool
vrt_handle_domain_pin_vcpu(VrtCall *call, remote_domain_pin_vcpu_args *args, GError **error)
{
    DRV(call, error);
    g_autofree char *cpuset = cpumap_to_cpuset(args->cpumap.cpumap_val, args->cpumap.cpumap_len, error);

    return cpuset &&
           vrt_qemu_domain_pin_vcpu(drv, WIRE_UUID(args->dom.uuid), args->vcpu, cpuset, VRT_DOMAIN_AFFECT_LIVE, error);
}

bool
vrt_handle_domain_pin_vcpu_flags(VrtCall *call, remote_domain_pin_vcpu_flags_args *args, GError **error)
{
    DRV(call, error);
    g_autofree char *cpuset = cpumap_to_cpuset(args->cpumap.cpumap_val, args->cpumap.cpumap_len, error);

    return cpuset && vrt_qemu_domain_pin_vcpu(drv, WIRE_UUID(args->dom.uuid), args->vcpu, cpuset, args->flags, error);
}

bool
vrt_handle_domain_get_vcpu_pin_info(VrtCall *call, remote_domain_get_vcpu_pin_info_args *args,
                                    remote_domain_get_vcpu_pin_info_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) pins = NULL;
    guint num;

    if (args->ncpumaps < 0 || args->maplen <= 0 || args->maplen > REMOTE_CPUMAP_MAX ||
        (gint64)args->ncpumaps * args->maplen > REMOTE_CPUMAPS_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        return false;
    }
    pins = vrt_qemu_domain_get_vcpu_pins(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
    if (!pins)
        return false;
    num = MIN(pins->len, (guint)args->ncpumaps);
    ret->cpumaps.cpumaps_len = num * (u_int)args->maplen;
    ret->cpumaps.cpumaps_val = g_malloc0(ret->cpumaps.cpumaps_len ? ret->cpumaps.cpumaps_len : 1);
    for (guint i = 0; i < num; i++)
        cpuset_to_cpumap(g_ptr_array_index(pins, i), (guchar *)ret->cpumaps.cpumaps_val + i * args->maplen,
                         args->maplen);
    ret->num = (int)num;
    return true;
}

bool
vrt_handle_domain_pin_emulator(VrtCall *call, remote_domain_pin_emulator_args *args, GError **error)
{
    DRV(call, error);
    g_autofree char *cpuset = cpumap_to_cpuset(args->cpumap.cpumap_val, args->cpumap.cpumap_len, error);

    return cpuset && vrt_qemu_domain_pin_emulator(drv, WIRE_UUID(args->dom.uuid), cpuset, args->flags, error);
}

bool
vrt_handle_domain_get_emulator_pin_info(VrtCall *call, remote_domain_get_emulator_pin_info_args *args,
                                        remote_domain_get_emulator_pin_info_ret *ret, GError **error)
{
    DRV(call, error);
    g_autofree char *cpuset = NULL;

    if (args->maplen <= 0 || args->maplen > REMOTE_CPUMAPS_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        return false;
    }
    cpuset = vrt_qemu_domain_get_emulator_pin(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
    if (!cpuset)
        return false;
    ret->cpumaps.cpumaps_len = (u_int)args->maplen;
    ret->cpumaps.cpumaps_val = g_malloc0(args->maplen);
    cpuset_to_cpumap(cpuset, (guchar *)ret->cpumaps.cpumaps_val, args->maplen);
    ret->ret = 1;
    return true;
}

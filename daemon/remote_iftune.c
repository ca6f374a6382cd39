/*
 * Handlers of domiftune (DOMAIN_SET/GET_INTERFACE_PARAMETERS): the wire's
 * typed parameters, all UINT, to and from the QEMU driver's interface
 * bandwidth calls (src/drivers/qemu/qemu_iftune.c). "nparams 0 asks for
 * the count", as libvirt's remote daemon.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_interface.h"
#include "util/error.h"

static VrtQemuDriver *
qemu_driver(VrtCall *call, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running");
    return drv;
}

bool
vrt_handle_domain_set_interface_parameters(VrtCall *call, remote_domain_set_interface_parameters_args *args,
                                           GError **error)
{
    VrtQemuDriver *drv = qemu_driver(call, error);
    if (!drv)
        return false;
    g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    for (u_int i = 0; i < args->params.params_len; i++) {
        const remote_typed_param *w = &args->params.params_val[i];
        VrtTypedParam *p = g_new0(VrtTypedParam, 1);
        p->field = g_strdup(w->field);
        p->type = w->value.type;
        if (p->type == VRT_TYPED_PARAM_UINT)
            p->v.ui = w->value.remote_typed_param_value_u.ui;
        else if (p->type == VRT_TYPED_PARAM_STRING)
            p->v.s = g_strdup(w->value.remote_typed_param_value_u.s);
        g_ptr_array_add(params, p);
    }
    return vrt_qemu_domain_set_interface_params(drv, WIRE_UUID(args->dom.uuid), args->device, params, args->flags,
                                                error);
}

bool
vrt_handle_domain_get_interface_parameters(VrtCall *call, remote_domain_get_interface_parameters_args *args,
                                           remote_domain_get_interface_parameters_ret *ret, GError **error)
{
    VrtQemuDriver *drv = qemu_driver(call, error);
    if (!drv)
        return false;
    if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "nparams too large");
        return false;
    }
    g_autoptr(GPtrArray) params =
        vrt_qemu_domain_get_interface_params(drv, WIRE_UUID(args->dom.uuid), args->device, args->flags, error);
    if (!params)
        return false;
    if (args->nparams == 0) {
        ret->nparams = (int)params->len;
        return true;
    }
    guint n = MIN(params->len, (guint)args->nparams);
    ret->params.params_val = g_new0(remote_typed_param, n ? n : 1);
    for (guint i = 0; i < n; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        ret->params.params_val[i].field = g_steal_pointer(&p->field);
        ret->params.params_val[i].value.type = VRT_TYPED_PARAM_UINT;
        ret->params.params_val[i].value.remote_typed_param_value_u.ui = p->v.ui;
    }
    ret->params.params_len = n;
    ret->nparams = (int)n;
    return true;
}

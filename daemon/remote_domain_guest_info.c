/*
 * Handlers of the guest information procedures served through the guest
 * agent (virsh guestinfo, domfsinfo): thin translations between the wire
 * types and the QEMU driver's qemu_agent_info.h. Also the typed parameters'
 * wire form every handler and event sending a list of them uses
 * (remote_params.h).
 */
#include "daemon/remote_params.h"
#include "drivers/qemu/qemu_agent_info.h"
#include "util/error.h"

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

void
vrt_typed_params_to_wire(GPtrArray *params, remote_typed_param **val, u_int *len)
{
    remote_typed_param *w = g_new0(remote_typed_param, params->len ? params->len : 1);

    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        remote_typed_param_value *v = &w[i].value;

        w[i].field = g_steal_pointer(&p->field);
        v->type = p->type;
        switch (p->type) {
        case VRT_TYPED_PARAM_INT: v->remote_typed_param_value_u.i = p->v.i; break;
        case VRT_TYPED_PARAM_UINT: v->remote_typed_param_value_u.ui = p->v.ui; break;
        case VRT_TYPED_PARAM_LLONG: v->remote_typed_param_value_u.l = p->v.l; break;
        case VRT_TYPED_PARAM_ULLONG: v->remote_typed_param_value_u.ul = p->v.ul; break;
        case VRT_TYPED_PARAM_BOOLEAN: v->remote_typed_param_value_u.b = p->v.i; break;
        case VRT_TYPED_PARAM_STRING: v->remote_typed_param_value_u.s = g_steal_pointer(&p->v.s); break;
        }
    }
    *val = w;
    *len = params->len;
}

GPtrArray *
vrt_typed_params_from_wire(const remote_typed_param *val, u_int len)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);

    for (u_int i = 0; i < len; i++) {
        const remote_typed_param_value *v = &val[i].value;
        VrtTypedParam *p = g_new0(VrtTypedParam, 1);

        p->field = g_strdup(val[i].field);
        p->type = v->type;
        switch (v->type) {
        case VRT_TYPED_PARAM_INT: p->v.i = v->remote_typed_param_value_u.i; break;
        case VRT_TYPED_PARAM_UINT: p->v.ui = v->remote_typed_param_value_u.ui; break;
        case VRT_TYPED_PARAM_LLONG: p->v.l = v->remote_typed_param_value_u.l; break;
        case VRT_TYPED_PARAM_ULLONG: p->v.ul = v->remote_typed_param_value_u.ul; break;
        case VRT_TYPED_PARAM_BOOLEAN: p->v.i = v->remote_typed_param_value_u.b; break;
        case VRT_TYPED_PARAM_STRING: p->v.s = g_strdup(v->remote_typed_param_value_u.s); break;
        default: break;
        }
        g_ptr_array_add(out, p);
    }
    return out;
}

bool
vrt_handle_domain_get_guest_info(VrtCall *call, remote_domain_get_guest_info_args *args,
                                 remote_domain_get_guest_info_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) params =
        vrt_qemu_domain_get_guest_info(drv, WIRE_UUID(args->dom.uuid), args->types, args->flags, error);
    if (!params)
        return false;
    if (params->len > REMOTE_DOMAIN_GUEST_INFO_PARAMS_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "Too many parameters");
        return false;
    }
    vrt_typed_params_to_wire(params, &ret->params.params_val, &ret->params.params_len);
    return true;
}

bool
vrt_handle_domain_get_fsinfo(VrtCall *call, remote_domain_get_fsinfo_args *args, remote_domain_get_fsinfo_ret *ret,
                             GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) fss = vrt_qemu_domain_get_fsinfo(drv, WIRE_UUID(args->dom.uuid), args->flags, error);

    if (!fss)
        return false;
    if (fss->len > REMOTE_DOMAIN_FSINFO_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Too many mountpoints in fsinfo: %u for limit %d", fss->len,
                      REMOTE_DOMAIN_FSINFO_MAX);
        return false;
    }
    ret->info.info_val = g_new0(remote_domain_fsinfo, fss->len ? fss->len : 1);
    ret->info.info_len = fss->len;
    for (guint i = 0; i < fss->len; i++) {
        VrtDomainFSInfo *fs = g_ptr_array_index(fss, i);
        remote_domain_fsinfo *w = &ret->info.info_val[i];

        w->mountpoint = g_steal_pointer(&fs->mountpoint);
        w->name = g_steal_pointer(&fs->name);
        w->fstype = g_steal_pointer(&fs->fstype);
        w->dev_aliases.dev_aliases_len = fs->dev_aliases->len;
        g_ptr_array_add(fs->dev_aliases, NULL);
        w->dev_aliases.dev_aliases_val = (char **)g_ptr_array_free(g_steal_pointer(&fs->dev_aliases), FALSE);
    }
    ret->ret = fss->len;
    return true;
}

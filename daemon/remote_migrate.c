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

bool
vrt_handle_domain_migrate_perform3_params(VrtCall *call, remote_domain_migrate_perform3_params_args *args,
                                          remote_domain_migrate_perform3_params_ret *ret, GError **error)
{
    DRV(call, error);
    VrtMigrateParams p;
    char *cookie = NULL;

    if (args->dconnuri && *args->dconnuri) {
        /* Only a peer-to-peer migration names the destination's daemon. */
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "peer-to-peer migration is not supported by vrt yet");
        return false;
    }
    if (!params_read(args->params.params_val, args->params.params_len, &p, error) ||
        !vrt_qemu_migrate_perform(drv, WIRE_UUID(args->dom.uuid), &p, args->flags, &cookie, error))
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

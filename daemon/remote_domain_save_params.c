/*
 * Handlers of save and restore with typed parameters (virDomainSaveParams,
 * virDomainRestoreParams): the parameter list is checked as libvirt's
 * virTypedParamsValidate does (known names, their types, no duplicates),
 * then the call goes to the same QEMU driver save and restore as
 * DOMAIN_SAVE_FLAGS and DOMAIN_RESTORE_FLAGS (qemu_save.c). A save without
 * a file is a managed save, as in libvirt's QEMU driver.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "util/error.h"

#include <string.h>

#define VRT_PARAM_STRING 7

/* VIR_DOMAIN_SAVE_PARAM_FILE and VIR_DOMAIN_SAVE_PARAM_DXML from the list
 * (borrowed), after libvirt's checks in its order: a known name twice or of
 * another type than string is VIR_ERR_INVALID_ARG, an unknown name
 * VIR_ERR_ARGUMENT_UNSUPPORTED. */
static bool
save_params_read(const remote_typed_param *val, u_int len, const char **file, const char **dxml, GError **error)
{
    *file = NULL;
    *dxml = NULL;
    for (u_int i = 0; i < len; i++) {
        const char *field = val[i].field;
        const char **dst = g_str_equal(field, "file") ? file : g_str_equal(field, "dxml") ? dxml : NULL;

        if (!dst)
            continue;
        if (*dst) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "parameter '%s' occurs multiple times", field);
            return false;
        }
        if (val[i].value.type != VRT_PARAM_STRING) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%s' for parameter '%s', expected 'string'",
                          vrt_typed_param_type_name(val[i].value.type), field);
            return false;
        }
        *dst = val[i].value.remote_typed_param_value_u.s;
    }
    /* libvirt names the first unknown one in sorted order. */
    const char *unknown = NULL;
    for (u_int i = 0; i < len; i++) {
        const char *field = val[i].field;
        if (!g_str_equal(field, "file") && !g_str_equal(field, "dxml") && (!unknown || strcmp(field, unknown) < 0))
            unknown = field;
    }
    if (unknown) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported", unknown);
        return false;
    }
    return true;
}

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

/* VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, which the image
 * definition calls take too. */
#define SAVE_STATE_FLAGS 0x6u

bool
vrt_handle_domain_save_params(VrtCall *call, remote_domain_save_params_args *args, GError **error)
{
    DRV(call, error);
    const char *file = NULL;
    const char *dxml = NULL;

    if (!save_params_read(args->params.params_val, args->params.params_len, &file, &dxml, error))
        return false;
    if (file)
        return vrt_qemu_domain_save(drv, WIRE_UUID(args->dom.uuid), file, dxml, args->flags, error);
    /* No file: a managed save; its image then takes the given definition,
     * as libvirt's managed save with an XML does. */
    if (!vrt_qemu_domain_managed_save(drv, WIRE_UUID(args->dom.uuid), args->flags, error))
        return false;
    return !dxml || vrt_qemu_domain_managed_save_define_xml(drv, WIRE_UUID(args->dom.uuid), dxml,
                                                            args->flags & SAVE_STATE_FLAGS, error);
}

bool
vrt_handle_domain_restore_params(VrtCall *call, remote_domain_restore_params_args *args, GError **error)
{
    DRV(call, error);
    const char *file = NULL;
    const char *dxml = NULL;

    if (!save_params_read(args->params.params_val, args->params.params_len, &file, &dxml, error))
        return false;
    if (!file) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "missing path to restore from");
        return false;
    }
    return vrt_qemu_domain_restore(drv, file, dxml, args->flags, error);
}

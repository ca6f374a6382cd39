/*
 * Handlers of the domain procedures served by the guest agent: filesystem
 * freeze and thaw and the guest's time; thin translations between the wire
 * types and the QEMU driver (src/drivers/qemu/qemu_agent.h). The QEMU
 * program's agent command is in remote_qemu.c; the agent mode of shutdown
 * and reboot goes through their ordinary handlers.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_agent.h"
#include "util/error.h"

#define DRV(call, error)                                                                  \
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;                                     \
    if (!drv) {                                                                           \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running"); \
        return false;                                                                     \
    }

/* The wire's mountpoints as a NULL-terminated array (borrowed strings). */
static const char **
mountpoints(u_int len, remote_nonnull_string *val)
{
    const char **out = g_new0(const char *, len + 1);

    for (u_int i = 0; i < len; i++)
        out[i] = val[i];
    return out;
}

bool
vrt_handle_domain_fsfreeze(VrtCall *call, remote_domain_fsfreeze_args *args, remote_domain_fsfreeze_ret *ret,
                           GError **error)
{
    DRV(call, error);
    g_autofree const char **mp = mountpoints(args->mountpoints.mountpoints_len, args->mountpoints.mountpoints_val);
    int n = vrt_qemu_domain_fsfreeze(drv, WIRE_UUID(args->dom.uuid), mp, args->flags, error);

    if (n < 0)
        return false;
    ret->filesystems = n;
    return true;
}

bool
vrt_handle_domain_fsthaw(VrtCall *call, remote_domain_fsthaw_args *args, remote_domain_fsthaw_ret *ret, GError **error)
{
    DRV(call, error);
    g_autofree const char **mp = mountpoints(args->mountpoints.mountpoints_len, args->mountpoints.mountpoints_val);
    int n = vrt_qemu_domain_fsthaw(drv, WIRE_UUID(args->dom.uuid), mp, args->flags, error);

    if (n < 0)
        return false;
    ret->filesystems = n;
    return true;
}

bool
vrt_handle_domain_get_time(VrtCall *call, remote_domain_get_time_args *args, remote_domain_get_time_ret *ret,
                           GError **error)
{
    DRV(call, error);
    gint64 seconds = 0;
    guint nseconds = 0;

    if (!vrt_qemu_domain_get_time(drv, WIRE_UUID(args->dom.uuid), &seconds, &nseconds, args->flags, error))
        return false;
    ret->seconds = seconds;
    ret->nseconds = nseconds;
    return true;
}

bool
vrt_handle_domain_set_time(VrtCall *call, remote_domain_set_time_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_time(drv, WIRE_UUID(args->dom.uuid), args->seconds, args->nseconds, args->flags, error);
}

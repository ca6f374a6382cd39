/*
 * Handlers of the QEMU program (libvirt's qemu_protocol.x, qemu_procs.tsv):
 * a user's QMP or HMP command on a domain's monitor, the guest agent
 * command (vrt has no agent channel), QEMU monitor event callbacks, and
 * virDomainQemuAttach, which libvirt's QEMU driver no longer offers.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"

#include <string.h>

static VrtQemuDriver *
qemu(VrtCall *call, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running");
    return drv;
}

bool
vrt_handle_qemu_domain_monitor_command(VrtCall *call, qemu_domain_monitor_command_args *args,
                                       qemu_domain_monitor_command_ret *ret, GError **error)
{
    VrtQemuDriver *drv = qemu(call, error);

    if (!drv)
        return false;
    ret->result = vrt_qemu_domain_monitor_command(drv, WIRE_UUID(args->dom.uuid), args->cmd, args->flags, error);
    return ret->result != NULL;
}

bool
vrt_handle_qemu_domain_attach(VrtCall *call, qemu_domain_attach_args *args, qemu_domain_attach_ret *ret, GError **error)
{
    (void)call;
    (void)args;
    (void)ret;
    /* libvirt 9.0's QEMU driver has no attach: its API answers this. */
    vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "virDomainQemuAttach");
    return false;
}

bool
vrt_handle_qemu_domain_agent_command(VrtCall *call, qemu_domain_agent_command_args *args,
                                     qemu_domain_agent_command_ret *ret, GError **error)
{
    VrtQemuDriver *drv = qemu(call, error);
    char *result;

    if (!drv)
        return false;
    result =
        vrt_qemu_domain_agent_command(drv, WIRE_UUID(args->dom.uuid), args->cmd, args->timeout, args->flags, error);
    if (!result)
        return false;
    ret->result = g_new(char *, 1);
    *ret->result = result;
    return true;
}

bool
vrt_handle_qemu_connect_domain_monitor_event_register(VrtCall *call,
                                                      qemu_connect_domain_monitor_event_register_args *args,
                                                      qemu_connect_domain_monitor_event_register_ret *ret,
                                                      GError **error)
{
    const guint known = VRT_QEMU_MONITOR_EVENT_REGISTER_REGEX | VRT_QEMU_MONITOR_EVENT_REGISTER_NOCASE;
    VrtConn *conn = vrt_call_conn(call);
    VrtEventCallback cb = { 0 };

    if (args->flags & ~known) {
        vrt_error_set_flags(error, args->flags & ~known, "virDomainQemuMonitorEventStateRegisterID");
        return false;
    }
    cb.event_id = VRT_EVENT_ID_QEMU_MONITOR;
    cb.flags = args->flags;
    if (args->dom) {
        cb.has_dom = true;
        memcpy(cb.uuid, args->dom->uuid, 16);
    }
    if (args->event) {
        const char *event = *args->event;

        if (args->flags & VRT_QEMU_MONITOR_EVENT_REGISTER_REGEX) {
            g_autoptr(GError) rerr = NULL;
            GRegexCompileFlags rflags = G_REGEX_OPTIMIZE;

            if (args->flags & VRT_QEMU_MONITOR_EVENT_REGISTER_NOCASE)
                rflags |= G_REGEX_CASELESS;
            cb.regex = g_regex_new(event, rflags, 0, &rerr);
            if (!cb.regex) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "failed to compile regex '%s': %s", event, rerr->message);
                return false;
            }
        }
        cb.event = g_strdup(event);
    }
    ret->callbackID = vrt_conn_add_callback(conn, &cb);
    return true;
}

bool
vrt_handle_qemu_connect_domain_monitor_event_deregister(VrtCall *call,
                                                        qemu_connect_domain_monitor_event_deregister_args *args,
                                                        GError **error)
{
    if (vrt_conn_remove_callback(vrt_call_conn(call), args->callbackID, true))
        return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "qemu monitor event callback %d not registered", args->callbackID);
    return false;
}

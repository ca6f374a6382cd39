/*
 * The QEMU driver's guest agent calls (see qemu_agent.h): a user's agent
 * command (the QEMU program's virDomainQemuAgentCommand, which taints the
 * domain "custom-ga-command" as libvirt does), filesystem freeze and thaw,
 * the guest's time, and qemu-ga's guest-shutdown for the agent mode of
 * shutdown and reboot. Each runs through vrt_qemu_agent_exchange, one
 * connection to the agent's channel per call; none takes the domain's job
 * (libvirt runs them under its separate agent job, so a slow agent holds
 * up no monitor call), except set-time's QMP rtc-reset-reinjection after it.
 * Errors are worded as libvirt 9.0's.
 */
#include "drivers/qemu/qemu_agent.h"
#include "drivers/qemu/qemu_monitor.h"
#include "util/error.h"
#include "util/uuid.h"

#include <limits.h>

/* The domain, running (libvirt's virDomainObjCheckActive). */
static VrtQemuDom *
find_active(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj)
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_dom_is_active_locked(obj)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return NULL;
        }
    }
    return g_steal_pointer(&obj);
}

static bool
no_flags(guint flags, guint allowed, const char *fn, GError **error)
{
    if (!(flags & ~allowed))
        return true;
    vrt_error_set_flags(error, flags & ~allowed, fn);
    return false;
}

/* Marks the domain tainted by a user's agent command, logged the first
 * time in its run as libvirt's "custom-ga-command". */
static void
taint_custom_ga(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    char uuid[VRT_UUID_STRING_LEN];

    if (obj->taint_custom_ga)
        return;
    obj->taint_custom_ga = true;
    vrt_uuid_format(obj->def->uuid, uuid);
    g_warning("Domain id=%d name='%s' uuid=%s is tainted: custom-ga-command", obj->def->id, obj->def->name, uuid);
}

char *
vrt_qemu_domain_agent_command(VrtQemuDriver *drv, const guchar *uuid, const char *cmd, int timeout, guint flags,
                              GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(JsonNode) reply = NULL;
    g_autoptr(GError) parse = NULL;
    g_autoptr(JsonNode) req = NULL;

    if (!no_flags(flags, 0, "qemuDomainQemuAgentCommand", error))
        return NULL;
    obj = find_active(drv, uuid, error);
    if (!obj)
        return NULL;
    if (!vrt_qemu_agent_check(obj, error))
        return NULL;
    taint_custom_ga(obj);
    if (timeout < VRT_QEMU_AGENT_TIMEOUT_BLOCK) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "guest agent timeout '%d' is less than the minimum '%d'", timeout,
                      VRT_QEMU_AGENT_TIMEOUT_BLOCK);
        return NULL;
    }
    req = json_from_string(cmd, &parse);
    if (!req || !JSON_NODE_HOLDS_OBJECT(req)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot parse json %s: %s", cmd,
                      parse ? parse->message : "not a JSON object");
        return NULL;
    }
    reply = vrt_qemu_agent_exchange(obj, cmd, timeout, false, error);
    if (!reply)
        return NULL;
    return json_to_string(reply, FALSE);
}

/* An int "return", libvirt's "malformed return value" otherwise. */
static int
int_return(JsonNode *ret, GError **error)
{
    if (!ret || !JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_INT64) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed return value");
        return -1;
    }
    return (int)json_node_get_int(ret);
}

int
vrt_qemu_domain_fsfreeze(VrtQemuDriver *drv, const guchar *uuid, const char *const *mountpoints, guint flags,
                         GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!no_flags(flags, 0, "qemuDomainFSFreeze", error))
        return -1;
    if (!(obj = find_active(drv, uuid, error)))
        return -1;
    if (mountpoints && mountpoints[0]) {
        g_autoptr(JsonObject) args = json_object_new();
        JsonArray *arr = json_array_new();

        for (guint i = 0; mountpoints[i]; i++)
            json_array_add_string_element(arr, mountpoints[i]);
        json_object_set_array_member(args, "mountpoints", arr);
        ret = vrt_qemu_agent_call(obj, "guest-fsfreeze-freeze-list", args, error);
    } else {
        ret = vrt_qemu_agent_call(obj, "guest-fsfreeze-freeze", NULL, error);
    }
    if (!ret)
        return -1;
    return int_return(ret, error);
}

int
vrt_qemu_domain_fsthaw(VrtQemuDriver *drv, const guchar *uuid, const char *const *mountpoints, guint flags,
                       GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!no_flags(flags, 0, "qemuDomainFSThaw", error))
        return -1;
    if (mountpoints && mountpoints[0]) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "specifying mountpoints is not supported");
        return -1;
    }
    if (!(obj = find_active(drv, uuid, error)))
        return -1;
    if (!(ret = vrt_qemu_agent_call(obj, "guest-fsfreeze-thaw", NULL, error)))
        return -1;
    return int_return(ret, error);
}

bool
vrt_qemu_domain_get_time(VrtQemuDriver *drv, const guchar *uuid, gint64 *seconds, guint *nseconds, guint flags,
                         GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(JsonNode) ret = NULL;
    gint64 ns;

    if (!no_flags(flags, 0, "qemuDomainGetTime", error))
        return false;
    if (!(obj = find_active(drv, uuid, error)))
        return false;
    if (!(ret = vrt_qemu_agent_call(obj, "guest-get-time", NULL, error)))
        return false;
    if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_INT64 || json_node_get_int(ret) < 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed return value");
        return false;
    }
    ns = json_node_get_int(ret);
    *seconds = ns / 1000000000LL;
    *nseconds = (guint)(ns % 1000000000LL);
    return true;
}

bool
vrt_qemu_domain_set_time(VrtQemuDriver *drv, const guchar *uuid, gint64 seconds, guint nseconds, guint flags,
                         GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (!no_flags(flags, VRT_DOMAIN_TIME_SYNC, "qemuDomainSetTime", error))
        return false;
    if (!(obj = find_active(drv, uuid, error)))
        return false;
    if (!(flags & VRT_DOMAIN_TIME_SYNC)) {
        /* qemu-ga reads the time as a signed 64-bit count of nanoseconds. */
        if (seconds > LLONG_MAX / 1000000000LL) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "Time '%" G_GINT64_FORMAT "' is too big for guest agent",
                          seconds);
            return false;
        }
        args = json_object_new();
        json_object_set_int_member(args, "time", seconds * 1000000000LL + nseconds);
    }
    if (!(ret = vrt_qemu_agent_call(obj, "guest-set-time", args, error)))
        return false;
    /* On x86 the RTC's missed ticks are dropped after a time change, as
     * libvirt does, under the domain's job. */
    {
        g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
        g_autoptr(VrtQemuMonitor) mon = NULL;
        g_autoptr(JsonNode) r = NULL;

        if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error))
            return false;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
                return false;
            }
            mon = vrt_qemu_monitor_ref(obj->mon);
        }
        r = vrt_qemu_monitor_command(mon, "rtc-reset-reinjection", NULL, 0, error);
        return r != NULL;
    }
}

bool
vrt_qemu_agent_shutdown(VrtQemuDom *obj, bool reboot, GError **error)
{
    g_autofree char *req = g_strdup_printf("{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"%s\"}}",
                                           reboot ? "reboot" : "powerdown");
    g_autoptr(JsonNode) reply = NULL;

    /* qemu-ga answers guest-shutdown with nothing: the guest goes down. */
    reply = vrt_qemu_agent_exchange(obj, req, VRT_QEMU_AGENT_TIMEOUT_SHUTDOWN, true, error);
    return reply != NULL;
}

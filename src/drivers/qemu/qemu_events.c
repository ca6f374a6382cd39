/*
 * QMP events that become libvirt domain events other than lifecycle:
 * RESET (reboot), RTC_CHANGE, WATCHDOG, BLOCK_IO_ERROR (io-error and
 * io-error-reason), VNC_CONNECTED/INITIALIZED/DISCONNECTED (graphics),
 * DEVICE_TRAY_MOVED (tray-change), WAKEUP/SUSPEND/SUSPEND_DISK, BALLOON_CHANGE,
 * BLOCK_JOB_COMPLETED/CANCELLED/READY (block-job and its target-named
 * variant), VSERPORT_CHANGE of the guest agent's channel (agent-lifecycle),
 * DEVICE_UNPLUG_GUEST_ERROR (device-removal-failed) and MEMORY_FAILURE.
 * Power management events also move the domain in and out of pmsuspended
 * and a balloon change sets its current memory, as libvirt's do. Each is
 * read as libvirt 9.0 reads it (the same defaults when a member is
 * missing), named after the domain's devices (alias, source path, target),
 * and handed to the driver's domain_event callback. It runs on the domain's
 * event pool thread, in order with the lifecycle events, holding no lock but
 * the object lock while it reads the definition.
 */
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_events.h"

#include <stdio.h>
#include <string.h>

#define AGENT_CHANNEL_NAME "org.qemu.guest_agent.0"

/* Index of s in names (NULL-terminated), or dflt. */
static int
enum_index(const char *s, const char *const *names, int dflt)
{
    for (int i = 0; s && names[i]; i++)
        if (g_str_equal(s, names[i]))
            return i;
    return dflt;
}

static const char *
str_member(JsonObject *o, const char *name)
{
    return o && json_object_has_member(o, name) ? json_object_get_string_member_with_default(o, name, NULL) : NULL;
}

static bool
bool_member(JsonObject *o, const char *name, bool dflt)
{
    return o && json_object_has_member(o, name) ? json_object_get_boolean_member_with_default(o, name, dflt) : dflt;
}

static void
emit(VrtQemuDom *obj, const VrtQemuDomainEvent *ev)
{
    g_autoptr(VrtDomainRef) ref = NULL;

    if (!obj->drv->cfg.domain_event)
        return;
    ref = vrt_qemu_dom_make_ref(obj);
    obj->drv->cfg.domain_event(ref, ev, obj->drv->cfg.data);
}

/* The disk a block event names (object lock held): by its device id (the
 * alias), or by a node name vrt gave it ("vrt-N-format"/"vrt-N-storage":
 * the Nth disk with a source, in the order the command line was built). */
static const VrtDomainDiskDef *
find_disk_locked(VrtQemuDom *obj, const char *device, const char *node)
{
    guint n = 0;

    for (guint i = 0; device && *device && i < obj->def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

        if (g_strcmp0(d->info.alias, device) == 0)
            return d;
    }
    if (!node || !g_str_has_prefix(node, "vrt-") || sscanf(node, "vrt-%u-", &n) != 1 || n == 0)
        return NULL;
    for (guint i = 0; i < obj->def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

        if (d->src && --n == 0)
            return d;
    }
    return NULL;
}

/* BLOCK_IO_ERROR: io-error and io-error-reason, as libvirt: action ignore,
 * stop, report (unknown: ignore); reason "enospc" when QEMU says nospace. */
static void
handle_io_error(VrtQemuDom *obj, JsonObject *data)
{
    static const char *const actions[] = { "ignore", "stop", "report", NULL };
    VrtQemuDomainEvent ev = { 0 };
    g_autofree char *path = NULL;
    g_autofree char *alias = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainDiskDef *d = find_disk_locked(obj, str_member(data, "device"), str_member(data, "node-name"));

        path = g_strdup(d && d->src ? d->src : "");
        alias = g_strdup(d && d->info.alias ? d->info.alias : "");
    }
    ev.src_path = path;
    ev.dev_alias = alias;
    ev.action = enum_index(str_member(data, "action"), actions, 0);
    ev.reason_text = bool_member(data, "nospace", false) ? "enospc" : "";
    ev.id = VRT_EVENT_ID_IO_ERROR;
    emit(obj, &ev);
    ev.id = VRT_EVENT_ID_IO_ERROR_REASON;
    emit(obj, &ev);
}

/* VNC_*: graphics with its phase; an event without client or server
 * information is dropped, as libvirt does. */
static void
handle_vnc(VrtQemuDom *obj, JsonObject *data, int phase)
{
    static const char *const families[] = { "ipv4", "ipv6", "unix", NULL };
    JsonObject *client =
        data && json_object_has_member(data, "client") ? json_object_get_object_member(data, "client") : NULL;
    JsonObject *server =
        data && json_object_has_member(data, "server") ? json_object_get_object_member(data, "server") : NULL;
    VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_GRAPHICS, .phase = phase };

    if (!client || !server)
        return;
    ev.local.node = str_member(server, "host");
    ev.local.service = str_member(server, "service");
    ev.remote.node = str_member(client, "host");
    ev.remote.service = str_member(client, "service");
    if (!ev.local.node || !ev.local.service || !ev.remote.node || !ev.remote.service || !str_member(server, "family") ||
        !str_member(client, "family"))
        return;
    ev.local.family = enum_index(str_member(server, "family"), families, 0);
    ev.remote.family = enum_index(str_member(client, "family"), families, 0);
    ev.auth_scheme = str_member(server, "auth") ? str_member(server, "auth") : "";
    ev.x509_dname = str_member(client, "x509_dname");
    ev.sasl_username = str_member(client, "sasl_username");
    emit(obj, &ev);
}

/* DEVICE_TRAY_MOVED: the device's alias is its id (QEMU's "device", the
 * drive name, is empty with -blockdev). */
static void
handle_tray(VrtQemuDom *obj, JsonObject *data)
{
    const char *id = str_member(data, "id");
    const char *drive = str_member(data, "device");
    VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_TRAY_CHANGE };

    if (!data || !json_object_has_member(data, "tray-open"))
        return;
    ev.dev_alias = id && *id ? id : drive;
    if (!ev.dev_alias || !*ev.dev_alias)
        return;
    ev.reason = bool_member(data, "tray-open", false) ? 0 : 1; /* OPEN, CLOSE */
    {
        /* the live definition's <target tray=> follows the tray */
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        for (guint i = 0; obj->def->disks && i < obj->def->disks->len; i++) {
            VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

            if (g_strcmp0(d->info.alias, ev.dev_alias) == 0) {
                d->ident.tray_open = ev.reason == 0;
                vrt_qemu_dom_save_status_locked(obj, NULL); /* logged on failure */
            }
        }
    }
    emit(obj, &ev);
}

/* BLOCK_JOB_COMPLETED/CANCELLED/READY: block-job (the disk's path) and
 * block-job-2 (its target); a completion with "error" failed. */
static void
handle_block_job(VrtQemuDom *obj, const char *name, JsonObject *data)
{
    static const char *const types[] = { "", "stream", "mirror", "commit", "active-commit", "backup", NULL };
    VrtQemuDomainEvent ev = { 0 };
    g_autofree char *path = NULL;
    g_autofree char *dst = NULL;

    if (g_str_equal(name, "BLOCK_JOB_COMPLETED"))
        ev.status = json_object_has_member(data, "error") ? 1 : 0;
    else if (g_str_equal(name, "BLOCK_JOB_CANCELLED"))
        ev.status = 2;
    else
        ev.status = 3;
    ev.type = enum_index(str_member(data, "type"), types, 0);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const char *device = str_member(data, "device");
        const VrtDomainDiskDef *d = find_disk_locked(obj, device, device);

        if (!d)
            return;
        path = g_strdup(d->src ? d->src : "");
        dst = g_strdup(d->target_dev ? d->target_dev : "");
    }
    ev.id = VRT_EVENT_ID_BLOCK_JOB;
    ev.src_path = path;
    emit(obj, &ev);
    ev.id = VRT_EVENT_ID_BLOCK_JOB_2;
    ev.dev_alias = dst;
    emit(obj, &ev);
}

/* VSERPORT_CHANGE of the guest agent's channel: agent-lifecycle, state
 * connected (1) or disconnected (2), reason channel (2). Other ports raise
 * nothing. */
static void
handle_vserport(VrtQemuDom *obj, JsonObject *data)
{
    const char *id = str_member(data, "id");
    VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_AGENT_LIFECYCLE, .reason = 2 };
    bool agent = false;

    if (!id)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        for (guint i = 0; obj->def->channels && i < obj->def->channels->len; i++) {
            const VrtDomainChrDef *chr = g_ptr_array_index(obj->def->channels, i);

            if (g_strcmp0(chr->info.alias, id) == 0 && g_strcmp0(chr->target_name, AGENT_CHANNEL_NAME) == 0)
                agent = true;
        }
    }
    if (!agent)
        return;
    ev.state = bool_member(data, "open", false) ? 1 : 2;
    emit(obj, &ev);
}

/* MEMORY_FAILURE: recipient hypervisor/guest, action ignore/inject/fatal/
 * reset, flags action-required (1) and recursive (2). */
static void
handle_memory_failure(VrtQemuDom *obj, JsonObject *data)
{
    static const char *const recipients[] = { "hypervisor", "guest", NULL };
    static const char *const actions[] = { "ignore", "inject", "fatal", "reset", NULL };
    JsonObject *flags =
        data && json_object_has_member(data, "flags") ? json_object_get_object_member(data, "flags") : NULL;
    VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_MEMORY_FAILURE };

    if (!str_member(data, "recipient") || !str_member(data, "action"))
        return;
    ev.type = enum_index(str_member(data, "recipient"), recipients, 0);
    ev.action = enum_index(str_member(data, "action"), actions, 0);
    ev.flags =
        (bool_member(flags, "action-required", false) ? 1u : 0u) | (bool_member(flags, "recursive", false) ? 2u : 0u);
    emit(obj, &ev);
}

/* SUSPEND, SUSPEND_DISK (to_suspend) and WAKEUP move the state as libvirt
 * does: a running guest that suspends is pmsuspended (lifecycle
 * PMSUSPENDED, detail memory 0 or disk 1); a pmsuspended one that wakes up
 * runs again (lifecycle STARTED, detail wakeup 4). Other states stay. */
static void
pm_transition(VrtQemuDom *obj, bool to_suspend, int detail)
{
    bool changed = false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (to_suspend && obj->state == VRT_DOMAIN_RUNNING) {
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PMSUSPENDED, 0);
            changed = true;
        } else if (!to_suspend && obj->state == VRT_DOMAIN_PMSUSPENDED) {
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING, 8 /* VIR_DOMAIN_RUNNING_WAKEUP */);
            changed = true;
        }
        if (changed)
            vrt_qemu_dom_save_status_locked(obj, NULL); /* logged on failure */
    }
    if (changed)
        vrt_qemu_dom_emit(obj, to_suspend ? VRT_DOMAIN_EVENT_PMSUSPENDED : VRT_DOMAIN_EVENT_STARTED, detail);
}

/* BALLOON_CHANGE: the guest gave or took memory; the live definition's
 * current memory follows, as libvirt's does. */
static void
balloon_changed(VrtQemuDom *obj, guint64 kib)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    obj->def->current_memory_kib = kib;
    vrt_qemu_dom_save_status_locked(obj, NULL); /* logged on failure */
}

bool
vrt_qemu_events_handle(VrtQemuDom *obj, const char *name, JsonObject *data)
{
    static const char *const watchdog_actions[] = { "none",     "pause", "reset",      "poweroff",
                                                    "shutdown", "debug", "inject-nmi", NULL };
    VrtQemuDomainEvent ev = { 0 };

    if (g_str_equal(name, "RESET")) {
        ev.id = VRT_EVENT_ID_REBOOT;
    } else if (g_str_equal(name, "RTC_CHANGE")) {
        ev.id = VRT_EVENT_ID_RTC_CHANGE;
        ev.offset = data && json_object_has_member(data, "offset") ? json_object_get_int_member(data, "offset") : 0;
    } else if (g_str_equal(name, "WATCHDOG")) {
        ev.id = VRT_EVENT_ID_WATCHDOG;
        ev.action = enum_index(str_member(data, "action"), watchdog_actions, 0);
    } else if (g_str_equal(name, "BLOCK_IO_ERROR")) {
        handle_io_error(obj, data);
        return true;
    } else if (g_str_equal(name, "VNC_CONNECTED")) {
        handle_vnc(obj, data, 0);
        return true;
    } else if (g_str_equal(name, "VNC_INITIALIZED")) {
        handle_vnc(obj, data, 1);
        return true;
    } else if (g_str_equal(name, "VNC_DISCONNECTED")) {
        handle_vnc(obj, data, 2);
        return true;
    } else if (g_str_equal(name, "DEVICE_TRAY_MOVED")) {
        handle_tray(obj, data);
        return true;
    } else if (g_str_equal(name, "WAKEUP")) {
        ev.id = VRT_EVENT_ID_PMWAKEUP;
        emit(obj, &ev);
        pm_transition(obj, false, 4);
        return true;
    } else if (g_str_equal(name, "SUSPEND")) {
        ev.id = VRT_EVENT_ID_PMSUSPEND;
        emit(obj, &ev);
        pm_transition(obj, true, 0);
        return true;
    } else if (g_str_equal(name, "SUSPEND_DISK")) {
        ev.id = VRT_EVENT_ID_PMSUSPEND_DISK;
        emit(obj, &ev);
        pm_transition(obj, true, 1);
        return true;
    } else if (g_str_equal(name, "BALLOON_CHANGE")) {
        gint64 bytes = data && json_object_has_member(data, "actual") ? json_object_get_int_member(data, "actual") : -1;

        if (bytes < 0)
            return true;
        ev.id = VRT_EVENT_ID_BALLOON_CHANGE;
        ev.actual = ((guint64)bytes + 1023) / 1024;
        balloon_changed(obj, ev.actual);
    } else if (g_str_equal(name, "BLOCK_JOB_COMPLETED") || g_str_equal(name, "BLOCK_JOB_CANCELLED") ||
               g_str_equal(name, "BLOCK_JOB_READY")) {
        if (data)
            handle_block_job(obj, name, data);
        return true;
    } else if (g_str_equal(name, "VSERPORT_CHANGE")) {
        handle_vserport(obj, data);
        return true;
    } else if (g_str_equal(name, "DEVICE_UNPLUG_GUEST_ERROR")) {
        const char *device = str_member(data, "device");

        if (!device || !str_member(data, "path"))
            return true;
        ev.id = VRT_EVENT_ID_DEVICE_REMOVAL_FAILED;
        ev.dev_alias = device;
    } else if (g_str_equal(name, "MEMORY_FAILURE")) {
        handle_memory_failure(obj, data);
        return true;
    } else {
        return false;
    }
    emit(obj, &ev);
    return true;
}

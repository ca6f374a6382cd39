/*
 * The QEMU driver's everyday domain calls beside start and stop: the
 * title, description and <metadata> (virDomainSetMetadata/GetMetadata),
 * renaming a shut-off domain, keys sent to the guest, the monitor's and
 * job's state (vrt runs no long jobs: migration, dump or backup, so a
 * running domain has none to report or abort), and growing a running
 * domain's disk, which disks QEMU stopped on an I/O error, the lifecycle
 * actions (virsh set-lifecycle-action) and waking a guest suspended to RAM. Errors are worded as libvirt 9.0's QEMU driver words them;
 * unsupported flag bits never reach here: the server refuses them first
 * (protocol/remote_flags.tsv).
 */
#include "drivers/qemu/qemu_disk_iotune.h"
#include "drivers/qemu/qemu_domain.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The domain with its job of kind, NULL with the reason. */
static VrtQemuDom *
find_with_job(VrtQemuDriver *drv, const guchar *uuid, VrtQemuJobKind kind, VrtQemuJob *job, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj || !vrt_qemu_job_begin(job, obj, kind, error))
        return NULL;
    return g_steal_pointer(&obj);
}

/* The running domain's monitor (a reference), NULL with libvirt's
 * "domain is not running". */
static VrtQemuMonitor *
running_monitor(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return vrt_qemu_monitor_ref(obj->mon);
}

/* ---- metadata ---- */

/* The change under the domain's job: live, persistent, or both. */
static bool
set_metadata_job(VrtQemuDom *obj, int type, const char *metadata, const char *key, const char *uri, guint flags,
                 GError **error)
{
    bool live, config;

    if (!vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (live) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_domain_def_set_metadata(obj->def, type, metadata, key, uri, error) ||
            !vrt_qemu_dom_save_status_locked(obj, error))
            return false;
    }
    if (config) {
        g_autoptr(VrtDomainDef) copy = vrt_qemu_dom_config_copy(obj, error);

        if (!copy || !vrt_domain_def_set_metadata(copy, type, metadata, key, uri, error))
            return false;
        /* While inactive the definition is the one object: saved, then installed. */
        return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
    }
    return true;
}

bool
vrt_qemu_domain_set_metadata(VrtQemuDriver *drv, const guchar *uuid, int type, const char *metadata, const char *key,
                             const char *uri, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtDomainRef) ref = NULL;

    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !set_metadata_job(obj, type, metadata, key, uri, flags, error))
        return false;
    vrt_qemu_job_end(&job); /* the event follows the job, as lifecycle events do */
    if (drv->cfg.metadata_change) {
        ref = vrt_qemu_dom_make_ref(obj);
        drv->cfg.metadata_change(ref, type, uri, drv->cfg.data);
    }
    return true;
}

char *
vrt_qemu_domain_get_metadata(VrtQemuDriver *drv, const guchar *uuid, int type, const char *uri, guint flags,
                             GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(GMutexLocker) locker = NULL;
    bool active;

    if ((flags & VRT_DOMAIN_AFFECT_LIVE) && (flags & VRT_DOMAIN_AFFECT_CONFIG)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
        return NULL;
    }
    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return NULL;
    locker = g_mutex_locker_new(&obj->lock);
    active = vrt_qemu_dom_is_active_locked(obj);
    if ((flags & VRT_DOMAIN_AFFECT_LIVE) && !active) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    if ((flags & VRT_DOMAIN_AFFECT_CONFIG) && !obj->persistent) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "transient domains do not have any persistent config");
        return NULL;
    }
    return vrt_domain_def_get_metadata((flags & VRT_DOMAIN_AFFECT_CONFIG) && obj->newdef ? obj->newdef : obj->def, type,
                                       uri, error);
}

/* ---- rename ---- */

/* Moves the autostart link of old_name to new_name (pointing at the new
 * definition file) when there is one. */
static bool
move_autostart(VrtQemuDriver *drv, const char *old_name, const char *new_name, GError **error)
{
    g_autofree char *old_link = vrt_qemu_autostart_path(drv, old_name);
    g_autofree char *new_link = vrt_qemu_autostart_path(drv, new_name);
    g_autofree char *target = vrt_qemu_config_path(drv, new_name);

    if (!g_file_test(old_link, G_FILE_TEST_IS_SYMLINK))
        return true;
    if (symlink(target, new_link) < 0 && errno != EEXIST) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot create autostart link '%s'", new_link);
        return false;
    }
    if (unlink(old_link) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot remove autostart link '%s'", old_link);
        return false;
    }
    return true;
}

bool
vrt_qemu_domain_rename(VrtQemuDriver *drv, const guchar *uuid, const char *new_name, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtDomainDef) copy = NULL;
    g_autofree char *old_name = NULL;
    g_autofree char *old_path = NULL;

    if (!new_name || !*new_name || strchr(new_name, '/')) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "new domain name '%s' is not valid", new_name ? new_name : "");
        return false;
    }
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (vrt_qemu_dom_is_active_locked(obj)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot rename active domain");
            return false;
        }
        if (!obj->persistent) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot rename a transient domain");
            return false;
        }
        /* The image and snapshot metadata are kept under the old name. */
        if (obj->managed_save) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain with a managed saved state can't be renamed");
            return false;
        }
        if (obj->snapshots && obj->snapshots->len) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot rename domain with snapshots");
            return false;
        }
        if (g_strcmp0(obj->def->name, new_name) == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Can't rename domain to itself");
            return false;
        }
        old_name = g_strdup(obj->def->name);
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        if (g_hash_table_contains(drv->by_name, new_name)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain with name '%s' already exists", new_name);
            return false;
        }
        /* The new name is taken now, so no define can claim it while the
         * files move; it is given back if they cannot. */
        g_hash_table_insert(drv->by_name, g_strdup(new_name), obj);
    }
    copy = vrt_qemu_dom_config_copy(obj, error);
    if (copy) {
        g_free(copy->name);
        copy->name = g_strdup(new_name);
    }
    /* The new file is on disk before the old one goes: a crash leaves the
     * domain under one name or both, never none. */
    if (!copy || !vrt_qemu_dom_save_config(obj, copy, error)) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        g_hash_table_remove(drv->by_name, new_name);
        return false;
    }
    vrt_state_sync_flush(drv->config_sync);
    old_path = vrt_qemu_config_path(drv, old_name);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

        g_hash_table_remove(drv->by_name, old_name);
        vrt_domain_def_free(obj->def);
        obj->def = g_steal_pointer(&copy);
    }
    /* The domain has its new name from here on; what fails below leaves a
     * stray file or link of the old name, reported. */
    if (!vrt_state_sync_remove(drv->config_sync, old_path, error))
        return false;
    vrt_state_sync_flush(drv->config_sync);
    return move_autostart(drv, old_name, new_name, error);
}

/* ---- keys ---- */

/* libvirt's keycode sets (virKeycodeSet) that vrt translates. */
enum {
    KEYCODE_SET_LINUX = 0,
    KEYCODE_SET_XT = 1,
    KEYCODE_SET_ATSET1 = 2,
    KEYCODE_SET_QNUM = 9,
};

/* Linux input codes past the first 84 (which equal their XT scancodes and
 * so their QEMU numbers) that a keyboard commonly has: the extended keys,
 * sent as 0xe0 xx in XT and as 0x80|xx in QEMU's numbering. */
static const struct {
    guint linux_code;
    guint qnum;
} linux_extended[] = {
    { 85, 0x76 }, /* KEY_ZENKAKUHANKAKU */
    { 86, 0x56 }, /* KEY_102ND */
    { 87, 0x57 }, /* KEY_F11 */
    { 88, 0x58 }, /* KEY_F12 */
    { 96, 0x9c }, /* KEY_KPENTER */
    { 97, 0x9d }, /* KEY_RIGHTCTRL */
    { 98, 0xb5 }, /* KEY_KPSLASH */
    { 99, 0x54 }, /* KEY_SYSRQ */
    { 100, 0xb8 }, /* KEY_RIGHTALT */
    { 102, 0xc7 }, /* KEY_HOME */
    { 103, 0xc8 }, /* KEY_UP */
    { 104, 0xc9 }, /* KEY_PAGEUP */
    { 105, 0xcb }, /* KEY_LEFT */
    { 106, 0xcd }, /* KEY_RIGHT */
    { 107, 0xcf }, /* KEY_END */
    { 108, 0xd0 }, /* KEY_DOWN */
    { 109, 0xd1 }, /* KEY_PAGEDOWN */
    { 110, 0xd2 }, /* KEY_INSERT */
    { 111, 0xd3 }, /* KEY_DELETE */
    { 113, 0xa0 }, /* KEY_MUTE */
    { 114, 0xae }, /* KEY_VOLUMEDOWN */
    { 115, 0xb0 }, /* KEY_VOLUMEUP */
    { 116, 0xde }, /* KEY_POWER */
    { 117, 0x59 }, /* KEY_KPEQUAL */
    { 119, 0xc6 }, /* KEY_PAUSE */
    { 125, 0xdb }, /* KEY_LEFTMETA */
    { 126, 0xdc }, /* KEY_RIGHTMETA */
    { 127, 0xdd }, /* KEY_COMPOSE */
    { 142, 0xdf }, /* KEY_SLEEP */
    { 143, 0xe3 }, /* KEY_WAKEUP */
};

static const char *
codeset_name(guint codeset)
{
    static const char *const names[] = { "linux", "xt",     "atset1", "atset2", "atset3",
                                         "os_x",  "xt_kbd", "usb",    "win32",  "qnum" };

    return codeset < G_N_ELEMENTS(names) ? names[codeset] : "unknown";
}

/* QEMU's number for code of codeset, -1 when vrt cannot translate it. */
static int
to_qnum(guint codeset, guint code)
{
    switch (codeset) {
    case KEYCODE_SET_QNUM: return code > 0 && code < 0x100 ? (int)code : -1;
    case KEYCODE_SET_XT: return code > 0 && code < 0x80 ? (int)code : -1;
    case KEYCODE_SET_ATSET1:
        if (code > 0 && code < 0x80)
            return (int)code;
        if ((code & 0xff00) == 0xe000 && (code & 0xff) > 0 && (code & 0xff) < 0x80)
            return (int)(0x80 | (code & 0x7f));
        return -1;
    case KEYCODE_SET_LINUX:
        if (code > 0 && code <= 83)
            return (int)code;
        for (guint i = 0; i < G_N_ELEMENTS(linux_extended); i++) {
            if (linux_extended[i].linux_code == code)
                return (int)linux_extended[i].qnum;
        }
        return -1;
    }
    return -1;
}

bool
vrt_qemu_domain_send_key(VrtQemuDriver *drv, const guchar *uuid, guint codeset, guint holdtime, const guint *keycodes,
                         guint nkeycodes, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) reply = NULL;
    JsonArray *keys = json_array_new();

    json_object_set_array_member(args, "keys", keys);
    for (guint i = 0; i < nkeycodes; i++) {
        int q = to_qnum(codeset, keycodes[i]);
        JsonObject *key;

        if (q < 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot translate keycode %u of %s codeset to qnum keycode",
                          keycodes[i], codeset_name(codeset));
            return false;
        }
        key = json_object_new();
        json_object_set_string_member(key, "type", "number");
        json_object_set_int_member(key, "data", q);
        json_array_add_object_element(keys, key);
    }
    if (holdtime)
        json_object_set_int_member(args, "hold-time", holdtime);
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !(mon = running_monitor(obj, error)))
        return false;
    reply = vrt_qemu_monitor_command(mon, "send-key", args, 0, error);
    return reply != NULL;
}

/* A QMP command without arguments to a running domain, under a modify job. */
static bool
running_command(VrtQemuDriver *drv, const guchar *uuid, const char *command, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonNode) reply = NULL;

    if (!obj || !(mon = running_monitor(obj, error)))
        return false;
    reply = vrt_qemu_monitor_command(mon, command, NULL, 0, error);
    return reply != NULL;
}

/* QMP inject-nmi: an NMI to every vCPU (x86), as libvirt's virDomainInjectNMI. */
bool
vrt_qemu_domain_inject_nmi(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return running_command(drv, uuid, "inject-nmi", error);
}

/* ---- control and job ---- */

bool
vrt_qemu_domain_get_control_info(VrtQemuDriver *drv, const guchar *uuid, guint flags, guint *state, guint *details,
                                 guint64 *state_time, GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(GMutexLocker) locker = NULL;

    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return false;
    locker = g_mutex_locker_new(&obj->lock);
    if (!vrt_qemu_dom_is_active_locked(obj)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return false;
    }
    /* VIR_DOMAIN_CONTROL_OK (0), or _JOB (1) while a call holds the
     * domain's job; vrt does not time jobs, so the time is 0. */
    *state = obj->job != VRT_QEMU_JOB_NONE ? 1 : 0;
    *details = 0;
    *state_time = 0;
    return true;
}

bool
vrt_qemu_domain_get_job_info(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(GMutexLocker) locker = NULL;

    if (!obj)
        return false;
    locker = g_mutex_locker_new(&obj->lock);
    if (!vrt_qemu_dom_is_active_locked(obj)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return false;
    }
    /* No long job ever runs: VIR_DOMAIN_JOB_NONE, all counters 0. */
    return true;
}

bool
vrt_qemu_domain_abort_job(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    if (!vrt_qemu_domain_get_job_info(drv, uuid, error))
        return false;
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "no job is active on the domain");
    return false;
}

/* ---- block resize ---- */

/* The format node QEMU gives the image at path (query-block's inserted
 * device), NULL with the reason. */
static char *
disk_node_name(VrtQemuMonitor *mon, const char *path, GError **error)
{
    g_autoptr(JsonNode) reply = vrt_qemu_monitor_command(mon, "query-block", NULL, 0, error);
    JsonArray *arr;

    if (!reply)
        return NULL;
    arr = JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *dev = json_array_get_object_element(arr, i);
        JsonObject *ins =
            dev && json_object_has_member(dev, "inserted") ? json_object_get_object_member(dev, "inserted") : NULL;

        if (ins && g_strcmp0(json_object_get_string_member_with_default(ins, "file", NULL), path) == 0 &&
            json_object_has_member(ins, "node-name"))
            return g_strdup(json_object_get_string_member(ins, "node-name"));
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find the block node of disk '%s'", path);
    return NULL;
}

bool
vrt_qemu_domain_block_resize(VrtQemuDriver *drv, const guchar *uuid, const char *disk, guint64 size, guint flags,
                             GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) reply = NULL;
    g_autofree char *src = NULL;
    g_autofree char *node = NULL;
    bool readonly = false;
    bool raw = false;

    if (!(flags & VRT_DOMAIN_BLOCK_RESIZE_BYTES)) {
        if (size > G_MAXUINT64 / 1024) {
            vrt_error_set(error, VIR_ERR_OVERFLOW, "size must be less than %" G_GUINT64_FORMAT, G_MAXUINT64 / 1024);
            return false;
        }
        size *= 1024;
    }
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !(mon = running_monitor(obj, error)))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainDiskDef *d = vrt_domain_def_find_disk_by_name(obj->def, disk);

        if (!d) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' was not found in the domain config", disk);
            return false;
        }
        src = g_strdup(d->src);
        readonly = d->readonly || d->device == VRT_DOMAIN_DISK_DEVICE_CDROM;
        raw = d->format != VRT_DOMAIN_DISK_FORMAT_QCOW2;
        if (!src || readonly) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "can't resize empty or readonly disk '%s'",
                          d->target_dev);
            return false;
        }
    }
    /* As libvirt: a raw image grows to whole 512-byte sectors. */
    if (raw)
        size = (size + 511) / 512 * 512;
    node = disk_node_name(mon, src, error);
    if (!node)
        return false;
    args = json_object_new();
    json_object_set_string_member(args, "node-name", node);
    json_object_set_int_member(args, "size", (gint64)size);
    reply = vrt_qemu_monitor_command(mon, "block_resize", args, 0, error);
    return reply != NULL;
}

/* ---- disk errors (virsh domblkerror) ---- */

void
vrt_qemu_disk_error_clear(VrtQemuDiskError *e)
{
    g_clear_pointer(&e->disk, g_free);
}

/* query-block's io-status as virDomainDiskErrorCode: 0 none (also for a
 * device without one), 1 unspecified, 2 no space. */
static int
io_status_code(JsonObject *dev)
{
    const char *st = json_object_get_string_member_with_default(dev, "io-status", "ok");

    return g_str_equal(st, "nospace") ? 2 : g_str_equal(st, "failed") ? 1 : 0;
}

GArray *
vrt_qemu_domain_get_disk_errors(VrtQemuDriver *drv, const guchar *uuid, guint max, int *count, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(JsonNode) reply = NULL;
    GArray *out;

    if (!obj || !(mon = running_monitor(obj, error)))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        for (guint i = 0; obj->def->disks && i < obj->def->disks->len; i++) {
            const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

            g_ptr_array_add(ids, vrt_qemu_disk_qom_id(d));
            g_ptr_array_add(targets, g_strdup(d->target_dev));
        }
    }
    out = g_array_new(FALSE, TRUE, sizeof(VrtQemuDiskError));
    g_array_set_clear_func(out, (GDestroyNotify)vrt_qemu_disk_error_clear);
    if (max == 0) {
        *count = (int)ids->len;
        return out;
    }
    if (!(reply = vrt_qemu_monitor_command(mon, "query-block", NULL, 0, error))) {
        g_array_unref(out);
        return NULL;
    }
    for (guint i = 0; i < ids->len && out->len < max; i++) {
        JsonObject *dev = vrt_qemu_query_block_device(reply, g_ptr_array_index(ids, i));
        VrtQemuDiskError e = { 0 };

        if (dev && (e.error = io_status_code(dev)) != 0) {
            e.disk = g_strdup(g_ptr_array_index(targets, i));
            g_array_append_val(out, e);
        }
    }
    *count = (int)out->len;
    return out;
}

/* ---- lifecycle actions (virsh set-lifecycle-action) ---- */

enum {
    LIFECYCLE_POWEROFF,
    LIFECYCLE_REBOOT,
    LIFECYCLE_CRASH,
    LIFECYCLE_N
};

static VrtDomainLifecycleAction *
lifecycle_slot(VrtDomainDef *def, guint type)
{
    return type == LIFECYCLE_POWEROFF ? &def->on_poweroff : type == LIFECYCLE_REBOOT ? &def->on_reboot : &def->on_crash;
}

/* libvirt's qemuValidateLifecycleAction for def with type set to action. */
static bool
lifecycle_validate(const VrtDomainDef *def, guint type, VrtDomainLifecycleAction action, GError **error)
{
    VrtDomainLifecycleAction off = type == LIFECYCLE_POWEROFF ? action : def->on_poweroff;
    VrtDomainLifecycleAction reboot = type == LIFECYCLE_REBOOT ? action : def->on_reboot;
    VrtDomainLifecycleAction crash = type == LIFECYCLE_CRASH ? action : def->on_crash;

    if (off == VRT_DOMAIN_LIFECYCLE_RENAME_RESTART || reboot == VRT_DOMAIN_LIFECYCLE_RENAME_RESTART ||
        crash == VRT_DOMAIN_LIFECYCLE_RENAME_RESTART) {
        vrt_error_set(
            error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
            "qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'");
        return false;
    }
    if (off == VRT_DOMAIN_LIFECYCLE_PRESERVE || reboot == VRT_DOMAIN_LIFECYCLE_PRESERVE) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'");
        return false;
    }
    if (off == VRT_DOMAIN_LIFECYCLE_RESTART && reboot == VRT_DOMAIN_LIFECYCLE_DESTROY) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'");
        return false;
    }
    return true;
}

bool
vrt_qemu_domain_set_lifecycle_action(VrtQemuDriver *drv, const guchar *uuid, guint type, guint action, guint flags,
                                     GError **error)
{
    static const char *const types[] = { "poweroff", "reboot", "crash" };
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtDomainDef) cfg = NULL;
    bool live, config;

    if (type >= LIFECYCLE_N) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid lifecycle type '%u'", type);
        return false;
    }
    if (action > VRT_DOMAIN_LIFECYCLE_COREDUMP_RESTART) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid lifecycle action '%u'", action);
        return false;
    }
    /* the API numbers rename-restart 2 and preserve 3, the XML's order the other way */
    if (action == 2 || action == 3)
        action = action == 2 ? VRT_DOMAIN_LIFECYCLE_RENAME_RESTART : VRT_DOMAIN_LIFECYCLE_PRESERVE;
    if (type != LIFECYCLE_CRASH &&
        (action == VRT_DOMAIN_LIFECYCLE_COREDUMP_DESTROY || action == VRT_DOMAIN_LIFECYCLE_COREDUMP_RESTART)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Lifecycle event '%s' doesn't support '%s' action",
                      types[type], vrt_domain_lifecycle_action_to_string(action));
        return false;
    }
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (config && !(cfg = vrt_qemu_dom_config_copy(obj, error)))
        return false;
    if (cfg && !lifecycle_validate(cfg, type, action, error))
        return false;
    if (live) {
        g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, error);
        VrtDomainLifecycleAction now;

        if (!mon)
            return false;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            if (!lifecycle_validate(obj->def, type, action, error))
                return false;
            now = *lifecycle_slot(obj->def, type);
        }
        /* QEMU resets on a guest's reboot, or (-no-reboot) shuts down so
         * that on_reboot=destroy ends it: set-action changes which. The
         * other actions are vrt's, when QEMU reports the event. */
        if (type == LIFECYCLE_REBOOT && now != action &&
            (action == VRT_DOMAIN_LIFECYCLE_DESTROY || action == VRT_DOMAIN_LIFECYCLE_RESTART)) {
            g_autoptr(JsonObject) args = json_object_new();
            g_autoptr(JsonNode) reply = NULL;

            json_object_set_string_member(args, "reboot",
                                          action == VRT_DOMAIN_LIFECYCLE_DESTROY ? "shutdown" : "reset");
            if (!(reply = vrt_qemu_monitor_command(mon, "set-action", args, 0, error)))
                return false;
        }
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            *lifecycle_slot(obj->def, type) = action;
            /* logged on failure: QEMU already acts so */
            vrt_qemu_dom_save_status_locked(obj, NULL);
        }
    }
    if (cfg) {
        *lifecycle_slot(cfg, type) = action;
        return vrt_qemu_dom_config_install(obj, g_steal_pointer(&cfg), error);
    }
    return true;
}

/* ---- wakeup (virsh dompmwakeup) ---- */

bool
vrt_qemu_domain_pm_wakeup(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    /* the WAKEUP event moves the state back to running (qemu_events.c) */
    return running_command(drv, uuid, "system_wakeup", error);
}

/*
 * A disk's <iotune>: applied to a QEMU that has just started (with
 * -blockdev, libvirt 9.0 gives each throttled disk's device its limits
 * with block_set_io_throttle, QEMU's throttle groups by group name, before
 * the CPUs run; vrt does the same), and changed or read later by virsh
 * blkdeviotune (virDomainSetBlockIoTune, virDomainGetBlockIoTune) on the
 * running QEMU, the persistent definition or both, with libvirt 9.0's
 * checks, merging and texts. The arguments are built apart
 * (vrt_qemu_disk_iotune_args) so the unit tests can check them.
 */
#include "drivers/qemu/qemu_disk_iotune.h"

#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* libvirt's QOM name of the device: a virtio disk's block backend is its
 * virtio-backend child, a USB disk's its SCSI disk's. */
char *
vrt_qemu_disk_qom_id(const VrtDomainDiskDef *disk)
{
    const char *alias = disk->info.alias ? disk->info.alias : "";

    if (disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO)
        return g_strdup_printf("/machine/peripheral/%s/virtio-backend", alias);
    if (disk->bus == VRT_DOMAIN_DISK_BUS_USB)
        return g_strdup_printf("/machine/peripheral/%s/%s.0/legacy[0]", alias, alias);
    return g_strdup(alias);
}

/* block_set_io_throttle's arguments: the device of disk, the limits t */
static JsonObject *
iotune_args(const VrtDomainDiskDef *disk, const VrtDiskIotune *t)
{
    JsonObject *args = json_object_new();
    g_autofree char *qom = vrt_qemu_disk_qom_id(disk);

    json_object_set_string_member(args, "id", qom);
    /* the six rates are required by QEMU; the rest as libvirt sends them
     * (bursts and I/O size always, group and lengths when set) */
    for (guint i = 0; i < VRT_IOTUNE_N; i++) {
        if (i == VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH && t->group_name)
            json_object_set_string_member(args, "group", t->group_name);
        if (i <= VRT_IOTUNE_SIZE_IOPS || t->v[i])
            json_object_set_int_member(args, vrt_iotune_qmp_names[i], (gint64)t->v[i]);
    }
    return args;
}

JsonObject *
vrt_qemu_disk_iotune_args(const VrtDomainDiskDef *disk)
{
    return iotune_args(disk, &disk->iotune);
}

/* libvirt's QEMU driver: the disks of one group must agree */
static bool
groups_agree(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *a = g_ptr_array_index(def->disks, i);

        for (guint j = i + 1; a->iotune.group_name && j < def->disks->len; j++) {
            const VrtDomainDiskDef *b = g_ptr_array_index(def->disks, j);

            if (g_strcmp0(a->iotune.group_name, b->iotune.group_name) == 0 &&
                !vrt_disk_iotune_equal(&a->iotune, &b->iotune)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "different iotunes for disks %s and %s", b->target_dev,
                              a->target_dev);
                return false;
            }
        }
    }
    return true;
}

bool
vrt_qemu_disk_iotune_check(const VrtDomainDef *def, GError **error)
{
    return groups_agree(def, error);
}

bool
vrt_qemu_disk_iotune_apply(VrtQemuMonitor *mon, const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *disk = g_ptr_array_index(def->disks, i);
        g_autoptr(JsonObject) args = NULL;
        g_autoptr(JsonNode) ret = NULL;

        /* an empty drive cannot be throttled (QEMU refuses), as libvirt skips it */
        if (!vrt_disk_iotune_has_any(&disk->iotune) || (!disk->src && !disk->net))
            continue;
        args = vrt_qemu_disk_iotune_args(disk);
        ret = vrt_qemu_monitor_command(mon, "block_set_io_throttle", args, 0, error);
        if (!ret)
            return false;
    }
    return true;
}

/* ---- virsh blkdeviotune ---- */

/* QEMU's limit on every value, as libvirt's QEMU driver checks it */
#define IOTUNE_VALUE_MAX 1000000000000000ULL
#define GROUP_NAME "group_name"

/* Which families a call sets, libvirt's qemuBlockIoTuneSetFlags: a family
 * not named keeps its current values. */
enum {
    SET_BYTES = 1 << 0,
    SET_IOPS = 1 << 1,
    SET_BYTES_MAX = 1 << 2,
    SET_IOPS_MAX = 1 << 3,
    SET_SIZE_IOPS = 1 << 4,
    SET_GROUP_NAME = 1 << 5,
    SET_BYTES_MAX_LENGTH = 1 << 6,
    SET_IOPS_MAX_LENGTH = 1 << 7,
};

static guint
field_family(guint i)
{
    static const guint family[VRT_IOTUNE_N] = {
        SET_BYTES,
        SET_BYTES,
        SET_BYTES,
        SET_IOPS,
        SET_IOPS,
        SET_IOPS,
        SET_BYTES_MAX,
        SET_BYTES_MAX,
        SET_BYTES_MAX,
        SET_IOPS_MAX,
        SET_IOPS_MAX,
        SET_IOPS_MAX,
        SET_SIZE_IOPS,
        SET_BYTES_MAX_LENGTH,
        SET_BYTES_MAX_LENGTH,
        SET_BYTES_MAX_LENGTH,
        SET_IOPS_MAX_LENGTH,
        SET_IOPS_MAX_LENGTH,
        SET_IOPS_MAX_LENGTH,
    };
    return family[i];
}

/* the field index of a parameter name, VRT_IOTUNE_N for group_name, -1 if unknown */
static int
field_index(const char *name)
{
    for (guint i = 0; i < VRT_IOTUNE_N; i++)
        if (g_str_equal(name, vrt_iotune_names[i]))
            return (int)i;
    return g_str_equal(name, GROUP_NAME) ? VRT_IOTUNE_N : -1;
}

/* The values a call gives (*t) and the families it names (*set), after
 * libvirt's checks of the values alone. */
static bool
params_read(GPtrArray *params, VrtDiskIotune *t, guint *set, GError **error)
{
    const char *names[VRT_IOTUNE_N + 1];
    const char *conflict;
    int types[VRT_IOTUNE_N + 1];

    for (guint i = 0; i < VRT_IOTUNE_N; i++) {
        names[i] = vrt_iotune_names[i];
        types[i] = VRT_TYPED_PARAM_ULLONG;
    }
    names[VRT_IOTUNE_N] = GROUP_NAME;
    types[VRT_IOTUNE_N] = VRT_TYPED_PARAM_STRING;
    if (!vrt_typed_params_validate(params, names, types, VRT_IOTUNE_N + 1, error))
        return false;
    *set = 0;
    for (guint i = 0; i < params->len; i++) {
        const VrtTypedParam *p = g_ptr_array_index(params, i);
        int k = field_index(p->field);

        if (k == VRT_IOTUNE_N) {
            g_free(t->group_name);
            t->group_name = g_strdup(p->v.s);
            *set |= SET_GROUP_NAME;
            continue;
        }
        if (p->v.ul > IOTUNE_VALUE_MAX) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                          "block I/O throttle limit value must be no more than %llu", IOTUNE_VALUE_MAX);
            return false;
        }
        t->v[k] = p->v.ul;
        *set |= field_family((guint)k);
    }
    if ((conflict = vrt_disk_iotune_total_conflict(t))) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "total and read/write of %s cannot be set at the same time",
                      conflict);
        return false;
    }
    return true;
}

/* The current limits a change merges with: those of the disk, or of the
 * group the change moves it into when another disk is in it already. */
static const VrtDiskIotune *
merge_base(const VrtDomainDef *def, const VrtDomainDiskDef *disk, const VrtDiskIotune *next)
{
    if (!next->group_name || g_strcmp0(disk->iotune.group_name, next->group_name) == 0)
        return &disk->iotune;
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (g_strcmp0(d->iotune.group_name, next->group_name) == 0)
            return &d->iotune;
    }
    return &disk->iotune;
}

/* libvirt's qemuDomainSetBlockIoTuneDefaults and its reset check: the
 * families the call does not name keep cur's values; a length the call
 * clears while its rate stays becomes 1, as QEMU wants; all zero removes
 * the throttling and the group, but cannot create or change a group. */
static bool
merge(VrtDiskIotune *next, const VrtDiskIotune *cur, guint set, const VrtDomainDiskDef *disk, GError **error)
{
    for (guint i = 0; i < VRT_IOTUNE_N; i++) {
        guint fam = field_family(i);

        if (!(set & fam))
            next->v[i] = cur->v[i];
        else if ((fam == SET_BYTES_MAX_LENGTH || fam == SET_IOPS_MAX_LENGTH) && cur->v[i] && !next->v[i]) {
            /* the length's rate and burst: 13 -> 0 and 6, and so on */
            guint rate = i - VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH;
            next->v[i] = (next->v[rate] || next->v[rate + VRT_IOTUNE_TOTAL_BYTES_MAX]) ? 1 : 0;
        }
    }
    if (!(set & SET_GROUP_NAME)) {
        g_free(next->group_name);
        next->group_name = g_strdup(cur->group_name);
    }
    if (!vrt_disk_iotune_has_any(next)) {
        if (next->group_name && g_strcmp0(next->group_name, disk->iotune.group_name) != 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "creating a new group/updating existing with all tune parameters zero is not supported");
            return false;
        }
        g_clear_pointer(&next->group_name, g_free);
    }
    next->set = vrt_disk_iotune_has_any(next) || next->v[VRT_IOTUNE_SIZE_IOPS] || next->group_name;
    return true;
}

/* libvirt's check before a live change: a burst needs its rate, at least
 * as large. (libvirt words a missing rate always as a reset.) */
static bool
check_bursts(const VrtDiskIotune *t, GError **error)
{
    for (guint i = 0; i <= VRT_IOTUNE_WRITE_IOPS; i++) {
        guint64 burst = t->v[i + VRT_IOTUNE_TOTAL_BYTES_MAX];

        if (!burst)
            continue;
        if (!t->v[i]) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "cannot reset '%s' when '%s' is set", vrt_iotune_names[i],
                          vrt_iotune_names[i + VRT_IOTUNE_TOTAL_BYTES_MAX]);
            return false;
        }
        if (burst < t->v[i]) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "value '%s' cannot be smaller than '%s'",
                          vrt_iotune_names[i + VRT_IOTUNE_TOTAL_BYTES_MAX], vrt_iotune_names[i]);
            return false;
        }
    }
    return true;
}

static void
iotune_copy(VrtDiskIotune *dst, const VrtDiskIotune *src)
{
    g_free(dst->group_name);
    *dst = *src;
    dst->group_name = g_strdup(src->group_name);
}

/* Installs t on disk and on every disk of its group, as libvirt's
 * qemuDomainSetGroupBlockIoTune: a group has one set of limits. */
static void
install(VrtDomainDef *def, VrtDomainDiskDef *disk, const VrtDiskIotune *t)
{
    iotune_copy(&disk->iotune, t);
    for (guint i = 0; t->group_name && i < def->disks->len; i++) {
        VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (g_strcmp0(d->iotune.group_name, t->group_name) == 0)
            iotune_copy(&d->iotune, t);
    }
}

/* The running domain's change: merged with the live disk's limits, given
 * to QEMU (not for an empty drive: QEMU refuses, and libvirt gives them
 * when a medium comes), then recorded in the live definition. */
static bool
set_live(VrtQemuDom *obj, const char *name, const VrtDiskIotune *given, guint set, GError **error)
{
    g_auto(VrtDiskIotune) next = { 0 };
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autofree char *target = NULL;

    iotune_copy(&next, given);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainDiskDef *disk = vrt_domain_def_find_disk_by_name(obj->def, name);

        if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return false;
        }
        if (!disk) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' not found in domain", name);
            return false;
        }
        if (!merge(&next, merge_base(obj->def, disk, &next), set, disk, error) || !check_bursts(&next, error))
            return false;
        if (disk->src || disk->net) {
            args = iotune_args(disk, &next);
            mon = vrt_qemu_monitor_ref(obj->mon);
        }
        target = g_strdup(disk->target_dev);
    }
    if (args) {
        g_autoptr(JsonNode) reply = vrt_qemu_monitor_command(mon, "block_set_io_throttle", args, 0, error);
        if (!reply)
            return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtDomainDiskDef *disk = vrt_domain_def_find_disk_by_target(obj->def, target);

    if (disk)
        install(obj->def, disk, &next);
    /* logged on failure: QEMU already has the new limits */
    vrt_qemu_dom_save_status_locked(obj, NULL);
    return true;
}

/* The persistent definition's change, merged with its disk's limits. */
static bool
set_config(VrtQemuDom *obj, const char *name, const VrtDiskIotune *given, guint set, GError **error)
{
    g_autoptr(VrtDomainDef) cfg = vrt_qemu_dom_config_copy(obj, error);
    g_auto(VrtDiskIotune) next = { 0 };
    VrtDomainDiskDef *disk;

    if (!cfg)
        return false;
    if (!(disk = vrt_domain_def_find_disk_by_name(cfg, name))) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "missing persistent configuration for disk '%s'", name);
        return false;
    }
    iotune_copy(&next, given);
    if (!merge(&next, merge_base(cfg, disk, &next), set, disk, error))
        return false;
    install(cfg, disk, &next);
    return vrt_qemu_dom_config_install(obj, g_steal_pointer(&cfg), error);
}

bool
vrt_qemu_domain_set_block_io_tune(VrtQemuDriver *drv, const guchar *uuid, const char *disk, GPtrArray *params,
                                  guint flags, GError **error)
{
    g_auto(VrtDiskIotune) given = { 0 };
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    guint set;
    bool live, config;

    if (!params_read(params, &given, &set, error))
        return false;
    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error) ||
        !vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (live && !set_live(obj, disk, &given, set, error))
        return false;
    return !config || set_config(obj, disk, &given, set, error);
}

JsonObject *
vrt_qemu_query_block_device(JsonNode *reply, const char *qom)
{
    JsonArray *arr = reply && JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;

    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *dev = json_array_get_object_element(arr, i);

        if (dev && (g_strcmp0(json_object_get_string_member_with_default(dev, "qdev", NULL), qom) == 0 ||
                    g_strcmp0(json_object_get_string_member_with_default(dev, "device", NULL), qom) == 0))
            return dev;
    }
    return NULL;
}

/* The limits QEMU applies to the disk's device (query-block): t's values. */
static bool
query_live(VrtQemuMonitor *mon, const char *qom, VrtDiskIotune *t, GError **error)
{
    g_autoptr(JsonNode) reply = vrt_qemu_monitor_command(mon, "query-block", NULL, 0, error);
    JsonObject *dev, *ins;

    if (!reply)
        return false;
    if (!(dev = vrt_qemu_query_block_device(reply, qom))) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find throttling info for device '%s'", qom);
        return false;
    }
    ins = json_object_has_member(dev, "inserted") ? json_object_get_object_member(dev, "inserted") : NULL;
    if (!ins) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s",
                      "block_io_throttle inserted entry was not in expected format");
        return false;
    }
    /* QEMU names a throttle group the disk was given none after the device:
     * the group is the definition's, read by the caller */
    for (guint k = 0; k < VRT_IOTUNE_N; k++)
        t->v[k] = (guint64)json_object_get_int_member_with_default(ins, vrt_iotune_qmp_names[k], 0);
    return true;
}

GPtrArray *
vrt_qemu_domain_get_block_io_tune(VrtQemuDriver *drv, const guchar *uuid, const char *disk, guint flags,
                                  bool count_only, GError **error)
{
    g_auto(VrtDiskIotune) t = { 0 };
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *qom = NULL;
    bool live, config;
    GPtrArray *out;

    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags & 3u, &live, &config, error))
        return NULL;
    if (count_only) {
        live = config = false;
    } else if (!disk) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "disk in virDomainGetBlockIoTune must not be NULL");
        return NULL;
    }
    if (live) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            const VrtDomainDiskDef *d = vrt_domain_def_find_disk_by_name(obj->def, disk);

            if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
                return NULL;
            }
            if (!d) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' not found in domain", disk);
                return NULL;
            }
            qom = vrt_qemu_disk_qom_id(d);
            mon = vrt_qemu_monitor_ref(obj->mon);
            t.group_name = g_strdup(d->iotune.group_name);
        }
        if (!query_live(mon, qom, &t, error))
            return NULL;
    } else if (config) {
        g_autoptr(VrtDomainDef) cfg = vrt_qemu_dom_config_copy(obj, error);
        const VrtDomainDiskDef *d = cfg ? vrt_domain_def_find_disk_by_name(cfg, disk) : NULL;

        if (!cfg)
            return NULL;
        if (!d) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' was not found in the domain config", disk);
            return NULL;
        }
        iotune_copy(&t, &d->iotune);
    }
    /* libvirt's order: the rates, bursts and I/O size, the group, the lengths */
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    for (guint k = 0; k < VRT_IOTUNE_N; k++) {
        VrtTypedParam *p = g_new0(VrtTypedParam, 1);

        if (k == VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH) {
            VrtTypedParam *g = g_new0(VrtTypedParam, 1);

            g->field = g_strdup(GROUP_NAME);
            g->type = VRT_TYPED_PARAM_STRING;
            g->v.s = g_strdup(t.group_name ? t.group_name : "");
            g_ptr_array_add(out, g);
        }
        p->field = g_strdup(vrt_iotune_names[k]);
        p->type = VRT_TYPED_PARAM_ULLONG;
        p->v.ul = t.v[k];
        g_ptr_array_add(out, p);
    }
    return out;
}

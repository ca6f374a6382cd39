/*
 * Internal snapshots (see qemu_snapshot.h). Every call that changes a
 * snapshot holds the domain's job; the list (obj->snapshots, each a
 * VrtSnapshotDef whose `current` marks the current one) is read and
 * changed under the object lock, so the lookups and lists need no job.
 * A running domain's snapshot goes through HMP (savevm, loadvm, delvm:
 * QEMU 7.2's QMP snapshot-save jobs need the block node names, which
 * -drive does not fix), a shut-off one's through `qemu-img snapshot` on
 * each qcow2 disk.
 */
#include "drivers/qemu/qemu_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain/snapshot_conf.h"
#include "drivers/qemu/qemu_security.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/xml.h"

/* libvirt's flags. */
#define CREATE_REDEFINE (1u << 0)
#define CREATE_CURRENT (1u << 1)
#define CREATE_NO_METADATA (1u << 2)
#define CREATE_HALT (1u << 3)
#define CREATE_DISK_ONLY (1u << 4)
#define CREATE_QUIESCE (1u << 6)
#define CREATE_LIVE (1u << 8)
#define LIST_ROOTS (1u << 0) /* LIST_DESCENDANTS for the children calls */
#define LIST_METADATA (1u << 1)
#define LIST_LEAVES (1u << 2)
#define LIST_NO_LEAVES (1u << 3)
#define LIST_NO_METADATA (1u << 4)
#define LIST_INACTIVE (1u << 5)
#define LIST_ACTIVE (1u << 6)
#define LIST_DISK_ONLY (1u << 7)
#define LIST_INTERNAL (1u << 8)
#define LIST_EXTERNAL (1u << 9)
#define REVERT_RUNNING (1u << 0)
#define REVERT_PAUSED (1u << 1)
#define DELETE_CHILDREN (1u << 0)
#define DELETE_METADATA_ONLY (1u << 1)
#define DELETE_CHILDREN_ONLY (1u << 2)
#define UNDEFINE_SNAPSHOTS_METADATA (1u << 1)

enum {
    SHUTOFF_FROM_SNAPSHOT = 7,
    EVENT_STOPPED_FROM_SNAPSHOT = 6,
};

/* ---- metadata files ---- */

static char *
snap_dir(VrtQemuDriver *drv, const char *dom)
{
    return g_build_filename(drv->lib_dir, "snapshot", dom, NULL);
}

static char *
snap_path(VrtQemuDriver *drv, const char *dom, const char *snap)
{
    g_autofree char *dir = snap_dir(drv, dom);
    g_autofree char *file = g_strconcat(snap, ".xml", NULL);
    return g_build_filename(dir, file, NULL);
}

static bool
save_meta(VrtQemuDriver *drv, const char *dom, const VrtSnapshotDef *def, GError **error)
{
    g_autofree char *dir = snap_dir(drv, dom);
    g_autofree char *path = snap_path(drv, dom, def->name);
    g_autofree char *xml = vrt_snapshot_def_format(def, true);
    if (!vrt_dir_ensure(dir, 0700, error) || !vrt_file_write_atomic(path, xml, -1, 0600, error))
        return false;
    vrt_dir_sync(dir);
    return true;
}

static void
remove_meta(VrtQemuDriver *drv, const char *dom, const char *snap)
{
    g_autofree char *path = snap_path(drv, dom, snap);
    g_autofree char *dir = snap_dir(drv, dom);
    unlink(path);
    rmdir(dir); /* when it was the last one */
}

void
vrt_qemu_snapshot_load(VrtQemuDom *obj)
{
    g_autofree char *dir = snap_dir(obj->drv, obj->def->name);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!obj->snapshots)
        obj->snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_snapshot_def_free);
    if (!d)
        return;
    const char *entry;
    while ((entry = g_dir_read_name(d))) {
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) err = NULL;
        VrtSnapshotDef *def = NULL;
        if (!vrt_file_read(path, &xml, NULL, &err) || !(def = vrt_snapshot_def_parse(xml, &err)) || !def->name) {
            g_warning("skipping snapshot metadata %s: %s", path, err ? err->message : "no name");
            vrt_snapshot_def_free(def);
            continue;
        }
        g_ptr_array_add(obj->snapshots, def);
    }
}

void
vrt_qemu_snapshot_clear(VrtQemuDom *obj)
{
    g_clear_pointer(&obj->snapshots, g_ptr_array_unref);
}

/* ---- the list (object lock held) ---- */

static void
ensure_list_locked(VrtQemuDom *obj)
{
    if (!obj->snapshots)
        obj->snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_snapshot_def_free);
}

static VrtSnapshotDef *
find_locked(VrtQemuDom *obj, const char *name)
{
    for (guint i = 0; obj->snapshots && i < obj->snapshots->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(obj->snapshots, i);
        if (g_str_equal(s->name, name))
            return s;
    }
    return NULL;
}

static VrtSnapshotDef *
require_locked(VrtQemuDom *obj, const char *name, GError **error)
{
    VrtSnapshotDef *s = find_locked(obj, name);
    if (!s)
        vrt_error_set(error, VIR_ERR_NO_DOMAIN_SNAPSHOT, "no domain snapshot with matching name '%s'", name);
    return s;
}

static VrtSnapshotDef *
current_locked(VrtQemuDom *obj)
{
    for (guint i = 0; obj->snapshots && i < obj->snapshots->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(obj->snapshots, i);
        if (s->current)
            return s;
    }
    return NULL;
}

static bool
has_children_locked(VrtQemuDom *obj, const char *name)
{
    ensure_list_locked(obj);
    for (guint i = 0; i < obj->snapshots->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(obj->snapshots, i);
        if (g_strcmp0(s->parent, name) == 0)
            return true;
    }
    return false;
}

static bool
internal(const VrtSnapshotDef *s)
{
    if (g_strcmp0(s->memory, "external") == 0)
        return false;
    for (guint i = 0; s->disks && i < s->disks->len; i++) {
        const VrtSnapshotDiskDef *d = g_ptr_array_index(s->disks, i);
        if (g_strcmp0(d->snapshot, "external") == 0)
            return false;
    }
    return true;
}

/* libvirt's filter groups: a group with none of its flags passes all. */
static bool
filter_locked(VrtQemuDom *obj, const VrtSnapshotDef *s, guint flags)
{
    bool leaf = !has_children_locked(obj, s->name);
    if ((flags & (LIST_LEAVES | LIST_NO_LEAVES)) &&
        !((flags & LIST_LEAVES && leaf) || (flags & LIST_NO_LEAVES && !leaf)))
        return false;
    if ((flags & (LIST_METADATA | LIST_NO_METADATA)) && !(flags & LIST_METADATA))
        return false; /* every snapshot vrt lists has metadata */
    if (flags & (LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY)) {
        const char *st = s->state ? s->state : "";
        bool disk = g_str_equal(st, "disk-snapshot");
        bool inactive = g_str_equal(st, "shutoff");
        if (!((flags & LIST_INACTIVE && inactive) || (flags & LIST_DISK_ONLY && disk) ||
              (flags & LIST_ACTIVE && !inactive && !disk)))
            return false;
    }
    if ((flags & (LIST_INTERNAL | LIST_EXTERNAL)) &&
        !((flags & LIST_INTERNAL && internal(s)) || (flags & LIST_EXTERNAL && !internal(s))))
        return false;
    return true;
}

static gint
by_creation(gconstpointer a, gconstpointer b)
{
    const VrtSnapshotDef *x = *(VrtSnapshotDef *const *)a, *y = *(VrtSnapshotDef *const *)b;
    if (x->creation_time != y->creation_time)
        return x->creation_time < y->creation_time ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

/* Adds the descendants of parent (NULL: the roots) in topological order,
 * each generation by creation time; only direct children unless deep. */
static void
walk_locked(VrtQemuDom *obj, const char *parent, bool deep, GPtrArray *out)
{
    g_autoptr(GPtrArray) kids = g_ptr_array_new();
    for (guint i = 0; i < obj->snapshots->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(obj->snapshots, i);
        if (g_strcmp0(s->parent, parent) == 0 || (!parent && s->parent && !find_locked(obj, s->parent)))
            g_ptr_array_add(kids, s);
    }
    g_ptr_array_sort(kids, by_creation);
    for (guint i = 0; i < kids->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(kids, i);
        g_ptr_array_add(out, s);
        if (deep)
            walk_locked(obj, s->name, true, out);
    }
}

/* ---- disks ---- */

/* The disks an internal snapshot covers: every writable disk, which must
 * be a qcow2 file. Object lock held. */
static GPtrArray *
snapshot_disks_locked(VrtQemuDom *obj, GError **error)
{
    const VrtDomainDef *def = obj->def;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);
        if (d->device != VRT_DOMAIN_DISK_DEVICE_DISK || d->readonly || !d->src)
            continue;
        if (d->format != VRT_DOMAIN_DISK_FORMAT_QCOW2) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                          "internal snapshot for disk %s unsupported for storage type %s", d->target_dev,
                          d->format == VRT_DOMAIN_DISK_FORMAT_RAW ? "raw" : "unknown");
            return NULL;
        }
        g_ptr_array_add(out, g_strdup(d->src));
    }
    if (out->len == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "internal and full system snapshots require all disks to be selected for snapshot");
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* qemu-img snapshot OP NAME on each file (a shut-off domain's disks). */
static bool
qemu_img(const char *op, const char *name, GPtrArray *files, GError **error)
{
    for (guint i = 0; i < files->len; i++) {
        const char *argv[] = { "qemu-img", "snapshot", op, name, g_ptr_array_index(files, i), NULL };
        g_autofree char *err_out = NULL;
        gint status = 0;
        g_autoptr(GError) gerr = NULL;
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                          &err_out, &status, &gerr)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "cannot run qemu-img: %s", gerr->message);
            return false;
        }
        if (!g_spawn_check_wait_status(status, NULL)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "qemu-img snapshot %s '%s' on '%s' failed: %s", op, name,
                          (char *)g_ptr_array_index(files, i), g_strstrip(err_out));
            return false;
        }
    }
    return true;
}

/* An HMP snapshot command on a running domain: QEMU reports its errors as
 * the command's output. */
static bool
hmp(VrtQemuMonitor *mon, const char *cmd, const char *name, GError **error)
{
    g_autofree char *line = g_strdup_printf("%s \"%s\"", cmd, name);
    g_autofree char *out = vrt_qemu_monitor_human(mon, line, error);
    if (!out)
        return false;
    g_strstrip(out);
    if (*out) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", out);
        return false;
    }
    return true;
}

/* A start inside this call's job runs as a start job: QEMU's STOP and
 * RESUME during it are the start's (qemu_process.c). */
static bool
start_in_job(VrtQemuDom *obj, guint flags, GError **error)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        obj->job = VRT_QEMU_JOB_START;
    }
    bool ok = vrt_qemu_process_start(obj, flags, error);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    obj->job = VRT_QEMU_JOB_SUSPEND;
    return ok;
}

static VrtQemuMonitor *
monitor_if_active(VrtQemuDom *obj, bool *active, int *state)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    *active = vrt_qemu_dom_is_active_locked(obj) && obj->mon;
    *state = obj->state;
    return *active ? vrt_qemu_monitor_ref(obj->mon) : NULL;
}

/* ---- calls ---- */

static VrtQemuDom *
find_with_job(VrtQemuDriver *drv, const guchar *uuid, VrtQemuJob *job, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj || !vrt_qemu_job_begin(job, obj, VRT_QEMU_JOB_SUSPEND, error))
        return NULL;
    return g_steal_pointer(&obj);
}

static bool
check_name(const char *name, GError **error)
{
    if (strchr(name, '/')) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "invalid snapshot name '%s': name can't contain '/'", name);
        return false;
    }
    if (name[0] == '.') {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "invalid snapshot name '%s': name can't start with '.'", name);
        return false;
    }
    return true;
}

/* Makes snap the only current snapshot and saves the files that changed. */
static void
set_current_locked(VrtQemuDom *obj, VrtSnapshotDef *snap)
{
    VrtSnapshotDef *old = current_locked(obj);
    if (old == snap)
        return;
    if (old) {
        old->current = false;
        save_meta(obj->drv, obj->def->name, old, NULL);
    }
    if (snap) {
        snap->current = true;
        save_meta(obj->drv, obj->def->name, snap, NULL);
    }
}

/* The overlay of disk d for snapshot name: as given, else libvirt's default
 * (the image's path with its extension replaced by the snapshot's name). */
static char *
overlay_path(const VrtSnapshotDef *def, const VrtDomainDiskDef *d)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtSnapshotDiskDef *sd = g_ptr_array_index(def->disks, i);
        if (g_strcmp0(sd->name, d->target_dev) == 0 && sd->source)
            return g_strdup(sd->source);
    }
    const char *dot = strrchr(d->src, '.');
    const char *slash = strrchr(d->src, '/');
    gsize base = dot && (!slash || dot > slash) ? (gsize)(dot - d->src) : strlen(d->src);
    return g_strdup_printf("%.*s.%s", (int)base, d->src, def->name);
}

/* The node name of the top of a running disk's chain (query-block). */
static char *
disk_node(VrtQemuMonitor *mon, const char *alias, GError **error)
{
    g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-block", NULL, 0, error);
    if (!node)
        return NULL;
    JsonArray *arr = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *qdev = json_object_get_string_member_with_default(o, "qdev", "");
        JsonObject *ins = json_object_has_member(o, "inserted") ? json_object_get_object_member(o, "inserted") : NULL;
        const char *peripheral = "/machine/peripheral/";
        /* "/machine/peripheral/ALIAS", for virtio "/machine/peripheral/ALIAS/virtio-backend". */
        const char *rest = g_str_has_prefix(qdev, peripheral) ? qdev + strlen(peripheral) : qdev;
        gsize n = strlen(alias);
        bool mine = *alias && strncmp(rest, alias, n) == 0 && (rest[n] == '\0' || rest[n] == '/');
        if (ins && mine)
            return g_strdup(json_object_get_string_member_with_default(ins, "node-name", ""));
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find the block node of disk '%s'", alias);
    return NULL;
}

/* An empty overlay file, 0600, labelled for QEMU's user. */
static bool
make_overlay_file(VrtQemuDriver *drv, const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create the overlay '%s'", path);
        return false;
    }
    close(fd);
    if (!vrt_qemu_security_label_path(&drv->sec, path, error)) {
        unlink(path);
        return false;
    }
    return true;
}

/* An external disk-only snapshot: each writable disk gets a qcow2 overlay
 * whose backing file is its image (qemu-img on a shut-off domain,
 * blockdev-snapshot-sync on a running one), and the domain's definitions
 * then point to the overlays, as libvirt's do. Job held. */
static char *
create_external(VrtQemuDom *obj, VrtSnapshotDef *sdef, guint flags, GError **error)
{
    g_autoptr(VrtSnapshotDef) def = sdef;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(VrtDomainDef) config = NULL;
    g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) overlays = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
    bool active, persistent;
    int state;

    if (!check_name(def->name, error))
        return NULL;
    mon = monitor_if_active(obj, &active, &state);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (find_locked(obj, def->name)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain snapshot '%s' already exists", def->name);
            return NULL;
        }
        persistent = obj->persistent;
        for (guint i = 0; obj->def->disks && i < obj->def->disks->len; i++) {
            const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);
            if (d->device != VRT_DOMAIN_DISK_DEVICE_DISK || d->readonly || !d->src)
                continue;
            g_ptr_array_add(targets, g_strdup(d->target_dev));
            g_ptr_array_add(overlays, overlay_path(def, d));
            g_ptr_array_add(nodes, g_strdup(d->info.alias ? d->info.alias : ""));
        }
        def->domain_xml = vrt_domain_def_format(obj->def, VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE, error);
        if (!def->domain_xml)
            return NULL;
        VrtSnapshotDef *cur = current_locked(obj);
        g_free(def->parent);
        def->parent = cur ? g_strdup(cur->name) : NULL;
    }
    if (targets->len == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "disk-only snapshots require at least one disk to be selected for snapshot");
        return NULL;
    }
    for (guint i = 0; i < overlays->len; i++) {
        if (g_file_test(g_ptr_array_index(overlays, i), G_FILE_TEST_EXISTS)) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                          "external snapshot file for disk %s already exists and is not a block device: %s",
                          (char *)g_ptr_array_index(targets, i), (char *)g_ptr_array_index(overlays, i));
            return NULL;
        }
    }
    /* The overlays, disk by disk. */
    for (guint i = 0; i < targets->len; i++) {
        const char *overlay = g_ptr_array_index(overlays, i);
        if (active) {
            g_autofree char *node = disk_node(mon, g_ptr_array_index(nodes, i), error);
            if (!node)
                return NULL;
            g_autoptr(JsonObject) args = json_object_new();
            g_autofree char *snap_node =
                g_strdup_printf("vrt-snap-%s-%s", (char *)g_ptr_array_index(targets, i), def->name);
            json_object_set_string_member(args, "node-name", node);
            json_object_set_string_member(args, "snapshot-file", overlay);
            json_object_set_string_member(args, "snapshot-node-name", snap_node);
            json_object_set_string_member(args, "format", "qcow2");
            /* vrtd makes the overlay's file and gives it to QEMU's user
             * (labelled as the domain's other files, the stop gives it
             * back): QEMU, unprivileged, formats it but could not create
             * it in a directory of root's. */
            if (!make_overlay_file(obj->drv, overlay, error))
                return NULL;
            g_autoptr(JsonNode) r = vrt_qemu_monitor_command(mon, "blockdev-snapshot-sync", args, 0, error);
            if (!r) {
                unlink(overlay);
                return NULL;
            }
        } else {
            g_autofree char *src = NULL;
            const char *fmt = "raw";
            {
                g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
                for (guint j = 0; j < obj->def->disks->len; j++) {
                    const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, j);
                    if (g_strcmp0(d->target_dev, g_ptr_array_index(targets, i)) == 0) {
                        src = g_strdup(d->src);
                        fmt = d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw";
                    }
                }
            }
            const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b", src, overlay, NULL };
            g_autofree char *err_out = NULL;
            gint status = 0;
            g_autoptr(GError) gerr = NULL;
            if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                              NULL, &err_out, &status, &gerr) ||
                !g_spawn_check_wait_status(status, NULL)) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "cannot create the overlay '%s': %s", overlay,
                              gerr ? gerr->message : g_strstrip(err_out));
                return NULL;
            }
        }
    }
    /* The definitions now point to the overlays. */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        for (guint i = 0; i < targets->len; i++) {
            for (guint j = 0; j < obj->def->disks->len; j++) {
                VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, j);
                if (g_strcmp0(d->target_dev, g_ptr_array_index(targets, i)) == 0) {
                    g_free(d->src);
                    d->src = g_strdup(g_ptr_array_index(overlays, i));
                    d->format = VRT_DOMAIN_DISK_FORMAT_QCOW2;
                }
            }
        }
        if (active)
            vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    if (persistent) {
        config = vrt_qemu_dom_config_copy(obj, error);
        if (!config)
            return NULL;
        for (guint i = 0; i < targets->len; i++) {
            for (guint j = 0; j < config->disks->len; j++) {
                VrtDomainDiskDef *d = g_ptr_array_index(config->disks, j);
                if (g_strcmp0(d->target_dev, g_ptr_array_index(targets, i)) == 0) {
                    g_free(d->src);
                    d->src = g_strdup(g_ptr_array_index(overlays, i));
                    d->format = VRT_DOMAIN_DISK_FORMAT_QCOW2;
                }
            }
        }
        if (!active) {
            if (!vrt_qemu_dom_save_config(obj, config, error))
                return NULL;
        } else {
            if (!vrt_qemu_dom_config_install(obj, g_steal_pointer(&config), error))
                return NULL;
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            obj->updated = false; /* the live definition has the same disks */
        }
    }
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    g_free(def->state);
    def->state = g_strdup("disk-snapshot");
    g_free(def->memory);
    def->memory = g_strdup("no");
    g_ptr_array_set_size(def->disks, 0);
    for (guint i = 0; i < targets->len; i++) {
        VrtSnapshotDiskDef *sd = g_new0(VrtSnapshotDiskDef, 1);
        sd->name = g_strdup(g_ptr_array_index(targets, i));
        sd->snapshot = g_strdup("external");
        sd->source = g_strdup(g_ptr_array_index(overlays, i));
        g_ptr_array_add(def->disks, sd);
    }
    if (flags & CREATE_NO_METADATA)
        return g_strdup(def->name);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    if (!save_meta(obj->drv, obj->def->name, def, error))
        return NULL;
    VrtSnapshotDef *snap = g_steal_pointer(&def);
    ensure_list_locked(obj);
    g_ptr_array_add(obj->snapshots, snap);
    set_current_locked(obj, snap);
    return g_strdup(snap->name);
}

char *
vrt_qemu_snapshot_create_xml(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtSnapshotDef) def = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GPtrArray) files = NULL;
    bool active;
    int state;

    if (flags & CREATE_QUIESCE && !(flags & CREATE_DISK_ONLY)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE' requires flag "
                      "'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY'");
        return NULL;
    }
    if (flags & CREATE_QUIESCE) {
        /* Freezing the guest's file systems needs its agent, which vrt has not. */
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "QEMU guest agent is not configured");
        return NULL;
    }
    /* VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE: libvirt's schema first */
    if ((flags & (1u << 9)) && !vrt_xml_validate_string(xml, "(domain_snapshot)", "domainsnapshot.rng", error))
        return NULL;
    if (!(def = vrt_snapshot_def_parse(xml, error)))
        return NULL;
    if (!(obj = find_with_job(drv, uuid, &job, error)))
        return NULL;
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    if (!check_name(def->name, error))
        return NULL;
    if (!(flags & CREATE_REDEFINE) && (flags & CREATE_DISK_ONLY || !internal(def)))
        return create_external(obj, g_steal_pointer(&def), flags, error);
    mon = monitor_if_active(obj, &active, &state);
    if (flags & CREATE_LIVE) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "live snapshot creation is supported only during full system snapshots");
        return NULL;
    }
    if (flags & CREATE_REDEFINE) {
        /* Metadata for a snapshot that exists in the images already. */
        if (!def->state || !def->creation_time) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing state or creationTime from existing snapshot");
            return NULL;
        }
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtSnapshotDef *old = find_locked(obj, def->name);
        if (old)
            g_ptr_array_remove(obj->snapshots, old);
        def->current = false;
        if (!save_meta(drv, obj->def->name, def, error))
            return NULL;
        VrtSnapshotDef *snap = g_steal_pointer(&def);
        ensure_list_locked(obj);
        g_ptr_array_add(obj->snapshots, snap);
        if (flags & CREATE_CURRENT)
            set_current_locked(obj, snap);
        return g_strdup(snap->name);
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (find_locked(obj, def->name)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain snapshot '%s' already exists", def->name);
            return NULL;
        }
        files = snapshot_disks_locked(obj, error);
        if (!files)
            return NULL;
        def->domain_xml = vrt_domain_def_format(obj->def, VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE, error);
        if (!def->domain_xml)
            return NULL;
        VrtSnapshotDef *cur = current_locked(obj);
        g_free(def->parent);
        def->parent = cur ? g_strdup(cur->name) : NULL;
    }
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    g_free(def->state);
    def->state = g_strdup(vrt_qemu_state_to_string(active ? state : VRT_DOMAIN_SHUTOFF));
    g_free(def->memory);
    def->memory = g_strdup(active ? "internal" : "no");
    g_ptr_array_set_size(def->disks, 0);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        for (guint i = 0; i < obj->def->disks->len; i++) {
            const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);
            if (d->device != VRT_DOMAIN_DISK_DEVICE_DISK)
                continue;
            VrtSnapshotDiskDef *sd = g_new0(VrtSnapshotDiskDef, 1);
            sd->name = g_strdup(d->target_dev);
            sd->snapshot = g_strdup(d->readonly || !d->src ? "no" : "internal");
            g_ptr_array_add(def->disks, sd);
        }
    }
    if (active ? !hmp(mon, "savevm", def->name, error) : !qemu_img("-c", def->name, files, error))
        return NULL;
    if (flags & CREATE_HALT && active) {
        vrt_qemu_process_stop(obj, SHUTOFF_FROM_SNAPSHOT, EVENT_STOPPED_FROM_SNAPSHOT);
    }
    if (flags & CREATE_NO_METADATA)
        return g_steal_pointer(&def->name);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    def->current = false;
    if (!save_meta(drv, obj->def->name, def, error))
        return NULL;
    VrtSnapshotDef *snap = g_steal_pointer(&def);
    ensure_list_locked(obj);
    g_ptr_array_add(obj->snapshots, snap);
    set_current_locked(obj, snap);
    return g_strdup(snap->name);
}

char *
vrt_qemu_snapshot_get_xml(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    (void)flags;
    if (!obj)
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = require_locked(obj, name, error);
    return s ? vrt_snapshot_def_format(s, false) : NULL;
}

GPtrArray *
vrt_qemu_snapshot_list(VrtQemuDriver *drv, const guchar *uuid, const char *parent, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    ensure_list_locked(obj);
    if (parent) {
        if (!require_locked(obj, parent, error))
            return NULL;
        walk_locked(obj, parent, flags & LIST_ROOTS, all); /* LIST_DESCENDANTS */
    } else {
        walk_locked(obj, NULL, !(flags & LIST_ROOTS), all);
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        VrtSnapshotDef *s = g_ptr_array_index(all, i);
        if (filter_locked(obj, s, flags))
            g_ptr_array_add(names, g_strdup(s->name));
    }
    return names;
}

bool
vrt_qemu_snapshot_lookup(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    return require_locked(obj, name, error) != NULL;
}

char *
vrt_qemu_snapshot_current(VrtQemuDriver *drv, const guchar *uuid, bool *none, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = current_locked(obj);
    *none = !s;
    if (!s)
        vrt_error_set(error, VIR_ERR_NO_DOMAIN_SNAPSHOT, "%s", "the domain does not have a current snapshot");
    return s ? g_strdup(s->name) : NULL;
}

char *
vrt_qemu_snapshot_get_parent(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = require_locked(obj, name, error);
    if (!s)
        return NULL;
    if (!s->parent) {
        vrt_error_set(error, VIR_ERR_NO_DOMAIN_SNAPSHOT, "snapshot '%s' does not have a parent", s->name);
        return NULL;
    }
    return g_strdup(s->parent);
}

int
vrt_qemu_snapshot_is_current(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return -1;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = require_locked(obj, name, error);
    return s ? s->current : -1;
}

bool
vrt_qemu_snapshot_revert(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GPtrArray) files = NULL;
    g_autofree char *state = NULL;
    bool active;
    int dstate;

    if ((flags & REVERT_RUNNING) && (flags & REVERT_PAUSED)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "Flags 'VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING' and 'VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED' are "
                      "mutually exclusive");
        return false;
    }
    if (!(obj = find_with_job(drv, uuid, &job, error)))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtSnapshotDef *s = require_locked(obj, name, error);
        if (!s)
            return false;
        state = g_strdup(s->state);
        if (!internal(s)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "revert to external snapshot not supported yet");
            return false;
        }
        files = snapshot_disks_locked(obj, error);
        if (!files)
            return false;
    }
    bool with_memory = g_strcmp0(state, "running") == 0 || g_strcmp0(state, "paused") == 0;
    mon = monitor_if_active(obj, &active, &dstate);
    if (with_memory) {
        bool run = flags & REVERT_RUNNING ? true : flags & REVERT_PAUSED ? false : g_str_equal(state, "running");
        if (!active) {
            if (!start_in_job(obj, VRT_DOMAIN_START_PAUSED, error))
                return false;
            g_clear_pointer(&mon, vrt_qemu_monitor_unref);
            mon = monitor_if_active(obj, &active, &dstate);
            if (!mon) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "guest unexpectedly quit");
                return false;
            }
        } else if (dstate == VRT_DOMAIN_RUNNING && !vrt_qemu_monitor_stop(mon, error)) {
            return false;
        }
        if (!hmp(mon, "loadvm", name, error))
            return false;
        if (run && !vrt_qemu_monitor_cont(mon, error))
            return false;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            if (run)
                vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING, 4 /* FROM_SNAPSHOT */);
            else
                vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, 7 /* FROM_SNAPSHOT */);
            vrt_qemu_dom_save_status_locked(obj, NULL);
        }
    } else {
        /* A shut-off snapshot: the domain stops, its disks go back. */
        if (active)
            vrt_qemu_process_stop(obj, SHUTOFF_FROM_SNAPSHOT, EVENT_STOPPED_FROM_SNAPSHOT);
        if (!qemu_img("-a", name, files, error))
            return false;
        if (flags & (REVERT_RUNNING | REVERT_PAUSED)) {
            if (!start_in_job(obj, flags & REVERT_PAUSED ? VRT_DOMAIN_START_PAUSED : 0, error))
                return false;
        }
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = find_locked(obj, name);
    if (s)
        set_current_locked(obj, s);
    return true;
}

/* Deletes one snapshot's data and metadata; its children move up to its
 * parent, and it hands being current to its parent. Job held. */
static bool
delete_one(VrtQemuDom *obj, const char *name, bool metadata_only, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GPtrArray) files = NULL;
    bool active;
    int dstate;

    if (!metadata_only) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            VrtSnapshotDef *s = find_locked(obj, name);
            if (s && !internal(s)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                              "deletion of external disk snapshots is not supported by vrt (delete its metadata only)");
                return false;
            }
            files = snapshot_disks_locked(obj, error);
            if (!files)
                return false;
        }
        mon = monitor_if_active(obj, &active, &dstate);
        if (active ? !hmp(mon, "delvm", name, error) : !qemu_img("-d", name, files, error))
            return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtSnapshotDef *s = find_locked(obj, name);
    if (!s)
        return true;
    for (guint i = 0; i < obj->snapshots->len; i++) {
        VrtSnapshotDef *c = g_ptr_array_index(obj->snapshots, i);
        if (g_strcmp0(c->parent, name) == 0) {
            g_free(c->parent);
            c->parent = g_strdup(s->parent);
            save_meta(obj->drv, obj->def->name, c, NULL);
        }
    }
    if (s->current && s->parent) {
        VrtSnapshotDef *p = find_locked(obj, s->parent);
        if (p) {
            p->current = true;
            save_meta(obj->drv, obj->def->name, p, NULL);
        }
    }
    remove_meta(obj->drv, obj->def->name, name);
    g_ptr_array_remove(obj->snapshots, s);
    return true;
}

bool
vrt_qemu_snapshot_delete(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, &job, error);
    g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(g_free);

    if (!obj)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (!require_locked(obj, name, error))
            return false;
        if (flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY)) {
            g_autoptr(GPtrArray) desc = g_ptr_array_new();
            walk_locked(obj, name, true, desc);
            /* Leaves first, so no child is reparented to a doomed parent. */
            for (guint i = desc->len; i > 0; i--)
                g_ptr_array_add(doomed, g_strdup(((VrtSnapshotDef *)g_ptr_array_index(desc, i - 1))->name));
        }
        if (!(flags & DELETE_CHILDREN_ONLY))
            g_ptr_array_add(doomed, g_strdup(name));
    }
    for (guint i = 0; i < doomed->len; i++) {
        if (!delete_one(obj, g_ptr_array_index(doomed, i), flags & DELETE_METADATA_ONLY, error))
            return false;
    }
    return true;
}

bool
vrt_qemu_snapshot_undefine_check(VrtQemuDom *obj, guint flags, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    guint n = obj->snapshots ? obj->snapshots->len : 0;
    if (n == 0 || vrt_qemu_dom_is_active_locked(obj))
        return true;
    if (!(flags & UNDEFINE_SNAPSHOTS_METADATA)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot delete inactive domain with %u snapshots", n);
        return false;
    }
    while (obj->snapshots->len) {
        VrtSnapshotDef *s = g_ptr_array_index(obj->snapshots, 0);
        remove_meta(obj->drv, obj->def->name, s->name);
        g_ptr_array_remove_index(obj->snapshots, 0);
    }
    return true;
}

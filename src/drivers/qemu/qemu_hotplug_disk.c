/*
 * Live attach and detach of disks, in libvirt's order: the disk gets its
 * address and alias as at start, then QEMU gets its block nodes
 * (blockdev-add, storage then format, built by qemu_command.c exactly as
 * the command line's -blockdev) and its device (device_add); a failure
 * undoes what was added, newest first, and leaves the definition as it
 * was. Detach is device_del, the same wait for the guest as an interface's
 * unplug, then blockdev-del of the nodes once QEMU reports DEVICE_DELETED;
 * a disk whose unplug is still pending stays in the live XML and is noted
 * in the status file (<unplug-pending>), so a restarted vrtd finishes it.
 * Block nodes are named "vrt-N-..." as at start; a hotplugged disk takes the
 * first N QEMU does not use.
 */
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_hostdev.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *
bus_name(VrtDomainDiskBus bus)
{
    static const char *const names[] = { "virtio", "sata", "scsi", "ide", "fdc", "usb", "sd" };

    return (guint)bus < G_N_ELEMENTS(names) ? names[bus] : "unknown";
}

/* The number after "vrt-" of every block node QEMU has, so that a new
 * disk's nodes cannot clash with a disk's from start or an earlier attach. */
static guint
next_node_index(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(JsonNode) reply = vrt_qemu_monitor_command(mon, "query-named-block-nodes", NULL, 0, error);
    JsonArray *arr;
    guint max = 0;

    if (!reply)
        return 0;
    arr = JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *n = json_array_get_object_element(arr, i);
        const char *name = n ? json_object_get_string_member_with_default(n, "node-name", NULL) : NULL;
        guint v;

        if (name && sscanf(name, "vrt-%u-", &v) == 1 && v > max)
            max = v;
    }
    return max + 1;
}

/* object-del of a secret object a disk's nodes used (its passphrase's,
 * its <auth>'s); one already gone is not an error worth more than debug. */
static void
secret_del(VrtQemuDom *obj, VrtQemuMonitor *mon, const char *id)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) reply = NULL;
    g_autoptr(GError) err = NULL;

    json_object_set_string_member(args, "id", id);
    reply = vrt_qemu_monitor_command(mon, "object-del", args, 0, &err);
    if (!reply)
        g_debug("domain %s: object-del %s: %s", obj->def->name, id, err->message);
}

static bool
blockdev_del(VrtQemuMonitor *mon, const char *node, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) reply = NULL;

    json_object_set_string_member(args, "node-name", node);
    reply = vrt_qemu_monitor_command(mon, "blockdev-del", args, 0, error);
    return reply != NULL;
}

/* What libvirt checks before QEMU sees a disk: a bus that can be
 * hotplugged, its controller, and a source the daemon can reach. */
static bool
check_disk_locked(VrtQemuDom *obj, const VrtDomainDiskDef *disk, GError **error)
{
    struct stat st;

    if (disk->device == VRT_DOMAIN_DISK_DEVICE_CDROM || disk->device == VRT_DOMAIN_DISK_DEVICE_FLOPPY) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "No device with bus '%s' and target '%s'. cdrom and floppy device hotplug isn't supported by "
                      "libvirt",
                      bus_name(disk->bus), disk->target_dev);
        return false;
    }
    if (disk->bus != VRT_DOMAIN_DISK_BUS_VIRTIO && disk->bus != VRT_DOMAIN_DISK_BUS_SCSI) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "disk bus '%s' cannot be hotplugged.", bus_name(disk->bus));
        return false;
    }
    if (disk->bus == VRT_DOMAIN_DISK_BUS_SCSI) {
        bool found = false;

        for (guint i = 0; obj->def->controllers && i < obj->def->controllers->len; i++) {
            const VrtDomainControllerDef *c = g_ptr_array_index(obj->def->controllers, i);

            if (c->type == VRT_DOMAIN_CONTROLLER_SCSI && c->index == disk->info.drive.controller)
                found =
                    g_strcmp0(c->model, "virtio-scsi") == 0 || g_strcmp0(c->model, "lsilogic") == 0 || c->model == NULL;
        }
        if (!found) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                          "disk '%s' needs a virtio-scsi or lsilogic controller with index %u, which the domain does "
                          "not have",
                          disk->target_dev, disk->info.drive.controller);
            return false;
        }
    }
    if (disk->net) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "live attach of network disk '%s' is not supported",
                      disk->target_dev);
        return false;
    }
    if (!disk->src) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s' has no source", disk->target_dev);
        return false;
    }
    if (stat(disk->src, &st) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot access storage file '%s'", disk->src);
        return false;
    }
    return true;
}

bool
vrt_qemu_hotplug_disk_attach(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error)
{
    VrtDomainDiskDef *disk = dev->data.disk;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GError) undo = NULL;
    VrtQemuDiskProps p = { 0 };
    g_autoptr(GHashTable) secrets = NULL;
    JsonObject *objects[2] = { NULL, NULL };
    guint objects_added = 0;
    guint added = 0;
    guint n;
    bool ok = false;

    if (!vrt_qemu_process_resolve_volume(obj->drv, disk, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return false;
        }
        /* target uniqueness ("target vdb already exists"), drive address,
         * PCI slot and alias as at start */
        if (!vrt_domain_def_assign_device_address(obj->def, dev, error) || !check_disk_locked(obj, disk, error))
            return false;
        /* the limits are given at start only (qemu_disk_iotune.c): a live
         * attach is refused rather than left unthrottled */
        if (vrt_disk_iotune_has_any(&disk->iotune)) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "disk '%s': <iotune> is not supported on a live attach",
                          disk->target_dev);
            return false;
        }
        mon = vrt_qemu_monitor_ref(obj->mon);
    }
    n = next_node_index(mon, error);
    if (n == 0)
        return false;
    /* a LUKS passphrase in a file QEMU's user reads once, at object-add;
     * the file goes with the table when this call returns */
    if (!(secrets = vrt_qemu_process_disk_secrets(obj, disk, error)))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_command_disk_props(obj->def, disk, n, secrets, &p, error)) {
            vrt_qemu_disk_props_clear(&p);
            return false;
        }
    }
    objects[0] = p.secret;
    objects[1] = p.auth;
    if (!vrt_qemu_disk_label(obj, disk, true, error))
        goto out;
    for (; objects_added < G_N_ELEMENTS(objects); objects_added++) {
        g_autoptr(JsonNode) reply = NULL;

        if (!objects[objects_added])
            continue;
        if (!(reply = vrt_qemu_monitor_command(mon, "object-add", objects[objects_added], 0, error)))
            goto undo;
    }
    for (; added < p.blockdevs->len; added++) {
        g_autoptr(JsonNode) reply =
            vrt_qemu_monitor_command(mon, "blockdev-add", g_ptr_array_index(p.blockdevs, added), 0, error);

        if (!reply)
            goto undo;
    }
    if (!vrt_qemu_monitor_device_add(mon, p.device, error))
        goto undo;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        vrt_domain_def_disk_insert(obj->def, g_steal_pointer(&dev->data.disk));
        /* QEMU has the disk and so does the live definition: a status file
         * that cannot be written is the call's failure, as in libvirt. */
        ok = vrt_qemu_dom_save_status_locked(obj, error);
    }
    goto out;

undo:
    while (added-- > 0) {
        const char *node = json_object_get_string_member(g_ptr_array_index(p.blockdevs, added), "node-name");

        if (!blockdev_del(mon, node, &undo)) {
            g_warning("domain %s: rollback of block node %s failed: %s", obj->def->name, node, undo->message);
            g_clear_error(&undo);
        }
    }
    while (objects_added-- > 0) {
        if (objects[objects_added])
            secret_del(obj, mon, json_object_get_string_member(objects[objects_added], "id"));
    }
    if (!vrt_qemu_disk_label(obj, disk, false, &undo))
        g_warning("domain %s: access to %s not revoked: %s", obj->def->name, disk->src, undo->message);
out:
    vrt_qemu_disk_props_clear(&p);
    return ok;
}

/* The one wait for the guest, as the interface unplug's: until QEMU's
 * DEVICE_DELETED (noted in unplug_done by the event thread) or the timeout. */
static bool
wait_deleted(VrtQemuDom *obj, VrtQemuMonitor *mon, const char *alias)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)obj->drv->cfg.unplug_wait_ms * 1000;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    while (!g_hash_table_contains(obj->unplug_done, alias) && !vrt_qemu_monitor_is_closed(mon)) {
        if (!g_cond_wait_until(&obj->cond, &obj->lock, deadline))
            break;
    }
    return g_hash_table_contains(obj->unplug_done, alias);
}

bool
vrt_qemu_hotplug_disk_detach(VrtQemuDom *obj, const char *alias, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainDiskDef *disk = NULL;

        for (guint i = 0; i < obj->def->disks->len && !disk; i++) {
            const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

            if (g_strcmp0(d->info.alias, alias) == 0)
                disk = d;
        }
        if (!disk) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "no device found with alias %s", alias);
            return false;
        }
        if (disk->device == VRT_DOMAIN_DISK_DEVICE_CDROM) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "disk device type '%s' cannot be detached", "cdrom");
            return false;
        }
        if (disk->bus != VRT_DOMAIN_DISK_BUS_VIRTIO && disk->bus != VRT_DOMAIN_DISK_BUS_SCSI) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "This type of disk cannot be hot unplugged");
            return false;
        }
        if (!obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return false;
        }
        mon = vrt_qemu_monitor_ref(obj->mon);
    }
    if (!vrt_qemu_monitor_device_del(mon, alias, error))
        return false;
    if (wait_deleted(obj, mon, alias)) {
        vrt_qemu_hotplug_device_deleted(obj, alias);
        return true;
    }
    /* libvirt's "detaching ... timed out": the call succeeds, the disk
     * stays until QEMU confirms; the status file says it is on its way. */
    g_info("domain %s: guest has not released %s yet; its removal completes when QEMU reports it", obj->def->name,
           alias);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    g_hash_table_add(obj->unplug_pending, g_strdup(alias));
    return vrt_qemu_dom_save_status_locked(obj, error);
}

/* The nodes of a disk are the "vrt-N-..." nodes (and its copy-on-read
 * layer) on its file: deleted top first, as libvirt does. */
void
vrt_qemu_hotplug_disk_removed(VrtQemuDom *obj, VrtQemuMonitor *mon, const VrtDomainDiskDef *disk)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) reply = NULL;
    g_autofree char *cor = NULL;
    g_autoptr(GPtrArray) formats = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) storages = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func(g_free);
    JsonArray *arr;

    if (!disk->src || !mon)
        return;
    reply = vrt_qemu_monitor_command(mon, "query-named-block-nodes", NULL, 0, &err);
    if (!reply) {
        g_warning("domain %s: block nodes of %s left: %s", obj->def->name, disk->target_dev, err->message);
        return;
    }
    cor = g_strdup_printf("vrt-CoR-%s", disk->target_dev);
    arr = JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *n = json_array_get_object_element(arr, i);
        const char *name = n ? json_object_get_string_member_with_default(n, "node-name", NULL) : NULL;
        const char *file = n ? json_object_get_string_member_with_default(n, "file", NULL) : NULL;

        if (!name || !g_str_has_prefix(name, "vrt-") || g_strcmp0(file, disk->src) != 0)
            continue;
        if (g_str_has_suffix(name, "-storage"))
            g_ptr_array_add(storages, g_strdup(name));
        else if (g_str_has_suffix(name, "-format"))
            g_ptr_array_add(formats, g_strdup(name));
    }
    /* A format node with options beyond its file (a LUKS key secret) shows
     * a json: pseudo-filename, not the image's: each storage node's own
     * format node ("vrt-N-format" over "vrt-N-storage") goes too. */
    for (guint i = 0; i < storages->len; i++) {
        guint n;

        if (sscanf(g_ptr_array_index(storages, i), "vrt-%u-storage", &n) == 1) {
            g_autofree char *fmt = g_strdup_printf("vrt-%u-format", n);

            if (!g_ptr_array_find_with_equal_func(formats, fmt, g_str_equal, NULL))
                g_ptr_array_add(formats, g_steal_pointer(&fmt));
        }
    }
    if (disk->tuning.copy_on_read == 1 && !blockdev_del(mon, cor, &err)) {
        g_debug("domain %s: blockdev-del %s: %s", obj->def->name, cor, err->message);
        g_clear_error(&err);
    }
    /* the passphrase objects of the format nodes go after the nodes */
    for (guint i = 0; disk->encryption_format && i < formats->len; i++) {
        guint n;

        if (sscanf(g_ptr_array_index(formats, i), "vrt-%u-format", &n) == 1)
            g_ptr_array_add(secrets, g_strdup_printf("vrt-%u-secret", n));
    }
    g_ptr_array_extend_and_steal(formats, g_steal_pointer(&storages));
    for (guint i = 0; i < formats->len; i++) {
        if (!blockdev_del(mon, g_ptr_array_index(formats, i), &err)) {
            g_debug("domain %s: blockdev-del %s: %s", obj->def->name, (char *)g_ptr_array_index(formats, i),
                    err->message);
            g_clear_error(&err);
        }
    }
    for (guint i = 0; i < secrets->len; i++)
        secret_del(obj, mon, g_ptr_array_index(secrets, i));
    if (!vrt_qemu_disk_label(obj, disk, false, &err))
        g_warning("domain %s: access to %s not revoked: %s", obj->def->name, disk->src, err->message);
}

static bool
tray_command(VrtQemuMonitor *mon, const char *cmd, const char *alias, const char *node, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) reply = NULL;

    json_object_set_string_member(args, "id", alias);
    if (g_str_equal(cmd, "blockdev-open-tray"))
        json_object_set_boolean_member(args, "force", TRUE);
    if (node)
        json_object_set_string_member(args, "node-name", node);
    reply = vrt_qemu_monitor_command(mon, cmd, args, 0, error);
    return reply != NULL;
}

/* libvirt's media change of a cdrom (update-device, change-media): the
 * tray opens, the old medium's nodes go, the new medium's nodes (built as
 * at start) go in, the tray closes. newdisk: the <disk> given. */
bool
vrt_qemu_hotplug_disk_change_media(VrtQemuDom *obj, VrtDomainDiskDef *newdisk, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;
    VrtDomainDiskDef old = { 0 }; /* what the old medium's removal needs */
    g_autofree char *old_src = NULL;
    g_autofree char *old_target = NULL;
    g_autofree char *alias = NULL;
    VrtQemuDiskProps p = { 0 };
    guint added = 0;
    guint n = 0;
    bool ok = false;

    if (!vrt_qemu_process_resolve_volume(obj->drv, newdisk, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtDomainDiskDef *cur = vrt_domain_def_find_disk_by_target(obj->def, newdisk->target_dev);
        struct stat st;

        if (!cur) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "disk %s not found", newdisk->target_dev);
            return false;
        }
        if (cur->device != VRT_DOMAIN_DISK_DEVICE_CDROM || newdisk->device != VRT_DOMAIN_DISK_DEVICE_CDROM) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "disk bus '%s' cannot be updated.", bus_name(cur->bus));
            return false;
        }
        if (newdisk->src && stat(newdisk->src, &st) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot access storage file '%s'", newdisk->src);
            return false;
        }
        if (!obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return false;
        }
        alias = g_strdup(cur->info.alias);
        old.src = old_src = g_strdup(cur->src);
        old.target_dev = old_target = g_strdup(cur->target_dev);
        old.tuning.copy_on_read = cur->tuning.copy_on_read;
        mon = vrt_qemu_monitor_ref(obj->mon);
    }
    if (newdisk->src) {
        n = next_node_index(mon, error);
        if (n == 0)
            return false;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_command_disk_props(obj->def, newdisk, n, NULL, &p, error))
            goto out;
    }
    if (!tray_command(mon, "blockdev-open-tray", alias, NULL, error) ||
        !tray_command(mon, "blockdev-remove-medium", alias, NULL, error))
        goto out;
    vrt_qemu_hotplug_disk_removed(obj, mon, &old);
    if (newdisk->src) {
        if (!vrt_qemu_disk_label(obj, newdisk, true, error))
            goto out;
        for (; added < p.blockdevs->len; added++) {
            g_autoptr(JsonNode) reply =
                vrt_qemu_monitor_command(mon, "blockdev-add", g_ptr_array_index(p.blockdevs, added), 0, error);

            if (!reply)
                goto undo;
        }
        if (!tray_command(mon, "blockdev-insert-medium", alias,
                          json_object_get_string_member(g_ptr_array_index(p.blockdevs, added - 1), "node-name"), error))
            goto undo;
    }
    if (!tray_command(mon, "blockdev-close-tray", alias, NULL, error))
        goto out;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtDomainDiskDef *cur = vrt_domain_def_find_disk_by_target(obj->def, newdisk->target_dev);

        if (cur) {
            g_free(cur->src);
            cur->src = g_strdup(newdisk->src);
            cur->type = newdisk->type;
            cur->format = newdisk->format;
            g_free(cur->src_pool);
            cur->src_pool = g_strdup(newdisk->src_pool);
            g_free(cur->src_volume);
            cur->src_volume = g_strdup(newdisk->src_volume);
        }
        ok = vrt_qemu_dom_save_status_locked(obj, error);
    }
    goto out;

undo:
    while (added-- > 0) {
        g_autoptr(GError) undo = NULL;
        const char *node = json_object_get_string_member(g_ptr_array_index(p.blockdevs, added), "node-name");

        if (!blockdev_del(mon, node, &undo))
            g_warning("domain %s: rollback of block node %s failed: %s", obj->def->name, node, undo->message);
    }
    /* the old medium is out already: the drive is left empty, its XML too */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtDomainDiskDef *cur = vrt_domain_def_find_disk_by_target(obj->def, newdisk->target_dev);

        if (cur)
            g_clear_pointer(&cur->src, g_free);
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
out:
    vrt_qemu_disk_props_clear(&p);
    return ok;
}

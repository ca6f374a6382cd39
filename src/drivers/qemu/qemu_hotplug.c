/*
 * Device attach, detach and update (an interface's link state) for running
 * and defined domains. Live changes go through QMP (netdev_add + device_add; device_del, then
 * DEVICE_DELETED); the live definition and the status file follow QEMU, the
 * persistent definition follows AFFECT_CONFIG. Emulated interfaces are
 * attached here; hostdev-backed devices are attached, and every live
 * detach runs, through the journaled job (qemu_hostdev_domain.h).
 * All functions run with the domain's job held and the object lock free.
 */
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_events.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/qemu/qemu_interface.h"
#include "util/error.h"

#include <string.h>
#include <unistd.h>

static bool
net_is_hostdev(const VrtDomainNetDef *net)
{
    return vrt_domain_net_get_actual_type(net) == VRT_DOMAIN_NET_TYPE_HOSTDEV;
}

static const char *
device_type_name(VrtDomainDeviceType type)
{
    static const char *const names[] = {
        "disk",  "interface", "hostdev",  "controller", "chr",      "input",
        "video", "rng",       "watchdog", "memballoon", "graphics", "filesystem",
    };

    return (guint)type < G_N_ELEMENTS(names) ? names[type] : "device";
}

/* ---- attach ---- */

/* An interface backed by a tap vrtd opens: its port and tap, getfd,
 * netdev_add (tap, fd=) and device_add; each undone on a later failure. */
static bool
attach_live_tap_net(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error)
{
    VrtDomainNetDef *net = dev->data.net;
    g_autoptr(JsonObject) netdev = NULL;
    g_autoptr(JsonObject) device = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(VrtDomainDef) snapshot = NULL;
    g_autofree char *netdev_id = NULL;
    g_autofree char *fdname = NULL;
    g_autofree char *dom_name = NULL;
    g_autoptr(GError) undo = NULL;
    bool ok;
    int fd;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_domain_def_assign_device_address(obj->def, dev, error))
            return false;
        dom_name = g_strdup(obj->def->name);
        /* the owner the port is taken for: name and uuid only */
        snapshot = vrt_domain_def_copy(obj->def, error);
        mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
    }
    if (!snapshot)
        return false;
    if (!mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return false;
    }
    fd = vrt_qemu_interface_open(obj, snapshot, net, error);
    if (fd < 0)
        return false;
    fdname = g_strdup_printf("fd-%s", net->info.alias);
    netdev_id = vrt_qemu_command_netdev_id(net);
    ok = vrt_qemu_monitor_getfd(mon, fdname, fd, error);
    close(fd);
    if (!ok)
        goto fail_port;
    netdev = vrt_qemu_command_netdev_props_tap_fd(net, fdname, error);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        device = netdev ? vrt_qemu_command_net_device_props(obj->def, net, error) : NULL;
    }
    if (!device || !vrt_qemu_monitor_netdev_add(mon, netdev, error)) {
        if (!vrt_qemu_monitor_closefd(mon, fdname, &undo))
            g_debug("domain %s: closefd %s: %s", dom_name, fdname, undo->message);
        goto fail_port;
    }
    if (!vrt_qemu_monitor_device_add(mon, device, error)) {
        /* the netdev held the tap: its removal closes it */
        if (!vrt_qemu_monitor_netdev_del(mon, netdev_id, &undo))
            g_warning("domain %s: rollback of netdev %s failed: %s", dom_name, netdev_id, undo->message);
        goto fail_port;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        vrt_domain_def_net_insert(obj->def, g_steal_pointer(&dev->data.net));
        return vrt_qemu_dom_save_status_locked(obj, error);
    }

fail_port:
    vrt_qemu_interface_release(obj, dom_name, net);
    return false;
}

static bool
attach_live_net(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error)
{
    VrtDomainNetDef *net = dev->data.net;
    g_autoptr(JsonObject) netdev = NULL;
    g_autoptr(JsonObject) device = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *netdev_id = NULL;
    g_autoptr(GError) undo = NULL;

    if (vrt_qemu_interface_wants_tap(obj, net))
        return attach_live_tap_net(obj, dev, error);
    if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && !net->actual.set) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "interface of network '%s' needs a port from the network driver",
                      net->source_network ? net->source_network : "");
        return false;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_domain_def_assign_device_address(obj->def, dev, error))
            return false;
        netdev = vrt_qemu_command_netdev_props(net, error);
        device = netdev ? vrt_qemu_command_net_device_props(obj->def, net, error) : NULL;
        mon = vrt_qemu_monitor_ref(obj->mon);
    }
    if (!device)
        return false;
    netdev_id = vrt_qemu_command_netdev_id(net);
    if (!vrt_qemu_monitor_netdev_add(mon, netdev, error))
        return false;
    if (!vrt_qemu_monitor_device_add(mon, device, error)) {
        if (!vrt_qemu_monitor_netdev_del(mon, netdev_id, &undo))
            g_warning("domain %s: rollback of netdev %s failed: %s", obj->def->name, netdev_id, undo->message);
        return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    vrt_domain_def_net_insert(obj->def, g_steal_pointer(&dev->data.net));
    /* The device is in QEMU and in the live definition; the status file
     * lacks it: as libvirt, the call reports the failure. */
    return vrt_qemu_dom_save_status_locked(obj, error);
}

/* The aliases of the live devices that can be hotplugged (object lock held). */
static GHashTable *
hotplug_aliases_locked(VrtQemuDom *obj)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; obj->def->nets && i < obj->def->nets->len; i++) {
        const VrtDomainNetDef *net = g_ptr_array_index(obj->def->nets, i);

        if (net->info.alias)
            g_hash_table_add(set, g_strdup(net->info.alias));
    }
    for (guint i = 0; obj->def->hostdevs && i < obj->def->hostdevs->len; i++) {
        const VrtDomainHostdevDef *hd = g_ptr_array_index(obj->def->hostdevs, i);

        if (hd->info && hd->info->alias)
            g_hash_table_add(set, g_strdup(hd->info->alias));
    }
    for (guint i = 0; obj->def->disks && i < obj->def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

        if (d->info.alias)
            g_hash_table_add(set, g_strdup(d->info.alias));
    }
    return set;
}

/* libvirt's DEVICE_ADDED for each device a live attach added (the hostdev
 * job's included), after the attach succeeded. */
static void
emit_devices_added(VrtQemuDom *obj, GHashTable *before)
{
    g_autoptr(GHashTable) after = NULL;
    g_autoptr(VrtDomainRef) ref = NULL;
    GHashTableIter it;
    gpointer alias;

    if (!obj->drv->cfg.domain_event)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        after = hotplug_aliases_locked(obj);
    }
    ref = vrt_qemu_dom_make_ref(obj);
    g_hash_table_iter_init(&it, after);
    while (g_hash_table_iter_next(&it, &alias, NULL)) {
        VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_DEVICE_ADDED, .dev_alias = alias };

        if (!g_hash_table_contains(before, alias))
            obj->drv->cfg.domain_event(ref, &ev, obj->drv->cfg.data);
    }
}

bool
vrt_qemu_hotplug_attach_hostdev(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error)
{
    g_autoptr(GHashTable) before = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        before = hotplug_aliases_locked(obj);
    }
    if (!vrt_qemu_hostdev_dom_attach(obj, dev, error))
        return false;
    emit_devices_added(obj, before);
    return true;
}

static bool
attach_live(VrtQemuDom *obj, const char *xml, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    g_autoptr(GHashTable) before = NULL;
    bool ok;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        dev = vrt_domain_device_def_parse(xml, obj->def, 0, error);
        before = hotplug_aliases_locked(obj);
    }
    if (!dev)
        return false;
    /* Host devices and hostdev pool interfaces: the journaled job. */
    if (vrt_qemu_hostdev_dom_wants(obj, dev)) {
        ok = vrt_qemu_hostdev_dom_attach(obj, dev, error);
    } else if (dev->type == VRT_DOMAIN_DEVICE_DISK) {
        ok = vrt_qemu_hotplug_disk_attach(obj, dev, error);
    } else if (dev->type == VRT_DOMAIN_DEVICE_FILESYSTEM && !vrt_domain_fs_is_virtiofs(dev->data.fs)) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "only virtiofs filesystems can be hotplugged");
        return false;
    } else if (dev->type != VRT_DOMAIN_DEVICE_NET) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "live attach of device '%s' is not supported",
                      device_type_name(dev->type));
        return false;
    } else {
        ok = attach_live_net(obj, dev, error);
    }
    if (ok)
        emit_devices_added(obj, before);
    return ok;
}

/* Applies fn to a copy of the persistent definition, assigns addresses,
 * saves it and installs it. */
static bool
edit_config(VrtQemuDom *obj, bool (*fn)(VrtDomainDef *def, gpointer data, GError **error), gpointer data,
            GError **error)
{
    g_autoptr(VrtDomainDef) copy = vrt_qemu_dom_config_copy(obj, error);

    if (!copy || !fn(copy, data, error) || !vrt_domain_def_assign_addresses(copy, error))
        return false;
    return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
}

static bool
config_insert(VrtDomainDef *def, gpointer data, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = vrt_domain_device_def_parse(data, def, 0, error);

    if (!dev)
        return false;
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_NET:
        if (!vrt_domain_net_link_hostdev(dev->data.net, error))
            return false;
        vrt_domain_def_net_insert(def, g_steal_pointer(&dev->data.net));
        return true;
    case VRT_DOMAIN_DEVICE_HOSTDEV:
        if (vrt_domain_def_find_hostdev_by_source(def, &dev->data.hostdev->source)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "device is already in the domain configuration");
            return false;
        }
        vrt_domain_def_hostdev_insert(def, g_steal_pointer(&dev->data.hostdev));
        return true;
    case VRT_DOMAIN_DEVICE_DISK:
        if (vrt_domain_def_find_disk_by_target(def, dev->data.disk->target_dev)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "target %s already exists", dev->data.disk->target_dev);
            return false;
        }
        vrt_domain_def_disk_insert(def, g_steal_pointer(&dev->data.disk));
        return true;
    case VRT_DOMAIN_DEVICE_FILESYSTEM:
        /* libvirt's match of a filesystem: its target */
        if (vrt_domain_def_fs_index(def, dev->data.fs->target_dir) >= 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "Target already exists");
            return false;
        }
        vrt_domain_def_fs_insert(def, g_steal_pointer(&dev->data.fs));
        return true;
    default:
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "persistent attach of device '%s' is not supported",
                      device_type_name(dev->type));
        return false;
    }
}

bool
vrt_qemu_hotplug_attach(VrtQemuDom *obj, const char *xml, guint flags, GError **error)
{
    bool live, config;

    if (!vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    /* Config first only when it cannot fail after the live change:
     * libvirt's order is config check, live, then config save. */
    if (live && !attach_live(obj, xml, error))
        return false;
    if (config && !edit_config(obj, config_insert, (gpointer)xml, error))
        return false;
    return true;
}

/* ---- detach ---- */

typedef struct {
    const char *xml;
    const char *alias;
} DetachTarget;

/* The device of def named alias: returns alias (borrowed) and its type. */
static const char *
find_by_alias(VrtDomainDef *def, const char *alias, VrtDomainDeviceType *type, GError **error)
{
    if (vrt_domain_def_find_net_by_alias(def, alias)) {
        *type = VRT_DOMAIN_DEVICE_NET;
        return alias;
    }
    if (vrt_domain_def_find_hostdev_by_alias(def, alias)) {
        *type = VRT_DOMAIN_DEVICE_HOSTDEV;
        return alias;
    }
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (g_strcmp0(d->info.alias, alias) == 0) {
            *type = VRT_DOMAIN_DEVICE_DISK;
            return d->info.alias;
        }
    }
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++) {
        VrtDomainFsDef *fs = g_ptr_array_index(def->filesystems, i);

        if (g_strcmp0(fs->info.alias, alias) == 0) {
            *type = VRT_DOMAIN_DEVICE_FILESYSTEM;
            return fs->info.alias;
        }
    }
    vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "no device found with alias %s", alias);
    return NULL;
}

/* The index of def's filesystem that fs designates (by its target, as
 * libvirt matches one), or -1 with libvirt's error. */
static int
find_fs(const VrtDomainDef *def, const VrtDomainFsDef *fs, GError **error)
{
    int idx = vrt_domain_def_fs_index(def, fs->target_dir);

    if (idx < 0)
        vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "%s", "no matching filesystem device was found");
    return idx;
}

/* The device of def that dev (parsed device XML) designates: returns its
 * alias (borrowed) and its type. */
static const char *
find_device(VrtDomainDef *def, const VrtDomainDeviceDef *dev, VrtDomainDeviceType *type, GError **error)
{
    *type = dev->type;
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_NET: {
        /* as libvirt: MAC, guest PCI address and alias, when given */
        VrtDomainNetDef *net = vrt_domain_def_find_net_match(def, dev->data.net, error);

        return net ? net->info.alias : NULL;
    }
    case VRT_DOMAIN_DEVICE_HOSTDEV: {
        /* The hostdev of an interface is detached through the interface. */
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_hostdev_source(def, &dev->data.hostdev->source);
        VrtDomainHostdevDef *h = vrt_domain_def_find_hostdev_by_source(def, &dev->data.hostdev->source);

        if (net) {
            *type = VRT_DOMAIN_DEVICE_NET;
            return net->info.alias;
        }
        if (!h) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "host pci device was not found");
            return NULL;
        }
        return h->info->alias;
    }
    case VRT_DOMAIN_DEVICE_DISK: {
        VrtDomainDiskDef *d = vrt_domain_def_find_disk_by_target(def, dev->data.disk->target_dev);

        if (!d) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "disk %s not found", dev->data.disk->target_dev);
            return NULL;
        }
        return d->info.alias;
    }
    case VRT_DOMAIN_DEVICE_FILESYSTEM: {
        int idx = find_fs(def, dev->data.fs, error);

        return idx < 0 ? NULL : ((VrtDomainFsDef *)def->filesystems->pdata[idx])->info.alias;
    }
    default:
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "detach of device '%s' is not supported",
                      device_type_name(dev->type));
        return NULL;
    }
}

/* The device to detach in def, by alias or by device XML: returns its
 * alias (borrowed) and type. */
static const char *
find_target(VrtDomainDef *def, const DetachTarget *t, VrtDomainDeviceType *type, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = NULL;

    if (t->alias)
        return find_by_alias(def, t->alias, type, error);
    dev = vrt_domain_device_def_parse(t->xml, def, 0, error);
    return dev ? find_device(def, dev, type, error) : NULL;
}

void
vrt_qemu_hotplug_device_deleted(VrtQemuDom *obj, const char *alias)
{
    g_autoptr(VrtDomainNetDef) net = NULL;
    g_autoptr(VrtDomainDiskDef) disk = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *netdev_id = NULL;
    VrtDomainNetDef *found;

    /* The job's record first (a VF goes back, an emulated interface being
     * detached leaves); the rest finishes unplugs that older vrt recorded
     * as <unplug-pending> (obj->unplug_pending) in the status file. */
    vrt_qemu_hostdev_dom_device_deleted(obj, alias);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g_hash_table_remove(obj->unplug_done, alias);
        g_hash_table_remove(obj->unplug_pending, alias);
        found = vrt_domain_def_find_net_by_alias(obj->def, alias);
        if (found && !net_is_hostdev(found)) {
            netdev_id = vrt_qemu_command_netdev_id(found);
            net = vrt_domain_def_net_remove(obj->def, found);
        }
        for (guint i = 0; !found && i < obj->def->disks->len; i++) {
            VrtDomainDiskDef *d = g_ptr_array_index(obj->def->disks, i);

            if (g_strcmp0(d->info.alias, alias) == 0) {
                disk = vrt_domain_def_disk_remove(obj->def, d);
                break;
            }
        }
        mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
        /* No caller to tell (an event or a finished wait): logged. */
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    if (netdev_id && mon && !vrt_qemu_monitor_netdev_del(mon, netdev_id, &err))
        g_debug("domain %s: netdev_del %s: %s", obj->def->name, netdev_id, err->message);
    if (disk)
        vrt_qemu_hotplug_disk_removed(obj, mon, disk);
    g_info("domain %s: device %s removed", obj->def->name, alias);
    vrt_qemu_hostdev_dom_emit_removed(obj, alias);
}

/* Hostdev-backed devices and emulated interfaces go through the same
 * detach job (qemu_hostdev.c): one device_del, one wait for the guest, one
 * pending state; a device already gone is finished here as on
 * DEVICE_DELETED. */
static bool
detach_live(VrtQemuDom *obj, const DetachTarget *t, GError **error)
{
    g_autofree char *removed = NULL;
    g_autofree char *alias = NULL;
    VrtDomainDeviceType type;
    const char *found;
    bool handled = false;
    bool ok = vrt_qemu_hostdev_dom_detach(obj, t->xml, t->alias, &handled, &removed, error);

    if (!handled) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            found = find_target(obj->def, t, &type, error);
            alias = g_strdup(found);
            if (found && type == VRT_DOMAIN_DEVICE_DISK) {
                handled = true;
            } else if (found && (type != VRT_DOMAIN_DEVICE_NET ||
                                 net_is_hostdev(vrt_domain_def_find_net_by_alias(obj->def, alias)))) {
                vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                              "live detach of device '%s' (%s) is not supported yet", alias, device_type_name(type));
                found = NULL;
            }
        }
        if (handled)
            return vrt_qemu_hotplug_disk_detach(obj, alias, error);
        ok = found && vrt_qemu_hostdev_dom_unplug(obj, alias, &removed, error);
    }
    if (removed)
        vrt_qemu_hotplug_device_deleted(obj, removed);
    return ok;
}

static bool
config_remove(VrtDomainDef *def, gpointer data, GError **error)
{
    const DetachTarget *t = data;
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    VrtDomainDeviceType type;
    const char *alias;

    if (t->xml && !(dev = vrt_domain_device_def_parse(t->xml, def, 0, error)))
        return false;
    if (dev && dev->type == VRT_DOMAIN_DEVICE_FILESYSTEM) {
        /* a filesystem of the persistent definition may have no alias:
         * found and removed by its target, as libvirt does */
        int idx = find_fs(def, dev->data.fs, error);

        if (idx < 0)
            return false;
        g_ptr_array_remove_index(def->filesystems, (guint)idx);
        return true;
    }
    alias = dev ? find_device(def, dev, &type, error) : find_by_alias(def, t->alias, &type, error);

    if (!alias)
        return false;
    if (type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(def, alias);

        vrt_domain_net_def_free(vrt_domain_def_net_remove(def, net));
    } else if (type == VRT_DOMAIN_DEVICE_HOSTDEV) {
        vrt_domain_hostdev_def_free(
            vrt_domain_def_hostdev_remove(def, vrt_domain_def_find_hostdev_by_alias(def, alias)));
    } else if (type == VRT_DOMAIN_DEVICE_DISK) {
        for (guint i = 0; def->disks && i < def->disks->len; i++) {
            VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

            if (g_strcmp0(d->info.alias, alias) == 0) {
                vrt_domain_disk_def_free(vrt_domain_def_disk_remove(def, d));
                break;
            }
        }
    } else if (type == VRT_DOMAIN_DEVICE_FILESYSTEM) {
        for (guint i = 0; def->filesystems && i < def->filesystems->len; i++) {
            if (g_strcmp0(((VrtDomainFsDef *)def->filesystems->pdata[i])->info.alias, alias) == 0) {
                g_ptr_array_remove_index(def->filesystems, i);
                break;
            }
        }
    }
    return true;
}

bool
vrt_qemu_hotplug_detach(VrtQemuDom *obj, const char *xml, const char *alias, guint flags, GError **error)
{
    DetachTarget t = { xml, alias };
    bool live, config;

    if (!vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (live && !detach_live(obj, &t, error))
        return false;
    if (config && !edit_config(obj, config_remove, &t, error))
        return false;
    return true;
}

/* ---- update ---- */

/* The interface of def that dev (an <interface>) designates: by MAC, and
 * guest PCI address and alias when given (libvirt's virDomainNetFindIdx). */
static VrtDomainNetDef *
update_find_net(VrtDomainDef *def, const VrtDomainDeviceDef *dev, GError **error)
{
    if (dev->type != VRT_DOMAIN_DEVICE_NET) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "update of device '%s' is not supported",
                      device_type_name(dev->type));
        return NULL;
    }
    return vrt_domain_def_find_net_match(def, dev->data.net, error);
}

static bool
config_update(VrtDomainDef *def, gpointer data, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = vrt_domain_device_def_parse(data, def, 0, error);
    VrtDomainNetDef *net;

    if (!dev || !(net = update_find_net(def, dev, error)))
        return false;
    net->link_up = dev->data.net->link_up;
    if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && g_strcmp0(net->portgroup, dev->data.net->portgroup) != 0) {
        g_free(net->portgroup);
        net->portgroup = g_strdup(dev->data.net->portgroup);
    }
    net->bandwidth = dev->data.net->bandwidth;
    net->port_isolated = dev->data.net->port_isolated;
    return true;
}

static bool
rate_equal(const VrtBandwidthRate *a, const VrtBandwidthRate *b)
{
    return a->present == b->present && a->average == b->average && a->peak == b->peak && a->floor == b->floor &&
           a->burst == b->burst;
}

/* On a running domain an interface's link state changes (as with
 * libvirt's domif-setlink), and its portgroup and <bandwidth>: its port
 * and tap take the new setting (qemu_interface.c); a different type or
 * model is refused. */
static bool
update_live(VrtQemuDom *obj, const char *xml, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *alias = NULL;
    VrtDomainNetDef *net;
    VrtTristate want;
    VrtBandwidth new_bw;
    g_autofree char *new_pg = NULL;
    bool qos, isolated_change;
    VrtTristate new_isolated;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        dev = vrt_domain_device_def_parse(xml, obj->def, 0, error);
        if (dev && dev->type == VRT_DOMAIN_DEVICE_DISK) {
            g_clear_pointer(&locker, g_mutex_locker_free);
            return vrt_qemu_hotplug_disk_change_media(obj, dev->data.disk, error);
        }
        net = dev ? update_find_net(obj->def, dev, error) : NULL;
        if (!net)
            return false;
        if (vrt_domain_net_get_actual_type(net) == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            /* As libvirt: a VF assigned to the guest has no settings QEMU could
             * change; a different MAC or VLAN means detach and attach. */
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "cannot change config of '%s' network interface type",
                          "hostdev");
            return false;
        }
        if (g_strcmp0(net->model, dev->data.net->model) != 0 || net->type != dev->data.net->type) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                          "cannot modify network device type or model of a running domain");
            return false;
        }
        want = dev->data.net->link_up;
        alias = g_strdup(net->info.alias);
        mon = vrt_qemu_monitor_ref(obj->mon);
        new_bw = dev->data.net->bandwidth;
        new_pg = g_strdup(net->type == VRT_DOMAIN_NET_TYPE_NETWORK ? dev->data.net->portgroup : NULL);
        qos = g_strcmp0(net->portgroup, new_pg) != 0 || !rate_equal(&net->bandwidth.in, &new_bw.in) ||
              !rate_equal(&net->bandwidth.out, &new_bw.out);
        new_isolated = dev->data.net->port_isolated;
        isolated_change = new_isolated != net->port_isolated;
    }
    if (qos && !vrt_qemu_interface_update_live(obj, alias, new_pg, &new_bw, error))
        return false;
    if (isolated_change && !vrt_qemu_interface_update_isolated(obj, alias, new_isolated, error))
        return false;

    if (!vrt_qemu_monitor_set_link(mon, alias, want != VRT_TRISTATE_NO, error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    net = vrt_domain_def_find_net_by_alias(obj->def, alias);
    if (net)
        net->link_up = want;
    /* QEMU's link changed; the status file did not: the caller is told. */
    return vrt_qemu_dom_save_status_locked(obj, error);
}

bool
vrt_qemu_hotplug_update(VrtQemuDom *obj, const char *xml, guint flags, GError **error)
{
    bool live, config;

    if (!vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (live && !update_live(obj, xml, error))
        return false;
    if (config && !edit_config(obj, config_update, (gpointer)xml, error))
        return false;
    return true;
}

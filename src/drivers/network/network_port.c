/*
 * Ports of running networks and the hostdev pools they draw from. A VF is
 * owned by the port whose plug names it, and that port holds it in the
 * daemon's VF ownership registry, where the claim (check and take) is one
 * step: two networks over the same PF, a domain's own <hostdev> of the VF
 * or a node device detach never get it at the same time. A port being added
 * is pending in its network while its VF is picked (claim, then the host's
 * own use of the VF is read without the driver lock) and its file written;
 * it is in the network, with its file on disk, before the caller sees it.
 */
#include "drivers/network/network_driver_priv.h"
#include "drivers/network/network_virt.h"
#include "host/pci.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#define PORT_DIR_MODE 0755
#define PORT_FILE_MODE 0600

void
vrt_network_port_ref_free(VrtNetworkPortRef *ref)
{
    if (!ref)
        return;
    vrt_network_ref_free(ref->net);
    g_free(ref);
}

static VrtNetworkPortRef *
port_ref_locked(const VrtNetworkObj *obj, const VrtNetworkPortDef *port)
{
    const VrtNetworkDef *def = vrt_network_obj_def(obj);
    VrtNetworkPortRef *ref = g_new0(VrtNetworkPortRef, 1);
    ref->net = vrt_network_ref_new(def->name, def->uuid);
    memcpy(ref->uuid, port->uuid, 16);
    return ref;
}

void
vrt_network_port_alloc_free(VrtNetworkPortAlloc *alloc)
{
    if (!alloc)
        return;
    g_free(alloc->bridge);
    g_free(alloc);
}

static bool
is_hostdev(const VrtNetworkDef *def)
{
    return def->has_forward && def->forward_mode == VRT_NETWORK_FORWARD_HOSTDEV;
}

static VrtNetworkPortDef *
find_port_locked(VrtNetworkObj *obj, const guchar uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, u);
    return g_hash_table_lookup(obj->ports, u);
}

static bool
in_pool(const VrtNetworkDef *live, const VrtPciAddr *addr)
{
    for (guint i = 0; i < live->forward_addrs->len; i++)
        if (vrt_pci_addr_equal(&g_array_index(live->forward_addrs, VrtNetworkForwardAddr, i).addr, addr))
            return true;
    return false;
}

VrtVfHolder *
vrt_network_port_holder(const char *net_name, const VrtNetworkPortDef *port)
{
    return vrt_vf_holder_new_port(net_name, port->uuid, port->owner_name, port->owner_uuid);
}

/* A VF the host uses is not free, whatever the pool says. Reads sysfs and
 * dumps the host's addresses: no lock held. */
static bool
vf_busy_on_host(VrtNetworkDriver *drv, const char *net_name, const VrtPciAddr *addr)
{
    if (!drv->host)
        return false;
    g_autofree char *why = NULL;
    g_autoptr(GError) err = NULL;
    int r = vrt_pci_is_busy_on_host(drv->host, addr, &why, &err);
    if (r == 0)
        return false;
    /* the text form only for the log */
    g_autofree char *a = vrt_pci_addr_format(addr);
    if (r < 0)
        g_warning("network '%s': skipping VF %s: cannot tell whether the host uses it: %s", net_name, a,
                  err ? err->message : "unknown error");
    else
        g_info("network '%s': skipping VF %s: used by the host (%s)", net_name, a, why ? why : "busy");
    return true;
}

void
vrt_network_port_info_free(VrtNetworkPortInfo *info)
{
    if (!info)
        return;
    g_free(info->network);
    g_free(info->owner_name);
    vrt_network_port_alloc_free(info->alloc);
    g_free(info);
}

static VrtNetworkPortAlloc *alloc_from_port(const VrtNetworkPortDef *port);
static guint64 floor_sum_locked(VrtNetworkObj *obj);

GPtrArray *
vrt_network_port_list_by_owner(VrtNetworkDriver *drv, const guchar *owner_uuid)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_port_info_free);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GHashTableIter nit, pit;
    gpointer nv, pv;
    g_hash_table_iter_init(&nit, drv->nets);
    while (g_hash_table_iter_next(&nit, NULL, &nv)) {
        VrtNetworkObj *obj = nv;
        g_hash_table_iter_init(&pit, obj->ports);
        while (g_hash_table_iter_next(&pit, NULL, &pv)) {
            const VrtNetworkPortDef *port = pv;
            if (owner_uuid && memcmp(port->owner_uuid, owner_uuid, 16) != 0)
                continue;
            VrtNetworkPortInfo *info = g_new0(VrtNetworkPortInfo, 1);
            info->network = g_strdup(vrt_network_obj_def(obj)->name);
            info->owner_name = g_strdup(port->owner_name);
            memcpy(info->owner_uuid, port->owner_uuid, 16);
            info->alloc = alloc_from_port(port);
            g_ptr_array_add(out, info);
        }
    }
    return out;
}

VrtNetworkDef *
vrt_network_live_with_counts_locked(VrtNetworkObj *obj)
{
    VrtNetworkDef *def = vrt_network_def_copy(obj->live);
    def->connections = g_hash_table_size(obj->ports);
    for (guint i = 0; i < def->forward_addrs->len; i++) {
        VrtNetworkForwardAddr *fa = &g_array_index(def->forward_addrs, VrtNetworkForwardAddr, i);
        fa->connections = 0;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, obj->ports);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const VrtNetworkPortDef *p = v;
            if (p->plug_type == VRT_NETWORK_PLUG_HOSTDEV_PCI && vrt_pci_addr_equal(&p->plug_addr, &fa->addr))
                fa->connections++;
        }
    }
    return def;
}

static VrtNetworkObj *
active_by_name_locked(VrtNetworkDriver *drv, const char *name, GError **error)
{
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (obj && !obj->live) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "network '%s' is not active", name);
        return NULL;
    }
    return obj;
}

static VrtNetworkObj *
active_by_uuid_locked(VrtNetworkDriver *drv, const guchar uuid[16], GError **error)
{
    VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, uuid, error);
    if (obj && !obj->live) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "network '%s' is not active", obj->def->name);
        return NULL;
    }
    return obj;
}

/* Fills what a port without a plug gets from its network: its bridge, or
 * (a hostdev pool) the managed flag and driver, with *pool set to the
 * pool's VFs to pick from outside the lock; the network's vlan unless the
 * port has one. */
static bool
plan_plug_locked(VrtNetworkObj *obj, VrtNetworkPortDef *port, GPtrArray **pool, GError **error)
{
    const VrtNetworkDef *live = obj->live;
    if (!port->vlan.present)
        port->vlan = live->vlan;
    if (is_hostdev(live)) {
        *pool = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < live->forward_addrs->len; i++)
            g_ptr_array_add(*pool, g_memdup2(&g_array_index(live->forward_addrs, VrtNetworkForwardAddr, i).addr,
                                             sizeof(VrtPciAddr)));
        port->plug_type = VRT_NETWORK_PLUG_HOSTDEV_PCI;
        port->plug_managed = live->forward_managed == 1 ? 1 : 0;
        g_free(port->plug_driver);
        port->plug_driver = g_strdup(live->forward_driver);
        return true;
    }
    if (live->has_forward && live->forward_mode == VRT_NETWORK_FORWARD_BRIDGE && live->bridge_name) {
        port->plug_type = VRT_NETWORK_PLUG_BRIDGE;
        g_free(port->plug_bridge);
        port->plug_bridge = g_strdup(live->bridge_name);
        return true;
    }
    if (vrt_network_is_virtual(live) && live->bridge_name) {
        /* the bridge vrt made for the network: libvirt's plug type 'network' */
        port->plug_type = VRT_NETWORK_PLUG_NETWORK;
        g_free(port->plug_bridge);
        port->plug_bridge = g_strdup(live->bridge_name);
        return true;
    }
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network '%s' (forward mode '%s') cannot give out ports in vrt",
                  live->name, vrt_network_forward_mode_to_string(live->forward_mode));
    return false;
}

/* Picks the port's VF from pool: the first one the registry gives the
 * port (nobody else holds it) that the host does not use. The host check
 * reads sysfs and netlink, so this runs without the driver lock; the
 * claim makes the VF the port's while it looks. */
static bool
pick_vf(VrtNetworkDriver *drv, const char *net_name, GPtrArray *pool, VrtNetworkPortDef *port, GError **error)
{
    g_autoptr(VrtVfHolder) holder = vrt_network_port_holder(net_name, port);
    for (guint i = 0; i < pool->len; i++) {
        const VrtPciAddr *addr = g_ptr_array_index(pool, i);
        if (!vrt_vf_registry_claim(drv->vfs, addr, holder, NULL, NULL))
            continue;
        if (vf_busy_on_host(drv, net_name, addr)) {
            vrt_vf_registry_release(drv->vfs, addr, holder);
            continue;
        }
        port->plug_addr = *addr;
        return true;
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                  "network '%s' requires exclusive access to interfaces, but none are available", net_name);
    return false;
}

/* Checks a port that names its plug against the network and, for a VF,
 * claims it in the registry for the port. */
static bool
check_plug_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj, const VrtNetworkPortDef *port, GError **error)
{
    const VrtNetworkDef *live = obj->live;
    if (is_hostdev(live)) {
        g_autofree char *addr = vrt_pci_addr_format(&port->plug_addr);
        if (port->plug_type != VRT_NETWORK_PLUG_HOSTDEV_PCI) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s' is a hostdev pool, but the port plugs type '%s'",
                          live->name, vrt_network_plug_type_to_string(port->plug_type));
            return false;
        }
        if (!in_pool(live, &port->plug_addr)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "PCI device %s is not in the pool of network '%s'", addr,
                          live->name);
            return false;
        }
        g_autoptr(VrtVfHolder) holder = vrt_network_port_holder(live->name, port);
        g_autoptr(VrtVfHolder) other = NULL;
        g_autoptr(GError) err = NULL;
        if (!vrt_vf_registry_claim(drv->vfs, &port->plug_addr, holder, &other, &err)) {
            g_autofree char *who = other ? vrt_vf_holder_describe(other) : g_strdup(err->message);
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': PCI device %s is already in use by %s",
                          live->name, addr, who);
            return false;
        }
        return true;
    }
    if (port->plug_type == VRT_NETWORK_PLUG_BRIDGE || port->plug_type == VRT_NETWORK_PLUG_NETWORK) {
        if (live->bridge_name && strcmp(port->plug_bridge, live->bridge_name) == 0)
            return true;
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "port bridge '%s' is not the bridge of network '%s'",
                      port->plug_bridge, live->name);
        return false;
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s' cannot take a port with plug type '%s'", live->name,
                  vrt_network_plug_type_to_string(port->plug_type));
    return false;
}

/* Marks a port uuid as being added or removed: nobody else takes it, and
 * the network (obj stays in the table) does not stop meanwhile. */
static void
pending_add_locked(VrtNetworkObj *obj, const guchar uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, u);
    g_hash_table_add(obj->pending, g_strdup(u));
}

static void
pending_drop_locked(VrtNetworkObj *obj, const guchar uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, u);
    g_hash_table_remove(obj->pending, u);
}

static bool
pending_has_locked(VrtNetworkObj *obj, const guchar uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, u);
    return g_hash_table_contains(obj->pending, u);
}

/* Gives back the VF claim of a port that is not (or no longer) in its
 * network. */
static void
release_vf(VrtNetworkDriver *drv, const char *net_name, const VrtNetworkPortDef *port)
{
    if (port->plug_type != VRT_NETWORK_PLUG_HOSTDEV_PCI)
        return;
    g_autoptr(VrtVfHolder) holder = vrt_network_port_holder(net_name, port);
    vrt_vf_registry_release(drv->vfs, &port->plug_addr, holder);
}

/* Finishes adding a pending port (ownership taken) whose VF, if any, the
 * port holds: writes its file without the lock, then puts it in obj (and
 * what it got in *alloc, when not NULL). On failure the claim and the
 * pending mark are given back. */
static bool
add_port_finish(VrtNetworkDriver *drv, VrtNetworkObj *obj, const char *net, VrtNetworkPortDef *port_in,
                VrtNetworkPortAlloc **alloc, GError **error)
{
    g_autoptr(VrtNetworkPortDef) port = port_in;
    g_autofree char *dir = vrt_network_ports_dir(drv, net);
    g_autofree char *path = vrt_network_port_path(drv, net, port->uuid);
    g_autofree char *xml = vrt_network_port_def_format(port);
    bool ok = vrt_dir_ensure(dir, PORT_DIR_MODE, error) && vrt_file_write_atomic(path, xml, -1, PORT_FILE_MODE, error);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    pending_drop_locked(obj, port->uuid);
    if (!ok) {
        release_vf(drv, net, port);
        if (port->class_id) {
            g_hash_table_remove(obj->floors, GUINT_TO_POINTER(port->class_id));
            vrt_network_bandwidth_unplug(port->plug_bridge, port->class_id);
        }
        return false;
    }
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(port->uuid, u);
    if (port->plug_type == VRT_NETWORK_PLUG_HOSTDEV_PCI) {
        g_autofree char *a = vrt_pci_addr_format(&port->plug_addr);
        g_info("network '%s': port %s of '%s' holds VF %s", net, u, port->owner_name, a);
    } else {
        g_info("network '%s': port %s of '%s' added", net, u, port->owner_name);
    }
    if (alloc)
        *alloc = alloc_from_port(port);
    g_hash_table_insert(obj->ports, g_strdup(u), g_steal_pointer(&port));
    return true;
}

/* Takes the port out of obj, pending, for remove_port_finish. */
static VrtNetworkPortDef *
remove_port_begin_locked(VrtNetworkObj *obj, const guchar port_uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(port_uuid, u);
    VrtNetworkPortDef *port = NULL;
    g_autofree char *key = NULL;
    if (!g_hash_table_steal_extended(obj->ports, u, (gpointer *)&key, (gpointer *)&port))
        return NULL;
    pending_add_locked(obj, port_uuid);
    return port;
}

/* Removes the port's file without the lock; then the port is gone and its
 * VF free, or (the file could not be removed) back in obj. */
static bool
remove_port_finish(VrtNetworkDriver *drv, VrtNetworkObj *obj, const char *net, VrtNetworkPortDef *port_in,
                   GError **error)
{
    g_autoptr(VrtNetworkPortDef) port = port_in;
    g_autofree char *path = vrt_network_port_path(drv, net, port->uuid);
    bool ok = vrt_file_remove(path, error);
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(port->uuid, u);
    /* its floor's class leaves the bridge with it, as libvirt's unplug */
    if (ok && port->class_id && port->plug_bridge)
        vrt_network_bandwidth_unplug(port->plug_bridge, port->class_id);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    pending_drop_locked(obj, port->uuid);
    if (!ok) {
        g_hash_table_insert(obj->ports, g_strdup(u), g_steal_pointer(&port));
        return false;
    }
    if (port->class_id) {
        g_hash_table_remove(obj->floors, GUINT_TO_POINTER(port->class_id));
        if (obj->live && obj->live->bridge_name && obj->live->bandwidth.in.present) {
            const VrtBandwidthRate *in = &obj->live->bandwidth.in;
            guint64 limit = in->peak ? in->peak : in->average, sum = floor_sum_locked(obj);
            vrt_network_bandwidth_update_rate(obj->live->bridge_name, &obj->live->bandwidth,
                                              limit > sum ? limit - sum : 0);
        }
    }
    release_vf(drv, net, port);
    g_info("network '%s': port %s released", net, u);
    return true;
}

static void
fresh_port_uuid_locked(VrtNetworkObj *obj, guchar uuid[16])
{
    do
        vrt_uuid_generate(uuid);
    while (find_port_locked(obj, uuid) || pending_has_locked(obj, uuid));
}

static void
port_exists_error(GError **error, const guchar uuid[16], const char *net)
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, u);
    vrt_error_set(error, VIR_ERR_NETWORK_PORT_EXIST, "network port with uuid %s already exists in network '%s'", u,
                  net);
}

/* ---- a port's inbound floor (libvirt's networkCheckBandwidth) ---- */

static guint64
floor_sum_locked(VrtNetworkObj *obj)
{
    guint64 sum = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, obj->floors);
    while (g_hash_table_iter_next(&it, NULL, &v))
        sum += *(guint64 *)v;
    return sum;
}

/* Checks port's floor against the network's inbound bandwidth and what
 * the other ports hold, and reserves it under a free class id (from 3:
 * 1:1 is the network's, 1:2 its default class). *rate: what is left for
 * the default class. A port without a floor takes nothing. */
static bool
reserve_floor_locked(VrtNetworkObj *obj, VrtNetworkPortDef *port, guint64 *rate, GError **error)
{
    const VrtNetworkDef *live = obj->live;
    const VrtBandwidthRate *net_in = &live->bandwidth.in;
    char mac[VRT_MAC_STRING_LEN];
    port->class_id = 0;
    if (!port->bandwidth.in.present || !port->bandwidth.in.floor)
        return true;
    vrt_mac_format(port->mac, mac);
    if (!vrt_network_is_virtual(live)) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only supported for "
                      "interface type 'network' with forward type 'nat', 'route', 'open' or none",
                      mac);
        return false;
    }
    if (!net_in->present || !net_in->average) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "Invalid use of 'floor' on interface with MAC address %s - network '%s' has no inbound QoS set",
                      mac, live->name);
        return false;
    }
    guint64 sum = floor_sum_locked(obj) + port->bandwidth.in.floor;
    guint64 limit = net_in->peak ? net_in->peak : net_in->average;
    if (sum > limit) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "Cannot plug '%s' interface into '%s' because new combined inbound floor=%" G_GUINT64_FORMAT
                      " would overcommit %s=%" G_GUINT64_FORMAT " on network '%s'",
                      mac, live->bridge_name ? live->bridge_name : "", sum, net_in->peak ? "peak" : "average", limit,
                      live->name);
        return false;
    }
    guint id = 3;
    while (g_hash_table_contains(obj->floors, GUINT_TO_POINTER(id)))
        id++;
    port->class_id = id;
    g_hash_table_insert(obj->floors, GUINT_TO_POINTER(id), g_memdup2(&port->bandwidth.in.floor, sizeof(guint64)));
    *rate = limit > sum ? limit - sum : 0;
    return true;
}

/* Puts a reserved floor on the bridge (no lock held); on failure the
 * reservation is given back. */
static bool
plug_floor(VrtNetworkDriver *drv, VrtNetworkObj *obj, VrtNetworkPortDef *port, const VrtBandwidth *net_bw, guint64 rate,
           GError **error)
{
    if (!port->class_id)
        return true;
    if (vrt_network_bandwidth_plug(port->plug_bridge, net_bw, port->mac, &port->bandwidth, port->class_id, error)) {
        vrt_network_bandwidth_update_rate(port->plug_bridge, net_bw, rate);
        return true;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    g_hash_table_remove(obj->floors, GUINT_TO_POINTER(port->class_id));
    port->class_id = 0;
    return false;
}

/* ---- libvirt port API ---- */

/* Adds port (ownership taken) to the running network obj: a plug it names
 * is checked and claimed under the lock, a hostdev pool's VF is picked
 * without it; then add_port_finish. The lock (*locker) is held on entry;
 * once the port is pending it is dropped (*locker NULL), so the caller
 * must not touch obj after a return without taking it again. */
static bool
add_port_locked(VrtNetworkDriver *drv, GMutexLocker **locker, VrtNetworkObj *obj, VrtNetworkPortDef *port_in,
                VrtNetworkPortAlloc **alloc, GError **error)
{
    g_autoptr(VrtNetworkPortDef) port = port_in;
    g_autoptr(GPtrArray) pool = NULL;
    g_autofree char *net = g_strdup(obj->live->name);
    if (port->plug_type == VRT_NETWORK_PLUG_NONE) {
        if (!plan_plug_locked(obj, port, &pool, error))
            return false;
    } else if (!check_plug_locked(drv, obj, port, error)) {
        return false;
    }
    guint64 rate = 0;
    VrtBandwidth net_bw = obj->live->bandwidth;
    if (!reserve_floor_locked(obj, port, &rate, error)) {
        release_vf(drv, net, port);
        return false;
    }
    pending_add_locked(obj, port->uuid);
    g_clear_pointer(locker, g_mutex_locker_free);
    if (pool && !pick_vf(drv, net, pool, port, error)) {
        g_autoptr(GMutexLocker) relock = g_mutex_locker_new(&drv->lock);
        pending_drop_locked(obj, port->uuid);
        return false;
    }
    if (!plug_floor(drv, obj, port, &net_bw, rate, error)) {
        g_autoptr(GMutexLocker) relock = g_mutex_locker_new(&drv->lock);
        pending_drop_locked(obj, port->uuid);
        return false;
    }
    return add_port_finish(drv, obj, net, g_steal_pointer(&port), alloc, error);
}

VrtNetworkPortRef *
vrt_netdrv_port_create_xml(VrtNetworkDriver *drv, const guchar net_uuid[16], const char *xml, guint flags,
                           GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, "vrt_netdrv_port_create_xml");
        return NULL;
    }
    g_autoptr(VrtNetworkPortDef) port = vrt_network_port_def_parse(xml, error);
    if (!port)
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = active_by_uuid_locked(drv, net_uuid, error);
    if (!obj)
        return NULL;
    if (find_port_locked(obj, port->uuid) || pending_has_locked(obj, port->uuid)) {
        port_exists_error(error, port->uuid, obj->live->name);
        return NULL;
    }
    VrtNetworkPortRef *ref = port_ref_locked(obj, port);
    if (!add_port_locked(drv, &locker, obj, g_steal_pointer(&port), NULL, error)) {
        vrt_network_port_ref_free(ref);
        return NULL;
    }
    return ref;
}

static VrtNetworkPortDef *
port_by_uuid_locked(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16],
                    VrtNetworkObj **obj_out, GError **error)
{
    VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, net_uuid, error);
    if (!obj)
        return NULL;
    VrtNetworkPortDef *port = find_port_locked(obj, port_uuid);
    if (!port) {
        char u[VRT_UUID_STRING_LEN];
        vrt_uuid_format(port_uuid, u);
        vrt_error_set(error, VIR_ERR_NO_NETWORK_PORT, "no network port with matching uuid '%s'", u);
        return NULL;
    }
    *obj_out = obj;
    return port;
}

VrtNetworkPortRef *
vrt_netdrv_port_lookup_by_uuid(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16],
                               GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = NULL;
    VrtNetworkPortDef *port = port_by_uuid_locked(drv, net_uuid, port_uuid, &obj, error);
    return port ? port_ref_locked(obj, port) : NULL;
}

char *
vrt_netdrv_port_get_xml(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16], guint flags,
                        GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, "vrt_netdrv_port_get_xml");
        return NULL;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = NULL;
    VrtNetworkPortDef *port = port_by_uuid_locked(drv, net_uuid, port_uuid, &obj, error);
    return port ? vrt_network_port_def_format(port) : NULL;
}

static gint
compare_port_refs(gconstpointer a, gconstpointer b)
{
    const VrtNetworkPortRef *ra = *(VrtNetworkPortRef *const *)a, *rb = *(VrtNetworkPortRef *const *)b;
    return memcmp(ra->uuid, rb->uuid, 16);
}

GPtrArray *
vrt_netdrv_port_list_all(VrtNetworkDriver *drv, const guchar net_uuid[16], guint flags, GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, "vrt_netdrv_port_list_all");
        return NULL;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, net_uuid, error);
    if (!obj)
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_port_ref_free);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, obj->ports);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(out, port_ref_locked(obj, v));
    g_ptr_array_sort(out, compare_port_refs);
    return out;
}

/* Removes a port of obj; the lock (*locker) is held on entry and dropped
 * (*locker NULL) before the port's file is removed. */
static bool
remove_port_locked(VrtNetworkDriver *drv, GMutexLocker **locker, VrtNetworkObj *obj, const guchar port_uuid[16],
                   GError **error)
{
    g_autofree char *net = g_strdup(obj->live->name);
    VrtNetworkPortDef *port = remove_port_begin_locked(obj, port_uuid);
    g_clear_pointer(locker, g_mutex_locker_free);
    return !port || remove_port_finish(drv, obj, net, port, error);
}

bool
vrt_netdrv_port_delete(VrtNetworkDriver *drv, const guchar net_uuid[16], const guchar port_uuid[16], guint flags,
                       GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, "vrt_netdrv_port_delete");
        return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = NULL;
    if (!port_by_uuid_locked(drv, net_uuid, port_uuid, &obj, error))
        return false;
    return remove_port_locked(drv, &locker, obj, port_uuid, error);
}

/* ---- the qemu driver's entry points ---- */

static VrtNetworkPortAlloc *
alloc_from_port(const VrtNetworkPortDef *port)
{
    VrtNetworkPortAlloc *alloc = g_new0(VrtNetworkPortAlloc, 1);
    memcpy(alloc->port_uuid, port->uuid, 16);
    alloc->isolated = -1;
    if (port->plug_type == VRT_NETWORK_PLUG_HOSTDEV_PCI) {
        alloc->type = VRT_NETWORK_PORT_ACTUAL_HOSTDEV;
        alloc->pci_addr = port->plug_addr;
        alloc->managed = port->plug_managed == 1;
    } else {
        alloc->type = VRT_NETWORK_PORT_ACTUAL_BRIDGE;
        alloc->bridge = g_strdup(port->plug_bridge);
    }
    alloc->vlan_full = port->vlan;
    alloc->bandwidth = port->bandwidth;
    alloc->vlan = port->vlan.present && port->vlan.ntags > 0 ? (int)port->vlan.tags[0] : -1;
    return alloc;
}

/* What a port file must hold to be read back after a restart. */
static bool
check_owner(const char *owner_name, const guint8 mac[6], GError **error)
{
    if (!owner_name || !*owner_name) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "a network port needs an owner name");
        return false;
    }
    if (mac[0] & 1) {
        char m[VRT_MAC_STRING_LEN];
        vrt_mac_format(mac, m);
        vrt_error_set(error, VIR_ERR_INVALID_MAC, "multicast mac address '%s' cannot be used by a network port", m);
        return false;
    }
    return true;
}

static VrtNetworkPortDef *
new_port(const char *owner_name, const guchar owner_uuid[16], const guint8 mac[6])
{
    VrtNetworkPortDef *port = vrt_network_port_def_new();
    port->owner_name = g_strdup(owner_name);
    memcpy(port->owner_uuid, owner_uuid, 16);
    memcpy(port->mac, mac, 6);
    return port;
}

VrtNetworkPortAlloc *
vrt_network_port_allocate(VrtNetworkDriver *drv, const char *network_name, const char *owner_name,
                          const guchar owner_uuid[16], const guint8 mac[6], GError **error)
{
    return vrt_network_port_allocate_uuid(drv, network_name, owner_name, owner_uuid, mac, NULL, error);
}

VrtNetworkPortAlloc *
vrt_network_port_allocate_uuid(VrtNetworkDriver *drv, const char *network_name, const char *owner_name,
                               const guchar owner_uuid[16], const guint8 mac[6], const guchar port_uuid[16],
                               GError **error)
{
    return vrt_network_port_allocate_full(drv, network_name, owner_name, owner_uuid, mac, port_uuid, NULL, NULL, error);
}

VrtNetworkPortAlloc *
vrt_network_port_allocate_full(VrtNetworkDriver *drv, const char *network_name, const char *owner_name,
                               const guchar owner_uuid[16], const guint8 mac[6], const guchar port_uuid[16],
                               const char *portgroup, const VrtBandwidth *bandwidth, GError **error)
{
    if (!check_owner(owner_name, mac, error))
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = active_by_name_locked(drv, network_name, error);
    if (!obj)
        return NULL;
    g_autoptr(VrtNetworkPortDef) port = new_port(owner_name, owner_uuid, mac);
    /* the interface's own <bandwidth>, else its portgroup's (or the
     * default portgroup's), as libvirt's networkAllocatePort */
    const VrtNetworkPortGroup *pg = vrt_network_def_portgroup(obj->live, portgroup);
    if (pg)
        port->group = g_strdup(pg->name);
    if (bandwidth && (bandwidth->in.present || bandwidth->out.present))
        port->bandwidth = *bandwidth;
    else if (pg)
        port->bandwidth = pg->bandwidth;
    /* the network's <port isolated>; the interface's own wins (qemu driver) */
    int isolated = obj->live->port_isolated;
    if (port_uuid) {
        const VrtNetworkPortDef *existing = find_port_locked(obj, port_uuid);
        if (existing && memcmp(existing->owner_uuid, owner_uuid, 16) == 0) {
            VrtNetworkPortAlloc *again = alloc_from_port(existing);
            again->isolated = isolated;
            return again;
        }
        if (existing || pending_has_locked(obj, port_uuid)) {
            port_exists_error(error, port_uuid, network_name);
            return NULL;
        }
        memcpy(port->uuid, port_uuid, 16);
    } else {
        fresh_port_uuid_locked(obj, port->uuid);
    }
    VrtNetworkPortAlloc *alloc = NULL;
    if (!add_port_locked(drv, &locker, obj, g_steal_pointer(&port), &alloc, error))
        return NULL;
    alloc->isolated = isolated;
    return alloc;
}

bool
vrt_network_port_release(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = network_name ? g_hash_table_lookup(drv->nets, network_name) : NULL;
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(port_uuid, u);
    if (!obj || !obj->live || !find_port_locked(obj, port_uuid)) {
        g_debug("network '%s': release of unknown port %s ignored", network_name ? network_name : "", u);
        return true;
    }
    return remove_port_locked(drv, &locker, obj, port_uuid, error);
}

bool
vrt_network_port_reserve(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16],
                         const char *owner_name, const guchar owner_uuid[16], const guint8 mac[6],
                         const VrtPciAddr *pci_addr, GError **error)
{
    if (!check_owner(owner_name, mac, error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = active_by_name_locked(drv, network_name, error);
    if (!obj)
        return false;
    g_autoptr(VrtNetworkPortDef) port = new_port(owner_name, owner_uuid, mac);
    memcpy(port->uuid, port_uuid, 16);
    if (is_hostdev(obj->live)) {
        if (!pci_addr) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid VF PCI address '%s' for a port of network '%s'", "",
                          network_name);
            return false;
        }
        port->plug_addr = *pci_addr;
        port->plug_type = VRT_NETWORK_PLUG_HOSTDEV_PCI;
        port->plug_managed = obj->live->forward_managed == 1 ? 1 : 0;
        port->plug_driver = g_strdup(obj->live->forward_driver);
    } else if (obj->live->bridge_name) {
        port->plug_type = vrt_network_is_virtual(obj->live) ? VRT_NETWORK_PLUG_NETWORK : VRT_NETWORK_PLUG_BRIDGE;
        port->plug_bridge = g_strdup(obj->live->bridge_name);
    }
    port->vlan = obj->live->vlan;

    VrtNetworkPortDef *existing = find_port_locked(obj, port_uuid);
    if (existing) {
        /* Already known (loaded from its file): fine if it is the same claim. */
        if (memcmp(existing->owner_uuid, owner_uuid, 16) == 0 && existing->plug_type == port->plug_type &&
            (port->plug_type != VRT_NETWORK_PLUG_HOSTDEV_PCI ||
             vrt_pci_addr_equal(&existing->plug_addr, &port->plug_addr)))
            return true;
        char u[VRT_UUID_STRING_LEN];
        vrt_uuid_format(port_uuid, u);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "port %s of network '%s' is already registered for '%s' with another device", u, network_name,
                      existing->owner_name);
        return false;
    }
    if (pending_has_locked(obj, port_uuid)) {
        port_exists_error(error, port_uuid, network_name);
        return false;
    }
    if (port->plug_type == VRT_NETWORK_PLUG_NONE) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network '%s' cannot hold ports in vrt", network_name);
        return false;
    }
    return add_port_locked(drv, &locker, obj, g_steal_pointer(&port), NULL, error);
}

int
vrt_network_ports_in_use(VrtNetworkDriver *drv, const char *network_name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, network_name, error);
    return obj ? (int)g_hash_table_size(obj->ports) : -1;
}

/* ---- load and invariants ---- */

void
vrt_network_load_ports_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj)
{
    g_autofree char *dir = vrt_network_ports_dir(drv, obj->live->name);
    /* An older vrtd kept them in NAME/ports/ (see vrt_network_ports_dir). */
    g_autofree char *old_parent = g_build_filename(drv->state_dir, obj->live->name, NULL);
    g_autofree char *old_dir = g_build_filename(old_parent, "ports", NULL);
    if (g_file_test(old_dir, G_FILE_TEST_IS_DIR) && !g_file_test(dir, G_FILE_TEST_EXISTS)) {
        g_autofree char *parent = g_path_get_dirname(dir);
        g_autoptr(GError) err = NULL;
        if (!vrt_dir_ensure(parent, PORT_DIR_MODE, &err))
            g_warning("network '%s': %s", obj->live->name, err->message);
        else if (rename(old_dir, dir) < 0)
            g_warning("network '%s': cannot move %s to %s: %s", obj->live->name, old_dir, dir, g_strerror(errno));
        else
            (void)g_rmdir(old_parent);
    }
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        if (n[0] != '.' && g_str_has_suffix(n, ".xml"))
            g_ptr_array_add(names, g_strdup(n));
    for (guint i = 0; i < names->len; i++) {
        const char *file = g_ptr_array_index(names, i);
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtNetworkPortDef) port = NULL;
        if (vrt_file_read(path, &xml, NULL, &err))
            port = vrt_network_port_def_parse(xml, &err);
        if (!port) {
            g_warning("network '%s': skipping port file %s: %s", obj->live->name, path, err->message);
            continue;
        }
        char u[VRT_UUID_STRING_LEN + 4];
        vrt_uuid_format(port->uuid, u);
        g_strlcat(u, ".xml", sizeof(u));
        if (strcmp(u, file) != 0 || find_port_locked(obj, port->uuid)) {
            g_warning("network '%s': skipping port file %s: its uuid does not match its name", obj->live->name, path);
            continue;
        }
        if (port->plug_type == VRT_NETWORK_PLUG_HOSTDEV_PCI) {
            g_autofree char *a = vrt_pci_addr_format(&port->plug_addr);
            g_autoptr(VrtVfHolder) holder = vrt_network_port_holder(obj->live->name, port);
            if (!vrt_vf_registry_claim(drv->vfs, &port->plug_addr, holder, NULL, &err)) {
                g_warning("network '%s': skipping port file %s: %s", obj->live->name, path, err->message);
                continue;
            }
            if (!in_pool(obj->live, &port->plug_addr))
                g_warning("network '%s': port %s holds VF %s, which is outside the pool", obj->live->name, file, a);
        }
        if (port->class_id)
            g_hash_table_insert(obj->floors, GUINT_TO_POINTER(port->class_id),
                                g_memdup2(&port->bandwidth.in.floor, sizeof(guint64)));
        g_hash_table_insert(obj->ports, g_strndup(file, strlen(file) - 4), g_steal_pointer(&port));
    }
}

static bool
check_disk_ports_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj, GError **error)
{
    const char *name = vrt_network_obj_def(obj)->name;
    g_autofree char *dir = vrt_network_ports_dir(drv, name);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint on_disk = 0;
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        if (n[0] == '.' || !g_str_has_suffix(n, ".xml"))
            continue;
        g_autofree char *key = g_strndup(n, strlen(n) - 4);
        if (g_hash_table_contains(obj->pending, key))
            continue; /* being added or removed right now */
        on_disk++;
        VrtNetworkPortDef *port = g_hash_table_lookup(obj->ports, key);
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_autofree char *xml = NULL;
        if (!port || !vrt_file_read(path, &xml, NULL, NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': port file %s has no port in memory", name, n);
            return false;
        }
        g_autofree char *mem = vrt_network_port_def_format(port);
        if (strcmp(mem, xml) != 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': port file %s differs from the port in memory",
                          name, n);
            return false;
        }
    }
    if (on_disk != g_hash_table_size(obj->ports)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': %u ports in memory but %u port files", name,
                      g_hash_table_size(obj->ports), on_disk);
        return false;
    }
    return true;
}

bool
vrt_network_driver_check_invariants(VrtNetworkDriver *drv, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    g_autoptr(GHashTable) owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter nit, pit;
    gpointer nv, pk, pv;
    g_hash_table_iter_init(&nit, drv->nets);
    while (g_hash_table_iter_next(&nit, NULL, &nv)) {
        VrtNetworkObj *obj = nv;
        const char *name = vrt_network_obj_def(obj)->name;
        if (!obj->live && g_hash_table_size(obj->ports) > 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "inactive network '%s' holds ports", name);
            return false;
        }
        g_hash_table_iter_init(&pit, obj->ports);
        while (g_hash_table_iter_next(&pit, &pk, &pv)) {
            VrtNetworkPortDef *port = pv;
            if (port->plug_type != VRT_NETWORK_PLUG_HOSTDEV_PCI)
                continue;
            g_autofree char *a = vrt_pci_addr_format(&port->plug_addr);
            const char *prev = g_hash_table_lookup(owners, a);
            if (prev) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s is owned by port %s and by port %s/%s", a, prev,
                              name, (const char *)pk);
                return false;
            }
            if (obj->live && !in_pool(obj->live, &port->plug_addr)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "port %s/%s holds VF %s outside the pool", name,
                              (const char *)pk, a);
                return false;
            }
            g_autoptr(VrtVfHolder) held = vrt_vf_registry_lookup(drv->vfs, &port->plug_addr);
            g_autoptr(VrtVfHolder) want = vrt_network_port_holder(name, port);
            if (!held || !vrt_vf_holder_same(held, want)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "port %s/%s holds VF %s, but the VF registry %s", name,
                              (const char *)pk, a, held ? "names another holder" : "has no claim for it");
                return false;
            }
            g_hash_table_insert(owners, g_strdup(a), g_strdup_printf("%s/%s", name, (const char *)pk));
        }
        if (obj->live) {
            g_autoptr(VrtNetworkDef) counted = vrt_network_live_with_counts_locked(obj);
            guint sum = 0;
            for (guint i = 0; i < counted->forward_addrs->len; i++) {
                guint c = g_array_index(counted->forward_addrs, VrtNetworkForwardAddr, i).connections;
                if (c > 1) {
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': a VF has %u connections", name, c);
                    return false;
                }
                sum += c;
            }
            if (counted->forward_addrs->len > 0 && sum != counted->connections) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': %u connections but %u VFs in use", name,
                              counted->connections, sum);
                return false;
            }
        }
        if (!check_disk_ports_locked(drv, obj, error))
            return false;
    }
    return true;
}

bool
vrt_network_port_update_bandwidth(VrtNetworkDriver *drv, const char *network_name, const guchar port_uuid[16],
                                  const char *portgroup, const VrtBandwidth *bandwidth, VrtBandwidth *effective,
                                  GError **error)
{
    g_autoptr(VrtNetworkPortDef) updated = NULL;
    VrtBandwidth net_bw;
    guint old_class = 0;
    guint64 rate = 0;
    g_autofree char *bridge = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        VrtNetworkObj *obj = active_by_name_locked(drv, network_name, error);
        if (!obj)
            return false;
        VrtNetworkPortDef *port = find_port_locked(obj, port_uuid);
        if (!port) {
            char u[VRT_UUID_STRING_LEN];
            vrt_uuid_format(port_uuid, u);
            vrt_error_set(error, VIR_ERR_NO_NETWORK_PORT, "network port with uuid %s not found", u);
            return false;
        }
        updated = vrt_network_port_def_copy(port);
        const VrtNetworkPortGroup *pg = vrt_network_def_portgroup(obj->live, portgroup);
        g_free(updated->group);
        updated->group = pg ? g_strdup(pg->name) : NULL;
        memset(&updated->bandwidth, 0, sizeof(updated->bandwidth));
        if (bandwidth && (bandwidth->in.present || bandwidth->out.present))
            updated->bandwidth = *bandwidth;
        else if (pg)
            updated->bandwidth = pg->bandwidth;
        /* the old floor steps aside while the new one is checked */
        old_class = port->class_id;
        g_autofree guint64 *old_floor = NULL;
        if (old_class)
            g_hash_table_steal_extended(obj->floors, GUINT_TO_POINTER(old_class), NULL, (gpointer *)&old_floor);
        if (!reserve_floor_locked(obj, updated, &rate, error)) {
            if (old_class)
                g_hash_table_insert(obj->floors, GUINT_TO_POINTER(old_class), g_steal_pointer(&old_floor));
            return false;
        }
        net_bw = obj->live->bandwidth;
        bridge = g_strdup(port->plug_bridge);
        /* the new setting is the port's from here (the old one freed by
         * the table); a failed tc below leaves it recorded without its
         * class */
        char u[VRT_UUID_STRING_LEN];
        vrt_uuid_format(port_uuid, u);
        g_hash_table_insert(obj->ports, g_strdup(u), vrt_network_port_def_copy(updated));
    }
    if (old_class && bridge)
        vrt_network_bandwidth_unplug(bridge, old_class);
    bool ok = true;
    if (updated->class_id && bridge) {
        ok = vrt_network_bandwidth_plug(bridge, &net_bw, updated->mac, &updated->bandwidth, updated->class_id, error);
        if (ok)
            vrt_network_bandwidth_update_rate(bridge, &net_bw, rate);
    }
    g_autofree char *path = vrt_network_port_path(drv, network_name, port_uuid);
    g_autofree char *xml = vrt_network_port_def_format(updated);
    if (!vrt_file_write_atomic(path, xml, -1, PORT_FILE_MODE, ok ? error : NULL))
        ok = false;
    if (effective)
        *effective = updated->bandwidth;
    return ok;
}

/*
 * Network lifecycle: define, undefine, start, stop, autostart, listing and
 * the load of everything under the state root when vrtd starts. Ports and
 * hostdev pools are in network_port.c; both share one driver mutex (see
 * network_driver.h for the locking contract). An operation that writes a
 * definition, reads the host (a <pf>'s VFs) or writes run state holds the
 * network's name and uuid (NetHold) instead of the mutex while it does so,
 * and takes the mutex only to check and to commit.
 */
#include "drivers/network/network_driver_priv.h"
#include "drivers/network/network_virt.h"
#include "host/netdev.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/xml.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define NETWORK_DIR_MODE 0755
#define NETWORK_FILE_MODE 0600
#define NETWORK_DEFINE_VALIDATE (1u << 0) /* virNetworkDefineFlags */
#define NETWORK_LIST_ALL_FLAGS 0x3fu

/* ---- refs ---- */

VrtNetworkRef *
vrt_network_ref_new(const char *name, const guchar uuid[16])
{
    VrtNetworkRef *ref = g_new0(VrtNetworkRef, 1);
    ref->name = g_strdup(name);
    memcpy(ref->uuid, uuid, 16);
    return ref;
}

void
vrt_network_ref_free(VrtNetworkRef *ref)
{
    if (!ref)
        return;
    g_free(ref->name);
    g_free(ref);
}

static VrtNetworkRef *
obj_ref_locked(const VrtNetworkObj *obj)
{
    const VrtNetworkDef *def = vrt_network_obj_def(obj);
    return vrt_network_ref_new(def->name, def->uuid);
}

/* ---- objects ---- */

static void
obj_free(gpointer p)
{
    VrtNetworkObj *obj = p;
    if (!obj)
        return;
    vrt_network_def_free(obj->def);
    vrt_network_def_free(obj->live);
    g_hash_table_unref(obj->ports);
    g_hash_table_unref(obj->pending);
    g_hash_table_unref(obj->floors);
    g_free(obj);
}

/* A new object with no definition yet, entered in the table under name. */
static VrtNetworkObj *
obj_add_locked(VrtNetworkDriver *drv, const char *name)
{
    VrtNetworkObj *obj = g_new0(VrtNetworkObj, 1);
    obj->ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vrt_network_port_def_free);
    obj->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    obj->floors = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    g_hash_table_insert(drv->nets, g_strdup(name), obj);
    return obj;
}

const VrtNetworkDef *
vrt_network_obj_def(const VrtNetworkObj *obj)
{
    return obj->live ? obj->live : obj->def;
}

VrtNetworkObj *
vrt_network_find_name_locked(VrtNetworkDriver *drv, const char *name, GError **error)
{
    VrtNetworkObj *obj = name ? g_hash_table_lookup(drv->nets, name) : NULL;
    if (!obj)
        vrt_error_set(error, VIR_ERR_NO_NETWORK, "no network with matching name '%s'", name ? name : "");
    return obj;
}

static VrtNetworkObj *
find_uuid_quiet_locked(VrtNetworkDriver *drv, const guchar uuid[16])
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, drv->nets);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VrtNetworkObj *obj = v;
        if (memcmp(vrt_network_obj_def(obj)->uuid, uuid, 16) == 0)
            return obj;
    }
    return NULL;
}

VrtNetworkObj *
vrt_network_find_uuid_locked(VrtNetworkDriver *drv, const guchar uuid[16], GError **error)
{
    VrtNetworkObj *obj = find_uuid_quiet_locked(drv, uuid);
    if (!obj) {
        char s[VRT_UUID_STRING_LEN];
        vrt_uuid_format(uuid, s);
        vrt_error_set(error, VIR_ERR_NO_NETWORK, "no network with matching uuid '%s'", s);
    }
    return obj;
}

/* ---- paths ---- */

static char *
config_path(VrtNetworkDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->config_dir, file, NULL);
}

static char *
autostart_path(VrtNetworkDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->autostart_dir, file, NULL);
}

static char *
status_path(VrtNetworkDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->state_dir, file, NULL);
}

/* A network's ports live in ports/NAME/ under the state directory, not in
 * NAME/ports/ beside the status files: the directory of network "a.xml"
 * would be the status file of network "a". No status file is named
 * "ports" (each ends in ".xml"), and ports/ holds only directories named
 * after networks, so the mapping from names to paths is injective. */
char *
vrt_network_ports_dir(VrtNetworkDriver *drv, const char *net_name)
{
    return g_build_filename(drv->state_dir, "ports", net_name, NULL);
}

char *
vrt_network_port_path(VrtNetworkDriver *drv, const char *net_name, const guchar port_uuid[16])
{
    char u[VRT_UUID_STRING_LEN];
    vrt_uuid_format(port_uuid, u);
    g_autofree char *file = g_strconcat(u, ".xml", NULL);
    g_autofree char *dir = vrt_network_ports_dir(drv, net_name);
    return g_build_filename(dir, file, NULL);
}

static bool
check_flags(guint flags, guint allowed, const char *func, GError **error)
{
    if (flags & ~allowed) {
        vrt_error_set_flags(error, flags & ~allowed, func);
        return false;
    }
    return true;
}

/* ---- driver ---- */

VrtNetworkDriver *
vrt_network_driver_new(const char *state_root, VrtHost *host, VrtVfRegistry *vfs, GError **error)
{
    g_autoptr(VrtNetworkDriver) drv = g_new0(VrtNetworkDriver, 1);
    g_mutex_init(&drv->lock);
    g_cond_init(&drv->changed);
    g_mutex_init(&drv->watch_lock);
    g_cond_init(&drv->watch_cond);
    drv->nets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, obj_free);
    drv->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *root = state_root && *state_root ? state_root : "/";
    drv->config_dir = g_build_filename(root, "etc", "vrt", "network", NULL);
    drv->autostart_dir = g_build_filename(drv->config_dir, "autostart", NULL);
    drv->state_dir = g_build_filename(root, "run", "vrt", "network", NULL);
    drv->dir_sync = vrt_dir_sync_new();
    drv->host = host;
    if (!vfs)
        vfs = drv->own_vfs = vrt_vf_registry_new();
    drv->vfs = vfs;
    if (!vrt_dir_ensure(drv->autostart_dir, NETWORK_DIR_MODE, error) ||
        !vrt_dir_ensure(drv->state_dir, NETWORK_DIR_MODE, error))
        return NULL;
    return g_steal_pointer(&drv);
}

void
vrt_network_driver_free(VrtNetworkDriver *drv)
{
    if (!drv)
        return;
    vrt_network_watch_stop(drv);
    if (drv->nets)
        g_hash_table_unref(drv->nets);
    if (drv->busy)
        g_hash_table_unref(drv->busy);
    g_free(drv->config_dir);
    g_free(drv->autostart_dir);
    g_free(drv->state_dir);
    vrt_dir_sync_free(drv->dir_sync);
    vrt_vf_registry_free(drv->own_vfs);
    g_cond_clear(&drv->changed);
    g_mutex_clear(&drv->lock);
    g_cond_clear(&drv->watch_cond);
    g_mutex_clear(&drv->watch_lock);
    g_free(drv);
}

/* ---- operations in progress ---- */

/* The names and uuid of a network an operation changes. While held, no
 * other operation changes that network (it waits), so the operation may
 * drop the driver lock for its I/O and commit after it. */
typedef struct {
    VrtNetworkDriver *drv; /* NULL: nothing held */
    char *keys[2];
} NetHold;

static void
net_hold_clear(NetHold *h)
{
    if (!h->drv)
        return;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&h->drv->lock);
    for (guint i = 0; i < G_N_ELEMENTS(h->keys); i++) {
        if (h->keys[i])
            g_hash_table_remove(h->drv->busy, h->keys[i]);
        g_clear_pointer(&h->keys[i], g_free);
    }
    /* a changed network invalidates what a reload has read */
    h->drv->defs_gen++;
    g_cond_broadcast(&h->drv->changed);
    h->drv = NULL;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(NetHold, net_hold_clear)

/* Waits (releasing the driver lock meanwhile) until no other operation
 * holds key, then holds it. Driver lock held. */
static void
net_hold_key_locked(VrtNetworkDriver *drv, NetHold *h, const char *kind, const char *value)
{
    g_autofree char *key = g_strconcat(kind, ":", value, NULL);
    guint slot = h->keys[0] ? 1 : 0;
    g_assert(!h->keys[slot]);
    while (g_hash_table_contains(drv->busy, key))
        g_cond_wait(&drv->changed, &drv->lock);
    g_hash_table_add(drv->busy, g_strdup(key));
    h->drv = drv;
    h->keys[slot] = g_steal_pointer(&key);
    drv->defs_gen++;
}

static void
net_hold_name_locked(VrtNetworkDriver *drv, NetHold *h, const char *name)
{
    net_hold_key_locked(drv, h, "name", name);
}

/* ---- start / stop ---- */

/* Reads the VFs of live's <pf> from the host (no lock held). */
static bool
resolve_pf_pool(VrtNetworkDriver *drv, VrtNetworkDef *live, GError **error)
{
    if (!drv->host) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s': no host to find the VFs of PF '%s'", live->name,
                      live->pf_dev);
        return false;
    }
    g_autoptr(GPtrArray) vfs = vrt_sriov_list_vfs_by_netdev(drv->host, live->pf_dev, error);
    if (!vfs)
        return false;
    g_array_set_size(live->forward_addrs, 0);
    for (guint i = 0; i < vfs->len; i++) {
        VrtNetworkForwardAddr fa = { .addr = *(const VrtPciAddr *)g_ptr_array_index(vfs, i) };
        g_array_append_val(live->forward_addrs, fa);
    }
    if (live->forward_addrs->len == 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no virtual functions found on SR-IOV PF '%s' of network '%s'",
                      live->pf_dev, live->name);
        return false;
    }
    return true;
}

/* The elements a definition may hold that vrt does not put into effect
 * when it starts a network: refused by name instead of ignored. */
static bool
check_applied(const VrtNetworkDef *live, GError **error)
{
    const char *what = NULL;
    if (live->vport.present)
        what = "<virtualport>";
    for (guint i = 0; !what && i < live->portgroups->len; i++)
        if (((const VrtNetworkPortGroup *)g_ptr_array_index(live->portgroups, i))->vport.present)
            what = "<virtualport> of a <portgroup>";
    if (!what && live->routes->len)
        what = "static <route>";
    for (guint i = 0; i < live->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(live->ips, i);
        g_autofree char *ptr = ip->local_ptr == 1 ? vrt_network_ip_ptr_domain(ip) : NULL;
        if (ip->local_ptr == 1 && !ptr) {
            /* libvirt's words */
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "PTR domain for %s network with prefix %d cannot be automatically created",
                          vrt_network_ip_is_v6(ip) ? "IPv6" : "IPv4", vrt_network_ip_prefix(ip));
            return false;
        }
    }
    if (!what)
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network '%s': %s is not supported by vrt yet", live->name, what);
    return false;
}

/* Checks that vrt can run this network and resolves its pool. */
static bool
prepare_live(VrtNetworkDriver *drv, VrtNetworkDef *live, GError **error)
{
    const char *mode = vrt_network_forward_mode_to_string(live->forward_mode);
    if (!check_applied(live, error))
        return false;
    switch (live->has_forward ? live->forward_mode : VRT_NETWORK_FORWARD_NONE) {
    case VRT_NETWORK_FORWARD_HOSTDEV:
        if (live->pf_dev)
            return resolve_pf_pool(drv, live, error);
        if (live->forward_addrs->len == 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "network '%s' with forward mode 'hostdev' has neither <pf> nor PCI <address> elements",
                          live->name);
            return false;
        }
        return true;
    case VRT_NETWORK_FORWARD_BRIDGE:
        if (live->bridge_name && live->forward_ifs->len == 0 && !live->forward_dev)
            return true;
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "network '%s': forward mode 'bridge' over interfaces (macvtap) is not supported by vrt yet; "
                      "use <bridge name=...> of an existing host bridge",
                      live->name);
        return false;
    case VRT_NETWORK_FORWARD_NONE:
    case VRT_NETWORK_FORWARD_NAT:
    case VRT_NETWORK_FORWARD_ROUTE:
    case VRT_NETWORK_FORWARD_OPEN:
        /* nat and route are limited to the interface in their rules */
        if (live->forward_mode == VRT_NETWORK_FORWARD_OPEN && (live->forward_dev || live->forward_ifs->len > 0)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "network '%s': forward mode '%s' restricted to a host interface is not supported by vrt yet",
                          live->name, live->has_forward ? mode : "none");
            return false;
        }
        if (live->has_forward && live->forward_mode == VRT_NETWORK_FORWARD_OPEN && live->ips->len == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "forward mode 'open' requires at least one ip address in network '%s'", live->name);
            return false;
        }
        return true;
    case VRT_NETWORK_FORWARD_PASSTHROUGH:
    case VRT_NETWORK_FORWARD_PRIVATE:
    case VRT_NETWORK_FORWARD_VEPA:
    default:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "network '%s': forward mode '%s' (macvtap) is not supported by vrt yet", live->name, mode);
        return false;
    }
}

/* Removes what a start of a virtual network made on the host: its rules,
 * its dnsmasq and its bridge (which takes its addresses along). */
static void
virt_teardown(VrtNetworkDriver *drv, const VrtNetworkDef *live)
{
    vrt_network_firewall_remove(drv, live);
    vrt_network_dnsmasq_stop(drv, live->name);
    vrt_network_bridge_stop(drv, live);
}

/* A virtual network without <bridge name> gets a free virbrN in its
 * running definition, as libvirt. Driver lock held. */
static void
pick_bridge_locked(VrtNetworkDriver *drv, VrtNetworkDef *live)
{
    if (vrt_network_is_virtual(live) && !live->bridge_name) {
        live->bridge_name = vrt_network_pick_bridge_locked(drv);
        live->has_bridge = true;
    }
}

/* The host and file side of a start, without the lock (the caller holds
 * the network): resolves the pool, makes the ports directory and writes
 * the live state. Nothing is left behind on failure but the directory. */
static bool
start_prepare(VrtNetworkDriver *drv, VrtNetworkDef *live, GError **error)
{
    live->connections = 0;
    for (guint i = 0; i < live->forward_addrs->len; i++)
        g_array_index(live->forward_addrs, VrtNetworkForwardAddr, i).connections = 0;
    if (!prepare_live(drv, live, error))
        return false;
    g_autofree char *ports = vrt_network_ports_dir(drv, live->name);
    g_autofree char *path = status_path(drv, live->name);
    g_autofree char *xml = vrt_network_def_format(live);
    if (!vrt_dir_ensure(ports, NETWORK_DIR_MODE, error))
        return false;
    bool virt = vrt_network_is_virtual(live);
    if (virt && !vrt_network_bridge_start(drv, live, error))
        return false;
    if (virt && (!vrt_network_dnsmasq_start(drv, live, error) || !vrt_network_firewall_add(drv, live, error))) {
        virt_teardown(drv, live);
        return false;
    }
    if (!vrt_file_write_atomic(path, xml, -1, NETWORK_FILE_MODE, error)) {
        if (virt)
            virt_teardown(drv, live);
        return false;
    }
    return true;
}

/* Makes live (ownership taken) obj's running definition. */
static void
start_commit_locked(VrtNetworkObj *obj, VrtNetworkDef *live)
{
    g_info("network '%s': started (%s, %u devices in pool)", live->name,
           vrt_network_forward_mode_to_string(live->forward_mode), live->forward_addrs->len);
    obj->live = live;
}

static bool
stop_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj, GError **error)
{
    const char *name = obj->live->name;
    guint n = g_hash_table_size(obj->ports) + g_hash_table_size(obj->pending);
    if (n > 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "network '%s' is still in use by %u port%s", name, n,
                      n == 1 ? "" : "s");
        return false;
    }
    g_autofree char *path = status_path(drv, name);
    if (!vrt_file_remove(path, error))
        return false;
    g_autofree char *ports = vrt_network_ports_dir(drv, name);
    if (g_rmdir(ports) < 0 && errno != ENOENT)
        g_debug("network '%s': cannot remove %s: %s", name, ports, g_strerror(errno));
    g_info("network '%s': stopped", name);
    g_clear_pointer(&obj->live, vrt_network_def_free);
    return true;
}

/* ---- define / undefine ---- */

/* Parses a definition a client sends, with the flags func accepts. */
static VrtNetworkDef *
parse_client_def(const char *xml, guint flags, const char *func, GError **error)
{
    if (!check_flags(flags, NETWORK_DEFINE_VALIDATE, func, error))
        return NULL;
    if ((flags & NETWORK_DEFINE_VALIDATE) &&
        !vrt_xml_validate_string(xml, "(network_definition)", "network.rng", error))
        return NULL;
    VrtNetworkDef *def = vrt_network_def_parse(xml, 0, error);
    if (def && vrt_network_is_virtual(def) && !def->mac) {
        /* as libvirt: the bridge of a network vrt makes gets a fixed MAC
         * of its own in the definition (52:54:00, QEMU's prefix), so it
         * keeps its address across restarts instead of taking a guest's */
        def->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256), g_random_int_range(0, 256),
                                   g_random_int_range(0, 256));
    }
    return def;
}

/* libvirt's rules for a new definition against the known networks; adopts
 * the existing uuid when the XML had none. Sets *same_name to the object
 * with the same name (or NULL); false with *error set when def clashes. */
static bool
check_new_def_locked(VrtNetworkDriver *drv, VrtNetworkDef *def, VrtNetworkObj **same_name, GError **error)
{
    VrtNetworkObj *by_name = g_hash_table_lookup(drv->nets, def->name);
    if (by_name && !def->uuid_given)
        memcpy(def->uuid, vrt_network_obj_def(by_name)->uuid, 16);
    VrtNetworkObj *by_uuid = find_uuid_quiet_locked(drv, def->uuid);
    char u[VRT_UUID_STRING_LEN];
    if (by_uuid && by_uuid != by_name) {
        vrt_uuid_format(def->uuid, u);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "network '%s' is already defined with uuid %s",
                      vrt_network_obj_def(by_uuid)->name, u);
        return false;
    }
    if (by_name && by_uuid != by_name) {
        vrt_uuid_format(vrt_network_obj_def(by_name)->uuid, u);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "network '%s' already exists with uuid %s", def->name, u);
        return false;
    }
    *same_name = by_name;
    return true;
}

/* Holds def's name and then its uuid (adopted from the network of that
 * name when the XML has none) and checks def against the known networks
 * as check_new_def_locked, once both are held. Driver lock held. */
static bool
hold_new_def_locked(VrtNetworkDriver *drv, NetHold *h, VrtNetworkDef *def, VrtNetworkObj **same_name, GError **error)
{
    char u[VRT_UUID_STRING_LEN];
    net_hold_name_locked(drv, h, def->name);
    if (!check_new_def_locked(drv, def, same_name, error))
        return false;
    vrt_uuid_format(def->uuid, u);
    net_hold_key_locked(drv, h, "uuid", u);
    /* another network may have taken the uuid while we waited for it */
    return check_new_def_locked(drv, def, same_name, error);
}

VrtNetworkRef *
vrt_netdrv_define_xml(VrtNetworkDriver *drv, const char *xml, guint flags, GError **error)
{
    g_autoptr(VrtNetworkDef) def = parse_client_def(xml, flags, "vrt_netdrv_define_xml", error);
    if (!def)
        return NULL;
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = NULL;
    if (!hold_new_def_locked(drv, &hold, def, &obj, error))
        return NULL;
    /* as libvirt, the free virbrN is chosen once, into the definition (a
     * redefinition keeps the one it had) */
    if (obj && obj->def && obj->def->bridge_name && !def->bridge_name && vrt_network_is_virtual(def)) {
        def->bridge_name = g_strdup(obj->def->bridge_name);
        def->has_bridge = true;
    }
    pick_bridge_locked(drv, def);
    g_autofree char *path = config_path(drv, def->name);
    g_autofree char *out = vrt_network_def_format(def);
    /* The write and its fsyncs run without the lock (the network is held):
     * other networks' calls and ports go on meanwhile, and concurrent
     * defines share the directory fsync. */
    g_clear_pointer(&locker, g_mutex_locker_free);
    if (!vrt_dir_ensure(drv->config_dir, NETWORK_DIR_MODE, error) ||
        !vrt_file_write_durable(drv->dir_sync, path, out, -1, NETWORK_FILE_MODE, error))
        return NULL;
    locker = g_mutex_locker_new(&drv->lock);
    obj = g_hash_table_lookup(drv->nets, def->name);
    if (!obj)
        obj = obj_add_locked(drv, def->name);
    vrt_network_def_free(obj->def);
    obj->def = g_steal_pointer(&def);
    g_info("network '%s': defined", obj->def->name);
    return obj_ref_locked(obj);
}

/* The network name names, if it has a persistent definition; else
 * VIR_ERR_OPERATION_INVALID with transient_msg. Driver lock held. */
static VrtNetworkObj *
find_persistent_locked(VrtNetworkDriver *drv, const char *name, const char *transient_msg, GError **error)
{
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (obj && !obj->def) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", transient_msg);
        return NULL;
    }
    return obj;
}

/* The network name names, if it is running (want_active) or not; else
 * libvirt's VIR_ERR_OPERATION_INVALID. Driver lock held. */
static VrtNetworkObj *
find_in_state_locked(VrtNetworkDriver *drv, const char *name, bool want_active, GError **error)
{
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (obj && (obj->live != NULL) != want_active) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                      want_active ? "network is not active" : "network is already active");
        return NULL;
    }
    return obj;
}

bool
vrt_netdrv_undefine(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    net_hold_name_locked(drv, &hold, name ? name : "");
    if (!find_persistent_locked(drv, name, "cannot undefine transient network", error))
        return false;
    g_autofree char *link = autostart_path(drv, name);
    g_autofree char *path = config_path(drv, name);
    g_clear_pointer(&locker, g_mutex_locker_free);
    bool unlinked = vrt_file_remove(link, error);
    bool removed = unlinked && vrt_file_remove_durable(drv->dir_sync, path, error);
    locker = g_mutex_locker_new(&drv->lock);
    /* held by us, so still there and still persistent */
    VrtNetworkObj *obj = g_hash_table_lookup(drv->nets, name);
    if (unlinked)
        obj->autostart = false;
    if (!removed)
        return false;
    g_info("network '%s': undefined%s", name, obj->live ? " (still running, now transient)" : "");
    if (obj->live)
        g_clear_pointer(&obj->def, vrt_network_def_free);
    else
        g_hash_table_remove(drv->nets, name);
    return true;
}

/* ---- start / stop API ---- */

bool
vrt_netdrv_create(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    net_hold_name_locked(drv, &hold, name ? name : "");
    VrtNetworkObj *obj = find_in_state_locked(drv, name, false, error);
    if (!obj)
        return false;
    g_autoptr(VrtNetworkDef) live = vrt_network_def_copy(obj->def);
    pick_bridge_locked(drv, live);
    g_clear_pointer(&locker, g_mutex_locker_free);
    if (!start_prepare(drv, live, error))
        return false;
    locker = g_mutex_locker_new(&drv->lock);
    obj = g_hash_table_lookup(drv->nets, name); /* held by us: still there, inactive */
    start_commit_locked(obj, g_steal_pointer(&live));
    return true;
}

VrtNetworkRef *
vrt_netdrv_create_xml(VrtNetworkDriver *drv, const char *xml, guint flags, GError **error)
{
    g_autoptr(VrtNetworkDef) def = parse_client_def(xml, flags, "vrt_netdrv_create_xml", error);
    if (!def)
        return NULL;
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = NULL;
    if (!hold_new_def_locked(drv, &hold, def, &obj, error))
        return NULL;
    if (obj && obj->live) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "network is already active as '%s'", obj->live->name);
        return NULL;
    }
    pick_bridge_locked(drv, def);
    g_clear_pointer(&locker, g_mutex_locker_free);
    if (!start_prepare(drv, def, error))
        return NULL;
    locker = g_mutex_locker_new(&drv->lock);
    obj = g_hash_table_lookup(drv->nets, def->name);
    if (!obj)
        obj = obj_add_locked(drv, def->name);
    start_commit_locked(obj, g_steal_pointer(&def));
    return obj_ref_locked(obj);
}

bool
vrt_netdrv_destroy(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    net_hold_name_locked(drv, &hold, name ? name : "");
    VrtNetworkObj *obj = find_in_state_locked(drv, name, true, error);
    if (!obj)
        return false;
    g_autoptr(VrtNetworkDef) live = vrt_network_def_copy(obj->live);
    if (!stop_locked(drv, obj, error))
        return false;
    if (!obj->def)
        g_hash_table_remove(drv->nets, name);
    /* stopped: the host side goes without the lock (the network is still
     * held, so no start of it runs meanwhile) */
    g_clear_pointer(&locker, g_mutex_locker_free);
    if (vrt_network_is_virtual(live))
        virt_teardown(drv, live);
    return true;
}

/* ---- queries ---- */

VrtNetworkRef *
vrt_netdrv_lookup_by_name(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    return obj ? obj_ref_locked(obj) : NULL;
}

VrtNetworkRef *
vrt_netdrv_lookup_by_uuid(VrtNetworkDriver *drv, const guchar uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, uuid, error);
    return obj ? obj_ref_locked(obj) : NULL;
}

char *
vrt_netdrv_get_xml(VrtNetworkDriver *drv, const char *name, guint flags, GError **error)
{
    if (!check_flags(flags, VRT_NETWORK_XML_INACTIVE, "vrt_netdrv_get_xml", error))
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (!obj)
        return NULL;
    if ((flags & VRT_NETWORK_XML_INACTIVE) && obj->def)
        return vrt_network_def_format(obj->def);
    if (obj->live) {
        g_autoptr(VrtNetworkDef) counted = vrt_network_live_with_counts_locked(obj);
        return vrt_network_def_format(counted);
    }
    return vrt_network_def_format(obj->def);
}

static bool
matches_filter(const VrtNetworkObj *obj, guint flags)
{
    bool active = obj->live != NULL, persistent = obj->def != NULL;
    guint f_act = flags & (VRT_CONNECT_LIST_NETWORKS_ACTIVE | VRT_CONNECT_LIST_NETWORKS_INACTIVE);
    guint f_per = flags & (VRT_CONNECT_LIST_NETWORKS_PERSISTENT | VRT_CONNECT_LIST_NETWORKS_TRANSIENT);
    guint f_auto = flags & (VRT_CONNECT_LIST_NETWORKS_AUTOSTART | VRT_CONNECT_LIST_NETWORKS_NO_AUTOSTART);
    if (f_act && !((active && (f_act & VRT_CONNECT_LIST_NETWORKS_ACTIVE)) ||
                   (!active && (f_act & VRT_CONNECT_LIST_NETWORKS_INACTIVE))))
        return false;
    if (f_per && !((persistent && (f_per & VRT_CONNECT_LIST_NETWORKS_PERSISTENT)) ||
                   (!persistent && (f_per & VRT_CONNECT_LIST_NETWORKS_TRANSIENT))))
        return false;
    if (f_auto && !((obj->autostart && (f_auto & VRT_CONNECT_LIST_NETWORKS_AUTOSTART)) ||
                    (!obj->autostart && (f_auto & VRT_CONNECT_LIST_NETWORKS_NO_AUTOSTART))))
        return false;
    return true;
}

static gint
compare_refs(gconstpointer a, gconstpointer b)
{
    const VrtNetworkRef *ra = *(VrtNetworkRef *const *)a, *rb = *(VrtNetworkRef *const *)b;
    return strcmp(ra->name, rb->name);
}

GPtrArray *
vrt_netdrv_list_all(VrtNetworkDriver *drv, guint flags, GError **error)
{
    if (!check_flags(flags, NETWORK_LIST_ALL_FLAGS, "vrt_netdrv_list_all", error))
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_ref_free);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, drv->nets);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (matches_filter(v, flags))
            g_ptr_array_add(out, obj_ref_locked(v));
    g_ptr_array_sort(out, compare_refs);
    return out;
}

int
vrt_netdrv_num_active(VrtNetworkDriver *drv)
{
    g_autoptr(GPtrArray) names = vrt_netdrv_list_names(drv, true);
    return (int)names->len;
}

int
vrt_netdrv_num_defined(VrtNetworkDriver *drv)
{
    g_autoptr(GPtrArray) names = vrt_netdrv_list_names(drv, false);
    return (int)names->len;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
vrt_netdrv_list_names(VrtNetworkDriver *drv, bool active)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, drv->nets);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        VrtNetworkObj *obj = v;
        if (active ? obj->live != NULL : (obj->live == NULL && obj->def != NULL))
            g_ptr_array_add(out, g_strdup(k));
    }
    g_ptr_array_sort(out, compare_strings);
    return out;
}

int
vrt_netdrv_is_active(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    return obj ? obj->live != NULL : -1;
}

int
vrt_netdrv_is_persistent(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    return obj ? obj->def != NULL : -1;
}

int
vrt_netdrv_get_autostart(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    return obj ? obj->autostart : -1;
}

bool
vrt_netdrv_set_autostart(VrtNetworkDriver *drv, const char *name, bool autostart, GError **error)
{
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    net_hold_name_locked(drv, &hold, name ? name : "");
    if (!find_persistent_locked(drv, name, "cannot set autostart for transient network", error))
        return false;
    g_autofree char *link = autostart_path(drv, name);
    /* Absolute, so the link still resolves when --root was relative. */
    g_autofree char *rel = config_path(drv, name);
    g_autofree char *target = g_canonicalize_filename(rel, NULL);
    g_clear_pointer(&locker, g_mutex_locker_free);
    bool ok = vrt_file_remove(link, error);
    bool linked = false;
    if (ok && autostart) {
        ok = vrt_dir_ensure(drv->autostart_dir, NETWORK_DIR_MODE, error);
        if (ok && symlink(target, link) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to create symlink '%s' to '%s'", link,
                                target);
            ok = false;
        }
        linked = ok;
    }
    locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = g_hash_table_lookup(drv->nets, name); /* held by us: still there */
    obj->autostart = linked;
    return ok;
}

char *
vrt_netdrv_get_bridge_name(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (!obj)
        return NULL;
    const VrtNetworkDef *def = vrt_network_obj_def(obj);
    if (!def->bridge_name) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s' does not have a bridge name.", def->name);
        return NULL;
    }
    return g_strdup(def->bridge_name);
}

int
vrt_network_get_forward_mode(VrtNetworkDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, error);
    if (!obj)
        return -1;
    const VrtNetworkDef *def = vrt_network_obj_def(obj);
    return def->has_forward ? (int)def->forward_mode : (int)VRT_NETWORK_FORWARD_NONE;
}

int
vrt_network_get_port_isolated(VrtNetworkDriver *drv, const char *name)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_name_locked(drv, name, NULL);
    return obj ? vrt_network_obj_def(obj)->port_isolated : -1;
}

/* ---- load ---- */

/* Names of the *.xml files in dir, sorted. Every name a network may have
 * counts, a leading "." included; temporaries (NAME.xml.new.XXXXXX) do not
 * end in .xml, and a directory (the port directory of a network named
 * "x.xml") is not a definition. NULL with an error only when dir exists but
 * cannot be read. */
static GPtrArray *
list_xml_files(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
    if (!d) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&out);
        vrt_error_set(error, VIR_ERR_READ_FAILED, "cannot read directory '%s': %s", dir, local->message);
        return NULL;
    }
    const char *n;
    while ((n = g_dir_read_name(d))) {
        if (!g_str_has_suffix(n, ".xml") || strlen(n) <= 4)
            continue;
        g_autofree char *path = g_build_filename(dir, n, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            continue;
        g_ptr_array_add(out, g_strdup(n));
    }
    g_ptr_array_sort(out, compare_strings);
    return g_steal_pointer(&out);
}

static VrtNetworkDef *
load_def(const char *dir, const char *file, guint flags)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    if (!vrt_file_read(path, &xml, NULL, &err)) {
        g_warning("network: skipping %s: %s", path, err->message);
        return NULL;
    }
    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(xml, flags, &err);
    if (!def) {
        g_warning("network: skipping %s: %s", path, err->message);
        return NULL;
    }
    g_autofree char *expected = g_strconcat(def->name, ".xml", NULL);
    if (strcmp(expected, file) != 0) {
        g_warning("network: skipping %s: it defines network '%s'", path, def->name);
        return NULL;
    }
    return g_steal_pointer(&def);
}

static bool
load_configs_locked(VrtNetworkDriver *drv, GError **error)
{
    g_autoptr(GPtrArray) files = list_xml_files(drv->config_dir, error);
    if (!files)
        return false;
    for (guint i = 0; i < files->len; i++) {
        VrtNetworkDef *def = load_def(drv->config_dir, g_ptr_array_index(files, i), 0);
        if (!def)
            continue;
        if (find_uuid_quiet_locked(drv, def->uuid)) {
            g_warning("network '%s': skipped, its uuid is already used by another network", def->name);
            vrt_network_def_free(def);
            continue;
        }
        VrtNetworkObj *obj = obj_add_locked(drv, def->name);
        obj->def = def;
        g_autofree char *link = autostart_path(drv, def->name);
        obj->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK) || g_file_test(link, G_FILE_TEST_EXISTS);
    }
    return true;
}

static bool
load_status_locked(VrtNetworkDriver *drv, GError **error)
{
    g_autoptr(GPtrArray) files = list_xml_files(drv->state_dir, error);
    if (!files)
        return false;
    for (guint i = 0; i < files->len; i++) {
        g_autoptr(VrtNetworkDef) live = load_def(drv->state_dir, g_ptr_array_index(files, i), VRT_NETWORK_PARSE_STATUS);
        if (!live)
            continue;
        VrtNetworkObj *obj = g_hash_table_lookup(drv->nets, live->name);
        VrtNetworkObj *other = find_uuid_quiet_locked(drv, live->uuid);
        if ((obj && obj->def && memcmp(obj->def->uuid, live->uuid, 16) != 0) || (other && other != obj)) {
            g_warning("network '%s': running state ignored, its uuid does not match the definition", live->name);
            continue;
        }
        if (!obj)
            obj = obj_add_locked(drv, live->name);
        live->connections = 0;
        obj->live = g_steal_pointer(&live);
        vrt_network_load_ports_locked(drv, obj);
        g_info("network '%s': running (%u ports)", obj->live->name, g_hash_table_size(obj->ports));
    }
    return true;
}

bool
vrt_network_driver_load(VrtNetworkDriver *drv, GError **error)
{
    g_autoptr(GPtrArray) autostart = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_def_free);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        if (!load_configs_locked(drv, error) || !load_status_locked(drv, error))
            return false;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, drv->nets);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            VrtNetworkObj *obj = v;
            if (obj->autostart && !obj->live && obj->def)
                g_ptr_array_add(autostart, g_strdup(obj->def->name));
            if (obj->live && vrt_network_is_virtual(obj->live))
                g_ptr_array_add(running, vrt_network_def_copy(obj->live));
        }
    }
    /* Running virtual networks keep their bridge, dnsmasq and rules across
     * a restart of vrtd; what went missing meanwhile is made again. */
    for (guint i = 0; i < running->len; i++) {
        const VrtNetworkDef *live = g_ptr_array_index(running, i);
        g_autoptr(GError) err = NULL;
        if (!vrt_netdev_exists(drv->host, live->bridge_name) && !vrt_network_bridge_start(drv, live, &err))
            g_warning("network '%s': cannot create its bridge again: %s", live->name, err->message);
        g_clear_error(&err);
        if (!vrt_network_dnsmasq_check(drv, live, &err))
            g_warning("network '%s': %s", live->name, err->message);
        g_clear_error(&err);
        if (!vrt_network_firewall_check(drv, live, &err))
            g_warning("network '%s': %s", live->name, err->message);
    }
    /* A start reads the host: without the lock, as any start. */
    for (guint i = 0; i < autostart->len; i++) {
        g_autoptr(GError) err = NULL;
        const char *name = g_ptr_array_index(autostart, i);
        if (!vrt_netdrv_create(drv, name, &err))
            g_warning("network '%s': autostart failed: %s", name, err->message);
    }
    vrt_network_watch_start(drv);
    return true;
}

GPtrArray *
vrt_network_dead_dnsmasqs(VrtNetworkDriver *drv)
{
    g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_def_free);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, drv->nets);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            VrtNetworkObj *obj = v;
            if (obj->live && vrt_network_is_virtual(obj->live))
                g_ptr_array_add(running, vrt_network_def_copy(obj->live));
        }
    }
    GPtrArray *dead = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < running->len; i++) {
        const VrtNetworkDef *live = g_ptr_array_index(running, i);
        if (vrt_network_dnsmasq_wanted(live) && vrt_network_dnsmasq_pid(drv, live->name) == 0)
            g_ptr_array_add(dead, g_strdup(live->name));
    }
    return dead;
}

void
vrt_network_dnsmasq_revive(VrtNetworkDriver *drv, const char *name)
{
    /* held: no start, stop or update of this network runs meanwhile (one
     * that ran since the check above either left a dnsmasq or none) */
    g_auto(NetHold) hold = { 0 };
    g_autoptr(VrtNetworkDef) live = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        net_hold_name_locked(drv, &hold, name);
        VrtNetworkObj *obj = g_hash_table_lookup(drv->nets, name);
        if (!obj || !obj->live || !vrt_network_is_virtual(obj->live))
            return;
        live = vrt_network_def_copy(obj->live);
    }
    if (vrt_network_dnsmasq_pid(drv, name) != 0)
        return;
    g_autoptr(GError) err = NULL;
    g_warning("network '%s': its dnsmasq died, starting it again", name);
    if (!vrt_network_dnsmasq_start(drv, live, &err))
        g_warning("network '%s': %s", name, err->message);
}

/* ---- reload (SIGHUP) ---- */

/* One definition file as read for a reload (outside the driver lock). */
typedef struct {
    VrtNetworkDef *def;
    bool autostart;
} ReloadEntry;

static void
reload_entry_free(gpointer p)
{
    ReloadEntry *e = p;
    vrt_network_def_free(e->def);
    g_free(e);
}

/* The definitions under config_dir that parse (load_def logs the others,
 * with file and reason) and their autostart marks. NULL when the
 * directory cannot be read. */
static GPtrArray *
read_configs(VrtNetworkDriver *drv, GError **error)
{
    g_autoptr(GPtrArray) files = list_xml_files(drv->config_dir, error);
    if (!files)
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(reload_entry_free);
    for (guint i = 0; i < files->len; i++) {
        VrtNetworkDef *def = load_def(drv->config_dir, g_ptr_array_index(files, i), 0);
        if (!def)
            continue;
        ReloadEntry *e = g_new0(ReloadEntry, 1);
        g_autofree char *link = autostart_path(drv, def->name);
        e->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK) || g_file_test(link, G_FILE_TEST_EXISTS);
        e->def = def;
        g_ptr_array_add(out, e);
    }
    return out;
}

/* Takes one definition as a define would (same clash checks); a running
 * network keeps its live state, the file is its next start. Driver lock held. */
static void
reload_one_locked(VrtNetworkDriver *drv, ReloadEntry *e, guint *n_added, guint *n_updated)
{
    g_autoptr(GError) err = NULL;
    VrtNetworkObj *obj = NULL;
    if (!check_new_def_locked(drv, e->def, &obj, &err)) {
        g_warning("reload: skipping network config of '%s': %s", e->def->name, err->message);
        return;
    }
    if (!obj) {
        obj = obj_add_locked(drv, e->def->name);
        (*n_added)++;
        g_message("reload: network '%s' added", e->def->name);
    } else {
        g_autofree char *old = obj->def ? vrt_network_def_format(obj->def) : NULL;
        g_autofree char *new = vrt_network_def_format(e->def);
        if (old && g_str_equal(old, new)) {
            obj->autostart = e->autostart;
            return;
        }
        (*n_updated)++;
        g_message("reload: network '%s' updated%s", e->def->name, obj->live ? " (takes effect at its next start)" : "");
    }
    vrt_network_def_free(obj->def);
    obj->def = g_steal_pointer(&e->def);
    obj->autostart = e->autostart;
}

void
vrt_network_driver_reload(VrtNetworkDriver *drv)
{
    /* Files are read outside the lock, once no operation is changing a
     * network; one that starts meanwhile (taking and giving back a network
     * bumps defs_gen) makes the files read stale, so they are read again. */
    for (guint attempt = 0; attempt < 5; attempt++) {
        guint gen;
        g_autoptr(GError) err = NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
            while (g_hash_table_size(drv->busy) > 0)
                g_cond_wait(&drv->changed, &drv->lock);
            gen = drv->defs_gen;
        }
        g_autoptr(GPtrArray) entries = read_configs(drv, &err);
        if (!entries) {
            g_warning("reload: %s", err->message);
            return;
        }
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        if (drv->defs_gen != gen)
            continue;
        guint n_added = 0, n_updated = 0;
        /* As libvirt: a network whose file is gone is kept. */
        for (guint i = 0; i < entries->len; i++)
            reload_one_locked(drv, g_ptr_array_index(entries, i), &n_added, &n_updated);
        g_message("reload: networks: %u added, %u updated", n_added, n_updated);
        return;
    }
    g_warning("reload: network definitions kept changing while being read; not reloaded");
}

/* ---- NETWORK_UPDATE ---- */

#define NETWORK_UPDATE_AFFECT_LIVE (1u << 0)
#define NETWORK_UPDATE_AFFECT_CONFIG (1u << 1)

enum {
    UPDATE_MODIFY = 1,
    UPDATE_DELETE = 2,
    UPDATE_ADD_LAST = 3,
    UPDATE_ADD_FIRST = 4,
};

enum {
    SECTION_IP_DHCP_HOST = 4,
    SECTION_IP_DHCP_RANGE = 5,
    SECTION_FORWARD_INTERFACE = 7,
    SECTION_PORTGROUP = 9,
    SECTION_DNS_HOST = 10,
    SECTION_DNS_TXT = 11,
    SECTION_DNS_SRV = 12,
};

/* The <ip> an update of a dhcp section acts on: the one at parent_index,
 * or (-1) the first IPv4 one with an address. */
static VrtNetworkIpDef *
update_ip(VrtNetworkDef *def, int parent_index, GError **error)
{
    if (parent_index >= 0) {
        if ((guint)parent_index < def->ips->len)
            return g_ptr_array_index(def->ips, parent_index);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "couldn't update dhcp section - no <ip> element found at index %d in network '%s'", parent_index,
                      def->name);
        return NULL;
    }
    /* as libvirt: the <ip> that serves DHCP, else the first IPv4 one,
     * else the first IPv6 one */
    for (guint i = 0; i < def->ips->len; i++) {
        VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        if (ip->ranges->len || ip->hosts->len)
            return ip;
    }
    for (int v6 = 0; v6 <= 1; v6++) {
        for (guint i = 0; i < def->ips->len; i++) {
            VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
            if (ip->address && vrt_network_ip_is_v6(ip) == (bool)v6)
                return ip;
        }
    }
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                  "couldn't update dhcp host entry - no <ip> element found in network '%s'", def->name);
    return NULL;
}

static bool
same_str(const char *a, const char *b)
{
    return a && b && g_ascii_strcasecmp(a, b) == 0;
}

static char *
host_xml(const VrtNetworkDhcpHost *h)
{
    GString *s = g_string_new("<host");
    const char *names[] = { "mac", "name", "ip" };
    const char *values[] = { h->mac, h->name, h->ip };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (values[i]) {
            g_autofree char *v = g_markup_escape_text(values[i], -1);
            g_string_append_printf(s, " %s='%s'", names[i], v);
        }
    }
    g_string_append(s, "/>");
    return g_string_free(s, FALSE);
}

static bool
update_hosts(VrtNetworkDef *def, VrtNetworkIpDef *ip, guint command, const char *xml, GError **error)
{
    g_autoptr(VrtNetworkDhcpHost) h = vrt_network_dhcp_host_parse(xml, error);
    if (!h)
        return false;
    g_autofree char *text = host_xml(h);
    gint found = -1;
    for (guint i = 0; i < ip->hosts->len && found < 0; i++) {
        const VrtNetworkDhcpHost *e = g_ptr_array_index(ip->hosts, i);
        bool match = command == UPDATE_ADD_FIRST || command == UPDATE_ADD_LAST
                         ? same_str(e->mac, h->mac) || same_str(e->name, h->name) || same_str(e->ip, h->ip)
                     : h->mac ? same_str(e->mac, h->mac)
                              : same_str(e->name, h->name);
        if (match && command == UPDATE_DELETE && !same_str(e->ip, h->ip))
            match = false;
        if (match)
            found = (gint)i;
    }
    switch (command) {
    case UPDATE_ADD_FIRST:
    case UPDATE_ADD_LAST:
        if (found >= 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "there is an existing dhcp host entry in network '%s' that matches \"%s\"", def->name, text);
            return false;
        }
        ip->has_dhcp = true;
        if (command == UPDATE_ADD_FIRST)
            g_ptr_array_insert(ip->hosts, 0, g_steal_pointer(&h));
        else
            g_ptr_array_add(ip->hosts, g_steal_pointer(&h));
        return true;
    case UPDATE_DELETE:
    case UPDATE_MODIFY:
        if (found < 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "couldn't locate a matching dhcp host entry in network '%s'", def->name);
            return false;
        }
        if (command == UPDATE_DELETE)
            g_ptr_array_remove_index(ip->hosts, found);
        else {
            vrt_network_dhcp_host_free(g_ptr_array_index(ip->hosts, found));
            ip->hosts->pdata[found] = g_steal_pointer(&h);
        }
        return true;
    default:
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unrecognized network update command code %u", command);
        return false;
    }
}

static bool
update_ranges(VrtNetworkDef *def, VrtNetworkIpDef *ip, guint command, const char *xml, GError **error)
{
    g_autoptr(VrtNetworkDhcpRange) r = vrt_network_dhcp_range_parse(xml, error);
    if (!r || !vrt_network_check_dhcp_range(ip, r->start, r->end, error))
        return false;
    if ((strchr(r->start, ':') != NULL) != vrt_network_ip_is_v6(ip)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                      "the address family of a dhcp range must match the address family of the dhcp element's "
                      "parent");
        return false;
    }
    gint found = -1;
    for (guint i = 0; i < ip->ranges->len && found < 0; i++) {
        const VrtNetworkDhcpRange *e = g_ptr_array_index(ip->ranges, i);
        if (same_str(e->start, r->start) && same_str(e->end, r->end))
            found = (gint)i;
    }
    switch (command) {
    case UPDATE_ADD_FIRST:
    case UPDATE_ADD_LAST:
        if (found >= 0) {
            vrt_error_set(
                error, VIR_ERR_OPERATION_INVALID,
                "there is an existing dhcp range entry in network '%s' that matches \"<range start='%s' end='%s'/>\"",
                def->name, r->start, r->end);
            return false;
        }
        ip->has_dhcp = true;
        if (command == UPDATE_ADD_FIRST)
            g_ptr_array_insert(ip->ranges, 0, g_steal_pointer(&r));
        else
            g_ptr_array_add(ip->ranges, g_steal_pointer(&r));
        return true;
    case UPDATE_DELETE:
        if (found < 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "couldn't locate a matching dhcp range entry in network '%s'", def->name);
            return false;
        }
        g_ptr_array_remove_index(ip->ranges, found);
        return true;
    case UPDATE_MODIFY:
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "dhcp ranges cannot be modified, only added or deleted");
        return false;
    default:
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unrecognized network update command code %u", command);
        return false;
    }
}

/* <dns><host>: added (no other record with its IP or one of its names) or
 * deleted (the record with its IP and names); modify is libvirt's refusal. */
static bool
update_dns_hosts(VrtNetworkDef *def, guint command, const char *xml, GError **error)
{
    g_autoptr(VrtNetworkDnsHost) h = vrt_network_dns_host_parse(xml, error);
    if (!h)
        return false;
    gint same = -1, overlap = -1;
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const VrtNetworkDnsHost *e = g_ptr_array_index(def->dns_hosts, i);
        bool names_equal = g_strv_equal((const char *const *)e->hostnames, (const char *const *)h->hostnames);
        bool names_meet = false;
        for (guint j = 0; h->hostnames[j] && !names_meet; j++)
            names_meet = g_strv_contains((const char *const *)e->hostnames, h->hostnames[j]);
        if (same < 0 && same_str(e->ip, h->ip) && names_equal)
            same = (gint)i;
        if (overlap < 0 && (same_str(e->ip, h->ip) || names_meet))
            overlap = (gint)i;
    }
    switch (command) {
    case UPDATE_ADD_FIRST:
    case UPDATE_ADD_LAST:
        if (overlap >= 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "there is already at least one DNS HOST record with a matching field in network %s",
                          def->name);
            return false;
        }
        def->has_dns = true;
        if (command == UPDATE_ADD_FIRST)
            g_ptr_array_insert(def->dns_hosts, 0, g_steal_pointer(&h));
        else
            g_ptr_array_add(def->dns_hosts, g_steal_pointer(&h));
        return true;
    case UPDATE_DELETE:
        if (same < 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "couldn't locate a matching DNS HOST record in network %s",
                          def->name);
            return false;
        }
        g_ptr_array_remove_index(def->dns_hosts, same);
        return true;
    case UPDATE_MODIFY:
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "DNS HOST records cannot be modified, only added or deleted");
        return false;
    default:
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unrecognized network update command code %u", command);
        return false;
    }
}

static bool
apply_update(VrtNetworkDef *def, guint command, guint section, int parent_index, const char *xml, GError **error)
{
    if (section == SECTION_DNS_HOST)
        return update_dns_hosts(def, command, xml, error);
    if (section == SECTION_DNS_TXT)
        return vrt_network_update_dns_txt(def, command, xml, error);
    if (section == SECTION_DNS_SRV)
        return vrt_network_update_dns_srv(def, command, xml, error);
    if (section == SECTION_PORTGROUP)
        return vrt_network_update_portgroup(def, command, xml, error);
    if (section == SECTION_FORWARD_INTERFACE)
        return vrt_network_update_forward_if(def, command, xml, error);
    if (section != SECTION_IP_DHCP_HOST && section != SECTION_IP_DHCP_RANGE) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT,
                      "can't update section %u of network '%s': vrt updates ip-dhcp-host, ip-dhcp-range, dns-host, "
                      "dns-txt, dns-srv, portgroup and forward-interface",
                      section, def->name);
        return false;
    }
    VrtNetworkIpDef *ip = update_ip(def, parent_index, error);
    if (!ip)
        return false;
    return section == SECTION_IP_DHCP_HOST ? update_hosts(def, ip, command, xml, error)
                                           : update_ranges(def, ip, command, xml, error);
}

bool
vrt_netdrv_update(VrtNetworkDriver *drv, const guchar net_uuid[16], guint command, guint section, int parent_index,
                  const char *xml, guint flags, GError **error)
{
    if (!check_flags(flags, NETWORK_UPDATE_AFFECT_LIVE | NETWORK_UPDATE_AFFECT_CONFIG, "vrt_netdrv_update", error))
        return false;
    g_auto(NetHold) hold = { 0 };
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, net_uuid, error);
    if (!obj)
        return false;
    g_autofree char *name = g_strdup(vrt_network_obj_def(obj)->name);
    net_hold_name_locked(drv, &hold, name);
    obj = g_hash_table_lookup(drv->nets, name);
    if (!obj) {
        vrt_error_set(error, VIR_ERR_NO_NETWORK, "no network with matching name '%s'", name);
        return false;
    }
    bool live = (flags & NETWORK_UPDATE_AFFECT_LIVE) || (flags == 0 && obj->live);
    bool config = (flags & NETWORK_UPDATE_AFFECT_CONFIG) || (flags == 0 && !obj->live);
    if (live && !obj->live) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "network is not running");
        return false;
    }
    if (config && !obj->def) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "cannot change persistent config of a transient network");
        return false;
    }
    g_autoptr(VrtNetworkDef) newdef = config ? vrt_network_def_copy(obj->def) : NULL;
    g_autoptr(VrtNetworkDef) newlive = live ? vrt_network_def_copy(obj->live) : NULL;
    g_clear_pointer(&locker, g_mutex_locker_free);

    if ((newdef && !apply_update(newdef, command, section, parent_index, xml, error)) ||
        (newlive && !apply_update(newlive, command, section, parent_index, xml, error)))
        return false;
    if (newdef) {
        g_autofree char *path = config_path(drv, name);
        g_autofree char *out = vrt_network_def_format(newdef);
        if (!vrt_file_write_durable(drv->dir_sync, path, out, -1, NETWORK_FILE_MODE, error))
            return false;
    }
    if (newlive) {
        g_autofree char *path = status_path(drv, name);
        g_autofree char *out = vrt_network_def_format(newlive);
        if (!vrt_file_write_atomic(path, out, -1, NETWORK_FILE_MODE, error))
            return false;
        /* a range, TXT or SRV record is in dnsmasq's conf file, read at its
         * start only: a new dnsmasq, as libvirt; a portgroup is no host
         * state (it applies to the ports taken from now on) */
        bool restart = section == SECTION_IP_DHCP_RANGE || section == SECTION_DNS_TXT || section == SECTION_DNS_SRV;
        if (section == SECTION_FORWARD_INTERFACE) {
            /* the first forward interface is where a nat or route
             * network's rules send traffic, as libvirt's firewall refresh */
            if (vrt_network_is_virtual(newlive) && newlive->forward_mode != VRT_NETWORK_FORWARD_NONE &&
                newlive->forward_mode != VRT_NETWORK_FORWARD_OPEN && !vrt_network_firewall_add(drv, newlive, error))
                return false;
        } else if (section != SECTION_PORTGROUP && vrt_network_is_virtual(newlive) &&
                   !vrt_network_dnsmasq_update(drv, newlive, restart, error)) {
            return false;
        }
    }
    locker = g_mutex_locker_new(&drv->lock);
    obj = g_hash_table_lookup(drv->nets, name); /* held by us: still there */
    if (newdef) {
        vrt_network_def_free(obj->def);
        obj->def = g_steal_pointer(&newdef);
    }
    if (newlive) {
        vrt_network_def_free(obj->live);
        obj->live = g_steal_pointer(&newlive);
    }
    g_info("network '%s': updated (section %u, command %u)", name, section, command);
    return true;
}

/*
 * Tap-backed guest interfaces (see qemu_interface.h): the network port of
 * an <interface type='network'>, the tap device of it or of an
 * <interface type='bridge'>, and their release. The port is the network
 * driver's record that the interface uses the network (listed by
 * net-port-list, counted in the network's connections, refused a destroy);
 * the domain's status file keeps its uuid, so a restarted vrtd, which
 * reloads the ports from the network driver's files, keeps both sides.
 */
#include "drivers/qemu/qemu_interface.h"
#include "drivers/network/network_driver.h"
#include "host/netdev.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    char *network;
    guint8 uuid[16];
} TakenPort;

static void
taken_port_free(gpointer p)
{
    TakenPort *t = p;
    g_free(t->network);
    g_free(t);
}

VrtQemuTaps *
vrt_qemu_taps_new(VrtQemuDom *obj)
{
    VrtQemuTaps *taps = g_new0(VrtQemuTaps, 1);
    taps->fds = g_array_new(FALSE, FALSE, sizeof(int));
    taps->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    taps->ports = g_ptr_array_new_with_free_func(taken_port_free);
    taps->obj = obj;
    return taps;
}

void
vrt_qemu_taps_free(VrtQemuTaps *taps)
{
    if (!taps)
        return;
    for (guint i = 0; i < taps->fds->len; i++)
        close(g_array_index(taps->fds, int, i));
    VrtNetworkDriver *network = taps->obj ? taps->obj->drv->cfg.network : NULL;
    for (guint i = 0; !taps->keep && network && i < taps->ports->len; i++) {
        TakenPort *t = g_ptr_array_index(taps->ports, i);
        g_autoptr(GError) err = NULL;
        if (!vrt_network_port_release(network, t->network, t->uuid, &err))
            g_warning("network %s: %s", t->network, err->message);
    }
    g_array_free(taps->fds, TRUE);
    g_hash_table_destroy(taps->names);
    g_ptr_array_free(taps->ports, TRUE);
    g_free(taps);
}

/* The networks whose ports are bridges: vrt's own and a host bridge. */
static bool
network_is_tap_backed(VrtNetworkDriver *network, const char *name)
{
    switch (vrt_network_get_forward_mode(network, name, NULL)) {
    case VRT_NETWORK_FORWARD_NONE:
    case VRT_NETWORK_FORWARD_NAT:
    case VRT_NETWORK_FORWARD_ROUTE:
    case VRT_NETWORK_FORWARD_OPEN:
    case VRT_NETWORK_FORWARD_BRIDGE: return true;
    default: return false;
    }
}

static bool
host_is_kernel(VrtHost *host)
{
    g_autofree char *proc = host ? vrt_host_path(host, "/proc") : NULL;
    return proc && g_str_equal(proc, "/proc") && !vrt_host_is_simulated(host);
}

bool
vrt_qemu_interface_wants_tap(VrtQemuDom *obj, const VrtDomainNetDef *net)
{
    VrtQemuDriverConfig *cfg = &obj->drv->cfg;
    if (net->type == VRT_DOMAIN_NET_TYPE_BRIDGE)
        return net->source_bridge && host_is_kernel(cfg->host);
    if (net->type != VRT_DOMAIN_NET_TYPE_NETWORK || !cfg->network || !net->source_network)
        return false;
    if (net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        return false;
    return network_is_tap_backed(cfg->network, net->source_network);
}

const VrtBandwidth *
vrt_qemu_interface_bandwidth(const VrtDomainNetDef *net)
{
    return net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set ? &net->actual.bandwidth : &net->bandwidth;
}

VrtTristate
vrt_qemu_interface_port_isolated(const VrtDomainNetDef *net)
{
    return net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set ? net->actual.port_isolated : net->port_isolated;
}

bool
vrt_qemu_interface_apply_bandwidth(const VrtDomainNetDef *net, GError **error)
{
    if (!net->ifname)
        return true;
    return vrt_network_tap_bandwidth_set(net->ifname, vrt_qemu_interface_bandwidth(net), error);
}

/* Takes net's port (type network) unless it has one. */
static bool
take_port(VrtQemuDom *obj, const VrtDomainDef *def, VrtDomainNetDef *net, bool *taken, GError **error)
{
    VrtNetworkDriver *network = obj->drv->cfg.network;
    *taken = false;
    if (net->type != VRT_DOMAIN_NET_TYPE_NETWORK || (net->actual.set && net->port_uuid_set))
        return true;
    guint8 port[16];
    vrt_uuid_generate(port);
    g_autoptr(VrtNetworkPortAlloc) alloc = vrt_network_port_allocate_full(
        network, net->source_network, def->name, def->uuid, net->mac, port, net->portgroup, &net->bandwidth, error);
    if (!alloc)
        return false;
    if (alloc->type != VRT_NETWORK_PORT_ACTUAL_BRIDGE || !alloc->bridge) {
        g_autoptr(GError) err = NULL;
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "network '%s' gave no bridge for interface '%s'",
                      net->source_network, net->info.alias ? net->info.alias : "");
        if (!vrt_network_port_release(network, net->source_network, alloc->port_uuid, &err))
            g_warning("network %s: %s", net->source_network, err->message);
        return false;
    }
    net->actual.set = true;
    /* libvirt shows a bridge network's interface as type bridge, one on
     * its own bridge as type network */
    net->actual.type = vrt_network_get_forward_mode(network, net->source_network, NULL) == VRT_NETWORK_FORWARD_BRIDGE
                           ? VRT_DOMAIN_NET_TYPE_BRIDGE
                           : VRT_DOMAIN_NET_TYPE_NETWORK;
    g_free(net->actual.bridge);
    net->actual.bridge = g_strdup(alloc->bridge);
    memcpy(net->port_uuid, alloc->port_uuid, 16);
    net->port_uuid_set = true;
    net->actual.bandwidth = alloc->bandwidth;
    /* the interface's <port isolated>, else its network's, as libvirt */
    net->actual.port_isolated = net->port_isolated;
    if (net->port_isolated == VRT_TRISTATE_DEFAULT && alloc->isolated >= 0)
        net->actual.port_isolated = alloc->isolated ? VRT_TRISTATE_YES : VRT_TRISTATE_NO;
    *taken = true;
    return true;
}

static void
clear_port(VrtDomainNetDef *net)
{
    net->actual.set = false;
    memset(&net->actual.bandwidth, 0, sizeof(net->actual.bandwidth));
    net->actual.port_isolated = VRT_TRISTATE_DEFAULT;
    g_clear_pointer(&net->actual.bridge, g_free);
    net->port_uuid_set = false;
}

int
vrt_qemu_interface_open(VrtQemuDom *obj, const VrtDomainDef *def, VrtDomainNetDef *net, GError **error)
{
    bool taken;
    if (!take_port(obj, def, net, &taken, error))
        return -1;
    const char *bridge = net->type == VRT_DOMAIN_NET_TYPE_NETWORK ? net->actual.bridge : net->source_bridge;
    /* a name the driver generated last time is generated again */
    const char *want =
        net->ifname && !g_str_has_prefix(net->ifname, VRT_DOMAIN_NET_AUTO_IFNAME_PREFIX) ? net->ifname : NULL;
    guint8 mac[6];
    memcpy(mac, net->mac, 6);
    mac[0] = 0xFE;
    g_autofree char *name = NULL;
    int fd = vrt_netdev_tap_open(obj->drv->cfg.host, want, mac, net->mtu, bridge, &name, error);
    if (fd < 0) {
        if (taken)
            vrt_qemu_interface_release(obj, def->name, net);
        return -1;
    }
    g_free(net->ifname);
    net->ifname = g_steal_pointer(&name);
    /* shaped and isolated before QEMU sees it, as libvirt; the tap takes
     * both along when it goes */
    if ((vrt_qemu_interface_port_isolated(net) == VRT_TRISTATE_YES &&
         !vrt_netdev_bridge_port_set_isolated(obj->drv->cfg.host, bridge, net->ifname, true, error)) ||
        !vrt_qemu_interface_apply_bandwidth(net, error)) {
        close(fd);
        if (taken)
            vrt_qemu_interface_release(obj, def->name, net);
        return -1;
    }
    g_debug("domain %s: interface %s is tap %s on bridge %s", def->name, net->info.alias ? net->info.alias : "",
            net->ifname, bridge);
    return fd;
}

bool
vrt_qemu_interface_prepare_start(VrtQemuDom *obj, VrtDomainDef *def, int first_fd, VrtQemuTaps *taps, GError **error)
{
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(def->nets, i);
        /* a network that does not exist is named as libvirt names it,
         * not found later as an interface without a port */
        if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && obj->drv->cfg.network && net->source_network &&
            !(net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV) &&
            vrt_network_get_forward_mode(obj->drv->cfg.network, net->source_network, error) < 0)
            return false;
        if (!vrt_qemu_interface_wants_tap(obj, net))
            continue;
        /* a port the definition still names is from an earlier run */
        if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK)
            clear_port(net);
        int fd = vrt_qemu_interface_open(obj, def, net, error);
        if (fd < 0)
            return false;
        if (net->port_uuid_set) {
            TakenPort *t = g_new0(TakenPort, 1);
            t->network = g_strdup(net->source_network);
            memcpy(t->uuid, net->port_uuid, 16);
            g_ptr_array_add(taps->ports, t);
        }
        g_hash_table_insert(taps->names, g_strdup(net->info.alias),
                            g_strdup_printf("%d", first_fd + (int)taps->fds->len));
        g_array_append_val(taps->fds, fd);
    }
    return true;
}

void
vrt_qemu_interface_release(VrtQemuDom *obj, const char *dom_name, VrtDomainNetDef *net)
{
    VrtNetworkDriver *network = obj->drv->cfg.network;
    if (net->type != VRT_DOMAIN_NET_TYPE_NETWORK || !net->port_uuid_set || !network ||
        (net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV))
        return;
    g_autoptr(GError) err = NULL;
    if (!vrt_network_port_release(network, net->source_network, net->port_uuid, &err))
        g_warning("domain %s: port of %s: %s", dom_name, net->info.alias ? net->info.alias : "", err->message);
    clear_port(net);
}

void
vrt_qemu_interface_release_all(VrtQemuDom *obj)
{
    g_autoptr(GPtrArray) ports = g_ptr_array_new_with_free_func(taken_port_free);
    g_autofree char *name = NULL;
    VrtNetworkDriver *network = obj->drv->cfg.network;
    if (!network)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        name = g_strdup(obj->def->name);
        for (guint i = 0; i < obj->def->nets->len; i++) {
            VrtDomainNetDef *net = g_ptr_array_index(obj->def->nets, i);
            if (net->type != VRT_DOMAIN_NET_TYPE_NETWORK || !net->port_uuid_set ||
                (net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV))
                continue;
            TakenPort *t = g_new0(TakenPort, 1);
            t->network = g_strdup(net->source_network);
            memcpy(t->uuid, net->port_uuid, 16);
            g_ptr_array_add(ports, t);
            clear_port(net);
        }
    }
    /* the network driver's file I/O runs without the object lock */
    for (guint i = 0; i < ports->len; i++) {
        TakenPort *t = g_ptr_array_index(ports, i);
        g_autoptr(GError) err = NULL;
        if (!vrt_network_port_release(network, t->network, t->uuid, &err))
            g_warning("domain %s: port on network %s: %s", name, t->network, err->message);
    }
}

void
vrt_qemu_interface_driver_load(VrtQemuDriver *drv)
{
    VrtNetworkDriver *network = drv->cfg.network;
    if (!network)
        return;
    g_autoptr(GPtrArray) ports = vrt_network_port_list_by_owner(network, NULL);
    for (guint i = 0; ports && i < ports->len; i++) {
        VrtNetworkPortInfo *p = g_ptr_array_index(ports, i);
        g_autoptr(VrtQemuDom) obj = NULL;
        bool referenced = false;
        if (!p->alloc || p->alloc->type != VRT_NETWORK_PORT_ACTUAL_BRIDGE)
            continue;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
            obj = g_hash_table_lookup(drv->by_uuid, p->owner_uuid);
            if (obj)
                vrt_qemu_dom_ref(obj);
        }
        /* a port of no domain of ours was made by a client (net-port-create) */
        if (!obj)
            continue;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            for (guint j = 0; vrt_qemu_dom_is_active_locked(obj) && j < obj->def->nets->len; j++) {
                const VrtDomainNetDef *net = g_ptr_array_index(obj->def->nets, j);
                if (net->port_uuid_set && memcmp(net->port_uuid, p->alloc->port_uuid, 16) == 0)
                    referenced = true;
            }
        }
        if (referenced)
            continue;
        g_autoptr(GError) err = NULL;
        g_info("domain %s: releasing its unused port on network %s (a start or stop cut short)", p->owner_name,
               p->network);
        if (!vrt_network_port_release(network, p->network, p->alloc->port_uuid, &err))
            g_warning("domain %s: %s", p->owner_name, err->message);
    }
}

/* What the live update of one interface needs, read under the lock. */
typedef struct {
    VrtDomainNetType type, actual_type;
    char *network, *ifname, *portgroup;
    guint8 port_uuid[16];
    bool has_port;
    VrtBandwidth own;
} LiveNet;

static void
live_net_clear(LiveNet *l)
{
    g_free(l->network);
    g_free(l->ifname);
    g_free(l->portgroup);
}

bool
vrt_qemu_interface_update_live(VrtQemuDom *obj, const char *alias, const char *portgroup, const VrtBandwidth *bw,
                               GError **error)
{
    VrtNetworkDriver *network = obj->drv->cfg.network;
    LiveNet l = { 0 };
    guint8 mac[6];
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(obj->def, alias);
        if (!net) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "device not found");
            return false;
        }
        memcpy(mac, net->mac, 6);
        l.type = net->type;
        l.actual_type = vrt_domain_net_get_actual_type(net);
        l.network = g_strdup(net->source_network);
        l.ifname = g_strdup(net->ifname);
        l.portgroup = g_strdup(net->portgroup);
        l.has_port = net->port_uuid_set && net->type == VRT_DOMAIN_NET_TYPE_NETWORK;
        memcpy(l.port_uuid, net->port_uuid, 16);
        l.own = net->bandwidth;
    }
    VrtBandwidth effective = *bw;
    bool ok = true;
    if (l.has_port && network) {
        VrtBandwidth eff = { 0 };
        /* eff is only filled when the network took the change */
        ok = vrt_network_port_update_bandwidth(network, l.network, l.port_uuid, portgroup, bw, &eff, error);
        if (ok)
            effective = eff;
    } else if (bw->in.floor) {
        char m[VRT_MAC_STRING_LEN];
        vrt_mac_format(mac, m);
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only supported for "
                      "interface type 'network' with forward type 'nat', 'route', 'open' or none",
                      m);
        ok = false;
    }
    if (ok && l.ifname) {
        if (!vrt_network_tap_bandwidth_set(l.ifname, &effective, error)) {
            /* back to what was there, as libvirt */
            VrtBandwidth old_eff = l.own;
            if (l.has_port && network)
                vrt_network_port_update_bandwidth(network, l.network, l.port_uuid, l.portgroup, &l.own, &old_eff, NULL);
            vrt_network_tap_bandwidth_set(l.ifname, &old_eff, NULL);
            ok = false;
        }
    }
    if (ok) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(obj->def, alias);
        if (net) {
            net->bandwidth = *bw;
            if (g_strcmp0(net->portgroup, portgroup) != 0) {
                g_free(net->portgroup);
                net->portgroup = g_strdup(portgroup);
            }
            if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set)
                net->actual.bandwidth = effective;
        }
        /* logged on failure: the host already has the new setting */
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    live_net_clear(&l);
    return ok;
}

bool
vrt_qemu_interface_update_isolated(VrtQemuDom *obj, const char *alias, VrtTristate own, GError **error)
{
    g_autofree char *ifname = NULL, *bridge = NULL, *network_name = NULL;
    VrtTristate old;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(obj->def, alias);
        if (!net) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "device not found");
            return false;
        }
        old = vrt_qemu_interface_port_isolated(net);
        ifname = g_strdup(net->ifname);
        if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK) {
            network_name = g_strdup(net->source_network);
            bridge = g_strdup(net->actual.bridge);
        } else {
            bridge = g_strdup(net->source_bridge);
        }
    }
    /* the interface's own setting, else its network's, as at start */
    VrtTristate eff = own;
    VrtNetworkDriver *network = obj->drv->cfg.network;
    if (eff == VRT_TRISTATE_DEFAULT && network_name && network) {
        int n = vrt_network_get_port_isolated(network, network_name);
        eff = n < 0 ? VRT_TRISTATE_DEFAULT : n ? VRT_TRISTATE_YES : VRT_TRISTATE_NO;
    }
    if ((eff == VRT_TRISTATE_YES) != (old == VRT_TRISTATE_YES) && ifname && bridge &&
        !vrt_netdev_bridge_port_set_isolated(obj->drv->cfg.host, bridge, ifname, eff == VRT_TRISTATE_YES, error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(obj->def, alias);
    if (net) {
        net->port_isolated = own;
        if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set)
            net->actual.port_isolated = eff;
    }
    /* logged on failure: the host already has the new setting */
    vrt_qemu_dom_save_status_locked(obj, NULL);
    return true;
}

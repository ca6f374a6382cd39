/*
 * The bridge of an isolated, nat, route or open network: vrt creates it
 * at start (STP on and forward delay 0 unless the XML says otherwise, as
 * libvirt), gives it the network's addresses, turns on IP forwarding for
 * nat and route, and deletes it at destroy (its addresses and routes go
 * with it). A start is refused, before anything is created, when one of
 * the network's IPv4 subnets is already routed on the host, with
 * libvirt's error, so a network never shadows a host route.
 */
#include "drivers/network/network_virt.h"
#include "host/netdev.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <string.h>

bool
vrt_network_is_virtual(const VrtNetworkDef *def)
{
    switch (def->has_forward ? def->forward_mode : VRT_NETWORK_FORWARD_NONE) {
    case VRT_NETWORK_FORWARD_NONE:
    case VRT_NETWORK_FORWARD_NAT:
    case VRT_NETWORK_FORWARD_ROUTE:
    case VRT_NETWORK_FORWARD_OPEN: return true;
    default: return false;
    }
}

bool
vrt_network_ip_is_v6(const VrtNetworkIpDef *ip)
{
    return (ip->family && strcmp(ip->family, "ipv6") == 0) || (ip->address && strchr(ip->address, ':'));
}

int
vrt_network_ip_prefix(const VrtNetworkIpDef *ip)
{
    if (!ip->address)
        return -1;
    if (ip->prefix >= 0)
        return ip->prefix;
    if (ip->netmask) {
        struct in_addr m;
        if (inet_pton(AF_INET, ip->netmask, &m) != 1)
            return -1;
        return __builtin_popcount(m.s_addr);
    }
    if (vrt_network_ip_is_v6(ip))
        return 64;
    /* libvirt's classful default for an IPv4 address without a mask */
    struct in_addr a;
    if (inet_pton(AF_INET, ip->address, &a) != 1)
        return -1;
    guint8 first = ((const guint8 *)&a.s_addr)[0];
    return first < 128 ? 8 : first < 192 ? 16 : 24;
}

char *
vrt_network_pick_bridge_locked(VrtNetworkDriver *drv)
{
    for (guint n = 0;; n++) {
        g_autofree char *name = g_strdup_printf("virbr%u", n);
        bool taken = vrt_netdev_exists(drv->host, name);
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, drv->nets);
        while (!taken && g_hash_table_iter_next(&it, NULL, &v)) {
            const VrtNetworkObj *obj = v;
            const VrtNetworkDef *defs[] = { obj->def, obj->live };
            for (guint i = 0; i < G_N_ELEMENTS(defs); i++)
                if (defs[i] && defs[i]->bridge_name && g_str_equal(defs[i]->bridge_name, name))
                    taken = true;
        }
        if (!taken)
            return g_steal_pointer(&name);
    }
}

static bool
check_routes(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    for (guint i = 0; i < live->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(live->ips, i);
        int prefix = vrt_network_ip_prefix(ip);
        if (prefix < 0 || vrt_network_ip_is_v6(ip))
            continue;
        g_autofree char *user = vrt_netdev_route_user(drv->host, ip->address, (guint)prefix);
        if (user) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Network is already in use by interface %s", user);
            return false;
        }
    }
    return true;
}

static bool
bridge_setup(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    bool v6 = false;
    for (guint i = 0; i < live->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(live->ips, i);
        int prefix = vrt_network_ip_prefix(ip);
        if (prefix < 0)
            continue;
        v6 = v6 || vrt_network_ip_is_v6(ip);
        if (!vrt_netdev_add_addr(drv->host, live->bridge_name, ip->address, (guint)prefix, error))
            return false;
    }
    if (!vrt_netdev_set_up(drv->host, live->bridge_name, true, error))
        return false;
    VrtNetworkForwardMode mode = live->has_forward ? live->forward_mode : VRT_NETWORK_FORWARD_NONE;
    if (mode == VRT_NETWORK_FORWARD_NAT || mode == VRT_NETWORK_FORWARD_ROUTE)
        return vrt_netdev_enable_forwarding(drv->host, v6, error);
    return true;
}

bool
vrt_network_bridge_start(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    guint8 mac[VRT_MAC_LEN];
    bool has_mac = live->mac && vrt_mac_parse(live->mac, mac);
    if (!check_routes(drv, live, error))
        return false;
    if (!vrt_netdev_bridge_create(drv->host, live->bridge_name, has_mac ? mac : NULL, live->mtu,
                                  live->bridge_stp == 0 ? 0 : 1,
                                  live->has_bridge_delay ? (gint64)live->bridge_delay : 0, error))
        return false;
    /* the network's <bandwidth> shapes the bridge, as libvirt */
    if (!bridge_setup(drv, live, error) ||
        !vrt_network_bandwidth_set(live->bridge_name, &live->bandwidth, true, true, error)) {
        vrt_netdev_delete(drv->host, live->bridge_name, true, NULL);
        return false;
    }
    g_info("network '%s': bridge '%s' created", live->name, live->bridge_name);
    return true;
}

void
vrt_network_bridge_stop(VrtNetworkDriver *drv, const VrtNetworkDef *live)
{
    g_autoptr(GError) err = NULL;
    if (!vrt_netdev_delete(drv->host, live->bridge_name, true, &err))
        g_warning("network '%s': %s", live->name, err->message);
}

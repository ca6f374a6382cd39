/*
 * Handlers of the network and network port procedures, over the network
 * driver (src/drivers/network/network_driver.h).
 */
#include "daemon/acl.h"
#include "daemon/daemon.h"
#include "drivers/network/network_driver.h"
#include "rpc/server.h"
#include "util/error.h"

#include <string.h>

/* virNetworkEventLifecycleType */
enum {
    NETWORK_EVENT_DEFINED = 0,
    NETWORK_EVENT_UNDEFINED = 1,
    NETWORK_EVENT_STARTED = 2,
    NETWORK_EVENT_STOPPED = 3,
};

static VrtNetworkDriver *
netdrv(VrtCall *call, GError **error)
{
    VrtNetworkDriver *drv = vrt_call_daemon(call)->network;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the network driver is not running");
    return drv;
}

#define DRV(call, error)                             \
    VrtNetworkDriver *drv = netdrv((call), (error)); \
    if (!drv)                                        \
    return false

static bool ret_network(VrtNetworkRef *ref, remote_network_ret *ret);

static void
ref_to_wire(const VrtNetworkRef *ref, remote_nonnull_network *net)
{
    net->name = g_strdup(ref->name);
    memcpy(net->uuid, ref->uuid, 16);
}

/* Sends a network lifecycle event to every connection with a network
 * lifecycle callback for all networks or for this one. */
static void
emit_lifecycle(VrtCall *call, const char *name, const guchar uuid[16], int event)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    remote_network_event_lifecycle_msg msg = { 0 };
    msg.net.name = (char *)name;
    memcpy(msg.net.uuid, uuid, 16);
    msg.event = event;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->conns_lock);
    for (guint i = 0; i < daemon->conns->len; i++) {
        VrtConn *conn = g_ptr_array_index(daemon->conns, i);
        g_autoptr(GMutexLocker) conn_locker = g_mutex_locker_new(&conn->lock);
        for (guint j = 0; conn->opened && j < conn->callbacks->len; j++) {
            const VrtEventCallback *cb = &g_array_index(conn->callbacks, VrtEventCallback, j);
            if (cb->event_id != VRT_EVENT_ID_NETWORK_LIFECYCLE || (cb->has_dom && memcmp(cb->uuid, uuid, 16) != 0) ||
                !vrt_acl_event_allowed(conn, cb->event_id, &msg))
                continue;
            msg.callbackID = cb->id;
            vrt_server_client_send_event(conn->client, VRT_PROC_NETWORK_EVENT_LIFECYCLE,
                                         (xdrproc_t)xdr_remote_network_event_lifecycle_msg, &msg);
        }
    }
}

/* ret_network() that also sends event for the network first. */
static bool
ret_network_event(VrtCall *call, VrtNetworkRef *ref, int event, remote_network_ret *ret)
{
    if (ref)
        emit_lifecycle(call, ref->name, ref->uuid, event);
    return ret_network(ref, ret);
}

static bool
ret_network(VrtNetworkRef *ref, remote_network_ret *ret)
{
    if (!ref)
        return false;
    ref_to_wire(ref, &ret->net);
    vrt_network_ref_free(ref);
    return true;
}

static void
port_to_wire(const VrtNetworkPortRef *ref, remote_nonnull_network_port *port)
{
    ref_to_wire(ref->net, &port->net);
    memcpy(port->uuid, ref->uuid, 16);
}

bool
vrt_handle_network_lookup_by_name(VrtCall *call, remote_network_lookup_by_name_args *args, remote_network_ret *ret,
                                  GError **error)
{
    DRV(call, error);
    return ret_network(vrt_netdrv_lookup_by_name(drv, args->name, error), ret);
}

bool
vrt_handle_network_lookup_by_uuid(VrtCall *call, remote_network_lookup_by_uuid_args *args, remote_network_ret *ret,
                                  GError **error)
{
    DRV(call, error);
    return ret_network(vrt_netdrv_lookup_by_uuid(drv, (const guchar *)args->uuid, error), ret);
}

bool
vrt_handle_network_define_xml(VrtCall *call, remote_xml_args *args, remote_network_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_network_event(call, vrt_netdrv_define_xml(drv, args->xml, 0, error), NETWORK_EVENT_DEFINED, ret);
}

bool
vrt_handle_network_define_xml_flags(VrtCall *call, remote_xml_flags_args *args, remote_network_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_network_event(call, vrt_netdrv_define_xml(drv, args->xml, args->flags, error), NETWORK_EVENT_DEFINED,
                             ret);
}

bool
vrt_handle_network_create_xml(VrtCall *call, remote_xml_args *args, remote_network_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_network_event(call, vrt_netdrv_create_xml(drv, args->xml, 0, error), NETWORK_EVENT_STARTED, ret);
}

bool
vrt_handle_network_create_xml_flags(VrtCall *call, remote_xml_flags_args *args, remote_network_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_network_event(call, vrt_netdrv_create_xml(drv, args->xml, args->flags, error), NETWORK_EVENT_STARTED,
                             ret);
}

bool
vrt_handle_network_undefine(VrtCall *call, remote_network_only_args *args, GError **error)
{
    DRV(call, error);
    if (!vrt_netdrv_undefine(drv, args->net.name, error))
        return false;
    emit_lifecycle(call, args->net.name, WIRE_UUID(args->net.uuid), NETWORK_EVENT_UNDEFINED);
    return true;
}

bool
vrt_handle_network_create(VrtCall *call, remote_network_only_args *args, GError **error)
{
    DRV(call, error);
    if (!vrt_netdrv_create(drv, args->net.name, error))
        return false;
    emit_lifecycle(call, args->net.name, WIRE_UUID(args->net.uuid), NETWORK_EVENT_STARTED);
    return true;
}

bool
vrt_handle_network_destroy(VrtCall *call, remote_network_only_args *args, GError **error)
{
    DRV(call, error);
    if (!vrt_netdrv_destroy(drv, args->net.name, error))
        return false;
    emit_lifecycle(call, args->net.name, WIRE_UUID(args->net.uuid), NETWORK_EVENT_STOPPED);
    return true;
}

bool
vrt_handle_network_get_xml_desc(VrtCall *call, remote_network_flags_args *args, remote_string_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_netdrv_get_xml(drv, args->net.name, args->flags, error), ret);
}

bool
vrt_handle_network_get_bridge_name(VrtCall *call, remote_network_only_args *args, remote_string_ret *ret,
                                   GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_netdrv_get_bridge_name(drv, args->net.name, error), ret);
}

bool
vrt_handle_network_get_autostart(VrtCall *call, remote_network_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_netdrv_get_autostart(drv, args->net.name, error), ret);
}

bool
vrt_handle_network_set_autostart(VrtCall *call, remote_network_set_autostart_args *args, GError **error)
{
    DRV(call, error);
    return vrt_netdrv_set_autostart(drv, args->net.name, args->autostart != 0, error);
}

bool
vrt_handle_network_is_active(VrtCall *call, remote_network_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_netdrv_is_active(drv, args->net.name, error), ret);
}

bool
vrt_handle_network_is_persistent(VrtCall *call, remote_network_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_netdrv_is_persistent(drv, args->net.name, error), ret);
}

bool
vrt_handle_connect_num_of_networks(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_netdrv_num_active(drv);
    return true;
}

bool
vrt_handle_connect_num_of_defined_networks(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_netdrv_num_defined(drv);
    return true;
}

static bool
list_names(VrtCall *call, bool active, int maxnames, remote_names_ret *ret, GError **error)
{
    DRV(call, error);
    if (maxnames < 0 || maxnames > REMOTE_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "maxnames %d out of range", maxnames);
        return false;
    }
    g_autoptr(GPtrArray) names = vrt_netdrv_list_names(drv, active);
    guint n = MIN(names->len, (guint)maxnames);
    ret->names.names_len = n;
    ret->names.names_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(g_ptr_array_index(names, i));
    return true;
}

bool
vrt_handle_connect_list_networks(VrtCall *call, remote_maxnames_args *args, remote_names_ret *ret, GError **error)
{
    return list_names(call, true, args->maxnames, ret, error);
}

bool
vrt_handle_connect_list_defined_networks(VrtCall *call, remote_maxnames_args *args, remote_names_ret *ret,
                                         GError **error)
{
    return list_names(call, false, args->maxnames, ret, error);
}

bool
vrt_handle_connect_list_all_networks(VrtCall *call, remote_connect_list_all_networks_args *args,
                                     remote_connect_list_all_networks_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) nets = vrt_netdrv_list_all(drv, args->flags, error);
    if (!nets)
        return false;
    if (args->need_results) {
        ret->nets.nets_len = nets->len;
        ret->nets.nets_val = g_new0(remote_nonnull_network, MAX(nets->len, 1));
        for (guint i = 0; i < nets->len; i++)
            ref_to_wire(g_ptr_array_index(nets, i), &ret->nets.nets_val[i]);
    }
    ret->ret = nets->len;
    return true;
}

bool
vrt_handle_network_list_all_ports(VrtCall *call, remote_network_list_all_ports_args *args,
                                  remote_network_list_all_ports_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) ports = vrt_netdrv_port_list_all(drv, WIRE_UUID(args->network.uuid), args->flags, error);
    if (!ports)
        return false;
    if (args->need_results) {
        ret->ports.ports_len = ports->len;
        ret->ports.ports_val = g_new0(remote_nonnull_network_port, MAX(ports->len, 1));
        for (guint i = 0; i < ports->len; i++)
            port_to_wire(g_ptr_array_index(ports, i), &ret->ports.ports_val[i]);
    }
    ret->ret = ports->len;
    return true;
}

static bool
ret_port(VrtNetworkPortRef *ref, remote_network_port_ret *ret)
{
    if (!ref)
        return false;
    port_to_wire(ref, &ret->port);
    vrt_network_port_ref_free(ref);
    return true;
}

bool
vrt_handle_network_port_lookup_by_uuid(VrtCall *call, remote_network_port_lookup_by_uuid_args *args,
                                       remote_network_port_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_port(
        vrt_netdrv_port_lookup_by_uuid(drv, WIRE_UUID(args->network.uuid), (const guchar *)args->uuid, error), ret);
}

bool
vrt_handle_network_port_create_xml(VrtCall *call, remote_network_port_create_xml_args *args,
                                   remote_network_port_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_port(vrt_netdrv_port_create_xml(drv, WIRE_UUID(args->network.uuid), args->xml, args->flags, error), ret);
}

bool
vrt_handle_network_port_get_xml_desc(VrtCall *call, remote_network_port_flags_args *args, remote_string_ret *ret,
                                     GError **error)
{
    DRV(call, error);
    return vrt_ret_string(
        vrt_netdrv_port_get_xml(drv, WIRE_UUID(args->port.net.uuid), WIRE_UUID(args->port.uuid), args->flags, error),
        ret);
}

bool
vrt_handle_network_port_delete(VrtCall *call, remote_network_port_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_netdrv_port_delete(drv, WIRE_UUID(args->port.net.uuid), WIRE_UUID(args->port.uuid), args->flags, error);
}

/* ---- DHCP leases ---- */

static char *
opt_string(remote_string s)
{
    return s ? *s : NULL;
}

static remote_string
wire_opt_string(const char *s)
{
    if (!s)
        return NULL;
    remote_string out = g_new0(remote_nonnull_string, 1);
    *out = g_strdup(s);
    return out;
}

bool
vrt_handle_network_get_dhcp_leases(VrtCall *call, remote_network_get_dhcp_leases_args *args,
                                   remote_network_get_dhcp_leases_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) leases =
        vrt_netdrv_get_dhcp_leases(drv, WIRE_UUID(args->net.uuid), opt_string(args->mac), args->flags, error);
    if (!leases)
        return false;
    if (args->need_results) {
        ret->leases.leases_len = leases->len;
        ret->leases.leases_val = g_new0(remote_network_dhcp_lease, MAX(leases->len, 1));
        for (guint i = 0; i < leases->len; i++) {
            const VrtNetworkDhcpLease *l = g_ptr_array_index(leases, i);
            remote_network_dhcp_lease *w = &ret->leases.leases_val[i];
            w->iface = g_strdup(l->iface);
            w->expirytime = l->expirytime;
            w->type = l->type;
            w->mac = wire_opt_string(l->mac);
            w->iaid = wire_opt_string(l->iaid);
            w->ipaddr = g_strdup(l->ipaddr);
            w->prefix = l->prefix;
            w->hostname = wire_opt_string(l->hostname);
            w->clientid = wire_opt_string(l->clientid);
        }
    }
    ret->ret = leases->len;
    return true;
}

/* ---- network events ---- */

bool
vrt_handle_connect_network_event_register_any(VrtCall *call, remote_connect_network_event_register_any_args *args,
                                              remote_connect_network_event_register_any_ret *ret, GError **error)
{
    /* VIR_NETWORK_EVENT_ID_LIFECYCLE is libvirt 9.0's only network event */
    if (args->eventID != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported event ID %d", args->eventID);
        return false;
    }
    VrtEventCallback cb = { 0 };
    cb.event_id = VRT_EVENT_ID_NETWORK_LIFECYCLE;
    if (args->net) {
        cb.has_dom = true;
        memcpy(cb.uuid, args->net->uuid, 16);
    }
    ret->callbackID = vrt_conn_add_callback(vrt_call_conn(call), &cb);
    return true;
}

bool
vrt_handle_connect_network_event_deregister_any(VrtCall *call, remote_connect_network_event_deregister_any_args *args,
                                                GError **error)
{
    if (vrt_conn_remove_callback(vrt_call_conn(call), args->callbackID, false))
        return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "callback ID %d not registered", args->callbackID);
    return false;
}

bool
vrt_handle_network_update(VrtCall *call, remote_network_update_args *args, GError **error)
{
    DRV(call, error);
    return vrt_netdrv_update(drv, WIRE_UUID(args->net.uuid), args->command, args->section, args->parentIndex, args->xml,
                             args->flags, error);
}

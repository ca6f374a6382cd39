/*
 * libvrt's network and network port handles: one remote procedure per call,
 * the same ones virsh's net-* commands send.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

#define FREE_RET(type, ret) vrt_message_free_payload((xdrproc_t)xdr_##type, &(ret))

vrt_network *
vrt_network_from_wire(vrt_conn *conn, const remote_nonnull_network *n)
{
    vrt_network *net = g_new0(vrt_network, 1);
    net->conn = conn;
    net->name = g_strdup(n->name);
    memcpy(net->uuid, n->uuid, VRT_UUID_BUFLEN);
    return net;
}

void
vrt_network_to_wire(vrt_network *net, remote_nonnull_network *n)
{
    n->name = net->name;
    memcpy(n->uuid, net->uuid, VRT_UUID_BUFLEN);
}

void
vrt_network_free(vrt_network *net)
{
    if (!net)
        return;
    g_free(net->name);
    g_free(net);
}

void
vrt_network_list_free(vrt_network **nets)
{
    vrt_list_free_full((void **)nets, (GDestroyNotify)vrt_network_free);
}

const char *
vrt_network_get_name(vrt_network *net)
{
    return net ? net->name : NULL;
}

void
vrt_network_get_uuid_string(vrt_network *net, char buf[VRT_UUID_STRING_BUFLEN])
{
    vrt_uuid_format(net->uuid, buf);
}

int
vrt_conn_list_all_networks(vrt_conn *conn, vrt_network ***nets, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_list_all_networks_args args = { .need_results = nets != NULL, .flags = flags };
    remote_connect_list_all_networks_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_list_all_networks(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NETWORK);
    int n = ret.nets.nets_len;
    if (nets) {
        vrt_network **list = g_new0(vrt_network *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = vrt_network_from_wire(conn, &ret.nets.nets_val[i]);
        *nets = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_connect_list_all_networks_ret, ret);
    return n;
}

static vrt_network *
network_ret(vrt_conn *conn, bool ok, remote_network_ret *ret, GError *gerr, vrt_error **err)
{
    if (!ok) {
        vrt_err_take(err, gerr, VIR_FROM_NETWORK);
        return NULL;
    }
    vrt_network *net = vrt_network_from_wire(conn, &ret->net);
    FREE_RET(remote_network_ret, *ret);
    return net;
}

vrt_network *
vrt_network_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_network_lookup_by_name_args args = { .name = (char *)name };
    remote_network_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_network_lookup_by_name(conn->rpc, &args, &ret, &gerr);
    return network_ret(conn, ok, &ret, gerr, err);
}

vrt_network *
vrt_network_lookup_by_uuid(vrt_conn *conn, const unsigned char uuid[VRT_UUID_BUFLEN], vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(uuid, err, NULL);
    remote_network_lookup_by_uuid_args args;
    memcpy(args.uuid, uuid, VRT_UUID_BUFLEN);
    remote_network_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_network_lookup_by_uuid(conn->rpc, &args, &ret, &gerr);
    return network_ret(conn, ok, &ret, gerr, err);
}

vrt_network *
vrt_network_define_xml(vrt_conn *conn, const char *xml, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_xml_args args = { .xml = (char *)xml };
    remote_network_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_network_define_xml(conn->rpc, &args, &ret, &gerr);
    return network_ret(conn, ok, &ret, gerr, err);
}

#define NET_ONLY_CALL(fn, stub)                               \
    int fn(vrt_network *net, vrt_error **err)                 \
    {                                                         \
        VRT_CHECK_ARG(net, err, -1);                          \
        remote_network_only_args args;                        \
        vrt_network_to_wire(net, &args.net);                  \
        GError *gerr = NULL;                                  \
        if (!stub(net->conn->rpc, &args, &gerr))              \
            return vrt_err_take(err, gerr, VIR_FROM_NETWORK); \
        return 0;                                             \
    }

NET_ONLY_CALL(vrt_network_undefine, vrt_call_network_undefine)
NET_ONLY_CALL(vrt_network_create, vrt_call_network_create)
NET_ONLY_CALL(vrt_network_destroy, vrt_call_network_destroy)

char *
vrt_network_get_xml_desc(vrt_network *net, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, NULL);
    remote_network_flags_args args = { .flags = flags };
    vrt_network_to_wire(net, &args.net);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_network_get_xml_desc(net->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NETWORK);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

static int
net_int_call(vrt_network *net, bool (*stub)(VrtRpcClient *, remote_network_only_args *, remote_int_ret *, GError **),
             int *value, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, -1);
    remote_network_only_args args;
    vrt_network_to_wire(net, &args.net);
    remote_int_ret ret = { 0 };
    GError *gerr = NULL;
    if (!stub(net->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NETWORK);
    *value = ret.value;
    return 0;
}

int
vrt_network_get_autostart(vrt_network *net, int *autostart, vrt_error **err)
{
    VRT_CHECK_ARG(autostart, err, -1);
    return net_int_call(net, vrt_call_network_get_autostart, autostart, err);
}

int
vrt_network_set_autostart(vrt_network *net, int autostart, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, -1);
    remote_network_set_autostart_args args = { .autostart = autostart ? 1 : 0 };
    vrt_network_to_wire(net, &args.net);
    GError *gerr = NULL;
    if (!vrt_call_network_set_autostart(net->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NETWORK);
    return 0;
}

int
vrt_network_is_active(vrt_network *net, vrt_error **err)
{
    int v = 0;
    if (net_int_call(net, vrt_call_network_is_active, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

int
vrt_network_is_persistent(vrt_network *net, vrt_error **err)
{
    int v = 0;
    if (net_int_call(net, vrt_call_network_is_persistent, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

/* ---- ports ---- */

static vrt_network_port *
port_from_wire(vrt_conn *conn, const remote_nonnull_network_port *p)
{
    vrt_network_port *port = g_new0(vrt_network_port, 1);
    port->net = vrt_network_from_wire(conn, &p->net);
    memcpy(port->uuid, p->uuid, VRT_UUID_BUFLEN);
    return port;
}

static void
port_to_wire(vrt_network_port *port, remote_nonnull_network_port *p)
{
    vrt_network_to_wire(port->net, &p->net);
    memcpy(p->uuid, port->uuid, VRT_UUID_BUFLEN);
}

void
vrt_network_port_free(vrt_network_port *port)
{
    if (!port)
        return;
    vrt_network_free(port->net);
    g_free(port);
}

void
vrt_network_port_list_free(vrt_network_port **ports)
{
    vrt_list_free_full((void **)ports, (GDestroyNotify)vrt_network_port_free);
}

void
vrt_network_port_get_uuid_string(vrt_network_port *port, char buf[VRT_UUID_STRING_BUFLEN])
{
    vrt_uuid_format(port->uuid, buf);
}

int
vrt_network_list_all_ports(vrt_network *net, vrt_network_port ***ports, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, -1);
    remote_network_list_all_ports_args args = { .need_results = ports != NULL, .flags = flags };
    vrt_network_to_wire(net, &args.network);
    remote_network_list_all_ports_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_network_list_all_ports(net->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NETWORK);
    int n = ret.ports.ports_len;
    if (ports) {
        vrt_network_port **list = g_new0(vrt_network_port *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = port_from_wire(net->conn, &ret.ports.ports_val[i]);
        *ports = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_network_list_all_ports_ret, ret);
    return n;
}

vrt_network_port *
vrt_network_port_create_xml(vrt_network *net, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_network_port_create_xml_args args = { .xml = (char *)xml, .flags = flags };
    vrt_network_to_wire(net, &args.network);
    remote_network_port_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_network_port_create_xml(net->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NETWORK);
        return NULL;
    }
    vrt_network_port *port = port_from_wire(net->conn, &ret.port);
    FREE_RET(remote_network_port_ret, ret);
    return port;
}

vrt_network_port *
vrt_network_port_lookup_by_uuid_string(vrt_network *net, const char *uuid, vrt_error **err)
{
    VRT_CHECK_ARG(net, err, NULL);
    VRT_CHECK_ARG(uuid, err, NULL);
    remote_network_port_lookup_by_uuid_args args;
    if (!vrt_uuid_parse(uuid, (unsigned char *)args.uuid)) {
        vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_NETWORK, "invalid argument: malformed UUID '%s'", uuid);
        return NULL;
    }
    vrt_network_to_wire(net, &args.network);
    remote_network_port_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_network_port_lookup_by_uuid(net->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NETWORK);
        return NULL;
    }
    vrt_network_port *port = port_from_wire(net->conn, &ret.port);
    FREE_RET(remote_network_port_ret, ret);
    return port;
}

char *
vrt_network_port_get_xml_desc(vrt_network_port *port, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(port, err, NULL);
    remote_network_port_flags_args args = { .flags = flags };
    port_to_wire(port, &args.port);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_network_port_get_xml_desc(port->net->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NETWORK);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

int
vrt_network_port_delete(vrt_network_port *port, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(port, err, -1);
    remote_network_port_flags_args args = { .flags = flags };
    port_to_wire(port, &args.port);
    GError *gerr = NULL;
    if (!vrt_call_network_port_delete(port->net->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NETWORK);
    return 0;
}

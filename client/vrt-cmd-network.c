/*
 * vrt's network commands: net-list, net-define, net-start, net-destroy,
 * net-undefine, net-dumpxml, net-autostart and net-port-list.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gint
network_order(gconstpointer a, gconstpointer b)
{
    return strcmp(vrt_network_get_name(*(vrt_network **)a), vrt_network_get_name(*(vrt_network **)b));
}

static int
cmd_net_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned int flags = vrt_cli_list_flags(args, VRT_CONNECT_LIST_NETWORKS_ACTIVE, VRT_CONNECT_LIST_NETWORKS_INACTIVE);
    vrt_error *err = NULL;
    vrt_network **nets = NULL;
    int n = vrt_conn_list_all_networks(args->conn, &nets, flags, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    qsort(nets, n, sizeof(*nets), (int (*)(const void *, const void *))network_order);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (int i = 0; i < n; i++) {
        int active = vrt_network_is_active(nets[i], &err);
        int autostart = 0;
        int persistent = active < 0 ? -1 : vrt_network_is_persistent(nets[i], &err);
        if (active < 0 || persistent < 0 || vrt_network_get_autostart(nets[i], &autostart, &err) < 0) {
            /* Gone between the list and these calls: leave it out. */
            vrt_cli_forget(&err);
            continue;
        }
        const char *name = vrt_network_get_name(nets[i]);
        vrt_cli_list_row(&list, name, active ? "active" : "inactive", autostart ? "yes" : "no",
                         persistent ? "yes" : "no", NULL);
        char uuid[VRT_UUID_STRING_BUFLEN];
        vrt_network_get_uuid_string(nets[i], uuid);
        json_builder_begin_object(list.json);
        vrt_cli_json_str(list.json, "name", name);
        vrt_cli_json_str(list.json, "uuid", uuid);
        vrt_cli_json_bool(list.json, "active", active);
        vrt_cli_json_bool(list.json, "autostart", autostart);
        vrt_cli_json_bool(list.json, "persistent", persistent);
        json_builder_end_object(list.json);
    }
    vrt_network_list_free(nets);
    static const char *const header[] = { "Name", "State", "Autostart", "Persistent" };
    vrt_cli_list_print(cli, &list, header, 4);
    return VRT_EXIT_OK;
}

static int
cmd_net_define(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    g_autoptr(vrt_network) net = vrt_network_define_xml(args->conn, args->xml, &err);
    return vrt_cli_done(net ? 0 : -1, err, "Network %s defined from %s", net ? vrt_network_get_name(net) : "",
                        args->pos[0]);
}

typedef enum {
    NET_START,
    NET_DESTROY,
    NET_UNDEFINE
} NetOp;

static int
net_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, NetOp op)
{
    vrt_network *net = args->net;
    vrt_error *err = NULL;
    int r = -1;
    const char *done = NULL;
    switch (op) {
    case NET_START:
        r = vrt_network_create(net, &err);
        done = "started";
        break;
    case NET_DESTROY:
        r = vrt_network_destroy(net, &err);
        done = "destroyed";
        break;
    case NET_UNDEFINE:
        r = vrt_network_undefine(net, &err);
        done = "has been undefined";
        break;
    }
    return vrt_cli_done(r, err, "Network %s %s", vrt_network_get_name(net), done);
}

VRT_CLI_CMD_VARIANT(cmd_net_start, net_op, NET_START)
VRT_CLI_CMD_VARIANT(cmd_net_destroy, net_op, NET_DESTROY)
VRT_CLI_CMD_VARIANT(cmd_net_undefine, net_op, NET_UNDEFINE)

static int
cmd_net_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_network *net = args->net;
    vrt_error *err = NULL;
    unsigned int flags = vrt_cli_flag(args, "inactive") ? VRT_NETWORK_XML_INACTIVE : 0;
    return vrt_cli_print_xml(vrt_network_get_xml_desc(net, flags, &err), &err);
}

static int
cmd_net_autostart(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_network *net = args->net;
    vrt_error *err = NULL;
    bool disable = vrt_cli_flag(args, "disable");
    int r = vrt_network_set_autostart(net, !disable, &err);
    return vrt_cli_done(r, err, "Network %s %s as autostarted", vrt_network_get_name(net),
                        disable ? "unmarked" : "marked");
}

static int
cmd_net_port_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_network *net = args->net;
    vrt_error *err = NULL;
    vrt_network_port **ports = NULL;
    int n = vrt_network_list_all_ports(net, &ports, 0, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (int i = 0; i < n; i++) {
        char uuid[VRT_UUID_STRING_BUFLEN];
        vrt_network_port_get_uuid_string(ports[i], uuid);
        vrt_cli_list_row(&list, uuid, NULL);
        json_builder_add_string_value(list.json, uuid);
    }
    vrt_network_port_list_free(ports);
    static const char *const header[] = { "UUID" };
    vrt_cli_list_print(cli, &list, header, 1);
    return VRT_EXIT_OK;
}

static int
cmd_net_port_create(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    vrt_network_port *port = vrt_network_port_create_xml(args->net, args->xml, 0, &err);
    if (!port)
        return vrt_cli_fail(err);
    char uuid[VRT_UUID_STRING_BUFLEN];
    vrt_network_port_get_uuid_string(port, uuid);
    vrt_network_port_free(port);
    printf("Network port %s created from %s\n\n", uuid, args->pos[1]);
    return VRT_EXIT_OK;
}

/* net-port-dumpxml and net-port-delete: NETWORK PORT-UUID. */
static int
port_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, bool delete)
{
    vrt_network *net = args->net;
    int rc;
    vrt_error *err = NULL;
    vrt_network_port *port = vrt_network_port_lookup_by_uuid_string(net, args->pos[1], &err);
    if (!port)
        return vrt_cli_fail(err);
    if (delete) {
        rc = vrt_network_port_delete(port, 0, &err);
        if (rc == 0)
            printf("Network port %s deleted\n\n", args->pos[1]);
    } else {
        g_autofree char *xml = vrt_network_port_get_xml_desc(port, 0, &err);
        rc = xml ? 0 : -1;
        if (xml)
            vrt_cli_print_text(xml);
    }
    vrt_network_port_free(port);
    return rc < 0 ? vrt_cli_fail(err) : VRT_EXIT_OK;
}

VRT_CLI_CMD_VARIANT(cmd_net_port_dumpxml, port_op, false)
VRT_CLI_CMD_VARIANT(cmd_net_port_delete, port_op, true)

static const VrtOpt list_opts[] = { { "all", false }, { "inactive", false }, { NULL, false } };
static const VrtOpt xml_opts[] = { { "inactive", false }, { NULL, false } };
static const VrtOpt autostart_opts[] = { { "disable", false }, { NULL, false } };

#define NET VRT_ON_NETWORK, 1, false
const VrtCmd vrt_cmds_network[] = {
    { "net-list", cmd_net_list, "[--all] [--inactive]", "list networks (active ones without --all)", list_opts,
      VRT_ON_CONN },
    { "net-define", cmd_net_define, "FILE", "define a network from an XML file", NULL, VRT_ON_CONN, 1, true },
    { "net-start", cmd_net_start, "NETWORK", "start a defined network", NULL, NET },
    { "net-destroy", cmd_net_destroy, "NETWORK", "stop a network", NULL, NET },
    { "net-undefine", cmd_net_undefine, "NETWORK", "remove a network's definition", NULL, NET },
    { "net-dumpxml", cmd_net_dumpxml, "NETWORK [--inactive]", "a network's XML", xml_opts, NET },
    { "net-autostart", cmd_net_autostart, "NETWORK [--disable]", "start a network with the daemon (or not)",
      autostart_opts, NET },
    { "net-port-list", cmd_net_port_list, "NETWORK", "list a network's ports", NULL, NET },
    { "net-port-create", cmd_net_port_create, "NETWORK FILE", "create a network port from an XML file", NULL,
      VRT_ON_NETWORK, 2, true },
    { "net-port-dumpxml", cmd_net_port_dumpxml, "NETWORK PORT-UUID", "a network port's XML", NULL, VRT_ON_NETWORK, 2,
      false },
    { "net-port-delete", cmd_net_port_delete, "NETWORK PORT-UUID", "delete a network port", NULL, VRT_ON_NETWORK, 2,
      false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};

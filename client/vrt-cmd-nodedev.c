/*
 * vrt's node device commands: nodedev-list, nodedev-dumpxml and the PCI
 * detach/reattach/reset commands.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gint
name_order(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char **)a, *(char **)b);
}

static int
cmd_nodedev_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    int rc;
    if (!vrt_cli_nargs(cmd, args->npos, 0, 0, &rc))
        return rc;
    unsigned int flags = 0;
    const char *caps = vrt_cli_value(args, "cap");
    if (caps) {
        /* virsh takes a comma-separated list. */
        g_auto(GStrv) words = g_strsplit(caps, ",", -1);
        for (char **w = words; *w; w++) {
            unsigned int f = vrt_nodedev_cap_flag(g_strstrip(*w));
            if (!f) {
                g_autofree char *why = g_strdup_printf("unknown capability '%s'", *w);
                return vrt_cli_usage(cmd, why);
            }
            flags |= f;
        }
    }
    vrt_conn *conn = vrt_cli_conn(cli);
    if (!conn)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    vrt_nodedev **devs = NULL;
    int n = vrt_conn_list_all_nodedevs(conn, &devs, flags, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++)
        g_ptr_array_add(names, g_strdup(vrt_nodedev_get_name(devs[i])));
    vrt_nodedev_list_free(devs);
    g_ptr_array_sort(names, name_order);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < names->len; i++)
            json_builder_add_string_value(b, names->pdata[i]);
        json_builder_end_array(b);
        vrt_cli_print_builder(b);
        return VRT_EXIT_OK;
    }
    for (guint i = 0; i < names->len; i++)
        printf("%s\n", (char *)names->pdata[i]);
    printf("\n");
    return VRT_EXIT_OK;
}

static int
cmd_nodedev_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_nodedev *dev = args->dev;
    vrt_error *err = NULL;
    return vrt_cli_print_xml(vrt_nodedev_get_xml_desc(dev, 0, &err), &err);
}

typedef enum {
    DEV_DETACH,
    DEV_REATTACH,
    DEV_RESET
} DevOp;

static int
dev_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, DevOp op)
{
    vrt_nodedev *dev = args->dev;
    vrt_error *err = NULL;
    int r = -1;
    const char *done = NULL;
    switch (op) {
    case DEV_DETACH:
        r = vrt_nodedev_detach(dev, vrt_cli_value(args, "driver"), 0, &err);
        done = "detached";
        break;
    case DEV_REATTACH:
        r = vrt_nodedev_reattach(dev, &err);
        done = "re-attached";
        break;
    case DEV_RESET:
        r = vrt_nodedev_reset(dev, &err);
        done = "reset";
        break;
    }
    return vrt_cli_done(r, err, "Device %s %s", vrt_nodedev_get_name(dev), done);
}

VRT_CLI_CMD_VARIANT(cmd_nodedev_detach, dev_op, DEV_DETACH)
VRT_CLI_CMD_VARIANT(cmd_nodedev_reattach, dev_op, DEV_REATTACH)
VRT_CLI_CMD_VARIANT(cmd_nodedev_reset, dev_op, DEV_RESET)

static const VrtOpt list_opts[] = { { "cap", true }, { NULL, false } };
static const VrtOpt detach_opts[] = { { "driver", true }, { NULL, false } };

#define DEV VRT_ON_NODEDEV, 1, false
const VrtCmd vrt_cmds_nodedev[] = {
    { "nodedev-list", cmd_nodedev_list, "[--cap TYPE[,TYPE...]]", "list host devices", list_opts, VRT_ON_NONE },
    { "nodedev-dumpxml", cmd_nodedev_dumpxml, "DEVICE", "a host device's XML", NULL, DEV },
    { "nodedev-detach", cmd_nodedev_detach, "DEVICE [--driver vfio]", "detach a PCI device from its host driver",
      detach_opts, DEV },
    { "nodedev-reattach", cmd_nodedev_reattach, "DEVICE", "give a PCI device back to its host driver", NULL, DEV },
    { "nodedev-reset", cmd_nodedev_reset, "DEVICE", "reset a PCI device", NULL, DEV },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};

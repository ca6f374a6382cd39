/*
 * vrt's commands served by a domain's guest agent: domfsfreeze and
 * domfsthaw (the guest's filesystems frozen and thawed, e.g. around a
 * backup of its disks) and domtime (the guest's clock read or set). Their
 * text output follows virsh's.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_domfsfreeze(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    const char *mp = vrt_cli_value(args, "mountpoint");
    const char *mps[1] = { mp };
    vrt_error *err = NULL;
    int n;

    (void)cmd;
    n = vrt_domain_fsfreeze(args->dom, mp ? mps : NULL, mp ? 1 : 0, 0, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_int(b, "filesystems", n);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else {
        printf("Froze %d filesystem(s)\n", n);
    }
    return VRT_EXIT_OK;
}

static int
cmd_domfsthaw(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    int n;

    (void)cmd;
    n = vrt_domain_fsthaw(args->dom, 0, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_int(b, "filesystems", n);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else {
        printf("Thawed %d filesystem(s)\n", n);
    }
    return VRT_EXIT_OK;
}

static int
cmd_domtime(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    const char *t = vrt_cli_value(args, "time");
    bool now = vrt_cli_flag(args, "now"), sync = vrt_cli_flag(args, "sync");
    vrt_error *err = NULL;
    long long seconds = 0;
    unsigned int nseconds = 0;

    if ((t != NULL) + now + sync > 1)
        return vrt_cli_usage(cmd, "--time, --now and --sync are exclusive");
    if (t) {
        char *end = NULL;
        seconds = strtoll(t, &end, 10);
        if (!*t || *end)
            return vrt_cli_usage(cmd, "--time takes seconds since the epoch");
    } else if (now) {
        gint64 us = g_get_real_time();
        seconds = us / G_USEC_PER_SEC;
        nseconds = (unsigned int)(us % G_USEC_PER_SEC) * 1000u;
    }
    if (t || now || sync) {
        if (vrt_domain_set_time(args->dom, seconds, nseconds, sync ? VRT_DOMAIN_TIME_SYNC : 0, &err) < 0)
            return vrt_cli_fail(err);
        return VRT_EXIT_OK;
    }
    if (vrt_domain_get_time(args->dom, &seconds, &nseconds, &err) < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_int(b, "seconds", seconds);
        vrt_cli_json_int(b, "nseconds", nseconds);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else {
        printf("Time: %lld\n", seconds);
    }
    return VRT_EXIT_OK;
}

static const VrtOpt freeze_opts[] = { { "mountpoint", true }, { NULL, false } };
static const VrtOpt time_opts[] = { { "time", true }, { "now", false }, { "sync", false }, { NULL, false } };

const VrtCmd vrt_cmds_agent[] = {
    { "domfsfreeze", cmd_domfsfreeze, "DOMAIN [--mountpoint PATH]",
      "freeze the guest's filesystems (through its guest agent)", freeze_opts, VRT_ON_DOMAIN, 1, false },
    { "domfsthaw", cmd_domfsthaw, "DOMAIN", "thaw the guest's filesystems (through its guest agent)", NULL,
      VRT_ON_DOMAIN, 1, false },
    { "domtime", cmd_domtime, "DOMAIN [--time SECONDS | --now | --sync]",
      "the guest's time, or set it (through its guest agent)", time_opts, VRT_ON_DOMAIN, 1, false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};

/*
 * vrt's commands on a domain's live state: setvcpus (a running domain's
 * vCPUs are hotplugged), vcpucount, and domifaddr (its interfaces'
 * addresses from DHCP leases, the host's ARP table or the guest agent).
 * Their text output follows virsh's.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --live/--config/--current as virsh takes them; -1 when mixed wrongly. */
static int
live_config_flags(VrtArgs *args)
{
    bool live = vrt_cli_flag(args, "live"), config = vrt_cli_flag(args, "config");
    if (vrt_cli_flag(args, "current") && (live || config))
        return -1;
    return (int)((live ? VRT_DOMAIN_AFFECT_LIVE : 0u) | (config ? VRT_DOMAIN_AFFECT_CONFIG : 0u));
}

static int
cmd_setvcpus(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    char *end = NULL;
    unsigned long n = strtoul(args->pos[1], &end, 10);
    int flags = live_config_flags(args);
    if (!*args->pos[1] || *end || n > G_MAXUINT)
        return vrt_cli_usage(cmd, "COUNT must be a number of vCPUs");
    if (flags < 0)
        return vrt_cli_usage(cmd, "--current is exclusive with --live and --config");
    if (vrt_cli_flag(args, "maximum"))
        flags |= (int)VRT_DOMAIN_VCPU_MAXIMUM;
    vrt_error *err = NULL;
    int r = vrt_domain_set_vcpus(args->dom, (unsigned int)n, (unsigned int)flags, &err);
    if (r < 0)
        return vrt_cli_fail(err);
    return VRT_EXIT_OK;
}

static int
cmd_vcpucount(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    int flags = live_config_flags(args);
    if (flags < 0)
        return vrt_cli_usage(cmd, "--current is exclusive with --live and --config");
    if (vrt_cli_flag(args, "maximum"))
        flags |= (int)VRT_DOMAIN_VCPU_MAXIMUM;
    vrt_error *err = NULL;
    int n = vrt_domain_get_vcpus(args->dom, (unsigned int)flags, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_int(b, "vcpus", n);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else {
        printf("%d\n", n);
    }
    return VRT_EXIT_OK;
}

static int
cmd_domifaddr(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    const char *src = vrt_cli_value(args, "source");
    unsigned int source = VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE;
    if (src && strcmp(src, "agent") == 0)
        source = VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT;
    else if (src && strcmp(src, "arp") == 0)
        source = VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP;
    else if (src && strcmp(src, "lease") != 0)
        return vrt_cli_usage(cmd, "--source is lease, agent or arp");
    vrt_domain_iface *ifaces = NULL;
    vrt_error *err = NULL;
    int n = vrt_domain_interface_addresses(args->dom, source, &ifaces, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    if (!cli->json) {
        printf(" %-10s %-20s %-12s %s\n", "Name", "MAC address", "Protocol", "Address");
        printf("-------------------------------------------------------------------------------\n");
    }
    for (int i = 0; i < n; i++) {
        const vrt_domain_iface *f = &ifaces[i];
        for (unsigned int j = 0; j < f->naddrs; j++) {
            const vrt_domain_ip_addr *a = &f->addrs[j];
            const char *proto = a->type == 1 ? "ipv6" : "ipv4";
            if (cli->json) {
                json_builder_begin_object(b);
                vrt_cli_json_str(b, "name", f->name);
                vrt_cli_json_str(b, "hwaddr", f->hwaddr);
                vrt_cli_json_str(b, "protocol", proto);
                vrt_cli_json_str(b, "address", a->addr);
                vrt_cli_json_int(b, "prefix", a->prefix);
                json_builder_end_object(b);
            } else {
                /* virsh names an interface and its MAC on its first address only. */
                printf(" %-10s %-20s %-12s %s/%u\n", j == 0 ? f->name : "-", j == 0 && f->hwaddr ? f->hwaddr : "-",
                       proto, a->addr, a->prefix);
            }
        }
    }
    json_builder_end_array(b);
    if (cli->json)
        vrt_cli_print_builder(b);
    vrt_domain_iface_list_free(ifaces, n);
    return VRT_EXIT_OK;
}

static const VrtOpt vcpu_opts[] = {
    { "live", false }, { "config", false }, { "current", false }, { "maximum", false }, { NULL, false }
};
static const VrtOpt ifaddr_opts[] = { { "source", true }, { NULL, false } };

const VrtCmd vrt_cmds_domain_live[] = {
    { "setvcpus", cmd_setvcpus, "DOMAIN COUNT [--live] [--config] [--current] [--maximum]",
      "change the number of vCPUs (a running domain's are hotplugged)", vcpu_opts, VRT_ON_DOMAIN, 2, false },
    { "vcpucount", cmd_vcpucount, "DOMAIN [--live] [--config] [--current] [--maximum]",
      "the number of vCPUs (current or maximum)", vcpu_opts, VRT_ON_DOMAIN, 1, false },
    { "domifaddr", cmd_domifaddr, "DOMAIN [--source lease|agent|arp]", "a running domain's interface addresses",
      ifaddr_opts, VRT_ON_DOMAIN, 1, false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};

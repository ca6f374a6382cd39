/*
 * vrt's host commands: version, hostname, uri, nodeinfo, capabilities,
 * maxvcpus, freemem. Their human output follows virsh's layout.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include "vrt-config.h"

static int
cmd_version(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_conn *conn = args->conn;
    vrt_error *err = NULL;
    g_autofree char *type = vrt_conn_get_type(conn, &err);
    if (!type)
        return vrt_cli_fail(err);
    unsigned long long hv = 0, daemon = 0;
    if (vrt_conn_get_version(conn, &hv, &err) < 0)
        return vrt_cli_fail(err);
    /* An old daemon may lack the call: the line is left out, as virsh does. */
    bool have_daemon = vrt_conn_get_lib_version(conn, &daemon, &err) == 0;
    if (!have_daemon)
        vrt_cli_forget(&err);
    unsigned long lib = vrt_lib_version();
    g_autofree char *lib_s = vrt_cli_version_string(lib);
    g_autofree char *hv_s = vrt_cli_version_string(hv);
    g_autofree char *daemon_s = vrt_cli_version_string(daemon);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_str(b, "library", lib_s);
        vrt_cli_json_int(b, "library_version", lib);
        vrt_cli_json_str(b, "type", type);
        vrt_cli_json_str(b, "hypervisor", hv_s);
        vrt_cli_json_int(b, "hypervisor_version", hv);
        if (have_daemon) {
            vrt_cli_json_str(b, "daemon", daemon_s);
            vrt_cli_json_int(b, "daemon_version", daemon);
        }
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
        return VRT_EXIT_OK;
    }
    printf("Compiled against library: vrt %s\n", VRT_VERSION);
    printf("Using library: vrt %s\n", lib_s);
    printf("Running hypervisor: %s %s\n", type, hv_s);
    if (have_daemon)
        printf("Running against daemon: %s\n", daemon_s);
    printf("\n");
    return VRT_EXIT_OK;
}

/* Commands that print one string the connection answers. */
static int
print_string(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, char *(*get)(vrt_conn *, vrt_error **), const char *key)
{
    vrt_conn *conn = args->conn;
    vrt_error *err = NULL;
    g_autofree char *s = get(conn, &err);
    if (!s)
        return vrt_cli_fail(err);
    if (cli->json && key) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_str(b, key, s);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else {
        vrt_cli_print_text(s);
    }
    return VRT_EXIT_OK;
}

static int
cmd_hostname(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    return print_string(cli, cmd, args, vrt_conn_get_hostname, "hostname");
}

static int
cmd_uri(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    return print_string(cli, cmd, args, vrt_conn_get_uri, "uri");
}

static int
cmd_capabilities(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    /* XML is already structured: --json does not wrap it. */
    return print_string(cli, cmd, args, vrt_conn_get_capabilities, NULL);
}

static int
cmd_nodeinfo(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_conn *conn = args->conn;
    vrt_error *err = NULL;
    vrt_node_info info;
    if (vrt_conn_get_node_info(conn, &info, &err) < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_str(b, "model", info.model);
        vrt_cli_json_int(b, "cpus", info.cpus);
        vrt_cli_json_int(b, "mhz", info.mhz);
        vrt_cli_json_int(b, "sockets", info.sockets);
        vrt_cli_json_int(b, "cores", info.cores);
        vrt_cli_json_int(b, "threads", info.threads);
        vrt_cli_json_int(b, "nodes", info.nodes);
        vrt_cli_json_int(b, "memory_kib", info.memory);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
        return VRT_EXIT_OK;
    }
    printf("%-20s %s\n", "CPU model:", info.model);
    printf("%-20s %d\n", "CPU(s):", info.cpus);
    printf("%-20s %d MHz\n", "CPU frequency:", info.mhz);
    printf("%-20s %d\n", "CPU socket(s):", info.sockets);
    printf("%-20s %d\n", "Core(s) per socket:", info.cores);
    printf("%-20s %d\n", "Thread(s) per core:", info.threads);
    printf("%-20s %d\n", "NUMA cell(s):", info.nodes);
    printf("%-20s %llu KiB\n", "Memory size:", info.memory);
    printf("\n");
    return VRT_EXIT_OK;
}

static int
cmd_maxvcpus(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_conn *conn = args->conn;
    vrt_error *err = NULL;
    int n = vrt_conn_get_max_vcpus(conn, NULL, &err);
    return vrt_cli_done(n, err, "%d", n);
}

static int
cmd_freemem(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_conn *conn = args->conn;
    vrt_error *err = NULL;
    unsigned long long bytes = 0;
    if (vrt_conn_get_free_memory(conn, &bytes, &err) < 0)
        return vrt_cli_fail(err);
    printf("Total: %llu KiB\n", bytes / 1024);
    return VRT_EXIT_OK;
}

const VrtCmd vrt_cmds_host[] = {
    { "version", cmd_version, NULL, "versions of vrt, the daemon and the hypervisor", NULL, VRT_ON_CONN },
    { "hostname", cmd_hostname, NULL, "the host's name", NULL, VRT_ON_CONN },
    { "uri", cmd_uri, NULL, "the connection's canonical URI", NULL, VRT_ON_CONN },
    { "nodeinfo", cmd_nodeinfo, NULL, "the host's CPUs and memory", NULL, VRT_ON_CONN },
    { "capabilities", cmd_capabilities, NULL, "the capabilities XML", NULL, VRT_ON_CONN },
    { "maxvcpus", cmd_maxvcpus, NULL, "the most vCPUs a guest may have", NULL, VRT_ON_CONN },
    { "freemem", cmd_freemem, NULL, "the host's free memory", NULL, VRT_ON_CONN },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};

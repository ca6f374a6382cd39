/*
 * `vrt admin SUBCOMMAND ...`: vrtd's admin interface through libvrt's
 * vrt_admin_* (the admin socket, root only; --socket PATH, default
 * /run/vrt/vrtd-admin-sock), with virt-admin's command names and layout:
 * srv-list, srv-threadpool-info/set, srv-clients-list, client-info,
 * client-disconnect, srv-clients-info/set, daemon-log-filters/outputs.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const transports[] = { "unix", "tcp", "tls" };

/* The unsigned value of option name: -1 when it is not given, -2 (after
 * printing why) when it is not a number. */
static long long
opt_uint(VrtArgs *args, const char *name)
{
    const char *v = vrt_cli_value(args, name);
    if (!v)
        return -1;
    char *end = NULL;
    unsigned long long n = g_ascii_strtoull(v, &end, 10);
    if (!*v || *end || n > G_MAXUINT) {
        fprintf(stderr, "error: --%s: '%s' is not a number\n", name, v);
        return -2;
    }
    return (long long)n;
}

static int
need(const VrtCmd *cmd, VrtArgs *args, int n)
{
    int rc = VRT_EXIT_OK;
    return vrt_cli_nargs(cmd, args->npos, n, n, &rc) ? VRT_EXIT_OK : rc;
}

static int
run(vrt_admin *adm, const VrtCmd *cmd, VrtArgs *args)
{
    const char *sub = args->pos[0];
    vrt_error *err = NULL;
    int rc;

    if (g_str_equal(sub, "srv-list")) {
        char **names = vrt_admin_list_servers(adm, &err);
        if (!names)
            return vrt_cli_fail(err);
        printf(" Id   Name\n-------------\n");
        for (guint i = 0; names[i]; i++)
            printf(" %-4u %s\n", i, names[i]);
        vrt_strv_free(names);
        return VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "srv-threadpool-info")) {
        vrt_admin_threadpool tp;
        if ((rc = need(cmd, args, 2)) || vrt_admin_server_get_threadpool(adm, args->pos[1], &tp, &err) < 0)
            return rc ? rc : vrt_cli_fail(err);
        printf("%-15s: %u\n%-15s: %u\n%-15s: %u\n%-15s: %u\n%-15s: %u\n%-15s: %u\n", "minWorkers", tp.min_workers,
               "maxWorkers", tp.max_workers, "nWorkers", tp.n_workers, "freeWorkers", tp.free_workers, "prioWorkers",
               tp.prio_workers, "jobQueueDepth", tp.job_queue_depth);
        return VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "srv-threadpool-set")) {
        long long max = opt_uint(args, "max-workers");
        if ((rc = need(cmd, args, 2)))
            return rc;
        if (max < 0)
            return max == -1 ? vrt_cli_usage(cmd, "srv-threadpool-set needs --max-workers N") : VRT_EXIT_USAGE;
        return vrt_admin_server_set_max_workers(adm, args->pos[1], (unsigned int)max, &err) < 0 ? vrt_cli_fail(err)
                                                                                                : VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "srv-clients-info")) {
        vrt_admin_client_limits lim;
        if ((rc = need(cmd, args, 2)) || vrt_admin_server_get_client_limits(adm, args->pos[1], &lim, &err) < 0)
            return rc ? rc : vrt_cli_fail(err);
        printf("%-20s: %u\n%-20s: %u\n%-20s: %u\n%-20s: %u\n", "nclients_max", lim.nclients_max, "nclients",
               lim.nclients, "nclients_unauth_max", lim.nclients_unauth_max, "nclients_unauth", lim.nclients_unauth);
        return VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "srv-clients-set")) {
        long long max = opt_uint(args, "max-clients");
        long long umax = opt_uint(args, "max-unauth-clients");
        if ((rc = need(cmd, args, 2)))
            return rc;
        if (max == -2 || umax == -2)
            return VRT_EXIT_USAGE;
        if (max < 0 && umax < 0)
            return vrt_cli_usage(cmd, "srv-clients-set needs --max-clients N and/or --max-unauth-clients N");
        return vrt_admin_server_set_client_limits(adm, args->pos[1], max, umax, &err) < 0 ? vrt_cli_fail(err)
                                                                                          : VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "srv-clients-list")) {
        vrt_admin_client *clients = NULL;
        int n;
        if ((rc = need(cmd, args, 2)) || (n = vrt_admin_server_list_clients(adm, args->pos[1], &clients, &err)) < 0)
            return rc ? rc : vrt_cli_fail(err);
        printf(" %-5s%-12s%s\n%s\n", "Id", "Transport", "Connected since",
               "--------------------------------------------");
        for (int i = 0; i < n; i++) {
            g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(clients[i].timestamp);
            g_autofree char *when = t ? g_date_time_format(t, "%F %T%z") : g_strdup("?");
            int tr = clients[i].transport;
            printf(" %-5llu%-12s%s\n", clients[i].id, tr >= 0 && tr <= 2 ? transports[tr] : "?", when);
        }
        vrt_free(clients);
        return VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "client-info") || g_str_equal(sub, "client-disconnect")) {
        if ((rc = need(cmd, args, 3)))
            return rc;
        char *end = NULL;
        unsigned long long id = g_ascii_strtoull(args->pos[2], &end, 10);
        if (!*args->pos[2] || *end)
            return vrt_cli_usage(cmd, "the client is its numeric ID (srv-clients-list)");
        if (g_str_equal(sub, "client-disconnect")) {
            if (vrt_admin_client_close(adm, args->pos[1], id, &err) < 0)
                return vrt_cli_fail(err);
            printf("Client '%llu' disconnected\n", id);
            return VRT_EXIT_OK;
        }
        char **info = vrt_admin_client_get_info(adm, args->pos[1], id, &err);
        if (!info)
            return vrt_cli_fail(err);
        for (guint i = 0; info[i]; i++) {
            const char *eq = strchr(info[i], '=');
            printf("%-16.*s: %s\n", (int)(eq - info[i]), info[i], eq + 1);
        }
        vrt_strv_free(info);
        return VRT_EXIT_OK;
    }
    if (g_str_equal(sub, "daemon-log-filters") || g_str_equal(sub, "daemon-log-outputs")) {
        bool filters = g_str_equal(sub, "daemon-log-filters");
        const char *set = vrt_cli_value(args, filters ? "filters" : "outputs");
        if ((rc = need(cmd, args, 1)))
            return rc;
        if (set) {
            int r = filters ? vrt_admin_set_log_filters(adm, set, &err) : vrt_admin_set_log_outputs(adm, set, &err);
            return r < 0 ? vrt_cli_fail(err) : VRT_EXIT_OK;
        }
        g_autofree char *text = filters ? vrt_admin_get_log_filters(adm, &err) : vrt_admin_get_log_outputs(adm, &err);
        if (!text)
            return vrt_cli_fail(err);
        printf(" Logging %s: %s\n", filters ? "filters" : "outputs", text);
        return VRT_EXIT_OK;
    }
    return vrt_cli_usage(cmd, "unknown admin command");
}

static int
cmd_admin(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    (void)cli;
    if (args->npos < 1)
        return vrt_cli_usage(cmd, "an admin command is needed");
    vrt_error *err = NULL;
    vrt_admin *adm = vrt_admin_open(vrt_cli_value(args, "socket"), &err);
    if (!adm) {
        fprintf(stderr, "error: failed to connect to the admin socket\n");
        return vrt_cli_fail(err);
    }
    int rc = run(adm, cmd, args);
    vrt_admin_close(adm);
    return rc;
}

static const VrtOpt admin_opts[] = {
    { "socket", true },  { "max-workers", true }, { "max-clients", true }, { "max-unauth-clients", true },
    { "filters", true }, { "outputs", true },     { NULL, false },
};

const VrtCmd vrt_cmds_admin[] = {
    { "admin", cmd_admin,
      "[--socket PATH] srv-list | srv-threadpool-info SERVER | srv-threadpool-set SERVER --max-workers N | "
      "srv-clients-list SERVER | client-info SERVER ID | client-disconnect SERVER ID | srv-clients-info SERVER | "
      "srv-clients-set SERVER [--max-clients N] [--max-unauth-clients N] | daemon-log-filters [--filters F] | "
      "daemon-log-outputs [--outputs O]",
      "vrtd's admin interface (root; the admin socket)", admin_opts, VRT_ON_NONE, 0, false },
    { NULL },
};

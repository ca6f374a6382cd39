/*
 * vrt's migrate command: a domain moved live (or, with --offline, its
 * definition) to another host's daemon, driven by vrt itself (the
 * client-managed flow, vrt connected to both daemons) or, with --p2p, by
 * the source's daemon. While QEMU's transfer runs a second thread reads
 * the source's job statistics and draws a progress bar on stderr (on a
 * terminal, or always with --verbose), as virsh's --verbose does.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How often the progress bar reads the job's statistics. */
#define PROGRESS_MS 200
#define BAR_WIDTH 30

typedef struct {
    vrt_domain *dom; /* the source's */
    GMutex lock;
    GCond cond;
    bool done; /* guarded by lock */
    int shown; /* last percentage drawn, -1: none */
    bool tty;
} Progress;

static void
progress_draw(Progress *p, int pct, unsigned long long bps)
{
    char bar[BAR_WIDTH + 1];
    int fill = pct * BAR_WIDTH / 100;

    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    /* On a terminal the bar is redrawn in place; elsewhere (a log, a test)
     * each new figure is a line of its own. */
    if (bps)
        fprintf(stderr, "%sMigration: [%s] %3d %% %8.1f MiB/s%s", p->tty ? "\r" : "", bar, pct,
                (double)bps / (1024.0 * 1024.0), p->tty ? "" : "\n");
    else
        fprintf(stderr, "%sMigration: [%s] %3d %%%s", p->tty ? "\r" : "", bar, pct, p->tty ? "" : "\n");
    fflush(stderr);
    p->shown = pct;
}

static gpointer
progress_thread(gpointer data)
{
    Progress *p = data;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&p->lock);

    while (!p->done) {
        gint64 until = g_get_monotonic_time() + PROGRESS_MS * G_TIME_SPAN_MILLISECOND;

        while (!p->done && g_cond_wait_until(&p->cond, &p->lock, until))
            ;
        if (p->done)
            break;
        /* The call waits for the daemon: not under the lock, so that the
         * end of the migration is never held up by it. */
        g_mutex_unlock(&p->lock);
        vrt_domain_job_stats st;
        vrt_error *err = NULL;
        int r = vrt_domain_get_job_stats(p->dom, 0, &st, &err);
        vrt_error_free(err);
        g_mutex_lock(&p->lock);
        if (r < 0 || p->done || st.type != VRT_DOMAIN_JOB_UNBOUNDED || !st.data_total)
            continue;
        unsigned long long left = st.data_remaining > st.data_total ? st.data_total : st.data_remaining;
        int pct = (int)(100 - left * 100 / st.data_total);
        if (pct > 99)
            pct = 99; /* 100 once the migration has ended well */
        if (pct != p->shown)
            progress_draw(p, pct, st.memory_bps);
    }
    return NULL;
}

static unsigned int
migrate_flags(VrtArgs *args)
{
    static const struct {
        const char *opt;
        unsigned int flag;
    } map[] = {
        { "live", VRT_MIGRATE_LIVE },
        { "p2p", VRT_MIGRATE_PEER2PEER },
        { "tunnelled", VRT_MIGRATE_TUNNELLED },
        { "persistent", VRT_MIGRATE_PERSIST_DEST },
        { "undefinesource", VRT_MIGRATE_UNDEFINE_SOURCE },
        { "suspend", VRT_MIGRATE_PAUSED },
        { "offline", VRT_MIGRATE_OFFLINE },
        { "compressed", VRT_MIGRATE_COMPRESSED },
        { "auto-converge", VRT_MIGRATE_AUTO_CONVERGE },
        { "postcopy", VRT_MIGRATE_POSTCOPY },
        { "tls", VRT_MIGRATE_TLS },
        { "parallel", VRT_MIGRATE_PARALLEL },
    };
    unsigned int flags = 0;

    for (guint i = 0; i < G_N_ELEMENTS(map); i++)
        if (vrt_cli_flag(args, map[i].opt))
            flags |= map[i].flag;
    return flags;
}

static int
cmd_migrate(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    (void)cli;
    unsigned int flags = migrate_flags(args);
    const char *desturi = args->pos[1];
    vrt_migrate_params mp = {
        .uri = vrt_cli_value(args, "migrateuri"),
        .dname = vrt_cli_value(args, "dname"),
        .listen_address = vrt_cli_value(args, "listen-address"),
        .compression = vrt_cli_value(args, "comp-methods"),
    };
    g_autofree char *dxml = NULL;
    const char *v;

    if ((flags & VRT_MIGRATE_TUNNELLED) && !(flags & VRT_MIGRATE_PEER2PEER))
        return vrt_cli_usage(cmd, "--tunnelled needs --p2p");
    if ((v = vrt_cli_value(args, "bandwidth"))) {
        char *end = NULL;
        mp.bandwidth = strtoull(v, &end, 10);
        if (!*v || *end)
            return vrt_cli_usage(cmd, "--bandwidth must be a number of MiB/s");
    }
    if ((v = vrt_cli_value(args, "parallel-connections"))) {
        char *end = NULL;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > 255)
            return vrt_cli_usage(cmd, "--parallel-connections must be a number from 1 to 255");
        mp.parallel_connections = (int)n;
        flags |= VRT_MIGRATE_PARALLEL;
    }
    if ((v = vrt_cli_value(args, "xml"))) {
        if (!(dxml = vrt_cli_read_file(v)))
            return VRT_EXIT_ERROR;
        mp.dxml = dxml;
    }

    Progress prog = { .dom = args->dom, .shown = -1, .tty = isatty(STDERR_FILENO) == 1 };
    bool show = (prog.tty || vrt_cli_flag(args, "verbose")) && !(flags & VRT_MIGRATE_OFFLINE);
    GThread *thread = NULL;
    g_mutex_init(&prog.lock);
    g_cond_init(&prog.cond);
    if (show)
        thread = g_thread_new("vrt-progress", progress_thread, &prog);

    vrt_error *err = NULL;
    vrt_conn *dconn = NULL;
    int rc = VRT_EXIT_OK;
    if (flags & VRT_MIGRATE_PEER2PEER) {
        if (vrt_domain_migrate_to_uri(args->dom, desturi, &mp, flags, &err) < 0)
            rc = VRT_EXIT_ERROR;
    } else if (!(dconn = vrt_conn_open_auth(desturi, 0, NULL, NULL, &err))) {
        rc = VRT_EXIT_ERROR;
    } else {
        vrt_domain *ddom = vrt_domain_migrate(args->dom, dconn, &mp, flags, &err);
        if (!ddom)
            rc = VRT_EXIT_ERROR;
        vrt_domain_free(ddom);
    }

    if (thread) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&prog.lock);
            prog.done = true;
            g_cond_signal(&prog.cond);
        }
        g_thread_join(thread);
        if (rc == VRT_EXIT_OK)
            progress_draw(&prog, 100, 0);
        if (prog.shown >= 0 && prog.tty)
            fputc('\n', stderr);
    }
    g_cond_clear(&prog.cond);
    g_mutex_clear(&prog.lock);
    if (dconn)
        vrt_conn_close(dconn);
    if (rc != VRT_EXIT_OK)
        return vrt_cli_fail(err);
    return VRT_EXIT_OK;
}

static const VrtOpt migrate_opts[] = {
    { "live", false },
    { "p2p", false },
    { "tunnelled", false },
    { "persistent", false },
    { "undefinesource", false },
    { "suspend", false },
    { "offline", false },
    { "compressed", false },
    { "comp-methods", true },
    { "auto-converge", false },
    { "postcopy", false },
    { "tls", false },
    { "parallel", false },
    { "parallel-connections", true },
    { "dname", true },
    { "xml", true },
    { "migrateuri", true },
    { "listen-address", true },
    { "bandwidth", true },
    { "verbose", false },
    { NULL, false },
};

const VrtCmd vrt_cmds_migrate[] = {
    { "migrate", cmd_migrate,
      "DOMAIN DESTURI [--live] [--p2p [--tunnelled]] [--persistent] [--undefinesource] [--suspend] [--offline] "
      "[--dname NAME] [--xml FILE] [--migrateuri URI] [--listen-address ADDR] [--bandwidth MIB/S] [--tls] "
      "[--compressed [--comp-methods LIST]] [--parallel [--parallel-connections N]] [--auto-converge] "
      "[--postcopy] [--verbose]",
      "migrate a domain to another host, with a progress bar", migrate_opts, VRT_ON_DOMAIN, 2 },
    { NULL },
};

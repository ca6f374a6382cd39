/*
 * A <bandwidth> put on a host interface with tc (iproute2), with libvirt's
 * commands, so `tc` shows what it shows under libvirt: traffic the
 * interface sends is shaped by an HTB class (rate = average, ceil = peak,
 * burst; quantum from the rate for one 1500-byte frame) with an sfq below
 * it, and traffic it receives is policed at ingress (average, burst or
 * the average's worth of KiB, mtu 64kb, drop). A network's bridge gets a
 * hierarchical HTB (1:1 for the total, default class 1:2 for the rest) and
 * its inbound/outbound swapped, as libvirt: a network's inbound is what
 * the bridge sends towards the guests. Rates are kB/s ("kbps" to tc),
 * bursts KiB ("kb").
 */
#include "drivers/network/network_virt.h"
#include "util/error.h"

#include <string.h>

static char *
tc_binary(void)
{
    char *p = g_find_program_in_path("tc");
    return p ? p : g_strdup("/usr/sbin/tc");
}

/* Runs tc with args (NULL-terminated); ignore: a failure is no error
 * (removing what may not be there). */
static bool
run_tc(const char *const *args, bool ignore, GError **error)
{
    g_autofree char *bin = tc_binary();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, bin);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    gint status = 0;
    g_autoptr(GError) local = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, &err, &status, &local)) {
        if (!ignore)
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot run %s: %s", bin, local->message);
        return ignore;
    }
    if (!ignore && !g_spawn_check_wait_status(status, NULL)) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s failed: %s", cmd, err ? g_strstrip(err) : "");
        return false;
    }
    return true;
}

void
vrt_network_bandwidth_clear(const char *ifname)
{
    const char *root[] = { "qdisc", "del", "dev", ifname, "root", NULL };
    const char *ingress[] = { "qdisc", "del", "dev", ifname, "ingress", NULL };
    run_tc(root, true, NULL);
    run_tc(ingress, true, NULL);
}

static char *
quantum(const VrtNetworkBandwidthRate *r)
{
    guint64 q = r->average * 1024 / 8 / 1500;
    return g_strdup_printf("%" G_GUINT64_FORMAT, q ? q : 1);
}

static bool
set_egress(const char *ifname, const VrtNetworkBandwidthRate *tx, bool hier, GError **error)
{
    g_autofree char *avg = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", tx->average);
    g_autofree char *peak = tx->peak ? g_strdup_printf("%" G_GUINT64_FORMAT "kbps", tx->peak) : NULL;
    g_autofree char *burst = tx->burst ? g_strdup_printf("%" G_GUINT64_FORMAT "kb", tx->burst) : NULL;
    g_autofree char *q = quantum(tx);
    const char *qdisc[] = { "qdisc", "add", "dev",     ifname,           "root", "handle",
                            "1:",    "htb", "default", hier ? "2" : "1", NULL };
    if (!run_tc(qdisc, false, error))
        return false;
    if (hier) {
        const char *top[] = { "class", "add",  "dev", ifname, "parent",          "1:",      "classid", "1:1",
                              "htb",   "rate", avg,   "ceil", peak ? peak : avg, "quantum", q,         NULL };
        if (!run_tc(top, false, error))
            return false;
    }
    const char *cls[20] = {
        "class", "add",  "dev", ifname, "parent", hier ? "1:1" : "1:", "classid", hier ? "1:2" : "1:1",
        "htb",   "rate", avg
    };
    guint n = 11;
    if (peak) {
        cls[n++] = "ceil";
        cls[n++] = peak;
    }
    if (burst) {
        cls[n++] = "burst";
        cls[n++] = burst;
    }
    cls[n++] = "quantum";
    cls[n++] = q;
    cls[n] = NULL;
    if (!run_tc(cls, false, error))
        return false;
    const char *sfq[] = { "qdisc",  "add", "dev", ifname,    "parent", hier ? "1:2" : "1:1",
                          "handle", "2:",  "sfq", "perturb", "10",     NULL };
    const char *filter[] = { "filter", "add", "dev",    ifname, "parent", "1:0",    "protocol", "all",
                             "prio",   "1",   "handle", "1",    "fw",     "flowid", "1",        NULL };
    return run_tc(sfq, false, error) && run_tc(filter, false, error);
}

static bool
set_ingress(const char *ifname, const VrtNetworkBandwidthRate *rx, GError **error)
{
    g_autofree char *avg = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", rx->average);
    /* tc keeps the burst in bytes in a 32-bit field */
    guint64 kib = rx->burst ? rx->burst : MIN(rx->average, G_MAXUINT32 / 1024);
    g_autofree char *burst = g_strdup_printf("%" G_GUINT64_FORMAT "kb", kib);
    const char *qdisc[] = { "qdisc", "add", "dev", ifname, "ingress", NULL };
    const char *filter[] = { "filter", "add",   "dev", ifname, "parent", "ffff:",  "protocol", "all",
                             "u32",    "match", "u32", "0",    "0",      "police", "rate",     avg,
                             "burst",  burst,   "mtu", "64kb", "drop",   "flowid", ":1",       NULL };
    return run_tc(qdisc, false, error) && run_tc(filter, false, error);
}

bool
vrt_network_bandwidth_set(const char *ifname, const VrtNetworkBandwidth *bw, bool hierarchical, bool swapped,
                          GError **error)
{
    const VrtNetworkBandwidthRate *tx = swapped ? &bw->in : &bw->out;
    const VrtNetworkBandwidthRate *rx = swapped ? &bw->out : &bw->in;
    if (!bw->in.present && !bw->out.present)
        return true;
    vrt_network_bandwidth_clear(ifname);
    if ((tx->present && tx->average && !set_egress(ifname, tx, hierarchical, error)) ||
        (rx->present && rx->average && !set_ingress(ifname, rx, error))) {
        vrt_network_bandwidth_clear(ifname);
        return false;
    }
    return true;
}

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
quantum(const VrtBandwidthRate *r)
{
    guint64 q = r->average * 1024 / 8 / 1500;
    return g_strdup_printf("%" G_GUINT64_FORMAT, q ? q : 1);
}

static bool
set_egress(const char *ifname, const VrtBandwidthRate *tx, bool hier, GError **error)
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
set_ingress(const char *ifname, const VrtBandwidthRate *rx, GError **error)
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
vrt_network_bandwidth_set(const char *ifname, const VrtBandwidth *bw, bool hierarchical, bool swapped, GError **error)
{
    const VrtBandwidthRate *tx = swapped ? &bw->in : &bw->out;
    const VrtBandwidthRate *rx = swapped ? &bw->out : &bw->in;
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

/* The u32 filter libvirt puts on the bridge for a port's class: handle
 * 800::(800 + id), matching the guest's MAC as destination of IPv4 frames. */
static char *
filter_handle(guint class_id)
{
    return g_strdup_printf("800::%u", 800 + class_id);
}

bool
vrt_network_bandwidth_plug(const char *bridge, const VrtBandwidth *net_bw, const guint8 mac[6],
                           const VrtBandwidth *port_bw, guint class_id, GError **error)
{
    if (!net_bw->in.present || !net_bw->in.average) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "Bridge '%s' has no QoS set, therefore unable to set 'floor' on '%02x:%02x:%02x:%02x:%02x:%02x'",
                      bridge, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return false;
    }
    g_autofree char *cls = g_strdup_printf("1:%x", class_id);
    g_autofree char *qd = g_strdup_printf("%x:", class_id);
    g_autofree char *floor = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", port_bw->in.floor);
    g_autofree char *ceil =
        g_strdup_printf("%" G_GUINT64_FORMAT "kbps", net_bw->in.peak ? net_bw->in.peak : net_bw->in.average);
    g_autofree char *q = quantum(&port_bw->in);
    g_autofree char *handle = filter_handle(class_id);
    g_autofree char *mac_lo = g_strdup_printf("0x%02x%02x%02x%02x", mac[2], mac[3], mac[4], mac[5]);
    g_autofree char *mac_hi = g_strdup_printf("0x%02x%02x", mac[0], mac[1]);
    const char *klass[] = { "class", "add",  "dev", bridge, "parent", "1:1",     "classid", cls,
                            "htb",   "rate", floor, "ceil", ceil,     "quantum", q,         NULL };
    const char *sfq[] = { "qdisc", "add", "dev", bridge, "parent", cls, "handle", qd, "sfq", "perturb", "10", NULL };
    const char *filter[] = { "filter", "add",   "dev",    bridge,  "protocol",   "ip",     "prio",   "2",
                             "handle", handle,  "u32",    "match", "u16",        "0x0800", "0xffff", "at",
                             "-2",     "match", "u32",    mac_lo,  "0xffffffff", "at",     "-12",    "match",
                             "u16",    mac_hi,  "0xffff", "at",    "-14",        "flowid", cls,      NULL };
    if (run_tc(klass, false, error) && run_tc(sfq, false, error) && run_tc(filter, false, error))
        return true;
    vrt_network_bandwidth_unplug(bridge, class_id);
    return false;
}

void
vrt_network_bandwidth_unplug(const char *bridge, guint class_id)
{
    g_autofree char *cls = g_strdup_printf("1:%x", class_id);
    g_autofree char *qd = g_strdup_printf("%x:", class_id);
    g_autofree char *handle = filter_handle(class_id);
    const char *qdisc[] = { "qdisc", "del", "dev", bridge, "handle", qd, NULL };
    const char *filter[] = { "filter", "del", "dev", bridge, "prio", "2", "handle", handle, "u32", NULL };
    const char *klass[] = { "class", "del", "dev", bridge, "classid", cls, NULL };
    /* as much as is there goes */
    run_tc(qdisc, true, NULL);
    run_tc(filter, true, NULL);
    run_tc(klass, true, NULL);
}

void
vrt_network_bandwidth_update_rate(const char *bridge, const VrtBandwidth *net_bw, guint64 rate)
{
    g_autofree char *r = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", rate);
    g_autofree char *ceil =
        g_strdup_printf("%" G_GUINT64_FORMAT "kbps", net_bw->in.peak ? net_bw->in.peak : net_bw->in.average);
    g_autofree char *q = quantum(&net_bw->in);
    const char *cmd[] = { "class", "change", "dev",  bridge, "classid", "1:2", "htb",
                          "rate",  r,        "ceil", ceil,   "quantum", q,     NULL };
    g_autoptr(GError) err = NULL;
    if (!run_tc(cmd, false, &err))
        g_warning("Unable to update rate for 1:2 class on %s bridge: %s", bridge, err->message);
}

bool
vrt_network_tap_bandwidth_set(const char *ifname, const VrtBandwidth *bw, GError **error)
{
    if (!bw->in.present && !bw->out.present) {
        vrt_network_bandwidth_clear(ifname);
        return true;
    }
    return vrt_network_bandwidth_set(ifname, bw, false, true, error);
}

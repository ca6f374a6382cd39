/*
 * A network's firewall rules, in nftables through the `nft` command. Each
 * network has its own table, `table inet vrt_<bridge>` (every character of
 * the bridge name that is not a letter, digit or '_' written '_'), holding
 * all its rules: the table is created, replaced and deleted as a whole in
 * one nft transaction, and no other table is ever read or changed, so the
 * host's own ruleset and other tools' tables stay as they are. The rules
 * are libvirt's for each mode:
 *   every mode but open: DNS and DHCP from the bridge accepted (input),
 *     DHCP replies to it (output), guest to guest on the bridge accepted,
 *     any other forwarding from or to the bridge rejected;
 *   nat: the subnet's outgoing traffic and the replies to it forwarded,
 *     masqueraded (ports 1024-65535 for TCP and UDP) except to multicast
 *     224.0.0.0/24 and broadcast 255.255.255.255; an IPv6 subnet is
 *     routed, or with <nat ipv6='yes'> masqueraded except to ff02::/16;
 *   with <forward dev=> (or a first <interface>), forwarding and
 *     masquerading only through that interface;
 *   route: the subnet forwarded both ways, no NAT;
 *   isolated: nothing forwarded; open: no table at all.
 * The script is kept as NAME.nft in the network run directory.
 */
#include "drivers/network/network_virt.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

static char *
table_name(const VrtNetworkDef *def)
{
    GString *s = g_string_new("vrt_");
    for (const char *p = def->bridge_name; *p; p++)
        g_string_append_c(s, g_ascii_isalnum(*p) || *p == '_' ? *p : '_');
    return g_string_free(s, FALSE);
}

static char *
nft_binary(void)
{
    char *p = g_find_program_in_path("nft");
    return p ? p : g_strdup("/usr/sbin/nft");
}

/* "192.168.122.0/24" for 192.168.122.1/24; NULL when the <ip> has no address. */
static char *
subnet_of(const VrtNetworkIpDef *ip)
{
    int prefix = vrt_network_ip_prefix(ip);
    bool v6 = vrt_network_ip_is_v6(ip);
    guint8 a[16];
    if (prefix < 0 || inet_pton(v6 ? AF_INET6 : AF_INET, ip->address, a) != 1)
        return NULL;
    guint bytes = v6 ? 16 : 4;
    for (guint i = 0; i < bytes; i++) {
        int keep = prefix - (int)i * 8;
        if (keep <= 0)
            a[i] = 0;
        else if (keep < 8)
            a[i] &= (guint8)(0xff << (8 - keep));
    }
    char text[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, text, sizeof(text));
    return g_strdup_printf("%s/%d", text, prefix);
}

static char *
build_script(const VrtNetworkDef *def)
{
    VrtNetworkForwardMode mode = def->has_forward ? def->forward_mode : VRT_NETWORK_FORWARD_NONE;
    g_autofree char *t = table_name(def);
    const char *br = def->bridge_name;
    GString *fwd = g_string_new(NULL);
    GString *nat = g_string_new(NULL);
    /* <forward dev=>: traffic forwarded and masqueraded through that
     * interface only, as libvirt's -o/-i on its rules */
    const char *dev = def->forward_dev;
    if (!dev && def->forward_ifs->len > 0)
        dev = ((const VrtNetworkForwardIf *)g_ptr_array_index(def->forward_ifs, 0))->dev;
    g_autofree char *out_dev = dev ? g_strdup_printf("oifname \"%s\" ", dev) : g_strdup("");
    g_autofree char *in_dev = dev ? g_strdup_printf("iifname \"%s\" ", dev) : g_strdup("");
    for (guint i = 0; i < def->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *net = subnet_of(ip);
        bool v6 = vrt_network_ip_is_v6(ip);
        const char *fam = v6 ? "ip6" : "ip";
        if (!net)
            continue;
        /* IPv6 on a nat network is routed unless <nat ipv6='yes'> (libvirt 9.0) */
        bool masq = mode == VRT_NETWORK_FORWARD_NAT && (!v6 || def->nat_ipv6 == 1);
        if (mode == VRT_NETWORK_FORWARD_NAT || mode == VRT_NETWORK_FORWARD_ROUTE) {
            g_string_append_printf(fwd, "    iifname \"%s\" %s%s saddr %s accept\n", br, out_dev, fam, net);
            /* masqueraded: only replies come in; routed: the subnet is reachable */
            g_string_append_printf(fwd, "    %soifname \"%s\" %s daddr %s %saccept\n", in_dev, br, fam, net,
                                   masq ? "ct state related,established " : "");
        }
        if (masq) {
            g_string_append_printf(nat, "    %s saddr %s %s daddr %s return\n", fam, net, fam,
                                   v6 ? "ff02::/16" : "224.0.0.0/24");
            if (!v6)
                g_string_append_printf(nat, "    ip saddr %s ip daddr 255.255.255.255 return\n", net);
            g_string_append_printf(nat,
                                   "    %s saddr %s %s daddr != %s %smeta l4proto { tcp, udp } masquerade to "
                                   ":1024-65535\n",
                                   fam, net, fam, net, out_dev);
            g_string_append_printf(nat, "    %s saddr %s %s daddr != %s %smasquerade\n", fam, net, fam, net, out_dev);
        }
    }
    GString *s = g_string_new(NULL);
    /* creating, deleting and creating again replaces the table atomically,
     * whether or not it existed */
    g_string_append_printf(s, "table inet %s\ndelete table inet %s\ntable inet %s {\n", t, t, t);
    g_string_append_printf(s,
                           "  chain input {\n    type filter hook input priority filter; policy accept;\n"
                           "    iifname \"%s\" udp dport { 53, 67 } accept\n"
                           "    iifname \"%s\" tcp dport 53 accept\n  }\n",
                           br, br);
    g_string_append_printf(s,
                           "  chain output {\n    type filter hook output priority filter; policy accept;\n"
                           "    oifname \"%s\" udp dport 68 accept\n  }\n",
                           br);
    g_string_append_printf(s,
                           "  chain forward {\n    type filter hook forward priority filter; policy accept;\n"
                           "    iifname \"%s\" oifname \"%s\" accept\n%s"
                           "    iifname \"%s\" reject\n    oifname \"%s\" reject\n  }\n",
                           br, br, fwd->str, br, br);
    if (nat->len)
        g_string_append_printf(s,
                               "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
                               "%s  }\n",
                               nat->str);
    g_string_append(s, "}\n");
    g_string_free(fwd, TRUE);
    g_string_free(nat, TRUE);
    return g_string_free(s, FALSE);
}

static bool
run_nft(char **args, GError **error)
{
    g_autofree char *bin = nft_binary();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, bin);
    for (char **a = args; *a; a++)
        g_ptr_array_add(argv, *a);
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    gint status = 0;
    g_autoptr(GError) local = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, &err, &status, &local)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot run %s: %s", bin, local->message);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "nft %s failed: %s", args[0], err && *err ? err : "no message");
        return false;
    }
    return true;
}

static char *
script_path(VrtNetworkDriver *drv, const char *name)
{
    g_autofree char *base = g_strconcat(name, ".nft", NULL);
    return g_build_filename(drv->state_dir, base, NULL);
}

static bool
has_rules(const VrtNetworkDef *def)
{
    return !(def->has_forward && def->forward_mode == VRT_NETWORK_FORWARD_OPEN);
}

bool
vrt_network_firewall_add(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    if (!has_rules(live))
        return true;
    g_autofree char *path = script_path(drv, live->name);
    g_autofree char *script = build_script(live);
    if (!vrt_file_write_atomic(path, script, -1, 0600, error))
        return false;
    char *args[] = { "-f", path, NULL };
    if (!run_nft(args, error)) {
        g_unlink(path);
        return false;
    }
    return true;
}

void
vrt_network_firewall_remove(VrtNetworkDriver *drv, const VrtNetworkDef *live)
{
    if (!has_rules(live))
        return;
    g_autofree char *t = table_name(live);
    char *list[] = { "list", "table", "inet", t, NULL };
    char *del[] = { "delete", "table", "inet", t, NULL };
    g_autoptr(GError) err = NULL;
    if (run_nft(list, NULL) && !run_nft(del, &err))
        g_warning("network '%s': %s", live->name, err->message);
    g_autofree char *path = script_path(drv, live->name);
    g_unlink(path);
}

bool
vrt_network_firewall_check(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    if (!has_rules(live))
        return true;
    g_autofree char *t = table_name(live);
    char *list[] = { "list", "table", "inet", t, NULL };
    if (!run_nft(list, NULL))
        g_warning("network '%s': its nftables table %s is gone, adding it again", live->name, t);
    /* replaced as a whole either way: a table someone edited is put back
     * as vrt wrote it */
    return vrt_network_firewall_add(drv, live, error);
}

/*
 * One dnsmasq per isolated, nat, route or open network with addresses:
 * DHCP and DNS on its bridge only. Its files live in the network run
 * directory beside the network's state, each name ending in its own
 * suffix: NAME.conf (libvirt's option set, written before each start),
 * NAME.pid (written by dnsmasq itself), NAME.leases (its lease file, read
 * for the DHCP lease list), NAME.hostsfile and NAME.addnhosts (present,
 * empty unless the definition has hosts, so that later additions only need
 * a SIGHUP), NAME.leasescript (the --dhcp-script dnsmasq runs at each
 * lease change) and NAME.leasemacs (what that script keeps: the MAC
 * dnsmasq learned for each IPv6 lease, which its lease file leaves out,
 * as "ADDRESS MAC" lines). dnsmasq daemonizes and outlives vrtd: a
 * restarted vrtd finds it by its pid file, checks the pid still runs
 * dnsmasq with this network's --conf-file (so never a recycled pid), and
 * keeps it, or starts a new one when it is gone.
 */
#include "drivers/network/network_virt.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/mac.h"
#include "util/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define DNSMASQ_FILE_MODE 0644
#define DNSMASQ_SCRIPT_MODE 0700
#define DNSMASQ_STOP_WAIT_MS 3000

static char *
dnsmasq_file(VrtNetworkDriver *drv, const char *name, const char *suffix)
{
    g_autofree char *base = g_strconcat(name, suffix, NULL);
    return g_build_filename(drv->state_dir, base, NULL);
}

static char *
proc_root(VrtNetworkDriver *drv)
{
    return drv->host ? vrt_host_path(drv->host, "/proc") : g_strdup("/proc");
}

static char *
dnsmasq_binary(void)
{
    char *p = g_find_program_in_path("dnsmasq");
    return p ? p : g_strdup("/usr/sbin/dnsmasq");
}

/* A network with addresses has a dnsmasq for DNS, and for DHCP or TFTP
 * when it serves them; with <dns enable='no'> only for the latter, as
 * libvirt. */
bool
vrt_network_dnsmasq_wanted(const VrtNetworkDef *def)
{
    bool any = false;
    for (guint i = 0; i < def->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        if (vrt_network_ip_prefix(ip) < 0)
            continue;
        any = true;
        if (ip->ranges->len || ip->hosts->len || ip->tftp_root)
            return true;
    }
    return any && def->dns_enable != 0;
}

/* server= lines for <forwarder>s: "/DOMAIN/ADDR", "ADDR", or "/DOMAIN/#"
 * (that domain answered locally only); no-resolv once one forwarder takes
 * every other query, so the host's resolv.conf is no longer read. */
static void
conf_forwarders(GString *s, const VrtNetworkDef *def)
{
    bool no_resolv = false;
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
        const VrtNetworkDnsForwarder *f = g_ptr_array_index(def->dns_forwarders, i);
        g_string_append(s, "server=");
        if (f->domain)
            g_string_append_printf(s, "/%s/", f->domain);
        g_string_append_printf(s, "%s\n", f->addr ? f->addr : "#");
        if (f->addr && !f->domain)
            no_resolv = true;
    }
    if (no_resolv)
        g_string_append(s, "no-resolv\n");
}

/* txt-record= and srv-host= lines, in libvirt's form: a SRV record's
 * port, priority and weight are positional, so an earlier one absent
 * before a later one present is written as its default (port 1, 0). */
static void
conf_records(GString *s, const VrtNetworkDef *def)
{
    for (guint i = 0; i < def->dns_txts->len; i++) {
        const VrtNetworkDnsTxt *t = g_ptr_array_index(def->dns_txts, i);
        g_string_append_printf(s, "txt-record=%s,%s\n", t->name, t->value ? t->value : "");
    }
    for (guint i = 0; i < def->dns_srvs->len; i++) {
        const VrtNetworkDnsSrv *r = g_ptr_array_index(def->dns_srvs, i);
        g_string_append_printf(s, "srv-host=_%s._%s", r->service, r->protocol);
        if (r->domain)
            g_string_append_printf(s, ".%s", r->domain);
        if (r->target && strcmp(r->target, ".") != 0) {
            g_string_append_printf(s, ",%s", r->target);
            if (r->port || r->priority || r->weight)
                g_string_append_printf(s, ",%u", r->port ? r->port : 1);
            if (r->priority || r->weight)
                g_string_append_printf(s, ",%u", r->priority);
            if (r->weight)
                g_string_append_printf(s, ",%u", r->weight);
        }
        g_string_append_c(s, '\n');
    }
}

/* A <lease> as dnsmasq takes it after a range or host: ",infinite" or
 * ",N" with its unit's letter, "" without a lease (as libvirt writes). */
static char *
lease_suffix(const VrtNetworkLease *lease)
{
    static const char units[] = { 's', 'm', 'h' };
    if (!lease->present)
        return g_strdup("");
    if (lease->expiry == 0)
        return g_strdup(",infinite");
    return g_strdup_printf(",%" G_GUINT64_FORMAT "%c", lease->expiry, units[lease->unit]);
}

/* Number of addresses from start to end (inclusive), as libvirt counts
 * them for dhcp-lease-max: an IPv6 range by its last 16 bits, when the
 * bits before are the same (else 0, as for an unreadable range). */
static guint64
range_size(const char *start, const char *end)
{
    struct in_addr s, e;
    struct in6_addr s6, e6;
    if (inet_pton(AF_INET, start, &s) == 1 && inet_pton(AF_INET, end, &e) == 1) {
        guint32 a = ntohl(s.s_addr), b = ntohl(e.s_addr);
        return b >= a ? (guint64)(b - a) + 1 : 0;
    }
    if (inet_pton(AF_INET6, start, &s6) != 1 || inet_pton(AF_INET6, end, &e6) != 1 ||
        memcmp(s6.s6_addr, e6.s6_addr, 14) != 0)
        return 0;
    guint a = (guint)s6.s6_addr[14] << 8 | s6.s6_addr[15];
    guint b = (guint)e6.s6_addr[14] << 8 | e6.s6_addr[15];
    return b >= a ? (guint64)(b - a) + 1 : 0;
}

char *
vrt_network_ip_ptr_domain(const VrtNetworkIpDef *ip)
{
    int prefix = vrt_network_ip_prefix(ip);
    guint8 a[16];
    bool v6 = vrt_network_ip_is_v6(ip);
    if (!ip->address || inet_pton(v6 ? AF_INET6 : AF_INET, ip->address, a) != 1)
        return NULL;
    GString *s = g_string_new(NULL);
    if (!v6 && prefix > 0 && prefix < 32 && prefix % 8 == 0) {
        for (int i = prefix / 8; i > 0; i--)
            g_string_append_printf(s, "%u.", a[i - 1]);
        g_string_append(s, "in-addr.arpa");
    } else if (v6 && prefix > 0 && prefix < 128 && prefix % 4 == 0) {
        for (int i = prefix / 4; i > 0; i--)
            g_string_append_printf(s, "%x.", (i - 1) % 2 ? a[(i - 1) / 2] & 0xf : a[(i - 1) / 2] >> 4);
        g_string_append(s, "ip6.arpa");
    } else {
        g_string_free(s, TRUE);
        return NULL;
    }
    return g_string_free(s, FALSE);
}

/* The <ip> of the family that serves DHCP: the first with a range or a
 * host, as libvirt picks it; NULL when none. */
static const VrtNetworkIpDef *
dhcp_ip(const VrtNetworkDef *def, bool v6)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        if (vrt_network_ip_prefix(ip) >= 0 && vrt_network_ip_is_v6(ip) == v6 && (ip->ranges->len || ip->hosts->len))
            return ip;
    }
    return NULL;
}

static char *
conf_contents(VrtNetworkDriver *drv, const VrtNetworkDef *def)
{
    g_autofree char *pid = dnsmasq_file(drv, def->name, ".pid");
    g_autofree char *leases = dnsmasq_file(drv, def->name, ".leases");
    g_autofree char *hosts = dnsmasq_file(drv, def->name, ".hostsfile");
    g_autofree char *addn = dnsmasq_file(drv, def->name, ".addnhosts");
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
                           "##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n"
                           "##    virsh net-edit %s\n"
                           "## or other application using the libvirt API.\n"
                           "##\n## dnsmasq conf file created by vrt\n"
                           "strict-order\n",
                           def->name);
    bool want_dns = def->dns_enable != 0;
    if (!want_dns)
        g_string_append(s, "port=0\n"); /* no DNS at all: dnsmasq listens on no port */
    else
        conf_forwarders(s, def);
    if (def->domain_name) {
        if (def->domain_local_only == 1)
            g_string_append_printf(s, "local=/%s/\n", def->domain_name);
        g_string_append_printf(s, "domain=%s\nexpand-hosts\n", def->domain_name);
    }
    for (guint i = 0; want_dns && i < def->ips->len; i++) {
        /* localPtr='yes': dnsmasq answers the subnet's reverse lookups
         * itself (prepare_live refused a prefix it cannot name) */
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *ptr = ip->local_ptr == 1 ? vrt_network_ip_ptr_domain(ip) : NULL;
        if (ptr)
            g_string_append_printf(s, "local=/%s/\n", ptr);
    }
    if (want_dns && def->dns_forward_plain_names == 0)
        /* names without a dot stay here, domain given or not */
        g_string_append(s, "domain-needed\nlocal=//\n");
    g_string_append_printf(s, "pid-file=%s\n", pid);
    g_string_append(s, "except-interface=lo\n");
    g_string_append_printf(s, "bind-dynamic\ninterface=%s\n", def->bridge_name);
    if (!def->has_forward)
        /* isolated: no default route for the guests, no forwarding of
         * their queries to the host's resolvers */
        g_string_append(s, "dhcp-option=3\nno-resolv\nra-param=*,0,0\n");
    if (want_dns)
        conf_records(s, def);
    bool tftp = false;
    for (guint i = 0; i < def->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        if (!ip->tftp_root || vrt_network_ip_is_v6(ip))
            continue;
        if (!tftp)
            g_string_append(s, "enable-tftp\n");
        tftp = true;
        g_string_append_printf(s, "tftp-root=%s\n", ip->tftp_root);
    }
    guint64 nleases = 0;
    bool dhcp4 = false, dhcp6 = false;
    /* libvirt serves DHCP on the first <ip> of each family with ranges or
     * hosts, IPv4's lines before IPv6's whatever the <ip> order */
    for (guint pass = 0; pass < 2; pass++) {
        bool v6 = pass == 1;
        const VrtNetworkIpDef *ip = dhcp_ip(def, v6);
        if (!ip)
            continue;
        int prefix = vrt_network_ip_prefix(ip);
        for (guint r = 0; r < ip->ranges->len; r++) {
            const VrtNetworkDhcpRange *range = g_ptr_array_index(ip->ranges, r);
            g_autofree char *lease = lease_suffix(&range->lease);
            if (v6) {
                g_string_append_printf(s, "dhcp-range=%s,%s,%d%s\n", range->start, range->end, prefix, lease);
            } else {
                struct in_addr m = { .s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0 };
                char mask[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &m, mask, sizeof(mask));
                g_string_append_printf(s, "dhcp-range=%s,%s,%s%s\n", range->start, range->end, mask, lease);
            }
            nleases += range_size(range->start, range->end);
        }
        if (ip->ranges->len == 0) {
            /* hosts only: dnsmasq serves them with a static range */
            g_string_append_printf(s, "dhcp-range=%s,static", ip->address);
            if (v6)
                g_string_append_printf(s, ",%d", prefix);
            g_string_append_c(s, '\n');
        }
        if (!v6)
            g_string_append(s, "dhcp-no-override\ndhcp-authoritative\n");
        if (!v6 && ip->bootp_file && ip->bootp_server)
            g_string_append_printf(s, "dhcp-boot=%s,,%s\n", ip->bootp_file, ip->bootp_server);
        else if (!v6 && ip->bootp_file)
            g_string_append_printf(s, "dhcp-boot=%s\n", ip->bootp_file);
        if (v6)
            dhcp6 = true;
        else
            dhcp4 = true;
    }
    if (nleases > 0)
        g_string_append_printf(s, "dhcp-lease-max=%" G_GUINT64_FORMAT "\n", nleases);
    if (dhcp4 || dhcp6)
        g_string_append_printf(s, "dhcp-hostsfile=%s\n", hosts);
    if (want_dns)
        g_string_append_printf(s, "addn-hosts=%s\n", addn);
    g_string_append_printf(s, "dhcp-leasefile=%s\n", leases);
    if (def->mtu > 0)
        g_string_append_printf(s, "dhcp-option=option:mtu,%u\n", def->mtu);
    if (dhcp6)
        g_string_append(s, "enable-ra\n");
    else
        for (guint i = 0; i < def->ips->len; i++) {
            const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
            if (vrt_network_ip_is_v6(ip) && ip->address)
                g_string_append_printf(s, "dhcp-range=%s,ra-only\n", ip->address);
        }
    /* <dnsmasq:options>: the user's own lines, last, as libvirt adds them */
    for (guint i = 0; def->dnsmasq_options && def->dnsmasq_options[i]; i++)
        g_string_append_printf(s, "%s\n", def->dnsmasq_options[i]);
    return g_string_free(s, FALSE);
}

/* dnsmasq's dhcp-hostsfile: "MAC,IP,NAME" (or without the name, or
 * "NAME,IP" without a MAC) per <host> of the <ip> of each family that
 * serves DHCP, IPv4's first, as libvirt writes it. */
static char *
hostsfile_contents(const VrtNetworkDef *def)
{
    GString *s = g_string_new(NULL);
    for (guint pass = 0; pass < 2; pass++) {
        bool v6 = pass == 1;
        const VrtNetworkIpDef *ip = dhcp_ip(def, v6);
        for (guint j = 0; ip && j < ip->hosts->len; j++) {
            const VrtNetworkDhcpHost *h = g_ptr_array_index(ip->hosts, j);
            const char *addr_fmt = v6 ? "[%s]" : "%s";
            g_autofree char *addr = g_strdup_printf(addr_fmt, h->ip);
            g_autofree char *lease = lease_suffix(&h->lease);
            if (h->mac)
                g_string_append_printf(s, "%s,%s%s%s%s\n", h->mac, addr, h->name ? "," : "", h->name ? h->name : "",
                                       lease);
            else if (h->id)
                /* a DHCPv6 client by its DUID, as libvirt writes it */
                g_string_append_printf(s, "id:%s%s%s,%s%s\n", h->id, h->name ? "," : "", h->name ? h->name : "", addr,
                                       lease);
            else
                g_string_append_printf(s, "%s,%s%s\n", h->name, addr, lease);
        }
    }
    return g_string_free(s, FALSE);
}

/* dnsmasq's addn-hosts, in /etc/hosts form: "IP NAME..." per <dns><host>. */
static char *
addnhosts_contents(const VrtNetworkDef *def)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const VrtNetworkDnsHost *h = g_ptr_array_index(def->dns_hosts, i);
        g_autofree char *names = g_strjoinv(" ", h->hostnames);
        g_string_append_printf(s, "%s %s\n", h->ip, names);
    }
    return g_string_free(s, FALSE);
}

/* dnsmasq's --dhcp-script, run (as root, one at a time) with "add",
 * "old" or "del", the MAC or DUID, the address and the hostname, the rest
 * in DNSMASQ_* variables. For an IPv6 lease (DNSMASQ_IAID set) it keeps
 * the MAC dnsmasq learned (DNSMASQ_MAC) in the macs file: an "add" or
 * "del" takes out the address's line, an "add" or "old" with a MAC
 * writes it; an "old" without one (the leases dnsmasq reads from its file
 * at start) keeps it. Anything else (IPv4, tftp) is left alone. */
static char *
lease_script_contents(const char *macs)
{
    g_autofree char *quoted = g_shell_quote(macs);
    return g_strdup_printf("#!/bin/sh\n"
                           "[ -n \"$DNSMASQ_IAID\" ] || exit 0\n"
                           "f=%s\n"
                           "case \"$1\" in\n"
                           "add|del) ;;\n"
                           "old) [ -n \"$DNSMASQ_MAC\" ] || exit 0 ;;\n"
                           "*) exit 0 ;;\n"
                           "esac\n"
                           "t=\"$f.new\"\n"
                           "awk -v ip=\"$3\" '$1 != ip' \"$f\" > \"$t\" 2>/dev/null || : > \"$t\"\n"
                           "if [ \"$1\" != del ] && [ -n \"$DNSMASQ_MAC\" ]; then\n"
                           "    echo \"$3 $DNSMASQ_MAC\" >> \"$t\"\n"
                           "fi\n"
                           "mv -f \"$t\" \"$f\"\n",
                           quoted);
}

/* The pid in NAME.pid when it is this network's dnsmasq, else 0. */
pid_t
vrt_network_dnsmasq_pid(VrtNetworkDriver *drv, const char *name)
{
    g_autofree char *pidfile = dnsmasq_file(drv, name, ".pid");
    g_autofree char *conf = dnsmasq_file(drv, name, ".conf");
    g_autofree char *text = NULL;
    if (!g_file_get_contents(pidfile, &text, NULL, NULL))
        return 0;
    gint64 pid = g_ascii_strtoll(text, NULL, 10);
    if (pid <= 1 || pid > G_MAXINT32)
        return 0;
    g_autofree char *arg = g_strconcat("--conf-file=", conf, NULL);
    g_autofree char *proc = proc_root(drv);
    return vrt_proc_pid_has_arg(proc, (pid_t)pid, arg) ? (pid_t)pid : 0;
}

static bool
touch(const char *path, GError **error)
{
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return true;
    return vrt_file_write_atomic(path, "", 0, DNSMASQ_FILE_MODE, error);
}

bool
vrt_network_dnsmasq_start(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    if (!vrt_network_dnsmasq_wanted(live))
        return true;
    g_autofree char *conf = dnsmasq_file(drv, live->name, ".conf");
    g_autofree char *pidfile = dnsmasq_file(drv, live->name, ".pid");
    g_autofree char *leases = dnsmasq_file(drv, live->name, ".leases");
    g_autofree char *hosts = dnsmasq_file(drv, live->name, ".hostsfile");
    g_autofree char *addn = dnsmasq_file(drv, live->name, ".addnhosts");
    g_autofree char *text = conf_contents(drv, live);
    g_autofree char *hosts_text = hostsfile_contents(live);
    g_autofree char *addn_text = addnhosts_contents(live);
    g_autofree char *script = dnsmasq_file(drv, live->name, ".leasescript");
    g_autofree char *macs = dnsmasq_file(drv, live->name, ".leasemacs");
    g_autofree char *script_text = lease_script_contents(macs);
    g_unlink(pidfile);
    if (!vrt_file_write_atomic(conf, text, -1, DNSMASQ_FILE_MODE, error) || !touch(leases, error) ||
        !vrt_file_write_atomic(hosts, hosts_text, -1, DNSMASQ_FILE_MODE, error) ||
        !vrt_file_write_atomic(addn, addn_text, -1, DNSMASQ_FILE_MODE, error) ||
        !vrt_file_write_atomic(script, script_text, -1, DNSMASQ_SCRIPT_MODE, error))
        return false;
    g_autofree char *bin = dnsmasq_binary();
    g_autofree char *arg = g_strconcat("--conf-file=", conf, NULL);
    /* on the command line, as libvirt passes its lease helper */
    g_autofree char *script_arg = g_strconcat("--dhcp-script=", script, NULL);
    char *argv[] = { bin, arg, script_arg, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    gint status = 0;
    g_autoptr(GError) local = NULL;
    /* dnsmasq forks; its parent returns once the daemon runs (pid file
     * written) or with the reason it could not start */
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out, &err, &status, &local)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot run %s: %s", bin, local->message);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "dnsmasq of network '%s' failed to start: %s", live->name,
                      err && *err ? err : "no message");
        return false;
    }
    pid_t pid = vrt_network_dnsmasq_pid(drv, live->name);
    if (pid == 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "dnsmasq of network '%s' did not write its pid file '%s'",
                      live->name, pidfile);
        return false;
    }
    g_info("network '%s': dnsmasq started (pid %d)", live->name, (int)pid);
    return true;
}

void
vrt_network_dnsmasq_stop(VrtNetworkDriver *drv, const char *name)
{
    pid_t pid = vrt_network_dnsmasq_pid(drv, name);
    if (pid > 0) {
        g_autofree char *proc = proc_root(drv);
        kill(pid, SIGTERM);
        for (guint waited = 0; waited < DNSMASQ_STOP_WAIT_MS && vrt_proc_pid_alive(proc, pid); waited += 10)
            g_usleep(10 * 1000);
        if (vrt_proc_pid_alive(proc, pid))
            kill(pid, SIGKILL);
    }
    static const char *const suffixes[] = { ".pid",       ".conf",        ".leases",    ".hostsfile",
                                            ".addnhosts", ".leasescript", ".leasemacs", ".leasemacs.new" };
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *path = dnsmasq_file(drv, name, suffixes[i]);
        if (g_unlink(path) < 0 && errno != ENOENT)
            g_warning("network '%s': cannot remove %s: %s", name, path, g_strerror(errno));
    }
}

bool
vrt_network_dnsmasq_check(VrtNetworkDriver *drv, const VrtNetworkDef *live, GError **error)
{
    if (!vrt_network_dnsmasq_wanted(live))
        return true;
    pid_t pid = vrt_network_dnsmasq_pid(drv, live->name);
    if (pid > 0) {
        g_info("network '%s': dnsmasq running (pid %d)", live->name, (int)pid);
        return true;
    }
    g_warning("network '%s': its dnsmasq is gone, starting it again", live->name);
    return vrt_network_dnsmasq_start(drv, live, error);
}

bool
vrt_network_dnsmasq_update(VrtNetworkDriver *drv, const VrtNetworkDef *live, bool restart, GError **error)
{
    if (!vrt_network_dnsmasq_wanted(live))
        return true;
    pid_t pid = vrt_network_dnsmasq_pid(drv, live->name);
    if (restart || pid == 0) {
        /* a range is read at start only: a new dnsmasq, as libvirt */
        if (pid > 0) {
            g_autofree char *proc = proc_root(drv);
            kill(pid, SIGTERM);
            for (guint waited = 0; waited < DNSMASQ_STOP_WAIT_MS && vrt_proc_pid_alive(proc, pid); waited += 10)
                g_usleep(10 * 1000);
        }
        return vrt_network_dnsmasq_start(drv, live, error);
    }
    g_autofree char *hosts = dnsmasq_file(drv, live->name, ".hostsfile");
    g_autofree char *conf = dnsmasq_file(drv, live->name, ".conf");
    g_autofree char *addn = dnsmasq_file(drv, live->name, ".addnhosts");
    g_autofree char *hosts_text = hostsfile_contents(live);
    g_autofree char *addn_text = addnhosts_contents(live);
    g_autofree char *conf_text = conf_contents(drv, live);
    if (!vrt_file_write_atomic(hosts, hosts_text, -1, DNSMASQ_FILE_MODE, error) ||
        !vrt_file_write_atomic(addn, addn_text, -1, DNSMASQ_FILE_MODE, error) ||
        !vrt_file_write_atomic(conf, conf_text, -1, DNSMASQ_FILE_MODE, error))
        return false;
    /* dnsmasq reads its hosts files again on SIGHUP */
    if (kill(pid, SIGHUP) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot signal dnsmasq of network '%s'", live->name);
        return false;
    }
    return true;
}

/* ---- leases ---- */

void
vrt_network_dhcp_lease_free(VrtNetworkDhcpLease *lease)
{
    if (!lease)
        return;
    g_free(lease->iface);
    g_free(lease->mac);
    g_free(lease->iaid);
    g_free(lease->ipaddr);
    g_free(lease->hostname);
    g_free(lease->clientid);
    g_free(lease);
}

/* The prefix of the <ip> of def whose subnet holds addr (0 when none). */
static guint
lease_prefix(const VrtNetworkDef *def, const char *addr, bool v6)
{
    guint8 a[16], b[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
        return 0;
    for (guint i = 0; i < def->ips->len; i++) {
        const VrtNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        int prefix = vrt_network_ip_prefix(ip);
        if (prefix < 0 || vrt_network_ip_is_v6(ip) != v6 || inet_pton(v6 ? AF_INET6 : AF_INET, ip->address, b) != 1)
            continue;
        bool same = true;
        for (int bit = 0; bit < prefix && same; bit++)
            same = ((a[bit / 8] ^ b[bit / 8]) & (0x80 >> (bit % 8))) == 0;
        if (same)
            return (guint)prefix;
    }
    return 0;
}

static char *
lease_field(const char *s)
{
    return s && strcmp(s, "*") != 0 ? g_strdup(s) : NULL;
}

/* The macs file the lease script keeps: address -> MAC of IPv6 leases. */
static GHashTable *
read_lease_macs(const char *path)
{
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return out; /* no IPv6 lease with a known MAC yet */
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        guint8 mac[VRT_MAC_LEN];
        if (g_strv_length(f) == 2 && vrt_mac_parse(f[1], mac))
            g_hash_table_replace(out, g_strdup(f[0]), g_ascii_strdown(f[1], -1));
    }
    return out;
}

/* dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENTID" per IPv4 lease;
 * after a "duid SERVER-DUID" line, "EXPIRY IAID IP HOSTNAME DUID" per
 * IPv6 lease (IAID with a "T" before it for a temporary address); "*" for
 * an absent field. An IPv6 lease's MAC is the one in macs, when dnsmasq
 * knew it (libvirt lists only those: its helper drops the others). A
 * lease released or expired is gone from the file once dnsmasq writes it
 * again; one past its expiry is left out here already. */
static GPtrArray *
parse_leases(const VrtNetworkDef *def, const char *text, GHashTable *macs, const char *mac)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dhcp_lease_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    bool v6 = false;
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        if (!f[0] || !*f[0])
            continue;
        if (g_str_equal(f[0], "duid")) {
            v6 = true;
            continue;
        }
        if (g_strv_length(f) < 5)
            continue;
        gint64 expiry = g_ascii_strtoll(f[0], NULL, 10);
        if (expiry != 0 && expiry < now)
            continue;
        const char *lease_mac = v6 ? g_hash_table_lookup(macs, f[2]) : f[1];
        if (!lease_mac || (mac && g_ascii_strcasecmp(mac, lease_mac) != 0))
            continue;
        VrtNetworkDhcpLease *l = g_new0(VrtNetworkDhcpLease, 1);
        l->iface = g_strdup(def->bridge_name);
        l->expirytime = expiry;
        l->type = v6 ? 1 : 0;
        l->mac = g_strdup(lease_mac);
        if (v6)
            l->iaid = g_strdup(f[1][0] == 'T' ? f[1] + 1 : f[1]);
        l->ipaddr = g_strdup(f[2]);
        l->prefix = lease_prefix(def, f[2], v6);
        l->hostname = lease_field(f[3]);
        l->clientid = lease_field(f[4]);
        g_ptr_array_add(out, l);
    }
    return out;
}

GPtrArray *
vrt_netdrv_get_dhcp_leases(VrtNetworkDriver *drv, const guchar net_uuid[16], const char *mac, guint flags,
                           GError **error)
{
    if (flags) {
        vrt_error_set_flags(error, flags, "networkGetDHCPLeases");
        return NULL;
    }
    guint8 mac_bytes[VRT_MAC_LEN];
    if (mac && !vrt_mac_parse(mac, mac_bytes)) {
        vrt_error_set(error, VIR_ERR_INVALID_MAC, "%s", mac);
        return NULL;
    }
    g_autoptr(VrtNetworkDef) live = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        VrtNetworkObj *obj = vrt_network_find_uuid_locked(drv, net_uuid, error);
        if (!obj)
            return NULL;
        if (!obj->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "network '%s' is not active",
                          vrt_network_obj_def(obj)->name);
            return NULL;
        }
        live = vrt_network_def_copy(obj->live);
    }
    if (!vrt_network_is_virtual(live) || !vrt_network_dnsmasq_wanted(live))
        return g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_dhcp_lease_free);
    g_autofree char *path = dnsmasq_file(drv, live->name, ".leases");
    g_autofree char *macs_path = dnsmasq_file(drv, live->name, ".leasemacs");
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = g_strdup(""); /* none handed out yet */
    g_autoptr(GHashTable) macs = read_lease_macs(macs_path);
    return parse_leases(live, text, macs, mac);
}

/*
 * Host network interfaces from sysfs (see interface.h). What the udev
 * backend reads through libudev is read here from the same sysfs
 * attributes under the host root: address, mtu, operstate, speed, the
 * uevent's DEVTYPE, bridge/ and brif/, bonding/ and its lower_* links, and
 * /proc/net/vlan/NAME for a VLAN's tag and parent.
 */
#include "drivers/interface/interface.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

#define NET "/sys/class/net"

void
vrt_iface_free(VrtIface *iface)
{
    if (!iface)
        return;
    g_free(iface->name);
    g_free(iface->mac);
    g_free(iface);
}

static char *
attr(VrtHost *host, const char *name, const char *file)
{
    g_autofree char *path = g_strdup_printf(NET "/%s/%s", name, file);

    return vrt_host_read(host, path, NULL);
}

static bool
has(VrtHost *host, const char *name, const char *file)
{
    g_autofree char *path = g_strdup_printf(NET "/%s/%s", name, file);

    return vrt_host_exists(host, path);
}

static bool
exists(VrtHost *host, const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") && has(host, name, "");
}

/* Listed as the udev backend lists: no bridge ports, no tap/tun. */
static bool
listed(VrtHost *host, const char *name)
{
    return !has(host, name, "brport/state") && !has(host, name, "tun_flags");
}

static VrtIface *
make(VrtHost *host, const char *name)
{
    VrtIface *iface = g_new0(VrtIface, 1);
    g_autofree char *state = attr(host, name, "operstate");

    iface->name = g_strdup(name);
    iface->mac = attr(host, name, "address");
    if (!iface->mac)
        iface->mac = g_strdup("");
    iface->active = state && g_str_equal(state, "up");
    return iface;
}

GPtrArray *
vrt_iface_list(VrtHost *host, int which, GError **error)
{
    g_autoptr(GPtrArray) names = vrt_host_list_dir(host, NET, error);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_iface_free);

    if (!names)
        return NULL;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *state = NULL;

        if (!listed(host, name))
            continue;
        state = attr(host, name, "operstate");
        if (which == 1 && g_strcmp0(state, "up") != 0)
            continue;
        if (which == 2 && g_strcmp0(state, "down") != 0)
            continue;
        g_ptr_array_add(out, make(host, name));
    }
    return g_steal_pointer(&out);
}

VrtIface *
vrt_iface_lookup_by_name(VrtHost *host, const char *name, GError **error)
{
    if (!exists(host, name)) {
        vrt_error_set(error, VIR_ERR_NO_INTERFACE, "couldn't find interface named '%s'", name ? name : "");
        return NULL;
    }
    return make(host, name);
}

VrtIface *
vrt_iface_lookup_by_mac(VrtHost *host, const char *mac, GError **error)
{
    g_autoptr(GPtrArray) all = vrt_iface_list(host, 0, error);
    VrtIface *found = NULL;

    if (!all)
        return NULL;
    for (guint i = 0; i < all->len; i++) {
        VrtIface *iface = g_ptr_array_index(all, i);

        if (g_ascii_strcasecmp(iface->mac, mac) != 0)
            continue;
        if (found) {
            vrt_error_set(error, VIR_ERR_MULTIPLE_INTERFACES, "the MAC address '%s' matches multiple interfaces", mac);
            return NULL;
        }
        found = iface;
    }
    if (!found) {
        vrt_error_set(error, VIR_ERR_NO_INTERFACE, "couldn't find interface with MAC address '%s'", mac);
        return NULL;
    }
    return make(host, found->name);
}

/* ---- XML ---- */

typedef enum {
    T_ETHERNET,
    T_BRIDGE,
    T_BOND,
    T_VLAN
} IfType;

static void line(GString *buf, guint indent, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
line(GString *buf, guint indent, const char *fmt, ...)
{
    va_list ap;

    for (guint i = 0; i < indent; i++)
        g_string_append(buf, "  ");
    va_start(ap, fmt);
    g_string_append_vprintf(buf, fmt, ap);
    va_end(ap);
    g_string_append_c(buf, '\n');
}

static IfType
if_type(VrtHost *host, const char *name)
{
    g_autofree char *uevent = attr(host, name, "uevent");
    g_auto(GStrv) lines = g_strsplit(uevent ? uevent : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (g_str_equal(lines[i], "DEVTYPE=vlan"))
            return T_VLAN;
        if (g_str_equal(lines[i], "DEVTYPE=bridge"))
            return T_BRIDGE;
        if (g_str_equal(lines[i], "DEVTYPE=bond"))
            return T_BOND;
    }
    /* The udev backend's fallbacks: a dot in the name, bonding/mode. */
    if (strrchr(name, '.'))
        return T_VLAN;
    if (has(host, name, "bonding/mode"))
        return T_BOND;
    return T_ETHERNET;
}

static const char *const if_type_names[] = { "ethernet", "bridge", "bond", "vlan" };

/* <link state= speed=> as virNetDevGetLinkInfo reads them: the speed only
 * while the link is up and the device reports one. */
static void
format_link(GString *buf, guint indent, VrtHost *host, const char *name)
{
    static const char *const states[] = { "unknown", "notpresent", "down", "lowerlayerdown",
                                          "testing", "dormant",    "up",   NULL };
    g_autofree char *state = attr(host, name, "operstate");
    g_autofree char *speed = NULL;
    guint64 mbps = 0;

    if (!state || !g_strv_contains(states, state))
        return;
    if (g_str_equal(state, "up") && (speed = attr(host, name, "speed"))) {
        char *end = NULL;
        gint64 v = g_ascii_strtoll(speed, &end, 10);
        if (end && !*end && v > 0 && v < G_MAXUINT32)
            mbps = (guint64)v;
    }
    if (mbps)
        line(buf, indent, "<link speed='%" G_GUINT64_FORMAT "' state='%s'/>", mbps, state);
    else
        line(buf, indent, "<link state='%s'/>", state);
}

static bool format_iface(GString *buf, guint indent, VrtHost *host, const char *name, bool top, int depth,
                         GError **error);

/* Member interfaces from entries of dir named PREFIX<member> (bond:
 * lower_*) or plain names (bridge: brif/). */
static bool
format_members(GString *buf, guint indent, VrtHost *host, const char *name, const char *sub, const char *prefix,
               int depth, GError **error)
{
    g_autofree char *dir = g_strdup_printf(NET "/%s%s%s", name, sub ? "/" : "", sub ? sub : "");
    g_autoptr(GPtrArray) entries = vrt_host_list_dir(host, dir, error);

    if (!entries)
        return false;
    for (guint i = 0; i < entries->len; i++) {
        const char *e = g_ptr_array_index(entries, i);

        if (prefix && !g_str_has_prefix(e, prefix))
            continue;
        if (!format_iface(buf, indent, host, prefix ? e + strlen(prefix) : e, false, depth + 1, error))
            return false;
    }
    return true;
}

static bool
format_bond(GString *buf, guint indent, VrtHost *host, const char *name, int depth, GError **error)
{
    static const char *const modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
                                         "802.3ad",    "balance-tlb",   "balance-alb" };
    static const char *const validate[] = { NULL, "active", "backup", "all" };
    g_autofree char *mode = attr(host, name, "bonding/mode");
    g_autofree char *miimon = attr(host, name, "bonding/miimon");
    g_autofree char *arp = attr(host, name, "bonding/arp_interval");
    g_autofree char *target = attr(host, name, "bonding/arp_ip_target");
    g_autofree char *val = attr(host, name, "bonding/arp_validate");
    g_autofree char *down = attr(host, name, "bonding/downdelay");
    g_autofree char *up = attr(host, name, "bonding/updelay");
    g_autofree char *carrier = attr(host, name, "bonding/use_carrier");
    const char *sp = mode ? strchr(mode, ' ') : NULL;
    int m = sp ? atoi(sp + 1) : -1;
    int freq = miimon ? atoi(miimon) : 0, interval = arp ? atoi(arp) : 0;

    if (m >= 0 && m < (int)G_N_ELEMENTS(modes))
        line(buf, indent, "<bond mode='%s'>", modes[m]);
    else
        line(buf, indent, "<bond>");
    if (interval > 0) {
        const char *vsp = val ? strchr(val, ' ') : NULL;
        int v = vsp ? atoi(vsp + 1) : 0;
        g_autofree char *t = g_markup_escape_text(target ? target : "", -1);

        if (v > 0 && v < (int)G_N_ELEMENTS(validate))
            line(buf, indent + 1, "<arpmon interval='%d' target='%s' validate='%s'/>", interval, t, validate[v]);
        else
            line(buf, indent + 1, "<arpmon interval='%d' target='%s'/>", interval, t);
    } else if (freq > 0) {
        g_autoptr(GString) l = g_string_new(NULL);

        g_string_append_printf(l, "<miimon freq='%d'", freq);
        if (down && atoi(down) > 0)
            g_string_append_printf(l, " downdelay='%d'", atoi(down));
        if (up && atoi(up) > 0)
            g_string_append_printf(l, " updelay='%d'", atoi(up));
        if (carrier)
            g_string_append(l, atoi(carrier) ? " carrier='netif'" : " carrier='ioctl'");
        g_string_append(l, "/>");
        line(buf, indent + 1, "%s", l->str);
    }
    if (!format_members(buf, indent + 1, host, name, NULL, "lower_", depth, error))
        return false;
    line(buf, indent, "</bond>");
    return true;
}

static bool
format_vlan(GString *buf, guint indent, VrtHost *host, const char *name, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/net/vlan/%s", name);
    g_autofree char *real = vrt_host_path(host, path);
    g_autofree char *text = NULL;
    const char *vid, *dev;
    g_autofree char *tag = NULL;
    g_autofree char *parent = NULL;

    if (!g_file_get_contents(real, &text, NULL, NULL)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to find the VID for the VLAN device '%s'", name);
        return false;
    }
    vid = strstr(text, "VID: ");
    if (!vid || !g_ascii_isdigit(vid[5])) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to find the VID for the VLAN device '%s'", name);
        return false;
    }
    tag = g_strndup(vid + 5, strspn(vid + 5, "0123456789"));
    dev = strstr(vid, "\nDevice: ");
    if (!dev || !dev[9] || dev[9] == '\n') {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to find the real device for the VLAN device '%s'", name);
        return false;
    }
    parent = g_markup_escape_text(dev + 9, strcspn(dev + 9, "\n"));
    line(buf, indent, "<vlan tag='%s'>", tag);
    line(buf, indent + 1, "<interface name='%s'/>", parent);
    line(buf, indent, "</vlan>");
    return true;
}

static bool
format_iface(GString *buf, guint indent, VrtHost *host, const char *name, bool top, int depth, GError **error)
{
    IfType type;
    g_autofree char *ename = NULL;
    g_autofree char *mac = NULL;

    if (depth > 8 || !exists(host, name)) {
        vrt_error_set(error, VIR_ERR_NO_INTERFACE, "couldn't find interface named '%s'", name);
        return false;
    }
    type = if_type(host, name);
    ename = g_markup_escape_text(name, -1);
    line(buf, indent, "<interface type='%s' name='%s'>", if_type_names[type], ename);
    if (top) {
        g_autofree char *mtu = attr(host, name, "mtu");
        if (mtu && atoi(mtu) > 0)
            line(buf, indent + 1, "<mtu size='%d'/>", atoi(mtu));
    }
    if (type != T_BRIDGE)
        format_link(buf, indent + 1, host, name);
    switch (type) {
    case T_ETHERNET:
        mac = attr(host, name, "address");
        if (mac && *mac)
            line(buf, indent + 1, "<mac address='%s'/>", mac);
        break;
    case T_BRIDGE: {
        g_autofree char *stp = attr(host, name, "bridge/stp_state");
        g_autofree char *delay = attr(host, name, "bridge/forward_delay");
        g_autoptr(GString) l = g_string_new("<bridge");

        if (stp && (g_str_equal(stp, "0") || g_str_equal(stp, "1")))
            g_string_append_printf(l, " stp='%s'", g_str_equal(stp, "1") ? "on" : "off");
        if (delay)
            g_string_append_printf(l, " delay='%s'", delay);
        g_string_append(l, ">");
        line(buf, indent + 1, "%s", l->str);
        if (!format_members(buf, indent + 2, host, name, "brif", NULL, depth, error))
            return false;
        line(buf, indent + 1, "</bridge>");
        break;
    }
    case T_BOND:
        if (!format_bond(buf, indent + 1, host, name, depth, error))
            return false;
        break;
    case T_VLAN:
        if (!format_vlan(buf, indent + 1, host, name, error))
            return false;
        break;
    }
    line(buf, indent, "</interface>");
    return true;
}

char *
vrt_iface_get_xml(VrtHost *host, const char *name, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    if (!format_iface(buf, 0, host, name, true, 0, error))
        return NULL;
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/*
 * Bridges, addresses and tap devices of vrt's virtual networks (see
 * netdev.h). Links and addresses change over a short-lived rtnetlink
 * socket of vrtd's own network namespace (one request, one ack: these
 * are rare, start-time operations); tap devices come from /dev/net/tun.
 * A tap is not persistent: it lives as long as an fd to it is open, so
 * once QEMU holds it, QEMU's end removes it, whoever notices first.
 */
#include "host/netdev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"

#define NETDEV_NL_TIMEOUT_S 5

/* The kernel vrtd talks to is the host's only when the host seam's root
 * is "/": under another root (a simulated host, the unit tests' file
 * trees) a link change would hit the machine running the tests. */
static bool
host_is_kernel(VrtHost *host)
{
    g_autofree char *proc = host ? vrt_host_path(host, "/proc") : NULL;
    return proc && g_str_equal(proc, "/proc") && !vrt_host_is_simulated(host);
}

static bool
refuse_simulated(VrtHost *host, const char *what, GError **error)
{
    g_autofree char *desc = g_strdup_printf("netdev %s", what);
    if (!host_is_kernel(host)) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "cannot %s on a host with a root other than /", what);
        return true;
    }
    return !vrt_host_check_fault(host, desc, error);
}

/* ---- rtnetlink requests ---- */

static void
nl_pad(GByteArray *b)
{
    static const guint8 zero[4] = { 0 };
    g_byte_array_append(b, zero, NLMSG_ALIGN(b->len) - b->len);
}

static void
nl_attr(GByteArray *b, guint16 type, const void *data, guint16 len)
{
    struct rtattr rta = { .rta_len = RTA_LENGTH(len), .rta_type = type };
    nl_pad(b);
    g_byte_array_append(b, (const guint8 *)&rta, sizeof(rta));
    if (len)
        g_byte_array_append(b, data, len);
    nl_pad(b);
}

static guint
nl_nest_start(GByteArray *b, guint16 type)
{
    nl_pad(b);
    guint off = b->len;
    nl_attr(b, type, NULL, 0);
    return off;
}

static void
nl_nest_end(GByteArray *b, guint off)
{
    ((struct rtattr *)(b->data + off))->rta_len = b->len - off;
}

static GByteArray *
nl_msg(guint16 type, guint16 flags, const void *hdr, gsize hdr_len)
{
    GByteArray *b = g_byte_array_new();
    struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags, .nlmsg_seq = 1 };
    g_byte_array_append(b, (const guint8 *)&nh, sizeof(nh));
    g_byte_array_append(b, hdr, hdr_len);
    nl_pad(b);
    return b;
}

/* Sends one request and returns the kernel's errno for it (0: done), or
 * -1 with an error when the socket itself fails. */
static int
nl_transact(GByteArray *req, GError **error)
{
    ((struct nlmsghdr *)req->data)->nlmsg_len = req->len;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open netlink socket");
        return -1;
    }
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    struct timeval tv = { .tv_sec = NETDEV_NL_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (sendto(fd, req->data, req->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot send netlink message");
        close(fd);
        return -1;
    }
    guint8 buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot read netlink reply");
            close(fd);
            return -1;
        }
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (guint)n); nh = NLMSG_NEXT(nh, n)) {
            if (nh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(nh);
                close(fd);
                return -e->error;
            }
        }
    }
}

static bool
nl_run(GByteArray *req, const char *what, int ok_errno, GError **error)
{
    int rc = nl_transact(req, error);
    if (rc < 0)
        return false;
    if (rc != 0 && rc != ok_errno) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, rc, "%s", what);
        return false;
    }
    return true;
}

static bool
ifindex_of(const char *name, int *index, GError **error)
{
    *index = (int)if_nametoindex(name);
    if (*index == 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot find network device '%s'", name);
        return false;
    }
    return true;
}

/* ---- links ---- */

bool
vrt_netdev_bridge_create(VrtHost *host, const char *name, const guint8 *mac, guint mtu, int stp, gint64 delay_s,
                         GError **error)
{
    g_autofree char *what = g_strdup_printf("create bridge '%s'", name);
    if (refuse_simulated(host, what, error))
        return false;
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
    g_autoptr(GByteArray) req = nl_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_attr(req, IFLA_IFNAME, name, strlen(name) + 1);
    if (mac)
        nl_attr(req, IFLA_ADDRESS, mac, 6);
    if (mtu) {
        guint32 m = mtu;
        nl_attr(req, IFLA_MTU, &m, sizeof(m));
    }
    guint li = nl_nest_start(req, IFLA_LINKINFO);
    nl_attr(req, IFLA_INFO_KIND, "bridge", 7);
    guint data = nl_nest_start(req, IFLA_INFO_DATA);
    if (stp >= 0) {
        guint32 v = stp ? 1 : 0;
        nl_attr(req, IFLA_BR_STP_STATE, &v, sizeof(v));
    }
    if (delay_s >= 0) {
        /* the kernel counts in centiseconds (USER_HZ) */
        guint32 v = (guint32)(delay_s * 100);
        nl_attr(req, IFLA_BR_FORWARD_DELAY, &v, sizeof(v));
    }
    nl_nest_end(req, data);
    nl_nest_end(req, li);
    g_autofree char *msg = g_strdup_printf("cannot create bridge '%s'", name);
    return nl_run(req, msg, 0, error);
}

bool
vrt_netdev_delete(VrtHost *host, const char *name, bool missing_ok, GError **error)
{
    g_autofree char *what = g_strdup_printf("delete network device '%s'", name);
    if (refuse_simulated(host, what, error))
        return false;
    int index = (int)if_nametoindex(name);
    if (index == 0) {
        if (missing_ok)
            return true;
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot find network device '%s'", name);
        return false;
    }
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
    g_autoptr(GByteArray) req = nl_msg(RTM_DELLINK, 0, &ifi, sizeof(ifi));
    g_autofree char *msg = g_strdup_printf("cannot delete network device '%s'", name);
    return nl_run(req, msg, missing_ok ? ENODEV : 0, error);
}

bool
vrt_netdev_set_up(VrtHost *host, const char *name, bool up, GError **error)
{
    g_autofree char *what = g_strdup_printf("set '%s' %s", name, up ? "up" : "down");
    if (refuse_simulated(host, what, error))
        return false;
    int index;
    if (!ifindex_of(name, &index, error))
        return false;
    struct ifinfomsg ifi = {
        .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = up ? IFF_UP : 0, .ifi_change = IFF_UP
    };
    g_autoptr(GByteArray) req = nl_msg(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    g_autofree char *msg = g_strdup_printf("cannot set '%s' %s", name, up ? "up" : "down");
    return nl_run(req, msg, 0, error);
}

bool
vrt_netdev_set_master(VrtHost *host, const char *name, const char *bridge, GError **error)
{
    g_autofree char *what = g_strdup_printf("attach '%s' to bridge '%s'", name, bridge);
    if (refuse_simulated(host, what, error))
        return false;
    int index, master;
    if (!ifindex_of(name, &index, error) || !ifindex_of(bridge, &master, error))
        return false;
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
    g_autoptr(GByteArray) req = nl_msg(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    guint32 m = (guint32)master;
    nl_attr(req, IFLA_MASTER, &m, sizeof(m));
    g_autofree char *msg = g_strdup_printf("cannot attach '%s' to bridge '%s'", name, bridge);
    return nl_run(req, msg, 0, error);
}

/* libvirt writes the sysfs file brif/PORT/isolated; vrt says the same to
 * the kernel over rtnetlink: the port's protocol info (IFLA_PROTINFO) in
 * an AF_BRIDGE link change, which fails when name is no bridge port. */
bool
vrt_netdev_bridge_port_set_isolated(VrtHost *host, const char *bridge, const char *name, bool isolated, GError **error)
{
    g_autofree char *what = g_strdup_printf("set bridge %s port %s isolated", bridge, name);
    if (refuse_simulated(host, what, error))
        return false;
    int index;
    if (!ifindex_of(name, &index, error))
        return false;
    struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = index };
    g_autoptr(GByteArray) req = nl_msg(RTM_SETLINK, 0, &ifi, sizeof(ifi));
    guint nest = nl_nest_start(req, IFLA_PROTINFO | NLA_F_NESTED);
    guint8 on = isolated ? 1 : 0;
    nl_attr(req, IFLA_BRPORT_ISOLATED, &on, sizeof(on));
    nl_nest_end(req, nest);
    /* libvirt's words */
    g_autofree char *msg = g_strdup_printf("Unable to set bridge %s port %s isolated to %d", bridge, name, on);
    return nl_run(req, msg, 0, error);
}

char *
vrt_netdev_get_master(VrtHost *host, const char *name)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/master", name);
    return host ? vrt_host_link_name(host, path, NULL) : NULL;
}

bool
vrt_netdev_exists(VrtHost *host, const char *name)
{
    return host_is_kernel(host) && if_nametoindex(name) != 0;
}

bool
vrt_netdev_add_addr(VrtHost *host, const char *name, const char *addr, guint prefix, GError **error)
{
    g_autofree char *what = g_strdup_printf("add address %s/%u to '%s'", addr, prefix, name);
    if (refuse_simulated(host, what, error))
        return false;
    guint8 bin[16];
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, addr, bin) != 1) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "invalid address '%s'", addr);
        return false;
    }
    int index;
    if (!ifindex_of(name, &index, error))
        return false;
    guint16 alen = family == AF_INET ? 4 : 16;
    struct ifaddrmsg ifa = { .ifa_family = family, .ifa_prefixlen = prefix, .ifa_index = index };
    g_autoptr(GByteArray) req = nl_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    nl_attr(req, IFA_LOCAL, bin, alen);
    nl_attr(req, IFA_ADDRESS, bin, alen);
    if (family == AF_INET && prefix < 31) {
        guint32 a, mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
        memcpy(&a, bin, 4);
        a |= ~mask;
        nl_attr(req, IFA_BROADCAST, &a, 4);
    }
    if (family == AF_INET6) {
        /* the bridge is vrt's own: no duplicate address detection wait */
        guint32 flags = IFA_F_NODAD;
        nl_attr(req, IFA_FLAGS, &flags, sizeof(flags));
    }
    g_autofree char *msg = g_strdup_printf("cannot add address %s/%u to '%s'", addr, prefix, name);
    return nl_run(req, msg, EEXIST, error);
}

char *
vrt_netdev_route_user(VrtHost *host, const char *addr, guint prefix)
{
    struct in_addr a;
    if (!host || inet_pton(AF_INET, addr, &a) != 1 || prefix > 32)
        return NULL;
    g_autofree char *text = vrt_host_read(host, "/proc/net/route", NULL);
    if (!text || !g_str_has_prefix(text, "Iface"))
        return NULL;
    guint32 mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
    guint32 net = a.s_addr & mask;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 1; lines[i]; i++) {
        char iface[17], dest[128], rmask[128];
        if (sscanf(lines[i], "%16s %127s %*s %*s %*s %*s %*s %127s", iface, dest, rmask) != 3)
            continue;
        /* /proc/net/route prints the raw network-order words in hex */
        guint32 d = (guint32)g_ascii_strtoull(dest, NULL, 16);
        guint32 m = (guint32)g_ascii_strtoull(rmask, NULL, 16);
        if ((d & m) == net && m == mask)
            return g_strdup(iface);
    }
    return NULL;
}

/* ---- taps ---- */

static bool
ioctl_link(const char *name, unsigned long req, struct ifreq *ifr, const char *what, GError **error)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open socket");
        return false;
    }
    g_strlcpy(ifr->ifr_name, name, IFNAMSIZ);
    int rc = ioctl(s, req, ifr);
    int e = errno;
    close(s);
    if (rc < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, e, "cannot %s of '%s'", what, name);
        return false;
    }
    return true;
}

int
vrt_netdev_tap_open(VrtHost *host, const char *ifname, const guint8 *mac, guint mtu, const char *bridge,
                    char **name_out, GError **error)
{
    const char *want = ifname && !strchr(ifname, '%') ? ifname : "vnet%d";
    g_autofree char *what = g_strdup_printf("create tap device '%s'", want);
    if (refuse_simulated(host, what, error))
        return -1;
    g_autofree char *dev = host ? vrt_host_path(host, "/dev/net/tun") : g_strdup("/dev/net/tun");
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open '/dev/net/tun'");
        return -1;
    }
    struct ifreq ifr = { 0 };
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    g_strlcpy(ifr.ifr_name, want, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create tap device '%s'", want);
        close(fd);
        return -1;
    }
    char name[IFNAMSIZ + 1] = { 0 };
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    struct ifreq r = { 0 };
    bool ok = true;
    if (mac) {
        r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(r.ifr_hwaddr.sa_data, mac, 6);
        ok = ioctl_link(name, SIOCSIFHWADDR, &r, "set the MAC address", error);
    }
    if (ok && mtu) {
        memset(&r, 0, sizeof(r));
        r.ifr_mtu = (int)mtu;
        ok = ioctl_link(name, SIOCSIFMTU, &r, "set the MTU", error);
    }
    ok = ok && (!bridge || vrt_netdev_set_master(host, name, bridge, error)) &&
         vrt_netdev_set_up(host, name, true, error);
    if (!ok) {
        /* not persistent: closing the only fd removes the device */
        close(fd);
        return -1;
    }
    *name_out = g_strdup(name);
    return fd;
}

bool
vrt_netdev_enable_forwarding(VrtHost *host, bool ipv6, GError **error)
{
    return vrt_host_write(host, "/proc/sys/net/ipv4/ip_forward", "1\n", error) &&
           (!ipv6 || vrt_host_write(host, "/proc/sys/net/ipv6/conf/all/forwarding", "1\n", error));
}

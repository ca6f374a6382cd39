/*
 * rtnetlink for a VF's MAC/VLAN/spoof check/trust, through its PF: message
 * encoding and decoding shared by two transports, the kernel's AF_NETLINK
 * socket and the simulated host's UNIX socket.
 */
#include "host/netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/error.h"

#define VRT_NETLINK_RETRIES 6 /* attempts on EBUSY/EAGAIN */
#define VRT_NETLINK_RETRY_DELAY_US 5000 /* doubled after each attempt */
#define VRT_NETLINK_RECV_MIN 16384
#define VRT_NETLINK_RECV_MAX (4 * 1024 * 1024) /* a PF with hundreds of VFs stays far below */
#define VRT_NETLINK_TIMEOUT_S 5

typedef struct {
    const char *name;
    int (*open)(VrtNetlink *nl, GError **error);
} VrtNetlinkBackend;

struct _VrtNetlink {
    const VrtNetlinkBackend *backend;
    char *socket_path;
    gint seq; /* atomically incremented: one VrtNetlink serves many threads */
};

static int
kernel_open(VrtNetlink *nl, GError **error)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open netlink socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot connect netlink socket");
        close(fd);
        return -1;
    }
    return fd;
}

static int
unix_open(VrtNetlink *nl, GError **error)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open socket");
        return -1;
    }
    g_strlcpy(sa.sun_path, nl->socket_path, sizeof(sa.sun_path));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot connect to simulated netlink at '%s'",
                            nl->socket_path);
        close(fd);
        return -1;
    }
    return fd;
}

static const VrtNetlinkBackend kernel_backend = { "kernel", kernel_open };
static const VrtNetlinkBackend unix_backend = { "hostsim", unix_open };

VrtNetlink *
vrt_netlink_new_kernel(void)
{
    VrtNetlink *nl = g_new0(VrtNetlink, 1);
    nl->backend = &kernel_backend;
    nl->seq = g_random_int_range(1, G_MAXINT / 2);
    return nl;
}

VrtNetlink *
vrt_netlink_new_unix(const char *socket_path)
{
    VrtNetlink *nl = vrt_netlink_new_kernel();
    nl->backend = &unix_backend;
    nl->socket_path = g_strdup(socket_path);
    return nl;
}

void
vrt_netlink_free(VrtNetlink *nl)
{
    if (!nl)
        return;
    g_free(nl->socket_path);
    g_free(nl);
}

/* ---- encoding ---- */

static void
pad4(GByteArray *b)
{
    static const guint8 zero[4];
    if (b->len % 4)
        g_byte_array_append(b, zero, 4 - b->len % 4);
}

static void
put_attr(GByteArray *b, guint16 type, const void *data, guint16 len)
{
    struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
    g_byte_array_append(b, (const guint8 *)&a, sizeof(a));
    if (len)
        g_byte_array_append(b, data, len);
    pad4(b);
}

/* Starts a nested attribute; returns its offset for nest_end(). */
static guint
nest_start(GByteArray *b, guint16 type)
{
    guint off = b->len;
    put_attr(b, type | NLA_F_NESTED, NULL, 0);
    return off;
}

static void
nest_end(GByteArray *b, guint off)
{
    struct nlattr *a = (struct nlattr *)(b->data + off);
    a->nla_len = b->len - off;
}

static GByteArray *
msg_start(guint16 type, guint16 flags, guint32 seq, int ifindex, guint32 ifflags)
{
    GByteArray *b = g_byte_array_new();
    struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq };
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = ifflags };

    g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (const guint8 *)&ifi, sizeof(ifi));
    return b;
}

static GByteArray *
msg_end(GByteArray *b)
{
    ((struct nlmsghdr *)b->data)->nlmsg_len = b->len;
    return b;
}

static void
put_ifname(GByteArray *b, const char *ifname)
{
    put_attr(b, IFLA_IFNAME, ifname, strlen(ifname) + 1);
}

GByteArray *
vrt_netlink_encode_getlink(guint32 seq, const char *ifname)
{
    GByteArray *b = msg_start(RTM_GETLINK, NLM_F_REQUEST, seq, 0, 0);
    guint32 mask = RTEXT_FILTER_VF;

    put_ifname(b, ifname);
    put_attr(b, IFLA_EXT_MASK, &mask, sizeof(mask));
    return msg_end(b);
}

static void
put_vf_info(GByteArray *b, guint vf, const VrtVfInfo *info, guint fields)
{
    guint info_off = nest_start(b, IFLA_VF_INFO);

    if (fields & VRT_VF_FIELD_MAC) {
        struct ifla_vf_mac m = { .vf = vf };
        memcpy(m.mac, info->mac, VRT_MAC_LEN);
        put_attr(b, IFLA_VF_MAC, &m, sizeof(m));
    }
    if (fields & VRT_VF_FIELD_VLAN) {
        struct ifla_vf_vlan v = { .vf = vf, .vlan = info->vlan, .qos = info->qos };
        put_attr(b, IFLA_VF_VLAN, &v, sizeof(v));
    }
    if (fields & VRT_VF_FIELD_SPOOFCHK) {
        struct ifla_vf_spoofchk s = { .vf = vf, .setting = info->spoofchk };
        put_attr(b, IFLA_VF_SPOOFCHK, &s, sizeof(s));
    }
    if (fields & VRT_VF_FIELD_TRUST) {
        struct ifla_vf_trust t = { .vf = vf, .setting = info->trust };
        put_attr(b, IFLA_VF_TRUST, &t, sizeof(t));
    }
    nest_end(b, info_off);
}

GByteArray *
vrt_netlink_encode_setlink_vf(guint32 seq, const char *ifname, guint vf, const VrtVfInfo *info, guint fields)
{
    GByteArray *b = msg_start(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0, 0);
    guint list_off;

    put_ifname(b, ifname);
    list_off = nest_start(b, IFLA_VFINFO_LIST);
    put_vf_info(b, vf, info, fields);
    nest_end(b, list_off);
    return msg_end(b);
}

GByteArray *
vrt_netlink_encode_newlink(guint32 seq, const char *ifname, const VrtVfInfo *vfs, guint n_vfs)
{
    GByteArray *b = msg_start(RTM_NEWLINK, 0, seq, 0, 0);
    guint32 num = n_vfs;
    guint list_off;

    put_ifname(b, ifname);
    put_attr(b, IFLA_NUM_VF, &num, sizeof(num));
    list_off = nest_start(b, IFLA_VFINFO_LIST);
    for (guint i = 0; i < n_vfs; i++)
        put_vf_info(b, i, &vfs[i], VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN | VRT_VF_FIELD_SPOOFCHK | VRT_VF_FIELD_TRUST);
    nest_end(b, list_off);
    return msg_end(b);
}

/* ---- decoding ---- */

typedef struct {
    const guint8 *p;
    gsize left;
} AttrIter;

/* Next attribute; false at the end or on a malformed length. */
static bool
attr_next(AttrIter *it, guint16 *type, const guint8 **data, gsize *len)
{
    struct nlattr a;

    if (it->left < NLA_HDRLEN)
        return false;
    memcpy(&a, it->p, sizeof(a));
    if (a.nla_len < NLA_HDRLEN || a.nla_len > it->left)
        return false;
    *type = a.nla_type & NLA_TYPE_MASK;
    *data = it->p + NLA_HDRLEN;
    *len = a.nla_len - NLA_HDRLEN;
    gsize step = NLA_ALIGN(a.nla_len);
    if (step > it->left)
        step = it->left;
    it->p += step;
    it->left -= step;
    return true;
}

/* Fills info from one IFLA_VF_INFO; returns the VF index it names or -1. */
static gint64
decode_vf_info(const guint8 *data, gsize len, VrtVfInfo *info, guint *fields)
{
    AttrIter it = { data, len };
    guint16 type;
    const guint8 *p;
    gsize n;
    gint64 index = -1;

    while (attr_next(&it, &type, &p, &n)) {
        switch (type) {
        case IFLA_VF_MAC: {
            struct ifla_vf_mac m;
            if (n < sizeof(m))
                return -1;
            memcpy(&m, p, sizeof(m));
            memcpy(info->mac, m.mac, VRT_MAC_LEN);
            index = m.vf;
            *fields |= VRT_VF_FIELD_MAC;
            break;
        }
        case IFLA_VF_VLAN: {
            struct ifla_vf_vlan v;
            if (n < sizeof(v))
                return -1;
            memcpy(&v, p, sizeof(v));
            info->vlan = v.vlan;
            info->qos = v.qos;
            index = v.vf;
            *fields |= VRT_VF_FIELD_VLAN;
            break;
        }
        case IFLA_VF_SPOOFCHK: {
            struct ifla_vf_spoofchk s;
            if (n < sizeof(s))
                return -1;
            memcpy(&s, p, sizeof(s));
            info->spoofchk = s.setting != 0;
            index = s.vf;
            *fields |= VRT_VF_FIELD_SPOOFCHK;
            break;
        }
        case IFLA_VF_TRUST: {
            struct ifla_vf_trust t;
            if (n < sizeof(t))
                return -1;
            memcpy(&t, p, sizeof(t));
            info->trust = t.setting != 0;
            index = t.vf;
            *fields |= VRT_VF_FIELD_TRUST;
            break;
        }
        default: break;
        }
    }
    return index;
}

/* Checks the header of a message of `type` and returns its attributes. */
static bool
link_msg_attrs(const guint8 *buf, gsize len, guint16 type, AttrIter *it, GError **error)
{
    struct nlmsghdr h;

    if (len < NLMSG_HDRLEN + sizeof(struct ifinfomsg)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "netlink message too short (%zu bytes)", len);
        return false;
    }
    memcpy(&h, buf, sizeof(h));
    if (h.nlmsg_type != type || h.nlmsg_len > len || h.nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unexpected netlink message type %u length %u", h.nlmsg_type,
                      h.nlmsg_len);
        return false;
    }
    it->p = buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg));
    it->left = h.nlmsg_len - (NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg)));
    return true;
}

bool
vrt_netlink_decode_vf(const guint8 *buf, gsize len, guint vf, VrtVfInfo *info, GError **error)
{
    AttrIter it, list;
    guint16 type;
    const guint8 *p;
    gsize n;

    if (!link_msg_attrs(buf, len, RTM_NEWLINK, &it, error))
        return false;
    while (attr_next(&it, &type, &p, &n)) {
        if (type != IFLA_VFINFO_LIST)
            continue;
        list = (AttrIter){ p, n };
        while (attr_next(&list, &type, &p, &n)) {
            VrtVfInfo tmp = { 0 };
            guint fields = 0;
            if (type == IFLA_VF_INFO && decode_vf_info(p, n, &tmp, &fields) == (gint64)vf) {
                *info = tmp;
                return true;
            }
        }
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "netlink reply has no settings for VF %u", vf);
    return false;
}

bool
vrt_netlink_decode_setlink_vf(const guint8 *buf, gsize len, char **ifname, guint *vf, VrtVfInfo *info, guint *fields,
                              GError **error)
{
    AttrIter it, list;
    guint16 type;
    const guint8 *p;
    gsize n;
    gint64 index = -1;

    *fields = 0;
    if (!link_msg_attrs(buf, len, RTM_SETLINK, &it, error))
        return false;
    while (attr_next(&it, &type, &p, &n)) {
        if (type == IFLA_IFNAME && n > 0) {
            g_free(*ifname);
            *ifname = g_strndup((const char *)p, n);
        } else if (type == IFLA_VFINFO_LIST) {
            list = (AttrIter){ p, n };
            while (attr_next(&list, &type, &p, &n))
                if (type == IFLA_VF_INFO)
                    index = decode_vf_info(p, n, info, fields);
        }
    }
    if (index < 0 || !*ifname) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "netlink request names no interface or VF");
        return false;
    }
    *vf = index;
    return true;
}

/* ---- transport ---- */

/* Reads one datagram into *buf (replaced) and its length into *got; sized
 * by a peek, as a GETLINK reply grows with the VF count. False with error
 * set on a timeout, an error or an end of stream. */
static bool
recv_datagram(VrtNetlink *nl, int fd, guint8 **buf, gsize *got, GError **error)
{
    ssize_t need = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
    gsize size = CLAMP(need, VRT_NETLINK_RECV_MIN, VRT_NETLINK_RECV_MAX);
    ssize_t n;

    g_free(*buf);
    *buf = g_malloc(size);
    n = need < 0 ? need : recv(fd, *buf, size, 0);
    if (n <= 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, n < 0 ? errno : ECONNRESET, "no netlink reply (%s)",
                            nl->backend->name);
        return false;
    }
    *got = (gsize)n;
    return true;
}

/* The errno an NLMSG_ERROR carries at payload (the kernel sends it
 * negated; 0 is an ack). Any other value is no errno and reads as EPROTO:
 * a positive one would pass for a transport failure with no error set,
 * and INT_MIN cannot even be negated. */
static int
nlmsg_errno(const guint8 *payload)
{
    int e;

    memcpy(&e, payload, sizeof(e));
    if (e == 0)
        return 0;
    return e < 0 && e > -4096 ? -e : EPROTO;
}

/* Sends one request and reads until the reply matching seq: an
 * RTM_NEWLINK (copied to *reply) or an NLMSG_ERROR (its errno returned,
 * 0 for an ack). Returns -1 with error set on transport failures. */
static int
transact(VrtNetlink *nl, GByteArray *req, GByteArray **reply, GError **error)
{
    guint32 seq = ((struct nlmsghdr *)req->data)->nlmsg_seq;
    g_autofree guint8 *buf = NULL;
    struct timeval tv = { .tv_sec = VRT_NETLINK_TIMEOUT_S };
    int fd = nl->backend->open(nl, error);
    int ret = -1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (send(fd, req->data, req->len, 0) != (ssize_t)req->len) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot send netlink request");
        goto out;
    }
    for (;;) {
        gsize got = 0, off = 0;

        if (!recv_datagram(nl, fd, &buf, &got, error))
            goto out;
        while (off + NLMSG_HDRLEN <= got) {
            struct nlmsghdr h;
            memcpy(&h, buf + off, sizeof(h));
            if (h.nlmsg_len < NLMSG_HDRLEN || off + h.nlmsg_len > got)
                break;
            if (h.nlmsg_seq == seq) {
                if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
                    ret = nlmsg_errno(buf + off + NLMSG_HDRLEN);
                    goto out;
                }
                if (h.nlmsg_type == RTM_NEWLINK && reply) {
                    *reply = g_byte_array_new();
                    g_byte_array_append(*reply, buf + off, h.nlmsg_len);
                    ret = 0;
                    goto out;
                }
            }
            off += NLMSG_ALIGN(h.nlmsg_len);
        }
    }
out:
    close(fd);
    return ret;
}

/* transact() with the bounded retry on transient driver errors. */
static int
transact_retry(VrtNetlink *nl, GByteArray *req, GByteArray **reply, GError **error)
{
    gulong delay = VRT_NETLINK_RETRY_DELAY_US;
    int rc = -1;

    for (guint attempt = 1; attempt <= VRT_NETLINK_RETRIES; attempt++) {
        ((struct nlmsghdr *)req->data)->nlmsg_seq = (guint32)g_atomic_int_add(&nl->seq, 1) + 1;
        rc = transact(nl, req, reply, error);
        if (rc != EBUSY && rc != EAGAIN)
            return rc;
        g_debug("netlink: transient %s, attempt %u of %u", g_strerror(rc), attempt, VRT_NETLINK_RETRIES);
        g_usleep(delay);
        delay *= 2;
    }
    return rc;
}

bool
vrt_netlink_get_vf(VrtNetlink *nl, const char *pf_ifname, guint vf, VrtVfInfo *info, GError **error)
{
    g_autoptr(GByteArray) req = vrt_netlink_encode_getlink(0, pf_ifname);
    g_autoptr(GByteArray) reply = NULL;
    int rc = transact_retry(nl, req, &reply, error);

    if (rc < 0)
        return false;
    if (rc > 0 || !reply) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, rc ? rc : EPROTO,
                            "cannot get VF %u settings of interface '%s'", vf, pf_ifname);
        return false;
    }
    return vrt_netlink_decode_vf(reply->data, reply->len, vf, info, error);
}

bool
vrt_netlink_set_vf(VrtNetlink *nl, const char *pf_ifname, guint vf, const VrtVfInfo *info, guint fields, GError **error)
{
    g_autoptr(GByteArray) req = vrt_netlink_encode_setlink_vf(0, pf_ifname, vf, info, fields);
    int rc = transact_retry(nl, req, NULL, error);

    if (rc < 0)
        return false;
    if (rc > 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, rc, "cannot set VF %u of interface '%s'", vf, pf_ifname);
        return false;
    }
    return true;
}

/* ---- addresses ---- */

GByteArray *
vrt_netlink_encode_getaddr(guint32 seq)
{
    GByteArray *b = g_byte_array_new();
    struct nlmsghdr h = { .nlmsg_type = RTM_GETADDR, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = seq };
    struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };

    g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (const guint8 *)&ifa, sizeof(ifa));
    return msg_end(b);
}

GByteArray *
vrt_netlink_encode_newaddr(guint32 seq, guint ifindex, int family, const guint8 *addr, gsize addr_len)
{
    GByteArray *b = g_byte_array_new();
    struct nlmsghdr h = { .nlmsg_type = RTM_NEWADDR, .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = seq };
    struct ifaddrmsg ifa = { .ifa_family = (guint8)family,
                             .ifa_prefixlen = family == AF_INET ? 24 : 64,
                             .ifa_index = ifindex };

    g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (const guint8 *)&ifa, sizeof(ifa));
    put_attr(b, IFA_ADDRESS, addr, (guint16)addr_len);
    return msg_end(b);
}

bool
vrt_netlink_decode_addr_dump(const guint8 *buf, gsize len, guint32 seq, guint ifindex, guint *count, bool *done,
                             GError **error)
{
    gsize off = 0;

    while (off + NLMSG_HDRLEN <= len) {
        struct nlmsghdr h;

        memcpy(&h, buf + off, sizeof(h));
        if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "malformed netlink address dump");
            return false;
        }
        if (h.nlmsg_seq == seq) {
            if (h.nlmsg_type == NLMSG_DONE) {
                *done = true;
                return true;
            }
            if (h.nlmsg_type == NLMSG_ERROR) {
                int e = EPROTO;

                if (h.nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
                    e = nlmsg_errno(buf + off + NLMSG_HDRLEN);
                vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, e ? e : EPROTO, "%s",
                                    "cannot list interface addresses");
                return false;
            }
            if (h.nlmsg_type == RTM_NEWADDR) {
                struct ifaddrmsg ifa;

                if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(ifa)) {
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "malformed netlink address message");
                    return false;
                }
                memcpy(&ifa, buf + off + NLMSG_HDRLEN, sizeof(ifa));
                if (ifa.ifa_index == ifindex)
                    (*count)++;
            }
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
    }
    return true;
}

bool
vrt_netlink_count_addrs(VrtNetlink *nl, guint ifindex, guint *count, GError **error)
{
    guint32 seq = (guint32)g_atomic_int_add(&nl->seq, 1) + 1;
    g_autoptr(GByteArray) req = vrt_netlink_encode_getaddr(seq);
    g_autofree guint8 *buf = NULL;
    struct timeval tv = { .tv_sec = VRT_NETLINK_TIMEOUT_S };
    int fd = nl->backend->open(nl, error);
    bool done = false, ok = true;

    if (fd < 0)
        return false;
    *count = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (send(fd, req->data, req->len, 0) != (ssize_t)req->len) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot send netlink request");
        close(fd);
        return false;
    }
    while (ok && !done) {
        gsize got = 0;

        ok = recv_datagram(nl, fd, &buf, &got, error) &&
             vrt_netlink_decode_addr_dump(buf, got, seq, ifindex, count, &done, error);
    }
    close(fd);
    return ok;
}

/*
 * A rule's protocol element as libvirt 9.0 reads and writes it back (see
 * nwfilter_rule.h). Each element has a table of attributes, in the order
 * libvirt writes them; each attribute the kinds of value it takes, tried
 * in libvirt's order (decimal before hexadecimal before a name), and for
 * some a rule of its own (ranges, names, flag lists).
 */
#include "drivers/nwfilter/nwfilter_rule.h"
#include "util/error.h"
#include "util/mac.h"
#include "util/xml.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* How a value may be written, in the order libvirt tries them. */
enum {
    T_U16 = 1u << 0,
    T_U8 = 1u << 1,
    T_U16_HEX = 1u << 2,
    T_U8_HEX = 1u << 3,
    T_MAC = 1u << 4,
    T_MACMASK = 1u << 5,
    T_IP4 = 1u << 6,
    T_IP4MASK = 1u << 7,
    T_STRING = 1u << 8,
    T_IP6 = 1u << 9,
    T_IP6MASK = 1u << 10,
    T_COMMENT = 1u << 11,
    T_BOOL = 1u << 12,
    T_U32 = 1u << 13,
    T_U32_HEX = 1u << 14,
    T_IPSET = 1u << 15,
    T_IPSETFLAGS = 1u << 16,
    T_LAST = 1u << 17,
};

#define NUM8 (T_U8 | T_U8_HEX)
#define NUM16 (T_U16 | T_U16_HEX)
#define NUM32 (T_U32 | T_U32_HEX)

/* Attributes whose values have further rules (ranges, names). */
typedef enum {
    V_PLAIN,
    V_ETHERTYPE, /* mac protocolid: a number >= 0x600 or a name */
    V_VLAN_ID, /* 0..4095 */
    V_VLAN_ENCAP, /* a number >= 0x3c or a name */
    V_ARP_OPCODE,
    V_IP_PROTOCOL,
    V_DSCP, /* 0..63 */
    V_STATE,
    V_TCP_FLAGS,
    V_IPSET,
    V_IPSET_FLAGS,
} ValueRule;

typedef struct {
    const char *name;
    guint types;
    ValueRule rule;
} RuleAttr;

#define ATTR(n, t)    \
    {                 \
        n, t, V_PLAIN \
    }
#define ATTRS_END        \
    {                    \
        NULL, 0, V_PLAIN \
    }
#define COMMENT_ATTR ATTR("comment", T_COMMENT)
#define MAC_ATTRS \
    ATTR("srcmacaddr", T_MAC), ATTR("srcmacmask", T_MACMASK), ATTR("dstmacaddr", T_MAC), ATTR("dstmacmask", T_MACMASK)
/* dstipto is an IPv4 address in the IPv6 elements too, as in libvirt. */
#define L3_ATTRS(ADDR, MASK)                                                                              \
    ATTR("srcmacaddr", T_MAC), ATTR("srcipaddr", ADDR), ATTR("srcipmask", MASK), ATTR("dstipaddr", ADDR), \
        ATTR("dstipmask", MASK), ATTR("srcipfrom", ADDR), ATTR("srcipto", ADDR), ATTR("dstipfrom", ADDR), \
        ATTR("dstipto", T_IP4), { "dscp", NUM8, V_DSCP }, ATTR("connlimit-above", T_U16),                 \
        { "state", T_STRING, V_STATE }, { "ipset", T_IPSET, V_IPSET },                                    \
    {                                                                                                     \
        "ipsetflags", T_IPSETFLAGS, V_IPSET_FLAGS                                                         \
    }
#define PORT_ATTRS \
    ATTR("srcportstart", NUM16), ATTR("srcportend", NUM16), ATTR("dstportstart", NUM16), ATTR("dstportend", NUM16)

static const RuleAttr mac_attrs[] = {
    MAC_ATTRS, { "protocolid", NUM16 | T_STRING, V_ETHERTYPE }, COMMENT_ATTR, ATTRS_END
};
static const RuleAttr vlan_attrs[] = { MAC_ATTRS,
                                       { "vlanid", NUM16, V_VLAN_ID },
                                       { "encap-protocol", NUM16 | T_STRING, V_VLAN_ENCAP },
                                       COMMENT_ATTR,
                                       ATTRS_END };
static const RuleAttr stp_attrs[] = {
    ATTR("srcmacaddr", T_MAC),
    ATTR("srcmacmask", T_MACMASK),
    ATTR("type", NUM8),
    ATTR("flags", NUM8),
    ATTR("root-priority", NUM16),
    ATTR("root-priority-hi", NUM16),
    ATTR("root-address", T_MAC),
    ATTR("root-address-mask", T_MACMASK),
    ATTR("root-cost", NUM32),
    ATTR("root-cost-hi", NUM32),
    ATTR("sender-priority", NUM16),
    ATTR("sender-priority-hi", NUM16),
    ATTR("sender-address", T_MAC),
    ATTR("sender-address-mask", T_MACMASK),
    ATTR("port", NUM16),
    ATTR("port-hi", NUM16),
    ATTR("age", NUM16),
    ATTR("age-hi", NUM16),
    ATTR("max-age", NUM16),
    ATTR("max-age-hi", NUM16),
    ATTR("hello-time", NUM16),
    ATTR("hello-time-hi", NUM16),
    ATTR("forward-delay", NUM16),
    ATTR("forward-delay-hi", NUM16),
    COMMENT_ATTR,
    ATTRS_END,
};
static const RuleAttr arp_attrs[] = { MAC_ATTRS,
                                      ATTR("hwtype", NUM16),
                                      ATTR("protocoltype", NUM16),
                                      { "opcode", NUM16 | T_STRING, V_ARP_OPCODE },
                                      ATTR("arpsrcmacaddr", T_MAC),
                                      ATTR("arpdstmacaddr", T_MAC),
                                      ATTR("arpsrcipaddr", T_IP4),
                                      ATTR("arpsrcipmask", T_IP4MASK),
                                      ATTR("arpdstipaddr", T_IP4),
                                      ATTR("arpdstipmask", T_IP4MASK),
                                      ATTR("gratuitous", T_BOOL),
                                      COMMENT_ATTR,
                                      ATTRS_END };
static const RuleAttr ip_attrs[] = { MAC_ATTRS,
                                     ATTR("srcipaddr", T_IP4),
                                     ATTR("srcipmask", T_IP4MASK),
                                     ATTR("dstipaddr", T_IP4),
                                     ATTR("dstipmask", T_IP4MASK),
                                     { "protocol", NUM8 | T_STRING, V_IP_PROTOCOL },
                                     PORT_ATTRS,
                                     { "dscp", NUM8, V_DSCP },
                                     COMMENT_ATTR,
                                     ATTRS_END };
static const RuleAttr ipv6_attrs[] = { MAC_ATTRS,
                                       ATTR("srcipaddr", T_IP6),
                                       ATTR("srcipmask", T_IP6MASK),
                                       ATTR("dstipaddr", T_IP6),
                                       ATTR("dstipmask", T_IP6MASK),
                                       { "protocol", NUM8 | T_STRING, V_IP_PROTOCOL },
                                       PORT_ATTRS,
                                       ATTR("type", NUM8),
                                       ATTR("typeend", NUM8),
                                       ATTR("code", NUM8),
                                       ATTR("codeend", NUM8),
                                       COMMENT_ATTR,
                                       ATTRS_END };
static const RuleAttr tcp_attrs[] = { L3_ATTRS(T_IP4, T_IP4MASK),         PORT_ATTRS,   ATTR("option", NUM8),
                                      { "flags", T_STRING, V_TCP_FLAGS }, COMMENT_ATTR, ATTRS_END };
static const RuleAttr l4port_attrs[] = { L3_ATTRS(T_IP4, T_IP4MASK), PORT_ATTRS, COMMENT_ATTR, ATTRS_END };
static const RuleAttr l3_attrs[] = { L3_ATTRS(T_IP4, T_IP4MASK), COMMENT_ATTR, ATTRS_END };
static const RuleAttr icmp_attrs[] = { L3_ATTRS(T_IP4, T_IP4MASK), ATTR("type", NUM8), ATTR("code", NUM8), COMMENT_ATTR,
                                       ATTRS_END };
static const RuleAttr tcp6_attrs[] = { L3_ATTRS(T_IP6, T_IP6MASK), PORT_ATTRS, ATTR("option", NUM8), COMMENT_ATTR,
                                       ATTRS_END };
static const RuleAttr l4port6_attrs[] = { L3_ATTRS(T_IP6, T_IP6MASK), PORT_ATTRS, COMMENT_ATTR, ATTRS_END };
static const RuleAttr l36_attrs[] = { L3_ATTRS(T_IP6, T_IP6MASK), COMMENT_ATTR, ATTRS_END };
static const RuleAttr icmp6_attrs[] = { L3_ATTRS(T_IP6, T_IP6MASK), ATTR("type", NUM8), ATTR("code", NUM8),
                                        COMMENT_ATTR, ATTRS_END };

/* match='no' of one attribute copied onto another after reading (libvirt's
 * fixup): a mask follows its address, a range end its start. */
typedef struct {
    const char *to, *from;
} NegCopy;

#define NEG_END    \
    {              \
        NULL, NULL \
    }
#define NEG_L3                    \
    { "srcipmask", "srcipaddr" }, \
    {                             \
        "dstipmask", "dstipaddr"  \
    }
#define NEG_RANGES              \
    { "srcipto", "srcipfrom" }, \
    {                           \
        "dstipto", "dstipfrom"  \
    }
#define NEG_PORTS                                                         \
    { "srcportend", "srcportstart" }, { "dstportstart", "srcportstart" }, \
    {                                                                     \
        "dstportend", "srcportstart"                                      \
    }

static const NegCopy neg_eth[] = { { "srcmacmask", "srcmacaddr" }, { "dstmacmask", "dstmacaddr" }, NEG_END };
static const NegCopy neg_stp[] = {
    { "srcmacmask", "srcmacaddr" },
    { "root-priority-hi", "root-priority" },
    { "root-address-mask", "root-address" },
    { "root-cost-hi", "root-cost" },
    { "sender-priority-hi", "sender-priority" },
    { "sender-address-mask", "sender-address" },
    { "port-hi", "port" },
    { "age-hi", "age" },
    { "max-age-hi", "max-age" },
    { "hello-time-hi", "hello-time" },
    { "forward-delay-hi", "forward-delay" },
    NEG_END,
};
static const NegCopy neg_ip[] = { NEG_L3, NEG_END };
static const NegCopy neg_ipv6[] = { NEG_L3, { "typeend", "type" }, { "code", "type" }, { "codeend", "type" }, NEG_END };
static const NegCopy neg_none[] = { NEG_END };
static const NegCopy neg_l4port[] = { NEG_L3, NEG_RANGES, NEG_PORTS, NEG_END };
static const NegCopy neg_l3[] = { NEG_L3, NEG_RANGES, NEG_END };
static const NegCopy neg_icmp[] = { NEG_L3, NEG_RANGES, { "code", "type" }, NEG_END };

typedef struct {
    const char *name;
    const RuleAttr *attrs;
    const NegCopy *neg;
    /* ipset without ipsetflags gets ipsetflags='src'; otherwise both are
     * dropped (libvirt 9.0's fixup, which <all> and <all-ipv6> skip) */
    bool ipset_fixup;
    /* <ip>/<ipv6>: ports need protocol tcp, udp, dccp or sctp */
    const char *port_check;
} RuleProto;

static const RuleProto protos[] = {
    { "arp", arp_attrs, neg_none, false, NULL },
    { "rarp", arp_attrs, neg_none, false, NULL },
    { "mac", mac_attrs, neg_eth, false, NULL },
    { "vlan", vlan_attrs, neg_eth, false, NULL },
    { "stp", stp_attrs, neg_stp, false, NULL },
    { "ip", ip_attrs, neg_ip, false, "IP" },
    { "ipv6", ipv6_attrs, neg_ipv6, false, "IPv6" },
    { "tcp", tcp_attrs, neg_l4port, true, NULL },
    { "udp", l4port_attrs, neg_l4port, true, NULL },
    { "udplite", l3_attrs, neg_l3, true, NULL },
    { "esp", l3_attrs, neg_l3, true, NULL },
    { "ah", l3_attrs, neg_l3, true, NULL },
    { "sctp", l4port_attrs, neg_l4port, true, NULL },
    { "icmp", icmp_attrs, neg_icmp, true, NULL },
    { "all", l3_attrs, neg_l3, false, NULL },
    { "igmp", l3_attrs, neg_l3, true, NULL },
    { "tcp-ipv6", tcp6_attrs, neg_l4port, true, NULL },
    { "udp-ipv6", l4port6_attrs, neg_l4port, true, NULL },
    { "udplite-ipv6", l36_attrs, neg_l3, true, NULL },
    { "esp-ipv6", l36_attrs, neg_l3, true, NULL },
    { "ah-ipv6", l36_attrs, neg_l3, true, NULL },
    { "sctp-ipv6", l4port6_attrs, neg_l4port, true, NULL },
    { "icmpv6", icmp6_attrs, neg_icmp, true, NULL },
    { "all-ipv6", l36_attrs, neg_l3, false, NULL },
};

typedef struct {
    guint val;
    const char *name;
} NamedValue;

static const NamedValue ethertypes[] = {
    { 0x0806, "arp" }, { 0x8035, "rarp" }, { 0x0800, "ipv4" }, { 0x86dd, "ipv6" }, { 0x8100, "vlan" }, { 0, NULL },
};
static const NamedValue arp_opcodes[] = {
    { 1, "Request" },       { 2, "Reply" },       { 3, "Request_Reverse" }, { 4, "Reply_Reverse" },
    { 5, "DRARP_Request" }, { 6, "DRARP_Reply" }, { 7, "DRARP_Error" },     { 8, "InARP_Request" },
    { 9, "ARP_NAK" },       { 0, NULL },
};
static const NamedValue ip_protocols[] = {
    { 6, "tcp" },  { 17, "udp" }, { 136, "udplite" }, { 50, "esp" },    { 51, "ah" },
    { 1, "icmp" }, { 2, "igmp" }, { 132, "sctp" },    { 58, "icmpv6" }, { 0, NULL },
};
#define STATE_NONE 0x20u
static const NamedValue conn_states[] = {
    { 0x02, "NEW" },     { 0x04, "ESTABLISHED" }, { 0x08, "RELATED" },
    { 0x10, "INVALID" }, { STATE_NONE, "NONE" },  { 0, NULL },
};
static const NamedValue tcp_flags[] = {
    { 0x01, "FIN" }, { 0x02, "SYN" }, { 0x04, "RST" },  { 0x08, "PSH" }, { 0x10, "ACK" },
    { 0x20, "URG" }, { 0x3f, "ALL" }, { 0x00, "NONE" }, { 0, NULL },
};

static bool
named_value(const NamedValue *map, const char *name, guint *out)
{
    for (; map->name; map++) {
        if (g_ascii_strcasecmp(map->name, name) == 0) {
            *out = map->val;
            return true;
        }
    }
    return false;
}

static const char *
value_name(const NamedValue *map, guint val)
{
    for (; map->name; map++)
        if (map->val == val)
            return map->name;
    return NULL;
}

/* Items of a list such as "NEW,ESTABLISHED" (case-insensitive, separated by
 * commas or white space), each one matched as a prefix as libvirt does. */
static bool
parse_flag_list(const NamedValue *map, const char *s, guint *flags)
{
    size_t i = 0;

    while (s[i]) {
        const NamedValue *m;

        while (g_ascii_isspace(s[i]) || s[i] == ',')
            i++;
        if (!s[i])
            break;
        for (m = map; m->name; m++) {
            size_t n = strlen(m->name);

            if (g_ascii_strncasecmp(s + i, m->name, n) == 0) {
                *flags |= m->val;
                i += n;
                break;
            }
        }
        if (!m->name)
            return false;
    }
    return true;
}

/* The single-bit names of flags, lowest bit first, comma-separated. */
static void
append_flag_list(GString *out, const NamedValue *map, guint flags)
{
    bool first = true;

    for (guint bit = 1; flags; bit <<= 1) {
        const char *name;

        if (!(flags & bit))
            continue;
        flags &= ~bit;
        if (!(name = value_name(map, bit)))
            continue;
        if (!first)
            g_string_append_c(out, ',');
        g_string_append(out, name);
        first = false;
    }
}

static void
append_tcp_flags(GString *out, guint flags)
{
    if (flags == 0)
        g_string_append(out, "NONE");
    else if (flags == 0x3f)
        g_string_append(out, "ALL");
    else
        append_flag_list(out, tcp_flags, flags);
}

/* An unsigned number as libvirt reads one: strtoul in base, all of the text
 * unless end is given, "-N" wrapping to UINT_MAX + 1 - N. */
static bool
read_uint(const char *s, int base, const char **end, guint *out)
{
    char *p = NULL;
    guint64 v;

    errno = 0;
    v = strtoull(s, &p, base);
    if (errno || p == s || (!end && *p))
        return false;
    if (memchr(s, '-', (size_t)(p - s))) {
        if (-v > G_MAXUINT)
            return false;
        v &= G_MAXUINT;
    } else if (v > G_MAXUINT) {
        return false;
    }
    if (end)
        *end = p;
    *out = (guint)v;
    return true;
}

/* A MAC address as libvirt's nwfilter reads one: six groups of one or two
 * hex digits separated by ':', then the end of the text or any character
 * up to ' '. */
static bool
read_mac(const char *s, guint8 mac[6])
{
    for (guint i = 0; i < 6; i++) {
        char *end = NULL;
        gulong v;

        if (!g_ascii_isxdigit(*s))
            return false;
        errno = 0;
        v = strtoul(s, &end, 16);
        if (end - s < 1 || end - s > 2 || errno || v > 0xff)
            return false;
        mac[i] = (guint8)v;
        if (i == 5)
            return (signed char)*end <= ' ';
        if (*end != ':')
            return false;
        s = end + 1;
    }
    return false;
}

/* A numeric address of family, through the C library as libvirt does. */
static bool
read_ip(const char *s, int family, struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints = { .ai_family = family, .ai_flags = AI_NUMERICHOST };
    struct addrinfo *res = NULL;

    if (getaddrinfo(s, NULL, &hints, &res) != 0 || !res) {
        if (res)
            freeaddrinfo(res);
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static char *
format_ip(const struct sockaddr_storage *ss, socklen_t len)
{
    char host[NI_MAXHOST];

    if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
        return g_strdup("");
    return g_strdup(host);
}

/* Leading one bits of a netmask, -1 unless the rest are zeros. */
static int
mask_bits(const guint8 *bytes, size_t n)
{
    int bits = 0;
    size_t i = 0;

    while (i < n * 8 && (bytes[i / 8] & (0x80u >> (i % 8)))) {
        bits++;
        i++;
    }
    for (; i < n * 8; i++)
        if (bytes[i / 8] & (0x80u >> (i % 8)))
            return -1;
    return bits;
}

static const guint8 *
ip_bytes(const struct sockaddr_storage *ss, size_t *n)
{
    if (ss->ss_family == AF_INET) {
        *n = 4;
        return (const guint8 *)&((const struct sockaddr_in *)ss)->sin_addr;
    }
    *n = 16;
    return (const guint8 *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

/* The value read as type t (one bit of RuleAttr.types): its text as libvirt
 * writes it (NULL for the kinds the value rule formats) and its number. */
static bool
read_as(guint t, const char *v, guint *num, char **text)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    guint8 mac[6];
    guint n = 0;
    int bits;

    switch (t) {
    case T_U8:
    case T_U16:
    case T_U32:
    case T_U8_HEX:
    case T_U16_HEX:
    case T_U32_HEX: {
        bool hex = t == T_U8_HEX || t == T_U16_HEX || t == T_U32_HEX;
        guint max = (t == T_U8 || t == T_U8_HEX) ? 0xff : (t == T_U16 || t == T_U16_HEX) ? 0xffff : G_MAXUINT;

        if (!read_uint(v, hex ? 16 : 10, NULL, &n) || n > max)
            return false;
        *num = n;
        *text = g_strdup_printf(hex ? "0x%x" : "%u", n);
        return true;
    }
    case T_MAC:
    case T_MACMASK: {
        char s[VRT_MAC_STRING_LEN];

        if (!read_mac(v, mac) || (t == T_MACMASK && mask_bits(mac, 6) < 0))
            return false;
        vrt_mac_format(mac, s);
        *text = g_strdup(s);
        return true;
    }
    case T_IP4:
    case T_IP6:
        if (!read_ip(v, t == T_IP4 ? AF_INET : AF_INET6, &ss, &len))
            return false;
        *text = format_ip(&ss, len);
        return true;
    case T_IP4MASK:
    case T_IP6MASK: {
        guint max = t == T_IP4MASK ? 32 : 128;
        const guint8 *b;
        size_t nb;

        if (read_uint(v, 10, NULL, &n)) {
            if (n > max)
                return false;
            bits = (int)n;
        } else {
            if (!read_ip(v, t == T_IP4MASK ? AF_INET : AF_INET6, &ss, &len))
                return false;
            b = ip_bytes(&ss, &nb);
            if ((bits = mask_bits(b, nb)) < 0)
                return false;
        }
        *text = g_strdup_printf("%d", bits);
        return true;
    }
    case T_COMMENT: {
        g_autofree char *cut = g_strndup(v, 256);

        *text = vrt_xml_escape(cut);
        return true;
    }
    case T_BOOL:
        *text = g_strdup(g_str_equal(v, "true") || g_str_equal(v, "1") || g_str_equal(v, "yes") ? "true" : "false");
        return true;
    case T_STRING:
    case T_IPSET:
    case T_IPSETFLAGS: return true;
    default: return false;
    }
}

/* The value rule of an attribute applied to a value read as type t. */
static char *
apply_rule(ValueRule rule, guint t, const char *v, guint *num, char *text)
{
    g_autofree char *plain = text;
    g_autoptr(GString) s = NULL;
    const char *name;
    guint res = *num;
    guint flags = 0;

    switch (rule) {
    case V_PLAIN: return g_steal_pointer(&plain);
    case V_ETHERTYPE:
    case V_VLAN_ENCAP:
        if (t == T_STRING ? !named_value(ethertypes, v, &res) : res < (rule == V_ETHERTYPE ? 0x600u : 0x3cu))
            return NULL;
        *num = res;
        name = value_name(ethertypes, res);
        return name ? g_strdup(name) : g_strdup_printf(t == T_U16 ? "%u" : "0x%x", res);
    case V_VLAN_ID: return res > 4095 ? NULL : g_steal_pointer(&plain);
    case V_ARP_OPCODE:
        if (t == T_STRING && !named_value(arp_opcodes, v, &res))
            return NULL;
        *num = res;
        name = value_name(arp_opcodes, res);
        return name ? g_strdup(name) : g_strdup_printf("%u", res);
    case V_IP_PROTOCOL:
        if (t == T_STRING && !named_value(ip_protocols, v, &res))
            return NULL;
        *num = res;
        name = value_name(ip_protocols, res);
        return name ? g_strdup(name) : g_strdup_printf(t == T_U8 ? "%u" : "0x%x", res);
    case V_DSCP: return res > 63 ? NULL : g_steal_pointer(&plain);
    case V_STATE:
        if (!parse_flag_list(conn_states, v, &flags))
            return NULL;
        if (flags & STATE_NONE)
            flags = STATE_NONE;
        s = g_string_new(NULL);
        append_flag_list(s, conn_states, flags);
        return g_string_free(g_steal_pointer(&s), FALSE);
    case V_TCP_FLAGS: {
        const char *slash = strchr(v, '/');
        g_autofree char *mask_s = NULL;
        guint mask = 0;

        if (!slash)
            return NULL;
        mask_s = g_strndup(v, (gsize)(slash - v));
        if (!parse_flag_list(tcp_flags, mask_s, &mask) || !parse_flag_list(tcp_flags, slash + 1, &flags))
            return NULL;
        s = g_string_new(NULL);
        append_tcp_flags(s, mask & 0x3f);
        g_string_append_c(s, '/');
        append_tcp_flags(s, flags & 0x3f);
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    case V_IPSET:
        if (strlen(v) >= 32 || v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-+ ")])
            return NULL;
        return g_strdup(v);
    case V_IPSET_FLAGS: {
        guint n = 0;
        size_t i = 0;

        /* up to six "src" or "dst", comma-separated */
        while (n < 6) {
            if (g_ascii_strncasecmp(v + i, "src", 3) == 0)
                flags |= 1u << n;
            else if (g_ascii_strncasecmp(v + i, "dst", 3) != 0)
                return NULL;
            n++;
            i += 3;
            if (v[i] != ',')
                break;
            i++;
        }
        if (v[i])
            return NULL;
        s = g_string_new(NULL);
        for (guint k = 0; k < n; k++)
            g_string_append_printf(s, "%s%s", k ? "," : "", (flags & (1u << k)) ? "src" : "dst");
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    }
    return NULL;
}

/* An attribute's value as libvirt writes it back, trying the types the
 * attribute takes in order; NULL if it has none of them. */
static char *
read_attr_value(const RuleAttr *a, const char *v, guint *num)
{
    for (guint t = 1; t < T_LAST; t <<= 1) {
        char *text = NULL;
        guint n = *num;

        if (!(a->types & t))
            continue;
        if (!read_as(t, v, &n, &text))
            continue;
        *num = n;
        return apply_rule(a->rule, t, v, num, text);
    }
    return NULL;
}

/* "$NAME", "$NAME[3]" (an element) or "$NAME[@2]" (an iterator) as
 * libvirt writes a variable back; NULL if malformed. */
static char *
read_variable(const char *v)
{
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    const char *p = v + n + 1;
    bool iterator = false;
    guint idx;

    if (!v[n])
        return g_strdup_printf("$%s", v);
    if (v[n] != '[')
        return NULL;
    while (g_ascii_isspace(*p))
        p++;
    if (*p == '@') {
        iterator = true;
        p++;
    }
    if (!read_uint(p, 10, &p, &idx))
        return NULL;
    while (g_ascii_isspace(*p))
        p++;
    if (*p != ']' || (iterator && idx > 1000))
        return NULL;
    if (iterator && idx == 0)
        return g_strdup_printf("$%.*s", (int)n, v);
    return g_strdup_printf(iterator ? "$%.*s[@%u]" : "$%.*s[%u]", (int)n, v, idx);
}

enum {
    ITEM_EXISTS = 1u << 0,
    ITEM_NEG = 1u << 1,
};

typedef struct {
    guint flags;
    char *text; /* as written back */
    guint num; /* the number read (the IP protocol's port check) */
} RuleItem;

static void
rule_items_free(RuleItem *items, guint n)
{
    if (!items)
        return;
    for (guint i = 0; i < n; i++)
        g_free(items[i].text);
    g_free(items);
}

static int
attr_index(const RuleProto *p, const char *name)
{
    for (int i = 0; p->attrs[i].name; i++)
        if (g_str_equal(p->attrs[i].name, name))
            return i;
    return -1;
}

/* One protocol element into items (a later element of the same name
 * overrides the attributes it has). */
static bool
read_proto_element(xmlNodePtr node, const RuleProto *p, RuleItem *items, GError **error)
{
    g_autofree char *match = vrt_xml_prop(node, "match");
    guint neg = match && g_str_equal(match, "no") ? ITEM_NEG : 0;
    g_autofree char *bad = NULL;

    for (guint i = 0; p->attrs[i].name; i++) {
        const RuleAttr *a = &p->attrs[i];
        g_autofree char *v = vrt_xml_prop(node, a->name);
        char *text;
        guint num = items[i].num;

        if (!v)
            continue;
        text = v[0] == '$' ? read_variable(v + 1) : read_attr_value(a, v, &num);
        if (!text) {
            /* libvirt reads on and reports the last illegal value */
            g_free(bad);
            bad = g_strdup_printf("%s has illegal value %s", a->name, v);
            continue;
        }
        g_free(items[i].text);
        items[i].text = text;
        items[i].flags = ITEM_EXISTS | neg;
        items[i].num = num;
    }
    if (bad) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", bad);
        return false;
    }
    if (p->port_check) {
        static const char *const ports[] = { "srcportstart", "srcportend", "dstportstart", "dstportend" };
        const RuleItem *proto = &items[attr_index(p, "protocol")];
        bool have_ports = false;

        for (guint i = 0; i < G_N_ELEMENTS(ports); i++)
            have_ports |= (items[attr_index(p, ports[i])].flags & ITEM_EXISTS) != 0;
        if (have_ports && (!(proto->flags & ITEM_EXISTS) ||
                           (proto->num != 6 && proto->num != 17 && proto->num != 33 && proto->num != 132))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                          "%s rule with port specification requires protocol specification with protocol to be "
                          "either one of tcp(6), udp(17), dccp(33), or sctp(132)",
                          p->port_check);
            return false;
        }
    }
    return true;
}

static void
fixup_items(const RuleProto *p, RuleItem *items)
{
    for (const NegCopy *c = p->neg; c->to; c++) {
        RuleItem *to = &items[attr_index(p, c->to)];
        const RuleItem *from = &items[attr_index(p, c->from)];

        to->flags = (to->flags & ~ITEM_NEG) | (from->flags & ITEM_NEG);
    }
    if (p->ipset_fixup) {
        RuleItem *set = &items[attr_index(p, "ipset")];
        RuleItem *setflags = &items[attr_index(p, "ipsetflags")];

        if ((set->flags & ITEM_EXISTS) && !(setflags->flags & ITEM_EXISTS)) {
            setflags->flags = ITEM_EXISTS;
            g_free(setflags->text);
            setflags->text = g_strdup("src");
        } else {
            set->flags = 0;
            setflags->flags = 0;
        }
    }
}

/* The element as libvirt writes it: attributes in table order, match='no'
 * before the first negated one; where negated and plain attributes meet,
 * the element ends and another one of the same name goes on. */
static void
format_proto_element(GString *out, const RuleProto *p, const RuleItem *items, guint indent)
{
    enum {
        SHOWN_NONE,
        SHOWN_YES,
        SHOWN_NO
    } shown = SHOWN_NONE;
    bool open = false;
    bool any = false;
    guint i = 0;

    while (p->attrs[i].name) {
        const RuleItem *it = &items[i];
        bool neg = (it->flags & ITEM_NEG) != 0;

        if (!(it->flags & ITEM_EXISTS)) {
            i++;
            continue;
        }
        if (!open) {
            g_string_append_printf(out, "%*s<%s", (int)indent * 2, "", p->name);
            open = any = true;
        }
        if ((neg && shown == SHOWN_YES) || (!neg && shown == SHOWN_NO)) {
            g_string_append(out, "/>\n");
            open = false;
            shown = SHOWN_NONE;
            continue;
        }
        if (neg && shown == SHOWN_NONE)
            g_string_append(out, " match='no'");
        if (shown == SHOWN_NONE)
            shown = neg ? SHOWN_NO : SHOWN_YES;
        g_string_append_printf(out, " %s='%s'", p->attrs[i].name, it->text);
        i++;
    }
    if (open)
        g_string_append(out, "/>\n");
    if (!any) {
        g_string_append_printf(out, "%*s<%s/>\n", (int)indent * 2, "", p->name);
    }
}

char *
vrt_nwfilter_rule_element(xmlNodePtr rule, guint indent, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const RuleProto *proto = NULL;
    RuleItem *items = NULL;
    guint nitems = 0;
    bool ok = false;

    for (xmlNodePtr c = rule->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!proto) {
            for (guint i = 0; i < G_N_ELEMENTS(protos) && !proto; i++)
                if (g_str_equal((const char *)c->name, protos[i].name))
                    proto = &protos[i];
            if (!proto)
                continue;
            while (proto->attrs[nitems].name)
                nitems++;
            items = g_new0(RuleItem, nitems);
        } else if (!g_str_equal((const char *)c->name, proto->name)) {
            continue;
        }
        if (!read_proto_element(c, proto, items, error))
            goto out;
    }
    if (proto) {
        fixup_items(proto, items);
        format_proto_element(out, proto, items, indent);
    }
    ok = true;
out:
    rule_items_free(items, nitems);
    return ok ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

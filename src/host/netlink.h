/*
 * The narrow rtnetlink module: get and set a VF's MAC, VLAN, spoof check
 * and trust through its PF (RTM_GETLINK with RTEXT_FILTER_VF, RTM_SETLINK
 * with IFLA_VFINFO_LIST), and count an interface's addresses (an
 * RTM_GETADDR dump), written with plain sockets. One encoder and one
 * decoder serve two transports chosen by the host seam: the kernel
 * (AF_NETLINK) and the simulated host (the same bytes over a UNIX
 * SOCK_SEQPACKET socket). Changes are retried a bounded number of times on
 * the transient errors drivers give while a VF resets (EBUSY, EAGAIN).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/mac.h"

typedef struct {
    guint8 mac[VRT_MAC_LEN];
    guint vlan; /* 0 = none */
    guint qos;
    bool spoofchk;
    bool trust;
} VrtVfInfo;

/* Which fields of a VrtVfInfo a set call changes. */
typedef enum {
    VRT_VF_FIELD_MAC = 1 << 0,
    VRT_VF_FIELD_VLAN = 1 << 1, /* vlan and qos */
    VRT_VF_FIELD_SPOOFCHK = 1 << 2,
    VRT_VF_FIELD_TRUST = 1 << 3,
} VrtVfField;

typedef struct _VrtNetlink VrtNetlink;

VrtNetlink *vrt_netlink_new_kernel(void);
/* Talks to the simulated host listening on socket_path. */
VrtNetlink *vrt_netlink_new_unix(const char *socket_path);
void vrt_netlink_free(VrtNetlink *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNetlink, vrt_netlink_free)

/* Number of VFs the PF pf_ifname reports and, for vf >= 0, that VF's
 * settings. */
bool vrt_netlink_get_vf(VrtNetlink *nl, const char *pf_ifname, guint vf, VrtVfInfo *info, GError **error);
bool vrt_netlink_set_vf(VrtNetlink *nl, const char *pf_ifname, guint vf, const VrtVfInfo *info, guint fields,
                        GError **error);

/* How many addresses (IPv4 and IPv6) interface ifindex has: an
 * RTM_GETADDR dump, counted for that interface. */
bool vrt_netlink_count_addrs(VrtNetlink *nl, guint ifindex, guint *count, GError **error);

/* The wire format, exposed for tests and fuzzers. */
GByteArray *vrt_netlink_encode_getlink(guint32 seq, const char *ifname);
GByteArray *vrt_netlink_encode_setlink_vf(guint32 seq, const char *ifname, guint vf, const VrtVfInfo *info,
                                          guint fields);
/* Decodes an RTM_NEWLINK reply: VF `vf`'s settings; false when the reply
 * is malformed or does not describe that VF. */
bool vrt_netlink_decode_vf(const guint8 *buf, gsize len, guint vf, VrtVfInfo *info, GError **error);
/* Decodes a request made by the encoders above (the simulator's view),
 * used to check that encode and decode agree. */
bool vrt_netlink_decode_setlink_vf(const guint8 *buf, gsize len, char **ifname, guint *vf, VrtVfInfo *info,
                                   guint *fields, GError **error);
/* Builds an RTM_NEWLINK message describing VFs, as the kernel would
 * answer a RTM_GETLINK (for tests). */
GByteArray *vrt_netlink_encode_newlink(guint32 seq, const char *ifname, const VrtVfInfo *vfs, guint n_vfs);

GByteArray *vrt_netlink_encode_getaddr(guint32 seq);
/* One datagram of an RTM_GETADDR dump answering seq: adds the RTM_NEWADDR
 * messages of ifindex to *count and sets *done at NLMSG_DONE. An
 * NLMSG_ERROR for seq, or a malformed message, is an error. */
bool vrt_netlink_decode_addr_dump(const guint8 *buf, gsize len, guint32 seq, guint ifindex, guint *count, bool *done,
                                  GError **error);
/* An RTM_NEWADDR message of a dump (for tests). */
GByteArray *vrt_netlink_encode_newaddr(guint32 seq, guint ifindex, int family, const guint8 *addr, gsize addr_len);

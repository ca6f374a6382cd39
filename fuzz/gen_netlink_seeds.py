#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-netlink (src/host/fuzz-netlink-corpus/):
rtnetlink messages as the kernel and the simulated host send them, laid
out by hand from <linux/netlink.h>, <linux/rtnetlink.h> and
<linux/if_link.h> (x86-64 byte order), so the seeds do not depend on the
encoder under test. Sequence 7, interface index 5 and VF 1 are the numbers
the fuzzer asks for.

Usage: gen_netlink_seeds.py OUTDIR
"""
import os
import struct
import sys

RTM_NEWLINK, RTM_SETLINK, RTM_NEWADDR = 16, 19, 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 1, 2, 4
NLA_F_NESTED = 0x8000
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_NUM_VF, IFLA_VFINFO_LIST = 1, 3, 4, 21, 22
IFLA_VF_INFO = 1
IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_TX_RATE, IFLA_VF_SPOOFCHK = 1, 2, 3, 4
IFLA_VF_LINK_STATE, IFLA_VF_RATE, IFLA_VF_RSS_QUERY_EN, IFLA_VF_STATS = 5, 6, 7, 8
IFLA_VF_TRUST, IFLA_VF_BROADCAST, IFLA_VF_VLAN_LIST, IFLA_VF_VLAN_INFO = 9, 13, 12, 1
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
AF_INET, AF_INET6 = 2, 10
SEQ, IFINDEX, VF = 7, 5, 1


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def attr(t, data):
    return pad(struct.pack("<HH", 4 + len(data), t) + data)


def nest(t, *children):
    return attr(t | NLA_F_NESTED, b"".join(children))


def msg(t, flags, body, seq=SEQ):
    return struct.pack("<IHHII", 16 + len(body), t, flags, seq, 0) + body


def ifinfo(index=0, flags=0):
    return struct.pack("<BBHiII", 0, 0, 0, index, flags, 0)


def vf_info(vf, mac, vlan=0, qos=0, spoof=1, trust=0, kernel=True):
    parts = [attr(IFLA_VF_MAC, struct.pack("<I", vf) + bytes(mac) + b"\0" * 26)]
    if kernel:
        parts.append(attr(IFLA_VF_BROADCAST, b"\xff" * 6 + b"\0" * 26))
    parts.append(attr(IFLA_VF_VLAN, struct.pack("<III", vf, vlan, qos)))
    if kernel:
        parts.append(nest(IFLA_VF_VLAN_LIST,
                          attr(IFLA_VF_VLAN_INFO, struct.pack("<IIIHH", vf, vlan, qos, 0x8100, 0))))
        parts.append(attr(IFLA_VF_TX_RATE, struct.pack("<II", vf, 0)))
        parts.append(attr(IFLA_VF_RATE, struct.pack("<III", vf, 0, 0)))
    parts.append(attr(IFLA_VF_SPOOFCHK, struct.pack("<II", vf, spoof)))
    if kernel:
        parts.append(attr(IFLA_VF_LINK_STATE, struct.pack("<II", vf, 0)))
        parts.append(attr(IFLA_VF_RSS_QUERY_EN, struct.pack("<II", vf, 0)))
    parts.append(attr(IFLA_VF_TRUST, struct.pack("<II", vf, trust)))
    if kernel:
        parts.append(nest(IFLA_VF_STATS, attr(0, struct.pack("<Q", 1234)), attr(1, struct.pack("<Q", 56))))
    return nest(IFLA_VF_INFO, *parts)


def newlink(kernel):
    vfs = [vf_info(0, [0x52, 0x54, 0, 0, 0, 0x10], kernel=kernel),
           vf_info(1, [0x52, 0x54, 0, 0xab, 0xcd, 0xef], vlan=42, qos=3, spoof=0, trust=1, kernel=kernel)]
    body = ifinfo(IFINDEX, 0x1003) + attr(IFLA_IFNAME, b"enp1s0f0\0")
    if kernel:
        body += attr(IFLA_MTU, struct.pack("<I", 1500)) + attr(IFLA_ADDRESS, bytes([0x3c, 0xfd, 0xfe, 1, 2, 3]))
    body += attr(IFLA_NUM_VF, struct.pack("<I", 2)) + nest(IFLA_VFINFO_LIST, *vfs)
    return msg(RTM_NEWLINK, 0, body)


def setlink(fields):
    parts = []
    if "mac" in fields:
        parts.append(attr(IFLA_VF_MAC, struct.pack("<I", VF) + bytes([0x52, 0x54, 0, 1, 2, 3]) + b"\0" * 26))
    if "vlan" in fields:
        parts.append(attr(IFLA_VF_VLAN, struct.pack("<III", VF, 100, 0)))
    if "spoof" in fields:
        parts.append(attr(IFLA_VF_SPOOFCHK, struct.pack("<II", VF, 1)))
    if "trust" in fields:
        parts.append(attr(IFLA_VF_TRUST, struct.pack("<II", VF, 0)))
    body = ifinfo() + attr(IFLA_IFNAME, b"enp1s0f0\0") + nest(IFLA_VFINFO_LIST, nest(IFLA_VF_INFO, *parts))
    return msg(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, body)


def newaddr(index, family, addr, label=None):
    body = struct.pack("<BBBBI", family, 24 if family == AF_INET else 64, 0, 0, index)
    body += attr(IFA_ADDRESS, addr)
    if family == AF_INET:
        body += attr(IFA_LOCAL, addr)
    if label:
        body += attr(IFA_LABEL, label + b"\0")
    return msg(RTM_NEWADDR, NLM_F_MULTI, body)


def done():
    return msg(NLMSG_DONE, NLM_F_MULTI, struct.pack("<i", 0))


def error(errno):
    # nlmsgerr: the error, then the header of the request it answers
    return msg(NLMSG_ERROR, 0, struct.pack("<i", -errno) + struct.pack("<IHHII", 20, 22, 0x301, SEQ, 0))


SEEDS = {
    "newlink-kernel": newlink(True),
    "newlink-sim": newlink(False),
    "setlink-mac-vlan": setlink({"mac", "vlan"}),
    "setlink-all": setlink({"mac", "vlan", "spoof", "trust"}),
    "setlink-trust": setlink({"trust"}),
    "addr-dump": (newaddr(1, AF_INET, bytes([127, 0, 0, 1]), b"lo")
                  + newaddr(IFINDEX, AF_INET, bytes([192, 168, 122, 5]), b"enp1s0f0v1")
                  + newaddr(IFINDEX, AF_INET6, bytes([0xfe, 0x80] + [0] * 13 + [5]))),
    "addr-dump-done": newaddr(IFINDEX, AF_INET6, bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [1])) + done(),
    "addr-error": error(16),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

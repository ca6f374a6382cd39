"""A minimal DHCPv6 client for the network tests (the test guest's busybox
has no udhcpc6, and the test machine has no dhclient): one IA_NA address
by SOLICIT, ADVERTISE, REQUEST, REPLY on one interface, then RENEW or
RELEASE of it when asked, so a test drives renewal and release on demand
instead of waiting for timers. Run inside the network namespace that has
the interface:

    python3 dhcp6_client.py IFACE STATEFILE solicit [HOSTNAME]
    python3 dhcp6_client.py IFACE STATEFILE renew
    python3 dhcp6_client.py IFACE STATEFILE release

The client's DUID is a DUID-UUID (type 4), so a server learns the client's
MAC from the link, never from the DUID. STATEFILE (JSON) keeps the DUID,
IAID, server DUID and address between calls. Prints a JSON object: the
address with its preferred and valid lifetimes (solicit, renew), the
status code of the reply (release). Python 3 stdlib only."""
import json
import os
import random
import socket
import struct
import sys
import time
import uuid

SO_BINDTODEVICE = 25
SOLICIT, ADVERTISE, REQUEST, RENEW, REPLY, RELEASE = 1, 2, 3, 5, 7, 8
OPT_CLIENTID, OPT_SERVERID, OPT_IA_NA, OPT_IAADDR, OPT_ORO, OPT_ELAPSED, OPT_STATUS, OPT_FQDN = 1, 2, 3, 5, 6, 8, 13, 39


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def parse_opts(data):
    out, i = {}, 0
    while i + 4 <= len(data):
        code, n = struct.unpack("!HH", data[i:i + 4])
        out.setdefault(code, []).append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def ia_na(iaid, addr=None):
    body = struct.pack("!III", iaid, 0, 0)
    if addr:
        body += opt(OPT_IAADDR, socket.inet_pton(socket.AF_INET6, addr) + struct.pack("!II", 0, 0))
    return opt(OPT_IA_NA, body)


def fqdn(name):
    wire = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".") if label)
    return opt(OPT_FQDN, b"\x00" + wire + b"\x00")


def message(mtype, xid, st, server=None, addr=None, hostname=""):
    body = opt(OPT_CLIENTID, bytes.fromhex(st["duid"])) + opt(OPT_ELAPSED, b"\0\0")
    if server:
        body += opt(OPT_SERVERID, bytes.fromhex(server))
    body += ia_na(st["iaid"], addr) + opt(OPT_ORO, struct.pack("!H", 23))
    if hostname:
        body += fqdn(hostname)
    return bytes([mtype]) + xid + body


def wait_link_local(iface, timeout=15):
    """Until the interface has a link-local address that passed DAD."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                addr, _, _, scope, flags, name = line.split()
                if name == iface and int(scope, 16) == 0x20 and not int(flags, 16) & 0x40:
                    return
        time.sleep(0.1)
    raise SystemExit(f"{iface} has no usable link-local address")


def exchange(sock, iface, msg, want):
    dest = ("ff02::1:2", 547, 0, socket.if_nametoindex(iface))
    for _ in range(10):
        sock.sendto(msg, dest)
        try:
            while True:
                data, _ = sock.recvfrom(4096)
                if len(data) > 4 and data[0] == want and data[1:4] == msg[1:4]:
                    return parse_opts(data[4:])
        except socket.timeout:
            continue
    raise SystemExit(f"no DHCPv6 reply of type {want}")


def address_of(opts):
    """The first IAADDR of the reply's IA_NA, or its status when none."""
    for ia in opts.get(OPT_IA_NA, []):
        sub = parse_opts(ia[12:])
        for a in sub.get(OPT_IAADDR, []):
            pref, valid = struct.unpack("!II", a[16:24])
            return {"address": socket.inet_ntop(socket.AF_INET6, a[:16]), "preferred": pref, "valid": valid}
        for status in sub.get(OPT_STATUS, []):
            return {"status": struct.unpack("!H", status[:2])[0], "message": status[2:].decode(errors="replace")}
    return {}


def main():
    iface, path, action = sys.argv[1], sys.argv[2], sys.argv[3]
    hostname = sys.argv[4] if len(sys.argv) > 4 else ""
    if action == "solicit":
        st = {"duid": (struct.pack("!H", 4) + uuid.uuid4().bytes).hex(), "iaid": random.getrandbits(32)}
    else:
        with open(path) as f:
            st = json.load(f)
    wait_link_local(iface)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    s.bind(("::", 546))
    s.settimeout(1)
    xid = random.getrandbits(24).to_bytes(3, "big")
    if action == "solicit":
        adv = exchange(s, iface, message(SOLICIT, xid, st, hostname=hostname), ADVERTISE)
        offered = address_of(adv)
        if "address" not in offered:
            raise SystemExit(f"no address offered: {offered}")
        st["server"] = adv[OPT_SERVERID][0].hex()
        xid = random.getrandbits(24).to_bytes(3, "big")
        reply = exchange(s, iface, message(REQUEST, xid, st, st["server"], offered["address"], hostname), REPLY)
    elif action in ("renew", "release"):
        mtype = RENEW if action == "renew" else RELEASE
        reply = exchange(s, iface, message(mtype, xid, st, st["server"], st["address"]), REPLY)
    else:
        raise SystemExit(f"unknown action {action}")
    result = address_of(reply)
    if action == "release":
        status = reply.get(OPT_STATUS, [b"\0\0"])[0]
        result = {"status": struct.unpack("!H", status[:2])[0]}
    elif "address" not in result:
        raise SystemExit(f"no address in the reply: {result}")
    else:
        st["address"] = result["address"]
    st["duid_text"] = ":".join(f"{b:02x}" for b in bytes.fromhex(st["duid"]))
    with open(path, "w") as f:
        json.dump(st, f)
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

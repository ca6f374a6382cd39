"""A minimal DHCPv4 client for the network tests (no dhclient/udhcpc on the
test machine): DISCOVER, OFFER, REQUEST, ACK on one interface, broadcast
replies asked for. Run inside the network namespace that has the
interface: python3 dhcp_client.py IFACE MAC [HOSTNAME]; prints the address
it was given. With --renew ADDR SERVER instead of the hostname it renews
the lease of ADDR as a client in RENEWING state does (REQUEST with ciaddr,
sent to SERVER, the address already on IFACE) and prints the lease time
of the ACK; with --release ADDR SERVER it releases the lease (RELEASE,
which has no answer). Python 3 stdlib only."""
import os
import random
import socket
import struct
import sys

SO_BINDTODEVICE = 25


def packet(xid, mac, msgtype, hostname, extra=b""):
    chaddr = bytes.fromhex(mac.replace(":", "")) + b"\0" * 10
    head = struct.pack("!BBBBIHHIIII", 1, 1, 6, 0, xid, 0, 0x8000, 0, 0, 0, 0) + chaddr + b"\0" * 192
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, msgtype])
    if hostname:
        opts += bytes([12, len(hostname)]) + hostname.encode()
    return head + opts + extra + b"\xff"


def options(data):
    out, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, n = data[i], data[i + 1]
        out[code] = data[i + 2:i + 2 + n]
        i += 2 + n
    return out


def exchange(sock, xid, msg, want):
    for _ in range(10):
        sock.sendto(msg, ("255.255.255.255", 67))
        try:
            while True:
                data, _ = sock.recvfrom(4096)
                if len(data) > 240 and struct.unpack("!I", data[4:8])[0] == xid and options(data).get(53) == bytes([want]):
                    return data
        except socket.timeout:
            continue
    raise SystemExit(f"no DHCP reply of type {want}")


def unicast(sock, xid, mac, msgtype, ciaddr, server, extra=b""):
    """A message from a client that holds ciaddr, sent to server; for a
    REQUEST the ACK's lease time."""
    msg = bytearray(packet(xid, mac, msgtype, "", extra))
    msg[10:12] = b"\0\0"  # replies to ciaddr, not broadcast
    msg[12:16] = socket.inet_aton(ciaddr)
    for _ in range(10):
        sock.sendto(bytes(msg), (server, 67))
        if msgtype != 3:
            return None
        try:
            while True:
                data, _ = sock.recvfrom(4096)
                if len(data) > 240 and struct.unpack("!I", data[4:8])[0] == xid and options(data).get(53) == b"\x05":
                    return struct.unpack("!I", options(data)[51])[0]
        except socket.timeout:
            continue
    raise SystemExit("no DHCPACK to the renewal")


def main():
    iface, mac = sys.argv[1], sys.argv[2]
    hostname = sys.argv[3] if len(sys.argv) > 3 else ""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    s.bind(("", 68))
    s.settimeout(2)
    xid = random.getrandbits(32)
    if hostname in ("--renew", "--release"):
        addr, server = sys.argv[4], sys.argv[5]
        if hostname == "--renew":
            print(unicast(s, xid, mac, 3, addr, server))
        else:
            unicast(s, xid, mac, 7, addr, server, bytes([54, 4]) + socket.inet_aton(server))
        sys.stdout.flush()
        os._exit(0)
    offer = exchange(s, xid, packet(xid, mac, 1, hostname), 2)
    yiaddr = offer[16:20]
    server = options(offer)[54]
    req = bytes([50, 4]) + yiaddr + bytes([54, 4]) + server
    exchange(s, xid, packet(xid, mac, 3, hostname, req), 5)
    print(socket.inet_ntoa(yiaddr))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

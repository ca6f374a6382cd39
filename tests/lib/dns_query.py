"""Asks a DNS server for the A record of a name (Python 3 stdlib only):
python3 dns_query.py SERVER NAME; prints the addresses, one a line."""
import random
import socket
import struct
import sys


def main():
    server, name = sys.argv[1], sys.argv[2]
    qid = random.getrandbits(16)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, (server, 53))
    data, _ = s.recvfrom(4096)
    _, _, qd, an, _, _ = struct.unpack("!HHHHHH", data[:12])
    i = 12
    for _ in range(qd):
        while data[i]:
            i += data[i] + 1
        i += 5
    for _ in range(an):
        i += 2 if data[i] & 0xC0 == 0xC0 else len(data[i:].split(b"\0", 1)[0]) + 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", data[i:i + 10])
        i += 10
        if rtype == 1:
            print(socket.inet_ntoa(data[i:i + rdlen]))
        i += rdlen


if __name__ == "__main__":
    main()

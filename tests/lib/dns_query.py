"""Asks a DNS server for the records of a name (Python 3 stdlib only):
python3 dns_query.py SERVER NAME [A|TXT|SRV]; prints the answers, one a
line: an address, the text of a TXT record, or "PRIORITY WEIGHT PORT
TARGET" of a SRV record."""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "TXT": 16, "SRV": 33}


def read_name(data, i):
    """The name at offset i (following compression pointers) and the
    offset after it."""
    labels, end = [], None
    while data[i]:
        if data[i] & 0xC0 == 0xC0:
            if end is None:
                end = i + 2
            i = struct.unpack("!H", data[i:i + 2])[0] & 0x3FFF
            continue
        labels.append(data[i + 1:i + 1 + data[i]].decode())
        i += data[i] + 1
    return ".".join(labels), (end if end is not None else i + 1)


def main():
    server, name = sys.argv[1], sys.argv[2]
    qtype = TYPES[sys.argv[3] if len(sys.argv) > 3 else "A"]
    qid = random.getrandbits(16)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    # asked again on a timeout, as a resolver does: the first packet from a
    # port just added to a bridge can be lost while the port settles
    for attempt in range(3):
        s.sendto(q, (server, 53))
        try:
            data, _ = s.recvfrom(4096)
            break
        except TimeoutError:
            if attempt == 2:
                raise
    _, _, qd, an, _, _ = struct.unpack("!HHHHHH", data[:12])
    i = 12
    for _ in range(qd):
        _, i = read_name(data, i)
        i += 4
    for _ in range(an):
        _, i = read_name(data, i)
        rtype, _, _, rdlen = struct.unpack("!HHIH", data[i:i + 10])
        i += 10
        rdata = data[i:i + rdlen]
        if rtype == 1 and qtype == 1:
            print(socket.inet_ntoa(rdata))
        elif rtype == 16 and qtype == 16:
            parts, j = [], 0
            while j < len(rdata):
                parts.append(rdata[j + 1:j + 1 + rdata[j]].decode())
                j += rdata[j] + 1
            print("".join(parts))
        elif rtype == 33 and qtype == 33:
            prio, weight, port = struct.unpack("!HHH", rdata[:6])
            target, _ = read_name(data, i + 6)
            print(prio, weight, port, target)
        i += rdlen


if __name__ == "__main__":
    main()

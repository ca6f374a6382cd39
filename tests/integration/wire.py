"""A raw client of libvirt's wire protocol for tests that must send what a
well-behaved client never would (bad lengths, garbage, unknown programs)."""
import socket
import struct

REMOTE = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def frame(prog, proc, typ=CALL, serial=1, status=OK, payload=b"", vers=1):
    body = struct.pack(">IIiiIi", prog, vers, proc, typ, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


class Wire:
    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.serial = 0

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def recv(self):
        (length,) = struct.unpack(">I", self._recv_exact(4))
        body = self._recv_exact(length - 4)
        prog, vers, proc, typ, serial, status = struct.unpack(">IIiiIi", body[:24])
        return dict(prog=prog, vers=vers, proc=proc, type=typ, serial=serial, status=status, payload=body[24:])

    def call(self, proc, payload=b"", prog=REMOTE, vers=1):
        self.serial += 1
        self.send(frame(prog, proc, CALL, self.serial, OK, payload, vers))
        while True:
            m = self.recv()
            if m["type"] == REPLY and m["serial"] == self.serial:
                return m

    def open(self):
        # remote_connect_open_args: remote_string name (present), flags
        m = self.call(1, struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0))
        assert m["status"] == OK, error_of(m)


def error_of(m):
    """(code, domain, message) of an error reply."""
    p = m["payload"]
    code, domain, present = struct.unpack(">iiI", p[:12])
    msg = None
    if present:
        (n,) = struct.unpack(">I", p[12:16])
        msg = p[16:16 + n].decode()
    return code, domain, msg


def is_closed(w, timeout=5.0):
    w.s.settimeout(timeout)
    try:
        data = w.s.recv(1)
        return data == b""
    except (ConnectionResetError, BrokenPipeError):
        return True

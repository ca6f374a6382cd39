#!/usr/bin/python3
"""A stand-in for qemu-system-x86_64 that speaks QMP, for tests of what real QEMU cannot do here.

vfio-pci device_add needs real VFIO hardware, so tests of hostdev hotplug
start this program in QEMU's place. It accepts the command line vrtd gives
QEMU (``-name guest=X``, ``-uuid``, ``-chardev socket,id=..,path=..,server=on,
wait=off`` or ``fd=N``, ``-mon chardev=..,mode=control``, ``-qmp``, ``-S``,
``-machine``, ``-m``, ``-smp``, ``-device``, ``-netdev``, ``-pidfile``,
``-daemonize``, ``-no-shutdown``; -device and -netdev in key=value or JSON
syntax; any other option is accepted and ignored)
and serves QMP on the monitor socket with QEMU 7.2's greeting, replies, error
classes and texts, and events (checked against real QEMU by test_qmpemu.py).

Behaviour is set by a JSON file named in $QMPEMU_CONFIG, re-read whenever it
changes, so a test can alter it while the emulator runs:
  {"device_add_fail": {"vfio-pci": {"class": "GenericError", "desc": "..."}},
   "device_del_ack_ms": 20,            # delay before DEVICE_DELETED; null = never
   "device_del_ack": {"hostdev0": null, "net1": 500},   # per device id
   "crash_on": ["device_del", {"execute": "device_add",
                               "arguments": {"driver": "vfio-pci"}}],
   "powerdown": "shutdown" | "ignore", "powerdown_ms": 50,
   "reply_delay_ms": {"query-status": 100},
   "vfio_sysfs_root": "/host/root"}    # require ROOT/sys/bus/pci/devices/HOST
                                      # bound to vfio-pci, as real vfio-pci does
"crash_on" entries are command names or objects whose arguments must match;
a match kills the emulator with SIGKILL before it answers (monitor EOF).

A listening socket -chardev that is not a monitor is a guest agent's
channel: behaviour "agent": {"interfaces": [...guest-network-get-interfaces
answer...], "hostname": "..."} makes an emulated qemu-ga answer there
(guest-sync, guest-sync-delimited, guest-ping, guest-network-get-interfaces,
guest-get-host-name, guest-fsfreeze-freeze/-freeze-list/-thaw/-status over
"filesystems": [mountpoints], guest-get-time/guest-set-time (an offset from
the host's clock; no time: back to it), guest-shutdown (no answer; powerdown
shuts the emulated guest down, reboot resets it)) and query-chardev report
its port open; without it nobody answers, as with a guest that runs no
agent. "agent_delay_ms" delays each agent answer but guest-sync's. Agent
commands are logged as {"ts", "agent": the command} lines. "replies":
{command: its return value} answers further commands (guest-get-users,
guest-get-osinfo, ...); "disabled": [commands] answers those with qemu-ga's
CommandDisabled; guest-info lists the commands answered, with "enabled".

The command x-qmpemu-emit {"event": NAME, "data": {...}} (not QEMU's)
sends that event after its reply, for events real QEMU cannot be made to
raise on demand; x-qmpemu-ack {"id": DEVICE} acknowledges that device's
pending unplug now, as a guest that answers late.

Every command received is appended as one JSON line to $QMPEMU_LOG, else to
MONITOR_SOCKET.log beside the socket: {"ts": epoch seconds, "cmd": the
message as received}. Python 3 stdlib only.
"""

import heapq
import json
import os
import selectors
import signal
import socket
import sys
import time

VERSION = {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "vrt-qmpemu"}
DEFAULT_ACK_MS = 20
DEFAULT_POWERDOWN_MS = 50
RECV_CHUNK = 65536
MAX_LINE = 16 * 1024 * 1024

# Options of qemu-system-x86_64 that take no argument; every other option
# takes exactly one, which is enough to walk any command line vrtd builds.
FLAG_OPTIONS = {
    "S", "no-user-config", "nodefaults", "no-shutdown", "no-reboot", "nographic",
    "daemonize", "enable-kvm", "no-hpet", "no-acpi", "snapshot", "full-screen",
    "s", "no-fd-bootchk", "no-kvm", "win2k-hack", "no-quit", "version", "help",
    "enable-fips", "preconfig", "only-migratable", "sandbox-off",
}

# Device models this emulator accepts: (PCI class, class description, vendor, device).
PCI_CLASSES = {
    "network": (0x0200, "Ethernet controller"),
    "storage": (0x0100, "SCSI controller"),
    "bridge": (0x0604, "PCI bridge"),
    "other": (0x00ff, "Unclassified device"),
    "display": (0x0300, "VGA controller"),
    "usb": (0x0c03, "USB controller"),
}
DRIVERS = {
    "virtio-net-pci": ("network", 0x1af4, 0x1000),
    "e1000": ("network", 0x8086, 0x100e),
    "e1000e": ("network", 0x8086, 0x10d3),
    "rtl8139": ("network", 0x10ec, 0x8139),
    "vfio-pci": ("network", 0x8086, 0x154c),
    "virtio-blk-pci": ("storage", 0x1af4, 0x1001),
    "virtio-scsi-pci": ("storage", 0x1af4, 0x1004),
    "virtio-balloon-pci": ("other", 0x1af4, 0x1002),
    "virtio-serial-pci": ("other", 0x1af4, 0x1003),
    "virtio-rng-pci": ("other", 0x1af4, 0x1005),
    "virtio-keyboard-pci": ("other", 0x1af4, 0x1052),
    "virtio-mouse-pci": ("other", 0x1af4, 0x1052),
    "virtio-tablet-pci": ("other", 0x1af4, 0x1052),
    "virtio-vga": ("display", 0x1af4, 0x1050),
    "virtio-gpu-pci": ("display", 0x1af4, 0x1050),
    "VGA": ("display", 0x1234, 0x1111),
    "cirrus-vga": ("display", 0x1013, 0x00b8),
    "qxl-vga": ("display", 0x1b36, 0x0100),
    "i6300esb": ("other", 0x8086, 0x25ab),
    "qemu-xhci": ("usb", 0x1b36, 0x000d),
    "piix3-usb-uhci": ("usb", 0x8086, 0x7020),
    "ich9-usb-ehci1": ("usb", 0x8086, 0x293a),
    "pcie-root-port": ("bridge", 0x1b36, 0x000c),
    "pci-bridge": ("bridge", 0x1b36, 0x0001),
    "pcie-pci-bridge": ("bridge", 0x1b36, 0x000e),
}
# Non-PCI devices: accepted and listed in qom-list, never in query-pci.
OTHER_DRIVERS = {
    "scsi-hd", "scsi-cd", "ide-hd", "ide-cd", "usb-tablet", "usb-kbd", "usb-mouse",
    "virtserialport", "virtconsole", "isa-serial", "pvpanic", "ich9-intel-hda",
    "hda-duplex", "usb-host", "sga",
}
BRIDGES = {"pcie-root-port", "pci-bridge", "pcie-pci-bridge"}
NETDEV_TYPES = {"user", "tap", "bridge", "socket", "stream", "dgram", "vhost-user",
                "l2tpv3", "vde", "hubport", "vhost-vdpa"}
COMMANDS = [
    "qmp_capabilities", "query-status", "cont", "stop", "system_powerdown",
    "system_reset", "quit", "query-pci", "qom-list", "device_add", "device_del",
    "netdev_add", "netdev_del", "query-cpus-fast", "query-balloon", "balloon",
    "query-version", "query-commands", "query-name", "query-uuid", "query-kvm",
    "human-monitor-command", "query-chardev", "qom-get", "qom-set", "rtc-reset-reinjection",
    "migrate-set-capabilities", "migrate-set-parameters", "query-migrate-parameters", "migrate",
    "migrate-incoming", "query-migrate", "migrate_cancel",
]

# The balloon's guest statistics QEMU 7.2 reports (qom-get guest-stats).
GUEST_STATS = ["stat-swap-in", "stat-swap-out", "stat-major-faults", "stat-minor-faults", "stat-free-memory",
               "stat-total-memory", "stat-available-memory", "stat-disk-caches", "stat-htlb-pgalloc",
               "stat-htlb-pgfail"]

# Not QEMU's: makes the emulator send the event named in its arguments
# ({"event": NAME, "data": {...}}) after its reply, for tests of events real
# QEMU cannot be made to raise on demand (RTC_CHANGE, WATCHDOG,
# BLOCK_IO_ERROR, ...). Left out of query-commands.
EMIT_COMMAND = "x-qmpemu-emit"
# The command x-qmpemu-ack {"id": DEVICE} makes the emulated guest
# acknowledge that device's pending unplug now (DEVICE_DELETED after the
# reply), for tests that must act while an unplug is pending and then see
# it complete, without racing a timer. Left out of query-commands.
ACK_COMMAND = "x-qmpemu-ack"


class QMPError(Exception):
    def __init__(self, cls, desc):
        super().__init__(desc)
        self.cls = cls
        self.desc = desc


def split_opts(text):
    """Split a QEMU option string on commas (",," is a literal comma)."""
    parts, cur, i = [], "", 0
    while i < len(text):
        c = text[i]
        if c == "," and text[i + 1:i + 2] == ",":
            cur += ","
            i += 2
            continue
        if c == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def parse_opts(text, implied=None):
    """'a,b=1' -> {implied: 'a', 'b': '1'}; a bare first word names `implied`.

    JSON option syntax ('{"driver": ..., "id": ...}', used by libvirt and vrtd
    for -device and -netdev) is accepted too; values keep their JSON types.
    """
    if text.lstrip().startswith("{"):
        return json.loads(text)
    out = {}
    for n, part in enumerate(split_opts(text)):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
        elif n == 0 and implied:
            out[implied] = part
        elif part:
            out[part] = "on"
    return out


def parse_size_mib(text):
    text = parse_opts(text, "size").get("size", "0")
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    if text and text[-1].lower() in units:
        return int(float(text[:-1]) * units[text[-1].lower()])
    return int(text)


def parse_argv(argv):
    cfg = {"name": "", "uuid": "00000000-0000-0000-0000-000000000000",
           "chardevs": {}, "monitors": [], "qmp": [], "paused": False,
           "machine": "pc", "memory_mb": 128, "cpus": 1, "devices": [],
           "netdevs": [], "pidfile": None, "daemonize": False,
           "no_shutdown": False}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            continue
        opt = arg.lstrip("-")
        if "=" in opt and arg.startswith("--"):
            opt, val = opt.split("=", 1)
        elif opt in FLAG_OPTIONS:
            val = None
        else:
            if i >= len(argv):
                sys.exit(f"qmpemu: option -{opt} requires an argument")
            val = argv[i]
            i += 1
        if opt == "version":
            print("QEMU emulator version 7.2.0 (vrt-qmpemu)\n"
                  "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers")
            sys.exit(0)
        if opt == "S":
            cfg["paused"] = True
        elif opt == "daemonize":
            cfg["daemonize"] = True
        elif opt == "no-shutdown":
            cfg["no_shutdown"] = True
        elif opt == "name":
            cfg["name"] = parse_opts(val, "guest").get("guest", "")
        elif opt == "uuid":
            cfg["uuid"] = val
        elif opt == "chardev":
            o = parse_opts(val, "backend")
            cfg["chardevs"][o.get("id")] = o
        elif opt == "mon":
            o = parse_opts(val, "chardev")
            if o.get("mode", "readline") == "control":
                cfg["monitors"].append(o["chardev"])
        elif opt == "qmp":
            cfg["qmp"].append(val)
        elif opt in ("machine", "M"):
            cfg["machine"] = parse_opts(val, "type").get("type", "pc")
        elif opt == "m":
            cfg["memory_mb"] = parse_size_mib(val)
        elif opt == "smp":
            o = parse_opts(val, "cpus")
            cfg["cpus"] = int(o.get("cpus", o.get("maxcpus", "1")))
        elif opt == "device":
            cfg["devices"].append(parse_opts(val, "driver"))
        elif opt == "netdev":
            cfg["netdevs"].append(parse_opts(val, "type"))
        elif opt == "pidfile":
            cfg["pidfile"] = val
        elif opt == "incoming":
            cfg["incoming"] = val
    return cfg


def listen_socket(spec):
    """A listening socket from chardev options or a -qmp 'unix:PATH,...' string."""
    if "fd" in spec:
        return socket.socket(fileno=int(spec["fd"])), None
    path = spec["path"]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    return s, path


class Emulator:
    def __init__(self, cfg):
        self.cfg = cfg
        self.q35 = "q35" in cfg["machine"]
        self.root_bus = "pcie.0" if self.q35 else "pci.0"
        self.status = "prelaunch" if cfg["paused"] else "running"
        self.devices = {}        # id -> device dict (insertion order kept)
        self.anon = 0
        self.netdevs = {}
        self.pending_del = set()
        self.balloon_actual = cfg["memory_mb"] << 20
        self.timers = []         # heap of (when, seq, fn)
        self.seq = 0
        self.sel = selectors.DefaultSelector()
        self.clients = {}
        self.behaviour = {}
        self.behaviour_mtime = None
        self.config_path = os.environ.get("QMPEMU_CONFIG")
        self.listeners = []
        self.sock_paths = []
        self.agent_chardevs = set()
        self.agents = {}         # connection -> input buffer
        self.agent_frozen = []   # the emulated guest's frozen mountpoints
        self.agent_time_offset = 0  # guest clock - host clock, ns
        self.log_path = os.environ.get("QMPEMU_LOG")
        self.exiting = None
        # Migration (see cmd_migrate): this side's state, as query-migrate
        # reports it, and the parameters set.
        self.migration = None
        self.migrate_params = {"downtime-limit": 300, "max-bandwidth": 134217728,
                               "max-postcopy-bandwidth": 0}
        if cfg.get("incoming"):
            self.status = "inmigrate"
        for nd in cfg["netdevs"]:
            self.netdevs[nd.get("id")] = nd
        for dev in cfg["devices"]:
            try:
                self._add_device(dict(dev), hotplug=False)
            except QMPError as e:
                sys.exit(f"qmpemu: -device {dev.get('driver')}: {e.desc}")

    # ---- behaviour file ----
    def load_behaviour(self):
        if not self.config_path:
            return
        try:
            mtime = os.stat(self.config_path).st_mtime_ns
        except FileNotFoundError:
            self.behaviour, self.behaviour_mtime = {}, None
            return
        if mtime != self.behaviour_mtime:
            with open(self.config_path) as f:
                self.behaviour = json.load(f)
            self.behaviour_mtime = mtime

    # ---- sockets ----
    def open_monitors(self):
        specs = []
        for chr_id in self.cfg["monitors"]:
            ch = self.cfg["chardevs"].get(chr_id)
            if not ch:
                sys.exit(f"qmpemu: chardev '{chr_id}' not found")
            specs.append(ch)
        for q in self.cfg["qmp"]:
            o = parse_opts(q, "path")
            if o["path"].startswith("unix:"):
                o["path"] = o["path"][5:]
            specs.append(o)
        if not specs:
            sys.exit("qmpemu: no QMP monitor on the command line")
        for spec in specs:
            s, path = listen_socket(spec)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, ("listen", None))
            self.listeners.append(s)
            if path:
                self.sock_paths.append(path)
        if not self.log_path:
            self.log_path = (self.sock_paths[0] if self.sock_paths else
                             f"/tmp/qmpemu-{os.getpid()}") + ".log"
        # Every other listening socket chardev is a guest agent's channel,
        # answered by the emulated agent (behaviour "agent"): bound at its
        # path, or (an unprivileged QEMU's) inherited already listening.
        for chr_id, ch in self.cfg["chardevs"].items():
            if chr_id in self.cfg["monitors"] or ch.get("backend") != "socket" or \
                    ch.get("server") != "on" or ("path" not in ch and "fd" not in ch):
                continue
            s, path = listen_socket(ch)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, ("agent-listen", chr_id))
            self.listeners.append(s)
            if path:
                self.sock_paths.append(path)
            self.agent_chardevs.add(chr_id)

    def accept(self, lsock):
        conn, _ = lsock.accept()
        conn.setblocking(True)
        self.clients[conn] = {"buf": b"", "negotiated": False}
        self.sel.register(conn, selectors.EVENT_READ, ("client", None))
        self.send(conn, {"QMP": {"version": VERSION, "capabilities": ["oob"]}})

    def drop(self, conn):
        self.sel.unregister(conn)
        self.clients.pop(conn, None)
        conn.close()

    def send(self, conn, obj):
        try:
            conn.sendall(json.dumps(obj).encode() + b"\r\n")
        except OSError:
            pass

    def event(self, name, data=None):
        now = time.time()
        ev = {"timestamp": {"seconds": int(now), "microseconds": int((now % 1) * 1e6)},
              "event": name}
        if data is not None:
            ev["data"] = data
        # Like QEMU, events go only to monitors that finished negotiation.
        for conn, st in list(self.clients.items()):
            if st["negotiated"]:
                self.send(conn, ev)

    def later(self, ms, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + ms / 1000.0, self.seq, fn))

    def read_client(self, conn):
        st = self.clients[conn]
        try:
            chunk = conn.recv(RECV_CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            self.drop(conn)
            return
        st["buf"] += chunk
        if len(st["buf"]) > MAX_LINE:
            self.drop(conn)
            return
        # QMP accepts JSON objects back to back; parse as many as are complete.
        dec = json.JSONDecoder()
        text = st["buf"].decode(errors="replace")
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                obj, end = dec.raw_decode(text, pos)
            except json.JSONDecodeError:
                # Incomplete input waits for more; a complete bad line is answered
                # with an error and skipped, as QEMU's parser does.
                nl = text.find("\n", pos)
                if nl < 0:
                    break
                word = text[pos:nl].strip().split()[0] if text[pos:nl].strip() else ""
                desc = (f"JSON parse error, invalid keyword '{word}'" if word.isalpha()
                        else "JSON parse error, invalid literal")
                self.send(conn, {"error": {"class": "GenericError", "desc": desc}})
                pos = nl + 1
                continue
            pos = end
            self.handle(conn, obj)
            if conn not in self.clients:
                return
        st["buf"] = text[pos:].encode()

    # ---- dispatch ----
    def matches_crash(self, msg):
        for rule in self.behaviour.get("crash_on", []):
            if isinstance(rule, str):
                if rule == msg.get("execute"):
                    return True
            elif rule.get("execute") == msg.get("execute"):
                args = msg.get("arguments") or {}
                if all(args.get(k) == v for k, v in (rule.get("arguments") or {}).items()):
                    return True
        return False

    def handle(self, conn, msg):
        self.load_behaviour()
        with open(self.log_path, "a") as log:
            log.write(json.dumps({"ts": time.time(), "cmd": msg}) + "\n")
        if not isinstance(msg, dict):
            self.send(conn, {"error": {"class": "GenericError",
                                       "desc": "QMP input must be a JSON object"}})
            return
        if self.matches_crash(msg):
            os.kill(os.getpid(), signal.SIGKILL)
        reply = {}
        if "id" in msg:
            reply["id"] = msg["id"]
        for key in msg:
            if key not in ("execute", "arguments", "id", "exec-oob"):
                reply["error"] = {"class": "GenericError",
                                  "desc": f"QMP input member '{key}' is unexpected"}
                self.send(conn, reply)
                return
        if "execute" not in msg:
            reply["error"] = {"class": "GenericError",
                              "desc": "QMP input lacks member 'execute'"}
            self.send(conn, reply)
            return
        name = msg["execute"]
        args = msg.get("arguments") or {}
        st = self.clients[conn]
        try:
            if not st["negotiated"] and name != "qmp_capabilities":
                raise QMPError("CommandNotFound",
                               "Expecting capabilities negotiation with 'qmp_capabilities'")
            if st["negotiated"] and name == "qmp_capabilities":
                raise QMPError("CommandNotFound",
                               "Capabilities negotiation is already complete, command ignored")
            fn = getattr(self, "cmd_" + name.replace("-", "_"), None)
            if name == EMIT_COMMAND:
                fn = self.cmd_emit
            elif name == ACK_COMMAND:
                fn = self.cmd_ack
            elif name not in COMMANDS or fn is None:
                raise QMPError("CommandNotFound", f"The command {name} has not been found")
            after = []
            reply["return"] = fn(args, st, after)
        except QMPError as e:
            reply["error"] = {"class": e.cls, "desc": e.desc}
            after = []
        delay = (self.behaviour.get("reply_delay_ms") or {}).get(name)
        if delay:
            time.sleep(delay / 1000.0)
        self.send(conn, reply)
        for fn in after:
            fn()

    # ---- commands ----
    def cmd_qmp_capabilities(self, args, st, after):
        st["negotiated"] = True
        return {}

    def cmd_query_status(self, args, st, after):
        return {"status": self.status, "singlestep": False,
                "running": self.status == "running"}

    def cmd_cont(self, args, st, after):
        if self.status != "running":
            self.status = "running"
            after.append(lambda: self.event("RESUME"))
        return {}

    def cmd_stop(self, args, st, after):
        if self.status == "running":
            self.status = "paused"
            after.append(lambda: self.event("STOP"))
        return {}

    def cmd_system_powerdown(self, args, st, after):
        after.append(lambda: self.event("POWERDOWN"))
        if self.status == "running" and self.behaviour.get("powerdown", "shutdown") == "shutdown":
            self.later(self.behaviour.get("powerdown_ms", DEFAULT_POWERDOWN_MS),
                       lambda: self.shutdown(True, "guest-shutdown"))
        return {}

    def cmd_rtc_reset_reinjection(self, args, st, after):
        return {}

    def cmd_system_reset(self, args, st, after):
        after.append(lambda: self.event("RESET", {"guest": False,
                                                  "reason": "host-qmp-system-reset"}))
        return {}

    def cmd_quit(self, args, st, after):
        after.append(lambda: self.shutdown(False, "host-qmp-quit", force_exit=True))
        return {}

    def shutdown(self, guest, reason, force_exit=False):
        self.event("SHUTDOWN", {"guest": guest, "reason": reason})
        if self.cfg["no_shutdown"] and not force_exit:
            if self.status == "running":
                self.status = "shutdown"
                self.event("STOP")
            self.status = "shutdown"
            return
        self.exiting = 0

    def cmd_query_version(self, args, st, after):
        return VERSION

    def cmd_query_commands(self, args, st, after):
        return [{"name": c} for c in COMMANDS]

    def cmd_query_name(self, args, st, after):
        return {"name": self.cfg["name"]} if self.cfg["name"] else {}

    def cmd_query_uuid(self, args, st, after):
        return {"UUID": self.cfg["uuid"]}

    def cmd_query_kvm(self, args, st, after):
        return {"enabled": False, "present": False}

    def cmd_query_chardev(self, args, st, after):
        # A guest agent's port is open while the emulated guest runs one.
        return [{"label": k, "filename": "unix:" + v.get("path", ""),
                 "frontend-open": bool(self.behaviour.get("agent")) if k in self.agent_chardevs else True}
                for k, v in self.cfg["chardevs"].items()]

    # ---- the emulated guest agent (qemu-ga's protocol on its channel) ----
    def read_agent(self, conn):
        try:
            chunk = conn.recv(RECV_CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            self.sel.unregister(conn)
            self.agents.pop(conn, None)
            conn.close()
            return
        self.load_behaviour()
        agent = self.behaviour.get("agent")
        # 0xFF resets qemu-ga's parser; without an agent nobody reads the port.
        buf = (self.agents[conn] + chunk).replace(b"\xff", b"")
        if not agent:
            self.agents[conn] = b""
            return
        dec = json.JSONDecoder()
        text = buf.decode(errors="replace")
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            try:
                msg, pos = dec.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            self.agent_reply(conn, msg, agent)
        self.agents[conn] = text[pos:].encode()

    def agent_reply(self, conn, msg, agent):
        name = msg.get("execute")
        args = msg.get("arguments") or {}
        with open(self.log_path, "a") as log:
            log.write(json.dumps({"ts": time.time(), "agent": msg}) + "\n")
        fss = agent.get("filesystems", ["/"])
        if name == "guest-sync-delimited":
            conn.sendall(b"\xff")
            reply = {"return": args.get("id")}
        elif name == "guest-sync":
            reply = {"return": args.get("id")}
        elif name in agent.get("disabled", []):
            reply = {"error": {"class": "CommandDisabled",
                               "desc": f"The command {name} has been disabled for this instance"}}
        elif name == "guest-ping":
            reply = {"return": {}}
        elif name == "guest-network-get-interfaces":
            reply = {"return": agent.get("interfaces", [])}
        elif name == "guest-get-host-name":
            reply = {"return": {"host-name": agent.get("hostname", "localhost")}}
        elif name == "guest-info":
            # The commands this agent answers: the built-in ones and those
            # "replies" gives.
            names = ["guest-sync", "guest-sync-delimited", "guest-ping", "guest-info",
                     "guest-network-get-interfaces", "guest-get-host-name", "guest-fsfreeze-freeze",
                     "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fsfreeze-status",
                     "guest-get-time", "guest-set-time", "guest-shutdown"] + list(agent.get("replies", {}))
            reply = {"return": {"version": "7.2.0", "supported_commands":
                                [{"name": n, "enabled": n not in agent.get("disabled", []),
                                  "success-response": True} for n in names]}}
        elif name in agent.get("replies", {}) and name not in agent.get("disabled", []):
            reply = {"return": agent["replies"][name]}
        elif name in ("guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list"):
            want = args.get("mountpoints", fss) if name.endswith("-list") else fss
            bad = [m for m in want if m not in fss]
            if self.agent_frozen:
                reply = {"error": {"class": "GenericError", "desc": "Command guest-fsfreeze-freeze has been disabled: the agent is in frozen state"}}
            elif bad:
                reply = {"error": {"class": "GenericError", "desc": f"failed to find mount point '{bad[0]}'"}}
            else:
                self.agent_frozen = list(want)
                reply = {"return": len(want)}
        elif name == "guest-fsfreeze-thaw":
            reply = {"return": len(self.agent_frozen)}
            self.agent_frozen = []
        elif name == "guest-fsfreeze-status":
            reply = {"return": "frozen" if self.agent_frozen else "thawed"}
        elif name == "guest-get-time":
            reply = {"return": time.time_ns() + self.agent_time_offset}
        elif name == "guest-set-time":
            self.agent_time_offset = int(args["time"]) - time.time_ns() if "time" in args else 0
            reply = {"return": {}}
        elif name == "guest-shutdown":
            # qemu-ga answers nothing: the guest goes down.
            if args.get("mode", "powerdown") == "reboot":
                self.later(10, lambda: self.event("RESET", {"guest": True, "reason": "guest-reset"}))
            else:
                self.later(10, lambda: self.shutdown(True, "guest-shutdown"))
            return
        else:
            reply = {"error": {"class": "CommandNotFound", "desc": f"The command {name} has not been found"}}
        data = json.dumps(reply).encode() + b"\n"
        delay = agent.get("agent_delay_ms", 0)
        if delay and not name.startswith("guest-sync"):
            self.later(delay, lambda: self._agent_send(conn, data))
        else:
            conn.sendall(data)

    def _agent_send(self, conn, data):
        try:
            conn.sendall(data)
        except OSError:
            pass

    def cmd_emit(self, args, st, after):
        if "event" not in args:
            raise QMPError("GenericError", "Parameter 'event' is missing")
        after.append(lambda: self.event(args["event"], args.get("data")))
        return {}

    def cmd_ack(self, args, st, after):
        dev_id = args.get("id")
        if dev_id not in self.pending_del:
            raise QMPError("GenericError", f"Device {dev_id} has no pending unplug")
        after.append(lambda: self._complete_unplug(dev_id, 10))
        return {}

    def cmd_human_monitor_command(self, args, st, after):
        return ""

    def cmd_query_cpus_fast(self, args, st, after):
        return [{"thread-id": os.getpid() + i,
                 "props": {"core-id": i, "thread-id": 0, "socket-id": 0},
                 "qom-path": f"/machine/unattached/device[{i}]",
                 "cpu-index": i, "target": "x86_64"} for i in range(self.cfg["cpus"])]

    def _balloon_dev(self):
        return any(d["driver"] == "virtio-balloon-pci" for d in self.devices.values())

    def cmd_query_balloon(self, args, st, after):
        if not self._balloon_dev():
            raise QMPError("DeviceNotActive", "No balloon device has been activated")
        return {"actual": self.balloon_actual}

    def cmd_balloon(self, args, st, after):
        if "value" not in args:
            raise QMPError("GenericError", "Parameter 'value' is missing")
        if not self._balloon_dev():
            raise QMPError("DeviceNotActive", "No balloon device has been activated")
        self.balloon_actual = min(int(args["value"]), self.cfg["memory_mb"] << 20)
        after.append(lambda: self.event("BALLOON_CHANGE", {"actual": self.balloon_actual}))
        return {}

    def cmd_netdev_add(self, args, st, after):
        for key in ("type", "id"):
            if key not in args:
                raise QMPError("GenericError", f"Parameter '{key}' is missing")
        if args["type"] not in NETDEV_TYPES:
            raise QMPError("GenericError",
                           f"Parameter 'type' does not accept value '{args['type']}'")
        if args["id"] in self.netdevs:
            raise QMPError("GenericError", f"Duplicate ID '{args['id']}'")
        self.netdevs[args["id"]] = dict(args)
        return {}

    def cmd_netdev_del(self, args, st, after):
        if args.get("id") not in self.netdevs:
            raise QMPError("DeviceNotFound", f"Device '{args.get('id')}' not found")
        del self.netdevs[args["id"]]
        return {}

    def _balloon_at(self, path):
        dev_id = (path or "").rsplit("/", 1)[-1]
        dev = self.devices.get(dev_id) if (path or "").startswith("/machine/peripheral/") else None
        if dev is None:
            raise QMPError("DeviceNotFound", f"Device '{path}' not found")
        if dev["driver"] != "virtio-balloon-pci":
            raise QMPError("GenericError", f"Property '{dev['driver']}.guest-stats' not found")
        return dev

    def cmd_qom_get(self, args, st, after):
        # The balloon's statistics only: its polling interval, and the
        # guest's figures, set by the behaviour file's "guest_stats" and
        # "guest_stats_last_update" (absent: none reported yet).
        dev = self._balloon_at(args.get("path"))
        prop = args.get("property")
        if prop == "guest-stats-polling-interval":
            return dev.get("stats_interval", 0)
        if prop == "guest-stats":
            # QEMU 7.2 before the guest reports anything: every figure 2^64-1
            # (not collected), last update 0.
            stats = {k: (1 << 64) - 1 for k in GUEST_STATS}
            stats.update(self.behaviour.get("guest_stats") or {})
            return {"stats": stats, "last-update": self.behaviour.get("guest_stats_last_update", 0)}
        raise QMPError("GenericError", f"Property '{dev['driver']}.{prop}' not found")

    def cmd_qom_set(self, args, st, after):
        dev = self._balloon_at(args.get("path"))
        if args.get("property") != "guest-stats-polling-interval":
            raise QMPError("GenericError", f"Property '{dev['driver']}.{args.get('property')}' not found")
        value = args.get("value")
        if not isinstance(value, int) or value < 0:
            raise QMPError("GenericError", "timer value must be greater than zero")
        dev["stats_interval"] = value
        return {}

    def cmd_qom_list(self, args, st, after):
        path = args.get("path")
        if path != "/machine/peripheral":
            raise QMPError("DeviceNotFound", f"Device '{path}' not found")
        out = [{"name": "type", "type": "string"}]
        out += [{"name": i, "type": f"child<{d['driver']}>"}
                for i, d in self.devices.items() if not d["anonymous"]]
        return out

    def _buses(self):
        buses = {self.root_bus: None}
        for i, d in self.devices.items():
            if d["driver"] in BRIDGES and not d["anonymous"]:
                buses[i] = d
        return buses

    def _add_device(self, args, hotplug):
        driver = args.get("driver")
        if driver is None:
            raise QMPError("GenericError", "Parameter 'driver' is missing")
        fail = (self.behaviour.get("device_add_fail") or {}).get(driver)
        if hotplug and fail:
            raise QMPError(fail.get("class", "GenericError"), fail.get("desc", "failed"))
        if driver not in DRIVERS and driver not in OTHER_DRIVERS:
            raise QMPError("GenericError", f"'{driver}' is not a valid device model name")
        dev_id = args.get("id")
        if dev_id is not None and dev_id in self.devices:
            raise QMPError("GenericError", f"Duplicate device ID '{dev_id}'")
        dev = {"driver": driver, "id": dev_id, "props": dict(args),
               "anonymous": dev_id is None, "bus": None, "slot": None, "function": 0}
        if driver in DRIVERS:
            self._place_pci(dev, args, hotplug)
        if driver == "vfio-pci":
            self._check_vfio(args)
        netdev = args.get("netdev")
        if netdev is not None and netdev not in self.netdevs:
            model = "virtio-net-device" if driver == "virtio-net-pci" else driver
            raise QMPError("GenericError",
                           f"Property '{model}.netdev' can't find value '{netdev}'")
        if dev_id is None:
            self.anon += 1
            dev_id = f"#anon{self.anon}"
        self.devices[dev_id] = dev
        return dev

    def _place_pci(self, dev, args, hotplug):
        buses = self._buses()
        bus = args.get("bus", self.root_bus)
        if bus not in buses:
            raise QMPError("GenericError", f"Bus '{bus}' not found")
        if hotplug and bus == "pcie.0":
            raise QMPError("GenericError", "Bus 'pcie.0' does not support hotplugging")
        used = {(d["slot"], d["function"]): d for d in self.devices.values()
                if d["bus"] == bus}
        max_slot = 0 if buses[bus] is not None and buses[bus]["driver"] == "pcie-root-port" else 31
        if "addr" in args:
            a = str(args["addr"])
            slot, _, fn = a.partition(".")
            slot, fn = int(slot, 16), int(fn or "0", 16)
            if slot > max_slot or (slot, fn) in used:
                other = used.get((slot, fn))
                if max_slot == 0 and other:
                    raise QMPError("GenericError",
                                   f"PCI: slot {slot} function {fn} already occupied by "
                                   f"{other['driver']}, new func {dev['driver']} cannot be "
                                   f"exposed to guest.")
                who = f"{other['driver']},id={other['id']}" if other else "another device"
                raise QMPError("GenericError",
                               f"PCI: slot {slot} function {fn} not available for "
                               f"{dev['driver']}, in use by {who}")
        else:
            # Root bus slot 0 is the host bridge (and 1 the ISA bridge on pc).
            first = 0 if max_slot == 0 else (2 if not self.q35 else 1)
            free = [s for s in range(first, max_slot + 1) if (s, 0) not in used]
            if not free:
                raise QMPError("GenericError",
                               f"PCI: no slot/function available for {dev['driver']}, "
                               f"all in use or reserved")
            slot, fn = free[0], 0
        dev["bus"], dev["slot"], dev["function"] = bus, slot, fn

    def _check_vfio(self, args):
        host = args.get("host") or args.get("sysfsdev")
        if not host:
            raise QMPError("GenericError", "No provided host device")
        if args.get("host") and host.count(":") == 1:
            host = "0000:" + host
        root = self.behaviour.get("vfio_sysfs_root")
        if root is None:
            return
        sysdir = os.path.join(root, "sys/bus/pci/devices", os.path.basename(host))
        if not os.path.isdir(sysdir):
            raise QMPError("GenericError",
                           f"vfio /sys/bus/pci/devices/{host}: no such host device: "
                           f"No such file or directory")
        drv = os.path.join(sysdir, "driver")
        if not os.path.exists(drv) or os.path.basename(os.path.realpath(drv)) != "vfio-pci":
            raise QMPError("GenericError",
                           f"vfio {host}: failed to open /dev/vfio/devices: "
                           f"device is not bound to vfio-pci")

    def cmd_device_add(self, args, st, after):
        self._add_device(dict(args), hotplug=True)
        return {}

    def cmd_device_del(self, args, st, after):
        dev_id = args.get("id")
        dev = self.devices.get(dev_id)
        if dev is None or dev["anonymous"]:
            raise QMPError("DeviceNotFound", f"Device '{dev_id}' not found")
        if dev["bus"] == "pcie.0" or (dev["bus"] is None and dev["driver"] not in OTHER_DRIVERS):
            raise QMPError("GenericError", "Bus 'pcie.0' does not support hotplugging")
        if dev_id in self.pending_del:
            # Seen with QEMU 7.2: behind a pcie-root-port a repeated request is
            # accepted again (and still answered once); on pc's root bus it is refused.
            parent = self._buses().get(dev["bus"])
            if parent is not None and parent["driver"] == "pcie-root-port":
                return {}
            raise QMPError("GenericError", f"Device {dev_id} is already in the process of unplug")
        self.pending_del.add(dev_id)
        per_dev = self.behaviour.get("device_del_ack") or {}
        delay = per_dev[dev_id] if dev_id in per_dev else \
            self.behaviour.get("device_del_ack_ms", DEFAULT_ACK_MS)
        # A paused guest cannot answer; the unplug completes once it runs.
        if delay is not None and delay != "never":
            self.later(delay, lambda: self._complete_unplug(dev_id, delay))
        return {}

    def _complete_unplug(self, dev_id, delay):
        if dev_id not in self.devices:
            return
        if self.status != "running":
            self.later(max(delay, 10), lambda: self._complete_unplug(dev_id, delay))
            return
        self.pending_del.discard(dev_id)
        dev = self.devices.pop(dev_id)
        path = f"/machine/peripheral/{dev_id}"
        # QEMU 7.2 first reports the virtio backend child (no "device" member).
        if dev["driver"].startswith("virtio-"):
            self.event("DEVICE_DELETED", {"path": path + "/virtio-backend"})
        self.event("DEVICE_DELETED", {"device": dev_id, "path": path})

    # ---- migration ----
    # QEMU's state moves over TCP from the source's migrate to the
    # destination's migrate-incoming: here one JSON line naming the source's
    # devices. As QEMU, a source with a vfio-pci device refuses to migrate
    # (VFIO devices are not migratable), and a destination whose devices
    # differ from the source's fails the incoming migration. Behaviour
    # "migrate_hold": the transfer stays active until migrate_cancel;
    # "migrate_fail": it fails with that text.
    def cmd_migrate_set_capabilities(self, args, st, after):
        return {}

    def cmd_migrate_set_parameters(self, args, st, after):
        self.migrate_params.update(args)
        return {}

    def cmd_query_migrate_parameters(self, args, st, after):
        return dict(self.migrate_params)

    def cmd_query_migrate(self, args, st, after):
        if not self.migration:
            return {}
        out = {"status": self.migration["status"]}
        if self.migration.get("error"):
            out["error-desc"] = self.migration["error"]
        if out["status"] in ("active", "completed"):
            out["ram"] = {"total": self.cfg["memory_mb"] << 20, "transferred": 4096, "remaining": 0,
                          "duplicate": 0, "normal": 1, "normal-bytes": 4096, "mbps": 1.0,
                          "dirty-sync-count": 1}
            out["total-time"] = 1
        if out["status"] == "completed":
            out["downtime"] = 1
        return out

    def _state(self):
        return {"devices": sorted(i for i, d in self.devices.items() if not d["anonymous"])}

    @staticmethod
    def _tcp_addr(uri):
        if not uri.startswith("tcp:"):
            raise QMPError("GenericError", f"unknown migration protocol: {uri}")
        host, _, port = uri[4:].lstrip("/").rpartition(":")
        return host.strip("[]"), int(port)

    def cmd_migrate(self, args, st, after):
        if self.migration and self.migration["status"] in ("setup", "active"):
            raise QMPError("GenericError", "There's a migration process in progress")
        vfio = [i for i, d in self.devices.items() if d["driver"] == "vfio-pci"]
        if vfio:
            raise QMPError("GenericError", f"0000:00:00.0: VFIO device doesn't support migration ({vfio[0]})")
        host, port = self._tcp_addr(args.get("uri", ""))
        self.migration = {"status": "active"}
        if self.behaviour.get("migrate_hold"):
            return {}
        if self.behaviour.get("migrate_fail"):
            self.migration = {"status": "failed", "error": self.behaviour["migrate_fail"]}
            return {}
        try:
            with socket.create_connection((host, port), timeout=10) as c:
                c.sendall(json.dumps(self._state()).encode() + b"\n")
        except OSError as e:
            self.migration = {"status": "failed", "error": f"Failed to connect to '{host}:{port}': {e}"}
            return {}
        if self.status == "running":
            self.status = "postmigrate"
            after.append(lambda: self.event("STOP"))
        else:
            self.status = "postmigrate"
        self.migration = {"status": "completed"}
        return {}

    def cmd_migrate_cancel(self, args, st, after):
        if self.migration and self.migration["status"] in ("setup", "active"):
            self.migration = {"status": "cancelled"}
        return {}

    def cmd_migrate_incoming(self, args, st, after):
        if self.status != "inmigrate":
            raise QMPError("GenericError", "'-incoming' was not specified on the command line")
        host, port = self._tcp_addr(args.get("uri", ""))
        lsock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(1)
        self.sel.register(lsock, selectors.EVENT_READ, ("migrate-listen", None))
        self.migration = {"status": "setup"}
        return {}

    def _incoming(self, lsock):
        self.sel.unregister(lsock)
        conn, _ = lsock.accept()
        lsock.close()
        conn.settimeout(10)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            conn.close()
        try:
            state = json.loads(data)
        except ValueError:
            self.migration = {"status": "failed", "error": "load of migration failed: Input/output error"}
            return
        mine = self._state()["devices"]
        if state.get("devices") != mine:
            self.migration = {"status": "failed",
                              "error": f"load of migration failed: devices differ: source {state.get('devices')}, "
                                       f"destination {mine}"}
            return
        self.status = "paused"
        self.migration = {"status": "completed"}

    def cmd_query_pci(self, args, st, after):
        def entry(i, d, busnum):
            cls, vendor, devid = DRIVERS[d["driver"]]
            code, desc = PCI_CLASSES[cls]
            e = {"bus": busnum, "slot": d["slot"], "function": d["function"],
                 "class_info": {"class": code, "desc": desc},
                 "id": {"vendor": vendor, "device": devid,
                        "subsystem-vendor": 0x1af4, "subsystem": 0x1100},
                 "irq_pin": 1, "qdev_id": "" if d["anonymous"] else i, "regions": []}
            if d["driver"] in BRIDGES:
                children = [entry(ci, cd, 0) for ci, cd in self.devices.items()
                            if cd["bus"] == i]
                e["pci_bridge"] = {"bus": {"number": 0, "secondary": 0, "subordinate": 0,
                                           "io_range": {"base": 0, "limit": 0},
                                           "memory_range": {"base": 0, "limit": 0},
                                           "prefetchable_range": {"base": 0, "limit": 0}},
                                   "devices": children}
            return e
        host = {"bus": 0, "slot": 0, "function": 0,
                "class_info": {"class": 0x0600, "desc": "Host bridge"},
                "id": {"vendor": 0x8086, "device": 0x29c0 if self.q35 else 0x1237,
                       "subsystem-vendor": 0x1af4, "subsystem": 0x1100},
                "irq_pin": 0, "qdev_id": "", "regions": []}
        devs = [host] + [entry(i, d, 0) for i, d in self.devices.items()
                         if d["bus"] == self.root_bus]
        return [{"bus": 0, "devices": devs}]

    # ---- main loop ----
    def run(self):
        while self.exiting is None:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, _ in self.sel.select(timeout):
                kind, _ = key.data
                if kind == "wake":
                    try:
                        key.fileobj.recv(64)
                    except OSError:
                        pass
                elif kind == "listen":
                    try:
                        self.accept(key.fileobj)
                    except OSError:
                        pass
                elif kind == "agent-listen":
                    try:
                        conn, _ = key.fileobj.accept()
                        self.agents[conn] = b""
                        self.sel.register(conn, selectors.EVENT_READ, ("agent", None))
                    except OSError:
                        pass
                elif kind == "agent":
                    self.read_agent(key.fileobj)
                elif kind == "migrate-listen":
                    self._incoming(key.fileobj)
                elif key.fileobj in self.clients:
                    self.read_client(key.fileobj)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now and self.exiting is None:
                _, _, fn = heapq.heappop(self.timers)
                fn()
        self.cleanup()
        return self.exiting

    def cleanup(self):
        for conn in list(self.clients):
            self.drop(conn)
        for path in self.sock_paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        if self.cfg["pidfile"]:
            try:
                os.unlink(self.cfg["pidfile"])
            except OSError:
                pass


def main(argv):
    cfg = parse_argv(argv)
    emu = Emulator(cfg)
    emu.load_behaviour()
    emu.open_monitors()

    def on_term(signum, frame):
        emu.shutdown(False, "host-signal", force_exit=True)
    # select() is restarted after a signal; the wakeup socket makes it return.
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    emu.sel.register(wake_r, selectors.EVENT_READ, ("wake", None))
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_term)

    if cfg["daemonize"]:
        rfd, wfd = os.pipe()
        if os.fork() > 0:
            os.close(wfd)
            ok = os.read(rfd, 1)
            os._exit(0 if ok else 1)
        os.close(rfd)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    if cfg["pidfile"]:
        with open(cfg["pidfile"], "w") as f:
            f.write(f"{os.getpid()}\n")
    if cfg["daemonize"]:
        os.write(wfd, b"1")
        os.close(wfd)
    return emu.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

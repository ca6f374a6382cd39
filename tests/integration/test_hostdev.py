"""SR-IOV hostdev hotplug through vrtd, end to end, with Debian's virsh and
python3-libvirt: a simulated SR-IOV host (tests/hostsim: PF ens1f0 with VFs
0000:06:10.0-3) and the QMP emulator (tests/qmpemu) standing in for QEMU,
since vfio-pci device_add needs real VFIO hardware. The emulator is told to
refuse a vfio-pci device whose host function is not bound to vfio-pci in the
simulated sysfs, as real vfio-pci would.

Checked as a user would: each VF's driver, admin MAC and VLAN in the
simulated host, the pool's ports (net-port-list), the domain's live XML and
status file (interfaces vs host devices), and the emulator's own device list
(qom-list over a second QMP connection). vrtd is also killed with SIGKILL at
every attach and detach step (VRT_FAULT_DIE_AT) and restarted. One test uses
real QEMU, whose vfio-pci device_add fails here, to check the rollback.
Needs what hostsim needs (root, /dev/fuse, python3-fusepy): without it the
tests skip, or fail under CI (vrt_fixtures.require)."""
import json
import os
import re
import shutil
import signal
import socket
import threading
import time

import pytest

from vrt_fixtures import QmpEmu, Vrtd, kill_vms_under, require, virsh, wait_for

VFS = ["0000:06:10.0", "0000:06:10.1", "0000:06:10.2", "0000:06:10.3"]
ZERO_MAC = "00:00:00:00:00:00"
UNPLUG_WAIT = 5.0

ATTACH_STEPS = ["claim", "save-vf", "set-vf", "detach-host", "device-add", "commit"]
DETACH_STEPS = ["device-del", "remove", "reattach", "restore-vf", "release", "done"]

POOL_IF = ("<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='pool'/>"
           "<vlan><tag id='42'/></vlan></interface>")
NAMED_IF = ("<interface type='hostdev' managed='yes'><mac address='52:54:00:aa:00:02'/>"
            "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source>"
            "<vlan><tag id='7'/></vlan></interface>")
NAMED_HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                 "<address domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source></hostdev>")


def qmp(sock_path, *cmds):
    """Runs QMP commands on a second connection to the emulator's monitor."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    f = s.makefile("rwb")

    def reply():
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                return msg

    json.loads(f.readline())  # greeting
    for cmd in ("qmp_capabilities",) + cmds:
        f.write(json.dumps({"execute": cmd[0] if isinstance(cmd, tuple) else cmd,
                            "arguments": cmd[1] if isinstance(cmd, tuple) else {}}).encode() + b"\r\n")
        f.flush()
        out = reply()
    s.close()
    return out


class Env:
    def __init__(self, root, sim):
        self.root = root
        self.sim = sim
        self.host = sim.root
        self.vrtd = None
        self.emus = {}

    def hostsim(self, *args):
        return self.sim.run(*args)

    def vfs(self):
        return self.sim.vfs()

    def emulator(self, dom, behaviour=None):
        """A wrapper that runs qmpemu for dom (QEMU gets a clean environment)."""
        emu = QmpEmu(self.root, dom, behaviour,
                     defaults={"device_del_ack_ms": 20, "vfio_sysfs_root": self.host})
        self.emus[dom] = emu
        return emu.binary

    def set_behaviour(self, dom, behaviour):
        self.emus[dom].set_behaviour(behaviour)

    def qmp_log(self, dom):
        return self.emus[dom].commands() if dom in self.emus else []

    def start_vrtd(self, env=None):
        # The QMP emulator standing in for QEMU reads the simulated host, a
        # FUSE mount only root can reach: QEMU runs as root here (qemu.conf's
        # user = "root", as libvirt allows); test_confine.py covers the
        # unprivileged user.
        os.makedirs(os.path.join(self.root, "etc", "vrt"), exist_ok=True)
        with open(os.path.join(self.root, "etc", "vrt", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\n')
        v = Vrtd(self.root, extra_args=["--host-root", self.host], env=env)
        # A daemon killed with SIGKILL leaves its sockets behind: wait for new ones.
        for path in (v.sock, v.sock_ro):
            if os.path.exists(path):
                os.unlink(path)
        self.vrtd = v.start()
        self.uri = self.vrtd.uri
        return self.vrtd

    def virsh(self, *args, check=True, timeout=60):
        return virsh(self.uri, *args, check=check, timeout=timeout)

    def define_domain(self, name, emulator, devices="", features=""):
        xml = (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
               f"<os><type arch='x86_64' machine='pc'>hvm</type></os>{features}"
               f"<devices><emulator>{emulator}</emulator><controller type='usb' model='none'/>{devices}"
               "<memballoon model='none'/></devices></domain>")
        path = os.path.join(self.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.virsh("define", path)
        self.virsh("start", name)

    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def attach(self, dom, xml, check=True):
        return self.virsh("attach-device", dom, self.write("dev.xml", xml), "--live", check=check)

    def detach(self, dom, xml, check=True, timeout=60):
        return self.virsh("detach-device", dom, self.write("dev.xml", xml), "--live", check=check, timeout=timeout)

    def status(self, dom):
        with open(os.path.join(self.root, "run", "vrt", "qemu", f"{dom}.xml")) as f:
            return f.read()

    def monitor(self, dom):
        return re.search(r"<monitor path='([^']+)'", self.status(dom)).group(1)

    def qemu_ids(self, dom):
        out = qmp(self.monitor(dom), ("qom-list", {"path": "/machine/peripheral"}))
        return {p["name"] for p in out["return"] if p["name"] != "type"}

    def ports(self, net="pool"):
        out = self.virsh("net-port-list", net).stdout
        return len([ln for ln in out.splitlines() if re.match(r"\s*[0-9a-f]{8}-", ln)])

    def hostdev_ifaces(self, dom):
        """alias -> VF address of the domain's hostdev-backed interfaces (live XML)."""
        xml = self.virsh("dumpxml", dom).stdout
        out = {}
        for m in re.finditer(r"<interface type='(hostdev|network)'.*?</interface>", xml, re.S):
            block = m.group(0)
            alias = re.search(r"<alias name='([^']+)'", block)
            addr = re.search(r"<source>\s*<address type='pci' domain='0x(\w+)' bus='0x(\w+)' slot='0x(\w+)' "
                             r"function='0x(\w+)'", block)
            if alias and addr:
                d, b, s, fn = addr.groups()
                out[alias.group(1)] = f"{int(d, 16):04x}:{int(b, 16):02x}:{int(s, 16):02x}.{int(fn, 16)}"
            elif alias:
                out[alias.group(1)] = None
        return out

    def check_invariants(self, doms, originals):
        """Every VF owned at most once, pool ports = interfaces using them,
        live XML = status hostdevs = QEMU's devices, free VFs clean."""
        vfs = self.vfs()
        owners = {}
        for dom in doms:
            ifaces = self.hostdev_ifaces(dom)
            st = self.status(dom)
            # The status keeps one record per VF the domain holds (the
            # interface's host device); they must match the interfaces.
            recs = {re.search(r"alias='([^']+)'", r).group(1): r for r in re.findall(r"<record [^>]*>", st)}
            assert set(recs) == set(ifaces), (dom, recs, ifaces)
            for alias, rec in recs.items():
                assert "job='none'" in rec or "pending='yes'" in rec, rec
                assert f"addr='{ifaces[alias]}'" in rec, (rec, ifaces)
            if dom != "real":  # real QEMU serves one QMP client: vrtd
                assert self.qemu_ids(dom) >= set(ifaces), (dom, self.qemu_ids(dom), ifaces)
            for alias, addr in ifaces.items():
                assert addr, f"{dom}: {alias} has no VF"
                assert addr not in owners, f"{addr} owned by {owners[addr]} and {dom}/{alias}"
                owners[addr] = f"{dom}/{alias}"
        pool_users = sum(1 for d in doms for a in self.hostdev_ifaces(d) if a.startswith("net"))
        assert self.ports("pool") == pool_users
        for addr, vf in vfs.items():
            if addr in owners:
                assert vf["driver"] == "vfio-pci", (addr, vf)
            else:
                assert vf["driver"] == "ixgbevf", (addr, vf)
                assert (vf["mac"], vf["vlan"]) == originals[addr], (addr, vf)


@pytest.fixture
def env(hostsim, tmp_path):
    root = str(tmp_path)
    e = Env(root, hostsim)
    try:
        e.start_vrtd()
        e.virsh("net-define", e.write("pool.xml", "<network><name>pool</name><forward mode='hostdev' "
                                                  "managed='yes'><pf dev='ens1f0'/></forward></network>"))
        e.virsh("net-start", "pool")
        e.virsh("net-define", e.write("one.xml", "<network><name>one</name><forward mode='hostdev' managed='yes'>"
                                                 "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' "
                                                 "function='0x3'/></forward></network>"))
        e.virsh("net-start", "one")
        e.define_domain("g", e.emulator("g"))
        e.originals = {a: (vf["mac"], vf["vlan"]) for a, vf in e.vfs().items()}
        yield e
    finally:
        if e.vrtd:
            for dom in ("g", "g2", "real"):
                virsh(e.uri, "destroy", dom, check=False)
            e.vrtd.stop()
        # The emulators and QEMUs of this root; the hostsim fixture then unmounts the host.
        kill_vms_under(root)


def test_attach_detach_by_interface_xml(env):
    env.attach("g", POOL_IF)
    ifaces = env.hostdev_ifaces("g")
    assert list(ifaces) == ["net0"]
    addr = ifaces["net0"]
    vf = env.vfs()[addr]
    assert (vf["driver"], vf["mac"], vf["vlan"]) == ("vfio-pci", "52:54:00:aa:00:01", 42)
    assert env.ports() == 1
    assert "net0" in env.qemu_ids("g")
    adds = [c for c in env.qmp_log("g") if c.get("execute") == "device_add"]
    assert adds[-1]["arguments"]["driver"] == "vfio-pci"
    assert adds[-1]["arguments"]["host"] == addr and adds[-1]["arguments"]["id"] == "net0"
    env.check_invariants(["g"], env.originals)

    env.detach("g", POOL_IF)
    assert env.hostdev_ifaces("g") == {}
    assert env.ports() == 0
    assert "net0" not in env.qemu_ids("g")
    env.check_invariants(["g"], env.originals)


def test_pool_skips_vf_whose_host_netdev_has_an_address(env):
    """A VF whose host interface is down but addressed is in use by the
    host: the pool passes over it, and naming it directly is refused."""
    first = min(env.vfs())
    netdev = env.vfs()[first]["netdev"]
    env.hostsim("addr", env.host, netdev, "192.0.2.10")
    env.attach("g", POOL_IF)
    (addr,) = env.hostdev_ifaces("g").values()
    assert addr != first and env.vfs()[first]["driver"] == "ixgbevf"
    env.detach("g", POOL_IF)
    bus, slot, fn = first[5:7], first[8:10], first[11]
    named = (f"<interface type='hostdev' managed='yes'><mac address='52:54:00:aa:00:09'/><source>"
             f"<address type='pci' domain='0x0000' bus='0x{bus}' slot='0x{slot}' function='0x{fn}'/>"
             "</source></interface>")
    r = env.attach("g", named, check=False)
    assert r.returncode != 0 and f"'{netdev}' has 1 address" in r.stderr, r.stderr
    assert env.hostdev_ifaces("g") == {} and env.vfs()[first]["driver"] == "ixgbevf"
    env.hostsim("addr", env.host, netdev)
    env.check_invariants(["g"], env.originals)


def test_live_update_of_hostdev_interface_refused(env):
    """As libvirt: a hostdev-backed interface (from a pool or by address)
    cannot be changed on a running domain; nothing changes."""
    env.attach("g", POOL_IF)
    env.attach("g", NAMED_IF)
    before = (env.hostdev_ifaces("g"), env.vfs(), env.ports(), env.qemu_ids("g"))
    for xml in (POOL_IF.replace("<tag id='42'/>", "<tag id='43'/>"),
                NAMED_IF.replace("<vlan>", "<link state='down'/><vlan>")):
        r = env.virsh("update-device", "g", env.write("upd.xml", xml), "--live", check=False)
        assert r.returncode != 0
        assert "cannot change config of 'hostdev' network interface type" in r.stderr
    assert (env.hostdev_ifaces("g"), env.vfs(), env.ports(), env.qemu_ids("g")) == before
    env.detach("g", POOL_IF)
    env.detach("g", NAMED_IF)
    env.check_invariants(["g"], env.originals)


def test_detach_by_hostdev_xml_and_alias(env):
    env.attach("g", NAMED_IF)
    assert env.hostdev_ifaces("g") == {"hostdev0": "0000:06:10.2"}
    assert env.vfs()["0000:06:10.2"]["vlan"] == 7
    env.detach("g", NAMED_HOSTDEV)
    assert env.hostdev_ifaces("g") == {}
    env.check_invariants(["g"], env.originals)

    env.attach("g", NAMED_IF)
    alias = list(env.hostdev_ifaces("g"))[0]
    env.virsh("detach-device-alias", "g", alias, "--live")
    assert env.hostdev_ifaces("g") == {}
    assert alias not in env.qemu_ids("g")
    env.check_invariants(["g"], env.originals)


TEAM_MAC = "52:54:00:aa:00:05"
TEAM_VIRTIO = (f"<interface type='user'><mac address='{TEAM_MAC}'/><model type='virtio'/>"
               "<teaming type='persistent'/><alias name='ua-team0'/></interface>")
TEAM_VF = (f"<interface type='hostdev' managed='yes'><mac address='{TEAM_MAC}'/>"
           "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source>"
           "<teaming type='transient' persistent='ua-team0'/><alias name='ua-vf0'/></interface>")


def test_teaming_pair_sharing_a_mac_detaches_by_alias_or_address(env):
    """libvirt's teaming pair: the virtio interface and its VF carry one
    MAC. It is defined and started; a detach naming the MAC alone matches
    both and is refused with libvirt's error, changing nothing; naming the
    VF's alias, or (re-attached with the same MAC) its guest PCI address,
    detaches the VF and leaves the virtio interface alone."""
    env.define_domain("g2", env.emulator("g2"), devices=TEAM_VIRTIO + TEAM_VF)
    originals = env.originals
    assert env.hostdev_ifaces("g2") == {"ua-vf0": "0000:06:10.2"}
    assert {"ua-team0", "ua-vf0"} <= env.qemu_ids("g2")
    assert env.vfs()["0000:06:10.2"]["mac"] == TEAM_MAC
    env.check_invariants(["g", "g2"], originals)

    def state():
        return (env.virsh("dumpxml", "g2").stdout, env.vfs(), env.qemu_ids("g2"), env.status("g2"))

    before = state()
    vf_source = "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source>"
    mac_only = f"<interface type='hostdev' managed='yes'><mac address='{TEAM_MAC}'/>{vf_source}</interface>"
    for cmd in (["detach-device", "g2", env.write("m.xml", mac_only), "--live"],
                ["detach-device", "g2", env.write("m.xml", mac_only), "--config"],
                ["update-device", "g2", env.write("u.xml", mac_only), "--live"]):
        r = env.virsh(*cmd, check=False)
        assert r.returncode != 0, (cmd, r.stdout)
        assert f"operation failed: multiple devices matching MAC address {TEAM_MAC} found" in r.stderr, r.stderr
    assert "device_del" not in [c.get("execute") for c in env.qmp_log("g2")]
    assert state() == before
    assert env.virsh("dumpxml", "--inactive", "g2").stdout.count(f"<mac address='{TEAM_MAC}'/>") == 2

    # the VF by its alias: the VF leaves, the virtio interface stays
    env.detach("g2", f"<interface type='hostdev' managed='yes'><mac address='{TEAM_MAC}'/>{vf_source}"
                     "<alias name='ua-vf0'/></interface>")
    assert env.hostdev_ifaces("g2") == {}
    ids = env.qemu_ids("g2")
    assert "ua-team0" in ids and "ua-vf0" not in ids
    live = env.virsh("dumpxml", "g2").stdout
    assert re.search(rf"<interface type='user'>\s*<mac address='{TEAM_MAC}'/>", live), live
    assert [c["arguments"]["id"] for c in env.qmp_log("g2") if c.get("execute") == "device_del"] == ["ua-vf0"]
    env.check_invariants(["g", "g2"], originals)

    # attached again with the same MAC (as libvirt allows) and detached by
    # its guest PCI address
    env.attach("g2", TEAM_VF.replace("ua-vf0", "ua-vf1"))
    assert env.hostdev_ifaces("g2") == {"ua-vf1": "0000:06:10.2"}
    live = env.virsh("dumpxml", "g2").stdout
    vf_block = re.search(r"<interface type='hostdev'.*?</interface>", live, re.S).group(0)
    guest = re.findall(r"<address type='pci'[^>]*/>", vf_block)[-1]
    assert "bus='0x06'" not in guest, vf_block  # the guest side, not the VF's host address
    env.detach("g2", f"<interface type='hostdev' managed='yes'><mac address='{TEAM_MAC}'/>{vf_source}{guest}"
                     "</interface>")
    assert env.hostdev_ifaces("g2") == {}
    assert "ua-team0" in env.qemu_ids("g2")
    assert re.search(rf"<interface type='user'>\s*<mac address='{TEAM_MAC}'/>", env.virsh("dumpxml", "g2").stdout)
    env.check_invariants(["g", "g2"], originals)


def test_pool_exhausted_changes_nothing(env):
    one = "<interface type='network'><source network='one'/></interface>"
    env.attach("g", one)
    before = env.vfs()
    xml_before = env.virsh("dumpxml", "g").stdout
    r = env.attach("g", one, check=False)
    assert r.returncode != 0
    assert "none are available" in r.stderr
    assert env.vfs() == before
    assert env.virsh("dumpxml", "g").stdout == xml_before
    assert env.ports("one") == 1


def test_two_clients_same_pool(env):
    import libvirt

    env.define_domain("g2", env.emulator("g2"))
    results = {}

    def attach(dom, mac):
        conn = libvirt.open(env.uri)
        try:
            d = conn.lookupByName(dom)
            xml = f"<interface type='network'><mac address='{mac}'/><source network='pool'/></interface>"
            for _ in range(2):
                d.attachDeviceFlags(xml.replace(mac, mac[:-1] + str(_)), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            results[dom] = True
        finally:
            conn.close()

    threads = [threading.Thread(target=attach, args=(d, m)) for d, m in
               (("g", "52:54:00:bb:00:10"), ("g2", "52:54:00:bb:01:10"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {"g": True, "g2": True}
    a, b = env.hostdev_ifaces("g"), env.hostdev_ifaces("g2")
    used = list(a.values()) + list(b.values())
    assert len(used) == 4 and len(set(used)) == 4, (a, b)
    assert env.ports() == 4
    env.check_invariants(["g", "g2"], env.originals)
    r = env.attach("g", "<interface type='network'><source network='pool'/></interface>", check=False)
    assert r.returncode != 0 and "none are available" in r.stderr


def test_guest_never_acks_then_acks(env):
    env.attach("g", POOL_IF)
    addr = env.hostdev_ifaces("g")["net0"]
    # the guest answers only when the test says so (x-qmpemu-ack below)
    env.set_behaviour("g", {"device_del_ack": {"net0": None}})
    t0 = time.monotonic()
    env.detach("g", POOL_IF)
    # the call waited for the guest (libvirt's 5 s) before it returned
    assert time.monotonic() - t0 >= UNPLUG_WAIT - 0.5
    assert env.hostdev_ifaces("g") == {"net0": addr}
    assert env.vfs()[addr]["driver"] == "vfio-pci"
    assert env.ports() == 1
    r = env.detach("g", POOL_IF, check=False)
    assert r.returncode != 0 and "already in progress" in r.stderr
    dels = [c for c in env.qmp_log("g") if c.get("execute") == "device_del"]
    assert len(dels) == 1
    assert "return" in qmp(env.monitor("g"), ("x-qmpemu-ack", {"id": "net0"}))
    wait_for(lambda: env.hostdev_ifaces("g") == {}, timeout=10, what="the late DEVICE_DELETED")
    # The VF goes back to ixgbevf, then gets its MAC/VLAN back, then its port.
    wait_for(lambda: env.ports() == 0, timeout=15, what="the port released")
    assert env.vfs()[addr]["driver"] == "ixgbevf"
    env.check_invariants(["g"], env.originals)


def test_pending_unplug_completes_after_restart(env):
    env.attach("g", POOL_IF)
    addr = env.hostdev_ifaces("g")["net0"]
    env.set_behaviour("g", {"device_del_ack": {"net0": 9000}})
    env.detach("g", POOL_IF)
    env.vrtd.stop(signal.SIGKILL)
    time.sleep(5)  # the ack comes while no daemon listens
    env.start_vrtd()
    wait_for(lambda: env.hostdev_ifaces("g") == {}, timeout=15, what="the removal after restart")
    wait_for(lambda: env.ports() == 0, timeout=15, what="the port released")
    assert env.vfs()[addr]["driver"] == "ixgbevf"
    env.check_invariants(["g"], env.originals)


def kill_at(env, job, step):
    env.vrtd.stop()
    env.start_vrtd(env={"VRT_FAULT_DIE_AT": f"{job}:{step}"})
    if job == "attach":
        env.attach("g", POOL_IF, check=False)
    else:
        env.detach("g", POOL_IF, check=False)
    wait_for(lambda: env.vrtd.proc.poll() is not None, timeout=15, what=f"vrtd to die at {job}:{step}")
    assert env.vrtd.proc.returncode == -signal.SIGKILL
    env.start_vrtd()


@pytest.mark.parametrize("step", ATTACH_STEPS)
def test_kill_during_attach(env, step):
    kill_at(env, "attach", step)
    env.check_invariants(["g"], env.originals)
    # The domain is usable afterwards: a clean attach and detach.
    if not env.hostdev_ifaces("g"):
        env.attach("g", POOL_IF)
    env.detach("g", POOL_IF)
    env.check_invariants(["g"], env.originals)
    assert env.hostdev_ifaces("g") == {}


@pytest.mark.parametrize("step", DETACH_STEPS)
def test_kill_during_detach(env, step):
    env.attach("g", POOL_IF)
    kill_at(env, "detach", step)
    env.check_invariants(["g"], env.originals)
    if env.hostdev_ifaces("g"):
        env.detach("g", POOL_IF)
    env.check_invariants(["g"], env.originals)
    assert env.hostdev_ifaces("g") == {}


def test_real_qemu_vfio_add_fails_and_rolls_back(env):
    qemu = shutil.which("qemu-system-x86_64")
    require(qemu, "qemu-system-x86_64 is not installed")
    # ACPI: pci.0 takes hotplugged devices, so the refusal is vfio's.
    env.define_domain("real", qemu, features="<features><acpi/></features>")
    xml_before = env.virsh("dumpxml", "real").stdout
    r = env.attach("real", NAMED_IF, check=False)
    assert r.returncode != 0
    assert "vfio" in r.stderr.lower() or "0000:06:10.2" in r.stderr, r.stderr
    assert env.virsh("dumpxml", "real").stdout == xml_before
    vf = env.vfs()["0000:06:10.2"]
    assert (vf["driver"], vf["mac"], vf["vlan"]) == ("ixgbevf",) + env.originals["0000:06:10.2"]
    env.check_invariants(["g", "real"], env.originals)


def test_same_vf_in_two_domains_refused(env):
    env.define_domain("g2", env.emulator("g2"))
    env.attach("g", NAMED_IF)
    before = env.vfs()
    r = env.attach("g2", NAMED_IF.replace("aa:00:02", "aa:00:22"), check=False)
    assert r.returncode != 0 and "in use" in r.stderr and "domain g" in r.stderr, r.stderr
    assert env.vfs() == before
    assert env.hostdev_ifaces("g2") == {}
    env.check_invariants(["g", "g2"], env.originals)


def test_start_and_stop_with_hostdevs_in_definition(env):
    env.define_domain("g2", env.emulator("g2"), devices=POOL_IF + NAMED_IF)
    ifaces = env.hostdev_ifaces("g2")
    assert len(ifaces) == 2 and ifaces["hostdev0"] == "0000:06:10.2", ifaces
    vfs = env.vfs()
    assert (vfs["0000:06:10.2"]["driver"], vfs["0000:06:10.2"]["mac"], vfs["0000:06:10.2"]["vlan"]) == \
        ("vfio-pci", "52:54:00:aa:00:02", 7)
    pool_vf = [a for al, a in ifaces.items() if al != "hostdev0"][0]
    assert (vfs[pool_vf]["driver"], vfs[pool_vf]["mac"], vfs[pool_vf]["vlan"]) == \
        ("vfio-pci", "52:54:00:aa:00:01", 42)
    assert env.ports() == 1
    env.check_invariants(["g", "g2"], env.originals)

    # A daemon restart keeps them (records come back from the status file).
    env.vrtd.stop(signal.SIGKILL)
    env.start_vrtd()
    assert env.hostdev_ifaces("g2") == ifaces
    env.check_invariants(["g", "g2"], env.originals)

    env.virsh("destroy", "g2")
    assert env.ports() == 0
    env.check_invariants(["g"], env.originals)


def test_device_removed_event_for_late_ack(env):
    """A client registered for DEVICE_REMOVED hears of the hostdev interface
    once the guest lets go, also when that happens after detach returned."""
    import libvirt

    libvirt.virEventRegisterDefaultImpl()
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            libvirt.virEventRunDefaultImpl()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    conn = libvirt.open(env.uri)
    seen = []
    try:
        dom = conn.lookupByName("g")
        cb = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                         lambda c, d, alias, opaque: seen.append(alias), None)
        dom.attachDeviceFlags(POOL_IF, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        env.set_behaviour("g", {"device_del_ack": {"net0": 6500}})
        dom.detachDeviceFlags(POOL_IF, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert seen == []
        wait_for(lambda: seen == ["net0"], timeout=10, what="DEVICE_REMOVED net0")
        conn.domainEventDeregisterAny(cb)
    finally:
        conn.close()
        stop.set()


def qemu_pid(env, dom):
    return int(re.search(r"pid='(\d+)'", env.status(dom)).group(1))


def test_qemu_gone_gives_vfs_back(env):
    """QEMU ends while vrtd runs, and while vrtd is down: either way the VF
    returns to its driver with its MAC and VLAN and the port is freed."""
    env.attach("g", POOL_IF)
    os.kill(qemu_pid(env, "g"), signal.SIGKILL)
    wait_for(lambda: "shut off" in env.virsh("domstate", "g").stdout, timeout=15, what="g shut off")
    wait_for(lambda: env.ports() == 0, timeout=15, what="the port released")
    env.check_invariants([], env.originals)

    env.virsh("start", "g")
    env.attach("g", NAMED_IF)
    pid = qemu_pid(env, "g")
    env.vrtd.stop(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    env.start_vrtd()
    assert "shut off" in env.virsh("domstate", "g").stdout
    env.check_invariants([], env.originals)


@pytest.mark.parametrize("step", ["set-vf", "detach-host"])
def test_kill_during_domain_start(env, step):
    """vrtd killed while it sets up a starting domain's VFs: the next vrtd
    gives them back (the domain stays shut off) and the domain starts."""
    env.virsh("define", env.write("g2.xml", (
        "<domain type='qemu'><name>g2</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        f"<devices><emulator>{env.emulator('g2')}</emulator><controller type='usb' model='none'/>"
        f"{POOL_IF}{NAMED_IF}<memballoon model='none'/></devices></domain>")))
    env.vrtd.stop()
    env.start_vrtd(env={"VRT_FAULT_DIE_AT": f"attach:{step}"})
    env.virsh("start", "g2", check=False)
    wait_for(lambda: env.vrtd.proc.poll() is not None, timeout=15, what="vrtd to die")
    env.start_vrtd()
    assert "shut off" in env.virsh("domstate", "g2").stdout
    env.check_invariants(["g"], env.originals)
    env.virsh("start", "g2")
    env.check_invariants(["g", "g2"], env.originals)
    env.virsh("destroy", "g2")
    env.check_invariants(["g"], env.originals)


def test_pool_skips_vf_held_by_name(env):
    """A VF a domain holds by address is never handed out by the pool."""
    env.define_domain("g2", env.emulator("g2"))
    env.attach("g", NAMED_IF)
    got = []
    for i in range(4):
        r = env.attach("g2", f"<interface type='network'><mac address='52:54:00:cc:00:0{i}'/>"
                             "<source network='pool'/></interface>", check=False)
        if r.returncode != 0:
            assert "none are available" in r.stderr, r.stderr
            break
        got = list(env.hostdev_ifaces("g2").values())
    assert sorted(got) == ["0000:06:10.0", "0000:06:10.1", "0000:06:10.3"], got
    assert env.ports() == 3
    env.check_invariants(["g", "g2"], env.originals)


def test_nodedev_detach_refused_while_a_domain_holds_the_vf(env):
    """virsh nodedev-reattach/detach of a VF a running domain uses is refused,
    naming the domain, whether the VF came by address or from a pool."""
    env.attach("g", NAMED_IF)
    env.attach("g", POOL_IF)
    pool_vf = [a for al, a in env.hostdev_ifaces("g").items() if al != "hostdev0"][0]
    before = env.vfs()
    for addr in ("0000:06:10.2", pool_vf):
        name = "pci_" + addr.replace(":", "_").replace(".", "_")
        for cmd in ("nodedev-reattach", "nodedev-detach"):
            r = env.virsh(cmd, name, check=False)
            assert r.returncode != 0, (cmd, addr, r.stdout)
            assert f"Requested operation is not valid: PCI device {addr} is in use by domain 'g'" in r.stderr, r.stderr
    assert env.vfs() == before
    env.check_invariants(["g"], env.originals)

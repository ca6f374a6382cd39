"""Live migration of a domain with an SR-IOV interface from a hostdev pool
(<interface type='network'> on a <forward mode='hostdev'> network), which
libvirt refuses and vrt re-plugs: the source unplugs the VF through the
hostdev job before QEMU's transfer, the destination claims a VF of its own
pool at prepare and plugs it, with the interface's MAC and VLAN, once the
state has arrived and before the guest runs there. Any failure plugs the
source's VF back and the guest runs on at the source. A fixed VF
(<interface type='hostdev'>) moves as libvirt moves it, only as the
transient half of a teaming pair: the destination plugs the VF of the same
address, which must exist there, be an SR-IOV VF, be free and, with
managed='no', be on vfio-pci already; otherwise its prepare refuses.

Two vrtds on this machine (each its own root, host_uuid and simulated
SR-IOV host, tests/hostsim: PF ens1f0 with VFs 0000:06:10.0-3), driven by
Debian's virsh over their UNIX sockets (the client-managed migration);
the QMP emulator (tests/qmpemu) stands in for QEMU on both sides, since
vfio-pci needs real VFIO hardware. Like QEMU, it refuses to migrate while a
vfio-pci device is plugged and fails an incoming migration whose devices
differ from the source's; its transfer goes over TCP on 127.0.0.1.

Checked as a user would: each host's VFs (driver, admin MAC and VLAN),
the pools' ports (net-port-list), the domain's state and live XML on
both hosts, vrtd's status records and the emulator's own device list."""
import os
import re
import shutil
import signal
import subprocess

import pytest

import migrate_env
from vrt_fixtures import Hostsim, QmpEmu, Vrtd, hostsim_missing, kill_vms_under, require, virsh, wait_for

MAC = "52:54:00:aa:00:01"
POOL_NET = "<network><name>pool</name><forward mode='hostdev' managed='yes'><pf dev='ens1f0'/></forward></network>"
POOL_IF = (f"<interface type='network'><mac address='{MAC}'/><source network='pool'/>"
           "<vlan><tag id='42'/></vlan></interface>")
HOST_UUIDS = {"src": "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000011", "dst": "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000012"}


class Host:
    """One vrtd with its simulated SR-IOV host and its emulator for 'g'."""

    def __init__(self, base, name, tls=None):
        """tls: (netns, certs, its key and certificate, address) for a vrtd
        in a network namespace listening on TLS (migrate_env)."""
        self.name = name
        self.root = os.path.join(base, name)
        os.makedirs(os.path.join(self.root, "etc", "vrt"))
        self.sim = Hostsim(os.path.join(base, name + "-host")).start()
        # The emulator reads the simulated host, a FUSE mount only root
        # can reach: QEMU runs as root (qemu.conf's user, as libvirt allows).
        with open(os.path.join(self.root, "etc", "vrt", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\n')
        conf = os.path.join(self.root, "vrtd.conf")
        with open(conf, "w") as f:
            f.write(f'host_uuid = "{HOST_UUIDS[name]}"\nmigration_host = "127.0.0.1"\n'
                    'migration_address = "127.0.0.1"\n')
        self.emu = QmpEmu(self.root, "g", defaults={"device_del_ack_ms": 20, "vfio_sysfs_root": self.sim.root})
        if tls:
            ns, certs, key_cert, address = tls
            self.vrtd = migrate_env.start_vrtd(ns, certs, key_cert, HOST_UUIDS[name], address, self.root,
                                               extra_args=("--listen", "--host-root", self.sim.root))
        else:
            self.vrtd = Vrtd(self.root, config=conf, extra_args=["--host-root", self.sim.root]).start()
        self.uri = self.vrtd.uri
        self.virsh("net-define", self.write("pool.xml", POOL_NET))
        self.virsh("net-start", "pool")
        self.originals = {a: (vf["mac"], vf["vlan"]) for a, vf in self.sim.vfs().items()}

    def virsh(self, *args, check=True, timeout=60):
        return virsh(self.uri, *args, check=check, timeout=timeout)

    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def close(self):
        virsh(self.uri, "destroy", "g", check=False)
        self.vrtd.stop()
        kill_vms_under(self.root)
        self.sim.stop()

    def state(self, dom="g"):
        r = self.virsh("domstate", dom, check=False)
        return r.stdout.strip() if r.returncode == 0 else None

    def ports(self):
        out = self.virsh("net-port-list", "pool").stdout
        return len([ln for ln in out.splitlines() if re.match(r"\s*[0-9a-f]{8}-", ln)])

    def vf_of(self, dom="g"):
        """The VF address of the domain's interface with MAC, from its live XML."""
        xml = self.virsh("dumpxml", dom).stdout
        for m in re.finditer(r"<interface type='(hostdev|network)'.*?</interface>", xml, re.S):
            if MAC not in m.group(0):
                continue
            a = re.search(r"<source>\s*<address type='pci' domain='0x(\w+)' bus='0x(\w+)' slot='0x(\w+)' "
                          r"function='0x(\w+)'", m.group(0))
            if a:
                d, b, s, fn = a.groups()
                return f"{int(d, 16):04x}:{int(b, 16):02x}:{int(s, 16):02x}.{int(fn, 16)}"
            return "none"
        return None

    def status_records(self, dom="g"):
        with open(os.path.join(self.root, "run", "vrt", "qemu", f"{dom}.xml")) as f:
            return re.findall(r"<record [^>]*>", f.read())

    def qmp_commands(self):
        return [c.get("execute") for c in self.emu.commands()]

    def check_holds(self, addr):
        """The domain holds VF addr (MAC and VLAN 42 on it, vfio-pci, one
        port, one status record) and every other VF is free and clean."""
        vfs = self.sim.vfs()
        assert (vfs[addr]["driver"], vfs[addr]["mac"], vfs[addr]["vlan"]) == ("vfio-pci", MAC, 42)
        assert self.ports() == 1
        recs = self.status_records()
        assert len(recs) == 1 and f"addr='{addr}'" in recs[0] and "job='none'" in recs[0], recs
        self.check_free(but=addr)

    def check_free(self, but=None):
        vfs = self.sim.vfs()
        for a, vf in vfs.items():
            if a != but:
                assert vf["driver"] == "ixgbevf", (self.name, a, vf)
                assert (vf["mac"], vf["vlan"]) == self.originals[a], (self.name, a, vf)
        if but is None:
            assert self.ports() == 0


def start_g(src):
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{src.emu.binary}</emulator><controller type='usb' model='none'/>"
           f"{POOL_IF}<memballoon model='none'/></devices></domain>")
    src.virsh("define", src.write("g.xml", xml))
    src.virsh("start", "g")


@pytest.fixture
def hosts(tmp_path):
    reason = hostsim_missing()
    require(reason is None, reason)
    made = []
    try:
        src = Host(str(tmp_path), "src")
        made.append(src)
        dst = Host(str(tmp_path), "dst")
        made.append(dst)
        xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
               f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
               f"<devices><emulator>{src.emu.binary}</emulator><controller type='usb' model='none'/>"
               f"{POOL_IF}<memballoon model='none'/></devices></domain>")
        src.virsh("define", src.write("g.xml", xml))
        src.virsh("start", "g")
        yield src, dst
    finally:
        for h in made:
            h.close()


def migrate(src, dst, check=True, background=False):
    """virsh migrate --live g from src to dst; the destination's definition
    names its own emulator (--xml), as two hosts each have their QEMU."""
    live = src.virsh("dumpxml", "g").stdout.replace(src.emu.binary, dst.emu.binary)
    args = ["virsh", "-q", "-c", src.uri, "migrate", "--live", "g", dst.uri, "--xml", dst.write("g-dst.xml", live)]
    if background:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_migration_replugs_a_vf_from_the_destination_pool(hosts):
    src, dst = hosts
    before = src.vf_of()
    src.check_holds(before)

    migrate(src, dst)

    # The guest runs at the destination on one of its VFs, with the
    # interface's MAC and VLAN, plugged before the guest ran there.
    assert dst.state() == "running"
    addr = dst.vf_of()
    assert addr not in (None, "none")
    dst.check_holds(addr)
    cmds = dst.qmp_commands()
    assert "migrate-incoming" in cmds
    add = max(i for i, c in enumerate(dst.emu.commands()) if c.get("execute") == "device_add"
              and c["arguments"].get("driver") == "vfio-pci")
    assert dst.emu.commands()[add]["arguments"]["host"] == addr
    assert add < max(i for i, c in enumerate(cmds) if c == "cont")
    # The source unplugged its VF before the transfer and gave it back.
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate")
    assert src.state() == "shut off"
    src.check_free()


def test_no_free_vf_at_the_destination_keeps_the_source(hosts):
    src, dst = hosts
    before = src.vf_of()
    # Every VF of the destination's pool is in use by its host (an
    # address on its network interface): the pool has none to give.
    for vf in dst.sim.vfs().values():
        dst.sim.run("addr", dst.sim.root, vf["netdev"], "192.0.2.10")

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "none are available" in r.stderr
    # Nothing moved: the source never unplugged its VF and runs on.
    assert src.state() == "running"
    assert src.vf_of() == before
    src.check_holds(before)
    assert "device_del" not in src.qmp_commands()
    assert dst.state() is None
    assert dst.ports() == 0


def test_device_add_refused_at_the_destination_replugs_the_source(hosts):
    src, dst = hosts
    before = src.vf_of()
    dst.emu.set_behaviour({"device_add_fail": {"vfio-pci": {"desc": "vfio: error opening /dev/vfio/42"}}})

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "vfio: error opening /dev/vfio/42" in r.stderr
    # The guest runs at the source with its own VF plugged back.
    assert src.state() == "running"
    assert src.vf_of() == before
    src.check_holds(before)
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate") < max(
        i for i, c in enumerate(scmds) if c == "device_add")
    # The destination's incoming QEMU is gone and its pool is whole again.
    assert dst.state() in (None, "shut off")
    dst.check_free()


def test_aborted_migration_replugs_the_source(hosts):
    src, dst = hosts
    before = src.vf_of()
    # The source's transfer does not end by itself.
    src.emu.set_behaviour({"migrate_hold": True})

    proc = migrate(src, dst, background=True)
    try:
        transfer_started(src, proc)
        # The VF left the guest before the transfer started.
        assert src.vf_of() is None
        src.virsh("domjobabort", "g")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert "canceled by client" in err
    assert src.state() == "running"
    assert src.vf_of() == before
    src.check_holds(before)
    assert dst.state() in (None, "shut off")
    dst.check_free()


def test_a_plain_hostdev_is_refused_as_libvirt_does(hosts):
    src, dst = hosts
    named = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
             "<address domain='0x0000' bus='0x06' slot='0x10' function='0x3'/></source></hostdev>")
    src.virsh("attach-device", "g", src.write("hd.xml", named), "--live")
    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "cannot migrate a domain with <hostdev mode='subsystem' type='pci'>" in r.stderr
    assert src.state() == "running"


# As in libvirt's examples, the pair shares one MAC: the guest's
# net_failover pairs the VF with the standby virtio-net by it.
TEAM_VIRTIO = (f"<interface type='user'><mac address='{MAC}'/><model type='virtio'/>"
               "<teaming type='persistent'/><alias name='ua-team0'/></interface>")


def check_virtio_untouched(host):
    """The pair's virtio half is in host's live XML as defined, with the
    shared MAC, and QEMU there was never asked to remove it."""
    live = host.virsh("dumpxml", "g").stdout
    blocks = re.findall(r"<interface type='user'>.*?</interface>", live, re.S)
    assert len(blocks) == 1, live
    assert f"<mac address='{MAC}'/>" in blocks[0] and "<alias name='ua-team0'/>" in blocks[0], blocks[0]
    assert "<teaming type='persistent'/>" in blocks[0], blocks[0]
    assert len(re.findall(f"<mac address='{MAC}'/>", live)) == 2, live
    dels = [c["arguments"].get("id") for c in host.emu.commands() if c.get("execute") == "device_del"]
    assert "ua-team0" not in dels, dels
TEAM_VF = (f"<interface type='network'><mac address='{MAC}'/><source network='pool'/>"
           "<vlan><tag id='42'/></vlan><teaming type='transient' persistent='ua-team0'/></interface>")


def test_teaming_pair_migrates_with_its_vf_replugged(hosts):
    """A failover pair as libvirt has it: the virtio interface (QEMU's
    failover=on) and the pool's VF standing in for it (failover_pair_id),
    whose VF is plugged at the destination with the pair kept."""
    src, dst = hosts
    src.virsh("destroy", "g")
    src.virsh("undefine", "g")
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{src.emu.binary}</emulator><controller type='usb' model='none'/>"
           f"{TEAM_VIRTIO}{TEAM_VF}<memballoon model='none'/></devices></domain>")
    src.virsh("define", src.write("g.xml", xml))
    src.virsh("start", "g")
    inactive = src.virsh("dumpxml", "--inactive", "g").stdout
    assert "<teaming type='persistent'/>" in inactive
    assert "<teaming type='transient' persistent='ua-team0'/>" in inactive
    before = src.vf_of()
    src.check_holds(before)
    # QEMU's command line carries the pair, as libvirt's does.
    with open(os.path.join(src.root, "var", "log", "vrt", "qemu", "g.log")) as f:
        cmdline = f.read()
    assert re.search(r'"driver":"virtio-net-pci"[^}]*"failover":true[^}]*"id":"ua-team0"', cmdline), cmdline
    assert re.search(r'"driver":"vfio-pci"[^}]*"failover_pair_id":"ua-team0"', cmdline), cmdline

    migrate(src, dst)

    assert dst.state() == "running"
    addr = dst.vf_of()
    dst.check_holds(addr)
    adds = [c["arguments"] for c in dst.emu.commands() if c.get("execute") == "device_add"
            and c["arguments"].get("driver") == "vfio-pci"]
    assert adds[-1]["host"] == addr and adds[-1]["failover_pair_id"] == "ua-team0"
    live = dst.virsh("dumpxml", "g").stdout
    assert "<teaming type='persistent'/>" in live
    assert "<teaming type='transient' persistent='ua-team0'/>" in live
    check_virtio_untouched(dst)
    # the source unplugged the VF, not the virtio interface sharing its MAC
    sdels = [c["arguments"].get("id") for c in src.emu.commands() if c.get("execute") == "device_del"]
    assert len(sdels) == 1 and sdels[0] != "ua-team0", sdels
    src.check_free()


@pytest.mark.parametrize("teaming, error", [
    ("<teaming type='transient'/>", "teaming persistent attribute must be set if teaming type is 'transient'"),
    ("<teaming type='persistent' persistent='ua-x'/>",
     "teaming persistent attribute not allowed if teaming type is 'persistent'"),
    ("<teaming type='primary'/>", "unknown teaming type 'primary'"),
])
def test_teaming_refusals_as_libvirt(hosts, teaming, error):
    src, _ = hosts
    iface = f"<interface type='user'><model type='virtio'/>{teaming}</interface>"
    r = src.virsh("attach-device", "g", src.write("t.xml", iface), "--config", check=False)
    assert r.returncode != 0 and error in r.stderr


FIXED = "0000:06:10.1"
FIXED_SOURCE = "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source>"
FIXED_VF = (f"<interface type='hostdev' managed='yes'><mac address='{MAC}'/>{FIXED_SOURCE}"
            "<vlan><tag id='42'/></vlan><teaming type='transient' persistent='ua-team0'/></interface>")


def restart_g_with(src, devices):
    """g redefined at the source with these devices and started."""
    src.virsh("destroy", "g")
    src.virsh("undefine", "g")
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{src.emu.binary}</emulator><controller type='usb' model='none'/>"
           f"{devices}<memballoon model='none'/></devices></domain>")
    src.virsh("define", src.write("g.xml", xml))
    src.virsh("start", "g")


def check_holds_fixed(host, dom="g"):
    """dom holds the fixed VF (vfio-pci, MAC and VLAN 42 on it, no pool
    port) and every other VF is free and clean."""
    vf = host.sim.vfs()[FIXED]
    assert (vf["driver"], vf["mac"], vf["vlan"]) == ("vfio-pci", MAC, 42), (host.name, vf)
    assert host.vf_of(dom) == FIXED
    assert host.ports() == 0
    host.check_free(but=FIXED)


def test_teaming_pair_with_a_fixed_vf_migrates_as_libvirt_does(hosts):
    """libvirt migrates an <interface type='hostdev'> that is the transient
    half of a teaming pair: the same VF address is plugged at the
    destination, with the interface's MAC, VLAN and pairing."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF)
    check_holds_fixed(src)

    migrate(src, dst)

    assert dst.state() == "running"
    live = dst.virsh("dumpxml", "g").stdout
    iface = re.search(r"<interface type='hostdev'.*?</interface>", live, re.S).group(0)
    assert f"<mac address='{MAC}'/>" in iface
    assert "<teaming type='transient' persistent='ua-team0'/>" in iface
    check_holds_fixed(dst)
    adds = [c["arguments"] for c in dst.emu.commands() if c.get("execute") == "device_add"
            and c["arguments"].get("driver") == "vfio-pci"]
    assert adds[-1]["host"] == FIXED and adds[-1]["failover_pair_id"] == "ua-team0"
    cmds = dst.qmp_commands()
    assert max(i for i, c in enumerate(cmds) if c == "device_add") < max(i for i, c in enumerate(cmds) if c == "cont")
    # The source unplugged it before the transfer and gave it back to the host.
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate")
    sdels = [c["arguments"].get("id") for c in src.emu.commands() if c.get("execute") == "device_del"]
    assert len(sdels) == 1 and sdels[0] != "ua-team0", sdels
    check_virtio_untouched(dst)
    assert src.state() == "shut off"
    src.check_free()


def test_fixed_vf_taken_at_the_destination_keeps_the_source(hosts):
    """The destination's VF of that address belongs to another domain
    there: its prepare refuses the migration before anything moved."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF)
    other = QmpEmu(dst.root, "h", defaults={"device_del_ack_ms": 20, "vfio_sysfs_root": dst.sim.root})
    xml = (f"<domain type='qemu'><name>h</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{other.binary}</emulator><controller type='usb' model='none'/>"
           f"<hostdev mode='subsystem' type='pci' managed='yes'>{FIXED_SOURCE}</hostdev>"
           f"<memballoon model='none'/></devices></domain>")
    dst.virsh("define", dst.write("h.xml", xml))
    dst.virsh("start", "h")
    assert dst.sim.vfs()[FIXED]["driver"] == "vfio-pci"

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert f"PCI device {FIXED} is in use by driver QEMU, domain h" in r.stderr, r.stderr
    # Nothing moved: the source never unplugged its VF and runs on with it.
    assert src.state() == "running"
    check_holds_fixed(src)
    assert "device_del" not in src.qmp_commands()
    assert dst.state() is None
    assert dst.state("h") == "running"
    dst.virsh("destroy", "h")


PLAIN_VF = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
            "<address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source>"
            "<teaming type='transient' persistent='ua-team0'/><alias name='ua-vf0'/></hostdev>")


def check_holds_plain(host):
    """g holds the fixed VF as its plain <hostdev> (vfio-pci; a hostdev has
    no MAC or VLAN of its own: the VF's are the host's), with its pairing
    and alias, and every other VF is free and clean."""
    vf = host.sim.vfs()[FIXED]
    assert (vf["driver"], vf["mac"], vf["vlan"]) == ("vfio-pci",) + host.originals[FIXED], (host.name, vf)
    hd = re.findall(r"<hostdev mode='subsystem' type='pci'.*?</hostdev>", host.virsh("dumpxml", "g").stdout, re.S)
    assert len(hd) == 1 and "function='0x1'" in hd[0], hd
    assert "<teaming type='transient' persistent='ua-team0'/>" in hd[0] and "<alias name='ua-vf0'/>" in hd[0]
    host.check_free(but=FIXED)
    assert host.ports() == 0


def vfio_adds(host):
    return [c["arguments"] for c in host.emu.commands() if c.get("execute") == "device_add"
            and c["arguments"].get("driver") == "vfio-pci"]


def test_teaming_pair_with_a_plain_hostdev_migrates(hosts):
    """libvirt also migrates a plain <hostdev> carrying its own <teaming
    type='transient'>: it leaves the source through the hostdev job before
    the transfer and the same address is plugged at the destination, with
    its pairing, before the guest runs there."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + PLAIN_VF)
    check_holds_plain(src)
    with open(os.path.join(src.root, "var", "log", "vrt", "qemu", "g.log")) as f:
        cmdline = f.read()
    assert re.search(r'"driver":"virtio-net-pci"[^}]*"failover":true[^}]*"id":"ua-team0"', cmdline), cmdline
    assert re.search(r'"driver":"vfio-pci","host":"0000:06:10.1"[^}]*"failover_pair_id":"ua-team0"', cmdline), cmdline

    migrate(src, dst)

    assert dst.state() == "running"
    check_holds_plain(dst)
    add = vfio_adds(dst)[-1]
    assert (add["host"], add["id"], add["failover_pair_id"]) == (FIXED, "ua-vf0", "ua-team0")
    cmds = dst.qmp_commands()
    assert max(i for i, c in enumerate(cmds) if c == "device_add") < max(i for i, c in enumerate(cmds) if c == "cont")
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate")
    assert src.state() == "shut off"
    src.check_free()


def test_plain_hostdev_refused_at_the_destination_replugs_the_source(hosts):
    """The destination's QEMU refuses the VF once the state arrived: the
    source plugs its hostdev back, paired as before, and runs on."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + PLAIN_VF)
    dst.emu.set_behaviour({"device_add_fail": {"vfio-pci": {"desc": "vfio: error opening /dev/vfio/42"}}})

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "cannot plug hostdev ua-vf0 (VF 0000:06:10.1) at the destination" in r.stderr, r.stderr
    assert src.state() == "running"
    check_holds_plain(src)
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate") < max(
        i for i, c in enumerate(scmds) if c == "device_add")
    add = vfio_adds(src)[-1]
    assert (add["host"], add["id"], add["failover_pair_id"]) == (FIXED, "ua-vf0", "ua-team0")
    assert dst.state() in (None, "shut off")
    dst.check_free()


def test_plain_hostdev_taken_at_the_destination_keeps_the_source(hosts):
    """The address is another domain's at the destination: its prepare
    refuses before anything moved; the guest runs on with its hostdev."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + PLAIN_VF)
    other = QmpEmu(dst.root, "h", defaults={"device_del_ack_ms": 20, "vfio_sysfs_root": dst.sim.root})
    xml = (f"<domain type='qemu'><name>h</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices><emulator>{other.binary}</emulator><controller type='usb' model='none'/>"
           f"<hostdev mode='subsystem' type='pci' managed='yes'>{FIXED_SOURCE}</hostdev>"
           f"<memballoon model='none'/></devices></domain>")
    dst.virsh("define", dst.write("h.xml", xml))
    dst.virsh("start", "h")

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert f"PCI device {FIXED} is in use by driver QEMU, domain h" in r.stderr, r.stderr
    assert src.state() == "running"
    check_holds_plain(src)
    assert "device_del" not in src.qmp_commands()
    assert dst.state() is None
    dst.virsh("destroy", "h")


def fewer_vfs(host, n):
    """The host's PF ens1f0 gets n VFs (sriov_numvfs, 0 first as the
    kernel wants): 0000:06:10.n and up no longer exist there."""
    numvfs = os.path.join(host.sim.root, "sys", "bus", "pci", "devices", "0000:06:00.0", "sriov_numvfs")
    for v in ("0", str(n)):
        with open(numvfs, "w") as f:
            f.write(v)
    assert sorted(host.sim.vfs()) == [f"0000:06:10.{k}" for k in range(n)]


def check_refused_before_anything_moved(src, dst, r, error):
    """virsh migrate failed with error; the guest runs on at the source
    with its fixed VF plugged, the destination has no such domain and
    its VFs are all the host's."""
    assert r.returncode != 0
    assert error in r.stderr, r.stderr
    assert src.state() == "running"
    check_holds_fixed(src)
    assert "device_del" not in src.qmp_commands()
    assert "migrate" not in src.qmp_commands()
    assert dst.state() is None
    dst.check_free()


def test_fixed_vf_missing_at_the_destination_keeps_the_source(hosts):
    """The destination host has no PCI device at the VF's address: its
    prepare refuses the migration before anything moved."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF)
    fewer_vfs(dst, 1)

    r = migrate(src, dst, check=False)
    check_refused_before_anything_moved(
        src, dst, r, f"PCI device {FIXED} of interface hostdev0 not found on the destination host")


def test_fixed_vf_address_not_a_vf_at_the_destination_keeps_the_source(hosts):
    """The address is a PCI device of the destination host that is not an
    SR-IOV VF (a NIC without SR-IOV): refused at prepare."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF)
    fewer_vfs(dst, 1)
    dst.sim.run("plain", dst.sim.root, FIXED)
    assert os.path.exists(os.path.join(dst.sim.root, "sys", "bus", "pci", "devices", FIXED))

    r = migrate(src, dst, check=False)
    check_refused_before_anything_moved(
        src, dst, r, f"PCI device {FIXED} of interface hostdev0 is not an SR-IOV VF on the destination host")


def test_fixed_vf_unmanaged_not_on_vfio_at_the_destination_keeps_the_source(hosts):
    """managed='no': the VF must already be on vfio-pci (nodedev-detach);
    the destination's is still on its VF driver: refused at prepare."""
    src, dst = hosts
    src.virsh("nodedev-detach", "pci_0000_06_10_1")
    assert src.sim.vfs()[FIXED]["driver"] == "vfio-pci"
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF.replace("managed='yes'", "managed='no'"))
    assert dst.sim.vfs()[FIXED]["driver"] == "ixgbevf"

    r = migrate(src, dst, check=False)
    check_refused_before_anything_moved(
        src, dst, r, f"PCI device {FIXED} is not bound to vfio-pci (managed='no' needs nodedev-detach first)")


def test_fixed_vf_refused_at_the_destination_replugs_the_source(hosts):
    """The destination's QEMU refuses the VF after the state arrived: the
    source plugs its own VF back and the guest runs on there."""
    src, dst = hosts
    restart_g_with(src, TEAM_VIRTIO + FIXED_VF)
    dst.emu.set_behaviour({"device_add_fail": {"vfio-pci": {"desc": "vfio: error opening /dev/vfio/42"}}})

    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "vfio: error opening /dev/vfio/42" in r.stderr
    assert src.state() == "running"
    check_holds_fixed(src)
    scmds = src.qmp_commands()
    assert scmds.index("device_del") < scmds.index("migrate") < max(
        i for i, c in enumerate(scmds) if c == "device_add")
    add = [c["arguments"] for c in src.emu.commands() if c.get("execute") == "device_add"
           and c["arguments"].get("driver") == "vfio-pci"][-1]
    assert add["host"] == FIXED and add["failover_pair_id"] == "ua-team0"
    # The destination's incoming QEMU is gone and its VF is the host's again.
    assert dst.state() in (None, "shut off")
    dst.check_free()


def test_fixed_vf_without_teaming_is_refused_as_libvirt_does(hosts):
    src, dst = hosts
    restart_g_with(src, FIXED_VF.replace("<teaming type='transient' persistent='ua-team0'/>", ""))
    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    assert "cannot migrate a domain with <interface type='hostdev'>" in r.stderr
    assert src.state() == "running"
    check_holds_fixed(src)
    assert "device_del" not in src.qmp_commands()
    assert dst.state() is None


def transfer_started(src, proc):
    """Waits until the source's transfer runs (its migration job), or
    until virsh ended: a migration that failed before its transfer (its
    unplug refused, say) never shows the job, and its error is the
    failure, not a wait that runs out."""
    wait_for(lambda: proc.poll() is not None or "Unbounded" in src.virsh("domjobinfo", "g", check=False).stdout,
             timeout=60, what="the migration job")
    if proc.poll() is not None:
        out, err = proc.communicate()
        pytest.fail(f"the migration ended before its transfer ran (rc {proc.returncode}): {err}")


@pytest.mark.parametrize("teaming", [False, True], ids=["pool", "teaming-shared-mac"])
def test_source_killed_after_its_unplug_plugs_its_vf_back_at_restart(hosts, teaming):
    """vrtd killed with SIGKILL while the transfer runs (the VF already
    unplugged): the restarted source cancels the transfer, resumes the
    guest and plugs its own VF back from the plan it wrote before the
    unplug; the destination, its client gone, gives its claim back. Also
    with the VF the transient half of a teaming pair sharing its MAC with
    the virtio interface: the VF is plugged back, the virtio one stays."""
    src, dst = hosts
    if teaming:
        restart_g_with(src, TEAM_VIRTIO + TEAM_VF)
    before = src.vf_of()
    src.emu.set_behaviour({"migrate_hold": True})
    proc = migrate(src, dst, background=True)
    try:
        transfer_started(src, proc)
        assert src.vf_of() is None
        src.vrtd.stop(sig=signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    src.emu.set_behaviour({})
    src.vrtd.start()
    assert src.state() == "running"
    assert src.vf_of() == before
    src.check_holds(before)
    if teaming:
        check_virtio_untouched(src)
        live = src.virsh("dumpxml", "g").stdout
        assert "<teaming type='transient' persistent='ua-team0'/>" in live
    wait_for(lambda: dst.state() in (None, "shut off") and dst.ports() == 0, timeout=30,
             what="the destination to give its claim back")
    dst.check_free()


def test_destination_killed_after_its_claim_gives_it_back_at_restart(hosts):
    """The destination's vrtd killed with SIGKILL right after its prepare
    claimed a VF: the source never unplugged its own and runs on; the
    restarted destination stops the incoming QEMU and its pool is whole."""
    src, dst = hosts
    before = src.vf_of()
    dst.vrtd.stop()
    dst.vrtd.env = {"VRT_FAULT_DIE_AT": "migrate:prepared"}
    dst.vrtd.start()
    r = migrate(src, dst, check=False)
    assert r.returncode != 0
    dst.vrtd.proc.wait(timeout=30)
    assert src.state() == "running"
    src.check_holds(before)
    assert "device_del" not in src.qmp_commands()
    dst.vrtd.env = None
    dst.vrtd.start()
    assert dst.state() in (None, "shut off")
    dst.check_free()


@pytest.fixture
def tls_hosts(tmp_path):
    """The two hosts in network namespaces joined by a veth pair, on TLS
    (migrate_env), for a peer-to-peer migration."""
    reason = hostsim_missing()
    require(reason is None, reason)
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    a, b = migrate_env.make_net()
    made = []
    try:
        os.makedirs(tmp_path / "pki")
        certs = migrate_env.make_certs(str(tmp_path / "pki"))
        src = Host(str(tmp_path), "src", tls=(a, certs, certs.src, migrate_env.SRC_IP))
        made.append(src)
        dst = Host(str(tmp_path), "dst", tls=(b, certs, certs.dst, migrate_env.DST_IP))
        made.append(dst)
        start_g(src)
        yield a, src, dst
    finally:
        for h in made:
            h.close()
        a.close()
        b.close()


def test_p2p_migration_replugs_a_vf_from_the_destination_pool(tls_hosts):
    """--p2p: the source's vrtd runs the phases itself over its own TLS
    connection to the destination; the re-plug is the same."""
    ns, src, dst = tls_hosts
    before = src.vf_of()
    live = src.virsh("dumpxml", "g").stdout.replace(src.emu.binary, dst.emu.binary)
    r = ns.run(["virsh", "-q", "-c", src.vrtd.tls, "migrate", "--live", "--p2p", "g", dst.vrtd.tls.split("?")[0],
                "--xml", dst.write("g-dst.xml", live)], timeout=120)
    assert r.returncode == 0, r.stderr
    assert dst.state() == "running"
    addr = dst.vf_of()
    dst.check_holds(addr)
    assert src.state() == "shut off"
    src.check_free()
    assert before


def test_source_killed_after_the_transfer_plugs_its_vf_back_once_settled(tls_hosts):
    """Client-managed over TLS: the source's vrtd killed (-9) once QEMU
    completed the transfer, before the destination's finish, so the
    destination never runs the guest (virsh's cancelled finish stops its
    incoming QEMU). The restarted source cannot tell that alone: it keeps
    the guest paused, without its VF, until the destination's daemon (named
    in the prepare's cookie) says it does not run it; then it resumes the
    guest and plugs its own VF back from the record written before the
    unplug."""
    ns, src, dst = tls_hosts
    before = src.vf_of()
    live = src.virsh("dumpxml", "g").stdout.replace(src.emu.binary, dst.emu.binary)
    src.vrtd.stop()
    os.environ["VRT_FAULT_DIE_AT"] = "migrate:performed"
    try:
        src.vrtd.start()
    finally:
        os.environ.pop("VRT_FAULT_DIE_AT", None)
    r = ns.run(["virsh", "-q", "-c", src.vrtd.tls, "migrate", "--live", "g", dst.vrtd.tls,
                "--xml", dst.write("g-dst.xml", live)], timeout=120)
    assert r.returncode != 0
    assert src.vrtd.proc.wait(timeout=60) == -signal.SIGKILL

    src.vrtd.start()
    wait_for(lambda: src.state() == "running", timeout=120, what="the source's guest to run again")
    assert src.vf_of() == before
    src.check_holds(before)
    assert f"asking qemu+tls://{migrate_env.DST_IP}:16514/system where it runs" in src.vrtd.stderr()
    wait_for(lambda: dst.state() in (None, "shut off") and dst.ports() == 0, timeout=30,
             what="the destination to give its claim back")
    dst.check_free()

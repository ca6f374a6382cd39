"""Guest information through the guest agent: virsh guestinfo and domfsinfo
(virDomainGetGuestInfo, virDomainGetFSInfo) against the QMP emulator's
emulated qemu-ga, with libvirt's typed-parameter names and types, the
guest's disks named by the domain's disk targets, what the agent lacks
left out when everything is asked, and libvirt's errors."""
import pytest

from vrt_fixtures import QmpEmu, import_required, kill_vms_under, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

PCI_DISK = {"pci-controller": {"domain": 0, "bus": 0, "slot": 7, "function": 0},
            "bus-type": "virtio", "bus": 0, "target": 0, "unit": 0, "serial": "SER1", "dev": "/dev/vda1"}
REPLIES = {
    "guest-get-users": [{"user": "alice", "login-time": 1700000000.25}],
    "guest-get-osinfo": {"id": "debian", "name": "Debian GNU/Linux", "pretty-name": "Debian GNU/Linux 12",
                         "version": "12 (bookworm)", "version-id": "12", "machine": "x86_64",
                         "kernel-release": "6.1.0-13-amd64", "kernel-version": "#1 SMP"},
    "guest-get-timezone": {"zone": "CET", "offset": 3600},
    # qemu-ga lists the last mounted first.
    "guest-get-fsinfo": [
        {"name": "vda2", "mountpoint": "/boot", "type": "ext2", "used-bytes": 1000, "total-bytes": 5000,
         "disk": [dict(PCI_DISK, dev="/dev/vda2")]},
        {"name": "vda1", "mountpoint": "/", "type": "ext4", "disk": [PCI_DISK]},
    ],
    "guest-get-disks": [{"name": "/dev/vda", "partition": False, "address": PCI_DISK},
                        {"name": "/dev/vda1", "partition": True, "dependencies": ["/dev/vda"]}],
}
INTERFACES = [{"name": "lo", "hardware-address": "00:00:00:00:00:00",
               "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
              {"name": "eth0", "hardware-address": "52:54:00:aa:bb:cc",
               "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "192.168.1.5", "prefix": 24}]},
              {"name": "eth0:1",
               "ip-addresses": [{"ip-address-type": "ipv6", "ip-address": "fe80::1", "prefix": 64}]}]


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def emu_domain(conn, tmproot, name, agent=None):
    emu = QmpEmu(tmproot, name, behaviour={"agent": agent} if agent else None)
    image = f"{tmproot}/{name}.img"
    open(image, "wb").close()
    conn.defineXML(
        f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        f"<devices><emulator>{emu.binary}</emulator>"
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>"
        "<target dev='vda' bus='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></disk>"
        f"<channel type='unix'><source mode='bind' path='{tmproot}/{name}-ga.sock'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "<memballoon model='none'/></devices></domain>").create()
    return emu


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


def test_guestinfo_all_types(conn, vrtd, tmproot):
    emu_domain(conn, tmproot, "gi1", agent={"hostname": "guest1", "interfaces": INTERFACES, "replies": REPLIES})
    info = conn.lookupByName("gi1").guestInfo(0, 0)
    assert info == {
        "user.count": 1, "user.0.name": "alice", "user.0.login-time": 1700000000250,
        "os.id": "debian", "os.name": "Debian GNU/Linux", "os.pretty-name": "Debian GNU/Linux 12",
        "os.version": "12 (bookworm)", "os.version-id": "12", "os.machine": "x86_64",
        "os.kernel-release": "6.1.0-13-amd64", "os.kernel-version": "#1 SMP",
        "timezone.name": "CET", "timezone.offset": 3600,
        "hostname": "guest1",
        "fs.count": 2,
        "fs.0.name": "vda1", "fs.0.mountpoint": "/", "fs.0.fstype": "ext4", "fs.0.disk.count": 1,
        "fs.0.disk.0.alias": "vda", "fs.0.disk.0.serial": "SER1", "fs.0.disk.0.device": "/dev/vda1",
        "fs.1.name": "vda2", "fs.1.mountpoint": "/boot", "fs.1.fstype": "ext2",
        "fs.1.total-bytes": 5000, "fs.1.used-bytes": 1000, "fs.1.disk.count": 1,
        "fs.1.disk.0.alias": "vda", "fs.1.disk.0.serial": "SER1", "fs.1.disk.0.device": "/dev/vda2",
        "disk.count": 2, "disk.0.name": "/dev/vda", "disk.0.partition": False, "disk.0.serial": "SER1",
        "disk.0.alias": "vda", "disk.1.name": "/dev/vda1", "disk.1.partition": True,
        "disk.1.dependency.count": 1, "disk.1.dependency.0.name": "/dev/vda",
        "if.count": 2, "if.0.name": "lo", "if.0.hwaddr": "00:00:00:00:00:00", "if.0.addr.count": 1,
        "if.0.addr.0.type": "ipv4", "if.0.addr.0.addr": "127.0.0.1", "if.0.addr.0.prefix": 8,
        "if.1.name": "eth0", "if.1.hwaddr": "52:54:00:aa:bb:cc", "if.1.addr.count": 2,
        "if.1.addr.0.type": "ipv4", "if.1.addr.0.addr": "192.168.1.5", "if.1.addr.0.prefix": 24,
        "if.1.addr.1.type": "ipv6", "if.1.addr.1.addr": "fe80::1", "if.1.addr.1.prefix": 64,
    }
    out = virsh(vrtd.uri, "guestinfo", "gi1").stdout
    lines = {tuple(p.strip() for p in ln.split(":", 1)) for ln in out.splitlines() if ":" in ln}
    assert ("user.0.name", "alice") in lines and ("hostname", "guest1") in lines
    assert ("fs.0.disk.0.alias", "vda") in lines and ("disk.1.partition", "yes") in lines
    assert ("timezone.offset", "3600") in lines


def test_guestinfo_chosen_types_and_missing_commands(conn, vrtd, tmproot):
    replies = {k: v for k, v in REPLIES.items() if k != "guest-get-users"}
    emu = emu_domain(conn, tmproot, "gi2", agent={"hostname": "g2", "replies": replies,
                                                  "disabled": ["guest-get-timezone"]})
    out = virsh(vrtd.uri, "guestinfo", "gi2", "--hostname", "--os").stdout
    assert "hostname            : g2" in out and "os.id               : debian" in out
    assert "user.count" not in out and "fs.count" not in out
    sent = [c["execute"] for c in emu.agent_commands() if not c["execute"].startswith("guest-sync")]
    assert sent == ["guest-get-osinfo", "guest-get-host-name"]
    # Everything: what the agent lacks (users) or has disabled (timezone)
    # is left out; asked by name, it is libvirt's error.
    info = conn.lookupByName("gi2").guestInfo(0, 0)
    assert "hostname" in info and "os.id" in info and "fs.count" in info
    assert not any(k.startswith(("user.", "timezone.")) for k in info)
    p = virsh(vrtd.uri, "guestinfo", "gi2", "--user", check=False)
    assert p.returncode != 0
    assert "unable to execute QEMU agent command 'guest-get-users': The command guest-get-users has not been found" in p.stderr
    p = virsh(vrtd.uri, "guestinfo", "gi2", "--timezone", check=False)
    assert p.returncode != 0 and "unable to execute QEMU agent command 'guest-get-timezone'" in p.stderr
    dom = conn.lookupByName("gi2")
    code, msg = error_of(dom.guestInfo, 1 << 10, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG and "unsupported guest information types '0x400'" in msg


def test_domfsinfo(conn, vrtd, tmproot):
    emu_domain(conn, tmproot, "fi1", agent={"replies": REPLIES})
    dom = conn.lookupByName("fi1")
    assert dom.fsInfo() == [("/", "vda1", "ext4", ["vda"]), ("/boot", "vda2", "ext2", ["vda"])]
    rows = [ln.split() for ln in virsh(vrtd.uri, "domfsinfo", "fi1").stdout.splitlines()]
    assert ["/", "vda1", "ext4", "vda"] in rows and ["/boot", "vda2", "ext2", "vda"] in rows


def test_errors(conn, vrtd, tmproot):
    emu = QmpEmu(tmproot, "fe1")
    conn.defineXML(
        "<domain type='qemu'><name>fe1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        f"<devices><emulator>{emu.binary}</emulator><memballoon model='none'/></devices></domain>")
    dom = conn.lookupByName("fe1")
    code, msg = error_of(dom.fsInfo)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "domain is not running" in msg
    dom.create()
    for args in (["domfsinfo", "fe1"], ["guestinfo", "fe1"]):
        p = virsh(vrtd.uri, *args, check=False)
        assert p.returncode != 0 and "QEMU guest agent is not configured" in p.stderr, args
    ro = libvirt.openReadOnly(vrtd.uri)
    try:
        code, _ = error_of(ro.lookupByName("fe1").fsInfo)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
        code, _ = error_of(ro.lookupByName("fe1").guestInfo, 0, 0)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()

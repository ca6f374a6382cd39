"""Access control (access_drivers = [ "polkit" ]) on every kind of object
beyond domains, against a real polkitd (test_polkit.PolkitBus): the rules
file lets vrtpka see one network, storage pool, volume, secret, network
filter, node device and host interface, each recognised by the attributes
libvirt 9.0's polkit access driver sends (network_name and network_uuid,
pool_name, vol_name and vol_key, secret_uuid and secret_usage_volume,
nwfilter_name, node_device_name, interface_name and interface_macaddr). Every
list call, old and new, and every count shows vrtpka only those; lookups of
the others are refused with libvirt's "access denied"; events reach vrtpka
only for what it may see. root (whom polkitd always allows) makes the objects
and sees everything."""
import json
import os
import subprocess
import sys

import pytest

from vrt_fixtures import import_required, require

sys.path.insert(0, os.path.dirname(__file__))
from test_polkit import UID_A, PolkitBus, polkit_vrtd  # noqa: E402

libvirt = import_required("libvirt", "python3-libvirt is not installed")

NETA_UUID = "6d1a9a36-2f0c-4f7e-9b7e-0a1b2c3d4e01"
SECA_UUID = "6d1a9a36-2f0c-4f7e-9b7e-0a1b2c3d4e02"

RULES = """polkit.addRule(function(action, subject) {
    if (action.id == "org.libvirt.unix.manage" || action.id == "org.libvirt.unix.monitor")
        return subject.user == "vrtpka" ? polkit.Result.YES : polkit.Result.NO;
    if (subject.user != "vrtpka" || action.lookup("connect_driver") != "QEMU")
        return polkit.Result.NO;
    var id = action.id.replace("org.libvirt.api.", "");
    var kind = id.substring(0, id.lastIndexOf("."));
    var perm = id.substring(id.lastIndexOf(".") + 1);
    var ok = false;
    if (kind == "connect")
        ok = true;
    else if (kind == "domain")
        ok = action.lookup("domain_name") == "one";
    else if (kind == "network")
        ok = action.lookup("network_name") == "neta" && action.lookup("network_uuid") == "%(neta)s" &&
             perm != "delete";
    else if (kind == "storage-pool")
        ok = action.lookup("pool_name") == "poola";
    else if (kind == "storage-vol")
        ok = action.lookup("pool_name") == "poola" && action.lookup("vol_name") == "a.img" &&
             /\\/a\\.img$/.test(action.lookup("vol_key") || "");
    else if (kind == "secret")
        ok = action.lookup("secret_usage_volume") == "/img/a" && action.lookup("secret_uuid") == "%(seca)s";
    else if (kind == "nwfilter")
        ok = action.lookup("nwfilter_name") == "fa";
    else if (kind == "node-device")
        ok = action.lookup("node_device_name") == "computer";
    else if (kind == "interface")
        ok = action.lookup("interface_name") == "lo" && action.lookup("interface_macaddr") == "00:00:00:00:00:00";
    return ok ? polkit.Result.YES : polkit.Result.NO;
});
""" % {"neta": NETA_UUID, "seca": SECA_UUID}


@pytest.fixture(scope="module")
def pk():
    bus = PolkitBus(RULES)
    yield bus
    bus.close()


def secret_xml(usage, uuid=None):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"<secret ephemeral='no' private='no'>{u}<usage type='volume'><volume>{usage}</volume></usage></secret>"


@pytest.fixture
def objs(pk, tmproot):
    require(os.path.exists("/sys/class/net/lo"), "no loopback interface in sysfs")
    d = polkit_vrtd(pk, tmproot, 'access_drivers = [ "polkit" ]\nlog_level = 2\n')
    c = libvirt.open(d.uri)  # root
    c.networkDefineXML(f"<network><name>neta</name><uuid>{NETA_UUID}</uuid></network>")
    c.networkDefineXML("<network><name>netb</name></network>")
    for name in ("poola", "poolb"):
        path = os.path.join(tmproot, name)
        os.makedirs(path)
        p = c.storagePoolDefineXML(f"<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>")
        p.create()
    pool = c.storagePoolLookupByName("poola")
    for v in ("a.img", "b.img"):
        pool.createXML(f"<volume><name>{v}</name><capacity>1048576</capacity></volume>", 0)
    c.secretDefineXML(secret_xml("/img/a", SECA_UUID))
    c.secretDefineXML(secret_xml("/img/b"))
    for f in ("fa", "fb"):
        c.nwfilterDefineXML(f"<filter name='{f}' chain='root'></filter>")
    for name in ("one", "two"):
        c.defineXML(f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
                    "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>")
    d.root_conn = c
    yield d
    c.close()
    d.stop()


LISTS = r"""
import json, sys, libvirt
c = libvirt.open(sys.argv[1])
pool = c.storagePoolLookupByName("poola")
out = {
    "networks": sorted(n.name() for n in c.listAllNetworks()),
    "networks_old": [c.listNetworks(), c.listDefinedNetworks(), c.numOfNetworks(), c.numOfDefinedNetworks()],
    "pools": sorted(p.name() for p in c.listAllStoragePools()),
    "pools_old": [c.listStoragePools(), c.listDefinedStoragePools(), c.numOfStoragePools(),
                  c.numOfDefinedStoragePools()],
    "vols": sorted(v.name() for v in pool.listAllVolumes()),
    "vols_old": [pool.listVolumes(), pool.numOfVolumes()],
    "secrets": sorted(s.usageID() for s in c.listAllSecrets()),
    "secrets_old": [c.listSecrets(), c.numOfSecrets()],
    "nwfilters": sorted(f.name() for f in c.listAllNWFilters()),
    "nwfilters_old": [c.listNWFilters(), c.numOfNWFilters()],
    "nodedevs": sorted(n.name() for n in c.listAllDevices()),
    "nodedevs_old": [c.listDevices(None, 0), c.numOfDevices(None, 0)],
    "ifaces": sorted(i.name() for i in c.listAllInterfaces()),
    "ifaces_old": [c.listInterfaces(), c.listDefinedInterfaces(), c.numOfInterfaces(), c.numOfDefinedInterfaces()],
    "domains_old": [c.listDefinedDomains(), c.numOfDefinedDomains(), c.listDomainsID(), c.numOfDomains()],
    "stats": sorted(d.name() for d, _ in c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE)),
}
print(json.dumps(out))
"""


def test_lists_and_counts_show_only_what_the_caller_may_see(objs, pk):
    r = pk.as_user(UID_A, ["/usr/bin/python3", "-c", LISTS, objs.uri])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["networks"] == ["neta"]
    assert got["networks_old"] == [[], ["neta"], 0, 1]
    assert got["pools"] == ["poola"]
    assert got["pools_old"] == [["poola"], [], 1, 0]
    assert got["vols"] == ["a.img"]
    assert got["vols_old"] == [["a.img"], 1]
    assert got["secrets"] == ["/img/a"]
    assert got["secrets_old"] == [[SECA_UUID], 1]
    assert got["nwfilters"] == ["fa"]
    assert got["nwfilters_old"] == [["fa"], 1]
    assert got["nodedevs"] == ["computer"]
    assert got["nodedevs_old"] == [["computer"], 1]
    assert got["ifaces"] == ["lo"]
    # The old calls list interfaces "up" and "down" (lo's operstate may be
    # "unknown": in neither); counts are those lists' lengths.
    up, down, nup, ndown = got["ifaces_old"]
    assert set(up + down) <= {"lo"} and [nup, ndown] == [len(up), len(down)], got["ifaces_old"]
    assert got["domains_old"] == [["one"], 1, [], 0]
    assert got["stats"] == ["one"]  # domain.read
    # root sees every object.
    c = objs.root_conn
    assert sorted(n.name() for n in c.listAllNetworks()) == ["neta", "netb"]
    assert c.numOfDefinedNetworks() == 2 and c.numOfStoragePools() == 2 and c.numOfSecrets() == 2
    assert sorted(c.storagePoolLookupByName("poola").listVolumes()) == ["a.img", "b.img"]


REFUSALS = r"""
import sys, libvirt
c = libvirt.open(sys.argv[1])
def tr(name, f):
    try:
        f()
        print(name, "ok")
    except libvirt.libvirtError as e:
        print(name, e.get_error_code(), e.get_error_message())
tr("neta", lambda: c.networkLookupByName("neta").XMLDesc(0))
tr("netb", lambda: c.networkLookupByName("netb"))
tr("netb-uuid", lambda: c.networkLookupByUUIDString(sys.argv[2]))
tr("neta-undefine", lambda: c.networkLookupByName("neta").undefine())
tr("nosuch", lambda: c.networkLookupByName("nosuch"))
tr("poola", lambda: c.storagePoolLookupByName("poola").info())
tr("poolb", lambda: c.storagePoolLookupByName("poolb"))
tr("a.img", lambda: c.storagePoolLookupByName("poola").storageVolLookupByName("a.img").info())
tr("b.img", lambda: c.storagePoolLookupByName("poola").storageVolLookupByName("b.img"))
tr("b.img-path", lambda: c.storageVolLookupByPath(sys.argv[3]))
tr("seca", lambda: c.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/img/a").XMLDesc(0))
tr("secb", lambda: c.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/img/b"))
tr("fa", lambda: c.nwfilterLookupByName("fa").XMLDesc(0))
tr("fb", lambda: c.nwfilterLookupByName("fb"))
tr("computer", lambda: c.nodeDeviceLookupByName("computer").XMLDesc(0))
tr("lo", lambda: c.interfaceLookupByName("lo").XMLDesc(0))
if sys.argv[4]:
    tr("other-dev", lambda: c.nodeDeviceLookupByName(sys.argv[4]))
if sys.argv[5]:
    tr("other-iface", lambda: c.interfaceLookupByName(sys.argv[5]))
# A new definition is asked about with the name it gives.
dom = ("<domain type='qemu'><name>%s</name>%s<memory unit='MiB'>128</memory><vcpu>1</vcpu>"
       "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>")
tr("define-one", lambda: c.defineXML(dom % ("one", "<uuid>%s</uuid>" % sys.argv[7])))
tr("define-three", lambda: c.defineXML(dom % ("three", "")))
tr("define-neta", lambda: c.networkDefineXML("<network><name>neta</name><uuid>%s</uuid></network>" % sys.argv[6]))
tr("define-netc", lambda: c.networkDefineXML("<network><name>netc</name></network>"))
"""


def test_calls_on_objects_the_caller_may_not_touch_are_refused(objs, pk):
    c = objs.root_conn
    netb = c.networkLookupByName("netb").UUIDString()
    bpath = c.storagePoolLookupByName("poola").storageVolLookupByName("b.img").path()
    other_dev = next((n.name() for n in c.listAllDevices() if n.name() != "computer"), "")
    other_iface = next((i.name() for i in c.listAllInterfaces() if i.name() != "lo"), "")
    r = pk.as_user(UID_A, ["/usr/bin/python3", "-c", REFUSALS, objs.uri, netb, bpath, other_dev, other_iface,
                           NETA_UUID, c.lookupByName("one").UUIDString()])
    assert r.returncode == 0, r.stderr
    got = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    denied = "88 access denied: 'QEMU' denied access"
    for ok in ("neta", "poola", "a.img", "seca", "fa", "computer", "lo", "define-one", "define-neta"):
        assert got[ok] == "ok", (ok, got[ok])
    for no in ("netb", "netb-uuid", "neta-undefine", "poolb", "b.img", "b.img-path", "secb", "fb", "other-dev",
               "other-iface", "define-three", "define-netc"):
        assert got.get(no, denied) == denied, (no, got[no])
    # libvirt finds the object before it asks: an unknown one is "not found".
    assert got["nosuch"].startswith("43 "), got["nosuch"]
    # The daemon asked polkitd the object's own action.
    log = objs.stderr()
    assert objs.root_conn.listDefinedDomains().count("three") == 0
    assert "org.libvirt.api.network.delete" in log and "org.libvirt.api.storage-vol.getattr" in log


EVENTS = r"""
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(sys.argv[1])
seen = []
def net(conn, n, event, detail, opaque): seen.append(("network", n.name(), event))
def pool(conn, p, event, detail, opaque): seen.append(("pool", p.name(), event))
def secret(conn, s, event, detail, opaque): seen.append(("secret", s.usageID(), event))
def dom(conn, d, event, detail, opaque): seen.append(("domain", d.name(), event))
c.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, net, None)
c.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, pool, None)
c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE, secret, None)
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, dom, None)
print("ready", flush=True)
# root acts on the objects vrtpka may not see first, then on the others:
# once those arrive, any event of the first would have come before.
want = {("network", "neta"), ("pool", "poola"), ("secret", "/img/a"), ("domain", "one")}
while not want <= {(k, n) for k, n, e in seen}:
    libvirt.virEventRunDefaultImpl()
print(sorted(seen), flush=True)
"""


def test_events_reach_the_caller_only_for_what_it_may_see(objs, pk):
    env = dict(os.environ, HOME=pk.dir, DBUS_SYSTEM_BUS_ADDRESS=pk.address)
    p = subprocess.Popen(["nsenter", "-t", str(pk.proc.pid), "-m", "setpriv", f"--reuid={UID_A}",
                          f"--regid={UID_A}", "--clear-groups", "/usr/bin/python3", "-c", EVENTS, objs.uri],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        c = objs.root_conn
        c.networkLookupByName("netb").undefine()
        c.storagePoolLookupByName("poolb").destroy()
        c.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/img/b").undefine()
        c.lookupByName("two").undefine()
        c.networkLookupByName("neta").undefine()
        c.storagePoolLookupByName("poola").destroy()
        c.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/img/a").undefine()
        c.lookupByName("one").undefine()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out.strip() == str(sorted([
        ("domain", "one", libvirt.VIR_DOMAIN_EVENT_UNDEFINED),
        ("network", "neta", libvirt.VIR_NETWORK_EVENT_UNDEFINED),
        ("pool", "poola", libvirt.VIR_STORAGE_POOL_EVENT_STOPPED),
        ("secret", "/img/a", libvirt.VIR_SECRET_EVENT_UNDEFINED),
    ])), out

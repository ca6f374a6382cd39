"""The *_VALIDATE flags (virsh define --validate, create --validate,
net-define --validate, pool-define --validate, vol-create --validate,
snapshot-create --validate, cpu-compare --validate): the document is
checked against libvirt's RELAX NG schema (Debian's libvirt schemas)
before it is read, as libvirt checks it. A document the schema refuses
gets libvirt's VIR_ERR_XML_INVALID_SCHEMA with the same words from vrtd
as from the tests' private libvirtd; without the flag vrtd's own parser
answers (another error), and a valid document goes through."""
import os

import pytest

from vrt_fixtures import import_required, require

libvirt = import_required("libvirt", "python3-libvirt is not installed")

SCHEMAS = "/usr/share/libvirt/schemas"

DOMAIN = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
          "<os><type arch='x86_64' machine='pc'>hvm</type></os>{extra}"
          "<devices><memballoon model='none'/></devices></domain>")
NETWORK = "<network><name>{name}</name>{extra}<bridge name='vrtv{name}'/></network>"
POOL = "<pool type='dir'><name>{name}</name>{extra}<target><path>{path}</path></target></pool>"
VOL = "<volume><name>{name}</name><capacity unit='M'>1</capacity>{extra}<target><format type='raw'/></target></volume>"
SNAP = "<domainsnapshot><name>{name}</name>{extra}</domainsnapshot>"
CPU = "<cpu><arch>x86_64</arch><model>qemu64</model>{extra}</cpu>"
# An element no schema has: refused by the schema with the flag, by the
# reader (another code) without it.
BOGUS = "<vrtbogus/>"


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), e.value.get_error_message()


@pytest.fixture
def conns(vrtd, libvirtd, tmp_path):
    require(os.path.exists(os.path.join(SCHEMAS, "domain.rng")), "libvirt's schemas are not installed")
    v = libvirt.open(vrtd.uri)
    lv = libvirt.open(libvirtd.uri)
    yield v, lv
    for c in (v, lv):
        c.close()


def same_refusal(v, lv, call):
    """call(conn) refused alike by both daemons, with libvirt's code."""
    got = error_of(call, v)
    want = error_of(call, lv)
    assert want[0] == libvirt.VIR_ERR_XML_INVALID_SCHEMA, want
    assert got == want
    return got


def test_domain_define_and_create_validate(conns):
    v, lv = conns
    bad = DOMAIN.format(name="val1", extra=BOGUS)
    code, msg = same_refusal(v, lv, lambda c: c.defineXMLFlags(bad, libvirt.VIR_DOMAIN_DEFINE_VALIDATE))
    assert msg.startswith("XML document failed to validate against schema: Unable to validate doc against "
                          f"{SCHEMAS}/domain.rng")
    same_refusal(v, lv, lambda c: c.createXML(bad, libvirt.VIR_DOMAIN_START_VALIDATE | libvirt.VIR_DOMAIN_START_PAUSED))
    # Without the flag, vrtd's reader refuses the element (its own words).
    assert error_of(v.defineXML, bad)[0] != libvirt.VIR_ERR_XML_INVALID_SCHEMA
    assert "val1" not in v.listDefinedDomains()
    # A valid document goes through with the flag.
    dom = v.defineXMLFlags(DOMAIN.format(name="val2", extra=""), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    assert dom.name() == "val2"
    dom.undefine()


def test_network_define_and_create_validate(conns):
    v, lv = conns
    bad = NETWORK.format(name="vn1", extra=BOGUS)
    same_refusal(v, lv, lambda c: c.networkDefineXMLFlags(bad, libvirt.VIR_NETWORK_DEFINE_VALIDATE))
    same_refusal(v, lv, lambda c: c.networkCreateXMLFlags(bad, libvirt.VIR_NETWORK_CREATE_VALIDATE))
    assert error_of(v.networkDefineXML, bad)[0] != libvirt.VIR_ERR_XML_INVALID_SCHEMA
    net = v.networkDefineXMLFlags(NETWORK.format(name="vn2", extra=""), libvirt.VIR_NETWORK_DEFINE_VALIDATE)
    net.undefine()


def test_pool_and_volume_validate(conns, tmp_path):
    v, lv = conns
    bad = POOL.format(name="vp1", extra=BOGUS, path=tmp_path)
    same_refusal(v, lv, lambda c: c.storagePoolDefineXML(bad, libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE))
    pools = []
    for c, d in ((v, "v"), (lv, "lv")):
        os.makedirs(tmp_path / d)
        p = c.storagePoolCreateXML(POOL.format(name="vp2", extra="", path=tmp_path / d), 0)
        pools.append(p)
    try:
        badvol = VOL.format(name="vv1", extra=BOGUS)
        got = error_of(pools[0].createXML, badvol, libvirt.VIR_STORAGE_VOL_CREATE_VALIDATE)
        want = error_of(pools[1].createXML, badvol, libvirt.VIR_STORAGE_VOL_CREATE_VALIDATE)
        assert want[0] == libvirt.VIR_ERR_XML_INVALID_SCHEMA and got == want
        vol = pools[0].createXML(VOL.format(name="vv2", extra=""), libvirt.VIR_STORAGE_VOL_CREATE_VALIDATE)
        assert vol.name() == "vv2"
        vol.delete(0)
    finally:
        for p in pools:
            p.destroy()


def test_snapshot_validate(conns):
    v, lv = conns
    doms = [c.defineXML(DOMAIN.format(name="vs1", extra="")) for c in (v, lv)]
    try:
        bad = SNAP.format(name="s1", extra=BOGUS)
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE
        got = error_of(doms[0].snapshotCreateXML, bad, flags)
        want = error_of(doms[1].snapshotCreateXML, bad, flags)
        assert want[0] == libvirt.VIR_ERR_XML_INVALID_SCHEMA and got == want
        assert doms[0].snapshotNum() == 0
    finally:
        for d in doms:
            d.undefine()


def test_cpu_compare_validate(conns):
    v, lv = conns
    bad = CPU.format(extra=BOGUS)
    flag = libvirt.VIR_CONNECT_COMPARE_CPU_VALIDATE_XML
    same_refusal(v, lv, lambda c: c.compareCPU(bad, flag))
    assert v.compareCPU(CPU.format(extra=""), flag) == lv.compareCPU(CPU.format(extra=""), flag)

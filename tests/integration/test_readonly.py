"""The read-only socket is world-accessible: a call made on it, or on a
connection opened with VIR_CONNECT_RO, may read but never change state or
reveal secrets. These tests go over the procedure table
(protocol/remote_procs.tsv): every procedure not marked read-only is refused
with VIR_ERR_OPERATION_DENIED, and every read-only one that has a refused
flag (ro:secret=MASK, ro:write=MASK) is refused with each flag of its mask,
with libvirt 9.0's messages, before any lookup of the object it names. The
calls are sent raw (wire.py), because libvirt's client library refuses some
of them itself on a read-only connection: the daemon must not rely on that."""
import os
import struct

import pytest

import wire
from vrt_fixtures import SRC, import_required, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

TSV = os.path.join(SRC, "protocol", "remote_procs.tsv")
VIR_CONNECT_RO = 1
API_UPPER = {"XML", "UUID", "ID", "URI"}


def load_procs():
    procs = []
    with open(TSV) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                continue  # the program line
            cols = line.split("\t")
            num, name, args, ret, access, prio, family, _server = cols[:8]
            if ret == "msg":
                continue  # events the server sends, never calls
            mask, secret = 0, False
            if access.startswith("ro:"):
                kind, value = access[3:].split("=")
                mask, secret = int(value, 0), kind == "secret"
                access = "ro"
            procs.append(dict(num=int(num), name=name, args=args, ro=(access == "ro"), mask=mask, secret=secret,
                              api=cols[8] if len(cols) > 8 else None))
    return procs


PROCS = load_procs()


def api(name):
    return "vir" + "".join(w if w in API_UPPER else w.capitalize() for w in name.split("_"))


def open_wire(sock, flags=0):
    w = wire.Wire(sock)
    m = w.call(1, struct.pack(">I", 1) + wire.xdr_string("qemu:///system") + struct.pack(">I", flags))
    assert m["status"] == wire.OK, wire.error_of(m)
    return w


def call_zero_args(w, proc, flags=None, after=0):
    """Calls proc with all-zero arguments (empty strings, zero uuids, no list
    items), the flags member (the last one, or followed by `after` bytes of
    other members) set to flags when given: the shortest all-zero payload
    that decodes. The reply of that call."""
    for n in range(0, 256, 4):
        payload = bytearray(n)
        if flags is not None:
            if n < 4 + after:
                continue
            payload[n - 4 - after:n - after] = struct.pack(">I", flags)
        m = w.call(proc, bytes(payload))
        if m["status"] == wire.ERROR:
            code, _, msg = wire.error_of(m)
            if code == libvirt.VIR_ERR_RPC and ("payload" in msg or "decode" in msg or "arguments" in msg):
                continue
        return m
    raise AssertionError(f"no all-zero payload decodes for procedure {proc}")


def assert_denied(m, message):
    assert m["status"] == wire.ERROR
    code, _, msg = wire.error_of(m)
    assert (code, msg) == (libvirt.VIR_ERR_OPERATION_DENIED, f"operation forbidden: {message}")


@pytest.fixture(params=["ro-socket", "ro-flag"])
def ro_wire(request, vrtd):
    """A read-only connection: on the read-only socket (opened without
    VIR_CONNECT_RO, which that socket does not need), or on the read-write
    socket opened with VIR_CONNECT_RO."""
    if request.param == "ro-socket":
        w = open_wire(vrtd.sock_ro)
    else:
        w = open_wire(vrtd.sock, VIR_CONNECT_RO)
    yield w
    w.close()


def test_table_has_both_kinds():
    assert any(p["ro"] for p in PROCS) and any(not p["ro"] for p in PROCS)
    assert [p["name"] for p in PROCS if p["mask"]] == ["DOMAIN_GET_XML_DESC", "DOMAIN_SNAPSHOT_GET_XML_DESC",
                                                       "DOMAIN_GET_VCPUS_FLAGS", "DOMAIN_MANAGED_SAVE_GET_XML_DESC"]


def test_write_procedures_refused_read_only(ro_wire):
    refused = 0
    for p in PROCS:
        if p["ro"]:
            continue
        assert_denied(call_zero_args(ro_wire, p["num"]), f"read only access prevents {p['api'] or api(p['name'])}")
        refused += 1
    assert refused > 30


def test_refused_flags_refused_read_only(ro_wire, vrtd):
    rw = open_wire(vrtd.sock)
    for p in PROCS:
        if not p["mask"]:
            continue
        message = f"{api(p['name'])} with secure flag" if p["secret"] else \
            f"read only access prevents {p['api'] or api(p['name'])}"
        for bit in range(32):
            flag = 1 << bit
            m = call_zero_args(ro_wire, p["num"], flags=flag)
            if flag & p["mask"]:
                assert_denied(m, message)
                # The same call is not refused for access on a read-write
                # connection (it fails for the zero uuid instead).
                m = call_zero_args(rw, p["num"], flags=flag)
                assert m["status"] == wire.ERROR
                assert wire.error_of(m)[0] != libvirt.VIR_ERR_OPERATION_DENIED
            elif m["status"] == wire.ERROR:
                assert wire.error_of(m)[0] != libvirt.VIR_ERR_OPERATION_DENIED, (p["name"], flag)
    rw.close()


DOMAIN = """<domain type='qemu'><name>secretive</name><memory>65536</memory>
<os><type arch='x86_64'>hvm</type></os>
<devices><graphics type='vnc' port='-1' passwd='s3cr3t-pw'/></devices></domain>"""


def test_vnc_password_only_on_read_write(vrtd):
    rw = libvirt.open(vrtd.uri)
    dom = rw.defineXML(DOMAIN)
    assert "s3cr3t-pw" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    # libvirt.open, not openReadOnly: the client library then sends the
    # call and the daemon alone decides.
    ro = libvirt.open(vrtd.uri_ro)
    rod = ro.lookupByName("secretive")
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE, libvirt.VIR_DOMAIN_XML_UPDATE_CPU):
        assert "passwd" not in rod.XMLDesc(flags)
    for flags in (libvirt.VIR_DOMAIN_XML_SECURE, libvirt.VIR_DOMAIN_XML_MIGRATABLE,
                  libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE):
        with pytest.raises(libvirt.libvirtError) as e:
            rod.XMLDesc(flags)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        assert "virDomainGetXMLDesc with secure flag" in e.value.get_error_message()
    with pytest.raises(libvirt.libvirtError) as e:
        rod.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_GUEST)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    assert rod.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 1
    ro.close()
    rw.close()


def test_virsh_on_read_only_socket(vrtd):
    rw = libvirt.open(vrtd.uri)
    rw.defineXML(DOMAIN)
    rw.close()
    p = virsh(vrtd.uri_ro, "dumpxml", "secretive", "--security-info", check=False)
    assert p.returncode != 0 and "s3cr3t-pw" not in p.stdout
    assert "virDomainGetXMLDesc with secure flag" in p.stderr
    p = virsh(vrtd.uri_ro, "dumpxml", "secretive")
    assert "<graphics type='vnc'" in p.stdout and "s3cr3t-pw" not in p.stdout
    p = virsh(vrtd.uri_ro, "undefine", "secretive", check=False)
    assert p.returncode != 0 and "read only access prevents virDomainUndefine" in p.stderr


# libvirt's public API refuses a read-only call before any driver, with the
# origin of its file: libvirt-domain.c and libvirt-host.c VIR_FROM_DOMAIN,
# libvirt-network.c VIR_FROM_NETWORK, libvirt-nodedev.c VIR_FROM_NODEDEV.
RO_ORIGIN = {"connect": libvirt.VIR_FROM_DOMAIN, "domain": libvirt.VIR_FROM_DOMAIN,
             "network": libvirt.VIR_FROM_NETWORK, "nodedev": libvirt.VIR_FROM_NODEDEV,
             "interface": libvirt.VIR_FROM_INTERFACE, "nwfilter": libvirt.VIR_FROM_NWFILTER,
             "secret": libvirt.VIR_FROM_SECRET, "snapshot": libvirt.VIR_FROM_DOMAIN_SNAPSHOT}
RO_ORIGIN["storage"] = libvirt.VIR_FROM_STORAGE  # libvirt-storage.c


def families():
    out = {}
    with open(TSV) as f:
        for line in f:
            if line.strip() and not line.startswith(("#", "@")):
                cols = line.rstrip("\n").split("\t")
                out[int(cols[0])] = cols[6]
    return out


def test_read_only_refusal_origin(ro_wire):
    family = families()
    seen = set()
    for p in PROCS:
        if p["ro"]:
            continue
        m = call_zero_args(ro_wire, p["num"])
        code, origin, _ = wire.error_of(m)
        assert code == libvirt.VIR_ERR_OPERATION_DENIED
        assert origin == RO_ORIGIN[family[p["num"]]], p["name"]
        seen.add(family[p["num"]])
    for p in PROCS:
        if p["mask"]:
            m = call_zero_args(ro_wire, p["num"], flags=p["mask"] & -p["mask"])
            assert wire.error_of(m)[:2] == (libvirt.VIR_ERR_OPERATION_DENIED, RO_ORIGIN[family[p["num"]]]), p["name"]
    assert {"domain", "network", "nodedev"} <= seen


def test_read_only_refusal_origin_python(vrtd):
    rw = libvirt.open(vrtd.uri)
    rw.defineXML(DOMAIN)
    rw.close()
    ro = libvirt.open(vrtd.uri_ro)
    dom = ro.lookupByName("secretive")
    for call, origin in ((dom.undefine, libvirt.VIR_FROM_DOMAIN),
                         (lambda: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), libvirt.VIR_FROM_DOMAIN),
                         (lambda: ro.networkDefineXML("<network><name>n</name></network>"), libvirt.VIR_FROM_NETWORK)):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        assert e.value.get_error_domain() == origin
    ro.close()

"""Host interfaces through vrtd with Debian's virsh and python3-libvirt, as
libvirt's (read-only) udev interface backend shows them: vrtd runs in a
network and mount namespace of the test's own (its own sysfs) holding a
bridge with a veth port and the veth's peer, so the host's own interfaces
are never touched. virsh iface-list (--all, --inactive), iface-dumpxml
(valid against libvirt's interface schema), iface-mac, iface-name, the
counts and lists of the older calls, and libvirt's errors: an unknown
interface, and "not supported" for define, undefine, start and destroy."""
import os
import shutil
import subprocess

import pytest

import vrt_fixtures
from vrt_fixtures import Vrtd, import_required, require, run, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")

WRAPPER = """#!/bin/sh
exec unshare -n -m sh -c 'mount -t sysfs sysfs /sys || exit 1
ip link add br-t type bridge forward_delay 0 || exit 1
ip link add vt0 type veth peer name vt1 || exit 1
ip link set vt1 master br-t && ip link set vt0 address 52:54:00:aa:bb:01 && ip link set vt0 mtu 1400
ip link set br-t address 52:54:00:aa:bb:02 && ip link set vt1 address 52:54:00:aa:bb:03
ip link set vt0 up && ip link set vt1 up && ip link set br-t up
for i in $(seq 100); do [ "$(cat /sys/class/net/br-t/operstate)" = up ] && break; sleep 0.1; done
exec "$@"' wrap "$@"
"""


def netns_usable():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    p = subprocess.run(["unshare", "-n", "-m", "sh", "-c",
                        "mount -t sysfs sysfs /sys && ip link add br-p type bridge && ip link add vp0 type veth peer name vp1"],
                       capture_output=True)
    return p.returncode == 0


class NsVrtd(Vrtd):
    """vrtd started through the wrapper that makes its namespaces."""

    def __init__(self, root, wrapper):
        super().__init__(root)
        self.wrapper = wrapper

    def start(self, wait=True):
        args = [self.wrapper, vrt_fixtures.VRTD, "--root", self.root]
        vrt_fixtures._sanitizer_logs.setdefault(self.log, os.path.getsize(self.log) if os.path.exists(self.log) else 0)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        if wait:
            vrt_fixtures.wait_for(lambda: self._connectable() or self.proc.poll() is not None, what="vrtd's sockets")
            assert self.proc.poll() is None, f"vrtd exited: {self.stderr()}"
        return self


@pytest.fixture
def nsvrtd(tmproot):
    require(netns_usable(), "needs root, unshare and ip with bridge and veth links in a new network namespace")
    wrapper = os.path.join(tmproot, "vrtd-in-netns")
    with open(wrapper, "w") as f:
        f.write(WRAPPER)
    os.chmod(wrapper, 0o755)
    d = NsVrtd(tmproot, wrapper).start()
    yield d
    d.stop()


@pytest.fixture
def conn(nsvrtd):
    c = libvirt.open(nsvrtd.uri)
    yield c
    c.close()


def rows(out):
    return [line.split() for line in out.strip().splitlines() if line.strip()]


def test_iface_list(nsvrtd):
    # vt1 is a port of br-t: not listed, as with libvirt's udev backend.
    assert rows(virsh(nsvrtd.uri, "iface-list", "--all").stdout) == [
        ["br-t", "active", "52:54:00:aa:bb:02"],
        ["lo", "inactive", "00:00:00:00:00:00"],
        ["vt0", "active", "52:54:00:aa:bb:01"],
    ]
    assert [r[0] for r in rows(virsh(nsvrtd.uri, "iface-list").stdout)] == ["br-t", "vt0"]
    assert [r[0] for r in rows(virsh(nsvrtd.uri, "iface-list", "--inactive").stdout)] == ["lo"]
    # A read-only connection lists too.
    assert [r[0] for r in rows(virsh(nsvrtd.uri_ro, "iface-list", "--all").stdout)] == ["br-t", "lo", "vt0"]


def test_iface_dumpxml_mac_and_name(nsvrtd, tmp_path):
    vt0 = virsh(nsvrtd.uri, "iface-dumpxml", "vt0").stdout
    assert vt0.strip() == ("<interface type='ethernet' name='vt0'>\n  <mtu size='1400'/>\n"
                           "  <link speed='10000' state='up'/>\n  <mac address='52:54:00:aa:bb:01'/>\n"
                           "</interface>")
    br = virsh(nsvrtd.uri, "iface-dumpxml", "br-t").stdout
    assert br.strip() == ("<interface type='bridge' name='br-t'>\n  <mtu size='1500'/>\n"
                          "  <bridge stp='off' delay='0'>\n    <interface type='ethernet' name='vt1'>\n"
                          "      <link speed='10000' state='up'/>\n      <mac address='52:54:00:aa:bb:03'/>\n"
                          "    </interface>\n  </bridge>\n</interface>")
    validate = shutil.which("virt-xml-validate")
    require(validate is not None, "virt-xml-validate is not installed (libvirt-clients)")
    for name, xml in (("vt0", vt0), ("br-t", br)):
        path = tmp_path / f"{name}.xml"
        path.write_text(xml)
        run([validate, str(path), "interface"])
    assert virsh(nsvrtd.uri, "iface-mac", "vt0").stdout.strip() == "52:54:00:aa:bb:01"
    assert virsh(nsvrtd.uri, "iface-name", "52:54:00:AA:BB:01").stdout.strip() == "vt0"


def test_older_calls_and_errors(conn):
    assert conn.numOfInterfaces() == 2
    assert sorted(conn.listInterfaces()) == ["br-t", "vt0"]
    assert conn.numOfDefinedInterfaces() == 1
    assert conn.listDefinedInterfaces() == ["lo"]
    assert conn.interfaceLookupByName("vt0").isActive() == 1
    assert conn.interfaceLookupByName("lo").isActive() == 0
    assert conn.interfaceLookupByMACString("52:54:00:aa:bb:02").name() == "br-t"

    with pytest.raises(libvirt.libvirtError) as e:
        conn.interfaceLookupByName("nope")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE
    assert e.value.get_error_domain() == libvirt.VIR_FROM_INTERFACE
    assert "couldn't find interface named 'nope'" in e.value.get_error_message()

    iface = conn.interfaceLookupByName("vt0")
    for call, api in ((lambda: conn.interfaceDefineXML("<interface type='ethernet' name='x'/>"),
                       "virInterfaceDefineXML"),
                      (iface.undefine, "virInterfaceUndefine"),
                      (iface.create, "virInterfaceCreate"),
                      (iface.destroy, "virInterfaceDestroy")):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
        assert f"this function is not supported by the connection driver: {api}" in e.value.get_error_message()
    # Nothing changed.
    assert conn.interfaceLookupByName("vt0").isActive() == 1

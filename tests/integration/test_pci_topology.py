"""PCI topology controllers on a running QEMU (TCG, no guest).

A q35 domain with a PCIe switch (upstream port in a root port, two
downstream ports), a DMI bridge with a pci-bridge behind it and a
pcie-expander-bus starts: QEMU's own view (query-pci) shows each bridge
on the bus the definition gave it, the expander's root bus numbered with
its busNr, and the virtio interface in the first downstream port. An
ethernet interface with a <script> is refused at start by name.
"""
import json

import libvirt
import pytest

from vrt_fixtures import virsh, wait_for

DOMAIN = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type></os>
<devices>
<controller type='pci' index='1' model='pcie-root-port'/>
<controller type='pci' index='2' model='pcie-switch-upstream-port'/>
<controller type='pci' index='3' model='pcie-switch-downstream-port'/>
<controller type='pci' index='4' model='pcie-switch-downstream-port'><target hotplug='off'/></controller>
<controller type='pci' index='5' model='dmi-to-pci-bridge'/>
<controller type='pci' index='6' model='pci-bridge'/>
<controller type='pci' index='7' model='pcie-expander-bus'><target busNr='200'/></controller>
<controller type='usb' model='none'/>
<interface type='user'><mac address='52:54:00:aa:00:01'/><model type='virtio'/></interface>
<memballoon model='none'/>
</devices></domain>"""


def qmp(uri, name, command):
    return json.loads(virsh(uri, "qemu-monitor-command", name, json.dumps({"execute": command})).stdout)["return"]


def walk(devices, found):
    for d in devices:
        found.append(d)
        bridge = d.get("pci_bridge")
        if bridge and bridge.get("devices"):
            walk(bridge["devices"], found)


def test_switch_bridges_and_expander_reach_qemu(vrtd, tmp_path):
    path = tmp_path / "topo.xml"
    path.write_text(DOMAIN.format(name="topo"))
    virsh(vrtd.uri, "define", str(path))
    try:
        xml = virsh(vrtd.uri, "dumpxml", "topo", "--inactive").stdout
        assert "<model name='x3130-upstream'/>" in xml
        assert "<target chassis='4' port='0x1' hotplug='off'/>" in xml
        assert "<target chassisNr='6'/>" in xml
        assert "<target busNr='200'/>" in xml
        virsh(vrtd.uri, "start", "topo")
        aliases = ("pci.1", "pci.2", "pci.3", "pci.4", "pci.5", "pci.6", "pci.7", "net0")

        def look():
            buses = qmp(vrtd.uri, "topo", "query-pci")
            found = []
            for b in buses:
                walk(b["devices"], found)
            return buses, {d.get("qdev_id"): d for d in found}

        # query-pci finds what sits behind a bridge by the bus number the
        # firmware gives the bridge as it enumerates the buses: on a busy
        # machine SeaBIOS may not have reached them yet
        wait_for(lambda: all(a in look()[1] for a in aliases), timeout=60,
                 what=f"every bridge in query-pci: {sorted(str(k) for k in look()[1])}")
        buses, ids = look()
        numbers = {b["bus"] for b in buses}
        # pxb-pcie makes a root bus of its own, numbered busNr
        assert 200 in numbers
        assert ids["pci.5"]["slot"] == 0x1e
        assert ids["pci.4"]["slot"] == 1
        # the interface sits behind the first downstream port
        down = ids["pci.3"]["pci_bridge"]["devices"]
        assert [d.get("qdev_id") for d in down] == ["net0"]
    finally:
        virsh(vrtd.uri, "destroy", "topo", check=False)
        virsh(vrtd.uri, "undefine", "topo", check=False)


def test_ethernet_script_refused_at_start(vrtd):
    conn = libvirt.open(vrtd.uri)
    try:
        dom = conn.defineXML("<domain type='qemu'><name>ethscript</name><memory unit='MiB'>64</memory>"
                             "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                             "<interface type='ethernet'><script path='/etc/qemu-ifup'/><model type='virtio'/>"
                             "</interface></devices></domain>")
        try:
            assert "<script path='/etc/qemu-ifup'/>" in dom.XMLDesc(0)
            with pytest.raises(libvirt.libvirtError) as err:
                dom.create()
            assert err.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
            assert "<script> is not supported" in str(err.value)
        finally:
            dom.undefine()
    finally:
        conn.close()

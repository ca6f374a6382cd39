"""<pcihole64> on the PCI root controller sizes the 64-bit PCI hole of
the machine's host bridge, as libvirt passes it (its qemuxml2argvdata
pcihole64, pcihole64-q35: -global i440FX-pcihost/q35-pcihost
.pci-hole64-size=NK); QEMU's host bridge reports the size."""
import json
import os
import re

from vrt_fixtures import virsh


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def test_pcihole64_reaches_the_host_bridge(vrtd, tmp_path):
    for name, machine, root, bridge, path in (("h64pc", "pc", "pci-root", "i440FX-pcihost", "/machine/i440fx"),
                                              ("h64q35", "q35", "pcie-root", "q35-pcihost", "/machine/q35")):
        xml = tmp_path / f"{name}.xml"
        xml.write_text(f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
          <os><type arch='x86_64' machine='{machine}'>hvm</type></os>
          <devices><controller type='pci' index='0' model='{root}'>
            <pcihole64 unit='GiB'>1</pcihole64></controller></devices></domain>""")
        virsh(vrtd.uri, "define", str(xml))
        inactive = virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
        assert "<pcihole64 unit='KiB'>1048576</pcihole64>" in inactive
        virsh(vrtd.uri, "start", name)
        argv = qemu_argv(vrtd.root, name)
        assert f"{bridge}.pci-hole64-size=1048576K" in [argv[i + 1] for i, a in enumerate(argv[:-1])
                                                          if a == "-global"]
        out = virsh(vrtd.uri, "qemu-monitor-command", name, json.dumps(
            {"execute": "qom-get", "arguments": {"path": path, "property": "pci-hole64-size"}})).stdout
        assert json.loads(out)["return"] == 1 << 30
        virsh(vrtd.uri, "destroy", name)
        virsh(vrtd.uri, "undefine", name)

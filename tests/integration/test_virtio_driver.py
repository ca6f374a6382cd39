"""A virtio device's <driver> settings applied, not only parsed: a virtio
disk's ioeventfd, event_idx, queues, queue_size and transport options
(iommu, ats, packed, page_per_vq), a virtio interface's txmode, offloads,
queue sizes and multiqueue, a virtio-scsi controller's queues,
cmd_per_lun, max_sectors, ioeventfd and iothread, and a virtio-serial
controller's ports and vectors reach QEMU's devices under the property
names libvirt gives them (its qemuxml2argvdata), and QEMU's own view of
the running devices (qom-get) agrees."""
import json
import os
import re
import xml.etree.ElementTree as ET

from vrt_fixtures import run, virsh


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def devices(argv):
    return {d.get("id"): d for d in (json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
                                     if a == "-device" and argv[i + 1].startswith("{"))}


def qom_get(uri, name, path, prop):
    out = virsh(uri, "qemu-monitor-command", name, json.dumps(
        {"execute": "qom-get", "arguments": {"path": path, "property": prop}})).stdout
    return json.loads(out)["return"]


XML = """<domain type='qemu'><name>vdrv</name><memory unit='MiB'>128</memory>
  <iothreads>1</iothreads>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'>
      <driver queues='2' cmd_per_lun='8' max_sectors='512' ioeventfd='on' iothread='1' packed='on'/>
    </controller>
    <controller type='virtio-serial' index='0' ports='16' vectors='4'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' ioeventfd='off' event_idx='off' queues='2' queue_size='256'
              iommu='on' ats='on' packed='on' page_per_vq='on'/>
      <source file='{img}'/><target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:12:34:56'/><model type='virtio'/>
      <driver txmode='iothread' ioeventfd='on' event_idx='off' queues='2' rx_queue_size='512'
              tx_queue_size='256' packed='on'>
        <host csum='off' mrg_rxbuf='off'/><guest tso4='off'/>
      </driver>
    </interface>
  </devices></domain>"""


def test_virtio_driver_settings_reach_qemu(vrtd, tmp_path):
    img = tmp_path / "a.img"
    run(["qemu-img", "create", "-f", "raw", str(img), "1M"])
    path = tmp_path / "dom.xml"
    path.write_text(XML.format(img=img))
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "vdrv")
    devs = devices(qemu_argv(vrtd.root, "vdrv"))

    vda = devs["virtio-disk0"]
    assert {k: vda[k] for k in ("ioeventfd", "event_idx", "num-queues", "queue-size", "iommu_platform", "ats",
                                "packed", "page-per-vq")} == {
        "ioeventfd": False, "event_idx": False, "num-queues": 2, "queue-size": 256, "iommu_platform": True,
        "ats": True, "packed": True, "page-per-vq": True}
    net = devs["net0"]
    assert {k: net[k] for k in ("tx", "ioeventfd", "event_idx", "csum", "mrg_rxbuf", "guest_tso4", "mq",
                                "vectors", "rx_queue_size", "tx_queue_size", "packed")} == {
        "tx": "bh", "ioeventfd": True, "event_idx": False, "csum": False, "mrg_rxbuf": False, "guest_tso4": False,
        "mq": True, "vectors": 6, "rx_queue_size": 512, "tx_queue_size": 256, "packed": True}
    scsi = devs["scsi0"]
    assert {k: scsi[k] for k in ("num_queues", "cmd_per_lun", "max_sectors", "ioeventfd", "iothread", "packed")} == {
        "num_queues": 2, "cmd_per_lun": 8, "max_sectors": 512, "ioeventfd": True, "iothread": "iothread1",
        "packed": True}
    serial = devs["virtio-serial0"]
    assert (serial["max_ports"], serial["vectors"]) == (16, 4)

    # QEMU's view of the running devices
    uri, peri = vrtd.uri, "/machine/peripheral/"
    assert qom_get(uri, "vdrv", peri + "virtio-disk0", "num-queues") == 2
    assert qom_get(uri, "vdrv", peri + "virtio-disk0", "queue-size") == 256
    assert qom_get(uri, "vdrv", peri + "virtio-disk0", "iommu_platform") is True
    assert qom_get(uri, "vdrv", peri + "virtio-disk0", "page-per-vq") is True
    assert qom_get(uri, "vdrv", peri + "net0", "tx") == "bh"
    assert qom_get(uri, "vdrv", peri + "net0", "mq") is True
    assert qom_get(uri, "vdrv", peri + "net0", "rx_queue_size") == 512
    assert qom_get(uri, "vdrv", peri + "scsi0", "num_queues") == 2
    assert qom_get(uri, "vdrv", peri + "scsi0", "iothread") == "/objects/iothread1"
    assert qom_get(uri, "vdrv", peri + "virtio-serial0", "max_ports") == 16
    assert qom_get(uri, "vdrv", peri + "virtio-serial0", "vectors") == 4

    # and the definition keeps them in libvirt's order
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", "vdrv").stdout
    assert ("<driver name='qemu' type='raw' ioeventfd='off' event_idx='off' queues='2' queue_size='256' "
            "iommu='on' ats='on' packed='on' page_per_vq='on'/>") in inactive
    assert ("<driver txmode='iothread' ioeventfd='on' event_idx='off' queues='2' rx_queue_size='512' "
            "tx_queue_size='256' packed='on'>") in inactive
    assert "<controller type='virtio-serial' index='0' ports='16' vectors='4'>" in inactive
    dom = ET.fromstring(inactive)
    assert dom.find("devices/interface/driver/host").attrib == {"csum": "off", "mrg_rxbuf": "off"}
    virsh(vrtd.uri, "destroy", "vdrv")
    virsh(vrtd.uri, "undefine", "vdrv")


def test_virtio_options_refused_on_other_buses(vrtd, tmp_path):
    """libvirt's refusals at define: virtio-blk's settings on a SATA disk,
    virtio-scsi's on an lsilogic controller."""
    cases = [
        ("<disk type='file' device='disk'><driver name='qemu' queues='2'/><source file='/x.img'/>"
         "<target dev='sda' bus='sata'/></disk>",
         "queues attribute in disk driver element is only supported by virtio-blk"),
        ("<disk type='file' device='disk'><driver name='qemu' packed='on'/><source file='/x.img'/>"
         "<target dev='sda' bus='sata'/></disk>",
         "packed driver option is only supported for virtio devices"),
        ("<controller type='scsi' index='0' model='lsilogic'><driver cmd_per_lun='4'/></controller>",
         "'cmd_per_lun' is only supported by virtio-scsi controller"),
    ]
    for dev, msg in cases:
        path = tmp_path / "bad.xml"
        path.write_text(f"<domain type='qemu'><name>bad</name><memory unit='MiB'>64</memory>"
                        f"<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>{dev}</devices></domain>")
        p = virsh(vrtd.uri, "define", str(path), check=False)
        assert p.returncode != 0 and msg in p.stderr, p.stderr

"""A disk's <iotune> on a real QEMU (TCG, no guest).

The limits of <iotune> reach QEMU's block layer at start (libvirt 9.0's
block_set_io_throttle on the disk's device), read back with query-block
through the QEMU program; disks of one throttle group share its limits,
and a group whose disks disagree is refused at start. virsh blkdeviotune
(virDomainSetBlockIoTune / GetBlockIoTune) changes and reads them on the
running QEMU and in the persistent definition, with libvirt's merging of
the families a call does not name and libvirt's refusals.
"""
import json
import os

import pytest

from vrt_fixtures import import_required, kill_vms_under, run, virsh

libvirt = import_required("libvirt", "python3-libvirt is not installed")
libvirt_qemu = import_required("libvirt_qemu", "python3-libvirt is not installed")


def disk(path, dev, iotune):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'/>"
            f"<target dev='{dev}' bus='virtio'/><iotune>{iotune}</iotune></disk>")


def domain_xml(name, disks):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{disks}<memballoon model='none'/></devices></domain>")


@pytest.fixture
def conn(vrtd, tmproot):
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


@pytest.fixture
def images(tmproot):
    paths = []
    for n in ("a", "b"):
        p = os.path.join(tmproot, f"iotune-{n}.img")
        run(["qemu-img", "create", "-q", "-f", "raw", p, "8M"])
        os.chmod(p, 0o666)
        paths.append(p)
    os.chmod(tmproot, 0o755)
    return paths


def throttles(dom):
    reply = json.loads(libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-block"}', 0))
    return {b["qdev"]: b["inserted"] for b in reply["return"] if b.get("inserted")}


def test_iotune_limits_reach_qemu(conn, images):
    a, b = images
    group = "<total_iops_sec>400</total_iops_sec><group_name>grp</group_name>"
    xml = domain_xml("iotune", disk(a, "vda", "<read_bytes_sec>5000000</read_bytes_sec>"
                                    "<write_bytes_sec>3000000</write_bytes_sec>"
                                    "<read_bytes_sec_max>6000000</read_bytes_sec_max>") + disk(b, "vdb", group))
    dom = conn.createXML(xml, 0)
    got = throttles(dom)
    vda = next(v for k, v in got.items() if "/virtio-disk0/" in k)
    vdb = next(v for k, v in got.items() if "/virtio-disk1/" in k)
    assert (vda["bps_rd"], vda["bps_wr"], vda["bps_rd_max"], vda["iops"]) == (5000000, 3000000, 6000000, 0)
    assert (vdb["iops"], vdb["group"]) == (400, "grp")
    assert "<read_bytes_sec>5000000</read_bytes_sec>" in dom.XMLDesc(0)
    dom.destroy()


def test_group_that_disagrees_refused(conn, images):
    a, b = images
    xml = domain_xml("iotune-bad", disk(a, "vda", "<total_iops_sec>400</total_iops_sec><group_name>g</group_name>") +
                     disk(b, "vdb", "<total_iops_sec>500</total_iops_sec><group_name>g</group_name>"))
    with pytest.raises(libvirt.libvirtError) as e:
        conn.createXML(xml, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert "different iotunes for disks" in e.value.get_error_message()


THROTTLE_KEYS = ("bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr", "bps_max", "bps_rd_max", "bps_wr_max",
                 "iops_max", "iops_rd_max", "iops_wr_max", "iops_size")


def inserted(dom, dev_index):
    """query-block's throttle values of virtio-disk<dev_index>; QEMU leaves
    out a burst or I/O size that is 0, here 0."""
    got = next(v for k, v in throttles(dom).items() if f"/virtio-disk{dev_index}/" in k)
    return {**{k: 0 for k in THROTTLE_KEYS}, **got}


def blkdeviotune(uri, name, disk, *args):
    """virsh blkdeviotune's listing as a dict (field: value)."""
    out = virsh(uri, "blkdeviotune", name, disk, *args).stdout
    return dict(line.split(":", 1)[0].strip() and (line.split(":", 1)[0].strip(), line.split(":", 1)[1].strip())
                for line in out.splitlines() if ":" in line)


def test_blkdeviotune_live_reaches_qemu_and_merges(conn, images, vrtd):
    a, b = images
    dom = conn.createXML(domain_xml("bdt-live", disk(a, "vda", "<read_iops_sec>300</read_iops_sec>")), 0)
    # virsh blkdeviotune with values: a live change on a running domain
    virsh(vrtd.uri, "blkdeviotune", "bdt-live", "vda", "--total-bytes-sec", "2000000",
          "--total-bytes-sec-max", "4000000")
    got = inserted(dom, 0)
    assert (got["bps"], got["bps_max"], got["iops_rd"]) == (2000000, 4000000, 300), got
    xml = dom.XMLDesc(0)
    assert "<total_bytes_sec>2000000</total_bytes_sec>" in xml
    assert "<read_iops_sec>300</read_iops_sec>" in xml  # a family not named keeps its values
    listing = blkdeviotune(vrtd.uri, "bdt-live", "vda")
    assert listing["total_bytes_sec"] == "2000000" and listing["read_iops_sec"] == "300"
    assert listing["total_bytes_sec_max"] == "4000000"
    # a burst cannot outlive its rate: naming the bytes family without the
    # total drops it, so its burst must go in the same call
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vda", {"read_bytes_sec": 1000000}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert "cannot reset 'total_bytes_sec' when 'total_bytes_sec_max' is set" in e.value.get_error_message()
    dom.setBlockIoTune("vda", {"read_bytes_sec": 1000000, "total_bytes_sec_max": 0}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    got = inserted(dom, 0)
    assert (got["bps"], got["bps_rd"], got["bps_max"], got["iops_rd"]) == (0, 1000000, 0, 300), got
    tune = dom.blockIoTune("vda", 0)
    assert tune["read_bytes_sec"] == 1000000 and tune["total_bytes_sec"] == 0
    assert tune["group_name"] == "" and len(tune) == 20
    # all zero: no throttling left, and no <iotune> in the XML
    dom.setBlockIoTune("vda", {k: 0 for k in ("read_bytes_sec", "total_bytes_sec_max", "read_iops_sec")}, 0)
    got = inserted(dom, 0)
    assert all(got[k] == 0 for k in ("bps", "bps_rd", "bps_max", "iops", "iops_rd")), got
    assert "<iotune>" not in dom.XMLDesc(0)
    dom.destroy()


@pytest.mark.parametrize("params,code,text", [
    ({"total_bytes_sec": 5, "read_bytes_sec": 5}, "VIR_ERR_INVALID_ARG",
     "total and read/write of bytes_sec cannot be set at the same time"),
    ({"total_iops_sec_max": 500}, "VIR_ERR_CONFIG_UNSUPPORTED",
     "cannot reset 'total_iops_sec' when 'total_iops_sec_max' is set"),
    ({"total_iops_sec": 500, "total_iops_sec_max": 100}, "VIR_ERR_CONFIG_UNSUPPORTED",
     "value 'total_iops_sec_max' cannot be smaller than 'total_iops_sec'"),
    ({"total_bytes_sec": 10 ** 15 + 1}, "VIR_ERR_ARGUMENT_UNSUPPORTED",
     "block I/O throttle limit value must be no more than 1000000000000000"),
    ({"read_iops_sec": 0, "group_name": "g"}, "VIR_ERR_CONFIG_UNSUPPORTED",
     "creating a new group/updating existing with all tune parameters zero is not supported"),
])
def test_blkdeviotune_refusals(conn, images, params, code, text):
    a, _ = images
    dom = conn.createXML(domain_xml("bdt-bad", disk(a, "vda", "<read_iops_sec>300</read_iops_sec>")), 0)
    def limits():
        # the throttle values only: the firmware may flip the write cache meanwhile
        got = inserted(dom, 0)
        return {k: got[k] for k in THROTTLE_KEYS}

    before = limits()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vda", params, 0)
    assert e.value.get_error_code() == getattr(libvirt, code), e.value.get_error_message()
    assert text in e.value.get_error_message()
    assert limits() == before  # nothing changed
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vdz", {"total_iops_sec": 5}, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    assert "disk 'vdz' not found in domain" in e.value.get_error_message()
    dom.destroy()


def test_blkdeviotune_config_and_group(conn, images, vrtd):
    a, b = images
    dom = conn.defineXML(domain_xml("bdt-cfg", disk(a, "vda", "<total_iops_sec>100</total_iops_sec>"
                                                   "<group_name>grp</group_name>") +
                                    disk(b, "vdb", "<total_iops_sec>100</total_iops_sec>"
                                                   "<group_name>grp</group_name>")))
    dom.create()
    # --config only: the persistent definition changes, QEMU does not
    virsh(vrtd.uri, "blkdeviotune", "bdt-cfg", "vda", "--config", "--total-iops-sec", "700")
    assert inserted(dom, 0)["iops"] == 100
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert inactive.count("<total_iops_sec>700</total_iops_sec>") == 2  # both disks of the group
    assert blkdeviotune(vrtd.uri, "bdt-cfg", "vdb", "--config")["total_iops_sec"] == "700"
    assert blkdeviotune(vrtd.uri, "bdt-cfg", "vdb", "--live")["total_iops_sec"] == "100"
    # live, by the disk's source path: the whole group follows, in QEMU and in the XML
    dom.setBlockIoTune(a, {"total_iops_sec": 250}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert (inserted(dom, 0)["iops"], inserted(dom, 1)["iops"]) == (250, 250)
    assert inserted(dom, 1)["group"] == "grp"
    assert dom.XMLDesc(0).count("<total_iops_sec>250</total_iops_sec>") == 2
    # the persistent value is what the next start gives QEMU
    dom.destroy()
    dom.create()
    assert (inserted(dom, 0)["iops"], inserted(dom, 1)["iops"]) == (700, 700)
    dom.destroy()
    # shut off: the definition is changed (CURRENT is config), LIVE is refused
    dom.setBlockIoTune("vda", {"total_iops_sec": 900}, 0)
    assert dom.XMLDesc(0).count("<total_iops_sec>900</total_iops_sec>") == 2
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vda", {"total_iops_sec": 5}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    dom.undefine()

"""A disk's <iotune> on a real QEMU (TCG, no guest).

The limits of <iotune> reach QEMU's block layer at start (libvirt 9.0's
block_set_io_throttle on the disk's device), read back with query-block
through the QEMU program; disks of one throttle group share its limits,
and a group whose disks disagree is refused at start.
"""
import json
import os

import pytest

from vrt_fixtures import import_required, kill_vms_under, run

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

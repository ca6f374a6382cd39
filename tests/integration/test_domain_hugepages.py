"""<memoryBacking><hugepages><page size= nodeset=> and <nosharepages/>.

A domain naming a huge page size is defined whatever the host has, as
libvirt defines it, and refused by name at start when the host has no
pool of that size; a page of the system's own size is ordinary memory,
and <nosharepages/> turns QEMU's memory merging off.
"""
import json
import os

from vrt_fixtures import require, virsh


def define(uri, tmp_path, name, backing):
    path = tmp_path / f"{name}.xml"
    path.write_text(f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
                    f"<memoryBacking>{backing}</memoryBacking>"
                    "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    virsh(uri, "define", str(path))


def qmp(uri, name, command, **arguments):
    cmd = {"execute": command, "arguments": arguments}
    return json.loads(virsh(uri, "qemu-monitor-command", name, json.dumps(cmd)).stdout)["return"]


def test_page_size_without_a_pool_refused_at_start(vrtd, tmp_path):
    pool = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    if os.path.exists(pool):
        with open(pool) as f:
            require(int(f.read()) == 0, "this host has 2 MiB huge pages")
    define(vrtd.uri, tmp_path, "hp2m", "<hugepages><page size='2' unit='MiB'/></hugepages>")
    try:
        p = virsh(vrtd.uri, "start", "hp2m", check=False)
        assert p.returncode != 0
        assert "hugepages of 2048 KiB are not available on this host" in p.stderr
        # kept as libvirt writes it
        assert "<page size='2048' unit='KiB'/>" in virsh(vrtd.uri, "dumpxml", "hp2m").stdout
    finally:
        virsh(vrtd.uri, "undefine", "hp2m", check=False)


def test_system_page_size_and_nosharepages_reach_qemu(vrtd, tmp_path):
    require(os.sysconf("SC_PAGESIZE") == 4096, "the system page is not 4 KiB")
    define(vrtd.uri, tmp_path, "hp4k", "<hugepages><page size='4' unit='KiB'/></hugepages><nosharepages/>")
    virsh(vrtd.uri, "start", "hp4k")
    try:
        objects = {o["name"]: o["type"] for o in qmp(vrtd.uri, "hp4k", "qom-list", path="/objects")}
        assert objects["pc.ram"] == "child<memory-backend-ram>"
        assert qmp(vrtd.uri, "hp4k", "qom-get", path="/machine", property="mem-merge") is False
    finally:
        virsh(vrtd.uri, "destroy", "hp4k", check=False)
        virsh(vrtd.uri, "undefine", "hp4k", check=False)

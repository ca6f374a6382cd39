"""Memory hotplug space, memory devices and per-cell NUMA binding on a
running QEMU (TCG, no guest).

A domain with <maxMemory>, a pc-dimm and a virtio-mem device and a
<numatune><memnode> is started: QEMU reports the devices where the
definition put them (slot, node, size) and the cell's memory bound to the
host node the memnode names. What vrt cannot do (numad's automatic
placement) is refused at start by name.
"""
import json

from vrt_fixtures import virsh

DOMAIN = """<domain type='qemu'><name>{name}</name>
<maxMemory slots='4' unit='GiB'>2</maxMemory><memory unit='MiB'>512</memory><vcpu>2</vcpu>
<numatune><memnode cellid='0' mode='strict' nodeset='0'/></numatune>
<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>
<cpu><numa><cell id='0' cpus='0' memory='128' unit='MiB'/><cell id='1' cpus='1' memory='128' unit='MiB'/></numa></cpu>
<devices>
<memory model='dimm'><target><size unit='MiB'>128</size><node>1</node></target></memory>
<memory model='virtio-mem'><target><size unit='MiB'>256</size><node>0</node><block unit='MiB'>2</block>
<requested unit='MiB'>0</requested></target></memory>
</devices></domain>"""


def qmp(uri, name, command, **arguments):
    cmd = {"execute": command, "arguments": arguments}
    return json.loads(virsh(uri, "qemu-monitor-command", name, json.dumps(cmd)).stdout)["return"]


def test_memory_devices_and_memnode_reach_qemu(vrtd, tmp_path):
    path = tmp_path / "memdev.xml"
    path.write_text(DOMAIN.format(name="memdev"))
    virsh(vrtd.uri, "define", str(path))
    try:
        xml = virsh(vrtd.uri, "dumpxml", "memdev", "--inactive").stdout
        assert "<maxMemory slots='4' unit='KiB'>2097152</maxMemory>" in xml
        assert "<address type='dimm' slot='0'/>" in xml
        virsh(vrtd.uri, "start", "memdev")
        devices = {d["data"]["id"]: d for d in qmp(vrtd.uri, "memdev", "query-memory-devices")}
        assert devices["dimm0"]["type"] == "dimm"
        assert devices["dimm0"]["data"]["slot"] == 0
        assert devices["dimm0"]["data"]["node"] == 1
        assert devices["dimm0"]["data"]["size"] == 128 << 20
        assert devices["virtiomem0"]["type"] == "virtio-mem"
        assert devices["virtiomem0"]["data"]["max-size"] == 256 << 20
        memdevs = {m["id"]: m for m in qmp(vrtd.uri, "memdev", "query-memdev")}
        assert memdevs["ram-node0"]["policy"] == "bind"
        assert memdevs["ram-node0"]["host-nodes"] == [0]
        assert memdevs["ram-node1"]["policy"] == "default"
    finally:
        virsh(vrtd.uri, "destroy", "memdev", check=False)
        virsh(vrtd.uri, "undefine", "memdev", check=False)


def test_automatic_placement_refused_at_start(vrtd, tmp_path):
    path = tmp_path / "numad.xml"
    path.write_text("<domain type='qemu'><name>numad</name><memory unit='MiB'>64</memory>"
                    "<vcpu placement='auto'>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    virsh(vrtd.uri, "define", str(path))
    try:
        assert "<memory mode='strict' placement='auto'/>" in virsh(vrtd.uri, "dumpxml", "numad").stdout
        p = virsh(vrtd.uri, "start", "numad", check=False)
        assert p.returncode != 0
        assert "needs numad" in p.stderr
    finally:
        virsh(vrtd.uri, "undefine", "numad", check=False)


FILE_BACKED = """<domain type='qemu'><name>{name}</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory dumpCore='on' unit='MiB'>64</memory><vcpu>1</vcpu>
<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
<sysinfo type='smbios'><system><entry name='manufacturer'>vrt test</entry></system></sysinfo>
<os><type arch='x86_64' machine='pc'>hvm</type><smbios mode='sysinfo'/></os>
<clock offset='utc'><timer name='tsc' frequency='1000000000'/></clock>
<devices><memballoon model='none'/></devices></domain>"""


def test_file_memory_sysinfo_start(vrtd, tmp_path):
    """<source type='file'/>: QEMU's RAM is a shared file backend in the
    domain's run directory; the SMBIOS system manufacturer and dumpCore reach
    QEMU, and a <shmem> start is refused by name."""
    path = tmp_path / "filemem.xml"
    path.write_text(FILE_BACKED.format(name="filemem"))
    virsh(vrtd.uri, "define", str(path))
    try:
        xml = virsh(vrtd.uri, "dumpxml", "filemem", "--inactive").stdout
        assert "<memory dumpCore='on' unit='KiB'>65536</memory>" in xml
        assert "<entry name='manufacturer'>vrt test</entry>" in xml
        virsh(vrtd.uri, "start", "filemem")
        memdevs = {m["id"]: m for m in qmp(vrtd.uri, "filemem", "query-memdev")}
        assert memdevs["pc.ram"]["share"] is True
        path_prop = qmp(vrtd.uri, "filemem", "qom-get", path="/objects/pc.ram", property="mem-path")
        assert path_prop.endswith("/ram/pc.ram")
        assert qmp(vrtd.uri, "filemem", "qom-get", path="/machine", property="dump-guest-core") is True
    finally:
        virsh(vrtd.uri, "destroy", "filemem", check=False)
        virsh(vrtd.uri, "undefine", "filemem", check=False)
    path.write_text("<domain type='qemu'><name>shm</name><memory unit='MiB'>64</memory>"
                    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                    "<shmem name='sh0'><model type='ivshmem-plain'/></shmem></devices></domain>")
    virsh(vrtd.uri, "define", str(path))
    try:
        p = virsh(vrtd.uri, "start", "shm", check=False)
        assert p.returncode != 0
        assert "shmem device 'sh0'" in p.stderr
    finally:
        virsh(vrtd.uri, "undefine", "shm", check=False)

"""Domain elements applied, not only parsed: a disk's <driver> tuning
(virt-install writes discard='unmap' on every disk it creates) reaches
QEMU's block nodes and devices, and <os firmware='efi'> boots Debian's OVMF
from two pflash units, the second a per-domain copy of the firmware's
variable store that undefine keeps or removes by libvirt's rules."""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from vrt_fixtures import require, run, virsh

VIRT_INSTALL = shutil.which("virt-install")
OVMF_DESCRIPTOR = "/usr/share/qemu/firmware/60-edk2-x86_64.json"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def json_args(argv, option):
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
            if a == option and argv[i + 1].startswith("{")]


def define_start(uri, tmp_path, xml):
    path = tmp_path / "dom.xml"
    path.write_text(xml)
    virsh(uri, "define", str(path))
    name = ET.fromstring(xml).find("name").text
    virsh(uri, "start", name)
    return name


def test_virt_install_disk_size_runs(vrtd, tmproot):
    """virt-install --disk size=1 makes a volume in the 'default' pool and
    writes <driver discard='unmap'/>: the VM runs and QEMU passes the
    guest's discards down."""
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    pool = os.path.join(tmproot, "images")
    virsh(vrtd.uri, "pool-define-as", "default", "dir", "--target", pool)
    virsh(vrtd.uri, "pool-build", "default")
    virsh(vrtd.uri, "pool-start", "default")
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", "vdisk", "--memory", "128",
             "--osinfo", "detect=off,require=off", "--disk", "size=1", "--import", "--noautoconsole",
             "--graphics", "none", "--network", "none"], check=False, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", "vdisk").stdout.strip() == "running"
    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "vdisk").stdout)
    disk = inactive.find("devices/disk[@device='disk']")
    assert disk.find("driver").get("discard") == "unmap"
    src = disk.find("source").get("file")
    assert src.startswith(pool) and os.path.exists(src)

    nodes = json_args(qemu_argv(vrtd.root, "vdisk"), "-blockdev")
    fmt = [n for n in nodes if n.get("file") and n.get("driver") in ("qcow2", "raw")]
    assert len(fmt) == 1 and fmt[0]["discard"] == "unmap", nodes
    virsh(vrtd.uri, "destroy", "vdisk")
    virsh(vrtd.uri, "undefine", "vdisk")


DISK_XML = """<domain type='qemu'>
  <name>tuned</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none' error_policy='stop' rerror_policy='report' io='native'
              copy_on_read='on' discard='unmap' detect_zeroes='unmap'/>
      <source file='{img}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writethrough' error_policy='enospace' io='threads' detect_zeroes='unmap'/>
      <source file='{img2}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def test_disk_driver_tuning_reaches_qemu(vrtd, tmp_path):
    img, img2 = tmp_path / "a.img", tmp_path / "b.img"
    for i in (img, img2):
        run(["qemu-img", "create", "-f", "raw", str(i), "1M"])
    define_start(vrtd.uri, tmp_path, DISK_XML.format(img=img, img2=img2))
    argv = qemu_argv(vrtd.root, "tuned")
    nodes = {n["node-name"]: n for n in json_args(argv, "-blockdev")}
    devs = {d["id"]: d for d in json_args(argv, "-device") if "id" in d}

    a_file = next(n for n in nodes.values() if n.get("filename") == str(img))
    assert a_file["aio"] == "native" and a_file["cache"] == {"direct": True, "no-flush": False}
    a_fmt = next(n for n in nodes.values() if n.get("file") == a_file["node-name"])
    assert a_fmt["discard"] == "unmap" and a_fmt["detect-zeroes"] == "unmap"
    cor = next(n for n in nodes.values() if n.get("driver") == "copy-on-read")
    assert cor["file"] == a_fmt["node-name"]
    vda = devs["virtio-disk0"]
    assert vda["drive"] == cor["node-name"]
    assert (vda["write-cache"], vda["werror"], vda["rerror"]) == ("on", "stop", "report")

    b_file = next(n for n in nodes.values() if n.get("filename") == str(img2))
    assert b_file["aio"] == "threads"
    b_fmt = next(n for n in nodes.values() if n.get("file") == b_file["node-name"])
    # without discard='unmap' libvirt asks QEMU for 'on', not 'unmap'
    assert b_fmt["detect-zeroes"] == "on" and "discard" not in b_fmt
    vdb = devs["virtio-disk1"]
    assert (vdb["write-cache"], vdb["werror"]) == ("off", "enospc") and "rerror" not in vdb

    # QEMU's own view agrees
    out = virsh(vrtd.uri, "qemu-monitor-command", "tuned", '{"execute":"query-named-block-nodes"}').stdout
    qnodes = {n["node-name"]: n for n in json.loads(out)["return"]}
    assert qnodes[a_fmt["node-name"]]["detect_zeroes"] == "unmap"
    assert qnodes[a_file["node-name"]]["cache"]["direct"] is True

    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", "tuned").stdout
    assert ("<driver name='qemu' type='raw' cache='none' error_policy='stop' rerror_policy='report' "
            "io='native' copy_on_read='on' discard='unmap' detect_zeroes='unmap'/>") in inactive
    virsh(vrtd.uri, "destroy", "tuned")
    virsh(vrtd.uri, "undefine", "tuned")


def test_domcaps_list_ovmf(vrtd):
    require(os.path.exists(OVMF_DESCRIPTOR), "Debian's ovmf is not installed")
    caps = ET.fromstring(virsh(vrtd.uri, "domcapabilities", "--machine", "pc").stdout)
    assert [v.text for v in caps.findall("os/enum[@name='firmware']/value")] == ["efi"]
    loader = caps.find("os/loader")
    assert loader.get("supported") == "yes"
    assert OVMF_CODE in [v.text for v in loader.findall("value")]
    assert [v.text for v in loader.findall("enum[@name='type']/value")] == ["rom", "pflash"]
    assert [v.text for v in loader.findall("enum[@name='readonly']/value")] == ["yes", "no"]


EFI_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
</domain>
"""


def test_efi_domain_boots_ovmf_with_its_own_nvram(vrtd, tmp_path):
    require(os.path.exists(OVMF_DESCRIPTOR), "Debian's ovmf is not installed")
    nvram_dir = os.path.join(vrtd.root, "var", "lib", "vrt", "qemu", "nvram")
    for name in ("efi1", "efi2"):
        define_start(vrtd.uri, tmp_path, EFI_XML.format(name=name))
    for name in ("efi1", "efi2"):
        nvram = os.path.join(nvram_dir, f"{name}_VARS.fd")
        assert os.path.getsize(nvram) == os.path.getsize(OVMF_VARS)
        argv = qemu_argv(vrtd.root, name)
        nodes = {n["node-name"]: n for n in json_args(argv, "-blockdev")}
        assert nodes["vrt-pflash0-storage"]["filename"] == OVMF_CODE
        assert nodes["vrt-pflash0-format"]["read-only"] is True
        assert nodes["vrt-pflash1-storage"]["filename"] == nvram
        assert nodes["vrt-pflash1-format"]["read-only"] is False
        machine = argv[argv.index("-machine") + 1]
        assert "pflash0=vrt-pflash0-format" in machine and "pflash1=vrt-pflash1-format" in machine
        live = ET.fromstring(virsh(vrtd.uri, "dumpxml", name).stdout)
        assert live.find("os").get("firmware") is None
        assert live.find("os/loader").text == OVMF_CODE
        assert live.find("os/loader").attrib == {"readonly": "yes", "type": "pflash"}
        assert live.find("os/nvram").text == nvram
        assert live.find("os/nvram").get("template") == OVMF_VARS
        inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout)
        assert inactive.find("os").get("firmware") == "efi" and inactive.find("os/loader") is None

    # the guest's firmware writes its variables to its own store
    virsh(vrtd.uri, "destroy", "efi1")
    p = virsh(vrtd.uri, "undefine", "efi1", check=False)
    assert p.returncode != 0 and "cannot undefine domain with nvram" in p.stderr
    virsh(vrtd.uri, "undefine", "efi1", "--keep-nvram")
    assert os.path.exists(os.path.join(nvram_dir, "efi1_VARS.fd"))
    virsh(vrtd.uri, "destroy", "efi2")
    virsh(vrtd.uri, "undefine", "efi2", "--nvram")
    assert not os.path.exists(os.path.join(nvram_dir, "efi2_VARS.fd"))


def test_virt_install_boot_uefi_runs(vrtd):
    require(VIRT_INSTALL, "virt-install is not installed (Debian package virtinst)")
    require(os.path.exists(OVMF_DESCRIPTOR), "Debian's ovmf is not installed")
    p = run([VIRT_INSTALL, "--connect", vrtd.uri, "--name", "viefi", "--memory", "128",
             "--osinfo", "detect=off,require=off", "--disk", "none", "--import", "--noautoconsole",
             "--graphics", "none", "--network", "none", "--boot", "uefi"], check=False, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert virsh(vrtd.uri, "domstate", "viefi").stdout.strip() == "running"
    argv = qemu_argv(vrtd.root, "viefi")
    machine = argv[argv.index("-machine") + 1]
    assert "pflash0=vrt-pflash0-format" in machine and "pflash1=vrt-pflash1-format" in machine
    virsh(vrtd.uri, "destroy", "viefi")
    virsh(vrtd.uri, "undefine", "viefi", "--nvram")


NUMA_XML = """<domain type='qemu'>
  <name>numa</name>
  <memory unit='MiB'>1</memory>
  <vcpu>4</vcpu>
  <memoryBacking><source type='memfd'/><access mode='shared'/><locked/></memoryBacking>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <cpu>
    <topology sockets='2' dies='1' cores='2' threads='1'/>
    <numa>
      <cell id='0' cpus='0-1' memory='96' unit='MiB'/>
      <cell id='1' cpus='2-3' memory='64' unit='MiB' memAccess='private'/>
    </numa>
  </cpu>
</domain>
"""


def can_raise_memlock():
    """Whether vrtd (root) can raise an unprivileged QEMU's RLIMIT_MEMLOCK
    for <locked/>: not in a container without CAP_SYS_RESOURCE."""
    return subprocess.run([sys.executable, "-c", "import resource; r = resource.RLIMIT_MEMLOCK; "
                           "resource.setrlimit(r, (resource.RLIM_INFINITY,) * 2)"]).returncode == 0


def test_numa_cells_and_memory_backing_reach_qemu(vrtd, tmp_path):
    if not can_raise_memlock():
        # QEMU's user could not lock its memory here: QEMU runs as root
        # (qemu.conf's user = "root"), as libvirt allows.
        os.makedirs(os.path.join(vrtd.root, "etc", "vrt"), exist_ok=True)
        with open(os.path.join(vrtd.root, "etc", "vrt", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\n')
        vrtd.stop()
        vrtd.start()
    define_start(vrtd.uri, tmp_path, NUMA_XML)
    argv = qemu_argv(vrtd.root, "numa")
    nodes = [argv[i + 1] for i, a in enumerate(argv) if a == "-numa"]
    assert nodes == ["node,nodeid=0,cpus=0-1,memdev=ram-node0", "node,nodeid=1,cpus=2-3,memdev=ram-node1"]
    assert argv[argv.index("-overcommit") + 1] == "mem-lock=on"
    assert argv[argv.index("-smp") + 1] == "4,maxcpus=4,sockets=2,dies=1,cores=2,threads=1"

    def qmp(cmd):
        out = virsh(vrtd.uri, "qemu-monitor-command", "numa", json.dumps({"execute": cmd})).stdout
        return json.loads(out)["return"]

    memdevs = {m["id"]: m for m in qmp("query-memdev")}
    assert memdevs["ram-node0"]["size"] == 96 << 20 and memdevs["ram-node0"]["share"] is True
    assert memdevs["ram-node1"]["size"] == 64 << 20 and memdevs["ram-node1"]["share"] is False
    cpus = qmp("query-hotpluggable-cpus")
    assert sorted((c["props"]["node-id"], c["props"]["socket-id"]) for c in cpus) == [(0, 0), (0, 0), (1, 1), (1, 1)]
    # memoryBacking type memfd
    qom = {o["name"]: o["type"] for o in json.loads(virsh(
        vrtd.uri, "qemu-monitor-command", "numa",
        '{"execute":"qom-list","arguments":{"path":"/objects"}}').stdout)["return"]}
    assert qom["ram-node0"] == "child<memory-backend-memfd>"

    inactive = ET.fromstring(virsh(vrtd.uri, "dumpxml", "--inactive", "numa").stdout)
    assert inactive.find("memory").text == str(160 << 10)  # the cells' sum, as libvirt
    assert [c.attrib for c in inactive.findall("cpu/numa/cell")] == [
        {"id": "0", "cpus": "0-1", "memory": str(96 << 10), "unit": "KiB"},
        {"id": "1", "cpus": "2-3", "memory": str(64 << 10), "unit": "KiB", "memAccess": "private"}]
    assert [e.tag for e in inactive.find("memoryBacking")] == ["locked", "source", "access"]
    virsh(vrtd.uri, "destroy", "numa")
    virsh(vrtd.uri, "undefine", "numa")


def test_hugepages_refused_without_a_pool(vrtd, tmp_path):
    with open("/proc/meminfo") as f:
        total = int(re.search(r"HugePages_Total:\s+(\d+)", f.read()).group(1))
    require(total == 0, "this host has huge pages")
    path = tmp_path / "hp.xml"
    path.write_text("<domain type='qemu'><name>hp</name><memory unit='MiB'>64</memory>"
                    "<memoryBacking><hugepages/></memoryBacking>"
                    "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    virsh(vrtd.uri, "define", str(path))
    p = virsh(vrtd.uri, "start", "hp", check=False)
    assert p.returncode != 0 and "hugepages are not available on this host" in p.stderr
    virsh(vrtd.uri, "undefine", "hp")


IOTHREAD_XML = """<domain type='qemu'>
  <name>iot</name>
  <memory unit='MiB'>128</memory>
  <iothreads>2</iothreads>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' iothread='2'/>
      <source file='{img}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def test_iothreads_and_disk_iothread_reach_qemu(vrtd, tmp_path):
    img = tmp_path / "a.img"
    run(["qemu-img", "create", "-f", "raw", str(img), "1M"])
    define_start(vrtd.uri, tmp_path, IOTHREAD_XML.format(img=img))
    out = virsh(vrtd.uri, "qemu-monitor-command", "iot", '{"execute":"query-iothreads"}').stdout
    assert sorted(t["id"] for t in json.loads(out)["return"]) == ["iothread1", "iothread2"]
    out = virsh(vrtd.uri, "qemu-monitor-command", "iot",
                '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/virtio-disk0","property":"iothread"}}')
    assert json.loads(out.stdout)["return"] == "/objects/iothread2"
    stats = virsh(vrtd.uri, "domstats", "--iothread", "iot").stdout
    assert "iothread.count=2" in stats
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", "iot").stdout
    assert "<iothreads>2</iothreads>" in inactive and "<driver name='qemu' type='raw' iothread='2'/>" in inactive
    virsh(vrtd.uri, "destroy", "iot")
    virsh(vrtd.uri, "undefine", "iot")


def allowed_cpus(pid):
    with open(f"/proc/{pid}/status") as f:
        return re.search(r"Cpus_allowed_list:\s+(\S+)", f.read()).group(1)


def test_vcpu_cpuset_places_vcpus_and_emulator(vrtd, tmp_path):
    require(os.cpu_count() >= 2, "needs two host CPUs")
    define_start(vrtd.uri, tmp_path, """<domain type='qemu'><name>cpuset</name>
        <memory unit='MiB'>64</memory><vcpu cpuset='1'>2</vcpu>
        <cputune><vcpupin vcpu='0' cpuset='0'/></cputune>
        <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>""")
    out = virsh(vrtd.uri, "qemu-monitor-command", "cpuset", '{"execute":"query-cpus-fast"}').stdout
    tids = {c["cpu-index"]: c["thread-id"] for c in json.loads(out)["return"]}
    assert allowed_cpus(tids[0]) == "0"  # its own pin wins
    assert allowed_cpus(tids[1]) == "1"  # the others get <vcpu cpuset>
    with open(os.path.join(vrtd.root, "run", "vrt", "qemu", "cpuset.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    assert allowed_cpus(pid) == "1"
    assert virsh(vrtd.uri, "emulatorpin", "cpuset").stdout.split()[-1] == "1"
    assert "<vcpu placement='static' cpuset='1'>2</vcpu>" in virsh(vrtd.uri, "dumpxml", "cpuset").stdout
    virsh(vrtd.uri, "destroy", "cpuset")
    virsh(vrtd.uri, "undefine", "cpuset")


def test_qemu_commandline_reaches_qemu_and_taints(vrtd, tmp_path):
    define_start(vrtd.uri, tmp_path, """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
        <name>custom</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <qemu:commandline>
          <qemu:arg value='-object'/>
          <qemu:arg value='{"qom-type":"iothread","id":"custom-io"}'/>
          <qemu:env name='VRT_CUSTOM_ENV' value='hello world'/>
        </qemu:commandline></domain>""")
    argv = qemu_argv(vrtd.root, "custom")
    assert argv[-3:-1] == ["-object", '{"qom-type":"iothread","id":"custom-io"}']
    out = virsh(vrtd.uri, "qemu-monitor-command", "custom", '{"execute":"query-iothreads"}').stdout
    assert [t["id"] for t in json.loads(out)["return"]] == ["custom-io"]
    with open(os.path.join(vrtd.root, "run", "vrt", "qemu", "custom.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/environ", "rb") as f:
        assert b"VRT_CUSTOM_ENV=hello world" in f.read().split(b"\0")
    assert re.search(r"Domain id=\d+ name='custom' uuid=\S+ is tainted: custom-argv", vrtd.stderr())
    xml = virsh(vrtd.uri, "dumpxml", "--inactive", "custom").stdout
    assert xml.startswith("<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
    assert "<qemu:env name='VRT_CUSTOM_ENV' value='hello world'/>" in xml
    virsh(vrtd.uri, "destroy", "custom")
    virsh(vrtd.uri, "undefine", "custom")


def test_intel_iommu_reaches_qemu(vrtd, tmp_path):
    define_start(vrtd.uri, tmp_path, """<domain type='qemu'><name>iommu</name>
        <memory unit='MiB'>128</memory>
        <os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>
        <devices><iommu model='intel'><driver caching_mode='on' aw_bits='48'/></iommu></devices></domain>""")
    devs = {d.get("id"): d for d in json_args(qemu_argv(vrtd.root, "iommu"), "-device")}
    assert devs["iommu0"] == {"driver": "intel-iommu", "id": "iommu0", "caching-mode": True, "aw-bits": 48}
    out = virsh(vrtd.uri, "qemu-monitor-command", "iommu",
                '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/iommu0","property":"aw-bits"}}')
    assert json.loads(out.stdout)["return"] == 48
    virsh(vrtd.uri, "destroy", "iommu")
    virsh(vrtd.uri, "undefine", "iommu")

    # libvirt's refusal for a machine without one, when it is defined
    path = tmp_path / "pc.xml"
    path.write_text("""<domain type='qemu'><name>iommupc</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>
        <devices><iommu model='intel'/></devices></domain>""")
    p = virsh(vrtd.uri, "define", str(path), check=False)
    assert p.returncode != 0 and "IOMMU device: 'intel' is only supported with Q35 machines" in p.stderr

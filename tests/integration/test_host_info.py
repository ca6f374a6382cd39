"""What monitoring tools and virsh read about the host through vrtd: the
libvirt API level, CPU and memory statistics, free memory per NUMA cell,
the CPU map and SMBIOS data. A made-up host root (--host-root) decides every
number, so each one is checked against the files it came from."""
import os
import re
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import Vrtd, import_required, virsh, vrt

libvirt = import_required("libvirt", "python3-libvirt is not installed")

HZ = os.sysconf("SC_CLK_TCK")
NS = 1000000000 // HZ

# /proc/stat: user nice system idle iowait irq softirq steal guest guest_nice
STAT = ("cpu  1000 200 300 4000 500 60 70 0 0 0\n"
        "cpu0 600 100 200 2000 250 30 40 0 0 0\n"
        "cpu1 400 100 100 2000 250 30 30 0 0 0\n"
        "intr 1 2 3\nctxt 99\n")
MEMINFO = ("MemTotal:       16000000 kB\nMemFree:         9000000 kB\n"
           "MemAvailable:   12000000 kB\nBuffers:          111111 kB\nCached:          2222222 kB\n")
NODE_MEMINFO = {
    0: "Node 0 MemTotal:        8000000 kB\nNode 0 MemFree:         5000000 kB\nNode 0 MemUsed: 3000000 kB\n",
    1: "Node 1 MemTotal:        8000000 kB\nNode 1 MemFree:         3500000 kB\nNode 1 MemUsed: 4500000 kB\n",
}
DMI = {
    "bios_vendor": "Acme BIOS Inc.", "bios_version": "1.2.3", "bios_date": "04/01/2014", "bios_release": "1.2",
    "sys_vendor": "Acme & Sons", "product_name": "Rocket 9000", "product_version": "v2",
    "product_uuid": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "product_family": "Rockets",
    "board_vendor": "Acme", "board_name": "RB-1",
    "chassis_vendor": "Acme", "chassis_asset_tag": "A-77",
}


def fake_host(base, numa=True, dmi=True):
    host = base / "host"
    (host / "proc").mkdir(parents=True)
    (host / "proc" / "stat").write_text(STAT)
    (host / "proc" / "meminfo").write_text(MEMINFO)
    (host / "proc" / "cpuinfo").write_text("".join(f"processor\t: {i}\n\n" for i in range(2)))
    cpu = host / "sys" / "devices" / "system" / "cpu"
    cpu.mkdir(parents=True)
    # Four CPUs present, CPU 2 offline.
    (cpu / "online").write_text("0-1,3\n")
    (cpu / "present").write_text("0-3\n")
    if numa:
        nodes = host / "sys" / "devices" / "system" / "node"
        for n, text in NODE_MEMINFO.items():
            (nodes / f"node{n}").mkdir(parents=True)
            (nodes / f"node{n}" / "meminfo").write_text(text)
            (nodes / f"node{n}" / "cpulist").write_text("0-1\n" if n == 0 else "2-3\n")
        (nodes / "online").write_text("0-1\n")
    if dmi:
        d = host / "sys" / "class" / "dmi" / "id"
        d.mkdir(parents=True)
        for k, v in DMI.items():
            (d / k).write_text(v + "\n")
    return host


@pytest.fixture
def hostd(tmp_path):
    host = fake_host(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    d = Vrtd(str(root), extra_args=["--host-root", str(host)]).start()
    yield d
    d.stop()


def fields(out):
    """virsh's "name: value" lines as a dict."""
    return {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in out.strip().splitlines() if ":" in l)}


def test_lib_version_is_the_libvirt_api_level(vrtd):
    conn = libvirt.open(vrtd.uri)
    try:
        assert conn.getLibVersion() == 9000000
    finally:
        conn.close()
    assert "Running against daemon: 9.0.0" in virsh(vrtd.uri, "version", "--daemon").stdout
    # vrt's own version stays on the library line.
    out = vrt(vrtd.uri, "version").stdout
    assert re.search(r"^Using library: vrt 0\.\d+\.\d+$", out, re.M), out
    assert re.search(r"^Running against daemon: 9\.0\.0$", out, re.M), out


def test_virsh_nodecpustats_from_proc_stat(hostd):
    total = fields(virsh(hostd.uri, "nodecpustats").stdout)
    assert total == {"user": str((1000 + 200) * NS), "system": str((300 + 60 + 70) * NS),
                     "idle": str(4000 * NS), "iowait": str(500 * NS)}
    cpu1 = fields(virsh(hostd.uri, "nodecpustats", "--cpu", "1").stdout)
    assert cpu1["user"] == str(500 * NS) and cpu1["system"] == str(160 * NS)
    p = virsh(hostd.uri, "nodecpustats", "--cpu", "7", check=False)
    assert p.returncode != 0 and "Invalid cpuNum" in p.stderr

    conn = libvirt.open(hostd.uri)
    try:
        assert conn.getCPUStats(0) == {"kernel": 270 * NS, "user": 700 * NS, "idle": 2000 * NS, "iowait": 250 * NS}
    finally:
        conn.close()


def test_virsh_nodememstats_host_and_cell(hostd):
    host = fields(virsh(hostd.uri, "nodememstats").stdout)
    assert host == {"total": "16000000 KiB", "free": "9000000 KiB", "buffers": "111111 KiB", "cached": "2222222 KiB"}
    cell = fields(virsh(hostd.uri, "nodememstats", "--cell", "1").stdout)
    assert cell == {"total": "8000000 KiB", "free": "3500000 KiB"}
    p = virsh(hostd.uri, "nodememstats", "--cell", "5", check=False)
    assert p.returncode != 0 and "must be less than or equal to 1" in p.stderr

    conn = libvirt.open(hostd.uri)
    try:
        assert conn.getMemoryStats(0) == {"total": 8000000, "free": 5000000}
    finally:
        conn.close()


def test_virsh_freecell_per_numa_node(hostd):
    assert virsh(hostd.uri, "freecell", "1").stdout.strip() == "1: 3500000 KiB"
    out = virsh(hostd.uri, "freecell", "--all").stdout
    assert re.search(r"^\s*0:\s+5000000 KiB$", out, re.M), out
    assert re.search(r"^\s*1:\s+3500000 KiB$", out, re.M), out
    # The total free memory adds the nodes up, as libvirt does.
    assert virsh(hostd.uri, "freecell").stdout.strip() == "Total: 8500000 KiB"

    conn = libvirt.open(hostd.uri)
    try:
        assert conn.getCellsFreeMemory(0, 8) == [5000000 * 1024, 3500000 * 1024]
        assert conn.getCellsFreeMemory(1, 1) == [3500000 * 1024]
        with pytest.raises(libvirt.libvirtError, match="start cell 2 out of range"):
            conn.getCellsFreeMemory(2, 1)
        caps = ET.fromstring(conn.getCapabilities())
    finally:
        conn.close()
    cells = caps.findall("host/topology/cells/cell")
    assert [(c.get("id"), c.findtext("memory"), c.find("cpus").get("num")) for c in cells] == \
        [("0", "8000000", "2"), ("1", "8000000", "2")]


def test_freecell_without_numa_is_the_host(tmp_path):
    host = fake_host(tmp_path, numa=False, dmi=False)
    root = tmp_path / "root"
    root.mkdir()
    d = Vrtd(str(root), extra_args=["--host-root", str(host)]).start()
    try:
        assert virsh(d.uri, "freecell", "0").stdout.strip() == "0: 9000000 KiB"
        assert fields(virsh(d.uri, "nodememstats", "--cell", "0").stdout)["total"] == "16000000 KiB"
        p = virsh(d.uri, "sysinfo", check=False)
        assert p.returncode != 0 and "Host SMBIOS information is not available" in p.stderr
    finally:
        d.stop()


def test_cpu_map_from_sysfs(hostd):
    conn = libvirt.open(hostd.uri)
    try:
        # Four CPUs present, three online (CPU 2 is offline).
        assert conn.getCPUMap() == (4, [True, True, False, True], 3)
    finally:
        conn.close()


def test_virsh_sysinfo_from_dmi(hostd):
    out = virsh(hostd.uri, "sysinfo").stdout
    si = ET.fromstring(out)
    assert si.get("type") == "smbios"
    entries = {(sec.tag, e.get("name")): e.text for sec in si for e in sec}
    assert entries[("bios", "vendor")] == "Acme BIOS Inc."
    assert entries[("bios", "release")] == "1.2"
    assert entries[("system", "manufacturer")] == "Acme & Sons"
    assert entries[("system", "uuid")] == DMI["product_uuid"]
    assert entries[("baseBoard", "product")] == "RB-1"
    assert entries[("chassis", "asset")] == "A-77"
    assert ("system", "serial") not in entries
    assert [sec.tag for sec in si] == ["bios", "system", "baseBoard", "chassis"]


def test_node_stats_on_the_read_only_socket(hostd):
    conn = libvirt.openReadOnly(hostd.uri_ro)
    try:
        assert conn.getCPUStats(-1)["idle"] == 4000 * NS
        assert conn.getMemoryStats(-1)["cached"] == 2222222
        assert conn.getCellsFreeMemory(0, 2)[1] == 3500000 * 1024
        assert conn.getCPUMap()[0] == 4
        assert "<sysinfo" in conn.getSysinfo()
    finally:
        conn.close()

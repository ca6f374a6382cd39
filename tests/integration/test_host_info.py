"""What monitoring tools and virsh read about the host through vrtd: the
libvirt API level, CPU and memory statistics, free memory per NUMA cell,
the CPU map and SMBIOS data, the page pools (freepages, allocpages) and
same-page merging (node-memory-tune). A made-up host root (--host-root)
decides every number, so each one is checked against the files it came
from; the real host's pools and KSM are read by vrtd and by Debian's
libvirtd side by side."""
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


KSM = {"pages_to_scan": 100, "sleep_millisecs": 20, "pages_shared": 11, "pages_sharing": 222, "pages_unshared": 3333,
       "pages_volatile": 44, "full_scans": 5, "run": 1}


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
        # Huge page pools: 2 MiB and 1 GiB on both nodes (the 1 GiB ones on node 1).
        for n, sizes in {0: {2048: (64, 40), 1048576: (0, 0)}, 1: {2048: (32, 7), 1048576: (4, 3)}}.items():
            for kib, (nr, free) in sizes.items():
                pool = nodes / f"node{n}" / "hugepages" / f"hugepages-{kib}kB"
                pool.mkdir(parents=True)
                (pool / "nr_hugepages").write_text(f"{nr}\n")
                (pool / "free_hugepages").write_text(f"{free}\n")
    for kib, (nr, free) in {2048: (96, 47), 1048576: (4, 3)}.items():
        pool = host / "sys" / "kernel" / "mm" / "hugepages" / f"hugepages-{kib}kB"
        pool.mkdir(parents=True)
        (pool / "nr_hugepages").write_text(f"{nr}\n")
        (pool / "free_hugepages").write_text(f"{free}\n")
    ksm = host / "sys" / "kernel" / "mm" / "ksm"
    ksm.mkdir(parents=True)
    for k, v in KSM.items():
        (ksm / k).write_text(f"{v}\n")
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


# ---- page pools and same-page merging ----

def test_virsh_freepages_per_node_and_size(hostd):
    out = virsh(hostd.uri, "freepages", "--all").stdout
    # the system page from each node's meminfo (KiB / 4), the pools from sysfs
    assert out.split() == ["Node", "0:", "4KiB:", str(5000000 // 4), "2048KiB:", "40", "1048576KiB:", "0",
                           "Node", "1:", "4KiB:", str(3500000 // 4), "2048KiB:", "7", "1048576KiB:", "3"], out
    conn = libvirt.open(hostd.uri)
    try:
        assert conn.getFreePages([4, 2048], 0, 2) == {0: {4: 1250000, 2048: 40}, 1: {4: 875000, 2048: 7}}
        assert conn.getFreePages([1048576], 1, 5) == {1: {1048576: 3}}
        with pytest.raises(libvirt.libvirtError) as e:
            conn.getFreePages([16384], 0, 1)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
        assert "page size 16384 is not available on node 0" in e.value.get_error_message()
        with pytest.raises(libvirt.libvirtError) as e:
            conn.getFreePages([2048], 2, 1)
        assert "start cell 2 out of range (0-1)" in e.value.get_error_message()
    finally:
        conn.close()


def test_virsh_allocpages_sets_and_adds(hostd, tmp_path):
    pool = tmp_path / "host" / "sys" / "devices" / "system" / "node" / "node1" / "hugepages" / "hugepages-2048kB"
    virsh(hostd.uri, "allocpages", "2M", "50", "--cellno", "1")
    assert (pool / "nr_hugepages").read_text() == "50"
    virsh(hostd.uri, "allocpages", "2M", "6", "--cellno", "1", "--add")
    assert (pool / "nr_hugepages").read_text() == "56"
    # the system page size is the kernel's, not a pool
    r = virsh(hostd.uri, "allocpages", "4K", "6", "--cellno", "1", check=False)
    assert r.returncode != 0 and "system pages pool can't be modified" in r.stderr
    conn = libvirt.open(hostd.uri)
    try:
        assert conn.allocPages({1048576: 2}, 0, 2, libvirt.VIR_NODE_ALLOC_PAGES_SET) == 2
        with pytest.raises(libvirt.libvirtError) as e:
            conn.allocPages({16384: 9}, 0, 1, libvirt.VIR_NODE_ALLOC_PAGES_SET)
        assert "page size 16384 is not available on node 0" in e.value.get_error_message()
    finally:
        conn.close()
    ro = libvirt.openReadOnly(hostd.uri_ro)
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            ro.allocPages({2048: 1}, 0, 1, 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()
    assert (pool / "nr_hugepages").read_text() == "56"
    for n in (0, 1):
        gib = pool.parent.parent.parent / f"node{n}" / "hugepages" / "hugepages-1048576kB" / "nr_hugepages"
        assert gib.read_text() == "2"


def test_virsh_node_memory_tune_reads_and_writes_ksm(hostd, tmp_path):
    ksm = tmp_path / "host" / "sys" / "kernel" / "mm" / "ksm"
    conn = libvirt.open(hostd.uri)
    try:
        got = conn.getMemoryParameters(0)
        # this kernel has no merge_across_nodes file: it is left out
        assert got == {"shm_pages_to_scan": 100, "shm_sleep_millisecs": 20, "shm_pages_shared": 11,
                       "shm_pages_sharing": 222, "shm_pages_unshared": 3333, "shm_pages_volatile": 44,
                       "shm_full_scans": 5}
        virsh(hostd.uri, "node-memory-tune", "--shm-pages-to-scan", "300", "--shm-sleep-millisecs", "50")
        assert (ksm / "pages_to_scan").read_text() == "300" and (ksm / "sleep_millisecs").read_text() == "50"
        r = virsh(hostd.uri, "node-memory-tune", "--shm-pages-to-scan", "1", "--shm-merge-across-nodes", "0",
                  check=False)
        assert r.returncode != 0
        assert "Parameter 'shm_merge_across_nodes' is not supported by this kernel" in r.stderr
        assert (ksm / "pages_to_scan").read_text() == "300"  # none written
    finally:
        conn.close()
    out = virsh(hostd.uri, "node-memory-tune").stdout
    assert "shm_pages_to_scan 300" in " ".join(out.split()) and "shm_pages_sharing 222" in " ".join(out.split())


def real_ksm_running():
    try:
        with open("/sys/kernel/mm/ksm/run") as f:
            return f.read().strip() != "0"
    except OSError:
        return True


def test_freepages_and_node_memory_tune_as_libvirtd(vrtd, libvirtd):
    """On the real host: the same cells, sizes and pool counts as Debian's
    libvirtd gives (the system page's free count moves between the two
    reads, so it is compared loosely), and the same KSM settings."""
    a, b = libvirt.open(vrtd.uri), libvirt.open(libvirtd.uri)
    try:
        sizes = sorted(int(p.get("size")) for p in ET.fromstring(b.getCapabilities()).findall("host/cpu/pages"))
        ncells = len(ET.fromstring(b.getCapabilities()).findall("host/topology/cells/cell"))
        va, vb = a.getFreePages(sizes, 0, ncells), b.getFreePages(sizes, 0, ncells)
        assert va.keys() == vb.keys()
        for cell in vb:
            assert va[cell].keys() == vb[cell].keys()
            for size, n in vb[cell].items():
                if size == os.sysconf("SC_PAGE_SIZE") // 1024:
                    assert abs(va[cell][size] - n) <= max(n // 20, 1000), (cell, size, va, vb)
                else:
                    assert va[cell][size] == n, (cell, size, va, vb)
        pa, pb = a.getMemoryParameters(0), b.getMemoryParameters(0)
        assert pa.keys() == pb.keys()
        for k in ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes"):
            if k in pb:
                assert pa[k] == pb[k], k
        if not real_ksm_running():
            assert pa == pb
        for conn in (a, b):
            with pytest.raises(libvirt.libvirtError) as e:
                conn.getFreePages([sizes[0]], ncells + 3, 1)
            assert f"start cell {ncells + 3} out of range (0-{ncells - 1})" in e.value.get_error_message()
    finally:
        a.close()
        b.close()

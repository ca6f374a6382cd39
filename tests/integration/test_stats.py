"""Domain statistics through vrtd with Debian's virsh and python3-libvirt:
virsh domstats and getAllDomainStats / domainListGetStats give libvirt's
field names (state, cpu-total, balloon, vcpu, interface, block groups) with
values that match the domain (its state, its memory, a disk image made with
qemu-img, CPU time that grows), libvirt's flag handling (list filters,
ENFORCE_STATS), and dommemstat, domblkstat, domifstat, domblkinfo and
cpu-stats with libvirt's answers and error codes for bad input."""
import os
import pathlib
import re
import shutil
import tempfile

import pytest

from vrt_fixtures import import_required, run, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt")

KVM = os.access("/dev/kvm", os.R_OK | os.W_OK)
VTYPE = "kvm" if KVM else "qemu"
MAC = "52:54:00:5e:11:01"
DISK_BYTES = 64 * 1024 * 1024
GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON
          | libvirt.VIR_DOMAIN_STATS_VCPU | libvirt.VIR_DOMAIN_STATS_INTERFACE | libvirt.VIR_DOMAIN_STATS_BLOCK)
# Fields libvirtd 9.0 sends in those groups that vrt leaves out: the disk's
# index in libvirt's backing chain numbering, KVM's halt-polling times.
LIBVIRT_ONLY = {"block.N.backingIndex", "cpu.haltpoll.fail.time", "cpu.haltpoll.success.time"}


def domain_xml(name, disk=None, nic=False, balloon=True):
    devices = ""
    if disk:
        devices += (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                    f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>")
    if nic:
        devices += f"<interface type='user'><mac address='{MAC}'/><model type='virtio'/></interface>"
    devices += "<memballoon model='virtio'/>" if balloon else "<memballoon model='none'/>"
    return (f"<domain type='{VTYPE}'><name>{name}</name><memory unit='MiB'>96</memory>"
            "<currentMemory unit='MiB'>96</currentMemory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices>{devices}</devices></domain>")


def make_disk(tmp_path, name="disk.raw"):
    path = str(tmp_path / name)
    run(["qemu-img", "create", "-q", "-f", "raw", path, str(DISK_BYTES)])
    return path


def domstats(uri, *args):
    """virsh domstats output -> {domain: {field: value string}}."""
    out, cur = {}, None
    for line in virsh(uri, "domstats", *args).stdout.splitlines():
        m = re.match(r"Domain: '(.*)'", line)
        if m:
            cur = out.setdefault(m.group(1), {})
        elif "=" in line and cur is not None:
            k, v = line.strip().split("=", 1)
            cur[k] = v
    return out


def error_code(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_code(), str(e.value)


@pytest.fixture
def running(vrtd, tmp_path):
    """A running guest-less domain 'st1' with a raw disk and a user NIC, and
    a defined, inactive 'st2' with the same kind of disk."""
    conn = libvirt.open(vrtd.uri)
    disk = make_disk(tmp_path)
    dom = conn.defineXML(domain_xml("st1", disk=disk, nic=True))
    dom.create()
    off = conn.defineXML(domain_xml("st2", disk=make_disk(tmp_path, "off.raw"), balloon=False))
    yield conn, dom, off, disk
    for d in (dom, off):
        if d.isActive():
            d.destroy()
    conn.close()


def test_virsh_domstats_groups(vrtd, running):
    conn, dom, off, disk = running
    s = domstats(vrtd.uri)
    assert set(s) == {"st1", "st2"}
    on = s["st1"]
    assert on["state.state"] == "1" and on["state.reason"] == "1"  # running, booted
    assert int(on["cpu.time"]) >= int(on["cpu.user"])
    assert "cpu.system" in on and on["cpu.cache.monitor.count"] == "0"
    assert on["balloon.current"] == str(96 * 1024) and on["balloon.maximum"] == str(96 * 1024)
    assert int(on["balloon.rss"]) > 0
    assert on["vcpu.current"] == "1" and on["vcpu.maximum"] == "1"
    assert on["vcpu.0.state"] == "1" and "vcpu.0.time" in on
    # A user NIC has a slot in the count but no host device, as with libvirt.
    assert on["net.count"] == "1" and "net.0.name" not in on
    assert on["block.count"] == "1"
    assert on["block.0.name"] == "vda" and on["block.0.path"] == disk
    for k in ("rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times", "fl.reqs", "fl.times",
              "allocation"):
        assert f"block.0.{k}" in on, k
    assert on["block.0.capacity"] == str(DISK_BYTES)

    # The inactive domain: state, balloon from its definition, vCPU counts,
    # no CPU time, no interface figures, its disk's sizes from the file.
    st2 = s["st2"]
    assert st2["state.state"] == "5"
    assert st2["cpu.time"] == "0" and "net.count" not in st2
    assert st2["balloon.current"] == str(96 * 1024)
    assert st2["vcpu.current"] == "1" and "vcpu.0.state" not in st2
    assert st2["block.0.name"] == "vda" and st2["block.0.capacity"] == str(DISK_BYTES)
    assert st2["block.0.physical"] == str(DISK_BYTES)

    # Groups and filters as virsh passes them.
    only = domstats(vrtd.uri, "--state", "--list-active")
    assert list(only) == ["st1"] and set(only["st1"]) == {"state.state", "state.reason"}
    assert list(domstats(vrtd.uri, "--list-inactive", "--balloon")) == ["st2"]
    assert set(domstats(vrtd.uri, "--vcpu", "st2")["st2"]) >= {"vcpu.current", "vcpu.maximum"}


def test_cpu_time_grows_and_disk_reads_are_counted(vrtd, running):
    conn, dom, off, disk = running

    def stats():
        return conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BLOCK)[0][1]

    first = stats()["cpu.time"]
    wait_for(lambda: stats()["cpu.time"] > first, timeout=30, what="cpu.time to grow")
    # The firmware reads the boot sector of the disk.
    wait_for(lambda: stats()["block.0.rd.reqs"] > 0, timeout=30, what="the firmware to read the disk")
    s = stats()
    assert s["block.0.rd.bytes"] >= 512 * s["block.0.rd.reqs"]


def test_python_get_all_domain_stats_flags(vrtd, running):
    conn, dom, off, disk = running
    recs = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE)
    assert sorted(d.name() for d, _ in recs) == ["st1", "st2"]
    byname = {d.name(): p for d, p in recs}
    assert byname["st1"] == {"state.state": libvirt.VIR_DOMAIN_RUNNING, "state.reason": 1}
    assert byname["st2"]["state.state"] == libvirt.VIR_DOMAIN_SHUTOFF

    recs = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE,
                                  libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE)
    assert [d.name() for d, _ in recs] == ["st2"]
    assert conn.getAllDomainStats(0, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED) == []
    recs = conn.getAllDomainStats(0, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING)
    assert [d.name() for d, _ in recs] == ["st1"]
    assert {"state.state", "cpu.time", "balloon.current", "vcpu.current", "net.count", "block.count"} <= set(recs[0][1])

    # domainListGetStats keeps the caller's order and applies the filters.
    recs = conn.domainListGetStats([off, dom], libvirt.VIR_DOMAIN_STATS_BALLOON)
    assert [d.name() for d, _ in recs] == ["st2", "st1"]
    recs = conn.domainListGetStats([off, dom], libvirt.VIR_DOMAIN_STATS_BALLOON,
                                   libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    assert [d.name() for d, _ in recs] == ["st1"]

    # A domain gone meanwhile is left out of the list; asked alone, it is unknown.
    gone = conn.defineXML(domain_xml("gone"))
    gone.undefine()
    assert [d.name() for d, _ in conn.domainListGetStats([gone, dom])] == ["st1"]
    assert error_code(gone.memoryStats)[0] == libvirt.VIR_ERR_NO_DOMAIN
    assert error_code(gone.blockInfo, "vda")[0] == libvirt.VIR_ERR_NO_DOMAIN

    # A group vrt does not answer: left out, or refused with ENFORCE_STATS.
    recs = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VM)
    assert all(set(p) == {"state.state", "state.reason"} for _, p in recs)
    code, msg = error_code(conn.getAllDomainStats, libvirt.VIR_DOMAIN_STATS_VM,
                           libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)
    assert code == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    assert "Stats types bits 0x400 are not supported" in msg


def test_virsh_dommemstat_domblkstat_domblkinfo(vrtd, running):
    u = vrtd.uri
    conn, dom, off, disk = running
    mem = dict(line.split() for line in virsh(u, "dommemstat", "st1").stdout.strip().splitlines())
    assert mem["actual"] == str(96 * 1024) and int(mem["rss"]) > 0

    blk = dict(line.split()[1:] for line in virsh(u, "domblkstat", "st1", "vda").stdout.strip().splitlines())
    assert {"rd_req", "rd_bytes", "wr_req", "wr_bytes"} <= set(blk)
    assert dom.blockStats(disk)[0] >= 0  # by source path too
    rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
    assert rd_req >= 0 and wr_bytes >= 0 and errs == -1
    flags = dom.blockStatsFlags("vda")
    assert set(flags) == {"rd_bytes", "rd_operations", "rd_total_times", "wr_bytes", "wr_operations",
                          "wr_total_times", "flush_operations", "flush_total_times"}
    assert flags["rd_operations"] >= rd_req

    info = virsh(u, "domblkinfo", "st1", "vda").stdout
    assert re.search(rf"Capacity:\s+{DISK_BYTES}\b", info)
    assert re.search(rf"Physical:\s+{DISK_BYTES}\b", info)
    cap, alloc, phys = dom.blockInfo("vda")
    assert cap == DISK_BYTES and phys == DISK_BYTES
    assert off.blockInfo("vda")[0] == DISK_BYTES  # from the file, domain not running

    code, msg = error_code(dom.blockStats, "sdz")
    assert code == libvirt.VIR_ERR_INVALID_ARG and "invalid path: sdz" in msg
    code, msg = error_code(dom.blockInfo, "sdz")
    assert code == libvirt.VIR_ERR_INVALID_ARG and "invalid path sdz not assigned to domain" in msg
    code, _ = error_code(off.blockStats, "vda")
    assert code == libvirt.VIR_ERR_OPERATION_INVALID
    code, _ = error_code(off.memoryStats)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID
    p = virsh(u, "dommemstat", "nope", check=False)
    assert p.returncode != 0 and "failed to get domain 'nope'" in p.stderr


def test_domifstat_and_cpu_stats(vrtd, running):
    u = vrtd.uri
    conn, dom, off, disk = running
    # A user NIC has no host device to count on: libvirt's answer.
    code, msg = error_code(dom.interfaceStats, MAC)
    assert code == libvirt.VIR_ERR_INTERNAL_ERROR and "Interface name not provided" in msg
    code, msg = error_code(dom.interfaceStats, "vnet99")
    assert code == libvirt.VIR_ERR_INVALID_ARG and "'vnet99' is not a known interface" in msg
    p = virsh(u, "domifstat", "st1", "eth9", check=False)
    assert p.returncode != 0 and "'eth9' is not a known interface" in p.stderr

    total = dom.getCPUStats(True)
    assert len(total) == 1 and set(total[0]) == {"cpu_time", "user_time", "system_time"}
    assert total[0]["cpu_time"] == total[0]["user_time"] + total[0]["system_time"]
    out = virsh(u, "cpu-stats", "st1", "--total").stdout
    assert re.search(r"cpu_time\s+\d+\.\d+ seconds", out)
    # Per-CPU figures need the cpuacct cgroup: libvirt's error without it.
    code, msg = error_code(dom.getCPUStats, False)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID and "cgroup CPUACCT controller is not mounted" in msg
    code, _ = error_code(off.getCPUStats, True)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID


@pytest.fixture
def shared_dir():
    """A directory libvirtd's QEMU user can reach (pytest's is root's alone)."""
    d = tempfile.mkdtemp(prefix="vrt-stats-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


def test_same_fields_as_libvirtd(vrtd, libvirtd, shared_dir):
    """The same domains (a running one with a disk, a user NIC and a balloon,
    an inactive one) on vrtd and on Debian's libvirtd: every field vrtd sends
    libvirtd sends too, with the same value where it is the domain's (state,
    sizes, counts); libvirtd's extra fields are the ones vrt leaves out. The
    same for dommemstat's tags, domblkstat's flags fields, domblkinfo's
    sizes and cpu-stats --total."""
    got, single = {}, {}
    for name, uri in (("vrtd", vrtd.uri), ("libvirtd", libvirtd.uri)):
        conn = libvirt.open(uri)
        dom = conn.defineXML(domain_xml("cmp1", disk=make_disk(shared_dir, f"{name}.raw"), nic=True))
        off = conn.defineXML(domain_xml("cmp2", disk=make_disk(shared_dir, f"{name}-off.raw"), balloon=False))
        dom.create()
        try:
            got[name] = {d.name(): p for d, p in conn.domainListGetStats([dom, off], GROUPS)}
            single[name] = {"mem": set(dom.memoryStats()), "blkinfo": dom.blockInfo("vda"),
                            "blkflags": set(dom.blockStatsFlags("vda")), "offinfo": off.blockInfo("vda")}
            try:
                single[name]["cpu"] = set(dom.getCPUStats(True)[0])
            except libvirt.libvirtError as e:
                single[name]["cpu"] = e.get_error_code()
        finally:
            dom.destroy()
            dom.undefine()
            off.undefine()
            conn.close()
    for dname in ("cmp1", "cmp2"):
        v, lv = got["vrtd"][dname], got["libvirtd"][dname]
        assert set(v) <= set(lv), (dname, sorted(set(v) - set(lv)))
        for k in v:
            if re.match(r"(state\.|balloon\.(current|maximum)|vcpu\.(current|maximum|\d+\.state)|net\.count"
                        r"|net\.\d+\.name|block\.count|block\.\d+\.(name|capacity))", k):
                assert v[k] == lv[k], (dname, k, v[k], lv[k])
        if dname == "cmp2":
            # libvirtd 9.0 reads the times of pid 0, its own, for a domain
            # not running; vrt says what the domain used: nothing.
            assert v["cpu.time"] == 0
        extra = {re.sub(r"\.\d+\.", ".N.", k) for k in set(lv) - set(v)}
        assert extra <= LIBVIRT_ONLY, (dname, sorted(extra - LIBVIRT_ONLY))
    v, lv = single["vrtd"], single["libvirtd"]
    assert v["mem"] <= lv["mem"]
    assert v["blkflags"] == lv["blkflags"]
    assert v["blkinfo"][0] == lv["blkinfo"][0] and v["blkinfo"][2] == lv["blkinfo"][2]  # capacity, physical
    assert v["offinfo"] == lv["offinfo"]
    assert v["cpu"] == lv["cpu"] == {"cpu_time", "user_time", "system_time"}

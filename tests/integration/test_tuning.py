"""Domain tuning through vrtd with Debian's virsh and python3-libvirt:
the cgroup (v2) of each running guest-less QEMU under a delegated subtree
the test makes (machine.slice/machine-vrt\\x2dNAME.scope with emulator/ and
vcpuN/), found again after kill -9 of vrtd and removed at stop; virsh
schedinfo, memtune, blkiotune, numatune with --config (the definition's
<cputune>, <memtune>, <blkiotune>, <numatune>) and --live (the cgroup's
files, or libvirt's "controller is not mounted" where the host's cgroup v2
tree lacks the controller, as on hosts whose cpu and memory controllers
sit in cgroup v1); emulatorpin and vcpupin on the live threads' affinity
(/proc/PID/task/TID/status); read-only connections read but do not set.
The cgroup subtree is the test's own and removed at the end."""
import os
import re
import signal
import uuid

import pytest

from vrt_fixtures import Vrtd, import_required, kill_vms_under, require, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def domain_xml(name, vcpus=1, extra=""):
    kind = "kvm" if kvm_usable() else "qemu"
    return (f"<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>{vcpus}</vcpu>{extra}"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def cgroup2_mount():
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "cgroup2":
                return fields[1]
    return None


def remove_cgroup_tree(path):
    """rmdir of every directory below path, deepest first (a cgroup's
    files go with it), waiting for the threads of QEMUs just killed."""
    def attempt():
        for dirpath, _, _ in sorted(os.walk(path), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
        return not os.path.isdir(path)
    wait_for(attempt, timeout=10, interval=0.05, what=f"{path} to be removed")


@pytest.fixture
def cgroot():
    """A cgroup v2 subtree of this test's own under the host's cgroup2 mount."""
    mount = cgroup2_mount()
    require(mount is not None, "no cgroup v2 file system is mounted")
    path = os.path.join(mount, f"vrt-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.mkdir(path)
    except OSError as e:
        require(False, f"the cgroup v2 tree at {mount} is not writable: {e}")
    yield path
    remove_cgroup_tree(path)


@pytest.fixture
def cgvrtd(tmproot, cgroot):
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write(f'cgroup_root = "{cgroot}"\n')
    d = Vrtd(tmproot, config=conf).start()
    yield d
    d.stop()
    kill_vms_under(tmproot)


@pytest.fixture
def conn(cgvrtd):
    c = libvirt.open(cgvrtd.uri)
    yield c
    c.close()


def scope_dir(cgroot, name):
    esc = name.replace("-", "\\x2d")
    return os.path.join(cgroot, "machine.slice", f"machine-vrt\\x2d{esc}.scope")


def controllers(cgroot):
    """What the delegated root can give its children."""
    with open(os.path.join(cgroot, "cgroup.controllers")) as f:
        return set(f.read().split())


def qemu_pid(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.pid")) as f:
        return int(f.read().strip())


def threads(path):
    with open(os.path.join(path, "cgroup.threads")) as f:
        return {int(x) for x in f.read().split()}


def cpus_allowed(pid, tid=None):
    path = f"/proc/{pid}/task/{tid or pid}/status"
    with open(path) as f:
        return re.search(r"^Cpus_allowed_list:\s*(\S+)", f.read(), re.M).group(1)


def vcpu_thread(conn, name, vcpu):
    dom = conn.lookupByName(name)
    out = libvirt_qemu_monitor(dom, '{"execute":"query-cpus-fast"}')
    for cpu in out["return"]:
        if cpu["cpu-index"] == vcpu:
            return cpu["thread-id"]
    raise AssertionError(f"no vCPU {vcpu} in {out}")


def libvirt_qemu_monitor(dom, cmd):
    import json
    libvirt_qemu = import_required("libvirt_qemu", "python3-libvirt's libvirt_qemu is not installed")
    return json.loads(libvirt_qemu.qemuMonitorCommand(dom, cmd, 0))


# ---- the domain's cgroup ----

def test_cgroup_made_at_start_kept_across_restart_removed_at_stop(conn, cgvrtd, cgroot, tmproot):
    conn.defineXML(domain_xml("cg-1", vcpus=2))
    dom = conn.lookupByName("cg-1")
    dom.create()
    pid = qemu_pid(tmproot, "cg-1")
    scope = scope_dir(cgroot, "cg-1")
    assert os.path.isdir(os.path.join(scope, "emulator"))
    # QEMU's own thread is in emulator/, each vCPU's in vcpuN/.
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().strip().endswith("/machine.slice/machine-vrt\\x2dcg\\x2d1.scope/emulator")
    assert pid in threads(os.path.join(scope, "emulator"))
    for n in (0, 1):
        assert threads(os.path.join(scope, f"vcpu{n}")) == {vcpu_thread(conn, "cg-1", n)}

    # A vrtd killed and started again finds the domain and its cgroup.
    cgvrtd.stop(sig=signal.SIGKILL)
    cgvrtd.start()
    c2 = libvirt.open(cgvrtd.uri)
    try:
        assert c2.lookupByName("cg-1").isActive()
        assert pid in threads(os.path.join(scope, "emulator"))
        c2.lookupByName("cg-1").destroy()
        wait_for(lambda: not os.path.exists(scope), what=f"the domain's cgroup to go: {cgvrtd.stderr()[-1500:]}")
    finally:
        c2.close()
    # machine.slice stays for the next domain.
    assert os.path.isdir(os.path.join(cgroot, "machine.slice"))


def test_cgroup_of_a_domain_gone_while_vrtd_was_down_is_removed(conn, cgvrtd, cgroot, tmproot):
    conn.defineXML(domain_xml("cg-2"))
    conn.lookupByName("cg-2").create()
    pid = qemu_pid(tmproot, "cg-2")
    scope = scope_dir(cgroot, "cg-2")
    assert os.path.isdir(scope)
    cgvrtd.stop(sig=signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}/status") or "zombie" in open(f"/proc/{pid}/status").read(),
             what="QEMU to end")
    cgvrtd.start()
    wait_for(lambda: not os.path.exists(scope), what="the stale cgroup to go")


# ---- schedinfo, memtune, blkiotune, numatune ----

def test_config_tuning_written_to_definition(conn, cgvrtd):
    conn.defineXML(domain_xml("cfg-1", vcpus=2))
    virsh(cgvrtd.uri, "schedinfo", "cfg-1", "--config", "--set", "cpu_shares=2048")
    virsh(cgvrtd.uri, "schedinfo", "cfg-1", "--config", "vcpu_period=100000", "vcpu_quota=50000",
          "emulator_quota=-1", "global_period=200000")
    out = virsh(cgvrtd.uri, "schedinfo", "cfg-1", "--config").stdout
    assert re.search(r"^cpu_shares\s*:\s*2048$", out, re.M), out
    assert re.search(r"^vcpu_quota\s*:\s*50000$", out, re.M), out
    assert re.search(r"^global_period\s*:\s*200000$", out, re.M), out

    virsh(cgvrtd.uri, "memtune", "cfg-1", "--config", "--hard-limit", "1048576", "--soft-limit", "524288")
    out = virsh(cgvrtd.uri, "memtune", "cfg-1", "--config").stdout
    assert re.search(r"^hard_limit\s*:\s*1048576$", out, re.M), out
    assert re.search(r"^soft_limit\s*:\s*524288$", out, re.M), out
    assert re.search(r"^swap_hard_limit\s*:\s*unlimited$", out, re.M), out

    virsh(cgvrtd.uri, "blkiotune", "cfg-1", "--config", "--weight", "300")
    out = virsh(cgvrtd.uri, "blkiotune", "cfg-1", "--config").stdout
    assert re.search(r"^weight\s*:\s*300$", out, re.M), out

    virsh(cgvrtd.uri, "numatune", "cfg-1", "--config", "--mode", "interleave", "--nodeset", "0")
    out = virsh(cgvrtd.uri, "numatune", "cfg-1", "--config").stdout
    assert re.search(r"^numa_mode\s*:\s*interleave$", out, re.M), out
    assert re.search(r"^numa_nodeset\s*:\s*0$", out, re.M), out

    virsh(cgvrtd.uri, "emulatorpin", "cfg-1", "0", "--config")
    virsh(cgvrtd.uri, "vcpupin", "cfg-1", "1", "0", "--config")

    xml = conn.lookupByName("cfg-1").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<blkiotune>\n    <weight>300</weight>\n  </blkiotune>" in xml, xml
    assert ("<memtune>\n    <hard_limit unit='KiB'>1048576</hard_limit>\n"
            "    <soft_limit unit='KiB'>524288</soft_limit>\n  </memtune>") in xml, xml
    assert "<shares>2048</shares>" in xml and "<quota>50000</quota>" in xml and "<period>100000</period>" in xml
    assert "<emulator_quota>-1</emulator_quota>" in xml and "<global_period>200000</global_period>" in xml
    assert "<vcpupin vcpu='1' cpuset='0'/>" in xml and "<emulatorpin cpuset='0'/>" in xml, xml
    assert "<numatune>\n    <memory mode='interleave' nodeset='0'/>\n  </numatune>" in xml, xml

    # Out of libvirt's ranges.
    bad = virsh(cgvrtd.uri, "schedinfo", "cfg-1", "--config", "vcpu_period=10", check=False)
    assert bad.returncode != 0 and "value of 'vcpu_period' is out of range [1000, 1000000]" in bad.stderr
    bad = virsh(cgvrtd.uri, "blkiotune", "cfg-1", "--config", "--weight", "5", check=False)
    assert bad.returncode != 0 and "out of blkio weight range" in bad.stderr


def test_live_cpu_and_memory_tuning(conn, cgvrtd, cgroot):
    conn.defineXML(domain_xml("live-1", vcpus=2))
    dom = conn.lookupByName("live-1")
    dom.create()
    scope = scope_dir(cgroot, "live-1")
    have = controllers(cgroot)
    if "cpu" in have:
        virsh(cgvrtd.uri, "schedinfo", "live-1", "--live", "cpu_shares=300", "vcpu_quota=40000",
              "emulator_period=50000")
        with open(os.path.join(scope, "cpu.weight")) as f:
            assert f.read().strip() == "300"
        for n in (0, 1):
            with open(os.path.join(scope, f"vcpu{n}", "cpu.max")) as f:
                assert f.read().split()[0] == "40000"
        with open(os.path.join(scope, "emulator", "cpu.max")) as f:
            assert f.read().split()[1] == "50000"
        out = virsh(cgvrtd.uri, "schedinfo", "live-1").stdout
        assert re.search(r"^cpu_shares\s*:\s*300$", out, re.M), out
        assert "<shares>300</shares>" in dom.XMLDesc(0)
    else:
        # This host's cgroup v2 tree has no cpu controller (it is in v1).
        r = virsh(cgvrtd.uri, "schedinfo", "live-1", check=False)
        assert r.returncode != 0 and "cgroup CPU controller is not mounted" in r.stderr, r.stderr
    if "memory" in have:
        virsh(cgvrtd.uri, "memtune", "live-1", "--live", "--hard-limit", "262144")
        with open(os.path.join(scope, "memory.max")) as f:
            assert int(f.read()) == 262144 * 1024
        out = virsh(cgvrtd.uri, "memtune", "live-1").stdout
        assert re.search(r"^hard_limit\s*:\s*262144$", out, re.M), out
    else:
        r = virsh(cgvrtd.uri, "memtune", "live-1", "--live", "--hard-limit", "262144", check=False)
        assert r.returncode != 0 and "cgroup memory controller is not mounted" in r.stderr, r.stderr
    if "io" not in have:
        r = virsh(cgvrtd.uri, "blkiotune", "live-1", "--live", check=False)
        assert r.returncode != 0 and "blkio cgroup isn't mounted" in r.stderr, r.stderr
    if "cpuset" not in have:
        r = virsh(cgvrtd.uri, "numatune", "live-1", "--live", "--nodeset", "0", check=False)
        assert r.returncode != 0 and "cgroup cpuset controller is not mounted" in r.stderr, r.stderr


def test_numatune_of_a_domain_without_numatune(conn, cgvrtd, cgroot):
    """`virsh numatune DOM` of a running domain with no <numatune> shows
    libvirt's defaults, live and in the definition; it used to crash
    vrtd. A live nodeset change is refused only for want of the cpuset
    controller, as libvirt refuses it (a domain with no mode may move)."""
    conn.defineXML(domain_xml("nn-1"))
    dom = conn.lookupByName("nn-1")
    dom.create()
    for flags in (libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG, 0):
        assert dom.numaParameters(flags) == {"numa_mode": 0, "numa_nodeset": ""}
    out = virsh(cgvrtd.uri, "numatune", "nn-1").stdout
    assert re.search(r"^numa_mode\s*:\s*strict$", out, re.M), out
    assert conn.getVersion() > 0 and dom.isActive()
    r = virsh(cgvrtd.uri, "numatune", "nn-1", "--live", "--nodeset", "0", check=False)
    if "cpuset" in controllers(cgroot):
        assert r.returncode == 0, r.stderr
        assert dom.numaParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)["numa_nodeset"] == "0"
    else:
        assert r.returncode != 0 and "cgroup cpuset controller is not mounted" in r.stderr, r.stderr
    virsh(cgvrtd.uri, "numatune", "nn-1", "--config", "--nodeset", "0")
    assert dom.numaParameters(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == {"numa_mode": 0, "numa_nodeset": "0"}
    dom.destroy()


def test_start_refused_when_memtune_cannot_be_applied(conn, cgvrtd, cgroot):
    if "memory" in controllers(cgroot):
        pytest.skip("this host's cgroup v2 tree has the memory controller: the limit applies")
    conn.defineXML(domain_xml("mt-1", extra="<memtune><hard_limit unit='MiB'>256</hard_limit></memtune>"))
    with pytest.raises(libvirt.libvirtError) as e:
        conn.lookupByName("mt-1").create()
    assert "Memory cgroup is not available on this host" in str(e.value)
    assert not conn.lookupByName("mt-1").isActive()
    assert not os.path.exists(scope_dir(cgroot, "mt-1"))


# ---- pins ----

def test_vcpupin_and_emulatorpin_live(conn, cgvrtd, tmproot):
    require(os.cpu_count() and os.cpu_count() >= 2, "pinning needs two CPUs")
    conn.defineXML(domain_xml("pin-1", vcpus=2, extra="<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>"))
    dom = conn.lookupByName("pin-1")
    dom.create()
    pid = qemu_pid(tmproot, "pin-1")
    t0, t1 = vcpu_thread(conn, "pin-1", 0), vcpu_thread(conn, "pin-1", 1)
    # The definition's pin applies at start.
    assert cpus_allowed(pid, t0) == "1"

    virsh(cgvrtd.uri, "vcpupin", "pin-1", "1", "0", "--live")
    assert cpus_allowed(pid, t1) == "0"
    out = virsh(cgvrtd.uri, "vcpupin", "pin-1").stdout
    assert re.search(r"^\s*0\s+1$", out, re.M) and re.search(r"^\s*1\s+0$", out, re.M), out

    virsh(cgvrtd.uri, "emulatorpin", "pin-1", "1", "--live")
    assert cpus_allowed(pid) == "1"
    assert cpus_allowed(pid, t1) == "0"  # a vCPU keeps its own pin
    out = virsh(cgvrtd.uri, "emulatorpin", "pin-1").stdout
    assert out.split()[-1] == "1", out
    xml = dom.XMLDesc(0)
    assert "<vcpupin vcpu='1' cpuset='0'/>" in xml and "<emulatorpin cpuset='1'/>" in xml, xml
    # --live leaves the definition alone.
    assert "<emulatorpin" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    bad = virsh(cgvrtd.uri, "vcpupin", "pin-1", "5", "0", "--live", check=False)
    assert bad.returncode != 0 and "vcpu 5 is out of range of live cpu count 2" in bad.stderr, bad.stderr


def test_read_only_connection_reads_but_does_not_set(conn, cgvrtd):
    conn.defineXML(domain_xml("ro-1"))
    virsh(cgvrtd.uri, "memtune", "ro-1", "--config", "--soft-limit", "1024")
    ro = virsh(cgvrtd.uri_ro, "memtune", "ro-1", "--config").stdout
    assert re.search(r"^soft_limit\s*:\s*1024$", ro, re.M), ro
    r = virsh(cgvrtd.uri_ro, "memtune", "ro-1", "--config", "--soft-limit", "2048", check=False)
    assert r.returncode != 0 and "read only access prevents virDomainSetMemoryParameters" in r.stderr, r.stderr
    r = virsh(cgvrtd.uri_ro, "schedinfo", "ro-1", "--config", "cpu_shares=5", check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    r = virsh(cgvrtd.uri_ro, "vcpupin", "ro-1", "0", "0", "--config", check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr

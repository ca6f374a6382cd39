"""The vrt command (and through it libvrt) against a private vrtd and against
Debian's libvirtd: host queries compared with what virsh prints for the same
daemon and with the host's own facts, --json output, error paths and exit
codes, read-only refusal, and the domain, network and node device commands.

Domain, network and node device tests skip themselves while the daemon still
answers their procedures with VIR_ERR_NO_SUPPORT (probed once per daemon)."""
import json
import os
import re
import socket
import subprocess
import time
import uuid

import pytest

from vrt_fixtures import BUILD, VRT, require, run, virsh, vrt

API_TEST = os.path.join(BUILD, "client", "test-libvrt-api")

NO_SUPPORT = "this function is not supported by the connection driver"


def qemu_version():
    out = run(["qemu-system-x86_64", "--version"]).stdout
    return re.search(r"version (\d+\.\d+\.\d+)", out).group(1)


def mem_total_kib():
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1])


def supported(uri, *probe):
    """False when the daemon answers the probe command with VIR_ERR_NO_SUPPORT."""
    p = vrt(uri, *probe, check=False)
    return NO_SUPPORT not in p.stderr


def need(uri, *probe):
    if not supported(uri, *probe):
        pytest.skip(f"the daemon does not serve `{' '.join(probe)}` yet (VIR_ERR_NO_SUPPORT)")


def guestless_domain_xml(name, dom_type="qemu"):
    return (f"<domain type='{dom_type}'><name>{name}</name><memory unit='MiB'>128</memory>"
            "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
            "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>")


@pytest.fixture
def domfile(tmp_path):
    """Writes a guest-less domain with a unique name; yields (name, path)."""
    name = f"vrt-client-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.xml"
    path.write_text(guestless_domain_xml(name))
    return name, str(path)


# ---- host queries against vrtd ----

def test_version_matches_virsh_and_qemu(vrtd):
    out = vrt(vrtd.uri, "version").stdout
    hv = re.search(r"^Running hypervisor: (.*)$", out, re.M).group(1)
    assert hv == f"QEMU {qemu_version()}"
    theirs = virsh(vrtd.uri, "version").stdout
    assert f"Running hypervisor: {hv}" in theirs
    assert re.search(r"^Using library: vrt \d+\.\d+\.\d+$", out, re.M)


def test_hostname_uri_capabilities_match_virsh(vrtd):
    assert vrt(vrtd.uri, "hostname").stdout.strip() == socket.gethostname()
    assert vrt(vrtd.uri, "hostname").stdout.strip() == virsh(vrtd.uri, "hostname").stdout.strip()
    assert vrt(vrtd.uri, "uri").stdout.strip() == vrtd.uri == virsh(vrtd.uri, "uri").stdout.strip()
    caps = vrt(vrtd.uri, "capabilities").stdout
    assert caps.strip() == virsh(vrtd.uri, "capabilities").stdout.strip()
    assert "<capabilities>" in caps and "<host>" in caps


def test_nodeinfo_matches_virsh_and_host(vrtd):
    out = vrt(vrtd.uri, "nodeinfo").stdout
    assert out.strip() == virsh(vrtd.uri, "nodeinfo").stdout.strip()
    assert int(re.search(r"CPU\(s\):\s+(\d+)", out).group(1)) == os.cpu_count()
    assert int(re.search(r"Memory size:\s+(\d+) KiB", out).group(1)) == mem_total_kib()


def test_list_all_matches_virsh(vrtd):
    ours = vrt(vrtd.uri, "list", "--all").stdout.splitlines()
    assert ours[0].split() == ["Id", "Name", "State"]
    assert set(ours[1]) == {"-"}
    rows = [line.split(None, 2) for line in ours[2:] if line.strip()]
    theirs = [line.split(None, 2) for line in virsh(vrtd.uri, "list", "--all").stdout.splitlines() if line.strip()]
    assert rows == theirs


def test_json_output_parses_and_carries_the_same_numbers(vrtd):
    v = json.loads(vrt(vrtd.uri, "--json", "version").stdout)
    major, minor, micro = (int(x) for x in qemu_version().split("."))
    assert v["type"] == "QEMU"
    assert v["hypervisor_version"] == major * 1000000 + minor * 1000 + micro
    assert v["hypervisor"] == qemu_version()

    n = json.loads(vrt(vrtd.uri, "--json", "nodeinfo").stdout)
    text = vrt(vrtd.uri, "nodeinfo").stdout
    assert n["cpus"] == os.cpu_count() == int(re.search(r"CPU\(s\):\s+(\d+)", text).group(1))
    assert n["memory_kib"] == mem_total_kib()
    assert n["mhz"] == int(re.search(r"CPU frequency:\s+(\d+) MHz", text).group(1))
    assert n["sockets"] * n["cores"] * n["threads"] * n["nodes"] == n["cpus"]

    h = json.loads(vrt(vrtd.uri, "--json", "hostname").stdout)
    assert h["hostname"] == socket.gethostname()
    assert json.loads(vrt(vrtd.uri, "nodeinfo", "--json").stdout) == n  # --json after the command too
    lst = json.loads(vrt(vrtd.uri, "--json", "list", "--all").stdout)
    assert isinstance(lst, list)
    assert len(lst) == len([l for l in virsh(vrtd.uri, "list", "--all").stdout.splitlines() if l.strip()])


def test_default_uri_from_environment(vrtd):
    env = dict(os.environ, VRT_DEFAULT_URI=vrtd.uri)
    p = subprocess.run([VRT, "hostname"], capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == socket.gethostname()


# ---- errors and exit codes ----

@pytest.mark.parametrize("uri,words", [
    ("xen:///system", "only the 'qemu' driver"),
    ("qemu+libssh2://example.org/system", "unsupported transport 'libssh2'"),
    ("qemu:///session", "unsupported path '/session'"),
    ("qemu+unix:///system?socket=relative/path", "absolute path"),
])
def test_bad_uri_is_a_clear_error(uri, words):
    p = vrt(uri, "version", check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: ")
    assert words in p.stderr
    assert p.stdout == ""


def test_missing_socket(tmp_path):
    sock = tmp_path / "nothing-here"
    p = vrt(f"qemu+unix:///system?socket={sock}", "version", check=False)
    assert p.returncode == 1
    assert f"Failed to connect socket to '{sock}': No such file or directory" in p.stderr


def test_usage_errors_exit_2(vrtd):
    p = vrt(vrtd.uri, "no-such-command", check=False)
    assert p.returncode == 2
    assert "unknown command: 'no-such-command'" in p.stderr and "usage:" in p.stderr
    p = vrt(vrtd.uri, "dominfo", check=False)
    assert p.returncode == 2
    assert "usage: vrt [-c URI] [-r] [--json] dominfo DOMAIN" in p.stderr
    p = vrt(vrtd.uri, "list", "--bogus", check=False)
    assert p.returncode == 2
    assert "'--bogus'" in p.stderr
    p = run([VRT], check=False)
    assert p.returncode == 2
    p = run([VRT, "--help"], check=False)
    assert p.returncode == 0 and "attach-device" in p.stdout


def test_readonly_refuses_define(vrtd, domfile):
    name, path = domfile
    for args in (["-c", vrtd.uri, "-r"], ["-c", vrtd.uri_ro]):
        p = run([VRT] + args + ["define", path], check=False)
        assert p.returncode == 1
        assert "operation forbidden" in p.stderr and "read only" in p.stderr
    # Queries still work read-only.
    p = run([VRT, "-c", vrtd.uri_ro, "hostname"])
    assert p.stdout.strip() == socket.gethostname()


def test_file_errors(vrtd, tmp_path):
    p = vrt(vrtd.uri, "define", str(tmp_path / "missing.xml"), check=False)
    assert p.returncode == 1
    assert "missing.xml" in p.stderr


# ---- the C API (client/test-libvrt-api.c) ----

def run_api_test(uri):
    p = subprocess.Popen([API_TEST, uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"test-libvrt-api hung; its last steps:\n{err}")
    if p.returncode == 77:
        pytest.skip("the daemon does not serve domain procedures yet (VIR_ERR_NO_SUPPORT)")
    assert p.returncode == 0, f"stdout: {out}\nstderr: {err}"
    assert out.strip() == "ok"


def test_c_api_against_vrtd(vrtd):
    run_api_test(vrtd.uri)


def test_c_api_against_libvirtd(libvirtd):
    run_api_test(libvirtd.uri)


# ---- against Debian's libvirtd (required: vrt works against a real libvirtd) ----

def test_host_queries_against_libvirtd(libvirtd):
    uri = libvirtd.uri
    out = vrt(uri, "version").stdout
    theirs = virsh(uri, "version").stdout
    hv = re.search(r"^Running hypervisor: (.*)$", out, re.M).group(1)
    assert f"Running hypervisor: {hv}" in theirs
    assert re.search(r"^Running against daemon: 9\.\d+\.\d+$", out, re.M)
    assert vrt(uri, "hostname").stdout.strip() == virsh(uri, "hostname").stdout.strip()
    assert vrt(uri, "nodeinfo").stdout.strip() == virsh(uri, "nodeinfo").stdout.strip()
    assert vrt(uri, "capabilities").stdout.strip() == virsh(uri, "capabilities").stdout.strip()
    ours = [l.split(None, 2) for l in vrt(uri, "list", "--all").stdout.splitlines()[2:] if l.strip()]
    theirs = [l.split(None, 2) for l in virsh(uri, "list", "--all").stdout.splitlines() if l.strip()]
    assert ours == theirs
    n = json.loads(vrt(uri, "--json", "nodeinfo").stdout)
    assert n["cpus"] == os.cpu_count()


def test_domain_define_dumpxml_undefine_against_libvirtd(libvirtd, domfile):
    name, path = domfile
    uri = libvirtd.uri
    try:
        assert f"Domain '{name}' defined from {path}" in vrt(uri, "define", path).stdout
        assert f"<name>{name}</name>" in vrt(uri, "dumpxml", "--inactive", name).stdout
        assert vrt(uri, "domstate", name).stdout.strip() == "shut off"
        info = json.loads(vrt(uri, "--json", "dominfo", name).stdout)
        assert info["name"] == name and info["max_memory_kib"] == 131072 and info["persistent"]
        rows = [l.split() for l in vrt(uri, "list", "--all").stdout.splitlines()]
        assert ["-", name, "shut", "off"] in rows
    finally:
        vrt(uri, "undefine", name, check=False)
    p = vrt(uri, "dominfo", name, check=False)
    assert p.returncode == 1
    assert f"error: Domain not found: no domain with matching name '{name}'" in p.stderr


# ---- domains against vrtd ----

def test_domain_define_query_undefine(vrtd, domfile):
    need(vrtd.uri, "dominfo", "probe-domain")
    name, path = domfile
    uri = vrtd.uri
    assert f"Domain '{name}' defined from {path}" in vrt(uri, "define", path).stdout
    rows = [l.split() for l in vrt(uri, "list", "--all").stdout.splitlines()]
    assert ["-", name, "shut", "off"] in rows
    assert name not in vrt(uri, "list").stdout
    assert [d["name"] for d in json.loads(vrt(uri, "--json", "list", "--inactive").stdout)] == [name]
    info = vrt(uri, "dominfo", name).stdout
    assert info.strip() == "\n".join(l for l in virsh(uri, "dominfo", name).stdout.strip().splitlines()
                                     if not l.startswith(("Managed save", "Security")))
    j = json.loads(vrt(uri, "--json", "dominfo", name).stdout)
    assert (j["id"], j["state"], j["cpus"], j["max_memory_kib"]) == (None, "shut off", 1, 131072)
    by_uuid = vrt(uri, "domstate", "--reason", j["uuid"]).stdout.strip()
    assert by_uuid.startswith("shut off (")
    assert json.loads(vrt(uri, "--json", "domstate", name).stdout)["state_code"] == 5
    xml = vrt(uri, "dumpxml", "--inactive", name).stdout
    assert f"<name>{name}</name>" in xml and j["uuid"] in xml
    assert "marked as autostarted" in vrt(uri, "autostart", name).stdout
    assert json.loads(vrt(uri, "--json", "dominfo", name).stdout)["autostart"] is True
    assert "unmarked as autostarted" in vrt(uri, "autostart", "--disable", name).stdout
    assert f"Domain '{name}' has been undefined" in vrt(uri, "undefine", name).stdout
    p = vrt(uri, "dominfo", name, check=False)
    assert p.returncode == 1
    assert f"error: Domain not found: no domain with matching name '{name}'" in p.stderr


def test_domain_lifecycle_and_events(vrtd, domfile):
    need(vrtd.uri, "dominfo", "probe-domain")
    name, path = domfile
    uri = vrtd.uri
    vrt(uri, "define", path)
    events = subprocess.Popen([VRT, "-c", uri, "event", "--all", "--loop", "--timeout", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # let the registration reach the daemon
        p = vrt(uri, "start", name, check=False)
        if p.returncode != 0 and ("KVM" in p.stderr or "qemu" in p.stderr.lower()):
            require(False, f"QEMU cannot start here: {p.stderr.strip()}")
        assert f"Domain '{name}' started" in p.stdout, p.stderr
        row = [l.split() for l in vrt(uri, "list").stdout.splitlines() if name in l][0]
        assert row[1:] == [name, "running"] and int(row[0]) > 0
        assert vrt(uri, "domstate", "--reason", name).stdout.strip() == "running (booted)"
        nic = os.path.join(os.path.dirname(path), "live-nic.xml")
        with open(nic, "w") as f:
            f.write("<interface type='user'><mac address='52:54:00:65:43:21'/><model type='virtio'/></interface>")
        p = vrt(uri, "attach-device", name, nic, "--live", check=False)
        if NO_SUPPORT not in p.stderr:
            assert "Device attached successfully" in p.stdout, p.stderr
            assert "52:54:00:65:43:21" in vrt(uri, "dumpxml", name).stdout
            assert "52:54:00:65:43:21" not in vrt(uri, "dumpxml", "--inactive", name).stdout
        assert "suspended" in vrt(uri, "suspend", name).stdout
        assert vrt(uri, "domstate", name).stdout.strip() == "paused"
        assert "resumed" in vrt(uri, "resume", name).stdout
        assert f"Domain '{name}' destroyed" in vrt(uri, "destroy", name).stdout
        assert vrt(uri, "domstate", name).stdout.strip() == "shut off"
        p = vrt(uri, "destroy", name, check=False)
        assert p.returncode == 1 and "domain is not running" in p.stderr
        time.sleep(0.5)
    finally:
        events.terminate()
        out, _ = events.communicate(timeout=10)
        vrt(uri, "destroy", name, check=False)
        vrt(uri, "undefine", name, check=False)
    assert f"event 'lifecycle' for domain '{name}': Started Booted" in out
    assert f"event 'lifecycle' for domain '{name}': Suspended Paused" in out
    assert f"event 'lifecycle' for domain '{name}': Resumed Unpaused" in out
    assert f"event 'lifecycle' for domain '{name}': Stopped Destroyed" in out


def test_event_timeout_ends_quietly(vrtd):
    need(vrtd.uri, "event", "--all", "--timeout", "1")
    t0 = time.monotonic()
    out = vrt(vrtd.uri, "event", "--all", "--timeout", "1").stdout
    assert time.monotonic() - t0 < 5
    assert "event loop timed out" in out and "events received: 0" in out


def test_attach_detach_device_config(vrtd, domfile, tmp_path):
    need(vrtd.uri, "dominfo", "probe-domain")
    name, path = domfile
    uri = vrtd.uri
    vrt(uri, "define", path)
    dev = tmp_path / "nic.xml"
    dev.write_text("<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>")
    try:
        p = vrt(uri, "attach-device", name, str(dev), "--config", check=False)
        if NO_SUPPORT in p.stderr:
            pytest.skip("attach-device is not served yet")
        assert p.returncode == 0, p.stderr
        assert "Device attached successfully" in p.stdout
        assert "52:54:00:12:34:56" in vrt(uri, "dumpxml", "--inactive", name).stdout
        p = vrt(uri, "attach-device", name, str(dev), "--current", "--live", check=False)
        assert p.returncode == 2  # --current excludes --live
        assert "Device detached successfully" in vrt(uri, "detach-device", name, str(dev), "--config").stdout
        assert "52:54:00:12:34:56" not in vrt(uri, "dumpxml", "--inactive", name).stdout
    finally:
        vrt(uri, "undefine", name, check=False)


# ---- networks and node devices against vrtd ----

HOSTDEV_NET = """<network>
  <name>{name}</name>
  <forward mode='hostdev' managed='yes'>
    <address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x0'/>
  </forward>
</network>
"""


def test_network_define_list_dumpxml_undefine(vrtd, tmp_path):
    need(vrtd.uri, "net-list", "--all")
    uri = vrtd.uri
    name = f"vrtnet-{uuid.uuid4().hex[:6]}"
    f = tmp_path / "net.xml"
    f.write_text(HOSTDEV_NET.format(name=name))
    p = vrt(uri, "net-define", str(f), check=False)
    if NO_SUPPORT in p.stderr:
        pytest.skip("net-define is not served yet")
    assert p.returncode == 0, p.stderr
    try:
        assert f"Network {name} defined from {f}" in p.stdout
        rows = [l.split() for l in vrt(uri, "net-list", "--all").stdout.splitlines()]
        assert [name, "inactive", "no", "yes"] in rows
        assert name not in vrt(uri, "net-list").stdout
        nets = {n["name"]: n for n in json.loads(vrt(uri, "--json", "net-list", "--all").stdout)}
        assert nets[name]["active"] is False and nets[name]["persistent"] is True
        xml = vrt(uri, "net-dumpxml", name).stdout
        assert f"<name>{name}</name>" in xml and "mode='hostdev'" in xml.replace('"', "'")
        assert vrt(uri, "net-dumpxml", name).stdout == virsh(uri, "net-dumpxml", name).stdout
        assert "marked as autostarted" in vrt(uri, "net-autostart", name).stdout
        nets = {n["name"]: n for n in json.loads(vrt(uri, "--json", "net-list", "--all").stdout)}
        assert nets[name]["autostart"] is True
        assert vrt(uri, "net-port-list", name).stdout.splitlines()[0].split() == ["UUID"]
    finally:
        vrt(uri, "net-autostart", "--disable", name, check=False)
        out = vrt(uri, "net-undefine", name, check=False)
    assert f"Network {name} has been undefined" in out.stdout
    p = vrt(uri, "net-dumpxml", name, check=False)
    assert p.returncode == 1 and "Network not found" in p.stderr


def test_nodedev_list_and_dumpxml_match_virsh(vrtd):
    need(vrtd.uri, "nodedev-list")
    uri = vrtd.uri
    ours = vrt(uri, "nodedev-list").stdout.split()
    assert ours == virsh(uri, "nodedev-list").stdout.split()
    pci = vrt(uri, "nodedev-list", "--cap", "pci").stdout.split()
    assert pci == virsh(uri, "nodedev-list", "--cap", "pci").stdout.split()
    assert all(n.startswith("pci_") for n in pci)
    assert json.loads(vrt(uri, "--json", "nodedev-list", "--cap", "pci").stdout) == pci
    if pci:
        assert vrt(uri, "nodedev-dumpxml", pci[0]).stdout.strip() == virsh(uri, "nodedev-dumpxml", pci[0]).stdout.strip()
    p = vrt(uri, "nodedev-list", "--cap", "nonsense", check=False)
    assert p.returncode == 2
    p = vrt(uri, "nodedev-detach", "pci_ffff_ff_1f_7", check=False)
    assert p.returncode == 1 and "Node device not found" in p.stderr


# ---- node devices and a hostdev network on a simulated SR-IOV host ----

def vf_driver(host, addr):
    return os.path.basename(os.readlink(f"{host}/sys/bus/pci/devices/{addr}/driver"))


def test_nodeinfo_describes_the_simulated_host(hostsim_vrtd):
    """hostsim's /proc and cpu/online (4 CPUs at 2600 MHz, 8 GiB), not this machine's."""
    for tool in (vrt, virsh):
        info = tool(hostsim_vrtd.uri, "nodeinfo").stdout
        assert re.search(r"^CPU\(s\):\s+4$", info, re.M), info
        assert re.search(r"^CPU frequency:\s+2600 MHz$", info, re.M), info
        assert re.search(r"^Memory size:\s+8388608 KiB$", info, re.M), info


def test_nodedev_detach_reattach_on_simulated_host(hostsim_vrtd):
    uri = hostsim_vrtd.uri
    need(uri, "nodedev-list")
    pci = vrt(uri, "nodedev-list", "--cap", "pci").stdout.split()
    assert pci == ["pci_0000_06_00_0", "pci_0000_06_10_0", "pci_0000_06_10_1", "pci_0000_06_10_2",
                   "pci_0000_06_10_3"]
    assert pci == virsh(uri, "nodedev-list", "--cap", "pci").stdout.split()
    pf = vrt(uri, "nodedev-dumpxml", "pci_0000_06_00_0").stdout
    assert "<capability type='virt_functions'" in pf.replace('"', "'")
    assert pf.count("slot='0x10'") == 4
    assert vf_driver(hostsim_vrtd.host, "0000:06:10.1") == "ixgbevf"
    assert "Device pci_0000_06_10_1 detached" in vrt(uri, "nodedev-detach", "pci_0000_06_10_1",
                                                       "--driver", "vfio").stdout
    assert vf_driver(hostsim_vrtd.host, "0000:06:10.1") == "vfio-pci"
    assert "Device pci_0000_06_10_1 reset" in vrt(uri, "nodedev-reset", "pci_0000_06_10_1").stdout
    assert "Device pci_0000_06_10_1 re-attached" in vrt(uri, "nodedev-reattach", "pci_0000_06_10_1").stdout
    assert vf_driver(hostsim_vrtd.host, "0000:06:10.1") == "ixgbevf"
    p = vrt(hostsim_vrtd.uri_ro, "nodedev-detach", "pci_0000_06_10_1", check=False)
    assert p.returncode == 1 and "read only" in p.stderr


def test_hostdev_network_and_ports_on_simulated_host(hostsim_vrtd, tmp_path):
    uri = hostsim_vrtd.uri
    need(uri, "net-list", "--all")
    net = tmp_path / "net.xml"
    net.write_text("<network><name>sriov</name><forward mode='hostdev' managed='yes'>"
                   "<pf dev='ens1f0'/></forward></network>")
    port = tmp_path / "port.xml"
    port.write_text("<networkport><owner><name>vm1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
                    "</owner><mac address='52:54:00:aa:bb:cc'/></networkport>")
    assert "Network sriov defined" in vrt(uri, "net-define", str(net)).stdout
    assert "Network sriov started" in vrt(uri, "net-start", "sriov").stdout
    rows = [l.split() for l in vrt(uri, "net-list").stdout.splitlines()]
    assert ["sriov", "active", "no", "yes"] in rows
    assert rows[2:-1] == [l.split() for l in virsh(uri, "net-list").stdout.splitlines() if l.strip()]
    xml = vrt(uri, "net-dumpxml", "sriov").stdout
    assert xml.count("<address type='pci'") == 4
    out = vrt(uri, "net-port-create", "sriov", str(port)).stdout
    port_uuid = re.search(r"Network port ([0-9a-f-]{36}) created", out).group(1)
    assert json.loads(vrt(uri, "--json", "net-port-list", "sriov").stdout) == [port_uuid]
    pxml = vrt(uri, "net-port-dumpxml", "sriov", port_uuid).stdout
    assert "52:54:00:aa:bb:cc" in pxml and "hostdev-pci" in pxml
    p = vrt(uri, "net-destroy", "sriov", check=False)
    assert p.returncode == 1 and "in use" in p.stderr
    assert f"Network port {port_uuid} deleted" in vrt(uri, "net-port-delete", "sriov", port_uuid).stdout
    assert json.loads(vrt(uri, "--json", "net-port-list", "sriov").stdout) == []
    assert "Network sriov destroyed" in vrt(uri, "net-destroy", "sriov").stdout
    assert "Network sriov has been undefined" in vrt(uri, "net-undefine", "sriov").stdout
    assert json.loads(vrt(uri, "--json", "net-list", "--all").stdout) == []


def test_persistent_attach_detach_by_alias_and_update(vrtd, domfile, tmp_path):
    need(vrtd.uri, "dominfo", "probe-domain")
    name, path = domfile
    uri = vrtd.uri
    vrt(uri, "define", path)
    nic = tmp_path / "nic.xml"
    nic.write_text("<interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface>")
    down = tmp_path / "nic-down.xml"
    down.write_text("<interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/>"
                    "<link state='down'/></interface>")
    try:
        p = vrt(uri, "start", name, "--paused", check=False)
        if p.returncode != 0:
            require(False, f"QEMU cannot start here: {p.stderr.strip()}")
        assert vrt(uri, "domstate", name).stdout.strip() == "paused"
        p = vrt(uri, "attach-device", name, str(nic), "--persistent", check=False)
        if NO_SUPPORT in p.stderr:
            pytest.skip("attach-device is not served yet")
        assert "Device attached successfully" in p.stdout, p.stderr
        live = vrt(uri, "dumpxml", name).stdout
        assert "52:54:00:11:22:33" in live and "52:54:00:11:22:33" in vrt(uri, "dumpxml", "--inactive", name).stdout
        alias = re.search(r"<mac address='52:54:00:11:22:33'/>.*?<alias name='([^']+)'/>",
                          live.replace('"', "'"), re.S).group(1)
        # A paused guest never acknowledges the unplug: the request is sent and the device stays.
        p = vrt(uri, "detach-device-alias", name, alias, "--live", check=False)
        assert p.returncode == 0, p.stderr
        assert "Device detach request sent successfully" in p.stdout
        p = vrt(uri, "update-device", name, str(down), "--config", check=False)
        if NO_SUPPORT not in p.stderr:
            assert "Device updated successfully" in p.stdout, p.stderr
            assert "<link state='down'/>" in vrt(uri, "dumpxml", "--inactive", name).stdout.replace('"', "'")
    finally:
        vrt(uri, "destroy", name, check=False)
        vrt(uri, "undefine", name, check=False)


def test_event_json_lines(vrtd, domfile):
    need(vrtd.uri, "dominfo", "probe-domain")
    name, path = domfile
    ev = subprocess.Popen([VRT, "-c", vrtd.uri, "--json", "event", "--all", "--loop", "--timeout", "20"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        vrt(vrtd.uri, "define", path)
        vrt(vrtd.uri, "undefine", name)
        time.sleep(0.5)
    finally:
        ev.terminate()
        out, _ = ev.communicate(timeout=10)
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    mine = [(e["type"], e["detail"], e["type_code"]) for e in events if e["domain"] == name]
    assert mine == [("Defined", "Added", 0), ("Undefined", "Removed", 1)]
    assert all(e["event"] == "lifecycle" for e in events)

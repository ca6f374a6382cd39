"""Checks, with real QEMU under TCG, the guest facts vrt's domain tests rely on.

Each test boots the guest from build-guest.sh directly (no vrtd) and asserts
what a domain test will later assume: the ready marker appears, ACPI power
off makes QEMU exit, a reset boots it again, and a hot-unplugged virtio-net
is acknowledged with DEVICE_DELETED on pc and on q35 behind a root port,
and the guest's DHCP client applies a lease.
Run: /usr/bin/python3 -m pytest tests/guest
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import (Guest, QMPError, guest_paths, domain_xml,  # noqa: E402
                   POWEROFF_MARKER)
from vrt_fixtures import needs, require  # noqa: E402

# Hang guards, not speed checks: on an idle machine a boot takes ~2.5 s, a
# power off ~20 ms and an unplug 60-170 ms, but a TCG guest on two cores
# shared with builds and sanitized daemons has taken over 20 s to boot.
BOOT_BOUND_S = 60
POWEROFF_BOUND_S = 30
UNPLUG_BOUND_S = 20


ROOT_PORT = ["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1"]


@pytest.fixture(scope="module", autouse=True)
def built_guest():
    require(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 not installed")
    kernel, initrd = guest_paths()
    assert os.path.getsize(kernel) > 1_000_000
    assert os.path.getsize(initrd) > 100_000
    return kernel, initrd


def test_paths_are_cached():
    # A second call must not rebuild: same files, same modification times.
    k1, i1 = guest_paths()
    m1 = (os.stat(k1).st_mtime_ns, os.stat(i1).st_mtime_ns)
    k2, i2 = guest_paths()
    assert (k1, i1) == (k2, i2)
    assert m1 == (os.stat(k2).st_mtime_ns, os.stat(i2).st_mtime_ns)


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_boots_to_marker(machine):
    with Guest(machine=machine) as g:
        elapsed = g.wait_ready(timeout=BOOT_BOUND_S)
        print(f"{machine}: ready after {elapsed:.2f} s")
        assert g.qmp.cmd("query-status")["status"] == "running"


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_powerdown_exits_qemu(machine):
    with Guest(machine=machine) as g:
        g.wait_ready(timeout=BOOT_BOUND_S)
        t0 = time.monotonic()
        g.qmp.cmd("system_powerdown")
        ev = g.qmp.wait_event("SHUTDOWN", POWEROFF_BOUND_S)
        assert ev["data"] == {"guest": True, "reason": "guest-shutdown"}
        assert g.wait_exit(POWEROFF_BOUND_S) == 0
        print(f"{machine}: powerdown -> exit {time.monotonic() - t0:.3f} s")
        assert POWEROFF_MARKER in g.console


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_reset_boots_again(machine):
    with Guest(machine=machine) as g:
        g.wait_ready(timeout=BOOT_BOUND_S)
        t0 = time.monotonic()
        g.qmp.cmd("system_reset")
        g.qmp.wait_event("RESET", POWEROFF_BOUND_S)
        g.wait_ready(count=2, timeout=BOOT_BOUND_S)
        print(f"{machine}: reset -> ready {time.monotonic() - t0:.2f} s")
        # The guest is whole again: power button still handled after the reset.
        g.qmp.cmd("system_powerdown")
        g.qmp.wait_event("SHUTDOWN", POWEROFF_BOUND_S)


def test_guest_initiated_reboot():
    with Guest(machine="q35") as g:
        g.wait_ready(timeout=BOOT_BOUND_S)
        g.console_send("reboot -f")
        ev = g.qmp.wait_event("RESET", BOOT_BOUND_S)
        assert ev["data"]["guest"] is True
        g.wait_ready(count=2, timeout=BOOT_BOUND_S)


def test_dhcp_client_applies_its_lease():
    """udhcpc on the console takes a lease from QEMU's user-mode network
    (its DHCP server at 10.0.2.2, DNS at 10.0.2.3) and the guest's event
    script applies it: address, default route, resolv.conf."""
    with Guest(machine="pc", extra_args=["-netdev", "user,id=n0",
                                         "-device", "virtio-net-pci,netdev=n0"]) as g:
        g.wait_ready(timeout=BOOT_BOUND_S)
        # the marker is split so that the console's echo of the line does not count
        g.console_send('udhcpc -i eth0 -q -t 10 -T 2; echo "@@""RC=$?"; '
                       'cat /etc/resolv.conf; route -n; ifconfig eth0; echo "@@""DONE"')
        g.wait_console("@@DONE", timeout=BOOT_BOUND_S)
        out = g.console[g.console.rfind("@@RC="):]
        assert out.startswith("@@RC=0"), out
        assert "VRT-GUEST-LEASE eth0 10.0.2.15" in g.console
        assert "nameserver 10.0.2.3" in out
        assert re.search(r"^0\.0\.0\.0\s+10\.0\.2\.2\s", out, re.M), out
        assert "inet addr:10.0.2.15" in out and "Mask:255.255.255.0" in out


def _hotplug_unplug(g, bus):
    g.wait_ready(timeout=BOOT_BOUND_S)
    g.qmp.cmd("netdev_add", type="user", id="hostnet1")
    args = {"driver": "virtio-net-pci", "id": "net1", "netdev": "hostnet1",
            "mac": "52:54:00:12:34:56"}
    if bus:
        args["bus"] = bus
    g.qmp.cmd("device_add", **args)
    children = {p["name"] for p in g.qmp.cmd("qom-list", path="/machine/peripheral")}
    assert "net1" in children
    # Let the guest's hotplug code see the new function before removing it.
    time.sleep(1)
    t0 = time.monotonic()
    g.qmp.cmd("device_del", id="net1")
    ev = g.qmp.wait_event("DEVICE_DELETED", UNPLUG_BOUND_S,
                          match=lambda e: e["data"].get("device") == "net1")
    took_ms = (time.monotonic() - t0) * 1000
    assert ev["data"] == {"device": "net1", "path": "/machine/peripheral/net1"}
    children = {p["name"] for p in g.qmp.cmd("qom-list", path="/machine/peripheral")}
    assert "net1" not in children
    g.qmp.cmd("netdev_del", id="hostnet1")
    return took_ms


def test_unplug_acknowledged_pc():
    with Guest(machine="pc") as g:
        print(f"pc: device_del -> DEVICE_DELETED {_hotplug_unplug(g, None):.0f} ms")


def test_unplug_acknowledged_q35_root_port():
    with Guest(machine="q35", extra_args=ROOT_PORT) as g:
        print(f"q35: device_del -> DEVICE_DELETED {_hotplug_unplug(g, 'rp1'):.0f} ms")


def test_unplug_without_guest_is_not_acknowledged():
    # Under -S the guest never runs, so nothing answers the unplug request:
    # the case in which vrtd must report "sent" and keep the device.
    with Guest(machine="pc", extra_args=["-S"]) as g:
        g.qmp.cmd("netdev_add", type="user", id="hostnet1")
        g.qmp.cmd("device_add", driver="virtio-net-pci", id="net1",
                  netdev="hostnet1")
        g.qmp.cmd("device_del", id="net1")
        with pytest.raises(TimeoutError):
            g.qmp.wait_event("DEVICE_DELETED", 2)
        # A second request while one is pending: QEMU 7.2 refuses it.
        with pytest.raises(QMPError):
            g.qmp.cmd("device_del", id="net1")


@needs(shutil.which("virt-xml-validate"), "no virt-xml-validate")
@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_domain_xml_validates(machine):
    xml = domain_xml("vrt-guest-" + machine, machine=machine,
                     console_log="/tmp/vrt-guest-console.log",
                     uuid="c7a5fdbd-cdaf-9455-926a-d65c16db1809")
    with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
        f.write(xml)
        f.flush()
        r = subprocess.run(["virt-xml-validate", f.name, "domain"],
                           capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert guest_paths()[0] in xml

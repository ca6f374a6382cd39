"""A network's <bandwidth> set up by vrtd with real tc, on a kernel that
has what libvirt's tc commands need.

The host's kernel may lack the sfq qdisc, the fw classifier or the police
action (test_net_nat.py then sees only the refusal); the test guest's
Debian kernel has them all. So this test boots, under QEMU TCG, that kernel
with the initramfs of tests/guest/build-vrtd-guest.sh, which holds this
build's vrtd and vrt (VRT_BUILD, an ASan build included), iproute2's tc and
ip and the modules. Inside the guest vrtd starts a network with
<bandwidth> (forward mode open, DNS off: no dnsmasq, no nftables), a
network port with an inbound floor comes and goes, the network is
destroyed, and tc's view of the bridge after each step is printed on the
console; the assertions here are those of
test_network_bandwidth_on_the_bridge's success branch plus the floor's
class and filter, as libvirt 9.0 sets them. Nothing touches the host's
interfaces; nothing of tc or the kernel is mocked.

Measured on the project machine (2 shared cores, QEMU 7.2, TCG, 512 MiB):
QEMU's start to its exit 8-16 s with the plain and the ASan build (the
whole test 9-17 s), 19-22 s while the machine compiles; building a build's
initramfs the first time adds 12-35 s, it is cached afterwards (see the
script's header).
"""
import os
import re
import subprocess
import sys
import time

from vrt_fixtures import BUILD, SANITIZER_MARKS, require, scan_sanitizer_reports

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))
import guest as g  # noqa: E402

RUN_TIMEOUT_S = 180
MAC_FILTER = ("match 00000800/0000ffff at -4",    # IPv4 (u16 0x0800 at -2)
              "match 00aa0001/ffffffff at -12",   # 52:54:00:aa:00:01 as destination
              "match 00005254/0000ffff at -16")


def sections(console):
    """{step: (rc, output)} of the guest's VRT-TC-BEGIN/END blocks."""
    text = console.replace("\r\n", "\n")
    return {m.group(1): (int(m.group(3)), m.group(2))
            for m in re.finditer(r"^VRT-TC-BEGIN (\S+)\n(.*?)^VRT-TC-END \1 (-?\d+)$", text, re.S | re.M)}


def test_network_bandwidth_in_the_guest(tmp_path):
    # the kernel and busybox come from Debian's mirrors (build-guest.sh)
    try:
        g.guest_paths()
    except subprocess.CalledProcessError as e:
        require(False, f"the test guest cannot be built here: {(e.stderr or '').strip() or e}")
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")
    # what is put around this build's vrtd must work: no skip from here on
    try:
        paths = g.vrtd_guest_paths(BUILD)
    except subprocess.CalledProcessError as e:
        raise AssertionError(f"build-vrtd-guest.sh failed: {e.stderr}") from e
    guest = g.Guest(memory_mb=512, paths=paths, append=g.VRTD_GUEST_CMDLINE,
                    extra_args=["-no-reboot"], workdir=str(tmp_path))
    t0 = time.monotonic()
    with guest:
        guest.wait_console("VRT-TC-DONE", timeout=RUN_TIMEOUT_S)
        guest.wait_exit(30)
    took = time.monotonic() - t0
    console = guest.console
    s = sections(console)
    vrtd_log = s.get("vrtd-log", (0, ""))[1]
    # the autouse sanitizer check fails the test on a report in it
    log = tmp_path / "guest-vrtd.log"
    log.write_text(vrtd_log)
    scan_sanitizer_reports(str(log))
    uptime = re.search(r"VRT-TC-DONE uptime ([\d.]+)", console).group(1)
    print(f"vrtd guest: {took:.1f} s from QEMU's start to its exit, guest uptime {uptime} s")

    def out(step, rc=0):
        assert step in s, f"no step {step} on the console:\n{console[-3000:]}"
        assert s[step][0] == rc, f"{step}: exit {s[step][0]}:\n{s[step][1]}\nvrtd's log:\n{vrtd_log}"
        return s[step][1]

    assert "Network bw defined" in out("net-define")
    assert "Network bw started" in out("net-start")

    # libvirt's tc setup of the bridge, as test_network_bandwidth_on_the_bridge
    qdiscs = out("started-qdisc")
    assert "qdisc htb 1: root" in qdiscs and "default 0x2" in qdiscs, qdiscs
    assert "qdisc sfq 2: parent 1:2" in qdiscs and "perturb 10sec" in qdiscs, qdiscs
    assert "qdisc ingress ffff:" in qdiscs, qdiscs
    classes = out("started-class")
    # inbound 1000 kB/s is 8 Mbit/s, peak 2000 kB/s 16 Mbit/s, burst 1024 KiB
    assert re.search(r"class htb 1:1 root rate 8Mbit ceil 16Mbit", classes), classes
    assert re.search(r"class htb 1:2 parent 1:1 leaf 2: .*rate 8Mbit ceil 16Mbit burst 1Mb", classes), classes
    assert "fw" in out("started-filter") and "handle 0x1" in out("started-filter")
    police = out("started-ingress")
    # outbound 500 kB/s is 4 Mbit/s; the burst is the average's worth in KiB
    assert re.search(r"police 0x\w+ rate 4Mbit burst 500Kb mtu 64Kb action drop", police), police
    assert "match 00000000/00000000 at 0" in police and "flowid :1" in police, police

    # a port's floor: its own class under 1:1 with an sfq and a u32 filter on
    # its MAC; the default class keeps peak minus the floors (libvirt 9.0)
    assert "Network port 7b8e1f5a-3c2d-4e6f-9a0b-1c2d3e4f5a6b created" in out("port-create")
    classes = out("port-class")
    assert re.search(r"class htb 1:3 parent 1:1 leaf 3: .*rate 1600Kbit ceil 16Mbit", classes), classes
    assert re.search(r"class htb 1:2 parent 1:1 leaf 2: .*rate 14400Kbit ceil 16Mbit", classes), classes
    assert "qdisc sfq 3: parent 1:3" in out("port-qdisc")
    filters = out("port-filter")
    assert re.search(r"protocol ip pref 2 u32 .*fh 800::803 .*flowid 1:3", filters), filters
    assert all(m in filters for m in MAC_FILTER), filters
    assert out("port-ingress") == police

    # the port's deletion takes its class, qdisc and filter back
    assert "deleted" in out("port-delete")
    classes = out("unplugged-class")
    assert "1:3" not in classes, classes
    assert re.search(r"class htb 1:2 parent 1:1 leaf 2: .*rate 16Mbit ceil 16Mbit", classes), classes
    assert "sfq 3:" not in out("unplugged-qdisc")
    assert "pref 2" not in out("unplugged-filter") and "fw" in out("unplugged-filter")
    assert out("unplugged-ingress") == police

    # destroy takes everything with the bridge
    assert "Network bw destroyed" in out("net-destroy")
    assert 'Device "vrtbw0" does not exist' in out("destroyed-link", rc=1)
    left = out("destroyed-qdisc-all")
    assert not any(q in left for q in ("htb", "sfq", "ingress")), left
    assert 'Cannot find device "vrtbw0"' in out("destroyed-class", rc=1)
    assert re.search(r"^\s*bw\s+inactive\s", out("net-list"), re.M)

    # vrtd stopped cleanly and reported nothing (sanitizers included)
    assert out("vrtd-exit") == ""
    assert not any(m in vrtd_log for m in SANITIZER_MARKS), vrtd_log

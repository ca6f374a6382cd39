"""A domain's <features> and paravirtual timers reach QEMU under TCG.

Each switch libvirt passes to QEMU as a property of the guest CPU
(apic eoi, pvspinlock, pmu, kvm hidden, the Hyper-V enlightenments, the
kvmclock timer), of the machine (smm, the ioapic driver), of q35's MCH
(the TSEG size), of the accelerator (tcg tb-cache) or as a device
(vmcoreinfo) is read back from the running QEMU over QMP, and the XML
vrtd gives back keeps them as libvirt writes them.
"""
import json
import os
import re
import xml.etree.ElementTree as ET

from vrt_fixtures import virsh

XML = """<domain type='qemu'><name>feat</name><memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/><apic eoi='on'/>
    <hyperv><relaxed state='on'/><spinlocks state='on' retries='8191'/>
      <vendor_id state='on' value='vrtHv'/></hyperv>
    <kvm><hidden state='on'/></kvm>
    <pvspinlock state='off'/><pmu state='on'/>
    <smm state='on'><tseg unit='MiB'>16</tseg></smm><ioapic driver='qemu'/><vmcoreinfo/>
    <tcg><tb-cache unit='MiB'>64</tb-cache></tcg>
  </features>
  <clock offset='utc'><timer name='kvmclock' present='no'/></clock>
  <devices/></domain>"""


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def qmp(uri, name, command, **arguments):
    cmd = {"execute": command}
    if arguments:
        cmd["arguments"] = arguments
    return json.loads(virsh(uri, "qemu-monitor-command", name, json.dumps(cmd)).stdout)["return"]


def test_features_reach_qemu(vrtd, tmp_path):
    path = tmp_path / "feat.xml"
    path.write_text(XML)
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "feat")
    try:
        cpu = qmp(vrtd.uri, "feat", "query-cpus-fast")[0]["qom-path"]

        def cpu_prop(prop):
            return qmp(vrtd.uri, "feat", "qom-get", path=cpu, property=prop)

        # TCG keeps these as set ...
        assert cpu_prop("pmu") is True
        assert cpu_prop("hv-relaxed") is True
        assert cpu_prop("hv-spinlocks") == 8191
        assert cpu_prop("hv-vendor-id") == "vrtHv"
        assert qmp(vrtd.uri, "feat", "qom-get", path="/machine", property="smm") == "on"
        assert qmp(vrtd.uri, "feat", "qom-get", path="/machine/q35/mch", property="extended-tseg-mbytes") == 16
        types = [d["type"] for d in qmp(vrtd.uri, "feat", "qom-list", path="/machine/peripheral-anon")]
        assert "child<vmcoreinfo>" in types
        argv = qemu_argv(vrtd.root, "feat")
        # ... and drops the KVM paravirtual ones (it has no KVM): they are
        # checked on the command line, in libvirt's order
        assert argv[argv.index("-cpu") + 1] == (
            "qemu64,kvmclock=off,kvm-pv-eoi=on,kvm-pv-unhalt=off,hv-relaxed=on,hv-spinlocks=0x1fff,"
            "hv-vendor-id=vrtHv,kvm=off,pmu=on")
        assert argv[argv.index("-accel") + 1] == "tcg,tb-size=64"
        machine = argv[argv.index("-machine") + 1].split(",")
        assert "kernel_irqchip=split" in machine and "smm=on" in machine

        features = ET.fromstring(virsh(vrtd.uri, "dumpxml", "feat").stdout).find("features")
        assert [c.tag for c in features] == ["acpi", "apic", "hyperv", "kvm", "pvspinlock", "pmu", "smm",
                                             "ioapic", "vmcoreinfo", "tcg"]
        assert features.find("hyperv").get("mode") == "custom"
        assert features.find("smm/tseg").text == "16" and features.find("smm/tseg").get("unit") == "MiB"
        assert features.find("tcg/tb-cache").text == "65536"
    finally:
        virsh(vrtd.uri, "destroy", "feat", check=False)
        virsh(vrtd.uri, "undefine", "feat", check=False)


def test_kvm_dirty_ring_refused_at_start_under_tcg(vrtd, tmp_path):
    """A 'qemu' domain has no KVM accelerator to give a dirty ring to: it
    is defined (as libvirt does) and refused by name when started."""
    path = tmp_path / "ring.xml"
    path.write_text("""<domain type='qemu'><name>ring</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64'>hvm</type></os>
        <features><kvm><dirty-ring state='on' size='4096'/></kvm></features></domain>""")
    virsh(vrtd.uri, "define", str(path))
    try:
        p = virsh(vrtd.uri, "start", "ring", check=False)
        assert p.returncode != 0 and "dirty ring needs a domain of type 'kvm'" in p.stderr
    finally:
        virsh(vrtd.uri, "undefine", "ring", check=False)


def test_cpu_vendor_cache_and_phys_bits_reach_qemu(vrtd, tmp_path):
    """<cpu><model vendor_id>, <cache>, <maxphysaddr> and host-model's
    <feature>s are properties of the guest CPU QEMU runs."""
    path = tmp_path / "cpux.xml"
    path.write_text("""<domain type='qemu'><name>cpux</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <cpu mode='host-model'><model vendor_id='Libvirt QEMU'/><cache mode='disable'/>
          <maxphysaddr mode='emulate' bits='42'/><feature policy='disable' name='sse4.2'/></cpu></domain>""")
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "cpux")
    try:
        cpu = qmp(vrtd.uri, "cpux", "query-cpus-fast")[0]["qom-path"]

        def cpu_prop(prop):
            return qmp(vrtd.uri, "cpux", "qom-get", path=cpu, property=prop)

        assert cpu_prop("vendor") == "Libvirt QEMU"
        assert cpu_prop("phys-bits") == 42
        assert cpu_prop("l3-cache") is False
        assert cpu_prop("sse4.2") is False
        out = virsh(vrtd.uri, "dumpxml", "cpux").stdout
        assert "<model vendor_id='Libvirt QEMU'/>" in out
        assert "<maxphysaddr mode='emulate' bits='42'/>" in out
    finally:
        virsh(vrtd.uri, "destroy", "cpux", check=False)
        virsh(vrtd.uri, "undefine", "cpux", check=False)


def test_clock_offsets_and_timers_reach_qemu(vrtd, tmp_path):
    """An absolute clock starts the guest's RTC at its date (read over QMP),
    a variable one adjustment seconds off UTC, a timezone one in the zone's
    local time (QEMU's TZ); the rtc, pit and hpet timers reach QEMU."""
    path = tmp_path / "clk.xml"
    path.write_text("""<domain type='qemu'><name>clk</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <clock offset='absolute' start='1234567890'><timer name='rtc' tickpolicy='catchup' track='guest'/>
          <timer name='pit' tickpolicy='discard'/><timer name='hpet' present='no'/></clock></domain>""")
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "clk")
    try:
        tm = qmp(vrtd.uri, "clk", "qom-get", path="/machine", property="rtc-time")
        # 1234567890 is 2009-02-13T23:31:30Z; the guest is paused, its clock stands
        assert (tm["tm_year"], tm["tm_mon"], tm["tm_mday"], tm["tm_hour"], tm["tm_min"]) == (109, 1, 13, 23, 31)
        argv = qemu_argv(vrtd.root, "clk")
        assert argv[argv.index("-rtc") + 1] == "base=2009-02-13T23:31:30,clock=vm,driftfix=slew"
        assert "kvm-pit.lost_tick_policy=discard" in argv and "-no-hpet" in argv
        assert qmp(vrtd.uri, "clk", "qom-get", path="/machine", property="hpet") is False
    finally:
        virsh(vrtd.uri, "destroy", "clk", check=False)
        virsh(vrtd.uri, "undefine", "clk", check=False)

    path.write_text("""<domain type='qemu'><name>tz</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <clock offset='timezone' timezone='Etc/GMT-5'/></domain>""")
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "tz")
    try:
        with open(os.path.join(vrtd.root, "run", "vrt", "qemu", "tz.xml")) as f:
            pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert b"TZ=Etc/GMT-5" in f.read().split(b"\0")
        argv = qemu_argv(vrtd.root, "tz")
        assert argv[argv.index("-rtc") + 1] == "base=localtime"
    finally:
        virsh(vrtd.uri, "destroy", "tz", check=False)
        virsh(vrtd.uri, "undefine", "tz", check=False)


def test_boot_menu_timeout_and_bios_options_reach_qemu(vrtd, tmp_path):
    """<bootmenu timeout>, <bios rebootTimeout> and <bios useserial> are
    QEMU's -boot splash-time/reboot-timeout and -machine graphics=off."""
    path = tmp_path / "bt.xml"
    path.write_text("""<domain type='qemu'><name>bt</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type><bootmenu enable='yes' timeout='3000'/>
          <bios useserial='yes' rebootTimeout='128'/></os>
        <devices><serial type='pty'/></devices></domain>""")
    virsh(vrtd.uri, "define", str(path))
    virsh(vrtd.uri, "start", "bt")
    try:
        argv = qemu_argv(vrtd.root, "bt")
        assert argv[argv.index("-boot") + 1] == "order=c,menu=on,reboot-timeout=128,splash-time=3000,strict=on"
        assert "graphics=off" in argv[argv.index("-machine") + 1].split(",")
        assert qmp(vrtd.uri, "bt", "qom-get", path="/machine", property="graphics") is False
        assert "<bios useserial='yes' rebootTimeout='128'/>" in virsh(vrtd.uri, "dumpxml", "bt").stdout
    finally:
        virsh(vrtd.uri, "destroy", "bt", check=False)
        virsh(vrtd.uri, "undefine", "bt", check=False)

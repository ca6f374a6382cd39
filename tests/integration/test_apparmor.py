"""qemu.conf's security_driver, as libvirtd reads it: where the host has
no AppArmor (this kernel has no AppArmor module), asking for "apparmor"
or "selinux" stops vrtd at start-up with libvirt's "Security driver NAME
not enabled", and "none" or no key runs it with no AppArmor profile: the
capabilities list no apparmor model, a start writes no profile and the
live XML has no apparmor <seclabel>. Where the host has AppArmor the same
start would load libvirt-UUID (tests/unit's qemu-apparmor checks the
profile's text and parse)."""
import os
import subprocess

import pytest

from vrt_fixtures import Vrtd, virsh

HOST_HAS_APPARMOR = (os.path.exists("/sys/kernel/security/apparmor")
                     and open("/sys/module/apparmor/parameters/enabled").read().startswith("Y")
                     if os.path.exists("/sys/module/apparmor/parameters/enabled") else False)


def qemu_conf(root, text):
    os.makedirs(os.path.join(root, "etc", "vrt"), exist_ok=True)
    with open(os.path.join(root, "etc", "vrt", "qemu.conf"), "w") as f:
        f.write(text)


@pytest.mark.skipif(HOST_HAS_APPARMOR, reason="the host has AppArmor: asking for it is no error there")
@pytest.mark.parametrize("value,name", [('"apparmor"', "apparmor"), ('[ "selinux" ]', "selinux"),
                                        ('[ "apparmor", "dac" ]', "apparmor")])
def test_a_driver_the_host_lacks_stops_vrtd(tmproot, value, name):
    qemu_conf(tmproot, f"security_driver = {value}\n")
    v = Vrtd(tmproot).start(wait=False)
    try:
        v.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        v.stop()
        pytest.fail("vrtd started with a security driver the host has not")
    assert v.proc.returncode != 0
    assert f"Security driver {name} not enabled" in v.stderr()


@pytest.mark.skipif(HOST_HAS_APPARMOR, reason="the host has AppArmor")
@pytest.mark.parametrize("conf", ["", 'security_driver = "none"\n'])
def test_no_apparmor_no_profile(tmproot, conf):
    qemu_conf(tmproot, conf + 'user = "root"\ngroup = "root"\n')
    v = Vrtd(tmproot).start()
    try:
        caps = virsh(v.uri, "capabilities").stdout
        assert "<model>apparmor</model>" not in caps
        assert "<model>none</model>" in caps
        xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
               f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
               f"<devices><controller type='usb' model='none'/><memballoon model='none'/></devices></domain>")
        path = os.path.join(tmproot, "g.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh(v.uri, "define", path)
        virsh(v.uri, "start", "g")
        assert "model='apparmor'" not in virsh(v.uri, "dumpxml", "g").stdout
        assert not os.path.exists(os.path.join(tmproot, "etc", "apparmor.d", "libvirt"))
        virsh(v.uri, "destroy", "g")
    finally:
        v.stop()

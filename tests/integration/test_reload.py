"""SIGHUP makes vrtd reload its domain and network definitions, as libvirtd
does: a file placed by hand under <root>/etc/vrt/qemu or .../network is
listed, a changed file of an inactive domain is its new definition, a file
that no longer parses leaves the domain as it was (and is logged with its
name), and a running domain keeps running with its client still connected.
Before, SIGHUP ended vrtd (exit status 129)."""
import os
import re
import signal

import libvirt
import pytest

from vrt_fixtures import Vrtd, pid_alive, virsh, wait_for
from test_qemu_driver import define, domain_xml, qemu_pid, qemu_reaper  # noqa: F401


UUID = "5b0c4d7e-1f2a-4c3b-9d8e-7a6b5c4d3e2f"


@pytest.fixture
def vrtd(tmproot):
    """A vrtd logging at level 2 (info), where each reload says what it did;
    a file it cannot take is a warning, logged at the default level too."""
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write("log_level = 2\n")
    d = Vrtd(tmproot, config=conf).start()
    yield d
    d.stop()


def sighup(vrtd):
    """Sends SIGHUP and waits until vrtd logged the end of that reload."""
    done = vrtd.stderr().count("reload: domains:")
    vrtd.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: vrtd.stderr().count("reload: domains:") > done or vrtd.proc.poll() is not None,
             what="vrtd's reload")
    assert vrtd.proc.poll() is None, f"vrtd exited with {vrtd.proc.returncode} on SIGHUP"


def config_file(root, kind, name):
    return os.path.join(root, "etc", "vrt", kind, f"{name}.xml")


def set_memory_mib(path, mib):
    with open(path) as f:
        xml = f.read()
    xml, n = re.subn(r"<memory unit='KiB'>\d+</memory>", f"<memory unit='KiB'>{mib * 1024}</memory>", xml)
    assert n == 1, xml
    with open(path, "w") as f:
        f.write(xml)


def test_sighup_lists_domain_and_network_files_added_by_hand(vrtd, tmproot):
    os.makedirs(os.path.dirname(config_file(tmproot, "qemu", "x")), exist_ok=True)
    os.makedirs(os.path.dirname(config_file(tmproot, "network", "x")), exist_ok=True)
    with open(config_file(tmproot, "qemu", "byhand"), "w") as f:
        # With its uuid, as a file copied from another host: without one,
        # each read makes up a new uuid, which a later reload refuses for
        # the known name (as libvirt's).
        f.write(domain_xml("byhand").replace("<name>", f"<uuid>{UUID}</uuid><name>"))
    with open(config_file(tmproot, "network", "nethand"), "w") as f:
        f.write("<network><name>nethand</name><forward mode='hostdev' managed='yes'>"
                "<pf dev='eth9'/></forward></network>")
    assert "byhand" not in virsh(vrtd.uri, "list", "--all").stdout

    sighup(vrtd)
    assert re.search(r"byhand\s+shut off", virsh(vrtd.uri, "list", "--all").stdout)
    assert re.search(r"nethand\s+inactive", virsh(vrtd.uri, "net-list", "--all").stdout)
    assert "domain 'byhand' added" in vrtd.stderr()
    assert "network 'nethand' added" in vrtd.stderr()
    # A second reload finds nothing new and changes nothing.
    sighup(vrtd)
    assert "domains: 0 added, 0 updated" in vrtd.stderr()
    assert "networks: 0 added, 0 updated" in vrtd.stderr()
    assert "skipping" not in vrtd.stderr()
    assert virsh(vrtd.uri, "list", "--all", "--name").stdout.split() == ["byhand"]
    assert virsh(vrtd.uri, "domuuid", "byhand").stdout.strip() == UUID


def test_sighup_takes_changed_file_of_inactive_domain(vrtd, tmproot):
    define(vrtd.uri, tmproot, "vm1")
    assert "<memory unit='KiB'>65536</memory>" in virsh(vrtd.uri, "dumpxml", "vm1").stdout
    set_memory_mib(config_file(tmproot, "qemu", "vm1"), 128)

    sighup(vrtd)
    assert "<memory unit='KiB'>131072</memory>" in virsh(vrtd.uri, "dumpxml", "vm1").stdout
    assert "domain 'vm1' updated" in vrtd.stderr()


def test_sighup_keeps_definition_whose_file_no_longer_parses(vrtd, tmproot):
    define(vrtd.uri, tmproot, "vm1")
    before = virsh(vrtd.uri, "dumpxml", "vm1").stdout
    path = config_file(tmproot, "qemu", "vm1")
    with open(path, "w") as f:
        f.write("<domain type='kvm'><name>vm1</name><memory")

    sighup(vrtd)
    assert virsh(vrtd.uri, "dumpxml", "vm1").stdout == before
    assert re.search(r"shut off", virsh(vrtd.uri, "domstate", "vm1").stdout)
    assert any(path in line for line in vrtd.stderr().splitlines() if "reload" in line), vrtd.stderr()


def test_sighup_leaves_running_domain_and_its_client_alone(vrtd, tmproot, qemu_reaper):
    conn = libvirt.open(vrtd.uri)
    try:
        define(vrtd.uri, tmproot, "vm1")
        dom = conn.lookupByName("vm1")
        dom.create()
        pid = qemu_pid(tmproot, "vm1")
        set_memory_mib(config_file(tmproot, "qemu", "vm1"), 128)

        sighup(vrtd)
        # Same connection, same QEMU, same live definition.
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert pid_alive(pid) and qemu_pid(tmproot, "vm1") == pid
        assert "<memory unit='KiB'>65536</memory>" in dom.XMLDesc(0)
        # As libvirt: the file is the definition of its next start.
        assert "<memory unit='KiB'>131072</memory>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert conn.isAlive() == 1
        dom.destroy()
        assert "<memory unit='KiB'>131072</memory>" in dom.XMLDesc(0)
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["qemu", "network"])
def test_sighup_keeps_objects_whose_file_was_removed(vrtd, tmproot, kind):
    # As libvirt's reload, which only adds and updates: undefine removes.
    if kind == "qemu":
        define(vrtd.uri, tmproot, "vm1")
        name, listing = "vm1", ["list", "--all", "--name"]
    else:
        path = os.path.join(tmproot, "n.xml")
        with open(path, "w") as f:
            f.write("<network><name>n1</name><forward mode='hostdev' managed='yes'>"
                    "<pf dev='eth9'/></forward></network>")
        virsh(vrtd.uri, "net-define", path)
        name, listing = "n1", ["net-list", "--all", "--name"]
    os.unlink(config_file(tmproot, kind, name))

    sighup(vrtd)
    assert name in virsh(vrtd.uri, *listing).stdout.split()


def test_sighup_lists_storage_pool_file_added_by_hand(vrtd, tmproot):
    d = os.path.join(tmproot, "etc", "vrt", "storage")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "handmade.xml"), "w") as f:
        f.write(f"<pool type='dir'><name>handmade</name><uuid>{UUID}</uuid>"
                f"<target><path>{tmproot}/handmade</path></target></pool>")
    assert "handmade" not in virsh(vrtd.uri, "pool-list", "--all", "--name").stdout.split()
    sighup(vrtd)
    assert "handmade" in virsh(vrtd.uri, "pool-list", "--all", "--name").stdout.split()
    assert UUID in virsh(vrtd.uri, "pool-uuid", "handmade").stdout
    virsh(vrtd.uri, "pool-start", "handmade", "--build")
    assert os.path.isdir(os.path.join(tmproot, "handmade"))

"""Ansible's community.libvirt modules (Debian's ansible package) against
vrtd, as an operator's playbook drives a libvirt host: virt_pool defines,
builds, starts, autostarts, describes and removes a dir pool; virt_net
defines, starts, describes and stops the default NAT network (vrtd in a
network namespace of the test's own, as in test_net_nat.py); virt defines,
starts, queries and removes a domain. Each result is checked with virsh
against the same vrtd, and the play's own answers (facts, info) are read
from Ansible's JSON output."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from test_net_nat import DEFAULT_XML, netns, nsvrtd  # noqa: F401 (fixtures)
from vrt_fixtures import require, run, virsh

PLAYBOOK = shutil.which("ansible-playbook")


def collection_present():
    return os.path.isdir("/usr/lib/python3/dist-packages/ansible_collections/community/libvirt")


@pytest.fixture
def play(tmp_path):
    """Runs a playbook (a list of tasks against localhost) and returns the
    JSON callback's task results by task name."""
    require(PLAYBOOK is not None and collection_present(),
            "Ansible with community.libvirt (apt-get install ansible)")
    env = dict(os.environ)
    # Everything Ansible writes stays in the test's directory.
    env.update({"ANSIBLE_HOME": str(tmp_path / "ansible"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
                "ANSIBLE_REMOTE_TEMP": str(tmp_path / "tmp"), "ANSIBLE_STDOUT_CALLBACK": "json",
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"})

    def run_play(tasks, check=True):
        path = tmp_path / f"play-{uuid.uuid4().hex[:6]}.json"
        # A playbook is YAML, and JSON is YAML.
        path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        p = subprocess.run([PLAYBOOK, "-i", "localhost,", "-c", "local", str(path)], capture_output=True,
                           text=True, env=env, timeout=300)
        out = json.loads(p.stdout)
        results = {}
        for t in out["plays"][0]["tasks"]:
            results[t["task"]["name"]] = t["hosts"]["localhost"]
        if check:
            assert p.returncode == 0, json.dumps(results, indent=1)[-3000:]
        return results

    return run_play


def pool_xml(name, path):
    return (f"<pool type='dir'><name>{name}</name><target><path>{path}</path>"
            "<permissions><mode>0755</mode></permissions></target></pool>")


def test_virt_pool_lifecycle(vrtd, play, tmp_path):
    uri = vrtd.uri
    target = str(tmp_path / "pool-images")
    m = "community.libvirt.virt_pool"
    r = play([
        {"name": "define", m: {"command": "define", "name": "ans", "xml": pool_xml("ans", target), "uri": uri}},
        {"name": "build", m: {"command": "build", "name": "ans", "uri": uri}},
        {"name": "start", m: {"state": "active", "name": "ans", "uri": uri}},
        {"name": "autostart", m: {"autostart": True, "name": "ans", "uri": uri}},
        {"name": "list", m: {"command": "list_pools", "uri": uri}},
        {"name": "status", m: {"command": "status", "name": "ans", "uri": uri}},
        {"name": "facts", m: {"command": "facts", "uri": uri}},
        {"name": "info", m: {"command": "info", "uri": uri}},
        {"name": "start again", m: {"state": "active", "name": "ans", "uri": uri}},
    ])
    assert os.path.isdir(target)
    assert oct(os.stat(target).st_mode & 0o777) == "0o755"
    assert r["define"]["changed"] and r["start"]["changed"]
    assert not r["start again"]["changed"]  # idempotent, as against libvirtd
    assert "ans" in r["list"]["list_pools"]
    assert r["status"]["status"] == "active"
    facts = r["facts"]["ansible_facts"]["ansible_libvirt_pools"]["ans"]
    assert facts["state"] == "active" and facts["autostart"] == "yes" and facts["persistent"] == "yes"
    assert facts["path"] == target and facts["type"] == "dir"
    assert int(facts["size_total"]) > 0
    assert r["info"]["pools"]["ans"]["status"] == "running"
    assert "yes" in virsh(uri, "pool-info", "ans").stdout.split("Autostart:")[1].split("\n")[0]

    r = play([
        {"name": "stop", m: {"state": "inactive", "name": "ans", "uri": uri}},
        {"name": "delete", m: {"command": "delete", "name": "ans", "uri": uri}},
        {"name": "undefine", m: {"state": "undefined", "name": "ans", "uri": uri}},
    ])
    assert all(r[t]["changed"] for t in ("stop", "delete", "undefine"))
    assert not os.path.exists(target)
    assert "ans" not in virsh(uri, "pool-list", "--all", "--name").stdout.split()


def test_virt_net_default_network(nsvrtd, netns, play):  # noqa: F811 (fixtures)
    uri = nsvrtd.uri
    with open(DEFAULT_XML) as f:
        xml = f.read()
    m = "community.libvirt.virt_net"
    r = play([
        {"name": "define", m: {"command": "define", "name": "default", "xml": xml, "uri": uri}},
        {"name": "start", m: {"state": "active", "name": "default", "uri": uri}},
        {"name": "autostart", m: {"autostart": True, "name": "default", "uri": uri}},
        {"name": "list", m: {"command": "list_nets", "uri": uri}},
        {"name": "status", m: {"command": "status", "name": "default", "uri": uri}},
        {"name": "facts", m: {"command": "facts", "uri": uri}},
        {"name": "info", m: {"command": "info", "uri": uri}},
    ])
    assert "default" in r["list"]["list_nets"]
    assert r["status"]["status"] == "active"
    facts = r["facts"]["ansible_facts"]["ansible_libvirt_networks"]["default"]
    assert facts["state"] == "active" and facts["autostart"] == "yes" and facts["bridge"] == "virbr0"
    assert r["info"]["networks"]["default"]["state"] == "active"
    # the bridge is really there, with the network's address
    addr = run(["ip", "-n", netns, "-o", "addr", "show", "dev", "virbr0"]).stdout
    assert "192.168.122.1/24" in addr

    r = play([
        {"name": "stop", m: {"state": "inactive", "name": "default", "uri": uri}},
        {"name": "undefine", m: {"command": "undefine", "name": "default", "uri": uri}},
    ])
    assert r["stop"]["changed"]
    assert run(["ip", "-n", netns, "link", "show", "dev", "virbr0"], check=False).returncode != 0
    assert "default" not in virsh(uri, "net-list", "--all", "--name").stdout.split()


def test_virt_domain(vrtd, play):
    uri = vrtd.uri
    xml = ("<domain type='qemu'><name>ans-vm</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
           "<devices><memballoon model='none'/></devices></domain>")
    m = "community.libvirt.virt"
    r = play([
        {"name": "define", m: {"command": "define", "xml": xml, "uri": uri}},
        {"name": "start", m: {"name": "ans-vm", "state": "running", "uri": uri}},
        {"name": "status", m: {"name": "ans-vm", "command": "status", "uri": uri}},
        {"name": "info", m: {"command": "info", "uri": uri}},
        {"name": "destroy", m: {"name": "ans-vm", "state": "destroyed", "uri": uri}},
        {"name": "undefine", m: {"name": "ans-vm", "command": "undefine", "uri": uri}},
    ])
    assert r["start"]["changed"]
    assert r["status"]["status"] == "running"
    assert r["info"]["ans-vm"]["state"] == "running"
    assert r["destroy"]["changed"]
    assert "ans-vm" not in virsh(uri, "list", "--all", "--name").stdout.split()

"""vrtd's admin interface as Debian's virt-admin uses it (libvirt's admin
program on <root>/run/vrt/vrtd-admin-sock, reached with libvirt's own URI
scheme and its socket parameter): the servers, the worker pool and the
client limits changed at run time, the clients with their transport and
identity, a client disconnected (it reads EOF and vrtd serves the next),
the log's outputs and filters changed at run time, and libvirt-admin's
errors. Debian's python3-libvirt has no libvirt_admin module, so virt-admin
(libvirt-admin.so) is the unmodified client here."""
import os
import re
import shutil
import stat
import subprocess

import pytest

from vrt_fixtures import VRT, import_required, require, run, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


@pytest.fixture
def admin(vrtd):
    require(shutil.which("virt-admin"), "virt-admin (libvirt-clients) is not installed")
    vrtd.admin_sock = os.path.join(vrtd.root, "run", "vrt", "vrtd-admin-sock")
    vrtd.admin_uri = f"libvirtd:///system?socket={vrtd.admin_sock}"
    return vrtd


def va(d, *args, check=True):
    """virt-admin's output (stdout + stderr) for one command."""
    p = subprocess.run(["virt-admin", "-c", d.admin_uri] + list(args), capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def kv(text):
    """virt-admin's 'name : value' lines as a dict."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"(\w+)\s*:\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def clients(d, server="vrtd"):
    """{id: transport} of virt-admin srv-clients-list."""
    out = {}
    for line in va(d, "srv-clients-list", server).splitlines():
        cols = line.split()
        if cols and cols[0].isdigit():
            out[int(cols[0])] = cols[1]
    return out


def test_admin_socket_is_root_only_and_lists_two_servers(admin):
    st = os.stat(admin.admin_sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0
    out = va(admin, "srv-list")
    assert "vrtd" in out and "admin" in out, out
    assert "Running against daemon: 9.0.0" in va(admin, "version")


def test_admin_program_only_on_admin_socket(admin):
    # The remote program's socket does not serve the admin program ...
    out = va(admin, "-c", f"libvirtd:///system?socket={admin.sock}", "srv-list", check=False)
    assert "cannot find program" in out, out
    # ... and the admin socket does not serve the remote program.
    with pytest.raises(libvirt.libvirtError, match="cannot find program"):
        libvirt.open(f"qemu+unix:///system?socket={admin.admin_sock}")


def test_threadpool_max_workers_changes_at_run_time(admin):
    info = kv(va(admin, "srv-threadpool-info", "vrtd"))
    assert info["maxWorkers"] == "20" and set(info) >= {"minWorkers", "nWorkers", "freeWorkers", "prioWorkers",
                                                       "jobQueueDepth"}, info
    va(admin, "srv-threadpool-set", "vrtd", "--max-workers", "3")
    assert kv(va(admin, "srv-threadpool-info", "vrtd"))["maxWorkers"] == "3"
    # Worker calls still run with the smaller pool.
    conn = libvirt.open(admin.uri)
    assert "<capabilities>" in conn.getCapabilities()
    assert int(kv(va(admin, "srv-threadpool-info", "vrtd"))["nWorkers"]) <= 3
    conn.close()
    out = va(admin, "srv-threadpool-set", "vrtd", "--max-workers", "0", check=False)
    assert "maxWorkers must be greater than 0" in out, out


def test_client_limits_get_and_set(admin):
    conn = libvirt.open(admin.uri)
    info = kv(va(admin, "srv-clients-info", "vrtd"))
    assert info == {"nclients_max": "5000", "nclients": "1", "nclients_unauth_max": "20", "nclients_unauth": "0"}
    va(admin, "srv-clients-set", "vrtd", "--max-clients", "40", "--max-unauth-clients", "10")
    info = kv(va(admin, "srv-clients-info", "vrtd"))
    assert info["nclients_max"] == "40" and info["nclients_unauth_max"] == "10", info
    # vrtd's own check (virt-admin checks the two only when both are given).
    out = va(admin, "srv-clients-set", "vrtd", "--max-unauth-clients", "41", check=False)
    assert "must not be less than the number of clients waiting for authentication" in out, out
    assert kv(va(admin, "srv-clients-info", "vrtd"))["nclients_max"] == "40"
    conn.close()


def test_clients_listed_with_identity_and_disconnected(admin):
    rw = libvirt.open(admin.uri)
    ro = libvirt.openReadOnly(admin.uri_ro)
    listed = clients(admin)
    assert sorted(listed.values()) == ["unix", "unix"], listed
    infos = {cid: kv(va(admin, "client-info", "vrtd", str(cid))) for cid in listed}
    for info in infos.values():
        assert info["unix_process_id"] == str(os.getpid()), info
        assert info["unix_user_id"] == "0" and info["unix_user_name"] == "root", info
        assert info["unix_group_id"] == "0", info
    assert sorted(i["readonly"] for i in infos.values()) == ["no", "yes"], infos
    # The admin client itself is the admin server's, not vrtd's.
    assert clients(admin, "admin")

    rw_id = next(cid for cid, i in infos.items() if i["readonly"] == "no")
    va(admin, "client-disconnect", "vrtd", str(rw_id))
    with pytest.raises(libvirt.libvirtError):
        rw.getVersion()
    wait_for(lambda: rw_id not in clients(admin), what="the client gone from the list")
    assert ro.getVersion() > 0
    again = libvirt.open(admin.uri)
    assert again.getVersion() > 0
    assert max(clients(admin)) > rw_id
    again.close()
    ro.close()


def test_unknown_server_and_client_errors(admin):
    out = va(admin, "srv-threadpool-info", "nope", check=False)
    assert "Server not found: No server named 'nope'" in out, out
    out = va(admin, "client-info", "vrtd", "4242", check=False)
    assert "Client not found: No client with matching ID '4242'" in out, out
    out = va(admin, "srv-update-tls", "vrtd", check=False)
    assert "no tls service found" in out, out


def test_log_outputs_and_filters_at_run_time(admin):
    logfile = os.path.join(admin.root, "admin.log")
    assert va(admin, "daemon-log-outputs").split(":", 1)[1].strip() == "3:stderr"
    va(admin, "daemon-log-outputs", "--outputs", f"1:file:{logfile}")
    assert logfile in va(admin, "daemon-log-outputs")
    # log_level is 3: the admin handler's info message is not written ...
    va(admin, "srv-threadpool-set", "vrtd", "--max-workers", "9")
    assert "max_workers is now 9" not in open(logfile).read()
    # ... until a filter matching it lowers its level to debug (vrt's
    # filters match a message's text: its messages carry no source file).
    va(admin, "daemon-log-filters", "--filters", "1:max_workers 4:+qemu")
    assert va(admin, "daemon-log-filters").split(":", 1)[1].strip() == "1:max_workers 4:+qemu"
    va(admin, "srv-threadpool-set", "vrtd", "--max-workers", "11")
    wait_for(lambda: "max_workers is now 11" in open(logfile).read(), what="the filtered message in the log")
    out = va(admin, "daemon-log-filters", "--filters", "7:x", check=False)
    assert "is not LEVEL:MATCH" in out, out
    assert va(admin, "daemon-log-filters").split(":", 1)[1].strip() == "1:max_workers 4:+qemu"
    va(admin, "daemon-log-filters", "--filters", "")
    assert va(admin, "daemon-log-filters").split(":", 1)[1].strip() == ""


def test_admin_socket_refuses_non_root(admin):
    require(shutil.which("setpriv"), "setpriv (util-linux) is not installed")
    p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "virt-admin", "-c", admin.admin_uri,
             "srv-list"], check=False)
    assert p.returncode != 0


def vrt_admin(d, *args, check=True):
    """`vrt admin --socket ... ARGS`: libvrt's admin API through the vrt command."""
    p = subprocess.run([VRT, "admin", f"--socket={d.admin_sock}"] + list(args), capture_output=True, text=True,
                       timeout=30)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def test_vrt_admin_commands(admin):
    out = vrt_admin(admin, "srv-list")
    assert "vrtd" in out and "admin" in out, out
    vrt_admin(admin, "srv-threadpool-set", "vrtd", "--max-workers", "6")
    assert kv(vrt_admin(admin, "srv-threadpool-info", "vrtd"))["maxWorkers"] == "6"
    # virt-admin sees what vrt changed, and the reverse.
    assert kv(va(admin, "srv-threadpool-info", "vrtd"))["maxWorkers"] == "6"
    va(admin, "srv-clients-set", "vrtd", "--max-clients", "60")
    assert kv(vrt_admin(admin, "srv-clients-info", "vrtd"))["nclients_max"] == "60"
    vrt_admin(admin, "srv-clients-set", "vrtd", "--max-clients", "70", "--max-unauth-clients", "7")
    info = kv(va(admin, "srv-clients-info", "vrtd"))
    assert info["nclients_max"] == "70" and info["nclients_unauth_max"] == "7", info

    conn = libvirt.open(admin.uri)
    rows = [line.split() for line in vrt_admin(admin, "srv-clients-list", "vrtd").splitlines()]
    ids = [int(r[0]) for r in rows if r and r[0].isdigit()]
    assert len(ids) == 1 and [r[1] for r in rows if r and r[0].isdigit()] == ["unix"], rows
    info = kv(vrt_admin(admin, "client-info", "vrtd", str(ids[0])))
    assert info["unix_process_id"] == str(os.getpid()) and info["readonly"] == "no", info
    assert f"Client '{ids[0]}' disconnected" in vrt_admin(admin, "client-disconnect", "vrtd", str(ids[0]))
    with pytest.raises(libvirt.libvirtError):
        conn.getVersion()

    vrt_admin(admin, "daemon-log-filters", "--filters", "2:qemu")
    assert "Logging filters: 2:qemu" in vrt_admin(admin, "daemon-log-filters")
    assert "2:qemu" in va(admin, "daemon-log-filters")
    assert "Logging outputs: 3:stderr" in vrt_admin(admin, "daemon-log-outputs")

    out = vrt_admin(admin, "client-info", "vrtd", "777", check=False)
    assert "Client not found: No client with matching ID '777'" in out, out
    out = vrt_admin(admin, "srv-threadpool-info", "nope", check=False)
    assert "Server not found: No server named 'nope'" in out, out

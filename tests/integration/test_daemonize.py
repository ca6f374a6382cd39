"""vrtd --daemon, as libvirtd --daemon: the command returns once the daemon
serves, with status 0, or, when the daemon fails after the fork (its pid
file is held, a socket cannot be made), with a non-zero status and the
daemon's error on stderr, not silently with 0."""
import os
import signal
import subprocess

from vrt_fixtures import VRTD, Vrtd, pid_alive, virsh, wait_for


def daemonize(root, *extra):
    return subprocess.run([VRTD, "--daemon", "--root", root, *extra], capture_output=True, text=True, timeout=60)


def test_daemon_returns_once_serving(tmproot):
    p = daemonize(tmproot)
    assert p.returncode == 0, p.stderr
    pidfile = os.path.join(tmproot, "run", "vrt", "vrtd.pid")
    with open(pidfile) as f:
        pid = int(f.read())
    try:
        # Serving when the command returned: no wait here.
        d = Vrtd(tmproot)
        assert virsh(d.uri, "version", check=False).returncode == 0
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), what="vrtd to stop")


def test_pid_file_held_fails_in_parent(vrtd, tmproot):
    p = daemonize(tmproot)
    assert p.returncode != 0
    assert "vrtd: " in p.stderr and "vrtd.pid" in p.stderr, p.stderr
    # The running daemon is untouched.
    assert virsh(vrtd.uri, "version", check=False).returncode == 0


def test_socket_error_fails_in_parent(tmproot):
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write('unix_sock_group = "no-such-group-for-vrt"\n')
    p = daemonize(tmproot, "--config", conf)
    assert p.returncode != 0
    assert "no-such-group-for-vrt" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(tmproot, "run", "vrt", "vrtd.pid"))


def test_bad_config_fails_in_parent(tmproot):
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write("max_clients = oops\n")
    p = daemonize(tmproot, "--config", conf)
    assert p.returncode != 0 and "vrtd: " in p.stderr, p.stderr

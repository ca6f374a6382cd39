"""Streams through vrtd as virsh and python3-libvirt users see them: a
running guest's serial console (virDomainOpenConsole: the boot output, a
shell that answers, `virsh console` on a terminal left with Ctrl-]), one
holder at a time (libvirt's "Active console session exists" without FORCE,
a takeover with it), a channel's socket, a screenshot (a PPM image), a
client that goes away mid-stream, the read-only refusal, and the end of the
stream when the domain is destroyed.

One guest boots for the whole module (TCG on a busy machine: many seconds);
the tests run in the order written and the last one destroys it."""
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from vrt_fixtures import VRT, Vrtd, import_required, kill_vms_under, qemu_user_ids, require, virsh, vrt, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))

BOOT_TIMEOUT = 180
READY = b"VRT-GUEST-READY"


def read_until(st, want, timeout=60):
    """Reads stream st until want shows up; returns all that was read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while want not in buf:
        assert time.monotonic() < deadline, f"no {want!r} on the console; got {buf[-500:]!r}"
        chunk = st.recv(4096)
        assert chunk, f"the console ended before {want!r}; got {buf[-500:]!r}"
        buf += chunk
    return buf


def shell(st, command, want, timeout=60):
    """Runs command in the guest's shell on console st; returns the output up to want."""
    st.send(command.encode() + b"\n")
    return read_until(st, want, timeout)


class Env:
    pass


@pytest.fixture(scope="module")
def env():
    try:
        import guest as g
        g.guest_paths()
    except Exception as e:  # noqa: BLE001 - reported as the missing prerequisite
        require(False, f"the test guest cannot be built here: {e}")
    root = tempfile.mkdtemp(prefix="vrt-con-")
    # QEMU runs as libvirt-qemu: it reaches the root and binds the
    # channel's socket in a directory of its own (as under libvirt).
    os.chmod(root, 0o755)
    chan_dir = os.path.join(root, "chan")
    os.mkdir(chan_dir)
    qemu_user = qemu_user_ids()
    if qemu_user:
        os.chown(chan_dir, *qemu_user)
    d = Vrtd(root).start()
    e = Env()
    e.root, e.vrtd = root, d
    e.chan = os.path.join(chan_dir, "chan.sock")
    devices = ("<serial type='pty'><target port='0'/></serial>"
               "<console type='pty'><target type='serial' port='0'/></console>"
               "<controller type='virtio-serial' index='0'/>"
               f"<channel type='unix'><source mode='bind' path='{e.chan}'/>"
               "<target type='virtio' name='org.example.test.0'/></channel>"
               "<video><model type='vga'/></video>"
               "<video><model type='virtio' heads='2'/></video>")
    e.conn = None
    try:
        e.conn = libvirt.open(d.uri)
        e.dom = e.conn.defineXML(g.domain_xml("con1", machine="pc", devices=devices))
        e.dom.create()
        # Opened right away: the boot output is read from its start.
        e.st = e.conn.newStream(0)
        e.dom.openConsole(None, e.st, 0)
        e.boot = read_until(e.st, READY, BOOT_TIMEOUT)
        yield e
    finally:
        if e.conn:
            e.conn.close()
        d.stop()
        kill_vms_under(root)
        shutil.rmtree(root, ignore_errors=True)


def test_console_shows_the_boot_and_runs_commands(env):
    # The kernel's messages and the guest's marker came through the stream.
    assert b"Linux version" in env.boot
    assert READY in env.boot
    # Written data reaches the guest's shell; its answer comes back.
    out = shell(env.st, "echo con-$((6*7))", b"con-42")
    assert b"con-42" in out
    # The live XML says which pty the console uses, as libvirt's does.
    xml = env.dom.XMLDesc(0)
    assert "<source path='/dev/pts/" in xml


def test_second_console_is_refused_then_taken_with_force(env):
    st2 = env.conn.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        env.dom.openConsole(None, st2, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "Active console session exists for this domain" in e.value.get_error_message()

    # Another connection forces: the first stream ends with an error, the
    # new one is the console now.
    conn2 = libvirt.open(env.vrtd.uri)
    try:
        dom2 = conn2.lookupByName("con1")
        st3 = conn2.newStream(0)
        dom2.openConsole(None, st3, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        with pytest.raises(libvirt.libvirtError) as e:
            while env.st.recv(4096):
                pass
        assert "stream had I/O failure" in e.value.get_error_message()
        assert b"con-forced" in shell(st3, "echo con-forced", b"con-forced")
        st3.finish()
    finally:
        conn2.close()
    # Finished, the console is free again for this connection.
    env.st = env.conn.newStream(0)
    env.dom.openConsole(None, env.st, 0)
    shell(env.st, "echo con-back", b"con-back")


def console_on_a_terminal(env, argv, marker):
    """Runs argv (virsh or vrt console) on a pty: it shows the console, runs
    a command in the guest's shell and leaves on Ctrl-] with status 0."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
    os.close(slave)
    out = b""

    def read_until_pty(want, timeout=60, resend=None):
        nonlocal out
        deadline = time.monotonic() + timeout
        while want not in out:
            assert time.monotonic() < deadline, f"the console showed no {want!r}: {out[-500:]!r}"
            if resend:
                # Typed before the command made the terminal raw, a line is
                # flushed away: type it again until the guest answers.
                os.write(master, resend)
            r, _, _ = select.select([master], [], [], 3 if resend else 1)
            while r:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    return out
                r, _, _ = select.select([master], [], [], 0.2)
        return out

    try:
        read_until_pty(b"Escape character is ^]")
        read_until_pty(f"{marker}-5".encode(), resend=f"echo {marker}-$((2+3))\r".encode())
        os.write(master, b"\x1d")  # Ctrl-]
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def test_virsh_console_on_a_terminal(env):
    # virsh console needs the console free: this connection lets it go.
    env.st.finish()
    console_on_a_terminal(env, ["virsh", "-c", env.vrtd.uri, "console", "con1"], "virsh")
    # virsh let the console go: it can be opened without FORCE.
    env.st = env.conn.newStream(0)
    env.dom.openConsole(None, env.st, 0)


def test_vrt_console_and_screenshot(env, tmp_path):
    env.st.finish()
    console_on_a_terminal(env, [VRT, "-c", env.vrtd.uri, "console", "con1"], "vrtcli")
    out = tmp_path / "vrt.ppm"
    p = vrt(env.vrtd.uri, "screenshot", "con1", str(out))
    assert f"Screenshot saved to {out}, with type of image/x-portable-pixmap" in p.stdout
    assert out.read_bytes().startswith(b"P6\n")
    # A held console: vrt says what libvirt says.
    env.st = env.conn.newStream(0)
    env.dom.openConsole(None, env.st, 0)
    p = subprocess.run([VRT, "-c", env.vrtd.uri, "console", "con1"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "Active console session exists for this domain" in p.stderr


def test_channel_is_held_like_a_console(env):
    st = env.conn.newStream(0)
    env.dom.openChannel("org.example.test.0", st, 0)
    st2 = env.conn.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        env.dom.openChannel("org.example.test.0", st2, 0)
    assert "Active console session exists for this domain" in e.value.get_error_message()
    st.abort()
    st2 = env.conn.newStream(0)
    env.dom.openChannel("org.example.test.0", st2, 0)
    st2.finish()
    with pytest.raises(libvirt.libvirtError) as e:
        env.dom.openChannel("no-such-channel", env.conn.newStream(0), 0)
    assert "cannot find channel no-such-channel" in e.value.get_error_message()


def test_screenshot_is_a_ppm_image(env, tmp_path):
    st = env.conn.newStream(0)
    mime = env.dom.screenshot(st, 0, 0)
    assert mime == "image/x-portable-pixmap"
    data = b""
    while True:
        chunk = st.recv(262144)
        if not chunk:
            break
        data += chunk
    st.finish()
    magic, dims, maxval, pixels = data.split(b"\n", 3)
    assert magic == b"P6" and maxval == b"255"
    w, h = map(int, dims.split())
    assert len(pixels) == w * h * 3
    # virsh screenshot writes the same kind of file; no temporary file is left.
    out = tmp_path / "shot.ppm"
    virsh(env.vrtd.uri, "screenshot", "con1", str(out))
    assert out.read_bytes().startswith(b"P6\n")
    left = [f for _, _, files in os.walk(os.path.join(env.root, "run")) for f in files if "screendump" in f]
    assert left == []


def screenshot_dims(dom, conn, screen):
    st = conn.newStream(0)
    dom.screenshot(st, screen, 0)
    data = b""
    while True:
        chunk = st.recv(262144)
        if not chunk:
            break
        data += chunk
    st.finish()
    magic, dims, _ = data.split(b"\n", 2)
    assert magic == b"P6"
    return tuple(map(int, dims.split()))


def test_screenshot_of_each_screen(env):
    # Screens count across the video devices and their heads, as in
    # libvirt: 0 is the VGA, 1 and 2 the two heads of the virtio GPU.
    for screen in (0, 1, 2):
        w, h = screenshot_dims(env.dom, env.conn, screen)
        assert w > 0 and h > 0
    with pytest.raises(libvirt.libvirtError) as e:
        env.dom.screenshot(env.conn.newStream(0), 3, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    assert "no such screen ID" in e.value.get_error_message()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_client_gone_mid_stream_leaves_vrtd_serving(env):
    env.st.finish()  # the console is free for the other client
    before = open_fds(env.vrtd.proc.pid)
    # Another process takes the console, reads from it, and dies without a word.
    code = textwrap.dedent(f"""
        import libvirt, os, sys
        c = libvirt.open({env.vrtd.uri!r})
        st = c.newStream(0)
        c.lookupByName("con1").openConsole(None, st, 0)
        st.send(b"echo gone-$((1+1))\\n")
        buf = b""
        while b"gone-2" not in buf:
            buf += st.recv(4096)
        print("read", flush=True)
        os._exit(0)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.strip() == "read", p.stderr
    # vrtd let the console go with the client, and serves this connection.
    wait_for(lambda: open_fds(env.vrtd.proc.pid) == before, timeout=20, what="vrtd to close the client's fds")
    env.st = env.conn.newStream(0)
    env.dom.openConsole(None, env.st, 0)
    assert b"after-3" in shell(env.st, "echo after-$((1+2))", b"after-3")


def test_read_only_connection_cannot_open_the_console(env):
    ro = libvirt.openReadOnly(env.vrtd.uri_ro)
    try:
        dom = ro.lookupByName("con1")
        with pytest.raises(libvirt.libvirtError) as e:
            dom.openConsole(None, ro.newStream(0), 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        with pytest.raises(libvirt.libvirtError) as e:
            dom.screenshot(ro.newStream(0), 0, 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()


def test_destroy_ends_the_console_stream(env):
    # Last: the guest goes. The console's reader sees the end of the stream.
    shell(env.st, "echo last", b"last")
    env.dom.destroy()
    deadline = time.monotonic() + 30
    while env.st.recv(4096):
        assert time.monotonic() < deadline, "the console did not end with the domain"
    with pytest.raises(libvirt.libvirtError) as e:
        env.dom.openConsole(None, env.conn.newStream(0), 0)
    assert "domain is not running" in e.value.get_error_message()
    # Started again (its new pty is often the old one's number), the console
    # is free although the old stream was not finished yet.
    env.dom.create()
    st = env.conn.newStream(0)
    env.dom.openConsole(None, st, 0)
    read_until(st, READY, BOOT_TIMEOUT)
    env.st.finish()
    env.dom.destroy()
    while st.recv(4096):
        pass
    st.finish()

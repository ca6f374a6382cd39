"""vrtd started by systemd socket activation (systemd-socket-activate passes
the listening sockets, named as the unit files name them)."""
import os
import shutil
import signal
import socket
import subprocess

import pytest

from vrt_fixtures import VRTD, import_required, needs, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


@needs(shutil.which("systemd-socket-activate"), "systemd-socket-activate is not installed")
def test_socket_activation(tmproot):
    rw = os.path.join(tmproot, "act-sock")
    ro = os.path.join(tmproot, "act-sock-ro")
    proc = subprocess.Popen(["systemd-socket-activate", "-l", rw, "-l", ro, "--fdname=vrtd:vrtd-ro",
                             VRTD, "--root", tmproot],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.exists(rw) and os.path.exists(ro), what="activation sockets")
        uri = f"qemu+unix:///system?socket={rw}"
        # The first connection starts vrtd, which serves the passed socket.
        assert virsh(uri, "hostname").stdout.strip() == socket.gethostname()
        # vrtd made no sockets of its own.
        assert not os.path.exists(os.path.join(tmproot, "run", "vrt", "vrtd-sock"))
        # The socket named vrtd-ro is read-only.
        roc = libvirt.openReadOnly(f"qemu+unix:///system?socket={ro}")
        with pytest.raises(libvirt.libvirtError) as e:
            roc.defineXML("<domain type='qemu'><name>x</name><memory>1024</memory><os><type>hvm</type></os></domain>")
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        roc.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""Two vrtd hosts for live migration, shared by the migration test
(test_migrate.py) and its benchmark (bench/bench_migrate.py): two network
namespaces joined by a veth pair made inside them (10.77.0.1/24 and
10.77.0.2/24, gone with the namespaces, so nothing touches the host's
interfaces), a CA with a server certificate per address and a client
certificate, and a vrtd per host with its own root, certificates,
host_uuid and migration address, listening on TLS in its namespace."""
import os
import shutil
import subprocess
import uuid

from pki import IP, Netns, NsVrtd, Pki, install_server
from vrt_fixtures import qemu_user_ids

SRC_IP, DST_IP = "10.77.0.1", "10.77.0.2"
SRC_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000001"
DST_UUID = "4b1c9a5e-0d4e-4f0a-9a57-1f6a0c000002"


def ns_ip(ns, *args):
    subprocess.run([IP, "-n", ns.name, *args], check=True, capture_output=True)


def make_net():
    """The two namespaces (source, destination), joined; close() both."""
    a, b = Netns(), Netns()
    try:
        ns_ip(a, "link", "add", "vrtm0", "type", "veth", "peer", "name", "vrtm1", "netns", b.name)
        ns_ip(a, "addr", "add", SRC_IP + "/24", "dev", "vrtm0")
        ns_ip(a, "link", "set", "vrtm0", "up")
        ns_ip(b, "addr", "add", DST_IP + "/24", "dev", "vrtm1")
        ns_ip(b, "link", "set", "vrtm1", "up")
    except Exception:
        a.close()
        b.close()
        raise
    return a, b


def make_certs(d):
    """A CA under d, server certificates for both addresses (p.src, p.dst)
    and a client certificate with its pkipath directory (p.client)."""
    p = Pki(d)
    p.src = p.cert("src", SRC_IP, "tls_www_server", f'ip_address = "{SRC_IP}"\n')
    p.dst = p.cert("dst", DST_IP, "tls_www_server", f'ip_address = "{DST_IP}"\n')
    p.client_key, p.client_cert = p.cert("client", "client1")
    p.client = p.client_dir("client", p.client_key, p.client_cert)
    return p


def unprivileged_postcopy():
    """QEMU 7.2 asks for userfaultfd(2) by the system call alone, which a
    process without CAP_SYS_PTRACE gets only with vm.unprivileged_userfaultfd
    = 1 (it knows no /dev/userfaultfd)."""
    try:
        with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
            return f.read().strip() == "1"
    except OSError:
        return True


# Post-copy needs userfaultfd in the destination QEMU: where its
# unprivileged user may not have it, these hosts run QEMU as root
# (qemu.conf's user = "root"); test_confine.py covers the confined QEMU.
QEMU_ROOT = not unprivileged_postcopy()


def start_vrtd(ns, certs, key_cert, host_uuid, address, root, extra="", extra_args=("--listen",)):
    """vrtd on root in ns, with TLS on address; .tls is its TLS URI;
    extra_args are vrtd's options (--listen and, say, --host-root)."""
    # QEMU runs as libvirt-qemu, which must reach its run directory here.
    os.chmod(root, 0o755)
    install_server(certs, root, *key_cert)
    # Its own client certificate, for a peer-to-peer migration's connection.
    for src, dst in ((certs.client_cert, "etc/pki/libvirt/clientcert.pem"),
                     (certs.client_key, "etc/pki/libvirt/private/clientkey.pem")):
        shutil.copy(src, os.path.join(root, dst))
    # QEMU's own (--tls) at migrate_tls_x509_cert_dir's default: the host's
    # server certificate for the incoming side, the client one for the
    # outgoing side.
    qemu_pki = os.path.join(root, "etc/pki/qemu")
    os.makedirs(qemu_pki, exist_ok=True)
    for src, dst in ((certs.ca, "ca-cert.pem"), (key_cert[1], "server-cert.pem"), (key_cert[0], "server-key.pem"),
                     (certs.client_cert, "client-cert.pem"), (certs.client_key, "client-key.pem")):
        shutil.copy(src, os.path.join(qemu_pki, dst))
    # QEMU reads them as its user: group libvirt-qemu, 0640, as libvirt's
    # documentation asks of /etc/pki/qemu.
    ids = qemu_user_ids()
    if ids:
        for d in (os.path.join(root, "etc"), os.path.join(root, "etc/pki"), qemu_pki):
            os.chmod(d, 0o755)
        for f in os.listdir(qemu_pki):
            os.chown(os.path.join(qemu_pki, f), 0, ids[1])
            os.chmod(os.path.join(qemu_pki, f), 0o640)
    if QEMU_ROOT:
        os.makedirs(os.path.join(root, "etc", "vrt"), exist_ok=True)
        with open(os.path.join(root, "etc", "vrt", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\n')
    conf = (f'listen_tls = 1\nlisten_tcp = 0\nhost_uuid = "{host_uuid}"\n'
            f'migration_host = "{address}"\nmigration_address = "{address}"\n' + extra)
    d = NsVrtd(ns, root, conf, extra_args=tuple(extra_args)).start()
    d.tls = f"qemu+tls://{address}/system?pkipath={certs.client}"
    return d


def domain_xml(name, mib=64):
    """A guest-less TCG machine: SeaBIOS finds nothing to boot and idles."""
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>"
            f"<memory unit='MiB'>{mib}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def qemu_pid(d, name):
    with open(os.path.join(d.root, "run", "vrt", "qemu", f"{name}.pid")) as f:
        return int(f.read().strip())

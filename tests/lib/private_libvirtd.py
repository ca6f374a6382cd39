"""A private Debian libvirtd (system instance) that never meets the host's.

Used by the integration tests' `libvirtd` fixture (tests/integration/conftest.py)
and by the benchmarks (bench/common.py), so both start it the same way.

libvirtd's system instance keeps its state in fixed places: pid files and
driver locks under /run/libvirt, definitions under /etc/libvirt, domain
directories under /var/lib/libvirt, the QEMU capability cache under
/var/cache/libvirt, domain logs under /var/log/libvirt. A second one on a
host where libvirtd runs fails on the pid files, and one that shared those
directories would see and change the host's domains and networks. So
`prepare()` gives it a private mount namespace (`unshare --mount`, without
--fork so the pid stays libvirtd's) in which each of those directories is
an empty one inside the work dir, /etc/libvirt a copy of the host's
top-level configuration files (no definitions, no hooks) with
`stdio_handler = "file"` added to qemu.conf (the host's virtlogd socket is
in the host's /run/libvirt). Its sockets, pid file and log are in the work
dir. Nothing outside the work dir changes, except that an empty mount
point is created for a directory the host does not have.

host_like (default): on this kind of machine /dev/kvm is 0600 root:root (no
udev), so libvirtd finds KVM unusable by its libvirt-qemu user, declares its
QEMU capability cache stale and re-probes QEMU at every start (11-12 s idle,
minutes when several probe at once). Inside the namespace /dev/kvm is then a
node with udev's usual 0660 root:kvm, and /var/cache/libvirt/qemu a cache
kept in HOST_LIKE_DIR across runs, so after its first start libvirtd starts
in ~100 ms as on a host.
"""

import os
import shlex
import shutil
import stat

LIBVIRTD = os.environ.get("LIBVIRTD", "/usr/sbin/libvirtd")
HOST_LIKE_DIR = "/var/tmp/vrt-bench-libvirtd"
# host path -> name of its private copy inside the work dir
PRIVATE_DIRS = {
    "/run/libvirt": "ns-run",
    "/var/lib/libvirt": "ns-lib",
    "/var/cache/libvirt": "ns-cache",
    "/etc/libvirt": "ns-etc",
    "/var/log/libvirt": "ns-log",
}
HOST_ETC = "/etc/libvirt"


def _private_dirs(workdir):
    """Empty copies of the state directories (mode and owner of the host's),
    and /etc/libvirt's top-level files."""
    for host, name in PRIVATE_DIRS.items():
        d = os.path.join(workdir, name)
        os.makedirs(d, exist_ok=True)
        try:
            st = os.stat(host)
            os.chmod(d, st.st_mode & 0o7777)
            os.chown(d, st.st_uid, st.st_gid)
        except FileNotFoundError:
            os.chmod(d, 0o755)
    etc = os.path.join(workdir, PRIVATE_DIRS[HOST_ETC])
    if os.path.isdir(HOST_ETC):
        for entry in os.listdir(HOST_ETC):
            src = os.path.join(HOST_ETC, entry)
            if os.path.isfile(src) and not os.path.islink(src):
                shutil.copy2(src, os.path.join(etc, entry))
    with open(os.path.join(etc, "qemu.conf"), "a") as f:
        f.write('\n# private libvirtd: no virtlogd in its /run/libvirt\nstdio_handler = "file"\n')


def _is_chr(path):
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _host_like_mounts():
    """Shell commands mounting the /dev/kvm node and the kept QEMU cache."""
    os.makedirs(HOST_LIKE_DIR, exist_ok=True)
    cache = os.path.join(HOST_LIKE_DIR, "qemu-cache")
    os.makedirs(cache, exist_ok=True)
    cmds = []
    kvm = os.path.join(HOST_LIKE_DIR, "kvm")
    # Only a real KVM node is copied and mounted: a regular file at
    # /dev/kvm (left by some tool) would become a regular file here, and a
    # host without /dev/kvm has no mount point for it.
    if _is_chr("/dev/kvm") and not _is_chr(kvm):
        if os.path.lexists(kvm):
            os.unlink(kvm)
        st = os.stat("/dev/kvm")
        os.mknod(kvm, 0o660 | stat.S_IFCHR, st.st_rdev)
    if _is_chr(kvm) and _is_chr("/dev/kvm"):
        os.chmod(kvm, 0o660)    # mknod's mode passes through the umask
        try:
            shutil.chown(kvm, "root", "kvm")
        except LookupError:
            pass
        cmds.append(f"mount --bind {shlex.quote(kvm)} /dev/kvm")
    cmds.append("mkdir -p /var/cache/libvirt/qemu")
    cmds.append(f"mount --bind {shlex.quote(cache)} /var/cache/libvirt/qemu")
    return cmds


def namespace_argv(workdir, argv, host_like=True):
    """argv run in a private mount namespace with the private directories."""
    _private_dirs(workdir)
    cmds = ["set -e"]
    for host, name in PRIVATE_DIRS.items():
        src = os.path.join(workdir, name)
        # A mount point is needed; on a libvirt host they all exist.
        cmds.append(f"[ -d {host} ] || mkdir -p {host}")
        cmds.append(f"mount --bind {shlex.quote(src)} {host}")
    if host_like:
        cmds += _host_like_mounts()
    cmds.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(cmds), "sh", *argv]


class Prepared:
    """What prepare() made: argv to spawn, the client URI and the paths."""

    def __init__(self, workdir, argv):
        self.dir = workdir
        self.argv = argv
        self.sock = os.path.join(workdir, "libvirt-sock")
        self.uri = f"qemu+unix:///system?socket={self.sock}"
        self.conf = os.path.join(workdir, "libvirtd.conf")
        self.pidfile = os.path.join(workdir, "libvirtd.pid")
        self.log = os.path.join(workdir, "libvirtd.log")
        # Domain logs (stdio_handler = "file") as the host sees them.
        self.qemu_log_dir = os.path.join(workdir, PRIVATE_DIRS["/var/log/libvirt"], "qemu")


def prepare(workdir, log_level="3", log_filters="", host_like=True):
    """Writes libvirtd.conf into workdir (sockets there, auth none, no TCP or
    TLS, log to workdir/libvirtd.log) and the private directories; returns
    a Prepared whose argv runs libvirtd in its namespace."""
    conf = os.path.join(workdir, "libvirtd.conf")
    with open(conf, "w") as f:
        f.write(f'unix_sock_dir = "{workdir}"\n'
                'auth_unix_rw = "none"\n'
                'auth_unix_ro = "none"\n'
                'listen_tls = 0\n'
                'listen_tcp = 0\n'
                f'log_outputs = "{log_level}:file:{workdir}/libvirtd.log"\n')
        if log_filters:
            f.write(f'log_filters = "{log_filters}"\n')
    argv = [LIBVIRTD, "--config", conf, "--pid-file", os.path.join(workdir, "libvirtd.pid")]
    return Prepared(workdir, namespace_argv(workdir, argv, host_like))

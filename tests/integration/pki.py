"""Certificates and a private network namespace for the remote access tests
(test_tls.py, test_sasl.py). The certificates are made at test time with
GnuTLS's certtool: a CA, a server certificate for 127.0.0.1, a good client
certificate and the bad ones of the refusal matrix. vrtd and its clients run
inside a namespace the test creates (`ip netns add`, loopback up, nothing
else), so the TCP ports never touch the host's network; the namespace is
removed afterwards."""
import os
import shutil
import subprocess
import uuid

from vrt_fixtures import PY, START_TIMEOUT, VRTD, Vrtd, require, wait_for

CERTTOOL = shutil.which("certtool")
IP = shutil.which("ip") or "/usr/sbin/ip"


def certtool(*args, template=None, cwd=None):
    cmd = [CERTTOOL, *args]
    if template is not None:
        tmpl = os.path.join(cwd, f"tmpl-{uuid.uuid4().hex}")
        with open(tmpl, "w") as f:
            f.write(template)
        cmd += ["--template", tmpl]
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A CA under dir and certificates it signs (or another CA signs)."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.ca_key, self.ca = self._ca("ca", "vrt test CA")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        key = self.path(name + "-key.pem")
        certtool("--generate-privkey", "--key-type", "rsa", "--bits", "2048", "--outfile", key, cwd=self.dir)
        return key

    def _ca(self, name, cn):
        key = self._key(name)
        cert = self.path(name + ".pem")
        certtool("--generate-self-signed", "--load-privkey", key, "--outfile", cert, cwd=self.dir,
                 template=f'cn = "{cn}"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n')
        return key, cert

    def other_ca(self):
        """Another CA's key and certificate (not trusted by the server)."""
        return self._ca("other-ca", "another CA")

    def cert(self, name, cn, purpose="tls_www_client", extra="", ca=None):
        """A certificate for cn signed by ca (default: this CA); returns
        (key, cert). extra: more template lines (dates, addresses)."""
        ca_key, ca_cert = ca or (self.ca_key, self.ca)
        key = self._key(name)
        cert = self.path(name + ".pem")
        tmpl = (f'organization = "vrt"\ncn = "{cn}"\n{purpose}\nencryption_key\nsigning_key\n' + extra)
        if "expiration" not in extra:
            tmpl += "expiration_days = 30\n"
        certtool("--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca_cert,
                 "--load-ca-privkey", ca_key, "--outfile", cert, cwd=self.dir, template=tmpl)
        return key, cert

    def server(self, name="server"):
        return self.cert(name, "127.0.0.1", "tls_www_server",
                         'ip_address = "127.0.0.1"\ndns_name = "localhost"\n')

    def crl(self, revoked_certs):
        """A CRL of this CA revoking revoked_certs; returns its path."""
        out = self.path("cacrl.pem")
        args = ["--generate-crl", "--load-ca-privkey", self.ca_key, "--load-ca-certificate", self.ca,
                "--outfile", out]
        for c in revoked_certs:
            args += ["--load-certificate", c]
        certtool(*args, cwd=self.dir, template="crl_next_update = 30\ncrl_number = 1\n")
        return out

    def client_dir(self, name, key, cert):
        """A pkipath directory as libvirt's clients read it: cacert.pem,
        clientcert.pem, clientkey.pem (key and cert may be None)."""
        d = self.path("pki-" + name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(self.ca, os.path.join(d, "cacert.pem"))
        if cert:
            shutil.copy(cert, os.path.join(d, "clientcert.pem"))
        if key:
            shutil.copy(key, os.path.join(d, "clientkey.pem"))
        return d


def install_server(pki, root, key, cert, crl=None):
    """Puts the CA and server certificate at libvirt's default paths under root."""
    for src, dst in ((pki.ca, "etc/pki/CA/cacert.pem"), (cert, "etc/pki/libvirt/servercert.pem"),
                     (key, "etc/pki/libvirt/private/serverkey.pem"), (crl, "etc/pki/CA/cacrl.pem")):
        if src:
            os.makedirs(os.path.dirname(os.path.join(root, dst)), exist_ok=True)
            shutil.copy(src, os.path.join(root, dst))


class Netns:
    """A network namespace with only loopback, up; removed by close()."""

    def __init__(self):
        require(os.geteuid() == 0, "network namespaces need root")
        require(os.path.exists(IP), "ip (iproute2) is not installed")
        self.name = "vrt-tls-" + uuid.uuid4().hex[:8]
        subprocess.run([IP, "netns", "add", self.name], check=True, capture_output=True)
        subprocess.run([IP, "-n", self.name, "link", "set", "lo", "up"], check=True, capture_output=True)

    def cmd(self, args):
        return [IP, "netns", "exec", self.name, *args]

    def run(self, args, check=False, timeout=60, **kw):
        return subprocess.run(self.cmd(args), capture_output=True, text=True, check=check, timeout=timeout, **kw)

    def close(self):
        subprocess.run([IP, "netns", "delete", self.name], capture_output=True)


class NsVrtd(Vrtd):
    """A vrtd (tests/lib/vrt_fixtures.Vrtd) run inside netns with --listen."""

    def __init__(self, netns, root, config_text="", extra_args=("--listen",)):
        cfg = None
        if config_text:
            cfg = os.path.join(root, "vrtd.conf")
            os.makedirs(root, exist_ok=True)
            with open(cfg, "w") as f:
                f.write(config_text)
        super().__init__(root, config=cfg, extra_args=extra_args)
        self.netns = netns

    def start(self, wait=True):
        args = [VRTD, "--root", self.root] + self.extra_args
        if self.config:
            args += ["--config", self.config]
        self.proc = subprocess.Popen(self.netns.cmd(args), stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        if wait:
            # The TCP and TLS sockets are open before the UNIX ones.
            wait_for(lambda: self._connectable() or self.proc.poll() is not None, timeout=START_TIMEOUT,
                     what="vrtd's sockets")
            assert self.proc.poll() is None, f"vrtd exited: {self.stderr()}"
        return self


def py_in(netns, code, *args, timeout=60):
    """Runs Python code (Debian's python3, with python3-libvirt) in netns."""
    return netns.run([PY, "-c", code, *args], timeout=timeout)


# Lists the domains over uri with python3-libvirt; argv: uri [user password].
PY_LIST = r"""
import sys, libvirt
def cb(creds, data):
    for c in creds:
        if c[0] == libvirt.VIR_CRED_AUTHNAME: c[4] = sys.argv[2]
        elif c[0] == libvirt.VIR_CRED_PASSPHRASE: c[4] = sys.argv[3]
    return 0
try:
    if len(sys.argv) > 2:
        conn = libvirt.openAuth(sys.argv[1], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
    else:
        conn = libvirt.open(sys.argv[1])
    print("domains", [d.name() for d in conn.listAllDomains()], "secure", conn.isSecure(),
          "encrypted", conn.isEncrypted())
except libvirt.libvirtError as e:
    print("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())
    sys.exit(1)
"""

# Sends argv[3] (hex) to 127.0.0.1 port argv[1] and prints what comes back
# (hex) until the server closes or argv[2] seconds pass.
PY_RAW = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=float(sys.argv[2]))
s.sendall(bytes.fromhex(sys.argv[3]))
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            print("closed")
            break
        got += b
except ConnectionResetError:
    print("closed (reset)")
except socket.timeout:
    print("open")
print("got", got.hex())
"""

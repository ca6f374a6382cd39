"""libvrt's SASL client, through `vrt`, against vrtd's SASL sockets (the
fixtures of test_sasl.py: a private network namespace, Cyrus SASL with a
sasldb under vrtd's root): qemu+tcp:// with DIGEST-MD5, whose security
layer then carries every byte both ways (a call whose reply spans many
layer packets, a definition sent and read back), SCRAM-SHA-256 over TLS
and the UNIX socket, credentials from $VRT_AUTH_USERNAME/$VRT_AUTH_PASSWORD
or typed at vrt's prompt on its terminal, and a wrong password refused
with libvirt's "authentication failed"."""
import os
import shutil

from vrt_fixtures import VRT, require
from test_sasl import netns, sasl_root, tcp_server, tls_server  # noqa: F401 (fixtures)

TCP = "qemu+tcp://127.0.0.1/system"
DOMAIN = ("<domain type='qemu'><name>over-sasl</name><memory>65536</memory>"
          "<os><type arch='x86_64'>hvm</type></os></domain>")


def vrt_as(netns, uri, user, password, *args):
    env = ["env", f"VRT_AUTH_USERNAME={user}", f"VRT_AUTH_PASSWORD={password}"]
    return netns.run(env + [VRT, "-c", uri, *args], stdin=open(os.devnull))


def test_vrt_over_tcp_with_digest_md5_layer(netns, tcp_server, tmp_path):
    r = vrt_as(netns, TCP, "fred", "fredpass", "list", "--all")
    assert r.returncode == 0 and "Name" in r.stdout, r.stdout + r.stderr
    r = vrt_as(netns, TCP, "anna", "annapass", "capabilities")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("</capabilities>"), r.stderr
    # Many layer packets each way: a definition with a description of
    # 300 KB, more than the layer's buffer (100,000 bytes) several times.
    big = "".join(f"line {i:06d} of a long description\n" for i in range(9000))
    xml = tmp_path / "dom.xml"
    xml.write_text(DOMAIN.replace("</name>", f"</name><description>{big}</description>"))
    r = vrt_as(netns, TCP, "fred", "fredpass", "define", str(xml))
    assert r.returncode == 0, r.stderr
    r = vrt_as(netns, TCP, "fred", "fredpass", "dumpxml", "over-sasl")
    assert r.returncode == 0 and "<name>over-sasl</name>" in r.stdout and big in r.stdout, r.stderr
    r = vrt_as(netns, TCP, "fred", "fredpass", "undefine", "over-sasl")
    assert r.returncode == 0, r.stderr


def test_vrt_over_tcp_wrong_password_refused(netns, tcp_server):
    r = vrt_as(netns, TCP, "fred", "wrong", "list", "--all")
    assert r.returncode == 1 and "authentication failed" in r.stderr, r.stdout + r.stderr
    r = vrt_as(netns, TCP, "bob", "bobpass", "list", "--all")
    assert r.returncode == 1 and "authentication failed" in r.stderr, r.stdout + r.stderr
    assert tcp_server.proc.poll() is None


def test_vrt_prompts_on_its_terminal(netns, tcp_server):
    require(shutil.which("script"), "script (util-linux) is not installed")
    r = netns.run(["script", "-qec", f"{VRT} -c {TCP} list --all", "/dev/null"], input="fred\nfredpass\n")
    assert r.returncode == 0 and "Please enter your username" in r.stdout and "Name" in r.stdout, r.stdout
    assert "fredpass" not in r.stdout.split("Please enter your password")[-1], r.stdout


def test_vrt_scram_over_tls_and_unix(netns, tls_server):
    u = f"qemu+tls://127.0.0.1:16515/system?pkipath={tls_server.pkidir}"
    r = vrt_as(netns, u, "fred", "fredpass", "list", "--all")
    assert r.returncode == 0 and "Name" in r.stdout, r.stdout + r.stderr
    r = vrt_as(netns, u, "fred", "nope", "list", "--all")
    assert r.returncode == 1 and "authentication failed" in r.stderr, r.stdout + r.stderr
    r = vrt_as(netns, tls_server.uri, "anna", "annapass", "list", "--all")
    assert r.returncode == 0 and "Name" in r.stdout, r.stdout + r.stderr

"""The host CPU and CPU comparison as vrtd and Debian's libvirtd 9.0 give
them on this machine: a user comparing `virsh capabilities`,
`virsh cpu-models`, `virsh cpu-compare` and `virsh cpu-baseline` between
the two sees the same answers.

  * capabilities: the host <cpu> (arch, model, vendor, microcode,
    signature, topology, maxphysaddr, features in order, page sizes) is
    the same;
  * cpu-compare: the host's own CPU XML, hand-made guest CPUs with each
    feature policy and match mode, and every single-CPU x86 file of
    libvirt's tests/cputestdata (its source package, as the XML corpus
    test fetches it), each with and without FAIL_INCOMPATIBLE: the same
    result, or the same error code and message;
  * cpu-baseline: libvirt's x86 baseline test inputs and pairs made of
    the host's CPU, with EXPAND_FEATURES and MIGRATABLE: the same XML;
  * bad XML: the same error code and message (a malformed document's
    too: the parser's message, the line and a caret under the place).
"""
import glob
import os
import re
import xml.etree.ElementTree as ET

from vrt_fixtures import import_required, require, virsh, wait_for

import libvirt_corpus

libvirt = import_required("libvirt", "python3-libvirt is not installed")

FAIL_INCOMPATIBLE = 1
EXPAND, MIGRATABLE = 1, 2


def host_cpu(conn, pages=False):
    """The capabilities' <host><cpu> without the whitespace between
    elements, as text; without <pages> unless asked (a CPU given to
    compare or baseline has none)."""
    cpu = ET.fromstring(conn.getCapabilities()).find("host/cpu")
    for p in [] if pages else cpu.findall("pages"):
        cpu.remove(p)
    for e in cpu.iter():
        e.tail = None
        if len(e):
            e.text = None
    return ET.tostring(cpu, encoding="unicode")


def connect(uri):
    """A connection; libvirtd's socket file can exist a moment before it
    accepts."""
    conns = []

    def attempt():
        try:
            conns.append(libvirt.open(uri))
            return True
        except libvirt.libvirtError:
            return False
    wait_for(attempt, what=f"a connection to {uri}")
    return conns[0]


def answer(fn):
    try:
        return ("ok", fn())
    except libvirt.libvirtError as e:
        return ("error", e.get_error_code(), e.get_error_message())


def quiet():
    libvirt.registerErrorHandler(lambda *a: None, None)


def test_capabilities_host_cpu_matches_libvirtd(vrtd, libvirtd):
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    want, got = host_cpu(lv, pages=True), host_cpu(vr, pages=True)
    assert got == want
    cpu = ET.fromstring(got)
    assert cpu.findtext("model")
    assert cpu.findall("feature")
    assert cpu.findall("pages")
    # virsh shows the same element to a user
    out = virsh(vrtd.uri, "capabilities").stdout
    assert f"<model>{cpu.findtext('model')}</model>" in out


GUESTS = [
    "<cpu><model>kvm64</model></cpu>",
    "<cpu match='exact'><model>qemu64</model></cpu>",
    "<cpu match='minimum'><model>Westmere</model><feature policy='disable' name='aes'/></cpu>",
    "<cpu match='strict'><model>kvm64</model></cpu>",
    "<cpu><model>EPYC</model><vendor>AMD</vendor></cpu>",
    "<cpu><model>Skylake-Client-IBRS</model><vendor>Intel</vendor></cpu>",
    "<cpu><model>kvm64</model><feature policy='forbid' name='sse'/></cpu>",
    "<cpu><model>kvm64</model><feature policy='optional' name='vmx'/><feature policy='force' name='svm'/></cpu>",
    "<cpu><model>kvm64</model><feature policy='require' name='avx512f'/></cpu>",
    "<cpu mode='host-model'/>",
    "<cpu><arch>x86_64</arch><model>Penryn</model><feature name='sse4.1'/></cpu>",
    "<cpu><arch>ppc64</arch><model>POWER9</model></cpu>",
]

BAD = [
    "<cpu",
    "",
    "bad\n  <cpu>",
    "<domain/>",
    "<cpu><model>Nope</model></cpu>",
    "<cpu><model>kvm64</model><feature name='bogus'/></cpu>",
    "<cpu match='foo'><model>kvm64</model></cpu>",
    "<cpu><feature name='sse'/></cpu>",
    "<cpu><vendor>AMD</vendor></cpu>",
    "<cpu mode='bad'/>",
    "<cpu><arch>x86_64</arch></cpu>",
    "<cpu match='exact'><arch>x86_64</arch><model>kvm64</model></cpu>",
    "<cpu><model>kvm64</model><feature policy='x' name='sse'/></cpu>",
    "<cpu><model>kvm64</model><feature name='sse'/><feature name='sse'/></cpu>",
    "<cpu><model>kvm64</model><topology sockets='0' cores='1' threads='1'/></cpu>",
]


def cputestdata():
    tests = libvirt_corpus.corpus_dir()
    require(tests and os.path.isdir(os.path.join(tests, "cputestdata")),
            "libvirt's source package (tests/cputestdata) cannot be fetched")
    return os.path.join(tests, "cputestdata")


def test_cpu_compare_matches_libvirtd(vrtd, libvirtd):
    quiet()
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    inputs = [host_cpu(lv)] + GUESTS + BAD
    for path in sorted(glob.glob(os.path.join(cputestdata(), "x86_64-*.xml"))):
        name = os.path.basename(path)
        if "baseline" in name or ("cpuid" in name and not name.endswith("-host.xml")):
            continue
        cpus = re.findall(r"<cpu[ >].*?</cpu>", open(path).read(), re.S)
        if len(cpus) == 1:
            inputs.append(cpus[0])
    assert len(inputs) > 100
    seen = set()
    for xml in inputs:
        for flags in (0, FAIL_INCOMPATIBLE):
            want = answer(lambda: lv.compareCPU(xml, flags))
            got = answer(lambda: vr.compareCPU(xml, flags))
            assert got == want, f"compareCPU({xml!r}, {flags})"
            seen.add(want[1] if want[0] == "ok" else "error")
    # identical, superset, incompatible and refusals were all exercised
    assert seen >= {0, 1, 2, "error"}, seen


def test_cpu_compare_host_with_virsh(vrtd, tmp_path):
    cpu = tmp_path / "cpu.xml"
    cpu.write_text(host_cpu(libvirt.open(vrtd.uri)))
    out = virsh(vrtd.uri, "cpu-compare", str(cpu)).stdout
    assert "identical to host CPU" in out
    cpu.write_text("<cpu><model>EPYC</model><vendor>Intel</vendor></cpu>")
    p = virsh(vrtd.uri, "cpu-compare", "--error", str(cpu), check=False)
    assert p.returncode != 0
    assert "the CPU is incompatible with host CPU: host CPU vendor does not match required CPU vendor Intel" in p.stderr


def test_cpu_baseline_matches_libvirtd(vrtd, libvirtd):
    quiet()
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    host = host_cpu(lv)
    sets = [
        [host],
        [host, "<cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor></cpu>"],
        [host, "<cpu><arch>x86_64</arch><model>Opteron_G2</model></cpu>"],
        [host, "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor></cpu>"],
        ["<cpu><arch>x86_64</arch><model>Skylake-Client-IBRS</model><vendor>Intel</vendor></cpu>",
         "<cpu><arch>x86_64</arch><model>Haswell-noTSX</model><vendor>Intel</vendor></cpu>"],
        ["<cpu><model>kvm64</model></cpu>"],
        ["<cpu><arch>x86_64</arch><model>Nope</model></cpu>"],
        ["<cpu><arch>x86_64</arch><model>kvm64</model><vendor>Foo</vendor></cpu>"],
    ]
    for path in sorted(glob.glob(os.path.join(cputestdata(), "x86_64-baseline-*.xml"))):
        if not path.endswith("-result.xml"):
            cpus = re.findall(r"<cpu[ >].*?</cpu>", open(path).read(), re.S)
            if cpus:
                sets.append(cpus)
    for cpus in sets:
        for flags in (0, EXPAND, MIGRATABLE, EXPAND | MIGRATABLE):
            want = answer(lambda: lv.baselineCPU(cpus, flags))
            got = answer(lambda: vr.baselineCPU(cpus, flags))
            assert got == want, f"baselineCPU({cpus!r}, {flags})"


def test_compare_and_baseline_on_the_read_only_socket(vrtd):
    ro = libvirt.openReadOnly(vrtd.uri_ro)
    host = host_cpu(ro)
    assert ro.compareCPU(host, 0) == libvirt.VIR_CPU_COMPARE_IDENTICAL
    assert "<model fallback='forbid'>" in ro.baselineCPU([host], 0)


def test_cpu_models_match_libvirtd(vrtd, libvirtd):
    """`virsh cpu-models` lists libvirt's CPU map in its order."""
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    for arch in ("x86_64", "i686"):
        assert vr.getCPUModelNames(arch) == lv.getCPUModelNames(arch)
    assert virsh(vrtd.uri, "cpu-models", "x86_64").stdout.split() == lv.getCPUModelNames("x86_64")

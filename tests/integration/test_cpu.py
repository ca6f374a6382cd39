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


def test_other_architectures_match_libvirtd(vrtd, libvirtd):
    """A client of an x86 host asking about CPUs of other architectures:
    cpu-models of ppc64, ARM and s390 (and of names with no CPU driver),
    cpu-baseline of libvirt's ppc64 baseline inputs and of ARM and s390
    CPUs, cpu-compare of every ppc64 file against the host: the same
    answers or errors as libvirtd's."""
    quiet()
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    for arch in ("ppc64", "ppc64le", "aarch64", "armv7l", "s390x", "mips", "sparc", "nope"):
        want = answer(lambda: lv.getCPUModelNames(arch))
        assert answer(lambda: vr.getCPUModelNames(arch)) == want, arch
    sets = [
        ["<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>",
         "<cpu><arch>aarch64</arch><model>cortex-a72</model><vendor>ARM</vendor></cpu>"],
        ["<cpu><arch>s390x</arch><model>z13</model></cpu>"],
        ["<cpu><arch>ppc64</arch><model>POWER9</model><vendor>Freescale</vendor></cpu>"],
        ["<cpu><arch>ppc64le</arch><model>POWER10</model><vendor>IBM</vendor></cpu>",
         "<cpu><arch>ppc64le</arch><model>POWER10</model></cpu>"],
        ["<cpu><arch>ppc64</arch><model>POWER42</model></cpu>"],
    ]
    compared = 0
    for path in sorted(glob.glob(os.path.join(cputestdata(), "ppc64-*.xml"))):
        text = open(path).read()
        if "-baseline-" in path:
            if not path.endswith("-result.xml"):
                sets.append(re.findall(r"<cpu[ >].*?</cpu>", text, re.S))
            continue
        for flags in (0, FAIL_INCOMPATIBLE):
            want = answer(lambda: lv.compareCPU(text, flags))
            assert answer(lambda: vr.compareCPU(text, flags)) == want, f"compareCPU({path}, {flags})"
            compared += 1
    assert compared >= 40 and len(sets) >= 10
    for cpus in sets:
        for flags in (0, EXPAND, MIGRATABLE):
            want = answer(lambda: lv.baselineCPU(cpus, flags))
            got = answer(lambda: vr.baselineCPU(cpus, flags))
            assert got == want, f"baselineCPU({cpus!r}, {flags})"


# ---- the hypervisor's CPU: domain capabilities' host-model, hypervisor-cpu-compare/-baseline ----

def domcaps_cpu(conn, *args):
    """The domain capabilities' <cpu> element as text, or the error."""
    def get():
        caps = ET.fromstring(conn.getDomainCapabilities(*args, 0))
        return ET.tostring(caps.find("cpu"), encoding="unicode")
    return answer(get)


DOMCAPS_ARGS = [
    (None, None, None, None),
    (None, None, None, "qemu"),
    (None, "x86_64", "q35", "qemu"),
    (None, None, "pc", None),
    ("/usr/bin/qemu-system-x86_64", None, None, None),
    (None, "i686", None, None),
]


def test_domcapabilities_cpu_matches_libvirtd(vrtd, libvirtd):
    """The <cpu> of the domain capabilities (host-passthrough, maximum,
    host-model with the model and features QEMU's own CPU decodes to,
    custom models with usable and vendor) is libvirtd's."""
    quiet()
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    for args in DOMCAPS_ARGS:
        want = domcaps_cpu(lv, *args)
        assert want[0] == "ok", (args, want)
        assert domcaps_cpu(vr, *args) == want, args
    mode = ET.fromstring(domcaps_cpu(lv, None, None, None, None)[1]).find("mode[@name='host-model']")
    assert mode.findtext("model") and mode.findall("feature")
    # what `virsh domcapabilities` shows a user
    out = virsh(vrtd.uri, "domcapabilities").stdout
    assert f"<model fallback='forbid'>{mode.findtext('model')}</model>" in out
    assert "<enum name='maximumMigratable'>" in out


HV_ARGS = [
    (None, None, None, None),
    (None, "x86_64", "q35", "qemu"),
    (None, "i686", None, None),
    (None, None, None, "kvm"),
    (None, None, None, "xen"),
    (None, None, None, "bogus"),
    (None, "ppc64", None, None),
    (None, "aarch64", None, None),
    (None, "nonsense", None, None),
    ("/usr/bin/nope", None, None, None),
    (None, None, "nope", None),
]


def test_hypervisor_cpu_compare_matches_libvirtd(vrtd, libvirtd):
    """virConnectCompareHypervisorCPU (virsh hypervisor-cpu-compare) with
    the host's CPU, hand-made CPUs, bad XML and every single-CPU x86 file
    of libvirt's tests/cputestdata, with and without FAIL_INCOMPATIBLE,
    and the emulator, arch, machine and virttype arguments: the same result
    or the same error as libvirtd."""
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
    calls = 0
    for xml in inputs:
        for flags in (0, FAIL_INCOMPATIBLE):
            want = answer(lambda: lv.compareHypervisorCPU(None, None, None, None, xml, flags))
            got = answer(lambda: vr.compareHypervisorCPU(None, None, None, None, xml, flags))
            assert got == want, f"compareHypervisorCPU({xml!r}, {flags})"
            seen.add(want[1] if want[0] == "ok" else "error")
            calls += 1
    assert seen >= {0, 2, "error"}, seen
    for args in HV_ARGS:
        for xml in ("<cpu><model>qemu64</model></cpu>", "<cpu"):
            want = answer(lambda: lv.compareHypervisorCPU(*args, xml, 0))
            got = answer(lambda: vr.compareHypervisorCPU(*args, xml, 0))
            assert got == want, f"compareHypervisorCPU{args}"
            calls += 1
    # an unknown flag: libvirt's code and text (vrtd's flag check, shared by
    # every procedure, puts "invalid argument: " before the text)
    want = answer(lambda: lv.compareHypervisorCPU(None, None, None, None, "<cpu/>", 4))
    got = answer(lambda: vr.compareHypervisorCPU(None, None, None, None, "<cpu/>", 4))
    assert got[:2] == want[:2] and got[2].endswith(want[2])
    print(f"{calls} hypervisor CPU comparisons agree")


def test_hypervisor_cpu_baseline_matches_libvirtd(vrtd, libvirtd):
    """virConnectBaselineHypervisorCPU (virsh hypervisor-cpu-baseline) over
    libvirt's x86 baseline inputs and CPUs made of the host's, with every
    flag, and the arguments naming other architectures (no emulator for
    them here: libvirt's error): the same XML or error as libvirtd."""
    quiet()
    lv, vr = connect(libvirtd.uri), connect(vrtd.uri)
    host = host_cpu(lv)
    sets = [
        [host],
        [host, "<cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor></cpu>"],
        [host, "<cpu><arch>x86_64</arch><model>Opteron_G2</model></cpu>"],
        ["<cpu><arch>x86_64</arch><model>Skylake-Client-IBRS</model><vendor>Intel</vendor></cpu>",
         "<cpu><arch>x86_64</arch><model>Haswell-noTSX</model><vendor>Intel</vendor></cpu>"],
        ["<cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor></cpu>"],
        ["<cpu><model>qemu64</model></cpu>"],
        ["<cpu><model>kvm64</model><feature name='avx2'/></cpu>"],
        ["<cpu><arch>x86_64</arch><model>Nope</model></cpu>"],
        ["<cpu><arch>x86_64</arch><model>kvm64</model><vendor>Foo</vendor></cpu>"],
        ["<cpu"],
    ]
    for path in sorted(glob.glob(os.path.join(cputestdata(), "x86_64-baseline-*.xml"))):
        if not path.endswith("-result.xml"):
            cpus = re.findall(r"<cpu[ >].*?</cpu>", open(path).read(), re.S)
            if cpus:
                sets.append(cpus)
    calls = 0
    for cpus in sets:
        for flags in (0, EXPAND, MIGRATABLE, EXPAND | MIGRATABLE):
            want = answer(lambda: lv.baselineHypervisorCPU(None, None, None, None, cpus, flags))
            got = answer(lambda: vr.baselineHypervisorCPU(None, None, None, None, cpus, flags))
            assert got == want, f"baselineHypervisorCPU({cpus!r}, {flags})"
            calls += 1
    for args in HV_ARGS:
        for cpus in (["<cpu><arch>x86_64</arch><model>EPYC</model></cpu>"],
                     ["<cpu><arch>ppc64</arch><model>POWER9</model></cpu>"],
                     ["<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>"]):
            want = answer(lambda: lv.baselineHypervisorCPU(*args, cpus, 0))
            got = answer(lambda: vr.baselineHypervisorCPU(*args, cpus, 0))
            assert got == want, f"baselineHypervisorCPU{args} {cpus}"
            calls += 1
    print(f"{calls} hypervisor CPU baselines agree")


def test_hypervisor_cpu_with_virsh(vrtd, tmp_path):
    """What a user runs: the domain capabilities' host-model CPU is
    identical to the hypervisor's CPU; a CPU it lacks is incompatible;
    a baseline of it names the same model. The read-only socket is
    refused, as libvirt wants write access for both."""
    caps = ET.fromstring(libvirt.open(vrtd.uri).getDomainCapabilities(None, None, None, None, 0))
    mode = caps.find("cpu/mode[@name='host-model']")
    cpu = ET.Element("cpu", {"mode": "custom", "match": "exact"})
    cpu.extend(list(mode))
    f = tmp_path / "cpu.xml"
    f.write_text(ET.tostring(cpu, encoding="unicode"))
    out = virsh(vrtd.uri, "hypervisor-cpu-compare", str(f)).stdout
    assert "identical to the CPU provided by hypervisor" in out
    out = virsh(vrtd.uri, "hypervisor-cpu-baseline", str(f)).stdout
    assert f">{mode.findtext('model')}</model>" in out
    f.write_text("<cpu><model>Skylake-Client</model><vendor>Intel</vendor></cpu>")
    p = virsh(vrtd.uri, "hypervisor-cpu-compare", "--error", str(f), check=False)
    assert p.returncode != 0 and "the CPU is incompatible with host CPU" in p.stderr
    ro = libvirt.openReadOnly(vrtd.uri_ro)
    quiet()
    r = answer(lambda: ro.compareHypervisorCPU(None, None, None, None, "<cpu/>", 0))
    assert r[0] == "error" and r[1] == libvirt.VIR_ERR_OPERATION_DENIED

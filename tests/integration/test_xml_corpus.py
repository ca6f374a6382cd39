"""libvirt 9.0's own domain XML test corpus defined on vrtd, file by file.

Every x86 input of libvirt's qemuxml2argvdata (the files whose
``<type arch=...>`` is x86_64 or i686, or names no arch: 854 files) is
defined on one private vrtd over one python3-libvirt connection, its
inactive XML read back, and the domain undefined again. Nothing is started.
Each file gets one class:

- ``equal``: accepted, and the XML read back equals libvirt's expected
  output after the normalization below;
- ``differing``: accepted, and it differs from that expected output;
- ``accepted``: accepted, and libvirt's qemuxml2xmltest has no expected
  output for it;
- ``refused-expected``: refused, and libvirt refuses it too (its
  qemuxml2argvtest.c lists it only with DO_TEST*_PARSE_ERROR*);
- ``accepted-unexpected``: accepted though libvirt refuses it;
- ``refused``: refused though libvirt accepts it (the error, which names
  the element vrtd does not support, is kept in the list).

The expected output is the file libvirt's qemuxml2xmltest.c compares the
inactive XML to: qemuxml2xmloutdata/NAME-inactive{SUFFIX}.xml, else
NAME{SUFFIX}.xml, where SUFFIX is ".x86_64-latest" for the tests with
the latest capabilities and "" for those with fixed ones (the latest win
when a name is tested both ways).

Normalization (applied to both sides before comparing): the XML is parsed,
text that is only whitespace is dropped and other text stripped, comments
are dropped, and attributes compare as a set (their order does not count).
USB ports vrtd assigned (as libvirtd's define does) where the expected
output has none are taken out (see without_define_usb_ports). For an
expected output of a test run with fixed (not the latest) QEMU
capabilities, the defaults libvirt takes from QEMU's capabilities are
taken out of vrtd's side where that output lacks them (see
without_caps_defaults). Nothing else is rewritten: element order, values
and defaults all count.

The committed list tests/integration/xml_corpus_status.txt holds every file
that is not ``equal`` or ``refused-expected``, with its class. The test
fails when a file's class gets worse than the list says (a regression), and
when it gets better (the list then only needs rewriting:
``VRT_CORPUS_UPDATE=1`` runs the test and writes the new list). The counts
are printed (pytest -s), with the most frequent refusals;
VRT_CORPUS_DUMP=DIR writes the XML vrtd gives back for each accepted file
there.
"""
import glob
import os
import re
import xml.etree.ElementTree as ET


from vrt_fixtures import import_required, require

import libvirt_corpus

libvirt = import_required("libvirt", "python3-libvirt is not installed")

HERE = os.path.dirname(os.path.abspath(__file__))
STATUS = os.path.join(HERE, "xml_corpus_status.txt")

# Better first; a file moving down this order is a regression.
RANK = {"equal": 0, "refused-expected": 0, "differing": 1, "accepted": 1, "accepted-unexpected": 2, "refused": 3}
X86 = ("x86_64", "i686")


def x86_inputs(tests):
    out = []
    for path in sorted(glob.glob(os.path.join(tests, "qemuxml2argvdata", "*.xml"))):
        with open(path, errors="replace") as f:
            text = f.read()
        m = re.search(r"<type[^>]*\barch=['\"]([^'\"]+)", text)
        if m is None or m.group(1) in X86:
            out.append((os.path.basename(path)[:-4], text))
    return out


def macro_names(cfile):
    """{name: set of macros} for every DO_TEST* call in a libvirt test .c."""
    with open(cfile) as f:
        src = f.read()
    names = {}
    for m in re.finditer(r"\b(DO_TEST[A-Z0-9_]*)\(\s*\"([^\"]+)\"", src):
        names.setdefault(m.group(2), set()).add(m.group(1))
    return names


def expected_outputs(tests):
    out = {}
    for name in macro_names(os.path.join(tests, "qemuxml2xmltest.c")):
        for sfx in (".x86_64-latest", ""):
            for cand in (f"{name}-inactive{sfx}.xml", f"{name}{sfx}.xml"):
                p = os.path.join(tests, "qemuxml2xmloutdata", cand)
                if os.path.exists(p) and name not in out:
                    out[name] = p
    return out


def libvirt_refuses(tests):
    refuse = set()
    for name, macros in macro_names(os.path.join(tests, "qemuxml2argvtest.c")).items():
        if all("PARSE_ERROR" in m for m in macros):
            refuse.add(name)
    return refuse


def canon(el):
    text = (el.text or "").strip()
    kids = [canon(c) for c in el if isinstance(c.tag, str)]
    return (el.tag, tuple(sorted(el.attrib.items())), text, tuple(kids))


def parse(xml):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=False))
    return ET.fromstring(xml, parser=parser)


DEFAULT_CPU = ("cpu", (("check", "none"), ("match", "exact"), ("mode", "custom")), "",
               (("model", (("fallback", "forbid"),), "qemu64", ()),))


def without_caps_defaults(got, want):
    """An expected output of a test with fixed QEMU capabilities (libvirt's
    DO_TEST/DO_TEST_NOCAPS, no ".x86_64-latest" suffix) lacks what libvirt
    fills from the real QEMU's capabilities, which vrtd (as libvirtd) has:
    the machine's default CPU model (qemu64), the default USB controller
    model (piix3-uhci), q35's implicit qemu-xhci controller, and migratable='on' of a host-passthrough CPU. Those are taken out of
    vrtd's XML where the expected output lacks them; nothing else is."""
    wcpu = want.find("cpu")
    gcpu = got.find("cpu")
    if wcpu is None and gcpu is not None and canon(gcpu) == DEFAULT_CPU:
        got.remove(gcpu)
    elif wcpu is not None and gcpu is not None and wcpu.find("model") is None and wcpu.get("mode") is None:
        # a <cpu> with a topology alone: the default model goes into it
        model = gcpu.find("model")
        if model is not None and model.text == "qemu64" and gcpu.get("mode") == "custom":
            gcpu.remove(model)
            for attr in ("mode", "match", "check"):
                gcpu.attrib.pop(attr, None)
    gcpu, wcpu = got.find("cpu"), want.find("cpu")
    if gcpu is not None and wcpu is not None and gcpu.get("mode") == "host-passthrough":
        if wcpu.get("migratable") != gcpu.get("migratable") and gcpu.get("migratable") == "on":
            if wcpu.get("migratable") is None:
                del gcpu.attrib["migratable"]
            else:
                gcpu.set("migratable", wcpu.get("migratable"))
    wusb = {c.get("index"): c for c in want.iterfind("devices/controller[@type='usb']")}
    if not wusb:
        # q35's implicit USB controller is the first USB3 one QEMU has
        for c in list(got.iterfind("devices/controller[@type='usb']")):
            if c.get("index") == "0" and c.get("model") == "qemu-xhci" and c.get("ports") == "15":
                got.find("devices").remove(c)
    for c in got.iterfind("devices/controller[@type='usb']"):
        w = wusb.get(c.get("index"))
        if w is not None and w.get("model") is None and c.get("model") == "piix3-uhci":
            del c.attrib["model"]


def without_define_usb_ports(got, want):
    """libvirtd's define parses with VIR_DOMAIN_DEF_PARSE_ABI_UPDATE and so
    gives USB devices their ports (qemuDomainAssignUSBAddresses with
    newDomain); libvirt's qemuxml2xmltest parses without it, so its outputs
    lack them. A USB address vrtd assigned to a device (same element, type
    and bus) that has none in the expected output is taken out."""
    waddr = {(d.tag, d.get("type"), d.get("bus")) for d in want.find("devices")
             if d.find("address[@type='usb']") is not None}
    for d in got.find("devices"):
        a = d.find("address[@type='usb']")
        if a is not None and (d.tag, d.get("type"), d.get("bus")) not in waddr:
            d.remove(a)


def same(got_xml, want_xml, fixed_caps):
    got, want = parse(got_xml), parse(want_xml)
    without_define_usb_ports(got, want)
    if fixed_caps:
        without_caps_defaults(got, want)
    return canon(got) == canon(want)


def classify(conn, tests):
    expected = expected_outputs(tests)
    refuse = libvirt_refuses(tests)
    result = {}
    for name, text in x86_inputs(tests):
        try:
            dom = conn.defineXML(text)
        except libvirt.libvirtError as e:
            msg = (e.get_error_message() or "").splitlines()[0] if e.get_error_message() else ""
            result[name] = ("refused-expected" if name in refuse else "refused", msg)
            continue
        try:
            got = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        finally:
            dom.undefine()
        if os.environ.get("VRT_CORPUS_DUMP"):
            with open(os.path.join(os.environ["VRT_CORPUS_DUMP"], name + ".xml"), "w") as f:
                f.write(got)
        if name in refuse:
            result[name] = ("accepted-unexpected", "")
        elif name in expected:
            with open(expected[name]) as f:
                want = f.read()
            fixed_caps = ".x86_64-latest" not in os.path.basename(expected[name])
            result[name] = ("equal" if same(got, want, fixed_caps) else "differing", "")
        else:
            result[name] = ("accepted", "")
    return result


def read_status():
    status = {}
    if os.path.exists(STATUS):
        with open(STATUS) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.rstrip("\n").split("\t")
                status[parts[0]] = parts[1]
    return status


def write_status(result):
    with open(STATUS, "w") as f:
        f.write("# libvirt 9.0 corpus files not yet equal (or refused as libvirt refuses them):\n"
                "# NAME<TAB>CLASS[<TAB>vrtd's error]; written by VRT_CORPUS_UPDATE=1 pytest test_xml_corpus.py\n")
        for name in sorted(result):
            cls, msg = result[name]
            if cls in ("equal", "refused-expected"):
                continue
            f.write(f"{name}\t{cls}" + (f"\t{msg}" if msg else "") + "\n")


def test_libvirt_domain_corpus(vrtd):
    tests = libvirt_corpus.corpus_dir()
    require(tests is not None, "libvirt's source package (its tests/ corpus) cannot be had here")
    # The errors are the result here, not news: keep them off stderr.
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open(vrtd.uri)
    try:
        result = classify(conn, tests)
    finally:
        conn.close()
        libvirt.registerErrorHandler(None, None)

    counts = {}
    for cls, _ in result.values():
        counts[cls] = counts.get(cls, 0) + 1
    accepted = sum(counts.get(c, 0) for c in ("equal", "differing", "accepted", "accepted-unexpected"))
    with_expected = counts.get("equal", 0) + counts.get("differing", 0)
    print(f"\nlibvirt corpus: {len(result)} x86 files: accepted {accepted}, equal {counts.get('equal', 0)} "
          f"of {with_expected} with an expected output, differing {counts.get('differing', 0)}, "
          f"refused {counts.get('refused', 0) + counts.get('refused-expected', 0)} "
          f"(as libvirt: {counts.get('refused-expected', 0)}), accepted though libvirt refuses: "
          f"{counts.get('accepted-unexpected', 0)}")
    reasons = {}
    for cls, msg in result.values():
        if cls == "refused":
            msg = re.sub(r" \(line \d+\)", "", msg)
            reasons[msg] = reasons.get(msg, 0) + 1
    for msg, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {n:4d} refused: {msg}")

    if os.environ.get("VRT_CORPUS_UPDATE"):
        write_status(result)
        return
    listed = read_status()
    worse, better = [], []
    for name, (cls, msg) in sorted(result.items()):
        was = listed.get(name, "equal" if name not in libvirt_refuses(tests) else "refused-expected")
        if RANK[cls] > RANK[was]:
            worse.append(f"{name}: {was} -> {cls} {msg}")
        elif RANK[cls] < RANK[was]:
            better.append(f"{name}: {was} -> {cls}")
    assert not worse, "corpus files got worse than tests/integration/xml_corpus_status.txt says:\n" + "\n".join(worse)
    assert not better, ("corpus files got better (good): record them with "
                        "VRT_CORPUS_UPDATE=1 pytest tests/integration/test_xml_corpus.py, "
                        "which rewrites tests/integration/xml_corpus_status.txt:\n" + "\n".join(better))

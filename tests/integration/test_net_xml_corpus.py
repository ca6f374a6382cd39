"""libvirt 9.0's network XML test corpus (networkxml2xmlin/ and
networkxml2xmlout/ of its source, tests/lib/libvirt_corpus.py) defined on a
private vrtd, each file classified as a user moving from libvirt would see it:

  identical      defined, and `net-dumpxml` equals libvirt's expected output
                 after the normalization below
  differing      defined, but the XML comes back otherwise
  refused-ok     refused, and libvirt refuses it too (networkxml2xmltest.c's
                 DO_TEST_PARSE_ERROR list)
  accepted-bad   defined although libvirt refuses it
  unsupported    refused with VIR_ERR_CONFIG_UNSUPPORTED (an element vrt does
                 not model, named in the message)
  refused        refused with another error although libvirt accepts it

Normalization (what libvirtd's own define does beyond networkxml2xmltest's
parse-and-format, and layout):
  * a `<mac address=...>` that define generates for a network whose input
    had none (libvirtd's define does it too, virNetworkSetBridgeMacAddr) is
    removed from vrtd's output when the expected output has none;
  * the documents are compared element by element: text that is only
    whitespace between elements is ignored, attribute order is ignored.
    Everything else (element order, attribute values, defaults) must match.

The counts are printed, and the classification of every file is compared
with the committed list net_xml_corpus.expected beside this test, so that a
file changing class (a regression, or a fix: then update the list) fails the
test with the file named.
"""
import os
import re
import xml.etree.ElementTree as ET

import pytest

from vrt_fixtures import import_required, require
import libvirt_corpus

libvirt = import_required("libvirt", "python3-libvirt is not installed")

EXPECTED_LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_xml_corpus.expected")


def parse_error_names(tests):
    """The inputs networkxml2xmltest.c expects libvirt to refuse."""
    with open(os.path.join(tests, "networkxml2xmltest.c")) as f:
        return set(re.findall(r'DO_TEST_PARSE_ERROR\("([^"]+)"\)', f.read()))


def canon(elem):
    """An element as a comparable tuple: name, sorted attributes, stripped
    text (when not only whitespace), children in order."""
    text = (elem.text or "").strip()
    return (elem.tag, tuple(sorted(elem.attrib.items())), text, tuple(canon(c) for c in elem))


def normalize(actual_xml, expected_xml, input_xml):
    actual = ET.fromstring(actual_xml)
    expected = ET.fromstring(expected_xml)
    inp = ET.fromstring(input_xml)
    if actual.find("mac") is not None and expected.find("mac") is None and inp.find("mac") is None:
        actual.remove(actual.find("mac"))
    return canon(actual), canon(expected)


def classify(conn, path, expected_path, libvirt_refuses):
    with open(path) as f:
        xml = f.read()
    try:
        net = conn.networkDefineXML(xml)
    except libvirt.libvirtError as e:
        code = e.get_error_code()
        msg = e.get_error_message() or ""
        if libvirt_refuses:
            return "refused-ok", msg
        if code == libvirt.VIR_ERR_CONFIG_UNSUPPORTED:
            return "unsupported", msg
        return "refused", msg
    try:
        out = net.XMLDesc(0)
    finally:
        net.undefine()
    if libvirt_refuses:
        return "accepted-bad", ""
    with open(expected_path) as f:
        exp = f.read()
    a, b = normalize(out, exp, xml)
    return ("identical" if a == b else "differing"), ""


def read_expected_list():
    entries = {}
    with open(EXPECTED_LIST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, cls = line.split()
                entries[name] = cls
    return entries


def test_network_corpus(vrtd):
    tests = libvirt_corpus.corpus_dir()
    require(tests is not None, "libvirt's source package (apt-get source libvirt) cannot be had")
    indir = os.path.join(tests, "networkxml2xmlin")
    outdir = os.path.join(tests, "networkxml2xmlout")
    refuses = parse_error_names(tests)
    conn = libvirt.open(vrtd.uri)
    results = {}
    messages = {}
    for name in sorted(os.listdir(indir)):
        if not name.endswith(".xml"):
            continue
        base = name[:-4]
        cls, msg = classify(conn, os.path.join(indir, name), os.path.join(outdir, name), base in refuses)
        results[base] = cls
        messages[base] = msg
    conn.close()

    counts = {}
    for cls in results.values():
        counts[cls] = counts.get(cls, 0) + 1
    libvirt_accepts = [b for b in results if b not in refuses]
    accepted = [b for b in libvirt_accepts if results[b] in ("identical", "differing")]
    print(f"\nnetwork corpus: {len(accepted)} of {len(libvirt_accepts)} accepted, "
          f"{counts.get('identical', 0)} identical; {counts.get('refused-ok', 0)} of {len(refuses)} "
          f"refused as libvirt refuses; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for b in sorted(results):
        if results[b] not in ("identical", "refused-ok"):
            print(f"  {b}: {results[b]} {messages[b]}")

    # A refusal names where in the document it is (as domain refusals do).
    for b in sorted(results):
        if results[b] in ("refused-ok", "unsupported", "refused"):
            assert re.search(r"\bline \d+", messages[b]), f"{b}: refusal without a line number: {messages[b]}"

    expected = read_expected_list()

    def good(b):
        return "refused-ok" if b in refuses else "identical"

    changed = {b: (expected.get(b, good(b)), results[b]) for b in results if results[b] != expected.get(b, good(b))}
    changed.update({b: (expected[b], "missing") for b in expected if b not in results})
    assert not changed, ("files changed class (committed list -> now; update net_xml_corpus.expected "
                         "for a fix): " + ", ".join(f"{b}: {o} -> {n}" for b, (o, n) in sorted(changed.items())))

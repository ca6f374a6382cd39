#!/usr/bin/env python3
"""Writes vrt's x86 CPU map (src/conf/cpu/x86_cpu_map.tsv) from the facts of
libvirt's CPU map: vendor names and their CPUID vendor strings, each
feature's name and the CPUID (or MSR) bits that say the CPU has it, and
each named model's vendor, signatures, decode flags and the features it is
made of (a model derived from another gets that one's features, vendor and
signatures, as libvirt reads them). Only facts are carried over, in vrt's
own line format; nothing of libvirt's files is copied.

Usage: extract-cpu-map.py LIBVIRT_SRC/src/cpu_map > src/conf/cpu/x86_cpu_map.tsv
"""

import os
import sys
import xml.etree.ElementTree as ET


def num(s):
    return int(s, 0) if s else 0


def steppings(text):
    """A signature's steppings ("0-4,6") as a 16-bit mask in hex; * = any."""
    if not text:
        return "*"
    mask = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        for i in range(int(lo), int(hi or lo) + 1):
            mask |= 1 << i
    return "%#x" % mask


def main():
    d = sys.argv[1]
    index = ET.parse(os.path.join(d, "index.xml")).getroot()
    arch = [a for a in index.findall("arch") if a.get("name") == "x86"][0]
    vendors, features, models = [], [], []
    by_model = {}
    for inc in arch.findall("include"):
        root = ET.parse(os.path.join(d, inc.get("filename"))).getroot()
        for v in root.findall("vendor"):
            vendors.append((v.get("name"), v.get("string")))
        for f in root.findall("feature"):
            items = []
            for c in f:
                if c.tag == "cpuid":
                    items.append("cpuid:%#x:%#x:%#x:%#x:%#x:%#x" % tuple(
                        num(c.get(k)) for k in ("eax_in", "ecx_in", "eax", "ebx", "ecx", "edx")))
                elif c.tag == "msr":
                    items.append("msr:%#x:%#x:%#x" % tuple(num(c.get(k)) for k in ("index", "eax", "edx")))
            features.append((f.get("name"), "no" if f.get("migratable") == "no" else "yes", items))
        for m in root.findall("model"):
            name = m.get("name")
            dec = m.find("decode")
            anc = m.find("model")
            if anc is not None:
                base = by_model[anc.get("name")]
                vendor, sigs, feats = base["vendor"], list(base["sigs"]), list(base["feats"])
            else:
                vendor, sigs, feats = "-", [], []
            own_sigs = m.findall("signature")
            if own_sigs:
                sigs = ["%s/%s/%s" % (s.get("family"), s.get("model"), steppings(s.get("stepping"))) for s in own_sigs]
            if m.find("vendor") is not None:
                vendor = m.find("vendor").get("name")
            removed = []
            for f in m.findall("feature"):
                if f.get("removed") == "yes":
                    removed.append(f.get("name"))
                elif f.get("name") not in feats:
                    feats.append(f.get("name"))
            rec = {"vendor": vendor, "sigs": sigs, "feats": feats}
            by_model[name] = rec
            models.append((name, vendor, dec.get("host"), dec.get("guest"), sigs, feats, removed))
    out = sys.stdout
    out.write("# vrt's x86 CPU map: facts of libvirt 9.0's src/cpu_map (x86), written by\n"
              "# scripts/extract-cpu-map.py; the order of features and models is libvirt's.\n"
              "# vendor NAME CPUID-STRING\n"
              "# feature NAME MIGRATABLE ITEM... (cpuid:EAX_IN:ECX_IN:EAX:EBX:ECX:EDX or msr:INDEX:EAX:EDX)\n"
              "# model NAME VENDOR|- DECODE-HOST DECODE-GUEST SIGNATURES|- FEATURES|- REMOVED|-\n"
              "#   SIGNATURES: FAMILY/MODEL/STEPPING-MASK (bit N: stepping N; * = any) joined by ','\n")
    for n, s in vendors:
        out.write(f"vendor\t{n}\t{s}\n")
    for n, mig, items in features:
        out.write("feature\t%s\t%s\t%s\n" % (n, mig, "\t".join(items)))
    for n, v, h, g, sigs, feats, removed in models:
        out.write("model\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
            n, v, h, g, ",".join(sigs) or "-", ",".join(feats) or "-", ",".join(removed) or "-"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes protocol/remote_acl.tsv and protocol/qemu_acl.tsv from libvirt's
`@acl:` and `@aclfilter:` annotations (remote_protocol.x, qemu_protocol.x):
for each procedure the permissions its call checks and, for list calls, the
one each listed object must pass. A flag-dependent check (`@acl:
domain:read_secure:VIR_DOMAIN_XML_SECURE`) gets the flags' value from
libvirt's public headers.

Usage: extract-acl.py LIBVIRT_SOURCE_DIR PROTOCOL_DIR
"""
import glob
import os
import re
import sys

src, out = sys.argv[1], sys.argv[2]
consts = {}
for h in glob.glob(os.path.join(src, "include", "libvirt", "*.h*")):
    for m in re.finditer(r"\b(VIR_\w+)\s*=\s*\(?\s*(\d+)\s*(?:<<\s*(\d+))?\s*\)?", open(h).read()):
        consts[m.group(1)] = int(m.group(2)) << int(m.group(3) or 0)
# Aliases (VIR_DOMAIN_SNAPSHOT_XML_SECURE = VIR_DOMAIN_XML_SECURE).
for h in glob.glob(os.path.join(src, "include", "libvirt", "*.h*")):
    for m in re.finditer(r"\b(VIR_\w+)\s*=\s*(VIR_\w+)\s*[,}]", open(h).read()):
        if m.group(2) in consts:
            consts.setdefault(m.group(1), consts[m.group(2)])


def flags_value(expr):
    neg = expr.startswith("!")
    val = 0
    for name in expr.lstrip("!").split("|"):
        val |= consts[name]
    return ("!" if neg else "") + f"{val:#x}"


def extract(x, prefix, tsv, header):
    text = open(os.path.join(src, "src", "remote", x)).read()
    lines = [header]
    for m in re.finditer(r"/\*\*(.*?)\*/\s*" + prefix + r"_PROC_(\w+)\s*=\s*(\d+)", text, re.S):
        acls = re.findall(r"@acl:\s*(\S+)", m.group(1))
        filt = re.findall(r"@aclfilter:\s*(\S+)", m.group(1))
        checks = []
        for a in acls:
            bits = a.split(":")
            if len(bits) >= 3 and bits[2]:
                bits[2] = flags_value(bits[2])
            if len(bits) == 5:  # a check when an argument has a value
                bits[4] = flags_value(bits[4])
            checks.append(":".join(bits))
        lines.append(f"{m.group(2)}\t{' '.join(checks) or 'none'}\t{filt[0] if filt else '-'}\n")
    open(os.path.join(out, tsv), "w").write("".join(lines))


HEADER = ("# The permissions each procedure checks when access_drivers = [ \"polkit\" ]: libvirt 9.0's\n"
          "# @acl annotations ({x}), written by scripts/extract-acl.py.\n"
          "# Columns: NAME  checks  filter\n"
          "#   checks: space-separated object:perm[:flags] (\"none\": no check); with flags, the check\n"
          "#     applies when all those flags are set, or with !flags when none is (libvirt's rule);\n"
          "#     object:perm::ARG:VALUE applies when the argument ARG is VALUE\n"
          "#   filter: object:perm a listed object (or an event's) must pass to be shown, or -\n")
extract("remote_protocol.x", "REMOTE", "remote_acl.tsv", HEADER.format(x="remote_protocol.x"))
extract("qemu_protocol.x", "QEMU", "qemu_acl.tsv", HEADER.format(x="qemu_protocol.x"))

#!/usr/bin/env python3
"""Checks that libvrt.so exports exactly the functions declared in vrt.h and
that libvrt.sym lists the same set (a new API function needs all three).
Given vrtd too, checks that the daemon defines none of those names: the
daemon's drivers implement the same libvirt API under their own prefixes
(vrt_qemu_domain_*, vrt_netdrv_*, vrt_nodedev_drv_*), so a backtrace, a
grep or a program linking both never confuses the two sides.

Usage: check-exports.py vrt.h libvrt.sym libvrt.so [vrtd]"""
import re
import subprocess
import sys


def defined(path, dynamic):
    """Names of the functions path defines (its dynamic exports when dynamic)."""
    args = ["nm", "--defined-only"] + (["-D"] if dynamic else []) + [path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    fields = [line.split() for line in out.splitlines()]
    return {f[2].split("@")[0] for f in fields if len(f) == 3 and f[1] == "T"}


header, symfile, lib = sys.argv[1:4]
declared = set(re.findall(r"\b(vrt_[a-z_]+)\(", open(header).read()))
listed = set(re.findall(r"^\s+(vrt_[a-z_]+);", open(symfile).read(), re.M))
exported = defined(lib, True)
ok = True
for name, got in (("libvrt.sym", listed), ("libvrt.so", exported)):
    if got != declared:
        ok = False
        print(f"{name}: missing {sorted(declared - got)}, extra {sorted(got - declared)}")
print("exports match vrt.h" if ok else "exports differ from vrt.h")
if len(sys.argv) > 4:
    shared = sorted(declared & defined(sys.argv[4], False))
    if shared:
        ok = False
        print(f"vrtd defines functions of libvrt's public API: {shared}")
    else:
        print("vrtd shares no function name with vrt.h")
sys.exit(0 if ok else 1)

#!/usr/bin/env python3
"""Checks that libvrt.so exports exactly the functions declared in vrt.h and
that libvrt.sym lists the same set (a new API function needs all three).

Usage: check-exports.py vrt.h libvrt.sym libvrt.so"""
import re
import subprocess
import sys

header, symfile, lib = sys.argv[1:4]
declared = set(re.findall(r"\b(vrt_[a-z_]+)\(", open(header).read()))
listed = set(re.findall(r"^\s+(vrt_[a-z_]+);", open(symfile).read(), re.M))
out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
exported = {line.split()[2].split("@")[0] for line in out.splitlines() if len(line.split()) == 3 and line.split()[1] == "T"}
ok = True
for name, got in (("libvrt.sym", listed), ("libvrt.so", exported)):
    if got != declared:
        ok = False
        print(f"{name}: missing {sorted(declared - got)}, extra {sorted(got - declared)}")
print("exports match vrt.h" if ok else "exports differ from vrt.h")
sys.exit(0 if ok else 1)

#!/usr/bin/env python3
"""Run rpcgen on an .x file so the generated C includes its header by base name.

Usage: rpcgen.py RPCGEN (-h|-c) INPUT.x OUTPUT
rpcgen writes '#include "<input path>.h"'; running it on a copy in a temporary
directory under the plain name makes that '#include "vrt_remote.h"'. The
output is written there under its own name too, which rpcgen makes the
header's include guard: one per .x file, so vrt_qemu.h can include
vrt_remote.h.
"""
import os
import shutil
import subprocess
import sys
import tempfile

rpcgen, mode, src, out = sys.argv[1:5]
with tempfile.TemporaryDirectory() as tmp:
    name = os.path.basename(src)
    shutil.copy(src, os.path.join(tmp, name))
    target = os.path.join(tmp, os.path.basename(out))
    subprocess.run([rpcgen, mode, "-o", target, name], cwd=tmp, check=True)
    shutil.copy(target, out)

"""A stand-in "QEMU binary" that runs the QMP emulator (tests/qmpemu) in
QEMU's place, for vrtd's <emulator>. Used by tests/integration/test_hostdev.py
and bench/bench_hotplug.py, so both drive the emulator the same way.

vrtd probes machine types with `-machine help` (real QEMU answers that) and
passes -device as JSON, which qmpemu reads as key=value; the wrapper converts
it and points the emulator at its behaviour file (JSON) and QMP log.
"""

import os

PY = "/usr/bin/python3"
QMPEMU = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qmpemu", "qmpemu.py")


def write(path, config, log):
    """Writes the wrapper script at path (mode 0755) and returns path."""
    with open(path, "w") as f:
        f.write(f"""#!{PY}
import json, os, sys
args = sys.argv[1:]
if args[:2] == ["-machine", "help"]:
    os.execvp("qemu-system-x86_64", ["qemu-system-x86_64"] + args)
for i, a in enumerate(args):
    if i and args[i - 1] == "-device" and a.startswith("{{"):
        d = json.loads(a)
        args[i] = ",".join([d.pop("driver")] + [f"{{k}}={{v}}" for k, v in d.items()])
os.environ.update(QMPEMU_CONFIG={config!r}, QMPEMU_LOG={log!r})
os.execv({PY!r}, [{PY!r}, {QMPEMU!r}] + args)
""")
    os.chmod(path, 0o755)
    return path

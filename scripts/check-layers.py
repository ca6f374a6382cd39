#!/usr/bin/env python3
"""Checks that every #include of vrt's C sources runs with the layer order.

The order is the table under "## Layers" in docs/architecture.md: each row
is one layer, its first cell names the layer's folders (`src/util/`, or
several: `tests/`, `fuzz/`), and a file may include files of its own layer
and of the rows above it, never of a row below. The doc is the one place the
order is written; this script only reads it.

Every C source and header in git (or, outside git, under the tree) must lie
in a layer, and every quoted include must resolve: against the including
file's folder, the top of the tree and src/ (the build's include paths), or
to a file a meson.build generates (custom_target/configure_file outputs),
which belongs to the layer of that meson.build's folder, so rpcgen's and
gen_procs.py's output counts as protocol/. The top meson.build's generated
header (vrt-config.h, the build's configuration) is usable from any layer.
A module's own tests and fuzzers beside it (test-*.c, fuzz-*.c) belong to
the tests' layer: they may use the C test helpers (tests/clib) and any
layer, and nothing includes them.

Given a build directory, the generators' C output there is checked too
(the .c/.h files named as outputs by a meson.build; each is in the layer of
the folder it is generated in, as above): generated code runs with the same
order as the code in git.

Prints each violation as FILE:LINE: ... and exits 1 when there is any.
Usage: check-layers.py [SOURCE_ROOT [BUILD_DIR]]
"""

import os
import re
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
ROW_FOLDERS_RE = re.compile(r"`([^`]+/)`")
OUTPUT_RE = re.compile(r"\boutput\s*:\s*(\[[^\]]*\]|'[^']*')")
ANY_LAYER = -1


def read_layers(root):
    """[(index, [folder, ...]), ...] in order, from docs/architecture.md."""
    path = os.path.join(root, "docs", "architecture.md")
    layers = []
    in_section = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.strip() == "## Layers"
                continue
            if not in_section or not line.startswith("|"):
                continue
            first = line.split("|")[1]
            folders = ROW_FOLDERS_RE.findall(first)
            if folders:
                layers.append([os.path.normpath(d) + "/" for d in folders])
    if not layers:
        sys.exit(f"{path}: no layer table under '## Layers'")
    return layers


def layer_of(relpath, layers):
    """Index of the layer holding relpath (longest folder match), or None."""
    best, best_len = None, -1
    for i, folders in enumerate(layers):
        for d in folders:
            if relpath.startswith(d) and len(d) > best_len:
                best, best_len = i, len(d)
    return best


def tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True, check=True).stdout
        # Untracked files too (a new file is checked before its commit),
        # except a build tree that .gitignore does not name.
        names = [n for n in out.decode().split("\0")
                 if n and not os.path.exists(os.path.join(root, n.split("/")[0], "build.ninja"))]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, subdirs, files in os.walk(root):
            subdirs[:] = [s for s in subdirs
                          if not s.startswith(".") and not os.path.exists(os.path.join(d, s, "build.ninja"))]
            names += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(names)


def generated_files(root, names):
    """Base name of each file a meson.build generates -> folder of that meson.build."""
    gen = {}
    for name in names:
        if os.path.basename(name) != "meson.build":
            continue
        folder = os.path.dirname(name)
        with open(os.path.join(root, name), encoding="utf-8") as f:
            text = f.read()
        for m in OUTPUT_RE.finditer(text):
            for out in re.findall(r"'([^']+)'", m.group(1)):
                if not out.startswith("@"):
                    gen.setdefault(out, folder)
    return gen


def built_files(build, gen):
    """Build-dir relative paths of the generated .c/.h files under build
    whose name a meson.build gives as an output (not the top meson.build's
    configuration header, which is for every layer)."""
    found = []
    for d, subdirs, files in os.walk(build):
        # Object folders (*.p) and meson's own state hold no generator output.
        # A nested build tree (test_install.py's install-test) is another
        # build, checked when it is the one named, and may be stale.
        subdirs[:] = [x for x in subdirs if not x.endswith(".p") and not x.startswith(("meson-", "."))
                      and not os.path.exists(os.path.join(d, x, "build.ninja"))]
        for f in files:
            if f.endswith((".c", ".h")) and gen.get(f):
                found.append(os.path.relpath(os.path.join(d, f), build))
    return sorted(found)


def resolve(root, src, target, tracked, gen):
    """Repository path of an included file, ('gen', folder) for a generated one, or None."""
    for base in (os.path.dirname(src), "", "src", "protocol", "tests/clib"):
        cand = os.path.normpath(os.path.join(base, target))
        if cand in tracked:
            return cand
    if "/" not in target and target in gen:
        return ("gen", gen[target])
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    build = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    layers = read_layers(root)
    names = tracked_files(root)
    tracked = set(names)
    gen = generated_files(root, names)
    # (layer path, file to read, name in messages): the layer path is where
    # the file is, or for generated output where it is generated.
    sources = [(n, os.path.join(root, n), n) for n in names if n.endswith((".c", ".h"))]
    if build:
        if not os.path.isdir(build):
            sys.exit(f"{build}: not a build directory")
        shown = os.path.relpath(build, root) if build.startswith(root + os.sep) else build
        sources += [(n, os.path.join(build, n), os.path.join(shown, n)) for n in built_files(build, gen)]
    errors = []

    def name(i):
        return ", ".join(layers[i])

    tests_layer = layer_of("tests/", layers)
    for src, path, shown_src in sources:
        mine = layer_of(src, layers)
        if os.path.basename(src).startswith(("test-", "test_", "fuzz-")) and tests_layer is not None:
            mine = tests_layer
        if mine is None:
            errors.append(f"{shown_src}:1: not in any layer of docs/architecture.md (add its folder to the table)")
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                quote, target = m.groups()
                where = resolve(root, src, target, tracked, gen)
                if where is None:
                    if quote == '"':
                        errors.append(f"{shown_src}:{lineno}: cannot tell the layer of \"{target}\" "
                                      "(not in the tree nor generated by a meson.build)")
                    continue   # <system.h>
                if isinstance(where, tuple):
                    theirs = ANY_LAYER if where[1] == "" else layer_of(where[1] + "/", layers)
                    what = f"{target} (generated in {where[1] or 'the top meson.build'})"
                else:
                    theirs = layer_of(where, layers)
                    what = where
                if theirs is None:
                    errors.append(f"{shown_src}:{lineno}: includes {what}, which is in no layer")
                elif theirs != ANY_LAYER and theirs > mine:
                    errors.append(f"{shown_src}:{lineno}: {name(mine)} includes {what} from {name(theirs)}, "
                                  "a layer below it (docs/architecture.md, '## Layers')")
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) against the layer order", file=sys.stderr)
        return 1
    print(f"{len(sources)} files, {len(layers)} layers: every include runs with the order")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Prints what the last `meson test --suite fuzz` run of a build reached:
for each fuzzer, libFuzzer's coverage (cov: edges, ft: features) and corpus
size when it started from its seeds and when it stopped, and how many
inputs it ran. meson test keeps a passing test's output to its log
(meson-logs/testlog.json), where nobody reading CI output sees it.

Usage: fuzz/coverage.py BUILDDIR

The short run is what tests/run does; a longer one by hand:
  meson test -C build-fuzz --suite fuzz --test-args=-max_total_time=600 -t 0
  fuzz/coverage.py build-fuzz
"""
import json
import os
import re
import sys

LINE = re.compile(r"^#(\d+)\s+(INITED|DONE)\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.M)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    log = os.path.join(sys.argv[1], "meson-logs", "testlog.json")
    rows = []
    with open(log) as f:
        for line in f:
            test = json.loads(line)
            name = test["name"].split(" / ")[-1]
            if not name.startswith("fuzz-") or "stderr" not in test:
                continue
            out = (test.get("stderr") or "") + (test.get("stdout") or "")
            seen = {m.group(2): m.groups() for m in LINE.finditer(out)}
            if "INITED" not in seen:
                continue
            start = seen["INITED"]
            end = seen.get("DONE")
            if end:
                rows.append(f"{name:<18} cov: {start[2]:>5} -> {end[2]:<5} ft: {start[3]:>5} -> {end[3]:<5} "
                            f"corpus: {start[4]} -> {end[4]}, {end[0]} runs, {test['result']}")
            else:
                rows.append(f"{name:<18} cov: {start[2]:>5} at start, no end figures (stopped early), {test['result']}")
    print("fuzzing coverage (libFuzzer edges and features: at start, from the seeds and the corpus kept "
          "in the build tree -> at the end of the run):")
    for row in rows:
        print("  " + row)
    return 0


if __name__ == "__main__":
    sys.exit(main())

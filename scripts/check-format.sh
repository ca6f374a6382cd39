#!/bin/sh
# Fails, listing the files, when a C source or header in git is not as
# clang-format (with the tree's .clang-format) writes it. Fix with
#   clang-format -i $(git ls-files '*.c' '*.h')
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/install-deps installs it)"; exit 1; }
files=$(git ls-files '*.c' '*.h')
# One clang-format per 64 files, two at a time (one per file took minutes
# on a loaded two-core machine); each violation is reported as
# FILE:LINE:COL: error: ..., from which the files are listed.
report=$(printf '%s\n' $files | xargs -n 64 -P 2 clang-format --dry-run --Werror 2>&1 >/dev/null || true)
bad=$(printf '%s\n' "$report" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
if [ -n "$bad" ]; then
    for f in $bad; do echo "not formatted: $f"; done
    echo "run: clang-format -i \$(git ls-files '*.c' '*.h')"
    exit 1
fi
echo "$(echo $files | wc -w) files formatted as .clang-format says"

#!/bin/sh
# Fails, listing the files, when a C source or header in git is not as
# clang-format (with the tree's .clang-format) writes it. Fix with
#   clang-format -i $(git ls-files '*.c' '*.h')
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/install-deps installs it)"; exit 1; }
files=$(git ls-files '*.c' '*.h')
bad=""
for f in $files; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    for f in $bad; do echo "not formatted: $f"; done
    echo "run: clang-format -i \$(git ls-files '*.c' '*.h')"
    exit 1
fi
echo "$(echo $files | wc -w) files formatted as .clang-format says"

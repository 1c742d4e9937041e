#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks against a kernel build tree: checkpatch --strict on every
# source file, sparse on the module.
#
# usage: lint.sh KTREE
set -uo pipefail

ktree=${1:?usage: lint.sh KTREE}
repo=$(cd "$(dirname "$0")/../.." && pwd)
src=$ktree/source
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

echo "==> checkpatch --strict"
files=$(cd "$repo" && git ls-files '*.c' '*.h' 2>/dev/null ||
	find . -name '*.[ch]' -not -path './build/*')
if ! (cd "$repo" && perl "$src/scripts/checkpatch.pl" --no-tree --strict \
	--quiet --terse -f $files); then
	status=1
fi

echo "==> sparse (C=2)"
rsync -a --exclude .git --exclude build "$repo/" "$work/" || exit 1
make -s -C "$ktree" M="$work" C=2 CHECK="sparse -Wno-decl" modules \
	> "$work/sparse.log" 2>&1
if grep -E 'warning|error' "$work/sparse.log"; then
	status=1
fi
exit $status

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks: shellcheck on every shell script; against a kernel build
# tree, checkpatch --strict on every source file, W=1 and sparse on every
# module, coccicheck on the sources.
#
# usage: lint.sh KTREE
set -uo pipefail

ktree=${1:?usage: lint.sh KTREE}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
src=$ktree/source
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# The guest's scripts run in busybox's ash, which shellcheck 0.9 does not
# know: dash is the dialect nearest to it.  Every finding fails, notes
# and style included.
echo "==> shellcheck"
mapfile -t guest < <(git -C "$repo" ls-files tests/vm/guest/init 'tests/vm/guest/*.sh')
mapfile -t host < <(git -C "$repo" ls-files '*.sh' .ci/run ':!tests/vm/guest/*')
if ! (cd "$repo" && shellcheck -x -s dash "${guest[@]}"); then
	echo "lint.sh: shellcheck found problems in the guest's scripts"
	status=1
fi
if ! (cd "$repo" && shellcheck -x "${host[@]}"); then
	echo "lint.sh: shellcheck found problems in the host's scripts"
	status=1
fi

echo "==> checkpatch --strict"
files=$(cd "$repo" && git ls-files '*.c' '*.h')
# The compat header is made of kernel-version checks, which checkpatch
# flags in code meant for one tree: only those two warnings are ignored,
# and only there.
for f in $files; do
	ignore=
	[ "$f" = labyrinth_compat.h ] &&
		ignore=--ignore=LINUX_VERSION_CODE,CONSTANT_COMPARISON
	if ! (cd "$repo" && perl "$src/scripts/checkpatch.pl" --no-tree --strict \
		--quiet --terse $ignore -f "$f"); then
		echo "lint.sh: checkpatch failed or found problems in $f"
		status=1
	fi
done

# The client patches, as patches: each submitter adds their own
# Signed-off-by.  Read from standard input: given a path inside a git
# tree, checkpatch looks at the file as the tree has it.
for f in "$repo"/clients/*/*.patch; do
	if ! perl "$src/scripts/checkpatch.pl" --no-tree --strict --quiet \
		--terse --no-signoff - < "$f"; then
		echo "lint.sh: checkpatch found problems in ${f#"$repo"/}"
		status=1
	fi
done

rsync -a --exclude .git --exclude build "$repo/" "$work/" || exit 1

echo "==> make W=1 and sparse (C=2)"
if ! make -s -C "$ktree" M="$work" W=1 C=2 modules > "$work/sparse.log" 2>&1 ||
   ! make -s -C "$ktree" M="$work/tests" W=1 C=2 \
	KBUILD_EXTRA_SYMBOLS="$work/Module.symvers" modules \
	>> "$work/sparse.log" 2>&1; then
	cat "$work/sparse.log"
	echo "lint.sh: make W=1 C=2 failed"
	status=1
elif grep -iE 'warning|error' "$work/sparse.log"; then
	status=1
fi

echo "==> coccicheck (MODE=report)"
if ! make -C "$ktree" M="$work" MODE=report coccicheck > "$work/cocci.log" 2>&1; then
	grep -v '^/usr/bin/spatch' "$work/cocci.log" | tail -n 20
	echo "lint.sh: coccicheck failed"
	status=1
fi
# A report names a file of ours: "/path/file.c:LINE:COL-COL: message".
if grep -E '^/.*: (WARNING|ERROR|WARNING:|ERROR:)|^/.*:[0-9]+:[0-9]+-[0-9]+: ' \
	"$work/cocci.log"; then
	status=1
fi
exit $status

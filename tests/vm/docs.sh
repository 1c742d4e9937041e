#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: copy the reports into README.md.  README marks each place
# that shows one with
#
#	<!-- BEGIN reports/FILE -->
#	<!-- END reports/FILE -->
#
# and everything between the two lines is replaced with FILE.  With
# --check, change nothing: fail, showing the difference, if README.md is
# not what the reports make it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
readme=$repo/README.md
new=$(mktemp)
trap 'rm -f "$new"' EXIT

awk -v repo="$repo" '
	function fail(msg) { print "docs.sh: " msg > "/dev/stderr"; bad = 1; exit 1 }
	/^<!-- BEGIN reports\/[^ ]+ -->$/ {
		if (file != "")
			fail("line " NR ": BEGIN inside " file)
		print
		file = $3
		path = repo "/" file
		if (system("test -r \"" path "\"") != 0)
			fail("line " NR ": no " file)
		while ((getline line < path) > 0)
			print line
		close(path)
		next
	}
	/^<!-- END reports\/[^ ]+ -->$/ {
		if ($3 != file)
			fail("line " NR ": END of " $3 " without its BEGIN")
		file = ""
		print
		next
	}
	file == "" { print }
	END { if (!bad && file != "") fail(file ": no END") }
' "$readme" > "$new"

if [ "${1:-}" = --check ]; then
	if ! diff -u "$readme" "$new"; then
		echo "docs.sh: README.md is not what the reports make it: run make docs" >&2
		exit 1
	fi
	exit 0
fi
cmp -s "$readme" "$new" || cp "$new" "$readme"

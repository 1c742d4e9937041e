#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: copy the reports into README.md and docs/*.md.  Each place
# that shows one is marked with
#
#	<!-- BEGIN reports/FILE -->
#	<!-- END reports/FILE -->
#
# and everything between the two lines is replaced with FILE (in docs/,
# with its links to reports/ made relative to docs/).  With --check,
# change nothing: fail, showing the difference, if a document is not what
# the reports make it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
new=$(mktemp)
trap 'rm -f "$new"' EXIT
bad=0

for doc in "$repo/README.md" "$repo"/docs/*.md; do
	awk -v repo="$repo" -v up="$([ "$doc" = "$repo/README.md" ] || echo ../)" '
		function fail(msg) { print "docs.sh: " msg > "/dev/stderr"; bad = 1; exit 1 }
		/^<!-- BEGIN reports\/[^ ]+ -->$/ {
			if (file != "")
				fail(FILENAME ": line " FNR ": BEGIN inside " file)
			print
			file = $3
			path = repo "/" file
			if (system("test -r \"" path "\"") != 0)
				fail(FILENAME ": line " FNR ": no " file)
			while ((getline line < path) > 0) {
				if (up != "")
					gsub(/\]\(reports\//, "](" up "reports/", line)
				print line
			}
			close(path)
			next
		}
		/^<!-- END reports\/[^ ]+ -->$/ {
			if ($3 != file)
				fail(FILENAME ": line " FNR ": END of " $3 " without its BEGIN")
			file = ""
			print
			next
		}
		file == "" { print }
		END { if (!bad && file != "") fail(file ": no END") }
	' "$doc" > "$new"

	if [ "${1:-}" = --check ]; then
		if ! diff -u "$doc" "$new"; then
			echo "docs.sh: ${doc#"$repo"/} is not what the reports make it: run make docs" >&2
			bad=1
		fi
	else
		cmp -s "$doc" "$new" || cp "$new" "$doc"
	fi
done
exit "$bad"

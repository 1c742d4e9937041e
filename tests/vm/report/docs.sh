#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: take the reports that make demo, stress, bench and clients
# wrote to build/reports/ into reports/, when they measured the sources
# of this checkout (tests/vm/report/sources.sh), then copy the reports into
# README.md and docs/*.md.  Each place that shows one is marked with
#
#	<!-- BEGIN reports/FILE -->
#	<!-- END reports/FILE -->
#
# and everything between the two lines is replaced with FILE (in docs/,
# with its links to reports/ made relative to docs/).
#
# With --check, change nothing: fail if a report in reports/ measured
# other sources than the checkout's, naming the command that refreshes
# it, or if a document is not what the reports make it, showing the
# difference.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
vm=$repo/tests/vm
new=$(mktemp)
trap 'rm -f "$new"' EXIT
bad=0
check=0
[ "${1:-}" != --check ] || check=1

# report_made FILE: "KIND HASH", the command that wrote the report FILE
# and the hash of the sources it measured, from its first line.
report_made() {
	sed -n '1s/^<!-- written by make \([a-z]*\) from sources \([0-9a-f]*\) .*/\1 \2/p' "$1"
}

# current KIND: the hash of the checkout's sources for KIND's reports.
declare -A current
for kind in demo stress bench clients; do
	current[$kind]=$("$vm/report/sources.sh" "$kind")
done

# fresh FILE: whether the report FILE measured the checkout's sources;
# says why not.
fresh() {
	local kind hash

	read -r kind hash < <(report_made "$1") || true
	if [ -z "${kind:-}" ] || [ -z "${current[$kind]:-}" ]; then
		echo "docs.sh: ${1#"$repo"/} does not say what it measured: run the make target that writes it" >&2
		return 1
	fi
	if [ "$hash" != "${current[$kind]}" ]; then
		echo "docs.sh: ${1#"$repo"/} measured sources $hash, the checkout's are ${current[$kind]} (tests/vm/report/sources.sh $kind --list): run make $kind, then make docs" >&2
		return 1
	fi
}

if [ "$check" = 0 ] && [ -d "$repo/build/reports" ]; then
	for f in "$repo"/build/reports/*.md; do
		[ -e "$f" ] || continue
		if ! fresh "$f"; then
			echo "docs.sh: left ${f#"$repo"/} out" >&2
			continue
		fi
		kind=$(report_made "$f")
		kind=${kind%% *}
		# A command's reports and charts go together.
		for g in "$f" "$repo/build/reports/$kind"*.svg; do
			[ -e "$g" ] || continue
			cmp -s "$g" "$repo/reports/${g##*/}" ||
				{ cp "$g" "$repo/reports/"; echo "reports/${g##*/} from ${g#"$repo"/}"; }
		done
	done
fi

for f in "$repo"/reports/*.md; do
	fresh "$f" || bad=1
done

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

	if [ "$check" = 1 ]; then
		if ! diff -u "$doc" "$new"; then
			echo "docs.sh: ${doc#"$repo"/} is not what the reports make it: run make docs" >&2
			bad=1
		fi
	else
		cmp -s "$doc" "$new" || cp "$new" "$doc"
	fi
done
exit "$bad"

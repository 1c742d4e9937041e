#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sources.sh KIND [--list]: the hash of the sources that a report of
# make KIND (demo, stress, bench or clients) measured, or with --list the
# files themselves: the module's sources (Kbuild and labyrinth*.[ch] at
# the top of the checkout), the test modules and guest programs that the
# command loads and, for clients, the driver patches and the sender.  Not
# the shell scripts that drive the guest and format the figures: the
# settings they choose are printed in the report itself.  A report
# records the hash (tests/vm/report/report.sh); make check fails on a
# report whose hash is not the checkout's (tests/vm/report/docs.sh
# --check).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
kind=${1:?usage: sources.sh demo|stress|bench|clients [--list]}

case $kind in
demo)
	files=(tests/labyrinth_demo.c tests/labyrinth_test.h)
	;;
stress)
	files=(tests/labyrinth_stress.c tests/labyrinth_test.h)
	;;
bench)
	# The guarantee table is labyrinth_stress's.
	files=(tests/labyrinth_bench.c tests/labyrinth_floor.c
	       tests/labyrinth_floor.h tests/labyrinth_stress.c
	       tests/labyrinth_test.h)
	;;
clients)
	files=(tests/labyrinth_pressure.c tests/labyrinth_test.h
	       tests/vm/lab-netrx.c tests/vm/lab-ethstat.c
	       clients/build.sh clients/sender.py)
	mapfile -t -O ${#files[@]} files < \
		<(git -C "$repo" ls-files -- 'clients/*.patch')
	;;
*)
	echo "sources.sh: no report is written by make $kind" >&2
	exit 2
	;;
esac
mapfile -t module < <(git -C "$repo" ls-files -- Kbuild 'labyrinth*.[ch]')
[ ${#module[@]} -gt 0 ] || { echo "sources.sh: no git checkout in $repo" >&2; exit 2; }
files=("${module[@]}" "${files[@]}")

if [ "${2:-}" = --list ]; then
	printf '%s\n' "${files[@]}"
else
	# The contents in this order, not the names: a file moved is the
	# same source.
	cd "$repo"
	sha256sum -- "${files[@]}" | cut -d ' ' -f 1 | sha256sum | cut -c 1-16
fi

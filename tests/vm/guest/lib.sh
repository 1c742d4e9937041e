# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers of the guest scripts.  A boot runs the tests its mode's
# plan (MODE.plan) declares, in order (lab_run_plan): each is a KTAP
# subtest made of the results it reports, and the document, with its plan,
# goes to the second serial port between "LAB-KTAP-BEGIN <name>" and
# "LAB-KTAP-END" lines (lab_ktap_emit); the host parses it with the kernel
# tree's kunit.py, like the KUnit suite's results, and checks that it
# holds every test of the plan.  A test whose prerequisite is missing
# reports a skip, which fails the run unless the host declared it expected
# for the kernel it booted.

LAB_RESULTS=/dev/ttyS1
LAB_KO=/lab
# labyrinth itself, as the tests load it.
# shellcheck disable=SC2034 # used by the tests that source this file
LAB_MODULE=$LAB_KO/labyrinth.ko
# The results of the test that runs, then the document of the tests run.
LAB_KTAP=/tmp/lab.ktap
LAB_DOC=/tmp/lab.doc

# One result line, numbered when the document is emitted.
lab_result() {
	echo "$1" >> "$LAB_KTAP"
}

pass() {
	lab_result "ok $1"
	echo "  ok   $1"
}

fail() {
	lab_result "# $1: $2"
	lab_result "not ok $1"
	echo "  FAIL $1: $2"
}

# skip NAME WHY: NAME could not run here.
skip() {
	lab_result "ok $1 # SKIP $2"
	echo "  SKIP $1: $2"
}

# lab_subtest I NAME COMMAND...: run COMMAND as test I of the document,
# NAME, of the results it reports: failed if one failed or it reported
# none, skipped if all were skips.
lab_subtest() {
	local lab_n=$1 lab_name=$2

	shift 2
	: > "$LAB_KTAP"
	"$@"
	[ -s "$LAB_KTAP" ] || fail "$lab_name" "the test reported no result"
	awk -v i="$lab_n" -v name="$lab_name" '
		/^#/ { line[++n] = "    " $0; next }
		{ k++; all++
		  if (/^not ok /) bad++
		  else if (/ # SKIP /) skips++
		  sub(/^ok /, "ok " k " "); sub(/^not ok /, "not ok " k " ")
		  line[++n] = "    " $0 }
		END {
			print "    KTAP version 1"
			print "    # Subtest: " name
			print "    1.." k
			for (j = 1; j <= n; j++) print line[j]
			if (bad) print "not ok " i " " name
			else if (skips == all) print "ok " i " " name " # SKIP"
			else print "ok " i " " name
		}' "$LAB_KTAP" >> "$LAB_DOC"
}

# lab_run_plan FILE: the tests FILE declares, "SCRIPT NAME" per line
# (comments after #), in order, each test_NAME of /lab/SCRIPT as one
# subtest of that name (kunit.py takes a result named as its subtest for
# the subtest's own); or, with labtest=NAME on the kernel command line,
# that one alone.  The final checks (taint, kmemleak, lockdep) close every plan.
# The plan, the number of tests, is fixed before the first one runs.
lab_run_plan() {
	plan=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1")
	if [ -n "${labtest:-}" ]; then
		plan=$(echo "$plan" | awk -v t="$labtest" '$2 == t')
	fi
	lab_plan=$(($(echo "$plan" | grep -c .) + 1))
	: > "$LAB_DOC"
	lab_i=0
	lab_sourced=" lib.sh "
	# shellcheck disable=SC2086 # "SCRIPT NAME" pairs, split in words
	set -- $plan
	while [ $# -ge 2 ]; do
		case $lab_sourced in
		*" $1 "*) ;;
		*)
			# shellcheck source=/dev/null # each linted on its own
			. "/lab/$1"
			lab_sourced="$lab_sourced$1 "
			;;
		esac
		lab_i=$((lab_i + 1))
		if command -v "test_$2" > /dev/null; then
			lab_subtest "$lab_i" "test_$2" "test_$2"
		else
			lab_subtest "$lab_i" "test_$2" fail "$2" "no test_$2 in $1"
		fi
		shift 2
	done
	lab_subtest $((lab_i + 1)) final_checks lab_final_checks
}

# lab_ktap_emit NAME: the tests run as one KTAP document.
lab_ktap_emit() {
	{
		echo "LAB-KTAP-BEGIN $1"
		echo "KTAP version 1"
		echo "1..$lab_plan"
		cat "$LAB_DOC"
		echo "LAB-KTAP-END"
	} > "$LAB_RESULTS"
}

# lab_ktap_copy NAME FILE: a KTAP document the kernel wrote (KUnit).
lab_ktap_copy() {
	{
		echo "LAB-KTAP-BEGIN $1"
		cat "$2"
		echo "LAB-KTAP-END"
	} > "$LAB_RESULTS"
}

# check NAME COMMAND...: pass if COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "'$*' failed"; fi
}

# failures_explained FAILED SKIPPED0: a client's FAILED gets are none, or
# on PREEMPT_RT, where a hard-IRQ get that finds every pool empty may not
# call the page allocator, exactly the fallbacks skipped since
# fallback_skipped was SKIPPED0.
failures_explained() {
	[ "${1:-1}" = 0 ] && return 0
	uname -v | grep -q PREEMPT_RT &&
		[ "$1" = $(($(labstat fallback_skipped) - $2)) ]
}

# The fault injection every test that exhausts memory uses.
LAB_FPA=/sys/kernel/debug/fail_page_alloc

# set_param NAME VALUE: a runtime write of labyrinth's parameter NAME,
# which fails if labyrinth refuses it.
set_param() {
	echo "$2" > "/sys/module/labyrinth/parameters/$1" 2> /dev/null
}

# rejects NAME PARAM VALUE: the write fails and the value is unchanged.
rejects() {
	before=$(param "$2")
	if set_param "$2" "$3"; then
		fail "$1" "write of '$3' to $2 accepted"
	elif [ "$(param "$2")" != "$before" ]; then
		fail "$1" "$2 changed to $(param "$2")"
	else
		pass "$1"
	fi
}

# levels_are N: every online CPU's pool holds N pages and the sum adds up.
levels_are() {
	awk -v n="$1" '$2 != n || $3 != n { bad = 1 } END { exit bad }' \
		/sys/kernel/debug/labyrinth/cpus &&
	[ "$(labstat pages_held)" = $(($1 * $(wc -l < /sys/kernel/debug/labyrinth/cpus))) ]
}

# reserve_settle: let the refill workers finish what the last test
# started; a write of pages_per_cpu waits for them.
reserve_settle() {
	set_param pages_per_cpu "$(param pages_per_cpu)"
}

# check_both NAME WHY COND1 COND2: pass if both [ ] conditions (each one
# string) hold.
check_both() {
	# shellcheck disable=SC2086 # each condition is split on purpose
	if [ $3 ] && [ $4 ]; then pass "$1"; else fail "$1" "$2"; fi
}

# module_loaded NAME: the module NAME is loaded.
module_loaded() {
	grep -q "^$1 " /proc/modules
}

# pause_open, then pause_for SECONDS (fractions allowed): wait in a shell
# builtin, reading from a FIFO that nobody writes (fd 3).
pause_open() {
	[ -p /tmp/lab.fifo ] || mkfifo /tmp/lab.fifo
	exec 3<> /tmp/lab.fifo
}

pause_for() {
	# shellcheck disable=SC3045 # busybox ash's read has -t
	read -r -t "$1" _ <&3
}

# fpa_fail_all: fail every page allocation of every task and context,
# silently, while the probability (fd 4) is not zero, but those that may
# be highmem: user pages.  A page fault that cannot get a page is retried
# for ever, and the shell that drives the test, between its writes to fd
# 4, may fault on a page of its stack or heap it never touched before.
fpa_fail_all() {
	echo N > "$LAB_FPA"/task-filter
	echo N > "$LAB_FPA"/ignore-gfp-wait
	echo Y > "$LAB_FPA"/ignore-gfp-highmem
	echo 0 > "$LAB_FPA"/min-order
	echo 0 > "$LAB_FPA"/space
	echo 0 > "$LAB_FPA"/verbose
	echo 1 > "$LAB_FPA"/interval
	echo 0 > "$LAB_FPA"/probability
	exec 4> "$LAB_FPA"/probability
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds,
# for SECONDS at most; fails if it never did.
wait_for() {
	local n=$(($1 * 10))

	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# demo_run_over: labyrinth_demo's run (wait=0) has ended.
demo_run_over() {
	[ "$(field /sys/kernel/debug/labyrinth_demo/summary running)" = 0 ]
}

# need_module NAME: the test module NAME.ko is in the initramfs, or a
# failure: every test module is built for every kernel.
need_module() {
	[ -f "$LAB_KO/$1.ko" ] && return 0
	fail "${1}_module_present" "no $LAB_KO/$1.ko"
	return 1
}

# fpa_fail_tasks PERCENT [SPACE]: fail_page_alloc fails PERCENT of the page
# allocations of the tasks that ask for it (/proc/self/make-it-fail),
# after the first SPACE bytes (default 0), and nothing else.  Allocations
# that may use highmem are spared: the task's own page faults ask for them,
# and a fault that cannot get a page is retried for ever.
fpa_fail_tasks() {
	fpa_set task-filter=Y ignore-gfp-wait=N ignore-gfp-highmem=Y \
		min-order=0 verbose=0 times=-1 interval=1 space="${2:-0}" \
		probability="$1"
}

# fpa_set KNOB=VALUE...: write fail_page_alloc's debugfs knobs, in order.
fpa_set() {
	for kv in "$@"; do
		echo "${kv#*=}" > "/sys/kernel/debug/fail_page_alloc/${kv%%=*}"
	done
}

# Value of NAME in a "name value" file.
field() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

labstat() {
	field /sys/kernel/debug/labyrinth/stats "$1"
}

# rstat RESERVE KEY: a counter of a named reserve.
rstat() {
	field "/sys/kernel/debug/labyrinth/$1/stats" "$2"
}

param() {
	cat "/sys/module/labyrinth/parameters/$1"
}

vmstat() {
	field /proc/vmstat "$1"
}

# The last kernel log line matching a pattern, or nothing.
klog_has() {
	dmesg | grep -q -- "$1"
}

# Give back what the kernel keeps in caches that any test's churn fills,
# so that two free_pages readings compare pages, not cache sizes: the page
# cache and reclaimable slab, KASAN's quarantine of freed objects (emptied by
# shrinking every slab cache; it may hold 1/32 of memory, 8192 pages here)
# and the per-CPU vmstat deltas not yet folded into the global counters.
settle_memory() {
	echo 3 > /proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 > "$f"
	done 2> /dev/null
	cat /proc/sys/vm/stat_refresh > /dev/null 2>&1 || true
}

# Free pages as the page allocator sees them once memory is settled: the
# buddy lists (nr_free_pages) plus the per-CPU free lists, which hold
# thousands of pages on a 1 GiB guest and are not counted in nr_free_pages.
free_pages() {
	settle_memory
	awk '$1 == "count:" { n += $2 } END { print n }' /proc/zoneinfo |
		{ read -r pcp; echo $(($(vmstat nr_free_pages) + pcp)); }
}

# The free pages a test starts from: the lower of two readings a second
# apart, so that pages the kernel is about to take back for its own caches
# (seen once: 870 pages more free for a moment after a module unload) do
# not count as pages the test lost.
free_pages_baseline() {
	a=$(free_pages)
	sleep 1
	b=$(free_pages)
	echo $((a < b ? a : b))
}

# Free pages a test may find missing after it unloaded everything it
# loaded: see check.sh's test_free_pages_restored for what they are.
FREE_PAGES_SLACK=512

# pages_back NAME BEFORE AFTER [DETAIL]: the free pages came back, within
# FREE_PAGES_SLACK, from BEFORE to AFTER.
pages_back() {
	echo "  free pages: $2 before, $3 after${4:+ ($4)}"
	if [ $(($2 - $3)) -le $FREE_PAGES_SLACK ]; then
		pass "$1"
	else
		fail "$1" "before $2, after $3${4:+, $4}"
	fi
}

# unload_balanced NAME: rmmod labyrinth, which must report every page it
# took from the page allocator released, and none kept by users.
unload_balanced() {
	dmesg -c > /dev/null
	check "rmmod_labyrinth_$1" rmmod labyrinth
	unload_reported_balanced "$1"
}

# unload_reported_balanced NAME: labyrinth's unload line in the kernel log
# says it gave back every page it allocated but those handed on.
unload_reported_balanced() {
	log_balanced 'labyrinth: unloaded: ' 'not returned to it' \
		"every_page_released_at_unload_$1"
}

# destroy_reported_balanced RESERVE NAME: the same of the line labyrinth
# printed when the named RESERVE was destroyed (in the kernel log since it
# was last emptied), and no page was still out.
destroy_reported_balanced() {
	log_balanced "labyrinth: reserve $1 destroyed: " \
		"labyrinth: reserve $1 destroyed with" \
		"every_page_released_at_destroy_$2"
}

# log_balanced LINE LEAK TEST: the kernel log's line containing LINE,
# "A pages allocated, R released, H handed on", has A = R + H, and no line
# contains LEAK.
log_balanced() {
	local line a r h

	line=$(dmesg | grep -F "$1")
	a=$(echo "$line" | sed -n 's/.* \([0-9]*\) pages allocated, .*/\1/p')
	r=$(echo "$line" | sed -n 's/.*allocated, \([0-9]*\) released.*/\1/p')
	h=$(echo "$line" | sed -n 's/.*released, \([0-9]*\) handed on.*/\1/p')
	if [ -n "$a" ] && [ -n "$r" ] && [ "$a" = $((r + ${h:-0})) ] &&
	   ! dmesg | grep -qF "$2"; then
		pass "$3"
	else
		fail "$3" "'$line'"
		return 1
	fi
}

# kmemleak, where the kernel has it: forget what boot left behind, so that
# any unreferenced object reported later was made by the tests.  Scans run
# while modules are loaded (lab_kmemleak_scan) and after everything is
# unloaded (lab_final_checks); a leak seen in either stays listed.
KMEMLEAK=/sys/kernel/debug/kmemleak
lab_kmemleak_start() {
	[ -w $KMEMLEAK ] || return 0
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
}

lab_kmemleak_scan() {
	[ -w $KMEMLEAK ] || return 0
	echo scan > $KMEMLEAK
}

lab_kmemleak_check() {
	if [ ! -w $KMEMLEAK ]; then
		skip no_kmemleak_reports "no kmemleak in $(uname -r)"
		return 0
	fi
	# An object is reported once it is 5 s old and unreferenced by then.
	sleep 6
	echo scan > $KMEMLEAK
	echo scan > $KMEMLEAK
	if grep -q unreferenced $KMEMLEAK; then
		cat $KMEMLEAK
		fail no_kmemleak_reports "$(grep -c unreferenced $KMEMLEAK) unreferenced objects"
	else
		pass no_kmemleak_reports
	fi
}

# Every test ends with these: the kernel must still be clean.
lab_final_checks() {
	taint=$(cat /proc/sys/kernel/tainted)
	# allowed: O (out-of-tree, 4096), E (unsigned, 8192), N (KUnit, 1<<18),
	# and what the boot's script expects (LAB_TAINT_OK)
	bad=$((taint & ~(4096 | 8192 | 262144 | ${LAB_TAINT_OK:-0})))
	if [ "$bad" -eq 0 ]; then
		pass "kernel_not_tainted_beyond_OEN"
	else
		fail "kernel_not_tainted_beyond_OEN" "tainted=$taint"
	fi
	lab_kmemleak_check
	if [ ! -f /proc/lockdep_stats ]; then
		skip lockdep_still_enabled "no lockdep in $(uname -r)"
	elif [ -n "${LAB_LOCKDEP_OFF_OK:-}" ]; then
		skip lockdep_still_enabled "this boot turns lockdep off"
	else
		dl=$(awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats)
		if [ "$dl" = 1 ]; then
			pass "lockdep_still_enabled"
		else
			fail "lockdep_still_enabled" "debug_locks=$dl"
		fi
	fi
}

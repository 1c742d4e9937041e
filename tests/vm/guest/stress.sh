# SPDX-License-Identifier: GPL-2.0
#
# Stress and guarantee tests.  stress.plan (make stress, and make check's
# eight-CPU boot) runs both below with the length the host passes as
# labstress_ms; check.plan runs a short stress.
#
#   stress_run MS	labyrinth_stress takes and returns pages in hard-IRQ,
#			softirq, process and NMI context on every CPU for MS
#			milliseconds, every labstress_us (default 500) us,
#			from the default reserve and three named ones it
#			creates, while CPU 1 goes off- and online, every
#			reserve is resized and the page allocator fails;
#			then the checks, every reserve's balance among
#			them, and a Markdown table (LAB-TABLE lines)
#   guarantee_run	with the page allocator failing every request, every
#			CPU takes its whole reserve in hard-IRQ context, then
#			the refill worker alone restores every pool
#
# While page allocations fail, only shell builtins run and the shell writes
# to files it opened before: a fork or a new open may need memory.  fd 3 is
# a FIFO nobody writes, for "read -t" to wait on; fd 4 is fail_page_alloc's
# probability.

STRESS_RES=/sys/kernel/debug/labyrinth_stress/results
STRESS_SAVED=/tmp/stress.results
STRESS_RESIZE=/sys/kernel/debug/labyrinth_stress/resize
# The named reserves labyrinth_stress creates (one with
# LABYRINTH_NO_FALLBACK: stress_no_fallback_named), their stats saved
# after the run in /tmp/stress.NAME.stats.
STRESS_NAMED="stress0 stress1 stress2"
STRESS_NO_FALLBACK=stress2
STRESS_CPUS=/sys/kernel/debug/labyrinth/cpus
STRESS_CPU1=/sys/devices/system/cpu/cpu1/online
# Allocations one failure phase may fail at most: when they are spent the
# allocator works again, whoever was waiting for memory.
STRESS_BUDGET=200000

stress_table() {
	echo "LAB-TABLE $*" > "$LAB_RESULTS"
}

# The irqsoff tracer, where the kernel has it (the test kernels): the
# longest section with interrupts off, anywhere in the kernel, between
# irqsoff_start and irqsoff_read.  irqsoff_read prints "US us, from START
# to END" (the functions that disabled and enabled interrupts) and stops
# the tracer, or fails if the tracer is not on.  Not while NMIs come: the
# tracer itself is not NMI-safe (lockdep reports its max_trace_lock taken
# in NMI).  Its first use grows the trace buffers for good, so it comes
# after every free-page comparison.
STRESS_TRACING=/sys/kernel/tracing
irqsoff_here() {
	grep -qw irqsoff $STRESS_TRACING/available_tracers 2> /dev/null
}

irqsoff_start() {
	echo irqsoff > $STRESS_TRACING/current_tracer
	echo 0 > $STRESS_TRACING/tracing_max_latency
	echo 1 > $STRESS_TRACING/tracing_on
}

irqsoff_read() {
	local us from to task stack

	[ "$(cat $STRESS_TRACING/current_tracer 2> /dev/null)" = irqsoff ] ||
		return 1
	us=$(cat $STRESS_TRACING/tracing_max_latency)
	from=$(sed -n 's/^#  => started at: *//p' $STRESS_TRACING/trace | head -n 1)
	to=$(sed -n 's/^#  => ended at: *//p' $STRESS_TRACING/trace | head -n 1)
	task=$(sed -n 's/^# *| task: \([^ ]*\).*/\1/p' $STRESS_TRACING/trace | head -n 1)
	stack=$(sed -n 's/^ => //p' $STRESS_TRACING/trace | head -n 5 |
		awk '{ printf "%s%s", (NR > 1 ? " < " : ""), $1 }')
	echo nop > $STRESS_TRACING/current_tracer
	echo "$us us, from $from to $to${task:+, task $task}${stack:+, where interrupts came back on: $stack}"
}

# irqsoff_row NAME WHAT RES: a table row "WHAT | RES" for the longest
# section irqsoff_read measured, and a test NAME that it did.
irqsoff_row() {
	stress_table "| longest section in the kernel while $2 (irqsoff tracer) | $3 |"
	case $3 in
	"0 us"*) fail "$1" "'$3'" ;;
	[0-9]*" us, from "?*" to "?*) pass "$1" ;;
	*) fail "$1" "'$3'" ;;
	esac
}

# irqsoff_trim: labyrinth with 4096 pages on every CPU; the longest
# interrupts-off section while the pools are trimmed to one page (in
# batches, by the workers), as a table row.
irqsoff_trim() {
	local res

	stress_table ""
	stress_table "| interrupts off | |"
	stress_table "|---|---|"
	if ! irqsoff_here; then
		stress_table "| longest section in the kernel | n/a (no irqsoff tracer) |"
		skip irqsoff_measured_trim "no irqsoff tracer in $(uname -r)"
		return 0
	fi
	if ! insmod "$LAB_KO/labyrinth.ko" pages_per_cpu=4096 low_watermark=1; then
		fail irqsoff_trim_labyrinth_loads "insmod failed"
		return
	fi
	irqsoff_start
	if set_param pages_per_cpu 1; then
		res=$(irqsoff_read)
	else
		irqsoff_read > /dev/null
		res="pages_per_cpu=1 refused"
	fi
	irqsoff_row irqsoff_measured_trim \
		"$(nproc) pools are trimmed from 4096 pages to 1" "$res"
	unload_balanced irqsoff_trim
}

# irqsoff_debug: labyrinth with 4096 pages on every CPU and debug on, its
# table of pages handed out sized for all of them; the longest
# interrupts-off section while debug is switched off and on again three
# times (the table is cleared each time) and "outstanding" read after each
# (the table is swept), as a table row.
irqsoff_debug() {
	local res i

	if ! irqsoff_here; then
		skip irqsoff_measured_debug "no irqsoff tracer in $(uname -r)"
		return 0
	fi
	if ! insmod "$LAB_KO/labyrinth.ko" pages_per_cpu=4096 debug=1; then
		fail irqsoff_debug_labyrinth_loads "insmod failed"
		return
	fi
	irqsoff_start
	for i in 1 2 3; do
		set_param debug 0 && set_param debug 1 &&
			cat /sys/kernel/debug/labyrinth/outstanding > /dev/null ||
			res="debug switch or outstanding read failed"
	done
	if [ -n "${res:-}" ]; then
		irqsoff_read > /dev/null
	else
		res=$(irqsoff_read)
	fi
	irqsoff_row irqsoff_measured_debug \
		"debug, on $(nproc) pools of 4096 pages, is switched on and its table read" "$res"
	unload_balanced irqsoff_debug
}

# Value of $1 in the results saved by stress_save.
stress_res() {
	field "$STRESS_SAVED" "$1"
}

stress_save() {
	cat "$STRESS_RES" > "$STRESS_SAVED"
}

# Every online CPU's pool holds its capacity.
stress_pools_full() {
	awk '$2 != $3 { bad = 1 } END { exit bad || !NR }' "$STRESS_CPUS"
}

# Load labyrinth unless it is: stress_loaded_here says whether we did.
stress_load_labyrinth() {
	stress_loaded_here=0
	module_loaded labyrinth && return 0
	insmod "$LAB_KO/labyrinth.ko" pages_per_cpu=256 low_watermark=64 ||
		return 1
	stress_loaded_here=1
}

stress_hotplug_cycle() {
	[ -w "$STRESS_CPU1" ] || return 0
	if echo 0 > "$STRESS_CPU1" && echo 1 > "$STRESS_CPU1"; then
		stress_cycles=$((stress_cycles + 1))
	else
		stress_hotplug_errors=$((stress_hotplug_errors + 1))
		echo 1 > "$STRESS_CPU1"
	fi
}

# Alternate between 512 pages above 16 and 128 pages above 64; each order
# of the writes keeps low_watermark <= pages_per_cpu.  The named reserves
# grow to twice and shrink to half their size at load meanwhile
# (labyrinth_reserve_resize()).
stress_resize() {
	local pages=512 low=16 named=grow

	if [ $((stress_resizes % 2)) = 1 ]; then
		pages=128
		low=64
		named=shrink
	fi
	set_param pages_per_cpu $pages && set_param low_watermark $low ||
		stress_resize_errors=$((stress_resize_errors + 1))
	echo $named > "$STRESS_RESIZE" 2> /dev/null ||
		stress_named_resize_errors=$((stress_named_resize_errors + 1))
	stress_resizes=$((stress_resizes + 1))
}

# stress_fault_phase PERCENT: fail that share of page allocations for a
# second, STRESS_BUDGET at most; count the phase and the failures.
stress_fault_phase() {
	local left

	echo $STRESS_BUDGET > "$LAB_FPA"/times
	echo "$1" >&4
	pause_for 1
	echo 0 >&4
	read -r left < "$LAB_FPA"/times
	stress_injected=$((stress_injected + STRESS_BUDGET - left))
	stress_phases=$((stress_phases + 1))
}

# One round of disturbance while labyrinth_stress runs.  The allocator
# fails first: a round starts while the run still goes, and a hotplug
# cycle on a slow machine may outlast a short run.
stress_disturb() {
	if [ -d "$LAB_FPA" ]; then
		stress_fault_phase 10
		stress_fault_phase 100
	else
		pause_for 1
	fi
	stress_hotplug_cycle
	stress_resize
}

stress_check_results() {
	local ctx sum=0

	for ctx in hardirq softirq process nmi; do
		[ "$(stress_res ${ctx}_gets)" -gt 0 ] || sum=$((sum + 1))
	done
	check stress_every_context_took_pages [ $sum = 0 ]
	check stress_ran_in_intended_context [ "$(stress_res wrong_context)" = 0 ]
	if [ "$(nproc)" -gt 1 ]; then
		check stress_pages_returned_on_other_cpus \
			[ "$(stress_res crossed_cpus)" -gt 0 ]
	fi
	check stress_no_double_serve [ "$(stress_res double_serves)" = 0 ]
	check stress_no_corruption [ "$(stress_res corrupted)" = 0 ]
	check stress_no_dirty_serve [ "$(stress_res dirty_served)" = 0 ]
	sum=$(awk '$1 ~ /^held_cpu/ { n += $2 } END { print n + 0 }' "$STRESS_SAVED")
	check_both stress_no_page_lost \
		"pages_lost $(stress_res pages_lost), held by CPUs $sum" \
		"$(stress_res pages_lost) = 0" "$sum = 0"
}

# stress_in_use FILE: pages_allocated - pages_released - handed_on -
# pages_held of a reserve's stats file: the pages its users hold, or
# "missing" if a counter is not there.
stress_in_use() {
	awk '{ v[$1] = $2 }
	     END {
		if (!("pages_allocated" in v) || !("pages_released" in v) ||
		    !("handed_on" in v) || !("pages_held" in v))
			print "missing"
		else
			print v["pages_allocated"] - v["pages_released"] -
			      v["handed_on"] - v["pages_held"]
	     }' "$1"
}

# stress_named_settled NAME: reserve NAME's counters balance (its refill
# workers may still be adding a page they allocated to a pool).
stress_named_settled() {
	[ "$(stress_in_use "/sys/kernel/debug/labyrinth/$1/stats")" = 0 ]
}

# Once every page is back: every named reserve's counters balance, and
# its stats are saved for the table.
stress_save_named() {
	local n

	for n in $STRESS_NAMED; do
		wait_for 10 stress_named_settled "$n"
		cat "/sys/kernel/debug/labyrinth/$n/stats" > "/tmp/stress.$n.stats" ||
			: > "/tmp/stress.$n.stats"
	done
}

# named_stat NAME KEY: KEY in reserve NAME's stats saved after the run.
named_stat() {
	field "/tmp/stress.$1.stats" "$2"
}

# Every reserve served pages and lost none; every named one balances
# (pages taken from the allocator = released + handed on + pooled), took
# back no page it was not given (put_rejected), and the one without
# fallback never called the page allocator in a get.
stress_check_named() {
	local n unserved=0 lost=0 f

	for n in default $STRESS_NAMED; do
		[ "$(stress_res "reserve_${n}_gets")" -gt 0 ] ||
			unserved=$((unserved + 1))
		[ "$(stress_res "reserve_${n}_lost")" = 0 ] || lost=$((lost + 1))
	done
	check stress_every_reserve_served_pages [ $unserved = 0 ]
	check stress_every_reserve_got_its_pages_back [ $lost = 0 ]
	for n in $STRESS_NAMED; do
		f=/tmp/stress.$n.stats
		check_both "stress_named_${n}_balanced" \
			"pages_allocated - pages_released - handed_on - pages_held = $(stress_in_use "$f"), pages_in_use $(named_stat "$n" pages_in_use)" \
			"$(stress_in_use "$f") = 0" "$(named_stat "$n" pages_in_use) = 0"
		check "stress_named_${n}_no_put_rejected" \
			[ "$(named_stat "$n" put_rejected)" = 0 ]
	done
	check_both stress_no_fallback_named \
		"$STRESS_NO_FALLBACK: fallback $(named_stat $STRESS_NO_FALLBACK fallback), no_fallback $(stress_res reserve_${STRESS_NO_FALLBACK}_no_fallback)" \
		"$(named_stat $STRESS_NO_FALLBACK fallback) = 0" \
		"$(stress_res reserve_${STRESS_NO_FALLBACK}_no_fallback) = 1"
}

# After labyrinth_stress's unload (the kernel log emptied before it):
# each named reserve was destroyed with every page back, its destroy line
# balanced, and its directory is gone.
stress_check_destroyed() {
	local n left=0

	for n in $STRESS_NAMED; do
		[ ! -e "/sys/kernel/debug/labyrinth/$n" ] || left=$((left + 1))
		destroy_reported_balanced "$n" "$n"
	done
	check stress_named_reserves_gone_after_unload [ $left = 0 ]
}

stress_check_disturbance() {
	if [ -w "$STRESS_CPU1" ]; then
		check_both stress_cpu1_hotplug_cycles \
			"$stress_cycles cycles, $stress_hotplug_errors failed" \
			"$stress_cycles -gt 0" "$stress_hotplug_errors = 0"
	fi
	check_both stress_resizes_accepted \
		"$stress_resizes resizes, $stress_resize_errors refused" \
		"$stress_resizes -gt 0" "$stress_resize_errors = 0"
	check_both stress_named_resizes_accepted \
		"$stress_resizes resizes, $stress_named_resize_errors refused" \
		"$stress_resizes -gt 0" "$stress_named_resize_errors = 0"
	if [ -d "$LAB_FPA" ]; then
		check stress_page_allocations_failed [ "$stress_injected" -gt 0 ]
	else
		skip stress_fault_injection "no fail_page_alloc on $(uname -r)"
	fi
}

# "cpu: value" for column $1 of labyrinth's cpus file.
stress_per_cpu() {
	awk -v c="$1" '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $1, $c }' \
		"$STRESS_CPUS"
}

stress_per_cpu_held() {
	awk '$1 ~ /^peak_held_cpu/ { sub("peak_held_cpu", "", $1);
		printf "%s%s: %s", (n++ ? ", " : ""), $1, $2 }' "$STRESS_SAVED"
}

# stress_reserve_row NAME PAGES LOCAL NMI STOLEN FALLBACK FAILED IN_USE
stress_reserve_row() {
	local flags=""

	[ "$(stress_res "reserve_${1}_no_fallback")" = 1 ] &&
		flags=", no fallback"
	stress_table "| $1 | $2$flags | $(stress_res "reserve_${1}_gets") |" \
		"$(stress_res "reserve_${1}_failures") | $3 / $4 / $5 / $6 / $7 | $8 |"
}

# The table of the reserves: the default one (labstat, after the run),
# the named ones (their stats saved after the run).
stress_print_reserves() {
	local n

	stress_table ""
	stress_table "| reserve | pages per CPU at load | gets | failures (NULL) | served local / in NMI / stolen / fallback / failed | pages in use after the run |"
	stress_table "|---|---|---:|---:|---|---:|"
	stress_reserve_row default "$stress_default_pages" \
		"$(labstat served_local)" "$(labstat served_nmi)" \
		"$(labstat stolen)" "$(labstat fallback)" "$(labstat failed)" \
		"$(labstat pages_in_use)"
	for n in $STRESS_NAMED; do
		stress_reserve_row "$n" "$(stress_res "reserve_${n}_pages_per_cpu")" \
			"$(named_stat "$n" served_local)" \
			"$(named_stat "$n" served_nmi)" "$(named_stat "$n" stolen)" \
			"$(named_stat "$n" fallback)" "$(named_stat "$n" failed)" \
			"$(named_stat "$n" pages_in_use)"
	done
}

stress_ctx_row() {
	stress_table "| $1 | $(stress_res "${2}_ops") | $(stress_res "${2}_gets") |" \
		"$(stress_res "${2}_failures") | $(stress_res "${2}_crossed_cpus") |"
}

# Markdown table of the run; labyrinth still loaded.
stress_print_table() {
	local fpa="n/a (no fail_page_alloc)"

	[ -d "$LAB_FPA" ] &&
		fpa="$stress_phases ($((stress_phases / 2)) at 10 %, $((stress_phases / 2)) at 100 %), $stress_injected allocations failed"
	stress_table "### labyrinth stress: $(uname -r), $(stress_res cpus) CPUs, $1 ms"
	stress_table ""
	stress_table "| context | operations | gets | failures (NULL) | pages from another CPU returned |"
	stress_table "|---|---:|---:|---:|---:|"
	stress_ctx_row hard-IRQ hardirq
	stress_ctx_row softirq softirq
	stress_ctx_row process process
	stress_ctx_row NMI nmi
	stress_ctx_row "end of run (drain)" drain
	stress_table ""
	stress_table "| | |"
	stress_table "|---|---|"
	stress_table "| min level per CPU (cpu 1: since its last online) | $(stress_per_cpu 4) |"
	stress_table "| peak pages held by the stress per CPU | $(stress_per_cpu_held) |"
	stress_table "| labyrinth served local / stolen / fallback / failed | $(labstat served_local) / $(labstat stolen) / $(labstat fallback) / $(labstat failed) |"
	stress_table "| labyrinth served in NMI / puts in NMI left to the worker | $(labstat served_nmi) / $(labstat put_deferred) |"
	stress_table "| refill runs / refill failures | $(labstat refill_runs) / $(labstat refill_failures) |"
	stress_table "| CPU 1 hotplug cycles | $stress_cycles |"
	stress_table "| resizes (pages_per_cpu 512/128, low_watermark 16/64; named reserves twice/half their size at load) | $stress_resizes |"
	stress_table "| injected-failure phases | $fpa |"
	stress_table "| double serves / corrupted / dirty served | $(stress_res double_serves) / $(stress_res corrupted) / $(stress_res dirty_served) |"
	stress_table "| pages lost | $(stress_res pages_lost) |"
	stress_print_reserves
}

# stress_run MS
stress_run() {
	local f0

	stress_cycles=0 stress_hotplug_errors=0 stress_resizes=0
	stress_resize_errors=0 stress_named_resize_errors=0
	stress_phases=0 stress_injected=0
	pause_open
	f0=$(free_pages_baseline)
	stress_load_labyrinth || { fail stress_labyrinth_loads "insmod failed"; return; }
	stress_default_pages=$(param pages_per_cpu)
	[ -d "$LAB_FPA" ] && fpa_fail_all
	if ! insmod "$LAB_KO/labyrinth_stress.ko" duration_ms="$1" wait=0 \
		interval_us="${labstress_us:-500}"; then
		fail stress_module_loads "insmod labyrinth_stress failed"
		return
	fi
	while [ "$(field "$STRESS_RES" running)" = 1 ]; do
		stress_disturb
	done
	lab_kmemleak_scan
	stress_save
	stress_save_named
	stress_check_results
	stress_check_named
	stress_check_disturbance
	dmesg -c > /dev/null
	check stress_rmmod_stress_module rmmod labyrinth_stress
	stress_check_destroyed
	reserve_settle
	check stress_accounting_balanced [ "$(labstat pages_in_use)" = 0 ]
	check stress_no_put_rejected [ "$(labstat put_rejected)" = 0 ]
	stress_print_table "$1"
	[ "$stress_loaded_here" = 1 ] || return 0
	unload_balanced stress
	pages_back stress_free_pages_restored "$f0" "$(free_pages)"
}

# guarantee_part PART: write PART to labyrinth_stress's trigger while every
# page allocation fails, for GUARANTEE_BUDGET failures at most, and keep
# them failing for 0.3 s more: the refill workers the take kicked fail
# meanwhile.  Sets guarantee_injected (allocations failed) and
# guarantee_left (budget left).
GUARANTEE_BUDGET=1000000
guarantee_part() {
	local rc=0

	echo $GUARANTEE_BUDGET > "$LAB_FPA"/times
	exec 5> /sys/kernel/debug/labyrinth_stress/guarantee
	echo 100 >&4
	echo "$1" >&5 || rc=1
	pause_for 0.3
	echo 0 >&4
	exec 5>&-
	read -r guarantee_left < "$LAB_FPA"/times
	guarantee_injected=$((GUARANTEE_BUDGET - guarantee_left))
	stress_save
	return $rc
}

# guarantee_checks NAME CMP: the last part took CMP (-eq or -ge) its
# expected pages, in hard-IRQ context, none twice, while the allocator
# failed every request: it failed at least one per CPU (labyrinth's
# fallback) and the budget was never spent.
guarantee_checks() {
	local taken expected cpus

	taken=$(stress_res guarantee_taken)
	expected=$(stress_res guarantee_expected)
	cpus=$(stress_res guarantee_cpus)
	check_both "guarantee_${1}_takes_whole_reserve" \
		"took $taken, reserve $expected" \
		"$taken $2 $expected" "$expected -gt 0"
	check "guarantee_${1}_no_page_twice" [ "$(stress_res guarantee_duplicates)" = 0 ]
	check_both "guarantee_${1}_in_hardirq_at_once" \
		"$(stress_res guarantee_not_hardirq) CPUs outside hard-IRQ, together $(stress_res guarantee_together)" \
		"$(stress_res guarantee_not_hardirq) = 0" \
		"$(stress_res guarantee_together) = 1"
	check_both "guarantee_${1}_allocator_failed_throughout" \
		"$guarantee_injected failed, budget left $guarantee_left" \
		"$guarantee_injected -ge $cpus" "$guarantee_left -gt 0"
}

# guarantee_from_full NAME PART CMP
guarantee_from_full() {
	if ! stress_pools_full; then
		fail "guarantee_${1}_pools_full_before" "$(cat "$STRESS_CPUS")"
		return
	fi
	if guarantee_part "$2"; then
		guarantee_checks "$1" "$3"
	else
		fail "guarantee_${1}_runs" "write of '$2' failed"
	fi
}

# stress_print_guarantee_nmi TAKEN SHARE: the NMI guarantee's line.
stress_print_guarantee_nmi() {
	stress_table ""
	stress_table "NMI guarantee: with every page allocation failing, the NMI handlers of $(nproc) CPUs took $1 pages at once, from their CPUs' pools (their NMI shares alone: $2); an NMI takes no lock, so the rest of the pools, in their stashes, is out of its reach."
}

# guarantee_nmi: every CPU's NMI handler takes pages, all at once, while
# the page allocator fails every request.  The NMI interrupts none of
# labyrinth's sections (a timer's handler sends it), so it owns its CPU's
# pool: it takes the pages its owner would take without a lock, the NMI
# share among them, and never asks the allocator.  Pools full before.
guarantee_nmi() {
	local share taken expected

	if ! stress_pools_full; then
		fail guarantee_nmi_pools_full_before "$(cat "$STRESS_CPUS")"
		return
	fi
	share=$(labstat nmi_share)
	if ! guarantee_part nmi; then
		fail guarantee_nmi_runs "write of 'nmi' failed"
		return
	fi
	taken=$(stress_res guarantee_taken)
	expected=$(stress_res guarantee_expected)
	check_both guarantee_nmi_takes_more_than_share \
		"took $taken in NMI, share $share, reserve $expected" \
		"$taken -gt $share" "$taken -le $expected"
	check guarantee_nmi_no_page_twice [ "$(stress_res guarantee_duplicates)" = 0 ]
	check guarantee_nmi_in_nmi_at_once [ "$(stress_res guarantee_not_hardirq)" = 0 ]
	stress_print_guarantee_nmi "$taken" "$share"
}

# After the take the pools are short and their workers failed: with no
# parameter write (that would refill synchronously) the workers' retries,
# every 100 ms, must restore every pool within 10 s.
guarantee_refill_check() {
	local i=0

	until stress_pools_full || [ $i -ge 100 ]; do
		pause_for 0.1
		i=$((i + 1))
	done
	if [ "$(labstat refill_failures)" -gt "$1" ] && stress_pools_full; then
		pass guarantee_refill_worker_restores_every_pool
	else
		fail guarantee_refill_worker_restores_every_pool \
			"refill_failures $1 -> $(labstat refill_failures), $(cat "$STRESS_CPUS")"
	fi
}

guarantee_run() {
	local rf

	if [ ! -d "$LAB_FPA" ]; then
		skip guarantee_run "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	pause_open
	fpa_fail_all
	stress_load_labyrinth || { fail guarantee_labyrinth_loads "insmod failed"; return; }
	reserve_settle
	if ! insmod "$LAB_KO/labyrinth_stress.ko" mode=guarantee \
		reserve="$(param pages_per_cpu)"; then
		fail guarantee_module_loads "insmod labyrinth_stress failed"
		return
	fi
	guarantee_from_full all_cpus all -eq
	reserve_settle
	rf=$(labstat refill_failures)
	guarantee_from_full cpu0_alone alone -ge
	guarantee_refill_check "$rf"
	guarantee_nmi
	reserve_settle
	check guarantee_rmmod_stress_module rmmod labyrinth_stress
	reserve_settle
	check guarantee_accounting_balanced [ "$(labstat pages_in_use)" = 0 ]
	[ "$stress_loaded_here" = 1 ] && unload_balanced guarantee
}

# make stress (labstress_ms, default 300000), and make check's short one.
test_stress() {
	stress_run "${labstress_ms:-300000}"
}

test_stress_short() {
	stress_run 20000
}

test_guarantee() {
	guarantee_run
}

test_irqsoff_trim() {
	irqsoff_trim
}

test_irqsoff_debug() {
	irqsoff_debug
}

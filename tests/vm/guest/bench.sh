# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the benchmark (bench.plan).  Every line of the report goes
# to the results port prefixed with LAB-BENCH; the host prints them as
# tables.

bench_ko=$LAB_KO/labyrinth_bench.ko
floor_ko=$LAB_KO/labyrinth_floor.ko
ncpu=$(nproc)
fill_pages=16384	# 64 MiB of 4 KiB pages, as labyrinth_bench fill_pages

out() {
	echo "LAB-BENCH $*" > "$LAB_RESULTS"
	echo "  $*"
}

# Monotonic time in ns: busybox date has no %N.
now_ns() {
	awk '/^now at/ { print $3; exit }' /proc/timer_list
}

# tenths N: N (in tenths) as a decimal number.
tenths() {
	echo "$(($1 / 10)).$(($1 % 10))"
}

# fill_us PAGES_PER_CPU: how long a load of labyrinth took to fill its
# pools, in us, as its load line says (the time of cpuhp_setup_state()).
fill_us() {
	dmesg -c > /dev/null
	insmod "$LAB_MODULE" pages_per_cpu="$1" low_watermark=1 || return 1
	rmmod labyrinth
	dmesg | sed -n 's/.*labyrinth: .* reserved (.*) in \([0-9]*\) us,.*/\1/p'
}

# A 64 MiB reserve: the fastest of three fills.
time_reserve_fill() {
	per_cpu=$((fill_pages / ncpu))
	best=
	for _ in 1 2 3; do
		t=$(fill_us $per_cpu) && [ -n "$t" ] || return 1
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	n=$((per_cpu * ncpu))
	out "fill: labyrinth load with pages_per_cpu=$per_cpu, $n pages:" \
		"$(tenths $((best * 10000 / n))) ns/page" \
		"(fastest of 3 loads: $best us to fill)"
}

# The counters that say which path labyrinth served the benchmark from.
lab_counters() {
	for k in served_local stolen fallback cleared_inline cleared_on_put \
		 put_freed pages_cleared pages_refilled; do
		printf '%s %s\n' "$k" "$(labstat $k)"
	done
}

counter_deltas() {
	awk 'NR == FNR { before[$1] = $2; next }
	     { printf "%s%s %d", sep, $1, $2 - before[$1]; sep = ", " }
	     END { print "" }' "$1" "$2"
}

# per_page BYTES PAGES: BYTES / PAGES with two decimals, or "-".
per_page() {
	awk -v n="$1" -v p="$2" \
		'BEGIN { if (p > 0) printf "%.2f", n / p; else print "-" }'
}

# The memory labyrinth uses besides its pages, per page it holds.
report_memory() {
	n=$(labstat bookkeeping_bytes)
	p=$(labstat pages_held)
	out "memory: $n bytes of bookkeeping for $p pooled pages:" \
		"$(per_page "$n" "$p") bytes per pooled page"
}

# The same for labyrinth_bench's named reserve, while it exists: per page
# of its capacity (its pools may still be refilling after the run).
report_named_memory() {
	f=/sys/kernel/debug/labyrinth/bench/stats
	if [ ! -r $f ]; then
		out "memory: named reserve bench: not measured (no $f)"
		return
	fi
	n=$(field $f bookkeeping_bytes)
	c=$(field $f capacity)
	out "memory: named reserve bench, $named_pages pages per CPU:" \
		"$n bytes of bookkeeping for a capacity of $c pages:" \
		"$(per_page "$n" "$c") bytes per page of capacity"
}

# The guarantee table of labyrinth_bench: between its two writes every
# page allocation fails (see stress.sh for what the shell may do then).
# Sets guarantee_failed: the allocations that failed meanwhile, of
# BENCH_BUDGET at most.
BENCH_BUDGET=1000000
bench_guarantee() {
	local g=/sys/kernel/debug/labyrinth_bench/guarantee rc=0 left

	if [ ! -d "$LAB_FPA" ]; then
		skip bench_guarantee "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	pause_open
	fpa_fail_all
	echo prepare > $g || { fail bench_guarantee "prepare refused"; return; }
	exec 5> $g
	echo $BENCH_BUDGET > "$LAB_FPA"/times
	echo 100 >&4
	echo run >&5 || rc=1
	echo 0 >&4
	exec 5>&- 4>&-
	read -r left < "$LAB_FPA"/times
	reserve_settle
	guarantee_failed=$((BENCH_BUDGET - left))
	check_both bench_guarantee "run: exit $rc, budget left $left" \
		"$rc = 0" "$left -gt 0"
}

run_bench() {
	lab_counters > /tmp/before
	insmod "$floor_ko" || return 1
	# The named reserve as large as the default one.
	named_pages=$(param pages_per_cpu)
	t0=$(now_ns)
	if ! insmod "$bench_ko" named_pages="$named_pages"; then
		rmmod labyrinth_floor
		return 1
	fi
	t1=$(now_ns)
	lab_counters > /tmp/after
	bench_guarantee
	sed 's/^/LAB-BENCH /' /sys/kernel/debug/labyrinth_bench/report \
		> "$LAB_RESULTS"
	out ""
	[ -z "${guarantee_failed:-}" ] ||
		out "guarantee table: $guarantee_failed page allocations failed while it was taken"
	out "labyrinth counters over the run: $(counter_deltas /tmp/before /tmp/after)"
	report_named_memory
	out "run time: $(((t1 - t0) / 1000000)) ms"
	rmmod labyrinth_bench
	rmmod labyrinth_floor
}

test_bench() {
	init=$(grep -o 'init_on_alloc=[01]' /proc/cmdline || echo 'init_on_alloc default')
	out "kernel $(uname -r), $ncpu CPUs, $init"
	# The first load warms up: the module file is read, the allocator primed.
	if insmod "$LAB_MODULE" pages_per_cpu=512 && rmmod labyrinth &&
	   time_reserve_fill && insmod "$LAB_MODULE" pages_per_cpu=512; then
		report_memory
		if run_bench; then
			pass bench_ran
		else
			fail bench_ran "insmod labyrinth_bench failed"
		fi
		rmmod labyrinth
	else
		fail bench_ran "labyrinth did not load"
	fi
}

# SPDX-License-Identifier: GPL-2.0
#
# Guest tests of the edges users reach: unloading while the refill worker
# is queued or backing off, CPU hotplug racing allocation failures and
# parameter writes, the smallest reserves under traffic, and fallback=0
# with the page allocator really exhausted (check.plan).  Each test starts
# and ends with nothing of its own loaded.

EDGE_CPU1=/sys/devices/system/cpu/cpu1/online

# cpu_level CPU: CPU's pool level, from labyrinth's cpus file.
cpu_level() {
	awk -v c="$1" '$1 == c { print $2 }' /sys/kernel/debug/labyrinth/cpus
}

# A demo run takes pages in hard-IRQ context on every CPU, returns them on
# the next one and leaves the pools below low_watermark: the refill
# workers are queued or running when labyrinth is removed right after.
edge_unload_while_refill_queued() {
	need_module labyrinth_demo || return 0
	for round in 1 2 3; do
		insmod "$LAB_MODULE" pages_per_cpu=64 low_watermark=60 ||
			{ fail "unload_while_refill_queued_$round" "insmod failed"; return; }
		insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=200 batch=8 &&
			rmmod labyrinth_demo
		dmesg -c > /dev/null
		check "unload_while_refill_queued_$round" rmmod labyrinth
		unload_reported_balanced "refill_queued_$round"
	done
}

# Every CPU takes its whole reserve while every page allocation fails, so
# that each refill worker fails and backs off; labyrinth is unloaded
# during the backoff, with allocations still failing (lab-unload does it
# without forking).
edge_unload_while_refill_backs_off() {
	if [ ! -d "$LAB_FPA" ]; then
		skip unload_while_refill_backs_off "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	need_module labyrinth_stress || return 0
	fpa_fail_all
	echo -1 > "$LAB_FPA"/times
	if ! insmod "$LAB_MODULE" pages_per_cpu=64 low_watermark=32 ||
	   ! insmod "$LAB_KO/labyrinth_stress.ko" mode=guarantee reserve=64; then
		fail unload_while_refill_backs_off "insmod failed"
		return
	fi
	dmesg -c > /dev/null
	"$LAB_KO/lab-unload" /sys/kernel/debug/labyrinth_stress/guarantee all 300 \
		/sys/kernel/debug/labyrinth/stats labyrinth_stress labyrinth \
		> /tmp/unload.out
	rc=$?
	f=$(field /tmp/unload.out refill_failures)
	h=$(field /tmp/unload.out pages_held)
	c=$(field /tmp/unload.out capacity)
	check_both unload_while_refill_backs_off \
		"exit $rc, refill_failures ${f:-?}, held ${h:-?} of ${c:-?}: $(tail -n 2 /tmp/unload.out | tr '\n' ' ')" \
		"$rc = 0" "${f:-0} -gt 0 -a ${h:-0} -lt ${c:-0}"
	unload_reported_balanced refill_backing_off
	edge_unload
}

# Whatever a failed test left loaded goes before the next one.
edge_unload() {
	for m in labyrinth_demo labyrinth_stress labyrinth; do
		grep -q "^$m " /proc/modules && rmmod $m
	done
	return 0
}

# CPU 1 comes online while the task bringing it up has every page
# allocation fail: the online succeeds with its pool short, gets on it are
# still served, and a later sync fills it.
edge_cpu_online_while_allocations_fail() {
	if [ ! -d "$LAB_FPA" ]; then
		skip cpu_online_while_allocations_fail "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	[ -w $EDGE_CPU1 ] || { fail cpu_online_while_allocations_fail "no $EDGE_CPU1"; return; }
	insmod "$LAB_MODULE" pages_per_cpu=128 low_watermark=32 ||
		{ fail cpu_online_while_allocations_fail "insmod failed"; return; }
	echo 0 > $EDGE_CPU1
	fpa_fail_tasks 100
	"$LAB_KO/lab-failwrite" $EDGE_CPU1 1
	rc=$?
	echo 0 > "$LAB_FPA"/probability
	echo N > "$LAB_FPA"/task-filter
	[ "$(cat $EDGE_CPU1)" = 1 ] || echo 1 > $EDGE_CPU1
	level=$(cpu_level 1)
	check_both cpu_online_while_allocations_fail \
		"online exit $rc, cpu 1 level ${level:-none}" \
		"$rc = 0" "${level:-128} -lt 128"
	reserve_settle
	check cpu_onlined_short_filled_by_sync levels_are 128
	unload_balanced cpu_online_failing
}

# pages_per_cpu and low_watermark written while CPU 1 goes off- and online
# at the same time.
edge_parameters_during_hotplug() {
	[ -w $EDGE_CPU1 ] || { fail parameters_during_hotplug "no $EDGE_CPU1"; return; }
	insmod "$LAB_MODULE" ||
		{ fail parameters_during_hotplug "insmod failed"; return; }
	(
		for _ in 1 2 3 4 5 6 7 8; do
			echo 0 > $EDGE_CPU1 && echo 1 > $EDGE_CPU1 || exit 1
		done
	) &
	hp=$!
	bad=0
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		if [ $((i % 2)) = 1 ]; then
			set_param pages_per_cpu 256 && set_param low_watermark 200
		else
			set_param low_watermark 16 && set_param pages_per_cpu 64
		fi || bad=$((bad + 1))
	done
	wait $hp
	hprc=$?
	[ "$(cat $EDGE_CPU1)" = 1 ] || echo 1 > $EDGE_CPU1
	check_both parameters_written_during_hotplug \
		"$bad writes refused, hotplug loop exit $hprc" "$bad = 0" "$hprc = 0"
	reserve_settle
	check pools_follow_parameters_after_hotplug levels_are 64
	check accounting_balanced_after_hotplug_race [ "$(labstat pages_in_use)" = 0 ]
	unload_balanced parameters_during_hotplug
}

# The smallest reserves under hard-IRQ traffic: a pool of one page, and
# one of 31 (below the hot array's 32).  The fallback covers what the pool
# cannot, but on PREEMPT_RT, where hard-IRQ callers may not call the page
# allocator: there every failed get must be a fallback skipped.
edge_small_reserves_under_traffic() {
	need_module labyrinth_demo || return 0
	for pages in 1 31; do
		insmod "$LAB_MODULE" pages_per_cpu=$pages low_watermark=1 ||
			{ fail "reserve_of_${pages}_loads" "insmod failed"; continue; }
		check "reserve_of_${pages}_filled" levels_are $pages
		sk0=$(labstat fallback_skipped)
		if insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=1000 batch=8; then
			sum=/sys/kernel/debug/labyrinth_demo/summary
			taken=$(field $sum taken)
			failed=$(field $sum failed)
			explained=0
			failures_explained "$failed" "$sk0" && explained=1
			check_both "reserve_of_${pages}_serves_traffic" \
				"taken $taken, returned $(field $sum returned), failed $failed (fallbacks skipped $(($(labstat fallback_skipped) - sk0))), corrupted $(field $sum corrupted)" \
				"${taken:-0} -gt 0 -a $(field $sum returned) = ${taken:-0}" \
				"$explained = 1 -a $(field $sum corrupted) = 0"
			rmmod labyrinth_demo
		else
			fail "reserve_of_${pages}_serves_traffic" "demo did not run"
		fi
		reserve_settle
		check "reserve_of_${pages}_levels_after_traffic" levels_are $pages
		unload_balanced "reserve_of_$pages"
	done
}

# fallback=0 with the page allocator really exhausted (the demo's starve
# takes every page it gives): gets beyond the reserve fail, none is served
# by the allocator, and every failure is counted.
edge_no_fallback_under_exhaustion() {
	need_module labyrinth_demo || return 0
	insmod "$LAB_MODULE" pages_per_cpu=8 low_watermark=4 fallback=0 ||
		{ fail no_fallback_under_exhaustion "insmod failed"; return; }
	if ! insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=500 batch=32 starve=1; then
		fail no_fallback_under_exhaustion "demo did not run"
		rmmod labyrinth
		return
	fi
	sum=/sys/kernel/debug/labyrinth_demo/summary
	df=$(field $sum failed)
	lf=$(labstat failed)
	check_both no_fallback_under_exhaustion \
		"demo failed $df, labyrinth failed $lf, fallback $(labstat fallback), corrupted $(field $sum corrupted)" \
		"${df:-0} -gt 0 -a ${df:-0} = ${lf:-x}" \
		"$(labstat fallback) = 0 -a $(field $sum corrupted) = 0"
	rmmod labyrinth_demo
	reserve_settle
	check accounting_balanced_after_exhaustion [ "$(labstat pages_in_use)" = 0 ]
	unload_balanced no_fallback
}

# A page the demo takes is in flight for a fraction of each tick only:
# look as often as possible while the demo runs.  The file is read by the
# shell itself (no process per look), so a look takes microseconds, not
# the tens of milliseconds a fork costs under emulation.
outstanding_names_demo() {
	local n=0 line last=

	while [ "$(field /sys/kernel/debug/labyrinth_demo/summary running)" = 1 ]; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			n=$((n + 1))
			while IFS= read -r line; do
				last=$line
				case $line in
				tick_fn+0x*" [labyrinth_demo] "[0-9]*|take_batch+0x*" [labyrinth_demo] "[0-9]*)
					pass debug_outstanding_names_taker
					return ;;
				esac
			done < /sys/kernel/debug/labyrinth/outstanding
		done
	done
	fail debug_outstanding_names_taker "$n looks, the last line seen: $last"
}

# debug=1 under hard-IRQ traffic: while the demo runs, "outstanding" names
# the demo's function that takes pages; afterwards nothing is outstanding,
# no page was written after its put, and turning debug off is clean.
edge_debug_under_traffic() {
	need_module labyrinth_demo || return 0
	insmod "$LAB_MODULE" debug=1 ||
		{ fail debug_loads "insmod debug=1 failed"; return; }
	check debug_reads_back_on [ "$(param debug)" = Y ]
	sk0=$(labstat fallback_skipped)
	insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=1500 interval_us=1000 \
		batch=2 wait=0 ||
		{ fail debug_under_traffic "demo did not start"; rmmod labyrinth; return; }
	out=/sys/kernel/debug/labyrinth/outstanding
	outstanding_names_demo
	check debug_demo_run_ends wait_for 30 demo_run_over
	sum=/sys/kernel/debug/labyrinth_demo/summary
	check debug_demo_no_failures failures_explained "$(field $sum failed)" "$sk0"
	check debug_demo_no_corruption [ "$(field $sum corrupted)" = 0 ]
	rmmod labyrinth_demo
	check debug_nothing_outstanding_after_demo [ ! -s $out ]
	check debug_no_write_after_put [ "$(labstat written_after_put)" = 0 ]
	check debug_switched_off set_param debug 0
	rejects debug_rejects_bad_value debug maybe
	unload_balanced debug
}

test_unload_while_refill_queued() {
	edge_unload
	edge_unload_while_refill_queued
	edge_unload
}

test_unload_while_refill_backs_off() {
	edge_unload
	edge_unload_while_refill_backs_off
	edge_unload
}

test_cpu_online_while_allocations_fail() {
	edge_unload
	edge_cpu_online_while_allocations_fail
	edge_unload
}

test_parameters_during_hotplug() {
	edge_unload
	edge_parameters_during_hotplug
	edge_unload
}

test_small_reserves_under_traffic() {
	edge_unload
	edge_small_reserves_under_traffic
	edge_unload
}

test_no_fallback_under_exhaustion() {
	edge_unload
	edge_no_fallback_under_exhaustion
	edge_unload
}

test_debug_under_traffic() {
	edge_unload
	edge_debug_under_traffic
	edge_unload
}

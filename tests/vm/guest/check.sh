# SPDX-License-Identifier: GPL-2.0
#
# Guest tests: labyrinth as users load it, run by check.plan on every
# kernel; the KUnit suite runs where the kernel has KUnit.

ncpu=$(nproc)

# refuse NAME ARGS...: insmod with ARGS fails with EINVAL and one pr_err line.
refuse() {
	name=$1
	shift
	dmesg -c > /dev/null
	if insmod "$LAB_MODULE" "$@" 2> /tmp/err; then
		rmmod labyrinth
		fail "$name" "insmod $* succeeded"
		return
	fi
	# busybox insmod tries finit_module, then init_module: count distinct
	lines=$(dmesg | grep 'labyrinth: .*rejected' | sed 's/^\[[^]]*\] //' |
		sort -u | wc -l)
	if grep -q 'Invalid argument' /tmp/err && [ "$lines" = 1 ]; then
		pass "$name"
	else
		fail "$name" "$(cat /tmp/err); $lines pr_err lines"
	fi
}

test_bad_load_parameters() {
	refuse insmod_refuses_zero_pages_per_cpu pages_per_cpu=0
	refuse insmod_refuses_negative_pages_per_cpu pages_per_cpu=-1
	refuse insmod_refuses_pages_per_cpu_above_bound pages_per_cpu=100000
	refuse insmod_refuses_non_numeric_pages_per_cpu pages_per_cpu=lots
	refuse insmod_refuses_zero_low_watermark low_watermark=0
	refuse insmod_refuses_low_watermark_above_pages pages_per_cpu=8 low_watermark=9
	refuse insmod_refuses_bad_fallback fallback=maybe
	check no_module_left_after_refusals sh -c '! grep -q "^labyrinth " /proc/modules'
}

test_default_load() {
	check insmod_with_defaults insmod "$LAB_MODULE"
	check default_pages_per_cpu_is_128 [ "$(param pages_per_cpu)" = 128 ]
	check every_cpu_filled_at_load levels_are 128
	check cpus_has_a_line_per_online_cpu \
		[ "$(wc -l < /sys/kernel/debug/labyrinth/cpus)" = "$ncpu" ]
	check stats_capacity_is_pages_times_cpus \
		[ "$(labstat capacity)" = $((128 * ncpu)) ]
	check debugfs_files_root_only debugfs_root_only stats cpus outstanding
	check accounting_balanced_after_load \
		[ "$(labstat pages_in_use)" = 0 ]
	possible_beyond_online
	lab_kmemleak_scan
}

# CPUs possible but not present (QEMU -smp 2,maxcpus=4) hold no pages.
# Only where the boot has them (a skip elsewhere); the host boots one such
# configuration.
possible_beyond_online() {
	possible=$(awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/possible)
	if [ "$possible" -le "$ncpu" ]; then
		skip only_online_pools_filled "no possible CPU beyond the $ncpu online"
		return 0
	fi
	check only_online_pools_filled [ "$(labstat pages_held)" = $((128 * ncpu)) ]
}

# debugfs_root_only FILE...: labyrinth's debugfs directory has exactly
# these files, each readable by root alone.
debugfs_root_only() {
	dir=/sys/kernel/debug/labyrinth
	[ -d $dir ] || return 1
	[ "$(cd $dir && printf '%s\n' * | sort | tr '\n' ' ')" = \
	  "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ] || return 1
	for f in "$@"; do
		case $(ls -l "$dir/$f") in
		-r--------*) ;;
		*) return 1 ;;
		esac
	done
}

test_runtime_parameters() {
	check runtime_grow_pages_per_cpu set_param pages_per_cpu 256
	check grow_fills_every_pool levels_are 256
	rejects runtime_rejects_zero_pages_per_cpu pages_per_cpu 0
	rejects runtime_rejects_non_numeric pages_per_cpu abc
	rejects runtime_rejects_pages_above_bound pages_per_cpu 99999999
	rejects runtime_rejects_pages_below_low_watermark pages_per_cpu 16
	rejects runtime_rejects_low_watermark_above_pages low_watermark 300
	rejects runtime_rejects_bad_fallback fallback maybe
	check pools_unchanged_by_rejected_writes levels_are 256
	check runtime_lower_low_watermark set_param low_watermark 8
	check runtime_shrink_pages_per_cpu set_param pages_per_cpu 16
	check shrink_trims_every_pool levels_are 16
	check runtime_fallback_off set_param fallback 0
	check fallback_reads_back_off [ "$(param fallback)" = N ]
	set_param fallback 1
	set_param pages_per_cpu 128
	set_param low_watermark 32
	check accounting_balanced_after_resizes [ "$(labstat pages_in_use)" = 0 ]
}

test_cpu_hotplug() {
	cpu1=/sys/devices/system/cpu/cpu1/online
	if [ ! -w "$cpu1" ]; then
		fail cpu1_can_go_offline "no $cpu1"
		return
	fi
	for round in 1 2 3; do
		echo 0 > "$cpu1" || fail "cpu1_offline_round_$round" "write failed"
		if [ "$(wc -l < /sys/kernel/debug/labyrinth/cpus)" = 1 ] &&
		   [ "$(labstat pages_held)" = 128 ]; then
			pass "offline_cpu_pool_drained_round_$round"
		else
			fail "offline_cpu_pool_drained_round_$round" \
				"held $(labstat pages_held)"
		fi
		echo 1 > "$cpu1" || fail "cpu1_online_round_$round" "write failed"
		check "online_cpu_pool_filled_round_$round" levels_are 128
	done
	check accounting_balanced_after_hotplug [ "$(labstat pages_in_use)" = 0 ]
}

# cpu_served CPU: the gets CPU has served from pools, from the cpus file.
cpu_served() {
	awk -v c="$1" '$1 == c { print $5 }' /sys/kernel/debug/labyrinth/cpus
}

# served_total: gets labyrinth served, from any source.
served_total() {
	awk '$1 == "served_local" || $1 == "stolen" || $1 == "fallback" { n += $2 }
	     END { print n }' /sys/kernel/debug/labyrinth/stats
}

demo_cpu1_took_more() {
	[ "$(cpu_served 1)" -gt "$1" ]
}

# CPU 1 goes down while its hard-IRQ hrtimer takes pages: each round
# starts the demo client's timers (HRTIMER_MODE_REL_PINNED_HARD) on every
# CPU, waits until CPU 1's has been served, and takes CPU 1 offline and
# back under it.  The timer keeps firing on CPU 1 until interrupts go off
# there for good, so a get may leave a refill kick for a CPU about to die;
# on PREEMPT_RT a kick that waited for the irq_work thread would hang the
# offline write.
test_cpu_hotplug_under_hardirq_gets() {
	local sum=/sys/kernel/debug/labyrinth_demo/summary s0 sk0 round

	need_module labyrinth_demo || return 0
	if [ ! -w "$cpu1" ]; then
		fail cpu1_can_go_offline_under_hardirq_gets "no $cpu1"
		return
	fi
	for round in 1 2 3; do
		s0=$(cpu_served 1)
		sk0=$(labstat fallback_skipped)
		insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=4000 wait=0 ||
			{ fail "hardirq_hotplug_demo_loads_round_$round" insmod; return; }
		check "cpu1_served_hardirq_before_offline_round_$round" \
			wait_for 5 demo_cpu1_took_more "$s0"
		echo 0 > "$cpu1" ||
			fail "cpu1_offline_under_hardirq_round_$round" "write failed"
		echo 1 > "$cpu1" ||
			fail "cpu1_online_under_hardirq_round_$round" "write failed"
		check "hardirq_hotplug_demo_ends_round_$round" \
			wait_for 30 demo_run_over
		check "hardirq_hotplug_no_failures_round_$round" \
			failures_explained "$(field $sum failed)" "$sk0"
		check "hardirq_hotplug_no_corruption_round_$round" \
			[ "$(field $sum corrupted)" = 0 ]
		check "hardirq_hotplug_every_page_back_round_$round" \
			[ "$(field $sum returned)" = "$(field $sum taken)" ]
		rmmod labyrinth_demo
	done
	reserve_settle
	check online_pools_full_after_hardirq_hotplug levels_are 128
	check accounting_balanced_after_hardirq_hotplug \
		[ "$(labstat pages_in_use)" = 0 ]
}

test_demo_client() {
	need_module labyrinth_demo || return 0
	s0=$(($(labstat served_local) + $(labstat stolen) + $(labstat fallback)))
	sk0=$(labstat fallback_skipped)
	check demo_runs insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=1500
	sum=/sys/kernel/debug/labyrinth_demo/summary
	taken=$(field "$sum" taken)
	s1=$(($(labstat served_local) + $(labstat stolen) + $(labstat fallback)))
	check demo_took_pages_in_hardirq [ "${taken:-0}" -gt 0 ]
	check demo_no_failures failures_explained "$(field "$sum" failed)" "$sk0"
	check demo_no_corruption [ "$(field "$sum" corrupted)" = 0 ]
	check demo_ran_in_hardirq [ "$(field "$sum" not_hardirq)" = 0 ]
	check demo_returned_every_page [ "$(field "$sum" returned)" = "$taken" ]
	check served_counters_add_up_to_demo_gets [ $((s1 - s0)) = "$taken" ]
	rmmod labyrinth_demo
	reserve_settle
	check no_page_in_use_after_demo [ "$(labstat pages_in_use)" = 0 ]
}

# rmmod while a client still holds pages: the module loader refuses it
# (the client's reference), and labyrinth goes on serving the client as
# if nothing happened: gets served after the attempt, none failed, every
# page given back.  The client takes 2 pages a millisecond on each CPU
# for 6 s: at the demo's default rate the debug kernel under emulation
# leaves the shell too little time to look before the client ends.
test_rmmod_while_client_holds_pages() {
	local sum=/sys/kernel/debug/labyrinth_demo/summary taken

	need_module labyrinth_demo || return 0
	sk0=$(labstat fallback_skipped)
	insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=6000 interval_us=1000 \
		batch=2 wait=0 ||
		{ fail rmmod_while_client_runs "demo did not start"; return; }
	if rmmod labyrinth 2> /dev/null; then
		fail rmmod_while_client_runs "rmmod succeeded"
		return
	fi
	s0=$(served_total)
	check client_run_ends wait_for 30 demo_run_over
	s1=$(served_total)
	check client_served_after_refused_rmmod [ "$s1" -gt "$s0" ]
	check client_finished_without_failures failures_explained \
		"$(field $sum failed)" "$sk0"
	taken=$(field $sum taken)
	check client_returned_every_page [ "$(field $sum returned)" = "$taken" ]
	rmmod labyrinth_demo
}

# A load whose fill fails must fail with ENOMEM and give back every page.
# The page allocator fails every request of the loading task once a budget
# (space) of 1024 requests, enough to load the module itself, is spent; the
# reserve asked for, 2 x 64 MiB, takes 2048 bulk requests.  lab-finit loads
# with one finit_module() call (busybox insmod would retry, with the budget
# gone), and asks for the failures around that call only.  6.12 test kernel only (fail_page_alloc).
test_load_fails_cleanly_when_allocator_fails() {
	if [ ! -d "$LAB_FPA" ]; then
		skip load_fails_with_enomem_when_fill_fails "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	f0=$(free_pages_baseline)
	fpa_fail_tasks 100 1024
	dmesg -c > /dev/null
	res=$("$LAB_KO/lab-finit" -f "$LAB_MODULE" 'pages_per_cpu=16384 low_watermark=64')
	echo 0 > "$LAB_FPA"/probability
	echo 0 > "$LAB_FPA"/space
	if [ "$res" = ENOMEM ] && klog_has 'labyrinth: cannot fill'; then
		pass load_fails_with_enomem_when_fill_fails
	else
		fail load_fails_with_enomem_when_fill_fails "load said '$res'"
		grep -q '^labyrinth ' /proc/modules && rmmod labyrinth
	fi
	check no_module_left_after_failed_load sh -c '! grep -q "^labyrinth " /proc/modules'
	f1=$(free_pages)
	pages_back failed_load_gives_back_every_page "$f0" "$f1"
}

# The trace system "labyrinth": get, put and refill events with their fields.
test_tracepoints() {
	tr=/sys/kernel/tracing
	if [ ! -d $tr/events/labyrinth ]; then
		fail tracepoints_registered "no $tr/events/labyrinth"
		return
	fi
	echo > $tr/trace
	# Without the names of tasks: recording them hooks the scheduler's
	# own tracepoints, whose sites in __schedule() every CPU runs all the
	# time, and patching those under emulation once left a CPU in the
	# int3 of a patch site for good (Debian 6.1 guest).  labyrinth's
	# events need none of it.
	rec=$(cat $tr/options/record-cmd)
	echo 0 > $tr/options/record-cmd
	echo 1 > $tr/events/labyrinth/enable
	insmod "$LAB_KO/labyrinth_demo.ko" duration_ms=300 && rmmod labyrinth_demo
	reserve_settle
	echo 0 > $tr/events/labyrinth/enable
	echo "$rec" > $tr/options/record-cmd
	check trace_get_event_names_reserve_cpu_source_level grep -qE \
		'labyrinth_get: reserve=default cpu=[0-9]+ source=local level=[0-9]+' $tr/trace
	check trace_put_event_names_reserve_cpu_outcome_level grep -qE \
		'labyrinth_put: reserve=default cpu=[0-9]+ outcome=(pooled|freed) level=[0-9]+' $tr/trace
	check trace_refill_event_names_reserve_cpu_pages_duration grep -qE \
		'labyrinth_refill: reserve=default cpu=[0-9]+ pages=[0-9]+ duration_ns=[0-9]+' $tr/trace
	echo > $tr/trace
}

# misuse CASE REJECTED RELEASED: labyrinth_misuse gives labyrinth_put() a
# page it must refuse and finds it unchanged; put_rejected and
# pages_released grow by REJECTED and RELEASED (- for any: emptying the
# pool and filling it again frees pages), and a refused put is reported
# naming the function that made it.
misuse() {
	r0=$(labstat put_rejected)
	p0=$(labstat pages_released)
	dmesg -c > /dev/null
	if ! echo "$1" > /sys/kernel/debug/labyrinth_misuse/run; then
		fail "put_refuses_$1" "$(dmesg | grep labyrinth_misuse)"
		return
	fi
	r1=$(labstat put_rejected)
	p1=$(labstat pages_released)
	if [ $((r1 - r0)) != "$2" ] ||
	   { [ "$3" != - ] && [ $((p1 - p0)) != "$3" ]; }; then
		fail "put_refuses_$1" "put_rejected +$((r1 - r0)), pages_released +$((p1 - p0))"
	elif [ "$2" != 0 ] && ! dmesg | grep -q "labyrinth: labyrinth_put() of .* by misuse_$1+0x.* refused"; then
		fail "put_refuses_$1" "no report naming misuse_$1"
	else
		pass "put_refuses_$1"
	fi
}

# A page of the reserve that someone else also references is not misuse:
# the caller's reference is dropped and counted in put_shared, and nothing
# is refused or reported.
misuse_shared() {
	local s0

	s0=$(labstat put_shared)
	misuse shared 0 1
	if [ $(($(labstat put_shared) - s0)) != 1 ] || dmesg | grep -q 'misuse_shared.*refused'; then
		fail put_of_shared_page_counted_and_not_reported \
			"put_shared +$(($(labstat put_shared) - s0)), $(dmesg | grep misuse_shared)"
	else
		pass put_of_shared_page_counted_and_not_reported
	fi
}

# A driver's bugs on purpose: every kind of page labyrinth_put() refuses.
test_misuse() {
	need_module labyrinth_misuse || return 0
	insmod "$LAB_KO/labyrinth_misuse.ko" ||
		{ fail misuse_module_loads "insmod failed"; return; }
	misuse slab 1 0
	misuse tail 1 0
	misuse reserved 1 0
	misuse page_pool 1 0
	misuse page_cache 1 0
	misuse twice 1 -
	misuse freed 1 0
	misuse_shared
	misuse compound 1 0
	misuse null 0 0
	rmmod labyrinth_misuse
	reserve_settle
	check accounting_balanced_after_misuse [ "$(labstat pages_in_use)" = 0 ]
}

# The module that DKMS built on the host (Debian kernel only).
test_dkms_module() {
	if [ ! -f "$LAB_KO/dkms/labyrinth.ko" ]; then
		skip dkms_built_module "DKMS builds for the Debian kernel only"
		return 0
	fi
	check dkms_built_module_loads insmod "$LAB_KO/dkms/labyrinth.ko"
	check dkms_built_module_fills_pools levels_are 128
	check dkms_built_module_unloads rmmod labyrinth
}

# The page allocator's view: a large reserve really takes its pages and
# gives all of them back.  Tolerance: 512 pages (2 MiB), for what loading a
# module costs besides the reserve and is not given back at once: its
# vmalloc'd text and data (and, on the debug kernel, their KASAN shadow and
# kmemleak's metadata), page tables, and the per-CPU vmstat deltas not yet
# folded.  Against a reserve of 8192 pages per CPU, losing a sixteenth of
# one CPU's pool fails.
test_free_pages_restored() {
	f0=$(free_pages_baseline)
	insmod "$LAB_MODULE" pages_per_cpu=8192 low_watermark=512 ||
		{ fail large_reserve_loads "insmod failed"; return; }
	f1=$(free_pages)
	check large_reserve_takes_its_pages \
		[ $((f0 - f1)) -ge $((8192 * ncpu - FREE_PAGES_SLACK)) ]
	check rmmod_large_reserve rmmod labyrinth
	f2=$(free_pages)
	pages_back nr_free_pages_restored_after_unload "$f0" "$f2" "$f1 loaded"
}

test_kunit_suite() {
	if [ ! -d /sys/kernel/debug/kunit ]; then
		skip kunit_suite "no KUnit in $(uname -r)"
		return 0
	fi
	need_module labyrinth_kunit || return 0
	if [ ! -d "$LAB_FPA" ]; then
		fail kunit_suite "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	# Fail every allocation of a task that asks for it (make_it_fail),
	# and nothing else.
	fpa_fail_tasks 100
	insmod "$LAB_MODULE" pages_per_cpu=64 low_watermark=16 ||
		{ fail kunit_labyrinth_loads "insmod failed"; return; }
	if insmod "$LAB_KO/labyrinth_kunit.ko"; then
		lab_kmemleak_scan
		lab_ktap_copy kunit /sys/kernel/debug/kunit/labyrinth/results
		rmmod labyrinth_kunit
	else
		fail kunit_suite "insmod labyrinth_kunit failed"
	fi
	echo 0 > "$LAB_FPA"/probability
	unload_balanced after_kunit
}

# Between the tests that leave labyrinth loaded and those that load it
# themselves.
test_unload_balanced_after_use() {
	unload_balanced after_use
}

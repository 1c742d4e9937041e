# SPDX-License-Identifier: GPL-2.0
#
# Guest test of the isolation between named reserves (check.plan), with
# two client modules: labyrinth_greedy empties its reserve "greedy" and
# keeps taking from it in hard-IRQ context on every CPU, while
# labyrinth_tenant takes its reserve "tenant" whole in hard-IRQ context,
# then what an NMI may take, on every CPU; meanwhile the page allocator
# fails every request, where the kernel has fail_page_alloc, and the
# default reserve serves nobody.  Then greedy unloads with its pages out.
# The test starts and ends with nothing of its own loaded.
#
# While page allocations fail, only shell builtins run and the shell writes
# to files it opened before (see stress.sh): fd 3 is a FIFO nobody writes,
# fd 4 fail_page_alloc's probability, fd 5 greedy's control, fd 6 tenant's
# run.

RES_DEBUGFS=/sys/kernel/debug/labyrinth
RES_GREEDY=/sys/kernel/debug/labyrinth_greedy
RES_TENANT=/sys/kernel/debug/labyrinth_tenant
RES_GREEDY_SAVED=/tmp/greedy.results
RES_TENANT_SAVED=/tmp/tenant.results
# Two sizes: a pool sized by the other reserve's capacity stands out.
# An NMI takes no lock, so a pool's stash is out of its reach: it takes
# from hot[], which the refill worker loads with up to 32 pages, and from
# the NMI share, up to 8 (labyrinth_reserve.c: hot_fill(), share_target()).
# Tenant's 40 pages are the most an NMI is sure to find whole.
RES_GREEDY_PAGES=32
RES_TENANT_PAGES=40
RES_BUDGET=1000000

# The default reserve's pages and every counter a get or a put moves.
res_default_counts() {
	for k in pages_held pages_in_use served_local served_nmi stolen \
		fallback failed fallback_skipped put_pooled put_freed; do
		printf '%s %s, ' "$k" "$(labstat "$k")"
	done
}

# every_cpu FILE PREFIX MIN MAX: FILE has one line "PREFIXn VALUE" per
# online CPU n, each VALUE from MIN to MAX.
every_cpu() {
	awk -v p="$2" -v lo="$3" -v hi="$4" -v n="$(nproc)" '
		substr($1, 1, length(p)) == p &&
		substr($1, length(p) + 1) ~ /^[0-9]+$/ {
			k++
			if ($2 < lo || $2 > hi) bad++
		}
		END { exit bad || k != n }' "$1"
}

# per_cpu FILE PREFIX: "n: VALUE" of each "PREFIXn VALUE" line of FILE.
per_cpu() {
	awk -v p="$2" 'substr($1, 1, length(p)) == p {
		printf "%s%s: %s", (k++ ? ", " : ""), substr($1, length(p) + 1), $2
	}' "$1"
}

res_unload() {
	for m in labyrinth_tenant labyrinth_greedy labyrinth; do
		module_loaded $m && rmmod $m
	done
	return 0
}

# res_load: labyrinth with its defaults, then both clients.  greedy's
# gets call the page allocator where it fails every request, and not
# where nothing makes it fail: there its storm would take what the
# allocator gives.
res_load() {
	local fallback=0

	[ -d "$LAB_FPA" ] && fallback=1
	insmod "$LAB_MODULE" || { fail reserves_labyrinth_loads "insmod failed"; return 1; }
	if ! insmod "$LAB_KO/labyrinth_greedy.ko" pages_per_cpu=$RES_GREEDY_PAGES \
		fallback=$fallback; then
		fail reserves_greedy_loads "insmod labyrinth_greedy failed"
		return 1
	fi
	if ! insmod "$LAB_KO/labyrinth_tenant.ko" pages_per_cpu=$RES_TENANT_PAGES; then
		fail reserves_tenant_loads "insmod labyrinth_tenant failed"
		return 1
	fi
	check_both reserves_named_debugfs_capacities \
		"greedy: $(rstat greedy capacity), tenant: $(rstat tenant capacity)" \
		"$(rstat greedy capacity) = $((RES_GREEDY_PAGES * $(nproc)))" \
		"$(rstat tenant capacity) = $((RES_TENANT_PAGES * $(nproc)))"
	reserve_settle
}

# res_tenant_parts: tenant's hardirq and nmi parts (fd 6 open), each
# preceded by a pause in which greedy's storm runs alone.  Sets res_rc_hard
# and res_rc_nmi.
res_tenant_parts() {
	res_rc_hard=0 res_rc_nmi=0
	pause_for 0.1
	echo hardirq >&6 || res_rc_hard=1
	pause_for 0.1
	echo nmi >&6 || res_rc_nmi=1
	pause_for 0.1
}

# res_contend: greedy's storm empties its reserve and goes on while tenant
# takes, the page allocator failing every request where it can be made
# to.  Sets res_rc_storm, res_rc_hard, res_rc_nmi and res_injected
# (allocations failed, -1 without fail_page_alloc) and res_budget_left.
res_contend() {
	res_rc_storm=0 res_injected=-1 res_budget_left=0
	exec 5> "$RES_GREEDY/control"
	exec 6> "$RES_TENANT/run"
	if [ -d "$LAB_FPA" ]; then
		echo $RES_BUDGET > "$LAB_FPA"/times
		echo 100 >&4
	fi
	echo storm >&5 || res_rc_storm=1
	echo mark >&5
	res_tenant_parts
	echo stop >&5
	if [ -d "$LAB_FPA" ]; then
		echo 0 >&4
		read -r res_budget_left < "$LAB_FPA"/times
		res_injected=$((RES_BUDGET - res_budget_left))
	fi
	exec 5>&- 6>&-
	cat "$RES_GREEDY/results" > "$RES_GREEDY_SAVED"
	cat "$RES_TENANT/results" > "$RES_TENANT_SAVED"
}

# res_check_greedy: its storm emptied its reserve on every CPU, in
# hard-IRQ context, and kept asking on every CPU while tenant took; it
# holds the whole reserve (with the allocator failing, exactly that).
res_check_greedy() {
	local g=$RES_GREEDY_SAVED held whole

	held=$(field $g held)
	whole=$((RES_GREEDY_PAGES * $(nproc)))
	echo "  greedy: held $held, gets $(field $g gets), NULL $(field $g nulls) (since tenant started: $(per_cpu $g nulls_since_mark_cpu)), overflow $(field $g overflow)"
	check_both greedy_storm_emptied_reserve_on_every_cpu \
		"write of storm: status $res_rc_storm, CPUs emptied $(field $g drained_cpus) of $(nproc)" \
		"$res_rc_storm = 0" "$(field $g drained_cpus) = $(nproc)"
	check_both greedy_storm_in_hardirq_on_its_cpu \
		"not_hardirq $(field $g not_hardirq), wrong_cpu $(field $g wrong_cpu)" \
		"$(field $g not_hardirq) = 0" "$(field $g wrong_cpu) = 0"
	if every_cpu $g nulls_since_mark_cpu 1 999999999; then
		pass greedy_kept_asking_on_every_cpu_meanwhile
	else
		fail greedy_kept_asking_on_every_cpu_meanwhile \
			"NULL gets since tenant started: $(per_cpu $g nulls_since_mark_cpu)"
	fi
	if [ -d "$LAB_FPA" ]; then
		check_both greedy_holds_its_whole_reserve \
			"held $held ($(per_cpu $g held_cpu)), reserve $whole, overflow $(field $g overflow)" \
			"$held = $whole" "$(field $g overflow) = 0"
	else
		check greedy_holds_its_whole_reserve [ "$held" -ge "$whole" ]
	fi
	# A NULL is counted in failed, or in fallback_skipped where the get
	# may not call the page allocator (hard-IRQ context on PREEMPT_RT).
	check_both greedy_reserve_counts_every_refused_get \
		"greedy saw $(field $g nulls) NULL, reserve greedy counted failed $(rstat greedy failed), fallback_skipped $(rstat greedy fallback_skipped)" \
		"$(field $g nulls) -gt 0" \
		"$(field $g nulls) = $(($(rstat greedy failed) + $(rstat greedy fallback_skipped)))"
}

# res_check_tenant WHEN: tenant's last parts, from its saved results:
# every CPU took its whole reserve in hard-IRQ context, all at once, none
# twice, and again in NMI.
res_check_tenant() {
	local t=$RES_TENANT_SAVED p=$RES_TENANT_PAGES

	echo "  tenant, $1: hard-IRQ took $(per_cpu $t hardirq_taken_cpu), NMI took $(per_cpu $t nmi_taken_cpu) (of $p)"
	if [ "$res_rc_hard" = 0 ] && every_cpu $t hardirq_taken_cpu "$p" "$p" &&
	   [ "$(field $t hardirq_together)" = 1 ] &&
	   [ "$(field $t hardirq_wrong_context)" = 0 ] &&
	   [ "$(field $t hardirq_duplicates)" = 0 ]; then
		pass "tenant_whole_reserve_in_hardirq_every_cpu_$1"
	else
		fail "tenant_whole_reserve_in_hardirq_every_cpu_$1" \
			"write status $res_rc_hard, taken $(per_cpu $t hardirq_taken_cpu) of $p, together $(field $t hardirq_together), wrong context $(field $t hardirq_wrong_context), served twice $(field $t hardirq_duplicates)"
	fi
	if [ "$res_rc_nmi" = 0 ] && every_cpu $t nmi_taken_cpu "$p" "$p" &&
	   [ "$(field $t nmi_together)" = 1 ] &&
	   [ "$(field $t nmi_wrong_context)" = 0 ] &&
	   [ "$(field $t nmi_duplicates)" = 0 ]; then
		pass "tenant_whole_reserve_in_nmi_every_cpu_$1"
	else
		fail "tenant_whole_reserve_in_nmi_every_cpu_$1" \
			"write status $res_rc_nmi, taken $(per_cpu $t nmi_taken_cpu) of $p, together $(field $t nmi_together), wrong context $(field $t nmi_wrong_context), served twice $(field $t nmi_duplicates)"
	fi
}

# res_check_beyond: with the allocator failing and tenant's reserve all
# taken, the page each CPU then asked for was refused: nothing of greedy's
# reserve or of the default one.
res_check_beyond() {
	local t=$RES_TENANT_SAVED

	if [ ! -d "$LAB_FPA" ]; then
		skip tenant_nothing_beyond_its_reserve \
			"no fail_page_alloc on $(uname -r): the fallback may serve"
	elif every_cpu $t hardirq_beyond_cpu 0 0; then
		pass tenant_nothing_beyond_its_reserve
	else
		fail tenant_nothing_beyond_its_reserve \
			"a page beyond the reserve served: $(per_cpu $t hardirq_beyond_cpu)"
	fi
}

# res_check_allocator: every request failed, the budget never ran out.
res_check_allocator() {
	if [ ! -d "$LAB_FPA" ]; then
		skip reserves_allocator_failed_throughout "no fail_page_alloc on $(uname -r)"
		return 0
	fi
	echo "  page allocations failed: $res_injected"
	check_both reserves_allocator_failed_throughout \
		"$res_injected failed, budget left $res_budget_left" \
		"$res_injected -gt 0" "$res_budget_left -gt 0"
}

# res_check_default NAME BEFORE: the default reserve's counts are BEFORE.
res_check_default() {
	local now

	now=$(res_default_counts)
	if [ "$now" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "before: $2 now: $now"
	fi
}

# res_greedy_leaks: greedy unloads with its pages out; destroy reports
# exactly those, and greedy then gives them back to the destroyed reserve,
# which frees them.
res_greedy_leaks() {
	local held line out

	held=$(field $RES_GREEDY_SAVED held)
	echo leak > "$RES_GREEDY/control"
	dmesg -c > /dev/null
	check rmmod_greedy_with_pages_out rmmod labyrinth_greedy
	line=$(dmesg | grep 'labyrinth: reserve greedy destroyed with')
	out=$(echo "$line" | sed -n 's/.*destroyed with \([0-9]*\) pages still out.*/\1/p')
	check_both greedy_destroy_reports_pages_out \
		"greedy held $held, labyrinth said: '$line'" \
		"${out:-x} = $held" "$held -gt 0"
	check greedy_debugfs_gone [ ! -e "$RES_DEBUGFS/greedy" ]
}

# res_tenant_again: tenant's parts once more, greedy gone, the page
# allocator failing again.
res_tenant_again() {
	exec 6> "$RES_TENANT/run"
	[ -d "$LAB_FPA" ] && echo 100 >&4
	res_tenant_parts
	[ -d "$LAB_FPA" ] && echo 0 >&4
	exec 6>&-
	cat "$RES_TENANT/results" > "$RES_TENANT_SAVED"
}

# res_tenant_unloads: no page out, the reserve's accounting balanced.
res_tenant_unloads() {
	dmesg -c > /dev/null
	check rmmod_tenant rmmod labyrinth_tenant
	destroy_reported_balanced tenant tenant
}

reserves_isolated() {
	local before

	need_module labyrinth_greedy || return 0
	need_module labyrinth_tenant || return 0
	pause_open
	res_load || return
	before=$(res_default_counts)
	[ -d "$LAB_FPA" ] && fpa_fail_all
	res_contend
	res_check_greedy
	res_check_tenant with_greedy_storming
	res_check_beyond
	res_check_allocator
	res_check_default default_reserve_untouched_by_named_ones "$before"
	res_greedy_leaks
	res_tenant_again
	res_check_tenant after_greedy_unloaded
	res_tenant_unloads
	res_check_default default_reserve_untouched_by_destroys "$before"
	unload_balanced reserves
}

test_reserves_isolated() {
	res_unload
	reserves_isolated
	res_unload
}

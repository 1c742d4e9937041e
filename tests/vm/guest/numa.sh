# SPDX-License-Identifier: GPL-2.0
#
# make check on two memory nodes, one CPU on each (QEMU -numa): a pool
# keeps pages of its CPU's node only.  The pages a CPU's own pool serves
# are on its node; when it is empty, a theft from the other node's CPU
# takes only the page it serves (counted as stolen); a page of the other
# node given back is freed (put_remote), not pooled, and the pool stays
# on its node afterwards.  labyrinth_numa takes the pages and says where
# they were; the counters say where they came from.  The same holds for a
# named reserve, which labyrinth_numa makes when loaded with reserve=.

# Let the refill workers finish: a write of pages_per_cpu waits for them.
numa_settle() {
	param pages_per_cpu > /sys/module/labyrinth/parameters/pages_per_cpu
}

numa_result() {
	cat /sys/kernel/debug/labyrinth_numa/result
}

# numa_take CPU N: "T M", the pages taken on CPU and those off its node.
numa_take() {
	echo "take $1 $2" > /sys/kernel/debug/labyrinth_numa/run &&
		numa_result | awk '{ print $2, $4 }'
}

# numa_stat KEY and numa_cap: a counter and the capacity of the reserve
# the checks below look at: the default one, or the one NUMA_RESERVE names.
numa_stat() {
	if [ -n "${NUMA_RESERVE:-}" ]; then
		rstat "$NUMA_RESERVE" "$1"
	else
		labstat "$1"
	fi
}

numa_cap() {
	if [ -n "${NUMA_RESERVE:-}" ]; then
		awk 'NR == 1 { print $3 }' "/sys/kernel/debug/labyrinth/$NUMA_RESERVE/cpus"
	else
		param pages_per_cpu
	fi
}

# own_pool_on_node NAME CPU: half a pool taken on CPU, every page from its
# own pool and on its node.  (With a node's memory mostly free, the page
# allocator fills a pool from its node whether asked to or not: what
# tells is the same check after thefts and remote puts, below.)
own_pool_on_node() {
	n=$(($(numa_cap) / 2))
	l0=$(numa_stat served_local)
	read -r t m <<EOF
$(numa_take "$2" "$n")
EOF
	l1=$(numa_stat served_local)
	if [ "$t" = "$n" ] && [ "$m" = 0 ] && [ $((l1 - l0)) = "$n" ]; then
		pass "$1"
	else
		fail "$1" "taken $t of $n, off node $m, served_local +$((l1 - l0))"
	fi
}

# numa_checks PREFIX: the checks, on the reserve NUMA_RESERVE names (the
# default one if empty), each named PREFIX_...
numa_checks() {
	own_pool_on_node "$1_cpu0_pool_on_node0" 0
	own_pool_on_node "$1_cpu1_pool_on_node1" 1

	# CPU 0's pool and 32 pages more, preemption off: past its own
	# pages, every get steals one page of node 1 (or falls back).
	n=$(($(numa_cap) + 32))
	s0=$(numa_stat stolen)
	f0=$(numa_stat fallback)
	r0=$(numa_stat put_remote)
	read -r t m <<EOF
$(numa_take 0 "$n")
EOF
	s=$(($(numa_stat stolen) - s0))
	f=$(($(numa_stat fallback) - f0))
	r=$(($(numa_stat put_remote) - r0))
	echo "  CPU 0 took $t pages: $m off node 0; stolen $s, fallback $f, put_remote $r"
	if [ "$t" = "$n" ] && [ "$s" -gt 0 ] && [ "$m" -ge "$s" ] &&
	   [ "$m" -le $((s + f)) ]; then
		pass "$1_only_stolen_pages_off_node"
	else
		fail "$1_only_stolen_pages_off_node" "taken $t of $n, off node $m, stolen $s, fallback $f"
	fi
	check "$1_off_node_pages_freed_on_put" [ "$r" = "$m" ]
	own_pool_on_node "$1_cpu0_pool_on_node0_after_theft" 0

	# A page of node 1 given back on CPU 0, whose pool has room.
	p0=$(numa_stat put_pooled)
	r0=$(numa_stat put_remote)
	echo "hand 1 0" > /sys/kernel/debug/labyrinth_numa/run
	res=$(numa_result)
	p=$(($(numa_stat put_pooled) - p0))
	r=$(($(numa_stat put_remote) - r0))
	if [ "$res" = "node 1" ] && [ "$r" = 1 ] && [ "$p" = 1 ]; then
		pass "$1_remote_put_freed_not_pooled"
	else
		fail "$1_remote_put_freed_not_pooled" "'$res', put_remote +$r, put_pooled +$p"
	fi
	own_pool_on_node "$1_cpu0_pool_on_node0_after_remote_put" 0
}

test_numa() {
	if [ ! -d /sys/devices/system/node/node1/cpu1 ] ||
	   [ ! -d /sys/devices/system/node/node0/cpu0 ]; then
		fail numa_two_nodes "CPU 0 on node 0 and CPU 1 on node 1 expected: $(ls -d /sys/devices/system/node/node*/cpu[0-9]* 2>&1)"
		return
	fi
	pass numa_two_nodes
	need_module labyrinth_numa || return 0
	if ! insmod "$LAB_KO/labyrinth.ko" ||
	   ! insmod "$LAB_KO/labyrinth_numa.ko"; then
		fail numa_modules_load "insmod failed"
		return
	fi
	pass numa_modules_load

	NUMA_RESERVE=
	numa_checks numa
	check numa_rmmod_test_module rmmod labyrinth_numa

	# The same with a named reserve: its pools keep their node's pages.
	NUMA_RESERVE=numa
	check numa_named_module_loads \
		insmod "$LAB_KO/labyrinth_numa.ko" reserve=numa pages_per_cpu=96
	if [ -d /sys/kernel/debug/labyrinth/numa ]; then
		numa_checks numa_named
		dmesg -c > /dev/null
		check numa_named_rmmod_test_module rmmod labyrinth_numa
		destroy_reported_balanced numa numa_named
	fi
	NUMA_RESERVE=

	numa_settle
	check numa_accounting_balanced [ "$(labstat pages_in_use)" = 0 ]
	unload_balanced numa
}

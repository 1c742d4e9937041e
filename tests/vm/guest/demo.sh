# SPDX-License-Identifier: GPL-2.0
#
# make demo: labyrinth serving a driver that takes pages in hard-IRQ
# context on every CPU, then the same while the page allocator is empty.
# Run by demo.plan.  Output lines start with "==", "$ " or two spaces: the
# host shows those.

show() {
	echo "\$ $*"
	"$@" 2>&1 | sed 's/^/  /'
}

klog() {
	dmesg | sed -n "s/^\[[ 0-9.]*\] $1: /  /p"
}

counters() {
	show cat /sys/kernel/debug/labyrinth/stats
	echo "  (cpu level capacity min_level served fallback failed)"
	show cat /sys/kernel/debug/labyrinth/cpus
}

# demo_run LABEL ARGS...
demo_run() {
	label=$1
	shift
	dmesg -c > /dev/null
	if insmod "$LAB_KO/labyrinth_demo.ko" "$@"; then
		klog labyrinth_demo
		sum=/sys/kernel/debug/labyrinth_demo/summary
		check "demo_${label}_no_failures" [ "$(field "$sum" failed)" = 0 ]
		check "demo_${label}_no_corruption" [ "$(field "$sum" corrupted)" = 0 ]
		check "demo_${label}_took_pages" [ "$(field "$sum" taken)" -gt 0 ]
		rmmod labyrinth_demo
	else
		fail "demo_${label}_loads" "insmod labyrinth_demo $* failed"
	fi
}

test_demo() {
	echo "== labyrinth demo on $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
	dmesg -c > /dev/null
	echo "\$ insmod labyrinth.ko"
	check labyrinth_loads insmod "$LAB_KO/labyrinth.ko"
	klog labyrinth
	echo "== counters before"
	counters

	echo "== a driver takes 4 pages every 200 us on every CPU in hard-IRQ"
	echo "   context and hands them to the next CPU, which checks and returns them"
	echo "\$ insmod labyrinth_demo.ko duration_ms=3000"
	demo_run normal duration_ms=3000
	echo "== counters after"
	counters

	echo "== now the page allocator is exhausted: alloc_page(GFP_ATOMIC) fails,"
	echo "   the reserve keeps serving.  It must cover the pages in flight"
	echo "   between a take and its return on the other CPU: grow it first"
	echo "\$ echo 1024 > /sys/module/labyrinth/parameters/pages_per_cpu"
	echo 1024 > /sys/module/labyrinth/parameters/pages_per_cpu
	echo "\$ insmod labyrinth_demo.ko duration_ms=2000 starve=1"
	demo_run starved duration_ms=2000 starve=1
	echo "== counters after the starved run (refill_failures: the worker could"
	echo "   not refill while memory was exhausted, and backed off)"
	counters
	check rmmod_labyrinth rmmod labyrinth
	klog labyrinth
}

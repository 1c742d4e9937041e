# SPDX-License-Identifier: GPL-2.0
#
# Memory offlining of a block that holds pooled pages (check.plan), on
# kernels with memory hotplug, in a guest the host gave a hot-pluggable
# DIMM (pc-dimm) above 4 GiB: its blocks come up offline, and the boot
# memory is all in ZONE_DMA32.  One block at a time is onlined to
# ZONE_NORMAL (pooled pages are not movable, so never in ZONE_MOVABLE):
# it is then the only memory of the zone that allocations try first, and
# the reserve, grown right after, takes its pages there.  Offlining the
# block then succeeds only if every pool gives its pages back.  A pooled
# page (reference count zero, not free) passes the isolation but keeps
# offline_pages() waiting for it to be freed; a write that does not end
# within MEMORY_OFFLINE_WAIT seconds is interrupted and fails the test.
# What the kernel allocates between the online and the growth may land in
# the block too, and then it cannot go offline whatever labyrinth does:
# the next block is tried.

MEMORY_SYS=/sys/devices/system/memory
MEMORY_OFFLINE_WAIT=60

# The memory blocks that are offline now: the DIMM's.
memory_offline_blocks() {
	local m

	for m in "$MEMORY_SYS"/memory[0-9]*; do
		[ "$(cat "$m/state")" = offline ] && echo "$m"
	done
}

# memory_try_block BLOCK: shrink the reserve, online BLOCK to ZONE_NORMAL
# (or empty it again if a try left it online: an unmovable page that
# pinned it may have been freed since), grow the reserve into it, offline
# it.  Prints how many pooled pages the offline released and how it
# ended: "offline", "busy" (a page nobody can move was in the block: the
# offline failed at once), "hung" (still waiting after
# MEMORY_OFFLINE_WAIT seconds) or "unusable" (the block would not come
# online, or could not be emptied).
memory_try_block() {
	local t0 rel0 how

	set_param pages_per_cpu 128
	if [ "$(cat "$1/state")" = online ] &&
	   ! echo offline > "$1/state" 2> /dev/null; then
		echo "0 unusable"
		return
	fi
	if ! echo online_kernel > "$1/state" 2> /dev/null; then
		echo "0 unusable"
		return
	fi
	set_param pages_per_cpu 16384
	rel0=$(labstat offline_released)
	t0=$(cut -d. -f1 /proc/uptime)
	if timeout $MEMORY_OFFLINE_WAIT sh -c "echo offline > $1/state" \
		2> /dev/null; then
		how=offline
	elif [ $(($(cut -d. -f1 /proc/uptime) - t0)) -ge $MEMORY_OFFLINE_WAIT ]; then
		how=hung
	else
		how=busy
	fi
	echo "$(($(labstat offline_released) - rel0)) $how"
}

test_memory_offline() {
	local blocks m res rel how done=0 hung=0 tries=0 try

	if [ ! -d $MEMORY_SYS ]; then
		skip memory_offline "no memory hotplug in $(uname -r)"
		return 0
	fi
	blocks=$(memory_offline_blocks)
	if [ -z "$blocks" ]; then
		skip memory_offline "no hot-pluggable memory block offline"
		return 0
	fi
	# Loaded first, so that the module's own memory is not in the DIMM.
	check memory_offline_reserve_loads insmod "$LAB_MODULE"
	# Each block three times, a second apart: what pinned it may be gone.
	for m in $(echo "$blocks" | sort -r); do
		for try in 1 2 3; do
			res=$(memory_try_block "$m")
			rel=${res% *}
			how=${res#* }
			tries=$((tries + 1))
			echo "  ${m##*/}, try $try: $how, $rel pooled pages released for the offline"
			[ "$how" = hung ] && hung=$((hung + 1))
			[ "$how" = offline ] && [ "$rel" -gt 0 ] && { done=1; break; }
			[ "$how" = busy ] || break
			sleep 1
		done
		[ "$done" = 1 ] && break
	done
	check no_memory_offline_waits_for_pooled_pages [ "$hung" = 0 ]
	if [ "$done" = 1 ]; then
		pass block_holding_pooled_pages_goes_offline
	else
		fail block_holding_pooled_pages_goes_offline \
			"none of $tries tries took a block offline with pooled pages released"
	fi
	# A block that could not be emptied left the reserve at 128.
	set_param pages_per_cpu 16384
	reserve_settle
	check pools_refilled_after_memory_offline levels_are 16384
	unload_balanced after_memory_offline
}

# SPDX-License-Identifier: GPL-2.0
#
# Memory offlining of a block that holds pooled pages.  Sourced by
# check.sh on kernels with memory hotplug, in a guest the host gave a
# hot-pluggable DIMM (pc-dimm) above 4 GiB: its blocks come up offline.
# Onlined to ZONE_NORMAL (pooled pages are not movable, so never in
# ZONE_MOVABLE), they are the only memory of the zone that allocations try
# first, the boot memory being all in ZONE_DMA32.  A block of the DIMM is
# made the only free memory of ZONE_NORMAL and the reserve grows into it;
# offlining that block then succeeds only if every pool gives its pages
# back.  A pooled page (reference count zero, not free) passes the
# isolation but keeps offline_pages() waiting for it to be freed; a write
# that does not end within MEMORY_OFFLINE_WAIT seconds is interrupted and
# fails the test.

MEMORY_SYS=/sys/devices/system/memory
MEMORY_OFFLINE_WAIT=60

# The memory blocks that are offline now: the DIMM's.
memory_offline_blocks() {
	local m

	for m in "$MEMORY_SYS"/memory[0-9]*; do
		[ "$(cat "$m/state")" = offline ] && echo "$m"
	done
}

# memory_fill KIB: KIB KiB of tmpfs pages in /tmp/memfill, in huge pages
# where the kernel can: the file's page-cache index (xarray nodes: slab,
# unmovable) then needs a node for every 64 huge pages, not for every 64
# pages, and leaves fewer blocks of ZONE_NORMAL that no offline can empty.
memory_fill() {
	mkdir -p /tmp/memfill &&
		{ mount -t tmpfs -o size="$1"k,huge=always memfill /tmp/memfill ||
		  mount -t tmpfs -o size="$1"k memfill /tmp/memfill; } &&
		dd if=/dev/zero of=/tmp/memfill/f bs=1M count=$(($1 / 1024)) \
			2> /dev/null
}

memory_unfill() {
	rm -f /tmp/memfill/f
	umount /tmp/memfill
}

# Free memory of ZONE_NORMAL, in KiB.
memory_normal_free_kib() {
	awk '$1 == "Node" { z = $4 } z == "Normal" && $1 == "pages" &&
	     $2 == "free" { print $3 * 4; exit }' /proc/zoneinfo
}

# memory_try_block BLOCK: empty BLOCK (offline, its tmpfs pages migrate;
# online again), grow the reserve into it, offline it.  Prints how many
# pooled pages the offline released and how it ended: "offline", "busy"
# (a page nobody can move was in the block: the offline failed at once)
# or "hung" (still waiting after MEMORY_OFFLINE_WAIT seconds).
memory_try_block() {
	local t0 rel0 how

	set_param pages_per_cpu 128
	if ! { echo offline > "$1/state" && echo online_kernel > "$1/state"; } \
		2> /dev/null; then
		echo "0 busy"
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
	local blocks m bad=0 res rel how done=0 hung=0 tries=0

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
	for m in $blocks; do
		echo online_kernel > "$m/state" || bad=$((bad + 1))
	done
	check dimm_blocks_online_to_normal_zone [ "$bad" = 0 ]
	# ZONE_NORMAL is filled with tmpfs pages (movable), so that what the
	# kernel allocates from now on comes from ZONE_DMA32.  A DIMM block
	# offlined (its tmpfs pages migrate) and onlined again is empty, the
	# only free memory of ZONE_NORMAL: the reserve grows into it.  What
	# the kernel allocates while it grows may land there too, and then
	# the block cannot go offline whatever labyrinth does: the next block,
	# last first, is tried.
	check normal_zone_filled_with_tmpfs memory_fill \
		$(($(memory_normal_free_kib) + 16384))
	for m in $(echo "$blocks" | sort -r); do
		res=$(memory_try_block "$m")
		rel=${res% *}
		how=${res#* }
		tries=$((tries + 1))
		echo "  ${m##*/}: $how, $rel pooled pages released for the offline"
		[ "$how" = hung ] && hung=$((hung + 1))
		[ "$how" = offline ] && [ "$rel" -gt 0 ] && { done=1; break; }
	done
	check no_memory_offline_waits_for_pooled_pages [ "$hung" = 0 ]
	if [ "$done" = 1 ]; then
		pass block_holding_pooled_pages_goes_offline
	else
		fail block_holding_pooled_pages_goes_offline \
			"none of $tries blocks went offline with pooled pages released"
	fi
	memory_unfill
	# A block that could not be emptied left the reserve at 128.
	set_param pages_per_cpu 16384
	lab_reserve_settle
	check pools_refilled_after_memory_offline levels_are 16384
	unload_balanced after_memory_offline
}

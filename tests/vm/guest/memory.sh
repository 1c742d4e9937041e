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

	for m in $MEMORY_SYS/memory[0-9]*; do
		[ "$(cat "$m/state")" = offline ] && echo "$m"
	done
}

# memory_fill KIB: KIB KiB of tmpfs pages in /tmp/memfill.
memory_fill() {
	mkdir -p /tmp/memfill &&
		mount -t tmpfs -o size="$1"k memfill /tmp/memfill &&
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

test_memory_offline() {
	local blocks m last bad=0 t0 rel0 rel

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
	check memory_offline_reserve_loads insmod "$ko"
	for m in $blocks; do
		echo online_kernel > "$m/state" || bad=$((bad + 1))
		last=$m
	done
	check dimm_blocks_online_to_normal_zone [ "$bad" = 0 ]
	# ZONE_NORMAL is filled with tmpfs pages (movable), so that what the
	# kernel allocates from now on comes from ZONE_DMA32.  The last DIMM
	# block is offlined (its tmpfs pages migrate) and onlined again:
	# empty, the only free memory of ZONE_NORMAL, it is where the reserve
	# grows.
	check normal_zone_filled_with_tmpfs memory_fill \
		$(($(memory_normal_free_kib) + 16384))
	check last_dimm_block_emptied sh -c \
		"echo offline > $last/state && echo online_kernel > $last/state"
	check memory_offline_reserve_grows set_param pages_per_cpu 16384
	t0=$(cut -d. -f1 /proc/uptime)
	rel0=$(labstat offline_released)
	if timeout $MEMORY_OFFLINE_WAIT sh -c "echo offline > $last/state"; then
		pass block_holding_pooled_pages_goes_offline
	elif [ $(($(cut -d. -f1 /proc/uptime) - t0)) -ge $MEMORY_OFFLINE_WAIT ]; then
		fail block_holding_pooled_pages_goes_offline \
			"still waiting after $MEMORY_OFFLINE_WAIT s"
	else
		fail block_holding_pooled_pages_goes_offline "write failed"
	fi
	rel=$(($(labstat offline_released) - rel0))
	echo "  ${last##*/}: $rel pooled pages released for the offline"
	check offline_released_pooled_pages [ "$rel" -gt 0 ]
	memory_unfill
	lab_reserve_settle
	check pools_refilled_after_memory_offline levels_are 16384
	unload_balanced after_memory_offline
}

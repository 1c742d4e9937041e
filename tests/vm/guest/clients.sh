# SPDX-License-Identifier: GPL-2.0
#
# The network clients' experiment (make clients; a short version in make
# check).  The guest has three NICs whose backends are UDP sockets on the
# host's loopback: an e1000 (jumbo receive path), a virtio-net in
# big-packet mode (mrg_rxbuf=off, host_mtu=9000) and one with mergeable
# buffers.  For each, in rounds, three arms in turn under the same
# traffic and the same pressure:
#
#   stock     the kernel's own driver;
#   minfree   the same with vm.min_free_kbytes raised by the memory
#             labyrinth reserves in the third arm;
#   labyrinth the patched driver (clients/) with labyrinth loaded.
#
# The cases:
#
#   inject    control: fail_page_alloc fails every page allocation made by
#             the driver's receive refill function, and nothing else (its
#             stack filter; not on Debian's kernel, which has no fault
#             injection);
#   atomic    the same, but only allocations that may not sleep fail;
#   rival     labyrinth_pressure.ko holds free memory at the min watermark
#             and an hrtimer takes GFP_ATOMIC pages at a fixed rate and
#             holds each a while: other atomic users competing for the
#             headroom below the watermark;
#   stall     free memory held at the min watermark, no competing user,
#             and the receiver stops reading for a while (NET_STALL_MS)
#             once the round started: its socket queue holds the frames'
#             pages, which come from the same headroom.
#
# lab-netrx starts the pressure, asks the host's sender for a round of
# numbered frames, counts them and stops the pressure.  Each round prints
# one LAB-NET line (console and results port) that the host turns into
# reports/clients.md.  Every page labyrinth served must have been handed
# on (none in use, the unload line balanced); the short version also
# checks that the injection made the stock driver lose frames and
# labyrinth's not.
#
# Kernel command line: labnet=short (make check: one round of each arm,
# case inject only) or full (make clients: three rounds, every case);
# labnet_cases (a comma-separated list) and labnet_rounds narrow a run
# down, labnet_count, labnet_rate, labnet_size, labnet_pages,
# labnet_rival_rate, labnet_rival_hold, labnet_stall_ms and
# labnet_min_free (the stock min_free_kbytes) change the figures below.

NET=$LAB_KO/net
NET_COUNT=${labnet_count:-4000}
NET_RATE=${labnet_rate:-1000}
NET_SIZE=${labnet_size:-3000}
NET_PAGES=${labnet_pages:-1024}
NET_RIVAL_RATE=${labnet_rival_rate:-16000}
NET_RIVAL_HOLD=${labnet_rival_hold:-250}
NET_STALL_MS=${labnet_stall_ms:-4000}
NET_MIN_FREE=${labnet_min_free:-4096}

# iface_of MAC: the interface with that address, or nothing.
iface_of() {
	for a in /sys/class/net/*/address; do
		[ "$(cat "$a")" = "$1" ] && basename "$(dirname "$a")"
	done
}

# wmark_min: the min watermarks of every zone, in pages.
wmark_min() {
	awk '$1 == "min" { n += $2 } END { print n }' /proc/zoneinfo
}

# The module NAME of ARM (stock or patched): insmod, once its dependencies
# (net/deps/order, loaded once for the whole boot) are.
net_load() {
	if [ "$2" = patched ]; then
		insmod "$NET/$2/$1.ko" labyrinth_pages="$NET_PAGES"
	else
		insmod "$NET/$2/$1.ko"
	fi
}

# Count of the kernel's allocation-failure warnings so far.
alloc_warnings() {
	dmesg | grep -c 'page allocation failure' || true
}

# The probe's event is enabled for its hit count, with task names off:
# recording them patches the scheduler's tracepoints, and on Debian's 6.1
# under emulation text_poke_bp() then waited for ever for a CPU held in
# one of them.
refill_probe_on() {
	echo 0 > /sys/kernel/tracing/options/record-cmd
	echo 'p:labnet/refill virtio_net:refill_work' >> /sys/kernel/tracing/kprobe_events &&
		echo 1 > /sys/kernel/tracing/events/labnet/refill/enable
}

refill_probe_off() {
	echo 0 > /sys/kernel/tracing/events/labnet/refill/enable 2>/dev/null
	echo '-:labnet/refill' >> /sys/kernel/tracing/kprobe_events 2>/dev/null
	true
}

refill_runs() {
	awk '$1 == "refill" { print $2 }' /sys/kernel/tracing/kprobe_profile 2>/dev/null |
		grep . || echo 0
}

# refill_fn DRIVER: the function that refills DRIVER's receive ring.
refill_fn() {
	if [ "$1" = e1000 ]; then
		echo e1000_alloc_jumbo_rx_buffers
	else
		echo try_fill_recv
	fi
}

# inject_on DRIVER CASE: fail_page_alloc fails every page allocation made
# with DRIVER's refill function on the stack, and nothing else (its stack
# filter, on that function's text): in case "inject" all of them, in case
# "atomic" only those that may not sleep (virtio_net's refill_work is then
# served, as reclaim would serve it).
inject_on() {
	local fn range wait=N

	fn=$(refill_fn "$1")
	range=$(sort /proc/kallsyms | awk -v fn="$fn" '
		found { print "0x" start, "0x" $1; exit }
		$3 == fn { start = $1; found = 1 }')
	[ -n "$range" ] || return 1
	[ "$2" = atomic ] && wait=Y
	fpa_set task-filter=N ignore-gfp-wait=$wait ignore-gfp-highmem=N \
		stacktrace-depth=32 require-start="${range% *}" \
		require-end="${range#* }" min-order=0 verbose=0 times=-1 \
		interval=1 space=0 probability=100
}

inject_off() {
	fpa_set probability=0 require-start=0 require-end=0
}

# pressure_load CASE: labyrinth_pressure, for CASE; lab-netrx runs it.
pressure_load() {
	if [ "$1" = rival ]; then
		insmod "$LAB_KO/labyrinth_pressure.ko" \
			compete_rate="$NET_RIVAL_RATE" compete_hold_ms="$NET_RIVAL_HOLD"
	else
		insmod "$LAB_KO/labyrinth_pressure.ko"
	fi
}

# net_round DRIVER NIC CASE ARM ROUND: one round; prints its LAB-NET line.
# Whatever fails, the driver, labyrinth and min_free_kbytes are restored.
net_round() {
	local drv=$1 nic=$2 case=$3 arm=$4 round=$5 mod=stock if res rc=0 stall
	local minfree0 warn0 st drv_stats lab='' inuse line

	minfree0=$(cat /proc/sys/vm/min_free_kbytes)
	case $arm in
	labyrinth)
		mod=patched
		# The driver uses a reserve of its own: the default one, unused,
		# is kept to a page per CPU so that the arms compare the same
		# memory.
		insmod "$LAB_KO/labyrinth.ko" pages_per_cpu=1 low_watermark=1 ||
			return 1
		;;
	minfree)
		echo $((minfree0 + NET_PAGES * $(nproc) * 4)) > /proc/sys/vm/min_free_kbytes
		;;
	esac
	# A round's warnings are counted in a log emptied before it: a
	# warning and its memory summary are some fifty lines.
	dmesg -c > /dev/null
	if net_load "$drv" "$mod"; then
		if=$(iface_of "$nic")
		ip link set dev "$if" mtu 9000 up
		[ "$drv" = virtio_net ] && refill_probe_on
		sleep 2
		warn0=$(alloc_warnings)
		if [ "$case" = inject ] || [ "$case" = atomic ]; then
			inject_on "$drv" "$case" || rc=1
			res=$("$LAB_KO/lab-netrx" "$if" "$round" "$NET_COUNT" \
				"$NET_RATE" "$NET_SIZE") || rc=1
			inject_off
		else
			pressure_load "$case" || rc=1
			stall=0
			[ "$case" = stall ] && stall=$NET_STALL_MS
			res=$("$LAB_KO/lab-netrx" "$if" "$round" "$NET_COUNT" \
				"$NET_RATE" "$NET_SIZE" \
				/sys/kernel/debug/labyrinth_pressure "$stall") || rc=1
			rmmod labyrinth_pressure || rc=1
		fi
		st=/sys/class/net/$if/statistics
		if [ "$drv" = e1000 ]; then
			drv_stats=$("$LAB_KO/lab-ethstat" "$if" alloc_rx_buff_failed \
				alloc_rx_labyrinth rx_missed_errors rx_no_buffer_count |
				tr ' ' = | paste -sd ' ')
		else
			# 6.12 names them rx0_*, 6.1 rx_queue_0_*.
			drv_stats=$("$LAB_KO/lab-ethstat" "$if" rx0_drops \
				rx_queue_0_drops rx0_labyrinth_pages \
				rx_queue_0_labyrinth_pages | awk '
				{ v[$1] = $2 }
				END { printf "rx_queue_drops=%d rx_labyrinth_pages=%d",
					v["rx0_drops"] + v["rx_queue_0_drops"],
					v["rx0_labyrinth_pages"] + v["rx_queue_0_labyrinth_pages"] }')
			drv_stats="refill_runs=$(refill_runs) $drv_stats"
			refill_probe_off
		fi
		if [ "$arm" = labyrinth ]; then
			# The driver's own reserve, named after it.
			lab="lab_served=$(rstat "$drv" served_local) lab_stolen=$(rstat "$drv" stolen) lab_fallback=$(rstat "$drv" fallback) lab_failed=$(rstat "$drv" failed) handed_on=$(rstat "$drv" handed_on)"
			inuse=$(rstat "$drv" pages_in_use)
		fi
		# A round lab-netrx could not run is in the report as one.
		[ -n "$res" ] || res="round=$round error=1"
		line="LAB-NET kernel=$(uname -r) driver=$drv nic=$nic case=$case arm=$arm ${res#netrx } rx_packets=$(cat "$st/rx_packets") rx_dropped=$(cat "$st/rx_dropped") $drv_stats warnings=$(($(alloc_warnings) - warn0)) min_free_kbytes=$(cat /proc/sys/vm/min_free_kbytes) wmark_min=$(wmark_min) frame_rate=$NET_RATE frame_size=$NET_SIZE lab_pages=$NET_PAGES rival_rate=$NET_RIVAL_RATE rival_hold_ms=$NET_RIVAL_HOLD stall_ms=$NET_STALL_MS $lab"
		echo "$line"
		echo "$line" > "$LAB_RESULTS"
		echo "$line" >> /tmp/lab-net.lines
		ip link set dev "$if" down
		dmesg -c > /dev/null
		rmmod "$drv" || rc=1
	else
		rc=1
	fi
	echo "$minfree0" > /proc/sys/vm/min_free_kbytes
	if [ "$arm" = labyrinth ]; then
		# Every page the driver took from its reserve was handed on:
		# none was in use once the round ended, and the reserve's
		# destroy line, when the driver unloaded, balances.
		echo "LAB-NET-LEAK driver=$drv nic=$nic case=$case round=$round in_use=$inuse destroy='$(dmesg | grep "labyrinth: reserve $drv destroyed")'" > "$LAB_RESULTS"
		if [ "$inuse" = 0 ]; then
			pass "net_no_page_in_use_after_round_$round"
		else
			fail "net_no_page_in_use_after_round_$round" "pages_in_use $inuse"
			rc=1
		fi
		destroy_reported_balanced "$drv" "net_round_$round" || rc=1
		unload_balanced "net_round_$round"
	fi
	return $rc
}

test_clients() {
	runs=${labnet:-short}
	if [ ! -d "$NET" ]; then
		fail net_modules_present "no $NET"
		return
	fi
	# The min watermark is what min_free_kbytes sets, not raised for a
	# while after a fragmentation event: the arms compare like with like.
	echo 0 > /proc/sys/vm/watermark_boost_factor
	# The same min watermark on both kernels: Debian's, which has
	# transparent huge pages, raises min_free_kbytes for them about
	# tenfold, and its headroom would need another competitor.
	echo "$NET_MIN_FREE" > /proc/sys/vm/min_free_kbytes
	while read -r m; do
		insmod "$NET/deps/$m.ko" || { fail net_deps_load "insmod $m"; return; }
	done < "$NET/deps/order"
	e1000=52:54:00:4c:00:01 big=52:54:00:4c:00:02 mrg=52:54:00:4c:00:03
	# The control case needs fail_page_alloc's stack filter, which
	# Debian's kernel does not have.
	inject=
	[ -f /sys/kernel/debug/fail_page_alloc/require-start ] && inject=inject
	rounds=1 cases=$inject
	[ "$runs" = full ] && rounds=3 cases="$inject${inject:+ atomic} rival stall"
	rounds=${labnet_rounds:-$rounds}
	[ -z "${labnet_cases:-}" ] || cases=$(echo "$labnet_cases" | tr , " ")
	if [ -z "$cases" ]; then
		skip net_rounds_ran "no fail_page_alloc stack filter for the short version"
		return
	fi
	for c in $cases; do
		for r in $(seq "$rounds"); do
			for dev in e1000:$e1000 virtio_net:$big virtio_net:$mrg; do
				for a in stock minfree labyrinth; do
					id=$((id + 1))
					net_round "${dev%%:*}" "${dev#*:}" "$c" "$a" "$id" ||
						fail "net_round_$id" "${dev%%:*} $c $a round $r"
				done
			done
		done
	done
	pass net_rounds_ran
	[ "$runs" = short ] && net_verdicts
}

# field_of LINE NAME: NAME's value in a LAB-NET line.
field_of() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The short version's verdicts, per NIC, on the "inject" rounds: the stock
# driver lost at least a tenth of the frames (the injection reached it),
# labyrinth's at most 1 % of them.  With only the driver's allocations
# failing, every page it asks for comes from the reserve, which its worker
# refills meanwhile: any loss is the emulated path's, not the driver's (the
# host socket dropping frames while QEMU did not run, say).
net_verdicts() {
	local nic stock lab sent ls ll

	for nic in 01 02 03; do
		stock=$(grep "nic=52:54:00:4c:00:$nic case=inject arm=stock " /tmp/lab-net.lines)
		lab=$(grep "nic=52:54:00:4c:00:$nic case=inject arm=labyrinth " /tmp/lab-net.lines)
		sent=$(field_of "$stock" sent)
		ls=$(field_of "$stock" lost)
		ll=$(field_of "$lab" lost)
		if [ -n "$ls" ] && [ $((ls * 10)) -ge "${sent:-1}" ]; then
			pass "net_stock_loses_frames_$nic"
		else
			fail "net_stock_loses_frames_$nic" "stock lost '$ls' of '$sent'"
		fi
		if [ -n "$ll" ] && [ $((ll * 100)) -le "${sent:-0}" ]; then
			pass "net_labyrinth_keeps_frames_$nic"
		else
			fail "net_labyrinth_keeps_frames_$nic" "labyrinth lost '$ll' of '$sent'"
		fi
	done
}

id=0

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
# The pressure (labyrinth_pressure.ko) holds free memory at the min
# watermark; in the "rival" case an hrtimer also takes GFP_ATOMIC pages at
# a fixed rate and holds each a while, in the "hog" case not.  lab-netrx
# starts the pressure, asks the host's sender for a round of numbered
# frames, counts them and stops the pressure.
# Each round prints one LAB-NET line (console and results port) that the
# host turns into reports/clients.md; the tests below check that pressure
# was applied, that the labyrinth arm lost fewer frames, and that nothing
# leaked.
#
# Kernel command line: labnet=short (check: one round of each arm, rival
# case only) or full (make clients).

NET=$LAB_KO/net
NET_COUNT=${labnet_count:-4000}
NET_RATE=${labnet_rate:-1000}
NET_SIZE=${labnet_size:-3000}
NET_PAGES=${labnet_pages:-1024}
NET_RIVAL_RATE=${labnet_rival_rate:-4000}
NET_RIVAL_HOLD=${labnet_rival_hold:-250}

# iface_of MAC: the interface with that address, or nothing.
iface_of() {
	for a in /sys/class/net/*/address; do
		[ "$(cat "$a")" = "$1" ] && basename "$(dirname "$a")"
	done
}

# The module NAME of ARM (stock or patched): insmod, once its dependencies
# (net/deps/order, loaded once for the whole boot) are.
net_load() {
	insmod "$NET/$2/$1.ko"
}

# Count of the kernel's allocation-failure warnings so far.
alloc_warnings() {
	dmesg | grep -c 'page allocation failure' || true
}

refill_probe_on() {
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
	local drv=$1 nic=$2 case=$3 arm=$4 round=$5 mod=stock if res rc=0
	local minfree0 warn0 st drv_stats lab= inuse line

	minfree0=$(cat /proc/sys/vm/min_free_kbytes)
	case $arm in
	labyrinth)
		mod=patched
		insmod "$LAB_KO/labyrinth.ko" pages_per_cpu="$NET_PAGES" || return 1
		;;
	minfree)
		echo $((minfree0 + NET_PAGES * $(nproc) * 4)) > /proc/sys/vm/min_free_kbytes
		;;
	esac
	if net_load "$drv" "$mod"; then
		if=$(iface_of "$nic")
		ip link set dev "$if" mtu 9000 up
		[ "$drv" = virtio_net ] && refill_probe_on
		sleep 2
		warn0=$(alloc_warnings)
		pressure_load "$case" || rc=1
		res=$("$LAB_KO/lab-netrx" "$if" "$round" "$NET_COUNT" "$NET_RATE" \
			"$NET_SIZE" /sys/kernel/debug/labyrinth_pressure) || rc=1
		rmmod labyrinth_pressure || rc=1
		st=/sys/class/net/$if/statistics
		if [ "$drv" = e1000 ]; then
			drv_stats=$("$LAB_KO/lab-ethstat" "$if" alloc_rx_buff_failed \
				alloc_rx_labyrinth rx_missed_errors rx_no_buffer_count |
				tr ' ' = | paste -sd ' ')
		else
			drv_stats="refill_runs=$(refill_runs) $("$LAB_KO/lab-ethstat" "$if" \
				rx_queue_0_drops rx_queue_0_labyrinth_pages |
				tr ' ' = | paste -sd ' ')"
			refill_probe_off
		fi
		[ "$arm" = labyrinth ] &&
			lab="lab_served=$(labstat served_local) lab_stolen=$(labstat stolen) lab_fallback=$(labstat fallback) lab_failed=$(labstat failed) handed_on=$(labstat handed_on)"
		line="LAB-NET kernel=$(uname -r) driver=$drv nic=$nic case=$case arm=$arm ${res#netrx } rx_packets=$(cat "$st/rx_packets") rx_dropped=$(cat "$st/rx_dropped") $drv_stats warnings=$(($(alloc_warnings) - warn0)) min_free_kbytes=$(cat /proc/sys/vm/min_free_kbytes) $lab"
		echo "$line"
		echo "$line" > "$LAB_RESULTS"
		ip link set dev "$if" down
		rmmod "$drv" || rc=1
	else
		rc=1
	fi
	echo "$minfree0" > /proc/sys/vm/min_free_kbytes
	if [ "$arm" = labyrinth ]; then
		# Every page the driver took was handed on and freed with it.
		inuse=$(labstat pages_in_use)
		dmesg -c > /dev/null
		rmmod labyrinth || rc=1
		echo "LAB-NET-LEAK driver=$drv nic=$nic case=$case round=$round in_use=$inuse unload='$(dmesg | grep 'labyrinth: unloaded:')'" > "$LAB_RESULTS"
		[ "$inuse" = 0 ] || rc=1
	fi
	return $rc
}

test_clients() {
	runs=${labnet:-short}
	if [ ! -d "$NET" ]; then
		fail net_modules_present "no $NET"
		return
	fi
	for m in $(cat "$NET/deps/order"); do
		insmod "$NET/deps/$m.ko" || { fail net_deps_load "insmod $m"; return; }
	done
	e1000=52:54:00:4c:00:01 big=52:54:00:4c:00:02 mrg=52:54:00:4c:00:03
	rounds=1 cases=rival
	[ "$runs" = full ] && rounds=3 cases="rival hog"
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
}

id=0
test_clients

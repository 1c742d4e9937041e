# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Host side of the test VM, sourced by run.sh, whose variables (repo, vm,
# cache, build, timeout_s, ...) it uses and which uses its PKGS_*.
# shellcheck disable=SC2034,SC2154

# The tools each command runs, installed if missing.  The kernels are not
# among them: see distro_kernel and kernel/build.sh.
PKGS_DEMO=(qemu-system-x86 busybox-static build-essential cpio kmod rsync
	   python3 linux-source-6.12 xz-utils)
PKGS_CHECK=("${PKGS_DEMO[@]}" bc bison flex libelf-dev libssl-dev ccache
	    sparse dwarves dkms coccinelle ocaml-nox openssl shellcheck)

# Console lines that fail a run, whatever the tests said.
REPORTS='BUG:|WARNING:|Oops|Kernel panic|KASAN|UBSAN|possible circular|inconsistent lock state|sleeping function called|Invalid wait context|general protection|detected stalls?|self-detected stall|blocked for more than|soft lockup|workqueue lockup|ODEBUG|Bad page|Call Trace:'

ensure_packages() {
	local p missing=()

	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (run as root): ${missing[*]}"
	say "installing Debian packages: ${missing[*]}"
	if ! apt-get update -qq > "$cache/apt.log" 2>&1 ||
	   ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >> "$cache/apt.log" 2>&1; then
		tail -n 20 "$cache/apt.log"
		die "apt-get install failed (log: $cache/apt.log)"
	fi
}

# host_state: what a run must leave as it found it: the kernel packages,
# DKMS's modules, and every file under /lib/modules, /usr/src and
# /var/lib/dkms with its size and modification time.
host_state() {
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' \
		'linux-image*' 'linux-headers*' 2>/dev/null | sort
	if command -v dkms > /dev/null; then
		echo "dkms status:"
		dkms status 2>&1 | sort
	fi
	find /lib/modules /usr/src /var/lib/dkms -printf '%p %y %s %T@\n' \
		2>/dev/null | sort
}

# host_unchanged BEFORE: a test that the host's kernels, modules and
# DKMS state are what host_state wrote to BEFORE.
host_unchanged() {
	host_state > "$1.after"
	if diff -u "$1" "$1.after" > "$1.diff"; then
		ok
	else
		head -n 20 "$1.diff" | sed 's/^/    /'
		not_ok "host: kernel packages, /lib/modules, /usr/src and DKMS as the run found them (difference: $1.diff)"
	fi
}

# kunit.py of the 6.12 sources, which parses every KTAP document: from a
# test kernel's tree when there is one, else unpacked alone from Debian's
# tarball (make demo builds no kernel).  Sets KUNIT_PY.
kunit_tool() {
	local debver dir

	if [ -n "${1:-}" ]; then
		KUNIT_PY=$1/source/tools/testing/kunit/kunit.py
		return 0
	fi
	debver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	dir=$cache/kunit-tool-$debver
	if [ ! -f "$dir/tools/testing/kunit/kunit.py" ]; then
		say "unpacking kunit.py from linux-source-6.12"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -C "$dir.tmp" -xf /usr/src/linux-source-6.12.tar.xz \
			--strip-components=1 --wildcards '*/tools/testing/kunit/*'
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	KUNIT_PY=$dir/tools/testing/kunit/kunit.py
}

# distro_kernel [rt]: the Debian kernel that linux-image-amd64 (or its
# PREEMPT_RT twin, linux-image-rt-amd64) depends on, with its headers,
# unpacked under the cache with dpkg-deb -x: nothing is installed on the
# host.  Sets DISTRO_VER (the release, 6.1.0-N-amd64), DISTRO_DEBVER (the
# packages' version), DISTRO_KDIR (the headers' build tree), DISTRO_MODS
# (its lib/modules/VER) and DISTRO_IMAGE.
distro_kernel() {
	local meta=linux-image-amd64 what="Debian kernel" ver debver root p
	local pkgs debs=$cache/deb

	if [ "${1:-}" = rt ]; then
		meta=linux-image-rt-amd64 what="Debian PREEMPT_RT kernel"
	fi
	ver=$(debian_depends "$meta" 'linux-image-[0-9]')
	ver=${ver#linux-image-}
	[ -n "$ver" ] || die "no $meta in the package lists"
	debver=$(apt-cache show --no-all-versions "linux-image-$ver" |
		 sed -n 's/^Version: //p')
	root=$cache/debian-kernel-$ver-$debver
	if [ ! -f "$root/.unpacked" ]; then
		say "unpacking $what $ver ($debver) under $root"
		# The headers come in two parts, and need the kbuild tools.
		pkgs=("linux-image-$ver" "linux-headers-$ver")
		mapfile -t -O 2 pkgs < <(debian_depends "linux-headers-$ver" \
			'linux-(headers|kbuild)-')
		mkdir -p "$debs"
		(cd "$debs" && apt-get -qq download "${pkgs[@]/%/=$debver}") \
			>> "$cache/apt.log" 2>&1 ||
			die "apt-get download ${pkgs[*]} ($debver) failed (log: $cache/apt.log)"
		rm -rf "$root"
		for p in "${pkgs[@]}"; do
			dpkg-deb -x "$debs/${p}_${debver}_"*.deb "$root" ||
				die "dpkg-deb -x $p failed"
		done
		# The build tree includes its common part by absolute path.
		sed -i "s|^include /usr/src/|include $root/usr/src/|" \
			"$root/usr/src/linux-headers-$ver/Makefile"
		touch "$root/.unpacked"
	fi
	DISTRO_VER=$ver
	DISTRO_DEBVER=$debver
	DISTRO_KDIR=$root/usr/src/linux-headers-$ver
	DISTRO_MODS=$root/lib/modules/$ver
	DISTRO_IMAGE=$root/boot/vmlinuz-$ver
	[ -r "$DISTRO_IMAGE" ] || die "no $DISTRO_IMAGE in linux-image-$ver"
	export DISTRO_DEBVER
	say "$what $ver ($debver, unpacked in the cache)"
}

# debian_depends PACKAGE PATTERN: the packages PACKAGE depends on whose
# names match PATTERN (an extended regular expression), from the package
# lists, which are fetched once if they have none of it.
debian_depends() {
	local deps

	deps=$(apt-cache depends "$1" 2>/dev/null) ||
		{ apt-get update -qq >> "$cache/apt.log" 2>&1 &&
		  deps=$(apt-cache depends "$1"); } ||
		die "apt-cache depends $1 failed"
	sed -n 's/^  Depends: //p' <<< "$deps" | grep -E "^($2)" || true
}

# build_modules NAME KDIR: labyrinth.ko and tests/*.ko in $build/NAME.  A
# build that fails is the code's failure, not the harness's: the run ends
# there, failed, naming the build's log.
BUILT_MODULES=()
build_modules() {
	local name=$1 kdir=$2 dir=$build/$1

	BUILT_MODULES+=("$name")
	say "building labyrinth and the test modules for $name"
	mkdir -p "$dir"
	rsync -a --delete --exclude .git --exclude build --exclude '.ci' \
		"$repo/" "$dir/src/"
	if ! make -s -C "$dir/src" KDIR="$kdir" W=1 tests > "$dir/build.log" 2>&1; then
		tail -n 40 "$dir/build.log"
		not_ok "$name: labyrinth and the test modules build"
		FAILED_BOOTS+=("build $name: $dir/build.log")
		verdict || true
		tests_failed=1
		exit 1
	fi
	if grep -E 'warning:|error:' "$dir/build.log"; then
		not_ok "$name: modules build without warnings"
	else
		ok
	fi
}

# net_modules NAME KDIR VERSION MODS [LAB]: the network clients' drivers
# for NAME's initramfs, in $build/NAME/net: patched/ (clients/build.sh,
# from Debian's linux-source-VERSION, against KDIR and the labyrinth that
# build_modules built for LAB, by default NAME), stock/ (the kernel's own
# e1000.ko and virtio_net.ko, found under MODS) and deps/ with the modules
# they need, their load order in deps/order.
net_modules() {
	local name=$1 kdir=$2 version=$3 mods=$4 lab=${5:-$1} dir=$build/$1/net m f

	say "building the patched e1000 and virtio_net for $name (linux-source-$version)"
	rm -rf "$dir" "$build/$name/net-build"
	mkdir -p "$dir/stock" "$dir/patched" "$dir/deps"
	if "$repo/clients/build.sh" "$version" "$kdir" "$build/$lab/src" \
		"$build/$name/net-build"; then
		ok
	else
		not_ok "$name: the client patches apply and build W=1-clean"
		return
	fi
	NET_ORDER=()
	for m in e1000 virtio_net; do
		cp "$build/$name/net-build/$m/$m.ko" "$dir/patched/"
		f=$(find "$mods" -name "$m.ko" | head -n 1)
		[ -n "$f" ] || die "no $m.ko under $mods"
		cp "$f" "$dir/stock/"
		net_deps "$mods" "$f"
	done
	# The virtio PCI transport, where it is a module: no driver needs it.
	f=$(find "$mods" -name virtio_pci.ko | head -n 1)
	[ -z "$f" ] || net_deps "$mods" "$f" virtio_pci
	printf '%s\n' "${NET_ORDER[@]}" > "$dir/deps/order"
}

# net_deps MODS KO [SELF]: append to NET_ORDER, dependencies first, the
# modules KO depends on (and KO itself as SELF), copying them to deps/.
net_deps() {
	local mods=$1 ko=$2 self=${3:-} d f

	for d in $(modinfo -F depends "$ko" | tr , ' '); do
		[[ " ${NET_ORDER[*]} " == *" $d "* ]] && continue
		f=$(find "$mods" -name "$d.ko" | head -n 1)
		[ -n "$f" ] || continue
		net_deps "$mods" "$f" "$d"
	done
	if [ -n "$self" ] && [[ " ${NET_ORDER[*]} " != *" $self "* ]]; then
		cp "$ko" "$dir/deps/"
		NET_ORDER+=("$self")
	fi
}

# net_start DIR MODE: one sender (clients/sender.py) per NIC, on free
# ports of 127.0.0.1; sets NET_QEMU to the QEMU arguments of the three
# NICs and NET_PIDS.  net_stop ends the senders.
net_start() {
	local dir=$1 mode=$2 ports i nic
	local devs=("e1000,mac=52:54:00:4c:00:01"
		    "virtio-net-pci,mac=52:54:00:4c:00:02,mrg_rxbuf=off,host_mtu=9000"
		    "virtio-net-pci,mac=52:54:00:4c:00:03,host_mtu=9000")

	read -r -a ports <<< "$(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
	NET_QEMU=() NET_PIDS=()
	for i in 0 1 2; do
		nic=n$i
		rm -f "$dir/$mode.sender-$i.log"
		python3 "$repo/clients/sender.py" "${ports[$((2 * i))]}" \
			"${ports[$((2 * i + 1))]}" "$dir/$mode.sender-$i.log" \
			--idle "$timeout_s" 9>&- &
		NET_PIDS+=($!)
		NET_QEMU+=(-netdev "socket,id=$nic,udp=127.0.0.1:${ports[$((2 * i))]},localaddr=127.0.0.1:${ports[$((2 * i + 1))]}"
			   -device "${devs[$i]},netdev=$nic")
	done
}

net_stop() {
	kill "${NET_PIDS[@]}" 2>/dev/null || true
	wait "${NET_PIDS[@]}" 2>/dev/null || true
	NET_PIDS=()
}

# The busybox part of the initramfs, cached; it never changes.  Sets
# BASE_CPIO.
base_cpio() {
	local stage

	BASE_CPIO=$cache/initramfs-base.cpio
	[ -f "$BASE_CPIO" ] && return 0
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,lab,etc}
	cp /bin/busybox "$stage/bin/busybox"
	mknod -m 600 "$stage/dev/console" c 5 1
	mknod -m 666 "$stage/dev/null" c 1 3
	(cd "$stage" && find . | cpio -o -H newc --quiet) > "$BASE_CPIO.tmp"
	mv "$BASE_CPIO.tmp" "$BASE_CPIO"
	rm -rf "$stage"
}

# make_initramfs NAME: base + /init, guest scripts and NAME's modules.
make_initramfs() {
	local name=$1 dir=$build/$1 stage c

	base_cpio
	stage=$dir/initramfs
	rm -rf "$stage"
	mkdir -p "$stage/lab"
	install -m 755 "$vm/guest/init" "$stage/init"
	cp "$vm"/guest/*.sh "$vm"/guest/*.plan "$stage/lab/"
	for c in "$vm"/lab-*.c; do
		gcc -static -O2 -Wall -Werror -o "$stage/lab/$(basename "$c" .c)" "$c"
	done
	find "$dir/src" -name '*.ko' -exec cp {} "$stage/lab/" \;
	if [ -d "$dir/dkms" ]; then
		cp -r "$dir/dkms" "$stage/lab/dkms"
	fi
	if [ -d "$dir/net" ]; then
		cp -r "$dir/net" "$stage/lab/net"
	fi
	(cd "$stage" && find . | cpio -o -H newc --quiet) > "$dir/lab.cpio"
	cat "$BASE_CPIO" "$dir/lab.cpio" > "$dir/initramfs.cpio"
}

# host_watch FILE: look at the host's own clock every second, until killed
# or this shell exits, and write to FILE every gap of over 10 s between two
# looks: a time when the host itself did not run (its machine was paused,
# say).  QEMU's guest clock jumps by as much, and the guest's soft-lockup,
# RCU-stall and workqueue detectors report the jump as a stall of its own.
host_watch() {
	local file=$1 parent=$$ prev now

	read -r prev _ < /proc/uptime
	while kill -0 "$parent" 2>/dev/null && sleep 1; do
		read -r now _ < /proc/uptime
		# centiseconds: /proc/uptime has two decimals
		if [ $((10#${now/./} - 10#${prev/./})) -gt 1000 ]; then
			printf '%s s (host uptime %s)\n' \
				$(((10#${now/./} - 10#${prev/./}) / 100)) "$now" >> "$file"
		fi
		prev=$now
	done
}

# boot LABEL NAME IMAGE MODE [interactive|show|quiet]: boot IMAGE with
# NAME's initramfs; the console and results go to $build/LABEL.  Boot
# arguments beyond the fixed ones come from LAB_APPEND, the -smp argument
# from LAB_SMP (default 2).  With LAB_NUMA set, the guest has two memory
# nodes of 512 MiB, CPU 0 on node 0 and CPU 1 on node 1.  With LAB_DIMM
# set, it also has a hot-pluggable DIMM of 512 MiB (memory.sh offlines it).
boot() {
	local label=$1 name=$2 image=$3 mode=$4 how=${5:-quiet}
	local dir=$build/$1 smp=${LAB_SMP:-2} watch
	local append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 labmode=$mode"

	[ -z "${LAB_TEST:-}" ] || append+=" labtest=$LAB_TEST"

	# A socket per node: CPUs that share a cache on different nodes
	# make the scheduler warn.
	[ -n "${LAB_NUMA:-}" ] && smp=2,sockets=2,cores=1,threads=1
	# shellcheck disable=SC2054 # -smp and -m take comma-separated options
	local qemu=(qemu-system-x86_64 -nodefaults -nographic -no-reboot
		    -machine q35 -accel tcg -cpu max -smp "$smp" -m 1G
		    -kernel "$image" -initrd "$build/$name/initramfs.cpio")

	append+=" ${LAB_APPEND:-}"
	if [ -n "${LAB_NUMA:-}" ]; then
		# shellcheck disable=SC2054 # QEMU's options are comma-separated
		qemu+=(-object memory-backend-ram,id=mem0,size=512M
		       -numa node,nodeid=0,cpus=0,memdev=mem0
		       -object memory-backend-ram,id=mem1,size=512M
		       -numa node,nodeid=1,cpus=1,memdev=mem1)
	fi
	if [ -n "${LAB_DIMM:-}" ]; then
		# shellcheck disable=SC2054 # QEMU's options are comma-separated
		qemu+=(-m 1G,slots=1,maxmem=2G
		       -object memory-backend-ram,id=dimm0mem,size=512M
		       -device pc-dimm,id=dimm0,memdev=dimm0mem)
	fi
	if [ -n "${LAB_NET:-}" ]; then
		mkdir -p "$dir"
		net_start "$dir" "$mode"
		qemu+=("${NET_QEMU[@]}")
		append+=" labnet=$LAB_NET"
	fi
	if [ "$how" = interactive ]; then
		exec "${qemu[@]}" -append "$append" -serial stdio \
			-serial null
	fi
	mkdir -p "$dir"
	echo "$append" > "$dir/$mode.append"
	say "booting $label ($mode: ${LAB_APPEND:-default arguments}) under QEMU/TCG, -smp $smp, timeout ${timeout_s}s"
	rm -f "$dir/$mode.results" "$dir/$mode.host-stalls"
	local filter='^  (ok|FAIL|SKIP) '
	[ "$how" = show ] && filter='^(==|\$ |  )'
	host_watch "$dir/$mode.host-stalls" &
	watch=$!
	timeout --foreground "$timeout_s" "${qemu[@]}" -append "$append" \
		-serial stdio -serial "file:$dir/$mode.results" < /dev/null |
		tr -d '\r' | tee "$dir/$mode.console" |
		grep --line-buffered -E "$filter" || true
	kill "$watch" 2>/dev/null || true
	wait "$watch" 2>/dev/null || true
	[ -z "${LAB_NET:-}" ] || net_stop
}

# judge_ktap LABEL FILE SKIPS [PLAN]: count one KTAP document with
# kunit.py; skips of tests whose names match the regular expression SKIPS
# are expected; PLAN, a file, names the tests it must hold.
judge_ktap() {
	local label=$1 doc=$2 skips=$3 plan=(${4:+"$4"}) counts p f s why

	python3 "$KUNIT_PY" parse --json="$doc.json" "$doc" > "$doc.kunit" 2>&1 || true
	if [ ! -s "$doc.json" ]; then
		cat "$doc.kunit"
		not_ok "$label: kunit.py parses ${doc##*/}"
		return
	fi
	counts=$(python3 "$vm/host/ktap-count.py" "$doc.json" "$doc.kunit" "$skips" \
		"$doc" "${plan[@]}")
	read -r p f s <<< "$(head -n 1 <<< "$counts")"
	passed=$((passed + p))
	skipped=$((skipped + s))
	failed=$((failed + f))
	while IFS= read -r why; do
		case $why in
		'') ;;
		' '*) printf '  %s\n' "$why" ;;
		*) printf '  FAIL %s: %s\n' "$label" "$why" ;;
		esac
	done < <(tail -n +2 <<< "$counts")
}

# plan_tests MODE: the tests a boot of MODE must report, in order: test_NAME
# for those of tests/vm/guest/MODE.plan (only LAB_TEST if set), then
# final_checks.
plan_tests() {
	sed -e 's/#.*//' "$vm/guest/$1.plan" |
		awk -v t="${LAB_TEST:-}" 'NF == 2 && (t == "" || $2 == t) { print "test_" $2 }'
	echo final_checks
}

# judge LABEL MODE [SKIPS]: count the results of one boot: every KTAP
# document it sent (the guest's against its plan), the marker that it ran
# to the end, its console.
judge() {
	local label=$1 mode=$2 skips=${3:-} dir=$build/$1 res console doc guest=0

	res=$dir/$mode.results
	console=$dir/$mode.console
	touch "$res"
	rm -f "$dir/$mode".ktap-*
	while IFS= read -r doc; do
		# awk reads to the end: an early exit would kill tr with
		# SIGPIPE once what follows the document outgrows a pipe.
		tr -d '\r' < "$res" |
			awk -v want="$doc" '$0 == "LAB-KTAP-BEGIN " want { on = 1; next }
			     on && /^LAB-KTAP-END/ { on = 0 }
			     on { print }' > "$dir/$mode.ktap-$doc"
		if [ "$doc" = "guest-$mode" ]; then
			plan_tests "$mode" > "$dir/$mode.plan"
			judge_ktap "$label" "$dir/$mode.ktap-$doc" "$skips" \
				"$dir/$mode.plan"
			guest=1
		else
			judge_ktap "$label" "$dir/$mode.ktap-$doc" "$skips"
		fi
	done < <(tr -d '\r' < "$res" | sed -n 's/^LAB-KTAP-BEGIN //p')
	if [ "${guest:-0}" = 1 ]; then
		ok
	else
		not_ok "$label: the guest sent its test results (guest-$mode)"
	fi

	if tr -d '\r' < "$res" | grep -q '^LAB-DONE'; then
		ok
	else
		tail -n 40 "$console"
		not_ok "$label: guest ran to the end (no LAB-DONE marker)"
	fi
	if [ -n "${LAB_EXPECT_REPORT:-}" ]; then
		expected_report "$label" "$console" > "$console.rest"
		console=$console.rest
	fi
	if [ -n "${LAB_NET:-}" ]; then
		alloc_warnings < "$console" > "$console.rest"
		console=$console.rest
	fi
	if grep -E "$REPORTS" "$console" > "$dir/$mode.reports"; then
		grep -B 5 -A 30 -m 1 -E "$REPORTS" "$console"
		not_ok "$label: console free of kernel reports"
	else
		ok
	fi
}

# alloc_warnings: the console without the page allocator's warnings of
# failed allocations (warn_alloc(): the failure line, the stack, the memory
# summary up to its "pages reserved" line), which the clients experiment's
# pressure makes the stock drivers and the network stack print by design.
alloc_warnings() {
	awk '/page allocation failure: order:[0-9]+, mode:0x[0-9a-f]+\(/ { skip = 1 }
	     !skip { print }
	     skip && / pages reserved$/ { skip = 0 }'
}

# expected_report LABEL CONSOLE: the console without the one report whose
# first line matches LAB_EXPECT_REPORT, from the "=====" line before it to
# the one after; a failure if there is no such report.
expected_report() {
	local label=$1 console=$2

	if ! grep -qE "$LAB_EXPECT_REPORT" "$console"; then
		not_ok "$label: the expected report ($LAB_EXPECT_REPORT) is on the console" >&2
		cat "$console"
		return
	fi
	ok
	awk -v want="$LAB_EXPECT_REPORT" '
		{ line[NR] = $0 }
		!hit && $0 ~ want { hit = NR }
		END {
			sep = "^\\[ *[0-9.]+\\] =+$"
			for (s = hit; s > 1 && line[s] !~ sep; s--) ;
			for (e = hit; e < NR && line[e] !~ sep; e++) ;
			for (i = 1; i <= NR; i++)
				if (i < s || i > e)
					print line[i]
		}' "$console"
}

# wants LABEL...: whether LAB_BOOTS (make check BOOT=, a comma-separated
# list of boot labels) names one of these boots, or is empty: every boot.
wants() {
	local l

	[ -z "${LAB_BOOTS:-}" ] && return 0
	for l in "$@"; do
		[[ ",$LAB_BOOTS," == *",$l,"* ]] && return 0
	done
	return 1
}

# plan_has MODE TEST: whether MODE's plan declares TEST.
plan_has() {
	sed -e 's/#.*//' "$vm/guest/$1.plan" | awk -v t="$2" '$2 == t { f = 1 } END { exit !f }'
}

# boot_and_judge LABEL NAME IMAGE MODE [how]; expected skips in LAB_SKIPS.
# Only the boots LAB_BOOTS names (wants), and of those only the ones whose
# plan has LAB_TEST if that is set; with LAB_DRY_RUN set, only notes the
# label in BOOT_LABELS.  A boot during which the host itself stood still
# (host_watch) is booted again, once, if it failed (the guest took the
# host's pause for a stall) or if it was a benchmark (its figures would
# time the pause): the second boot alone counts.  One that stalls again
# counts as it is.
BOOT_LABELS=()
BOOTS_RUN=0
boot_and_judge() {
	local p=$passed f=$failed s=$skipped dir=$build/$1

	if [ -n "${LAB_DRY_RUN:-}" ]; then
		BOOT_LABELS+=("$1")
		return 0
	fi
	wants "$1" || return 0
	if [ -n "${LAB_TEST:-}" ] && ! plan_has "$4" "$LAB_TEST"; then
		say "$1: no test $LAB_TEST in its plan ($4.plan), not booted"
		return 0
	fi
	BOOTS_RUN=$((BOOTS_RUN + 1))
	boot "$@"
	judge "$1" "$4" "${LAB_SKIPS:-}"
	if [ -s "$dir/$4.host-stalls" ] &&
	   { [ "$failed" -gt "$f" ] || [ "$4" = bench ]; }; then
		boot_again "$@"
	fi
	[ "$failed" -eq "$f" ] ||
		FAILED_BOOTS+=("$1: $dir/$4.console, $dir/$4.results, $dir/$4.reports")
}

# boot_again LABEL NAME IMAGE MODE: boot_and_judge's second boot, counted
# instead of the first, which the host's own pause may have failed; the
# counts go back to boot_and_judge's p, f and s.
boot_again() {
	local dir=$build/$1 ext

	say "$1: the host did not run for $(paste -sd ' ' "$dir/$4.host-stalls" |
		sed 's/) /), /g') during this boot; booting it again and counting that boot instead (the first one's files: $dir/*.stalled)"
	for ext in console results reports host-stalls; do
		[ -f "$dir/$4.$ext" ] && mv "$dir/$4.$ext" "$dir/$4.$ext.stalled"
	done
	passed=$p failed=$f skipped=$s
	reruns=$((reruns + 1))
	boot "$@"
	judge "$1" "$4" "${LAB_SKIPS:-}"
}

# bench_table LABEL TITLE: print the benchmark table of LABEL's last bench
# boot.
bench_table() {
	echo
	echo "### $2"
	echo
	tr -d '\r' < "$build/$1/bench.results" | sed -n 's/^LAB-BENCH //p'
}

# stress_table LABEL: print the table of LABEL's last stress boot, with the
# count of kernel reports judge found on its console.
stress_table() {
	local dir=$build/$1

	echo
	tr -d '\r' < "$dir/stress.results" | sed -n 's/^LAB-TABLE //p'
	echo "| kernel reports (console lines) | $(wc -l < "$dir/stress.reports") |"
}

# install_tests NAME: make install into a scratch root, then build a client
# module against what it installed; make dkms-install for the Debian kernel
# into scratch DKMS trees (the host's DKMS, /usr/src and /lib/modules are
# never touched), keeping the module DKMS built for the guest to load.
install_tests() {
	local dir=$build/$1 root scratch

	say "make install and a client built against it; DKMS build"
	root=$dir/root
	rm -rf "$root" "$dir/client" "$dir/dkms"
	if make -s -C "$dir/src" KVER="$DISTRO_VER" KDIR="$DISTRO_KDIR" \
		DESTDIR="$root" INSTALL_MOD_PATH="$root" install \
		> "$dir/install.log" 2>&1 &&
	   [ -f "$root/lib/modules/$DISTRO_VER/extra/labyrinth.ko" ] &&
	   [ -f "$root/usr/local/include/labyrinth/labyrinth.h" ] &&
	   [ -f "$root/usr/local/share/labyrinth/$DISTRO_VER/Module.symvers" ]; then
		ok
	else
		cat "$dir/install.log"
		not_ok "$1: make install puts module, header and Module.symvers in place"
	fi

	mkdir -p "$dir/client"
	cp "$repo/tests/labyrinth_demo.c" "$repo/tests/labyrinth_test.h" \
		"$repo/labyrinth_compat.h" \
		"$dir/client/"
	printf 'ccflags-y += -I%s\nobj-m += labyrinth_demo.o\n' \
		"$root/usr/local/include/labyrinth" > "$dir/client/Kbuild"
	if make -s -C "$DISTRO_KDIR" M="$dir/client" KBUILD_EXTRA_SYMBOLS="$root/usr/local/share/labyrinth/$DISTRO_VER/Module.symvers" \
		modules > "$dir/client.log" 2>&1 && [ -f "$dir/client/labyrinth_demo.ko" ] &&
	   ! grep -q 'undefined' "$dir/client.log"; then
		ok
	else
		cat "$dir/client.log"
		not_ok "$1: a client module builds against the installed header and symbols"
	fi

	# DKMS signs what it builds: with a key of its own, made here.
	scratch=$dir/dkms-scratch
	rm -rf "$scratch"
	mkdir -p "$scratch/var" "$scratch/src" "$scratch/lib/$DISTRO_VER"
	if sign_file=$(readlink -f "$DISTRO_KDIR/scripts")/sign-file \
	   mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub \
	   make -s -C "$dir/src" KVER="$DISTRO_VER" \
		DKMS_SOURCETREE="$scratch/src" DKMS_FLAGS="--dkmstree $scratch/var \
		--sourcetree $scratch/src --installtree $scratch/lib \
		--kernelsourcedir $DISTRO_KDIR --no-depmod" \
		dkms-install > "$dir/dkms.log" 2>&1 &&
	   [ -f "$scratch/lib/$DISTRO_VER/updates/dkms/labyrinth.ko" ]; then
		mkdir -p "$dir/dkms"
		cp "$scratch/lib/$DISTRO_VER/updates/dkms/labyrinth.ko" "$dir/dkms/"
		ok
	else
		cat "$dir/dkms.log"
		not_ok "$1: dkms-install builds labyrinth.ko for $DISTRO_VER"
	fi
}

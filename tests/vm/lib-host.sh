# SPDX-License-Identifier: GPL-2.0
#
# Host side of the test VM, sourced by run.sh.

PKGS_DEMO=(qemu-system-x86 busybox-static linux-image-amd64
	   linux-headers-amd64 build-essential cpio kmod rsync)
PKGS_CHECK=("${PKGS_DEMO[@]}" linux-source-6.12 bc bison flex libelf-dev
	    libssl-dev ccache sparse xz-utils python3 dwarves dkms coccinelle
	    ocaml-nox openssl)

# Console lines that fail a run, whatever the tests said.
REPORTS='BUG:|WARNING:|Oops|Kernel panic|KASAN|UBSAN|possible circular|inconsistent lock state|sleeping function called|kmemleak: [1-9]|Invalid wait context|general protection'

ensure_packages() {
	local p missing=()

	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (run as root): ${missing[*]}"
	say "installing Debian packages: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" > "$cache-apt.log" 2>&1 ||
		{ tail -n 20 "$cache-apt.log"; die "apt-get install failed"; }
}

# The newest Debian amd64 kernel with headers: DISTRO_KDIR, DISTRO_IMAGE.
distro_kernel() {
	local hdr ver

	hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$hdr" ] || die "no linux-headers-*-amd64 installed"
	ver=${hdr#/usr/src/linux-headers-}
	DISTRO_VER=$ver
	DISTRO_KDIR=/lib/modules/$ver/build
	DISTRO_IMAGE=/boot/vmlinuz-$ver
	[ -r "$DISTRO_IMAGE" ] || die "no readable $DISTRO_IMAGE"
	say "Debian kernel $ver"
}

# build_modules NAME KDIR: labyrinth.ko and tests/*.ko in $build/NAME.
build_modules() {
	local name=$1 kdir=$2 dir=$build/$1

	say "building labyrinth and the test modules for $name"
	mkdir -p "$dir"
	rsync -a --delete --exclude .git --exclude build --exclude '.ci' \
		"$repo/" "$dir/src/"
	make -s -C "$dir/src" KDIR="$kdir" W=1 tests > "$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log"; die "module build failed for $name"; }
	if grep -E 'warning:|error:' "$dir/build.log"; then
		not_ok "$name: modules build without warnings"
	else
		ok
	fi
}

# The busybox part of the initramfs, cached; it never changes.
base_cpio() {
	local out=$cache/initramfs-base.cpio stage

	if [ ! -f "$out" ]; then
		stage=$(mktemp -d)
		mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,lab,etc}
		cp /bin/busybox "$stage/bin/busybox"
		mknod -m 600 "$stage/dev/console" c 5 1
		mknod -m 666 "$stage/dev/null" c 1 3
		(cd "$stage" && find . | cpio -o -H newc --quiet) > "$out.tmp"
		mv "$out.tmp" "$out"
		rm -rf "$stage"
	fi
	echo "$out"
}

# make_initramfs NAME: base + /init, guest scripts and NAME's modules.
make_initramfs() {
	local name=$1 dir=$build/$1 stage

	stage=$dir/initramfs
	rm -rf "$stage"
	mkdir -p "$stage/lab"
	install -m 755 "$vm/init" "$stage/init"
	cp "$vm"/guest/*.sh "$stage/lab/"
	gcc -static -O2 -Wall -o "$stage/lab/lab-finit" "$vm/lab-finit.c"
	find "$dir/src" -name '*.ko' -exec cp {} "$stage/lab/" \;
	if [ -d "$dir/dkms" ]; then
		cp -r "$dir/dkms" "$stage/lab/dkms"
	fi
	(cd "$stage" && find . | cpio -o -H newc --quiet) > "$dir/lab.cpio"
	cat "$(base_cpio)" "$dir/lab.cpio" > "$dir/initramfs.cpio"
}

# boot NAME IMAGE MODE [interactive|show|quiet]
boot() {
	local name=$1 image=$2 mode=$3 how=${4:-quiet} dir=$build/$1
	local append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 labmode=$mode"
	local qemu=(qemu-system-x86_64 -nodefaults -nographic -no-reboot
		    -machine q35 -accel tcg -cpu max -smp 2 -m 1G
		    -kernel "$image" -initrd "$dir/initramfs.cpio")

	[ "$name" = distro ] && append+=" quiet loglevel=4"
	append+=" ${LAB_APPEND:-}"
	if [ "$how" = interactive ]; then
		exec "${qemu[@]}" -append "$append" -serial stdio \
			-serial null
	fi
	say "booting $name ($mode) under QEMU/TCG, 2 CPUs, timeout ${timeout_s}s"
	rm -f "$dir/$mode.results"
	local filter='^  (ok|FAIL) '
	[ "$how" = show ] && filter='^(==|\$ |  )'
	timeout --foreground "$timeout_s" "${qemu[@]}" -append "$append" \
		-serial stdio -serial "file:$dir/$mode.results" < /dev/null |
		tr -d '\r' | tee "$dir/$mode.console" |
		grep --line-buffered -E "$filter" || true
}

# judge NAME MODE: count the results of one boot.
judge() {
	local name=$1 mode=$2 dir=$build/$1 res console line summary
	local p f

	res=$dir/$mode.results
	console=$dir/$mode.console
	touch "$res"
	while IFS= read -r line; do
		case $line in
		"LAB-TEST ok "*) ok ;;
		"LAB-TEST not ok "*) not_ok "$name: ${line#LAB-TEST not ok }" ;;
		esac
	done < <(tr -d '\r' < "$res")

	if grep -q LAB-KTAP-BEGIN "$res"; then
		tr -d '\r' < "$res" | sed -n '/LAB-KTAP-BEGIN/,/LAB-KTAP-END/p' |
			sed '1d;$d' > "$dir/$mode.ktap"
		summary=$(python3 "$KUNIT_PY" parse "$dir/$mode.ktap" 2>&1 | tee "$dir/$mode.kunit" |
			  grep 'Testing complete' || true)
		p=$(echo "$summary" | sed -n 's/.*passed: \([0-9]*\).*/\1/p')
		f=$(echo "$summary" | awk -F'[:,] *' '{
			for (i = 1; i < NF; i++)
				if ($i ~ /(failed|crashed|errors)$/) s += $(i + 1)
		} END { print s + 0 }')
		if [ -z "$p" ] || [ "$p" -eq 0 ]; then
			cat "$dir/$mode.kunit"
			not_ok "$name: KUnit results parse to passing tests"
		else
			passed=$((passed + p))
			[ "$f" -eq 0 ] || { grep -E 'FAILED|CRASHED' "$dir/$mode.kunit"; }
			failed=$((failed + f))
		fi
	fi

	if tr -d '\r' < "$res" | grep -q '^LAB-DONE'; then
		ok
	else
		tail -n 40 "$console"
		not_ok "$name: guest ran to the end (no LAB-DONE marker)"
	fi
	if grep -E "$REPORTS" "$console" > "$dir/$mode.reports"; then
		grep -B 5 -A 30 -m 1 -E "$REPORTS" "$console"
		not_ok "$name: console free of kernel reports"
	else
		ok
	fi
}

boot_and_judge() {
	make_initramfs "$1"
	boot "$@"
	judge "$1" "$3"
}

# bench_table NAME TITLE: print the benchmark table of NAME's last bench boot.
bench_table() {
	echo
	echo "### $2"
	echo
	tr -d '\r' < "$build/$1/bench.results" | sed -n 's/^LAB-BENCH //p'
}

# stress_table NAME: print the table of NAME's last stress boot, with the
# count of kernel reports judge found on its console.
stress_table() {
	local dir=$build/$1 n

	n=$(wc -l < "$dir/stress.reports")
	echo
	tr -d '\r' < "$dir/stress.results" | sed -n 's/^LAB-TABLE //p' |
		sed "s/^| kernel reports | .* |\$/| kernel reports (console lines) | $n |/"
}

# install_tests NAME: make install into a scratch root, then build a client
# module against what it installed; make dkms-install for the Debian kernel,
# keeping the module DKMS built for the guest to load.
install_tests() {
	local dir=$build/$1 root

	say "make install and a client built against it; DKMS build"
	root=$dir/root
	rm -rf "$root" "$dir/client" "$dir/dkms"
	if make -s -C "$dir/src" KVER="$DISTRO_VER" DESTDIR="$root" \
		INSTALL_MOD_PATH="$root" install > "$dir/install.log" 2>&1 &&
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

	make -s -C "$dir/src" dkms-remove > /dev/null 2>&1 || true
	if make -s -C "$dir/src" KVER="$DISTRO_VER" dkms-install > "$dir/dkms.log" 2>&1; then
		mkdir -p "$dir/dkms"
		cp "/lib/modules/$DISTRO_VER/updates/dkms/labyrinth.ko" "$dir/dkms/"
		ok
	else
		cat "$dir/dkms.log"
		not_ok "$1: dkms-install builds labyrinth.ko for $DISTRO_VER"
	fi
	make -s -C "$dir/src" dkms-remove > /dev/null 2>&1 || true
}

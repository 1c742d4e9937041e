#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test VM: build labyrinth and its test modules, boot them under QEMU
# and judge the run.
#
#   run.sh check	every test on every kernel and configuration below
#   run.sh demo		the demo on the Debian kernel
#   run.sh lint		checkpatch, W=1, sparse, coccicheck
#   run.sh bench	the benchmark, Debian kernel (and objpool on 6.12)
#   run.sh stress	the stress and guarantee tests on the 6.12 test kernel,
#			eight CPUs, STRESS_MS milliseconds of stress (default
#			300000)
#   run.sh clients	the network clients' experiment: stock, min_free_kbytes
#			and labyrinth arms of e1000 and virtio_net under memory
#			pressure, on the 6.12 net kernel and Debian's 6.1
#   run.sh shell	an interactive shell on the Debian kernel
#
# Installs the Debian packages it needs when they are missing (as root).
# The cache (kernel trees, ccache, initramfs) is LAB_CACHE, by default
# ~/.cache/labyrinth; one run at a time uses it.
set -eEuo pipefail
shopt -s inherit_errexit

mode=${1:?usage: run.sh check|demo|shell|lint|bench|stress|clients}
repo=$(cd "$(dirname "$0")/../.." && pwd)
vm=$repo/tests/vm
cache=${LAB_CACHE:-${HOME:-/root}/.cache/labyrinth}
build=$repo/build
timeout_s=${LAB_TIMEOUT:-900}
passed=0
failed=0
skipped=0
reruns=0

say() { printf '==> %s\n' "$*"; }
# Exit status 1: tests failed (verdict names the boots and their files);
# 2: the harness itself failed (it says what, last).
failed_run() { printf 'run.sh: %s\n' "$*" >&2; tests_failed=1; exit 1; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }
# Any other way out with a status but 0 (an unset variable under set -u
# exits with 1 without the ERR trap) is the harness's failure too.
tests_failed=0
on_exit() {
	[ "$1" = 0 ] || [ "$1" = 2 ] || [ "$tests_failed" = 1 ] || {
		printf 'run.sh: the harness stopped with status %s (see above)\n' "$1" >&2
		exit 2
	}
}
trap 'on_exit $?' EXIT
# A command that failed unhandled is the harness's failure; one that exits
# 2 (die in a command substitution) has said why already.
on_error() {
	[ "$1" = 2 ] ||
		printf 'run.sh: line %s: %s failed (exit %s)\n' "$2" "$3" "$1" >&2
	exit 2
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR

ok() { passed=$((passed + 1)); }
not_ok() { failed=$((failed + 1)); printf '  FAIL %s\n' "$*"; }

FAILED_BOOTS=()

# verdict: the counts; the boots that failed, with their files, last.
verdict() {
	local b

	echo
	[ "$reruns" -eq 0 ] ||
		echo "$reruns boot(s) run again: the host stood still during the first (see above)"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && return 0
	for b in "${FAILED_BOOTS[@]}"; do
		echo "failed boot $b"
	done
	return 1
}

# shellcheck source=tests/vm/host/lib.sh
. "$vm/host/lib.sh"
# shellcheck source=tests/vm/report/report.sh
. "$vm/report/report.sh"

mkdir -p "$cache" "$build" || die "cannot create $cache and $build"
exec 9> "$cache/lock"
if ! flock -n 9; then
	say "waiting for the run that holds $cache/lock"
	flock 9
fi

# skips NAME...: a LAB_SKIPS expression of those test names.
skips() {
	local IFS='|'

	echo "^($*)\$"
}

# The skips each kernel explains, by name (a result's last part).  Every
# kernel: a check that needs CPUs possible beyond the online ones (one
# boot, deb61rt, has them).  The test kernels but the debug one: no
# kmemleak.  The Debian kernels: no KUnit, no fault injection, no
# kmemleak, no lockdep.  The test kernels: no memory hotplug, DKMS builds
# for the Debian kernel only, and one KUnit case of the two that depend on
# init_on_alloc and init_on_free.  Debian's RT kernel: as Debian's, DKMS
# builds for the standard one, no DIMM to offline.
NO_KMEMLEAK=no_kmemleak_reports
NO_LOCKDEP=lockdep_still_enabled
NO_FPA=(kunit_suite guarantee_run load_fails_with_enomem_when_fill_fails
	cpu_online_while_allocations_fail unload_while_refill_backs_off
	stress_fault_injection reserves_allocator_failed_throughout
	tenant_nothing_beyond_its_reserve)
ONLINE=only_online_pools_filled
DISTRO_SKIPS=$(skips "${NO_FPA[@]}" $NO_KMEMLEAK $NO_LOCKDEP $ONLINE)
TEST_ONLY=(dkms_built_module memory_offline)
INIT_ON=labyrinth.put_pools_page_as_is_when_init_off
INIT_OFF=labyrinth.served_pages_are_cleared_when_init_on_alloc_or_free
TEST_SKIPS=$(skips "${TEST_ONLY[@]}" $INIT_ON $NO_KMEMLEAK $ONLINE)

check_boots() {
	local k=$ktree/arch/x86/boot/bzImage d=$dtree/arch/x86/boot/bzImage

	LAB_SKIPS=$TEST_SKIPS
	boot_and_judge t612 test612 "$k" check
	LAB_APPEND="init_on_alloc=0" \
	LAB_SKIPS=$(skips "${TEST_ONLY[@]}" $INIT_OFF $NO_KMEMLEAK $ONLINE) \
		boot_and_judge t612-ioa0 test612 "$k" check
	# -smp 2,maxcpus=4 gives 6.12 no possible CPU beyond the online ones
	# under emulation: it counts QEMU's disabled LAPIC entries only under
	# a hypervisor it detects (acpi_is_processor_usable()).  Debian's 6.1
	# counts them: deb61rt has them.
	LAB_APPEND="init_on_alloc=0 init_on_free=1" LAB_SMP=2,maxcpus=4 \
	LAB_SKIPS=$(skips "${TEST_ONLY[@]}" $INIT_ON $NO_KMEMLEAK $ONLINE) \
		boot_and_judge t612-iof1-maxcpus4 test612 "$k" check
	# Thefts and hotplug among more CPUs than the other boots have.
	LAB_APPEND="labstress_ms=20000" LAB_SMP=8 \
		boot_and_judge t612-smp8 test612 "$k" stress
	# Page poisoning takes precedence over init_on_alloc and init_on_free.
	# The stress takes pages every 2 ms, not 0.5: at 0.5 its interrupt
	# and NMI users can starve process context on this KASAN kernel
	# under emulation, the shell that hotplugs and injects failures
	# included.
	LAB_APPEND="page_poison=1 labstress_us=2000" \
	LAB_SKIPS=$(skips "${TEST_ONLY[@]}" $INIT_OFF $ONLINE) \
		boot_and_judge d612 debug612 "$d" check
	# kasan_multi_shot: the expected report must not panic the boot,
	# and turns lockdep off.
	LAB_APPEND="kasan_multi_shot" LAB_SKIPS=$(skips $NO_LOCKDEP) \
	LAB_EXPECT_REPORT='BUG: KASAN: use-after-free in write_after_put' \
		boot_and_judge d612-uaf debug612 "$d" uaf
	boot_and_judge r612 rt612 "$rtree/arch/x86/boot/bzImage" check
	# 7.x runs a test module's suites at load only with kunit.autorun.
	LAB_APPEND="kunit.autorun=1" \
		boot_and_judge t73 test73 "$k73tree/arch/x86/boot/bzImage" check
	# A hot-pluggable DIMM on the Debian check boots (memory.sh): the
	# test kernels have no memory hotplug.
	LAB_SKIPS=$DISTRO_SKIPS LAB_DIMM=1
	boot_and_judge deb61 distro "$DISTRO_IMAGE" check
	LAB_APPEND="init_on_alloc=0" \
		boot_and_judge deb61-ioa0 distro "$DISTRO_IMAGE" check
	# Two memory nodes: Debian's kernel has NUMA, the test kernels not.
	LAB_NUMA=1 LAB_SKIPS=$(skips $NO_KMEMLEAK $NO_LOCKDEP) LAB_DIMM='' \
		boot_and_judge deb61-numa distro "$DISTRO_IMAGE" numa
	# No DIMM: what the RT kernel allocates while the reserve grows
	# lands in the block memory.sh empties for it, every time.  Two CPUs
	# possible beyond the online ones (not with the DIMM: the zone's
	# per-CPU data for them pins the first block onlined).
	LAB_DIMM='' LAB_SMP=2,maxcpus=4 \
	LAB_SKIPS=$(skips dkms_built_module memory_offline "${NO_FPA[@]}" \
		$NO_KMEMLEAK $NO_LOCKDEP) \
		boot_and_judge deb61rt distro-rt "$rt_image" check
	# The clients experiment, short: one round of each arm under the
	# control case (make clients runs the whole of it).
	LAB_NET=short LAB_SKIPS=$TEST_SKIPS
	boot_and_judge t612-net net612 "$ntree/arch/x86/boot/bzImage" clients
	LAB_NET=
}

case $mode in
check)
	ensure_packages "${PKGS_CHECK[@]}"
	host_state > "$build/host-before"
	# BOOT= and TEST= (make check): boots and a test that exist.
	ktree='' dtree='' rtree='' k73tree='' ntree='' rt_image=''
	DISTRO_IMAGE=''
	LAB_DRY_RUN=1 check_boots
	for b in ${LAB_BOOTS//,/ }; do
		[[ " ${BOOT_LABELS[*]} " == *" $b "* ]] ||
			die "no boot $b in make check; its boots: ${BOOT_LABELS[*]}"
	done
	if [ -n "${LAB_TEST:-}" ] &&
	   ! sed 's/#.*//' "$vm"/guest/*.plan | awk '{ print $2 }' | grep -qx "$LAB_TEST"; then
		die "no test $LAB_TEST in any plan (tests/vm/guest/*.plan)"
	fi
	if wants t612 t612-ioa0 t612-iof1-maxcpus4 t612-smp8 || [ -z "${LAB_BOOTS:-}" ]; then
		say "building the 6.12 test kernel (base flavour)"
		ktree=$("$vm/kernel/build.sh" base)
		kunit_tool "$ktree"
	else
		kunit_tool
	fi
	# The whole matrix: the linters and the reports, the host's own
	# tests.
	if [ -z "${LAB_BOOTS:-}" ] && [ -z "${LAB_TEST:-}" ]; then
		if "$vm/host/lint.sh" "$ktree"; then
			ok
		else
			not_ok "lint: shellcheck, checkpatch, W=1, sparse and coccicheck clean"
		fi
		if "$vm/report/docs.sh" --check; then
			ok
		else
			not_ok "reports/ measured the checkout's sources, README.md and docs/ show them (make docs)"
		fi
	fi
	if wants d612 d612-uaf; then
		say "building the 6.12 test kernel (debug flavour: KASAN, UBSAN, kmemleak, wait-context and object checks)"
		dtree=$("$vm/kernel/build.sh" debug)
	fi
	if wants r612; then
		say "building the 6.12 test kernel (PREEMPT_RT flavour: lockdep, raw lock nesting, atomic sleep checks)"
		rtree=$("$vm/kernel/build.sh" rt)
	fi
	if wants t73; then
		say "building the 7.3 test kernel (base flavour) from Debian 13 backports' linux-source-7.3"
		k73tree=$("$vm/kernel/build.sh" base 7.3)
	fi
	if wants t612-net; then
		say "building the 6.12 test kernel (net flavour: e1000, virtio_net, AF_PACKET)"
		ntree=$("$vm/kernel/build.sh" net)
	fi
	[ -z "$ktree" ] || build_modules test612 "$ktree"
	[ -z "$dtree" ] || build_modules debug612 "$dtree"
	[ -z "$rtree" ] || build_modules rt612 "$rtree"
	[ -z "$k73tree" ] || build_modules test73 "$k73tree"
	[ -z "$ntree" ] || build_modules net612 "$ntree"
	if wants deb61rt; then
		distro_kernel rt
		rt_image=$DISTRO_IMAGE
		build_modules distro-rt "$DISTRO_KDIR"
	fi
	if wants deb61 deb61-ioa0 deb61-numa || [ -z "${LAB_BOOTS:-}" ]; then
		distro_kernel
		build_modules distro "$DISTRO_KDIR"
		install_tests distro
	fi
	# The client patches for both sources; only 6.12's boot (below)
	# runs them: the control case needs fault injection.
	[ -z "$ntree" ] || net_modules net612 "$ntree" 6.12 "$ntree"
	if [ -z "${LAB_BOOTS:-}" ]; then
		net_modules distro-net "$DISTRO_KDIR" 6.1 \
			"$DISTRO_MODS/kernel" distro
	fi
	for name in "${BUILT_MODULES[@]}"; do
		make_initramfs "$name"
	done
	check_boots
	[ "$BOOTS_RUN" -gt 0 ] || die "no boot ran: BOOT=${LAB_BOOTS:-} TEST=${LAB_TEST:-}"
	host_unchanged "$build/host-before"
	verdict || { tests_failed=1; exit 1; }
	;;
demo)
	ensure_packages "${PKGS_DEMO[@]}"
	host_state > "$build/host-before"
	kunit_tool
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	make_initramfs distro
	LAB_SKIPS=$(skips $NO_KMEMLEAK $NO_LOCKDEP) \
		boot_and_judge distro distro "$DISTRO_IMAGE" demo show
	host_unchanged "$build/host-before"
	if verdict; then
		mkdir -p "$reports"
		demo_report > "$reports/demo.md"
		report_written demo.md
	else
		failed_run "no report written: the run failed"
	fi
	;;
lint)
	ensure_packages "${PKGS_CHECK[@]}"
	ktree=$("$vm/kernel/build.sh" base)
	"$vm/host/lint.sh" "$ktree"
	;;
bench)
	ensure_packages "${PKGS_CHECK[@]}" gnuplot-nox
	say "building the 6.12 test kernel (base flavour) for the objpool table"
	ktree=$("$vm/kernel/build.sh" base)
	kunit_tool "$ktree"
	say "building the 7.3 test kernel (base flavour) for the nolock and guarantee tables"
	k73tree=$("$vm/kernel/build.sh" base 7.3)
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	build_modules test612 "$ktree"
	build_modules test73 "$k73tree"
	for name in distro test612 test73; do
		make_initramfs "$name"
	done
	bench_boots=${BENCH_BOOTS:-3}
	rm -rf "$build/bench"
	mkdir -p "$build/bench"
	# The Debian kernel has no fault injection: no guarantee table.
	for n in $(seq "$bench_boots"); do
		LAB_APPEND="init_on_alloc=0" \
		LAB_SKIPS=$(skips bench_guarantee $NO_KMEMLEAK $NO_LOCKDEP) \
			bench_boot distro "$DISTRO_IMAGE" "deb61-ioa0-$n" \
			"Debian 6.1, init_on_alloc=0 (boot $n of $bench_boots)"
	done
	LAB_APPEND="init_on_alloc=1" \
	LAB_SKIPS=$(skips bench_guarantee $NO_KMEMLEAK $NO_LOCKDEP) \
		bench_boot distro "$DISTRO_IMAGE" deb61-ioa1 \
		"Debian 6.1, init_on_alloc=1 (Debian's default)"
	# Modules load at random addresses, and under TCG where code lands
	# moves its cost: the test kernels too boot as often as Debian's.
	for k in "test612 t612 6.12 $ktree" "test73 t73 7.3 $k73tree"; do
		read -r name label version tree <<< "$k"
		for n in $(seq "$bench_boots"); do
			LAB_APPEND="init_on_alloc=0" LAB_SKIPS=$(skips $NO_KMEMLEAK) \
				bench_boot "$name" "$tree/arch/x86/boot/bzImage" \
				"$label-ioa0-$n" \
				"$version test kernel (lockdep, DEBUG_VM), init_on_alloc=0 (boot $n of $bench_boots)"
		done
	done
	if verdict; then
		bench_reports "$bench_boots"
		report_written bench.md bench-summary.md bench.svg
	else
		failed_run "no report written: the run failed"
	fi
	;;
stress)
	ensure_packages "${PKGS_CHECK[@]}"
	say "building the 6.12 test kernel (base flavour)"
	ktree=$("$vm/kernel/build.sh" base)
	kunit_tool "$ktree"
	stress_ms=${STRESS_MS:-300000}
	timeout_s=${LAB_TIMEOUT:-$((stress_ms / 1000 + 900))}
	build_modules test612 "$ktree"
	make_initramfs test612
	# Eight CPUs: thefts among many victims, the longest interrupts-off
	# section where the pools are many.
	LAB_APPEND="labstress_ms=$stress_ms" LAB_SKIPS=$TEST_SKIPS \
	LAB_SMP=${LAB_SMP:-8} \
		boot_and_judge test612 test612 "$ktree/arch/x86/boot/bzImage" stress
	stress_table test612
	if verdict; then
		mkdir -p "$reports"
		stress_report > "$reports/stress.md"
		report_written stress.md
	else
		failed_run "no report written: the run failed"
	fi
	;;
clients)
	ensure_packages "${PKGS_CHECK[@]}"
	say "building the 6.12 test kernel (net flavour: e1000, virtio_net, AF_PACKET)"
	ntree=$("$vm/kernel/build.sh" net)
	kunit_tool "$ntree"
	distro_kernel
	build_modules net612 "$ntree"
	build_modules distro "$DISTRO_KDIR"
	net_modules net612 "$ntree" 6.12 "$ntree"
	net_modules distro "$DISTRO_KDIR" 6.1 "$DISTRO_MODS/kernel"
	make_initramfs net612
	make_initramfs distro
	timeout_s=${LAB_TIMEOUT:-3600}
	labels=()
	for k in ${CLIENTS_KERNELS:-t612 deb61}; do
		if [ "$k" = t612 ]; then
			LAB_NET=${LAB_NET:-full} LAB_SKIPS=$TEST_SKIPS \
				boot_and_judge t612-net net612 \
				"$ntree/arch/x86/boot/bzImage" clients
		else
			LAB_NET=${LAB_NET:-full} LAB_SKIPS=$DISTRO_SKIPS \
				boot_and_judge deb61-net distro "$DISTRO_IMAGE" clients
		fi
		labels+=("$k-net")
	done
	if verdict; then
		mkdir -p "$reports"
		# The report is written either way; a case in which the stock
		# driver lost nothing applied no pressure, and fails the run.
		pressure=0
		clients_report "${labels[@]}" || pressure=$?
		[ "$pressure" = 0 ] || [ "$pressure" = 3 ] ||
			die "clients/report.py failed"
		report_written clients.md clients-summary.md clients.svg
		[ "$pressure" = 0 ] ||
			failed_run "a case applied no pressure (reports/clients.md)"
	else
		failed_run "no report written: the run failed"
	fi
	;;
shell)
	ensure_packages "${PKGS_DEMO[@]}"
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	make_initramfs distro
	boot distro distro "$DISTRO_IMAGE" shell interactive
	;;
*)
	die "unknown mode '$mode'"
	;;
esac

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test VM: build labyrinth and its test modules, boot them under QEMU
# and judge the run.
#
#   run.sh check	every test on the 6.12 test kernel and the Debian kernel
#   run.sh demo		the demo on the Debian kernel
#   run.sh lint		checkpatch, W=1, sparse, coccicheck
#   run.sh bench	the benchmark, Debian kernel (and objpool on 6.12)
#   run.sh stress	the stress and guarantee tests on the 6.12 test kernel,
#			STRESS_MS milliseconds of stress (default 300000)
#   run.sh shell	an interactive shell on the Debian kernel
#
# Installs the Debian packages it needs when they are missing (as root).
set -euo pipefail

mode=${1:?usage: run.sh check|demo|shell|lint|bench|stress}
repo=$(cd "$(dirname "$0")/../.." && pwd)
vm=$repo/tests/vm
cache=${LAB_CACHE:-${HOME:-/root}/.cache/labyrinth}
build=$repo/build
timeout_s=${LAB_TIMEOUT:-900}
passed=0
failed=0

say() { printf '==> %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

ok() { passed=$((passed + 1)); }
not_ok() { failed=$((failed + 1)); printf '  FAIL %s\n' "$*"; }

# shellcheck source=tests/vm/lib-host.sh
. "$vm/lib-host.sh"

case $mode in
check)
	ensure_packages "${PKGS_CHECK[@]}"
	say "building the 6.12 test kernel (base flavour)"
	ktree=$("$vm/kernel.sh" base)
	KUNIT_PY=$ktree/source/tools/testing/kunit/kunit.py
	if "$vm/lint.sh" "$ktree"; then
		ok
	else
		not_ok "lint: checkpatch and sparse clean"
	fi
	say "building the 6.12 test kernel (debug flavour: KASAN, UBSAN, kmemleak)"
	dtree=$("$vm/kernel.sh" debug)
	distro_kernel
	build_modules test612 "$ktree"
	build_modules debug612 "$dtree"
	build_modules distro "$DISTRO_KDIR"
	install_tests distro
	boot_and_judge test612 "$ktree/arch/x86/boot/bzImage" check
	LAB_APPEND="page_poison=1" \
		boot_and_judge debug612 "$dtree/arch/x86/boot/bzImage" check
	boot_and_judge distro "$DISTRO_IMAGE" check
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
demo)
	ensure_packages "${PKGS_DEMO[@]}"
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	boot_and_judge distro "$DISTRO_IMAGE" demo show
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
lint)
	ensure_packages "${PKGS_CHECK[@]}"
	ktree=$("$vm/kernel.sh" base)
	"$vm/lint.sh" "$ktree"
	;;
bench)
	ensure_packages "${PKGS_CHECK[@]}"
	say "building the 6.12 test kernel (base flavour) for the objpool table"
	ktree=$("$vm/kernel.sh" base)
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	build_modules test612 "$ktree"
	for init in 1 0; do
		LAB_APPEND="init_on_alloc=$init" boot_and_judge distro \
			"$DISTRO_IMAGE" bench
		bench_table distro "init_on_alloc=$init, Debian kernel (production config)"
	done
	LAB_APPEND="init_on_alloc=0" boot_and_judge test612 \
		"$ktree/arch/x86/boot/bzImage" bench
	bench_table test612 "init_on_alloc=0, 6.12 test kernel (DEBUG kernel: lockdep, DEBUG_VM)"
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
stress)
	ensure_packages "${PKGS_CHECK[@]}"
	say "building the 6.12 test kernel (base flavour)"
	ktree=$("$vm/kernel.sh" base)
	stress_ms=${STRESS_MS:-300000}
	timeout_s=${LAB_TIMEOUT:-$((stress_ms / 1000 + 900))}
	build_modules test612 "$ktree"
	LAB_APPEND="labstress_ms=$stress_ms" boot_and_judge test612 \
		"$ktree/arch/x86/boot/bzImage" stress
	stress_table test612
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
shell)
	ensure_packages "${PKGS_DEMO[@]}"
	distro_kernel
	build_modules distro "$DISTRO_KDIR"
	make_initramfs distro
	boot distro "$DISTRO_IMAGE" shell interactive
	;;
*)
	die "unknown mode '$mode'"
	;;
esac

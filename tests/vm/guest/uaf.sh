# SPDX-License-Identifier: GPL-2.0
#
# make check on the KASAN kernel, booted with kasan_multi_shot (a KASAN
# report then does not panic): a driver's write to a page after
# labyrinth_put() gives exactly one KASAN report, naming the function that
# wrote.  The host accepts that report, and only that one, on this boot's
# console.  The report taints the kernel (B) and turns lockdep off, which
# the final checks accept here alone.

# Read by lib.sh's final checks.
# shellcheck disable=SC2034
LAB_TAINT_OK=32
# shellcheck disable=SC2034
LAB_LOCKDEP_OFF_OK=1

test_write_after_put() {
	if need_module labyrinth_stress &&
	   insmod "$LAB_MODULE" && insmod "$LAB_KO/labyrinth_stress.ko" mode=guarantee; then
		dmesg -c > /dev/null
		echo 1 > /sys/kernel/debug/labyrinth_stress/write_after_put
		n=$(dmesg | grep -c 'BUG: KASAN: use-after-free in write_after_put')
		check kasan_reports_write_after_put_once [ "$n" = 1 ]
		check uaf_rmmod_stress_module rmmod labyrinth_stress
		unload_balanced uaf
	else
		fail kasan_reports_write_after_put_once "modules did not load"
	fi
}

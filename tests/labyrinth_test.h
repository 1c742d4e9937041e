/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What labyrinth's test and demo modules share.  Not part of labyrinth.
 */
#ifndef _LABYRINTH_TEST_H
#define _LABYRINTH_TEST_H

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/string.h>

/**
 * lab_test_set_range() - set a uint module parameter within bounds
 * @val: the value as written
 * @kp: the parameter; kp->arg points at its unsigned int
 * @min: smallest value accepted
 * @max: largest value accepted
 *
 * Context: Process context (module load or a sysfs write).
 * Return: 0, or -EINVAL (with one pr_err() line) if @val is not a number
 * within [@min, @max]; the parameter is then unchanged.
 */
static inline int lab_test_set_range(const char *val,
				     const struct kernel_param *kp,
				     unsigned int min, unsigned int max)
{
	int len = strcspn(val, "\n");
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < min || n > max) {
		pr_err("%s='%.*s' rejected: expected a number from %u to %u\n",
		       kp->name, len, val, min, max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

/**
 * lab_test_atomic_page() - alloc_page(GFP_ATOMIC), as a hard-IRQ handler
 *	without labyrinth would call it
 *
 * Allowed on !PREEMPT_RT, where the page allocator's locks spin; lockdep
 * with PROVE_RAW_LOCK_NESTING applies RT's rules everywhere and is told so.
 * On RT the allocator may not be called from hard-IRQ context at all.
 *
 * Context: Any context but NMI.
 * Return: the page, or NULL (always NULL on RT from hard-IRQ context).
 */
static inline struct page *lab_test_atomic_page(void)
{
	static DEFINE_WAIT_OVERRIDE_MAP(lab_test_atomic_map, LD_WAIT_CONFIG);
	struct page *page;

	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return preemptible() ? alloc_page(GFP_ATOMIC | __GFP_NOWARN) : NULL;
	lock_map_acquire_try(&lab_test_atomic_map);
	page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
	lock_map_release(&lab_test_atomic_map);
	return page;
}

#endif /* _LABYRINTH_TEST_H */

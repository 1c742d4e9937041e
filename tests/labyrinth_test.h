/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What labyrinth's test and demo modules share.  Not part of labyrinth.
 */
#ifndef _LABYRINTH_TEST_H
#define _LABYRINTH_TEST_H

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/shrinker.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/swap.h>

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

/**
 * struct lab_test_hoard - pages kept from the page allocator, to starve it
 * @pages: the pages, linked through ->lru
 * @lock: protects @pages, @held and @yielded
 * @held: pages on @pages
 * @yielded: pages given back to reclaim so far
 *
 * Set up with lab_test_hoard_init().
 * Reclaim may take pages back (through a shrinker whose callbacks call
 * lab_test_hoard_count() and lab_test_hoard_scan()) only for allocations
 * that would otherwise wake the OOM killer (a fork's kernel stack, say):
 * not for those that may fail (__GFP_NORETRY, as labyrinth's refill
 * worker asks) and not for kswapd, which would take the hoard back up to
 * the high watermark whenever it runs.  The OOM killer stays away and the
 * allocator stays starved.
 */
struct lab_test_hoard {
	struct list_head pages;
	spinlock_t lock;	/* pages, held, yielded */
	unsigned long held;
	unsigned long yielded;
};

/* Before first use, in the module's init. */
static inline void lab_test_hoard_init(struct lab_test_hoard *h)
{
	INIT_LIST_HEAD(&h->pages);
	spin_lock_init(&h->lock);
	h->held = 0;
	h->yielded = 0;
}

/* Keep @page in @h.  Return: the pages @h holds now.  Process context. */
static inline unsigned long lab_test_hoard_add(struct lab_test_hoard *h,
					       struct page *page)
{
	unsigned long held;

	spin_lock(&h->lock);
	list_add(&page->lru, &h->pages);
	held = ++h->held;
	spin_unlock(&h->lock);
	return held;
}

/* Free every page on @list (linked through ->lru). */
static inline void lab_test_free_list(struct list_head *list)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		set_page_private(page, 0);
		__free_page(page);
	}
}

/* A shrinker's count_objects for @h. */
static inline unsigned long lab_test_hoard_count(struct lab_test_hoard *h,
						 struct shrink_control *sc)
{
	if ((sc->gfp_mask & __GFP_NORETRY) || current_is_kswapd())
		return 0;
	return READ_ONCE(h->held) ?: SHRINK_EMPTY;
}

/* A shrinker's scan_objects for @h: give back up to sc->nr_to_scan pages. */
static inline unsigned long lab_test_hoard_scan(struct lab_test_hoard *h,
						struct shrink_control *sc)
{
	unsigned long freed = 0;
	LIST_HEAD(list);

	spin_lock(&h->lock);
	while (freed < sc->nr_to_scan && !list_empty(&h->pages)) {
		list_move(h->pages.next, &list);
		freed++;
	}
	WRITE_ONCE(h->held, h->held - freed);
	h->yielded += freed;
	spin_unlock(&h->lock);
	lab_test_free_list(&list);
	return freed ?: SHRINK_STOP;
}

/*
 * Give back every page @h holds and start its counts afresh.  Its shrinker
 * is gone; process context.
 */
static inline void lab_test_hoard_release(struct lab_test_hoard *h)
{
	lab_test_free_list(&h->pages);
	h->held = 0;
	h->yielded = 0;
}

#endif /* _LABYRINTH_TEST_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * labyrinth - a per-CPU emergency reserve of order-0 pages.
 *
 * Code that cannot sleep (hard-IRQ and softirq handlers, sections under a
 * spinlock or with interrupts disabled) can only ask the page allocator for
 * GFP_ATOMIC pages, and GFP_ATOMIC merely lowers a watermark: under memory
 * pressure it fails.  labyrinth keeps a pre-paid reserve of pages on every
 * CPU, filled in process context, and hands them out in any context.
 *
 * A get is served, in this order, by:
 *
 *   1. the local CPU's pool - no lock, no atomic instruction, no cache line
 *      shared with other CPUs - and last of it its NMI share (below);
 *   2. the stash of another CPU, on the same node first (stealing, under
 *      that CPU's stash lock): a theft takes up to 16 pages, never more
 *      than half of that stash, and the pages it does not serve join the
 *      local pool; from a CPU of another node it takes only the page it
 *      serves;
 *   3. alloc_page(GFP_ATOMIC | __GFP_NOWARN), if the "fallback" module
 *      parameter is on and the page allocator may be called here (on
 *      PREEMPT_RT not in hard-IRQ context, with interrupts off or under a
 *      raw spinlock: there the fallback is skipped and counted in
 *      fallback_skipped);
 *
 * and only then fails.  A pool that falls below "low_watermark" is topped up
 * to "pages_per_cpu" by a per-CPU worker in process context.  The worker may
 * reclaim but never invokes the OOM killer; when memory is short it backs off
 * and retries.
 *
 * Contexts: labyrinth_get() and labyrinth_put() may be called from process,
 * softirq, hard-IRQ and (on x86-64) NMI context, with interrupts enabled
 * or disabled and under any lock, raw spinlocks included, on standard and
 * PREEMPT_RT kernels alike (on RT, HRTIMER_MODE_*_HARD callbacks and other
 * true hard-IRQ code included).  They never sleep, and never call the
 * workqueue, timer or scheduler code: the refill worker is kicked through
 * an irq_work.  They call the page allocator only for the fallback and to
 * free a page the pool has no room for or that is of another node, never
 * inside labyrinth's own interrupts-off sections, and not at all in NMI or
 * where PREEMPT_RT forbids it.  Excluded callers: the page allocator
 * itself (its own locks held), and code that labyrinth's fallback or frees
 * would re-enter.
 *
 * NMI: a get in NMI is served only by the CPU's NMI share, a small stack
 * of pages (a quarter of pages_per_cpu, at most 8) that the refill worker
 * keeps full; it never steals, never calls the allocator, and returns NULL
 * once the share is empty.  A put in NMI waits on a lock-free list for
 * the worker, which pools the page, or frees it if it is of another node
 * (put_deferred either way).  Refused pages given
 * back in NMI are released by the worker.  The debug parameter neither
 * fills nor checks pages given back or taken in NMI.
 *
 * Pages returned with labyrinth_put() are cleared by the worker before they
 * are handed out again whenever the kernel runs with init_on_alloc or
 * init_on_free, so no user ever sees another user's data.
 *
 * What labyrinth_put() accepts: an order-0 page that labyrinth_get()
 * served, given back once, by its only holder (reference count of one),
 * unmapped and with no ->mapping.  Such a page joins the local pool, or is
 * freed if the pool is full (put_freed) or the page is on another memory
 * node than the local CPU (put_remote; where PREEMPT_RT forbids the page
 * allocator, the worker frees it): a pool holds pages of its CPU's node
 * only.  Anything else is refused, counted in put_rejected and reported
 * once per call site, naming the caller:
 *
 *  - left untouched: pages labyrinth may not own (tail, slab, typed such as
 *    page tables, page_pool, page cache or anonymous, mapped, reserved,
 *    highmem, ZONE_DEVICE, a damaged mapcount) and pages already given
 *    back or freed: a pooled page has its reference count frozen at
 *    zero, so a second put of it is caught in every build;
 *  - the caller's reference dropped with put_page(): shared pages
 *    (reference count above one), pfmemalloc pages and compound pages.
 *
 * A write to a page after labyrinth_put() is a KASAN report on KASAN
 * kernels (pooled pages are poisoned); elsewhere the "debug" parameter
 * fills pooled pages with a pattern and reports a changed one, with the
 * functions that put and took it, and lists in debugfs ("outstanding") who
 * holds pages.  A page given back twice after it was served again to
 * another user cannot be told from a legitimate put.
 *
 * Counters are in /sys/kernel/debug/labyrinth/{stats,cpus}.
 */
#ifndef _LABYRINTH_H
#define _LABYRINTH_H

#include <linux/mm.h>

struct page *labyrinth_get(void);
void labyrinth_put(struct page *page);

/**
 * labyrinth() - take one page from the reserve and return its address
 *
 * Context: Any context (NMI: see above).  Never sleeps.
 * Return: the kernel virtual address of an order-0 page, or NULL when the
 * reserve and the fallback are both exhausted.  Give it back with
 * labyrinth_free().
 */
static inline void *labyrinth(void)
{
	struct page *page = labyrinth_get();

	return page ? page_address(page) : NULL;
}

/**
 * labyrinth_free() - give back a page obtained with labyrinth()
 * @addr: the address labyrinth() returned, or NULL (then nothing happens)
 *
 * Context: Any context.  Never sleeps.
 */
static inline void labyrinth_free(void *addr)
{
	if (addr)
		labyrinth_put(virt_to_page(addr));
}

#endif /* _LABYRINTH_H */

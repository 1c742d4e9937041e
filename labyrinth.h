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
 *      shared with other CPUs - and last of it its NMI share (below); a
 *      pooled page that a memory error struck meanwhile (PageHWPoison) is
 *      dropped, never served, and counted in hwpoison_dropped;
 *   2. the stash of another CPU, on the same node first (stealing, under
 *      that CPU's stash lock): a theft takes up to 16 pages, never more
 *      than half of that stash, and the pages it does not serve join the
 *      local pool; from a CPU of another node it takes only the page it
 *      serves;
 *   3. alloc_page(GFP_ATOMIC | __GFP_NOWARN | __GFP_NOMEMALLOC), if the
 *      "fallback" module parameter is on and the page allocator may be
 *      called here (not in NMI; on PREEMPT_RT not in hard-IRQ context,
 *      with interrupts off or under a raw spinlock: there the fallback is
 *      skipped and counted in fallback_skipped);
 *
 * and only then fails.  A pool that falls below "low_watermark" is topped up
 * to "pages_per_cpu" by a per-CPU worker in process context.  The worker may
 * reclaim but never invokes the OOM killer; when memory is short it backs off
 * and retries.  A pool holds no page of a memory block going offline:
 * when one starts to, every pool gives back the pages it holds there
 * (offline_released), and until the offline ends no such page joins a
 * pool; a user's page of that block is freed when it comes back.
 *
 * Contexts: labyrinth_get() and labyrinth_put() may be called from process,
 * softirq, hard-IRQ and NMI context (on architectures whose cmpxchg() is
 * NMI-safe; elsewhere a call in NMI is refused and reported once: a get
 * returns NULL, a put leaves the page to its caller), with interrupts
 * enabled or disabled and under any lock, raw spinlocks included, on
 * standard and PREEMPT_RT kernels alike (on RT, HRTIMER_MODE_*_HARD
 * callbacks and other true hard-IRQ code included).
 * They never call the workqueue, timer or scheduler code: the refill
 * worker is kicked through a hard irq_work.  They call the page allocator
 * only for the fallback and to free a page the pool has no room for or
 * that is of another node, never inside labyrinth's own interrupts-off
 * sections, never in NMI, and on PREEMPT_RT only from preemptible context
 * (elsewhere a page to free waits for the worker): so they never sleep,
 * except that on PREEMPT_RT, from preemptible context, the page
 * allocator's zone lock, a sleeping lock there, may block.  Excluded
 * callers: the page allocator itself (its own locks held), and code that
 * labyrinth's fallback or frees would re-enter.
 *
 * NMI (and kernel int3 or #DB, which x86 enters like an NMI and a real NMI
 * may interrupt): an NMI that interrupted none of labyrinth's sections on
 * its CPU uses that CPU's pool as any caller does, but takes no lock and
 * never calls the page allocator: a get is served from the pages the
 * owner keeps at hand (up to 32, which the refill worker loads from the
 * rest of the pool: a pool of up to 40 pages is in reach whole) and the
 * NMI share, never by stealing or the fallback; a put pools the page when
 * that takes neither, else leaves it to the worker (put_deferred).  An
 * NMI that interrupted labyrinth on its CPU (or one nested in another
 * caller in NMI) is served by the NMI share only, a small stack of pages
 * (a quarter of pages_per_cpu, at most 8) that the refill worker keeps
 * full, and its puts wait for the worker.  The debug parameter neither
 * fills nor checks pages given back, taken or handed on in NMI.
 *
 * Pages returned with labyrinth_put() are cleared by the worker before they
 * are handed out again whenever the kernel runs with init_on_alloc or
 * init_on_free, so no user ever sees another user's data.
 *
 * What labyrinth_put() accepts: an order-0 page that labyrinth_get()
 * served, given back once, by its only holder (reference count of one),
 * unmapped, with no ->mapping and in the state labyrinth_get() served it
 * in.  Such a page joins the local pool, or is freed if the pool is full
 * (put_freed) or the page is on another memory node than the local CPU
 * (put_remote): a pool holds pages of its CPU's node only.  A page that
 * someone else also references, as a speculative folio_try_get() may for
 * a moment, is not misuse: the caller's reference is dropped and the page
 * counted in put_shared.  Anything else is refused, counted in
 * put_rejected and reported once per call site, naming the caller:
 *
 *  - left untouched: pages labyrinth may not own (tail, slab, typed such as
 *    page tables, page_pool, page cache or anonymous, on an LRU list,
 *    charged to a memory cgroup, mapped, reserved, highmem, ZONE_DEVICE, a
 *    damaged mapcount, any flag the page allocator refuses on free) and
 *    pages already given back or freed.  A pooled page has its reference
 *    count frozen at zero, and the verdict rests on the count the freeze
 *    found, never on a second read: a second put of a page while it is
 *    pooled is caught in every build, even if an interrupt takes the page
 *    again in between;
 *  - the caller's reference dropped: pfmemalloc pages, pages with a memory
 *    error (the page allocator keeps them out of use) and compound pages.
 *
 * Where the page allocator may not be called (NMI; on PREEMPT_RT, not
 * preemptible), a dropped reference that was the last, and a page the
 * pool has no room for, wait on a lock-free list for the refill worker;
 * a page still referenced by others is never linked anywhere.
 *
 * A served page has a reference count of one, ->private and ->index zero,
 * no flag the page allocator would not hand out, and ->lru unspecified,
 * as a page from alloc_page().
 *
 * A page leaves its user in one of two ways.  Given back with
 * labyrinth_put(), it returns to the reserve.  Or it is handed on: a
 * driver that puts it in a receive ring, where the network stack frees it
 * with put_page() or page_frag_free() once the packet is consumed, calls
 * labyrinth_hand_on() on it when labyrinth serves it.  The page is then
 * its holders' as if it came from alloc_page(): its last holder frees it,
 * and labyrinth counts it in handed_on, not as a page in use, and (with
 * debug on) not as an outstanding one; with debug on, a page it did not
 * hand out while debug was on, or one handed on twice, is refused and
 * reported.  A page freed
 * without either call is not lost to the system, but stays "in use" in the
 * counters and, with debug on, is reported at unload as never given back.
 *
 * A write to a page after labyrinth_put() is a KASAN report on generic
 * KASAN kernels (pooled pages are poisoned; the software and hardware
 * tag-based modes do not see it); elsewhere the "debug" parameter fills
 * pooled pages with a pattern and reports a changed one, with the
 * functions that put and took it, and lists in debugfs ("outstanding") who
 * holds pages.  A page given back twice after it was served again to
 * another user cannot be told from a legitimate put.
 *
 * Counters are in /sys/kernel/debug/labyrinth/{stats,cpus}, and for a named
 * reserve in /sys/kernel/debug/labyrinth/<name>/{stats,cpus}.
 */
#ifndef _LABYRINTH_H
#define _LABYRINTH_H

#include <linux/err.h>
#include <linux/mm.h>

struct page *labyrinth_get(void);
void labyrinth_put(struct page *page);
void labyrinth_hand_on(struct page *page);

/*
 * Named reserves.  labyrinth_get() and labyrinth_put() serve the default
 * reserve, which every client shares and the module parameters size.  A
 * client that must not lose its emergency pages to another one creates a
 * reserve of its own: its pools, per CPU, hold pages no other reserve can
 * take, and everything said above holds for it (sources, contexts, NMI,
 * the checks of a page given back), with its own capacity and flags.
 *
 * A page belongs to no reserve once served: given back to another reserve
 * than the one that served it, it joins that reserve's pool (the pages
 * are alike).  Both reserves' counters then say so (the first counts a
 * page in use for ever, the second more pages released than it took);
 * with the debug parameter on, such a put is reported, naming both.
 */

/* The longest name of a reserve, without its terminating NUL. */
#define LABYRINTH_NAME_MAX	31

/* labyrinth_reserve_create() flags */
#define LABYRINTH_NO_FALLBACK	0x1U	/* never call the page allocator in a get */

struct labyrinth_reserve;

struct labyrinth_reserve *labyrinth_reserve_create(const char *name,
						   unsigned int pages_per_cpu,
						   unsigned int flags);
void labyrinth_reserve_destroy(struct labyrinth_reserve *r);
int labyrinth_reserve_resize(struct labyrinth_reserve *r,
			     unsigned int pages_per_cpu);
struct page *labyrinth_reserve_get(struct labyrinth_reserve *r);
void labyrinth_reserve_put(struct labyrinth_reserve *r, struct page *page);
void labyrinth_reserve_hand_on(struct labyrinth_reserve *r, struct page *page);

/**
 * labyrinth() - take one page from the reserve and return its address
 *
 * Context: Any context (NMI and PREEMPT_RT: see above).
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
 * Context: Any context (NMI and PREEMPT_RT: see above).
 */
static inline void labyrinth_free(void *addr)
{
	if (addr)
		labyrinth_put(virt_to_page(addr));
}

#endif /* _LABYRINTH_H */

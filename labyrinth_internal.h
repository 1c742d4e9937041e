/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What labyrinth_main.c and labyrinth_reserve.c share.  Nothing here is part
 * of the public contract (that is labyrinth.h).
 */
#ifndef _LABYRINTH_INTERNAL_H
#define _LABYRINTH_INTERNAL_H

#include <linux/jump_label.h>
#include <linux/mm.h>
#include <linux/page_ref.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "labyrinth_compat.h"

/* Hard upper bound of pages_per_cpu: 64 MiB per CPU with 4 KiB pages. */
#define LAB_MAX_PAGES_PER_CPU	16384

/* Pages one theft from another CPU's stash takes at most. */
#define LAB_STEAL_MAX		16U

/*
 * Per-CPU event counters, summed over CPUs when read.  The refill worker
 * writes LAB_REFILL_RUNS to LAB_PAGES_CLEARED; the owning CPU the others,
 * with interrupts off, but LAB_WRITTEN_AFTER_PUT, which any context on
 * the CPU bumps with this_cpu_inc().  An NMI that owns the pool counts
 * where the owner does; one that interrupted the owner counts in a copy
 * of its own, with this_cpu_inc(), added in when read.
 */
enum lab_stat_item {
	LAB_SERVED_LOCAL,	/* get served by the local pool */
	LAB_SERVED_NMI,		/* get in NMI served by the local pool */
	LAB_STOLEN,		/* get served by another CPU's stash */
	LAB_FALLBACK,		/* get served by alloc_page(GFP_ATOMIC) */
	LAB_FAILED,		/* get returned NULL */
	LAB_FALLBACK_SKIPPED,	/* get returned NULL: allocator not allowed here */
	LAB_PUT_POOLED,		/* put kept in the local pool */
	LAB_PUT_FREED,		/* put freed: the pool was full */
	LAB_PUT_REMOTE,		/* put freed: the page is on another node */
	LAB_PUT_REJECTED,	/* put refused: not a poolable page */
	LAB_PUT_SHARED,		/* put of a page also referenced elsewhere */
	LAB_PUT_DEFERRED,	/* put in NMI left to the refill worker */
	LAB_CLEARED_INLINE,	/* returned pages cleared on the get path */
	LAB_CLEARED_ON_PUT,	/* returned pages cleared on the put path */
	LAB_REFILL_RUNS,	/* refill worker runs */
	LAB_PAGES_REFILLED,	/* pages the refill worker added */
	LAB_REFILL_FAILURES,	/* refill runs that could not reach capacity */
	LAB_PAGES_CLEARED,	/* returned pages cleared by the worker */
	LAB_PAGES_ALLOCATED,	/* pages taken from the page allocator */
	LAB_PAGES_RELEASED,	/* pages given back to the page allocator */
	LAB_WRITTEN_AFTER_PUT,	/* debug: pages found written after their put */
	LAB_HWPOISON,		/* pooled pages dropped: memory error */
	LAB_NR_STATS
};

/**
 * struct lab_cpu_snapshot - one CPU's pool as seen by a reader
 * @stat: event counters, indexed by enum lab_stat_item
 * @level: pages in the pool now
 * @min_level: lowest level seen since the pool was first filled
 * @share: pages of @level kept for NMI callers
 */
struct lab_cpu_snapshot {
	unsigned long stat[LAB_NR_STATS];
	unsigned int level;
	unsigned int share;
	unsigned int min_level;
};

/*
 * Page flags no page labyrinth may pool carries: those the page allocator
 * refuses to free (on an LRU list, locked, private, under writeback,
 * reserved, ...), a compound head, a slab page (before 6.10; a page type
 * since), a page with a memory error.
 */
#define LAB_PAGE_FLAGS_REFUSED	(PAGE_FLAGS_CHECK_AT_FREE | BIT(PG_head) | \
				 LAB_PG_SLAB | LAB_PG_HWPOISON)

/* Zones labyrinth never pools pages of: ZONE_DEVICE, highmem. */
static inline bool lab_zone_refused(unsigned long flags)
{
	enum zone_type zone = (flags >> ZONES_PGSHIFT) & ZONES_MASK;

#ifdef CONFIG_ZONE_DEVICE
	if (zone == ZONE_DEVICE)
		return true;
#endif
	return is_highmem_idx(zone);
}

/**
 * lab_page_unpoolable() - whether labyrinth_put() must look closer at a page
 * @page: the page given back
 *
 * True for every page labyrinth may not pool: one it may not own at all
 * (tail, slab, typed, page_pool, page cache or anonymous, on an LRU list,
 * charged to a memory cgroup, mapped, reserved, highmem, ZONE_DEVICE, or
 * with any flag the page allocator refuses on free) and one it may only
 * release (compound head, pfmemalloc, memory error).  As the page
 * allocator's page_expected_state() does, each word of struct page that
 * tells is read once and the tests are combined, so that the put fast path
 * branches once; lab_put_refusal() tells which.  The word at lru.next is
 * also a tail's compound head (bit 0), the pfmemalloc mark (bit 1) and
 * page_pool's pp_magic; _mapcount, which shares its word with page_type,
 * is -1 on a page neither mapped nor typed.
 *
 * Context: Any context.
 * Return: true if @page may not join the reserve.
 */
static inline bool lab_page_unpoolable(struct page *page)
{
	unsigned long flags = lab_page_flags(page);
	unsigned long head = (unsigned long)READ_ONCE(page->lru.next);

	return (flags & LAB_PAGE_FLAGS_REFUSED) | (head & 0x3UL) |
	       (unsigned long)READ_ONCE(page->mapping) | lab_page_memcg(page) |
	       lab_zone_refused(flags) | lab_pp_word(head) |
	       (atomic_read(&page->_mapcount) != -1);
}

/* lab_ref_freeze() did not run: the test above refused the page first. */
#define LAB_REF_UNSEEN		(-1)

/**
 * lab_ref_freeze() - freeze a page's reference count from one to zero
 * @page: the page given back
 *
 * page_ref_freeze(), but the count it found is returned: whatever the
 * refusal of a page that was not frozen decides, it decides from this one
 * read.  A second read could see a count that changed meanwhile: an
 * interrupt on this CPU may take the very page from the pool (it is on
 * top) between the two.
 *
 * Context: Any context.
 * Return: 1 if the count was one and is zero now; else the count found,
 * unchanged.
 */
static __always_inline int lab_ref_freeze(struct page *page)
{
	int seen = 1;

	atomic_try_cmpxchg(&page->_refcount, &seen, 0);
	if (page_ref_tracepoint_active(page_ref_freeze))
		__page_ref_freeze(page, 1, seen == 1);
	return seen;
}

/**
 * enum lab_refusal - what labyrinth_put() does with a page it may not pool
 * @LAB_LEAVE: not labyrinth's to touch (or already given back): left as is
 * @LAB_RELEASE: a page the reserve may have served (pfmemalloc, memory
 *	error): the caller's reference is dropped and the page counts as
 *	released
 * @LAB_RELEASE_FOREIGN: a page the reserve cannot have served (compound):
 *	the caller's reference is dropped, nothing else is counted
 * @LAB_SHARED: a page the reserve served that someone else also holds, for
 *	a moment (a speculative reference) or for longer: not misuse; the
 *	caller's reference is dropped, the page counts as released, nothing
 *	is reported
 */
enum lab_refusal {
	LAB_LEAVE,
	LAB_RELEASE,
	LAB_RELEASE_FOREIGN,
	LAB_SHARED,
};

const char *lab_put_refusal(struct page *page, int seen,
			    enum lab_refusal *what);
void lab_report_put(const char *why, enum lab_refusal what, struct page *page,
		    unsigned long ip);

/*
 * Test hooks: a KUnit case runs the other party of a race at the exact
 * point where it matters.  Compiled out of kernels without KUnit.
 */
enum lab_hook_point {
	LAB_HOOK_PUT_REFUSED,	/* a put whose freeze failed, before its verdict */
	LAB_HOOK_NMI_OWNED,	/* an NMI owns the pool, before it takes a page */
};

void lab_set_test_hook(void (*fn)(enum lab_hook_point where,
				  struct page *page));

DECLARE_STATIC_KEY_FALSE(lab_debug_key);

int lab_debug_enable(bool on, unsigned long pages);
void lab_debug_put(struct page *page, unsigned long ip);
void lab_debug_untrack(struct page *page);
void lab_debug_forget(struct page *page);
bool lab_debug_check(struct page *page, unsigned long taker);
bool lab_debug_get(struct page *page, unsigned long ip, bool pooled);
void lab_debug_show_outstanding(struct seq_file *m);
void lab_debug_exit(void);

extern unsigned int lab_pages_per_cpu;
extern unsigned int lab_low_watermark;
extern bool lab_fallback;
extern bool lab_live;

int lab_reserve_init(void);
void lab_reserve_exit(void);
void lab_reserve_sync(void);
void lab_reserve_snapshot(unsigned int cpu, struct lab_cpu_snapshot *snap);
size_t lab_reserve_bookkeeping(void);
int lab_cpu_prepare(unsigned int cpu);
int lab_cpu_dead(unsigned int cpu);

#endif /* _LABYRINTH_INTERNAL_H */

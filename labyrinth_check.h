/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checks of a page given back, in one place: labyrinth_put() runs
 * lab_put_check() inline, and only for a page it refuses calls
 * lab_put_refusal() (labyrinth_check.c) for the verdict.  The words of
 * struct page they read, whose layout changes between kernels, are read
 * here too.
 */
#ifndef _LABYRINTH_CHECK_H
#define _LABYRINTH_CHECK_H

#include <linux/mm.h>
#include <linux/page_ref.h>
#include <linux/poison.h>
#include <linux/types.h>

#include "labyrinth_compat.h"

/**
 * lab_pp_word() - whether a page's pp_magic word carries the page_pool
 *	signature
 * @word: the page's pp_magic (also its lru.next and compound_head)
 *
 * Kernels that keep a DMA index beside the signature in pp_magic (6.12.y,
 * 6.15) mask it out with PP_MAGIC_MASK; earlier ones compare the signature
 * alone.
 *
 * Return: true if @word is the signature of a page_pool page.
 */
static inline bool lab_pp_word(unsigned long word)
{
#ifdef PP_MAGIC_MASK
	return (word & PP_MAGIC_MASK) == PP_SIGNATURE;
#else
	return (word & ~0x3UL) == PP_SIGNATURE;
#endif
}

/**
 * lab_page_is_pp() - whether @page belongs to a page_pool
 * @page: an order-0 page
 *
 * Return: true if @page carries the page_pool signature.
 */
static inline bool lab_page_is_pp(struct page *page)
{
	return lab_pp_word(READ_ONCE(page->pp_magic));
}

/**
 * lab_page_mapped() - whether an order-0 page is mapped into page tables
 * @page: a page that is not compound
 *
 * page_mapped() is out of line before 6.9; for an order-0 page it reads
 * the page's own mapcount, as this does.
 *
 * Return: true if @page is mapped somewhere.
 */
static inline bool lab_page_mapped(struct page *page)
{
	return atomic_read(&page->_mapcount) >= 0;
}

/* PG_hwpoison exists only with CONFIG_MEMORY_FAILURE. */
#ifdef CONFIG_MEMORY_FAILURE
#define LAB_PG_HWPOISON		BIT(PG_hwpoison)
#else
#define LAB_PG_HWPOISON		0UL
#endif

/*
 * The word of struct page that says which memory cgroup a page is charged
 * to: a page still charged is not the reserve's (the page allocator calls
 * it a bad page on free).
 */
static inline unsigned long lab_page_memcg(struct page *page)
{
#ifdef CONFIG_MEMCG
	return READ_ONCE(page->memcg_data);
#else
	return 0;
#endif
}

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
 * lab_put_check() - the check of a page given back, on the fast path
 * @page: the page given back
 *
 * Test the words of @page that tell whether labyrinth may pool it, then
 * freeze its reference count from one to zero: a page that passes both is
 * the reserve's.  Any other goes to lab_put_refusal() with the result.
 *
 * Context: Any context.
 * Return: 1 if @page may join the reserve (its count is zero now); else
 * the count the freeze found, or LAB_REF_UNSEEN if the test refused @page
 * first.
 */
static __always_inline int lab_put_check(struct page *page)
{
	if (unlikely(lab_page_unpoolable(page)))
		return LAB_REF_UNSEEN;
	return lab_ref_freeze(page);
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
void lab_report_hand_on(const char *why, struct page *page, unsigned long ip);

#endif /* _LABYRINTH_CHECK_H */

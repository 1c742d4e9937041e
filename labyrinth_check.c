// SPDX-License-Identifier: GPL-2.0
/*
 * What labyrinth_put() does with a page it may not pool, and how it says so.
 *
 * A reserve serves code in its most fragile state, so a page given back is
 * checked at least as strictly as the page allocator checks a page freed to
 * it.  Pages labyrinth may not own at all are left untouched: freeing or
 * pooling a slab page, a page-table page or a page of the page cache would
 * corrupt its real owner.  A page whose reference count is already zero was
 * given back before (it sits in the reserve, frozen) or freed elsewhere:
 * also left untouched.  Pages labyrinth may release but not pool (shared,
 * compound head, pfmemalloc) lose the caller's reference.
 *
 * Each refusal is reported once per call site, with the caller's symbol,
 * rate-limited besides: a driver that gives back a slab object on every
 * packet says so once, not a million times.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/printk.h>

#include "labyrinth_internal.h"

/* Call sites already reported; beyond this many, only the rate limit. */
#define LAB_REPORT_SITES	64

static unsigned long lab_reported[LAB_REPORT_SITES];

/*
 * Whether @ip is reported for the first time.  Lock-free, for any context:
 * a slot, once claimed with cmpxchg(), never changes.
 */
static bool first_report(unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < LAB_REPORT_SITES; i++) {
		unsigned long cur = READ_ONCE(lab_reported[i]);

		if (!cur) {
			cur = cmpxchg(&lab_reported[i], 0, ip);
			if (!cur)
				return true;
		}
		if (cur == ip)
			return false;
	}
	return true;
}

/**
 * lab_report_put() - report a refused put, once per call site
 * @why: what lab_put_refusal() said
 * @what: what it said to do
 * @page: the page
 * @ip: the caller of labyrinth_put()
 *
 * Context: Any context.
 */
void lab_report_put(const char *why, enum lab_refusal what, struct page *page,
		    unsigned long ip)
{
	if (first_report(ip))
		pr_warn_ratelimited("labyrinth_put() of %s (pfn %#lx) by %pS refused: %s\n",
				    why, page_to_pfn(page), (void *)ip,
				    what == LAB_LEAVE ? "left untouched" :
				    "reference dropped");
}

/* A page labyrinth may not own: what it is, or NULL. */
static const char *foreign(const struct page *page)
{
	if (PageTail(page))
		return "a tail page";
	if (PageSlab(page))
		return "a slab page";
	if (page_has_type(page))
		return "a typed page";
	if (lab_page_is_pp(page))
		return "a page_pool page";
	if (READ_ONCE(page->mapping))
		return "a page-cache or anonymous page";
	if (lab_page_mapped(page))
		return "a mapped page";
	if (PageReserved(page))
		return "a reserved page";
	if (PageHighMem(page))
		return "a highmem page";
	if (is_zone_device_page(page))
		return "a ZONE_DEVICE page";
	return NULL;
}

/**
 * lab_put_refusal() - why labyrinth_put() may not pool a page, and what
 *	to do with it
 * @page: a page lab_page_unpoolable() flagged, or whose reference count
 *	could not be frozen from one
 * @what: set to what labyrinth_put() does with @page
 *
 * Context: Any context.
 * Return: what @page is, for the report: "a slab page", ...
 */
const char *lab_put_refusal(struct page *page, enum lab_refusal *what)
{
	const char *why = foreign(page);

	*what = LAB_LEAVE;
	if (why)
		return why;
	if (!page_ref_count(page))
		return "a page already given back (or freed)";
	*what = LAB_RELEASE_FOREIGN;
	if (PageCompound(page))
		return "a compound page";
	*what = LAB_RELEASE;
	if (page_is_pfmemalloc(page))
		return "a pfmemalloc page";
	return "a shared page";
}

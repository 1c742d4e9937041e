// SPDX-License-Identifier: GPL-2.0
/*
 * What labyrinth_put() does with a page it may not pool, and how it says so.
 *
 * A reserve serves code in its most fragile state, so a page given back is
 * checked at least as strictly as the page allocator checks a page freed to
 * it: every flag, word and count that the allocator's free_page_is_bad()
 * looks at is looked at here too.  Pages labyrinth may not own at all are
 * left untouched: freeing or pooling a slab page, a page-table page or a
 * page of the page cache (on an LRU list even once truncated) would
 * corrupt its real owner.  A page whose reference count is already zero
 * was given back before (it sits in the reserve, frozen) or freed
 * elsewhere: also left untouched.  Pages labyrinth may release but not
 * pool (compound head, pfmemalloc, memory error) lose the caller's
 * reference.
 *
 * Each refusal is reported once per call site, with the caller's symbol,
 * rate-limited besides: a driver that gives back a slab object on every
 * packet says so once, not a million times.  A page someone else still
 * references is not refused: a speculative reference (folio_try_get() on
 * a stale pointer) may hold a page for a moment while its owner gives it
 * back; the caller's reference is dropped, as page_pool does, and counted.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/kasan.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <kunit/visibility.h>

#include "labyrinth_check.h"
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

/**
 * lab_report_hand_on() - report a refused labyrinth_hand_on(), once per
 *	call site
 * @why: what the page is: "a page nobody holds", ...
 * @page: the page
 * @ip: the caller of labyrinth_hand_on()
 *
 * Context: Any context.
 */
void lab_report_hand_on(const char *why, struct page *page, unsigned long ip)
{
	if (first_report(ip))
		pr_warn_ratelimited("labyrinth_hand_on() of %s (pfn %#lx) by %pS ignored\n",
				    why, page_to_pfn(page), (void *)ip);
}

/* A page labyrinth may not own: what it is, or NULL. */
static const char *foreign(struct page *page)
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
	if (PageLRU(page))
		return "a page on an LRU list";
	if (lab_page_memcg(page))
		return "a page charged to a memory cgroup";
	if (lab_page_mapped(page))
		return "a mapped page";
	if (PageReserved(page))
		return "a reserved page";
	if (PageHighMem(page))
		return "a highmem page";
	if (is_zone_device_page(page))
		return "a ZONE_DEVICE page";
	if (atomic_read(&page->_mapcount) != -1)
		return "a page with a damaged mapcount";
	if (lab_page_flags(page) & PAGE_FLAGS_CHECK_AT_FREE)
		return "a page with flags the page allocator refuses on free";
	return NULL;
}

/**
 * lab_put_refusal() - why labyrinth_put() may not pool a page, and what
 *	to do with it
 * @page: a page lab_page_unpoolable() flagged, or whose reference count
 *	could not be frozen from one
 * @seen: the reference count lab_ref_freeze() found, or LAB_REF_UNSEEN
 *	if it did not run
 * @what: set to what labyrinth_put() does with @page
 *
 * The count is read here only when lab_ref_freeze() did not run, that is
 * for a page lab_page_unpoolable() refused: the reserve never holds such a
 * page (but one a memory error struck while pooled, which is never served
 * again), so no get can change the count between the test and this read.
 *
 * Context: Any context.
 * Return: what @page is, for the report: "a slab page", ...
 */
const char *lab_put_refusal(struct page *page, int seen,
			    enum lab_refusal *what)
{
	const char *why = foreign(page);

	*what = LAB_LEAVE;
	if (why)
		return why;
	if (seen == LAB_REF_UNSEEN)
		seen = page_ref_count(page);
	if (seen <= 0)
		return "a page already given back (or freed)";
	*what = LAB_RELEASE_FOREIGN;
	if (PageCompound(page))
		return "a compound page";
	*what = LAB_RELEASE;
	if (PageHWPoison(page))
		return "a page with a memory error";
	if (page_is_pfmemalloc(page))
		return "a pfmemalloc page";
	*what = LAB_SHARED;
	return "a shared page";
}

/*
 * The debug parameter.  While it is on, every get and put takes the slow
 * path, and:
 *
 *  - a put fills the page with LAB_DEBUG_FILL and records its caller in
 *    the page (page->private, and in page->index the caller mixed with
 *    LAB_DEBUG_MAGIC, so that neither alone makes a mark: both fields are
 *    the reserve's while the page is pooled);
 *  - the worker, before it clears such a page, and a get, before it hands
 *    one out, check that it still holds the pattern (or, once cleared, only
 *    zeroes): a write after labyrinth_put() is reported with the pfn, the
 *    function that put the page and the one that took it;
 *  - every page handed out is recorded with the function that took it, in
 *    a table of outstanding pages, read in debugfs ("outstanding") and
 *    reported at unload: who holds pages that never came back.
 *
 * The table is an open-addressing hash of pfns (linear probing, entries
 * moved back on removal), sized when debug is first switched on and kept
 * until unload; a page that finds it full is counted as untracked.  It
 * holds two entries per pooled page, 16 MiB for 64 CPUs at the largest
 * pages_per_cpu: whatever sweeps it (clearing it, reading it) takes its
 * lock for LAB_OUT_BATCH entries at a time, so that no interrupts-off
 * section grows with the table.
 */
#define LAB_DEBUG_FILL		0x6c	/* 'l' */
#define LAB_DEBUG_MAGIC		0x6c616279UL	/* "laby" */
#define LAB_OUT_MIN		4096
#define LAB_OUT_BATCH		512	/* entries per interrupts-off section */

DEFINE_STATIC_KEY_FALSE(lab_debug_key);

struct lab_out {
	unsigned long pfn;	/* 0: free slot */
	unsigned long ip;	/* the function that took the page */
	const struct labyrinth_reserve *owner;	/* the reserve that served it */
};

static DEFINE_RAW_SPINLOCK(lab_out_lock);	/* the table below */
static struct lab_out *lab_out;
static unsigned int lab_out_bits;
static unsigned long lab_out_untracked;

static unsigned long out_slot(unsigned long pfn)
{
	return hash_long(pfn, lab_out_bits);
}

static unsigned long out_next(unsigned long i)
{
	return (i + 1) & ((1UL << lab_out_bits) - 1);
}

/* Record that @pfn was taken from @owner by @ip.  lab_out_lock held. */
static void out_add(unsigned long pfn, unsigned long ip,
		    const struct labyrinth_reserve *owner)
{
	unsigned long i = out_slot(pfn), n;

	for (n = 0; n < (1UL << lab_out_bits); n++, i = out_next(i)) {
		if (!lab_out[i].pfn || lab_out[i].pfn == pfn) {
			lab_out[i].pfn = pfn;
			lab_out[i].ip = ip;
			lab_out[i].owner = owner;
			return;
		}
	}
	lab_out_untracked++;
}

/*
 * Forget @pfn, moving back the entries of its probe run that the hole
 * would cut off from their slot.  lab_out_lock held.  Return: the reserve
 * that served it, or NULL if the table did not list it.
 */
static const struct labyrinth_reserve *out_del(unsigned long pfn)
{
	const struct labyrinth_reserve *owner;
	unsigned long i = out_slot(pfn), j, home, n;

	for (n = 0; lab_out[i].pfn != pfn; n++, i = out_next(i))
		if (!lab_out[i].pfn || n == (1UL << lab_out_bits))
			return NULL;
	owner = lab_out[i].owner;
	for (j = out_next(i); lab_out[j].pfn; j = out_next(j)) {
		home = out_slot(lab_out[j].pfn);
		/* Keep j where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		lab_out[i] = lab_out[j];
		i = j;
	}
	lab_out[i].pfn = 0;
	return owner;
}

/**
 * lab_debug_enable() - switch the debug checks on or off
 * @on: the new state
 * @pages: pages the reserves hold at most (to size the table)
 *
 * Context: Process context (a parameter write or module load).  Sleeps.
 * Return: 0, or -ENOMEM if the table of outstanding pages could not be
 * allocated (debug then stays off).
 */
int lab_debug_enable(bool on, unsigned long pages)
{
	unsigned long flags, i;
	unsigned int bits;

	if (!on) {
		static_branch_disable(&lab_debug_key);
		return 0;
	}
	if (!lab_out) {
		bits = order_base_2(max(2 * pages, (unsigned long)LAB_OUT_MIN));
		lab_out = vcalloc(1UL << bits, sizeof(*lab_out));
		if (!lab_out)
			return -ENOMEM;
		lab_out_bits = bits;
	}
	if (static_key_enabled(&lab_debug_key))
		return 0;
	/*
	 * Pages handed out while debug was off are not known.  Nobody adds
	 * to the table while it is off but a caller that saw it on just
	 * before: whatever it records is a page it did take.
	 */
	for (i = 0; i < (1UL << lab_out_bits); i += LAB_OUT_BATCH) {
		raw_spin_lock_irqsave(&lab_out_lock, flags);
		memset(&lab_out[i], 0, sizeof(*lab_out) * LAB_OUT_BATCH);
		raw_spin_unlock_irqrestore(&lab_out_lock, flags);
		cond_resched();
	}
	raw_spin_lock_irqsave(&lab_out_lock, flags);
	lab_out_untracked = 0;
	raw_spin_unlock_irqrestore(&lab_out_lock, flags);
	static_branch_enable(&lab_debug_key);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lab_debug_enable);

/* @page, taken from @r by @ip, is handed out: remember it. */
static void track(const struct labyrinth_reserve *r, struct page *page,
		  unsigned long ip)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&lab_out_lock, flags);
	out_add(page_to_pfn(page), ip, r);
	raw_spin_unlock_irqrestore(&lab_out_lock, flags);
}

/**
 * lab_debug_untrack() - a page handed out is back, or released
 * @page: the page
 *
 * Context: Any context but NMI.  Debug on.
 * Return: whether the table listed @page.
 */
bool lab_debug_untrack(struct page *page)
{
	const struct labyrinth_reserve *owner;
	unsigned long flags;

	raw_spin_lock_irqsave(&lab_out_lock, flags);
	owner = out_del(page_to_pfn(page));
	raw_spin_unlock_irqrestore(&lab_out_lock, flags);
	return owner;
}

/**
 * lab_debug_put() - mark a page given back while debug is on
 * @r: the reserve it is given back to
 * @page: the page, just accepted into @r
 * @ip: the caller of labyrinth_put()
 *
 * A page another reserve served is reported: it joins @r all the same.
 *
 * Context: Any context but NMI.  Debug on.
 */
void lab_debug_put(const struct labyrinth_reserve *r, struct page *page,
		   unsigned long ip)
{
	const struct labyrinth_reserve *owner;
	unsigned long flags;

	raw_spin_lock_irqsave(&lab_out_lock, flags);
	owner = out_del(page_to_pfn(page));
	raw_spin_unlock_irqrestore(&lab_out_lock, flags);
	if (owner && owner != r)
		pr_warn_ratelimited("pfn %#lx served by reserve %s given back to reserve %s by %pS\n",
				    page_to_pfn(page), owner->name, r->name,
				    (void *)ip);
	kasan_disable_current();
	memset(page_address(page), LAB_DEBUG_FILL, PAGE_SIZE);
	kasan_enable_current();
	lab_page_index(page) = LAB_DEBUG_MAGIC ^ ip;
	set_page_private(page, ip);
}

/**
 * lab_debug_forget() - remove lab_debug_put()'s mark from a page
 * @page: a page leaving the reserve for the page allocator
 *
 * The allocator clears page->private of the pages it hands out, but not
 * page->index: without this a stale half of the mark would stay behind.
 *
 * Context: Any context.
 */
void lab_debug_forget(struct page *page)
{
	lab_page_index(page) = 0;
	set_page_private(page, 0);
}

/**
 * lab_debug_check() - check a page given back while debug was on
 * @page: a page of the reserve
 * @taker: the function taking it, or 0 for the refill worker
 *
 * A page that carries lab_debug_put()'s mark must hold its pattern, or
 * nothing but zeroes once the worker cleared it.  The mark is removed.
 *
 * Context: Any context but NMI.
 * Return: true if the page was written after labyrinth_put() (reported).
 */
bool lab_debug_check(struct page *page, unsigned long taker)
{
	const u8 *addr = page_address(page), *bad;
	unsigned long putter = page_private(page);
	u8 val = 0;

	if (!putter || lab_page_index(page) != (LAB_DEBUG_MAGIC ^ putter))
		return false;
	lab_debug_forget(page);
	/* The page may still be poisoned for KASAN: this is no use. */
	kasan_disable_current();
	bad = memchr_inv(addr, LAB_DEBUG_FILL, PAGE_SIZE);
	if (bad && !memchr_inv(addr, 0, PAGE_SIZE))
		bad = NULL;
	if (bad)
		val = *bad;
	kasan_enable_current();
	if (!bad)
		return false;
	pr_err_ratelimited("pfn %#lx written after labyrinth_put(): byte %ld is %#x; put by %pS, %s %pS\n",
			   page_to_pfn(page), (long)(bad - addr), val,
			   (void *)putter, taker ? "taken by" : "found by",
			   taker ? (void *)taker : (void *)_RET_IP_);
	return true;
}

/**
 * lab_debug_get() - a page is handed out while debug is on
 * @r: the reserve that serves it
 * @page: the page
 * @ip: the caller of labyrinth_get()
 * @pooled: @page comes from @r's pools (not from the fallback)
 *
 * Context: Any context but NMI.  Debug on.
 * Return: true if the page was written after labyrinth_put() (reported).
 */
bool lab_debug_get(const struct labyrinth_reserve *r, struct page *page,
		   unsigned long ip, bool pooled)
{
	bool bad = pooled && lab_debug_check(page, ip);

	track(r, page, ip);
	return bad;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Call @show for every function that holds outstanding pages of @r, with
 * their number, then (for the default reserve, with which the table's
 * overflow is counted) for the untracked ones (ip 0).  The table
 * is read a batch at a time: while pages come and go, an entry moved from
 * a batch not yet read to one already read (a removal moves entries back)
 * is missed, one moved the other way counted twice.  Return: pages in all.
 */
static unsigned long walk_holders(const struct labyrinth_reserve *r,
				  void (*show)(void *arg, unsigned long ip,
					       unsigned long nr),
				  void *arg)
{
	unsigned long i, j, n = 0, run, *ips, untracked, flags;
	size_t size;

	if (!lab_out)
		return 0;
	size = 1UL << lab_out_bits;
	ips = kvmalloc_array(size, sizeof(*ips), GFP_KERNEL);
	if (!ips)
		return 0;
	for (i = 0; i < size; i += LAB_OUT_BATCH) {
		raw_spin_lock_irqsave(&lab_out_lock, flags);
		for (j = i; j < i + LAB_OUT_BATCH; j++)
			if (lab_out[j].pfn && lab_out[j].owner == r)
				ips[n++] = lab_out[j].ip;
		raw_spin_unlock_irqrestore(&lab_out_lock, flags);
		cond_resched();
	}
	raw_spin_lock_irqsave(&lab_out_lock, flags);
	untracked = r == &lab_default ? lab_out_untracked : 0;
	raw_spin_unlock_irqrestore(&lab_out_lock, flags);

	sort(ips, n, sizeof(*ips), cmp_ulong, NULL);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && ips[i + run] == ips[i]; run++)
			;
		show(arg, ips[i], run);
	}
	if (untracked)
		show(arg, 0, untracked);
	kvfree(ips);
	return n + untracked;
}

static void seq_holder(void *arg, unsigned long ip, unsigned long nr)
{
	if (ip)
		seq_printf(arg, "%pS %lu\n", (void *)ip, nr);
	else
		seq_printf(arg, "untracked %lu\n", nr);
}

/**
 * lab_debug_show_outstanding() - the debugfs file "outstanding"
 * @m: the file
 * @r: the reserve it is of
 *
 * One line per function holding pages taken while debug was on and not
 * given back: "my_rx_refill+0x4c/0x120 17"; then "untracked N" for those
 * the table had no room for.
 *
 * Context: Process context.  Sleeps.
 */
void lab_debug_show_outstanding(struct seq_file *m,
				const struct labyrinth_reserve *r)
{
	walk_holders(r, seq_holder, m);
}
EXPORT_SYMBOL_IF_KUNIT(lab_debug_show_outstanding);

static void warn_holder(void *arg, unsigned long ip, unsigned long nr)
{
	const struct labyrinth_reserve *r = arg;

	if (!ip)
		pr_warn("%lu pages taken while debug was on, not tracked\n", nr);
	else if (r == &lab_default)
		pr_warn("%lu pages taken by %pS not returned\n", nr, (void *)ip);
	else
		pr_warn("reserve %s: %lu pages taken by %pS not returned\n",
			r->name, nr, (void *)ip);
}

/**
 * lab_debug_report() - report who holds pages of a reserve going away
 * @r: the reserve
 *
 * Context: Process context.  Sleeps.
 * Return: the pages the table lists as taken from @r and not back.
 */
unsigned long lab_debug_report(const struct labyrinth_reserve *r)
{
	return walk_holders(r, warn_holder, (void *)r);
}

/**
 * lab_debug_exit() - report who kept pages, free the table
 *
 * Context: Process context, no user of the reserve left.  Sleeps.
 */
void lab_debug_exit(void)
{
	static_branch_disable(&lab_debug_key);
	lab_debug_report(&lab_default);
	vfree(lab_out);
	lab_out = NULL;
}

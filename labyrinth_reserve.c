// SPDX-License-Identifier: GPL-2.0
/*
 * The per-CPU reserve itself: fill, get, put, steal, refill, drain.
 *
 * Every CPU owns a struct lab_cpu.  Its pages sit in three places:
 *
 *  hot[]	a small array that only the owning CPU touches, with interrupts
 *		off.  Gets and puts are served here: no lock, no atomic
 *		read-modify-write, no cache line written by another CPU.
 *  dirty	pages given back while the kernel wants pages initialised
 *		(init_on_alloc or init_on_free).  Owner only, interrupts off.
 *		The refill worker clears them and moves them to the stash.
 *  stash	the rest of the pool, under stash_lock.  The owner moves
 *		batches between hot[] and the stash; other CPUs steal from it
 *		once their own pool is empty; the refill worker tops it up.
 *
 * The level of a pool is nr_hot + nr_dirty + nr_stash; its capacity is its
 * reserve's pages_per_cpu.
 *
 * A pool keeps pages of its CPU's memory node only (pool_node()): it is
 * filled there (__GFP_THISNODE), a put of a page of another node frees it,
 * and a theft from a CPU of another node takes only the page it serves.
 *
 * Memory going offline: the page allocator isolates the range, then asks
 * its users to let go (MEM_GOING_OFFLINE), then waits until every page of
 * it is free.  A pooled page, its count frozen at zero, does not stop the
 * isolation but would keep the wait going for ever; so every pool gives
 * the range's pages back (purge_offline(), in each CPU's worker), and until
 * the offline ends or is cancelled no page of the range joins a pool: puts
 * leave the fast path (put_max is 0) and the slow paths look at the range
 * (leaving()).  A page of the range that a user holds is released when it
 * comes back.
 *
 * Lock order:
 *
 *   local_irq_save() on the owning CPU
 *     stash_lock of one CPU (ours, or a victim's when stealing)
 *
 * and in process context, where reserves are made, resized and destroyed
 * and CPUs and memory come and go (none of it taken on the get and put
 * paths, nor by the refill workers):
 *
 *   kernel_param_lock (a parameter write)
 *     CPU hotplug lock (mem_hotplug_lock within it, for memory offlining)
 *       lab_reserves_lock: the list of reserves and what they may hold
 *
 * Interrupts are disabled rather than taking a local_lock_t because hard-IRQ
 * callers must be able to enter: local_lock_t is a sleeping lock on
 * PREEMPT_RT and, for lockdep, the wrong wait type in hard-IRQ context.  For
 * the same reason stash_lock is a raw spinlock.
 *
 * The owner-only fields are written by the owning CPU with interrupts off,
 * or by anyone while that CPU cannot use its pool: before it comes online,
 * after it is dead, and while the module loads or unloads.  The refill
 * worker is bound to the pool's CPU and checks, in every interrupts-off
 * section, that it still runs there (refill_collect(), owns()): while the
 * CPU goes down the worker may be moved elsewhere, and then it leaves the
 * pool to lab_cpu_dead().
 *
 * Returned pages wait for the worker on the dirty list, up to LAB_DIRTY_MAX;
 * when the worker cannot keep up (it cannot run while the CPU stays in
 * interrupt context or with preemption off), puts clear their page
 * themselves, so that a get clears a page only when nothing clean is left.
 *
 * The fast path of a get or a put moves one page between the caller and
 * hot[] and counts it: it compares nr_hot with bounds that the slow paths
 * and the worker keep up to date (set_bounds()), takes no lock and calls
 * nothing.  Everything else, tracepoints included, is left to get_slow()
 * and put_slow().
 *
 * Every section that touches a pool's owner-only fields on its CPU, or
 * takes its stash_lock there, runs with interrupts off and with @active
 * raised (pool_enter(), stash_lock_on()).  Nothing but an NMI, or an
 * exception that enters like one (a kernel int3 or #DB on x86, which a
 * real NMI may interrupt in turn), can come in between, and such a caller
 * reads @active first, as kernel/bpf/memalloc.c does:
 *
 *  - zero: it interrupted none of labyrinth's sections on this CPU, so it
 *    raises @active and uses the owner's part of the pool as the owner
 *    does (hot[], the dirty list), but takes no lock (the stash is out of
 *    its reach) and never calls the page allocator;
 *  - not zero: it leaves the pool alone and uses two structures of its
 *    own, safe against it and against each other:
 *
 *  share	a small stack of clean pages (LAB_NMI_MAX at most, a quarter of
 *		the capacity), which the refill worker tops up from the
 *		stash.  Everyone pops and pushes with cmpxchg_local() on a
 *		word that holds the count and a generation that every change
 *		bumps, so that a nested caller in between is seen.
 *  deferred	lock-free lists (llist) of the pages given back there, and
 *		of pages whose release needs the page allocator, which NMI
 *		callers (and hard-IRQ callers on PREEMPT_RT) may not call.
 *		The worker empties them.  A page on either list is the
 *		reserve's alone: its reference count is zero.
 *
 * Where cmpxchg() is not NMI-safe (!ARCH_HAVE_NMI_SAFE_CMPXCHG) NMI
 * callers are refused.
 *
 * The worker is kicked through an irq_work, never directly: get and put
 * call no workqueue, timer or scheduler function, whatever locks their
 * caller holds.
 */
#include <linux/cpu.h>
#include <linux/highmem.h>
#include <linux/irq_work.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "labyrinth.h"
#include "labyrinth_check.h"
#include "labyrinth_internal.h"

#define CREATE_TRACE_POINTS
#include "labyrinth_trace.h"

#define LAB_HOT_MAX	32		/* pages in hot[] at most */
#define LAB_FILL_CHUNK	16		/* pages per bulk allocation */
#define LAB_CLEAR_BATCH	16		/* returned pages cleared per round */
#define LAB_DIRTY_MAX	32		/* returned pages waiting for the worker */
#define LAB_TRIM_BATCH	64U		/* pages trimmed per interrupts-off section */
#define LAB_BACKOFF	(HZ / 10)	/* refill retry delay when memory is short */
#define LAB_NMI_MAX	8		/* pages in the NMI share at most */
#define LAB_SHARE_NR	0xffUL		/* share word: count, below the generation */
#define LAB_GFP_FILL	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

/**
 * struct lab_cpu - one CPU's reserve
 * @active: raised while a section of this CPU uses the pool (see the top
 *	of this file); an NMI that finds it raised leaves the pool alone
 * @nr_hot: pages in @hot (owner only)
 * @get_min: a get may take a page from @hot without a second look while
 *	@nr_hot is above this (owner only; see set_bounds())
 * @put_max: a put may add its page to @hot without a second look while
 *	@nr_hot is below this (owner only; see set_bounds())
 * @nr_dirty: pages on @dirty (owner only)
 * @stash_seen: @nr_stash when the owner (or the worker, on the owner's CPU)
 *	last changed it; thieves only lower @nr_stash, so @nr_hot + @nr_dirty
 *	+ @stash_seen never understates the level (owner only)
 * @min_level: lowest level the owner has seen (owner only)
 * @cpu: the owning CPU
 * @nid: the node whose pages the pool keeps, or NUMA_NO_NODE for any
 *	(see pool_node())
 * @dirty: returned pages waiting to be cleared (owner only)
 * @stat: event counters, summed over CPUs by readers; each is written
 *	only by the owner (interrupts off) or only by the refill worker
 * @hot: the pages served first (owner only)
 * @stash_lock: protects @nr_stash and @stash
 * @nr_stash: pages on @stash
 * @stash: the pool's pages that other CPUs may steal
 * @allocated: pages this pool took from the page allocator
 * @released: pages this pool gave back to the page allocator
 * @r: the reserve this pool is part of (read by the slow paths only)
 * @refill: the worker that clears, tops up and trims this pool
 * @retry_at: when the worker may allocate again after falling short
 *	(worker; lab_sync() resets it)
 * @kick: queues @refill; any context may raise it, NMI included.  A hard
 *	irq_work, run in hard-IRQ context on PREEMPT_RT too: a lazy one waits
 *	for a per-CPU thread that is parked before a CPU goes down, and
 *	lab_cpu_dead() would wait for it for ever
 * @share_word: pages in @share (the low bits) and a generation above them
 * @share: clean pages for NMI callers (see the top of this file)
 * @deferred: pages given back in NMI for the worker to pool
 * @release: pages the worker frees: those whose last reference a put
 *	dropped, and those of another node, where the allocator may not be
 *	called; their reference count is zero
 * @nmi_stat: event counters written in NMI only, summed with @stat
 * @deferred_done: pages of @deferred the worker took (worker)
 */
struct lab_cpu {
	unsigned int active;
	unsigned int nr_hot;
	unsigned int get_min;
	unsigned int put_max;
	unsigned int nr_dirty;
	unsigned int stash_seen;
	unsigned int min_level;
	unsigned int cpu;
	int nid;
	struct list_head dirty;
	unsigned long stat[LAB_NR_STATS];
	struct page *hot[LAB_HOT_MAX];

	raw_spinlock_t stash_lock ____cacheline_aligned_in_smp;
	unsigned int nr_stash;
	struct list_head stash;
	atomic_long_t allocated;
	atomic_long_t released;

	struct labyrinth_reserve *r;
	struct delayed_work refill;
	unsigned long retry_at;
	struct irq_work kick;

	unsigned long share_word ____cacheline_aligned_in_smp;
	struct page *share[LAB_NMI_MAX];
	struct llist_head deferred;
	struct llist_head release;
	unsigned long nmi_stat[LAB_NR_STATS];
	unsigned long deferred_done;
};

#if IS_ENABLED(CONFIG_KUNIT)
static void (*lab_test_hook)(enum lab_hook_point where, struct page *page);

/**
 * lab_set_test_hook() - set the function the test hooks call, or NULL
 * @fn: called with the hook point and the page concerned
 *
 * Context: Any context.
 */
void lab_set_test_hook(void (*fn)(enum lab_hook_point where,
				  struct page *page))
{
	WRITE_ONCE(lab_test_hook, fn);
}
EXPORT_SYMBOL_IF_KUNIT(lab_set_test_hook);

/* Run the test hook, if a KUnit case set one.  Any context. */
static void lab_hook(enum lab_hook_point where, struct page *page)
{
	void (*fn)(enum lab_hook_point where, struct page *page);

	fn = READ_ONCE(lab_test_hook);
	if (unlikely(fn))
		fn(where, page);
}
#else
static void lab_hook(enum lab_hook_point where, struct page *page)
{
}
#endif

/* The pfns of memory going offline, or none (nr zero); see leaving(). */
static unsigned long lab_offline_start, lab_offline_nr;
static struct workqueue_struct *lab_wq;

/* The reserve labyrinth_get() and labyrinth_put() serve. */
struct labyrinth_reserve lab_default = {
	.pages_per_cpu	= 128,
	.low_watermark	= 32,
	.fallback	= true,
	.name		= "default",
};
EXPORT_SYMBOL_IF_KUNIT(lab_default);

/* Every reserve with pools, the default one first; hotplug walks them. */
DEFINE_MUTEX(lab_reserves_lock);
LIST_HEAD(lab_reserves);

static unsigned int capacity(const struct labyrinth_reserve *r)
{
	return READ_ONCE(r->pages_per_cpu);
}

static unsigned int low_watermark(const struct labyrinth_reserve *r)
{
	return READ_ONCE(r->low_watermark);
}

/*
 * Raise and lower @c->active around a section of @c's CPU, interrupts off.
 * Only an NMI can see it between the two: the barriers keep the pool's
 * fields out of that window, so that an NMI which found it zero is done
 * before the section reads any of them.  The increment need not be atomic:
 * an NMI that comes in the middle of it leaves the value as it found it.
 */
static void active_raise(struct lab_cpu *c)
{
	WRITE_ONCE(c->active, c->active + 1);
	barrier();
}

static void active_lower(struct lab_cpu *c)
{
	barrier();
	WRITE_ONCE(c->active, c->active - 1);
}

/* Enter the owner's section of this CPU's pool: interrupts off, active. */
static struct lab_cpu *pool_enter(struct labyrinth_reserve *r,
				  unsigned long *flags)
{
	struct lab_cpu *c;

	local_irq_save(*flags);
	c = this_cpu_ptr(r->cpus);
	active_raise(c);
	return c;
}

static void pool_exit(struct lab_cpu *c, unsigned long flags)
{
	active_lower(c);
	local_irq_restore(flags);
}

/*
 * Take @c's stash_lock from any CPU, outside the owner's section.  On @c's
 * own CPU (a worker, or a task that migrated there since it chose @c) the
 * section raises @active, so that an NMI never spins on a lock its own CPU
 * holds.  Return: whether it did (for stash_unlock_on()).
 */
static bool stash_lock_on(struct lab_cpu *c, unsigned long *flags)
	__acquires(&c->stash_lock)
{
	bool own;

	local_irq_save(*flags);
	own = smp_processor_id() == c->cpu;
	if (own)
		active_raise(c);
	raw_spin_lock(&c->stash_lock);
	return own;
}

static void stash_unlock_on(struct lab_cpu *c, bool own, unsigned long flags)
	__releases(&c->stash_lock)
{
	raw_spin_unlock(&c->stash_lock);
	if (own)
		active_lower(c);
	local_irq_restore(flags);
}

/* Count an event of an NMI that found the pool busy: nested ones may too. */
static void nmi_stat_inc(struct labyrinth_reserve *r, enum lab_stat_item item)
{
	this_cpu_inc(r->cpus->nmi_stat[item]);
}

/*
 * Whether @page is in memory going offline, which no pool may keep.  Read
 * where a page joins a pool other than by the fast path (which the bounds
 * close meanwhile) and in the worker's purge; the notifier writes the range
 * before it runs any purge, so a path that runs after the purge of its CPU,
 * or under a stash_lock the purge took, sees it.
 */
static bool leaving(const struct page *page)
{
	unsigned long nr = READ_ONCE(lab_offline_nr);

	return unlikely(nr) &&
	       page_to_pfn(page) - READ_ONCE(lab_offline_start) < nr;
}

/* Whether @page is of @c's node, the only one whose pages @c keeps. */
static bool page_home(const struct lab_cpu *c, const struct page *page)
{
	return !IS_ENABLED(CONFIG_NUMA) || c->nid == NUMA_NO_NODE ||
	       page_to_nid(page) == c->nid;
}

/*
 * The node whose pages @cpu's pool keeps: the nearest node with memory
 * that GFP_KERNEL may use.  A CPU whose node has none (memoryless, or
 * only ZONE_MOVABLE) keeps pages of any node, filled as the page
 * allocator's fallback order gives them.
 */
static int pool_node(unsigned int cpu)
{
	int nid = cpu_to_mem(cpu);

	return node_state(nid, N_NORMAL_MEMORY) ? nid : NUMA_NO_NODE;
}

static unsigned int hot_max(unsigned int cap)
{
	return min_t(unsigned int, cap, LAB_HOT_MAX);
}

static unsigned int share_nr(const struct lab_cpu *c)
{
	return READ_ONCE(c->share_word) & LAB_SHARE_NR;
}

/* Pages given back in NMI that the worker has not taken yet. */
static unsigned int deferred_nr(const struct lab_cpu *c)
{
	return READ_ONCE(c->nmi_stat[LAB_PUT_DEFERRED]) -
	       READ_ONCE(c->deferred_done);
}

/* The pages the NMI share keeps out of a pool of @cap pages. */
static unsigned int share_target(unsigned int cap)
{
	return min_t(unsigned int, cap / 4, LAB_NMI_MAX);
}

/* The exact level; reads the stash's and the share's cache lines. */
static unsigned int pool_level(const struct lab_cpu *c)
{
	return c->nr_hot + c->nr_dirty + READ_ONCE(c->nr_stash) +
	       share_nr(c) + deferred_nr(c);
}

/*
 * The level as the owner last saw it, from cache lines only its own CPU
 * writes (the NMI share's included): what the slow paths and the fast
 * path's bounds judge by.  It may overstate the level after a theft, and
 * the thief then schedules the victim's refill itself.
 */
static unsigned int level_seen(const struct lab_cpu *c)
{
	return c->nr_hot + c->nr_dirty + c->stash_seen + share_nr(c);
}

/*
 * Any CPU, stash_lock held: @c's stash holds @nr pages now.  Its bit in
 * the reserve's stocked mask is written only when the stash empties or
 * stops being empty, and is only a hint: a thief takes the lock before it
 * trusts it.
 */
static void stash_count(struct lab_cpu *c, unsigned int nr)
{
	struct cpumask *stocked = c->r->stocked;

	WRITE_ONCE(c->nr_stash, nr);
	if (!nr != !cpumask_test_cpu(c->cpu, stocked)) {
		if (nr)
			cpumask_set_cpu(c->cpu, stocked);
		else
			cpumask_clear_cpu(c->cpu, stocked);
	}
}

/* nr_stash changed under stash_lock, by the owner or with the pool idle. */
static void set_stash(struct lab_cpu *c, unsigned int nr)
{
	stash_count(c, nr);
	c->stash_seen = nr;
}

static bool clear_needed(void)
{
	return want_init_on_alloc(0) || want_init_on_free();
}

/*
 * Owner: derive the fast path's bounds from the rest of the pool (the dirty
 * list and the stash as last seen), min_level and the parameters; called
 * whenever one of them changes.  Until the next call only nr_hot moves, and
 *
 *  - a get that finds nr_hot above get_min leaves the level at or above
 *    both min_level and low_watermark: nothing to record, no refill due;
 *  - a put that finds nr_hot below put_max has room in hot[] and keeps the
 *    level within pages_per_cpu.  While returned pages must be cleared,
 *    put_max is 0: they go to the dirty list.
 *
 * Anything else takes the slow path, which looks at the whole pool.  A
 * stale bound (a worker moved off a dying CPU, a parameter written and not
 * yet synced) misjudges the level for a while, never hot[]'s bounds:
 * put_max is at most hot_max() and a get needs nr_hot above get_min >= 0.
 */
static void set_bounds(struct lab_cpu *c)
{
	unsigned int low = max(c->min_level, low_watermark(c->r));
	unsigned int rest = c->nr_dirty + c->stash_seen + share_nr(c);
	unsigned int cap = capacity(c->r);

	c->get_min = low > rest ? low - rest : 0;
	if (clear_needed() || cap <= rest || READ_ONCE(lab_offline_nr))
		c->put_max = 0;
	else
		c->put_max = min(hot_max(cap), cap - rest);
}

/*
 * The irq_work behind kick_refill(), run on the CPU that raised it (in
 * hard-IRQ context, or in a thread on PREEMPT_RT): run @c's refill worker
 * soon.  If it is waiting out a backoff and returned pages wait to be
 * cleared, run it now: the backoff holds for allocating, not for clearing.
 */
static void kick_fn(struct irq_work *work)
{
	struct lab_cpu *c = container_of(work, struct lab_cpu, kick);

	/* A CPU going down: lab_cpu_dead() drains the pool, no worker. */
	if (!cpu_online(c->cpu))
		return;
	if (!delayed_work_pending(&c->refill))
		queue_delayed_work_on(c->cpu, lab_wq, &c->refill, 0);
	else if ((READ_ONCE(c->nr_dirty) || !llist_empty(&c->deferred) ||
		  !llist_empty(&c->release)) && timer_pending(&c->refill.timer))
		mod_delayed_work_on(c->cpu, lab_wq, &c->refill, 0);
}

/*
 * Have @c's refill worker run soon.  Any context, NMI included: the
 * workqueue is called later, from kick_fn(), on this CPU.  Not for a CPU
 * that is not online: its pool is filled before it comes up and drained
 * once it is down.
 */
static void kick_refill(struct lab_cpu *c)
{
	if (!cpu_online(c->cpu))
		return;
	/*
	 * Queued, not waiting out a backoff: it runs soon and looks at the
	 * pool then, no interrupt needed.  (@c's state reaches its worker
	 * in program order on @c's CPU, or through @c's stash_lock.)
	 */
	if (delayed_work_pending(&c->refill) && !timer_pending(&c->refill.timer))
		return;
	irq_work_queue(&c->kick);
}

/* Called by the owner after it took a page: track the level, refill early. */
static void note_level(struct lab_cpu *c)
{
	unsigned int level = level_seen(c);

	lockdep_assert_irqs_disabled();
	if (unlikely(level < c->min_level))
		c->min_level = level;
	if (unlikely(level < low_watermark(c->r)))
		kick_refill(c);
}

/*
 * Move up to @nr pages from @c's stash to @list; stash_lock held.  The
 * whole stash moves in one splice; part of it, a page at a time, so
 * callers take small batches.
 */
static unsigned int stash_take(struct lab_cpu *c, struct list_head *list,
			       unsigned int nr)
{
	unsigned int i;

	lockdep_assert_held(&c->stash_lock);
	if (nr >= c->nr_stash) {
		nr = c->nr_stash;
		list_splice_init(&c->stash, list);
	} else {
		for (i = 0; i < nr; i++)
			list_move(c->stash.next, list);
	}
	stash_count(c, c->nr_stash - nr);
	return nr;
}

/* Owner, interrupts off, hot[] empty: reload hot[] from our own stash. */
static bool reload_hot(struct lab_cpu *c)
{
	unsigned int want = max(hot_max(capacity(c->r)) / 2, 1U);
	struct page *page, *next;
	LIST_HEAD(list);

	lockdep_assert_irqs_disabled();
	raw_spin_lock(&c->stash_lock);
	stash_take(c, &list, want);
	c->stash_seen = c->nr_stash;
	raw_spin_unlock(&c->stash_lock);

	list_for_each_entry_safe(page, next, &list, lru) {
		list_del(&page->lru);
		c->hot[c->nr_hot++] = page;
	}
	return c->nr_hot;
}

/* Owner, interrupts off, hot[] full: move half of it to the stash. */
static noinline void spill_hot(struct lab_cpu *c)
{
	unsigned int nr = max(c->nr_hot / 2, 1U), i;

	lockdep_assert_irqs_disabled();
	raw_spin_lock(&c->stash_lock);
	for (i = 0; i < nr; i++)
		list_add(&c->hot[--c->nr_hot]->lru, &c->stash);
	set_stash(c, c->nr_stash + nr);
	raw_spin_unlock(&c->stash_lock);
}

/*
 * A page of the reserve leaves it for a user: the reference count the pool
 * kept frozen at zero becomes one, and private and index, where the debug
 * parameter marks pages given back, are zero, as the page allocator hands
 * pages out.
 */
static struct page *served(struct page *page)
{
	set_page_private(page, 0);
	lab_page_index(page) = 0;
	page_ref_unfreeze(page, 1);
	lab_kasan_unpoison_page(page);
	return page;
}

/*
 * A pooled page that memory_failure() marked while the pool held it (it
 * was not the page allocator's, which refuses such pages in
 * check_new_page()): never served, never freed.  It stays out of use with
 * its count frozen, and counts as released.
 */
static noinline bool poisoned(struct lab_cpu *c, struct page *page)
{
	if (likely(!PageHWPoison(page)))
		return false;
	this_cpu_inc(c->r->cpus->stat[LAB_HWPOISON]);
	atomic_long_inc(&c->released);
	pr_warn_ratelimited("pfn %#lx has a memory error: dropped from the reserve\n",
			    page_to_pfn(page));
	return true;
}

/* Clear a returned page, unless a memory error struck it: it is dropped. */
static void clear_returned(struct page *page)
{
	if (!PageHWPoison(page))
		clear_highpage(page);
}

/*
 * Owner, interrupts off, nothing clean left: clear a returned page here
 * rather than fail.  Off the steady-state path: the worker normally gets
 * there first.
 */
static struct page *take_dirty(struct lab_cpu *c)
{
	struct page *page;

	lockdep_assert_irqs_disabled();
	if (!c->nr_dirty)
		return NULL;
	page = list_first_entry(&c->dirty, struct page, lru);
	list_del(&page->lru);
	c->nr_dirty--;
	if (lab_debug_check(page, 0))
		c->stat[LAB_WRITTEN_AFTER_PUT]++;
	clear_returned(page);
	c->stat[LAB_CLEARED_INLINE]++;
	return page;
}

/*
 * Move up to @want pages, and at most half of them, from the stash of @v
 * to @list.  Only @v's stash cache line is touched: its owner's fast path
 * stays on its own.
 * Return: the pages moved.
 */
static unsigned int steal_from(struct lab_cpu *v, struct list_head *list,
			       unsigned int want)
{
	unsigned long flags;
	unsigned int nr;
	bool own;

	own = stash_lock_on(v, &flags);
	nr = stash_take(v, list, min(want, DIV_ROUND_UP(v->nr_stash, 2)));
	stash_unlock_on(v, own, flags);

	/* The victim may never take a page itself: refill it now. */
	if (nr && READ_ONCE(v->nr_stash) < low_watermark(v->r))
		kick_refill(v);
	return nr;
}

/*
 * Move up to @want pages from one other CPU's stash to @list: a CPU of
 * @thief's node if one has pages, else the one page to serve from any
 * CPU of its reserve.  Only the CPUs in its stocked mask are tried, those
 * after @thief first so that thieves spread over their victims.  Nothing
 * here grows with the number of CPUs but the scan of a bitmap.
 * Return: the pages moved.
 */
static unsigned int steal(struct lab_cpu *thief, struct list_head *list,
			  unsigned int want)
{
	const struct cpumask *near = cpumask_of_node(cpu_to_node(thief->cpu));
	unsigned int cpu, nr, start = (thief->cpu + 1) % nr_cpu_ids;
	bool far;

	for (far = false; ; far = true) {
		for_each_cpu_wrap(cpu, thief->r->stocked, start) {
			if (cpu == thief->cpu ||
			    cpumask_test_cpu(cpu, near) == far)
				continue;
			nr = steal_from(per_cpu_ptr(thief->r->cpus, cpu), list,
					far ? 1 : want);
			if (nr)
				return nr;
		}
		if (far)
			return 0;
	}
}

/*
 * Steal for @thief, interrupts as its caller had them: the page to serve,
 * or NULL; the rest of the batch stays on @list.  A stolen page a memory
 * error struck is dropped, and the theft goes on.
 */
static struct page *steal_one(struct lab_cpu *thief, struct list_head *list,
			      unsigned int want)
{
	struct page *page;

	while (list_empty(list) && steal(thief, list, want)) {
		while (!list_empty(list)) {
			page = list_first_entry(list, struct page, lru);
			list_del(&page->lru);
			if (!poisoned(thief, page))
				return page;
		}
	}
	return NULL;
}

/*
 * Owner, interrupts off: the pages a theft took beyond the one it serves
 * join this pool, hot[] first, if they are of its node: the thief may have
 * moved to a CPU of another node since it stole them, and those go to
 * @away, for the caller to free.  If the pool filled meanwhile it may go
 * over its capacity until the worker trims it.
 */
static void keep_stolen(struct lab_cpu *c, struct list_head *list,
			struct list_head *away)
{
	unsigned int cap = capacity(c->r), nr = 0;
	struct page *page, *next;
	bool gone;

	lockdep_assert_irqs_disabled();
	list_for_each_entry_safe(page, next, list, lru) {
		/* One look: the offline may end between two. */
		gone = leaving(page);
		if (unlikely(gone || !page_home(c, page))) {
			if (gone)
				this_cpu_inc(c->r->cpus->stat[LAB_OFFLINE_RELEASED]);
			list_move(&page->lru, away);
			continue;
		}
		if (c->nr_hot < hot_max(cap)) {
			list_del(&page->lru);
			c->hot[c->nr_hot++] = page;
			continue;
		}
		nr++;
	}
	if (nr) {
		raw_spin_lock(&c->stash_lock);
		list_splice_init(list, &c->stash);
		set_stash(c, c->nr_stash + nr);
		raw_spin_unlock(&c->stash_lock);
	}
	if (level_seen(c) > cap)
		kick_refill(c);
}

/*
 * Owner, interrupts off, the pool empty: pages a theft may take, the one
 * it serves included.  Several per theft, so that pages returned on
 * another CPU come back in batches, never more than the pool has room for.
 */
static unsigned int steal_want(const struct lab_cpu *c)
{
	unsigned int cap = capacity(c->r), level = level_seen(c);

	return 1 + min3(LAB_STEAL_MAX - 1, hot_max(cap) / 2,
			cap > level ? cap - level : 0);
}

/*
 * The page allocator's zone and per-CPU list locks are spinlock_t: sleeping
 * locks on PREEMPT_RT, where get and put may call the allocator only from
 * preemptible context; spinning locks elsewhere, where GFP_ATOMIC
 * allocations and frees are allowed in any context but NMI, hard-IRQ
 * included.  Lockdep with PROVE_RAW_LOCK_NESTING applies the rules of RT
 * to every kernel: lab_allocator_map tells it that on !RT these calls are
 * fine where RT's rules would forbid them.  Neither is ever called inside
 * labyrinth's own interrupts-off sections or under its raw locks.
 */
static DEFINE_WAIT_OVERRIDE_MAP(lab_allocator_map, LD_WAIT_CONFIG);

static bool allocator_allowed(void)
{
	if (in_nmi())
		return false;
	return !IS_ENABLED(CONFIG_PREEMPT_RT) || preemptible();
}

static void allocator_enter(void)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		lock_map_acquire_try(&lab_allocator_map);
}

static void allocator_exit(void)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		lock_map_release(&lab_allocator_map);
}

/*
 * The fallback of a get that found every pool empty; @src says what came.
 * __GFP_NOMEMALLOC, as mempool's: a caller in reclaim or on a memalloc
 * socket must not be handed a pfmemalloc page, which its put would refuse.
 */
static struct page *fallback_alloc(const struct labyrinth_reserve *r,
				   enum lab_stat_item *src)
{
	struct page *page;

	*src = LAB_FAILED;
	if (!READ_ONCE(r->fallback))
		return NULL;
	if (!allocator_allowed()) {
		*src = LAB_FALLBACK_SKIPPED;
		return NULL;
	}
	allocator_enter();
	page = alloc_page(GFP_ATOMIC | __GFP_NOWARN | __GFP_NOMEMALLOC);
	allocator_exit();
	if (page)
		*src = LAB_FALLBACK;
	return page;
}

/*
 * The lists of the deferred work link a page through page->lru, whose
 * first word an llist_node takes.
 */
static struct llist_node *page_llnode(struct page *page)
{
	BUILD_BUG_ON(offsetof(struct list_head, next) != 0);
	return (struct llist_node *)&page->lru;
}

static struct page *llnode_page(struct llist_node *node)
{
	return list_entry((struct list_head *)node, struct page, lru);
}

/*
 * Leave @page, whose reference count is zero and which nobody else holds,
 * for @c's worker to free: here the page allocator may not be called.
 */
static void release_later(struct lab_cpu *c, struct page *page)
{
	llist_add(page_llnode(page), &c->release);
	kick_refill(c);
}

/* The share word after a change that leaves @nr pages. */
static unsigned long share_word(unsigned long word, unsigned int nr)
{
	return ((word & ~LAB_SHARE_NR) + LAB_SHARE_NR + 1) | nr;
}

/*
 * Add @page to the NMI share unless it holds @max pages.  Anyone may: a
 * caller that changes the share between the read and the cmpxchg changes
 * its generation, and then again.
 */
static bool share_add(struct lab_cpu *c, struct page *page, unsigned int max)
{
	unsigned long word;
	unsigned int nr;

	do {
		word = READ_ONCE(c->share_word);
		nr = word & LAB_SHARE_NR;
		if (nr >= max)
			return false;
		WRITE_ONCE(c->share[nr], page);
	} while (cmpxchg_local(&c->share_word, word,
			       share_word(word, nr + 1)) != word);
	return true;
}

/* As share_add(): take a page from the NMI share, or NULL. */
static struct page *share_take(struct lab_cpu *c)
{
	unsigned long word;
	struct page *page;
	unsigned int nr;

	do {
		word = READ_ONCE(c->share_word);
		nr = word & LAB_SHARE_NR;
		if (!nr)
			return NULL;
		page = READ_ONCE(c->share[nr - 1]);
	} while (cmpxchg_local(&c->share_word, word,
			       share_word(word, nr - 1)) != word);
	return page;
}

/*
 * Owner, interrupts off: a page from the local pool, or NULL.  The NMI
 * share is the pool's last pages, for anyone.  An NMI takes no lock, so
 * it does not reach the stash.  A page a memory error struck is dropped
 * on the way.
 */
static struct page *take_local(struct lab_cpu *c)
{
	struct page *page;

	do {
		if (c->nr_hot || (!in_nmi() && reload_hot(c))) {
			page = c->hot[--c->nr_hot];
		} else {
			page = take_dirty(c);
			if (!page)
				page = share_take(c);
		}
	} while (page && poisoned(c, page));
	return page;
}

/*
 * labyrinth_get() in NMI, or in an exception that enters like one.  If it
 * interrupted none of labyrinth's sections on this CPU it owns the pool
 * and takes a page as the owner does (but never steals and never calls
 * the allocator); else it takes one from the NMI share, which nested
 * callers may change under it.
 */
static noinline struct page *get_nmi(struct labyrinth_reserve *r)
{
	struct lab_cpu *c = this_cpu_ptr(r->cpus);
	struct page *page;

	if (!IS_ENABLED(CONFIG_ARCH_HAVE_NMI_SAFE_CMPXCHG)) {
		pr_err_once("labyrinth_get() in NMI refused: cmpxchg() is not NMI-safe on this architecture\n");
		nmi_stat_inc(r, LAB_FAILED);
		return NULL;
	}
	if (READ_ONCE(c->active)) {
		do {
			page = share_take(c);
		} while (page && poisoned(c, page));
		nmi_stat_inc(r, page ? LAB_SERVED_NMI : LAB_FAILED);
		kick_refill(c);
		return page ? served(page) : NULL;
	}
	active_raise(c);
	lab_hook(LAB_HOOK_NMI_OWNED, NULL);
	page = take_local(c);
	if (page)
		note_level(c);
	else
		kick_refill(c);
	c->stat[page ? LAB_SERVED_NMI : LAB_FAILED]++;
	set_bounds(c);
	active_lower(c);
	return page ? served(page) : NULL;
}

/* Give pages of the reserve (reference count frozen) back to the allocator. */
static void free_page_list(struct list_head *list)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		__free_page(served(page));
	}
}

/*
 * Pages of the reserve (reference count frozen) that leave it: freed here,
 * or by @c's worker where the page allocator may not be called.
 */
static void release_list(struct lab_cpu *c, struct list_head *list)
{
	struct page *page, *next;

	atomic_long_add(list_count_nodes(list), &c->released);
	if (allocator_allowed()) {
		allocator_enter();
		free_page_list(list);
		allocator_exit();
		return;
	}
	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		release_later(c, page);
	}
}

/*
 * A get outside the fast path's bounds, or while the get tracepoint or
 * debug is on.  It looks at the local pool afresh, with interrupts off
 * (this may run on another CPU than the fast path that gave up).  If the
 * pool is empty it steals and falls back with interrupts as the caller had
 * them, then counts the outcome on the CPU it ends on.
 */
static noinline struct page *get_slow(struct labyrinth_reserve *r,
				      unsigned long ip)
{
	enum lab_stat_item src = LAB_SERVED_LOCAL;
	unsigned long flags;
	struct lab_cpu *c;
	struct page *page;
	unsigned int want;
	LIST_HEAD(stolen);
	LIST_HEAD(away);

	c = pool_enter(r, &flags);
	page = take_local(c);
	if (page) {
		note_level(c);
	} else {
		want = steal_want(c);
		kick_refill(c);
		pool_exit(c, flags);
		src = LAB_STOLEN;
		page = steal_one(c, &stolen, want);
		if (!page)
			page = fallback_alloc(r, &src);
		c = pool_enter(r, &flags);
		if (src == LAB_FALLBACK)
			atomic_long_inc(&c->allocated);
		keep_stolen(c, &stolen, &away);
	}
	c->stat[src]++;
	set_bounds(c);
	trace_labyrinth_get(r->name, c->cpu, src, pool_level(c));
	pool_exit(c, flags);
	if (!list_empty(&away))
		release_list(c, &away);
	if (!page)
		return NULL;
	if (static_branch_unlikely(&lab_debug_key) &&
	    lab_debug_get(r, page, ip, src != LAB_FALLBACK))
		this_cpu_inc(r->cpus->stat[LAB_WRITTEN_AFTER_PUT]);
	return src == LAB_FALLBACK ? page : served(page);
}

/*
 * A get of @r for @ip: the fast path, inlined into each exported entry so
 * that the default reserve's costs no more than before named reserves.
 */
static __always_inline struct page *reserve_get(struct labyrinth_reserve *r,
						unsigned long ip)
{
	struct page *page;
	unsigned long flags;
	struct lab_cpu *c;

	if (unlikely(in_nmi()))
		return get_nmi(r);
	c = pool_enter(r, &flags);
	if (unlikely(c->nr_hot <= c->get_min || trace_labyrinth_get_enabled() ||
		     static_branch_unlikely(&lab_debug_key))) {
		pool_exit(c, flags);
		return get_slow(r, ip);
	}
	page = c->hot[--c->nr_hot];
	if (unlikely(PageHWPoison(page)) && poisoned(c, page)) {
		pool_exit(c, flags);
		return get_slow(r, ip);
	}
	c->stat[LAB_SERVED_LOCAL]++;
	pool_exit(c, flags);
	return served(page);
}

/**
 * labyrinth_get() - take one order-0 page from the reserve
 *
 * Served by the local CPU's pool, else by another CPU's stash, else (when the
 * fallback parameter is on) by alloc_page(GFP_ATOMIC | __GFP_NOWARN).
 * Taking a pool below low_watermark schedules its refill.
 *
 * Context: Any context: process, softirq, hard-IRQ or NMI (served by the
 * local pool only), interrupts enabled or disabled, any lock held.  Never
 * sleeps but where the fallback runs on PREEMPT_RT (see labyrinth.h).
 * Return: a page with a reference count of one, to be given back with
 * labyrinth_put() or handed on with labyrinth_hand_on() (its last holder
 * then frees it), or NULL when every source is exhausted.
 */
struct page *labyrinth_get(void)
{
	return reserve_get(&lab_default, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_get);

/**
 * labyrinth_reserve_get() - take one order-0 page from a named reserve
 * @r: a reserve labyrinth_reserve_create() returned, not destroyed
 *
 * As labyrinth_get(), from @r's pools only: its local pool, then the
 * stashes of its other CPUs, then (unless @r was created with
 * LABYRINTH_NO_FALLBACK) alloc_page(GFP_ATOMIC | __GFP_NOWARN).  Never a
 * page of another reserve.
 *
 * Context: Any context, as labyrinth_get().  Not concurrently with
 * labyrinth_reserve_destroy() of @r.
 * Return: a page with a reference count of one, to be given back with
 * labyrinth_reserve_put() or handed on with labyrinth_reserve_hand_on(),
 * or NULL when @r and its fallback are exhausted.
 */
struct page *labyrinth_reserve_get(struct labyrinth_reserve *r)
{
	return reserve_get(r, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_get);

/*
 * Owner, interrupts off, the pool looks full: look again at the stash,
 * which thieves may have emptied.  Pages returned on another CPU than they
 * were taken on come back this way.
 */
static noinline bool room_after_theft(struct lab_cpu *c, unsigned int cap)
{
	c->stash_seen = READ_ONCE(c->nr_stash);
	return level_seen(c) < cap;
}

/*
 * Owner, interrupts off, pages must be cleared before reuse: leave @page to
 * the worker, or if it is behind clear it here so that gets never must.
 * Return: true if @page is on the dirty list, false if it is clean now.
 */
static bool put_dirty(struct lab_cpu *c, struct page *page,
		      unsigned int cap)
{
	if (likely(c->nr_dirty < LAB_DIRTY_MAX)) {
		list_add_tail(&page->lru, &c->dirty);
		if (++c->nr_dirty >= max(hot_max(cap) / 2, 1U))
			kick_refill(c);
		return true;
	}
	clear_highpage(page);
	c->stat[LAB_CLEARED_ON_PUT]++;
	return false;
}

/*
 * Drop the caller's reference to a page labyrinth_put() does not pool.
 * Where the page allocator may not be called, a reference that is not
 * the last is dropped here, and a page whose last one it was, which nobody
 * else holds now, waits for @c's worker.
 */
static void drop_ref(struct lab_cpu *c, struct page *page)
{
	if (allocator_allowed()) {
		allocator_enter();
		put_page(page);
		allocator_exit();
	} else if (page_ref_dec_and_test(page)) {
		release_later(c, page);
	}
}

/* Count a put's outcome on this CPU: as the owner, or in NMI as it can. */
static struct lab_cpu *count_put(struct labyrinth_reserve *r,
				 enum lab_stat_item item)
{
	unsigned long flags;
	struct lab_cpu *c;

	if (in_nmi()) {
		nmi_stat_inc(r, item);
		return this_cpu_ptr(r->cpus);
	}
	c = pool_enter(r, &flags);
	c->stat[item]++;
	trace_labyrinth_put(r->name, c->cpu, item, pool_level(c));
	pool_exit(c, flags);
	return c;
}

/*
 * A page labyrinth_put() may not pool: @seen is the reference count the
 * freeze found (LAB_REF_UNSEEN if it did not run).  Report it (once per
 * call site), count it, and either leave it alone or drop the caller's
 * reference.  A released order-0 page counts as given back to the page
 * allocator: by the contract of labyrinth_put() it came from the reserve.
 */
static noinline void put_refused(struct labyrinth_reserve *r,
				 struct page *page, int seen, unsigned long ip)
{
	enum lab_refusal what;
	struct lab_cpu *c;
	const char *why;

	lab_hook(LAB_HOOK_PUT_REFUSED, page);
	why = lab_put_refusal(page, seen, &what);
	c = count_put(r, what == LAB_SHARED ? LAB_PUT_SHARED : LAB_PUT_REJECTED);
	if (what == LAB_RELEASE || what == LAB_SHARED)
		atomic_long_inc(&c->released);
	if (what != LAB_SHARED)
		lab_report_put(why, what, page, ip);
	if (what == LAB_LEAVE)
		return;
	if (what != LAB_RELEASE_FOREIGN && !in_nmi() &&
	    static_branch_unlikely(&lab_debug_key))
		lab_debug_untrack(page);
	drop_ref(c, page);
}

/*
 * Owner, interrupts off: keep @page if it is of this node and the pool has
 * room; say which.  A page of another node, or one the pool has no room
 * for, is given back to the page allocator by the caller (LAB_PUT_REMOTE,
 * LAB_PUT_FREED); where the caller may not call the allocator (@may_free
 * false, as allocator_allowed() said before interrupts went off), a page
 * without room stays above capacity until the worker trims the pool.
 */
static enum lab_stat_item pool_page(struct lab_cpu *c, struct page *page,
				    bool may_free)
{
	unsigned int cap = capacity(c->r);

	lockdep_assert_irqs_disabled();
	if (unlikely(!page_home(c, page))) {
		atomic_long_inc(&c->released);
		return LAB_PUT_REMOTE;
	}
	if (leaving(page)) {
		this_cpu_inc(c->r->cpus->stat[LAB_OFFLINE_RELEASED]);
		atomic_long_inc(&c->released);
		return LAB_PUT_FREED;
	}

	if (unlikely(level_seen(c) >= cap) && !room_after_theft(c, cap)) {
		if (may_free) {
			atomic_long_inc(&c->released);
			return LAB_PUT_FREED;
		}
		kick_refill(c);
	}
	if (clear_needed() && put_dirty(c, page, cap))
		return LAB_PUT_POOLED;
	if (unlikely(c->nr_hot >= hot_max(cap)))
		spill_hot(c);
	c->hot[c->nr_hot++] = page;
	return LAB_PUT_POOLED;
}

/* A page pool_page() did not keep: to the page allocator, now or later. */
static void put_away(struct lab_cpu *c, struct page *page)
{
	if (!allocator_allowed()) {
		release_later(c, page);
		return;
	}
	allocator_enter();
	__free_page(served(page));
	allocator_exit();
}

/*
 * labyrinth_put() in NMI, of a page whose reference count is frozen.  If
 * it interrupted none of labyrinth's sections on this CPU it pools the
 * page as the owner does, unless that would take a lock or call the page
 * allocator; else the page waits for the worker, which pools it or frees
 * it.  Debug neither fills nor checks it.
 */
static noinline void put_nmi(struct labyrinth_reserve *r, struct page *page)
{
	struct lab_cpu *c = this_cpu_ptr(r->cpus);
	enum lab_stat_item res;

	/* hot[] full: spilling to the stash would take its lock. */
	if (READ_ONCE(c->active) || !page_home(c, page) ||
	    c->nr_hot >= hot_max(capacity(r))) {
		llist_add(page_llnode(page), &c->deferred);
		nmi_stat_inc(r, LAB_PUT_DEFERRED);
		kick_refill(c);
		return;
	}
	active_raise(c);
	res = pool_page(c, page, false);
	c->stat[res]++;
	set_bounds(c);
	active_lower(c);
	if (res != LAB_PUT_POOLED)
		put_away(c, page);
}

/* A put outside the fast path's bounds, traced or debugged; see get_slow(). */
static noinline void put_slow(struct labyrinth_reserve *r, struct page *page,
			      unsigned long ip)
{
	/* Asked with interrupts as the caller has them: on RT it matters. */
	bool may_free = allocator_allowed();
	enum lab_stat_item res;
	unsigned long flags;
	struct lab_cpu *c;

	if (static_branch_unlikely(&lab_debug_key))
		lab_debug_put(r, page, ip);
	c = pool_enter(r, &flags);
	res = pool_page(c, page, may_free);
	c->stat[res]++;
	set_bounds(c);
	trace_labyrinth_put(r->name, c->cpu, res, pool_level(c));
	pool_exit(c, flags);
	if (res != LAB_PUT_POOLED)
		put_away(c, page);
}

/*
 * Whether a put may go on here: not in NMI where cmpxchg() is not NMI-safe
 * (the page stays its caller's; said once).
 */
static bool nmi_allowed(void)
{
	if (IS_ENABLED(CONFIG_ARCH_HAVE_NMI_SAFE_CMPXCHG) || !in_nmi())
		return true;
	pr_err_once("a put in NMI refused: cmpxchg() is not NMI-safe on this architecture\n");
	return false;
}

/* A put of @page to @r for @ip; see reserve_get(). */
static __always_inline void reserve_put(struct labyrinth_reserve *r,
					struct page *page, unsigned long ip)
{
	int seen;
	unsigned long flags;
	struct lab_cpu *c;

	if (!page)
		return;
	if (!nmi_allowed())
		return;
	seen = lab_put_check(page);
	if (unlikely(seen != 1)) {
		put_refused(r, page, seen, ip);
		return;
	}
	lab_kasan_poison_page(page);
	if (unlikely(in_nmi())) {
		put_nmi(r, page);
		return;
	}

	c = pool_enter(r, &flags);
	if (unlikely(c->nr_hot >= c->put_max || !page_home(c, page) ||
		     trace_labyrinth_put_enabled() ||
		     static_branch_unlikely(&lab_debug_key))) {
		pool_exit(c, flags);
		put_slow(r, page, ip);
		return;
	}
	c->hot[c->nr_hot++] = page;
	c->stat[LAB_PUT_POOLED]++;
	pool_exit(c, flags);
}

/**
 * labyrinth_put() - give a page back to the reserve
 * @page: an order-0 page the caller owns exclusively, or NULL (no-op)
 *
 * The page joins the local CPU's pool if it is of this CPU's memory node
 * and the pool is below capacity, and is freed otherwise.  A page
 * labyrinth may not own, or one already given back, is left untouched; a
 * pfmemalloc, compound or memory-error page loses the caller's
 * reference;
 * either is counted as rejected and reported once per call site (see
 * labyrinth.h).  A page someone else still holds loses the caller's
 * reference too, and is counted as put_shared.
 *
 * Context: Any context.  Never sleeps but where it frees a page on
 * PREEMPT_RT (see labyrinth.h).
 */
void labyrinth_put(struct page *page)
{
	reserve_put(&lab_default, page, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_put);

/*
 * labyrinth_reserve_put() of a reserve destroyed since it served @page
 * (the reserve's structure stays until labyrinth unloads, its pools not):
 * its pools are gone, so a page it may take back is freed, checked as any
 * put is.  Where the page allocator may not be called, the page waits on
 * a release list of the default reserve, whose worker frees it.  Nothing
 * is counted: the reserve's counters went with it.
 */
static noinline void dead_put(struct page *page, unsigned long ip)
{
	struct lab_cpu *any = raw_cpu_ptr(lab_default.cpus);
	enum lab_refusal what;
	const char *why;
	int seen;

	if (!nmi_allowed())
		return;
	seen = lab_put_check(page);
	if (seen != 1) {
		why = lab_put_refusal(page, seen, &what);
		if (what != LAB_SHARED)
			lab_report_put(why, what, page, ip);
		if (what != LAB_LEAVE)
			drop_ref(any, page);
		return;
	}
	if (!in_nmi() && static_branch_unlikely(&lab_debug_key))
		lab_debug_untrack(page);
	put_away(any, page);
}

/**
 * labyrinth_reserve_put() - give a page back to a named reserve
 * @r: the reserve that served @page (see labyrinth.h for another one)
 * @page: an order-0 page the caller owns exclusively, or NULL (no-op)
 *
 * As labyrinth_put(), into @r's pools.  If @r was destroyed since it
 * served @page, the page is freed (after the same checks).
 *
 * Context: Any context, as labyrinth_put().  Not concurrently with
 * labyrinth_reserve_destroy() of @r.
 */
void labyrinth_reserve_put(struct labyrinth_reserve *r, struct page *page)
{
	if (unlikely(READ_ONCE(r->dead))) {
		if (page)
			dead_put(page, _RET_IP_);
		return;
	}
	reserve_put(r, page, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_put);

/* labyrinth_hand_on() of @page, which @r served, for @ip. */
static void hand_on(struct labyrinth_reserve *r, struct page *page,
		    unsigned long ip)
{
	if (!page)
		return;
	if (unlikely(page_ref_count(page) <= 0)) {
		lab_report_hand_on("a page nobody holds", page, ip);
		return;
	}
	if (unlikely(in_nmi())) {
		if (!READ_ONCE(r->dead))
			nmi_stat_inc(r, LAB_HANDED_ON);
		return;
	}
	if (static_branch_unlikely(&lab_debug_key) &&
	    !lab_debug_untrack(page)) {
		lab_report_hand_on("a page not handed out, or already handed on",
				   page, ip);
		return;
	}
	if (!READ_ONCE(r->dead))
		this_cpu_inc(r->cpus->stat[LAB_HANDED_ON]);
}

/**
 * labyrinth_hand_on() - let a served page leave the reserve with its holder
 * @page: a page labyrinth_get() served, which the caller still holds, or
 *	NULL (no-op)
 *
 * From now on @page is its holders' as if alloc_page() had served it: the
 * last of them frees it as any page (put_page(), page_frag_free(), the
 * network stack freeing a packet) and it never comes back to
 * labyrinth_put().  Counted in handed_on, which the in-use figure
 * subtracts.  A page with no reference (pooled, or freed) is refused and
 * reported once per call site.  labyrinth cannot tell a page it never
 * served, nor one handed on twice, from a good one, but with debug on:
 * then the page leaves the table of outstanding pages, and one the table
 * does not list is refused and reported (in NMI the table is not looked
 * at).
 *
 * Context: Any context.
 */
void labyrinth_hand_on(struct page *page)
{
	hand_on(&lab_default, page, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_hand_on);

/**
 * labyrinth_reserve_hand_on() - labyrinth_hand_on() of a named reserve's page
 * @r: the reserve that served @page
 * @page: a page labyrinth_reserve_get() served, or NULL (no-op)
 *
 * As labyrinth_hand_on(), counted in @r.  Once @r is destroyed, only the
 * checks are made.
 *
 * Context: Any context.  Not concurrently with labyrinth_reserve_destroy()
 * of @r.
 */
void labyrinth_reserve_hand_on(struct labyrinth_reserve *r, struct page *page)
{
	hand_on(r, page, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_hand_on);

/*
 * Interrupts off: whether the caller may touch @c's owner-only fields.  It
 * may on @c's CPU, and while that CPU cannot use its pool: not online, or
 * the reserve not live.  A refill worker moved off a CPU going down may not.
 */
static bool owns(const struct lab_cpu *c)
{
	return smp_processor_id() == c->cpu || !cpu_online(c->cpu) ||
	       !READ_ONCE(c->r->live);
}

/*
 * Add @nr pages from @list to @c's stash while the pool is below capacity;
 * free the rest, and all of them if the caller does not own the pool (a
 * worker moved off a CPU going down: lab_cpu_dead() drains that pool).
 */
static unsigned int stash_add(struct lab_cpu *c, struct list_head *list,
			      unsigned int nr)
{
	unsigned int added = 0, level, cap = capacity(c->r);
	unsigned long flags;
	bool own;

	own = stash_lock_on(c, &flags);
	level = owns(c) ? pool_level(c) : cap;
	while (added < nr && level + added < cap) {
		list_move(list->next, &c->stash);
		added++;
	}
	if (added) {
		set_stash(c, c->nr_stash + added);
		set_bounds(c);
	}
	stash_unlock_on(c, own, flags);

	atomic_long_add(nr - added, &c->released);

	free_page_list(list);
	return added;
}

/*
 * A page just allocated joins the reserve with its reference count frozen
 * at zero: a second labyrinth_put() of a page the reserve holds, or a
 * speculative get_page_unless_zero() of a stray pfn walker, finds zero.
 * If a speculative reference got there first, the page goes back.
 */
static bool freeze_new(struct lab_cpu *c, struct page *page)
{
	if (likely(page_ref_freeze(page, 1))) {
		lab_kasan_poison_page(page);
		return true;
	}
	atomic_long_inc(&c->released);
	put_page(page);
	return false;
}

/*
 * Allocate up to @want pages on @c's node into its stash; @added says how
 * many found room there (the others are freed).  The caller is the owner or
 * the pool is idle.  Return: the number of pages allocated.
 */
static unsigned int fill(struct lab_cpu *c, unsigned int want,
			 unsigned int *added)
{
	gfp_t gfp = LAB_GFP_FILL;
	unsigned int done = 0;

	if (c->nid != NUMA_NO_NODE)
		gfp |= __GFP_THISNODE;
	*added = 0;
	while (done < want) {
		struct page *pages[LAB_FILL_CHUNK] = { };
		unsigned int i, nr, got, frozen;
		LIST_HEAD(list);

		nr = min_t(unsigned int, want - done, LAB_FILL_CHUNK);
		got = lab_alloc_pages_bulk_node(gfp, c->nid, nr, pages);
		/*
		 * The bulk allocator may stop short with memory to spare (on
		 * PREEMPT_RT, when the per-CPU lists' lock is taken): ask for
		 * the rest one page at a time before calling it a shortfall.
		 */
		for (i = 0; i < nr && got < nr; i++) {
			if (pages[i])
				continue;
			pages[i] = alloc_pages_node(c->nid, gfp, 0);
			if (!pages[i])
				break;
			got++;
		}
		atomic_long_add(got, &c->allocated);
		for (i = 0, frozen = 0; i < nr; i++) {
			if (!pages[i])
				continue;
			if (freeze_new(c, pages[i])) {
				list_add_tail(&pages[i]->lru, &list);
				frozen++;
			}
		}
		*added += stash_add(c, &list, frozen);
		done += got;
		if (got < nr)
			break;
	}
	return done;
}

/* What one round of the refill worker works on. */
struct lab_refill {
	struct list_head dirty;		/* returned pages to clear */
	struct list_head excess;	/* pages above capacity, to free */
	unsigned int nr_dirty;
	unsigned int missing;		/* pages below capacity */
	bool trim_more;			/* above capacity after a full batch */
};

/*
 * Owner, interrupts off, stash_lock held: top up the NMI share from the
 * stash, or trim it to its target (into the stash) after pages_per_cpu
 * went down.
 */
static void share_fill(struct lab_cpu *c, unsigned int cap)
{
	unsigned int target = share_target(cap), moved = 0;
	struct page *page;
	LIST_HEAD(list);

	while (share_nr(c) > target && (page = share_take(c))) {
		list_add(&page->lru, &c->stash);
		moved++;
	}
	set_stash(c, c->nr_stash + moved);
	while (share_nr(c) < target && stash_take(c, &list, 1)) {
		page = list_first_entry(&list, struct page, lru);
		list_del(&page->lru);
		if (!share_add(c, page, target)) {
			list_add(&page->lru, &c->stash);
			stash_count(c, c->nr_stash + 1);
			break;
		}
	}
}

/*
 * Owner, interrupts off, stash_lock held: load hot[] from the stash as far
 * as it and the capacity allow, so that an NMI, which takes no lock, finds
 * there and in the NMI share every page of a pool of up to LAB_HOT_MAX +
 * LAB_NMI_MAX pages.  A full hot[] costs puts nothing: a pool at capacity
 * frees what comes back, and below it a put that finds hot[] full spills
 * half of it to the stash.
 */
static void hot_fill(struct lab_cpu *c, unsigned int cap)
{
	unsigned int want = min(hot_max(cap), cap - share_target(cap));
	struct page *page, *next;
	LIST_HEAD(list);

	if (c->nr_hot >= want)
		return;
	stash_take(c, &list, want - c->nr_hot);
	list_for_each_entry_safe(page, next, &list, lru) {
		list_del(&page->lru);
		c->hot[c->nr_hot++] = page;
	}
}

/*
 * Worker: take the pages given back in NMI into the stash, cleared if they
 * must be (those of another node go back to the page allocator), and drop
 * the references of the pages that waited for a context where the page
 * allocator may be called: refused ones, and those of another node.
 */
static void drain_deferred(struct lab_cpu *c)
{
	struct llist_node *node = llist_del_all(&c->deferred), *next;
	unsigned int nr = 0, far = 0, offline = 0;
	bool gone;
	LIST_HEAD(list);
	LIST_HEAD(away);

	llist_for_each_safe(node, next, node) {
		struct page *page = llnode_page(node);

		/* Given back in NMI: no pattern to check, no mark to trust. */
		lab_debug_forget(page);
		gone = leaving(page);
		if (gone || !page_home(c, page) || PageHWPoison(page)) {
			offline += gone;
			/* Its taker's record goes with it. */
			if (static_branch_unlikely(&lab_debug_key))
				lab_debug_untrack(page);
			list_add(&page->lru, &away);
			far++;
			continue;
		}
		if (clear_needed())
			clear_returned(page);
		list_add(&page->lru, &list);
		nr++;
	}
	if (clear_needed())
		c->stat[LAB_PAGES_CLEARED] += nr;
	if (offline)
		this_cpu_add(c->r->cpus->stat[LAB_OFFLINE_RELEASED], offline);
	WRITE_ONCE(c->deferred_done, c->deferred_done + nr + far);
	if (nr)
		stash_add(c, &list, nr);
	atomic_long_add(far, &c->released);
	free_page_list(&away);

	/* Nobody else holds these: their count is zero. */
	node = llist_del_all(&c->release);
	llist_for_each_safe(node, next, node) {
		struct page *page = llnode_page(node);

		if (static_branch_unlikely(&lab_debug_key))
			lab_debug_untrack(page);
		set_page_private(page, 0);
		lab_page_index(page) = 0;
		page_ref_unfreeze(page, 1);
		lab_kasan_unpoison_page(page);
		put_page(page);
	}
}

/* Worker: top up the NMI share and hot[] from pages it just stashed. */
static void refill_share(struct lab_cpu *c)
{
	unsigned long flags;
	bool own;

	own = stash_lock_on(c, &flags);
	if (own) {
		share_fill(c, capacity(c->r));
		hot_fill(c, capacity(c->r));
		c->stash_seen = c->nr_stash;
		set_bounds(c);
	}
	stash_unlock_on(c, own, flags);
}

/*
 * The owner's side of a refill round, in one interrupts-off section: take a
 * batch of the dirty list, trim a batch of what lies above capacity, and
 * say how many pages are missing.  Both batches are bounded, so that the
 * section is short whatever the pool's size: the worker repeats the round
 * while either was full.  Return: false if this worker no longer runs on
 * @c's CPU.
 */
static bool refill_collect(struct lab_cpu *c, struct lab_refill *r)
{
	unsigned int level, cap = capacity(c->r), i;
	unsigned long flags;

	if (pool_enter(c->r, &flags) != c) {
		pool_exit(this_cpu_ptr(c->r->cpus), flags);
		return false;
	}
	r->nr_dirty = min_t(unsigned int, c->nr_dirty, LAB_CLEAR_BATCH);
	for (i = 0; i < r->nr_dirty; i++)
		list_move_tail(c->dirty.next, &r->dirty);
	c->nr_dirty -= r->nr_dirty;

	raw_spin_lock(&c->stash_lock);
	level = pool_level(c) + r->nr_dirty;
	r->trim_more = false;
	if (level > cap) {
		unsigned int batch = min(level - cap, LAB_TRIM_BATCH);
		unsigned int over = batch;
		struct page *page;

		over -= stash_take(c, &r->excess, over);
		while (over && c->nr_hot) {
			list_add(&c->hot[--c->nr_hot]->lru, &r->excess);
			over--;
		}
		while (over && (page = share_take(c))) {
			list_add(&page->lru, &r->excess);
			over--;
		}
		atomic_long_add(batch - over, &c->released);
		level -= batch - over;
		r->trim_more = !over && level > cap;
	}
	share_fill(c, cap);
	hot_fill(c, cap);
	c->stash_seen = c->nr_stash;
	set_bounds(c);
	raw_spin_unlock(&c->stash_lock);
	pool_exit(c, flags);

	r->missing = cap > level ? cap - level : 0;
	return true;
}

/* Clear a round's dirty pages and put them in @c's stash. */
static void refill_clean(struct lab_cpu *c, struct lab_refill *r)
{
	struct page *page;

	list_for_each_entry(page, &r->dirty, lru) {
		if (lab_debug_check(page, 0))
			this_cpu_inc(c->r->cpus->stat[LAB_WRITTEN_AFTER_PUT]);
		clear_returned(page);
	}
	c->stat[LAB_PAGES_CLEARED] += r->nr_dirty;
	stash_add(c, &r->dirty, r->nr_dirty);
}

/*
 * Worker, memory going offline: give the pages of the range in @c's pool
 * back to the page allocator (whose isolation of the range keeps them off
 * its free lists).  hot[], the dirty list and the NMI share are short and
 * filtered in place; the stash, up to pages_per_cpu long, is taken whole
 * (one splice), filtered with interrupts on and given back.  Meanwhile
 * the pool looks short by the stash: gets steal or fall back.  Return:
 * false if this worker no longer runs on @c's CPU.
 */
static bool purge_offline(struct lab_cpu *c)
{
	unsigned int i, kept = 0, nr = 0, gone;
	struct page *page, *next;
	unsigned long flags;
	LIST_HEAD(stash);
	LIST_HEAD(away);

	if (pool_enter(c->r, &flags) != c) {
		pool_exit(this_cpu_ptr(c->r->cpus), flags);
		return false;
	}
	for (i = 0; i < c->nr_hot; i++) {
		page = c->hot[i];
		if (leaving(page))
			list_add(&page->lru, &away);
		else
			c->hot[kept++] = page;
	}
	c->nr_hot = kept;
	list_for_each_entry_safe(page, next, &c->dirty, lru) {
		if (leaving(page)) {
			list_move(&page->lru, &away);
			c->nr_dirty--;
		}
	}
	while ((page = share_take(c)))
		list_add(&page->lru, &stash);
	raw_spin_lock(&c->stash_lock);
	stash_take(c, &stash, c->nr_stash);
	c->stash_seen = 0;
	raw_spin_unlock(&c->stash_lock);
	set_bounds(c);
	pool_exit(c, flags);

	list_for_each_entry_safe(page, next, &stash, lru) {
		if (leaving(page))
			list_move(&page->lru, &away);
		else
			nr++;
	}
	stash_add(c, &stash, nr);
	gone = list_count_nodes(&away);
	this_cpu_add(c->r->cpus->stat[LAB_OFFLINE_RELEASED], gone);
	atomic_long_add(gone, &c->released);
	free_page_list(&away);
	return true;
}

/*
 * The refill worker: clear returned pages a batch at a time (so that few are
 * ever out of the pool), trim above capacity, and top up below it unless
 * backing off after a shortfall.
 */
static void refill_fn(struct work_struct *work)
{
	struct lab_cpu *c = container_of(to_delayed_work(work),
					 struct lab_cpu, refill);
	u64 start = trace_labyrinth_refill_enabled() ? ktime_get_ns() : 0;
	unsigned int got = 0, added = 0;
	struct lab_refill r;

	INIT_LIST_HEAD(&r.dirty);
	INIT_LIST_HEAD(&r.excess);
	drain_deferred(c);
	if (unlikely(READ_ONCE(lab_offline_nr)) && !purge_offline(c))
		return;
	do {
		if (!refill_collect(c, &r))
			return;
		free_page_list(&r.excess);
		refill_clean(c, &r);
		cond_resched();
	} while (r.nr_dirty == LAB_CLEAR_BATCH || r.trim_more);
	/* Each round loaded the last one's pages; this one's are in the stash. */
	if (r.nr_dirty)
		refill_share(c);
	c->stat[LAB_REFILL_RUNS]++;
	if (!r.missing)
		return;

	if (time_after_eq(jiffies, READ_ONCE(c->retry_at))) {
		got = fill(c, r.missing, &added);
		c->stat[LAB_PAGES_REFILLED] += added;
		if (added)
			refill_share(c);
		if (got < r.missing) {
			c->stat[LAB_REFILL_FAILURES]++;
			WRITE_ONCE(c->retry_at, jiffies + LAB_BACKOFF);
		}
		trace_labyrinth_refill(c->r->name, c->cpu, added,
				       ktime_get_ns() - start);
	}
	if (got < r.missing)
		queue_delayed_work_on(c->cpu, lab_wq, &c->refill,
				      max_t(long, c->retry_at - jiffies, 1));
}

/*
 * Run every online CPU's refill worker of @r now, ending any backoff, and
 * wait for it.  CPU hotplug lock held.
 */
static void sync_workers(struct labyrinth_reserve *r)
{
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);

		WRITE_ONCE(c->retry_at, jiffies);
		mod_delayed_work_on(cpu, lab_wq, &c->refill, 0);
	}
	for_each_online_cpu(cpu)
		flush_delayed_work(&per_cpu_ptr(r->cpus, cpu)->refill);
}

/* Free every page of @c's pool.  The pool must be idle. */
static void drain(struct lab_cpu *c)
{
	unsigned long flags, nr;
	struct page *page;
	LIST_HEAD(list);

	/* First: pages given back in NMI join the stash, emptied next. */
	drain_deferred(c);
	raw_spin_lock_irqsave(&c->stash_lock, flags);
	stash_take(c, &list, c->nr_stash);
	c->stash_seen = 0;
	raw_spin_unlock_irqrestore(&c->stash_lock, flags);

	list_splice_init(&c->dirty, &list);
	c->nr_dirty = 0;
	while (c->nr_hot)
		list_add(&c->hot[--c->nr_hot]->lru, &list);
	while ((page = share_take(c)))
		list_add(&page->lru, &list);
	set_bounds(c);
	nr = list_count_nodes(&list);
	atomic_long_add(nr, &c->released);
	free_page_list(&list);
}

/*
 * Fill @r's pool of @cpu.  While @r is not live a shortfall is an error:
 * a reserve is created, or the module loads, with every pool full.
 */
static int pool_prepare(struct labyrinth_reserve *r, unsigned int cpu)
{
	struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);
	unsigned int added, level, cap = capacity(r);
	unsigned long flags;

	c->nid = pool_node(cpu);
	level = pool_level(c);
	fill(c, cap > level ? cap - level : 0, &added);
	if (pool_level(c) < cap && !READ_ONCE(r->live))
		return -ENOMEM;
	raw_spin_lock_irqsave(&c->stash_lock, flags);
	share_fill(c, cap);
	hot_fill(c, cap);
	c->stash_seen = c->nr_stash;
	raw_spin_unlock_irqrestore(&c->stash_lock, flags);
	c->min_level = pool_level(c);
	set_bounds(c);
	return 0;
}

/* Stop the worker of @r's pool of @cpu and free the pool's pages. */
static void pool_dead(struct labyrinth_reserve *r, unsigned int cpu)
{
	struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);

	irq_work_sync(&c->kick);
	cancel_delayed_work_sync(&c->refill);
	drain(c);
}

/**
 * lab_cpu_prepare() - fill the pools of a CPU about to come online
 * @cpu: the CPU
 *
 * Every reserve's pool of @cpu.  Also called for every online CPU when the
 * module loads, for the default reserve: then a shortfall fails the load;
 * later it only delays the pool, which its first get below the low
 * watermark schedules for refill.
 *
 * Context: Process context, CPU hotplug lock held.  Sleeps.
 * Return: 0, or -ENOMEM if the module is loading and the pool could not be
 * filled.
 */
int lab_cpu_prepare(unsigned int cpu)
{
	struct labyrinth_reserve *r;
	int ret = 0;

	mutex_lock(&lab_reserves_lock);
	list_for_each_entry(r, &lab_reserves, node) {
		ret = pool_prepare(r, cpu);
		if (ret)
			break;
	}
	mutex_unlock(&lab_reserves_lock);
	return ret;
}

/**
 * lab_cpu_dead() - drain the pools of a CPU that went offline
 * @cpu: the CPU
 *
 * Also called, while the module loads, for the CPUs already filled when the
 * fill of another one failed.
 *
 * Context: Process context, CPU hotplug lock held.  Sleeps.
 * Return: 0.
 */
int lab_cpu_dead(unsigned int cpu)
{
	struct labyrinth_reserve *r;

	mutex_lock(&lab_reserves_lock);
	list_for_each_entry(r, &lab_reserves, node)
		pool_dead(r, cpu);
	mutex_unlock(&lab_reserves_lock);
	return 0;
}

/**
 * lab_sync() - bring every online pool of a reserve to capacity now
 * @r: the reserve
 *
 * Queues the refill worker of every online CPU without delay, ending any
 * backoff, and waits for it: returned pages are cleared, pools are topped
 * up (as far as memory allows) or trimmed to the reserve's capacity.
 *
 * Context: Process context.  Sleeps.
 */
void lab_sync(struct labyrinth_reserve *r)
{
	cpus_read_lock();
	sync_workers(r);
	cpus_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(lab_sync);

/**
 * lab_reserve_sync() - lab_sync() of the default reserve
 *
 * Context: Process context.  Sleeps.
 */
void lab_reserve_sync(void)
{
	lab_sync(&lab_default);
}
EXPORT_SYMBOL_IF_KUNIT(lab_reserve_sync);

/*
 * Memory going offline: have every pool give the range back first (see
 * leaving()), and pool its pages again once it is offline or not.  The
 * page allocator calls this under mem_hotplug_begin(), which holds the CPU
 * hotplug lock.  The pools of a reserve being filled are left to
 * lab_pools_live().
 */
static int lab_memory_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct memory_notify *mn = data;
	struct labyrinth_reserve *r;

	switch (action) {
	case MEM_GOING_OFFLINE:
		WRITE_ONCE(lab_offline_start, mn->start_pfn);
		WRITE_ONCE(lab_offline_nr, mn->nr_pages);
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		WRITE_ONCE(lab_offline_nr, 0);
		break;
	default:
		return NOTIFY_OK;
	}
	/* The range before each reserve's live; pairs with lab_pools_live(). */
	smp_mb();
	mutex_lock(&lab_reserves_lock);
	list_for_each_entry(r, &lab_reserves, node)
		if (READ_ONCE(r->live))
			sync_workers(r);
	mutex_unlock(&lab_reserves_lock);
	return NOTIFY_OK;
}

static struct notifier_block lab_memory_nb = {
	.notifier_call = lab_memory_notify,
};

/**
 * lab_pools_live() - a reserve is filled: open it, catch up with offlining
 * @r: the reserve, on lab_reserves
 *
 * Memory that started to go offline while the pools were being filled
 * must leave them now.
 *
 * Context: Process context, CPU hotplug lock held.  Sleeps.
 */
void lab_pools_live(struct labyrinth_reserve *r)
{
	WRITE_ONCE(r->live, true);
	/* live before the range; pairs with lab_memory_notify(). */
	smp_mb();
	if (READ_ONCE(lab_offline_nr))
		sync_workers(r);
}

/**
 * lab_snapshot() - read one CPU's pool and counters of a reserve
 * @r: the reserve
 * @cpu: the CPU
 * @snap: where to put them
 *
 * The values are read without stopping the CPU: each is exact, their sum
 * may be off by the operations in flight.
 *
 * Context: Any context.
 */
void lab_snapshot(const struct labyrinth_reserve *r, unsigned int cpu,
		  struct lab_cpu_snapshot *snap)
{
	const struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);
	unsigned int i;

	for (i = 0; i < LAB_NR_STATS; i++)
		snap->stat[i] = READ_ONCE(c->stat[i]) +
				READ_ONCE(c->nmi_stat[i]);
	snap->stat[LAB_PAGES_ALLOCATED] = atomic_long_read(&c->allocated);
	snap->stat[LAB_PAGES_RELEASED] = atomic_long_read(&c->released);
	snap->share = share_nr(c);
	snap->level = READ_ONCE(c->nr_hot) + READ_ONCE(c->nr_dirty) +
		      READ_ONCE(c->nr_stash) + snap->share + deferred_nr(c);
	snap->min_level = READ_ONCE(c->min_level);
}
EXPORT_SYMBOL_IF_KUNIT(lab_snapshot);

/**
 * lab_reserve_snapshot() - lab_snapshot() of the default reserve
 * @cpu: the CPU
 * @snap: where to put them
 *
 * Context: Any context.
 */
void lab_reserve_snapshot(unsigned int cpu, struct lab_cpu_snapshot *snap)
{
	lab_snapshot(&lab_default, cpu, snap);
}
EXPORT_SYMBOL_IF_KUNIT(lab_reserve_snapshot);

/**
 * lab_bookkeeping() - memory a reserve uses besides its pages
 * @r: the reserve
 *
 * Pooled pages are linked through their own struct page; what remains is
 * one struct lab_cpu per possible CPU, and the reserve's own structure.
 *
 * Context: Any context.
 * Return: bytes.
 */
size_t lab_bookkeeping(const struct labyrinth_reserve *r)
{
	return sizeof(struct lab_cpu) * num_possible_cpus() + sizeof(*r);
}

/**
 * lab_pools_init() - allocate a reserve's per-CPU pools, empty
 * @r: the reserve
 *
 * Context: Process context.  Sleeps.
 * Return: 0 or -ENOMEM.
 */
int lab_pools_init(struct labyrinth_reserve *r)
{
	unsigned int cpu;

	if (!zalloc_cpumask_var(&r->stocked, GFP_KERNEL))
		return -ENOMEM;
	r->cpus = alloc_percpu(struct lab_cpu);
	if (!r->cpus) {
		free_cpumask_var(r->stocked);
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);

		INIT_LIST_HEAD(&c->dirty);
		INIT_LIST_HEAD(&c->stash);
		raw_spin_lock_init(&c->stash_lock);
		c->cpu = cpu;
		c->r = r;
		c->nid = pool_node(cpu);
		c->retry_at = jiffies;
		INIT_DELAYED_WORK(&c->refill, refill_fn);
		c->kick = IRQ_WORK_INIT_HARD(kick_fn);
		init_llist_head(&c->deferred);
		init_llist_head(&c->release);
	}
	return 0;
}

/**
 * lab_pools_release() - free what lab_pools_init() allocated
 * @r: the reserve, its pools drained and their workers stopped
 *
 * Context: Process context.
 */
void lab_pools_release(struct labyrinth_reserve *r)
{
	free_percpu(r->cpus);
	r->cpus = NULL;
	free_cpumask_var(r->stocked);
}

/**
 * lab_pools_fill() - fill every online pool of a reserve not yet live
 * @r: the reserve
 *
 * Context: Process context, CPU hotplug lock held.  Sleeps.
 * Return: 0, or -ENOMEM (the pools filled are drained again).
 */
int lab_pools_fill(struct labyrinth_reserve *r)
{
	unsigned int cpu, done;

	for_each_online_cpu(cpu) {
		if (pool_prepare(r, cpu))
			goto fail;
	}
	return 0;
fail:
	for_each_online_cpu(done)
		pool_dead(r, done);
	return -ENOMEM;
}

/**
 * lab_pools_free() - stop the workers, drain every pool, free the pools
 * @r: the reserve, off lab_reserves, no user left
 *
 * Reports, once, the pages users took and neither gave back nor handed on.
 *
 * Context: Process context.  Sleeps.
 * Return: those pages.
 */
long lab_pools_free(struct labyrinth_reserve *r)
{
	long allocated = 0, released = 0, handed_on = 0, out;
	unsigned int cpu;

	WRITE_ONCE(r->live, false);
	for_each_possible_cpu(cpu)
		irq_work_sync(&per_cpu_ptr(r->cpus, cpu)->kick);
	for_each_possible_cpu(cpu)
		cancel_delayed_work_sync(&per_cpu_ptr(r->cpus, cpu)->refill);

	for_each_possible_cpu(cpu) {
		struct lab_cpu *c = per_cpu_ptr(r->cpus, cpu);

		drain(c);
		allocated += atomic_long_read(&c->allocated);
		released += atomic_long_read(&c->released);
		handed_on += c->stat[LAB_HANDED_ON] +
			     c->nmi_stat[LAB_HANDED_ON];
	}
	out = allocated - released - handed_on;
	if (r != &lab_default) {
		if (out > 0)
			pr_warn("reserve %s destroyed with %ld pages still out (held, or freed elsewhere)\n",
				r->name, out);
		pr_info("reserve %s destroyed: %ld pages allocated, %ld released, %ld handed on\n",
			r->name, allocated, released, handed_on);
	} else {
		if (out > 0)
			pr_warn("%ld pages taken from the reserve were not returned to it (still held, or freed elsewhere)\n",
				out);
		pr_info("unloaded: %ld pages allocated, %ld released, %ld handed on\n",
			allocated, released, handed_on);
	}
	lab_pools_release(r);
	return max(out, 0L);
}

/**
 * lab_reserve_init() - what every reserve needs: the workqueue, memory
 * notifier; and the default reserve's pools, empty
 *
 * Context: Process context.  Sleeps.
 * Return: 0 or a negative errno.
 */
int lab_reserve_init(void)
{
	int ret;

	lab_wq = alloc_workqueue("labyrinth",
				 WQ_MEM_RECLAIM | WQ_HIGHPRI | LAB_WQ_PERCPU, 0);
	if (!lab_wq)
		return -ENOMEM;
	ret = lab_pools_init(&lab_default);
	if (ret)
		goto err_wq;
	ret = register_memory_notifier(&lab_memory_nb);
	if (ret)
		goto err_pools;
	mutex_lock(&lab_reserves_lock);
	list_add(&lab_default.node, &lab_reserves);
	mutex_unlock(&lab_reserves_lock);
	return 0;

err_pools:
	lab_pools_release(&lab_default);
err_wq:
	destroy_workqueue(lab_wq);
	return ret;
}

/**
 * lab_reserve_exit() - drain and free the default reserve, stop the rest
 *
 * Context: Process context, no named reserve left, no user of the default
 * one.  Sleeps.
 */
void lab_reserve_exit(void)
{
	unregister_memory_notifier(&lab_memory_nb);
	mutex_lock(&lab_reserves_lock);
	list_del(&lab_default.node);
	mutex_unlock(&lab_reserves_lock);
	lab_pools_free(&lab_default);
	destroy_workqueue(lab_wq);
}

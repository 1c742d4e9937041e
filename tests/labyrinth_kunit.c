// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "labyrinth": which source serves a get, what a put does with a
 * page, the refill worker, gets and puts in hard-IRQ and softirq context,
 * and the clearing of returned pages; then named reserves: their creation,
 * resizing and destruction, and that they serve their own pages only.
 *
 * Each case starts from full pools (lab_reserve_sync() in the init
 * function); its exit function gives back every page the case still holds
 * and syncs again.
 *
 * A case checks the counters of the CPU its gets and puts ran on, so it runs
 * them with preemption disabled ("pinned"): the task cannot migrate, and that
 * CPU's refill worker, which the gets may kick, cannot run before preemption
 * is enabled again.  A case that steals runs its gets under stop_machine()
 * instead: a theft kicks the victim's worker, which must not refill the
 * victim's stash while the case drains it.  labyrinth_get() and
 * labyrinth_put() never sleep; KUnit expectations may, so a case checks them
 * only after its gets and puts.
 *
 * Two cases need the page allocator to fail on request: fail_page_alloc set
 * to fail every allocation of a task with make_it_fail set (task-filter=Y,
 * probability=100, interval=1, times=-1, min-order=0).  They are skipped
 * when it does not.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kallsyms.h>
#include <linux/kasan.h>
#include <linux/kmsg_dump.h>
#include <linux/kprobes.h>
#include <linux/seq_file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/poison.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/stop_machine.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "labyrinth.h"
#include "labyrinth_internal.h"

#define HELD_SLACK	8		/* spare entries in the held-pages array */
#define CONTEXT_WAIT_MS	10000		/* for a timer or tasklet to run */
#define REFILL_WAIT_MS	10000		/* for a kicked refill worker */
#define TAG_MAGIC	0x6c6162797269ULL /* tags a held page */
#define DIRT		0xa5		/* what a user leaves in a page */

/**
 * struct lab_test - the state of one test case
 * @r: the reserve the case measures: lab_default (labyrinth_get()) but
 *	in the cases of named reserves
 * @pages: the pages of @r the case holds; the exit function gives them back
 * @nr: entries in use in @pages
 * @max: size of @pages
 * @cap: the pages_per_cpu parameter
 * @low: the low_watermark parameter
 * @cpu: the CPU the measured gets and puts ran on
 * @last: what the last get_one() returned
 * @extra: a page put_extra() gives back
 * @steal: drain_stopped() takes from the other CPUs' stashes too
 * @fail_alloc: drain_stopped() makes the page allocator fail meanwhile
 * @drained: drain_stopped() reached a get served by neither source
 * @stolen_from: pages the other CPUs' pools lost in drain_stopped()
 * @restore_fallback: @fallback is to be written back on exit
 * @restore_low: @low is to be written back on exit
 * @restore_max_total: @max_total is to be written back on exit
 * @fallback: lab_default.fallback before the case changed it
 * @max_total: the max_total_pages parameter before the case changed it
 * @start: @cpu's pool when the case began to measure it
 * @before: @cpu's pool before the last measured get or put
 * @after: @cpu's pool after it
 */
struct lab_test {
	struct labyrinth_reserve *r;
	struct page **pages;
	unsigned int nr;
	unsigned int max;
	unsigned int cap;
	unsigned int low;
	unsigned int cpu;
	struct page *last;
	struct page *extra;
	bool steal;
	bool fail_alloc;
	bool drained;
	unsigned int stolen_from;
	bool restore_fallback;
	bool restore_low;
	bool restore_max_total;
	bool fallback;
	unsigned long max_total;
	struct lab_cpu_snapshot start;
	struct lab_cpu_snapshot before;
	struct lab_cpu_snapshot after;
};

/**
 * struct lab_ctx_test - a get and a put run in another context
 * @timer: runs them in hard-IRQ context
 * @tasklet: runs them in softirq context
 * @done: completed once they ran
 * @r: the reserve they use
 * @cpu: the CPU they ran on
 * @hardirq: in_hardirq() there
 * @softirq: in_serving_softirq() there
 * @irqs_off: irqs_disabled() there
 * @nmi: in_nmi() there
 * @got: the get returned a page
 * @before: @cpu's pool before the get
 * @mid: after the get
 * @after: after the put
 */
struct lab_ctx_test {
	struct hrtimer timer;
	struct tasklet_struct tasklet;
	struct completion done;
	struct labyrinth_reserve *r;
	unsigned int cpu;
	bool hardirq;
	bool softirq;
	bool irqs_off;
	bool nmi;
	bool got;
	struct lab_cpu_snapshot before;
	struct lab_cpu_snapshot mid;
	struct lab_cpu_snapshot after;
};

struct counter {
	enum lab_stat_item item;
	const char *name;
};

#define COUNTER(item)	{ LAB_##item, #item }

/* What a get is counted as: exactly one of these advances by one. */
static const struct counter get_counters[] = {
	COUNTER(SERVED_LOCAL), COUNTER(STOLEN), COUNTER(FALLBACK),
	COUNTER(FAILED), COUNTER(FALLBACK_SKIPPED), COUNTER(SERVED_NMI),
};

/* What a put of a page is counted as: exactly one of these advances. */
static const struct counter put_counters[] = {
	COUNTER(PUT_POOLED), COUNTER(PUT_FREED), COUNTER(PUT_REMOTE),
	COUNTER(PUT_REJECTED), COUNTER(PUT_DEFERRED), COUNTER(PUT_SHARED),
};

/*
 * A lock of the caller, held around a get and a put: a raw one, which
 * keeps interrupts off on PREEMPT_RT too.
 */
static DEFINE_RAW_SPINLOCK(caller_lock);

static unsigned long delta(const struct lab_cpu_snapshot *from,
			   const struct lab_cpu_snapshot *to,
			   enum lab_stat_item item)
{
	return to->stat[item] - from->stat[item];
}

/* Expect that of @counters only @item advanced from @from to @to, by one. */
static void expect_counted(struct kunit *test, const struct counter *counters,
			   unsigned int n, const struct lab_cpu_snapshot *from,
			   const struct lab_cpu_snapshot *to,
			   enum lab_stat_item item)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, delta(from, to, counters[i].item),
				    counters[i].item == item ? 1UL : 0UL,
				    "counter %s", counters[i].name);
}

static void expect_get_counted(struct kunit *test,
			       const struct lab_cpu_snapshot *from,
			       const struct lab_cpu_snapshot *to,
			       enum lab_stat_item item)
{
	expect_counted(test, get_counters, ARRAY_SIZE(get_counters), from, to,
		       item);
}

static void expect_put_counted(struct kunit *test,
			       const struct lab_cpu_snapshot *from,
			       const struct lab_cpu_snapshot *to,
			       enum lab_stat_item item)
{
	expect_counted(test, put_counters, ARRAY_SIZE(put_counters), from, to,
		       item);
}

/* A get of @r: labyrinth_get() for the default reserve. */
static struct page *get_from(struct labyrinth_reserve *r)
{
	return r == &lab_default ? labyrinth_get() : labyrinth_reserve_get(r);
}

/* A put to @r: labyrinth_put() for the default reserve. */
static void put_to(struct labyrinth_reserve *r, struct page *page)
{
	if (r == &lab_default)
		labyrinth_put(page);
	else
		labyrinth_reserve_put(r, page);
}

/* Preemption off: the case now measures the CPU it runs on. */
static void note_cpu(struct lab_test *t)
{
	t->cpu = smp_processor_id();
	lab_snapshot(t->r, t->cpu, &t->start);
}

static void pin(struct lab_test *t)
{
	preempt_disable();
	note_cpu(t);
}

static void unpin(void)
{
	preempt_enable();
}

/* Pinned: one get of @t->r, between two snapshots; hold the page. */
static struct page *get_one(struct lab_test *t)
{
	struct page *page;

	lab_snapshot(t->r, t->cpu, &t->before);
	page = get_from(t->r);
	lab_snapshot(t->r, t->cpu, &t->after);
	if (page)
		t->pages[t->nr++] = page;
	t->last = page;
	return page;
}

/* Pinned: one put to @t->r, between two snapshots. */
static void put_one(struct lab_test *t, struct page *page)
{
	lab_snapshot(t->r, t->cpu, &t->before);
	put_to(t->r, page);
	lab_snapshot(t->r, t->cpu, &t->after);
}

/* Pinned: take up to @n pages.  Return: the number taken. */
static unsigned int take(struct lab_test *t, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && t->nr < t->max; i++)
		if (!get_one(t))
			break;
	return i;
}

static bool served_by(const struct lab_test *t, enum lab_stat_item item)
{
	return delta(&t->before, &t->after, item) == 1;
}

/*
 * Pinned: take pages while the local pool serves them and, if @steal, while
 * the stashes of other CPUs do.  The last get, between @t->before and
 * @t->after, is the first one served otherwise.
 * Return: false if @t->pages filled up first.
 */
static bool take_while_served(struct lab_test *t, bool steal)
{
	while (t->nr < t->max) {
		get_one(t);
		if (served_by(t, LAB_SERVED_LOCAL))
			continue;
		if (!steal || !served_by(t, LAB_STOLEN))
			return true;
	}
	return false;
}

/* Pages in @r's pools of the online CPUs other than @cpu. */
static unsigned int other_levels(const struct labyrinth_reserve *r,
				 unsigned int cpu)
{
	struct lab_cpu_snapshot snap;
	unsigned int other, sum = 0;

	for_each_online_cpu(other) {
		if (other == cpu)
			continue;
		lab_snapshot(r, other, &snap);
		sum += snap.level;
	}
	return sum;
}

static void set_fallback(struct lab_test *t, bool on)
{
	if (!t->restore_fallback) {
		t->fallback = READ_ONCE(lab_default.fallback);
		t->restore_fallback = true;
	}
	WRITE_ONCE(lab_default.fallback, on);
}

/* As a write of the parameter does: set it, then sync every pool. */
static void set_low_watermark(struct lab_test *t, unsigned int low)
{
	t->restore_low = true;
	WRITE_ONCE(lab_default.low_watermark, low);
	lab_reserve_sync();
}

static void set_make_it_fail(bool on)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = on;
#endif
}

/* Whether the page allocator fails an order-0 allocation on request. */
static bool allocator_fails_on_request(void)
{
	struct page *page;

	set_make_it_fail(true);
	page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
	set_make_it_fail(false);
	if (!page)
		return true;
	__free_page(page);
	return false;
}

/* See the top of the file for the fail_page_alloc settings needed. */
static void skip_unless_allocator_fails(struct kunit *test)
{
	if (!allocator_fails_on_request())
		kunit_skip(test, "fail_page_alloc does not fail order 0 for make_it_fail");
}

/*
 * The max_total_pages parameter, read and written as an administrator does,
 * through its file.  lab_suite_init() opens it, in the task that loads the
 * suite: the cases run in kernel threads, which on 7.x do not see the root
 * file system.
 */
#define MAX_TOTAL_PARAM	"/sys/module/labyrinth/parameters/max_total_pages"

static struct file *max_total_file;

static int max_total_read(unsigned long *pages)
{
	char buf[24] = "";
	loff_t pos = 0;
	ssize_t len;

	if (IS_ERR(max_total_file))
		return PTR_ERR(max_total_file);
	len = kernel_read(max_total_file, buf, sizeof(buf) - 1, &pos);
	if (len < 0)
		return len;
	return kstrtoul(buf, 10, pages);
}

static int max_total_write(unsigned long pages)
{
	char buf[24];
	loff_t pos = 0;
	ssize_t len;

	if (IS_ERR(max_total_file))
		return PTR_ERR(max_total_file);
	len = kernel_write(max_total_file, buf,
			   scnprintf(buf, sizeof(buf), "%lu", pages), &pos);
	return len < 0 ? len : 0;
}

static int lab_test_init(struct kunit *test)
{
	struct lab_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->r = &lab_default;
	t->cap = READ_ONCE(lab_default.pages_per_cpu);
	t->low = READ_ONCE(lab_default.low_watermark);
	t->max = t->cap * num_possible_cpus() + HELD_SLACK;
	t->pages = kunit_kcalloc(test, t->max, sizeof(*t->pages), GFP_KERNEL);
	if (!t->pages)
		return -ENOMEM;
	test->priv = t;
	lab_reserve_sync();
	return 0;
}

static void lab_test_exit(struct kunit *test)
{
	struct lab_test *t = test->priv;

	if (!t)
		return;
	if (t->restore_fallback)
		WRITE_ONCE(lab_default.fallback, t->fallback);
	if (t->restore_low)
		WRITE_ONCE(lab_default.low_watermark, t->low);
	if (t->restore_max_total)
		max_total_write(t->max_total);
	while (t->nr)
		put_to(t->r, t->pages[--t->nr]);
	lab_reserve_sync();
}

static void get_served_from_local_pool(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page;

	pin(t);
	page = get_one(t);
	unpin();

	KUNIT_EXPECT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, t->before.level, t->cap);
	KUNIT_EXPECT_EQ(test, t->after.level, t->cap - 1);
	expect_get_counted(test, &t->before, &t->after, LAB_SERVED_LOCAL);
}

static void put_returns_page_to_pool(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page;

	pin(t);
	page = labyrinth_get();
	if (page)
		put_one(t, page);
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, t->before.level, t->cap - 1);
	KUNIT_EXPECT_EQ(test, t->after.level, t->cap);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_POOLED);
}

/*
 * The extra page is one of the reserve's own, taken before the pools are
 * refilled: a foreign page would unbalance the pages allocated and released
 * that the module reports at unload.
 */
static void put_beyond_capacity_frees(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = labyrinth_get();

	KUNIT_ASSERT_NOT_NULL(test, page);
	lab_reserve_sync();
	pin(t);
	put_one(t, page);
	unpin();

	KUNIT_EXPECT_EQ(test, t->before.level, t->cap);
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		/*
		 * Pinned, preemption off: on RT the page allocator may not
		 * be called, the page stays above capacity until the worker
		 * trims the pool.
		 */
		KUNIT_EXPECT_EQ(test, t->after.level, t->cap + 1);
		expect_put_counted(test, &t->before, &t->after, LAB_PUT_POOLED);
		lab_reserve_sync();
		lab_reserve_snapshot(t->cpu, &t->after);
		KUNIT_EXPECT_EQ(test, t->after.level, t->cap);
	} else {
		KUNIT_EXPECT_EQ(test, t->after.level, t->cap);
		expect_put_counted(test, &t->before, &t->after, LAB_PUT_FREED);
	}
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			1UL);
}

/* work_on_cpu() callback: put @t->extra, preemptible, on a bound worker. */
static long put_extra(void *arg)
{
	struct lab_test *t = arg;

	note_cpu(t);
	put_one(t, t->extra);
	return 0;
}

/*
 * The same from process context, preemption on: on PREEMPT_RT too the page
 * allocator may be called there, and the page is freed at once.
 */
static void put_beyond_capacity_in_process_context_frees(struct kunit *test)
{
	struct lab_test *t = test->priv;
	long ret;

	t->extra = labyrinth_get();
	KUNIT_ASSERT_NOT_NULL(test, t->extra);
	lab_reserve_sync();
	ret = work_on_cpu(raw_smp_processor_id(), put_extra, t);

	KUNIT_EXPECT_EQ(test, ret, 0L);
	KUNIT_EXPECT_EQ(test, t->before.level, t->cap);
	KUNIT_EXPECT_EQ(test, t->after.level, t->cap);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_FREED);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			1UL);
}

/*
 * stop_machine() callback: every other CPU spins with interrupts off, so no
 * refill worker runs and no one else touches a pool until it returns.
 */
static int drain_stopped(void *arg)
{
	struct lab_test *t = arg;
	unsigned int others;

	note_cpu(t);
	others = other_levels(t->r, t->cpu);
	set_make_it_fail(t->fail_alloc);
	t->drained = take_while_served(t, t->steal);
	set_make_it_fail(false);
	t->stolen_from = others - other_levels(t->r, t->cpu);
	return 0;
}

/*
 * Take every page of the local pool and, if @steal, of the other CPUs'
 * stashes, then one get more: the one the case checks, between @t->before
 * and @t->after.  With @fail_alloc the page allocator fails meanwhile.
 */
static void drain_pools(struct kunit *test, bool steal, bool fail_alloc)
{
	struct lab_test *t = test->priv;

	t->steal = steal;
	t->fail_alloc = fail_alloc;
	KUNIT_ASSERT_EQ(test, stop_machine(drain_stopped, t, NULL), 0);

	KUNIT_ASSERT_TRUE_MSG(test, t->drained, "the pools never ran dry");
	/*
	 * The pool as the drain found it: lab_reserve_sync() fills it as far
	 * as memory allows, and a refill that fell short and was requeued may
	 * be frozen mid-way with pages in its hands (refill_worker_* cases
	 * test that it fills).
	 */
	KUNIT_ASSERT_GT(test, t->start.level, 0U);
	/*
	 * Before the last get, every page of ours was served, and with
	 * @steal every page thefts took: one by the theft, the rest locally.
	 */
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->before, LAB_SERVED_LOCAL) +
			delta(&t->start, &t->before, LAB_STOLEN),
			(unsigned long)t->start.level +
			(steal ? t->stolen_from : 0));
	KUNIT_EXPECT_EQ(test, t->before.level, 0U);
	/* Every page the other pools lost was served, or joined ours. */
	KUNIT_EXPECT_EQ(test, (unsigned long)t->stolen_from + t->start.level,
			delta(&t->start, &t->after, LAB_SERVED_LOCAL) +
			delta(&t->start, &t->after, LAB_STOLEN) +
			t->after.level);
}

static void get_steals_when_local_pool_empty(struct kunit *test)
{
	struct lab_test *t = test->priv;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs a second online CPU");
	drain_pools(test, false, false);

	KUNIT_EXPECT_NOT_NULL(test, t->last);
	expect_get_counted(test, &t->before, &t->after, LAB_STOLEN);
	/* One theft takes several pages: one served, the rest kept. */
	KUNIT_EXPECT_GE(test, t->stolen_from, 2U);
	KUNIT_EXPECT_LE(test, t->stolen_from, LAB_STEAL_MAX);
	KUNIT_EXPECT_EQ(test, t->after.level, t->stolen_from - 1);
}

/* The last get, after drain_pools() emptied every pool, went to the fallback. */
static void expect_fallback_served(struct kunit *test, struct lab_test *t)
{
	/* Under stop_machine(), interrupts off: RT skips the fallback. */
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		KUNIT_EXPECT_NULL(test, t->last);
		expect_get_counted(test, &t->before, &t->after,
				   LAB_FALLBACK_SKIPPED);
	} else {
		KUNIT_EXPECT_NOT_NULL(test, t->last);
		expect_get_counted(test, &t->before, &t->after, LAB_FALLBACK);
	}
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_ALLOCATED),
			IS_ENABLED(CONFIG_PREEMPT_RT) ? 0UL : 1UL);
}

static void get_falls_back_when_pools_empty(struct kunit *test)
{
	struct lab_test *t = test->priv;

	set_fallback(t, true);
	drain_pools(test, true, false);

	expect_fallback_served(test, t);
}

static void get_fails_without_fallback_when_pools_empty(struct kunit *test)
{
	struct lab_test *t = test->priv;

	set_fallback(t, false);
	drain_pools(test, true, false);

	KUNIT_EXPECT_NULL(test, t->last);
	expect_get_counted(test, &t->before, &t->after, LAB_FAILED);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_ALLOCATED),
			0UL);
}

static void fallback_failure_returns_null(struct kunit *test)
{
	struct lab_test *t = test->priv;

	skip_unless_allocator_fails(test);
	set_fallback(t, true);
	drain_pools(test, true, true);

	KUNIT_EXPECT_NULL(test, t->last);
	expect_get_counted(test, &t->before, &t->after,
			   IS_ENABLED(CONFIG_PREEMPT_RT) ? LAB_FALLBACK_SKIPPED :
							   LAB_FAILED);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_ALLOCATED),
			0UL);
}

/* work_on_cpu() callback: take the whole pool of this CPU. */
static long take_whole_reserve(void *arg)
{
	struct lab_test *t = arg;

	pin(t);
	set_make_it_fail(true);
	take(t, t->cap);
	set_make_it_fail(false);
	unpin();
	return 0;
}

static void whole_reserve_served_while_allocator_fails(struct kunit *test)
{
	struct lab_test *t = test->priv;
	unsigned int cpu;

	skip_unless_allocator_fails(test);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		long ret = work_on_cpu(cpu, take_whole_reserve, t);

		KUNIT_EXPECT_EQ(test, ret, 0L);
		KUNIT_EXPECT_EQ(test, t->cpu, cpu);
		KUNIT_EXPECT_EQ(test, t->start.level, t->cap);
		KUNIT_EXPECT_EQ(test, t->after.level, 0U);
		KUNIT_EXPECT_EQ(test,
				delta(&t->start, &t->after, LAB_SERVED_LOCAL),
				(unsigned long)t->cap);
		expect_get_counted(test, &t->before, &t->after,
				   LAB_SERVED_LOCAL);
	}
	cpus_read_unlock();
}

/* Pinned: take pages until the level is just below low_watermark. */
static void take_below_low_watermark(struct kunit *test)
{
	struct lab_test *t = test->priv;
	unsigned int n = t->cap - t->low + 1, taken;

	pin(t);
	taken = take(t, n);
	unpin();

	KUNIT_ASSERT_EQ(test, taken, n);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_SERVED_LOCAL),
			(unsigned long)n);
	KUNIT_EXPECT_EQ(test, t->after.level, t->low - 1);
}

static void refill_worker_restores_level(struct kunit *test)
{
	struct lab_test *t = test->priv;
	unsigned int taken = t->cap - t->low + 1;
	struct lab_cpu_snapshot now;

	take_below_low_watermark(test);
	lab_reserve_sync();
	lab_reserve_snapshot(t->cpu, &now);

	KUNIT_EXPECT_EQ(test, now.level, t->cap);
	KUNIT_EXPECT_GE(test, delta(&t->start, &now, LAB_REFILL_RUNS), 1UL);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &now, LAB_PAGES_REFILLED),
			(unsigned long)taken);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &now, LAB_REFILL_FAILURES), 0UL);
	KUNIT_EXPECT_LE(test, now.min_level, t->low - 1);
}

/* Wait for @cpu's pool to hold @level pages.  Return: whether it did. */
static bool wait_for_level(unsigned int cpu, unsigned int level)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(REFILL_WAIT_MS);
	struct lab_cpu_snapshot snap;

	for (;;) {
		lab_reserve_snapshot(cpu, &snap);
		if (snap.level == level)
			return true;
		if (time_after(jiffies, timeout))
			return false;
		msleep(20);
	}
}

/* No lab_reserve_sync() here: only the gets can have kicked the worker. */
static void get_below_low_watermark_kicks_refill(struct kunit *test)
{
	struct lab_test *t = test->priv;

	take_below_low_watermark(test);

	KUNIT_EXPECT_TRUE_MSG(test, wait_for_level(t->cpu, t->cap),
			      "pool of CPU %u not refilled within %u ms",
			      t->cpu, REFILL_WAIT_MS);
}

/*
 * The fast path judges the level by bounds computed in advance: once the
 * pools are synced, a raised low_watermark must apply to the very next get.
 */
static void get_below_raised_low_watermark_kicks_refill(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page;

	set_low_watermark(t, t->cap);
	pin(t);
	page = get_one(t);
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, t->after.level, t->cap - 1);
	KUNIT_EXPECT_TRUE_MSG(test, wait_for_level(t->cpu, t->cap),
			      "pool of CPU %u not refilled within %u ms",
			      t->cpu, REFILL_WAIT_MS);
}

/* In the context under test: a get and a put, between snapshots. */
static void get_put_here(struct lab_ctx_test *x)
{
	struct page *page;

	x->hardirq = in_hardirq();
	x->softirq = in_serving_softirq();
	x->irqs_off = irqs_disabled();
	x->nmi = in_nmi();
	x->cpu = smp_processor_id();
	lab_snapshot(x->r, x->cpu, &x->before);
	page = get_from(x->r);
	lab_snapshot(x->r, x->cpu, &x->mid);
	x->got = page;
	put_to(x->r, page);
	lab_snapshot(x->r, x->cpu, &x->after);
}

/* A get and a put of the reserve the case measures, in another context. */
static struct lab_ctx_test *ctx_test_alloc(struct kunit *test)
{
	struct lab_ctx_test *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct lab_test *t = test->priv;

	KUNIT_ASSERT_NOT_NULL(test, x);
	init_completion(&x->done);
	x->r = t->r;
	return x;
}

static bool wait_ran(struct lab_ctx_test *x)
{
	return wait_for_completion_timeout(&x->done,
					   msecs_to_jiffies(CONTEXT_WAIT_MS));
}

/* The get was served by the full local pool and the put refilled it. */
static void expect_served_and_pooled(struct kunit *test,
				     const struct lab_ctx_test *x)
{
	struct lab_test *t = test->priv;

	KUNIT_EXPECT_TRUE(test, x->got);
	KUNIT_EXPECT_EQ(test, x->before.level, t->cap);
	KUNIT_EXPECT_EQ(test, x->mid.level, t->cap - 1);
	KUNIT_EXPECT_EQ(test, x->after.level, t->cap);
	expect_get_counted(test, &x->before, &x->mid, LAB_SERVED_LOCAL);
	expect_put_counted(test, &x->mid, &x->after, LAB_PUT_POOLED);
}

static enum hrtimer_restart hardirq_get_put(struct hrtimer *timer)
{
	struct lab_ctx_test *x = container_of(timer, struct lab_ctx_test,
					      timer);

	get_put_here(x);
	complete(&x->done);
	return HRTIMER_NORESTART;
}

/*
 * A hard hrtimer callback runs in hard-IRQ context on every kernel, so
 * PROVE_RAW_LOCK_NESTING reports any spinlock_t the get or the put takes.
 */
static void get_put_in_hardirq_hrtimer(struct kunit *test)
{
	struct lab_ctx_test *x = ctx_test_alloc(test);
	bool ran;

	lab_hrtimer_setup(&x->timer, hardirq_get_put, CLOCK_MONOTONIC,
			  HRTIMER_MODE_REL_HARD);
	hrtimer_start(&x->timer, ns_to_ktime(100 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	ran = wait_ran(x);
	hrtimer_cancel(&x->timer);

	KUNIT_ASSERT_TRUE_MSG(test, ran, "the hrtimer did not run");
	KUNIT_EXPECT_TRUE(test, x->hardirq);
	KUNIT_EXPECT_TRUE(test, x->irqs_off);
	expect_served_and_pooled(test, x);
}

static void softirq_get_put(struct tasklet_struct *tl)
{
	struct lab_ctx_test *x = from_tasklet(x, tl, tasklet);

	get_put_here(x);
	complete(&x->done);
}

static void get_put_in_softirq(struct kunit *test)
{
	struct lab_ctx_test *x = ctx_test_alloc(test);
	bool ran;

	tasklet_setup(&x->tasklet, softirq_get_put);
	tasklet_schedule(&x->tasklet);
	ran = wait_ran(x);
	tasklet_kill(&x->tasklet);

	KUNIT_ASSERT_TRUE_MSG(test, ran, "the tasklet did not run");
	KUNIT_EXPECT_TRUE(test, x->softirq);
	KUNIT_EXPECT_FALSE(test, x->hardirq);
	expect_served_and_pooled(test, x);
}

static void get_put_under_spinlock_with_irqs_off(struct kunit *test)
{
	struct lab_ctx_test *x = ctx_test_alloc(test);
	unsigned long flags;

	raw_spin_lock_irqsave(&caller_lock, flags);
	get_put_here(x);
	raw_spin_unlock_irqrestore(&caller_lock, flags);

	KUNIT_EXPECT_TRUE(test, x->irqs_off);
	expect_served_and_pooled(test, x);
}

/* What the NMI below runs, once: set by run_in_nmi(). */
static void (*nmi_fn)(void *arg);
static void *nmi_arg;
static bool nmi_pending;

static int kunit_nmi(unsigned int type, struct pt_regs *regs)
{
	if (!READ_ONCE(nmi_pending))
		return NMI_DONE;
	nmi_fn(nmi_arg);
	WRITE_ONCE(nmi_pending, false);
	return NMI_HANDLED;
}

/*
 * Run @fn(@arg) in an NMI on this CPU: an NMI sent to itself, which it
 * takes at once, interrupts off or not.  kunit_nmi() is registered for
 * the suite.  Return: whether it ran.
 */
static bool run_in_nmi(void (*fn)(void *arg), void *arg)
{
	ktime_t deadline;
	bool ran;

	nmi_fn = fn;
	nmi_arg = arg;
	preempt_disable();
	WRITE_ONCE(nmi_pending, true);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	deadline = ktime_add_ms(ktime_get(), CONTEXT_WAIT_MS);
	while (READ_ONCE(nmi_pending) && ktime_before(ktime_get(), deadline))
		cpu_relax();
	ran = !READ_ONCE(nmi_pending);
	WRITE_ONCE(nmi_pending, false);
	preempt_enable();
	return ran;
}

static void nmi_get_put(void *arg)
{
	get_put_here(arg);
}

/*
 * An NMI that interrupted none of labyrinth's sections owns the pool: its
 * get is served by the pool itself, not the NMI share, and its put goes
 * back to the pool at once.
 */
static void get_put_in_nmi(struct kunit *test)
{
	struct lab_ctx_test *x = ctx_test_alloc(test);
	struct lab_test *t = test->priv;

	KUNIT_ASSERT_TRUE_MSG(test, run_in_nmi(nmi_get_put, x),
			      "the NMI did not come");
	KUNIT_EXPECT_TRUE(test, x->nmi);
	KUNIT_EXPECT_TRUE(test, x->got);
	KUNIT_EXPECT_EQ(test, x->before.level, t->cap);
	KUNIT_EXPECT_EQ(test, x->mid.level, t->cap - 1);
	KUNIT_EXPECT_EQ(test, x->mid.share, x->before.share);
	KUNIT_EXPECT_EQ(test, x->after.level, t->cap);
	expect_get_counted(test, &x->before, &x->mid, LAB_SERVED_NMI);
	expect_put_counted(test, &x->mid, &x->after, LAB_PUT_POOLED);
}

/* In one NMI, a get and a put in turn, many more times than the pool holds. */
static void nmi_get_put_in_turn(void *arg)
{
	struct lab_ctx_test *x = arg;
	unsigned int i, n = 4 * READ_ONCE(lab_default.pages_per_cpu);
	struct page *page;

	x->cpu = smp_processor_id();
	x->nmi = in_nmi();
	lab_reserve_snapshot(x->cpu, &x->before);
	x->got = true;
	for (i = 0; i < n; i++) {
		page = labyrinth_get();
		if (!page) {
			x->got = false;
			break;
		}
		labyrinth_put(page);
	}
	lab_reserve_snapshot(x->cpu, &x->after);
}

/*
 * An NMI user that gives back what it takes is served every time, with no
 * refill in between: the pages it gives back serve its next gets.
 */
static void nmi_user_putting_back_is_always_served(struct kunit *test)
{
	struct lab_ctx_test *x = ctx_test_alloc(test);
	struct lab_test *t = test->priv;
	unsigned long n = 4 * t->cap;

	KUNIT_ASSERT_TRUE_MSG(test, run_in_nmi(nmi_get_put_in_turn, x),
			      "the NMI did not come");
	KUNIT_EXPECT_TRUE(test, x->nmi);
	KUNIT_EXPECT_TRUE_MSG(test, x->got, "a get in NMI was not served");
	KUNIT_EXPECT_EQ(test, delta(&x->before, &x->after, LAB_SERVED_NMI), n);
	KUNIT_EXPECT_EQ(test, delta(&x->before, &x->after, LAB_FAILED), 0UL);
	KUNIT_EXPECT_EQ(test, delta(&x->before, &x->after, LAB_PUT_DEFERRED),
			0UL);
	KUNIT_EXPECT_EQ(test, delta(&x->before, &x->after, LAB_PUT_POOLED), n);
}

static void nmi_put(void *arg)
{
	labyrinth_put(arg);
}

/*
 * A shared page given back in NMI: the caller's reference is dropped
 * there, and as it is not the last the page is linked nowhere.
 */
static void put_in_nmi_of_shared_page_drops_reference(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = labyrinth_get();
	int count;
	bool ran;

	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);
	pin(t);
	lab_reserve_snapshot(t->cpu, &t->before);
	ran = run_in_nmi(nmi_put, page);
	lab_reserve_snapshot(t->cpu, &t->after);
	count = page_ref_count(page);
	unpin();

	KUNIT_ASSERT_TRUE_MSG(test, ran, "the NMI did not come");
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_SHARED);
	KUNIT_EXPECT_EQ(test, count, 1);
	if (count == 1)
		__free_page(page);
}

/**
 * struct lab_nested - a get in an int3 and a get in an NMI that interrupts it
 * @probe: the kprobe whose int3 runs the outer get
 * @outer: what the outer get returned
 * @inner: what the inner get returned
 * @outer_nmi: in_nmi() in the int3
 * @inner_nmi: in_nmi() in the NMI
 * @inner_ran: the NMI came while the outer get owned the pool
 */
struct lab_nested {
	struct kprobe probe;
	struct page *outer;
	struct page *inner;
	bool outer_nmi;
	bool inner_nmi;
	bool inner_ran;
};

static struct lab_nested nested;

/* The probed function: its int3 enters the kernel as an NMI does. */
static noinline void nested_probe_target(void)
{
	barrier();
}

static void nested_inner_get(void *arg)
{
	nested.inner_nmi = in_nmi();
	nested.inner = labyrinth_get();
}

/*
 * Run by the outer get once it owns the pool, before it takes its page:
 * an NMI to this CPU, which comes at once, takes a page too.
 */
static void nmi_while_owned(enum lab_hook_point where, struct page *page)
{
	unsigned long spins;

	if (where != LAB_HOOK_NMI_OWNED || READ_ONCE(nmi_pending))
		return;
	nmi_fn = nested_inner_get;
	WRITE_ONCE(nmi_pending, true);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	for (spins = 0; READ_ONCE(nmi_pending) && spins < (1UL << 30); spins++)
		cpu_relax();
	nested.inner_ran = !READ_ONCE(nmi_pending);
	WRITE_ONCE(nmi_pending, false);
}

static int nested_outer_get(struct kprobe *kp, struct pt_regs *regs)
{
	nested.outer_nmi = in_nmi();
	nested.outer = labyrinth_get();
	return 0;
}

/*
 * A kernel int3 (here a kprobe's) enters like an NMI, and a real NMI can
 * interrupt it: both take a page, the NMI in the middle of the int3's get.
 * They must get two different pages, each exactly once.
 */
static void nested_nmi_gets_take_different_pages(struct kunit *test)
{
	int ret;

	memset(&nested, 0, sizeof(nested));
	nested.probe.addr = (kprobe_opcode_t *)nested_probe_target;
	nested.probe.pre_handler = nested_outer_get;
	ret = register_kprobe(&nested.probe);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "register_kprobe() failed");
	preempt_disable();
	lab_set_test_hook(nmi_while_owned);
	nested_probe_target();
	lab_set_test_hook(NULL);
	preempt_enable();
	unregister_kprobe(&nested.probe);

	KUNIT_EXPECT_TRUE(test, nested.outer_nmi);
	KUNIT_ASSERT_TRUE_MSG(test, nested.inner_ran, "the NMI did not come");
	KUNIT_EXPECT_TRUE(test, nested.inner_nmi);
	KUNIT_EXPECT_NOT_NULL(test, nested.outer);
	KUNIT_EXPECT_NOT_NULL(test, nested.inner);
	KUNIT_EXPECT_PTR_NE(test, nested.outer, nested.inner);
	if (nested.outer)
		KUNIT_EXPECT_EQ(test, page_ref_count(nested.outer), 1);
	if (nested.inner)
		KUNIT_EXPECT_EQ(test, page_ref_count(nested.inner), 1);
	labyrinth_put(nested.outer);
	if (nested.inner != nested.outer)
		labyrinth_put(nested.inner);
}

/* A kmalloc() object's page given back in NMI: left alone there too. */
static void put_in_nmi_of_slab_page_is_refused(struct kunit *test)
{
	struct lab_test *t = test->priv;
	u8 *obj = kmalloc(64, GFP_KERNEL);
	bool ran;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	memset(obj, DIRT, 64);
	pin(t);
	lab_reserve_snapshot(t->cpu, &t->before);
	ran = run_in_nmi(nmi_put, virt_to_page(obj));
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();
	lab_reserve_sync();

	KUNIT_EXPECT_TRUE_MSG(test, ran, "the NMI did not come");
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
	KUNIT_EXPECT_NULL(test, memchr_inv(obj, DIRT, 64));
	kfree(obj);
}

/*
 * Pinned: make room in the local pool, then put @page.  The pool is below
 * capacity, so only a rejection keeps @page out of it.
 */
static void put_with_room(struct kunit *test, struct page *page)
{
	struct lab_test *t = test->priv;
	struct page *room;

	pin(t);
	room = get_one(t);
	put_one(t, page);
	unpin();

	KUNIT_EXPECT_NOT_NULL(test, room);
	KUNIT_EXPECT_EQ(test, t->before.level, t->cap - 1);
	KUNIT_EXPECT_EQ(test, t->after.level, t->cap - 1);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
}

/*
 * Pinned: put @page, which labyrinth may not pool: it is counted as
 * refused and, if @untouched, left as it was: its reference count, and
 * nothing released.
 */
static void expect_refused(struct kunit *test, struct page *page,
			   bool untouched)
{
	struct lab_test *t = test->priv;
	int ref = page_ref_count(page);

	pin(t);
	put_one(t, page);
	unpin();

	KUNIT_EXPECT_EQ(test, t->after.level, t->before.level);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
	if (untouched) {
		KUNIT_EXPECT_EQ(test, page_ref_count(page), ref);
		KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after,
					    LAB_PAGES_RELEASED), 0UL);
	}
}

static void put_releases_compound_page(struct kunit *test)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);

	KUNIT_ASSERT_NOT_NULL(test, page);
	put_with_room(test, page);
}

/* A tail page is never handed to put_page(): its head keeps its reference. */
static void put_leaves_tail_page_untouched(struct kunit *test)
{
	struct page *head = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);

	KUNIT_ASSERT_NOT_NULL(test, head);
	expect_refused(test, head + 1, true);
	KUNIT_EXPECT_EQ(test, page_ref_count(head), 1);
	__free_pages(head, 1);
}

/* The slab page under a kmalloc() object: neither pooled nor cleared. */
static void put_leaves_slab_page_untouched(struct kunit *test)
{
	u8 *obj = kmalloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	memset(obj, DIRT, 64);
	expect_refused(test, virt_to_page(obj), true);
	lab_reserve_sync();
	KUNIT_EXPECT_NULL(test, memchr_inv(obj, DIRT, 64));
	kfree(obj);
}

/* A typed page: a page-table page. */
static void put_leaves_page_table_page_untouched(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	__folio_set_pgtable(page_folio(page));
	expect_refused(test, page, true);
	__folio_clear_pgtable(page_folio(page));
	__free_page(page);
}

/* A page that carries the page_pool signature belongs to a page_pool. */
static void put_leaves_page_pool_page_untouched(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	page->pp_magic = PP_SIGNATURE;
	expect_refused(test, page, true);
	page->pp_magic = 0;
	__free_page(page);
}

/* A page of a file's page cache (here shmem's, or ramfs's without SHMEM). */
static void put_leaves_page_cache_page_untouched(struct kunit *test)
{
	struct file *file = lab_shmem_file_setup("labyrinth_kunit", PAGE_SIZE);
	struct page *page;

	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	page = shmem_read_mapping_page(file->f_mapping, 0);
	if (!IS_ERR(page)) {
		expect_refused(test, page, true);
		KUNIT_EXPECT_PTR_EQ(test, page->mapping, file->f_mapping);
		put_page(page);
	}
	fput(file);
	KUNIT_EXPECT_FALSE(test, IS_ERR(page));
}

static void put_leaves_reserved_page_untouched(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	SetPageReserved(page);
	expect_refused(test, page, true);
	ClearPageReserved(page);
	__free_page(page);
}

/*
 * A mapcount that is neither -1 nor a mapping count nor a page type: not a
 * page labyrinth served, whatever it is; freeing it would be a bad page.
 */
static void put_leaves_page_with_damaged_mapcount_untouched(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	atomic_set(&page->_mapcount, -2);
	expect_refused(test, page, true);
	atomic_set(&page->_mapcount, -1);
	__free_page(page);
}

/*
 * A page of the reserve that someone else also references, as a
 * speculative folio_try_get() may for a moment: not misuse.  The caller's
 * reference is dropped, the page is counted as shared and released, and
 * the other holder (here the test) frees it.
 */
static void put_of_shared_page_drops_reference_quietly(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = labyrinth_get();

	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);
	pin(t);
	put_one(t, page);
	unpin();

	KUNIT_EXPECT_EQ(test, t->after.level, t->before.level);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_SHARED);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			1UL);
	if (page_ref_count(page) == 1)
		__free_page(page);
}

/*
 * A truncated page-cache page: no mapping any more, but still on an LRU
 * list, its last reference the caller's.  Pooling it would reuse ->lru
 * while the LRU list links it.
 */
static void put_leaves_page_on_lru_untouched(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	SetPageLRU(page);
	expect_refused(test, page, true);
	ClearPageLRU(page);
	__free_page(page);
}

/* The case the put's hook below runs for, and the page it looks for. */
static struct lab_test *hook_test;
static struct page *hook_for;
static struct page *hook_got;

/*
 * Run by labyrinth_put() between the failed freeze of @page and its
 * verdict: an interrupt on this CPU takes pages until it is served the
 * very page given back twice (the top of hot[], or with init_on_alloc on
 * the dirty list, served once nothing clean is left), now another user's.
 */
static void get_between_freeze_and_verdict(enum lab_hook_point where,
					   struct page *page)
{
	struct lab_test *t = hook_test;
	struct page *got;

	if (where != LAB_HOOK_PUT_REFUSED || page != hook_for || hook_got)
		return;
	while (t->nr < t->max && (got = labyrinth_get())) {
		if (got == hook_for) {
			hook_got = got;
			return;
		}
		t->pages[t->nr++] = got;
	}
}

/*
 * A page given back twice, taken again by an interrupt between the second
 * put's freeze and its verdict: the new user holds it with a count of one.
 * The verdict must rest on the count the freeze saw (zero: given back
 * already) and leave the page alone, not call it shared and free it under
 * its new user.
 */
static void put_twice_racing_get_leaves_new_users_page(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page;
	int count = -1;

	set_fallback(t, false);
	pin(t);
	page = labyrinth_get();
	if (page) {
		put_one(t, page);
		hook_test = t;
		hook_for = page;
		hook_got = NULL;
		lab_set_test_hook(get_between_freeze_and_verdict);
		put_one(t, page);
		lab_set_test_hook(NULL);
		count = page_ref_count(page);
	}
	unpin();

	if (count == 1)
		labyrinth_put(page);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_PTR_EQ_MSG(test, hook_got, page,
				"the hook did not take the page given back");
	KUNIT_EXPECT_EQ_MSG(test, count, 1,
			    "the new user's page lost its reference");
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			0UL);
}

/*
 * A page memory_failure() marked while the pool held it is never served:
 * the gets that empty the pool drop it and count it, and it leaves the
 * reserve for good (the test frees it at the end, unmarked).
 */
static void get_drops_page_with_memory_error(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page, *bad;
	unsigned int i;
	bool served = false;

	if (!IS_ENABLED(CONFIG_MEMORY_FAILURE))
		kunit_skip(test, "no CONFIG_MEMORY_FAILURE");
	set_fallback(t, false);
	pin(t);
	bad = labyrinth_get();
	if (bad)
		labyrinth_put(bad);
	unpin();
	KUNIT_ASSERT_NOT_NULL(test, bad);
	/* Returned pages join the stash once cleared. */
	lab_reserve_sync();
	SetPageHWPoison(bad);

	pin(t);
	lab_reserve_snapshot(t->cpu, &t->before);
	while (t->nr < t->max && (page = labyrinth_get())) {
		t->pages[t->nr++] = page;
		if (page == bad)
			served = true;
		lab_reserve_snapshot(t->cpu, &t->after);
		if (!t->after.level)
			break;
	}
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();

	for (i = 0; i < t->nr && served; i++)
		if (t->pages[i] == bad)
			t->pages[i] = t->pages[--t->nr];
	ClearPageHWPoison(bad);
	if (!served) {
		page_ref_unfreeze(bad, 1);
		__free_page(bad);
	}
	KUNIT_EXPECT_FALSE(test, served);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_HWPOISON), 1UL);
}

/*
 * A page with a memory error given back: never pooled; the caller's
 * reference goes to the page allocator, which keeps such pages out of use.
 */
static void put_releases_page_with_memory_error(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = labyrinth_get();

	if (!IS_ENABLED(CONFIG_MEMORY_FAILURE)) {
		labyrinth_put(page);
		kunit_skip(test, "no CONFIG_MEMORY_FAILURE");
	}
	KUNIT_ASSERT_NOT_NULL(test, page);
	SetPageHWPoison(page);
	expect_refused(test, page, false);
	lab_reserve_sync();
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 0);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			1UL);
}

/* A page taken from the emergency reserves must go back to the allocator. */
static void put_releases_pfmemalloc_page(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = labyrinth_get();

	KUNIT_ASSERT_NOT_NULL(test, page);
	set_page_pfmemalloc(page);
	expect_refused(test, page, false);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			1UL);
}

/*
 * A page given back twice is in the reserve once: the second put finds its
 * reference count frozen at zero and leaves it alone.
 */
static void put_twice_is_refused(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct lab_cpu_snapshot first;
	struct page *page;

	pin(t);
	page = labyrinth_get();
	if (page) {
		put_one(t, page);
		first = t->before;
		put_one(t, page);
	}
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, t->after.level, first.level + 1);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 0);
}

/*
 * The same for a page freed to the page allocator, then given back: with
 * interrupts off in between, it stays on this CPU's free lists, where no
 * one can allocate it meanwhile.
 */
static void put_of_freed_page_is_refused(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long flags;

	KUNIT_ASSERT_NOT_NULL(test, page);
	pin(t);
	lab_reserve_snapshot(t->cpu, &t->before);
	local_irq_save(flags);
	__free_page(page);
	labyrinth_put(page);
	local_irq_restore(flags);
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();

	KUNIT_EXPECT_EQ(test, t->after.level, t->before.level);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_REJECTED);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_PAGES_RELEASED),
			0UL);
}

static void put_null_is_noop(struct kunit *test)
{
	struct lab_test *t = test->priv;

	pin(t);
	lab_reserve_snapshot(t->cpu, &t->before);
	labyrinth_put(NULL);
	labyrinth_free(NULL);
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();

	KUNIT_EXPECT_MEMEQ(test, &t->before, &t->after, sizeof(t->before));
}

static void labyrinth_returns_usable_address(struct kunit *test)
{
	struct lab_test *t = test->priv;
	void *addr;

	pin(t);
	addr = labyrinth();
	lab_reserve_snapshot(t->cpu, &t->before);
	if (addr) {
		memset(addr, DIRT, PAGE_SIZE);
		labyrinth_free(addr);
	}
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(addr));
	KUNIT_EXPECT_TRUE(test, virt_addr_valid(addr));
	expect_get_counted(test, &t->start, &t->before, LAB_SERVED_LOCAL);
	expect_put_counted(test, &t->before, &t->after, LAB_PUT_POOLED);
	KUNIT_EXPECT_EQ(test, t->after.level, t->start.level);
}

struct tag {
	u64 magic;
	u64 index;
};

static void tag_pages(struct lab_test *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		struct tag *tag = page_address(t->pages[i]);

		tag->magic = TAG_MAGIC;
		tag->index = i;
	}
}

/* A page served twice carries the tag of its second holder. */
static void expect_tags_kept(struct kunit *test, const struct lab_test *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		const struct tag *tag = page_address(t->pages[i]);

		KUNIT_EXPECT_EQ(test, tag->magic, TAG_MAGIC);
		KUNIT_EXPECT_EQ_MSG(test, tag->index, (u64)i,
				    "page %u is also held as page %llu", i,
				    tag->index);
	}
}

static int cmp_pfn(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static unsigned int count_duplicates(struct kunit *test,
				     const struct lab_test *t)
{
	unsigned long *pfns;
	unsigned int i, dups = 0;

	pfns = kunit_kmalloc_array(test, t->nr, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	for (i = 0; i < t->nr; i++)
		pfns[i] = page_to_pfn(t->pages[i]);
	sort(pfns, t->nr, sizeof(*pfns), cmp_pfn, NULL);
	for (i = 1; i < t->nr; i++)
		dups += pfns[i] == pfns[i - 1];
	return dups;
}

static void no_page_served_twice(struct kunit *test)
{
	struct lab_test *t = test->priv;

	set_fallback(t, false);
	drain_pools(test, true, false);

	KUNIT_EXPECT_NULL(test, t->last);
	KUNIT_EXPECT_EQ(test, t->nr, t->cap + t->stolen_from);
	tag_pages(t);
	expect_tags_kept(test, t);
	KUNIT_EXPECT_EQ(test, count_duplicates(test, t), 0U);
}

/* Every held page is all zeroes, and @dirtied is one of them. */
static void expect_held_pages_cleared(struct kunit *test,
				      const struct lab_test *t,
				      const struct page *dirtied)
{
	bool seen = false;
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		KUNIT_EXPECT_NULL_MSG(test,
				      memchr_inv(page_address(t->pages[i]), 0,
						 PAGE_SIZE),
				      "page %u of %u served with old data",
				      i, t->nr);
		seen |= t->pages[i] == dirtied;
	}
	KUNIT_EXPECT_TRUE_MSG(test, seen, "the dirtied page was not served");
}

static bool init_on_alloc_or_free(void)
{
	return want_init_on_alloc(0) || want_init_on_free();
}

/*
 * Dirty a page and put it back, sync (the worker clears it), then take the
 * whole local pool: the dirtied page must come back, cleared.  The task
 * stays on one CPU throughout, so the page is in the pool it drains.
 */
static void served_pages_are_cleared_when_init_on_alloc_or_free(struct kunit *test)
{
	struct lab_test *t = test->priv;
	unsigned long cleared = 0;
	struct page *dirtied;
	unsigned int cpu, taken;

	if (!init_on_alloc_or_free())
		kunit_skip(test, "init_on_alloc and init_on_free are off");
	migrate_disable();
	pin(t);
	dirtied = labyrinth_get();
	if (dirtied) {
		memset(page_address(dirtied), DIRT, PAGE_SIZE);
		put_one(t, dirtied);
		cleared = t->after.stat[LAB_PAGES_CLEARED];
	}
	unpin();
	cpu = t->cpu;
	lab_reserve_sync();
	pin(t);
	taken = take(t, t->cap);
	unpin();
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, dirtied);
	KUNIT_ASSERT_EQ(test, t->cpu, cpu);
	KUNIT_EXPECT_EQ(test, t->start.stat[LAB_PAGES_CLEARED] - cleared, 1UL);
	KUNIT_EXPECT_EQ(test, taken, t->cap);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_SERVED_LOCAL),
			(unsigned long)t->cap);
	expect_held_pages_cleared(test, t, dirtied);
}

/*
 * Without init_on_alloc or init_on_free a put takes the fast path into the
 * hot array: the next get on the same CPU serves the same page, as the
 * user left it, and nothing is cleared.
 */
static void put_pools_page_as_is_when_init_off(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page, *again = NULL;

	if (init_on_alloc_or_free())
		kunit_skip(test, "init_on_alloc or init_on_free is on");
	pin(t);
	page = labyrinth_get();
	if (page) {
		memset(page_address(page), DIRT, PAGE_SIZE);
		put_one(t, page);
		again = get_one(t);
	}
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_PTR_EQ(test, again, page);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_PUT_POOLED), 1UL);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_CLEARED_ON_PUT),
			0UL);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_PAGES_CLEARED),
			0UL);
	if (again)
		KUNIT_EXPECT_EQ(test, *(u8 *)page_address(again), DIRT);
}

/*
 * With debug on, a write to a page after labyrinth_put() is found when the
 * page is next taken or cleared.  KASAN (which poisons pooled pages) is
 * told to look away from the write: this case is about the pattern.
 */
static void debug_finds_write_after_put(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct lab_cpu_snapshot end;
	struct page *page;

	KUNIT_ASSERT_EQ(test, lab_debug_enable(true, t->cap * num_possible_cpus()), 0);
	pin(t);
	page = get_one(t);
	if (page) {
		t->nr--;
		labyrinth_put(page);
		kasan_disable_current();
		WRITE_ONCE(*(u8 *)page_address(page), DIRT);
		kasan_enable_current();
		/* The next get takes it back, or the worker clears it. */
		get_one(t);
	}
	unpin();
	lab_reserve_sync();
	lab_reserve_snapshot(t->cpu, &end);
	lab_debug_enable(false, 0);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &end, LAB_WRITTEN_AFTER_PUT), 1UL);
}

/* With debug on, "outstanding" names the function that took a page. */
static void debug_names_holder_of_outstanding_pages(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct seq_file m = { .size = PAGE_SIZE };
	char want[sizeof(__func__) + 1];
	struct page *page;

	m.buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, lab_debug_enable(true, t->cap * num_possible_cpus()), 0);
	/* Called here, not in a helper: the table records the caller. */
	page = labyrinth_get();
	if (page)
		t->pages[t->nr++] = page;
	lab_debug_show_outstanding(&m, &lab_default);
	lab_debug_enable(false, 0);

	KUNIT_ASSERT_NOT_NULL(test, page);
	m.buf[min(m.count, m.size - 1)] = '\0';
	snprintf(want, sizeof(want), "%s+", __func__);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(m.buf, want), "outstanding: %s",
				  m.buf);
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, " 1\n"));
}

/*
 * Pages in use over every CPU, as the stats file counts them: taken from
 * the allocator, less those given back to it, handed on and pooled.
 */
static long pages_in_use(void)
{
	struct lab_cpu_snapshot snap;
	long used = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		lab_reserve_snapshot(cpu, &snap);
		used += snap.stat[LAB_PAGES_ALLOCATED] -
			snap.stat[LAB_PAGES_RELEASED] -
			snap.stat[LAB_HANDED_ON] - snap.level;
	}
	return used;
}

/*
 * A page handed on and then freed by its last holder, as the network stack
 * frees a receive buffer, is counted once in handed_on and is no longer in
 * use; with debug on it leaves the table of outstanding pages, and handing
 * it on again is refused.
 */
static void handed_on_page_freed_by_holder_is_not_in_use(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct seq_file m = { .size = PAGE_SIZE };
	long used = pages_in_use();
	struct page *page;

	m.buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, lab_debug_enable(true, t->cap * num_possible_cpus()), 0);
	pin(t);
	page = labyrinth_get();
	lab_reserve_snapshot(t->cpu, &t->before);
	labyrinth_hand_on(page);
	/* Debug on: a second time is refused. */
	labyrinth_hand_on(page);
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();
	lab_debug_show_outstanding(&m, &lab_default);
	lab_debug_enable(false, 0);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_HANDED_ON), 1UL);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	get_page(page);
	put_page(page);
	put_page(page);
	KUNIT_EXPECT_EQ(test, pages_in_use(), used);
	m.buf[min(m.count, m.size - 1)] = '\0';
	KUNIT_EXPECT_NULL_MSG(test, strstr(m.buf, __func__), "outstanding: %s",
			      m.buf);
}

/* A page nobody holds (here: back in the pool) cannot be handed on. */
static void hand_on_of_pooled_page_is_refused(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct page *page;

	pin(t);
	page = labyrinth_get();
	labyrinth_put(page);
	lab_reserve_snapshot(t->cpu, &t->before);
	labyrinth_hand_on(page);
	labyrinth_hand_on(NULL);
	lab_reserve_snapshot(t->cpu, &t->after);
	unpin();

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, delta(&t->before, &t->after, LAB_HANDED_ON), 0UL);
	KUNIT_EXPECT_EQ(test, t->after.level, t->before.level);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 0);
}

/*
 * Named reserves.  A case creates its own, with a name no other case
 * uses; reserve_release() destroys it when the case ends, after the exit
 * function gave back the pages the case took through get_one().
 */

/* One character more than a reserve's name may have, and the longest. */
#define NAME_TOO_LONG	"kunit_abcdefghijklmnopqrstuvwxyz"
#define NAME_LONGEST	"kunit_abcdefghijklmnopqrstuvwxy"

/**
 * struct lab_named - a named reserve of a case, and pages it holds
 * @r: the reserve, or NULL once the case destroyed it itself
 * @pages: pages of @r the case holds; given back before the destroy
 * @nr: entries in use in @pages
 * @max: size of @pages
 * @cap: the pages per CPU it was created with
 */
struct lab_named {
	struct labyrinth_reserve *r;
	struct page **pages;
	unsigned int nr;
	unsigned int max;
	unsigned int cap;
};

/* KUnit action, when the case ends: give back @arg's pages, destroy it. */
static void reserve_release(void *arg)
{
	struct lab_named *n = arg;

	while (n->nr)
		labyrinth_reserve_put(n->r, n->pages[--n->nr]);
	labyrinth_reserve_destroy(n->r);
}

static struct lab_named *reserve_new(struct kunit *test, const char *name,
				     unsigned int pages_per_cpu,
				     unsigned int flags)
{
	struct lab_named *n = kunit_kzalloc(test, sizeof(*n), GFP_KERNEL);
	struct labyrinth_reserve *r;

	KUNIT_ASSERT_NOT_NULL(test, n);
	n->cap = pages_per_cpu;
	n->max = pages_per_cpu * num_possible_cpus() + HELD_SLACK;
	n->pages = kunit_kcalloc(test, n->max, sizeof(*n->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, n->pages);
	r = labyrinth_reserve_create(name, pages_per_cpu, flags);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_OR_NULL(r),
			       "reserve %s of %u pages per CPU: %ld", name,
			       pages_per_cpu, PTR_ERR(r));
	n->r = r;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, reserve_release, n),
			0);
	return n;
}

/*
 * From now on the case measures @n's reserve: get_one(), put_one(), the
 * drain and the gets and puts in other contexts use it, and the exit
 * function gives the pages they took back to it.
 */
static void measure(struct kunit *test, struct lab_named *n)
{
	struct lab_test *t = test->priv;

	KUNIT_ASSERT_EQ(test, t->nr, 0U);
	t->pages = kunit_kcalloc(test, n->max, sizeof(*t->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->pages);
	t->max = n->max;
	t->r = n->r;
	t->cap = n->cap;
	t->low = READ_ONCE(n->r->low_watermark);
}

static void set_max_total(struct kunit *test, unsigned long pages)
{
	struct lab_test *t = test->priv;

	if (!t->restore_max_total) {
		KUNIT_ASSERT_EQ_MSG(test, max_total_read(&t->max_total), 0,
				    "reading %s", MAX_TOTAL_PARAM);
		t->restore_max_total = true;
	}
	KUNIT_ASSERT_EQ_MSG(test, max_total_write(pages), 0, "writing %s",
			    MAX_TOTAL_PARAM);
}

/* Pages in @r's pools of the online CPUs. */
static unsigned int online_levels(const struct labyrinth_reserve *r)
{
	struct lab_cpu_snapshot snap;
	unsigned int cpu, sum = 0;

	for_each_online_cpu(cpu) {
		lab_snapshot(r, cpu, &snap);
		sum += snap.level;
	}
	return sum;
}

/* @item of @r summed over every possible CPU. */
static unsigned long stat_sum(const struct labyrinth_reserve *r,
			      enum lab_stat_item item)
{
	struct lab_cpu_snapshot snap;
	unsigned long sum = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		lab_snapshot(r, cpu, &snap);
		sum += snap.stat[item];
	}
	return sum;
}

/* @r's pool holds @level pages on every online CPU, none on the others. */
static void expect_levels(struct kunit *test, const struct labyrinth_reserve *r,
			  unsigned int level)
{
	struct lab_cpu_snapshot snap;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		lab_snapshot(r, cpu, &snap);
		KUNIT_EXPECT_EQ_MSG(test, snap.level,
				    cpu_online(cpu) ? level : 0U,
				    "reserve %s, CPU %u", r->name, cpu);
	}
}

/* Pinned: a get of @r served by its full local pool; the put pools it. */
static void expect_served_locally(struct kunit *test,
				  struct labyrinth_reserve *r)
{
	unsigned int cpu, cap = READ_ONCE(r->pages_per_cpu);
	struct lab_cpu_snapshot s0, s1, s2;
	struct page *page;

	preempt_disable();
	cpu = smp_processor_id();
	lab_snapshot(r, cpu, &s0);
	page = labyrinth_reserve_get(r);
	lab_snapshot(r, cpu, &s1);
	labyrinth_reserve_put(r, page);
	lab_snapshot(r, cpu, &s2);
	preempt_enable();

	KUNIT_EXPECT_NOT_NULL_MSG(test, page, "reserve %s", r->name);
	KUNIT_EXPECT_EQ(test, s0.level, cap);
	KUNIT_EXPECT_EQ(test, s1.level, cap - 1);
	KUNIT_EXPECT_EQ(test, s2.level, cap);
	expect_get_counted(test, &s0, &s1, LAB_SERVED_LOCAL);
	expect_put_counted(test, &s1, &s2, LAB_PUT_POOLED);
}

/* A create that must fail with @err; a reserve it made is destroyed. */
static void expect_create_fails(struct kunit *test, const char *name,
				unsigned int pages_per_cpu, unsigned int flags,
				int err)
{
	struct labyrinth_reserve *r;

	r = labyrinth_reserve_create(name, pages_per_cpu, flags);
	KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(r), err,
			    "reserve '%s' of %u pages per CPU, flags %#x", name,
			    pages_per_cpu, flags);
	if (!IS_ERR_OR_NULL(r))
		labyrinth_reserve_destroy(r);
}

/* Whether labyrinth's debugfs directory has an entry @name. */
static bool in_debugfs(const char *name)
{
	struct dentry *dentry = debugfs_lookup(name, lab_default.dir);

	dput(dentry);
	return dentry;
}

/**
 * struct lab_log - the kernel log, read from a mark on
 * @iter: where the next line is read
 * @line: the line read last
 */
struct lab_log {
	struct kmsg_dump_iter iter;
	char line[256];
};

/* Mark the end of the kernel log: log_find() reads what comes after. */
static struct lab_log *log_mark(struct kunit *test)
{
	struct lab_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, log);
	kmsg_dump_rewind(&log->iter);
	while (kmsg_dump_get_line(&log->iter, false, log->line,
				  sizeof(log->line), NULL))
		;
	return log;
}

/* The next line logged since the mark that holds @what, or NULL. */
static const char *log_find(struct lab_log *log, const char *what)
{
	size_t len;

	while (kmsg_dump_get_line(&log->iter, false, log->line,
				  sizeof(log->line) - 1, &len)) {
		log->line[len] = '\0';
		if (strstr(log->line, what))
			return log->line;
	}
	return NULL;
}

/**
 * struct lab_destroyed - what a reserve's destroy reported in the log
 * @allocated: pages it took from the page allocator
 * @released: pages it gave back to the page allocator
 * @handed_on: pages handed on
 * @out: pages reported still out, 0 if none was
 */
struct lab_destroyed {
	long allocated;
	long released;
	long handed_on;
	long out;
};

/*
 * Destroy @n's reserve and read its report: the line saying how many
 * pages are still out if any are, then its counters.  Return: whether
 * the log has the counters.
 */
static bool destroy_reported(struct kunit *test, struct lab_named *n,
			     struct lab_destroyed *d)
{
	struct lab_log *log = log_mark(test);
	struct labyrinth_reserve *r = n->r;
	char what[LABYRINTH_NAME_MAX + 32];
	const char *line, *p;

	memset(d, 0, sizeof(*d));
	snprintf(what, sizeof(what), "reserve %s destroyed", r->name);
	n->r = NULL;
	labyrinth_reserve_destroy(r);
	line = log_find(log, what);
	p = line ? strstr(line, " destroyed with ") : NULL;
	if (p) {
		if (sscanf(p, " destroyed with %ld pages still out", &d->out) != 1)
			return false;
		line = log_find(log, what);
	}
	p = line ? strstr(line, " destroyed: ") : NULL;
	return p && sscanf(p, " destroyed: %ld pages allocated, %ld released, %ld handed on",
			   &d->allocated, &d->released, &d->handed_on) == 3;
}

static void reserve_create_fills_every_online_pool(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_fill", 16, 0);

	expect_levels(test, n->r, 16);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_PAGES_ALLOCATED) -
			stat_sum(n->r, LAB_PAGES_RELEASED),
			16UL * num_online_cpus());
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 16U);
	KUNIT_EXPECT_EQ(test, n->r->low_watermark, 4U);
	KUNIT_EXPECT_TRUE(test, n->r->fallback);
	KUNIT_EXPECT_STREQ(test, n->r->name, "kunit_fill");
	KUNIT_EXPECT_TRUE(test, in_debugfs("kunit_fill"));
}

/* The default reserve takes no part in a named reserve's get and put. */
static void reserve_get_served_from_local_pool(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_local", 16, 0);
	unsigned int before = online_levels(&lab_default);
	unsigned long served = stat_sum(&lab_default, LAB_SERVED_LOCAL);

	expect_served_locally(test, n->r);
	KUNIT_EXPECT_EQ(test, online_levels(&lab_default), before);
	KUNIT_EXPECT_EQ(test, stat_sum(&lab_default, LAB_SERVED_LOCAL), served);
}

/*
 * Pages taken and given back first, then the destroy: every page the
 * reserve took from the page allocator goes back to it.
 */
static void reserve_destroy_frees_every_page(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_drain", 16, 0);
	unsigned long allocated, released, handed_on;
	struct lab_destroyed d;
	struct page *page;
	bool reported;

	while (n->nr < 12 && (page = labyrinth_reserve_get(n->r)))
		n->pages[n->nr++] = page;
	KUNIT_EXPECT_EQ(test, n->nr, 12U);
	while (n->nr)
		labyrinth_reserve_put(n->r, n->pages[--n->nr]);
	lab_sync(n->r);
	allocated = stat_sum(n->r, LAB_PAGES_ALLOCATED);
	released = stat_sum(n->r, LAB_PAGES_RELEASED);
	handed_on = stat_sum(n->r, LAB_HANDED_ON);
	/* Every page it took is in its pools. */
	KUNIT_EXPECT_EQ(test, allocated - released - handed_on,
			(unsigned long)online_levels(n->r));
	expect_levels(test, n->r, 16);

	reported = destroy_reported(test, n, &d);

	KUNIT_ASSERT_TRUE_MSG(test, reported,
			      "no report of the destroy in the kernel log");
	KUNIT_EXPECT_EQ(test, d.out, 0L);
	KUNIT_EXPECT_EQ(test, d.allocated, (long)allocated);
	KUNIT_EXPECT_EQ(test, d.released, d.allocated);
	KUNIT_EXPECT_EQ(test, d.handed_on, 0L);
	KUNIT_EXPECT_FALSE(test, in_debugfs("kunit_drain"));
}

/*
 * Three pages out when the reserve is destroyed: one given back to it
 * afterwards (freed), one freed by its holder, one given back to another
 * reserve (pooled there).  None is a misuse; the name is free again.
 */
static void reserve_destroyed_with_pages_out_takes_them_back(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_out", 8, 0);
	struct lab_named *b = reserve_new(test, "kunit_out_b", 8, 0);
	struct labyrinth_reserve *r = n->r;
	struct lab_cpu_snapshot b0, b1;
	struct page *out[3], *room;
	struct lab_destroyed d;
	unsigned int i, cpu;
	bool reported;

	for (i = 0; i < ARRAY_SIZE(out); i++)
		out[i] = labyrinth_reserve_get(r);
	reported = destroy_reported(test, n, &d);

	labyrinth_reserve_put(r, out[0]);
	if (out[1])
		put_page(out[1]);
	preempt_disable();
	cpu = smp_processor_id();
	room = labyrinth_reserve_get(b->r);
	lab_snapshot(b->r, cpu, &b0);
	labyrinth_reserve_put(b->r, out[2]);
	lab_snapshot(b->r, cpu, &b1);
	preempt_enable();
	if (room)
		b->pages[b->nr++] = room;

	for (i = 0; i < ARRAY_SIZE(out); i++)
		KUNIT_EXPECT_NOT_NULL_MSG(test, out[i], "page %u", i);
	KUNIT_EXPECT_TRUE_MSG(test, reported,
			      "no report of the destroy in the kernel log");
	KUNIT_EXPECT_EQ(test, d.out, 3L);
	KUNIT_EXPECT_EQ(test, d.allocated - d.released, 3L);
	KUNIT_EXPECT_EQ(test, d.handed_on, 0L);
	KUNIT_EXPECT_FALSE(test, in_debugfs("kunit_out"));
	KUNIT_EXPECT_NOT_NULL(test, room);
	KUNIT_EXPECT_EQ(test, b1.level, b0.level + 1);
	expect_put_counted(test, &b0, &b1, LAB_PUT_POOLED);
	reserve_new(test, "kunit_out", 8, 0);
}

static void reserve_create_rejects_bad_arguments(struct kunit *test)
{
	static const char * const bad_names[] = {
		NULL, "", NAME_TOO_LONG, "a/b", "a b", ".x", "default",
		"stats", "cpus", "outstanding",
	};
	unsigned int i;

	BUILD_BUG_ON(sizeof(NAME_TOO_LONG) != LABYRINTH_NAME_MAX + 2);
	BUILD_BUG_ON(sizeof(NAME_LONGEST) != LABYRINTH_NAME_MAX + 1);
	for (i = 0; i < ARRAY_SIZE(bad_names); i++)
		expect_create_fails(test, bad_names[i], 8, 0, -EINVAL);
	expect_create_fails(test, "kunit_bad", 0, 0, -EINVAL);
	expect_create_fails(test, "kunit_bad", LAB_MAX_PAGES_PER_CPU + 1, 0,
			    -EINVAL);
	expect_create_fails(test, "kunit_bad", UINT_MAX, 0, -EINVAL);
	expect_create_fails(test, "kunit_bad", 8, 0x80000000U, -EINVAL);
	expect_create_fails(test, "kunit_bad", 8, LABYRINTH_NO_FALLBACK << 1,
			    -EINVAL);
	/* The bounds themselves are fine. */
	reserve_new(test, NAME_LONGEST, 1, 0);
	reserve_new(test, "kunit.Bad-Args_9", 1, LABYRINTH_NO_FALLBACK);
}

static void reserve_create_rejects_duplicate_name(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_dup", 16, 0);

	expect_create_fails(test, "kunit_dup", 16, 0, -EEXIST);
	expect_create_fails(test, "kunit_dup", 4, LABYRINTH_NO_FALLBACK,
			    -EEXIST);
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 16U);
	KUNIT_EXPECT_TRUE(test, n->r->fallback);
	expect_levels(test, n->r, 16);
	expect_served_locally(test, n->r);
}

/*
 * max_total_pages lowered to leave room for 8 pages per CPU: a reserve of
 * 8 fits, nothing more, neither by a create nor by a resize; what a
 * shrink frees fits again, to the last page.
 */
static void reserve_beyond_max_total_pages_is_refused(struct kunit *test)
{
	unsigned long cpus = num_possible_cpus();
	struct lab_named *n;

	set_max_total(test, (READ_ONCE(lab_default.pages_per_cpu) + 8UL) * cpus);
	n = reserve_new(test, "kunit_cap", 8, 0);
	expect_create_fails(test, "kunit_cap_b", 1, 0, -ENOSPC);
	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 9), -ENOSPC);
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 8U);
	expect_levels(test, n->r, 8);

	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 4), 0);
	reserve_new(test, "kunit_cap_b", 4, 0);
	expect_create_fails(test, "kunit_cap_c", 1, 0, -ENOSPC);
	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 5), -ENOSPC);
	expect_levels(test, n->r, 4);
}

static void reserve_resize_rejects_bad_values(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_resize_bad", 8, 0);

	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r,
						       LAB_MAX_PAGES_PER_CPU + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, UINT_MAX),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 8U);
	KUNIT_EXPECT_EQ(test, n->r->low_watermark, 2U);
	expect_levels(test, n->r, 8);
	expect_served_locally(test, n->r);
}

static void reserve_resize_grows_and_shrinks_pools(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_resize", 8, 0);
	unsigned long online = num_online_cpus();
	unsigned long allocated = stat_sum(n->r, LAB_PAGES_ALLOCATED);
	unsigned long released = stat_sum(n->r, LAB_PAGES_RELEASED);

	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 32), 0);
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 32U);
	KUNIT_EXPECT_EQ(test, n->r->low_watermark, 8U);
	expect_levels(test, n->r, 32);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_PAGES_ALLOCATED) - allocated,
			24 * online);
	expect_served_locally(test, n->r);

	KUNIT_EXPECT_EQ(test, labyrinth_reserve_resize(n->r, 3), 0);
	KUNIT_EXPECT_EQ(test, n->r->pages_per_cpu, 3U);
	KUNIT_EXPECT_EQ(test, n->r->low_watermark, 1U);
	expect_levels(test, n->r, 3);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_PAGES_RELEASED) - released,
			29 * online);
	expect_served_locally(test, n->r);
}

static void reserve_destroy_of_null_or_error_is_noop(struct kunit *test)
{
	struct lab_named *n = reserve_new(test, "kunit_noop", 8, 0);
	unsigned int before = online_levels(&lab_default);

	labyrinth_reserve_destroy(NULL);
	labyrinth_reserve_destroy(ERR_PTR(-EINVAL));
	labyrinth_reserve_destroy(ERR_PTR(-EEXIST));

	KUNIT_EXPECT_EQ(test, online_levels(&lab_default), before);
	expect_levels(test, n->r, 8);
	expect_served_locally(test, n->r);
}

/*
 * A page of one reserve given back to another joins the other's pool:
 * here one page each way, which leaves both reserves' counters balanced.
 */
static void reserve_put_to_other_reserve_joins_its_pool(struct kunit *test)
{
	struct lab_named *na = reserve_new(test, "kunit_cross_a", 16, 0);
	struct lab_named *nb = reserve_new(test, "kunit_cross_b", 16, 0);
	struct lab_cpu_snapshot *a, *b;
	struct page *from_a, *from_b;
	unsigned int cpu;

	/* Each reserve's pool: before the two puts, between them, after. */
	a = kunit_kcalloc(test, 3, sizeof(*a), GFP_KERNEL);
	b = kunit_kcalloc(test, 3, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	preempt_disable();
	cpu = smp_processor_id();
	from_a = labyrinth_reserve_get(na->r);
	from_b = labyrinth_reserve_get(nb->r);
	lab_snapshot(na->r, cpu, &a[0]);
	lab_snapshot(nb->r, cpu, &b[0]);
	labyrinth_reserve_put(nb->r, from_a);
	lab_snapshot(na->r, cpu, &a[1]);
	lab_snapshot(nb->r, cpu, &b[1]);
	labyrinth_reserve_put(na->r, from_b);
	lab_snapshot(na->r, cpu, &a[2]);
	lab_snapshot(nb->r, cpu, &b[2]);
	preempt_enable();

	KUNIT_ASSERT_NOT_NULL(test, from_a);
	KUNIT_ASSERT_NOT_NULL(test, from_b);
	KUNIT_EXPECT_EQ(test, b[0].level, 15U);
	KUNIT_EXPECT_EQ(test, b[1].level, 16U);
	expect_put_counted(test, &b[0], &b[1], LAB_PUT_POOLED);
	KUNIT_EXPECT_MEMEQ(test, &a[0], &a[1], sizeof(*a));
	KUNIT_EXPECT_EQ(test, a[1].level, 15U);
	KUNIT_EXPECT_EQ(test, a[2].level, 16U);
	expect_put_counted(test, &a[1], &a[2], LAB_PUT_POOLED);
	KUNIT_EXPECT_MEMEQ(test, &b[1], &b[2], sizeof(*b));
}

/* Under stop_machine(), interrupts off: no fallback, flag or not. */
static void reserve_without_fallback_fails_when_empty(struct kunit *test)
{
	struct lab_test *t = test->priv;
	struct lab_named *n;

	n = reserve_new(test, "kunit_nofb", 16, LABYRINTH_NO_FALLBACK);
	measure(test, n);
	drain_pools(test, true, false);

	KUNIT_EXPECT_NULL(test, t->last);
	expect_get_counted(test, &t->before, &t->after, LAB_FAILED);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_FALLBACK), 0UL);
	KUNIT_EXPECT_EQ(test, delta(&t->start, &t->after, LAB_PAGES_ALLOCATED),
			0UL);
}

static void reserve_with_fallback_falls_back_when_empty(struct kunit *test)
{
	struct lab_test *t = test->priv;

	measure(test, reserve_new(test, "kunit_fb", 16, 0));
	drain_pools(test, true, false);

	expect_fallback_served(test, t);
}

/**
 * struct lab_isolation - reserve @a drained on every CPU, then @b and the
 *	default reserve looked at, all under one stop_machine()
 * @a: every online CPU takes its pages until a get fails
 * @b: then @cpu takes its pool
 * @cpu: the CPU that looks, once every CPU drained @a: the first online
 * @online: the online CPUs
 * @taken: pages of @a taken, over every CPU
 * @drained: CPUs done draining @a
 * @a_levels: @a's pages in the online CPUs' pools, drained
 * @b_levels: @b's pages there, before @cpu takes from it
 * @default_levels: the default reserve's pages there, then
 * @default_after: and once @cpu took @b's pool
 * @b_served: gets of @b that @cpu's pool served
 * @a_last: a get of @a on @cpu once every CPU drained it
 * @a_before: @a's pool on @cpu before that get
 * @a_after: after it
 */
struct lab_isolation {
	struct lab_named *a;
	struct lab_named *b;
	unsigned int cpu;
	unsigned int online;
	atomic_t taken;
	atomic_t drained;
	unsigned int a_levels;
	unsigned int b_levels;
	unsigned int default_levels;
	unsigned int default_after;
	unsigned int b_served;
	struct page *a_last;
	struct lab_cpu_snapshot a_before;
	struct lab_cpu_snapshot a_after;
};

/* Interrupts off: take @x->a's pages until a get fails. */
static void drain_a_here(struct lab_isolation *x)
{
	struct lab_named *a = x->a;
	struct page *page;
	int i;

	while ((page = labyrinth_reserve_get(a->r))) {
		i = atomic_inc_return(&x->taken) - 1;
		if (i >= a->max) {
			labyrinth_reserve_put(a->r, page);
			break;
		}
		a->pages[i] = page;
	}
	atomic_inc(&x->drained);
}

/* Interrupts off, on @x->cpu: take @x->b's local pool, counting. */
static void take_b_here(struct lab_isolation *x)
{
	struct lab_cpu_snapshot before, after;
	struct lab_named *b = x->b;
	struct page *page;

	while (b->nr < b->cap) {
		lab_snapshot(b->r, x->cpu, &before);
		page = labyrinth_reserve_get(b->r);
		lab_snapshot(b->r, x->cpu, &after);
		if (!page)
			break;
		b->pages[b->nr++] = page;
		x->b_served += delta(&before, &after, LAB_SERVED_LOCAL);
	}
}

/*
 * stop_machine() callback on every online CPU: each drains @a, then
 * @x->cpu, once all are done, looks at the pools while the other CPUs
 * spin with interrupts off (no refill worker runs).
 */
static int isolation_stopped(void *arg)
{
	struct lab_isolation *x = arg;

	drain_a_here(x);
	if (smp_processor_id() != cpumask_first(cpu_online_mask))
		return 0;
	x->cpu = smp_processor_id();
	x->online = num_online_cpus();
	while (atomic_read(&x->drained) < x->online)
		cpu_relax();
	x->a_levels = online_levels(x->a->r);
	x->b_levels = online_levels(x->b->r);
	x->default_levels = online_levels(&lab_default);
	lab_snapshot(x->a->r, x->cpu, &x->a_before);
	x->a_last = labyrinth_reserve_get(x->a->r);
	lab_snapshot(x->a->r, x->cpu, &x->a_after);
	take_b_here(x);
	x->default_after = online_levels(&lab_default);
	return 0;
}

/* Whether a page @a holds is also one that @b holds. */
static bool pages_shared(const struct lab_named *a, const struct lab_named *b)
{
	unsigned int i, j;

	for (i = 0; i < a->nr; i++)
		for (j = 0; j < b->nr; j++)
			if (a->pages[i] == b->pages[j])
				return true;
	return false;
}

/*
 * A reserve without fallback, drained on every CPU, fails its gets; it
 * takes nothing from another reserve, and the other keeps its pages.
 */
static void reserve_drained_leaves_other_reserves_untouched(struct kunit *test)
{
	struct lab_isolation *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	unsigned int default_levels;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, x);
	x->a = reserve_new(test, "kunit_iso_a", 16, LABYRINTH_NO_FALLBACK);
	x->b = reserve_new(test, "kunit_iso_b", 16, 0);
	default_levels = online_levels(&lab_default);
	ret = stop_machine(isolation_stopped, x, cpu_online_mask);
	x->a->nr = min_t(unsigned int, atomic_read(&x->taken), x->a->max);
	if (x->a_last)
		labyrinth_reserve_put(x->a->r, x->a_last);

	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, (unsigned int)atomic_read(&x->taken),
			16 * x->online);
	KUNIT_EXPECT_EQ(test, x->a_levels, 0U);
	KUNIT_EXPECT_NULL(test, x->a_last);
	expect_get_counted(test, &x->a_before, &x->a_after, LAB_FAILED);
	KUNIT_EXPECT_EQ(test, stat_sum(x->a->r, LAB_FALLBACK), 0UL);
	KUNIT_EXPECT_EQ(test, x->b_levels, 16 * x->online);
	KUNIT_EXPECT_EQ(test, x->b->nr, 16U);
	KUNIT_EXPECT_EQ(test, x->b_served, 16U);
	KUNIT_EXPECT_FALSE(test, pages_shared(x->a, x->b));
	KUNIT_EXPECT_EQ(test, x->default_levels, default_levels);
	KUNIT_EXPECT_EQ(test, x->default_after, default_levels);
}

static void reserve_get_put_in_hardirq_hrtimer(struct kunit *test)
{
	measure(test, reserve_new(test, "kunit_hardirq", 16, 0));
	get_put_in_hardirq_hrtimer(test);
}

static void reserve_get_put_in_nmi(struct kunit *test)
{
	measure(test, reserve_new(test, "kunit_nmi", 16, 0));
	get_put_in_nmi(test);
}

/* In NMI: take @arg's pages until a get fails, one more than its pool. */
static void nmi_take_pool(void *arg)
{
	struct lab_named *n = arg;
	struct page *page;

	while (n->nr <= n->cap && n->nr < n->max) {
		page = labyrinth_reserve_get(n->r);
		if (!page)
			break;
		n->pages[n->nr++] = page;
	}
}

/*
 * An NMI takes no lock, so the stash is out of its reach; the refill
 * worker loads hot[] so that, with the NMI share, a pool of up to 40
 * pages is there whole.  Taken whole in NMI, and the next get fails.
 */
static void reserve_pool_of_40_taken_whole_in_nmi(struct kunit *test)
{
	struct lab_named *n;
	bool ran;

	n = reserve_new(test, "kunit_nmi40", 40, LABYRINTH_NO_FALLBACK);
	ran = run_in_nmi(nmi_take_pool, n);

	KUNIT_ASSERT_TRUE_MSG(test, ran, "the NMI did not come");
	KUNIT_EXPECT_EQ(test, n->nr, 40U);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_SERVED_NMI), 40UL);
	KUNIT_EXPECT_EQ(test, stat_sum(n->r, LAB_FAILED), 1UL);
}

static struct kunit_case labyrinth_cases[] = {
	KUNIT_CASE(get_served_from_local_pool),
	KUNIT_CASE(put_returns_page_to_pool),
	KUNIT_CASE(put_beyond_capacity_frees),
	KUNIT_CASE(put_beyond_capacity_in_process_context_frees),
	KUNIT_CASE(get_steals_when_local_pool_empty),
	KUNIT_CASE(get_falls_back_when_pools_empty),
	KUNIT_CASE(get_fails_without_fallback_when_pools_empty),
	KUNIT_CASE(fallback_failure_returns_null),
	KUNIT_CASE(whole_reserve_served_while_allocator_fails),
	KUNIT_CASE(refill_worker_restores_level),
	KUNIT_CASE(get_below_low_watermark_kicks_refill),
	KUNIT_CASE(get_below_raised_low_watermark_kicks_refill),
	KUNIT_CASE(get_put_in_hardirq_hrtimer),
	KUNIT_CASE(get_put_in_softirq),
	KUNIT_CASE(get_put_under_spinlock_with_irqs_off),
	KUNIT_CASE(get_put_in_nmi),
	KUNIT_CASE(nmi_user_putting_back_is_always_served),
	KUNIT_CASE(nested_nmi_gets_take_different_pages),
	KUNIT_CASE(put_in_nmi_of_shared_page_drops_reference),
	KUNIT_CASE(put_in_nmi_of_slab_page_is_refused),
	KUNIT_CASE(put_releases_compound_page),
	KUNIT_CASE(put_leaves_tail_page_untouched),
	KUNIT_CASE(put_leaves_slab_page_untouched),
	KUNIT_CASE(put_leaves_page_table_page_untouched),
	KUNIT_CASE(put_leaves_page_pool_page_untouched),
	KUNIT_CASE(put_leaves_page_cache_page_untouched),
	KUNIT_CASE(put_leaves_reserved_page_untouched),
	KUNIT_CASE(put_leaves_page_with_damaged_mapcount_untouched),
	KUNIT_CASE(put_of_shared_page_drops_reference_quietly),
	KUNIT_CASE(put_leaves_page_on_lru_untouched),
	KUNIT_CASE(put_twice_racing_get_leaves_new_users_page),
	KUNIT_CASE(get_drops_page_with_memory_error),
	KUNIT_CASE(put_releases_page_with_memory_error),
	KUNIT_CASE(put_releases_pfmemalloc_page),
	KUNIT_CASE(put_twice_is_refused),
	KUNIT_CASE(put_of_freed_page_is_refused),
	KUNIT_CASE(debug_finds_write_after_put),
	KUNIT_CASE(debug_names_holder_of_outstanding_pages),
	KUNIT_CASE(handed_on_page_freed_by_holder_is_not_in_use),
	KUNIT_CASE(hand_on_of_pooled_page_is_refused),
	KUNIT_CASE(put_null_is_noop),
	KUNIT_CASE(labyrinth_returns_usable_address),
	KUNIT_CASE(no_page_served_twice),
	KUNIT_CASE(served_pages_are_cleared_when_init_on_alloc_or_free),
	KUNIT_CASE(put_pools_page_as_is_when_init_off),
	KUNIT_CASE(reserve_create_fills_every_online_pool),
	KUNIT_CASE(reserve_get_served_from_local_pool),
	KUNIT_CASE(reserve_destroy_frees_every_page),
	KUNIT_CASE(reserve_destroyed_with_pages_out_takes_them_back),
	KUNIT_CASE(reserve_create_rejects_bad_arguments),
	KUNIT_CASE(reserve_create_rejects_duplicate_name),
	KUNIT_CASE(reserve_resize_rejects_bad_values),
	KUNIT_CASE(reserve_resize_grows_and_shrinks_pools),
	KUNIT_CASE(reserve_destroy_of_null_or_error_is_noop),
	KUNIT_CASE(reserve_beyond_max_total_pages_is_refused),
	KUNIT_CASE(reserve_put_to_other_reserve_joins_its_pool),
	KUNIT_CASE(reserve_without_fallback_fails_when_empty),
	KUNIT_CASE(reserve_with_fallback_falls_back_when_empty),
	KUNIT_CASE(reserve_drained_leaves_other_reserves_untouched),
	KUNIT_CASE(reserve_get_put_in_hardirq_hrtimer),
	KUNIT_CASE(reserve_get_put_in_nmi),
	KUNIT_CASE(reserve_pool_of_40_taken_whole_in_nmi),
	{}
};

static int lab_suite_init(struct kunit_suite *suite)
{
	int err;

	max_total_file = filp_open(MAX_TOTAL_PARAM, O_RDWR, 0);
	err = register_nmi_handler(NMI_LOCAL, kunit_nmi, 0, KBUILD_MODNAME);
	if (err && !IS_ERR(max_total_file))
		filp_close(max_total_file, NULL);
	return err;
}

static void lab_suite_exit(struct kunit_suite *suite)
{
	unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
	if (!IS_ERR(max_total_file))
		filp_close(max_total_file, NULL);
}

static struct kunit_suite labyrinth_suite = {
	.name = "labyrinth",
	.suite_init = lab_suite_init,
	.suite_exit = lab_suite_exit,
	.init = lab_test_init,
	.exit = lab_test_exit,
	.test_cases = labyrinth_cases,
};

kunit_test_suite(labyrinth_suite);

MODULE_DESCRIPTION("KUnit tests of the labyrinth page reserve");
MODULE_LICENSE("GPL");
LAB_IMPORT_KUNIT_NS();

// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_demo - labyrinth used the way a driver would use it.
 *
 * Every online CPU runs a hard-IRQ hrtimer.  Each tick takes "batch" pages
 * with labyrinth(), stamps them with the CPU number and a sequence number,
 * and hands them to the next online CPU: the pages go onto that CPU's
 * lock-free inbox and a work item queued there checks the stamp and gives
 * each page back with labyrinth_free().  After "duration_ms" the timers are
 * cancelled, the inboxes drained and a summary printed:
 *
 *   cpuN: taken T in hard-IRQ, returned R on cpuM, failed F
 *   total: taken T, returned R, failed F, corrupted C
 *
 * The same totals are in /sys/kernel/debug/labyrinth_demo/summary.
 *
 * With "starve", the module first takes every page the page allocator will
 * give (GFP_KERNEL | __GFP_NORETRY, then GFP_ATOMIC), and every tick also
 * tries alloc_page(GFP_ATOMIC) once, to show the reserve serving while the
 * allocator cannot.  The hoard yields pages to reclaim only for allocations
 * that would otherwise wake the OOM killer (a kthread's stack, say), never
 * to those that may fail (__GFP_NORETRY, as labyrinth's refill worker
 * asks) nor to kswapd (struct lab_test_hoard): the OOM killer stays away
 * and GFP_ATOMIC keeps failing.  Every page is given back when the run
 * ends.
 *
 * The set of CPUs (the ring) is fixed when the run starts.  A ring CPU that
 * goes offline mid-run loses nothing: the hrtimer core migrates its timer to
 * a live CPU and work queued for it runs unbound.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/kstrtox.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"
#include "labyrinth_test.h"

static unsigned int demo_interval_us = 200;
static unsigned int demo_duration_ms = 3000;
static unsigned int demo_batch = 4;
static bool demo_wait = true;
static bool demo_starve;

/* Layout of a page between labyrinth() and labyrinth_free(). */
struct demo_page {
	struct llist_node node;	/* link in the receiving CPU's inbox */
	u32 cpu;		/* CPU whose timer took the page */
	u32 seq;		/* that CPU's count of pages taken before it */
	u8 fill[];		/* every byte is pattern(cpu, seq) */
};

#define DEMO_FILL_BYTES	(PAGE_SIZE - offsetof(struct demo_page, fill))

/*
 * One per CPU.  The first group is written only by the CPU's own timer
 * callback, which runs in hard-IRQ context with interrupts off and never
 * concurrently with itself.  The second group is written only by the CPU's
 * return work, which the workqueue never runs concurrently with itself.
 * Each counter has a single writer, so no lock and no atomic is needed;
 * readers (the summary file) use READ_ONCE() and may see a count in flight.
 */
struct demo_cpu {
	struct hrtimer timer;
	unsigned int cpu;
	unsigned int next;		/* ring CPU that returns our pages */
	unsigned long taken;
	unsigned long failed;		/* labyrinth() returned NULL */
	unsigned long not_hardirq;	/* ticks outside hard-IRQ (must be 0) */
	unsigned long atomic_tried;	/* alloc_page(GFP_ATOMIC) calls */
	unsigned long atomic_failed;	/* ... that returned NULL */
	struct list_head hoard;		/* ... and the pages they got */

	struct llist_head inbox;	/* pages from @prev, to return */
	struct work_struct work;	/* drains @inbox on this CPU */
	unsigned int prev;		/* ring CPU whose pages we return */
	unsigned long returned;
	unsigned long corrupted;	/* pages whose stamp did not match */
};

struct demo_totals {
	unsigned long taken;
	unsigned long returned;
	unsigned long failed;
	unsigned long corrupted;
	unsigned long not_hardirq;
	unsigned long atomic_tried;
	unsigned long atomic_failed;
};

static struct demo_cpu __percpu *demo_cpus;
static struct cpumask demo_ring;
static ktime_t demo_period;
static ktime_t demo_deadline;
static bool demo_running;
static struct dentry *demo_debugfs;
/* Pages taken to starve the allocator. */
static struct lab_test_hoard demo_hoard;
static struct shrinker *demo_shrinker;
static DECLARE_COMPLETION(demo_done);

static void finish_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(demo_finish, finish_fn);

/* Below 50 us a tick of pages filled in hard-IRQ starves the CPU. */
static int set_interval(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 50, USEC_PER_SEC);
}

static int set_duration(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 600 * MSEC_PER_SEC);
}

static int set_batch(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 32);
}

static const struct kernel_param_ops interval_ops = {
	.set = set_interval,
	.get = param_get_uint,
};

static const struct kernel_param_ops duration_ops = {
	.set = set_duration,
	.get = param_get_uint,
};

static const struct kernel_param_ops batch_ops = {
	.set = set_batch,
	.get = param_get_uint,
};

module_param_cb(interval_us, &interval_ops, &demo_interval_us, 0444);
MODULE_PARM_DESC(interval_us,
		 "Timer period on each CPU in microseconds (default 200; 50..1000000)");
module_param_cb(duration_ms, &duration_ops, &demo_duration_ms, 0444);
MODULE_PARM_DESC(duration_ms,
		 "Length of the run in milliseconds (default 3000; 1..600000)");
module_param_cb(batch, &batch_ops, &demo_batch, 0444);
MODULE_PARM_DESC(batch, "Pages taken per timer tick (default 4; 1..32)");
module_param_named(wait, demo_wait, bool, 0444);
MODULE_PARM_DESC(wait,
		 "Load returns only after the run and its summary (default 1)");
module_param_named(starve, demo_starve, bool, 0444);
MODULE_PARM_DESC(starve,
		 "Exhaust the page allocator for the run and compare alloc_page(GFP_ATOMIC) (default 0)");

/* Single-writer counter; see struct demo_cpu. */
static void bump(unsigned long *counter)
{
	WRITE_ONCE(*counter, *counter + 1);
}

static u8 pattern(u32 cpu, u32 seq)
{
	return (u8)(cpu * 37 + seq) ^ 0xa5;
}

static void stamp_page(struct demo_page *p, u32 cpu, u32 seq)
{
	p->cpu = cpu;
	p->seq = seq;
	memset(p->fill, pattern(cpu, seq), DEMO_FILL_BYTES);
}

static bool page_intact(const struct demo_page *p, unsigned int sender)
{
	return p->cpu == sender &&
	       !memchr_inv(p->fill, pattern(p->cpu, p->seq), DEMO_FILL_BYTES);
}

/*
 * Take up to demo_batch pages and chain them through their llist nodes.
 * Return the head of the chain (NULL if every take failed), its tail in
 * @last.  Hard-IRQ context.
 */
static struct llist_node *take_batch(struct demo_cpu *d,
				     struct llist_node **last)
{
	struct llist_node *first = NULL;
	struct demo_page *p;
	unsigned int i;

	*last = NULL;
	for (i = 0; i < demo_batch; i++) {
		p = labyrinth();
		if (!p) {
			bump(&d->failed);
			continue;
		}
		stamp_page(p, d->cpu, d->taken);
		bump(&d->taken);
		p->node.next = first;
		first = &p->node;
		if (!*last)
			*last = first;
	}
	return first;
}

/*
 * Hand a chain of stamped pages to the next ring CPU.  llist_add_batch() is
 * a full barrier (cmpxchg) and pairs with the xchg in llist_del_all() in
 * return_fn(): the receiver sees the stamps written before the push.  The
 * work is queued after the push, and a work item's pending bit is cleared
 * before it runs, so no push is missed: either the queueing succeeds or a
 * queued instance has yet to empty the inbox.
 */
static void hand_over(struct demo_cpu *d, struct llist_node *first,
		      struct llist_node *last)
{
	struct demo_cpu *r = per_cpu_ptr(demo_cpus, d->next);

	llist_add_batch(first, last, &r->inbox);
	queue_work_on(d->next, system_wq, &r->work);
}

/*
 * What a driver without labyrinth would get.  Hard-IRQ context.  A page it
 * gets is kept, so the allocator stays starved of pages freed meanwhile.
 */
static void try_allocator(struct demo_cpu *d)
{
	struct page *page = lab_test_atomic_page();

	bump(&d->atomic_tried);
	if (page)
		list_add(&page->lru, &d->hoard);
	else
		bump(&d->atomic_failed);
}

static enum hrtimer_restart tick_fn(struct hrtimer *timer)
{
	struct demo_cpu *d = container_of(timer, struct demo_cpu, timer);
	struct llist_node *first, *last;

	if (!in_hardirq())
		bump(&d->not_hardirq);
	if (demo_starve)
		try_allocator(d);
	first = take_batch(d, &last);
	if (first)
		hand_over(d, first, last);

	if (ktime_after(hrtimer_cb_get_time(timer), demo_deadline))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, demo_period);
	return HRTIMER_RESTART;
}

/* Verify and give back every page in our inbox.  Process context. */
static void return_fn(struct work_struct *work)
{
	struct demo_cpu *r = container_of(work, struct demo_cpu, work);
	struct llist_node *list = llist_del_all(&r->inbox);
	struct demo_page *p, *tmp;

	llist_for_each_entry_safe(p, tmp, list, node) {
		if (!page_intact(p, r->prev))
			bump(&r->corrupted);
		labyrinth_free(p);
		bump(&r->returned);
	}
}

static void sum_totals(struct demo_totals *t)
{
	struct demo_cpu *d;
	unsigned int cpu;

	memset(t, 0, sizeof(*t));
	for_each_possible_cpu(cpu) {
		d = per_cpu_ptr(demo_cpus, cpu);
		t->taken += READ_ONCE(d->taken);
		t->returned += READ_ONCE(d->returned);
		t->failed += READ_ONCE(d->failed);
		t->corrupted += READ_ONCE(d->corrupted);
		t->not_hardirq += READ_ONCE(d->not_hardirq);
		t->atomic_tried += READ_ONCE(d->atomic_tried);
		t->atomic_failed += READ_ONCE(d->atomic_failed);
	}
}

static void print_summary(void)
{
	struct demo_cpu *d, *r;
	struct demo_totals t;
	unsigned int cpu;

	for_each_cpu(cpu, &demo_ring) {
		d = per_cpu_ptr(demo_cpus, cpu);
		r = per_cpu_ptr(demo_cpus, d->next);
		pr_info("cpu%u: taken %lu in hard-IRQ, returned %lu on cpu%u, failed %lu\n",
			cpu, d->taken, r->returned, d->next, d->failed);
		if (d->not_hardirq)
			pr_warn("cpu%u: %lu ticks ran outside hard-IRQ\n",
				cpu, d->not_hardirq);
	}
	sum_totals(&t);
	pr_info("total: taken %lu, returned %lu, failed %lu, corrupted %lu\n",
		t.taken, t.returned, t.failed, t.corrupted);
	if (demo_starve)
		pr_info("alloc_page(GFP_ATOMIC) meanwhile: failed %lu of %lu\n",
			t.atomic_failed, t.atomic_tried);
	if (t.taken != t.returned)
		pr_err("%lu pages not returned\n", t.taken - t.returned);
}

static unsigned long hoard(gfp_t gfp)
{
	unsigned long n = 0;
	struct page *page;

	while ((page = alloc_page(gfp | __GFP_NOWARN))) {
		lab_test_hoard_add(&demo_hoard, page);
		if (!(++n % 1024))
			cond_resched();
	}
	return n;
}

static unsigned long hoard_count(struct shrinker *s, struct shrink_control *sc)
{
	return lab_test_hoard_count(&demo_hoard, sc);
}

static unsigned long hoard_scan(struct shrinker *s, struct shrink_control *sc)
{
	return lab_test_hoard_scan(&demo_hoard, sc);
}

/*
 * Take every page the allocator gives, without waking the OOM killer; then
 * let reclaim take some back where it must (registered after the hoard is
 * complete, or the hoard's own allocations would reclaim it).
 */
static void starve_allocator(void)
{
	unsigned long n;

	n = hoard(GFP_KERNEL | __GFP_NORETRY);
	n += hoard(GFP_ATOMIC);
	demo_shrinker = lab_shrinker_create("labyrinth_demo", hoard_count,
					    hoard_scan);
	pr_info("page allocator exhausted: holding %lu pages (%lu MiB)\n",
		n, n >> (20 - PAGE_SHIFT));
}

/* Once the timers are cancelled: give back every page hoarded. */
static void release_hoard(void)
{
	unsigned int cpu;

	lab_shrinker_destroy(demo_shrinker);
	demo_shrinker = NULL;
	lab_test_hoard_release(&demo_hoard);
	for_each_possible_cpu(cpu)
		lab_test_free_list(&per_cpu_ptr(demo_cpus, cpu)->hoard);
}

/*
 * Stop the timers, then drain the inboxes.  hrtimer_cancel() waits for a
 * running callback, and cancels the timer even if that callback re-arms it.
 * Once every timer is cancelled nothing pushes or queues, so flushing each
 * return work (which waits for its last queued instance) leaves every inbox
 * empty: all pages are back.  Process context.
 */
static void finish_run(void)
{
	unsigned int cpu;

	for_each_cpu(cpu, &demo_ring)
		hrtimer_cancel(&per_cpu_ptr(demo_cpus, cpu)->timer);
	for_each_cpu(cpu, &demo_ring)
		flush_work(&per_cpu_ptr(demo_cpus, cpu)->work);
	release_hoard();
	print_summary();
	WRITE_ONCE(demo_running, false);
	complete_all(&demo_done);
}

static void finish_fn(struct work_struct *work)
{
	finish_run();
}

/* End the run now unless it has ended; return when it has. */
static void stop_run(void)
{
	if (cancel_delayed_work_sync(&demo_finish))
		finish_run();
}

/*
 * Runs on every ring CPU with interrupts off (IPI, or locally under
 * local_irq_save()): a pinned timer is queued on the CPU that starts it.
 */
static void start_timer(void *unused)
{
	struct demo_cpu *d = this_cpu_ptr(demo_cpus);

	hrtimer_start(&d->timer, demo_period, HRTIMER_MODE_REL_PINNED_HARD);
}

static void link_ring(void)
{
	unsigned int cpu, next;

	for_each_cpu(cpu, &demo_ring) {
		next = cpumask_next(cpu, &demo_ring);
		if (next >= nr_cpu_ids)
			next = cpumask_first(&demo_ring);
		per_cpu_ptr(demo_cpus, cpu)->next = next;
		per_cpu_ptr(demo_cpus, next)->prev = cpu;
	}
}

/* cpus_read_lock() keeps the online mask still until every timer is armed. */
static void start_run(void)
{
	cpus_read_lock();
	cpumask_copy(&demo_ring, cpu_online_mask);
	link_ring();
	demo_period = ns_to_ktime((u64)demo_interval_us * NSEC_PER_USEC);
	demo_deadline = ktime_add_ms(ktime_get(), demo_duration_ms);
	WRITE_ONCE(demo_running, true);
	on_each_cpu_mask(&demo_ring, start_timer, NULL, true);
	cpus_read_unlock();
	/* Only now: finish_run() must not overtake a timer's start. */
	schedule_delayed_work(&demo_finish,
			      msecs_to_jiffies(demo_duration_ms) + 1);
	pr_info("%u CPUs, %u pages every %u us for %u ms\n",
		cpumask_weight(&demo_ring), demo_batch, demo_interval_us,
		demo_duration_ms);
}

static int summary_show(struct seq_file *m, void *unused)
{
	struct demo_totals t;

	sum_totals(&t);
	seq_printf(m, "taken %lu\n", t.taken);
	seq_printf(m, "returned %lu\n", t.returned);
	seq_printf(m, "failed %lu\n", t.failed);
	seq_printf(m, "corrupted %lu\n", t.corrupted);
	seq_printf(m, "not_hardirq %lu\n", t.not_hardirq);
	seq_printf(m, "atomic_tried %lu\n", t.atomic_tried);
	seq_printf(m, "atomic_failed %lu\n", t.atomic_failed);
	seq_printf(m, "running %d\n", READ_ONCE(demo_running));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);

static void init_cpus(void)
{
	struct demo_cpu *d;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		d = per_cpu_ptr(demo_cpus, cpu);
		d->cpu = cpu;
		lab_hrtimer_setup(&d->timer, tick_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_HARD);
		init_llist_head(&d->inbox);
		INIT_LIST_HEAD(&d->hoard);
		INIT_WORK(&d->work, return_fn);
	}
}

static int __init demo_init(void)
{
	demo_cpus = alloc_percpu(struct demo_cpu);
	if (!demo_cpus)
		return -ENOMEM;
	init_cpus();
	lab_test_hoard_init(&demo_hoard);

	/* debugfs failures are not fatal and need no checking */
	demo_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("summary", 0400, demo_debugfs, NULL,
			    &summary_fops);

	if (demo_starve)
		starve_allocator();
	start_run();
	/* A fatal signal to insmod ends the run early. */
	if (demo_wait && wait_for_completion_killable(&demo_done))
		stop_run();
	return 0;
}
module_init(demo_init);

static void __exit demo_exit(void)
{
	stop_run();
	debugfs_remove_recursive(demo_debugfs);
	free_percpu(demo_cpus);
}
module_exit(demo_exit);

MODULE_DESCRIPTION("labyrinth demo: hard-IRQ timers take pages, other CPUs return them");
MODULE_LICENSE("GPL");

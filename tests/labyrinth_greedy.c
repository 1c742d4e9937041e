// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_greedy - a client that empties its own named reserve and keeps
 * asking, for the test of isolation between reserves (labyrinth_tenant is
 * the other client).
 *
 * At load it creates the reserve "greedy" of "pages_per_cpu" pages per
 * CPU.  With "fallback" off (the default) the reserve is created with
 * LABYRINTH_NO_FALLBACK: its gets never call the page allocator, so that
 * on a kernel without fault injection the storm below takes no more than
 * the reserve and what its refill worker adds.  With "fallback" on, where
 * fail_page_alloc makes the page allocator fail every request, every get
 * of the storm that finds the reserve empty goes on to the page allocator
 * and fails there: the whole path of a get, pools, thefts and fallback,
 * is tried again and again without ever reaching another reserve.
 *
 * Writes to /sys/kernel/debug/labyrinth_greedy/control:
 *
 *   storm	every online CPU runs a pinned hard-IRQ hrtimer, every
 *		"storm_us", that takes pages with labyrinth_reserve_get()
 *		until it returns NULL, and holds all of them.  The write
 *		returns once every CPU has seen a NULL (its reserve is
 *		empty), or fails with -ETIMEDOUT after STORM_DRAIN_MS; the
 *		storm goes on until "stop".
 *   mark	start counting each CPU's NULL gets afresh ("nulls_since_mark")
 *   stop	cancel the timers; the pages stay held
 *   leak	at unload, destroy the reserve with the pages still held:
 *		labyrinth_reserve_destroy() reports them as out; each is
 *		then given back with labyrinth_reserve_put(), which frees it
 *		(a page may come back to a destroyed reserve).  Without
 *		"leak" the pages go back before the reserve is destroyed.
 *
 * /sys/kernel/debug/labyrinth_greedy/results has "name value" lines.  A
 * CPU holds up to pages_per_cpu times the possible CPUs, in an array
 * allocated at load: the storm allocates nothing.  Only a refill that
 * succeeds can bring more (no fault injection): those pages are taken all
 * the same, up to as many again, and given back once the get has returned
 * NULL, counted in "overflow"; the next tick takes them again.
 *
 * CPUs must not go offline during a storm: a timer that runs elsewhere
 * than on its CPU counts in "wrong_cpu" and stops.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/string_helpers.h>
#include <linux/uaccess.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"
#include "labyrinth_test.h"

#define STORM_DRAIN_MS	10000	/* for every CPU to empty its reserve */

/**
 * struct greedy_cpu - one CPU's part of the storm
 * @timer: the pinned hard-IRQ timer that takes the pages
 * @pages: the pages held, room for greedy_slice
 * @spill: the pages of one tick beyond greedy_slice, as many at most
 * @held: entries used in @pages
 * @gets: pages taken
 * @nulls: labyrinth_reserve_get() returned NULL
 * @nulls_mark: @nulls when "mark" was written
 * @ticks: timer runs
 * @overflow: pages given back from @spill
 * @not_hardirq: timer runs outside hard-IRQ context (must stay 0)
 * @wrong_cpu: timer runs on another CPU (must stay 0)
 * @drained: a get returned NULL since the storm started
 * @cpu: the CPU
 *
 * Every field but @nulls_mark is written by the CPU's timer only, or with
 * the timer stopped; readers use READ_ONCE() and may see a count in flight.
 */
struct greedy_cpu {
	struct hrtimer timer;
	struct page **pages;
	struct page **spill;
	unsigned int held;
	unsigned long gets;
	unsigned long nulls;
	unsigned long nulls_mark;
	unsigned long ticks;
	unsigned long overflow;
	unsigned long not_hardirq;
	unsigned long wrong_cpu;
	bool drained;
	unsigned int cpu;
};

static unsigned int greedy_pages = 32;
static bool greedy_fallback;
static unsigned int greedy_storm_us = 1000;

static struct labyrinth_reserve *greedy_reserve;
static struct greedy_cpu __percpu *greedy_cpus;
static struct page **greedy_pages_all;
static unsigned int greedy_slice;	/* pages one CPU may hold */
static struct cpumask greedy_storm_cpus;	/* CPUs whose timer runs */
static ktime_t greedy_period;
static atomic_t greedy_undrained;	/* storm CPUs yet to see a NULL */
static DECLARE_COMPLETION(greedy_all_drained);
static DEFINE_MUTEX(greedy_lock);	/* the control writes */
static bool greedy_storming;
static bool greedy_leak;

static struct dentry *greedy_debugfs;

static int set_pages(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 16384);
}

/* Below 50 us the timer starves its CPU. */
static int set_storm_us(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 50, USEC_PER_SEC);
}

static const struct kernel_param_ops pages_ops = {
	.set = set_pages,
	.get = param_get_uint,
};

static const struct kernel_param_ops storm_us_ops = {
	.set = set_storm_us,
	.get = param_get_uint,
};

module_param_cb(pages_per_cpu, &pages_ops, &greedy_pages, 0444);
MODULE_PARM_DESC(pages_per_cpu,
		 "Pages per CPU of the reserve \"greedy\" (default 32; 1..16384)");
module_param_named(fallback, greedy_fallback, bool, 0444);
MODULE_PARM_DESC(fallback,
		 "Let a get that finds the reserve empty call the page allocator (default 0: LABYRINTH_NO_FALLBACK)");
module_param_cb(storm_us, &storm_us_ops, &greedy_storm_us, 0444);
MODULE_PARM_DESC(storm_us,
		 "Period of each CPU's storm timer in microseconds (default 1000; 50..1000000)");

/*
 * Take pages until the reserve says no; keep every one that fits, give
 * back the others after the NULL.
 */
static void greedy_take(struct greedy_cpu *g)
{
	struct page *page = NULL;
	unsigned int spilled = 0;

	while (spilled < greedy_slice &&
	       (page = labyrinth_reserve_get(greedy_reserve))) {
		WRITE_ONCE(g->gets, g->gets + 1);
		if (g->held < greedy_slice) {
			g->pages[g->held] = page;
			WRITE_ONCE(g->held, g->held + 1);
		} else {
			g->spill[spilled++] = page;
		}
	}
	if (!page) {
		WRITE_ONCE(g->nulls, g->nulls + 1);
		if (!g->drained) {
			g->drained = true;
			if (atomic_dec_and_test(&greedy_undrained))
				complete(&greedy_all_drained);
		}
	}
	WRITE_ONCE(g->overflow, g->overflow + spilled);
	while (spilled)
		labyrinth_reserve_put(greedy_reserve, g->spill[--spilled]);
}

static enum hrtimer_restart storm_fn(struct hrtimer *timer)
{
	struct greedy_cpu *g = container_of(timer, struct greedy_cpu, timer);

	WRITE_ONCE(g->ticks, g->ticks + 1);
	if (smp_processor_id() != g->cpu) {
		WRITE_ONCE(g->wrong_cpu, g->wrong_cpu + 1);
		return HRTIMER_NORESTART;
	}
	if (!in_hardirq())
		WRITE_ONCE(g->not_hardirq, g->not_hardirq + 1);
	greedy_take(g);
	hrtimer_forward_now(timer, greedy_period);
	return HRTIMER_RESTART;
}

/* Runs on each CPU of the storm: a pinned timer stays on its CPU. */
static void arm_storm_timer(void *unused)
{
	hrtimer_start(&this_cpu_ptr(greedy_cpus)->timer, greedy_period,
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void storm_stop(void)
{
	unsigned int cpu;

	if (!greedy_storming)
		return;
	for_each_cpu(cpu, &greedy_storm_cpus)
		hrtimer_cancel(&per_cpu_ptr(greedy_cpus, cpu)->timer);
	greedy_storming = false;
}

/*
 * Start the timers of every online CPU and wait until each has found its
 * reserve empty.  Return: 0, -EBUSY if a storm runs, -ETIMEDOUT if some
 * CPU still found pages after STORM_DRAIN_MS (the storm goes on).
 */
static int storm_start(void)
{
	unsigned int cpu;

	if (greedy_storming)
		return -EBUSY;
	greedy_period = ns_to_ktime((u64)greedy_storm_us * NSEC_PER_USEC);
	cpus_read_lock();
	cpumask_copy(&greedy_storm_cpus, cpu_online_mask);
	for_each_cpu(cpu, &greedy_storm_cpus)
		per_cpu_ptr(greedy_cpus, cpu)->drained = false;
	atomic_set(&greedy_undrained, cpumask_weight(&greedy_storm_cpus));
	reinit_completion(&greedy_all_drained);
	greedy_storming = true;
	/* The IPIs order the writes above before the timers run. */
	on_each_cpu_mask(&greedy_storm_cpus, arm_storm_timer, NULL, true);
	cpus_read_unlock();
	if (!wait_for_completion_timeout(&greedy_all_drained,
					 msecs_to_jiffies(STORM_DRAIN_MS)))
		return -ETIMEDOUT;
	pr_info("reserve greedy empty on %u CPUs, the storm goes on every %u us\n",
		cpumask_weight(&greedy_storm_cpus), greedy_storm_us);
	return 0;
}

static void storm_mark(void)
{
	struct greedy_cpu *g;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		g = per_cpu_ptr(greedy_cpus, cpu);
		WRITE_ONCE(g->nulls_mark, READ_ONCE(g->nulls));
	}
}

static unsigned long greedy_held(void)
{
	unsigned long held = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		held += READ_ONCE(per_cpu_ptr(greedy_cpus, cpu)->held);
	return held;
}

static const char * const control_names[] = { "storm", "mark", "stop", "leak" };

static ssize_t control_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char buf[16];
	int cmd, ret = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	cmd = sysfs_match_string(control_names, buf);
	if (cmd < 0)
		return -EINVAL;

	mutex_lock(&greedy_lock);
	switch (cmd) {
	case 0:
		ret = storm_start();
		break;
	case 1:
		storm_mark();
		break;
	case 2:
		storm_stop();
		pr_info("storm stopped, %lu pages held\n", greedy_held());
		break;
	default:
		greedy_leak = true;
		break;
	}
	mutex_unlock(&greedy_lock);
	return ret ? ret : len;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.write = control_write,
};

static int results_show(struct seq_file *m, void *unused)
{
	unsigned long gets = 0, nulls = 0, overflow = 0, bad = 0, wrong = 0;
	const struct greedy_cpu *g;
	unsigned int cpu, drained = 0;

	for_each_possible_cpu(cpu) {
		g = per_cpu_ptr(greedy_cpus, cpu);
		gets += READ_ONCE(g->gets);
		nulls += READ_ONCE(g->nulls);
		overflow += READ_ONCE(g->overflow);
		bad += READ_ONCE(g->not_hardirq);
		wrong += READ_ONCE(g->wrong_cpu);
	}
	mutex_lock(&greedy_lock);
	for_each_cpu(cpu, &greedy_storm_cpus)
		drained += READ_ONCE(per_cpu_ptr(greedy_cpus, cpu)->drained);
	seq_printf(m, "storming %d\n", READ_ONCE(greedy_storming));
	seq_printf(m, "cpus %u\n", cpumask_weight(&greedy_storm_cpus));
	seq_printf(m, "drained_cpus %u\n", drained);
	seq_printf(m, "held %lu\n", greedy_held());
	seq_printf(m, "gets %lu\nnulls %lu\noverflow %lu\n", gets, nulls,
		   overflow);
	seq_printf(m, "not_hardirq %lu\nwrong_cpu %lu\n", bad, wrong);
	for_each_cpu(cpu, &greedy_storm_cpus) {
		g = per_cpu_ptr(greedy_cpus, cpu);
		seq_printf(m, "held_cpu%u %u\n", cpu, READ_ONCE(g->held));
		seq_printf(m, "ticks_cpu%u %lu\n", cpu, READ_ONCE(g->ticks));
		seq_printf(m, "nulls_since_mark_cpu%u %lu\n", cpu,
			   READ_ONCE(g->nulls) - READ_ONCE(g->nulls_mark));
	}
	mutex_unlock(&greedy_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

/* Give back every page held, to the reserve (destroyed or not). */
static void give_back_all(void)
{
	struct greedy_cpu *g;
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		g = per_cpu_ptr(greedy_cpus, cpu);
		for (i = 0; i < g->held; i++)
			labyrinth_reserve_put(greedy_reserve, g->pages[i]);
		g->held = 0;
	}
}

static void greedy_free(void)
{
	kvfree(greedy_pages_all);
	free_percpu(greedy_cpus);
}

/* Everything the storm needs, allocated now: it must allocate nothing. */
static int greedy_alloc(void)
{
	struct greedy_cpu *g;
	unsigned int cpu;

	greedy_slice = greedy_pages * num_possible_cpus();
	greedy_cpus = alloc_percpu(struct greedy_cpu);
	greedy_pages_all = kvcalloc((size_t)greedy_slice * 2 * nr_cpu_ids,
				    sizeof(*greedy_pages_all), GFP_KERNEL);
	if (!greedy_cpus || !greedy_pages_all) {
		greedy_free();
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		g = per_cpu_ptr(greedy_cpus, cpu);
		g->cpu = cpu;
		g->pages = greedy_pages_all + (size_t)cpu * 2 * greedy_slice;
		g->spill = g->pages + greedy_slice;
		lab_hrtimer_setup(&g->timer, storm_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_HARD);
	}
	return 0;
}

static int __init greedy_init(void)
{
	int ret;

	ret = greedy_alloc();
	if (ret)
		return ret;
	greedy_reserve = labyrinth_reserve_create("greedy", greedy_pages,
						  greedy_fallback ? 0 :
						  LABYRINTH_NO_FALLBACK);
	if (IS_ERR(greedy_reserve)) {
		ret = PTR_ERR(greedy_reserve);
		greedy_free();
		return ret;
	}
	/* debugfs failures are not fatal and need no checking */
	greedy_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0200, greedy_debugfs, NULL,
			    &control_fops);
	debugfs_create_file("results", 0400, greedy_debugfs, NULL,
			    &results_fops);
	pr_info("reserve greedy: %u pages per CPU, fallback %s\n",
		greedy_pages, str_on_off(greedy_fallback));
	return 0;
}
module_init(greedy_init);

static void __exit greedy_exit(void)
{
	unsigned long held;

	debugfs_remove_recursive(greedy_debugfs);
	storm_stop();
	held = greedy_held();
	if (greedy_leak) {
		pr_info("destroying reserve greedy with %lu pages held\n", held);
		labyrinth_reserve_destroy(greedy_reserve);
		give_back_all();
	} else {
		give_back_all();
		labyrinth_reserve_destroy(greedy_reserve);
	}
	greedy_free();
}
module_exit(greedy_exit);

MODULE_DESCRIPTION("labyrinth test client: empties its named reserve in hard-IRQ context on every CPU and keeps asking");
MODULE_LICENSE("GPL");

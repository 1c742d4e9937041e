// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_tenant - a client that counts on its own named reserve, for the
 * test of isolation between reserves (labyrinth_greedy empties another).
 *
 * At load it creates the reserve "tenant" of "pages_per_cpu" pages per
 * CPU, with the fallback on, as an ordinary client would.  Writes to
 * /sys/kernel/debug/labyrinth_tenant/run:
 *
 *   hardirq	every online CPU, all at once, in a pinned hard-IRQ hrtimer,
 *		takes pages_per_cpu pages with labyrinth_reserve_get(); once
 *		every CPU is done each asks for one page more (with the page
 *		allocator failing, and the whole reserve taken, that one
 *		must be NULL).
 *   nmi	every online CPU, all at once, takes pages in NMI (its timer
 *		sends itself one) until labyrinth_reserve_get() returns NULL:
 *		an NMI takes no lock and never calls the page allocator, so
 *		it gets what its CPU's pool keeps within its reach (see
 *		labyrinth.h), not the whole pool.
 *
 * Before each part the pools are brought to capacity and their refill
 * workers run (labyrinth_reserve_resize() to the same size).  After it the
 * pages served twice are counted, and each CPU gives back, in hard-IRQ
 * context, the pages it took: the pools return to the level they had.
 * The take allocates nothing: its arrays are allocated at load.  The
 * write fails if the resize did, or if some CPU never reached the take.
 *
 * /sys/kernel/debug/labyrinth_tenant/results has "name value" lines for
 * the last run of each part: hardirq_taken_cpuN, hardirq_beyond_cpuN (the
 * extra page was served), nmi_taken_cpuN, and per part the CPUs that ran
 * in the wrong context, whether all ran at once, and the pages served
 * twice.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"
#include "labyrinth_test.h"

#define BARRIER_MS	2000	/* for every CPU to reach a meeting point */

enum tenant_part { PART_HARDIRQ, PART_NMI, NR_PARTS };

static const char * const part_names[NR_PARTS] = {
	[PART_HARDIRQ]	= "hardirq",
	[PART_NMI]	= "nmi",
};

/**
 * struct tenant_cpu - one CPU's part of a run
 * @timer: the pinned hard-IRQ timer that takes the pages
 * @pages: the pages taken, room for pages_per_cpu + 1
 * @taken: entries used in @pages
 * @extra: the hardirq part's page beyond pages_per_cpu, or NULL
 * @taken_last: @taken of the last run of each part
 * @beyond_last: the last hardirq part's @extra was served
 * @right_context: the take ran in hard-IRQ context (in NMI, for nmi)
 * @together: every CPU reached each meeting point within BARRIER_MS
 * @in_nmi: the take is for this CPU's NMI handler to make
 */
struct tenant_cpu {
	struct hrtimer timer;
	struct page **pages;
	unsigned int taken;
	struct page *extra;
	unsigned int taken_last[NR_PARTS];
	bool beyond_last;
	bool right_context;
	bool together;
	bool in_nmi;
};

/* What the last run of a part found; under tenant_lock. */
struct tenant_result {
	struct cpumask cpus;
	unsigned int runs;
	unsigned int wrong_context;
	unsigned long duplicates;
	bool together;
	int resize_err;
};

static unsigned int tenant_pages = 64;

static struct labyrinth_reserve *tenant_reserve;
static struct tenant_cpu __percpu *tenant_cpus;
static struct page **tenant_pages_all;
static unsigned long *tenant_pfns;
static unsigned int tenant_slice;	/* entries of each CPU's @pages */
static int tenant_part_now;
static unsigned int tenant_wanted;	/* CPUs each meeting point waits for */
static atomic_t tenant_arrived[2];	/* at each meeting point */
static atomic_t tenant_pending;
static DECLARE_COMPLETION(tenant_done);
static DEFINE_MUTEX(tenant_lock);
static struct tenant_result tenant_last[NR_PARTS];

static struct dentry *tenant_debugfs;

static int set_pages(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 16384);
}

static const struct kernel_param_ops pages_ops = {
	.set = set_pages,
	.get = param_get_uint,
};

module_param_cb(pages_per_cpu, &pages_ops, &tenant_pages, 0444);
MODULE_PARM_DESC(pages_per_cpu,
		 "Pages per CPU of the reserve \"tenant\" (default 64; 1..16384)");

/*
 * Spin, interrupts off, until tenant_wanted CPUs arrived at meeting point
 * @i or BARRIER_MS passed.  Return: whether all arrived.
 */
static bool wait_for_all(unsigned int i)
{
	ktime_t deadline = ktime_add_ms(ktime_get(), BARRIER_MS);

	atomic_inc(&tenant_arrived[i]);
	while (atomic_read(&tenant_arrived[i]) < READ_ONCE(tenant_wanted)) {
		if (ktime_after(ktime_get(), deadline))
			return false;
		cpu_relax();
	}
	return true;
}

/* Take up to @nr pages. */
static void take(struct tenant_cpu *t, unsigned int nr)
{
	struct page *page;

	while (t->taken < nr &&
	       (page = labyrinth_reserve_get(tenant_reserve)))
		t->pages[t->taken++] = page;
}

/* The nmi part: the take, in the NMI its CPU's timer sends itself. */
static int tenant_nmi(unsigned int type, struct pt_regs *regs)
{
	struct tenant_cpu *t = this_cpu_ptr(tenant_cpus);

	if (!READ_ONCE(t->in_nmi))
		return NMI_DONE;
	t->right_context = in_nmi();
	take(t, tenant_slice);
	WRITE_ONCE(t->in_nmi, false);
	return NMI_HANDLED;
}

/* Have this CPU's NMI handler take the pages, and wait for it. */
static void take_in_nmi(struct tenant_cpu *t)
{
	ktime_t deadline;

	WRITE_ONCE(t->in_nmi, true);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	deadline = ktime_add_ms(ktime_get(), BARRIER_MS);
	while (READ_ONCE(t->in_nmi) && ktime_before(ktime_get(), deadline))
		cpu_relax();
	WRITE_ONCE(t->in_nmi, false);
}

static enum hrtimer_restart tenant_fn(struct hrtimer *timer)
{
	struct tenant_cpu *t = container_of(timer, struct tenant_cpu, timer);

	t->right_context = in_hardirq();
	t->together = wait_for_all(0);
	if (tenant_part_now == PART_NMI) {
		t->right_context = false;
		take_in_nmi(t);
	} else {
		take(t, tenant_pages);
		t->together &= wait_for_all(1);
		t->extra = labyrinth_reserve_get(tenant_reserve);
	}
	if (atomic_dec_and_test(&tenant_pending))
		complete(&tenant_done);
	return HRTIMER_NORESTART;
}

/* Runs on each CPU of the run: a pinned timer stays on its CPU. */
static void arm_timer(void *unused)
{
	hrtimer_start(&this_cpu_ptr(tenant_cpus)->timer,
		      ns_to_ktime(10 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/* Each CPU gives back what it took, in hard-IRQ context (an IPI). */
static void give_back(void *unused)
{
	struct tenant_cpu *t = this_cpu_ptr(tenant_cpus);
	unsigned int i;

	for (i = 0; i < t->taken; i++)
		labyrinth_reserve_put(tenant_reserve, t->pages[i]);
	labyrinth_reserve_put(tenant_reserve, t->extra);
	t->taken = 0;
	t->extra = NULL;
}

static void forget(void *unused)
{
	struct tenant_cpu *t = this_cpu_ptr(tenant_cpus);

	t->taken = 0;
	t->extra = NULL;
}

/* Make every CPU of @cpus take pages, all at once. */
static void take_on(const struct cpumask *cpus)
{
	unsigned int cpu;

	atomic_set(&tenant_arrived[0], 0);
	atomic_set(&tenant_arrived[1], 0);
	atomic_set(&tenant_pending, cpumask_weight(cpus));
	WRITE_ONCE(tenant_wanted, cpumask_weight(cpus));
	reinit_completion(&tenant_done);
	/* The IPIs order the writes above before the timers run. */
	on_each_cpu_mask(cpus, arm_timer, NULL, true);
	wait_for_completion(&tenant_done);
	/* Wait for the last callback to return. */
	for_each_cpu(cpu, cpus)
		hrtimer_cancel(&per_cpu_ptr(tenant_cpus, cpu)->timer);
}

static int cmp_pfn(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Record what the CPUs of @r took and count the pages served twice. */
static void count(struct tenant_result *r, int part)
{
	struct tenant_cpu *t;
	unsigned long i, nr = 0;
	unsigned int cpu;

	r->together = true;
	for_each_cpu(cpu, &r->cpus) {
		t = per_cpu_ptr(tenant_cpus, cpu);
		r->together &= t->together;
		r->wrong_context += !t->right_context;
		t->taken_last[part] = t->taken;
		if (part == PART_HARDIRQ)
			t->beyond_last = t->extra;
		for (i = 0; i < t->taken; i++)
			tenant_pfns[nr++] = page_to_pfn(t->pages[i]);
		if (t->extra)
			tenant_pfns[nr++] = page_to_pfn(t->extra);
	}
	sort(tenant_pfns, nr, sizeof(*tenant_pfns), cmp_pfn, NULL);
	for (i = 1; i < nr; i++)
		r->duplicates += tenant_pfns[i] == tenant_pfns[i - 1];
}

static int run_part(int part)
{
	struct tenant_result *r = &tenant_last[part];
	int ret;

	memset(r, 0, sizeof(*r));
	r->runs = 1;
	/* Pools at capacity, their workers run: hot[] and the NMI share full. */
	ret = labyrinth_reserve_resize(tenant_reserve, tenant_pages);
	r->resize_err = ret;
	if (ret)
		return ret;
	tenant_part_now = part;
	cpus_read_lock();
	cpumask_copy(&r->cpus, cpu_online_mask);
	take_on(&r->cpus);
	count(r, part);
	/*
	 * A page served twice would be given back twice: then every page
	 * stays out, and unload reports them.
	 */
	on_each_cpu_mask(&r->cpus, r->duplicates ? forget : give_back, NULL,
			 true);
	cpus_read_unlock();
	pr_info("%s: %u CPUs, %lu pages served twice%s%s\n", part_names[part],
		cpumask_weight(&r->cpus), r->duplicates,
		r->together ? "" : ", not all at once",
		r->wrong_context ? ", some in the wrong context" : "");
	return r->together ? 0 : -ETIMEDOUT;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	char buf[16];
	int part, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	part = sysfs_match_string(part_names, buf);
	if (part < 0)
		return -EINVAL;

	mutex_lock(&tenant_lock);
	ret = run_part(part);
	mutex_unlock(&tenant_lock);
	return ret ? ret : len;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static void show_part(struct seq_file *m, int part)
{
	const struct tenant_result *r = &tenant_last[part];
	const struct tenant_cpu *t;
	const char *name = part_names[part];
	unsigned int cpu;

	seq_printf(m, "%s_runs %u\n", name, r->runs);
	seq_printf(m, "%s_cpus %u\n", name, cpumask_weight(&r->cpus));
	seq_printf(m, "%s_resize_err %d\n", name, r->resize_err);
	seq_printf(m, "%s_together %d\n", name, r->together);
	seq_printf(m, "%s_wrong_context %u\n", name, r->wrong_context);
	seq_printf(m, "%s_duplicates %lu\n", name, r->duplicates);
	for_each_cpu(cpu, &r->cpus) {
		t = per_cpu_ptr(tenant_cpus, cpu);
		seq_printf(m, "%s_taken_cpu%u %u\n", name, cpu,
			   t->taken_last[part]);
		if (part == PART_HARDIRQ)
			seq_printf(m, "%s_beyond_cpu%u %d\n", name, cpu,
				   t->beyond_last);
	}
}

static int results_show(struct seq_file *m, void *unused)
{
	mutex_lock(&tenant_lock);
	seq_printf(m, "pages_per_cpu %u\n", tenant_pages);
	show_part(m, PART_HARDIRQ);
	show_part(m, PART_NMI);
	mutex_unlock(&tenant_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static void tenant_free(void)
{
	kvfree(tenant_pfns);
	kvfree(tenant_pages_all);
	free_percpu(tenant_cpus);
}

/* Everything the take needs, allocated now: it must allocate nothing. */
static int tenant_alloc(void)
{
	struct tenant_cpu *t;
	unsigned int cpu;

	tenant_slice = tenant_pages + 1;
	tenant_cpus = alloc_percpu(struct tenant_cpu);
	tenant_pages_all = kvcalloc((size_t)tenant_slice * nr_cpu_ids,
				    sizeof(*tenant_pages_all), GFP_KERNEL);
	tenant_pfns = kvcalloc((size_t)(tenant_slice + 1) * nr_cpu_ids,
			       sizeof(*tenant_pfns), GFP_KERNEL);
	if (!tenant_cpus || !tenant_pages_all || !tenant_pfns) {
		tenant_free();
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		t = per_cpu_ptr(tenant_cpus, cpu);
		t->pages = tenant_pages_all + (size_t)cpu * tenant_slice;
		lab_hrtimer_setup(&t->timer, tenant_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_HARD);
	}
	return 0;
}

static int __init tenant_init(void)
{
	int ret;

	ret = tenant_alloc();
	if (ret)
		return ret;
	tenant_reserve = labyrinth_reserve_create("tenant", tenant_pages, 0);
	if (IS_ERR(tenant_reserve)) {
		ret = PTR_ERR(tenant_reserve);
		goto err_free;
	}
	ret = register_nmi_handler(NMI_LOCAL, tenant_nmi, 0, KBUILD_MODNAME);
	if (ret)
		goto err_destroy;
	/* debugfs failures are not fatal and need no checking */
	tenant_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("run", 0200, tenant_debugfs, NULL, &run_fops);
	debugfs_create_file("results", 0400, tenant_debugfs, NULL,
			    &results_fops);
	pr_info("reserve tenant: %u pages per CPU\n", tenant_pages);
	return 0;

err_destroy:
	labyrinth_reserve_destroy(tenant_reserve);
err_free:
	tenant_free();
	return ret;
}
module_init(tenant_init);

static void __exit tenant_exit(void)
{
	debugfs_remove_recursive(tenant_debugfs);
	unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
	labyrinth_reserve_destroy(tenant_reserve);
	tenant_free();
}
module_exit(tenant_exit);

MODULE_DESCRIPTION("labyrinth test client: takes its whole named reserve in hard-IRQ context and what NMI may take, on every CPU");
MODULE_LICENSE("GPL");

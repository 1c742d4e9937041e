// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_stress - labyrinth from every context at once, and a proof of
 * its guarantee.
 *
 * mode=stress (the default) runs for "duration_ms".  Every online CPU runs
 * four users of the reserves: a pinned hard-IRQ hrtimer, a pinned softirq
 * hrtimer, a kthread bound to the CPU and an NMI handler.  Each of them,
 * every "interval_us", takes "batch" pages, keeps every other one and hands
 * the rest to the next CPU's inbox; it gives a kept page back once it holds
 * STRESS_HOLD newer ones.  The softirq timer, the kthread and the NMI
 * handler give back the pages in their CPU's inbox, so many pages are
 * returned on another CPU, in another context, than they were taken in.  A
 * CPU hotplug state starts the users on a CPU that comes online and stops
 * them, giving back every page they hold, on a CPU that goes down.
 *
 * The pages come from four reserves in turn: labyrinth's default one
 * (labyrinth_get()) and three named reserves the module creates at load,
 * of different sizes, one of them with LABYRINTH_NO_FALLBACK.  Every page
 * goes back to the reserve that served it: a kept page's slot and every
 * inbox are per reserve.  Writing "grow" to
 * /sys/kernel/debug/labyrinth_stress/resize resizes every named reserve to
 * twice its size at load, "shrink" to half of it; the reserves are
 * destroyed at unload.
 *
 * Every page is tagged while held: a magic number, the context that took it
 * (its owner), a sequence number, a check word, and a byte pattern over the
 * rest of the page.  A served page already carrying the magic is a double
 * serve; one that is not zero although the kernel runs with init_on_alloc
 * or init_on_free is a dirty serve; a tag that does not match on return is
 * a corruption.  The tag is cleared before the page goes back.
 *
 * At the end the users are stopped, every page is given back and the
 * counters are in /sys/kernel/debug/labyrinth_stress/results, one
 * "name value" pair per line.
 *
 * mode=guarantee proves the reserve guarantee.  The module loads and waits:
 * the page allocator must be made to fail every request (fail_page_alloc)
 * only after the load, which needs memory.  Writing "all" to
 * /sys/kernel/debug/labyrinth_stress/guarantee makes every online CPU take
 * pages in hard-IRQ context, all at once, until labyrinth_get() returns
 * NULL; "alone" makes CPU 0 do so while the others stay idle.  Both record
 * the pages taken, "reserve" (labyrinth's pages_per_cpu) times the CPUs
 * that took part, and the pages served twice, then give every page back.
 * The take allocates nothing: its arrays are allocated at load.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kstrtox.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"
#include "labyrinth_test.h"

#define STRESS_MAGIC	0x4c616273	/* in the tag of every held page */
#define STRESS_HOLD	8		/* pages a context keeps at most */
#define STRESS_NR_RES	4		/* the default reserve, three named */
#define RES_DEFAULT	0		/* stress_reserves[] of labyrinth_get() */
#define BARRIER_MS	2000		/* for every CPU to reach the start */

enum stress_mode { MODE_STRESS, MODE_GUARANTEE };

static const char * const mode_names[] = {
	[MODE_STRESS]		= "stress",
	[MODE_GUARANTEE]	= "guarantee",
};

enum guarantee_part { PART_ALL, PART_ALONE, PART_NMI };

static const char * const part_names[] = {
	[PART_ALL]	= "all",
	[PART_ALONE]	= "alone",
	[PART_NMI]	= "nmi",
};

/*
 * The four users of each CPU, and the drain, which gives back the pages of
 * users that have stopped.
 */
enum stress_ctx_id {
	CTX_HARDIRQ,
	CTX_SOFTIRQ,
	CTX_PROCESS,
	CTX_NMI,
	NR_USERS,
	CTX_DRAIN = NR_USERS,
	NR_CTX
};

static const char * const ctx_names[NR_CTX] = {
	[CTX_HARDIRQ]	= "hardirq",
	[CTX_SOFTIRQ]	= "softirq",
	[CTX_PROCESS]	= "process",
	[CTX_NMI]	= "nmi",
	[CTX_DRAIN]	= "drain",
};

enum stress_count {
	N_GETS,			/* pages taken */
	N_PUTS,			/* pages given back */
	N_FAILURES,		/* labyrinth_get() returned NULL */
	N_DOUBLE_SERVES,	/* served while tagged as held */
	N_CORRUPTED,		/* tag changed while held */
	N_DIRTY_SERVED,		/* served not zeroed under init_on_alloc/free */
	N_WRONG_CONTEXT,	/* a timer ran in the wrong context or CPU */
	N_CROSSED_CPUS,		/* given back on another CPU than taken on */
	NR_COUNTS
};

/* Gets, puts and failures are also counted per reserve. */
#define NR_RES_COUNTS	(N_FAILURES + 1)

static const char * const count_names[NR_COUNTS] = {
	[N_GETS]		= "gets",
	[N_PUTS]		= "puts",
	[N_FAILURES]		= "failures",
	[N_DOUBLE_SERVES]	= "double_serves",
	[N_CORRUPTED]		= "corrupted",
	[N_DIRTY_SERVED]	= "dirty_served",
	[N_WRONG_CONTEXT]	= "wrong_context",
	[N_CROSSED_CPUS]	= "crossed_cpus",
};

/* The first bytes of a held page. */
struct stress_tag {
	struct llist_node node;	/* link in another CPU's inbox */
	u32 magic;		/* STRESS_MAGIC while held */
	u32 owner;		/* cpu * NR_USERS + user that took the page */
	u32 seq;		/* pages that context took before this one */
	u32 check;		/* tag_check(owner, seq) */
	u32 res;		/* the reserve that served it */
	u8 fill[];		/* every byte is pattern(owner, seq) */
};

#define FILL_BYTES	(PAGE_SIZE - offsetof(struct stress_tag, fill))

/*
 * One user of the reserve.  Only that user writes its fields: a timer
 * callback never runs concurrently with itself, a kthread is one task, and
 * the drain runs only under the CPU hotplug state's serialisation or after
 * it is removed.  Readers use READ_ONCE() and may see a count in flight.
 */
struct stress_ctx {
	unsigned long n[NR_COUNTS];
	unsigned long res_n[STRESS_NR_RES][NR_RES_COUNTS];
	u32 owner;
	unsigned int turn;			/* gets tried: see next_res() */
	unsigned int next_slot;
	struct page *slots[STRESS_HOLD];	/* kept pages, oldest at next_slot */
	u8 slot_res[STRESS_HOLD];		/* the reserve of each */
};

/**
 * struct stress_reserve - a reserve the users take pages from
 * @name: its name; "default" for labyrinth's own
 * @pages: pages per CPU it is created with (0: the default reserve)
 * @flags: labyrinth_reserve_create() flags
 * @r: the named reserve, or NULL: labyrinth_get() and labyrinth_put()
 */
struct stress_reserve {
	const char *name;
	unsigned int pages;
	unsigned int flags;
	struct labyrinth_reserve *r;
};

static struct stress_reserve stress_reserves[STRESS_NR_RES] = {
	[RES_DEFAULT] = { .name = "default" },
	{ .name = "stress0", .pages = 128 },
	{ .name = "stress1", .pages = 48 },
	{ .name = "stress2", .pages = 16, .flags = LABYRINTH_NO_FALLBACK },
};

/**
 * struct stress_cpu - the users of one CPU
 * @ctx: the users' counters and kept pages
 * @hard: the hard-IRQ user
 * @soft: the softirq user
 * @thread: the process-context user, while the CPU is online
 * @inbox: pages other CPUs hand over, one list per reserve, given back
 *	by @soft, @thread and the NMI user
 * @held: pages the users of this CPU took and nobody gave back yet
 * @peak_held: highest @held seen (racy maximum: a statistic)
 * @nmi_sent: NMIs sent to this CPU that its NMI user has not seen yet
 * @cpu: the CPU
 */
struct stress_cpu {
	struct stress_ctx ctx[NR_USERS];
	struct hrtimer hard;
	struct hrtimer soft;
	struct task_struct *thread;
	struct llist_head inbox[STRESS_NR_RES];
	atomic_long_t held;
	long peak_held;
	atomic_t nmi_sent;
	unsigned int cpu;
};

/**
 * struct guarantee_cpu - one CPU's part of a guarantee run
 * @timer: the hard-IRQ timer that takes the pages
 * @pages: the pages taken, room for guarantee_slice
 * @taken: entries used in @pages
 * @hardirq: the take ran in hard-IRQ context (in NMI, for the nmi part)
 * @together: every CPU of the run reached the start before BARRIER_MS
 * @in_nmi: the take is for this CPU's NMI handler to make
 */
struct guarantee_cpu {
	struct hrtimer timer;
	struct page **pages;
	unsigned int taken;
	bool hardirq;
	bool together;
	bool in_nmi;
};

/* What the last guarantee run found; under guarantee_lock. */
struct guarantee_result {
	int part;
	struct cpumask cpus;
	unsigned long taken;
	unsigned long expected;
	unsigned long duplicates;
	unsigned int not_hardirq;
	bool together;
};

static int stress_mode;
static unsigned int stress_duration_ms = 10000;
static unsigned int stress_interval_us = 500;
static unsigned int stress_batch = 4;
static unsigned int stress_reserve = 128;
static bool stress_wait = true;

static struct stress_cpu __percpu *stress_cpus;
static bool stress_nmi_on;		/* the NMI handler is registered */
static struct stress_ctx stress_drain;
static struct cpumask stress_active;	/* CPUs whose users run */
static enum cpuhp_state stress_hp_state;
static ktime_t stress_period;
static unsigned int stress_nr_cpus;
static bool stress_running;
static DECLARE_COMPLETION(stress_done);

static void finish_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(stress_finish, finish_fn);

static struct guarantee_cpu __percpu *guarantee_cpus;
static struct page **guarantee_pages;
static unsigned long *guarantee_pfns;
static unsigned int guarantee_slice;	/* pages one CPU may take at most */
static unsigned int guarantee_wanted;	/* CPUs the start waits for */
static atomic_t guarantee_arrived;
static atomic_t guarantee_pending;
static DECLARE_COMPLETION(guarantee_done);
static DEFINE_MUTEX(guarantee_lock);
static struct guarantee_result guarantee_last = { .part = -1 };
static int guarantee_part_now;

static struct dentry *stress_debugfs;
static DEFINE_MUTEX(stress_resize_lock);

static int set_duration(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 3600 * MSEC_PER_SEC);
}

/* Below 50 us the hard-IRQ user starves its CPU. */
static int set_interval(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 50, USEC_PER_SEC);
}

static int set_batch(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 2 * STRESS_HOLD);
}

/* labyrinth's bound on pages_per_cpu. */
static int set_reserve(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 16384);
}

static int set_mode(const char *val, const struct kernel_param *kp)
{
	int len = strcspn(val, "\n");
	int mode = sysfs_match_string(mode_names, val);

	if (mode < 0) {
		pr_err("mode='%.*s' rejected: expected stress or guarantee\n",
		       len, val);
		return -EINVAL;
	}
	*(int *)kp->arg = mode;
	return 0;
}

static int get_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mode_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops duration_ops = {
	.set = set_duration,
	.get = param_get_uint,
};

static const struct kernel_param_ops interval_ops = {
	.set = set_interval,
	.get = param_get_uint,
};

static const struct kernel_param_ops batch_ops = {
	.set = set_batch,
	.get = param_get_uint,
};

static const struct kernel_param_ops reserve_ops = {
	.set = set_reserve,
	.get = param_get_uint,
};

static const struct kernel_param_ops mode_ops = {
	.set = set_mode,
	.get = get_mode,
};

module_param_cb(mode, &mode_ops, &stress_mode, 0444);
MODULE_PARM_DESC(mode, "stress (default) or guarantee");
module_param_cb(duration_ms, &duration_ops, &stress_duration_ms, 0444);
MODULE_PARM_DESC(duration_ms,
		 "Length of the stress run in milliseconds (default 10000; 1..3600000)");
module_param_cb(interval_us, &interval_ops, &stress_interval_us, 0444);
MODULE_PARM_DESC(interval_us,
		 "Period of each user in microseconds (default 500; 50..1000000)");
module_param_cb(batch, &batch_ops, &stress_batch, 0444);
MODULE_PARM_DESC(batch, "Pages each user takes per period (default 4; 1..16)");
module_param_cb(reserve, &reserve_ops, &stress_reserve, 0444);
MODULE_PARM_DESC(reserve,
		 "guarantee: labyrinth's pages_per_cpu (default 128; 1..16384)");
module_param_named(wait, stress_wait, bool, 0444);
MODULE_PARM_DESC(wait, "stress: load returns only after the run (default 1)");

/* Single-writer counter; see struct stress_ctx. */
static void bump(struct stress_ctx *x, enum stress_count i)
{
	WRITE_ONCE(x->n[i], x->n[i] + 1);
}

/* Count @i (gets, puts or failures) for @x and for reserve @res. */
static void bump_res(struct stress_ctx *x, unsigned int res,
		     enum stress_count i)
{
	bump(x, i);
	WRITE_ONCE(x->res_n[res][i], x->res_n[res][i] + 1);
}

static struct page *res_get(unsigned int res)
{
	struct labyrinth_reserve *r = stress_reserves[res].r;

	return r ? labyrinth_reserve_get(r) : labyrinth_get();
}

static void res_put(unsigned int res, struct page *page)
{
	struct labyrinth_reserve *r = stress_reserves[res].r;

	if (r)
		labyrinth_reserve_put(r, page);
	else
		labyrinth_put(page);
}

/*
 * The reserve of @x's next get: each serves two gets in a row, in turn, so
 * that (no get failing) it has one page kept and one handed over.
 */
static unsigned int next_res(struct stress_ctx *x)
{
	return x->turn++ / 2 % STRESS_NR_RES;
}

static u32 tag_check(u32 owner, u32 seq)
{
	return (owner * 0x9e3779b1) ^ seq ^ STRESS_MAGIC;
}

/* Never zero, so that a page left as its user filled it is not clean. */
static u8 pattern(u32 owner, u32 seq)
{
	return ((owner * 37 + seq) & 0x7f) | 0x80;
}

/* Whether labyrinth must serve zeroed pages: see labyrinth.h. */
static bool served_zeroed(void)
{
	return want_init_on_alloc(0) || want_init_on_free();
}

static struct stress_cpu *owner_cpu(u32 owner)
{
	return per_cpu_ptr(stress_cpus, owner / NR_USERS);
}

/* Count @page as held by @s; keep a rough maximum. */
static void note_held(struct stress_cpu *s)
{
	long held = atomic_long_inc_return(&s->held);

	if (held > READ_ONCE(s->peak_held))
		WRITE_ONCE(s->peak_held, held);
}

/*
 * Count a violation, and say it at once: a page served twice soon corrupts
 * the kernel's lists, and the run may not live to show its counters.
 */
static void report(struct stress_ctx *x, enum stress_count i,
		   struct page *page, const struct stress_tag *t,
		   unsigned int res)
{
	const char *at = x == &stress_drain ? ctx_names[CTX_DRAIN] :
					      ctx_names[x->owner % NR_USERS];

	bump(x, i);
	pr_err_ratelimited("%s: pfn %#lx of reserve %s, tag owner %u seq %u reserve %u, found by %s on cpu%u\n",
			   count_names[i], page_to_pfn(page),
			   stress_reserves[res].name, t->owner, t->seq, t->res,
			   at, raw_smp_processor_id());
}

/* Check a page reserve @res just served to @x, then tag it as held by @x. */
static void tag_page(struct stress_ctx *x, struct page *page,
		     unsigned int res)
{
	struct stress_tag *t = page_address(page);

	if (t->magic == STRESS_MAGIC)
		report(x, N_DOUBLE_SERVES, page, t, res);
	else if (served_zeroed() && memchr_inv(t, 0, PAGE_SIZE))
		report(x, N_DIRTY_SERVED, page, t, res);
	t->magic = STRESS_MAGIC;
	t->owner = x->owner;
	t->seq = x->n[N_GETS];
	t->check = tag_check(t->owner, t->seq);
	t->res = res;
	memset(t->fill, pattern(t->owner, t->seq), FILL_BYTES);
}

/* The tag is as a user put it on a page reserve @res served. */
static bool tag_intact(const struct stress_tag *t, unsigned int res)
{
	return t->magic == STRESS_MAGIC &&
	       t->owner / NR_USERS < nr_cpu_ids &&
	       t->check == tag_check(t->owner, t->seq) &&
	       t->res == res &&
	       !memchr_inv(t->fill, pattern(t->owner, t->seq), FILL_BYTES);
}

static struct page *take(struct stress_cpu *s, struct stress_ctx *x,
			 unsigned int res)
{
	struct page *page = res_get(res);

	if (!page) {
		bump_res(x, res, N_FAILURES);
		return NULL;
	}
	tag_page(x, page, res);
	bump_res(x, res, N_GETS);
	note_held(s);
	return page;
}

/*
 * Check @page's tag, clear it and give the page back, as @x, to reserve
 * @res, which served it.
 */
static void give_back(struct stress_ctx *x, struct page *page,
		      unsigned int res)
{
	struct stress_tag *t = page_address(page);

	if (tag_intact(t, res)) {
		atomic_long_dec(&owner_cpu(t->owner)->held);
		if (owner_cpu(t->owner)->cpu != raw_smp_processor_id())
			bump(x, N_CROSSED_CPUS);
	} else {
		report(x, N_CORRUPTED, page, t, res);
	}
	memset(t, 0, sizeof(*t));
	res_put(res, page);
	bump_res(x, res, N_PUTS);
}

/*
 * Keep @page, of reserve @res; give back the oldest kept page if @x holds
 * STRESS_HOLD.
 */
static void keep(struct stress_ctx *x, struct page *page, unsigned int res)
{
	unsigned int i = x->next_slot, old_res = x->slot_res[i];
	struct page *old = x->slots[i];

	x->slots[i] = page;
	x->slot_res[i] = res;
	x->next_slot = (i + 1) % STRESS_HOLD;
	if (old)
		give_back(x, old, old_res);
}

/* The next CPU whose users run after @cpu, wrapping; @cpu if none. */
static unsigned int next_cpu(unsigned int cpu)
{
	unsigned int next = cpumask_next(cpu, &stress_active);

	if (next >= nr_cpu_ids)
		next = cpumask_first(&stress_active);
	return next < nr_cpu_ids ? next : cpu;
}

/*
 * llist_add() is a full barrier (cmpxchg) and pairs with the xchg in
 * llist_del_all() in give_back_inbox(): the receiver sees the tag written
 * before the push.  The receiver polls its inbox; nothing needs waking.
 */
static void hand_over(struct stress_cpu *s, struct page *page,
		      unsigned int res)
{
	struct stress_cpu *to = per_cpu_ptr(stress_cpus, next_cpu(s->cpu));
	struct stress_tag *t = page_address(page);

	llist_add(&t->node, &to->inbox[res]);
}

/* One period of a user: take, hand every other page over, keep the rest. */
static void take_batch(struct stress_cpu *s, struct stress_ctx *x)
{
	unsigned int i, res;
	struct page *page;

	for (i = 0; i < stress_batch; i++) {
		res = next_res(x);
		page = take(s, x, res);
		if (!page)
			continue;
		if (x->n[N_GETS] % 2)
			hand_over(s, page, res);
		else
			keep(x, page, res);
	}
}

static void give_back_inbox(struct stress_cpu *s, struct stress_ctx *x)
{
	struct stress_tag *t, *next;
	struct llist_node *list;
	unsigned int res;

	for (res = 0; res < STRESS_NR_RES; res++) {
		list = llist_del_all(&s->inbox[res]);
		llist_for_each_entry_safe(t, next, list, node)
			give_back(x, virt_to_page(t), res);
	}
}

/* Make @cpu's NMI user run: an NMI, wherever @cpu is. */
static void send_nmi(unsigned int cpu)
{
	atomic_inc(&per_cpu_ptr(stress_cpus, cpu)->nmi_sent);
	apic->send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
}

static enum hrtimer_restart hard_fn(struct hrtimer *timer)
{
	struct stress_cpu *s = container_of(timer, struct stress_cpu, hard);
	struct stress_ctx *x = &s->ctx[CTX_HARDIRQ];

	if (!in_hardirq() || smp_processor_id() != s->cpu)
		bump(x, N_WRONG_CONTEXT);
	take_batch(s, x);
	if (READ_ONCE(stress_nmi_on))
		send_nmi(next_cpu(s->cpu));
	hrtimer_forward_now(timer, stress_period);
	return HRTIMER_RESTART;
}

/*
 * The NMI user: the NMIs the hard-IRQ user of the previous CPU sends land
 * wherever this CPU is, in the other users' gets and puts included.  A CPU
 * going down clears its bit in stress_active before it gives back what its
 * users hold, and an NMI on it runs before or after that, never during.
 */
static int stress_nmi(unsigned int type, struct pt_regs *regs)
{
	struct stress_cpu *s = this_cpu_ptr(stress_cpus);
	struct stress_ctx *x = &s->ctx[CTX_NMI];

	if (atomic_dec_if_positive(&s->nmi_sent) < 0)
		return NMI_DONE;
	if (!cpumask_test_cpu(s->cpu, &stress_active))
		return NMI_HANDLED;
	if (!in_nmi())
		bump(x, N_WRONG_CONTEXT);
	take_batch(s, x);
	give_back_inbox(s, x);
	return NMI_HANDLED;
}

static enum hrtimer_restart soft_fn(struct hrtimer *timer)
{
	struct stress_cpu *s = container_of(timer, struct stress_cpu, soft);
	struct stress_ctx *x = &s->ctx[CTX_SOFTIRQ];

	if (in_hardirq() || !in_serving_softirq() ||
	    smp_processor_id() != s->cpu)
		bump(x, N_WRONG_CONTEXT);
	take_batch(s, x);
	give_back_inbox(s, x);
	hrtimer_forward_now(timer, stress_period);
	return HRTIMER_RESTART;
}

static int thread_fn(void *arg)
{
	struct stress_cpu *s = arg;
	struct stress_ctx *x = &s->ctx[CTX_PROCESS];

	while (!kthread_should_stop()) {
		take_batch(s, x);
		give_back_inbox(s, x);
		usleep_range(stress_interval_us, 2 * stress_interval_us);
	}
	return 0;
}

/* Give back what @s's stopped users hold and its inbox, as the drain. */
static void give_back_all(struct stress_cpu *s)
{
	struct stress_ctx *x;
	unsigned int i;

	for (x = s->ctx; x < s->ctx + NR_USERS; x++) {
		for (i = 0; i < STRESS_HOLD; i++) {
			if (x->slots[i])
				give_back(&stress_drain, x->slots[i],
					  x->slot_res[i]);
			x->slots[i] = NULL;
		}
	}
	give_back_inbox(s, &stress_drain);
}

/*
 * CPU hotplug, CPUHP_AP_ONLINE_DYN: runs on @cpu itself, in process
 * context, so the pinned timers start on @cpu.
 */
static int stress_cpu_online(unsigned int cpu)
{
	struct stress_cpu *s = per_cpu_ptr(stress_cpus, cpu);
	struct task_struct *t;

	t = kthread_create_on_cpu(thread_fn, s, cpu, "lab_stress/%u");
	if (IS_ERR(t))
		return PTR_ERR(t);
	s->thread = t;
	wake_up_process(t);
	hrtimer_start(&s->hard, stress_period, HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_start(&s->soft, stress_period, HRTIMER_MODE_REL_PINNED_SOFT);
	cpumask_set_cpu(cpu, &stress_active);
	return 0;
}

/*
 * Runs on @cpu before its timers would migrate.  Pages other CPUs hand
 * over after this wait in the inbox until @cpu comes back or the run ends.
 */
static int stress_cpu_offline(unsigned int cpu)
{
	struct stress_cpu *s = per_cpu_ptr(stress_cpus, cpu);

	cpumask_clear_cpu(cpu, &stress_active);
	hrtimer_cancel(&s->hard);
	hrtimer_cancel(&s->soft);
	kthread_stop(s->thread);
	s->thread = NULL;
	give_back_all(s);
	return 0;
}

static void add_counts(unsigned long *n, const struct stress_ctx *x)
{
	unsigned int i;

	for (i = 0; i < NR_COUNTS; i++)
		n[i] += READ_ONCE(x->n[i]);
}

/* Add the counters of user @id of every CPU, or of the drain, to @n. */
static void sum_ctx(enum stress_ctx_id id, unsigned long *n)
{
	unsigned int cpu;

	if (id == CTX_DRAIN) {
		add_counts(n, &stress_drain);
		return;
	}
	for_each_possible_cpu(cpu)
		add_counts(n, &per_cpu_ptr(stress_cpus, cpu)->ctx[id]);
}

static void sum_all(unsigned long *n)
{
	enum stress_ctx_id id;

	for (id = 0; id < NR_CTX; id++)
		sum_ctx(id, n);
}

static void add_res_counts(unsigned long (*n)[NR_RES_COUNTS],
			   const struct stress_ctx *x)
{
	unsigned int res, i;

	for (res = 0; res < STRESS_NR_RES; res++)
		for (i = 0; i < NR_RES_COUNTS; i++)
			n[res][i] += READ_ONCE(x->res_n[res][i]);
}

/* Add every user's and the drain's counts per reserve to @n. */
static void sum_res(unsigned long (*n)[NR_RES_COUNTS])
{
	enum stress_ctx_id id;
	unsigned int cpu;

	add_res_counts(n, &stress_drain);
	for_each_possible_cpu(cpu)
		for (id = 0; id < NR_USERS; id++)
			add_res_counts(n, &per_cpu_ptr(stress_cpus, cpu)->ctx[id]);
}

static void print_summary(void)
{
	unsigned long n[NR_CTX][NR_COUNTS] = { }, t[NR_COUNTS] = { };
	enum stress_ctx_id id;

	for (id = 0; id < NR_CTX; id++)
		sum_ctx(id, n[id]);
	sum_all(t);
	pr_info("%u CPUs, %u ms: ops hardirq %lu softirq %lu process %lu nmi %lu, failures %lu, double serves %lu, corrupted %lu, dirty served %lu, lost %ld\n",
		stress_nr_cpus, stress_duration_ms,
		n[CTX_HARDIRQ][N_GETS] + n[CTX_HARDIRQ][N_PUTS],
		n[CTX_SOFTIRQ][N_GETS] + n[CTX_SOFTIRQ][N_PUTS],
		n[CTX_PROCESS][N_GETS] + n[CTX_PROCESS][N_PUTS],
		n[CTX_NMI][N_GETS] + n[CTX_NMI][N_PUTS],
		t[N_FAILURES], t[N_DOUBLE_SERVES], t[N_CORRUPTED],
		t[N_DIRTY_SERVED], (long)(t[N_GETS] - t[N_PUTS]));
}

static void print_reserves(void)
{
	unsigned long n[STRESS_NR_RES][NR_RES_COUNTS] = { };
	unsigned int res;

	sum_res(n);
	for (res = 0; res < STRESS_NR_RES; res++)
		pr_info("reserve %s: gets %lu, failures %lu, lost %ld\n",
			stress_reserves[res].name, n[res][N_GETS],
			n[res][N_FAILURES],
			(long)(n[res][N_GETS] - n[res][N_PUTS]));
}

/*
 * Removing the hotplug state stops the users of every online CPU and gives
 * back what they hold; then nothing takes or hands over pages, and the
 * inboxes of every CPU are emptied.  Process context.
 */
static void finish_run(void)
{
	unsigned int cpu;

	cpuhp_remove_state(stress_hp_state);
	/* No timer sends NMIs now; this waits for the handlers running. */
	WRITE_ONCE(stress_nmi_on, false);
	unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
	for_each_possible_cpu(cpu)
		give_back_all(per_cpu_ptr(stress_cpus, cpu));
	WRITE_ONCE(stress_running, false);
	print_summary();
	print_reserves();
	complete_all(&stress_done);
}

static void finish_fn(struct work_struct *work)
{
	finish_run();
}

/* End the run now unless it has ended; return when it has. */
static void stop_run(void)
{
	if (cancel_delayed_work_sync(&stress_finish))
		finish_run();
}

static int start_run(void)
{
	int ret;

	stress_period = ns_to_ktime((u64)stress_interval_us * NSEC_PER_USEC);
	WRITE_ONCE(stress_running, true);
	ret = register_nmi_handler(NMI_LOCAL, stress_nmi, 0, KBUILD_MODNAME);
	if (ret) {
		WRITE_ONCE(stress_running, false);
		return ret;
	}
	WRITE_ONCE(stress_nmi_on, true);
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "labyrinth_stress:online",
				stress_cpu_online, stress_cpu_offline);
	if (ret < 0) {
		WRITE_ONCE(stress_nmi_on, false);
		unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
		WRITE_ONCE(stress_running, false);
		return ret;
	}
	stress_hp_state = ret;
	stress_nr_cpus = num_online_cpus();
	schedule_delayed_work(&stress_finish,
			      msecs_to_jiffies(stress_duration_ms));
	pr_info("%u CPUs, %u pages every %u us in hard-IRQ, softirq, process and NMI context, from %u reserves, for %u ms\n",
		stress_nr_cpus, stress_batch, stress_interval_us,
		STRESS_NR_RES, stress_duration_ms);
	return 0;
}

static void init_stress_cpus(void)
{
	struct stress_cpu *s;
	unsigned int cpu, id, res;

	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(stress_cpus, cpu);
		s->cpu = cpu;
		for (id = 0; id < NR_USERS; id++)
			s->ctx[id].owner = cpu * NR_USERS + id;
		lab_hrtimer_setup(&s->hard, hard_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_HARD);
		lab_hrtimer_setup(&s->soft, soft_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_SOFT);
		for (res = 0; res < STRESS_NR_RES; res++)
			init_llist_head(&s->inbox[res]);
		atomic_long_set(&s->held, 0);
	}
}

static void show_counts(struct seq_file *m, const char *prefix,
			const unsigned long *n)
{
	unsigned int i;

	for (i = 0; i < NR_COUNTS; i++)
		seq_printf(m, "%s%s %lu\n", prefix, count_names[i], n[i]);
}

/* "reserve_NAME_gets N" and so on, and pages lost, for every reserve. */
static void show_reserves(struct seq_file *m)
{
	unsigned long n[STRESS_NR_RES][NR_RES_COUNTS] = { };
	const struct stress_reserve *sr;
	unsigned int res, i;

	sum_res(n);
	for (res = 0; res < STRESS_NR_RES; res++) {
		sr = &stress_reserves[res];
		for (i = 0; i < NR_RES_COUNTS; i++)
			seq_printf(m, "reserve_%s_%s %lu\n", sr->name,
				   count_names[i], n[res][i]);
		seq_printf(m, "reserve_%s_lost %ld\n", sr->name,
			   (long)(n[res][N_GETS] - n[res][N_PUTS]));
		seq_printf(m, "reserve_%s_pages_per_cpu %u\n", sr->name,
			   sr->pages);
		seq_printf(m, "reserve_%s_no_fallback %d\n", sr->name,
			   !!(sr->flags & LABYRINTH_NO_FALLBACK));
	}
}

static void show_stress(struct seq_file *m)
{
	unsigned long t[NR_COUNTS] = { };
	const struct stress_cpu *s;
	enum stress_ctx_id id;
	char prefix[16];
	unsigned int cpu;

	seq_printf(m, "running %d\n", READ_ONCE(stress_running));
	seq_printf(m, "cpus %u\n", stress_nr_cpus);
	for (id = 0; id < NR_CTX; id++) {
		unsigned long n[NR_COUNTS] = { };

		sum_ctx(id, n);
		seq_printf(m, "%s_ops %lu\n", ctx_names[id],
			   n[N_GETS] + n[N_PUTS]);
		snprintf(prefix, sizeof(prefix), "%s_", ctx_names[id]);
		show_counts(m, prefix, n);
	}
	sum_all(t);
	show_counts(m, "", t);
	seq_printf(m, "pages_lost %ld\n", (long)(t[N_GETS] - t[N_PUTS]));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(stress_cpus, cpu);
		seq_printf(m, "held_cpu%u %ld\n", cpu,
			   atomic_long_read(&s->held));
		seq_printf(m, "peak_held_cpu%u %ld\n", cpu,
			   READ_ONCE(s->peak_held));
	}
	show_reserves(m);
}

static void show_guarantee(struct seq_file *m)
{
	const struct guarantee_result *r = &guarantee_last;
	unsigned int cpu;

	mutex_lock(&guarantee_lock);
	seq_printf(m, "guarantee_part %s\n",
		   r->part < 0 ? "none" : part_names[r->part]);
	seq_printf(m, "guarantee_cpus %u\n", cpumask_weight(&r->cpus));
	seq_printf(m, "guarantee_together %d\n", r->together);
	seq_printf(m, "guarantee_not_hardirq %u\n", r->not_hardirq);
	seq_printf(m, "guarantee_taken %lu\n", r->taken);
	seq_printf(m, "guarantee_expected %lu\n", r->expected);
	seq_printf(m, "guarantee_duplicates %lu\n", r->duplicates);
	for_each_cpu(cpu, &r->cpus)
		seq_printf(m, "guarantee_taken_cpu%u %u\n", cpu,
			   per_cpu_ptr(guarantee_cpus, cpu)->taken);
	mutex_unlock(&guarantee_lock);
}

static int results_show(struct seq_file *m, void *unused)
{
	if (stress_mode == MODE_STRESS)
		show_stress(m);
	else
		show_guarantee(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

/*
 * Spin, interrupts off, until guarantee_wanted CPUs arrived or BARRIER_MS
 * passed.  Return: whether all arrived.
 */
static bool wait_for_all(void)
{
	ktime_t deadline = ktime_add_ms(ktime_get(), BARRIER_MS);

	atomic_inc(&guarantee_arrived);
	while (atomic_read(&guarantee_arrived) < READ_ONCE(guarantee_wanted)) {
		if (ktime_after(ktime_get(), deadline))
			return false;
		cpu_relax();
	}
	return true;
}

/* Take pages until labyrinth_get() fails. */
static void guarantee_take(struct guarantee_cpu *g)
{
	struct page *page;

	while (g->taken < guarantee_slice && (page = labyrinth_get()))
		g->pages[g->taken++] = page;
}

/* The nmi part: the take, in the NMI the timer below sends to its CPU. */
static int guarantee_nmi(unsigned int type, struct pt_regs *regs)
{
	struct guarantee_cpu *g = this_cpu_ptr(guarantee_cpus);

	if (!READ_ONCE(g->in_nmi))
		return NMI_DONE;
	g->hardirq = in_nmi();
	guarantee_take(g);
	WRITE_ONCE(g->in_nmi, false);
	return NMI_HANDLED;
}

/*
 * Hard-IRQ context: take pages until labyrinth_get() fails, or for the
 * nmi part have this CPU's NMI handler do it and wait for it (an NMI is
 * taken at once, interrupts off or not).
 */
static enum hrtimer_restart guarantee_fn(struct hrtimer *timer)
{
	struct guarantee_cpu *g = container_of(timer, struct guarantee_cpu,
					       timer);
	ktime_t deadline;

	g->hardirq = in_hardirq();
	g->together = wait_for_all();
	if (guarantee_part_now == PART_NMI) {
		g->hardirq = false;
		WRITE_ONCE(g->in_nmi, true);
		apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
		deadline = ktime_add_ms(ktime_get(), BARRIER_MS);
		while (READ_ONCE(g->in_nmi) && ktime_before(ktime_get(), deadline))
			cpu_relax();
		WRITE_ONCE(g->in_nmi, false);
	} else {
		guarantee_take(g);
	}
	if (atomic_dec_and_test(&guarantee_pending))
		complete(&guarantee_done);
	return HRTIMER_NORESTART;
}

/* Runs on each CPU of the run, interrupts off: a pinned timer stays here. */
static void arm_guarantee_timer(void *unused)
{
	hrtimer_start(&this_cpu_ptr(guarantee_cpus)->timer,
		      ns_to_ktime(10 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/* Make every CPU of @cpus take pages in hard-IRQ context, all at once. */
static void take_on(const struct cpumask *cpus)
{
	unsigned int cpu;

	for_each_cpu(cpu, cpus)
		per_cpu_ptr(guarantee_cpus, cpu)->taken = 0;
	atomic_set(&guarantee_arrived, 0);
	atomic_set(&guarantee_pending, cpumask_weight(cpus));
	WRITE_ONCE(guarantee_wanted, cpumask_weight(cpus));
	reinit_completion(&guarantee_done);
	/* The IPIs order the writes above before the timers run. */
	on_each_cpu_mask(cpus, arm_guarantee_timer, NULL, true);
	wait_for_completion(&guarantee_done);
	/* Wait for the last callback to return. */
	for_each_cpu(cpu, cpus)
		hrtimer_cancel(&per_cpu_ptr(guarantee_cpus, cpu)->timer);
}

static int cmp_pfn(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Count what the CPUs of @r took and the pages served twice, then give
 * back every distinct page once.
 */
static void count_and_give_back(struct guarantee_result *r)
{
	const struct guarantee_cpu *g;
	unsigned long i, nr = 0;
	unsigned int cpu;

	r->together = true;
	for_each_cpu(cpu, &r->cpus) {
		g = per_cpu_ptr(guarantee_cpus, cpu);
		r->together &= g->together;
		r->not_hardirq += !g->hardirq;
		for (i = 0; i < g->taken; i++)
			guarantee_pfns[nr++] = page_to_pfn(g->pages[i]);
	}
	r->taken = nr;
	sort(guarantee_pfns, nr, sizeof(*guarantee_pfns), cmp_pfn, NULL);
	/*
	 * Every page goes back on one CPU, whose pool keeps what it has room
	 * for and frees the rest: the reserve stays short of capacity, and
	 * its refill due, whatever the scheduler does meanwhile (the edge
	 * tests unload labyrinth while that refill backs off).
	 */
	migrate_disable();
	for (i = 0; i < nr; i++) {
		if (i && guarantee_pfns[i] == guarantee_pfns[i - 1])
			r->duplicates++;
		else
			labyrinth_put(pfn_to_page(guarantee_pfns[i]));
	}
	migrate_enable();
}

static int run_guarantee(int part)
{
	struct guarantee_result *r = &guarantee_last;

	memset(r, 0, sizeof(*r));
	r->part = part;
	guarantee_part_now = part;
	cpus_read_lock();
	if (part != PART_ALONE)
		cpumask_copy(&r->cpus, cpu_online_mask);
	else if (cpu_online(0))
		cpumask_copy(&r->cpus, cpumask_of(0));
	if (!cpumask_empty(&r->cpus))
		take_on(&r->cpus);
	cpus_read_unlock();
	if (cpumask_empty(&r->cpus))
		return -ENODEV;

	r->expected = (unsigned long)stress_reserve * cpumask_weight(&r->cpus);
	count_and_give_back(r);
	pr_info("guarantee, %s: took %lu pages in %s context on %u CPU(s), reserve %lu, %lu served twice%s\n",
		part_names[part], r->taken,
		part == PART_NMI ? "NMI" : "hard-IRQ", cpumask_weight(&r->cpus),
		r->expected, r->duplicates,
		r->together ? "" : ", not all at once");
	return 0;
}

static ssize_t guarantee_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	char buf[8];
	int part, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	part = sysfs_match_string(part_names, buf);
	if (part < 0)
		return -EINVAL;

	mutex_lock(&guarantee_lock);
	ret = run_guarantee(part);
	mutex_unlock(&guarantee_lock);
	return ret ? ret : len;
}

static const struct file_operations guarantee_fops = {
	.owner = THIS_MODULE,
	.write = guarantee_write,
};

/*
 * A driver's bug, on purpose: a write to a page after giving it back.  On
 * a KASAN kernel the write is reported (make check's KASAN boot expects
 * exactly that report, naming this function); elsewhere labyrinth's debug
 * parameter finds it when the page is next taken or cleared.
 */
static noinline void write_after_put(u8 *addr)
{
	WRITE_ONCE(*addr, 0x5a);
}

static ssize_t write_after_put_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct page *page = labyrinth_get();

	if (!page)
		return -ENOMEM;
	labyrinth_put(page);
	write_after_put(page_address(page));
	return len;
}

static const struct file_operations write_after_put_fops = {
	.owner = THIS_MODULE,
	.write = write_after_put_write,
};

/*
 * Resize every named reserve to twice (@grow) or half its size at load.
 * Return: 0, or the first error, once every reserve was tried.
 */
static int resize_reserves(bool grow)
{
	struct stress_reserve *sr;
	unsigned int res;
	int err, ret = 0;

	for (res = 0; res < STRESS_NR_RES; res++) {
		sr = &stress_reserves[res];
		if (!sr->r)
			continue;
		err = labyrinth_reserve_resize(sr->r, grow ? 2 * sr->pages :
					       max(sr->pages / 2, 1U));
		if (err && !ret) {
			pr_err("reserve %s: resize refused (%d)\n", sr->name,
			       err);
			ret = err;
		}
	}
	return ret;
}

/* "grow" or "shrink": see the top of the file. */
static ssize_t resize_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[8];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (!sysfs_streq(buf, "grow") && !sysfs_streq(buf, "shrink"))
		return -EINVAL;
	mutex_lock(&stress_resize_lock);
	ret = resize_reserves(sysfs_streq(buf, "grow"));
	mutex_unlock(&stress_resize_lock);
	return ret ? ret : len;
}

static const struct file_operations resize_fops = {
	.owner = THIS_MODULE,
	.write = resize_write,
};

/* No get or put of them may run: the users are stopped or never ran. */
static void destroy_reserves(void)
{
	unsigned int res;

	for (res = 0; res < STRESS_NR_RES; res++) {
		labyrinth_reserve_destroy(stress_reserves[res].r);
		stress_reserves[res].r = NULL;
	}
}

static int create_reserves(void)
{
	struct stress_reserve *sr;
	unsigned int res;
	int err;

	for (res = 0; res < STRESS_NR_RES; res++) {
		sr = &stress_reserves[res];
		if (res == RES_DEFAULT)
			continue;
		sr->r = labyrinth_reserve_create(sr->name, sr->pages,
						 sr->flags);
		if (IS_ERR(sr->r)) {
			err = PTR_ERR(sr->r);
			sr->r = NULL;
			destroy_reserves();
			return err;
		}
	}
	return 0;
}

static void create_debugfs(void)
{
	/* debugfs failures are not fatal and need no checking */
	stress_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("results", 0400, stress_debugfs, NULL,
			    &results_fops);
	debugfs_create_file("write_after_put", 0200, stress_debugfs, NULL,
			    &write_after_put_fops);
}

static void guarantee_free(void)
{
	kvfree(guarantee_pfns);
	kvfree(guarantee_pages);
	free_percpu(guarantee_cpus);
}

/* Everything the take needs, allocated now: it must allocate nothing. */
static int guarantee_init(void)
{
	struct guarantee_cpu *g;
	unsigned int cpu;
	int ret;

	guarantee_slice = stress_reserve * num_possible_cpus() + 1;
	guarantee_cpus = alloc_percpu(struct guarantee_cpu);
	guarantee_pages = kvcalloc((size_t)guarantee_slice * nr_cpu_ids,
				   sizeof(*guarantee_pages), GFP_KERNEL);
	guarantee_pfns = kvcalloc((size_t)guarantee_slice * nr_cpu_ids,
				  sizeof(*guarantee_pfns), GFP_KERNEL);
	if (!guarantee_cpus || !guarantee_pages || !guarantee_pfns) {
		guarantee_free();
		return -ENOMEM;
	}

	for_each_possible_cpu(cpu) {
		g = per_cpu_ptr(guarantee_cpus, cpu);
		g->pages = guarantee_pages + (size_t)cpu * guarantee_slice;
		lab_hrtimer_setup(&g->timer, guarantee_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_PINNED_HARD);
	}
	ret = register_nmi_handler(NMI_LOCAL, guarantee_nmi, 0, KBUILD_MODNAME);
	if (ret) {
		guarantee_free();
		return ret;
	}
	create_debugfs();
	debugfs_create_file("guarantee", 0200, stress_debugfs, NULL,
			    &guarantee_fops);
	pr_info("guarantee: ready, reserve %u pages per CPU\n",
		stress_reserve);
	return 0;
}

static int stress_init(void)
{
	int ret;

	stress_cpus = alloc_percpu(struct stress_cpu);
	if (!stress_cpus)
		return -ENOMEM;
	init_stress_cpus();
	ret = create_reserves();
	if (ret)
		goto err_free;
	create_debugfs();
	debugfs_create_file("resize", 0200, stress_debugfs, NULL,
			    &resize_fops);
	ret = start_run();
	if (ret)
		goto err_debugfs;
	/* A fatal signal to insmod ends the run early. */
	if (stress_wait && wait_for_completion_killable(&stress_done))
		stop_run();
	return 0;

err_debugfs:
	debugfs_remove_recursive(stress_debugfs);
	destroy_reserves();
err_free:
	free_percpu(stress_cpus);
	return ret;
}

static int __init labyrinth_stress_init(void)
{
	return stress_mode == MODE_STRESS ? stress_init() : guarantee_init();
}
module_init(labyrinth_stress_init);

static void __exit labyrinth_stress_exit(void)
{
	debugfs_remove_recursive(stress_debugfs);
	if (stress_mode == MODE_STRESS) {
		stop_run();
		destroy_reserves();
		free_percpu(stress_cpus);
	} else {
		unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
		guarantee_free();
	}
}
module_exit(labyrinth_stress_exit);

MODULE_DESCRIPTION("labyrinth stress test: every context at once, and the reserve guarantee");
MODULE_LICENSE("GPL");

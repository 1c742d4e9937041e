// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_bench - labyrinth against the kernel's page allocators and pools.
 *
 * Loading the module runs the whole benchmark, then returns 0.  The report
 * is printed with pr_info() and stays in /sys/kernel/debug/labyrinth_bench/
 * report until the module is removed.  labyrinth and labyrinth_floor must
 * be loaded first.
 *
 * Sources, each handing out order-0 pages and taking them back:
 *
 *   labyrinth		labyrinth_get() / labyrinth_put(): the default reserve
 *   named		labyrinth_reserve_get() / labyrinth_reserve_put() on a
 *			named reserve, "bench", of "named_pages" pages per CPU,
 *			created at the first measurement and destroyed at
 *			unload: its debugfs directory
 *			(/sys/kernel/debug/labyrinth/bench/) stays meanwhile
 *   alloc_page		alloc_page(GFP_ATOMIC) / __free_page()
 *   alloc_pages_nolock	alloc_pages_nolock() / __free_page() (6.18 and later:
 *			free_pages_nolock() is not exported)
 *   kmalloc_nolock	kmalloc_nolock(PAGE_SIZE) / kfree_nolock() (6.18 and
 *			later)
 *   mempool		a page mempool of POOL_PAGES pages, GFP_ATOMIC
 *   page_pool		a page_pool per CPU, used with BH disabled: a put on
 *			the pool's CPU recycles directly into its cache
 *   objpool		an objpool of page pointers, POOL_PAGES per CPU
 *   floor		a bare per-CPU array of pages with interrupts off
 *			around each access: the least an IRQ-safe pool costs
 *			(labyrinth_floor.ko, called across modules as
 *			labyrinth is)
 *   floor+guard	the floor inside the guard labyrinth keeps for NMI
 *			callers (a per-CPU counter raised and lowered around
 *			each access): what that guard costs, side by side
 *   loop (no pool)	no source at all: what the loop costs (in burst and
 *			cross, with its two indirect calls), included in
 *			every other figure
 *
 * Patterns, each "iters" get+put pairs per repetition:
 *
 *   pair	get a page, put it back, with direct calls from this module's
 *		loop (one loop per source): labyrinth_put(labyrinth_get())
 *		as a client module makes it, against the floor called the
 *		same way
 *   burst	get BENCH_BATCH pages, then put them back; the gets and the
 *		puts are timed apart, and reported apart (burst-get,
 *		burst-put) as well as together
 *   cross	one CPU gets BENCH_BATCH pages, another CPU puts them (the
 *		get and the put are timed, the hand-over is not)
 *
 * pair and burst run on one CPU, then on every online CPU at once (a bound
 * kthread each, starting every step together).  cross runs on the first two
 * online CPUs.  Within a repetition the sources take turns; a figure is the
 * median (min-max) over "reps" repetitions, in ns per get+put pair (per get,
 * per put in the tables of a part), per CPU.  Preemption is off during each
 * timed step and on between steps.
 *
 * burst-get is the figure that shows where a source clears pages with
 * init_on_alloc on: a get+put pair clears each page once whichever side does
 * it, a get alone only if the get path clears.
 *
 * Last, a loop of alloc_page(GFP_KERNEL) for "fill_pages" pages is timed, to
 * set against the time labyrinth takes to fill a reserve of that size.
 *
 * The guarantee table, on request once the module is loaded: how many
 * pages each source serves on each CPU while the page allocator fails
 * every request, every CPU taking at once.  The caller makes it fail
 * (fail_page_alloc) between two writes to the debugfs file "guarantee":
 *
 *   prepare	set every source up, fill each page_pool's cache (a pool in
 *		use holds recycled pages), start a kthread on every online CPU
 *   run	the kthreads take from each source in turn, with preemption
 *		off, until it fails or GUARANTEE_CAP pages, then give them
 *		back; the table is added to the report
 *
 * Between the two writes nothing in the module allocates.
 *
 * The NMI table (x86): NMI_ROUNDS NMIs, each sent by the CPU to itself,
 * whose handler takes a page from a source and gives it back, each call
 * timed with the NMI-safe clock, for the sources that may be called in
 * NMI.  The sender sleeps a little between NMIs, as NMIs come in life:
 * labyrinth's worker tops up the NMI share meanwhile.
 */
#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"
#include "labyrinth_floor.h"
#include "labyrinth_test.h"

#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

/*
 * Compat: the only place that knows kernel versions and configurations.
 * What a kernel lacks is stubbed here, and its row says why.  (sparse has
 * no __has_include and checks the code with objpool stubbed.)
 */
#ifdef __has_include
#if __has_include("linux/objpool.h")		/* 6.7 and later */
#define HAVE_OBJPOOL
#endif
#if __has_include("net/page_pool/helpers.h")	/* 6.6 and later */
#define HAVE_PAGE_POOL_HELPERS
#endif
#endif

#if IS_ENABLED(CONFIG_PAGE_POOL)
#ifdef HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif
#define NO_PAGE_POOL	NULL

static struct page_pool *create_page_pool(unsigned int size)
{
	struct page_pool_params pp = {
		.order = 0,
		.pool_size = size,
		.nid = NUMA_NO_NODE,
	};

	return page_pool_create(&pp);
}
#else
#define NO_PAGE_POOL	"kernel built without CONFIG_PAGE_POOL"
struct page_pool;

static inline struct page_pool *create_page_pool(unsigned int size)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void page_pool_destroy(struct page_pool *pool) { }

static inline struct page *page_pool_alloc_pages(struct page_pool *pool,
						 gfp_t gfp)
{
	return NULL;
}

static inline void page_pool_put_full_page(struct page_pool *pool,
					   struct page *page, bool allow_direct)
{
}
#endif

#if LAB_HAVE_NOLOCK
#define NO_NOLOCK	NULL
#else
#define NO_NOLOCK	"in 6.18 and later"
#endif

#ifdef HAVE_OBJPOOL
#include <linux/objpool.h>
#define NO_OBJPOOL	NULL
#else
#define NO_OBJPOOL	"objpool is in 6.7 and later"
struct objpool_head { };

static inline int objpool_init(struct objpool_head *pool, int nr_objs,
			       int object_size, gfp_t gfp, void *context,
			       int (*objinit)(void *obj, void *context),
			       void *release)
{
	return -EOPNOTSUPP;
}

static inline void *objpool_pop(struct objpool_head *pool)
{
	return NULL;
}

static inline int objpool_push(void *obj, struct objpool_head *pool)
{
	return 0;
}

static inline void objpool_fini(struct objpool_head *pool) { }
#endif

#define BENCH_BATCH	32	/* pages per burst and per cross-CPU hand-over */
#define BENCH_MAX_REPS	15
#define BENCH_MAX_PARTS	2	/* parts of a step timed apart: gets, puts */
#define POOL_PAGES	256	/* mempool, each page_pool, objpool per CPU */
#define REPORT_SIZE	32768
#define REPORT_LINE	256
#define GUARANTEE_CAP	4096	/* pages a CPU takes from a source at most */
#define NMI_ROUNDS	1000	/* NMIs per source in the NMI table */
#define NMI_WAIT_MS	1000	/* for a self-sent NMI to arrive */

#define BENCH_NAMED	"bench"	/* the named reserve's name */

static unsigned int bench_iters = 100000;
static unsigned int bench_reps = 11;
static unsigned int bench_fill_pages = 16384;
static unsigned int bench_named_pages = 512;

static int set_iters(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, BENCH_BATCH, 10000000);
}

static int set_reps(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, BENCH_MAX_REPS);
}

static int set_fill_pages(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 262144);
}

/* labyrinth's bound on pages_per_cpu; it checks its own cap as well. */
static int set_named_pages(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 16384);
}

static const struct kernel_param_ops iters_ops = {
	.set = set_iters,
	.get = param_get_uint,
};

static const struct kernel_param_ops reps_ops = {
	.set = set_reps,
	.get = param_get_uint,
};

static const struct kernel_param_ops fill_pages_ops = {
	.set = set_fill_pages,
	.get = param_get_uint,
};

static const struct kernel_param_ops named_pages_ops = {
	.set = set_named_pages,
	.get = param_get_uint,
};

module_param_cb(iters, &iters_ops, &bench_iters, 0444);
MODULE_PARM_DESC(iters,
		 "get+put pairs per source and repetition (default 100000; 32..10000000)");
module_param_cb(reps, &reps_ops, &bench_reps, 0444);
MODULE_PARM_DESC(reps, "Repetitions of every figure (default 11; 1..15)");
module_param_cb(fill_pages, &fill_pages_ops, &bench_fill_pages, 0444);
MODULE_PARM_DESC(fill_pages,
		 "Pages of the timed alloc_page(GFP_KERNEL) loop (default 16384; 1..262144)");
module_param_cb(named_pages, &named_pages_ops, &bench_named_pages, 0444);
MODULE_PARM_DESC(named_pages,
		 "Pages per CPU of the named reserve (default 512; 1..16384)");

/* Pages per repetition: iters, rounded down to whole batches. */
static unsigned int nr_ops(void)
{
	return bench_iters / BENCH_BATCH * BENCH_BATCH;
}

static void *get_labyrinth(void)
{
	return labyrinth_get();
}

static void put_labyrinth(void *obj)
{
	labyrinth_put(obj);
}

static struct labyrinth_reserve *bench_named;

/* Once: the reserve is kept until unload, see the top of the file. */
static int setup_named(void)
{
	struct labyrinth_reserve *r;

	if (bench_named)
		return 0;
	r = labyrinth_reserve_create(BENCH_NAMED, bench_named_pages, 0);
	if (IS_ERR(r))
		return PTR_ERR(r);
	bench_named = r;
	return 0;
}

static void *get_named(void)
{
	return labyrinth_reserve_get(bench_named);
}

static void put_named(void *obj)
{
	labyrinth_reserve_put(bench_named, obj);
}

static void *get_buddy(void)
{
	return alloc_page(GFP_ATOMIC);
}

static void put_buddy(void *obj)
{
	__free_page(obj);
}

static void *get_page_nolock(void)
{
	return lab_alloc_page_nolock();
}

static void *get_kmalloc_nolock(void)
{
	return lab_kmalloc_nolock(PAGE_SIZE);
}

static void put_kmalloc_nolock(void *obj)
{
	lab_kfree_nolock(obj);
}

static mempool_t *bench_mempool;

static int setup_mempool(void)
{
	bench_mempool = mempool_create_page_pool(POOL_PAGES, 0);
	return bench_mempool ? 0 : -ENOMEM;
}

static void teardown_mempool(void)
{
	mempool_destroy(bench_mempool);
}

static void *get_mempool(void)
{
	return mempool_alloc(bench_mempool, GFP_ATOMIC);
}

static void put_mempool(void *obj)
{
	mempool_free(obj, bench_mempool);
}

static DEFINE_PER_CPU(struct page_pool *, bench_pps);

static void teardown_page_pools(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(bench_pps, cpu))
			page_pool_destroy(per_cpu(bench_pps, cpu));
		per_cpu(bench_pps, cpu) = NULL;
	}
}

static int setup_page_pools(void)
{
	struct page_pool *pp;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		pp = create_page_pool(POOL_PAGES);
		if (IS_ERR(pp)) {
			teardown_page_pools();
			return PTR_ERR(pp);
		}
		per_cpu(bench_pps, cpu) = pp;
	}
	return 0;
}

static void *get_page_pool(void)
{
	struct page *page;

	local_bh_disable();
	page = page_pool_alloc_pages(this_cpu_read(bench_pps), GFP_ATOMIC);
	local_bh_enable();
	return page;
}

/* On the pool's CPU, BH disabled: direct recycling into its cache. */
static void put_page_pool(void *obj)
{
	struct page *page = obj;

	local_bh_disable();
	page_pool_put_full_page(page->pp, page, true);
	local_bh_enable();
}

static void put_page_pool_remote(void *obj)
{
	struct page *page = obj;

	local_bh_disable();
	page_pool_put_full_page(page->pp, page, false);
	local_bh_enable();
}

static void free_page_array(struct page **pages, unsigned int nr)
{
	while (nr--)
		__free_page(pages[nr]);
	kvfree(pages);
}

static struct page **alloc_page_array(unsigned int nr)
{
	struct page **pages = kvcalloc(nr, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	if (!pages)
		return NULL;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			free_page_array(pages, i);
			return NULL;
		}
	}
	return pages;
}

/* An objpool whose objects each hold a page of objpool_pages[]. */
static struct objpool_head bench_objpool;
static struct page **objpool_pages;
static unsigned int objpool_nr;
static unsigned int objpool_next;

static int objpool_fill(void *obj, void *context)
{
	*(struct page **)obj = objpool_pages[objpool_next++];
	return 0;
}

static int setup_objpool(void)
{
	int err;

	objpool_nr = POOL_PAGES * num_possible_cpus();
	objpool_pages = alloc_page_array(objpool_nr);
	if (!objpool_pages)
		return -ENOMEM;
	objpool_next = 0;
	err = objpool_init(&bench_objpool, objpool_nr, sizeof(struct page *),
			   GFP_KERNEL, NULL, objpool_fill, NULL);
	if (err)
		free_page_array(objpool_pages, objpool_nr);
	return err;
}

/* Every object is back in the pool: fini frees the pool at once. */
static void teardown_objpool(void)
{
	objpool_fini(&bench_objpool);
	free_page_array(objpool_pages, objpool_nr);
}

/* The handle is the object; the page is *obj. */
static void *get_objpool(void)
{
	return objpool_pop(&bench_objpool);
}

static void put_objpool(void *obj)
{
	objpool_push(obj, &bench_objpool);
}

/* The floor, a module of its own: see labyrinth_floor.c. */
static void *get_floor(void)
{
	return lab_floor_get();
}

static void put_floor(void *obj)
{
	lab_floor_put(obj);
}

static void *get_floor_guarded(void)
{
	return lab_floor_get_guarded();
}

static void put_floor_guarded(void *obj)
{
	lab_floor_put_guarded(obj);
}

static char loop_token;

static void *get_nothing(void)
{
	return &loop_token;
}

static void put_nothing(void *obj)
{
	/* A loop of nothing, not compiled away. */
	barrier();
}

/*
 * The pair pattern's loop, one function per source, so that it calls the
 * source's get and put directly, as a client does: labyrinth_put(
 * labyrinth_get()) from another module.  Return: the gets that failed.
 */
#define BENCH_PAIR_LOOP(name, get, put)				\
static unsigned long pair_##name(unsigned int n)		\
{								\
	unsigned long failed = 0;				\
	unsigned int i;						\
	void *obj;						\
								\
	for (i = 0; i < n; i++) {				\
		obj = get();					\
		if (likely(obj))				\
			put(obj);				\
		else						\
			failed++;				\
	}							\
	return failed;						\
}

BENCH_PAIR_LOOP(labyrinth, get_labyrinth, put_labyrinth)
BENCH_PAIR_LOOP(named, get_named, put_named)
BENCH_PAIR_LOOP(buddy, get_buddy, put_buddy)
BENCH_PAIR_LOOP(page_nolock, get_page_nolock, put_buddy)
BENCH_PAIR_LOOP(kmalloc_nolock, get_kmalloc_nolock, put_kmalloc_nolock)
BENCH_PAIR_LOOP(mempool, get_mempool, put_mempool)
BENCH_PAIR_LOOP(page_pool, get_page_pool, put_page_pool)
BENCH_PAIR_LOOP(objpool, get_objpool, put_objpool)
BENCH_PAIR_LOOP(floor, get_floor, put_floor)
BENCH_PAIR_LOOP(floor_guarded, get_floor_guarded, put_floor_guarded)
BENCH_PAIR_LOOP(nothing, get_nothing, put_nothing)

/**
 * struct source - one way to get and put pages
 * @name: row title
 * @absent: why this kernel cannot measure it, or NULL
 * @setup: make it ready (optional); 0 or -errno
 * @teardown: undo @setup once every page is back (optional)
 * @get: take a page; the handle to give back, or NULL
 * @put: give a handle back on the CPU that took it
 * @put_remote: give a handle back on another CPU
 * @pair: @n gets, each followed by the put of its handle, with direct calls;
 *	the gets that failed
 * @nmi: may be called in NMI: 1, get and put; 2, the get only
 */
struct source {
	const char *name;
	const char *absent;
	unsigned int nmi;
	int (*setup)(void);
	void (*teardown)(void);
	void *(*get)(void);
	void (*put)(void *obj);
	void (*put_remote)(void *obj);
	unsigned long (*pair)(unsigned int n);
};

enum {
	SRC_LABYRINTH, SRC_NAMED, SRC_ALLOC_PAGE, SRC_PAGE_NOLOCK,
	SRC_KMALLOC_NOLOCK,
	SRC_MEMPOOL, SRC_PAGE_POOL, SRC_OBJPOOL, SRC_FLOOR, SRC_FLOOR_GUARDED,
	SRC_LOOP,
	NR_SOURCES
};

static const struct source sources[NR_SOURCES] = {
	[SRC_LABYRINTH] = {
		.name = "labyrinth",
		.nmi = 1,
		.get = get_labyrinth,
		.pair = pair_labyrinth,
		.put = put_labyrinth,
		.put_remote = put_labyrinth,
	},
	[SRC_NAMED] = {
		.name = "named",
		.nmi = 1,
		.setup = setup_named,
		.get = get_named,
		.pair = pair_named,
		.put = put_named,
		.put_remote = put_named,
	},
	[SRC_ALLOC_PAGE] = {
		.name = "alloc_page",
		.get = get_buddy,
		.pair = pair_buddy,
		.put = put_buddy,
		.put_remote = put_buddy,
	},
	[SRC_PAGE_NOLOCK] = {
		.name = "alloc_pages_nolock",
		.absent = NO_NOLOCK,
		.nmi = 2,
		.get = get_page_nolock,
		.pair = pair_page_nolock,
		.put = put_buddy,
		.put_remote = put_buddy,
	},
	[SRC_KMALLOC_NOLOCK] = {
		.name = "kmalloc_nolock",
		.absent = NO_NOLOCK,
		.nmi = 1,
		.get = get_kmalloc_nolock,
		.pair = pair_kmalloc_nolock,
		.put = put_kmalloc_nolock,
		.put_remote = put_kmalloc_nolock,
	},
	[SRC_MEMPOOL] = {
		.name = "mempool",
		.setup = setup_mempool,
		.teardown = teardown_mempool,
		.get = get_mempool,
		.pair = pair_mempool,
		.put = put_mempool,
		.put_remote = put_mempool,
	},
	[SRC_PAGE_POOL] = {
		.name = "page_pool",
		.absent = NO_PAGE_POOL,
		.setup = setup_page_pools,
		.teardown = teardown_page_pools,
		.get = get_page_pool,
		.pair = pair_page_pool,
		.put = put_page_pool,
		.put_remote = put_page_pool_remote,
	},
	[SRC_OBJPOOL] = {
		.name = "objpool",
		.absent = NO_OBJPOOL,
		.setup = setup_objpool,
		.teardown = teardown_objpool,
		.get = get_objpool,
		.pair = pair_objpool,
		.put = put_objpool,
		.put_remote = put_objpool,
	},
	[SRC_FLOOR] = {
		.name = "floor",
		.setup = lab_floor_setup,
		.teardown = lab_floor_teardown,
		.get = get_floor,
		.pair = pair_floor,
		.put = put_floor,
		.put_remote = put_floor,
	},
	[SRC_FLOOR_GUARDED] = {
		.name = "floor+guard",
		.get = get_floor_guarded,
		.pair = pair_floor_guarded,
		.put = put_floor_guarded,
		.put_remote = put_floor_guarded,
	},
	[SRC_LOOP] = {
		.name = "loop (no pool)",
		.get = get_nothing,
		.pair = pair_nothing,
		.put = put_nothing,
		.put_remote = put_nothing,
	},
};

/* 0: ready; -EOPNOTSUPP: absent from this kernel; else: setup failed. */
static int src_err[NR_SOURCES];

struct bench_run;

/**
 * struct bench_thread - one bound kthread of a run
 * @run: the run
 * @task: the kthread
 * @cpu: its CPU
 * @src: the source it measures now
 * @returner: cross: it puts the pages @peer took
 * @peer: cross: the taker, for the returner
 * @batch: pages taken and not yet put
 * @rounds: cross: batches handed over or put so far
 * @full_seq: cross: the taker's last round whose batch is full
 * @empty_seq: cross: the taker's last round whose batch has been put
 * @exited: the kthread is done with this struct and the module's text
 * @failed: gets that returned NULL, per source
 * @ns: time of each step, per source, repetition and part
 */
struct bench_thread {
	struct bench_run *run;
	struct task_struct *task;
	unsigned int cpu;
	unsigned int src;
	bool returner;
	struct bench_thread *peer;
	void *batch[BENCH_BATCH];
	unsigned long rounds;
	unsigned long full_seq;
	unsigned long empty_seq;
	struct completion exited;
	unsigned long failed[NR_SOURCES];
	u64 ns[NR_SOURCES][BENCH_MAX_REPS][BENCH_MAX_PARTS];
};

/**
 * struct pattern - how a step uses a source
 * @name: table title
 * @what: what one op is
 * @note: what the figures leave out, or NULL
 * @step: one repetition for one source and thread; stores its timed ns,
 *	one number per part, in its last argument
 * @nr_parts: parts of a step timed apart; more than one: each part has a
 *	table of its own besides the table of their sum
 * @parts: what one op is in each part's table ("get", "put")
 * @cross: runs on two CPUs, a taker and a returner
 */
struct pattern {
	const char *name;
	const char *what;
	const char *note;
	void (*step)(struct bench_thread *t, const struct source *s, u64 *ns);
	unsigned int nr_parts;
	const char *parts[BENCH_MAX_PARTS];
	bool cross;
};

/**
 * struct bench_run - the threads measuring one pattern on a set of CPUs
 * @pat: the pattern
 * @threads: one per CPU, cross: taker then returner
 * @nr_threads: entries in @threads
 * @arrived: arrivals at the gates of wait_gate()
 */
struct bench_run {
	const struct pattern *pat;
	struct bench_thread *threads;
	unsigned int nr_threads;
	atomic_t arrived;
};

static void take_batch(struct bench_thread *t, const struct source *s)
{
	unsigned int i;

	for (i = 0; i < BENCH_BATCH; i++) {
		t->batch[i] = s->get();
		if (unlikely(!t->batch[i]))
			t->failed[t->src]++;
	}
}

static void give_batch(void **batch, void (*put)(void *obj))
{
	unsigned int i;

	for (i = 0; i < BENCH_BATCH; i++)
		if (likely(batch[i]))
			put(batch[i]);
}

static void pair_step(struct bench_thread *t, const struct source *s,
		      u64 *ns)
{
	u64 start = ktime_get_ns();

	t->failed[t->src] += s->pair(nr_ops());
	ns[0] = ktime_get_ns() - start;
}

/*
 * ns[0]: the gets, ns[1]: the puts.  Two clock reads per burst; the gets
 * carry the loop between bursts, so that the parts add up to the step.
 */
static void burst_step(struct bench_thread *t, const struct source *s,
		       u64 *ns)
{
	unsigned int i, n = nr_ops() / BENCH_BATCH;
	u64 start, mid, end = ktime_get_ns();

	ns[0] = 0;
	ns[1] = 0;
	for (i = 0; i < n; i++) {
		start = end;
		take_batch(t, s);
		mid = ktime_get_ns();
		give_batch(t->batch, s->put);
		end = ktime_get_ns();
		ns[0] += mid - start;
		ns[1] += end - mid;
	}
}

/*
 * The hand-over spins, with preemption off like every step: work that a
 * source defers to its CPU's workers (labyrinth's refill) waits for the
 * end of the step instead of running unseen while the CPU waits.
 */
static void wait_seq(const unsigned long *seq, unsigned long want)
{
	/* Pairs with smp_store_release() in cross_take() and cross_give(). */
	while (smp_load_acquire(seq) != want)
		cpu_relax();
}

/* The taker: get a batch, hand it over, wait until it has been put. */
static u64 cross_take(struct bench_thread *t, const struct source *s)
{
	unsigned long round = ++t->rounds;
	u64 start = ktime_get_ns(), ns;

	take_batch(t, s);
	ns = ktime_get_ns() - start;
	/* The batch is filled before it is handed over; see wait_seq(). */
	smp_store_release(&t->full_seq, round);
	wait_seq(&t->empty_seq, round);
	return ns;
}

/* The returner: wait for the taker's batch, put it, say so. */
static u64 cross_give(struct bench_thread *t, const struct source *s)
{
	struct bench_thread *taker = t->peer;
	unsigned long round = ++t->rounds;
	u64 start, ns;

	wait_seq(&taker->full_seq, round);
	start = ktime_get_ns();
	give_batch(taker->batch, s->put_remote);
	ns = ktime_get_ns() - start;
	/* The batch is put before the taker may refill it; see wait_seq(). */
	smp_store_release(&taker->empty_seq, round);
	return ns;
}

static void cross_step(struct bench_thread *t, const struct source *s,
		       u64 *ns)
{
	unsigned int i, n = nr_ops() / BENCH_BATCH;

	ns[0] = 0;
	for (i = 0; i < n; i++)
		ns[0] += t->returner ? cross_give(t, s) : cross_take(t, s);
}

enum { PAT_PAIR, PAT_BURST, PAT_CROSS, NR_PATTERNS };

static const struct pattern patterns[NR_PATTERNS] = {
	[PAT_PAIR] = {
		.name = "pair",
		.what = "get a page, put it back (direct calls, as a client makes them)",
		.step = pair_step,
		.nr_parts = 1,
	},
	[PAT_BURST] = {
		.name = "burst",
		.what = "get 32 pages, then put the 32 back",
		.note = "Gets and puts timed apart (burst-get, burst-put); here their sum.",
		.step = burst_step,
		.nr_parts = 2,
		.parts = { "get", "put" },
	},
	[PAT_CROSS] = {
		.name = "cross-CPU",
		.what = "CPU A gets 32 pages, CPU B puts them (ns per page, get + put)",
		.note = "Not timed: the hand-over between the CPUs.",
		.step = cross_step,
		.nr_parts = 1,
		.cross = true,
	},
};

static void run_step(struct bench_thread *t, const struct source *s, u64 *ns)
{
	preempt_disable();
	t->run->pat->step(t, s, ns);
	preempt_enable();
}

/*
 * Spin until each of @nr threads has reached @gate (counted from 1) of
 * those counting in @arrived: steps start together.
 */
static void wait_gate(atomic_t *arrived, unsigned int nr, unsigned int gate)
{
	atomic_inc(arrived);
	while (atomic_read(arrived) < gate * nr) {
		cpu_relax();
		cond_resched();
	}
}

static int thread_fn(void *arg)
{
	struct bench_thread *t = arg;
	struct bench_run *run = t->run;
	unsigned int rep, i, gate = 0;

	for (rep = 0; rep < bench_reps; rep++) {
		for (i = 0; i < NR_SOURCES; i++) {
			if (src_err[i])
				continue;
			wait_gate(&run->arrived, run->nr_threads, ++gate);
			t->src = i;
			run_step(t, &sources[i], t->ns[i][rep]);
			cond_resched();
		}
	}
	kthread_complete_and_exit(&t->exited, 0);
}

static int run_threads(struct bench_run *run)
{
	struct bench_thread *t;
	unsigned int i;

	for (i = 0; i < run->nr_threads; i++) {
		t = &run->threads[i];
		t->task = kthread_create_on_cpu(thread_fn, t, t->cpu,
						"lab_bench/%u");
		if (IS_ERR(t->task)) {
			while (i--)
				kthread_stop(run->threads[i].task);
			return PTR_ERR(t->task);
		}
	}
	for (i = 0; i < run->nr_threads; i++)
		wake_up_process(run->threads[i].task);
	for (i = 0; i < run->nr_threads; i++)
		wait_for_completion(&run->threads[i].exited);
	return 0;
}

/**
 * struct figure - one cell of the report
 * @med: median over the repetitions, tenths of a ns per get+put
 * @min: fastest repetition
 * @max: slowest repetition
 * @failed: gets that returned NULL
 * @valid: measured
 */
struct figure {
	u64 med;
	u64 min;
	u64 max;
	unsigned long failed;
	bool valid;
};

/*
 * [pattern][0: the sum of the parts, 1 + n: part n alone]
 * [0: one CPU, 1: all CPUs][source]
 */
static struct figure figures[NR_PATTERNS][1 + BENCH_MAX_PARTS][2][NR_SOURCES];

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Thread @t's time for source @i in repetition @rep, parts [@first, @end). */
static u64 step_ns(const struct bench_thread *t, unsigned int i,
		   unsigned int rep, unsigned int first, unsigned int end)
{
	u64 ns = 0;

	while (first < end)
		ns += t->ns[i][rep][first++];
	return ns;
}

/*
 * Source @i's figure for parts [@first, @end) of the steps.  A step's time
 * is per thread; cross: taker and returner add up.
 */
static struct figure summarize(const struct bench_run *run, unsigned int i,
			       unsigned int first, unsigned int end)
{
	unsigned int units = run->pat->cross ? 1 : run->nr_threads;
	u64 per_op = (u64)units * nr_ops(), v[BENCH_MAX_REPS] = { };
	struct figure f = { .valid = true };
	unsigned int rep, n;

	for (n = 0; n < run->nr_threads; n++) {
		for (rep = 0; rep < bench_reps; rep++)
			v[rep] += step_ns(&run->threads[n], i, rep, first, end);
		f.failed += run->threads[n].failed[i];
	}
	for (rep = 0; rep < bench_reps; rep++)
		v[rep] = div64_u64(v[rep] * 10 + per_op / 2, per_op);
	sort(v, bench_reps, sizeof(v[0]), cmp_u64, NULL);
	f.med = v[bench_reps / 2];
	f.min = v[0];
	f.max = v[bench_reps - 1];
	return f;
}

/* The first online CPU, the first two (cross), or every one of them. */
static unsigned int pick_cpus(struct bench_run *run, bool all)
{
	unsigned int cpu, n = 0;

	for_each_online_cpu(cpu) {
		if (n == run->nr_threads)
			break;
		run->threads[n].run = run;
		run->threads[n++].cpu = cpu;
	}
	if (run->pat->cross && n == 2) {
		run->threads[1].returner = true;
		run->threads[1].peer = &run->threads[0];
	}
	return n;
}

static void init_threads(struct bench_run *run)
{
	struct bench_thread *t;
	unsigned int i;

	for (i = 0; i < run->nr_threads; i++) {
		t = &run->threads[i];
		init_completion(&t->exited);
	}
}

/* Fill figures[pi][*][all] from a run of pattern @pi. */
static void summarize_run(const struct bench_run *run, unsigned int pi,
			  bool all)
{
	unsigned int i, part, nr = run->pat->nr_parts;

	for (i = 0; i < NR_SOURCES; i++) {
		if (src_err[i])
			continue;
		figures[pi][0][all][i] = summarize(run, i, 0, nr);
		for (part = 0; nr > 1 && part < nr; part++)
			figures[pi][1 + part][all][i] =
				summarize(run, i, part, part + 1);
	}
}

/* Measure pattern @pi on one CPU (or two, cross) or on all of them. */
static int run_pattern(unsigned int pi, bool all)
{
	const struct pattern *p = &patterns[pi];
	struct bench_run run = { .pat = p };
	int err = -ENODEV;

	cpus_read_lock();
	run.nr_threads = all ? num_online_cpus() : p->cross ? 2 : 1;
	run.threads = kcalloc(run.nr_threads, sizeof(*run.threads),
			      GFP_KERNEL);
	if (!run.threads) {
		err = -ENOMEM;
		goto out;
	}
	init_threads(&run);
	if (pick_cpus(&run, all) == run.nr_threads)
		err = run_threads(&run);
	if (!err)
		summarize_run(&run, pi, all);
	kfree(run.threads);
out:
	cpus_read_unlock();
	return err;
}

static char report_buf[REPORT_SIZE];
static struct debugfs_blob_wrapper report_blob;
static struct dentry *bench_debugfs;

/* One line of the report: printed, and kept for the debugfs file. */
static __printf(1, 2) void report(const char *fmt, ...)
{
	char line[REPORT_LINE];
	va_list args;

	va_start(args, fmt);
	vscnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	pr_info("%s\n", line);
	report_blob.size += scnprintf(report_buf + report_blob.size,
				      sizeof(report_buf) - report_blob.size,
				      "%s\n", line);
}

/* Markdown needs blank lines around headings and tables. */
static void report_gap(void)
{
	report("%s", "");
}

static void fmt_figure(char *buf, size_t len, const struct figure *f)
{
	if (!f->valid) {
		strscpy(buf, "-", len);
		return;
	}
	scnprintf(buf, len, "%llu.%llu (%llu.%llu-%llu.%llu)",
		  f->med / 10, f->med % 10, f->min / 10, f->min % 10,
		  f->max / 10, f->max % 10);
}

/* @a / @b with two decimals, rounded; "-" if either is missing. */
static void fmt_ratio(char *buf, size_t len, u64 a, u64 b)
{
	u64 r;

	if (!a || !b) {
		strscpy(buf, "-", len);
		return;
	}
	r = div64_u64(a * 100 + b / 2, b);
	scnprintf(buf, len, "%llu.%02llu", r / 100, r % 100);
}

/* Why source @i has no figure here. */
static void missing_why(char *buf, size_t len, unsigned int i)
{
	if (src_err[i] == -EOPNOTSUPP)
		scnprintf(buf, len, "n/a: %s", sources[i].absent);
	else if (src_err[i])
		scnprintf(buf, len, "n/a: setup failed (%d)", src_err[i]);
	else
		strscpy(buf, "not measured", len);
}

/* The row of a source that has no figure here, and why. */
static void report_missing(unsigned int i)
{
	char why[64];

	missing_why(why, sizeof(why), i);
	report("| %s | %s | | | |", sources[i].name, why);
}

static void report_row(const struct figure *one, const struct figure *all,
		       unsigned int i)
{
	char f1[48], fa[48], r1[16], r2[16];

	if (!one[i].valid) {
		report_missing(i);
		return;
	}
	fmt_figure(f1, sizeof(f1), &one[i]);
	fmt_figure(fa, sizeof(fa), &all[i]);
	fmt_ratio(r1, sizeof(r1), all[i].med, one[i].med);
	fmt_ratio(r2, sizeof(r2), one[i].med, one[SRC_LABYRINTH].med);
	report("| %s | %s | %s | %s | %s |", sources[i].name, f1, fa, r1, r2);
}

/* Source @i as a ratio line names it: "labyrinth", or "labyrinth get". */
static void ratio_name(char *buf, size_t len, unsigned int i, const char *op)
{
	scnprintf(buf, len, "%s%s%s", sources[i].name, op ? " " : "",
		  op ?: "");
}

/*
 * "a/b (1 CPU): r", or in the table of a part "a get / b get (1 CPU): r",
 * with r = @x / @y.
 */
static void report_ratio(const char *op, unsigned int a, unsigned int b,
			 const char *how, u64 x, u64 y)
{
	char na[32], nb[32], r[16];

	ratio_name(na, sizeof(na), a, op);
	ratio_name(nb, sizeof(nb), b, op);
	fmt_ratio(r, sizeof(r), x, y);
	report("%s%s%s %s: %s", na, op ? " / " : "/", nb, how, r);
}

/* x / y once the loop's own cost is taken off both. */
static void report_net_ratio(const char *op, unsigned int a, unsigned int b,
			     const char *how, u64 x, u64 y, u64 loop)
{
	report_ratio(op, a, b, how, x > loop ? x - loop : 0,
		     y > loop ? y - loop : 0);
}

static void report_scaling(const char *op, u64 all, u64 one)
{
	char name[32], r[16];

	ratio_name(name, sizeof(name), SRC_LABYRINTH, op);
	fmt_ratio(r, sizeof(r), all, one);
	report("%s all-CPU/1-CPU: %s", name, r);
}

/* The title of table @view of pattern @p, and the op of its figures. */
static const char *report_title(const struct pattern *p, unsigned int view)
{
	const char *op = view ? p->parts[view - 1] : NULL;

	report_gap();
	if (op)
		report("#### %s-%s: %s; the %ss alone, ns per %s", p->name, op,
		       p->what, op, op);
	else
		report("#### %s: %s", p->name, p->what);
	report_gap();
	report("| %s | %s | %s | %s | %s |", "source",
	       "1 CPU ns/op median (min-max)",
	       "all CPUs ns/op median (min-max)", "all/1",
	       "ratio to labyrinth (1 CPU)");
	report("|---|---|---|---|---|");
	return op;
}

/* Table @view of pattern @pi: 0 the sum of the parts, 1 + n part n. */
static void report_table(unsigned int pi, unsigned int view)
{
	const struct figure *one = figures[pi][view][0];
	const struct figure *all = figures[pi][view][1];
	const struct pattern *p = &patterns[pi];
	const char *op = report_title(p, view);
	unsigned int i;

	for (i = 0; i < NR_SOURCES; i++)
		report_row(one, all, i);
	for (i = 0; i < NR_SOURCES && !view; i++)
		if (one[i].failed || all[i].failed)
			report("%s: %lu gets failed", sources[i].name,
			       one[i].failed + all[i].failed);
	if (p->note && !view)
		report("%s", p->note);
	report_gap();
	report_ratio(op, SRC_LABYRINTH, SRC_FLOOR, "(1 CPU)",
		     one[SRC_LABYRINTH].med, one[SRC_FLOOR].med);
	report_net_ratio(op, SRC_LABYRINTH, SRC_FLOOR,
			 "(1 CPU), loop cost taken off", one[SRC_LABYRINTH].med,
			 one[SRC_FLOOR].med, one[SRC_LOOP].med);
	report_net_ratio(op, SRC_FLOOR_GUARDED, SRC_FLOOR,
			 "(1 CPU), loop cost taken off",
			 one[SRC_FLOOR_GUARDED].med, one[SRC_FLOOR].med,
			 one[SRC_LOOP].med);
	report_ratio(op, SRC_ALLOC_PAGE, SRC_LABYRINTH, "(1 CPU)",
		     one[SRC_ALLOC_PAGE].med, one[SRC_LABYRINTH].med);
	if (!src_err[SRC_NAMED])
		report_ratio(op, SRC_NAMED, SRC_LABYRINTH, "(1 CPU)",
			     one[SRC_NAMED].med, one[SRC_LABYRINTH].med);
	if (!src_err[SRC_PAGE_NOLOCK])
		report_ratio(op, SRC_PAGE_NOLOCK, SRC_LABYRINTH, "(1 CPU)",
			     one[SRC_PAGE_NOLOCK].med, one[SRC_LABYRINTH].med);
	if (p->cross && !src_err[SRC_PAGE_POOL])
		report_ratio(op, SRC_LABYRINTH, SRC_PAGE_POOL, "(1 CPU)",
			     one[SRC_LABYRINTH].med, one[SRC_PAGE_POOL].med);
	if (!p->cross)
		report_scaling(op, all[SRC_LABYRINTH].med,
			       one[SRC_LABYRINTH].med);
}

/* The table of pattern @pi, then one per part if it has several. */
static void report_pattern(unsigned int pi)
{
	unsigned int view, nr = patterns[pi].nr_parts;

	report_table(pi, 0);
	for (view = 1; nr > 1 && view <= nr; view++)
		report_table(pi, view);
}

static void setup_sources(void)
{
	unsigned int i;

	for (i = 0; i < NR_SOURCES; i++) {
		if (sources[i].absent)
			src_err[i] = -EOPNOTSUPP;
		else if (sources[i].setup)
			src_err[i] = sources[i].setup();
	}
}

static void teardown_sources(void)
{
	unsigned int i;

	for (i = 0; i < NR_SOURCES; i++)
		if (!src_err[i] && sources[i].teardown)
			sources[i].teardown();
}

static void measure_patterns(void)
{
	unsigned int pi;
	int err;

	for (pi = 0; pi < NR_PATTERNS; pi++) {
		err = run_pattern(pi, false);
		if (!err && !patterns[pi].cross)
			err = run_pattern(pi, true);
		if (err)
			report("%s: not measured (%d)", patterns[pi].name, err);
	}
}

/* A reserve filled the plain way: alloc_page(GFP_KERNEL), one at a time. */
static void measure_fill(void)
{
	struct page *page, *next;
	unsigned int n;
	LIST_HEAD(list);
	u64 start, ns;

	start = ktime_get_ns();
	for (n = 0; n < bench_fill_pages; n++) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			break;
		list_add(&page->lru, &list);
	}
	ns = ktime_get_ns() - start;
	list_for_each_entry_safe(page, next, &list, lru)
		__free_page(page);
	ns = n ? div_u64(ns * 10, n) : 0;
	report_gap();
	report("fill: alloc_page(GFP_KERNEL) loop, %u pages: %llu.%llu ns/page",
	       n, ns / 10, ns % 10);
}

/**
 * struct guarantee_thread - one CPU's taker of the guarantee table
 * @task: the kthread, bound to @cpu
 * @cpu: its CPU
 * @held: the pages it holds, GUARANTEE_CAP entries
 * @taken: pages it took, per source
 * @exited: the kthread is done with this struct and the module's text
 */
struct guarantee_thread {
	struct task_struct *task;
	unsigned int cpu;
	void **held;
	unsigned int taken[NR_SOURCES];
	struct completion exited;
};

static DEFINE_MUTEX(guarantee_lock);
static struct guarantee_thread *guarantee_threads;
static unsigned int guarantee_nr;	/* kthreads started; 0: not prepared */
static atomic_t guarantee_arrived;
static DECLARE_COMPLETION(guarantee_go);
static bool guarantee_abort;

/* Take a page_pool's fill of pages and give them back: its cache is full. */
static void prime_page_pool(void **held)
{
	unsigned int n;

	if (src_err[SRC_PAGE_POOL])
		return;
	for (n = 0; n < POOL_PAGES && (held[n] = get_page_pool()); n++)
		;
	while (n--)
		put_page_pool(held[n]);
}

/* The pages source @i serves this CPU, GUARANTEE_CAP at most, given back. */
static void guarantee_take(struct guarantee_thread *g, unsigned int i,
			   unsigned int *gate)
{
	const struct source *s = &sources[i];
	unsigned int n;

	wait_gate(&guarantee_arrived, guarantee_nr, ++*gate);
	preempt_disable();
	for (n = 0; n < GUARANTEE_CAP && (g->held[n] = s->get()); n++)
		;
	preempt_enable();
	/* Every CPU has taken what it could before any gives back. */
	wait_gate(&guarantee_arrived, guarantee_nr, ++*gate);
	g->taken[i] = n;
	while (n--)
		s->put(g->held[n]);
}

static int guarantee_fn(void *arg)
{
	struct guarantee_thread *g = arg;
	unsigned int i, gate = 0;

	prime_page_pool(g->held);
	wait_for_completion(&guarantee_go);
	for (i = 0; i < NR_SOURCES && !READ_ONCE(guarantee_abort); i++) {
		if (src_err[i] || i == SRC_LOOP)
			continue;
		guarantee_take(g, i, &gate);
	}
	kthread_complete_and_exit(&g->exited, 0);
}

static void report_guarantee(void);

/*
 * Let the kthreads go, to take (then report) or only to exit, and free
 * what prepare set up.
 */
static void guarantee_finish(bool take)
{
	unsigned int i;

	WRITE_ONCE(guarantee_abort, !take);
	complete_all(&guarantee_go);
	for (i = 0; i < guarantee_nr; i++)
		wait_for_completion(&guarantee_threads[i].exited);
	if (take)
		report_guarantee();
	for (i = 0; i < guarantee_nr; i++)
		kvfree(guarantee_threads[i].held);
	kfree(guarantee_threads);
	guarantee_threads = NULL;
	guarantee_nr = 0;
	teardown_sources();
}

static int guarantee_prepare(void)
{
	struct guarantee_thread *g;
	unsigned int cpu, n = 0;

	guarantee_threads = kcalloc(num_online_cpus(),
				    sizeof(*guarantee_threads), GFP_KERNEL);
	if (!guarantee_threads)
		return -ENOMEM;
	setup_sources();
	reinit_completion(&guarantee_go);
	atomic_set(&guarantee_arrived, 0);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		g = &guarantee_threads[n];
		g->cpu = cpu;
		init_completion(&g->exited);
		g->held = kvcalloc(GUARANTEE_CAP, sizeof(*g->held), GFP_KERNEL);
		if (!g->held)
			break;
		g->task = kthread_create_on_cpu(guarantee_fn, g, cpu,
						"lab_guarantee/%u");
		if (IS_ERR(g->task)) {
			kvfree(g->held);
			break;
		}
		wake_up_process(g->task);
		n++;
	}
	cpus_read_unlock();
	guarantee_nr = n;
	if (n == num_online_cpus())
		return 0;
	guarantee_finish(false);
	return -ENOMEM;
}

static void report_guarantee(void)
{
	char line[REPORT_LINE];
	unsigned int i, n, t, len;
	u64 sum;

	report_gap();
	report("#### guarantee: pages served per CPU while the page allocator fails every request");
	report_gap();
	len = scnprintf(line, sizeof(line), "| source |");
	for (n = 0; n < guarantee_nr; n++)
		len += scnprintf(line + len, sizeof(line) - len, " CPU %u |",
				 guarantee_threads[n].cpu);
	report("%s all CPUs |", line);
	len = scnprintf(line, sizeof(line), "|---|");
	for (n = 0; n < guarantee_nr; n++)
		len += scnprintf(line + len, sizeof(line) - len, "---:|");
	report("%s---:|", line);
	for (i = 0; i < NR_SOURCES; i++) {
		if (i == SRC_LOOP)
			continue;
		if (src_err[i]) {
			missing_why(line, sizeof(line), i);
			report("| %s | %s |", sources[i].name, line);
			continue;
		}
		len = scnprintf(line, sizeof(line), "| %s |", sources[i].name);
		for (n = 0, sum = 0; n < guarantee_nr; n++) {
			t = guarantee_threads[n].taken[i];
			sum += t;
			len += scnprintf(line + len, sizeof(line) - len,
					 " %u%s |", t,
					 t == GUARANTEE_CAP ? " (cap)" : "");
		}
		report("%s %llu |", line, sum);
	}
	report_gap();
	report("Every CPU takes from one source at a time, all CPUs at once, %s",
	       "with preemption off,");
	report("until the source fails or gave %u pages (cap); %s", GUARANTEE_CAP,
	       "page_pool's caches were filled first.");
	if (src_err[SRC_PAGE_NOLOCK])
		return;
	report("alloc_pages_nolock() and kmalloc_nolock() never consult %s",
	       "fail_page_alloc (it may take locks):");
	report("their rows say what they serve while injection fails the %s",
	       "others, not what they would serve short of memory.");
}

/* "prepare", then "run" once the page allocator fails; see the top. */
static ssize_t guarantee_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[16];
	int err = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	mutex_lock(&guarantee_lock);
	if (sysfs_streq(buf, "prepare"))
		err = guarantee_nr ? -EBUSY : guarantee_prepare();
	else if (sysfs_streq(buf, "run") && guarantee_nr)
		guarantee_finish(true);
	else
		err = -EINVAL;
	mutex_unlock(&guarantee_lock);
	return err ?: count;
}

static const struct file_operations guarantee_fops = {
	.owner = THIS_MODULE,
	.write = guarantee_write,
	.llseek = noop_llseek,
};

#ifdef CONFIG_X86_LOCAL_APIC
/* The NMI round in flight: its source, and what the handler measured. */
static const struct source *nmi_src;
static bool nmi_pending;
static void *nmi_kept;
static unsigned int nmi_round;
static unsigned long nmi_failed;
static u64 nmi_get_ns[NMI_ROUNDS];
static u64 nmi_put_ns[NMI_ROUNDS];

static int bench_nmi(unsigned int type, struct pt_regs *regs)
{
	u64 t0, t1, t2;
	void *obj;

	if (!READ_ONCE(nmi_pending))
		return NMI_DONE;
	t0 = ktime_get_mono_fast_ns();
	obj = nmi_src->get();
	t1 = ktime_get_mono_fast_ns();
	if (obj && nmi_src->nmi == 1)
		nmi_src->put(obj);
	else
		nmi_kept = obj;
	t2 = ktime_get_mono_fast_ns();
	nmi_get_ns[nmi_round] = t1 - t0;
	nmi_put_ns[nmi_round] = t2 - t1;
	if (!obj)
		nmi_failed++;
	WRITE_ONCE(nmi_pending, false);
	return NMI_HANDLED;
}

/* One NMI from this CPU to itself; false if it never came. */
static bool nmi_once(void)
{
	u64 deadline = ktime_get_ns() + NMI_WAIT_MS * NSEC_PER_MSEC;
	bool came;

	preempt_disable();
	WRITE_ONCE(nmi_pending, true);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	while (READ_ONCE(nmi_pending) && ktime_get_ns() < deadline)
		cpu_relax();
	came = !READ_ONCE(nmi_pending);
	WRITE_ONCE(nmi_pending, false);
	preempt_enable();
	return came;
}

/* "median (min-max)" of @n nanosecond figures, sorted in place. */
static void fmt_ns(char *buf, size_t len, u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	scnprintf(buf, len, "%llu (%llu-%llu)", v[n / 2], v[0], v[n - 1]);
}

static void measure_nmi_source(unsigned int i)
{
	char get[48], put[48];
	unsigned int r;

	nmi_src = &sources[i];
	nmi_failed = 0;
	for (r = 0; r < NMI_ROUNDS; r++) {
		nmi_round = r;
		nmi_kept = NULL;
		if (!nmi_once()) {
			report("| %s | the NMI did not come | | |", nmi_src->name);
			return;
		}
		/* What may not be given back in NMI is given back here. */
		if (nmi_kept)
			nmi_src->put(nmi_kept);
		usleep_range(20, 50);
	}
	fmt_ns(get, sizeof(get), nmi_get_ns, NMI_ROUNDS);
	if (nmi_src->nmi == 1)
		fmt_ns(put, sizeof(put), nmi_put_ns, NMI_ROUNDS);
	else
		strscpy(put, "not in NMI: free_pages_nolock() unexported",
			sizeof(put));
	report("| %s | %s | %s | %lu |", nmi_src->name, get, put, nmi_failed);
}

static void measure_nmi(void)
{
	char why[64];
	unsigned int i;
	int err;

	report_gap();
	report("#### NMI: a get and its put in an NMI handler, %u NMIs %s",
	       NMI_ROUNDS, "a CPU sends itself, ns per call");
	report_gap();
	err = register_nmi_handler(NMI_LOCAL, bench_nmi, 0, KBUILD_MODNAME);
	if (err) {
		report("not measured: register_nmi_handler() failed (%d)", err);
		return;
	}
	report("| source | get median (min-max) | put median (min-max) | gets failed |");
	report("|---|---|---|---|");
	for (i = 0; i < NR_SOURCES; i++) {
		if (!sources[i].nmi)
			continue;
		if (src_err[i]) {
			missing_why(why, sizeof(why), i);
			report("| %s | %s | | |", sources[i].name, why);
			continue;
		}
		measure_nmi_source(i);
	}
	unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
	report_gap();
	report("labyrinth serves an NMI from the CPU's pool, %s",
	       "and pools its put, unless it interrupted labyrinth on that CPU: then from the NMI share, the put left to the worker.");
}
#else
static void measure_nmi(void)
{
	report_gap();
	report("NMI: not measured: no local APIC to send an NMI with");
}
#endif

static int __init bench_init(void)
{
	unsigned int pi;

	report("labyrinth_bench: %u CPUs online, %u get+put pairs per step, %u repetitions",
	       num_online_cpus(), nr_ops(), bench_reps);
	report("figures: ns per get+put pair and CPU, median (min-max) over the repetitions");
	report("(in the -get and -put tables: ns per get, ns per put)");
	setup_sources();
	measure_patterns();
	teardown_sources();
	for (pi = 0; pi < NR_PATTERNS; pi++)
		report_pattern(pi);
	measure_fill();
	measure_nmi();

	report_blob.data = report_buf;
	/* debugfs failures are not fatal and need no checking */
	bench_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_blob("report", 0400, bench_debugfs, &report_blob);
	debugfs_create_file("guarantee", 0200, bench_debugfs, NULL,
			    &guarantee_fops);
	return 0;
}
module_init(bench_init);

static void __exit bench_exit(void)
{
	/* Waits for a write to "guarantee" in progress. */
	debugfs_remove_recursive(bench_debugfs);
	if (guarantee_nr)
		guarantee_finish(false);
	labyrinth_reserve_destroy(bench_named);
}
module_exit(bench_exit);

MODULE_DESCRIPTION("labyrinth benchmark: the reserve against the kernel's page allocators and pools");
MODULE_LICENSE("GPL");

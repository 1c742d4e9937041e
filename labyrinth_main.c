// SPDX-License-Identifier: GPL-2.0
/*
 * Module wiring: parameters, named reserves, debugfs, CPU hotplug, load
 * and unload.  The pools themselves are in labyrinth_reserve.c.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/kstrtox.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/string_helpers.h>
#include <kunit/visibility.h>

#include "labyrinth_internal.h"

/*
 * The pages all reserves may hold together, counted as pages_per_cpu times
 * the possible CPUs; 0 until the module loads means a quarter of RAM.
 */
unsigned long lab_max_total_pages;
EXPORT_SYMBOL_IF_KUNIT(lab_max_total_pages);
static bool lab_debug;

/* Reserves destroyed with pages out: a late put reads them.  Until unload. */
static LIST_HEAD(lab_dead);

static enum cpuhp_state lab_hp_state;
static struct dentry *lab_debugfs;

static const char * const stat_names[LAB_NR_STATS] = {
	[LAB_SERVED_LOCAL]	= "served_local",
	[LAB_SERVED_NMI]	= "served_nmi",
	[LAB_STOLEN]		= "stolen",
	[LAB_FALLBACK]		= "fallback",
	[LAB_FAILED]		= "failed",
	[LAB_FALLBACK_SKIPPED]	= "fallback_skipped",
	[LAB_PUT_POOLED]	= "put_pooled",
	[LAB_PUT_FREED]		= "put_freed",
	[LAB_PUT_REMOTE]	= "put_remote",
	[LAB_PUT_REJECTED]	= "put_rejected",
	[LAB_PUT_SHARED]	= "put_shared",
	[LAB_PUT_DEFERRED]	= "put_deferred",
	[LAB_CLEARED_INLINE]	= "cleared_inline",
	[LAB_CLEARED_ON_PUT]	= "cleared_on_put",
	[LAB_REFILL_RUNS]	= "refill_runs",
	[LAB_PAGES_REFILLED]	= "pages_refilled",
	[LAB_REFILL_FAILURES]	= "refill_failures",
	[LAB_PAGES_CLEARED]	= "pages_cleared",
	[LAB_PAGES_ALLOCATED]	= "pages_allocated",
	[LAB_PAGES_RELEASED]	= "pages_released",
	[LAB_WRITTEN_AFTER_PUT]	= "written_after_put",
	[LAB_HWPOISON]		= "hwpoison_dropped",
	[LAB_OFFLINE_RELEASED]	= "offline_released",
	[LAB_HANDED_ON]		= "handed_on",
};

/*
 * Whether the default reserve is filled and open: set under
 * kernel_param_lock() once every pool is filled, cleared before unload.
 * Parameter writes apply to the pools only while it is set.
 */
static bool live(void)
{
	return READ_ONCE(lab_default.live);
}

/* Parse @val as a number in [@min, @max]; say why not in one line. */
static int parse_count(const char *val, const char *name, unsigned int min,
		       unsigned int max, unsigned int *out)
{
	int len = strcspn(val, "\n");
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < min || n > max) {
		pr_err("%s='%.*s' rejected: expected a number from %u to %u\n",
		       name, len, val, min, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static unsigned int max_pages_per_cpu(void)
{
	/* At most a quarter of RAM for one reserve. */
	unsigned long limit = totalram_pages() / 4 / num_possible_cpus();

	return clamp_t(unsigned long, limit, 1, LAB_MAX_PAGES_PER_CPU);
}

static unsigned long max_total_pages(void)
{
	unsigned long max = READ_ONCE(lab_max_total_pages);

	return max ?: totalram_pages() / 4;
}

/* The pages a reserve of @pages_per_cpu holds at most. */
static unsigned long reserve_pages(unsigned int pages_per_cpu)
{
	return (unsigned long)pages_per_cpu * num_possible_cpus();
}

/* Pages the reserves on lab_reserves but @skip hold at most.  Lock held. */
static unsigned long total_pages(const struct labyrinth_reserve *skip)
{
	const struct labyrinth_reserve *r;
	unsigned long sum = 0;

	lockdep_assert_held(&lab_reserves_lock);
	list_for_each_entry(r, &lab_reserves, node)
		if (r != skip)
			sum += reserve_pages(r->pages_per_cpu);
	return sum;
}

/*
 * Whether @r may hold @pages_per_cpu beside the other reserves; says why
 * not in one line, after @what.  lab_reserves_lock held.
 */
static bool within_cap(const struct labyrinth_reserve *r,
		       unsigned int pages_per_cpu, const char *what)
{
	unsigned long others = total_pages(r), max = max_total_pages();

	if (others + reserve_pages(pages_per_cpu) <= max)
		return true;
	pr_err("%s rejected: the reserves would hold %lu pages, above max_total_pages=%lu\n",
	       what, others + reserve_pages(pages_per_cpu), max);
	return false;
}

static int set_pages_per_cpu(const char *val, const struct kernel_param *kp)
{
	char what[32];
	unsigned int n;
	int err;

	err = parse_count(val, "pages_per_cpu", 1, max_pages_per_cpu(), &n);
	if (err)
		return err;
	if (live() && n < lab_default.low_watermark) {
		pr_err("pages_per_cpu=%u rejected: below low_watermark=%u\n",
		       n, lab_default.low_watermark);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "pages_per_cpu=%u", n);
	mutex_lock(&lab_reserves_lock);
	if (live() && !within_cap(&lab_default, n, what)) {
		mutex_unlock(&lab_reserves_lock);
		return -ENOSPC;
	}
	WRITE_ONCE(lab_default.pages_per_cpu, n);
	mutex_unlock(&lab_reserves_lock);
	if (live())
		lab_reserve_sync();
	return 0;
}

static int set_low_watermark(const char *val, const struct kernel_param *kp)
{
	unsigned int max = live() ? lab_default.pages_per_cpu :
				    LAB_MAX_PAGES_PER_CPU;
	unsigned int n;
	int err;

	err = parse_count(val, "low_watermark", 1, max, &n);
	if (err)
		return err;
	WRITE_ONCE(lab_default.low_watermark, n);
	if (live())
		lab_reserve_sync();
	return 0;
}

static int set_fallback(const char *val, const struct kernel_param *kp)
{
	int len = strcspn(val, "\n");
	bool on;

	if (kstrtobool(val, &on)) {
		pr_err("fallback='%.*s' rejected: expected 0/1, y/n or on/off\n",
		       len, val);
		return -EINVAL;
	}
	WRITE_ONCE(lab_default.fallback, on);
	return 0;
}

static int set_max_total_pages(const char *val, const struct kernel_param *kp)
{
	int len = strcspn(val, "\n");
	unsigned long n, held;

	if (kstrtoul(val, 0, &n) || !n || n > totalram_pages()) {
		pr_err("max_total_pages='%.*s' rejected: expected a number from 1 to %lu\n",
		       len, val, totalram_pages());
		return -EINVAL;
	}
	mutex_lock(&lab_reserves_lock);
	held = live() ? total_pages(NULL) : 0;
	if (n < held) {
		mutex_unlock(&lab_reserves_lock);
		pr_err("max_total_pages=%lu rejected: the reserves hold up to %lu pages\n",
		       n, held);
		return -EINVAL;
	}
	WRITE_ONCE(lab_max_total_pages, n);
	mutex_unlock(&lab_reserves_lock);
	return 0;
}

/* The pages the reserves hold now: what the debug table is sized for. */
static unsigned long debug_pages(void)
{
	unsigned long pages;

	mutex_lock(&lab_reserves_lock);
	pages = live() ? total_pages(NULL) :
			 reserve_pages(lab_default.pages_per_cpu);
	mutex_unlock(&lab_reserves_lock);
	return pages;
}

static int set_debug(const char *val, const struct kernel_param *kp)
{
	int len = strcspn(val, "\n");
	bool on;
	int err;

	if (kstrtobool(val, &on)) {
		pr_err("debug='%.*s' rejected: expected 0/1, y/n or on/off\n",
		       len, val);
		return -EINVAL;
	}
	err = lab_debug_enable(on, debug_pages());
	if (err) {
		pr_err("debug=%.*s rejected: no memory for the table of pages handed out\n",
		       len, val);
		return err;
	}
	WRITE_ONCE(lab_debug, on);
	return 0;
}

static const struct kernel_param_ops pages_per_cpu_ops = {
	.set = set_pages_per_cpu,
	.get = param_get_uint,
};

static const struct kernel_param_ops low_watermark_ops = {
	.set = set_low_watermark,
	.get = param_get_uint,
};

static const struct kernel_param_ops fallback_ops = {
	.set = set_fallback,
	.get = param_get_bool,
};

static const struct kernel_param_ops max_total_pages_ops = {
	.set = set_max_total_pages,
	.get = param_get_ulong,
};

static const struct kernel_param_ops debug_ops = {
	.set = set_debug,
	.get = param_get_bool,
};

module_param_cb(pages_per_cpu, &pages_per_cpu_ops, &lab_default.pages_per_cpu,
		0644);
MODULE_PARM_DESC(pages_per_cpu,
		 "Pages held in reserve on each CPU (default 128; at most 16384 and a quarter of RAM)");
module_param_cb(low_watermark, &low_watermark_ops, &lab_default.low_watermark,
		0644);
MODULE_PARM_DESC(low_watermark,
		 "Refill a CPU's pool when it falls below this many pages (default 32; 1..pages_per_cpu)");
module_param_cb(fallback, &fallback_ops, &lab_default.fallback, 0644);
MODULE_PARM_DESC(fallback,
		 "Try alloc_page(GFP_ATOMIC) when every pool is empty (default on)");
module_param_cb(max_total_pages, &max_total_pages_ops, &lab_max_total_pages,
		0644);
MODULE_PARM_DESC(max_total_pages,
		 "Pages all reserves may hold together, pages_per_cpu times the possible CPUs summed (default a quarter of RAM)");
module_param_cb(debug, &debug_ops, &lab_debug, 0644);
MODULE_PARM_DESC(debug,
		 "Check pooled pages for writes after their put and record who holds pages (default off)");

static int stats_show(struct seq_file *m, void *unused)
{
	unsigned long sum[LAB_NR_STATS] = { }, held = 0, share = 0;
	const struct labyrinth_reserve *r = m->private;
	struct lab_cpu_snapshot snap;
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		lab_snapshot(r, cpu, &snap);
		for (i = 0; i < LAB_NR_STATS; i++)
			sum[i] += snap.stat[i];
		held += snap.level;
		share += snap.share;
	}
	for (i = 0; i < LAB_NR_STATS; i++)
		seq_printf(m, "%s %lu\n", stat_names[i], sum[i]);
	seq_printf(m, "pages_held %lu\n", held);
	seq_printf(m, "nmi_share %lu\n", share);
	seq_printf(m, "pages_in_use %ld\n", (long)(sum[LAB_PAGES_ALLOCATED] -
		   sum[LAB_PAGES_RELEASED] - sum[LAB_HANDED_ON] - held));
	seq_printf(m, "capacity %lu\n",
		   (unsigned long)READ_ONCE(r->pages_per_cpu) *
		   num_online_cpus());
	seq_printf(m, "bookkeeping_bytes %zu\n", lab_bookkeeping(r));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int cpus_show(struct seq_file *m, void *unused)
{
	const struct labyrinth_reserve *r = m->private;
	struct lab_cpu_snapshot s;
	unsigned int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		lab_snapshot(r, cpu, &s);
		seq_printf(m, "%u %u %u %u %lu %lu %lu\n", cpu, s.level,
			   READ_ONCE(r->pages_per_cpu), s.min_level,
			   s.stat[LAB_SERVED_LOCAL] + s.stat[LAB_STOLEN],
			   s.stat[LAB_FALLBACK],
			   s.stat[LAB_FAILED] + s.stat[LAB_FALLBACK_SKIPPED]);
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cpus);

static int outstanding_show(struct seq_file *m, void *unused)
{
	lab_debug_show_outstanding(m, m->private);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(outstanding);

/* The files of @r in @dir.  debugfs failures are not fatal. */
static void debugfs_files(struct labyrinth_reserve *r, struct dentry *dir)
{
	debugfs_create_file("stats", 0400, dir, r, &stats_fops);
	debugfs_create_file("cpus", 0400, dir, r, &cpus_fops);
	debugfs_create_file("outstanding", 0400, dir, r, &outstanding_fops);
}

/*
 * Whether @name may name a reserve: a debugfs directory beside the default
 * reserve's files, and a tracepoint field; says why not in one line.
 */
static bool good_name(const char *name)
{
	static const char * const taken[] = {
		"default", "stats", "cpus", "outstanding",
	};
	const char *why = NULL, *p;
	size_t len;
	int i;

	if (!name) {
		pr_err("reserve name NULL rejected\n");
		return false;
	}
	len = strnlen(name, LABYRINTH_NAME_MAX + 1);
	if (!len)
		why = "empty";
	else if (len > LABYRINTH_NAME_MAX)
		why = "longer than " __stringify(LABYRINTH_NAME_MAX) " characters";
	else if (name[0] == '.')
		why = "starts with '.'";
	for (p = name; !why && *p; p++)
		if (!isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			why = "only letters, digits, '_', '-' and '.' may name a reserve";
	for (i = 0; !why && i < ARRAY_SIZE(taken); i++)
		if (!strcmp(name, taken[i]))
			why = "the name of a file of the default reserve";
	if (!why)
		return true;
	pr_err("reserve name '%*pE' rejected: %s\n",
	       (int)min_t(size_t, len, LABYRINTH_NAME_MAX + 1), name, why);
	return false;
}

/* The live reserve called @name, or NULL.  lab_reserves_lock held. */
static struct labyrinth_reserve *find_reserve(const char *name)
{
	struct labyrinth_reserve *r;

	lockdep_assert_held(&lab_reserves_lock);
	list_for_each_entry(r, &lab_reserves, node)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/* Whether @n may size a named reserve; says why not after @name. */
static bool good_size(const char *name, unsigned int n)
{
	if (n && n <= max_pages_per_cpu())
		return true;
	pr_err("reserve %s: pages_per_cpu=%u rejected: expected a number from 1 to %u\n",
	       name, n, max_pages_per_cpu());
	return false;
}

/* A named reserve refills below a quarter of its capacity. */
static unsigned int named_low_watermark(unsigned int pages_per_cpu)
{
	return max(pages_per_cpu / 4, 1U);
}

/**
 * labyrinth_reserve_create() - create a named reserve and fill it
 * @name: its name: 1 to LABYRINTH_NAME_MAX letters, digits, '_', '-' or
 *	'.', not starting with '.', unique among the reserves, and none of
 *	"default", "stats", "cpus" and "outstanding"
 * @pages_per_cpu: the pages each CPU's pool holds (as the pages_per_cpu
 *	parameter: 1 to 16384 and a quarter of RAM over the possible CPUs);
 *	a pool is refilled below a quarter of it
 * @flags: 0 or LABYRINTH_NO_FALLBACK
 *
 * Fills every online CPU's pool before it returns; a CPU that comes online
 * later is filled before it runs.  The pages of all reserves together,
 * counted as @pages_per_cpu times the possible CPUs, may not exceed the
 * max_total_pages parameter.  Counters are in
 * /sys/kernel/debug/labyrinth/@name/.
 *
 * Context: Process context.  Sleeps.
 * Return: the reserve, or an ERR_PTR(): -EINVAL for a bad name, size or
 * flag, -EEXIST for a name in use, -ENOSPC above max_total_pages,
 * -ENOMEM when the pools cannot be filled; each said in one line.
 */
struct labyrinth_reserve *labyrinth_reserve_create(const char *name,
						   unsigned int pages_per_cpu,
						   unsigned int flags)
{
	struct labyrinth_reserve *r;
	char what[LABYRINTH_NAME_MAX + 16];
	int err;

	might_sleep();
	if (!good_name(name))
		return ERR_PTR(-EINVAL);
	if (flags & ~LABYRINTH_NO_FALLBACK) {
		pr_err("reserve %s rejected: unknown flags %#x\n", name,
		       flags & ~LABYRINTH_NO_FALLBACK);
		return ERR_PTR(-EINVAL);
	}
	if (!good_size(name, pages_per_cpu))
		return ERR_PTR(-EINVAL);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r || lab_pools_init(r)) {
		pr_err("reserve %s: no memory for its pools\n", name);
		kfree(r);
		return ERR_PTR(-ENOMEM);
	}
	strscpy(r->name, name, sizeof(r->name));
	r->pages_per_cpu = pages_per_cpu;
	r->low_watermark = named_low_watermark(pages_per_cpu);
	r->fallback = !(flags & LABYRINTH_NO_FALLBACK);

	/*
	 * No CPU comes or goes while the pools are filled; the name and the
	 * pages are taken first (on the list, not live: hotplug cannot walk
	 * it meanwhile, and the memory notifier leaves it alone), so that
	 * the lock is not held across the fill.
	 */
	snprintf(what, sizeof(what), "reserve %s", name);
	cpus_read_lock();
	mutex_lock(&lab_reserves_lock);
	err = -EEXIST;
	if (find_reserve(name)) {
		pr_err("reserve %s rejected: the name is in use\n", name);
		goto err_unlock;
	}
	err = -ENOSPC;
	if (!within_cap(r, pages_per_cpu, what))
		goto err_unlock;
	list_add_tail(&r->node, &lab_reserves);
	mutex_unlock(&lab_reserves_lock);

	err = lab_pools_fill(r);
	if (err) {
		pr_err("reserve %s: cannot fill %u pages per CPU\n", name,
		       pages_per_cpu);
		mutex_lock(&lab_reserves_lock);
		list_del(&r->node);
		goto err_unlock;
	}
	lab_pools_live(r);
	cpus_read_unlock();

	r->dir = debugfs_create_dir(r->name, lab_debugfs);
	debugfs_files(r, r->dir);
	pr_info("reserve %s: %u CPUs x %u pages, low watermark %u, fallback %s\n",
		name, num_online_cpus(), pages_per_cpu, r->low_watermark,
		str_on_off(r->fallback));
	return r;

err_unlock:
	mutex_unlock(&lab_reserves_lock);
	cpus_read_unlock();
	lab_pools_release(r);
	kfree(r);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_create);

/*
 * Destroy @r.  Its structure stays, on lab_dead, until labyrinth unloads:
 * a page it served may still be given back to it, and neither its
 * counters (a reserve may pool pages another one served) nor the debug
 * table (which may overflow) can tell that none will.
 */
static void destroy(struct labyrinth_reserve *r)
{
	debugfs_remove_recursive(r->dir);
	cpus_read_lock();
	mutex_lock(&lab_reserves_lock);
	list_del(&r->node);
	mutex_unlock(&lab_reserves_lock);
	cpus_read_unlock();

	/* From here on a put frees its page: see dead_put(). */
	WRITE_ONCE(r->dead, true);
	if (lab_pools_free(r) && static_branch_unlikely(&lab_debug_key))
		lab_debug_report(r);
	mutex_lock(&lab_reserves_lock);
	list_add(&r->node, &lab_dead);
	mutex_unlock(&lab_reserves_lock);
}

/**
 * labyrinth_reserve_destroy() - drain a named reserve and free it
 * @r: the reserve, or NULL or an ERR_PTR() (then nothing happens)
 *
 * Frees every pooled page.  Pages @r served and its users still hold are
 * reported, once ("reserve NAME destroyed with N pages still out", and
 * with the debug parameter on, who took them): such a page may still be
 * given back with labyrinth_reserve_put(), which frees it, or be freed by
 * its holder: for those puts the structure of @r (not its pools, some
 * hundred bytes) is kept until labyrinth unloads.
 *
 * Context: Process context, no get, put, hand-on or resize of @r running
 * or to come but those puts.  Sleeps.
 */
void labyrinth_reserve_destroy(struct labyrinth_reserve *r)
{
	if (IS_ERR_OR_NULL(r))
		return;
	might_sleep();
	if (WARN_ON_ONCE(READ_ONCE(r->dead)))
		return;
	destroy(r);
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_destroy);

/**
 * labyrinth_reserve_resize() - change the pages each CPU's pool holds
 * @r: a named reserve
 * @pages_per_cpu: the new capacity, bounded as in labyrinth_reserve_create()
 *
 * The pools are topped up (as far as memory allows) or trimmed before it
 * returns; the low watermark follows (a quarter of the capacity).
 *
 * Context: Process context, not concurrently with
 * labyrinth_reserve_destroy() of @r.  Sleeps.
 * Return: 0, -EINVAL for a size out of bounds, or -ENOSPC above
 * max_total_pages (then nothing changed); each said in one line.
 */
int labyrinth_reserve_resize(struct labyrinth_reserve *r,
			     unsigned int pages_per_cpu)
{
	unsigned int low = named_low_watermark(pages_per_cpu);
	char what[LABYRINTH_NAME_MAX + 40];

	might_sleep();
	if (!good_size(r->name, pages_per_cpu))
		return -EINVAL;
	snprintf(what, sizeof(what), "reserve %s: pages_per_cpu=%u", r->name,
		 pages_per_cpu);
	mutex_lock(&lab_reserves_lock);
	if (!within_cap(r, pages_per_cpu, what)) {
		mutex_unlock(&lab_reserves_lock);
		return -ENOSPC;
	}
	/* Never a watermark above the capacity, on the way either. */
	if (low < r->low_watermark)
		WRITE_ONCE(r->low_watermark, low);
	WRITE_ONCE(r->pages_per_cpu, pages_per_cpu);
	WRITE_ONCE(r->low_watermark, low);
	mutex_unlock(&lab_reserves_lock);
	lab_sync(r);
	return 0;
}
EXPORT_SYMBOL_GPL(labyrinth_reserve_resize);

static void lab_debugfs_init(void)
{
	/* debugfs failures are not fatal and need no checking */
	lab_debugfs = debugfs_create_dir("labyrinth", NULL);
	lab_default.dir = lab_debugfs;
	debugfs_files(&lab_default, lab_debugfs);
}

static void set_live(bool live)
{
	kernel_param_lock(THIS_MODULE);
	WRITE_ONCE(lab_default.live, live);
	kernel_param_unlock(THIS_MODULE);
}

static int __init labyrinth_init(void)
{
	u64 start;
	int ret;

	if (lab_default.low_watermark > lab_default.pages_per_cpu) {
		pr_err("low_watermark=%u rejected: above pages_per_cpu=%u\n",
		       lab_default.low_watermark, lab_default.pages_per_cpu);
		return -EINVAL;
	}
	if (!lab_max_total_pages)
		lab_max_total_pages = max_total_pages();
	if (reserve_pages(lab_default.pages_per_cpu) > lab_max_total_pages) {
		pr_err("pages_per_cpu=%u rejected: the reserve would hold %lu pages, above max_total_pages=%lu\n",
		       lab_default.pages_per_cpu,
		       reserve_pages(lab_default.pages_per_cpu),
		       lab_max_total_pages);
		return -ENOSPC;
	}
	ret = lab_reserve_init();
	if (ret)
		return ret;

	/* Fills every online CPU now; rolls back and fails if one cannot. */
	start = ktime_get_ns();
	ret = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "labyrinth:prepare",
				lab_cpu_prepare, lab_cpu_dead);
	if (ret < 0) {
		pr_err("cannot fill %u pages per CPU: %d\n",
		       lab_default.pages_per_cpu, ret);
		goto err_reserve;
	}
	lab_hp_state = ret;

	lab_debugfs_init();
	set_live(true);
	cpus_read_lock();
	lab_pools_live(&lab_default);
	cpus_read_unlock();
	pr_info("%u CPUs x %u pages reserved (%lu KiB) in %llu us, low watermark %u, fallback %s\n",
		num_online_cpus(), lab_default.pages_per_cpu,
		(unsigned long)num_online_cpus() * lab_default.pages_per_cpu *
		(PAGE_SIZE / 1024),
		div_u64(ktime_get_ns() - start, NSEC_PER_USEC),
		lab_default.low_watermark, str_on_off(lab_default.fallback));
	return 0;

err_reserve:
	lab_reserve_exit();
	lab_debug_exit();
	return ret;
}
module_init(labyrinth_init);

static void __exit labyrinth_exit(void)
{
	struct labyrinth_reserve *r, *next;

	/*
	 * Creators that unloaded without destroying their reserve.  Nobody
	 * else changes the list now: every client module is gone.
	 */
	list_for_each_entry_safe(r, next, &lab_reserves, node) {
		if (r == &lab_default)
			continue;
		pr_warn("reserve %s was not destroyed by its creator: destroyed at unload\n",
			r->name);
		destroy(r);
	}
	set_live(false);
	debugfs_remove_recursive(lab_debugfs);
	cpuhp_remove_state_nocalls(lab_hp_state);
	lab_reserve_exit();
	lab_debug_exit();
	list_for_each_entry_safe(r, next, &lab_dead, node)
		kfree(r);
}
module_exit(labyrinth_exit);

MODULE_DESCRIPTION("Per-CPU emergency reserve of pages for atomic context");
MODULE_LICENSE("GPL");

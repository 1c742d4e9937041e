// SPDX-License-Identifier: GPL-2.0
/*
 * Module wiring: parameters, debugfs, CPU hotplug, load and unload.
 * The reserve itself is in labyrinth_reserve.c.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/string_helpers.h>
#include <kunit/visibility.h>

#include "labyrinth_internal.h"

unsigned int lab_pages_per_cpu = 128;
EXPORT_SYMBOL_IF_KUNIT(lab_pages_per_cpu);
unsigned int lab_low_watermark = 32;
EXPORT_SYMBOL_IF_KUNIT(lab_low_watermark);
bool lab_fallback = true;
EXPORT_SYMBOL_IF_KUNIT(lab_fallback);
static bool lab_debug;

/*
 * Set, under kernel_param_lock(), once every pool is filled; cleared before
 * unload.  Parameter writes apply to the pools only while it is set.
 */
bool lab_live;

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
	/* At most a quarter of RAM for the whole reserve. */
	unsigned long limit = totalram_pages() / 4 / num_possible_cpus();

	return clamp_t(unsigned long, limit, 1, LAB_MAX_PAGES_PER_CPU);
}

static int set_pages_per_cpu(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	err = parse_count(val, "pages_per_cpu", 1, max_pages_per_cpu(), &n);
	if (err)
		return err;
	if (lab_live && n < lab_low_watermark) {
		pr_err("pages_per_cpu=%u rejected: below low_watermark=%u\n",
		       n, lab_low_watermark);
		return -EINVAL;
	}
	WRITE_ONCE(lab_pages_per_cpu, n);
	if (lab_live)
		lab_reserve_sync();
	return 0;
}

static int set_low_watermark(const char *val, const struct kernel_param *kp)
{
	unsigned int max = lab_live ? lab_pages_per_cpu : LAB_MAX_PAGES_PER_CPU;
	unsigned int n;
	int err;

	err = parse_count(val, "low_watermark", 1, max, &n);
	if (err)
		return err;
	WRITE_ONCE(lab_low_watermark, n);
	if (lab_live)
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
	WRITE_ONCE(lab_fallback, on);
	return 0;
}

/* The pages the reserve holds now: what the debug table is sized for. */
static unsigned long debug_pages(void)
{
	return (unsigned long)READ_ONCE(lab_pages_per_cpu) *
	       num_possible_cpus();
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

static const struct kernel_param_ops debug_ops = {
	.set = set_debug,
	.get = param_get_bool,
};

module_param_cb(pages_per_cpu, &pages_per_cpu_ops, &lab_pages_per_cpu, 0644);
MODULE_PARM_DESC(pages_per_cpu,
		 "Pages held in reserve on each CPU (default 128; at most 16384 and a quarter of RAM)");
module_param_cb(low_watermark, &low_watermark_ops, &lab_low_watermark, 0644);
MODULE_PARM_DESC(low_watermark,
		 "Refill a CPU's pool when it falls below this many pages (default 32; 1..pages_per_cpu)");
module_param_cb(fallback, &fallback_ops, &lab_fallback, 0644);
MODULE_PARM_DESC(fallback,
		 "Try alloc_page(GFP_ATOMIC) when every pool is empty (default on)");
module_param_cb(debug, &debug_ops, &lab_debug, 0644);
MODULE_PARM_DESC(debug,
		 "Check pooled pages for writes after their put and record who holds pages (default off)");

static int stats_show(struct seq_file *m, void *unused)
{
	unsigned long sum[LAB_NR_STATS] = { }, held = 0, share = 0;
	struct lab_cpu_snapshot snap;
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		lab_reserve_snapshot(cpu, &snap);
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
		   (unsigned long)READ_ONCE(lab_pages_per_cpu) *
		   num_online_cpus());
	seq_printf(m, "bookkeeping_bytes %zu\n", lab_reserve_bookkeeping());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int cpus_show(struct seq_file *m, void *unused)
{
	struct lab_cpu_snapshot s;
	unsigned int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		lab_reserve_snapshot(cpu, &s);
		seq_printf(m, "%u %u %u %u %lu %lu %lu\n", cpu, s.level,
			   READ_ONCE(lab_pages_per_cpu), s.min_level,
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
	lab_debug_show_outstanding(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(outstanding);

static void lab_debugfs_init(void)
{
	/* debugfs failures are not fatal and need no checking */
	lab_debugfs = debugfs_create_dir("labyrinth", NULL);
	debugfs_create_file("stats", 0400, lab_debugfs, NULL, &stats_fops);
	debugfs_create_file("cpus", 0400, lab_debugfs, NULL, &cpus_fops);
	debugfs_create_file("outstanding", 0400, lab_debugfs, NULL,
			    &outstanding_fops);
}

static void set_live(bool live)
{
	kernel_param_lock(THIS_MODULE);
	WRITE_ONCE(lab_live, live);
	kernel_param_unlock(THIS_MODULE);
}

static int __init labyrinth_init(void)
{
	u64 start;
	int ret;

	if (lab_low_watermark > lab_pages_per_cpu) {
		pr_err("low_watermark=%u rejected: above pages_per_cpu=%u\n",
		       lab_low_watermark, lab_pages_per_cpu);
		return -EINVAL;
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
		       lab_pages_per_cpu, ret);
		goto err_reserve;
	}
	lab_hp_state = ret;

	lab_debugfs_init();
	set_live(true);
	lab_reserve_start();
	pr_info("%u CPUs x %u pages reserved (%lu KiB) in %llu us, low watermark %u, fallback %s\n",
		num_online_cpus(), lab_pages_per_cpu,
		(unsigned long)num_online_cpus() * lab_pages_per_cpu *
		(PAGE_SIZE / 1024),
		div_u64(ktime_get_ns() - start, NSEC_PER_USEC),
		lab_low_watermark, str_on_off(lab_fallback));
	return 0;

err_reserve:
	lab_reserve_exit();
	lab_debug_exit();
	return ret;
}
module_init(labyrinth_init);

static void __exit labyrinth_exit(void)
{
	set_live(false);
	debugfs_remove_recursive(lab_debugfs);
	cpuhp_remove_state_nocalls(lab_hp_state);
	lab_reserve_exit();
	lab_debug_exit();
}
module_exit(labyrinth_exit);

MODULE_DESCRIPTION("Per-CPU emergency reserve of pages for atomic context");
MODULE_LICENSE("GPL");

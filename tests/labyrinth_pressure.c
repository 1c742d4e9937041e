// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_pressure - memory pressure for the network clients' experiment.
 *
 * While loaded:
 *
 *  - a kernel thread takes every page the page allocator will give without
 *    waking the OOM killer (GFP_KERNEL | __GFP_NORETRY), and keeps taking
 *    them as reclaim and frees make some available: free memory stays at
 *    the zone's min watermark, the lowest an allocation that may reclaim
 *    is allowed, and what lies below it is the headroom of GFP_ATOMIC
 *    allocations.  The pages are yielded to reclaim only for allocations
 *    that would otherwise wake the OOM killer (a fork, say), never to those
 *    that may fail, nor to kswapd, and the thread then pauses a moment so
 *    that the allocation which asked gets them: the guest keeps running
 *    and the pressure stays;
 *
 *  - with compete_rate set, an hrtimer (softirq) takes that many pages per
 *    second with alloc_page(GFP_ATOMIC) and holds each for compete_hold_ms:
 *    other atomic users, competing with a driver for the same headroom.
 *
 * Writing 1 to /sys/kernel/debug/labyrinth_pressure/run starts both (the
 * counters from zero), 0 stops them and gives every page back, as unload
 * does.  Counters are in .../stats; free_low is the fewest free pages the
 * hog saw once it held all it could get (sampled as it retries, about
 * every millisecond).  The experiment's receiver starts and
 * stops the pressure itself, so that no other task allocates meanwhile: a
 * fork's kernel stack is an allocation that may not fail, and reclaim
 * would take it from the hog.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kstrtox.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "labyrinth_compat.h"
#include "labyrinth_test.h"

#define TICK_NS		NSEC_PER_MSEC	/* the competitor's period */
#define HOG_PAUSE_MS	200	/* the hog's pause after it yielded pages */

static bool pressure_hog = true;
static unsigned int pressure_rate;	/* competitor: pages per second */
static unsigned int pressure_hold_ms = 100;

static int set_rate(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 0, 100000);
}

static int set_hold(const char *val, const struct kernel_param *kp)
{
	return lab_test_set_range(val, kp, 1, 10000);
}

static const struct kernel_param_ops rate_ops = {
	.set = set_rate,
	.get = param_get_uint,
};

static const struct kernel_param_ops hold_ops = {
	.set = set_hold,
	.get = param_get_uint,
};

module_param_named(hog, pressure_hog, bool, 0444);
MODULE_PARM_DESC(hog, "Hold free memory at the min watermark while running (default on)");
module_param_cb(compete_rate, &rate_ops, &pressure_rate, 0444);
MODULE_PARM_DESC(compete_rate,
		 "GFP_ATOMIC pages taken per second by a competing user (0-100000, default 0)");
module_param_cb(compete_hold_ms, &hold_ops, &pressure_hold_ms, 0444);
MODULE_PARM_DESC(compete_hold_ms,
		 "How long the competing user holds each page (1-10000 ms, default 100)");

static struct lab_test_hoard hog;
static unsigned long hog_max, hog_full;
static unsigned long free_low;	/* the fewest free pages the hog saw */
static unsigned long hog_resume;	/* jiffies: no taking before */
static struct task_struct *hog_task;
static struct shrinker *hog_shrinker;

/* The competitor's pages, oldest first; each one's deadline in ->private. */
static LIST_HEAD(rival_pages);
static unsigned long rival_held, rival_taken, rival_failed;
static unsigned long rival_credit;	/* pages per second, accumulated */
static struct hrtimer rival_timer;

static struct dentry *pressure_debugfs;

static int hog_fn(void *unused)
{
	unsigned long free;
	struct page *page;

	while (!kthread_should_stop()) {
		if (time_before(jiffies, READ_ONCE(hog_resume))) {
			msleep(20);
			continue;
		}
		page = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN |
				  __GFP_NOMEMALLOC);
		free = global_zone_page_state(NR_FREE_PAGES);
		if (hog_full && free < READ_ONCE(free_low))
			WRITE_ONCE(free_low, free);
		if (!page) {
			WRITE_ONCE(hog_full, hog_full + 1);
			usleep_range(500, 1000);
			continue;
		}
		WRITE_ONCE(hog_max, max(hog_max, lab_test_hoard_add(&hog, page)));
		cond_resched();
	}
	return 0;
}

static unsigned long hog_count(struct shrinker *s, struct shrink_control *sc)
{
	return lab_test_hoard_count(&hog, sc);
}

static unsigned long hog_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long freed = lab_test_hoard_scan(&hog, sc);

	/* Let the allocation that asked for them have them. */
	if (freed != SHRINK_STOP)
		WRITE_ONCE(hog_resume, jiffies + msecs_to_jiffies(HOG_PAUSE_MS));
	return freed;
}

/* Softirq: take this tick's pages, free those held long enough. */
static enum hrtimer_restart rival_fn(struct hrtimer *timer)
{
	unsigned long now = jiffies, hold = msecs_to_jiffies(pressure_hold_ms);
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &rival_pages, lru) {
		if (time_before(now, page_private(page)))
			break;
		list_del(&page->lru);
		set_page_private(page, 0);
		__free_page(page);
		rival_held--;
	}
	/* A late tick takes the pages of the ticks it stands for. */
	rival_credit += pressure_rate *
			hrtimer_forward_now(timer, ns_to_ktime(TICK_NS));
	for (; rival_credit >= MSEC_PER_SEC; rival_credit -= MSEC_PER_SEC) {
		page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
		if (!page) {
			rival_failed++;
			continue;
		}
		set_page_private(page, now + hold);
		list_add_tail(&page->lru, &rival_pages);
		rival_held++;
		rival_taken++;
	}
	return HRTIMER_RESTART;
}

static int stats_show(struct seq_file *m, void *unused)
{
	unsigned long held, yielded;

	spin_lock(&hog.lock);
	held = hog.held;
	yielded = hog.yielded;
	spin_unlock(&hog.lock);
	seq_printf(m, "hog_held %lu\nhog_max %lu\nhog_yielded %lu\nhog_full %lu\n",
		   held, READ_ONCE(hog_max), yielded, READ_ONCE(hog_full));
	seq_printf(m, "free_low %lu\n",
		   READ_ONCE(hog_full) ? READ_ONCE(free_low) : 0);
	seq_printf(m, "rival_held %lu\nrival_taken %lu\nrival_failed %lu\n",
		   READ_ONCE(rival_held), READ_ONCE(rival_taken),
		   READ_ONCE(rival_failed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* Start the hog and the competitor, counters from zero. */
static int pressure_start(void)
{
	hog_max = 0;
	hog_full = 0;
	free_low = ULONG_MAX;
	rival_held = 0;
	rival_taken = 0;
	rival_failed = 0;
	rival_credit = 0;
	hog_resume = jiffies;
	if (pressure_hog) {
		hog_shrinker = lab_shrinker_create(KBUILD_MODNAME, hog_count,
						   hog_scan);
		/* Without it the hog would wake the OOM killer. */
		if (!hog_shrinker)
			return -ENOMEM;
		hog_task = kthread_run(hog_fn, NULL, "lab_pressure");
		if (IS_ERR(hog_task)) {
			int err = PTR_ERR(hog_task);

			hog_task = NULL;
			lab_shrinker_destroy(hog_shrinker);
			hog_shrinker = NULL;
			return err;
		}
	}
	if (pressure_rate) {
		lab_hrtimer_setup(&rival_timer, rival_fn, CLOCK_MONOTONIC,
				  HRTIMER_MODE_REL_SOFT);
		hrtimer_start(&rival_timer, ns_to_ktime(TICK_NS),
			      HRTIMER_MODE_REL_SOFT);
	}
	return 0;
}

/* Stop both and give back every page; the counters stay readable. */
static void pressure_stop(void)
{
	if (pressure_rate)
		hrtimer_cancel(&rival_timer);
	if (hog_task) {
		kthread_stop(hog_task);
		hog_task = NULL;
		lab_shrinker_destroy(hog_shrinker);
		hog_shrinker = NULL;
	}
	lab_test_free_list(&rival_pages);
	lab_test_hoard_release(&hog);
	pr_info("held %lu pages at most, yielded %lu; competitor took %lu, failed %lu\n",
		hog_max, hog.yielded, rival_taken, rival_failed);
}

static DEFINE_MUTEX(pressure_mutex);	/* pressure_on, start and stop */
static bool pressure_on;

/* debugfs "run": 1 starts the pressure, 0 ends it. */
static ssize_t run_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	bool on;
	int ret;

	ret = kstrtobool_from_user(buf, len, &on);
	if (ret)
		return ret;
	mutex_lock(&pressure_mutex);
	if (on && !pressure_on)
		ret = pressure_start();
	else if (!on && pressure_on)
		pressure_stop();
	if (!ret)
		pressure_on = on;
	mutex_unlock(&pressure_mutex);
	return ret ?: len;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static int __init pressure_init(void)
{
	lab_test_hoard_init(&hog);
	pressure_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0400, pressure_debugfs, NULL, &stats_fops);
	debugfs_create_file("run", 0200, pressure_debugfs, NULL, &run_fops);
	return 0;
}
module_init(pressure_init);

static void __exit pressure_exit(void)
{
	debugfs_remove_recursive(pressure_debugfs);
	if (pressure_on)
		pressure_stop();
}
module_exit(pressure_exit);

MODULE_DESCRIPTION("labyrinth's clients experiment: memory held at the min watermark, competing GFP_ATOMIC users");
MODULE_LICENSE("GPL");

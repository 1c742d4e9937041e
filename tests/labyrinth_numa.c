// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_numa - where the reserve's pages live, on a machine with more
 * than one memory node.
 *
 * Each write to /sys/kernel/debug/labyrinth_numa/run does one thing, on the
 * CPUs it names, in a worker bound to each; /sys/kernel/debug/labyrinth_numa/
 * result then says what the pages were.  The guest script (numa.sh) holds
 * that against labyrinth's counters.
 *
 *   take CPU N		on CPU, with preemption off (the refill worker cannot
 *			run), take N pages, then give them all back.
 *			Result: "taken T off_node M", M the pages not on
 *			CPU's node.
 *   hand FROM TO	on TO take a page (the pool then has room), on FROM
 *			take one and give it back on TO, then give TO's back.
 *			Result: "node N", the node of FROM's page.
 *
 * Loaded with reserve=NAME, it does all of this with a named reserve of
 * its own, of pages_per_cpu pages, created at load and destroyed at
 * unload, instead of the default reserve.
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "labyrinth.h"

#define NUMA_TAKE_MAX	65536

static char *reserve;
module_param(reserve, charp, 0444);
MODULE_PARM_DESC(reserve, "Use a named reserve of this name (default: the default reserve)");
static unsigned int pages_per_cpu = 64;
module_param(pages_per_cpu, uint, 0444);
MODULE_PARM_DESC(pages_per_cpu, "The named reserve's pages per CPU (default 64)");

static struct labyrinth_reserve *numa_reserve;
static struct dentry *numa_dir;
static DEFINE_MUTEX(numa_lock);		/* serialises runs; protects result */
static char numa_result[64];

struct numa_take {
	struct page **pages;
	unsigned int want;
	unsigned int taken;
	unsigned int off_node;
};

static struct page *numa_get(void)
{
	return numa_reserve ? labyrinth_reserve_get(numa_reserve) :
			      labyrinth_get();
}

static void numa_put(struct page *page)
{
	if (numa_reserve)
		labyrinth_reserve_put(numa_reserve, page);
	else
		labyrinth_put(page);
}

static long take_on_cpu(void *arg)
{
	struct numa_take *t = arg;
	int nid = cpu_to_mem(smp_processor_id());
	unsigned int i;

	preempt_disable();
	for (t->taken = 0; t->taken < t->want; t->taken++) {
		struct page *page = numa_get();

		if (!page)
			break;
		t->pages[t->taken] = page;
		if (page_to_nid(page) != nid)
			t->off_node++;
	}
	preempt_enable();
	for (i = 0; i < t->taken; i++)
		numa_put(t->pages[i]);
	return 0;
}

static int numa_take(unsigned int cpu, unsigned int want)
{
	struct numa_take t = { .want = want };

	if (!want || want > NUMA_TAKE_MAX)
		return -EINVAL;
	t.pages = kvcalloc(want, sizeof(*t.pages), GFP_KERNEL);
	if (!t.pages)
		return -ENOMEM;
	work_on_cpu(cpu, take_on_cpu, &t);
	kvfree(t.pages);
	snprintf(numa_result, sizeof(numa_result), "taken %u off_node %u\n",
		 t.taken, t.off_node);
	return 0;
}

static long get_on_cpu(void *arg)
{
	*(struct page **)arg = numa_get();
	return 0;
}

static long put_on_cpu(void *arg)
{
	numa_put(arg);
	return 0;
}

static int numa_hand(unsigned int from, unsigned int to)
{
	struct page *room = NULL, *page = NULL;
	int ret = 0;

	work_on_cpu(to, get_on_cpu, &room);
	work_on_cpu(from, get_on_cpu, &page);
	if (page) {
		snprintf(numa_result, sizeof(numa_result), "node %d\n",
			 page_to_nid(page));
		work_on_cpu(to, put_on_cpu, page);
	} else {
		ret = -ENOMEM;
	}
	if (room)
		work_on_cpu(to, put_on_cpu, room);
	return room ? ret : -ENOMEM;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	unsigned int a, b;
	char buf[32];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	mutex_lock(&numa_lock);
	cpus_read_lock();
	numa_result[0] = '\0';
	if (sscanf(buf, "take %u %u", &a, &b) == 2 && a < nr_cpu_ids &&
	    cpu_online(a))
		ret = numa_take(a, b);
	else if (sscanf(buf, "hand %u %u", &a, &b) == 2 && a < nr_cpu_ids &&
		 b < nr_cpu_ids && cpu_online(a) && cpu_online(b))
		ret = numa_hand(a, b);
	else
		ret = -EINVAL;
	cpus_read_unlock();
	mutex_unlock(&numa_lock);
	return ret ? ret : len;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static int result_show(struct seq_file *m, void *v)
{
	mutex_lock(&numa_lock);
	seq_puts(m, numa_result);
	mutex_unlock(&numa_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(result);

static int __init labyrinth_numa_init(void)
{
	if (reserve) {
		numa_reserve = labyrinth_reserve_create(reserve, pages_per_cpu,
							0);
		if (IS_ERR(numa_reserve))
			return PTR_ERR(numa_reserve);
	}
	numa_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("run", 0200, numa_dir, NULL, &run_fops);
	debugfs_create_file("result", 0400, numa_dir, NULL, &result_fops);
	return 0;
}
module_init(labyrinth_numa_init);

static void __exit labyrinth_numa_exit(void)
{
	debugfs_remove_recursive(numa_dir);
	labyrinth_reserve_destroy(numa_reserve);
}
module_exit(labyrinth_numa_exit);

MODULE_DESCRIPTION("labyrinth NUMA test: the node of the pages served and kept");
MODULE_LICENSE("GPL");

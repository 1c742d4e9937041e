// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_misuse - a driver's bugs, on purpose, on any kernel.
 *
 * Each write of a case name to /sys/kernel/debug/labyrinth_misuse/run gives
 * labyrinth_put() a page it must refuse, from a function of its own (so
 * that labyrinth's report names it: misuse_slab, misuse_twice, ...), and
 * checks what labyrinth may not have changed: the memory and reference
 * count of a page it does not own, a page already given back served once.
 * The write fails with EIO, after one pr_err() line, if anything changed.
 * The guest script checks the counters and the report.
 *
 * KUnit (labyrinth_kunit) tests the same refusals against the reserve's
 * internals on the test kernels; this module runs them where users load
 * labyrinth, the Debian kernel included, which has no KUnit.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poison.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"

#define MISUSE_DIRT	0xa5
#define MISUSE_TAKE	4096	/* pages taken at most after a double put */
#define MISUSE_AFTER	8	/* ... and after the page came out again */

static struct dentry *misuse_dir;

static int misuse_failed(const char *what)
{
	pr_err("%s\n", what);
	return -EIO;
}

/*
 * The refusal must not clear the object: wait for labyrinth's worker, which
 * clears returned pages while init_on_alloc or init_on_free is on.
 */
static noinline int misuse_slab(void)
{
	u8 *obj = kmalloc(64, GFP_KERNEL);
	bool intact;

	if (!obj)
		return -ENOMEM;
	memset(obj, MISUSE_DIRT, 64);
	labyrinth_free(obj);
	msleep(100);
	intact = !memchr_inv(obj, MISUSE_DIRT, 64);
	kfree(obj);
	return intact ? 0 : misuse_failed("kmalloc object changed by a refused put");
}

static noinline int misuse_tail(void)
{
	struct page *head = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);
	int count;

	if (!head)
		return -ENOMEM;
	labyrinth_put(head + 1);
	count = page_ref_count(head);
	__free_pages(head, 1);
	return count == 1 ? 0 :
	       misuse_failed("the put of a tail page changed its head's reference count");
}

static noinline int misuse_reserved(void)
{
	struct page *page = alloc_page(GFP_KERNEL);
	int count;

	if (!page)
		return -ENOMEM;
	SetPageReserved(page);
	labyrinth_put(page);
	count = page_ref_count(page);
	ClearPageReserved(page);
	__free_page(page);
	return count == 1 ? 0 :
	       misuse_failed("the put of a reserved page changed its reference count");
}

static noinline int misuse_page_pool(void)
{
	struct page *page = alloc_page(GFP_KERNEL);
	int count;

	if (!page)
		return -ENOMEM;
	page->pp_magic = PP_SIGNATURE;
	labyrinth_put(page);
	count = page_ref_count(page);
	page->pp_magic = 0;
	__free_page(page);
	return count == 1 ? 0 :
	       misuse_failed("the put of a page_pool page changed its reference count");
}

static noinline int misuse_page_cache(void)
{
	struct file *file = lab_shmem_file_setup("labyrinth_misuse", PAGE_SIZE);
	struct address_space *mapping;
	struct page *page;
	int ret = 0;

	if (IS_ERR(file))
		return PTR_ERR(file);
	mapping = file->f_mapping;
	page = shmem_read_mapping_page(mapping, 0);
	if (IS_ERR(page)) {
		ret = PTR_ERR(page);
	} else {
		int count = page_ref_count(page);

		labyrinth_put(page);
		if (page->mapping != mapping || page_ref_count(page) != count)
			ret = misuse_failed("the put of a page-cache page changed it");
		put_page(page);
	}
	fput(file);
	return ret;
}

/*
 * A page given back twice: the second put is refused, and the page is
 * served once.  This CPU's pool is emptied until the page comes out (it
 * may wait on the dirty list, served last), then MISUSE_AFTER more pages
 * are taken: none may be served twice.
 */
static noinline int misuse_twice(void)
{
	unsigned int i, j, nr = 0, after = 0, dups = 0;
	struct page *page, **taken;
	bool seen = false;

	taken = kmalloc_array(MISUSE_TAKE, sizeof(*taken), GFP_KERNEL);
	if (!taken)
		return -ENOMEM;
	preempt_disable();
	page = labyrinth_get();
	if (page) {
		labyrinth_put(page);
		labyrinth_put(page);
		while (nr < MISUSE_TAKE && after < MISUSE_AFTER) {
			taken[nr] = labyrinth_get();
			if (!taken[nr])
				break;
			seen |= taken[nr++] == page;
			after += seen;
		}
	}
	preempt_enable();

	for (i = 0; i < nr; i++) {
		for (j = i + 1; j < nr; j++)
			dups += taken[i] == taken[j];
		labyrinth_put(taken[i]);
	}
	kfree(taken);
	if (!page)
		return -ENOMEM;
	if (dups)
		return misuse_failed("a page given back twice was served twice");
	if (!seen)
		return misuse_failed("a page given back twice was not served again");
	return 0;
}

/* A page freed to the page allocator, then given back: left alone. */
static noinline int misuse_freed(void)
{
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long flags;
	int count;

	if (!page)
		return -ENOMEM;
	/* With interrupts off the page stays on this CPU's free lists. */
	local_irq_save(flags);
	__free_page(page);
	labyrinth_put(page);
	count = page_ref_count(page);
	local_irq_restore(flags);
	return count == 0 ? 0 :
	       misuse_failed("the put of a freed page changed its reference count");
}

/* A page of the reserve still referenced elsewhere: only one reference goes. */
static noinline int misuse_shared(void)
{
	struct page *page = labyrinth_get();
	int count;

	if (!page)
		return -ENOMEM;
	get_page(page);
	labyrinth_put(page);
	count = page_ref_count(page);
	put_page(page);
	return count == 1 ? 0 :
	       misuse_failed("a shared page lost more or less than one reference");
}

/* A compound page: the caller's reference is dropped, which frees it. */
static noinline int misuse_compound(void)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);

	if (!page)
		return -ENOMEM;
	labyrinth_put(page);
	return 0;
}

static noinline int misuse_null(void)
{
	labyrinth_put(NULL);
	labyrinth_free(NULL);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} misuse_cases[] = {
	{ "slab", misuse_slab },
	{ "tail", misuse_tail },
	{ "reserved", misuse_reserved },
	{ "page_pool", misuse_page_pool },
	{ "page_cache", misuse_page_cache },
	{ "twice", misuse_twice },
	{ "freed", misuse_freed },
	{ "shared", misuse_shared },
	{ "compound", misuse_compound },
	{ "null", misuse_null },
};

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	char buf[16];
	unsigned int i;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	for (i = 0; i < ARRAY_SIZE(misuse_cases); i++) {
		if (strcmp(buf, misuse_cases[i].name))
			continue;
		ret = misuse_cases[i].run();
		return ret ? ret : len;
	}
	return -EINVAL;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static int __init labyrinth_misuse_init(void)
{
	misuse_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("run", 0200, misuse_dir, NULL, &run_fops);
	return 0;
}
module_init(labyrinth_misuse_init);

static void __exit labyrinth_misuse_exit(void)
{
	debugfs_remove_recursive(misuse_dir);
}
module_exit(labyrinth_misuse_exit);

MODULE_DESCRIPTION("labyrinth misuse test: pages labyrinth_put() must refuse");
MODULE_LICENSE("GPL");

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels labyrinth and its test modules build
 * against (Debian 12's 6.1 and 6.12, Debian 13 backports' 7.3), kept here
 * as kernel-version checks so that the code elsewhere calls one name.
 * Nothing here is part of the public contract.
 */
#ifndef _LABYRINTH_COMPAT_H
#define _LABYRINTH_COMPAT_H

#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poison.h>
#include <linux/shmem_fs.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>

/*
 * lab_page_flags() - one read of the page's flags word, which 6.18 wrapped
 * in a memdesc_flags_t.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define lab_page_flags(page)	READ_ONCE((page)->flags.f)
#else
#define lab_page_flags(page)	READ_ONCE((page)->flags)
#endif

/* LAB_PG_SLAB - the flag of a slab page, before 6.10 made slab a page type. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define LAB_PG_SLAB		0UL
#else
#define LAB_PG_SLAB		BIT(PG_slab)
#endif

/*
 * lab_page_index() - the page's index word, which labyrinth's debug mark
 * uses while the page is pooled; 6.16 renamed page->index __folio_index.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define lab_page_index(page)	((page)->__folio_index)
#else
#define lab_page_index(page)	((page)->index)
#endif

/*
 * LAB_WQ_PERCPU - the flag of a per-CPU workqueue.  Per-CPU was the
 * default until WQ_PERCPU (6.17, backported to some stable trees) made
 * the choice explicit; 7.x warns without it.  Kbuild probes the kernel's
 * headers for it: a version cannot tell.
 */
#ifdef LAB_HAVE_WQ_PERCPU
#define LAB_WQ_PERCPU	WQ_PERCPU
#else
#define LAB_WQ_PERCPU	0
#endif

/**
 * lab_alloc_pages_bulk_node() - allocate order-0 pages on a node in bulk
 * @gfp: allocation flags
 * @nid: the node
 * @nr: entries of @pages to fill
 * @pages: the array; NULL entries are filled, others left alone
 *
 * alloc_pages_bulk_array_node() became alloc_pages_bulk_node() in 6.14.
 *
 * Context: As @gfp allows.
 * Return: the number of entries of @pages that hold a page.
 */
static inline unsigned long lab_alloc_pages_bulk_node(gfp_t gfp, int nid,
						      unsigned long nr,
						      struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	return alloc_pages_bulk_node(gfp, nid, nr, pages);
#else
	return alloc_pages_bulk_array_node(gfp, nid, nr, pages);
#endif
}

/**
 * lab_hrtimer_setup() - initialise an hrtimer and its callback
 * @timer: the timer
 * @fn: its callback
 * @clock: the clock
 * @mode: the mode
 *
 * hrtimer_setup() (6.13) replaced hrtimer_init() and the separate store of
 * the callback, which 6.15 removed.
 *
 * Context: Any context.
 */
static inline void lab_hrtimer_setup(struct hrtimer *timer,
				     enum hrtimer_restart (*fn)(struct hrtimer *),
				     clockid_t clock, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/**
 * lab_shmem_file_setup() - an unlinked shmem file, for tests that need
 *	page-cache pages
 * @name: its name
 * @size: its size
 *
 * 7.x passes the file's VMA flags as a vma_flags_t; the kernels that do
 * define EMPTY_VMA_FLAGS.
 *
 * Context: Process context.  Sleeps.
 * Return: the file, or an ERR_PTR().
 */
static inline struct file *lab_shmem_file_setup(const char *name, loff_t size)
{
#ifdef EMPTY_VMA_FLAGS
	return shmem_file_setup(name, size, EMPTY_VMA_FLAGS);
#else
	return shmem_file_setup(name, size, 0);
#endif
}

/*
 * The allocator's own answers for callers that may not spin: 6.18 gave
 * alloc_pages_nolock() its gfp argument and added kmalloc_nolock() and
 * kfree_nolock().  Only the benchmark calls them, to compare; where they
 * are missing the stubs fail every request.  free_pages_nolock() is not
 * exported, so a page from lab_alloc_page_nolock() goes back with
 * __free_page().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define LAB_HAVE_NOLOCK		1

static inline struct page *lab_alloc_page_nolock(void)
{
	return alloc_pages_nolock(0, NUMA_NO_NODE, 0);
}

static inline void *lab_kmalloc_nolock(size_t size)
{
	return kmalloc_nolock(size, 0, NUMA_NO_NODE);
}

static inline void lab_kfree_nolock(const void *obj)
{
	kfree_nolock(obj);
}
#else
#define LAB_HAVE_NOLOCK		0

static inline struct page *lab_alloc_page_nolock(void)
{
	return NULL;
}

static inline void *lab_kmalloc_nolock(size_t size)
{
	return NULL;
}

static inline void lab_kfree_nolock(const void *obj)
{
}
#endif

/*
 * LAB_IMPORT_KUNIT_NS() - import the namespace of EXPORT_SYMBOL_IF_KUNIT();
 * 6.13 made symbol namespaces string literals.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define LAB_IMPORT_KUNIT_NS()	MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING")
#else
#define LAB_IMPORT_KUNIT_NS()	MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING)
#endif

/**
 * lab_shrinker_create() - register a shrinker
 * @name: its name (debugfs, 6.0 and later)
 * @count: its count_objects callback
 * @scan: its scan_objects callback
 *
 * 6.7 allocates shrinkers with shrinker_alloc(); earlier kernels register
 * one the caller provides.
 *
 * Context: Process context.  Sleeps.
 * Return: the shrinker, or NULL if it could not be registered.
 */
static inline struct shrinker *
lab_shrinker_create(const char *name,
		    unsigned long (*count)(struct shrinker *,
					   struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *,
					  struct shrink_control *))
{
	struct shrinker *s;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	s = shrinker_alloc(0, "%s", name);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	shrinker_register(s);
#else
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#endif
	return s;
}

/**
 * lab_shrinker_destroy() - unregister a shrinker from lab_shrinker_create()
 * @s: the shrinker, or NULL
 *
 * Context: Process context.  Sleeps.
 */
static inline void lab_shrinker_destroy(struct shrinker *s)
{
	if (!s)
		return;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	shrinker_free(s);
#else
	unregister_shrinker(s);
	kfree(s);
#endif
}

#if IS_ENABLED(CONFIG_KASAN_GENERIC)
/*
 * Exported for KASAN's own tests but declared only in mm/kasan/kasan.h.  In
 * the tree, labyrinth would call kasan_mempool_poison_pages() and
 * kasan_mempool_unpoison_pages(), which are not exported.
 */
void kasan_poison(const void *addr, size_t size, u8 value, bool init);
#define LAB_KASAN_PAGE_FREE	0xff	/* mm/kasan/kasan.h: freed page */
#endif

/**
 * lab_kasan_poison_page() - make a pooled page's memory off limits
 * @page: an order-0 page joining the reserve
 *
 * On generic KASAN kernels an access to the page before a get hands it
 * out again is reported as a use after free.  Elsewhere a no-op.
 *
 * Context: Any context.
 */
static inline void lab_kasan_poison_page(struct page *page)
{
#if IS_ENABLED(CONFIG_KASAN_GENERIC)
	kasan_poison(page_address(page), PAGE_SIZE, LAB_KASAN_PAGE_FREE, false);
#endif
}

/**
 * lab_kasan_unpoison_page() - give a page leaving the reserve back its memory
 * @page: the page
 *
 * Context: Any context.
 */
static inline void lab_kasan_unpoison_page(struct page *page)
{
#if IS_ENABLED(CONFIG_KASAN_GENERIC)
	kasan_poison(page_address(page), PAGE_SIZE, 0, false);
#endif
}

#endif /* _LABYRINTH_COMPAT_H */

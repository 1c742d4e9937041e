/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What labyrinth_main.c and labyrinth_reserve.c share.  Nothing here is part
 * of the public contract (that is labyrinth.h).
 */
#ifndef _LABYRINTH_INTERNAL_H
#define _LABYRINTH_INTERNAL_H

#include <linux/cpumask.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/page_ref.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "labyrinth.h"
#include "labyrinth_compat.h"

/* Hard upper bound of pages_per_cpu: 64 MiB per CPU with 4 KiB pages. */
#define LAB_MAX_PAGES_PER_CPU	16384

/* Pages one theft from another CPU's stash takes at most. */
#define LAB_STEAL_MAX		16U

/*
 * Per-CPU event counters, summed over CPUs when read.  The refill worker
 * writes LAB_REFILL_RUNS to LAB_PAGES_CLEARED; the owning CPU the others,
 * with interrupts off, but LAB_WRITTEN_AFTER_PUT, LAB_OFFLINE_RELEASED and
 * LAB_HANDED_ON, which any context on the CPU bumps with this_cpu_inc() or
 * this_cpu_add().  An NMI that owns the pool counts where the owner does;
 * one that interrupted the owner counts in a copy of its own, with
 * this_cpu_inc(), added in when read.
 */
enum lab_stat_item {
	LAB_SERVED_LOCAL,	/* get served by the local pool */
	LAB_SERVED_NMI,		/* get in NMI served by the local pool */
	LAB_STOLEN,		/* get served by another CPU's stash */
	LAB_FALLBACK,		/* get served by alloc_page(GFP_ATOMIC) */
	LAB_FAILED,		/* get returned NULL */
	LAB_FALLBACK_SKIPPED,	/* get returned NULL: allocator not allowed here */
	LAB_PUT_POOLED,		/* put kept in the local pool */
	LAB_PUT_FREED,		/* put freed: the pool was full */
	LAB_PUT_REMOTE,		/* put freed: the page is on another node */
	LAB_PUT_REJECTED,	/* put refused: not a poolable page */
	LAB_PUT_SHARED,		/* put of a page also referenced elsewhere */
	LAB_PUT_DEFERRED,	/* put in NMI left to the refill worker */
	LAB_CLEARED_INLINE,	/* returned pages cleared on the get path */
	LAB_CLEARED_ON_PUT,	/* returned pages cleared on the put path */
	LAB_REFILL_RUNS,	/* refill worker runs */
	LAB_PAGES_REFILLED,	/* pages the refill worker added */
	LAB_REFILL_FAILURES,	/* refill runs that could not reach capacity */
	LAB_PAGES_CLEARED,	/* returned pages cleared by the worker */
	LAB_PAGES_ALLOCATED,	/* pages taken from the page allocator */
	LAB_PAGES_RELEASED,	/* pages given back to the page allocator */
	LAB_WRITTEN_AFTER_PUT,	/* debug: pages found written after their put */
	LAB_HWPOISON,		/* pooled pages dropped: memory error */
	LAB_OFFLINE_RELEASED,	/* pooled pages freed: memory going offline */
	LAB_HANDED_ON,		/* served pages handed on: freed by their holders */
	LAB_NR_STATS
};

/**
 * struct lab_cpu_snapshot - one CPU's pool as seen by a reader
 * @stat: event counters, indexed by enum lab_stat_item
 * @level: pages in the pool now
 * @min_level: lowest level seen since the pool was first filled
 * @share: pages of @level kept for NMI callers
 */
struct lab_cpu_snapshot {
	unsigned long stat[LAB_NR_STATS];
	unsigned int level;
	unsigned int share;
	unsigned int min_level;
};

/*
 * Test hooks: a KUnit case runs the other party of a race at the exact
 * point where it matters.  Compiled out of kernels without KUnit.
 */
enum lab_hook_point {
	LAB_HOOK_PUT_REFUSED,	/* a put whose freeze failed, before its verdict */
	LAB_HOOK_NMI_OWNED,	/* an NMI owns the pool, before it takes a page */
};

void lab_set_test_hook(void (*fn)(enum lab_hook_point where,
				  struct page *page));

DECLARE_STATIC_KEY_FALSE(lab_debug_key);

int lab_debug_enable(bool on, unsigned long pages);
void lab_debug_put(const struct labyrinth_reserve *r, struct page *page,
		   unsigned long ip);
bool lab_debug_untrack(struct page *page);
void lab_debug_forget(struct page *page);
bool lab_debug_check(struct page *page, unsigned long taker);
bool lab_debug_get(const struct labyrinth_reserve *r, struct page *page,
		   unsigned long ip, bool pooled);
void lab_debug_show_outstanding(struct seq_file *m,
				const struct labyrinth_reserve *r);
unsigned long lab_debug_report(const struct labyrinth_reserve *r);
void lab_debug_exit(void);

struct lab_cpu;

/**
 * struct labyrinth_reserve - a reserve: one pool per possible CPU
 * @cpus: the pools
 * @pages_per_cpu: the capacity of each pool
 * @low_watermark: a pool below this is refilled
 * @fallback: a get that finds every pool empty may call the page allocator
 * @live: every online pool is filled and users may come; until then (and
 *	again from destroy on) the pools are the loader's alone
 * @dead: destroyed; a page given back is freed (see dead_put())
 * @stocked: CPUs whose stash had pages when last changed: where thieves
 *	look (a hint; see stash_count())
 * @node: in lab_reserves, under lab_reserves_lock
 * @dir: its debugfs directory (the default reserve's is labyrinth's own)
 * @name: "default", or the name labyrinth_reserve_create() was given
 *
 * The default reserve (lab_default) is a static instance, sized by the
 * module parameters, which point into it.
 */
struct labyrinth_reserve {
	struct lab_cpu __percpu *cpus;
	unsigned int pages_per_cpu;
	unsigned int low_watermark;
	bool fallback;
	bool live;
	bool dead;
	struct list_head node;
	struct dentry *dir;
	char name[LABYRINTH_NAME_MAX + 1];
	/* Written by every CPU's stash changes: off the fields gets read. */
	cpumask_var_t stocked ____cacheline_aligned_in_smp;
};

extern struct labyrinth_reserve lab_default;
extern struct mutex lab_reserves_lock;
extern struct list_head lab_reserves;
extern unsigned long lab_max_total_pages;

int lab_reserve_init(void);
void lab_reserve_exit(void);
int lab_pools_init(struct labyrinth_reserve *r);
int lab_pools_fill(struct labyrinth_reserve *r);
void lab_pools_release(struct labyrinth_reserve *r);
void lab_pools_live(struct labyrinth_reserve *r);
long lab_pools_free(struct labyrinth_reserve *r);
void lab_sync(struct labyrinth_reserve *r);
void lab_snapshot(const struct labyrinth_reserve *r, unsigned int cpu,
		  struct lab_cpu_snapshot *snap);
void lab_reserve_sync(void);
void lab_reserve_snapshot(unsigned int cpu, struct lab_cpu_snapshot *snap);
size_t lab_bookkeeping(const struct labyrinth_reserve *r);
int lab_cpu_prepare(unsigned int cpu);
int lab_cpu_dead(unsigned int cpu);

#endif /* _LABYRINTH_INTERNAL_H */

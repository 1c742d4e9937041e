// SPDX-License-Identifier: GPL-2.0
/*
 * labyrinth_floor - the floor labyrinth_bench measures labyrinth against.
 *
 * Each CPU has an array of pages that only that CPU touches, with
 * interrupts off around each access, so that an interrupt handler on the
 * CPU could use it too: the least any IRQ-safe per-CPU pool can cost.  An
 * empty array falls back to the page allocator and a full one frees,
 * which only the benchmark's cross-CPU pattern reaches.
 *
 * It is a module of its own so that the benchmark calls it as it calls
 * labyrinth: through a function exported by another module.  Under
 * emulation where code falls changes what a call costs; the floor is
 * placed as labyrinth is, not beside the benchmark's loop.
 */
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/module.h>
#include <linux/percpu.h>

#include "labyrinth_floor.h"

#define FLOOR_MAX	64	/* capacity of an array */
#define FLOOR_FILL	32	/* pages in an array after lab_floor_setup() */

struct floor_cpu {
	unsigned int active;
	unsigned int nr;
	struct page *pages[FLOOR_MAX];
};

static DEFINE_PER_CPU(struct floor_cpu, floor_cpus);

/**
 * lab_floor_teardown() - free every page of every CPU's array
 *
 * Context: Process context, the arrays idle.
 */
void lab_floor_teardown(void)
{
	struct floor_cpu *f;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(&floor_cpus, cpu);
		while (f->nr)
			__free_page(f->pages[--f->nr]);
	}
}
EXPORT_SYMBOL_GPL(lab_floor_teardown);

/**
 * lab_floor_setup() - fill every CPU's array with FLOOR_FILL pages
 *
 * Context: Process context, the arrays idle.  Sleeps.
 * Return: 0, or -ENOMEM with the arrays empty.
 */
int lab_floor_setup(void)
{
	struct floor_cpu *f;
	struct page *page;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		f = per_cpu_ptr(&floor_cpus, cpu);
		while (f->nr < FLOOR_FILL) {
			page = alloc_page(GFP_KERNEL);
			if (!page) {
				lab_floor_teardown();
				return -ENOMEM;
			}
			f->pages[f->nr++] = page;
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(lab_floor_setup);

/*
 * The guard labyrinth puts around every section on a CPU's pool, for NMI
 * callers to read: a plain increment and decrement of a per-CPU counter,
 * each followed by a compiler barrier (labyrinth_reserve.c: active_raise(),
 * active_lower()).  The guarded floor prices it.
 */
static __always_inline void guard_raise(struct floor_cpu *f, bool guard)
{
	if (guard) {
		WRITE_ONCE(f->active, f->active + 1);
		barrier();
	}
}

static __always_inline void guard_lower(struct floor_cpu *f, bool guard)
{
	if (guard) {
		barrier();
		WRITE_ONCE(f->active, f->active - 1);
	}
}

static __always_inline struct page *floor_get(bool guard)
{
	struct page *page = NULL;
	struct floor_cpu *f;
	unsigned long flags;

	local_irq_save(flags);
	f = this_cpu_ptr(&floor_cpus);
	guard_raise(f, guard);
	if (likely(f->nr))
		page = f->pages[--f->nr];
	guard_lower(f, guard);
	local_irq_restore(flags);
	return page ?: alloc_page(GFP_ATOMIC);
}

static __always_inline void floor_put(struct page *page, bool guard)
{
	struct floor_cpu *f;
	unsigned long flags;
	bool kept = false;

	local_irq_save(flags);
	f = this_cpu_ptr(&floor_cpus);
	guard_raise(f, guard);
	if (likely(f->nr < FLOOR_MAX)) {
		f->pages[f->nr++] = page;
		kept = true;
	}
	guard_lower(f, guard);
	local_irq_restore(flags);
	if (unlikely(!kept))
		__free_page(page);
}

/**
 * lab_floor_get() - a page of this CPU's array, else alloc_page(GFP_ATOMIC)
 *
 * Context: Process, softirq or hard-IRQ context.
 * Return: a page, or NULL.
 */
struct page *lab_floor_get(void)
{
	return floor_get(false);
}
EXPORT_SYMBOL_GPL(lab_floor_get);

/**
 * lab_floor_put() - keep @page in this CPU's array, or free it if full
 * @page: a page the caller owns
 *
 * Context: Process, softirq or hard-IRQ context.
 */
void lab_floor_put(struct page *page)
{
	floor_put(page, false);
}
EXPORT_SYMBOL_GPL(lab_floor_put);

/**
 * lab_floor_get_guarded() - lab_floor_get() inside labyrinth's NMI guard
 *
 * Context: Process, softirq or hard-IRQ context.
 * Return: a page, or NULL.
 */
struct page *lab_floor_get_guarded(void)
{
	return floor_get(true);
}
EXPORT_SYMBOL_GPL(lab_floor_get_guarded);

/**
 * lab_floor_put_guarded() - lab_floor_put() inside labyrinth's NMI guard
 * @page: a page the caller owns
 *
 * Context: Process, softirq or hard-IRQ context.
 */
void lab_floor_put_guarded(struct page *page)
{
	floor_put(page, true);
}
EXPORT_SYMBOL_GPL(lab_floor_put_guarded);

static void __exit floor_exit(void)
{
	lab_floor_teardown();
}
module_exit(floor_exit);

MODULE_DESCRIPTION("labyrinth benchmark's floor: a bare per-CPU page array with interrupts off");
MODULE_LICENSE("GPL");

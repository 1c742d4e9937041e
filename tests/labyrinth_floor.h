/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's floor (labyrinth_floor.ko): a bare per-CPU array of pages
 * with interrupts off around each access, the least an IRQ-safe pool can
 * cost.  Not part of labyrinth.
 */
#ifndef _LABYRINTH_FLOOR_H
#define _LABYRINTH_FLOOR_H

struct page;

int lab_floor_setup(void);
void lab_floor_teardown(void);
struct page *lab_floor_get(void);
void lab_floor_put(struct page *page);
struct page *lab_floor_get_guarded(void);
void lab_floor_put_guarded(struct page *page);

#endif /* _LABYRINTH_FLOOR_H */

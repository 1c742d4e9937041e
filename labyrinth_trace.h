/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of labyrinth (trace system "labyrinth"), each naming its
 * reserve.  Disabled, each costs a static branch; its arguments are only
 * computed when it is enabled.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM labyrinth

#if !defined(_LABYRINTH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LABYRINTH_TRACE_H

#include <linux/tracepoint.h>

#include "labyrinth_internal.h"

/*
 * A reserve's name, its NUL included: copied whole from the array in
 * struct labyrinth_reserve, which holds exactly this many bytes.
 */
#ifndef LAB_TRACE_NAME
#define LAB_TRACE_NAME	(LABYRINTH_NAME_MAX + 1)
#endif

TRACE_EVENT(labyrinth_get,
	    TP_PROTO(const char *reserve, unsigned int cpu, int source,
		     unsigned int level),
	    TP_ARGS(reserve, cpu, source, level),
	    TP_STRUCT__entry(__array(char, reserve, LAB_TRACE_NAME)
			     __field(unsigned int, cpu)
			     __field(int, source)
			     __field(unsigned int, level)),
	    TP_fast_assign(memcpy(__entry->reserve, reserve, LAB_TRACE_NAME);
			   __entry->cpu = cpu;
			   __entry->source = source;
			   __entry->level = level;),
	    TP_printk("reserve=%s cpu=%u source=%s level=%u",
		      __entry->reserve, __entry->cpu,
		      __print_symbolic(__entry->source,
				       { LAB_SERVED_LOCAL, "local" },
				       { LAB_STOLEN, "steal" },
				       { LAB_FALLBACK, "fallback" },
				       { LAB_FAILED, "fail" }),
		      __entry->level)
);

TRACE_EVENT(labyrinth_put,
	    TP_PROTO(const char *reserve, unsigned int cpu, int outcome,
		     unsigned int level),
	    TP_ARGS(reserve, cpu, outcome, level),
	    TP_STRUCT__entry(__array(char, reserve, LAB_TRACE_NAME)
			     __field(unsigned int, cpu)
			     __field(int, outcome)
			     __field(unsigned int, level)),
	    TP_fast_assign(memcpy(__entry->reserve, reserve, LAB_TRACE_NAME);
			   __entry->cpu = cpu;
			   __entry->outcome = outcome;
			   __entry->level = level;),
	    TP_printk("reserve=%s cpu=%u outcome=%s level=%u",
		      __entry->reserve, __entry->cpu,
		      __print_symbolic(__entry->outcome,
				       { LAB_PUT_POOLED, "pooled" },
				       { LAB_PUT_FREED, "freed" },
				       { LAB_PUT_REMOTE, "remote" },
				       { LAB_PUT_REJECTED, "rejected" }),
		      __entry->level)
);

TRACE_EVENT(labyrinth_refill,
	    TP_PROTO(const char *reserve, unsigned int cpu, unsigned int pages,
		     u64 duration_ns),
	    TP_ARGS(reserve, cpu, pages, duration_ns),
	    TP_STRUCT__entry(__array(char, reserve, LAB_TRACE_NAME)
			     __field(unsigned int, cpu)
			     __field(unsigned int, pages)
			     __field(u64, duration_ns)),
	    TP_fast_assign(memcpy(__entry->reserve, reserve, LAB_TRACE_NAME);
			   __entry->cpu = cpu;
			   __entry->pages = pages;
			   __entry->duration_ns = duration_ns;),
	    TP_printk("reserve=%s cpu=%u pages=%u duration_ns=%llu",
		      __entry->reserve, __entry->cpu,
		      __entry->pages, __entry->duration_ns)
);

#endif /* _LABYRINTH_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE labyrinth_trace
#include <trace/define_trace.h>

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of labyrinth (trace system "labyrinth").  Disabled, each costs
 * a static branch; its arguments are only computed when it is enabled.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM labyrinth

#if !defined(_LABYRINTH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LABYRINTH_TRACE_H

#include <linux/tracepoint.h>

#include "labyrinth_internal.h"

TRACE_EVENT(labyrinth_get,
	    TP_PROTO(unsigned int cpu, int source, unsigned int level),
	    TP_ARGS(cpu, source, level),
	    TP_STRUCT__entry(__field(unsigned int, cpu)
			     __field(int, source)
			     __field(unsigned int, level)),
	    TP_fast_assign(__entry->cpu = cpu;
			   __entry->source = source;
			   __entry->level = level;),
	    TP_printk("cpu=%u source=%s level=%u", __entry->cpu,
		      __print_symbolic(__entry->source,
				       { LAB_SERVED_LOCAL, "local" },
				       { LAB_STOLEN, "steal" },
				       { LAB_FALLBACK, "fallback" },
				       { LAB_FAILED, "fail" }),
		      __entry->level)
);

TRACE_EVENT(labyrinth_put,
	    TP_PROTO(unsigned int cpu, int outcome, unsigned int level),
	    TP_ARGS(cpu, outcome, level),
	    TP_STRUCT__entry(__field(unsigned int, cpu)
			     __field(int, outcome)
			     __field(unsigned int, level)),
	    TP_fast_assign(__entry->cpu = cpu;
			   __entry->outcome = outcome;
			   __entry->level = level;),
	    TP_printk("cpu=%u outcome=%s level=%u", __entry->cpu,
		      __print_symbolic(__entry->outcome,
				       { LAB_PUT_POOLED, "pooled" },
				       { LAB_PUT_FREED, "freed" },
				       { LAB_PUT_REMOTE, "remote" },
				       { LAB_PUT_REJECTED, "rejected" }),
		      __entry->level)
);

TRACE_EVENT(labyrinth_refill,
	    TP_PROTO(unsigned int cpu, unsigned int pages, u64 duration_ns),
	    TP_ARGS(cpu, pages, duration_ns),
	    TP_STRUCT__entry(__field(unsigned int, cpu)
			     __field(unsigned int, pages)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->cpu = cpu;
			   __entry->pages = pages;
			   __entry->duration_ns = duration_ns;),
	    TP_printk("cpu=%u pages=%u duration_ns=%llu", __entry->cpu,
		      __entry->pages, __entry->duration_ns)
);

#endif /* _LABYRINTH_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE labyrinth_trace
#include <trace/define_trace.h>

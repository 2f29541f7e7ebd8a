/* dump.h - the collector's state as one JSON document: agents, live flows, counters.
 *
 * Written on SIGUSR1 and at exit (collector.h). The agents are the inventory's entries
 * (identity, interfaces and their counters, health, batches lost/duplicated/reordered, clock
 * offset); the flows are the merge's live view: per merged flow its key, totals, the loss
 * between the two agents that saw it (per direction) and every observation. This module is the
 * collector's one user of jansson.
 */
#ifndef NETSCOPE_DUMP_H
#define NETSCOPE_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netscope/inventory.h"
#include "netscope/merge.h"

/* Counters to include, as name/value pairs. */
typedef struct {
    const char *name;
    uint64_t value;
} ns_dump_counter_t;

/* Write {"time": ..., "counters": {...}, "agents": [...], "flows": [...]} and a newline to
 * `out`. Returns false when writing failed or memory ran out. */
bool ns_dump_write(FILE *out, const ns_inventory_t *inv, const ns_merge_t *merge,
                   const ns_dump_counter_t *counters, size_t n_counters, uint64_t now_ns);

#endif /* NETSCOPE_DUMP_H */

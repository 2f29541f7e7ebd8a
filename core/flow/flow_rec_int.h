/* flow_rec_int.h - filling a flow record from the table (the engine's part of flow_rec.c). */
#ifndef NETSCOPE_FLOW_REC_INT_H
#define NETSCOPE_FLOW_REC_INT_H

#include <stdint.h>

#include "netscope/flow_rec.h"
#include "netscope/flow_table.h"

/* Zero `r` and fill every field the table holds for flow `idx`: key (originator first),
 * Community ID, times, Zeek's derived values, counters, TCP analysis, quality, rates. The
 * caller adds uid, kind, end_reason, emit_ns, interim, service and transactions. */
void ns_flow_rec_fill_table(ns_flow_rec_t *r, const ns_flow_table_t *t, uint32_t idx);

#endif /* NETSCOPE_FLOW_REC_INT_H */

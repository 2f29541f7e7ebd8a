/* flow_engine.h - decoded packets in, flow records out: the flow pipeline of one thread.
 *
 * Ties together the flow table (storage), the expiry policy (when flows end), the fragment
 * cache (non-first fragments), TCP analysis and the application layer (flow_app.h). The agent
 * and `netscope flows` both run it; the caller decodes frames and passes each ns_pkt_t in, in
 * capture order, and receives every record through a callback: when a flow ends (fin, rst,
 * idle, evicted), for interim records of long flows (active_timeout), and for every flow left
 * at ns_flow_engine_flush() (end_of_input).
 *
 * Design: all memory is allocated by ns_flow_engine_new(); ns_flow_engine_add() does no
 * allocation. Time is the packets' timestamps (or the caller's clock through
 * ns_flow_engine_expire()), never a clock of our own; the hash seed is passed in. Not
 * thread-safe: one engine per thread.
 */
#ifndef NETSCOPE_FLOW_ENGINE_H
#define NETSCOPE_FLOW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_app.h"
#include "netscope/flow_expire.h"
#include "netscope/flow_table.h"
#include "netscope/pkt.h"

#define NS_FLOW_MAX_FLOWS_DEFAULT 1048576u
#define NS_FLOW_FRAG_SLOTS_DEFAULT 4096u

typedef struct {
    uint32_t max_flows;      /* table capacity (default NS_FLOW_MAX_FLOWS_DEFAULT) */
    uint64_t seed;           /* hash seed; also seeds the uids */
    ns_flow_expire_t expire; /* timeouts */
    uint32_t frag_slots;     /* fragment cache entries */
    bool app;                /* run the application layer (HTTP, DNS) */
    ns_app_limits_t app_limits;
} ns_flow_engine_opts_t;

typedef struct {
    uint64_t packets;          /* passed to ns_flow_engine_add() */
    uint64_t wire_bytes;
    uint64_t non_ip;           /* no IP header: not part of any flow */
    uint64_t in_flows;         /* packets counted in a flow */
    uint64_t frag_attributed;  /* non-first fragments joined to their flow */
    uint64_t frag_unattributed;/* non-first fragments whose first fragment was not seen */
    uint64_t flows;            /* flows created */
    uint64_t records[NS_FLOW_END_COUNT]; /* records written, by reason */
    uint64_t truncated;        /* packets cut by the snaplen */
    uint64_t thr_bytes[2];     /* global throughput buckets (current, previous second) */
    uint64_t thr_pkts[2];
    uint64_t thr_last_ns;
} ns_flow_engine_stats_t;

typedef struct ns_flow_engine ns_flow_engine_t;

/* Receives each record. `idx` names the flow in ns_flow_engine_table(); the flow (and its
 * application state) is valid during the call only, except for interim records. `now_ns` is
 * the time the record is written (packet time). */
typedef void (*ns_flow_emit_fn)(void *ud, const ns_flow_engine_t *eng, uint32_t idx,
                                ns_flow_end_t reason, uint64_t now_ns);

/* Fill `o` with the defaults (1,048,576 flows, seed 0, ns_flow_expire_default, app on). */
void ns_flow_engine_opts_default(ns_flow_engine_opts_t *o);

/* A new engine owned by the caller, or NULL when out of memory or the options are out of
 * range. `emit` (not NULL) is called with `ud` for every record. */
ns_flow_engine_t *ns_flow_engine_new(const ns_flow_engine_opts_t *o, ns_flow_emit_fn emit,
                                     void *ud);

/* Free the engine (without writing the flows left: call ns_flow_engine_flush() first) and
 * NULL the pointer. NULL-safe. */
void ns_flow_engine_destroy(ns_flow_engine_t **self_p);

/* Account one decoded packet. `frame` is the buffer pkt's offsets refer to (used by the
 * application layer); pkt->ts_ns is the time. Records that fall due are emitted first. */
void ns_flow_engine_add(ns_flow_engine_t *self, const ns_pkt_t *pkt, const uint8_t *frame);

/* Write (and forget) every flow whose timeout has passed at `now_ns`. Live captures call this
 * when the capture is quiet; ns_flow_engine_add() calls it itself. */
void ns_flow_engine_expire(ns_flow_engine_t *self, uint64_t now_ns);

/* Write every remaining flow with `reason` (normally end_of_input) at `now_ns` (0: each
 * flow's last_ns), least recently seen first, and empty the table. With end_of_input, a TCP
 * flow that is only lingering after its close is written "fin" or "rst". */
void ns_flow_engine_flush(ns_flow_engine_t *self, ns_flow_end_t reason, uint64_t now_ns);

/* The parts, for reading records inside the callback. */
const ns_flow_table_t *ns_flow_engine_table(const ns_flow_engine_t *self);
const ns_app_pool_t *ns_flow_engine_app(const ns_flow_engine_t *self); /* NULL when off */
const ns_flow_engine_stats_t *ns_flow_engine_stats(const ns_flow_engine_t *self);

/* Zeek-like uid of flow `idx`: "C" followed by 17 base-62 digits derived from the seed, the
 * flow's key and its first packet time (deterministic for a fixed seed). Returns the length. */
size_t ns_flow_engine_uid(const ns_flow_engine_t *self, uint32_t idx, char *out, size_t outlen);

/* Interim (active timeout) records written for flow `idx` before a record for `reason`. */
uint32_t ns_flow_engine_interim_n(const ns_flow_engine_t *self, uint32_t idx,
                                  ns_flow_end_t reason);

/* Global throughput over the 1-second sliding window ending at `now_ns`. */
void ns_flow_engine_rate(const ns_flow_engine_t *self, uint64_t now_ns, double *bps,
                         double *pps);

#endif /* NETSCOPE_FLOW_ENGINE_H */

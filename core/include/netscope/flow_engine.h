/* flow_engine.h - decoded packets in, flow records out: the flow pipeline of one thread.
 *
 * Ties together the flow table (storage), the expiry policy (when flows end), the fragment
 * cache (non-first fragments), TCP analysis and the application layer (flow_app.h). The agent
 * and `netscope flows` both run it; the caller decodes frames and passes each ns_pkt_t in, in
 * capture order, and receives every record through a callback: when a flow ends (fin, rst,
 * idle, evicted), for interim records of long flows (active_timeout), and for every flow left
 * at ns_flow_engine_flush() (end_of_input).
 *
 * Every record reaches the callback as a filled ns_flow_rec_t (flow_rec.h), the one record
 * type the CLI formats, the codec serializes and the collector merges.
 *
 * Export (opts.export_live, the agent): the engine also keeps the set of flows touched since
 * the last ns_flow_engine_export() in a side array (4 bytes per flow of capacity plus one
 * position word; the 96-byte hot record is unchanged), and export() hands each of them over
 * once as an NS_FLOW_REC_UPDATE record: cumulative counters and live conn_state/history, at a
 * cost proportional to the flows that changed, never a table scan. Flows that end are handed
 * over when they end (NS_FLOW_REC_FINAL), as without export. Each HTTP/DNS transaction
 * travels once: a record carries the transactions completed since the flow's previous record
 * (a final record: all that are left), and the flow's mark moves past them.
 *
 * Time: the packets' timestamps (or the caller's clock through ns_flow_engine_expire()),
 * never a clock of our own. The engine keeps a clock (the latest trusted time) that one
 * packet may move by at most expire.max_step_ns: a packet further ahead (a far-future, or a
 * negative timestamp read as one) is counted in stats.clock_suspect and accounted at the
 * clock's time, so it neither expires every flow nor stalls expiry afterwards. A second packet
 * that agrees with it (at or after it) proves the jump real (a capture resumed after a quiet
 * spell): the clock moves there and the first packet's flow gets its true times back
 * (stats.clock_jumps). Packets far behind the clock are handled the same way, so one bogus
 * first packet does not hold the clock in the future either. Flows left from an abandoned
 * clock are expired (flow_expire.h).
 *
 * Design: all memory is allocated by ns_flow_engine_new(); ns_flow_engine_add() does no
 * allocation. The hash seed is passed in. Not thread-safe: one engine per thread.
 */
#ifndef NETSCOPE_FLOW_ENGINE_H
#define NETSCOPE_FLOW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_app.h"
#include "netscope/flow_expire.h"
#include "netscope/flow_rec.h"
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
    bool export_live;        /* track changed flows for ns_flow_engine_export() */
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
    uint64_t clock_suspect;    /* packets too far from the clock, accounted at the clock's time */
    uint64_t clock_jumps;      /* clock moves of more than max_step_ns confirmed by a 2nd packet */
    uint64_t exports;          /* ns_flow_engine_export() calls */
    uint64_t updates;          /* update records handed over by them */
} ns_flow_engine_stats_t;

typedef struct ns_flow_engine ns_flow_engine_t;

/* Receives each record. `rec` (and the transactions and strings it points to) is valid during
 * the call only. `idx` names the flow in ns_flow_engine_table(), valid during the call; a
 * final record's flow is deleted right after it. rec->emit_ns is the time the record is
 * written (packet time, or the time passed to expire/export/flush). The callback must not
 * call back into the engine. */
typedef void (*ns_flow_emit_fn)(void *ud, const ns_flow_engine_t *eng, uint32_t idx,
                                const ns_flow_rec_t *rec);

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

/* Write (and forget) every flow whose timeout has passed at `now_ns`, a trusted time (the
 * caller's wall clock; the engine's clock moves to it when it is later). Live captures call
 * this when the capture is quiet; ns_flow_engine_add() calls it itself. */
void ns_flow_engine_expire(ns_flow_engine_t *self, uint64_t now_ns);

/* Export (opts.export_live only; otherwise a no-op returning 0): hand every flow changed
 * since the previous call to the callback as an NS_FLOW_REC_UPDATE record made at `now_ns`,
 * and start a new interval. Returns the number of records handed over. */
uint32_t ns_flow_engine_export(ns_flow_engine_t *self, uint64_t now_ns);

/* Flows changed since the last export (0 without export_live). */
uint32_t ns_flow_engine_pending(const ns_flow_engine_t *self);

/* The engine's clock: the latest trusted time (0 before the first packet). */
uint64_t ns_flow_engine_clock(const ns_flow_engine_t *self);

/* Write every remaining flow with `reason` (normally end_of_input, or shutdown) at `now_ns`
 * (0: each flow's last_ns), least recently seen first, and empty the table. With end_of_input
 * or shutdown, a TCP flow that is only lingering after its close is written "fin" or "rst". */
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

/* The keyed hash (ns_flow_table_hash()) of the flow the latest packet went to, or 0 when it
 * went to none (not IP, an unattributed fragment). Lets a caller index packets by flow
 * without building the key again. */
uint64_t ns_flow_engine_last_hash(const ns_flow_engine_t *self);

/* Global throughput over the 1-second sliding window ending at `now_ns`. */
void ns_flow_engine_rate(const ns_flow_engine_t *self, uint64_t now_ns, double *bps,
                         double *pps);

#endif /* NETSCOPE_FLOW_ENGINE_H */

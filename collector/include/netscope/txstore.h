/* txstore.h - HTTP and DNS transactions waiting for their flow's final record.
 *
 * An agent sends each transaction once: in the live update that first carries it, or in the
 * final record (flow_engine.h). The collector's flows file holds one line per finished flow
 * with all its transactions, like `netscope flows`, so the transactions that came in updates
 * wait here, per (agent, flow uid), until the final record arrives and takes them.
 *
 * Design: deep copies (strings and answers) in entries found through a chained hash, kept in
 * arrival order for eviction: the store is bounded in bytes; over the bound, or older than
 * the age given to ns_txstore_expire() (an agent that never sent the final), the oldest
 * entries are dropped and counted. The live flow table reads the latest one of each flow
 * (ns_txstore_latest()).
 */
#ifndef NETSCOPE_TXSTORE_H
#define NETSCOPE_TXSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow_rec.h"

typedef struct ns_txstore ns_txstore_t;

typedef struct {
    uint32_t entries;       /* flows with transactions waiting */
    size_t bytes;           /* their size */
    uint64_t added;         /* transactions stored */
    uint64_t dropped;       /* transactions dropped (bound, age, out of memory) */
} ns_txstore_stats_t;

/* A store of at most `max_bytes` (0: 64 MiB), or NULL when out of memory. */
ns_txstore_t *ns_txstore_new(size_t max_bytes);
void ns_txstore_destroy(ns_txstore_t **self_p);

/* Keep the transactions `r` carries for flow r->uid of agent `agent`, received at `now_ns`. */
void ns_txstore_add(ns_txstore_t *self, uint32_t agent, const ns_flow_rec_t *r, uint64_t now_ns);

/* `final` with the transactions kept for its flow put before its own: fills *out (a copy of
 * `final` whose http/dns arrays the store owns until the next call on it) and forgets the
 * flow's entry. */
void ns_txstore_take(ns_txstore_t *self, uint32_t agent, const ns_flow_rec_t *final,
                     ns_flow_rec_t *out);

/* The latest transaction kept for flow `uid` of agent `agent`, as one line of text in `out`
 * (`len` bytes, cut to fit): an HTTP request as "METHOD host/uri", else a DNS query name.
 * The text is the peer's bytes, unescaped: whoever shows it must treat it as text. False
 * (and `out` empty) when the flow has no request or query kept. */
bool ns_txstore_latest(const ns_txstore_t *self, uint32_t agent, const char *uid, char *out,
                       size_t len);

/* Drop the entries received before `now_ns - age_ns`. */
void ns_txstore_expire(ns_txstore_t *self, uint64_t now_ns, uint64_t age_ns);

void ns_txstore_stats(const ns_txstore_t *self, ns_txstore_stats_t *out);

#endif /* NETSCOPE_TXSTORE_H */

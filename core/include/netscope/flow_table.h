/* flow_table.h - fixed-capacity storage of flow records: keyed lookup and expiry queues.
 *
 * The table knows keys, records and order, not policy: which queue a flow belongs to, when it
 * times out and what is written when it ends are the business of flow_expire.h and
 * flow_engine.h (STYLE.md: the flow table is separate from the expiry policy).
 *
 * Design: everything is allocated once by ns_flow_table_new() for `capacity` flows and never
 * again: records (ns_flow_t) and TCP records (ns_flow_tcp_t) in parallel arrays named by a
 * 32-bit index; the high words of wrapped counters (parallel too, touched only by flows past
 * 2^32); pools of IPv6 address pairs and of TCP extensions (one entry per flow of capacity,
 * handed out most recently freed first, so only as many pages are resident as flows use); an
 * open-addressing index (linear probing, load <= 1/2, 4 bytes per slot, backward-shift
 * deletion so no tombstones pile up); and NS_FLOW_QUEUES doubly linked queues through the
 * records, each in least-recently-seen order. Arrays come from calloc, so memory the kernel
 * maps lazily is resident only once flows use it.
 *
 * Caveats: pointers returned by ns_flow_table_get()/ns_flow_table_tcp() stay valid until the
 * flow is deleted; indexes of deleted flows are reused.
 */
#ifndef NETSCOPE_FLOW_TABLE_H
#define NETSCOPE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_key.h"

#define NS_FLOW_QUEUES 8
#define NS_FLOW_TABLE_MAX_CAPACITY (1u << 30)

typedef struct ns_flow_table ns_flow_table_t;

/* A table for at most `capacity` flows (1 .. NS_FLOW_TABLE_MAX_CAPACITY), hashing with `seed`.
 * Returns a new table owned by the caller, or NULL when out of memory or capacity is out of
 * range. */
ns_flow_table_t *ns_flow_table_new(uint32_t capacity, uint64_t seed);

/* Free the table and NULL the pointer. NULL-safe. */
void ns_flow_table_destroy(ns_flow_table_t **self_p);

/* Hash of `key` with the table's seed (pass it to find/add). */
uint64_t ns_flow_table_hash(const ns_flow_table_t *self, const ns_flow_key_t *key);

/* Index of the flow with `key`, or NS_FLOW_NONE. */
uint32_t ns_flow_table_find(const ns_flow_table_t *self, const ns_flow_key_t *key, uint64_t hash);

/* Add a flow for `key` (not present) at the most recent end of `queue`. The record is zeroed
 * except for its key and first_ns = last_ns = now_ns; a TCP flow's TCP record is zeroed.
 * Returns its index, or NS_FLOW_NONE when the table is full (evict first). */
uint32_t ns_flow_table_add(ns_flow_table_t *self, const ns_flow_key_t *key, uint64_t hash,
                           unsigned queue, uint64_t now_ns);

/* Delete flow `idx` (from the index and its queue); its index may be reused. Deleting an
 * index that is not a live flow is a programmer error: the process aborts with a message. */
void ns_flow_table_del(ns_flow_table_t *self, uint32_t idx);

/* Move flow `idx` to the most recent end of `queue` (possibly another queue). */
void ns_flow_table_touch(ns_flow_table_t *self, uint32_t idx, unsigned queue);

/* The least recently touched flow of `queue`, or NS_FLOW_NONE. */
uint32_t ns_flow_table_oldest(const ns_flow_table_t *self, unsigned queue);

/* The least recently seen flow of all queues (smallest last_ns among the queue heads), or
 * NS_FLOW_NONE when empty: the eviction victim. */
uint32_t ns_flow_table_lru(const ns_flow_table_t *self);

/* The flow after `idx` in its queue (towards the most recent), or NS_FLOW_NONE. */
uint32_t ns_flow_table_next(const ns_flow_table_t *self, uint32_t idx);

/* Record / TCP record of a live flow. */
ns_flow_t *ns_flow_table_get(ns_flow_table_t *self, uint32_t idx);
ns_flow_tcp_t *ns_flow_table_tcp(ns_flow_table_t *self, uint32_t idx);
const ns_flow_t *ns_flow_table_cget(const ns_flow_table_t *self, uint32_t idx);
const ns_flow_tcp_t *ns_flow_table_ctcp(const ns_flow_table_t *self, uint32_t idx);

/* Add a carry to counter `counter` (dir * 4 + k, k: 0 pkts, 1 wire, 2 ip, 3 payload bytes)
 * of flow `idx`, whose low 32 bits in the record just wrapped. */
void ns_flow_table_carry(ns_flow_table_t *self, uint32_t idx, unsigned counter);

/* The TCP extension of TCP flow `idx`, taken from the pool (zeroed) on first use; it returns
 * to the pool when the flow is deleted. Never NULL for a live TCP flow (the pool has one per
 * flow of capacity), but callers check. Valid until the flow is deleted. */
ns_flow_tcp_ext_t *ns_flow_table_tcp_ext(ns_flow_table_t *self, uint32_t idx);

/* A widened copy of flow `idx` (see ns_flow_view_t). */
void ns_flow_table_view(const ns_flow_table_t *self, uint32_t idx, ns_flow_view_t *v);

/* The most TCP extensions in use at once (resident memory: about 88 bytes each). */
uint32_t ns_flow_table_ext_peak(const ns_flow_table_t *self);

/* The full canonical key of flow `idx`. */
void ns_flow_table_key(const ns_flow_table_t *self, uint32_t idx, ns_flow_key_t *key);

/* Live flows, and the capacity fixed at creation. */
uint32_t ns_flow_table_count(const ns_flow_table_t *self);
uint32_t ns_flow_table_capacity(const ns_flow_table_t *self);

/* Bytes allocated (virtual) by the table, and the size of one flow's records. */
size_t ns_flow_table_bytes(const ns_flow_table_t *self);

#endif /* NETSCOPE_FLOW_TABLE_H */

/* outq.h - what the agent's exporter holds for the collector.
 *
 * Flow records reach the exporter already encoded (one protobuf entry each, see codec.h) and
 * wait here until they fit in a batch:
 *   - updates (live state of open flows) are coalesced per flow: only the newest state of a
 *     flow waits, since each carries cumulative counters (a lost or replaced update costs
 *     freshness, never a wrong total);
 *   - final records wait in order in a buffer of bounded size; when it is full the oldest
 *     are dropped, and every drop is counted (reported in the next heartbeat). Updates that
 *     carry HTTP/DNS transactions wait there too: a transaction travels once, so such an
 *     update is never coalesced away; it replaces the flow's waiting update (it is newer);
 *   - a batch that carried final records is kept, as sent, until the collector acknowledges
 *     its sequence number; after a reconnect (or when an acknowledgement is overdue) every
 *     such batch is sent again with its original sequence number, so the collector drops the
 *     duplicates by number. At most `window` batches are kept: the exporter stops sending
 *     new ones while the window is full, which bounds this memory too.
 * Final records are counted produced (in), dropped (never sent: exactly undelivered) and
 * acknowledged, so delivered + dropped = produced can be checked at the end of a run.
 *
 * Design: pure bookkeeping, no sockets and no clock (times are passed in); entries are
 * copied in (malloc: the exporter thread, never the packet path). Not thread-safe.
 */
#ifndef NETSCOPE_OUTQ_H
#define NETSCOPE_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ns_outq ns_outq_t;

typedef struct {
    size_t finals_max_bytes;  /* final records waiting (never sent) */
    size_t updates_max_bytes; /* updates waiting */
    uint32_t window;          /* batches with final records sent and not acknowledged */
} ns_outq_opts_t;

typedef struct {
    uint64_t finals_in, finals_dropped, finals_sent, finals_acked;
    uint64_t txn_in, txn_dropped; /* updates carrying transactions (kept with the finals) */
    uint64_t updates_in, updates_coalesced, updates_dropped, updates_sent;
    uint64_t batches_kept, batches_acked, batches_resent;
    uint32_t finals_waiting, updates_waiting, unacked;
    size_t finals_bytes, updates_bytes, unacked_bytes;
} ns_outq_stats_t;

/* A queue with these bounds (zero fields: 64 MiB, 64 MiB, 64 batches), or NULL when out of
 * memory. Owned by the caller. */
ns_outq_t *ns_outq_new(const ns_outq_opts_t *opts);
void ns_outq_destroy(ns_outq_t **self_p);

/* The newest state of flow `uid` (NUL-terminated, at most 31 bytes): replaces what waited
 * for that flow. `entry` (n bytes) is copied. */
void ns_outq_update(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n);

/* The final record of flow `uid`: waits in order; an update of the flow still waiting is
 * dropped (this supersedes it). `entry` is copied. */
void ns_outq_final(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n);

/* An update of flow `uid` that carries transactions: waits in order with the final records
 * (dropped oldest first with them when the buffer is full, counted in txn_dropped), and
 * replaces the flow's waiting update. `entry` is copied. */
void ns_outq_txn(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n);

/* Offered an entry for the batch being built: true when it was taken, false when the batch
 * is full (the entry stays queued). */
typedef bool (*ns_outq_add_fn)(void *ud, const uint8_t *entry, size_t n);

/* Offer waiting entries to `add`: the ordered buffer first (final records and updates carrying
 * transactions, oldest first), then the coalesced updates (least recently queued first),
 * until it refuses one. Taken entries leave the queue. The counts of each kind taken are
 * stored in *finals, *txns and *updates. */
void ns_outq_fill(ns_outq_t *self, ns_outq_add_fn add, void *ud, uint32_t *finals, uint32_t *txns,
                  uint32_t *updates);

/* True when nothing waits to be sent. */
bool ns_outq_idle(const ns_outq_t *self);

/* True when `window` batches wait for acknowledgement: send no new batch. */
bool ns_outq_window_full(const ns_outq_t *self);

/* The batch `msg` (len bytes, a whole message) was sent as `seq`, holding `finals` final
 * records and `txns` updates carrying transactions, at `now_ns`: kept until acknowledged
 * when it holds either (copied). */
void ns_outq_sent(ns_outq_t *self, uint64_t seq, const uint8_t *msg, size_t len, uint32_t finals,
                  uint32_t txns, uint64_t now_ns);

/* The collector has every batch up to `seq`: forget the kept ones. */
void ns_outq_ack(ns_outq_t *self, uint64_t seq);

/* The lowest sequence number kept for resending, or 0 when none is kept. */
uint64_t ns_outq_lowest_kept(const ns_outq_t *self);

/* Sent at or before `now_ns - timeout_ns` and still not acknowledged: true when the oldest
 * kept batch is that old. */
bool ns_outq_ack_overdue(const ns_outq_t *self, uint64_t now_ns, uint64_t timeout_ns);

/* Hand every kept batch, oldest first, to `send` (to be sent again as it was) and restart
 * their ack timers at `now_ns`; returns how many. */
typedef void (*ns_outq_send_fn)(void *ud, uint64_t seq, const uint8_t *msg, size_t len);
uint32_t ns_outq_resend(ns_outq_t *self, ns_outq_send_fn send, void *ud, uint64_t now_ns);

void ns_outq_stats(const ns_outq_t *self, ns_outq_stats_t *out);

#endif /* NETSCOPE_OUTQ_H */

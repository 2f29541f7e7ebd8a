/* seqtrack.h - one agent's FlowBatch sequence numbers: new, duplicate or late; what to ack.
 *
 * An agent numbers its batches 1, 2, 3, ... (uint64, never wraps in practice) and keeps every
 * batch the collector has not acknowledged; after a reconnect it resends them with their
 * ORIGINAL numbers, so duplicates are normal and batches may arrive out of order. For each
 * arriving number the tracker says whether the batch is new (process it), late (new, but a
 * higher number arrived first: process it, it was reordered) or a duplicate (drop it), and it
 * keeps the highest contiguous number: everything up to it was received or given up for lost,
 * which is what the collector's Ack acknowledges.
 *
 * Design: bounded memory. Numbers above the contiguous point are remembered in a bitmap of
 * `window` bits (a ring indexed by seq mod window). A number more than `window` ahead of the
 * contiguous point pushes the point forward: the oldest missing numbers fall out of the window
 * and are counted lost. A jump of any size (2^40 included) costs at most one pass over the
 * bitmap, never a loop over the numbers skipped. Time is not used at all.
 *
 * Baseline: a tracker knows nothing of the past. The first number it sees (after new() or
 * reset()) is the baseline: numbers below it are not lost, they are simply before our time
 * (a collector that restarted must not report an agent's whole history as lost), and if one
 * of them arrives it is reported as a duplicate. The same holds for any number at or below
 * the contiguous point: within bounded memory the tracker cannot tell a resend of a batch it
 * received from a batch it declared lost, so both are duplicates (and a lost batch stays
 * counted lost).
 *
 * Caveats: an agent process that restarts starts again at 1, which the tracker would report
 * as duplicates; the caller detects the restart (a new instance in the agent's Hello) and
 * calls ns_seqtrack_reset(). Declaring numbers lost (window overflow or
 * ns_seqtrack_forget_below()) moves the ack past them, which tells the agent it may drop them.
 */
#ifndef NETSCOPE_SEQTRACK_H
#define NETSCOPE_SEQTRACK_H

#include <stddef.h>
#include <stdint.h>

#define NS_SEQTRACK_WINDOW_DEFAULT 4096u
#define NS_SEQTRACK_WINDOW_MAX (1u << 20)

/* What an arriving sequence number is. */
typedef enum {
    NS_SEQ_NEW = 0,   /* not received before, no higher number seen before it: process */
    NS_SEQ_LATE,      /* not received before, but a higher number came first: process */
    NS_SEQ_DUPLICATE, /* received before, or at/below the contiguous point: drop the batch */
    NS_SEQ_INVALID,   /* 0, which no agent sends: drop the batch */
} ns_seq_verdict_t;

/* Counters and positions, all cumulative since new() or reset(). */
typedef struct {
    uint64_t received;   /* distinct batches accepted (NS_SEQ_NEW + NS_SEQ_LATE) */
    uint64_t duplicates; /* NS_SEQ_DUPLICATE */
    uint64_t reordered;  /* NS_SEQ_LATE */
    uint64_t lost;       /* declared lost: fell out of the window, or the agent forgot them */
    uint64_t invalid;    /* NS_SEQ_INVALID */
    uint64_t missing;    /* gaps above the contiguous point not yet lost (may still arrive) */
    uint64_t baseline;   /* the first number seen (0: none yet) */
    uint64_t contiguous; /* highest contiguous number: the ack (0: none yet) */
    uint64_t highest;    /* highest number received or accounted for (0: none yet) */
} ns_seqtrack_stats_t;

typedef struct ns_seqtrack ns_seqtrack_t;

/* A tracker remembering `window` numbers past the contiguous point (0: the default; rounded
 * up to a multiple of 64; at most NS_SEQTRACK_WINDOW_MAX). Returns a new tracker owned by the
 * caller, or NULL with a sentence in errbuf (window too large, out of memory). */
ns_seqtrack_t *ns_seqtrack_new(uint32_t window, char *errbuf, size_t errlen);

/* Free the tracker and NULL the pointer. NULL-safe. */
void ns_seqtrack_destroy(ns_seqtrack_t **self_p);

/* Forget everything: the next number seen is a new baseline (an agent process restarted). */
void ns_seqtrack_reset(ns_seqtrack_t *self);

/* Account arriving number `seq` and say what it is (see ns_seq_verdict_t). A number more than
 * the window past the contiguous point declares the oldest missing numbers lost. */
ns_seq_verdict_t ns_seqtrack_add(ns_seqtrack_t *self, uint64_t seq);

/* The agent no longer holds anything below `seq` (its heartbeat's lowest resendable number):
 * every missing number below `seq` is declared lost and the contiguous point moves to at
 * least seq - 1. Numbers below the baseline stay uncounted; before any number was seen this
 * does nothing (the baseline comes from a batch, not from a heartbeat). */
void ns_seqtrack_forget_below(ns_seqtrack_t *self, uint64_t seq);

/* The highest contiguous number (what to acknowledge), 0 before any number was seen. */
uint64_t ns_seqtrack_ack(const ns_seqtrack_t *self);

/* Fill `out` with the counters and positions. */
void ns_seqtrack_stats(const ns_seqtrack_t *self, ns_seqtrack_stats_t *out);

#endif /* NETSCOPE_SEQTRACK_H */

/* seqtrack.c - per-agent batch sequence numbers in a bitmap window past the contiguous point.
 *
 * The bitmap holds one bit per number in (contiguous, contiguous + window], at bit
 * seq % window: each number of that range has its own bit, and a bit is cleared as soon as the
 * contiguous point passes its number, so a bit set always means "received, above the point".
 * `in_window` counts the bits set, which makes the numbers still missing (highest - contiguous
 * - in_window) and a jump past the whole window (everything remembered is below the new point:
 * lost = span - in_window, then one memset) cost nothing per number skipped.
 */
#include "netscope/seqtrack.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ns_seqtrack {
    uint64_t *bits;
    uint32_t window;    /* bits; a multiple of 64 */
    uint64_t in_window; /* bits set */
    ns_seqtrack_stats_t st; /* `missing` is derived in ns_seqtrack_stats() */
};

ns_seqtrack_t *
ns_seqtrack_new(uint32_t window, char *errbuf, size_t errlen)
{
    if (window == 0)
        window = NS_SEQTRACK_WINDOW_DEFAULT;
    if (window > NS_SEQTRACK_WINDOW_MAX) {
        snprintf(errbuf, errlen, "sequence window of %u batches is too large (at most %u)",
                 window, NS_SEQTRACK_WINDOW_MAX);
        return NULL;
    }
    window = (window + 63u) & ~63u;
    ns_seqtrack_t *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->bits = calloc(window / 64u, sizeof(uint64_t));
    if (t == NULL || t->bits == NULL) {
        snprintf(errbuf, errlen, "out of memory for a sequence tracker of %u batches", window);
        ns_seqtrack_destroy(&t);
        return NULL;
    }
    t->window = window;
    return t;
}

void
ns_seqtrack_destroy(ns_seqtrack_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->bits);
    free(*self_p);
    *self_p = NULL;
}

void
ns_seqtrack_reset(ns_seqtrack_t *self)
{
    memset(self->bits, 0, self->window / 64u * sizeof(uint64_t));
    self->in_window = 0;
    memset(&self->st, 0, sizeof(self->st));
}

/* ---- the bitmap ------------------------------------------------------------------------ */

static bool
bit_get(const ns_seqtrack_t *t, uint64_t seq)
{
    uint64_t i = seq % t->window;
    return (t->bits[i / 64u] >> (i % 64u)) & 1u;
}

static void
bit_flip(ns_seqtrack_t *t, uint64_t seq)
{
    uint64_t i = seq % t->window;
    t->bits[i / 64u] ^= (uint64_t)1 << (i % 64u);
}

/* Move the contiguous point over every number received right after it. */
static void
slide(ns_seqtrack_t *t)
{
    while (t->in_window > 0 && bit_get(t, t->st.contiguous + 1)) {
        t->st.contiguous++;
        bit_flip(t, t->st.contiguous);
        t->in_window--;
    }
}

/* Move the contiguous point to `target`, declaring lost every number up to it that never
 * came, then over the received numbers that follow. */
static void
advance_to(ns_seqtrack_t *t, uint64_t target)
{
    uint64_t base = t->st.contiguous;
    if (target <= base)
        return;
    uint64_t span = target - base;
    if (span >= t->window) {
        /* Everything remembered lies in (base, base + window], at or below the target. */
        t->st.lost += span - t->in_window;
        memset(t->bits, 0, t->window / 64u * sizeof(uint64_t));
        t->in_window = 0;
    } else {
        for (uint64_t s = base + 1; s <= target; s++) {
            if (bit_get(t, s)) {
                bit_flip(t, s);
                t->in_window--;
            } else {
                t->st.lost++;
            }
        }
    }
    t->st.contiguous = target;
    if (t->st.highest < target)
        t->st.highest = target;
    slide(t);
}

/* ---- numbers --------------------------------------------------------------------------- */

ns_seq_verdict_t
ns_seqtrack_add(ns_seqtrack_t *self, uint64_t seq)
{
    ns_seqtrack_stats_t *st = &self->st;
    if (seq == 0) {
        st->invalid++;
        return NS_SEQ_INVALID;
    }
    if (st->baseline == 0) {
        st->baseline = st->contiguous = st->highest = seq;
        st->received++;
        return NS_SEQ_NEW;
    }
    /* The range check comes first: beyond the window a bit belongs to another number. */
    if (seq <= st->contiguous || (seq - st->contiguous <= self->window && bit_get(self, seq))) {
        st->duplicates++;
        return NS_SEQ_DUPLICATE;
    }
    bool late = seq < st->highest;
    if (seq - st->contiguous > self->window)
        advance_to(self, seq - self->window);
    bit_flip(self, seq);
    self->in_window++;
    st->received++;
    if (seq > st->highest)
        st->highest = seq;
    slide(self);
    if (late) {
        st->reordered++;
        return NS_SEQ_LATE;
    }
    return NS_SEQ_NEW;
}

void
ns_seqtrack_forget_below(ns_seqtrack_t *self, uint64_t seq)
{
    if (self->st.baseline == 0 || seq == 0)
        return;
    advance_to(self, seq - 1);
}

uint64_t
ns_seqtrack_ack(const ns_seqtrack_t *self)
{
    return self->st.contiguous;
}

void
ns_seqtrack_stats(const ns_seqtrack_t *self, ns_seqtrack_stats_t *out)
{
    *out = self->st;
    out->missing = self->st.highest - self->st.contiguous - self->in_window;
}

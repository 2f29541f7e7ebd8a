/* pktring.c - recent frames in one circular byte buffer (see pktring.h).
 *
 * Records live between `r` (the oldest) and `w` (where the next goes), circularly; `used`
 * counts their bytes plus any gap left at the end of the buffer when a record did not fit
 * there. A gap is marked by a header whose cap_len is GAP, or is shorter than a header.
 */
#include "netscope/pktring.h"

#include <stdlib.h>
#include <string.h>

#define HDR 24u
#define GAP UINT32_MAX
/* How far past the write position the lines are fetched ahead (bytes; a multiple of 64). */
#define PREFETCH_AHEAD 2048u
#define LINE 64u

typedef struct {
    uint64_t ts_ns;
    uint32_t wire_len;
    uint32_t cap_len;
    uint32_t tag;
    uint16_t linktype;
    uint8_t iface;
    uint8_t pad_;
} rec_hdr_t;

_Static_assert(sizeof(rec_hdr_t) == HDR, "ring record header is 24 bytes");

struct ns_pktring {
    uint8_t *buf;
    size_t cap;  /* bytes, multiple of 8 */
    size_t r, w; /* oldest record, next write */
    size_t pf;   /* lines before this are fetched ahead (see warm_ahead) */
    size_t used;
    uint32_t held;
    ns_pktring_stats_t st;
};

static inline size_t
rec_size(uint32_t cap_len)
{
    return HDR + (((size_t)cap_len + 7u) & ~(size_t)7u);
}

ns_pktring_t *
ns_pktring_new(size_t bytes)
{
    bytes &= ~(size_t)7u;
    if (bytes < NS_PKTRING_MIN_BYTES)
        return NULL;
    ns_pktring_t *self = calloc(1, sizeof(*self));
    if (self == NULL)
        return NULL;
    self->buf = malloc(bytes);
    if (self->buf == NULL) {
        free(self);
        return NULL;
    }
    self->cap = bytes;
    self->st.bytes = bytes;
    return self;
}

void
ns_pktring_destroy(ns_pktring_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

static inline bool
is_gap(const ns_pktring_t *self, size_t at, rec_hdr_t *h)
{
    if (self->cap - at < HDR)
        return true;
    memcpy(h, self->buf + at, HDR);
    return h->cap_len == GAP;
}

/* Fetch the cache lines the next frames will be written to (and the oldest records' headers
 * that evict() reads there) while the caller decodes and counts the next packets. A ring
 * larger than the core's cache is a stream of misses: without this each frame's first stores
 * and the header read wait for memory in turn (measured: the agent's CPU time 14% lower with
 * it, bench/results.md (e)). Each call fetches only lines not fetched yet, at most
 * PREFETCH_AHEAD / LINE of them; near the end of the buffer it stops at the end. */
static inline void
warm_ahead(ns_pktring_t *self)
{
    size_t end = self->w + PREFETCH_AHEAD;
    if (end > self->cap)
        end = self->cap;
    if (self->pf < self->w || self->pf > end) /* wrapped, or the first call */
        self->pf = self->w & ~(size_t)(LINE - 1);
    for (; self->pf < end; self->pf += LINE)
        __builtin_prefetch(self->buf + self->pf, 1, 3);
}

/* Remove the oldest record (or the gap at the oldest position). */
static void
evict(ns_pktring_t *self)
{
    rec_hdr_t h;
    if (is_gap(self, self->r, &h)) {
        self->used -= self->cap - self->r;
        self->r = 0;
    } else {
        size_t n = rec_size(h.cap_len);
        self->used -= n;
        self->r += n;
        if (self->r == self->cap)
            self->r = 0;
        self->held--;
        self->st.overwritten++;
    }
    if (self->used == 0)
        self->r = self->w;
}

void
ns_pktring_add(ns_pktring_t *self, uint8_t iface, uint16_t linktype, uint64_t ts_ns,
               uint32_t wire_len, const uint8_t *data, uint32_t cap_len, uint32_t tag)
{
    size_t max_len = self->cap / 4 - HDR;
    if (cap_len > max_len) {
        cap_len = (uint32_t)max_len;
        self->st.cut++;
    }
    size_t n = rec_size(cap_len);
    if (self->w + n > self->cap) {
        /* Not enough room before the end: the rest of the buffer becomes a gap, after every
         * record still there is gone. */
        while (self->used > 0 && self->r >= self->w)
            evict(self);
        size_t gap = self->cap - self->w;
        if (gap >= HDR) {
            rec_hdr_t g = {.cap_len = GAP};
            memcpy(self->buf + self->w, &g, HDR);
        }
        if (self->used == 0)
            self->r = 0;
        else
            self->used += gap;
        self->w = 0;
    }
    /* [w, w + n) must be free: evict what starts inside it */
    while (self->used > 0 && self->r >= self->w && self->r < self->w + n)
        evict(self);
    if (self->used == 0)
        self->r = self->w;
    rec_hdr_t h = {.ts_ns = ts_ns,
                   .wire_len = wire_len,
                   .cap_len = cap_len,
                   .tag = tag,
                   .linktype = linktype,
                   .iface = iface};
    memcpy(self->buf + self->w, &h, HDR);
    if (cap_len > 0)
        memcpy(self->buf + self->w + HDR, data, cap_len);
    self->w += n;
    if (self->w == self->cap)
        self->w = 0;
    self->used += n;
    self->held++;
    self->st.frames++;
    warm_ahead(self);
}

uint32_t
ns_pktring_each(const ns_pktring_t *self, ns_pktring_each_fn fn, void *ud)
{
    uint32_t seen = 0;
    size_t at = self->r, left = self->used;
    while (left > 0) {
        rec_hdr_t h;
        if (is_gap(self, at, &h)) {
            left -= self->cap - at;
            at = 0;
            continue;
        }
        ns_pktring_frame_t f = {.ts_ns = h.ts_ns,
                                .wire_len = h.wire_len,
                                .cap_len = h.cap_len,
                                .tag = h.tag,
                                .linktype = h.linktype,
                                .iface = h.iface,
                                .data = self->buf + at + HDR};
        seen++;
        if (!fn(ud, &f))
            break;
        size_t n = rec_size(h.cap_len);
        left -= n;
        at += n;
        if (at == self->cap)
            at = 0;
    }
    return seen;
}

typedef struct {
    uint32_t tag, max, found;
    uint64_t from_ns, to_ns;
    ns_pktring_match_fn match;
    void *ud;
    bool more;
} find_t;

static bool
find_one(void *ud, const ns_pktring_frame_t *f)
{
    find_t *q = ud;
    if (f->tag != q->tag || f->ts_ns < q->from_ns || (q->to_ns != 0 && f->ts_ns > q->to_ns))
        return true;
    if (q->found == q->max) {
        q->more = q->match(q->ud, f, false);
        return !q->more;
    }
    if (q->match(q->ud, f, true))
        q->found++;
    return true;
}

uint32_t
ns_pktring_find(const ns_pktring_t *self, uint32_t tag, uint64_t from_ns, uint64_t to_ns,
                uint32_t max, ns_pktring_match_fn match, void *ud, bool *more)
{
    find_t q = {
        .tag = tag, .max = max, .from_ns = from_ns, .to_ns = to_ns, .match = match, .ud = ud};
    ns_pktring_each(self, find_one, &q);
    *more = q.more;
    return q.found;
}

void
ns_pktring_stats(const ns_pktring_t *self, ns_pktring_stats_t *out)
{
    *out = self->st;
    out->held = self->held;
}

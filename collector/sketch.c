/* sketch.c - count-min, Bloom filter, HyperLogLog and log-bucket quantiles (see sketch.h for
 * the error bounds).
 *
 * One 64-bit hash per key; the rows of the count-min sketch come from it by multiply-shift
 * with a multiplier per row, the probes of the Bloom filter from its two halves (h1 + i * h2,
 * Kirsch & Mitzenmacher 2006, over 64-bit values).
 */
#include "netscope/sketch.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t
mix64(uint64_t x)
{
    /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t
ns_sketch_hash(const void *key, size_t len, uint64_t seed)
{
    const uint8_t *p = key;
    uint64_t h = mix64(seed ^ (0x9e3779b97f4a7c15ull * (len + 1)));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w) + 0x9e3779b97f4a7c15ull;
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = mix64(h ^ w ^ ((uint64_t)len << 56));
    }
    return mix64(h);
}

/* ---- count-min ---------------------------------------------------------------------------- */

struct ns_cms {
    uint32_t width, depth, mask, shift;
    uint64_t seed;
    int64_t total; /* sum of every update: the noise estimate of count-mean-min */
    int32_t *c;    /* depth rows of width */
};

ns_cms_t *
ns_cms_new(uint32_t width, uint32_t depth, uint64_t seed)
{
    if (depth < 1 || depth > 8 || width < 16 || width > (1u << 24) || (width & (width - 1)))
        return NULL;
    ns_cms_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->c = calloc((size_t)width * depth, sizeof(*s->c));
    if (s->c == NULL) {
        free(s);
        return NULL;
    }
    s->width = width;
    s->depth = depth;
    s->mask = width - 1;
    s->shift = 64u - (uint32_t)__builtin_ctz(width);
    s->seed = seed;
    return s;
}

void
ns_cms_destroy(ns_cms_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->c);
    free(*self_p);
    *self_p = NULL;
}

/* Row r's counter: multiply-shift hashing (Dietzfelbinger et al.) of the key's hash with an
 * odd multiplier per row. Deriving rows as h1 + r * h2 instead would fix every row's index by
 * ~2 x log2(width) bits of the hash: with width 4096, one key in 8 million would share all its
 * counters with a heavy key, which a flood of random keys finds. */
static const uint64_t row_mult[8] = {
    0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
    0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull, 0x94d049bb133111ebull, 0xbf58476d1ce4e5b9ull,
};

static inline uint32_t
cms_idx(const ns_cms_t *s, uint64_t h, uint32_t row)
{
    return row * s->width + (uint32_t)((h * row_mult[row]) >> s->shift);
}

void
ns_cms_add_hash(ns_cms_t *self, uint64_t h, int32_t n)
{
    self->total += n;
    for (uint32_t r = 0; r < self->depth; r++) {
        int32_t *c = &self->c[cms_idx(self, h, r)];
        int64_t v = (int64_t)*c + n;
        *c = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
    }
}

void
ns_cms_add(ns_cms_t *self, const void *key, size_t len, int32_t n)
{
    ns_cms_add_hash(self, ns_sketch_hash(key, len, self->seed), n);
}

uint32_t
ns_cms_query_hash(const ns_cms_t *self, uint64_t h)
{
    int32_t m = INT32_MAX;
    for (uint32_t r = 0; r < self->depth; r++) {
        int32_t v = self->c[cms_idx(self, h, r)];
        if (v < m)
            m = v;
    }
    return m < 0 ? 0 : (uint32_t)m;
}

uint32_t
ns_cms_query_cmm_hash(const ns_cms_t *self, uint64_t h)
{
    /* Count-mean-min (Deng & Rafiei 2007): each row's counter minus the mean of the other
     * counters of its row (what the other keys put there on average), median over rows,
     * clamped to [0, the plain minimum]. */
    int64_t est[8], mn = INT64_MAX;
    for (uint32_t r = 0; r < self->depth; r++) {
        int64_t c = self->c[cms_idx(self, h, r)];
        est[r] = c - (self->total - c) / (int64_t)(self->width - 1);
        if (c < mn)
            mn = c;
    }
    for (uint32_t i = 1; i < self->depth; i++) /* insertion sort: depth <= 8 */
        for (uint32_t j = i; j > 0 && est[j - 1] > est[j]; j--) {
            int64_t t = est[j];
            est[j] = est[j - 1];
            est[j - 1] = t;
        }
    int64_t med = self->depth % 2 ? est[self->depth / 2]
                                  : (est[self->depth / 2 - 1] + est[self->depth / 2]) / 2;
    if (med > mn)
        med = mn;
    return med < 0 ? 0 : med > UINT32_MAX ? UINT32_MAX : (uint32_t)med;
}

uint32_t
ns_cms_query(const ns_cms_t *self, const void *key, size_t len)
{
    return ns_cms_query_hash(self, ns_sketch_hash(key, len, self->seed));
}

void
ns_cms_sub(ns_cms_t *self, const ns_cms_t *other)
{
    assert(self->width == other->width && self->depth == other->depth);
    size_t n = (size_t)self->width * self->depth;
    for (size_t i = 0; i < n; i++)
        self->c[i] -= other->c[i];
    self->total -= other->total;
}

void
ns_cms_clear(ns_cms_t *self)
{
    memset(self->c, 0, (size_t)self->width * self->depth * sizeof(*self->c));
    self->total = 0;
}

double
ns_cms_noise(const ns_cms_t *self)
{
    return self->total > 0 ? sqrt((double)self->total / (double)self->width) : 0.0;
}

uint64_t
ns_cms_seed(const ns_cms_t *self)
{
    return self->seed;
}

size_t
ns_cms_bytes(const ns_cms_t *self)
{
    return sizeof(*self) + (size_t)self->width * self->depth * sizeof(*self->c);
}

/* ---- Bloom filter ------------------------------------------------------------------------- */

struct ns_bloom {
    uint64_t bits, mask;
    uint32_t k;
    uint64_t seed;
    uint64_t *w;
};

ns_bloom_t *
ns_bloom_new(uint64_t bits, uint32_t k, uint64_t seed)
{
    if (bits < 64 || bits > (1ull << 32) || (bits & (bits - 1)) || k < 1 || k > 8)
        return NULL;
    ns_bloom_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->w = calloc(bits / 64, sizeof(uint64_t));
    if (b->w == NULL) {
        free(b);
        return NULL;
    }
    b->bits = bits;
    b->mask = bits - 1;
    b->k = k;
    b->seed = seed;
    return b;
}

void
ns_bloom_destroy(ns_bloom_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->w);
    free(*self_p);
    *self_p = NULL;
}

static bool
bloom_op(ns_bloom_t *b, const void *key, size_t len, bool set)
{
    uint64_t h = ns_sketch_hash(key, len, b->seed);
    uint64_t h1 = h, h2 = mix64(h) | 1u;
    bool all = true;
    for (uint32_t i = 0; i < b->k; i++) {
        uint64_t bit = (h1 + i * h2) & b->mask;
        uint64_t m = 1ull << (bit & 63);
        if (!(b->w[bit >> 6] & m)) {
            all = false;
            if (set)
                b->w[bit >> 6] |= m;
        }
    }
    return all;
}

bool
ns_bloom_add(ns_bloom_t *self, const void *key, size_t len)
{
    return bloom_op(self, key, len, true);
}

bool
ns_bloom_has(const ns_bloom_t *self, const void *key, size_t len)
{
    return bloom_op((ns_bloom_t *)self, key, len, false); /* set=false never writes */
}

void
ns_bloom_clear(ns_bloom_t *self)
{
    memset(self->w, 0, self->bits / 8);
}

size_t
ns_bloom_bytes(const ns_bloom_t *self)
{
    return sizeof(*self) + self->bits / 8;
}

/* ---- HyperLogLog -------------------------------------------------------------------------- */

void
ns_hll_init(ns_hll_t *h)
{
    memset(h->reg, 0, sizeof(h->reg));
}

void
ns_hll_add_hash(ns_hll_t *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - NS_HLL_P));
    uint64_t rest = (hash << NS_HLL_P) | (1ull << (NS_HLL_P - 1)); /* never all zero */
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}

double
ns_hll_count(const ns_hll_t *h)
{
    const double m = NS_HLL_M;
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    double sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < NS_HLL_M; i++) {
        sum += ldexp(1.0, -(int)h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / (double)zeros); /* linear counting for small sets */
    return e;
}

/* ---- quantiles ------------------------------------------------------------------------------ */

#define QSK_GAMMA ((1.0 + NS_QSK_ALPHA) / (1.0 - NS_QSK_ALPHA))

void
ns_qsk_init(ns_qsketch_t *q)
{
    memset(q, 0, sizeof(*q));
}

static uint32_t
qsk_bucket(uint64_t v)
{
    if (v <= 1)
        return 0;
    double i = ceil(log((double)v) / log(QSK_GAMMA));
    if (!(i < (double)(NS_QSK_BUCKETS - 1)))
        return NS_QSK_BUCKETS - 1;
    return i < 1.0 ? 1u : (uint32_t)i;
}

void
ns_qsk_add(ns_qsketch_t *q, uint64_t value, uint32_t weight)
{
    uint32_t b = qsk_bucket(value);
    uint64_t c = (uint64_t)q->c[b] + weight;
    q->c[b] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    q->n += weight;
}

void
ns_qsk_merge(ns_qsketch_t *into, const ns_qsketch_t *from)
{
    for (uint32_t i = 0; i < NS_QSK_BUCKETS; i++) {
        uint64_t c = (uint64_t)into->c[i] + from->c[i];
        into->c[i] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    }
    into->n += from->n;
}

double
ns_qsk_quantile(const ns_qsketch_t *q, double phi)
{
    if (q->n == 0)
        return 0;
    if (phi < 0)
        phi = 0;
    if (phi > 1)
        phi = 1;
    /* the rank of the sample wanted, 1-based: the smallest with phi of the samples at or below */
    uint64_t rank = (uint64_t)ceil(phi * (double)q->n);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    uint32_t b = 0;
    for (; b < NS_QSK_BUCKETS; b++) {
        seen += q->c[b];
        if (seen >= rank)
            break;
    }
    if (b >= NS_QSK_BUCKETS)
        b = NS_QSK_BUCKETS - 1;
    if (b == 0)
        return 1;
    return 2.0 * pow(QSK_GAMMA, (double)b) / (QSK_GAMMA + 1.0);
}

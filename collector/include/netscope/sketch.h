/* sketch.h - fixed-memory summaries for the detectors and analyses: count-min, Bloom filter,
 * HyperLogLog, and a log-bucket quantile sketch.
 *
 * Detectors count per subject (a victim, a scanner) where the subjects come from addresses an
 * attacker chooses, so exact per-subject state would grow with the attacker's address space.
 * These three summaries have their size fixed at creation and trade exactness for it, with
 * the error bounds below (tests/unit/test_sketch.c checks each one):
 *
 *   count-min (Cormode & Muthukrishnan 2005), `depth` rows of `width` counters: an estimate is
 *     never below the true count while all updates are positive, and exceeds it by more than
 *     e/width * N (N = the sum of all counts) with probability at most e^-depth. Width 4096,
 *     depth 4: at most 0.07% of N over, with probability 98%. Negative updates are allowed
 *     (turnstile): the estimate is then the row minimum of signed counters, which may also
 *     fall below the truth by the same bound. Under a flood of many small keys (10 million
 *     random sources) every counter holds about N/width, so the plain estimate of every key
 *     is over any fixed threshold; ns_cms_query_cmm_hash() (count-mean-min) subtracts each
 *     row's mean noise instead: its error is about sqrt(N/width) either way (N = 10^7,
 *     width 4096: ~50), and it is what the detectors use.
 *   Bloom filter, `bits` bits and k hashes: no false negatives; false-positive rate
 *     (1 - e^(-k n / bits))^k after n distinct insertions (3 hashes, 2^20 bits, 100,000 keys:
 *     1.6%). The detectors use it to see a (source, destination, port) triple once per window;
 *     a false positive makes a distinct count come out low, never high.
 *   HyperLogLog (Flajolet et al. 2007), 2^p one-byte registers: relative standard error
 *     1.04 / sqrt(2^p) (p = 8: 6.5%, 256 bytes), with the small-range (linear counting)
 *     correction, so small counts are near exact.
 *
 * Keys are byte strings hashed with a 64-bit keyed hash (the seed is the caller's: random in
 * the collector, fixed in tests). No clock, no I/O, no allocation after *_new().
 */
#ifndef NETSCOPE_SKETCH_H
#define NETSCOPE_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A keyed 64-bit hash of `len` bytes (a mixing function, not a MAC). */
uint64_t ns_sketch_hash(const void *key, size_t len, uint64_t seed);

/* ---- count-min ---------------------------------------------------------------------------- */

typedef struct ns_cms ns_cms_t;

/* A count-min sketch of `depth` (1..8) rows of `width` (a power of two, 16..2^24) signed
 * 32-bit counters. Returns NULL on bad sizes or when out of memory; the caller owns it. */
ns_cms_t *ns_cms_new(uint32_t width, uint32_t depth, uint64_t seed);
void ns_cms_destroy(ns_cms_t **self_p);

/* Add `n` (may be negative) to key's counters. */
void ns_cms_add(ns_cms_t *self, const void *key, size_t len, int32_t n);
/* Add `n` to the counters of a key already hashed with ns_sketch_hash(key, len, seed). */
void ns_cms_add_hash(ns_cms_t *self, uint64_t h, int32_t n);
/* The estimate of key's count (the row minimum; 0 when it is negative). */
uint32_t ns_cms_query(const ns_cms_t *self, const void *key, size_t len);
uint32_t ns_cms_query_hash(const ns_cms_t *self, uint64_t h);
/* The count-mean-min estimate (see above): median over rows of (counter - the row's mean
 * noise), at most the plain estimate, at least 0. */
uint32_t ns_cms_query_cmm_hash(const ns_cms_t *self, uint64_t h);
/* self -= other, counter by counter (same sizes and seed: asserted). Sliding windows keep one
 * sketch per time bucket and one for the whole window, and subtract a bucket that leaves. */
void ns_cms_sub(ns_cms_t *self, const ns_cms_t *other);
void ns_cms_clear(ns_cms_t *self);
/* sqrt(N / width), N = the sketch's total: the standard error of one row of count-mean-min
 * when the counts come from many small keys. */
double ns_cms_noise(const ns_cms_t *self);
uint64_t ns_cms_seed(const ns_cms_t *self);
size_t ns_cms_bytes(const ns_cms_t *self);

/* ---- Bloom filter ------------------------------------------------------------------------- */

typedef struct ns_bloom ns_bloom_t;

/* A Bloom filter of `bits` bits (a power of two, 64..2^32) and `k` hashes (1..8). */
ns_bloom_t *ns_bloom_new(uint64_t bits, uint32_t k, uint64_t seed);
void ns_bloom_destroy(ns_bloom_t **self_p);
/* Insert; returns true when the key was (probably) there already. */
bool ns_bloom_add(ns_bloom_t *self, const void *key, size_t len);
bool ns_bloom_has(const ns_bloom_t *self, const void *key, size_t len);
void ns_bloom_clear(ns_bloom_t *self);
size_t ns_bloom_bytes(const ns_bloom_t *self);

/* ---- HyperLogLog -------------------------------------------------------------------------- */

#define NS_HLL_P 8u
#define NS_HLL_M (1u << NS_HLL_P)

/* Embedded (no allocation): NS_HLL_M registers. Zero it to start (ns_hll_init()). */
typedef struct {
    uint8_t reg[NS_HLL_M];
} ns_hll_t;

void ns_hll_init(ns_hll_t *h);
/* Add an element given by its 64-bit hash. */
void ns_hll_add_hash(ns_hll_t *h, uint64_t hash);
/* The estimated number of distinct elements added. */
double ns_hll_count(const ns_hll_t *h);

/* ---- quantiles (log buckets) -------------------------------------------------------------- */

/* Values (e.g. RTTs in microseconds) in buckets whose bounds grow by a factor
 * gamma = (1 + a) / (1 - a), a = NS_QSK_ALPHA = 5%: bucket i holds (gamma^(i-1), gamma^i], so a
 * quantile read as its bucket's midpoint 2 gamma^i / (gamma + 1) is within a relative 5% of
 * the sample at that rank (the scheme of DDSketch, Masson et al. 2019). Values 0 and 1 share
 * bucket 0; values past gamma^(NS_QSK_BUCKETS-1) (about 2^32, 71 minutes in us) go to the last
 * bucket. Mergeable by adding counts: the sketch of a union is the sum of the sketches. Fixed
 * size (NS_QSK_BUCKETS 32-bit counts, 920 bytes), no allocation. */
#define NS_QSK_ALPHA 0.05
#define NS_QSK_BUCKETS 230u

typedef struct {
    uint64_t n;
    uint32_t c[NS_QSK_BUCKETS];
} ns_qsketch_t;

void ns_qsk_init(ns_qsketch_t *q);
/* Add `value` `weight` times. */
void ns_qsk_add(ns_qsketch_t *q, uint64_t value, uint32_t weight);
/* into += from */
void ns_qsk_merge(ns_qsketch_t *into, const ns_qsketch_t *from);
/* The value at quantile `phi` (0..1; 0 when empty), within NS_QSK_ALPHA relative. */
double ns_qsk_quantile(const ns_qsketch_t *q, double phi);

#endif /* NETSCOPE_SKETCH_H */

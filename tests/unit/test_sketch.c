/* test_sketch.c - count-min, Bloom filter and HyperLogLog against their documented bounds
 * (sketch.h): exact counts computed beside them are the independent expectation. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/sketch.h"
#include "runner.h"

START_TEST(cms_never_under_and_bounded_over)
{
    /* 20,000 keys with Zipf-like counts: every estimate >= truth, and at most e/w * N over
     * for (nearly) all keys (the bound holds per key with probability 1 - e^-4 = 98%). */
    enum { KEYS = 20000 };
    ns_cms_t *c = ns_cms_new(4096, 4, 42);
    ck_assert_ptr_nonnull(c);
    static uint32_t truth[KEYS];
    uint64_t total = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
        truth[k] = 1 + 10000 / (k + 1);
        ns_cms_add(c, &k, sizeof(k), (int32_t)truth[k]);
        total += truth[k];
    }
    double bound = exp(1.0) / 4096.0 * (double)total;
    uint32_t over_bound = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
        uint32_t e = ns_cms_query(c, &k, sizeof(k));
        ck_assert_uint_ge(e, truth[k]);
        if ((double)(e - truth[k]) > bound)
            over_bound++;
    }
    ck_assert_uint_le(over_bound, KEYS / 50); /* <= 2% of keys beyond the bound */
    ns_cms_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(cms_sub_and_negative)
{
    ns_cms_t *w = ns_cms_new(64, 4, 1), *b = ns_cms_new(64, 4, 1);
    const char *k = "victim";
    ns_cms_add(w, k, 6, 10);
    ns_cms_add(b, k, 6, 4);
    ns_cms_sub(w, b);
    ck_assert_uint_eq(ns_cms_query(w, k, 6), 6);
    ns_cms_add(w, k, 6, -10);
    ck_assert_uint_eq(ns_cms_query(w, k, 6), 0); /* negative reads as 0 */
    ns_cms_clear(w);
    ck_assert_uint_eq(ns_cms_query(w, k, 6), 0);
    ck_assert_ptr_null(ns_cms_new(100, 4, 1)); /* not a power of two */
    ck_assert_ptr_null(ns_cms_new(64, 9, 1));
    ns_cms_destroy(&w);
    ns_cms_destroy(&b);
}
END_TEST

START_TEST(cmm_under_random_flood)
{
    /* 2,000,000 events on random keys plus one heavy key of 1000: the plain estimate of any
     * key is ~N/w = 490 and more; count-mean-min takes the noise off (error ~sqrt(N/w) = 22
     * per row; allow 5 sigma) and never exceeds the plain estimate. */
    ns_cms_t *c = ns_cms_new(4096, 4, 3);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (uint32_t i = 0; i < 2000000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ns_cms_add(c, &x, sizeof(x), 1);
        if (i % 2000 == 0) {
            const char *heavy = "heavy";
            ns_cms_add(c, heavy, 5, 1);
        }
    }
    uint64_t hh = ns_sketch_hash("heavy", 5, ns_cms_seed(c));
    ck_assert_uint_ge(ns_cms_query_hash(c, hh), 1000);
    uint32_t e = ns_cms_query_cmm_hash(c, hh);
    ck_assert_uint_ge(e, 1000 - 110);
    ck_assert_uint_le(e, 1000 + 110);
    ck_assert_uint_le(e, ns_cms_query_hash(c, hh));
    uint32_t worst = 0;
    for (uint64_t k = 0; k < 10000; k++) {
        uint64_t h = ns_sketch_hash(&k, sizeof(k), 77);
        uint32_t v = ns_cms_query_cmm_hash(c, h);
        if (v > worst)
            worst = v;
        ck_assert_uint_ge(ns_cms_query_hash(c, h), 300); /* the plain estimate is swamped */
    }
    ck_assert_uint_le(worst, 150); /* a key never added stays far below a threshold of 500 */
    ns_cms_destroy(&c);
}
END_TEST

START_TEST(bloom_no_false_negative_fp_rate)
{
    enum { N = 100000 };
    ns_bloom_t *b = ns_bloom_new(1u << 20, 3, 7);
    ck_assert_ptr_nonnull(b);
    for (uint32_t i = 0; i < N; i++)
        ns_bloom_add(b, &i, sizeof(i));
    for (uint32_t i = 0; i < N; i++)
        ck_assert(ns_bloom_has(b, &i, sizeof(i)));
    uint32_t fp = 0;
    for (uint32_t i = N; i < 2 * N; i++)
        fp += ns_bloom_has(b, &i, sizeof(i));
    /* documented: (1 - e^(-3 * 1e5 / 2^20))^3 = 1.6%; allow 2.5% */
    ck_assert_uint_le(fp, N * 25 / 1000);
    ns_bloom_clear(b);
    uint32_t zero = 0;
    ck_assert(!ns_bloom_has(b, &zero, sizeof(zero)));
    ck_assert(!ns_bloom_add(b, &zero, sizeof(zero)));
    ck_assert(ns_bloom_add(b, &zero, sizeof(zero)));
    ns_bloom_destroy(&b);
}
END_TEST

START_TEST(hll_error_within_bound)
{
    /* relative standard error 1.04/16 = 6.5%; check within 3 sigma (20%) at several sizes,
     * and near exact for small sets (linear counting) */
    static const uint32_t sizes[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        ns_hll_t h;
        ns_hll_init(&h);
        for (uint32_t i = 0; i < sizes[s]; i++) {
            ns_hll_add_hash(&h, ns_sketch_hash(&i, sizeof(i), 99));
            ns_hll_add_hash(&h, ns_sketch_hash(&i, sizeof(i), 99)); /* duplicates ignored */
        }
        double e = ns_hll_count(&h), n = sizes[s];
        if (n <= 100)
            ck_assert_double_le(fabs(e - n), 0.05 * n + 1.0);
        else
            ck_assert_double_le(fabs(e - n) / n, 0.20);
    }
}
END_TEST

static Suite *
sketch_suite(void)
{
    Suite *s = suite_create("sketch");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, cms_never_under_and_bounded_over);
    tcase_add_test(t, cms_sub_and_negative);
    tcase_add_test(t, cmm_under_random_flood);
    tcase_add_test(t, bloom_no_false_negative_fp_rate);
    tcase_add_test(t, hll_error_within_bound);
    suite_add_tcase(s, t);
    return s;
}

NS_TEST_MAIN(sketch_suite)

/* test_flow_table.c - insert, lookup both directions, LRU eviction order, timeouts, fixed-seed
 * determinism, and the flood test (2 million random 5-tuples through 100,000 slots). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtest.h"
#include "netscope/flow_engine.h"
#include "netscope/flow_table.h"
#include "runner.h"

static ns_flow_key_t
key_n(uint32_t n, bool reverse)
{
    ns_addr_t a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.b[0] = 10, a.b[1] = (uint8_t)(n >> 16), a.b[2] = (uint8_t)(n >> 8), a.b[3] = (uint8_t)n;
    b.b[0] = 192, b.b[1] = 168, b.b[3] = 1;
    ns_flow_key_t k;
    if (reverse)
        ns_flow_key_make(&k, 4, 17, 0, &b, 53, &a, (uint16_t)(1024 + n % 60000));
    else
        ns_flow_key_make(&k, 4, 17, 0, &a, (uint16_t)(1024 + n % 60000), &b, 53);
    return k;
}

/* The memory budget: a million concurrent TCP flows in under 200 MB means hot + TCP record
 * + 8 bytes of index stay at 184 bytes; the extension (RTT, retransmissions...) is taken
 * only by flows that need one. */
START_TEST(record_sizes)
{
    printf("flow record sizes: hot %zu, tcp %zu, tcp extension %zu, view %zu\n",
           sizeof(ns_flow_t), sizeof(ns_flow_tcp_t), sizeof(ns_flow_tcp_ext_t),
           sizeof(ns_flow_view_t));
    ck_assert_uint_le(sizeof(ns_flow_t), 96);
    ck_assert_uint_le(sizeof(ns_flow_tcp_t), 80);
    ck_assert_uint_le(sizeof(ns_flow_tcp_ext_t), 88);
    ns_flow_table_t *t = ns_flow_table_new(1u << 20, 1);
    ck_assert_ptr_nonnull(t);
    /* index: 4-byte slots at load <= 1/2 */
    ck_assert_uint_le(ns_flow_table_bytes(t),
                      (1u << 20) * (sizeof(ns_flow_t) + sizeof(ns_flow_tcp_t) + 32 +
                                    4 * NS_FLOW_COUNTERS + sizeof(ns_flow_tcp_ext_t) + 8));
    ns_flow_table_destroy(&t);
}
END_TEST

START_TEST(insert_find_both_directions)
{
    ns_flow_table_t *t = ns_flow_table_new(8, 1);
    ck_assert_ptr_nonnull(t);
    ns_flow_key_t k = key_n(1, false), r = key_n(1, true);
    uint32_t idx = ns_flow_table_add(t, &k, ns_flow_table_hash(t, &k), 0, 5);
    ck_assert_uint_ne(idx, NS_FLOW_NONE);
    ck_assert_uint_eq(ns_flow_table_find(t, &r, ns_flow_table_hash(t, &r)), idx);
    ns_flow_key_t back;
    ns_flow_table_key(t, idx, &back);
    ck_assert(ns_flow_key_eq(&back, &k));
    ns_flow_key_t other = key_n(2, false);
    ck_assert_uint_eq(ns_flow_table_find(t, &other, ns_flow_table_hash(t, &other)), NS_FLOW_NONE);
    ns_flow_table_del(t, idx);
    ck_assert_uint_eq(ns_flow_table_find(t, &k, ns_flow_table_hash(t, &k)), NS_FLOW_NONE);
    ck_assert_uint_eq(ns_flow_table_count(t), 0);
    ns_flow_table_destroy(&t);
    ck_assert_ptr_null(t);
    ns_flow_table_destroy(&t); /* NULL-safe */
}
END_TEST

START_TEST(ipv6_keys)
{
    ns_flow_table_t *t = ns_flow_table_new(4, 9);
    ns_addr_t a, b;
    memset(&a, 0x11, sizeof(a));
    memset(&b, 0x22, sizeof(b));
    ns_flow_key_t k, k2;
    ns_flow_key_make(&k, 6, 6, 0, &a, 1, &b, 2);
    uint32_t idx = ns_flow_table_add(t, &k, ns_flow_table_hash(t, &k), 0, 0);
    b.b[15] = 0x23; /* same fold would be unlikely; a different address must not match */
    ns_flow_key_make(&k2, 6, 6, 0, &a, 1, &b, 2);
    ck_assert_uint_eq(ns_flow_table_find(t, &k2, ns_flow_table_hash(t, &k2)), NS_FLOW_NONE);
    ns_flow_key_t back;
    ns_flow_table_key(t, idx, &back);
    ck_assert(ns_flow_key_eq(&back, &k));
    ns_flow_table_destroy(&t);
}
END_TEST

START_TEST(full_and_lru_order)
{
    ns_flow_table_t *t = ns_flow_table_new(3, 1);
    uint32_t id[3];
    for (uint32_t i = 0; i < 3; i++) {
        ns_flow_key_t k = key_n(i, false);
        id[i] = ns_flow_table_add(t, &k, ns_flow_table_hash(t, &k), 0, i);
    }
    ns_flow_key_t k = key_n(3, false);
    ck_assert_uint_eq(ns_flow_table_add(t, &k, ns_flow_table_hash(t, &k), 0, 9), NS_FLOW_NONE);
    ck_assert_uint_eq(ns_flow_table_lru(t), id[0]);
    ns_flow_table_get(t, id[0])->last_ns = 10; /* flow 0 seen again */
    ns_flow_table_touch(t, id[0], 0);
    ck_assert_uint_eq(ns_flow_table_lru(t), id[1]);
    /* across queues: the smallest last_ns among heads */
    ns_flow_table_get(t, id[1])->last_ns = 11;
    ns_flow_table_touch(t, id[1], 2);
    ck_assert_uint_eq(ns_flow_table_lru(t), id[2]);
    ns_flow_table_destroy(&t);
}
END_TEST

typedef struct {
    uint64_t records[NS_FLOW_END_COUNT];
    uint64_t pkts;
    uint64_t uid_hash;
} tally_t;

static void
tally(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    tally_t *t = ud;
    t->records[rec->end_reason]++;
    ns_flow_view_t v;
    ns_flow_table_view(ns_flow_engine_table(eng), idx, &v);
    t->pkts += v.pkts[0] + v.pkts[1];
    char uid[32];
    ns_flow_engine_uid(eng, idx, uid, sizeof(uid));
    for (const char *p = uid; *p; p++)
        t->uid_hash = t->uid_hash * 131 + (uint8_t)*p;
}

START_TEST(idle_timeout_and_eviction_reason)
{
    tally_t ta;
    memset(&ta, 0, sizeof(ta));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 2;
    o.app = false;
    ns_flow_expire_set_idle(&o.expire, 10ull * 1000000000ull);
    ns_flow_engine_t *e = ns_flow_engine_new(&o, tally, &ta);
    ns_pkt_t p = ft_tcp(true, NS_TCP_ACK, 1, 1, 10, 0);
    ns_flow_engine_add(e, &p, NULL);
    p.sport = 2;
    p.ts_ns = 1;
    ns_flow_engine_add(e, &p, NULL);
    p.sport = 3;
    p.ts_ns = 2;
    ns_flow_engine_add(e, &p, NULL); /* full: the first is evicted */
    ck_assert_uint_eq(ta.records[NS_FLOW_END_EVICTED], 1);
    ns_flow_engine_expire(e, 5ull * 1000000000ull);
    ck_assert_uint_eq(ta.records[NS_FLOW_END_IDLE], 0);
    ns_flow_engine_expire(e, 10ull * 1000000000ull + 2);
    ck_assert_uint_eq(ta.records[NS_FLOW_END_IDLE], 2);
    ck_assert_uint_eq(ns_flow_table_count(ns_flow_engine_table(e)), 0);
    ns_flow_engine_destroy(&e);
}
END_TEST

/* xorshift64*: the test's own fixed-seed generator. */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void
flood(uint64_t seed, tally_t *ta, uint32_t *max_count)
{
    memset(ta, 0, sizeof(*ta));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 100000;
    o.app = false;
    o.seed = seed;
    ns_flow_engine_t *e = ns_flow_engine_new(&o, tally, ta);
    ck_assert_ptr_nonnull(e);
    uint64_t s = 0x1234567;
    *max_count = 0;
    for (uint32_t i = 0; i < 2000000; i++) {
        uint64_t r = rnd(&s);
        ns_pkt_t p = ft_tcp(true, NS_TCP_SYN, (uint32_t)r, 0, 0, (uint64_t)i * 1000);
        memcpy(p.src.b, &r, 4);
        p.sport = (uint16_t)(r >> 32);
        p.dport = (uint16_t)(r >> 48);
        ns_flow_engine_add(e, &p, NULL);
        uint32_t c = ns_flow_table_count(ns_flow_engine_table(e));
        if (c > *max_count)
            *max_count = c;
    }
    const ns_flow_engine_stats_t *st = ns_flow_engine_stats(e);
    ck_assert_uint_eq(st->packets, 2000000);
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    /* every packet is in some record or counted as not attributable */
    ck_assert_uint_eq(ta->pkts + st->non_ip + st->frag_unattributed, 2000000);
    ck_assert_uint_eq(st->records[NS_FLOW_END_EVICTED], ta->records[NS_FLOW_END_EVICTED]);
    ns_flow_engine_destroy(&e);
}

START_TEST(flood_two_million)
{
    tally_t a, b;
    uint32_t max_a, max_b;
    flood(99, &a, &max_a);
    ck_assert_uint_eq(max_a, 100000); /* memory stays at the cap */
    ck_assert_uint_gt(a.records[NS_FLOW_END_EVICTED], 1800000);
    flood(99, &b, &max_b);
    ck_assert_uint_eq(a.uid_hash, b.uid_hash); /* fixed seed: same uids, same order */
    ck_assert_mem_eq(a.records, b.records, sizeof(a.records));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("flow_table");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, record_sizes);
    tcase_add_test(tc, insert_find_both_directions);
    tcase_add_test(tc, ipv6_keys);
    tcase_add_test(tc, full_and_lru_order);
    tcase_add_test(tc, idle_timeout_and_eviction_reason);
    suite_add_tcase(s, tc);
    TCase *fl = tcase_create("flood");
    tcase_set_timeout(fl, 300);
    tcase_add_test(fl, flood_two_million);
    suite_add_tcase(s, fl);
    return ns_test_run(s);
}

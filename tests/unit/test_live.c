/* test_live.c - the live analyses (live.h): rates at exact second boundaries, sliding windows,
 * exact top lists, RTT quantiles within the histogram's error, and the memory bound under an
 * address flood. Expectations are computed independently from the inputs. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/live.h"
#include "runner.h"

#define S 1000000000ull

static ns_live_t *
live_small(void)
{
    ns_live_opts_t o;
    ns_live_opts_default(&o);
    o.max_hosts = 64;
    o.max_edges = 64;
    o.max_agents = 4;
    o.seed = 7;
    char err[128];
    ns_live_t *l = ns_live_new(&o, err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    return l;
}

static ns_addr_t
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ns_addr_t x = {{a, b, c, d}};
    return x;
}

static ns_live_update_t
upd(ns_addr_t o, ns_addr_t r, uint64_t bytes, uint64_t pkts)
{
    return (ns_live_update_t){.agent = 0,
                              .ip_ver = 4,
                              .proto = 6,
                              .orig_h = o,
                              .resp_h = r,
                              .service = "http",
                              .counted = true,
                              .d_pkts = pkts,
                              .d_bytes = bytes};
}

START_TEST(rates_whole_second_boundaries)
{
    ns_live_t *l = live_small();
    ns_live_snap_t *s = ns_live_snap_new(16, 16);
    ns_live_update_t u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 500, 5);
    ns_live_update(l, &u, 5 * S - 1); /* the last ns of second 4 */
    u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1000, 10);
    u.new_flow = true;
    u.d_retrans = 3;
    ns_live_update(l, &u, 5 * S);  /* exactly the start of second 5 */
    ns_live_snapshot(l, 5 * S, s); /* last whole second: 4 */
    ck_assert_double_eq(s->bps, 500 * 8.0);
    ck_assert_double_eq(s->pps, 5.0);
    ck_assert_double_eq(s->new_flows_ps, 0.0);
    ns_live_snapshot(l, 6 * S - 1, s); /* still second 5: the last whole one is 4 */
    ck_assert_double_eq(s->bps, 500 * 8.0);
    ns_live_snapshot(l, 6 * S, s); /* second 5 is whole now */
    ck_assert_double_eq(s->bps, 1000 * 8.0);
    ck_assert_double_eq(s->pps, 10.0);
    ck_assert_double_eq(s->new_flows_ps, 1.0);
    ck_assert_double_eq(s->retrans_ps, 3.0);
    ns_live_rate_t ar = ns_live_agent_rate(l, 0, 6 * S);
    ck_assert_double_eq(ar.bps, 8000.0);
    ck_assert_double_eq(ns_live_agent_rate(l, 1, 6 * S).bps, 0.0);
    /* a second agent's view of the same connection: its rate, not the totals */
    u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1000, 10);
    u.agent = 1;
    u.counted = false;
    ns_live_update(l, &u, 5 * S + 1);
    ns_live_snapshot(l, 6 * S, s);
    ck_assert_double_eq(s->bps, 1000 * 8.0);
    ck_assert_double_eq(ns_live_agent_rate(l, 1, 6 * S).bps, 8000.0);
    ns_live_snapshot(l, 7 * S, s); /* nothing in second 6 */
    ck_assert_double_eq(s->bps, 0.0);
    ck_assert_double_eq(ns_live_agent_rate(l, 0, 7 * S).pps, 0.0);
    /* a late update (time before the newest second) counts in the newest second */
    u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 7, 1);
    ns_live_update(l, &u, 3 * S);
    ns_live_snapshot(l, 6 * S, s);
    ck_assert_double_eq(s->bps, 1007 * 8.0);
    ns_live_snap_destroy(&s);
    ns_live_destroy(&l);
    ck_assert_ptr_null(l);
}
END_TEST

START_TEST(windows_slide)
{
    ns_live_t *l = live_small();
    ns_live_snap_t *s = ns_live_snap_new(16, 16);
    ns_live_update_t u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 100, 1);
    ns_live_update(l, &u, 10 * S + 123);
    ns_live_snapshot(l, 19 * S + S - 1, s); /* seconds 10..19: in the 10 s window */
    ck_assert_uint_eq(s->n_talkers, 2);
    ck_assert_uint_eq(s->talkers[0].bytes, 100);
    ck_assert_uint_eq(s->n_protos, 1);
    ck_assert_str_eq(s->protos[0].name, "tcp/http");
    ns_live_snapshot(l, 20 * S, s); /* seconds 11..20: gone from the 10 s lists */
    ck_assert_uint_eq(s->n_talkers, 0);
    ck_assert_uint_eq(s->n_protos, 0);
    ck_assert_uint_eq(s->n_nodes, 2); /* the graph keeps 60 s */
    ck_assert_uint_eq(s->n_edges, 1);
    ns_live_snapshot(l, 69 * S + S - 1, s);
    ck_assert_uint_eq(s->n_nodes, 2);
    ns_live_snapshot(l, 70 * S, s);
    ck_assert_uint_eq(s->n_nodes, 0);
    ck_assert_uint_eq(s->n_edges, 0);
    /* a write long after: the ring restarts clean, old seconds do not come back */
    ns_live_update(l, &u, 200 * S);
    ns_live_snapshot(l, 200 * S, s);
    ck_assert_uint_eq(s->talkers[0].bytes, 100);
    ns_live_snap_destroy(&s);
    ns_live_destroy(&l);
}
END_TEST

START_TEST(top_lists_exact)
{
    ns_live_t *l = live_small();
    ns_live_snap_t *s = ns_live_snap_new(5, 3);
    /* 30 clients each talk to one server with 1000 * (i + 1) bytes: the server has the sum,
     * then the clients by i descending */
    uint64_t sum = 0;
    for (uint8_t i = 0; i < 30; i++) {
        ns_live_update_t u = upd(v4(10, 0, 1, i), v4(10, 0, 0, 1), 1000u * (i + 1u), 1);
        ns_live_update(l, &u, 100 * S + i);
        sum += 1000u * (i + 1u);
    }
    ns_live_snapshot(l, 100 * S + S / 2, s);
    ck_assert_uint_eq(s->n_talkers, NS_LIVE_TALKERS);
    ck_assert_uint_eq(s->talkers[0].bytes, sum);
    ck_assert_uint_eq(s->talkers[0].host.addr.b[3], 1);
    for (uint32_t k = 1; k < NS_LIVE_TALKERS; k++) {
        ck_assert_uint_eq(s->talkers[k].bytes, 1000u * (30u - k + 1u));
        ck_assert_uint_eq(s->talkers[k].host.addr.b[3], 30 - k);
    }
    /* graph: the 5 biggest hosts, and only edges between two of them, the 3 biggest */
    ck_assert_uint_eq(s->n_nodes, 5);
    ck_assert_uint_eq(s->nodes[0].bytes, sum);
    ck_assert_uint_eq(s->n_edges, 3);
    ck_assert_uint_eq(s->edges[0].bytes, 30000);
    ck_assert_uint_eq(s->edges[2].bytes, 28000);
    ck_assert_uint_eq(s->edges[0].dst.addr.b[3], 1);
    ns_live_snap_destroy(&s);
    ns_live_destroy(&l);
}
END_TEST

START_TEST(rtt_quantiles)
{
    ns_live_t *l = live_small();
    ns_live_snap_t *s = ns_live_snap_new(4, 4);
    ns_live_snapshot(l, 50 * S, s);
    ck_assert(s->rtt_ms_p50 < 0); /* no sample */
    for (uint64_t ms = 1; ms <= 100; ms++) {
        ns_live_update_t u = upd(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 0, 0);
        u.rtt_ns = ms * 1000000ull;
        ns_live_update(l, &u, 50 * S + ms);
    }
    ns_live_snapshot(l, 51 * S, s);
    ck_assert_double_le(fabs(s->rtt_ms_p50 - 50.0), 50.0 * 0.125);
    ck_assert_double_le(fabs(s->rtt_ms_p95 - 95.0), 95.0 * 0.125);
    ns_live_snapshot(l, 60 * S, s); /* 10 s later the samples are out of the window */
    ck_assert(s->rtt_ms_p95 < 0);
    ns_live_snap_destroy(&s);
    ns_live_destroy(&l);
}
END_TEST

START_TEST(memory_bound_under_flood)
{
    ns_live_t *l = live_small();
    ns_live_snap_t *s = ns_live_snap_new(8, 8);
    size_t before = ns_live_bytes(l);
    ns_live_update_t big = upd(v4(192, 168, 0, 1), v4(192, 168, 0, 2), 1u << 20, 100);
    ns_live_update(l, &big, 300 * S);
    for (uint32_t i = 0; i < 20000; i++) {
        ns_live_update_t u =
            upd(v4(1, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i), v4(10, 9, 9, 9), 60, 1);
        char svc[8] = {'s', (char)('a' + i % 26), (char)('a' + i / 26 % 26), 0};
        u.service = svc; /* more labels than the table: the rest count as "other" */
        ns_live_update(l, &u, 300 * S + i);
    }
    ck_assert_uint_eq(ns_live_bytes(l), before);
    ns_live_stats_t st;
    ns_live_stats(l, &st);
    ck_assert_uint_gt(st.evicted_hosts, 19000);
    ck_assert_uint_gt(st.other_protos, 0);
    ns_live_snapshot(l, 301 * S, s);
    /* the sampled eviction only removes small hosts: the big pair survives the flood */
    bool seen = false;
    for (uint32_t k = 0; k < s->n_talkers; k++)
        seen |= s->talkers[k].host.addr.b[0] == 192 && s->talkers[k].bytes == (1u << 20);
    ck_assert(seen);
    ck_assert_uint_le(s->n_protos, NS_LIVE_PROTOS_MAX + 1);
    ns_live_snap_destroy(&s);
    ns_live_destroy(&l);
}
END_TEST

START_TEST(lifecycle_bad_sizes)
{
    ns_live_opts_t o;
    ns_live_opts_default(&o);
    o.max_hosts = 1;
    char err[128] = "";
    ck_assert_ptr_null(ns_live_new(&o, err, sizeof(err)));
    ck_assert(strstr(err, "16") != NULL);
    ns_live_destroy(NULL);
}
END_TEST

static Suite *
live_suite(void)
{
    Suite *s = suite_create("live");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, rates_whole_second_boundaries);
    tcase_add_test(t, windows_slide);
    tcase_add_test(t, top_lists_exact);
    tcase_add_test(t, rtt_quantiles);
    tcase_add_test(t, memory_bound_under_flood);
    suite_add_tcase(s, t);
    TCase *lc = tcase_create("lifecycle");
    tcase_add_test(lc, lifecycle_bad_sizes);
    suite_add_tcase(s, lc);
    return s;
}

NS_TEST_MAIN(live_suite)

/* test_analysis.c - the RTT / retransmission / loss analyses (analysis.h) and the quantile
 * sketch under them, fed through the real merge with hand-built records. Expectations are
 * computed beside the feed (exact sorted samples, hand-counted windows). */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/analysis.h"
#include "netscope/merge.h"
#include "netscope/sketch.h"
#include "runner.h"

#define S 1000000000ull
#define T0 (1700000000ull * S)

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(qsk_quantiles_within_alpha)
{
    /* log-normal-ish RTTs from 50 us to 2 s: every quantile within 5% of the exact sample */
    enum { N = 20000 };
    static uint64_t v[N];
    ns_qsketch_t q;
    ns_qsk_init(&q);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x % 1000000) / 1e6;
        v[i] = (uint64_t)(50.0 * pow(40000.0, u)) + 2;
        ns_qsk_add(&q, v[i], 1);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    const double phis[] = {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0};
    for (size_t k = 0; k < sizeof(phis) / sizeof(phis[0]); k++) {
        size_t rank = (size_t)ceil(phis[k] * N);
        double exact = (double)v[rank - 1];
        double est = ns_qsk_quantile(&q, phis[k]);
        ck_assert_msg(fabs(est - exact) <= NS_QSK_ALPHA * exact + 1e-9,
                      "phi %.2f: estimate %.1f, exact %.1f", phis[k], est, exact);
    }
    ck_assert_uint_eq(q.n, N);
}
END_TEST

START_TEST(qsk_merge_is_union_and_edges)
{
    ns_qsketch_t a, b, all;
    ns_qsk_init(&a);
    ns_qsk_init(&b);
    ns_qsk_init(&all);
    ck_assert(ns_qsk_quantile(&a, 0.5) == 0); /* empty */
    for (uint64_t i = 1; i <= 1000; i++) {
        ns_qsk_add(i % 2 ? &a : &b, i * 100, 1);
        ns_qsk_add(&all, i * 100, 1);
    }
    ns_qsk_merge(&a, &b);
    ck_assert(memcmp(&a, &all, sizeof(a)) == 0);
    /* a huge value lands in the last bucket, weights count */
    ns_qsketch_t w;
    ns_qsk_init(&w);
    ns_qsk_add(&w, UINT64_MAX, 3);
    ns_qsk_add(&w, 1000, 1);
    ck_assert_uint_eq(w.n, 4);
    ck_assert(ns_qsk_quantile(&w, 0.25) <= 1000 * (1 + NS_QSK_ALPHA));
    ck_assert(ns_qsk_quantile(&w, 0.5) > 1e9);
}
END_TEST

/* ---- records through the merge --------------------------------------------------------------- */

typedef struct {
    ns_merge_t *m;
    ns_analysis_t *a;
} rig_t;

static void
on_emit(void *ud, const ns_merge_flow_t *f, ns_merge_end_t why)
{
    (void)why;
    rig_t *r = ud;
    ns_analysis_flow_end(r->a, f, T0 + 3600 * S);
}

static void
rig_new(rig_t *r, const ns_analysis_opts_t *o)
{
    ns_merge_opts_t mo;
    ns_merge_opts_default(&mo);
    char err[256];
    mo.capacity = 4096;
    mo.obs_capacity = 8192;
    r->m = ns_merge_new(&mo, on_emit, r, err, sizeof(err));
    ck_assert_ptr_nonnull(r->m);
    r->a = ns_analysis_new(o);
    ck_assert_ptr_nonnull(r->a);
}

static void
rig_free(rig_t *r)
{
    ns_merge_destroy(&r->m);
    ns_analysis_destroy(&r->a);
}

static void
rec_init(ns_flow_rec_t *r, const char *uid, const char *src, uint16_t sport, const char *dst,
         uint16_t dport)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->uid, sizeof(r->uid), "%s", uid);
    r->ip_ver = 4;
    r->proto = 6;
    r->is_tcp = true;
    inet_pton(AF_INET, src, &r->orig_h);
    inet_pton(AF_INET, dst, &r->resp_h);
    r->orig_p = sport;
    r->resp_p = dport;
    r->first_ns = r->last_ns = T0;
    r->kind = NS_FLOW_REC_UPDATE;
}

static void
feed(rig_t *rg, uint32_t agent, ns_flow_rec_t *r, uint64_t now)
{
    ns_merge_info_t mi;
    r->last_ns = now;
    r->emit_ns = now;
    ns_merge_rc_t rc = ns_merge_update_info(rg->m, agent, r, now, &mi);
    ns_analysis_update(rg->a, r, rc, &mi, now);
}

static const ns_analysis_row_t *
find_pair(const ns_analysis_row_t *rows, size_t n, const char *a)
{
    uint32_t want;
    inet_pton(AF_INET, a, &want);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&rows[i].a, &want, 4) == 0)
            return &rows[i];
    return NULL;
}

START_TEST(rtt_once_per_observation_and_weighted_running)
{
    ns_analysis_opts_t o;
    ns_analysis_opts_default(&o);
    rig_t rg;
    rig_new(&rg, &o);
    ns_flow_rec_t r;
    rec_init(&r, "C1", "10.0.0.1", 40000, "10.0.0.2", 443);
    r.hs = NS_FLOW_REC_HS_TOTAL;
    r.rtt_hs_ns = 2000000; /* 2 ms */
    r.pkts[0] = 3;
    feed(&rg, 0, &r, T0);
    /* the same handshake RTT repeated by every later record counts once */
    for (int k = 1; k <= 4; k++) {
        r.pkts[0] += 10;
        r.rtt_n = (uint32_t)k * 5;
        r.rtt_last_us = 10000; /* 10 ms running */
        feed(&rg, 0, &r, T0 + (uint64_t)k * (uint64_t)S);
    }
    ns_analysis_row_t rows[4];
    size_t n = ns_analysis_top(rg.a, NS_AN_PAIR, NS_AN_SORT_RTT_P95, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rows[0].rtt_hs.n, 1);
    ck_assert(fabs(ns_qsk_quantile(&rows[0].rtt_hs, 0.5) - 2000) <= 2000 * NS_QSK_ALPHA);
    ck_assert_uint_eq(rows[0].rtt_run.n, 20); /* 5 new samples per record */
    ck_assert(fabs(ns_qsk_quantile(&rows[0].rtt_run, 0.95) - 10000) <= 10000 * NS_QSK_ALPHA);
    ck_assert_uint_eq(rows[0].flows, 1);
    ck_assert_uint_eq(rows[0].pkts[0], 43);
    /* the service: no name yet, so tcp/443, which has the running samples but neither the
     * flow nor its handshake: those wait for the final record */
    n = ns_analysis_top(rg.a, NS_AN_SERVICE, NS_AN_SORT_RTT_P95, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rows[0].service, "tcp/443");
    ck_assert_uint_eq(rows[0].rtt_hs.n, 0);
    ck_assert_uint_eq(rows[0].rtt_run.n, 20);
    ck_assert_uint_eq(rows[0].flows, 0);
    /* the final names the service: the flow and its handshake go there, once */
    snprintf(r.service, sizeof(r.service), "ssl");
    r.kind = NS_FLOW_REC_FINAL;
    r.pkts[0] += 1;
    feed(&rg, 0, &r, T0 + 5 * S);
    n = ns_analysis_top(rg.a, NS_AN_SERVICE, NS_AN_SORT_RTT_P95, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 2);
    const ns_analysis_row_t *ssl = strcmp(rows[0].service, "ssl") == 0 ? &rows[0] : &rows[1];
    ck_assert_str_eq(ssl->service, "ssl");
    ck_assert_uint_eq(ssl->flows, 1);
    ck_assert_uint_eq(ssl->rtt_hs.n, 1);
    ck_assert_uint_eq(ssl->rtt_run.n, 0);
    n = ns_analysis_top(rg.a, NS_AN_PAIR, NS_AN_SORT_RTT_P95, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(rows[0].rtt_hs.n, 1); /* the pair still counts it once */
    rig_free(&rg);
}
END_TEST

START_TEST(retrans_side_window_and_bursts)
{
    ns_analysis_opts_t o;
    ns_analysis_opts_default(&o);
    o.window_ns = 10 * S;
    rig_t rg;
    rig_new(&rg, &o);
    ns_flow_rec_t r;
    rec_init(&r, "C2", "10.0.0.5", 40001, "10.0.0.6", 80);
    ns_analysis_tick(rg.a, T0); /* window starts at T0 */
    /* seconds 0..9: the server (resp) sends 100 packets a second; in seconds 3 and 4 it
     * retransmits 20 (a burst: >= 10 and >= 10%), in second 6 it retransmits 5 (not one) */
    uint32_t want_rt = 0;
    for (uint64_t s = 0; s < 10; s++) {
        r.pkts[1] += 100;
        r.pkts[0] += 50;
        uint32_t rt = (s == 3 || s == 4) ? 20 : s == 6 ? 5 : 0;
        r.retrans[1] += rt;
        want_rt += rt;
        feed(&rg, 0, &r, T0 + s * S + S / 2);
    }
    ns_analysis_tick(rg.a, T0 + 10 * S); /* the window closes */
    ns_analysis_row_t rows[4];
    size_t n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_RETRANS, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 2);
    const ns_analysis_row_t *srv = find_pair(rows, n, "10.0.0.6");
    const ns_analysis_row_t *cli = find_pair(rows, n, "10.0.0.5");
    ck_assert_ptr_nonnull(srv);
    ck_assert_ptr_nonnull(cli);
    ck_assert_ptr_eq(srv, &rows[0]); /* the retransmitting side first */
    ck_assert_uint_eq(srv->retrans[0], want_rt);
    ck_assert_uint_eq(srv->win_retrans, want_rt);
    ck_assert_uint_eq(srv->win_pkts, 1000);
    ck_assert_uint_eq(cli->retrans[0], 0);
    ck_assert_uint_eq(cli->win_pkts, 500);
    /* seconds 3 and 4 judged (second 4 when second 5 arrived); second 6 is below 10 */
    ck_assert_uint_eq(srv->burst_seconds, 2);
    ck_assert_uint_eq(srv->burst_max, 20);
    /* the pair keeps both directions apart */
    n = ns_analysis_top(rg.a, NS_AN_PAIR, NS_AN_SORT_RATE, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rows[0].retrans[0], 0);
    ck_assert_uint_eq(rows[0].retrans[1], want_rt);
    ck_assert_uint_eq(rows[0].win_pkts, 1500);
    /* a quiet window after it: the last whole window is empty, totals stay */
    ns_analysis_tick(rg.a, T0 + 20 * S);
    n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_RETRANS, T0 + 3600 * S, rows, 4);
    srv = find_pair(rows, n, "10.0.0.6");
    ck_assert_ptr_nonnull(srv);
    ck_assert_uint_eq(srv->win_retrans, 0);
    ck_assert_uint_eq(srv->retrans[0], want_rt);
    /* idle for two windows: forgotten */
    ns_analysis_tick(rg.a, T0 + 40 * S);
    n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_RETRANS, T0 + 3600 * S, rows, 4);
    ck_assert_uint_eq(n, 0);
    rig_free(&rg);
}
END_TEST

START_TEST(throughput_of_the_last_whole_second)
{
    ns_analysis_opts_t o;
    ns_analysis_opts_default(&o);
    rig_t rg;
    rig_new(&rg, &o);
    ns_flow_rec_t r;
    rec_init(&r, "C3", "10.0.0.7", 40002, "10.0.0.8", 9000);
    /* second 5: the client sends 100 packets of 1000 bytes in two records; second 6: 10 */
    r.pkts[0] = 40;
    r.wire_bytes[0] = 40000;
    feed(&rg, 0, &r, T0 + 5 * S + 100);
    r.pkts[0] = 100;
    r.wire_bytes[0] = 100000;
    r.pkts[1] = 1;
    r.wire_bytes[1] = 60;
    feed(&rg, 0, &r, T0 + 5 * S + S / 2);
    ns_analysis_row_t rows[4];
    size_t n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_BPS, T0 + 6 * S + 1, rows, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert(find_pair(rows, n, "10.0.0.7") == &rows[0]);
    ck_assert(rows[0].bps == 800000.0 && rows[0].pps == 100.0);
    ck_assert(rows[1].bps == 480.0 && rows[1].pps == 1.0);
    r.pkts[0] = 110;
    r.wire_bytes[0] = 110000;
    feed(&rg, 0, &r, T0 + 6 * S + S / 2);
    /* during second 7, second 6 is the last whole one; second 5 is still readable in 6 */
    n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_BPS, T0 + 7 * S + 1, rows, 4);
    ck_assert(rows[0].bps == 80000.0 && rows[0].pps == 10.0);
    n = ns_analysis_top(rg.a, NS_AN_HOST, NS_AN_SORT_BPS, T0 + 6 * S + 7, rows, 4);
    ck_assert(rows[0].bps == 800000.0);
    /* nothing in second 8: 0 at second 9 */
    n = ns_analysis_top(rg.a, NS_AN_PAIR, NS_AN_SORT_BPS, T0 + 9 * S, rows, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert(rows[0].bps == 0.0);
    ck_assert_uint_eq(rows[0].bytes[0], 110000);
    ck_assert_uint_eq(rows[0].bytes[1], 60);
    rig_free(&rg);
}
END_TEST

START_TEST(tables_hold_their_cap)
{
    ns_analysis_opts_t o;
    ns_analysis_opts_default(&o);
    o.max_pairs = 16;
    o.max_hosts = 8;
    o.max_services = 4;
    rig_t rg;
    rig_new(&rg, &o);
    ns_analysis_stats_t st0;
    ns_analysis_stats(rg.a, &st0);
    ck_assert_uint_gt(st0.bytes, 0);
    /* 1000 sources scanning 1000 ports: every table stays at its cap, the rest is counted */
    for (uint32_t i = 0; i < 1000; i++) {
        ns_flow_rec_t r;
        char src[32], uid[16];
        snprintf(src, sizeof(src), "10.1.%u.%u", i / 250, i % 250 + 1);
        snprintf(uid, sizeof(uid), "C%u", i);
        rec_init(&r, uid, src, 1000, "10.0.0.9", (uint16_t)(1 + i));
        r.pkts[0] = 1;
        feed(&rg, 0, &r, T0 + (uint64_t)i * 1000u);
    }
    ns_analysis_stats_t st;
    ns_analysis_stats(rg.a, &st);
    ck_assert_uint_eq(st.held[NS_AN_PAIR], 16);
    ck_assert_uint_eq(st.held[NS_AN_HOST], 8);
    ck_assert_uint_eq(st.held[NS_AN_SERVICE], 4);
    ck_assert_uint_eq(st.untracked[NS_AN_PAIR], 1000 - 16);
    ck_assert_uint_eq(st.untracked[NS_AN_SERVICE], 1000 - 4);
    ck_assert_uint_eq(st.bytes, st0.bytes); /* nothing allocated on the way */
    ck_assert_uint_eq(st.records, 1000);
    /* bad options */
    o.max_paths = 0;
    ck_assert_ptr_null(ns_analysis_new(&o));
    rig_free(&rg);
}
END_TEST

START_TEST(loss_between_two_agents)
{
    ns_analysis_opts_t o;
    ns_analysis_opts_default(&o);
    rig_t rg;
    rig_new(&rg, &o);
    ns_host_addr_t h1 = {.ip_ver = 4}, h2 = {.ip_ver = 4};
    inet_pton(AF_INET, "10.0.0.1", &h1.addr);
    inet_pton(AF_INET, "10.0.0.2", &h2.addr);
    ck_assert_int_eq(ns_merge_agent_add(rg.m, 0, &h1, 1), 0);
    ck_assert_int_eq(ns_merge_agent_add(rg.m, 1, &h2, 1), 0);
    /* the client's agent counts 100 packets sent, the server's agent 97 received */
    ns_flow_rec_t a, b;
    rec_init(&a, "CA", "10.0.0.1", 5000, "10.0.0.2", 22);
    rec_init(&b, "CB", "10.0.0.1", 5000, "10.0.0.2", 22);
    a.pkts[0] = 100;
    a.pkts[1] = 50;
    b.pkts[0] = 97;
    b.pkts[1] = 50;
    a.kind = b.kind = NS_FLOW_REC_FINAL;
    feed(&rg, 0, &a, T0 + S);
    feed(&rg, 1, &b, T0 + S);
    ns_merge_flush(rg.m); /* the flow leaves the view: on_emit */
    ns_analysis_row_t rows[4];
    size_t n = ns_analysis_top(rg.a, NS_AN_PATH, NS_AN_SORT_LOST, T0 + 3600 * S, rows, 4);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_eq(rows[0].agent_a, 0);
    ck_assert_uint_eq(rows[0].agent_b, 1);
    ck_assert_uint_eq(rows[0].lost, 3);
    ck_assert_uint_eq(rows[0].pkts[0], 100);
    rig_free(&rg);
}
END_TEST

static Suite *
analysis_suite(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, qsk_quantiles_within_alpha);
    tcase_add_test(tc, qsk_merge_is_union_and_edges);
    tcase_add_test(tc, rtt_once_per_observation_and_weighted_running);
    tcase_add_test(tc, retrans_side_window_and_bursts);
    tcase_add_test(tc, throughput_of_the_last_whole_second);
    tcase_add_test(tc, tables_hold_their_cap);
    tcase_add_test(tc, loss_between_two_agents);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(analysis_suite)

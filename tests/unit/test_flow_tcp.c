/* test_flow_tcp.c - TCP state machine, Zeek conn_state and history, retransmission vs
 * out-of-order, RTT split, on hand-built packet sequences run through the flow engine. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtest.h"
#include "netscope/flow_engine.h"
#include "runner.h"

#define SYN NS_TCP_SYN
#define ACK NS_TCP_ACK
#define FIN NS_TCP_FIN
#define RST NS_TCP_RST
#define PSH NS_TCP_PSH

typedef struct {
    char state[8];
    char hist[32];
    ns_flow_end_t reason;
    ns_flow_view_t v;
    int n;
} result_t;

static void
grab(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    result_t *r = ud;
    ns_flow_end_t reason = (ns_flow_end_t)rec->end_reason;
    const ns_flow_table_t *t = ns_flow_engine_table(eng);
    ns_flow_table_view(t, idx, &r->v);
    snprintf(r->state, sizeof(r->state), "%s", ns_flow_conn_state(&r->v));
    ns_flow_history(&r->v, r->hist, sizeof(r->hist));
    r->reason = reason;
    r->n++;
}

/* Run `n` packets through a fresh engine, then flush; the last record lands in *r. */
static void
run(const ns_pkt_t *p, size_t n, result_t *r)
{
    memset(r, 0, sizeof(*r));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 16;
    o.app = false;
    o.seed = 42;
    ns_flow_engine_t *e = ns_flow_engine_new(&o, grab, r);
    ck_assert_ptr_nonnull(e);
    for (size_t i = 0; i < n; i++)
        ns_flow_engine_add(e, &p[i], NULL);
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ns_flow_engine_destroy(&e);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(r->n, 1);
}

#define C 1000u /* client ISN */
#define S 5000u /* server ISN */

START_TEST(normal_close_sf)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, 10 * FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 12 * FT_MS),
        ft_tcp(true, ACK | PSH, C + 1, S + 1, 100, 13 * FT_MS),
        ft_tcp(false, ACK, S + 1, C + 101, 0, 23 * FT_MS),
        ft_tcp(false, ACK | PSH, S + 1, C + 101, 300, 24 * FT_MS),
        ft_tcp(true, ACK | FIN, C + 101, S + 301, 0, 30 * FT_MS),
        ft_tcp(false, ACK | FIN, S + 301, C + 102, 0, 31 * FT_MS),
        ft_tcp(true, ACK, C + 102, S + 302, 0, 32 * FT_MS),
    };
    result_t r;
    run(p, sizeof(p) / sizeof(p[0]), &r);
    ck_assert_str_eq(r.state, "SF");
    ck_assert_str_eq(r.hist, "ShADadFf");
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 0), 100);
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 1), 300);
    /* RTT split: SYN at 0, SYN-ACK at 10 ms, ACK at 12 ms. */
    ck_assert(r.v.tcp.hs & NS_TCPHS_DONE);
    ck_assert_uint_eq(r.v.tcp.hs_srv_ns, 10 * FT_MS);
    ck_assert_uint_eq(r.v.tcp.hs_cli_ns, 2 * FT_MS);
    /* data at 13 ms acked at 23 ms: one 10 ms sample */
    /* and server data at 24 ms acked by the FIN at 30 ms: 6 ms */
    ck_assert_uint_eq(r.v.x.rtt_n, 2);
    ck_assert_uint_eq(r.v.x.rtt_min_us, 6000);
    ck_assert_uint_eq(r.v.x.rtt_max_us, 10000);
    ck_assert_uint_eq(r.v.x.rtt_mean_us, 8000);
    ck_assert_uint_eq(r.v.x.d[0].retrans, 0);
}
END_TEST

START_TEST(rejected_rej)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, RST | ACK, 0, C + 1, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "REJ");
    ck_assert_str_eq(r.hist, "Sr");
}
END_TEST

START_TEST(unanswered_s0)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(true, SYN, C, 0, 0, 1000 * FT_MS),
        ft_tcp(true, SYN, C, 0, 0, 3000 * FT_MS),
    };
    result_t r;
    run(p, 3, &r);
    ck_assert_str_eq(r.state, "S0");
    ck_assert_str_eq(r.hist, "S");
    ck_assert_uint_eq(r.v.x.d[0].retrans, 2); /* SYN retransmissions, as tshark counts */
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 0), 0);
}
END_TEST

START_TEST(reset_by_originator_rsto)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(true, RST | ACK, C + 1, S + 1, 0, 3 * FT_MS),
    };
    result_t r;
    run(p, 4, &r);
    ck_assert_str_eq(r.state, "RSTO");
    ck_assert_str_eq(r.hist, "ShAR");
}
END_TEST

START_TEST(reset_by_responder_rstr)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(false, RST, S + 1, 0, 0, 3 * FT_MS),
    };
    result_t r;
    run(p, 4, &r);
    ck_assert_str_eq(r.state, "RSTR");
    ck_assert_str_eq(r.hist, "ShAr");
}
END_TEST

START_TEST(syn_then_rst_rstos0)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(true, RST, C + 1, 0, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "RSTOS0");
}
END_TEST

START_TEST(half_open_sh_shr)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(true, FIN, C + 1, 0, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "SH");
    ns_pkt_t q[] = {
        ft_tcp(false, SYN | ACK, S, C + 1, 0, 0),
        ft_tcp(false, FIN | ACK, S + 1, C + 1, 0, FT_MS),
    };
    run(q, 2, &r);
    ck_assert_str_eq(r.state, "SHR");
    ck_assert_str_eq(r.hist, "^hf");
    ck_assert(r.v.f.fl & NS_FLOW_F_FLIPPED);
}
END_TEST

START_TEST(midstream_oth)
{
    ns_pkt_t p[] = {
        ft_tcp(true, ACK | PSH, C + 1, S + 1, 100, 0),
        ft_tcp(false, ACK, S + 1, C + 101, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "OTH");
    ck_assert_str_eq(r.hist, "Da");
    ck_assert(r.v.f.quality & NS_FLOW_Q_MIDSTREAM);
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 0), 100);
}
END_TEST

/* Zeek's UpdateClosedState: after both FINs a RST leaves the states alone (SF, not RSTO). */
START_TEST(rst_after_both_fins_is_sf)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(true, ACK | FIN, C + 1, S + 1, 0, 3 * FT_MS),
        ft_tcp(false, ACK | FIN, S + 1, C + 2, 0, 4 * FT_MS),
        ft_tcp(true, RST, C + 2, 0, 0, 5 * FT_MS),
    };
    result_t r;
    run(p, 6, &r);
    ck_assert_str_eq(r.state, "SF");
    ck_assert_str_eq(r.hist, "ShAFfR");
    /* one FIN only, then the RST: still a reset by the originator */
    ns_pkt_t q[] = {p[0], p[1], p[2], p[3], ft_tcp(true, RST, C + 2, 0, 0, 5 * FT_MS)};
    run(q, 5, &r);
    ck_assert_str_eq(r.state, "RSTO");
}
END_TEST

/* Zeek's UpdateEstablishedState: FIN then RST from one side, then the peer's FIN: the RST side
 * goes back to CLOSED ("this was actually normal termination"). */
START_TEST(fin_rst_then_peer_fin_is_sf)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(true, ACK | FIN, C + 1, S + 1, 0, 3 * FT_MS),
        ft_tcp(true, RST, C + 2, 0, 0, 4 * FT_MS),
        ft_tcp(false, ACK | FIN, S + 1, C + 2, 0, 5 * FT_MS),
    };
    result_t r;
    run(p, 6, &r);
    ck_assert_str_eq(r.state, "SF");
    /* without the FIN first, the RST stays: RSTO */
    ns_pkt_t q[] = {p[0], p[1], p[2], ft_tcp(true, RST, C + 1, 0, 0, 4 * FT_MS),
                    ft_tcp(false, ACK | FIN, S + 1, C + 1, 0, 5 * FT_MS)};
    run(q, 5, &r);
    ck_assert_str_eq(r.state, "RSTO");
}
END_TEST

/* Zeek's UpdateInactiveState: the missed-SYN case (SYN-ACK, then the originator's ACK) is
 * established, not partial; ACKs alone are partial on both sides (OTH); a connection that
 * starts with a FIN has a CLOSED originator (SH). */
START_TEST(ack_only_midstream_and_fin_first)
{
    ns_pkt_t p[] = {
        ft_tcp(false, SYN | ACK, S, C + 1, 0, 0),
        ft_tcp(true, ACK, C + 1, S + 1, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "S1");
    ck_assert_str_eq(r.hist, "^hA");

    ns_pkt_t a[] = {
        ft_tcp(true, ACK, C + 1, S + 1, 0, 0),
        ft_tcp(false, ACK, S + 1, C + 1, 0, FT_MS),
    };
    run(a, 2, &r);
    ck_assert_str_eq(r.state, "OTH");
    ck_assert_str_eq(r.hist, "Aa");

    ns_pkt_t f[] = {
        ft_tcp(true, FIN | ACK, C + 1, S + 1, 0, 0),
        ft_tcp(false, ACK, S + 1, C + 2, 0, FT_MS),
    };
    run(f, 2, &r);
    ck_assert_str_eq(r.state, "SH");
    ck_assert_str_eq(r.hist, "Fa");
}
END_TEST

/* A responder's bare ACK before its SYN-ACK does not make the connection partial. */
START_TEST(ack_before_synack_stays_inactive)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, ACK, S, C + 1, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_uint_eq(r.v.f.state[1], NS_TCP_EP_INACTIVE);
    ck_assert_str_eq(r.state, "S0");
}
END_TEST

START_TEST(established_s1)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.state, "S1");
    ck_assert_str_eq(r.hist, "Sh");
}
END_TEST

START_TEST(retransmission_vs_out_of_order)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 100, 3 * FT_MS),   /* [1,101) */
        ft_tcp(true, ACK, C + 201, S + 1, 100, 4 * FT_MS), /* gap [101,201) */
        ft_tcp(true, ACK, C + 101, S + 1, 100, 5 * FT_MS), /* fills it: out-of-order */
        ft_tcp(true, ACK, C + 1, S + 1, 100, 6 * FT_MS),   /* seen before: retransmission */
    };
    result_t r;
    run(p, sizeof(p) / sizeof(p[0]), &r);
    ck_assert_uint_eq(r.v.x.d[0].ooo, 1);
    ck_assert_uint_eq(r.v.x.d[0].retrans, 1);
    ck_assert_uint_eq(r.v.x.d[0].missed, 0);
    ck_assert_uint_eq(r.v.x.d[0].gaps, 1);
    ck_assert_str_eq(r.hist, "ShADT");
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 0), 300);
}
END_TEST

START_TEST(gap_never_filled_is_missed)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 100, 2 * FT_MS),
        ft_tcp(true, ACK, C + 1001, S + 1, 100, 3 * FT_MS),
        ft_tcp(false, ACK, S + 1, C + 1101, 0, 4 * FT_MS),
    };
    result_t r;
    run(p, sizeof(p) / sizeof(p[0]), &r);
    ck_assert_uint_eq(ns_flow_missed_bytes(&r.v), 900);
    ck_assert_uint_eq(ns_flow_app_bytes(&r.v, 0), 1100);
    ck_assert(r.v.f.quality & NS_FLOW_Q_GAP);
    /* the responder acknowledged past the hole: Zeek's content gap, after its 'a' */
    ck_assert_str_eq(r.hist, "ShDaG");
    ck_assert_uint_eq(r.v.x.d[0].gaps_acked, 1);
}
END_TEST

/* 'G' needs the peer's ACK past the hole's start: not before it, not for a hole filled first,
 * once per hole; ten holes make a second 'G' (the scaled letters: 1, 10, 100, ...); a gap in
 * the responder's data is 'g'. */
START_TEST(content_gap_letters)
{
    ns_pkt_t p[64];
    size_t n = 0;
    p[n++] = ft_tcp(true, SYN, C, 0, 0, 0);
    p[n++] = ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS);
    p[n++] = ft_tcp(true, ACK, C + 1, S + 1, 100, 2 * FT_MS);   /* [1,101) */
    p[n++] = ft_tcp(true, ACK, C + 201, S + 1, 100, 3 * FT_MS); /* hole [101,201) */
    p[n++] = ft_tcp(false, ACK, S + 1, C + 101, 0, 4 * FT_MS);  /* up to the hole only */
    result_t r;
    run(p, n, &r);
    ck_assert_str_eq(r.hist, "ShDa");
    ck_assert_uint_eq(r.v.x.d[0].gaps_acked, 0);

    /* the hole filled out of order before the ACK: no gap */
    p[n - 1] = ft_tcp(true, ACK, C + 101, S + 1, 100, 4 * FT_MS);
    p[n++] = ft_tcp(false, ACK, S + 1, C + 301, 0, 5 * FT_MS);
    run(p, n, &r);
    ck_assert_str_eq(r.hist, "ShDa");
    ck_assert_uint_eq(r.v.x.d[0].missed, 0);

    /* ten holes, each acknowledged past (twice: recorded once) */
    n = 2;
    uint32_t seq = C + 1;
    for (int i = 0; i < 10; i++) {
        uint64_t ts = (10 + 3 * (uint64_t)i) * FT_MS;
        p[n++] = ft_tcp(true, ACK, seq + 50, S + 1, 50, ts); /* skips [seq, seq+50) */
        p[n++] = ft_tcp(false, ACK, S + 1, seq + 100, 0, ts + FT_MS);
        p[n++] = ft_tcp(false, ACK, S + 1, seq + 100, 0, ts + 2 * FT_MS);
        seq += 100;
    }
    run(p, n, &r);
    ck_assert_uint_eq(r.v.x.d[0].gaps_acked, 10);
    ck_assert_uint_eq(ns_flow_missed_bytes(&r.v), 500);
    ck_assert_str_eq(r.hist, "ShDaGG");

    /* the responder's data has the hole: 'g' */
    ns_pkt_t q[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(false, ACK, S + 101, C + 1, 10, 2 * FT_MS),
        ft_tcp(true, ACK, C + 1, S + 111, 0, 3 * FT_MS),
    };
    run(q, 4, &r);
    ck_assert_str_eq(r.hist, "ShdAg");
}
END_TEST

/* main.zeek: an originator's RST with an inactive responder is RSTOS0 only when the history
 * is /^\^?S[^HAFGIQ]*R/; otherwise OTH (a midstream ACK then RST). */
START_TEST(rst_without_syn_is_oth)
{
    ns_pkt_t p[] = {
        ft_tcp(true, ACK, C + 1, S + 1, 0, 0),
        ft_tcp(true, RST, C + 1, 0, 0, FT_MS),
    };
    result_t r;
    run(p, 2, &r);
    ck_assert_str_eq(r.hist, "AR");
    ck_assert_str_eq(r.state, "OTH");
    /* a SYN, data, then RST: 'D' is not one of HAFGIQ */
    ns_pkt_t q[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(true, PSH, C + 1, 0, 10, FT_MS),
        ft_tcp(true, RST, C + 11, 0, 0, 2 * FT_MS),
    };
    run(q, 3, &r);
    ck_assert_str_eq(r.hist, "SDR");
    ck_assert_str_eq(r.state, "RSTOS0");
    /* ... but an ACK of the originator's in between is */
    q[1].tcp_flags = ACK;
    q[1].payload_len = q[1].payload_cap = 0;
    q[2].seq = C + 1;
    run(q, 3, &r);
    ck_assert_str_eq(r.hist, "SAR");
    ck_assert_str_eq(r.state, "OTH");
}
END_TEST

/* More letters than the record holds: the last one kept becomes 'X' (analysis partial). */
START_TEST(history_overflow_marks_x)
{
    ns_pkt_t p[40];
    size_t n = 0;
    p[n++] = ft_tcp(true, SYN, C, 0, 0, 0);
    p[n++] = ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS);
    /* FINs at different sequence numbers: each one is a new 'F' / 'f' */
    for (uint32_t i = 0; i < 20; i++)
        p[n++] = ft_tcp(i % 2 == 0, FIN, (i % 2 == 0 ? C : S) + 1 + i, 0, 0,
                        (2 + (uint64_t)i) * FT_MS);
    result_t r;
    run(p, n, &r);
    ck_assert_uint_eq(strlen(r.hist), NS_FLOW_HIST_MAX);
    ck_assert_int_eq(r.hist[NS_FLOW_HIST_MAX - 1], 'X');
    ck_assert(strncmp(r.hist, "ShFfFfFfFfFfF", NS_FLOW_HIST_MAX - 1) == 0);
    /* exactly full: no 'X' */
    run(p, NS_FLOW_HIST_MAX, &r);
    ck_assert_uint_eq(strlen(r.hist), NS_FLOW_HIST_MAX);
    ck_assert(strchr(r.hist, 'X') == NULL);
}
END_TEST

START_TEST(scaled_history_and_zero_window)
{
    ns_pkt_t p[32];
    size_t n = 0;
    p[n++] = ft_tcp(true, SYN, C, 0, 0, 0);
    p[n++] = ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS);
    p[n++] = ft_tcp(true, ACK, C + 1, S + 1, 10, 2 * FT_MS);
    for (int i = 0; i < 10; i++) /* ten retransmissions: T at 1 and at 10 */
        p[n++] = ft_tcp(true, ACK, C + 1, S + 1, 10, (3 + (uint64_t)i) * FT_MS);
    p[n] = ft_tcp(false, ACK, S + 1, C + 11, 0, 20 * FT_MS);
    p[n++].win = 0;
    result_t r;
    run(p, n, &r);
    ck_assert_uint_eq(r.v.x.d[0].retrans, 10);
    ck_assert_str_eq(r.hist, "ShDTTaw");
    ck_assert_uint_eq(r.v.x.d[1].zero_win, 1);
}
END_TEST

START_TEST(karn_skips_retransmitted)
{
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 100, 2 * FT_MS),
        ft_tcp(true, ACK, C + 1, S + 1, 100, 200 * FT_MS), /* retransmitted */
        ft_tcp(false, ACK, S + 1, C + 101, 0, 201 * FT_MS),
    };
    result_t r;
    run(p, sizeof(p) / sizeof(p[0]), &r);
    ck_assert_uint_eq(r.v.x.rtt_n, 0);
}
END_TEST

START_TEST(linger_then_fin_reason)
{
    result_t r;
    memset(&r, 0, sizeof(r));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 4;
    o.app = false;
    ns_flow_engine_t *e = ns_flow_engine_new(&o, grab, &r);
    ns_pkt_t p[] = {
        ft_tcp(true, SYN, C, 0, 0, 0),
        ft_tcp(false, SYN | ACK, S, C + 1, 0, FT_MS),
        ft_tcp(true, ACK | FIN, C + 1, S + 1, 0, 2 * FT_MS),
        ft_tcp(false, ACK | FIN, S + 1, C + 2, 0, 3 * FT_MS),
    };
    for (size_t i = 0; i < 4; i++)
        ns_flow_engine_add(e, &p[i], NULL);
    ns_flow_engine_expire(e, 4 * FT_MS);
    ck_assert_int_eq(r.n, 0); /* lingering */
    ns_flow_engine_expire(e, 3 * FT_MS + NS_FLOW_LINGER_DEFAULT_NS);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.reason, NS_FLOW_END_FIN);
    ns_flow_engine_destroy(&e);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("flow_tcp");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, normal_close_sf);
    tcase_add_test(tc, rejected_rej);
    tcase_add_test(tc, unanswered_s0);
    tcase_add_test(tc, reset_by_originator_rsto);
    tcase_add_test(tc, reset_by_responder_rstr);
    tcase_add_test(tc, syn_then_rst_rstos0);
    tcase_add_test(tc, half_open_sh_shr);
    tcase_add_test(tc, midstream_oth);
    tcase_add_test(tc, established_s1);
    tcase_add_test(tc, rst_after_both_fins_is_sf);
    tcase_add_test(tc, fin_rst_then_peer_fin_is_sf);
    tcase_add_test(tc, ack_only_midstream_and_fin_first);
    tcase_add_test(tc, ack_before_synack_stays_inactive);
    tcase_add_test(tc, retransmission_vs_out_of_order);
    tcase_add_test(tc, gap_never_filled_is_missed);
    tcase_add_test(tc, content_gap_letters);
    tcase_add_test(tc, rst_without_syn_is_oth);
    tcase_add_test(tc, history_overflow_marks_x);
    tcase_add_test(tc, scaled_history_and_zero_window);
    tcase_add_test(tc, karn_skips_retransmitted);
    tcase_add_test(tc, linger_then_fin_reason);
    suite_add_tcase(s, tc);
    return ns_test_run(s);
}

/* test_flow_engine.c - the engine's export path (live updates, transactions once), its clock
 * (far-future, negative and jumping timestamps), interfaces in the key, throughput buckets
 * with old packets, and the records it hands over, on hand-built packets and frames. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtest.h"
#include "ipframe.h"
#include "netscope/flow_engine.h"
#include "netscope/pipeline.h"
#include "runner.h"

#define S_NS 1000000000ull
#define T0 (1700000000ull * S_NS) /* an arbitrary capture time */
#define MAXREC 64

/* Everything the callback saw, in order. */
typedef struct {
    ns_flow_rec_t r[MAXREC];
    uint32_t http_uris; /* transactions carried, over all records */
    uint32_t dns_names;
    char uris[8][64];
    int n;
} seen_t;

static void
grab(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    (void)eng;
    (void)idx;
    seen_t *s = ud;
    for (uint32_t i = 0; i < rec->n_http; i++) {
        if (s->http_uris < 8)
            snprintf(s->uris[s->http_uris], sizeof(s->uris[0]), "%s", rec->http[i].uri);
        s->http_uris++;
    }
    s->dns_names += rec->n_dns;
    ck_assert_int_lt(s->n, MAXREC);
    s->r[s->n] = *rec;
    s->r[s->n].http = NULL; /* the arrays are the engine's, valid during the call only */
    s->r[s->n].dns = NULL;
    s->n++;
}

static ns_flow_engine_t *
engine(seen_t *s, bool export_live, bool app)
{
    memset(s, 0, sizeof(*s));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 64;
    o.seed = 7;
    o.app = app;
    o.export_live = export_live;
    ns_flow_engine_t *e = ns_flow_engine_new(&o, grab, s);
    ck_assert_ptr_nonnull(e);
    return e;
}

/* A UDP packet between 10.0.0.1:port and 10.0.0.2:53. */
static ns_pkt_t
udp(bool c2s, uint16_t port, uint64_t ts)
{
    ns_pkt_t p = ft_tcp(c2s, 0, 0, 0, 20, ts);
    p.ip_proto = 17;
    p.layers = NS_HAS(NS_LAYER_IPV4) | NS_HAS(NS_LAYER_UDP);
    p.sport = c2s ? port : 53;
    p.dport = c2s ? 53 : port;
    return p;
}

static void
add(ns_flow_engine_t *e, ns_pkt_t p)
{
    ns_flow_engine_add(e, &p, NULL);
}

/* ---- export ------------------------------------------------------------------------------ */

START_TEST(export_sees_every_packet_within_one_interval)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, true, false);
    uint32_t c = 100, v = 900;
    add(e, ft_tcp(true, NS_TCP_SYN, c, 0, 0, T0));
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + 1), 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.r[0].kind, NS_FLOW_REC_UPDATE);
    ck_assert_uint_eq(s.r[0].pkts[0], 1);
    ck_assert_str_eq(s.r[0].conn_state, "S0");
    ck_assert_str_eq(s.r[0].history, "S");

    /* nothing changed: nothing exported */
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + 2), 0);
    ck_assert_int_eq(s.n, 1);

    add(e, ft_tcp(false, NS_TCP_SYN | NS_TCP_ACK, v, c + 1, 0, T0 + 10 * FT_MS));
    add(e, ft_tcp(true, NS_TCP_ACK, c + 1, v + 1, 0, T0 + 20 * FT_MS));
    add(e, ft_tcp(true, NS_TCP_ACK | NS_TCP_PSH, c + 1, v + 1, 100, T0 + 30 * FT_MS));
    ck_assert_uint_eq(ns_flow_engine_pending(e), 1);
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + 40 * FT_MS), 1);
    ck_assert_int_eq(s.n, 2);
    /* cumulative counters and the live state, with the last packet in */
    ck_assert_uint_eq(s.r[1].pkts[0], 3);
    ck_assert_uint_eq(s.r[1].pkts[1], 1);
    ck_assert_uint_eq(s.r[1].payload_bytes[0], 100);
    ck_assert_str_eq(s.r[1].conn_state, "S1");
    ck_assert_str_eq(s.r[1].history, "ShAD");
    ck_assert_uint_eq(s.r[1].last_ns, T0 + 30 * FT_MS);
    ck_assert_uint_eq(s.r[1].emit_ns, T0 + 40 * FT_MS);
    ck_assert_str_eq(s.r[1].uid, s.r[0].uid);

    /* the flow ends: a final record, and no update of it afterwards */
    add(e, ft_tcp(true, NS_TCP_RST, c + 101, 0, 0, T0 + 50 * FT_MS));
    ns_flow_engine_flush(e, NS_FLOW_END_SHUTDOWN, T0 + 60 * FT_MS);
    ck_assert_int_eq(s.n, 3);
    ck_assert_uint_eq(s.r[2].kind, NS_FLOW_REC_FINAL);
    ck_assert_uint_eq(s.r[2].end_reason, NS_FLOW_END_RST);
    ck_assert_uint_eq(s.r[2].pkts[0], 4);
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + 70 * FT_MS), 0);
    ck_assert_uint_eq(ns_flow_engine_stats(e)->updates, 2);
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(export_cost_follows_changed_flows)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, true, false);
    for (uint16_t i = 0; i < 40; i++)
        add(e, udp(true, (uint16_t)(1000 + i), T0 + i));
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + S_NS / 10), 40);
    /* three of forty change: three updates, each once however many packets it got */
    for (unsigned k = 0; k < 5; k++) {
        add(e, udp(false, 1003, T0 + S_NS / 5 + k));
        add(e, udp(true, 1017, T0 + S_NS / 5 + k));
    }
    add(e, udp(true, 1039, T0 + S_NS / 4));
    ck_assert_uint_eq(ns_flow_engine_pending(e), 3);
    int before = s.n;
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + S_NS / 3), 3);
    ck_assert_int_eq(s.n, before + 3);
    for (int i = before; i < s.n; i++) {
        uint16_t p = s.r[i].orig_p;
        ck_assert(p == 1003 || p == 1017 || p == 1039);
        if (p == 1003)
            ck_assert_uint_eq(s.r[i].pkts[1], 5);
        if (p == 1017)
            ck_assert_uint_eq(s.r[i].pkts[0], 6);
    }
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(export_off_is_a_no_op)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    add(e, udp(true, 1000, T0));
    ck_assert_uint_eq(ns_flow_engine_export(e, T0 + 1), 0);
    ck_assert_uint_eq(ns_flow_engine_pending(e), 0);
    ck_assert_int_eq(s.n, 0);
    ns_flow_engine_destroy(&e);
}
END_TEST

/* One HTTP exchange on 10.0.0.1:40000 -> 10.0.0.2:80 through the pipeline (decoded frames). */
typedef struct {
    ns_pipeline_t *p;
    uint32_t seq[2];
} conn_t;

static void
seg(conn_t *c, unsigned dir, uint8_t flags, const char *data, uint64_t t)
{
    uint8_t tcp[TCP_HDR] = {0};
    size_t len = data ? strlen(data) : 0;
    put16(tcp + 0, dir == 0 ? 40000u : 80u);
    put16(tcp + 2, dir == 0 ? 80u : 40000u);
    put32(tcp + 4, c->seq[dir]);
    put32(tcp + 8, c->seq[dir ^ 1u]);
    tcp[12] = 0x50;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    uint32_t flen;
    uint8_t *f = ipv4_frame(dir, 6, tcp, TCP_HDR, (const uint8_t *)data, (uint32_t)len, &flen);
    ns_pipeline_frame(c->p, 0, 101 /* raw IP */, f, flen, flen, t);
    free(f);
    c->seq[dir] += (uint32_t)len + ((flags & 0x02) ? 1u : 0u);
}

START_TEST(transactions_travel_once)
{
    seen_t s;
    memset(&s, 0, sizeof(s));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 16;
    o.export_live = true;
    conn_t c = {.p = ns_pipeline_new(&o, grab, &s), .seq = {1000, 5000}};
    ck_assert_ptr_nonnull(c.p);
    uint64_t t = T0;
    seg(&c, 0, 0x02, NULL, t);
    seg(&c, 1, 0x12, NULL, t += FT_MS);
    seg(&c, 0, 0x10, NULL, t += FT_MS);
    seg(&c, 0, 0x18, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n", t += FT_MS);
    /* the request has no response yet: the update carries no transaction */
    ns_pipeline_export(c.p, t);
    ck_assert_uint_eq(s.http_uris, 0);
    seg(&c, 1, 0x18, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", t += FT_MS);
    seg(&c, 0, 0x18, "GET /two HTTP/1.1\r\nHost: a\r\n\r\n", t += FT_MS);
    ns_pipeline_export(c.p, t);
    ck_assert_uint_eq(s.http_uris, 1);
    ck_assert_str_eq(s.uris[0], "/one");
    ck_assert_str_eq(s.r[s.n - 1].service, "http");
    /* nothing new completed: the next update carries nothing again */
    seg(&c, 0, 0x10, NULL, t += FT_MS);
    ns_pipeline_export(c.p, t);
    ck_assert_uint_eq(s.http_uris, 1);
    /* the final record carries what is left, complete or not */
    ns_pipeline_finish(c.p, NS_FLOW_END_SHUTDOWN, t + FT_MS);
    ck_assert_uint_eq(s.http_uris, 2);
    ck_assert_str_eq(s.uris[1], "/two");
    ck_assert_uint_eq(s.r[s.n - 1].kind, NS_FLOW_REC_FINAL);
    ck_assert_uint_eq(s.r[s.n - 1].end_reason, NS_FLOW_END_SHUTDOWN);
    ck_assert_uint_eq(s.r[s.n - 1].http_total, 2);
    ns_pipeline_destroy(&c.p);
    ck_assert_ptr_null(c.p);
}
END_TEST

START_TEST(without_export_a_record_carries_every_transaction)
{
    seen_t s;
    memset(&s, 0, sizeof(s));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 16;
    conn_t c = {.p = ns_pipeline_new(&o, grab, &s), .seq = {1000, 5000}};
    uint64_t t = T0;
    seg(&c, 0, 0x18, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n", t);
    seg(&c, 1, 0x18, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", t += FT_MS);
    seg(&c, 0, 0x18, "GET /two HTTP/1.1\r\nHost: a\r\n\r\n", t += FT_MS);
    ns_pipeline_finish(c.p, NS_FLOW_END_END_OF_INPUT, 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.http_uris, 2);
    ck_assert_uint_eq(ns_pipeline_stats(c.p)->frames, 3);
    ns_pipeline_destroy(&c.p);
}
END_TEST

/* ---- time -------------------------------------------------------------------------------- */

/* Ten UDP flows seen at T0 .. T0 + 9 ms. */
static void
ten_flows(ns_flow_engine_t *e)
{
    for (uint16_t i = 0; i < 10; i++)
        add(e, udp(true, (uint16_t)(2000 + i), T0 + i * FT_MS));
}

START_TEST(far_future_packet_neither_expires_all_nor_stalls)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    ten_flows(e);
    /* one packet stamped in 2106 */
    add(e, udp(true, 3000, 0xffffffffull * S_NS));
    ck_assert_int_eq(s.n, 0);
    ck_assert_uint_eq(ns_flow_engine_stats(e)->clock_suspect, 1);
    /* back to normal: flows idle for the timeout (60 s) end, by packet time */
    add(e, udp(true, 2000, T0 + 20 * S_NS));
    ck_assert_int_eq(s.n, 0);
    add(e, udp(true, 2000, T0 + 70 * S_NS));
    /* 2001..2009 and the far-future one (accounted at the clock's time) ended idle */
    ck_assert_int_eq(s.n, 10);
    for (int i = 0; i < s.n; i++) {
        ck_assert_uint_eq(s.r[i].end_reason, NS_FLOW_END_IDLE);
        ck_assert_uint_le(s.r[i].last_ns, T0 + 20 * S_NS);
    }
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(negative_and_pre_1970_timestamps)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    ten_flows(e);
    /* a negative time read as unsigned is far in the future; 0 is 1970 */
    add(e, udp(true, 3000, (uint64_t)(-5 * (int64_t)S_NS)));
    add(e, udp(true, 3001, 0));
    ck_assert_int_eq(s.n, 0);
    /* the wall clock a live capture passes when quiet: every flow is idle 60 s later, the
     * two odd ones included (nothing waits for 2106) */
    ns_flow_engine_expire(e, T0 + 59 * S_NS);
    ck_assert_int_eq(s.n, 0);
    ns_flow_engine_expire(e, T0 + 61 * S_NS);
    ck_assert_int_eq(s.n, 12);
    ck_assert_uint_eq(ns_flow_engine_stats(e)->clock_suspect, 2);
    ck_assert_uint_eq(ns_flow_engine_stats(e)->clock_jumps, 0);
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(a_real_gap_is_confirmed_and_keeps_its_times)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    ten_flows(e);
    uint64_t later = T0 + 3600 * S_NS; /* the capture resumes an hour later */
    add(e, udp(true, 4000, later));
    add(e, udp(true, 4001, later + FT_MS));
    ck_assert_uint_eq(ns_flow_engine_stats(e)->clock_jumps, 1);
    ck_assert_uint_eq(ns_flow_engine_clock(e), later + FT_MS);
    /* the ten old flows ended on the next expiry pass */
    add(e, udp(true, 4001, later + 200 * FT_MS));
    ck_assert_int_eq(s.n, 10);
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ck_assert_int_eq(s.n, 12);
    bool found = false;
    for (int i = 0; i < s.n; i++)
        if (s.r[i].orig_p == 4000) {
            ck_assert_uint_eq(s.r[i].first_ns, later); /* not the clock's time before it */
            ck_assert_uint_eq(s.r[i].last_ns, later);
            found = true;
        }
    ck_assert(found);
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(a_bogus_first_packet_does_not_hold_the_clock)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    add(e, udp(true, 3000, T0 + 100000 * S_NS)); /* the very first packet is bogus */
    ten_flows(e);
    ck_assert_uint_eq(ns_flow_engine_stats(e)->clock_jumps, 1);
    /* the clock came back: the normal flows live on, the bogus one has ended */
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.r[0].orig_p, 3000);
    add(e, udp(true, 2000, T0 + 30 * S_NS));
    ck_assert_int_eq(s.n, 1);
    add(e, udp(true, 2000, T0 + 70 * S_NS));
    ck_assert_int_eq(s.n, 10);
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(handshake_halves_never_underflow)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    /* a SYN, its retransmission 50 ms later, and a SYN-ACK stamped before that */
    add(e, ft_tcp(true, NS_TCP_SYN, 100, 0, 0, T0));
    add(e, ft_tcp(true, NS_TCP_SYN, 100, 0, 0, T0 + 50 * FT_MS));
    add(e, ft_tcp(false, NS_TCP_SYN | NS_TCP_ACK, 900, 101, 0, T0 + 20 * FT_MS));
    add(e, ft_tcp(true, NS_TCP_ACK, 101, 901, 0, T0 + 30 * FT_MS));
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert(s.r[0].hs & NS_FLOW_REC_HS_TOTAL);
    ck_assert_uint_le(s.r[0].rtt_hs_ns, 50 * FT_MS);
    ck_assert_uint_le(s.r[0].rtt_hs_server_ns, 50 * FT_MS);
    ck_assert_uint_le(s.r[0].rtt_hs_client_ns, 50 * FT_MS);
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(old_packet_keeps_the_throughput_buckets)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    /* 10 packets of 74 bytes in second 5, one late packet from second 3, then the rate */
    for (unsigned i = 0; i < 10; i++)
        add(e, udp(true, 5000, T0 + 5 * S_NS + i * FT_MS));
    add(e, udp(true, 5000, T0 + 3 * S_NS));
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.r[0].pkts[0], 11);
    /* the window at the last packet still holds the ten packets of second 5 */
    ck_assert_double_ge(s.r[0].pps, 10.0);
    double bps, pps;
    ns_flow_engine_rate(e, T0 + 5 * S_NS + 9 * FT_MS, &bps, &pps);
    ck_assert_double_ge(pps, 10.0);
    ns_flow_engine_destroy(&e);
}
END_TEST

/* ---- interfaces -------------------------------------------------------------------------- */

START_TEST(interface_is_part_of_the_key)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    ns_pkt_t a = udp(true, 6000, T0), b = udp(true, 6000, T0 + 1);
    a.iface = 0;
    b.iface = 3;
    ns_flow_engine_add(e, &a, NULL);
    ns_flow_engine_add(e, &b, NULL);
    b.vlan_n = 1;
    b.vlan[0] = 0x0fff; /* VLAN 4095 on interface 3: a third flow */
    ns_flow_engine_add(e, &b, NULL);
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ck_assert_int_eq(s.n, 3);
    int seen[16] = {0};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(s.r[i].pkts[0], 1);
        seen[s.r[i].iface]++;
        if (s.r[i].vlan == 4095)
            ck_assert_uint_eq(s.r[i].iface, 3);
    }
    ck_assert_int_eq(seen[0], 1);
    ck_assert_int_eq(seen[3], 2);
    ns_flow_engine_destroy(&e);
}
END_TEST

/* ---- table -------------------------------------------------------------------------------- */

/* ---- Zeek history of UDP and ICMP flows ----------------------------------------------------- */

/* Zeek's UDP analyzer: 'D' for the originator's datagrams, 'd' for the responder's, once each
 * and in order, with or without payload; ICMP has no letters. */
START_TEST(udp_and_icmp_history)
{
    seen_t s;
    ns_flow_engine_t *e = engine(&s, false, false);
    add(e, udp(true, 1000, T0));
    add(e, udp(true, 1000, T0 + 1));
    add(e, udp(false, 1000, T0 + 2));
    add(e, udp(true, 1000, T0 + 3));
    ns_pkt_t z = udp(true, 2000, T0 + 4); /* empty datagram: still 'D' */
    z.payload_len = z.payload_cap = 0;
    add(e, z);
    ns_pkt_t tr = udp(true, 3000, T0 + 5); /* header cut short: no letter */
    tr.err_layer = NS_LAYER_UDP;
    tr.err_rc = NS_PARSE_TRUNCATED;
    add(e, tr);
    ns_pkt_t ic = ft_tcp(true, 0, 0, 0, 20, T0 + 6);
    ic.ip_proto = 1;
    ic.layers = NS_HAS(NS_LAYER_IPV4) | NS_HAS(NS_LAYER_ICMP);
    ic.sport = 8;
    ic.dport = 0;
    add(e, ic);
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, T0 + 10);
    ck_assert_int_eq(s.n, 4);
    int seen = 0;
    for (int i = 0; i < s.n; i++) {
        if (s.r[i].proto == 17 && s.r[i].pkts[0] == 3) {
            ck_assert_str_eq(s.r[i].history, "Dd");
            ck_assert_str_eq(s.r[i].conn_state, "SF");
            seen |= 1;
        } else if (s.r[i].proto == 17 && s.r[i].payload_bytes[0] == 0 && s.r[i].pkts[0] == 1 &&
                   s.r[i].ip_bytes[0] == 60) {
            ck_assert_str_eq(s.r[i].history, "D");
            seen |= 2;
        } else if (s.r[i].proto == 17) {
            ck_assert_str_eq(s.r[i].history, "");
            seen |= 4;
        } else {
            ck_assert_uint_eq(s.r[i].proto, 1);
            ck_assert_str_eq(s.r[i].history, "");
            seen |= 8;
        }
    }
    ck_assert_int_eq(seen, 15);
    ns_flow_engine_destroy(&e);

    /* the originator's first datagram unreadable, the responder's first letter: "dD" */
    e = engine(&s, false, false);
    tr = udp(true, 1000, T0);
    tr.err_layer = NS_LAYER_UDP;
    tr.err_rc = NS_PARSE_TRUNCATED;
    add(e, tr);
    add(e, udp(false, 1000, T0 + 1));
    add(e, udp(true, 1000, T0 + 2));
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, T0 + 10);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.r[0].history, "dD");
    ns_flow_engine_destroy(&e);
}
END_TEST

START_TEST(deleting_an_absent_index_aborts)
{
    ns_flow_table_t *t = ns_flow_table_new(8, 1);
    ns_flow_key_t k;
    ns_addr_t a = {{10, 0, 0, 1}}, b = {{10, 0, 0, 2}};
    ns_flow_key_make(&k, 4, 17, 0, &a, 1, &b, 2);
    uint32_t idx = ns_flow_table_add(t, &k, ns_flow_table_hash(t, &k), 0, T0);
    ns_flow_table_del(t, idx);
    ns_flow_table_del(t, idx); /* not in the table any more: SIGABRT, not an endless loop */
}
END_TEST

static Suite *
flow_engine_suite(void)
{
    Suite *s = suite_create("flow_engine");
    TCase *tc = tcase_create("export");
    tcase_add_test(tc, export_sees_every_packet_within_one_interval);
    tcase_add_test(tc, export_cost_follows_changed_flows);
    tcase_add_test(tc, export_off_is_a_no_op);
    tcase_add_test(tc, transactions_travel_once);
    tcase_add_test(tc, without_export_a_record_carries_every_transaction);
    suite_add_tcase(s, tc);
    tc = tcase_create("time");
    tcase_add_test(tc, far_future_packet_neither_expires_all_nor_stalls);
    tcase_add_test(tc, negative_and_pre_1970_timestamps);
    tcase_add_test(tc, a_real_gap_is_confirmed_and_keeps_its_times);
    tcase_add_test(tc, a_bogus_first_packet_does_not_hold_the_clock);
    tcase_add_test(tc, handshake_halves_never_underflow);
    tcase_add_test(tc, old_packet_keeps_the_throughput_buckets);
    suite_add_tcase(s, tc);
    tc = tcase_create("key");
    tcase_add_test(tc, interface_is_part_of_the_key);
    tcase_add_test(tc, udp_and_icmp_history);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test_raise_signal(tc, deleting_an_absent_index_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(flow_engine_suite)

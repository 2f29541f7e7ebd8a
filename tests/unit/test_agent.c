/* test_agent.c - the agent as the collector sees it: this test plays the collector (a plain
 * ROUTER link and the codec) for an agent replaying a capture slowly in another thread.
 * Hello first; batches numbered 1, 2, ... with live updates whose counters only grow, then the
 * final record; GetPackets answered with the flow's frames from the ring; SetFilter answered
 * with libpcap's verdict; nothing acknowledged, everything resent after the ack timeout; the
 * agent exits 0 once every final record is acknowledged. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netscope/agent.h"
#include "netscope/codec.h"
#include "netscope/decode.h"
#include "netscope/flow_key.h"
#include "netscope/transport.h"
#include "pcapngfile.h"
#include "runner.h"

#define PCAP NS_TEST_SRC "/golden/print/http_handshake.pcap" /* 10 frames, one TCP flow */
#define MAX_FINALS 4

typedef struct {
    ns_agent_t *agent;
    int rc;
} run_t;

static void *
run_agent(void *arg)
{
    run_t *r = arg;
    r->rc = ns_agent_run(r->agent);
    return NULL;
}

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct {
    ns_link_t *link;
    ns_codec_t *codec;
    uint8_t peer[NS_LINK_PEER_MAX];
    size_t peer_len;
    /* what came */
    int hellos, batches, finals, updates;
    uint16_t final_ports[MAX_FINALS]; /* orig_p of the first final records */
    uint64_t last_seq, dup_seqs;
    uint64_t last_pkts;
    bool pkts_backwards;
    ns_flow_rec_t first; /* the flow's first record (key) */
    bool have_first;
    int packets_replies;
    uint32_t frames_returned;
    bool frames_match;
    int filter_ok, filter_bad;
    char filter_err[256];
} collector_t;

static void
send_msg(collector_t *c, const ns_msg_t *m)
{
    uint8_t buf[4096];
    size_t len;
    ck_assert_int_eq(ns_codec_encode(c->codec, m, buf, sizeof(buf), &len), NS_OK);
    ck_assert_int_eq(ns_link_send_to(c->link, c->peer, c->peer_len, buf, len), NS_LINK_OK);
}

static void
ack(collector_t *c, uint64_t seq)
{
    ns_msg_t m = {.type = NS_MSG_ACK};
    m.u.ack.seq = seq;
    send_msg(c, &m);
}

/* Receive for up to `ms`, accounting each message; acknowledge batches when `acking`. */
static void
serve(collector_t *c, uint64_t ms, bool acking)
{
    uint64_t end = mono_ms() + ms;
    while (mono_ms() < end) {
        ns_link_msg_t lm;
        if (ns_link_recv(c->link, &lm, 20) != NS_LINK_OK)
            continue;
        memcpy(c->peer, lm.peer, lm.peer_len);
        c->peer_len = lm.peer_len;
        const ns_msg_t *m;
        ck_assert_int_eq(ns_codec_decode_agent(c->codec, lm.data, lm.len, &m), NS_CODEC_OK);
        if (m->type == NS_MSG_HELLO) {
            c->hellos++;
            ck_assert_str_eq(m->u.hello.agent_id, "test-agent");
            ck_assert_uint_eq(m->u.hello.n_ifaces, 1);
            ck_assert_uint_eq(m->u.hello.ifaces[0].link_type, 1);
        } else if (m->type == NS_MSG_BATCH) {
            const ns_msg_batch_t *b = &m->u.batch;
            if (b->seq <= c->last_seq) {
                c->dup_seqs++;
            } else {
                ck_assert_uint_eq(b->seq, c->last_seq + 1); /* numbered 1, 2, ... */
                c->last_seq = b->seq;
            }
            c->batches++;
            for (uint32_t i = 0; i < b->n_recs; i++) {
                const ns_flow_rec_t *r = &b->recs[i];
                uint64_t pk = r->pkts[0] + r->pkts[1];
                if (pk < c->last_pkts)
                    c->pkts_backwards = true;
                c->last_pkts = pk;
                if (r->kind == NS_FLOW_REC_FINAL && c->finals < MAX_FINALS)
                    c->final_ports[c->finals] = r->orig_p;
                if (r->kind == NS_FLOW_REC_FINAL)
                    c->finals++;
                else
                    c->updates++;
                if (!c->have_first) {
                    c->first = *r;
                    c->first.http = NULL;
                    c->first.dns = NULL;
                    c->have_first = true;
                }
            }
            if (acking)
                ack(c, b->seq);
        } else if (m->type == NS_MSG_PACKETS) {
            c->packets_replies++;
            const ns_msg_packets_t *p = &m->u.packets;
            c->frames_returned = p->n_frames;
            c->frames_match = p->n_frames > 0 && p->link_type == 1;
            static ns_pkt_t pkt;
            for (uint32_t i = 0; i < p->n_frames; i++) {
                ns_decode_frame(1, p->frames[i].data, p->frames[i].cap_len, p->frames[i].wire_len,
                                &pkt, NULL, NULL);
                bool one = pkt.ip_proto == 6 &&
                           (pkt.sport == c->first.orig_p || pkt.dport == c->first.orig_p);
                c->frames_match = c->frames_match && one;
            }
        } else if (m->type == NS_MSG_FILTER_RESULT) {
            if (m->u.filter_result.ok) {
                c->filter_ok++;
            } else {
                c->filter_bad++;
                snprintf(c->filter_err, sizeof(c->filter_err), "%s", m->u.filter_result.error);
            }
        }
    }
}

/* An agent replaying `file` at `speed` to `endpoint`. */
static ns_agent_t *
new_agent_of(ns_agent_config_t *cfg, const char *file, const char *endpoint, const char *speed)
{
    ck_assert(ns_agent_config_defaults(cfg));
    char err[512];
    ck_assert(
        ns_config_set_string(ns_agent_opts, ns_agent_nopts, cfg, "capture.replay", file));
    ck_assert(
        ns_config_set_string(ns_agent_opts, ns_agent_nopts, cfg, "capture.replay_speed", speed));
    ck_assert(
        ns_config_set_string(ns_agent_opts, ns_agent_nopts, cfg, "export.collector", endpoint));
    ck_assert(ns_config_set_string(ns_agent_opts, ns_agent_nopts, cfg, "agent.id", "test-agent"));
    cfg->insecure = true;
    cfg->interval_ms = 50;
    cfg->heartbeat_ms = 200;
    cfg->ring_mb = 1;
    cfg->ack_timeout_ms = 300;
    cfg->drain_ms = 3000;
    ck_assert_msg(ns_agent_config_check(cfg, err, sizeof(err)), "%s", err);
    ns_agent_t *a = ns_agent_new(cfg, err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    return a;
}

static ns_agent_t *
new_agent(ns_agent_config_t *cfg, const char *endpoint, const char *speed)
{
    return new_agent_of(cfg, PCAP, endpoint, speed);
}

static void
collector_open(collector_t *c)
{
    memset(c, 0, sizeof(*c));
    char err[512];
    ns_link_opts_t lo = {.linger_ms = 0};
    c->link = ns_link_router_new("tcp://127.0.0.1:*", &lo, err, sizeof(err));
    ck_assert_msg(c->link != NULL, "%s", err);
    c->codec = ns_codec_new(NULL, err, sizeof(err));
    ck_assert_ptr_nonnull(c->codec);
}

static void
collector_close(collector_t *c)
{
    ns_link_destroy(&c->link);
    ns_codec_destroy(&c->codec);
}

START_TEST(updates_requests_and_the_final_record)
{
    collector_t c;
    collector_open(&c);
    ns_agent_config_t cfg;
    ns_agent_t *a = new_agent(&cfg, ns_link_endpoint(c.link), "0.5"); /* ~2.6 s */
    run_t r = {.agent = a};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_agent, &r), 0);

    /* wait for a first live update, then ask for the flow's packets and change the filter */
    for (uint64_t end = mono_ms() + 2000; !c.have_first && mono_ms() < end;)
        serve(&c, 50, true);
    ck_assert_msg(c.have_first, "no record within 2 s");
    ck_assert_int_eq(c.hellos, 1);
    ns_msg_t m = {.type = NS_MSG_GET_PACKETS};
    m.u.get_packets = (ns_msg_get_packets_t){.request_id = 7,
                                             .ip_ver = c.first.ip_ver,
                                             .proto = c.first.proto,
                                             .addr = {c.first.orig_h, c.first.resp_h},
                                             .port = {c.first.orig_p, c.first.resp_p}};
    send_msg(&c, &m);
    m = (ns_msg_t){.type = NS_MSG_SET_FILTER};
    m.u.set_filter = (ns_msg_set_filter_t){.request_id = 8, .bpf_filter = "tcp port"};
    send_msg(&c, &m);
    m.u.set_filter = (ns_msg_set_filter_t){.request_id = 9, .bpf_filter = "tcp"};
    send_msg(&c, &m);
    for (uint64_t end = mono_ms() + 6000; mono_ms() < end && !(c.finals && c.filter_ok);)
        serve(&c, 50, true);
    serve(&c, 300, true); /* the last heartbeat */
    pthread_join(t, NULL);

    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(c.finals, 1);
    ck_assert_int_gt(c.updates, 0);
    ck_assert(!c.pkts_backwards);
    ck_assert_uint_eq(c.last_pkts, 10);
    ck_assert_int_eq(c.packets_replies, 1);
    ck_assert(c.frames_match);
    ck_assert_uint_ge(c.frames_returned, c.first.pkts[0] + c.first.pkts[1]);
    ck_assert_int_eq(c.filter_bad, 1);
    ck_assert_msg(strstr(c.filter_err, "tcp port") != NULL, "%s", c.filter_err);
    ck_assert_int_eq(c.filter_ok, 1);
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ck_assert(s.drained);
    ck_assert_uint_eq(s.finals_produced, 1);
    ck_assert_uint_eq(s.finals_acked, 1);
    ck_assert_uint_eq(s.frames, 10);
    ns_agent_destroy(&a);
    ck_assert_ptr_null(a);
    ns_agent_config_free(&cfg);
    collector_close(&c);
}
END_TEST

START_TEST(unacknowledged_batches_are_resent_as_they_were)
{
    collector_t c;
    collector_open(&c);
    ns_agent_config_t cfg;
    ns_agent_t *a = new_agent(&cfg, ns_link_endpoint(c.link), "max");
    run_t r = {.agent = a};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_agent, &r), 0);
    /* take everything, acknowledge nothing for a while: the agent resends after 300 ms */
    serve(&c, 1000, false);
    ck_assert_int_ge(c.finals, 2); /* the final record came again */
    ck_assert_uint_gt(c.dup_seqs, 0);
    ck_assert_uint_eq(c.last_seq, 1); /* with its number: no new batch for the same records */
    ack(&c, 1);
    serve(&c, 500, true);
    pthread_join(t, NULL);
    ck_assert_int_eq(r.rc, 0);
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ck_assert_uint_eq(s.finals_acked, 1);
    ck_assert_uint_gt(s.batches_resent, 0);
    ns_agent_destroy(&a);
    ns_agent_config_free(&cfg);
    collector_close(&c);
}
END_TEST

START_TEST(nothing_acknowledged_is_reported)
{
    collector_t c;
    collector_open(&c);
    ns_agent_config_t cfg;
    ns_agent_t *a = new_agent(&cfg, ns_link_endpoint(c.link), "max");
    cfg.drain_ms = 500;
    run_t r = {.agent = a};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_agent, &r), 0);
    serve(&c, 1500, false);
    pthread_join(t, NULL);
    ck_assert_int_eq(r.rc, 1); /* the final record was not acknowledged in time */
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ck_assert(!s.drained);
    ck_assert_uint_eq(s.finals_acked, 0);
    ns_agent_destroy(&a);
    ns_agent_config_free(&cfg);
    collector_close(&c);
}
END_TEST

/* IPv4 10.0.0.1:`sport` -> 10.0.0.2:53 UDP with 4 bytes of payload (32 bytes; checksums 0). */
static void
udp4(uint8_t *b, uint16_t sport)
{
    static const uint8_t h[32] = {0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
                                  10,   0, 0, 2,  0, 0, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
    memcpy(b, h, sizeof(h));
    b[20] = (uint8_t)(sport >> 8);
    b[21] = (uint8_t)sport;
}

/* A pcapng replay whose interfaces differ in link type (Ethernet, raw IP): each frame is
 * decoded with its own interface's, so both flows are found (with the first interface's link
 * type for all, the raw IP frame would be read as Ethernet and be no flow at all). */
START_TEST(pcapng_interfaces_of_different_link_types)
{
    blk_t f;
    pcapng_shb(&f);
    pcapng_idb(&f, 1, 65535);
    pcapng_idb(&f, 101, 65535);
    uint8_t eth[14 + 32] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    udp4(eth + 14, 1111);
    pcapng_epb(&f, 0, 1700000000000000ull, eth, sizeof(eth), sizeof(eth));
    uint8_t raw[32];
    udp4(raw, 3333);
    pcapng_epb(&f, 1, 1700000000001000ull, raw, sizeof(raw), sizeof(raw));
    char path[64];
    write_tmp(f.b, f.n, path);

    collector_t c;
    collector_open(&c);
    ns_agent_config_t cfg;
    ns_agent_t *a = new_agent_of(&cfg, path, ns_link_endpoint(c.link), "max");
    run_t r = {.agent = a};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_agent, &r), 0);
    for (uint64_t end = mono_ms() + 5000; mono_ms() < end && c.finals < 2;)
        serve(&c, 50, true);
    serve(&c, 300, true);
    pthread_join(t, NULL);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(c.finals, 2);
    bool eth_flow = false, raw_flow = false;
    for (int i = 0; i < c.finals; i++) {
        eth_flow = eth_flow || c.final_ports[i] == 1111;
        raw_flow = raw_flow || c.final_ports[i] == 3333;
    }
    ck_assert(eth_flow && raw_flow);
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ck_assert_uint_eq(s.frames, 2);
    ns_agent_destroy(&a);
    ns_agent_config_free(&cfg);
    collector_close(&c);
    unlink(path);
}
END_TEST

static Suite *
agent_suite(void)
{
    Suite *s = suite_create("agent");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, updates_requests_and_the_final_record);
    tcase_add_test(tc, unacknowledged_batches_are_resent_as_they_were);
    tcase_add_test(tc, nothing_acknowledged_is_reported);
    tcase_add_test(tc, pcapng_interfaces_of_different_link_types);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(agent_suite)

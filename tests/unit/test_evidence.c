/* test_evidence.c - requests for an alert's packets and the pcap they make: completion when
 * every request is answered, timeouts, unknown replies, link-type mismatches, the byte cap,
 * a full request table; the pcap checked byte by byte against the format; a whole-ring request
 * answered in parts, each its own pcap (an empty last part too), pending until the last. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/evidence.h"
#include "runner.h"

#define SEC 1000000000ull

typedef struct {
    uint32_t calls;
    uint64_t alert;
    uint8_t buf[8192];
    size_t len;
} got_t;

static void
on_pcap(void *ud, uint64_t alert_id, const uint8_t *data, size_t len)
{
    got_t *g = ud;
    g->calls++;
    g->alert = alert_id;
    g->len = len < sizeof(g->buf) ? len : sizeof(g->buf);
    memcpy(g->buf, data, g->len);
}

static uint32_t
u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static ns_msg_packets_t
reply(uint32_t id, uint32_t link, const ns_msg_frame_t *f, uint32_t n)
{
    return (ns_msg_packets_t){
        .request_id = id, .error = "", .link_type = link, .frames = f, .n_frames = n};
}

START_TEST(two_requests_one_pcap)
{
    ns_evidence_t *e = ns_evidence_new(8, 65536, 5 * SEC);
    got_t g = {0};
    uint32_t a = ns_evidence_request(e, 42, 1 * SEC), b = ns_evidence_request(e, 42, 1 * SEC);
    ck_assert_uint_ne(a, 0);
    ck_assert_uint_ne(b, a);
    static const uint8_t syn[60] = {0x02, 0x4e, 0x53};
    ns_msg_frame_t f[2] = {{.ts_ns = 5 * SEC + 7, .wire_len = 60, .cap_len = 60, .data = syn},
                           {.ts_ns = 6 * SEC, .wire_len = 1514, .cap_len = 60, .data = syn}};
    ns_msg_packets_t p = reply(a, 1, f, 2);
    ck_assert(ns_evidence_reply(e, &p, on_pcap, &g));
    ck_assert_uint_eq(g.calls, 0); /* b outstanding */
    p = reply(999, 1, f, 1);
    ck_assert(!ns_evidence_reply(e, &p, on_pcap, &g)); /* unknown id */
    p = reply(b, 105, f, 1); /* another link type: left out */
    ck_assert(ns_evidence_reply(e, &p, on_pcap, &g));
    ck_assert_uint_eq(g.calls, 1);
    ck_assert_uint_eq(g.alert, 42);
    ck_assert_uint_eq(g.len, 24 + 2 * (16 + 60));
    ck_assert_uint_eq(u32(g.buf), 0xa1b23c4du); /* nanosecond pcap */
    ck_assert_uint_eq(u32(g.buf + 20), 1);      /* LINKTYPE_ETHERNET */
    ck_assert_uint_eq(u32(g.buf + 24), 5);      /* seconds */
    ck_assert_uint_eq(u32(g.buf + 28), 7);      /* nanoseconds */
    ck_assert_uint_eq(u32(g.buf + 32), 60);     /* captured */
    ck_assert_uint_eq(u32(g.buf + 24 + 76 + 12), 1514); /* second record's wire length */
    ck_assert_mem_eq(g.buf + 40, syn, 60);
    ns_evidence_stats_t st;
    ns_evidence_stats(e, &st);
    ck_assert_uint_eq(st.requested, 2);
    ck_assert_uint_eq(st.answered, 2);
    ck_assert_uint_eq(st.frames, 2);
    ck_assert_uint_eq(st.frames_left_out, 1);
    ns_evidence_destroy(&e);
    ck_assert_ptr_null(e);
}
END_TEST

START_TEST(timeout_keeps_what_came)
{
    ns_evidence_t *e = ns_evidence_new(8, 65536, 5 * SEC);
    got_t g = {0};
    uint32_t a = ns_evidence_request(e, 1, 10 * SEC);
    (void)ns_evidence_request(e, 1, 10 * SEC);
    uint32_t c = ns_evidence_request(e, 2, 10 * SEC); /* an alert whose agent never answers */
    (void)c;
    static const uint8_t fr[40];
    ns_msg_frame_t f = {.ts_ns = SEC, .wire_len = 40, .cap_len = 40, .data = fr};
    ns_msg_packets_t p = reply(a, 1, &f, 1);
    ns_evidence_reply(e, &p, on_pcap, &g);
    ns_evidence_expire(e, 14 * SEC, on_pcap, &g);
    ck_assert_uint_eq(g.calls, 0); /* not yet */
    ns_evidence_expire(e, 15 * SEC, on_pcap, &g);
    ck_assert_uint_eq(g.calls, 1); /* alert 1 with one frame; alert 2 had none: dropped */
    ck_assert_uint_eq(g.alert, 1);
    ck_assert_uint_eq(g.len, 24 + 16 + 40);
    ns_evidence_stats_t st;
    ns_evidence_stats(e, &st);
    ck_assert_uint_eq(st.timed_out, 2);
    ns_evidence_destroy(&e);
}
END_TEST

START_TEST(bounded)
{
    ns_evidence_t *e = ns_evidence_new(2, 1024, 5 * SEC);
    got_t g = {0};
    uint32_t a = ns_evidence_request(e, 1, 0);
    ck_assert_uint_ne(ns_evidence_request(e, 1, 0), 0);
    ck_assert_uint_eq(ns_evidence_request(e, 3, 0), 0); /* table full */
    /* frames beyond the byte cap are left out */
    static const uint8_t big[600];
    ns_msg_frame_t f[3] = {{.ts_ns = 1, .wire_len = 600, .cap_len = 600, .data = big},
                           {.ts_ns = 2, .wire_len = 600, .cap_len = 600, .data = big},
                           {.ts_ns = 3, .wire_len = 100, .cap_len = 100, .data = big}};
    ns_msg_packets_t p = reply(a, 1, f, 3);
    ns_evidence_reply(e, &p, on_pcap, &g);
    ns_evidence_stats_t st;
    ns_evidence_stats(e, &st);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.frames, 2);
    ck_assert_uint_eq(st.frames_left_out, 1);
    ns_evidence_destroy(&e); /* frees the pcap being assembled */
    ck_assert_ptr_null(ns_evidence_new(0, 1024, 1));
    ck_assert_ptr_null(ns_evidence_new(1, 10, 1));
}
END_TEST

START_TEST(whole_ring_parts)
{
    /* a byte cap smaller than a part: parts are bounded by the agent's batch, not by it */
    ns_evidence_t *e = ns_evidence_new(8, 1024, 5 * SEC);
    got_t g = {0};
    uint32_t id = ns_evidence_request(e, 7, 1 * SEC);
    static const uint8_t fr[600] = {0x02};
    ns_msg_frame_t f[2] = {{.ts_ns = 2 * SEC, .wire_len = 600, .cap_len = 600, .data = fr},
                           {.ts_ns = 3 * SEC, .wire_len = 700, .cap_len = 600, .data = fr}};
    ns_msg_packets_t p = reply(id, 1, f, 2);
    p.whole_ring = true;
    ck_assert(ns_evidence_reply(e, &p, on_pcap, &g));
    ck_assert_uint_eq(g.calls, 1);
    ck_assert_uint_eq(g.alert, 7);
    ck_assert_uint_eq(g.len, 24 + 2 * (16 + 600));
    ck_assert_uint_eq(u32(g.buf + 20), 1);              /* link type */
    ck_assert_uint_eq(u32(g.buf + 24 + 616 + 12), 700); /* the second frame's wire length */
    /* still pending: the last part, with no frame, is handed out too */
    p = reply(id, 1, NULL, 0);
    p.whole_ring = p.last_chunk = true;
    ck_assert(ns_evidence_reply(e, &p, on_pcap, &g));
    ck_assert_uint_eq(g.calls, 2);
    ck_assert_uint_eq(g.len, 24);
    /* answered: a later part is an unknown reply, and the table has room again */
    ck_assert(!ns_evidence_reply(e, &p, on_pcap, &g));
    ns_evidence_stats_t st;
    ns_evidence_stats(e, &st);
    ck_assert_uint_eq(st.answered, 1);
    ck_assert_uint_eq(st.frames, 2);
    ck_assert_uint_eq(st.frames_left_out, 0);
    for (uint32_t i = 0; i < 8; i++)
        ck_assert_uint_ne(ns_evidence_request(e, 100 + i, 2 * SEC), 0);
    ns_evidence_destroy(&e);
}
END_TEST

static Suite *
evidence_suite(void)
{
    Suite *s = suite_create("evidence");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, two_requests_one_pcap);
    tcase_add_test(t, timeout_keeps_what_came);
    tcase_add_test(t, bounded);
    tcase_add_test(t, whole_ring_parts);
    suite_add_tcase(s, t);
    return s;
}

NS_TEST_MAIN(evidence_suite)

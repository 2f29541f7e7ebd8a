/* test_txstore.c - transactions that came in live updates wait for their flow's final record:
 * taken with it in order, per (agent, uid), deep copies, bounded in bytes and age; the latest
 * request or query of a live flow as one line of text. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/txstore.h"
#include "runner.h"

static ns_flow_rec_t
rec(const char *uid, const ns_app_http_tx_t *h, uint32_t nh, const ns_app_dns_tx_t *d, uint32_t nd)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "%s", uid);
    r.http = h;
    r.n_http = nh;
    r.dns = d;
    r.n_dns = nd;
    return r;
}

START_TEST(updates_then_final_in_order)
{
    ns_txstore_t *s = ns_txstore_new(0);
    char uri[16];
    strcpy(uri, "/one");
    ns_app_http_tx_t h1 = {.seq = 1, .method = "GET", .host = "a", .uri = uri, .user_agent = ""};
    ns_flow_rec_t u = rec("Cflow", &h1, 1, NULL, 0);
    ns_txstore_add(s, 3, &u, 100);
    strcpy(uri, "/CHANGED"); /* the store kept a copy */
    ns_app_http_tx_t h2 = {.seq = 2, .method = "GET", .host = "a", .uri = "/two", .user_agent = ""};
    ns_flow_rec_t f = rec("Cflow", &h2, 1, NULL, 0);
    f.kind = NS_FLOW_REC_FINAL;
    f.pkts[0] = 9;
    /* another agent's flow of the same uid is not this one */
    ns_flow_rec_t other;
    ns_txstore_take(s, 4, &f, &other);
    ck_assert_uint_eq(other.n_http, 1);
    ns_flow_rec_t whole;
    ns_txstore_take(s, 3, &f, &whole);
    ck_assert_uint_eq(whole.n_http, 2);
    ck_assert_str_eq(whole.http[0].uri, "/one");
    ck_assert_str_eq(whole.http[1].uri, "/two");
    ck_assert_uint_eq(whole.pkts[0], 9);
    ns_txstore_stats_t st;
    ns_txstore_stats(s, &st);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    /* taken once */
    ns_txstore_take(s, 3, &f, &whole);
    ck_assert_uint_eq(whole.n_http, 1);
    ns_txstore_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(dns_answers_copied)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_dns_answer_t an[2] = {{.type = 1, .ttl = 60, .data_len = 4, .data = {1, 2, 3, 4}},
                             {.type = 5, .ttl = 30}};
    ns_app_dns_tx_t d = {
        .id = 7, .qname = "x.example", .answered = true, .n_answers = 2, .answers = an};
    ns_flow_rec_t u = rec("Cdns", NULL, 0, &d, 1);
    ns_txstore_add(s, 0, &u, 1);
    an[0].ttl = 0;
    ns_flow_rec_t f = rec("Cdns", NULL, 0, NULL, 0), whole;
    ns_txstore_take(s, 0, &f, &whole);
    ck_assert_uint_eq(whole.n_dns, 1);
    ck_assert_str_eq(whole.dns[0].qname, "x.example");
    ck_assert_uint_eq(whole.dns[0].answers[0].ttl, 60);
    ck_assert_uint_eq(whole.dns[0].answers[1].type, 5);
    ns_txstore_destroy(&s);
}
END_TEST

START_TEST(bounded_by_bytes_and_age)
{
    ns_txstore_t *s = ns_txstore_new(4096);
    ns_app_http_tx_t h = {.method = "GET", .host = "h", .uri = "/", .user_agent = ""};
    char uid[16];
    for (int i = 0; i < 100; i++) {
        snprintf(uid, sizeof(uid), "C%d", i);
        ns_flow_rec_t u = rec(uid, &h, 1, NULL, 0);
        ns_txstore_add(s, 0, &u, (uint64_t)i);
    }
    ns_txstore_stats_t st;
    ns_txstore_stats(s, &st);
    ck_assert_uint_le(st.bytes, 4096);
    ck_assert_uint_gt(st.dropped, 0);
    ck_assert_uint_eq(st.added, 100);
    ck_assert_uint_eq(st.entries + st.dropped, 100);
    /* the newest survived */
    ns_flow_rec_t f = rec("C99", NULL, 0, NULL, 0), whole;
    ns_txstore_take(s, 0, &f, &whole);
    ck_assert_uint_eq(whole.n_http, 1);
    /* age: everything received before 1000 - 10 goes */
    ns_txstore_expire(s, 1000, 10);
    ns_txstore_stats(s, &st);
    ck_assert_uint_eq(st.entries, 0);
    ns_txstore_destroy(&s);
}
END_TEST

START_TEST(latest_as_text)
{
    ns_txstore_t *s = ns_txstore_new(0);
    char out[32];
    ck_assert(!ns_txstore_latest(s, 0, "Cnone", out, sizeof(out)));
    ck_assert_str_eq(out, "");
    /* the latest HTTP request; a response whose request was not seen is skipped */
    ns_app_http_tx_t h[3] = {
        {.seq = 1, .has_request = true, .method = "GET", .host = "a.lab", .uri = "/one"},
        {.seq = 2, .has_request = true, .method = "POST", .host = "<b>", .uri = "x?<s>"},
        {.seq = 3, .has_request = false, .method = "", .host = "", .uri = ""}};
    ns_flow_rec_t u = rec("Chttp", h, 2, NULL, 0);
    ns_txstore_add(s, 1, &u, 1);
    ck_assert(ns_txstore_latest(s, 1, "Chttp", out, sizeof(out)));
    ck_assert_str_eq(out, "POST <b>/x?<s>"); /* the bytes as they came: text for the viewer */
    u = rec("Chttp", h + 2, 1, NULL, 0);
    ns_txstore_add(s, 1, &u, 2);
    ck_assert(ns_txstore_latest(s, 1, "Chttp", out, sizeof(out)));
    ck_assert_str_eq(out, "POST <b>/x?<s>");
    ck_assert(!ns_txstore_latest(s, 2, "Chttp", out, sizeof(out))); /* another agent's */
    /* a DNS query name, cut to the buffer */
    ns_app_dns_tx_t d[2] = {
        {.id = 1, .has_query = true, .qname = "first.lab"},
        {.id = 2, .has_query = true, .qname = "a-very-long-name-that-does-not-fit.example"}};
    u = rec("Cdns", NULL, 0, d, 2);
    ns_txstore_add(s, 1, &u, 3);
    ck_assert(ns_txstore_latest(s, 1, "Cdns", out, sizeof(out)));
    ck_assert_str_eq(out, "a-very-long-name-that-does-not-");
    ns_txstore_destroy(&s);
}
END_TEST

static Suite *
txstore_suite(void)
{
    Suite *s = suite_create("txstore");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, updates_then_final_in_order);
    tcase_add_test(tc, dns_answers_copied);
    tcase_add_test(tc, latest_as_text);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, bounded_by_bytes_and_age);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(txstore_suite)

/* test_txstore.c - transactions that came in updates, joined to their flow's final record:
 * the stored ones first, then the final's own; a final that carries none of a kind (its array
 * NULL, as the codec leaves it), and a flow with nothing stored. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/txstore.h"
#include "runner.h"

#define AGENT 3u
#define UID "CtxstoreTest0001"

static ns_flow_rec_t
rec(uint8_t kind)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "%s", UID);
    r.kind = kind;
    return r;
}

static ns_app_dns_tx_t
dns_tx(const char *qname, uint16_t id)
{
    return (ns_app_dns_tx_t){.id = id, .qname = qname, .qtype = 1, .has_query = true,
                             .answered = true, .latency_ns = 1000};
}

static ns_app_http_tx_t
http_tx(const char *uri, uint16_t status)
{
    return (ns_app_http_tx_t){.seq = 1, .method = "GET", .host = "h1.lab", .uri = uri,
                              .user_agent = "curl", .has_request = true, .has_response = true,
                              .status = status, .latency_ns = -1};
}

/* ---- valid ------------------------------------------------------------------------------ */

/* The common case: a DNS flow's transaction came in an update, its final carries none. */
START_TEST(stored_then_bare_final)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_dns_tx_t q = dns_tx("h1.lab", 7);
    ns_flow_rec_t up = rec(NS_FLOW_REC_UPDATE);
    up.dns = &q;
    up.n_dns = 1;
    ns_txstore_add(s, AGENT, &up, 100);

    ns_flow_rec_t fin = rec(NS_FLOW_REC_FINAL); /* http and dns NULL, counts 0 */
    ns_flow_rec_t out;
    ns_txstore_take(s, AGENT, &fin, &out);
    ck_assert_uint_eq(out.n_dns, 1);
    ck_assert_str_eq(out.dns[0].qname, "h1.lab");
    ck_assert_uint_eq(out.dns[0].id, 7);
    ck_assert_uint_eq(out.n_http, 0);
    ns_txstore_stats_t st;
    ns_txstore_stats(s, &st);
    ck_assert_uint_eq(st.entries, 0);
    ns_txstore_destroy(&s);
}
END_TEST

/* Each kind joined on its own: stored HTTP with a final's DNS (neither side has both). */
START_TEST(kinds_joined_separately)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_http_tx_t h = http_tx("/data.bin", 200);
    ns_flow_rec_t up = rec(NS_FLOW_REC_UPDATE);
    up.http = &h;
    up.n_http = 1;
    ns_txstore_add(s, AGENT, &up, 100);

    ns_app_dns_tx_t q = dns_tx("col.lab", 9);
    ns_flow_rec_t fin = rec(NS_FLOW_REC_FINAL);
    fin.dns = &q;
    fin.n_dns = 1;
    ns_flow_rec_t out;
    ns_txstore_take(s, AGENT, &fin, &out);
    ck_assert_uint_eq(out.n_http, 1);
    ck_assert_str_eq(out.http[0].uri, "/data.bin");
    ck_assert_uint_eq(out.http[0].status, 200);
    ck_assert_uint_eq(out.n_dns, 1);
    ck_assert_str_eq(out.dns[0].qname, "col.lab");
    ns_txstore_destroy(&s);
}
END_TEST

START_TEST(stored_before_final_own)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_dns_tx_t first = dns_tx("h1.lab", 1), second = dns_tx("nosuch.lab", 2);
    ns_flow_rec_t up = rec(NS_FLOW_REC_UPDATE);
    up.dns = &first;
    up.n_dns = 1;
    ns_txstore_add(s, AGENT, &up, 100);
    ns_flow_rec_t fin = rec(NS_FLOW_REC_FINAL);
    fin.dns = &second;
    fin.n_dns = 1;
    ns_flow_rec_t out;
    ns_txstore_take(s, AGENT, &fin, &out);
    ck_assert_uint_eq(out.n_dns, 2);
    ck_assert_str_eq(out.dns[0].qname, "h1.lab");
    ck_assert_str_eq(out.dns[1].qname, "nosuch.lab");
    ns_txstore_destroy(&s);
}
END_TEST

/* Nothing stored for the flow (another agent's entry does not count): the final as it is. */
START_TEST(nothing_stored)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_dns_tx_t q = dns_tx("h1.lab", 1);
    ns_flow_rec_t up = rec(NS_FLOW_REC_UPDATE);
    up.dns = &q;
    up.n_dns = 1;
    ns_txstore_add(s, AGENT + 1, &up, 100);
    ns_flow_rec_t fin = rec(NS_FLOW_REC_FINAL);
    ns_flow_rec_t out;
    ns_txstore_take(s, AGENT, &fin, &out);
    ck_assert_uint_eq(out.n_dns, 0);
    ck_assert_ptr_null(out.dns);
    ns_txstore_stats_t st;
    ns_txstore_stats(s, &st);
    ck_assert_uint_eq(st.entries, 1);
    ns_txstore_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

static Suite *
txstore_suite(void)
{
    Suite *s = suite_create("txstore");
    TCase *valid = tcase_create("valid");
    tcase_add_test(valid, stored_then_bare_final);
    tcase_add_test(valid, kinds_joined_separately);
    tcase_add_test(valid, stored_before_final_own);
    tcase_add_test(valid, nothing_stored);
    suite_add_tcase(s, valid);
    return s;
}

NS_TEST_MAIN(txstore_suite)

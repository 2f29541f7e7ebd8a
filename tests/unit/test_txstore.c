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

/* A record of flow UID carrying at most one transaction of each kind (NULL: none, and no
 * array, as the codec leaves a record without them). */
static ns_flow_rec_t
rec(uint8_t kind, const ns_app_http_tx_t *http, const ns_app_dns_tx_t *dns)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "%s", UID);
    r.kind = kind;
    r.http = http;
    r.n_http = http ? 1 : 0;
    r.dns = dns;
    r.n_dns = dns ? 1 : 0;
    return r;
}

/* An update of flow UID from `agent` with these transactions, stored. */
static void
stored(ns_txstore_t *s, uint32_t agent, const ns_app_http_tx_t *http, const ns_app_dns_tx_t *dns)
{
    ns_flow_rec_t up = rec(NS_FLOW_REC_UPDATE, http, dns);
    ns_txstore_add(s, agent, &up, 100);
}

/* The final record of flow UID from AGENT with these transactions, joined. */
static ns_flow_rec_t
joined(ns_txstore_t *s, const ns_app_http_tx_t *http, const ns_app_dns_tx_t *dns)
{
    ns_flow_rec_t fin = rec(NS_FLOW_REC_FINAL, http, dns), out;
    ns_txstore_take(s, AGENT, &fin, &out);
    return out;
}

static uint32_t
entries(const ns_txstore_t *s)
{
    ns_txstore_stats_t st;
    ns_txstore_stats(s, &st);
    return st.entries;
}

static ns_app_dns_tx_t
dns_tx(const char *qname, uint16_t id)
{
    return (ns_app_dns_tx_t){.id = id,
                             .qname = qname,
                             .qtype = 1,
                             .has_query = true,
                             .answered = true,
                             .latency_ns = 1000};
}

static ns_app_http_tx_t
http_tx(const char *uri, uint16_t status)
{
    return (ns_app_http_tx_t){.seq = 1,
                              .method = "GET",
                              .host = "h1.lab",
                              .uri = uri,
                              .user_agent = "curl",
                              .has_request = true,
                              .has_response = true,
                              .status = status,
                              .latency_ns = -1};
}

/* ---- valid ------------------------------------------------------------------------------ */

/* The common case: a DNS flow's transaction came in an update, its final carries none. */
START_TEST(stored_then_bare_final)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_dns_tx_t q = dns_tx("h1.lab", 7);
    stored(s, AGENT, NULL, &q);
    ns_flow_rec_t out = joined(s, NULL, NULL);
    ck_assert_uint_eq(out.n_dns, 1);
    ck_assert_str_eq(out.dns[0].qname, "h1.lab");
    ck_assert_uint_eq(out.dns[0].id, 7);
    ck_assert_uint_eq(out.n_http, 0);
    ck_assert_uint_eq(entries(s), 0);
    ns_txstore_destroy(&s);
}
END_TEST

/* Each kind joined on its own: stored HTTP with a final's DNS (neither side has both). */
START_TEST(kinds_joined_separately)
{
    ns_txstore_t *s = ns_txstore_new(0);
    ns_app_http_tx_t h = http_tx("/data.bin", 200);
    ns_app_dns_tx_t q = dns_tx("col.lab", 9);
    stored(s, AGENT, &h, NULL);
    ns_flow_rec_t out = joined(s, NULL, &q);
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
    stored(s, AGENT, NULL, &first);
    ns_flow_rec_t out = joined(s, NULL, &second);
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
    stored(s, AGENT + 1, NULL, &q);
    ns_flow_rec_t out = joined(s, NULL, NULL);
    ck_assert_uint_eq(out.n_dns, 0);
    ck_assert_ptr_null(out.dns);
    ck_assert_uint_eq(entries(s), 1);
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

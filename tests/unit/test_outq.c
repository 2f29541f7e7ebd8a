/* test_outq.c - the agent's export queue: coalesced updates, bounded final records dropped
 * oldest first and counted, batches kept until acknowledged and resent as they were. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/outq.h"
#include "runner.h"

/* A batch under construction: entries appended while they fit in `room` bytes. */
typedef struct {
    char text[4096];
    size_t len, room;
} batch_t;

static bool
take(void *ud, const uint8_t *e, size_t n)
{
    batch_t *b = ud;
    if (b->len + n + 1 > b->room)
        return false;
    memcpy(b->text + b->len, e, n);
    b->len += n;
    b->text[b->len++] = ';';
    b->text[b->len] = '\0';
    return true;
}

static void
put(ns_outq_t *q, bool final, const char *uid, const char *text)
{
    if (final)
        ns_outq_final(q, uid, (const uint8_t *)text, strlen(text));
    else
        ns_outq_update(q, uid, (const uint8_t *)text, strlen(text));
}

static uint32_t nt_; /* updates carrying transactions taken by the last fill() */

static const char *
fill(ns_outq_t *q, size_t room, batch_t *b, uint32_t *nf, uint32_t *nu)
{
    memset(b, 0, sizeof(*b));
    b->room = room;
    ns_outq_fill(q, take, b, nf, &nt_, nu);
    return b->text;
}

START_TEST(updates_coalesce_per_flow)
{
    ns_outq_t *q = ns_outq_new(NULL);
    put(q, false, "Ca", "a1");
    put(q, false, "Cb", "b1");
    put(q, false, "Ca", "a2");
    put(q, false, "Ca", "a3");
    batch_t b;
    uint32_t nf, nu;
    /* the newest state of each flow, in the order the flows first queued */
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "a3;b1;");
    ck_assert_uint_eq(nu, 2);
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.updates_in, 4);
    ck_assert_uint_eq(st.updates_coalesced, 2);
    ck_assert_uint_eq(st.updates_waiting, 0);
    ck_assert(ns_outq_idle(q));
    ns_outq_destroy(&q);
    ck_assert_ptr_null(q);
}
END_TEST

START_TEST(finals_first_and_supersede_updates)
{
    ns_outq_t *q = ns_outq_new(NULL);
    put(q, false, "Ca", "a-live");
    put(q, false, "Cb", "b-live");
    put(q, true, "Ca", "a-final");
    batch_t b;
    uint32_t nf, nu;
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "a-final;b-live;");
    ck_assert_uint_eq(nf, 1);
    ck_assert_uint_eq(nu, 1);
    ns_outq_destroy(&q);
}
END_TEST

START_TEST(updates_with_transactions_are_never_coalesced)
{
    ns_outq_opts_t o = {.finals_max_bytes = 12};
    ns_outq_t *q = ns_outq_new(&o);
    put(q, false, "Ca", "a1");
    ns_outq_txn(q, "Ca", (const uint8_t *)"a2+tx", 5); /* replaces a1 */
    put(q, false, "Ca", "a3");                         /* does not replace a2+tx */
    ns_outq_txn(q, "Cb", (const uint8_t *)"b1+tx", 5);
    put(q, true, "Cc", "c-fin"); /* 15 bytes > 12: the oldest (a2+tx) goes */
    batch_t b;
    uint32_t nf, nu;
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "b1+tx;c-fin;a3;");
    ck_assert_uint_eq(nf, 1);
    ck_assert_uint_eq(nt_, 1);
    ck_assert_uint_eq(nu, 1);
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.txn_in, 2);
    ck_assert_uint_eq(st.txn_dropped, 1);
    ck_assert_uint_eq(st.finals_dropped, 0);
    ck_assert_uint_eq(st.finals_sent, 1);
    ns_outq_destroy(&q);
}
END_TEST

START_TEST(a_full_batch_leaves_the_rest_queued)
{
    ns_outq_t *q = ns_outq_new(NULL);
    for (int i = 0; i < 10; i++) {
        char uid[8], e[8];
        snprintf(uid, sizeof(uid), "C%d", i);
        snprintf(e, sizeof(e), "f%d", i);
        put(q, true, uid, e);
    }
    put(q, false, "Cx", "u");
    batch_t b;
    uint32_t nf, nu;
    ck_assert_str_eq(fill(q, 13, &b, &nf, &nu), "f0;f1;f2;f3;");
    ck_assert_uint_eq(nf, 4);
    ck_assert_uint_eq(nu, 0);
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "f4;f5;f6;f7;f8;f9;u;");
    ns_outq_destroy(&q);
}
END_TEST

START_TEST(finals_over_the_bound_drop_oldest_counted)
{
    ns_outq_opts_t o = {.finals_max_bytes = 10};
    ns_outq_t *q = ns_outq_new(&o);
    put(q, true, "C1", "aaaa");
    put(q, true, "C2", "bbbb");
    put(q, true, "C3", "cccc"); /* 12 bytes > 10: the oldest goes */
    put(q, true, "C4", "this-one-is-too-long");
    batch_t b;
    uint32_t nf, nu;
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "bbbb;cccc;");
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.finals_in, 4);
    ck_assert_uint_eq(st.finals_dropped, 2);
    ck_assert_uint_eq(st.finals_sent, 2);
    ck_assert_uint_eq(st.finals_in, st.finals_dropped + st.finals_sent);
    ns_outq_destroy(&q);
}
END_TEST

START_TEST(updates_over_the_bound_drop_oldest)
{
    ns_outq_opts_t o = {.updates_max_bytes = 8};
    ns_outq_t *q = ns_outq_new(&o);
    put(q, false, "C1", "1111");
    put(q, false, "C2", "2222");
    put(q, false, "C3", "3333");
    batch_t b;
    uint32_t nf, nu;
    ck_assert_str_eq(fill(q, 100, &b, &nf, &nu), "2222;3333;");
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.updates_dropped, 1);
    ns_outq_destroy(&q);
}
END_TEST

/* Resent batches, recorded. */
typedef struct {
    uint64_t seq[8];
    char msg[8][16];
    int n;
} resent_t;

static void
resend(void *ud, uint64_t seq, const uint8_t *msg, size_t len)
{
    resent_t *r = ud;
    r->seq[r->n] = seq;
    memcpy(r->msg[r->n], msg, len < 15 ? len : 15);
    r->n++;
}

START_TEST(kept_until_acknowledged_and_resent_as_sent)
{
    ns_outq_opts_t o = {.window = 3};
    ns_outq_t *q = ns_outq_new(&o);
    ns_outq_sent(q, 1, (const uint8_t *)"one", 3, 2, 0, 100);
    ns_outq_sent(q, 2, (const uint8_t *)"two", 3, 0, 0, 110); /* updates only: not kept */
    ns_outq_sent(q, 3, (const uint8_t *)"three", 5, 0, 1, 120);
    ck_assert_uint_eq(ns_outq_lowest_kept(q), 1);
    ck_assert(!ns_outq_window_full(q));
    ns_outq_sent(q, 4, (const uint8_t *)"four", 4, 1, 0, 130);
    ck_assert(ns_outq_window_full(q));
    ck_assert(!ns_outq_ack_overdue(q, 150, 100));
    ck_assert(ns_outq_ack_overdue(q, 200, 100));
    ns_outq_ack(q, 2);
    ck_assert_uint_eq(ns_outq_lowest_kept(q), 3);
    ck_assert(!ns_outq_window_full(q));
    resent_t r;
    memset(&r, 0, sizeof(r));
    ck_assert_uint_eq(ns_outq_resend(q, resend, &r, 300), 2);
    ck_assert_uint_eq(r.seq[0], 3);
    ck_assert_str_eq(r.msg[0], "three");
    ck_assert_uint_eq(r.seq[1], 4);
    ck_assert(!ns_outq_ack_overdue(q, 350, 100)); /* timers restarted */
    ns_outq_ack(q, 10);
    ck_assert_uint_eq(ns_outq_lowest_kept(q), 0);
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.finals_acked, 3); /* batch 3 held an update with transactions */
    ck_assert_uint_eq(st.unacked, 0);
    ck_assert_uint_eq(st.batches_resent, 2);
    ns_outq_destroy(&q);
}
END_TEST

START_TEST(many_flows_grow_the_table)
{
    ns_outq_t *q = ns_outq_new(NULL);
    char uid[16];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(uid, sizeof(uid), "C%07d", i);
            put(q, false, uid, round ? "new" : "old");
        }
    ns_outq_stats_t st;
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.updates_waiting, 5000);
    ck_assert_uint_eq(st.updates_coalesced, 5000);
    ck_assert_uint_eq(st.updates_bytes, 5000 * 3);
    put(q, true, "C0004999", "fin");
    ns_outq_stats(q, &st);
    ck_assert_uint_eq(st.updates_waiting, 4999);
    ns_outq_destroy(&q);
}
END_TEST

static Suite *
outq_suite(void)
{
    Suite *s = suite_create("outq");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, updates_coalesce_per_flow);
    tcase_add_test(tc, finals_first_and_supersede_updates);
    tcase_add_test(tc, a_full_batch_leaves_the_rest_queued);
    tcase_add_test(tc, updates_with_transactions_are_never_coalesced);
    tcase_add_test(tc, kept_until_acknowledged_and_resent_as_sent);
    tcase_add_test(tc, many_flows_grow_the_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, finals_over_the_bound_drop_oldest_counted);
    tcase_add_test(tc, updates_over_the_bound_drop_oldest);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(outq_suite)

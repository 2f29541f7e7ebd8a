/* test_seqtrack.c - batch sequence numbers: in order, duplicates after a reconnect, reordering,
 * the baseline of a fresh tracker, window overflow, the agent forgetting batches, huge jumps,
 * and a random stream checked against a plain array model. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/seqtrack.h"
#include "runner.h"

static ns_seqtrack_t *
tracker(uint32_t window)
{
    char err[128] = "";
    ns_seqtrack_t *t = ns_seqtrack_new(window, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    return t;
}

static ns_seqtrack_stats_t
stats(const ns_seqtrack_t *t)
{
    ns_seqtrack_stats_t st;
    ns_seqtrack_stats(t, &st);
    return st;
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(in_order)
{
    ns_seqtrack_t *t = tracker(0);
    ck_assert_uint_eq(ns_seqtrack_ack(t), 0);
    for (uint64_t s = 1; s <= 100; s++)
        ck_assert_int_eq(ns_seqtrack_add(t, s), NS_SEQ_NEW);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(ns_seqtrack_ack(t), 100);
    ck_assert_uint_eq(st.received, 100);
    ck_assert_uint_eq(st.lost + st.duplicates + st.reordered + st.missing, 0);
    ck_assert_uint_eq(st.baseline, 1);
    ck_assert_uint_eq(st.highest, 100);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* After a reconnect the agent resends what it has no ack for, with the original numbers. */
START_TEST(resend_after_reconnect)
{
    ns_seqtrack_t *t = tracker(0);
    for (uint64_t s = 1; s <= 10; s++)
        ns_seqtrack_add(t, s);
    for (uint64_t s = 8; s <= 10; s++)
        ck_assert_int_eq(ns_seqtrack_add(t, s), NS_SEQ_DUPLICATE);
    ck_assert_int_eq(ns_seqtrack_add(t, 11), NS_SEQ_NEW);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.duplicates, 3);
    ck_assert_uint_eq(st.received, 11);
    ck_assert_uint_eq(st.contiguous, 11);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(reordered)
{
    ns_seqtrack_t *t = tracker(0);
    ck_assert_int_eq(ns_seqtrack_add(t, 1), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, 2), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, 5), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, 4), NS_SEQ_LATE);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.contiguous, 2); /* 3 still missing: the ack stays at 2 */
    ck_assert_uint_eq(st.missing, 1);
    ck_assert_int_eq(ns_seqtrack_add(t, 4), NS_SEQ_DUPLICATE); /* above the point, but seen */
    ck_assert_int_eq(ns_seqtrack_add(t, 3), NS_SEQ_LATE);
    st = stats(t);
    ck_assert_uint_eq(ns_seqtrack_ack(t), 5);
    ck_assert_uint_eq(st.reordered, 2);
    ck_assert_uint_eq(st.duplicates, 1);
    ck_assert_uint_eq(st.missing, 0);
    ck_assert_uint_eq(st.lost, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* A collector that restarted: the first number is the baseline, nothing before it is lost. */
START_TEST(baseline)
{
    ns_seqtrack_t *t = tracker(0);
    ck_assert_int_eq(ns_seqtrack_add(t, 500), NS_SEQ_NEW);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.baseline, 500);
    ck_assert_uint_eq(st.contiguous, 500);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(st.missing, 0);
    ck_assert_int_eq(ns_seqtrack_add(t, 499), NS_SEQ_DUPLICATE); /* before our time */
    ck_assert_int_eq(ns_seqtrack_add(t, 502), NS_SEQ_NEW);
    st = stats(t);
    ck_assert_uint_eq(st.missing, 1);
    ck_assert_uint_eq(st.lost, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(forget_below)
{
    ns_seqtrack_t *t = tracker(0);
    ns_seqtrack_add(t, 1);
    ns_seqtrack_add(t, 2);
    ns_seqtrack_add(t, 5);
    /* The agent holds nothing below 5: 3 and 4 will never come. */
    ns_seqtrack_forget_below(t, 5);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.lost, 2);
    ck_assert_uint_eq(st.contiguous, 5); /* moved to 4, then over the received 5 */
    ck_assert_uint_eq(st.missing, 0);
    /* Its queue overflowed: it holds nothing below 10, 6..9 never sent. */
    ns_seqtrack_forget_below(t, 10);
    st = stats(t);
    ck_assert_uint_eq(st.lost, 6);
    ck_assert_uint_eq(st.contiguous, 9);
    ck_assert_uint_eq(st.highest, 9);
    ck_assert_int_eq(ns_seqtrack_add(t, 10), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, 7), NS_SEQ_DUPLICATE); /* given up for lost */
    /* Older news changes nothing. */
    ns_seqtrack_forget_below(t, 3);
    ns_seqtrack_forget_below(t, 0);
    st = stats(t);
    ck_assert_uint_eq(st.lost, 6);
    ck_assert_uint_eq(st.contiguous, 10);
    ck_assert_uint_eq(st.received, 4);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(forget_below_before_baseline)
{
    ns_seqtrack_t *t = tracker(0);
    ns_seqtrack_forget_below(t, 100); /* a heartbeat before any batch: no baseline yet */
    ck_assert_uint_eq(ns_seqtrack_ack(t), 0);
    ck_assert_int_eq(ns_seqtrack_add(t, 120), NS_SEQ_NEW);
    ns_seqtrack_forget_below(t, 50); /* below the baseline: not ours to count */
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.baseline, 120);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(st.contiguous, 120);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(reset_is_a_new_baseline)
{
    ns_seqtrack_t *t = tracker(64);
    for (uint64_t s = 1; s <= 300; s += 2)
        ns_seqtrack_add(t, s);
    ns_seqtrack_reset(t); /* the agent process restarted: it counts from 1 again */
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.received + st.lost + st.contiguous + st.highest + st.missing, 0);
    ck_assert_int_eq(ns_seqtrack_add(t, 1), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, 2), NS_SEQ_NEW);
    st = stats(t);
    ck_assert_uint_eq(st.contiguous, 2);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(st.missing, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* ---- window ----------------------------------------------------------------------------- */

START_TEST(window_pushes_out_lost)
{
    ns_seqtrack_t *t = tracker(64);
    ns_seqtrack_add(t, 1);
    ns_seqtrack_add(t, 30);
    ck_assert_int_eq(ns_seqtrack_add(t, 100), NS_SEQ_NEW);
    /* The window covers 37..100: 2..36 (but 30) fell out as lost. */
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.lost, 34);
    ck_assert_uint_eq(st.contiguous, 36);
    ck_assert_uint_eq(st.missing, 63); /* 37..99 */
    ck_assert_int_eq(ns_seqtrack_add(t, 37), NS_SEQ_LATE);
    ck_assert_int_eq(ns_seqtrack_add(t, 20), NS_SEQ_DUPLICATE);
    ck_assert_uint_eq(ns_seqtrack_ack(t), 37);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(window_rounded_up)
{
    ns_seqtrack_t *t = tracker(100); /* 128 in effect */
    ns_seqtrack_add(t, 1);
    ns_seqtrack_add(t, 129); /* 128 past the point: still inside */
    ck_assert_uint_eq(stats(t).lost, 0);
    ns_seqtrack_add(t, 131); /* the window must start at 3: 2 and 3 are lost */
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.lost, 2);
    ck_assert_uint_eq(st.contiguous, 3);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* A jump of 2^40 is one pass over the bitmap, and the numbers still remembered are not lost. */
START_TEST(huge_jump)
{
    ns_seqtrack_t *t = tracker(64);
    ns_seqtrack_add(t, 1);
    ns_seqtrack_add(t, 3);
    ns_seqtrack_add(t, 5);
    uint64_t far = 5 + (1ull << 40);
    ck_assert_int_eq(ns_seqtrack_add(t, far), NS_SEQ_NEW);
    ns_seqtrack_stats_t st = stats(t);
    /* The point moves to far - 64; of 2 .. far - 64 only 3 and 5 were received. */
    ck_assert_uint_eq(st.contiguous, far - 64);
    ck_assert_uint_eq(st.lost, (far - 64 - 1) - 2);
    ck_assert_uint_eq(st.missing, 63);
    ck_assert_uint_eq(st.received, 4);
    ck_assert_int_eq(ns_seqtrack_add(t, far - 1), NS_SEQ_LATE);
    ck_assert_int_eq(ns_seqtrack_add(t, 5), NS_SEQ_DUPLICATE);
    /* The same through a heartbeat. */
    ns_seqtrack_forget_below(t, far + (1ull << 41));
    st = stats(t);
    ck_assert_uint_eq(st.contiguous, far + (1ull << 41) - 1);
    ck_assert_uint_eq(st.missing, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

START_TEST(top_of_the_range)
{
    ns_seqtrack_t *t = tracker(64);
    ck_assert_int_eq(ns_seqtrack_add(t, UINT64_MAX - 1), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, UINT64_MAX), NS_SEQ_NEW);
    ck_assert_int_eq(ns_seqtrack_add(t, UINT64_MAX), NS_SEQ_DUPLICATE);
    ck_assert_uint_eq(ns_seqtrack_ack(t), UINT64_MAX);
    ns_seqtrack_forget_below(t, UINT64_MAX);
    ck_assert_uint_eq(stats(t).lost, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* A plain model: one flag per number, the rules applied literally. */
#define MODEL_N 20000u
#define MODEL_W 64u

typedef struct {
    bool got[MODEL_N + MODEL_W + 2];
    uint64_t contiguous, highest, lost, received, dups, late;
    bool started;
} model_t;

static void
model_point(model_t *m, uint64_t target)
{
    for (uint64_t s = m->contiguous + 1; s <= target; s++)
        m->lost += m->got[s] ? 0 : 1;
    if (target > m->contiguous)
        m->contiguous = target;
    if (m->highest < m->contiguous)
        m->highest = m->contiguous;
    while (m->got[m->contiguous + 1])
        m->contiguous++;
}

static ns_seq_verdict_t
model_add(model_t *m, uint64_t s)
{
    if (!m->started) {
        m->started = true;
        m->got[s] = true;
        m->contiguous = m->highest = s;
        m->received++;
        return NS_SEQ_NEW;
    }
    if (s <= m->contiguous || m->got[s]) {
        m->dups++;
        return NS_SEQ_DUPLICATE;
    }
    bool late = s < m->highest;
    if (s > m->contiguous + MODEL_W)
        model_point(m, s - MODEL_W);
    m->got[s] = true;
    m->received++;
    if (s > m->highest)
        m->highest = s;
    model_point(m, m->contiguous);
    m->late += late;
    return late ? NS_SEQ_LATE : NS_SEQ_NEW;
}

START_TEST(random_against_model)
{
    static model_t m;
    memset(&m, 0, sizeof(m));
    ns_seqtrack_t *t = tracker(MODEL_W);
    uint32_t x = 12345;
    uint64_t next = 1;
    for (unsigned i = 0; i < 40000 && next < MODEL_N - 200; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = (x >> 16) % 100;
        uint64_t s;
        if (r < 60)
            s = next++;                            /* in order */
        else if (r < 75)
            s = next > 40 ? next - 1 - (x % 40) : 1; /* resend or reorder */
        else if (r < 85)
            s = (next += 1 + (x % 5)) - 1;         /* small gap */
        else if (r < 88)
            s = (next += 60 + (x % 100)) - 1;      /* gap past the window */
        else if (r < 92) {
            uint64_t below = next > 70 ? next - (x % 70) : 1;
            ns_seqtrack_forget_below(t, below);
            if (m.started && below > 1)
                model_point(&m, below - 1);
            continue;
        } else {
            s = next + (x % 10); /* ahead, leaving a hole */
        }
        ck_assert_int_eq(ns_seqtrack_add(t, s), model_add(&m, s));
        ns_seqtrack_stats_t st = stats(t);
        ck_assert_uint_eq(st.contiguous, m.contiguous);
        ck_assert_uint_eq(st.lost, m.lost);
    }
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.received, m.received);
    ck_assert_uint_eq(st.duplicates, m.dups);
    ck_assert_uint_eq(st.reordered, m.late);
    ck_assert_uint_eq(st.highest, m.highest);
    uint64_t missing = 0;
    for (uint64_t s = m.contiguous + 1; s <= m.highest; s++)
        missing += m.got[s] ? 0 : 1;
    ck_assert_uint_eq(st.missing, missing);
    ck_assert_uint_gt(m.lost, 0);
    ck_assert_uint_gt(m.late, 0);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(seq_zero)
{
    ns_seqtrack_t *t = tracker(0);
    ck_assert_int_eq(ns_seqtrack_add(t, 0), NS_SEQ_INVALID);
    ck_assert_uint_eq(stats(t).baseline, 0); /* 0 is no baseline */
    ns_seqtrack_add(t, 7);
    ck_assert_int_eq(ns_seqtrack_add(t, 0), NS_SEQ_INVALID);
    ns_seqtrack_stats_t st = stats(t);
    ck_assert_uint_eq(st.invalid, 2);
    ck_assert_uint_eq(st.received, 1);
    ck_assert_uint_eq(st.contiguous, 7);
    ns_seqtrack_destroy(&t);
}
END_TEST

/* ---- lifecycle -------------------------------------------------------------------------- */

START_TEST(lifecycle)
{
    char err[128] = "";
    ck_assert_ptr_null(ns_seqtrack_new(NS_SEQTRACK_WINDOW_MAX + 1, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
    ns_seqtrack_t *t = tracker(NS_SEQTRACK_WINDOW_MAX);
    ns_seqtrack_destroy(&t);
    ck_assert_ptr_null(t);
    ns_seqtrack_destroy(&t);
    ns_seqtrack_destroy(NULL);
}
END_TEST

static Suite *
seqtrack_suite(void)
{
    Suite *s = suite_create("seqtrack");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, in_order);
    tcase_add_test(tc, resend_after_reconnect);
    tcase_add_test(tc, reordered);
    tcase_add_test(tc, baseline);
    tcase_add_test(tc, forget_below);
    tcase_add_test(tc, forget_below_before_baseline);
    tcase_add_test(tc, reset_is_a_new_baseline);
    suite_add_tcase(s, tc);
    tc = tcase_create("window");
    tcase_add_test(tc, window_pushes_out_lost);
    tcase_add_test(tc, window_rounded_up);
    tcase_add_test(tc, huge_jump);
    tcase_add_test(tc, top_of_the_range);
    tcase_add_test(tc, random_against_model);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, seq_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(seqtrack_suite)

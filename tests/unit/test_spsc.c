/* test_spsc.c - the lock-free queue between the agent's threads: order, full and empty, and
 * two threads passing 200,000 pointers with none lost, repeated or reordered. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "netscope/spsc.h"
#include "runner.h"

#define N 200000u

START_TEST(order_full_and_empty)
{
    ns_spsc_t *q = ns_spsc_new(3); /* rounded up to 4 */
    ck_assert_ptr_null(ns_spsc_pop(q));
    for (uintptr_t i = 1; i <= 4; i++)
        ck_assert(ns_spsc_push(q, (void *)i));
    ck_assert(!ns_spsc_push(q, (void *)5));
    ck_assert_uint_eq(ns_spsc_count(q), 4);
    for (uintptr_t i = 1; i <= 4; i++)
        ck_assert_ptr_eq(ns_spsc_pop(q), (void *)i);
    ck_assert_ptr_null(ns_spsc_pop(q));
    ck_assert_ptr_null(ns_spsc_new(1));
    ck_assert_ptr_null(ns_spsc_new((1u << 20) + 1));
    ns_spsc_destroy(&q);
    ck_assert_ptr_null(q);
}
END_TEST

static void *
producer(void *arg)
{
    ns_spsc_t *q = arg;
    for (uintptr_t i = 1; i <= N;) {
        if (ns_spsc_push(q, (void *)i))
            i++;
        else
            sched_yield();
    }
    return NULL;
}

START_TEST(two_threads_lose_nothing)
{
    ns_spsc_t *q = ns_spsc_new(64);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, producer, q), 0);
    uintptr_t want = 1, wrong = 0;
    while (want <= N) {
        void *p = ns_spsc_pop(q);
        if (p == NULL) {
            sched_yield(); /* two busy threads on a shared core would crawl */
            continue;
        }
        wrong += (uintptr_t)p != want;
        want++;
    }
    pthread_join(t, NULL);
    ck_assert_uint_eq(wrong, 0);
    ck_assert_ptr_null(ns_spsc_pop(q));
    ns_spsc_destroy(&q);
}
END_TEST

static Suite *
spsc_suite(void)
{
    Suite *s = suite_create("spsc");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, order_full_and_empty);
    tcase_add_test(tc, two_threads_lose_nothing);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(spsc_suite)

/* test_cursor.c - unit tests for the byte cursor (core/include/netscope/cursor.h): the
 * word-at-a-time byte search against a byte-by-byte reference. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/cursor.h"
#include "runner.h"

/* The reference: the first `b` in [from, min(to, len)), else `to`. */
static uint32_t
naive_find(const uint8_t *p, uint32_t len, uint32_t from, uint32_t to, uint8_t b)
{
    uint32_t end = to < len ? to : len;
    for (uint32_t i = from; i < end; i++)
        if (p[i] == b)
            return i;
    return to;
}

/* A deterministic generator (the test must not depend on the run). */
static uint32_t
next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* Buffers of every length up to 80 (exact-size heap copies: a read past the end is an ASan
 * report), filled from small alphabets around the searched byte (its neighbours, 0x00, 0x80,
 * 0xff: the values a borrow or carry in the word trick would confuse), searched from every
 * start to several ends. */
START_TEST(find_matches_reference)
{
    static const uint8_t alphabet[] = {'\n', '\n' - 1, '\n' + 1, 0x00, 0x80, 0xff, 0x8a, 'a'};
    uint64_t seed = 12345;
    for (uint32_t len = 0; len <= 80; len++) {
        for (uint32_t trial = 0; trial < 40; trial++) {
            uint8_t *p = malloc(len ? len : 1);
            ck_assert_ptr_nonnull(p);
            uint32_t spread = 1 + next_rand(&seed) % (uint32_t)sizeof(alphabet);
            for (uint32_t i = 0; i < len; i++)
                p[i] = alphabet[next_rand(&seed) % spread];
            ns_cur_t c;
            ns_cur_init(&c, p, len);
            for (uint32_t from = 0; from <= len; from++) {
                ck_assert_uint_eq(ns_cur_find(&c, from, '\n'), naive_find(p, len, from, len, '\n'));
                uint32_t to = from + next_rand(&seed) % 24;
                ck_assert_uint_eq(ns_cur_find_to(&c, from, to, '\n'),
                                  naive_find(p, len, from, to, '\n'));
            }
            free(p);
        }
    }
}
END_TEST

START_TEST(find_every_byte_value)
{
    uint8_t p[64];
    for (uint32_t i = 0; i < sizeof(p); i++)
        p[i] = (uint8_t)(i * 37u + 11u);
    ns_cur_t c;
    ns_cur_init(&c, p, sizeof(p));
    for (uint32_t b = 0; b < 256; b++)
        for (uint32_t from = 0; from < sizeof(p); from += 3)
            ck_assert_uint_eq(ns_cur_find(&c, from, (uint8_t)b),
                              naive_find(p, sizeof(p), from, sizeof(p), (uint8_t)b));
}
END_TEST

static Suite *
cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("find");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, find_matches_reference);
    tcase_add_test(tc, find_every_byte_value);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(cursor_suite)

/* test_sha1.c - SHA-1 known answers (FIPS 180-4 examples / FIPS 180-2 appendix A) and
 * streaming at every block-boundary length. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/sha1.h"
#include "runner.h"

static void
hex(const uint8_t d[NS_SHA1_DIGEST_LEN], char out[41])
{
    for (unsigned i = 0; i < NS_SHA1_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
check_str(const char *msg, const char *want)
{
    uint8_t d[NS_SHA1_DIGEST_LEN];
    char got[41];
    ns_sha1(msg, strlen(msg), d);
    hex(d, got);
    ck_assert_str_eq(got, want);
}

/* ---- valid -------------------------------------------------------------------------- */

START_TEST(fips_one_block)
{
    check_str("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

START_TEST(fips_two_blocks)
{
    /* 448 bits: the padding spills into a second block. */
    check_str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}
END_TEST

START_TEST(fips_896_bits)
{
    check_str("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
              "klmnopqrlmnopqrsmnopqrstnopqrstu",
              "a49b2446a02c645bf419f995b67091253a04a259");
}
END_TEST

START_TEST(empty_message)
{
    check_str("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    uint8_t d[NS_SHA1_DIGEST_LEN];
    ns_sha1(NULL, 0, d); /* NULL with length 0 is allowed */
    char got[41];
    hex(d, got);
    ck_assert_str_eq(got, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
END_TEST

START_TEST(fox)
{
    check_str("The quick brown fox jumps over the lazy dog",
              "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}
END_TEST

START_TEST(fips_million_a)
{
    /* One million 'a', fed in uneven pieces through the streaming interface. */
    static uint8_t chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    ns_sha1_t ctx;
    ns_sha1_init(&ctx);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        ns_sha1_update(&ctx, chunk, n);
        left -= n;
    }
    uint8_t d[NS_SHA1_DIGEST_LEN];
    char got[41];
    ns_sha1_final(&ctx, d);
    hex(d, got);
    ck_assert_str_eq(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

/* Lengths around the padding boundaries (55/56 bytes: the length still fits / does not);
 * expected values from Python's hashlib over bytes (i*7+3) & 0xff. */
START_TEST(boundary_lengths)
{
    static const struct {
        size_t n;
        const char *want;
    } v[] = {
        {55, "ddf57317ef34bfee3b6df83d359098930eb278bc"},
        {56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"},
        {57, "11a02dcf95859677a62e75024067c22b165d890f"},
        {63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"},
        {64, "bede92be29c3874e1b54ddc77988d606fc857a8e"},
        {65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"},
        {119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"},
        {120, "82134b02fb3f702491be9bed581eeab59334acb2"},
        {128, "a09133e6730ffe899efb70204cb5646cd5dc24ee"},
    };
    for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
        uint8_t *buf = malloc(v[k].n);
        ck_assert_ptr_nonnull(buf);
        for (size_t i = 0; i < v[k].n; i++)
            buf[i] = (uint8_t)((i * 7 + 3) & 0xff);
        /* one shot, and every two-piece split */
        for (size_t split = 0; split <= v[k].n; split++) {
            ns_sha1_t ctx;
            ns_sha1_init(&ctx);
            ns_sha1_update(&ctx, buf, split);
            ns_sha1_update(&ctx, buf + split, v[k].n - split);
            uint8_t d[NS_SHA1_DIGEST_LEN];
            char got[41];
            ns_sha1_final(&ctx, d);
            hex(d, got);
            ck_assert_msg(strcmp(got, v[k].want) == 0, "len %zu split %zu: %s", v[k].n, split, got);
        }
        free(buf);
    }
}
END_TEST

START_TEST(byte_at_a_time)
{
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ns_sha1_t ctx;
    ns_sha1_init(&ctx);
    for (size_t i = 0; m[i]; i++)
        ns_sha1_update(&ctx, m + i, 1);
    uint8_t d[NS_SHA1_DIGEST_LEN];
    char got[41];
    ns_sha1_final(&ctx, d);
    hex(d, got);
    ck_assert_str_eq(got, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}
END_TEST

static Suite *
sha1_suite(void)
{
    Suite *s = suite_create("sha1");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, fips_one_block);
    tcase_add_test(tc, fips_two_blocks);
    tcase_add_test(tc, fips_896_bits);
    tcase_add_test(tc, empty_message);
    tcase_add_test(tc, fox);
    tcase_add_test(tc, fips_million_a);
    tcase_add_test(tc, boundary_lengths);
    tcase_add_test(tc, byte_at_a_time);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(sha1_suite)

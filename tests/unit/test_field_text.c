/* test_field_text.c - unit tests for field values as text (core/decode/field_text.c). */
#include <arpa/inet.h>

#include "testutil.h"
#include "runner.h"
#include "frame_dns.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* The text of a field of type `type` holding `u`, over `buf`. */
static const char *
text_of(ns_ftype_t type, uint32_t off, uint32_t len, uint64_t u, const uint8_t *buf,
        uint32_t buf_len)
{
    static char out[NS_FIELD_TEXT_MAX];
    ns_field_t x = {.name = "t", .off = off, .len = len, .type = (uint8_t)type, .u = u};
    size_t n = ns_field_text(&x, buf, buf_len, out, sizeof(out));
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

static const char *
ipv6_text(const uint8_t a[16])
{
    uint8_t *copy = malloc(16); /* exact size: an over-read is an ASan report */
    memcpy(copy, a, 16);
    const char *s = text_of(NS_FT_IPV6, 0, 16, 0, copy, 16);
    free(copy);
    return s;
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(numbers)
{
    ck_assert_str_eq(text_of(NS_FT_UINT, 0, 2, 0, NULL, 0), "0");
    ck_assert_str_eq(text_of(NS_FT_UINT, 0, 8, UINT64_MAX, NULL, 0), "18446744073709551615");
    ns_field_t x = {.name = "t", .type = NS_FT_INT, .i = INT64_MIN};
    char out[64];
    ns_field_text(&x, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "-9223372036854775808");
    x.i = -5;
    ns_field_text(&x, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "-5");
    ck_assert_str_eq(text_of(NS_FT_BOOL, 0, 1, 1, NULL, 0), "true");
    ck_assert_str_eq(text_of(NS_FT_BOOL, 0, 1, 0, NULL, 0), "false");
    /* Two hex digits per byte of the field, as `netscope print --json` writes them. */
    ck_assert_str_eq(text_of(NS_FT_HEX, 0, 2, 0x800, NULL, 0), "0x0800");
    ck_assert_str_eq(text_of(NS_FT_HEX, 0, 1, 0, NULL, 0), "0x00");
    ck_assert_str_eq(text_of(NS_FT_HEX, 0, 4, 0xdeadbeef, NULL, 0), "0xdeadbeef");
    ck_assert_str_eq(text_of(NS_FT_HEX, 0, 0, 5, NULL, 0), "0x5");
    ck_assert_str_eq(text_of(NS_FT_PROTO, 0, 14, 0, NULL, 0), "");
}
END_TEST

START_TEST(addresses_and_bytes)
{
    ck_assert_str_eq(text_of(NS_FT_MAC, 0, 6, 0, frame_dns, sizeof(frame_dns)),
                     "00:11:22:33:44:55");
    ck_assert_str_eq(text_of(NS_FT_IPV4, 26, 4, 0, frame_dns, sizeof(frame_dns)), "10.0.0.1");
    ck_assert_str_eq(text_of(NS_FT_IPV4, 30, 4, 0, frame_dns, sizeof(frame_dns)), "10.0.0.53");
    ck_assert_str_eq(text_of(NS_FT_BYTES, 42, 3, 0, frame_dns, sizeof(frame_dns)), "12:34:01");
    ck_assert_str_eq(text_of(NS_FT_BYTES, 42, 0, 0, frame_dns, sizeof(frame_dns)), "");

    static const uint8_t v6[][16] = {
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1},
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},
    };
    static const char *const want[] = {
        "2001:db8::1",
        "::",
        "::1",
        "fe80::211:22ff:fe33:4455",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "2001:db8:0:1::1",
        "2001:db8::1:0:0:1",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_str_eq(ipv6_text(v6[i]), want[i]);
}
END_TEST

/* RFC 5952 the way glibc's inet_ntop writes it (what `netscope print` shows), over addresses
 * rich in zero groups so every run length and position comes up. */
START_TEST(ipv6_agrees_with_inet_ntop)
{
    srand(21);
    for (int n = 0; n < 20000; n++) {
        uint8_t a[16];
        for (int w = 0; w < 8; w++) {
            unsigned v = rand() % 3 == 0 ? (unsigned)rand() & 0xffff : 0;
            if (n % 7 == 0 && w == 5)
                v = 0xffff;
            a[2 * w] = (uint8_t)(v >> 8);
            a[2 * w + 1] = (uint8_t)v;
        }
        char want[INET6_ADDRSTRLEN];
        ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a, want, sizeof(want)));
        ck_assert_str_eq(ipv6_text(a), want);
    }
}
END_TEST

START_TEST(packet_text_is_escaped)
{
    static const char raw[] = "GET /a\\b\"c\x01\xff\x7f ok";
    ns_field_t x = {.name = "t", .type = NS_FT_STR, .str = raw, .str_len = sizeof(raw) - 1};
    char out[128];
    size_t n = ns_field_text(&x, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "GET /a\\\\b\"c\\x01\\xff\\x7f ok");
    ck_assert_uint_eq(n, strlen(out));
    for (size_t i = 0; i < n; i++)
        ck_assert(out[i] >= 0x20 && out[i] < 0x7f);
}
END_TEST

START_TEST(type_names)
{
    ck_assert_str_eq(ns_field_type_name(NS_FT_PROTO), "proto");
    ck_assert_str_eq(ns_field_type_name(NS_FT_IPV6), "ipv6");
    ck_assert_str_eq(ns_field_type_name(NS_FT_STR), "str");
    ck_assert_str_eq(ns_field_type_name(NS_FT_COUNT), "?");
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(cut_at_capacity)
{
    char s[300];
    memset(s, 'a', sizeof(s));
    ns_field_t x = {.name = "t", .type = NS_FT_STR, .str = s, .str_len = sizeof(s)};
    char out[16];
    size_t n = ns_field_text(&x, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "aaaaaaaaaaaa...");
    ck_assert_uint_eq(n, 15);
    /* An escape is never split: "\xff" does not fit after 11 letters, so it is left out. */
    s[11] = (char)0xff;
    ns_field_text(&x, NULL, 0, out, sizeof(out));
    ck_assert_str_eq(out, "aaaaaaaaaaa...");
    ck_assert_uint_eq(ns_field_text(&x, NULL, 0, out, 4), 3);
    ck_assert_str_eq(out, "...");
    ck_assert_uint_eq(ns_field_text(&x, NULL, 0, out, 1), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(ns_field_text(&x, NULL, 0, out, 0), 0);

    /* A long byte field: whole "xx:" pairs, then "...". */
    uint8_t *big = calloc(4096, 1);
    const char *t = text_of(NS_FT_BYTES, 0, 4096, 0, big, 4096);
    size_t tl = strlen(t);
    ck_assert_uint_le(tl, NS_FIELD_TEXT_MAX - 1);
    ck_assert_str_eq(t + tl - 3, "...");
    ck_assert_int_eq(t[tl - 4], '0');
    free(big);
}
END_TEST

START_TEST(never_past_the_buffer)
{
    /* Ranges that leave the frame are written as "", never read. */
    uint8_t *b = malloc(10);
    memset(b, 0xab, 10);
    ck_assert_str_eq(text_of(NS_FT_MAC, 6, 6, 0, b, 10), "");
    ck_assert_str_eq(text_of(NS_FT_IPV4, 0xfffffffe, 4, 0, b, 10), "");
    ck_assert_str_eq(text_of(NS_FT_BYTES, 8, 3, 0, b, 10), "");
    ck_assert_str_eq(text_of(NS_FT_BYTES, 8, 2, 0, b, 10), "ab:ab");
    ck_assert_str_eq(text_of(NS_FT_MAC, 0, 6, 0, NULL, 0), "");
    free(b);
}
END_TEST

/* Every prefix of a frame, decoded with a field list from an exact-size heap copy, and every
 * field formatted against the prefix's length: no over-read (ASan), text always ASCII. */
START_TEST(truncation_sweep)
{
    char out[NS_FIELD_TEXT_MAX];
    for (size_t n = 0; n <= sizeof(frame_dns); n++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_dns, n);
        for (uint32_t i = 0; i < r->f.n; i++) {
            size_t tl = ns_field_text(&r->f.v[i], r->f.buf, (uint32_t)n, out, sizeof(out));
            ck_assert_uint_eq(tl, strlen(out));
        }
        if (n == sizeof(frame_dns)) {
            const ns_field_t *q = tu_field(r, "dns.qry.name", 0);
            ck_assert_ptr_nonnull(q);
            ns_field_text(q, r->f.buf, (uint32_t)n, out, sizeof(out));
            ck_assert_str_eq(out, "example.com");
        }
        tu_free(r);
    }
}
END_TEST

static Suite *
field_text_suite(void)
{
    Suite *s = suite_create("field_text");
    TCase *valid = tcase_create("valid");
    tcase_add_test(valid, numbers);
    tcase_add_test(valid, addresses_and_bytes);
    tcase_add_test(valid, ipv6_agrees_with_inet_ntop);
    tcase_add_test(valid, packet_text_is_escaped);
    tcase_add_test(valid, type_names);
    suite_add_tcase(s, valid);
    TCase *trunc = tcase_create("truncated");
    tcase_add_test(trunc, cut_at_capacity);
    tcase_add_test(trunc, never_past_the_buffer);
    tcase_add_test(trunc, truncation_sweep);
    suite_add_tcase(s, trunc);
    return s;
}

NS_TEST_MAIN(field_text_suite)

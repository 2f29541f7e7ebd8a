/* test_timeparse.c - times and addresses as users type them: every accepted form, and the
 * refusals (malformed, out of range, names). */
#include <check.h>
#include <string.h>

#include "netscope/timeparse.h"
#include "runner.h"

#define S 1000000000ull
static const uint64_t NOW = 1764930000ull * S; /* 2025-12-05T10:20:00Z */

static uint64_t
ok_time(const char *s)
{
    char err[256] = "";
    uint64_t v = 0;
    ck_assert_msg(ns_time_parse(s, NOW, &v, err, sizeof(err)), "%s: %s", s, err);
    return v;
}

static void
bad_time(const char *s, const char *want)
{
    char err[256] = "";
    uint64_t v = 0;
    ck_assert_msg(!ns_time_parse(s, NOW, &v, err, sizeof(err)), "%s accepted", s);
    ck_assert_msg(strstr(err, want) != NULL, "%s: \"%s\" lacks \"%s\"", s, err, want);
}

START_TEST(forms)
{
    ck_assert_uint_eq(ok_time("now"), NOW);
    ck_assert_uint_eq(ok_time("0"), 0);
    ck_assert_uint_eq(ok_time("1764930000"), NOW);
    ck_assert_uint_eq(ok_time("1764930000.25"), NOW + S / 4);
    ck_assert_uint_eq(ok_time("1764930000.000000001"), NOW + 1);
    ck_assert_uint_eq(ok_time("2025-12-05T10:20:00Z"), NOW);
    ck_assert_uint_eq(ok_time("2025-12-05 10:20:00z"), NOW);
    ck_assert_uint_eq(ok_time("2025-12-05T10:20:00.5Z"), NOW + S / 2);
    ck_assert_uint_eq(ok_time("2025-12-05T11:20:00+01:00"), NOW);
    ck_assert_uint_eq(ok_time("2025-12-05T05:50:00-04:30"), NOW);
    ck_assert_uint_eq(ok_time("1970-01-01T00:00:00Z"), 0);
    ck_assert_uint_eq(ok_time("2024-02-29T00:00:00Z"), 1709164800ull * S);
    ck_assert_uint_eq(ok_time("2000-03-01T00:00:00Z"), 951868800ull * S);
    ck_assert_uint_eq(ok_time("-90s"), NOW - 90 * S);
    ck_assert_uint_eq(ok_time("-15m"), NOW - 900 * S);
    ck_assert_uint_eq(ok_time("-2h"), NOW - 7200 * S);
    ck_assert_uint_eq(ok_time("-7d"), NOW - 7 * 86400 * S);
    ck_assert_uint_eq(ok_time("-1w"), NOW - 604800 * S);
}
END_TEST

START_TEST(refusals)
{
    bad_time("", "empty");
    bad_time("yesterday", "not a time");
    bad_time("12abc", "not a time");
    bad_time("1764930000.", "unix seconds");
    bad_time("1764930000.1234567891", "unix seconds");
    bad_time("99999999999", "after 2262");
    bad_time("2025-12-05T10:20:00", "time zone");
    bad_time("2025-13-05T10:20:00Z", "out of range");
    bad_time("2025-02-30T10:20:00Z", "out of range");
    bad_time("2025-02-29T10:20:00Z", "29 February");
    bad_time("1969-12-31T23:59:59Z", "out of range");
    bad_time("1970-01-01T00:00:00+01:00", "before 1970");
    bad_time("2025-12-05T10:20:00Zjunk", "unexpected");
    bad_time("2025-12-05T10:20:00+1:00", "offset");
    bad_time("2025-12-05T24:00:00Z", "out of range");
    bad_time("-15", "relative");
    bad_time("-15y", "unit");
    bad_time("-h", "relative");
    bad_time("-99999999w", "before 1970");
    bad_time("-1234567890d", "relative");
}
END_TEST

START_TEST(addresses)
{
    ns_addr_t a;
    uint8_t v = 0;
    ck_assert(ns_addr_parse("10.1.2.3", &a, &v));
    ck_assert_uint_eq(v, 4);
    ck_assert_uint_eq(a.b[0], 10);
    ck_assert_uint_eq(a.b[3], 3);
    ck_assert_uint_eq(a.b[4], 0);
    ck_assert(ns_addr_parse("2001:db8::1", &a, &v));
    ck_assert_uint_eq(v, 6);
    ck_assert_uint_eq(a.b[0], 0x20);
    ck_assert_uint_eq(a.b[15], 1);
    ck_assert(!ns_addr_parse("localhost", &a, &v));
    ck_assert(!ns_addr_parse("example.com", &a, &v));
    ck_assert(!ns_addr_parse("10.1.2", &a, &v));
    ck_assert(!ns_addr_parse("10.1.2.3 ", &a, &v));
    ck_assert(!ns_addr_parse("", &a, &v));
    ck_assert(!ns_addr_parse(NULL, &a, &v));
}
END_TEST

static Suite *
timeparse_suite(void)
{
    Suite *s = suite_create("timeparse");
    TCase *tc = tcase_create("timeparse");
    tcase_add_test(tc, forms);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, addresses);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(timeparse_suite)

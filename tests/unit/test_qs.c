/* test_qs.c - query strings, paths, numbers and times of API requests (collector/qs.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/qs.h"
#include "runner.h"

#define SEC 1000000000ull

static ns_qs_t qs;

static bool
parse(const char *s)
{
    return ns_qs_parse(&qs, s, strlen(s));
}

START_TEST(valid_pairs)
{
    ck_assert(parse("from=-1h&host=10.0.0.1&filter=tcp+port+80&x=%41%2f&empty=&flag"));
    ck_assert_uint_eq(qs.n, 6);
    ck_assert_str_eq(ns_qs_get(&qs, "filter"), "tcp port 80");
    ck_assert_str_eq(ns_qs_get(&qs, "x"), "A/");
    ck_assert_str_eq(ns_qs_get(&qs, "empty"), "");
    ck_assert_str_eq(ns_qs_get(&qs, "flag"), "");
    ck_assert_ptr_null(ns_qs_get(&qs, "nope"));
    ck_assert(parse(""));
    ck_assert_uint_eq(qs.n, 0);
    ck_assert(parse("a=1&&b=2&"));
    ck_assert_uint_eq(qs.n, 2);
    static const char *const known[] = {"a", NULL};
    ck_assert_str_eq(ns_qs_unknown(&qs, known), "b");
}
END_TEST

START_TEST(invalid_pairs)
{
    ck_assert(!parse("a=%zz"));
    ck_assert_str_eq(qs.err_param, "a");
    ck_assert(!parse("a=%4"));
    ck_assert(!parse("a=%00"));
    ck_assert(!parse("a=%0a"));
    ck_assert(!parse("A=1"));
    ck_assert(!parse("=1"));
    ck_assert(!parse("a=1&a=2"));
    ck_assert_str_eq(qs.err_param, "a");
    ck_assert(!parse("a%3d=1"));
    char big[NS_QS_MAX_LEN + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert(!parse(big));
    char many[512] = "";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "p%d=1&", i);
    ck_assert(!parse(many));
}
END_TEST

START_TEST(paths)
{
    ck_assert(ns_qs_path_ok("/api/v1/flows"));
    ck_assert(ns_qs_path_ok("/api/v1/flows/CAbc123"));
    ck_assert(ns_qs_path_ok("/metrics"));
    ck_assert(!ns_qs_path_ok("/api/v1/%2e%2e/etc/passwd"));
    ck_assert(!ns_qs_path_ok("/api/v1/../etc"));
    ck_assert(!ns_qs_path_ok("/api/v1/./flows"));
    ck_assert(!ns_qs_path_ok("//api/v1/flows"));
    ck_assert(!ns_qs_path_ok("/api/v1//flows"));
    ck_assert(!ns_qs_path_ok("/api/v1/flows%2fx"));
    ck_assert(!ns_qs_path_ok("/api\\v1"));
    ck_assert(!ns_qs_path_ok("api/v1"));
    ck_assert(!ns_qs_path_ok(""));
}
END_TEST

START_TEST(numbers)
{
    uint64_t v;
    ck_assert(ns_qs_u64("65535", 0, 65535, &v));
    ck_assert_uint_eq(v, 65535);
    ck_assert(!ns_qs_u64("65536", 0, 65535, &v));
    ck_assert(!ns_qs_u64("-1", 0, 65535, &v));
    ck_assert(!ns_qs_u64("+1", 0, 65535, &v));
    ck_assert(!ns_qs_u64("1x", 0, 65535, &v));
    ck_assert(!ns_qs_u64("", 0, 65535, &v));
    ck_assert(!ns_qs_u64("99999999999999999999", 0, UINT64_MAX, &v));
    ck_assert(ns_qs_duration("5m", 86400, &v));
    ck_assert_uint_eq(v, 300);
    ck_assert(ns_qs_duration("60", 86400, &v));
    ck_assert_uint_eq(v, 60);
    ck_assert(!ns_qs_duration("0", 86400, &v));
    ck_assert(!ns_qs_duration("2d", 86400, &v));
}
END_TEST

START_TEST(times)
{
    uint64_t t, now = 1764900000ull * SEC;
    ck_assert(ns_qs_time("2025-12-05T02:00:00Z", now, &t));
    ck_assert_uint_eq(t, 1764900000ull * SEC); /* date -d 2025-12-05T02:00:00Z +%s */
    ck_assert(ns_qs_time("2025-12-05T03:00:00.25+01:00", now, &t));
    ck_assert_uint_eq(t, 1764900000ull * SEC + 250000000ull);
    ck_assert(ns_qs_time("1970-01-01T00:00:00Z", now, &t));
    ck_assert_uint_eq(t, 0);
    ck_assert(ns_qs_time("2024-02-29T12:00:00Z", now, &t));
    ck_assert_uint_eq(t, 1709208000ull * SEC);
    ck_assert(ns_qs_time("1764900000", now, &t));
    ck_assert_uint_eq(t, now);
    ck_assert(ns_qs_time("1764900000.5", now, &t));
    ck_assert_uint_eq(t, now + SEC / 2);
    ck_assert(ns_qs_time("-1h", now, &t));
    ck_assert_uint_eq(t, now - 3600 * SEC);
    ck_assert(ns_qs_time("now", now, &t));
    ck_assert_uint_eq(t, now);
    ck_assert(!ns_qs_time("2023-02-29T00:00:00Z", now, &t)); /* not a leap year */
    ck_assert(!ns_qs_time("2025-13-01T00:00:00Z", now, &t));
    ck_assert(!ns_qs_time("2025-12-05T02:00:00", now, &t));  /* no zone */
    ck_assert(!ns_qs_time("1969-12-31T23:59:59Z", now, &t));
    ck_assert(!ns_qs_time("yesterday", now, &t));
    ck_assert(!ns_qs_time("-1y", now, &t));
    ck_assert(!ns_qs_time("12abc", now, &t));
    ck_assert(!ns_qs_time("99999999999", now, &t));
    ck_assert(!ns_qs_time("", now, &t));
}
END_TEST

static Suite *
qs_suite(void)
{
    Suite *s = suite_create("qs");
    TCase *v = tcase_create("valid");
    tcase_add_test(v, valid_pairs);
    tcase_add_test(v, numbers);
    tcase_add_test(v, times);
    suite_add_tcase(s, v);
    TCase *i = tcase_create("invalid");
    tcase_add_test(i, invalid_pairs);
    tcase_add_test(i, paths);
    suite_add_tcase(s, i);
    return s;
}

NS_TEST_MAIN(qs_suite)

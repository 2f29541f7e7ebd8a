/* test_capture.c - the capture module's own logic: timestamps of either precision and before
 * 1970, the kernel ring size bound, filters replaced on an open capture, counters of files. */
#include <check.h>
#include <string.h>

#include "netscope/capture.h"
#include "runner.h"

#define PCAP_FILE NS_TEST_SRC "/golden/print/http_handshake.pcap"

START_TEST(timestamps_of_either_precision)
{
    ck_assert_uint_eq(ns_capture_ts_ns(1700000000, 123456789, true), 1700000000123456789ull);
    /* a device without nanosecond stamps gives microseconds: never read as nanoseconds */
    ck_assert_uint_eq(ns_capture_ts_ns(1700000000, 123456, false), 1700000000123456000ull);
    ck_assert_uint_eq(ns_capture_ts_ns(0, 0, true), 0);
}
END_TEST

START_TEST(timestamps_before_1970_are_zero)
{
    ck_assert_uint_eq(ns_capture_ts_ns(-1, 999999, false), 0);
    ck_assert_uint_eq(ns_capture_ts_ns(-2000000000, 0, true), 0);
    ck_assert_uint_eq(ns_capture_ts_ns(5, -1, true), 0);
}
END_TEST

START_TEST(ring_size_beyond_int_is_refused)
{
    char err[256] = "";
    ns_capture_opts_t o = {.iface = "lo", .buffer_mb = NS_CAPTURE_MAX_BUFFER_MB + 1};
    ns_capture_t *c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "too large") != NULL, "%s", err);
    o.buffer_mb = 100000; /* 100000 * 2^20 overflows an int */
    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "100000 MB") != NULL, "%s", err);
}
END_TEST

static int
count_frames(ns_capture_t *c)
{
    ns_frame_t f;
    int n = 0;
    while (ns_capture_next(c, &f) == NS_CAPTURE_FRAME)
        n++;
    return n;
}

START_TEST(filter_replaced_and_removed)
{
    char err[256] = "";
    ns_capture_opts_t o = {.file = PCAP_FILE};
    ns_capture_t *c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    int all = count_frames(c);
    ns_capture_destroy(&c);
    ck_assert_int_gt(all, 2);

    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert(ns_capture_set_filter(c, "tcp[tcpflags] & tcp-syn != 0", err, sizeof(err)));
    int syns = count_frames(c);
    ck_assert_int_gt(syns, 0);
    ck_assert_int_lt(syns, all);
    ns_capture_destroy(&c);

    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert(ns_capture_set_filter(c, "udp", err, sizeof(err)));
    ck_assert(!ns_capture_set_filter(c, "tcp port", err, sizeof(err)));
    ck_assert_msg(strstr(err, "tcp port") != NULL, "%s", err);
    ck_assert(ns_capture_set_filter(c, "", err, sizeof(err))); /* everything again */
    ck_assert(ns_capture_filter_check("tcp and port 80", 1, err, sizeof(err)));
    ck_assert(!ns_capture_filter_check("tcp port", 1, err, sizeof(err)));
    ck_assert_msg(strstr(err, "bad filter 'tcp port'") != NULL, "%s", err);
    ck_assert_int_eq(count_frames(c), all);
    ck_assert(ns_capture_nano(c));
    ns_capture_counters_t k;
    ck_assert(!ns_capture_counters(c, &k));
    ck_assert_int_eq(ns_capture_fd(c), -1);
    ns_capture_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

static Suite *
capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, timestamps_of_either_precision);
    tcase_add_test(tc, filter_replaced_and_removed);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, timestamps_before_1970_are_zero);
    tcase_add_test(tc, ring_size_beyond_int_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(capture_suite)

/* test_capture.c - the capture module's own logic: timestamps of either precision and before
 * 1970, the kernel ring size bound, filters replaced on an open capture, counters of files;
 * pcapng files whose interfaces differ in link type and snapshot length (pcapng.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netscope/capture.h"
#include "pcapngfile.h"
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

/* ---- pcapng with interfaces that differ --------------------------------------------------- */

/* Section header; interface 0 Ethernet (snaplen 65535, µs), interface 1 raw IP (snaplen 128,
 * ns); an enhanced packet on each; a simple packet (interface 0). */
static void
mixed_pcapng(blk_t *f)
{
    pcapng_shb(f);
    pcapng_idb(f, 1, 65535);
    blk_t t;
    t.n = 0;
    put16(&t, 101);
    put16(&t, 0);
    put32(&t, 128);
    put16(&t, 9); /* if_tsresol: 10^-9 */
    put16(&t, 1);
    put32(&t, 9);
    put32(&t, 0); /* opt_endofopt */
    block(f, 1, t.b, t.n);
    /* EPB, interface 0: 1700000000.000001 s, 60 of 70 bytes */
    uint8_t data[60];
    memset(data, 0xab, 60);
    pcapng_epb(f, 0, 1700000000000001ull, data, 60, 70);
    /* EPB, interface 1: 1700000000.123456789 s, 28 bytes */
    memset(data, 0x45, 28);
    pcapng_epb(f, 1, 1700000000123456789ull, data, 28, 28);
    /* SPB (interface 0): 42 bytes */
    t.n = 0;
    put32(&t, 42);
    memset(t.b + t.n, 0xcd, 42);
    t.n += 42;
    block(f, 3, t.b, t.n);
}

START_TEST(pcapng_interfaces_that_differ)
{
    blk_t f;
    mixed_pcapng(&f);
    char path[64], err[256] = "";
    write_tmp(f.b, f.n, path);
    ns_capture_opts_t o = {.file = path};
    ns_capture_t *c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(ns_capture_linktype(c), 1);
    ck_assert_int_eq(ns_capture_snaplen(c), 65535);
    ns_frame_t fr;
    int rc = ns_capture_next(c, &fr);
    ck_assert_msg(rc == NS_CAPTURE_FRAME, "%d %s", rc, ns_capture_error(c));
    ck_assert_uint_eq(fr.linktype, 1);
    ck_assert_uint_eq(fr.cap_len, 60);
    ck_assert_uint_eq(fr.wire_len, 70);
    ck_assert_uint_eq(fr.ts_ns, 1700000000000001000ull);
    ck_assert_uint_eq(fr.data[59], 0xab);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_FRAME);
    ck_assert_uint_eq(fr.linktype, 101);
    ck_assert_uint_eq(fr.cap_len, 28);
    ck_assert_uint_eq(fr.ts_ns, 1700000000123456789ull);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_FRAME);
    ck_assert_uint_eq(fr.linktype, 1);
    ck_assert_uint_eq(fr.cap_len, 42);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_END);
    ck_assert_ptr_null(ns_capture_warning(c));
    /* no filter can apply to interfaces of different link types */
    ck_assert(!ns_capture_set_filter(c, "udp", err, sizeof(err)));
    ns_capture_destroy(&c);
    /* libpcap reads the first interface only at open: with a filter, the second one ends
     * the file with an error that says why */
    o.filter = "udp";
    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_ERROR);
    ck_assert_msg(strstr(ns_capture_error(c), "no filter") != NULL, "%s", ns_capture_error(c));
    ns_capture_destroy(&c);
    unlink(path);
}
END_TEST

START_TEST(pcapng_cut_and_corrupt)
{
    blk_t f;
    mixed_pcapng(&f);
    char path[64], err[256] = "";
    /* the last block cut short: the packets before it, then a warning */
    write_tmp(f.b, f.n - 10, path);
    ns_capture_opts_t o = {.file = path};
    ns_capture_t *c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(count_frames(c), 2);
    ck_assert_ptr_nonnull(ns_capture_warning(c));
    ns_capture_destroy(&c);
    unlink(path);
    /* the second packet's block with a trailing length that disagrees: an error */
    size_t second = 28 + 20 + 32 + (32 + 60);
    f.b[second + 56] ^= 0x04; /* its trailing total length */
    write_tmp(f.b, f.n, path);
    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ns_frame_t fr;
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_FRAME);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_ERROR);
    ck_assert_msg(strstr(ns_capture_error(c), "disagree") != NULL, "%s", ns_capture_error(c));
    ns_capture_destroy(&c);
    unlink(path);
    /* a packet of an interface never described */
    mixed_pcapng(&f);
    f.b[second + 8] = 7;
    write_tmp(f.b, f.n, path);
    c = ns_capture_open(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_FRAME);
    ck_assert_int_eq(ns_capture_next(c, &fr), NS_CAPTURE_ERROR);
    ns_capture_destroy(&c);
    unlink(path);
}
END_TEST

static Suite *
capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, timestamps_of_either_precision);
    tcase_add_test(tc, filter_replaced_and_removed);
    tcase_add_test(tc, pcapng_interfaces_that_differ);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, timestamps_before_1970_are_zero);
    tcase_add_test(tc, ring_size_beyond_int_is_refused);
    tcase_add_test(tc, pcapng_cut_and_corrupt);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(capture_suite)

/* test_udp.c - unit tests for the UDP decoder (core/decode/udp.c). */
#include "testutil_l4.h"
#include "runner.h"
#include "frame_dns.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* UDP datagram carrying a DNS query for example.com (29 bytes). */
static const uint8_t udp_dns[] = {
    0xd4, 0x31, 0x00, 0x35,                                     /* sport 54321, dport 53 */
    0x00, 0x25, 0xab, 0xcd,                                     /* length 37, checksum */
    0x12, 0x34, 0x01, 0x00,                                     /* DNS id, flags RD */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* 1 question */
    0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',              /* "example" */
    0x03, 'c',  'o',  'm',  0x00,                               /* "com", root */
    0x00, 0x01, 0x00, 0x01,                                     /* A, IN */
};

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(header_and_payload)
{
    tl4_result_t *r = tl4_run(ns_decode_udp, NS_IPPROTO_UDP, udp_dns, sizeof(udp_dns));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.sport, 54321);
    ck_assert_uint_eq(r->pkt.dport, 53);
    ck_assert_uint_eq(r->pkt.l4_off, 0);
    ck_assert_uint_eq(r->pkt.payload_off, 8);
    ck_assert_uint_eq(r->pkt.payload_len, 29);
    ck_assert_uint_eq(r->pkt.payload_cap, 29);
    ck_assert_uint_eq(r->next, NS_NEXT_APP);
    ck_assert_uint_eq(tl4_uint(r, "udp.length", 0), 37);
    ck_assert_uint_eq(tl4_uint(r, "udp.checksum", 0), 0xabcd);
    tl4_free(r);
}
END_TEST

START_TEST(length_narrows)
{
    /* IP declares 4 bytes more than UDP: they are not UDP payload. */
    uint8_t b[sizeof(udp_dns) + 4];
    memcpy(b, udp_dns, sizeof(udp_dns));
    memset(b + sizeof(udp_dns), 0xee, 4);
    tl4_result_t *r = tl4_run(ns_decode_udp, NS_IPPROTO_UDP, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 29);
    ck_assert_uint_eq(ns_cur_left(&r->cur), 29);
    tl4_free(r);
}
END_TEST

START_TEST(first_fragment)
{
    /* A first fragment carries 16 of the 37 bytes: the length field is not a contradiction. */
    tl4_result_t *r = tl4_run_ex(ns_decode_udp, 4, NS_IPPROTO_UDP, NS_IP_FRAG | NS_IP_MF, udp_dns,
                                 16, 16, true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 29);
    ck_assert_uint_eq(r->pkt.payload_cap, 8);
    tl4_free(r);
}
END_TEST

START_TEST(frame_dns_query)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_dns, sizeof(frame_dns));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_UDP));
    ck_assert_uint_eq(r->pkt.l4_off, 34);
    ck_assert_uint_eq(r->pkt.payload_off, 42);
    ck_assert_uint_eq(r->pkt.payload_len, 29);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert_str_eq(r->pkt.dns.qname, "example.com");
    ck_assert_uint_eq(tu_uint(r, "udp.dstport"), 53);
    tu_free(r);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncation_sweep)
{
    tl4_truncation_sweep(ns_decode_udp, 4, NS_IPPROTO_UDP, udp_dns, sizeof(udp_dns), 8);
    /* From 42 bytes on the frame is OK: the dispatcher offers no application decoder a
     * payload of which nothing was captured (payload_cap == 0). */
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_dns, sizeof(frame_dns), 42);
    for (size_t n = 0; n < 8; n++) {
        tl4_result_t *r =
            tl4_run_ex(ns_decode_udp, 4, NS_IPPROTO_UDP, 0, udp_dns, n, sizeof(udp_dns), true);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        /* A cut header still gives the ports that were captured. */
        ck_assert_uint_eq(r->pkt.sport, n >= 2 ? (unsigned)(udp_dns[0] << 8 | udp_dns[1]) : 0u);
        ck_assert_uint_eq(r->pkt.dport, n >= 4 ? (unsigned)(udp_dns[2] << 8 | udp_dns[3]) : 0u);
        tl4_free(r);
    }
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(length_below_header)
{
    uint8_t b[sizeof(udp_dns)];
    memcpy(b, udp_dns, sizeof(b));
    b[4] = 0, b[5] = 7;
    tl4_result_t *r = tl4_run(ns_decode_udp, NS_IPPROTO_UDP, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_ne(r->next, NS_NEXT_APP);
    tl4_free(r);
}
END_TEST

START_TEST(length_past_ip_payload)
{
    uint8_t b[sizeof(udp_dns)];
    memcpy(b, udp_dns, sizeof(b));
    b[5] = 0x26; /* 38 in a 37-byte IP payload */
    tl4_result_t *r = tl4_run(ns_decode_udp, NS_IPPROTO_UDP, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.payload_len, 29);
    tl4_free(r);
}
END_TEST

START_TEST(ip_payload_below_header)
{
    /* The IP layer declares 6 bytes: the datagram cannot hold a UDP header. */
    tl4_result_t *r = tl4_run_ex(ns_decode_udp, 4, NS_IPPROTO_UDP, 0, udp_dns, 6, 6, true);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tl4_free(r);
}
END_TEST

static Suite *
udp_suite(void)
{
    Suite *s = suite_create("udp");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, header_and_payload);
    tcase_add_test(tc, length_narrows);
    tcase_add_test(tc, first_fragment);
    tcase_add_test(tc, frame_dns_query);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, length_below_header);
    tcase_add_test(tc, length_past_ip_payload);
    tcase_add_test(tc, ip_payload_below_header);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(udp_suite)

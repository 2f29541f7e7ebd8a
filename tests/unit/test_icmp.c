/* test_icmp.c - unit tests for the ICMP and ICMPv6 decoders (core/decode/icmp.c). */
#include "testutil_l4.h"
#include "runner.h"

/* ---- fixtures --------------------------------------------------------------------------- */

static const uint8_t icmp_echo[] = {
    0x08, 0x00, 0xf7, 0xfd, /* echo request, code 0, checksum */
    0x00, 0x01, 0x00, 0x02, /* identifier 1, sequence 2 */
    'a',  'b',  'c',  'd',  /* data */
};

/* Port unreachable, quoting 10.0.0.1:54321 -> 8.8.8.8:53 over UDP. */
static const uint8_t icmp_unreach[] = {
    0x03, 0x03, 0x12, 0x34,                         /* dest unreachable, port, checksum */
    0x00, 0x00, 0x00, 0x00,                         /* unused */
    0x45, 0x00, 0x00, 0x25, 0xbe, 0xef, 0x00, 0x00, /* quoted IPv4: length 37, id 0xbeef */
    0x3f, 0x11, 0x00, 0x00,                         /*   TTL 63, UDP */
    0x0a, 0x00, 0x00, 0x01, 0x08, 0x08, 0x08, 0x08, /*   10.0.0.1 -> 8.8.8.8 */
    0xd4, 0x31, 0x00, 0x35, 0x00, 0x11, 0x00, 0x00, /* quoted UDP: 54321 -> 53 */
};

/* TTL exceeded in transit, quoting an IPv4 header with 4 option bytes and TCP 1234 -> 443. */
static const uint8_t icmp_ttl[] = {
    0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* time exceeded, code 0, unused */
    0x46, 0x00, 0x00, 0x3c, 0x00, 0x07, 0x40, 0x00, /* quoted IPv4, IHL 6 (24 bytes) */
    0x01, 0x06, 0x00, 0x00,                         /*   TTL 1, TCP */
    0xc0, 0xa8, 0x00, 0x02, 0x5d, 0xb8, 0xd8, 0x22, /*   192.168.0.2 -> 93.184.216.34 */
    0x01, 0x01, 0x01, 0x00,                         /*   options: NOP NOP NOP EOL */
    0x04, 0xd2, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, /* quoted TCP: ports, seq */
};

static const uint8_t icmp6_echo[] = {
    0x80, 0x00, 0xab, 0xcd, /* echo request, code 0, checksum */
    0x00, 0x07, 0x00, 0x09, /* identifier 7, sequence 9 */
    'p',  'i',  'n',  'g',  /* data */
};

/* Port unreachable, quoting 2001:db8::1:5353 -> 2001:db8::2:53 over UDP. */
static const uint8_t icmp6_unreach[] = {
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* dest unreachable, port, unused */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40, /* quoted IPv6: plen 8, UDP, hlim 64 */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /*   src 2001:db8::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /*   dst 2001:db8::2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* */
    0x14, 0xe9, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, /* quoted UDP: 5353 -> 53 */
};

/* Ethernet + IPv4 (10.0.0.254 -> 10.0.0.1) + the port unreachable above. */
static const uint8_t frame_unreach[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth */
    0x08, 0x00,                                                             /* IPv4 */
    0x45, 0xc0, 0x00, 0x38, 0x00, 0x03, 0x00, 0x00, /* IPv4, total length 56 */
    0x40, 0x01, 0x00, 0x00,                         /* TTL 64, ICMP */
    0x0a, 0x00, 0x00, 0xfe, 0x0a, 0x00, 0x00, 0x01, /* 10.0.0.254 -> 10.0.0.1 */
    0x03, 0x03, 0x12, 0x34, 0x00, 0x00, 0x00, 0x00, /* ICMP port unreachable */
    0x45, 0x00, 0x00, 0x25, 0xbe, 0xef, 0x00, 0x00, /* quoted IPv4 */
    0x3f, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, /* */
    0x08, 0x08, 0x08, 0x08,                         /* */
    0xd4, 0x31, 0x00, 0x35, 0x00, 0x11, 0x00, 0x00, /* quoted UDP */
};

/* Ethernet + IPv6 (fe80::1 -> fe80::2) + ICMPv6 echo request. */
static const uint8_t frame_echo6[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth */
    0x86, 0xdd,                                                             /* IPv6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x40, /* IPv6, plen 12, ICMPv6, hlim 64 */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* src fe80::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* dst fe80::2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* */
    0x80, 0x00, 0xab, 0xcd, 0x00, 0x07, 0x00, 0x09, /* ICMPv6 echo request, id 7, seq 9 */
    'p',  'i',  'n',  'g',                          /* data */
};

static const uint8_t addr_10_0_0_1[16] = {10, 0, 0, 1};
static const uint8_t addr_8_8_8_8[16] = {8, 8, 8, 8};

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(echo_request)
{
    tl4_result_t *r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_echo, sizeof(icmp_echo));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.icmp_type, 8);
    ck_assert_uint_eq(r->pkt.icmp_code, 0);
    ck_assert_uint_eq(r->pkt.icmp_id, 1);
    ck_assert_uint_eq(r->pkt.icmp_seq, 2);
    ck_assert(!r->pkt.icmp_quote);
    ck_assert_uint_eq(r->pkt.payload_off, 8);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 4);
    ck_assert_uint_eq(tl4_uint(r, "icmp.type", 0), 8);
    ck_assert_uint_eq(tl4_uint(r, "icmp.checksum", 0), 0xf7fd);
    ck_assert_uint_eq(tl4_uint(r, "icmp.ident", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "icmp.seq", 0), 2);
    tl4_free(r);
}
END_TEST

START_TEST(unreachable_quotes_udp)
{
    tl4_result_t *r =
        tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_unreach, sizeof(icmp_unreach));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.icmp_type, 3);
    ck_assert_uint_eq(r->pkt.icmp_code, 3);
    ck_assert(r->pkt.icmp_quote);
    ck_assert_uint_eq(r->pkt.inner_proto, NS_IPPROTO_UDP);
    ck_assert_mem_eq(r->pkt.inner_src.b, addr_10_0_0_1, 16);
    ck_assert_mem_eq(r->pkt.inner_dst.b, addr_8_8_8_8, 16);
    ck_assert_uint_eq(r->pkt.inner_sport, 54321);
    ck_assert_uint_eq(r->pkt.inner_dport, 53);
    /* The packet's own endpoints are not the quoted ones. */
    ck_assert_uint_eq(r->pkt.sport, 0);
    ck_assert_uint_eq(r->pkt.dport, 0);
    ck_assert_uint_eq(r->pkt.icmp_id, 0);
    /* The quote as a nested tree, under tshark's names. */
    const ns_field_t *ip = tl4_field(r, "ip", 0);
    ck_assert_ptr_nonnull(ip);
    ck_assert_uint_eq(ip->depth, 1);
    ck_assert_uint_eq(ip->off, 8);
    ck_assert_uint_eq(ip->len, 20);
    ck_assert_uint_eq(tl4_uint(r, "ip.version", 0), 4);
    ck_assert_uint_eq(tl4_uint(r, "ip.hdr_len", 0), 20);
    ck_assert_uint_eq(tl4_uint(r, "ip.len", 0), 37);
    ck_assert_uint_eq(tl4_uint(r, "ip.id", 0), 0xbeef);
    ck_assert_uint_eq(tl4_uint(r, "ip.ttl", 0), 63);
    ck_assert_uint_eq(tl4_uint(r, "ip.proto", 0), 17);
    ck_assert_uint_eq(tl4_field(r, "ip.src", 0)->off, 20);
    ck_assert_uint_eq(tl4_field(r, "ip.dst", 0)->off, 24);
    ck_assert_uint_eq(tl4_field(r, "udp.srcport", 0)->depth, 2);
    ck_assert_uint_eq(tl4_uint(r, "udp.srcport", 0), 54321);
    ck_assert_uint_eq(tl4_uint(r, "udp.dstport", 0), 53);
    ck_assert_ptr_null(tl4_field(r, "icmp.ident", 0));
    tl4_free(r);
}
END_TEST

START_TEST(time_exceeded_quotes_tcp_with_options)
{
    tl4_result_t *r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_ttl, sizeof(icmp_ttl));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.icmp_quote);
    ck_assert_uint_eq(r->pkt.inner_proto, NS_IPPROTO_TCP);
    ck_assert_uint_eq(r->pkt.inner_sport, 1234);
    ck_assert_uint_eq(r->pkt.inner_dport, 443);
    ck_assert_uint_eq(tl4_uint(r, "ip.hdr_len", 0), 24);
    ck_assert_uint_eq(tl4_uint(r, "ip.ttl", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.srcport", 0), 1234);
    ck_assert_uint_eq(tl4_uint(r, "tcp.dstport", 0), 443);
    tl4_free(r);
}
END_TEST

START_TEST(quote_cut_short_is_ok)
{
    /* Only 12 of the quoted header's 20 bytes: ICMP is fine, there is just no quote. */
    tl4_result_t *r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_unreach, 20);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(!r->pkt.icmp_quote);
    ck_assert_ptr_null(tl4_field(r, "ip", 0));
    tl4_free(r);
    /* Header complete, ports missing: addresses but no ports. */
    r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_unreach, 30);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.icmp_quote);
    ck_assert_mem_eq(r->pkt.inner_dst.b, addr_8_8_8_8, 16);
    ck_assert_uint_eq(r->pkt.inner_sport, 0);
    ck_assert_ptr_null(tl4_field(r, "udp.srcport", 0));
    tl4_free(r);
}
END_TEST

START_TEST(quote_not_ipv4)
{
    uint8_t b[sizeof(icmp_unreach)];
    memcpy(b, icmp_unreach, sizeof(b));
    b[8] = 0x65; /* version 6 inside ICMP for IPv4 */
    tl4_result_t *r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(!r->pkt.icmp_quote);
    tl4_free(r);
}
END_TEST

START_TEST(icmpv6_echo)
{
    tl4_result_t *r =
        tl4_run_ex(ns_decode_icmpv6, 6, NS_IPPROTO_ICMPV6, 0, icmp6_echo, sizeof(icmp6_echo),
                   sizeof(icmp6_echo), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.icmp_type, 128);
    ck_assert_uint_eq(r->pkt.icmp_id, 7);
    ck_assert_uint_eq(r->pkt.icmp_seq, 9);
    ck_assert_uint_eq(tl4_uint(r, "icmpv6.type", 0), 128);
    ck_assert_uint_eq(tl4_uint(r, "icmpv6.checksum", 0), 0xabcd);
    ck_assert_uint_eq(tl4_uint(r, "icmpv6.echo.identifier", 0), 7);
    ck_assert_uint_eq(tl4_uint(r, "icmpv6.echo.sequence_number", 0), 9);
    tl4_free(r);
}
END_TEST

START_TEST(icmpv6_unreachable_quotes_udp)
{
    static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    tl4_result_t *r =
        tl4_run_ex(ns_decode_icmpv6, 6, NS_IPPROTO_ICMPV6, 0, icmp6_unreach,
                   sizeof(icmp6_unreach), sizeof(icmp6_unreach), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.icmp_quote);
    ck_assert_uint_eq(r->pkt.inner_proto, NS_IPPROTO_UDP);
    ck_assert_mem_eq(r->pkt.inner_dst.b, dst, 16);
    ck_assert_uint_eq(r->pkt.inner_sport, 5353);
    ck_assert_uint_eq(r->pkt.inner_dport, 53);
    ck_assert_uint_eq(tl4_uint(r, "ipv6.nxt", 0), 17);
    ck_assert_uint_eq(tl4_uint(r, "ipv6.hlim", 0), 64);
    ck_assert_uint_eq(tl4_field(r, "ipv6.dst", 0)->off, 32);
    ck_assert_uint_eq(tl4_uint(r, "udp.dstport", 0), 53);
    ck_assert_ptr_null(tl4_field(r, "icmpv6.echo.identifier", 0));
    tl4_free(r);
}
END_TEST

START_TEST(frame_unreachable)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_unreach, sizeof(frame_unreach));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_ICMP));
    ck_assert(r->pkt.icmp_quote);
    ck_assert_uint_eq(r->pkt.inner_dport, 53);
    ck_assert_mem_eq(r->pkt.inner_src.b, addr_10_0_0_1, 16);
    /* The outer header stays the packet's own. */
    ck_assert_uint_eq(r->pkt.src.b[3], 0xfe);
    ck_assert_uint_eq(r->pkt.l4_off, 34);
    ck_assert_uint_eq(tu_uint(r, "ip.ttl"), 64);             /* the outer header first */
    ck_assert_uint_eq(tu_field(r, "ip.ttl", 1)->u, 63);      /* then the quoted one */
    ck_assert_uint_eq(tu_field(r, "ip.src", 1)->off, 34 + 20);
    tu_free(r);
}
END_TEST

START_TEST(frame_echo6_ok)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_echo6, sizeof(frame_echo6));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_ICMPV6));
    ck_assert_uint_eq(r->pkt.icmp_type, 128);
    ck_assert_uint_eq(r->pkt.icmp_seq, 9);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    tu_free(r);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncation_sweeps)
{
    tl4_truncation_sweep(ns_decode_icmp, 4, NS_IPPROTO_ICMP, icmp_unreach, sizeof(icmp_unreach),
                         8);
    tl4_truncation_sweep(ns_decode_icmp, 4, NS_IPPROTO_ICMP, icmp_ttl, sizeof(icmp_ttl), 8);
    tl4_truncation_sweep(ns_decode_icmpv6, 6, NS_IPPROTO_ICMPV6, icmp6_unreach,
                         sizeof(icmp6_unreach), 8);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_unreach, sizeof(frame_unreach), 42);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_echo6, sizeof(frame_echo6), 62);
    for (size_t n = 0; n < 8; n++) {
        tl4_result_t *r = tl4_run_ex(ns_decode_icmp, 4, NS_IPPROTO_ICMP, 0, icmp_echo, n,
                                     sizeof(icmp_echo), true);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        tl4_free(r);
    }
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(message_shorter_than_header)
{
    tl4_result_t *r = tl4_run(ns_decode_icmp, NS_IPPROTO_ICMP, icmp_echo, 6);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tl4_free(r);
    r = tl4_run_ex(ns_decode_icmpv6, 6, NS_IPPROTO_ICMPV6, 0, icmp6_echo, 4, 4, true);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tl4_free(r);
}
END_TEST

static Suite *
icmp_suite(void)
{
    Suite *s = suite_create("icmp");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, echo_request);
    tcase_add_test(tc, unreachable_quotes_udp);
    tcase_add_test(tc, time_exceeded_quotes_tcp_with_options);
    tcase_add_test(tc, quote_cut_short_is_ok);
    tcase_add_test(tc, quote_not_ipv4);
    tcase_add_test(tc, icmpv6_echo);
    tcase_add_test(tc, icmpv6_unreachable_quotes_udp);
    tcase_add_test(tc, frame_unreachable);
    tcase_add_test(tc, frame_echo6_ok);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweeps);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, message_shorter_than_header);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(icmp_suite)

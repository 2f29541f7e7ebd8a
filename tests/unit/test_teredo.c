/* test_teredo.c - Teredo (teredo.c): plain, with origin and authentication indicators, a
 * bubble; truncation; payloads that are not IPv6. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

#define TEREDO_PORT 3544

static void
teredo(ef_t *f, bool auth, bool origin, bool inner)
{
    size_t ip, udp;
    ef_outer_udp(f, TEREDO_PORT, &ip, &udp);
    if (auth) {
        static const uint8_t a[4] = {0, 1, 2, 1}; /* ID-len 2, AU-len 1 */
        ef_put(f, a, 4);
        ef_put(f, "id", 2);
        ef_u8(f, 0x5a);
        ef_be32(f, 0x01020304); /* nonce */
        ef_be32(f, 0x05060708);
        ef_u8(f, 0); /* confirmation */
    }
    if (origin) {
        ef_be16(f, 0);
        ef_be16(f, (uint16_t)(40000 ^ 0xffff));
        ef_be32(f, 0xc0000201u ^ 0xffffffffu); /* 192.0.2.1 */
    }
    if (inner)
        ef_inner6(f);
    ef_close_udp(f, ip, udp);
}

START_TEST(ipv6_inside)
{
    ef_t f;
    teredo(&f, false, false, true);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_TEREDO));
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_mem_eq(r->pkt.src.b, EF_INNER6_SRC, 16);
    ck_assert_uint_eq(r->pkt.sport, 1234);
    ck_assert_uint_eq(r->pkt.dport, 5678);
    tu_free(r);
}
END_TEST

START_TEST(indicators_then_ipv6)
{
    ef_t f;
    teredo(&f, true, true, true);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.dport, 5678);
    ck_assert_uint_eq(tu_uint(r, "teredo.auth.idlen"), 2);
    ck_assert_uint_eq(tu_uint(r, "teredo.auth.aulen"), 1);
    ck_assert_uint_eq(tu_uint(r, "teredo.orig.port"), 40000);
    ck_assert_uint_eq(tu_uint(r, "teredo.orig.addr"), 0xc0000201u);
    tu_free(r);
}
END_TEST

START_TEST(bubble)
{
    /* an origin indicator and an IPv6 header with no next header and no payload */
    ef_t f;
    size_t ip, udp;
    ef_outer_udp(&f, TEREDO_PORT, &ip, &udp);
    ef_be16(&f, 0);
    ef_be16(&f, 0x1234);
    ef_be32(&f, 0x3f57fdfe);
    static const uint8_t h[8] = {0x60, 0, 0, 0, 0, 0, 59, 21};
    ef_put(&f, h, 8);
    uint8_t addrs[32] = {0x20, 0x01, 0, 0};
    addrs[16] = 0xfe;
    addrs[17] = 0x80;
    ef_put(&f, addrs, 32);
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.ip_proto, 59);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    teredo(&f, true, true, true);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 43, f.n - 4);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 42 + 10);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_TEREDO);
    tu_free(r);
}
END_TEST

START_TEST(not_ipv6_unsupported)
{
    ef_t f;
    size_t ip, udp;
    ef_outer_udp(&f, TEREDO_PORT, &ip, &udp);
    ef_inner4(&f); /* IPv4 is not what Teredo carries */
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_TEREDO);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_uint_eq(r->pkt.dport, TEREDO_PORT);
    tu_free(r);
    /* only an origin indicator: nothing to decode */
    teredo(&f, false, true, false);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tu_free(r);
}
END_TEST

static Suite *
teredo_suite(void)
{
    Suite *s = suite_create("teredo");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, ipv6_inside);
    tcase_add_test(tc, indicators_then_ipv6);
    tcase_add_test(tc, bubble);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, not_ipv6_unsupported);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(teredo_suite)

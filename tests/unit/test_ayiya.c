/* test_ayiya.c - AYIYA (ayiya.c): IPv6 and IPv4 forwarded, other opcodes, truncation, an
 * identity that overruns the datagram. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

#define AYIYA_PORT 5072

/* AYIYA with a 16-byte identity (IDLen 4), a 20-byte signature (SigLen 5), `op`, `next`. */
static void
ayiya(ef_t *f, uint8_t op, uint8_t next, bool v6)
{
    size_t ip, udp;
    ef_outer_udp(f, AYIYA_PORT, &ip, &udp);
    ef_u8(f, 0x41);               /* IDLen 4 (16 bytes), IDType 1 (integer) */
    ef_u8(f, 0x52);               /* SigLen 5 (20 bytes), hash method 2 (SHA-1) */
    ef_u8(f, (uint8_t)(0x20 | op)); /* auth method 2, opcode */
    ef_u8(f, next);
    ef_be32(f, 1700000000u);
    uint8_t id_sig[36];
    memset(id_sig, 0xee, sizeof(id_sig));
    ef_put(f, id_sig, sizeof(id_sig));
    if (v6)
        ef_inner6(f);
    else
        ef_inner4(f);
    ef_close_udp(f, ip, udp);
}

START_TEST(forward_ipv6_and_ipv4)
{
    ef_t f;
    ayiya(&f, 1, 41, true);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_AYIYA));
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_mem_eq(r->pkt.src.b, EF_INNER6_SRC, 16);
    ck_assert_uint_eq(r->pkt.dport, 5678);
    ck_assert_uint_eq(tu_uint(r, "ayiya.opcode"), 1);
    ck_assert_uint_eq(tu_uint(r, "ayiya.nextheader"), 41);
    tu_free(r);
    ayiya(&f, 1, 4, false);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);
}
END_TEST

START_TEST(other_opcode_stops)
{
    ef_t f;
    ayiya(&f, 2, 41, true); /* echo request: payload is not a packet */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 4); /* the outer packet */
    ck_assert_uint_eq(r->pkt.dport, AYIYA_PORT);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    ayiya(&f, 1, 41, true);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 43, f.n - 4);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 42 + 20);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_AYIYA);
    tu_free(r);
}
END_TEST

START_TEST(identity_past_datagram_invalid)
{
    ef_t f;
    ayiya(&f, 1, 41, true);
    f.b[42] = 0xf1; /* IDLen 15: a 32 KiB identity */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_AYIYA);
    tu_free(r);
}
END_TEST

static Suite *
ayiya_suite(void)
{
    Suite *s = suite_create("ayiya");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, forward_ipv6_and_ipv4);
    tcase_add_test(tc, other_opcode_stops);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, identity_past_datagram_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ayiya_suite)

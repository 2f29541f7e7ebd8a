/* test_erspan.c - ERSPAN in GRE (erspan.c, gre.c): types I, II and III (with the platform
 * subheader), truncation, version/type mismatches; and GRE carried in UDP (RFC 8086). */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

#define GRE_S 0x1000u

/* Ethernet + IPv4 (GRE) + GRE of `proto` with `flags`, then the ERSPAN header the caller
 * writes through `hdr`, then the mirrored frame. */
static void
erspan(ef_t *f, uint16_t flags, uint16_t proto, const uint8_t *hdr, size_t hdr_len)
{
    f->n = 0;
    ef_eth(f, 0x0800);
    size_t ip = ef_ipv4(f, 47);
    ef_be16(f, flags);
    ef_be16(f, proto);
    if (flags & GRE_S)
        ef_be32(f, 7);
    if (hdr_len)
        ef_put(f, hdr, hdr_len);
    ef_inner_eth4(f);
    ef_ipv4_end(f, ip);
}

/* Type II: version 1, VLAN 100, COS 5, session 0x155; index 0x12345. */
static const uint8_t T2[8] = {0x10, 0x64, 0xa1, 0x55, 0x00, 0x01, 0x23, 0x45};
/* Type III: version 2, VLAN 100, session 0x155; timestamp; SGT 9; FT 0, O set; platform. */
static const uint8_t T3[20] = {0x20, 0x64, 0xa1, 0x55, 0x11, 0x22, 0x33, 0x44, 0x00, 0x09,
                               0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8};

START_TEST(type_i_ii_iii)
{
    ef_t f;
    erspan(&f, 0, 0x88be, NULL, 0); /* type I: no sequence number, no header */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert(!(r->pkt.layers & NS_HAS(NS_LAYER_ERSPAN)));
    tu_free(r);

    erspan(&f, GRE_S, 0x88be, T2, sizeof(T2));
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_ERSPAN));
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(tu_uint(r, "erspan.version"), 1);
    ck_assert_uint_eq(tu_uint(r, "erspan.vlan"), 100);
    ck_assert_uint_eq(tu_uint(r, "erspan.cos"), 5);
    ck_assert_uint_eq(tu_uint(r, "erspan.spanid"), 0x155);
    ck_assert_uint_eq(tu_uint(r, "erspan.index"), 0x12345);
    tu_free(r);

    erspan(&f, GRE_S, 0x22eb, T3, sizeof(T3));
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(tu_uint(r, "erspan.version"), 2);
    ck_assert_uint_eq(tu_uint(r, "erspan.timestamp"), 0x11223344);
    ck_assert_uint_eq(tu_uint(r, "erspan.sgt"), 9);
    ck_assert_uint_eq(tu_uint(r, "erspan.o"), 1);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    erspan(&f, GRE_S, 0x88be, T2, sizeof(T2));
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 35, f.n - 4);
    erspan(&f, GRE_S, 0x22eb, T3, sizeof(T3));
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 35, f.n - 4);
    /* cut in the platform subheader */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 14 + 20 + 8 + 16);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_ERSPAN);
    tu_free(r);
}
END_TEST

START_TEST(version_mismatch_invalid)
{
    ef_t f;
    uint8_t t2[8];
    memcpy(t2, T2, 8);
    t2[0] = 0x20; /* version 2 in a type II header */
    erspan(&f, GRE_S, 0x88be, t2, sizeof(t2));
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_ERSPAN);
    tu_free(r);
    uint8_t t3[20];
    memcpy(t3, T3, 20);
    t3[10] = 0x08; /* FT 2: an IP packet, not Ethernet */
    erspan(&f, GRE_S, 0x22eb, t3, sizeof(t3));
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tu_free(r);
}
END_TEST

/* RFC 8086: the GRE header is the UDP payload (port 4754), with a key here. */
START_TEST(gre_in_udp)
{
    ef_t f;
    size_t ip, udp;
    ef_outer_udp(&f, 4754, &ip, &udp);
    ef_be16(&f, 0x2000); /* K */
    ef_be16(&f, 0x0800);
    ef_be32(&f, 0xdeadbeef);
    ef_inner4(&f);
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_GRE));
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_UDP));
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(tu_uint(r, "gre.key"), 0xdeadbeef);
    tu_free(r);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 43, f.n - 4);
}
END_TEST

static Suite *
erspan_suite(void)
{
    Suite *s = suite_create("erspan");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, type_i_ii_iii);
    tcase_add_test(tc, gre_in_udp);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, version_mismatch_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(erspan_suite)

/* test_capwap.c - CAPWAP data (capwap.c): 802.11 frames (frame control swapped, as Cisco
 * access points send them) and 802.3 frames inside, wireless-specific information skipped by
 * HLEN, keep-alives, later fragments, DTLS, truncation, bad header lengths. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

#define CAPWAP_DATA_PORT 5247
#define F_T 0x100u
#define F_F 0x080u
#define F_W 0x020u
#define F_K 0x008u

/* CAPWAP header of `hlen_words` words, WBID 1, `flags`, fragment offset `frag_off`; a
 * wireless-specific information block fills the optional words. */
static void
capwap(ef_t *f, uint32_t hlen_words, uint32_t flags, uint16_t frag_off, size_t *ip, size_t *udp)
{
    ef_outer_udp(f, CAPWAP_DATA_PORT, ip, udp);
    ef_be32(f, hlen_words << 19 | 1u << 9 | flags);
    ef_be16(f, 0);
    ef_be16(f, (uint16_t)(frag_off << 3));
    for (uint32_t i = 2; i < hlen_words; i++)
        ef_be32(f, i == 2 ? 0x04bf2300u : 0);
}

/* An 802.11 data frame ToDS with its frame control bytes swapped, LLC/SNAP, ef_inner4(). */
static void
swapped_wlan(ef_t *f)
{
    static const uint8_t hdr[24] = {0x01, 0x08, 44, 0, 2, 0, 0, 0, 0, 0xa1, 2, 0,
                                    0, 0, 0, 0xa2, 2, 0, 0, 0, 0, 0xa3, 0x76, 0x30};
    static const uint8_t snap[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
    ef_put(f, hdr, sizeof(hdr));
    ef_put(f, snap, sizeof(snap));
    ef_inner4(f);
}

START_TEST(wlan_inside)
{
    ef_t f;
    size_t ip, udp;
    capwap(&f, 4, F_T | F_W, 0, &ip, &udp);
    swapped_wlan(&f);
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_CAPWAP));
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_WLAN));
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(tu_uint(r, "capwap.header.length"), 16);
    ck_assert_uint_eq(tu_uint(r, "capwap.header.wbid"), 1);
    ck_assert_uint_eq(tu_uint(r, "wlan.fc.type_subtype"), 0x20);
    tu_free(r);
}
END_TEST

START_TEST(ethernet_inside_and_keepalive)
{
    ef_t f;
    size_t ip, udp;
    capwap(&f, 2, 0, 0, &ip, &udp);
    ef_inner_eth4(&f);
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);

    capwap(&f, 2, F_K, 0, &ip, &udp);
    ef_be32(&f, 0x00280004u); /* a message element */
    ef_be32(&f, 0);
    ef_close_udp(&f, ip, udp);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.dport, CAPWAP_DATA_PORT); /* nothing inside decoded */
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    size_t ip, udp;
    capwap(&f, 4, F_T | F_W, 0, &ip, &udp);
    swapped_wlan(&f);
    ef_close_udp(&f, ip, udp);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 43, f.n - 4);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 42 + 12);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_CAPWAP);
    tu_free(r);
}
END_TEST

START_TEST(unsupported_and_invalid)
{
    ef_t f;
    size_t ip, udp;
    capwap(&f, 2, F_T | F_F, 10, &ip, &udp); /* a later fragment */
    ef_be32(&f, 0x01020304u);
    ef_close_udp(&f, ip, udp);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_CAPWAP);
    tu_free(r);

    capwap(&f, 2, F_T, 0, &ip, &udp);
    ef_be32(&f, 0x01020304u);
    ef_close_udp(&f, ip, udp);
    f.b[42] = 0x01; /* preamble type 1: DTLS */
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tu_free(r);

    capwap(&f, 1, F_T, 0, &ip, &udp); /* HLEN 4 bytes: shorter than the header */
    ef_be32(&f, 0);
    ef_close_udp(&f, ip, udp);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tu_free(r);

    capwap(&f, 31, F_T, 0, &ip, &udp); /* HLEN 124 bytes: longer than the datagram */
    ef_close_udp(&f, ip, udp);
    f.n = 42 + 8;
    ef_close_udp(&f, ip, udp);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_CAPWAP);
    tu_free(r);
}
END_TEST

static Suite *
capwap_suite(void)
{
    Suite *s = suite_create("capwap");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, wlan_inside);
    tcase_add_test(tc, ethernet_inside_and_keepalive);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, unsupported_and_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(capwap_suite)

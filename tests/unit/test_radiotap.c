/* test_radiotap.c - the radiotap (127) and PPI (192) headers (radiotap.c): 802.11 behind
 * them, an FCS cut off by radiotap's Flags, chained present words, truncation, bad lengths and
 * versions, PPI's DLT choice. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

/* An 802.11 data frame ToDS, LLC/SNAP, ef_inner4(). */
static void
data_frame(ef_t *f)
{
    static const uint8_t hdr[24] = {0x08, 0x01, 44, 0, 2, 0, 0, 0, 0, 0xa1, 2, 0,
                                    0, 0, 0, 0xa2, 2, 0, 0, 0, 0, 0xa3, 0x10, 0};
    static const uint8_t snap[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
    ef_put(f, hdr, sizeof(hdr));
    ef_put(f, snap, sizeof(snap));
    ef_inner4(f);
}

/* Radiotap: TSFT + Flags (+ a second, chained present word when `chain`), rate; then the
 * frame, and an FCS when `fcs`. */
static void
radiotap(ef_t *f, bool fcs, bool chain)
{
    f->n = 0;
    size_t start = f->n;
    ef_u8(f, 0);
    ef_u8(f, 0);
    ef_le16(f, 0); /* length, below */
    ef_le32(f, 0x00000007u | (chain ? 0x80000000u : 0));
    if (chain)
        ef_le32(f, 0x00000000u);
    while ((f->n - start) % 8)
        ef_u8(f, 0); /* TSFT is aligned to 8 */
    ef_le32(f, 0x11111111u);
    ef_le32(f, 0x22222222u);
    ef_u8(f, fcs ? 0x10 : 0x00); /* flags */
    ef_u8(f, 0x6c);              /* rate */
    uint16_t len = (uint16_t)(f->n - start);
    f->b[start + 2] = (uint8_t)len;
    f->b[start + 3] = (uint8_t)(len >> 8);
    data_frame(f);
    if (fcs)
        ef_be32(f, 0xcafef00d);
}

START_TEST(radiotap_to_ip)
{
    ef_t f;
    for (int chain = 0; chain < 2; chain++) {
        radiotap(&f, false, chain);
        tu_result_t *r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, f.n);
        ck_assert_int_eq(r->rc, NS_PARSE_OK);
        ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_RADIO));
        ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_WLAN));
        ef_assert_inner4(&r->pkt);
        ck_assert_uint_eq(tu_uint(r, "radiotap.flags"), 0);
        tu_free(r);
    }
}
END_TEST

START_TEST(radiotap_fcs_is_not_payload)
{
    ef_t f;
    radiotap(&f, true, false);
    tu_result_t *r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.payload_cap, 4); /* "ping", not "ping" + FCS */
    ck_assert_uint_eq(tu_uint(r, "radiotap.flags"), 0x10);
    tu_free(r);
}
END_TEST

START_TEST(ppi_to_80211_and_ethernet)
{
    ef_t f = {.n = 0};
    ef_u8(&f, 0);
    ef_u8(&f, 0);
    ef_le16(&f, 8 + 4);
    ef_le32(&f, NS_LINKTYPE_IEEE802_11);
    ef_le32(&f, 0x00040002); /* a field header the decoder skips */
    data_frame(&f);
    tu_result_t *r = tu_decode(NS_LINKTYPE_PPI, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(tu_uint(r, "ppi.dlt"), 105);
    tu_free(r);

    f.n = 0;
    ef_u8(&f, 0);
    ef_u8(&f, 0);
    ef_le16(&f, 8);
    ef_le32(&f, NS_LINKTYPE_ETHERNET);
    ef_inner_eth4(&f);
    r = tu_decode(NS_LINKTYPE_PPI, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);

    f.b[4] = 228; /* a DLT PPI does not lead to here */
    r = tu_decode(NS_LINKTYPE_PPI, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_RADIO);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    radiotap(&f, true, true);
    ef_sweep(NS_LINKTYPE_IEEE802_11_RADIOTAP, &f, 1, f.n - 4);
    tu_result_t *r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, 10);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_RADIO);
    tu_free(r);
}
END_TEST

START_TEST(bad_headers_invalid)
{
    ef_t f;
    radiotap(&f, false, false);
    f.b[2] = 4; /* length below the fixed 8 bytes */
    f.b[3] = 0;
    tu_result_t *r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tu_free(r);
    radiotap(&f, false, false);
    f.b[2] = 10; /* Flags would lie past the declared header */
    r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tu_free(r);
    radiotap(&f, false, false);
    f.b[0] = 1; /* version */
    r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_RADIO);
    tu_free(r);
    /* present words chained forever */
    uint8_t chain[4 + 4 * 12];
    memset(chain, 0xff, sizeof(chain));
    chain[0] = 0;
    chain[2] = sizeof(chain);
    chain[3] = 0;
    r = tu_decode(NS_LINKTYPE_IEEE802_11_RADIOTAP, chain, sizeof(chain));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tu_free(r);
}
END_TEST

static Suite *
radiotap_suite(void)
{
    Suite *s = suite_create("radiotap");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, radiotap_to_ip);
    tcase_add_test(tc, radiotap_fcs_is_not_payload);
    tcase_add_test(tc, ppi_to_80211_and_ethernet);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, bad_headers_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(radiotap_suite)

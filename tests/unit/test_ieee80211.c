/* test_ieee80211.c - IEEE 802.11 (ieee80211.c) on link type 105: data frames through
 * LLC/SNAP to IP for each DS combination, QoS and +HTC, null and protected frames,
 * management frames named only, truncation, bad versions and non-SNAP bodies. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

static const uint8_t A1[6] = {0x02, 0, 0, 0, 0, 0xa1};
static const uint8_t A2[6] = {0x02, 0, 0, 0, 0, 0xa2};
static const uint8_t A3[6] = {0x02, 0, 0, 0, 0, 0xa3};
static const uint8_t A4[6] = {0x02, 0, 0, 0, 0, 0xa4};

/* An 802.11 frame of type/subtype `fc0` (raw first byte) and `flags`, with the address 4,
 * QoS and HT control fields the flags call for, then LLC/SNAP IPv4 and ef_inner4(). */
static void
wlan(ef_t *f, uint8_t fc0, uint8_t flags, bool body)
{
    ef_u8(f, fc0);
    ef_u8(f, flags);
    ef_le16(f, 44); /* duration */
    ef_put(f, A1, 6);
    ef_put(f, A2, 6);
    ef_put(f, A3, 6);
    ef_le16(f, 0x0120); /* sequence 18, fragment 0 */
    if ((flags & 3) == 3)
        ef_put(f, A4, 6);
    bool qos = ((fc0 >> 2) & 3) == 2 && (fc0 & 0x80);
    if (qos)
        ef_le16(f, 0x0005);
    if (qos && (flags & 0x80))
        ef_le32(f, 0);
    if (body) {
        static const uint8_t snap[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
        ef_put(f, snap, 8);
        ef_inner4(f);
    }
}

#define DATA 0x08u
#define QOS_DATA 0x88u
#define NULL_DATA 0x48u
#define BEACON 0x80u

static tu_result_t *
decode(const ef_t *f)
{
    return tu_decode(NS_LINKTYPE_IEEE802_11, f->b, f->n);
}

START_TEST(data_through_snap_to_ip)
{
    /* DS bits -> (source, destination), IEEE 802.11-2020 table 9-30 */
    static const struct {
        uint8_t flags;
        const uint8_t *sa, *da;
    } cases[] = {
        {0x00, A2, A1}, {0x01, A2, A3}, {0x02, A3, A1}, {0x03, A4, A3}};
    for (size_t i = 0; i < 4; i++) {
        ef_t f = {.n = 0};
        wlan(&f, QOS_DATA, cases[i].flags, true);
        tu_result_t *r = decode(&f);
        ck_assert_int_eq(r->rc, NS_PARSE_OK);
        ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_WLAN));
        ef_assert_inner4(&r->pkt);
        ck_assert_mem_eq(r->pkt.eth_src, cases[i].sa, 6);
        ck_assert_mem_eq(r->pkt.eth_dst, cases[i].da, 6);
        ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
        ck_assert_uint_eq(tu_uint(r, "wlan.fc.type_subtype"), 0x28);
        ck_assert_uint_eq(tu_uint(r, "wlan.seq"), 18);
        tu_free(r);
    }
    /* plain data, and QoS data with +HTC (4 more bytes of header) */
    ef_t f = {.n = 0};
    wlan(&f, DATA, 0x01, true);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);
    f.n = 0;
    wlan(&f, QOS_DATA, 0x81, true);
    r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);
}
END_TEST

START_TEST(null_and_management_named_only)
{
    ef_t f = {.n = 0};
    wlan(&f, NULL_DATA, 0x11, false);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    ck_assert_uint_eq(tu_uint(r, "wlan.fc.type_subtype"), 0x24);
    tu_free(r);
    f.n = 0;
    wlan(&f, BEACON, 0, false);
    uint8_t beacon_body[12] = {0};
    ef_put(&f, beacon_body, sizeof(beacon_body));
    r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    ck_assert_uint_eq(tu_uint(r, "wlan.fc.type_subtype"), 0x08);
    ck_assert_ptr_null(tu_field(r, "llc", 0));
    tu_free(r);
    /* a control frame (ACK, 10 bytes) */
    static const uint8_t ack[10] = {0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 1};
    r = tu_decode(NS_LINKTYPE_IEEE802_11, ack, sizeof(ack));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tu_uint(r, "wlan.fc.type_subtype"), 0x1d);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f = {.n = 0};
    wlan(&f, QOS_DATA, 0x83, true);
    ef_sweep(NS_LINKTYPE_IEEE802_11, &f, 1, f.n - 4);
    tu_result_t *r = tu_decode(NS_LINKTYPE_IEEE802_11, f.b, 20);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_WLAN);
    tu_free(r);
}
END_TEST

START_TEST(protected_and_foreign_bodies)
{
    ef_t f = {.n = 0};
    wlan(&f, QOS_DATA, 0x41, true); /* protected */
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_WLAN);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
    f.n = 0;
    wlan(&f, DATA, 0x01, true);
    f.b[24] = 0x42; /* plain LLC (spanning tree), not SNAP */
    r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tu_free(r);
}
END_TEST

START_TEST(bad_version_invalid)
{
    ef_t f = {.n = 0};
    wlan(&f, DATA | 0x01, 0x01, true);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_WLAN);
    tu_free(r);
}
END_TEST

static Suite *
ieee80211_suite(void)
{
    Suite *s = suite_create("ieee80211");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, data_through_snap_to_ip);
    tcase_add_test(tc, null_and_management_named_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, protected_and_foreign_bodies);
    tcase_add_test(tc, bad_version_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ieee80211_suite)

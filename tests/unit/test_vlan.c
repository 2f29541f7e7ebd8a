/* test_vlan.c - unit tests for the 802.1Q / 802.1ad VLAN tag decoder (vlan.c).
 *
 * Payloads are an IPv4 middle fragment or an IPv6 header with No Next Header: both decode OK
 * as a whole without any transport decoder, so the outcome is the VLAN layer's.
 */
#include "testutil.h"
#include "runner.h"

#define MACS 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
/* IPv4, total 28, MF + offset 1480 (hands nothing on), 192.0.2.1 -> 198.51.100.2 */
#define IP4_FRAG                                                                              \
    0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x11, 0x51, 0x9b, 0xc0, 0x00, 0x02, \
        0x01, 0xc6, 0x33, 0x64, 0x02, 0x00, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef
/* IPv6, plen 0, No Next Header, 2001:db8::1 -> 2001:db8::2 */
#define IP6_NONE                                                                              \
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, \
        0, 0, 0, 0, 0, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))

static const uint8_t vlan_one[] = {
    MACS, 0x81, 0x00, /* 802.1Q */
    0xb0, 0x64,       /* PCP 5, DEI 1, VID 100 */
    0x08, 0x00,       /* IPv4 */
    IP4_FRAG,
};

static const uint8_t vlan_qinq[] = {
    MACS, 0x88, 0xa8, /* 802.1ad S-tag */
    0x00, 0x64,       /* VID 100 */
    0x81, 0x00,       /* C-tag */
    0x20, 0xc8,       /* PCP 1, VID 200 */
    0x86, 0xdd,       /* IPv6 */
    IP6_NONE,
};

static const uint8_t vlan_9100[] = {
    MACS, 0x91, 0x00, /* pre-standard QinQ */
    0x0f, 0xff,       /* VID 4095 */
    0x81, 0x00,
    0x00, 0x00,       /* priority tag: VID 0 */
    0x08, 0x00,
    IP4_FRAG,
};

static const uint8_t vlan_six[] = {
    MACS, 0x88, 0xa8,
    0x00, 0x0a, 0x81, 0x00, /* VID 10 */
    0x00, 0x0b, 0x81, 0x00, /* VID 11 */
    0x00, 0x0c, 0x81, 0x00, /* VID 12 */
    0x00, 0x0d, 0x81, 0x00, /* VID 13 */
    0x00, 0x0e, 0x81, 0x00, /* VID 14 */
    0x00, 0x0f, 0x08, 0x00, /* VID 15, IPv4 */
    IP4_FRAG,
};

static const uint8_t vlan_padded[] = {
    MACS, 0x81, 0x00,
    0x00, 0x07, 0x08, 0x00, /* VID 7 */
    IP4_FRAG,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pad */
};

static const uint8_t vlan_llc[] = {
    MACS, 0x81, 0x00,
    0x00, 0x05,             /* VID 5 */
    0x00, 0x26,             /* a length: 802.3 + LLC follows */
    0x42, 0x42, 0x03, 0x00, /* LLC (STP) */
};

/* A frame of `tags` VLAN tags (VIDs 1, 2, ...) then IPv4. Caller frees. */
static uint8_t *
vlan_stack(uint32_t tags, size_t *len)
{
    static const uint8_t macs[] = {MACS};
    static const uint8_t ip[] = {IP4_FRAG};
    *len = sizeof(macs) + 2 + 4u * tags + sizeof(ip);
    uint8_t *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    size_t o = 0;
    memcpy(b, macs, sizeof(macs));
    o += sizeof(macs);
    b[o++] = 0x81;
    b[o++] = 0x00;
    for (uint32_t i = 0; i < tags; i++) {
        uint32_t vid = (i + 1) & 0xfffu;
        b[o++] = (uint8_t)(vid >> 8);
        b[o++] = (uint8_t)vid;
        b[o++] = i + 1 < tags ? 0x81 : 0x08;
        b[o++] = 0x00;
    }
    memcpy(b + o, ip, sizeof(ip));
    return b;
}

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_single_tag)
{
    tu_result_t *r = DECODE(vlan_one);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_VLAN));
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_IPV4));
    ck_assert_uint_eq(r->pkt.vlan_n, 1);
    ck_assert_uint_eq(r->pkt.vlan[0], 100);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    ck_assert_uint_eq(r->pkt.l3_off, 18);
    ck_assert_uint_eq(r->pkt.src.b[0], 192);
    const ns_field_t *node = tu_field(r, "vlan", 0);
    ck_assert_ptr_nonnull(node);
    ck_assert_uint_eq(node->off, 14);
    ck_assert_uint_eq(node->len, 4);
    ck_assert_uint_eq(tu_uint(r, "vlan.priority"), 5);
    ck_assert_uint_eq(tu_uint(r, "vlan.dei"), 1);
    ck_assert_uint_eq(tu_uint(r, "vlan.id"), 100);
    ck_assert_uint_eq(tu_uint(r, "vlan.etype"), 0x0800);
    tu_free(r);
}
END_TEST

START_TEST(test_qinq)
{
    tu_result_t *r = DECODE(vlan_qinq);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan_n, 2);
    ck_assert_uint_eq(r->pkt.vlan[0], 100); /* outermost first */
    ck_assert_uint_eq(r->pkt.vlan[1], 200);
    ck_assert_uint_eq(r->pkt.ethertype, 0x86dd);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.l3_off, 22);
    ck_assert_uint_eq(tu_field(r, "vlan.id", 0)->u, 100);
    ck_assert_uint_eq(tu_field(r, "vlan.id", 1)->u, 200);
    ck_assert_uint_eq(tu_field(r, "vlan.priority", 1)->u, 1);
    ck_assert_uint_eq(tu_field(r, "vlan.etype", 0)->u, 0x8100);
    tu_free(r);

    r = DECODE(vlan_9100);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan_n, 2);
    ck_assert_uint_eq(r->pkt.vlan[0], 4095);
    ck_assert_uint_eq(r->pkt.vlan[1], 0);
    tu_free(r);
}
END_TEST

START_TEST(test_more_tags_than_kept)
{
    tu_result_t *r = DECODE(vlan_six);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan_n, 6); /* counts all ... */
    for (uint32_t i = 0; i < NS_MAX_VLAN; i++) /* ... keeps the outermost NS_MAX_VLAN */
        ck_assert_uint_eq(r->pkt.vlan[i], 10 + i);
    ck_assert_uint_eq(tu_field(r, "vlan.id", 5)->u, 15); /* the tree has them all */
    ck_assert_uint_eq(r->pkt.l3_off, 14 + 24);
    tu_free(r);
}
END_TEST

START_TEST(test_padding_trimmed)
{
    tu_result_t *r = DECODE(vlan_padded);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan[0], 7);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(r->pkt.payload_cap, 8);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, vlan_one, sizeof(vlan_one), 18 + 20);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, vlan_qinq, sizeof(vlan_qinq), 22 + 40);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, vlan_six, sizeof(vlan_six), 38 + 20);
}
END_TEST

START_TEST(test_truncated_tag)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, vlan_qinq, 14 + 4 + 3);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VLAN);
    ck_assert_uint_eq(r->pkt.vlan_n, 1); /* the whole outer tag still counts */
    ck_assert_uint_eq(r->pkt.vlan[0], 100);
    tu_free(r);
}
END_TEST

/* ---- unsupported ------------------------------------------------------------------------- */

START_TEST(test_llc_inside_tag)
{
    tu_result_t *r = DECODE(vlan_llc);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VLAN);
    ck_assert_uint_eq(r->pkt.vlan[0], 5);
    ck_assert_uint_eq(tu_uint(r, "vlan.len"), 0x26);
    ck_assert_ptr_null(tu_field(r, "vlan.etype", 0));
    tu_free(r);
}
END_TEST

START_TEST(test_deep_stack_stops_at_cap)
{
    static const uint32_t depths[] = {40, 1000};
    for (size_t k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
        size_t len;
        uint8_t *b = vlan_stack(depths[k], &len);
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, b, len);
        ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED); /* the encapsulation cap */
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VLAN);
        ck_assert_uint_eq(r->pkt.vlan_n, NS_MAX_ENCAP);
        for (uint32_t i = 0; i < NS_MAX_VLAN; i++)
            ck_assert_uint_eq(r->pkt.vlan[i], i + 1);
        ck_assert_uint_eq(r->pkt.ip_ver, 0);
        tu_free(r);
        free(b);
    }

    /* exactly at the cap: still decoded */
    size_t len;
    uint8_t *b = vlan_stack(NS_MAX_ENCAP - 1, &len);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, b, len);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan_n, NS_MAX_ENCAP - 1);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    tu_free(r);
    free(b);
}
END_TEST

static Suite *
vlan_suite(void)
{
    Suite *s = suite_create("vlan");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_single_tag);
    tcase_add_test(tc, test_qinq);
    tcase_add_test(tc, test_more_tags_than_kept);
    tcase_add_test(tc, test_padding_trimmed);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_tag);
    suite_add_tcase(s, tc);

    tc = tcase_create("unsupported");
    tcase_add_test(tc, test_llc_inside_tag);
    tcase_add_test(tc, test_deep_stack_stops_at_cap);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(vlan_suite)

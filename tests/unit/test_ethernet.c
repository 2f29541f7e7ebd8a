/* test_ethernet.c - unit tests for the Ethernet II / 802.3 decoder (ethernet.c) and the frame
 * entry point around it (link type lookup, counters, the fast path matching the tree path).
 *
 * Payloads are an IPv4 middle fragment or an IPv6 header with No Next Header, which decode OK
 * as a whole without any transport decoder.
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

static const uint8_t DST_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t SRC_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))

static const uint8_t eth_ip4[] = {
    MACS,       /* dst 02:00:00:00:00:02, src 02:00:00:00:00:01 */
    0x08, 0x00, /* IPv4 */
    IP4_FRAG,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pad */
    0x00, 0x00, 0x00, 0x00, /* pad */
};

static const uint8_t eth_ip6[] = {
    MACS,
    0x86, 0xdd, /* IPv6 */
    IP6_NONE,
};

static const uint8_t eth_arp[] = {
    MACS,
    0x08, 0x06,             /* ARP: not decoded */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
};

static const uint8_t eth_8023[] = {
    MACS,
    0x00, 0x26,             /* length 38: 802.3 + LLC */
    0x42, 0x42, 0x03, 0x00, 0x00, 0x00,
};

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_ipv4_frame)
{
    tu_result_t *r = DECODE(eth_ip4);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.layers, NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV4));
    ck_assert_mem_eq(r->pkt.eth_dst, DST_MAC, 6);
    ck_assert_mem_eq(r->pkt.eth_src, SRC_MAC, 6);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    ck_assert_uint_eq(r->pkt.wire_len, sizeof(eth_ip4));
    ck_assert_uint_eq(r->pkt.l3_off, 14);
    ck_assert_uint_eq(r->pkt.payload_len, 8); /* the 18 padding bytes are not IP */
    const ns_field_t *eth = tu_field(r, "eth", 0);
    ck_assert_ptr_nonnull(eth);
    ck_assert_uint_eq(eth->off, 0);
    ck_assert_uint_eq(eth->len, 14);
    ck_assert_uint_eq(eth->depth, 0);
    ck_assert_uint_eq(tu_field(r, "eth.dst", 0)->off, 0);
    ck_assert_uint_eq(tu_field(r, "eth.src", 0)->off, 6);
    ck_assert_uint_eq(tu_field(r, "eth.src", 0)->depth, 1);
    ck_assert_uint_eq(tu_uint(r, "eth.type"), 0x0800);
    ck_assert_uint_eq(tu_field(r, "ip", 0)->depth, 0); /* the next layer is a sibling */
    ck_assert_uint_eq(r->f.depth, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_ipv6_frame)
{
    tu_result_t *r = DECODE(eth_ip6);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.layers, NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV6));
    ck_assert_uint_eq(r->pkt.ethertype, 0x86dd);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    tu_free(r);
}
END_TEST

START_TEST(test_counters)
{
    ns_pkt_t pkt;
    ns_decode_stats_t st;
    memset(&pkt, 0, sizeof(pkt));
    memset(&st, 0, sizeof(st));
    uint8_t *copy = malloc(sizeof(eth_ip4));
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, eth_ip4, sizeof(eth_ip4));
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, sizeof(eth_ip4), sizeof(eth_ip4), &pkt,
                          NULL, &st);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, 10, sizeof(eth_ip4), &pkt, NULL, &st);
    ck_assert_uint_eq(st.frames, 2);
    ck_assert_uint_eq(st.rc[NS_LAYER_ETH][NS_PARSE_OK], 1);
    ck_assert_uint_eq(st.rc[NS_LAYER_ETH][NS_PARSE_TRUNCATED], 1);
    ck_assert_uint_eq(st.rc[NS_LAYER_IPV4][NS_PARSE_OK], 1);
    free(copy);
}
END_TEST

START_TEST(test_fast_path_matches_tree)
{
    static const struct {
        const uint8_t *b;
        size_t len;
    } frames[] = {{eth_ip4, sizeof(eth_ip4)}, {eth_ip6, sizeof(eth_ip6)}};
    for (size_t i = 0; i < 2; i++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frames[i].b, frames[i].len);
        ns_pkt_t fast;
        memset(&fast, 0, sizeof(fast));
        ns_parse_rc_t rc = ns_decode_frame(NS_LINKTYPE_ETHERNET, r->f.buf, (uint32_t)frames[i].len,
                                           (uint32_t)frames[i].len, &fast, NULL, NULL);
        ck_assert_int_eq(rc, r->rc);
        ck_assert_mem_eq(&fast, &r->pkt, NS_PKT_HOT_SIZE);
        tu_free(r);
    }
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, eth_ip4, sizeof(eth_ip4), 14 + 20);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, eth_ip6, sizeof(eth_ip6), 14 + 40);
}
END_TEST

START_TEST(test_short_frames)
{
    static const size_t lens[] = {0, 1, 6, 12, 13};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, eth_ip4, lens[i]);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_ETH);
        ck_assert_uint_eq(r->pkt.layers, NS_HAS(NS_LAYER_ETH));
        tu_free(r);
    }
    /* the header alone: Ethernet is OK, the IPv4 layer is what is missing */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, eth_ip4, 14);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_mem_eq(r->pkt.eth_src, SRC_MAC, 6);
    tu_free(r);
}
END_TEST

/* ---- unsupported ------------------------------------------------------------------------- */

START_TEST(test_unknown_ethertype)
{
    tu_result_t *r = DECODE(eth_arp);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_ETH);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0806);
    ck_assert_uint_eq(tu_uint(r, "eth.type"), 0x0806);
    tu_free(r);
}
END_TEST

START_TEST(test_8023_length)
{
    tu_result_t *r = DECODE(eth_8023);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_ETH);
    ck_assert_uint_eq(r->pkt.ethertype, 0);
    ck_assert_uint_eq(tu_uint(r, "eth.len"), 0x26);
    ck_assert_ptr_null(tu_field(r, "eth.type", 0));
    tu_free(r);

    /* 1500 is still a length */
    uint8_t b[sizeof(eth_8023)];
    memcpy(b, eth_8023, sizeof(b));
    b[12] = 0x05;
    b[13] = 0xdc;
    r = tu_decode(NS_LINKTYPE_ETHERNET, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(tu_uint(r, "eth.len"), 1500);
    tu_free(r);
}
END_TEST

START_TEST(test_unknown_linktype)
{
    ck_assert(ns_decode_linktype_supported(NS_LINKTYPE_ETHERNET));
    ck_assert(!ns_decode_linktype_supported(147)); /* LINKTYPE_USER0 */
    tu_result_t *r = tu_decode(147, eth_ip4, sizeof(eth_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_COUNT);
    ck_assert_uint_eq(r->pkt.layers, 0);
    ck_assert_uint_eq(r->f.n, 0);
    tu_free(r);
}
END_TEST

static Suite *
ethernet_suite(void)
{
    Suite *s = suite_create("ethernet");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_ipv4_frame);
    tcase_add_test(tc, test_ipv6_frame);
    tcase_add_test(tc, test_counters);
    tcase_add_test(tc, test_fast_path_matches_tree);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_short_frames);
    suite_add_tcase(s, tc);

    tc = tcase_create("unsupported");
    tcase_add_test(tc, test_unknown_ethertype);
    tcase_add_test(tc, test_8023_length);
    tcase_add_test(tc, test_unknown_linktype);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ethernet_suite)

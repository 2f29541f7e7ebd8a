/* test_link.c - unit tests for the link layers other than Ethernet: Linux cooked v1/v2 (sll.c),
 * BSD loopback DLT_NULL / DLT_LOOP and raw IP (loop.c).
 *
 * Payloads are an IPv4 middle fragment or an IPv6 header with No Next Header, which decode OK
 * as a whole without any transport decoder.
 */
#include "testutil.h"
#include "runner.h"

/* IPv4, total 28, MF + offset 1480 (hands nothing on), 192.0.2.1 -> 198.51.100.2 */
#define IP4_FRAG                                                                              \
    0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x11, 0x51, 0x9b, 0xc0, 0x00, 0x02, \
        0x01, 0xc6, 0x33, 0x64, 0x02, 0x00, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef
/* IPv6, plen 0, No Next Header, 2001:db8::1 -> 2001:db8::2 */
#define IP6_NONE                                                                              \
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, \
        0, 0, 0, 0, 0, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

#define LINKTYPE_DLT_RAW_BSD 12 /* DLT_RAW as some BSDs number it */

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t sll_ip4[] = {
    0x00, 0x00,             /* packet type: to us */
    0x00, 0x01,             /* ARPHRD_ETHER */
    0x00, 0x06,             /* address length 6 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* address, 2 bytes unused */
    0x08, 0x00,             /* IPv4 */
    IP4_FRAG,
};

static const uint8_t sll_out_ip6[] = {
    0x00, 0x04,             /* outgoing */
    0x00, 0x01,
    0x00, 0x06,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x86, 0xdd,             /* IPv6 */
    IP6_NONE,
};

static const uint8_t sll_gre_tun[] = {
    0x00, 0x00,
    0x03, 0x0a,             /* ARPHRD_IPGRE (778) */
    0x00, 0x04,             /* a 4-byte address: the tunnel peer */
    0xc6, 0x33, 0x64, 0x09, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00,
    IP4_FRAG,
};

static const uint8_t sll_llc[] = {
    0x00, 0x01, 0x00, 0x01, 0x00, 0x06,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x04,             /* 802.2 LLC: not an ethertype */
    0x42, 0x42, 0x03, 0x00, 0x00,
};

static const uint8_t sll_can[] = {
    0x00, 0x00, 0x01, 0x18, 0x00, 0x00, /* ARPHRD_CAN (280), no address */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x0c,             /* CAN */
    0x00, 0x00, 0x01, 0x23, 0x08, 0x00, 0x00, 0x00,
};

static const uint8_t sll_netlink[] = {
    0x00, 0x04, 0x03, 0x38, 0x00, 0x00, /* ARPHRD_NETLINK (824) */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00,             /* a netlink family: must not be taken for IPv4 */
    0x14, 0x00, 0x00, 0x00,
};

static const uint8_t sll2_ip6[] = {
    0x86, 0xdd,             /* IPv6 */
    0x00, 0x00,             /* reserved */
    0x00, 0x00, 0x00, 0x03, /* interface index 3 */
    0x00, 0x01,             /* ARPHRD_ETHER */
    0x04,                   /* outgoing */
    0x06,                   /* address length 6 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    IP6_NONE,
};

static const uint8_t sll2_llc[] = {
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x06,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x42, 0x42, 0x03, 0x00,
};

static const uint8_t null_le_ip4[] = {
    0x02, 0x00, 0x00, 0x00, /* AF_INET, little-endian capturer */
    IP4_FRAG,
};

static const uint8_t null_be_ip4[] = {
    0x00, 0x00, 0x00, 0x02, /* AF_INET, big-endian capturer */
    IP4_FRAG,
};

static const uint8_t null_unknown[] = {
    0x07, 0x00, 0x00, 0x00, /* AF_ISO/OSI: not decoded */
    0xfe, 0xfe, 0x03, 0x81,
};

/* ---- sll --------------------------------------------------------------------------------- */

START_TEST(test_sll_ipv4)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_ip4, sizeof(sll_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_SLL));
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_IPV4));
    ck_assert_mem_eq(r->pkt.eth_src, MAC, 6);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    ck_assert_uint_eq(r->pkt.l3_off, 16);
    ck_assert_uint_eq(r->pkt.src.b[0], 192);
    ck_assert_uint_eq(tu_field(r, "sll", 0)->len, 16);
    ck_assert_uint_eq(tu_uint(r, "sll.pkttype"), 0);
    ck_assert_uint_eq(tu_uint(r, "sll.hatype"), 1);
    ck_assert_uint_eq(tu_uint(r, "sll.halen"), 6);
    ck_assert_uint_eq(tu_uint(r, "sll.etype"), 0x0800);
    const ns_field_t *src = tu_field(r, "sll.src.eth", 0);
    ck_assert_ptr_nonnull(src);
    ck_assert_uint_eq(src->off, 6);
    ck_assert_uint_eq(src->type, NS_FT_MAC);
    tu_free(r);

    r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_out_ip6, sizeof(sll_out_ip6));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(tu_uint(r, "sll.pkttype"), 4);
    tu_free(r);
}
END_TEST

START_TEST(test_sll_other_addresses)
{
    static const uint8_t zero[6] = {0};
    tu_result_t *r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_gre_tun, sizeof(sll_gre_tun));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_mem_eq(r->pkt.eth_src, zero, 6); /* not a MAC */
    ck_assert_ptr_null(tu_field(r, "sll.src.eth", 0));
    ck_assert_uint_eq(tu_field(r, "sll.src.ipv4", 0)->type, NS_FT_IPV4);
    tu_free(r);
}
END_TEST

START_TEST(test_sll_not_ethertype)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_llc, sizeof(sll_llc));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_SLL);
    ck_assert_uint_eq(tu_uint(r, "sll.ltype"), 4);
    ck_assert_ptr_null(tu_field(r, "sll.etype", 0));
    tu_free(r);

    r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_can, sizeof(sll_can));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_SLL);
    tu_free(r);

    r = tu_decode(NS_LINKTYPE_LINUX_SLL, sll_netlink, sizeof(sll_netlink));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED); /* the protocol is a netlink family */
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_SLL);
    ck_assert_uint_eq(r->pkt.layers & NS_HAS(NS_LAYER_IPV4), 0);
    tu_free(r);

    r = tu_decode(NS_LINKTYPE_LINUX_SLL2, sll2_llc, sizeof(sll2_llc));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_SLL);
    tu_free(r);
}
END_TEST

START_TEST(test_sll2_ipv6)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_LINUX_SLL2, sll2_ip6, sizeof(sll2_ip6));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_SLL));
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.l3_off, 20);
    ck_assert_uint_eq(r->pkt.ethertype, 0x86dd);
    ck_assert_mem_eq(r->pkt.eth_src, MAC, 6);
    ck_assert_uint_eq(tu_field(r, "sll", 0)->len, 20);
    ck_assert_uint_eq(tu_uint(r, "sll.etype"), 0x86dd);
    ck_assert_uint_eq(tu_uint(r, "sll.ifindex"), 3);
    ck_assert_uint_eq(tu_uint(r, "sll.hatype"), 1);
    ck_assert_uint_eq(tu_uint(r, "sll.pkttype"), 4);
    ck_assert_uint_eq(tu_uint(r, "sll.halen"), 6);
    ck_assert_uint_eq(tu_field(r, "sll.src.eth", 0)->off, 12);
    tu_free(r);
}
END_TEST

/* ---- null / loop ------------------------------------------------------------------------- */

START_TEST(test_null_either_byte_order)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_NULL, null_le_ip4, sizeof(null_le_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_LOOP));
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_uint_eq(r->pkt.l3_off, 4);
    ck_assert_uint_eq(tu_uint(r, "null.family"), 2);
    tu_free(r);

    r = tu_decode(NS_LINKTYPE_NULL, null_be_ip4, sizeof(null_be_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_uint_eq(tu_uint(r, "null.family"), 2);
    tu_free(r);
}
END_TEST

START_TEST(test_null_inet6_families)
{
    /* Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30; in both byte orders */
    static const uint8_t families[] = {10, 24, 28, 30};
    static const uint8_t ip6[] = {IP6_NONE};
    uint8_t frame[4 + sizeof(ip6)];
    memcpy(frame + 4, ip6, sizeof(ip6));
    for (size_t i = 0; i < sizeof(families); i++) {
        for (int be = 0; be < 2; be++) {
            memset(frame, 0, 4);
            frame[be ? 3 : 0] = families[i];
            tu_result_t *r = tu_decode(NS_LINKTYPE_NULL, frame, sizeof(frame));
            ck_assert_int_eq(r->rc, NS_PARSE_OK);
            ck_assert_uint_eq(r->pkt.ip_ver, 6);
            ck_assert_uint_eq(r->pkt.ethertype, 0x86dd);
            ck_assert_uint_eq(tu_uint(r, "null.family"), families[i]);
            tu_free(r);
        }
    }
}
END_TEST

START_TEST(test_null_unknown_family)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_NULL, null_unknown, sizeof(null_unknown));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_LOOP);
    ck_assert_uint_eq(tu_uint(r, "null.family"), 7);
    tu_free(r);
}
END_TEST

START_TEST(test_loop_network_order)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_LOOP, null_be_ip4, sizeof(null_be_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    tu_free(r);

    /* DLT_LOOP is always big-endian: a little-endian 2 is family 0x02000000 */
    r = tu_decode(NS_LINKTYPE_LOOP, null_le_ip4, sizeof(null_le_ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_LOOP);
    ck_assert_uint_eq(tu_uint(r, "null.family"), 0x02000000);
    tu_free(r);
}
END_TEST

/* ---- raw --------------------------------------------------------------------------------- */

START_TEST(test_raw_version_nibble)
{
    static const uint8_t ip4[] = {IP4_FRAG};
    static const uint8_t ip6[] = {IP6_NONE};
    static const uint32_t raw_types[] = {NS_LINKTYPE_RAW, LINKTYPE_DLT_RAW_BSD};
    for (size_t i = 0; i < 2; i++) {
        tu_result_t *r = tu_decode(raw_types[i], ip4, sizeof(ip4));
        ck_assert_int_eq(r->rc, NS_PARSE_OK);
        ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_RAW));
        ck_assert_uint_eq(r->pkt.ip_ver, 4);
        ck_assert_uint_eq(r->pkt.l3_off, 0);
        ck_assert_uint_eq(r->pkt.payload_off, 20);
        tu_free(r);

        r = tu_decode(raw_types[i], ip6, sizeof(ip6));
        ck_assert_int_eq(r->rc, NS_PARSE_OK);
        ck_assert_uint_eq(r->pkt.ip_ver, 6);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_raw_linktype_decides)
{
    static const uint8_t ip4[] = {IP4_FRAG};
    static const uint8_t ip6[] = {IP6_NONE};
    tu_result_t *r = tu_decode(NS_LINKTYPE_IPV4, ip4, sizeof(ip4));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    tu_free(r);
    r = tu_decode(NS_LINKTYPE_IPV6, ip6, sizeof(ip6));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    tu_free(r);

    /* LINKTYPE_IPV4 carrying an IPv6 packet: the IPv4 decoder rejects it */
    r = tu_decode(NS_LINKTYPE_IPV4, ip6, sizeof(ip6));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    tu_free(r);
}
END_TEST

START_TEST(test_raw_bad_nibble)
{
    static const uint8_t v5[] = {0x50, 0x00, 0x00, 0x14};
    tu_result_t *r = tu_decode(NS_LINKTYPE_RAW, v5, sizeof(v5));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_RAW);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    static const uint8_t ip4[] = {IP4_FRAG};
    tu_truncation_sweep(NS_LINKTYPE_LINUX_SLL, sll_ip4, sizeof(sll_ip4), 16 + 20);
    tu_truncation_sweep(NS_LINKTYPE_LINUX_SLL, sll_out_ip6, sizeof(sll_out_ip6), 16 + 40);
    tu_truncation_sweep(NS_LINKTYPE_LINUX_SLL2, sll2_ip6, sizeof(sll2_ip6), 20 + 40);
    tu_truncation_sweep(NS_LINKTYPE_NULL, null_le_ip4, sizeof(null_le_ip4), 4 + 20);
    tu_truncation_sweep(NS_LINKTYPE_LOOP, null_be_ip4, sizeof(null_be_ip4), 4 + 20);
    tu_truncation_sweep(NS_LINKTYPE_RAW, ip4, sizeof(ip4), 20);
}
END_TEST

START_TEST(test_truncated_link_headers)
{
    static const struct {
        uint32_t linktype;
        const uint8_t *bytes;
        size_t len;
        ns_layer_t layer;
    } cases[] = {
        {NS_LINKTYPE_LINUX_SLL, sll_ip4, 15, NS_LAYER_SLL},
        {NS_LINKTYPE_LINUX_SLL2, sll2_ip6, 19, NS_LAYER_SLL},
        {NS_LINKTYPE_NULL, null_le_ip4, 3, NS_LAYER_LOOP},
        {NS_LINKTYPE_LOOP, null_be_ip4, 0, NS_LAYER_LOOP},
        {NS_LINKTYPE_RAW, null_le_ip4 + 4, 0, NS_LAYER_RAW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_result_t *r = tu_decode(cases[i].linktype, cases[i].bytes, cases[i].len);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        ck_assert_int_eq(r->pkt.err_layer, cases[i].layer);
        tu_free(r);
    }
}
END_TEST

static Suite *
link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_sll_ipv4);
    tcase_add_test(tc, test_sll_other_addresses);
    tcase_add_test(tc, test_sll2_ipv6);
    tcase_add_test(tc, test_null_either_byte_order);
    tcase_add_test(tc, test_null_inet6_families);
    tcase_add_test(tc, test_loop_network_order);
    tcase_add_test(tc, test_raw_version_nibble);
    tcase_add_test(tc, test_raw_linktype_decides);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_link_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("unsupported");
    tcase_add_test(tc, test_sll_not_ethertype);
    tcase_add_test(tc, test_null_unknown_family);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_raw_bad_nibble);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(link_suite)

/* test_mpls.c - unit tests for the MPLS label stack decoder (mpls.c).
 *
 * Label stack entries are written as 4 bytes: label (20 bits), EXP/TC (3), S (1), TTL (8).
 * Payloads are an IPv4 middle fragment or an IPv6 header with No Next Header, which decode OK
 * as a whole without any transport decoder.
 */
#include "testutil.h"
#include "runner.h"

#define ETH_MPLS 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x47
/* IPv4, total 28, MF + offset 1480 (hands nothing on), 192.0.2.1 -> 198.51.100.2 */
#define IP4_FRAG                                                                              \
    0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x11, 0x51, 0x9b, 0xc0, 0x00, 0x02, \
        0x01, 0xc6, 0x33, 0x64, 0x02, 0x00, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef
/* IPv6, plen 0, No Next Header, 2001:db8::1 -> 2001:db8::2 */
#define IP6_NONE                                                                              \
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, \
        0, 0, 0, 0, 0, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
#define LSE(label, exp, s, ttl)                                                               \
    (uint8_t)((label) >> 12), (uint8_t)((label) >> 4),                                        \
        (uint8_t)((((label) & 0xf) << 4) | ((exp) << 1) | (s)), (uint8_t)(ttl)

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))

static const uint8_t mpls_one[] = {
    ETH_MPLS,
    LSE(16, 0, 1, 64), /* label 16, bottom */
    IP4_FRAG,
};

static const uint8_t mpls_three[] = {
    ETH_MPLS,
    LSE(1000, 5, 0, 255), /* transport label, TC 5 */
    LSE(2000, 0, 0, 64),  /* service label */
    LSE(3000, 0, 1, 63),  /* bottom */
    IP6_NONE,
};

static const uint8_t mpls_six[] = {
    ETH_MPLS,
    LSE(17, 0, 0, 64), LSE(18, 0, 0, 64), LSE(19, 0, 0, 64),
    LSE(20, 0, 0, 64), LSE(21, 0, 0, 64), LSE(22, 0, 1, 64),
    IP4_FRAG,
};

static const uint8_t mpls_null4[] = {
    ETH_MPLS,
    LSE(0, 0, 1, 64), /* IPv4 explicit null */
    IP4_FRAG,
};

static const uint8_t mpls_null6[] = {
    ETH_MPLS,
    LSE(2, 0, 1, 64), /* IPv6 explicit null */
    IP6_NONE,
};

static const uint8_t mpls_null4_v6[] = {
    ETH_MPLS,
    LSE(0, 0, 1, 64), /* IPv4 explicit null, but an IPv6 header follows */
    IP6_NONE,
};

static const uint8_t mpls_pw[] = {
    ETH_MPLS,
    LSE(100, 0, 0, 64),
    LSE(299, 0, 1, 64),     /* pseudowire label */
    0x00, 0x00, 0x00, 0x01, /* control word (first nibble 0) */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, /* Ethernet */
    IP4_FRAG,
};

static const uint8_t mpls_multicast[] = {
    0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x48,
    LSE(500, 0, 1, 64),
    IP4_FRAG,
};

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_one_label)
{
    tu_result_t *r = DECODE(mpls_one);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_MPLS));
    ck_assert_uint_eq(r->pkt.mpls_n, 1);
    ck_assert_uint_eq(r->pkt.mpls[0], 16);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_uint_eq(r->pkt.l3_off, 18);
    const ns_field_t *node = tu_field(r, "mpls", 0);
    ck_assert_ptr_nonnull(node);
    ck_assert_uint_eq(node->off, 14);
    ck_assert_uint_eq(node->len, 4);
    ck_assert_uint_eq(tu_uint(r, "mpls.label"), 16);
    ck_assert_uint_eq(tu_uint(r, "mpls.bottom"), 1);
    ck_assert_uint_eq(tu_uint(r, "mpls.ttl"), 64);
    tu_free(r);

    r = DECODE(mpls_multicast);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.mpls[0], 500);
    tu_free(r);
}
END_TEST

START_TEST(test_label_stack)
{
    tu_result_t *r = DECODE(mpls_three);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.mpls_n, 3);
    ck_assert_uint_eq(r->pkt.mpls[0], 1000);
    ck_assert_uint_eq(r->pkt.mpls[1], 2000);
    ck_assert_uint_eq(r->pkt.mpls[2], 3000);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.ethertype, 0x86dd);
    ck_assert_uint_eq(r->pkt.l3_off, 14 + 12);
    ck_assert_uint_eq(tu_field(r, "mpls.exp", 0)->u, 5);
    ck_assert_uint_eq(tu_field(r, "mpls.ttl", 0)->u, 255);
    ck_assert_uint_eq(tu_field(r, "mpls.bottom", 1)->u, 0);
    ck_assert_uint_eq(tu_field(r, "mpls.label", 2)->u, 3000);
    ck_assert_uint_eq(tu_field(r, "mpls.bottom", 2)->u, 1);
    ck_assert_uint_eq(tu_field(r, "mpls", 2)->off, 22);
    tu_free(r);
}
END_TEST

START_TEST(test_more_labels_than_kept)
{
    tu_result_t *r = DECODE(mpls_six);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.mpls_n, 6);
    for (uint32_t i = 0; i < NS_MAX_MPLS; i++)
        ck_assert_uint_eq(r->pkt.mpls[i], 17 + i);
    ck_assert_uint_eq(tu_field(r, "mpls.label", 5)->u, 22);
    ck_assert_uint_eq(r->pkt.l3_off, 14 + 24);
    tu_free(r);
}
END_TEST

START_TEST(test_explicit_null)
{
    tu_result_t *r = DECODE(mpls_null4);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    tu_free(r);

    r = DECODE(mpls_null6);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    tu_free(r);

    /* the label, not the nibble, decides: the IPv4 decoder rejects the IPv6 header */
    r = DECODE(mpls_null4_v6);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, mpls_one, sizeof(mpls_one), 18 + 20);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, mpls_three, sizeof(mpls_three), 26 + 40);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, mpls_pw, sizeof(mpls_pw), 14 + 8 + 4 + 14 + 20);
}
END_TEST

START_TEST(test_truncated_stack)
{
    /* cut inside the second label */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, mpls_three, 14 + 6);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    ck_assert_uint_eq(r->pkt.mpls_n, 1);
    tu_free(r);

    /* the stack is whole, but nothing shows what it carries */
    r = tu_decode(NS_LINKTYPE_ETHERNET, mpls_three, 14 + 12);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    ck_assert_uint_eq(r->pkt.mpls_n, 3);
    tu_free(r);
}
END_TEST

/* ---- unsupported ------------------------------------------------------------------------- */

START_TEST(test_pseudowire_control_word)
{
    /* RFC 4385 control word, then the Ethernet pseudowire's frame (RFC 4448) */
    static const uint8_t inner_mac[6] = {2, 0, 0, 0, 0, 3};
    tu_result_t *r = DECODE(mpls_pw);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.mpls_n, 2);
    ck_assert_uint_eq(r->pkt.mpls[1], 299);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_uint_eq(r->pkt.l3_off, 14 + 8 + 4 + 14);
    ck_assert_mem_eq(r->pkt.eth_src, inner_mac, 6);
    ck_assert_uint_eq(tu_uint(r, "pwethcw.sequence_number"), 1);
    tu_free(r);
    /* a fragmented pseudowire payload (FRG set) is not reassembled */
    uint8_t frag[sizeof(mpls_pw)];
    memcpy(frag, mpls_pw, sizeof(frag));
    frag[14 + 8 + 1] = 0x40;
    r = DECODE(frag);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
    /* a G-ACh header (first nibble 1) stays undecoded */
    memcpy(frag, mpls_pw, sizeof(frag));
    frag[14 + 8] = 0x10;
    r = DECODE(frag);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tu_free(r);
}
END_TEST

START_TEST(test_stack_without_bottom)
{
    /* 40 labels, none marked bottom-of-stack: walked to the bound, not to the end */
    static const uint8_t eth[] = {ETH_MPLS};
    size_t len = sizeof(eth) + 40 * 4 + 28;
    uint8_t *b = calloc(1, len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, eth, sizeof(eth));
    for (size_t i = 0; i < 40; i++) {
        b[sizeof(eth) + 4 * i + 1] = 0x10; /* label 256 */
        b[sizeof(eth) + 4 * i + 3] = 64;
    }
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, b, len);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    ck_assert_uint_eq(r->pkt.mpls_n, 32);
    ck_assert_uint_eq(r->pkt.mpls[0], 256);
    tu_free(r);

    /* a short stack without bottom runs into the end of the capture */
    r = tu_decode(NS_LINKTYPE_ETHERNET, b, sizeof(eth) + 3 * 4);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    tu_free(r);
    free(b);
}
END_TEST

static Suite *
mpls_suite(void)
{
    Suite *s = suite_create("mpls");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_one_label);
    tcase_add_test(tc, test_label_stack);
    tcase_add_test(tc, test_more_labels_than_kept);
    tcase_add_test(tc, test_explicit_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_stack);
    suite_add_tcase(s, tc);

    tc = tcase_create("unsupported");
    tcase_add_test(tc, test_pseudowire_control_word);
    tcase_add_test(tc, test_stack_without_bottom);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(mpls_suite)

/* test_geneve.c - Geneve (geneve.c): Ethernet and IP inside, options walked and bounded,
 * truncation, bad versions and option lengths. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

#define GENEVE_PORT 6081

/* Geneve with `opts` bytes of options (already in the right shape) and protocol `proto`. */
static void
geneve(ef_t *f, uint8_t ver, const uint8_t *opts, uint8_t opt_len, uint16_t proto)
{
    size_t ip, udp;
    ef_outer_udp(f, GENEVE_PORT, &ip, &udp);
    ef_u8(f, (uint8_t)(ver << 6 | opt_len / 4));
    ef_u8(f, 0x40); /* C: critical options present */
    ef_be16(f, proto);
    ef_be32(f, 0x00abcd00); /* VNI 0xabcd */
    if (opt_len)
        ef_put(f, opts, opt_len);
    if (proto == 0x6558)
        ef_inner_eth4(f);
    else
        ef_inner4(f);
    ef_close_udp(f, ip, udp);
}

/* Two options: class 0x0103 type 0x80 with 4 bytes of data, class 0xffff type 1 without. */
static const uint8_t OPTS[12] = {0x01, 0x03, 0x80, 0x01, 1, 2, 3, 4, 0xff, 0xff, 0x01, 0x00};

START_TEST(ethernet_inside_with_options)
{
    ef_t f;
    geneve(&f, 0, OPTS, sizeof(OPTS), 0x6558);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_GENEVE));
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.encap, 1);
    ck_assert_uint_eq(tu_uint(r, "geneve.vni"), 0xabcd);
    ck_assert_uint_eq(tu_uint(r, "geneve.options_length"), 12);
    ck_assert_uint_eq(tu_uint(r, "geneve.flags.critical"), 1);
    ck_assert_uint_eq(tu_field(r, "geneve.option.class", 0)->u, 0x0103);
    ck_assert_uint_eq(tu_field(r, "geneve.option.length", 0)->u, 4);
    ck_assert_uint_eq(tu_field(r, "geneve.option.class", 1)->u, 0xffff);
    ck_assert_ptr_null(tu_field(r, "geneve.option.class", 2));
    static const uint8_t inner_mac[6] = {2, 0, 0, 0, 0, 3};
    ck_assert_mem_eq(r->pkt.eth_src, inner_mac, 6);
    tu_free(r);
}
END_TEST

START_TEST(ip_inside_by_ethertype)
{
    ef_t f;
    geneve(&f, 0, NULL, 0, 0x0800);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    ef_t f;
    geneve(&f, 0, OPTS, sizeof(OPTS), 0x6558);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 43, f.n - 4);
    /* cut inside the options: truncated, at the Geneve layer */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 42 + 8 + 6);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_GENEVE);
    tu_free(r);
}
END_TEST

START_TEST(other_version_unsupported)
{
    ef_t f;
    geneve(&f, 1, NULL, 0, 0x0800);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_GENEVE);
    ck_assert_uint_eq(r->pkt.sport, 49152); /* the outer packet stays the summary's */
    tu_free(r);
}
END_TEST

START_TEST(option_overruns_block_invalid)
{
    /* an option claiming 8 bytes of data in a 4-byte option block */
    static const uint8_t bad[4] = {0x01, 0x03, 0x80, 0x02};
    ef_t f;
    geneve(&f, 0, bad, sizeof(bad), 0x0800);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_GENEVE);
    tu_free(r);
    /* an option block longer than the datagram */
    geneve(&f, 0, NULL, 0, 0x0800);
    f.b[42] = 0x3f; /* 252 bytes of options */
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tu_free(r);
}
END_TEST

static Suite *
geneve_suite(void)
{
    Suite *s = suite_create("geneve");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, ethernet_inside_with_options);
    tcase_add_test(tc, ip_inside_by_ethertype);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, other_version_unsupported);
    tcase_add_test(tc, option_overruns_block_invalid);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(geneve_suite)

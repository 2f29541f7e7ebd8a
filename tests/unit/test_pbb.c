/* test_pbb.c - provider and data-centre Ethernet encapsulations: 802.1ah PBB (pbb.c) behind a
 * B-TAG, Cisco FabricPath (fabricpath.c), and the stacks the dispatcher builds from existing
 * decoders: MPLS inside VLAN tags, PPPoE over QinQ. Valid, truncated, and cut headers. */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

static const uint8_t CUST_SRC[6] = {2, 0, 0, 0, 0, 3};

/* B-DA, B-SA, B-TAG (0x88a8, VLAN 20), I-TAG (0x88e7, I-SID 0x123456), then the customer's
 * Ethernet frame carrying ef_inner4(). */
static void
pbb(ef_t *f)
{
    f->n = 0;
    ef_eth(f, 0x88a8);
    ef_be16(f, 20);
    ef_be16(f, 0x88e7);
    ef_be32(f, 0x60123456u); /* PCP 3, I-SID 0x123456 */
    ef_inner_eth4(f);
}

START_TEST(pbb_customer_frame)
{
    ef_t f;
    pbb(&f);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_mem_eq(r->pkt.eth_src, CUST_SRC, 6);
    ck_assert_uint_eq(r->pkt.vlan_n, 1);
    ck_assert_uint_eq(r->pkt.vlan[0], 20);
    ck_assert_uint_eq(tu_uint(r, "ieee8021ah.isid"), 0x123456);
    ck_assert_uint_eq(tu_uint(r, "ieee8021ah.priority"), 3);
    tu_free(r);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 1, f.n - 4);
}
END_TEST

START_TEST(fabricpath_host_frame)
{
    ef_t f = {.n = 0};
    ef_eth(&f, 0x8903);
    ef_be16(&f, (uint16_t)(5u << 6 | 32u)); /* FTag 5, TTL 32 */
    ef_inner_eth4(&f);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_mem_eq(r->pkt.eth_src, CUST_SRC, 6);
    ck_assert_uint_eq(tu_uint(r, "cfp.ftag"), 5);
    ck_assert_uint_eq(tu_uint(r, "cfp.ttl"), 32);
    tu_free(r);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 1, f.n - 4);
    r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, 15);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_ETH);
    tu_free(r);
}
END_TEST

START_TEST(mpls_inside_vlan)
{
    ef_t f = {.n = 0};
    ef_eth(&f, 0x8100);
    ef_be16(&f, 100);
    ef_be16(&f, 0x8847);
    ef_be32(&f, 16u << 12 | 0x100u | 64u);
    ef_inner4(&f);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.vlan[0], 100);
    ck_assert_uint_eq(r->pkt.mpls_n, 1);
    ck_assert_uint_eq(r->pkt.mpls[0], 16);
    tu_free(r);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 1, f.n - 4);
}
END_TEST

START_TEST(pppoe_over_qinq)
{
    ef_t f = {.n = 0};
    ef_eth(&f, 0x88a8);
    ef_be16(&f, 300);
    ef_be16(&f, 0x8100);
    ef_be16(&f, 42);
    ef_be16(&f, 0x8864);
    ef_be16(&f, 0x1100); /* PPPoE v1 type 1, session data */
    ef_be16(&f, 0x0001); /* session id */
    ef_be16(&f, 2 + 32); /* length: PPP protocol + the packet */
    ef_be16(&f, 0x0021); /* PPP: IPv4 */
    ef_inner4(&f);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.vlan_n, 2);
    ck_assert_uint_eq(r->pkt.vlan[0], 300);
    ck_assert_uint_eq(r->pkt.vlan[1], 42);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_PPP));
    tu_free(r);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, 1, f.n - 4);
}
END_TEST

static Suite *
pbb_suite(void)
{
    Suite *s = suite_create("pbb");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, pbb_customer_frame);
    tcase_add_test(tc, fabricpath_host_frame);
    tcase_add_test(tc, mpls_inside_vlan);
    tcase_add_test(tc, pppoe_over_qinq);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(pbb_suite)

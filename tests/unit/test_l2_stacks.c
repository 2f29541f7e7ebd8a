/* test_l2_stacks.c - layer-2 stacks that take several decoders in turn (vlan.c, mpls.c,
 * ppp.c through dispatch.c): MPLS inside a VLAN tag and inside QinQ, with an RFC 4385
 * pseudowire control word and the Ethernet frame it carries, and PPPoE sessions over QinQ.
 * Frames are built by encapframe.h; the innermost packet is 192.0.2.1:1234 -> 198.51.100.2:5678
 * UDP "ping", which decodes OK as a whole.
 */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

/* An 802.1Q/802.1ad tag: TCI with VLAN `vid` (PCP 0), then the ethertype that follows. */
static void
tag(ef_t *f, uint16_t vid, uint16_t next)
{
    ef_be16(f, vid);
    ef_be16(f, next);
}

/* One MPLS label stack entry: label, TC 0, bottom-of-stack `s`, TTL 64. */
static void
lse(ef_t *f, uint32_t label, int s)
{
    ef_be32(f, label << 12 | (uint32_t)(s ? 0x100u : 0u) | 64u);
}

#define QINQ_OFF 14u   /* the outer (S-) tag */
#define MPLS_OFF 22u   /* after Ethernet and two tags */
#define CW_OFF 30u     /* after two labels */
#define PW_ETH_OFF 34u /* the pseudowire's Ethernet frame */

/* Ethernet, S-tag 100 (0x88a8), C-tag 200, MPLS 1000 / 299 (bottom), control word with
 * sequence number 7, then the Ethernet pseudowire's frame with ef_inner4(). */
static void
mpls_qinq_cw(ef_t *f)
{
    f->n = 0;
    ef_eth(f, 0x88a8);
    tag(f, 100, 0x8100);
    tag(f, 200, 0x8847);
    lse(f, 1000, 0);
    lse(f, 299, 1);
    ef_be32(f, 7); /* control word: flags 0, FRG 0, length 0, sequence 7 */
    ef_inner_eth4(f);
}

/* Ethernet, one 802.1Q tag 300, MPLS 16 (bottom), IPv4 straight after the stack. */
static void
mpls_vlan_ip(ef_t *f)
{
    f->n = 0;
    ef_eth(f, 0x8100);
    tag(f, 300, 0x8847);
    lse(f, 16, 1);
    ef_inner4(f);
}

#define PPPOE_OFF 22u /* after Ethernet and two tags */

/* Ethernet, S-tag 10, C-tag 20, PPPoE session 0x1234, PPP IPv4 (0x0021), ef_inner4(). */
static void
pppoe_qinq(ef_t *f)
{
    f->n = 0;
    ef_eth(f, 0x88a8);
    tag(f, 10, 0x8100);
    tag(f, 20, 0x8864);
    ef_u8(f, 0x11); /* version 1, type 1 */
    ef_u8(f, 0x00); /* session data */
    ef_be16(f, 0x1234);
    size_t len_at = f->n;
    ef_be16(f, 0);
    ef_be16(f, 0x0021);
    ef_inner4(f);
    ef_set16(f, len_at, (uint16_t)(f->n - len_at - 2));
}

static tu_result_t *
decode(const ef_t *f)
{
    return tu_decode(NS_LINKTYPE_ETHERNET, f->b, f->n);
}

static void
assert_tags(const ns_pkt_t *p, uint16_t outer, uint16_t inner)
{
    ck_assert_uint_eq(p->vlan_n, 2);
    ck_assert_uint_eq(p->vlan[0], outer);
    ck_assert_uint_eq(p->vlan[1], inner);
    ck_assert(p->layers & NS_HAS(NS_LAYER_VLAN));
}

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(mpls_in_qinq_with_control_word)
{
    ef_t f;
    mpls_qinq_cw(&f);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    assert_tags(&r->pkt, 100, 200);
    ck_assert_uint_eq(r->pkt.mpls_n, 2);
    ck_assert_uint_eq(r->pkt.mpls[0], 1000);
    ck_assert_uint_eq(r->pkt.mpls[1], 299);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_MPLS));
    ck_assert_uint_eq(tu_uint(r, "pwethcw.sequence_number"), 7);
    ck_assert_uint_eq(tu_field(r, "pwach", 0)->off, CW_OFF);
    static const uint8_t inner_mac[6] = {2, 0, 0, 0, 0, 3};
    ck_assert_mem_eq(r->pkt.eth_src, inner_mac, 6);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.l3_off, PW_ETH_OFF + 14);
    /* the tags are the ones outside the pseudowire; the inner frame has none */
    ck_assert_uint_eq(tu_field(r, "vlan.id", 0)->u, 100);
    ck_assert_uint_eq(tu_field(r, "vlan.id", 1)->u, 200);
    ck_assert_ptr_null(tu_field(r, "vlan.id", 2));
    tu_free(r);
}
END_TEST

START_TEST(mpls_in_vlan_ip_after_stack)
{
    ef_t f;
    mpls_vlan_ip(&f);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.vlan_n, 1);
    ck_assert_uint_eq(r->pkt.vlan[0], 300);
    ck_assert_uint_eq(r->pkt.mpls_n, 1);
    ck_assert_uint_eq(r->pkt.mpls[0], 16);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.l3_off, 14 + 4 + 4);
    ck_assert_ptr_null(tu_field(r, "pwach", 0));
    tu_free(r);
}
END_TEST

START_TEST(pppoe_over_qinq)
{
    ef_t f;
    pppoe_qinq(&f);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    assert_tags(&r->pkt, 10, 20);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_PPP));
    ck_assert_uint_eq(tu_uint(r, "pppoe.session_id"), 0x1234);
    ck_assert_uint_eq(tu_uint(r, "pppoe.payload_length"), 2 + 32);
    ck_assert_uint_eq(tu_uint(r, "ppp.protocol"), 0x0021);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.l3_off, PPPOE_OFF + 8);
    tu_free(r);
}
END_TEST

/* Ethernet padding after a short PPPoE session: the PPPoE length trims it. */
START_TEST(pppoe_over_qinq_padding_trimmed)
{
    ef_t f;
    pppoe_qinq(&f);
    ef_put(&f, "\0\0\0\0\0\0", 6);
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.payload_cap, 4);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

/* Every prefix decodes without an over-read; a prefix cut inside a header is TRUNCATED and
 * names the layer it was cut in. */
static void
assert_cut(const ef_t *f, size_t from, size_t to, ns_layer_t layer)
{
    for (size_t n = from; n < to; n++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f->b, n);
        ck_assert_msg(r->rc == NS_PARSE_TRUNCATED, "prefix %zu: rc %d", n, r->rc);
        ck_assert_msg(r->pkt.err_layer == layer, "prefix %zu: layer %d", n, r->pkt.err_layer);
        tu_free(r);
    }
}

START_TEST(truncated_mpls_in_qinq)
{
    ef_t f;
    mpls_qinq_cw(&f);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, QINQ_OFF, PW_ETH_OFF + 14 + 20 + 8);
    assert_cut(&f, QINQ_OFF, MPLS_OFF, NS_LAYER_VLAN);
    assert_cut(&f, MPLS_OFF, PW_ETH_OFF, NS_LAYER_MPLS); /* the stack, then the control word */
    assert_cut(&f, PW_ETH_OFF, PW_ETH_OFF + 14, NS_LAYER_ETH);
}
END_TEST

START_TEST(truncated_pppoe_over_qinq)
{
    ef_t f;
    pppoe_qinq(&f);
    ef_sweep(NS_LINKTYPE_ETHERNET, &f, QINQ_OFF, PPPOE_OFF + 8 + 20 + 8);
    assert_cut(&f, QINQ_OFF, PPPOE_OFF, NS_LAYER_VLAN);
    assert_cut(&f, PPPOE_OFF, PPPOE_OFF + 8, NS_LAYER_PPP);
    assert_cut(&f, PPPOE_OFF + 8, PPPOE_OFF + 8 + 20, NS_LAYER_IPV4);
}
END_TEST

/* ---- invalid and unsupported ------------------------------------------------------------- */

START_TEST(pppoe_over_qinq_bad_header)
{
    ef_t f;
    pppoe_qinq(&f);
    f.b[PPPOE_OFF] = 0x21; /* version 2 */
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
    assert_tags(&r->pkt, 10, 20);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
    pppoe_qinq(&f);
    ef_set16(&f, PPPOE_OFF + 4, 1); /* a payload too short for the PPP protocol */
    r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
    tu_free(r);
}
END_TEST

START_TEST(control_word_fragment_or_channel)
{
    ef_t f;
    mpls_qinq_cw(&f);
    f.b[CW_OFF + 1] = 0x40; /* FRG: a fragment of the pseudowire payload, not reassembled */
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    assert_tags(&r->pkt, 100, 200);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
    mpls_qinq_cw(&f);
    f.b[CW_OFF] = 0x10; /* first nibble 1: a G-ACh channel header */
    r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_MPLS);
    tu_free(r);
}
END_TEST

/* The pseudowire's inner IPv4 header claims a version it does not have: INVALID there, with
 * the tags and labels outside it kept. */
START_TEST(bad_ip_inside_pseudowire)
{
    ef_t f;
    mpls_qinq_cw(&f);
    f.b[PW_ETH_OFF + 14] = 0x55; /* version 5 */
    tu_result_t *r = decode(&f);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    assert_tags(&r->pkt, 100, 200);
    ck_assert_uint_eq(r->pkt.mpls_n, 2);
    tu_free(r);
}
END_TEST

static Suite *
l2_stacks_suite(void)
{
    Suite *s = suite_create("l2_stacks");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, mpls_in_qinq_with_control_word);
    tcase_add_test(tc, mpls_in_vlan_ip_after_stack);
    tcase_add_test(tc, pppoe_over_qinq);
    tcase_add_test(tc, pppoe_over_qinq_padding_trimmed);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncated_mpls_in_qinq);
    tcase_add_test(tc, truncated_pppoe_over_qinq);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, pppoe_over_qinq_bad_header);
    tcase_add_test(tc, control_word_fragment_or_channel);
    tcase_add_test(tc, bad_ip_inside_pseudowire);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(l2_stacks_suite)

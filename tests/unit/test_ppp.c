/* test_ppp.c - unit tests for the serial-line and PPP framings (ppp.c): PPP (LINKTYPE_PPP),
 * Cisco HDLC (LINKTYPE_C_HDLC, and inside LINKTYPE_PPP captures) and PPPoE sessions.
 *
 * Payloads are 192.0.2.1:1234 -> 198.51.100.2:5678 UDP "ping" over IPv4, or the same over IPv6
 * (2001:db8::1 -> ::2); no application decoder claims port 5678, so a whole frame decodes OK.
 * tshark 4.0 reads every fixture as annotated (protocols, session id, payload length).
 */
#include "testutil.h"
#include "runner.h"

#define PPPOE_OFF 14u /* Ethernet header: where PPPoE starts */

static const uint8_t SRC4[16] = {192, 0, 2, 1};
static const uint8_t DST4[16] = {198, 51, 100, 2};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t ppp_hdlc_ip4[] = {
    0xff, 0x03,                                     /* address 0xff, control 0x03 */
    0x00, 0x21,                                     /* protocol 0x0021: IPv4 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* IPv4 192.0.2.1 -> 198.51.100.2, UDP */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t ppp_ip6[] = {
    0x00, 0x57,                                     /* protocol 0x0057: IPv6 (no address/control) */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, /* IPv6 2001:db8::1 -> ::2, UDP */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t ppp_comp_ip4[] = {
    0xff, 0x03,                                     /* address, control */
    0x21,                                           /* protocol 0x21: IPv4, compressed to 1 byte */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t ppp_lcp[] = {
    0xff, 0x03,                                     /* address, control */
    0xc0, 0x21,                                     /* protocol 0xc021: LCP */
    0x01, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xdc, /* Configure-Request id 1, MRU 1500 */
};

static const uint8_t chdlc_ip4[] = {
    0x0f, 0x00,                                     /* address 0x0f (unicast), control 0 */
    0x08, 0x00,                                     /* type 0x0800: IPv4 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t pppoe_ip4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, PPPoE session */
    0x00, 0x00, 0x00, 0x01, 0x88, 0x64,
    0x11, 0x00, 0x12, 0x34, 0x00, 0x22,             /* v1 t1, code 0, session 0x1234, len 34 */
    0x00, 0x21,                                     /* PPP protocol: IPv4 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* IPv4 192.0.2.1 -> 198.51.100.2, UDP */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* Ethernet padding to 60 bytes */
};

static const uint8_t pppoe_vlan_ip6[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, 802.1Q */
    0x00, 0x00, 0x00, 0x01, 0x81, 0x00,
    0x00, 0x64, 0x88, 0x64,                         /* VLAN 100, PPPoE session */
    0x11, 0x00, 0x00, 0x42, 0x00, 0x36,             /* v1 t1, code 0, session 0x0042, len 54 */
    0x00, 0x57,                                     /* PPP protocol: IPv6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, /* IPv6 2001:db8::1 -> ::2, UDP */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t pppoe_ip4_len0[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, PPPoE session */
    0x00, 0x00, 0x00, 0x01, 0x88, 0x64,
    0x11, 0x00, 0x12, 0x34, 0x00, 0x22,             /* v1 t1, code 0, session 0x1234, len 34 */
    0x00, 0x21,                                     /* PPP protocol: IPv4 */
    0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, /* IPv4, total length 0 (offload) */
    0x40, 0x11, 0x4e, 0xb6, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,             /* 6 bytes after the PPPoE payload */
};

/* Decode `len` bytes of `base` as `linktype` with `n` bytes at `at` replaced by `patch`. */
static tu_result_t *
decode_patched(uint32_t linktype, const uint8_t *base, size_t len, size_t at,
               const uint8_t *patch, size_t n)
{
    uint8_t buf[256];
    ck_assert_uint_le(len, sizeof(buf));
    ck_assert_uint_le(at + n, len);
    memcpy(buf, base, len);
    memcpy(buf + at, patch, n);
    return tu_decode(linktype, buf, len);
}

/* The summary is the UDP packet 1234 -> 5678 with its 4 payload bytes, IPv4 or IPv6. */
static void
assert_udp_inside(const tu_result_t *r, unsigned ip_ver, uint32_t l3_off)
{
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_PPP));
    ck_assert_uint_eq(p->ip_ver, ip_ver);
    if (ip_ver == 4) {
        ck_assert_mem_eq(p->src.b, SRC4, 16);
        ck_assert_mem_eq(p->dst.b, DST4, 16);
        ck_assert_uint_eq(p->ethertype, 0x0800);
    } else {
        ck_assert_mem_eq(p->src.b, SRC6, 16);
        ck_assert_uint_eq(p->ethertype, 0x86dd);
    }
    ck_assert_uint_eq(p->l3_off, l3_off);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->dport, 5678);
    ck_assert_uint_eq(p->payload_len, 4);
    ck_assert_uint_eq(p->payload_cap, 4);
    ck_assert_uint_eq(p->encap, 0);
}

/* ---- valid: PPP and Cisco HDLC ----------------------------------------------------------- */

START_TEST(test_ppp_with_address_control)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_PPP, ppp_hdlc_ip4, sizeof(ppp_hdlc_ip4));
    assert_udp_inside(r, 4, 4);
    const ns_field_t *proto = tu_field(r, "ppp.protocol", 0);
    ck_assert_ptr_nonnull(proto);
    ck_assert_uint_eq(proto->u, 0x0021);
    ck_assert_uint_eq(proto->off, 2); /* the protocol's own bytes, after ff 03 */
    ck_assert_uint_eq(proto->len, 2);
    ck_assert_uint_eq(tu_uint(r, "ppp.address"), 0xff);
    ck_assert_uint_eq(tu_uint(r, "ppp.control"), 0x03);
    ck_assert_uint_eq(tu_field(r, "ppp", 0)->len, 4);
    tu_free(r);

    /* LINKTYPE_PPP_HDLC (50) frames the same way */
    r = tu_decode(NS_LINKTYPE_PPP_HDLC, ppp_hdlc_ip4, sizeof(ppp_hdlc_ip4));
    assert_udp_inside(r, 4, 4);
    tu_free(r);
}
END_TEST

START_TEST(test_ppp_without_address_control)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_PPP, ppp_ip6, sizeof(ppp_ip6));
    assert_udp_inside(r, 6, 2);
    ck_assert_uint_eq(tu_uint(r, "ppp.protocol"), 0x0057);
    ck_assert_ptr_null(tu_field(r, "ppp.address", 0));
    tu_free(r);
}
END_TEST

START_TEST(test_ppp_compressed_protocol)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_PPP, ppp_comp_ip4, sizeof(ppp_comp_ip4));
    assert_udp_inside(r, 4, 3);
    const ns_field_t *proto = tu_field(r, "ppp.protocol", 0);
    ck_assert_ptr_nonnull(proto);
    ck_assert_uint_eq(proto->u, 0x21);
    ck_assert_uint_eq(proto->off, 2);
    ck_assert_uint_eq(proto->len, 1);
    tu_free(r);
}
END_TEST

START_TEST(test_ppp_control_protocol_unsupported)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_PPP, ppp_lcp, sizeof(ppp_lcp));
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
    ck_assert_uint_eq(tu_uint(r, "ppp.protocol"), 0xc021);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_chdlc)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_C_HDLC, chdlc_ip4, sizeof(chdlc_ip4));
    assert_udp_inside(r, 4, 4);
    ck_assert_uint_eq(tu_uint(r, "chdlc.address"), 0x0f);
    ck_assert_uint_eq(tu_uint(r, "chdlc.control"), 0x00);
    ck_assert_uint_eq(tu_uint(r, "chdlc.protocol"), 0x0800);
    ck_assert_ptr_null(tu_field(r, "ppp", 0));
    tu_free(r);

    /* A LINKTYPE_PPP capture holding Cisco HDLC: told apart by the first byte, 0x0f */
    r = tu_decode(NS_LINKTYPE_PPP, chdlc_ip4, sizeof(chdlc_ip4));
    assert_udp_inside(r, 4, 4);
    ck_assert_ptr_nonnull(tu_field(r, "chdlc", 0));
    ck_assert_ptr_null(tu_field(r, "ppp", 0));
    tu_free(r);

    /* ... and its broadcast address 0x8f */
    static const uint8_t bcast[] = {0x8f};
    r = decode_patched(NS_LINKTYPE_PPP, chdlc_ip4, sizeof(chdlc_ip4), 0, bcast, 1);
    assert_udp_inside(r, 4, 4);
    ck_assert_uint_eq(tu_uint(r, "chdlc.address"), 0x8f);
    tu_free(r);
}
END_TEST

/* ---- valid: PPPoE ------------------------------------------------------------------------ */

START_TEST(test_pppoe_ipv4)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4));
    assert_udp_inside(r, 4, PPPOE_OFF + 8);
    ck_assert_uint_eq(tu_uint(r, "pppoe.version"), 1);
    ck_assert_uint_eq(tu_uint(r, "pppoe.type"), 1);
    ck_assert_uint_eq(tu_uint(r, "pppoe.code"), 0);
    ck_assert_uint_eq(tu_uint(r, "pppoe.session_id"), 0x1234);
    ck_assert_uint_eq(tu_uint(r, "pppoe.payload_length"), 34);
    const ns_field_t *proto = tu_field(r, "ppp.protocol", 0);
    ck_assert_ptr_nonnull(proto);
    ck_assert_uint_eq(proto->u, 0x0021);
    ck_assert_uint_eq(proto->off, PPPOE_OFF + 6);
    ck_assert_uint_eq(tu_field(r, "pppoes", 0)->len, 8);
    tu_free(r);
}
END_TEST

START_TEST(test_pppoe_over_vlan_ipv6)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, pppoe_vlan_ip6, sizeof(pppoe_vlan_ip6));
    assert_udp_inside(r, 6, PPPOE_OFF + 4 + 8);
    ck_assert_uint_eq(r->pkt.vlan_n, 1);
    ck_assert_uint_eq(r->pkt.vlan[0], 100);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_VLAN));
    ck_assert_uint_eq(tu_uint(r, "pppoe.session_id"), 0x42);
    ck_assert_uint_eq(tu_uint(r, "pppoe.payload_length"), 54);
    ck_assert_uint_eq(tu_uint(r, "ppp.protocol"), 0x0057);
    tu_free(r);
}
END_TEST

START_TEST(test_pppoe_length_narrows)
{
    /* IPv4 with total length 0 takes its length from what encloses it: the PPPoE payload
     * length (34 - 2 protocol bytes), not the 6 bytes that follow in the frame. */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, pppoe_ip4_len0, sizeof(pppoe_ip4_len0));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_len, 32);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 4);
    tu_free(r);

    /* Ethernet padding after the PPPoE payload is not UDP payload */
    r = tu_decode(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4));
    ck_assert_uint_eq(r->pkt.payload_cap, 4);
    tu_free(r);

    /* a PPPoE length shorter than the IP header it carries: the IP header is cut */
    static const uint8_t len12[] = {0x00, 0x0c};
    r = decode_patched(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4), PPPOE_OFF + 4,
                       len12, 2);
    ck_assert_int_ne(r->rc, NS_PARSE_OK);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    /* OK needs the whole UDP header: the last 4 bytes ("ping", plus padding) are payload. */
    tu_truncation_sweep(NS_LINKTYPE_PPP, ppp_hdlc_ip4, sizeof(ppp_hdlc_ip4),
                        sizeof(ppp_hdlc_ip4) - 4);
    tu_truncation_sweep(NS_LINKTYPE_PPP, ppp_ip6, sizeof(ppp_ip6), sizeof(ppp_ip6) - 4);
    tu_truncation_sweep(NS_LINKTYPE_PPP, ppp_comp_ip4, sizeof(ppp_comp_ip4),
                        sizeof(ppp_comp_ip4) - 4);
    tu_truncation_sweep(NS_LINKTYPE_PPP, ppp_lcp, sizeof(ppp_lcp), sizeof(ppp_lcp));
    tu_truncation_sweep(NS_LINKTYPE_C_HDLC, chdlc_ip4, sizeof(chdlc_ip4), sizeof(chdlc_ip4) - 4);
    tu_truncation_sweep(NS_LINKTYPE_PPP, chdlc_ip4, sizeof(chdlc_ip4), sizeof(chdlc_ip4) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4),
                        sizeof(pppoe_ip4) - 6 - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, pppoe_vlan_ip6, sizeof(pppoe_vlan_ip6),
                        sizeof(pppoe_vlan_ip6) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, pppoe_ip4_len0, sizeof(pppoe_ip4_len0),
                        sizeof(pppoe_ip4_len0) - 6 - 4);
}
END_TEST

START_TEST(test_truncated_headers)
{
    /* cut inside the framing: charged to PPP */
    static const struct {
        uint32_t linktype;
        const uint8_t *frame;
        size_t len;
    } cut[] = {
        {NS_LINKTYPE_PPP, ppp_hdlc_ip4, 3},     /* ff 03 and half the protocol */
        {NS_LINKTYPE_PPP, ppp_ip6, 1},          /* half the protocol */
        {NS_LINKTYPE_PPP, ppp_comp_ip4, 2},     /* ff 03 only */
        {NS_LINKTYPE_C_HDLC, chdlc_ip4, 3},
        {NS_LINKTYPE_PPP, chdlc_ip4, 2},
        {NS_LINKTYPE_ETHERNET, pppoe_ip4, PPPOE_OFF + 5},
        {NS_LINKTYPE_ETHERNET, pppoe_ip4, PPPOE_OFF + 7}, /* PPPoE whole, protocol cut */
    };
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        tu_result_t *r = tu_decode(cut[i].linktype, cut[i].frame, cut[i].len);
        ck_assert_msg(r->rc == NS_PARSE_TRUNCATED, "case %zu: rc %d", i, r->rc);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
        tu_free(r);
    }

    /* framing whole, IP header cut: charged to IP */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, pppoe_ip4, PPPOE_OFF + 8 + 10);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(tu_uint(r, "pppoe.session_id"), 0x1234);
    tu_free(r);
}
END_TEST

/* ---- invalid ----------------------------------------------------------------------------- */

START_TEST(test_pppoe_bad_header)
{
    static const uint8_t ver2[] = {0x21};       /* version 2 */
    static const uint8_t type2[] = {0x12};      /* type 2 */
    static const uint8_t padi[] = {0x11, 0x09}; /* discovery code (PADI) on the session type */
    static const uint8_t len1[] = {0x11, 0x00, 0x12, 0x34, 0x00, 0x01}; /* no room for PPP */
    static const struct {
        const uint8_t *patch;
        size_t n;
    } bad[] = {{ver2, 1}, {type2, 1}, {padi, 2}, {len1, 6}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_result_t *r = decode_patched(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4),
                                        PPPOE_OFF, bad[i].patch, bad[i].n);
        ck_assert_msg(r->rc == NS_PARSE_INVALID, "case %zu: rc %d", i, r->rc);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
        ck_assert_uint_eq(r->pkt.ip_ver, 0);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_chdlc_bad_address)
{
    static const uint8_t addr[] = {0x42};
    tu_result_t *r = decode_patched(NS_LINKTYPE_C_HDLC, chdlc_ip4, sizeof(chdlc_ip4), 0, addr, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_pppoe_unsupported_protocol)
{
    static const uint8_t ipcp[] = {0x80, 0x21};
    tu_result_t *r = decode_patched(NS_LINKTYPE_ETHERNET, pppoe_ip4, sizeof(pppoe_ip4),
                                    PPPOE_OFF + 6, ipcp, 2);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_PPP);
    tu_free(r);
}
END_TEST

static Suite *
ppp_suite(void)
{
    Suite *s = suite_create("ppp");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_ppp_with_address_control);
    tcase_add_test(tc, test_ppp_without_address_control);
    tcase_add_test(tc, test_ppp_compressed_protocol);
    tcase_add_test(tc, test_ppp_control_protocol_unsupported);
    tcase_add_test(tc, test_chdlc);
    tcase_add_test(tc, test_pppoe_ipv4);
    tcase_add_test(tc, test_pppoe_over_vlan_ipv6);
    tcase_add_test(tc, test_pppoe_length_narrows);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_pppoe_bad_header);
    tcase_add_test(tc, test_chdlc_bad_address);
    tcase_add_test(tc, test_pppoe_unsupported_protocol);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ppp_suite)

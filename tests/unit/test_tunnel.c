/* test_tunnel.c - unit tests for the UDP tunnels (tunnel.c): VXLAN and GTP-U.
 *
 * Fixtures are Ethernet frames: IPv4 10.0.0.1 -> 10.0.0.2, UDP to the tunnel's port, the
 * tunnel header, then an inner packet 192.0.2.1:1234 -> 198.51.100.2:5678 (UDP, "ping"; no
 * application decoder claims port 5678, so a whole frame decodes OK). Checksums are right;
 * tshark 4.0 reads every fixture as annotated here (VNI, TEID, extension chain, addresses).
 */
#include "testutil.h"
#include "runner.h"

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))
#define TUN_OFF 42u /* Ethernet + outer IPv4 + outer UDP: where the tunnel header starts */

static const uint8_t OUTER_SRC[16] = {10, 0, 0, 1};
static const uint8_t INNER_SRC[16] = {192, 0, 2, 1};
static const uint8_t INNER_DST[16] = {198, 51, 100, 2};
static const uint8_t INNER6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t vxlan_ip4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x52, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0x99, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0xc0, 0x00, 0x12, 0xb5, 0x00, 0x3e, 0x00, 0x00, /* outer UDP */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39, 0x00, /* VXLAN: flags I, VNI 12345 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, /* inner Ethernet 02:..:03 -> 02:..:04, IPv4 */
    0x00, 0x00, 0x00, 0x03, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 192.0.2.1 -> 198.51.100.2, UDP */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gtpu_min[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x44, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0xa7, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x30, 0x00, 0x00, /* outer UDP */
    0x30, 0xff, 0x00, 0x20, 0x11, 0x22, 0x33, 0x44, /* G-PDU, no optional fields, TEID 0x11223344 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gtpu_seq_ip6[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0x8f, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x48, 0x00, 0x00, /* outer UDP */
    0x32, 0xff, 0x00, 0x38, 0x11, 0x22, 0x33, 0x44, /* GTPv1-U G-PDU, S flag */
    0x01, 0x02, 0x00, 0x00,                         /* seq 0x0102, N-PDU 0, next ext 0 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, /* inner IPv6 2001:db8::1 -> ::2, UDP */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gtpu_ext[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x50, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0x9b, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x3c, 0x00, 0x00, /* outer UDP */
    0x34, 0xff, 0x00, 0x2c, 0x11, 0x22, 0x33, 0x44, /* GTPv1-U G-PDU, E flag */
    0x00, 0x00, 0x00, 0x85,                         /* seq 0, N-PDU 0, next ext 0x85 */
    0x01, 0x10, 0x09, 0x40,                         /* ext 0x85 (PDU session): len 1, next 0x40 */
    0x01, 0x08, 0x68, 0x00,                         /* ext 0x40 (UDP port): len 1, 2152, next 0 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gtpu_echo[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0xc3, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x14, 0x00, 0x00, /* outer UDP */
    0x32, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, /* GTPv1-U echo request (1), S, TEID 0 */
    0x00, 0x01, 0x00, 0x00,                         /* seq 1, N-PDU 0, next 0 */
};

static const uint8_t gtpu_ext8[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x48, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0xa3, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x34, 0x00, 0x00, /* outer UDP */
    0x34, 0xff, 0x00, 0x24, 0x11, 0x22, 0x33, 0x44, /* GTPv1-U G-PDU, E flag */
    0x00, 0x00, 0x00, 0x85,                         /* seq 0, N-PDU 0, next ext 0x85 */
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85, /* 8 ext headers of 4 bytes, last next 0 */
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85,
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85,
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x00,
};

static const uint8_t gtpu_ext9[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, UDP */
    0x40, 0x11, 0x26, 0x9f, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x08, 0x68, 0x08, 0x68, 0x00, 0x38, 0x00, 0x00, /* outer UDP */
    0x34, 0xff, 0x00, 0x28, 0x11, 0x22, 0x33, 0x44, /* GTPv1-U G-PDU, E flag */
    0x00, 0x00, 0x00, 0x85,                         /* seq 0, N-PDU 0, next ext 0x85 */
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85, /* 9 ext headers of 4 bytes, last next 0 */
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85,
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85,
    0x01, 0x00, 0x00, 0x85, 0x01, 0x00, 0x00, 0x85,
    0x01, 0x00, 0x00, 0x00,
};

/* Decode `len` bytes of `base` with `n` bytes at `at` replaced by `patch`. */
static tu_result_t *
decode_patched(const uint8_t *base, size_t len, size_t at, const uint8_t *patch, size_t n)
{
    uint8_t buf[256];
    ck_assert_uint_le(len, sizeof(buf));
    ck_assert_uint_le(at + n, len);
    memcpy(buf, base, len);
    memcpy(buf + at, patch, n);
    return tu_decode(NS_LINKTYPE_ETHERNET, buf, len);
}

/* The inner 192.0.2.1:1234 -> 198.51.100.2:5678 UDP packet is the summary's packet. */
static void
assert_inner4(const ns_pkt_t *p)
{
    ck_assert_uint_eq(p->ip_ver, 4);
    ck_assert_mem_eq(p->src.b, INNER_SRC, 16);
    ck_assert_mem_eq(p->dst.b, INNER_DST, 16);
    ck_assert_uint_eq(p->ip_proto, 17);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->dport, 5678);
    ck_assert_uint_eq(p->payload_len, 4);
    ck_assert_uint_eq(p->payload_cap, 4);
    ck_assert_uint_eq(p->encap, 1); /* one tunnel crossed, counted once */
}

/* ---- valid: VXLAN ------------------------------------------------------------------------ */

START_TEST(test_vxlan_inner_wins)
{
    static const uint8_t inner_mac[6] = {2, 0, 0, 0, 0, 3};
    tu_result_t *r = DECODE(vxlan_ip4);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_VXLAN));
    ck_assert(p->layers & NS_HAS(NS_LAYER_UDP));
    assert_inner4(p);
    ck_assert_mem_eq(p->eth_src, inner_mac, 6); /* the inner frame's link layer too */
    ck_assert_uint_eq(p->ethertype, 0x0800);
    ck_assert_uint_eq(p->l3_off, TUN_OFF + 8 + 14);
    ck_assert_uint_eq(p->payload_off, sizeof(vxlan_ip4) - 4);
    ck_assert_uint_eq(tu_uint(r, "vxlan.vni"), 12345);
    ck_assert_uint_eq(tu_uint(r, "vxlan.flags"), 0x0800); /* 16 bits, as tshark shows it */
    const ns_field_t *vx = tu_field(r, "vxlan", 0);
    ck_assert_ptr_nonnull(vx);
    ck_assert_uint_eq(vx->off, TUN_OFF);
    ck_assert_uint_eq(vx->len, 8);
    /* the tree keeps both headers, outer first */
    const ns_field_t *s0 = tu_field(r, "ip.src", 0);
    const ns_field_t *s1 = tu_field(r, "ip.src", 1);
    ck_assert_ptr_nonnull(s0);
    ck_assert_ptr_nonnull(s1);
    ck_assert_mem_eq(r->f.buf + s0->off, OUTER_SRC, 4);
    ck_assert_mem_eq(r->f.buf + s1->off, INNER_SRC, 4);
    ck_assert_uint_eq(tu_field(r, "udp.dstport", 0)->u, 4789);
    ck_assert_uint_eq(tu_field(r, "udp.dstport", 1)->u, 5678);
    ck_assert_ptr_nonnull(tu_field(r, "eth.src", 1));
    tu_free(r);
}
END_TEST

/* ---- valid: GTP-U ------------------------------------------------------------------------ */

START_TEST(test_gtpu_minimal)
{
    tu_result_t *r = DECODE(gtpu_min);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_GTP));
    assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.l3_off, TUN_OFF + 8);
    ck_assert_uint_eq(tu_uint(r, "gtp.flags"), 0x30);
    ck_assert_uint_eq(tu_uint(r, "gtp.message"), 255);
    ck_assert_uint_eq(tu_uint(r, "gtp.length"), 32);
    ck_assert_uint_eq(tu_uint(r, "gtp.teid"), 0x11223344);
    ck_assert_ptr_null(tu_field(r, "gtp.seq_number", 0)); /* no optional fields */
    ck_assert_uint_eq(tu_field(r, "gtp", 0)->len, 8);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_sequence_ipv6_inside)
{
    tu_result_t *r = DECODE(gtpu_seq_ip6);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(p->ip_ver, 6);
    ck_assert_mem_eq(p->src.b, INNER6_SRC, 16);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->dport, 5678);
    ck_assert_uint_eq(p->encap, 1);
    ck_assert_uint_eq(p->l3_off, TUN_OFF + 12); /* after the 4 optional bytes */
    ck_assert_uint_eq(tu_uint(r, "gtp.seq_number"), 0x0102);
    ck_assert_ptr_null(tu_field(r, "gtp.npdu_number", 0)); /* PN not set */
    ck_assert_ptr_null(tu_field(r, "gtp.ext_hdr.next", 0)); /* E not set */
    ck_assert_uint_eq(tu_field(r, "gtp", 0)->len, 12);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_extension_chain)
{
    tu_result_t *r = DECODE(gtpu_ext);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.l3_off, TUN_OFF + 12 + 8);
    /* tshark: gtp.ext_hdr.next 0x85,0x40,0x00 and gtp.ext_hdr.length 1,1 */
    const ns_field_t *n0 = tu_field(r, "gtp.ext_hdr.next", 0);
    const ns_field_t *n1 = tu_field(r, "gtp.ext_hdr.next", 1);
    const ns_field_t *n2 = tu_field(r, "gtp.ext_hdr.next", 2);
    ck_assert_ptr_nonnull(n0);
    ck_assert_ptr_nonnull(n1);
    ck_assert_ptr_nonnull(n2);
    ck_assert_uint_eq(n0->u, 0x85);
    ck_assert_uint_eq(n0->off, TUN_OFF + 11);
    ck_assert_uint_eq(n1->u, 0x40);
    ck_assert_uint_eq(n1->off, TUN_OFF + 15);
    ck_assert_uint_eq(n2->u, 0x00);
    ck_assert_uint_eq(n2->off, TUN_OFF + 19);
    ck_assert_ptr_null(tu_field(r, "gtp.ext_hdr.next", 3));
    ck_assert_uint_eq(tu_field(r, "gtp.ext_hdr.length", 0)->u, 1);
    ck_assert_uint_eq(tu_field(r, "gtp.ext_hdr.length", 1)->off, TUN_OFF + 16);
    ck_assert_uint_eq(tu_field(r, "gtp", 0)->len, 20);
    tu_free(r);

    /* GTP_MAX_EXT headers are still fine; a G-PDU with nothing after them is OK */
    r = DECODE(gtpu_ext8);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_ptr_nonnull(tu_field(r, "gtp.ext_hdr.length", 7));
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
    ck_assert_uint_eq(r->pkt.encap, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_signalling_stops)
{
    tu_result_t *r = DECODE(gtpu_echo);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_GTP));
    ck_assert_uint_eq(tu_uint(r, "gtp.message"), 1);
    ck_assert_uint_eq(tu_uint(r, "gtp.seq_number"), 1);
    /* nothing inside: the summary is still the outer UDP packet */
    ck_assert_mem_eq(p->src.b, OUTER_SRC, 16);
    ck_assert_uint_eq(p->sport, 2152);
    ck_assert_uint_eq(p->dport, 2152);
    ck_assert_uint_eq(p->encap, 0);
    ck_assert_uint_eq(p->payload_len, 12);
    ck_assert_uint_eq(p->app, NS_APP_NONE);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    /* A frame cut right after the outer UDP header is OK (no payload, nothing to hand on),
     * so the sweeps require "not OK" below that point; the cases below pin the rest. */
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, vxlan_ip4, sizeof(vxlan_ip4), TUN_OFF);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gtpu_min, sizeof(gtpu_min), TUN_OFF);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gtpu_seq_ip6, sizeof(gtpu_seq_ip6), TUN_OFF);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gtpu_ext, sizeof(gtpu_ext), TUN_OFF);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gtpu_echo, sizeof(gtpu_echo), TUN_OFF);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gtpu_ext8, sizeof(gtpu_ext8), TUN_OFF);
}
END_TEST

/* Every prefix from the tunnel header up to the end of the inner transport header is
 * TRUNCATED (never OK, never INVALID), charged to `layer` for prefixes shorter than
 * `hdr_end` and to an inner layer after that. */
static void
assert_cut_truncated(const uint8_t *frame, size_t hdr_end, ns_layer_t layer, size_t l4_end)
{
    for (size_t n = TUN_OFF + 1; n < l4_end; n++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame, n);
        ck_assert_msg(r->rc == NS_PARSE_TRUNCATED, "prefix %zu: rc %d", n, r->rc);
        if (n < hdr_end)
            ck_assert_int_eq(r->pkt.err_layer, layer);
        else
            ck_assert_int_ne(r->pkt.err_layer, layer);
        tu_free(r);
    }
}

START_TEST(test_truncated_tunnel_headers)
{
    assert_cut_truncated(vxlan_ip4, TUN_OFF + 8, NS_LAYER_VXLAN, sizeof(vxlan_ip4) - 4);
    /* A G-PDU whose inner packet was not captured at all is charged to GTP too (+ 1). */
    assert_cut_truncated(gtpu_min, TUN_OFF + 8 + 1, NS_LAYER_GTP, sizeof(gtpu_min) - 4);
    assert_cut_truncated(gtpu_ext, TUN_OFF + 20 + 1, NS_LAYER_GTP, sizeof(gtpu_ext) - 4);

    /* G-PDU header whole, inner packet not captured at all: GTP is cut, not OK */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, gtpu_seq_ip6, TUN_OFF + 12);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);

    /* inner payload cut: every header is whole, the frame is OK */
    r = tu_decode(NS_LINKTYPE_ETHERNET, vxlan_ip4, sizeof(vxlan_ip4) - 2);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 2);
    tu_free(r);
}
END_TEST

/* ---- invalid / unsupported --------------------------------------------------------------- */

START_TEST(test_vxlan_i_flag_missing)
{
    static const uint8_t no_i[] = {0x00};
    tu_result_t *r = decode_patched(vxlan_ip4, sizeof(vxlan_ip4), TUN_OFF, no_i, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VXLAN);
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16); /* nothing inner was decoded */
    ck_assert_uint_eq(r->pkt.dport, 4789);
    ck_assert_uint_eq(r->pkt.encap, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_zero_length_extension)
{
    static const uint8_t zero[] = {0x00};
    tu_result_t *r = decode_patched(gtpu_ext, sizeof(gtpu_ext), TUN_OFF + 12, zero, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
    tu_free(r);

    /* the second one */
    r = decode_patched(gtpu_ext, sizeof(gtpu_ext), TUN_OFF + 16, zero, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_too_many_extensions)
{
    tu_result_t *r = DECODE(gtpu_ext9);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_chain_past_length)
{
    /* Extension length 3 (12 bytes) runs past the 44 bytes the GTP length declares, all of
     * which were captured: malformed, not cut short. */
    static const uint8_t len3[] = {0x03};
    tu_result_t *r = decode_patched(gtpu_ext8, sizeof(gtpu_ext8), sizeof(gtpu_ext8) - 4, len3, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);
}
END_TEST

START_TEST(test_gtpu_bad_lengths)
{
    /* declares more than the UDP datagram holds */
    static const uint8_t big[] = {0x00, 0x21};
    tu_result_t *r = decode_patched(gtpu_min, sizeof(gtpu_min), TUN_OFF + 2, big, 2);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);

    /* S flag but a length too short for the optional word */
    static const uint8_t short_opt[] = {0x00, 0x02};
    r = decode_patched(gtpu_echo, sizeof(gtpu_echo), TUN_OFF + 2, short_opt, 2);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);
}
END_TEST

START_TEST(test_gtp_other_versions_unsupported)
{
    static const uint8_t gtpv2[] = {0x48};   /* version 2, T flag: GTPv2-C */
    static const uint8_t gtp_prime[] = {0x2e}; /* PT 0: GTP' (charging) */
    static const uint8_t gtpv0[] = {0x1e};   /* version 0 */
    const uint8_t *flags[] = {gtpv2, gtp_prime, gtpv0};
    for (size_t i = 0; i < 3; i++) {
        tu_result_t *r = decode_patched(gtpu_min, sizeof(gtpu_min), TUN_OFF, flags[i], 1);
        ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
        ck_assert_uint_eq(tu_uint(r, "gtp.flags"), flags[i][0]);
        ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_gtpu_not_ip_inside)
{
    static const uint8_t v5[] = {0x55};
    tu_result_t *r = decode_patched(gtpu_min, sizeof(gtpu_min), TUN_OFF + 8, v5, 1);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GTP);
    tu_free(r);
}
END_TEST

static Suite *
tunnel_suite(void)
{
    Suite *s = suite_create("tunnel");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_vxlan_inner_wins);
    tcase_add_test(tc, test_gtpu_minimal);
    tcase_add_test(tc, test_gtpu_sequence_ipv6_inside);
    tcase_add_test(tc, test_gtpu_extension_chain);
    tcase_add_test(tc, test_gtpu_signalling_stops);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_tunnel_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_vxlan_i_flag_missing);
    tcase_add_test(tc, test_gtpu_zero_length_extension);
    tcase_add_test(tc, test_gtpu_too_many_extensions);
    tcase_add_test(tc, test_gtpu_chain_past_length);
    tcase_add_test(tc, test_gtpu_bad_lengths);
    tcase_add_test(tc, test_gtp_other_versions_unsupported);
    tcase_add_test(tc, test_gtpu_not_ip_inside);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(tunnel_suite)

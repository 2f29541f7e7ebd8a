/* test_gre.c - unit tests for the GRE decoder (gre.c): RFC 2784/2890 version 0 and PPTP's
 * enhanced GRE (version 1).
 *
 * Fixtures are Ethernet frames: IPv4 10.0.0.1 -> 10.0.0.2 (or IPv6 2001:db8:ffff::1 -> ::2)
 * carrying GRE, then an inner 192.0.2.1:1234 -> 198.51.100.2:5678 UDP "ping" (no application
 * decoder claims port 5678, so a whole frame decodes OK). tshark 4.0 agrees with the decoded
 * values asserted here (gre.flags_and_version, gre.proto, gre.key, gre.sequence_number,
 * gre.ack_number, gre.key.call_id, gre.checksum.status, ip.src).
 */
#include "testutil.h"
#include "runner.h"

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))
#define GRE_OFF 34u  /* Ethernet + outer IPv4: where GRE starts */
#define GRE6_OFF 54u /* Ethernet + outer IPv6 */

static const uint8_t OUTER_SRC[16] = {10, 0, 0, 1};
static const uint8_t INNER_SRC[16] = {192, 0, 2, 1};
static const uint8_t INNER_DST[16] = {198, 51, 100, 2};
static const uint8_t INNER6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t gre_ip4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x38, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0x95, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x08, 0x00,                         /* GRE v0, no options, IPv4 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 192.0.2.1 -> 198.51.100.2, UDP */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP 1234 -> 5678, "ping" */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gre_csum_key_seq[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x44, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0x89, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0xb0, 0x00, 0x08, 0x00,                         /* GRE v0, C K S, IPv4 */
    0x4d, 0xb7, 0x00, 0x00,                         /* checksum 0x4db7, reserved */
    0x00, 0x00, 0x00, 0x64,                         /* key 100 */
    0x00, 0x00, 0x00, 0x07,                         /* sequence number 7 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gre_teb[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x4a, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0x83, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x20, 0x00, 0x65, 0x58,                         /* GRE v0, K, transparent Ethernet bridging */
    0x00, 0x30, 0x39, 0x00,                         /* key 0x00303900 (NVGRE VSID 12345) */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, /* inner Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x03, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gre_mpls[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0x91, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x88, 0x47,                         /* GRE v0, MPLS */
    0x00, 0x06, 0x41, 0x40,                         /* MPLS label 100, bottom of stack, ttl 64 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t gre6_ip6[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv6 */
    0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x2f, 0x40, /* outer IPv6 2001:db8:ffff::1 -> ::2, GRE */
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x86, 0xdd,                         /* GRE v0, IPv6 */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, /* inner IPv6 2001:db8::1 -> ::2, UDP */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t pptp_data[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x48, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0x85, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x30, 0x81, 0x88, 0x0b,                         /* GRE v1 (PPTP), K S A, PPP */
    0x00, 0x24, 0x40, 0x00,                         /* payload length 36, call id 0x4000 */
    0x00, 0x00, 0x00, 0x05,                         /* sequence number 5 */
    0x00, 0x00, 0x00, 0x04,                         /* acknowledgment number 4 */
    0xff, 0x03, 0x00, 0x21,                         /* PPP ff 03, IPv4 */
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* inner IPv4 */
    0x40, 0x11, 0x4e, 0x96, 0xc0, 0x00, 0x02, 0x01,
    0xc6, 0x33, 0x64, 0x02,
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, /* inner UDP */
    0x70, 0x69, 0x6e, 0x67,
};

static const uint8_t pptp_ack[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0xad, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x20, 0x81, 0x88, 0x0b,                         /* GRE v1 (PPTP), K A, PPP */
    0x00, 0x00, 0x40, 0x00,                         /* payload length 0, call id 0x4000 */
    0x00, 0x00, 0x00, 0x05,                         /* acknowledgment number 5 */
};

static const uint8_t gre_empty[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, /* Ethernet, IPv4 */
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x18, 0x00, 0x00, 0x40, 0x00, /* outer IPv4 10.0.0.1 -> 10.0.0.2, GRE */
    0x40, 0x2f, 0x26, 0xb5, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x08, 0x00,                         /* GRE v0, IPv4, and nothing inside */
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

/* The inner UDP packet over IPv4 is the summary's packet, one tunnel level down. */
static void
assert_inner4(const tu_result_t *r, uint32_t l3_off)
{
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_GRE));
    ck_assert_uint_eq(p->ip_ver, 4);
    ck_assert_mem_eq(p->src.b, INNER_SRC, 16);
    ck_assert_mem_eq(p->dst.b, INNER_DST, 16);
    ck_assert_uint_eq(p->ip_proto, 17);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->dport, 5678);
    ck_assert_uint_eq(p->payload_len, 4);
    ck_assert_uint_eq(p->l3_off, l3_off);
    ck_assert_uint_eq(p->encap, 1);
    /* the tree keeps the outer header first */
    const ns_field_t *s0 = tu_field(r, "ip.src", 0);
    ck_assert_ptr_nonnull(s0);
    ck_assert_mem_eq(r->f.buf + s0->off, OUTER_SRC, 4);
}

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_plain_ipv4)
{
    tu_result_t *r = DECODE(gre_ip4);
    assert_inner4(r, GRE_OFF + 4);
    ck_assert_uint_eq(tu_uint(r, "gre.flags_and_version"), 0x0000);
    ck_assert_uint_eq(tu_uint(r, "gre.proto"), 0x0800);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.version"), 0);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.key"), 0);
    ck_assert_ptr_null(tu_field(r, "gre.key", 0));
    ck_assert_ptr_null(tu_field(r, "gre.checksum", 0));
    const ns_field_t *g = tu_field(r, "gre", 0);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->off, GRE_OFF);
    ck_assert_uint_eq(g->len, 4);
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    tu_free(r);
}
END_TEST

START_TEST(test_checksum_key_sequence)
{
    tu_result_t *r = DECODE(gre_csum_key_seq);
    assert_inner4(r, GRE_OFF + 16);
    ck_assert_uint_eq(tu_uint(r, "gre.flags_and_version"), 0xb000);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.checksum"), 1);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.key"), 1);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.sequence_number"), 1);
    ck_assert_uint_eq(tu_uint(r, "gre.checksum"), 0x4db7);
    ck_assert_uint_eq(tu_uint(r, "gre.checksum.status"), 1); /* good */
    const ns_field_t *key = tu_field(r, "gre.key", 0);
    ck_assert_ptr_nonnull(key);
    ck_assert_uint_eq(key->u, 100);
    ck_assert_uint_eq(key->off, GRE_OFF + 8);
    const ns_field_t *seq = tu_field(r, "gre.sequence_number", 0);
    ck_assert_ptr_nonnull(seq);
    ck_assert_uint_eq(seq->u, 7);
    ck_assert_uint_eq(seq->off, GRE_OFF + 12);
    ck_assert_uint_eq(tu_field(r, "gre", 0)->len, 16);
    tu_free(r);

    /* a wrong checksum is reported, not an error (senders offload it) */
    static const uint8_t bad[] = {0x12, 0x34};
    r = decode_patched(gre_csum_key_seq, sizeof(gre_csum_key_seq), GRE_OFF + 4, bad, 2);
    assert_inner4(r, GRE_OFF + 16);
    ck_assert_uint_eq(tu_uint(r, "gre.checksum.status"), 0);
    tu_free(r);

    /* not all captured: unverified */
    r = tu_decode(NS_LINKTYPE_ETHERNET, gre_csum_key_seq, sizeof(gre_csum_key_seq) - 1);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tu_uint(r, "gre.checksum.status"), 2);
    tu_free(r);
}
END_TEST

START_TEST(test_key_only_offsets)
{
    /* K alone: the key comes right after the fixed header (no checksum word before it) */
    tu_result_t *r = DECODE(gre_teb);
    ck_assert_uint_eq(tu_field(r, "gre.key", 0)->off, GRE_OFF + 4);
    ck_assert_uint_eq(tu_uint(r, "gre.key"), 0x00303900);
    ck_assert_ptr_null(tu_field(r, "gre.sequence_number", 0));
    tu_free(r);
}
END_TEST

START_TEST(test_transparent_ethernet_bridging)
{
    static const uint8_t inner_mac[6] = {2, 0, 0, 0, 0, 3};
    tu_result_t *r = DECODE(gre_teb);
    assert_inner4(r, GRE_OFF + 8 + 14);
    ck_assert_uint_eq(tu_uint(r, "gre.proto"), 0x6558);
    ck_assert_mem_eq(r->pkt.eth_src, inner_mac, 6);
    ck_assert_ptr_nonnull(tu_field(r, "eth", 1)); /* a second Ethernet header in the tree */
    ck_assert_uint_eq(r->pkt.ethertype, 0x0800);
    tu_free(r);
}
END_TEST

START_TEST(test_mpls_inside)
{
    tu_result_t *r = DECODE(gre_mpls);
    assert_inner4(r, GRE_OFF + 4 + 4);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_MPLS));
    ck_assert_uint_eq(r->pkt.mpls_n, 1);
    ck_assert_uint_eq(r->pkt.mpls[0], 100);
    tu_free(r);
}
END_TEST

START_TEST(test_over_ipv6)
{
    tu_result_t *r = DECODE(gre6_ip6);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_GRE));
    ck_assert_uint_eq(p->ip_ver, 6);
    ck_assert_mem_eq(p->src.b, INNER6_SRC, 16);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->l3_off, GRE6_OFF + 4);
    ck_assert_uint_eq(p->encap, 1);
    ck_assert_uint_eq(tu_uint(r, "gre.proto"), 0x86dd);
    ck_assert_ptr_nonnull(tu_field(r, "ipv6.src", 1));
    tu_free(r);
}
END_TEST

START_TEST(test_pptp)
{
    tu_result_t *r = DECODE(pptp_data);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED); /* the PPP payload is not decoded */
    ck_assert_int_eq(p->err_layer, NS_LAYER_GRE);
    ck_assert_uint_eq(tu_uint(r, "gre.flags_and_version"), 0x3081);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.version"), 1);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.ack"), 1);
    ck_assert_uint_eq(tu_uint(r, "gre.proto"), 0x880b);
    ck_assert_uint_eq(tu_uint(r, "gre.key.payload_length"), 36);
    ck_assert_uint_eq(tu_uint(r, "gre.key.call_id"), 0x4000);
    ck_assert_uint_eq(tu_uint(r, "gre.sequence_number"), 5);
    ck_assert_uint_eq(tu_uint(r, "gre.ack_number"), 4);
    ck_assert_ptr_null(tu_field(r, "gre.key", 0));
    ck_assert_uint_eq(tu_field(r, "gre", 0)->len, 16);
    ck_assert_mem_eq(p->src.b, OUTER_SRC, 16); /* nothing inner decoded */
    ck_assert_uint_eq(p->ip_proto, 47);
    ck_assert_uint_eq(p->encap, 0);
    tu_free(r);

    /* an acknowledgment without payload: nothing to decode, OK */
    r = DECODE(pptp_ack);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tu_uint(r, "gre.key.payload_length"), 0);
    ck_assert_uint_eq(tu_uint(r, "gre.ack_number"), 5);
    ck_assert_ptr_null(tu_field(r, "gre.sequence_number", 0));
    tu_free(r);
}
END_TEST

START_TEST(test_empty_payload)
{
    tu_result_t *r = DECODE(gre_empty);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_GRE));
    ck_assert_uint_eq(r->pkt.layers & NS_HAS(NS_LAYER_IPV4), NS_HAS(NS_LAYER_IPV4));
    ck_assert_ptr_null(tu_field(r, "ip.src", 1));
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
    tu_free(r);
}
END_TEST

START_TEST(test_unknown_protocol_unsupported)
{
    static const uint8_t arp[] = {0x08, 0x06};
    tu_result_t *r = decode_patched(gre_ip4, sizeof(gre_ip4), GRE_OFF + 2, arp, 2);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GRE); /* charged to the carrier */
    ck_assert_uint_eq(r->pkt.ethertype, 0x0806);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    /* OK needs every header up to the inner UDP header; the last 4 bytes are payload. */
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre_ip4, sizeof(gre_ip4), sizeof(gre_ip4) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre_csum_key_seq, sizeof(gre_csum_key_seq),
                        sizeof(gre_csum_key_seq) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre_teb, sizeof(gre_teb), sizeof(gre_teb) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre_mpls, sizeof(gre_mpls), sizeof(gre_mpls) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre6_ip6, sizeof(gre6_ip6), sizeof(gre6_ip6) - 4);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, pptp_data, sizeof(pptp_data), sizeof(pptp_data));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, pptp_ack, sizeof(pptp_ack), sizeof(pptp_ack));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, gre_empty, sizeof(gre_empty), sizeof(gre_empty));
}
END_TEST

START_TEST(test_truncated_header)
{
    /* every cut inside the GRE header (fixed part or options) is TRUNCATED at GRE */
    static const struct {
        const uint8_t *frame;
        size_t hdr_len;
    } fx[] = {{gre_ip4, 4}, {gre_csum_key_seq, 16}, {gre_teb, 8}, {pptp_data, 16}, {pptp_ack, 12}};
    for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
        for (size_t n = GRE_OFF; n < GRE_OFF + fx[i].hdr_len; n++) {
            tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, fx[i].frame, n);
            ck_assert_msg(r->rc == NS_PARSE_TRUNCATED, "fixture %zu, %zu bytes: rc %d", i, n,
                          r->rc);
            ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GRE);
            ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
            tu_free(r);
        }
    }

    /* header whole, inner IPv4 cut: charged to the inner layer */
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, gre_ip4, GRE_OFF + 4 + 10);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.encap, 0);
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
    tu_free(r);
}
END_TEST

/* ---- invalid ----------------------------------------------------------------------------- */

START_TEST(test_bad_version)
{
    for (uint8_t v = 2; v <= 7; v++) {
        const uint8_t fv[] = {0x00, v};
        tu_result_t *r = decode_patched(gre_ip4, sizeof(gre_ip4), GRE_OFF, fv, 2);
        ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GRE);
        ck_assert_uint_eq(tu_uint(r, "gre.flags.version"), v);
        ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_bad_pptp_header)
{
    static const uint8_t with_c[] = {0xb0, 0x81};       /* checksum bit in version 1 */
    static const uint8_t with_r[] = {0x70, 0x81};       /* routing bit */
    static const uint8_t no_k[] = {0x10, 0x81};         /* the key (call id) is mandatory */
    static const uint8_t recur[] = {0x31, 0x81};        /* recursion control */
    static const uint8_t not_ppp[] = {0x30, 0x81, 0x08, 0x00}; /* version 1 carries PPP only */
    static const struct {
        const uint8_t *patch;
        size_t n;
    } bad[] = {{with_c, 2}, {with_r, 2}, {no_k, 2}, {recur, 2}, {not_ppp, 4}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_result_t *r =
            decode_patched(pptp_data, sizeof(pptp_data), GRE_OFF, bad[i].patch, bad[i].n);
        ck_assert_msg(r->rc == NS_PARSE_INVALID, "case %zu: rc %d", i, r->rc);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GRE);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_routing_unsupported)
{
    static const uint8_t with_r[] = {0x40, 0x00};
    tu_result_t *r = decode_patched(gre_ip4, sizeof(gre_ip4), GRE_OFF, with_r, 2);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_GRE);
    ck_assert_uint_eq(tu_uint(r, "gre.flags.routing"), 1);
    ck_assert_mem_eq(r->pkt.src.b, OUTER_SRC, 16);
    tu_free(r);
}
END_TEST

static Suite *
gre_suite(void)
{
    Suite *s = suite_create("gre");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_plain_ipv4);
    tcase_add_test(tc, test_checksum_key_sequence);
    tcase_add_test(tc, test_key_only_offsets);
    tcase_add_test(tc, test_transparent_ethernet_bridging);
    tcase_add_test(tc, test_mpls_inside);
    tcase_add_test(tc, test_over_ipv6);
    tcase_add_test(tc, test_pptp);
    tcase_add_test(tc, test_empty_payload);
    tcase_add_test(tc, test_unknown_protocol_unsupported);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_header);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_bad_pptp_header);
    tcase_add_test(tc, test_routing_unsupported);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(gre_suite)

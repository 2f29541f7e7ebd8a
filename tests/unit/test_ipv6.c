/* test_ipv6.c - unit tests for the IPv6 decoder (ipv6.c): header, extension header chains,
 * fragments, jumbo/TSO lengths, tunnels.
 *
 * Fixtures are Ethernet frames. Payloads are protocol 253 (RFC 3692 experimentation), which the
 * dispatcher does not decode (UNSUPPORTED charged to the IPv6 layer), or end the chain with nothing to hand on (No Next
 * Header, ESP, a later fragment), which decodes OK as a whole. None depends on the transport
 * decoders.
 */
#include "testutil.h"
#include "runner.h"

#define ETH_IPV6 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd
#define SRC6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 /* 2001:db8::1 */
#define DST6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 /* 2001:db8::2 */
/* version 6, traffic class 0, flow 0; payload length; next header; hop limit 64 */
#define IP6(plen, nxt) 0x60, 0x00, 0x00, 0x00, 0x00, (plen), (nxt), 0x40, SRC6, DST6
#define EXP8 0x00, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef

static const uint8_t SRC[16] = {SRC6};
static const uint8_t DST[16] = {DST6};

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t ip6_none[] = {
    ETH_IPV6,
    0x6b, 0x81, 0x23, 0x45, /* version 6, traffic class 0xb8, flow 0x12345 */
    0x00, 0x00, 0x3b, 0x3f, /* plen 0, no next header (59), hop limit 63 */
    SRC6,
    DST6,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* Ethernet padding to 60 bytes */
};

static const uint8_t ip6_gre_fcs[] = {
    ETH_IPV6,
    IP6(8, 253), /* plen 8, protocol 253 */
    EXP8,
    0xaa, 0xbb, 0xcc, 0xdd, /* FCS */
};

static const uint8_t ip6_chain[] = {
    ETH_IPV6,
    IP6(56, 0),             /* plen 56, hop-by-hop */
    0x3c, 0x00,             /* HBH: next dst-opts, len 0 (8 bytes) */
    0x05, 0x02, 0x00, 0x00, /*   router alert, value 0 (MLD) */
    0x01, 0x00,             /*   PadN, 0 bytes */
    0x2b, 0x00,             /* DST: next routing, len 0 */
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* PadN, 4 bytes */
    0x2c, 0x02, 0x02, 0x01, /* RH: next fragment, len 2 (24 bytes), type 2, segments left 1 */
    0x00, 0x00, 0x00, 0x00, /*   reserved */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, /* home address */
    0xfd, 0x00, 0x00, 0x01, /* FH: next 253, offset 0, M */
    0xde, 0xad, 0xbe, 0xef, /*   identification */
    EXP8,
};

static const uint8_t ip6_frag_later[] = {
    ETH_IPV6,
    IP6(16, 44),
    0x11, 0x00, 0x04, 0xd1, /* FH: next UDP, offset 154 * 8 = 1232, M */
    0x01, 0x02, 0x03, 0x04, /*   identification */
    EXP8,                   /* the middle of a datagram */
};

static const uint8_t ip6_atomic[] = {
    ETH_IPV6,
    IP6(16, 44),
    0xfd, 0x00, 0x00, 0x00, /* FH: next 253, offset 0, no M: an atomic fragment */
    0x00, 0x00, 0x00, 0x07,
    EXP8,
};

static const uint8_t ip6_ah[] = {
    ETH_IPV6,
    IP6(24, 51),
    0x3b, 0x04, 0x00, 0x00, /* AH: next none, len 4 ((4 + 2) * 4 = 24 bytes), reserved */
    0x00, 0x00, 0x10, 0x01, /*   SPI */
    0x00, 0x00, 0x00, 0x05, /*   sequence */
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, /* ICV */
};

static const uint8_t ip6_esp[] = {
    ETH_IPV6,
    IP6(16, 50),
    0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x01, /* ESP: SPI, sequence */
    EXP8,                                           /* (encrypted) */
};

static const uint8_t ip6_tso[] = {
    ETH_IPV6,
    IP6(0, 253), /* plen 0: segmentation offload */
    EXP8,
};

static const uint8_t ip6_jumbo[] = {
    ETH_IPV6,
    IP6(0, 0),              /* plen 0, hop-by-hop */
    0xfd, 0x00,             /* HBH: next 253, len 0 */
    0xc2, 0x04, 0x00, 0x01, 0x00, 0x00, /* jumbo payload, 65536 */
    EXP8,
};

static const uint8_t ip4_in_ip6[] = {
    ETH_IPV6,
    IP6(28, 4),
    0x45, 0x00, 0x00, 0x1c, /* IPv4, total 28 */
    0x1c, 0x46, 0x20, 0xb9, /*   MF, offset 1480: hands nothing on */
    0x40, 0x11, 0x51, 0x9b,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, /* 192.0.2.1 -> 198.51.100.2 */
    EXP8,
};

static const uint8_t ip6_in_ip6[] = {
    ETH_IPV6,
    IP6(40, 41),            /* outer */
    0x60, 0x00, 0x00, 0x00, /* inner: plen 0, no next header, hop limit 7 */
    0x00, 0x00, 0x3b, 0x07,
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, /* fd00::a */
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, /* fd00::b */
};

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_header_fields)
{
    tu_result_t *r = DECODE(ip6_none);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_IPV6));
    ck_assert_uint_eq(p->ip_ver, 6);
    ck_assert_mem_eq(p->src.b, SRC, 16);
    ck_assert_mem_eq(p->dst.b, DST, 16);
    ck_assert_uint_eq(p->ttl, 63);
    ck_assert_uint_eq(p->tos, 0xb8);
    ck_assert_uint_eq(p->ip_proto, 59);
    ck_assert_uint_eq(p->ip_flags, 0);
    ck_assert_uint_eq(p->l3_off, 14);
    ck_assert_uint_eq(p->ip_len, 40);
    ck_assert_uint_eq(p->payload_off, 54);
    ck_assert_uint_eq(p->payload_len, 0); /* the padding is not payload */
    ck_assert_uint_eq(tu_uint(r, "ipv6.version"), 6);
    ck_assert_uint_eq(tu_uint(r, "ipv6.tclass"), 0xb8);
    ck_assert_uint_eq(tu_uint(r, "ipv6.flow"), 0x12345);
    ck_assert_uint_eq(tu_uint(r, "ipv6.plen"), 0);
    ck_assert_uint_eq(tu_uint(r, "ipv6.nxt"), 59);
    ck_assert_uint_eq(tu_uint(r, "ipv6.hlim"), 63);
    const ns_field_t *src = tu_field(r, "ipv6.src", 0);
    ck_assert_ptr_nonnull(src);
    ck_assert_uint_eq(src->type, NS_FT_IPV6);
    ck_assert_uint_eq(src->off, 22);
    ck_assert_mem_eq(r->f.buf + src->off, SRC, 16);
    ck_assert_uint_eq(tu_field(r, "ipv6.dst", 0)->off, 38);
    tu_free(r);
}
END_TEST

START_TEST(test_fcs_trimmed)
{
    tu_result_t *r = DECODE(ip6_gre_fcs);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED); /* protocol 253 */
    ck_assert_uint_eq(r->pkt.ip_proto, 253);
    ck_assert_uint_eq(r->pkt.ip_len, 48);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(r->pkt.payload_cap, 8);
    tu_free(r);
}
END_TEST

START_TEST(test_extension_chain)
{
    tu_result_t *r = DECODE(ip6_chain);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(p->err_layer, NS_LAYER_IPV6);
    ck_assert_int_eq(p->err_rc, NS_PARSE_UNSUPPORTED); /* 253 handed on after the chain */
    ck_assert_uint_eq(p->ip_proto, 253);
    ck_assert_uint_eq(p->ip_flags, NS_IP_FRAG | NS_IP_MF);
    ck_assert_uint_eq(p->frag_off, 0);
    ck_assert_uint_eq(p->frag_id, 0xdeadbeef);
    ck_assert_uint_eq(p->ip_len, 40 + 56);
    ck_assert_uint_eq(p->payload_off, 14 + 40 + 48);
    ck_assert_uint_eq(p->payload_len, 8);
    ck_assert_uint_eq(p->payload_cap, 8);
    /* the tree: one node per header, nested in ipv6, which covers the chain */
    ck_assert_uint_eq(tu_field(r, "ipv6", 0)->len, 40 + 48);
    const ns_field_t *hbh = tu_field(r, "ipv6.hopopts", 0);
    ck_assert_ptr_nonnull(hbh);
    ck_assert_uint_eq(hbh->off, 54);
    ck_assert_uint_eq(hbh->len, 8);
    ck_assert_uint_eq(hbh->depth, 1);
    ck_assert_uint_eq(tu_uint(r, "ipv6.hopopts.nxt"), 60);
    ck_assert_uint_eq(tu_uint(r, "ipv6.opt.router_alert"), 0);
    ck_assert_uint_eq(tu_field(r, "ipv6.dstopts", 0)->len, 8);
    ck_assert_uint_eq(tu_uint(r, "ipv6.dstopts.nxt"), 43);
    ck_assert_uint_eq(tu_field(r, "ipv6.routing", 0)->len, 24);
    ck_assert_uint_eq(tu_uint(r, "ipv6.routing.type"), 2);
    ck_assert_uint_eq(tu_uint(r, "ipv6.routing.segleft"), 1);
    ck_assert_uint_eq(tu_uint(r, "ipv6.fraghdr.nxt"), 253);
    ck_assert_uint_eq(tu_uint(r, "ipv6.fraghdr.offset"), 0);
    ck_assert_uint_eq(tu_uint(r, "ipv6.fraghdr.more"), 1);
    ck_assert_uint_eq(tu_uint(r, "ipv6.fraghdr.ident"), 0xdeadbeef);
    tu_free(r);
}
END_TEST

START_TEST(test_later_fragment)
{
    tu_result_t *r = DECODE(ip6_frag_later);
    ck_assert_int_eq(r->rc, NS_PARSE_OK); /* nothing handed on */
    ck_assert_uint_eq(r->pkt.layers & NS_HAS(NS_LAYER_UDP), 0);
    ck_assert_uint_eq(r->pkt.ip_proto, 17);
    ck_assert_uint_eq(r->pkt.ip_flags, NS_IP_FRAG | NS_IP_MF);
    ck_assert_uint_eq(r->pkt.frag_off, 1232);
    ck_assert_uint_eq(r->pkt.frag_id, 0x01020304);
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 48);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(tu_uint(r, "ipv6.fraghdr.offset"), 1232 / 8); /* field: 8-byte units */
    tu_free(r);
}
END_TEST

START_TEST(test_atomic_fragment)
{
    tu_result_t *r = DECODE(ip6_atomic);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED); /* 253 handed on: a whole packet */
    ck_assert_uint_eq(r->pkt.ip_flags, 0);
    ck_assert_uint_eq(r->pkt.frag_id, 7);
    ck_assert_uint_eq(r->pkt.ip_proto, 253);
    tu_free(r);
}
END_TEST

START_TEST(test_ah_and_esp)
{
    tu_result_t *r = DECODE(ip6_ah);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_proto, 59);
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 40 + 24);
    ck_assert_uint_eq(r->pkt.payload_len, 0);
    ck_assert_uint_eq(tu_uint(r, "ah.spi"), 0x1001);
    ck_assert_uint_eq(tu_uint(r, "ah.sequence"), 5);
    ck_assert_uint_eq(tu_field(r, "ah.icv", 0)->len, 12);
    tu_free(r);

    r = DECODE(ip6_esp);
    ck_assert_int_eq(r->rc, NS_PARSE_OK); /* ESP ends the walk */
    ck_assert_uint_eq(r->pkt.ip_proto, 50);
    ck_assert_uint_eq(r->pkt.payload_off, 54);
    ck_assert_uint_eq(r->pkt.payload_len, 16);
    tu_free(r);
}
END_TEST

START_TEST(test_tso_and_jumbo)
{
    tu_result_t *r = DECODE(ip6_tso);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.ip_len, 48);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    tu_free(r);

    r = DECODE(ip6_jumbo);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.ip_proto, 253);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(tu_uint(r, "ipv6.opt.jumbo"), 65536);
    tu_free(r);

    /* snaplen-cut TSO packet: the wire length counts */
    ns_pkt_t pkt;
    memset(&pkt, 0, sizeof(pkt));
    uint8_t *copy = malloc(sizeof(ip6_tso));
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, ip6_tso, sizeof(ip6_tso));
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, sizeof(ip6_tso), 14 + 40 + 20000, &pkt,
                          NULL, NULL);
    ck_assert_uint_eq(pkt.ip_len, 40 + 20000);
    ck_assert_uint_eq(pkt.payload_len, 20000);
    ck_assert_uint_eq(pkt.payload_cap, 8);
    free(copy);
}
END_TEST

START_TEST(test_tunnels_inner_wins)
{
    static const uint8_t v4src[16] = {192, 0, 2, 1};
    tu_result_t *r = DECODE(ip4_in_ip6);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_IPV6));
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_IPV4));
    ck_assert_uint_eq(r->pkt.encap, 1);
    ck_assert_uint_eq(r->pkt.ip_ver, 4);
    ck_assert_mem_eq(r->pkt.src.b, v4src, 16); /* no IPv6 bytes left behind */
    ck_assert_uint_eq(r->pkt.l3_off, 54);
    ck_assert_uint_eq(r->pkt.frag_off, 1480);
    tu_free(r);

    r = DECODE(ip6_in_ip6);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.encap, 1);
    ck_assert_uint_eq(r->pkt.src.b[0], 0xfd);
    ck_assert_uint_eq(r->pkt.src.b[15], 0x0a);
    ck_assert_uint_eq(r->pkt.dst.b[15], 0x0b);
    ck_assert_uint_eq(r->pkt.ttl, 7);
    ck_assert_uint_eq(r->pkt.l3_off, 54);
    ck_assert_uint_eq(r->pkt.ip_len, 40);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_none, sizeof(ip6_none), 54);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_ah, sizeof(ip6_ah), sizeof(ip6_ah));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_frag_later, sizeof(ip6_frag_later), 62);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_chain, sizeof(ip6_chain), sizeof(ip6_chain));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_jumbo, sizeof(ip6_jumbo), sizeof(ip6_jumbo));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip6_in_ip6, sizeof(ip6_in_ip6), sizeof(ip6_in_ip6));
}
END_TEST

START_TEST(test_truncated_chain)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, ip6_none, 53);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);

    /* cut inside the routing header: declared, but not captured */
    r = tu_decode(NS_LINKTYPE_ETHERNET, ip6_chain, 14 + 40 + 16 + 10);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.ip_proto, 43); /* as far as the walk got */
    ck_assert_ptr_nonnull(tu_field(r, "ipv6.dstopts", 0));
    tu_free(r);

    /* the whole chain captured, the payload cut: OK as far as IPv6 goes */
    r = tu_decode(NS_LINKTYPE_ETHERNET, ip6_frag_later, 14 + 48 + 2);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(r->pkt.payload_cap, 2);
    tu_free(r);
}
END_TEST

/* ---- invalid ----------------------------------------------------------------------------- */

static void
expect(const uint8_t *bytes, size_t len, ns_parse_rc_t rc)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, bytes, len);
    ck_assert_int_eq(r->rc, rc);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    tu_free(r);
}

START_TEST(test_bad_version)
{
    static const uint8_t v4[] = {
        ETH_IPV6,
        0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, SRC6, DST6, /* an IPv4 nibble */
    };
    expect(v4, sizeof(v4), NS_PARSE_INVALID);
}
END_TEST

START_TEST(test_hop_by_hop_not_first)
{
    static const uint8_t late_hbh[] = {
        ETH_IPV6,
        IP6(16, 60),
        0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* DST: next hop-by-hop */
        0x3b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* HBH: not allowed here */
    };
    expect(late_hbh, sizeof(late_hbh), NS_PARSE_INVALID);
}
END_TEST

START_TEST(test_header_past_payload_length)
{
    static const uint8_t too_long[] = {
        ETH_IPV6,
        IP6(8, 60),             /* plen 8 ... */
        0x3b, 0x01, 0x01, 0x0c, /* ... but DST says 16 bytes */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    expect(too_long, sizeof(too_long), NS_PARSE_INVALID);

    static const uint8_t one_byte[] = {
        ETH_IPV6,
        IP6(1, 0), /* no room for next header and length */
        0x3b, 0x00,
    };
    expect(one_byte, sizeof(one_byte), NS_PARSE_INVALID);

    static const uint8_t frag_short[] = {
        ETH_IPV6,
        IP6(4, 44), /* a fragment header is 8 bytes */
        0x3b, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    };
    expect(frag_short, sizeof(frag_short), NS_PARSE_INVALID);

    /* the same lengths within plen but not captured: TRUNCATED, not INVALID */
    static const uint8_t cut[] = {
        ETH_IPV6,
        IP6(16, 60),
        0x3b, 0x01, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, /* 8 of 16 bytes */
    };
    expect(cut, sizeof(cut), NS_PARSE_TRUNCATED);
}
END_TEST

START_TEST(test_bad_option_length)
{
    static const uint8_t opt_past[] = {
        ETH_IPV6,
        IP6(8, 0),
        0x3b, 0x00,             /* HBH: 8 bytes */
        0x05, 0x08, 0x00, 0x00, /* router alert claiming 8 bytes: 4 left */
        0x00, 0x00,
    };
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, opt_past, sizeof(opt_past));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV6);
    ck_assert_mem_eq(r->pkt.src.b, SRC, 16); /* the fixed header was sound */
    tu_free(r);
}
END_TEST

START_TEST(test_bad_ah_length)
{
    static const uint8_t ah0[] = {
        ETH_IPV6,
        IP6(8, 51),
        0x3b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, /* AH len 0: 8 bytes, below 12 */
    };
    expect(ah0, sizeof(ah0), NS_PARSE_INVALID);
}
END_TEST

START_TEST(test_chain_cap)
{
    /* Eight destination-options headers then No Next Header: the most we walk. */
    static const uint8_t eight[] = {
        ETH_IPV6,
        IP6(64, 60),
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    };
    tu_result_t *r = DECODE(eight);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 40 + 64);
    ck_assert_ptr_nonnull(tu_field(r, "ipv6.dstopts", 7));
    tu_free(r);

    /* Nine: legal, but more than we walk. */
    static const uint8_t nine[] = {
        ETH_IPV6,
        IP6(72, 60),
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x3b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    };
    expect(nine, sizeof(nine), NS_PARSE_UNSUPPORTED);
}
END_TEST

static Suite *
ipv6_suite(void)
{
    Suite *s = suite_create("ipv6");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_header_fields);
    tcase_add_test(tc, test_fcs_trimmed);
    tcase_add_test(tc, test_extension_chain);
    tcase_add_test(tc, test_later_fragment);
    tcase_add_test(tc, test_atomic_fragment);
    tcase_add_test(tc, test_ah_and_esp);
    tcase_add_test(tc, test_tso_and_jumbo);
    tcase_add_test(tc, test_tunnels_inner_wins);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_hop_by_hop_not_first);
    tcase_add_test(tc, test_header_past_payload_length);
    tcase_add_test(tc, test_bad_option_length);
    tcase_add_test(tc, test_bad_ah_length);
    tcase_add_test(tc, test_chain_cap);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ipv6_suite)

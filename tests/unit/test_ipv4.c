/* test_ipv4.c - unit tests for the IPv4 decoder (ipv4.c).
 *
 * Fixtures are Ethernet frames. Most carry protocol 253 (RFC 3692 experimentation) or IGMP (2),
 * which the dispatcher does not decode: the outcome is then UNSUPPORTED charged to the IPv4
 * layer, whatever the transport decoders do. Fixtures that must decode OK as a whole are
 * non-first fragments, which hand nothing on.
 */
#include "testutil.h"
#include "runner.h"

#define ETH_IPV4 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00
#define ADDRS 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02 /* 192.0.2.1 -> 198.51.100.2 */
#define EXP8 0x00, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef  /* 8 payload bytes */

static const uint8_t SRC[16] = {192, 0, 2, 1};
static const uint8_t DST[16] = {198, 51, 100, 2};

#define DECODE(a) tu_decode(NS_LINKTYPE_ETHERNET, (a), sizeof(a))

/* ---- fixtures ---------------------------------------------------------------------------- */

static const uint8_t ip4_gre[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c, /* v4, IHL 5, tos 0, total 28 */
    0x1c, 0x46, 0x40, 0x00, /* id 0x1c46, DF, offset 0 */
    0x40, 0xfd, 0x31, 0x68, /* ttl 64, proto 253 (experimental), checksum ok */
    ADDRS,
    EXP8,
};

static const uint8_t ip4_bad_cksum[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c, /* v4, IHL 5, total 28 */
    0x1c, 0x46, 0x40, 0x00, /* DF */
    0x40, 0xfd, 0x00, 0x00, /* ttl 64, proto 253, checksum 0 (offloaded: not filled in yet) */
    ADDRS,
    EXP8,
};

static const uint8_t ip4_padded[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c, /* total 28: the frame has 18 more bytes */
    0x1c, 0x46, 0x40, 0x00,
    0x40, 0xfd, 0x31, 0x68,
    ADDRS,
    EXP8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pad */
    0xaa, 0xbb, 0xcc, 0xdd, /* FCS */
};

static const uint8_t ip4_snaplen[] = {
    ETH_IPV4,
    0x45, 0x00, 0x05, 0xdc, /* total 1500, only 28 captured */
    0x1c, 0x46, 0x40, 0x00,
    0x40, 0xfd, 0x2b, 0xa8,
    ADDRS,
    EXP8,
};

static const uint8_t ip4_tso[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x00, /* total 0: segmentation offload on the sender */
    0x1c, 0x46, 0x40, 0x00,
    0x40, 0xfd, 0x31, 0x84,
    ADDRS,
    EXP8,
};

static const uint8_t ip4_frag_first[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c,
    0x1c, 0x46, 0x20, 0x00, /* MF, offset 0 */
    0x40, 0xfd, 0x51, 0x68,
    ADDRS,
    EXP8,
};

static const uint8_t ip4_frag_mid[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c,
    0x1c, 0x46, 0x20, 0xb9, /* MF, offset 185 * 8 = 1480 */
    0x40, 0x11, 0x51, 0x9b, /* ttl 64, UDP (but not a UDP header: a middle fragment) */
    ADDRS,
    EXP8,
};

static const uint8_t ip4_frag_last[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x1c,
    0x1c, 0x46, 0x00, 0xb9, /* offset 1480, last fragment */
    0x40, 0x11, 0x71, 0x9b,
    ADDRS,
    EXP8,
};

static const uint8_t ip4_opt_ra[] = {
    ETH_IPV4,
    0x46, 0x00, 0x00, 0x20, /* IHL 6, total 32 */
    0x1c, 0x46, 0x40, 0x00,
    0x01, 0x02, 0xdc, 0x5a, /* ttl 1, IGMP */
    ADDRS,
    0x94, 0x04, 0x00, 0x00, /* option: router alert, len 4, value 0 */
    EXP8,
};

static const uint8_t ip4_opt_rr[] = {
    ETH_IPV4,
    0x48, 0x00, 0x00, 0x28, /* IHL 8, total 40 */
    0x1c, 0x46, 0x40, 0x00,
    0x40, 0xfd, 0x0e, 0x4e,
    ADDRS,
    0x01,                   /* NOP */
    0x07, 0x0b, 0x04,       /* record route, len 11, pointer 4 */
    0x0a, 0x00, 0x00, 0x01, /*   10.0.0.1 */
    0x0a, 0x00, 0x00, 0x02, /*   10.0.0.2 */
    EXP8,
};

/* Options then a middle fragment: decodes OK as a whole once the header is captured. */
static const uint8_t ip4_opt_frag[] = {
    ETH_IPV4,
    0x47, 0x00, 0x00, 0x24, /* IHL 7, total 36 */
    0x1c, 0x46, 0x20, 0xb9, /* MF, offset 1480 */
    0x40, 0x11, 0xbb, 0x8e,
    ADDRS,
    0x94, 0x04, 0x00, 0x00, /* router alert */
    0x00, 0x00, 0x00, 0x00, /* EOL, padding */
    EXP8,
};

static const uint8_t ip4_in_ip4[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x30, /* outer: total 48 */
    0x00, 0x01, 0x00, 0x00,
    0xff, 0x04, 0xa7, 0xc6, /* ttl 255, IP-in-IP */
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* 10.0.0.1 -> 10.0.0.2 */
    0x45, 0x00, 0x00, 0x1c, /* inner: total 28 */
    0x1c, 0x46, 0x40, 0x00,
    0x40, 0xfd, 0x31, 0x68, /* ttl 64, proto 253 */
    ADDRS,
    EXP8,
};

static const uint8_t ip6_in_ip4[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x3c, /* outer: total 60 */
    0x00, 0x02, 0x00, 0x00,
    0xff, 0x29, 0xa7, 0x94, /* ttl 255, IPv6 (41) */
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x60, 0x00, 0x00, 0x00, /* inner IPv6 */
    0x00, 0x00, 0x3b, 0x40, /* plen 0, no next header, hlim 64 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* 2001:db8::1 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* 2001:db8::2 */
};

static const uint8_t ip4_in_ip4_cut[] = {
    ETH_IPV4,
    0x45, 0x00, 0x00, 0x30, /* outer: total 48, only 30 captured */
    0x00, 0x01, 0x00, 0x00,
    0xff, 0x04, 0xa7, 0xc6,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0xfd, /* inner, cut */
};

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(test_header_fields)
{
    tu_result_t *r = DECODE(ip4_gre);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED); /* protocol 253 is not decoded ... */
    ck_assert_int_eq(p->err_layer, NS_LAYER_IPV4); /* ... and charged to its carrier */
    ck_assert(p->layers & NS_HAS(NS_LAYER_IPV4));
    ck_assert_uint_eq(p->ip_ver, 4);
    ck_assert_mem_eq(p->src.b, SRC, 16);
    ck_assert_mem_eq(p->dst.b, DST, 16);
    ck_assert_uint_eq(p->ttl, 64);
    ck_assert_uint_eq(p->tos, 0);
    ck_assert_uint_eq(p->ip_proto, 253);
    ck_assert_uint_eq(p->ip_flags, NS_IP_DF);
    ck_assert_uint_eq(p->frag_id, 0x1c46);
    ck_assert_uint_eq(p->frag_off, 0);
    ck_assert_uint_eq(p->ip_len, 28);
    ck_assert_uint_eq(p->l3_off, 14);
    ck_assert_uint_eq(p->payload_off, 34);
    ck_assert_uint_eq(p->payload_len, 8);
    ck_assert_uint_eq(p->payload_cap, 8);
    ck_assert_uint_eq(p->encap, 0);
    tu_free(r);
}
END_TEST

START_TEST(test_field_list)
{
    tu_result_t *r = DECODE(ip4_gre);
    const ns_field_t *ip = tu_field(r, "ip", 0);
    ck_assert_ptr_nonnull(ip);
    ck_assert_uint_eq(ip->off, 14);
    ck_assert_uint_eq(ip->len, 20);
    ck_assert_uint_eq(tu_uint(r, "ip.version"), 4);
    ck_assert_uint_eq(tu_uint(r, "ip.hdr_len"), 20);
    ck_assert_uint_eq(tu_uint(r, "ip.len"), 28);
    ck_assert_uint_eq(tu_uint(r, "ip.id"), 0x1c46);
    ck_assert_uint_eq(tu_uint(r, "ip.flags"), 0x2); /* tshark: the 3 flag bits */
    ck_assert_uint_eq(tu_uint(r, "ip.flags.df"), 1);
    ck_assert_uint_eq(tu_uint(r, "ip.flags.mf"), 0);
    ck_assert_uint_eq(tu_uint(r, "ip.ttl"), 64);
    ck_assert_uint_eq(tu_uint(r, "ip.proto"), 253);
    ck_assert_uint_eq(tu_uint(r, "ip.checksum"), 0x3168);
    ck_assert_uint_eq(tu_uint(r, "ip.checksum.status"), 1);
    const ns_field_t *src = tu_field(r, "ip.src", 0);
    const ns_field_t *dst = tu_field(r, "ip.dst", 0);
    ck_assert_ptr_nonnull(src);
    ck_assert_ptr_nonnull(dst);
    ck_assert_uint_eq(src->type, NS_FT_IPV4);
    ck_assert_uint_eq(src->off, 26);
    ck_assert_uint_eq(dst->off, 30);
    ck_assert_mem_eq(r->f.buf + src->off, SRC, 4);
    ck_assert_mem_eq(r->f.buf + dst->off, DST, 4);
    tu_free(r);
}
END_TEST

START_TEST(test_bad_checksum_is_a_flag)
{
    tu_result_t *r = DECODE(ip4_bad_cksum);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED); /* protocol 253, not the checksum */
    ck_assert(r->pkt.ip_flags & NS_IP_CKSUM_BAD);
    ck_assert(r->pkt.ip_flags & NS_IP_DF);
    ck_assert_uint_eq(tu_uint(r, "ip.checksum.status"), 0);
    ck_assert_mem_eq(r->pkt.src.b, SRC, 16);
    tu_free(r);

    r = DECODE(ip4_gre);
    ck_assert(!(r->pkt.ip_flags & NS_IP_CKSUM_BAD));
    tu_free(r);
}
END_TEST

START_TEST(test_padding_and_fcs_trimmed)
{
    tu_result_t *r = DECODE(ip4_padded);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.ip_len, 28);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(r->pkt.payload_cap, 8); /* not the 26 bytes left in the frame */
    tu_free(r);
}
END_TEST

START_TEST(test_snaplen_cut_payload)
{
    tu_result_t *r = DECODE(ip4_snaplen);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED); /* not TRUNCATED: header is whole */
    ck_assert_uint_eq(r->pkt.ip_len, 1500);
    ck_assert_uint_eq(r->pkt.payload_len, 1480);
    ck_assert_uint_eq(r->pkt.payload_cap, 8);
    tu_free(r);
}
END_TEST

START_TEST(test_tso_total_len_zero)
{
    tu_result_t *r = DECODE(ip4_tso);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.ip_len, 28);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    tu_free(r);

    /* Snaplen-cut TSO super-packet: the wire length says how big it was. */
    ns_pkt_t pkt;
    memset(&pkt, 0, sizeof(pkt));
    uint8_t *copy = malloc(sizeof(ip4_tso));
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, ip4_tso, sizeof(ip4_tso));
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, sizeof(ip4_tso), 14 + 20 + 30000, &pkt,
                          NULL, NULL);
    ck_assert_uint_eq(pkt.ip_len, 20 + 30000);
    ck_assert_uint_eq(pkt.payload_len, 30000);
    ck_assert_uint_eq(pkt.payload_cap, 8);
    free(copy);
}
END_TEST

START_TEST(test_fragments)
{
    tu_result_t *r = DECODE(ip4_frag_first);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4); /* first fragment: 253 handed on */
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(r->pkt.ip_flags, NS_IP_MF | NS_IP_FRAG);
    ck_assert_uint_eq(r->pkt.frag_off, 0);
    tu_free(r);

    r = DECODE(ip4_frag_mid);
    ck_assert_int_eq(r->rc, NS_PARSE_OK); /* nothing handed on: UDP is not decoded here */
    ck_assert_uint_eq(r->pkt.layers & NS_HAS(NS_LAYER_UDP), 0);
    ck_assert_uint_eq(r->pkt.ip_flags, NS_IP_MF | NS_IP_FRAG);
    ck_assert_uint_eq(r->pkt.frag_off, 1480);
    ck_assert_uint_eq(r->pkt.frag_id, 0x1c46);
    ck_assert_uint_eq(r->pkt.ip_proto, 17);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(tu_uint(r, "ip.frag_offset"), 1480 / 8); /* field: 8-byte units */
    ck_assert_uint_eq(tu_uint(r, "ip.flags.mf"), 1);
    tu_free(r);

    r = DECODE(ip4_frag_last);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.ip_flags, NS_IP_FRAG);
    ck_assert_uint_eq(r->pkt.frag_off, 1480);
    tu_free(r);
}
END_TEST

START_TEST(test_option_router_alert)
{
    tu_result_t *r = DECODE(ip4_opt_ra);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED); /* IGMP */
    ck_assert_uint_eq(r->pkt.ip_proto, 2);
    ck_assert_uint_eq(r->pkt.ttl, 1);
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 24);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(tu_uint(r, "ip.hdr_len"), 24);
    ck_assert_uint_eq(tu_uint(r, "ip.checksum.status"), 1); /* options are summed too */
    ck_assert_uint_eq(tu_uint(r, "ip.opt.type"), 148);
    ck_assert_uint_eq(tu_uint(r, "ip.opt.len"), 4);
    ck_assert_uint_eq(tu_uint(r, "ip.opt.ra"), 0);
    ck_assert_uint_eq(tu_field(r, "ip", 0)->len, 24);
    tu_free(r);
}
END_TEST

START_TEST(test_option_record_route)
{
    static const uint8_t hop2[] = {10, 0, 0, 2};
    tu_result_t *r = DECODE(ip4_opt_rr);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_int_eq(r->pkt.err_rc, NS_PARSE_UNSUPPORTED);
    ck_assert_uint_eq(tu_field(r, "ip.opt.type", 0)->u, 1); /* NOP */
    ck_assert_uint_eq(tu_field(r, "ip.opt.type", 1)->u, 7);
    ck_assert_uint_eq(tu_uint(r, "ip.opt.len"), 11);
    ck_assert_uint_eq(tu_uint(r, "ip.opt.ptr"), 4);
    ck_assert_ptr_nonnull(tu_field(r, "ip.rec_rt", 0));
    const ns_field_t *x = tu_field(r, "ip.rec_rt", 1);
    ck_assert_ptr_nonnull(x);
    ck_assert_mem_eq(r->f.buf + x->off, hop2, 4);
    ck_assert_ptr_null(tu_field(r, "ip.rec_rt", 2));
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 32);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_mem_eq(r->pkt.dst.b, DST, 16); /* the header's address, not the route's */
    tu_free(r);
}
END_TEST

START_TEST(test_option_then_eol)
{
    tu_result_t *r = DECODE(ip4_opt_frag);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tu_field(r, "ip.opt.type", 0)->u, 148);
    ck_assert_uint_eq(tu_field(r, "ip.opt.type", 1)->u, 0); /* EOL; the padding is skipped */
    ck_assert_ptr_null(tu_field(r, "ip.opt.type", 2));
    ck_assert_uint_eq(r->pkt.payload_off, 14 + 28);
    tu_free(r);
}
END_TEST

START_TEST(test_ip_in_ip_inner_wins)
{
    static const uint8_t outer_src[4] = {10, 0, 0, 1};
    tu_result_t *r = DECODE(ip4_in_ip4);
    const ns_pkt_t *p = &r->pkt;
    ck_assert_int_eq(p->err_layer, NS_LAYER_IPV4);
    ck_assert_int_eq(p->err_rc, NS_PARSE_UNSUPPORTED); /* the inner protocol 253 */
    ck_assert_uint_eq(p->encap, 1);
    ck_assert_uint_eq(p->ip_ver, 4);
    ck_assert_mem_eq(p->src.b, SRC, 16);
    ck_assert_mem_eq(p->dst.b, DST, 16);
    ck_assert_uint_eq(p->ttl, 64);
    ck_assert_uint_eq(p->ip_proto, 253);
    ck_assert_uint_eq(p->ip_flags, NS_IP_DF);
    ck_assert_uint_eq(p->l3_off, 34);
    ck_assert_uint_eq(p->ip_len, 28);
    ck_assert_uint_eq(p->payload_off, 54);
    ck_assert_uint_eq(p->payload_len, 8);
    /* both headers are in the tree */
    const ns_field_t *s0 = tu_field(r, "ip.src", 0);
    ck_assert_ptr_nonnull(s0);
    ck_assert_mem_eq(r->f.buf + s0->off, outer_src, 4);
    ck_assert_ptr_nonnull(tu_field(r, "ip.src", 1));
    tu_free(r);

    r = DECODE(ip6_in_ip4);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.encap, 1);
    ck_assert_uint_eq(r->pkt.ip_ver, 6);
    ck_assert_uint_eq(r->pkt.src.b[0], 0x20);
    ck_assert_uint_eq(r->pkt.src.b[15], 0x01);
    ck_assert_uint_eq(r->pkt.l3_off, 34);
    ck_assert_uint_eq(r->pkt.ip_proto, 59);
    tu_free(r);
}
END_TEST

/* ---- truncated --------------------------------------------------------------------------- */

START_TEST(test_truncation_sweep)
{
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip4_opt_frag, sizeof(ip4_opt_frag), 14 + 28);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip4_frag_mid, sizeof(ip4_frag_mid), 14 + 20);
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip4_opt_rr, sizeof(ip4_opt_rr), sizeof(ip4_opt_rr));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip4_in_ip4, sizeof(ip4_in_ip4), sizeof(ip4_in_ip4));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, ip4_tso, sizeof(ip4_tso), sizeof(ip4_tso));
}
END_TEST

START_TEST(test_truncated_header)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, ip4_gre, 14 + 19);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    tu_free(r);

    /* options cut by the capture */
    r = tu_decode(NS_LINKTYPE_ETHERNET, ip4_opt_frag, 14 + 22);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(tu_uint(r, "ip.checksum.status"), 2); /* unverified */
    tu_free(r);

    /* header whole, payload cut: OK */
    r = tu_decode(NS_LINKTYPE_ETHERNET, ip4_opt_frag, 14 + 28 + 3);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 8);
    ck_assert_uint_eq(r->pkt.payload_cap, 3);
    tu_free(r);
}
END_TEST

START_TEST(test_truncated_inner_keeps_outer)
{
    static const uint8_t outer_src[16] = {10, 0, 0, 1};
    tu_result_t *r = DECODE(ip4_in_ip4_cut);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.encap, 0);
    ck_assert_mem_eq(r->pkt.src.b, outer_src, 16);
    ck_assert_uint_eq(r->pkt.ip_proto, 4);
    ck_assert_uint_eq(r->pkt.l3_off, 14);
    tu_free(r);
}
END_TEST

/* ---- invalid ----------------------------------------------------------------------------- */

/* Decode ip4_gre with bytes [14 + at, 14 + at + n) replaced; expect INVALID at IPv4. */
static tu_result_t *
decode_patched(const uint8_t *base, size_t len, size_t at, const uint8_t *patch, size_t n)
{
    uint8_t buf[128];
    ck_assert_uint_le(len, sizeof(buf));
    memcpy(buf, base, len);
    memcpy(buf + 14 + at, patch, n);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, buf, len);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    return r;
}

START_TEST(test_bad_version)
{
    static const uint8_t v5[] = {0x55};
    tu_result_t *r = decode_patched(ip4_gre, sizeof(ip4_gre), 0, v5, 1);
    ck_assert_uint_eq(r->pkt.ip_ver, 0); /* nothing committed */
    ck_assert_uint_eq(tu_uint(r, "ip.version"), 5);
    tu_free(r);
}
END_TEST

START_TEST(test_bad_ihl)
{
    static const uint8_t ihl4[] = {0x44};
    tu_result_t *r = decode_patched(ip4_gre, sizeof(ip4_gre), 0, ihl4, 1);
    ck_assert_uint_eq(r->pkt.ip_ver, 0);
    ck_assert_uint_eq(tu_uint(r, "ip.hdr_len"), 16);
    tu_free(r);

    static const uint8_t ihl0[] = {0x40};
    tu_free(decode_patched(ip4_gre, sizeof(ip4_gre), 0, ihl0, 1));
}
END_TEST

START_TEST(test_total_len_below_header)
{
    static const uint8_t len16[] = {0x00, 0x10};
    tu_free(decode_patched(ip4_gre, sizeof(ip4_gre), 2, len16, 2));
    static const uint8_t len19[] = {0x00, 0x13};
    tu_free(decode_patched(ip4_gre, sizeof(ip4_gre), 2, len19, 2));
    /* IHL 6 (24 bytes) but total 22 */
    static const uint8_t len22[] = {0x00, 0x16};
    tu_free(decode_patched(ip4_opt_ra, sizeof(ip4_opt_ra), 2, len22, 2));
}
END_TEST

START_TEST(test_bad_option_length)
{
    static const uint8_t zero[] = {0x07, 0x00, 0x00, 0x00};    /* RR, len 0 */
    static const uint8_t one[] = {0x44, 0x01, 0x00, 0x00};     /* TS, len 1 */
    static const uint8_t past[] = {0x44, 0x08, 0x05, 0x00};    /* TS, len 8 > 4 left */
    static const uint8_t ra3[] = {0x94, 0x03, 0x00, 0x01};     /* RA must be 4 */
    static const uint8_t rr_odd[] = {0x07, 0x04, 0x04, 0x00};  /* RR: not whole addresses */
    static const uint8_t no_len[] = {0x01, 0x01, 0x01, 0x94};  /* NOPs, then no length byte */
    const uint8_t *bad[] = {zero, one, past, ra3, rr_odd, no_len};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_result_t *r = decode_patched(ip4_opt_ra, sizeof(ip4_opt_ra), 20, bad[i], 4);
        ck_assert_uint_eq(r->pkt.ip_ver, 4); /* the header itself was sound */
        ck_assert_mem_eq(r->pkt.src.b, SRC, 16);
        tu_free(r);
    }
}
END_TEST

START_TEST(test_ping_of_death)
{
    /* offset 65512 + 100 payload bytes > 65535 */
    static const uint8_t pod[] = {
        ETH_IPV4,
        0x45, 0x00, 0x00, 0x78, /* total 120 */
        0x1c, 0x46, 0x1f, 0xfd, /* offset 8189 * 8 = 65512 */
        0x40, 0x11, 0x51, 0xfb,
        ADDRS,
        EXP8,
    };
    tu_result_t *r = DECODE(pod);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_IPV4);
    ck_assert_uint_eq(r->pkt.frag_off, 65512);
    tu_free(r);
}
END_TEST

/* RFC 1071 the plain way: 16-bit big-endian words, end-around carry, complemented. */
static uint16_t
ref_cksum(const uint8_t *h, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Is the header's checksum reported bad, on the fast path and with a protocol tree? Both
 * must agree. */
static bool
cksum_bad(const uint8_t *frame, uint32_t len)
{
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, frame, len);
    ns_pkt_t fast, tree;
    memset(&fast, 0, sizeof(fast));
    memset(&tree, 0, sizeof(tree));
    static ns_field_t v[TU_MAX_FIELDS];
    static char arena[4096];
    ns_fields_t f;
    ns_fields_init(&f, v, TU_MAX_FIELDS, arena, sizeof(arena));
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, len, len, &fast, NULL, NULL);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, copy, len, len, &tree, &f, NULL);
    free(copy);
    ck_assert_uint_eq(fast.ip_ver, 4);
    ck_assert_uint_eq(fast.ip_flags & NS_IP_CKSUM_BAD, tree.ip_flags & NS_IP_CKSUM_BAD);
    return (fast.ip_flags & NS_IP_CKSUM_BAD) != 0;
}

/* The decoder sums 32-bit words (the first 20 bytes unrolled) and folds: every header length,
 * random contents, against the 16-bit reference; then any single flipped bit is caught. */
START_TEST(test_checksum_against_reference)
{
    uint64_t seed = 99;
    for (uint32_t ihl = 5; ihl <= 15; ihl++) {
        for (uint32_t trial = 0; trial < 200; trial++) {
            uint8_t fr[14 + 60 + 8];
            uint32_t hlen = ihl * 4, len = 14 + hlen + 8;
            const uint8_t eth[] = {ETH_IPV4};
            memcpy(fr, eth, 14);
            uint8_t *h = fr + 14;
            for (uint32_t i = 0; i < hlen + 8; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                h[i] = (uint8_t)(seed >> 56);
            }
            h[0] = (uint8_t)(0x40 | ihl);
            h[2] = 0;
            h[3] = (uint8_t)(hlen + 8);    /* total length: header and 8 bytes */
            h[6] &= 0x40;                  /* DF at most: not a fragment */
            h[7] = 0;
            h[9] = 253;                    /* experimental: nothing decoded after */
            memset(h + 20, 0x01, hlen - 20); /* options: NOPs */
            h[10] = h[11] = 0;
            uint16_t sum = ref_cksum(h, hlen);
            h[10] = (uint8_t)(sum >> 8);
            h[11] = (uint8_t)sum;
            ck_assert_msg(!cksum_bad(fr, len), "ihl %u trial %u: good checksum reported bad",
                          ihl, trial);
            uint32_t bit = (uint32_t)(seed >> 20) % (hlen * 8 - 32) + 32; /* past the lengths */
            h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (bit / 8 == 9 || (bit / 8 >= 20 && h[bit / 8] != 0x01))
                continue; /* changed the protocol or an option: no longer the same test */
            ck_assert_msg(cksum_bad(fr, len), "ihl %u trial %u: flipped bit %u not caught", ihl,
                          trial, bit);
        }
    }
}
END_TEST

static Suite *
ipv4_suite(void)
{
    Suite *s = suite_create("ipv4");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_header_fields);
    tcase_add_test(tc, test_field_list);
    tcase_add_test(tc, test_bad_checksum_is_a_flag);
    tcase_add_test(tc, test_checksum_against_reference);
    tcase_add_test(tc, test_padding_and_fcs_trimmed);
    tcase_add_test(tc, test_snaplen_cut_payload);
    tcase_add_test(tc, test_tso_total_len_zero);
    tcase_add_test(tc, test_fragments);
    tcase_add_test(tc, test_option_router_alert);
    tcase_add_test(tc, test_option_record_route);
    tcase_add_test(tc, test_option_then_eol);
    tcase_add_test(tc, test_ip_in_ip_inner_wins);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_truncation_sweep);
    tcase_add_test(tc, test_truncated_header);
    tcase_add_test(tc, test_truncated_inner_keeps_outer);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_bad_ihl);
    tcase_add_test(tc, test_total_len_below_header);
    tcase_add_test(tc, test_bad_option_length);
    tcase_add_test(tc, test_ping_of_death);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(ipv4_suite)

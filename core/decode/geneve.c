/* geneve.c - Geneve, Generic Network Virtualization Encapsulation (UDP 6081).
 *
 * Spec: RFC 8926 section 3.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Virtual Network Identifier (VNI)       |    Reserved   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Variable-Length Options                    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each option: class (16), type (8), 3 reserved bits and a 5-bit length in 4-byte words of
 * data after the 4-byte option header. Opt Len (in 4-byte words) bounds the options; an option
 * running past it is INVALID. The protocol type is an ethertype: 0x6558 carries an Ethernet
 * frame, anything else goes to the ethertype table (IPv4, IPv6, ...). A version other than 0
 * is UNSUPPORTED (section 3.4: a receiver MUST drop it, but it is not malformed).
 */
#include "decode_int.h"

#define GENEVE_HDR_LEN 8u
#define GENEVE_OPT_HDR_LEN 4u
#define GENEVE_MAX_OPTS 64u /* Opt Len caps the options at 252 bytes: at most 63 of them */
#define GENEVE_PROTO_TEB 0x6558u

/* Walk the option block [c->off, c->off + len); INVALID when an option overruns it. */
static ns_parse_rc_t
geneve_options(ns_cur_t *c, ns_fields_t *f, uint32_t len)
{
    uint32_t end = c->off + len;
    for (uint32_t i = 0; c->off < end; i++) {
        if (i >= GENEVE_MAX_OPTS || end - c->off < GENEVE_OPT_HDR_LEN)
            return NS_PARSE_INVALID;
        uint32_t at = c->off;
        uint16_t cls = ns_cur_be16(c);
        uint8_t type = ns_cur_u8(c);
        uint8_t words = ns_cur_u8(c) & 0x1fu;
        if (!ns_cur_ok(c))
            return NS_PARSE_TRUNCATED;
        ns_field_hex(f, "geneve.option.class", at, 2, cls);
        ns_field_hex(f, "geneve.option.type", at + 2, 1, type);
        ns_field_uint(f, "geneve.option.length", at + 3, 1, (uint32_t)words * 4u);
        if ((uint32_t)words * 4u > end - c->off)
            return NS_PARSE_INVALID;
        ns_cur_skip(c, (uint32_t)words * 4u);
    }
    return ns_cur_ok(c) ? NS_PARSE_OK : NS_PARSE_TRUNCATED;
}

ns_parse_rc_t
ns_decode_geneve(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_GENEVE);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "geneve", start);
    uint8_t b0 = ns_cur_u8(c);
    uint8_t b1 = ns_cur_u8(c);
    uint16_t proto = ns_cur_be16(c);
    uint32_t vni = ns_cur_be32(c) >> 8;
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t version = b0 >> 6, opt_len = (uint32_t)(b0 & 0x3fu) * 4u;
    ns_field_uint(d->f, "geneve.version", start, 1, version);
    ns_field_uint(d->f, "geneve.options_length", start, 1, opt_len);
    ns_field_bool(d->f, "geneve.flags.oam", start + 1, 1, (b1 & 0x80u) != 0);
    ns_field_bool(d->f, "geneve.flags.critical", start + 1, 1, (b1 & 0x40u) != 0);
    ns_field_hex(d->f, "geneve.proto_type", start + 2, 2, proto);
    ns_field_uint(d->f, "geneve.vni", start + 4, 3, vni);
    if (version != 0) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_UNSUPPORTED;
    }
    if (GENEVE_HDR_LEN + opt_len > d->pkt->payload_len) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID; /* the options cannot end past the datagram */
    }
    ns_parse_rc_t rc = geneve_options(c, d->f, opt_len);
    ns_field_close(d->f, node, c->off);
    if (rc != NS_PARSE_OK)
        return rc;
    if (ns_cur_left(c) == 0)
        return c->off - start >= d->pkt->payload_len ? NS_PARSE_OK : NS_PARSE_TRUNCATED;
    d->pkt->ethertype = proto;
    d->next = proto == GENEVE_PROTO_TEB ? NS_NEXT_ETH : NS_NEXT_ETHERTYPE;
    d->next_val = proto;
    return NS_PARSE_OK;
}

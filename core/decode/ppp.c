/* ppp.c - serial-line and PPP framings: PPP (LINKTYPE_PPP 9, PPP_HDLC 50), Cisco HDLC
 * (LINKTYPE_C_HDLC 104) and PPPoE sessions (ethertype 0x8864).
 *
 * Specs: RFC 1661 (PPP), RFC 1662 (PPP in HDLC-like framing: 0xff 0x03 before the protocol),
 * RFC 2516 (PPPoE), Cisco HDLC (RFC 1547 section 4.3.1): address 0x0f/0x8f, control 0, then an
 * Ethernet type. Captures labelled PPP sometimes hold Cisco HDLC frames; the first byte tells
 * them apart, as Wireshark does.
 *
 *   PPP:     [ff 03] | protocol (1 or 2 bytes) | payload
 *   C-HDLC:  address | control | type (2)      | payload
 *   PPPoE:   ver/type | code | session id (2) | length (2) | PPP protocol (2) | payload
 *
 * PPP protocols are mapped to the ethertype of the same payload (IPv4, IPv6, MPLS) so the
 * dispatcher's ethertype table does the rest. Control protocols (LCP, IPCP, ...) are
 * UNSUPPORTED: counted, not decoded.
 */
#include "decode_int.h"

#define CHDLC_UNICAST 0x0fu
#define CHDLC_BROADCAST 0x8fu
#define PPP_ADDRESS 0xffu
#define PPP_CONTROL 0x03u
#define PPPOE_HDR_LEN 6u
#define PPPOE_CODE_SESSION 0x00u

/* Ethertype carrying the same payload as PPP protocol `proto`, or 0. */
static uint16_t
ppp_to_ethertype(uint16_t proto)
{
    switch (proto) {
    case 0x0021: return NS_ETH_IPV4;
    case 0x0057: return NS_ETH_IPV6;
    case 0x0281: return NS_ETH_MPLS;
    case 0x0283: return NS_ETH_MPLS_MC;
    default: return 0;
    }
}

static ns_parse_rc_t
ppp_next(ns_dec_t *d, uint16_t proto)
{
    return ns_dec_next_ethertype(d, ppp_to_ethertype(proto));
}

ns_parse_rc_t
ns_decode_chdlc(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "chdlc", start);
    uint8_t addr = ns_cur_u8(c);
    uint8_t control = ns_cur_u8(c);
    uint16_t proto = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_hex(d->f, "chdlc.address", start, 1, addr);
    ns_field_hex(d->f, "chdlc.control", start + 1, 1, control);
    ns_field_hex(d->f, "chdlc.protocol", start + 2, 2, proto);
    ns_field_close(d->f, node, c->off);
    if (addr != CHDLC_UNICAST && addr != CHDLC_BROADCAST)
        return NS_PARSE_INVALID;
    d->pkt->ethertype = proto;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = proto;
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_ppp(ns_cur_t *c, ns_dec_t *d)
{
    uint8_t first = ns_cur_peek(c, 0);
    if (first == CHDLC_UNICAST || first == CHDLC_BROADCAST)
        return ns_decode_chdlc(c, d);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "ppp", start);
    if (first == PPP_ADDRESS && ns_cur_peek(c, 1) == PPP_CONTROL) {
        ns_field_hex(d->f, "ppp.address", start, 1, PPP_ADDRESS);
        ns_field_hex(d->f, "ppp.control", start + 1, 1, PPP_CONTROL);
        ns_cur_skip(c, 2);
    }
    /* RFC 1661 2: a protocol field whose first byte is odd was compressed to one byte. */
    uint32_t proto_at = c->off;
    uint16_t proto = ns_cur_u8(c);
    if (!(proto & 1u))
        proto = (uint16_t)(proto << 8 | ns_cur_u8(c));
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_hex(d->f, "ppp.protocol", proto_at, c->off - proto_at, proto);
    ns_field_close(d->f, node, c->off);
    return ppp_next(d, proto);
}

ns_parse_rc_t
ns_decode_pppoe(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "pppoes", start);
    uint8_t vertype = ns_cur_u8(c);
    uint8_t code = ns_cur_u8(c);
    uint16_t session = ns_cur_be16(c);
    uint16_t len = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "pppoe.version", start, 1, vertype >> 4);
    ns_field_uint(d->f, "pppoe.type", start, 1, vertype & 15u);
    ns_field_hex(d->f, "pppoe.code", start + 1, 1, code);
    ns_field_hex(d->f, "pppoe.session_id", start + 2, 2, session);
    ns_field_uint(d->f, "pppoe.payload_length", start + 4, 2, len);
    if (vertype != 0x11u || code != PPPOE_CODE_SESSION || len < 2) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    (void)ns_cur_narrow(c, len);
    uint16_t proto = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_hex(d->f, "ppp.protocol", start + PPPOE_HDR_LEN, 2, proto);
    ns_field_close(d->f, node, c->off);
    return ppp_next(d, proto);
}

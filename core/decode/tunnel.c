/* tunnel.c - UDP tunnels whose payload is decoded again (VXLAN, GTP-U), and the carrier of
 * every tunnel (ns_tunnel_carrier).
 *
 * VXLAN, RFC 7348 (UDP 4789): an 8-byte header, then a whole Ethernet frame.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * GTP-U version 1, 3GPP TS 29.281 (UDP 2152): G-PDU messages (type 255) carry a user's IPv4 or
 * IPv6 packet; other message types (echo, error indication, end marker) end decoding here.
 *
 *   +--------+--------+--------+--------+
 *   |V  P|E S N| type | length (bytes after the first 8)
 *   +--------+--------+--------+--------+
 *   |  Tunnel Endpoint Identifier (TEID)|
 *   +--------+--------+--------+--------+
 *   | seq (if E|S|N)  | N-PDU  | next ext type   (the 4 optional bytes)
 *   +--------+--------+--------+--------+
 *   | ext len (x4 bytes) | ext contents ... | next ext type  (repeats, bounded)
 *
 * The inner packet overwrites the summary's addresses and ports (the innermost header wins,
 * as for IP-in-IP); the tree keeps both. The inner IP header counts the tunnel in pkt->encap
 * (it counts every IP header below another), so these decoders do not. Nesting is capped by
 * the dispatcher. A GTP length that does not fit the UDP payload, a zero-length extension
 * header or more than GTP_MAX_EXT of them is INVALID.
 */
#include "decode_int.h"

#define VXLAN_HDR_LEN 8u
#define VXLAN_FLAG_I 0x08u
#define GTP_HDR_LEN 8u
#define GTP_OPT_LEN 4u
#define GTP_FLAG_E 0x04u
#define GTP_FLAG_S 0x02u
#define GTP_FLAG_PN 0x01u
#define GTP_TYPE_GPDU 255u
#define GTP_MAX_EXT 8u /* extension headers walked before calling the packet invalid */

/* The connection a tunnel decoder is about to look into: the outermost one is kept in
 * pkt->tun (the summary's addresses and ports become the inner packet's). Called first by each
 * tunnel decoder (VXLAN, GTP-U, Geneve, Teredo, AYIYA, GRE, CAPWAP) and by an IP header found
 * inside another (IP-in-IP: ns_decode_ip_inner), so packets without a tunnel never run it. A
 * carrier other than UDP (GRE or IP-in-IP straight over IP) has no ports. */
void
ns_tunnel_carrier(ns_pkt_t *pkt, ns_layer_t layer)
{
    if (pkt->tun_n != 0 || pkt->ip_ver == 0)
        return;
    ns_tun_carrier_t *o = &pkt->tun;
    bool udp = pkt->ip_proto == NS_IPPROTO_UDP;
    pkt->tun_n = 1;
    o->src = pkt->src;
    o->dst = pkt->dst;
    o->sport = udp ? pkt->sport : 0;
    o->dport = udp ? pkt->dport : 0;
    o->ip_len = pkt->ip_len;
    o->payload_len = pkt->payload_len;
    o->l3_off = pkt->l3_off;
    o->frag_id = pkt->frag_id;
    o->ip_ver = pkt->ip_ver;
    o->ip_flags = pkt->ip_flags;
    o->ip_proto = pkt->ip_proto;
    o->layer = (uint8_t)layer;
}

void
ns_decode_ip_inner(ns_pkt_t *pkt, ns_layer_t layer)
{
    ns_tunnel_carrier(pkt, layer);
    if (pkt->encap < UINT8_MAX)
        pkt->encap++;
}

ns_parse_rc_t
ns_decode_vxlan(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_VXLAN);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "vxlan", start);
    uint16_t flags = ns_cur_be16(c); /* 8 flag bits and 8 reserved: Wireshark's 16-bit field */
    ns_cur_skip(c, 2);
    uint32_t vni = ns_cur_be32(c) >> 8;
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_hex(d->f, "vxlan.flags", start, 2, flags);
    ns_field_uint(d->f, "vxlan.vni", start + 4, 3, vni);
    ns_field_close(d->f, node, c->off);
    if (!((flags >> 8) & VXLAN_FLAG_I))
        return NS_PARSE_INVALID; /* RFC 7348: the I flag MUST be set */
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}

/* The optional part of a GTP-U header (E, S or PN set): sequence number, N-PDU number and the
 * extension header chain. `whole`: the cursor holds every byte the length field declares, so
 * a chain running past it is INVALID rather than cut by the capture. */
static ns_parse_rc_t
gtpu_optional(ns_cur_t *c, ns_fields_t *f, uint8_t flags, bool whole)
{
    uint32_t at = c->off;
    uint16_t seq = ns_cur_be16(c);
    uint8_t npdu = ns_cur_u8(c);
    uint8_t next = ns_cur_u8(c);
    if (!ns_cur_ok(c))
        return whole ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
    /* The word is there when any of E, S, PN is set; each part means something only under
     * its own flag (and only then does tshark show it). */
    if (flags & GTP_FLAG_S)
        ns_field_hex(f, "gtp.seq_number", at, 2, seq);
    if (flags & GTP_FLAG_PN)
        ns_field_uint(f, "gtp.npdu_number", at + 2, 1, npdu);
    if (flags & GTP_FLAG_E)
        ns_field_hex(f, "gtp.ext_hdr.next", at + 3, 1, next);
    /* 29.281 5.1: the next-type byte is only meaningful when E is set. */
    for (uint32_t i = 0; next != 0 && (flags & GTP_FLAG_E); i++) {
        if (i >= GTP_MAX_EXT)
            return NS_PARSE_INVALID;
        at = c->off;
        uint8_t units = ns_cur_u8(c);
        if (!ns_cur_ok(c))
            return whole ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
        if (units == 0)
            return NS_PARSE_INVALID; /* 29.281 5.2.1: the length is never 0 */
        ns_field_uint(f, "gtp.ext_hdr.length", at, 1, units);
        /* units*4 bytes in all: the length byte, the contents, and the next-type byte. */
        ns_cur_skip(c, (uint32_t)units * 4u - 2u);
        uint32_t next_at = c->off;
        next = ns_cur_u8(c);
        if (!ns_cur_ok(c))
            return whole ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
        ns_field_hex(f, "gtp.ext_hdr.next", next_at, 1, next);
    }
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_gtpu(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_GTP);
    uint32_t start = c->off;
    uint32_t udp_payload = d->pkt->payload_len; /* declared by UDP */
    int32_t node = ns_field_open(d->f, "gtp", start);
    uint8_t flags = ns_cur_u8(c);
    uint8_t type = ns_cur_u8(c);
    uint16_t len = ns_cur_be16(c);
    uint32_t teid = ns_cur_be32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_hex(d->f, "gtp.flags", start, 1, flags);
    ns_field_hex(d->f, "gtp.message", start + 1, 1, type);
    ns_field_uint(d->f, "gtp.length", start + 2, 2, len);
    ns_field_hex(d->f, "gtp.teid", start + 4, 4, teid);
    if ((flags >> 5) != 1 || !(flags & 0x10u)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_UNSUPPORTED; /* GTP' or GTPv0/v2: not user-plane GTPv1 */
    }
    /* The length counts everything after the mandatory 8 bytes and must fit in the UDP
     * payload; narrowing to it trims anything after the message. */
    if (GTP_HDR_LEN + (uint32_t)len > udp_payload) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    bool whole = ns_cur_narrow(c, len);
    if (flags & (GTP_FLAG_E | GTP_FLAG_S | GTP_FLAG_PN)) {
        ns_parse_rc_t rc =
            len < GTP_OPT_LEN ? NS_PARSE_INVALID : gtpu_optional(c, d->f, flags, whole);
        if (rc != NS_PARSE_OK) {
            ns_field_close(d->f, node, c->off);
            return rc;
        }
    }
    ns_field_close(d->f, node, c->off);
    if (type != GTP_TYPE_GPDU)
        return NS_PARSE_OK; /* signalling on the user plane: nothing inside to decode */
    if (ns_cur_left(c) == 0)
        return whole ? NS_PARSE_OK : NS_PARSE_TRUNCATED; /* empty, or the capture cut it */
    uint8_t version = (uint8_t)(ns_cur_peek(c, 0) >> 4);
    if (version != 4 && version != 6)
        return NS_PARSE_UNSUPPORTED;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = version == 4 ? NS_ETH_IPV4 : NS_ETH_IPV6;
    return NS_PARSE_OK;
}

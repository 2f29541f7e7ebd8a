/* udp.c - UDP header decoder.
 *
 * Spec: RFC 768.
 *
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |   Source Port   |    Dest Port    |
 *   +--------+--------+--------+--------+
 *   |     Length      |    Checksum     |
 *   +--------+--------+--------+--------+
 *
 * The length field must fit inside the IP payload; a larger one is INVALID. A length of 0 is
 * allowed over IPv6 jumbograms only, which we do not see on links we capture, so it is INVALID.
 */
#include "decode_int.h"

#define UDP_HDR_LEN 8u

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_udp_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    uint32_t ip_payload = pkt->payload_len; /* set by the IP layer: declared L4 bytes */
    int32_t node = ns_field_open(f, "udp", start);

    /* A first fragment carries only part of the datagram the length field describes. */
    bool fragment = (pkt->ip_flags & NS_IP_FRAG) != 0;
    ns_view_t h;
    if (__builtin_expect(!ns_cur_view(c, UDP_HDR_LEN, &h), 0)) {
        /* Cut short: keep the ports that are there. */
        ns_view_t part = ns_cur_view_from(c, start);
        pkt->sport = ns_view_be16(&part, 0);
        pkt->dport = ns_view_be16(&part, 2);
        ns_field_close(f, node, c->off);
        /* The IP layer narrowed the cursor to its declared length: a datagram declared
         * shorter than the header is malformed, not cut short by the capture. */
        return ip_payload < UDP_HDR_LEN && !fragment ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
    }
    pkt->sport = ns_view_be16(&h, 0);
    pkt->dport = ns_view_be16(&h, 2);
    uint16_t ulen = ns_view_be16(&h, 4);
    uint16_t sum = ns_view_be16(&h, 6); /* not verified: captures are often checksum-offloaded */
    pkt->l4_off = start;
    pkt->payload_off = c->off;
    ns_field_uint(f, "udp.srcport", start, 2, pkt->sport);
    ns_field_uint(f, "udp.dstport", start + 2, 2, pkt->dport);
    ns_field_uint(f, "udp.length", start + 4, 2, ulen);
    ns_field_hex(f, "udp.checksum", start + 6, 2, sum);
    ns_field_close(f, node, c->off);
    if (ulen < UDP_HDR_LEN || (ulen > ip_payload && !fragment)) {
        pkt->payload_len = ip_payload >= UDP_HDR_LEN ? ip_payload - UDP_HDR_LEN : 0;
        (void)ns_cur_narrow(c, pkt->payload_len);
        pkt->payload_cap = ns_cur_left(c);
        /* The header is bogus but the IP layer still bounds a payload: decode that, flagged,
         * as Wireshark does ("bad length value > IP payload length"). */
        if (ulen >= UDP_HDR_LEN)
            d->next = NS_NEXT_APP;
        return NS_PARSE_INVALID;
    }
    pkt->payload_len = ulen - UDP_HDR_LEN;
    if (!fragment)
        (void)ns_cur_narrow(c, pkt->payload_len);
    pkt->payload_cap = ns_cur_left(c);
    d->next = NS_NEXT_APP;
    return NS_PARSE_OK;
}

NS_DECODER(ns_decode_udp, ns_decode_udp_body)

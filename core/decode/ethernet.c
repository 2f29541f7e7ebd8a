/* ethernet.c - Ethernet II / IEEE 802.3 frame decoder (LINKTYPE_ETHERNET).
 *
 * Spec: IEEE 802.3; Ethernet II (DIX). A type/length field of 1500 or less is an 802.3
 * length: the frame carries LLC/SNAP, which NetScope reports as "not decoded" (UNSUPPORTED).
 *
 *    0                   6                  12      14
 *   +-------------------+------------------+-------+---------
 *   |  Destination MAC  |    Source MAC    | Type  | Payload
 *   +-------------------+------------------+-------+---------
 *
 * The FCS, when a capture keeps it, and padding are trimmed later by the IP length fields.
 */
#include "decode_int.h"

#define ETH_HDR_LEN 14u
#define ETH_MAX_8023_LEN 1500u

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_eth_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    ns_view_t h;
    if (!ns_cur_view(c, ETH_HDR_LEN, &h)) {
        ns_field_close(f, ns_field_open(f, "eth", start), c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_view_copy(&h, 0, pkt->eth_dst, 6);
    ns_view_copy(&h, 6, pkt->eth_src, 6);
    uint16_t type = ns_view_be16(&h, 12);
    if (f) {
        int32_t node = ns_field_open(f, "eth", start);
        ns_field_raw(f, "eth.dst", start, 6, NS_FT_MAC);
        ns_field_raw(f, "eth.src", start + 6, 6, NS_FT_MAC);
        if (type <= ETH_MAX_8023_LEN)
            ns_field_uint(f, "eth.len", start + 12, 2, type);
        else
            ns_field_hex(f, "eth.type", start + 12, 2, type);
        ns_field_close(f, node, c->off);
    }
    if (type <= ETH_MAX_8023_LEN)
        return NS_PARSE_UNSUPPORTED; /* 802.3 + LLC: not decoded */
    return ns_dec_next_ethertype(d, type);
}

NS_DECODER(ns_decode_eth, ns_decode_eth_body)

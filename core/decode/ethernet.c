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

ns_parse_rc_t
ns_decode_eth(ns_cur_t *c, ns_dec_t *d)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "eth", start);
    ns_cur_copy(c, pkt->eth_dst, 6);
    ns_cur_copy(c, pkt->eth_src, 6);
    uint16_t type = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_raw(d->f, "eth.dst", start, 6, NS_FT_MAC);
    ns_field_raw(d->f, "eth.src", start + 6, 6, NS_FT_MAC);
    if (type <= ETH_MAX_8023_LEN) {
        ns_field_uint(d->f, "eth.len", start + 12, 2, type);
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_UNSUPPORTED; /* 802.3 + LLC: not decoded */
    }
    ns_field_hex(d->f, "eth.type", start + 12, 2, type);
    ns_field_close(d->f, node, c->off);
    pkt->ethertype = type;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = type;
    return NS_PARSE_OK;
}

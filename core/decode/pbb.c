/* pbb.c - IEEE 802.1ah Provider Backbone Bridging: the I-TAG (ethertype 0x88E7).
 *
 * Spec: IEEE 802.1Q-2018 clause 9.7 (backbone service instance tag).
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | PCP |D|U| Res |            I-SID (service instance)           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  customer destination and source addresses, ethertype ...     |
 *
 * The backbone frame is B-DA, B-SA, usually a B-TAG (0x88A8), then the I-TAG; the customer's
 * frame (C-DA, C-SA, its ethertype) follows and is handed to the Ethernet decoder, so the
 * summary shows the customer's addresses. The reserved bits are not checked (senders differ).
 */
#include "decode_int.h"

ns_parse_rc_t
ns_decode_pbb(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "ieee8021ah", start);
    uint32_t itag = ns_cur_be32(c);
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    ns_field_uint(d->f, "ieee8021ah.priority", start, 1, itag >> 29);
    ns_field_uint(d->f, "ieee8021ah.drop", start, 1, (itag >> 28) & 1u);
    ns_field_uint(d->f, "ieee8021ah.isid", start + 1, 3, itag & 0xffffffu);
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}

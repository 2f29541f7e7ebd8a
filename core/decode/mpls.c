/* mpls.c - MPLS label stack (ethertypes 0x8847 unicast, 0x8848 multicast).
 *
 * Spec: RFC 3032 (label stack encoding), RFC 5462 (EXP renamed Traffic Class), RFC 4385
 * (pseudowire control word), RFC 5586 (GAL/G-ACh).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                Label                  | TC  |S|      TTL      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     repeated until S (bottom of stack) is set
 *
 * One call walks the whole stack, bounded by the cursor and by MPLS_MAX_LABELS; a longer stack
 * is not decoded (UNSUPPORTED, like the dispatcher's encapsulation cap). The first NS_MAX_MPLS
 * labels are kept, outermost first; mpls_n counts every label (saturating).
 *
 * MPLS does not say what it carries. The explicit-null labels do (RFC 3032 2.1: 0 is IPv4, 2 is
 * IPv6); otherwise, like every router and analyzer, we look at the first nibble after the
 * stack: 4 is IPv4, 6 is IPv6, 0 is a pseudowire control word followed by an Ethernet frame.
 * Anything else (1: a G-ACh channel header, or Ethernet over MPLS without a control word) is
 * UNSUPPORTED. When the capture
 * ends right after the stack the payload cannot be named: TRUNCATED.
 */
#include "decode_int.h"

#define MPLS_LSE_LEN 4u
#define MPLS_MAX_LABELS 32u /* far beyond any real stack (segment routing uses ~10) */
#define MPLS_LABEL_IPV4_NULL 0u
#define MPLS_LABEL_IPV6_NULL 2u

/* RFC 4385 section 3: the generic pseudowire control word, first nibble 0.
 *
 *    0 0 0 0 | Flags (4) | FRG (2) | Length (6) | Sequence Number (16)
 *
 * Followed here, as Wireshark's default heuristic does, by an Ethernet frame (RFC 4448, the
 * Ethernet pseudowire, by far the most common with a control word). A fragment (FRG not 0)
 * is not reassembled: UNSUPPORTED. */
static ns_parse_rc_t
pw_control_word(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t at = c->off;
    uint32_t cw = ns_cur_be32(c);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    int32_t node = ns_field_open(d->f, "pwach", at);
    ns_field_hex(d->f, "pwethcw.flags", at, 1, (cw >> 24) & 0xfu);
    ns_field_uint(d->f, "pwethcw.sequence_number", at + 2, 2, cw & 0xffffu);
    ns_field_close(d->f, node, c->off);
    if (((cw >> 22) & 0x3u) != 0)
        return NS_PARSE_UNSUPPORTED;
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_mpls(ns_cur_t *c, ns_dec_t *d)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t label = 0;
    bool bottom = false;

    for (uint32_t i = 0; i < MPLS_MAX_LABELS && !bottom; i++) {
        uint32_t at = c->off;
        uint32_t lse = ns_cur_be32(c);
        if (!ns_cur_ok(c))
            return NS_PARSE_TRUNCATED;
        label = lse >> 12;
        bottom = (lse & 0x100u) != 0;
        if (pkt->mpls_n < NS_MAX_MPLS)
            pkt->mpls[pkt->mpls_n] = label;
        if (pkt->mpls_n < UINT8_MAX)
            pkt->mpls_n++;
        int32_t node = ns_field_open(d->f, "mpls", at);
        ns_field_uint(d->f, "mpls.label", at, 4, label);
        ns_field_uint(d->f, "mpls.exp", at, 4, (lse >> 9) & 0x7u);
        ns_field_uint(d->f, "mpls.bottom", at, 4, bottom ? 1u : 0u);
        ns_field_uint(d->f, "mpls.ttl", at, 4, lse & 0xffu);
        ns_field_close(d->f, node, c->off);
    }
    if (!bottom)
        return NS_PARSE_UNSUPPORTED; /* deeper than MPLS_MAX_LABELS */

    uint16_t type = 0;
    if (label == MPLS_LABEL_IPV4_NULL) {
        type = NS_ETH_IPV4;
    } else if (label == MPLS_LABEL_IPV6_NULL) {
        type = NS_ETH_IPV6;
    } else {
        if (!ns_cur_has(c, 1))
            return NS_PARSE_TRUNCATED;
        uint8_t version = ns_cur_peek(c, 0) >> 4;
        if (version == 4)
            type = NS_ETH_IPV4;
        else if (version == 6)
            type = NS_ETH_IPV6;
        else if (version == 0)
            return pw_control_word(c, d);
        else
            return NS_PARSE_UNSUPPORTED; /* G-ACh (1), or no control word: not decoded */
    }
    pkt->ethertype = type;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = type;
    return NS_PARSE_OK;
}

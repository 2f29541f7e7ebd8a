/* vlan.c - IEEE 802.1Q VLAN tag (also 802.1ad S-tag 0x88a8 and the pre-standard 0x9100).
 *
 * Spec: IEEE 802.1Q-2018 section 9.6 (tag control information); IEEE 802.1ad.
 *
 *    0     2 3 4                 15 16                31
 *   +-----+-+-------------------+--------------------+
 *   | PCP |D|        VID        | Ethertype / Length |
 *   +-----+-+-------------------+--------------------+
 *     PCP: priority code point; D: drop eligible (DEI, formerly CFI); VID: VLAN identifier.
 *
 * One call decodes one tag. A QinQ stack is walked by the dispatcher entering this decoder
 * again for each inner tag, so the depth is bounded by the dispatcher's encapsulation cap
 * (NS_MAX_ENCAP), not here. The first NS_MAX_VLAN ids are kept, outermost first; vlan_n counts
 * every tag seen (saturating). VID 0 (priority tag) and 4095 are reserved but occur in real
 * traffic and are reported as they are. An inner length (<= 1500) means LLC follows, which is
 * not decoded (UNSUPPORTED), as for Ethernet.
 */
#include "decode_int.h"

#define VLAN_TAG_LEN 4u
#define VLAN_MAX_8023_LEN 1500u

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_vlan_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(f, "vlan", start);
    uint16_t tci = ns_cur_be16(c);
    uint16_t type = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint16_t vid = tci & 0x0fffu;
    if (pkt->vlan_n < NS_MAX_VLAN)
        pkt->vlan[pkt->vlan_n] = vid;
    if (pkt->vlan_n < UINT8_MAX)
        pkt->vlan_n++;
    ns_field_uint(f, "vlan.priority", start, 2, (uint64_t)(tci >> 13));
    ns_field_bool(f, "vlan.dei", start, 2, (tci & 0x1000u) != 0);
    ns_field_uint(f, "vlan.id", start, 2, vid);
    if (type <= VLAN_MAX_8023_LEN) {
        ns_field_uint(f, "vlan.len", start + 2, 2, type);
        ns_field_close(f, node, c->off);
        return NS_PARSE_UNSUPPORTED; /* 802.3 length + LLC: not decoded */
    }
    ns_field_hex(f, "vlan.etype", start + 2, 2, type);
    ns_field_close(f, node, c->off);
    return ns_dec_next_ethertype(d, type);
}

NS_DECODER(ns_decode_vlan, ns_decode_vlan_body)

/* capwap.c - CAPWAP data channel (UDP 5247): wireless frames between access points and their
 * controller.
 *
 * Spec: RFC 5415 sections 4.1 (preamble) and 4.3 (header); RFC 5416 (IEEE 802.11 binding).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Type  |  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Fragment ID          |     Frag Offset         |Rsvd |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 (optional) Radio MAC Address                  |
 *   |            (optional) Wireless Specific Information           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * HLEN counts the whole header (preamble included) in 4-byte words; the optional parts are
 * skipped by it. Type 1 (DTLS) is encrypted: UNSUPPORTED. The payload is an IEEE 802.3 frame
 * when T is 0, a native frame of binding WBID when T is 1 (1: IEEE 802.11, decoded; others
 * UNSUPPORTED; the frame control bytes are taken as swapped, as Cisco access points send them
 * and as Wireshark reads them by default, capwap.swap_frame_control). Keep-alives (K) carry message elements, not frames: the header is OK. A
 * fragment after the first is UNSUPPORTED (nothing to decode without reassembly). Version
 * other than 0, or an HLEN shorter than the fixed 8 bytes, is INVALID.
 */
#include "decode_int.h"

#define CAPWAP_HDR_LEN 8u
#define CAPWAP_T 0x0100u
#define CAPWAP_F 0x0080u
#define CAPWAP_K 0x0008u
#define CAPWAP_WBID_80211 1u

ns_parse_rc_t
ns_decode_capwap(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_CAPWAP);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "capwap", start);
    uint32_t w0 = ns_cur_be32(c);
    uint16_t frag_id = ns_cur_be16(c);
    uint16_t frag_off = (uint16_t)(ns_cur_be16(c) >> 3);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t version = w0 >> 28, type = (w0 >> 24) & 0xfu;
    uint32_t hlen = ((w0 >> 19) & 0x1fu) * 4u;
    uint32_t rid = (w0 >> 14) & 0x1fu, wbid = (w0 >> 9) & 0x1fu;
    uint32_t flags = w0 & 0x1ffu;
    ns_field_uint(d->f, "capwap.preamble.version", start, 1, version);
    ns_field_uint(d->f, "capwap.preamble.type", start, 1, type);
    if (type != 0) {
        ns_field_close(d->f, node, c->off);
        return version != 0 ? NS_PARSE_INVALID : NS_PARSE_UNSUPPORTED; /* DTLS */
    }
    ns_field_uint(d->f, "capwap.header.length", start + 1, 1, hlen);
    ns_field_uint(d->f, "capwap.header.rid", start + 1, 2, rid);
    ns_field_uint(d->f, "capwap.header.wbid", start + 2, 1, wbid);
    ns_field_hex(d->f, "capwap.header.flags", start + 2, 2, flags);
    ns_field_uint(d->f, "capwap.header.fragment.id", start + 4, 2, frag_id);
    ns_field_uint(d->f, "capwap.header.fragment.offset", start + 6, 2, frag_off);
    if (version != 0 || hlen < CAPWAP_HDR_LEN || hlen > d->pkt->payload_len) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    ns_cur_skip(c, hlen - CAPWAP_HDR_LEN);
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    if (flags & CAPWAP_K)
        return NS_PARSE_OK;
    if ((flags & CAPWAP_F) && frag_off != 0)
        return NS_PARSE_UNSUPPORTED;
    if (ns_cur_left(c) == 0)
        return c->off - start >= d->pkt->payload_len ? NS_PARSE_OK : NS_PARSE_TRUNCATED;
    if (!(flags & CAPWAP_T)) {
        d->next = NS_NEXT_ETH;
        return NS_PARSE_OK;
    }
    if (wbid != CAPWAP_WBID_80211)
        return NS_PARSE_UNSUPPORTED;
    d->next = NS_NEXT_WLAN;
    d->next_val = NS_WLAN_FC_SWAPPED;
    return NS_PARSE_OK;
}

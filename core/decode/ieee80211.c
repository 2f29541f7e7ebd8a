/* ieee80211.c - IEEE 802.11 MAC frames, up to the LLC/SNAP header of data frames.
 *
 * Spec: IEEE 802.11-2020 section 9.2 (MAC frame format), IEEE 802.2 / RFC 1042 (LLC/SNAP).
 *
 *   +------+------+------+------+------+------+------+------+-------+----------+
 *   |  FC  | Dur  |  A1  |  A2  |  A3  | Seq  |  A4  | QoS  |  HTC  | body ... |
 *   |  2   |  2   |  6   |  6   |  6   |  2   | 6 if | 2 if | 4 if  |          |
 *   |      |      |      |      |      |      | ToDS | QoS  | QoS + |          |
 *   |      |      |      |      |      |      | and  | data | Order |          |
 *   |      |      |      |      |      |      | FrDS |      |       |          |
 *   +------+------+------+------+------+------+------+------+-------+----------+
 *
 * Frame control (little-endian): version (2 bits, must be 0), type (2: management, control,
 * data, extension), subtype (4), then flags: ToDS, FromDS, more fragments, retry, power
 * management, more data, protected, +HTC/order. Management and control frames are named
 * (wlan.fc.type_subtype) and not decoded further. Data frames without a body (the "null"
 * subtypes) end here; a protected (encrypted) body is UNSUPPORTED. Otherwise the body must be LLC/SNAP (AA AA 03, OUI 00-00-00 or 00-00-F8) and
 * its type is an ethertype for the dispatcher. The source and destination addresses, picked by
 * the DS bits (table 9-30), become the summary's eth_src/eth_dst.
 */
#include "decode_int.h"

#define WLAN_HDR_LEN 24u
#define WLAN_TYPE_MGMT 0u
#define WLAN_TYPE_CTRL 1u
#define WLAN_TYPE_DATA 2u
#define WLAN_F_TODS 0x01u
#define WLAN_F_FROMDS 0x02u
#define WLAN_F_PROTECTED 0x40u
#define WLAN_F_ORDER 0x80u
#define WLAN_SUB_QOS 0x08u     /* data subtypes with a QoS control field */
#define WLAN_SUB_NODATA 0x04u  /* data subtypes without a body (null, CF-ACK/Poll only) */
#define LLC_SNAP_LEN 8u

/* Copy 6 bytes at absolute offset `at` (already bounds-checked by the caller). */
static void
wlan_mac(const ns_cur_t *c, uint32_t at, uint8_t out[6])
{
    for (uint32_t i = 0; i < 6; i++)
        out[i] = ns_cur_at(c, at + i);
}

ns_parse_rc_t
ns_decode_wlan(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "wlan", start);
    uint8_t fc0 = ns_cur_u8(c);
    uint8_t flags = ns_cur_u8(c);
    if (d->next_val == NS_WLAN_FC_SWAPPED) {
        uint8_t t = fc0;
        fc0 = flags;
        flags = t;
    }
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t version = fc0 & 0x3u, type = (fc0 >> 2) & 0x3u, subtype = fc0 >> 4;
    ns_field_hex(d->f, "wlan.fc.type_subtype", start, 1, (type << 4) | subtype);
    ns_field_hex(d->f, "wlan.flags", start + 1, 1, flags);
    if (version != 0) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    if (type != WLAN_TYPE_DATA) {
        /* Management, control and extension frames: named, not decoded further. Their
         * header lengths differ by subtype, so the cursor stays after frame control. */
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_OK;
    }
    bool four = (flags & (WLAN_F_TODS | WLAN_F_FROMDS)) == (WLAN_F_TODS | WLAN_F_FROMDS);
    bool qos = (subtype & WLAN_SUB_QOS) != 0;
    uint32_t hlen = WLAN_HDR_LEN + (four ? 6u : 0u) + (qos ? 2u : 0u) +
                    (qos && (flags & WLAN_F_ORDER) ? 4u : 0u);
    ns_cur_skip(c, 2); /* duration */
    ns_cur_skip(c, 18); /* A1..A3, read below by offset */
    uint16_t seq = ns_cur_le16(c);
    ns_cur_skip(c, hlen - WLAN_HDR_LEN);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t a1 = start + 4, a2 = start + 10, a3 = start + 16, a4 = start + 24;
    uint32_t da = (flags & WLAN_F_TODS) ? a3 : a1;
    uint32_t sa = (flags & WLAN_F_FROMDS) ? (four ? a4 : a3) : a2;
    wlan_mac(c, da, d->pkt->eth_dst);
    wlan_mac(c, sa, d->pkt->eth_src);
    if (d->f != NULL) {
        ns_field_raw(d->f, "wlan.ra", a1, 6, NS_FT_MAC);
        ns_field_raw(d->f, "wlan.ta", a2, 6, NS_FT_MAC);
        ns_field_raw(d->f, "wlan.da", da, 6, NS_FT_MAC);
        ns_field_raw(d->f, "wlan.sa", sa, 6, NS_FT_MAC);
        ns_field_uint(d->f, "wlan.frag", start + 22, 2, seq & 0xfu);
        ns_field_uint(d->f, "wlan.seq", start + 22, 2, seq >> 4);
    }
    ns_field_close(d->f, node, c->off);
    if (subtype & WLAN_SUB_NODATA)
        return NS_PARSE_OK; /* null function: no body */
    /* An encrypted body is opaque. Fragments are not reassembled; the fragment number alone
     * does not tell (some access points fill the sequence control with anything, and
     * Wireshark decodes those bodies too): a later fragment fails the LLC/SNAP test below. */
    if (flags & WLAN_F_PROTECTED)
        return NS_PARSE_UNSUPPORTED;

    uint32_t at = c->off;
    int32_t llc = ns_field_open(d->f, "llc", at);
    uint8_t dsap = ns_cur_u8(c);
    uint8_t ssap = ns_cur_u8(c);
    uint8_t ctl = ns_cur_u8(c);
    uint32_t oui = (uint32_t)ns_cur_u8(c) << 16;
    oui |= ns_cur_be16(c);
    uint16_t etype = ns_cur_be16(c);
    ns_field_close(d->f, llc, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    if (dsap != 0xaau || ssap != 0xaau || ctl != 0x03u || (oui != 0 && oui != 0xf8u))
        return NS_PARSE_UNSUPPORTED; /* plain LLC or another organisation's SNAP */
    ns_field_hex(d->f, "llc.type", at + 6, 2, etype);
    return ns_dec_next_ethertype(d, etype);
}

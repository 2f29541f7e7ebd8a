/* radiotap.c - the radiotap and PPI headers that precede 802.11 frames in captures.
 *
 * Radiotap (LINKTYPE_IEEE802_11_RADIOTAP, 127; https://www.radiotap.org):
 *
 *   +--------+--------+--------+--------+
 *   | version|  pad   |  length (LE)    |
 *   +--------+--------+--------+--------+
 *   |  present bitmap (LE), bit 31 chains another word ...
 *   +--------+--------+--------+--------+
 *   |  fields, each aligned to its own size ...
 *
 * The length covers the whole header, so the 802.11 frame starts there. Of the fields only
 * Flags (bit 1, after TSFT, bit 0, 8 bytes aligned to 8) matters: its 0x10 bit says the frame
 * ends with a 4-byte FCS, which is cut off so that it is not taken for payload.
 *
 * PPI (LINKTYPE_PPI, 192; the CACE Per-Packet Information header specification 1.0.10):
 *
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   | version| flags  |  length (LE)    |     DLT of the frame (LE)         |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *
 * followed by fields up to `length`; the frame is 802.11 (DLT 105) or Ethernet (DLT 1).
 *
 * A version other than 0 or a length shorter than the fixed part is INVALID; a header longer
 * than the capture is TRUNCATED.
 */
#include "decode_int.h"

#define RADIOTAP_HDR_LEN 8u
#define RADIOTAP_MAX_PRESENT 8u /* present words walked before calling the header invalid */
#define RADIOTAP_TSFT 0x00000001u
#define RADIOTAP_FLAGS 0x00000002u
#define RADIOTAP_EXT 0x80000000u
#define RADIOTAP_F_FCS 0x10u
#define FCS_LEN 4u
#define PPI_HDR_LEN 8u

ns_parse_rc_t
ns_decode_radiotap(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "radiotap", start);
    uint8_t version = ns_cur_u8(c);
    ns_cur_skip(c, 1);
    uint16_t len = ns_cur_le16(c);
    uint32_t present = ns_cur_le32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "radiotap.version", start, 1, version);
    ns_field_uint(d->f, "radiotap.length", start + 2, 2, len);
    ns_field_hex(d->f, "radiotap.present.word", start + 4, 4, present);
    if (version != 0 || len < RADIOTAP_HDR_LEN) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    /* Skip the chained present words to where the fields start. */
    uint32_t w = present;
    for (uint32_t i = 0; w & RADIOTAP_EXT; i++) {
        if (i >= RADIOTAP_MAX_PRESENT) {
            ns_field_close(d->f, node, c->off);
            return NS_PARSE_INVALID;
        }
        w = ns_cur_le32(c);
        if (!ns_cur_ok(c)) {
            ns_field_close(d->f, node, c->off);
            return NS_PARSE_TRUNCATED;
        }
    }
    uint32_t field = c->off - start;
    uint8_t rflags = 0;
    if (present & RADIOTAP_FLAGS) {
        if (present & RADIOTAP_TSFT)
            field = ((field + 7u) & ~7u) + 8u;
        if (field >= len) {
            ns_field_close(d->f, node, c->off);
            return NS_PARSE_INVALID; /* the Flags field would lie past the header */
        }
        if (start + field >= c->end) {
            ns_field_close(d->f, node, c->off);
            return NS_PARSE_TRUNCATED;
        }
        rflags = ns_cur_at(c, start + field);
        ns_field_hex(d->f, "radiotap.flags", start + field, 1, rflags);
    }
    if (len < c->off - start) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID; /* the present words alone overrun the declared length */
    }
    ns_cur_skip(c, len - (c->off - start));
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    if (rflags & RADIOTAP_F_FCS) {
        /* The FCS is the last 4 bytes on the wire; only a frame captured whole has them. */
        uint32_t frame_wire = d->pkt->wire_len > c->off ? d->pkt->wire_len - c->off : 0;
        if (frame_wire < FCS_LEN)
            return NS_PARSE_INVALID;
        (void)ns_cur_narrow(c, frame_wire - FCS_LEN);
    }
    d->next = NS_NEXT_WLAN;
    d->next_val = 0;
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_ppi(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "ppi", start);
    uint8_t version = ns_cur_u8(c);
    uint8_t flags = ns_cur_u8(c);
    uint16_t len = ns_cur_le16(c);
    uint32_t dlt = ns_cur_le32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "ppi.version", start, 1, version);
    ns_field_hex(d->f, "ppi.flags", start + 1, 1, flags);
    ns_field_uint(d->f, "ppi.length", start + 2, 2, len);
    ns_field_uint(d->f, "ppi.dlt", start + 4, 4, dlt);
    if (version != 0 || len < PPI_HDR_LEN) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID;
    }
    ns_cur_skip(c, len - PPI_HDR_LEN);
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    d->next_val = 0;
    if (dlt == NS_LINKTYPE_IEEE802_11)
        d->next = NS_NEXT_WLAN;
    else if (dlt == NS_LINKTYPE_ETHERNET)
        d->next = NS_NEXT_ETH;
    else
        return NS_PARSE_UNSUPPORTED;
    return NS_PARSE_OK;
}

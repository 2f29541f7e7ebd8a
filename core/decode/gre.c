/* gre.c - Generic Routing Encapsulation (IP protocol 47), and PPTP's enhanced GRE.
 *
 * Spec: RFC 2784 (GRE), RFC 2890 (key and sequence number extensions), RFC 2637 section 4.1
 * (PPTP's version 1 header), RFC 1701 (the older header with routing, not decoded).
 *
 * Version 0 (RFC 2784 + RFC 2890):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |C|R|K|S|    Reserved0    | Ver |         Protocol Type         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Checksum (if C)          |       Reserved1 (if C)        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Key (if K)                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                   Sequence Number (if S)                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Version 1 (PPTP): C and R are 0, K is 1 and the key is split into payload length and call
 * id; A (bit 8) adds an acknowledgment number after the sequence number; the protocol is PPP.
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |0|0|1|S|0|0 0 0|A| Flags | 1   |   Protocol Type (0x880B)      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Payload Length           |            Call ID            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Sequence Number (if S)                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              Acknowledgment Number (if A)                     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The protocol type is an ethertype (RFC 2784 section 2.4), so the payload goes to the
 * dispatcher's ethertype table (IPv4, IPv6, MPLS, ...); 0x6558, transparent Ethernet bridging
 * (NVGRE, gretap), carries a whole Ethernet frame. Version 1 payloads are PPP frames, usually
 * MPPE-encrypted: the header is decoded, the payload is UNSUPPORTED (an acknowledgment without
 * payload is OK). A set routing bit (RFC 1701 source routes, deprecated) is UNSUPPORTED; any
 * version other than 0 and 1 is INVALID, as is a version 1 header that breaks RFC 2637's
 * fixed bits. A checksum is verified for the protocol tree only (gre.checksum.status; the fast
 * path skips the sum) and a bad one is not an error: senders offload it like UDP's. The inner
 * packet becomes the summary's packet; the inner IP decoder counts the level in pkt->encap.
 * GRE also arrives in UDP (RFC 8086, port 4754): the same decoder, over the UDP payload.
 */
#include "decode_int.h"

#define GRE_HDR_LEN 4u
#define GRE_C 0x8000u        /* checksum present */
#define GRE_R 0x4000u        /* routing present (RFC 1701) */
#define GRE_K 0x2000u        /* key present */
#define GRE_S 0x1000u        /* sequence number present */
#define GRE_V1_FIXED 0x0f00u /* strict source route and recursion control: 0 in version 1 */
#define GRE_A 0x0080u        /* acknowledgment number present (version 1) */
#define GRE_VER_MASK 0x0007u

#define GRE_PROTO_TEB 0x6558u /* transparent Ethernet bridging */
#define GRE_PROTO_PPP 0x880bu
#define GRE_PROTO_ERSPAN 0x88beu /* ERSPAN type I (no sequence number) or II (erspan.c) */

/* Wireshark's gre.checksum.status values. */
#define CKSUM_BAD 0u
#define CKSUM_GOOD 1u
#define CKSUM_UNVERIFIED 2u

/* RFC 2784 2.5: the one's complement sum over the GRE header and payload, checksum included,
 * is all ones. Only a datagram captured whole can be verified. */
static uint32_t
gre_cksum_status(const ns_cur_t *c, const ns_pkt_t *pkt, uint32_t start)
{
    uint32_t len = pkt->payload_len; /* the IP payload: this GRE datagram */
    if (pkt->payload_cap < len || c->end - start < len)
        return CKSUM_UNVERIFIED;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < len; i += 2) {
        uint32_t lo = i + 1 < len ? ns_cur_at(c, start + i + 1) : 0;
        sum += (uint32_t)(ns_cur_at(c, start + i) << 8) | lo;
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return sum == 0xffffu ? CKSUM_GOOD : CKSUM_BAD;
}

/* Read an optional 16- or 32-bit word and report it only when it was captured: a field must
 * never describe bytes past the end of the capture. */
static uint32_t
opt_word(ns_cur_t *c, ns_fields_t *f, const char *name, uint32_t bytes, bool hex)
{
    uint32_t at = c->off;
    uint32_t v = bytes == 2 ? ns_cur_be16(c) : ns_cur_be32(c);
    if (ns_cur_ok(c)) {
        if (hex)
            ns_field_hex(f, name, at, bytes, v);
        else
            ns_field_uint(f, name, at, bytes, v);
    }
    return v;
}

/* The optional words of a version 0 header, after the fixed 4 bytes. */
static void
gre_v0_options(ns_cur_t *c, ns_dec_t *d, uint16_t fv, uint32_t start)
{
    ns_fields_t *f = d->f;
    if (fv & GRE_C) {
        uint32_t at = c->off;
        (void)opt_word(c, f, "gre.checksum", 2, true);
        ns_cur_skip(c, 2); /* Reserved1 (the RFC 1701 offset, meaningless without R) */
        if (f != NULL && ns_cur_ok(c))
            ns_field_uint(f, "gre.checksum.status", at, 2, gre_cksum_status(c, d->pkt, start));
    }
    if (fv & GRE_K)
        (void)opt_word(c, f, "gre.key", 4, true);
    if (fv & GRE_S)
        (void)opt_word(c, f, "gre.sequence_number", 4, false);
}

/* The rest of a version 1 header; returns the declared payload length. */
static uint16_t
gre_v1_options(ns_cur_t *c, ns_fields_t *f, uint16_t fv)
{
    uint16_t plen = (uint16_t)opt_word(c, f, "gre.key.payload_length", 2, false);
    (void)opt_word(c, f, "gre.key.call_id", 2, false);
    if (fv & GRE_S)
        (void)opt_word(c, f, "gre.sequence_number", 4, false);
    if (fv & GRE_A)
        (void)opt_word(c, f, "gre.ack_number", 4, false);
    return plen;
}

ns_parse_rc_t
ns_decode_gre(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_GRE);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "gre", start);
    uint16_t fv = ns_cur_be16(c);
    uint16_t proto = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint16_t version = fv & GRE_VER_MASK;
    ns_field_hex(d->f, "gre.flags_and_version", start, 2, fv);
    ns_field_bool(d->f, "gre.flags.checksum", start, 2, (fv & GRE_C) != 0);
    ns_field_bool(d->f, "gre.flags.routing", start, 2, (fv & GRE_R) != 0);
    ns_field_bool(d->f, "gre.flags.key", start, 2, (fv & GRE_K) != 0);
    ns_field_bool(d->f, "gre.flags.sequence_number", start, 2, (fv & GRE_S) != 0);
    if (version == 1)
        ns_field_bool(d->f, "gre.flags.ack", start, 2, (fv & GRE_A) != 0);
    ns_field_uint(d->f, "gre.flags.version", start, 2, version);
    ns_field_hex(d->f, "gre.proto", start + 2, 2, proto);

    ns_parse_rc_t rc = NS_PARSE_OK;
    uint16_t v1_plen = 0;
    if (version == 0) {
        if (fv & GRE_R)
            rc = NS_PARSE_UNSUPPORTED; /* RFC 1701 routing: its SRE list is not decoded */
        else
            gre_v0_options(c, d, fv, start);
    } else if (version == 1) {
        /* RFC 2637 4.1: C, R and s/recur are 0, K is 1, the payload is PPP. */
        if ((fv & (GRE_C | GRE_R | GRE_V1_FIXED)) != 0 || !(fv & GRE_K) || proto != GRE_PROTO_PPP)
            rc = NS_PARSE_INVALID;
        else
            v1_plen = gre_v1_options(c, d->f, fv);
    } else {
        rc = NS_PARSE_INVALID; /* RFC 2784 2.3.1: versions other than 0 (and PPTP's 1) */
    }
    ns_field_close(d->f, node, c->off);
    if (rc != NS_PARSE_OK)
        return rc;
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;

    d->pkt->ethertype = proto;
    if (version == 1) {
        /* The payload length narrows (a longer one is a snaplen cut, as for IP). */
        (void)ns_cur_narrow(c, v1_plen);
        return v1_plen == 0 ? NS_PARSE_OK : NS_PARSE_UNSUPPORTED;
    }
    /* The IP payload was this header and nothing more: nothing inside, not a truncation. */
    if (ns_cur_left(c) == 0 && c->off - start >= d->pkt->payload_len)
        return NS_PARSE_OK;
    /* ERSPAN type I has no header of its own and no sequence number (draft-foschiano-erspan
     * section 4.1): the mirrored frame follows; type II (with S) goes to erspan.c. */
    bool frame = proto == GRE_PROTO_TEB || (proto == GRE_PROTO_ERSPAN && !(fv & GRE_S));
    d->next = frame ? NS_NEXT_ETH : NS_NEXT_ETHERTYPE;
    d->next_val = proto;
    return NS_PARSE_OK;
}

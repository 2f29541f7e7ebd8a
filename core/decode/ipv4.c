/* ipv4.c - IPv4 header decoder: fixed header, options, fragments, header checksum.
 *
 * Spec: RFC 791 (header, options, fragmentation), RFC 1071 (checksum), RFC 2474/3168 (DS field
 * and ECN), RFC 2113 (router alert), RFC 6864 (the id field).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |R|D|M|     Fragment Offset     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options (IHL > 5)          |    Padding    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Lengths: IHL >= 5 and Total Length >= IHL * 4, else INVALID. The cursor is narrowed to Total
 * Length, which trims Ethernet padding and a kept FCS; a Total Length beyond the capture is a
 * snaplen cut, not an error: the layer is OK once its header is captured. Total Length 0 is what
 * segmentation offload (TSO/LSO, BIG TCP) leaves in packets captured on the sending host: the
 * frame then is the packet, and its length is what was captured plus what the snaplen cut.
 *
 * The header checksum is verified but a bad one only sets NS_IP_CKSUM_BAD: captures taken on
 * the sender see checksums the NIC has not filled in yet. A fragment whose offset plus length
 * passes 65535 ("ping of death") is INVALID. A non-first fragment hands nothing on: its payload
 * is the middle of a datagram, not a transport header.
 *
 * Inside a tunnel (IP-in-IP, 6in4) the inner header overwrites the outer one in the summary
 * (the innermost header wins) and pkt->encap counts the levels crossed.
 */
#include "decode_int.h"

#define IPV4_HDR_LEN 20u
#define IPV4_MAX_DATAGRAM 65535u
#define IPV4_MAX_OPTS 40u /* the options area is at most 40 bytes and an option at least 1 */

#define IPV4_RF 0x8000u
#define IPV4_DF 0x4000u
#define IPV4_MF 0x2000u
#define IPV4_OFFMASK 0x1fffu

#define IPOPT_EOL 0u
#define IPOPT_NOP 1u
#define IPOPT_RR 7u
#define IPOPT_TS 68u
#define IPOPT_LSRR 131u
#define IPOPT_SSRR 137u
#define IPOPT_RA 148u

/* Wireshark's ip.checksum.status values. */
#define CKSUM_BAD 0u
#define CKSUM_GOOD 1u
#define CKSUM_UNVERIFIED 2u

/* True when the `hlen` header bytes at `p` (20..60, a multiple of 4, all captured) verify:
 * RFC 1071, the one's-complement sum over the header, checksum included, is all ones. The
 * words are added in host order (one's-complement addition commutes with byte swapping, RFC
 * 1071 section 2(B), and all ones reads the same either way), 32 bits at a time into 64 bits
 * (no carry lost). The first 20 bytes are unrolled: the common header. */
static inline bool
ipv4_cksum_ok(const uint8_t *p, uint32_t hlen)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < IPV4_HDR_LEN; i += 4) { /* unrolled: a constant count */
        uint32_t w;
        __builtin_memcpy(&w, p + i, 4);
        sum += w;
    }
    for (uint32_t i = IPV4_HDR_LEN; i < hlen; i += 4) {
        uint32_t w;
        __builtin_memcpy(&w, p + i, 4);
        sum += w;
    }
    /* Folding to 16 bits keeps the value modulo 0xffff (2^16 is 1 modulo 0xffff) and gives
     * 1..0xffff for any nonzero sum: all ones exactly when the sum is a nonzero multiple. */
    return sum != 0 && sum % 0xffffu == 0;
}

/* Report the body of one option: `o` covers the bytes after type and length. Returns false
 * when the length does not fit what the option type requires. */
static bool
ipv4_option_body(ns_cur_t *o, ns_fields_t *f, uint8_t type, uint8_t len)
{
    uint32_t at = o->off;
    switch (type) {
    case IPOPT_RA:
        if (len != 4)
            return false;
        ns_field_uint(f, "ip.opt.ra", at, 2, ns_cur_be16(o));
        return true;
    case IPOPT_RR:
    case IPOPT_LSRR:
    case IPOPT_SSRR: {
        /* pointer, then whole addresses */
        if (len < 3 || (len - 3u) % 4u != 0)
            return false;
        ns_field_uint(f, "ip.opt.ptr", at, 1, ns_cur_u8(o));
        const char *name = type == IPOPT_RR ? "ip.rec_rt" : "ip.src_rt";
        for (uint32_t i = 0; i < (len - 3u) / 4u; i++)
            ns_field_raw(f, name, ns_cur_take(o, 4), 4, NS_FT_IPV4);
        return true;
    }
    case IPOPT_TS: {
        if (len < 4)
            return false;
        ns_field_uint(f, "ip.opt.ptr", at, 1, ns_cur_u8(o));
        uint8_t of = ns_cur_u8(o);
        ns_field_uint(f, "ip.opt.overflow", at + 1, 1, (uint64_t)(of >> 4));
        ns_field_uint(f, "ip.opt.flag", at + 1, 1, of & 0x0fu);
        return true;
    }
    default:
        return true; /* type and length are all we report */
    }
}

/* Walk the options area `o` (complete: the caller checked the header was captured). Every
 * option is reported with its type and length; a length that runs past the header or does not
 * suit its type is INVALID. */
static NS_COLD ns_parse_rc_t
ipv4_options(ns_cur_t *o, ns_fields_t *f)
{
    for (uint32_t i = 0; i < IPV4_MAX_OPTS && ns_cur_left(o) > 0; i++) {
        uint32_t at = o->off;
        uint8_t type = ns_cur_u8(o);
        ns_field_uint(f, "ip.opt.type", at, 1, type);
        if (type == IPOPT_EOL)
            break; /* the rest is padding */
        if (type == IPOPT_NOP)
            continue;
        uint8_t len = ns_cur_u8(o);
        if (!ns_cur_ok(o) || len < 2 || len - 2u > ns_cur_left(o))
            return NS_PARSE_INVALID;
        ns_field_uint(f, "ip.opt.len", at + 1, 1, len);
        ns_cur_t body = ns_cur_sub(o, len - 2u);
        if (!ipv4_option_body(&body, f, type, len))
            return NS_PARSE_INVALID;
    }
    return NS_PARSE_OK;
}

/* The fixed header's fields, for the protocol tree (not on the fast path). */
static NS_OUT_OF_LINE void
emit_header(ns_fields_t *f, const ns_view_t *h, uint32_t start, uint32_t hlen, uint32_t status)
{
    uint32_t version = (uint32_t)ns_view_u8(h, 0) >> 4;
    uint8_t tos = ns_view_u8(h, 1);
    uint16_t total_len = ns_view_be16(h, 2);
    uint16_t id = ns_view_be16(h, 4);
    uint16_t frag = ns_view_be16(h, 6);
    uint16_t off_bytes = (uint16_t)((frag & IPV4_OFFMASK) * 8u);
    uint8_t ttl = ns_view_u8(h, 8);
    uint8_t proto = ns_view_u8(h, 9);
    uint16_t sum = ns_view_be16(h, 10);
    ns_field_uint(f, "ip.version", start, 1, version);
    ns_field_uint(f, "ip.hdr_len", start, 1, hlen);
    ns_field_hex(f, "ip.dsfield", start + 1, 1, tos);
    ns_field_uint(f, "ip.dsfield.dscp", start + 1, 1, (uint64_t)(tos >> 2));
    ns_field_uint(f, "ip.dsfield.ecn", start + 1, 1, tos & 0x3u);
    ns_field_uint(f, "ip.len", start + 2, 2, total_len);
    ns_field_hex(f, "ip.id", start + 4, 2, id);
    ns_field_hex(f, "ip.flags", start + 6, 1, (uint64_t)(frag >> 13));
    ns_field_bool(f, "ip.flags.rb", start + 6, 1, (frag & IPV4_RF) != 0);
    ns_field_bool(f, "ip.flags.df", start + 6, 1, (frag & IPV4_DF) != 0);
    ns_field_bool(f, "ip.flags.mf", start + 6, 1, (frag & IPV4_MF) != 0);
    /* Wireshark's field value is in 8-byte units (its tree shows bytes): match the field. */
    ns_field_uint(f, "ip.frag_offset", start + 6, 2, off_bytes / 8u);
    ns_field_uint(f, "ip.ttl", start + 8, 1, ttl);
    ns_field_uint(f, "ip.proto", start + 9, 1, proto);
    ns_field_hex(f, "ip.checksum", start + 10, 2, sum);
    ns_field_uint(f, "ip.checksum.status", start + 10, 2, status);
    ns_field_raw(f, "ip.src", start + 12, 4, NS_FT_IPV4);
    ns_field_raw(f, "ip.dst", start + 16, 4, NS_FT_IPV4);
}

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_ipv4_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(f, "ip", start);

    ns_view_t h;
    if (!ns_cur_view(c, IPV4_HDR_LEN, &h)) {
        ns_field_close(f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    /* Fields are read where they are used (from the view, in L1): fewer values live at once
     * than the registers can hold. */
    uint8_t vihl = ns_view_u8(&h, 0);
    uint32_t version = (uint32_t)vihl >> 4;
    if (version != 4) {
        /* Not an IPv4 header at all: nothing after the version nibble means anything. */
        ns_field_uint(f, "ip.version", start, 1, version);
        ns_field_close(f, node, start + 1);
        return NS_PARSE_INVALID;
    }
    uint16_t total_len = ns_view_be16(&h, 2);
    uint32_t hlen = (vihl & 0x0fu) * 4u;
    bool bad = hlen < IPV4_HDR_LEN || (total_len != 0 && total_len < hlen);
    bool captured = !bad && ns_cur_has(c, hlen - IPV4_HDR_LEN);
    uint32_t status = CKSUM_UNVERIFIED;
    if (captured)
        status = ipv4_cksum_ok(h.p, hlen) ? CKSUM_GOOD : CKSUM_BAD;
    if (f)
        emit_header(f, &h, start, hlen, status);
    if (bad || !captured) {
        ns_field_close(f, node, c->off);
        return bad ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
    }

    /* The declared length, or for TSO the frame: captured bytes plus the snaplen cut when this
     * layer reaches the end of the capture (not when an outer header already narrowed it). */
    uint32_t ip_len = total_len;
    if (ip_len == 0) {
        ip_len = c->end - start;
        if (c->end == pkt->cap_len && pkt->wire_len > pkt->cap_len)
            ip_len += pkt->wire_len - pkt->cap_len;
    }
    (void)ns_cur_narrow(c, ip_len - IPV4_HDR_LEN);

    /* The header is sound: it is now the summary's IP header, inner over outer. */
    if (pkt->ip_ver != 0) /* below another IP header: a tunnel */
        ns_decode_ip_inner(pkt, NS_LAYER_IPV4);
    pkt->ip_ver = 4;
    __builtin_memset(&pkt->src, 0, sizeof(pkt->src));
    __builtin_memset(&pkt->dst, 0, sizeof(pkt->dst));
    ns_view_copy(&h, 12, pkt->src.b, 4);
    ns_view_copy(&h, 16, pkt->dst.b, 4);
    pkt->tos = ns_view_u8(&h, 1);
    pkt->ttl = ns_view_u8(&h, 8);
    uint8_t proto = ns_view_u8(&h, 9);
    pkt->ip_proto = proto;
    uint16_t frag = ns_view_be16(&h, 6);
    uint16_t off_bytes = (uint16_t)((frag & IPV4_OFFMASK) * 8u);
    /* DF, MF, "a fragment", "bad checksum", without a branch each. */
    pkt->ip_flags = (uint8_t)(((frag & IPV4_DF) ? NS_IP_DF : 0u) |
                              ((frag & IPV4_MF) ? NS_IP_MF : 0u) |
                              ((frag & (IPV4_MF | IPV4_OFFMASK)) ? NS_IP_FRAG : 0u) |
                              (status == CKSUM_BAD ? NS_IP_CKSUM_BAD : 0u));
    pkt->frag_off = off_bytes;
    pkt->frag_id = ns_view_be16(&h, 4);
    pkt->ip_len = ip_len;
    pkt->l3_off = start;
    pkt->payload_off = start + hlen;
    pkt->payload_len = ip_len - hlen;

    ns_parse_rc_t rc = NS_PARSE_OK;
    if (hlen > IPV4_HDR_LEN) {
        ns_cur_t opts = ns_cur_sub(c, hlen - IPV4_HDR_LEN);
        rc = ipv4_options(&opts, f);
    }
    ns_field_close(f, node, c->off);
    pkt->payload_cap = ns_cur_left(c);
    if (rc != NS_PARSE_OK)
        return rc;
    if (total_len != 0 && off_bytes + pkt->payload_len > IPV4_MAX_DATAGRAM)
        return NS_PARSE_INVALID; /* reassembles past the largest datagram */
    if (off_bytes > 0)
        return NS_PARSE_OK; /* the middle of a datagram: no transport header here */
    d->next = NS_NEXT_IPPROTO;
    d->next_val = proto;
    return NS_PARSE_OK;
}

NS_DECODER(ns_decode_ipv4, ns_decode_ipv4_body)

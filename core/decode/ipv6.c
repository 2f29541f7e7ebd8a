/* ipv6.c - IPv6 header decoder: fixed header and the extension header chain.
 *
 * Spec: RFC 8200 (header, extension headers, fragments), RFC 4302 (AH), RFC 2675 (jumbograms),
 * RFC 2711 (router alert), RFC 6946 (atomic fragments), RFC 7045 (which headers to walk).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Traffic Class |              Flow Label               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Source Address (128 bits)                     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              Destination Address (128 bits)                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Extension headers (Hop-by-Hop 0, Routing 43, Destination Options 60; AH 51 counts its
 *   length in 4-byte words minus 2 instead of 8-byte words minus 1):
 *   +---------------+---------------+-------------------------------+
 *   |  Next Header  |  Hdr Ext Len  |  type-specific data ...       |
 *   +---------------+---------------+-------------------------------+
 *   Fragment (44), always 8 bytes:
 *   +---------------+---------------+-------------------------+-+-+-+
 *   |  Next Header  |   Reserved    |    Fragment Offset      |Res|M|
 *   +---------------+---------------+-------------------------+-+-+-+
 *   |                        Identification                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Payload Length narrows the cursor (trimming Ethernet padding). Payload Length 0 means a
 * jumbogram (RFC 2675) or, far more often, segmentation offload on the capturing host: the rest
 * of the frame is the payload, plus what the snaplen cut. An extension header that does not fit
 * the declared payload is INVALID; one cut by the snaplen is TRUNCATED.
 *
 * The walk is bounded by the cursor and by IPV6_MAX_EXT headers. RFC 8200 section 4.1 lets a
 * header occur any number of times, so a longer chain is legal but pathological (real ones
 * hold at most six distinct headers): we do not decode it, UNSUPPORTED. Hop-by-Hop anywhere
 * but first is INVALID (RFC 8200 4.3). ESP and No Next Header end the walk with nothing to
 * hand on; so does a non-first fragment, whose payload is the middle of a datagram. A fragment
 * header with offset 0 and M clear (an atomic fragment, RFC 6946) is a whole packet.
 *
 * Inside a tunnel (4in6, 6in6, 6in4) the inner header overwrites the outer one in the summary
 * (the innermost header wins) and pkt->encap counts the levels crossed.
 */
#include "decode_int.h"

#define IPV6_HDR_LEN 40u
#define IPV6_FRAG_LEN 8u
#define IPV6_AH_MIN_LEN 12u /* next, len, reserved, SPI, sequence */
#define IPV6_MAX_EXT 8u
#define IPV6_MAX_OPTS 32u /* TLVs walked per options header; the rest are not reported */

#define IPV6_PROTO_ESP 50u
#define IPV6_PROTO_AH 51u

#define IPV6_OPT_PAD1 0x00u
#define IPV6_OPT_PADN 0x01u
#define IPV6_OPT_RA 0x05u
#define IPV6_OPT_JUMBO 0xc2u

static bool
ipv6_is_ext(uint8_t nxt)
{
    return nxt == NS_IPPROTO_HOPOPTS || nxt == NS_IPPROTO_ROUTING ||
           nxt == NS_IPPROTO_FRAGMENT || nxt == NS_IPPROTO_DSTOPTS || nxt == IPV6_PROTO_AH;
}

/* Walk the TLV options in `o` (the body of a Hop-by-Hop or Destination Options header, already
 * captured in full). An option running past the header is INVALID. */
static ns_parse_rc_t
ipv6_options(ns_cur_t *o, ns_fields_t *f)
{
    for (uint32_t i = 0; i < IPV6_MAX_OPTS && ns_cur_left(o) > 0; i++) {
        uint32_t at = o->off;
        uint8_t type = ns_cur_u8(o);
        ns_field_uint(f, "ipv6.opt.type", at, 1, type);
        if (type == IPV6_OPT_PAD1)
            continue;
        uint8_t len = ns_cur_u8(o);
        if (!ns_cur_ok(o) || len > ns_cur_left(o))
            return NS_PARSE_INVALID;
        ns_field_uint(f, "ipv6.opt.length", at + 1, 1, len);
        ns_cur_t v = ns_cur_sub(o, len);
        if (type == IPV6_OPT_JUMBO && len == 4)
            ns_field_uint(f, "ipv6.opt.jumbo", at + 2, 4, ns_cur_be32(&v));
        else if (type == IPV6_OPT_RA && len == 2)
            ns_field_uint(f, "ipv6.opt.router_alert", at + 2, 2, ns_cur_be16(&v));
        else if (type == IPV6_OPT_PADN && len > 0)
            ns_field_raw(f, "ipv6.opt.padn", at + 2, len, NS_FT_BYTES);
    }
    return NS_PARSE_OK;
}

/* Report one extension header `e` (complete, `len` bytes, starting with next header and length
 * bytes) of type `type`; fill the fragment state. Returns INVALID for contents that contradict
 * the spec, else OK. */
static ns_parse_rc_t
ipv6_ext(ns_cur_t *e, ns_dec_t *d, uint8_t type, uint32_t len)
{
    ns_pkt_t *pkt = d->pkt;
    ns_fields_t *f = d->f;
    uint32_t at = e->off;
    uint8_t nxt = ns_cur_u8(e);
    uint8_t hlen = ns_cur_u8(e);
    ns_parse_rc_t rc = NS_PARSE_OK;
    int32_t node;

    switch (type) {
    case NS_IPPROTO_HOPOPTS:
    case NS_IPPROTO_DSTOPTS: {
        bool hbh = type == NS_IPPROTO_HOPOPTS;
        node = ns_field_open(f, hbh ? "ipv6.hopopts" : "ipv6.dstopts", at);
        ns_field_uint(f, hbh ? "ipv6.hopopts.nxt" : "ipv6.dstopts.nxt", at, 1, nxt);
        ns_field_uint(f, hbh ? "ipv6.hopopts.len" : "ipv6.dstopts.len", at + 1, 1, hlen);
        ns_field_uint(f, hbh ? "ipv6.hopopts.len_oct" : "ipv6.dstopts.len_oct", at + 1, 1, len);
        rc = ipv6_options(e, f);
        break;
    }
    case NS_IPPROTO_ROUTING: {
        uint8_t rtype = ns_cur_u8(e);
        uint8_t segleft = ns_cur_u8(e);
        node = ns_field_open(f, "ipv6.routing", at);
        ns_field_uint(f, "ipv6.routing.nxt", at, 1, nxt);
        ns_field_uint(f, "ipv6.routing.len", at + 1, 1, hlen);
        ns_field_uint(f, "ipv6.routing.len_oct", at + 1, 1, len);
        ns_field_uint(f, "ipv6.routing.type", at + 2, 1, rtype);
        ns_field_uint(f, "ipv6.routing.segleft", at + 3, 1, segleft);
        break;
    }
    case NS_IPPROTO_FRAGMENT: {
        uint16_t fo = ns_cur_be16(e);
        uint32_t ident = ns_cur_be32(e);
        uint16_t off_bytes = fo & 0xfff8u; /* 13 bits of 8-byte units, in place */
        bool more = (fo & 0x1u) != 0;
        node = ns_field_open(f, "ipv6.fraghdr", at);
        ns_field_uint(f, "ipv6.fraghdr.nxt", at, 1, nxt);
        ns_field_uint(f, "ipv6.fraghdr.reserved_octet", at + 1, 1, hlen);
        /* In 8-byte units, as Wireshark's field value (pkt->frag_off is in bytes). */
        ns_field_uint(f, "ipv6.fraghdr.offset", at + 2, 2, off_bytes / 8u);
        ns_field_uint(f, "ipv6.fraghdr.reserved_bits", at + 2, 2, (uint64_t)((fo >> 1) & 0x3u));
        ns_field_bool(f, "ipv6.fraghdr.more", at + 2, 2, more);
        ns_field_hex(f, "ipv6.fraghdr.ident", at + 4, 4, ident);
        pkt->frag_off = off_bytes;
        pkt->frag_id = ident;
        if (more)
            pkt->ip_flags |= NS_IP_MF;
        if (more || off_bytes > 0)
            pkt->ip_flags |= NS_IP_FRAG;
        break;
    }
    default: { /* AH */
        uint32_t spi_off = at + 4;
        ns_cur_skip(e, 2); /* reserved */
        uint32_t spi = ns_cur_be32(e);
        uint32_t seq = ns_cur_be32(e);
        node = ns_field_open(f, "ah", at);
        ns_field_uint(f, "ah.next_header", at, 1, nxt);
        ns_field_uint(f, "ah.length", at + 1, 1, hlen);
        ns_field_hex(f, "ah.spi", spi_off, 4, spi);
        ns_field_uint(f, "ah.sequence", spi_off + 4, 4, seq);
        if (len > IPV6_AH_MIN_LEN)
            ns_field_raw(f, "ah.icv", spi_off + 8, len - IPV6_AH_MIN_LEN, NS_FT_BYTES);
        break;
    }
    }
    ns_field_close(f, node, at + len);
    return rc;
}

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_ipv6_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(f, "ipv6", start);

    ns_view_t h;
    if (!ns_cur_view(c, IPV6_HDR_LEN, &h)) {
        ns_field_close(f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t vtf = ns_view_be32(&h, 0);
    uint16_t plen = ns_view_be16(&h, 4);
    uint8_t nxt = ns_view_u8(&h, 6);
    uint8_t hlim = ns_view_u8(&h, 7);
    uint32_t version = vtf >> 28;
    uint8_t tclass = (uint8_t)((vtf >> 20) & 0xffu);
    if (f) {
        ns_field_uint(f, "ipv6.version", start, 1, version);
        ns_field_hex(f, "ipv6.tclass", start, 4, tclass);
        ns_field_hex(f, "ipv6.flow", start + 1, 3, vtf & 0xfffffu);
        ns_field_uint(f, "ipv6.plen", start + 4, 2, plen);
        ns_field_uint(f, "ipv6.nxt", start + 6, 1, nxt);
        ns_field_uint(f, "ipv6.hlim", start + 7, 1, hlim);
        ns_field_raw(f, "ipv6.src", start + 8, 16, NS_FT_IPV6);
        ns_field_raw(f, "ipv6.dst", start + 24, 16, NS_FT_IPV6);
    }
    if (version != 6) {
        ns_field_close(f, node, c->off);
        return NS_PARSE_INVALID;
    }

    /* End of the declared payload. Length 0 with nothing following is an empty packet, not
     * offload; otherwise 0 is TSO or a jumbogram: the frame, plus what the snaplen cut when
     * this layer reaches the end of the capture (not when an outer header narrowed it). */
    uint32_t decl_len = plen;
    if (plen == 0 && nxt != NS_IPPROTO_NONE) {
        decl_len = c->end - c->off;
        if (c->end == pkt->cap_len && pkt->wire_len > pkt->cap_len)
            decl_len += pkt->wire_len - pkt->cap_len;
    }
    (void)ns_cur_narrow(c, decl_len);
    uint32_t decl_end = c->off + decl_len;

    if (pkt->ip_ver != 0) /* below another IP header: a tunnel */
        ns_decode_ip_inner(pkt, NS_LAYER_IPV6);
    pkt->ip_ver = 6;
    ns_view_copy(&h, 8, pkt->src.b, 16);
    ns_view_copy(&h, 24, pkt->dst.b, 16);
    pkt->ttl = hlim;
    pkt->tos = tclass;
    pkt->ip_proto = nxt;
    pkt->ip_flags = 0;
    pkt->frag_off = 0;
    pkt->frag_id = 0;
    pkt->ip_len = IPV6_HDR_LEN + decl_len;
    pkt->l3_off = start;

    ns_parse_rc_t rc = NS_PARSE_OK;
    bool more = true; /* something follows that the dispatcher may decode */
    for (uint32_t n = 0; ipv6_is_ext(nxt); n++) {
        if (n == IPV6_MAX_EXT) {
            rc = NS_PARSE_UNSUPPORTED;
            break;
        }
        if (nxt == NS_IPPROTO_HOPOPTS && n > 0) {
            rc = NS_PARSE_INVALID;
            break;
        }
        uint32_t at = c->off;
        if (decl_end - at < 2) {
            rc = NS_PARSE_INVALID;
            break;
        }
        if (!ns_cur_has(c, 2)) {
            rc = NS_PARSE_TRUNCATED;
            break;
        }
        uint8_t next = ns_cur_peek(c, 0);
        uint8_t hlen = ns_cur_peek(c, 1);
        uint32_t len = nxt == NS_IPPROTO_FRAGMENT ? IPV6_FRAG_LEN
                       : nxt == IPV6_PROTO_AH     ? (hlen + 2u) * 4u
                                                  : (hlen + 1u) * 8u;
        if (len > decl_end - at || (nxt == IPV6_PROTO_AH && len < IPV6_AH_MIN_LEN)) {
            rc = NS_PARSE_INVALID;
            break;
        }
        if (!ns_cur_has(c, len)) {
            rc = NS_PARSE_TRUNCATED;
            break;
        }
        ns_cur_t e = ns_cur_sub(c, len);
        rc = ipv6_ext(&e, d, nxt, len);
        if (rc != NS_PARSE_OK)
            break;
        nxt = next;
        pkt->ip_proto = nxt;
        if (pkt->frag_off > 0) {
            more = false; /* a later fragment: what follows is not a header */
            break;
        }
    }
    ns_field_close(f, node, c->off);
    pkt->payload_off = c->off;
    pkt->payload_len = decl_end - c->off;
    pkt->payload_cap = ns_cur_left(c);
    if (rc != NS_PARSE_OK)
        return rc;
    if (!more || nxt == NS_IPPROTO_NONE || nxt == IPV6_PROTO_ESP)
        return NS_PARSE_OK;
    d->next = NS_NEXT_IPPROTO;
    d->next_val = nxt;
    return NS_PARSE_OK;
}

NS_DECODER(ns_decode_ipv6, ns_decode_ipv6_body)

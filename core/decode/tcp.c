/* tcp.c - TCP header and options decoder.
 *
 * Spec: RFC 9293 (header), RFC 3540 (NS bit), RFC 3168 (CWR/ECE), RFC 7323 (window scale,
 * timestamps), RFC 2018 (SACK), RFC 6691 (MSS).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Sequence Number                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Acknowledgment Number                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data | Res |N|C|E|U|A|P|R|S|F|                               |
 *   | Offset|     |S|W|C|R|C|S|S|Y|I|            Window             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Checksum            |         Urgent Pointer        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options (Data Offset - 5 words)            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Outcomes: a data offset below 5 words, or larger than the segment the IP layer declared, is
 * INVALID; a header (with its options) cut by the capture is TRUNCATED; a payload cut by the
 * snaplen is OK here (payload_cap < payload_len records it). Options are walked inside the
 * header only (each step consumes a byte, so at most 40 of them); a length below 2 or one
 * running past the header is INVALID, a known option with the wrong length is skipped
 * uninterpreted (as tcpdump does).
 * The checksum is not verified: captures are often checksum-offloaded. Sequence numbers are
 * the raw ones; the decoder keeps no stream state.
 */
#include "decode_int.h"

#define TCP_HDR_LEN 20u

#define TCPOPT_EOL 0u
#define TCPOPT_NOP 1u
#define TCPOPT_MSS 2u
#define TCPOPT_WSCALE 3u
#define TCPOPT_SACK_PERM 4u
#define TCPOPT_SACK 5u
#define TCPOPT_TS 8u

static inline void
opt_ts(const uint8_t *base, uint32_t at, ns_pkt_t *pkt, ns_fields_t *f) /* at: the TS kind */
{
    pkt->tsval = ns_be32(base + at + 2);
    pkt->tsecr = ns_be32(base + at + 6);
    pkt->tcp_opts |= NS_TCPOPT_TS;
    ns_field_uint(f, "tcp.options.timestamp.tsval", at + 2, 4, pkt->tsval);
    ns_field_uint(f, "tcp.options.timestamp.tsecr", at + 6, 4, pkt->tsecr);
}

static inline void
opt_mss(const uint8_t *base, uint32_t at, ns_pkt_t *pkt, ns_fields_t *f)
{
    pkt->mss = ns_be16(base + at + 2);
    pkt->tcp_opts |= NS_TCPOPT_MSS;
    ns_field_uint(f, "tcp.options.mss_val", at + 2, 2, pkt->mss);
}

static inline void
opt_wscale(const uint8_t *base, uint32_t at, ns_pkt_t *pkt, ns_fields_t *f)
{
    pkt->wscale = base[at + 2];
    pkt->tcp_opts |= NS_TCPOPT_WSCALE;
    ns_field_uint(f, "tcp.options.wscale.shift", at + 2, 1, pkt->wscale);
}

static inline void
opt_sack_perm(uint32_t at, ns_pkt_t *pkt, ns_fields_t *f)
{
    pkt->tcp_opts |= NS_TCPOPT_SACK_PERM;
    ns_field_bool(f, "tcp.options.sack_perm", at, 2, true);
}

/* Options come in 32-bit-aligned groups as the stacks lay them out (RFC 7323 appendix A;
 * Linux: MSS | SACK-permitted, TS | ts | ts | NOP, window scale; Windows: MSS | NOP, window
 * scale | NOP, NOP, SACK-permitted): one such word, recognised whole, replaces up to four
 * steps of the byte walk. Returns the bytes consumed, 0 when the word is not one of them (the
 * byte walk then takes it). `end - at >= 4`. */
static inline uint32_t
option_word(const uint8_t *base, uint32_t at, uint32_t end, ns_pkt_t *pkt, ns_fields_t *f)
{
    uint32_t w = ns_be32(base + at);
    if (end - at >= 12 && (w == 0x0101080au || w == 0x0402080au)) { /* NOP NOP | SACK-perm, TS */
        if (w == 0x0402080au)
            opt_sack_perm(at, pkt, f);
        opt_ts(base, at + 2, pkt, f);
        return 12; /* first: every segment after the SYN carries it */
    }
    if ((w >> 16) == 0x0204u) { /* MSS */
        opt_mss(base, at, pkt, f);
        return 4;
    }
    if ((w >> 8) == 0x010303u) { /* NOP, window scale */
        opt_wscale(base, at + 1, pkt, f);
        return 4;
    }
    if (w == 0x01010402u) { /* NOP, NOP, SACK-permitted */
        opt_sack_perm(at + 2, pkt, f);
        return 4;
    }
    return 0;
}

/* Walk the option bytes [at, end) of `base`, all captured (the caller took them as a view:
 * every index below is checked against `end`, never against the packet). Each pass consumes
 * at least one byte, so the walk ends within the 40 option bytes. */
static NS_ALWAYS_INLINE ns_parse_rc_t
parse_options(const uint8_t *base, uint32_t at, uint32_t end, ns_pkt_t *pkt, ns_fields_t *f)
{
    while (end - at >= 4) {
        uint32_t n = option_word(base, at, end, pkt, f);
        if (n == 0)
            break;
        at += n;
    }
    while (at < end) {
        uint8_t kind = base[at];
        if (kind == TCPOPT_NOP) {
            at++;
            continue;
        }
        if (kind == TCPOPT_EOL)
            break;
        if (end - at < 2)
            return NS_PARSE_INVALID; /* the length byte would lie past the header */
        uint8_t len = base[at + 1];
        if (len < 2 || len > end - at)
            return NS_PARSE_INVALID;
        const uint8_t *o = base + at + 2; /* len - 2 body bytes */
        if (kind == TCPOPT_TS && len == 10) {
            opt_ts(base, at, pkt, f);
        } else if (kind == TCPOPT_MSS && len == 4) {
            opt_mss(base, at, pkt, f);
        } else if (kind == TCPOPT_WSCALE && len == 3) {
            opt_wscale(base, at, pkt, f);
        } else if (kind == TCPOPT_SACK_PERM && len == 2) {
            opt_sack_perm(at, pkt, f);
        } else if (kind == TCPOPT_SACK && len >= 10 && (len - 2u) % 8u == 0) {
            pkt->tcp_opts |= NS_TCPOPT_SACK;
            /* 40 option bytes hold at most 4 blocks; sack_n caps repeated SACK options. */
            for (uint32_t b = 0; b < (len - 2u) / 8u && b < NS_MAX_SACK; b++) {
                uint32_t le = ns_be32(o + 8 * b);
                uint32_t re = ns_be32(o + 8 * b + 4);
                if (pkt->sack_n < NS_MAX_SACK) {
                    pkt->sack[pkt->sack_n][0] = le;
                    pkt->sack[pkt->sack_n][1] = re;
                    pkt->sack_n++;
                }
                ns_field_uint(f, "tcp.options.sack_le", at + 2 + 8 * b, 4, le);
                ns_field_uint(f, "tcp.options.sack_re", at + 6 + 8 * b, 4, re);
            }
        }
        /* Any other kind: skipped by its length. */
        at += len;
    }
    return NS_PARSE_OK;
}

/* The fixed header's fields; only called with a field list. */
static NS_OUT_OF_LINE void
emit_header(ns_fields_t *f, const ns_pkt_t *pkt, uint32_t start, uint8_t b12, uint16_t sum,
            uint16_t urp)
{
    uint32_t fl = start + 12;
    uint16_t flags12 = (uint16_t)(((b12 & 0x0fu) << 8) | (pkt->tcp_flags & 0xffu));
    ns_field_uint(f, "tcp.srcport", start, 2, pkt->sport);
    ns_field_uint(f, "tcp.dstport", start + 2, 2, pkt->dport);
    ns_field_uint(f, "tcp.seq", start + 4, 4, pkt->seq);
    ns_field_uint(f, "tcp.ack", start + 8, 4, pkt->ack);
    ns_field_uint(f, "tcp.hdr_len", fl, 1, (uint32_t)(b12 >> 4) * 4u);
    ns_field_hex(f, "tcp.flags", fl, 2, flags12);
    ns_field_uint(f, "tcp.flags.res", fl, 1, (b12 >> 1) & 7u);
    ns_field_bool(f, "tcp.flags.ae", fl, 1, (pkt->tcp_flags & NS_TCP_NS) != 0);
    ns_field_bool(f, "tcp.flags.cwr", fl + 1, 1, (pkt->tcp_flags & NS_TCP_CWR) != 0);
    ns_field_bool(f, "tcp.flags.ece", fl + 1, 1, (pkt->tcp_flags & NS_TCP_ECE) != 0);
    ns_field_bool(f, "tcp.flags.urg", fl + 1, 1, (pkt->tcp_flags & NS_TCP_URG) != 0);
    ns_field_bool(f, "tcp.flags.ack", fl + 1, 1, (pkt->tcp_flags & NS_TCP_ACK) != 0);
    ns_field_bool(f, "tcp.flags.push", fl + 1, 1, (pkt->tcp_flags & NS_TCP_PSH) != 0);
    ns_field_bool(f, "tcp.flags.reset", fl + 1, 1, (pkt->tcp_flags & NS_TCP_RST) != 0);
    ns_field_bool(f, "tcp.flags.syn", fl + 1, 1, (pkt->tcp_flags & NS_TCP_SYN) != 0);
    ns_field_bool(f, "tcp.flags.fin", fl + 1, 1, (pkt->tcp_flags & NS_TCP_FIN) != 0);
    ns_field_uint(f, "tcp.window_size_value", start + 14, 2, pkt->win);
    ns_field_hex(f, "tcp.checksum", start + 16, 2, sum);
    ns_field_uint(f, "tcp.urgent_pointer", start + 18, 2, urp);
}

/* The fixed header's values into the summary; returns the data offset byte (byte 12). Reads
 * through the view, so a header cut short yields zeros where it ends; inlined twice, for the
 * whole header (the view's length is then the constant 20 and every check folds away) and
 * for a cut one. */
static NS_ALWAYS_INLINE uint8_t
read_header(ns_pkt_t *pkt, const ns_view_t *h, uint32_t start, uint32_t seg_len)
{
    /* Read into locals first: stores into *pkt could alias the packet and force reloads. */
    uint16_t sport = ns_view_be16(h, 0);
    uint16_t dport = ns_view_be16(h, 2);
    uint32_t seq = ns_view_be32(h, 4);
    uint32_t ack = ns_view_be32(h, 8);
    uint8_t b12 = ns_view_u8(h, 12);
    uint8_t b13 = ns_view_u8(h, 13);
    uint16_t win = ns_view_be16(h, 14);
    pkt->l4_off = start;
    pkt->sport = sport;
    pkt->dport = dport;
    pkt->seq = seq;
    pkt->ack = ack;
    pkt->win = win;
    uint32_t hlen = (uint32_t)(b12 >> 4) * 4u; /* 0 when byte 12 was not captured */
    pkt->tcp_flags = (uint16_t)(((b12 & 1u) << 8) | b13);
    pkt->tcp_hlen = (uint8_t)hlen;
    pkt->payload_off = start + hlen;
    pkt->payload_cap = 0;
    /* Payload bytes count even when the header is cut short, once its length is known. */
    pkt->payload_len = hlen >= TCP_HDR_LEN && hlen <= seg_len ? seg_len - hlen : 0;
    return b12;
}

/* A segment cut inside its fixed header: what is there, and the outcome. */
static NS_COLD ns_parse_rc_t
decode_cut(ns_cur_t *c, ns_dec_t *d, uint32_t start, uint32_t seg_len, bool fragment)
{
    ns_view_t part = ns_cur_view_from(c, start);
    (void)read_header(d->pkt, &part, start, seg_len);
    ns_field_close(d->f, ns_field_open(d->f, "tcp", start), c->off);
    /* The IP layer narrowed the cursor to the declared length: a segment declared shorter
     * than a header is malformed, not cut short (unless a fragment split the header). */
    return seg_len < TCP_HDR_LEN && !fragment ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
}

static NS_ALWAYS_INLINE ns_parse_rc_t
ns_decode_tcp_body(ns_cur_t *c, ns_dec_t *d, ns_fields_t *f)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    uint32_t seg_len = pkt->payload_len; /* set by the IP layer: declared L4 bytes */
    bool fragment = (pkt->ip_flags & NS_IP_FRAG) != 0;

    ns_view_t v;
    if (!ns_cur_view(c, TCP_HDR_LEN, &v))
        return decode_cut(c, d, start, seg_len, fragment);
    ns_view_t h = {v.p, TCP_HDR_LEN};
    uint8_t b12 = read_header(pkt, &h, start, seg_len);
    uint32_t hlen = pkt->tcp_hlen;
    int32_t node = ns_field_open(f, "tcp", start);

    ns_parse_rc_t rc = NS_PARSE_OK;
    if (f)
        emit_header(f, pkt, start, b12, ns_view_be16(&h, 16), ns_view_be16(&h, 18));
    if (hlen < TCP_HDR_LEN || (hlen > seg_len && !fragment)) {
        rc = NS_PARSE_INVALID;
        goto out;
    }
    ns_view_t opts;
    if (!ns_cur_view(c, hlen - TCP_HDR_LEN, &opts)) {
        rc = NS_PARSE_TRUNCATED; /* options cut by the capture (or by a fragment) */
        goto out;
    }
    if (hlen > TCP_HDR_LEN)
        rc = parse_options(c->base, start + TCP_HDR_LEN, start + hlen, pkt, f);
    (void)ns_cur_narrow(c, pkt->payload_len);
    pkt->payload_cap = ns_cur_left(c);
    ns_field_uint(f, "tcp.len", pkt->payload_off, 0, pkt->payload_len);
    if (rc == NS_PARSE_OK && pkt->payload_cap > 0)
        d->next = NS_NEXT_APP; /* nothing to offer for a bare SYN or ACK */
out:
    ns_field_close(f, node, c->off);
    return rc;
}

NS_DECODER(ns_decode_tcp, ns_decode_tcp_body)

/* icmp.c - ICMP (IPv4) and ICMPv6 decoders, with the IP header quoted by error messages.
 *
 * Spec: RFC 792 (ICMP), RFC 4443 (ICMPv6), RFC 1191 / RFC 8201 (MTU fields), RFC 4884 (the
 * quote is at least 28 bytes for IPv4, as much as fits for IPv6).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |     Code      |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Identifier (echo) | unused / MTU / pointer / gateway (errors) |
 *   |  Sequence Number   |                                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  error messages: the offending packet's IP header + at least   |
 *   |  the first 8 bytes of its L4 header (ports for TCP/UDP)        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Outcomes: a message declared shorter than the 8-byte header is INVALID; one cut by the
 * capture is TRUNCATED. The quote is reported as far as it goes: a quote cut short, or one
 * that is not an IP header of the right version, leaves ICMP itself OK. Quoted addresses and
 * ports go to pkt->inner_*, never to the packet's own src/dst/ports, so a flow table keys
 * an error by its own endpoints. The quoted IPv6 header's extension headers are not walked:
 * inner ports are read only when the next header is directly TCP or UDP. Checksums are not
 * verified (offload).
 */
#include "decode_int.h"

#define ICMP_HDR_LEN 8u
#define IPV4_MIN_HDR 20u
#define IPV6_HDR_LEN 40u

/* ICMP (v4) types */
#define ICMP_ECHO_REPLY 0u
#define ICMP_UNREACH 3u
#define ICMP_SOURCE_QUENCH 4u
#define ICMP_REDIRECT 5u
#define ICMP_ECHO 8u
#define ICMP_TIME_EXCEEDED 11u
#define ICMP_PARAM_PROB 12u
#define ICMP_TSTAMP 13u
#define ICMP_TSTAMP_REPLY 14u

/* ICMPv6 types */
#define ICMP6_UNREACH 1u
#define ICMP6_PARAM_PROB 4u /* 1..4 are the error messages that quote a packet */
#define ICMP6_ECHO 128u
#define ICMP6_ECHO_REPLY 129u

/* ---- the quoted packet ---------------------------------------------------------------- */

/* Ports of the quoted L4 header, when it is TCP or UDP and its first 4 bytes are there. */
static void
quote_ports(ns_cur_t *c, ns_pkt_t *pkt, ns_fields_t *f)
{
    const char *node, *sp, *dp;
    if (pkt->inner_proto == NS_IPPROTO_TCP) {
        node = "tcp", sp = "tcp.srcport", dp = "tcp.dstport";
    } else if (pkt->inner_proto == NS_IPPROTO_UDP) {
        node = "udp", sp = "udp.srcport", dp = "udp.dstport";
    } else {
        return;
    }
    uint32_t at = c->off;
    uint16_t sport = ns_cur_be16(c);
    uint16_t dport = ns_cur_be16(c);
    if (!ns_cur_ok(c))
        return;
    pkt->inner_sport = sport;
    pkt->inner_dport = dport;
    int32_t n = ns_field_open(f, node, at);
    ns_field_uint(f, sp, at, 2, sport);
    ns_field_uint(f, dp, at + 2, 2, dport);
    ns_field_close(f, n, c->off);
}

/* The IPv4 header quoted by an ICMP error (cursor at its first byte). */
static void
quote_ipv4(ns_cur_t *c, ns_pkt_t *pkt, ns_fields_t *f)
{
    uint32_t at = c->off;
    uint8_t vihl = ns_cur_u8(c);
    ns_cur_skip(c, 1); /* TOS */
    uint16_t tot_len = ns_cur_be16(c);
    uint16_t id = ns_cur_be16(c);
    ns_cur_skip(c, 2); /* flags, fragment offset */
    uint8_t ttl = ns_cur_u8(c);
    uint8_t proto = ns_cur_u8(c);
    ns_cur_skip(c, 2); /* checksum */
    ns_addr_t src = {{0}}, dst = {{0}};
    ns_cur_copy(c, src.b, 4);
    ns_cur_copy(c, dst.b, 4);
    uint32_t ihl = (vihl & 0x0fu) * 4u;
    if (!ns_cur_ok(c) || (vihl >> 4) != 4 || ihl < IPV4_MIN_HDR)
        return; /* not (all) there, or not an IPv4 header: nothing to report */
    pkt->icmp_quote = true;
    pkt->inner_proto = proto;
    pkt->inner_src = src;
    pkt->inner_dst = dst;
    int32_t n = ns_field_open(f, "ip", at);
    ns_field_uint(f, "ip.version", at, 1, 4);
    ns_field_uint(f, "ip.hdr_len", at, 1, ihl);
    ns_field_uint(f, "ip.len", at + 2, 2, tot_len);
    ns_field_hex(f, "ip.id", at + 4, 2, id);
    ns_field_uint(f, "ip.ttl", at + 8, 1, ttl);
    ns_field_uint(f, "ip.proto", at + 9, 1, proto);
    ns_field_raw(f, "ip.src", at + 12, 4, NS_FT_IPV4);
    ns_field_raw(f, "ip.dst", at + 16, 4, NS_FT_IPV4);
    ns_cur_skip(c, ihl - IPV4_MIN_HDR); /* options */
    ns_field_close(f, n, c->off);
    if (ns_cur_ok(c))
        quote_ports(c, pkt, f);
}

/* The IPv6 header quoted by an ICMPv6 error (cursor at its first byte). */
static void
quote_ipv6(ns_cur_t *c, ns_pkt_t *pkt, ns_fields_t *f)
{
    uint32_t at = c->off;
    uint8_t v = ns_cur_u8(c);
    ns_cur_skip(c, 3); /* traffic class, flow label */
    uint16_t plen = ns_cur_be16(c);
    uint8_t nxt = ns_cur_u8(c);
    uint8_t hlim = ns_cur_u8(c);
    ns_addr_t src, dst;
    ns_cur_copy(c, src.b, 16);
    ns_cur_copy(c, dst.b, 16);
    if (!ns_cur_ok(c) || (v >> 4) != 6)
        return;
    pkt->icmp_quote = true;
    pkt->inner_proto = nxt;
    pkt->inner_src = src;
    pkt->inner_dst = dst;
    int32_t n = ns_field_open(f, "ipv6", at);
    ns_field_uint(f, "ipv6.version", at, 1, 6);
    ns_field_uint(f, "ipv6.plen", at + 4, 2, plen);
    ns_field_uint(f, "ipv6.nxt", at + 6, 1, nxt);
    ns_field_uint(f, "ipv6.hlim", at + 7, 1, hlim);
    ns_field_raw(f, "ipv6.src", at + 8, 16, NS_FT_IPV6);
    ns_field_raw(f, "ipv6.dst", at + 24, 16, NS_FT_IPV6);
    ns_field_close(f, n, c->off);
    quote_ports(c, pkt, f);
}

/* ---- the ICMP header, shared by both versions ------------------------------------------- */

/* Reads type, code, checksum and the 4 "rest of header" bytes. Returns OK with the cursor at
 * the message body, or the outcome. */
static ns_parse_rc_t
icmp_header(ns_cur_t *c, ns_dec_t *d, const char *const names[5], bool echo)
{
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    uint32_t msg_len = pkt->payload_len; /* declared by the IP layer */
    pkt->l4_off = start;
    pkt->icmp_type = ns_cur_u8(c);
    pkt->icmp_code = ns_cur_u8(c);
    uint16_t sum = ns_cur_be16(c);
    uint16_t id = ns_cur_be16(c);
    uint16_t seq = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        pkt->payload_len = 0;
        pkt->payload_cap = 0;
        bool fragment = (pkt->ip_flags & NS_IP_FRAG) != 0;
        return msg_len < ICMP_HDR_LEN && !fragment ? NS_PARSE_INVALID : NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, names[0], start, 1, pkt->icmp_type);
    ns_field_uint(d->f, names[1], start + 1, 1, pkt->icmp_code);
    ns_field_hex(d->f, names[2], start + 2, 2, sum);
    if (echo) {
        pkt->icmp_id = id;
        pkt->icmp_seq = seq;
        ns_field_uint(d->f, names[3], start + 4, 2, id);
        ns_field_uint(d->f, names[4], start + 6, 2, seq);
    }
    pkt->payload_off = c->off;
    pkt->payload_len = msg_len > ICMP_HDR_LEN ? msg_len - ICMP_HDR_LEN : 0;
    pkt->payload_cap = ns_cur_left(c) < pkt->payload_len ? ns_cur_left(c) : pkt->payload_len;
    return NS_PARSE_OK;
}

static bool
icmp_is_error(uint8_t type)
{
    return type == ICMP_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
           type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROB;
}

ns_parse_rc_t
ns_decode_icmp(ns_cur_t *c, ns_dec_t *d)
{
    static const char *const names[5] = {"icmp.type", "icmp.code", "icmp.checksum", "icmp.ident",
                                         "icmp.seq"};
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "icmp", start);
    uint8_t type = ns_cur_peek(c, 0);
    bool echo = type == ICMP_ECHO || type == ICMP_ECHO_REPLY || type == ICMP_TSTAMP ||
                type == ICMP_TSTAMP_REPLY;
    ns_parse_rc_t rc = icmp_header(c, d, names, echo);
    if (rc == NS_PARSE_OK && icmp_is_error(pkt->icmp_type)) {
        ns_cur_t q = ns_cur_sub(c, pkt->payload_len);
        quote_ipv4(&q, pkt, d->f);
    }
    ns_field_close(d->f, node, rc == NS_PARSE_OK ? pkt->payload_off + pkt->payload_cap : c->off);
    return rc;
}

ns_parse_rc_t
ns_decode_icmpv6(ns_cur_t *c, ns_dec_t *d)
{
    static const char *const names[5] = {"icmpv6.type", "icmpv6.code", "icmpv6.checksum",
                                         "icmpv6.echo.identifier", "icmpv6.echo.sequence_number"};
    ns_pkt_t *pkt = d->pkt;
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "icmpv6", start);
    uint8_t type = ns_cur_peek(c, 0);
    bool echo = type == ICMP6_ECHO || type == ICMP6_ECHO_REPLY;
    ns_parse_rc_t rc = icmp_header(c, d, names, echo);
    if (rc == NS_PARSE_OK && pkt->icmp_type >= ICMP6_UNREACH &&
        pkt->icmp_type <= ICMP6_PARAM_PROB) {
        ns_cur_t q = ns_cur_sub(c, pkt->payload_len);
        quote_ipv6(&q, pkt, d->f);
    }
    ns_field_close(d->f, node, rc == NS_PARSE_OK ? pkt->payload_off + pkt->payload_cap : c->off);
    return rc;
}

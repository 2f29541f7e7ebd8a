/* loop.c - BSD loopback (DLT_NULL, DLT_LOOP) and raw IP (DLT_RAW, LINKTYPE_IPV4/IPV6) link layers.
 *
 * Spec: https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html, LINKTYPE_LOOP.html,
 * LINKTYPE_RAW.html, LINKTYPE_IPV4.html, LINKTYPE_IPV6.html.
 *
 *   DLT_NULL / DLT_LOOP                     raw IP
 *    0                   4                   0
 *   +-------------------+---------          +-------+-------------
 *   | Address family    | IP packet         |Version| rest of the IP header ...
 *   +-------------------+---------          +-------+-------------
 *
 * DLT_NULL stores the family in the byte order of the machine that captured, which the file
 * does not record; the pcap file header's byte order is no proof either (files get rewritten).
 * Every family we decode is a small number, so exactly one byte order yields a known value:
 * we try little-endian, then big-endian. DLT_LOOP (OpenBSD) is always network order.
 *
 * The families are the capturing OS's AF_ values: AF_INET is 2 everywhere; AF_INET6 is 24
 * (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS) and 10 (Linux). Anything else (OSI,
 * IPX, AppleTalk) is UNSUPPORTED.
 *
 * Raw IP has no header at all: the version nibble of the first byte picks IPv4 or IPv6, except
 * under LINKTYPE_IPV4/IPV6, where the link type says which and the IP decoder checks it.
 */
#include "decode_int.h"

#define LOOP_HDR_LEN 4u
#define AF_INET_ALL 2u
#define AF_INET6_LINUX 10u
#define AF_INET6_BSD 24u
#define AF_INET6_FREEBSD 28u
#define AF_INET6_DARWIN 30u

/* Ethertype to dispatch a family as, or 0 when we do not know the family. */
static uint16_t
loop_family_ethertype(uint32_t family)
{
    switch (family) {
    case AF_INET_ALL:
        return NS_ETH_IPV4;
    case AF_INET6_LINUX:
    case AF_INET6_BSD:
    case AF_INET6_FREEBSD:
    case AF_INET6_DARWIN:
        return NS_ETH_IPV6;
    default:
        return 0;
    }
}

ns_parse_rc_t
ns_decode_loop(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "null", start);
    uint32_t le = ns_cur_le32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t be = ((le & 0xffu) << 24) | ((le & 0xff00u) << 8) | ((le >> 8) & 0xff00u) |
                  (le >> 24);
    uint32_t family = le;
    uint16_t type = loop_family_ethertype(le);
    if (type == 0 && loop_family_ethertype(be) != 0) {
        family = be;
        type = loop_family_ethertype(be);
    }
    ns_field_uint(d->f, "null.family", start, LOOP_HDR_LEN, family);
    ns_field_close(d->f, node, c->off);
    return ns_dec_next_ethertype(d, type);
}

ns_parse_rc_t
ns_decode_loop_be(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "null", start);
    uint32_t family = ns_cur_be32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "null.family", start, LOOP_HDR_LEN, family);
    ns_field_close(d->f, node, c->off);
    return ns_dec_next_ethertype(d, loop_family_ethertype(family));
}

ns_parse_rc_t
ns_decode_raw(ns_cur_t *c, ns_dec_t *d)
{
    /* No bytes are consumed: the IP decoder reads the version again and checks it. */
    if (!ns_cur_has(c, 1))
        return NS_PARSE_TRUNCATED;
    if (d->pkt->linktype == NS_LINKTYPE_IPV4)
        return ns_dec_next_ethertype(d, NS_ETH_IPV4);
    if (d->pkt->linktype == NS_LINKTYPE_IPV6)
        return ns_dec_next_ethertype(d, NS_ETH_IPV6);
    uint8_t version = ns_cur_peek(c, 0) >> 4;
    if (version == 4)
        return ns_dec_next_ethertype(d, NS_ETH_IPV4);
    if (version == 6)
        return ns_dec_next_ethertype(d, NS_ETH_IPV6);
    return NS_PARSE_INVALID; /* raw IP that is neither IPv4 nor IPv6 */
}

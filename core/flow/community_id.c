/* community_id.c - Community ID v1 flow hash (corelight/community-id-spec).
 *
 * Hash input, all big-endian, 32-bit aligned:
 *
 *   +--------+--------+----------------------+----------------------+
 *   |      seed       |  saddr (4 or 16)     |  daddr (4 or 16)     |
 *   +--------+--------+--------+--------+----+----------------------+
 *   | proto  |   0    |      sport      |      dport      |  (ports only for TCP, UDP, SCTP,
 *   +--------+--------+--------+--------+--------+--------+   ICMP, ICMPv6)
 *
 * Endpoints are ordered so that (saddr, sport) < (daddr, dport), comparing addresses as byte
 * strings and then ports; that makes both directions of a flow hash alike. ICMP type/code
 * become "ports" as in Zeek's ICMP4_counterpart()/ICMP6_counterpart(): a type with a
 * request/reply counterpart hashes (type, counterpart type) and is ordered like ports
 * (two-way); any other type hashes (type, code) in the direction seen, unordered (one-way).
 * The counterpart tables are those of pycommunityid (icmp.py, icmp6.py), the implementation the
 * spec recommends; tshark 4.0 agrees, including ICMPv4 Router Advertisement -> Solicitation,
 * which the older community-id.py script in the spec repository lacks.
 */
#include "netscope/community_id.h"

#include <string.h>

#include "netscope/sha1.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132

typedef struct {
    uint8_t type, counterpart;
} icmp_pair_t;

/* ICMPv4 request/reply pairs (RFC 792, RFC 950, RFC 1256). */
static const icmp_pair_t icmp4_pairs[] = {
    {8, 0},   {0, 8},   /* echo request / reply */
    {13, 14}, {14, 13}, /* timestamp / reply */
    {15, 16}, {16, 15}, /* information request / reply */
    {10, 9},  {9, 10},  /* router solicitation / advertisement */
    {17, 18}, {18, 17}, /* address mask request / reply */
};

/* ICMPv6 request/reply pairs (RFC 4443, RFC 4861, RFC 2710, RFC 4620, RFC 6275). */
static const icmp_pair_t icmp6_pairs[] = {
    {128, 129}, {129, 128}, /* echo request / reply */
    {133, 134}, {134, 133}, /* router solicitation / advertisement */
    {135, 136}, {136, 135}, /* neighbor solicitation / advertisement */
    {130, 131}, {131, 130}, /* multicast listener query / report */
    {139, 140}, {140, 139}, /* node information query / response */
    {144, 145}, {145, 144}, /* home agent address discovery request / reply */
};

/* Map ICMP type/code to port equivalents; returns true when the message is one-way. */
static bool
icmp_ports(uint8_t proto, uint16_t type, uint16_t code, uint16_t *sport, uint16_t *dport)
{
    const icmp_pair_t *t = proto == PROTO_ICMP ? icmp4_pairs : icmp6_pairs;
    size_t n = proto == PROTO_ICMP ? sizeof(icmp4_pairs) / sizeof(icmp4_pairs[0])
                                   : sizeof(icmp6_pairs) / sizeof(icmp6_pairs[0]);
    *sport = type;
    for (size_t i = 0; i < n; i++) {
        if (t[i].type == type) {
            *dport = t[i].counterpart;
            return false;
        }
    }
    *dport = code;
    return true;
}

static size_t
base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = tab[(v >> 18) & 63u];
        out[o++] = tab[(v >> 12) & 63u];
        out[o++] = tab[(v >> 6) & 63u];
        out[o++] = tab[v & 63u];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tab[(v >> 18) & 63u];
        out[o++] = tab[(v >> 12) & 63u];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = tab[(v >> 18) & 63u];
        out[o++] = tab[(v >> 12) & 63u];
        out[o++] = tab[(v >> 6) & 63u];
        out[o++] = '=';
    }
    return o;
}

size_t
ns_community_id_v1(uint16_t seed, uint8_t ip_ver, const ns_addr_t *src, const ns_addr_t *dst,
                   uint8_t proto, uint16_t sport, uint16_t dport, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0)
        return 0;
    out[0] = '\0';
    if (outlen < NS_COMMUNITY_ID_BUFSZ || (ip_ver != 4 && ip_ver != 6) || src == NULL ||
        dst == NULL)
        return 0;
    size_t alen = ip_ver == 4 ? 4u : 16u;

    bool has_ports = proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP ||
                     proto == PROTO_ICMP || proto == PROTO_ICMPV6;
    bool one_way = false;
    if (proto == PROTO_ICMP || proto == PROTO_ICMPV6)
        one_way = icmp_ports(proto, sport, dport, &sport, &dport);
    else if (!has_ports)
        sport = dport = 0;

    int cmp = memcmp(src->b, dst->b, alen);
    bool keep = one_way || cmp < 0 || (cmp == 0 && sport < dport);
    const ns_addr_t *a = keep ? src : dst;
    const ns_addr_t *b = keep ? dst : src;
    uint16_t pa = keep ? sport : dport;
    uint16_t pb = keep ? dport : sport;

    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, a->b, alen);
    n += alen;
    memcpy(buf + n, b->b, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0; /* padding */
    if (has_ports) {
        buf[n++] = (uint8_t)(pa >> 8);
        buf[n++] = (uint8_t)pa;
        buf[n++] = (uint8_t)(pb >> 8);
        buf[n++] = (uint8_t)pb;
    }

    uint8_t digest[NS_SHA1_DIGEST_LEN];
    ns_sha1(buf, n, digest);
    out[0] = '1';
    out[1] = ':';
    size_t len = 2 + base64(digest, sizeof(digest), out + 2);
    out[len] = '\0';
    return len;
}

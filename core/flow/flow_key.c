/* flow_key.c - canonical bidirectional flow keys and their seeded hash.
 *
 * The only file that includes xxhash (STYLE.md: each dependency behind one .c). The key is
 * hashed as its 40 raw bytes; constructors clear it first so padding never leaks in (there is
 * none today, and the static assertion below keeps it that way).
 */
#include "netscope/flow_key.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

_Static_assert(sizeof(ns_flow_key_t) == 40, "ns_flow_key_t must have no padding");

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

bool
ns_flow_key_icmp_ports(uint8_t ip_ver, uint8_t type, uint8_t code, uint16_t *sport,
                       uint16_t *dport)
{
    /* The counterpart tables of Zeek's ICMP analyzer and of the Community ID spec. */
    static const uint8_t v4[][2] = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16},
                                    {16, 15}, {17, 18}, {18, 17}, {10, 9}, {9, 10}};
    static const uint8_t v6[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133},
                                    {135, 136}, {136, 135}, {130, 131}, {131, 130},
                                    {139, 140}, {140, 139}};
    const uint8_t(*t)[2] = ip_ver == 6 ? v6 : v4;
    size_t n = ip_ver == 6 ? sizeof(v6) / sizeof(v6[0]) : sizeof(v4) / sizeof(v4[0]);
    *sport = type;
    for (size_t i = 0; i < n; i++) {
        if (t[i][0] == type) {
            *dport = t[i][1];
            return true;
        }
    }
    *dport = code;
    return false;
}

static int
endpoint_cmp(const ns_addr_t *a, uint16_t ap, const ns_addr_t *b, uint16_t bp)
{
    int c = memcmp(a->b, b->b, sizeof(a->b));
    if (c != 0)
        return c;
    return (int)ap - (int)bp;
}

unsigned
ns_flow_key_make(ns_flow_key_t *key, uint8_t ip_ver, uint8_t proto, uint16_t vlan,
                 const ns_addr_t *src, uint16_t sport, const ns_addr_t *dst, uint16_t dport)
{
    memset(key, 0, sizeof(*key));
    key->ip_ver = ip_ver;
    key->proto = proto;
    key->vlan = vlan;
    unsigned side = endpoint_cmp(src, sport, dst, dport) <= 0 ? 0u : 1u;
    key->addr[side] = *src;
    key->port[side] = sport;
    key->addr[side ^ 1u] = *dst;
    key->port[side ^ 1u] = dport;
    return side;
}

unsigned
ns_flow_key_from_pkt(const ns_pkt_t *pkt, ns_flow_key_t *key)
{
    uint16_t sport = 0, dport = 0;
    switch (pkt->ip_proto) {
    case IPPROTO_TCP_:
    case IPPROTO_UDP_:
    case IPPROTO_SCTP_:
        sport = pkt->sport;
        dport = pkt->dport;
        break;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        (void)ns_flow_key_icmp_ports(pkt->ip_ver, pkt->icmp_type, pkt->icmp_code, &sport,
                                     &dport);
        break;
    default:
        break;
    }
    uint16_t vlan = ns_flow_key_vlan(pkt->vlan_n > 0 ? pkt->vlan[0] : 0, pkt->iface);
    return ns_flow_key_make(key, pkt->ip_ver, pkt->ip_proto, vlan, &pkt->src, sport, &pkt->dst,
                            dport);
}

uint64_t
ns_flow_key_hash(const ns_flow_key_t *key, uint64_t seed)
{
    return XXH3_64bits_withSeed(key, sizeof(*key), seed);
}

bool
ns_flow_key_eq(const ns_flow_key_t *a, const ns_flow_key_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

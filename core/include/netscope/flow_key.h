/* flow_key.h - the canonical bidirectional flow key and its keyed hash.
 *
 * A key names a conversation regardless of direction: the two endpoints (address, port) are
 * stored in a fixed order (the lower one first), so both directions of a packet exchange map
 * to the same key. ICMP and ICMPv6 have no ports; like Zeek (and Community ID) we use the
 * message type as the source "port" and the type of its counterpart (echo request <-> echo
 * reply, ...) as the destination "port", or the code for one-way messages, so a request and
 * its reply land in the same flow. The outer VLAN id is part of the key: the same 5-tuple on
 * two VLANs is two flows. So is the capture interface an agent saw the packet on: the same
 * 5-tuple on two interfaces is two flows (its index rides in the top 4 bits of `vlan`, which
 * VLAN ids (12 bits) never use, so the compact record of flow.h keeps its 96 bytes).
 *
 * Design: the hash is XXH3-64 keyed with a per-process seed the caller supplies (random in
 * production, fixed in tests), so an attacker who does not know the seed cannot aim packets
 * at one hash chain. xxhash is included only in flow_key.c.
 */
#ifndef NETSCOPE_FLOW_KEY_H
#define NETSCOPE_FLOW_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "netscope/pkt.h"

#define NS_FLOW_KEY_VLAN_MASK 0x0fffu
#define NS_FLOW_KEY_IFACE_SHIFT 12u
#define NS_FLOW_KEY_IFACE_MAX 16u /* interfaces one engine can tell apart (ns_pkt_t.iface) */

/* The key's `vlan` member for outer VLAN `vlan_id` seen on interface `iface` (< 16). */
static inline uint16_t
ns_flow_key_vlan(uint16_t vlan_id, uint8_t iface)
{
    return (uint16_t)((vlan_id & NS_FLOW_KEY_VLAN_MASK) |
                      ((unsigned)(iface & 0x0fu) << NS_FLOW_KEY_IFACE_SHIFT));
}

/* 40 bytes, no padding: hashed as raw bytes, so every byte must be set (use ns_flow_key_*). */
typedef struct {
    ns_addr_t addr[2]; /* addr[0]:port[0] is the lower endpoint */
    uint16_t port[2];  /* ports, or ICMP type / counterpart-or-code */
    uint16_t vlan;     /* outer VLAN id (0 when untagged) | interface index << 12 */
    uint8_t proto;     /* IP protocol */
    uint8_t ip_ver;    /* 4 or 6 */
} ns_flow_key_t;

/* Build the key of `pkt` (which must carry an IP header: ip_ver 4 or 6). Returns the side of
 * the key the packet's source is: 0 when the source is addr[0]:port[0], 1 otherwise. For ICMP
 * the source "port" is the type (see above). Ports of non-TCP/UDP/SCTP/ICMP protocols are 0. */
unsigned ns_flow_key_from_pkt(const ns_pkt_t *pkt, ns_flow_key_t *key);

/* Build a key from explicit endpoints (tests, fragment attribution); same contract. */
unsigned ns_flow_key_make(ns_flow_key_t *key, uint8_t ip_ver, uint8_t proto, uint16_t vlan,
                          const ns_addr_t *src, uint16_t sport, const ns_addr_t *dst,
                          uint16_t dport);

/* The ICMP (ip_ver 4) or ICMPv6 (ip_ver 6) "ports" of a message: *sport = type, *dport =
 * counterpart type for request/response pairs, else the code. Returns true when the message
 * is one of a request/response pair (two-way). */
bool ns_flow_key_icmp_ports(uint8_t ip_ver, uint8_t type, uint8_t code, uint16_t *sport,
                            uint16_t *dport);

/* Keyed 64-bit hash of the key. Deterministic for a given seed. */
uint64_t ns_flow_key_hash(const ns_flow_key_t *key, uint64_t seed);

/* True when both keys are equal. */
bool ns_flow_key_eq(const ns_flow_key_t *a, const ns_flow_key_t *b);

#endif /* NETSCOPE_FLOW_KEY_H */

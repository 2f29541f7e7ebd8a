/* flow_frag.h - a bounded cache that attributes non-first IP fragments to their flow.
 *
 * Only the first fragment of a datagram carries the transport header; the others carry
 * (source, destination, protocol, IP id) and bytes. When a first fragment is seen its ports
 * are remembered under that key, and later fragments of the same datagram look them up.
 *
 * Design: a direct-mapped array of `slots` entries fixed at creation; a new datagram simply
 * replaces whatever shared its slot, so a fragment flood costs a bounded amount of memory
 * and never slows lookups. Entries older than NS_FLOW_FRAG_MAX_AGE_NS are ignored. Fragments
 * that arrive before their first fragment, or whose entry was replaced, cannot be attributed:
 * the caller counts them.
 */
#ifndef NETSCOPE_FLOW_FRAG_H
#define NETSCOPE_FLOW_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "netscope/pkt.h"

#define NS_FLOW_FRAG_MAX_AGE_NS (30ull * 1000000000ull)

typedef struct ns_flow_frag ns_flow_frag_t;

/* A cache of `slots` entries (rounded up to a power of two, at least 16) hashed with `seed`.
 * Returns a new cache owned by the caller, or NULL when out of memory. */
ns_flow_frag_t *ns_flow_frag_new(uint32_t slots, uint64_t seed);

/* Free the cache and NULL the pointer. NULL-safe. */
void ns_flow_frag_destroy(ns_flow_frag_t **self_p);

/* Remember the transport ports of first fragment `pkt` (ICMP: its key "ports"). */
void ns_flow_frag_learn(ns_flow_frag_t *self, const ns_pkt_t *pkt, uint16_t sport,
                        uint16_t dport);

/* Look up the ports of non-first fragment `pkt` at `now_ns`; false when unknown. */
bool ns_flow_frag_find(const ns_flow_frag_t *self, const ns_pkt_t *pkt, uint64_t now_ns,
                       uint16_t *sport, uint16_t *dport);

#endif /* NETSCOPE_FLOW_FRAG_H */

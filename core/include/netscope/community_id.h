/* community_id.h - Community ID flow hashing, version 1.
 *
 * Spec: https://github.com/corelight/community-id-spec (v1). The ID of a flow is
 * "1:" + base64(SHA-1(seed(2, big-endian) . saddr . daddr . proto(1) . 0(1) . sport(2) .
 * dport(2))), where the endpoints are ordered so that the smaller (address, port) comes first
 * and both directions of a flow get the same ID. For ICMP and ICMPv6 the "ports" are the
 * message type and code, mapped so that a request and its reply hash alike; for protocols
 * without ports (other than TCP, UDP, SCTP, ICMP, ICMPv6) the port fields are omitted.
 *
 * Design: pure function, no allocation, no globals; SHA-1 from sha1.h (no crypto library).
 */
#ifndef NETSCOPE_COMMUNITY_ID_H
#define NETSCOPE_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "netscope/pkt.h"

/* "1:" + 28 base64 characters + NUL. */
#define NS_COMMUNITY_ID_LEN 30u
#define NS_COMMUNITY_ID_BUFSZ 31u

/* Write the Community ID v1 of a flow into `out` as "1:<base64 of SHA-1>", NUL-terminated,
 * and return its length (30). `ip_ver` is 4 or 6 (IPv4 uses the first 4 bytes of each
 * address). `sport`/`dport` are host-order ports; for ICMP (proto 1) and ICMPv6 (58) pass the
 * type as sport and the code as dport: the function applies the spec's one-way/two-way type
 * mapping. Port values are ignored for protocols without ports. Returns 0 and writes "" (when
 * outlen > 0) if outlen < NS_COMMUNITY_ID_BUFSZ or ip_ver is neither 4 nor 6. */
size_t ns_community_id_v1(uint16_t seed, uint8_t ip_ver, const ns_addr_t *src, const ns_addr_t *dst,
                          uint8_t proto, uint16_t sport, uint16_t dport, char *out, size_t outlen);

#endif /* NETSCOPE_COMMUNITY_ID_H */

/* host_addr.h - an address of an agent's host, with its IP version.
 *
 * ns_addr_t alone does not say whether 0a000001 0000... is 10.0.0.1 or the IPv6 address
 * a00:1::, so the addresses agents register (their interfaces' addresses, from Hello) carry
 * their version: the inventory stores them, the merge asks which agent owns a flow's address.
 */
#ifndef NETSCOPE_HOST_ADDR_H
#define NETSCOPE_HOST_ADDR_H

#include <stdint.h>

#include "netscope/pkt.h"

typedef struct {
    ns_addr_t addr; /* IPv4 in the first 4 bytes, the other 12 zero */
    uint8_t ip_ver; /* 4 or 6 */
} ns_host_addr_t;

#endif /* NETSCOPE_HOST_ADDR_H */

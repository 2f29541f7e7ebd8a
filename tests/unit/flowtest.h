/* flowtest.h - hand-built packets for the flow engine tests. */
#ifndef NETSCOPE_FLOWTEST_H
#define NETSCOPE_FLOWTEST_H

#include <string.h>

#include "netscope/pkt.h"

#define FT_MS 1000000ull

/* A TCP packet from a (10.0.0.1:40000 when c2s) to b (10.0.0.2:80), or back. */
static inline ns_pkt_t
ft_tcp(bool c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint64_t ts_ns)
{
    ns_pkt_t p;
    memset(&p, 0, sizeof(p));
    p.ts_ns = ts_ns;
    p.ip_ver = 4;
    p.ip_proto = 6;
    p.layers = NS_HAS(NS_LAYER_IPV4) | NS_HAS(NS_LAYER_TCP);
    uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    memcpy(p.src.b, c2s ? a : b, 4);
    memcpy(p.dst.b, c2s ? b : a, 4);
    p.sport = c2s ? 40000 : 80;
    p.dport = c2s ? 80 : 40000;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 1000;
    p.payload_len = p.payload_cap = len;
    p.ip_len = 40 + len;
    p.wire_len = p.cap_len = 54 + len;
    return p;
}

#endif

/* ipframe.h - raw IPv4 frames built by hand for the flow and application-layer tests: a
 * fixed 20-byte header from 10.0.0.1 (dir 0) or 10.0.0.2 (dir 1), a transport header the test
 * builds, and a payload, in an exact-size heap copy (an over-read is an ASan report). */
#ifndef NETSCOPE_IPFRAME_H
#define NETSCOPE_IPFRAME_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IP_HDR 20u
#define TCP_HDR 20u
#define UDP_HDR 8u

static inline void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

/* A raw IPv4 frame of protocol `proto` from 10.0.0.1:40000 (dir 0) or 10.0.0.2:port (dir 1)
 * carrying `l4` (the transport header already built) and `payload`. Exact-size heap copy. */
static inline uint8_t *
ipv4_frame(unsigned dir, uint8_t proto, const uint8_t *l4, uint32_t l4_len, const uint8_t *payload,
           uint32_t len, uint32_t *frame_len)
{
    uint32_t total = IP_HDR + l4_len + len;
    uint8_t *f = malloc(total);
    ck_assert_ptr_nonnull(f);
    /* clang-format off */
    uint8_t ip[IP_HDR] = {
        0x45, 0x00, 0x00, 0x00, /* version 4, IHL 5; TOS; total length (set below) */
        0x12, 0x34, 0x40, 0x00, /* id; DF, fragment offset 0 */
        64,   0,    0x00, 0x00, /* TTL; protocol (set below); checksum (set below) */
        10,   0,    0,    1,    /* source 10.0.0.1 */
        10,   0,    0,    2,    /* destination 10.0.0.2 */
    };
    /* clang-format on */
    put16(ip + 2, total);
    ip[9] = proto;
    if (dir == 1) { /* swap source and destination */
        ip[15] = 2;
        ip[19] = 1;
    }
    uint32_t sum = 0;
    for (unsigned i = 0; i < IP_HDR; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffffu);
    memcpy(f, ip, IP_HDR);
    memcpy(f + IP_HDR, l4, l4_len);
    if (len)
        memcpy(f + IP_HDR + l4_len, payload, len);
    *frame_len = total;
    return f;
}

#endif /* NETSCOPE_IPFRAME_H */

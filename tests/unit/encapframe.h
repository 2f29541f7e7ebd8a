/* encapframe.h - frames built field by field for the encapsulation tests: Ethernet, an outer
 * IPv4 + UDP whose lengths and checksum are filled in at the end, tunnel headers the test
 * writes, and an inner packet (IPv4 or IPv6, UDP 1234 -> 5678, "ping"; no application
 * decoder claims port 5678, so a whole frame decodes OK). Decode with tu_decode(), which runs
 * over an exact-size heap copy. */
#ifndef NETSCOPE_ENCAPFRAME_H
#define NETSCOPE_ENCAPFRAME_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netscope/pkt.h"
#include "testutil.h"

typedef struct {
    uint8_t b[1024];
    size_t n;
} ef_t;

static const uint8_t EF_INNER4_SRC[4] = {192, 0, 2, 1};
static const uint8_t EF_INNER4_DST[4] = {198, 51, 100, 2};
static const uint8_t EF_INNER6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                          0,    0,    0,    0,    0, 0, 0, 1};

static inline void
ef_put(ef_t *f, const void *p, size_t n)
{
    ck_assert_uint_le(f->n + n, sizeof(f->b));
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static inline void
ef_u8(ef_t *f, uint8_t v)
{
    ef_put(f, &v, 1);
}

static inline void
ef_be16(ef_t *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    ef_put(f, b, 2);
}

static inline void
ef_be32(ef_t *f, uint32_t v)
{
    ef_be16(f, (uint16_t)(v >> 16));
    ef_be16(f, (uint16_t)v);
}

static inline void
ef_le16(ef_t *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ef_put(f, b, 2);
}

static inline void
ef_le32(ef_t *f, uint32_t v)
{
    ef_le16(f, (uint16_t)v);
    ef_le16(f, (uint16_t)(v >> 16));
}

static inline void
ef_set16(ef_t *f, size_t at, uint16_t v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

/* Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02 of `type`. */
static inline void
ef_eth(ef_t *f, uint16_t type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    ef_put(f, macs, 12);
    ef_be16(f, type);
}

/* An IPv4 header 10.0.0.1 -> 10.0.0.2 of `proto`; returns its offset for ef_ipv4_end(). */
static inline size_t
ef_ipv4(ef_t *f, uint8_t proto)
{
    size_t at = f->n;
    static const uint8_t h[12] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 0, 0, 0};
    static const uint8_t a[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    ef_put(f, h, 12);
    f->b[at + 9] = proto;
    ef_put(f, a, 8);
    return at;
}

/* Total length (to the end of the frame so far) and header checksum. */
static inline void
ef_ipv4_end(ef_t *f, size_t at)
{
    ef_set16(f, at + 2, (uint16_t)(f->n - at));
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2)
        sum += (uint32_t)(f->b[at + i] << 8 | f->b[at + i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    ef_set16(f, at + 10, (uint16_t)~sum);
}

/* A UDP header 49152 -> `dport`; returns its offset for ef_udp_end(). Checksum 0 (none). */
static inline size_t
ef_udp(ef_t *f, uint16_t dport)
{
    size_t at = f->n;
    ef_be16(f, 49152);
    ef_be16(f, dport);
    ef_be32(f, 0);
    return at;
}

static inline void
ef_udp_end(ef_t *f, size_t at)
{
    ef_set16(f, at + 4, (uint16_t)(f->n - at));
}

/* Ethernet + IPv4 + UDP to `dport`, open: close with ef_close_udp(). */
static inline void
ef_outer_udp(ef_t *f, uint16_t dport, size_t *ip, size_t *udp)
{
    f->n = 0;
    ef_eth(f, 0x0800);
    *ip = ef_ipv4(f, 17);
    *udp = ef_udp(f, dport);
}

static inline void
ef_close_udp(ef_t *f, size_t ip, size_t udp)
{
    ef_udp_end(f, udp);
    ef_ipv4_end(f, ip);
}

/* The inner IPv4 packet 192.0.2.1:1234 -> 198.51.100.2:5678, UDP, "ping" (32 bytes). */
static inline void
ef_inner4(ef_t *f)
{
    size_t at = f->n;
    static const uint8_t h[12] = {0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0};
    ef_put(f, h, 12);
    ef_put(f, EF_INNER4_SRC, 4);
    ef_put(f, EF_INNER4_DST, 4);
    static const uint8_t u[12] = {0x04, 0xd2, 0x16, 0x2e, 0, 12, 0, 0, 'p', 'i', 'n', 'g'};
    ef_put(f, u, 12);
    ef_ipv4_end(f, at);
}

/* The inner IPv6 packet 2001:db8::1:1234 -> 2001:db8::2:5678, UDP, "ping" (52 bytes). */
static inline void
ef_inner6(ef_t *f)
{
    static const uint8_t h[8] = {0x60, 0, 0, 0, 0, 12, 17, 64};
    ef_put(f, h, 8);
    ef_put(f, EF_INNER6_SRC, 16);
    uint8_t dst[16];
    memcpy(dst, EF_INNER6_SRC, 16);
    dst[15] = 2;
    ef_put(f, dst, 16);
    static const uint8_t u[12] = {0x04, 0xd2, 0x16, 0x2e, 0, 12, 0, 0, 'p', 'i', 'n', 'g'};
    ef_put(f, u, 12);
}

/* The inner Ethernet frame 02:..:03 -> 02:..:04 carrying ef_inner4(). */
static inline void
ef_inner_eth4(ef_t *f)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 3};
    ef_put(f, macs, 12);
    ef_be16(f, 0x0800);
    ef_inner4(f);
}

/* The summary's innermost packet is ef_inner4()'s. */
static inline void
ef_assert_inner4(const ns_pkt_t *p)
{
    ck_assert_uint_eq(p->ip_ver, 4);
    ck_assert_mem_eq(p->src.b, EF_INNER4_SRC, 4);
    ck_assert_mem_eq(p->dst.b, EF_INNER4_DST, 4);
    ck_assert_uint_eq(p->sport, 1234);
    ck_assert_uint_eq(p->dport, 5678);
    ck_assert_uint_eq(p->payload_len, 4);
}

/* Every prefix decodes without a crash or an over-read (tu_truncation_sweep), and every
 * prefix of [from, to) bytes is not OK. Prefixes that end exactly after a UDP header, or
 * inside the inner packet's payload, are OK by design (nothing to decode / a short payload),
 * so the caller names the range where a header is cut. */
static inline void
ef_sweep(uint32_t linktype, const ef_t *f, size_t from, size_t to)
{
    tu_truncation_sweep(linktype, f->b, f->n, 0);
    for (size_t n = from; n < to; n++) {
        tu_result_t *r = tu_decode(linktype, f->b, n);
        ck_assert_msg(r->rc != NS_PARSE_OK, "prefix of %zu bytes decoded as OK", n);
        tu_free(r);
    }
}

#endif /* NETSCOPE_ENCAPFRAME_H */

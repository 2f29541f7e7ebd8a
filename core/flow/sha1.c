/* sha1.c - SHA-1 (FIPS 180-4, section 6.1), written from the standard.
 *
 * Straightforward 80-round compression with the 16-word rolling message schedule
 * (FIPS 180-4 6.1.3, the alternative method), which keeps the state at 64 bytes. Big-endian
 * word loads and the length encoding are done byte by byte, so the code is independent of
 * host endianness and alignment.
 */
#include "netscope/sha1.h"

#include <string.h>

static inline uint32_t
rotl32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

static inline uint32_t
load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Process one 512-bit block (FIPS 180-4 6.1.2 step 1-4, schedule per 6.1.3). */
static void
compress(uint32_t h[5], const uint8_t block[NS_SHA1_BLOCK_LEN])
{
    uint32_t w[16];
    for (unsigned t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (unsigned t = 0; t < 80; t++) {
        unsigned s = t & 15u;
        if (t >= 16)
            w[s] = rotl32(w[(s + 13) & 15u] ^ w[(s + 8) & 15u] ^ w[(s + 2) & 15u] ^ w[s], 1);
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) ^ (~b & d); /* Ch */
            k = 0x5a827999u;
        } else if (t < 40) {
            f = b ^ c ^ d; /* Parity */
            k = 0x6ed9eba1u;
        } else if (t < 60) {
            f = (b & c) ^ (b & d) ^ (c & d); /* Maj */
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        uint32_t tmp = rotl32(a, 5) + f + e + k + w[s];
        e = d;
        d = c;
        c = rotl32(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void
ns_sha1_init(ns_sha1_t *ctx)
{
    /* Initial hash value, FIPS 180-4 5.3.1. */
    ctx->h[0] = 0x67452301u;
    ctx->h[1] = 0xefcdab89u;
    ctx->h[2] = 0x98badcfeu;
    ctx->h[3] = 0x10325476u;
    ctx->h[4] = 0xc3d2e1f0u;
    ctx->len_bytes = 0;
    ctx->block_used = 0;
}

void
ns_sha1_update(ns_sha1_t *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    ctx->len_bytes += len;
    if (ctx->block_used > 0) {
        size_t want = NS_SHA1_BLOCK_LEN - ctx->block_used;
        size_t n = len < want ? len : want;
        memcpy(ctx->block + ctx->block_used, p, n);
        ctx->block_used += (uint32_t)n;
        p += n;
        len -= n;
        if (ctx->block_used < NS_SHA1_BLOCK_LEN)
            return;
        compress(ctx->h, ctx->block);
        ctx->block_used = 0;
    }
    while (len >= NS_SHA1_BLOCK_LEN) {
        compress(ctx->h, p);
        p += NS_SHA1_BLOCK_LEN;
        len -= NS_SHA1_BLOCK_LEN;
    }
    if (len > 0) {
        memcpy(ctx->block, p, len);
        ctx->block_used = (uint32_t)len;
    }
}

void
ns_sha1_final(ns_sha1_t *ctx, uint8_t out[NS_SHA1_DIGEST_LEN])
{
    /* Padding, FIPS 180-4 5.1.1: a 1 bit, zeros to 448 mod 512, then the 64-bit bit length. */
    uint64_t bits = ctx->len_bytes * 8u;
    ctx->block[ctx->block_used++] = 0x80;
    if (ctx->block_used > NS_SHA1_BLOCK_LEN - 8) {
        memset(ctx->block + ctx->block_used, 0, NS_SHA1_BLOCK_LEN - ctx->block_used);
        compress(ctx->h, ctx->block);
        ctx->block_used = 0;
    }
    memset(ctx->block + ctx->block_used, 0, NS_SHA1_BLOCK_LEN - 8 - ctx->block_used);
    for (unsigned i = 0; i < 8; i++)
        ctx->block[NS_SHA1_BLOCK_LEN - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress(ctx->h, ctx->block);
    for (unsigned i = 0; i < 5; i++)
        store_be32(out + 4 * i, ctx->h[i]);
}

void
ns_sha1(const void *data, size_t len, uint8_t out[NS_SHA1_DIGEST_LEN])
{
    ns_sha1_t ctx;
    ns_sha1_init(&ctx);
    ns_sha1_update(&ctx, data, len);
    ns_sha1_final(&ctx, out);
}

/* sha1.h - SHA-1 message digest (FIPS 180-4), for Community ID.
 *
 * SHA-1 is used here only as the fixed hash function of the Community ID v1 spec, never for
 * security. Written from FIPS 180-4 section 6.1 so that core needs no crypto library.
 *
 * Design: a context value the caller embeds (no allocation); streaming update, any split.
 */
#ifndef NETSCOPE_SHA1_H
#define NETSCOPE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define NS_SHA1_DIGEST_LEN 20u
#define NS_SHA1_BLOCK_LEN 64u

typedef struct {
    uint32_t h[5];                    /* intermediate hash value H0..H4 */
    uint64_t len_bytes;               /* message bytes absorbed so far */
    uint8_t block[NS_SHA1_BLOCK_LEN]; /* pending partial block */
    uint32_t block_used;              /* bytes in `block` */
} ns_sha1_t;

/* Start a new digest in `ctx`. */
void ns_sha1_init(ns_sha1_t *ctx);

/* Absorb `len` bytes at `data` (may be NULL when len is 0). */
void ns_sha1_update(ns_sha1_t *ctx, const void *data, size_t len);

/* Pad, finish and write the 20-byte digest to `out`. `ctx` must be re-initialised before
 * reuse. */
void ns_sha1_final(ns_sha1_t *ctx, uint8_t out[NS_SHA1_DIGEST_LEN]);

/* One-shot: the digest of `len` bytes at `data`. */
void ns_sha1(const void *data, size_t len, uint8_t out[NS_SHA1_DIGEST_LEN]);

#endif /* NETSCOPE_SHA1_H */

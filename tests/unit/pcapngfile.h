/* pcapngfile.h - pcapng files built block by block for the tests (pcapng, RFC draft
 * draft-ietf-opsawg-pcapng): a section header, interface descriptions of any link type and
 * snapshot length, enhanced and simple packet blocks, written in host byte order (the
 * section's magic says which), and a temporary file to read them back from. */
#ifndef NETSCOPE_PCAPNGFILE_H
#define NETSCOPE_PCAPNGFILE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint8_t b[1024];
    size_t n;
} blk_t;

static inline void
put32(blk_t *b, uint32_t v)
{
    ck_assert_uint_le(b->n + 4, sizeof(b->b));
    memcpy(b->b + b->n, &v, 4); /* host order: the section's magic says which */
    b->n += 4;
}

static inline void
put16(blk_t *b, uint16_t v)
{
    ck_assert_uint_le(b->n + 2, sizeof(b->b));
    memcpy(b->b + b->n, &v, 2);
    b->n += 2;
}

/* A block of `type` with `body` (padded to 4), framed by its total length. */
static inline void
block(blk_t *b, uint32_t type, const void *body, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    uint32_t total = (uint32_t)(12 + padded);
    ck_assert_uint_le(b->n + total, sizeof(b->b));
    put32(b, type);
    put32(b, total);
    memcpy(b->b + b->n, body, len);
    memset(b->b + b->n + len, 0, padded - len);
    b->n += padded;
    put32(b, total);
}

/* Start `f` with a section header block (version 1.0, section length unknown). */
static inline void
pcapng_shb(blk_t *f)
{
    f->n = 0;
    blk_t t = {.n = 0};
    put32(&t, 0x1a2b3c4d);
    put16(&t, 1);
    put16(&t, 0);
    put32(&t, 0xffffffffu);
    put32(&t, 0xffffffffu);
    block(f, 0x0a0d0d0a, t.b, t.n);
}

/* An interface description block without options (timestamps in microseconds). */
static inline void
pcapng_idb(blk_t *f, uint16_t linktype, uint32_t snaplen)
{
    blk_t t = {.n = 0};
    put16(&t, linktype);
    put16(&t, 0);
    put32(&t, snaplen);
    block(f, 1, t.b, t.n);
}

/* An enhanced packet block on interface `iface`: `cap_len` bytes of `data` captured of
 * `wire_len`, at `ts` in the interface's time unit. */
static inline void
pcapng_epb(blk_t *f, uint32_t iface, uint64_t ts, const void *data, uint32_t cap_len,
           uint32_t wire_len)
{
    blk_t t = {.n = 0};
    put32(&t, iface);
    put32(&t, (uint32_t)(ts >> 32));
    put32(&t, (uint32_t)ts);
    put32(&t, cap_len);
    put32(&t, wire_len);
    ck_assert_uint_le(t.n + cap_len, sizeof(t.b));
    memcpy(t.b + t.n, data, cap_len);
    t.n += cap_len;
    block(f, 6, t.b, t.n);
}

/* Write `n` bytes to a new temporary file; its path goes to `path` (unlink it after). */
static inline void
write_tmp(const uint8_t *b, size_t n, char path[64])
{
    snprintf(path, 64, "/tmp/ns_test_pcapng_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    close(fd);
}

#endif /* NETSCOPE_PCAPNGFILE_H */

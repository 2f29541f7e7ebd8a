/* testutil.h - helpers shared by the decoder unit tests.
 *
 * Every decode in a test runs over an exact-size heap copy of the bytes, so an over-read of
 * even one byte is an ASan report (a prefix of a larger static array would hide it).
 */
#ifndef NETSCOPE_TESTUTIL_H
#define NETSCOPE_TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/decode.h"

#define TU_MAX_FIELDS 512

typedef struct {
    ns_pkt_t pkt;
    ns_fields_t f;
    ns_field_t v[TU_MAX_FIELDS];
    char arena[8192];
    ns_parse_rc_t rc;
} tu_result_t;

/* Decode `len` bytes of `bytes` (copied to a heap buffer of exactly that size) with a field
 * list. The result is heap-allocated; free it with tu_free(). Offsets in fields refer to the
 * heap copy, which is freed too, so compare values, not pointers, after tu_free. */
static inline tu_result_t *
tu_decode_cfg(const ns_decode_cfg_t *cfg, uint32_t linktype, const uint8_t *bytes, size_t len)
{
    tu_result_t *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, bytes, len);
    ns_fields_init(&r->f, r->v, TU_MAX_FIELDS, r->arena, sizeof(r->arena));
    r->rc = ns_decode_frame_cfg(cfg, linktype, copy, (uint32_t)len, (uint32_t)len, &r->pkt,
                                &r->f, NULL);
    /* Keep the copy alive for field lookups: tu_free releases it. */
    r->f.buf = copy;
    return r;
}

/* tu_decode_cfg() with the registered tunnel ports (as ns_decode_frame() decodes). */
static inline tu_result_t *
tu_decode(uint32_t linktype, const uint8_t *bytes, size_t len)
{
    return tu_decode_cfg(NULL, linktype, bytes, len);
}

static inline void
tu_free(tu_result_t *r)
{
    if (r) {
        free((void *)r->f.buf);
        free(r);
    }
}

/* The nth (0-based) field called `name`, or NULL. */
static inline const ns_field_t *
tu_field(const tu_result_t *r, const char *name, int nth)
{
    for (uint32_t i = 0; i < r->f.n; i++)
        if (strcmp(r->f.v[i].name, name) == 0 && nth-- == 0)
            return &r->f.v[i];
    return NULL;
}

/* Value of the first unsigned field called `name`; fails the test when absent. */
static inline uint64_t
tu_uint(const tu_result_t *r, const char *name)
{
    const ns_field_t *x = tu_field(r, name, 0);
    ck_assert_msg(x != NULL, "field %s missing", name);
    return x->u;
}

/* Decode every proper prefix of a valid frame (each an exact-size heap copy, with and without
 * a field list); none may crash or read out of bounds, and every prefix shorter than
 * `min_ok` must not report OK for the frame as a whole. */
static inline void
tu_truncation_sweep(uint32_t linktype, const uint8_t *bytes, size_t len, size_t min_ok)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(copy);
        if (n)
            memcpy(copy, bytes, n);
        ns_pkt_t pkt;
        memset(&pkt, 0, sizeof(pkt));
        ns_decode_stats_t st;
        memset(&st, 0, sizeof(st));
        ns_parse_rc_t rc = ns_decode_frame(linktype, copy, (uint32_t)n, (uint32_t)len, &pkt,
                                           NULL, &st);
        static ns_field_t v[TU_MAX_FIELDS];
        static char arena[8192];
        ns_fields_t f;
        ns_fields_init(&f, v, TU_MAX_FIELDS, arena, sizeof(arena));
        ns_parse_rc_t rc2 = ns_decode_frame(linktype, copy, (uint32_t)n, (uint32_t)len, &pkt,
                                            &f, NULL);
        ck_assert_int_eq(rc, rc2); /* the tree never changes the outcome */
        if (n < min_ok)
            ck_assert_msg(rc != NS_PARSE_OK, "prefix of %zu bytes decoded as OK", n);
        free(copy);
    }
}

#endif /* NETSCOPE_TESTUTIL_H */

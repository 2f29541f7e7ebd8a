/* testutil_l4.h - run one transport or application decoder directly, as the IP layer would.
 *
 * The frame-level tests go through ns_decode_frame (testutil.h). These helpers call a single
 * decoder on an exact-size heap copy of its bytes, with the contract the IP layer sets up:
 * pkt->ip_ver, ip_proto and payload_len (the declared L4 bytes), and the cursor narrowed to the
 * declared length or to what was captured. So an L4 decoder can be tested on its own, and a
 * "declared longer than captured" case needs no IP header at all.
 */
#ifndef NETSCOPE_TESTUTIL_L4_H
#define NETSCOPE_TESTUTIL_L4_H

#include "testutil.h"

#include "../../core/decode/decode_int.h"

typedef struct {
    ns_pkt_t pkt;
    ns_fields_t f;
    ns_field_t v[TU_MAX_FIELDS];
    char arena[8192];
    ns_parse_rc_t rc;
    uint8_t *copy; /* the decoded bytes: alive until tl4_free (fields may point into them) */
    ns_cur_t cur;  /* the cursor after the decoder ran */
    uint8_t next;  /* what the decoder handed on (ns_next_t) */
} tl4_result_t;

/* Decode `len` captured bytes of an L4 message declared `declared` bytes long with `fn`, as
 * IP protocol `proto` over IP version `ip_ver`; `ip_flags` as the IP layer would set them.
 * `with_fields` selects the protocol tree. */
static inline tl4_result_t *
tl4_run_ex(ns_decoder_fn fn, uint8_t ip_ver, uint8_t proto, uint8_t ip_flags,
           const uint8_t *bytes, size_t len, uint32_t declared, bool with_fields)
{
    tl4_result_t *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    r->copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(r->copy);
    if (len)
        memcpy(r->copy, bytes, len);
    ns_fields_init(&r->f, r->v, TU_MAX_FIELDS, r->arena, sizeof(r->arena));
    r->f.buf = r->copy;
    r->pkt.ip_ver = ip_ver;
    r->pkt.ip_proto = proto;
    r->pkt.ip_flags = ip_flags;
    r->pkt.payload_len = declared;
    r->pkt.payload_cap = (uint32_t)len < declared ? (uint32_t)len : declared;
    ns_cur_init(&r->cur, r->copy, (uint32_t)len);
    (void)ns_cur_narrow(&r->cur, declared);
    ns_dec_t d = {.pkt = &r->pkt, .f = with_fields ? &r->f : NULL};
    r->rc = fn(&r->cur, &d);
    r->next = d.next;
    return r;
}

/* All bytes captured, over IPv4, no fragment, with a field list. */
static inline tl4_result_t *
tl4_run(ns_decoder_fn fn, uint8_t proto, const uint8_t *bytes, size_t len)
{
    return tl4_run_ex(fn, 4, proto, 0, bytes, len, (uint32_t)len, true);
}

static inline void
tl4_free(tl4_result_t *r)
{
    if (r) {
        free(r->copy);
        free(r);
    }
}

/* The nth field called `name` in a direct run, or NULL. */
static inline const ns_field_t *
tl4_field(const tl4_result_t *r, const char *name, int nth)
{
    for (uint32_t i = 0; i < r->f.n; i++)
        if (strcmp(r->f.v[i].name, name) == 0 && nth-- == 0)
            return &r->f.v[i];
    return NULL;
}

static inline uint64_t
tl4_uint(const tl4_result_t *r, const char *name, int nth)
{
    const ns_field_t *x = tl4_field(r, name, nth);
    ck_assert_msg(x != NULL, "field %s #%d missing", name, nth);
    return x->u;
}

/* True when text field `name` (nth) reads exactly `want`. */
static inline bool
tl4_str_is(const tl4_result_t *r, const char *name, int nth, const char *want)
{
    const ns_field_t *x = tl4_field(r, name, nth);
    if (x == NULL || x->type != NS_FT_STR)
        return false;
    return x->str_len == strlen(want) && memcmp(x->str, want, x->str_len) == 0;
}

/* Same for a frame-level result. */
static inline bool
tu_str_is(const tu_result_t *r, const char *name, int nth, const char *want)
{
    const ns_field_t *x = tu_field(r, name, nth);
    if (x == NULL || x->type != NS_FT_STR)
        return false;
    return x->str_len == strlen(want) && memcmp(x->str, want, x->str_len) == 0;
}

/* Run `fn` on every proper prefix of an L4 message (declared `len` bytes, so each prefix is a
 * snaplen cut), with and without a field list: no crash, no over-read (ASan), the same
 * outcome both ways, and never OK below `min_ok` bytes. */
static inline void
tl4_truncation_sweep(ns_decoder_fn fn, uint8_t ip_ver, uint8_t proto, const uint8_t *bytes,
                     size_t len, size_t min_ok)
{
    for (size_t n = 0; n < len; n++) {
        tl4_result_t *a = tl4_run_ex(fn, ip_ver, proto, 0, bytes, n, (uint32_t)len, false);
        tl4_result_t *b = tl4_run_ex(fn, ip_ver, proto, 0, bytes, n, (uint32_t)len, true);
        ck_assert_int_eq(a->rc, b->rc);
        if (n < min_ok)
            ck_assert_msg(a->rc != NS_PARSE_OK, "prefix of %zu bytes decoded as OK", n);
        tl4_free(a);
        tl4_free(b);
    }
}

#endif /* NETSCOPE_TESTUTIL_L4_H */

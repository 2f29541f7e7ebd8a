/* cursor.h - the bounds-checked byte cursor: the only way decoders touch packet bytes.
 *
 * A cursor is a window [off, end) over a buffer whose first byte is offset 0 (the start of the
 * frame, or of a reassembly buffer). Offsets stay absolute, so a field's offset can be reported
 * straight into the protocol tree. Reads past `end` return 0 and set the sticky `short_read`
 * flag; callers read a whole fixed header, then check `ns_cur_ok()` once, before any value
 * read steers control flow (STYLE.md, "Untrusted bytes").
 *
 * Design: header-only, freestanding (no libc), never allocates. Narrowing only ever shrinks the
 * window, so a length field in a packet can never widen what a decoder may read.
 */
#ifndef NETSCOPE_CURSOR_H
#define NETSCOPE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *base; /* byte 0 of the buffer (not owned) */
    uint32_t off;        /* next byte to read */
    uint32_t end;        /* one past the last readable byte */
    bool short_read;     /* sticky: some read ran past `end` */
} ns_cur_t;

/* Big-endian values from bytes already proven present (by a cursor or a view): the one place
 * byte order is put together. */
static inline uint16_t
ns_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
ns_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Initialise a cursor over `len` readable bytes at `buf`. */
static inline void
ns_cur_init(ns_cur_t *c, const uint8_t *buf, uint32_t len)
{
    c->base = buf;
    c->off = 0;
    c->end = len;
    c->short_read = false;
}

/* True while no read has run past the end. */
static inline bool
ns_cur_ok(const ns_cur_t *c)
{
    return !c->short_read;
}

/* Bytes left between the read position and the end (0 once past it). */
static inline uint32_t
ns_cur_left(const ns_cur_t *c)
{
    return c->off < c->end ? c->end - c->off : 0;
}

/* True when `n` more bytes can be read. */
static inline bool
ns_cur_has(const ns_cur_t *c, uint32_t n)
{
    return ns_cur_left(c) >= n;
}

/* Claim `n` bytes: returns their start offset and advances, or marks a short read (the
 * position then jumps to the end so later reads fail too). */
static inline uint32_t
ns_cur_take(ns_cur_t *c, uint32_t n)
{
    uint32_t at = c->off;
    if (ns_cur_left(c) < n) {
        c->short_read = true;
        c->off = c->end;
        return at;
    }
    c->off += n;
    return at;
}

static inline uint8_t
ns_cur_u8(ns_cur_t *c)
{
    if (!ns_cur_has(c, 1)) {
        c->short_read = true;
        c->off = c->end;
        return 0;
    }
    return c->base[c->off++];
}

static inline uint16_t
ns_cur_be16(ns_cur_t *c)
{
    if (!ns_cur_has(c, 2)) {
        c->short_read = true;
        c->off = c->end;
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return ns_be16(p);
}

static inline uint32_t
ns_cur_be32(ns_cur_t *c)
{
    if (!ns_cur_has(c, 4)) {
        c->short_read = true;
        c->off = c->end;
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ns_be32(p);
}

static inline uint16_t
ns_cur_le16(ns_cur_t *c)
{
    if (!ns_cur_has(c, 2)) {
        c->short_read = true;
        c->off = c->end;
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
ns_cur_le32(ns_cur_t *c)
{
    if (!ns_cur_has(c, 4)) {
        c->short_read = true;
        c->off = c->end;
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* Skip `n` bytes. */
static inline void
ns_cur_skip(ns_cur_t *c, uint32_t n)
{
    (void)ns_cur_take(c, n);
}

/* Copy `n` bytes into `dst` (zero-filled on a short read). */
static inline void
ns_cur_copy(ns_cur_t *c, uint8_t *dst, uint32_t n)
{
    if (!ns_cur_has(c, n)) {
        __builtin_memset(dst, 0, n);
        c->short_read = true;
        c->off = c->end;
        return;
    }
    __builtin_memcpy(dst, c->base + c->off, n);
    c->off += n;
}

/* ---- views: a fixed-size header, checked once ----
 *
 * A decoder that knows its fixed header is `n` bytes takes them as a view in one check, then
 * reads fields at constant offsets without a check each (the bounds test below folds away
 * when `at` and `n` are constants). This is "check the cursor once per header" made cheap;
 * the view never reaches past the bytes the cursor proved present. */
typedef struct {
    const uint8_t *p; /* first byte of the header */
    uint32_t len;     /* bytes proven present */
} ns_view_t;

/* Take `n` bytes as a view and advance; false (and a short read) when they are not all
 * there, in which case the view is empty. */
static inline bool
ns_cur_view(ns_cur_t *c, uint32_t n, ns_view_t *v)
{
    if (!ns_cur_has(c, n)) {
        c->short_read = true;
        c->off = c->end;
        v->p = c->base;
        v->len = 0;
        return false;
    }
    v->p = c->base + c->off;
    v->len = n;
    c->off += n;
    return true;
}

/* The captured bytes from absolute offset `at` to the end as a view, without moving the
 * cursor (empty when `at` is past the end): what there is of a header cut short. */
static inline ns_view_t
ns_cur_view_from(const ns_cur_t *c, uint32_t at)
{
    ns_view_t v = {c->base + at, c->end > at ? c->end - at : 0};
    return v;
}

static inline uint8_t
ns_view_u8(const ns_view_t *v, uint32_t at)
{
    return at < v->len ? v->p[at] : 0;
}

static inline uint16_t
ns_view_be16(const ns_view_t *v, uint32_t at)
{
    if (at + 2 > v->len)
        return 0;
    return ns_be16(v->p + at);
}

static inline uint32_t
ns_view_be32(const ns_view_t *v, uint32_t at)
{
    if (at + 4 > v->len)
        return 0;
    return ns_be32(v->p + at);
}

/* Copy `n` bytes at `at` of the view into `dst` (zeros where the view ends). */
static inline void
ns_view_copy(const ns_view_t *v, uint32_t at, uint8_t *dst, uint32_t n)
{
    if (at + n > v->len) {
        __builtin_memset(dst, 0, n);
        return;
    }
    __builtin_memcpy(dst, v->p + at, n);
}

/* Look at the byte `ahead` positions after the read position without moving; 0 and no flag
 * when it is not there (a peek is a question, not a read). */
static inline uint8_t
ns_cur_peek(const ns_cur_t *c, uint32_t ahead)
{
    if (ns_cur_left(c) <= ahead)
        return 0;
    return c->base[c->off + ahead];
}

/* Byte at absolute offset `at`, or 0 when outside [0, end). For re-reading bytes already
 * bounded by this cursor (DNS compression pointers point backwards). */
static inline uint8_t
ns_cur_at(const ns_cur_t *c, uint32_t at)
{
    return at < c->end ? c->base[at] : 0;
}

/* The search behind the finds below: the first byte in [from, to) (searched no further than
 * the end) that equals `b`, or with `ctl` set that is a control byte, a space or DEL (< 0x21
 * or 0x7f: what ends a token in text protocols); `to` when there is none. `ctl` is a constant
 * at every call, so each find keeps only its own test. */
static inline __attribute__((always_inline)) uint32_t
ns_cur_scan_to(const ns_cur_t *c, uint32_t from, uint32_t to, uint8_t b, bool ctl)
{
    uint32_t end = to < c->end ? to : c->end;
    uint32_t i = from;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes a step: a test leaves 0x80 in each byte it matches. A zero byte of x = w ^ b..
     * (or of w ^ 0x7f.. for DEL) gives (x - 0x01..) & ~x bit 7; a byte below 0x21 borrows in
     * w - 0x21.. (bytes from 0x80 up are masked off by ~w). Flags can appear spuriously only
     * above a real hit, so the lowest flag (the first byte in memory, little-endian) is always
     * a real match. */
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (i < end && end - i >= 8) {
        uint64_t w, hit;
        __builtin_memcpy(&w, c->base + i, 8);
        if (ctl) {
            uint64_t del = w ^ (0x7fu * ones);
            hit = (((w - 0x21u * ones) & ~w) | ((del - ones) & ~del)) & highs;
        } else {
            uint64_t x = w ^ (ones * b);
            hit = (x - ones) & ~x & highs;
        }
        if (hit)
            return i + (uint32_t)(__builtin_ctzll(hit) >> 3);
        i += 8;
    }
#endif
    while (i < end && (ctl ? c->base[i] >= 0x21 && c->base[i] != 0x7f : c->base[i] != b))
        i++;
    return i < end ? i : to;
}

/* Absolute offset of the first byte equal to `b` in [from, to) (searched no further than the
 * end), or `to` when there is none. For line and field scanning in text protocols. */
static inline uint32_t
ns_cur_find_to(const ns_cur_t *c, uint32_t from, uint32_t to, uint8_t b)
{
    return ns_cur_scan_to(c, from, to, b, false);
}

/* Absolute offset of the first control byte, space or DEL in [from, to) (searched no further
 * than the end), or `to` when there is none: where a token or an HTTP request target ends. */
static inline uint32_t
ns_cur_find_ctl_to(const ns_cur_t *c, uint32_t from, uint32_t to)
{
    return ns_cur_scan_to(c, from, to, 0, true);
}

/* Absolute offset of the first byte equal to `b` in [from, end), or `end` when there is none
 * (line scanning in text protocols). */
static inline uint32_t
ns_cur_find(const ns_cur_t *c, uint32_t from, uint8_t b)
{
    return ns_cur_find_to(c, from, c->end, b);
}

/* Shrink the window to at most `n` bytes from the read position. Never widens: a declared
 * length larger than what was captured leaves the captured end in place. Returns true when
 * all `n` bytes are present (false: the layer is truncated by the capture). */
static inline bool
ns_cur_narrow(ns_cur_t *c, uint32_t n)
{
    if (ns_cur_left(c) >= n) {
        c->end = c->off + n;
        return true;
    }
    return false;
}

/* A sub-cursor over the next `n` bytes (clipped to what is captured); the parent advances
 * past all `n`. Offsets in the sub-cursor remain absolute. */
static inline ns_cur_t
ns_cur_sub(ns_cur_t *c, uint32_t n)
{
    ns_cur_t s = *c;
    s.short_read = false;
    (void)ns_cur_narrow(&s, n);
    ns_cur_skip(c, n);
    return s;
}

#endif /* NETSCOPE_CURSOR_H */

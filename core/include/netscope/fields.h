/* fields.h - the protocol tree: a flat list of decoded fields, filled on request.
 *
 * Each decoder reports what it parsed through the ns_field_*() calls below; when the caller
 * passed no list (the fast path) they are one NULL test each, and in the decoders built with
 * NS_DECODER (decode_int.h) not even that. Opening and closing nodes is out of line
 * (core/decode/fields.c). A field has a Wireshark display-filter name, the byte range it came
 * from in the buffer, its depth in the tree and a typed value. Protocol nodes (`eth`, `ip`,
 * `tcp`, ...) open a level; their length is fixed when the decoder closes them.
 *
 * Design: the caller owns both arrays (fields and a string arena) and sizes them; nothing is
 * allocated. When either fills up, further fields are dropped and `truncated` is set, so a
 * hostile packet with ten thousand DNS answers costs bounded memory and time. Freestanding.
 */
#ifndef NETSCOPE_FIELDS_H
#define NETSCOPE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    NS_FT_PROTO = 0, /* a protocol node: no value, opens a level */
    NS_FT_UINT,      /* unsigned integer in `u` */
    NS_FT_INT,       /* signed integer in `i` */
    NS_FT_BOOL,      /* 0 or 1 in `u` */
    NS_FT_HEX,       /* unsigned integer in `u`, shown as 0x... (flags, checksums) */
    NS_FT_MAC,       /* 6 bytes at [off, off+6) */
    NS_FT_IPV4,      /* 4 bytes at [off, off+4) */
    NS_FT_IPV6,      /* 16 bytes at [off, off+16) */
    NS_FT_BYTES,     /* raw bytes at [off, off+len) */
    NS_FT_STR,       /* text: `str`/`str_len` (packet bytes or arena; not NUL-terminated) */
    NS_FT_COUNT
} ns_ftype_t;

typedef struct {
    const char *name;    /* static display-filter name, e.g. "ip.src" */
    uint32_t off;        /* first byte in the decoded buffer */
    uint32_t len;        /* bytes covered */
    uint8_t depth;       /* 0 for top-level protocol nodes */
    uint8_t type;        /* ns_ftype_t */
    uint16_t str_len;    /* NS_FT_STR: length of `str` */
    union {
        uint64_t u;
        int64_t i;
    };
    const char *str;     /* NS_FT_STR: text (points into the buffer or the arena) */
} ns_field_t;

typedef struct {
    ns_field_t *v;       /* caller's array */
    uint32_t n;          /* fields used */
    uint32_t cap;        /* fields available */
    char *arena;         /* caller's storage for decoded text (DNS names) */
    uint32_t arena_used;
    uint32_t arena_cap;
    uint8_t depth;       /* current nesting */
    bool truncated;      /* a field or text did not fit */
    const uint8_t *buf;  /* the buffer the offsets refer to (set by ns_decode_frame) */
} ns_fields_t;

/* Set up a list over caller storage. Either array may be NULL with capacity 0. */
static inline void
ns_fields_init(ns_fields_t *f, ns_field_t *v, uint32_t cap, char *arena, uint32_t arena_cap)
{
    f->v = v;
    f->n = 0;
    f->cap = cap;
    f->arena = arena;
    f->arena_used = 0;
    f->arena_cap = arena_cap;
    f->depth = 0;
    f->truncated = false;
    f->buf = NULL;
}

/* Forget the fields of the previous packet, keep the storage. */
static inline void
ns_fields_reset(ns_fields_t *f)
{
    f->n = 0;
    f->arena_used = 0;
    f->depth = 0;
    f->truncated = false;
}

/* Append a field at the current depth with integer value `u`; returns it, or NULL when the
 * list is full. `f` must not be NULL. */
static inline ns_field_t *
ns_field_push(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, ns_ftype_t type,
              uint64_t u)
{
    if (f->n >= f->cap) {
        f->truncated = true;
        return NULL;
    }
    ns_field_t *x = &f->v[f->n++];
    x->name = name;
    x->off = off;
    x->len = len;
    x->depth = f->depth;
    x->type = (uint8_t)type;
    x->str_len = 0;
    x->u = u;
    x->str = NULL;
    return x;
}

static inline void
ns_field_uint(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, uint64_t v)
{
    if (f)
        (void)ns_field_push(f, name, off, len, NS_FT_UINT, v);
}

static inline void
ns_field_hex(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, uint64_t v)
{
    if (f)
        (void)ns_field_push(f, name, off, len, NS_FT_HEX, v);
}

static inline void
ns_field_bool(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, bool v)
{
    if (f)
        (void)ns_field_push(f, name, off, len, NS_FT_BOOL, v ? 1u : 0u);
}

/* A field whose value is the bytes it covers (MAC, IPv4, IPv6, BYTES). */
static inline void
ns_field_raw(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, ns_ftype_t type)
{
    if (f)
        (void)ns_field_push(f, name, off, len, type, 0);
}

/* A text field; `s` must live as long as the list (packet bytes or the arena). */
static inline void
ns_field_str(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, const char *s,
             uint32_t s_len)
{
    if (f == NULL)
        return;
    ns_field_t *x = ns_field_push(f, name, off, len, NS_FT_STR, 0);
    if (x) {
        x->str = s;
        x->str_len = (uint16_t)(s_len > 0xffffu ? 0xffffu : s_len);
    }
}

/* Copy `n` bytes of text into the arena; returns the copy or NULL when it does not fit. */
static inline const char *
ns_fields_keep(ns_fields_t *f, const char *s, uint32_t n)
{
    if (f == NULL || f->arena_cap - f->arena_used < n) {
        if (f)
            f->truncated = true;
        return NULL;
    }
    char *d = f->arena + f->arena_used;
    for (uint32_t i = 0; i < n; i++)
        d[i] = s[i];
    f->arena_used += n;
    return d;
}

/* Open a protocol node; returns its index for ns_field_close(), or -1. */
int32_t ns_field_open_node(ns_fields_t *f, const char *name, uint32_t off); /* f != NULL */

static inline int32_t
ns_field_open(ns_fields_t *f, const char *name, uint32_t off)
{
    return f ? ns_field_open_node(f, name, off) : -1;
}

/* Close the node opened at index `idx`, whose bytes end at `end_off`. */
void ns_field_close_node(ns_fields_t *f, int32_t idx, uint32_t end_off); /* f != NULL */

static inline void
ns_field_close(ns_fields_t *f, int32_t idx, uint32_t end_off)
{
    if (f)
        ns_field_close_node(f, idx, end_off);
}

/* Capacities of a field list shown to a person (`netscope print --json`, the WebAssembly
 * inspector): one definition, so both show the same list for a frame with very many fields. */
#define NS_FIELDS_VIEW_MAX 4096u
#define NS_FIELDS_VIEW_ARENA 65536u

/* Room for any value ns_field_text() writes when given this much (longer values are cut). */
#define NS_FIELD_TEXT_MAX 4096

/* Write the value of `x` as text into `out` (`cap` bytes, NUL-terminated when cap > 0) and
 * return its length (at most cap - 1). `buf`/`buf_len` are the frame the field's offsets refer
 * to (fields->buf and the captured length); bytes outside it are never read, and a MAC/address
 * field that does not lie inside it is written as "". Text is printable ASCII: numbers in
 * decimal, NS_FT_HEX as 0x with two digits per byte of the field, booleans "true"/"false",
 * MACs aa:bb:cc:dd:ee:ff, IPv6 as RFC 5952, bytes as colon-separated hex pairs, and packet
 * text with `\` for a backslash and \xNN for each byte outside 0x20-0x7e; protocol nodes
 * have "". A value that does not fit ends in "...". Freestanding (core/decode/field_text.c). */
size_t ns_field_text(const ns_field_t *x, const uint8_t *buf, uint32_t buf_len, char *out,
                     size_t cap);

/* The type's short name ("proto", "uint", "int", "bool", "hex", "mac", "ipv4", "ipv6", "bytes",
 * "str"; "?" for anything else), static. */
const char *ns_field_type_name(uint32_t type);

#endif /* NETSCOPE_FIELDS_H */

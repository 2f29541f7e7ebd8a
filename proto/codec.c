/* codec.c - NetScope's messages to and from protobuf bytes: the one door to protobuf-c.
 *
 * Every message type has three functions: *_to_pb (ns_ form -> protobuf-c structure, in the
 * encode scratch), *_check (the limits, on the protobuf-c structure) and *_from_pb (protobuf-c
 * structure -> ns_ form, in the decode arena). Encoding is to_pb, check, pack; decoding is
 * unpack, check, from_pb. Because both directions run the same *_check on the same
 * structure, the encoder refuses exactly what the decoder would reject.
 *
 * Memory: protobuf-c's unpack allocates through a ProtobufCAllocator whose alloc is a bump
 * pointer into the decode arena and whose free does nothing; the arena is rewound before each
 * decode, so a message costs no malloc at all, and its size is bounded by the arena (an
 * allocation past the end fails, protobuf-c gives up, and the message is rejected as
 * NS_CODEC_E_ARENA). The schema has no recursive message, so unpacking recurses at most
 * four levels deep whatever the input.
 *
 * Batches, the one message that comes by the million, have their own reader and writer
 * (sections "the batch reader", "the record reader" and "the batch writer"): the same
 * checks without protobuf-c's generic per-field machinery. The writer packs the same
 * protobuf-c structures; the reader writes records straight into ns_flow_rec_t (their
 * transactions through protobuf-c structures, read by the same descriptors). Everything
 * else goes through protobuf_c_message_unpack() and protobuf_c_message_pack().
 *
 * Batches are not packed as one protobuf-c structure: the builder writes each record as it is
 * added, straight into the caller's buffer after room left for the envelope, and writes the
 * envelope (whose length prefix depends on the total) in front at the end. That is what lets
 * it say "full" before a record would cross the cap.
 */
#include "netscope/codec.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope.pb-c.h"
#include "netscope/cursor.h"

/* The wire enums are the core enums, value for value. */
_Static_assert(NETSCOPE__FLOW_KIND__FLOW_KIND_UPDATE == (int)NS_FLOW_REC_UPDATE, "FlowKind");
_Static_assert(NETSCOPE__FLOW_KIND__FLOW_KIND_INTERIM == (int)NS_FLOW_REC_INTERIM, "FlowKind");
_Static_assert(NETSCOPE__FLOW_KIND__FLOW_KIND_FINAL == (int)NS_FLOW_REC_FINAL, "FlowKind");
_Static_assert(NETSCOPE__END_REASON__END_FIN == (int)NS_FLOW_END_FIN, "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_RST == (int)NS_FLOW_END_RST, "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_IDLE == (int)NS_FLOW_END_IDLE, "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_EVICTED == (int)NS_FLOW_END_EVICTED, "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_ACTIVE_TIMEOUT == (int)NS_FLOW_END_ACTIVE_TIMEOUT,
               "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_SHUTDOWN == (int)NS_FLOW_END_SHUTDOWN, "EndReason");
_Static_assert(NETSCOPE__END_REASON__END_SHUTDOWN + 1 == (int)NS_FLOW_END_COUNT,
               "EndReason: a new ns_flow_end_t value needs its wire value");
_Static_assert(NETSCOPE__TCP_STATE__TCP_SYN_SENT == (int)NS_TCP_EP_SYN_SENT, "TcpState");
_Static_assert(NETSCOPE__TCP_STATE__TCP_SYN_ACK_SENT == (int)NS_TCP_EP_SYN_ACK_SENT, "TcpState");
_Static_assert(NETSCOPE__TCP_STATE__TCP_PARTIAL == (int)NS_TCP_EP_PARTIAL, "TcpState");
_Static_assert(NETSCOPE__TCP_STATE__TCP_ESTABLISHED == (int)NS_TCP_EP_ESTABLISHED, "TcpState");
_Static_assert(NETSCOPE__TCP_STATE__TCP_CLOSED == (int)NS_TCP_EP_CLOSED, "TcpState");
_Static_assert(NETSCOPE__TCP_STATE__TCP_RESET == (int)NS_TCP_EP_RESET, "TcpState");
/* Enum fields are read as 32-bit numbers by the limit tables below. */
_Static_assert(sizeof(Netscope__FlowKind) == 4 && sizeof(Netscope__TcpState) == 4 &&
                   sizeof(Netscope__EndReason) == 4,
               "protobuf-c enums are int-sized");

/* Wire-format constants of the batch reader, writer and builder (protobuf encoding, "Message
 * Structure"): a tag is field_number << 3 | wire_type. */
#define WIRE_VARINT 0u
#define WIRE_I64 1u
#define WIRE_LEN 2u
#define WIRE_I32 5u
#define FIELD_VERSION 1u       /* AgentMessage.version */
#define FIELD_BATCH_RECORDS 3u /* FlowBatch.records */
#define VLAN_ID_MAX 4095u      /* 12 bits */
#define HTTP_STATUS_MAX 999u   /* three digits */
#define DNS_RCODE_MAX 4095u    /* 4 header bits + 8 EDNS bits */

/* ---- arenas ------------------------------------------------------------------------------ */

/* Every allocation is 8-byte aligned: the widest member of anything placed here (protobuf-c
 * structures, ns_ records) is a 64-bit integer, a double or a pointer. */
#define ARENA_ALIGN 8u
_Static_assert(_Alignof(ns_flow_rec_t) <= ARENA_ALIGN && _Alignof(uint64_t) <= ARENA_ALIGN &&
                   _Alignof(double) <= ARENA_ALIGN && _Alignof(void *) <= ARENA_ALIGN,
               "arena alignment");

typedef struct {
    uint8_t *base;
    size_t cap;
    size_t used;
    bool exhausted; /* an allocation failed since the last rewind */
} arena_t;

static void *
arena_alloc(arena_t *a, size_t n)
{
    size_t at = (a->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (at > a->cap || n > a->cap - at) {
        a->exhausted = true;
        return NULL;
    }
    a->used = at + n;
    return a->base + at;
}

/* `n` elements of `size` bytes, or NULL (and exhausted) when n * size overflows or does
 * not fit. */
static void *
arena_array(arena_t *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        a->exhausted = true;
        return NULL;
    }
    return arena_alloc(a, n * size);
}

static void
arena_rewind(arena_t *a)
{
    a->used = 0;
    a->exhausted = false;
}

static void *
pb_alloc(void *ud, size_t n)
{
    return arena_alloc(ud, n);
}

static void
pb_free(void *ud, void *p)
{
    /* Bump allocation: everything is released at once by the next rewind. */
    (void)ud;
    (void)p;
}

/* ---- the context ------------------------------------------------------------------------- */

/* The batch reader's tables (see "the batch reader" below): one per message type of a batch. */
#define READER_MAX_ID 128u /* field numbers of the batch messages are below this */
#define READER_MAX_REPEATED 4u

enum { RD_BATCH, RD_RECORD, RD_HTTP, RD_DNS, RD_ANSWER, RD_COUNT };

#define RD_UNKNOWN 0xffu /* rd_field_t.type of a number the message does not have */

/* What a field number means in one message type: everything read_msg() needs, in 8 bytes. */
typedef struct {
    uint16_t off;  /* the member's offset in the protobuf-c structure */
    uint16_t qoff; /* repeated: the offset of its count */
    uint8_t type;  /* ProtobufCType, or RD_UNKNOWN */
    uint8_t child; /* repeated message: the reader of the element type */
    uint8_t slot;  /* repeated message: its index among the message's repeated fields */
} rd_field_t;

/* A field as the batch writer walks them, in number order: its tag bytes and where it is. */
typedef struct {
    uint8_t tag[2]; /* numbers below READER_MAX_ID: at most 2 bytes */
    uint8_t tag_len;
    uint8_t type;  /* ProtobufCType */
    uint8_t child; /* repeated message: the reader of the element type */
    uint16_t off, qoff;
} wr_field_t;

#define READER_MAX_FIELDS 96u

/* What read_msg() does with a tag (field number and wire type together), decided once per
 * context instead of once per field read: the wire type is checked against the field's type
 * in the table, so the loop has one dispatch per field. */
enum {
    OP_SKIP,  /* a number the message does not have: step over the value */
    OP_BAD,   /* a known field under a wire type its type cannot have: the message is bad */
    OP_BOOL,  /* bool: any wire type (protobuf-c's quirk, see below) */
    OP_U32,   /* uint32, enum: varint */
    OP_U64,   /* uint64: varint */
    OP_S64,   /* sint64: zigzag varint */
    OP_F64,   /* fixed64, double: 8 bytes */
    OP_STR,   /* string: length-delimited */
    OP_BYTES, /* bytes: length-delimited */
    OP_MSG,   /* repeated message: length-delimited */
};

typedef struct {
    uint16_t off; /* the member's offset in the protobuf-c structure */
    uint8_t op;   /* OP_* */
} rd_op_t;

#define READER_MAX_TAG (READER_MAX_ID << 3) /* tags below this have a table entry */

typedef struct {
    rd_field_t f[READER_MAX_ID];
    rd_op_t op[READER_MAX_TAG];
    wr_field_t order[READER_MAX_FIELDS];
    unsigned n_order;
} reader_t;

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t end; /* records are written at [NS_CODEC_BATCH_OVERHEAD, end) */
    uint64_t seq, send_ns;
    uint32_t n;
    bool open;
} builder_t;

struct ns_codec {
    ns_codec_opts_t opts;
    arena_t dec; /* the unpacked message and the decoded ns_msg_t */
    arena_t enc; /* protobuf-c structures of one encode */
    ProtobufCAllocator dec_alloc;
    ns_msg_t msg;
    ns_codec_stats_t stats;
    builder_t batch;
    reader_t readers[RD_COUNT];
    bool fast; /* batches go through the batch reader and writer */
    char error[256];
};

/* Scratch for the largest valid message any encode converts: a record with NS_APP_MAX_TX
 * HTTP and DNS transactions (each answer allocated separately), a Hello with every interface
 * and address, or a Packets reply with every frame. Each array costs at most ARENA_ALIGN - 1
 * bytes of padding; 64 KiB covers the padding of all of them. */
static size_t
enc_scratch_bytes(void)
{
    const size_t ptr = sizeof(void *);
    size_t answer = sizeof(Netscope__DnsAnswer) + ptr;
    size_t rec = NS_APP_MAX_TX * (sizeof(Netscope__HttpTx) + ptr) +
                 NS_APP_MAX_TX * (sizeof(Netscope__DnsTx) + ptr + NS_APP_DNS_ANSWERS * answer);
    size_t hello =
        sizeof(Netscope__Hello) + sizeof(Netscope__CaptureSettings) +
        NS_CODEC_MAX_IFACES * (sizeof(Netscope__Interface) + ptr +
                               NS_CODEC_MAX_IFADDRS * (sizeof(Netscope__IfAddress) + ptr));
    size_t frames = NS_CODEC_MAX_FRAMES * (sizeof(Netscope__Frame) + ptr);
    size_t most = rec > hello ? rec : hello;
    most = most > frames ? most : frames;
    return most + (64u << 10);
}

static bool reader_init(reader_t readers[RD_COUNT]);

void
ns_codec_opts_default(ns_codec_opts_t *o)
{
    o->max_msg_bytes = NS_CODEC_DEFAULT_MAX_MSG;
    o->arena_bytes = (size_t)32 * NS_CODEC_DEFAULT_MAX_MSG;
    o->generic = false;
}

ns_codec_t *
ns_codec_new(const ns_codec_opts_t *o, char *errbuf, size_t errlen)
{
    ns_codec_opts_t opts;
    ns_codec_opts_default(&opts);
    if (o != NULL && o->max_msg_bytes != 0) {
        opts.max_msg_bytes = o->max_msg_bytes;
        opts.arena_bytes = (size_t)32 * o->max_msg_bytes;
    }
    if (o != NULL && o->arena_bytes != 0)
        opts.arena_bytes = o->arena_bytes;
    if (o != NULL)
        opts.generic = o->generic;

    ns_codec_t *c = NULL;
    if (opts.max_msg_bytes > NS_CODEC_MAX_MSG_LIMIT) {
        if (errbuf != NULL)
            snprintf(errbuf, errlen,
                     "codec: a message size limit of %u bytes is above the %u allowed",
                     opts.max_msg_bytes, NS_CODEC_MAX_MSG_LIMIT);
        goto out;
    }
    if (opts.arena_bytes < opts.max_msg_bytes) {
        if (errbuf != NULL)
            snprintf(errbuf, errlen,
                     "codec: a decode arena of %zu bytes is smaller than the %u-byte message limit",
                     opts.arena_bytes, opts.max_msg_bytes);
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    c->opts = opts;
    c->dec.cap = opts.arena_bytes;
    c->dec.base = malloc(c->dec.cap);
    c->enc.cap = enc_scratch_bytes();
    c->enc.base = malloc(c->enc.cap);
    if (c->dec.base == NULL || c->enc.base == NULL)
        goto nomem;
    c->dec_alloc.alloc = pb_alloc;
    c->dec_alloc.free = pb_free;
    c->dec_alloc.allocator_data = &c->dec;
    c->fast = !opts.generic && reader_init(c->readers);
    return c;

nomem:
    if (errbuf != NULL)
        snprintf(errbuf, errlen, "codec: out of memory for a %zu-byte decode arena",
                 opts.arena_bytes);
    ns_codec_destroy(&c);
out:
    return NULL;
}

void
ns_codec_destroy(ns_codec_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_codec_t *c = *self_p;
    free(c->dec.base);
    free(c->enc.base);
    free(c);
    *self_p = NULL;
}

const ns_codec_opts_t *
ns_codec_opts(const ns_codec_t *c)
{
    return &c->opts;
}

const ns_codec_stats_t *
ns_codec_stats(const ns_codec_t *c)
{
    return &c->stats;
}

const char *
ns_codec_error(const ns_codec_t *c)
{
    return c->error;
}

const char *
ns_codec_reject_name(ns_codec_reject_t why)
{
    static const char *const names[NS_CODEC_REJECT_COUNT] = {
        "ok",   "oversize", "malformed", "arena", "version",
        "type", "count",    "string",    "addr",  "range",
    };
    return (unsigned)why < NS_CODEC_REJECT_COUNT ? names[why] : "?";
}

const char *
ns_msg_type_name(ns_msg_type_t type)
{
    static const char *const names[NS_MSG_TYPE_COUNT] = {
        "none",          "hello",   "batch", "iface_stats", "heartbeat",
        "filter_result", "packets", "ack",   "set_filter",  "get_packets",
    };
    return (unsigned)type < NS_MSG_TYPE_COUNT ? names[type] : "?";
}

/* ---- rejection and the checks shared by both directions ----------------------------------- */

__attribute__((format(printf, 3, 4))) static ns_codec_reject_t
fail(ns_codec_t *c, ns_codec_reject_t why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    return why;
}

/* Prefix the sentence already in c->error with where it happened ("record 3: ..."). */
static ns_codec_reject_t
within(ns_codec_t *c, ns_codec_reject_t why, const char *what, size_t idx)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof(prefix), "%s %zu: ", what, idx);
    size_t plen = n < 0 ? 0 : (size_t)n < sizeof(prefix) ? (size_t)n : sizeof(prefix) - 1;
    size_t elen = strnlen(c->error, sizeof(c->error) - 1);
    if (plen + elen > sizeof(c->error) - 1)
        elen = sizeof(c->error) - 1 - plen;
    memmove(c->error + plen, c->error, elen);
    memcpy(c->error, prefix, plen);
    c->error[plen + elen] = '\0';
    return why;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        ns_codec_reject_t try_why_ = (expr);                                                       \
        if (try_why_ != NS_CODEC_OK)                                                               \
            return try_why_;                                                                       \
    } while (0)

/* A `string` field: at most `max` bytes before its NUL (protobuf-c NUL-terminates every
 * unpacked string; the encoder's come from NUL-terminated C strings). */
static ns_codec_reject_t
check_str(ns_codec_t *c, const char *s, size_t max, const char *name)
{
    if (s != NULL && strnlen(s, max + 1) > max)
        return fail(c, NS_CODEC_E_STRING, "%s is longer than %zu bytes", name, max);
    return NS_CODEC_OK;
}

/* A `bytes` field holding packet text: at most `max` bytes, no NUL (it becomes a C string). */
static ns_codec_reject_t
check_text(ns_codec_t *c, ProtobufCBinaryData b, size_t max, const char *name)
{
    if (b.len > max)
        return fail(c, NS_CODEC_E_STRING, "%s is %zu bytes (at most %zu)", name, b.len, max);
    if (b.len > 0 && memchr(b.data, 0, b.len) != NULL)
        return fail(c, NS_CODEC_E_STRING, "%s contains a NUL byte", name);
    return NS_CODEC_OK;
}

static ns_codec_reject_t
check_count(ns_codec_t *c, size_t n, size_t max, const char *name)
{
    if (n > max)
        return fail(c, NS_CODEC_E_COUNT, "%zu %s (at most %zu)", n, name, max);
    return NS_CODEC_OK;
}

/* An address of `ip_ver`: exactly 4 or 16 bytes. */
static ns_codec_reject_t
check_addr(ns_codec_t *c, ProtobufCBinaryData b, uint32_t ip_ver, const char *name)
{
    if (ip_ver != 4 && ip_ver != 6)
        return fail(c, NS_CODEC_E_RANGE, "ip_ver is %u (4 or 6)", ip_ver);
    size_t want = ip_ver == 4 ? 4 : 16;
    if (b.len != want)
        return fail(c, NS_CODEC_E_ADDR, "%s is %zu bytes (ip_ver %u needs %zu)", name, b.len,
                    ip_ver, want);
    return NS_CODEC_OK;
}

/* A rate or speed: finite and not negative (NaN would poison every sum it enters). */
static ns_codec_reject_t
check_rate(ns_codec_t *c, double v, const char *name)
{
    if (!isfinite(v) || v < 0)
        return fail(c, NS_CODEC_E_RANGE, "%s is %g (finite, >= 0)", name, v);
    return NS_CODEC_OK;
}

/* A checked rate as decoded: -0 as +0. Our writer leaves a zero out (proto3), so another
 * writer's -0 would come back from a re-encoding as +0; a reader sees the same either way. */
static double
positive_zero(double v)
{
    return v == 0 ? 0.0 : v;
}

/* A time difference that is a duration or -1 for "missing". */
static ns_codec_reject_t
check_latency(ns_codec_t *c, int64_t v, const char *name)
{
    if (v < -1)
        return fail(c, NS_CODEC_E_RANGE, "%s is %lld (>= -1)", name, (long long)v);
    return NS_CODEC_OK;
}

/* The 32-bit numbers of a message that go into narrower ns_ fields, or are enums: the
 * largest value each may take. One table per message type keeps the limits in one place. */
typedef struct {
    size_t off;
    uint32_t max;
    const char *name;
} limit_t;

#define LIMIT(type, field, max)                                                                    \
    {                                                                                              \
        offsetof(type, field), (max), #field                                                       \
    }
#define NLIMITS(t) (sizeof(t) / sizeof((t)[0]))

static ns_codec_reject_t
check_limits(ns_codec_t *c, const void *msg, const limit_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, (const uint8_t *)msg + t[i].off, sizeof(v));
        if (v > t[i].max)
            return fail(c, NS_CODEC_E_RANGE, "%s is %u (at most %u)", t[i].name, v, t[i].max);
    }
    return NS_CODEC_OK;
}

/* Interface indexes of one message are unique (a bit per possible index). */
static ns_codec_reject_t
check_unique(ns_codec_t *c, uint8_t seen[32], uint32_t index)
{
    uint8_t bit = (uint8_t)(1u << (index & 7u));
    if (seen[index >> 3] & bit)
        return fail(c, NS_CODEC_E_RANGE, "interface index %u appears twice", index);
    seen[index >> 3] |= bit;
    return NS_CODEC_OK;
}

/* ---- small conversions ------------------------------------------------------------------- */

/* The encoder's view of ns_ data as protobuf-c fields. protobuf-c's structures are not
 * const-qualified; pack only reads through these pointers. */
static ProtobufCBinaryData
bytes_of(const void *p, size_t len)
{
    ProtobufCBinaryData b = {len, (uint8_t *)(uintptr_t)p};
    return b;
}

static char *
str_of(const char *s)
{
    return (char *)(uintptr_t)(s != NULL ? s : "");
}

/* A C string as a `bytes` field; the length is bounded so that a string longer than any
 * limit is measured no further than needed to reject it. */
static ProtobufCBinaryData
text_of(const char *s, size_t max)
{
    return s != NULL ? bytes_of(s, strnlen(s, max + 1)) : bytes_of(NULL, 0);
}

static ProtobufCBinaryData
addr_of(const ns_addr_t *a, uint8_t ip_ver)
{
    return bytes_of(a->b, ip_ver == 4 ? 4 : ip_ver == 6 ? 16 : 0);
}

/* A fixed char array of ns_flow_rec_t as a `string` field: it must hold its NUL. */
static ns_codec_reject_t
fixed_str(ns_codec_t *c, const char *s, size_t size, const char *name, char **out)
{
    if (memchr(s, 0, size) == NULL)
        return fail(c, NS_CODEC_E_STRING, "%s is not NUL-terminated", name);
    *out = str_of(s);
    return NS_CODEC_OK;
}

/* Copy a checked `string` field into a fixed char array of `size` bytes. */
static void
copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A checked `bytes` text field as a NUL-terminated string in the decode arena. On
 * exhaustion it returns "" and the arena's flag makes the caller reject the message. */
static const char *
text_dup(ns_codec_t *c, ProtobufCBinaryData b)
{
    if (b.len == 0)
        return "";
    char *s = arena_alloc(&c->dec, b.len + 1);
    if (s == NULL)
        return "";
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    return s;
}

static void
addr_from(ns_addr_t *dst, ProtobufCBinaryData b)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->b, b.data, b.len); /* checked: 4 or 16 bytes */
}

/* The scalar fields a message shares with its ns_ form are listed once, as X(protobuf-c
 * field, ns_ field) lines (HTTP_SCALARS, DNS_SCALARS, ANSWER_SCALARS, REC_SCALARS), and
 * expanded twice: into straight assignments ns_ -> protobuf-c (widening, exact) and
 * protobuf-c -> ns_ (narrowing to the ns_ field's type, done only after *_check() proved the
 * value fits). Doubles and bools are copied as what they are. */
#define TO_PB(pbf, nsf) p->pbf = n->nsf;
#define FROM_PB(pbf, nsf) n->nsf = (__typeof__(n->nsf))p->pbf;
#define TO_PB_LIMITED(pbf, nsf, max) TO_PB(pbf, nsf)
#define FROM_PB_LIMITED(pbf, nsf, max) FROM_PB(pbf, nsf)

/* The pointer array and elements (each initialised) of a protobuf-c repeated message field
 * that will hold the `n` ns_ elements at `src`, in the encode scratch. Refuses a NULL `src`
 * with n > 0 and more than `max` elements: the scratch is sized for the largest valid
 * message, so within the limits it never runs out. */
static ns_codec_reject_t
pb_repeated(ns_codec_t *c, const void *src, size_t n, size_t max, const char *what,
            size_t elem_size, void (*init)(void *), void ***ptrs, void **elems)
{
    *ptrs = NULL;
    *elems = NULL;
    if (n == 0)
        return NS_CODEC_OK;
    if (src == NULL)
        return fail(c, NS_CODEC_E_RANGE, "%zu %s but no array", n, what);
    TRY(check_count(c, n, max, what));
    void **p = arena_array(&c->enc, n, sizeof(void *));
    uint8_t *e = arena_array(&c->enc, n, elem_size);
    if (p == NULL || e == NULL)
        return fail(c, NS_CODEC_E_COUNT, "too many %s to encode", what);
    for (size_t i = 0; i < n; i++) {
        p[i] = e + i * elem_size;
        init(p[i]);
    }
    *ptrs = p;
    *elems = e;
    return NS_CODEC_OK;
}

/* protobuf-c's generated *_init functions take typed pointers. */
#define PB_INIT_FN(name, type)                                                                     \
    static void name(void *m)                                                                      \
    {                                                                                              \
        type##__init(m);                                                                           \
    }
PB_INIT_FN(init_http_tx, netscope__http_tx)
PB_INIT_FN(init_dns_tx, netscope__dns_tx)
PB_INIT_FN(init_dns_answer, netscope__dns_answer)
PB_INIT_FN(init_interface, netscope__interface)
PB_INIT_FN(init_if_address, netscope__if_address)
PB_INIT_FN(init_iface_counters, netscope__interface_counters)
PB_INIT_FN(init_frame, netscope__frame)

/* ---- HTTP and DNS transactions ------------------------------------------------------------ */

/* clang-format off */
static const limit_t http_limits[] = {
    LIMIT(Netscope__HttpTx, status, HTTP_STATUS_MAX),
};
/* clang-format on */

static ns_codec_reject_t
http_check(ns_codec_t *c, const Netscope__HttpTx *p)
{
    TRY(check_limits(c, p, http_limits, NLIMITS(http_limits)));
    TRY(check_text(c, p->method, NS_APP_MAX_STR_LEN, "method"));
    TRY(check_text(c, p->host, NS_APP_MAX_STR_LEN, "host"));
    TRY(check_text(c, p->uri, NS_APP_MAX_STR_LEN, "uri"));
    TRY(check_text(c, p->user_agent, NS_APP_MAX_STR_LEN, "user_agent"));
    TRY(check_latency(c, p->latency_ns, "latency_ns"));
    if (!p->has_request && !p->has_response)
        return fail(c, NS_CODEC_E_RANGE, "a transaction with neither request nor response");
    return NS_CODEC_OK;
}

#define HTTP_SCALARS(X)                                                                            \
    X(seq, seq)                                                                                    \
    X(status, status)                                                                              \
    X(req_body_len, req_body_len)                                                                  \
    X(resp_body_len, resp_body_len)                                                                \
    X(req_ts_ns, req_ts_ns)                                                                        \
    X(resp_ts_ns, resp_ts_ns)                                                                      \
    X(latency_ns, latency_ns)                                                                      \
    X(truncated, truncated)                                                                        \
    X(has_request, has_request)                                                                    \
    X(has_response, has_response)                                                                  \
    X(chunked_req, chunked_req)                                                                    \
    X(chunked_resp, chunked_resp)

static void
http_to_pb(const ns_app_http_tx_t *n, Netscope__HttpTx *p)
{
    HTTP_SCALARS(TO_PB)
    p->method = text_of(n->method, NS_APP_MAX_STR_LEN);
    p->host = text_of(n->host, NS_APP_MAX_STR_LEN);
    p->uri = text_of(n->uri, NS_APP_MAX_STR_LEN);
    p->user_agent = text_of(n->user_agent, NS_APP_MAX_STR_LEN);
}

static void
http_from_pb(ns_codec_t *c, const Netscope__HttpTx *p, ns_app_http_tx_t *n)
{
    memset(n, 0, sizeof(*n));
    HTTP_SCALARS(FROM_PB)
    n->method = text_dup(c, p->method);
    n->host = text_dup(c, p->host);
    n->uri = text_dup(c, p->uri);
    n->user_agent = text_dup(c, p->user_agent);
}

/* clang-format off */
static const limit_t dns_limits[] = {
    LIMIT(Netscope__DnsTx, id, UINT16_MAX),
    LIMIT(Netscope__DnsTx, qtype, UINT16_MAX),
    LIMIT(Netscope__DnsTx, rcode, DNS_RCODE_MAX),
    LIMIT(Netscope__DnsTx, ancount, UINT16_MAX),
    LIMIT(Netscope__DnsTx, retries, UINT8_MAX),
};
/* clang-format on */

/* clang-format off */
static const limit_t answer_limits[] = {
    LIMIT(Netscope__DnsAnswer, type, UINT16_MAX),
    LIMIT(Netscope__DnsAnswer, rclass, UINT16_MAX),
};
/* clang-format on */

static ns_codec_reject_t
dns_check(ns_codec_t *c, const Netscope__DnsTx *p)
{
    TRY(check_limits(c, p, dns_limits, NLIMITS(dns_limits)));
    TRY(check_text(c, p->qname, NS_DNS_NAME_MAX, "qname"));
    TRY(check_latency(c, p->latency_ns, "latency_ns"));
    if (!p->has_query && !p->answered)
        return fail(c, NS_CODEC_E_RANGE, "a transaction with neither query nor answer");
    TRY(check_count(c, p->n_answers, NS_APP_DNS_ANSWERS, "answers"));
    for (size_t i = 0; i < p->n_answers; i++) {
        const Netscope__DnsAnswer *a = p->answers[i];
        ns_codec_reject_t why = check_limits(c, a, answer_limits, NLIMITS(answer_limits));
        if (why == NS_CODEC_OK && a->data.len > NS_DNS_RDATA_MAX)
            why = fail(c, NS_CODEC_E_STRING, "data is %zu bytes (at most %u)", a->data.len,
                       NS_DNS_RDATA_MAX);
        if (why != NS_CODEC_OK)
            return within(c, why, "answer", i);
    }
    return NS_CODEC_OK;
}

#define DNS_SCALARS(X)                                                                             \
    X(id, id)                                                                                      \
    X(qtype, qtype)                                                                                \
    X(rcode, rcode)                                                                                \
    X(ancount, ancount)                                                                            \
    X(retries, retries)                                                                            \
    X(query_ts_ns, query_ts_ns)                                                                    \
    X(resp_ts_ns, resp_ts_ns)                                                                      \
    X(latency_ns, latency_ns)                                                                      \
    X(truncated, truncated)                                                                        \
    X(has_query, has_query)                                                                        \
    X(answered, answered)                                                                          \
    X(tcp, tcp)

#define ANSWER_SCALARS(X) X(type, type) X(rclass, rclass) X(ttl, ttl)

static void
answer_to_pb(const ns_dns_answer_t *n, Netscope__DnsAnswer *p)
{
    ANSWER_SCALARS(TO_PB)
    p->data = bytes_of(n->data, n->data_len);
}

static void
answer_from_pb(const Netscope__DnsAnswer *p, ns_dns_answer_t *n)
{
    memset(n, 0, sizeof(*n));
    ANSWER_SCALARS(FROM_PB)
    n->data_len = (uint8_t)p->data.len;
    if (p->data.len > 0)
        memcpy(n->data, p->data.data, p->data.len);
}

static ns_codec_reject_t
dns_to_pb(ns_codec_t *c, const ns_app_dns_tx_t *n, Netscope__DnsTx *p)
{
    DNS_SCALARS(TO_PB)
    p->qname = text_of(n->qname, NS_DNS_NAME_MAX);
    void **ptrs, *elems;
    TRY(pb_repeated(c, n->answers, n->n_answers, NS_APP_DNS_ANSWERS, "answers",
                    sizeof(Netscope__DnsAnswer), init_dns_answer, &ptrs, &elems));
    Netscope__DnsAnswer *a = elems;
    for (size_t i = 0; i < n->n_answers; i++)
        answer_to_pb(&n->answers[i], &a[i]);
    p->n_answers = n->n_answers;
    p->answers = (Netscope__DnsAnswer **)ptrs;
    return NS_CODEC_OK;
}

static void
dns_from_pb(ns_codec_t *c, const Netscope__DnsTx *p, ns_app_dns_tx_t *n)
{
    memset(n, 0, sizeof(*n));
    DNS_SCALARS(FROM_PB)
    n->qname = text_dup(c, p->qname);
    n->n_answers = (uint8_t)p->n_answers;
    if (p->n_answers == 0)
        return;
    ns_dns_answer_t *a = arena_array(&c->dec, p->n_answers, sizeof(*a));
    if (a == NULL)
        return;
    for (size_t i = 0; i < p->n_answers; i++)
        answer_from_pb(p->answers[i], &a[i]);
    n->answers = a;
}

/* A record's transactions as protobuf-c structures (unpacked, or read by the batch reader):
 * their counts, then each one. */
static ns_codec_reject_t
tx_check(ns_codec_t *c, Netscope__HttpTx *const *http, size_t n_http, Netscope__DnsTx *const *dns,
         size_t n_dns)
{
    TRY(check_count(c, n_http, NS_APP_MAX_TX, "HTTP transactions"));
    TRY(check_count(c, n_dns, NS_APP_MAX_TX, "DNS transactions"));
    for (size_t i = 0; i < n_http; i++) {
        ns_codec_reject_t why = http_check(c, http[i]);
        if (why != NS_CODEC_OK)
            return within(c, why, "http", i);
    }
    for (size_t i = 0; i < n_dns; i++) {
        ns_codec_reject_t why = dns_check(c, dns[i]);
        if (why != NS_CODEC_OK)
            return within(c, why, "dns", i);
    }
    return NS_CODEC_OK;
}

/* Convert checked transactions into record `n`'s arrays, in the decode arena. Fails only when
 * the arena runs out. */
static ns_codec_reject_t
tx_from_pb(ns_codec_t *c, Netscope__HttpTx *const *http, size_t n_http,
           Netscope__DnsTx *const *dns, size_t n_dns, ns_flow_rec_t *n)
{
    n->n_http = (uint32_t)n_http;
    n->n_dns = (uint32_t)n_dns;
    n->http = NULL;
    n->dns = NULL;
    if (n_http > 0) {
        ns_app_http_tx_t *h = arena_array(&c->dec, n_http, sizeof(*h));
        for (size_t i = 0; h != NULL && i < n_http; i++)
            http_from_pb(c, http[i], &h[i]);
        n->http = h;
    }
    if (n_dns > 0) {
        ns_app_dns_tx_t *d = arena_array(&c->dec, n_dns, sizeof(*d));
        for (size_t i = 0; d != NULL && i < n_dns; i++)
            dns_from_pb(c, dns[i], &d[i]);
        n->dns = d;
    }
    if (c->dec.exhausted)
        return fail(c, NS_CODEC_E_ARENA, "the decode arena (%zu bytes) is full", c->dec.cap);
    return NS_CODEC_OK;
}

/* ---- flow records ------------------------------------------------------------------------- */

/* The 32-bit fields of a record that go into narrower ns_ fields, or are enums, as
 * X(protobuf-c field, ns_ field, largest value), in the order they are checked. */
#define REC_LIMITED(X)                                                                             \
    X(proto, proto, UINT8_MAX)                                                                     \
    X(orig_p, orig_p, UINT16_MAX)                                                                  \
    X(resp_p, resp_p, UINT16_MAX)                                                                  \
    X(vlan, vlan, VLAN_ID_MAX)                                                                     \
    X(iface, iface, UINT8_MAX)                                                                     \
    X(kind, kind, NS_FLOW_REC_FINAL)                                                               \
    X(end_reason, end_reason, NS_FLOW_END_COUNT - 1)                                               \
    X(orig_tcp_flags, tcp_flags[0], UINT8_MAX)                                                     \
    X(resp_tcp_flags, tcp_flags[1], UINT8_MAX)                                                     \
    X(orig_syn, syn[0], UINT8_MAX)                                                                 \
    X(resp_syn, syn[1], UINT8_MAX)                                                                 \
    X(orig_fin, fin[0], UINT8_MAX)                                                                 \
    X(resp_fin, fin[1], UINT8_MAX)                                                                 \
    X(orig_rst, rst[0], UINT8_MAX)                                                                 \
    X(resp_rst, rst[1], UINT8_MAX)                                                                 \
    X(orig_tcp_state, tcp_state[0], NS_TCP_EP_RESET)                                               \
    X(resp_tcp_state, tcp_state[1], NS_TCP_EP_RESET)                                               \
    X(hs, hs, UINT8_MAX)                                                                           \
    X(quality, quality, UINT8_MAX)

#define REC_LIMIT(pbf, nsf, max) LIMIT(Netscope__FlowRecord, pbf, max),
static const limit_t rec_limits[] = {REC_LIMITED(REC_LIMIT)};

static ns_codec_reject_t
rec_check(ns_codec_t *c, const Netscope__FlowRecord *p)
{
    TRY(check_str(c, p->uid, NS_FLOW_UID_LEN, "uid"));
    TRY(check_addr(c, p->orig_h, p->ip_ver, "orig_h"));
    TRY(check_addr(c, p->resp_h, p->ip_ver, "resp_h"));
    TRY(check_limits(c, p, rec_limits, NLIMITS(rec_limits)));
    TRY(check_str(c, p->community_id, NS_FLOW_CID_MAX - 1, "community_id"));
    TRY(check_str(c, p->tunnel_parent, NS_FLOW_UID_LEN, "tunnel_parent"));
    TRY(check_str(c, p->service, NS_FLOW_SERVICE_MAX - 1, "service"));
    TRY(check_str(c, p->conn_state, NS_FLOW_STATE_MAX - 1, "conn_state"));
    TRY(check_str(c, p->history, NS_FLOW_HISTORY_MAX - 1, "history"));
    TRY(check_rate(c, p->bps, "bps"));
    TRY(check_rate(c, p->pps, "pps"));
    return tx_check(c, p->http, p->n_http, p->dns, p->n_dns);
}

#define REC_SCALARS(X)                                                                             \
    X(ip_ver, ip_ver)                                                                              \
    X(first_ns, first_ns)                                                                          \
    X(last_ns, last_ns)                                                                            \
    X(emit_ns, emit_ns)                                                                            \
    X(orig_bytes, app_bytes[0])                                                                    \
    X(resp_bytes, app_bytes[1])                                                                    \
    X(missed_bytes, missed_bytes)                                                                  \
    X(orig_pkts, pkts[0])                                                                          \
    X(resp_pkts, pkts[1])                                                                          \
    X(orig_ip_bytes, ip_bytes[0])                                                                  \
    X(resp_ip_bytes, ip_bytes[1])                                                                  \
    X(orig_wire_bytes, wire_bytes[0])                                                              \
    X(resp_wire_bytes, wire_bytes[1])                                                              \
    X(orig_payload_bytes, payload_bytes[0])                                                        \
    X(resp_payload_bytes, payload_bytes[1])                                                        \
    X(is_tcp, is_tcp)                                                                              \
    X(rtt_hs_ns, rtt_hs_ns)                                                                        \
    X(rtt_hs_server_ns, rtt_hs_server_ns)                                                          \
    X(rtt_hs_client_ns, rtt_hs_client_ns)                                                          \
    X(rtt_n, rtt_n)                                                                                \
    X(rtt_min_us, rtt_min_us)                                                                      \
    X(rtt_mean_us, rtt_mean_us)                                                                    \
    X(rtt_max_us, rtt_max_us)                                                                      \
    X(rtt_last_us, rtt_last_us)                                                                    \
    X(orig_retrans, retrans[0])                                                                    \
    X(resp_retrans, retrans[1])                                                                    \
    X(orig_ooo, ooo[0])                                                                            \
    X(resp_ooo, ooo[1])                                                                            \
    X(orig_dup_ack, dup_ack[0])                                                                    \
    X(resp_dup_ack, dup_ack[1])                                                                    \
    X(orig_zero_win, zero_win[0])                                                                  \
    X(resp_zero_win, zero_win[1])                                                                  \
    X(orig_gaps, gaps[0])                                                                          \
    X(resp_gaps, gaps[1])                                                                          \
    X(orig_missed, missed[0])                                                                      \
    X(resp_missed, missed[1])                                                                      \
    X(bps, bps)                                                                                    \
    X(pps, pps)                                                                                    \
    X(interim, interim)                                                                            \
    X(http_total, http_total)                                                                      \
    X(dns_total, dns_total)                                                                        \
    X(dns_unanswered, dns_unanswered)

static ns_codec_reject_t
rec_to_pb(ns_codec_t *c, const ns_flow_rec_t *n, Netscope__FlowRecord *p)
{
    netscope__flow_record__init(p);
    TRY(fixed_str(c, n->uid, sizeof(n->uid), "uid", &p->uid));
    TRY(fixed_str(c, n->community_id, sizeof(n->community_id), "community_id", &p->community_id));
    TRY(fixed_str(c, n->tunnel_parent, sizeof(n->tunnel_parent), "tunnel_parent",
                  &p->tunnel_parent));
    TRY(fixed_str(c, n->service, sizeof(n->service), "service", &p->service));
    TRY(fixed_str(c, n->conn_state, sizeof(n->conn_state), "conn_state", &p->conn_state));
    TRY(fixed_str(c, n->history, sizeof(n->history), "history", &p->history));
    REC_SCALARS(TO_PB)
    REC_LIMITED(TO_PB_LIMITED)
    p->orig_h = addr_of(&n->orig_h, n->ip_ver);
    p->resp_h = addr_of(&n->resp_h, n->ip_ver);
    void **ptrs, *elems;
    TRY(pb_repeated(c, n->http, n->n_http, NS_APP_MAX_TX, "HTTP transactions",
                    sizeof(Netscope__HttpTx), init_http_tx, &ptrs, &elems));
    for (uint32_t i = 0; i < n->n_http; i++)
        http_to_pb(&n->http[i], (Netscope__HttpTx *)elems + i);
    p->n_http = n->n_http;
    p->http = (Netscope__HttpTx **)ptrs;
    TRY(pb_repeated(c, n->dns, n->n_dns, NS_APP_MAX_TX, "DNS transactions", sizeof(Netscope__DnsTx),
                    init_dns_tx, &ptrs, &elems));
    for (uint32_t i = 0; i < n->n_dns; i++) {
        ns_codec_reject_t why = dns_to_pb(c, &n->dns[i], (Netscope__DnsTx *)elems + i);
        if (why != NS_CODEC_OK)
            return within(c, why, "dns", i);
    }
    p->n_dns = n->n_dns;
    p->dns = (Netscope__DnsTx **)ptrs;
    return NS_CODEC_OK;
}

/* Convert a checked record. Fails only when the arena runs out. */
static ns_codec_reject_t
rec_from_pb(ns_codec_t *c, const Netscope__FlowRecord *p, ns_flow_rec_t *n)
{
    memset(n, 0, sizeof(*n));
    REC_SCALARS(FROM_PB)
    REC_LIMITED(FROM_PB_LIMITED)
    n->bps = positive_zero(n->bps);
    n->pps = positive_zero(n->pps);
    copy_str(n->uid, sizeof(n->uid), p->uid);
    copy_str(n->community_id, sizeof(n->community_id), p->community_id);
    copy_str(n->tunnel_parent, sizeof(n->tunnel_parent), p->tunnel_parent);
    copy_str(n->service, sizeof(n->service), p->service);
    copy_str(n->conn_state, sizeof(n->conn_state), p->conn_state);
    copy_str(n->history, sizeof(n->history), p->history);
    addr_from(&n->orig_h, p->orig_h);
    addr_from(&n->resp_h, p->resp_h);
    return tx_from_pb(c, p->http, p->n_http, p->dns, p->n_dns, n);
}

/* ---- Hello ---------------------------------------------------------------------------------- */

/* clang-format off */
static const limit_t iface_limits[] = {
    LIMIT(Netscope__Interface, index, NS_CODEC_MAX_IFACES - 1),
};
/* clang-format on */

static ns_codec_reject_t
ifaddr_check(ns_codec_t *c, const Netscope__IfAddress *a)
{
    if (a->addr.len != 4 && a->addr.len != 16)
        return fail(c, NS_CODEC_E_ADDR, "addr is %zu bytes (4 or 16)", a->addr.len);
    uint32_t max = a->addr.len == 4 ? 32 : 128;
    if (a->prefix_len > max)
        return fail(c, NS_CODEC_E_RANGE, "prefix_len is %u (at most %u)", a->prefix_len, max);
    return NS_CODEC_OK;
}

static ns_codec_reject_t
iface_check(ns_codec_t *c, const Netscope__Interface *p, uint8_t seen[32])
{
    TRY(check_limits(c, p, iface_limits, NLIMITS(iface_limits)));
    TRY(check_unique(c, seen, p->index));
    TRY(check_str(c, p->name, NS_CODEC_IFNAME_MAX, "name"));
    TRY(check_count(c, p->n_addresses, NS_CODEC_MAX_IFADDRS, "addresses"));
    for (size_t i = 0; i < p->n_addresses; i++) {
        ns_codec_reject_t why = ifaddr_check(c, p->addresses[i]);
        if (why != NS_CODEC_OK)
            return within(c, why, "address", i);
    }
    return NS_CODEC_OK;
}

static ns_codec_reject_t
hello_check(ns_codec_t *c, const Netscope__Hello *p)
{
    TRY(check_str(c, p->agent_id, NS_CODEC_ID_MAX, "agent_id"));
    if (p->agent_id == NULL || p->agent_id[0] == '\0')
        return fail(c, NS_CODEC_E_STRING, "agent_id is empty");
    TRY(check_str(c, p->hostname, NS_CODEC_HOSTNAME_MAX, "hostname"));
    TRY(check_str(c, p->agent_version, NS_CODEC_ID_MAX, "agent_version"));
    TRY(check_count(c, p->n_interfaces, NS_CODEC_MAX_IFACES, "interfaces"));
    uint8_t seen[32] = {0};
    for (size_t i = 0; i < p->n_interfaces; i++) {
        ns_codec_reject_t why = iface_check(c, p->interfaces[i], seen);
        if (why != NS_CODEC_OK)
            return within(c, why, "interface", i);
    }
    const Netscope__CaptureSettings *s = p->capture;
    if (s != NULL) {
        TRY(check_str(c, s->bpf_filter, NS_CODEC_FILTER_MAX, "bpf_filter"));
        TRY(check_str(c, s->replay_file, NS_CODEC_PATH_MAX, "replay_file"));
        TRY(check_rate(c, s->replay_speed, "replay_speed"));
    }
    return NS_CODEC_OK;
}

static ns_codec_reject_t
hello_to_pb(ns_codec_t *c, const ns_msg_hello_t *h, Netscope__Hello *p,
            Netscope__CaptureSettings *s)
{
    netscope__hello__init(p);
    netscope__capture_settings__init(s);
    p->agent_id = str_of(h->agent_id);
    p->hostname = str_of(h->hostname);
    p->agent_version = str_of(h->agent_version);
    p->clock_ns = h->clock_ns;
    p->start_ns = h->start_ns;
    s->promiscuous = h->promisc;
    s->buffer_bytes = h->buffer_bytes;
    s->bpf_filter = str_of(h->bpf_filter);
    s->export_interval_ms = h->export_interval_ms;
    s->replay_file = str_of(h->replay_file);
    s->replay_speed = h->replay_speed;
    p->capture = s;
    void **ptrs, *elems;
    TRY(pb_repeated(c, h->ifaces, h->n_ifaces, NS_CODEC_MAX_IFACES, "interfaces",
                    sizeof(Netscope__Interface), init_interface, &ptrs, &elems));
    for (uint32_t i = 0; i < h->n_ifaces; i++) {
        const ns_msg_iface_t *in = &h->ifaces[i];
        Netscope__Interface *q = (Netscope__Interface *)elems + i;
        q->index = in->index;
        q->name = str_of(in->name);
        q->link_type = in->link_type;
        q->snaplen = in->snaplen;
        void **aptrs, *aelems;
        ns_codec_reject_t why =
            pb_repeated(c, in->addrs, in->n_addrs, NS_CODEC_MAX_IFADDRS, "addresses",
                        sizeof(Netscope__IfAddress), init_if_address, &aptrs, &aelems);
        if (why != NS_CODEC_OK)
            return within(c, why, "interface", i);
        for (uint32_t k = 0; k < in->n_addrs; k++) {
            Netscope__IfAddress *a = (Netscope__IfAddress *)aelems + k;
            a->addr = addr_of(&in->addrs[k].addr, in->addrs[k].ip_ver);
            a->prefix_len = in->addrs[k].prefix_len;
        }
        q->n_addresses = in->n_addrs;
        q->addresses = (Netscope__IfAddress **)aptrs;
    }
    p->n_interfaces = h->n_ifaces;
    p->interfaces = (Netscope__Interface **)ptrs;
    return NS_CODEC_OK;
}

static void
hello_from_pb(ns_codec_t *c, const Netscope__Hello *p, ns_msg_hello_t *h)
{
    memset(h, 0, sizeof(*h));
    h->agent_id = p->agent_id;
    h->hostname = p->hostname;
    h->agent_version = p->agent_version;
    h->clock_ns = p->clock_ns;
    h->start_ns = p->start_ns;
    const Netscope__CaptureSettings *s = p->capture;
    h->bpf_filter = "";
    h->replay_file = "";
    if (s != NULL) {
        h->promisc = s->promiscuous;
        h->buffer_bytes = s->buffer_bytes;
        h->export_interval_ms = s->export_interval_ms;
        h->bpf_filter = s->bpf_filter;
        h->replay_file = s->replay_file;
        h->replay_speed = positive_zero(s->replay_speed);
    }
    if (p->n_interfaces == 0)
        return;
    ns_msg_iface_t *f = arena_array(&c->dec, p->n_interfaces, sizeof(*f));
    for (size_t i = 0; f != NULL && i < p->n_interfaces; i++) {
        const Netscope__Interface *q = p->interfaces[i];
        f[i].index = q->index;
        f[i].name = q->name;
        f[i].link_type = q->link_type;
        f[i].snaplen = q->snaplen;
        f[i].n_addrs = (uint32_t)q->n_addresses;
        ns_msg_ifaddr_t *a = arena_array(&c->dec, q->n_addresses, sizeof(*a));
        for (size_t k = 0; a != NULL && k < q->n_addresses; k++) {
            const Netscope__IfAddress *qa = q->addresses[k];
            a[k].ip_ver = qa->addr.len == 4 ? 4 : 6;
            a[k].prefix_len = (uint8_t)qa->prefix_len;
            addr_from(&a[k].addr, qa->addr);
        }
        f[i].addrs = q->n_addresses > 0 ? a : NULL;
    }
    h->ifaces = f;
    h->n_ifaces = (uint32_t)p->n_interfaces;
}

/* ---- InterfaceStats, Heartbeat, FilterResult ------------------------------------------------ */

/* clang-format off */
static const limit_t counters_limits[] = {
    LIMIT(Netscope__InterfaceCounters, index, NS_CODEC_MAX_IFACES - 1),
};
/* clang-format on */

static ns_codec_reject_t
iface_stats_check(ns_codec_t *c, const Netscope__InterfaceStats *p)
{
    TRY(check_count(c, p->n_interfaces, NS_CODEC_MAX_IFACES, "interfaces"));
    uint8_t seen[32] = {0};
    for (size_t i = 0; i < p->n_interfaces; i++) {
        const Netscope__InterfaceCounters *q = p->interfaces[i];
        ns_codec_reject_t why = check_limits(c, q, counters_limits, NLIMITS(counters_limits));
        if (why == NS_CODEC_OK)
            why = check_unique(c, seen, q->index);
        if (why != NS_CODEC_OK)
            return within(c, why, "interface", i);
    }
    return NS_CODEC_OK;
}

static ns_codec_reject_t
iface_stats_to_pb(ns_codec_t *c, const ns_msg_iface_stats_t *s, Netscope__InterfaceStats *p)
{
    netscope__interface_stats__init(p);
    p->send_ns = s->send_ns;
    void **ptrs, *elems;
    TRY(pb_repeated(c, s->ifaces, s->n_ifaces, NS_CODEC_MAX_IFACES, "interfaces",
                    sizeof(Netscope__InterfaceCounters), init_iface_counters, &ptrs, &elems));
    for (uint32_t i = 0; i < s->n_ifaces; i++) {
        Netscope__InterfaceCounters *q = (Netscope__InterfaceCounters *)elems + i;
        q->index = s->ifaces[i].index;
        q->packets = s->ifaces[i].packets;
        q->bytes = s->ifaces[i].bytes;
        q->kernel_drops = s->ifaces[i].kernel_drops;
        q->iface_drops = s->ifaces[i].iface_drops;
    }
    p->n_interfaces = s->n_ifaces;
    p->interfaces = (Netscope__InterfaceCounters **)ptrs;
    return NS_CODEC_OK;
}

static void
iface_stats_from_pb(ns_codec_t *c, const Netscope__InterfaceStats *p, ns_msg_iface_stats_t *s)
{
    s->send_ns = p->send_ns;
    s->n_ifaces = (uint32_t)p->n_interfaces;
    ns_msg_iface_counters_t *f = arena_array(&c->dec, p->n_interfaces, sizeof(*f));
    for (size_t i = 0; f != NULL && i < p->n_interfaces; i++) {
        const Netscope__InterfaceCounters *q = p->interfaces[i];
        f[i].index = q->index;
        f[i].packets = q->packets;
        f[i].bytes = q->bytes;
        f[i].kernel_drops = q->kernel_drops;
        f[i].iface_drops = q->iface_drops;
    }
    s->ifaces = p->n_interfaces > 0 ? f : NULL;
}

static void
heartbeat_to_pb(const ns_msg_heartbeat_t *h, Netscope__Heartbeat *p)
{
    netscope__heartbeat__init(p);
    p->send_ns = h->send_ns;
    p->queue_depth = h->queue_depth;
    p->batches_sent = h->batches_sent;
    p->batches_dropped = h->batches_dropped;
    p->updates_dropped = h->updates_dropped;
    p->finals_dropped = h->finals_dropped;
    p->flows_active = h->flows_active;
    p->evictions = h->evictions;
    p->cpu_ns = h->cpu_ns;
    p->rss_bytes = h->rss_bytes;
    p->lowest_held_seq = h->lowest_held_seq;
}

static void
heartbeat_from_pb(const Netscope__Heartbeat *p, ns_msg_heartbeat_t *h)
{
    h->send_ns = p->send_ns;
    h->queue_depth = p->queue_depth;
    h->batches_sent = p->batches_sent;
    h->batches_dropped = p->batches_dropped;
    h->updates_dropped = p->updates_dropped;
    h->finals_dropped = p->finals_dropped;
    h->flows_active = p->flows_active;
    h->evictions = p->evictions;
    h->cpu_ns = p->cpu_ns;
    h->rss_bytes = p->rss_bytes;
    h->lowest_held_seq = p->lowest_held_seq;
}

static ns_codec_reject_t
filter_result_check(ns_codec_t *c, const Netscope__FilterResult *p)
{
    return check_str(c, p->error, NS_CODEC_ERRTEXT_MAX, "error");
}

/* ---- Packets ---------------------------------------------------------------------------- */

static ns_codec_reject_t
packets_check(ns_codec_t *c, const Netscope__Packets *p)
{
    TRY(check_str(c, p->error, NS_CODEC_ERRTEXT_MAX, "error"));
    TRY(check_count(c, p->n_frames, NS_CODEC_MAX_FRAMES, "frames"));
    for (size_t i = 0; i < p->n_frames; i++) {
        const Netscope__Frame *f = p->frames[i];
        ns_codec_reject_t why = NS_CODEC_OK;
        if (f->data.len > NS_CODEC_FRAME_MAX)
            why = fail(c, NS_CODEC_E_STRING, "data is %zu bytes (at most %u)", f->data.len,
                       NS_CODEC_FRAME_MAX);
        else if (f->data.len > f->wire_len)
            why = fail(c, NS_CODEC_E_RANGE, "%zu bytes captured of a %u-byte frame", f->data.len,
                       f->wire_len);
        if (why != NS_CODEC_OK)
            return within(c, why, "frame", i);
    }
    return NS_CODEC_OK;
}

static ns_codec_reject_t
packets_to_pb(ns_codec_t *c, const ns_msg_packets_t *m, Netscope__Packets *p)
{
    netscope__packets__init(p);
    p->request_id = m->request_id;
    p->error = str_of(m->error);
    p->link_type = m->link_type;
    p->truncated = m->truncated;
    p->whole_ring = m->whole_ring;
    p->last_chunk = m->last_chunk;
    void **ptrs, *elems;
    TRY(pb_repeated(c, m->frames, m->n_frames, NS_CODEC_MAX_FRAMES, "frames",
                    sizeof(Netscope__Frame), init_frame, &ptrs, &elems));
    for (uint32_t i = 0; i < m->n_frames; i++) {
        const ns_msg_frame_t *in = &m->frames[i];
        Netscope__Frame *f = (Netscope__Frame *)elems + i;
        if (in->cap_len > 0 && in->data == NULL)
            return fail(c, NS_CODEC_E_RANGE, "frame %u: %u bytes but no data", i, in->cap_len);
        f->ts_ns = in->ts_ns;
        f->wire_len = in->wire_len;
        f->data = bytes_of(in->data, in->cap_len);
    }
    p->n_frames = m->n_frames;
    p->frames = (Netscope__Frame **)ptrs;
    return NS_CODEC_OK;
}

static void
packets_from_pb(ns_codec_t *c, const Netscope__Packets *p, ns_msg_packets_t *m)
{
    m->request_id = p->request_id;
    m->error = p->error;
    m->link_type = p->link_type;
    m->truncated = p->truncated;
    m->whole_ring = p->whole_ring;
    m->last_chunk = p->last_chunk;
    m->n_frames = (uint32_t)p->n_frames;
    ns_msg_frame_t *f = arena_array(&c->dec, p->n_frames, sizeof(*f));
    for (size_t i = 0; f != NULL && i < p->n_frames; i++) {
        f[i].ts_ns = p->frames[i]->ts_ns;
        f[i].wire_len = p->frames[i]->wire_len;
        f[i].cap_len = (uint32_t)p->frames[i]->data.len;
        f[i].data = p->frames[i]->data.data; /* unpacked into the arena: no copy */
    }
    m->frames = p->n_frames > 0 ? f : NULL;
}

/* ---- collector -> agent ----------------------------------------------------------------- */

/* clang-format off */
static const limit_t get_packets_limits[] = {
    LIMIT(Netscope__GetPackets, proto, UINT8_MAX),
    LIMIT(Netscope__GetPackets, vlan, VLAN_ID_MAX),
    LIMIT(Netscope__GetPackets, iface, UINT8_MAX),
    LIMIT(Netscope__GetPackets, port_a, UINT16_MAX),
    LIMIT(Netscope__GetPackets, port_b, UINT16_MAX),
    LIMIT(Netscope__GetPackets, max_frames, NS_CODEC_MAX_FRAMES),
};
/* clang-format on */

static ns_codec_reject_t
get_packets_check(ns_codec_t *c, const Netscope__GetPackets *p)
{
    TRY(check_addr(c, p->addr_a, p->ip_ver, "addr_a"));
    TRY(check_addr(c, p->addr_b, p->ip_ver, "addr_b"));
    TRY(check_limits(c, p, get_packets_limits, NLIMITS(get_packets_limits)));
    if (p->to_ns != 0 && p->to_ns < p->from_ns)
        return fail(c, NS_CODEC_E_RANGE, "time range ends before it starts");
    return NS_CODEC_OK;
}

static void
get_packets_to_pb(const ns_msg_get_packets_t *g, Netscope__GetPackets *p)
{
    netscope__get_packets__init(p);
    p->request_id = g->request_id;
    p->ip_ver = g->ip_ver;
    p->proto = g->proto;
    p->vlan = g->vlan;
    p->iface = g->iface;
    p->addr_a = addr_of(&g->addr[0], g->ip_ver);
    p->addr_b = addr_of(&g->addr[1], g->ip_ver);
    p->port_a = g->port[0];
    p->port_b = g->port[1];
    p->from_ns = g->from_ns;
    p->to_ns = g->to_ns;
    p->max_frames = g->max_frames;
    p->whole_ring = g->whole_ring;
}

static void
get_packets_from_pb(const Netscope__GetPackets *p, ns_msg_get_packets_t *g)
{
    memset(g, 0, sizeof(*g));
    g->request_id = p->request_id;
    g->ip_ver = (uint8_t)p->ip_ver;
    g->proto = (uint8_t)p->proto;
    g->vlan = (uint16_t)p->vlan;
    g->iface = (uint8_t)p->iface;
    addr_from(&g->addr[0], p->addr_a);
    addr_from(&g->addr[1], p->addr_b);
    g->port[0] = (uint16_t)p->port_a;
    g->port[1] = (uint16_t)p->port_b;
    g->from_ns = p->from_ns;
    g->to_ns = p->to_ns;
    g->max_frames = p->max_frames;
    g->whole_ring = p->whole_ring;
}

/* ---- the batch reader: FlowBatch bytes into protobuf-c structures, in one pass -------------- *
 *
 * protobuf-c's generic unpack costs about 20 ns per field present (it scans a message twice,
 * looks every field number up in a range table and copies what it scanned through a slab),
 * which for a flow record of ~45 fields is most of a microsecond: too slow for a collector
 * that ingests a million records per second per core. Batches, the one message that comes
 * by the million, are therefore read here (records by the record reader below, the rest of
 * a batch by read_msg()): straight from the wire into the same
 * protobuf-c-generated structures, driven by the same generated descriptors (field number ->
 * type and offset, through a dense table built once per context), in the same arena. What
 * comes out goes through the same checks and conversion as protobuf-c's output, and is meant
 * to be the same structure protobuf-c would have built from the same bytes: fuzz_codec
 * decodes every input both ways and compares. Every other message still goes through
 * protobuf_c_message_unpack(); so does a batch when opts.generic is set.
 *
 * The reader takes only the shapes the batch messages use (proto3 singular scalars, strings
 * and bytes, repeated messages); ns_codec_new() checks the descriptors and falls back to
 * protobuf-c for batches if the schema grows anything else. Where protobuf-c has a quirk the
 * reader copies it: a bool is true if any byte of its field's value has a low bit set,
 * whatever the wire type; 32-bit fields keep the low 32 bits of a longer varint; a one-byte
 * tag of field number 0 is an error, a longer one an unknown field; tags and lengths are at
 * most 5 bytes, varints at most 10.
 */

static const ProtobufCMessageDescriptor *const reader_descs[RD_COUNT] = {
    &netscope__flow_batch__descriptor, &netscope__flow_record__descriptor,
    &netscope__http_tx__descriptor,    &netscope__dns_tx__descriptor,
    &netscope__dns_answer__descriptor,
};

/* Varints as protobuf writes them (7 bits a byte, low bits first). */
static size_t
varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* The bytes of one message as the reader walks them: a view (every byte proven present, so
 * reads index it behind a bound check on `at`) and the read position. Kept by value in each
 * reading function: the fields are stored through byte pointers, which the compiler must
 * assume may alias anything reached through a pointer, so a position behind one would be
 * reloaded after every store. */
typedef struct {
    ns_view_t v;
    uint32_t at;
} wire_t;

static inline uint32_t
wire_left(const wire_t *w)
{
    return w->v.len - w->at; /* at <= len always */
}

/* A varint of at most `max` bytes (protobuf-c: 5 for tags and lengths, 10 for values): the
 * low 64 bits of its value. The one- and two-byte cases (most tags and values of a record)
 * come first; the loop is bounded by what is left and by `max`. */
static inline bool
wire_uvar(wire_t *w, uint32_t max, uint64_t *out)
{
    uint32_t left = wire_left(w), n = left < max ? left : max;
    const uint8_t *p = w->v.p + w->at;
    if (n >= 1 && p[0] < 0x80u) {
        *out = p[0];
        w->at += 1;
        return true;
    }
    if (n >= 2 && p[1] < 0x80u) {
        *out = (uint64_t)(p[0] & 0x7fu) | (uint64_t)p[1] << 7;
        w->at += 2;
        return true;
    }
    uint64_t x = 0;
    for (uint32_t i = 0; i < n; i++) {
        x |= (uint64_t)(p[i] & 0x7fu) << (7 * i);
        if (p[i] < 0x80u) {
            w->at += i + 1;
            *out = x;
            return true;
        }
    }
    return false;
}

/* A tag: field number and wire type. protobuf-c rejects a tag whose first byte holds no
 * field-number bits (field 0 written in one byte) but lets field 0 spelt in more bytes pass
 * as an unknown field; so does this. */
static inline bool
wire_tag(wire_t *w, uint32_t *id, uint32_t *wt)
{
    uint64_t v;
    uint32_t left = wire_left(w);
    const uint8_t *p = w->v.p + w->at;
    if (left > 0 && p[0] < 8u)
        return false;
    /* Field numbers below 16 take one byte, below 2048 two: every field of a record. */
    if (left >= 2 && p[0] >= 0x80u && p[1] < 0x80u) {
        *id = (uint32_t)(p[0] & 0x7fu) >> 3 | (uint32_t)p[1] << 4;
        *wt = p[0] & 7u;
        w->at += 2;
        return true;
    }
    if (!wire_uvar(w, 5, &v))
        return false;
    *id = (uint32_t)(v >> 3);
    *wt = (uint32_t)v & 7u;
    return true;
}

static inline bool
wire_varint(wire_t *w, uint64_t *out)
{
    return wire_uvar(w, 10, out);
}

/* A length prefix whose bytes are all there. The value is taken whole (up to 35 bits from 5
 * bytes), not cut to 32 bits: protobuf-c rejects a length of 2^32 + n, it does not read n. */
static inline bool
wire_len(wire_t *w, uint32_t *len)
{
    uint64_t v;
    if (!wire_uvar(w, 5, &v) || v > wire_left(w))
        return false;
    *len = (uint32_t)v;
    return true;
}

/* `n` bytes as a view of their own, and step over them. */
static inline bool
wire_take(wire_t *w, uint32_t n, ns_view_t *out)
{
    if (n > wire_left(w))
        return false;
    out->p = w->v.p + w->at;
    out->len = n;
    w->at += n;
    return true;
}

/* Step over a field's value. Groups (wire types 3, 4) and 6, 7 are errors, as in protobuf-c. */
static bool
wire_skip(wire_t *w, uint32_t wt)
{
    uint64_t v;
    uint32_t len;
    ns_view_t skipped;
    switch (wt) {
    case WIRE_VARINT:
        return wire_varint(w, &v);
    case WIRE_I64:
        return wire_take(w, 8, &skipped);
    case WIRE_LEN:
        return wire_len(w, &len) && wire_take(w, len, &skipped);
    case WIRE_I32:
        return wire_take(w, 4, &skipped);
    default:
        return false;
    }
}

/* Fields numbered `id` from the read position to the end (to size a repeated field's array
 * before its first element is read). Stops quietly at bytes that do not scan: reading them
 * fails later anyway. */
static size_t
wire_count(wire_t w, uint32_t id)
{
    size_t n = 0;
    uint32_t fid, wt;
    while (wire_left(&w) > 0 && wire_tag(&w, &fid, &wt) && wire_skip(&w, wt))
        n += fid == id;
    return n;
}

/* The field types read_msg() takes: those the batch messages use. */
static bool
reader_type_ok(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return true;
    default:
        return false;
    }
}

/* The operation for a field of type `type` (RD_UNKNOWN: no such field) read with wire type
 * `wt`. */
static uint8_t
reader_op(uint8_t type, uint32_t wt)
{
    switch (type) {
    case RD_UNKNOWN:
        return OP_SKIP;
    case PROTOBUF_C_TYPE_BOOL:
        return OP_BOOL;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_ENUM:
        return wt == WIRE_VARINT ? OP_U32 : OP_BAD;
    case PROTOBUF_C_TYPE_UINT64:
        return wt == WIRE_VARINT ? OP_U64 : OP_BAD;
    case PROTOBUF_C_TYPE_SINT64:
        return wt == WIRE_VARINT ? OP_S64 : OP_BAD;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return wt == WIRE_I64 ? OP_F64 : OP_BAD;
    case PROTOBUF_C_TYPE_STRING:
        return wt == WIRE_LEN ? OP_STR : OP_BAD;
    case PROTOBUF_C_TYPE_BYTES:
        return wt == WIRE_LEN ? OP_BYTES : OP_BAD;
    default: /* PROTOBUF_C_TYPE_MESSAGE, repeated (reader_init() allows nothing else) */
        return wt == WIRE_LEN ? OP_MSG : OP_BAD;
    }
}

/* Build the tables; false when a descriptor uses a shape the reader does not take. */
static bool
reader_init(reader_t readers[RD_COUNT])
{
    for (unsigned r = 0; r < RD_COUNT; r++) {
        const ProtobufCMessageDescriptor *d = reader_descs[r];
        unsigned repeated = 0;
        for (unsigned id = 0; id < READER_MAX_ID; id++)
            readers[r].f[id] = (rd_field_t){.type = RD_UNKNOWN};
        if (d->sizeof_message > UINT16_MAX)
            return false;
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &d->fields[i];
            if (f->id == 0 || f->id >= READER_MAX_ID || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
                !reader_type_ok(f->type))
                return false;
            bool message = f->type == PROTOBUF_C_TYPE_MESSAGE;
            if (message != (f->label == PROTOBUF_C_LABEL_REPEATED) ||
                (!message && f->label != PROTOBUF_C_LABEL_NONE))
                return false;
            /* protobuf-c packs in the order of fields[], which protoc-c sorts by number. */
            if (i >= READER_MAX_FIELDS || (i > 0 && f->id <= d->fields[i - 1].id))
                return false;
            rd_field_t *e = &readers[r].f[f->id];
            e->off = (uint16_t)f->offset;
            e->type = (uint8_t)f->type;
            wr_field_t *o = &readers[r].order[i];
            uint32_t wire =
                message || f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES
                    ? WIRE_LEN
                : f->type == PROTOBUF_C_TYPE_FIXED64 || f->type == PROTOBUF_C_TYPE_DOUBLE
                    ? WIRE_I64
                    : WIRE_VARINT;
            o->tag_len = (uint8_t)put_varint(o->tag, f->id << 3 | wire);
            o->type = (uint8_t)f->type;
            o->off = (uint16_t)f->offset;
            readers[r].n_order = i + 1;
            if (!message)
                continue;
            unsigned child = RD_COUNT;
            for (unsigned k = 0; k < RD_COUNT; k++)
                if (reader_descs[k] == f->descriptor)
                    child = k;
            /* Element types come later in the list, so there is no cycle. */
            if (child == RD_COUNT || child <= r || repeated == READER_MAX_REPEATED)
                return false;
            e->qoff = (uint16_t)f->quantifier_offset;
            e->child = (uint8_t)child;
            e->slot = (uint8_t)repeated++;
            o->qoff = e->qoff;
            o->child = e->child;
        }
        for (unsigned tag = 0; tag < READER_MAX_TAG; tag++) {
            const rd_field_t *e = &readers[r].f[tag >> 3];
            readers[r].op[tag] = (rd_op_t){.off = e->off, .op = reader_op(e->type, tag & 7u)};
        }
    }
    return true;
}

/* Read the message `bytes` into `m`, a structure of reader `rd`, field by field as protobuf-c
 * would: the last value of a field wins, repeated elements append. */
static bool
read_msg(ns_codec_t *c, unsigned rd, ns_view_t bytes, ProtobufCMessage *m)
{
    const reader_t *r = &c->readers[rd];
    struct {
        void **arr;
        size_t cap;
    } rep[READER_MAX_REPEATED] = {{NULL, 0}};
    uint8_t *base = (uint8_t *)m;
    wire_t w = {bytes, 0};
    ns_view_t val;
    reader_descs[rd]->message_init(m);
    while (wire_left(&w) > 0) {
        uint32_t tag_at = w.at, id, wt, len;
        uint64_t v;
        if (!wire_tag(&w, &id, &wt))
            return false;
        uint32_t val_at = w.at;
        rd_op_t op = id < READER_MAX_ID ? r->op[id << 3 | wt] : (rd_op_t){0, OP_SKIP};
        uint8_t *member = base + op.off;
        switch (op.op) {
        case OP_SKIP:
            if (!wire_skip(&w, wt))
                return false;
            break;
        case OP_BAD:
            return false;
        case OP_BOOL: {
            /* protobuf-c: true if any byte of the value, whatever its wire type, has one of
             * its low 7 bits set. */
            if (!wire_skip(&w, wt))
                return false;
            protobuf_c_boolean b = 0;
            for (uint32_t i = val_at; i < w.at; i++)
                b |= (ns_view_u8(&w.v, i) & 0x7fu) != 0;
            memcpy(member, &b, sizeof(b));
            break;
        }
        case OP_U32: {
            if (!wire_varint(&w, &v))
                return false;
            uint32_t v32 = (uint32_t)v;
            memcpy(member, &v32, sizeof(v32));
            break;
        }
        case OP_U64:
            if (!wire_varint(&w, &v))
                return false;
            memcpy(member, &v, sizeof(v));
            break;
        case OP_S64:
            if (!wire_varint(&w, &v))
                return false;
            v = (v >> 1) ^ (0 - (v & 1)); /* zigzag: 0, -1, 1, -2, ... */
            memcpy(member, &v, sizeof(v));
            break;
        case OP_F64:
            if (!wire_take(&w, 8, &val))
                return false;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            memcpy(member, val.p, 8); /* the view holds the 8 bytes; the wire is little-endian */
#else
            v = 0;
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)ns_view_u8(&val, i) << (8 * i);
            memcpy(member, &v, sizeof(v));
#endif
            break;
        case OP_STR: {
            if (!wire_len(&w, &len) || !wire_take(&w, len, &val))
                return false;
            char *str = arena_alloc(&c->dec, (size_t)len + 1);
            if (str == NULL)
                return false;
            ns_view_copy(&val, 0, (uint8_t *)str, len);
            str[len] = '\0';
            memcpy(member, &str, sizeof(str));
            break;
        }
        case OP_BYTES: {
            if (!wire_len(&w, &len) || !wire_take(&w, len, &val))
                return false;
            ProtobufCBinaryData b = {len, NULL};
            if (len > 0) {
                b.data = arena_alloc(&c->dec, len);
                if (b.data == NULL)
                    return false;
                ns_view_copy(&val, 0, b.data, len);
            }
            memcpy(member, &b, sizeof(b));
            break;
        }
        default: { /* OP_MSG */
            const rd_field_t *f = &r->f[id];
            if (!wire_len(&w, &len) || !wire_take(&w, len, &val))
                return false;
            void **arr = rep[f->slot].arr;
            size_t *n = (size_t *)(void *)(base + f->qoff);
            if (arr == NULL) { /* first element: size the array for all of them */
                wire_t from = w;
                from.at = tag_at;
                rep[f->slot].cap = wire_count(from, id);
                arr = arena_array(&c->dec, rep[f->slot].cap, sizeof(void *));
                if (arr == NULL)
                    return false;
                rep[f->slot].arr = arr;
                memcpy(member, &arr, sizeof(arr));
            }
            ProtobufCMessage *e = arena_alloc(&c->dec, reader_descs[f->child]->sizeof_message);
            if (e == NULL || *n == rep[f->slot].cap || !read_msg(c, f->child, val, e))
                return false;
            arr[(*n)++] = e;
            break;
        }
        }
    }
    return true;
}

/* The envelope's version and its one body, scanned as protobuf-c would read them. False
 * when the envelope holds anything the reader should not judge (a second body, a field of
 * an unexpected type, bytes that do not scan): protobuf-c then decides. */
static bool
scan_envelope(const uint8_t *buf, uint32_t len, uint32_t *version, uint32_t *body_id,
              ns_view_t *body)
{
    wire_t w = {{buf, len}, 0};
    *version = 0;
    *body_id = 0;
    while (wire_left(&w) > 0) {
        uint32_t id, wt, blen;
        uint64_t v;
        if (!wire_tag(&w, &id, &wt))
            return false;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(&netscope__agent_message__descriptor, id);
        if (f == NULL) {
            if (!wire_skip(&w, wt))
                return false;
        } else if (id == FIELD_VERSION) {
            if (wt != WIRE_VARINT || !wire_varint(&w, &v))
                return false;
            *version = (uint32_t)v;
        } else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && wt == WIRE_LEN && *body_id == 0 &&
                   wire_len(&w, &blen) && wire_take(&w, blen, body)) {
            *body_id = id;
        } else {
            return false;
        }
    }
    return true;
}

/* ---- the record reader: FlowBatch bytes straight into ns_flow_rec_t ----------------------- *
 *
 * Records are most of what a collector decodes, so the batch reader does not build their
 * protobuf-c structures: each field goes from the wire into its ns_flow_rec_t member as it is
 * read (one switch on the field number, the wire type checked in each case), and what
 * ns_flow_rec_t cannot hold before it is checked waits in a rec_raw_t: the full 32-bit values
 * of the narrowed fields (REC_LIMITED), and the strings and addresses as views of the wire.
 * When the record's bytes are read, rec_finish() runs rec_check()'s checks in rec_check()'s
 * order and copies each string once, from the wire into its fixed array. Transactions (a
 * record in ten or fewer carries one) are still read by read_msg() into protobuf-c
 * structures and checked and converted by the same code as protobuf-c's.
 *
 * The outcome is protobuf-c's unpack followed by batch_decode(): malformed bytes anywhere in
 * the batch are NS_CODEC_E_MALFORMED even after a record that breaks a limit, so a record's
 * rejection is held (batch_read()) until the whole batch has been read; then come the
 * version, the batch's seq and record count, and the held rejection, in batch_decode()'s
 * order. fuzz_codec compares the two readers input by input.
 */

/* A record's values that are checked before they go into ns_flow_rec_t. */
enum {
#define REC_LIM_INDEX(pbf, nsf, max) LIM_##pbf,
    REC_LIMITED(REC_LIM_INDEX) LIM_COUNT
#undef REC_LIM_INDEX
};

typedef struct {
    uint32_t ip_ver;
    uint32_t lim[LIM_COUNT]; /* REC_LIMITED's fields, in its order */
    ns_view_t uid, community_id, tunnel_parent, service, conn_state, history;
    ns_view_t orig_h, resp_h;
    Netscope__HttpTx **http;
    Netscope__DnsTx **dns;
    size_t n_http, cap_http, n_dns, cap_dns;
} rec_raw_t;

/* A fixed64 or double: 8 little-endian bytes. */
static inline bool
rd_i64(wire_t *w, uint64_t *dst)
{
    ns_view_t val;
    if (!wire_take(w, 8, &val))
        return false;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, val.p, 8);
#else
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)ns_view_u8(&val, i) << (8 * i);
    *dst = v;
#endif
    return true;
}

static inline bool
rd_view(wire_t *w, ns_view_t *dst)
{
    uint32_t len;
    return wire_len(w, &len) && wire_take(w, len, dst);
}

/* One element of a repeated transaction field (its bytes `val`, its tag at `tag_at` of the
 * record `rec`), read by read_msg() into a protobuf-c structure of reader `rd` appended to
 * *arr, which the first element sizes for every element to the end of the record. */
static bool
rd_tx(ns_codec_t *c, unsigned rd, ns_view_t rec, uint32_t tag_at, uint32_t id, ns_view_t val,
      void ***arr, size_t *n, size_t *cap)
{
    if (*arr == NULL) {
        *cap = wire_count((wire_t){rec, tag_at}, id);
        *arr = arena_array(&c->dec, *cap, sizeof(void *));
        if (*arr == NULL)
            return false;
    }
    ProtobufCMessage *e = arena_alloc(&c->dec, reader_descs[rd]->sizeof_message);
    if (e == NULL || *n == *cap || !read_msg(c, rd, val, e))
        return false;
    (*arr)[(*n)++] = e;
    return true;
}

/* The cases of rec_read(), by field number of FlowRecord (netscope.proto): the wire type
 * the field's type is written with, and where its value goes. test_codec and fuzz_codec
 * compare what rec_read() makes of bytes with protobuf-c's unpack. */
#define CASE_U32(id, dst)                                                                          \
    case id:                                                                                       \
        if (wt != WIRE_VARINT)                                                                     \
            return false;                                                                          \
        dst = (uint32_t)v; /* protobuf-c keeps the low 32 bits */                                  \
        break;
#define CASE_U64(id, dst)                                                                          \
    case id:                                                                                       \
        if (wt != WIRE_VARINT)                                                                     \
            return false;                                                                          \
        dst = v;                                                                                   \
        break;
#define CASE_I64(id, dst)                                                                          \
    case id:                                                                                       \
        if (wt != WIRE_I64)                                                                        \
            return false;                                                                          \
        memcpy(&(dst), &v, 8);                                                                     \
        break;
#define CASE_VIEW(id, dst)                                                                         \
    case id:                                                                                       \
        if (wt != WIRE_LEN)                                                                        \
            return false;                                                                          \
        dst = val;                                                                                 \
        break;

/* Read one record's bytes into `n` (every member defined) and `raw`. False when they are not
 * a valid FlowRecord or the arena ran out. Each value is read by its wire type first (groups
 * and wire types 6 and 7 are errors for any field, as in protobuf-c), then stored by its
 * field number, which also checks the wire type against the field's. */
static bool
rec_read(ns_codec_t *c, ns_view_t bytes, ns_flow_rec_t *n, rec_raw_t *raw)
{
    wire_t w = {bytes, 0};
    /* Every member has a value: proto3 leaves a zero field out. */
    memset(n, 0, sizeof(*n));
    memset(raw, 0, sizeof(*raw));
    uint32_t *lim = raw->lim;
    while (wire_left(&w) > 0) {
        uint32_t tag_at = w.at, id, wt;
        if (!wire_tag(&w, &id, &wt))
            return false;
        uint32_t val_at = w.at;
        uint64_t v = 0;
        ns_view_t val = {NULL, 0};
        switch (wt) {
        case WIRE_VARINT:
            if (!wire_varint(&w, &v))
                return false;
            break;
        case WIRE_I64:
            if (!rd_i64(&w, &v))
                return false;
            break;
        case WIRE_LEN:
            if (!rd_view(&w, &val))
                return false;
            break;
        case WIRE_I32:
            if (!wire_take(&w, 4, &val))
                return false;
            break;
        default:
            return false;
        }
        switch (id) {
            CASE_VIEW(1, raw->uid)
            CASE_U32(2, raw->ip_ver)
            CASE_U32(3, lim[LIM_proto])
            CASE_VIEW(4, raw->orig_h)
            CASE_VIEW(5, raw->resp_h)
            CASE_U32(6, lim[LIM_orig_p])
            CASE_U32(7, lim[LIM_resp_p])
            CASE_I64(8, n->first_ns)
            CASE_I64(9, n->last_ns)
            CASE_I64(10, n->emit_ns)
            CASE_U64(11, n->pkts[0])
            CASE_U64(12, n->pkts[1])
            CASE_U64(13, n->ip_bytes[0])
            CASE_U64(14, n->ip_bytes[1])
            CASE_VIEW(15, raw->conn_state)
            CASE_VIEW(16, raw->history)
            CASE_U32(17, lim[LIM_kind])
            CASE_U32(18, lim[LIM_end_reason])
            CASE_U32(19, lim[LIM_vlan])
            CASE_U32(20, lim[LIM_iface])
            CASE_VIEW(21, raw->community_id)
            CASE_VIEW(22, raw->service)
            CASE_U64(23, n->app_bytes[0])
            CASE_U64(24, n->app_bytes[1])
            CASE_U64(25, n->missed_bytes)
            CASE_U64(26, n->wire_bytes[0])
            CASE_U64(27, n->wire_bytes[1])
            CASE_U64(28, n->payload_bytes[0])
            CASE_U64(29, n->payload_bytes[1])
            CASE_VIEW(30, raw->tunnel_parent)
        case 40: {
            /* protobuf-c: a bool is true if any byte of its value, whatever the wire type,
             * has one of its low 7 bits set. */
            bool b = false;
            for (uint32_t i = val_at; i < w.at; i++)
                b |= (ns_view_u8(&w.v, i) & 0x7fu) != 0;
            n->is_tcp = b;
            break;
        }
            CASE_U32(41, lim[LIM_orig_tcp_flags])
            CASE_U32(42, lim[LIM_resp_tcp_flags])
            CASE_U32(43, lim[LIM_orig_syn])
            CASE_U32(44, lim[LIM_resp_syn])
            CASE_U32(45, lim[LIM_orig_fin])
            CASE_U32(46, lim[LIM_resp_fin])
            CASE_U32(47, lim[LIM_orig_rst])
            CASE_U32(48, lim[LIM_resp_rst])
            CASE_U32(49, lim[LIM_orig_tcp_state])
            CASE_U32(50, lim[LIM_resp_tcp_state])
            CASE_U32(51, lim[LIM_hs])
            CASE_U64(52, n->rtt_hs_ns)
            CASE_U64(53, n->rtt_hs_server_ns)
            CASE_U64(54, n->rtt_hs_client_ns)
            CASE_U32(55, n->rtt_n)
            CASE_U32(56, n->rtt_min_us)
            CASE_U32(57, n->rtt_mean_us)
            CASE_U32(58, n->rtt_max_us)
            CASE_U32(59, n->rtt_last_us)
            CASE_U32(60, n->retrans[0])
            CASE_U32(61, n->retrans[1])
            CASE_U32(62, n->ooo[0])
            CASE_U32(63, n->ooo[1])
            CASE_U32(64, n->dup_ack[0])
            CASE_U32(65, n->dup_ack[1])
            CASE_U32(66, n->zero_win[0])
            CASE_U32(67, n->zero_win[1])
            CASE_U32(68, n->gaps[0])
            CASE_U32(69, n->gaps[1])
            CASE_U32(70, n->missed[0])
            CASE_U32(71, n->missed[1])
            CASE_U32(80, lim[LIM_quality])
            CASE_I64(81, n->bps)
            CASE_I64(82, n->pps)
            CASE_U32(83, n->interim)
            CASE_U32(90, n->http_total)
            CASE_U32(91, n->dns_total)
            CASE_U32(92, n->dns_unanswered)
        case 93:
            if (wt != WIRE_LEN || !rd_tx(c, RD_HTTP, w.v, tag_at, id, val, (void ***)&raw->http,
                                         &raw->n_http, &raw->cap_http))
                return false;
            break;
        case 94:
            if (wt != WIRE_LEN || !rd_tx(c, RD_DNS, w.v, tag_at, id, val, (void ***)&raw->dns,
                                         &raw->n_dns, &raw->cap_dns))
                return false;
            break;
        default: /* a number FlowRecord does not have: skipped */
            break;
        }
    }
    return true;
}

#undef CASE_U32
#undef CASE_U64
#undef CASE_I64
#undef CASE_VIEW

/* A `string` field as protobuf-c unpacks it (NUL-terminated: it ends at its first NUL) and
 * check_str() and copy_str() take it: at most size - 1 bytes, copied once into `dst`. */
static ns_codec_reject_t
take_str(ns_codec_t *c, ns_view_t v, char *dst, size_t size, const char *name)
{
    size_t max = size - 1, len = v.len <= max ? v.len : max + 1;
    const uint8_t *nul = len > 0 ? memchr(v.p, 0, len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - v.p);
    if (len > max)
        return fail(c, NS_CODEC_E_STRING, "%s is longer than %zu bytes", name, max);
    if (len > 0)
        memcpy(dst, v.p, len);
    dst[len] = '\0';
    return NS_CODEC_OK;
}

static const limit_t rec_raw_limits[] = {
#define REC_RAW_LIMIT(pbf, nsf, max) {offsetof(rec_raw_t, lim[LIM_##pbf]), (max), #pbf},
    REC_LIMITED(REC_RAW_LIMIT)
#undef REC_RAW_LIMIT
};

/* rec_check() and rec_from_pb() on a record read by rec_read(): the same checks in the same
 * order, then what is left of the conversion. */
static ns_codec_reject_t
rec_finish(ns_codec_t *c, const rec_raw_t *raw, ns_flow_rec_t *n)
{
    TRY(take_str(c, raw->uid, n->uid, sizeof(n->uid), "uid"));
    TRY(check_addr(c, bytes_of(raw->orig_h.p, raw->orig_h.len), raw->ip_ver, "orig_h"));
    TRY(check_addr(c, bytes_of(raw->resp_h.p, raw->resp_h.len), raw->ip_ver, "resp_h"));
    TRY(check_limits(c, raw, rec_raw_limits, NLIMITS(rec_raw_limits)));
    TRY(take_str(c, raw->community_id, n->community_id, sizeof(n->community_id),
                 "community_id"));
    TRY(take_str(c, raw->tunnel_parent, n->tunnel_parent, sizeof(n->tunnel_parent),
                 "tunnel_parent"));
    TRY(take_str(c, raw->service, n->service, sizeof(n->service), "service"));
    TRY(take_str(c, raw->conn_state, n->conn_state, sizeof(n->conn_state), "conn_state"));
    TRY(take_str(c, raw->history, n->history, sizeof(n->history), "history"));
    TRY(check_rate(c, n->bps, "bps"));
    TRY(check_rate(c, n->pps, "pps"));
    n->bps = positive_zero(n->bps);
    n->pps = positive_zero(n->pps);
    n->ip_ver = (uint8_t)raw->ip_ver;
#define REC_RAW_TO_NS(pbf, nsf, max) n->nsf = (__typeof__(n->nsf))raw->lim[LIM_##pbf];
    REC_LIMITED(REC_RAW_TO_NS)
#undef REC_RAW_TO_NS
    memcpy(n->orig_h.b, raw->orig_h.p, raw->orig_h.len); /* checked: 4 or 16 bytes */
    memcpy(n->resp_h.b, raw->resp_h.p, raw->resp_h.len);
    if (raw->n_http == 0 && raw->n_dns == 0)
        return NS_CODEC_OK;
    TRY(tx_check(c, raw->http, raw->n_http, raw->dns, raw->n_dns));
    return tx_from_pb(c, raw->http, raw->n_http, raw->dns, raw->n_dns, n);
}

/* ---- the batch writer: protobuf-c structures of a batch to bytes, in one pass -------------- *
 *
 * The mirror of the reader, for the agent's side: protobuf-c's get_packed_size() and pack()
 * walk every field of a record twice through its descriptors (about 10,000 instructions for
 * a record of ~45 fields), so records are written here, from the same structures and the
 * same descriptors (a compact list of each message's fields in number order, built with the
 * reader's tables), into the caller's buffer with a bound check before every write. The
 * bytes are protobuf-c's, byte for byte: fields in number order, proto3 zero values left out
 * (0, 0.0, "", empty bytes), a submessage's length written in front of it after the fact
 * (one byte reserved, the body moved when the length needs more). test_codec and fuzz_codec
 * compare the two writers' output.
 */

typedef struct {
    uint8_t *p;
    size_t at, cap;
} out_t;

static inline bool
out_room(const out_t *o, size_t n)
{
    return n <= o->cap - o->at;
}

/* The caller has made room for the 10 bytes a varint may take. */
static inline void
out_varint(out_t *o, uint64_t v)
{
    o->at += put_varint(o->p + o->at, v);
}

static inline void
out_bytes(out_t *o, const wr_field_t *f, const void *data, size_t len)
{
    memcpy(o->p + o->at, f->tag, f->tag_len);
    o->at += f->tag_len;
    out_varint(o, len);
    if (len > 0)
        memcpy(o->p + o->at, data, len);
    o->at += len;
}

static bool write_msg(const ns_codec_t *c, unsigned rd, const ProtobufCMessage *m, out_t *o);

/* A submessage with its tag and length in front. */
static bool
write_prefixed(const ns_codec_t *c, unsigned rd, const uint8_t *tag, size_t tag_len,
               const ProtobufCMessage *m, out_t *o)
{
    if (!out_room(o, tag_len + 1))
        return false;
    memcpy(o->p + o->at, tag, tag_len);
    size_t len_at = o->at + tag_len, body_at = len_at + 1;
    o->at = body_at;
    if (!write_msg(c, rd, m, o))
        return false;
    size_t body = o->at - body_at, extra = varint_len(body) - 1;
    if (extra > 0) {
        if (!out_room(o, extra))
            return false;
        memmove(o->p + body_at + extra, o->p + body_at, body);
    }
    put_varint(o->p + len_at, body);
    o->at = body_at + extra + body;
    return true;
}

/* Every field of `m`, a structure of reader `rd`, as protobuf_c_message_pack() writes it.
 * False when `o` runs out of room (what was written is then to be discarded). */
static bool
write_msg(const ns_codec_t *c, unsigned rd, const ProtobufCMessage *m, out_t *o)
{
    const reader_t *r = &c->readers[rd];
    const uint8_t *base = (const uint8_t *)m;
    for (unsigned k = 0; k < r->n_order; k++) {
        const wr_field_t *f = &r->order[k];
        const uint8_t *member = base + f->off;
        uint64_t v;
        switch (f->type) {
        case PROTOBUF_C_TYPE_BOOL: {
            protobuf_c_boolean b;
            memcpy(&b, member, sizeof(b));
            v = b != 0;
            break;
        }
        case PROTOBUF_C_TYPE_UINT32: {
            uint32_t u;
            memcpy(&u, member, sizeof(u));
            v = u;
            break;
        }
        case PROTOBUF_C_TYPE_ENUM: { /* as int32: a negative value takes 10 bytes */
            int32_t i;
            memcpy(&i, member, sizeof(i));
            v = (uint64_t)(int64_t)i;
            break;
        }
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            memcpy(&v, member, sizeof(v));
            break;
        case PROTOBUF_C_TYPE_SINT64: {
            int64_t i;
            memcpy(&i, member, sizeof(i));
            v = (uint64_t)i << 1 ^ (uint64_t)(i >> 63); /* zigzag */
            break;
        }
        case PROTOBUF_C_TYPE_DOUBLE: {
            double d;
            memcpy(&d, member, sizeof(d));
            if (d == 0.0) /* protobuf-c leaves out -0.0 too */
                continue;
            memcpy(&v, &d, sizeof(v));
            break;
        }
        case PROTOBUF_C_TYPE_STRING: {
            const char *s;
            memcpy(&s, member, sizeof(s));
            if (s == NULL || s[0] == '\0')
                continue;
            size_t len = strlen(s);
            if (!out_room(o, f->tag_len + 10 + len))
                return false;
            out_bytes(o, f, s, len);
            continue;
        }
        case PROTOBUF_C_TYPE_BYTES: {
            ProtobufCBinaryData b;
            memcpy(&b, member, sizeof(b));
            if (b.len == 0)
                continue;
            if (!out_room(o, f->tag_len + 10 + b.len))
                return false;
            out_bytes(o, f, b.data, b.len);
            continue;
        }
        default: { /* PROTOBUF_C_TYPE_MESSAGE, repeated */
            size_t n;
            ProtobufCMessage *const *arr;
            memcpy(&n, base + f->qoff, sizeof(n));
            memcpy(&arr, member, sizeof(arr));
            for (size_t i = 0; i < n; i++)
                if (!write_prefixed(c, f->child, f->tag, f->tag_len, arr[i], o))
                    return false;
            continue;
        }
        }
        if (v == 0)
            continue;
        if (!out_room(o, (size_t)f->tag_len + 10))
            return false;
        memcpy(o->p + o->at, f->tag, f->tag_len);
        o->at += f->tag_len;
        if (f->type == PROTOBUF_C_TYPE_FIXED64 || f->type == PROTOBUF_C_TYPE_DOUBLE) {
            for (unsigned i = 0; i < 8; i++)
                o->p[o->at + i] = (uint8_t)(v >> (8 * i)); /* little-endian */
            o->at += 8;
        } else {
            out_varint(o, v);
        }
    }
    return true;
}

/* ---- decoding ----------------------------------------------------------------------------- */

static ns_codec_reject_t
batch_decode(ns_codec_t *c, const Netscope__FlowBatch *p, ns_msg_batch_t *b)
{
    if (p->seq == 0)
        return fail(c, NS_CODEC_E_RANGE, "batch seq is 0 (batches count from 1)");
    TRY(check_count(c, p->n_records, NS_CODEC_MAX_RECS, "records"));
    b->seq = p->seq;
    b->send_ns = p->send_ns;
    b->n_recs = (uint32_t)p->n_records;
    b->recs = NULL;
    if (p->n_records == 0)
        return NS_CODEC_OK;
    ns_flow_rec_t *recs = arena_array(&c->dec, p->n_records, sizeof(*recs));
    if (recs == NULL)
        return fail(c, NS_CODEC_E_ARENA, "the decode arena (%zu bytes) is full", c->dec.cap);
    for (size_t i = 0; i < p->n_records; i++) {
        ns_codec_reject_t why = rec_check(c, p->records[i]);
        if (why == NS_CODEC_OK)
            why = rec_from_pb(c, p->records[i], &recs[i]);
        if (why != NS_CODEC_OK)
            return within(c, why, "record", i);
    }
    b->recs = recs;
    return NS_CODEC_OK;
}

static ns_codec_reject_t
check_version(ns_codec_t *c, uint32_t version)
{
    if (version < NS_CODEC_VERSION_MIN || version > NS_CODEC_VERSION)
        return fail(c, NS_CODEC_E_VERSION, "protocol version %u (this build reads %u..%u)", version,
                    NS_CODEC_VERSION_MIN, NS_CODEC_VERSION);
    return NS_CODEC_OK;
}

/* Why bytes did not unpack: the arena ran out, or they are not the message. */
static ns_codec_reject_t
unpack_failed(ns_codec_t *c, size_t len, const char *name)
{
    if (c->dec.exhausted)
        return fail(c, NS_CODEC_E_ARENA,
                    "a %zu-byte message unpacks to more than the %zu-byte arena", len, c->dec.cap);
    return fail(c, NS_CODEC_E_MALFORMED, "a %zu-byte message is not a valid %s", len, name);
}

/* Size check and unpack: the envelope, or NULL with the reason in *why. */
static ProtobufCMessage *
unpack(ns_codec_t *c, const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
       ns_codec_reject_t *why)
{
    if (len > c->opts.max_msg_bytes) {
        *why = fail(c, NS_CODEC_E_OVERSIZE, "a %zu-byte message (at most %u)", len,
                    c->opts.max_msg_bytes);
        return NULL;
    }
    arena_rewind(&c->dec);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &c->dec_alloc, len, buf);
    if (m == NULL)
        *why = unpack_failed(c, len, desc->short_name);
    return m;
}

/* A FlowBatch body into c->msg.u.batch. NS_CODEC_E_MALFORMED (or E_ARENA) when the bytes do
 * not read; otherwise batch_decode()'s outcome for the same bytes. */
static ns_codec_reject_t
batch_read(ns_codec_t *c, ns_view_t body, size_t len, uint32_t version)
{
    wire_t w = {body, 0};
    uint64_t seq = 0, send_ns = 0;
    ns_flow_rec_t *recs = NULL, spare;
    size_t n = 0, cap = 0;
    ns_codec_reject_t held = NS_CODEC_OK;
    char held_error[sizeof(c->error)];
    rec_raw_t raw;
    while (wire_left(&w) > 0) {
        uint32_t tag_at = w.at, id, wt;
        ns_view_t val;
        bool ok;
        if (!wire_tag(&w, &id, &wt))
            goto malformed;
        switch (id) {
        case 1: /* seq */
            ok = wt == WIRE_VARINT && wire_varint(&w, &seq);
            break;
        case 2: /* send_ns */
            ok = wt == WIRE_I64 && rd_i64(&w, &send_ns);
            break;
        case FIELD_BATCH_RECORDS:
            if (wt != WIRE_LEN || !rd_view(&w, &val))
                goto malformed;
            if (n == 0 && recs == NULL) { /* size the array for every record */
                wire_t from = w;
                from.at = tag_at;
                cap = wire_count(from, id);
                if (cap <= NS_CODEC_MAX_RECS) {
                    recs = arena_array(&c->dec, cap, sizeof(*recs));
                    if (recs == NULL)
                        goto malformed;
                }
            }
            if (n == cap)
                goto malformed;
            /* Past the count limit the batch is rejected: its records are only read. */
            ns_flow_rec_t *r = recs != NULL ? &recs[n] : &spare;
            ok = rec_read(c, val, r, &raw);
            if (ok && held == NS_CODEC_OK && recs != NULL) {
                held = rec_finish(c, &raw, r);
                if (held != NS_CODEC_OK) {
                    within(c, held, "record", n);
                    memcpy(held_error, c->error, sizeof(held_error));
                }
            }
            n++;
            break;
        default:
            ok = wire_skip(&w, wt);
            break;
        }
        if (!ok)
            goto malformed;
    }
    TRY(check_version(c, version));
    c->msg.type = NS_MSG_BATCH;
    if (seq == 0)
        return fail(c, NS_CODEC_E_RANGE, "batch seq is 0 (batches count from 1)");
    TRY(check_count(c, n, NS_CODEC_MAX_RECS, "records"));
    if (held != NS_CODEC_OK) {
        memcpy(c->error, held_error, sizeof(c->error));
        return held;
    }
    ns_msg_batch_t *b = &c->msg.u.batch;
    b->seq = seq;
    b->send_ns = send_ns;
    b->n_recs = (uint32_t)n;
    b->recs = n > 0 ? recs : NULL;
    return NS_CODEC_OK;
malformed:
    return unpack_failed(c, len, netscope__agent_message__descriptor.short_name);
}

/* Read a batch envelope's body with the batch reader. */
static ns_codec_reject_t
read_batch(ns_codec_t *c, ns_view_t body, size_t len, uint32_t version)
{
    arena_rewind(&c->dec);
    c->stats.fast_batches++;
    c->msg.version = version;
    return batch_read(c, body, len, version);
}

/* Count the outcome; hand out the message only when it was accepted. */
static ns_codec_reject_t
decoded(ns_codec_t *c, ns_codec_reject_t why, size_t len, const ns_msg_t **out)
{
    if (c->dec.used > c->stats.arena_peak)
        c->stats.arena_peak = c->dec.used;
    if (why != NS_CODEC_OK) {
        c->stats.rejected++;
        c->stats.by_reason[why]++;
        *out = NULL;
        return why;
    }
    c->stats.messages++;
    c->stats.bytes += len;
    if (c->msg.type == NS_MSG_BATCH)
        c->stats.records += c->msg.u.batch.n_recs;
    c->error[0] = '\0';
    *out = &c->msg;
    return NS_CODEC_OK;
}

static ns_codec_reject_t
agent_body(ns_codec_t *c, const Netscope__AgentMessage *m, ns_msg_t *msg)
{
    TRY(check_version(c, m->version));
    switch (m->body_case) {
    case NETSCOPE__AGENT_MESSAGE__BODY_HELLO:
        msg->type = NS_MSG_HELLO;
        TRY(hello_check(c, m->hello));
        hello_from_pb(c, m->hello, &msg->u.hello);
        break;
    case NETSCOPE__AGENT_MESSAGE__BODY_BATCH:
        msg->type = NS_MSG_BATCH;
        TRY(batch_decode(c, m->batch, &msg->u.batch));
        break;
    case NETSCOPE__AGENT_MESSAGE__BODY_IFACE_STATS:
        msg->type = NS_MSG_IFACE_STATS;
        TRY(iface_stats_check(c, m->iface_stats));
        iface_stats_from_pb(c, m->iface_stats, &msg->u.iface_stats);
        break;
    case NETSCOPE__AGENT_MESSAGE__BODY_HEARTBEAT:
        msg->type = NS_MSG_HEARTBEAT;
        heartbeat_from_pb(m->heartbeat, &msg->u.heartbeat);
        break;
    case NETSCOPE__AGENT_MESSAGE__BODY_FILTER_RESULT:
        msg->type = NS_MSG_FILTER_RESULT;
        TRY(filter_result_check(c, m->filter_result));
        msg->u.filter_result.request_id = m->filter_result->request_id;
        msg->u.filter_result.ok = m->filter_result->ok;
        msg->u.filter_result.error = m->filter_result->error;
        break;
    case NETSCOPE__AGENT_MESSAGE__BODY_PACKETS:
        msg->type = NS_MSG_PACKETS;
        TRY(packets_check(c, m->packets));
        packets_from_pb(c, m->packets, &msg->u.packets);
        break;
    default:
        return fail(c, NS_CODEC_E_TYPE, "an agent message without a body this build knows");
    }
    if (c->dec.exhausted)
        return fail(c, NS_CODEC_E_ARENA, "the decode arena (%zu bytes) is full", c->dec.cap);
    return NS_CODEC_OK;
}

ns_codec_reject_t
ns_codec_decode_agent(ns_codec_t *c, const uint8_t *buf, size_t len, const ns_msg_t **out)
{
    memset(&c->msg, 0, sizeof(c->msg));
    ns_codec_reject_t why = NS_CODEC_OK;
    uint32_t version, body_id;
    ns_view_t body;
    if (c->fast && len <= c->opts.max_msg_bytes &&
        scan_envelope(buf, (uint32_t)len, &version, &body_id, &body) &&
        body_id == NETSCOPE__AGENT_MESSAGE__BODY_BATCH)
        return decoded(c, read_batch(c, body, len, version), len, out);
    const Netscope__AgentMessage *m = (const Netscope__AgentMessage *)unpack(
        c, &netscope__agent_message__descriptor, buf, len, &why);
    if (m != NULL) {
        c->msg.version = m->version;
        why = agent_body(c, m, &c->msg);
    }
    return decoded(c, why, len, out);
}

static ns_codec_reject_t
collector_body(ns_codec_t *c, const Netscope__CollectorMessage *m, ns_msg_t *msg)
{
    TRY(check_version(c, m->version));
    switch (m->body_case) {
    case NETSCOPE__COLLECTOR_MESSAGE__BODY_ACK:
        msg->type = NS_MSG_ACK;
        msg->u.ack.seq = m->ack->seq;
        break;
    case NETSCOPE__COLLECTOR_MESSAGE__BODY_SET_FILTER:
        msg->type = NS_MSG_SET_FILTER;
        TRY(check_str(c, m->set_filter->bpf_filter, NS_CODEC_FILTER_MAX, "bpf_filter"));
        msg->u.set_filter.request_id = m->set_filter->request_id;
        msg->u.set_filter.bpf_filter = m->set_filter->bpf_filter;
        break;
    case NETSCOPE__COLLECTOR_MESSAGE__BODY_GET_PACKETS:
        msg->type = NS_MSG_GET_PACKETS;
        TRY(get_packets_check(c, m->get_packets));
        get_packets_from_pb(m->get_packets, &msg->u.get_packets);
        break;
    default:
        return fail(c, NS_CODEC_E_TYPE, "a collector message without a body this build knows");
    }
    return NS_CODEC_OK;
}

ns_codec_reject_t
ns_codec_decode_collector(ns_codec_t *c, const uint8_t *buf, size_t len, const ns_msg_t **out)
{
    memset(&c->msg, 0, sizeof(c->msg));
    ns_codec_reject_t why = NS_CODEC_OK;
    const Netscope__CollectorMessage *m = (const Netscope__CollectorMessage *)unpack(
        c, &netscope__collector_message__descriptor, buf, len, &why);
    if (m != NULL) {
        c->msg.version = m->version;
        why = collector_body(c, m, &c->msg);
    }
    return decoded(c, why, len, out);
}

/* ---- the batch builder ---------------------------------------------------------------- */

static ns_err_t
builder_begin(builder_t *b, uint8_t *buf, size_t cap, uint64_t seq, uint64_t send_ns)
{
    b->open = false;
    if (buf == NULL || seq == 0 || cap <= NS_CODEC_BATCH_OVERHEAD || cap > NS_CODEC_MAX_MSG_LIMIT)
        return NS_EINVAL;
    b->buf = buf;
    b->cap = cap;
    b->end = NS_CODEC_BATCH_OVERHEAD;
    b->seq = seq;
    b->send_ns = send_ns;
    b->n = 0;
    b->open = true;
    return NS_OK;
}

static ns_err_t
builder_add(ns_codec_t *c, builder_t *b, const ns_flow_rec_t *rec)
{
    if (!b->open) {
        fail(c, NS_CODEC_E_TYPE, "no batch begun");
        return NS_EINVAL;
    }
    if (b->n == NS_CODEC_MAX_RECS)
        return NS_EFULL;
    arena_rewind(&c->enc);
    Netscope__FlowRecord p;
    ns_codec_reject_t why = rec_to_pb(c, rec, &p);
    if (why == NS_CODEC_OK)
        why = rec_check(c, &p);
    if (why != NS_CODEC_OK)
        return NS_EINVAL;
    static const uint8_t tag[1] = {FIELD_BATCH_RECORDS << 3 | WIRE_LEN};
    if (c->fast) {
        out_t o = {b->buf, b->end, b->cap};
        if (!write_prefixed(c, RD_RECORD, tag, sizeof(tag), &p.base, &o))
            goto full;
        b->end = o.at;
    } else {
        size_t size = netscope__flow_record__get_packed_size(&p);
        size_t need = sizeof(tag) + varint_len(size) + size;
        if (need > b->cap - b->end)
            goto full;
        uint8_t *at = b->buf + b->end;
        memcpy(at, tag, sizeof(tag));
        at += sizeof(tag);
        at += put_varint(at, size);
        netscope__flow_record__pack(&p, at);
        b->end += need;
    }
    b->n++;
    return NS_OK;

full:
    if (b->n == 0)
        fail(c, NS_CODEC_E_COUNT, "the record does not fit a %zu-byte batch", b->cap);
    return NS_EFULL;
}

/* Write the envelope in front of the records: AgentMessage{version, batch: FlowBatch{seq,
 * send_ns, records...}}. The header is at most NS_CODEC_BATCH_OVERHEAD bytes: version 2,
 * body tag 1, body length <= 4 (cap <= 64 MiB), seq <= 11, send_ns 9. */
static size_t
builder_finish(builder_t *b)
{
    if (!b->open)
        return 0;
    b->open = false;
    Netscope__FlowBatch fb = NETSCOPE__FLOW_BATCH__INIT;
    fb.seq = b->seq;
    fb.send_ns = b->send_ns;
    uint8_t fields[NS_CODEC_BATCH_OVERHEAD];
    size_t fields_len = netscope__flow_batch__pack(&fb, fields);
    size_t recs_len = b->end - NS_CODEC_BATCH_OVERHEAD;

    uint8_t hdr[NS_CODEC_BATCH_OVERHEAD + 8];
    size_t h = 0;
    h += put_varint(hdr + h, FIELD_VERSION << 3 | WIRE_VARINT);
    h += put_varint(hdr + h, NS_CODEC_VERSION);
    h += put_varint(hdr + h, (uint64_t)NETSCOPE__AGENT_MESSAGE__BODY_BATCH << 3 | WIRE_LEN);
    h += put_varint(hdr + h, fields_len + recs_len);
    memcpy(hdr + h, fields, fields_len);
    h += fields_len;
    memmove(b->buf + h, b->buf + NS_CODEC_BATCH_OVERHEAD, recs_len);
    memcpy(b->buf, hdr, h);
    return h + recs_len;
}

ns_err_t
ns_codec_batch_begin(ns_codec_t *c, uint8_t *buf, size_t cap, uint64_t seq, uint64_t send_ns)
{
    ns_err_t err = builder_begin(&c->batch, buf, cap, seq, send_ns);
    if (err != NS_OK)
        fail(c, NS_CODEC_E_RANGE, "a batch needs seq >= 1 and a buffer of %u..%u bytes",
             NS_CODEC_BATCH_OVERHEAD + 1, NS_CODEC_MAX_MSG_LIMIT);
    return err;
}

ns_err_t
ns_codec_batch_add(ns_codec_t *c, const ns_flow_rec_t *rec)
{
    ns_err_t err = builder_add(c, &c->batch, rec);
    /* Full while empty: no batch under this cap will ever take the record. */
    return err == NS_EFULL && c->batch.n == 0 ? NS_EINVAL : err;
}

ns_err_t
ns_codec_rec_encode(ns_codec_t *c, const ns_flow_rec_t *rec, uint8_t *out, size_t cap,
                    size_t *len)
{
    /* a builder whose records start at out[0]: the entry is what a batch would hold */
    builder_t b = {.buf = out, .cap = cap, .end = 0, .seq = 1, .n = 0, .open = true};
    ns_err_t err = builder_add(c, &b, rec);
    if (err != NS_OK)
        return err == NS_EFULL ? NS_EINVAL : err;
    *len = b.end;
    return NS_OK;
}

ns_err_t
ns_codec_batch_add_encoded(ns_codec_t *c, const uint8_t *entry, size_t len)
{
    builder_t *b = &c->batch;
    if (!b->open) {
        fail(c, NS_CODEC_E_TYPE, "no batch begun");
        return NS_EINVAL;
    }
    if (len == 0 || entry[0] != (FIELD_BATCH_RECORDS << 3 | WIRE_LEN)) {
        fail(c, NS_CODEC_E_MALFORMED, "not an encoded record entry");
        return NS_EINVAL;
    }
    if (b->n == NS_CODEC_MAX_RECS || len > b->cap - b->end) {
        if (b->n == 0) {
            fail(c, NS_CODEC_E_COUNT, "the record does not fit a %zu-byte batch", b->cap);
            return NS_EINVAL;
        }
        return NS_EFULL;
    }
    memcpy(b->buf + b->end, entry, len);
    b->end += len;
    b->n++;
    return NS_OK;
}

uint32_t
ns_codec_batch_count(const ns_codec_t *c)
{
    return c->batch.open ? c->batch.n : 0;
}

size_t
ns_codec_batch_finish(ns_codec_t *c)
{
    return builder_finish(&c->batch);
}

/* ---- encoding ----------------------------------------------------------------------------- */

static ns_err_t
encode_batch(ns_codec_t *c, const ns_msg_batch_t *m, uint8_t *out, size_t cap, size_t *len)
{
    builder_t b;
    if (m->n_recs > 0 && m->recs == NULL) {
        fail(c, NS_CODEC_E_RANGE, "%u records but no array", m->n_recs);
        return NS_EINVAL;
    }
    if (m->n_recs > NS_CODEC_MAX_RECS) {
        fail(c, NS_CODEC_E_COUNT, "%u records (at most %u)", m->n_recs, NS_CODEC_MAX_RECS);
        return NS_EINVAL;
    }
    if (builder_begin(&b, out, cap, m->seq, m->send_ns) != NS_OK) {
        if (m->seq == 0) {
            fail(c, NS_CODEC_E_RANGE, "batch seq is 0 (batches count from 1)");
            return NS_EINVAL;
        }
        return NS_EFULL; /* a buffer too small for even the envelope */
    }
    for (uint32_t i = 0; i < m->n_recs; i++) {
        ns_err_t err = builder_add(c, &b, &m->recs[i]);
        if (err == NS_EINVAL)
            within(c, NS_CODEC_E_RANGE, "record", i);
        if (err != NS_OK)
            return err;
    }
    *len = builder_finish(&b);
    return NS_OK;
}

/* Check, size and pack a filled envelope. */
static ns_err_t
pack(ns_codec_t *c, ns_codec_reject_t why, const ProtobufCMessage *m, uint8_t *out, size_t cap,
     size_t *len)
{
    if (why != NS_CODEC_OK)
        return NS_EINVAL;
    size_t size = protobuf_c_message_get_packed_size(m);
    if (size > cap) {
        fail(c, NS_CODEC_E_OVERSIZE, "a %zu-byte message does not fit %zu bytes", size, cap);
        return NS_EFULL;
    }
    *len = protobuf_c_message_pack(m, out);
    return NS_OK;
}

static ns_err_t
encode_agent(ns_codec_t *c, const ns_msg_t *m, uint8_t *out, size_t cap, size_t *len)
{
    Netscope__AgentMessage env = NETSCOPE__AGENT_MESSAGE__INIT;
    Netscope__Hello hello;
    Netscope__CaptureSettings capture;
    Netscope__InterfaceStats stats;
    Netscope__Heartbeat heartbeat;
    Netscope__FilterResult result;
    Netscope__Packets packets;
    ns_codec_reject_t why = NS_CODEC_OK;
    env.version = NS_CODEC_VERSION;
    switch (m->type) {
    case NS_MSG_HELLO:
        why = hello_to_pb(c, &m->u.hello, &hello, &capture);
        if (why == NS_CODEC_OK)
            why = hello_check(c, &hello);
        env.body_case = NETSCOPE__AGENT_MESSAGE__BODY_HELLO;
        env.hello = &hello;
        break;
    case NS_MSG_IFACE_STATS:
        why = iface_stats_to_pb(c, &m->u.iface_stats, &stats);
        if (why == NS_CODEC_OK)
            why = iface_stats_check(c, &stats);
        env.body_case = NETSCOPE__AGENT_MESSAGE__BODY_IFACE_STATS;
        env.iface_stats = &stats;
        break;
    case NS_MSG_HEARTBEAT:
        heartbeat_to_pb(&m->u.heartbeat, &heartbeat);
        env.body_case = NETSCOPE__AGENT_MESSAGE__BODY_HEARTBEAT;
        env.heartbeat = &heartbeat;
        break;
    case NS_MSG_FILTER_RESULT:
        netscope__filter_result__init(&result);
        result.request_id = m->u.filter_result.request_id;
        result.ok = m->u.filter_result.ok;
        result.error = str_of(m->u.filter_result.error);
        why = filter_result_check(c, &result);
        env.body_case = NETSCOPE__AGENT_MESSAGE__BODY_FILTER_RESULT;
        env.filter_result = &result;
        break;
    default: /* NS_MSG_PACKETS: the caller passes only agent types */
        why = packets_to_pb(c, &m->u.packets, &packets);
        if (why == NS_CODEC_OK)
            why = packets_check(c, &packets);
        env.body_case = NETSCOPE__AGENT_MESSAGE__BODY_PACKETS;
        env.packets = &packets;
        break;
    }
    return pack(c, why, &env.base, out, cap, len);
}

static ns_err_t
encode_collector(ns_codec_t *c, const ns_msg_t *m, uint8_t *out, size_t cap, size_t *len)
{
    Netscope__CollectorMessage env = NETSCOPE__COLLECTOR_MESSAGE__INIT;
    Netscope__Ack ack;
    Netscope__SetFilter set_filter;
    Netscope__GetPackets get_packets;
    ns_codec_reject_t why = NS_CODEC_OK;
    env.version = NS_CODEC_VERSION;
    switch (m->type) {
    case NS_MSG_ACK:
        netscope__ack__init(&ack);
        ack.seq = m->u.ack.seq;
        env.body_case = NETSCOPE__COLLECTOR_MESSAGE__BODY_ACK;
        env.ack = &ack;
        break;
    case NS_MSG_SET_FILTER:
        netscope__set_filter__init(&set_filter);
        set_filter.request_id = m->u.set_filter.request_id;
        set_filter.bpf_filter = str_of(m->u.set_filter.bpf_filter);
        why = check_str(c, set_filter.bpf_filter, NS_CODEC_FILTER_MAX, "bpf_filter");
        env.body_case = NETSCOPE__COLLECTOR_MESSAGE__BODY_SET_FILTER;
        env.set_filter = &set_filter;
        break;
    default: /* NS_MSG_GET_PACKETS: the caller passes only collector types */
        get_packets_to_pb(&m->u.get_packets, &get_packets);
        why = get_packets_check(c, &get_packets);
        env.body_case = NETSCOPE__COLLECTOR_MESSAGE__BODY_GET_PACKETS;
        env.get_packets = &get_packets;
        break;
    }
    return pack(c, why, &env.base, out, cap, len);
}

ns_err_t
ns_codec_encode(ns_codec_t *c, const ns_msg_t *m, uint8_t *out, size_t cap, size_t *len)
{
    c->error[0] = '\0';
    arena_rewind(&c->enc);
    switch (m->type) {
    case NS_MSG_BATCH:
        return encode_batch(c, &m->u.batch, out, cap, len);
    case NS_MSG_HELLO:
    case NS_MSG_IFACE_STATS:
    case NS_MSG_HEARTBEAT:
    case NS_MSG_FILTER_RESULT:
    case NS_MSG_PACKETS:
        return encode_agent(c, m, out, cap, len);
    case NS_MSG_ACK:
    case NS_MSG_SET_FILTER:
    case NS_MSG_GET_PACKETS:
        return encode_collector(c, m, out, cap, len);
    default:
        fail(c, NS_CODEC_E_TYPE, "message type %d is not one to encode", (int)m->type);
        return NS_EINVAL;
    }
}

/* flow_app_int.h - what flow_app.c (pool, slots, TCP reassembly) shares with the protocol
 * halves flow_http.c and flow_dns.c (not installed).
 *
 * Memory map: the pool owns three arrays sized at creation: `slots` (bookkeeping, one
 * app_slot_t per flow), `free_stack` (indices of free slots, LIFO) and `arena`, which gives
 * every slot `slot_bytes` bytes:
 *
 *   +------------------+------------------+----------------------------------------+
 *   | reasm dir 0 (R)  | reasm dir 1 (R)  | transactions: HTTP records or DNS ones |
 *   +------------------+------------------+----------------------------------------+
 *
 * A record is a fixed struct followed by its strings (each max_str_len + 1 bytes).
 */
#ifndef NETSCOPE_FLOW_APP_INT_H
#define NETSCOPE_FLOW_APP_INT_H

#include "netscope/cursor.h"
#include "netscope/decode.h"
#include "netscope/flow_app.h"

/* What a slot's TCP byte streams carry (set when the slot is taken). */
enum { MODE_NONE = 0, MODE_HTTP, MODE_DNS };

/* The service confirmed by a parsed message. */
enum { SVC_NONE = 0, SVC_HTTP, SVC_DNS };

/* Per-direction stream states. */
typedef enum {
    ST_MSG = 0,     /* at a message start: HTTP head, or DNS-over-TCP length prefix */
    ST_BODY,        /* body_left bytes of a Content-Length body, a chunk, or a skipped message */
    ST_CHUNK_SIZE,  /* a chunk-size line */
    ST_CHUNK_END,   /* the CRLF after chunk data */
    ST_TRAILER,     /* trailer lines after the last chunk, up to an empty line */
    ST_UNTIL_CLOSE, /* a body ended by the connection close, or a tunnel: never parsed again */
    ST_RESYNC,      /* lost track: wait for a segment that starts a message */
} app_st_t;

typedef struct {
    uint32_t next_seq;  /* sequence number of the next byte expected */
    uint32_t used;      /* bytes held in the reassembly buffer */
    uint64_t body_left; /* ST_BODY: bytes still to skip */
    uint64_t msg_ts_ns; /* when the first byte of the message being assembled arrived */
    uint32_t tx;        /* 1-based HTTP transaction the current body belongs to; 0: none */
    uint8_t st;         /* app_st_t */
    uint8_t kind;       /* ns_http_kind_t of the current message */
    bool chunked;       /* the current body is chunked */
    bool seq_valid;     /* next_seq is set */
    uint8_t oow_run;    /* consecutive out-of-window segments */
} app_dir_t;

typedef struct {
    bool in_use;
    uint8_t mode;    /* MODE_* */
    uint8_t service; /* SVC_* */
    app_dir_t d[2];
    uint32_t http_req_n;  /* requests seen (plus responses without one): = transactions */
    uint32_t http_resp_n; /* final responses seen */
    uint32_t dns_n;       /* DNS transactions seen */
    uint32_t dns_kept;    /* of those, kept */
    uint32_t dns_over_q;  /* queries beyond max_dns_tx */
    uint32_t dns_over_r;  /* responses attributed to those */
    uint32_t http_sent;   /* export marks: kept transactions already handed over */
    uint32_t dns_sent;
} app_slot_t;

/* HTTP record flags */
#define HTTP_HAS_REQ 0x01u
#define HTTP_HAS_RESP 0x02u
#define HTTP_TRUNC 0x04u
#define HTTP_CHUNK_REQ 0x08u
#define HTTP_CHUNK_RESP 0x10u
#define HTTP_METHOD_LEN 15u /* methods are short tokens; longer ones are cut (and flagged) */

typedef struct {
    uint64_t req_body, resp_body;
    uint64_t req_ts_ns, resp_ts_ns;
    uint32_t seq;
    uint16_t status;
    uint8_t flags;
    char method[HTTP_METHOD_LEN + 1];
    /* followed by host, uri, user_agent: max_str_len + 1 bytes each */
} http_rec_t;

/* DNS record flags */
#define DNS_HAS_QUERY 0x01u
#define DNS_ANSWERED 0x02u
#define DNS_TRUNC 0x04u
#define DNS_TCP 0x08u

typedef struct {
    uint64_t q_ts_ns, r_ts_ns;
    uint16_t id, qtype, rcode, ancount;
    uint8_t flags;
    uint8_t n_answers;
    uint8_t retries;
    ns_dns_answer_t ans[NS_APP_DNS_ANSWERS];
    /* followed by qname: max_str_len + 1 bytes */
} dns_rec_t;

struct ns_app_pool {
    ns_app_limits_t lim;
    size_t http_rec_size, dns_rec_size;
    size_t slot_bytes; /* arena bytes per slot */
    size_t bytes;      /* everything allocated */
    app_slot_t *slots;
    uint32_t *free_stack;
    uint32_t free_n;
    uint8_t *arena;
    ns_app_stats_t st;
};

/* ---- slot storage (flow_app.c) ---------------------------------------------------------- */

static inline uint32_t
app_slot_index(const ns_app_pool_t *p, const app_slot_t *s)
{
    return (uint32_t)(s - p->slots);
}

static inline uint8_t *
app_reasm(const ns_app_pool_t *p, const app_slot_t *s, unsigned dir)
{
    return p->arena + (size_t)app_slot_index(p, s) * p->slot_bytes +
           (size_t)dir * p->lim.reasm_bytes;
}

static inline uint8_t *
app_tx_area(const ns_app_pool_t *p, const app_slot_t *s)
{
    return p->arena + (size_t)app_slot_index(p, s) * p->slot_bytes +
           2u * (size_t)p->lim.reasm_bytes;
}

/* HTTP transaction `k` (1-based), or NULL when it is beyond max_http_tx. */
static inline http_rec_t *
app_http_rec(const ns_app_pool_t *p, const app_slot_t *s, uint32_t k)
{
    if (k == 0 || k > p->lim.max_http_tx)
        return NULL;
    return (http_rec_t *)(void *)(app_tx_area(p, s) + (size_t)(k - 1) * p->http_rec_size);
}

/* The strings after an HTTP record: 0 host, 1 uri, 2 user agent. */
static inline char *
app_http_str(const ns_app_pool_t *p, const http_rec_t *r, unsigned which)
{
    return (char *)(uintptr_t)((const uint8_t *)(r + 1) +
                               (size_t)which * ((size_t)p->lim.max_str_len + 1u));
}

/* Kept DNS transaction `i` (0-based). */
static inline dns_rec_t *
app_dns_rec(const ns_app_pool_t *p, const app_slot_t *s, uint32_t i)
{
    return (dns_rec_t *)(void *)(app_tx_area(p, s) + (size_t)i * p->dns_rec_size);
}

static inline char *
app_dns_qname(const dns_rec_t *r)
{
    return (char *)(uintptr_t)(const void *)(r + 1);
}

/* Copy `n` untrusted bytes at [at, at+n) of `c` into `dst` (cap + 1 bytes) as NUL-terminated
 * text of at most `cap` bytes: ASCII controls become '.', bytes that are not valid UTF-8
 * become '?', and a cut never splits a character, so the text is safe in JSON, CSV and logs.
 * Bytes outside the cursor are not read (the copy ends there). Returns true when cut. */
bool app_copy_text(char *dst, uint32_t cap, const ns_cur_t *c, uint32_t at, uint32_t n);

/* ---- protocol halves -------------------------------------------------------------------- */

/* HTTP (flow_http.c) */
/* True when `n` bytes at [at, ...) of `c` start an HTTP request or response (a known method
 * and a space, or "HTTP/"). */
bool app_http_starts(const ns_cur_t *c);
/* Parse what is in the direction's buffer [0, used) from the message state machine; returns
 * the bytes consumed (the caller compacts). Sets d->st. */
uint32_t app_http_consume(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf,
                          uint32_t used, uint64_t now_ns);
/* The buffer is full and the head still does not end: record what was parsed, then resync. */
void app_http_overflow(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf,
                       uint32_t used);
/* A whole message in one datagram (HTTP over UDP: SSDP). */
void app_http_datagram(ns_app_pool_t *p, app_slot_t *s, const ns_pkt_t *pkt, const uint8_t *frame,
                       uint64_t now_ns);
/* Body bytes that were never seen (a gap inside a body): account them. */
void app_http_body_add(ns_app_pool_t *p, app_slot_t *s, app_dir_t *d, uint64_t n);

/* DNS (flow_dns.c) */
/* Record a parsed DNS message (query or response) at time `ts_ns`. */
void app_dns_message(ns_app_pool_t *p, app_slot_t *s, const ns_dns_t *m, uint64_t ts_ns, bool tcp);
/* DNS over TCP: consume length-prefixed messages from the buffer; returns bytes consumed. */
uint32_t app_dns_consume(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf,
                         uint32_t used, uint64_t now_ns);

#endif /* NETSCOPE_FLOW_APP_INT_H */

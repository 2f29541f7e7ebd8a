/* flow_app.h - per-flow application-layer state: HTTP and DNS transactions.
 *
 * The flow table (flow-core) owns flows; this module owns what the flows said at the
 * application layer. Each flow that carries payload gets one slot of a pool, identified by a
 * small integer handle that the flow table stores in its flow record (0 = no slot yet). The
 * flow table feeds every packet of the flow that has L4 payload, or whose pkt->app is set, to
 * ns_app_update(); when the flow ends it calls ns_app_release().
 *
 * What a slot holds:
 *   - the flow's service ("http" or "dns"), decided from decoded payload, not from ports;
 *   - up to max_http_tx HTTP transactions (method, host, URI, status, user agent, request and
 *     response body lengths, request-to-response latency, position on the connection);
 *   - up to max_dns_tx DNS transactions (id, query name and type, rcode, answers with TTLs,
 *     query-to-answer latency, or "unanswered");
 *   - for TCP, one small in-order reassembly buffer per direction (reasm_bytes each), so that
 *     HTTP headers and DNS-over-TCP messages split across segments are parsed whole.
 *
 * Design: every byte is allocated by ns_app_pool_new(), up front; ns_app_update() never
 * allocates. When all slots are in use a new flow gets no slot (its handle stays 0, it is
 * counted in ns_app_stats_t.flows_refused) and is retried on its next packet. Strings are
 * copied into fixed-size fields and cut at max_str_len bytes (the cut is flagged). Time is an
 * input (now_ns); the module has no clock and no globals. Not thread-safe: one pool per thread.
 *
 * Caveats:
 *   - Reassembly is in order only: a segment that starts beyond the next expected byte (a
 *     gap, e.g. a lost packet) is not buffered; the direction skips to it, counts the skipped
 *     bytes (bytes_gap) and resynchronises on the next message start it can recognise.
 *   - Chunked HTTP bodies are followed chunk by chunk (chunk-size lines, trailers) as long as
 *     the stream stays in order; the body length reported is the sum of chunk sizes.
 *   - Latency is first byte of the request to first byte of the response (per message, as
 *     seen by the capture); DNS latency is query to response datagram (or first segment).
 *   - Transactions beyond max_http_tx / max_dns_tx are counted, not kept. SSDP (HTTP over
 *     UDP port 1900) messages count as HTTP transactions of their flow.
 *   - DNS queries and responses pair on id and question type; UDP resends of an open query
 *     are counted as its `retries`, duplicate responses are ignored.
 *   - HTTP/2, TLS and DNS over TLS/QUIC are not parsed; after 101 Switching Protocols or a
 *     successful CONNECT the connection is treated as an opaque tunnel.
 */
#ifndef NETSCOPE_FLOW_APP_H
#define NETSCOPE_FLOW_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/pkt.h"

typedef struct ns_app_pool ns_app_pool_t;

typedef struct {
    uint32_t max_flows;   /* slots (flows with application state at the same time) */
    uint16_t max_http_tx; /* HTTP transactions kept per flow (later ones are counted only) */
    uint16_t max_dns_tx;  /* DNS transactions kept per flow (later ones are counted only) */
    uint16_t max_str_len; /* bytes kept of each string (host, URI, qname, ...), excl. NUL */
    uint32_t reasm_bytes; /* TCP reassembly buffer per flow direction */
} ns_app_limits_t;

/* Defaults: 16384 flows, 8 HTTP and 8 DNS transactions per flow, 128-byte strings, 2048 bytes
 * of reassembly per direction: about 8 KiB per slot, 128 MiB of address space for the pool
 * (calloc'd: pages of slots never used stay untouched, and freed slots are reused LIFO, so
 * resident memory follows the peak number of concurrent HTTP/DNS flows). */
#define NS_APP_DEFAULT_MAX_FLOWS 16384u
#define NS_APP_DEFAULT_MAX_HTTP_TX 8u
#define NS_APP_DEFAULT_MAX_DNS_TX 8u
#define NS_APP_DEFAULT_MAX_STR_LEN 128u
#define NS_APP_DEFAULT_REASM_BYTES 2048u

/* Upper bounds accepted by ns_app_pool_new() (larger values are clamped to them). */
#define NS_APP_MAX_STR_LEN 4096u
#define NS_APP_MAX_REASM_BYTES 65536u
#define NS_APP_MAX_TX 4096u
#define NS_APP_MIN_REASM_BYTES 64u
/* Answers kept per DNS transaction (of the NS_DNS_MAX_ANSWERS the decoder keeps); the rest
 * are counted in ns_app_dns_tx_t.ancount. */
#define NS_APP_DNS_ANSWERS 4u

/* Fill `lim` with the defaults above. */
void ns_app_limits_default(ns_app_limits_t *lim);

/* Create a pool sized by `lim` (NULL = defaults). All memory is allocated here, up front:
 * per slot 2 * reasm_bytes + max(max_http_tx * (3 * (max_str_len + 1) + 56),
 * max_dns_tx * (max_str_len + 1 + 344)) bytes plus ~150 bytes of bookkeeping (a flow keeps
 * either HTTP or DNS transactions, so the two share storage); see ns_app_pool_bytes(). Zero
 * limits are replaced by the defaults, oversize ones clamped (NS_APP_MAX_*), reasm_bytes
 * raised to NS_APP_MIN_REASM_BYTES. Returns NULL when memory is short or the size would
 * overflow. The caller owns the pool; free it with ns_app_pool_destroy(). */
ns_app_pool_t *ns_app_pool_new(const ns_app_limits_t *lim);

/* Free the pool and every slot in it; NULL-safe; sets *self_p to NULL. Handles into the pool
 * become invalid. */
void ns_app_pool_destroy(ns_app_pool_t **self_p);

/* Bytes the pool allocated (for logs and capacity planning). */
size_t ns_app_pool_bytes(const ns_app_pool_t *p);

/* The limits in effect (after defaults and clamping). */
const ns_app_limits_t *ns_app_pool_limits(const ns_app_pool_t *p);

/* Feed one packet of a flow. Call it for every packet with L4 payload (payload_len > 0) and
 * for any packet with pkt->app set, in capture order.
 *   handle: the flow's slot; 0 until the pool assigns one. On the first packet that looks like
 *           HTTP or DNS (pkt->app set, or TCP payload that parses as an HTTP message, or
 *           a DNS-over-TCP port) a slot is taken and *handle set; if the pool is full *handle
 *           stays 0, the flow is counted as refused, and later packets try again. Packets of
 *           flows that never look like HTTP/DNS take no slot.
 *   pkt:    the decoded packet (ip_proto, seq, tcp_flags, payload_off/cap, app, dns, http).
 *   frame:  the bytes pkt's offsets refer to (the frame passed to ns_decode_frame).
 *   dir:    0 = originator -> responder, 1 = responder -> originator (as the flow table sees
 *           it; HTTP requests are recognised in either direction).
 *   now_ns: the packet's timestamp; latencies are differences of these.
 * Never allocates; reads only frame[payload_off, payload_off + payload_cap). */
void ns_app_update(ns_app_pool_t *p, uint32_t *handle, const ns_pkt_t *pkt, const uint8_t *frame,
                   unsigned dir, uint64_t now_ns);

/* The flow's service: "http", "dns", or NULL when none was recognised (or handle is 0).
 * Static string. */
const char *ns_app_service(const ns_app_pool_t *p, uint32_t handle);

/* The flow ended: its slot returns to the pool and *handle becomes 0. NULL-safe for `handle`
 * and a no-op when *handle is 0. Call it after the last ns_app_to_json()/accessor use. */
void ns_app_release(ns_app_pool_t *p, uint32_t *handle);

/* ---- reading a flow's transactions (for JSON, CSV and tests) ------------------------- */

/* Transactions seen on the flow, including those beyond the per-flow limit. */
uint32_t ns_app_http_count(const ns_app_pool_t *p, uint32_t handle);
uint32_t ns_app_dns_count(const ns_app_pool_t *p, uint32_t handle);

/* Transactions kept (<= the limits); index them with the getters below. */
uint32_t ns_app_http_kept(const ns_app_pool_t *p, uint32_t handle);
uint32_t ns_app_dns_kept(const ns_app_pool_t *p, uint32_t handle);

/* DNS queries of the flow still without an answer (counted over all, not only kept). */
uint32_t ns_app_dns_unanswered(const ns_app_pool_t *p, uint32_t handle);

/* One HTTP transaction. Strings are NUL-terminated, at most max_str_len bytes ("" when
 * absent); they point into the pool and stay valid until the slot is released or the next
 * ns_app_update() on the same flow. */
typedef struct {
    uint32_t seq; /* 1-based position on the connection (keep-alive index) */
    const char *method;
    const char *host;
    const char *uri;
    const char *user_agent;
    bool truncated;   /* some string was cut at max_str_len */
    bool has_request; /* false for a response whose request we did not see */
    bool has_response;
    bool chunked_req, chunked_resp; /* Transfer-Encoding: chunked */
    uint16_t status;                /* 0 until the response line is seen */
    uint64_t req_body_len;          /* bytes (Content-Length, or sum of chunk sizes) */
    uint64_t resp_body_len;
    uint64_t req_ts_ns;  /* first byte of the request seen */
    uint64_t resp_ts_ns; /* first byte of the response seen (0 if none) */
    int64_t latency_ns;  /* resp_ts_ns - req_ts_ns; -1 when either is missing */
} ns_app_http_tx_t;

/* One DNS transaction: a query and its response, matched by id (and question). */
typedef struct {
    uint16_t id;
    const char *qname; /* NUL-terminated, <= max_str_len bytes */
    uint16_t qtype;
    bool truncated; /* qname cut at max_str_len */
    bool has_query; /* false for a response whose query we did not see */
    bool answered;  /* a response was seen */
    bool tcp;
    uint16_t rcode;    /* valid when answered */
    uint8_t n_answers; /* answers kept (<= NS_APP_DNS_ANSWERS) */
    uint8_t retries;   /* the same query seen again before an answer (UDP resends) */
    uint16_t ancount;  /* answer count announced by the response */
    const ns_dns_answer_t *answers;
    uint64_t query_ts_ns;
    uint64_t resp_ts_ns;
    int64_t latency_ns; /* resp_ts_ns - query_ts_ns; -1 when unanswered */
} ns_app_dns_tx_t;

/* Fill `out` with kept transaction `i` (0 <= i < ns_app_*_kept()); false when out of range. */
bool ns_app_http_get(const ns_app_pool_t *p, uint32_t handle, uint32_t i, ns_app_http_tx_t *out);
bool ns_app_dns_get(const ns_app_pool_t *p, uint32_t handle, uint32_t i, ns_app_dns_tx_t *out);

/* Export marks (flow_engine.h): how many of the flow's kept HTTP / DNS transactions were
 * already handed over in a record; 0 for handle 0. ns_app_mark_sent() moves them (never past
 * what is kept, never back). */
uint32_t ns_app_http_sent(const ns_app_pool_t *p, uint32_t handle);
uint32_t ns_app_dns_sent(const ns_app_pool_t *p, uint32_t handle);
void ns_app_mark_sent(ns_app_pool_t *p, uint32_t handle, uint32_t http_upto, uint32_t dns_upto);

/* ---- pool statistics -------------------------------------------------------------- */

typedef struct {
    uint32_t slots_total; /* max_flows */
    uint32_t slots_in_use;
    uint32_t slots_peak;      /* highest slots_in_use seen */
    uint64_t flows_refused;   /* times a flow wanted a slot while the pool was full */
    uint64_t bytes_dup;       /* TCP bytes dropped as already seen (retransmissions) */
    uint64_t bytes_gap;       /* TCP bytes skipped over because of gaps (lost segments) */
    uint64_t bytes_overflow;  /* bytes dropped because a reassembly buffer was full */
    uint64_t http_tx_dropped; /* HTTP transactions beyond max_http_tx (counted, not kept) */
    uint64_t dns_tx_dropped;  /* DNS transactions beyond max_dns_tx */
    uint64_t bytes_resync;    /* TCP bytes dropped while looking for the next message start
                               * after a gap, an overflow or a parse error */
    uint64_t segments_oow;    /* TCP segments ignored as far outside the window */
    uint64_t parse_errors;    /* HTTP/DNS messages that did not parse */
} ns_app_stats_t;

/* Copy the pool's counters into `out`. */
void ns_app_pool_stats(const ns_app_pool_t *p, ns_app_stats_t *out);

#endif /* NETSCOPE_FLOW_APP_H */

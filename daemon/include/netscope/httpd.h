/* httpd.h - a small HTTP server for the daemons' APIs and /metrics (libmicrohttpd's door).
 *
 * The only module that includes <microhttpd.h>. The owner gives a handler; the server calls
 * it on one of its threads for every request that passed the checks below, with the request
 * as plain values (method, the RAW path as sent, the raw query string for the owner's own
 * parser, the Accept and Authorization headers, the client's address) and a response to fill
 * (status, content type, body, a few extra headers).
 *
 * What the server decides before the handler runs, in this order:
 *   1. size: request line + headers (+ a declared body) larger than opts.max_request -> 413;
 *   2. auth: with a token, "Authorization: Bearer <token>" is required: missing -> 401 (with
 *      WWW-Authenticate), wrong -> 403; compared in constant time; targets opts.public_fn
 *      says are public skip this;
 *   3. readiness: until ns_httpd_set_ready(), 503 {"error":"starting"}.
 * Every response carries X-Content-Type-Options: nosniff, a strict Content-Security-Policy,
 * Referrer-Policy: no-referrer and Cache-Control: no-store (a handler may replace the last).
 * Responses are counted by status for /metrics (ns_httpd_status_counts()).
 *
 * Binding: "ADDR:PORT" with an IPv4 literal or "[IPv6]:PORT"; names are not resolved. A
 * non-loopback address needs a token or an explicit no_auth: ns_httpd_start() refuses
 * otherwise, with a sentence saying so.
 *
 * Design: libmicrohttpd with its own threads (epoll, opts.threads of them), per-connection
 * memory bounded by max_request, connection and per-client limits enforced at accept (a
 * connection over a limit is closed at once), idle connections closed after idle_timeout_s.
 * The raw request target comes from MHD's URI log callback, so the handler sees the path
 * exactly as sent (no decoding by the library): "%2e%2e" is the handler's to refuse.
 */
#ifndef NETSCOPE_HTTPD_H
#define NETSCOPE_HTTPD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_HTTPD_MAX_CONNECTIONS_DEFAULT 256u
#define NS_HTTPD_PER_CLIENT_DEFAULT 32u
#define NS_HTTPD_IDLE_TIMEOUT_DEFAULT_S 30u
#define NS_HTTPD_MAX_REQUEST_DEFAULT (64u * 1024u)
#define NS_HTTPD_THREADS_DEFAULT 2u
#define NS_HTTPD_EXTRA_HEADERS 4u
#define NS_HTTPD_CLIENT_MAX 64u /* "ADDR" or "[ADDR]" text, NUL included */

typedef struct {
    const char *listen;       /* "ADDR:PORT", "[ADDR]:PORT"; port 0: any free one */
    const char *token;        /* bearer token; NULL or "": none */
    bool no_auth;             /* allow a non-loopback bind without a token */
    unsigned max_connections; /* 0: default */
    unsigned per_client;      /* connections from one address; 0: default */
    unsigned idle_timeout_s;  /* 0: default */
    size_t max_request;       /* bytes of request line + headers + body; 0: default */
    unsigned threads;         /* 0: default */
    /* Requests whose raw target (path?query) this says true for skip the token check (the
     * owner's public files, e.g. a web UI that must load before it can send a token). NULL:
     * every request needs the token. */
    bool (*public_fn)(const char *target);
} ns_httpd_opts_t;

/* A request as the handler sees it; valid during the call. */
typedef struct {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* raw request path, not decoded, without the query */
    const char *query;         /* raw query string after '?', "" when none */
    const char *accept;        /* Accept header, "" when absent */
    const char *authorization; /* Authorization header, "" when absent */
    char client[NS_HTTPD_CLIENT_MAX]; /* the peer's address as text */
} ns_httpd_req_t;

/* A response the handler fills. The body is a growable buffer the server owns. */
typedef struct {
    int status;                /* default 200 */
    char content_type[64];     /* default "application/json" */
    char *body;
    size_t len, cap;
    bool oom;                  /* an append failed: the server answers 500 instead */
    const char *csp;           /* replaces the default Content-Security-Policy (NULL: the
                                * default); not copied: must outlive the response */
    unsigned n_headers;
    struct {
        char name[32];
        char value[128];
    } headers[NS_HTTPD_EXTRA_HEADERS];
} ns_httpd_resp_t;

typedef void (*ns_httpd_handler_fn)(void *ud, const ns_httpd_req_t *req, ns_httpd_resp_t *resp);

typedef struct ns_httpd ns_httpd_t;

/* Fill `o` with the defaults (listen NULL: the caller must set it). */
void ns_httpd_opts_default(ns_httpd_opts_t *o);

/* Check `o` without binding: the address parses, and a non-loopback one has a token or
 * no_auth. False with a sentence. */
bool ns_httpd_opts_check(const ns_httpd_opts_t *o, char *errbuf, size_t errlen);

/* Bind and start serving with `fn(ud, ...)` as handler (not ready: 503 until
 * ns_httpd_set_ready()). Strings of `o` are copied. Returns a new server owned by the caller,
 * or NULL with a sentence in errbuf (bad address, refused bind, address in use). */
ns_httpd_t *ns_httpd_start(const ns_httpd_opts_t *o, ns_httpd_handler_fn fn, void *ud,
                           char *errbuf, size_t errlen);

/* Stop serving (in-flight requests finish), free, NULL the pointer. NULL-safe. */
void ns_httpd_stop(ns_httpd_t **self_p);

/* Mark the server ready: requests reach the handler from now on. */
void ns_httpd_set_ready(ns_httpd_t *self, bool ready);

/* The port bound (useful with port 0). */
uint16_t ns_httpd_port(const ns_httpd_t *self);

/* Responses sent by status: calls fn for each status answered at least once, ascending.
 * Thread-safe. */
void ns_httpd_status_counts(const ns_httpd_t *self,
                            void (*fn)(void *ud, int status, uint64_t count), void *ud);

/* ---- responses (pure: usable without a server, e.g. by unit tests) ------------------------ */

/* An empty 200 application/json response. */
void ns_httpd_resp_init(ns_httpd_resp_t *r);
/* Free the body (the struct is the caller's). */
void ns_httpd_resp_fini(ns_httpd_resp_t *r);
/* Forget the body, keep its memory. */
void ns_httpd_resp_reset(ns_httpd_resp_t *r);
/* Append bytes / formatted text to the body (sets oom on failure). */
void ns_httpd_resp_append(ns_httpd_resp_t *r, const void *data, size_t len);
void ns_httpd_resp_printf(ns_httpd_resp_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append `s` as a JSON string literal (quotes included; control characters escaped; bytes
 * that are not valid UTF-8 become U+FFFD, so the output is always valid JSON text). */
void ns_httpd_resp_json_str(ns_httpd_resp_t *r, const char *s);
/* Add a header (false when the table is full or the text too long). */
bool ns_httpd_resp_header(ns_httpd_resp_t *r, const char *name, const char *value);
/* Replace the response with the error {"error": msg, "parameter": param} (param NULL:
 * left out) and status `status`. */
void ns_httpd_resp_error(ns_httpd_resp_t *r, int status, const char *msg, const char *param);

/* Constant-time comparison of two NUL-terminated strings (time depends on lengths only). */
bool ns_httpd_token_eq(const char *given, const char *expected);

/* Parse "ADDR:PORT" / "[ADDR]:PORT" (IP literals only). Fills family (4 or 6), the 16
 * address bytes (IPv4 in the first 4) and the port; `loopback` says whether the address is
 * 127.0.0.0/8 or ::1. False for anything else. */
bool ns_httpd_parse_listen(const char *s, int *family, uint8_t addr[16], uint16_t *port,
                           bool *loopback);

#endif /* NETSCOPE_HTTPD_H */

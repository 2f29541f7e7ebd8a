/* flow_http.c - HTTP/1.x transactions of a flow, from its reassembled byte streams.
 *
 * Spec: RFC 9112 (message framing: section 6.3 decides where a body ends), RFC 9110.
 *
 * Each direction runs a small message state machine over its reassembly buffer:
 *
 *   ST_MSG --head--> ST_BODY (Content-Length) ---------------------------> ST_MSG
 *                \-> ST_CHUNK_SIZE <-> ST_BODY -> ST_CHUNK_END --size 0--> ST_TRAILER -> ST_MSG
 *                \-> ST_UNTIL_CLOSE (response without a length, 101, CONNECT 2xx)
 *
 * The head is parsed by the decoder's ns_http_parse() over the buffer; bodies are only
 * counted. Chunked bodies are followed chunk by chunk (chunk extensions ignored, trailers
 * skipped), and their length is the sum of the chunk sizes. Requests and responses are paired
 * in order (HTTP/1.1 pipelining answers in request order): the n-th final response belongs to
 * the n-th request, whichever direction carries the requests; 1xx interim responses (but 101)
 * are skipped. A response with no request seen (capture started mid-connection) opens a
 * transaction of its own.
 */
#include <string.h>

#include "flow_app_int.h"

#define CHUNK_SIZE_MAX_DIGITS 15u /* 2^60: no real chunk is larger */

/* ---- helpers ---------------------------------------------------------------------------- */

static uint8_t
lower(uint8_t b)
{
    return b >= 'A' && b <= 'Z' ? (uint8_t)(b + ('a' - 'A')) : b;
}

/* True when [at, at+n) of `c` equals lower-case `s` ignoring case. */
static bool
eq_nocase(const ns_cur_t *c, uint32_t at, uint32_t n, const char *s)
{
    uint32_t k = 0;
    for (; k < n && s[k]; k++)
        if (lower(ns_cur_at(c, at + k)) != (uint8_t)s[k])
            return false;
    return k == n && s[k] == '\0';
}

/* Does the head [start, start+head_len) of `c` carry "Transfer-Encoding: ...chunked"? */
static bool
head_is_chunked(const ns_cur_t *c, uint32_t start, uint32_t head_len)
{
    static const char name[] = "transfer-encoding";
    static const char tok[] = "chunked";
    uint32_t end = start + head_len;
    if (end < start || end > c->end)
        end = c->end;
    uint32_t at = ns_cur_find(c, start, '\n') + 1; /* skip the start line */
    while (at < end) {
        uint32_t lf = ns_cur_find(c, at, '\n');
        if (lf > end)
            lf = end;
        uint32_t colon = at;
        while (colon < lf && ns_cur_at(c, colon) != ':')
            colon++;
        if (colon < lf && eq_nocase(c, at, colon - at, name)) {
            /* The value is a list; chunked is the last coding when present (RFC 9112 6.1). */
            for (uint32_t i = colon + 1; i + (sizeof(tok) - 1) <= lf; i++)
                if (eq_nocase(c, i, sizeof(tok) - 1, tok))
                    return true;
        }
        at = lf + 1;
    }
    return false;
}

/* Start transaction `k`: a zeroed record, or NULL (counted) beyond max_http_tx. */
static http_rec_t *
tx_new(ns_app_pool_t *p, app_slot_t *s, uint32_t k)
{
    http_rec_t *r = app_http_rec(p, s, k);
    if (r == NULL) {
        p->st.http_tx_dropped++;
        return NULL;
    }
    memset(r, 0, p->http_rec_size);
    r->seq = k;
    return r;
}

static void
copy_span(const ns_app_pool_t *p, http_rec_t *r, char *dst, uint32_t cap, const ns_cur_t *m,
          ns_span_t sp)
{
    (void)p;
    if (app_copy_text(dst, cap, m, sp.off, sp.len))
        r->flags |= HTTP_TRUNC;
}

static bool
method_is(const http_rec_t *r, const char *m)
{
    return r != NULL && strcmp(r->method, m) == 0;
}

/* Both directions become opaque (a tunnel after 101 or CONNECT): nothing more to parse. */
static void
tunnel(ns_app_pool_t *p, app_slot_t *s)
{
    for (unsigned i = 0; i < 2; i++) {
        p->st.bytes_resync += s->d[i].used;
        s->d[i].used = 0;
        s->d[i].st = ST_UNTIL_CLOSE;
        s->d[i].tx = 0;
        s->d[i].chunked = false;
    }
}

/* ---- one message head -------------------------------------------------------------------- */

/* Record the head `h` parsed from `m` (whose message starts at `start`) on direction `dir`,
 * and set the direction up for the body that follows. */
static void
http_message(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const ns_cur_t *m, uint32_t start,
             const ns_http_t *h)
{
    app_dir_t *d = &s->d[dir];
    uint32_t cap = p->lim.max_str_len;
    bool chunked = h->headers_complete && head_is_chunked(m, start, h->header_len);
    if (s->service == SVC_NONE)
        s->service = SVC_HTTP;
    d->chunked = false;
    d->kind = h->kind;
    d->body_left = 0;
    d->st = ST_MSG;

    if (h->kind == NS_HTTP_REQUEST) {
        uint32_t k = ++s->http_req_n;
        http_rec_t *r = tx_new(p, s, k);
        if (r) {
            r->flags |= HTTP_HAS_REQ | (chunked ? HTTP_CHUNK_REQ : 0u);
            r->req_ts_ns = d->msg_ts_ns;
            copy_span(p, r, r->method, HTTP_METHOD_LEN, m, h->method);
            copy_span(p, r, app_http_str(p, r, 0), cap, m, h->host);
            copy_span(p, r, app_http_str(p, r, 1), cap, m, h->uri);
            copy_span(p, r, app_http_str(p, r, 2), cap, m, h->user_agent);
        }
        d->tx = k;
        /* RFC 9112 6.3: a request without Transfer-Encoding or Content-Length has no body. */
        if (chunked) {
            d->chunked = true;
            d->st = ST_CHUNK_SIZE;
        } else if (h->content_length > 0) {
            d->body_left = (uint64_t)h->content_length;
            d->st = ST_BODY;
        }
        return;
    }

    if (h->status >= 100 && h->status < 200 && h->status != 101) {
        d->tx = 0; /* interim response: the final one follows */
        return;
    }
    uint32_t k = ++s->http_resp_n;
    http_rec_t *r;
    if (k > s->http_req_n) {
        s->http_req_n = k; /* a response to a request we did not see */
        r = tx_new(p, s, k);
    } else {
        r = app_http_rec(p, s, k);
    }
    if (r) {
        r->flags |= HTTP_HAS_RESP | (chunked ? HTTP_CHUNK_RESP : 0u);
        r->status = h->status;
        r->resp_ts_ns = d->msg_ts_ns;
    }
    d->tx = k;
    if (h->status == 101 || (method_is(r, "CONNECT") && h->status / 100 == 2)) {
        tunnel(p, s);
        return;
    }
    /* RFC 9112 6.3: responses to HEAD, 204 and 304 have no body; then chunked wins over
     * Content-Length; without either the body runs to the connection close. */
    if (method_is(r, "HEAD") || h->status == 204 || h->status == 304)
        return;
    if (chunked) {
        d->chunked = true;
        d->st = ST_CHUNK_SIZE;
    } else if (h->content_length >= 0) {
        d->body_left = (uint64_t)h->content_length;
        d->st = h->content_length > 0 ? ST_BODY : ST_MSG;
    } else {
        d->st = ST_UNTIL_CLOSE;
    }
}

/* ---- entry points from flow_app.c ------------------------------------------------------- */

bool
app_http_starts(const ns_cur_t *c)
{
    /* Only the start line's first token matters: look at 16 bytes at most. */
    ns_cur_t m = *c;
    (void)ns_cur_narrow(&m, 16);
    ns_http_t h;
    return ns_http_parse(&m, &h, NULL) != NS_PARSE_UNSUPPORTED;
}

void
app_http_body_add(ns_app_pool_t *p, app_slot_t *s, app_dir_t *d, uint64_t n)
{
    http_rec_t *r = app_http_rec(p, s, d->tx);
    if (r == NULL)
        return;
    if (d->kind == NS_HTTP_REQUEST)
        r->req_body += n;
    else
        r->resp_body += n;
}

/* Lost track: drop the rest of the buffer and wait for a message start. */
static uint32_t
resync(ns_app_pool_t *p, app_dir_t *d, uint32_t off, uint32_t used)
{
    p->st.parse_errors++;
    p->st.bytes_resync += used - off;
    d->st = ST_RESYNC;
    return used;
}

uint32_t
app_http_consume(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf, uint32_t used,
                 uint64_t now_ns)
{
    app_dir_t *d = &s->d[dir];
    ns_cur_t c;
    ns_cur_init(&c, buf, used);
    uint32_t off = 0;
    /* Every pass consumes at least one byte or returns; the counter is a second bound. */
    for (uint32_t pass = 0; off < used && pass <= used; pass++) {
        switch ((app_st_t)d->st) {
        case ST_MSG: {
            ns_cur_t m;
            ns_cur_init(&m, buf + off, used - off);
            ns_http_t h;
            ns_parse_rc_t rc = ns_http_parse(&m, &h, NULL);
            if (rc == NS_PARSE_TRUNCATED)
                return off; /* the head goes on in a later segment */
            if (rc != NS_PARSE_OK || !h.headers_complete || h.header_len == 0 ||
                h.header_len > used - off)
                return resync(p, d, off, used);
            http_message(p, s, dir, &m, 0, &h);
            off += h.header_len;
            if (d->st == ST_MSG)
                d->msg_ts_ns = now_ns; /* the next message starts in this buffer */
            break;
        }
        case ST_BODY: {
            uint32_t n = d->body_left < used - off ? (uint32_t)d->body_left : used - off;
            app_http_body_add(p, s, d, n);
            d->body_left -= n;
            off += n;
            if (d->body_left == 0) {
                d->st = d->chunked ? ST_CHUNK_END : ST_MSG;
                d->msg_ts_ns = now_ns;
            }
            break;
        }
        case ST_CHUNK_SIZE: {
            uint32_t lf = ns_cur_find(&c, off, '\n');
            if (lf == used)
                return off;
            /* chunk-size [ chunk-ext ] CRLF (RFC 9112 7.1): hex digits, then anything. */
            uint64_t size = 0;
            uint32_t i = off, digits = 0;
            for (; i < lf; i++, digits++) {
                uint8_t b = lower(ns_cur_at(&c, i));
                uint8_t v = b >= '0' && b <= '9'   ? (uint8_t)(b - '0')
                            : b >= 'a' && b <= 'f' ? (uint8_t)(b - 'a' + 10)
                                                   : 0xff;
                if (v == 0xff)
                    break;
                if (digits >= CHUNK_SIZE_MAX_DIGITS)
                    return resync(p, d, off, used);
                size = size * 16u + v;
            }
            if (digits == 0)
                return resync(p, d, off, used);
            off = lf + 1;
            if (size == 0) {
                d->st = ST_TRAILER;
            } else {
                d->body_left = size;
                d->st = ST_BODY;
            }
            break;
        }
        case ST_CHUNK_END: {
            uint8_t b = ns_cur_at(&c, off);
            if (b == '\n') {
                off += 1;
            } else if (b == '\r') {
                if (off + 1 >= used)
                    return off;
                if (ns_cur_at(&c, off + 1) != '\n')
                    return resync(p, d, off, used);
                off += 2;
            } else {
                return resync(p, d, off, used);
            }
            d->st = ST_CHUNK_SIZE;
            break;
        }
        case ST_TRAILER: {
            uint32_t lf = ns_cur_find(&c, off, '\n');
            if (lf == used)
                return off;
            bool empty = lf == off || (lf == off + 1 && ns_cur_at(&c, off) == '\r');
            off = lf + 1;
            if (empty) {
                d->st = ST_MSG;
                d->chunked = false;
                d->msg_ts_ns = now_ns;
            }
            break;
        }
        case ST_UNTIL_CLOSE:
            app_http_body_add(p, s, d, used - off);
            return used;
        case ST_RESYNC:
        default:
            p->st.bytes_resync += used - off;
            return used;
        }
    }
    return off;
}

void
app_http_overflow(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf, uint32_t used)
{
    ns_cur_t m;
    ns_cur_init(&m, buf, used);
    ns_http_t h;
    (void)ns_http_parse(&m, &h, NULL);
    if (h.kind == NS_HTTP_NONE || (h.kind == NS_HTTP_RESPONSE && h.status == 0))
        return;
    if (h.kind == NS_HTTP_REQUEST && h.uri.len == 0 && h.method.len + 1u < used) {
        /* The request line alone fills the buffer: keep the start of the target. */
        h.uri.off = h.method.off + h.method.len + 1u;
        h.uri.len = used - h.uri.off;
    }
    /* Keep what the head showed so far; its body cannot be found, so the caller resyncs. */
    http_message(p, s, dir, &m, 0, &h);
    http_rec_t *r = app_http_rec(p, s, s->d[dir].tx);
    if (r)
        r->flags |= HTTP_TRUNC;
}

void
app_http_datagram(ns_app_pool_t *p, app_slot_t *s, const ns_pkt_t *pkt, const uint8_t *frame,
                  uint64_t now_ns)
{
    if (pkt->http.kind == NS_HTTP_NONE || !pkt->http.headers_complete)
        return;
    ns_cur_t m;
    ns_cur_init(&m, frame, pkt->cap_len);
    /* One datagram, one message: no stream state survives it. */
    app_dir_t *d = &s->d[0];
    d->msg_ts_ns = now_ns;
    http_message(p, s, 0, &m, pkt->payload_off, &pkt->http);
    d->st = ST_MSG;
    d->tx = 0;
    d->chunked = false;
}

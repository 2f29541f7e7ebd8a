/* flow_app.c - per-flow application state: the slot pool and in-order TCP reassembly.
 *
 * The flow table hands us every payload-carrying packet of a flow with the flow's handle. A
 * flow gets a slot when a packet first looks like HTTP or DNS; the slot holds one small
 * reassembly buffer per direction and the flow's transactions (flow_app_int.h has the memory
 * map). The protocol halves (flow_http.c, flow_dns.c) parse what the buffers hold.
 *
 * Reassembly, per direction, in order only:
 *   - the first payload segment seen sets the expected sequence number (SYN + 1 when the
 *     segment carries SYN);
 *   - bytes below it were seen already (retransmissions): dropped and counted (bytes_dup);
 *   - a segment beyond it leaves a gap (a lost or reordered segment): the gap is counted
 *     (bytes_gap); inside a body whose length is known the parser simply skips the missing
 *     bytes and stays in step, otherwise the buffer is dropped and the direction waits for a
 *     segment that starts a new message (ST_RESYNC). Out-of-order segments are not held back
 *     for later, so one reordered segment costs the message it belongs to, not the stream;
 *   - a segment more than APP_MAX_WINDOW ahead is taken for garbage (a wrong ISN guess, a
 *     stray packet) and ignored, unless APP_OOW_RESYNC of them come in a row;
 *   - bytes are copied into the buffer only while the parser needs them (message heads,
 *     chunk-size lines, DNS messages); bodies are skipped by counting, without copying.
 *
 * Time is an input, nothing here allocates after ns_app_pool_new(), and every loop is bounded
 * by the bytes at hand.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_app_int.h"

#define APP_MAX_WINDOW (64u * 1024u * 1024u) /* larger jumps are out of window */
#define APP_OOW_RESYNC 3u                    /* ... unless this many come in a row */

#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

/* ---- pool lifecycle --------------------------------------------------------------------- */

void
ns_app_limits_default(ns_app_limits_t *lim)
{
    lim->max_flows = NS_APP_DEFAULT_MAX_FLOWS;
    lim->max_http_tx = NS_APP_DEFAULT_MAX_HTTP_TX;
    lim->max_dns_tx = NS_APP_DEFAULT_MAX_DNS_TX;
    lim->max_str_len = NS_APP_DEFAULT_MAX_STR_LEN;
    lim->reasm_bytes = NS_APP_DEFAULT_REASM_BYTES;
}

static size_t
align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* Fill in defaults for zero limits and clamp the rest. */
static void
limits_fix(ns_app_limits_t *l)
{
    ns_app_limits_t d;
    ns_app_limits_default(&d);
    if (l->max_flows == 0)
        l->max_flows = d.max_flows;
    if (l->max_http_tx == 0)
        l->max_http_tx = d.max_http_tx;
    if (l->max_http_tx > NS_APP_MAX_TX)
        l->max_http_tx = NS_APP_MAX_TX;
    if (l->max_dns_tx == 0)
        l->max_dns_tx = d.max_dns_tx;
    if (l->max_dns_tx > NS_APP_MAX_TX)
        l->max_dns_tx = NS_APP_MAX_TX;
    if (l->max_str_len == 0)
        l->max_str_len = d.max_str_len;
    if (l->max_str_len > NS_APP_MAX_STR_LEN)
        l->max_str_len = NS_APP_MAX_STR_LEN;
    if (l->reasm_bytes == 0)
        l->reasm_bytes = d.reasm_bytes;
    if (l->reasm_bytes < NS_APP_MIN_REASM_BYTES)
        l->reasm_bytes = NS_APP_MIN_REASM_BYTES;
    if (l->reasm_bytes > NS_APP_MAX_REASM_BYTES)
        l->reasm_bytes = NS_APP_MAX_REASM_BYTES;
    l->reasm_bytes = (uint32_t)align8(l->reasm_bytes);
}

ns_app_pool_t *
ns_app_pool_new(const ns_app_limits_t *lim)
{
    ns_app_pool_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (lim)
        p->lim = *lim;
    limits_fix(&p->lim);

    size_t str = (size_t)p->lim.max_str_len + 1u;
    p->http_rec_size = align8(sizeof(http_rec_t) + 3u * str);
    p->dns_rec_size = align8(sizeof(dns_rec_t) + str);
    size_t http_area = p->http_rec_size * p->lim.max_http_tx;
    size_t dns_area = p->dns_rec_size * p->lim.max_dns_tx;
    p->slot_bytes = 2u * (size_t)p->lim.reasm_bytes + (http_area > dns_area ? http_area : dns_area);

    size_t n = p->lim.max_flows;
    if (n > SIZE_MAX / p->slot_bytes || n > SIZE_MAX / sizeof(app_slot_t))
        goto fail;
    /* calloc: the kernel hands out zero pages lazily, so slots never used cost no RSS. */
    p->slots = calloc(n, sizeof(app_slot_t));
    p->free_stack = calloc(n, sizeof(uint32_t));
    p->arena = calloc(n, p->slot_bytes);
    if (p->slots == NULL || p->free_stack == NULL || p->arena == NULL)
        goto fail;
    /* Slot 0 on top: the first flows use the lowest addresses. */
    for (uint32_t i = 0; i < n; i++)
        p->free_stack[i] = (uint32_t)(n - 1u - i);
    p->free_n = (uint32_t)n;
    p->bytes = sizeof(*p) + n * (sizeof(app_slot_t) + sizeof(uint32_t) + p->slot_bytes);
    p->st.slots_total = (uint32_t)n;
    return p;
fail:
    ns_app_pool_destroy(&p);
    return NULL;
}

void
ns_app_pool_destroy(ns_app_pool_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_app_pool_t *p = *self_p;
    free(p->slots);
    free(p->free_stack);
    free(p->arena);
    free(p);
    *self_p = NULL;
}

size_t
ns_app_pool_bytes(const ns_app_pool_t *p)
{
    return p ? p->bytes : 0;
}

const ns_app_limits_t *
ns_app_pool_limits(const ns_app_pool_t *p)
{
    return &p->lim;
}

void
ns_app_pool_stats(const ns_app_pool_t *p, ns_app_stats_t *out)
{
    *out = p->st;
}

/* ---- slots ------------------------------------------------------------------------------ */

/* The slot behind a handle, or NULL (0, out of range, or released). */
static app_slot_t *
slot_get(const ns_app_pool_t *p, uint32_t handle)
{
    if (p == NULL || handle == 0 || handle > p->lim.max_flows)
        return NULL;
    app_slot_t *s = &p->slots[handle - 1u];
    return s->in_use ? s : NULL;
}

static app_slot_t *
slot_take(ns_app_pool_t *p, uint8_t mode)
{
    if (p->free_n == 0) {
        p->st.flows_refused++;
        return NULL;
    }
    app_slot_t *s = &p->slots[p->free_stack[--p->free_n]];
    memset(s, 0, sizeof(*s));
    s->in_use = true;
    s->mode = mode;
    p->st.slots_in_use++;
    if (p->st.slots_in_use > p->st.slots_peak)
        p->st.slots_peak = p->st.slots_in_use;
    return s;
}

void
ns_app_release(ns_app_pool_t *p, uint32_t *handle)
{
    if (handle == NULL)
        return;
    app_slot_t *s = slot_get(p, *handle);
    if (s) {
        s->in_use = false;
        p->free_stack[p->free_n++] = app_slot_index(p, s);
        p->st.slots_in_use--;
    }
    *handle = 0;
}

/* ---- text ------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence starting at `at` (1..4), or 0 when it is not one
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF); `left` bytes are there. */
static uint32_t
utf8_len(const ns_cur_t *c, uint32_t at, uint32_t left)
{
    uint8_t b = ns_cur_at(c, at);
    uint32_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (uint32_t i = 1; i < n; i++) {
        uint8_t x = ns_cur_at(c, at + i);
        if (x < (i == 1 ? lo : 0x80) || x > (i == 1 ? hi : 0xbf))
            return 0;
    }
    return n;
}

bool
app_copy_text(char *dst, uint32_t cap, const ns_cur_t *c, uint32_t at, uint32_t n)
{
    /* Never read outside the cursor's buffer, whatever the span says. */
    uint32_t avail = at < c->end ? c->end - at : 0;
    bool cut = n > avail;
    if (n > avail)
        n = avail;
    uint32_t k = 0, i = 0;
    while (i < n) {
        uint32_t len = utf8_len(c, at + i, n - i);
        if (len <= 1) {
            if (k + 1 > cap) {
                cut = true;
                break;
            }
            uint8_t b = ns_cur_at(c, at + i);
            /* controls -> '.', bytes that are not UTF-8 -> '?': safe in JSON, CSV and logs */
            dst[k++] = len == 0 ? '?' : b < 0x20 || b == 0x7f ? '.' : (char)b;
            i++;
            continue;
        }
        if (k + len > cap) { /* a whole character or nothing */
            cut = true;
            break;
        }
        for (uint32_t j = 0; j < len; j++)
            dst[k++] = (char)ns_cur_at(c, at + i + j);
        i += len;
    }
    dst[k] = '\0';
    return cut;
}

/* ---- TCP reassembly --------------------------------------------------------------------- */

/* Run the protocol parser over the buffer and drop what it consumed. */
static void
dir_parse(ns_app_pool_t *p, app_slot_t *s, unsigned dir, uint64_t now_ns)
{
    app_dir_t *d = &s->d[dir];
    uint8_t *buf = app_reasm(p, s, dir);
    uint32_t used = d->used;
    uint32_t n = s->mode == MODE_DNS ? app_dns_consume(p, s, dir, buf, used, now_ns)
                                     : app_http_consume(p, s, dir, buf, used, now_ns);
    if (n > used)
        n = used;
    if (n > 0 && n < used)
        memmove(buf, buf + n, used - n);
    d->used = used - n;
    if (d->used > 0 && d->used == p->lim.reasm_bytes) {
        /* Full and the parser cannot finish what it holds: one head, chunk line or DNS
         * message is larger than the buffer. */
        p->st.bytes_overflow += d->used;
        if (s->mode == MODE_HTTP && d->st == ST_MSG)
            app_http_overflow(p, s, dir, buf, d->used);
        d->used = 0;
        d->st = ST_RESYNC;
    }
}

/* A gap of `gap` unseen bytes before the data at hand. */
static void
dir_gap(ns_app_pool_t *p, app_slot_t *s, app_dir_t *d, uint32_t gap)
{
    p->st.bytes_gap += gap;
    if (d->st == ST_BODY && d->used == 0 && gap <= d->body_left) {
        /* Inside a body of known length: the missing bytes were body, stay in step. */
        app_http_body_add(p, s, d, gap);
        d->body_left -= gap;
        if (d->body_left == 0)
            d->st = d->chunked ? ST_CHUNK_END : ST_MSG;
        return;
    }
    if (d->st == ST_UNTIL_CLOSE) {
        app_http_body_add(p, s, d, gap);
        return;
    }
    /* The message being assembled has a hole: give it up. */
    p->st.bytes_resync += d->used;
    d->used = 0;
    d->st = ST_RESYNC;
}

/* Does a segment starting with `data` begin a message this slot's protocol would parse? */
static bool
starts_message(const app_slot_t *s, const uint8_t *data, uint32_t len)
{
    if (s->mode == MODE_DNS)
        return len >= 2; /* clients and servers start DNS messages on segment boundaries */
    ns_cur_t c;
    ns_cur_init(&c, data, len);
    return app_http_starts(&c);
}

static void
stream_feed(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const ns_pkt_t *pkt, const uint8_t *data,
            uint32_t len, uint64_t now_ns)
{
    app_dir_t *d = &s->d[dir];
    uint32_t seq = pkt->seq + ((pkt->tcp_flags & NS_TCP_SYN) ? 1u : 0u);
    if (!d->seq_valid) {
        d->next_seq = seq;
        d->seq_valid = true;
    }
    /* Serial-number arithmetic (RFC 1982): the signed distance handles wrap-around. */
    int32_t rel = (int32_t)(seq - d->next_seq);
    if (rel < 0) {
        uint32_t behind = (uint32_t)(-(int64_t)rel);
        if (behind >= len) {
            p->st.bytes_dup += len;
            return;
        }
        p->st.bytes_dup += behind;
        data += behind;
        len -= behind;
    } else if (rel > 0) {
        if ((uint32_t)rel > APP_MAX_WINDOW && ++d->oow_run < APP_OOW_RESYNC) {
            p->st.segments_oow++;
            return;
        }
        dir_gap(p, s, d, (uint32_t)rel);
        d->next_seq = seq;
    }
    d->oow_run = 0;

    /* Each pass consumes at least one byte of `data` or returns. */
    while (len > 0) {
        if (d->st == ST_RESYNC) {
            if (d->used == 0 && starts_message(s, data, len)) {
                d->st = ST_MSG;
            } else {
                p->st.bytes_resync += len;
                d->next_seq += len;
                return;
            }
        }
        if (d->st == ST_UNTIL_CLOSE) {
            app_http_body_add(p, s, d, len);
            d->next_seq += len;
            return;
        }
        if (d->st == ST_BODY && d->used == 0) {
            /* Skip body bytes without copying them. */
            uint32_t n = d->body_left < len ? (uint32_t)d->body_left : len;
            app_http_body_add(p, s, d, n);
            d->body_left -= n;
            if (d->body_left == 0)
                d->st = d->chunked ? ST_CHUNK_END : ST_MSG;
            data += n;
            len -= n;
            d->next_seq += n;
            continue;
        }
        if (d->used == 0 && d->st == ST_MSG)
            d->msg_ts_ns = now_ns; /* the first byte of a new message */
        uint32_t room = p->lim.reasm_bytes - d->used;
        uint32_t n = len < room ? len : room;
        memcpy(app_reasm(p, s, dir) + d->used, data, n);
        d->used += n;
        data += n;
        len -= n;
        d->next_seq += n;
        dir_parse(p, s, dir, now_ns);
    }
}

/* ---- update ----------------------------------------------------------------------------- */

static bool
is_dns_tcp_port(uint16_t port)
{
    return port == 53 || port == 5353 || port == 5355;
}

/* The stream mode a packet of a flow without a slot asks for, or MODE_NONE. */
static uint8_t
wanted_mode(const ns_pkt_t *pkt, const uint8_t *payload, uint32_t len)
{
    if (pkt->ip_proto == IPPROTO_UDP_)
        return pkt->app == NS_APP_DNS ? MODE_DNS : pkt->app == NS_APP_HTTP ? MODE_HTTP : MODE_NONE;
    if (pkt->ip_proto != IPPROTO_TCP_ || len == 0)
        return MODE_NONE;
    if (pkt->app == NS_APP_DNS || is_dns_tcp_port(pkt->sport) || is_dns_tcp_port(pkt->dport))
        return MODE_DNS;
    ns_cur_t c;
    ns_cur_init(&c, payload, len);
    return pkt->app == NS_APP_HTTP || app_http_starts(&c) ? MODE_HTTP : MODE_NONE;
}

/* A DNS datagram the decoder parsed: usable unless the DNS layer itself failed (a snaplen
 * cut is fine when the question made it). */
static bool
dns_datagram_ok(const ns_pkt_t *pkt)
{
    if (pkt->err_rc == NS_PARSE_OK || pkt->err_layer != NS_LAYER_DNS)
        return true;
    return pkt->err_rc == NS_PARSE_TRUNCATED && pkt->dns.has_question;
}

void
ns_app_update(ns_app_pool_t *p, uint32_t *handle, const ns_pkt_t *pkt, const uint8_t *frame,
              unsigned dir, uint64_t now_ns)
{
    if (p == NULL || handle == NULL || pkt == NULL || dir > 1)
        return;
    /* The captured payload, checked against the captured frame. */
    uint32_t len = pkt->payload_cap;
    if (frame == NULL || pkt->payload_off > pkt->cap_len || len > pkt->cap_len - pkt->payload_off)
        len = 0;
    if ((pkt->ip_flags & NS_IP_FRAG) && pkt->frag_off != 0)
        return; /* a later fragment: no transport header, its bytes are not a stream segment */
    const uint8_t *payload = len ? frame + pkt->payload_off : NULL;

    app_slot_t *s = slot_get(p, *handle);
    if (s == NULL) {
        uint8_t mode = wanted_mode(pkt, payload, len);
        if (mode == MODE_NONE)
            return;
        s = slot_take(p, mode);
        if (s == NULL)
            return;
        *handle = app_slot_index(p, s) + 1u;
    }

    if (pkt->ip_proto == IPPROTO_UDP_) {
        if (pkt->app == NS_APP_DNS && s->mode == MODE_DNS) {
            if (dns_datagram_ok(pkt))
                app_dns_message(p, s, &pkt->dns, now_ns, false);
            else
                p->st.parse_errors++;
        } else if (pkt->app == NS_APP_HTTP && s->mode == MODE_HTTP) {
            app_http_datagram(p, s, pkt, frame, now_ns);
        }
        return;
    }
    if (pkt->ip_proto == IPPROTO_TCP_ && len > 0)
        stream_feed(p, s, dir, pkt, payload, len, now_ns);
}

/* ---- accessors -------------------------------------------------------------------------- */

const char *
ns_app_service(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    if (s == NULL)
        return NULL;
    return s->service == SVC_HTTP ? "http" : s->service == SVC_DNS ? "dns" : NULL;
}

uint32_t
ns_app_http_count(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    return s ? s->http_req_n : 0;
}

uint32_t
ns_app_http_kept(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    if (s == NULL)
        return 0;
    return s->http_req_n < p->lim.max_http_tx ? s->http_req_n : p->lim.max_http_tx;
}

uint32_t
ns_app_dns_count(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    return s ? s->dns_n : 0;
}

uint32_t
ns_app_dns_kept(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    return s ? s->dns_kept : 0;
}

uint32_t
ns_app_dns_unanswered(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    if (s == NULL)
        return 0;
    uint32_t n = s->dns_over_q > s->dns_over_r ? s->dns_over_q - s->dns_over_r : 0;
    for (uint32_t i = 0; i < s->dns_kept; i++) {
        const dns_rec_t *r = app_dns_rec(p, s, i);
        if ((r->flags & DNS_HAS_QUERY) && !(r->flags & DNS_ANSWERED))
            n++;
    }
    return n;
}

bool
ns_app_http_get(const ns_app_pool_t *p, uint32_t handle, uint32_t i, ns_app_http_tx_t *out)
{
    const app_slot_t *s = slot_get(p, handle);
    if (s == NULL || i >= ns_app_http_kept(p, handle))
        return false;
    const http_rec_t *r = app_http_rec(p, s, i + 1u);
    out->seq = r->seq;
    out->method = r->method;
    out->host = app_http_str(p, r, 0);
    out->uri = app_http_str(p, r, 1);
    out->user_agent = app_http_str(p, r, 2);
    out->truncated = (r->flags & HTTP_TRUNC) != 0;
    out->has_request = (r->flags & HTTP_HAS_REQ) != 0;
    out->has_response = (r->flags & HTTP_HAS_RESP) != 0;
    out->chunked_req = (r->flags & HTTP_CHUNK_REQ) != 0;
    out->chunked_resp = (r->flags & HTTP_CHUNK_RESP) != 0;
    out->status = r->status;
    out->req_body_len = r->req_body;
    out->resp_body_len = r->resp_body;
    out->req_ts_ns = r->req_ts_ns;
    out->resp_ts_ns = r->resp_ts_ns;
    out->latency_ns = out->has_request && out->has_response && r->resp_ts_ns >= r->req_ts_ns
                          ? (int64_t)(r->resp_ts_ns - r->req_ts_ns)
                          : -1;
    return true;
}

bool
ns_app_dns_get(const ns_app_pool_t *p, uint32_t handle, uint32_t i, ns_app_dns_tx_t *out)
{
    const app_slot_t *s = slot_get(p, handle);
    if (s == NULL || i >= s->dns_kept)
        return false;
    const dns_rec_t *r = app_dns_rec(p, s, i);
    out->id = r->id;
    out->qname = app_dns_qname(r);
    out->qtype = r->qtype;
    out->truncated = (r->flags & DNS_TRUNC) != 0;
    out->has_query = (r->flags & DNS_HAS_QUERY) != 0;
    out->answered = (r->flags & DNS_ANSWERED) != 0;
    out->tcp = (r->flags & DNS_TCP) != 0;
    out->rcode = r->rcode;
    out->n_answers = r->n_answers;
    out->retries = r->retries;
    out->ancount = r->ancount;
    out->answers = r->ans;
    out->query_ts_ns = r->q_ts_ns;
    out->resp_ts_ns = r->r_ts_ns;
    out->latency_ns = out->has_query && out->answered && r->r_ts_ns >= r->q_ts_ns
                          ? (int64_t)(r->r_ts_ns - r->q_ts_ns)
                          : -1;
    return true;
}

uint32_t
ns_app_http_sent(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    return s ? s->http_sent : 0;
}

uint32_t
ns_app_dns_sent(const ns_app_pool_t *p, uint32_t handle)
{
    const app_slot_t *s = slot_get(p, handle);
    return s ? s->dns_sent : 0;
}

void
ns_app_mark_sent(ns_app_pool_t *p, uint32_t handle, uint32_t http_upto, uint32_t dns_upto)
{
    app_slot_t *s = slot_get(p, handle);
    if (s == NULL)
        return;
    uint32_t hk = ns_app_http_kept(p, handle), dk = s->dns_kept;
    if (http_upto > hk)
        http_upto = hk;
    if (dns_upto > dk)
        dns_upto = dk;
    if (http_upto > s->http_sent)
        s->http_sent = http_upto;
    if (dns_upto > s->dns_sent)
        s->dns_sent = dns_upto;
}

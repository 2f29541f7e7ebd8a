/* evidence.c - requests for an alert's packets and the pcap they make (see evidence.h).
 *
 * One table of requests and one of alerts being assembled (as many as requests, each with a
 * buffer grown up to max_bytes). Both are small and searched linearly: alerts are rare.
 */
#include "netscope/evidence.h"

#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR 24u
#define REC_HDR 16u
#define SNAPLEN 262144u

typedef struct {
    bool used;
    uint32_t id;
    uint64_t alert_id, sent_ns;
} req_t;

typedef struct {
    bool used, have_link;
    uint64_t alert_id;
    uint32_t link_type;
    uint8_t *buf;
    size_t len, cap;
    uint32_t frames;
} asm_t;

struct ns_evidence {
    uint32_t max;
    size_t max_bytes;
    uint64_t timeout_ns;
    uint32_t next_id;
    req_t *req;
    asm_t *as;
    ns_evidence_stats_t st;
};

ns_evidence_t *
ns_evidence_new(uint32_t max_pending, size_t max_bytes, uint64_t timeout_ns)
{
    if (max_pending < 1 || max_pending > 4096 || max_bytes < 1024)
        return NULL;
    ns_evidence_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->req = calloc(max_pending, sizeof(*e->req));
    e->as = calloc(max_pending, sizeof(*e->as));
    if (e->req == NULL || e->as == NULL) {
        ns_evidence_destroy(&e);
        return NULL;
    }
    e->max = max_pending;
    e->max_bytes = max_bytes;
    e->timeout_ns = timeout_ns;
    return e;
}

void
ns_evidence_destroy(ns_evidence_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_evidence_t *e = *self_p;
    if (e->as)
        for (uint32_t i = 0; i < e->max; i++)
            free(e->as[i].buf);
    free(e->as);
    free(e->req);
    free(e);
    *self_p = NULL;
}

static asm_t *
asm_find(ns_evidence_t *e, uint64_t alert_id)
{
    for (uint32_t i = 0; i < e->max; i++)
        if (e->as[i].used && e->as[i].alert_id == alert_id)
            return &e->as[i];
    return NULL;
}

uint32_t
ns_evidence_request(ns_evidence_t *self, uint64_t alert_id, uint64_t now_ns)
{
    ns_evidence_t *e = self;
    req_t *r = NULL;
    for (uint32_t i = 0; i < e->max && r == NULL; i++)
        if (!e->req[i].used)
            r = &e->req[i];
    asm_t *a = asm_find(e, alert_id);
    for (uint32_t i = 0; i < e->max && a == NULL; i++)
        if (!e->as[i].used) {
            a = &e->as[i];
            free(a->buf);
            memset(a, 0, sizeof(*a));
            a->used = true;
            a->alert_id = alert_id;
        }
    if (r == NULL || a == NULL) {
        e->st.refused++;
        return 0;
    }
    if (++e->next_id == 0)
        e->next_id = 1;
    *r = (req_t){.used = true, .id = e->next_id, .alert_id = alert_id, .sent_ns = now_ns};
    e->st.requested++;
    return r->id;
}

static bool
pending(const ns_evidence_t *e, uint64_t alert_id)
{
    for (uint32_t i = 0; i < e->max; i++)
        if (e->req[i].used && e->req[i].alert_id == alert_id)
            return true;
    return false;
}

/* Hand the alert's pcap out (when it holds a frame) and free its slot. */
static void
finish(asm_t *a, ns_evidence_fn fn, void *ud)
{
    if (a->frames > 0 && fn)
        fn(ud, a->alert_id, a->buf, a->len);
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

void
ns_evidence_cancel(ns_evidence_t *self, uint32_t request_id)
{
    for (uint32_t i = 0; i < self->max; i++)
        if (self->req[i].used && self->req[i].id == request_id) {
            uint64_t alert = self->req[i].alert_id;
            self->req[i].used = false;
            asm_t *a = asm_find(self, alert);
            if (a && !pending(self, alert) && a->frames == 0)
                finish(a, NULL, NULL);
            return;
        }
}

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcap is written in the host's byte order; readers check the magic */
}

static bool
grow(ns_evidence_t *e, asm_t *a, size_t need)
{
    if (a->len + need > e->max_bytes)
        return false;
    if (a->len + need <= a->cap)
        return true;
    size_t cap = a->cap ? a->cap * 2 : 4096;
    while (cap < a->len + need)
        cap *= 2;
    if (cap > e->max_bytes)
        cap = e->max_bytes;
    uint8_t *b = realloc(a->buf, cap);
    if (b == NULL)
        return false;
    a->buf = b;
    a->cap = cap;
    return true;
}

static void
pcap_header(uint8_t *h, uint32_t link_type)
{
    put32(h, PCAP_MAGIC_NS);
    uint16_t ver[2] = {2, 4};
    memcpy(h + 4, ver, 4);
    put32(h + 8, 0);  /* thiszone */
    put32(h + 12, 0); /* sigfigs */
    put32(h + 16, SNAPLEN);
    put32(h + 20, link_type);
}

/* A record header and the frame's bytes at `out`; returns the bytes written. */
static size_t
pcap_record(uint8_t *out, const ns_msg_frame_t *f)
{
    put32(out, (uint32_t)(f->ts_ns / 1000000000ull));
    put32(out + 4, (uint32_t)(f->ts_ns % 1000000000ull));
    put32(out + 8, f->cap_len);
    put32(out + 12, f->wire_len);
    memcpy(out + REC_HDR, f->data, f->cap_len);
    return REC_HDR + f->cap_len;
}

/* One reply of a whole_ring request: a pcap of its own (a batch at most, not bound by
 * max_bytes), handed to `fn` even when it holds no frame, so that the caller learns the ring
 * was walked to its end. */
static void
ring_reply(ns_evidence_t *e, uint64_t alert_id, const ns_msg_packets_t *p, ns_evidence_fn fn,
           void *ud)
{
    size_t len = PCAP_HDR;
    for (uint32_t i = 0; i < p->n_frames; i++)
        len += REC_HDR + p->frames[i].cap_len;
    uint8_t *buf = malloc(len);
    if (buf == NULL) {
        e->st.frames_left_out += p->n_frames;
        return;
    }
    pcap_header(buf, p->link_type);
    size_t at = PCAP_HDR;
    for (uint32_t i = 0; i < p->n_frames; i++)
        at += pcap_record(buf + at, &p->frames[i]);
    e->st.frames += p->n_frames;
    if (fn)
        fn(ud, alert_id, buf, len);
    free(buf);
}

bool
ns_evidence_reply(ns_evidence_t *self, const ns_msg_packets_t *p, ns_evidence_fn fn, void *ud)
{
    ns_evidence_t *e = self;
    req_t *r = NULL;
    for (uint32_t i = 0; i < e->max && r == NULL; i++)
        if (e->req[i].used && e->req[i].id == p->request_id)
            r = &e->req[i];
    if (r == NULL)
        return false;
    bool ok = p->error == NULL || p->error[0] == '\0';
    if (p->whole_ring) {
        /* several replies to one request: it stays pending until the last */
        if (ok)
            ring_reply(e, r->alert_id, p, fn, ud);
        if (ok && !p->last_chunk)
            return true;
        r->used = false;
        e->st.answered++;
        asm_t *a = asm_find(e, r->alert_id);
        if (a && !pending(e, r->alert_id))
            finish(a, NULL, NULL);
        return true;
    }
    r->used = false;
    e->st.answered++;
    asm_t *a = asm_find(e, r->alert_id);
    if (a == NULL)
        return true;
    if (ok) {
        if (!a->have_link && p->n_frames > 0 && grow(e, a, PCAP_HDR)) {
            pcap_header(a->buf, p->link_type);
            a->len = PCAP_HDR;
            a->have_link = true;
            a->link_type = p->link_type;
        }
        for (uint32_t i = 0; i < p->n_frames; i++) {
            const ns_msg_frame_t *f = &p->frames[i];
            if (!a->have_link || p->link_type != a->link_type ||
                !grow(e, a, REC_HDR + f->cap_len)) {
                e->st.frames_left_out++;
                continue;
            }
            a->len += pcap_record(a->buf + a->len, f);
            a->frames++;
            e->st.frames++;
        }
    }
    if (!pending(e, a->alert_id))
        finish(a, fn, ud);
    return true;
}

void
ns_evidence_expire(ns_evidence_t *self, uint64_t now_ns, ns_evidence_fn fn, void *ud)
{
    ns_evidence_t *e = self;
    for (uint32_t i = 0; i < e->max; i++) {
        req_t *r = &e->req[i];
        if (!r->used || now_ns < r->sent_ns + e->timeout_ns)
            continue;
        r->used = false;
        e->st.timed_out++;
        asm_t *a = asm_find(e, r->alert_id);
        if (a && !pending(e, r->alert_id))
            finish(a, fn, ud);
    }
}

void
ns_evidence_stats(const ns_evidence_t *self, ns_evidence_stats_t *out)
{
    *out = self->st;
}

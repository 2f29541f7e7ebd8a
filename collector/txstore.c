/* txstore.c - transactions kept per (agent, flow uid) until the final record (txstore.h). */
#include "netscope/txstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096u /* chains grow past this many waiting flows; bounded by max_bytes */
#define DEFAULT_BYTES (64u << 20)

typedef struct entry_s {
    struct entry_s *hnext, *prev, *next;
    uint32_t agent;
    char uid[NS_FLOW_UID_LEN + 1];
    uint64_t at_ns;
    size_t bytes;
    uint32_t n_http, n_dns;
    ns_app_http_tx_t *http;
    ns_app_dns_tx_t *dns;
} entry_t;

struct ns_txstore {
    size_t max_bytes;
    entry_t *buckets[BUCKETS];
    entry_t *head, *tail; /* oldest first */
    ns_txstore_stats_t st;
    /* the arrays handed out by the last take */
    ns_app_http_tx_t *out_http;
    ns_app_dns_tx_t *out_dns;
    entry_t *out_entry;
};

static uint32_t
bucket(uint32_t agent, const char *uid)
{
    uint32_t h = 2166136261u ^ agent;
    for (; *uid; uid++)
        h = (h ^ (uint8_t)*uid) * 16777619u;
    return h & (BUCKETS - 1);
}

ns_txstore_t *
ns_txstore_new(size_t max_bytes)
{
    ns_txstore_t *s = calloc(1, sizeof(*s));
    if (s)
        s->max_bytes = max_bytes ? max_bytes : DEFAULT_BYTES;
    return s;
}

/* ---- copies ------------------------------------------------------------------------------- */

static char *
dup_str(const char *src, size_t *bytes)
{
    const char *s = src ? src : "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
        *bytes += n;
    }
    return d;
}

static void
free_http(ns_app_http_tx_t *t)
{
    free((char *)t->method);
    free((char *)t->host);
    free((char *)t->uri);
    free((char *)t->user_agent);
}

static void
free_dns(ns_app_dns_tx_t *t)
{
    free((char *)t->qname);
    free((ns_dns_answer_t *)t->answers);
}

static void
entry_free(entry_t *e)
{
    if (e == NULL)
        return;
    for (uint32_t i = 0; i < e->n_http; i++)
        free_http(&e->http[i]);
    for (uint32_t i = 0; i < e->n_dns; i++)
        free_dns(&e->dns[i]);
    free(e->http);
    free(e->dns);
    free(e);
}

static void
unlink_entry(ns_txstore_t *s, entry_t *e)
{
    entry_t **pp = &s->buckets[bucket(e->agent, e->uid)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    s->st.entries--;
    s->st.bytes -= e->bytes;
}

static void
drop_oldest(ns_txstore_t *s)
{
    entry_t *e = s->head;
    unlink_entry(s, e);
    s->st.dropped += e->n_http + e->n_dns;
    entry_free(e);
}

void
ns_txstore_destroy(ns_txstore_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_txstore_t *s = *self_p;
    while (s->head) {
        entry_t *e = s->head;
        unlink_entry(s, e);
        entry_free(e);
    }
    entry_free(s->out_entry);
    free(s->out_http);
    free(s->out_dns);
    free(s);
    *self_p = NULL;
}

static entry_t *
find(const ns_txstore_t *s, uint32_t agent, const char *uid)
{
    for (entry_t *e = s->buckets[bucket(agent, uid)]; e; e = e->hnext)
        if (e->agent == agent && strcmp(e->uid, uid) == 0)
            return e;
    return NULL;
}

/* Append the transactions of `r` to entry `e`; false when memory ran out. */
static bool
append(entry_t *e, const ns_flow_rec_t *r)
{
    if (r->n_http) {
        ns_app_http_tx_t *h = realloc(e->http, (e->n_http + r->n_http) * sizeof(*h));
        if (h == NULL)
            return false;
        e->http = h;
        for (uint32_t i = 0; i < r->n_http; i++) {
            ns_app_http_tx_t t = r->http[i];
            t.method = dup_str(t.method, &e->bytes);
            t.host = dup_str(t.host, &e->bytes);
            t.uri = dup_str(t.uri, &e->bytes);
            t.user_agent = dup_str(t.user_agent, &e->bytes);
            e->bytes += sizeof(t);
            e->http[e->n_http++] = t;
            if (!t.method || !t.host || !t.uri || !t.user_agent)
                return false;
        }
    }
    if (r->n_dns) {
        ns_app_dns_tx_t *d = realloc(e->dns, (e->n_dns + r->n_dns) * sizeof(*d));
        if (d == NULL)
            return false;
        e->dns = d;
        for (uint32_t i = 0; i < r->n_dns; i++) {
            ns_app_dns_tx_t t = r->dns[i];
            t.qname = dup_str(t.qname, &e->bytes);
            ns_dns_answer_t *an = NULL;
            if (t.n_answers) {
                an = malloc(t.n_answers * sizeof(*an));
                if (an)
                    memcpy(an, r->dns[i].answers, t.n_answers * sizeof(*an));
                e->bytes += t.n_answers * sizeof(*an);
            }
            t.answers = an;
            e->bytes += sizeof(t);
            e->dns[e->n_dns++] = t;
            if (!t.qname || (t.n_answers && an == NULL))
                return false;
        }
    }
    return true;
}

void
ns_txstore_add(ns_txstore_t *self, uint32_t agent, const ns_flow_rec_t *r, uint64_t now_ns)
{
    ns_txstore_t *s = self;
    if (r->n_http + r->n_dns == 0)
        return;
    entry_t *e = find(s, agent, r->uid);
    if (e)
        unlink_entry(s, e); /* re-linked below, its size recounted */
    else if ((e = calloc(1, sizeof(*e))) == NULL) {
        s->st.dropped += r->n_http + r->n_dns;
        return;
    } else {
        e->agent = agent;
        memcpy(e->uid, r->uid, sizeof(e->uid));
        e->uid[NS_FLOW_UID_LEN] = '\0';
        e->bytes = sizeof(*e);
    }
    e->at_ns = now_ns;
    bool ok = append(e, r);
    s->st.added += r->n_http + r->n_dns;
    if (!ok) {
        s->st.dropped += e->n_http + e->n_dns;
        entry_free(e);
        return;
    }
    entry_t **b = &s->buckets[bucket(agent, e->uid)];
    e->hnext = *b;
    *b = e;
    e->prev = s->tail;
    e->next = NULL;
    if (s->tail)
        s->tail->next = e;
    else
        s->head = e;
    s->tail = e;
    s->st.entries++;
    s->st.bytes += e->bytes;
    while (s->st.bytes > s->max_bytes && s->head && s->head != e)
        drop_oldest(s);
}

void
ns_txstore_take(ns_txstore_t *self, uint32_t agent, const ns_flow_rec_t *final, ns_flow_rec_t *out)
{
    ns_txstore_t *s = self;
    *out = *final;
    entry_free(s->out_entry);
    s->out_entry = find(s, agent, final->uid);
    if (s->out_entry == NULL)
        return;
    entry_t *e = s->out_entry;
    unlink_entry(s, e);
    uint32_t nh = e->n_http + final->n_http, nd = e->n_dns + final->n_dns;
    ns_app_http_tx_t *h = nh ? realloc(s->out_http, nh * sizeof(*h)) : s->out_http;
    ns_app_dns_tx_t *d = nd ? realloc(s->out_dns, nd * sizeof(*d)) : s->out_dns;
    if ((nh && h == NULL) || (nd && d == NULL)) {
        if (h)
            s->out_http = h;
        if (d)
            s->out_dns = d;
        s->st.dropped += e->n_http + e->n_dns;
        return;
    }
    s->out_http = h;
    s->out_dns = d;
    if (nh) {
        if (e->n_http)
            memcpy(h, e->http, e->n_http * sizeof(*h));
        if (final->n_http)
            memcpy(h + e->n_http, final->http, final->n_http * sizeof(*h));
        out->http = h;
        out->n_http = nh;
    }
    if (nd) {
        if (e->n_dns)
            memcpy(d, e->dns, e->n_dns * sizeof(*d));
        if (final->n_dns)
            memcpy(d + e->n_dns, final->dns, final->n_dns * sizeof(*d));
        out->dns = d;
        out->n_dns = nd;
    }
}

void
ns_txstore_expire(ns_txstore_t *self, uint64_t now_ns, uint64_t age_ns)
{
    while (self->head && now_ns > age_ns && self->head->at_ns < now_ns - age_ns)
        drop_oldest(self);
}

void
ns_txstore_stats(const ns_txstore_t *self, ns_txstore_stats_t *out)
{
    *out = self->st;
}

bool
ns_txstore_latest(const ns_txstore_t *self, uint32_t agent, const char *uid, char *out, size_t len)
{
    out[0] = '\0';
    const entry_t *e = find(self, agent, uid);
    for (uint32_t i = e ? e->n_http : 0; i > 0; i--) {
        const ns_app_http_tx_t *h = &e->http[i - 1];
        if (!h->has_request)
            continue;
        const char *uri = h->uri ? h->uri : "";
        snprintf(out, len, "%s %s%s%s", h->method ? h->method : "", h->host ? h->host : "",
                 uri[0] == '/' || uri[0] == '\0' ? "" : "/", uri);
        return true;
    }
    for (uint32_t i = e ? e->n_dns : 0; i > 0; i--) {
        const ns_app_dns_tx_t *d = &e->dns[i - 1];
        if (!d->has_query || d->qname == NULL)
            continue;
        snprintf(out, len, "%s", d->qname);
        return true;
    }
    return false;
}

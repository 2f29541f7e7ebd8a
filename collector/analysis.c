/* analysis.c - RTT, retransmission and loss analyses over the merged stream (analysis.h).
 *
 * Four tables (pairs, hosts, services, paths), each a fixed array of subjects with a chained
 * hash index (heads + next, a free list): insert, find and remove are O(1) expected and
 * nothing is allocated after ns_analysis_new(). RTT sketches live beside the entries of the
 * two tables that have them. Windows: each entry counts the current window and keeps the last
 * whole one; ns_analysis_tick() rotates every entry at a window boundary (O(subjects) once per
 * window) and forgets entries idle for two windows. A burst is judged when an entry's second
 * changes, so a second is counted when the entry is next updated in a later second.
 */
#include "netscope/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define SUBJECTS_MAX 1000000u
#define NONE UINT32_MAX

/* A subject's identity: fixed bytes, zero padded, compared whole. */
typedef struct {
    uint8_t ip_ver;
    uint8_t a[16], b[16];
    uint32_t agent_a, agent_b;
    char service[NS_ANALYSIS_SERVICE_MAX];
} akey_t;

typedef struct {
    akey_t k;
    uint64_t flows, pkts[2], bytes[2], retrans[2];
    uint64_t cur_pkts, cur_retrans, win_pkts, win_retrans;
    uint64_t sec, sec_pkts, sec_bytes, sec_retrans; /* the second being counted (collector s) */
    uint64_t prev_sec, prev_pkts, prev_bytes;       /* the second before it */
    uint32_t cur_burst_max, burst_max;
    uint64_t burst_seconds, lost;
    uint64_t last_ns;
} entry_t;

typedef struct {
    uint32_t cap, n, nbuckets;
    entry_t *e;
    ns_qsketch_t *hs, *run; /* NULL for tables without RTT */
    uint32_t *head, *next, free_head;
    bool *used;
} table_t;

struct ns_analysis {
    ns_analysis_opts_t o;
    table_t t[NS_AN_KINDS];
    uint64_t win_start;
    ns_analysis_stats_t st;
};

void
ns_analysis_opts_default(ns_analysis_opts_t *o)
{
    *o = (ns_analysis_opts_t){.max_pairs = 2048,
                              .max_hosts = 8192,
                              .max_services = 512,
                              .max_paths = 256,
                              .window_ns = 60 * NS_PER_S};
}

/* ---- tables ------------------------------------------------------------------------------ */

static bool
table_init(table_t *t, uint32_t cap, bool rtt, size_t *bytes)
{
    memset(t, 0, sizeof(*t));
    t->cap = cap;
    t->nbuckets = 1;
    while (t->nbuckets < cap)
        t->nbuckets <<= 1;
    t->e = calloc(cap, sizeof(*t->e));
    t->head = malloc(t->nbuckets * sizeof(*t->head));
    t->next = malloc(cap * sizeof(*t->next));
    t->used = calloc(cap, sizeof(*t->used));
    if (rtt) {
        t->hs = calloc(cap, sizeof(*t->hs));
        t->run = calloc(cap, sizeof(*t->run));
    }
    if (!t->e || !t->head || !t->next || !t->used || (rtt && (!t->hs || !t->run)))
        return false;
    for (uint32_t i = 0; i < t->nbuckets; i++)
        t->head[i] = NONE;
    for (uint32_t i = 0; i < cap; i++)
        t->next[i] = i + 1 < cap ? i + 1 : NONE;
    t->free_head = 0;
    *bytes += cap * (sizeof(*t->e) + sizeof(*t->next) + sizeof(*t->used)) +
              t->nbuckets * sizeof(*t->head) + (rtt ? 2u * cap * sizeof(*t->hs) : 0u);
    return true;
}

static void
table_fini(table_t *t)
{
    free(t->e);
    free(t->head);
    free(t->next);
    free(t->used);
    free(t->hs);
    free(t->run);
}

static uint32_t
key_bucket(const table_t *t, const akey_t *k)
{
    return (uint32_t)(ns_sketch_hash(k, sizeof(*k), 0x5eed) & (t->nbuckets - 1));
}

static uint32_t
table_find(const table_t *t, const akey_t *k)
{
    for (uint32_t i = t->head[key_bucket(t, k)]; i != NONE; i = t->next[i])
        if (memcmp(&t->e[i].k, k, sizeof(*k)) == 0)
            return i;
    return NONE;
}

/* The entry of `k`, made when absent; NONE when the table is full. */
static uint32_t
table_get(table_t *t, const akey_t *k)
{
    uint32_t i = table_find(t, k);
    if (i != NONE || t->free_head == NONE)
        return i;
    i = t->free_head;
    t->free_head = t->next[i];
    memset(&t->e[i], 0, sizeof(t->e[i]));
    t->e[i].k = *k;
    if (t->hs) {
        ns_qsk_init(&t->hs[i]);
        ns_qsk_init(&t->run[i]);
    }
    uint32_t b = key_bucket(t, k);
    t->next[i] = t->head[b];
    t->head[b] = i;
    t->used[i] = true;
    t->n++;
    return i;
}

static void
table_del(table_t *t, uint32_t i)
{
    uint32_t b = key_bucket(t, &t->e[i].k);
    uint32_t *pp = &t->head[b];
    while (*pp != i)
        pp = &t->next[*pp];
    *pp = t->next[i];
    t->used[i] = false;
    t->next[i] = t->free_head;
    t->free_head = i;
    t->n--;
}

/* ---- life ---------------------------------------------------------------------------------- */

ns_analysis_t *
ns_analysis_new(const ns_analysis_opts_t *o)
{
    uint32_t caps[NS_AN_KINDS] = {o->max_pairs, o->max_hosts, o->max_services, o->max_paths};
    for (int k = 0; k < NS_AN_KINDS; k++)
        if (caps[k] == 0 || caps[k] > SUBJECTS_MAX)
            return NULL;
    if (o->window_ns < NS_PER_S)
        return NULL;
    ns_analysis_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->o = *o;
    for (int k = 0; k < NS_AN_KINDS; k++) {
        bool rtt = k == NS_AN_PAIR || k == NS_AN_SERVICE;
        if (!table_init(&a->t[k], caps[k], rtt, &a->st.bytes)) {
            ns_analysis_destroy(&a);
            return NULL;
        }
    }
    return a;
}

void
ns_analysis_destroy(ns_analysis_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    for (int k = 0; k < NS_AN_KINDS; k++)
        table_fini(&(*self_p)->t[k]);
    free(*self_p);
    *self_p = NULL;
}

/* ---- updates ------------------------------------------------------------------------------- */

static void
addr_bytes(uint8_t out[16], const ns_addr_t *a, uint8_t ip_ver)
{
    memset(out, 0, 16);
    memcpy(out, a, ip_ver == 4 ? 4u : 16u);
}

/* The service of a record: its name, else "tcp/PORT", "udp/PORT", "sctp/PORT" or "ip/PROTO"
 * (at most "sctp/65535": it always fits). Written by hand: this runs for every record, and
 * snprintf cost more than the rest of the analysis. Only the bytes up to the NUL are
 * written; the caller zeroed the key. */
static void
service_key(akey_t *k, const ns_flow_rec_t *r)
{
    _Static_assert(sizeof(k->service) > sizeof(r->service) &&
                       sizeof(k->service) >= sizeof("sctp/65535"),
                   "akey_t.service holds every service");
    if (r->service[0]) {
        size_t n = strnlen(r->service, sizeof(r->service));
        memcpy(k->service, r->service, n);
        k->service[n] = '\0';
        return;
    }
    const char *p = r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : r->proto == 132 ? "sctp" : "ip";
    unsigned v = p[0] == 'i' ? r->proto : r->resp_p;
    size_t n = strlen(p);
    memcpy(k->service, p, n);
    k->service[n++] = '/';
    char dig[5];
    size_t nd = 0;
    do {
        dig[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (nd > 0)
        k->service[n++] = dig[--nd];
    k->service[n] = '\0';
}

/* Count packets, bytes and retransmissions (direction 0 or 1) into entry e at second `sec`. */
static void
count(entry_t *e, uint64_t sec, uint64_t pkts, uint64_t bytes, uint32_t retrans, unsigned dir,
      uint64_t now_ns)
{
    if (e->sec != sec) {
        e->prev_sec = e->sec;
        e->prev_pkts = e->sec_pkts;
        e->prev_bytes = e->sec_bytes;
        if (e->sec_retrans >= NS_ANALYSIS_BURST_MIN && e->sec_retrans * 10 >= e->sec_pkts)
            e->burst_seconds++;
        if (e->sec_retrans > e->cur_burst_max)
            e->cur_burst_max = (uint32_t)(e->sec_retrans > UINT32_MAX ? UINT32_MAX : e->sec_retrans);
        e->sec = sec;
        e->sec_pkts = e->sec_bytes = e->sec_retrans = 0;
    }
    e->sec_pkts += pkts;
    e->sec_bytes += bytes;
    e->bytes[dir] += bytes;
    e->sec_retrans += retrans;
    e->pkts[dir] += pkts;
    e->retrans[dir] += retrans;
    e->cur_pkts += pkts;
    e->cur_retrans += retrans;
    e->last_ns = now_ns;
}

/* `hs_now`: this record is the one to take the handshake RTT from (see the callers). */
static void
rtt_samples(table_t *t, uint32_t i, const ns_flow_rec_t *r, const ns_merge_info_t *mi,
            bool hs_now, uint64_t *samples)
{
    if (hs_now && (r->hs & NS_FLOW_REC_HS_TOTAL) && r->rtt_hs_ns) {
        ns_qsk_add(&t->hs[i], r->rtt_hs_ns / 1000u, 1);
        (*samples)++;
    }
    if (mi->d_rtt_n && r->rtt_last_us) {
        ns_qsk_add(&t->run[i], r->rtt_last_us, mi->d_rtt_n);
        *samples += mi->d_rtt_n;
    }
}

void
ns_analysis_update(ns_analysis_t *self, const ns_flow_rec_t *r, ns_merge_rc_t rc,
                   const ns_merge_info_t *mi, uint64_t now_ns)
{
    if (rc != NS_MERGE_NEW && rc != NS_MERGE_JOINED && rc != NS_MERGE_APPLIED)
        return;
    if (r->ip_ver != 4 && r->ip_ver != 6)
        return;
    self->st.records++;
    if (self->win_start == 0)
        self->win_start = now_ns;
    uint64_t sec = now_ns / NS_PER_S;
    bool new_obs = rc != NS_MERGE_APPLIED;
    akey_t k;

    /* the pair, both directions */
    memset(&k, 0, sizeof(k));
    k.ip_ver = r->ip_ver;
    addr_bytes(k.a, &r->orig_h, r->ip_ver);
    addr_bytes(k.b, &r->resp_h, r->ip_ver);
    table_t *t = &self->t[NS_AN_PAIR];
    uint32_t i = table_get(t, &k);
    if (i == NONE) {
        self->st.untracked[NS_AN_PAIR]++;
    } else {
        entry_t *e = &t->e[i];
        e->flows += new_obs;
        for (unsigned d = 0; d < 2; d++)
            count(e, sec, mi->d_pkts_dir[d], mi->d_bytes_dir[d], mi->d_retrans_dir[d], d, now_ns);
        rtt_samples(t, i, r, mi, !mi->had_rtt, &self->st.rtt_samples);
    }

    /* each host, for what it sent */
    for (unsigned d = 0; d < 2; d++) {
        memset(&k, 0, sizeof(k));
        k.ip_ver = r->ip_ver;
        addr_bytes(k.a, d == 0 ? &r->orig_h : &r->resp_h, r->ip_ver);
        t = &self->t[NS_AN_HOST];
        i = table_get(t, &k);
        if (i == NONE) {
            self->st.untracked[NS_AN_HOST]++;
            continue;
        }
        t->e[i].flows += new_obs;
        count(&t->e[i], sec, mi->d_pkts_dir[d], mi->d_bytes_dir[d], mi->d_retrans_dir[d], 0,
              now_ns);
    }

    /* the service: a flow's is often recognised only after its first packets, so the flow
     * and its handshake RTT are counted from its final record, under the service it ended
     * with; packets, retransmissions and running RTT samples as they come, under the service
     * known then */
    bool final = r->kind == NS_FLOW_REC_FINAL;
    memset(&k, 0, sizeof(k));
    service_key(&k, r);
    t = &self->t[NS_AN_SERVICE];
    i = table_get(t, &k);
    if (i == NONE) {
        self->st.untracked[NS_AN_SERVICE]++;
    } else {
        t->e[i].flows += final;
        count(&t->e[i], sec, mi->d_pkts, mi->d_wire_bytes, mi->d_retrans, 0, now_ns);
        rtt_samples(t, i, r, mi, final, &self->st.rtt_samples);
    }
}

void
ns_analysis_flow_end(ns_analysis_t *self, const ns_merge_flow_t *f, uint64_t now_ns)
{
    self->st.flows_ended++;
    for (unsigned d = 0; d < 2; d++) {
        const ns_merge_loss_t *l = &f->loss[d];
        if (!l->known || !l->exact || l->sender >= f->n_obs || l->receiver >= f->n_obs)
            continue;
        akey_t k;
        memset(&k, 0, sizeof(k));
        k.agent_a = f->obs[l->sender].agent;
        k.agent_b = f->obs[l->receiver].agent;
        if (k.agent_a == k.agent_b)
            continue;
        table_t *t = &self->t[NS_AN_PATH];
        uint32_t i = table_get(t, &k);
        if (i == NONE) {
            self->st.untracked[NS_AN_PATH]++;
            continue;
        }
        entry_t *e = &t->e[i];
        e->flows++;
        e->pkts[0] += f->obs[l->sender].pkts[d];
        e->lost += l->pkts;
        e->cur_pkts += f->obs[l->sender].pkts[d];
        e->cur_retrans += l->pkts; /* a path's window counts lost packets */
        e->last_ns = now_ns;
    }
}

void
ns_analysis_tick(ns_analysis_t *self, uint64_t now_ns)
{
    if (self->win_start == 0) {
        self->win_start = now_ns;
        return;
    }
    if (now_ns < self->win_start + self->o.window_ns)
        return;
    /* a gap of several windows leaves the last whole one empty */
    bool gap = now_ns >= self->win_start + 2 * self->o.window_ns;
    self->win_start = now_ns - (now_ns - self->win_start) % self->o.window_ns;
    uint64_t idle = 2 * self->o.window_ns;
    for (int k = 0; k < NS_AN_KINDS; k++) {
        table_t *t = &self->t[k];
        for (uint32_t i = 0; i < t->cap; i++) {
            if (!t->used[i])
                continue;
            entry_t *e = &t->e[i];
            if (now_ns > e->last_ns + idle) {
                table_del(t, i);
                continue;
            }
            e->win_pkts = gap ? 0 : e->cur_pkts;
            e->win_retrans = gap ? 0 : e->cur_retrans;
            e->burst_max = gap ? 0 : e->cur_burst_max;
            e->cur_pkts = e->cur_retrans = 0;
            e->cur_burst_max = 0;
        }
    }
}

/* ---- reading -------------------------------------------------------------------------------- */

/* The packets and bytes of the last whole second before now_ns. */
static void
last_second(const entry_t *e, uint64_t now_ns, uint64_t *pkts, uint64_t *bytes)
{
    uint64_t want = now_ns / NS_PER_S - 1;
    *pkts = *bytes = 0;
    if (e->sec == want) {
        *pkts = e->sec_pkts;
        *bytes = e->sec_bytes;
    } else if (e->prev_sec == want && e->sec == want + 1) {
        *pkts = e->prev_pkts;
        *bytes = e->prev_bytes;
    }
}

static void
row_of(const ns_analysis_t *self, ns_analysis_by_t by, uint32_t i, uint64_t now_ns,
       ns_analysis_row_t *row)
{
    const table_t *t = &self->t[by];
    const entry_t *e = &t->e[i];
    memset(row, 0, sizeof(*row));
    row->by = by;
    row->ip_ver = e->k.ip_ver;
    memcpy(&row->a, e->k.a, e->k.ip_ver == 4 ? 4u : 16u);
    memcpy(&row->b, e->k.b, e->k.ip_ver == 4 ? 4u : 16u);
    memcpy(row->service, e->k.service, sizeof(row->service));
    row->agent_a = e->k.agent_a;
    row->agent_b = e->k.agent_b;
    row->flows = e->flows;
    if (t->hs) {
        row->rtt_hs = t->hs[i];
        row->rtt_run = t->run[i];
    }
    memcpy(row->pkts, e->pkts, sizeof(row->pkts));
    memcpy(row->retrans, e->retrans, sizeof(row->retrans));
    memcpy(row->bytes, e->bytes, sizeof(row->bytes));
    uint64_t p, b;
    last_second(e, now_ns, &p, &b);
    row->pps = (double)p;
    row->bps = 8.0 * (double)b;
    row->win_pkts = e->win_pkts;
    row->win_retrans = e->win_retrans;
    row->burst_seconds = e->burst_seconds;
    row->burst_max = e->burst_max;
    row->lost = e->lost;
    row->last_ns = e->last_ns;
}

static double
sort_value(const ns_analysis_t *self, ns_analysis_by_t by, uint32_t i, ns_analysis_sort_t s,
           uint64_t now_ns)
{
    const table_t *t = &self->t[by];
    const entry_t *e = &t->e[i];
    switch (s) {
    case NS_AN_SORT_RTT_P95:
        if (!t->hs)
            return 0;
        return ns_qsk_quantile(t->hs[i].n ? &t->hs[i] : &t->run[i], 0.95);
    case NS_AN_SORT_RETRANS:
        return (double)e->win_retrans + (double)(e->retrans[0] + e->retrans[1]) * 1e-12;
    case NS_AN_SORT_RATE:
        return e->win_pkts ? (double)e->win_retrans / (double)e->win_pkts : 0;
    case NS_AN_SORT_LOST:
        return (double)e->lost;
    case NS_AN_SORT_BPS: {
        uint64_t p, b;
        last_second(e, now_ns, &p, &b);
        return (double)b + (double)(e->bytes[0] + e->bytes[1]) * 1e-15; /* ties: the total */
    }
    }
    return 0;
}

typedef struct {
    double v;
    uint32_t i;
} pick_t;

size_t
ns_analysis_top(const ns_analysis_t *self, ns_analysis_by_t by, ns_analysis_sort_t sort,
                uint64_t now_ns, ns_analysis_row_t *out, size_t max)
{
    if (by >= NS_AN_KINDS || max == 0)
        return 0;
    const table_t *t = &self->t[by];
    /* insertion into a sorted array of the best `max`: max is a page (tens), the table small */
    pick_t best[256];
    size_t cap = max < 256 ? max : 256, n = 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->used[i])
            continue;
        double v = sort_value(self, by, i, sort, now_ns);
        if (n == cap && v <= best[n - 1].v)
            continue;
        size_t at = n < cap ? n++ : n - 1;
        while (at > 0 && best[at - 1].v < v) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = (pick_t){v, i};
    }
    for (size_t k = 0; k < n; k++)
        row_of(self, by, best[k].i, now_ns, &out[k]);
    return n;
}

void
ns_analysis_stats(const ns_analysis_t *self, ns_analysis_stats_t *out)
{
    *out = self->st;
    for (int k = 0; k < NS_AN_KINDS; k++)
        out->held[k] = self->t[k].n;
}

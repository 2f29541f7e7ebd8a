/* live.c - per-second live analyses over the merged flow updates (see live.h).
 *
 * Design: everything counted lives in rings of NS_LIVE_WINDOW_S per-second slots, slot
 * s % 60 holding second s. A ring remembers the newest second it holds (`last_s`) and is
 * advanced lazily: slots between its newest second and the current one are zeroed when it is
 * next written, so an idle host costs nothing per second, and a reader knows that slot s is
 * valid exactly when last_s - 60 < s <= last_s. Hosts and host pairs share one fixed table
 * type (a key, a ring, a chained hash index); a full table replaces the smallest of a few
 * sampled entries (live.h explains why sampling). Protocol labels are few: a linear table.
 */
#include "netscope/live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/sketch.h"

#define NS_PER_S 1000000000ull
#define EVICT_SAMPLE 8u
#define RTT_OCTAVES 48u /* 1 us .. 2^48 us */
#define RTT_SUB 4u      /* buckets per octave */
#define RTT_BUCKETS (RTT_OCTAVES * RTT_SUB)
#define OTHER_LABEL "other"

typedef struct {
    uint64_t bytes;
    uint32_t pkts, flows;
} slot_t;

typedef struct {
    uint64_t last_s;
    uint64_t bytes; /* the sum of s[].bytes, kept as slots fill and clear (ring_window_bytes) */
    slot_t s[NS_LIVE_WINDOW_S];
} ring_t;

/* A host (b zero) or a directed host pair. */
typedef struct {
    uint8_t ver;
    uint8_t a[16], b[16];
} lkey_t;

typedef struct {
    lkey_t k;
    uint32_t next;   /* hash chain; UINT32_MAX ends it */
    uint32_t bucket; /* its chain: eviction unlinks without hashing the key again */
    ring_t r;
} entry_t;

typedef struct {
    uint32_t cap, n, hand, mask;
    uint32_t *bucket;
    entry_t *e;
} table_t;

typedef struct {
    char name[NS_LIVE_LABEL_MAX];
    ring_t r;
} proto_t;

typedef struct {
    uint64_t s[2]; /* which second each slot holds */
    uint64_t bytes[2], pkts[2];
} agent_t;

struct ns_live {
    ns_live_opts_t o;
    uint64_t newest_s;
    ring_t total;   /* flows = new flows */
    ring_t retrans; /* pkts = retransmissions */
    uint64_t rtt_last_s;
    uint32_t rtt[NS_LIVE_TOP_S][RTT_BUCKETS];
    table_t hosts, edges;
    uint32_t n_protos;
    proto_t protos[NS_LIVE_PROTOS_MAX + 1]; /* the last one: "other" */
    agent_t *agents;
    ns_live_stats_t st;
};

/* ---- rings ----------------------------------------------------------------------------------- */

static void
ring_add(ring_t *r, uint64_t cur, uint64_t bytes, uint64_t pkts, uint32_t flows)
{
    if (cur > r->last_s) {
        if (cur - r->last_s >= NS_LIVE_WINDOW_S) {
            memset(r->s, 0, sizeof(r->s));
            r->bytes = 0;
        } else {
            for (uint64_t s = r->last_s + 1; s <= cur; s++) {
                r->bytes -= r->s[s % NS_LIVE_WINDOW_S].bytes;
                r->s[s % NS_LIVE_WINDOW_S] = (slot_t){0};
            }
        }
        r->last_s = cur;
    }
    slot_t *x = &r->s[r->last_s % NS_LIVE_WINDOW_S];
    x->bytes += bytes;
    r->bytes += bytes;
    x->pkts += (uint32_t)(pkts > UINT32_MAX - x->pkts ? UINT32_MAX - x->pkts : pkts);
    x->flows += flows;
}

/* Sum of seconds cur - w + 1 .. cur (w <= NS_LIVE_WINDOW_S). */
static slot_t
ring_sum(const ring_t *r, uint64_t cur, uint32_t w)
{
    slot_t t = {0};
    for (uint32_t i = 0; i < w && i <= cur; i++) {
        uint64_t s = cur - i;
        if (s > r->last_s || r->last_s - s >= NS_LIVE_WINDOW_S)
            continue;
        const slot_t *x = &r->s[s % NS_LIVE_WINDOW_S];
        t.bytes += x->bytes;
        t.pkts += x->pkts;
        t.flows += x->flows;
    }
    return t;
}

/* ring_sum(r, cur, NS_LIVE_WINDOW_S).bytes without visiting every slot: the ring's total less
 * the seconds it still holds that are older than the window (cur - last_s of them, few for
 * an entry still in use). Eviction asks this of EVICT_SAMPLE entries for every host or pair
 * that finds its table full, which under churn is most updates. */
static uint64_t
ring_window_bytes(const ring_t *r, uint64_t cur)
{
    if (cur < r->last_s)
        return ring_sum(r, cur, NS_LIVE_WINDOW_S).bytes;
    if (cur - r->last_s >= NS_LIVE_WINDOW_S)
        return 0;
    uint64_t b = r->bytes;
    for (uint64_t s = r->last_s + 1; s <= cur; s++) /* seconds s - NS_LIVE_WINDOW_S */
        b -= r->s[s % NS_LIVE_WINDOW_S].bytes;
    return b;
}

/* ---- the host and pair tables ------------------------------------------------------------------
 */

static bool
table_init(table_t *t, uint32_t cap)
{
    uint32_t nb = 16;
    while (nb < cap)
        nb <<= 1;
    t->cap = cap;
    t->mask = nb - 1;
    t->bucket = malloc((size_t)nb * sizeof(*t->bucket));
    t->e = calloc(cap, sizeof(*t->e));
    if (t->bucket == NULL || t->e == NULL)
        return false;
    memset(t->bucket, 0xff, (size_t)nb * sizeof(*t->bucket));
    return true;
}

static void
table_fini(table_t *t)
{
    free(t->bucket);
    free(t->e);
}

static uint32_t
table_hash(const table_t *t, const lkey_t *k, uint64_t seed)
{
    return (uint32_t)ns_sketch_hash(k, sizeof(*k), seed) & t->mask;
}

static void
table_unlink(table_t *t, uint32_t idx)
{
    uint32_t *p = &t->bucket[t->e[idx].bucket];
    while (*p != UINT32_MAX && *p != idx)
        p = &t->e[*p].next;
    if (*p == idx)
        *p = t->e[idx].next;
}

/* The entry of `k`, added when missing (replacing a small one when full: *evicted). */
static entry_t *
table_get(table_t *t, const lkey_t *k, uint64_t cur, uint64_t seed, uint64_t *evicted)
{
    uint32_t h = table_hash(t, k, seed);
    for (uint32_t i = t->bucket[h]; i != UINT32_MAX; i = t->e[i].next)
        if (memcmp(&t->e[i].k, k, sizeof(*k)) == 0)
            return &t->e[i];
    uint32_t idx;
    if (t->n < t->cap) {
        idx = t->n++;
    } else {
        idx = t->hand % t->cap;
        uint64_t least = UINT64_MAX;
        for (uint32_t j = 0; j < EVICT_SAMPLE; j++) {
            uint32_t c = (t->hand + j) % t->cap;
            uint64_t b = ring_window_bytes(&t->e[c].r, cur);
            if (b < least) {
                least = b;
                idx = c;
            }
        }
        t->hand = (t->hand + EVICT_SAMPLE) % t->cap;
        table_unlink(t, idx);
        (*evicted)++;
    }
    entry_t *e = &t->e[idx];
    memset(e, 0, sizeof(*e));
    e->k = *k;
    e->r.last_s = cur;
    e->bucket = h;
    e->next = t->bucket[h];
    t->bucket[h] = idx;
    return e;
}

/* ---- RTT histogram --------------------------------------------------------------------------- */

static uint32_t
rtt_bucket(uint64_t rtt_ns)
{
    uint64_t us = rtt_ns / 1000u;
    if (us < 1)
        us = 1;
    uint32_t oct = 63u - (uint32_t)__builtin_clzll(us);
    if (oct >= RTT_OCTAVES)
        return RTT_BUCKETS - 1;
    uint32_t sub = oct >= 2 ? (uint32_t)(us >> (oct - 2)) & 3u : 0;
    return oct * RTT_SUB + sub;
}

/* The middle of bucket `b`, in ms. */
static double
rtt_bucket_ms(uint32_t b)
{
    uint32_t oct = b / RTT_SUB, sub = b % RTT_SUB;
    double lo, hi;
    if (oct < 2) {
        lo = (double)(1ull << oct);
        hi = lo * 2.0;
    } else {
        lo = (double)((4ull + sub) << (oct - 2));
        hi = (double)((5ull + sub) << (oct - 2));
    }
    return (lo + hi) / 2.0 / 1000.0;
}

static void
rtt_add(ns_live_t *l, uint64_t cur, uint64_t rtt_ns)
{
    if (cur > l->rtt_last_s) {
        if (cur - l->rtt_last_s >= NS_LIVE_TOP_S)
            memset(l->rtt, 0, sizeof(l->rtt));
        else
            for (uint64_t s = l->rtt_last_s + 1; s <= cur; s++)
                memset(l->rtt[s % NS_LIVE_TOP_S], 0, sizeof(l->rtt[0]));
        l->rtt_last_s = cur;
    }
    l->rtt[cur % NS_LIVE_TOP_S][rtt_bucket(rtt_ns)]++;
}

static void
rtt_quantiles(const ns_live_t *l, uint64_t cur, double *p50, double *p95)
{
    uint64_t h[RTT_BUCKETS] = {0}, n = 0;
    for (uint32_t i = 0; i < NS_LIVE_TOP_S && i <= cur; i++) {
        uint64_t s = cur - i;
        if (s > l->rtt_last_s || l->rtt_last_s - s >= NS_LIVE_TOP_S)
            continue;
        for (uint32_t b = 0; b < RTT_BUCKETS; b++) {
            h[b] += l->rtt[s % NS_LIVE_TOP_S][b];
            n += l->rtt[s % NS_LIVE_TOP_S][b];
        }
    }
    *p50 = *p95 = -1.0;
    if (n == 0)
        return;
    /* the smallest bucket holding the ceil(q * n)-th sample */
    uint64_t want50 = (n + 1) / 2, want95 = (95 * n + 99) / 100, seen = 0;
    for (uint32_t b = 0; b < RTT_BUCKETS; b++) {
        seen += h[b];
        if (*p50 < 0 && seen >= want50)
            *p50 = rtt_bucket_ms(b);
        if (seen >= want95) {
            *p95 = rtt_bucket_ms(b);
            break;
        }
    }
}

/* ---- lifecycle
 * ----------------------------------------------------------------------------------- */

void
ns_live_opts_default(ns_live_opts_t *o)
{
    *o = (ns_live_opts_t){.max_hosts = 8192, .max_edges = 8192, .max_agents = 1024};
}

ns_live_t *
ns_live_new(const ns_live_opts_t *o, char *errbuf, size_t errlen)
{
    if (o->max_hosts < 16 || o->max_hosts > (1u << 22) || o->max_edges < 16 ||
        o->max_edges > (1u << 22) || o->max_agents < 1 || o->max_agents > 65536) {
        snprintf(errbuf, errlen, "live: hosts and edges must be 16 .. 4194304, agents 1 .. 65536");
        return NULL;
    }
    ns_live_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto oom;
    l->o = *o;
    l->agents = calloc(o->max_agents, sizeof(*l->agents));
    if (l->agents == NULL || !table_init(&l->hosts, o->max_hosts) ||
        !table_init(&l->edges, o->max_edges))
        goto oom;
    snprintf(l->protos[NS_LIVE_PROTOS_MAX].name, NS_LIVE_LABEL_MAX, "%s", OTHER_LABEL);
    return l;
oom:
    ns_live_destroy(&l);
    snprintf(errbuf, errlen, "live: out of memory");
    return NULL;
}

void
ns_live_destroy(ns_live_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_live_t *l = *self_p;
    table_fini(&l->hosts);
    table_fini(&l->edges);
    free(l->agents);
    free(l);
    *self_p = NULL;
}

size_t
ns_live_bytes(const ns_live_t *self)
{
    size_t tb = (size_t)(self->hosts.mask + 1 + self->edges.mask + 1) * sizeof(uint32_t);
    return sizeof(*self) + tb + (size_t)self->hosts.cap * sizeof(entry_t) +
           (size_t)self->edges.cap * sizeof(entry_t) + (size_t)self->o.max_agents * sizeof(agent_t);
}

void
ns_live_stats(const ns_live_t *self, ns_live_stats_t *out)
{
    *out = self->st;
}

/* ---- updates ----------------------------------------------------------------------------------
 */

const char *
ns_live_proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 58:
        return "icmp6";
    case 132:
        return "sctp";
    default:
        snprintf(buf, len, "%u", proto);
        return buf;
    }
}

/* Append `s` to the label at `n`, cut to fit as snprintf would cut it. */
static size_t
label_add(char label[NS_LIVE_LABEL_MAX], size_t n, const char *s)
{
    size_t len = strnlen(s, NS_LIVE_LABEL_MAX - 1 - n);
    memcpy(label + n, s, len);
    label[n + len] = '\0';
    return n + len;
}

static proto_t *
proto_get(ns_live_t *l, uint8_t proto, const char *service)
{
    char num[8], label[NS_LIVE_LABEL_MAX];
    const char *p = ns_live_proto_name(proto, num, sizeof(num));
    /* "%s/%s" or "%s", by hand: this runs for every update */
    size_t n = label_add(label, 0, p);
    if (service && service[0])
        label_add(label, label_add(label, n, "/"), service);
    for (uint32_t i = 0; i < l->n_protos; i++)
        if (strcmp(l->protos[i].name, label) == 0)
            return &l->protos[i];
    if (l->n_protos == NS_LIVE_PROTOS_MAX) {
        l->st.other_protos++;
        return &l->protos[NS_LIVE_PROTOS_MAX];
    }
    proto_t *x = &l->protos[l->n_protos++];
    memcpy(x->name, label, sizeof(label));
    return x;
}

static void
host_add(ns_live_t *l, uint8_t ver, const ns_addr_t *a, uint64_t cur, const ns_live_update_t *u)
{
    lkey_t k = {.ver = ver};
    memcpy(k.a, a->b, 16);
    entry_t *e = table_get(&l->hosts, &k, cur, l->o.seed, &l->st.evicted_hosts);
    ring_add(&e->r, cur, u->d_bytes, u->d_pkts, u->new_flow);
}

void
ns_live_update(ns_live_t *self, const ns_live_update_t *u, uint64_t now_ns)
{
    ns_live_t *l = self;
    if (u->d_pkts == 0 && u->d_bytes == 0 && u->d_retrans == 0 && !u->new_flow && !u->rtt_ns)
        return;
    l->st.updates++;
    uint64_t cur = now_ns / NS_PER_S;
    if (cur < l->newest_s)
        cur = l->newest_s; /* the clock stepped back: count it now (live.h) */
    l->newest_s = cur;
    if (u->agent < l->o.max_agents) {
        agent_t *a = &l->agents[u->agent];
        unsigned i = (unsigned)(cur % 2);
        if (a->s[i] != cur) {
            a->s[i] = cur;
            a->bytes[i] = a->pkts[i] = 0;
        }
        a->bytes[i] += u->d_bytes;
        a->pkts[i] += u->d_pkts;
    }
    if (!u->counted)
        return;
    ring_add(&l->total, cur, u->d_bytes, u->d_pkts, u->new_flow);
    if (u->d_retrans)
        ring_add(&l->retrans, cur, 0, u->d_retrans, 0);
    if (u->rtt_ns)
        rtt_add(l, cur, u->rtt_ns);
    if (u->ip_ver != 4 && u->ip_ver != 6)
        return;
    ring_add(&proto_get(l, u->proto, u->service)->r, cur, u->d_bytes, u->d_pkts, u->new_flow);
    host_add(l, u->ip_ver, &u->orig_h, cur, u);
    host_add(l, u->ip_ver, &u->resp_h, cur, u);
    lkey_t k = {.ver = u->ip_ver};
    memcpy(k.a, u->orig_h.b, 16);
    memcpy(k.b, u->resp_h.b, 16);
    entry_t *e = table_get(&l->edges, &k, cur, l->o.seed, &l->st.evicted_edges);
    ring_add(&e->r, cur, u->d_bytes, u->d_pkts, u->new_flow);
}

ns_live_rate_t
ns_live_agent_rate(const ns_live_t *self, uint32_t agent, uint64_t now_ns)
{
    uint64_t cur = now_ns / NS_PER_S;
    ns_live_rate_t r = {0};
    if (agent >= self->o.max_agents || cur == 0)
        return r;
    const agent_t *a = &self->agents[agent];
    unsigned i = (unsigned)((cur - 1) % 2);
    if (a->s[i] == cur - 1 && (a->bytes[i] || a->pkts[i])) {
        r.bps = (double)a->bytes[i] * 8.0;
        r.pps = (double)a->pkts[i];
    }
    return r;
}

/* ---- snapshots ---------------------------------------------------------------------------------
 */

typedef struct {
    uint64_t bytes;
    uint32_t idx;
} pick_t;

/* The snapshot's scratch: a min-heap of the best `cap` picks so far. */
typedef struct {
    pick_t *v;
    uint32_t n, cap;
} heap_t;

static bool
pick_less(const pick_t *a, const pick_t *b)
{
    return a->bytes < b->bytes || (a->bytes == b->bytes && a->idx > b->idx);
}

static void
heap_offer(heap_t *h, pick_t p)
{
    if (h->cap == 0)
        return;
    uint32_t i;
    if (h->n < h->cap) {
        i = h->n++;
        while (i > 0 && pick_less(&p, &h->v[(i - 1) / 2])) {
            h->v[i] = h->v[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h->v[i] = p;
        return;
    }
    if (!pick_less(&h->v[0], &p))
        return;
    i = 0; /* replace the root (the least) and sift down */
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && pick_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!pick_less(&h->v[c], &p))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = p;
}

static int
pick_desc(const void *a, const void *b)
{
    const pick_t *x = a, *y = b;
    return pick_less(y, x) ? -1 : pick_less(x, y) ? 1 : 0;
}

static int
proto_desc(const void *a, const void *b)
{
    const ns_live_proto_t *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static ns_host_addr_t
host_of(uint8_t ver, const uint8_t a[16])
{
    ns_host_addr_t h = {.ip_ver = ver};
    memcpy(h.addr.b, a, 16);
    return h;
}

struct ns_live_scratch {
    pick_t *picks;          /* max(max_nodes, max_edges, NS_LIVE_TALKERS) */
    uint32_t *node_of_host; /* host index -> 1 + node position, 0: not a node */
    uint32_t hosts_cap;
};

ns_live_snap_t *
ns_live_snap_new(uint32_t max_nodes, uint32_t max_edges)
{
    ns_live_snap_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    uint32_t np = max_nodes > max_edges ? max_nodes : max_edges;
    if (np < NS_LIVE_TALKERS)
        np = NS_LIVE_TALKERS;
    s->max_nodes = max_nodes;
    s->max_edges = max_edges;
    s->nodes = calloc(max_nodes ? max_nodes : 1, sizeof(*s->nodes));
    s->edges = calloc(max_edges ? max_edges : 1, sizeof(*s->edges));
    s->scratch = calloc(1, sizeof(*s->scratch));
    if (s->scratch)
        s->scratch->picks = calloc(np, sizeof(pick_t));
    if (s->nodes == NULL || s->edges == NULL || s->scratch == NULL || s->scratch->picks == NULL)
        ns_live_snap_destroy(&s);
    return s;
}

void
ns_live_snap_destroy(ns_live_snap_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_live_snap_t *s = *self_p;
    if (s->scratch) {
        free(s->scratch->picks);
        free(s->scratch->node_of_host);
        free(s->scratch);
    }
    free(s->nodes);
    free(s->edges);
    free(s);
    *self_p = NULL;
}

/* Node position (1-based) of each host: grown to the table's size once, then reused. */
static bool
scratch_hosts(struct ns_live_scratch *sc, uint32_t n)
{
    if (sc->hosts_cap < n) {
        uint32_t *v = realloc(sc->node_of_host, (size_t)n * sizeof(*v));
        if (v == NULL)
            return false;
        sc->node_of_host = v;
        sc->hosts_cap = n;
    }
    if (n) /* NULL until the first host */
        memset(sc->node_of_host, 0, (size_t)n * sizeof(uint32_t));
    return true;
}

static uint32_t
host_index(const ns_live_t *l, uint8_t ver, const uint8_t a[16])
{
    lkey_t k = {.ver = ver};
    memcpy(k.a, a, 16);
    for (uint32_t i = l->hosts.bucket[table_hash(&l->hosts, &k, l->o.seed)]; i != UINT32_MAX;
         i = l->hosts.e[i].next)
        if (memcmp(&l->hosts.e[i].k, &k, sizeof(k)) == 0)
            return i;
    return UINT32_MAX;
}

static void
snap_graph(const ns_live_t *l, uint64_t cur, ns_live_snap_t *out)
{
    struct ns_live_scratch *sc = out->scratch;
    out->n_nodes = out->n_edges = 0;
    if (!scratch_hosts(sc, l->hosts.n))
        return;
    heap_t h = {.v = sc->picks, .cap = out->max_nodes};
    for (uint32_t i = 0; i < l->hosts.n; i++) {
        uint64_t b = ring_sum(&l->hosts.e[i].r, cur, NS_LIVE_WINDOW_S).bytes;
        if (b)
            heap_offer(&h, (pick_t){b, i});
    }
    qsort(h.v, h.n, sizeof(pick_t), pick_desc);
    for (uint32_t i = 0; i < h.n; i++) {
        const lkey_t *k = &l->hosts.e[h.v[i].idx].k;
        out->nodes[i] = (ns_live_node_t){host_of(k->ver, k->a), h.v[i].bytes};
        sc->node_of_host[h.v[i].idx] = i + 1;
    }
    out->n_nodes = h.n;
    h = (heap_t){.v = sc->picks, .cap = out->max_edges};
    for (uint32_t i = 0; i < l->edges.n; i++) {
        const entry_t *e = &l->edges.e[i];
        uint64_t b = ring_sum(&e->r, cur, NS_LIVE_WINDOW_S).bytes;
        if (b == 0)
            continue;
        uint32_t a = host_index(l, e->k.ver, e->k.a), z = host_index(l, e->k.ver, e->k.b);
        if (a != UINT32_MAX && z != UINT32_MAX && sc->node_of_host[a] && sc->node_of_host[z])
            heap_offer(&h, (pick_t){b, i});
    }
    qsort(h.v, h.n, sizeof(pick_t), pick_desc);
    for (uint32_t i = 0; i < h.n; i++) {
        const lkey_t *k = &l->edges.e[h.v[i].idx].k;
        out->edges[i] =
            (ns_live_edge_t){host_of(k->ver, k->a), host_of(k->ver, k->b), h.v[i].bytes};
    }
    out->n_edges = h.n;
}

void
ns_live_snapshot(const ns_live_t *self, uint64_t now_ns, ns_live_snap_t *out)
{
    const ns_live_t *l = self;
    uint64_t cur = now_ns / NS_PER_S;
    out->now_ns = now_ns;
    slot_t last = cur ? ring_sum(&l->total, cur - 1, 1) : (slot_t){0};
    out->bps = (double)last.bytes * 8.0;
    out->pps = (double)last.pkts;
    out->new_flows_ps = (double)last.flows;
    out->retrans_ps = cur ? (double)ring_sum(&l->retrans, cur - 1, 1).pkts : 0.0;
    rtt_quantiles(l, cur, &out->rtt_ms_p50, &out->rtt_ms_p95);

    heap_t h = {.v = out->scratch->picks, .cap = NS_LIVE_TALKERS};
    for (uint32_t i = 0; i < l->hosts.n; i++) {
        uint64_t b = ring_sum(&l->hosts.e[i].r, cur, NS_LIVE_TOP_S).bytes;
        if (b)
            heap_offer(&h, (pick_t){b, i});
    }
    qsort(h.v, h.n, sizeof(pick_t), pick_desc);
    for (uint32_t i = 0; i < h.n; i++) {
        const entry_t *e = &l->hosts.e[h.v[i].idx];
        slot_t t = ring_sum(&e->r, cur, NS_LIVE_TOP_S);
        out->talkers[i] = (ns_live_talker_t){host_of(e->k.ver, e->k.a), t.bytes, t.pkts, t.flows};
    }
    out->n_talkers = h.n;

    out->n_protos = 0;
    for (uint32_t i = 0; i <= NS_LIVE_PROTOS_MAX; i++) {
        if (i < NS_LIVE_PROTOS_MAX && i >= l->n_protos)
            continue;
        slot_t t = ring_sum(&l->protos[i].r, cur, NS_LIVE_TOP_S);
        if (t.bytes == 0 && t.pkts == 0 && t.flows == 0)
            continue;
        ns_live_proto_t *p = &out->protos[out->n_protos++];
        memcpy(p->name, l->protos[i].name, sizeof(p->name));
        p->bytes = t.bytes;
        p->pkts = t.pkts;
        p->flows = t.flows;
    }
    qsort(out->protos, out->n_protos, sizeof(out->protos[0]), proto_desc);
    snap_graph(l, cur, out);
}

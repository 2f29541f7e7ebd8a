/* merge.c - the merged flow view: records of many agents matched to connections.
 *
 * Storage: merged flows in an array named by index (free list through `next`, never-used
 * indexes from `fresh`), observations in a pool of their own (most flows are seen by one agent,
 * so a flow holds only the indexes of its observations), a chained hash index (bucket heads,
 * `hnext` links; all flows with one key are on one chain, which is what lets a key map to
 * several merged flows: a reused 5-tuple, two agents at different times) and two queues
 * (live by update time, closed by closing time) through `prev`/`next`.
 *
 * Observations store their per-direction counters by canonical key SIDE (side 0 is the key's
 * addr[0]), not by the agent's orig/resp: agents disagree on the originator (mid-stream
 * starts, Zeek's flips), and by side two observations and two records of one observation
 * always compare like with like. A view turns everything to the merged orientation, and
 * computes totals and loss there, from the agents' addresses as they are at that moment.
 */
#include "netscope/merge.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { Q_FREE = 0, Q_LIVE, Q_CLOSED, Q_COUNT };

typedef struct {
    ns_merge_obs_t o;   /* per-direction arrays indexed by key side (see the file comment) */
    uint8_t orig_side;  /* the key side this agent calls the originator */
    uint32_t next_free; /* the pool's free list (meaningless while in use) */
} mobs_t;

typedef struct {
    ns_flow_key_t key;
    uint64_t serial;
    uint64_t update_ns, closed_ns;
    uint32_t hnext;      /* hash chain, NS_MERGE_NONE ends */
    uint32_t prev, next; /* queue links; `next` is the free list of free flows */
    uint32_t obs[NS_MERGE_OBS_MAX];
    uint8_t n_obs;
    uint8_t queue;       /* Q_* */
    uint8_t orig_side;   /* the key side of the merged originator */
    bool orient_sure;    /* orig_side comes from an observation that saw the start */
    char service[NS_FLOW_SERVICE_MAX];
    char community_id[NS_FLOW_CID_MAX];
} mflow_t;

typedef struct {
    ns_host_addr_t addrs[NS_MERGE_AGENT_ADDRS_MAX];
    uint32_t n;
    int64_t offset_ns;
} magent_t;

struct ns_merge {
    ns_merge_opts_t o;
    ns_merge_emit_fn emit;
    void *ud;
    mflow_t *flows;
    uint32_t fresh;     /* flows [fresh, capacity) never used */
    uint32_t free_head; /* free list through `next` */
    mobs_t *obs;
    uint32_t obs_fresh, obs_free;
    uint32_t *bucket;   /* chain heads */
    uint32_t mask;
    magent_t *agents;
    struct {
        uint32_t head, tail; /* head = oldest */
    } q[Q_COUNT];
    uint64_t serial;
    ns_merge_stats_t st;
};

void
ns_merge_opts_default(ns_merge_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->capacity = 262144;
    o->max_agents = 1024;
    o->tolerance_ns = NS_MERGE_TOLERANCE_DEFAULT_NS;
    o->idle_timeout_ns = NS_MERGE_IDLE_DEFAULT_NS;
}

ns_merge_t *
ns_merge_new(const ns_merge_opts_t *o, ns_merge_emit_fn emit, void *ud, char *errbuf,
             size_t errlen)
{
    if (o->capacity == 0 || o->capacity > NS_MERGE_MAX_CAPACITY) {
        snprintf(errbuf, errlen, "merge capacity %u is out of range (1 .. %u flows)",
                 o->capacity, NS_MERGE_MAX_CAPACITY);
        return NULL;
    }
    uint32_t n_obs = o->obs_capacity != 0 ? o->obs_capacity : 2u * o->capacity;
    if (n_obs < NS_MERGE_OBS_MAX || n_obs > 4u * NS_MERGE_MAX_CAPACITY) {
        snprintf(errbuf, errlen, "merge observation capacity %u is out of range (%u .. %u)",
                 n_obs, NS_MERGE_OBS_MAX, 4u * NS_MERGE_MAX_CAPACITY);
        return NULL;
    }
    if (o->max_agents == 0 || o->max_agents > NS_MERGE_MAX_AGENTS) {
        snprintf(errbuf, errlen, "merge agent count %u is out of range (1 .. %u)",
                 o->max_agents, NS_MERGE_MAX_AGENTS);
        return NULL;
    }
    ns_merge_t *m = calloc(1, sizeof(*m));
    uint32_t buckets = 1;
    while (buckets < o->capacity)
        buckets <<= 1;
    if (m != NULL) {
        m->flows = calloc(o->capacity, sizeof(*m->flows));
        m->obs = calloc(n_obs, sizeof(*m->obs));
        m->bucket = malloc((size_t)buckets * sizeof(*m->bucket));
        m->agents = calloc(o->max_agents, sizeof(*m->agents));
    }
    if (m == NULL || m->flows == NULL || m->obs == NULL || m->bucket == NULL ||
        m->agents == NULL) {
        snprintf(errbuf, errlen, "out of memory for a merge of %u flows and %u observations",
                 o->capacity, n_obs);
        ns_merge_destroy(&m);
        return NULL;
    }
    m->o = *o;
    m->o.obs_capacity = n_obs;
    m->emit = emit;
    m->ud = ud;
    m->free_head = m->obs_free = NS_MERGE_NONE;
    memset(m->bucket, 0xff, (size_t)buckets * sizeof(*m->bucket)); /* NS_MERGE_NONE */
    m->mask = buckets - 1;
    for (unsigned q = 0; q < Q_COUNT; q++)
        m->q[q].head = m->q[q].tail = NS_MERGE_NONE;
    return m;
}

void
ns_merge_destroy(ns_merge_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_merge_t *m = *self_p;
    free(m->flows);
    free(m->obs);
    free(m->bucket);
    free(m->agents);
    free(m);
    *self_p = NULL;
}

/* ---- small helpers --------------------------------------------------------------------- */

/* Copy a string field of a record, which need not be NUL-terminated within its array. */
static void
copy_str(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t n = strnlen(src, srclen);
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
sat_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Agent time `t` on the collector's clock. */
static uint64_t
shift(uint64_t t, int64_t offset_ns)
{
    if (offset_ns >= 0)
        return sat_add(t, (uint64_t)offset_ns);
    return sat_sub(t, (uint64_t)-(offset_ns + 1) + 1); /* -INT64_MIN does not fit */
}

/* An address as the merge compares it: an IPv4 address's unused 12 bytes cleared, so that a
 * producer leaving junk there cannot split one flow into two. */
static ns_addr_t
norm_addr(const ns_addr_t *a, uint8_t ip_ver)
{
    ns_addr_t n = *a;
    if (ip_ver == 4)
        memset(n.b + 4, 0, sizeof(n.b) - 4);
    return n;
}

/* ---- queues and the index -------------------------------------------------------------- */

static void
q_unlink(ns_merge_t *m, uint32_t fi)
{
    mflow_t *f = &m->flows[fi];
    if (f->prev != NS_MERGE_NONE)
        m->flows[f->prev].next = f->next;
    else
        m->q[f->queue].head = f->next;
    if (f->next != NS_MERGE_NONE)
        m->flows[f->next].prev = f->prev;
    else
        m->q[f->queue].tail = f->prev;
}

static void
q_append(ns_merge_t *m, uint32_t fi, unsigned q)
{
    mflow_t *f = &m->flows[fi];
    f->queue = (uint8_t)q;
    f->next = NS_MERGE_NONE;
    f->prev = m->q[q].tail;
    if (m->q[q].tail != NS_MERGE_NONE)
        m->flows[m->q[q].tail].next = fi;
    else
        m->q[q].head = fi;
    m->q[q].tail = fi;
}

static uint32_t
bucket_of(const ns_merge_t *m, const ns_flow_key_t *key)
{
    return (uint32_t)ns_flow_key_hash(key, m->o.seed) & m->mask;
}

static void
chain_del(ns_merge_t *m, uint32_t fi)
{
    uint32_t *link = &m->bucket[bucket_of(m, &m->flows[fi].key)];
    while (*link != fi)
        link = &m->flows[*link].hnext;
    *link = m->flows[fi].hnext;
}

static bool
flow_closed(const ns_merge_t *m, const mflow_t *f)
{
    for (unsigned i = 0; i < f->n_obs; i++) {
        const ns_merge_obs_t *o = &m->obs[f->obs[i]].o;
        if (!o->final && !o->superseded)
            return false;
    }
    return true;
}

/* Put flow `fi` in the queue its observations call for. `applied`: a record was just applied
 * at `now_ns` (the flow goes to the recent end of its queue); otherwise it moves only when
 * it changes queue. */
static void
requeue(ns_merge_t *m, uint32_t fi, uint64_t now_ns, bool applied)
{
    mflow_t *f = &m->flows[fi];
    unsigned q = flow_closed(m, f) ? Q_CLOSED : Q_LIVE;
    if (applied)
        f->update_ns = now_ns;
    if (!applied && f->queue == q)
        return;
    f->closed_ns = q == Q_CLOSED ? now_ns : 0;
    q_unlink(m, fi);
    q_append(m, fi, q);
}

/* ---- views ----------------------------------------------------------------------------- */

static void
flow_span(const ns_merge_t *m, const mflow_t *f, uint64_t *first, uint64_t *last)
{
    *first = UINT64_MAX;
    *last = 0;
    for (unsigned i = 0; i < f->n_obs; i++) {
        const ns_merge_obs_t *o = &m->obs[f->obs[i]].o;
        int64_t off = m->agents[o->agent].offset_ns;
        uint64_t a = shift(o->first_ns, off), b = shift(o->last_ns, off);
        if (a < *first)
            *first = a;
        if (b > *last)
            *last = b;
    }
}

static bool
agent_owns(const ns_merge_t *m, uint32_t agent, const ns_addr_t *addr, uint8_t ip_ver)
{
    const magent_t *g = &m->agents[agent];
    for (uint32_t i = 0; i < g->n; i++)
        if (g->addrs[i].ip_ver == ip_ver && memcmp(&g->addrs[i].addr, addr, sizeof(*addr)) == 0)
            return true;
    return false;
}

/* The first observation of `v` (other than `skip`) whose agent owns `addr`, or -1. */
static int
owner_obs(const ns_merge_t *m, const ns_merge_flow_t *v, const ns_addr_t *addr, int skip)
{
    for (unsigned i = 0; i < v->n_obs; i++)
        if ((int)i != skip && agent_owns(m, v->obs[i].agent, addr, v->key.ip_ver))
            return (int)i;
    return -1;
}

/* The observation (other than `skip`) with the most (`most`) or fewest packets in `dir`. */
static int
extreme_obs(const ns_merge_flow_t *v, unsigned dir, bool most, int skip)
{
    int best = -1;
    for (unsigned i = 0; i < v->n_obs; i++) {
        if ((int)i == skip)
            continue;
        uint64_t p = v->obs[i].pkts[dir];
        if (best < 0 || (most ? p > v->obs[best].pkts[dir] : p < v->obs[best].pkts[dir]))
            best = (int)i;
    }
    return best;
}

/* Totals and loss of direction `dir` of view `v` (observations already oriented). */
static void
view_direction(const ns_merge_t *m, ns_merge_flow_t *v, unsigned dir)
{
    const ns_addr_t *src = dir == 0 ? &v->orig_h : &v->resp_h;
    const ns_addr_t *dst = dir == 0 ? &v->resp_h : &v->orig_h;
    int s = owner_obs(m, v, src, -1);
    bool s_owned = s >= 0;
    if (!s_owned)
        s = extreme_obs(v, dir, true, -1);
    const ns_merge_obs_t *so = &v->obs[s];
    v->total_from[dir] = (uint8_t)s;
    v->pkts[dir] = so->pkts[dir];
    v->wire_bytes[dir] = so->wire_bytes[dir];
    v->ip_bytes[dir] = so->ip_bytes[dir];
    v->payload_bytes[dir] = so->payload_bytes[dir];
    v->app_bytes[dir] = so->app_bytes[dir];
    if (v->n_obs < 2)
        return;
    int r = owner_obs(m, v, dst, s);
    bool r_owned = r >= 0;
    if (!r_owned)
        r = extreme_obs(v, dir, false, s);
    const ns_merge_obs_t *ro = &v->obs[r];
    ns_merge_loss_t *l = &v->loss[dir];
    l->known = true;
    l->sender_owned = s_owned;
    l->receiver_owned = r_owned;
    l->exact = so->final && ro->final;
    l->sender = (uint8_t)s;
    l->receiver = (uint8_t)r;
    l->pkts = sat_sub(so->pkts[dir], ro->pkts[dir]);
    l->ip_bytes = sat_sub(so->ip_bytes[dir], ro->ip_bytes[dir]);
    l->sender_update_ns = so->update_ns;
    l->receiver_update_ns = ro->update_ns;
}

static void
fill_view(const ns_merge_t *m, uint32_t fi, ns_merge_flow_t *v)
{
    const mflow_t *f = &m->flows[fi];
    memset(v, 0, sizeof(*v));
    v->id = fi;
    v->serial = f->serial;
    v->key = f->key;
    v->state = f->queue == Q_CLOSED ? NS_MERGE_ALL_FINAL : NS_MERGE_LIVE;
    unsigned os = f->orig_side;
    v->orig_h = f->key.addr[os];
    v->orig_p = f->key.port[os];
    v->resp_h = f->key.addr[os ^ 1u];
    v->resp_p = f->key.port[os ^ 1u];
    memcpy(v->service, f->service, sizeof(v->service));
    memcpy(v->community_id, f->community_id, sizeof(v->community_id));
    flow_span(m, f, &v->first_ns, &v->last_ns);
    v->update_ns = f->update_ns;
    v->closed_ns = f->closed_ns;
    v->n_obs = f->n_obs;
    for (unsigned i = 0; i < f->n_obs; i++) {
        const mobs_t *ob = &m->obs[f->obs[i]];
        ns_merge_obs_t *o = &v->obs[i];
        *o = ob->o;
        o->flipped = ob->orig_side != os;
        for (unsigned d = 0; d < 2; d++) {
            unsigned s = os ^ d;
            o->pkts[d] = ob->o.pkts[s];
            o->wire_bytes[d] = ob->o.wire_bytes[s];
            o->ip_bytes[d] = ob->o.ip_bytes[s];
            o->payload_bytes[d] = ob->o.payload_bytes[s];
            o->app_bytes[d] = ob->o.app_bytes[s];
            o->tcp_flags[d] = ob->o.tcp_flags[s];
            o->retrans[d] = ob->o.retrans[s];
        }
    }
    for (unsigned d = 0; d < 2; d++)
        view_direction(m, v, d);
}

/* ---- flows and observations ------------------------------------------------------------ */

static void
remove_flow(ns_merge_t *m, uint32_t fi, ns_merge_end_t why)
{
    mflow_t *f = &m->flows[fi];
    if (m->emit != NULL) {
        ns_merge_flow_t v;
        fill_view(m, fi, &v);
        m->emit(m->ud, &v, why);
    }
    q_unlink(m, fi);
    chain_del(m, fi);
    for (unsigned i = 0; i < f->n_obs; i++) {
        m->obs[f->obs[i]].next_free = m->obs_free;
        m->obs_free = f->obs[i];
    }
    m->st.flows--;
    m->st.observations -= f->n_obs;
    if (f->n_obs >= 2)
        m->st.flows_multi--;
    f->queue = Q_FREE;
    f->next = m->free_head;
    m->free_head = fi;
}

/* The flow to evict, never `keep`: the oldest closed one, else the least recently updated. */
static uint32_t
victim(const ns_merge_t *m, uint32_t keep)
{
    static const unsigned order[] = {Q_CLOSED, Q_LIVE};
    for (unsigned i = 0; i < 2; i++) {
        uint32_t fi = m->q[order[i]].head;
        if (fi != NS_MERGE_NONE && fi == keep)
            fi = m->flows[fi].next;
        if (fi != NS_MERGE_NONE)
            return fi;
    }
    return NS_MERGE_NONE;
}

/* Evict until a free observation (and, with `need_flow`, a free flow) exists. Each eviction
 * frees a flow and at least one observation, and since the pool holds at least
 * NS_MERGE_OBS_MAX observations while `keep` holds fewer, there is always a victim. */
static void
make_room(ns_merge_t *m, uint32_t keep, bool need_flow)
{
    for (;;) {
        bool flow_ok = !need_flow || m->free_head != NS_MERGE_NONE || m->fresh < m->o.capacity;
        bool obs_ok = m->obs_free != NS_MERGE_NONE || m->obs_fresh < m->o.obs_capacity;
        if (flow_ok && obs_ok)
            return;
        uint32_t fi = victim(m, keep);
        assert(fi != NS_MERGE_NONE); /* see above: the options guarantee a victim */
        m->st.evicted++;
        remove_flow(m, fi, NS_MERGE_END_EVICTED);
    }
}

/* A zeroed observation of agent `agent` added to flow `fi` (room was made). */
static mobs_t *
attach_obs(ns_merge_t *m, uint32_t fi, uint32_t agent)
{
    uint32_t oi;
    if (m->obs_free != NS_MERGE_NONE) {
        oi = m->obs_free;
        m->obs_free = m->obs[oi].next_free;
    } else {
        oi = m->obs_fresh++;
    }
    mobs_t *ob = &m->obs[oi];
    memset(ob, 0, sizeof(*ob));
    ob->o.agent = agent;
    mflow_t *f = &m->flows[fi];
    f->obs[f->n_obs++] = oi;
    m->st.observations++;
    if (f->n_obs == 2)
        m->st.flows_multi++;
    return ob;
}

/* A new, empty flow for `key` (room was made), on the live queue, oriented with key side
 * `os` as the originator until an observer that saw the start says otherwise. */
static uint32_t
new_flow(ns_merge_t *m, const ns_flow_key_t *key, unsigned os, uint64_t now_ns)
{
    uint32_t fi;
    if (m->free_head != NS_MERGE_NONE) {
        fi = m->free_head;
        m->free_head = m->flows[fi].next;
    } else {
        fi = m->fresh++;
    }
    mflow_t *f = &m->flows[fi];
    memset(f, 0, sizeof(*f));
    f->key = *key;
    f->serial = ++m->serial;
    f->update_ns = now_ns;
    f->orig_side = (uint8_t)os;
    uint32_t b = bucket_of(m, key);
    f->hnext = m->bucket[b];
    m->bucket[b] = fi;
    q_append(m, fi, Q_LIVE);
    m->st.flows++;
    m->st.created++;
    return fi;
}

/* Take record `r` (whose originator is key side `os`) as observation `o`'s state. */
static void
obs_fill(ns_merge_obs_t *o, const ns_flow_rec_t *r, unsigned os, uint64_t now_ns)
{
    copy_str(o->uid, sizeof(o->uid), r->uid, sizeof(r->uid));
    o->kind = r->kind;
    o->end_reason = r->end_reason;
    o->quality = r->quality;
    o->final = r->kind == NS_FLOW_REC_FINAL;
    if (o->final)
        o->superseded = false;
    o->first_ns = r->first_ns;
    o->last_ns = r->last_ns;
    o->update_ns = now_ns;
    for (unsigned d = 0; d < 2; d++) {
        unsigned s = os ^ d;
        o->pkts[s] = r->pkts[d];
        o->wire_bytes[s] = r->wire_bytes[d];
        o->ip_bytes[s] = r->ip_bytes[d];
        o->payload_bytes[s] = r->payload_bytes[d];
        o->app_bytes[s] = r->app_bytes[d];
        o->tcp_flags[s] = r->tcp_flags[d];
        o->retrans[s] = r->retrans[d];
    }
    o->rtt_hs_ns = (r->hs & NS_FLOW_REC_HS_TOTAL) ? r->rtt_hs_ns : 0;
    o->rtt_n = r->rtt_n;
    copy_str(o->conn_state, sizeof(o->conn_state), r->conn_state, sizeof(r->conn_state));
    copy_str(o->history, sizeof(o->history), r->history, sizeof(r->history));
}

/* Apply record `r` to observation `ob` of flow `fi` (not stale). */
static void
apply(ns_merge_t *m, uint32_t fi, mobs_t *ob, const ns_flow_rec_t *r, unsigned os,
      uint64_t now_ns)
{
    mflow_t *f = &m->flows[fi];
    obs_fill(&ob->o, r, os, now_ns);
    ob->orig_side = (uint8_t)os;
    if (!f->orient_sure && !(r->quality & NS_FLOW_Q_MIDSTREAM)) {
        f->orig_side = (uint8_t)os; /* the first observer that saw the start decides */
        f->orient_sure = true;
    }
    if (f->service[0] == '\0')
        copy_str(f->service, sizeof(f->service), r->service, sizeof(r->service));
    if (f->community_id[0] == '\0')
        copy_str(f->community_id, sizeof(f->community_id), r->community_id,
                 sizeof(r->community_id));
    m->st.applied++;
    requeue(m, fi, now_ns, true);
}

/* ---- matching a record to a flow ------------------------------------------------------- */

static bool
is_stale(const ns_merge_obs_t *o, const ns_flow_rec_t *r, unsigned os)
{
    if (r->last_ns < o->last_ns)
        return true;
    for (unsigned d = 0; d < 2; d++)
        if (r->pkts[d] < o->pkts[os ^ d])
            return true;
    return false;
}

/* The observation of (agent, uid) among the flows with `key`: its flow in *fi_out. */
static mobs_t *
find_obs(ns_merge_t *m, const ns_flow_key_t *key, uint32_t agent, const char *uid,
         uint32_t *fi_out)
{
    for (uint32_t fi = m->bucket[bucket_of(m, key)]; fi != NS_MERGE_NONE;
         fi = m->flows[fi].hnext) {
        const mflow_t *f = &m->flows[fi];
        if (!ns_flow_key_eq(&f->key, key))
            continue;
        for (unsigned i = 0; i < f->n_obs; i++) {
            mobs_t *ob = &m->obs[f->obs[i]];
            if (ob->o.agent == agent && strcmp(ob->o.uid, uid) == 0) {
                *fi_out = fi;
                return ob;
            }
        }
    }
    return NULL;
}

/* Agent `agent` reports a new uid for `key`: its open observations with that key belong to
 * flows it has ended without our seeing the final. Close them. */
static void
supersede(ns_merge_t *m, const ns_flow_key_t *key, uint32_t agent, uint64_t now_ns)
{
    for (uint32_t fi = m->bucket[bucket_of(m, key)]; fi != NS_MERGE_NONE;
         fi = m->flows[fi].hnext) {
        mflow_t *f = &m->flows[fi];
        if (!ns_flow_key_eq(&f->key, key))
            continue;
        for (unsigned i = 0; i < f->n_obs; i++) {
            ns_merge_obs_t *o = &m->obs[f->obs[i]].o;
            if (o->agent == agent && !o->final && !o->superseded) {
                o->superseded = true;
                m->st.superseded++;
                requeue(m, fi, now_ns, false);
            }
        }
    }
}

static bool
has_agent(const ns_merge_t *m, const mflow_t *f, uint32_t agent)
{
    for (unsigned i = 0; i < f->n_obs; i++)
        if (m->obs[f->obs[i]].o.agent == agent)
            return true;
    return false;
}

/* The flow with `key` that record `r` of agent `agent` joins: no observation of that agent,
 * time spans overlapping within the tolerance (the one seen last when several do). */
static uint32_t
find_partner(const ns_merge_t *m, const ns_flow_key_t *key, uint32_t agent,
             const ns_flow_rec_t *r)
{
    int64_t off = m->agents[agent].offset_ns;
    uint64_t rf = shift(r->first_ns, off), rl = shift(r->last_ns, off);
    if (rl < rf)
        rl = rf;
    uint32_t best = NS_MERGE_NONE;
    uint64_t best_last = 0;
    for (uint32_t fi = m->bucket[bucket_of(m, key)]; fi != NS_MERGE_NONE;
         fi = m->flows[fi].hnext) {
        const mflow_t *f = &m->flows[fi];
        if (!ns_flow_key_eq(&f->key, key) || has_agent(m, f, agent))
            continue;
        uint64_t ff, fl;
        flow_span(m, f, &ff, &fl);
        if (rf > sat_add(fl, m->o.tolerance_ns) || sat_add(rl, m->o.tolerance_ns) < ff)
            continue;
        if (best == NS_MERGE_NONE || fl > best_last) {
            best = fi;
            best_last = fl;
        }
    }
    return best;
}

static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

ns_merge_rc_t
ns_merge_update(ns_merge_t *self, uint32_t agent, const ns_flow_rec_t *rec, uint64_t now_ns,
                uint32_t *id)
{
    ns_merge_info_t info;
    ns_merge_rc_t rc = ns_merge_update_info(self, agent, rec, now_ns, &info);
    if (id != NULL)
        *id = info.id;
    return rc;
}

ns_merge_rc_t
ns_merge_update_info(ns_merge_t *self, uint32_t agent, const ns_flow_rec_t *rec,
                     uint64_t now_ns, ns_merge_info_t *info)
{
    uint32_t fi = NS_MERGE_NONE;
    ns_merge_rc_t rc;
    /* the observation's counts before the record (zero for a new observation) */
    uint64_t p_pkts = 0, p_bytes = 0;
    uint32_t p_retrans = 0, p_rtt_n = 0;
    uint64_t p_dir[2] = {0, 0}, p_by_dir[2] = {0, 0}, p_rt_dir[2] = {0, 0}; /* record's way */
    bool p_rtt = false;
    memset(info, 0, sizeof(*info));
    self->st.updates++;
    if (agent >= self->o.max_agents || rec->kind > NS_FLOW_REC_FINAL ||
        (rec->ip_ver != 4 && rec->ip_ver != 6)) {
        self->st.invalid++;
        rc = NS_MERGE_INVALID;
        goto out;
    }
    ns_addr_t a = norm_addr(&rec->orig_h, rec->ip_ver);
    ns_addr_t b = norm_addr(&rec->resp_h, rec->ip_ver);
    ns_flow_key_t key;
    unsigned os = ns_flow_key_make(&key, rec->ip_ver, rec->proto, rec->vlan, &a, rec->orig_p,
                                   &b, rec->resp_p);
    char uid[NS_FLOW_UID_LEN + 1];
    copy_str(uid, sizeof(uid), rec->uid, sizeof(rec->uid));

    mobs_t *ob = find_obs(self, &key, agent, uid, &fi);
    if (ob != NULL) {
        if (ob->o.final && rec->kind == NS_FLOW_REC_FINAL) {
            self->st.dup_finals++;
            rc = NS_MERGE_DUP_FINAL;
        } else if (ob->o.final || is_stale(&ob->o, rec, os)) {
            self->st.stale++;
            rc = NS_MERGE_STALE;
        } else {
            p_pkts = ob->o.pkts[0] + ob->o.pkts[1];
            p_bytes = ob->o.wire_bytes[0] + ob->o.wire_bytes[1];
            p_retrans = ob->o.retrans[0] + ob->o.retrans[1];
            p_rtt = ob->o.rtt_hs_ns != 0;
            p_rtt_n = ob->o.rtt_n;
            for (unsigned d = 0; d < 2; d++) {
                p_dir[d] = ob->o.pkts[os ^ d];
                p_by_dir[d] = ob->o.wire_bytes[os ^ d];
                p_rt_dir[d] = ob->o.retrans[os ^ d];
            }
            apply(self, fi, ob, rec, os, now_ns);
            rc = NS_MERGE_APPLIED;
        }
        goto out;
    }

    supersede(self, &key, agent, now_ns);
    fi = find_partner(self, &key, agent, rec);
    if (fi != NS_MERGE_NONE) {
        if (self->flows[fi].n_obs >= NS_MERGE_OBS_MAX) {
            self->st.obs_dropped++;
            rc = NS_MERGE_TOO_MANY;
            goto out;
        }
        make_room(self, fi, false);
        self->st.joined++;
        rc = NS_MERGE_JOINED;
    } else {
        make_room(self, NS_MERGE_NONE, true);
        fi = new_flow(self, &key, os, now_ns);
        rc = NS_MERGE_NEW;
    }
    apply(self, fi, attach_obs(self, fi, agent), rec, os, now_ns);
out:
    info->id = fi;
    if (fi != NS_MERGE_NONE) {
        const mflow_t *f = &self->flows[fi];
        info->serial = f->serial;
        info->n_obs = f->n_obs;
        info->first_observer = f->n_obs > 0 && self->obs[f->obs[0]].o.agent == agent;
        info->had_rtt = p_rtt;
        if (rc == NS_MERGE_NEW || rc == NS_MERGE_JOINED || rc == NS_MERGE_APPLIED) {
            info->d_pkts = sub_sat(rec->pkts[0] + rec->pkts[1], p_pkts);
            info->d_wire_bytes = sub_sat(rec->wire_bytes[0] + rec->wire_bytes[1], p_bytes);
            uint64_t rt = (uint64_t)rec->retrans[0] + rec->retrans[1];
            info->d_retrans = (uint32_t)sub_sat(rt, p_retrans);
            for (unsigned d = 0; d < 2; d++) {
                info->d_pkts_dir[d] = sub_sat(rec->pkts[d], p_dir[d]);
                info->d_bytes_dir[d] = sub_sat(rec->wire_bytes[d], p_by_dir[d]);
                info->d_retrans_dir[d] = (uint32_t)sub_sat(rec->retrans[d], p_rt_dir[d]);
            }
            info->d_rtt_n = (uint32_t)sub_sat(rec->rtt_n, p_rtt_n);
        }
    }
    return rc;
}

/* ---- agents ---------------------------------------------------------------------------- */

ns_err_t
ns_merge_agent_add(ns_merge_t *self, uint32_t agent, const ns_host_addr_t *addrs, size_t n)
{
    if (agent >= self->o.max_agents)
        return NS_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (addrs[i].ip_ver != 4 && addrs[i].ip_ver != 6)
            return NS_EINVAL;
    magent_t *g = &self->agents[agent];
    size_t keep = n < NS_MERGE_AGENT_ADDRS_MAX ? n : NS_MERGE_AGENT_ADDRS_MAX;
    for (size_t i = 0; i < keep; i++) {
        g->addrs[i].addr = norm_addr(&addrs[i].addr, addrs[i].ip_ver);
        g->addrs[i].ip_ver = addrs[i].ip_ver;
    }
    g->n = (uint32_t)keep;
    return keep < n ? NS_EFULL : NS_OK;
}

void
ns_merge_agent_del(ns_merge_t *self, uint32_t agent)
{
    if (agent < self->o.max_agents)
        memset(&self->agents[agent], 0, sizeof(self->agents[agent]));
}

ns_err_t
ns_merge_agent_clock(ns_merge_t *self, uint32_t agent, int64_t offset_ns)
{
    if (agent >= self->o.max_agents)
        return NS_EINVAL;
    self->agents[agent].offset_ns = offset_ns;
    return NS_OK;
}

/* ---- expiry and reading ---------------------------------------------------------------- */

void
ns_merge_expire(ns_merge_t *self, uint64_t now_ns, uint64_t linger_ns)
{
    uint32_t fi;
    while ((fi = self->q[Q_CLOSED].head) != NS_MERGE_NONE &&
           now_ns >= self->flows[fi].closed_ns && now_ns - self->flows[fi].closed_ns >= linger_ns) {
        self->st.expired_closed++;
        remove_flow(self, fi, NS_MERGE_END_CLOSED);
    }
    uint64_t idle = self->o.idle_timeout_ns;
    while (idle != 0 && (fi = self->q[Q_LIVE].head) != NS_MERGE_NONE &&
           now_ns >= self->flows[fi].update_ns && now_ns - self->flows[fi].update_ns >= idle) {
        self->st.expired_idle++;
        remove_flow(self, fi, NS_MERGE_END_IDLE);
    }
}

void
ns_merge_flush(ns_merge_t *self)
{
    for (unsigned q = Q_LIVE; q < Q_COUNT; q++)
        while (self->q[q].head != NS_MERGE_NONE)
            remove_flow(self, self->q[q].head, NS_MERGE_END_FLUSH);
}

uint32_t
ns_merge_next(const ns_merge_t *self, uint32_t prev)
{
    for (uint32_t fi = prev == NS_MERGE_NONE ? 0 : prev + 1; fi < self->fresh; fi++)
        if (self->flows[fi].queue != Q_FREE)
            return fi;
    return NS_MERGE_NONE;
}

uint32_t
ns_merge_find(const ns_merge_t *self, const ns_flow_key_t *key, uint32_t prev)
{
    uint32_t fi;
    if (prev == NS_MERGE_NONE)
        fi = self->bucket[bucket_of(self, key)];
    else if (prev < self->fresh && self->flows[prev].queue != Q_FREE)
        fi = self->flows[prev].hnext;
    else
        return NS_MERGE_NONE;
    while (fi != NS_MERGE_NONE && !ns_flow_key_eq(&self->flows[fi].key, key))
        fi = self->flows[fi].hnext;
    return fi;
}

bool
ns_merge_view(const ns_merge_t *self, uint32_t id, ns_merge_flow_t *out)
{
    if (id >= self->fresh || self->flows[id].queue == Q_FREE)
        return false;
    fill_view(self, id, out);
    return true;
}

void
ns_merge_stats(const ns_merge_t *self, ns_merge_stats_t *out)
{
    *out = self->st;
}

const char *
ns_merge_rc_name(ns_merge_rc_t rc)
{
    static const char *const names[] = {"new",       "joined",   "applied", "stale",
                                        "dup_final", "too_many", "invalid"};
    return (unsigned)rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "unknown";
}

const char *
ns_merge_end_name(ns_merge_end_t why)
{
    static const char *const names[] = {"closed", "idle", "evicted", "flush"};
    return (unsigned)why < sizeof(names) / sizeof(names[0]) ? names[why] : "unknown";
}

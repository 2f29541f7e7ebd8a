/* flow_engine.c - the per-packet flow pipeline (see flow_engine.h).
 *
 * Per packet: fragments are resolved to ports, the canonical key is built and looked up; a
 * new flow evicts the least recently seen one when the table is full; the originator is
 * decided (the sender of the first packet, unless that packet is a SYN-ACK: then the flow is
 * flipped, Zeek's '^'); counters, TCP analysis and the application layer are updated; the
 * flow moves to the tail of the queue its state belongs in. Expiry runs at most every
 * EXPIRE_EVERY_NS of packet time, so a busy link pays for it a few times per second only.
 */
#include "netscope/flow_engine.h"

#include <stdlib.h>
#include <string.h>

#include "netscope/flow_frag.h"
#include "netscope/flow_key.h"
#include "netscope/flow_tcp.h"

#define EXPIRE_EVERY_NS 100000000ull /* 100 ms */
#define NS_PER_S 1000000000ull

#define IPPROTO_TCP_ 6

struct ns_flow_engine {
    ns_flow_table_t *table;
    ns_flow_frag_t *frag;
    ns_app_pool_t *app;
    ns_flow_expire_t expire;
    ns_flow_emit_fn emit;
    void *ud;
    uint64_t seed;
    uint64_t next_expire_ns;
    ns_flow_engine_stats_t st;
};

void
ns_flow_engine_opts_default(ns_flow_engine_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->max_flows = NS_FLOW_MAX_FLOWS_DEFAULT;
    ns_flow_expire_default(&o->expire);
    o->frag_slots = NS_FLOW_FRAG_SLOTS_DEFAULT;
    o->app = true;
    ns_app_limits_default(&o->app_limits);
}

ns_flow_engine_t *
ns_flow_engine_new(const ns_flow_engine_opts_t *o, ns_flow_emit_fn emit, void *ud)
{
    if (o == NULL || emit == NULL)
        return NULL;
    ns_flow_engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->table = ns_flow_table_new(o->max_flows, o->seed);
    e->frag = ns_flow_frag_new(o->frag_slots, o->seed ^ 0x9e3779b97f4a7c15ull);
    if (o->app)
        e->app = ns_app_pool_new(&o->app_limits);
    if (e->table == NULL || e->frag == NULL || (o->app && e->app == NULL)) {
        ns_flow_engine_destroy(&e);
        return NULL;
    }
    e->expire = o->expire;
    e->emit = emit;
    e->ud = ud;
    e->seed = o->seed;
    return e;
}

void
ns_flow_engine_destroy(ns_flow_engine_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_flow_engine_t *e = *self_p;
    ns_flow_table_destroy(&e->table);
    ns_flow_frag_destroy(&e->frag);
    ns_app_pool_destroy(&e->app);
    free(e);
    *self_p = NULL;
}

/* Write a final record for `idx` and forget the flow. */
static void
end_flow(ns_flow_engine_t *e, uint32_t idx, ns_flow_end_t reason, uint64_t now_ns)
{
    e->st.records[reason]++;
    e->emit(e->ud, e, idx, reason, now_ns);
    ns_flow_t *f = ns_flow_table_get(e->table, idx);
    if (e->app)
        ns_app_release(e->app, &f->app);
    ns_flow_table_del(e->table, idx);
}

void
ns_flow_engine_expire(ns_flow_engine_t *self, uint64_t now_ns)
{
    ns_flow_end_t reason;
    uint32_t idx;
    while ((idx = ns_flow_expire_due(&self->expire, self->table, now_ns, &reason)) !=
           NS_FLOW_NONE)
        end_flow(self, idx, reason, now_ns);
}

void
ns_flow_engine_flush(ns_flow_engine_t *self, ns_flow_end_t reason, uint64_t now_ns)
{
    uint32_t idx;
    while ((idx = ns_flow_table_lru(self->table)) != NS_FLOW_NONE) {
        const ns_flow_t *f = ns_flow_table_cget(self->table, idx);
        /* A TCP flow already closed (both FINs, or a RST) and only lingering for late packets
         * ended for that reason, not because the input did. */
        ns_flow_end_t why = reason;
        if (reason == NS_FLOW_END_END_OF_INPUT && f->queue == NS_FLOWQ_TCP_CLOSED)
            why = ns_flow_expire_closed_reason(f);
        end_flow(self, idx, why, now_ns ? now_ns : f->last_ns);
    }
}

static void
global_rate_add(ns_flow_engine_stats_t *st, uint64_t now_ns, uint32_t wire_len)
{
    uint64_t sec = now_ns / NS_PER_S, last = st->thr_last_ns / NS_PER_S;
    if (sec == last + 1) {
        st->thr_bytes[1] = st->thr_bytes[0];
        st->thr_pkts[1] = st->thr_pkts[0];
        st->thr_bytes[0] = st->thr_pkts[0] = 0;
    } else if (sec != last) {
        st->thr_bytes[0] = st->thr_bytes[1] = st->thr_pkts[0] = st->thr_pkts[1] = 0;
    }
    st->thr_bytes[0] += wire_len;
    st->thr_pkts[0]++;
    if (now_ns > st->thr_last_ns)
        st->thr_last_ns = now_ns;
}

void
ns_flow_engine_rate(const ns_flow_engine_t *self, uint64_t now_ns, double *bps, double *pps)
{
    const ns_flow_engine_stats_t *st = &self->st;
    uint64_t sec = now_ns / NS_PER_S, last = st->thr_last_ns / NS_PER_S;
    double frac = (double)(now_ns % NS_PER_S) / (double)NS_PER_S;
    double b = 0, p = 0;
    if (sec == last) {
        b = (double)st->thr_bytes[0] + (double)st->thr_bytes[1] * (1.0 - frac);
        p = (double)st->thr_pkts[0] + (double)st->thr_pkts[1] * (1.0 - frac);
    } else if (sec == last + 1) {
        b = (double)st->thr_bytes[0] * (1.0 - frac);
        p = (double)st->thr_pkts[0] * (1.0 - frac);
    }
    *bps = b * 8.0;
    *pps = p;
}

/* Add `v` to a 32-bit counter of flow `idx`; a wrap carries into the table's high word. */
static inline void
count(ns_flow_table_t *t, uint32_t idx, unsigned which, uint32_t *ctr, uint32_t v)
{
    uint32_t n = *ctr + v;
    if (n < *ctr)
        ns_flow_table_carry(t, idx, which);
    *ctr = n;
}

/* A new flow for `key`: evict first when full. Returns its index. */
static uint32_t
new_flow(ns_flow_engine_t *e, const ns_flow_key_t *key, uint64_t hash, uint64_t now_ns)
{
    if (ns_flow_table_count(e->table) >= ns_flow_table_capacity(e->table)) {
        uint32_t victim = ns_flow_table_lru(e->table);
        end_flow(e, victim, NS_FLOW_END_EVICTED, now_ns);
    }
    ns_flow_t probe;
    memset(&probe, 0, sizeof(probe));
    probe.proto = key->proto;
    uint32_t idx = ns_flow_table_add(e->table, key, hash, ns_flow_expire_queue(&probe), now_ns);
    e->st.flows++;
    return idx;
}

void
ns_flow_engine_add(ns_flow_engine_t *self, const ns_pkt_t *pkt, const uint8_t *frame)
{
    ns_flow_engine_t *e = self;
    uint64_t now = pkt->ts_ns;
    e->st.packets++;
    e->st.wire_bytes += pkt->wire_len;
    global_rate_add(&e->st, now, pkt->wire_len);
    if (pkt->cap_len < pkt->wire_len)
        e->st.truncated++;
    if (now >= e->next_expire_ns) {
        ns_flow_engine_expire(e, now);
        e->next_expire_ns = now + EXPIRE_EVERY_NS;
    }
    if (pkt->ip_ver != 4 && pkt->ip_ver != 6) {
        e->st.non_ip++;
        return;
    }

    ns_flow_key_t key;
    unsigned side;
    bool later_frag = (pkt->ip_flags & NS_IP_FRAG) && pkt->frag_off != 0;
    if (later_frag) {
        uint16_t sp, dp;
        if (!ns_flow_frag_find(e->frag, pkt, now, &sp, &dp)) {
            e->st.frag_unattributed++;
            return;
        }
        e->st.frag_attributed++;
        uint16_t vlan = pkt->vlan_n > 0 ? (uint16_t)(pkt->vlan[0] & 0x0fffu) : 0;
        side = ns_flow_key_make(&key, pkt->ip_ver, pkt->ip_proto, vlan, &pkt->src, sp,
                                &pkt->dst, dp);
    } else {
        side = ns_flow_key_from_pkt(pkt, &key);
        if (pkt->ip_flags & NS_IP_FRAG)
            ns_flow_frag_learn(e->frag, pkt, key.port[side], key.port[side ^ 1u]);
    }

    uint64_t hash = ns_flow_table_hash(e->table, &key);
    uint32_t idx = ns_flow_table_find(e->table, &key, hash);
    bool tcp = pkt->ip_proto == IPPROTO_TCP_ && !later_frag &&
               (pkt->layers & NS_HAS(NS_LAYER_TCP)) &&
               !(pkt->err_layer == NS_LAYER_TCP && pkt->err_rc != NS_PARSE_OK);
    ns_flow_t *f;
    if (idx == NS_FLOW_NONE) {
        idx = new_flow(e, &key, hash, now);
        f = ns_flow_table_get(e->table, idx);
        unsigned orig = side;
        /* A SYN-ACK first: its receiver is the one that must have sent the SYN. */
        if (tcp && (pkt->tcp_flags & (NS_TCP_SYN | NS_TCP_ACK)) == (NS_TCP_SYN | NS_TCP_ACK)) {
            orig ^= 1u;
            f->fl |= NS_FLOW_F_FLIPPED;
            f->quality |= NS_FLOW_Q_MIDSTREAM;
            ns_flow_tcp_flipped(ns_flow_table_tcp(e->table, idx));
        }
        if (orig)
            f->fl |= NS_FLOW_F_ORIG_HI;
    } else {
        f = ns_flow_table_get(e->table, idx);
    }
    unsigned dir = side == ((f->fl & NS_FLOW_F_ORIG_HI) ? 1u : 0u) ? 0u : 1u;

    ns_flow_rate_add(f, now, pkt->wire_len);
    uint64_t prev_ns = f->last_ns;
    if (now > f->last_ns)
        f->last_ns = now;
    ns_flow_dir_t *d = &f->d[dir];
    count(e->table, idx, dir * 4u + 0u, &d->pkts, 1);
    count(e->table, idx, dir * 4u + 1u, &d->wire_bytes, pkt->wire_len);
    count(e->table, idx, dir * 4u + 2u, &d->ip_bytes, pkt->ip_len);
    count(e->table, idx, dir * 4u + 3u, &d->payload_bytes, pkt->payload_len);
    if (pkt->cap_len < pkt->wire_len)
        f->quality |= NS_FLOW_Q_TRUNCATED;
    if (pkt->ip_flags & NS_IP_FRAG)
        f->quality |= NS_FLOW_Q_FRAGMENTS;
    e->st.in_flows++;

    if (tcp && f->proto == IPPROTO_TCP_)
        ns_flow_tcp_update(e->table, idx, dir, pkt, now);
    if (e->app && !later_frag && (pkt->payload_len > 0 || pkt->app != NS_APP_NONE))
        ns_app_update(e->app, &f->app, pkt, frame, dir, now);

    ns_flow_table_touch(e->table, idx, ns_flow_expire_queue(f));
    /* One interim record when this packet crosses an active-timeout boundary (however many
     * it crosses: sparse packets do not make a burst of interim records). */
    if (ns_flow_expire_interim_due(&e->expire, f->first_ns, prev_ns, now)) {
        e->st.records[NS_FLOW_END_ACTIVE_TIMEOUT]++;
        e->emit(e->ud, e, idx, NS_FLOW_END_ACTIVE_TIMEOUT, now);
    }
}

uint32_t
ns_flow_engine_interim_n(const ns_flow_engine_t *self, uint32_t idx, ns_flow_end_t reason)
{
    const ns_flow_t *f = ns_flow_table_cget(self->table, idx);
    if (self->expire.active_ns == 0 || f->last_ns < f->first_ns)
        return 0;
    uint64_t n = (f->last_ns - f->first_ns) / self->expire.active_ns;
    if (reason == NS_FLOW_END_ACTIVE_TIMEOUT && n > 0)
        n--; /* the record being written is not one "before" it */
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

const ns_flow_table_t *
ns_flow_engine_table(const ns_flow_engine_t *self)
{
    return self->table;
}

const ns_app_pool_t *
ns_flow_engine_app(const ns_flow_engine_t *self)
{
    return self->app;
}

const ns_flow_engine_stats_t *
ns_flow_engine_stats(const ns_flow_engine_t *self)
{
    return &self->st;
}

static uint64_t
mix64(uint64_t x)
{
    /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

size_t
ns_flow_engine_uid(const ns_flow_engine_t *self, uint32_t idx, char *out, size_t outlen)
{
    static const char digits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    /* The flow's key and first packet time name it (the same key at the same nanosecond
     * twice would need a flow to end where it began); the seed makes it unguessable. */
    const ns_flow_t *f = ns_flow_table_cget(self->table, idx);
    ns_flow_key_t key;
    ns_flow_table_key(self->table, idx, &key);
    uint64_t a = mix64(ns_flow_key_hash(&key, self->seed) ^ mix64(f->first_ns + idx));
    uint64_t b = mix64(a ^ 0x9e3779b97f4a7c15ull);
    char buf[19];
    size_t n = 0;
    buf[n++] = 'C';
    for (int i = 0; i < 9; i++, a /= 62)
        buf[n++] = digits[a % 62];
    for (int i = 0; i < 8; i++, b /= 62)
        buf[n++] = digits[b % 62];
    if (outlen == 0)
        return 0;
    size_t m = n < outlen - 1 ? n : outlen - 1;
    memcpy(out, buf, m);
    out[m] = '\0';
    return m;
}

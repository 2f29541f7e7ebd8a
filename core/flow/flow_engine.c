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
#include "flow_rec_int.h"

#define EXPIRE_EVERY_NS 100000000ull /* 100 ms */
#define NS_PER_S 1000000000ull

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* Tunnel handling, off the path of other packets. */
#define NS_FLOW_COLD __attribute__((noinline, cold))

/* Zeek's UDP history (flow.h, NS_FLOW_UH_*): a datagram whose UDP header was read marks its
 * direction; a later fragment does not (Zeek reassembles first: one datagram, one letter). */
static void
udp_history(ns_flow_t *f, unsigned dir)
{
    uint8_t bit = dir ? NS_FLOW_UH_RESP : NS_FLOW_UH_ORIG;
    if (f->uhist & bit)
        return;
    if (dir && !(f->uhist & NS_FLOW_UH_ORIG))
        f->uhist |= NS_FLOW_UH_RESP_FIRST;
    f->uhist |= bit;
}

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
    uint64_t last_hash; /* of the latest packet's flow, 0: none */

    /* clock (see "Time" in flow_engine.h) */
    uint64_t clock_ns;    /* latest trusted time; 0 before the first */
    bool pend;            /* a packet far from the clock waits for a second one to agree */
    bool pend_ahead;      /* ... it was ahead of the clock (accounted at pend_eff_ns) */
    bool pend_created;    /* ... it created flow pend_idx */
    uint64_t pend_ns;     /* its timestamp */
    uint64_t pend_eff_ns; /* the time it was accounted at */
    uint32_t pend_idx;    /* its flow, NS_FLOW_NONE when none (or gone) */

    /* export: flows changed since the last export */
    bool export_live;
    uint32_t *dirty;     /* their indexes, dirty_n of them */
    uint32_t *dirty_pos; /* per flow: 1 + its position in dirty, 0 when clean */
    uint32_t dirty_n;

    /* the record handed to the callback, and its transaction arrays */
    ns_flow_rec_t rec;
    ns_app_http_tx_t *http;
    ns_app_dns_tx_t *dns;
    uint32_t http_cap, dns_cap;

    /* tunnels: per flow with NS_FLOW_F_TUNNELED, the uid of the flow that carried it (Zeek's
     * tunnel_parents); allocated at the first tunnelled packet, pages touched only by such
     * flows; carrier: the scratch summary of a tunnel's outer packet */
    char (*tun_parent)[NS_FLOW_UID_LEN + 1];
    ns_pkt_t *carrier;
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
    if (o->app) {
        e->app = ns_app_pool_new(&o->app_limits);
        if (e->app) {
            const ns_app_limits_t *lim = ns_app_pool_limits(e->app);
            e->http_cap = lim->max_http_tx;
            e->dns_cap = lim->max_dns_tx;
            e->http = calloc(e->http_cap, sizeof(*e->http));
            e->dns = calloc(e->dns_cap, sizeof(*e->dns));
        }
    }
    e->export_live = o->export_live;
    if (e->export_live && e->table) {
        uint32_t cap = ns_flow_table_capacity(e->table);
        e->dirty = calloc(cap, sizeof(*e->dirty));
        e->dirty_pos = calloc(cap, sizeof(*e->dirty_pos));
    }
    if (e->table == NULL || e->frag == NULL ||
        (o->app && (e->app == NULL || e->http == NULL || e->dns == NULL)) ||
        (e->export_live && (e->dirty == NULL || e->dirty_pos == NULL))) {
        ns_flow_engine_destroy(&e);
        return NULL;
    }
    e->expire = o->expire;
    e->emit = emit;
    e->ud = ud;
    e->seed = o->seed;
    e->pend_idx = NS_FLOW_NONE;
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
    free(e->dirty);
    free(e->dirty_pos);
    free(e->tun_parent);
    free(e->carrier);
    free(e->http);
    free(e->dns);
    free(e);
    *self_p = NULL;
}

/* ---- records ----------------------------------------------------------------------------- */

/* The transactions a record of flow `f` carries: with export, those from the flow's mark on,
 * up to the first one not complete yet (all of them in a final record); without, all kept. */
static void
fill_app(ns_flow_engine_t *e, const ns_flow_t *f, ns_flow_rec_t *r)
{
    const char *svc = ns_app_service(e->app, f->app);
    if (svc) {
        size_t n = strlen(svc);
        if (n < sizeof(r->service))
            memcpy(r->service, svc, n + 1);
    }
    r->http_total = ns_app_http_count(e->app, f->app);
    r->dns_total = ns_app_dns_count(e->app, f->app);
    r->dns_unanswered = ns_app_dns_unanswered(e->app, f->app);
    bool all = !e->export_live || r->kind == NS_FLOW_REC_FINAL;
    uint32_t kept = ns_app_http_kept(e->app, f->app);
    uint32_t i = e->export_live ? ns_app_http_sent(e->app, f->app) : 0;
    for (; i < kept && r->n_http < e->http_cap; i++) {
        ns_app_http_tx_t *t = &e->http[r->n_http];
        if (!ns_app_http_get(e->app, f->app, i, t) || (!all && !t->has_response))
            break;
        r->n_http++;
    }
    kept = ns_app_dns_kept(e->app, f->app);
    i = e->export_live ? ns_app_dns_sent(e->app, f->app) : 0;
    for (; i < kept && r->n_dns < e->dns_cap; i++) {
        ns_app_dns_tx_t *t = &e->dns[r->n_dns];
        if (!ns_app_dns_get(e->app, f->app, i, t) || (!all && !t->answered))
            break;
        r->n_dns++;
    }
    r->http = e->http;
    r->dns = e->dns;
}

/* Hand flow `idx` to the callback as a record of `kind`. */
static void
emit_rec(ns_flow_engine_t *e, uint32_t idx, ns_flow_rec_kind_t kind, ns_flow_end_t reason,
         uint64_t now_ns)
{
    ns_flow_rec_t *r = &e->rec;
    ns_flow_rec_fill_table(r, e->table, idx);
    ns_flow_engine_uid(e, idx, r->uid, sizeof(r->uid));
    r->kind = (uint8_t)kind;
    r->end_reason = (uint8_t)reason;
    r->emit_ns = now_ns;
    r->interim = ns_flow_engine_interim_n(e, idx, reason);
    const ns_flow_t *f = ns_flow_table_cget(e->table, idx);
    if (f->fl & NS_FLOW_F_TUNNELED)
        memcpy(r->tunnel_parent, e->tun_parent[idx], sizeof(r->tunnel_parent));
    else
        r->tunnel_parent[0] = '\0';
    if (e->app && f->app)
        fill_app(e, f, r);
    e->emit(e->ud, e, idx, r);
    if (e->export_live && e->app && f->app)
        ns_app_mark_sent(e->app, f->app, ns_app_http_sent(e->app, f->app) + r->n_http,
                         ns_app_dns_sent(e->app, f->app) + r->n_dns);
}

/* ---- export set -------------------------------------------------------------------------- */

static inline void
dirty_add(ns_flow_engine_t *e, uint32_t idx)
{
    if (e->dirty_pos[idx] != 0)
        return;
    e->dirty[e->dirty_n++] = idx;
    e->dirty_pos[idx] = e->dirty_n;
}

static void
dirty_del(ns_flow_engine_t *e, uint32_t idx)
{
    uint32_t pos = e->dirty_pos[idx];
    if (pos == 0)
        return;
    uint32_t last = e->dirty[--e->dirty_n];
    e->dirty[pos - 1] = last;
    e->dirty_pos[last] = pos;
    e->dirty_pos[idx] = 0;
}

uint32_t
ns_flow_engine_export(ns_flow_engine_t *self, uint64_t now_ns)
{
    ns_flow_engine_t *e = self;
    if (!e->export_live)
        return 0;
    e->st.exports++;
    uint32_t n = 0, keep = 0;
    for (uint32_t i = 0; i < e->dirty_n; i++) {
        uint32_t idx = e->dirty[i];
        /* A flow whose last packet's time is still in doubt waits for the next export, so
         * that no record with a time that may yet change leaves the engine. */
        if (e->pend && idx == e->pend_idx) {
            e->dirty[keep++] = idx;
            e->dirty_pos[idx] = keep;
            continue;
        }
        e->dirty_pos[idx] = 0;
        emit_rec(e, idx, NS_FLOW_REC_UPDATE, NS_FLOW_END_NONE, now_ns);
        n++;
    }
    e->dirty_n = keep;
    e->st.updates += n;
    return n;
}

uint32_t
ns_flow_engine_pending(const ns_flow_engine_t *self)
{
    return self->dirty_n;
}

uint64_t
ns_flow_engine_clock(const ns_flow_engine_t *self)
{
    return self->clock_ns;
}

/* ---- ending flows ------------------------------------------------------------------------ */

/* Write a final record for `idx` and forget the flow. */
static void
end_flow(ns_flow_engine_t *e, uint32_t idx, ns_flow_end_t reason, uint64_t now_ns)
{
    e->st.records[reason]++;
    emit_rec(e, idx, NS_FLOW_REC_FINAL, reason, now_ns);
    if (e->export_live)
        dirty_del(e, idx);
    if (idx == e->pend_idx)
        e->pend_idx = NS_FLOW_NONE;
    ns_flow_t *f = ns_flow_table_get(e->table, idx);
    if (e->app)
        ns_app_release(e->app, &f->app);
    ns_flow_table_del(e->table, idx);
}

static void
expire_at(ns_flow_engine_t *e, uint64_t now_ns)
{
    ns_flow_end_t reason;
    uint32_t idx;
    while ((idx = ns_flow_expire_due(&e->expire, e->table, now_ns, &reason)) != NS_FLOW_NONE)
        end_flow(e, idx, reason, now_ns);
}

void
ns_flow_engine_expire(ns_flow_engine_t *self, uint64_t now_ns)
{
    /* The caller's clock is trusted, but never moves ours back: packets stamped ahead of it
     * (another clock) must not all look like flows from the future. */
    if (now_ns > self->clock_ns)
        self->clock_ns = now_ns;
    expire_at(self, self->clock_ns);
}

/* The pending packet turned out to be on time (a second packet agreed, or the input ended):
 * its flow gets its true times back. */
static void
pend_confirm(ns_flow_engine_t *e)
{
    if (e->pend && e->pend_ahead && e->pend_idx != NS_FLOW_NONE) {
        ns_flow_t *f = ns_flow_table_get(e->table, e->pend_idx);
        if (f->last_ns == e->pend_eff_ns)
            f->last_ns = e->pend_ns;
        if (e->pend_created && f->first_ns == e->pend_eff_ns)
            f->first_ns = e->pend_ns;
    }
    e->pend = false;
    e->pend_idx = NS_FLOW_NONE;
}

void
ns_flow_engine_flush(ns_flow_engine_t *self, ns_flow_end_t reason, uint64_t now_ns)
{
    pend_confirm(self);
    uint32_t idx;
    while ((idx = ns_flow_table_lru(self->table)) != NS_FLOW_NONE) {
        const ns_flow_t *f = ns_flow_table_cget(self->table, idx);
        /* A TCP flow already closed (both FINs, or a RST) and only lingering for late packets
         * ended for that reason, not because the input did. */
        ns_flow_end_t why = reason;
        if ((reason == NS_FLOW_END_END_OF_INPUT || reason == NS_FLOW_END_SHUTDOWN) &&
            f->queue == NS_FLOWQ_TCP_CLOSED)
            why = ns_flow_expire_closed_reason(f);
        end_flow(self, idx, why, now_ns ? now_ns : f->last_ns);
    }
}

/* The time packet timestamp `ts` is accounted at, moving the clock (see "Time" in
 * flow_engine.h). Sets e->pend when the packet is not trusted yet. */
static uint64_t
packet_time(ns_flow_engine_t *e, uint64_t ts)
{
    uint64_t step = e->expire.max_step_ns, clock = e->clock_ns;
    if (clock == 0 || step == 0) {
        if (ts > clock)
            e->clock_ns = ts;
        return ts;
    }
    bool ahead = ts > clock && ts - clock > step;
    bool behind = ts < clock && clock - ts > step;
    if (!ahead && !behind) {
        e->pend = false; /* a packet on time: a pending one was bogus */
        e->pend_idx = NS_FLOW_NONE;
        if (ts > clock)
            e->clock_ns = ts;
        return ts;
    }
    if (e->pend && e->pend_ahead == ahead && ts + step >= e->pend_ns) {
        /* Two packets agree on a time far from ours: it is the capture's time now. */
        uint64_t to = ts > e->pend_ns ? ts : e->pend_ns;
        pend_confirm(e);
        e->st.clock_jumps++;
        if (to < e->clock_ns)
            e->next_expire_ns = 0; /* expiry ran ahead on the abandoned clock */
        e->clock_ns = to;
        return ts;
    }
    e->st.clock_suspect++;
    e->pend = true;
    e->pend_ahead = ahead;
    e->pend_created = false;
    e->pend_ns = ts;
    e->pend_idx = NS_FLOW_NONE;
    /* Behind: the packet's own time harms no other flow (its flow only looks older). Ahead:
     * it would end every flow, so it is accounted at the clock's time until confirmed. */
    e->pend_eff_ns = ahead ? clock : ts;
    return e->pend_eff_ns;
}

static void
global_rate_add(ns_flow_engine_stats_t *st, uint64_t now_ns, uint32_t wire_len)
{
    uint64_t sec = now_ns / NS_PER_S, last = st->thr_last_ns / NS_PER_S;
    if (sec < last) {
        /* An old packet: the previous second's bucket takes it, an older one is outside the
         * window; neither resets the buckets. */
        if (sec + 1 == last) {
            st->thr_bytes[1] += wire_len;
            st->thr_pkts[1]++;
        }
        return;
    }
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

static inline uint32_t add_to_flow(ns_flow_engine_t *e, const ns_pkt_t *pkt,
                                   const uint8_t *frame, uint64_t now, bool suspect);

/* Zeek's tunnels (conn.log's tunnel_parents: "If this connection was over a tunnel, indicate
 * the *uid* values for any encapsulating parent connections used over the lifetime of this
 * inner connection"): the UDP connection that carries a VXLAN, Geneve, GTP-U, Teredo, AYIYA,
 * GRE-in-UDP or CAPWAP tunnel, and the GRE or IP-in-IP "connection" between two tunnel
 * endpoints (IP protocol 47, 4 or 41, no ports: conn.log's unknown_transport), is a flow of
 * its own, counted from the outer headers (its packets and IP bytes are the whole tunnelled
 * packets); the inner connection names it as its parent.
 * Only the first parent is kept (Zeek keeps a set). Returns the carrier's flow, NS_FLOW_NONE
 * when it was not counted. Out of line: only tunnelled packets call it. */
static NS_FLOW_COLD uint32_t
add_carrier(ns_flow_engine_t *e, const ns_pkt_t *pkt, uint64_t now)
{
    if (e->carrier == NULL && (e->carrier = calloc(1, sizeof(*e->carrier))) == NULL)
        return NS_FLOW_NONE;
    const ns_tun_carrier_t *o = &pkt->tun;
    ns_pkt_t *c = e->carrier;
    memcpy(c, pkt, NS_PKT_HOT_SIZE);
    if (pkt->vlan_n > 0)
        c->vlan[0] = pkt->vlan[0];
    bool udp = o->ip_proto == IPPROTO_UDP_;
    c->layers = NS_HAS(o->ip_ver == 6 ? NS_LAYER_IPV6 : NS_LAYER_IPV4) |
                (udp ? NS_HAS(NS_LAYER_UDP) : 0u);
    c->err_layer = 0;
    c->err_rc = NS_PARSE_OK;
    c->ip_ver = o->ip_ver;
    c->ip_proto = o->ip_proto;
    c->ip_flags = o->ip_flags;
    c->frag_off = 0; /* the tunnel header was read: a first fragment at most */
    c->frag_id = o->frag_id; /* a fragmented carrier: its later fragments find this flow */
    c->src = o->src;
    c->dst = o->dst;
    c->sport = o->sport;
    c->dport = o->dport;
    c->ip_len = o->ip_len;
    c->payload_len = o->payload_len;
    c->payload_cap = 0;
    c->tcp_flags = 0;
    c->app = NS_APP_NONE;
    c->tun_n = 0;
    return add_to_flow(e, c, NULL, now, false);
}

/* Remember `parent`'s uid as the tunnel parent of flow `idx` (the first one only). */
static NS_FLOW_COLD void
set_tunnel_parent(ns_flow_engine_t *e, uint32_t idx, uint32_t parent)
{
    if (e->tun_parent == NULL) {
        e->tun_parent = calloc(ns_flow_table_capacity(e->table), sizeof(*e->tun_parent));
        if (e->tun_parent == NULL)
            return;
    }
    ns_flow_t *f = ns_flow_table_get(e->table, idx);
    f->fl |= NS_FLOW_F_TUNNELED;
    ns_flow_engine_uid(e, parent, e->tun_parent[idx], sizeof(e->tun_parent[idx]));
}

/* An inner IP packet was decoded: the carrier first, then the inner flow, which names it. */
static NS_FLOW_COLD void
add_tunnelled(ns_flow_engine_t *e, const ns_pkt_t *pkt, const uint8_t *frame, uint64_t now,
              bool suspect)
{
    uint32_t parent = add_carrier(e, pkt, now);
    uint32_t idx = add_to_flow(e, pkt, frame, now, suspect);
    if (parent != NS_FLOW_NONE && idx != NS_FLOW_NONE && idx != parent &&
        !(ns_flow_table_cget(e->table, idx)->fl & NS_FLOW_F_TUNNELED))
        set_tunnel_parent(e, idx, parent);
}

void
ns_flow_engine_add(ns_flow_engine_t *self, const ns_pkt_t *pkt, const uint8_t *frame)
{
    ns_flow_engine_t *e = self;
    uint64_t suspects = e->st.clock_suspect;
    uint64_t now = packet_time(e, pkt->ts_ns);
    bool suspect = e->st.clock_suspect != suspects; /* it may still be confirmed */
    e->st.packets++;
    e->st.wire_bytes += pkt->wire_len;
    global_rate_add(&e->st, now, pkt->wire_len);
    if (pkt->cap_len < pkt->wire_len)
        e->st.truncated++;
    if (e->clock_ns >= e->next_expire_ns) {
        expire_at(e, e->clock_ns);
        e->next_expire_ns = e->clock_ns + EXPIRE_EVERY_NS;
    }
    e->last_hash = 0;
    if (pkt->ip_ver != 4 && pkt->ip_ver != 6) {
        e->st.non_ip++;
        return;
    }
    if (__builtin_expect(pkt->tun_n != 0, 0) && pkt->l3_off != pkt->tun.l3_off) {
        add_tunnelled(e, pkt, frame, now, suspect);
        return;
    }
    (void)add_to_flow(e, pkt, frame, now, suspect);
}

/* Count `pkt` in its flow (created if new); returns the flow, NS_FLOW_NONE when the packet
 * belongs to none (a later fragment nothing claimed). */
static inline uint32_t
add_to_flow(ns_flow_engine_t *e, const ns_pkt_t *pkt, const uint8_t *frame, uint64_t now,
            bool suspect)
{
    ns_flow_key_t key;
    unsigned side;
    bool later_frag = (pkt->ip_flags & NS_IP_FRAG) && pkt->frag_off != 0;
    if (later_frag) {
        uint16_t sp, dp;
        if (!ns_flow_frag_find(e->frag, pkt, now, &sp, &dp)) {
            e->st.frag_unattributed++;
            return NS_FLOW_NONE;
        }
        e->st.frag_attributed++;
        uint16_t vlan = ns_flow_key_vlan(pkt->vlan_n > 0 ? pkt->vlan[0] : 0, pkt->iface);
        side =
            ns_flow_key_make(&key, pkt->ip_ver, pkt->ip_proto, vlan, &pkt->src, sp, &pkt->dst, dp);
    } else {
        side = ns_flow_key_from_pkt(pkt, &key);
        if (pkt->ip_flags & NS_IP_FRAG)
            ns_flow_frag_learn(e->frag, pkt, key.port[side], key.port[side ^ 1u]);
    }

    uint64_t hash = ns_flow_table_hash(e->table, &key);
    e->last_hash = hash;
    uint32_t idx = ns_flow_table_find(e->table, &key, hash);
    bool tcp = pkt->ip_proto == IPPROTO_TCP_ && !later_frag &&
               (pkt->layers & NS_HAS(NS_LAYER_TCP)) &&
               !(pkt->err_layer == NS_LAYER_TCP && pkt->err_rc != NS_PARSE_OK);
    ns_flow_t *f;
    bool created = idx == NS_FLOW_NONE;
    if (created) {
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
    if (suspect) {
        e->pend_idx = idx;
        e->pend_created = created;
    }
    if (e->export_live)
        dirty_add(e, idx);

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
    else if (pkt->ip_proto == IPPROTO_UDP_ && !later_frag && (pkt->layers & NS_HAS(NS_LAYER_UDP)) &&
             !(pkt->err_layer == NS_LAYER_UDP && pkt->err_rc == NS_PARSE_TRUNCATED))
        udp_history(f, dir);
    if (e->app && !later_frag && (pkt->payload_len > 0 || pkt->app != NS_APP_NONE))
        ns_app_update(e->app, &f->app, pkt, frame, dir, now);

    ns_flow_table_touch(e->table, idx, ns_flow_expire_queue(f));
    /* One interim record when this packet crosses an active-timeout boundary (however many
     * it crosses: sparse packets do not make a burst of interim records). */
    if (ns_flow_expire_interim_due(&e->expire, f->first_ns, prev_ns, now)) {
        e->st.records[NS_FLOW_END_ACTIVE_TIMEOUT]++;
        emit_rec(e, idx, NS_FLOW_REC_INTERIM, NS_FLOW_END_ACTIVE_TIMEOUT, now);
        if (e->export_live && !(e->pend && idx == e->pend_idx))
            dirty_del(e, idx); /* the snapshot just written is its newest state */
    }
    return idx;
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

uint64_t
ns_flow_engine_last_hash(const ns_flow_engine_t *self)
{
    return self->last_hash;
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
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
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

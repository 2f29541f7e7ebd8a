/* fuzz_collector.c - libFuzzer target for the collector's pure modules: hostile message
 * sequences through the inventory (and its seqtracks) and the merge.
 *
 * Input: a sequence of operations, each an opcode byte and its operands read from the bytes
 * that follow (missing bytes read as 0). The operations are what the ingest loop does with
 * decoded messages: Hellos of a few ids and keys, FlowBatch numbers, Heartbeats,
 * InterfaceStats, flow records from a few agents over a few 5-tuples (every field hostile,
 * strings unterminated), address registration, clock offsets, expiry, deletion. After every
 * operation the merged view is read back and its invariants checked (abort on violation):
 * counters agree with the flows held, totals come from an observation, agents are distinct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/inventory.h"
#include "netscope/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AGENTS 6
#define SEC 1000000000ull

typedef struct {
    const uint8_t *p;
    size_t n, off;
} rd_t;

static uint8_t
u8(rd_t *r)
{
    return r->off < r->n ? r->p[r->off++] : 0;
}

static uint64_t
u64(rd_t *r, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = v << 8 | u8(r);
    return v;
}

static void
raw(rd_t *r, void *dst, size_t len)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < len; i++)
        d[i] = u8(r);
}

/* One of a few addresses, so that records collide and agents own some of them. */
static ns_addr_t
addr_of(uint8_t sel, uint8_t ip_ver)
{
    ns_addr_t a;
    memset(&a, 0, sizeof(a));
    if (ip_ver == 6) {
        a.b[0] = 0x20, a.b[1] = 0x01, a.b[15] = sel & 3u;
    } else {
        a.b[0] = 10, a.b[3] = sel & 3u;
        if (sel & 0x80u)
            a.b[7] = sel; /* junk past an IPv4 address */
    }
    return a;
}

static void
record(rd_t *r, ns_flow_rec_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    uint8_t f = u8(r);
    rec->ip_ver = (f & 3u) == 3 ? u8(r) : ((f & 1u) ? 6 : 4);
    rec->proto = (f & 4u) ? 17 : 6;
    rec->kind = (f & 0x08u) ? u8(r) % 4 : (uint8_t)((f >> 4) % 3);
    rec->vlan = (f & 0x40u) ? 7 : 0;
    rec->quality = (f & 0x80u) ? NS_FLOW_Q_MIDSTREAM : 0;
    rec->orig_h = addr_of(u8(r), rec->ip_ver);
    rec->resp_h = addr_of(u8(r), rec->ip_ver);
    rec->orig_p = (uint16_t)(1000 + u8(r) % 4);
    rec->resp_p = 80;
    raw(r, rec->uid, 2); /* few distinct uids; the rest of the array left hostile below */
    if (f & 0x20u)
        memset(rec->uid + 2, 'u', sizeof(rec->uid) - 2);
    rec->first_ns = u64(r, 2) * (SEC / 16);
    rec->last_ns = u64(r, 2) * (SEC / 16);
    for (unsigned d = 0; d < 2; d++) {
        rec->pkts[d] = u64(r, 1);
        rec->ip_bytes[d] = rec->pkts[d] * 100;
        rec->wire_bytes[d] = u64(r, 1) << 40;
    }
    raw(r, rec->conn_state, sizeof(rec->conn_state));
    raw(r, rec->history, sizeof(rec->history));
    raw(r, rec->service, sizeof(rec->service));
    rec->hs = u8(r);
    rec->rtt_hs_ns = u64(r, 8);
}

static void
check_view(const ns_merge_t *m)
{
    ns_merge_stats_t st;
    ns_merge_stats(m, &st);
    uint32_t flows = 0, obs = 0, multi = 0;
    for (uint32_t id = ns_merge_next(m, NS_MERGE_NONE); id != NS_MERGE_NONE;
         id = ns_merge_next(m, id)) {
        ns_merge_flow_t v;
        if (!ns_merge_view(m, id, &v) || v.n_obs == 0 || v.n_obs > NS_MERGE_OBS_MAX)
            abort();
        flows++;
        obs += v.n_obs;
        multi += v.n_obs >= 2;
        for (unsigned d = 0; d < 2; d++) {
            if (v.total_from[d] >= v.n_obs || v.pkts[d] != v.obs[v.total_from[d]].pkts[d])
                abort();
            if (v.loss[d].known && (v.loss[d].sender == v.loss[d].receiver ||
                                    v.loss[d].receiver >= v.n_obs))
                abort();
        }
        for (unsigned i = 0; i < v.n_obs; i++) {
            if (strlen(v.obs[i].uid) > NS_FLOW_UID_LEN)
                abort();
            for (unsigned j = i + 1; j < v.n_obs; j++)
                if (v.obs[i].agent == v.obs[j].agent)
                    abort();
        }
        if (ns_merge_find(m, &v.key, NS_MERGE_NONE) == NS_MERGE_NONE)
            abort();
    }
    if (flows != st.flows || obs != st.observations || multi != st.flows_multi)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"a", "b", "c", "d"};
    static const char *const keys[] = {"K1", "K2"};
    rd_t r = {data, size, 0};
    char err[128];
    ns_inventory_t *inv = ns_inventory_new(3, 64, err, sizeof(err));
    ns_merge_opts_t o;
    ns_merge_opts_default(&o);
    o.capacity = 8;
    o.obs_capacity = 10;
    o.max_agents = AGENTS;
    o.seed = 3;
    o.idle_timeout_ns = 30 * SEC;
    ns_merge_t *m = ns_merge_new(&o, NULL, NULL, err, sizeof(err));
    if (inv == NULL || m == NULL)
        abort();
    uint64_t now = SEC;
    for (unsigned ops = 0; r.off < r.n && ops < 4096; ops++) {
        uint8_t op = u8(&r);
        uint32_t idx = u8(&r) % 4; /* 3 is never an agent index of the inventory */
        now += u64(&r, 1) * (SEC / 8);
        switch (op % 10) {
        case 0: {
            ns_flow_rec_t rec;
            record(&r, &rec);
            (void)ns_merge_update(m, (uint32_t)(idx + (op >> 4)) % (AGENTS + 1), &rec, now,
                                  NULL);
            break;
        }
        case 1:
            ns_merge_expire(m, now, u64(&r, 1) * (SEC / 4));
            break;
        case 2: {
            ns_host_addr_t a[3];
            for (unsigned i = 0; i < 3; i++) {
                a[i].ip_ver = u8(&r) % 8;
                a[i].addr = addr_of(u8(&r), a[i].ip_ver);
            }
            (void)ns_merge_agent_add(m, (uint32_t)(op >> 4), a, u8(&r) % 4);
            break;
        }
        case 3:
            (void)ns_merge_agent_clock(m, (uint32_t)(op >> 4), (int64_t)u64(&r, 8));
            break;
        case 4: {
            ns_host_addr_t a = {addr_of(u8(&r), 4), 4};
            ns_inventory_iface_hello_t ifs[2] = {{"eth0", 1, 1500, &a, 1}, {NULL, 0, 0, NULL, 9}};
            ns_inventory_hello_t h = {"host", "v", u8(&r) % 3, u64(&r, 8), ifs, u8(&r) % 3};
            uint32_t got;
            (void)ns_inventory_hello(inv, ids[idx], keys[(op >> 4) & 1], &h, now, &got);
            ns_host_addr_t all[16];
            if (got != NS_INV_NONE)
                (void)ns_merge_agent_add(m, got, all, ns_inventory_addrs(inv, got, all, 16));
            break;
        }
        case 5: {
            uint64_t seq = (op & 0x10u) ? u64(&r, 8) : u64(&r, 1);
            (void)ns_inventory_batch(inv, idx, seq, u64(&r, 8), now);
            const ns_inventory_agent_t *ag = ns_inventory_get(inv, idx);
            if (ag != NULL && ag->clock_known)
                (void)ns_merge_agent_clock(m, idx, ag->clock_offset_ns);
            break;
        }
        case 6: {
            ns_inventory_health_t h;
            memset(&h, 0, sizeof(h));
            h.send_ns = u64(&r, 8);
            h.lowest_held_seq = (op & 0x10u) ? u64(&r, 8) : u64(&r, 1);
            (void)ns_inventory_heartbeat(inv, idx, &h, now);
            break;
        }
        case 7: {
            ns_inventory_ifstats_t s = {u64(&r, 8), u64(&r, 8), 0, 0};
            (void)ns_inventory_iface_stats(inv, idx, u8(&r), &s, now);
            break;
        }
        case 8:
            (void)ns_inventory_expire(inv, now, u64(&r, 1) * SEC);
            break;
        default:
            (void)ns_inventory_del(inv, idx);
            ns_merge_agent_del(m, idx);
            break;
        }
        check_view(m);
    }
    for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); i != NS_INV_NONE;
         i = ns_inventory_next(inv, i)) {
        const ns_inventory_agent_t *ag = ns_inventory_get(inv, i);
        if (ag->seq.contiguous > ag->seq.highest || ns_inventory_find(inv, ag->id) != i)
            abort();
    }
    ns_merge_flush(m);
    ns_merge_stats_t st;
    ns_merge_stats(m, &st);
    if (st.flows != 0 || st.observations != 0)
        abort();
    ns_merge_destroy(&m);
    ns_inventory_destroy(&inv);
    return 0;
}

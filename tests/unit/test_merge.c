/* test_merge.c - the merged flow view: one key for both directions, observations per agent,
 * totals counted once, loss between sender and receiver, stale and duplicate records, reused
 * 5-tuples, orientation, clock offsets, fixed capacity with eviction, expiry, hostile records,
 * and a random stream checked for the view's invariants. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/merge.h"
#include "runner.h"

#define SEC 1000000000ull

/* Agents of the tests: A runs on 10.0.0.1 (the client), B on 10.0.0.2 (the server);
 * T1..T4 are taps that own neither end. */
enum { A = 0, B = 1, T1 = 2, T2 = 3, T3 = 4, T4 = 5, N_AGENTS = 8 };

static ns_addr_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ns_addr_t x;
    memset(&x, 0, sizeof(x));
    x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
    return x;
}

static ns_addr_t
client(void)
{
    return ip4(10, 0, 0, 1);
}

static ns_addr_t
server(void)
{
    return ip4(10, 0, 0, 2);
}

/* A TCP record of orig:op -> resp:rp, first packet at `first_s`, last at `last_s` seconds;
 * p0 packets orig->resp, p1 back; byte counters derived from the packets (100 IP bytes,
 * 114 wire bytes each). */
static ns_flow_rec_t
rec_of(const char *uid, ns_flow_rec_kind_t kind, ns_addr_t orig, uint16_t op, ns_addr_t resp,
       uint16_t rp, double first_s, double last_s, uint64_t p0, uint64_t p1)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "%s", uid);
    r.ip_ver = 4;
    r.proto = 6;
    r.kind = (uint8_t)kind;
    r.end_reason = kind == NS_FLOW_REC_FINAL ? NS_FLOW_END_FIN : NS_FLOW_END_NONE;
    r.orig_h = orig;
    r.orig_p = op;
    r.resp_h = resp;
    r.resp_p = rp;
    r.first_ns = (uint64_t)(first_s * (double)SEC);
    r.last_ns = (uint64_t)(last_s * (double)SEC);
    r.pkts[0] = p0;
    r.pkts[1] = p1;
    for (unsigned d = 0; d < 2; d++) {
        r.ip_bytes[d] = r.pkts[d] * 100;
        r.wire_bytes[d] = r.pkts[d] * 114;
        r.payload_bytes[d] = r.pkts[d] * 60;
        r.app_bytes[d] = r.pkts[d] * 60;
    }
    r.is_tcp = true;
    snprintf(r.conn_state, sizeof(r.conn_state), "%s", kind == NS_FLOW_REC_FINAL ? "SF" : "S1");
    snprintf(r.history, sizeof(r.history), "%s", "ShADad");
    snprintf(r.service, sizeof(r.service), "%s", "http");
    return r;
}

/* The connection most tests use: client:40000 -> server:80, starting at 1 s. */
static ns_flow_rec_t
conn(const char *uid, ns_flow_rec_kind_t kind, double last_s, uint64_t p0, uint64_t p1)
{
    return rec_of(uid, kind, client(), 40000, server(), 80, 1.0, last_s, p0, p1);
}

/* What the emit callback saw. */
typedef struct {
    unsigned n;
    uint64_t serial[64];
    ns_merge_end_t why[64];
    uint64_t pkts0[64];
    uint32_t n_obs[64];
} emitted_t;

static void
on_emit(void *ud, const ns_merge_flow_t *f, ns_merge_end_t why)
{
    emitted_t *e = ud;
    if (e->n < 64) {
        e->serial[e->n] = f->serial;
        e->why[e->n] = why;
        e->pkts0[e->n] = f->pkts[0];
        e->n_obs[e->n] = f->n_obs;
    }
    e->n++;
}

static ns_merge_t *
merge_with(uint32_t capacity, uint32_t obs_capacity, emitted_t *e)
{
    ns_merge_opts_t o;
    ns_merge_opts_default(&o);
    o.capacity = capacity;
    o.obs_capacity = obs_capacity;
    o.max_agents = N_AGENTS;
    o.seed = 42;
    o.idle_timeout_ns = 60 * SEC;
    char err[160] = "";
    ns_merge_t *m = ns_merge_new(&o, on_emit, e, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    ns_host_addr_t a = {client(), 4}, b = {server(), 4};
    ck_assert_int_eq(ns_merge_agent_add(m, A, &a, 1), NS_OK);
    ck_assert_int_eq(ns_merge_agent_add(m, B, &b, 1), NS_OK);
    return m;
}

static ns_merge_t *
merge_new(emitted_t *e)
{
    return merge_with(64, 0, e);
}

static ns_merge_stats_t
stats(const ns_merge_t *m)
{
    ns_merge_stats_t st;
    ns_merge_stats(m, &st);
    return st;
}

static ns_merge_flow_t
view(const ns_merge_t *m, uint32_t id)
{
    ns_merge_flow_t v;
    ck_assert(ns_merge_view(m, id, &v));
    return v;
}

/* Flows held with the test connection's key. */
static unsigned
flows_with_key(const ns_merge_t *m)
{
    ns_flow_key_t k;
    ns_addr_t c = client(), s = server();
    ns_flow_key_make(&k, 4, 6, 0, &s, 80, &c, 40000); /* the reply direction's key */
    unsigned n = 0;
    for (uint32_t id = ns_merge_find(m, &k, NS_MERGE_NONE); id != NS_MERGE_NONE;
         id = ns_merge_find(m, &k, id))
        n++;
    return n;
}

/* Index in v->obs of agent `agent`'s observation. */
static const ns_merge_obs_t *
obs_of(const ns_merge_flow_t *v, uint32_t agent)
{
    for (unsigned i = 0; i < v->n_obs; i++)
        if (v->obs[i].agent == agent)
            return &v->obs[i];
    ck_abort_msg("no observation of agent %u", agent);
    return NULL;
}

/* ---- observations: two agents, one connection ------------------------------------------ */

/* The client's agent saw 10 packets leave, the server's agent 8 arrive; the server sent 9
 * and the client's agent saw 11 (duplicates on its side): totals are the sender's counts. */
START_TEST(two_agents_one_connection)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t ia, ib;
    ns_flow_rec_t ra = conn("CA1", NS_FLOW_REC_UPDATE, 2.0, 10, 11);
    ns_flow_rec_t rb = conn("CB1", NS_FLOW_REC_UPDATE, 2.1, 8, 9);
    ck_assert_int_eq(ns_merge_update(m, A, &ra, 100 * SEC, &ia), NS_MERGE_NEW);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, 101 * SEC, &ib), NS_MERGE_JOINED);
    ck_assert_uint_eq(ia, ib);
    ck_assert_uint_eq(flows_with_key(m), 1);

    ns_merge_flow_t v = view(m, ia);
    ck_assert_uint_eq(v.n_obs, 2);
    ck_assert_int_eq(v.state, NS_MERGE_LIVE);
    ck_assert(memcmp(&v.orig_h, (ns_addr_t[]){client()}, sizeof(ns_addr_t)) == 0);
    ck_assert_uint_eq(v.orig_p, 40000);
    ck_assert_uint_eq(v.pkts[0], 10);
    ck_assert_uint_eq(v.ip_bytes[0], 1000);
    ck_assert_uint_eq(v.pkts[1], 9); /* the server's count, not the larger 11 */
    ck_assert_uint_eq(v.wire_bytes[1], 9 * 114);
    ck_assert_uint_eq(v.obs[v.total_from[0]].agent, A);
    ck_assert_uint_eq(v.obs[v.total_from[1]].agent, B);

    ck_assert(v.loss[0].known && v.loss[0].sender_owned && v.loss[0].receiver_owned);
    ck_assert(!v.loss[0].exact);
    ck_assert_uint_eq(v.loss[0].pkts, 2);
    ck_assert_uint_eq(v.loss[0].ip_bytes, 200);
    ck_assert_uint_eq(v.obs[v.loss[0].sender].agent, A);
    ck_assert_uint_eq(v.obs[v.loss[0].receiver].agent, B);
    ck_assert_uint_eq(v.loss[0].sender_update_ns, 100 * SEC);
    ck_assert_uint_eq(v.loss[0].receiver_update_ns, 101 * SEC);
    ck_assert_uint_eq(v.loss[1].pkts, 0); /* 9 sent, 11 seen: clamped */
    ck_assert_uint_eq(v.obs[v.loss[1].sender].agent, B);

    /* Both finals: the loss is exact. */
    ra = conn("CA1", NS_FLOW_REC_FINAL, 3.0, 12, 13);
    rb = conn("CB1", NS_FLOW_REC_FINAL, 3.0, 9, 11);
    ck_assert_int_eq(ns_merge_update(m, A, &ra, 102 * SEC, NULL), NS_MERGE_APPLIED);
    v = view(m, ia);
    ck_assert_int_eq(v.state, NS_MERGE_LIVE); /* B is still open */
    ck_assert(!v.loss[0].exact);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, 103 * SEC, NULL), NS_MERGE_APPLIED);
    v = view(m, ia);
    ck_assert_int_eq(v.state, NS_MERGE_ALL_FINAL);
    ck_assert_uint_eq(v.closed_ns, 103 * SEC);
    ck_assert(v.loss[0].exact && v.loss[1].exact);
    ck_assert_uint_eq(v.loss[0].pkts, 3);
    ck_assert_uint_eq(v.pkts[0], 12);
    ck_assert_uint_eq(v.pkts[1], 11);
    ck_assert_str_eq(obs_of(&v, A)->conn_state, "SF");
    ck_assert(obs_of(&v, B)->final);

    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.flows, 1);
    ck_assert_uint_eq(st.flows_multi, 1);
    ck_assert_uint_eq(st.observations, 2);
    ck_assert_uint_eq(st.joined, 1);
    ck_assert_uint_eq(st.applied, 4);
    ns_merge_destroy(&m);
}
END_TEST

/* Two taps owning neither address: the one with more packets per direction is the sender. */
START_TEST(taps_fallback)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r1 = conn("CT1", NS_FLOW_REC_UPDATE, 2.0, 10, 5);
    ns_flow_rec_t r2 = conn("CT2", NS_FLOW_REC_UPDATE, 2.0, 8, 6);
    ns_merge_update(m, T1, &r1, SEC, &id);
    ck_assert_int_eq(ns_merge_update(m, T2, &r2, SEC, NULL), NS_MERGE_JOINED);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.pkts[0], 10);
    ck_assert_uint_eq(v.pkts[1], 6);
    ck_assert(v.loss[0].known && !v.loss[0].sender_owned && !v.loss[0].receiver_owned);
    ck_assert_uint_eq(v.loss[0].pkts, 2);
    ck_assert_uint_eq(v.obs[v.loss[0].sender].agent, T1);
    ck_assert_uint_eq(v.loss[1].pkts, 1);
    ck_assert_uint_eq(v.obs[v.loss[1].sender].agent, T2);
    ns_merge_destroy(&m);
}
END_TEST

/* One observer: totals are its counts, no loss can be known. */
START_TEST(single_observer)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("CB1", NS_FLOW_REC_UPDATE, 2.0, 4, 3);
    ck_assert_int_eq(ns_merge_update(m, B, &r, SEC, &id), NS_MERGE_NEW);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.n_obs, 1);
    ck_assert_uint_eq(v.pkts[0], 4);
    ck_assert_uint_eq(v.pkts[1], 3);
    ck_assert(!v.loss[0].known && !v.loss[1].known);
    ck_assert_str_eq(v.service, "http");
    ck_assert_uint_eq(v.first_ns, SEC);
    ck_assert_uint_eq(v.last_ns, 2 * SEC);
    ck_assert_uint_eq(stats(m).flows_multi, 0);
    ns_merge_destroy(&m);
}
END_TEST

/* ---- records of one observation --------------------------------------------------------- */

START_TEST(updates_replace_state)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_UPDATE, 2.0, 5, 4);
    ns_merge_update(m, A, &r, SEC, &id);
    r = conn("CA1", NS_FLOW_REC_INTERIM, 3.0, 10, 9);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 2 * SEC, NULL), NS_MERGE_APPLIED);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.n_obs, 1);
    ck_assert_uint_eq(v.obs[0].pkts[0], 10); /* replaced, not added */
    ck_assert_uint_eq(v.pkts[1], 9);
    ck_assert_uint_eq(v.obs[0].kind, NS_FLOW_REC_INTERIM);
    ck_assert_uint_eq(v.obs[0].update_ns, 2 * SEC);
    ck_assert_uint_eq(v.update_ns, 2 * SEC);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(stale_updates_ignored)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_UPDATE, 5.0, 10, 10);
    ns_merge_update(m, A, &r, SEC, &id);
    ns_flow_rec_t older = conn("CA1", NS_FLOW_REC_UPDATE, 4.0, 8, 8); /* a resent batch */
    ck_assert_int_eq(ns_merge_update(m, A, &older, 2 * SEC, NULL), NS_MERGE_STALE);
    ns_flow_rec_t fewer = conn("CA1", NS_FLOW_REC_UPDATE, 5.0, 10, 9);
    ck_assert_int_eq(ns_merge_update(m, A, &fewer, 2 * SEC, NULL), NS_MERGE_STALE);
    ns_flow_rec_t earlier = conn("CA1", NS_FLOW_REC_UPDATE, 4.9, 11, 11);
    ck_assert_int_eq(ns_merge_update(m, A, &earlier, 2 * SEC, NULL), NS_MERGE_STALE);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.pkts[0], 10);
    ck_assert_uint_eq(v.pkts[1], 10);
    ck_assert_uint_eq(v.update_ns, SEC);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.stale, 3);
    ck_assert_uint_eq(st.applied, 1);
    ck_assert_uint_eq(st.updates, 4);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(final_closes_and_duplicates)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    ns_merge_update(m, A, &r, SEC, &id);
    r = conn("CA1", NS_FLOW_REC_FINAL, 3.0, 7, 6);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 2 * SEC, NULL), NS_MERGE_APPLIED);
    ns_merge_flow_t v = view(m, id);
    ck_assert_int_eq(v.state, NS_MERGE_ALL_FINAL);
    ck_assert(v.obs[0].final);
    ck_assert_uint_eq(v.obs[0].end_reason, NS_FLOW_END_FIN);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 3 * SEC, NULL), NS_MERGE_DUP_FINAL);
    ns_flow_rec_t late = conn("CA1", NS_FLOW_REC_UPDATE, 2.5, 6, 6);
    ck_assert_int_eq(ns_merge_update(m, A, &late, 3 * SEC, NULL), NS_MERGE_STALE);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.dup_finals, 1);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(view(m, id).closed_ns, 2 * SEC); /* ignored records change nothing */
    ns_merge_destroy(&m);
}
END_TEST

/* ---- which merged flow ------------------------------------------------------------------- */

/* A new connection on the same 5-tuple after the first one closed: a new merged flow, and the
 * other agent's new observation finds the new flow, not the old one. */
START_TEST(reused_five_tuple)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t f1, f2, f3;
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_FINAL, 2.0, 5, 5);
    ns_merge_update(m, A, &r, SEC, &f1);
    r = conn("CB1", NS_FLOW_REC_FINAL, 2.0, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, B, &r, SEC, NULL), NS_MERGE_JOINED);
    r = rec_of("CA2", NS_FLOW_REC_UPDATE, client(), 40000, server(), 80, 2.5, 3.0, 2, 1);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 2 * SEC, &f2), NS_MERGE_NEW);
    ck_assert_uint_ne(f1, f2);
    r = rec_of("CB2", NS_FLOW_REC_UPDATE, client(), 40000, server(), 80, 2.5, 3.0, 2, 1);
    ck_assert_int_eq(ns_merge_update(m, B, &r, 2 * SEC, &f3), NS_MERGE_JOINED);
    ck_assert_uint_eq(f3, f2);
    ck_assert_uint_eq(flows_with_key(m), 2);
    ck_assert_int_eq(view(m, f1).state, NS_MERGE_ALL_FINAL);
    ck_assert_uint_eq(view(m, f2).n_obs, 2);
    ck_assert_uint_gt(view(m, f2).serial, view(m, f1).serial);
    ck_assert_uint_eq(stats(m).created, 2);
    ns_merge_destroy(&m);
}
END_TEST

/* A new uid while the agent's previous observation of the key is open: its final was lost or
 * is still on its way. The old observation is superseded; a final arriving later applies. */
START_TEST(superseded_by_new_uid)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t f1, f2;
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    ns_merge_update(m, A, &r, SEC, &f1);
    ns_flow_rec_t r2 = rec_of("CA2", NS_FLOW_REC_UPDATE, client(), 40000, server(), 80, 10.0,
                              11.0, 2, 1);
    ck_assert_int_eq(ns_merge_update(m, A, &r2, 10 * SEC, &f2), NS_MERGE_NEW);
    ck_assert_uint_ne(f1, f2);
    ns_merge_flow_t v = view(m, f1);
    ck_assert(v.obs[0].superseded && !v.obs[0].final);
    ck_assert_int_eq(v.state, NS_MERGE_ALL_FINAL);
    ck_assert_uint_eq(v.closed_ns, 10 * SEC);
    ck_assert_uint_eq(v.update_ns, SEC);
    ck_assert_uint_eq(stats(m).superseded, 1);
    r = conn("CA1", NS_FLOW_REC_FINAL, 3.0, 6, 6);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 11 * SEC, NULL), NS_MERGE_APPLIED);
    v = view(m, f1);
    ck_assert(v.obs[0].final && !v.obs[0].superseded);
    ck_assert_uint_eq(v.pkts[0], 6);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(time_overlap_and_tolerance)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t fa, fb, id;
    /* A saw the connection from 1 s to 3 s. */
    ns_flow_rec_t r = conn("CA1", NS_FLOW_REC_FINAL, 3.0, 5, 5);
    ns_merge_update(m, A, &r, SEC, &fa);
    /* T1's span begins 1.5 s after A's ended: within the 2 s tolerance. */
    r = rec_of("CT1", NS_FLOW_REC_FINAL, client(), 40000, server(), 80, 4.5, 4.6, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, T1, &r, SEC, &id), NS_MERGE_JOINED);
    ck_assert_uint_eq(id, fa);
    /* B's begins 2.4 s after the merged flow's end (4.6 s): another connection. */
    r = rec_of("CB1", NS_FLOW_REC_FINAL, client(), 40000, server(), 80, 7.0, 8.0, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, B, &r, SEC, &fb), NS_MERGE_NEW);
    ck_assert_uint_ne(fa, fb);
    /* A span inside the first flow joins it, and only it (it ends 5 s before B's begins). */
    r = rec_of("CT2", NS_FLOW_REC_FINAL, client(), 40000, server(), 80, 1.5, 2.0, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, T2, &r, SEC, &id), NS_MERGE_JOINED);
    ck_assert_uint_eq(id, fa);
    /* 6.0 .. 6.1 s is within the tolerance of both (1.4 s after the first, 0.9 s before the
     * second): the one seen last wins. */
    r = rec_of("CT3", NS_FLOW_REC_FINAL, client(), 40000, server(), 80, 6.0, 6.1, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, T3, &r, SEC, &id), NS_MERGE_JOINED);
    ck_assert_uint_eq(id, fb);
    ns_merge_destroy(&m);
}
END_TEST

/* B's clock runs 50 s behind: without its offset its spans do not overlap A's. */
START_TEST(clock_offset)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t fa, fb;
    ns_flow_rec_t ra = rec_of("CA1", NS_FLOW_REC_UPDATE, client(), 40000, server(), 80, 100.0,
                              101.0, 5, 5);
    ns_flow_rec_t rb = rec_of("CB1", NS_FLOW_REC_UPDATE, client(), 40000, server(), 80, 50.1,
                              51.0, 4, 5);
    ns_merge_update(m, A, &ra, SEC, &fa);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, SEC, &fb), NS_MERGE_NEW);
    ck_assert_uint_ne(fa, fb);
    ns_merge_flush(m);
    ck_assert_uint_eq(e.n, 2);

    ck_assert_int_eq(ns_merge_agent_clock(m, B, 50 * (int64_t)SEC), NS_OK);
    ns_merge_update(m, A, &ra, SEC, &fa);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, SEC, &fb), NS_MERGE_JOINED);
    ck_assert_uint_eq(fa, fb);
    ns_merge_flow_t v = view(m, fa);
    ck_assert_uint_eq(v.first_ns, 100 * SEC); /* collector clock: A's first packet */
    ck_assert_uint_eq(v.last_ns, 101 * SEC);
    ck_assert_uint_eq(obs_of(&v, B)->first_ns, (uint64_t)(50.1 * (double)SEC)); /* its own */
    ck_assert_uint_eq(v.loss[0].pkts, 1);
    ck_assert_int_eq(ns_merge_agent_clock(m, N_AGENTS, 0), NS_EINVAL);
    ns_merge_destroy(&m);
}
END_TEST

/* Keys are canonical (either direction), the VLAN is part of the key, the capture interface is
 * not, and junk in the unused bytes of an IPv4 address does not split a flow. */
START_TEST(key_identity)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t f1, id;
    ns_flow_rec_t r = conn("CT1", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    r.iface = 0;
    ns_merge_update(m, T1, &r, SEC, &f1);
    r = rec_of("CT2", NS_FLOW_REC_UPDATE, server(), 80, client(), 40000, 1.0, 2.0, 5, 5);
    r.iface = 3;
    r.resp_h.b[9] = 0xee;
    ck_assert_int_eq(ns_merge_update(m, T2, &r, SEC, &id), NS_MERGE_JOINED);
    ck_assert_uint_eq(id, f1);
    r = conn("CT3", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    r.vlan = 7;
    ck_assert_int_eq(ns_merge_update(m, T3, &r, SEC, &id), NS_MERGE_NEW);
    r = conn("CT4", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    r.proto = 17;
    ck_assert_int_eq(ns_merge_update(m, T4, &r, SEC, &id), NS_MERGE_NEW);
    ck_assert_uint_eq(stats(m).flows, 3);
    ck_assert_uint_eq(flows_with_key(m), 1);
    ns_merge_destroy(&m);
}
END_TEST

/* An agent that came in mid-stream thinks the server originated; B saw the SYN. The merged
 * flow takes B's orientation and turns A's counters round. Within one agent a Zeek flip (the
 * originator changes between two records) is not mistaken for a stale record. */
START_TEST(orientation)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t ra = rec_of("CA1", NS_FLOW_REC_UPDATE, server(), 80, client(), 40000, 1.0,
                              2.0, 3, 7); /* 3 server->client, 7 client->server */
    ra.quality = NS_FLOW_Q_MIDSTREAM;
    ns_merge_update(m, A, &ra, SEC, &id);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.orig_p, 80); /* nobody better has spoken yet */
    ns_flow_rec_t rb = conn("CB1", NS_FLOW_REC_UPDATE, 2.0, 6, 3);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, SEC, NULL), NS_MERGE_JOINED);
    v = view(m, id);
    ck_assert_uint_eq(v.orig_p, 40000);
    ck_assert_uint_eq(v.resp_p, 80);
    const ns_merge_obs_t *oa = obs_of(&v, A), *ob = obs_of(&v, B);
    ck_assert(oa->flipped && !ob->flipped);
    ck_assert_uint_eq(oa->pkts[0], 7);
    ck_assert_uint_eq(oa->pkts[1], 3);
    ck_assert_uint_eq(v.pkts[0], 7);    /* client -> server: the client's agent, A */
    ck_assert_uint_eq(v.pkts[1], 3);    /* server -> client: the server's agent, B */
    ck_assert_uint_eq(v.loss[0].pkts, 1); /* 7 sent, 6 arrived */
    ck_assert_uint_eq(v.loss[1].pkts, 0);
    /* A's engine flips the flow: the client is its originator now, counters swap places. */
    ra = conn("CA1", NS_FLOW_REC_UPDATE, 3.0, 8, 4);
    ck_assert_int_eq(ns_merge_update(m, A, &ra, 2 * SEC, NULL), NS_MERGE_APPLIED);
    v = view(m, id);
    oa = obs_of(&v, A);
    ck_assert(!oa->flipped);
    ck_assert_uint_eq(oa->pkts[0], 8);
    /* Turned back, it has fewer packets client->server than stored: stale. */
    ra = rec_of("CA1", NS_FLOW_REC_UPDATE, server(), 80, client(), 40000, 1.0, 3.5, 5, 7);
    ck_assert_int_eq(ns_merge_update(m, A, &ra, 3 * SEC, NULL), NS_MERGE_STALE);
    ns_merge_destroy(&m);
}
END_TEST

/* An agent's engine flips a flow (Zeek's '^': the first packet seen was a reply): its next
 * record names the other side as originator, so its counters swap places. Compared side by
 * side they grew; compared orig to orig they would look stale. */
START_TEST(zeek_flip_within_agent)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("CT1", NS_FLOW_REC_UPDATE, 2.0, 10, 2);
    ns_merge_update(m, T1, &r, SEC, &id);
    r = rec_of("CT1", NS_FLOW_REC_UPDATE, server(), 80, client(), 40000, 1.0, 3.0, 3, 11);
    ck_assert_int_eq(ns_merge_update(m, T1, &r, 2 * SEC, NULL), NS_MERGE_APPLIED);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(v.orig_p, 40000); /* the merged flow keeps its first orientation */
    ck_assert(v.obs[0].flipped);
    ck_assert_uint_eq(v.obs[0].pkts[0], 11);
    ck_assert_uint_eq(v.obs[0].pkts[1], 3);
    ck_assert_uint_eq(v.pkts[0], 11);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(too_many_observers)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id, id2;
    const uint32_t agents[] = {A, B, T1, T2};
    for (unsigned i = 0; i < 4; i++) {
        char uid[8];
        snprintf(uid, sizeof(uid), "C%u", i);
        ns_flow_rec_t r = conn(uid, NS_FLOW_REC_UPDATE, 2.0, 5, 5);
        ck_assert_int_eq(ns_merge_update(m, agents[i], &r, SEC, &id),
                         i == 0 ? NS_MERGE_NEW : NS_MERGE_JOINED);
    }
    ns_flow_rec_t r = conn("C5", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, T3, &r, SEC, &id2), NS_MERGE_TOO_MANY);
    ck_assert_uint_eq(id2, id);
    ck_assert_uint_eq(view(m, id).n_obs, NS_MERGE_OBS_MAX);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.obs_dropped, 1);
    ck_assert_uint_eq(st.flows, 1);
    ck_assert_uint_eq(st.observations, 4);
    ns_merge_destroy(&m);
}
END_TEST

/* ---- capacity and expiry ---------------------------------------------------------------- */

static ns_flow_rec_t
conn_port(const char *uid, uint16_t port, ns_flow_rec_kind_t kind)
{
    return rec_of(uid, kind, client(), port, server(), 80, 1.0, 2.0, 3, 3);
}

START_TEST(evicts_least_recently_updated)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_with(2, 0, &e);
    ns_flow_rec_t r1 = conn_port("C1", 1001, NS_FLOW_REC_UPDATE);
    ns_flow_rec_t r2 = conn_port("C2", 1002, NS_FLOW_REC_UPDATE);
    ns_flow_rec_t r3 = conn_port("C3", 1003, NS_FLOW_REC_UPDATE);
    uint32_t f1, f2, f3;
    ns_merge_update(m, A, &r1, 1 * SEC, &f1);
    ns_merge_update(m, A, &r2, 2 * SEC, &f2);
    r1.pkts[0]++;
    ns_merge_update(m, A, &r1, 3 * SEC, NULL); /* flow 1 is now the most recently updated */
    ck_assert_int_eq(ns_merge_update(m, A, &r3, 4 * SEC, &f3), NS_MERGE_NEW);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_int_eq(e.why[0], NS_MERGE_END_EVICTED);
    ck_assert_uint_eq(e.serial[0], 2);
    ck_assert(view(m, f1).serial == 1);
    ns_merge_flow_t v;
    ck_assert(ns_merge_view(m, f3, &v) && v.serial == 3);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.evicted, 1);
    ck_assert_uint_eq(st.flows, 2);
    ns_merge_destroy(&m);
}
END_TEST

/* A finished flow goes before a live one, even one updated longer ago. */
START_TEST(evicts_closed_first)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_with(2, 0, &e);
    ns_flow_rec_t r1 = conn_port("C1", 1001, NS_FLOW_REC_UPDATE);
    ns_flow_rec_t r2 = conn_port("C2", 1002, NS_FLOW_REC_FINAL);
    ns_flow_rec_t r3 = conn_port("C3", 1003, NS_FLOW_REC_UPDATE);
    ns_merge_update(m, A, &r1, 1 * SEC, NULL);
    ns_merge_update(m, A, &r2, 2 * SEC, NULL);
    ns_merge_update(m, A, &r3, 3 * SEC, NULL);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_uint_eq(e.serial[0], 2);
    ns_merge_destroy(&m);
}
END_TEST

/* The observation pool runs out before the flows: a flow is evicted for the observation, but
 * never the flow the observation is for. */
START_TEST(observation_pool_full)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_with(16, NS_MERGE_OBS_MAX, &e);
    uint32_t f[4];
    for (unsigned i = 0; i < 4; i++) {
        char uid[8];
        snprintf(uid, sizeof(uid), "C%u", i);
        ns_flow_rec_t r = conn_port(uid, (uint16_t)(1000 + i), NS_FLOW_REC_UPDATE);
        ns_merge_update(m, A, &r, (1 + i) * SEC, &f[i]);
    }
    ck_assert_uint_eq(e.n, 0);
    /* B joins the least recently updated flow, f[0]: f[1] is evicted in its place. */
    ns_flow_rec_t rb = conn_port("CB", 1000, NS_FLOW_REC_UPDATE);
    uint32_t id;
    ck_assert_int_eq(ns_merge_update(m, B, &rb, 10 * SEC, &id), NS_MERGE_JOINED);
    ck_assert_uint_eq(id, f[0]);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_uint_eq(e.serial[0], 2);
    ck_assert_uint_eq(view(m, f[0]).n_obs, 2);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.observations, 4);
    ck_assert_uint_eq(st.flows, 3);
    /* A new flow needs one observation: the least recently updated flow, f[2], makes room. */
    ns_flow_rec_t r = conn_port("C9", 1009, NS_FLOW_REC_UPDATE);
    ck_assert_int_eq(ns_merge_update(m, A, &r, 11 * SEC, NULL), NS_MERGE_NEW);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_uint_eq(e.serial[1], 3);
    ck_assert_uint_eq(stats(m).evicted, 2);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(expire_linger_and_idle)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    ns_flow_rec_t done = conn_port("C1", 1001, NS_FLOW_REC_FINAL);
    ns_flow_rec_t open = conn_port("C2", 1002, NS_FLOW_REC_UPDATE);
    ns_merge_update(m, A, &done, 10 * SEC, NULL);
    ns_merge_update(m, A, &open, 20 * SEC, NULL);
    ns_merge_expire(m, 14 * SEC, 5 * SEC);
    ck_assert_uint_eq(e.n, 0);
    ns_merge_expire(m, 15 * SEC, 5 * SEC);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_int_eq(e.why[0], NS_MERGE_END_CLOSED);
    ck_assert_uint_eq(e.serial[0], 1);
    ns_merge_expire(m, 79 * SEC, 5 * SEC);
    ck_assert_uint_eq(e.n, 1);
    ns_merge_expire(m, 80 * SEC, 5 * SEC); /* 60 s without an update */
    ck_assert_uint_eq(e.n, 2);
    ck_assert_int_eq(e.why[1], NS_MERGE_END_IDLE);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.expired_closed, 1);
    ck_assert_uint_eq(st.expired_idle, 1);
    ck_assert_uint_eq(st.flows, 0);
    ck_assert_uint_eq(st.observations, 0);
    ck_assert_uint_eq(ns_merge_next(m, NS_MERGE_NONE), NS_MERGE_NONE);
    ns_merge_destroy(&m);
}
END_TEST

/* The second agent's record arrives while the first's closed flow lingers: it joins it and
 * the flow is live again until that observation ends too. */
START_TEST(late_observer_joins_lingering_flow)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id, id2;
    ns_flow_rec_t ra = conn("CA1", NS_FLOW_REC_FINAL, 2.0, 5, 5);
    ns_merge_update(m, A, &ra, 10 * SEC, &id);
    ns_merge_expire(m, 12 * SEC, 5 * SEC);
    ns_flow_rec_t rb = conn("CB1", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    ck_assert_int_eq(ns_merge_update(m, B, &rb, 13 * SEC, &id2), NS_MERGE_JOINED);
    ck_assert_uint_eq(id2, id);
    ck_assert_int_eq(view(m, id).state, NS_MERGE_LIVE);
    ns_merge_expire(m, 30 * SEC, 5 * SEC);
    ck_assert_uint_eq(e.n, 0);
    rb = conn("CB1", NS_FLOW_REC_FINAL, 2.0, 5, 5);
    ns_merge_update(m, B, &rb, 31 * SEC, NULL);
    ns_merge_expire(m, 36 * SEC, 5 * SEC);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_uint_eq(e.n_obs[0], 2);
    ck_assert_uint_eq(e.pkts0[0], 5);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(flush_and_iterate)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    for (unsigned i = 0; i < 10; i++) {
        char uid[8];
        snprintf(uid, sizeof(uid), "C%u", i);
        ns_flow_rec_t r = conn_port(uid, (uint16_t)(2000 + i),
                                    i % 3 == 0 ? NS_FLOW_REC_FINAL : NS_FLOW_REC_UPDATE);
        ns_merge_update(m, A, &r, SEC, NULL);
    }
    unsigned n = 0;
    uint32_t prev = NS_MERGE_NONE;
    for (uint32_t id = ns_merge_next(m, NS_MERGE_NONE); id != NS_MERGE_NONE;
         id = ns_merge_next(m, id)) {
        ck_assert(prev == NS_MERGE_NONE || id > prev);
        prev = id;
        n++;
    }
    ck_assert_uint_eq(n, 10);
    ns_merge_flush(m);
    ck_assert_uint_eq(e.n, 10);
    ck_assert_int_eq(e.why[9], NS_MERGE_END_FLUSH);
    ck_assert_uint_eq(stats(m).flows, 0);
    ns_merge_destroy(&m);
}
END_TEST

/* Random records of a few agents over few keys into a small merge: the counters and the held
 * flows must agree with each other after every step (ASan watches the indexes). */
START_TEST(random_invariants)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_with(8, 12, &e);
    uint32_t x = 7;
    for (unsigned step = 0; step < 6000; step++) {
        x = x * 1103515245u + 12345u;
        uint32_t agent = (x >> 8) % 5;
        uint16_t port = (uint16_t)(1 + (x >> 12) % 12);
        char uid[8];
        snprintf(uid, sizeof(uid), "C%u", (x >> 20) % 3);
        double t = step / 10.0;
        ns_flow_rec_t r = rec_of(uid, (ns_flow_rec_kind_t)((x >> 24) % 3), client(), port,
                                 server(), 80, t, t + (x >> 28) % 4, (x >> 4) % 9,
                                 (x >> 14) % 9);
        if ((x >> 27) & 1)
            r = rec_of(uid, (ns_flow_rec_kind_t)((x >> 24) % 3), server(), 80, client(), port,
                       t, t + 1, (x >> 4) % 9, (x >> 14) % 9);
        uint32_t id;
        ns_merge_rc_t rc = ns_merge_update(m, agent, &r, (uint64_t)step * SEC, &id);
        ck_assert_int_ne(rc, NS_MERGE_INVALID);
        if (step % 97 == 0)
            ns_merge_expire(m, (uint64_t)step * SEC, 3 * SEC);
        uint32_t flows = 0, obs = 0, multi = 0;
        for (uint32_t f = ns_merge_next(m, NS_MERGE_NONE); f != NS_MERGE_NONE;
             f = ns_merge_next(m, f)) {
            ns_merge_flow_t v = view(m, f);
            flows++;
            obs += v.n_obs;
            multi += v.n_obs >= 2;
            ck_assert_uint_ge(v.n_obs, 1);
            for (unsigned d = 0; d < 2; d++)
                ck_assert_uint_eq(v.pkts[d], v.obs[v.total_from[d]].pkts[d]);
            for (unsigned i = 0; i < v.n_obs; i++)
                for (unsigned j = i + 1; j < v.n_obs; j++)
                    ck_assert_uint_ne(v.obs[i].agent, v.obs[j].agent);
        }
        ns_merge_stats_t st = stats(m);
        ck_assert_uint_eq(st.flows, flows);
        ck_assert_uint_eq(st.observations, obs);
        ck_assert_uint_eq(st.flows_multi, multi);
        ck_assert_uint_le(flows, 8);
        ck_assert_uint_le(obs, 12);
        ck_assert_uint_eq(st.created, flows + st.evicted + st.expired_closed + st.expired_idle);
    }
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_gt(st.evicted, 0);
    ck_assert_uint_gt(st.joined, 0);
    ck_assert_uint_gt(st.stale + st.dup_finals, 0);
    ns_merge_destroy(&m);
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(invalid_records)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id = 0;
    ns_flow_rec_t r = conn("C1", NS_FLOW_REC_UPDATE, 2.0, 1, 1);
    ck_assert_int_eq(ns_merge_update(m, N_AGENTS, &r, SEC, &id), NS_MERGE_INVALID);
    ck_assert_uint_eq(id, NS_MERGE_NONE);
    r.ip_ver = 5;
    ck_assert_int_eq(ns_merge_update(m, A, &r, SEC, NULL), NS_MERGE_INVALID);
    r = conn("C1", NS_FLOW_REC_UPDATE, 2.0, 1, 1);
    r.kind = 9;
    ck_assert_int_eq(ns_merge_update(m, A, &r, SEC, NULL), NS_MERGE_INVALID);
    ns_merge_stats_t st = stats(m);
    ck_assert_uint_eq(st.invalid, 3);
    ck_assert_uint_eq(st.flows, 0);
    ns_merge_destroy(&m);
}
END_TEST

/* Strings of a record decoded from the wire need not be terminated inside their arrays. */
START_TEST(unterminated_strings)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    uint32_t id;
    ns_flow_rec_t r = conn("", NS_FLOW_REC_UPDATE, 2.0, 1, 1);
    memset(r.uid, 'u', sizeof(r.uid));
    memset(r.conn_state, 's', sizeof(r.conn_state));
    memset(r.history, 'h', sizeof(r.history));
    memset(r.service, 'v', sizeof(r.service));
    memset(r.community_id, 'c', sizeof(r.community_id));
    ck_assert_int_eq(ns_merge_update(m, A, &r, SEC, &id), NS_MERGE_NEW);
    ns_merge_flow_t v = view(m, id);
    ck_assert_uint_eq(strlen(v.obs[0].uid), NS_FLOW_UID_LEN);
    ck_assert_uint_eq(strlen(v.obs[0].conn_state), NS_FLOW_STATE_MAX - 1);
    ck_assert_uint_eq(strlen(v.obs[0].history), NS_FLOW_HISTORY_MAX - 1);
    ck_assert_uint_eq(strlen(v.service), NS_FLOW_SERVICE_MAX - 1);
    ck_assert_uint_eq(strlen(v.community_id), NS_FLOW_CID_MAX - 1);
    /* The same (cut) uid finds the same observation. */
    r.pkts[0] = 2;
    ck_assert_int_eq(ns_merge_update(m, A, &r, SEC, NULL), NS_MERGE_APPLIED);
    ns_merge_destroy(&m);
}
END_TEST

START_TEST(agent_addresses)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    ns_host_addr_t bad = {client(), 5};
    ck_assert_int_eq(ns_merge_agent_add(m, T1, &bad, 1), NS_EINVAL);
    ck_assert_int_eq(ns_merge_agent_add(m, N_AGENTS, NULL, 0), NS_EINVAL);
    static ns_host_addr_t many[NS_MERGE_AGENT_ADDRS_MAX + 1];
    for (unsigned i = 0; i <= NS_MERGE_AGENT_ADDRS_MAX; i++) {
        many[i].addr = ip4(192, 168, (uint8_t)(i >> 8), (uint8_t)i);
        many[i].ip_ver = 4;
    }
    many[0].addr = client(); /* T1 owns the client... */
    many[NS_MERGE_AGENT_ADDRS_MAX].addr = server(); /* ...but this one does not fit */
    ck_assert_int_eq(ns_merge_agent_add(m, T1, many, NS_MERGE_AGENT_ADDRS_MAX + 1), NS_EFULL);
    ns_merge_agent_del(m, A);
    ns_merge_agent_del(m, B);
    uint32_t id;
    ns_flow_rec_t r1 = conn("C1", NS_FLOW_REC_UPDATE, 2.0, 5, 9);
    ns_flow_rec_t r2 = conn("C2", NS_FLOW_REC_UPDATE, 2.0, 7, 8);
    ns_merge_update(m, T1, &r1, SEC, &id);
    ns_merge_update(m, T2, &r2, SEC, NULL);
    ns_merge_flow_t v = view(m, id);
    ck_assert(v.loss[0].sender_owned);
    ck_assert_uint_eq(v.pkts[0], 5); /* T1 owns the source: its count, though smaller */
    ck_assert(!v.loss[1].receiver_owned);
    ck_assert(!v.loss[1].sender_owned);
    ck_assert_uint_eq(v.pkts[1], 9);
    ns_merge_destroy(&m);
}
END_TEST

/* ---- lifecycle -------------------------------------------------------------------------- */

START_TEST(lifecycle)
{
    char err[160] = "";
    ns_merge_opts_t o;
    ns_merge_opts_default(&o);
    o.capacity = 0;
    ck_assert_ptr_null(ns_merge_new(&o, NULL, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "capacity"));
    ns_merge_opts_default(&o);
    o.obs_capacity = NS_MERGE_OBS_MAX - 1;
    ck_assert_ptr_null(ns_merge_new(&o, NULL, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "observation"));
    ns_merge_opts_default(&o);
    o.max_agents = NS_MERGE_MAX_AGENTS + 1;
    ck_assert_ptr_null(ns_merge_new(&o, NULL, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "agent"));

    ns_merge_opts_default(&o);
    o.capacity = 4;
    ns_merge_t *m = ns_merge_new(&o, NULL, NULL, err, sizeof(err)); /* no callback */
    ck_assert_ptr_nonnull(m);
    ns_flow_rec_t r = conn("C1", NS_FLOW_REC_FINAL, 2.0, 1, 1);
    uint32_t id;
    ns_merge_update(m, 0, &r, SEC, &id);
    ns_merge_flow_t v;
    ck_assert(!ns_merge_view(m, id + 1, &v));
    ck_assert(!ns_merge_view(m, NS_MERGE_NONE, &v));
    ns_merge_expire(m, 100 * SEC, 0);
    ck_assert(!ns_merge_view(m, id, &v));
    ck_assert_str_eq(ns_merge_rc_name(NS_MERGE_DUP_FINAL), "dup_final");
    ck_assert_str_eq(ns_merge_end_name(NS_MERGE_END_EVICTED), "evicted");
    ns_merge_destroy(&m);
    ck_assert_ptr_null(m);
    ns_merge_destroy(&m);
    ns_merge_destroy(NULL);
}
END_TEST

/* What ns_merge_update_info() reports: the connection, the first observer, and the counts a
 * record added since its observation's previous state (none for a stale one). */
START_TEST(update_info_deltas)
{
    emitted_t e = {0};
    ns_merge_t *m = merge_new(&e);
    ns_merge_info_t ia, ib, ic, id;
    ns_flow_rec_t a1 = conn("CA1", NS_FLOW_REC_UPDATE, 2.0, 10, 11);
    a1.retrans[0] = 2;
    ck_assert_int_eq(ns_merge_update_info(m, A, &a1, 100 * SEC, &ia), NS_MERGE_NEW);
    ck_assert(ia.first_observer);
    ck_assert_uint_eq(ia.n_obs, 1);
    ck_assert_uint_eq(ia.d_pkts, 21);
    ck_assert_uint_eq(ia.d_wire_bytes, 21 * 114);
    ck_assert_uint_eq(ia.d_retrans, 2);
    ck_assert_uint_ne(ia.serial, 0);

    ns_flow_rec_t b1 = conn("CB1", NS_FLOW_REC_UPDATE, 2.1, 8, 9);
    ck_assert_int_eq(ns_merge_update_info(m, B, &b1, 101 * SEC, &ib), NS_MERGE_JOINED);
    ck_assert(!ib.first_observer);
    ck_assert_uint_eq(ib.serial, ia.serial);
    ck_assert_uint_eq(ib.n_obs, 2);
    ck_assert_uint_eq(ib.d_pkts, 17);

    ns_flow_rec_t a2 = conn("CA1", NS_FLOW_REC_FINAL, 3.0, 15, 12);
    a2.retrans[0] = 3;
    ck_assert_int_eq(ns_merge_update_info(m, A, &a2, 102 * SEC, &ic), NS_MERGE_APPLIED);
    ck_assert(ic.first_observer);
    ck_assert_uint_eq(ic.d_pkts, 6);
    ck_assert_uint_eq(ic.d_wire_bytes, 6 * 114);
    ck_assert_uint_eq(ic.d_retrans, 1);

    /* an older update of B's: stale, adds nothing */
    ns_flow_rec_t b0 = conn("CB1", NS_FLOW_REC_UPDATE, 2.0, 5, 5);
    ck_assert_int_eq(ns_merge_update_info(m, B, &b0, 103 * SEC, &id), NS_MERGE_STALE);
    ck_assert_uint_eq(id.d_pkts, 0);
    ck_assert_uint_eq(id.serial, ia.serial);

    ns_flow_rec_t bad = a1;
    bad.ip_ver = 5;
    ck_assert_int_eq(ns_merge_update_info(m, A, &bad, 104 * SEC, &id), NS_MERGE_INVALID);
    ck_assert_uint_eq(id.id, NS_MERGE_NONE);
    ck_assert_uint_eq(id.serial, 0);
    ns_merge_destroy(&m);
}
END_TEST

static Suite *
merge_suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("observations");
    tcase_add_test(tc, two_agents_one_connection);
    tcase_add_test(tc, taps_fallback);
    tcase_add_test(tc, single_observer);
    tcase_add_test(tc, agent_addresses);
    tcase_add_test(tc, update_info_deltas);
    suite_add_tcase(s, tc);
    tc = tcase_create("records");
    tcase_add_test(tc, updates_replace_state);
    tcase_add_test(tc, stale_updates_ignored);
    tcase_add_test(tc, final_closes_and_duplicates);
    suite_add_tcase(s, tc);
    tc = tcase_create("matching");
    tcase_add_test(tc, reused_five_tuple);
    tcase_add_test(tc, superseded_by_new_uid);
    tcase_add_test(tc, time_overlap_and_tolerance);
    tcase_add_test(tc, clock_offset);
    tcase_add_test(tc, key_identity);
    tcase_add_test(tc, orientation);
    tcase_add_test(tc, zeek_flip_within_agent);
    tcase_add_test(tc, too_many_observers);
    suite_add_tcase(s, tc);
    tc = tcase_create("capacity");
    tcase_add_test(tc, evicts_least_recently_updated);
    tcase_add_test(tc, evicts_closed_first);
    tcase_add_test(tc, observation_pool_full);
    tcase_add_test(tc, expire_linger_and_idle);
    tcase_add_test(tc, late_observer_joins_lingering_flow);
    tcase_add_test(tc, flush_and_iterate);
    tcase_add_test(tc, random_invariants);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, invalid_records);
    tcase_add_test(tc, unterminated_strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(merge_suite)

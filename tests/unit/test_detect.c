/* test_detect.c - the detectors on hand-built update streams: thresholds exactly at, below
 * and above; windows sliding; the alert lifecycle raised -> ongoing -> cleared with one
 * notification per change; dedup per (detector, subject); exclusions; memory held under a
 * flood from random sources. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/detect.h"
#include "netscope/sketch.h"
#include "runner.h"

#define SEC 1000000000ull
#define MS 1000000ull

typedef struct {
    uint32_t changes[NS_DETECT_COUNT][3]; /* per kind, per state: changed=true calls */
    uint32_t refreshes;
    ns_alert_t last[NS_DETECT_COUNT];
} sink_t;

static void
on_alert(void *ud, const ns_alert_t *a, bool changed)
{
    sink_t *s = ud;
    if (changed)
        s->changes[a->kind][a->state]++;
    else
        s->refreshes++;
    s->last[a->kind] = *a;
}

static ns_addr_t
ip4(uint32_t v)
{
    ns_addr_t x;
    memset(&x, 0, sizeof(x));
    x.b[0] = (uint8_t)(v >> 24), x.b[1] = (uint8_t)(v >> 16), x.b[2] = (uint8_t)(v >> 8),
    x.b[3] = (uint8_t)v;
    return x;
}

#define ATTACKER 0x0a000005u /* 10.0.0.5 */
#define VICTIM 0x0a000002u   /* 10.0.0.2 */

static uint32_t g_uid;

static ns_flow_rec_t
rec(uint8_t proto, uint32_t orig, uint16_t op, uint32_t resp, uint16_t rp, const char *history)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "C%08u", ++g_uid);
    r.ip_ver = 4;
    r.proto = proto;
    r.orig_h = ip4(orig);
    r.resp_h = ip4(resp);
    r.orig_p = op;
    r.resp_p = rp;
    r.pkts[0] = 1;
    r.wire_bytes[0] = 60;
    if (proto == 6) {
        r.is_tcp = true;
        r.syn[0] = 1;
        snprintf(r.history, sizeof(r.history), "%s", history);
    }
    return r;
}

static ns_merge_info_t
info(uint64_t pkts)
{
    ns_merge_info_t mi;
    memset(&mi, 0, sizeof(mi));
    mi.first_observer = true;
    mi.n_obs = 1;
    mi.d_pkts = pkts;
    mi.d_wire_bytes = pkts * 60;
    return mi;
}

static ns_detect_t *
make(ns_detect_config_t *c)
{
    char err[256];
    ns_detect_opts_t o = {.seed = 1234, .id_base = 1000};
    ns_detect_t *d = ns_detect_new(c, &o, err, sizeof(err));
    ck_assert_msg(d != NULL, "%s", err);
    return d;
}

static void
config(ns_detect_config_t *c, ns_detect_kind_t k, uint64_t threshold, uint64_t window_s)
{
    ns_detect_config_default(c);
    c->max_subjects = 64;
    c->sketch_width = 1024;
    c->clear_ns = 2 * SEC;
    c->rule[k].threshold = threshold;
    c->rule[k].window_ns = window_s * SEC;
}

/* `n` half-open SYN flows to VICTIM:80 from ATTACKER, spread over [t0, t0 + 1 s). */
static void
syns(ns_detect_t *d, uint32_t n, uint64_t t0, uint16_t port0)
{
    for (uint32_t i = 0; i < n; i++) {
        ns_flow_rec_t r = rec(6, ATTACKER, (uint16_t)(port0 + i), VICTIM, 80, "S");
        ns_merge_info_t mi = info(1);
        ns_detect_update(d, "agent-b", &r, NS_MERGE_NEW, &mi, t0 + i * (SEC / (n + 1)));
    }
}

/* ---- thresholds --------------------------------------------------------------------------- */

START_TEST(syn_flood_below_at_above)
{
    static const struct {
        uint32_t n;
        bool alert;
    } cases[] = {{99, false}, {100, true}, {101, true}, {2000, true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ns_detect_config_t c;
        config(&c, NS_DETECT_SYN_FLOOD, 100, 10);
        ns_detect_t *d = make(&c);
        sink_t s = {0};
        syns(d, cases[i].n, 100 * SEC, 1000);
        ns_detect_tick(d, 101 * SEC, on_alert, &s);
        ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], cases[i].alert);
        if (cases[i].alert) {
            const ns_alert_t *a = &s.last[NS_DETECT_SYN_FLOOD];
            ck_assert_str_eq(a->victim, "10.0.0.2");
            ck_assert_str_eq(a->subject, "10.0.0.2 port 80/tcp");
            ck_assert_uint_eq(a->threshold, 100);
            ck_assert_uint_ge(a->value, cases[i].n); /* count-min: never under */
            ck_assert_uint_le(a->value, cases[i].n + cases[i].n / 100 + 1);
            ck_assert_uint_eq(a->window_ns, 10 * SEC);
            ck_assert_uint_eq(a->id, 1001);
            ck_assert_uint_eq(a->sources, 1); /* one spoof-free attacker */
            ck_assert_uint_ge(a->n_uids, 1);
            ck_assert_str_eq(a->agents[0], "agent-b");
            ck_assert_int_eq(a->severity, cases[i].n >= 1000 ? NS_ALERT_HIGH : NS_ALERT_LOW);
        }
        /* nothing else alerted: one port, one destination */
        for (int k = 0; k < NS_DETECT_COUNT; k++)
            if (k != NS_DETECT_SYN_FLOOD)
                ck_assert_uint_eq(s.changes[k][NS_ALERT_RAISED], 0);
        ns_detect_destroy(&d);
        ck_assert_ptr_null(d);
    }
}
END_TEST

START_TEST(syn_flood_completed_handshakes_do_not_count)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_SYN_FLOOD, 100, 10);
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    /* 300 connections complete in their first record; 300 more complete in the next one */
    for (uint32_t i = 0; i < 300; i++) {
        ns_flow_rec_t r = rec(6, ATTACKER, (uint16_t)(2000 + i), VICTIM, 443, "ShAD");
        r.hs = NS_FLOW_REC_HS_TOTAL;
        ns_merge_info_t mi = info(3);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 50 * SEC);
        ns_flow_rec_t q = rec(6, ATTACKER, (uint16_t)(4000 + i), VICTIM, 443, "S");
        mi = info(1);
        ns_detect_update(d, "a", &q, NS_MERGE_NEW, &mi, 50 * SEC);
        snprintf(q.history, sizeof(q.history), "ShA");
        q.hs = NS_FLOW_REC_HS_TOTAL;
        mi = info(2);
        ns_detect_update(d, "a", &q, NS_MERGE_APPLIED, &mi, 50 * SEC + 200 * MS);
    }
    ns_detect_tick(d, 51 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 0);
    ns_detect_destroy(&d);
}
END_TEST

START_TEST(window_slides)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_SYN_FLOOD, 100, 10);
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    /* 60 at t=10 and 60 at t=21: never 100 within 10 s */
    syns(d, 60, 10 * SEC, 1000);
    ns_detect_tick(d, 11 * SEC, on_alert, &s);
    syns(d, 60, 21 * SEC, 3000);
    ns_detect_tick(d, 22 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 0);
    /* 60 more at t=25: 120 within the window ending at 26 */
    syns(d, 60, 25 * SEC, 5000);
    ns_detect_tick(d, 26 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 1);
    ns_detect_destroy(&d);
}
END_TEST

/* ---- lifecycle ------------------------------------------------------------------------------ */

START_TEST(lifecycle_once_per_change)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_SYN_FLOOD, 100, 10);
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    uint64_t t = 100 * SEC;
    /* 20 s of 200 SYN/s, ticking every 250 ms */
    for (uint32_t sec = 0; sec < 20; sec++) {
        syns(d, 200, t + sec * SEC, (uint16_t)(sec * 200));
        for (int q = 1; q <= 4; q++)
            ns_detect_tick(d, t + sec * SEC + (uint64_t)q * 250 * MS, on_alert, &s);
    }
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_ONGOING], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_CLEARED], 0);
    ck_assert_uint_ge(s.refreshes, 2); /* every 5 s while ongoing, not a change */
    ns_detect_stats_t st;
    ns_detect_stats(d, &st);
    ck_assert_uint_eq(st.active[NS_DETECT_SYN_FLOOD], 1);
    uint32_t n_active = 0;
    /* the attack stops: the window empties (10 s), then clear_after (2 s) */
    t += 20 * SEC;
    for (uint32_t q = 0; q < 60; q++)
        ns_detect_tick(d, t + q * 250 * MS, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_CLEARED], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 1);
    const ns_alert_t *a = &s.last[NS_DETECT_SYN_FLOOD];
    ck_assert_int_eq(a->state, NS_ALERT_CLEARED);
    ck_assert_uint_gt(a->cleared_ns, a->raised_ns);
    ck_assert_uint_ge(a->peak, 1000);
    ns_detect_stats(d, &st);
    ck_assert_uint_eq(st.active[NS_DETECT_SYN_FLOOD], 0);
    ck_assert_uint_eq(st.raised[NS_DETECT_SYN_FLOOD], 1);
    ck_assert_uint_eq(st.cleared[NS_DETECT_SYN_FLOOD], 1);
    /* a new attack on the same subject is a new alert with a new id */
    syns(d, 200, t + 30 * SEC, 7000);
    ns_detect_tick(d, t + 31 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 2);
    ck_assert_uint_eq(s.last[NS_DETECT_SYN_FLOOD].id, 1002);
    (void)n_active;
    ns_detect_destroy(&d);
}
END_TEST

/* ---- scans -------------------------------------------------------------------------------- */

START_TEST(port_scan_distinct_ports)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_PORT_SCAN, 50, 60);
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    /* 200 connections to one port: 1 distinct port */
    for (uint32_t i = 0; i < 200; i++) {
        ns_flow_rec_t r = rec(6, ATTACKER, (uint16_t)(30000 + i), VICTIM, 22, "ShAD");
        ns_merge_info_t mi = info(4);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 10 * SEC);
    }
    /* 49 distinct ports, each probed twice (nmap retries): below */
    for (uint32_t i = 0; i < 98; i++) {
        ns_flow_rec_t r = rec(6, ATTACKER, 40000, VICTIM, (uint16_t)(1 + i / 2), "Sr");
        ns_merge_info_t mi = info(1);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 11 * SEC);
    }
    ns_detect_tick(d, 12 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_PORT_SCAN][NS_ALERT_RAISED], 0);
    /* the 50th distinct port (22 is among 1..49): exactly at the threshold */
    ns_flow_rec_t r = rec(6, ATTACKER, 40000, VICTIM, 1000, "S");
    ns_merge_info_t mi = info(1);
    ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 12 * SEC);
    ns_detect_tick(d, 13 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_PORT_SCAN][NS_ALERT_RAISED], 1);
    const ns_alert_t *a = &s.last[NS_DETECT_PORT_SCAN];
    ck_assert_str_eq(a->source, "10.0.0.5");
    ck_assert_str_eq(a->victim, "10.0.0.2");
    ck_assert_uint_eq(a->value, 50); /* ports 1..49 and 1000 */
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 0);
    ck_assert_uint_eq(s.changes[NS_DETECT_SWEEP][NS_ALERT_RAISED], 0);
    ns_detect_destroy(&d);
}
END_TEST

START_TEST(sweep_one_alert_per_source)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_SWEEP, 30, 60);
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    /* nmap -sn --send-ip: ICMP echo and TCP SYN to 443 to each of 100 hosts */
    for (uint32_t h = 0; h < 100; h++) {
        ns_flow_rec_t r = rec(1, ATTACKER, 8, 0x0a000100u + h, 0, "");
        ns_merge_info_t mi = info(1);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 5 * SEC);
        r = rec(6, ATTACKER, 50000, 0x0a000100u + h, 443, "S");
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 5 * SEC);
    }
    ns_detect_tick(d, 6 * SEC, on_alert, &s);
    ns_detect_tick(d, 7 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SWEEP][NS_ALERT_RAISED], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_SWEEP][NS_ALERT_ONGOING], 1);
    ck_assert_str_eq(s.last[NS_DETECT_SWEEP].source, "10.0.0.5");
    ck_assert_uint_eq(s.changes[NS_DETECT_PORT_SCAN][NS_ALERT_RAISED], 0);
    ns_detect_destroy(&d);
}
END_TEST

/* ---- floods, DNS, spike ----------------------------------------------------------------------- */

START_TEST(icmp_udp_dns)
{
    ns_detect_config_t c;
    ns_detect_config_default(&c);
    c.sketch_width = 1024;
    c.rule[NS_DETECT_ICMP_FLOOD].threshold = 1000;
    c.rule[NS_DETECT_UDP_FLOOD].threshold = 1000;
    c.rule[NS_DETECT_DNS_ERRORS].threshold = 10;
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    ns_flow_rec_t r = rec(1, ATTACKER, 8, VICTIM, 0, "");
    ns_merge_info_t mi = info(999);
    ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 5 * SEC);
    r = rec(17, ATTACKER, 5000, VICTIM, 9, "");
    mi = info(1000);
    ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 5 * SEC);
    /* 10 NXDOMAIN answers to one client, in records of 3 transactions */
    ns_app_dns_tx_t tx[3];
    memset(tx, 0, sizeof(tx));
    for (int i = 0; i < 3; i++) {
        tx[i].answered = true;
        tx[i].rcode = i == 2 ? 0 : 3; /* NOERROR does not count */
    }
    for (int i = 0; i < 5; i++) {
        r = rec(17, 0x0a000009u, (uint16_t)(3000 + i), 0x0a000001u, 53, "");
        r.dns = tx;
        r.n_dns = 3;
        mi = info(6);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, 5 * SEC);
    }
    ns_detect_tick(d, 6 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_ICMP_FLOOD][NS_ALERT_RAISED], 0); /* 999 < 1000 */
    ck_assert_uint_eq(s.changes[NS_DETECT_UDP_FLOOD][NS_ALERT_RAISED], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_DNS_ERRORS][NS_ALERT_RAISED], 1);
    ck_assert_str_eq(s.last[NS_DETECT_DNS_ERRORS].source, "10.0.0.9");
    ck_assert_str_eq(s.last[NS_DETECT_UDP_FLOOD].victim, "10.0.0.2");
    ns_detect_destroy(&d);
}
END_TEST

START_TEST(spike_against_baseline)
{
    ns_detect_config_t c;
    ns_detect_config_default(&c);
    c.sketch_width = 1024;
    c.clear_ns = 3 * SEC;
    c.rule[NS_DETECT_SPIKE].threshold = 10000;
    c.rule[NS_DETECT_SPIKE].window_ns = 60 * SEC;
    c.rule[NS_DETECT_SPIKE].factor = 5.0;
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    uint64_t t = 1000 * SEC;
    /* 120 s at 6000 B/s: baseline; then 10 s at 60,000 B/s; then normal again */
    for (uint32_t sec = 0; sec < 150; sec++) {
        uint64_t pk = sec >= 120 && sec < 130 ? 1000 : 100;
        ns_flow_rec_t r = rec(6, 0x0a000001u, 1234, VICTIM, 80, "ShAD");
        ns_merge_info_t mi = info(pk);
        ns_detect_update(d, "agent-a", &r, NS_MERGE_APPLIED, &mi, t + sec * SEC + 10 * MS);
        ns_detect_tick(d, t + sec * SEC + 500 * MS, on_alert, &s);
    }
    ck_assert_uint_eq(s.changes[NS_DETECT_SPIKE][NS_ALERT_RAISED], 1);
    ck_assert_uint_eq(s.changes[NS_DETECT_SPIKE][NS_ALERT_CLEARED], 1);
    ck_assert_str_eq(s.last[NS_DETECT_SPIKE].subject, "agent-a/0");
    ck_assert_uint_eq(s.last[NS_DETECT_SPIKE].peak, 60000);
    ns_detect_destroy(&d);
}
END_TEST

/* ---- configuration ---------------------------------------------------------------------------- */

START_TEST(exclusions_and_reload)
{
    ns_detect_config_t c;
    config(&c, NS_DETECT_SYN_FLOOD, 100, 10);
    char *ex[] = {"10.0.0.0/30"};
    c.rule[NS_DETECT_SYN_FLOOD].exclude.v = ex;
    c.rule[NS_DETECT_SYN_FLOOD].exclude.n = 1;
    ns_detect_t *d = make(&c);
    sink_t s = {0};
    syns(d, 500, 10 * SEC, 1000); /* victim 10.0.0.2 is in 10.0.0.0/30 */
    ns_detect_tick(d, 11 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 0);
    ns_detect_stats_t st;
    ns_detect_stats(d, &st);
    ck_assert_uint_eq(st.excluded[NS_DETECT_SYN_FLOOD], 500);
    /* a malformed entry is refused and the old configuration stays */
    char *bad[] = {"10.0.0.300"};
    c.rule[NS_DETECT_SYN_FLOOD].exclude.v = bad;
    char err[256];
    ck_assert(!ns_detect_configure(d, &c, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "detect.syn_flood.exclude"));
    char *port[] = {"port 80"};
    c.rule[NS_DETECT_SYN_FLOOD].exclude.v = port;
    ck_assert(ns_detect_configure(d, &c, err, sizeof(err)));
    syns(d, 500, 20 * SEC, 1000);
    ns_detect_tick(d, 21 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 0);
    /* no exclusions: alerts; then the detector is turned off: the alert clears */
    c.rule[NS_DETECT_SYN_FLOOD].exclude.n = 0;
    ck_assert(ns_detect_configure(d, &c, err, sizeof(err)));
    syns(d, 500, 30 * SEC, 1000);
    ns_detect_tick(d, 31 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 1);
    c.rule[NS_DETECT_SYN_FLOOD].enabled = false;
    ck_assert(ns_detect_configure(d, &c, err, sizeof(err)));
    ns_detect_tick(d, 32 * SEC, on_alert, &s);
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_CLEARED], 1);
    ns_detect_destroy(&d);
}
END_TEST

/* ---- memory ------------------------------------------------------------------------------------ */

static bool
copy_first(void *ud, const ns_alert_t *a)
{
    *(ns_alert_t *)ud = *a;
    return false;
}

START_TEST(memory_cap_under_random_flood)
{
    /* 1,000,000 SYNs from random sources to random victims and ports (the bench runs 10 M):
     * no allocation after creation, the candidate table stays within max_subjects, and a
     * real victim among them is still found. */
    ns_detect_config_t c;
    config(&c, NS_DETECT_SYN_FLOOD, 500, 10);
    c.sketch_width = 4096;
    ns_detect_t *d = make(&c);
    size_t mem[NS_DETECT_COUNT];
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        mem[k] = ns_detect_memory(d, (ns_detect_kind_t)k);
    sink_t s = {0};
    uint64_t x = 88172645463325252ull;
    uint64_t t = 100 * SEC;
    for (uint32_t i = 0; i < 1000000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ns_flow_rec_t r = rec(6, (uint32_t)x, (uint16_t)(x >> 32), (uint32_t)(x >> 24),
                              (uint16_t)(x >> 48), "S");
        ns_merge_info_t mi = info(1);
        ns_detect_update(d, "a", &r, NS_MERGE_NEW, &mi, t + i * 1000ull);
        if (i % 1000 == 0) {
            ns_flow_rec_t v = rec(6, (uint32_t)x, 1, VICTIM, 80, "S");
            ns_detect_update(d, "a", &v, NS_MERGE_NEW, &mi, t + i * 1000ull);
        }
        if (i % 100000 == 0)
            ns_detect_tick(d, t + i * 1000ull, on_alert, &s);
    }
    ns_detect_tick(d, t + 1000000ull * 1000ull, on_alert, &s);
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        ck_assert_uint_eq(ns_detect_memory(d, (ns_detect_kind_t)k), mem[k]);
    /* 1000 SYNs to VICTIM:80 in 1 s: found; random subjects each have ~1 */
    ck_assert_uint_eq(s.changes[NS_DETECT_SYN_FLOOD][NS_ALERT_RAISED], 1);
    ck_assert_str_eq(s.last[NS_DETECT_SYN_FLOOD].victim, "10.0.0.2");
    /* distinct sources are counted from admission (~500 SYNs in): ~500, HLL within 20%;
     * the active alert is read as it is now (the callback's copy is from the last change) */
    ns_alert_t now;
    memset(&now, 0, sizeof(now));
    ns_detect_active_each(d, copy_first, &now);
    ck_assert_int_eq(now.kind, NS_DETECT_SYN_FLOOD);
    ck_assert_uint_ge(now.value, 900); /* count-mean-min: about sqrt(N/w) either way */
    ck_assert_uint_le(now.value, 1100);
    ck_assert_uint_ge(now.sources, 350);
    ck_assert_uint_le(now.sources, 650);
    ck_assert_uint_le(ns_detect_memory(d, NS_DETECT_SYN_FLOOD), 2u << 20);
    ns_detect_destroy(&d);
}
END_TEST

START_TEST(alert_json)
{
    ns_alert_t a;
    memset(&a, 0, sizeof(a));
    a.id = 7;
    a.kind = NS_DETECT_PORT_SCAN;
    a.state = NS_ALERT_CLEARED;
    a.severity = NS_ALERT_MEDIUM;
    snprintf(a.subject, sizeof(a.subject), "10.0.0.5 -> 10.0.0.2");
    snprintf(a.agents[0], sizeof(a.agents[0]), "we\"ird");
    a.n_agents = 1;
    a.raised_ns = 1700000000ull * SEC + 500 * MS;
    char buf[2048];
    size_t n = ns_alert_json(&a, buf, sizeof(buf));
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(strlen(buf), n);
    ck_assert_ptr_nonnull(strstr(buf, "\"detector\":\"port_scan\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"state\":\"cleared\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"raised\":1700000000.500000"));
    ck_assert_ptr_nonnull(strstr(buf, "\"cleared\":null"));
    ck_assert_ptr_nonnull(strstr(buf, "[\"we\\\"ird\"]"));
    ck_assert_ptr_nonnull(strstr(buf, "]},\"pcap\":false}")); /* top level, last */
    ck_assert_uint_eq(ns_alert_json(&a, buf, 20), 0); /* too small: 0, never cut */
}
END_TEST

static Suite *
detect_suite(void)
{
    Suite *s = suite_create("detect");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, syn_flood_below_at_above);
    tcase_add_test(t, syn_flood_completed_handshakes_do_not_count);
    tcase_add_test(t, window_slides);
    tcase_add_test(t, port_scan_distinct_ports);
    tcase_add_test(t, sweep_one_alert_per_source);
    tcase_add_test(t, icmp_udp_dns);
    tcase_add_test(t, spike_against_baseline);
    tcase_add_test(t, alert_json);
    suite_add_tcase(s, t);
    TCase *l = tcase_create("lifecycle");
    tcase_add_test(l, lifecycle_once_per_change);
    tcase_add_test(l, exclusions_and_reload);
    tcase_add_test(l, memory_cap_under_random_flood);
    tcase_set_timeout(l, 120);
    suite_add_tcase(s, l);
    return s;
}

NS_TEST_MAIN(detect_suite)

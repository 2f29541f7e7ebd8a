/* bench_detect.c - the detectors' cost per flow update and their memory under a flood.
 *
 *   bench_detect [-n UPDATES] [--flood N] [--seed S]
 *
 * Two in-process workloads, every detector on with its default settings, the clock simulated
 * (a tick every 250 ms as in the collector):
 *   mix    UPDATES (default 5,000,000) records at 20,000 per second, like bench_ingest's
 *          agents send them: 20,000 live
 *          flows walked round robin, each new flow's first record then about 9 updates; 70%
 *          TCP (handshake complete, to 50 servers on ports 80/443), 20% DNS over UDP to 2
 *          resolvers (10% NXDOMAIN), 10% HTTP. The same records also go through the merge
 *          (ns_merge_update_info), the collector's own per-record work, for comparison.
 *   flood  N (default 10,000,000) SYNs at 1,000,000 per second from random sources to random addresses and ports,
 *          each a new flow (ns_detect_update only), plus 1 in 1000 to one victim port.
 * Printed, one line each: ns per update (median of 3 rounds), alerts raised, the detectors'
 * memory (ns_detect_memory, per detector) and this process's maximum RSS before and after
 * the flood (getrusage): the memory must not grow with the flood.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "netscope/detect.h"
#include "netscope/merge.h"

#define SEC 1000000000ull
#define MIX_PER_S 20000ull    /* simulated updates per second: a busy site's collector */
#define FLOOD_PER_S 1000000ull /* a flood at the collector's ingest limit */

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static long
max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static uint64_t g_x = 88172645463325252ull;
static uint64_t
rnd(void)
{
    g_x ^= g_x << 13, g_x ^= g_x >> 7, g_x ^= g_x << 17;
    return g_x;
}

static void
ip4(ns_addr_t *a, uint32_t v)
{
    memset(a, 0, sizeof(*a));
    a->b[0] = (uint8_t)(v >> 24), a->b[1] = (uint8_t)(v >> 16), a->b[2] = (uint8_t)(v >> 8);
    a->b[3] = (uint8_t)v;
}

static void
show(void *ud, const ns_alert_t *a, bool changed)
{
    (void)ud;
    if (changed && getenv("BENCH_DETECT_SHOW"))
        fprintf(stderr, "%s %s %s value=%llu\n", ns_detect_kind_name(a->kind),
                ns_alert_state_name(a->state), a->subject, (unsigned long long)a->value);
}

typedef struct {
    ns_flow_rec_t r;
    uint32_t left; /* updates before the final */
} flow_t;

static void
new_flow(flow_t *f, uint32_t serial)
{
    memset(f, 0, sizeof(*f));
    ns_flow_rec_t *r = &f->r;
    snprintf(r->uid, sizeof(r->uid), "C%08x", serial);
    r->ip_ver = 4;
    ip4(&r->orig_h, 0x0a000000u | (uint32_t)(rnd() % 5000));
    r->orig_p = (uint16_t)(1024 + serial % 60000);
    uint32_t kind = (uint32_t)(rnd() % 10);
    if (kind < 7 || kind == 9) {
        r->proto = 6;
        r->is_tcp = true;
        ip4(&r->resp_h, 0x0a010000u | (uint32_t)(rnd() % 50));
        r->resp_p = kind == 9 ? 80 : (rnd() % 2 ? 443 : 80);
        r->syn[0] = r->syn[1] = 1;
        r->hs = NS_FLOW_REC_HS_TOTAL;
        snprintf(r->history, sizeof(r->history), "ShAD");
    } else {
        r->proto = 17;
        ip4(&r->resp_h, 0x0a020000u | (uint32_t)(rnd() % 2));
        r->resp_p = 53;
    }
    f->left = 9;
}

static ns_app_dns_tx_t g_tx[2];

static double
run_mix(uint64_t n, ns_detect_t *d, ns_merge_t *m, uint32_t *serial, uint64_t *t)
{
    enum { LIVE = 20000 };
    static flow_t flows[LIVE];
    for (uint32_t i = 0; i < LIVE; i++)
        new_flow(&flows[i], ++*serial);
    uint64_t start = mono_ns(), next_tick = *t;
    for (uint64_t i = 0; i < n; i++) {
        flow_t *f = &flows[i % LIVE];
        ns_flow_rec_t *r = &f->r;
        bool first = r->pkts[0] == 0;
        r->kind = f->left == 0 ? NS_FLOW_REC_FINAL : NS_FLOW_REC_UPDATE;
        r->pkts[0] += 3, r->pkts[1] += 3;
        r->wire_bytes[0] += 300, r->wire_bytes[1] += 3000;
        r->first_ns = first ? *t : r->first_ns;
        r->last_ns = *t;
        r->n_dns = 0;
        r->dns = NULL;
        if (r->proto == 17 && first) {
            g_tx[0].answered = g_tx[1].answered = true;
            g_tx[0].rcode = rnd() % 10 == 0 ? 3 : 0;
            r->dns = g_tx;
            r->n_dns = 1;
        }
        ns_merge_info_t mi;
        ns_merge_rc_t rc;
        if (m) {
            rc = ns_merge_update_info(m, 0, r, *t, &mi);
        } else {
            memset(&mi, 0, sizeof(mi));
            mi.first_observer = true;
            mi.d_pkts = 6;
            mi.d_wire_bytes = 3300;
            mi.had_rtt = !first;
            rc = first ? NS_MERGE_NEW : NS_MERGE_APPLIED;
        }
        if (d)
            ns_detect_update(d, "bench", r, rc, &mi, *t);
        if (f->left-- == 0)
            new_flow(f, ++*serial);
        *t += SEC / MIX_PER_S;
        if (d && *t >= next_tick) {
            ns_detect_tick(d, *t, show, NULL);
            next_tick = *t + SEC / 4;
        }
    }
    return (double)(mono_ns() - start) / (double)n;
}

static double
run_flood(uint64_t n, ns_detect_t *d, uint64_t *t)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    r.ip_ver = 4;
    r.proto = 6;
    r.is_tcp = true;
    r.syn[0] = 1;
    snprintf(r.history, sizeof(r.history), "S");
    snprintf(r.uid, sizeof(r.uid), "Cflood");
    ns_merge_info_t mi;
    memset(&mi, 0, sizeof(mi));
    mi.first_observer = true;
    mi.d_pkts = 1;
    mi.d_wire_bytes = 60;
    uint64_t start = mono_ns(), next_tick = *t;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = rnd();
        ip4(&r.orig_h, (uint32_t)x);
        r.orig_p = (uint16_t)(x >> 32);
        if (i % 1000 == 0) {
            ip4(&r.resp_h, 0x0a000002u);
            r.resp_p = 80;
        } else {
            ip4(&r.resp_h, (uint32_t)(x >> 24));
            r.resp_p = (uint16_t)(x >> 48);
        }
        ns_detect_update(d, "bench", &r, NS_MERGE_NEW, &mi, *t);
        *t += SEC / FLOOD_PER_S;
        if (*t >= next_tick) {
            ns_detect_tick(d, *t, show, NULL);
            next_tick = *t + SEC / 4;
        }
    }
    return (double)(mono_ns() - start) / (double)n;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t
raised(const ns_detect_t *d)
{
    ns_detect_stats_t st;
    ns_detect_stats(d, &st);
    uint64_t n = 0;
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        n += st.raised[k];
    return n;
}

int
main(int argc, char **argv)
{
    uint64_t n = 5000000, flood = 10000000;
    static const struct option lo[] = {{"flood", required_argument, NULL, 'f'},
                                       {"seed", required_argument, NULL, 's'},
                                       {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
        if (ch == 'n')
            n = strtoull(optarg, NULL, 10);
        else if (ch == 'f')
            flood = strtoull(optarg, NULL, 10);
        else if (ch == 's')
            g_x = strtoull(optarg, NULL, 10) | 1u;
        else
            return 2;
    }
    ns_detect_config_t cfg;
    ns_detect_config_default(&cfg);
    char err[256];
    ns_detect_opts_t o = {.seed = 1};
    ns_merge_opts_t mo;
    ns_merge_opts_default(&mo);
    mo.capacity = 1u << 18;
    double det[3], mer[3], both[3];
    uint64_t mix_alerts = 0;
    uint32_t serial = 0;
    for (int round = 0; round < 3; round++) {
        uint64_t t = 1000 * SEC;
        ns_detect_t *d = ns_detect_new(&cfg, &o, err, sizeof(err));
        ns_merge_t *m = ns_merge_new(&mo, NULL, NULL, err, sizeof(err));
        if (d == NULL || m == NULL) {
            fprintf(stderr, "bench_detect: %s\n", err);
            return 1;
        }
        det[round] = run_mix(n, d, NULL, &serial, &t);
        mix_alerts += raised(d);
        mer[round] = run_mix(n, NULL, m, &serial, &t);
        ns_merge_destroy(&m);
        m = ns_merge_new(&mo, NULL, NULL, err, sizeof(err));
        both[round] = run_mix(n, d, m, &serial, &t);
        mix_alerts += raised(d);
        ns_merge_destroy(&m);
        ns_detect_destroy(&d);
    }
    qsort(det, 3, sizeof(double), cmp_d);
    qsort(mer, 3, sizeof(double), cmp_d);
    qsort(both, 3, sizeof(double), cmp_d);
    printf("mix updates=%llu detect_ns=%.1f merge_ns=%.1f merge_detect_ns=%.1f alerts=%llu\n",
           (unsigned long long)n, det[1], mer[1], both[1], (unsigned long long)mix_alerts);

    ns_detect_t *d = ns_detect_new(&cfg, &o, err, sizeof(err));
    if (d == NULL)
        return 1;
    long rss0 = max_rss_kb();
    size_t mem0 = 0;
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        mem0 += ns_detect_memory(d, (ns_detect_kind_t)k);
    uint64_t t = 5000 * SEC;
    double fl = run_flood(flood, d, &t);
    long rss1 = max_rss_kb();
    ns_detect_stats_t st;
    ns_detect_stats(d, &st);
    printf("flood syns=%llu detect_ns=%.1f alerts_syn_flood=%llu subjects_dropped=%llu "
           "rss_kb_before=%ld rss_kb_after=%ld detector_bytes=%zu\n",
           (unsigned long long)flood, fl, (unsigned long long)st.raised[NS_DETECT_SYN_FLOOD],
           (unsigned long long)st.subjects_dropped[NS_DETECT_SYN_FLOOD], rss0, rss1, mem0);
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        printf("memory detector=%s bytes=%zu\n", ns_detect_kind_name((ns_detect_kind_t)k),
               ns_detect_memory(d, (ns_detect_kind_t)k));
    ns_detect_destroy(&d);
    return 0;
}

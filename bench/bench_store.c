/* bench_store.c - the collector's history: write rate, bytes per flow, query latency.
 *
 * Writes N final flow records (default 10 million) through the real queue and writer thread
 * (ns_store_put_flow from this thread, as the collector's ingest does; a full queue is
 * retried after a yield, so the rate is what the writer sustains), spread evenly over the
 * last `span` hours. Then prints the database bytes per stored flow and the latency of two
 * queries, each timed from ns_store_read_begin() to ns_store_read_end():
 *   host  - the flows of one client host in the last hour (time sorted, limit 100)
 *   top   - the 10 hosts with most bytes in the last hour
 * The records model one site: 65,536 client hosts, 1,000 servers, a few services.
 *
 * usage: bench_store [-n flows] [-s span_hours] [-d dir] [-r query_rounds] [-k] [-q]
 *   -d: a directory for the database (default: a new one under $TMPDIR or /tmp, removed at
 *   the end unless -k).
 *   -q: no writing: query the database in -d, "the last hour" ending at its newest record.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netscope/store.h"

#define SEC 1000000000ull

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t
mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static ns_addr_t
client_addr(uint32_t c)
{
    ns_addr_t a;
    memset(&a, 0, sizeof(a));
    a.b[0] = 10, a.b[1] = 1, a.b[2] = (uint8_t)(c >> 8), a.b[3] = (uint8_t)c;
    return a;
}

static void
make_rec(uint64_t i, uint64_t t0, uint64_t span_ns, uint64_t n, ns_flow_rec_t *r,
         ns_store_meta_t *m)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static const uint16_t ports[] = {443, 443, 443, 80, 80, 53, 53, 22, 123, 8080};
    uint64_t h = mix(i);
    memset(r, 0, sizeof(*r));
    r->uid[0] = 'C';
    uint64_t u = h;
    for (int k = 1; k <= 17; k++, u /= 62)
        r->uid[k] = b62[u % 62];
    memcpy(r->community_id, "1:", 2);
    uint64_t c = mix(h);
    for (int k = 2; k < 30; k++, c = c * 6364136223846793005ull + 1)
        r->community_id[k] = b62[(c >> 33) % 62];
    r->ip_ver = 4;
    uint16_t port = ports[h % 10];
    r->proto = port == 53 || port == 123 ? 17 : 6;
    r->is_tcp = r->proto == 6;
    r->kind = NS_FLOW_REC_FINAL;
    r->end_reason = NS_FLOW_END_IDLE;
    r->orig_h = client_addr((uint32_t)(h >> 16) & 0xffff);
    memset(&r->resp_h, 0, sizeof(r->resp_h));
    uint32_t srv = (uint32_t)((h >> 40) % 1000);
    r->resp_h.b[0] = 192, r->resp_h.b[1] = 168, r->resp_h.b[2] = (uint8_t)(srv >> 8);
    r->resp_h.b[3] = (uint8_t)srv;
    r->orig_p = (uint16_t)(32768 + (h >> 8) % 28000);
    r->resp_p = port;
    r->last_ns = t0 + (uint64_t)((double)i * (double)span_ns / (double)n);
    r->first_ns = r->last_ns - (h % 30000) * 1000000ull;
    r->emit_ns = r->last_ns;
    r->pkts[0] = 1 + (h >> 3) % 40;
    r->pkts[1] = (h >> 9) % 40;
    for (int d = 0; d < 2; d++) {
        r->ip_bytes[d] = r->pkts[d] * 400;
        r->wire_bytes[d] = r->pkts[d] * 414;
        r->payload_bytes[d] = r->pkts[d] * 360;
        r->app_bytes[d] = r->payload_bytes[d];
    }
    snprintf(r->service, sizeof(r->service), "%s",
             port == 80 || port == 8080 ? "http" : port == 53 ? "dns" : "");
    snprintf(r->conn_state, sizeof(r->conn_state), "%s", r->is_tcp ? "SF" : "S0");
    snprintf(r->history, sizeof(r->history), "%s", r->is_tcp ? "ShADadFf" : "Dd");
    memset(m, 0, sizeof(*m));
    snprintf(m->agent, sizeof(m->agent), "agent%u", (unsigned)(h % 4));
    m->received_ns = r->last_ns;
    m->conn = i + 1;
    m->primary = true;
    m->observers = 1;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
report(const char *what, uint64_t *lat, size_t n)
{
    qsort(lat, n, sizeof(*lat), cmp_u64);
    size_t p99 = (n * 99 + 99) / 100;
    printf("%-44s median %8.3f ms  p99 %8.3f ms  max %8.3f ms  (%zu runs)\n", what,
           (double)lat[n / 2] / 1e6, (double)lat[p99 ? p99 - 1 : 0] / 1e6,
           (double)lat[n - 1] / 1e6, n);
}

static bool
count_flow(void *ud, const ns_store_flow_t *f)
{
    (void)f;
    (*(uint64_t *)ud)++;
    return true;
}

static bool
newest(void *ud, const ns_store_flow_t *f)
{
    *(uint64_t *)ud = f->rec->last_ns;
    return false;
}

static void
rm_store(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

int
main(int argc, char **argv)
{
    uint64_t n = 10000000, span_h = 24;
    unsigned rounds = 200;
    const char *dir = NULL;
    bool keep = false, query_only = false;
    int opt;
    while ((opt = getopt(argc, argv, "n:s:d:r:kq")) != -1) {
        switch (opt) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': span_h = strtoull(optarg, NULL, 10); break;
        case 'd': dir = optarg; break;
        case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'k': keep = true; break;
        case 'q': query_only = keep = true; break;
        default:
            fprintf(stderr, "usage: bench_store [-n flows] [-s span_hours] [-d dir] [-r rounds] [-k]\n");
            return 2;
        }
    }
    if (n == 0 || span_h == 0 || rounds == 0) {
        fprintf(stderr, "bench_store: -n, -s and -r must be positive\n");
        return 2;
    }
    char tmpl[4096];
    if (query_only && dir == NULL) {
        fprintf(stderr, "bench_store: -q needs -d\n");
        return 2;
    }
    if (dir == NULL) {
        const char *t = getenv("TMPDIR");
        snprintf(tmpl, sizeof(tmpl), "%s/bench_store_XXXXXX", t && t[0] ? t : "/tmp");
        if (mkdtemp(tmpl) == NULL) {
            fprintf(stderr, "bench_store: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        dir = tmpl;
    }
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.dir = dir;
    o.max_size = 64ull << 30;
    o.flow_keep_s = 0; /* the run measures, it does not age */
    char err[512];
    ns_store_t *s = ns_store_open(&o, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    const uint64_t span_ns = span_h * 3600 * SEC;
    const uint64_t t0 = wall_ns() - span_ns;

    uint64_t now = 0;
    if (query_only)
        goto queries;
    /* ---- write ---- */
    printf("bench_store: %llu flows over %llu h into %s (commit_ms %u, sync meta)\n",
           (unsigned long long)n, (unsigned long long)span_h, dir, o.commit_ms);
    fflush(stdout);
    uint64_t full = 0, start = mono_ns(), mark = start, mark_i = 0;
    for (uint64_t i = 0; i < n; i++) {
        ns_flow_rec_t r;
        ns_store_meta_t m;
        make_rec(i, t0, span_ns, n, &r, &m);
        ns_err_t e;
        while ((e = ns_store_put_flow(s, &r, &m)) == NS_EFULL) {
            full++;
            sched_yield();
        }
        if (e != NS_OK) {
            fprintf(stderr, "bench_store: record %llu refused\n", (unsigned long long)i);
            return 1;
        }
        if ((i + 1) % 1000000 == 0) {
            uint64_t t = mono_ns();
            printf("  %5.1f M flows: %8.0f flows/s over the last %llu\n", (double)(i + 1) / 1e6,
                   (double)(i + 1 - mark_i) / ((double)(t - mark) / 1e9),
                   (unsigned long long)(i + 1 - mark_i));
            fflush(stdout);
            mark = t, mark_i = i + 1;
        }
    }
    if (!ns_store_sync(s, 600000)) {
        fprintf(stderr, "bench_store: the last batch did not commit\n");
        return 1;
    }
    uint64_t el = mono_ns() - start;
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    printf("write: %llu flows in %.2f s = %.0f flows/s (queue full %llu times, %llu commits, "
           "%llu refused by a full queue)\n",
           (unsigned long long)n, (double)el / 1e9, (double)n / ((double)el / 1e9),
           (unsigned long long)full, (unsigned long long)st.commits,
           (unsigned long long)st.queue_drops);
    printf("size: %llu flows, %.1f MiB used (%.0f B/flow), data.mdb %.1f MiB (%.0f B/flow), "
           "map %.1f MiB\n",
           (unsigned long long)st.flows, (double)st.used_bytes / 1048576.0,
           (double)st.used_bytes / (double)st.flows, (double)st.file_bytes / 1048576.0,
           (double)st.file_bytes / (double)st.flows, (double)st.map_size / 1048576.0);
    fflush(stdout);

    now = wall_ns();
queries:
    if (query_only) {
        /* The newest record ends "the last hour". */
        ns_store_read_t *rd = ns_store_read_begin(s, err, sizeof(err));
        ns_store_query_t q;
        memset(&q, 0, sizeof(q));
        q.port = -1, q.proto = -1, q.limit = 1;
        ns_store_result_t res;
        if (rd == NULL || ns_store_flows(rd, &q, newest, &now, &res, err, sizeof(err))) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        ns_store_read_end(&rd);
        now++;
        ns_store_stats_t qst;
        ns_store_stats(s, &qst);
        printf("bench_store: querying %llu flows in %s\n", (unsigned long long)qst.flows, dir);
    }
    /* ---- queries ---- */
    uint64_t *lat = calloc(rounds, sizeof(*lat));
    uint64_t returned = 0;
    for (unsigned k = 0; k < rounds; k++) {
        ns_store_query_t q;
        memset(&q, 0, sizeof(q));
        q.port = -1, q.proto = -1, q.limit = 100;
        q.from_ns = now - 3600 * SEC;
        q.has_host = true, q.host_ver = 4;
        q.host = client_addr((uint32_t)mix(k + 77) & 0xffff);
        uint64_t a = mono_ns();
        ns_store_read_t *rd = ns_store_read_begin(s, err, sizeof(err));
        ns_store_result_t res;
        if (rd == NULL || ns_store_flows(rd, &q, count_flow, &returned, &res, err, sizeof(err))) {
            fprintf(stderr, "bench_store: query: %s\n", err);
            return 1;
        }
        ns_store_read_end(&rd);
        lat[k] = mono_ns() - a;
    }
    char what[128];
    snprintf(what, sizeof(what), "host query, last hour (%.1f flows/query):",
             (double)returned / rounds);
    report(what, lat, rounds);
    unsigned top_rounds = rounds < 20 ? rounds : 20;
    ns_store_top_row_t rows[10];
    size_t nrows = 0;
    for (unsigned k = 0; k < top_rounds; k++) {
        uint64_t a = mono_ns();
        ns_store_read_t *rd = ns_store_read_begin(s, err, sizeof(err));
        if (rd == NULL) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        nrows = ns_store_top(rd, NS_STORE_TOP_BYTES, NS_STORE_GROUP_HOST, now - 3600 * SEC, now,
                             rows, 10);
        ns_store_read_end(&rd);
        lat[k] = mono_ns() - a;
    }
    report("top 10 hosts by bytes, last hour:", lat, top_rounds);
    if (nrows > 0)
        printf("  (first: %s, %llu bytes in %llu flows)\n", rows[0].label,
               (unsigned long long)rows[0].bytes, (unsigned long long)rows[0].flows);
    free(lat);
    ns_store_close(&s);
    if (!keep && dir == tmpl)
        rm_store(dir);
    return 0;
}

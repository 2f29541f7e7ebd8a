/* bench_store.c - the collector's history: write rate, bytes per flow, query latency, and
 * the same queries against ClickHouse holding the same rows.
 *
 * Writes N final flow records (default 10 million) through the real queue and writer thread
 * (ns_store_put_flow from this thread, as the collector's ingest does; a full queue is
 * retried after a yield, so the rate is what the writer sustains), spread evenly over the
 * last `span` hours. Then prints the database bytes per stored flow and the latency of two
 * queries, each timed from ns_store_read_begin() to ns_store_read_end():
 *   host  - the flows of one client host in the last hour (time sorted, limit 100)
 *   top   - the 10 hosts with most bytes in the last hour
 *   uid   - ns_store_flow_get() of a stored uid (any record's, picked at random), and of a uid
 *           not stored (the worst case: every stored hour of the uid index is looked at);
 *           UID_ROUNDS each
 * The records model one site: 65,536 client hosts, 1,000 servers, a few services.
 *
 * With -c URL, the same records (the same make_rec() calls: same generator, same times) are
 * then put through the collector's ClickHouse sink (chsink.h, as `[clickhouse] url` does)
 * into the server at URL, and the two queries run there as SQL over HTTP, the same number of
 * rounds for the same hosts, interleaved with nothing else. A ClickHouse query is timed from
 * connect() to the last byte of the answer (a fresh connection each time, as the sink does;
 * HTTP, parsing the SQL and formatting the rows are in the time). The LMDB times have no HTTP
 * in them: they are the store's own cost, as the collector's API calls it. Each ClickHouse
 * query is written twice: "exact" selects as the store does (the record's end, ts + duration,
 * in the window: no index helps), "by start" selects on `ts` (the flow's start, the table's
 * sort key), what a ClickHouse user would write. The host query names its host condition as
 * PREWHERE: 18.16 does not move an OR there by itself and would read all ~70 columns of every
 * row (2-3x slower). The answers are checked against the store's (rows per host query; the
 * top 10 hosts, bytes and flows) and the agreement printed.
 *
 * usage: bench_store [-n flows] [-s span_hours] [-d dir] [-r query_rounds] [-c url] [-k] [-q]
 *   -d: a directory for the database (default: a new one under $TMPDIR or /tmp, removed at
 *   the end unless -k).
 *   -q: no writing: query the database in -d, "the last hour" ending at its newest record
 *   (with -c: ClickHouse is queried as it is, nothing is loaded); the uids looked up are
 *   those of -n records, so give the -n the database was written with.
 *   -c: http://HOST:PORT of a ClickHouse server (18.16 or later) for the database
 *   "netscope_bench" (created; its table must not hold other rows).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "netscope/chsink.h"
#include "netscope/log.h"
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

/* ---- ClickHouse ------------------------------------------------------------------------- */

#define CH_DB "netscope_bench"
#define CH_RESP_MAX (8u << 20)

typedef struct {
    struct sockaddr_in addr;
    char *resp; /* the last answer's body, NUL-terminated */
    size_t resp_len;
} ch_t;

/* "http://A.B.C.D:PORT[/]" (the server run.sh starts on loopback): false otherwise. */
static bool
ch_init(ch_t *c, const char *url)
{
    memset(c, 0, sizeof(*c));
    char host[64];
    unsigned port;
    if (sscanf(url, "http://%63[0-9.]:%u", host, &port) != 2 || port == 0 || port > 65535)
        return false;
    c->addr.sin_family = AF_INET;
    c->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &c->addr.sin_addr) != 1)
        return false;
    c->resp = malloc(CH_RESP_MAX + 1);
    return c->resp != NULL;
}

/* A chunked body decoded in place (RFC 9112 section 7.1); returns the decoded length. A copy
 * of chsink.c's: the sink keeps its HTTP client private, and a benchmark is no reason to
 * export it. */
static size_t
dechunk(char *b, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        char *eol = memchr(b + in, '\n', n - in);
        if (eol == NULL)
            break;
        char *end;
        unsigned long sz = strtoul(b + in, &end, 16);
        if (end == b + in || sz == 0)
            break;
        in = (size_t)(eol - b) + 1;
        size_t take = sz < n - in ? (size_t)sz : n - in;
        memmove(b + out, b + in, take);
        out += take;
        in += take;
        while (in < n && (b[in] == '\r' || b[in] == '\n'))
            in++;
    }
    return out;
}

/* POST `sql` on a new connection and read the whole answer (HTTP/1.1, Connection: close) into
 * c->resp. Returns the HTTP status, or -1 (errno-style failure: no connection, no answer). */
static int
ch_query(ch_t *c, const char *sql)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 120};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int status = -1;
    char head[256];
    size_t blen = strlen(sql);
    int hn = snprintf(head, sizeof(head),
                      "POST /?database=" CH_DB " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      blen);
    if (connect(fd, (const struct sockaddr *)&c->addr, sizeof(c->addr)) != 0 ||
        send(fd, head, (size_t)hn, MSG_NOSIGNAL) != hn ||
        send(fd, sql, blen, MSG_NOSIGNAL) != (ssize_t)blen)
        goto out;
    size_t got = 0;
    for (;;) {
        ssize_t r = recv(fd, c->resp + got, CH_RESP_MAX - got, 0);
        if (r > 0) {
            got += (size_t)r;
            if (got == CH_RESP_MAX)
                goto out; /* an answer this big is a wrong query */
        } else if (r == 0) {
            break;
        } else if (errno != EINTR) {
            goto out;
        }
    }
    c->resp[got] = '\0';
    char *hend = strstr(c->resp, "\r\n\r\n");
    int major, minor;
    if (hend == NULL || sscanf(c->resp, "HTTP/%d.%d %3d", &major, &minor, &status) != 3) {
        status = -1;
        goto out;
    }
    *hend = '\0';
    bool chunked = strcasestr(c->resp, "\r\ntransfer-encoding: chunked") != NULL;
    char *b = hend + 4;
    size_t bn = got - (size_t)(b - c->resp);
    if (chunked)
        bn = dechunk(b, bn);
    memmove(c->resp, b, bn);
    c->resp[bn] = '\0';
    c->resp_len = bn;
out:
    close(fd);
    return status;
}

/* ch_query() timed into *lat_ns; false (with ClickHouse's message) when it did not answer 200. */
static bool
ch_timed(ch_t *c, const char *sql, uint64_t *lat_ns)
{
    uint64_t a = mono_ns();
    int status = ch_query(c, sql);
    *lat_ns = mono_ns() - a;
    if (status != 200)
        fprintf(stderr, "bench_store: ClickHouse: HTTP %d: %.300s\n", status, c->resp);
    return status == 200;
}

/* The query's answer as one number (e.g. a count()); UINT64_MAX when it failed. */
static uint64_t
ch_number(ch_t *c, const char *sql)
{
    if (ch_query(c, sql) != 200) {
        fprintf(stderr, "bench_store: ClickHouse: %s: %.300s\n", sql, c->resp);
        return UINT64_MAX;
    }
    return strtoull(c->resp, NULL, 10);
}

/* Put the n records of make_rec() through a ClickHouse sink, flush, wait for the server's
 * merges to end (the queries then find the table at rest, as the store's writer is idle during
 * its queries). False (with a message) when a row did not arrive. */
static bool
ch_load(ch_t *c, const char *url, uint64_t n, uint64_t t0, uint64_t span_ns)
{
    ns_chsink_opts_t o;
    ns_chsink_opts_default(&o);
    o.url = url;
    o.database = CH_DB;
    o.batch_rows = 100000; /* a bulk load: fewer, larger parts than the collector's default */
    o.queue_bytes = 512ull << 20;
    o.timeout_ms = 120000;
    o.flush_ms = 600000;
    char err[512];
    ns_chsink_t *sink = ns_chsink_new(&o, err, sizeof(err));
    if (sink == NULL) {
        fprintf(stderr, "bench_store: %s\n", err);
        return false;
    }
    uint64_t full = 0, start = mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        ns_flow_rec_t r;
        ns_store_meta_t m;
        make_rec(i, t0, span_ns, n, &r, &m);
        ns_err_t e;
        while ((e = ns_chsink_put_flow(sink, &r, &m)) == NS_EFULL) {
            full++;
            usleep(1000);
        }
        if (e != NS_OK) {
            fprintf(stderr, "bench_store: ClickHouse row %llu refused\n", (unsigned long long)i);
            ns_chsink_destroy(&sink);
            return false;
        }
    }
    bool flushed = ns_chsink_flush(sink, 600000);
    uint64_t el = mono_ns() - start;
    ns_chsink_stats_t st;
    ns_chsink_stats(sink, &st);
    ns_chsink_destroy(&sink);
    printf("clickhouse load: %llu rows in %.2f s = %.0f rows/s through the collector's sink "
           "(%llu INSERTs, %llu failures, queue full %llu times)\n",
           (unsigned long long)st.flows_sent, (double)el / 1e9,
           (double)st.flows_sent / ((double)el / 1e9), (unsigned long long)st.batches_sent,
           (unsigned long long)st.failures, (unsigned long long)full);
    if (!flushed || st.flows_sent != n) {
        fprintf(stderr, "bench_store: %llu of %llu rows reached ClickHouse\n",
                (unsigned long long)st.flows_sent, (unsigned long long)n);
        return false;
    }
    /* Merges after the load: wait (at most 10 min) until none runs. */
    uint64_t w0 = mono_ns(), merges;
    while ((merges = ch_number(c, "SELECT count() FROM system.merges")) > 0 &&
           merges != UINT64_MAX && mono_ns() - w0 < 600 * SEC)
        sleep(1);
    printf("clickhouse: merges done %.1f s after the load\n", (double)(mono_ns() - w0) / 1e9);
    fflush(stdout);
    return true;
}

/* The table's rows, active parts and bytes on disk. */
static void
ch_describe(ch_t *c)
{
    uint64_t rows = ch_number(c, "SELECT count() FROM " CH_DB ".flows");
    uint64_t parts = ch_number(c, "SELECT count() FROM system.parts WHERE database = '" CH_DB
                                  "' AND table = 'flows' AND active");
    uint64_t bytes = ch_number(c, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database"
                                  " = '" CH_DB "' AND table = 'flows' AND active");
    printf("clickhouse size: %llu rows in %llu parts, %.1f MiB on disk (%.0f B/row)\n",
           (unsigned long long)rows, (unsigned long long)parts, (double)bytes / 1048576.0,
           rows ? (double)bytes / (double)rows : 0.0);
    fflush(stdout);
}

/* "[from, to)" on the record's end (exact: the store's window) or on ts (the sort key). */
static void
ch_window(char *out, size_t cap, bool exact, uint64_t from_ns, uint64_t to_ns)
{
    const char *col = exact ? "(ts + duration)" : "ts";
    snprintf(out, cap, "%s >= %llu.%09llu AND %s < %llu.%09llu", col,
             (unsigned long long)(from_ns / SEC), (unsigned long long)(from_ns % SEC), col,
             (unsigned long long)(to_ns / SEC), (unsigned long long)(to_ns % SEC));
}

/* Rows of a TabSeparated answer. */
static uint64_t
count_lines(const char *s)
{
    uint64_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

typedef struct {
    double median_ms, p99_ms, max_ms;
} lat_t;

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Time UID_ROUNDS ns_store_flow_get() calls, each with its own read transaction, of record
 * i's uid for random i < n (stored) or of uids no record has; false when the store failed. */
#define UID_ROUNDS 2000u
static bool
time_uid_gets(ns_store_t *s, uint64_t n, bool stored, uint64_t *lat, uint64_t *found)
{
    for (unsigned k = 0; k < UID_ROUNDS; k++) {
        ns_flow_rec_t r;
        ns_store_meta_t m;
        make_rec(mix(k + 991) % n, 0, 0, 1, &r, &m);
        if (!stored)
            r.uid[0] = 'X'; /* the generator's uids all start with C */
        uint64_t a = mono_ns();
        ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
        if (rd == NULL)
            return false;
        *found += ns_store_flow_get(rd, r.uid, count_flow, &(uint64_t){0}) > 0;
        ns_store_read_end(&rd);
        lat[k] = mono_ns() - a;
    }
    return true;
}

static lat_t
report(const char *what, uint64_t *lat, size_t n)
{
    qsort(lat, n, sizeof(*lat), cmp_u64);
    size_t p99 = (n * 99 + 99) / 100;
    lat_t l = {(double)lat[n / 2] / 1e6, (double)lat[p99 ? p99 - 1 : 0] / 1e6,
               (double)lat[n - 1] / 1e6};
    printf("%-52s median %8.3f ms  p99 %8.3f ms  max %8.3f ms  (%zu runs)\n", what, l.median_ms,
           l.p99_ms, l.max_ms, n);
    fflush(stdout);
    return l;
}

int
main(int argc, char **argv)
{
    uint64_t n = 10000000, span_h = 24;
    unsigned rounds = 200;
    const char *dir = NULL, *ch_url = NULL;
    bool keep = false, query_only = false;
    int opt;
    while ((opt = getopt(argc, argv, "n:s:d:r:c:kq")) != -1) {
        switch (opt) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': span_h = strtoull(optarg, NULL, 10); break;
        case 'd': dir = optarg; break;
        case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': ch_url = optarg; break;
        case 'k': keep = true; break;
        case 'q': query_only = keep = true; break;
        default:
            fprintf(stderr, "usage: bench_store [-n flows] [-s span_hours] [-d dir] [-r rounds] "
                            "[-c url] [-k] [-q]\n");
            return 2;
        }
    }
    if (n == 0 || span_h == 0 || rounds == 0) {
        fprintf(stderr, "bench_store: -n, -s and -r must be positive\n");
        return 2;
    }
    ch_t ch = {0};
    if (ch_url != NULL && !ch_init(&ch, ch_url)) {
        fprintf(stderr, "bench_store: -c wants http://A.B.C.D:PORT, not %s\n", ch_url);
        return 2;
    }
    ns_log_init("bench_store", NS_LOG_WARN);
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
    if (ch_url != NULL && !query_only) {
        if (!ch_load(&ch, ch_url, n, t0, span_ns))
            return 1;
    }
    if (ch_url != NULL)
        ch_describe(&ch);
    /* ---- queries ---- */
    uint64_t *lat = calloc(rounds, sizeof(*lat));
    uint64_t *host_rows = calloc(rounds, sizeof(*host_rows));
    if (lat == NULL || host_rows == NULL)
        return 1;
    const uint64_t from = now - 3600 * SEC;
    uint64_t returned = 0;
    for (unsigned k = 0; k < rounds; k++) {
        ns_store_query_t q;
        memset(&q, 0, sizeof(q));
        q.port = -1, q.proto = -1, q.limit = 100;
        q.from_ns = from;
        q.has_host = true, q.host_ver = 4;
        q.host = client_addr((uint32_t)mix(k + 77) & 0xffff);
        uint64_t before = returned;
        uint64_t a = mono_ns();
        ns_store_read_t *rd = ns_store_read_begin(s, err, sizeof(err));
        ns_store_result_t res;
        if (rd == NULL || ns_store_flows(rd, &q, count_flow, &returned, &res, err, sizeof(err))) {
            fprintf(stderr, "bench_store: query: %s\n", err);
            return 1;
        }
        ns_store_read_end(&rd);
        lat[k] = mono_ns() - a;
        host_rows[k] = returned - before;
    }
    char what[128];
    snprintf(what, sizeof(what), "host query, last hour (%.1f flows/query):",
             (double)returned / rounds);
    lat_t l_host = report(what, lat, rounds);
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
        nrows = ns_store_top(rd, NS_STORE_TOP_BYTES, NS_STORE_GROUP_HOST, from, now, rows, 10);
        ns_store_read_end(&rd);
        lat[k] = mono_ns() - a;
    }
    lat_t l_top = report("top 10 hosts by bytes, last hour:", lat, top_rounds);
    if (nrows > 0)
        printf("  (first: %s, %llu bytes in %llu flows)\n", rows[0].label,
               (unsigned long long)rows[0].bytes, (unsigned long long)rows[0].flows);
    uint64_t *ulat = calloc(UID_ROUNDS, sizeof(*ulat));
    for (int stored = 1; ulat != NULL && stored >= 0; stored--) {
        uint64_t found = 0;
        if (!time_uid_gets(s, n, stored, ulat, &found)) {
            fprintf(stderr, "bench_store: uid lookups: the store failed\n");
            return 1;
        }
        snprintf(what, sizeof(what), "uid lookup, %s (%llu of %u found):",
                 stored ? "stored uid" : "uid not stored", (unsigned long long)found, UID_ROUNDS);
        report(what, ulat, UID_ROUNDS);
    }
    free(ulat);
    if (ch_url == NULL)
        goto done;
    /* ---- the same queries in ClickHouse: exact (the record's end), then by start (ts) ---- */
    /* The floor: a query that reads nothing, over the same HTTP path. */
    for (unsigned k = 0; k < rounds; k++) {
        if (!ch_timed(&ch, "SELECT 1", &lat[k]))
            return 1;
    }
    lat_t l_ch_floor = report("clickhouse: SELECT 1 (HTTP and the server's floor):", lat, rounds);
    lat_t l_ch_host[2], l_ch_top[2];
    unsigned host_agree[2] = {0, 0};
    bool top_agree[2] = {false, false};
    for (int v = 0; v < 2; v++) {
        bool exact = v == 0;
        char win[160], sql[1024];
        ch_window(win, sizeof(win), exact, from, now);
        uint64_t ch_returned = 0;
        for (unsigned k = 0; k < rounds; k++) {
            ns_addr_t h = client_addr((uint32_t)mix(k + 77) & 0xffff);
            char ht[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, h.b, ht, sizeof(ht));
            snprintf(sql, sizeof(sql),
                     "SELECT * FROM flows PREWHERE `id.orig_h` = '%s' OR `id.resp_h` = '%s' "
                     "WHERE `primary` = 1 AND %s ORDER BY %s DESC LIMIT 100 FORMAT TabSeparated",
                     ht, ht, win, exact ? "ts + duration" : "ts");
            if (!ch_timed(&ch, sql, &lat[k]))
                return 1;
            uint64_t got = count_lines(ch.resp);
            ch_returned += got;
            host_agree[v] += got == host_rows[k];
            if (k == 0)
                printf("  clickhouse: %s\n", sql);
        }
        snprintf(what, sizeof(what), "clickhouse %s: host query (%.1f flows/query):",
                 exact ? "exact" : "by start", (double)ch_returned / rounds);
        l_ch_host[v] = report(what, lat, rounds);
        snprintf(sql, sizeof(sql),
                 "SELECT h, sum(b) AS bytes, count() AS flows FROM (SELECT arrayJoin(if("
                 "`id.orig_h` = `id.resp_h`, [`id.orig_h`], [`id.orig_h`, `id.resp_h`])) AS h, "
                 "orig_wire_bytes + resp_wire_bytes AS b FROM flows WHERE `primary` = 1 AND %s) "
                 "GROUP BY h ORDER BY bytes DESC, h LIMIT 10 FORMAT TabSeparated",
                 win);
        printf("  clickhouse: %s\n", sql);
        for (unsigned k = 0; k < top_rounds; k++) {
            if (!ch_timed(&ch, sql, &lat[k]))
                return 1;
        }
        snprintf(what, sizeof(what), "clickhouse %s: top 10 hosts by bytes:",
                 exact ? "exact" : "by start");
        l_ch_top[v] = report(what, lat, top_rounds);
        /* The last answer against the store's rows, in order. */
        char *line = ch.resp;
        size_t i = 0;
        top_agree[v] = true;
        for (; i < nrows && *line; i++) {
            char label[64];
            unsigned long long b, f;
            if (sscanf(line, "%63[^\t]\t%llu\t%llu", label, &b, &f) != 3 ||
                strcmp(label, rows[i].label) != 0 || b != rows[i].bytes || f != rows[i].flows)
                top_agree[v] = false;
            char *nl = strchr(line, '\n');
            line = nl ? nl + 1 : line + strlen(line);
        }
        if (i != nrows || *line)
            top_agree[v] = false;
        printf("  agreement with the store: host query rows equal in %u of %u rounds; "
               "top 10 (hosts, bytes, flows) %s\n",
               host_agree[v], rounds, top_agree[v] ? "equal" : "DIFFERENT");
        fflush(stdout);
    }
    /* The side-by-side table (bench/run.sh copies the lines starting with '|'). */
    printf("\n| query | engine | runs | median ms | p99 ms | max ms | p99 / LMDB p99 | "
           "goal (p99) | answers equal the store's |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
    static const char *const eng[3] = {"LMDB (in process)",
                                        "ClickHouse over HTTP, exact window (ts + duration)",
                                        "ClickHouse over HTTP, window on ts (sort key)"};
    for (int e = 0; e < 3; e++) {
        lat_t l = e == 0 ? l_host : l_ch_host[e - 1];
        printf("| one host's flows, last hour, limit 100 | %s | %u | %.2f | %.2f | %.2f | %.1f | "
               "< 20 ms: %s | %s |\n",
               eng[e], rounds, l.median_ms, l.p99_ms, l.max_ms, l.p99_ms / l_host.p99_ms,
               l.p99_ms < 20 ? "met" : "not met",
               e == 0 ? "—" : host_agree[e - 1] == rounds ? "yes" : "no (flows at the hour's edge)");
    }
    printf("| `SELECT 1`: a new HTTP connection and the server's floor | ClickHouse | %u | %.2f | "
           "%.2f | %.2f | | | |\n",
           rounds, l_ch_floor.median_ms, l_ch_floor.p99_ms, l_ch_floor.max_ms);
    for (int e = 0; e < 3; e++) {
        lat_t l = e == 0 ? l_top : l_ch_top[e - 1];
        printf("| top 10 hosts by bytes, last hour | %s | %u | %.2f | %.2f | %.2f | %.1f | "
               "< 50 ms: %s | %s |\n",
               eng[e], top_rounds, l.median_ms, l.p99_ms, l.max_ms, l.p99_ms / l_top.p99_ms,
               l.p99_ms < 50 ? "met" : "not met",
               e == 0 ? "—" : top_agree[e - 1] ? "yes" : "no (flows at the hour's edge)");
    }
done:
    free(host_rows);
    free(ch.resp);
    free(lat);
    ns_store_close(&s);
    if (!keep && dir == tmpl)
        rm_store(dir);
    return 0;
}

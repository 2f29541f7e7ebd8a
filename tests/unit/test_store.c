/* test_store.c - the collector's history: key layout, planner, filters, sorts, paging,
 * observations, series roll-ups, retention, persistence, read-only readers and crash safety.
 *
 * Every test opens a store in its own mkdtemp directory and removes it. Expectations are
 * computed from the generated records (gen_*), never from the store's own counters.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <lmdb.h> /* only to make a store as an older build left it (alerts_absent_in_old_store,
                     * old_schema_refused) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netscope/store.h"
#include "netscope/store_key.h"
#include "runner.h"

#define SEC 1000000000ull
#define HOUR (3600ull * SEC)

/* ---- helpers ---------------------------------------------------------------------------- */

static char *
tmp_dir(void)
{
    char *d = strdup("/tmp/ns_store_XXXXXX");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void
rm_dir(char *d)
{
    DIR *dir = opendir(d);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(d);
    free(d);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static ns_addr_t
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ns_addr_t x;
    memset(&x, 0, sizeof(x));
    x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
    return x;
}

/* Record i of the standard set: host 10.0.0.(i%5) talks to 10.0.1.(i%3) on port 80 or 53,
 * agents a0/a1, bytes and durations that differ per record. */
static ns_flow_rec_t
gen_rec(uint32_t i, uint64_t t0)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "C%017u", i);
    snprintf(r.community_id, sizeof(r.community_id), "1:cid%u", i % 7);
    r.ip_ver = 4;
    r.proto = i % 4 == 0 ? 17 : 6;
    r.kind = NS_FLOW_REC_FINAL;
    r.end_reason = NS_FLOW_END_IDLE;
    r.orig_h = v4(10, 0, 0, (uint8_t)(i % 5));
    r.resp_h = v4(10, 0, 1, (uint8_t)(i % 3));
    r.orig_p = (uint16_t)(40000 + i % 11);
    r.resp_p = r.proto == 17 ? 53 : 80;
    r.last_ns = t0 + (uint64_t)(i / 2) * SEC; /* two records per second: ties in time */
    r.first_ns = r.last_ns - (uint64_t)(i % 13) * 1000;
    r.pkts[0] = 1 + i % 17;
    r.pkts[1] = i % 5;
    r.wire_bytes[0] = 100 * r.pkts[0] + (i * 7919u) % 1000;
    r.wire_bytes[1] = 60 * r.pkts[1];
    snprintf(r.service, sizeof(r.service), "%s", r.proto == 17 ? "dns" : (i % 2 ? "http" : ""));
    snprintf(r.conn_state, sizeof(r.conn_state), "%s", i % 3 == 0 ? "SF" : "S0");
    return r;
}

static ns_store_meta_t
gen_meta(uint32_t i)
{
    ns_store_meta_t m;
    memset(&m, 0, sizeof(m));
    snprintf(m.agent, sizeof(m.agent), "a%u", i % 2);
    m.received_ns = 1;
    m.conn = 1000 + i;
    m.primary = i % 10 != 9; /* every tenth is a second observation */
    m.observers = m.primary ? 1 : 2;
    return m;
}

static ns_store_t *
open_store(const char *dir, ns_store_opts_t *o)
{
    ns_store_opts_t d;
    if (o == NULL) {
        ns_store_opts_default(&d);
        d.flow_keep_s = 0;
        d.series_keep_s[0] = d.series_keep_s[1] = d.series_keep_s[2] = 0;
        o = &d;
    }
    o->dir = dir;
    char err[256];
    ns_store_t *s = ns_store_open(o, err, sizeof(err));
    ck_assert_msg(s != NULL, "open: %s", err);
    return s;
}

#define N_STD 400u
#define T0 (1700000000ull * SEC)

static void
fill_std(ns_store_t *s)
{
    for (uint32_t i = 0; i < N_STD; i++) {
        ns_flow_rec_t r = gen_rec(i, T0);
        ns_store_meta_t m = gen_meta(i);
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    }
    ck_assert(ns_store_sync(s, 10000));
}

/* Collects what ns_store_flows hands out. */
typedef struct {
    uint32_t n;
    uint64_t fid[12000];
    uint32_t idx[12000]; /* the gen_rec number, from the uid */
    uint64_t key[12000]; /* the sort value */
    ns_store_sort_t sort;
} got_t;

static bool
collect(void *ud, const ns_store_flow_t *f)
{
    got_t *g = ud;
    ck_assert_uint_lt(g->n, 12000);
    const ns_flow_rec_t *r = f->rec;
    g->fid[g->n] = f->fid;
    g->idx[g->n] = (uint32_t)strtoul(r->uid + 1, NULL, 10);
    switch (g->sort) {
    case NS_STORE_SORT_BYTES: g->key[g->n] = r->wire_bytes[0] + r->wire_bytes[1]; break;
    case NS_STORE_SORT_PACKETS: g->key[g->n] = r->pkts[0] + r->pkts[1]; break;
    case NS_STORE_SORT_DURATION: g->key[g->n] = r->last_ns - r->first_ns; break;
    default: g->key[g->n] = r->last_ns; break;
    }
    g->n++;
    return true;
}

static void
query_init(ns_store_query_t *q)
{
    memset(q, 0, sizeof(*q));
    q->port = -1;
    q->proto = -1;
    q->limit = 10000;
}

/* Run q (all pages of `limit`) and collect. */
static ns_store_index_t
run_all(ns_store_t *s, ns_store_query_t *q, got_t *g)
{
    memset(g, 0, sizeof(*g));
    g->sort = q->sort;
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ck_assert_ptr_nonnull(rd);
    char cur[NS_STORE_CURSOR_MAX] = "";
    ns_store_result_t res;
    int pages = 0;
    do {
        q->cursor = cur;
        char err[128];
        ck_assert_int_eq(ns_store_flows(rd, q, collect, g, &res, err, sizeof(err)), NS_OK);
        ck_assert_uint_le(res.returned, q->limit);
        snprintf(cur, sizeof(cur), "%s", res.next_cursor);
        ck_assert_int_lt(++pages, 10000);
    } while (cur[0]);
    ns_store_read_end(&rd);
    q->cursor = NULL;
    return res.index;
}

static void check_top(ns_store_t *s, uint64_t from_ns, uint64_t to_ns); /* below */

/* ---- key layout ------------------------------------------------------------------------ */

START_TEST(keys_and_values)
{
    uint8_t a[NS_STORE_KEY_MAX], b[NS_STORE_KEY_MAX];
    ns_store_be64_put(a, 0x0102030405060708ull);
    ck_assert_uint_eq(a[0], 1);
    ck_assert_uint_eq(a[7], 8);
    ck_assert_uint_eq(ns_store_be64_get(a), 0x0102030405060708ull);
    ns_addr_t h = v4(10, 0, 0, 1);
    /* Order: time first, then fid, whatever their magnitudes. */
    size_t na = ns_store_key_host(a, 4, &h, 0x100, 0xffffffff);
    size_t nb = ns_store_key_host(b, 4, &h, 0x101, 1);
    ck_assert_uint_eq(na, 41);
    ck_assert_uint_eq(nb, 41);
    ck_assert_int_lt(memcmp(a, b, na), 0);
    nb = ns_store_key_host(b, 4, &h, 0x100, 0x100000000ull);
    ck_assert_int_lt(memcmp(a, b, na), 0);
    uint64_t t, fid;
    ck_assert(ns_store_key_tail(b, nb, &t, &fid));
    ck_assert_uint_eq(t, 0x100);
    ck_assert_uint_eq(fid, 0x100000000ull);
    ck_assert(!ns_store_key_tail(b, 15, &t, &fid));
    /* Host and port keys are minute-major: a later minute sorts after every host or port of
     * an earlier one; within a minute, by host or port, then time. */
    ns_addr_t h0 = v4(10, 0, 0, 0);
    na = ns_store_key_host(a, 4, &h, 59 * SEC, 1);
    nb = ns_store_key_host(b, 4, &h0, 60 * SEC, 1);
    ck_assert_int_lt(memcmp(a, b, na), 0);
    ck_assert_uint_eq(ns_store_be64_get(b), 1);
    nb = ns_store_key_host(b, 4, &h0, 61 * SEC, 1);
    na = ns_store_key_host(a, 4, &h, 60 * SEC, 1);
    ck_assert_int_lt(memcmp(b, a, na), 0);
    ck_assert_uint_eq(ns_store_key_port(a, 443, 5, 6), 26);
    ck_assert_uint_eq(ns_store_be64_get(a), 0);
    ck_assert_uint_eq(a[8], 1);
    ck_assert_uint_eq(a[9], 0xbb);
    ck_assert_uint_eq(ns_store_key_port(b, 80, 60 * SEC, 6), 26);
    ck_assert_int_lt(memcmp(a, b, 26), 0);
    ck_assert_uint_eq(ns_store_key_agent(a, "ag", 5, 6), 19);
    ck_assert_uint_eq(a[0], 2);
    char longname[NS_STORE_AGENT_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_uint_eq(ns_store_key_agent(a, longname, 5, 6), 0);
    /* by_uid, by_cid: hour(8), the string, 0, fid(8); hour-major like by_host. */
    ck_assert_uint_eq(ns_store_key_str(a, 2 * HOUR - 1, "C1", NS_FLOW_UID_LEN, 9), 19);
    ck_assert_uint_eq(ns_store_be64_get(a), 1);
    ck_assert_int_eq(memcmp(a + 8, "C1", 3), 0);
    ck_assert_uint_eq(ns_store_be64_get(a + 11), 9);
    ck_assert_uint_eq(ns_store_key_str(b, 2 * HOUR, "C0", NS_FLOW_UID_LEN, 1), 19);
    ck_assert_uint_eq(ns_store_be64_get(b), 2);
    ck_assert_int_lt(memcmp(a, b, 19), 0); /* the hour sorts before the string */
    ck_assert_uint_eq(ns_store_key_str(a, 0, "C1234567890123456789", NS_FLOW_UID_LEN, 9), 0);
    ck_assert_uint_eq(ns_store_key_series(a, NS_STORE_RES_1M, "all", 60), 13);
    ck_assert_uint_eq(a[0], NS_STORE_RES_1M);
    ck_assert_uint_eq(a[1], 3);

    /* A value round trip and every prefix of it rejected or read within bounds. */
    ns_flow_rec_t r = gen_rec(7, T0);
    ns_store_meta_t m = gen_meta(7);
    uint8_t v[512];
    size_t n = ns_store_vhdr_encode(v, sizeof(v), &r, &m);
    ck_assert_uint_eq(n, NS_STORE_VHDR_LEN + 2 + 18 + strlen(r.community_id));
    ns_store_vhdr_t d;
    ck_assert(ns_store_vhdr_decode(v, n, &d));
    ck_assert_str_eq(d.uid, r.uid);
    ck_assert_str_eq(d.cid, r.community_id);
    ck_assert_str_eq(d.agent, "a1");
    ck_assert_str_eq(d.service, "http");
    ck_assert_str_eq(d.conn_state, "S0");
    ck_assert_uint_eq(d.last_ns, r.last_ns);
    ck_assert_uint_eq(d.bytes, r.wire_bytes[0] + r.wire_bytes[1]);
    ck_assert_uint_eq(d.conn, m.conn);
    ck_assert_uint_eq(d.codec_len, 0);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, v, len);
        ck_assert(!ns_store_vhdr_decode(copy, len, &d));
        free(copy);
    }
    v[0] = 9;
    ck_assert(!ns_store_vhdr_decode(v, n, &d));
    v[0] = NS_STORE_VFMT;
    v[10] = 200; /* an agent longer than the limit */
    ck_assert(!ns_store_vhdr_decode(v, sizeof(v), &d));

    char cur[NS_STORE_CURSOR_MAX];
    ns_store_cursor_encode(cur, NS_STORE_SORT_BYTES, 12345, 678);
    uint64_t cv, cf;
    ck_assert(ns_store_cursor_decode(cur, NS_STORE_SORT_BYTES, &cv, &cf));
    ck_assert_uint_eq(cv, 12345);
    ck_assert_uint_eq(cf, 678);
    ck_assert(!ns_store_cursor_decode(cur, NS_STORE_SORT_TIME_DESC, &cv, &cf));
    ck_assert(!ns_store_cursor_decode("b12", NS_STORE_SORT_BYTES, &cv, &cf));
    cur[5] = 'G';
    ck_assert(!ns_store_cursor_decode(cur, NS_STORE_SORT_BYTES, &cv, &cf));
}
END_TEST

START_TEST(planner)
{
    ns_store_query_t q;
    query_init(&q);
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_TIME);
    q.agent = "a0";
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_AGENT);
    q.port = 80;
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_PORT);
    q.has_host = true;
    q.host_ver = 4;
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_HOST);
    q.community_id = "1:x";
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_CID);
    q.uid = "C1";
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_UID);
    q.uid = "";
    ck_assert_int_eq(ns_store_plan(&q), NS_STORE_IDX_CID);
    ck_assert_str_eq(ns_store_index_name(NS_STORE_IDX_HOST), "host");
    ck_assert_str_eq(ns_store_index_name(NS_STORE_IDX_TIME), "time");
}
END_TEST

/* ---- filters and sorts ------------------------------------------------------------------ */

typedef bool (*want_fn)(uint32_t i);

static bool w_primary(uint32_t i) { return gen_meta(i).primary; }
static bool w_host(uint32_t i) { return w_primary(i) && i % 5 == 2; }
static bool w_resp_host(uint32_t i) { return w_primary(i) && i % 3 == 1; }
static bool w_port53(uint32_t i) { return w_primary(i) && i % 4 == 0; }
static bool w_oport(uint32_t i) { return w_primary(i) && i % 11 == 4; }
static bool w_udp(uint32_t i) { return w_primary(i) && i % 4 == 0; }
static bool w_agent1(uint32_t i) { return w_primary(i) && i % 2 == 1; }
static bool w_sf(uint32_t i) { return w_primary(i) && i % 3 == 0; }
static bool w_none(uint32_t i) { return w_primary(i) && i % 4 != 0 && i % 2 == 0; }
static bool w_cid3(uint32_t i) { return w_primary(i) && i % 7 == 3; }
static bool w_all(uint32_t i) { (void)i; return true; }
static bool w_range(uint32_t i) { return w_primary(i) && i / 2 >= 50 && i / 2 < 120; }
static bool w_combo(uint32_t i) { return w_host(i) && i % 4 != 0 && i % 2 == 1; }
static bool w_match(uint32_t i) { return w_primary(i) && (1 + i % 17) > 10; }

static bool
match_pkts(void *ud, const ns_flow_rec_t *r)
{
    (void)ud;
    return r->pkts[0] > 10;
}

static void
check_set(const got_t *g, want_fn want, const char *what)
{
    uint32_t expect = 0;
    for (uint32_t i = 0; i < N_STD; i++)
        expect += want(i) ? 1u : 0u;
    ck_assert_msg(g->n == expect, "%s: %u records, want %u", what, g->n, expect);
    for (uint32_t k = 0; k < g->n; k++)
        ck_assert_msg(want(g->idx[k]), "%s: record %u should not match", what, g->idx[k]);
    for (uint32_t k = 1; k < g->n; k++)
        ck_assert_msg(g->fid[k] != g->fid[k - 1], "%s: repeated", what);
}

START_TEST(filters)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    fill_std(s);
    ns_store_query_t q;
    got_t *g = malloc(sizeof(*g));

    query_init(&q);
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_TIME);
    check_set(g, w_primary, "all primary");
    q.all_observations = true;
    run_all(s, &q, g);
    check_set(g, w_all, "all observations");

    query_init(&q);
    q.has_host = true, q.host_ver = 4, q.host = v4(10, 0, 0, 2);
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_HOST);
    check_set(g, w_host, "host orig");
    q.host = v4(10, 0, 1, 1);
    run_all(s, &q, g);
    check_set(g, w_resp_host, "host resp");

    query_init(&q);
    q.port = 53;
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_PORT);
    check_set(g, w_port53, "port 53");
    q.port = 40004;
    run_all(s, &q, g);
    check_set(g, w_oport, "orig port");

    query_init(&q);
    q.proto = 17;
    run_all(s, &q, g);
    check_set(g, w_udp, "proto");

    query_init(&q);
    q.agent = "a1";
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_AGENT);
    check_set(g, w_agent1, "agent");

    query_init(&q);
    q.conn_state = "SF";
    run_all(s, &q, g);
    check_set(g, w_sf, "conn_state");

    query_init(&q);
    q.service = "";
    run_all(s, &q, g);
    check_set(g, w_none, "service none");

    query_init(&q);
    q.community_id = "1:cid3";
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_CID);
    check_set(g, w_cid3, "community id");

    query_init(&q);
    q.uid = "C00000000000000012";
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_UID);
    ck_assert_uint_eq(g->n, 1);
    ck_assert_uint_eq(g->idx[0], 12);

    query_init(&q);
    q.from_ns = T0 + 50 * SEC;
    q.to_ns = T0 + 120 * SEC;
    run_all(s, &q, g);
    check_set(g, w_range, "time range");

    query_init(&q);
    q.has_host = true, q.host_ver = 4, q.host = v4(10, 0, 0, 2);
    q.proto = 6;
    q.service = "http";
    run_all(s, &q, g);
    check_set(g, w_combo, "host+proto+service");

    query_init(&q);
    q.match = match_pkts;
    run_all(s, &q, g);
    check_set(g, w_match, "match callback");

    /* Bad input. */
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ns_store_result_t res;
    char err[128];
    query_init(&q);
    q.limit = 10001;
    ck_assert_int_eq(ns_store_flows(rd, &q, collect, g, &res, err, sizeof(err)), NS_EINVAL);
    q.limit = 10;
    q.cursor = "zzz";
    ck_assert_int_eq(ns_store_flows(rd, &q, collect, g, &res, err, sizeof(err)), NS_EINVAL);
    ns_store_read_end(&rd);
    ck_assert_ptr_null(rd);

    free(g);
    ns_store_close(&s);
    ck_assert_ptr_null(s);
    rm_dir(dir);
}
END_TEST

/* Every sort, paged by `limit`: ordered, and the union of the pages is exactly the set. */
static void
check_sorted(ns_store_t *s, ns_store_sort_t sort, uint32_t limit, bool host)
{
    ns_store_query_t q;
    query_init(&q);
    q.sort = sort;
    q.limit = limit;
    if (host)
        q.has_host = true, q.host_ver = 4, q.host = v4(10, 0, 0, 2);
    got_t *g = malloc(sizeof(*g));
    run_all(s, &q, g);
    check_set(g, host ? w_host : w_primary, "paged");
    bool asc = sort == NS_STORE_SORT_TIME_ASC;
    for (uint32_t k = 1; k < g->n; k++) {
        bool ok = asc ? (g->key[k] > g->key[k - 1] ||
                         (g->key[k] == g->key[k - 1] && g->fid[k] > g->fid[k - 1]))
                      : (g->key[k] < g->key[k - 1] ||
                         (g->key[k] == g->key[k - 1] && g->fid[k] < g->fid[k - 1]));
        ck_assert_msg(ok, "sort %d limit %u: position %u out of order", sort, limit, k);
    }
    free(g);
}

START_TEST(sorts_and_paging)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    fill_std(s);
    for (int sort = NS_STORE_SORT_TIME_DESC; sort <= NS_STORE_SORT_DURATION; sort++) {
        check_sorted(s, (ns_store_sort_t)sort, 10000, false);
        check_sorted(s, (ns_store_sort_t)sort, 7, false);
        check_sorted(s, (ns_store_sort_t)sort, 1, true);
        check_sorted(s, (ns_store_sort_t)sort, 13, true);
    }
    /* The bytes order is the records' own, not an artefact of fids. */
    ns_store_query_t q;
    query_init(&q);
    q.sort = NS_STORE_SORT_BYTES;
    q.limit = 1;
    got_t *g = malloc(sizeof(*g));
    memset(g, 0, sizeof(*g));
    g->sort = q.sort;
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ns_store_result_t res;
    ck_assert_int_eq(ns_store_flows(rd, &q, collect, g, &res, NULL, 0), NS_OK);
    ns_store_read_end(&rd);
    uint64_t best = 0;
    for (uint32_t i = 0; i < N_STD; i++) {
        ns_flow_rec_t r = gen_rec(i, T0);
        if (w_primary(i) && r.wire_bytes[0] + r.wire_bytes[1] > best)
            best = r.wire_bytes[0] + r.wire_bytes[1];
    }
    ck_assert_uint_eq(g->n, 1);
    ck_assert_uint_eq(g->key[0], best);
    ck_assert_str_ne(res.next_cursor, "");
    free(g);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* ---- one connection, two observers ------------------------------------------------------- */

typedef struct {
    uint32_t n;
    char uid[4][NS_FLOW_UID_LEN + 1];
    char agent[4][NS_STORE_AGENT_MAX + 1];
    uint64_t pkts[4];
    bool primary[4];
} obs_t;

static bool
collect_obs(void *ud, const ns_store_flow_t *f)
{
    obs_t *o = ud;
    ck_assert_uint_lt(o->n, 4);
    snprintf(o->uid[o->n], sizeof(o->uid[0]), "%s", f->rec->uid);
    snprintf(o->agent[o->n], sizeof(o->agent[0]), "%s", f->meta.agent);
    o->pkts[o->n] = f->rec->pkts[0];
    o->primary[o->n] = f->meta.primary;
    o->n++;
    return true;
}

START_TEST(flow_get_observations)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    fill_std(s);
    /* Agent x: an interim then the final of "CX..."; agent y: its own record "CY...". */
    ns_flow_rec_t r = gen_rec(1, T0);
    ns_store_meta_t m = gen_meta(1);
    m.conn = 77;
    snprintf(m.agent, sizeof(m.agent), "x");
    snprintf(r.uid, sizeof(r.uid), "CXXXXXXXXXXXXXXXXX");
    r.kind = NS_FLOW_REC_INTERIM;
    r.pkts[0] = 5;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    r.kind = NS_FLOW_REC_FINAL;
    r.last_ns += SEC;
    r.pkts[0] = 9;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    snprintf(r.uid, sizeof(r.uid), "CYYYYYYYYYYYYYYYYY");
    snprintf(m.agent, sizeof(m.agent), "y");
    m.primary = false;
    m.observers = 2;
    r.pkts[0] = 8;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    r.kind = NS_FLOW_REC_UPDATE;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_EINVAL);
    ck_assert(ns_store_sync(s, 10000));

    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    obs_t o;
    memset(&o, 0, sizeof(o));
    ck_assert_uint_eq(ns_store_flow_get(rd, "CXXXXXXXXXXXXXXXXX", collect_obs, &o), 2);
    ck_assert_str_eq(o.uid[0], "CXXXXXXXXXXXXXXXXX");
    ck_assert_uint_eq(o.pkts[0], 9); /* the newest: the final */
    ck_assert(o.primary[0]);
    ck_assert_str_eq(o.agent[1], "y");
    ck_assert(!o.primary[1]);
    memset(&o, 0, sizeof(o));
    ck_assert_uint_eq(ns_store_flow_get(rd, "CYYYYYYYYYYYYYYYYY", collect_obs, &o), 2);
    ck_assert_str_eq(o.agent[0], "y");
    ck_assert_uint_eq(o.pkts[1], 9);
    ck_assert_uint_eq(ns_store_flow_get(rd, "Cnothere", collect_obs, &o), 0);
    ck_assert_uint_eq(ns_store_flow_get(rd, "", collect_obs, &o), 0);
    ns_store_read_end(&rd);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* The orig packets of the one record ns_store_flow_get() gives for `uid` (asserted: one). */
static uint64_t
only_obs_pkts(ns_store_read_t *rd, const char *uid)
{
    obs_t o;
    memset(&o, 0, sizeof(o));
    ck_assert_uint_eq(ns_store_flow_get(rd, uid, collect_obs, &o), 1);
    return o.pkts[0];
}

/* One uid's records over several hours (by_uid and by_cid are hour-major): the one ending
 * last wins whatever the order they were stored in, records at both edges of an hour are
 * found, hours without entries are jumped over, a missing uid finds nothing, and list queries
 * by uid or community id return every hour's records (within their window). */
#define HOURS_H0 (T0 / HOUR * HOUR)
START_TEST(uid_cid_across_hours)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    /* Filler in hours 0, 1, 2 and 5 (3 and 4 empty): other uids, one community id each hour. */
    static const unsigned fill_hours[] = {0, 1, 2, 5};
    uint32_t n = 0;
    for (size_t hi = 0; hi < 4; hi++) {
        for (uint32_t j = 0; j < 50; j++, n++) {
            ns_flow_rec_t r = gen_rec(n, 0);
            r.last_ns = HOURS_H0 + fill_hours[hi] * HOUR + j * 60 * SEC;
            r.first_ns = r.last_ns;
            snprintf(r.community_id, sizeof(r.community_id), "1:fill%zu", hi);
            ns_store_meta_t m = gen_meta(n);
            m.primary = true;
            ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
        }
    }
    /* "CA...": stored newest first, so fid order is the reverse of time order: the final in
     * hour 5 at its first ns, an interim at hour 1's last ns, an interim in hour 0. */
    const uint64_t t_a[3] = {HOURS_H0 + 5 * HOUR, HOURS_H0 + 2 * HOUR - 1,
                             HOURS_H0 + 10 * 60 * SEC};
    for (int i = 0; i < 3; i++) {
        ns_flow_rec_t r = gen_rec(1000 + (uint32_t)i, 0);
        snprintf(r.uid, sizeof(r.uid), "CAAAAAAAAAAAAAAAAA");
        snprintf(r.community_id, sizeof(r.community_id), "1:shared");
        r.kind = i == 0 ? NS_FLOW_REC_FINAL : NS_FLOW_REC_INTERIM;
        r.last_ns = t_a[i];
        r.first_ns = HOURS_H0;
        r.pkts[0] = 30 - (uint64_t)i; /* 30: the final */
        ns_store_meta_t m = gen_meta(1000);
        m.conn = 500;
        m.primary = true;
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    }
    /* "CE..." only at hour 2's last ns (and "1:shared" too); "CF..." only at hour 1's first. */
    ns_flow_rec_t r = gen_rec(2000, 0);
    snprintf(r.uid, sizeof(r.uid), "CEEEEEEEEEEEEEEEEE");
    snprintf(r.community_id, sizeof(r.community_id), "1:shared");
    r.last_ns = r.first_ns = HOURS_H0 + 3 * HOUR - 1;
    r.pkts[0] = 41;
    ns_store_meta_t m = gen_meta(2000);
    m.conn = 501;
    m.primary = true;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    snprintf(r.uid, sizeof(r.uid), "CFFFFFFFFFFFFFFFFF");
    snprintf(r.community_id, sizeof(r.community_id), "1:f");
    r.last_ns = r.first_ns = HOURS_H0 + HOUR;
    r.pkts[0] = 42;
    m.conn = 502;
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    ck_assert(ns_store_sync(s, 10000));

    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ck_assert_uint_eq(only_obs_pkts(rd, "CAAAAAAAAAAAAAAAAA"), 30); /* the newest: the final */
    ck_assert_uint_eq(only_obs_pkts(rd, "CEEEEEEEEEEEEEEEEE"), 41);
    ck_assert_uint_eq(only_obs_pkts(rd, "CFFFFFFFFFFFFFFFFF"), 42);
    ck_assert_uint_eq(only_obs_pkts(rd, "C00000000000000007"), gen_rec(7, 0).pkts[0]);
    obs_t o;
    ck_assert_uint_eq(ns_store_flow_get(rd, "CZZZZZZZZZZZZZZZZZ", collect_obs, &o), 0);
    ck_assert_uint_eq(ns_store_flow_get(rd, "CAAAAAAAAAAAAAAAAB", collect_obs, &o), 0);
    ns_store_read_end(&rd);

    /* Lists: all of a uid's hours, newest first; a window keeps its part only. */
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    q.uid = "CAAAAAAAAAAAAAAAAA";
    q.limit = 2; /* two pages */
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_UID);
    ck_assert_uint_eq(g->n, 3);
    for (uint32_t k = 0; k < 3; k++)
        ck_assert_uint_eq(g->key[k], t_a[k]);
    q.from_ns = HOURS_H0 + HOUR;
    q.to_ns = HOURS_H0 + 2 * HOUR;
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, 1);
    ck_assert_uint_eq(g->key[0], t_a[1]);
    q.sort = NS_STORE_SORT_TIME_ASC;
    q.from_ns = q.to_ns = 0;
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, 3);
    ck_assert_uint_eq(g->key[0], t_a[2]);
    ck_assert_uint_eq(g->key[2], t_a[0]);

    query_init(&q);
    q.community_id = "1:shared";
    ck_assert_int_eq(run_all(s, &q, g), NS_STORE_IDX_CID);
    ck_assert_uint_eq(g->n, 4); /* CA's three and CE's */
    ck_assert_uint_eq(g->key[0], t_a[0]);
    ck_assert_uint_eq(g->key[1], HOURS_H0 + 3 * HOUR - 1);
    q.community_id = "1:fill3";
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, 50);
    for (uint32_t k = 0; k < g->n; k++)
        ck_assert_uint_eq(g->key[k] / HOUR, HOURS_H0 / HOUR + 5);
    q.sort = NS_STORE_SORT_BYTES;
    q.community_id = "1:fill1";
    q.from_ns = HOURS_H0 + HOUR + 10 * 60 * SEC; /* minutes 10..49 of hour 1 */
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, 40);
    free(g);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* ---- time series ----------------------------------------------------------------------- */

typedef struct {
    uint32_t n;
    char name[64][NS_STORE_SERIES_MAX + 1];
    ns_store_point_t p[64];
} rollups_t;

static void
on_rollup(void *ud, const char *series, const ns_store_point_t *p)
{
    rollups_t *r = ud;
    if (r->n < 64) {
        snprintf(r->name[r->n], sizeof(r->name[0]), "%s", series);
        r->p[r->n++] = *p;
    }
}

static bool
count_name(void *ud, const char *name)
{
    (void)name;
    (*(int *)ud)++;
    return true;
}

START_TEST(series_rollups)
{
    char *dir = tmp_dir();
    rollups_t *ru = calloc(1, sizeof(*ru));
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.flow_keep_s = 0;
    o.series_keep_s[0] = o.series_keep_s[1] = o.series_keep_s[2] = 0;
    o.on_rollup = on_rollup;
    o.rollup_ud = ru;
    ns_store_t *s = open_store(dir, &o);
    /* Hour 0 of a day: seconds 0..179 (three minutes), 10 bytes per record, 2 records a second
     * (one counted, one not), then one second of hour 1. */
    const uint64_t base = 1700000000ull / 3600 * 3600;
    for (uint64_t sec = 0; sec < 180; sec++) {
        ns_store_delta_t d = {.now_ns = (base + sec) * SEC + 5, .agent = "a", .iface = 1,
                              .proto = 6, .service = "http", .pkts = 1, .bytes = 10,
                              .counted = true, .new_flow = sec % 2 == 0, .rtt_us = 100};
        ns_store_account(s, &d);
        d.counted = false;
        d.now_ns += 1000;
        ns_store_account(s, &d);
        ns_store_active(s, (base + sec) * SEC + 9, sec);
    }
    ns_store_delta_t d = {.now_ns = (base + 3600) * SEC, .agent = "a", .proto = 17,
                          .service = "", .pkts = 1, .bytes = 1000, .counted = true};
    ns_store_account(s, &d);
    ck_assert(ns_store_sync(s, 10000));

    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ns_store_point_t p[400];
    ns_store_res_t used;
    size_t n = ns_store_series(rd, "all", base, base + 180, 1, p, 400, &used);
    ck_assert_int_eq(used, NS_STORE_RES_1S);
    ck_assert_uint_eq(n, 180);
    ck_assert_uint_eq(p[7].start_s, base + 7);
    ck_assert_uint_eq(p[7].bytes, 10);
    ck_assert_uint_eq(p[7].active_max, 7);
    n = ns_store_series(rd, "all", base, base + 180, 60, p, 400, &used);
    ck_assert_int_eq(used, NS_STORE_RES_1M);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(p[1].start_s, base + 60);
    ck_assert_uint_eq(p[1].bytes, 600);
    ck_assert_uint_eq(p[1].pkts, 60);
    ck_assert_uint_eq(p[1].new_flows, 30);
    ck_assert_uint_eq(p[1].rtt_n, 60);
    ck_assert_uint_eq(p[1].rtt_sum_us, 6000);
    ck_assert_uint_eq(p[1].active_max, 119);
    /* The uncounted records only in the agent's series. */
    n = ns_store_series(rd, "agent:a:1", base, base + 180, 60, p, 400, NULL);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(p[2].bytes, 1200);
    n = ns_store_series(rd, "service:http", base, base + 180, 60, p, 400, NULL);
    ck_assert_uint_eq(p[0].bytes, 600);
    /* Re-bucketed: 1 min points into 2 min buckets; hours. */
    n = ns_store_series(rd, "all", base, base + 180, 120, p, 400, &used);
    ck_assert_int_eq(used, NS_STORE_RES_1M);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(p[0].bytes, 1200);
    ck_assert_uint_eq(p[1].bytes, 600);
    ck_assert_uint_eq(p[0].active_max, 119);
    ck_assert_uint_eq(p[1].active_max, 179);
    n = ns_store_series(rd, "all", base, base + 7200, 3600, p, 400, &used);
    ck_assert_int_eq(used, NS_STORE_RES_1H);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(p[0].bytes, 1800);
    ck_assert_uint_eq(p[1].bytes, 1000);
    n = ns_store_series(rd, "proto:udp", base, base + 7200, 7200, p, 400, &used);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(p[0].bytes, 1000);
    ck_assert_uint_eq(ns_store_series(rd, "service:none", base, base + 7200, 60, p, 400, NULL), 1);
    ck_assert_uint_eq(ns_store_series(rd, "nope", base, base + 7200, 60, p, 400, NULL), 0);
    int names = 0;
    ns_store_series_names(rd, NS_STORE_RES_1M, base, base + 180, count_name, &names);
    ck_assert_int_eq(names, 4); /* all, agent:a:1, proto:tcp, service:http */
    names = 0;
    ns_store_series_names(rd, NS_STORE_RES_1H, base, base + 7200, count_name, &names);
    ck_assert_int_eq(names, 7); /* and agent:a:0, proto:udp, service:none */
    ns_store_read_end(&rd);
    ns_store_close(&s);
    /* Each finished minute of each series once the minute was over (and the rest at close). */
    bool seen = false;
    for (uint32_t i = 0; i < ru->n; i++) {
        if (strcmp(ru->name[i], "all") == 0 && ru->p[i].start_s == base + 60) {
            ck_assert_uint_eq(ru->p[i].bytes, 600);
            seen = true;
        }
    }
    ck_assert(seen);
    free(ru);
    rm_dir(dir);
}
END_TEST

/* ---- retention ------------------------------------------------------------------------- */

/* A store that keeps flows for an hour after they arrived. */
static ns_store_t *
open_keep_hour(const char *dir)
{
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.flow_keep_s = 3600;
    return open_store(dir, &o);
}

START_TEST(retention_by_age)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_keep_hour(dir);
    uint64_t now = now_ns();
    for (uint32_t i = 0; i < 100; i++) {
        ns_flow_rec_t r = gen_rec(i, 0);
        /* kept by arrival: the old-received have recent flow times, the new a year-old one */
        r.last_ns = i < 60 ? now - 60 * SEC + i : now - 365 * 86400 * SEC + i;
        r.first_ns = r.last_ns;
        ns_store_meta_t m = gen_meta(i);
        m.received_ns = i < 60 ? now - 2 * 3600 * SEC + i : now - 60 * SEC + i;
        m.primary = true;
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    }
    ck_assert(ns_store_sync(s, 10000));
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_eq(st.flows, 40);
    ck_assert_uint_eq(st.age_deleted_flows, 60);
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, 40);
    for (uint32_t k = 0; k < g->n; k++)
        ck_assert_uint_ge(g->idx[k], 60);
    /* Their index entries went too: the old hosts' lists hold only the new records. */
    query_init(&q);
    q.has_host = true, q.host_ver = 4, q.host = v4(10, 0, 0, 0);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ns_store_result_t res;
    memset(g, 0, sizeof(*g));
    ck_assert_int_eq(ns_store_flows(rd, &q, collect, g, &res, NULL, 0), NS_OK);
    ck_assert_uint_eq(g->n, 8);       /* 60, 65, ..., 95 */
    ck_assert_uint_eq(res.scanned, 8); /* no orphans left */
    ns_store_read_end(&rd);
    free(g);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

START_TEST(retention_by_size)
{
    char *dir = tmp_dir();
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.flow_keep_s = 0;
    o.max_size = 1024 * 1024;
    o.sync = NS_STORE_SYNC_NONE;
    ns_store_t *s = open_store(dir, &o);
    const uint32_t total = 30000, batch = 500;
    for (uint32_t i = 0; i < total; i++) {
        ns_flow_rec_t r = gen_rec(i, T0);
        ns_store_meta_t m = gen_meta(i);
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
        if (i % batch == batch - 1 && !ns_store_sync(s, 10000)) {
            ns_store_stats_t st;
            ns_store_stats(s, &st);
            ck_abort_msg("batch at %u not committed (%llu flows stored, %llu evicted in %llu "
                         "evictions, %llu of %llu bytes used)",
                         i, (unsigned long long)st.flows,
                         (unsigned long long)st.size_evicted_flows,
                         (unsigned long long)st.size_evictions, (unsigned long long)st.used_bytes,
                         (unsigned long long)st.map_size);
        }
    }
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_gt(st.size_evictions, 0);
    ck_assert_uint_gt(st.size_evicted_flows, 0);
    ck_assert_uint_eq(st.commit_failures, 0);
    ck_assert_uint_eq(st.records_written, total);
    ck_assert_uint_lt(st.flows, total);
    ck_assert_uint_eq(st.flows + st.size_evicted_flows, total);
    ck_assert_uint_le(st.map_size, o.max_size);
    ck_assert_uint_le(st.file_bytes, o.max_size);
    /* Top by host still equals a scan after evictions (subtraction itself: top_hosts_equal_scan,
     * whose deleted records are spread over the window; here they all precede the kept ones). */
    check_top(s, 0, UINT64_MAX);
    uint64_t first_kept = T0 + (uint64_t)(total - st.flows) / 2 * SEC; /* gen_rec's times */
    check_top(s, first_kept - 100 * SEC + 7, first_kept + 100 * SEC);
    /* The newest record is there, the oldest is not. */
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    obs_t ob;
    memset(&ob, 0, sizeof(ob));
    char uid[NS_FLOW_UID_LEN + 1];
    snprintf(uid, sizeof(uid), "C%017u", total - 1);
    ck_assert_uint_ge(ns_store_flow_get(rd, uid, collect_obs, &ob), 1);
    ck_assert_uint_eq(ns_store_flow_get(rd, "C00000000000000000", collect_obs, &ob), 0);
    ns_store_read_end(&rd);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* ---- persistence and readers ----------------------------------------------------------- */

typedef struct {
    int n;
    char ids[4][8];
    size_t len[4];
} agents_t;

static bool
collect_agent(void *ud, const char *id, const void *data, size_t len)
{
    agents_t *a = ud;
    if (a->n < 4) {
        snprintf(a->ids[a->n], sizeof(a->ids[0]), "%s", id);
        a->len[a->n] = len;
        ck_assert(len == 0 || memcmp(data, "state", len < 5 ? len : 5) == 0);
        a->n++;
    }
    return true;
}

/* A resent record (same agent, uid, kind, last packet, counts) is stored once, whether it
 * comes in the same batch or after a commit; tickets are done once their batch is. */
START_TEST(resend_stored_once)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    uint64_t t0 = now_ns() - 3600 * SEC;
    ns_flow_rec_t r = gen_rec(1, t0);
    ns_store_meta_t m = gen_meta(1);
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK); /* same batch */
    uint64_t ticket = ns_store_ticket(s);
    ck_assert_uint_eq(ticket, 2);
    ck_assert(ns_store_sync(s, 10000));
    ck_assert(ns_store_done(s, ticket));
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK); /* after a commit */
    ns_flow_rec_t later = r;
    later.last_ns += SEC; /* the same flow's next record: stored */
    ck_assert_int_eq(ns_store_put_flow(s, &later, &m), NS_OK);
    ns_store_meta_t other = m;
    snprintf(other.agent, sizeof(other.agent), "another"); /* another observer: stored */
    ck_assert_int_eq(ns_store_put_flow(s, &r, &other), NS_OK);
    ck_assert(ns_store_sync(s, 10000));
    ck_assert(ns_store_done(s, ns_store_ticket(s)));
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_eq(st.flows, 3);
    ck_assert_uint_eq(st.records_written, 3);
    ck_assert_uint_eq(st.duplicates_skipped, 2);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

START_TEST(agents_persist)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    ck_assert_int_eq(ns_store_put_agent(s, "beta", "state", 5), NS_OK);
    ck_assert_int_eq(ns_store_put_agent(s, "alpha", "state-a", 7), NS_OK);
    ck_assert_int_eq(ns_store_put_agent(s, "beta", "stat", 4), NS_OK); /* replaces */
    ck_assert_int_eq(ns_store_put_agent(s, "", "x", 1), NS_EINVAL);
    fill_std(s);
    ns_store_close(&s);

    s = open_store(dir, NULL);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    agents_t a;
    memset(&a, 0, sizeof(a));
    ns_store_agents_each(rd, collect_agent, &a);
    ck_assert_int_eq(a.n, 2);
    ck_assert_str_eq(a.ids[0], "alpha");
    ck_assert_uint_eq(a.len[0], 7);
    ck_assert_str_eq(a.ids[1], "beta");
    ck_assert_uint_eq(a.len[1], 4);
    ns_store_read_end(&rd);
    /* New fids continue after the old ones. */
    ns_flow_rec_t r = gen_rec(N_STD, T0 + 1000 * SEC);
    ns_store_meta_t m = gen_meta(N_STD);
    ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    ck_assert(ns_store_sync(s, 10000));
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    q.limit = 1;
    memset(g, 0, sizeof(*g));
    rd = ns_store_read_begin(s, NULL, 0);
    ns_store_result_t res;
    ck_assert_int_eq(ns_store_flows(rd, &q, collect, g, &res, NULL, 0), NS_OK);
    ck_assert_uint_eq(g->idx[0], N_STD);
    ck_assert_uint_gt(g->fid[0], N_STD);
    ns_store_read_end(&rd);
    free(g);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

typedef struct {
    uint32_t n;
    uint64_t ids[8];
    char data[8][16];
} alerts_got_t;

static bool
collect_alert(void *ud, uint64_t id, const void *data, size_t len)
{
    alerts_got_t *g = ud;
    if (g->n == 8)
        return false;
    g->ids[g->n] = id;
    snprintf(g->data[g->n++], sizeof(g->data[0]), "%.*s", (int)len, (const char *)data);
    return true;
}

static void
pcap_len(void *ud, const void *data, size_t len)
{
    (void)data;
    *(size_t *)ud = len;
}

START_TEST(alerts_persist)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    ck_assert_int_eq(ns_store_put_alert(s, 7, "raised", 6), NS_OK);
    ck_assert_int_eq(ns_store_put_alert(s, 9, "raised", 6), NS_OK);
    ck_assert_int_eq(ns_store_put_alert(s, 7, "cleared", 7), NS_OK); /* replaces */
    ck_assert_int_eq(ns_store_put_alert(s, 0, "x", 1), NS_EINVAL);
    static uint8_t pcap[NS_STORE_PCAP_MAX + 1];
    ck_assert_int_eq(ns_store_put_alert_pcap(s, 7, pcap, 1000), NS_OK);
    ck_assert_int_eq(ns_store_put_alert_pcap(s, 9, pcap, sizeof(pcap)), NS_EINVAL);
    ns_store_close(&s);

    s = open_store(dir, NULL);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    alerts_got_t g;
    memset(&g, 0, sizeof(g));
    ns_store_alerts_each(rd, 0, collect_alert, &g); /* newest first */
    ck_assert_uint_eq(g.n, 2);
    ck_assert_uint_eq(g.ids[0], 9);
    ck_assert_uint_eq(g.ids[1], 7);
    ck_assert_str_eq(g.data[1], "cleared");
    memset(&g, 0, sizeof(g));
    ns_store_alerts_each(rd, 9, collect_alert, &g); /* below 9 */
    ck_assert_uint_eq(g.n, 1);
    ck_assert_uint_eq(g.ids[0], 7);
    memset(&g, 0, sizeof(g));
    ns_store_alerts_each(rd, 100, collect_alert, &g); /* past the newest */
    ck_assert_uint_eq(g.n, 2);
    size_t n = 0;
    ck_assert(ns_store_alert_pcap(rd, 7, pcap_len, &n));
    ck_assert_uint_eq(n, 1000);
    ck_assert(!ns_store_alert_pcap(rd, 9, pcap_len, &n));
    ns_store_read_end(&rd);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* A raw LMDB transaction on the store in `dir` (to make it as an older build left it). */
static MDB_txn *
raw_txn(const char *dir, MDB_env **env, unsigned flags)
{
    MDB_txn *txn = NULL;
    ck_assert_int_eq(mdb_env_create(env), 0);
    mdb_env_set_maxdbs(*env, 32);
    ck_assert_int_eq(mdb_env_open(*env, dir, flags, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(*env, NULL, flags, &txn), 0);
    return txn;
}

static void
raw_drop(MDB_txn *txn, const char *table)
{
    MDB_dbi d;
    ck_assert_int_eq(mdb_dbi_open(txn, table, 0, &d), 0);
    ck_assert_int_eq(mdb_drop(txn, d, 1), 0);
}

/* A store last written before alerts existed (no "alerts" nor "alert_pcaps") opens read-only
 * without them; a writable open creates them. */
START_TEST(alerts_absent_in_old_store)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    ns_store_close(&s);
    MDB_env *env;
    MDB_txn *txn = raw_txn(dir, &env, 0);
    raw_drop(txn, "alerts");
    raw_drop(txn, "alert_pcaps");
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.readonly = true;
    s = open_store(dir, &o);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    alerts_got_t g;
    memset(&g, 0, sizeof(g));
    ns_store_alerts_each(rd, 0, collect_alert, &g);
    ck_assert_uint_eq(g.n, 0);
    size_t n = 0;
    ck_assert(!ns_store_alert_pcap(rd, 1, pcap_len, &n));
    ns_store_read_end(&rd);
    ns_store_close(&s);
    s = open_store(dir, NULL); /* writable: created again */
    ck_assert_int_eq(ns_store_put_alert(s, 3, "x", 1), NS_OK);
    ck_assert(ns_store_sync(s, 10000));
    rd = ns_store_read_begin(s, NULL, 0);
    ns_store_alerts_each(rd, 0, collect_alert, &g);
    ck_assert_uint_eq(g.n, 1);
    ns_store_read_end(&rd);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* Counts all stored observations through a read-only store; -1 on failure. */
static int
count_readonly(const char *dir)
{
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.readonly = true;
    o.dir = dir;
    char err[256];
    ns_store_t *s = ns_store_open(&o, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "read-only open: %s\n", err);
        return -1;
    }
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    q.all_observations = true;
    run_all(s, &q, g);
    int n = (int)g->n;
    free(g);
    ns_store_close(&s);
    return n;
}

START_TEST(readonly_while_writing)
{
    char *dir = tmp_dir();
    char err[256];
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.readonly = true;
    o.dir = "/nonexistent/ns_store";
    ck_assert_ptr_null(ns_store_open(&o, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ns_store"));

    ns_store_t *s = open_store(dir, NULL);
    fill_std(s);
    /* LMDB forbids one environment open twice in a process: the reader is a child, as the
     * `netscope history` tool is another process. It reads while the parent writes on. */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        int counts[20];
        for (int k = 0; k < 20; k++) {
            counts[k] = count_readonly(dir);
            usleep(2000);
        }
        ssize_t w = write(fds[1], counts, sizeof(counts));
        _exit(w == sizeof(counts) ? 0 : 1);
    }
    close(fds[1]);
    for (uint32_t i = N_STD; i < N_STD + 2000; i++) {
        ns_flow_rec_t r = gen_rec(i, T0);
        ns_store_meta_t m = gen_meta(i);
        ns_store_put_flow(s, &r, &m);
        if (i % 100 == 0)
            ns_store_sync(s, 10000);
    }
    ck_assert(ns_store_sync(s, 10000));
    int counts[20];
    ck_assert_int_eq(read(fds[0], counts, sizeof(counts)), (ssize_t)sizeof(counts));
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int k = 0; k < 20; k++) {
        ck_assert_int_ge(counts[k], (int)N_STD);
        ck_assert_int_le(counts[k], (int)N_STD + 2000);
        if (k > 0)
            ck_assert_int_ge(counts[k], counts[k - 1]);
    }
    ns_store_close(&s);
    ck_assert_int_eq(count_readonly(dir), (int)N_STD + 2000);
    rm_dir(dir);
}
END_TEST

/* ---- crash safety ---------------------------------------------------------------------- */

#define CRASH_BATCH 200u

/* The child: batches of CRASH_BATCH records from batch `first`, each reported on `fd` once
 * sync() says it is committed; runs until killed. */
static void
crash_child(const char *dir, uint32_t first, int fd)
{
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.flow_keep_s = 0;
    o.commit_ms = 5;
    o.dir = dir;
    ns_store_t *s = ns_store_open(&o, NULL, 0);
    if (s == NULL)
        _exit(2);
    for (uint32_t b = first;; b++) {
        for (uint32_t i = 0; i < CRASH_BATCH; i++) {
            ns_flow_rec_t r = gen_rec(b * CRASH_BATCH + i, T0);
            ns_store_meta_t m = gen_meta(i);
            m.primary = true;
            m.conn = b * CRASH_BATCH + i;
            if (ns_store_put_flow(s, &r, &m) != NS_OK)
                _exit(3);
        }
        if (ns_store_sync(s, 10000) && write(fd, &b, sizeof(b)) != sizeof(b))
            _exit(4);
    }
}

START_TEST(crash_safety)
{
    char *dir = tmp_dir();
    uint32_t next = 0, reported_max = 0;
    bool any = false;
    got_t *g = malloc(sizeof(*g));
    for (int round = 0; round < 5; round++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, next, fds[1]);
        }
        close(fds[1]);
        /* Let it commit a few batches, then kill it in the middle of more. */
        uint32_t b;
        for (int k = 0; k < 3 + round; k++) {
            ck_assert_int_eq(read(fds[0], &b, sizeof(b)), (ssize_t)sizeof(b));
            reported_max = b, any = true;
        }
        usleep((useconds_t)(1000 * (round + 1)));
        kill(pid, SIGKILL);
        while (read(fds[0], &b, sizeof(b)) == (ssize_t)sizeof(b))
            reported_max = b;
        close(fds[0]);
        waitpid(pid, NULL, 0);

        /* Reopen: every reported batch whole, no batch partial, indexes match "flows". */
        ns_store_t *s = open_store(dir, NULL);
        ns_store_query_t q;
        query_init(&q);
        q.all_observations = true;
        q.sort = NS_STORE_SORT_TIME_ASC;
        run_all(s, &q, g);
        uint32_t per_batch[64] = {0};
        uint32_t max_batch = 0;
        for (uint32_t k = 0; k < g->n; k++) {
            uint32_t bt = g->idx[k] / CRASH_BATCH;
            ck_assert_uint_lt(bt, 64);
            per_batch[bt]++;
            if (bt > max_batch)
                max_batch = bt;
        }
        /* A reported batch is whole; the one in flight may be split over commits (a commit
         * every commit_ms), so only its committed part is there. */
        for (uint32_t bt = 0; bt <= max_batch; bt++)
            ck_assert_msg(bt > reported_max ? per_batch[bt] <= CRASH_BATCH
                                            : per_batch[bt] == CRASH_BATCH,
                          "round %d batch %u: %u of %u records", round, bt, per_batch[bt],
                          CRASH_BATCH);
        ck_assert(any);
        ck_assert_uint_ge(max_batch, reported_max);
        ns_store_stats_t st;
        ns_store_stats(s, &st);
        ck_assert_uint_eq(st.flows, g->n);
        /* Every host index and uid entry leads to a record, and every record has them. */
        uint32_t by_host = 0;
        for (uint8_t h = 0; h < 5; h++) {
            query_init(&q);
            q.all_observations = true;
            q.has_host = true, q.host_ver = 4, q.host = v4(10, 0, 0, h);
            got_t *gh = malloc(sizeof(*gh));
            run_all(s, &q, gh);
            by_host += gh->n;
            free(gh);
        }
        ck_assert_uint_eq(by_host, g->n);
        ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
        for (uint32_t k = 0; k < g->n; k += 37) {
            char uid[NS_FLOW_UID_LEN + 1];
            snprintf(uid, sizeof(uid), "C%017u", g->idx[k]);
            obs_t ob;
            memset(&ob, 0, sizeof(ob));
            ck_assert_uint_eq(ns_store_flow_get(rd, uid, collect_obs, &ob), 1);
        }
        ns_store_read_end(&rd);
        ns_store_close(&s);
        next = max_batch + 1;
        ck_assert_uint_lt(next + 10, 64);
    }
    free(g);
    rm_dir(dir);
}
END_TEST

/* ---- top-N by host: the top_host sums against a scan ------------------------------------ */

#define TOP_HOSTS_MAX 64u

/* Per-host sums, by label, made by a scan of ns_store_flows() (the time index, primary
 * records): the independent expectation for ns_store_top(group = host). */
typedef struct {
    uint32_t n;
    ns_store_top_row_t row[TOP_HOSTS_MAX];
} scan_top_t;

static void
scan_top_add(scan_top_t *t, uint8_t ver, const ns_addr_t *a, const ns_flow_rec_t *r)
{
    char label[64];
    ck_assert_ptr_nonnull(inet_ntop(ver == 6 ? AF_INET6 : AF_INET, a->b, label, sizeof(label)));
    uint32_t i = 0;
    while (i < t->n && strcmp(t->row[i].label, label) != 0)
        i++;
    if (i == t->n) {
        ck_assert_uint_lt(t->n, TOP_HOSTS_MAX);
        memset(&t->row[i], 0, sizeof(t->row[i]));
        snprintf(t->row[i].label, sizeof(t->row[i].label), "%s", label);
        t->n++;
    }
    t->row[i].bytes += r->wire_bytes[0] + r->wire_bytes[1];
    t->row[i].pkts += r->pkts[0] + r->pkts[1];
    t->row[i].flows++;
}

static bool
scan_top_collect(void *ud, const ns_store_flow_t *f)
{
    scan_top_t *t = ud;
    const ns_flow_rec_t *r = f->rec;
    scan_top_add(t, r->ip_ver, &r->orig_h, r);
    if (memcmp(&r->orig_h, &r->resp_h, sizeof(r->orig_h)) != 0)
        scan_top_add(t, r->ip_ver, &r->resp_h, r);
    return true;
}

static void
scan_top(ns_store_t *s, uint64_t from_ns, uint64_t to_ns, scan_top_t *t)
{
    memset(t, 0, sizeof(*t));
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    ck_assert_ptr_nonnull(rd);
    ns_store_query_t q;
    query_init(&q);
    q.from_ns = from_ns;
    q.to_ns = to_ns;
    char cur[NS_STORE_CURSOR_MAX] = "";
    ns_store_result_t res;
    do {
        q.cursor = cur;
        ck_assert_int_eq(ns_store_flows(rd, &q, scan_top_collect, t, &res, NULL, 0), NS_OK);
        ck_assert_int_eq(res.index, NS_STORE_IDX_TIME);
        snprintf(cur, sizeof(cur), "%s", res.next_cursor);
    } while (cur[0]);
    ns_store_read_end(&rd);
}

static uint64_t
top_metric(const ns_store_top_row_t *r, ns_store_top_by_t by)
{
    return by == NS_STORE_TOP_PACKETS ? r->pkts : by == NS_STORE_TOP_FLOWS ? r->flows : r->bytes;
}

static int
cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* ns_store_top(group = host) over [from_ns, to_ns) equals the scan: every host with its
 * bytes, packets and flows (asked for all of them), and the top 10 by each measure holds the
 * 10 largest values in order. */
static void
check_top(ns_store_t *s, uint64_t from_ns, uint64_t to_ns)
{
    scan_top_t *want = malloc(sizeof(*want));
    ns_store_top_row_t *got = malloc(TOP_HOSTS_MAX * sizeof(*got));
    scan_top(s, from_ns, to_ns, want);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    size_t n = ns_store_top(rd, NS_STORE_TOP_BYTES, NS_STORE_GROUP_HOST, from_ns, to_ns, got,
                            TOP_HOSTS_MAX);
    ck_assert_msg(n == want->n, "window [%llu, %llu): %zu hosts, the scan found %u",
                  (unsigned long long)from_ns, (unsigned long long)to_ns, n, want->n);
    for (size_t i = 0; i < n; i++) {
        uint32_t j = 0;
        while (j < want->n && strcmp(want->row[j].label, got[i].label) != 0)
            j++;
        ck_assert_msg(j < want->n, "host %s is not in the scan's answer", got[i].label);
        ck_assert_msg(got[i].bytes == want->row[j].bytes && got[i].pkts == want->row[j].pkts &&
                          got[i].flows == want->row[j].flows,
                      "window [%llu, %llu) host %s: %llu B %llu pkts %llu flows, the scan "
                      "%llu %llu %llu",
                      (unsigned long long)from_ns, (unsigned long long)to_ns, got[i].label,
                      (unsigned long long)got[i].bytes, (unsigned long long)got[i].pkts,
                      (unsigned long long)got[i].flows, (unsigned long long)want->row[j].bytes,
                      (unsigned long long)want->row[j].pkts,
                      (unsigned long long)want->row[j].flows);
    }
    for (int by = NS_STORE_TOP_BYTES; by <= NS_STORE_TOP_FLOWS; by++) {
        uint64_t v[TOP_HOSTS_MAX];
        for (uint32_t j = 0; j < want->n; j++)
            v[j] = top_metric(&want->row[j], (ns_store_top_by_t)by);
        qsort(v, want->n, sizeof(v[0]), cmp_u64_desc);
        size_t m = ns_store_top(rd, (ns_store_top_by_t)by, NS_STORE_GROUP_HOST, from_ns, to_ns,
                                got, 10);
        ck_assert_uint_eq(m, want->n < 10 ? want->n : 10);
        for (size_t i = 0; i < m; i++)
            ck_assert_uint_eq(top_metric(&got[i], (ns_store_top_by_t)by), v[i]);
    }
    ns_store_read_end(&rd);
    free(got);
    free(want);
}

static uint64_t
lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11; /* 53 bits: enough for nanoseconds over hours */
}

#define SPREAD_T0 (T0 + 17 * SEC + 123456) /* not on a minute */
#define SPREAD_SPAN (3 * 3600 * SEC)

/* `total` records over three hours from 40 hosts (IPv4 and IPv6, some talking to themselves,
 * a tenth not primary, every fiftieth exactly on a minute); the first `old` received two
 * hours ago (a store keeping flows an hour deletes them at its next commit). With
 * `sync_every`, one commit per that many records, else one for all. */
static void
fill_spread(ns_store_t *s, uint32_t total, uint32_t old, uint32_t sync_every)
{
    uint64_t now = now_ns(), x = 19;
    for (uint32_t i = 0; i < total; i++) {
        ns_flow_rec_t r = gen_rec(i, T0);
        uint32_t a = (uint32_t)(lcg(&x) % 40), b = (uint32_t)(lcg(&x) % 40);
        if (i % 17 == 0)
            b = a; /* a host talking to itself counts once */
        r.ip_ver = a % 8 == 7 ? 6 : 4;
        if (r.ip_ver == 6)
            b = b - b % 8 + 7; /* both ends of one version */
        else if (b % 8 == 7)
            b--;
        r.orig_h = v4(10, 9, 0, (uint8_t)a);
        r.resp_h = v4(10, 9, 0, (uint8_t)b);
        if (r.ip_ver == 6)
            r.orig_h.b[0] = r.resp_h.b[0] = 0xfd;
        r.last_ns = SPREAD_T0 + lcg(&x) % SPREAD_SPAN;
        if (i % 50 == 0)
            r.last_ns -= r.last_ns % (60 * SEC);
        r.first_ns = r.last_ns - 1000;
        r.wire_bytes[0] = lcg(&x) % 100000;
        r.pkts[0] = 1 + lcg(&x) % 100;
        ns_store_meta_t m = gen_meta(i);
        m.received_ns = i < old ? now - 2 * 3600 * SEC + i : now - 60 * SEC + i;
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
        if (sync_every && (i + 1) % sync_every == 0)
            ck_assert(ns_store_sync(s, 10000));
    }
    ck_assert(ns_store_sync(s, 10000));
}

/* fill_spread(), then random windows, aligned to minutes or not: the top hosts equal a scan's
 * after retention deleted the old records (their share of the sums must go too). */
START_TEST(top_hosts_equal_scan)
{
    char *dir = tmp_dir();
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.flow_keep_s = 3600;
    ns_store_t *s = open_store(dir, &o);
    const uint64_t t0 = SPREAD_T0, span = SPREAD_SPAN;
    const uint32_t total = 4000, old = 700;
    fill_spread(s, total, old, 0);
    uint64_t x = 23;
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_eq(st.age_deleted_flows, old);
    ck_assert_uint_eq(st.flows, total - old);

    check_top(s, 0, UINT64_MAX);
    check_top(s, t0, t0 + 1); /* one nanosecond */
    check_top(s, T0 + 3600 * SEC, T0 + 2 * 3600 * SEC); /* one aligned hour */
    for (int round = 0; round < 150; round++) {
        uint64_t from = T0 - 300 * SEC + lcg(&x) % (span + 600 * SEC);
        uint64_t len = lcg(&x) % 4 == 0 ? lcg(&x) % (180 * SEC) : lcg(&x) % span;
        if (round % 3 == 0)
            from -= from % (60 * SEC);
        if (round % 5 == 0)
            len -= len % (60 * SEC);
        check_top(s, from, from + len + 1);
    }
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* The minute-major host and port indexes against the time index: fill_spread() (three
 * hours, 40 hosts), then for hosts and ports, every sort and random windows, the pages of a
 * host (or port) query, 7 records a page, hand out the records a time-index query with the
 * same condition as a `match` hands out, in the same order. */
typedef struct {
    bool host;
    ns_addr_t a;
    uint8_t ver;
    int32_t port;
} want_t;

static bool
match_want(void *ud, const ns_flow_rec_t *r)
{
    const want_t *w = ud;
    if (w->host)
        return r->ip_ver == w->ver && (memcmp(&r->orig_h, &w->a, sizeof(w->a)) == 0 ||
                                       memcmp(&r->resp_h, &w->a, sizeof(w->a)) == 0);
    return r->orig_p == w->port || r->resp_p == w->port;
}

static void
check_host_port_against_time(ns_store_t *s)
{
    got_t *g1 = malloc(sizeof(*g1)), *g2 = malloc(sizeof(*g2));
    uint64_t x = 29, compared = 0;
    for (int round = 0; round < 60; round++) {
        want_t w = {.host = round % 3 != 2, .ver = 4, .port = -1};
        uint32_t a = (uint32_t)(lcg(&x) % 40);
        if (a % 8 == 7) {
            w.ver = 6;
        }
        w.a = v4(10, 9, 0, (uint8_t)a);
        if (w.ver == 6)
            w.a.b[0] = 0xfd;
        if (!w.host)
            w.port = round % 2 ? 80 : (int32_t)(40000 + lcg(&x) % 11);
        ns_store_query_t q;
        query_init(&q);
        q.sort = (ns_store_sort_t)(round % 5);
        if (round % 4 != 0) { /* else the whole store */
            q.from_ns = SPREAD_T0 - 300 * SEC + lcg(&x) % SPREAD_SPAN;
            q.to_ns = q.from_ns + 1 + lcg(&x) % (SPREAD_SPAN / 2);
        }
        q.match = match_want, q.match_ud = &w;
        ck_assert_int_eq(run_all(s, &q, g2), NS_STORE_IDX_TIME);
        q.match = NULL;
        q.limit = 7;
        if (w.host)
            q.has_host = true, q.host_ver = w.ver, q.host = w.a;
        else
            q.port = w.port;
        ck_assert_int_eq(run_all(s, &q, g1), w.host ? NS_STORE_IDX_HOST : NS_STORE_IDX_PORT);
        ck_assert_msg(g1->n == g2->n, "round %d: %u records, the time index %u", round, g1->n,
                      g2->n);
        for (uint32_t i = 0; i < g1->n; i++)
            ck_assert_msg(g1->fid[i] == g2->fid[i], "round %d: record %u differs", round, i);
        compared += g1->n;
    }
    ck_assert_uint_gt(compared, 3000); /* the windows held records */
    free(g1);
    free(g2);
}

START_TEST(host_port_minutes_equal_time_index)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    fill_spread(s, 3000, 0, 0);
    check_host_port_against_time(s);
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* The writer puts a batch's index entries sorted, appending those past a tree's last key and
 * adding to the top_host sums already stored: records in random time order over many commits
 * (each batch's entries partly before, partly after the stored ones) are all indexed, and
 * the indexes and sums agree with the time index and a scan. */
START_TEST(batches_out_of_order)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_store(dir, NULL);
    const uint32_t total = 3000;
    fill_spread(s, total, 0, 97);
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_eq(st.flows, total);
    ck_assert_uint_eq(st.records_written, total);
    ck_assert_uint_ge(st.commits, total / 97);
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    q.sort = NS_STORE_SORT_TIME_ASC;
    q.all_observations = true;
    run_all(s, &q, g);
    ck_assert_uint_eq(g->n, total); /* every record in the time index */
    free(g);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    obs_t ob;
    for (uint32_t i = 0; i < total; i += 7) { /* and in the uid index */
        char uid[NS_FLOW_UID_LEN + 1];
        snprintf(uid, sizeof(uid), "C%017u", i);
        memset(&ob, 0, sizeof(ob));
        ck_assert_uint_eq(ns_store_flow_get(rd, uid, collect_obs, &ob), 1);
    }
    ns_store_read_end(&rd);
    check_host_port_against_time(s);
    check_top(s, 0, UINT64_MAX);
    uint64_t x = 31;
    for (int round = 0; round < 40; round++) {
        uint64_t from = SPREAD_T0 - 300 * SEC + lcg(&x) % (SPREAD_SPAN + 600 * SEC);
        check_top(s, from, from + 1 + lcg(&x) % SPREAD_SPAN);
    }
    ns_store_close(&s);
    rm_dir(dir);
}
END_TEST

/* A store of schema version 1 (no "top_host"), 2 (top_host keyed span first) or 3 (by_uid and
 * by_cid keyed by the string alone) is refused, writable and read-only, with a sentence naming
 * both versions; the refused writable open creates nothing in it. */
START_TEST(old_schema_refused)
{
    for (uint8_t old = 1; old <= 3; old++) {
        char *dir = tmp_dir();
        ns_store_t *s = open_store(dir, NULL);
        ns_store_close(&s);
        MDB_env *env;
        MDB_txn *txn = raw_txn(dir, &env, 0);
        MDB_dbi d;
        if (old == 1)
            raw_drop(txn, "top_host");
        ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &d), 0);
        uint8_t ver[4] = {0, 0, 0, old};
        MDB_val k = {6, "schema"}, v = {4, ver};
        ck_assert_int_eq(mdb_put(txn, d, &k, &v, 0), 0);
        ck_assert_int_eq(mdb_txn_commit(txn), 0);
        mdb_env_close(env);

        for (int ro = 0; ro < 2; ro++) {
            ns_store_opts_t o;
            ns_store_opts_default(&o);
            o.dir = dir;
            o.readonly = ro;
            char err[512] = "", want[32];
            s = ns_store_open(&o, err, sizeof(err));
            ck_assert_ptr_null(s);
            snprintf(want, sizeof(want), "schema version %u", old);
            ck_assert_msg(strstr(err, want) && strstr(err, "version 4"),
                          "the refusal does not name both versions: %s", err);
        }
        txn = raw_txn(dir, &env, MDB_RDONLY);
        if (old == 1)
            ck_assert_int_eq(mdb_dbi_open(txn, "top_host", 0, &d), MDB_NOTFOUND);
        mdb_txn_abort(txn);
        mdb_env_close(env);
        rm_dir(dir);
    }
}
END_TEST

/* Retention by age deletes a deleted record's by_uid and by_cid entries, whatever hour it
 * ended in: afterwards neither lookups nor lists find it and the trees hold exactly the kept
 * records' entries. */
START_TEST(uid_cid_retention)
{
    char *dir = tmp_dir();
    ns_store_t *s = open_keep_hour(dir);
    uint64_t now = now_ns();
    for (uint32_t i = 0; i < 120; i++) {
        ns_flow_rec_t r = gen_rec(i, 0);
        /* Each uid u twice, ending at both edges of an hour u % 30 hours ago: first at the
         * hour's end, received 2 h ago (deleted: retention goes in arrival order), then at
         * its start, received now. */
        uint32_t u = i % 60;
        snprintf(r.uid, sizeof(r.uid), "C%017u", u);
        r.last_ns = (now / HOUR - u % 30) * HOUR + (i < 60 ? HOUR - 1 : 0);
        r.first_ns = r.last_ns;
        ns_store_meta_t m = gen_meta(i);
        m.primary = true;
        m.conn = 1000 + i;
        m.received_ns = i < 60 ? now - 2 * 3600 * SEC : now - 60 * SEC;
        ck_assert_int_eq(ns_store_put_flow(s, &r, &m), NS_OK);
    }
    ck_assert(ns_store_sync(s, 10000));
    ns_store_stats_t st;
    ns_store_stats(s, &st);
    ck_assert_uint_eq(st.flows, 60);
    ns_store_read_t *rd = ns_store_read_begin(s, NULL, 0);
    for (uint32_t u = 0; u < 60; u++) {
        char uid[NS_FLOW_UID_LEN + 1];
        snprintf(uid, sizeof(uid), "C%017u", u);
        ck_assert_uint_eq(only_obs_pkts(rd, uid), gen_rec(60 + u, 0).pkts[0]); /* the kept one */
    }
    ns_store_read_end(&rd);
    got_t *g = malloc(sizeof(*g));
    ns_store_query_t q;
    query_init(&q);
    q.community_id = "1:cid3";
    run_all(s, &q, g);
    uint32_t want = 0;
    for (uint32_t i = 60; i < 120; i++)
        want += i % 7 == 3;
    ck_assert_uint_eq(g->n, want);
    free(g);
    ns_store_close(&s);

    MDB_env *env;
    MDB_txn *txn = raw_txn(dir, &env, MDB_RDONLY);
    static const char *const trees[] = {"by_uid", "by_cid"};
    for (int t = 0; t < 2; t++) {
        MDB_dbi d;
        MDB_stat ms;
        ck_assert_int_eq(mdb_dbi_open(txn, trees[t], 0, &d), 0);
        ck_assert_int_eq(mdb_stat(txn, d, &ms), 0);
        ck_assert_uint_eq(ms.ms_entries, 60);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    rm_dir(dir);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, keys_and_values);
    tcase_add_test(tc, planner);
    suite_add_tcase(s, tc);
    tc = tcase_create("queries");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, filters);
    tcase_add_test(tc, sorts_and_paging);
    tcase_add_test(tc, flow_get_observations);
    tcase_add_test(tc, uid_cid_across_hours);
    tcase_add_test(tc, series_rollups);
    tcase_add_test(tc, top_hosts_equal_scan);
    tcase_add_test(tc, host_port_minutes_equal_time_index);
    tcase_add_test(tc, batches_out_of_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, retention_by_age);
    tcase_add_test(tc, uid_cid_retention);
    tcase_add_test(tc, retention_by_size);
    tcase_add_test(tc, resend_stored_once);
    tcase_add_test(tc, agents_persist);
    tcase_add_test(tc, alerts_persist);
    tcase_add_test(tc, alerts_absent_in_old_store);
    tcase_add_test(tc, old_schema_refused);
    tcase_add_test(tc, readonly_while_writing);
    tcase_add_test(tc, crash_safety);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(store_suite)

/* test_chsink.c - the ClickHouse sink against a fake ClickHouse: a thread on loopback that
 * accepts, reads one HTTP request, records it and answers 200, 500 (chunked, as ClickHouse
 * does) or nothing. Schema first, batches of batch_rows, JSON that parses back to the strings
 * put in, retries after a 500 that create the schema again, the queue's bound and its drops,
 * timeouts, the flush at destroy. */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flow_record.h"
#include "netscope/chsink.h"
#include "runner.h"

/* ---- the fake server --------------------------------------------------------------------- */

#define MAX_REQS 512

typedef struct {
    char target[2048];
    char *body;
    size_t body_len;
    int status; /* what the fake answered (0: nothing) */
} req_t;

typedef struct {
    int lfd;
    uint16_t port;
    pthread_t th;
    pthread_mutex_t mu;
    req_t reqs[MAX_REQS];
    size_t n_reqs;
    int fail_inserts; /* answer 500 to this many INSERTs */
    bool silent;      /* read the request, answer nothing */
    atomic_bool stop;
} fake_t;

static bool
read_request(fake_t *f, int fd, req_t *r)
{
    char buf[1 << 16];
    size_t got = 0;
    char *hend = NULL;
    while (hend == NULL && got < sizeof(buf) - 1) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
        buf[got] = '\0';
        hend = strstr(buf, "\r\n\r\n");
    }
    if (hend == NULL || sscanf(buf, "POST %2047s HTTP/1.1", r->target) != 1)
        return false;
    const char *cl = strstr(buf, "Content-Length: ");
    if (cl == NULL || cl > hend)
        return false;
    size_t len = strtoul(cl + 16, NULL, 10);
    r->body = malloc(len + 1);
    size_t have = got - (size_t)(hend + 4 - buf);
    memcpy(r->body, hend + 4, have);
    while (have < len) {
        ssize_t n = recv(fd, r->body + have, len - have, 0);
        if (n <= 0)
            return false;
        have += (size_t)n;
    }
    r->body[len] = '\0';
    r->body_len = len;
    (void)f;
    return true;
}

static void
answer(int fd, int status, const char *text)
{
    char out[1024];
    int n;
    if (status == 200)
        n = snprintf(out, sizeof(out),
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     strlen(text), text);
    else
        n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d Internal Server Error\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
                     status, strlen(text), text);
    ssize_t w = send(fd, out, (size_t)n, MSG_NOSIGNAL);
    (void)w;
}

static void *
fake_run(void *arg)
{
    fake_t *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        req_t r = {0};
        if (read_request(f, fd, &r)) {
            pthread_mutex_lock(&f->mu);
            bool is_insert = strstr(r.target, "query=INSERT") != NULL;
            bool silent = f->silent;
            if (silent)
                r.status = 0;
            else if (is_insert && f->fail_inserts > 0) {
                f->fail_inserts--;
                r.status = 500;
            } else {
                r.status = 200;
            }
            if (f->n_reqs < MAX_REQS)
                f->reqs[f->n_reqs++] = r;
            else
                free(r.body);
            pthread_mutex_unlock(&f->mu);
            if (r.status == 200)
                answer(fd, 200, "Ok.\n");
            else if (r.status == 500)
                answer(fd, 500,
                       "Code: 241, e.displayText() = DB::Exception: Memory limit "
                       "exceeded\n, e.what() = DB::Exception\n");
            /* silent: hold the connection until the client gives up */
            char c;
            while (silent && !atomic_load(&f->stop)) {
                struct pollfd q = {.fd = fd, .events = POLLIN};
                if (poll(&q, 1, 20) > 0 && recv(fd, &c, 1, 0) <= 0)
                    break;
            }
        } else {
            free(r.body);
        }
        close(fd);
    }
    return NULL;
}

static fake_t *
fake_start(void)
{
    fake_t *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(f->lfd, 16), 0);
    socklen_t al = sizeof(a);
    getsockname(f->lfd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    pthread_create(&f->th, NULL, fake_run, f);
    return f;
}

static void
fake_stop(fake_t **fp)
{
    fake_t *f = *fp;
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    close(f->lfd);
    for (size_t i = 0; i < f->n_reqs; i++)
        free(f->reqs[i].body);
    pthread_mutex_destroy(&f->mu);
    free(f);
    *fp = NULL;
}

static void
fake_set(fake_t *f, int fail_inserts, bool silent)
{
    pthread_mutex_lock(&f->mu);
    f->fail_inserts = fail_inserts;
    f->silent = silent;
    pthread_mutex_unlock(&f->mu);
}

static size_t
lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The rows of the INSERTs answered 200 into `table`, parsed, in order (a JSON array). */
static json_t *
accepted_rows(fake_t *f, const char *table)
{
    char want[128];
    snprintf(want, sizeof(want), "INSERT%%20INTO%%20netscope.%s%%20", table);
    json_t *all = json_array();
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_reqs; i++) {
        const req_t *r = &f->reqs[i];
        if (r->status != 200 || strstr(r->target, want) == NULL)
            continue;
        const char *p = r->body;
        while (*p) {
            const char *nl = strchr(p, '\n');
            ck_assert_ptr_nonnull(nl);
            json_error_t e;
            json_t *row = json_loadb(p, (size_t)(nl - p), 0, &e);
            ck_assert_msg(row != NULL, "row is not JSON: %s: %.*s", e.text, (int)(nl - p), p);
            json_array_append_new(all, row);
            p = nl + 1;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return all;
}

static size_t
count_requests(fake_t *f, const char *body_prefix)
{
    size_t n = 0;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_reqs; i++)
        n += strncmp(f->reqs[i].body, body_prefix, strlen(body_prefix)) == 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static ns_chsink_t *
sink(const fake_t *f, uint32_t batch_rows, uint64_t queue_bytes)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", f->port);
    ns_chsink_opts_t o;
    ns_chsink_opts_default(&o);
    o.url = url;
    o.batch_rows = batch_rows;
    o.batch_ms = 60000; /* only full batches and flushes send */
    o.queue_bytes = queue_bytes;
    o.timeout_ms = 2000;
    o.retry_min_ms = 5;
    o.retry_max_ms = 40;
    o.flush_ms = 2000;
    ns_chsink_t *s = ns_chsink_new(&o, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

/* A final TCP record with every optional member present. */
static ns_flow_rec_t
rec(unsigned i)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "C%05u", i);
    r.ip_ver = 4;
    r.proto = 6;
    r.is_tcp = true;
    r.kind = NS_FLOW_REC_FINAL;
    r.end_reason = 1;
    uint8_t o[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
    memcpy(r.orig_h.b, o, 4);
    memcpy(r.resp_h.b, d, 4);
    r.orig_p = (uint16_t)(40000 + i);
    r.resp_p = 80;
    snprintf(r.community_id, sizeof(r.community_id), "1:abc=");
    snprintf(r.service, sizeof(r.service), "http");
    snprintf(r.conn_state, sizeof(r.conn_state), "SF");
    snprintf(r.history, sizeof(r.history), "ShADadFf");
    r.first_ns = 1733370000000000000ull + i * 1000000ull;
    r.last_ns = r.first_ns + 2500000000ull;
    r.pkts[0] = 10 + i;
    r.pkts[1] = 8;
    r.wire_bytes[0] = 1000u * i + 7u;
    r.wire_bytes[1] = 5000;
    r.hs = NS_FLOW_REC_HS_TOTAL | NS_FLOW_REC_HS_SERVER | NS_FLOW_REC_HS_CLIENT;
    r.rtt_hs_ns = 1500000;
    r.rtt_hs_server_ns = 1000000;
    r.rtt_hs_client_ns = 500000;
    r.rtt_n = 3;
    r.rtt_min_us = 100;
    r.rtt_mean_us = 200;
    r.rtt_max_us = 300;
    r.rtt_last_us = 250;
    return r;
}

static ns_store_meta_t
meta(const char *agent)
{
    ns_store_meta_t m = {
        .received_ns = 1733370003000000000ull, .conn = 42, .primary = true, .observers = 2};
    snprintf(m.agent, sizeof(m.agent), "%s", agent);
    return m;
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(bad_options)
{
    char err[256];
    ns_chsink_opts_t o;
    ns_chsink_opts_default(&o);
    const char *bad[] = {
        "https://127.0.0.1:8443", "ftp://x",     "http://",    "http://:80", "http://h:0",
        "http://h:65536",         "http://h/db", "http://[::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.url = bad[i];
        err[0] = '\0';
        ck_assert_ptr_null(ns_chsink_new(&o, err, sizeof(err)));
        ck_assert_msg(strstr(err, "clickhouse.url") != NULL, "%s: %s", bad[i], err);
    }
    o.url = "http://127.0.0.1:8123";
    const char *bad_db[] = {"1x", "a;b", "a.b", "a b"};
    for (size_t i = 0; i < sizeof(bad_db) / sizeof(bad_db[0]); i++) {
        o.database = bad_db[i];
        ck_assert_ptr_null(ns_chsink_new(&o, err, sizeof(err)));
        ck_assert_msg(strstr(err, "clickhouse.database") != NULL, "%s", err);
    }
    ns_chsink_t *s = NULL;
    ns_chsink_destroy(&s); /* NULL-safe */
    ns_chsink_destroy(NULL);
}
END_TEST

START_TEST(refuses_updates_and_long_series)
{
    fake_t *f = fake_start();
    ns_chsink_t *s = sink(f, 10, 1u << 20);
    ns_flow_rec_t r = rec(1);
    r.kind = NS_FLOW_REC_UPDATE;
    ns_store_meta_t m = meta("a");
    ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_EINVAL);
    char name[NS_STORE_SERIES_MAX + 2];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    ns_store_point_t p = {.start_s = 60};
    ck_assert_int_eq(ns_chsink_put_rollup(s, name, &p), NS_EINVAL);
    p.start_s = 1ull << 32; /* past DateTime */
    ck_assert_int_eq(ns_chsink_put_rollup(s, "all", &p), NS_EINVAL);
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.flows_queued + st.rollups_queued + st.drops, 0);
    ns_chsink_destroy(&s);
    ck_assert_uint_eq(count_requests(f, ""), 0); /* nothing to send: no request at all */
    fake_stop(&f);
}
END_TEST

/* The flows table has a column for every member `netscope flows` writes, under its name. */
START_TEST(schema_names_are_netscope_flows_names)
{
    char sql[8192];
    ck_assert_uint_eq(ns_chsink_schema_count(), 3);
    ck_assert_uint_gt(ns_chsink_schema("netscope", 0, sql, sizeof(sql)), 0);
    ck_assert_str_eq(sql, "CREATE DATABASE IF NOT EXISTS netscope");
    ck_assert_uint_gt(ns_chsink_schema("netscope", 1, sql, sizeof(sql)), 0);
    ck_assert_ptr_nonnull(strstr(sql, "CREATE TABLE IF NOT EXISTS netscope.flows ("));
    ck_assert_ptr_nonnull(strstr(sql, "ENGINE = MergeTree() PARTITION BY"));
    ns_flow_rec_t r = rec(7);
    r.quality = 0xff;
    ns_flow_record_buf_t b = {0};
    ns_flow_record_extra_t extra = {.agent = "a", .received_ns = 5};
    ck_assert_int_eq(ns_flow_record_write(&b, &r, &extra, 0, 0), 0);
    json_t *row = json_loadb(b.buf, b.len, 0, NULL);
    ck_assert_ptr_nonnull(row);
    const char *key;
    json_t *v;
    size_t n = 0;
    json_object_foreach(row, key, v)
    {
        char col[96];
        snprintf(col, sizeof(col), "`%s` ", key);
        ck_assert_msg(strstr(sql, col) != NULL, "flows has no column %s", key);
        n++;
    }
    ck_assert_uint_ge(n, 60); /* a TCP record with everything: every member */
    for (const char *const *k = (const char *const[]){"conn", "primary", "observers", NULL}; *k;
         k++) {
        char col[96];
        snprintf(col, sizeof(col), "`%s` ", *k);
        ck_assert_msg(strstr(sql, col) != NULL, "flows has no column %s", *k);
    }
    json_decref(row);
    ns_flow_record_buf_fini(&b);
    ck_assert_uint_gt(ns_chsink_schema("netscope", 2, sql, sizeof(sql)), 0);
    ck_assert_ptr_nonnull(strstr(sql, "CREATE TABLE IF NOT EXISTS netscope.rollups_1m ("));
    ck_assert_uint_eq(ns_chsink_schema("netscope", 3, sql, sizeof(sql)), 0);
    ck_assert_uint_eq(ns_chsink_schema("netscope", 1, sql, 100), 0); /* does not fit */
}
END_TEST

/* README.md shows the statements as they are run. */
START_TEST(schema_in_readme)
{
    FILE *f = fopen(NS_TEST_SRC "/../README.md", "r");
    ck_assert_ptr_nonnull(f);
    static char readme[1 << 20];
    size_t n = fread(readme, 1, sizeof(readme) - 1, f);
    fclose(f);
    readme[n] = '\0';
    for (size_t i = 0; i < ns_chsink_schema_count(); i++) {
        char sql[8192], stmt[8200];
        ck_assert_uint_gt(ns_chsink_schema("netscope", i, sql, sizeof(sql)), 0);
        snprintf(stmt, sizeof(stmt), "%s;\n", sql);
        ck_assert_msg(strstr(readme, stmt) != NULL, "README.md lacks: %s", sql);
    }
}
END_TEST

START_TEST(schema_first_then_full_batches)
{
    fake_t *f = fake_start();
    ns_chsink_t *s = sink(f, 3, 1u << 20);
    ns_store_meta_t m = meta("lab-1");
    for (unsigned i = 0; i < 7; i++) {
        ns_flow_rec_t r = rec(i);
        ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    }
    ck_assert(ns_chsink_flush(s, 5000));
    /* CREATE DATABASE, CREATE TABLE flows, CREATE TABLE rollups_1m, then the INSERTs */
    pthread_mutex_lock(&f->mu);
    ck_assert_uint_eq(f->n_reqs, 6);
    ck_assert_str_eq(f->reqs[0].body, "CREATE DATABASE IF NOT EXISTS netscope");
    ck_assert_ptr_nonnull(strstr(f->reqs[1].body, "CREATE TABLE IF NOT EXISTS netscope.flows"));
    ck_assert_ptr_nonnull(strstr(f->reqs[2].body, "netscope.rollups_1m"));
    const size_t want_rows[] = {3, 3, 1};
    for (size_t i = 3; i < 6; i++) {
        ck_assert_ptr_nonnull(strstr(
            f->reqs[i].target, "query=INSERT%20INTO%20netscope.flows%20FORMAT%20JSONEachRow"));
        ck_assert_ptr_nonnull(strstr(f->reqs[i].target, "input_format_skip_unknown_fields=1"));
        ck_assert_uint_eq(lines(f->reqs[i].body), want_rows[i - 3]);
    }
    pthread_mutex_unlock(&f->mu);
    json_t *rows = accepted_rows(f, "flows");
    ck_assert_uint_eq(json_array_size(rows), 7);
    for (unsigned i = 0; i < 7; i++) {
        json_t *row = json_array_get(rows, i);
        char uid[16];
        snprintf(uid, sizeof(uid), "C%05u", i);
        ck_assert_str_eq(json_string_value(json_object_get(row, "uid")), uid);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "orig_wire_bytes")), 1000 * i + 7);
        ck_assert_str_eq(json_string_value(json_object_get(row, "agent")), "lab-1");
        ck_assert_int_eq(json_integer_value(json_object_get(row, "conn")), 42);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "primary")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "observers")), 2);
        ck_assert(json_is_real(json_object_get(row, "received")));
        ck_assert_ptr_null(json_object_get(row, "http")); /* no transactions */
    }
    json_decref(rows);
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.flows_sent, 7);
    ck_assert_uint_eq(st.batches_sent, 3);
    ck_assert_uint_eq(st.schema_created, 1);
    ck_assert_uint_eq(st.failures, 0);
    ck_assert_uint_eq(st.queue_rows, 0);
    ck_assert(st.connected);
    ns_chsink_destroy(&s);
    fake_stop(&f);
}
END_TEST

START_TEST(hostile_strings_round_trip)
{
    fake_t *f = fake_start();
    ns_chsink_t *s = sink(f, 100, 1u << 20);
    const char *agent = "ev\"il\\agent\n\r\t\x01\x1f caf\xc3\xa9 ' ` ;DROP TABLE x";
    const char *series = "service:\"q\"\\\n\x02\xe2\x82\xac";
    ns_flow_rec_t r = rec(1);
    ns_store_meta_t m = meta(agent);
    ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    ns_store_point_t p = {.start_s = 1733370060,
                          .bytes = (1ull << 62) + 1, /* exact past doubles' 2^53 */
                          .pkts = 2,
                          .new_flows = 3,
                          .ended_flows = 4,
                          .active_max = 5,
                          .rtt_sum_us = 6,
                          .rtt_n = 7,
                          .retrans = 8};
    ck_assert_int_eq(ns_chsink_put_rollup(s, series, &p), NS_OK);
    ck_assert(ns_chsink_flush(s, 5000));
    json_t *rows = accepted_rows(f, "flows");
    ck_assert_uint_eq(json_array_size(rows), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "agent")), agent);
    json_decref(rows);
    rows = accepted_rows(f, "rollups_1m");
    ck_assert_uint_eq(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "series")), series);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "minute")), 1733370060);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "bytes")), (1ll << 62) + 1);
    const char *names[] = {"pkts",       "new_flows", "ended_flows", "active_max",
                           "rtt_sum_us", "rtt_n",     "retrans"};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(json_integer_value(json_object_get(row, names[i])), i + 2);
    ck_assert_uint_eq(json_object_size(row), 10);
    json_decref(rows);
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.rollups_sent, 1);
    ns_chsink_destroy(&s);
    fake_stop(&f);
}
END_TEST

START_TEST(retry_after_500_creates_the_schema_again)
{
    fake_t *f = fake_start();
    fake_set(f, 2, false);
    ns_chsink_t *s = sink(f, 100, 1u << 20);
    ns_store_meta_t m = meta("a");
    for (unsigned i = 0; i < 5; i++) {
        ns_flow_rec_t r = rec(i);
        ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    }
    ck_assert(ns_chsink_flush(s, 5000));
    json_t *rows = accepted_rows(f, "flows");
    ck_assert_uint_eq(json_array_size(rows), 5); /* once each, in order */
    for (unsigned i = 0; i < 5; i++) {
        char uid[16];
        snprintf(uid, sizeof(uid), "C%05u", i);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i), "uid")), uid);
    }
    json_decref(rows);
    /* the schema before the first INSERT and again before each retry */
    ck_assert_uint_eq(count_requests(f, "CREATE DATABASE"), 3);
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.failures, 2);
    ck_assert_uint_eq(st.retries, 2);
    ck_assert_uint_eq(st.flows_sent, 5);
    ck_assert_uint_eq(st.batches_sent, 1);
    ck_assert(st.connected);
    ns_chsink_destroy(&s);
    fake_stop(&f);
}
END_TEST

START_TEST(full_queue_refuses_the_newest)
{
    fake_t *f = fake_start();
    fake_set(f, 1000000, false); /* ClickHouse refuses everything for now */
    ns_chsink_t *s = sink(f, 1000, 64u * 1024u);
    ns_store_meta_t m = meta("a");
    unsigned ok = 0, full = 0;
    for (unsigned i = 0; i < 300; i++) {
        ns_flow_rec_t r = rec(i);
        ns_err_t e = ns_chsink_put_flow(s, &r, &m);
        ck_assert(e == NS_OK || e == NS_EFULL);
        if (e == NS_OK) {
            ck_assert_uint_eq(full, 0); /* nothing fits again once full: no interleaving */
            ok++;
        } else {
            full++;
        }
    }
    /* 7/8 of 64 KiB for flows; a row is well over 600 bytes */
    ck_assert_uint_gt(ok, 10);
    ck_assert_uint_lt(ok, 64u * 1024u / 600u);
    ck_assert_uint_gt(full, 0);
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.drops, full);
    ck_assert_uint_eq(st.flows_queued, ok);
    ck_assert_uint_le(st.queue_bytes, 64u * 1024u - 64u * 1024u / 8u);
    ck_assert_uint_eq(st.queue_rows, ok);
    ck_assert(!ns_chsink_flush(s, 200)); /* refused: the rows stay */
    ns_chsink_stats(s, &st);
    ck_assert_uint_gt(st.failures, 0);
    ck_assert_uint_eq(st.queue_rows, ok);
    /* ClickHouse is back: the oldest rows, all of them, in order */
    fake_set(f, 0, false);
    ck_assert(ns_chsink_flush(s, 5000));
    json_t *rows = accepted_rows(f, "flows");
    ck_assert_uint_eq(json_array_size(rows), ok);
    for (unsigned i = 0; i < ok; i++) {
        char uid[16];
        snprintf(uid, sizeof(uid), "C%05u", i);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i), "uid")), uid);
    }
    json_decref(rows);
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.flows_sent, ok);
    ck_assert_uint_eq(st.queue_bytes, 0);
    /* the roll-up queue has its own eighth */
    ns_store_point_t p = {.start_s = 60};
    ck_assert_int_eq(ns_chsink_put_rollup(s, "all", &p), NS_OK);
    ns_chsink_destroy(&s);
    fake_stop(&f);
}
END_TEST

START_TEST(silent_server_times_out)
{
    fake_t *f = fake_start();
    fake_set(f, 0, true);
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
    ns_chsink_opts_t o;
    ns_chsink_opts_default(&o);
    o.url = url;
    o.timeout_ms = 150;
    o.retry_min_ms = 5;
    o.retry_max_ms = 10;
    ns_chsink_t *s = ns_chsink_new(&o, err, sizeof(err));
    ck_assert_ptr_nonnull(s);
    ns_flow_rec_t r = rec(1);
    ns_store_meta_t m = meta("a");
    ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    ck_assert(!ns_chsink_flush(s, 600)); /* nothing answers */
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    ck_assert_uint_ge(st.failures, 2);
    ck_assert_uint_le(st.failures, 5); /* each failure waited for its timeout */
    ck_assert(!st.connected);
    fake_set(f, 0, false);
    ck_assert(ns_chsink_flush(s, 5000));
    ns_chsink_stats(s, &st);
    ck_assert_uint_eq(st.flows_sent, 1);
    ns_chsink_destroy(&s);
    fake_stop(&f);
}
END_TEST

START_TEST(destroy_sends_what_is_queued)
{
    fake_t *f = fake_start();
    ns_chsink_t *s = sink(f, 1000, 1u << 20); /* batch_ms 60 s: only destroy sends */
    ns_store_meta_t m = meta("a");
    for (unsigned i = 0; i < 4; i++) {
        ns_flow_rec_t r = rec(i);
        ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    }
    ns_store_point_t p = {.start_s = 120, .bytes = 9};
    ns_chsink_on_rollup(s, "all", &p);
    ns_chsink_destroy(&s);
    ck_assert_ptr_null(s);
    json_t *rows = accepted_rows(f, "flows");
    ck_assert_uint_eq(json_array_size(rows), 4);
    json_decref(rows);
    rows = accepted_rows(f, "rollups_1m");
    ck_assert_uint_eq(json_array_size(rows), 1);
    json_decref(rows);
    fake_stop(&f);
}
END_TEST

START_TEST(destroy_gives_up_after_flush_ms)
{
    fake_t *f = fake_start();
    fake_set(f, 1000000, false);
    ns_chsink_t *s = sink(f, 1000, 1u << 20); /* flush_ms 2000 */
    ns_flow_rec_t r = rec(1);
    ns_store_meta_t m = meta("a");
    ck_assert_int_eq(ns_chsink_put_flow(s, &r, &m), NS_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ns_chsink_destroy(&s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(took >= 1.9 && took < 4.5, "destroy took %.2f s", took);
    ck_assert_uint_gt(count_requests(f, "CREATE DATABASE"), 2); /* it kept trying meanwhile */
    fake_stop(&f);
}
END_TEST

static Suite *
chsink_suite(void)
{
    Suite *s = suite_create("chsink");
    TCase *tc = tcase_create("lifecycle");
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, refuses_updates_and_long_series);
    tcase_add_test(tc, destroy_sends_what_is_queued);
    tcase_add_test(tc, destroy_gives_up_after_flush_ms);
    suite_add_tcase(s, tc);
    tc = tcase_create("valid");
    tcase_add_test(tc, schema_names_are_netscope_flows_names);
    tcase_add_test(tc, schema_in_readme);
    tcase_add_test(tc, schema_first_then_full_batches);
    tcase_add_test(tc, hostile_strings_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("failures");
    tcase_add_test(tc, retry_after_500_creates_the_schema_again);
    tcase_add_test(tc, full_queue_refuses_the_newest);
    tcase_add_test(tc, silent_server_times_out);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(chsink_suite)

/* bench_codec.c - wire codec cost: flow records encoded into batches and decoded back.
 *
 *   bench_codec [-n RECORDS] [-r ROUNDS] [-c CAP_BYTES] [--plain] [--generic]
 *
 * A deterministic set of RECORDS (default 200000) typical flow updates is encoded with the
 * batch builder into batches of at most CAP_BYTES (default NS_CODEC_DEFAULT_MAX_MSG), as an
 * agent's exporter does, then every batch is decoded, as the collector's ingest does. Each of
 * ROUNDS rounds (default 7, after one untimed warm-up) times both passes with CLOCK_MONOTONIC
 * and with the thread's CPU clock; the medians are reported as records per second and
 * nanoseconds per record, with the wire bytes per record and the decode arena's peak use per
 * wire byte (what opts.arena_bytes must allow).
 *
 * The mix: 70% TCP flows (live conn_state and history, handshake RTTs, retransmission
 * counters), 20% UDP DNS flows carrying one transaction with two answers, 10% TCP HTTP flows
 * carrying one transaction (with export, a record carries only the transactions completed
 * since the flow's previous record, so most carry none). --plain drops the transactions.
 * --generic packs and unpacks with protobuf-c's generic code instead of the codec's own batch
 * writer and reader.
 *
 * Design: like bench_decode, many short rounds and the median, because the machine is shared;
 * the decoded records feed a checksum written to a volatile so no work can be dropped.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netscope/codec.h"

#define MAX_ROUNDS 101
#define T0 1700000000000000000ull

static volatile uint64_t g_sink;

/* ---- the workload ------------------------------------------------------------------------ */

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct {
    ns_flow_rec_t *recs;
    ns_app_http_tx_t *http;
    ns_app_dns_tx_t *dns;
    ns_dns_answer_t *answers;
    uint32_t n;
} workload_t;

static void
make_uid(char *uid, uint64_t *s)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uid[0] = 'C';
    for (unsigned i = 1; i < NS_FLOW_UID_LEN; i++)
        uid[i] = b62[rnd(s) % 62];
    uid[NS_FLOW_UID_LEN] = '\0';
}

static void
fill_tcp(ns_flow_rec_t *r, uint64_t *s)
{
    static const char *const states[] = {"S1", "SF", "S0", "RSTO", "OTH"};
    static const char *const hist[] = {"ShADad", "ShADadFf", "S", "ShADadR", "Dd"};
    unsigned k = (unsigned)(rnd(s) % 5);
    r->proto = 6;
    r->is_tcp = true;
    strcpy(r->conn_state, states[k]);
    strcpy(r->history, hist[k]);
    r->tcp_flags[0] = 0x1b;
    r->tcp_flags[1] = 0x1a;
    r->syn[0] = 1;
    r->syn[1] = 1;
    r->fin[0] = k == 1;
    r->fin[1] = k == 1;
    r->tcp_state[0] = NS_TCP_EP_ESTABLISHED;
    r->tcp_state[1] = NS_TCP_EP_ESTABLISHED;
    r->hs = NS_FLOW_REC_HS_TOTAL | NS_FLOW_REC_HS_SERVER | NS_FLOW_REC_HS_CLIENT;
    r->rtt_hs_server_ns = 200000 + rnd(s) % 50000000;
    r->rtt_hs_client_ns = 50000 + rnd(s) % 1000000;
    r->rtt_hs_ns = r->rtt_hs_server_ns + r->rtt_hs_client_ns;
    r->rtt_n = (uint32_t)(rnd(s) % 200);
    r->rtt_min_us = (uint32_t)(r->rtt_hs_ns / 1000);
    r->rtt_mean_us = r->rtt_min_us + 100;
    r->rtt_max_us = r->rtt_mean_us + 2000;
    r->rtt_last_us = r->rtt_mean_us;
    r->retrans[0] = (uint32_t)(rnd(s) % 4);
    r->dup_ack[1] = (uint32_t)(rnd(s) % 3);
}

static void
fill_common(ns_flow_rec_t *r, uint64_t *s, uint32_t i)
{
    make_uid(r->uid, s);
    r->ip_ver = rnd(s) % 5 == 0 ? 6 : 4;
    for (unsigned b = 0; b < (r->ip_ver == 4 ? 4u : 16u); b++) {
        r->orig_h.b[b] = (uint8_t)rnd(s);
        r->resp_h.b[b] = (uint8_t)rnd(s);
    }
    r->orig_p = (uint16_t)(32768 + rnd(s) % 28000);
    r->kind = i % 10 == 0 ? NS_FLOW_REC_FINAL : NS_FLOW_REC_UPDATE;
    r->end_reason = r->kind == NS_FLOW_REC_FINAL ? NS_FLOW_END_FIN : NS_FLOW_END_NONE;
    strcpy(r->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    r->community_id[2 + rnd(s) % 27] = 'x';
    r->first_ns = T0 + rnd(s) % 1000000000000ull;
    r->last_ns = r->first_ns + rnd(s) % 60000000000ull;
    r->emit_ns = r->last_ns + rnd(s) % 250000000ull;
    r->pkts[0] = 1 + rnd(s) % 2000;
    r->pkts[1] = rnd(s) % 3000;
    r->ip_bytes[0] = r->pkts[0] * (40 + rnd(s) % 800);
    r->ip_bytes[1] = r->pkts[1] * (40 + rnd(s) % 1400);
    r->wire_bytes[0] = r->ip_bytes[0] + 14 * r->pkts[0];
    r->wire_bytes[1] = r->ip_bytes[1] + 14 * r->pkts[1];
    r->payload_bytes[0] = r->ip_bytes[0] / 2;
    r->payload_bytes[1] = r->ip_bytes[1] / 2;
    r->app_bytes[0] = r->payload_bytes[0];
    r->app_bytes[1] = r->payload_bytes[1];
    r->bps = (double)(rnd(s) % 100000000) / 3.0;
    r->pps = (double)(rnd(s) % 100000) / 7.0;
}

static bool
make_workload(workload_t *w, uint32_t n, bool plain, uint64_t seed)
{
    w->n = n;
    w->recs = calloc(n, sizeof(*w->recs));
    w->http = calloc(n, sizeof(*w->http));
    w->dns = calloc(n, sizeof(*w->dns));
    w->answers = calloc((size_t)n * 2, sizeof(*w->answers));
    if (!w->recs || !w->http || !w->dns || !w->answers)
        return false;
    uint64_t s = seed | 1;
    for (uint32_t i = 0; i < n; i++) {
        ns_flow_rec_t *r = &w->recs[i];
        fill_common(r, &s, i);
        unsigned kind = (unsigned)(rnd(&s) % 10);
        if (kind < 7) { /* plain TCP */
            fill_tcp(r, &s);
            r->resp_p = (uint16_t)(rnd(&s) % 2 ? 443 : 22);
        } else if (kind < 9) { /* DNS over UDP */
            r->proto = 17;
            r->resp_p = 53;
            strcpy(r->service, "dns");
            strcpy(r->conn_state, "SF");
            strcpy(r->history, "Dd");
            r->dns_total = 1;
            if (!plain) {
                ns_dns_answer_t *a = &w->answers[2 * i];
                a[0] = (ns_dns_answer_t){.type = 5, .rclass = 1, .ttl = 300, .data_len = 20};
                memcpy(a[0].data, "cdn.edge.example.net", 20);
                a[1] = (ns_dns_answer_t){.type = 1, .rclass = 1, .ttl = 60, .data_len = 4};
                memcpy(a[1].data, &r->resp_h, 4);
                w->dns[i] = (ns_app_dns_tx_t){
                    .id = (uint16_t)rnd(&s),
                    .qname = "www.example.com",
                    .qtype = 1,
                    .has_query = true,
                    .answered = true,
                    .n_answers = 2,
                    .ancount = 2,
                    .answers = a,
                    .query_ts_ns = r->first_ns,
                    .resp_ts_ns = r->last_ns,
                    .latency_ns = (int64_t)(r->last_ns - r->first_ns),
                };
                r->dns = &w->dns[i];
                r->n_dns = 1;
            }
        } else { /* HTTP */
            fill_tcp(r, &s);
            r->resp_p = 80;
            strcpy(r->service, "http");
            r->http_total = 1;
            if (!plain) {
                w->http[i] = (ns_app_http_tx_t){
                    .seq = 1,
                    .method = "GET",
                    .host = "www.example.com",
                    .uri = "/static/js/app.3f2a9c.js",
                    .user_agent = "Mozilla/5.0 (X11)",
                    .has_request = true,
                    .has_response = true,
                    .status = 200,
                    .resp_body_len = rnd(&s) % 100000,
                    .req_ts_ns = r->first_ns,
                    .resp_ts_ns = r->first_ns + 30000000,
                    .latency_ns = 30000000,
                };
                r->http = &w->http[i];
                r->n_http = 1;
            }
        }
    }
    return true;
}

/* ---- timing ------------------------------------------------------------------------------ */

static double
clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* ---- the two passes ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *buf; /* all batches back to back */
    size_t *off;  /* batch i is buf[off[i], off[i + 1]) */
    size_t n_batches, max_batches;
    size_t cap;
} batches_t;

/* Encode every record into batches of at most b->cap bytes. Returns false on an error. */
static bool
encode_all(ns_codec_t *c, const workload_t *w, batches_t *b)
{
    size_t at = 0;
    b->n_batches = 0;
    uint32_t i = 0;
    while (i < w->n) {
        if (b->n_batches == b->max_batches)
            return false;
        b->off[b->n_batches] = at;
        if (ns_codec_batch_begin(c, b->buf + at, b->cap, b->n_batches + 1, T0) != NS_OK)
            return false;
        ns_err_t err = NS_OK;
        while (i < w->n && (err = ns_codec_batch_add(c, &w->recs[i])) == NS_OK)
            i++;
        if (err == NS_EINVAL) {
            fprintf(stderr, "bench_codec: record %u refused: %s\n", i, ns_codec_error(c));
            return false;
        }
        at += ns_codec_batch_finish(c);
        b->n_batches++;
    }
    b->off[b->n_batches] = at;
    return true;
}

static bool
decode_all(ns_codec_t *c, const batches_t *b, uint64_t *records)
{
    uint64_t sum = 0, n = 0;
    for (size_t k = 0; k < b->n_batches; k++) {
        const ns_msg_t *m;
        if (ns_codec_decode_agent(c, b->buf + b->off[k], b->off[k + 1] - b->off[k], &m) !=
            NS_CODEC_OK) {
            fprintf(stderr, "bench_codec: batch %zu rejected: %s\n", k, ns_codec_error(c));
            return false;
        }
        for (uint32_t i = 0; i < m->u.batch.n_recs; i++)
            sum += m->u.batch.recs[i].pkts[0] + m->u.batch.recs[i].n_http;
        n += m->u.batch.n_recs;
    }
    g_sink += sum;
    *records = n;
    return true;
}

int
main(int argc, char **argv)
{
    uint32_t n = 200000;
    int rounds = 7;
    size_t cap = NS_CODEC_DEFAULT_MAX_MSG;
    bool plain = false, generic = false;
    static const struct option longopts[] = {
        {"plain", no_argument, NULL, 'p'}, {"generic", no_argument, NULL, 'g'}, {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "n:r:c:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            n = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'c':
            cap = strtoul(optarg, NULL, 10);
            break;
        case 'p':
            plain = true;
            break;
        case 'g':
            generic = true;
            break;
        default:
            fprintf(stderr, "usage: bench_codec [-n RECORDS] [-r ROUNDS] [-c CAP] [--plain] "
                            "[--generic]\n");
            return 2;
        }
    }
    if (n == 0 || rounds < 1 || rounds > MAX_ROUNDS || cap <= NS_CODEC_BATCH_OVERHEAD ||
        cap > NS_CODEC_MAX_MSG_LIMIT) {
        fprintf(stderr, "bench_codec: -n >= 1, -r 1..%d, -c %u..%u\n", MAX_ROUNDS,
                NS_CODEC_BATCH_OVERHEAD + 1, NS_CODEC_MAX_MSG_LIMIT);
        return 2;
    }

    workload_t w;
    batches_t b = {.cap = cap};
    /* Batches hold at least one record each, and no batch passes the cap. */
    b.max_batches = n + 1;
    b.off = calloc(b.max_batches + 1, sizeof(*b.off));
    b.buf = malloc((size_t)n * 2048 + cap);
    ns_codec_opts_t o = {(uint32_t)cap, 0, generic};
    char err[256];
    ns_codec_t *c = ns_codec_new(&o, err, sizeof(err));
    if (c == NULL || b.off == NULL || b.buf == NULL || !make_workload(&w, n, plain, 1)) {
        fprintf(stderr, "bench_codec: %s\n", c == NULL ? err : "out of memory");
        return 1;
    }

    double enc_wall[MAX_ROUNDS], enc_cpu[MAX_ROUNDS], dec_wall[MAX_ROUNDS], dec_cpu[MAX_ROUNDS];
    uint64_t decoded = 0;
    for (int r = -1; r < rounds; r++) {
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (!encode_all(c, &w, &b))
            return 1;
        double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (!decode_all(c, &b, &decoded) || decoded != n)
            return 1;
        double w2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (r < 0)
            continue; /* warm-up */
        enc_wall[r] = (w1 - w0) / n * 1e9;
        enc_cpu[r] = (c1 - c0) / n * 1e9;
        dec_wall[r] = (w2 - w1) / n * 1e9;
        dec_cpu[r] = (c2 - c1) / n * 1e9;
    }
    size_t bytes = b.off[b.n_batches], largest = 0;
    for (size_t k = 0; k < b.n_batches; k++)
        if (b.off[k + 1] - b.off[k] > largest)
            largest = b.off[k + 1] - b.off[k];
    double ew = median(enc_wall, rounds), ec = median(enc_cpu, rounds);
    double dw = median(dec_wall, rounds), dc = median(dec_cpu, rounds);
    const ns_codec_stats_t *st = ns_codec_stats(c);
    printf("records=%u mix=%s reader=%s batches=%zu cap=%zu rounds=%d\n", n,
           plain ? "plain" : "with-tx", generic ? "protobuf-c" : "batch-reader", b.n_batches, cap,
           rounds);
    printf("bytes_per_record=%.1f arena_peak_per_wire_byte=%.1f\n", (double)bytes / n,
           (double)st->arena_peak / (double)largest);
    printf("encode_ns_per_record=%.0f (cpu %.0f) encode_records_per_s=%.0f\n", ew, ec, 1e9 / ew);
    printf("decode_ns_per_record=%.0f (cpu %.0f) decode_records_per_s=%.0f\n", dw, dc, 1e9 / dw);
    ns_codec_destroy(&c);
    free(b.off);
    free(b.buf);
    free(w.recs);
    free(w.http);
    free(w.dns);
    free(w.answers);
    return 0;
}

/* bench_ingest.c - collector ingest load: agents speaking the real protocol, as fast as
 * acknowledgements allow.
 *
 *   bench_ingest --endpoint EP --server-key COLLECTOR.key --key A.key_secret [--key ...]
 *                [--pid COLLECTOR_PID] [-s SECONDS] [-b RECORDS_PER_BATCH] [-w WINDOW]
 *                [-f FLOWS] [-u UPDATES_PER_FLOW] [--insecure]
 *
 * One thread per --key: an agent identity (its own DEALER link, CURVE with that key, which
 * the collector must allow) that says Hello and then sends FlowBatch messages, keeping at
 * most WINDOW (default 64, the agent's export.window) unacknowledged, for SECONDS (default
 * 10); then it waits until the collector has acknowledged every batch. Each batch holds
 * RECORDS_PER_BATCH (default 500) records built with the codec's batch builder, as the
 * agent's exporter sends them.
 *
 * The records are a live flow table's exports: each agent keeps FLOWS (default 20000) flows
 * and walks them round robin; every visit is an update with grown counters and a new
 * last_ns, and a flow's last visit (after about UPDATES_PER_FLOW updates, default 9, so one
 * record in ten is final) is its final record, after which a new flow (new uid and port)
 * takes its place. 70% of flows are TCP, 20% DNS over UDP (the first record carries the one
 * transaction, with two answers), 10% HTTP (one transaction every fourth record). Times are
 * CLOCK_REALTIME, as an agent on the collector's host would stamp them.
 *
 * Measured between the moment every agent has said Hello and the last acknowledgement: wall
 * time, this process's CPU time (getrusage) and, with --pid, the collector's CPU time from
 * /proc/PID/stat (utime + stime, every thread, libzmq's I/O thread included, in clock ticks).
 * The result is one line of key=value pairs on standard output:
 *   ingest agents=4 seconds=10.01 batches=... records=... finals=... rate=... cpu_s=...
 *          cpu_user_s=... cpu_sys_s=... per_core=... self_cpu_s=... records_per_batch=...
 *          window=...
 * where records counts the records of acknowledged batches, rate is records per wall
 * second, cpu_s the collector's CPU seconds (user + system) and per_core records per second
 * of collector CPU.
 * Exit status 0, or 1 when an agent failed (no connection, batches never acknowledged).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "netscope/codec.h"
#include "netscope/transport.h"

#define MAX_AGENTS 64
#define BATCH_CAP (1024u * 1024u) /* the agent's export.batch_kb default */
#define CONNECT_TIMEOUT_S 10
#define DRAIN_TIMEOUT_S 30
#define RECV_WAIT_MS 10
#define NS_PER_S 1000000000ull

typedef struct {
    const char *endpoint;
    const char *server_key;
    const char *keys[MAX_AGENTS];
    uint32_t n_agents;
    int pid;
    double seconds;
    uint32_t per_batch;
    uint32_t window;
    uint32_t flows;
    uint32_t updates_per_flow;
    bool insecure;
} opts_t;

/* ---- time and CPU -------------------------------------------------------------------------- */

static uint64_t
clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The CPU time of process `pid` (every thread), user and system, in seconds, from
 * /proc/PID/stat; false when it cannot be read. The command name (field 2) may hold spaces
 * and parentheses: fields are counted from the last ')'. */
static bool
proc_cpu_s(int pid, double *user, double *sys)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    /* after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime(14) stime(15) */
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                            &stime) != 2)
        return false;
    double tick = (double)sysconf(_SC_CLK_TCK);
    *user = (double)utime / tick;
    *sys = (double)stime / tick;
    return true;
}

static double
self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* ---- the flows an agent exports ------------------------------------------------------------ */

typedef enum { FLOW_TCP, FLOW_DNS, FLOW_HTTP } flow_type_t;

typedef struct {
    ns_flow_rec_t rec; /* identity and counters; kind, times and transactions set per record */
    flow_type_t type;
    uint32_t visits, life; /* records sent so far; the last one is final */
} flow_t;

typedef struct {
    uint32_t index;
    uint64_t rnd;
    uint64_t next_uid;
    flow_t *flows;
    uint32_t n_flows, next;
    uint32_t updates_per_flow;
    /* the one transaction a record may carry (strings are static) */
    ns_app_http_tx_t http;
    ns_app_dns_tx_t dns;
    ns_dns_answer_t answers[2];
} table_t;

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A uid, as the agent's engine writes them: "C" and 17 base-62 digits, unique per agent. */
static void
uid_of(char *out, uint32_t agent, uint64_t n)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t v = n * 1000003u + agent;
    out[0] = 'C';
    for (unsigned i = NS_FLOW_UID_LEN - 1; i >= 1; i--) {
        out[i] = digits[v % 62];
        v /= 62;
    }
    out[NS_FLOW_UID_LEN] = '\0';
}

/* Start a new flow in slot `f`: a new uid and source port, counters at zero. */
static void
flow_start(table_t *t, flow_t *f, uint64_t now)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ns_flow_rec_t *r = &f->rec;
    memset(r, 0, sizeof(*r));
    uid_of(r->uid, t->index, t->next_uid++);
    uint64_t x = rnd(&t->rnd);
    unsigned kind = (unsigned)(x % 10);
    f->type = kind < 7 ? FLOW_TCP : kind < 9 ? FLOW_DNS : FLOW_HTTP;
    r->ip_ver = 4;
    /* the agent's own address 10.<agent>.0.1 talks to servers in 198.18.0.0/15 */
    r->orig_h.b[0] = 10;
    r->orig_h.b[1] = (uint8_t)t->index;
    r->orig_h.b[3] = 1;
    r->resp_h.b[0] = 198;
    r->resp_h.b[1] = (uint8_t)(18 + (x >> 8) % 2);
    r->resp_h.b[2] = (uint8_t)(x >> 16);
    r->resp_h.b[3] = (uint8_t)(x >> 24);
    r->orig_p = (uint16_t)(1024 + (x >> 32) % 64000);
    r->proto = f->type == FLOW_DNS ? 17 : 6;
    r->resp_p = f->type == FLOW_DNS ? 53 : f->type == FLOW_HTTP ? 80 : 443;
    r->is_tcp = f->type != FLOW_DNS;
    if (f->type != FLOW_TCP)
        strcpy(r->service, f->type == FLOW_DNS ? "dns" : "http");
    r->community_id[0] = '1';
    r->community_id[1] = ':';
    uint64_t h = rnd(&t->rnd);
    for (unsigned i = 2; i < 29; i++, h = h * 6364136223846793005ull + 1442695040888963407ull)
        r->community_id[i] = b64[h >> 58];
    r->community_id[29] = '=';
    r->first_ns = now;
    f->visits = 0;
    f->life = 1 + (uint32_t)(rnd(&t->rnd) % (2u * t->updates_per_flow + 1u));
}

static bool
table_init(table_t *t, uint32_t index, uint32_t n_flows, uint32_t updates_per_flow)
{
    memset(t, 0, sizeof(*t));
    t->index = index;
    t->rnd = 0x9e3779b97f4a7c15ull ^ ((uint64_t)index << 32 | 1u);
    t->updates_per_flow = updates_per_flow;
    t->n_flows = n_flows;
    t->flows = calloc(n_flows, sizeof(*t->flows));
    if (t->flows == NULL)
        return false;
    uint64_t now = clock_ns(CLOCK_REALTIME);
    for (uint32_t i = 0; i < n_flows; i++)
        flow_start(t, &t->flows[i], now);
    t->answers[0] = (ns_dns_answer_t){.type = 5, .rclass = 1, .ttl = 300, .data_len = 20};
    memcpy(t->answers[0].data, "edge.cdn.example.net", 20);
    t->answers[1] = (ns_dns_answer_t){.type = 1, .rclass = 1, .ttl = 60, .data_len = 4};
    return true;
}

/* Grow the flow's counters as one export interval of traffic would, and set its state. */
static void
flow_advance(table_t *t, flow_t *f, uint64_t now, bool final)
{
    ns_flow_rec_t *r = &f->rec;
    uint64_t x = rnd(&t->rnd);
    uint64_t out = 1 + x % 16, in = f->type == FLOW_DNS ? 1 : 1 + (x >> 8) % 24;
    r->pkts[0] += out;
    r->pkts[1] += in;
    r->ip_bytes[0] += out * (52 + (x >> 16) % 400);
    r->ip_bytes[1] += in * (52 + (x >> 24) % 1400);
    for (int d = 0; d < 2; d++) {
        r->wire_bytes[d] = r->ip_bytes[d] + 14 * r->pkts[d];
        r->payload_bytes[d] = r->ip_bytes[d] - (f->type == FLOW_DNS ? 28 : 52) * r->pkts[d];
        r->app_bytes[d] = r->payload_bytes[d];
    }
    r->last_ns = now;
    r->emit_ns = now;
    r->bps = (double)(r->ip_bytes[0] + r->ip_bytes[1]) * 8.0 / 4.0;
    r->pps = (double)(out + in) * 4.0;
    r->kind = final ? NS_FLOW_REC_FINAL : NS_FLOW_REC_UPDATE;
    r->end_reason =
        final ? (f->type == FLOW_DNS ? NS_FLOW_END_IDLE : NS_FLOW_END_FIN) : NS_FLOW_END_NONE;
    if (f->type == FLOW_DNS) {
        strcpy(r->conn_state, "SF");
        strcpy(r->history, "Dd");
        return;
    }
    strcpy(r->conn_state, final ? "SF" : "S1");
    strcpy(r->history, final ? "ShADadFf" : "ShADad");
    r->tcp_flags[0] = final ? 0x1b : 0x1a;
    r->tcp_flags[1] = final ? 0x1b : 0x1a;
    r->syn[0] = r->syn[1] = 1;
    r->fin[0] = r->fin[1] = final;
    r->tcp_state[0] = r->tcp_state[1] = final ? NS_TCP_EP_CLOSED : NS_TCP_EP_ESTABLISHED;
    r->hs = NS_FLOW_REC_HS_TOTAL | NS_FLOW_REC_HS_SERVER | NS_FLOW_REC_HS_CLIENT;
    r->rtt_hs_server_ns = 800000 + x % 20000000;
    r->rtt_hs_client_ns = 60000 + (x >> 20) % 500000;
    r->rtt_hs_ns = r->rtt_hs_server_ns + r->rtt_hs_client_ns;
    r->rtt_n += (uint32_t)out;
    r->rtt_min_us = (uint32_t)(r->rtt_hs_ns / 1000);
    r->rtt_mean_us = r->rtt_min_us + 150;
    r->rtt_max_us = r->rtt_mean_us + 3000;
    r->rtt_last_us = r->rtt_mean_us;
    r->retrans[0] += (x >> 40) % 8 == 0;
    r->dup_ack[1] += (x >> 44) % 8 == 0;
}

/* Attach the transaction this record carries, if any (it travels once). */
static void
flow_transactions(table_t *t, flow_t *f)
{
    ns_flow_rec_t *r = &f->rec;
    r->n_http = r->n_dns = 0;
    r->http = NULL;
    r->dns = NULL;
    if (f->type == FLOW_DNS && f->visits == 0) {
        memcpy(t->answers[1].data, &r->resp_h, 4);
        t->dns = (ns_app_dns_tx_t){.id = (uint16_t)r->orig_p,
                                   .qname = "www.example.com",
                                   .qtype = 1,
                                   .has_query = true,
                                   .answered = true,
                                   .ancount = 2,
                                   .n_answers = 2,
                                   .answers = t->answers,
                                   .query_ts_ns = r->first_ns,
                                   .resp_ts_ns = r->last_ns,
                                   .latency_ns = (int64_t)(r->last_ns - r->first_ns)};
        r->dns = &t->dns;
        r->n_dns = 1;
        r->dns_total = 1;
    } else if (f->type == FLOW_HTTP && f->visits % 4 == 0) {
        r->http_total++;
        t->http = (ns_app_http_tx_t){.seq = r->http_total,
                                     .method = "GET",
                                     .host = "www.example.com",
                                     .uri = "/assets/app.js",
                                     .user_agent = "Mozilla/5.0 (X11; Linux x86_64)",
                                     .has_request = true,
                                     .has_response = true,
                                     .status = 200,
                                     .resp_body_len = 20000 + r->pkts[1],
                                     .req_ts_ns = r->last_ns,
                                     .resp_ts_ns = r->last_ns,
                                     .latency_ns = 0};
        r->http = &t->http;
        r->n_http = 1;
    }
}

/* The next record of the table (the flow is advanced; a final one's slot starts a new flow
 * at the next visit). */
static const ns_flow_rec_t *
table_next(table_t *t, uint64_t now, bool *final)
{
    flow_t *f = &t->flows[t->next];
    t->next = (t->next + 1) % t->n_flows;
    if (f->visits >= f->life)
        flow_start(t, f, now);
    *final = f->visits + 1 >= f->life;
    flow_advance(t, f, now, *final);
    flow_transactions(t, f);
    f->visits++;
    return &f->rec;
}

/* ---- one agent ----------------------------------------------------------------------------- */

typedef struct {
    const opts_t *o;
    uint32_t index;
    char id[32];
    ns_link_t *link;
    ns_codec_t *codec;
    table_t table;
    uint8_t *buf;
    uint64_t seq, acked;
    uint64_t records, finals, batches;
    uint64_t *batch_recs; /* records of batch seq (ring of WINDOW + 1), counted when acked */
    uint64_t *batch_finals;
    uint64_t recs_acked, finals_acked;
    const char *error;
    pthread_t thread;
} agent_t;

static atomic_int g_ready, g_go, g_done;

/* Wait for the CURVE session, then say Hello (with the clock of the moment it leaves). */
static bool
send_hello(agent_t *a)
{
    uint64_t give_up = clock_ns(CLOCK_MONOTONIC) + CONNECT_TIMEOUT_S * NS_PER_S;
    ns_link_stats_t ls;
    for (ns_link_stats(a->link, &ls); !ls.connected; ns_link_stats(a->link, &ls)) {
        if (clock_ns(CLOCK_MONOTONIC) > give_up)
            return false;
        ns_link_msg_t msg;
        (void)ns_link_recv(a->link, &msg, RECV_WAIT_MS); /* lets the handshake go on */
    }
    char host[64];
    snprintf(host, sizeof(host), "bench-ingest-%u", a->index);
    ns_msg_ifaddr_t addr = {.ip_ver = 4, .prefix_len = 32};
    addr.addr.b[0] = 10;
    addr.addr.b[1] = (uint8_t)a->index;
    addr.addr.b[3] = 1;
    ns_msg_iface_t iface = {.index = 0,
                            .name = "bench0",
                            .link_type = 1,
                            .snaplen = 262144,
                            .addrs = &addr,
                            .n_addrs = 1};
    uint64_t now = clock_ns(CLOCK_REALTIME);
    ns_msg_t m = {.type = NS_MSG_HELLO};
    m.u.hello = (ns_msg_hello_t){.agent_id = a->id,
                                 .hostname = host,
                                 .agent_version = "bench",
                                 .clock_ns = now,
                                 .start_ns = now,
                                 .ifaces = &iface,
                                 .n_ifaces = 1,
                                 .export_interval_ms = 250,
                                 .bpf_filter = "",
                                 .replay_file = ""};
    size_t len;
    return ns_codec_encode(a->codec, &m, a->buf, BATCH_CAP, &len) == NS_OK &&
           ns_link_send(a->link, a->buf, len) == NS_LINK_OK;
}

/* Build the next batch into a->buf; its length. */
static size_t
build_batch(agent_t *a)
{
    uint64_t now = clock_ns(CLOCK_REALTIME);
    uint64_t seq = a->seq + 1;
    if (ns_codec_batch_begin(a->codec, a->buf, BATCH_CAP, seq, now) != NS_OK)
        return 0;
    uint64_t finals = 0;
    for (uint32_t i = 0; i < a->o->per_batch; i++) {
        bool final;
        const ns_flow_rec_t *r = table_next(&a->table, now, &final);
        if (ns_codec_batch_add(a->codec, r) != NS_OK) {
            a->error = ns_codec_error(a->codec);
            return 0;
        }
        finals += final;
    }
    size_t len = ns_codec_batch_finish(a->codec);
    uint32_t slot = (uint32_t)(seq % (a->o->window + 1u));
    a->batch_recs[slot] = a->o->per_batch;
    a->batch_finals[slot] = finals;
    return len;
}

/* Take the collector's acknowledgements (and nothing else: this agent serves no requests). */
static void
take_acks(agent_t *a, int wait_ms)
{
    ns_link_msg_t msg;
    while (ns_link_recv(a->link, &msg, wait_ms) == NS_LINK_OK) {
        const ns_msg_t *m;
        if (ns_codec_decode_collector(a->codec, msg.data, msg.len, &m) == NS_CODEC_OK &&
            m->type == NS_MSG_ACK && m->u.ack.seq > a->acked && m->u.ack.seq <= a->seq) {
            for (uint64_t s = a->acked + 1; s <= m->u.ack.seq; s++) {
                uint32_t slot = (uint32_t)(s % (a->o->window + 1u));
                a->recs_acked += a->batch_recs[slot];
                a->finals_acked += a->batch_finals[slot];
            }
            a->acked = m->u.ack.seq;
        }
        wait_ms = 0;
    }
}

static void *
agent_main(void *arg)
{
    agent_t *a = arg;
    const opts_t *o = a->o;
    if (!send_hello(a)) {
        a->error = "no session with the collector (endpoint, keys?)";
        atomic_fetch_add(&g_ready, 1);
        atomic_fetch_add(&g_done, 1);
        return NULL;
    }
    atomic_fetch_add(&g_ready, 1);
    while (!atomic_load(&g_go))
        usleep(1000);
    uint64_t end = clock_ns(CLOCK_MONOTONIC) + (uint64_t)(o->seconds * 1e9);
    size_t len = 0; /* a built batch the link did not take yet */
    while (clock_ns(CLOCK_MONOTONIC) < end && a->error == NULL) {
        while (a->seq - a->acked < o->window) {
            if (len == 0 && (len = build_batch(a)) == 0)
                break;
            if (ns_link_send(a->link, a->buf, len) != NS_LINK_OK)
                break;
            a->seq++;
            a->batches++;
            len = 0;
        }
        take_acks(a, a->seq - a->acked < o->window ? 0 : RECV_WAIT_MS);
    }
    /* a batch built but never sent is forgotten: its records are not counted */
    uint64_t give_up = clock_ns(CLOCK_MONOTONIC) + DRAIN_TIMEOUT_S * NS_PER_S;
    while (a->acked < a->seq && clock_ns(CLOCK_MONOTONIC) < give_up)
        take_acks(a, RECV_WAIT_MS);
    if (a->acked < a->seq && a->error == NULL)
        a->error = "batches not acknowledged in time";
    a->records = a->recs_acked;
    a->finals = a->finals_acked;
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

static bool
agent_open(agent_t *a, const opts_t *o, uint32_t index, const ns_key_t *server_key)
{
    char err[512];
    a->o = o;
    a->index = index;
    snprintf(a->id, sizeof(a->id), "bench-ingest-%u", index);
    ns_keypair_t kp;
    if (!o->insecure && ns_keypair_load(o->keys[index], &kp, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return false;
    }
    ns_link_opts_t lo = {.keys = o->insecure ? NULL : &kp,
                         .server_key = o->insecure ? NULL : server_key,
                         .routing_id = a->id,
                         .max_msg_bytes = BATCH_CAP};
    a->link = ns_link_dealer_new(o->endpoint, &lo, err, sizeof(err));
    if (!o->insecure)
        ns_keypair_wipe(&kp);
    if (a->link == NULL) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return false;
    }
    ns_codec_opts_t co;
    ns_codec_opts_default(&co);
    co.max_msg_bytes = BATCH_CAP;
    a->codec = ns_codec_new(&co, err, sizeof(err));
    a->buf = malloc(BATCH_CAP);
    a->batch_recs = calloc(o->window + 1u, sizeof(*a->batch_recs));
    a->batch_finals = calloc(o->window + 1u, sizeof(*a->batch_finals));
    if (a->codec == NULL || a->buf == NULL || a->batch_recs == NULL || a->batch_finals == NULL ||
        !table_init(&a->table, index, o->flows, o->updates_per_flow)) {
        fprintf(stderr, "bench_ingest: out of memory\n");
        return false;
    }
    return true;
}

static void
agent_close(agent_t *a)
{
    ns_link_destroy(&a->link);
    ns_codec_destroy(&a->codec);
    free(a->buf);
    free(a->batch_recs);
    free(a->batch_finals);
    free(a->table.flows);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_ingest --endpoint EP --server-key COLLECTOR.key --key A.key_secret\n"
            "                    [--key ...] [--pid COLLECTOR_PID] [-s SECONDS]\n"
            "                    [-b RECORDS_PER_BATCH] [-w WINDOW] [-f FLOWS]\n"
            "                    [-u UPDATES_PER_FLOW] [--insecure]\n"
            "  (with --insecure, give --agents N instead of keys)\n");
}

static bool
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int
parse(int argc, char **argv, opts_t *o)
{
    enum { OPT_ENDPOINT = 256, OPT_SERVER_KEY, OPT_KEY, OPT_PID, OPT_INSECURE, OPT_AGENTS };
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"server-key", required_argument, NULL, OPT_SERVER_KEY},
        {"key", required_argument, NULL, OPT_KEY},
        {"pid", required_argument, NULL, OPT_PID},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"agents", required_argument, NULL, OPT_AGENTS},
        {NULL, 0, NULL, 0},
    };
    *o = (opts_t){
        .seconds = 10, .per_batch = 500, .window = 64, .flows = 20000, .updates_per_flow = 9};
    uint32_t n_insecure = 0, pid = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:b:w:f:u:", longopts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case OPT_ENDPOINT:
            o->endpoint = optarg;
            break;
        case OPT_SERVER_KEY:
            o->server_key = optarg;
            break;
        case OPT_KEY:
            ok = o->n_agents < MAX_AGENTS;
            if (ok)
                o->keys[o->n_agents++] = optarg;
            break;
        case OPT_PID:
            ok = parse_u32(optarg, 1, INT32_MAX, &pid);
            o->pid = (int)pid;
            break;
        case OPT_INSECURE:
            o->insecure = true;
            break;
        case OPT_AGENTS:
            ok = parse_u32(optarg, 1, MAX_AGENTS, &n_insecure);
            break;
        case 's':
            o->seconds = strtod(optarg, NULL);
            ok = o->seconds > 0 && o->seconds <= 3600;
            break;
        case 'b':
            ok = parse_u32(optarg, 1, NS_CODEC_MAX_RECS, &o->per_batch);
            break;
        case 'w':
            ok = parse_u32(optarg, 1, 100000, &o->window);
            break;
        case 'f':
            ok = parse_u32(optarg, 1, 10000000, &o->flows);
            break;
        case 'u':
            ok = parse_u32(optarg, 0, 100000, &o->updates_per_flow);
            break;
        default:
            usage();
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "bench_ingest: bad value '%s'\n", optarg ? optarg : "");
            return 2;
        }
    }
    if (o->insecure)
        o->n_agents = n_insecure;
    if (optind != argc || o->endpoint == NULL || o->n_agents == 0 ||
        (!o->insecure && o->server_key == NULL)) {
        usage();
        return 2;
    }
    return -1;
}

int
main(int argc, char **argv)
{
    opts_t o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    ns_key_t server_key;
    char err[512];
    if (!o.insecure && ns_key_load(o.server_key, &server_key, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return 1;
    }
    static agent_t agents[MAX_AGENTS];
    rc = 0;
    uint32_t started = 0;
    for (; started < o.n_agents; started++) {
        if (!agent_open(&agents[started], &o, started, &server_key) ||
            pthread_create(&agents[started].thread, NULL, agent_main, &agents[started]) != 0) {
            rc = 1;
            break;
        }
    }
    while (atomic_load(&g_ready) < (int)started)
        usleep(1000);
    double u0 = 0, s0 = 0, u1 = 0, s1 = 0;
    bool have_cpu = o.pid && proc_cpu_s(o.pid, &u0, &s0);
    double self0 = self_cpu_s();
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    atomic_store(&g_go, 1);
    while (atomic_load(&g_done) < (int)started)
        usleep(1000);
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    have_cpu = have_cpu && proc_cpu_s(o.pid, &u1, &s1);
    double self1 = self_cpu_s();

    uint64_t batches = 0, records = 0, finals = 0;
    for (uint32_t i = 0; i < started; i++) {
        pthread_join(agents[i].thread, NULL);
        if (agents[i].error) {
            fprintf(stderr, "bench_ingest: agent %u: %s\n", i, agents[i].error);
            rc = 1;
        }
        batches += agents[i].acked;
        records += agents[i].records;
        finals += agents[i].finals;
        agent_close(&agents[i]);
    }
    double wall = (double)(t1 - t0) * 1e-9;
    double cpu = have_cpu ? (u1 - u0) + (s1 - s0) : -1;
    printf("ingest agents=%u seconds=%.3f batches=%llu records=%llu finals=%llu rate=%.0f "
           "cpu_s=%.2f cpu_user_s=%.2f cpu_sys_s=%.2f per_core=%.0f self_cpu_s=%.2f "
           "records_per_batch=%u window=%u\n",
           started, wall, (unsigned long long)batches, (unsigned long long)records,
           (unsigned long long)finals, (double)records / wall, cpu, have_cpu ? u1 - u0 : -1,
           have_cpu ? s1 - s0 : -1, cpu > 0 ? (double)records / cpu : 0.0, self1 - self0,
           o.per_batch, o.window);
    return rc;
}

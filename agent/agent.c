/* agent.c - the agent's two threads and what passes between them (see agent.h).
 *
 * Capture thread -> exporter: `chunk_t`s through the `to_exp` queue. A chunk holds items
 * (an update or a final record as one encoded protobuf entry with its flow's uid, or a whole
 * encoded message to send as it is: replies to the collector's requests) and, once a second,
 * a snapshot of counters. The capture thread fills one chunk per export interval; when the
 * queue is full it keeps filling the same chunk (its memory grows, capture never waits).
 * Exporter -> capture thread: `ctl_t` requests through the `to_cap` queue.
 */
#include "netscope/agent.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "netscope/capture.h"
#include "netscope/codec.h"
#include "netscope/flow_key.h"
#include "netscope/log.h"
#include "netscope/outq.h"
#include "netscope/pipeline.h"
#include "netscope/pktring.h"
#include "netscope/spsc.h"
#include "netscope/transport.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define QUEUE_SLOTS 256u
#define FRAMES_PER_POLL 4096 /* frames read from one capture before looking at the others */
#define MAX_ADDRS 16
#define ENTRY_MAX (256u * 1024u) /* one encoded record, transactions included */
#define GET_PACKETS_DEFAULT 1000u
#define EXPORTER_WAIT_MS 20

enum { ITEM_UPDATE = 1, ITEM_TXN, ITEM_FINAL, ITEM_MSG };

/* ---- chunks and requests ------------------------------------------------------------------ */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
    bool last;      /* the capture side is done: no chunk follows */
    bool has_stats; /* the snapshot below is filled */
    ns_msg_iface_counters_t ifs[NS_AGENT_MAX_IFACES];
    uint32_t n_ifs;
    uint64_t flows_active, evictions;
} chunk_t;

typedef enum { CTL_SET_FILTER = 1, CTL_GET_PACKETS } ctl_type_t;

typedef struct {
    ctl_type_t type;
    uint32_t request_id;
    char *filter;               /* CTL_SET_FILTER (heap) */
    ns_msg_get_packets_t get;   /* CTL_GET_PACKETS */
} ctl_t;

static chunk_t *
chunk_new(void)
{
    return calloc(1, sizeof(chunk_t));
}

static void
chunk_free(chunk_t *c)
{
    if (c) {
        free(c->buf);
        free(c);
    }
}

static bool
chunk_reserve(chunk_t *c, size_t n)
{
    if (c->cap - c->len >= n)
        return true;
    size_t cap = c->cap ? c->cap : 64 * 1024;
    while (cap - c->len < n)
        cap *= 2;
    uint8_t *p = realloc(c->buf, cap);
    if (p == NULL) {
        c->oom = true;
        return false;
    }
    c->buf = p;
    c->cap = cap;
    return true;
}

/* Item layout: type (1), uid length (1), uid, payload length (4, host order), payload. */
static uint8_t *
chunk_item(chunk_t *c, uint8_t type, const char *uid, size_t len)
{
    size_t ul = uid ? strlen(uid) : 0;
    if (ul > 255 || !chunk_reserve(c, 6 + ul + len))
        return NULL;
    uint8_t *p = c->buf + c->len;
    p[0] = type;
    p[1] = (uint8_t)ul;
    if (ul)
        memcpy(p + 2, uid, ul);
    uint32_t l32 = (uint32_t)len;
    memcpy(p + 2 + ul, &l32, 4);
    c->len += 6 + ul + len;
    return p + 6 + ul;
}

/* ---- the agent ---------------------------------------------------------------------------- */

typedef struct {
    ns_capture_t *cap;
    char name[NS_CODEC_IFNAME_MAX + 1];
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t pkts, bytes;
    ns_capture_counters_t counters;
    ns_msg_ifaddr_t addrs[MAX_ADDRS];
    uint32_t n_addrs;
} iface_t;

struct ns_agent {
    const ns_agent_config_t *cfg;
    char id[NS_CODEC_ID_MAX + 1];
    char hostname[NS_CODEC_HOSTNAME_MAX + 1];
    uint64_t start_ns;
    bool replay;
    double replay_factor;

    /* capture thread */
    iface_t ifs[NS_AGENT_MAX_IFACES];
    uint32_t n_ifs;
    ns_pipeline_t *pipe;
    ns_pktring_t *ring;
    ns_codec_t *ccodec;
    chunk_t *cur;
    uint8_t *entry; /* ENTRY_MAX bytes: one encoded record */
    uint8_t *reply; /* batch_cap bytes: one encoded reply */
    uint64_t updates_produced, finals_produced;
    uint64_t entries_refused;

    /* exporter thread */
    ns_link_t *link;
    ns_codec_t *xcodec;
    ns_outq_t *outq;
    uint8_t *batch;
    size_t batch_cap;
    uint64_t seq;
    uint8_t *pending; /* a message that met a full link, retried first */
    size_t pending_len;
    uint64_t pending_seq;
    uint64_t batches_sent, batches_dropped;
    uint64_t sessions;
    chunk_t stats; /* the latest counter snapshot */
    bool drained;

    /* between them */
    ns_spsc_t *to_exp, *to_cap;
    atomic_bool cap_done;
    volatile sig_atomic_t stop, reload;
    pthread_t exporter;

    ns_keypair_t keys;
    ns_key_t server_key;
    ns_agent_reload_fn reloader;
    void *reloader_ud;
    char *filter_now; /* the filter in force (reloads and SetFilter change it) */
};

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- records out of the engine (capture thread) --------------------------------------------- */

static void
on_record(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    (void)eng;
    (void)idx;
    ns_agent_t *a = ud;
    bool final = rec->kind == NS_FLOW_REC_FINAL;
    size_t len;
    if (ns_codec_rec_encode(a->ccodec, rec, a->entry, ENTRY_MAX, &len) != NS_OK) {
        a->entries_refused++;
        ns_log_debug("record %s not exported: %s", rec->uid, ns_codec_error(a->ccodec));
        return;
    }
    if (final)
        a->finals_produced++;
    else
        a->updates_produced++;
    /* an update carrying transactions must not be coalesced away: they travel once */
    uint8_t type = final                              ? ITEM_FINAL
                   : rec->n_http + rec->n_dns > 0 ? ITEM_TXN
                                                      : ITEM_UPDATE;
    uint8_t *p = chunk_item(a->cur, type, rec->uid, len);
    if (p)
        memcpy(p, a->entry, len);
}

/* Hand the current chunk to the exporter when the queue takes it (else keep filling it). */
static void
hand_over(ns_agent_t *a, bool last)
{
    a->cur->last = last;
    if (a->cur->oom)
        ns_log_error("out of memory: %zu bytes of records lost", a->cur->len);
    for (;;) {
        if (ns_spsc_push(a->to_exp, a->cur)) {
            a->cur = chunk_new();
            if (a->cur == NULL) {
                ns_log_error("out of memory for the export queue");
                abort();
            }
            return;
        }
        if (!last)
            return; /* the exporter is behind: this chunk keeps growing */
        usleep(1000);
    }
}

static void
snapshot(ns_agent_t *a)
{
    chunk_t *c = a->cur;
    c->has_stats = true;
    c->n_ifs = a->n_ifs;
    for (uint32_t i = 0; i < a->n_ifs; i++) {
        iface_t *f = &a->ifs[i];
        if (!a->replay)
            (void)ns_capture_counters(f->cap, &f->counters);
        c->ifs[i] = (ns_msg_iface_counters_t){.index = i,
                                              .packets = a->replay ? f->pkts
                                                                   : f->counters.received,
                                              .bytes = f->bytes,
                                              .kernel_drops = f->counters.kernel_drops,
                                              .iface_drops = f->counters.if_drops};
    }
    const ns_flow_engine_t *eng = ns_pipeline_engine(a->pipe);
    c->flows_active = ns_flow_table_count(ns_flow_engine_table(eng));
    c->evictions = ns_flow_engine_stats(eng)->records[NS_FLOW_END_EVICTED];
}

/* ---- requests from the collector (capture thread) ------------------------------------------ */

static void
reply(ns_agent_t *a, const ns_msg_t *m)
{
    size_t len;
    if (ns_codec_encode(a->ccodec, m, a->reply, a->batch_cap, &len) != NS_OK) {
        ns_log_warn("cannot encode a %s reply: %s", ns_msg_type_name(m->type),
                    ns_codec_error(a->ccodec));
        return;
    }
    uint8_t *p = chunk_item(a->cur, ITEM_MSG, NULL, len);
    if (p)
        memcpy(p, a->reply, len);
}

static void
set_filter(ns_agent_t *a, uint32_t request_id, const char *filter)
{
    char err[512] = "";
    bool ok = true;
    /* all or nothing: check against every link type before installing anywhere */
    for (uint32_t i = 0; i < a->n_ifs && ok; i++)
        ok = ns_capture_filter_check(filter, a->ifs[i].linktype, err, sizeof(err));
    for (uint32_t i = 0; i < a->n_ifs && ok; i++)
        ok = ns_capture_set_filter(a->ifs[i].cap, filter, err, sizeof(err));
    if (ok) {
        ns_log_info("capture filter set by the collector: '%s'", filter);
        free(a->filter_now);
        a->filter_now = strdup(filter);
    }
    else
        ns_log_warn("capture filter '%s' from the collector refused: %s", filter, err);
    ns_msg_t m = {.type = NS_MSG_FILTER_RESULT};
    m.u.filter_result = (ns_msg_filter_result_t){.request_id = request_id, .ok = ok,
                                                 .error = ok ? "" : err};
    reply(a, &m);
}

/* The ring's tag of a flow key: its hash with seed 0 (the same for both directions). */
static uint32_t
key_tag(const ns_flow_key_t *k)
{
    return (uint32_t)ns_flow_key_hash(k, 0);
}

typedef struct {
    const ns_flow_key_t *key;
    ns_msg_frame_t *frames;
    uint32_t n, max;
    size_t bytes, budget; /* frame bytes so far, and what fits in a reply */
    bool cut;             /* stopped by the byte budget */
    ns_pkt_t *pkt;
} find_t;

static bool
frame_matches(void *ud, const ns_pktring_frame_t *f, bool take)
{
    find_t *q = ud;
    ns_decode_frame(f->linktype, f->data, f->cap_len, f->wire_len, q->pkt, NULL, NULL);
    if (q->pkt->ip_ver != 4 && q->pkt->ip_ver != 6)
        return false;
    q->pkt->iface = f->iface;
    ns_flow_key_t k;
    ns_flow_key_from_pkt(q->pkt, &k);
    if (!ns_flow_key_eq(&k, q->key))
        return false;
    if (take) {
        if (q->bytes + f->cap_len + 32 > q->budget) {
            q->cut = true;
            return false;
        }
        uint8_t *copy = malloc(f->cap_len ? f->cap_len : 1);
        if (copy == NULL)
            return false;
        memcpy(copy, f->data, f->cap_len);
        q->frames[q->n++] = (ns_msg_frame_t){.ts_ns = f->ts_ns,
                                             .wire_len = f->wire_len,
                                             .cap_len = f->cap_len,
                                             .data = copy};
        q->bytes += f->cap_len + 32;
    }
    return true;
}

static void
get_packets(ns_agent_t *a, const ctl_t *r)
{
    const ns_msg_get_packets_t *g = &r->get;
    ns_flow_key_t key;
    ns_flow_key_make(&key, g->ip_ver, g->proto, ns_flow_key_vlan(g->vlan, g->iface), &g->addr[0],
                     g->port[0], &g->addr[1], g->port[1]);
    uint32_t max = g->max_frames ? g->max_frames : GET_PACKETS_DEFAULT;
    find_t q = {.key = &key, .max = max, .budget = a->batch_cap - 1024};
    q.frames = calloc(max, sizeof(*q.frames));
    q.pkt = malloc(sizeof(*q.pkt));
    ns_msg_t m = {.type = NS_MSG_PACKETS};
    m.u.packets.request_id = r->request_id;
    m.u.packets.error = "";
    if (q.frames == NULL || q.pkt == NULL) {
        m.u.packets.error = "out of memory";
    } else {
        bool more = false;
        ns_pktring_find(a->ring, key_tag(&key), g->from_ns, g->to_ns, max, frame_matches, &q,
                        &more);
        uint32_t iface = g->iface < a->n_ifs ? g->iface : 0;
        m.u.packets.link_type = a->ifs[iface].linktype;
        m.u.packets.truncated = more || q.cut;
        m.u.packets.frames = q.frames;
        m.u.packets.n_frames = q.n;
    }
    reply(a, &m);
    for (uint32_t i = 0; i < q.n; i++)
        free((void *)q.frames[i].data);
    free(q.frames);
    free(q.pkt);
}

static void
serve_requests(ns_agent_t *a)
{
    ctl_t *r;
    while ((r = ns_spsc_pop(a->to_cap)) != NULL) {
        if (r->type == CTL_SET_FILTER)
            set_filter(a, r->request_id, r->filter);
        else
            get_packets(a, r);
        free(r->filter);
        free(r);
    }
}

/* ---- the capture thread ---------------------------------------------------------------------- */

static void
take_frame(ns_agent_t *a, uint8_t i, const ns_frame_t *fr)
{
    iface_t *f = &a->ifs[i];
    f->pkts++;
    f->bytes += fr->wire_len;
    ns_pipeline_frame(a->pipe, i, f->linktype, fr->data, fr->cap_len, fr->wire_len, fr->ts_ns);
    const ns_pkt_t *pkt = ns_pipeline_last(a->pipe);
    uint32_t tag = 0;
    if (pkt->ip_ver == 4 || pkt->ip_ver == 6) {
        ns_flow_key_t k;
        ns_flow_key_from_pkt(pkt, &k);
        tag = key_tag(&k);
    }
    ns_pktring_add(a->ring, i, (uint16_t)f->linktype, fr->ts_ns, fr->wire_len, fr->data,
                   fr->cap_len, tag);
}

static bool
same_str(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

/* SIGHUP: read the configuration again; apply the filter and the log level, name the rest. */
static void
do_reload(ns_agent_t *a)
{
    a->reload = 0;
    if (a->reloader == NULL) {
        ns_log_info("SIGHUP: no configuration to reload");
        return;
    }
    ns_agent_config_t fresh;
    char err[1024];
    if (!a->reloader(a->reloader_ud, &fresh, err, sizeof(err))) {
        ns_log_error("SIGHUP: configuration not reloaded, the running one stays: %s", err);
        return;
    }
    ns_log_level_t lvl;
    if (ns_log_level_parse(fresh.log_level, &lvl))
        ns_log_set_level(lvl);
    if (!same_str(fresh.filter, a->filter_now)) {
        bool ok = true;
        for (uint32_t i = 0; i < a->n_ifs && ok; i++)
            ok = ns_capture_set_filter(a->ifs[i].cap, fresh.filter, err, sizeof(err));
        if (ok) {
            free(a->filter_now);
            a->filter_now = fresh.filter ? strdup(fresh.filter) : NULL;
            ns_log_info("SIGHUP: capture filter now '%s'", fresh.filter ? fresh.filter : "");
        } else {
            ns_log_error("SIGHUP: capture filter '%s' refused, the old one stays: %s",
                         fresh.filter, err);
        }
    }
    /* everything else is read at start */
    const ns_agent_config_t *c = a->cfg;
    for (size_t i = 0; i < ns_agent_nopts; i++) {
        const ns_opt_t *o = &ns_agent_opts[i];
        if (strcmp(o->key, "capture.filter") == 0 || strcmp(o->key, "agent.log_level") == 0)
            continue;
        const char *x = (const char *)c + o->offset, *y = (const char *)&fresh + o->offset;
        bool differs;
        if (o->type == NS_OPT_STRING)
            differs = !same_str(*(char *const *)x, *(char *const *)y);
        else if (o->type == NS_OPT_STRLIST) {
            const ns_strlist_t *l1 = (const void *)x, *l2 = (const void *)y;
            differs = l1->n != l2->n;
            for (size_t k = 0; k < l1->n && !differs; k++)
                differs = !same_str(l1->v[k], l2->v[k]);
        } else if (o->type == NS_OPT_BOOL)
            differs = *(const bool *)x != *(const bool *)y;
        else if (o->type == NS_OPT_DOUBLE)
            differs = *(const double *)x != *(const double *)y;
        else
            differs = *(const uint64_t *)x != *(const uint64_t *)y;
        if (differs)
            ns_log_warn("SIGHUP: %s changed: it takes effect when the agent restarts", o->key);
    }
    ns_agent_config_free(&fresh);
}

/* Export interval and counters, by the monotonic clock; `now` is the record time. */
static void
periodic(ns_agent_t *a, uint64_t *next_export, uint64_t *next_stats, uint64_t now)
{
    uint64_t m = mono_ns();
    if (m < *next_export)
        return;
    if (!a->replay)
        ns_pipeline_tick(a->pipe, now);
    ns_pipeline_export(a->pipe, now);
    serve_requests(a);
    if (m >= *next_stats) {
        snapshot(a);
        *next_stats = m + a->cfg->heartbeat_ms * NS_PER_MS;
    }
    hand_over(a, false);
    *next_export = m + a->cfg->interval_ms * NS_PER_MS;
}

static int
capture_live(ns_agent_t *a)
{
    struct pollfd pfd[NS_AGENT_MAX_IFACES];
    uint64_t next_export = mono_ns(), next_stats = next_export;
    int rc = 0;
    while (!a->stop) {
        if (a->reload)
            do_reload(a);
        for (uint32_t i = 0; i < a->n_ifs; i++)
            pfd[i] = (struct pollfd){.fd = ns_capture_fd(a->ifs[i].cap), .events = POLLIN};
        int wait = (int)a->cfg->poll_ms;
        uint64_t m = mono_ns();
        if (next_export > m && (next_export - m) / NS_PER_MS < (uint64_t)wait)
            wait = (int)((next_export - m) / NS_PER_MS) + 1;
        if (poll(pfd, a->n_ifs, wait) < 0 && errno != EINTR) {
            ns_log_error("poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        for (uint32_t i = 0; i < a->n_ifs; i++) {
            ns_frame_t fr;
            int r = NS_CAPTURE_AGAIN;
            for (int k = 0; k < FRAMES_PER_POLL; k++) {
                r = ns_capture_next(a->ifs[i].cap, &fr);
                if (r != NS_CAPTURE_FRAME)
                    break;
                take_frame(a, (uint8_t)i, &fr);
            }
            if (r == NS_CAPTURE_ERROR) {
                ns_log_error("capture on %s failed: %s", a->ifs[i].name,
                             ns_capture_error(a->ifs[i].cap));
                rc = 1;
                a->stop = 1;
            }
        }
        periodic(a, &next_export, &next_stats, wall_ns());
    }
    return rc;
}

static int
capture_replay(ns_agent_t *a)
{
    uint64_t next_export = mono_ns(), next_stats = next_export;
    uint64_t first_ts = 0, start = 0;
    ns_frame_t fr;
    int r;
    unsigned n = 0;
    ns_capture_t *cap = a->ifs[0].cap;
    while (!a->stop && (r = ns_capture_next(cap, &fr)) != NS_CAPTURE_END) {
        if (r == NS_CAPTURE_ERROR) {
            ns_log_error("reading %s failed: %s", a->cfg->replay, ns_capture_error(cap));
            return 1;
        }
        if (first_ts == 0) {
            first_ts = fr.ts_ns;
            start = mono_ns();
        }
        if (a->replay_factor > 0 && fr.ts_ns > first_ts) {
            /* the recorded gaps, divided by the factor; wake up for exports meanwhile */
            uint64_t due = start + (uint64_t)((double)(fr.ts_ns - first_ts) / a->replay_factor);
            for (uint64_t m = mono_ns(); m < due && !a->stop; m = mono_ns()) {
                uint64_t nap = due - m < 10 * NS_PER_MS ? due - m : 10 * NS_PER_MS;
                struct timespec ts = {0, (long)nap};
                nanosleep(&ts, NULL);
                periodic(a, &next_export, &next_stats, fr.ts_ns);
            }
        }
        take_frame(a, 0, &fr);
        if ((++n & 255u) == 0)
            periodic(a, &next_export, &next_stats,
                     ns_flow_engine_clock(ns_pipeline_engine(a->pipe)));
    }
    if (ns_capture_warning(cap))
        ns_log_warn("%s ends early (%s)", a->cfg->replay, ns_capture_warning(cap));
    return 0;
}

/* ---- the exporter thread ---------------------------------------------------------------------- */

static bool
send_msg(ns_agent_t *a, const uint8_t *msg, size_t len)
{
    ns_link_rc_t rc = ns_link_send(a->link, msg, len);
    if (rc == NS_LINK_OK)
        return true;
    if (rc == NS_LINK_TOOBIG || rc == NS_LINK_ERROR) {
        a->batches_dropped++;
        ns_log_warn("message of %zu bytes not sent: %s", len, ns_link_error(a->link));
        return true; /* it will never go: do not retry */
    }
    return false;
}

static void
send_hello(ns_agent_t *a)
{
    ns_msg_iface_t ifs[NS_AGENT_MAX_IFACES];
    for (uint32_t i = 0; i < a->n_ifs; i++)
        ifs[i] = (ns_msg_iface_t){.index = i,
                                  .name = a->ifs[i].name,
                                  .link_type = a->ifs[i].linktype,
                                  .snaplen = a->ifs[i].snaplen,
                                  .addrs = a->ifs[i].addrs,
                                  .n_addrs = a->ifs[i].n_addrs};
    const ns_agent_config_t *c = a->cfg;
    ns_msg_t m = {.type = NS_MSG_HELLO};
    m.u.hello = (ns_msg_hello_t){.agent_id = a->id,
                                 .hostname = a->hostname,
                                 .agent_version = NS_VERSION,
                                 .clock_ns = wall_ns(),
                                 .start_ns = a->start_ns,
                                 .ifaces = ifs,
                                 .n_ifaces = a->n_ifs,
                                 .promisc = c->promisc,
                                 .buffer_bytes = (uint32_t)(c->buffer_mb << 20),
                                 .export_interval_ms = (uint32_t)c->interval_ms,
                                 .bpf_filter = c->filter ? c->filter : "",
                                 .replay_file = a->replay ? c->replay : "",
                                 .replay_speed = a->replay_factor};
    size_t len;
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
    else
        ns_log_error("cannot encode Hello: %s", ns_codec_error(a->xcodec));
}

static uint64_t
cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * NS_PER_S +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static uint64_t
rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The lowest batch seq this agent can still send: its oldest kept batch, else the next. */
static uint64_t
lowest_held(const ns_agent_t *a)
{
    uint64_t low = ns_outq_lowest_kept(a->outq);
    if (a->pending && (low == 0 || a->pending_seq < low))
        low = a->pending_seq;
    return low ? low : a->seq + 1;
}

static void
send_heartbeat(ns_agent_t *a)
{
    ns_outq_stats_t q;
    ns_outq_stats(a->outq, &q);
    ns_msg_t m = {.type = NS_MSG_HEARTBEAT};
    m.u.heartbeat = (ns_msg_heartbeat_t){.send_ns = wall_ns(),
                                         .queue_depth = q.finals_waiting + q.updates_waiting,
                                         .batches_sent = a->batches_sent,
                                         .batches_dropped = a->batches_dropped,
                                         .updates_dropped = q.updates_dropped,
                                         .finals_dropped = q.finals_dropped,
                                         .flows_active = a->stats.flows_active,
                                         .evictions = a->stats.evictions,
                                         .cpu_ns = cpu_ns(),
                                         .rss_bytes = rss_bytes(),
                                         .lowest_held_seq = lowest_held(a)};
    size_t len;
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
    if (!a->stats.has_stats)
        return;
    m = (ns_msg_t){.type = NS_MSG_IFACE_STATS};
    m.u.iface_stats = (ns_msg_iface_stats_t){.send_ns = wall_ns(),
                                             .ifaces = a->stats.ifs,
                                             .n_ifaces = a->stats.n_ifs};
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
}

static bool
batch_take(void *ud, const uint8_t *entry, size_t n)
{
    ns_agent_t *a = ud;
    return ns_codec_batch_add_encoded(a->xcodec, entry, n) == NS_OK;
}

static void
resend_one(void *ud, uint64_t seq, const uint8_t *msg, size_t len)
{
    (void)seq;
    ns_agent_t *a = ud;
    (void)send_msg(a, msg, len); /* a full link: the ack timeout resends it again */
}

/* Build and send batches while there is something to send, room in the window and the link
 * takes them. */
static void
flush_batches(ns_agent_t *a)
{
    if (a->pending) {
        if (!send_msg(a, a->pending, a->pending_len))
            return;
        free(a->pending);
        a->pending = NULL;
    }
    while (!ns_outq_idle(a->outq) && !ns_outq_window_full(a->outq)) {
        uint64_t now = wall_ns();
        if (ns_codec_batch_begin(a->xcodec, a->batch, a->batch_cap, a->seq + 1, now) != NS_OK)
            return;
        uint32_t finals, txns, updates;
        ns_outq_fill(a->outq, batch_take, a, &finals, &txns, &updates);
        if (finals + txns + updates == 0) {
            /* an entry bigger than a batch: cannot happen, the codec refused such records */
            ns_log_error("export queue stuck: an entry does not fit an empty batch");
            return;
        }
        size_t len = ns_codec_batch_finish(a->xcodec);
        a->seq++;
        a->batches_sent++;
        ns_outq_sent(a->outq, a->seq, a->batch, len, finals, txns, now);
        if (!send_msg(a, a->batch, len)) {
            a->pending = malloc(len);
            if (a->pending) {
                memcpy(a->pending, a->batch, len);
                a->pending_len = len;
                a->pending_seq = a->seq;
            }
            return;
        }
    }
}

static void
take_chunk(ns_agent_t *a, chunk_t *c)
{
    size_t at = 0;
    while (at + 6 <= c->len) {
        uint8_t type = c->buf[at], ul = c->buf[at + 1];
        char uid[256];
        memcpy(uid, c->buf + at + 2, ul);
        uid[ul] = '\0';
        uint32_t len;
        memcpy(&len, c->buf + at + 2 + ul, 4);
        const uint8_t *p = c->buf + at + 6 + ul;
        if (type == ITEM_UPDATE)
            ns_outq_update(a->outq, uid, p, len);
        else if (type == ITEM_TXN)
            ns_outq_txn(a->outq, uid, p, len);
        else if (type == ITEM_FINAL)
            ns_outq_final(a->outq, uid, p, len);
        else
            (void)send_msg(a, p, len); /* replies are best effort */
        at += 6 + ul + len;
    }
    if (c->has_stats) {
        free(a->stats.buf);
        a->stats = *c;
        a->stats.buf = NULL;
        a->stats.len = a->stats.cap = 0;
    }
    if (c->last)
        atomic_store(&a->cap_done, true);
    chunk_free(c);
}

static void
take_request(ns_agent_t *a, const uint8_t *data, size_t len)
{
    const ns_msg_t *m;
    if (ns_codec_decode_collector(a->xcodec, data, len, &m) != NS_CODEC_OK) {
        ns_log_warn("message from the collector refused: %s", ns_codec_error(a->xcodec));
        return;
    }
    if (m->type == NS_MSG_ACK) {
        ns_outq_ack(a->outq, m->u.ack.seq);
        return;
    }
    ctl_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return;
    if (m->type == NS_MSG_SET_FILTER) {
        r->type = CTL_SET_FILTER;
        r->request_id = m->u.set_filter.request_id;
        r->filter = strdup(m->u.set_filter.bpf_filter);
    } else if (m->type == NS_MSG_GET_PACKETS) {
        r->type = CTL_GET_PACKETS;
        r->request_id = m->u.get_packets.request_id;
        r->get = m->u.get_packets;
    }
    if (r->type == 0 || (r->type == CTL_SET_FILTER && r->filter == NULL) ||
        !ns_spsc_push(a->to_cap, r)) {
        free(r->filter);
        free(r);
    }
}

static void *
exporter_main(void *arg)
{
    ns_agent_t *a = arg;
    uint64_t hb_every = a->cfg->heartbeat_ms * NS_PER_MS;
    uint64_t next_hb = mono_ns() + hb_every, drain_until = 0;
    uint64_t ack_timeout = a->cfg->ack_timeout_ms * NS_PER_MS;
    ns_link_msg_t msg;
    for (;;) {
        if (ns_link_recv(a->link, &msg, EXPORTER_WAIT_MS) == NS_LINK_OK)
            take_request(a, msg.data, msg.len);
        chunk_t *c;
        while ((c = ns_spsc_pop(a->to_exp)) != NULL)
            take_chunk(a, c);

        ns_link_stats_t ls;
        ns_link_stats(a->link, &ls);
        uint64_t now = wall_ns();
        if (ls.sessions != a->sessions) {
            a->sessions = ls.sessions;
            ns_log_info("connected to the collector %s (session %llu)", a->cfg->collector,
                        (unsigned long long)ls.sessions);
            send_hello(a);
            uint32_t n = ns_outq_resend(a->outq, resend_one, a, now);
            if (n)
                ns_log_info("resent %u unacknowledged batches", n);
        } else if (ls.connected && ns_outq_ack_overdue(a->outq, now, ack_timeout)) {
            uint32_t n = ns_outq_resend(a->outq, resend_one, a, now);
            ns_log_info("no acknowledgement for %llu ms: resent %u batches",
                        (unsigned long long)a->cfg->ack_timeout_ms, n);
        }
        if (ls.connected)
            flush_batches(a);
        uint64_t m = mono_ns();
        if (m >= next_hb) {
            if (ls.connected)
                send_heartbeat(a);
            next_hb = m + hb_every;
        }
        if (atomic_load(&a->cap_done)) {
            ns_outq_stats_t q;
            ns_outq_stats(a->outq, &q);
            if (ns_outq_idle(a->outq) && q.unacked == 0 && a->pending == NULL) {
                a->drained = true;
                break;
            }
            if (drain_until == 0)
                drain_until = m + a->cfg->drain_ms * NS_PER_MS;
            if (m >= drain_until)
                break;
        }
    }
    send_heartbeat(a); /* the final counters (dropped records) */
    return NULL;
}

/* ---- setup ------------------------------------------------------------------------------------- */

/* The IPv4/IPv6 addresses of interface `name` (the collector learns from them which agent
 * sits at which end of a connection). */
static void
iface_addrs(iface_t *f)
{
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return;
    for (struct ifaddrs *i = all; i && f->n_addrs < MAX_ADDRS; i = i->ifa_next) {
        if (i->ifa_addr == NULL || strcmp(i->ifa_name, f->name) != 0)
            continue;
        ns_msg_ifaddr_t *a = &f->addrs[f->n_addrs];
        memset(a, 0, sizeof(*a));
        if (i->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *s = (const void *)i->ifa_addr;
            a->ip_ver = 4;
            memcpy(a->addr.b, &s->sin_addr, 4);
            a->prefix_len = 32;
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const void *)i->ifa_addr;
            a->ip_ver = 6;
            memcpy(a->addr.b, &s->sin6_addr, 16);
            a->prefix_len = 128;
        } else {
            continue;
        }
        f->n_addrs++;
    }
    freeifaddrs(all);
}

static bool
open_captures(ns_agent_t *a, char *errbuf, size_t errlen)
{
    const ns_agent_config_t *c = a->cfg;
    ns_capture_opts_t co = {.filter = c->filter,
                            .snaplen = (int)c->snaplen,
                            .promisc = c->promisc,
                            .timeout_ms = (int)c->poll_ms,
                            .buffer_mb = (int)c->buffer_mb};
    char err[512];
    size_t n = a->replay ? 1 : c->interfaces.n;
    for (size_t i = 0; i < n; i++) {
        iface_t *f = &a->ifs[i];
        if (a->replay)
            co.file = c->replay;
        else
            co.iface = c->interfaces.v[i];
        snprintf(f->name, sizeof(f->name), "%s", a->replay ? "replay" : co.iface);
        f->cap = ns_capture_open(&co, err, sizeof(err));
        if (f->cap == NULL) {
            snprintf(errbuf, errlen, "%s", err);
            return false;
        }
        a->n_ifs++;
        f->linktype = ns_capture_linktype(f->cap);
        f->snaplen = (uint32_t)ns_capture_snaplen(f->cap);
        if (!ns_decode_linktype_supported(f->linktype)) {
            snprintf(errbuf, errlen, "%s: link type %u is not supported", f->name, f->linktype);
            return false;
        }
        if (!a->replay) {
            if (!ns_capture_set_nonblock(f->cap, err, sizeof(err))) {
                snprintf(errbuf, errlen, "%s: %s", f->name, err);
                return false;
            }
            if (ns_capture_fd(f->cap) < 0) {
                snprintf(errbuf, errlen, "%s: the capture cannot be polled", f->name);
                return false;
            }
            if (!ns_capture_nano(f->cap))
                ns_log_info("%s stamps packets in microseconds", f->name);
            iface_addrs(f);
        }
    }
    return true;
}

static bool
load_keys(ns_agent_t *a, char *errbuf, size_t errlen)
{
    const ns_agent_config_t *c = a->cfg;
    if (c->insecure)
        return true;
    char err[512];
    if (ns_keypair_load(c->key, &a->keys, err, sizeof(err)) != NS_OK) {
        snprintf(errbuf, errlen, "%s", err);
        return false;
    }
    if (ns_key_load(c->collector_key, &a->server_key, err, sizeof(err)) != NS_OK) {
        snprintf(errbuf, errlen, "%s", err);
        return false;
    }
    return true;
}

ns_agent_t *
ns_agent_new(const ns_agent_config_t *cfg, char *errbuf, size_t errlen)
{
    ns_agent_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->start_ns = wall_ns();
    a->replay = cfg->replay && cfg->replay[0];
    (void)ns_agent_replay_speed(cfg->replay_speed, &a->replay_factor);
    if (gethostname(a->hostname, sizeof(a->hostname) - 1) != 0)
        snprintf(a->hostname, sizeof(a->hostname), "unknown");
    snprintf(a->id, sizeof(a->id), "%.*s", (int)sizeof(a->id) - 1,
             cfg->id && cfg->id[0] ? cfg->id : a->hostname);
    atomic_init(&a->cap_done, false);
    a->batch_cap = (size_t)cfg->batch_kb * 1024u;

    if (!load_keys(a, errbuf, errlen) || !open_captures(a, errbuf, errlen))
        goto fail;
    if (cfg->filter && cfg->filter[0] && (a->filter_now = strdup(cfg->filter)) == NULL)
        goto fail;

    ns_flow_engine_opts_t eo;
    ns_flow_engine_opts_default(&eo);
    eo.max_flows = (uint32_t)cfg->max_flows;
    ns_flow_expire_set_idle(&eo.expire, cfg->idle_ns);
    eo.expire.idle_ns[NS_FLOWQ_TCP_CLOSED] = cfg->linger_ns;
    eo.expire.active_ns = cfg->active_ns;
    eo.app = cfg->app;
    eo.export_live = true;
    if (getrandom(&eo.seed, sizeof(eo.seed), 0) != (ssize_t)sizeof(eo.seed)) {
        snprintf(errbuf, errlen, "no random seed: %s", strerror(errno));
        goto fail;
    }
    a->pipe = ns_pipeline_new(&eo, on_record, a);
    a->ring = ns_pktring_new((size_t)cfg->ring_mb << 20);
    ns_codec_opts_t xo;
    ns_codec_opts_default(&xo);
    xo.max_msg_bytes = (uint32_t)a->batch_cap;
    a->ccodec = ns_codec_new(&xo, errbuf, errlen);
    a->xcodec = a->ccodec ? ns_codec_new(&xo, errbuf, errlen) : NULL;
    ns_outq_opts_t qo = {.finals_max_bytes = (size_t)cfg->queue_mb << 20,
                         .updates_max_bytes = (size_t)cfg->updates_mb << 20,
                         .window = (uint32_t)cfg->window};
    a->outq = ns_outq_new(&qo);
    a->to_exp = ns_spsc_new(QUEUE_SLOTS);
    a->to_cap = ns_spsc_new(QUEUE_SLOTS);
    a->cur = chunk_new();
    a->entry = malloc(ENTRY_MAX);
    a->reply = malloc(a->batch_cap);
    a->batch = malloc(a->batch_cap);
    if (a->pipe == NULL || a->ring == NULL || a->ccodec == NULL || a->xcodec == NULL ||
        a->outq == NULL || a->to_exp == NULL || a->to_cap == NULL || a->cur == NULL ||
        a->entry == NULL || a->reply == NULL || a->batch == NULL) {
        if (a->ccodec && a->xcodec)
            snprintf(errbuf, errlen, "not enough memory for %llu flows and a %llu MB ring",
                     (unsigned long long)cfg->max_flows, (unsigned long long)cfg->ring_mb);
        goto fail;
    }
    return a;
fail:
    ns_agent_destroy(&a);
    return NULL;
}

/* The link is made in ns_agent_run(), after privileges are dropped. */
static bool
open_link(ns_agent_t *a)
{
    const ns_agent_config_t *c = a->cfg;
    ns_link_opts_t lo = {.keys = c->insecure ? NULL : &a->keys,
                         .server_key = c->insecure ? NULL : &a->server_key,
                         .routing_id = a->id,
                         .reconnect_ivl_ms = 100,
                         .reconnect_ivl_max_ms = 5000,
                         .max_msg_bytes = (int64_t)a->batch_cap,
                         .linger_ms = 0};
    char err[512];
    a->link = ns_link_dealer_new(c->collector, &lo, err, sizeof(err));
    ns_keypair_wipe(&a->keys);
    if (a->link == NULL) {
        ns_log_error("%s", err);
        return false;
    }
    if (c->insecure)
        ns_log_warn("sending to %s in PLAIN TEXT (--insecure): anyone on the path can read "
                    "and forge these records",
                    c->collector);
    return true;
}

int
ns_agent_run(ns_agent_t *self)
{
    ns_agent_t *a = self;
    if (!open_link(a))
        return 1;
    if (pthread_create(&a->exporter, NULL, exporter_main, a) != 0) {
        ns_log_error("cannot start the exporter thread");
        return 1;
    }
    if (a->replay)
        ns_log_info("replaying %s (%s) to %s", a->cfg->replay, a->cfg->replay_speed,
                    a->cfg->collector);
    else
        ns_log_info("capturing on %u interface(s) to %s", a->n_ifs, a->cfg->collector);
    int rc = a->replay ? capture_replay(a) : capture_live(a);
    /* every open flow becomes a final record */
    bool eof = a->replay && !a->stop;
    ns_pipeline_finish(a->pipe, eof ? NS_FLOW_END_END_OF_INPUT : NS_FLOW_END_SHUTDOWN,
                       a->replay ? 0 : wall_ns());
    snapshot(a);
    hand_over(a, true);
    pthread_join(a->exporter, NULL);
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ns_log_info("final records: %llu produced, %llu acknowledged by the collector, %llu "
                "dropped%s; updates: %llu produced, %llu sent, %llu dropped; %llu batches "
                "sent (%llu resent), %llu frames",
                (unsigned long long)s.finals_produced, (unsigned long long)s.finals_acked,
                (unsigned long long)s.finals_dropped,
                s.drained ? "" : " (the rest was not acknowledged in time)",
                (unsigned long long)s.updates_produced, (unsigned long long)s.updates_sent,
                (unsigned long long)s.updates_dropped, (unsigned long long)s.batches_sent,
                (unsigned long long)s.batches_resent, (unsigned long long)s.frames);
    if (!s.drained)
        rc = 1;
    return rc;
}

void
ns_agent_set_reloader(ns_agent_t *self, ns_agent_reload_fn fn, void *ud)
{
    self->reloader = fn;
    self->reloader_ud = ud;
}

void
ns_agent_stop(ns_agent_t *self)
{
    self->stop = 1;
}

void
ns_agent_reload(ns_agent_t *self)
{
    self->reload = 1;
}

void
ns_agent_summary(const ns_agent_t *self, ns_agent_summary_t *out)
{
    memset(out, 0, sizeof(*out));
    ns_outq_stats_t q;
    ns_outq_stats(self->outq, &q);
    out->frames = self->pipe ? ns_pipeline_stats(self->pipe)->frames : 0;
    out->finals_produced = self->finals_produced;
    out->finals_acked = q.finals_acked;
    out->finals_dropped = q.finals_dropped;
    out->updates_produced = self->updates_produced;
    out->updates_sent = q.updates_sent;
    out->updates_dropped = q.updates_dropped;
    out->batches_sent = self->batches_sent;
    out->batches_resent = q.batches_resent;
    out->sessions = self->sessions;
    for (uint32_t i = 0; i < self->n_ifs; i++)
        out->kernel_drops += self->ifs[i].counters.kernel_drops;
    out->drained = self->drained;
}

void
ns_agent_destroy(ns_agent_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_agent_t *a = *self_p;
    for (uint32_t i = 0; i < NS_AGENT_MAX_IFACES; i++)
        ns_capture_destroy(&a->ifs[i].cap);
    ns_pipeline_destroy(&a->pipe);
    ns_pktring_destroy(&a->ring);
    ns_codec_destroy(&a->ccodec);
    ns_codec_destroy(&a->xcodec);
    ns_outq_destroy(&a->outq);
    ns_link_destroy(&a->link);
    chunk_t *c;
    while (a->to_exp && (c = ns_spsc_pop(a->to_exp)) != NULL)
        chunk_free(c);
    ctl_t *r;
    while (a->to_cap && (r = ns_spsc_pop(a->to_cap)) != NULL) {
        free(r->filter);
        free(r);
    }
    ns_spsc_destroy(&a->to_exp);
    ns_spsc_destroy(&a->to_cap);
    chunk_free(a->cur);
    free(a->stats.buf);
    free(a->entry);
    free(a->reply);
    free(a->batch);
    free(a->pending);
    free(a->filter_now);
    ns_keypair_wipe(&a->keys);
    free(a);
    *self_p = NULL;
}

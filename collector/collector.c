/* collector.c - the ingest loop: decode, bind to an agent, account, acknowledge (see
 * collector.h).
 *
 * Peers: each connection (ROUTER routing id) that said Hello is bound to the inventory entry
 * of its agent id and to the key it authenticated with; a later message on that connection
 * must carry the same key. The table of peers is small (one per agent) and searched linearly.
 */
#include "netscope/collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flow_record.h"
#include "netscope/chsink.h"
#include "netscope/codec.h"
#include "netscope/detect.h"
#include "netscope/dump.h"
#include "netscope/evidence.h"
#include "netscope/live.h"
#include "netscope/log.h"
#include "netscope/notify.h"
#include "netscope/sdnotify.h"
#include "netscope/store.h"
#include "netscope/transport.h"
#include "netscope/txstore.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define BURST 256 /* messages taken before writing, flushing and acknowledging */
#define WAIT_MS 50
#define PERIODIC_NS (250ull * NS_PER_MS)
#define FLUSH_CHUNK (256u * 1024u)
#define AGENTS_SAVE_NS (5ull * NS_PER_S) /* inventory entries that changed go to the store */
#define PKT_ASKS 32u                     /* packet requests of the live stream queued */
#define AGENT_BLOB_MAGIC 0x4741534eu     /* "NSAG" */
#define AGENT_BLOB_VERSION 1u
#define DUMP_COUNTERS_MAX 64 /* counters of the state dump, at most */

typedef struct {
    uint8_t id[NS_LINK_PEER_MAX];
    size_t id_len;
    bool has_key;
    ns_key_t key;
    uint32_t agent; /* inventory index, NS_INV_NONE until a Hello was accepted */
    bool ack_due;
    /* With a store, an ack waits for the commit of what it acknowledges: the batch number
     * to send and the store's ticket at the time (ns_store_ticket()). */
    bool ack_waiting;
    uint64_t ack_seq, ack_ticket;
    bool revoked_logged;
    uint64_t cpu_ns, cpu_at; /* the previous heartbeat's CPU time, for a percentage */
    bool in_use;
} peer_t;

struct ns_collector {
    const ns_collector_config_t *cfg;
    ns_link_t *link;
    ns_codec_t *codec;
    ns_inventory_t *inv;
    ns_merge_t *merge;
    ns_txstore_t *txs; /* transactions that came in updates, until their final record */
    FILE *flows;
    ns_chsink_t *ch; /* the ClickHouse export, NULL when off */
    ns_store_t *store;     /* history (NULL without storage.db) */
    ns_detect_t *det;      /* anomaly detectors (detect.h) */
    ns_analysis_t *an;     /* RTT, retransmission and loss analyses (analysis.h) */
    ns_notify_t *notify;   /* alert notifications (notify.h) */
    ns_evidence_t *ev;     /* packets asked from agents: alerts' (with a store), the stream's */
    ns_live_t *live;       /* live analyses (live.h) */
    ns_collector_pkt_ask_t asks[PKT_ASKS]; /* the stream's packet requests, sent by run() */
    uint32_t n_asks;
    ns_collector_pkt_fn pkt_fn[NS_COLLECTOR_PKT_CHANNELS];
    unsigned pkt_flags; /* of the Packets reply being handed out (NS_COLLECTOR_PKT_RING...) */
    void *pkt_ud[NS_COLLECTOR_PKT_CHANNELS];
    uint64_t boot_ns;      /* start time: connection ids are boot_ns + the merge's serial */
    uint64_t agents_saved_ns;
    uint64_t store_refused;
    ns_flow_record_buf_t buf;
    peer_t *peers;
    uint32_t n_peers, cap_peers;
    ns_collector_stats_t st;
    volatile sig_atomic_t stop, reload, dump;
    pid_t dump_pid; /* the child writing a state dump requested by SIGUSR1, or 0 */
    uint64_t dump_started_ns;
    pthread_mutex_t lock; /* held by the ingest thread while it changes the state */
};

static void dump_reap(ns_collector_t *c, bool block);
static void dump_start(ns_collector_t *c);

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
on_refused(void *arg, const char *key_z85, const char *address)
{
    ns_collector_t *c = arg;
    c->st.refused_keys++;
    ns_log_warn("refused agent key %s from %s: not in %s", key_z85, address[0] ? address : "?",
                c->cfg->allowed_keys);
}

/* ---- history ----------------------------------------------------------------------------- */

/* An inventory entry as the store keeps it: a tagged copy of the struct, read back only when
 * tag, version and size match, and then checked field by field (ns_inventory_restore()). */
typedef struct {
    uint32_t magic, version, size, pad;
    ns_inventory_agent_t agent;
} agent_blob_t;

/* Save the entries seen since `since_ns` (0: all). */
static void
save_agents(ns_collector_t *c, uint64_t since_ns)
{
    for (uint32_t i = ns_inventory_next(c->inv, NS_INV_NONE); i != NS_INV_NONE;
         i = ns_inventory_next(c->inv, i)) {
        const ns_inventory_agent_t *a = ns_inventory_get(c->inv, i);
        if (a == NULL || (since_ns && a->last_seen_ns < since_ns))
            continue;
        agent_blob_t b;
        memset(&b, 0, sizeof(b));
        b.magic = AGENT_BLOB_MAGIC;
        b.version = AGENT_BLOB_VERSION;
        b.size = (uint32_t)sizeof(b.agent);
        b.agent = *a;
        if (ns_store_put_agent(c->store, a->id, &b, sizeof(b)) != NS_OK)
            c->store_refused++;
    }
}

static bool
restore_agent(void *ud, const char *id, const void *data, size_t len)
{
    ns_collector_t *c = ud;
    agent_blob_t b;
    if (len != sizeof(b)) {
        ns_log_warn("stored agent %s: %zu bytes, not this version's %zu: left out", id, len,
                    sizeof(b));
        return true;
    }
    memcpy(&b, data, sizeof(b));
    if (b.magic != AGENT_BLOB_MAGIC || b.version != AGENT_BLOB_VERSION ||
        b.size != sizeof(b.agent) || ns_inventory_restore(c->inv, &b.agent) != NS_OK)
        ns_log_warn("stored agent %s is malformed: left out", id);
    return true;
}

static bool
open_store(ns_collector_t *c, char *errbuf, size_t errlen)
{
    const ns_collector_config_t *cfg = c->cfg;
    ns_store_opts_t o;
    ns_store_opts_default(&o);
    o.dir = cfg->db;
    o.max_size = cfg->max_size_mb << 20;
    o.commit_ms = (uint32_t)(cfg->commit_ns / NS_PER_MS);
    if (cfg->sync && strcmp(cfg->sync, "full") == 0)
        o.sync = NS_STORE_SYNC_FULL;
    else if (cfg->sync && strcmp(cfg->sync, "none") == 0)
        o.sync = NS_STORE_SYNC_NONE;
    o.flow_keep_s = cfg->flow_keep_ns / NS_PER_S;
    o.series_keep_s[NS_STORE_RES_1S] = cfg->keep_1s_ns / NS_PER_S;
    o.series_keep_s[NS_STORE_RES_1M] = cfg->keep_1m_ns / NS_PER_S;
    o.series_keep_s[NS_STORE_RES_1H] = cfg->keep_1h_ns / NS_PER_S;
    if (c->ch) {
        o.on_rollup = ns_chsink_on_rollup;
        o.rollup_ud = c->ch;
    }
    c->store = ns_store_open(&o, errbuf, errlen);
    if (c->store == NULL)
        return false;
    char err[256];
    ns_store_read_t *rd = ns_store_read_begin(c->store, err, sizeof(err));
    if (rd == NULL) {
        snprintf(errbuf, errlen, "%s: %s", cfg->db, err);
        return false;
    }
    ns_store_agents_each(rd, restore_agent, c);
    ns_store_read_end(&rd);
    ns_log_info("history in %s (up to %llu MiB); %u agent(s) known from before", cfg->db,
                (unsigned long long)cfg->max_size_mb, ns_inventory_count(c->inv));
    return true;
}

/* What an applied record adds to the time series, and a final or interim record stored. */
static void
store_record(ns_collector_t *c, const char *agent, const ns_flow_rec_t *r,
             const ns_merge_info_t *mi, ns_merge_rc_t rc, uint64_t now)
{
    if (rc != NS_MERGE_NEW && rc != NS_MERGE_JOINED && rc != NS_MERGE_APPLIED)
        return;
    ns_store_delta_t d = {.now_ns = now,
                          .agent = agent,
                          .iface = r->iface,
                          .proto = r->proto,
                          .service = r->service,
                          .pkts = mi->d_pkts,
                          .bytes = mi->d_wire_bytes,
                          .counted = mi->first_observer,
                          .new_flow = rc == NS_MERGE_NEW,
                          .ended = r->kind == NS_FLOW_REC_FINAL && mi->first_observer,
                          .retrans = mi->d_retrans};
    if (!mi->had_rtt && (r->hs & NS_FLOW_REC_HS_TOTAL))
        d.rtt_us = (uint32_t)(r->rtt_hs_ns / 1000u > UINT32_MAX ? UINT32_MAX
                                                                  : r->rtt_hs_ns / 1000u);
    ns_store_account(c->store, &d);
}

/* What the history and ClickHouse keep beside a record: when it came, from whom, and the
 * connection it belongs to across agents (boot_ns + the merge's serial). */
static ns_store_meta_t
flow_meta(const ns_collector_t *c, const char *agent, const ns_merge_info_t *mi, uint64_t now)
{
    ns_store_meta_t m = {.received_ns = now,
                         .conn = c->boot_ns + mi->serial,
                         .primary = mi->first_observer,
                         .observers = mi->n_obs};
    snprintf(m.agent, sizeof(m.agent), "%s", agent);
    return m;
}

static void
store_flow(ns_collector_t *c, const char *agent, const ns_flow_rec_t *whole,
           const ns_merge_info_t *mi, uint64_t now)
{
    ns_store_meta_t m = flow_meta(c, agent, mi, now);
    if (ns_store_put_flow(c->store, whole, &m) != NS_OK)
        c->store_refused++;
}

/* ---- detection ------------------------------------------------------------------------------ */

#define EVIDENCE_FLOWS 4u                      /* flows whose packets an alert asks for */
#define EVIDENCE_TIMEOUT_NS (5ull * NS_PER_S) /* then the pcap is kept with what came */
/* The evidence table also serves the stream's requests: their "alert id" is the caller's tag
 * with this bit set (alert ids are far below it). */
#define PKT_ASK_BIT (1ull << 63)
#define PKT_CHANNEL_SHIFT 62 /* then the channel (ns_collector_packets_fn()) */
#define PKT_TAG_MASK ((1ull << PKT_CHANNEL_SHIFT) - 1)

static void
on_pcap(void *ud, uint64_t alert_id, const uint8_t *data, size_t len)
{
    ns_collector_t *c = ud;
    if (alert_id & PKT_ASK_BIT) {
        unsigned ch = (unsigned)(alert_id >> PKT_CHANNEL_SHIFT) & 1u;
        if (c->pkt_fn[ch])
            c->pkt_fn[ch](c->pkt_ud[ch], alert_id & PKT_TAG_MASK, data, len, NULL, c->pkt_flags);
        return;
    }
    if (c->store == NULL || ns_store_put_alert_pcap(c->store, alert_id, data, len) != NS_OK)
        c->store_refused++;
}

static peer_t *
peer_of_agent(ns_collector_t *c, const char *id)
{
    for (uint32_t i = 0; i < c->n_peers; i++) {
        peer_t *p = &c->peers[i];
        const ns_inventory_agent_t *a =
            p->in_use && p->agent != NS_INV_NONE ? ns_inventory_get(c->inv, p->agent) : NULL;
        if (a && strcmp(a->id, id) == 0)
            return p;
    }
    return NULL;
}

static bool
send_get_packets(ns_collector_t *c, const peer_t *p, const ns_msg_get_packets_t *g)
{
    ns_msg_t m = {.type = NS_MSG_GET_PACKETS};
    m.u.get_packets = *g;
    uint8_t buf[512];
    size_t len;
    return ns_codec_encode(c->codec, &m, buf, sizeof(buf), &len) == NS_OK &&
           ns_link_send_to(c->link, p->id, p->id_len, buf, len) == NS_LINK_OK;
}

/* Ask the agents of an alert's first evidence flows for their packets (GetPackets). Replies
 * are read by this same thread later, so none can complete the alert while it asks. */
static void
request_evidence(ns_collector_t *c, const ns_alert_t *a, uint64_t now)
{
    for (uint32_t i = 0, n = 0; i < a->n_uids && n < EVIDENCE_FLOWS; i++) {
        const ns_alert_flow_t *f = &a->flows[i];
        peer_t *p = f->agent < a->n_agents ? peer_of_agent(c, a->agents[f->agent]) : NULL;
        uint32_t id = p ? ns_evidence_request(c->ev, a->id, now) : 0;
        if (id == 0)
            continue;
        n++;
        ns_msg_get_packets_t g = {.request_id = id,
                                  .ip_ver = f->ip_ver,
                                  .proto = f->proto,
                                  .vlan = f->vlan,
                                  .iface = f->iface,
                                  .addr = {f->addr[0], f->addr[1]},
                                  .port = {f->port[0], f->port[1]},
                                  .from_ns = f->first_ns,
                                  .max_frames = NS_EVIDENCE_FRAMES};
        if (!send_get_packets(c, p, &g))
            ns_evidence_cancel(c->ev, id);
    }
}

/* Send the stream's queued packet requests (under the lock). */
static void
send_asks(ns_collector_t *c, uint64_t now)
{
    for (uint32_t i = 0; i < c->n_asks; i++) {
        const ns_collector_pkt_ask_t *a = &c->asks[i];
        peer_t *p = peer_of_agent(c, a->agent);
        uint64_t ch = a->channel & 1u;
        uint32_t id =
            p ? ns_evidence_request(c->ev, a->tag | ch << PKT_CHANNEL_SHIFT | PKT_ASK_BIT, now) : 0;
        ns_msg_get_packets_t g = {.request_id = id,
                                  .ip_ver = a->ip_ver,
                                  .proto = a->proto,
                                  .vlan = a->vlan,
                                  .iface = a->iface,
                                  .addr = {a->addr[0], a->addr[1]},
                                  .port = {a->port[0], a->port[1]},
                                  .from_ns = a->from_ns,
                                  .max_frames = 0,
                                  .whole_ring = a->whole_ring};
        const char *why = p == NULL ? "the agent is not connected"
                          : id == 0 ? "too many packet requests pending"
                                    : NULL;
        if (why == NULL && !send_get_packets(c, p, &g)) {
            ns_evidence_cancel(c->ev, id);
            why = "the request could not be sent to the agent";
        }
        if (why && c->pkt_fn[ch])
            c->pkt_fn[ch](c->pkt_ud[ch], a->tag, NULL, 0, why, 0);
    }
    c->n_asks = 0;
}

/* An alert changed (or, ongoing, was refreshed): its latest state to the store, and a
 * notification when its state changed. A new alert asks for its evidence packets. */
static void
on_alert(void *ud, const ns_alert_t *a, bool changed)
{
    ns_collector_t *c = ud;
    if (changed && a->state == NS_ALERT_RAISED && c->store)
        request_evidence(c, a, a->updated_ns);
    if (c->store) {
        uint8_t b[NS_ALERT_PACKED];
        size_t n = ns_alert_pack(a, b, sizeof(b));
        if (n == 0 || ns_store_put_alert(c->store, a->id, b, n) != NS_OK)
            c->store_refused++;
    }
    if (!changed)
        return;
    ns_log_info("alert %llu %s %s: %s (value %llu, threshold %llu)", (unsigned long long)a->id,
                ns_detect_kind_name(a->kind), ns_alert_state_name(a->state), a->subject,
                (unsigned long long)a->value, (unsigned long long)a->threshold);
    if (c->notify)
        ns_notify_alert(c->notify, a);
}

static bool
detect_open(ns_collector_t *c, char *errbuf, size_t errlen)
{
    const ns_collector_config_t *cfg = c->cfg;
    ns_detect_opts_t d = {.id_base = (c->boot_ns / NS_PER_S) << 20}; /* ids grow across runs */
    if (getrandom(&d.seed, sizeof(d.seed), 0) != (ssize_t)sizeof(d.seed)) {
        snprintf(errbuf, errlen, "no random seed: %s", strerror(errno));
        return false;
    }
    char err[256];
    c->det = ns_detect_new(&cfg->detect, &d, err, sizeof(err));
    if (c->det == NULL) {
        snprintf(errbuf, errlen, "detectors: %s", err);
        return false;
    }
    ns_notify_opts_t no = {.webhook = cfg->alerts_webhook,
                           .syslog = cfg->alerts_syslog,
                           .queue = (uint32_t)cfg->alerts_queue,
                           .retries = (uint32_t)cfg->alerts_retries,
                           .timeout_ms = (uint32_t)cfg->alerts_timeout_ms};
    c->notify = ns_notify_new(&no, errbuf, errlen);
    return c->notify != NULL;
}

static bool
evidence_open(ns_collector_t *c, char *errbuf, size_t errlen)
{
    c->ev = ns_evidence_new(64, NS_STORE_PCAP_MAX, EVIDENCE_TIMEOUT_NS);
    if (c->ev == NULL)
        snprintf(errbuf, errlen, "out of memory");
    return c->ev != NULL;
}

/* A merged flow leaves the view (closed and lingered, idle, or evicted): where two agents saw
 * it, the loss between them goes to the analyses. */
static void
on_flow_end(void *ud, const ns_merge_flow_t *f, ns_merge_end_t why)
{
    (void)why;
    ns_collector_t *c = ud;
    if (c->an)
        ns_analysis_flow_end(c->an, f, f->update_ns);
}

ns_collector_t *
ns_collector_new(const ns_collector_config_t *cfg, char *errbuf, size_t errlen)
{
    ns_collector_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    pthread_mutex_init(&c->lock, NULL);
    char err[512];
    ns_keypair_t keys;
    bool secure = !cfg->insecure;
    if (secure && ns_keypair_load(cfg->key, &keys, err, sizeof(err)) != NS_OK) {
        snprintf(errbuf, errlen, "%s", err);
        goto fail;
    }
    size_t max_msg = (size_t)cfg->max_msg_kb * 1024u;
    ns_link_opts_t lo = {.keys = secure ? &keys : NULL,
                         .allowed_dir = secure ? cfg->allowed_keys : NULL,
                         .on_refused = on_refused,
                         .on_refused_arg = c,
                         .max_msg_bytes = (int64_t)max_msg,
                         .rcvhwm = 10000,
                         .linger_ms = 1000};
    c->link = ns_link_router_new(cfg->listen, &lo, err, sizeof(err));
    if (secure)
        ns_keypair_wipe(&keys);
    if (c->link == NULL) {
        snprintf(errbuf, errlen, "%s", err);
        goto fail;
    }
    ns_codec_opts_t co;
    ns_codec_opts_default(&co);
    co.max_msg_bytes = (uint32_t)max_msg;
    co.arena_bytes = 0;
    c->codec = ns_codec_new(&co, errbuf, errlen);
    if (c->codec == NULL)
        goto fail;
    c->inv = ns_inventory_new((uint32_t)cfg->max_agents, 0, errbuf, errlen);
    if (c->inv == NULL)
        goto fail;
    ns_merge_opts_t mo;
    ns_merge_opts_default(&mo);
    mo.capacity = (uint32_t)cfg->max_flows;
    mo.max_agents = (uint32_t)cfg->max_agents;
    mo.tolerance_ns = cfg->tolerance_ns;
    mo.idle_timeout_ns = cfg->idle_ns;
    if (getrandom(&mo.seed, sizeof(mo.seed), 0) != (ssize_t)sizeof(mo.seed)) {
        snprintf(errbuf, errlen, "no random seed: %s", strerror(errno));
        goto fail;
    }
    c->merge = ns_merge_new(&mo, on_flow_end, c, errbuf, errlen);
    if (c->merge == NULL)
        goto fail;
    ns_analysis_opts_t ao;
    ns_analysis_opts_default(&ao);
    c->an = ns_analysis_new(&ao);
    if (c->an == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    c->txs = ns_txstore_new(0);
    if (c->txs == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    c->boot_ns = wall_ns();
    if (!detect_open(c, errbuf, errlen))
        goto fail;
    if (cfg->ch_url && cfg->ch_url[0]) {
        ns_chsink_opts_t ho;
        ns_chsink_opts_default(&ho);
        ho.url = cfg->ch_url;
        ho.database = cfg->ch_database;
        ho.user = cfg->ch_user;
        ho.password = cfg->ch_password;
        ho.batch_rows = (uint32_t)cfg->ch_batch_rows;
        ho.batch_ms = (uint32_t)cfg->ch_batch_ms;
        ho.queue_bytes = cfg->ch_queue_mb << 20;
        ho.timeout_ms = (uint32_t)cfg->ch_timeout_ms;
        c->ch = ns_chsink_new(&ho, errbuf, errlen);
        if (c->ch == NULL)
            goto fail;
        ns_log_info("exporting flows to ClickHouse at %s", cfg->ch_url);
    }
    if (cfg->db && cfg->db[0] && !open_store(c, errbuf, errlen))
        goto fail;
    if (!evidence_open(c, errbuf, errlen))
        goto fail;
    ns_live_opts_t lo2;
    ns_live_opts_default(&lo2);
    lo2.max_agents = (uint32_t)cfg->max_agents;
    lo2.seed = mo.seed ^ 0x9e3779b97f4a7c15ull;
    c->live = ns_live_new(&lo2, errbuf, errlen);
    if (c->live == NULL)
        goto fail;
    if (cfg->flows && cfg->flows[0]) {
        c->flows = fopen(cfg->flows, "a");
        if (c->flows == NULL) {
            snprintf(errbuf, errlen, "cannot write %s: %s", cfg->flows, strerror(errno));
            goto fail;
        }
    }
    return c;
fail:
    ns_collector_destroy(&c);
    return NULL;
}

void
ns_collector_destroy(ns_collector_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_collector_t *c = *self_p;
    if (c->store) {
        save_agents(c, 0);
        ns_store_close(&c->store); /* its last roll-ups still go to the sink */
    }
    ns_chsink_destroy(&c->ch); /* sends what is queued first (bounded) */
    ns_detect_destroy(&c->det);
    ns_analysis_destroy(&c->an);
    ns_evidence_destroy(&c->ev);
    ns_live_destroy(&c->live);
    ns_notify_destroy(&c->notify, 2000);
    ns_link_destroy(&c->link);
    ns_codec_destroy(&c->codec);
    ns_inventory_destroy(&c->inv);
    ns_merge_destroy(&c->merge);
    ns_txstore_destroy(&c->txs);
    if (c->flows)
        fclose(c->flows);
    ns_flow_record_buf_fini(&c->buf);
    free(c->peers);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *self_p = NULL;
}

/* ---- peers ----------------------------------------------------------------------------------- */

static peer_t *
peer_find(ns_collector_t *c, const ns_link_msg_t *m)
{
    for (uint32_t i = 0; i < c->n_peers; i++) {
        peer_t *p = &c->peers[i];
        if (p->in_use && p->id_len == m->peer_len && memcmp(p->id, m->peer, m->peer_len) == 0)
            return p;
    }
    return NULL;
}

static peer_t *
peer_add(ns_collector_t *c, const ns_link_msg_t *m)
{
    peer_t *p = NULL;
    for (uint32_t i = 0; i < c->n_peers && p == NULL; i++)
        if (!c->peers[i].in_use)
            p = &c->peers[i];
    if (p == NULL) {
        if (c->n_peers == c->cap_peers) {
            uint32_t cap = c->cap_peers ? c->cap_peers * 2 : 16;
            peer_t *np = realloc(c->peers, cap * sizeof(*np));
            if (np == NULL)
                return NULL;
            c->peers = np;
            c->cap_peers = cap;
        }
        p = &c->peers[c->n_peers++];
    }
    memset(p, 0, sizeof(*p));
    memcpy(p->id, m->peer, m->peer_len);
    p->id_len = m->peer_len;
    p->has_key = m->has_key;
    p->key = m->key;
    p->agent = NS_INV_NONE;
    p->in_use = true;
    return p;
}

/* ---- messages -----------------------------------------------------------------------------------
 */

static void
hello(ns_collector_t *c, const ns_link_msg_t *m, const ns_msg_hello_t *h, uint64_t now)
{
    char fpr[NS_KEY_FINGERPRINT_LEN + 8];
    if (m->has_key)
        ns_key_fingerprint(&m->key, fpr);
    else
        snprintf(fpr, sizeof(fpr), "plain-text");
    ns_inventory_iface_hello_t ifs[NS_INV_IFACES_MAX];
    ns_host_addr_t addrs[NS_INV_IFACES_MAX][NS_INV_IF_ADDRS_MAX];
    size_t n_ifs = h->n_ifaces < NS_INV_IFACES_MAX ? h->n_ifaces : NS_INV_IFACES_MAX;
    for (size_t i = 0; i < n_ifs; i++) {
        const ns_msg_iface_t *f = &h->ifaces[i];
        size_t na = f->n_addrs < NS_INV_IF_ADDRS_MAX ? f->n_addrs : NS_INV_IF_ADDRS_MAX;
        for (size_t k = 0; k < na; k++)
            addrs[i][k] = (ns_host_addr_t){.ip_ver = f->addrs[k].ip_ver, .addr = f->addrs[k].addr};
        ifs[i] = (ns_inventory_iface_hello_t){.name = f->name,
                                              .link_type = f->link_type,
                                              .snaplen = f->snaplen,
                                              .addrs = addrs[i],
                                              .n_addrs = na};
    }
    ns_inventory_hello_t ih = {.hostname = h->hostname,
                               .version = h->agent_version,
                               .instance = h->start_ns,
                               .send_ns = h->clock_ns,
                               .ifaces = ifs,
                               .n_ifaces = n_ifs};
    uint32_t idx;
    ns_inventory_rc_t rc = ns_inventory_hello(c->inv, h->agent_id, fpr, &ih, now, &idx);
    if (rc == NS_INV_KEY_MISMATCH) {
        c->st.key_mismatch++;
        ns_log_warn("agent %s said Hello with key %s, not the key it first used: refused",
                    h->agent_id, fpr);
        return;
    }
    if (rc != NS_INV_NEW && rc != NS_INV_RECONNECTED && rc != NS_INV_RESTARTED) {
        ns_log_warn("agent %s refused: %s", h->agent_id, ns_inventory_rc_name(rc));
        return;
    }
    peer_t *p = peer_find(c, m);
    if (p == NULL)
        p = peer_add(c, m);
    if (p == NULL)
        return;
    /* a routing id taken over by another key is a new peer */
    p->has_key = m->has_key;
    p->key = m->key;
    p->agent = idx;
    p->revoked_logged = false;
    /* the agent's earlier connections are gone (it says Hello on every new one) */
    for (uint32_t i = 0; i < c->n_peers; i++)
        if (&c->peers[i] != p && c->peers[i].in_use && c->peers[i].agent == idx)
            c->peers[i].in_use = false;
    ns_host_addr_t all[NS_MERGE_AGENT_ADDRS_MAX];
    size_t na = ns_inventory_addrs(c->inv, idx, all, NS_MERGE_AGENT_ADDRS_MAX);
    (void)ns_merge_agent_add(c->merge, idx, all, na);
    ns_log_info("agent %s (%s, key %s, %zu interface(s)) %s", h->agent_id, h->hostname, fpr, n_ifs,
                ns_inventory_rc_name(rc));
    if (c->store)
        save_agents(c, now);
}

/* An update as a line of the flows file (output.updates), with the time it was received. */
static void
write_update(ns_collector_t *c, const char *agent, const ns_flow_rec_t *r, uint64_t now)
{
    ns_flow_record_extra_t extra = {.agent = agent, .received_ns = now};
    if (ns_flow_record_write(&c->buf, r, &extra, 0, 1) != 0)
        ns_log_error("out of memory writing a flow record");
}

/* The final record of flow r->uid from agent `idx` (named `agent`), with the transactions its
 * updates carried before it, as one line of the flows file, a record of the history and a row
 * for ClickHouse. */
static void
write_final(ns_collector_t *c, uint32_t idx, const char *agent, const ns_flow_rec_t *r,
            const ns_merge_info_t *mi, uint64_t now)
{
    ns_flow_rec_t whole;
    ns_txstore_take(c->txs, idx, r, &whole);
    if (c->store)
        store_flow(c, agent, &whole, mi, now);
    if (c->ch) {
        ns_store_meta_t meta = flow_meta(c, agent, mi, now);
        (void)ns_chsink_put_flow(c->ch, &whole, &meta); /* a refusal is counted there */
    }
    if (c->flows == NULL)
        return;
    ns_flow_record_extra_t extra = {.agent = agent};
    if (ns_flow_record_write(&c->buf, &whole, &extra, 0, 1) != 0)
        ns_log_error("out of memory writing a flow record");
    c->st.finals_written++;
    if (c->buf.len >= FLUSH_CHUNK) {
        if (fwrite(c->buf.buf, 1, c->buf.len, c->flows) != c->buf.len)
            ns_log_error("writing %s failed: %s", c->cfg->flows, strerror(errno));
        c->buf.len = 0;
    }
}

/* What an applied record adds to the live analyses: the same deltas as the time series. */
static void
live_record(ns_collector_t *c, uint32_t agent, const ns_flow_rec_t *r, const ns_merge_info_t *mi,
            ns_merge_rc_t rc, uint64_t now)
{
    if (rc != NS_MERGE_NEW && rc != NS_MERGE_JOINED && rc != NS_MERGE_APPLIED)
        return;
    ns_live_update_t u = {.agent = agent,
                          .ip_ver = r->ip_ver,
                          .proto = r->proto,
                          .orig_h = r->orig_h,
                          .resp_h = r->resp_h,
                          .service = r->service,
                          .d_pkts = mi->d_pkts,
                          .d_bytes = mi->d_wire_bytes,
                          .d_retrans = mi->d_retrans,
                          .counted = mi->first_observer,
                          .new_flow = rc == NS_MERGE_NEW};
    if (!mi->had_rtt && (r->hs & NS_FLOW_REC_HS_TOTAL))
        u.rtt_ns = r->rtt_hs_ns;
    ns_live_update(c->live, &u, now);
}

static void
batch(ns_collector_t *c, peer_t *p, const ns_msg_batch_t *b, uint64_t now)
{
    c->st.batches++;
    ns_seq_verdict_t v = ns_inventory_batch(c->inv, p->agent, b->seq, b->send_ns, now);
    p->ack_due = true;
    if (v == NS_SEQ_DUPLICATE || v == NS_SEQ_INVALID) {
        c->st.batches_dup++;
        return;
    }
    const ns_inventory_agent_t *a = ns_inventory_get(c->inv, p->agent);
    for (uint32_t i = 0; i < b->n_recs; i++) {
        const ns_flow_rec_t *r = &b->recs[i];
        c->st.records++;
        ns_merge_info_t mi;
        ns_merge_rc_t rc = ns_merge_update_info(c->merge, p->agent, r, now, &mi);
        const char *name = a ? a->id : "?";
        if (c->store)
            store_record(c, name, r, &mi, rc, now);
        live_record(c, p->agent, r, &mi, rc, now);
        ns_detect_update(c->det, name, r, rc, &mi, now);
        ns_analysis_update(c->an, r, rc, &mi, now);
        if (r->kind != NS_FLOW_REC_FINAL) {
            ns_txstore_add(c->txs, p->agent, r, now); /* even a stale update's: they come once */
            if (c->cfg->updates && c->flows && rc != NS_MERGE_STALE && rc != NS_MERGE_INVALID)
                write_update(c, name, r, now);
            if (r->kind == NS_FLOW_REC_INTERIM && c->store && rc != NS_MERGE_STALE &&
                rc != NS_MERGE_INVALID)
                store_flow(c, name, r, &mi, now);
        } else if (rc != NS_MERGE_DUP_FINAL && rc != NS_MERGE_INVALID)
            write_final(c, p->agent, name, r, &mi, now);
    }
}

static void
heartbeat(ns_collector_t *c, peer_t *p, const ns_msg_heartbeat_t *h, uint64_t now)
{
    ns_inventory_health_t hh = {.send_ns = h->send_ns,
                                .lowest_held_seq = h->lowest_held_seq,
                                .queue_depth = h->queue_depth,
                                .batches_sent = h->batches_sent,
                                .batches_dropped = h->batches_dropped,
                                .updates_dropped = h->updates_dropped,
                                .finals_dropped = h->finals_dropped,
                                .flows_active = h->flows_active,
                                .evictions = h->evictions};
    if (p->cpu_at && h->send_ns > p->cpu_at && h->cpu_ns >= p->cpu_ns)
        hh.cpu_pct = 100.0 * (double)(h->cpu_ns - p->cpu_ns) / (double)(h->send_ns - p->cpu_at);
    p->cpu_ns = h->cpu_ns;
    p->cpu_at = h->send_ns;
    (void)ns_inventory_heartbeat(c->inv, p->agent, &hh, now);
    const ns_inventory_agent_t *a = ns_inventory_get(c->inv, p->agent);
    if (a && a->clock_known)
        (void)ns_merge_agent_clock(c->merge, p->agent, a->clock_offset_ns);
    p->ack_due = true; /* the ack point may have moved past batches declared lost */
}

static void
iface_stats(ns_collector_t *c, peer_t *p, const ns_msg_iface_stats_t *s, uint64_t now)
{
    for (uint32_t i = 0; i < s->n_ifaces; i++) {
        const ns_msg_iface_counters_t *f = &s->ifaces[i];
        ns_inventory_ifstats_t st = {.pkts = f->packets,
                                     .bytes = f->bytes,
                                     .kernel_drops = f->kernel_drops,
                                     .if_drops = f->iface_drops};
        (void)ns_inventory_iface_stats(c->inv, p->agent, f->index, &st, now);
    }
}

static void
take(ns_collector_t *c, const ns_link_msg_t *m, uint64_t now)
{
    c->st.messages++;
    c->st.bytes += m->len;
    if (!m->key_allowed) {
        /* revoked: libzmq cannot drop one peer of a ROUTER, so its messages are dropped */
        c->st.revoked++;
        peer_t *p = peer_find(c, m);
        if (p && !p->revoked_logged) {
            char z85[NS_KEY_Z85_LEN + 1];
            ns_key_z85(&m->key, z85);
            ns_log_warn("agent key %s was revoked: its messages are dropped", z85);
            p->revoked_logged = true;
            if (p->agent != NS_INV_NONE)
                ns_inventory_disconnect(c->inv, p->agent, now);
        }
        return;
    }
    const ns_msg_t *msg;
    if (ns_codec_decode_agent(c->codec, m->data, m->len, &msg) != NS_CODEC_OK) {
        c->st.rejected++;
        ns_log_debug("message from %s refused: %s", m->address, ns_codec_error(c->codec));
        return;
    }
    if (msg->type == NS_MSG_HELLO) {
        hello(c, m, &msg->u.hello, now);
        return;
    }
    peer_t *p = peer_find(c, m);
    if (p == NULL || p->agent == NS_INV_NONE ||
        (p->has_key && memcmp(&p->key, &m->key, sizeof(m->key)) != 0)) {
        c->st.unknown_peer++;
        return;
    }
    switch (msg->type) {
    case NS_MSG_BATCH:
        batch(c, p, &msg->u.batch, now);
        break;
    case NS_MSG_HEARTBEAT:
        heartbeat(c, p, &msg->u.heartbeat, now);
        break;
    case NS_MSG_IFACE_STATS:
        iface_stats(c, p, &msg->u.iface_stats, now);
        break;
    case NS_MSG_FILTER_RESULT:
        ns_log_info("filter result %u: %s", msg->u.filter_result.request_id,
                    msg->u.filter_result.ok ? "ok" : msg->u.filter_result.error);
        break;
    case NS_MSG_PACKETS:
        c->pkt_flags = (msg->u.packets.whole_ring ? NS_COLLECTOR_PKT_RING : 0u) |
                       (msg->u.packets.whole_ring && !msg->u.packets.last_chunk
                            ? NS_COLLECTOR_PKT_MORE
                            : 0u);
        if (c->ev == NULL || !ns_evidence_reply(c->ev, &msg->u.packets, on_pcap, c))
            ns_log_info("packets reply %u: %u frames", msg->u.packets.request_id,
                        msg->u.packets.n_frames);
        c->pkt_flags = 0; /* expiry hands out plain answers */
        break;
    default:
        break;
    }
}

/* Write what was taken, then acknowledge it: an agent forgets only what is on disk. */
static void
flush_and_ack(ns_collector_t *c)
{
    if (c->flows) {
        if (c->buf.len > 0 && fwrite(c->buf.buf, 1, c->buf.len, c->flows) != c->buf.len)
            ns_log_error("writing %s failed: %s", c->cfg->flows, strerror(errno));
        c->buf.len = 0;
        fflush(c->flows);
    }
    /* Without a store an ack goes as soon as the records are written; with one, once the
     * batch holding them is committed, so that an acknowledged record survives a crash. A
     * peer waits for one ack at a time (acks are cumulative): a later batch's ack is taken
     * when the earlier one is sent, so a steady stream cannot push an ack back forever. */
    uint64_t ticket = c->store ? ns_store_ticket(c->store) : 0;
    for (uint32_t i = 0; i < c->n_peers; i++) {
        peer_t *p = &c->peers[i];
        if (!p->in_use || p->agent == NS_INV_NONE)
            continue;
        for (int round = 0; round < 2; round++) {
            if (!p->ack_waiting && p->ack_due) {
                p->ack_due = false;
                p->ack_waiting = true;
                p->ack_seq = ns_inventory_ack(c->inv, p->agent);
                p->ack_ticket = ticket;
            }
            if (!p->ack_waiting || (c->store && !ns_store_done(c->store, p->ack_ticket)))
                break;
            ns_msg_t m = {.type = NS_MSG_ACK};
            m.u.ack.seq = p->ack_seq;
            uint8_t buf[64];
            size_t len;
            if (ns_codec_encode(c->codec, &m, buf, sizeof(buf), &len) != NS_OK ||
                ns_link_send_to(c->link, p->id, p->id_len, buf, len) != NS_LINK_OK)
                break; /* tried again with the next round */
            c->st.acks_sent++;
            p->ack_waiting = false;
        }
    }
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
do_reload(ns_collector_t *c)
{
    c->reload = 0;
    (void)ns_sdnotify("RELOADING=1\nSTATUS=reloading (SIGHUP)");
    char derr[512];
    ns_detect_config_t dc;
    if (!ns_collector_config_detect_reload(c->cfg, &dc, derr, sizeof(derr)) ||
        !ns_detect_configure(c->det, &dc, derr, sizeof(derr)))
        ns_log_error("SIGHUP: detectors not reconfigured, the old settings stay: %s", derr);
    else
        ns_log_info("SIGHUP: detectors reconfigured from %s",
                    c->cfg->config_file ? c->cfg->config_file : "the defaults");
    ns_collector_config_detect_free(&dc);
    if (c->cfg->insecure) {
        ns_log_info("SIGHUP: plain text, no allowed keys to reload");
        return;
    }
    char err[512];
    if (ns_link_reload(c->link, err, sizeof(err)) != NS_OK)
        ns_log_error("SIGHUP: allowed keys not reloaded, the old list stays: %s", err);
    else
        ns_log_info("SIGHUP: %zu allowed agent keys from %s", ns_link_allowed_count(c->link),
                    c->cfg->allowed_keys);
}

int
ns_collector_run(ns_collector_t *self)
{
    ns_collector_t *c = self;
    uint64_t next_periodic = 0;
    ns_log_info("listening on %s (%s)", ns_link_endpoint(c->link),
                c->cfg->insecure ? "PLAIN TEXT, every agent accepted" : "CURVE");
    if (c->cfg->insecure)
        ns_log_warn("--insecure: agents are not authenticated and their records travel in "
                    "plain text");
    /* the API and the stream are bound by now (main.c starts them before this) */
    ns_watchdog_t wd;
    ns_watchdog_init(&wd, mono_ns());
    (void)ns_sdnotifyf("READY=1\nSTATUS=listening on %s", ns_link_endpoint(c->link));
    int rc = 0;
    while (!c->stop) {
        if (c->reload) {
            do_reload(c);
            (void)ns_sdnotifyf("READY=1\nSTATUS=listening on %s", ns_link_endpoint(c->link));
        }
        (void)ns_watchdog_poll(&wd, mono_ns());
        if (c->dump_pid)
            dump_reap(c, false);
        if (c->dump && c->dump_pid == 0) {
            c->dump = 0;
            dump_start(c);
        }
        ns_link_msg_t m;
        int wait = WAIT_MS;
        bool locked = false;
        for (int i = 0; i < BURST; i++) {
            ns_link_rc_t r = ns_link_recv(c->link, &m, wait);
            if (r == NS_LINK_OK && !locked) {
                pthread_mutex_lock(&c->lock); /* after the wait: readers get in meanwhile */
                locked = true;
            }
            if (r == NS_LINK_ERROR) {
                ns_log_error("receiving failed: %s", ns_link_error(c->link));
                rc = 1;
                c->stop = 1;
                break;
            }
            if (r != NS_LINK_OK)
                break;
            take(c, &m, wall_ns());
            wait = 0;
        }
        if (!locked)
            pthread_mutex_lock(&c->lock);
        flush_and_ack(c);
        uint64_t now = wall_ns();
        if (c->n_asks)
            send_asks(c, now);
        if (now >= next_periodic) {
            ns_merge_expire(c->merge, now, c->cfg->linger_ns);
            ns_detect_tick(c->det, now, on_alert, c);
            ns_analysis_tick(c->an, now);
            ns_evidence_expire(c->ev, now, on_pcap, c);
            if (c->cfg->idle_ns)
                ns_txstore_expire(c->txs, now, c->cfg->idle_ns);
            if (c->store) {
                ns_merge_stats_t ms;
                ns_merge_stats(c->merge, &ms);
                ns_store_active(c->store, now, ms.flows);
                if (now >= c->agents_saved_ns + AGENTS_SAVE_NS) {
                    save_agents(c, c->agents_saved_ns);
                    c->agents_saved_ns = now;
                }
            }
            uint32_t gone = ns_inventory_expire(c->inv, now, c->cfg->silence_ns);
            if (gone)
                ns_log_info("%u agent(s) silent for %llu s: marked disconnected", gone,
                            (unsigned long long)(c->cfg->silence_ns / NS_PER_S));
            next_periodic = now + PERIODIC_NS;
        }
        pthread_mutex_unlock(&c->lock);
    }
    (void)ns_sdnotify("STOPPING=1\nSTATUS=stopping: writing and acknowledging the last records");
    /* what is written is acknowledged before the socket closes (its linger sends it): with a
     * store, once it is committed */
    pthread_mutex_lock(&c->lock);
    flush_and_ack(c);
    if (c->store) {
        save_agents(c, 0);
        if (!ns_store_sync(c->store, 10000))
            ns_log_error("history: the last records were not committed (see store_* counters)");
        flush_and_ack(c);
    }
    pthread_mutex_unlock(&c->lock);
    /* the exit state then counts what reached ClickHouse (a bounded wait when it is down) */
    if (c->ch && !ns_chsink_flush(c->ch, 5000))
        ns_log_warn("ClickHouse: rows still queued at exit (see the clickhouse_* counters)");
    return rc;
}

void
ns_collector_stop(ns_collector_t *self)
{
    self->stop = 1;
}

void
ns_collector_reload(ns_collector_t *self)
{
    self->reload = 1;
}

void
ns_collector_dump_request(ns_collector_t *self)
{
    self->dump = 1;
}

/* The counters of the state dump, read here in the ingest thread; returns how many. Some
 * come from modules with locks of their own (the link, the store, the ClickHouse sink): they
 * are read before a fork, never in the child. */
static size_t
dump_counters(ns_collector_t *c, ns_dump_counter_t *out, size_t cap)
{
    const ns_collector_stats_t *s = &c->st;
    const ns_codec_stats_t *cs = ns_codec_stats(c->codec);
    ns_link_stats_t ls;
    ns_link_stats(c->link, &ls);
    ns_merge_stats_t ms;
    ns_merge_stats(c->merge, &ms);
    ns_dump_counter_t k[] = {
        {"messages", s->messages},
        {"bytes", s->bytes},
        {"rejected_messages", s->rejected},
        {"oversize_messages", cs->by_reason[NS_CODEC_E_OVERSIZE]},
        {"unknown_peer_messages", s->unknown_peer},
        {"revoked_messages", s->revoked},
        {"refused_keys", ls.refused},
        {"handshake_failures", ls.handshake_failures},
        {"key_mismatches", s->key_mismatch},
        {"batches", s->batches},
        {"duplicate_batches", s->batches_dup},
        {"records", s->records},
        {"final_records_written", s->finals_written},
        {"acks_sent", s->acks_sent},
        {"merge_flows", ms.flows},
        {"merge_flows_two_agents", ms.flows_multi},
        {"merge_stale", ms.stale},
        {"merge_duplicate_finals", ms.dup_finals},
        {"merge_evicted", ms.evicted},
        {"store_refused", c->store_refused},
        {"store_commits", 0},
        {"store_records_written", 0},
        {"store_size_evictions", 0},
        {"store_duplicates_skipped", 0},
        /* the ClickHouse export (all 0 when it is off) */
        {"clickhouse_flows_queued", 0},
        {"clickhouse_rollups_queued", 0},
        {"clickhouse_flows_sent", 0},
        {"clickhouse_rollups_sent", 0},
        {"clickhouse_batches_sent", 0},
        {"clickhouse_failures", 0},
        {"clickhouse_retries", 0},
        {"clickhouse_drops", 0},
        {"clickhouse_queue_rows", 0},
    };
    const size_t n_ch = 9, n_k = sizeof(k) / sizeof(k[0]);
    _Static_assert(sizeof(k) / sizeof(k[0]) <= DUMP_COUNTERS_MAX, "DUMP_COUNTERS_MAX too small");
    if (c->store) {
        ns_store_stats_t ss;
        ns_store_stats(c->store, &ss);
        k[n_k - n_ch - 4].value = ss.commits;
        k[n_k - n_ch - 3].value = ss.records_written;
        k[n_k - n_ch - 2].value = ss.size_evictions;
        k[n_k - n_ch - 1].value = ss.duplicates_skipped;
    }
    if (c->ch) {
        ns_chsink_stats_t hs;
        ns_chsink_stats(c->ch, &hs);
        const uint64_t v[] = {hs.flows_queued, hs.rollups_queued, hs.flows_sent,
                              hs.rollups_sent, hs.batches_sent,   hs.failures,
                              hs.retries,      hs.drops,          hs.queue_rows};
        for (size_t i = 0; i < n_ch; i++)
            k[n_k - n_ch + i].value = v[i];
    }
    size_t n = n_k < cap ? n_k : cap;
    memcpy(out, k, n * sizeof(*out));
    return n;
}

/* Write the state (the counters `k`, the inventory, the merged flows) to the configured file
 * (through FILE.tmp and a rename) or to standard output. Logs what went wrong. */
static bool
dump_write(ns_collector_t *c, const ns_dump_counter_t *k, size_t n_k)
{
    const char *path = c->cfg->state;
    bool to_stdout = path == NULL || path[0] == '\0' || strcmp(path, "-") == 0;
    char tmp[4096];
    FILE *out = stdout;
    if (!to_stdout) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        out = fopen(tmp, "w");
        if (out == NULL) {
            ns_log_error("cannot write %s: %s", tmp, strerror(errno));
            return false;
        }
    }
    bool ok = ns_dump_write(out, c->inv, c->merge, k, n_k, wall_ns());
    if (to_stdout) {
        ok = fflush(stdout) == 0 && ok;
    } else {
        ok = fclose(out) == 0 && ok;
        if (ok && rename(tmp, path) != 0) {
            ns_log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
            ok = false;
        }
    }
    if (ok)
        ns_log_info("state written to %s", to_stdout ? "standard output" : path);
    return ok;
}

/* Wait for the background dump's child (`block`: until it ends) and log how it ended. */
static void
dump_reap(ns_collector_t *c, bool block)
{
    int status = 0;
    pid_t r;
    do
        r = waitpid(c->dump_pid, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return; /* still writing */
    if (r < 0)
        ns_log_error("state dump (pid %ld): waitpid: %s", (long)c->dump_pid, strerror(errno));
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        ns_log_info("state dump (pid %ld) done in %.3f s", (long)c->dump_pid,
                    (double)(wall_ns() - c->dump_started_ns) / 1e9);
    else
        ns_log_error("state dump (pid %ld) failed (%s %d)", (long)c->dump_pid,
                     WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    c->dump_pid = 0;
}

/* A dump asked for while the collector runs (SIGUSR1) is written by a child process from a
 * copy-on-write image of this moment, so ingest does not stop for the seconds a large merge
 * table takes to format. The child touches only the merge table and the inventory, which no
 * other thread changes, and logs with one write(2) per line; it leaves with _exit, running no
 * exit handlers of the parent's libraries. When fork fails the dump is written here. */
static void
dump_start(ns_collector_t *c)
{
    ns_dump_counter_t k[DUMP_COUNTERS_MAX];
    size_t n = dump_counters(c, k, DUMP_COUNTERS_MAX);
    fflush(stdout); /* or the child would write what the parent has buffered a second time */
    c->dump_started_ns = wall_ns();
    pid_t pid = fork();
    uint64_t fork_ns = wall_ns() - c->dump_started_ns;
    if (pid == 0)
        _exit(dump_write(c, k, n) ? 0 : 1);
    if (pid < 0) {
        ns_log_warn("cannot start the state dump in the background (fork: %s): writing it "
                    "now, ingest waits",
                    strerror(errno));
        (void)dump_write(c, k, n);
        return;
    }
    c->dump_pid = pid;
    ns_log_info("state dump: written by pid %ld (ingest paused %.1f ms to fork)", (long)pid,
                (double)fork_ns / 1e6);
}

bool
ns_collector_dump(ns_collector_t *self)
{
    ns_collector_t *c = self;
    if (c->dump_pid)
        dump_reap(c, true); /* it writes to the same FILE.tmp */
    ns_dump_counter_t k[DUMP_COUNTERS_MAX];
    size_t n = dump_counters(c, k, DUMP_COUNTERS_MAX);
    return dump_write(c, k, n);
}

const ns_collector_stats_t *
ns_collector_stats(const ns_collector_t *self)
{
    return &self->st;
}

ns_chsink_t *
ns_collector_chsink(const ns_collector_t *self)
{
    return self->ch;
}

const char *
ns_collector_endpoint(const ns_collector_t *self)
{
    return ns_link_endpoint(self->link);
}

void
ns_collector_lock(ns_collector_t *self)
{
    pthread_mutex_lock(&self->lock);
}

void
ns_collector_unlock(ns_collector_t *self)
{
    pthread_mutex_unlock(&self->lock);
}

const ns_merge_t *
ns_collector_merge(const ns_collector_t *self)
{
    return self->merge;
}

const ns_inventory_t *
ns_collector_inventory(const ns_collector_t *self)
{
    return self->inv;
}

const ns_txstore_t *
ns_collector_txstore(const ns_collector_t *self)
{
    return self->txs;
}

void
ns_collector_link_stats(const ns_collector_t *self, uint64_t *refused_keys,
                        uint64_t *handshake_failures)
{
    ns_link_stats_t ls;
    ns_link_stats(self->link, &ls);
    *refused_keys = ls.refused;
    *handshake_failures = ls.handshake_failures;
}

const ns_detect_t *
ns_collector_detect(const ns_collector_t *self)
{
    return self->det;
}

const ns_analysis_t *
ns_collector_analysis(const ns_collector_t *self)
{
    return self->an;
}

void
ns_collector_notify_stats(const ns_collector_t *self, ns_notify_stats_t *out)
{
    ns_notify_stats(self->notify, out);
}

ns_store_t *
ns_collector_store(const ns_collector_t *self)
{
    return self->store;
}

uint64_t
ns_collector_conn_base(const ns_collector_t *self)
{
    return self->boot_ns;
}

uint64_t
ns_collector_codec_rejects(const ns_collector_t *self)
{
    return ns_codec_stats(self->codec)->rejected;
}

const ns_live_t *
ns_collector_live(const ns_collector_t *self)
{
    return self->live;
}

void
ns_collector_packets_fn(ns_collector_t *self, unsigned channel, ns_collector_pkt_fn fn, void *ud)
{
    if (channel >= NS_COLLECTOR_PKT_CHANNELS)
        return;
    self->pkt_fn[channel] = fn;
    self->pkt_ud[channel] = ud;
}

bool
ns_collector_packets_ask(ns_collector_t *self, const ns_collector_pkt_ask_t *ask)
{
    if (self->n_asks >= PKT_ASKS || (ask->tag & ~PKT_TAG_MASK) ||
        ask->channel >= NS_COLLECTOR_PKT_CHANNELS)
        return false;
    self->asks[self->n_asks++] = *ask;
    return true;
}

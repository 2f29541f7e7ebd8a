/* ws.c - the live stream over libwebsockets (see ws.h and docs/stream.md).
 *
 * Threads: libwebsockets runs on the stream's own thread (lws_service), and every callback,
 * client structure and frame buffer below belongs to it. Two things cross threads: the
 * collector's live state, copied under the collector's lock once per tick (`shared`), and
 * packet answers, which the ingest thread hands over through a small mailbox under
 * `mbox_lock` (lock order: the collector's lock, then mbox_lock) before waking the loop with
 * lws_cancel_service(). Counters for /metrics are atomics.
 *
 * Deltas: for the graph and the flows, each client keeps the sorted set of what it was last
 * sent (key -> a version: bytes for nodes and edges, last update time for flows). A frame
 * sends the entries that are new or changed and the keys that left; a filter change clears
 * the set (full:true). Skipped ticks do not break a delta, since it is taken against what
 * was actually written.
 */
#include "netscope/ws.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "netscope/bpf_flow.h"
#include "netscope/log.h"

#define WS_PATH "/api/v1/stream"
#define WS_PROTOCOL "netscope.v1"
#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
#define RX_MAX 4096u                     /* a client message, bytes */
#define ERR_QUEUE 8u                     /* error frames waiting per client */
#define PKT_PENDING 4u                   /* get_packets requests in flight per client */
#define PKT_TIMEOUT_NS (7ull * NS_PER_S) /* the collector gives up on an agent after 5 s */
#define PKT_MAX_BYTES (16u << 20)
#define MBOX_MAX 16u
#define FLOWS_MAX 500u                       /* live flows listed per client */
#define GRAPH_MAX 2000u                      /* graph nodes and edges */
/* A client's flow list is recomputed every FLOWS_PERIOD_NS at most, and no more often than
 * FLOWS_SCAN_SHARE times the last walk of the live view took: a small table's new flows reach
 * the screen within a frame or three; a large one's walk stays under 1/FLOWS_SCAN_SHARE of a
 * core per client. */
#define FLOWS_PERIOD_NS (100ull * NS_PER_MS)
#define FLOWS_SCAN_SHARE 10u
#define ORIGIN_MAX 256u

/* ---- sets of what a client was sent ------------------------------------------------------- */

typedef struct {
    uint8_t key[33]; /* a host (version + address), a pair, or a flow uid */
    uint64_t ver;    /* bytes, or the flow's last update */
    uint32_t idx;    /* position in the current list (new sets only) */
} item_t;

typedef struct {
    item_t *v;
    uint32_t n, cap;
} set_t;

static int
item_cmp(const void *a, const void *b)
{
    return memcmp(((const item_t *)a)->key, ((const item_t *)b)->key, sizeof(((item_t *)0)->key));
}

static bool
set_reserve(set_t *s, uint32_t n)
{
    if (n <= s->cap)
        return true;
    item_t *v = realloc(s->v, (size_t)n * sizeof(*v));
    if (v == NULL)
        return false;
    s->v = v;
    s->cap = n;
    return true;
}

/* Walk the sorted sets `old` and `cur`: changed(idx) for entries of cur that are new or whose
 * version differs, removed(old item) for keys of old not in cur. */
static void
set_diff(const set_t *old, const set_t *cur, void (*changed)(void *ud, const item_t *it),
         void (*removed)(void *ud, const item_t *it), void *ud)
{
    uint32_t i = 0, j = 0;
    while (i < old->n || j < cur->n) {
        int c = i == old->n ? 1 : j == cur->n ? -1 : item_cmp(&old->v[i], &cur->v[j]);
        if (c < 0) {
            removed(ud, &old->v[i++]);
        } else if (c > 0) {
            changed(ud, &cur->v[j++]);
        } else {
            if (old->v[i].ver != cur->v[j].ver)
                changed(ud, &cur->v[j]);
            i++;
            j++;
        }
    }
}

/* ---- clients ------------------------------------------------------------------------------ */

typedef struct {
    char request[16];
    char message[512];
    bool has_id;
    uint32_t id;
} err_frame_t;

typedef struct {
    uint32_t id;
    uint64_t deadline_ns;
} pending_t;

typedef struct {
    struct lws *wsi;
    uint64_t serial; /* tags its packet requests */
    uint64_t seq, skipped;
    bool hello_done, state_due, paused;
    bool flows_full, graph_full;
    ns_bpf_flow_t *filter;
    set_t flows, nodes, edges;
    uint64_t flows_at_ns, flows_total;
    char rx[RX_MAX];
    size_t rx_len;
    bool rx_overflow;
    err_frame_t err[ERR_QUEUE];
    uint32_t n_err;
    pending_t pend[PKT_PENDING];
    uint32_t n_pend;
    uint8_t *pcap;   /* a ready binary frame: LWS_PRE, 4-byte id, the pcap */
    size_t pcap_len; /* bytes after LWS_PRE */
} client_t;

/* ---- the state every client's frame is built from (one copy per tick) --------------------- */

typedef struct {
    char id[NS_INV_ID_MAX];
    bool connected;
    ns_live_rate_t rate;
    uint64_t queue_depth, kernel_drops, lost_batches, flows_active;
    bool clock_known;
    int64_t clock_offset_ns;
} agent_row_t;

typedef struct {
    ns_live_snap_t *snap;
    uint64_t flows_active;
    agent_row_t *agents;
    uint32_t n_agents, cap_agents;
    alerts_t alerts;
    uint64_t alerts_at_ns; /* copied once a second: alerts change slowly, the copy is big */
} shared_t;

typedef struct {
    uint64_t tag;
    uint8_t *data; /* NULL: error */
    size_t len;
    char error[128];
} answer_t;

struct ns_ws {
    ns_collector_t *collector;
    ns_api_t *api;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    lws_sorted_usec_list_t tick;
    uint64_t tick_us;
    unsigned rate_hz;
    bool loopback;
    char *token;
    char **origins;
    size_t n_origins;
    char url[128];
    uint16_t port;
    client_t *clients[NS_WS_CLIENTS_MAX];
    uint32_t n_clients;
    uint64_t next_serial;
    shared_t sh;
    ns_httpd_resp_t frame;  /* the frame being built (LWS_PRE bytes first) */
    api_live_item_t *picks; /* the flow list being built (FLOWS_MAX) */
    uint32_t n_picks;
    uint64_t scan_ns; /* how long the last walk of the live view took */
    set_t cur; /* the current set being diffed */
    pthread_mutex_t mbox_lock;
    answer_t mbox[MBOX_MAX];
    uint32_t n_mbox;
    atomic_uint_fast64_t n_live, sent, skipped, bytes, refused;
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

/* ---- a flat JSON object parser for client messages ----------------------------------------
 * Client messages are flat objects of strings, integers, booleans and null. Anything else
 * (nesting, floats, duplicate-free checks) is refused: the messages are small and ours. */

typedef struct {
    char type[16];
    char bpf[NS_BPF_FLOW_EXPR_MAX + 1];
    bool has_bpf, has_id;
    uint32_t id;
    char uid[NS_FLOW_UID_LEN + 1];
} msg_t;

typedef struct {
    const char *p, *end;
} rd_t;

static void
skip_ws(rd_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static bool
read_u4(rd_t *r, uint32_t *out)
{
    if (r->end - r->p < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    r->p += 4;
    *out = v;
    return true;
}

static size_t
utf8_put(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string literal into out (NUL-terminated; false when longer than outlen - 1, malformed,
 * or holding a NUL). */
static bool
read_str(rd_t *r, char *out, size_t outlen)
{
    size_t n = 0;
    if (r->p >= r->end || *r->p != '"')
        return false;
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        char tmp[4];
        size_t k = 1;
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20)
            return false;
        tmp[0] = (char)c;
        if (c == '\\') {
            if (r->p >= r->end)
                return false;
            char e = *r->p++;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e == 'u') {
                uint32_t cp, lo;
                if (!read_u4(r, &cp))
                    return false;
                if (cp >= 0xd800 && cp < 0xdc00) {
                    if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                        return false;
                    r->p += 2;
                    if (!read_u4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        return false;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return false;
                }
                if (cp == 0)
                    return false;
                k = utf8_put(cp, tmp);
            } else if (e && simple) {
                tmp[0] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            } else {
                return false;
            }
        }
        if (n + k >= outlen)
            return false;
        memcpy(out + n, tmp, k);
        n += k;
    }
    if (r->p >= r->end)
        return false;
    r->p++;
    out[n] = '\0';
    return true;
}

/* Skip a scalar value (string, integer, true, false, null); its digits when an integer. */
static bool
read_scalar(rd_t *r, char *num, size_t numlen)
{
    num[0] = '\0';
    if (r->p < r->end && *r->p == '"') {
        char sink[NS_BPF_FLOW_EXPR_MAX + 1];
        return read_str(r, sink, sizeof(sink));
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(words[i]);
        if ((size_t)(r->end - r->p) >= l && memcmp(r->p, words[i], l) == 0) {
            r->p += l;
            return true;
        }
    }
    size_t n = 0;
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || (n == 0 && *r->p == '-'))) {
        if (n + 1 >= numlen)
            return false;
        num[n++] = *r->p++;
    }
    num[n] = '\0';
    return n > 0 && !(n == 1 && num[0] == '-');
}

static bool
msg_parse(const char *s, size_t len, msg_t *m, const char **why)
{
    memset(m, 0, sizeof(*m));
    rd_t r = {s, s + len};
    *why = "not a JSON object of strings and integers";
    skip_ws(&r);
    if (r.p >= r.end || *r.p++ != '{')
        return false;
    skip_ws(&r);
    bool first = true;
    while (r.p < r.end && *r.p != '}') {
        if (!first) {
            if (*r.p++ != ',')
                return false;
            skip_ws(&r);
        }
        first = false;
        char key[32], num[24];
        if (!read_str(&r, key, sizeof(key)))
            return false;
        skip_ws(&r);
        if (r.p >= r.end || *r.p++ != ':')
            return false;
        skip_ws(&r);
        bool ok;
        if (strcmp(key, "type") == 0)
            ok = read_str(&r, m->type, sizeof(m->type));
        else if (strcmp(key, "bpf") == 0)
            ok = m->has_bpf = read_str(&r, m->bpf, sizeof(m->bpf));
        else if (strcmp(key, "uid") == 0)
            ok = read_str(&r, m->uid, sizeof(m->uid));
        else if (strcmp(key, "id") == 0) {
            char *e;
            ok = read_scalar(&r, num, sizeof(num)) && num[0] && num[0] != '-';
            unsigned long long v = ok ? strtoull(num, &e, 10) : 0;
            ok = ok && v <= UINT32_MAX;
            m->id = (uint32_t)v;
            m->has_id = ok;
        } else
            ok = read_scalar(&r, num, sizeof(num));
        if (!ok)
            return false;
        skip_ws(&r);
    }
    if (r.p >= r.end)
        return false;
    r.p++;
    skip_ws(&r);
    if (r.p != r.end)
        return false;
    *why = "no \"type\"";
    return m->type[0] != '\0';
}

/* ---- frames -------------------------------------------------------------------------------- */

static void
frame_begin(ns_ws_t *w, client_t *c, const char *type)
{
    static const uint8_t pre[LWS_PRE];
    ns_httpd_resp_reset(&w->frame);
    ns_httpd_resp_append(&w->frame, pre, LWS_PRE);
    ns_httpd_resp_printf(&w->frame, "{\"type\":\"%s\",\"ts\":%llu,\"seq\":%llu", type,
                         (unsigned long long)wall_ns(), (unsigned long long)++c->seq);
}

/* Write the frame built; false when the connection must close. */
static bool
frame_send(ns_ws_t *w, client_t *c, uint8_t *buf, size_t len, enum lws_write_protocol kind)
{
    if (w->frame.oom && buf == (uint8_t *)w->frame.body)
        return false;
    int n = lws_write(c->wsi, buf + LWS_PRE, len, kind);
    if (n < (int)len)
        return false;
    atomic_fetch_add(&w->sent, 1);
    atomic_fetch_add(&w->bytes, len);
    return true;
}

static bool
frame_end(ns_ws_t *w, client_t *c)
{
    ns_httpd_resp_append(&w->frame, "}", 1);
    return frame_send(w, c, (uint8_t *)w->frame.body, w->frame.len - LWS_PRE, LWS_WRITE_TEXT);
}

static void
addr_text(const ns_host_addr_t *h, char *out, size_t len)
{
    if (inet_ntop(h->ip_ver == 6 ? AF_INET6 : AF_INET, h->addr.b, out, (socklen_t)len) == NULL)
        snprintf(out, len, "?");
}

static void
json_num(ns_httpd_resp_t *r, const char *name, double v)
{
    if (v < 0)
        ns_httpd_resp_printf(r, ",\"%s\":null", name);
    else
        ns_httpd_resp_printf(r, ",\"%s\":%.3f", name, v);
}

static void
queue_error(client_t *c, const char *request, const char *msg, bool has_id, uint32_t id)
{
    if (c->n_err == ERR_QUEUE)
        return; /* a client flooding bad requests loses error frames, not memory */
    err_frame_t *e = &c->err[c->n_err++];
    snprintf(e->request, sizeof(e->request), "%s", request);
    snprintf(e->message, sizeof(e->message), "%s", msg);
    e->has_id = has_id;
    e->id = id;
    lws_callback_on_writable(c->wsi);
}

static bool
send_error(ns_ws_t *w, client_t *c)
{
    err_frame_t e = c->err[0];
    memmove(&c->err[0], &c->err[1], (c->n_err - 1) * sizeof(c->err[0]));
    c->n_err--;
    frame_begin(w, c, "error");
    ns_httpd_resp_printf(&w->frame, ",\"request\":");
    ns_httpd_resp_json_str(&w->frame, e.request);
    if (e.has_id)
        ns_httpd_resp_printf(&w->frame, ",\"id\":%u", e.id);
    ns_httpd_resp_printf(&w->frame, ",\"message\":");
    ns_httpd_resp_json_str(&w->frame, e.message);
    return frame_end(w, c);
}

static bool
send_hello(ns_ws_t *w, client_t *c)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    frame_begin(w, c, "hello");
    ns_httpd_resp_printf(&w->frame, ",\"version\":\"%s\",\"rate_hz\":%u,\"collector\":", NS_VERSION,
                         w->rate_hz);
    ns_httpd_resp_json_str(&w->frame, host);
    c->hello_done = true;
    return frame_end(w, c);
}

/* ---- the graph delta ----------------------------------------------------------------------- */

typedef struct {
    ns_ws_t *w;
    const ns_live_snap_t *snap;
    bool edges;
    uint32_t written;
} graph_walk_t;

static void
graph_changed(void *ud, const item_t *it)
{
    graph_walk_t *g = ud;
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    ns_httpd_resp_t *r = &g->w->frame;
    if (g->written++)
        ns_httpd_resp_append(r, ",", 1);
    if (g->edges) {
        const ns_live_edge_t *e = &g->snap->edges[it->idx];
        addr_text(&e->src, a, sizeof(a));
        addr_text(&e->dst, b, sizeof(b));
        ns_httpd_resp_printf(r, "{\"src\":\"%s\",\"dst\":\"%s\",\"bytes\":%llu}", a, b,
                             (unsigned long long)e->bytes);
    } else {
        const ns_live_node_t *n = &g->snap->nodes[it->idx];
        addr_text(&n->host, a, sizeof(a));
        ns_httpd_resp_printf(r, "{\"id\":\"%s\",\"bytes\":%llu}", a, (unsigned long long)n->bytes);
    }
}

static void
key_host(const ns_host_addr_t *h, uint8_t *key)
{
    key[0] = h->ip_ver;
    memcpy(key + 1, h->addr.b, 16);
}

static void
graph_removed(void *ud, const item_t *it)
{
    graph_walk_t *g = ud;
    ns_host_addr_t a = {.ip_ver = it->key[0]}, b = {.ip_ver = it->key[0]};
    memcpy(a.addr.b, it->key + 1, 16);
    memcpy(b.addr.b, it->key + 17, 16);
    char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
    addr_text(&a, x, sizeof(x));
    if (g->written++)
        ns_httpd_resp_append(&g->w->frame, ",", 1);
    if (g->edges) {
        addr_text(&b, y, sizeof(y));
        ns_httpd_resp_printf(&g->w->frame, "[\"%s\",\"%s\"]", x, y);
    } else {
        ns_httpd_resp_printf(&g->w->frame, "\"%s\"", x);
    }
}

static void
ignore_item(void *ud, const item_t *it)
{
    (void)ud, (void)it;
}

/* Build w->cur for the snapshot's nodes (or edges), sorted by key. */
static bool
graph_set(ns_ws_t *w, const ns_live_snap_t *s, bool edges)
{
    uint32_t n = edges ? s->n_edges : s->n_nodes;
    if (!set_reserve(&w->cur, n ? n : 1))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        item_t *it = &w->cur.v[i];
        memset(it->key, 0, sizeof(it->key));
        if (edges) {
            key_host(&s->edges[i].src, it->key);
            memcpy(it->key + 17, s->edges[i].dst.addr.b, 16);
            it->ver = s->edges[i].bytes;
        } else {
            key_host(&s->nodes[i].host, it->key);
            it->ver = s->nodes[i].bytes;
        }
        it->idx = i;
    }
    w->cur.n = n;
    qsort(w->cur.v, n, sizeof(item_t), item_cmp);
    return true;
}

/* Write one half of the graph delta and make the current set the client's. */
static bool
graph_part(ns_ws_t *w, set_t *sent, bool full, bool edges, const char *name,
           const char *removed_name)
{
    if (!graph_set(w, w->sh.snap, edges))
        return false;
    set_t none = {0};
    graph_walk_t g = {.w = w, .snap = w->sh.snap, .edges = edges};
    ns_httpd_resp_printf(&w->frame, "%s\"%s\":[", edges ? "," : "", name);
    set_diff(full ? &none : sent, &w->cur, graph_changed, ignore_item, &g);
    ns_httpd_resp_printf(&w->frame, "],\"%s\":[", removed_name);
    g.written = 0;
    set_diff(full ? &none : sent, &w->cur, ignore_item, graph_removed, &g);
    ns_httpd_resp_printf(&w->frame, "]");
    if (!set_reserve(sent, w->cur.n ? w->cur.n : 1))
        return false;
    memcpy(sent->v, w->cur.v, (size_t)w->cur.n * sizeof(item_t));
    sent->n = w->cur.n;
    return true;
}

/* ---- the flows delta ----------------------------------------------------------------------- */

typedef struct {
    ns_ws_t *w;
    const ns_bpf_flow_t *filter;
    uint64_t total;
    uint32_t min_i; /* the pick with the oldest last_ns once FLOWS_MAX are held */
} flow_pick_t;

static uint32_t
oldest_pick(const ns_ws_t *w)
{
    uint32_t m = 0;
    for (uint32_t i = 1; i < w->n_picks; i++)
        if (w->picks[i].f.last_ns < w->picks[m].f.last_ns)
            m = i;
    return m;
}

static bool
on_live_flow(void *ud, const api_live_item_t *it)
{
    flow_pick_t *p = ud;
    ns_ws_t *w = p->w;
    if (p->filter) {
        ns_flow_rec_t r;
        api_live_rec(&it->f, &r);
        if (!ns_bpf_flow_match_rec(p->filter, &r))
            return true;
    }
    p->total++;
    if (w->n_picks < FLOWS_MAX) {
        w->picks[w->n_picks++] = *it;
        if (w->n_picks == FLOWS_MAX)
            p->min_i = oldest_pick(w);
    } else if (it->f.last_ns > w->picks[p->min_i].f.last_ns) {
        w->picks[p->min_i] = *it;
        p->min_i = oldest_pick(w);
    }
    return true;
}

typedef struct {
    ns_ws_t *w;
    api_out_t out;
    uint32_t written;
} flow_walk_t;

static void
flow_changed(void *ud, const item_t *it)
{
    flow_walk_t *f = ud;
    api_out_live(&f->out, &f->w->picks[it->idx]);
}

static void
flow_removed(void *ud, const item_t *it)
{
    flow_walk_t *f = ud;
    if (f->written++)
        ns_httpd_resp_append(&f->w->frame, ",", 1);
    ns_httpd_resp_json_str(&f->w->frame, (const char *)it->key);
}

static bool
write_flows(ns_ws_t *w, client_t *c, uint64_t now)
{
    uint64_t period = w->scan_ns * FLOWS_SCAN_SHARE;
    if (period < FLOWS_PERIOD_NS)
        period = FLOWS_PERIOD_NS;
    if (!c->flows_full && now < c->flows_at_ns + period) {
        /* between two recomputations the delta is empty: the list is not stale for long */
        ns_httpd_resp_printf(&w->frame,
                             ",\"flows\":{\"upsert\":[],\"removed\":[],\"full\":false,"
                             "\"total\":%llu}",
                             (unsigned long long)c->flows_total);
        return true;
    }
    c->flows_at_ns = now;
    w->n_picks = 0;
    flow_pick_t p = {.w = w, .filter = c->filter};
    uint64_t t0 = mono_ns();
    if (!api_live_each(w->api, on_live_flow, &p) || !set_reserve(&w->cur, FLOWS_MAX))
        return false;
    w->scan_ns = mono_ns() - t0;
    for (uint32_t i = 0; i < w->n_picks; i++) {
        item_t *it = &w->cur.v[i];
        memset(it->key, 0, sizeof(it->key));
        const ns_merge_flow_t *f = &w->picks[i].f;
        if (f->n_obs)
            memcpy(it->key, f->obs[0].uid, strnlen(f->obs[0].uid, sizeof(it->key) - 1));
        it->ver = f->update_ns;
        it->idx = i;
    }
    w->cur.n = w->n_picks;
    qsort(w->cur.v, w->cur.n, sizeof(item_t), item_cmp);
    set_t none = {0};
    const set_t *old = c->flows_full ? &none : &c->flows;
    flow_walk_t fw = {.w = w, .out = {.resp = &w->frame}};
    ns_httpd_resp_printf(&w->frame, ",\"flows\":{\"upsert\":[");
    set_diff(old, &w->cur, flow_changed, ignore_item, &fw);
    ns_flow_record_buf_fini(&fw.out.buf);
    ns_httpd_resp_printf(&w->frame, "],\"removed\":[");
    set_diff(old, &w->cur, ignore_item, flow_removed, &fw);
    ns_httpd_resp_printf(&w->frame, "],\"full\":%s,\"total\":%llu}",
                         c->flows_full ? "true" : "false", (unsigned long long)p.total);
    if (!set_reserve(&c->flows, w->cur.n ? w->cur.n : 1))
        return false;
    memcpy(c->flows.v, w->cur.v, (size_t)w->cur.n * sizeof(item_t));
    c->flows.n = w->cur.n;
    c->flows_full = false;
    c->flows_total = p.total;
    return true;
}

/* ---- the state frame ------------------------------------------------------------------------ */

static void
write_agents(ns_ws_t *w)
{
    ns_httpd_resp_t *r = &w->frame;
    ns_httpd_resp_printf(r, ",\"agents\":[");
    for (uint32_t i = 0; i < w->sh.n_agents; i++) {
        const agent_row_t *a = &w->sh.agents[i];
        ns_httpd_resp_printf(r, "%s{\"id\":", i ? "," : "");
        ns_httpd_resp_json_str(r, a->id);
        ns_httpd_resp_printf(r, ",\"connected\":%s,\"bps\":%.0f,\"pps\":%.0f",
                             a->connected ? "true" : "false", a->rate.bps, a->rate.pps);
        api_json_u64(r, "queue_depth", a->queue_depth, true);
        api_json_u64(r, "kernel_drops", a->kernel_drops, true);
        api_json_u64(r, "lost_batches", a->lost_batches, true);
        if (a->clock_known)
            ns_httpd_resp_printf(r, ",\"clock_offset_ms\":%.3f", (double)a->clock_offset_ns / 1e6);
        else
            ns_httpd_resp_printf(r, ",\"clock_offset_ms\":null");
        api_json_u64(r, "flows_active", a->flows_active, true);
        ns_httpd_resp_printf(r, "}");
    }
    ns_httpd_resp_printf(r, "]");
}

static void
write_lists(ns_ws_t *w)
{
    ns_httpd_resp_t *r = &w->frame;
    const ns_live_snap_t *s = w->sh.snap;
    char a[INET6_ADDRSTRLEN];
    ns_httpd_resp_printf(r, ",\"top_talkers\":[");
    for (uint32_t i = 0; i < s->n_talkers; i++) {
        const ns_live_talker_t *t = &s->talkers[i];
        addr_text(&t->host, a, sizeof(a));
        ns_httpd_resp_printf(r, "%s{\"host\":\"%s\",\"bytes\":%llu,\"pkts\":%llu,\"flows\":%llu}",
                             i ? "," : "", a, (unsigned long long)t->bytes,
                             (unsigned long long)t->pkts, (unsigned long long)t->flows);
    }
    ns_httpd_resp_printf(r, "],\"protocols\":[");
    for (uint32_t i = 0; i < s->n_protos; i++) {
        const ns_live_proto_t *p = &s->protos[i];
        ns_httpd_resp_printf(r, "%s{\"name\":", i ? "," : "");
        ns_httpd_resp_json_str(r, p->name);
        ns_httpd_resp_printf(r, ",\"bytes\":%llu,\"pkts\":%llu,\"flows\":%llu}",
                             (unsigned long long)p->bytes, (unsigned long long)p->pkts,
                             (unsigned long long)p->flows);
    }
    ns_httpd_resp_printf(r, "],\"alerts\":[");
    for (uint32_t i = 0; i < w->sh.alerts.n; i++) {
        char buf[4096];
        size_t n = ns_alert_json(&w->sh.alerts.v[i], buf, sizeof(buf));
        if (n == 0)
            continue;
        while (n > 0 && buf[n - 1] == '\n')
            n--;
        if (r->len > 0 && r->body[r->len - 1] != '[')
            ns_httpd_resp_append(r, ",", 1);
        ns_httpd_resp_append(r, buf, n);
    }
    ns_httpd_resp_printf(r, "]");
}

static bool
send_state(ns_ws_t *w, client_t *c)
{
    const ns_live_snap_t *s = w->sh.snap;
    frame_begin(w, c, "state");
    ns_httpd_resp_t *r = &w->frame;
    ns_httpd_resp_printf(r, ",\"skipped\":%llu,\"global\":{\"bps\":%.0f,\"pps\":%.0f",
                         (unsigned long long)c->skipped, s->bps, s->pps);
    api_json_u64(r, "flows_active", w->sh.flows_active, true);
    ns_httpd_resp_printf(r, ",\"new_flows_ps\":%.0f,\"retrans_ps\":%.0f", s->new_flows_ps,
                         s->retrans_ps);
    json_num(r, "rtt_ms_p50", s->rtt_ms_p50);
    json_num(r, "rtt_ms_p95", s->rtt_ms_p95);
    ns_httpd_resp_printf(r, "}");
    write_agents(w);
    write_lists(w);
    ns_httpd_resp_printf(r, ",\"graph\":{");
    bool full = c->graph_full;
    if (!graph_part(w, &c->nodes, full, false, "nodes", "removed_nodes") ||
        !graph_part(w, &c->edges, full, true, "edges", "removed_edges"))
        return false;
    ns_httpd_resp_printf(r, ",\"full\":%s}", full ? "true" : "false");
    c->graph_full = false;
    if (!write_flows(w, c, wall_ns()))
        return false;
    return frame_end(w, c);
}

/* ---- the shared copy, once per tick ------------------------------------------------------- */

static void
refresh_shared(ns_ws_t *w, uint64_t now)
{
    shared_t *sh = &w->sh;
    if (now >= sh->alerts_at_ns + NS_PER_S) {
        free(sh->alerts.v);
        sh->alerts.v = NULL;
        sh->alerts.n = 0;
        if (!api_alerts_active(w->api, &sh->alerts))
            sh->alerts.n = 0;
        sh->alerts_at_ns = now;
    }
    ns_collector_lock(w->collector);
    const ns_live_t *live = ns_collector_live(w->collector);
    ns_live_snapshot(live, now, sh->snap);
    ns_merge_stats_t ms;
    ns_merge_stats(ns_collector_merge(w->collector), &ms);
    sh->flows_active = ms.flows;
    const ns_inventory_t *inv = ns_collector_inventory(w->collector);
    uint32_t n = ns_inventory_count(inv);
    if (n > sh->cap_agents) {
        agent_row_t *v = realloc(sh->agents, (size_t)n * sizeof(*v));
        if (v) {
            sh->agents = v;
            sh->cap_agents = n;
        }
    }
    sh->n_agents = 0;
    for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE);
         i != NS_INV_NONE && sh->n_agents < sh->cap_agents; i = ns_inventory_next(inv, i)) {
        const ns_inventory_agent_t *a = ns_inventory_get(inv, i);
        agent_row_t *row = &sh->agents[sh->n_agents++];
        memcpy(row->id, a->id, sizeof(row->id));
        row->connected = a->connected;
        row->rate = ns_live_agent_rate(live, i, now);
        row->queue_depth = a->health.queue_depth;
        row->flows_active = a->health.flows_active;
        row->lost_batches = a->seq.lost;
        row->kernel_drops = 0;
        for (uint32_t k = 0; k < a->n_ifaces && k < NS_INV_IFACES_MAX; k++)
            row->kernel_drops += a->ifaces[k].stats.kernel_drops;
        row->clock_known = a->clock_known;
        row->clock_offset_ns = a->clock_offset_ns;
    }
    ns_collector_unlock(w->collector);
}

/* ---- packets ----------------------------------------------------------------------------------
 */

/* The collector's answer (ingest thread, its lock held): copy into the mailbox, wake the loop. */
static void
on_packets(void *ud, uint64_t tag, const uint8_t *data, size_t len, const char *error,
           unsigned flags)
{
    (void)flags; /* the stream asks for one flow's frames: always one answer */
    ns_ws_t *w = ud;
    pthread_mutex_lock(&w->mbox_lock);
    if (w->n_mbox < MBOX_MAX) {
        answer_t *a = &w->mbox[w->n_mbox];
        memset(a, 0, sizeof(*a));
        a->tag = tag;
        if (data && len <= PKT_MAX_BYTES) {
            a->data = malloc(LWS_PRE + 4 + len);
            if (a->data) {
                memcpy(a->data + LWS_PRE + 4, data, len);
                a->len = 4 + len;
            }
        }
        if (a->data == NULL)
            snprintf(a->error, sizeof(a->error), "%s",
                     error ? error : "the capture is too large for one frame");
        w->n_mbox++;
    }
    pthread_mutex_unlock(&w->mbox_lock);
    lws_cancel_service(w->ctx);
}

static client_t *
client_of_serial(ns_ws_t *w, uint64_t serial)
{
    for (uint32_t i = 0; i < w->n_clients; i++)
        if (w->clients[i]->serial == serial)
            return w->clients[i];
    return NULL;
}

static bool
pending_take(client_t *c, uint32_t id)
{
    for (uint32_t i = 0; i < c->n_pend; i++)
        if (c->pend[i].id == id) {
            c->pend[i] = c->pend[--c->n_pend];
            return true;
        }
    return false;
}

static void
drain_mailbox(ns_ws_t *w)
{
    answer_t got[MBOX_MAX];
    pthread_mutex_lock(&w->mbox_lock);
    uint32_t n = w->n_mbox;
    memcpy(got, w->mbox, n * sizeof(got[0]));
    w->n_mbox = 0;
    pthread_mutex_unlock(&w->mbox_lock);
    for (uint32_t i = 0; i < n; i++) {
        answer_t *a = &got[i];
        uint32_t id = (uint32_t)a->tag;
        client_t *c = client_of_serial(w, a->tag >> 32);
        if (c == NULL || !pending_take(c, id) || (a->data && c->pcap)) {
            if (c && a->data)
                queue_error(c, "get_packets", "another capture is still being sent", true, id);
            free(a->data);
            continue;
        }
        if (a->data == NULL) {
            queue_error(c, "get_packets", a->error, true, id);
            continue;
        }
        uint8_t le[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
        memcpy(a->data + LWS_PRE, le, 4);
        c->pcap = a->data;
        c->pcap_len = a->len;
        lws_callback_on_writable(c->wsi);
    }
}

typedef struct {
    const char *uid;
    bool found;
    ns_collector_pkt_ask_t ask;
} find_t;

static bool
on_find_uid(void *ud, const api_live_item_t *it)
{
    find_t *f = ud;
    for (uint32_t i = 0; i < it->f.n_obs && i < NS_MERGE_OBS_MAX; i++) {
        const ns_merge_obs_t *o = &it->f.obs[i];
        if (strcmp(o->uid, f->uid) != 0)
            continue;
        api_pkt_ask_of(it, i, NS_COLLECTOR_PKT_STREAM, &f->ask);
        f->found = true;
        return false;
    }
    return true;
}

static void
get_packets(ns_ws_t *w, client_t *c, const msg_t *m)
{
    if (!m->has_id || m->uid[0] == '\0') {
        queue_error(c, "get_packets", "get_packets needs \"id\" (0 .. 4294967295) and \"uid\"",
                    m->has_id, m->id);
        return;
    }
    if (c->n_pend == PKT_PENDING) {
        queue_error(c, "get_packets", "too many get_packets requests in flight", true, m->id);
        return;
    }
    find_t f = {.uid = m->uid};
    if (!api_live_each(w->api, on_find_uid, &f) || !f.found) {
        queue_error(c, "get_packets", "no live flow with this uid", true, m->id);
        return;
    }
    f.ask.tag = c->serial << 32 | m->id; /* serials stay far below 2^30 */
    ns_collector_lock(w->collector);
    bool ok = ns_collector_packets_ask(w->collector, &f.ask);
    ns_collector_unlock(w->collector);
    if (!ok) {
        queue_error(c, "get_packets", "the collector's packet queue is full", true, m->id);
        return;
    }
    (void)pending_take(c, m->id); /* a reused id replaces the older request */
    c->pend[c->n_pend++] = (pending_t){m->id, wall_ns() + PKT_TIMEOUT_NS};
}

/* ---- client messages ------------------------------------------------------------------------ */

static void
on_message(ns_ws_t *w, client_t *c)
{
    msg_t m;
    const char *why;
    if (!msg_parse(c->rx, c->rx_len, &m, &why)) {
        queue_error(c, "", why, false, 0);
        return;
    }
    if (strcmp(m.type, "filter") == 0) {
        if (!m.has_bpf) {
            queue_error(c, "filter", "filter needs \"bpf\" (\"\" for none)", false, 0);
            return;
        }
        ns_bpf_flow_t *f = NULL;
        if (m.bpf[0]) {
            char err[512];
            f = ns_bpf_flow_new(m.bpf, err, sizeof(err));
            if (f == NULL) {
                queue_error(c, "filter", err, false, 0);
                return;
            }
        }
        ns_bpf_flow_destroy(&c->filter);
        c->filter = f;
        c->flows_full = true;
    } else if (strcmp(m.type, "get_packets") == 0) {
        get_packets(w, c, &m);
    } else if (strcmp(m.type, "pause") == 0) {
        c->paused = true;
    } else if (strcmp(m.type, "resume") == 0) {
        c->paused = false;
        if (c->state_due) /* skipped while paused: the tick only asks when nothing is due */
            lws_callback_on_writable(c->wsi);
    } else {
        queue_error(c, m.type, "unknown message type", false, 0);
    }
}

/* ---- the tick ------------------------------------------------------------------------------- */

static void
on_tick(lws_sorted_usec_list_t *sul)
{
    ns_ws_t *w = lws_container_of(sul, ns_ws_t, tick);
    uint64_t now = wall_ns();
    bool anyone = false;
    for (uint32_t i = 0; i < w->n_clients; i++)
        anyone |= w->clients[i]->hello_done && !w->clients[i]->paused;
    if (anyone)
        refresh_shared(w, now);
    for (uint32_t i = 0; i < w->n_clients; i++) {
        client_t *c = w->clients[i];
        for (uint32_t k = 0; k < c->n_pend;) {
            if (now >= c->pend[k].deadline_ns) {
                uint32_t id = c->pend[k].id;
                c->pend[k] = c->pend[--c->n_pend];
                queue_error(c, "get_packets",
                            "no packets: the agent's ring holds none of this flow, or the agent "
                            "did not answer in time",
                            true, id);
            } else {
                k++;
            }
        }
        if (!c->hello_done || c->paused)
            continue;
        if (c->state_due) {
            c->skipped++;
            atomic_fetch_add(&w->skipped, 1);
        } else {
            c->state_due = true;
            lws_callback_on_writable(c->wsi);
        }
    }
    lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, (lws_usec_t)w->tick_us);
}

/* ---- the handshake -------------------------------------------------------------------------- */

static bool
origin_ok(const ns_ws_t *w, struct lws *wsi)
{
    char origin[ORIGIN_MAX];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (n <= 0)
        return w->loopback;
    if (n >= (int)sizeof(origin) || lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
        return false;
    for (size_t i = 0; i < w->n_origins; i++)
        if (strcmp(origin, w->origins[i]) == 0)
            return true;
    return false;
}

/* 0 when the token is fine, else the HTTP status to refuse with. */
static unsigned
token_status(const ns_ws_t *w, struct lws *wsi)
{
    if (w->token == NULL)
        return 0;
    char given[300] = "";
    const char *q = lws_get_urlarg_by_name(wsi, "token=", given, sizeof(given));
    if (q == NULL) {
        char auth[300];
        int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
        if (n <= 0 || n >= (int)sizeof(auth) ||
            lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) < 0 ||
            strncmp(auth, "Bearer ", 7) != 0)
            return HTTP_STATUS_UNAUTHORIZED;
        snprintf(given, sizeof(given), "%s", auth + 7);
        q = given;
    }
    return ns_httpd_token_eq(q, w->token) ? 0 : HTTP_STATUS_FORBIDDEN;
}

static int
refuse(ns_ws_t *w, struct lws *wsi, unsigned status, const char *why)
{
    atomic_fetch_add(&w->refused, 1);
    char peer[64] = "?";
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    ns_log_debug("stream: refused %s: %s", peer, why);
    lws_return_http_status(wsi, status, why);
    return -1;
}

static int
filter_connection(ns_ws_t *w, struct lws *wsi)
{
    char path[64];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
    if (n <= 0 || n >= (int)sizeof(path) ||
        lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0 || strcmp(path, WS_PATH) != 0)
        return refuse(w, wsi, HTTP_STATUS_NOT_FOUND, "no such stream");
    if (!origin_ok(w, wsi))
        return refuse(w, wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
    unsigned st = token_status(w, wsi);
    if (st)
        return refuse(w, wsi, st, st == HTTP_STATUS_UNAUTHORIZED ? "token required" : "bad token");
    if (w->n_clients == NS_WS_CLIENTS_MAX)
        return refuse(w, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "too many stream clients");
    return 0;
}

/* ---- the lws callback ------------------------------------------------------------------------ */

static void
client_free(client_t *c)
{
    ns_bpf_flow_destroy(&c->filter);
    free(c->flows.v);
    free(c->nodes.v);
    free(c->edges.v);
    free(c->pcap);
    free(c);
}

/* Whether a frame waits for this client's next writeable callback. */
static bool
frame_due(const client_t *c)
{
    return !c->hello_done || c->n_err || c->pcap || (c->state_due && !c->paused);
}

static int
on_writable(ns_ws_t *w, client_t *c)
{
    bool ok = true;
    if (!c->hello_done) {
        ok = send_hello(w, c);
    } else if (c->n_err) {
        ok = send_error(w, c);
    } else if (c->pcap) {
        ok = frame_send(w, c, c->pcap, c->pcap_len, LWS_WRITE_BINARY);
        free(c->pcap);
        c->pcap = NULL;
    } else if (c->state_due && !c->paused) {
        c->state_due = false;
        ok = send_state(w, c);
    }
    if (!ok)
        return -1;
    /* lws coalesces writeable requests: the one that brought us here was also the one for every
     * other frame still due (an error queued, a pcap arrived, the tick's state frame), so ask
     * again or that frame waits for an unrelated wake-up, and the tick, seeing state_due still
     * set, counts skips forever instead of asking. */
    if (frame_due(c))
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int
on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    ns_ws_t *w = ctx ? lws_context_user(ctx) : NULL;
    client_t **slot = user;
    if (w == NULL)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_connection(w, wsi);
    case LWS_CALLBACK_HTTP:
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "the stream is at " WS_PATH);
        return -1;
    case LWS_CALLBACK_ESTABLISHED: {
        client_t *c = calloc(1, sizeof(*c));
        if (c == NULL || w->n_clients == NS_WS_CLIENTS_MAX) {
            free(c);
            return -1;
        }
        c->wsi = wsi;
        c->serial = ++w->next_serial;
        c->flows_full = c->graph_full = true;
        w->clients[w->n_clients++] = c;
        *slot = c;
        atomic_store(&w->n_live, w->n_clients);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (slot && *slot) {
            for (uint32_t i = 0; i < w->n_clients; i++)
                if (w->clients[i] == *slot) {
                    w->clients[i] = w->clients[--w->n_clients];
                    break;
                }
            client_free(*slot);
            *slot = NULL;
            atomic_store(&w->n_live, w->n_clients);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return slot && *slot ? on_writable(w, *slot) : 0;
    case LWS_CALLBACK_RECEIVE: {
        client_t *c = slot ? *slot : NULL;
        if (c == NULL)
            return 0;
        if (lws_frame_is_binary(wsi)) {
            c->rx_overflow = true; /* binary messages are not part of the protocol */
        } else if (!c->rx_overflow && c->rx_len + len <= RX_MAX) {
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        } else {
            c->rx_overflow = true;
        }
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            if (c->rx_overflow)
                queue_error(c, "", "messages are JSON text of at most 4096 bytes", false, 0);
            else
                on_message(w, c);
            c->rx_len = 0;
            c->rx_overflow = false;
        }
        return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        drain_mailbox(w);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {WS_PROTOCOL, on_lws, sizeof(client_t *), RX_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- lifecycle ----------------------------------------------------------------------------------
 */

static void
on_lws_log(int level, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (level & LLL_ERR)
        ns_log_warn("stream: %s", buf);
    else
        ns_log_debug("stream: %s", buf);
}

bool
ns_ws_opts_check(const ns_ws_opts_t *o, char *errbuf, size_t errlen)
{
    int fam;
    uint8_t addr[16];
    uint16_t port;
    bool loop;
    if (!ns_httpd_parse_listen(o->listen, &fam, addr, &port, &loop)) {
        snprintf(errbuf, errlen,
                 "stream address '%s' is not ADDR:PORT or [ADDR]:PORT with an IP address (or "
                 "\"off\")",
                 o->listen ? o->listen : "");
        return false;
    }
    if (!loop && (o->token == NULL || o->token[0] == '\0')) {
        snprintf(errbuf, errlen,
                 "the stream on %s is not loopback: set http.token (clients pass it as "
                 "?token=), or listen on 127.0.0.1",
                 o->listen);
        return false;
    }
    if (o->rate_hz < 1 || o->rate_hz > NS_WS_RATE_MAX) {
        snprintf(errbuf, errlen, "api.ws_rate_hz is %u: use 1 .. %u", o->rate_hz, NS_WS_RATE_MAX);
        return false;
    }
    return true;
}

static bool
add_origin(ns_ws_t *w, const char *origin)
{
    char **v = realloc(w->origins, (w->n_origins + 1) * sizeof(*v));
    if (v == NULL)
        return false;
    w->origins = v;
    v[w->n_origins] = strdup(origin);
    return v[w->n_origins++] != NULL;
}

/* The API's own origins, then the configured ones. */
static bool
origins_init(ns_ws_t *w, const ns_ws_opts_t *o)
{
    int fam;
    uint8_t addr[16];
    uint16_t port;
    bool loop;
    if (o->http_listen && ns_httpd_parse_listen(o->http_listen, &fam, addr, &port, &loop)) {
        char host[INET6_ADDRSTRLEN], origin[ORIGIN_MAX];
        inet_ntop(fam == 6 ? AF_INET6 : AF_INET, addr, host, sizeof(host));
        snprintf(origin, sizeof(origin), fam == 6 ? "http://[%s]:%u" : "http://%s:%u", host, port);
        if (!add_origin(w, origin))
            return false;
        snprintf(origin, sizeof(origin), "http://localhost:%u", port);
        if (loop && !add_origin(w, origin))
            return false;
    }
    for (size_t i = 0; i < o->n_origins; i++)
        if (!add_origin(w, o->origins[i]))
            return false;
    return true;
}

static void *
service_main(void *arg)
{
    ns_ws_t *w = arg;
    while (!atomic_load(&w->stop))
        if (lws_service(w->ctx, 0) < 0)
            break;
    return NULL;
}

ns_ws_t *
ns_ws_start(const ns_ws_opts_t *o, ns_collector_t *c, ns_api_t *api, char *errbuf, size_t errlen)
{
    if (!ns_ws_opts_check(o, errbuf, errlen))
        return NULL;
    int fam;
    uint8_t addr[16];
    uint16_t port;
    bool loop;
    (void)ns_httpd_parse_listen(o->listen, &fam, addr, &port, &loop);
    ns_ws_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->mbox_lock, NULL);
    w->collector = c;
    w->api = api;
    w->rate_hz = o->rate_hz;
    w->tick_us = 1000000u / o->rate_hz;
    w->loopback = loop;
    ns_httpd_resp_init(&w->frame);
    w->token = o->token && o->token[0] ? strdup(o->token) : NULL;
    w->sh.snap = ns_live_snap_new(GRAPH_MAX, GRAPH_MAX);
    w->picks = malloc(FLOWS_MAX * sizeof(*w->picks));
    if ((o->token && o->token[0] && w->token == NULL) || w->sh.snap == NULL || w->picks == NULL ||
        !origins_init(w, o)) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    char host[INET6_ADDRSTRLEN];
    inet_ntop(fam == 6 ? AF_INET6 : AF_INET, addr, host, sizeof(host));
    lws_set_log_level(LLL_ERR, on_lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = w;
    info.options =
        LWS_SERVER_OPTION_VALIDATE_UTF8 | (fam == 4 ? LWS_SERVER_OPTION_DISABLE_IPV6 : 0);
    w->ctx = lws_create_context(&info);
    if (w->ctx == NULL) {
        snprintf(errbuf, errlen, "cannot listen on %s for the stream (address in use?)", o->listen);
        goto fail;
    }
    w->vh = lws_get_vhost_by_name(w->ctx, "default");
    int lp = w->vh ? lws_get_vhost_listen_port(w->vh) : port;
    w->port = lp > 0 ? (uint16_t)lp : port;
    snprintf(w->url, sizeof(w->url), "ws://%s%s%s:%u%s", fam == 6 ? "[" : "", host,
             fam == 6 ? "]" : "", w->port, WS_PATH);
    ns_collector_lock(c);
    ns_collector_packets_fn(c, NS_COLLECTOR_PKT_STREAM, on_packets, w);
    ns_collector_unlock(c);
    lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, (lws_usec_t)w->tick_us);
    if (pthread_create(&w->thread, NULL, service_main, w) != 0) {
        snprintf(errbuf, errlen, "cannot start the stream's thread");
        goto fail;
    }
    w->thread_started = true;
    ns_log_info("live stream on %s (%u Hz)%s", w->url, w->rate_hz,
                w->token ? ", token required" : "");
    return w;
fail:
    ns_ws_stop(&w);
    return NULL;
}

void
ns_ws_stop(ns_ws_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_ws_t *w = *self_p;
    if (w->collector) {
        ns_collector_lock(w->collector);
        ns_collector_packets_fn(w->collector, NS_COLLECTOR_PKT_STREAM, NULL, NULL);
        ns_collector_unlock(w->collector);
    }
    if (w->thread_started) {
        atomic_store(&w->stop, true);
        lws_cancel_service(w->ctx);
        pthread_join(w->thread, NULL);
    }
    if (w->ctx)
        lws_context_destroy(w->ctx); /* closes the clients: CLOSED frees each */
    for (uint32_t i = 0; i < w->n_clients; i++)
        client_free(w->clients[i]);
    for (uint32_t i = 0; i < w->n_mbox; i++)
        free(w->mbox[i].data);
    for (size_t i = 0; i < w->n_origins; i++)
        free(w->origins[i]);
    free(w->origins);
    free(w->token);
    free(w->picks);
    free(w->cur.v);
    free(w->sh.agents);
    free(w->sh.alerts.v);
    ns_live_snap_destroy(&w->sh.snap);
    ns_httpd_resp_fini(&w->frame);
    pthread_mutex_destroy(&w->mbox_lock);
    free(w);
    *self_p = NULL;
}

uint16_t
ns_ws_port(const ns_ws_t *self)
{
    return self->port;
}

const char *
ns_ws_url(const ns_ws_t *self)
{
    return self->url;
}

void
ns_ws_stats(const ns_ws_t *self, ns_ws_stats_t *out)
{
    ns_ws_t *w = (ns_ws_t *)self;
    out->clients = atomic_load(&w->n_live);
    out->frames_sent = atomic_load(&w->sent);
    out->frames_skipped = atomic_load(&w->skipped);
    out->bytes_sent = atomic_load(&w->bytes);
    out->refused = atomic_load(&w->refused);
}

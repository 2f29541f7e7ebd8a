/* api.c - routes of the collector's API and its live-view queries (see api.h).
 *
 * A request goes: clean path (qs.c) -> route -> method -> query parameters (qs.c, each route
 * with its list of known names) -> the route's answer. Live flows are read from the merge in
 * chunks of CHUNK flows, each chunk copied under the collector's lock and matched after the
 * lock is let go; a page is chosen with a bounded heap (offset + limit best by the sort key),
 * and the chosen flows are copied again (by id, checked by serial) to be written. So a page is
 * not a snapshot: flows that change between chunks are seen as they were when copied, and
 * live pages (cursor "L<offset>") may shift as flows come and go. History pages (cursor
 * "H<store cursor>") are stable.
 *
 * A merged flow is written as one record in `netscope flows` names (ns_flow_record_write):
 * the merged totals (each connection counted once), the first observation's uid, state and
 * history, "agent" the first observer and "observers" how many agents saw it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "netscope/live.h"
#include "netscope/log.h"
#include "netscope/txstore.h"

#define CHUNK 256u
#define API_PREFIX "/api/v1/"
#define NS_PER_S 1000000000ull

/* ---- live state -------------------------------------------------------------------------- */

uint64_t
api_now_ns(const ns_api_t *api)
{
    if (api->fixed_now_ns)
        return api->fixed_now_ns;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
api_lock(ns_api_t *api)
{
    if (api->collector)
        ns_collector_lock(api->collector);
}

void
api_unlock(ns_api_t *api)
{
    if (api->collector)
        ns_collector_unlock(api->collector);
}

const ns_merge_t *
api_merge(const ns_api_t *api)
{
    return api->collector ? ns_collector_merge(api->collector) : api->merge;
}

const ns_inventory_t *
api_inventory(const ns_api_t *api)
{
    return api->collector ? ns_collector_inventory(api->collector) : api->inv;
}

static const ns_txstore_t *
api_txstore(const ns_api_t *api)
{
    return api->collector ? ns_collector_txstore(api->collector) : NULL;
}

/* Copy flow `id`, its observers' ids and its latest transaction (under the lock; `txs` NULL
 * without a collector). */
static bool
live_copy(const ns_merge_t *m, const ns_inventory_t *inv, const ns_txstore_t *txs, uint32_t id,
          api_live_item_t *it)
{
    if (!ns_merge_view(m, id, &it->f))
        return false;
    for (uint32_t i = 0; i < it->f.n_obs && i < NS_MERGE_OBS_MAX; i++) {
        const ns_inventory_agent_t *a = inv ? ns_inventory_get(inv, it->f.obs[i].agent) : NULL;
        snprintf(it->agent[i], sizeof(it->agent[i]), "%s", a ? a->id : "");
    }
    it->app[0] = '\0';
    for (uint32_t i = 0; txs && i < it->f.n_obs && i < NS_MERGE_OBS_MAX; i++)
        if (ns_txstore_latest(txs, it->f.obs[i].agent, it->f.obs[i].uid, it->app, sizeof(it->app)))
            break;
    return true;
}

/* The merged flow as one record (see the file comment). */
void
api_live_rec(const ns_merge_flow_t *f, ns_flow_rec_t *r)
{
    memset(r, 0, sizeof(*r));
    const ns_merge_obs_t *o = f->n_obs ? &f->obs[0] : NULL;
    if (o) {
        memcpy(r->uid, o->uid, sizeof(r->uid));
        memcpy(r->conn_state, o->conn_state, sizeof(r->conn_state));
        memcpy(r->history, o->history, sizeof(r->history));
        r->quality = o->quality;
        r->rtt_hs_ns = o->rtt_hs_ns;
        if (o->rtt_hs_ns)
            r->hs = NS_FLOW_REC_HS_TOTAL;
        for (unsigned d = 0; d < 2; d++) {
            r->tcp_flags[d] = o->tcp_flags[d];
            r->retrans[d] = o->retrans[d];
        }
    }
    r->ip_ver = f->key.ip_ver;
    r->proto = f->key.proto;
    r->vlan = f->key.vlan & NS_FLOW_KEY_VLAN_MASK;
    r->kind = f->state == NS_MERGE_ALL_FINAL ? NS_FLOW_REC_FINAL : NS_FLOW_REC_UPDATE;
    r->end_reason = f->state == NS_MERGE_ALL_FINAL && o ? o->end_reason : NS_FLOW_END_NONE;
    r->orig_h = f->orig_h;
    r->resp_h = f->resp_h;
    r->orig_p = f->orig_p;
    r->resp_p = f->resp_p;
    memcpy(r->community_id, f->community_id, sizeof(r->community_id));
    memcpy(r->service, f->service, sizeof(r->service));
    r->first_ns = f->first_ns;
    r->last_ns = f->last_ns;
    r->emit_ns = f->update_ns;
    for (unsigned d = 0; d < 2; d++) {
        r->pkts[d] = f->pkts[d];
        r->wire_bytes[d] = f->wire_bytes[d];
        r->ip_bytes[d] = f->ip_bytes[d];
        r->payload_bytes[d] = f->payload_bytes[d];
        r->app_bytes[d] = f->app_bytes[d];
    }
    r->is_tcp = f->key.proto == NS_FLOW_PROTO_TCP;
}

/* Call fn for every live flow, copied CHUNK at a time under the lock and handed to fn after
 * it is let go; fn returns false to stop. False when out of memory. */
bool
api_live_each(ns_api_t *api, bool (*fn)(void *ud, const api_live_item_t *it), void *ud)
{
    api_live_item_t *items = malloc(CHUNK * sizeof(*items));
    if (items == NULL)
        return false;
    uint32_t id = NS_MERGE_NONE;
    bool more = true;
    while (more) {
        uint32_t n = 0;
        api_lock(api);
        const ns_merge_t *m = api_merge(api);
        const ns_inventory_t *inv = api_inventory(api);
        const ns_txstore_t *txs = api_txstore(api);
        while (m && n < CHUNK) {
            id = ns_merge_next(m, id);
            if (id == NS_MERGE_NONE)
                break;
            if (live_copy(m, inv, txs, id, &items[n]))
                n++;
        }
        more = m && id != NS_MERGE_NONE;
        api_unlock(api);
        bool go = true;
        for (uint32_t i = 0; i < n && go; i++)
            go = fn(ud, &items[i]);
        more = more && go;
    }
    free(items);
    return true;
}

/* ---- matching and writing -------------------------------------------------------------- */

bool
api_rec_filter(void *q, const ns_flow_rec_t *rec)
{
    const api_query_t *qq = q;
    if (qq->filter == NULL)
        return true;
    return ns_bpf_flow_match_rec(qq->filter, rec);
}

bool
api_rec_match(const api_query_t *q, const ns_flow_rec_t *rec, const char *agent)
{
    if (rec->last_ns < q->from_ns || (q->to_ns && rec->first_ns >= q->to_ns))
        return false;
    if (q->has_host) {
        size_t n = q->host_ver == 4 ? 4 : 16;
        if (rec->ip_ver != q->host_ver || (memcmp(rec->orig_h.b, q->host.b, n) != 0 &&
                                           memcmp(rec->resp_h.b, q->host.b, n) != 0))
            return false;
    }
    if (q->port >= 0 && rec->orig_p != q->port && rec->resp_p != q->port)
        return false;
    if (q->proto >= 0 && rec->proto != q->proto)
        return false;
    if (q->conn_state && strcmp(rec->conn_state, q->conn_state) != 0)
        return false;
    if (q->service && strcmp(rec->service, q->service) != 0)
        return false;
    if (q->agent && agent && strcmp(agent, q->agent) != 0)
        return false;
    return api_rec_filter((void *)(uintptr_t)q, rec);
}

void
api_out_rec(api_out_t *o, const ns_flow_rec_t *rec, const char *agent, const char *source,
            const ns_store_meta_t *meta)
{
    ns_flow_record_extra_t ex = {.agent = agent && agent[0] ? agent : NULL,
                                 .received_ns = meta ? meta->received_ns : 0};
    o->buf.len = 0;
    if (ns_flow_record_write(&o->buf, rec, &ex, o->csv, 1) != 0) {
        o->resp->oom = true;
        return;
    }
    if (o->csv) {
        ns_httpd_resp_append(o->resp, o->buf.buf, o->buf.len);
    } else {
        /* the record is one object ending in "}\n": add our members before its end */
        size_t len = o->buf.len;
        while (len > 0 && (o->buf.buf[len - 1] == '\n' || o->buf.buf[len - 1] == '}'))
            len--;
        if (o->written)
            ns_httpd_resp_append(o->resp, ",", 1);
        ns_httpd_resp_append(o->resp, o->buf.buf, len);
        ns_httpd_resp_printf(o->resp, ",\"source\":\"%s\"", source);
        if (meta)
            ns_httpd_resp_printf(o->resp, ",\"conn\":%llu,\"primary\":%s",
                                 (unsigned long long)meta->conn, meta->primary ? "true" : "false");
        ns_httpd_resp_append(o->resp, "}", 1);
    }
    o->written++;
}

void
api_out_live(api_out_t *o, const api_live_item_t *it)
{
    ns_flow_rec_t rec;
    api_live_rec(&it->f, &rec);
    api_out_rec(o, &rec, it->agent[0], "live", NULL);
    if (o->csv || o->resp->len == 0)
        return;
    o->resp->len--; /* the closing brace: "app" goes inside */
    ns_httpd_resp_printf(o->resp, ",\"app\":");
    if (it->app[0])
        ns_httpd_resp_json_str(o->resp, it->app);
    else
        ns_httpd_resp_printf(o->resp, "null");
    ns_httpd_resp_append(o->resp, "}", 1);
}

/* ---- the page heap ----------------------------------------------------------------------- */

typedef struct {
    uint64_t key, serial;
    uint32_t id;
} pick_t;

/* a ranks before b */
static bool
pick_before(const pick_t *a, const pick_t *b)
{
    return a->key != b->key ? a->key > b->key : a->serial < b->serial;
}

/* Min-heap (the worst kept pick on top) of at most cap picks. */
typedef struct {
    pick_t *v;
    size_t n, cap;
} heap_t;

static void
pick_swap(pick_t *a, pick_t *b)
{
    pick_t t = *a;
    *a = *b;
    *b = t;
}

static void
heap_sift_down(heap_t *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < h->n && pick_before(&h->v[w], &h->v[l]))
            w = l;
        if (r < h->n && pick_before(&h->v[w], &h->v[r]))
            w = r;
        if (w == i)
            return;
        pick_swap(&h->v[i], &h->v[w]);
        i = w;
    }
}

static void
heap_push(heap_t *h, const pick_t *p)
{
    if (h->n == h->cap) {
        if (h->cap == 0 || !pick_before(p, &h->v[0]))
            return;
        h->v[0] = *p;
        heap_sift_down(h, 0);
        return;
    }
    size_t i = h->n++;
    h->v[i] = *p;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pick_before(&h->v[up], &h->v[i]))
            break;
        pick_swap(&h->v[i], &h->v[up]);
        i = up;
    }
}

static int
pick_cmp(const void *a, const void *b)
{
    const pick_t *x = a, *y = b;
    return pick_before(x, y) ? -1 : pick_before(y, x) ? 1 : 0;
}

static uint64_t
sort_key(api_sort_t s, const ns_flow_rec_t *r)
{
    switch (s) {
    case API_SORT_TIME_ASC:
        return UINT64_MAX - r->last_ns;
    case API_SORT_BYTES:
        return r->wire_bytes[0] + r->wire_bytes[1];
    case API_SORT_PACKETS:
        return r->pkts[0] + r->pkts[1];
    case API_SORT_DURATION:
        return r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
    case API_SORT_TIME_DESC:
    default:
        return r->last_ns;
    }
}

static bool
item_match(const api_query_t *q, const api_live_item_t *it, ns_flow_rec_t *rec)
{
    api_live_rec(&it->f, rec);
    if (q->agent) {
        bool seen = false;
        for (uint32_t i = 0; i < it->f.n_obs && !seen; i++)
            seen = strcmp(it->agent[i], q->agent) == 0;
        if (!seen)
            return false;
    }
    return api_rec_match(q, rec, NULL);
}

typedef struct {
    const api_query_t *q;
    heap_t heap;
    uint64_t total;
} scan_ctx_t;

static bool
on_scan(void *ud, const api_live_item_t *it)
{
    scan_ctx_t *c = ud;
    ns_flow_rec_t rec;
    if (item_match(c->q, it, &rec)) {
        c->total++;
        pick_t p = {.key = sort_key(c->q->sort, &rec), .serial = it->f.serial, .id = it->f.id};
        heap_push(&c->heap, &p);
    }
    return true;
}

/* Scan the live view for `q`; write matches [offset, offset+limit) to `o`. *total receives
 * how many matched. False when out of memory. */
static bool
live_flows(ns_api_t *api, const api_query_t *q, uint32_t offset, uint32_t limit, api_out_t *o,
           uint64_t *total)
{
    scan_ctx_t c = {.q = q, .heap = {.cap = (size_t)offset + limit}};
    c.heap.v = malloc(c.heap.cap * sizeof(*c.heap.v) + 1);
    api_live_item_t *it = malloc(sizeof(*it));
    bool ok = c.heap.v && it && api_live_each(api, on_scan, &c);
    *total = c.total;
    if (!ok)
        goto out;
    qsort(c.heap.v, c.heap.n, sizeof(*c.heap.v), pick_cmp);
    for (size_t i = offset; i < c.heap.n; i++) {
        bool got = false;
        api_lock(api);
        const ns_merge_t *m = api_merge(api);
        if (m)
            got = live_copy(m, api_inventory(api), api_txstore(api), c.heap.v[i].id, it) &&
                  it->f.serial == c.heap.v[i].serial;
        api_unlock(api);
        if (!got)
            continue; /* gone since the scan */
        api_out_live(o, it);
        if (!o->csv && it->f.n_obs > 1) {
            /* "observers" for flows seen by several agents: replace the closing brace */
            o->resp->len--;
            ns_httpd_resp_printf(o->resp, ",\"observers\":%u}", it->f.n_obs);
        }
    }
out:
    free(it);
    free(c.heap.v);
    return ok;
}

/* The conn ids of the live flows that match `q`, sorted, into *out (malloc'd; *n of them).
 * False when out of memory. */
typedef struct {
    const api_query_t *q;
    uint64_t base;
    uint64_t *v;
    size_t n, cap;
    bool oom;
} conns_ctx_t;

static bool
on_conn(void *ud, const api_live_item_t *it)
{
    conns_ctx_t *c = ud;
    ns_flow_rec_t rec;
    if (!item_match(c->q, it, &rec))
        return true;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint64_t *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL) {
            c->oom = true;
            return false;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = c->base + it->f.serial;
    return true;
}

static int
cmp_conn(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool
live_conns(ns_api_t *api, const api_query_t *q, uint64_t **out, size_t *n)
{
    conns_ctx_t c = {.q = q, .base = api->collector ? ns_collector_conn_base(api->collector) : 0};
    *out = NULL;
    *n = 0;
    if (!api_live_each(api, on_conn, &c) || c.oom) {
        free(c.v);
        return false;
    }
    if (c.n)
        qsort(c.v, c.n, sizeof(*c.v), cmp_conn);
    *out = c.v;
    *n = c.n;
    return true;
}

/* ---- parameters -------------------------------------------------------------------------- */

typedef struct {
    int status;
    char msg[320];
    char param[NS_QS_NAME_MAX + 1];
} api_err_t;

static bool
bad(api_err_t *e, const char *param, const char *msg)
{
    e->status = 400;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
    return false;
}

static bool
param_time(const ns_qs_t *qs, const char *name, uint64_t now_ns, uint64_t dflt, uint64_t *out,
           api_err_t *e)
{
    const char *v = ns_qs_get(qs, name);
    *out = dflt;
    if (v && !ns_qs_time(v, now_ns, out))
        return bad(e, name, "malformed time (RFC 3339, unix seconds, or -1h style)");
    return true;
}

static bool
param_u64(const ns_qs_t *qs, const char *name, uint64_t lo, uint64_t hi, uint64_t dflt,
          uint64_t *out, api_err_t *e)
{
    const char *v = ns_qs_get(qs, name);
    *out = dflt;
    if (v && !ns_qs_u64(v, lo, hi, out)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "not a number from %llu to %llu", (unsigned long long)lo,
                 (unsigned long long)hi);
        return bad(e, name, msg);
    }
    return true;
}

static bool
param_proto(const char *v, int16_t *out)
{
    static const struct {
        const char *name;
        int16_t proto;
    } names[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmp6", 58}, {"sctp", 132}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(v, names[i].name) == 0) {
            *out = names[i].proto;
            return true;
        }
    uint64_t n;
    if (!ns_qs_u64(v, 0, 255, &n))
        return false;
    *out = (int16_t)n;
    return true;
}

static const char *const flows_params[] = {
    "from", "to",  "host",  "port",   "proto", "agent", "conn_state", "service",
    "filter", "sort", "limit", "cursor", "live", "format", NULL,
};

static bool
want_csv(const ns_httpd_req_t *req, const ns_qs_t *qs, bool *csv, api_err_t *e)
{
    const char *f = ns_qs_get(qs, "format");
    *csv = strstr(req->accept, "text/csv") != NULL;
    if (f) {
        if (strcmp(f, "csv") == 0)
            *csv = true;
        else if (strcmp(f, "json") == 0)
            *csv = false;
        else
            return bad(e, "format", "format is json or csv");
    }
    return true;
}

/* Fill q from the parameters; the caller frees q->filter. */
static bool
flows_query(ns_api_t *api, const ns_httpd_req_t *req, const ns_qs_t *qs, api_query_t *q,
            api_err_t *e)
{
    memset(q, 0, sizeof(*q));
    q->port = -1;
    q->proto = -1;
    uint64_t now = api_now_ns(api), v;
    if (!param_time(qs, "from", now, 0, &q->from_ns, e) ||
        !param_time(qs, "to", now, 0, &q->to_ns, e))
        return false;
    if (q->to_ns && q->from_ns >= q->to_ns)
        return bad(e, "to", "'to' must be later than 'from'");
    const char *s = ns_qs_get(qs, "host");
    if (s) {
        if (inet_pton(AF_INET, s, q->host.b) == 1)
            q->host_ver = 4;
        else if (inet_pton(AF_INET6, s, q->host.b) == 1)
            q->host_ver = 6;
        else
            return bad(e, "host", "host is an IPv4 or IPv6 address (names are not resolved)");
        q->has_host = true;
    }
    if (!param_u64(qs, "port", 0, 65535, UINT64_MAX, &v, e))
        return false;
    q->port = v == UINT64_MAX ? -1 : (int32_t)v;
    if ((s = ns_qs_get(qs, "proto")) && !param_proto(s, &q->proto))
        return bad(e, "proto", "proto is tcp, udp, icmp, icmp6, sctp or a number 0-255");
    q->agent = ns_qs_get(qs, "agent");
    q->conn_state = ns_qs_get(qs, "conn_state");
    if ((s = ns_qs_get(qs, "service")))
        q->service = strcmp(s, "none") == 0 ? "" : s;
    if ((s = ns_qs_get(qs, "sort"))) {
        static const char *const sorts[] = {"time", "time_asc", "bytes", "packets", "duration"};
        bool found = false;
        for (size_t i = 0; i < 5 && !found; i++)
            if (strcmp(s, sorts[i]) == 0) {
                q->sort = (api_sort_t)i;
                found = true;
            }
        if (!found)
            return bad(e, "sort", "sort is time, time_asc, bytes, packets or duration");
    }
    if (!param_u64(qs, "limit", 1, API_LIMIT_MAX, API_LIMIT_DEFAULT, &v, e))
        return false;
    q->limit = (uint32_t)v;
    if (!want_csv(req, qs, &q->csv, e))
        return false;
    if ((s = ns_qs_get(qs, "filter")) && s[0]) {
        char err[256];
        q->filter = ns_bpf_flow_new(s, err, sizeof(err));
        if (q->filter == NULL)
            return bad(e, "filter", err);
    }
    return true;
}

/* ---- routes -------------------------------------------------------------------------------- */

static void
get_health(ns_api_t *api, ns_httpd_resp_t *r)
{
    uint32_t connected = 0, known = 0, flows = 0;
    api_lock(api);
    const ns_inventory_t *inv = api_inventory(api);
    const ns_merge_t *m = api_merge(api);
    if (inv) {
        known = ns_inventory_count(inv);
        for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); i != NS_INV_NONE;
             i = ns_inventory_next(inv, i))
            connected += ns_inventory_get(inv, i)->connected;
    }
    if (m) {
        ns_merge_stats_t ms;
        ns_merge_stats(m, &ms);
        flows = ms.flows;
    }
    api_unlock(api);
    uint64_t now = api_now_ns(api);
    ns_httpd_resp_printf(r,
                         "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%llu,"
                         "\"agents\":%u,\"agents_connected\":%u,\"flows_live\":%u,"
                         "\"database\":%s,\"stream\":",
                         NS_VERSION,
                         (unsigned long long)((now > api->start_ns ? now - api->start_ns : 0) /
                                              NS_PER_S),
                         known, connected, flows, api->store ? "true" : "false");
    if (api->ws)
        ns_httpd_resp_json_str(r, ns_ws_url(api->ws));
    else
        ns_httpd_resp_printf(r, "null");
    ns_httpd_resp_printf(r, "}\n");
}

static void
get_agents(ns_api_t *api, ns_httpd_resp_t *r)
{
    /* copy under the lock, format after */
    ns_inventory_agent_t *v = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    api_lock(api);
    const ns_inventory_t *inv = api_inventory(api);
    if (inv) {
        cap = ns_inventory_count(inv);
        v = cap ? malloc(cap * sizeof(*v)) : NULL;
        oom = cap && v == NULL;
        for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); v && i != NS_INV_NONE && n < cap;
             i = ns_inventory_next(inv, i))
            v[n++] = *ns_inventory_get(inv, i);
    }
    api_unlock(api);
    if (oom) {
        r->oom = true;
        return;
    }
    ns_httpd_resp_printf(r, "{\"agents\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ns_httpd_resp_append(r, ",", 1);
        api_json_agent(r, &v[i]);
    }
    ns_httpd_resp_printf(r, "]}\n");
    free(v);
}

static void
get_flows(ns_api_t *api, const ns_httpd_req_t *req, const ns_qs_t *qs, ns_httpd_resp_t *r,
          api_err_t *e)
{
    api_query_t q;
    api_out_t o = {.resp = r};
    uint64_t *conns = NULL;
    if (!flows_query(api, req, qs, &q, e))
        goto out;
    o.csv = q.csv;
    const char *live = ns_qs_get(qs, "live");
    bool want_live = true, want_hist = true;
    if (live && strcmp(live, "only") == 0)
        want_hist = false;
    else if (live && strcmp(live, "exclude") == 0)
        want_live = false;
    else if (live && strcmp(live, "include") != 0) {
        bad(e, "live", "live is include, only or exclude");
        goto out;
    }
    bool live_excluded = !want_live;
    /* cursor: "L<offset>" inside the live part, "H<store cursor>" inside history */
    const char *cur = ns_qs_get(qs, "cursor");
    uint64_t offset = 0;
    const char *hcur = NULL;
    if (cur && cur[0]) {
        if (cur[0] == 'L' && ns_qs_u64(cur + 1, 0, API_OFFSET_MAX, &offset) && want_live) {
            /* live page */
        } else if (cur[0] == 'H' && strlen(cur) < API_CURSOR_MAX && want_hist) {
            hcur = cur + 1;
            want_live = false;
        } else {
            bad(e, "cursor", "malformed cursor (take next_cursor of the previous page)");
            goto out;
        }
    }
    if (!want_live && api->store == NULL) {
        e->status = 503;
        snprintf(e->msg, sizeof(e->msg), "no database configured");
        e->param[0] = '\0';
        goto out;
    }
    if (!q.csv)
        ns_httpd_resp_printf(r, "{\"flows\":[");
    else
        snprintf(r->content_type, sizeof(r->content_type), "text/csv; charset=utf-8");
    if (q.csv) {
        char *hdr = NULL;
        size_t hlen = 0;
        FILE *mf = open_memstream(&hdr, &hlen);
        if (mf) {
            ns_flow_record_csv_header(mf);
            fclose(mf);
            ns_httpd_resp_append(r, hdr, hlen);
        } else {
            r->oom = true;
        }
        free(hdr);
    }
    uint64_t live_total = 0;
    char next[API_CURSOR_MAX] = "";
    if (want_live) {
        if (!live_flows(api, &q, (uint32_t)offset, q.limit, &o, &live_total)) {
            r->oom = true;
            goto out;
        }
        if (offset + o.written < live_total && o.written == q.limit)
            snprintf(next, sizeof(next), "L%llu", (unsigned long long)(offset + q.limit));
    }
    if (want_hist && next[0] == '\0' && o.written < q.limit) {
        char hnext[API_CURSOR_MAX] = "", err[256] = "";
        /* live and history together (not live=exclude): a connection still in the live view
         * is shown once, by the live part, on whichever page history is read */
        if (!live_excluded && api->store && !live_conns(api, &q, &conns, &q.n_live_conns)) {
            r->oom = true;
            goto out;
        }
        q.live_conns = conns;
        int rc = api_store_flows(api, &q, hcur ? hcur : "", q.limit - o.written, &o, hnext,
                                 sizeof(hnext), err, sizeof(err));
        if (rc > 0) {
            e->status = rc;
            snprintf(e->msg, sizeof(e->msg), "%s", err);
            snprintf(e->param, sizeof(e->param), "%s", rc == 400 ? "cursor" : "");
            goto out;
        }
        if (rc == 0 && hnext[0])
            snprintf(next, sizeof(next), "H%s", hnext);
    } else if (want_hist && next[0] == '\0' && api->store) {
        snprintf(next, sizeof(next), "H"); /* the live part filled the page: history next */
    }
    if (q.csv) {
        if (next[0])
            ns_httpd_resp_header(r, "X-Next-Cursor", next);
    } else {
        ns_httpd_resp_printf(r, "],\"returned\":%u,\"live_matched\":%llu,\"next_cursor\":",
                             o.written, (unsigned long long)live_total);
        if (next[0])
            ns_httpd_resp_json_str(r, next);
        else
            ns_httpd_resp_printf(r, "null");
        ns_httpd_resp_printf(r, "}\n");
    }
out:
    free(conns);
    ns_flow_record_buf_fini(&o.buf);
    ns_bpf_flow_destroy(&q.filter);
}

static bool
uid_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NS_FLOW_UID_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

typedef struct {
    const char *uid;
    api_live_item_t *item; /* the flow found */
    bool found;
} find_ctx_t;

static bool
on_find(void *ud, const api_live_item_t *it)
{
    find_ctx_t *c = ud;
    for (uint32_t k = 0; k < it->f.n_obs; k++)
        if (strcmp(it->f.obs[k].uid, c->uid) == 0) {
            *c->item = *it;
            c->found = true;
            return false;
        }
    return true;
}

static void
get_flow(ns_api_t *api, const char *uid, ns_httpd_resp_t *r, api_err_t *e)
{
    if (!uid_ok(uid)) {
        e->status = 404;
        snprintf(e->msg, sizeof(e->msg), "no such flow");
        return;
    }
    find_ctx_t fc = {.uid = uid};
    fc.item = malloc(sizeof(*fc.item));
    if (fc.item == NULL || !api_live_each(api, on_find, &fc)) {
        free(fc.item);
        r->oom = true;
        return;
    }
    int found = fc.found ? 0 : -1;
    api_live_item_t *items = fc.item;
    api_out_t o = {.resp = r};
    ns_httpd_resp_printf(r, "{\"uid\":");
    ns_httpd_resp_json_str(r, uid);
    ns_httpd_resp_printf(r, ",\"live\":");
    if (found >= 0) {
        const api_live_item_t *it = &items[found];
        api_out_live(&o, it);
        ns_httpd_resp_printf(r, ",\"observations\":[");
        for (uint32_t k = 0; k < it->f.n_obs; k++) {
            if (k)
                ns_httpd_resp_append(r, ",", 1);
            api_json_obs(r, &it->f.obs[k], it->agent[k]);
        }
        ns_httpd_resp_printf(r, "]");
    } else {
        ns_httpd_resp_printf(r, "null");
    }
    ns_httpd_resp_printf(r, ",\"history\":");
    api_out_t h = {.resp = r};
    ns_httpd_resp_printf(r, "[");
    int rc = api_store_flow_get(api, uid, &h);
    ns_httpd_resp_printf(r, "]}\n");
    if (found < 0 && h.written == 0) {
        e->status = 404;
        snprintf(e->msg, sizeof(e->msg), rc == API_NODB ? "no such live flow (no database)"
                                                          : "no such flow");
    }
    ns_flow_record_buf_fini(&o.buf);
    ns_flow_record_buf_fini(&h.buf);
    free(items);
}

static void
get_timeseries(ns_api_t *api, const ns_qs_t *qs, ns_httpd_resp_t *r, api_err_t *e)
{
    uint64_t now = api_now_ns(api), from, to, step = 0;
    const char *metric = ns_qs_get(qs, "metric");
    if (metric == NULL || metric[0] == '\0' || strlen(metric) > NS_STORE_SERIES_MAX) {
        bad(e, "metric", "metric names a series: all, proto:tcp, service:dns, agent:ID:IFACE");
        return;
    }
    if (!param_time(qs, "from", now, now - 3600 * NS_PER_S, &from, e) ||
        !param_time(qs, "to", now, now, &to, e))
        return;
    if (from >= to) {
        bad(e, "to", "'to' must be later than 'from'");
        return;
    }
    const char *s = ns_qs_get(qs, "step");
    if (s && !ns_qs_duration(s, 366 * 86400, &step)) {
        bad(e, "step", "step is a duration (60, 60s, 5m, 1h, 1d)");
        return;
    }
    char err[256] = "";
    int rc = api_store_series(api, metric, from / NS_PER_S, to / NS_PER_S, step, r, err,
                              sizeof(err));
    if (rc == API_NODB) {
        e->status = 503;
        snprintf(e->msg, sizeof(e->msg), "no database configured");
    } else if (rc > 0) {
        e->status = rc;
        snprintf(e->msg, sizeof(e->msg), "%s", err);
    }
}

/* ---- live top and protocols (no database) ------------------------------------------------ */

typedef struct {
    char label[2 * INET6_ADDRSTRLEN + 2];
    uint64_t bytes, pkts, flows;
} group_t;

typedef struct {
    group_t *v;
    size_t n, cap; /* open addressing, cap a power of two */
    bool oom;
} groups_t;

static uint64_t
label_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: labels come from our own formatting */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static group_t *
groups_get(groups_t *g, const char *label)
{
    if (g->oom)
        return NULL;
    if (2 * (g->n + 1) > g->cap) {
        size_t ncap = g->cap ? 2 * g->cap : 256;
        group_t *nv = calloc(ncap, sizeof(*nv));
        if (nv == NULL) {
            g->oom = true;
            return NULL;
        }
        for (size_t i = 0; i < g->cap; i++) {
            if (g->v[i].label[0] == '\0')
                continue;
            size_t j = label_hash(g->v[i].label) & (ncap - 1);
            while (nv[j].label[0])
                j = (j + 1) & (ncap - 1);
            nv[j] = g->v[i];
        }
        free(g->v);
        g->v = nv;
        g->cap = ncap;
    }
    size_t j = label_hash(label) & (g->cap - 1);
    while (g->v[j].label[0] && strcmp(g->v[j].label, label) != 0)
        j = (j + 1) & (g->cap - 1);
    if (g->v[j].label[0] == '\0') {
        snprintf(g->v[j].label, sizeof(g->v[j].label), "%s", label);
        g->n++;
    }
    return &g->v[j];
}

static void
addr_text(const ns_flow_rec_t *r, const ns_addr_t *a, char *out, size_t len)
{
    if (inet_ntop(r->ip_ver == 6 ? AF_INET6 : AF_INET, a->b, out, (socklen_t)len) == NULL)
        snprintf(out, len, "?");
}

static void
group_add(groups_t *g, const char *label, const ns_flow_rec_t *r)
{
    group_t *x = groups_get(g, label);
    if (x == NULL)
        return;
    x->bytes += r->wire_bytes[0] + r->wire_bytes[1];
    x->pkts += r->pkts[0] + r->pkts[1];
    x->flows++;
}

/* Visit every live flow matching the time window, grouped by `group` (0 host, 1 pair, 2
 * port, 3 service, 4 protocol). */
typedef struct {
    int group;
    uint64_t from_ns, to_ns;
    groups_t *g;
} group_ctx_t;

static bool
on_group(void *ud, const api_live_item_t *it)
{
    group_ctx_t *c = ud;
    ns_flow_rec_t r;
    api_live_rec(&it->f, &r);
    if (r.last_ns < c->from_ns || (c->to_ns && r.first_ns >= c->to_ns))
        return true;
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], label[2 * INET6_ADDRSTRLEN + 2], pb[8];
    switch (c->group) {
    case 0:
        addr_text(&r, &r.orig_h, a, sizeof(a));
        addr_text(&r, &r.resp_h, b, sizeof(b));
        group_add(c->g, a, &r);
        if (strcmp(a, b) != 0)
            group_add(c->g, b, &r);
        break;
    case 1:
        addr_text(&r, &r.orig_h, a, sizeof(a));
        addr_text(&r, &r.resp_h, b, sizeof(b));
        snprintf(label, sizeof(label), "%s %s", a, b);
        group_add(c->g, label, &r);
        break;
    case 2:
        snprintf(label, sizeof(label), "%s/%u", ns_live_proto_name(r.proto, pb, sizeof(pb)),
                 r.resp_p);
        group_add(c->g, label, &r);
        break;
    case 3:
        group_add(c->g, r.service[0] ? r.service : "none", &r);
        break;
    default:
        group_add(c->g, ns_live_proto_name(r.proto, pb, sizeof(pb)), &r);
        break;
    }
    return !c->g->oom;
}

/* Group every live flow in the time window by `group` (0 host, 1 pair, 2 port, 3 service,
 * 4 protocol). */
static bool
live_groups(ns_api_t *api, int group, uint64_t from_ns, uint64_t to_ns, groups_t *g)
{
    group_ctx_t c = {.group = group, .from_ns = from_ns, .to_ns = to_ns, .g = g};
    return api_live_each(api, on_group, &c) && !g->oom;
}

static int g_top_by; /* qsort has no context argument: set under top_lock */
static pthread_mutex_t top_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
group_val(const group_t *x, int by)
{
    return by == 0 ? x->bytes : by == 1 ? x->pkts : x->flows;
}

static int
group_cmp(const void *a, const void *b)
{
    const group_t *x = a, *y = b;
    uint64_t vx = group_val(x, g_top_by), vy = group_val(y, g_top_by);
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return strcmp(x->label, y->label);
}

static void
write_groups(ns_httpd_resp_t *r, groups_t *g, int by, size_t n, const char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < g->cap; i++)
        if (g->v[i].label[0])
            g->v[k++] = g->v[i];
    pthread_mutex_lock(&top_lock);
    g_top_by = by;
    qsort(g->v, k, sizeof(*g->v), group_cmp);
    pthread_mutex_unlock(&top_lock);
    ns_httpd_resp_printf(r, "\"%s\":[", key);
    for (size_t i = 0; i < k && i < n; i++) {
        ns_httpd_resp_printf(r, "%s{\"label\":", i ? "," : "");
        ns_httpd_resp_json_str(r, g->v[i].label);
        ns_httpd_resp_printf(r, ",\"bytes\":%llu,\"packets\":%llu,\"flows\":%llu}",
                             (unsigned long long)g->v[i].bytes,
                             (unsigned long long)g->v[i].pkts,
                             (unsigned long long)g->v[i].flows);
    }
    ns_httpd_resp_printf(r, "]");
}

static bool
pick_word(const char *v, const char *const *words, int *out)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(v, words[i]) == 0) {
            *out = i;
            return true;
        }
    return false;
}

static void
get_top(ns_api_t *api, const ns_qs_t *qs, ns_httpd_resp_t *r, api_err_t *e)
{
    static const char *const bys[] = {"bytes", "packets", "flows", NULL};
    static const char *const groups[] = {"host", "pair", "port", "service", NULL};
    int by = 0, group = 0;
    uint64_t now = api_now_ns(api), from, to, n;
    const char *s;
    if ((s = ns_qs_get(qs, "by")) && !pick_word(s, bys, &by)) {
        bad(e, "by", "by is bytes, packets or flows");
        return;
    }
    if ((s = ns_qs_get(qs, "group")) && !pick_word(s, groups, &group)) {
        bad(e, "group", "group is host, pair, port or service");
        return;
    }
    if (!param_time(qs, "from", now, 0, &from, e) || !param_time(qs, "to", now, 0, &to, e) ||
        !param_u64(qs, "n", 1, API_TOP_MAX, 10, &n, e))
        return;
    if (to && from >= to) {
        bad(e, "to", "'to' must be later than 'from'");
        return;
    }
    char err[256] = "";
    int rc = api_store_top(api, by, group, from, to, (uint32_t)n, r, err, sizeof(err));
    if (rc == 0)
        return;
    if (rc > 0) {
        e->status = rc;
        snprintf(e->msg, sizeof(e->msg), "%s", err);
        return;
    }
    groups_t g = {0};
    if (!live_groups(api, group, from, to, &g)) {
        r->oom = true;
    } else {
        ns_httpd_resp_printf(r, "{\"source\":\"live\",\"by\":\"%s\",\"group\":\"%s\",", bys[by],
                             groups[group]);
        write_groups(r, &g, by, n, "top");
        ns_httpd_resp_printf(r, "}\n");
    }
    free(g.v);
}

static void
get_protocols(ns_api_t *api, const ns_qs_t *qs, ns_httpd_resp_t *r, api_err_t *e)
{
    uint64_t now = api_now_ns(api), from, to;
    if (!param_time(qs, "from", now, 0, &from, e) || !param_time(qs, "to", now, 0, &to, e))
        return;
    if (ns_qs_get(qs, "from") || ns_qs_get(qs, "to")) {
        char err[256] = "";
        int rc = api_store_protocols(api, from / NS_PER_S, (to ? to : now) / NS_PER_S, r, err,
                                     sizeof(err));
        if (rc == 0)
            return;
        if (rc > 0) {
            e->status = rc;
            snprintf(e->msg, sizeof(e->msg), "%s", err);
            return;
        }
    }
    groups_t p = {0}, sv = {0};
    if (!live_groups(api, 4, from, to, &p) || !live_groups(api, 3, from, to, &sv)) {
        r->oom = true;
    } else {
        ns_httpd_resp_printf(r, "{\"source\":\"live\",");
        write_groups(r, &p, 0, SIZE_MAX, "protocols");
        ns_httpd_resp_printf(r, ",");
        write_groups(r, &sv, 0, SIZE_MAX, "services");
        ns_httpd_resp_printf(r, "}\n");
    }
    free(p.v);
    free(sv.v);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

typedef enum {
    R_NONE = 0,
    R_HEALTH,
    R_AGENTS,
    R_FLOWS,
    R_FLOW,
    R_TIMESERIES,
    R_TOP,
    R_PROTOCOLS,
    R_METRICS,
    R_ALERTS,
    R_ALERT,
    R_ANALYSIS,
    R_DRYRUN,
} route_t;

static route_t
route_of(const char *path, const char **rest)
{
    static const struct {
        const char *name;
        route_t r;
    } routes[] = {{"health", R_HEALTH},         {"agents", R_AGENTS}, {"flows", R_FLOWS},
                  {"timeseries", R_TIMESERIES}, {"top", R_TOP},       {"protocols", R_PROTOCOLS},
                  {"alerts", R_ALERTS}};
    *rest = NULL;
    if (strcmp(path, "/metrics") == 0)
        return R_METRICS;
    if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
        return R_NONE;
    const char *p = path + strlen(API_PREFIX);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(p, routes[i].name) == 0)
            return routes[i].r;
    if (strncmp(p, "flows/", 6) == 0 && strchr(p + 6, '/') == NULL && p[6]) {
        *rest = p + 6;
        return R_FLOW;
    }
    static const char dryrun[] = "/filter_dryrun";
    size_t dl = strlen(dryrun), pl = strlen(p);
    if (strncmp(p, "agents/", 7) == 0 && pl > 7 + dl && strcmp(p + pl - dl, dryrun) == 0 &&
        memchr(p + 7, '/', pl - 7 - dl) == NULL) {
        *rest = p + 7; /* "ID/filter_dryrun" */
        return R_DRYRUN;
    }
    if (strncmp(p, "alerts/", 7) == 0 && p[7]) {
        *rest = p + 7;
        return R_ALERT;
    }
    if (strncmp(p, "analysis/", 9) == 0 && p[9] && strchr(p + 9, '/') == NULL) {
        *rest = p + 9;
        return R_ANALYSIS;
    }
    return R_NONE;
}

void
ns_api_handle(void *ud, const ns_httpd_req_t *req, ns_httpd_resp_t *resp)
{
    ns_api_t *api = ud;
    static const char *const none[] = {NULL};
    static const char *const time_params[] = {"from", "to", NULL};
    static const char *const series_params[] = {"metric", "from", "to", "step", NULL};
    static const char *const top_params[] = {"by", "group", "from", "to", "n", NULL};
    static const char *const alert_params[] = {"state", "detector", "host", "from",
                                               "to",    "limit",    NULL};
    static const char *const analysis_params[] = {"by", "sort", "limit", NULL};
    static const char *const dryrun_params[] = {"bpf", NULL};
    api_err_t e = {0};
    ns_qs_t *qs = NULL;
    if (!ns_qs_path_ok(req->path)) {
        ns_httpd_resp_error(resp, 400, "malformed path", NULL);
        return;
    }
    const char *rest;
    route_t rt = route_of(req->path, &rest);
    if (rt == R_NONE) {
        if (!api_ui_serve(api, req, resp))
            ns_httpd_resp_error(resp, 404, "no such resource", NULL);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        ns_httpd_resp_error(resp, 405, "method not allowed", NULL);
        ns_httpd_resp_header(resp, "Allow", "GET, HEAD");
        return;
    }
    qs = malloc(sizeof(*qs));
    if (qs == NULL) {
        resp->oom = true;
        return;
    }
    if (!ns_qs_parse(qs, req->query, strlen(req->query))) {
        ns_httpd_resp_error(resp, 400, qs->err, qs->err_param[0] ? qs->err_param : NULL);
        goto out;
    }
    const char *const *known = none;
    if (rt == R_FLOWS)
        known = flows_params;
    else if (rt == R_TIMESERIES)
        known = series_params;
    else if (rt == R_TOP)
        known = top_params;
    else if (rt == R_PROTOCOLS)
        known = time_params;
    else if (rt == R_ALERTS)
        known = alert_params;
    else if (rt == R_ANALYSIS)
        known = analysis_params;
    else if (rt == R_DRYRUN)
        known = dryrun_params;
    const char *unknown = ns_qs_unknown(qs, known);
    if (unknown) {
        ns_httpd_resp_error(resp, 400, "unknown parameter", unknown);
        goto out;
    }
    switch (rt) {
    case R_HEALTH:
        get_health(api, resp);
        break;
    case R_AGENTS:
        get_agents(api, resp);
        break;
    case R_FLOWS:
        get_flows(api, req, qs, resp, &e);
        break;
    case R_FLOW:
        get_flow(api, rest, resp, &e);
        break;
    case R_TIMESERIES:
        get_timeseries(api, qs, resp, &e);
        break;
    case R_TOP:
        get_top(api, qs, resp, &e);
        break;
    case R_PROTOCOLS:
        get_protocols(api, qs, resp, &e);
        break;
    case R_METRICS:
        api_metrics(api, resp);
        break;
    case R_ALERTS:
        api_alerts(api, qs, resp);
        break;
    case R_ALERT:
        api_alert(api, rest, resp);
        break;
    case R_ANALYSIS:
        api_analysis(api, rest, qs, resp);
        break;
    case R_DRYRUN: {
        char agent[NS_INV_ID_MAX];
        size_t n = (size_t)(strchr(rest, '/') - rest);
        snprintf(agent, sizeof(agent), "%.*s", (int)(n < sizeof(agent) ? n : sizeof(agent) - 1),
                 rest);
        api_filter_dryrun(api, agent, qs, resp);
        break;
    }
    case R_NONE:
        break;
    }
    if (e.status)
        ns_httpd_resp_error(resp, e.status, e.msg, e.param[0] ? e.param : NULL);
out:
    free(qs);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

ns_api_t *
ns_api_new(ns_collector_t *c, ns_store_t *store)
{
    ns_api_t *self = calloc(1, sizeof(*self));
    if (self == NULL)
        return NULL;
    self->collector = c;
    self->store = store;
    pthread_mutex_init(&self->rate_lock, NULL);
    pthread_mutex_init(&self->dr_lock, NULL);
    pthread_cond_init(&self->dr_cond, NULL);
    self->start_ns = api_now_ns(self);
    return self;
}

/* The dashboard's files load without the token (a browser cannot send it before the page
 * has run); everything under /api and /metrics needs it. Targets are raw: api.c refuses
 * %-escapes, "//" and dot segments, so no public target reaches an API route. */
static bool
public_target(const char *target)
{
    return target[0] == '/' && strncmp(target, "/api", 4) != 0 &&
           strncmp(target, "/metrics", 8) != 0;
}

ns_api_t *
ns_api_start(const ns_httpd_opts_t *o, ns_collector_t *c, ns_store_t *store, char *errbuf,
             size_t errlen)
{
    ns_api_t *self = ns_api_new(c, store);
    if (self == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    ns_httpd_opts_t ho = *o;
    ho.public_fn = public_target;
    self->httpd = ns_httpd_start(&ho, ns_api_handle, self, errbuf, errlen);
    if (self->httpd == NULL) {
        ns_api_stop(&self);
        return NULL;
    }
    if (c) {
        ns_collector_lock(c);
        ns_collector_packets_fn(c, NS_COLLECTOR_PKT_API, api_dryrun_on_packets, self);
        ns_collector_unlock(c);
    }
    ns_httpd_set_ready(self->httpd, true);
    ns_log_info("HTTP API on %s (port %u)%s", o->listen, ns_httpd_port(self->httpd),
                o->token && o->token[0] ? ", token required" : "");
    return self;
}

void
ns_api_stop(ns_api_t **self_p)
{
    ns_api_t *self = *self_p;
    if (self == NULL)
        return;
    if (self->httpd && self->collector) {
        ns_collector_lock(self->collector);
        ns_collector_packets_fn(self->collector, NS_COLLECTOR_PKT_API, NULL, NULL);
        ns_collector_unlock(self->collector);
    }
    ns_httpd_stop(&self->httpd);
    free(self->ui_root);
    pthread_mutex_destroy(&self->rate_lock);
    pthread_mutex_destroy(&self->dr_lock);
    pthread_cond_destroy(&self->dr_cond);
    free(self);
    *self_p = NULL;
}

void
ns_api_set_live(ns_api_t *self, const ns_merge_t *merge, const ns_inventory_t *inv)
{
    self->merge = merge;
    self->inv = inv;
}

void
ns_api_set_stream(ns_api_t *self, const struct ns_ws *ws)
{
    self->ws = ws;
}

bool
ns_api_set_ui(ns_api_t *self, const char *dir)
{
    return api_ui_set(self, dir, self->ws ? ns_ws_url(self->ws) : NULL);
}

void
ns_api_set_now(ns_api_t *self, uint64_t now_ns)
{
    self->fixed_now_ns = now_ns;
    self->start_ns = now_ns;
}

uint16_t
ns_api_port(const ns_api_t *self)
{
    return self->httpd ? ns_httpd_port(self->httpd) : 0;
}

/* api_store.c - the API's history answers from the LMDB store (store.h).
 *
 * Without storage.db the store is NULL and every history question answers "no database".
 * Each function opens one read transaction for its answer and ends it before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

static ns_store_read_t *
begin(ns_api_t *api, char *err, size_t errlen)
{
    return api->store ? ns_store_read_begin(api->store, err, errlen) : NULL;
}

typedef struct {
    api_out_t *o;
    const api_query_t *q; /* NULL: no live connections to leave out */
} flow_ctx_t;

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool
on_flow(void *ud, const ns_store_flow_t *f)
{
    flow_ctx_t *c = ud;
    if (c->q && c->q->n_live_conns &&
        bsearch(&f->meta.conn, c->q->live_conns, c->q->n_live_conns, sizeof(uint64_t), cmp_u64))
        return true; /* the live part has this connection */
    api_out_rec(c->o, f->rec, f->meta.agent, "history", &f->meta);
    return !c->o->resp->oom;
}

int
api_store_flows(ns_api_t *api, const api_query_t *q, const char *cursor, uint32_t limit,
                api_out_t *o, char *next, size_t next_len, char *err, size_t errlen)
{
    if (next_len)
        next[0] = '\0';
    if (api->store == NULL)
        return API_NODB;
    ns_store_read_t *rd = begin(api, err, errlen);
    if (rd == NULL)
        return 500;
    ns_store_query_t sq;
    memset(&sq, 0, sizeof(sq));
    sq.from_ns = q->from_ns;
    sq.to_ns = q->to_ns;
    sq.has_host = q->has_host;
    sq.host_ver = q->host_ver;
    sq.host = q->host;
    sq.port = q->port;
    sq.proto = q->proto;
    sq.agent = q->agent;
    sq.all_observations = q->agent != NULL; /* what that agent saw, first observer or not */
    sq.conn_state = q->conn_state;
    sq.service = q->service;
    sq.match = q->filter ? api_rec_filter : NULL;
    sq.match_ud = (void *)(uintptr_t)q;
    sq.sort = (ns_store_sort_t)q->sort;
    sq.limit = limit;
    sq.cursor = cursor;
    ns_store_result_t res;
    flow_ctx_t c = {.o = o, .q = q};
    ns_err_t rc = ns_store_flows(rd, &sq, on_flow, &c, &res, err, errlen);
    ns_store_read_end(&rd);
    if (rc == NS_EINVAL)
        return 400;
    if (rc != NS_OK)
        return 500;
    snprintf(next, next_len, "%s", res.next_cursor);
    return 0;
}

int
api_store_flow_get(ns_api_t *api, const char *uid, api_out_t *o)
{
    char err[256];
    if (api->store == NULL)
        return API_NODB;
    ns_store_read_t *rd = begin(api, err, sizeof(err));
    if (rd == NULL)
        return 500;
    flow_ctx_t c = {.o = o};
    (void)ns_store_flow_get(rd, uid, on_flow, &c);
    ns_store_read_end(&rd);
    return 0;
}

int
api_store_series(ns_api_t *api, const char *metric, uint64_t from_s, uint64_t to_s,
                 uint64_t step_s, ns_httpd_resp_t *r, char *err, size_t errlen)
{
    static const char *const res_names[] = {"1s", "1m", "1h"};
    static ns_store_point_t pts[API_SERIES_MAX];
    static pthread_mutex_t pts_lock = PTHREAD_MUTEX_INITIALIZER;
    if (api->store == NULL)
        return API_NODB;
    ns_store_read_t *rd = begin(api, err, errlen);
    if (rd == NULL)
        return 500;
    pthread_mutex_lock(&pts_lock);
    ns_store_res_t used = NS_STORE_RES_1S;
    size_t n = ns_store_series(rd, metric, from_s, to_s, step_s, pts, API_SERIES_MAX, &used);
    ns_store_read_end(&rd);
    ns_httpd_resp_printf(r, "{\"metric\":");
    ns_httpd_resp_json_str(r, metric);
    ns_httpd_resp_printf(r, ",\"resolution\":\"%s\",\"points\":[",
                         used < NS_STORE_RES_COUNT ? res_names[used] : "?");
    for (size_t i = 0; i < n; i++) {
        const ns_store_point_t *p = &pts[i];
        ns_httpd_resp_printf(r,
                             "%s{\"t\":%llu,\"bytes\":%llu,\"packets\":%llu,\"new_flows\":%llu,"
                             "\"ended_flows\":%llu,\"active_max\":%llu,\"rtt_avg_us\":%llu,"
                             "\"retrans\":%llu}",
                             i ? "," : "", (unsigned long long)p->start_s,
                             (unsigned long long)p->bytes, (unsigned long long)p->pkts,
                             (unsigned long long)p->new_flows,
                             (unsigned long long)p->ended_flows,
                             (unsigned long long)p->active_max,
                             (unsigned long long)(p->rtt_n ? p->rtt_sum_us / p->rtt_n : 0),
                             (unsigned long long)p->retrans);
    }
    pthread_mutex_unlock(&pts_lock);
    ns_httpd_resp_printf(r, "]}\n");
    return 0;
}

int
api_store_top(ns_api_t *api, int by, int group, uint64_t from_ns, uint64_t to_ns, uint32_t n,
              ns_httpd_resp_t *r, char *err, size_t errlen)
{
    static const char *const bys[] = {"bytes", "packets", "flows"};
    static const char *const groups[] = {"host", "pair", "port", "service"};
    ns_store_top_row_t rows[API_TOP_MAX];
    if (api->store == NULL)
        return API_NODB;
    ns_store_read_t *rd = begin(api, err, errlen);
    if (rd == NULL)
        return 500;
    size_t k = ns_store_top(rd, (ns_store_top_by_t)by, (ns_store_top_group_t)group, from_ns,
                            to_ns ? to_ns : api_now_ns(api), rows, n < API_TOP_MAX ? n : API_TOP_MAX);
    ns_store_read_end(&rd);
    ns_httpd_resp_printf(r, "{\"source\":\"history\",\"by\":\"%s\",\"group\":\"%s\",\"top\":[",
                         bys[by], groups[group]);
    for (size_t i = 0; i < k; i++) {
        ns_httpd_resp_printf(r, "%s{\"label\":", i ? "," : "");
        ns_httpd_resp_json_str(r, rows[i].label);
        ns_httpd_resp_printf(r, ",\"bytes\":%llu,\"packets\":%llu,\"flows\":%llu}",
                             (unsigned long long)rows[i].bytes,
                             (unsigned long long)rows[i].pkts,
                             (unsigned long long)rows[i].flows);
    }
    ns_httpd_resp_printf(r, "]}\n");
    return 0;
}

typedef struct {
    ns_api_t *api;
    ns_store_read_t *rd;
    ns_httpd_resp_t *r;
    uint64_t from_s, to_s;
    unsigned n;
} names_ctx_t;

static bool
on_name(void *ud, const char *name)
{
    names_ctx_t *c = ud;
    if (strncmp(name, "proto:", 6) != 0 && strncmp(name, "service:", 8) != 0)
        return true;
    ns_store_point_t p;
    /* one bucket as wide as the window: the sums over it */
    size_t got = ns_store_series(c->rd, name, c->from_s, c->to_s,
                                 c->to_s > c->from_s ? c->to_s - c->from_s : 1, &p, 1, NULL);
    ns_httpd_resp_printf(c->r, "%s{\"series\":", c->n++ ? "," : "");
    ns_httpd_resp_json_str(c->r, name);
    ns_httpd_resp_printf(c->r, ",\"bytes\":%llu,\"packets\":%llu,\"flows\":%llu}",
                         (unsigned long long)(got ? p.bytes : 0),
                         (unsigned long long)(got ? p.pkts : 0),
                         (unsigned long long)(got ? p.new_flows : 0));
    return true;
}

int
api_store_protocols(ns_api_t *api, uint64_t from_s, uint64_t to_s, ns_httpd_resp_t *r,
                    char *err, size_t errlen)
{
    if (api->store == NULL)
        return API_NODB;
    ns_store_read_t *rd = begin(api, err, errlen);
    if (rd == NULL)
        return 500;
    names_ctx_t c = {.api = api, .rd = rd, .r = r, .from_s = from_s, .to_s = to_s};
    ns_httpd_resp_printf(r, "{\"source\":\"history\",\"series\":[");
    ns_store_series_names(rd, NS_STORE_RES_1M, from_s, to_s, on_name, &c);
    ns_httpd_resp_printf(r, "]}\n");
    ns_store_read_end(&rd);
    return 0;
}

void
api_store_metrics(ns_api_t *api, ns_httpd_resp_t *r)
{
    if (api->store == NULL)
        return;
    ns_store_stats_t s;
    ns_store_stats(api->store, &s);
    uint64_t free_b = s.max_size > s.used_bytes ? s.max_size - s.used_bytes : 0;
    ns_httpd_resp_printf(r,
                         "# HELP netscope_store_size_bytes LMDB pages in use.\n"
                         "# TYPE netscope_store_size_bytes gauge\n"
                         "netscope_store_size_bytes %llu\n"
                         "# HELP netscope_store_file_bytes LMDB data file size.\n"
                         "# TYPE netscope_store_file_bytes gauge\n"
                         "netscope_store_file_bytes %llu\n"
                         "# HELP netscope_store_free_bytes Room left before the size limit.\n"
                         "# TYPE netscope_store_free_bytes gauge\n"
                         "netscope_store_free_bytes %llu\n"
                         "# HELP netscope_store_flows Flow records stored.\n"
                         "# TYPE netscope_store_flows gauge\n"
                         "netscope_store_flows %llu\n"
                         "# HELP netscope_store_queue_drops_total Records refused: queue full.\n"
                         "# TYPE netscope_store_queue_drops_total counter\n"
                         "netscope_store_queue_drops_total %llu\n",
                         (unsigned long long)s.used_bytes, (unsigned long long)s.file_bytes,
                         (unsigned long long)free_b, (unsigned long long)s.flows,
                         (unsigned long long)s.queue_drops);
}

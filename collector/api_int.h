/* api_int.h - what the files of the API share (api.c routes and live queries, api_json.c
 * documents, api_metrics.c /metrics, api_store.c history).
 */
#ifndef NETSCOPE_API_INT_H
#define NETSCOPE_API_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow_record.h"
#include "netscope/api.h"
#include "netscope/bpf_flow.h"
#include "netscope/detect.h"
#include "netscope/flow_rec.h"
#include "netscope/httpd.h"
#include "netscope/qs.h"
/* store.h names struct ns_store_point in a parameter list before defining it: declare it
 * first so that the declaration is visible (and -Wextra quiet). */
struct ns_store_point;
#include "netscope/store.h"
#include "netscope/ws.h"

#define API_LIMIT_DEFAULT 100u
#define API_LIMIT_MAX 10000u
#define API_OFFSET_MAX 100000u /* deepest live page (cursor "L<offset>") */
#define API_TOP_MAX 1000u
#define API_SERIES_MAX 4096u   /* points per time-series answer */
#define API_CURSOR_MAX 48u     /* our cursor text, NUL included */

struct ns_api {
    ns_collector_t *collector;
    ns_store_t *store;
    const ns_merge_t *merge;    /* tests: instead of the collector's */
    const ns_inventory_t *inv;
    uint64_t fixed_now_ns;
    uint64_t start_ns;
    ns_httpd_t *httpd;
    pthread_mutex_t rate_lock;  /* the ingest rate between two scrapes */
    uint64_t rate_t_ns, rate_records;
    double rate;
    const struct ns_ws *ws;  /* the live stream (NULL: off) */
    pthread_mutex_t dr_lock; /* filter dry runs waiting for packets (api_dryrun.c) */
    pthread_cond_t dr_cond;
    uint64_t dr_serial;
    struct api_dryrun *dr_waiting;
    char *ui_root;           /* the dashboard's directory, real path (NULL: no UI) */
    char ui_csp[512];        /* the dashboard's Content-Security-Policy */
};

/* Sort orders of /flows (the store's ns_store_sort_t values, in the same order). */
typedef enum {
    API_SORT_TIME_DESC = 0,
    API_SORT_TIME_ASC,
    API_SORT_BYTES,
    API_SORT_PACKETS,
    API_SORT_DURATION,
} api_sort_t;

/* A parsed /flows query. */
typedef struct {
    uint64_t from_ns, to_ns;  /* to_ns 0: no upper bound */
    bool has_host;
    uint8_t host_ver;
    ns_addr_t host;
    int32_t port;             /* -1: any */
    int16_t proto;            /* -1: any */
    const char *agent, *conn_state, *service; /* NULL: any; service "" = none */
    ns_bpf_flow_t *filter;    /* NULL: none */
    api_sort_t sort;
    uint32_t limit;
    bool csv;
    /* Connections in the live view (sorted conn ids, ns_collector_conn_base() + serial): their
     * stored records are left out of a live+history list, the live part shows them. */
    const uint64_t *live_conns;
    size_t n_live_conns;
} api_query_t;

/* Output state of a list of records (JSON array members or CSV lines). */
typedef struct {
    ns_httpd_resp_t *resp;
    ns_flow_record_buf_t buf;
    bool csv;
    uint32_t written;
} api_out_t;

#define API_APP_MAX 256u /* bytes of a live flow's "app" text, NUL included */

/* A live flow as copied from the merge, with its observers' agent ids and its latest HTTP
 * request or DNS query ("" when none is kept: ns_txstore_latest()). */
typedef struct {
    ns_merge_flow_t f;
    char agent[NS_MERGE_OBS_MAX][NS_INV_ID_MAX];
    char app[API_APP_MAX];
} api_live_item_t;

/* Active alerts, copied. */
typedef struct {
    ns_alert_t *v;
    uint32_t n;
} alerts_t;

/* ---- api.c --------------------------------------------------------------------------------- */
uint64_t api_now_ns(const ns_api_t *api);
/* True when `rec` (observed by `agent`, may be NULL) satisfies every condition of `q`. */
bool api_rec_match(const api_query_t *q, const ns_flow_rec_t *rec, const char *agent);
/* The BPF condition alone (the store's match callback). */
bool api_rec_filter(void *q, const ns_flow_rec_t *rec);
/* Append one record (JSON object with "agent" and "source", or a CSV line). */
void api_out_rec(api_out_t *o, const ns_flow_rec_t *rec, const char *agent, const char *source,
                 const ns_store_meta_t *meta);
/* Append a live flow: its record (source "live") and, in JSON, "app" (null when none). */
void api_out_live(api_out_t *o, const api_live_item_t *it);
/* Lock the live state; the merge and inventory in force (NULL when none). */
void api_lock(ns_api_t *api);
void api_unlock(ns_api_t *api);
const ns_merge_t *api_merge(const ns_api_t *api);
const ns_inventory_t *api_inventory(const ns_api_t *api);
/* Call fn for every live flow, copied a chunk at a time under the lock and handed to fn after
 * it is let go; fn returns false to stop. False when out of memory. */
bool api_live_each(ns_api_t *api, bool (*fn)(void *ud, const api_live_item_t *it), void *ud);
/* A merged flow as one record in `netscope flows` names (see api.c's file comment). */
void api_live_rec(const ns_merge_flow_t *f, ns_flow_rec_t *r);

/* ---- api_json.c ------------------------------------------------------------------------------ */
void api_json_agent(ns_httpd_resp_t *r, const ns_inventory_agent_t *a);
void api_json_u64(ns_httpd_resp_t *r, const char *name, uint64_t v, bool comma);
void api_json_time(ns_httpd_resp_t *r, const char *name, uint64_t ns, bool comma);
void api_json_obs(ns_httpd_resp_t *r, const ns_merge_obs_t *o, const char *agent);

/* ---- api_ui.c ---------------------------------------------------------------------------------
 * Serve the dashboard from `dir` (NULL, "" or not a directory: no UI, false), its CSP allowing
 * connections to the stream at `ws_url` (NULL: none). */
bool api_ui_set(ns_api_t *api, const char *dir, const char *ws_url);
/* Answer a request outside /api/ and /metrics from the UI directory: true when answered
 * (a file, 404 or 405), false when there is no UI. */
bool api_ui_serve(ns_api_t *api, const ns_httpd_req_t *req, ns_httpd_resp_t *r);

/* ---- api_dryrun.c ----------------------------------------------------------------------------- */
typedef struct api_dryrun api_dryrun_t;
/* GET /api/v1/agents/{agent}/filter_dryrun?bpf=EXPR (blocks up to a few seconds). */
void api_filter_dryrun(ns_api_t *api, const char *agent, const ns_qs_t *qs, ns_httpd_resp_t *r);
/* The GetPackets request for observation `obs` of live flow `it`, answered on `channel`. */
void api_pkt_ask_of(const api_live_item_t *it, uint32_t obs, uint8_t channel,
                    ns_collector_pkt_ask_t *a);
/* The collector's packet answers for dry runs (NS_COLLECTOR_PKT_API; ingest thread). */
void api_dryrun_on_packets(void *ud, uint64_t tag, const uint8_t *data, size_t len,
                           const char *error, unsigned flags);

/* ---- api_metrics.c --------------------------------------------------------------------------- */
void api_metrics(ns_api_t *api, ns_httpd_resp_t *r);

/* ---- api_analysis.c -------------------------------------------------------------------------- */
/* GET /api/v1/analysis/{which}; and the analyses' /metrics lines */
void api_analysis(ns_api_t *api, const char *which, const ns_qs_t *qs, ns_httpd_resp_t *r);
void api_analysis_metrics(ns_api_t *api, ns_httpd_resp_t *r);

/* ---- api_alerts.c ---------------------------------------------------------------------------- */
void api_alerts(ns_api_t *api, const ns_qs_t *qs, ns_httpd_resp_t *r);
/* /alerts/{rest}: "ID" or "ID/pcap". */
void api_alert(ns_api_t *api, const char *rest, ns_httpd_resp_t *r);
void api_alert_metrics(ns_api_t *api, ns_httpd_resp_t *r);
/* The active alerts now, copied under the lock (the caller frees l->v). False when out of
 * memory. */
bool api_alerts_active(ns_api_t *api, alerts_t *l);

/* ---- api_store.c -------------------------------------------------------------------------
 * Each returns 0 when it answered, API_NODB when there is no database (NULL store or no
 * store library), or an HTTP status with a sentence in err. */
#define API_NODB (-1)
int api_store_flows(ns_api_t *api, const api_query_t *q, const char *cursor, uint32_t limit,
                    api_out_t *o, char *next, size_t next_len, char *err, size_t errlen);
int api_store_flow_get(ns_api_t *api, const char *uid, api_out_t *o);
int api_store_series(ns_api_t *api, const char *metric, uint64_t from_s, uint64_t to_s,
                     uint64_t step_s, ns_httpd_resp_t *r, char *err, size_t errlen);
int api_store_top(ns_api_t *api, int by, int group, uint64_t from_ns, uint64_t to_ns, uint32_t n,
                  ns_httpd_resp_t *r, char *err, size_t errlen);
int api_store_protocols(ns_api_t *api, uint64_t from_s, uint64_t to_s, ns_httpd_resp_t *r,
                        char *err, size_t errlen);
/* Append the database's Prometheus lines (nothing without one). */
void api_store_metrics(ns_api_t *api, ns_httpd_resp_t *r);

#endif /* NETSCOPE_API_INT_H */

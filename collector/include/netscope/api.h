/* api.h - the collector's REST API (/api/v1/...) and /metrics over httpd.h.
 *
 * Routes (GET only; JSON unless said otherwise; errors are {"error": ..., "parameter": ...}):
 *   /api/v1/health                 status, version, uptime, agents, live flows, database
 *   /api/v1/agents                 the inventory: identity, interfaces, health, batches lost
 *   /api/v1/agents/{id}/filter_dryrun?bpf=EXPR  {packets, kept}: the capture filter over the
 *                                  agent's recent frames of its live flows (api_dryrun.c)
 *   /api/v1/flows                  live flows (the merge) then stored ones (the store), one
 *                                  query: from, to, host, port, proto, agent, conn_state,
 *                                  service, filter (BPF over flow keys), sort, limit, cursor,
 *                                  live=include|only|exclude, format=json|csv (or Accept:
 *                                  text/csv); records in `netscope flows` field names
 *   /api/v1/flows/{uid}            one flow by an agent's uid: live view, observations, history
 *   /api/v1/timeseries             metric=SERIES&from&to&step (the store's series)
 *   /api/v1/top                    by=bytes|packets|flows&group=host|pair|port|service&from&to&n
 *   /api/v1/protocols              traffic per IP protocol and per service
 *   /api/v1/alerts                 active alerts, then past ones (history): state=active|
 *                                  cleared|all, detector, host, from, to, limit (api_alerts.c)
 *   /api/v1/alerts/{id}            one alert; /api/v1/alerts/{id}/pcap: its evidence packets
 *                                  as a pcap file (404 when none were stored)
 *   /metrics                       Prometheus text format
 *   / and other paths              the dashboard's files (api_ui.c), when a UI dir is set
 * Unknown parameters, malformed values -> 400 naming the parameter; unknown paths -> 404;
 * other methods -> 405 with Allow; unclean paths (%-escapes, "//", dot segments) -> 400.
 *
 * Threads: handlers run on the HTTP server's threads. They read the collector's live state
 * under its lock (collector.h), copying a bounded chunk at a time and never holding the lock
 * across formatting or I/O, and the store through read transactions.
 *
 * The store is optional: NULL means no database. Flows then come from the live view only
 * (live=exclude answers 503 "no database configured"), top and protocols are computed over
 * the live view, and timeseries answers 503.
 */
#ifndef NETSCOPE_API_H
#define NETSCOPE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/collector.h"
#include "netscope/httpd.h"
#include "netscope/inventory.h"
#include "netscope/merge.h"

typedef struct ns_api ns_api_t;
typedef struct ns_store ns_store_t; /* store.h; NULL: no database */

/* An API over collector `c` (may be NULL in tests: see ns_api_set_live()) and store `store`
 * (may be NULL), without a server. Returns NULL when out of memory. */
ns_api_t *ns_api_new(ns_collector_t *c, ns_store_t *store);

/* Serve the API of `c` and `store` on `o->listen` (see httpd.h for the checks) and mark it
 * ready. Returns the running API, or NULL with a sentence in errbuf. */
ns_api_t *ns_api_start(const ns_httpd_opts_t *o, ns_collector_t *c, ns_store_t *store,
                       char *errbuf, size_t errlen);

/* Stop the server (if any), free, NULL the pointer. NULL-safe. Call before destroying the
 * collector or closing the store. */
void ns_api_stop(ns_api_t **self_p);

/* The httpd handler: answer `req` into `resp`. Thread-safe. */
void ns_api_handle(void *api, const ns_httpd_req_t *req, ns_httpd_resp_t *resp);

/* Tests: read live state from `merge` and `inv` (no lock) instead of a collector, and use
 * `now_ns` as the clock (0: the real clock). */
void ns_api_set_live(ns_api_t *self, const ns_merge_t *merge, const ns_inventory_t *inv);
void ns_api_set_now(ns_api_t *self, uint64_t now_ns);

/* Report the live stream `ws` (ws.h; NULL: off) in /api/v1/health and /metrics. Call before
 * ns_api_set_ui() (the dashboard's CSP names the stream) and keep `ws` alive until
 * ns_api_stop(). */
struct ns_ws;
void ns_api_set_stream(ns_api_t *self, const struct ns_ws *ws);

/* Serve the dashboard's files from `dir` at / (GET / is index.html): true when `dir` is a
 * directory, false (no UI, silently) otherwise. Call before requests arrive. */
bool ns_api_set_ui(ns_api_t *self, const char *dir);

/* The port the server listens on (0 without a server). */
uint16_t ns_api_port(const ns_api_t *self);

#endif /* NETSCOPE_API_H */

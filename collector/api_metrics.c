/* api_metrics.c - the collector's /metrics in the Prometheus text format (version 0.0.4).
 *
 * Counters copied under the collector's lock, written after. Every family has HELP and TYPE
 * lines; counters end in _total. The ingest rate is records per second between this scrape
 * and the previous one (at least a second apart; 0 on the first).
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"

static void
family(ns_httpd_resp_t *r, const char *name, const char *type, const char *help)
{
    ns_httpd_resp_printf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(ns_httpd_resp_t *r, const char *name, const char *type, const char *help, uint64_t v)
{
    family(r, name, type, help);
    ns_httpd_resp_printf(r, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value with \, " and newline escaped. */
static void
label_value(ns_httpd_resp_t *r, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            ns_httpd_resp_printf(r, "\\%c", *s);
        else if (*s == '\n')
            ns_httpd_resp_printf(r, "\\n");
        else
            ns_httpd_resp_append(r, s, 1);
    }
}

static void
status_line(void *ud, int status, uint64_t count)
{
    ns_httpd_resp_printf(ud, "netscope_http_requests_total{code=\"%d\"} %llu\n", status,
                         (unsigned long long)count);
}

typedef struct {
    char id[NS_INV_ID_MAX];
    uint64_t lost;
} agent_lost_t;

#define AGENTS_LISTED 1024u /* per-agent series at most */

void
api_metrics(ns_api_t *api, ns_httpd_resp_t *r)
{
    ns_collector_stats_t cs;
    memset(&cs, 0, sizeof(cs));
    ns_merge_stats_t ms;
    memset(&ms, 0, sizeof(ms));
    uint64_t refused = 0, handshakes = 0, rejects = 0, lost = 0;
    uint32_t known = 0, connected = 0;
    static __thread agent_lost_t per[AGENTS_LISTED];
    size_t n_per = 0;
    api_lock(api);
    if (api->collector) {
        cs = *ns_collector_stats(api->collector);
        ns_collector_link_stats(api->collector, &refused, &handshakes);
        rejects = ns_collector_codec_rejects(api->collector);
    }
    const ns_merge_t *m = api_merge(api);
    if (m)
        ns_merge_stats(m, &ms);
    const ns_inventory_t *inv = api_inventory(api);
    if (inv) {
        for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); i != NS_INV_NONE;
             i = ns_inventory_next(inv, i)) {
            const ns_inventory_agent_t *a = ns_inventory_get(inv, i);
            known++;
            connected += a->connected;
            lost += a->seq.lost;
            if (n_per < AGENTS_LISTED) {
                snprintf(per[n_per].id, sizeof(per[n_per].id), "%s", a->id);
                per[n_per++].lost = a->seq.lost;
            }
        }
    }
    api_unlock(api);

    uint64_t now = api_now_ns(api);
    pthread_mutex_lock(&api->rate_lock);
    if (api->rate_t_ns == 0 || now >= api->rate_t_ns + 1000000000ull) {
        if (api->rate_t_ns && cs.records >= api->rate_records)
            api->rate = (double)(cs.records - api->rate_records) * 1e9 /
                        (double)(now - api->rate_t_ns);
        api->rate_t_ns = now;
        api->rate_records = cs.records;
    }
    double rate = api->rate;
    pthread_mutex_unlock(&api->rate_lock);

    snprintf(r->content_type, sizeof(r->content_type), "text/plain; version=0.0.4");
    one(r, "netscope_collector_agents", "gauge", "Agents known to the collector.", known);
    one(r, "netscope_collector_agents_connected", "gauge", "Agents connected now.", connected);
    one(r, "netscope_collector_messages_total", "counter", "Messages received from agents.",
        cs.messages);
    one(r, "netscope_collector_received_bytes_total", "counter", "Bytes received from agents.",
        cs.bytes);
    one(r, "netscope_collector_messages_rejected_total", "counter",
        "Messages the codec refused.", rejects);
    one(r, "netscope_collector_batches_total", "counter", "Flow batches received.", cs.batches);
    one(r, "netscope_collector_batches_duplicate_total", "counter",
        "Flow batches received twice (resent).", cs.batches_dup);
    one(r, "netscope_collector_batches_lost_total", "counter",
        "Flow batches declared lost, all agents.", lost);
    family(r, "netscope_collector_agent_batches_lost_total", "counter",
           "Flow batches declared lost, per agent.");
    for (size_t i = 0; i < n_per; i++) {
        ns_httpd_resp_printf(r, "netscope_collector_agent_batches_lost_total{agent=\"");
        label_value(r, per[i].id);
        ns_httpd_resp_printf(r, "\"} %llu\n", (unsigned long long)per[i].lost);
    }
    one(r, "netscope_collector_records_total", "counter",
        "Flow records (updates, interims, finals) received.", cs.records);
    one(r, "netscope_collector_finals_written_total", "counter",
        "Final flow records written to the flows file.", cs.finals_written);
    one(r, "netscope_collector_merge_updates_total", "counter",
        "Records applied to the live view.", ms.applied);
    one(r, "netscope_collector_flows_active", "gauge", "Merged flows in the live view.",
        ms.flows);
    family(r, "netscope_collector_ingest_records_per_second", "gauge",
           "Records received per second since the previous scrape.");
    ns_httpd_resp_printf(r, "netscope_collector_ingest_records_per_second %.3f\n", rate);
    one(r, "netscope_collector_keys_refused_total", "counter",
        "Agent handshakes refused: key not allowed.", refused);
    one(r, "netscope_collector_handshake_failures_total", "counter",
        "Agent handshakes that failed.", handshakes);
    api_store_metrics(api, r);
    api_alert_metrics(api, r);
    api_analysis_metrics(api, r);
    if (api->ws) {
        ns_ws_stats_t ws;
        ns_ws_stats(api->ws, &ws);
        one(r, "netscope_stream_clients", "gauge", "Live stream (WebSocket) clients connected.",
            ws.clients);
        one(r, "netscope_stream_frames_sent_total", "counter",
            "Live stream frames written (hello, state, error, packets).", ws.frames_sent);
        one(r, "netscope_stream_frames_skipped_total", "counter",
            "Live stream state frames skipped: the client had not read the previous one.",
            ws.frames_skipped);
        one(r, "netscope_stream_sent_bytes_total", "counter",
            "Live stream payload bytes written.", ws.bytes_sent);
        one(r, "netscope_stream_refused_total", "counter",
            "Live stream handshakes refused (origin, token, path, too many clients).",
            ws.refused);
    }
    family(r, "netscope_http_requests_total", "counter", "HTTP responses sent, by status.");
    if (api->httpd)
        ns_httpd_status_counts(api->httpd, status_line, r);
}

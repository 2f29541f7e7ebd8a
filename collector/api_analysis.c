/* api_analysis.c - GET /api/v1/analysis/{rtt,retrans,loss}: the analyses (analysis.h) as JSON.
 *
 *   /analysis/rtt?by=pair|service&limit=N      handshake and running RTT percentiles (ms),
 *                                              slowest (handshake p95) first
 *   /analysis/retrans?by=host|pair|service&sort=count|rate&limit=N
 *                                              retransmissions in the last whole window and
 *                                              since start, bursts; a host's are what it sent,
 *                                              a pair's are per direction
 *   /analysis/throughput?by=host|pair|service&limit=N
 *                                              bits and packets per second over the last whole
 *                                              second (a host's: what it sent), busiest first
 *   /analysis/loss?limit=N                     packets lost between two agents (sender ->
 *                                              receiver), most first
 * limit: 1..256, default 20. The rows are copied under the collector's lock, written after.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "netscope/analysis.h"

#define LIMIT_MAX 256u

static void
addr_member(ns_httpd_resp_t *r, const char *name, uint8_t ip_ver, const ns_addr_t *a)
{
    char buf[64];
    if (inet_ntop(ip_ver == 6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf)) == NULL)
        snprintf(buf, sizeof(buf), "?");
    ns_httpd_resp_printf(r, "\"%s\":\"%s\",", name, buf);
}

static void
quantiles(ns_httpd_resp_t *r, const char *name, const ns_qsketch_t *q)
{
    ns_httpd_resp_printf(r, "\"%s\":{\"samples\":%llu", name, (unsigned long long)q->n);
    if (q->n) {
        /* microseconds in, milliseconds out */
        ns_httpd_resp_printf(r, ",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f",
                             ns_qsk_quantile(q, 0.5) / 1e3, ns_qsk_quantile(q, 0.9) / 1e3,
                             ns_qsk_quantile(q, 0.95) / 1e3, ns_qsk_quantile(q, 0.99) / 1e3);
    }
    ns_httpd_resp_printf(r, "}");
}

static void
subject(ns_httpd_resp_t *r, const ns_analysis_row_t *w)
{
    if (w->by == NS_AN_PAIR) {
        addr_member(r, "orig_h", w->ip_ver, &w->a);
        addr_member(r, "resp_h", w->ip_ver, &w->b);
    } else if (w->by == NS_AN_HOST) {
        addr_member(r, "host", w->ip_ver, &w->a);
    } else if (w->by == NS_AN_SERVICE) {
        ns_httpd_resp_printf(r, "\"service\":");
        ns_httpd_resp_json_str(r, w->service);
        ns_httpd_resp_printf(r, ",");
    }
    ns_httpd_resp_printf(r, "\"flows\":%llu,", (unsigned long long)w->flows);
    api_json_time(r, "last_update", w->last_ns, false);
}

static bool
parse_by(const char *v, ns_analysis_by_t *by, bool host_ok)
{
    if (v == NULL || strcmp(v, "pair") == 0)
        *by = NS_AN_PAIR;
    else if (strcmp(v, "service") == 0)
        *by = NS_AN_SERVICE;
    else if (host_ok && strcmp(v, "host") == 0)
        *by = NS_AN_HOST;
    else
        return false;
    return true;
}

static bool
parse_limit(const ns_qs_t *qs, uint32_t *limit)
{
    const char *v = ns_qs_get(qs, "limit");
    *limit = 20;
    if (v == NULL)
        return true;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || n < 1 || n > LIMIT_MAX)
        return false;
    *limit = (uint32_t)n;
    return true;
}

static void
write_rows(ns_api_t *api, ns_httpd_resp_t *r, const char *what, ns_analysis_by_t by,
           ns_analysis_sort_t sort, uint32_t limit)
{
    uint64_t now = api_now_ns(api);
    ns_analysis_row_t *rows = malloc(limit * sizeof(*rows));
    char (*agent)[2][NS_INV_ID_MAX] = calloc(limit, sizeof(*agent));
    if (rows == NULL || agent == NULL) {
        free(rows);
        free(agent);
        r->oom = true;
        return;
    }
    size_t n = 0;
    ns_analysis_stats_t st = {0};
    api_lock(api);
    const ns_analysis_t *an = api->collector ? ns_collector_analysis(api->collector) : NULL;
    if (an) {
        n = ns_analysis_top(an, by, sort, now, rows, limit);
        ns_analysis_stats(an, &st);
        const ns_inventory_t *inv = api_inventory(api);
        for (size_t i = 0; by == NS_AN_PATH && i < n; i++) {
            const ns_inventory_agent_t *a = inv ? ns_inventory_get(inv, rows[i].agent_a) : NULL;
            const ns_inventory_agent_t *b = inv ? ns_inventory_get(inv, rows[i].agent_b) : NULL;
            snprintf(agent[i][0], NS_INV_ID_MAX, "%s", a ? a->id : "?");
            snprintf(agent[i][1], NS_INV_ID_MAX, "%s", b ? b->id : "?");
        }
    }
    api_unlock(api);

    ns_httpd_resp_printf(r, "{\"analysis\":\"%s\",\"untracked\":%llu,\"rows\":[", what,
                         (unsigned long long)st.untracked[by]);
    for (size_t i = 0; i < n; i++) {
        const ns_analysis_row_t *w = &rows[i];
        ns_httpd_resp_printf(r, "%s{", i ? "," : "");
        if (by == NS_AN_PATH) {
            ns_httpd_resp_printf(r, "\"sender\":");
            ns_httpd_resp_json_str(r, agent[i][0]);
            ns_httpd_resp_printf(r, ",\"receiver\":");
            ns_httpd_resp_json_str(r, agent[i][1]);
            ns_httpd_resp_printf(r, ",\"flows\":%llu,\"packets\":%llu,\"lost\":%llu,"
                                    "\"loss_rate\":%.6f,",
                                 (unsigned long long)w->flows, (unsigned long long)w->pkts[0],
                                 (unsigned long long)w->lost,
                                 w->pkts[0] ? (double)w->lost / (double)w->pkts[0] : 0.0);
            api_json_time(r, "last_update", w->last_ns, false);
        } else if (strcmp(what, "throughput") == 0) {
            subject(r, w);
            ns_httpd_resp_printf(r, ",\"bps\":%.0f,\"pps\":%.0f,\"bytes\":%llu,\"packets\":%llu",
                                 w->bps, w->pps, (unsigned long long)(w->bytes[0] + w->bytes[1]),
                                 (unsigned long long)(w->pkts[0] + w->pkts[1]));
        } else if (strcmp(what, "rtt") == 0) {
            subject(r, w);
            ns_httpd_resp_printf(r, ",");
            quantiles(r, "handshake", &w->rtt_hs);
            ns_httpd_resp_printf(r, ",");
            quantiles(r, "running", &w->rtt_run);
        } else {
            subject(r, w);
            uint64_t pk = w->pkts[0] + w->pkts[1], rt = w->retrans[0] + w->retrans[1];
            ns_httpd_resp_printf(r,
                                 ",\"packets\":%llu,\"retrans\":%llu,\"window_packets\":%llu,"
                                 "\"window_retrans\":%llu,\"window_rate\":%.6f,"
                                 "\"burst_seconds\":%llu,\"window_burst_max\":%u",
                                 (unsigned long long)pk, (unsigned long long)rt,
                                 (unsigned long long)w->win_pkts,
                                 (unsigned long long)w->win_retrans,
                                 w->win_pkts ? (double)w->win_retrans / (double)w->win_pkts : 0.0,
                                 (unsigned long long)w->burst_seconds, w->burst_max);
            if (by == NS_AN_PAIR)
                ns_httpd_resp_printf(r, ",\"retrans_orig\":%llu,\"retrans_resp\":%llu",
                                     (unsigned long long)w->retrans[0],
                                     (unsigned long long)w->retrans[1]);
        }
        ns_httpd_resp_printf(r, "}");
    }
    ns_httpd_resp_printf(r, "]}\n");
    free(rows);
    free(agent);
}

void
api_analysis(ns_api_t *api, const char *which, const ns_qs_t *qs, ns_httpd_resp_t *r)
{
    uint32_t limit;
    if (!parse_limit(qs, &limit)) {
        ns_httpd_resp_error(r, 400, "limit must be 1..256", "limit");
        return;
    }
    ns_analysis_by_t by;
    if (strcmp(which, "rtt") == 0) {
        if (!parse_by(ns_qs_get(qs, "by"), &by, false)) {
            ns_httpd_resp_error(r, 400, "by must be pair or service", "by");
            return;
        }
        write_rows(api, r, "rtt", by, NS_AN_SORT_RTT_P95, limit);
    } else if (strcmp(which, "retrans") == 0) {
        const char *s = ns_qs_get(qs, "sort");
        if (!parse_by(ns_qs_get(qs, "by"), &by, true)) {
            ns_httpd_resp_error(r, 400, "by must be host, pair or service", "by");
            return;
        }
        if (s && strcmp(s, "count") != 0 && strcmp(s, "rate") != 0) {
            ns_httpd_resp_error(r, 400, "sort must be count or rate", "sort");
            return;
        }
        write_rows(api, r, "retrans", by,
                   s && strcmp(s, "rate") == 0 ? NS_AN_SORT_RATE : NS_AN_SORT_RETRANS, limit);
    } else if (strcmp(which, "throughput") == 0) {
        if (!parse_by(ns_qs_get(qs, "by"), &by, true)) {
            ns_httpd_resp_error(r, 400, "by must be host, pair or service", "by");
            return;
        }
        write_rows(api, r, "throughput", by, NS_AN_SORT_BPS, limit);
    } else if (strcmp(which, "loss") == 0) {
        write_rows(api, r, "loss", NS_AN_PATH, NS_AN_SORT_LOST, limit);
    } else {
        ns_httpd_resp_error(r, 404, "no such resource", NULL);
    }
}

/* /metrics lines of the analyses (appended by api_metrics under no lock: it takes it). */
void
api_analysis_metrics(ns_api_t *api, ns_httpd_resp_t *r)
{
    ns_analysis_stats_t st = {0};
    bool have = false;
    api_lock(api);
    const ns_analysis_t *an = api->collector ? ns_collector_analysis(api->collector) : NULL;
    if (an) {
        ns_analysis_stats(an, &st);
        have = true;
    }
    api_unlock(api);
    if (!have)
        return;
    static const char *const names[NS_AN_KINDS] = {"pair", "host", "service", "path"};
    ns_httpd_resp_printf(r, "# HELP netscope_analysis_subjects Subjects the analyses follow now.\n"
                            "# TYPE netscope_analysis_subjects gauge\n");
    for (int k = 0; k < NS_AN_KINDS; k++)
        ns_httpd_resp_printf(r, "netscope_analysis_subjects{table=\"%s\"} %u\n", names[k],
                             st.held[k]);
    ns_httpd_resp_printf(r, "# HELP netscope_analysis_untracked_total Updates whose subject found "
                            "its table full.\n# TYPE netscope_analysis_untracked_total counter\n");
    for (int k = 0; k < NS_AN_KINDS; k++)
        ns_httpd_resp_printf(r, "netscope_analysis_untracked_total{table=\"%s\"} %llu\n",
                             names[k], (unsigned long long)st.untracked[k]);
    ns_httpd_resp_printf(r, "# HELP netscope_analysis_rtt_samples_total RTT samples taken into "
                            "the distributions.\n# TYPE netscope_analysis_rtt_samples_total "
                            "counter\nnetscope_analysis_rtt_samples_total %llu\n",
                         (unsigned long long)st.rtt_samples);
}

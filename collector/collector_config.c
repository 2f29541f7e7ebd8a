/* collector_config.c - the collector's option table and its checks (see collector_config.h). */
#include "netscope/collector_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/httpd.h"
#include "netscope/log.h"

#define OPT(k, t, f, lo, hi, h)                                                                    \
    {                                                                                              \
        k, t, offsetof(ns_collector_config_t, f), lo, hi, h                                        \
    }
#define DAY_S 86400u
/* One detector's keys: [detect.NAME] enabled, threshold, window, exclude. */
#define DETECT_OPTS(name, k, unit)                                                                 \
    OPT("detect." name ".enabled", NS_OPT_BOOL, detect.rule[k].enabled, 0, 0,                      \
        "run the " name " detector"),                                                              \
        OPT("detect." name ".threshold", NS_OPT_UINT, detect.rule[k].threshold, 1,                 \
            UINT32_MAX, name ": alert at this many " unit " within the window"),                  \
        OPT("detect." name ".window", NS_OPT_SECONDS, detect.rule[k].window_ns, 1, DAY_S,          \
            name ": sliding window, s"),                                                           \
        OPT("detect." name ".exclude", NS_OPT_STRLIST, detect.rule[k].exclude, 0, 0,               \
            name ": not counted: [\"ADDR\", \"ADDR/LEN\", \"port N\"]")

const ns_opt_t ns_collector_opts[] = {
    OPT("collector.listen", NS_OPT_STRING, listen, 0, 0, "endpoint to listen on tcp://ADDR:PORT"),
    OPT("collector.key", NS_OPT_STRING, key, 0, 0, "the collector's secret key (NAME.key_secret)"),
    OPT("collector.allowed_keys", NS_OPT_STRING, allowed_keys, 0, 0,
        "directory of the agents' public keys (*.key) allowed in"),
    OPT("collector.insecure", NS_OPT_BOOL, insecure, 0, 0,
        "plain text, every agent accepted (labs only)"),
    OPT("collector.log_level", NS_OPT_STRING, log_level, 0, 0, "error, warn, info or debug"),
    OPT("collector.max_msg_kb", NS_OPT_UINT, max_msg_kb, 4, 65536,
        "largest message accepted from an agent, KB"),
    OPT("output.flows", NS_OPT_STRING, flows, 0, 0, "write final flow records here as JSON Lines"),
    OPT("output.state", NS_OPT_STRING, state, 0, 0,
        "write the live view and agents here on SIGUSR1 and at exit (- = stdout)"),
    OPT("output.updates", NS_OPT_BOOL, updates, 0, 0,
        "also write each live update applied to the flows file (\"record\":\"update\", "
        "\"received\": collector time)"),
    OPT("merge.max_flows", NS_OPT_UINT, max_flows, 16, 1u << 26, "merged flows held at most"),
    OPT("merge.linger", NS_OPT_SECONDS, linger_ns, 0, DAY_S,
        "keep a finished flow in the live view, s"),
    OPT("merge.idle_timeout", NS_OPT_SECONDS, idle_ns, 0, 7 * DAY_S,
        "drop a flow no agent updated for, s (0 never)"),
    OPT("merge.tolerance", NS_OPT_SECONDS, tolerance_ns, 0, 3600,
        "clock slack when matching two agents' observations, s"),
    OPT("storage.db", NS_OPT_STRING, db, 0, 0,
        "LMDB directory for history (flows, time series, agents); empty: none"),
    OPT("storage.max_size", NS_OPT_UINT, max_size_mb, 1, 1u << 24,
        "MiB the database may use; then the oldest flows are removed"),
    OPT("storage.commit_interval", NS_OPT_SECONDS, commit_ns, 0, 60,
        "the writer commits a batch this often, s"),
    OPT("storage.sync", NS_OPT_STRING, sync, 0, 0,
        "meta (default), full or none: what a power loss may cost (README)"),
    OPT("storage.flow_retention", NS_OPT_SECONDS, flow_keep_ns, 0, 3650 * DAY_S,
        "delete flows older than this, s (0: by size only)"),
    OPT("storage.series_1s_retention", NS_OPT_SECONDS, keep_1s_ns, 60, 3650 * DAY_S,
        "keep 1-second points this long, s"),
    OPT("storage.series_1m_retention", NS_OPT_SECONDS, keep_1m_ns, 3600, 3650 * DAY_S,
        "keep 1-minute points this long, s"),
    OPT("storage.series_1h_retention", NS_OPT_SECONDS, keep_1h_ns, DAY_S, 3650 * DAY_S,
        "keep 1-hour points this long, s"),
    OPT("agents.max", NS_OPT_UINT, max_agents, 1, 65536, "agents known at most"),
    OPT("agents.silence", NS_OPT_SECONDS, silence_ns, 1, DAY_S,
        "an agent silent this long is marked disconnected, s"),
    OPT("http.listen", NS_OPT_STRING, http_listen, 0, 0,
        "serve the API and /metrics on ADDR:PORT or [ADDR]:PORT (\"\" = off)"),
    OPT("http.token", NS_OPT_STRING, http_token, 0, 0,
        "API bearer token (needed to serve a non-loopback address)"),
    OPT("http.no_auth", NS_OPT_BOOL, http_no_auth, 0, 0,
        "serve a non-loopback address without a token"),
    OPT("http.max_connections", NS_OPT_UINT, http_max_connections, 1, 100000,
        "HTTP connections at most"),
    OPT("http.per_client", NS_OPT_UINT, http_per_client, 1, 100000,
        "HTTP connections from one address at most"),
    OPT("http.idle_timeout", NS_OPT_SECONDS, http_idle_ns, 1, 3600,
        "close an idle HTTP connection after, s"),
    OPT("http.max_request", NS_OPT_UINT, http_max_request, 1024, 16u << 20,
        "largest HTTP request (line, headers, body), bytes"),
    OPT("http.threads", NS_OPT_UINT, http_threads, 1, 64, "HTTP server threads"),
    OPT("api.ws_listen", NS_OPT_STRING, ws_listen, 0, 0,
        "serve the live stream (WebSocket) on ADDR:PORT (\"off\" = none); off loopback it "
        "needs http.token"),
    OPT("api.ws_rate_hz", NS_OPT_UINT, ws_rate_hz, 1, NS_WS_RATE_MAX,
        "live stream: state frames per second per client at most"),
    OPT("api.ws_origins", NS_OPT_STRLIST, ws_origins, 0, 0,
        "live stream: allowed Origins besides the API's own [\"https://HOST\", ...]"),
    OPT("api.ui_dir", NS_OPT_STRING, ui_dir, 0, 0,
        "serve the dashboard's files from this directory at / (\"\" = none)"),
    OPT("clickhouse.url", NS_OPT_STRING, ch_url, 0, 0,
        "send flows and roll-ups to ClickHouse at http://HOST:PORT (\"\" = off)"),
    OPT("clickhouse.database", NS_OPT_STRING, ch_database, 0, 0,
        "ClickHouse database, created when missing"),
    OPT("clickhouse.user", NS_OPT_STRING, ch_user, 0, 0, "ClickHouse user (\"\" = default)"),
    OPT("clickhouse.password", NS_OPT_STRING, ch_password, 0, 0, "ClickHouse password"),
    OPT("clickhouse.batch_rows", NS_OPT_UINT, ch_batch_rows, 1, 1000000,
        "rows per INSERT at most (sent as soon as that many wait)"),
    OPT("clickhouse.batch_ms", NS_OPT_UINT, ch_batch_ms, 10, 600000,
        "send what waits at least this often, ms"),
    OPT("clickhouse.queue_mb", NS_OPT_UINT, ch_queue_mb, 1, 65536,
        "rows waiting for ClickHouse at most, MB (then new rows are dropped)"),
    OPT("clickhouse.timeout_ms", NS_OPT_UINT, ch_timeout_ms, 100, 600000,
        "ClickHouse connect, send and receive timeout, ms"),
    OPT("detect.enabled", NS_OPT_BOOL, detect.enabled, 0, 0, "run the anomaly detectors"),
    OPT("detect.clear_after", NS_OPT_SECONDS, detect.clear_ns, 0, DAY_S,
        "an alert clears after its value stayed below the threshold this long, s"),
    OPT("detect.max_subjects", NS_OPT_UINT, detect.max_subjects, 16, 1u << 20,
        "subjects over a threshold followed per detector (fixed memory)"),
    OPT("detect.sketch_width", NS_OPT_UINT, detect.sketch_width, 16, 1u << 24,
        "count-min counters per row (a power of two; error e/width of the window's events)"),
    DETECT_OPTS("syn_flood", NS_DETECT_SYN_FLOOD, "half-open SYNs to one address and port"),
    DETECT_OPTS("port_scan", NS_DETECT_PORT_SCAN, "distinct ports one source opens on one host"),
    DETECT_OPTS("sweep", NS_DETECT_SWEEP, "distinct hosts one source probes on one port"),
    DETECT_OPTS("icmp_flood", NS_DETECT_ICMP_FLOOD, "ICMP packets to one address"),
    DETECT_OPTS("udp_flood", NS_DETECT_UDP_FLOOD, "UDP packets to one address"),
    DETECT_OPTS("dns_errors", NS_DETECT_DNS_ERRORS, "NXDOMAIN/SERVFAIL answers to one client"),
    DETECT_OPTS("spike", NS_DETECT_SPIKE, "bytes/s (the floor; see factor)"),
    OPT("detect.spike.factor", NS_OPT_DOUBLE, detect.rule[NS_DETECT_SPIKE].factor, 1, 1000,
        "spike: alert above this many times the learned baseline"),
    OPT("alerts.webhook", NS_OPT_STRING, alerts_webhook, 0, 0,
        "POST each alert state change as JSON to http://HOST[:PORT]/PATH (\"\" = none)"),
    OPT("alerts.syslog", NS_OPT_BOOL, alerts_syslog, 0, 0,
        "log each alert state change to syslog (LOG_DAEMON)"),
    OPT("alerts.webhook_queue", NS_OPT_UINT, alerts_queue, 1, 100000,
        "notifications waiting for the webhook at most (then the oldest are dropped)"),
    OPT("alerts.webhook_retries", NS_OPT_UINT, alerts_retries, 0, 100,
        "tries after the first failed POST (backoff 0.5 s doubling)"),
    OPT("alerts.webhook_timeout_ms", NS_OPT_UINT, alerts_timeout_ms, 100, 600000,
        "webhook connect, send and receive timeout, ms"),
};

const size_t ns_collector_nopts = sizeof(ns_collector_opts) / sizeof(ns_collector_opts[0]);

bool
ns_collector_config_defaults(ns_collector_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->max_msg_kb = 4096;
    c->max_flows = 1u << 20;
    c->linger_ns = 60ull * 1000000000ull;
    c->idle_ns = 600ull * 1000000000ull;
    c->tolerance_ns = 2ull * 1000000000ull;
    c->max_agents = 1024;
    c->silence_ns = 30ull * 1000000000ull;
    c->max_size_mb = 1024;
    c->commit_ns = 250ull * 1000000ull;
    c->flow_keep_ns = 7ull * DAY_S * 1000000000ull;
    c->keep_1s_ns = 3600ull * 1000000000ull;
    c->keep_1m_ns = 7ull * DAY_S * 1000000000ull;
    c->keep_1h_ns = 365ull * DAY_S * 1000000000ull;
    c->http_max_connections = NS_HTTPD_MAX_CONNECTIONS_DEFAULT;
    c->http_per_client = NS_HTTPD_PER_CLIENT_DEFAULT;
    c->http_idle_ns = NS_HTTPD_IDLE_TIMEOUT_DEFAULT_S * 1000000000ull;
    c->http_max_request = NS_HTTPD_MAX_REQUEST_DEFAULT;
    c->http_threads = NS_HTTPD_THREADS_DEFAULT;
    c->ws_rate_hz = NS_WS_RATE_DEFAULT;
    c->ch_batch_rows = 10000;
    c->ch_batch_ms = 1000;
    c->ch_queue_mb = 64;
    c->ch_timeout_ms = 10000;
    ns_detect_config_default(&c->detect);
    c->alerts_syslog = true;
    c->alerts_queue = 1000;
    c->alerts_retries = 3;
    c->alerts_timeout_ms = 5000;
    return ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "http.listen",
                                "127.0.0.1:8080") &&
            ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "collector.listen",
                                "tcp://*:5556") &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "collector.log_level",
                                "info") &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "output.state", "-") &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "api.ws_listen",
                                NS_WS_LISTEN_DEFAULT) &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "api.ui_dir",
                                NS_UI_DIR) &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "clickhouse.database",
                                "netscope");
}

void
ns_collector_config_free(ns_collector_config_t *c)
{
    ns_config_free(ns_collector_opts, ns_collector_nopts, c);
}

bool
ns_collector_config_check(const ns_collector_config_t *c, char *errbuf, size_t errlen)
{
    /* first: a file's mistake, where the checks below are often completed on the command line */
    if (!ns_detect_config_check(&c->detect, errbuf, errlen))
        return false;
    if (c->listen == NULL || c->listen[0] == '\0') {
        snprintf(errbuf, errlen, "no endpoint to listen on (--listen tcp://ADDR:PORT)");
        return false;
    }
    if (!c->insecure && (c->key == NULL || c->allowed_keys == NULL)) {
        snprintf(errbuf, errlen,
                 "CURVE needs the collector's secret key (--key NAME.key_secret) and the "
                 "directory of allowed agent keys (--allowed-keys DIR); --insecure accepts "
                 "plain text from anyone instead");
        return false;
    }
    if (!ns_log_level_check(c->log_level, errbuf, errlen))
        return false;
    if (c->sync != NULL && c->sync[0] != '\0' && strcmp(c->sync, "meta") != 0 &&
        strcmp(c->sync, "full") != 0 && strcmp(c->sync, "none") != 0) {
        snprintf(errbuf, errlen, "storage.sync is \"%s\": use meta, full or none", c->sync);
        return false;
    }
    if (c->commit_ns < 1000000ull) {
        snprintf(errbuf, errlen, "storage.commit_interval must be at least 0.001 s");
        return false;
    }
    ns_httpd_opts_t ho;
    if (ns_collector_config_http(c, &ho) && !ns_httpd_opts_check(&ho, errbuf, errlen))
        return false;
    ns_ws_opts_t wo;
    if (ns_collector_config_ws(c, &wo) && !ns_ws_opts_check(&wo, errbuf, errlen))
        return false;
    if (c->ch_url && c->ch_url[0] && strncmp(c->ch_url, "http://", 7) != 0) {
        snprintf(errbuf, errlen, "clickhouse.url '%s' is not http://HOST[:PORT]", c->ch_url);
        return false;
    }
    return true;
}

bool
ns_collector_config_detect_reload(const ns_collector_config_t *c, ns_detect_config_t *out,
                                  char *errbuf, size_t errlen)
{
    ns_collector_config_t fresh;
    if (!ns_collector_config_defaults(&fresh)) {
        snprintf(errbuf, errlen, "out of memory");
        return false;
    }
    bool ok = c->config_file == NULL ||
              ns_config_load(ns_collector_opts, ns_collector_nopts, &fresh, c->config_file,
                             errbuf, errlen);
    *out = fresh.detect;
    /* the exclude lists move to `out`; the rest of `fresh` is freed */
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        memset(&fresh.detect.rule[k].exclude, 0, sizeof(fresh.detect.rule[k].exclude));
    ns_collector_config_free(&fresh);
    if (!ok)
        ns_collector_config_detect_free(out);
    return ok;
}

void
ns_collector_config_detect_free(ns_detect_config_t *d)
{
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        ns_strlist_t *l = &d->rule[k].exclude;
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}

bool
ns_collector_config_http(const ns_collector_config_t *c, ns_httpd_opts_t *o)
{
    ns_httpd_opts_default(o);
    o->listen = c->http_listen;
    o->token = c->http_token;
    o->no_auth = c->http_no_auth;
    o->max_connections = (unsigned)c->http_max_connections;
    o->per_client = (unsigned)c->http_per_client;
    o->idle_timeout_s = (unsigned)(c->http_idle_ns / 1000000000ull);
    o->max_request = (size_t)c->http_max_request;
    o->threads = (unsigned)c->http_threads;
    return c->http_listen != NULL && c->http_listen[0] != '\0';
}

bool
ns_collector_config_ws(const ns_collector_config_t *c, ns_ws_opts_t *o)
{
    *o = (ns_ws_opts_t){.listen = c->ws_listen,
                        .http_listen = c->http_listen,
                        .token = c->http_token,
                        .origins = (const char *const *)c->ws_origins.v,
                        .n_origins = c->ws_origins.n,
                        .rate_hz = (unsigned)c->ws_rate_hz};
    return c->ws_listen != NULL && c->ws_listen[0] != '\0' && strcmp(c->ws_listen, "off") != 0;
}

/* collector_config.c - the collector's option table and its checks (see collector_config.h). */
#include "netscope/collector_config.h"

#include <stdio.h>
#include <string.h>

#include "netscope/log.h"

#define OPT(k, t, f, lo, hi, h)                                                                    \
    {                                                                                              \
        k, t, offsetof(ns_collector_config_t, f), lo, hi, h                                        \
    }
#define DAY_S 86400u

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
    OPT("agents.max", NS_OPT_UINT, max_agents, 1, 65536, "agents known at most"),
    OPT("agents.silence", NS_OPT_SECONDS, silence_ns, 1, DAY_S,
        "an agent silent this long is marked disconnected, s"),
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
    c->ch_batch_rows = 10000;
    c->ch_batch_ms = 1000;
    c->ch_queue_mb = 64;
    c->ch_timeout_ms = 10000;
    return ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "collector.listen",
                                "tcp://*:5556") &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "collector.log_level",
                                "info") &&
           ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, "output.state", "-") &&
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
    if (c->ch_url && c->ch_url[0] && strncmp(c->ch_url, "http://", 7) != 0) {
        snprintf(errbuf, errlen, "clickhouse.url '%s' is not http://HOST[:PORT]", c->ch_url);
        return false;
    }
    return true;
}

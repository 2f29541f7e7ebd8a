/* agent_config.c - the agent's option table and its checks (see agent_config.h). */
#include "netscope/agent_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/decode.h"
#include "netscope/flow_engine.h"
#include "netscope/log.h"

#define OPT(k, t, f, lo, hi, h)                                                                    \
    {                                                                                              \
        k, t, offsetof(ns_agent_config_t, f), lo, hi, h                                            \
    }
#define DAY_S 86400u

const ns_opt_t ns_agent_opts[] = {
    OPT("agent.id", NS_OPT_STRING, id, 0, 0, "agent id (default: the host name)"),
    OPT("agent.user", NS_OPT_STRING, user, 0, 0,
        "user to run as once the capture is open (default netscope, else nobody)"),
    OPT("agent.log_level", NS_OPT_STRING, log_level, 0, 0, "error, warn, info or debug"),
    OPT("capture.interfaces", NS_OPT_STRLIST, interfaces, 0, 0, "interfaces to capture on"),
    OPT("capture.filter", NS_OPT_STRING, filter, 0, 0, "BPF capture filter"),
    OPT("capture.snaplen", NS_OPT_UINT, snaplen, 64, 262144, "bytes captured per packet"),
    OPT("capture.promisc", NS_OPT_BOOL, promisc, 0, 0, "promiscuous mode"),
    OPT("capture.buffer_mb", NS_OPT_UINT, buffer_mb, 1, 2047, "kernel ring per interface, MB"),
    OPT("capture.poll_ms", NS_OPT_UINT, poll_ms, 1, 1000, "longest wait for packets, ms"),
    OPT("capture.replay", NS_OPT_STRING, replay, 0, 0, "read this pcap/pcapng file instead"),
    OPT("capture.replay_speed", NS_OPT_STRING, replay_speed, 0, 0,
        "max, or a factor of the recorded speed (1 = as recorded)"),
    OPT("decode.vxlan_port", NS_OPT_UINT, vxlan_port, 1, 65535,
        "UDP port of VXLAN (one port; replaces 4789)"),
    OPT("decode.geneve_port", NS_OPT_UINT, geneve_port, 1, 65535,
        "UDP port of Geneve (one port; replaces 6081)"),
    OPT("flows.max_flows", NS_OPT_UINT, max_flows, 16, 1u << 30, "flow table capacity"),
    OPT("flows.idle_timeout", NS_OPT_SECONDS, idle_ns, 1, DAY_S, "end a flow idle this long, s"),
    OPT("flows.linger", NS_OPT_SECONDS, linger_ns, 0, 3600, "keep a closed TCP flow, s"),
    OPT("flows.active_timeout", NS_OPT_SECONDS, active_ns, 0, 365 * DAY_S,
        "snapshot of long flows every, s (0 never)"),
    OPT("flows.app", NS_OPT_BOOL, app, 0, 0, "HTTP and DNS transactions"),
    OPT("export.collector", NS_OPT_STRING, collector, 0, 0, "collector endpoint tcp://HOST:PORT"),
    OPT("export.collector_key", NS_OPT_STRING, collector_key, 0, 0,
        "the collector's public key file (NAME.key)"),
    OPT("export.key", NS_OPT_STRING, key, 0, 0, "this agent's secret key file (NAME.key_secret)"),
    OPT("export.insecure", NS_OPT_BOOL, insecure, 0, 0, "plain text, no encryption (labs only)"),
    OPT("export.interval_ms", NS_OPT_UINT, interval_ms, 10, 60000, "export interval, ms"),
    OPT("export.heartbeat_ms", NS_OPT_UINT, heartbeat_ms, 100, 60000, "heartbeat interval, ms"),
    OPT("export.queue_mb", NS_OPT_UINT, queue_mb, 1, 65536, "final records waiting, MB"),
    OPT("export.updates_mb", NS_OPT_UINT, updates_mb, 1, 65536, "updates waiting, MB"),
    OPT("export.batch_kb", NS_OPT_UINT, batch_kb, 4, 65536, "largest message, KB"),
    OPT("export.window", NS_OPT_UINT, window, 1, 100000, "batches in flight unacknowledged"),
    OPT("export.ack_timeout_ms", NS_OPT_UINT, ack_timeout_ms, 100, 600000,
        "resend batches not acknowledged within, ms"),
    OPT("export.drain_ms", NS_OPT_UINT, drain_ms, 0, 3600000,
        "at exit: wait this long for final records to be acknowledged, ms"),
    OPT("ring.size_mb", NS_OPT_UINT, ring_mb, 1, 65536, "ring of recent frames, MB"),
    OPT("metrics.listen", NS_OPT_STRING, metrics_listen, 0, 0,
        "serve /metrics on ADDR:PORT or [ADDR]:PORT (\"\" = off, the default)"),
    OPT("metrics.token", NS_OPT_STRING, metrics_token, 0, 0,
        "/metrics bearer token (needed for a non-loopback address)"),
    OPT("metrics.no_auth", NS_OPT_BOOL, metrics_no_auth, 0, 0,
        "serve /metrics on a non-loopback address without a token"),
};

const size_t ns_agent_nopts = sizeof(ns_agent_opts) / sizeof(ns_agent_opts[0]);

bool
ns_agent_config_defaults(ns_agent_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->promisc = true;
    c->snaplen = 262144;
    c->buffer_mb = 64;
    /* also the kernel ring's block timeout: a partly filled block reaches the agent this long
     * after its first frame at the latest, on top of the export interval (at 100 ms, the
     * 99th percentile from capture to the collector was 320-340 ms: bench/results.md (g)) */
    c->poll_ms = 10;
    c->vxlan_port = NS_VXLAN_PORT;
    c->geneve_port = NS_GENEVE_PORT;
    c->max_flows = 262144;
    c->idle_ns = NS_FLOW_IDLE_DEFAULT_NS;
    c->linger_ns = NS_FLOW_LINGER_DEFAULT_NS;
    c->active_ns = NS_FLOW_ACTIVE_DEFAULT_NS;
    c->app = true;
    c->insecure = false;
    c->interval_ms = 250;
    c->heartbeat_ms = 1000;
    c->queue_mb = 64;
    c->updates_mb = 64;
    c->batch_kb = 1024;
    c->window = 64;
    c->ack_timeout_ms = 5000;
    c->drain_ms = 10000;
    c->ring_mb = 64;
    return ns_config_set_string(ns_agent_opts, ns_agent_nopts, c, "agent.user", "netscope") &&
           ns_config_set_string(ns_agent_opts, ns_agent_nopts, c, "agent.log_level", "info") &&
           ns_config_set_string(ns_agent_opts, ns_agent_nopts, c, "export.collector",
                                "tcp://127.0.0.1:5556") &&
           ns_config_set_string(ns_agent_opts, ns_agent_nopts, c, "capture.replay_speed", "1");
}

void
ns_agent_config_free(ns_agent_config_t *c)
{
    ns_config_free(ns_agent_opts, ns_agent_nopts, c);
}

bool
ns_agent_replay_speed(const char *text, double *factor)
{
    if (text == NULL)
        return false;
    if (strcmp(text, "max") == 0) {
        *factor = 0;
        return true;
    }
    char *end;
    double f = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(f) || f <= 0 || f > 1e6)
        return false;
    *factor = f;
    return true;
}

bool
ns_agent_config_check(const ns_agent_config_t *c, char *errbuf, size_t errlen)
{
    bool replay = c->replay && c->replay[0];
    if (replay && c->interfaces.n > 0) {
        snprintf(errbuf, errlen, "give interfaces or a replay file, not both");
        return false;
    }
    if (!replay && c->interfaces.n == 0) {
        snprintf(errbuf, errlen,
                 "nothing to capture: give an interface (-i IFACE) or a file (--replay FILE)");
        return false;
    }
    if (c->interfaces.n > NS_AGENT_MAX_IFACES) {
        snprintf(errbuf, errlen, "at most %d interfaces per agent (%zu given)", NS_AGENT_MAX_IFACES,
                 c->interfaces.n);
        return false;
    }
    for (size_t i = 0; i < c->interfaces.n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->interfaces.v[i], c->interfaces.v[j]) == 0) {
                snprintf(errbuf, errlen, "interface %s is given twice", c->interfaces.v[i]);
                return false;
            }
    double f;
    if (!ns_agent_replay_speed(c->replay_speed, &f)) {
        snprintf(errbuf, errlen, "replay speed '%s' is neither max nor a positive factor",
                 c->replay_speed ? c->replay_speed : "");
        return false;
    }
    if (c->collector == NULL || c->collector[0] == '\0') {
        snprintf(errbuf, errlen, "no collector endpoint (--collector tcp://HOST:PORT)");
        return false;
    }
    if (!c->insecure && (c->key == NULL || c->collector_key == NULL)) {
        snprintf(errbuf, errlen,
                 "CURVE needs this agent's secret key (--key NAME.key_secret) and the "
                 "collector's public key (--collector-key NAME.key); --insecure sends plain "
                 "text instead");
        return false;
    }
    if (!ns_log_level_check(c->log_level, errbuf, errlen))
        return false;
    if (c->batch_kb * 1024 > (1u << 30)) {
        snprintf(errbuf, errlen, "export.batch_kb is too large");
        return false;
    }
    return true;
}

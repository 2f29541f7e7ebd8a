/* agent_metrics.c - the agent's /metrics in the Prometheus text format (see agent.h). */
#include <stdio.h>
#include <string.h>

#include "netscope/agent.h"

static void
one(ns_httpd_resp_t *r, const char *name, const char *type, const char *help, uint64_t v)
{
    ns_httpd_resp_printf(r, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
                         name, (unsigned long long)v);
}

void
ns_agent_metrics_handle(void *ud, const ns_httpd_req_t *req, ns_httpd_resp_t *resp)
{
    const ns_agent_t *agent = ud;
    if (strcmp(req->path, "/metrics") != 0) {
        ns_httpd_resp_error(resp, 404, "no such resource", NULL);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        ns_httpd_resp_error(resp, 405, "method not allowed", NULL);
        ns_httpd_resp_header(resp, "Allow", "GET, HEAD");
        return;
    }
    ns_agent_summary_t s;
    ns_agent_summary(agent, &s);
    snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; version=0.0.4");
    one(resp, "netscope_agent_frames_total", "counter", "Frames captured.", s.frames);
    one(resp, "netscope_agent_kernel_drops_total", "counter", "Frames dropped by the kernel.",
        s.kernel_drops);
    one(resp, "netscope_agent_finals_produced_total", "counter", "Final flow records made.",
        s.finals_produced);
    one(resp, "netscope_agent_finals_acked_total", "counter",
        "Final flow records acknowledged by the collector.", s.finals_acked);
    one(resp, "netscope_agent_finals_dropped_total", "counter",
        "Final flow records dropped (queue full).", s.finals_dropped);
    one(resp, "netscope_agent_updates_produced_total", "counter", "Live flow updates made.",
        s.updates_produced);
    one(resp, "netscope_agent_updates_sent_total", "counter", "Live flow updates sent.",
        s.updates_sent);
    one(resp, "netscope_agent_updates_dropped_total", "counter", "Live flow updates dropped.",
        s.updates_dropped);
    one(resp, "netscope_agent_batches_sent_total", "counter", "Batches sent to the collector.",
        s.batches_sent);
    one(resp, "netscope_agent_batches_resent_total", "counter", "Batches sent again.",
        s.batches_resent);
    one(resp, "netscope_agent_sessions_total", "counter", "Sessions with the collector.",
        s.sessions);
}

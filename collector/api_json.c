/* api_json.c - JSON documents of the API that are not flow records: agents, observations.
 *
 * Written straight into the response buffer (no object tree): the values are our own
 * numbers and strings escaped by ns_httpd_resp_json_str(), so jansson is not needed here.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "api_int.h"

void
api_json_u64(ns_httpd_resp_t *r, const char *name, uint64_t v, bool comma)
{
    ns_httpd_resp_printf(r, "%s\"%s\":%llu", comma ? "," : "", name, (unsigned long long)v);
}

void
api_json_time(ns_httpd_resp_t *r, const char *name, uint64_t ns, bool comma)
{
    ns_httpd_resp_printf(r, "%s\"%s\":%llu.%06llu", comma ? "," : "", name,
                         (unsigned long long)(ns / 1000000000ull),
                         (unsigned long long)(ns % 1000000000ull / 1000ull));
}

static void
str_member(ns_httpd_resp_t *r, const char *name, const char *v)
{
    ns_httpd_resp_printf(r, ",\"%s\":", name);
    ns_httpd_resp_json_str(r, v);
}

void
api_json_agent(ns_httpd_resp_t *r, const ns_inventory_agent_t *a)
{
    ns_httpd_resp_printf(r, "{\"id\":");
    ns_httpd_resp_json_str(r, a->id);
    str_member(r, "fingerprint", a->fingerprint);
    str_member(r, "hostname", a->hostname);
    str_member(r, "version", a->version);
    ns_httpd_resp_printf(r, ",\"connected\":%s", a->connected ? "true" : "false");
    api_json_time(r, "first_seen", a->first_seen_ns, true);
    api_json_time(r, "last_seen", a->last_seen_ns, true);
    api_json_u64(r, "hellos", a->hellos, true);
    api_json_u64(r, "restarts", a->restarts, true);
    if (a->clock_known)
        ns_httpd_resp_printf(r, ",\"clock_offset\":%.6f", (double)a->clock_offset_ns / 1e9);
    ns_httpd_resp_printf(r, ",\"interfaces\":[");
    for (uint32_t i = 0; i < a->n_ifaces && i < NS_INV_IFACES_MAX; i++) {
        const ns_inventory_iface_t *f = &a->ifaces[i];
        ns_httpd_resp_printf(r, "%s{\"index\":%u,\"name\":", i ? "," : "", i);
        ns_httpd_resp_json_str(r, f->name);
        api_json_u64(r, "link_type", f->link_type, true);
        ns_httpd_resp_printf(r, ",\"addresses\":[");
        for (uint32_t k = 0; k < f->n_addrs && k < NS_INV_IF_ADDRS_MAX; k++) {
            char t[INET6_ADDRSTRLEN] = "?";
            inet_ntop(f->addrs[k].ip_ver == 6 ? AF_INET6 : AF_INET, f->addrs[k].addr.b, t,
                      sizeof(t));
            ns_httpd_resp_printf(r, "%s\"%s\"", k ? "," : "", t);
        }
        ns_httpd_resp_printf(r, "]");
        api_json_u64(r, "packets", f->stats.pkts, true);
        api_json_u64(r, "bytes", f->stats.bytes, true);
        api_json_u64(r, "kernel_drops", f->stats.kernel_drops, true);
        api_json_u64(r, "interface_drops", f->stats.if_drops, true);
        ns_httpd_resp_printf(r, "}");
    }
    const ns_inventory_health_t *h = &a->health;
    ns_httpd_resp_printf(r, "],\"health\":{");
    api_json_u64(r, "queue_depth", h->queue_depth, false);
    api_json_u64(r, "batches_sent", h->batches_sent, true);
    api_json_u64(r, "batches_dropped", h->batches_dropped, true);
    api_json_u64(r, "updates_dropped", h->updates_dropped, true);
    api_json_u64(r, "finals_dropped", h->finals_dropped, true);
    api_json_u64(r, "flows_active", h->flows_active, true);
    api_json_u64(r, "evictions", h->evictions, true);
    ns_httpd_resp_printf(r, ",\"cpu_pct\":%.2f},\"sequence\":{", h->cpu_pct);
    api_json_u64(r, "batches", a->batches, false);
    api_json_u64(r, "received", a->seq.received, true);
    api_json_u64(r, "lost", a->seq.lost, true);
    api_json_u64(r, "duplicates", a->seq.duplicates, true);
    api_json_u64(r, "reordered", a->seq.reordered, true);
    api_json_u64(r, "missing", a->seq.missing, true);
    api_json_u64(r, "acked", a->seq.contiguous, true);
    ns_httpd_resp_printf(r, "}}");
}

void
api_json_obs(ns_httpd_resp_t *r, const ns_merge_obs_t *o, const char *agent)
{
    ns_httpd_resp_printf(r, "{\"agent\":");
    ns_httpd_resp_json_str(r, agent);
    str_member(r, "uid", o->uid);
    str_member(r, "conn_state", o->conn_state);
    str_member(r, "history", o->history);
    ns_httpd_resp_printf(r, ",\"final\":%s,\"flipped\":%s", o->final ? "true" : "false",
                         o->flipped ? "true" : "false");
    api_json_time(r, "first", o->first_ns, true);
    api_json_time(r, "last", o->last_ns, true);
    api_json_u64(r, "orig_pkts", o->pkts[0], true);
    api_json_u64(r, "resp_pkts", o->pkts[1], true);
    api_json_u64(r, "orig_wire_bytes", o->wire_bytes[0], true);
    api_json_u64(r, "resp_wire_bytes", o->wire_bytes[1], true);
    ns_httpd_resp_printf(r, "}");
}

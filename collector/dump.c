/* dump.c - the collector's state as JSON (see dump.h); built with jansson, streamed one
 * member at a time so a large live view is never one tree in memory. */
#include "netscope/dump.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "pktfmt.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

static json_t *
u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
secs(uint64_t ns)
{
    return json_real((double)ns / 1e9);
}

static json_t *
addr_json(const ns_addr_t *a, uint8_t ip_ver)
{
    char text[64];
    ns_pktfmt_addr(text, a, ip_ver);
    return json_string(text);
}

/* jansson refuses strings that are not UTF-8: peers' strings become null rather than vanish */
static json_t *
str(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_null();
}

static json_t *
agent_json(const ns_inventory_agent_t *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", str(a->id));
    json_object_set_new(o, "fingerprint", str(a->fingerprint));
    json_object_set_new(o, "hostname", str(a->hostname));
    json_object_set_new(o, "version", str(a->version));
    json_object_set_new(o, "connected", json_boolean(a->connected));
    json_object_set_new(o, "first_seen", secs(a->first_seen_ns));
    json_object_set_new(o, "last_seen", secs(a->last_seen_ns));
    json_object_set_new(o, "hellos", u64(a->hellos));
    json_object_set_new(o, "restarts", u64(a->restarts));
    json_object_set_new(o, "key_mismatches", u64(a->key_mismatches));
    if (a->clock_known)
        json_object_set_new(o, "clock_offset", json_real((double)a->clock_offset_ns / 1e9));
    json_t *ifs = json_array();
    for (uint32_t i = 0; i < a->n_ifaces; i++) {
        const ns_inventory_iface_t *f = &a->ifaces[i];
        json_t *j = json_object();
        json_object_set_new(j, "index", u64(i));
        json_object_set_new(j, "name", str(f->name));
        json_object_set_new(j, "link_type", u64(f->link_type));
        json_object_set_new(j, "snaplen", u64(f->snaplen));
        json_t *ad = json_array();
        for (uint32_t k = 0; k < f->n_addrs; k++)
            json_array_append_new(ad, addr_json(&f->addrs[k].addr, f->addrs[k].ip_ver));
        json_object_set_new(j, "addresses", ad);
        json_object_set_new(j, "packets", u64(f->stats.pkts));
        json_object_set_new(j, "bytes", u64(f->stats.bytes));
        json_object_set_new(j, "kernel_drops", u64(f->stats.kernel_drops));
        json_object_set_new(j, "interface_drops", u64(f->stats.if_drops));
        json_array_append_new(ifs, j);
    }
    json_object_set_new(o, "interfaces", ifs);
    const ns_inventory_health_t *h = &a->health;
    json_t *hj = json_object();
    json_object_set_new(hj, "queue_depth", u64(h->queue_depth));
    json_object_set_new(hj, "batches_sent", u64(h->batches_sent));
    json_object_set_new(hj, "batches_dropped", u64(h->batches_dropped));
    json_object_set_new(hj, "updates_dropped", u64(h->updates_dropped));
    json_object_set_new(hj, "finals_dropped", u64(h->finals_dropped));
    json_object_set_new(hj, "flows_active", u64(h->flows_active));
    json_object_set_new(hj, "evictions", u64(h->evictions));
    json_object_set_new(hj, "cpu_pct", json_real(h->cpu_pct));
    json_object_set_new(o, "health", hj);
    const ns_seqtrack_stats_t *s = &a->seq;
    json_t *sj = json_object();
    json_object_set_new(sj, "batches", u64(a->batches));
    json_object_set_new(sj, "received", u64(s->received));
    json_object_set_new(sj, "lost", u64(s->lost));
    json_object_set_new(sj, "duplicates", u64(s->duplicates));
    json_object_set_new(sj, "reordered", u64(s->reordered));
    json_object_set_new(sj, "missing", u64(s->missing));
    json_object_set_new(sj, "acked", u64(s->contiguous));
    json_object_set_new(o, "sequence", sj);
    return o;
}

static json_t *
dir_pair(const uint64_t v[2])
{
    json_t *a = json_array();
    json_array_append_new(a, u64(v[0]));
    json_array_append_new(a, u64(v[1]));
    return a;
}

static json_t *
flow_json(const ns_merge_flow_t *f, const ns_inventory_t *inv)
{
    static const char *const proto_names[] = {
        [1] = "icmp", [6] = "tcp", [17] = "udp", [58] = "icmp"};
    json_t *o = json_object();
    json_object_set_new(o, "id.orig_h", addr_json(&f->orig_h, f->key.ip_ver));
    json_object_set_new(o, "id.orig_p", u64(f->orig_p));
    json_object_set_new(o, "id.resp_h", addr_json(&f->resp_h, f->key.ip_ver));
    json_object_set_new(o, "id.resp_p", u64(f->resp_p));
    const char *pn = f->key.proto < 59 ? proto_names[f->key.proto] : NULL;
    json_object_set_new(o, "proto", str(pn ? pn : "unknown_transport"));
    if (f->service[0])
        json_object_set_new(o, "service", str(f->service));
    if (f->community_id[0])
        json_object_set_new(o, "community_id", str(f->community_id));
    json_object_set_new(o, "state", str(f->state == NS_MERGE_LIVE ? "live" : "final"));
    json_object_set_new(o, "first_seen", secs(f->first_ns));
    json_object_set_new(o, "last_seen", secs(f->last_ns));
    json_object_set_new(o, "pkts", dir_pair(f->pkts));
    json_object_set_new(o, "ip_bytes", dir_pair(f->ip_bytes));
    json_object_set_new(o, "wire_bytes", dir_pair(f->wire_bytes));
    json_object_set_new(o, "app_bytes", dir_pair(f->app_bytes));
    json_t *loss = json_array();
    for (unsigned d = 0; d < 2; d++) {
        const ns_merge_loss_t *l = &f->loss[d];
        if (!l->known) {
            json_array_append_new(loss, json_null());
            continue;
        }
        json_t *j = json_object();
        json_object_set_new(j, "pkts", u64(l->pkts));
        json_object_set_new(j, "ip_bytes", u64(l->ip_bytes));
        json_object_set_new(j, "exact", json_boolean(l->exact));
        json_object_set_new(j, "sender", u64(l->sender));
        json_object_set_new(j, "receiver", u64(l->receiver));
        json_object_set_new(j, "by_address", json_boolean(l->sender_owned && l->receiver_owned));
        json_array_append_new(loss, j);
    }
    json_object_set_new(o, "loss", loss);
    json_t *obs = json_array();
    for (uint32_t i = 0; i < f->n_obs; i++) {
        const ns_merge_obs_t *b = &f->obs[i];
        const ns_inventory_agent_t *a = ns_inventory_get(inv, b->agent);
        json_t *j = json_object();
        json_object_set_new(j, "agent", str(a ? a->id : "?"));
        json_object_set_new(j, "uid", str(b->uid));
        json_object_set_new(j, "final", json_boolean(b->final));
        json_object_set_new(j, "conn_state", str(b->conn_state));
        json_object_set_new(j, "history", str(b->history));
        json_object_set_new(j, "flipped", json_boolean(b->flipped));
        json_object_set_new(j, "pkts", dir_pair(b->pkts));
        json_object_set_new(j, "ip_bytes", dir_pair(b->ip_bytes));
        json_object_set_new(j, "updated", secs(b->update_ns));
        json_array_append_new(obs, j);
    }
    json_object_set_new(o, "observations", obs);
    return o;
}

/* Write `j` (stolen) and decref it; false on failure. */
static bool
emit(FILE *out, json_t *j)
{
    if (j == NULL)
        return false;
    int rc = json_dumpf(j, out, DUMP_FLAGS);
    json_decref(j);
    return rc == 0;
}

bool
ns_dump_write(FILE *out, const ns_inventory_t *inv, const ns_merge_t *merge,
              const ns_dump_counter_t *counters, size_t n_counters, uint64_t now_ns)
{
    bool ok =
        fprintf(out, "{\"time\":%" PRIu64 ".%09" PRIu64 ",\"counters\":", now_ns / 1000000000u,
                now_ns % 1000000000u) > 0;
    json_t *k = json_object();
    for (size_t i = 0; i < n_counters; i++)
        json_object_set_new(k, counters[i].name, u64(counters[i].value));
    ok = emit(out, k) && ok;
    ok = fputs(",\"agents\":[", out) >= 0 && ok;
    const char *sep = "";
    for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); i != NS_INV_NONE;
         i = ns_inventory_next(inv, i)) {
        const ns_inventory_agent_t *a = ns_inventory_get(inv, i);
        ok = fputs(sep, out) >= 0 && emit(out, agent_json(a)) && ok;
        sep = ",";
    }
    ok = fputs("],\"flows\":[", out) >= 0 && ok;
    sep = "";
    ns_merge_flow_t f;
    for (uint32_t id = ns_merge_next(merge, NS_MERGE_NONE); id != NS_MERGE_NONE;
         id = ns_merge_next(merge, id)) {
        if (!ns_merge_view(merge, id, &f))
            continue;
        ok = fputs(sep, out) >= 0 && emit(out, flow_json(&f, inv)) && ok;
        sep = ",";
    }
    ok = fputs("]}\n", out) >= 0 && ok;
    return ok;
}

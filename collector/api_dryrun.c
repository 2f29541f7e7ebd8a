/* api_dryrun.c - GET /api/v1/agents/{id}/filter_dryrun?bpf=EXPR: what a capture filter would
 * keep of an agent's recent traffic, before it is pushed to the agent.
 *
 * The agent's ring of recent frames is read through the collector's GetPackets path, which
 * asks for one flow at a time: the dry run asks for the frames of the agent's live flows (the
 * DRYRUN_FLOWS most recently seen), waits for the answers (at most DRYRUN_WAIT_NS: an agent
 * holding no frame of a flow does not answer, the collector gives up after 5 s), and runs the
 * expression over every frame with libpcap (pcap_offline_filter, bpf_flow.h), for the link
 * type of the frames. So the counts cover the frames of live flows still in the ring, not
 * frames of flows that already left the live view.
 *
 * Threads: the handler runs on an HTTP thread and sleeps on `dr_cond`; answers arrive on the
 * ingest thread (collector lock held, then dr_lock), are counted there and the waiter woken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"

#define DRYRUN_FLOWS 32u
#define DRYRUN_WAIT_NS (6ull * 1000000000ull)

struct api_dryrun {
    uint64_t serial;
    const char *bpf;
    uint32_t asked, answered;
    uint64_t packets, kept;
    char err[256];
    api_dryrun_t *next;
};

void
api_pkt_ask_of(const api_live_item_t *it, uint32_t obs, uint8_t channel, ns_collector_pkt_ask_t *a)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->agent, sizeof(a->agent), "%s", it->agent[obs]);
    a->ip_ver = it->f.key.ip_ver;
    a->proto = it->f.key.proto;
    a->vlan = it->f.key.vlan & NS_FLOW_KEY_VLAN_MASK;
    a->iface = (uint8_t)(it->f.key.vlan >> NS_FLOW_KEY_IFACE_SHIFT);
    a->addr[0] = it->f.orig_h; /* the key's addresses are in its own layout */
    a->addr[1] = it->f.resp_h;
    a->port[0] = it->f.orig_p;
    a->port[1] = it->f.resp_p;
    a->from_ns = it->f.obs[obs].first_ns;
    a->channel = channel;
}

typedef struct {
    const char *agent;
    ns_collector_pkt_ask_t asks[DRYRUN_FLOWS];
    uint64_t last[DRYRUN_FLOWS];
    uint32_t n;
} pick_flows_t;

/* Keep the agent's DRYRUN_FLOWS most recently seen flows. */
static bool
on_flow(void *ud, const api_live_item_t *it)
{
    pick_flows_t *p = ud;
    for (uint32_t i = 0; i < it->f.n_obs && i < NS_MERGE_OBS_MAX; i++) {
        if (strcmp(it->agent[i], p->agent) != 0)
            continue;
        uint32_t slot = p->n;
        if (p->n == DRYRUN_FLOWS) {
            slot = 0;
            for (uint32_t k = 1; k < p->n; k++)
                if (p->last[k] < p->last[slot])
                    slot = k;
            if (p->last[slot] >= it->f.last_ns)
                return true;
        } else {
            p->n++;
        }
        api_pkt_ask_of(it, i, NS_COLLECTOR_PKT_API, &p->asks[slot]);
        p->last[slot] = it->f.last_ns;
        return true;
    }
    return true;
}

void
api_dryrun_on_packets(void *ud, uint64_t tag, const uint8_t *data, size_t len, const char *error)
{
    ns_api_t *api = ud;
    pthread_mutex_lock(&api->dr_lock);
    for (api_dryrun_t *d = api->dr_waiting; d; d = d->next) {
        if (d->serial != tag >> 8)
            continue;
        d->answered++;
        uint64_t p = 0, k = 0;
        char err[256];
        if (data && ns_bpf_pcap_count(d->bpf, data, len, &p, &k, err, sizeof(err))) {
            d->packets += p;
            d->kept += k;
        } else if (d->err[0] == '\0') {
            snprintf(d->err, sizeof(d->err), "%s", data ? err : error);
        }
        pthread_cond_broadcast(&api->dr_cond);
        break;
    }
    pthread_mutex_unlock(&api->dr_lock);
}

static bool
agent_known(ns_api_t *api, const char *id)
{
    bool found = false;
    api_lock(api);
    const ns_inventory_t *inv = api_inventory(api);
    for (uint32_t i = inv ? ns_inventory_next(inv, NS_INV_NONE) : NS_INV_NONE;
         i != NS_INV_NONE && !found; i = ns_inventory_next(inv, i))
        found = strcmp(ns_inventory_get(inv, i)->id, id) == 0;
    api_unlock(api);
    return found;
}

void
api_filter_dryrun(ns_api_t *api, const char *agent, const ns_qs_t *qs, ns_httpd_resp_t *r)
{
    const char *bpf = ns_qs_get(qs, "bpf");
    char err[512];
    if (bpf == NULL || bpf[0] == '\0') {
        ns_httpd_resp_error(r, 400, "a capture filter is needed", "bpf");
        return;
    }
    if (!ns_bpf_flow_check(bpf, err, sizeof(err))) {
        ns_httpd_resp_error(r, 400, err, "bpf");
        return;
    }
    if (api->collector == NULL || !agent_known(api, agent)) {
        ns_httpd_resp_error(r, 404, "no such agent", NULL);
        return;
    }
    pick_flows_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        r->oom = true;
        return;
    }
    p->agent = agent;
    if (!api_live_each(api, on_flow, p)) {
        free(p);
        r->oom = true;
        return;
    }
    api_dryrun_t d = {.bpf = bpf};
    pthread_mutex_lock(&api->dr_lock);
    d.serial = ++api->dr_serial;
    d.next = api->dr_waiting;
    api->dr_waiting = &d;
    pthread_mutex_unlock(&api->dr_lock);
    ns_collector_lock(api->collector);
    for (uint32_t i = 0; i < p->n; i++) {
        p->asks[i].tag = d.serial << 8 | i;
        if (ns_collector_packets_ask(api->collector, &p->asks[i]))
            d.asked++; /* under the collector's lock: no answer can come before this count */
    }
    ns_collector_unlock(api->collector);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(DRYRUN_WAIT_NS / 1000000000ull);
    pthread_mutex_lock(&api->dr_lock);
    while (d.answered < d.asked &&
           pthread_cond_timedwait(&api->dr_cond, &api->dr_lock, &until) == 0)
        ;
    for (api_dryrun_t **pp = &api->dr_waiting; *pp; pp = &(*pp)->next)
        if (*pp == &d) {
            *pp = d.next;
            break;
        }
    pthread_mutex_unlock(&api->dr_lock);
    free(p);
    if (d.err[0] && strncmp(d.err, "bad filter", 10) == 0) {
        /* valid for Ethernet, not for the ring's link type */
        ns_httpd_resp_error(r, 400, d.err, "bpf");
        return;
    }
    ns_httpd_resp_printf(r, "{\"agent\":");
    ns_httpd_resp_json_str(r, agent);
    ns_httpd_resp_printf(r, ",\"bpf\":");
    ns_httpd_resp_json_str(r, bpf);
    api_json_u64(r, "flows", d.asked, true);
    api_json_u64(r, "answered", d.answered, true);
    api_json_u64(r, "packets", d.packets, true);
    api_json_u64(r, "kept", d.kept, true);
    ns_httpd_resp_printf(r, "}\n");
}

/* api_dryrun.c - GET /api/v1/agents/{id}/filter_dryrun?bpf=EXPR: what a capture filter would
 * keep of an agent's ring of recent frames, before it is pushed to the agent.
 *
 * The ring is read through the collector's GetPackets path. The dry run asks first for the
 * whole ring (GetPackets whole_ring: the agent walks every frame it holds and answers in
 * parts of a batch each, the last flagged), then, as a fallback for agents that predate
 * whole_ring, for the frames of the agent's live flows (the DRYRUN_FLOWS most recently seen;
 * such an agent takes the whole-ring request for a flow of no packet). The expression runs
 * over every frame with libpcap (pcap_offline_filter, bpf_flow.h) for the link type of the
 * frames. An agent serves requests in order, so a whole-ring answer is complete before the
 * first flow's answer comes: the wait ends when the ring's last part arrived, when every flow
 * answered (an older agent), or after DRYRUN_WAIT_NS (an agent holding no frame of a flow
 * does not answer it; the collector gives up after 5 s). The answer says which it counted:
 * "scope":"ring" (every frame held) or "flows" (the frames of recent live flows only), and
 * "truncated" when not every answer came in time.
 *
 * Threads: the handler runs on an HTTP thread and sleeps on `dr_cond`; answers arrive on the
 * ingest thread (collector lock held, then dr_lock), are counted there and the waiter woken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"

#define DRYRUN_FLOWS 31u  /* with the whole-ring request, the 32 the collector queues at once */
#define DRYRUN_RING 0xffu /* the whole-ring request's index in its tag (flows are 0..30) */
#define DRYRUN_WAIT_NS (6ull * 1000000000ull)

/* What the answers of one scope added up to. */
typedef struct {
    uint64_t packets, kept;
} dry_count_t;

struct api_dryrun {
    uint64_t serial;
    const char *bpf;
    uint32_t asked, answered; /* flow requests */
    bool ring_asked, ring_seen, ring_done;
    dry_count_t flows, ring;
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
api_dryrun_on_packets(void *ud, uint64_t tag, const uint8_t *data, size_t len, const char *error,
                      unsigned flags)
{
    ns_api_t *api = ud;
    bool ring = (tag & 0xffu) == DRYRUN_RING;
    if (ring && data && !(flags & NS_COLLECTOR_PKT_RING))
        return; /* an older agent's answer to "the flow of no packet": nothing */
    pthread_mutex_lock(&api->dr_lock);
    for (api_dryrun_t *d = api->dr_waiting; d; d = d->next) {
        if (d->serial != tag >> 8)
            continue;
        if (ring) {
            d->ring_seen |= data != NULL;
            d->ring_done |= data == NULL || !(flags & NS_COLLECTOR_PKT_MORE);
        } else {
            d->answered++;
        }
        uint64_t p = 0, k = 0;
        char err[256];
        dry_count_t *n = ring ? &d->ring : &d->flows;
        if (data && ns_bpf_pcap_count(d->bpf, data, len, &p, &k, err, sizeof(err))) {
            n->packets += p;
            n->kept += k;
        } else if (d->err[0] == '\0' && (data || !ring)) {
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
    ns_collector_pkt_ask_t ring = {.channel = NS_COLLECTOR_PKT_API,
                                   .whole_ring = true,
                                   .ip_ver = 4,
                                   .tag = d.serial << 8 | DRYRUN_RING};
    snprintf(ring.agent, sizeof(ring.agent), "%s", agent);
    d.ring_asked = ns_collector_packets_ask(api->collector, &ring); /* first: answered first */
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
    while (!(d.ring_seen && d.ring_done) &&
           (d.answered < d.asked || (d.asked == 0 && d.ring_asked && !d.ring_done)) &&
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
    /* a ring answer counts every frame held, the flows' too: never add the two */
    bool by_ring = d.ring_seen;
    const dry_count_t *n = by_ring ? &d.ring : &d.flows;
    ns_httpd_resp_printf(r, ",\"scope\":\"%s\",\"truncated\":%s", by_ring ? "ring" : "flows",
                         (by_ring ? !d.ring_done : d.answered < d.asked) ? "true" : "false");
    api_json_u64(r, "flows", d.asked, true);
    api_json_u64(r, "answered", d.answered, true);
    api_json_u64(r, "packets", n->packets, true);
    api_json_u64(r, "kept", n->kept, true);
    ns_httpd_resp_printf(r, "}\n");
}

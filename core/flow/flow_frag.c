/* flow_frag.c - direct-mapped cache of first-fragment ports (see flow_frag.h). */
#include "netscope/flow_frag.h"

#include <stdlib.h>
#include <string.h>

#include "netscope/flow_key.h"

typedef struct {
    ns_flow_key_t key; /* addr[0] = source, addr[1] = destination, port = IP id halves */
    uint64_t ts_ns;
    uint16_t sport, dport;
    bool used;
} frag_entry_t;

struct ns_flow_frag {
    frag_entry_t *e;
    uint32_t mask;
    uint64_t seed;
};

ns_flow_frag_t *
ns_flow_frag_new(uint32_t slots, uint64_t seed)
{
    uint32_t n = 16;
    while (n < slots && n < (1u << 24))
        n <<= 1;
    ns_flow_frag_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->e = calloc(n, sizeof(*c->e));
    if (c->e == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    c->seed = seed;
    return c;
}

void
ns_flow_frag_destroy(ns_flow_frag_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->e);
    free(*self_p);
    *self_p = NULL;
}

/* The datagram's key: directional (fragments never change direction). */
static void
frag_key(const ns_pkt_t *pkt, ns_flow_key_t *k)
{
    memset(k, 0, sizeof(*k));
    k->addr[0] = pkt->src;
    k->addr[1] = pkt->dst;
    k->port[0] = (uint16_t)(pkt->frag_id >> 16);
    k->port[1] = (uint16_t)pkt->frag_id;
    k->vlan = ns_flow_key_vlan(pkt->vlan_n > 0 ? pkt->vlan[0] : 0, pkt->iface);
    k->proto = pkt->ip_proto;
    k->ip_ver = pkt->ip_ver;
}

void
ns_flow_frag_learn(ns_flow_frag_t *self, const ns_pkt_t *pkt, uint16_t sport, uint16_t dport)
{
    ns_flow_key_t k;
    frag_key(pkt, &k);
    frag_entry_t *e = &self->e[ns_flow_key_hash(&k, self->seed) & self->mask];
    e->key = k;
    e->ts_ns = pkt->ts_ns;
    e->sport = sport;
    e->dport = dport;
    e->used = true;
}

bool
ns_flow_frag_find(const ns_flow_frag_t *self, const ns_pkt_t *pkt, uint64_t now_ns,
                  uint16_t *sport, uint16_t *dport)
{
    ns_flow_key_t k;
    frag_key(pkt, &k);
    const frag_entry_t *e = &self->e[ns_flow_key_hash(&k, self->seed) & self->mask];
    if (!e->used || !ns_flow_key_eq(&e->key, &k))
        return false;
    if (now_ns > e->ts_ns && now_ns - e->ts_ns > NS_FLOW_FRAG_MAX_AGE_NS)
        return false;
    *sport = e->sport;
    *dport = e->dport;
    return true;
}

/* flow_expire.c - per-queue timeouts over the flow table's LRU queues. */
#include "netscope/flow_expire.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

void
ns_flow_expire_default(ns_flow_expire_t *p)
{
    ns_flow_expire_set_idle(p, NS_FLOW_IDLE_DEFAULT_NS);
    p->idle_ns[NS_FLOWQ_TCP_CLOSED] = NS_FLOW_LINGER_DEFAULT_NS;
    p->active_ns = NS_FLOW_ACTIVE_DEFAULT_NS;
    p->max_step_ns = NS_FLOW_MAX_STEP_DEFAULT_NS;
}

void
ns_flow_expire_set_idle(ns_flow_expire_t *p, uint64_t idle_ns)
{
    p->idle_ns[NS_FLOWQ_TCP] = idle_ns;
    p->idle_ns[NS_FLOWQ_UDP] = idle_ns;
    p->idle_ns[NS_FLOWQ_ICMP] = idle_ns;
    p->idle_ns[NS_FLOWQ_OTHER] = idle_ns;
}

static bool
tcp_closed(const ns_flow_t *f)
{
    uint8_t o = f->state[0], r = f->state[1];
    if (o == NS_TCP_EP_RESET || r == NS_TCP_EP_RESET)
        return true;
    return o == NS_TCP_EP_CLOSED && r == NS_TCP_EP_CLOSED;
}

ns_flowq_t
ns_flow_expire_queue(const ns_flow_t *f)
{
    switch (f->proto) {
    case IPPROTO_TCP_:
        return tcp_closed(f) ? NS_FLOWQ_TCP_CLOSED : NS_FLOWQ_TCP;
    case IPPROTO_UDP_:
        return NS_FLOWQ_UDP;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        return NS_FLOWQ_ICMP;
    default:
        return NS_FLOWQ_OTHER;
    }
}

uint32_t
ns_flow_expire_due(const ns_flow_expire_t *p, const ns_flow_table_t *t, uint64_t now_ns,
                   ns_flow_end_t *reason)
{
    for (unsigned q = 0; q < NS_FLOWQ_COUNT; q++) {
        uint32_t idx = ns_flow_table_oldest(t, q);
        if (idx == NS_FLOW_NONE)
            continue;
        const ns_flow_t *f = ns_flow_table_cget(t, idx);
        /* A flow from the future (its packets' clock was abandoned for an earlier one, see
         * flow_engine.h) would block its queue for good: it is due now. */
        bool future = p->max_step_ns != 0 && f->last_ns > now_ns &&
                      f->last_ns - now_ns > p->max_step_ns;
        if (!future && (now_ns < f->last_ns || now_ns - f->last_ns < p->idle_ns[q]))
            continue;
        *reason = q == NS_FLOWQ_TCP_CLOSED ? ns_flow_expire_closed_reason(f) : NS_FLOW_END_IDLE;
        return idx;
    }
    return NS_FLOW_NONE;
}

ns_flow_end_t
ns_flow_expire_closed_reason(const ns_flow_t *f)
{
    return f->state[0] == NS_TCP_EP_RESET || f->state[1] == NS_TCP_EP_RESET ? NS_FLOW_END_RST
                                                                             : NS_FLOW_END_FIN;
}

bool
ns_flow_expire_interim_due(const ns_flow_expire_t *p, uint64_t first_ns, uint64_t prev_ns,
                           uint64_t now_ns)
{
    if (p->active_ns == 0 || now_ns <= prev_ns || prev_ns < first_ns)
        return false;
    return (now_ns - first_ns) / p->active_ns > (prev_ns - first_ns) / p->active_ns;
}

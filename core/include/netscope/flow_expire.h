/* flow_expire.h - the expiry policy: which queue a flow waits in, and when its time is up.
 *
 * The flow table keeps flows in NS_FLOW_QUEUES queues, each in least-recently-seen order;
 * this module decides the queue of a flow (by protocol and TCP state) and gives every queue
 * one timeout, so the flow at the head of a queue is always the first of that queue to
 * expire and finding expired flows costs O(1) per queue, never a scan.
 *
 *   TCP open     idle timeout for TCP
 *   TCP closed   both sides sent FIN, or a RST was seen: the linger time (late retransmissions
 *                and the last ACK still join the flow), then the record ends "fin" / "rst"
 *   UDP, ICMP, other   their idle timeouts
 *
 * Interim records of long flows (active timeout) are due every active_ns after first_ns, written
 * with the first packet past each boundary (so the count of them is derived, not stored).
 * Time is always passed in (packet timestamps when reading a file).
 */
#ifndef NETSCOPE_FLOW_EXPIRE_H
#define NETSCOPE_FLOW_EXPIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_table.h"

typedef enum {
    NS_FLOWQ_TCP = 0,
    NS_FLOWQ_TCP_CLOSED,
    NS_FLOWQ_UDP,
    NS_FLOWQ_ICMP,
    NS_FLOWQ_OTHER,
    NS_FLOWQ_COUNT
} ns_flowq_t;

#define NS_FLOW_IDLE_DEFAULT_NS (60ull * 1000000000ull)
#define NS_FLOW_LINGER_DEFAULT_NS (5ull * 1000000000ull)
#define NS_FLOW_ACTIVE_DEFAULT_NS (1800ull * 1000000000ull)
#define NS_FLOW_MAX_STEP_DEFAULT_NS (10ull * 1000000000ull)

typedef struct {
    uint64_t idle_ns[NS_FLOWQ_COUNT]; /* per queue; [NS_FLOWQ_TCP_CLOSED] is the linger time */
    uint64_t active_ns;               /* interim record interval; 0 = never */
    /* How far one packet may move the engine's clock (flow_engine.h, "Time"); also: a flow
     * last seen more than this after `now` belongs to a clock that was abandoned, and is due. */
    uint64_t max_step_ns;
} ns_flow_expire_t;

/* Defaults: 60 s idle for every protocol, 5 s TCP linger, 1800 s active timeout, 10 s
 * clock step. */
void ns_flow_expire_default(ns_flow_expire_t *p);

/* Set the idle timeout of every protocol (not the linger time). */
void ns_flow_expire_set_idle(ns_flow_expire_t *p, uint64_t idle_ns);

/* The queue flow `f` belongs in now (its protocol and, for TCP, its endpoint states). */
ns_flowq_t ns_flow_expire_queue(const ns_flow_t *f);

/* A flow of `t` whose time is up at `now_ns`, or NS_FLOW_NONE; *reason says why (idle, fin or
 * rst). Call repeatedly (deleting each flow returned) until it returns NS_FLOW_NONE. */
uint32_t ns_flow_expire_due(const ns_flow_expire_t *p, const ns_flow_table_t *t,
                            uint64_t now_ns, ns_flow_end_t *reason);

/* Why a flow of the closed-TCP queue ends: rst when either side reset, else fin. */
ns_flow_end_t ns_flow_expire_closed_reason(const ns_flow_t *f);

/* True when a packet at `now_ns` of a flow that began at `first_ns` and was last seen at
 * `prev_ns` crosses a boundary first_ns + k * active_ns (k >= 1): an interim record is due. */
bool ns_flow_expire_interim_due(const ns_flow_expire_t *p, uint64_t first_ns, uint64_t prev_ns,
                                uint64_t now_ns);

#endif /* NETSCOPE_FLOW_EXPIRE_H */

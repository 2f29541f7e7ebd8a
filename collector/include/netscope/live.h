/* live.h - the collector's live analyses: throughput, packet rate, new flows, retransmissions,
 * RTT quantiles, top talkers, protocol distribution and the host graph, per second.
 *
 * Fed by the merge step with what each applied flow record added (ns_merge_info_t's deltas),
 * read by the live stream (ws.c) and usable by any other reader (issue 20's analyses). Pure:
 * no I/O, no clock, no threads; time is passed in as collector nanoseconds.
 *
 * Time is cut into whole seconds (second s = [s * 1e9, (s + 1) * 1e9) ns). An update at `now`
 * counts in second floor(now / 1e9). Windows at `now`, with cur = floor(now / 1e9):
 *   - rates (bps, pps, new flows/s, retransmissions/s): second cur - 1 alone, the last WHOLE
 *     second (so a rate does not ramp up during the current second);
 *   - RTT p50/p95, top talkers, protocols: seconds cur - 9 .. cur (10 s, the current partial
 *     second included, so new traffic shows at once);
 *   - the host graph: seconds cur - 59 .. cur (60 s).
 * Updates that arrive with a time older than the newest one seen are counted in the newest
 * second (the collector's clock only moves forward; a step back is not rewritten history).
 *
 * Memory is fixed by ns_live_new(): `max_hosts` hosts and `max_edges` host pairs, each with a
 * 60-slot ring of per-second counters, a table of protocol labels, per-agent rings. When the
 * host (edge) table is full, a new host replaces the entry with the fewest bytes over 60 s
 * among EVICT_SAMPLE entries after a rotating hand (counted in stats.evicted): so an address
 * flood costs a bounded amount of work per update and can only push out small hosts; the top
 * lists are exact whenever the table was never full in the window.
 *
 * Caveats: bytes are wire bytes (link layer included), the counters /api/v1/flows shows as
 * orig_wire_bytes + resp_wire_bytes. RTT is the handshake RTT, one sample per flow, taken
 * when the flow first reports one; quantiles come from a log histogram (4 buckets per octave,
 * so a quantile is within 12.5% of the true value).
 */
#ifndef NETSCOPE_LIVE_H
#define NETSCOPE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/host_addr.h"

#define NS_LIVE_WINDOW_S 60u    /* the longest window (the graph) */
#define NS_LIVE_TOP_S 10u       /* top talkers, protocols, RTT */
#define NS_LIVE_TALKERS 10u     /* top talkers listed */
#define NS_LIVE_LABEL_MAX 24u   /* "tcp/http", NUL included */
#define NS_LIVE_PROTOS_MAX 128u /* protocol labels tracked; further ones count as "other" */

typedef struct {
    uint32_t max_hosts;  /* 16 .. 1<<22 */
    uint32_t max_edges;  /* 16 .. 1<<22 */
    uint32_t max_agents; /* agent indexes 0 .. max_agents-1 (1 .. 65536) */
    uint64_t seed;       /* hash seed (random in the collector, fixed in tests) */
} ns_live_opts_t;

/* What one applied flow record brought. Addresses in the record's orientation. */
typedef struct {
    uint32_t agent;
    uint8_t ip_ver, proto;
    ns_addr_t orig_h, resp_h;
    const char *service;      /* "" or NULL: none */
    uint64_t d_pkts, d_bytes; /* added since the observation's previous state, both ways */
    uint32_t d_retrans;
    bool counted;    /* false: another agent's view of a connection already counted
                      * (ns_merge_info_t.first_observer false): only the agent's rates
                      * take it, so totals count each connection once */
    bool new_flow;   /* the record started a merged flow */
    uint64_t rtt_ns; /* a new handshake RTT sample (0: none) */
} ns_live_update_t;

typedef struct {
    ns_host_addr_t host;
    uint64_t bytes, pkts, flows;
} ns_live_talker_t;

typedef struct {
    char name[NS_LIVE_LABEL_MAX];
    uint64_t bytes, pkts, flows;
} ns_live_proto_t;

typedef struct {
    ns_host_addr_t host;
    uint64_t bytes;
} ns_live_node_t;

typedef struct {
    ns_host_addr_t src, dst;
    uint64_t bytes;
} ns_live_edge_t;

/* Per-second rates of the last whole second. */
typedef struct {
    double bps, pps;
} ns_live_rate_t;

/* A snapshot: arrays sized by ns_live_snap_new(), filled by ns_live_snapshot(). */
typedef struct {
    uint64_t now_ns;
    double bps, pps, new_flows_ps, retrans_ps;
    double rtt_ms_p50, rtt_ms_p95; /* < 0: no sample in the window */
    uint32_t n_talkers;
    ns_live_talker_t talkers[NS_LIVE_TALKERS];
    uint32_t n_protos;
    ns_live_proto_t protos[NS_LIVE_PROTOS_MAX + 1]; /* + "other" */
    uint32_t n_nodes, max_nodes;
    ns_live_node_t *nodes; /* by bytes, descending */
    uint32_t n_edges, max_edges;
    ns_live_edge_t *edges;           /* by bytes, descending; both ends among nodes */
    struct ns_live_scratch *scratch; /* internal */
} ns_live_snap_t;

typedef struct {
    uint64_t updates, evicted_hosts, evicted_edges, other_protos;
} ns_live_stats_t;

typedef struct ns_live ns_live_t;

/* Defaults: 8192 hosts, 8192 edges, 1024 agents, seed 0. */
void ns_live_opts_default(ns_live_opts_t *o);

/* A live-state table of the sizes in `o`. Returns a new one owned by the caller, or NULL with
 * a sentence in errbuf (a size out of range, out of memory). */
ns_live_t *ns_live_new(const ns_live_opts_t *o, char *errbuf, size_t errlen);
void ns_live_destroy(ns_live_t **self_p);

/* Count update `u` at collector time `now_ns`. Updates with nothing to count (no delta, no
 * new flow, no RTT) are ignored; an agent out of range is counted in the totals only. */
void ns_live_update(ns_live_t *self, const ns_live_update_t *u, uint64_t now_ns);

/* Agent `agent`'s rates over the last whole second before `now_ns` (zeros when unknown). */
ns_live_rate_t ns_live_agent_rate(const ns_live_t *self, uint32_t agent, uint64_t now_ns);

/* A snapshot with room for `max_nodes` graph nodes and `max_edges` edges (the graph lists
 * the top ones). NULL when out of memory. Free with ns_live_snap_destroy(). */
ns_live_snap_t *ns_live_snap_new(uint32_t max_nodes, uint32_t max_edges);
void ns_live_snap_destroy(ns_live_snap_t **self_p);

/* Fill `out` with the state at `now_ns` (see the file comment for the windows). O(hosts +
 * edges + protocols); allocates only to grow `out`'s scratch to the host table's size (a
 * graph left empty when that fails). */
void ns_live_snapshot(const ns_live_t *self, uint64_t now_ns, ns_live_snap_t *out);

/* Bytes of memory held (the fixed tables: what the memory bound promises). */
size_t ns_live_bytes(const ns_live_t *self);

void ns_live_stats(const ns_live_t *self, ns_live_stats_t *out);

/* The name of IP protocol `proto` ("tcp", "udp", "icmp", "icmp6", "sctp"), else its number
 * written into `buf` (len >= 4). The labels of ns_live_proto_t and of /api/v1/top. */
const char *ns_live_proto_name(uint8_t proto, char *buf, size_t len);

#endif /* NETSCOPE_LIVE_H */

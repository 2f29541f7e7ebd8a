/* analysis.h - what is slow and what loses packets, over the merged stream: RTT distributions
 * per host pair and per service, retransmission rates and bursts per host, pair and service
 * and which side retransmits, and packet loss between two agents that saw the same flows.
 *
 * Pure logic: fed with each record the merge applied (the record and what ns_merge_update_info
 * said about it) and with each merged flow that leaves the view (ns_analysis_flow_end), time
 * passed in, no I/O, no clock. Memory is fixed at creation: each table holds at most its
 * configured number of subjects; a subject that finds its table full is not followed and is
 * counted (untracked), and subjects idle for two windows are forgotten on ns_analysis_tick().
 *
 * RTT samples: a handshake RTT once per observation (per pair: the first record that carries
 * one; per service: the final record, as a service is often recognised only after the first
 * packets, and a service's `flows` are counted at the final record too), and
 * the running RTT (the record's last RTT sample, weighted by the samples taken since the
 * observation's previous record). Distributions are log-bucket sketches (sketch.h:
 * quantiles within 5% relative, mergeable), never sorted lists.
 *
 * Throughput: wire bytes and packets per subject (a host's: what it sent), as rates over the
 * last whole second of collector time before the `now` a reader gives.
 *
 * Retransmissions: per record, the retransmitted segments and packets added since the
 * observation's previous state, per direction. A host's counts are those of the packets it
 * sent (the side that retransmits); a pair's keep both directions. Rates: over the last whole
 * window (`window_ns`, default 60 s) and since start. A burst is a second of collector time in
 * which a subject retransmitted at least NS_ANALYSIS_BURST_MIN segments and at least 10% of
 * its packets of that second.
 *
 * Loss between agents: when a flow seen by two agents leaves the view with both observations
 * final (the merge's exact loss), the packets the sending side's agent counted and the ones
 * the receiving side's agent missed go to the path (sender agent -> receiver agent).
 */
#ifndef NETSCOPE_ANALYSIS_H
#define NETSCOPE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/merge.h"
#include "netscope/sketch.h"

#define NS_ANALYSIS_BURST_MIN 10u
#define NS_ANALYSIS_SERVICE_MAX 16u /* a service name or "sctp/65535", NUL included */

typedef struct {
    uint32_t max_pairs;    /* host pairs followed (default 2048: 2 sketches each, ~3.8 MB) */
    uint32_t max_hosts;    /* default 8192 */
    uint32_t max_services; /* default 512 */
    uint32_t max_paths;    /* agent pairs, default 256 */
    uint64_t window_ns;    /* default 60 s */
} ns_analysis_opts_t;

void ns_analysis_opts_default(ns_analysis_opts_t *o);

typedef enum {
    NS_AN_PAIR,    /* orig host -> resp host */
    NS_AN_HOST,
    NS_AN_SERVICE, /* the flow's service, or "tcp/PORT" / "udp/PORT" of the responder */
    NS_AN_PATH,    /* sender agent -> receiver agent */
    NS_AN_KINDS
} ns_analysis_by_t;

typedef struct ns_analysis ns_analysis_t;

/* One subject's state, as read (a copy). */
typedef struct {
    ns_analysis_by_t by;
    uint8_t ip_ver;
    ns_addr_t a, b;                     /* PAIR: orig, resp; HOST: a */
    char service[NS_ANALYSIS_SERVICE_MAX]; /* SERVICE */
    uint32_t agent_a, agent_b;          /* PATH: sender, receiver (inventory indexes) */
    uint64_t flows;                     /* observations (SERVICE: ended ones; PATH: flows
                                         * with exact loss) */
    ns_qsketch_t rtt_hs, rtt_run;       /* PAIR and SERVICE; microseconds */
    uint64_t pkts[2], bytes[2], retrans[2]; /* since start; HOST and SERVICE use [0] */
    double bps, pps;                    /* the last whole second before the reader's now */
    uint64_t win_pkts, win_retrans;     /* the last whole window, both directions */
    uint64_t burst_seconds;             /* since start */
    uint32_t burst_max;                 /* most retransmissions in one second, last window */
    uint64_t lost;                      /* PATH: packets the receiver's agent did not see */
    uint64_t last_ns;                   /* last update, collector time */
} ns_analysis_row_t;

typedef struct {
    uint64_t records, rtt_samples, flows_ended;
    uint64_t untracked[NS_AN_KINDS]; /* updates whose subject found its table full */
    uint32_t held[NS_AN_KINDS];
    size_t bytes;                    /* memory held, fixed at creation */
} ns_analysis_stats_t;

/* NULL when out of memory or an option is 0 / absurd (> 1,000,000 subjects). */
ns_analysis_t *ns_analysis_new(const ns_analysis_opts_t *o);
void ns_analysis_destroy(ns_analysis_t **self_p);

/* Record `r`, applied by the merge as `mi` (its return code `rc`), at collector time now_ns. */
void ns_analysis_update(ns_analysis_t *self, const ns_flow_rec_t *r, ns_merge_rc_t rc,
                        const ns_merge_info_t *mi, uint64_t now_ns);
/* A merged flow leaving the view (its observations' agents are inventory indexes). */
void ns_analysis_flow_end(ns_analysis_t *self, const ns_merge_flow_t *f, uint64_t now_ns);
/* Rotate windows and forget idle subjects (call about once a second). */
void ns_analysis_tick(ns_analysis_t *self, uint64_t now_ns);

typedef enum {
    NS_AN_SORT_RTT_P95, /* handshake RTT p95 (running RTT's where no handshake was seen) */
    NS_AN_SORT_RETRANS, /* retransmissions in the last window */
    NS_AN_SORT_RATE,    /* retransmitted share of packets in the last window */
    NS_AN_SORT_LOST,    /* PATH: packets lost */
    NS_AN_SORT_BPS      /* bits per second, the last whole second */
} ns_analysis_sort_t;

/* The best `max` subjects of table `by` by `sort` into out[], best first, rates as of now_ns;
 * returns how many. */
size_t ns_analysis_top(const ns_analysis_t *self, ns_analysis_by_t by, ns_analysis_sort_t sort,
                       uint64_t now_ns, ns_analysis_row_t *out, size_t max);
void ns_analysis_stats(const ns_analysis_t *self, ns_analysis_stats_t *out);

#endif /* NETSCOPE_ANALYSIS_H */

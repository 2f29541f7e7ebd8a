/* evidence.h - the first packets of an alert's flows, fetched from the agents' packet rings
 * and kept as one small pcap per alert.
 *
 * When an alert is raised the collector asks the agents that reported its evidence flows for
 * their frames (GetPackets, proto/netscope.proto; the agent searches its ring of recent raw
 * frames, agent/pktring.c). This module is the collector's side without the I/O: it numbers
 * the requests, remembers which alert each belongs to (a fixed table of `max_pending`
 * requests: when it is full, further requests are refused and counted), appends the frames of
 * each reply to the alert's pcap (classic pcap, nanosecond timestamps, the link type of the
 * first reply; frames of another link type are left out and counted; at most `max_bytes` per
 * alert) and hands the pcap out once every request of the alert was answered or `timeout_ns`
 * passed. Time is passed in.
 */
#ifndef NETSCOPE_EVIDENCE_H
#define NETSCOPE_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/codec.h"

#define NS_EVIDENCE_FRAMES 16u /* frames asked per flow */

typedef struct ns_evidence ns_evidence_t;

typedef struct {
    uint64_t requested, answered, timed_out, refused, frames, frames_left_out;
} ns_evidence_stats_t;

/* A table of `max_pending` requests (1..4096), pcaps of at most `max_bytes` (>= 1024), replies
 * awaited `timeout_ns`. NULL when out of memory or out of range. */
ns_evidence_t *ns_evidence_new(uint32_t max_pending, size_t max_bytes, uint64_t timeout_ns);
void ns_evidence_destroy(ns_evidence_t **self_p);

/* Register one request for alert `alert_id` at `now_ns`; returns its request id (never 0), or
 * 0 when the table is full (stats.refused). Call it for each flow before sending any, so that
 * the alert completes only when all have answered. */
uint32_t ns_evidence_request(ns_evidence_t *self, uint64_t alert_id, uint64_t now_ns);

/* Forget request `request_id` (it could not be sent). */
void ns_evidence_cancel(ns_evidence_t *self, uint32_t request_id);

/* Receives a finished pcap: `data` (len bytes) is valid during the call. */
typedef void (*ns_evidence_fn)(void *ud, uint64_t alert_id, const uint8_t *data, size_t len);

/* A reply from an agent. Unknown request ids are ignored (false). When it was the alert's
 * last outstanding request, `fn` gets the pcap. A whole_ring reply (one of several to one
 * request) goes to `fn` at once as a pcap of its own, even with no frame; its request stays
 * pending until the reply with last_chunk (or an error). */
bool ns_evidence_reply(ns_evidence_t *self, const ns_msg_packets_t *p, ns_evidence_fn fn,
                       void *ud);

/* Requests older than timeout_ns give up; alerts whose requests are all answered or given up
 * go to `fn` (with what arrived; an alert with no frame at all is dropped). */
void ns_evidence_expire(ns_evidence_t *self, uint64_t now_ns, ns_evidence_fn fn, void *ud);

void ns_evidence_stats(const ns_evidence_t *self, ns_evidence_stats_t *out);

#endif /* NETSCOPE_EVIDENCE_H */

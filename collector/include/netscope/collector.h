/* collector.h - netscope-collector's ingest: agents' messages in, merged live state out.
 *
 * One thread. It receives every agent message on the ROUTER link (transport.h: CurveZMQ,
 * agents admitted by public key), decodes it (codec.h), binds it to the agent that said
 * Hello with that key on that connection, and accounts it: Hello in the inventory
 * (inventory.h) and its interfaces' addresses in the merge, FlowBatch through the agent's
 * sequence tracking (duplicates dropped: agents resend what was not acknowledged) into the
 * merge (merge.h), final records to the flows file (JSON Lines, the fields of `netscope
 * flows` plus "agent"), Heartbeat and InterfaceStats in the inventory. Acknowledgements go
 * back after the records are written to the file (flushed), so what an agent forgets was
 * written. An agent whose key was revoked (file removed, SIGHUP) is cut off: its messages are
 * dropped and counted.
 *
 * The live view and the inventory are written as JSON (dump.h) on request (SIGUSR1) and at
 * exit. With [clickhouse] url set, final records also go to ClickHouse (chsink.h).
 */
#ifndef NETSCOPE_COLLECTOR_H
#define NETSCOPE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/analysis.h"
#include "netscope/chsink.h"
#include "netscope/collector_config.h"
#include "netscope/inventory.h"
#include "netscope/live.h"
#include "netscope/merge.h"
#include "netscope/notify.h"

typedef struct ns_collector ns_collector_t;

typedef struct {
    uint64_t messages;        /* received */
    uint64_t bytes;
    uint64_t rejected;        /* refused by the codec (see its stats by reason) */
    uint64_t unknown_peer;    /* from a connection that never said Hello: dropped */
    uint64_t revoked;         /* from a key no longer allowed: dropped */
    uint64_t key_mismatch;    /* Hellos of a known id with another key: refused */
    uint64_t refused_keys;    /* handshakes refused: key not allowed */
    uint64_t batches, batches_dup, records, finals_written;
    uint64_t acks_sent;
} ns_collector_stats_t;

/* Open the flows file and the link of `cfg` (checked by ns_collector_config_check(); kept by
 * pointer). Returns a new collector, or NULL with a sentence in errbuf (address in use, bad
 * endpoint, unreadable key or allowed-keys directory, unwritable file, ...). */
ns_collector_t *ns_collector_new(const ns_collector_config_t *cfg, char *errbuf, size_t errlen);

/* Receive and account messages until ns_collector_stop(). Returns 0, or 1 on a socket
 * failure. */
int ns_collector_run(ns_collector_t *self);

/* Signal-safe requests, served by the running loop: stop; re-read the allowed keys; write
 * the state. */
void ns_collector_stop(ns_collector_t *self);
void ns_collector_reload(ns_collector_t *self);
void ns_collector_dump_request(ns_collector_t *self);

/* Write the state (agents, live flows, counters) to output.state now. */
bool ns_collector_dump(ns_collector_t *self);

const ns_collector_stats_t *ns_collector_stats(const ns_collector_t *self);

/* ---- for readers on other threads (the HTTP API) ------------------------------------------
 * The ingest thread holds the collector's lock while it changes the merge, the inventory and
 * the counters (one burst of messages at a time, a few milliseconds at most). A reader takes
 * the lock, copies what it needs (ns_merge_view(), ns_inventory_get(), the stats) and lets go
 * at once: never across I/O. */
void ns_collector_lock(ns_collector_t *self);
void ns_collector_unlock(ns_collector_t *self);
const ns_merge_t *ns_collector_merge(const ns_collector_t *self);         /* under the lock */
const ns_inventory_t *ns_collector_inventory(const ns_collector_t *self); /* under the lock */
/* Transactions of live flows (txstore.h): read under the lock. */
struct ns_txstore;
const struct ns_txstore *ns_collector_txstore(const ns_collector_t *self);
/* The link's and the codec's counters, copied (under the lock). */
void ns_collector_link_stats(const ns_collector_t *self, uint64_t *refused_keys,
                             uint64_t *handshake_failures);
uint64_t ns_collector_codec_rejects(const ns_collector_t *self);
/* The ClickHouse export ([clickhouse] url), NULL when off; the collector owns it. Its
 * counters (ns_chsink_stats()) may be read from any thread without the lock. */
ns_chsink_t *ns_collector_chsink(const ns_collector_t *self);
/* The detectors (detect.h): read them under the lock. */
const ns_detect_t *ns_collector_detect(const ns_collector_t *self);
/* The analyses (read under ns_collector_lock()). */
const ns_analysis_t *ns_collector_analysis(const ns_collector_t *self);
/* Notification counters (notify.h): thread-safe, no lock needed. */
void ns_collector_notify_stats(const ns_collector_t *self, ns_notify_stats_t *out);
/* The history store (NULL without storage.db): thread-safe on its own, no lock needed. */
struct ns_store;
struct ns_store *ns_collector_store(const ns_collector_t *self);
/* Stored records' connection ids (ns_store_meta_t.conn) are this plus the live merged flow's
 * serial for the connections of this run. */
uint64_t ns_collector_conn_base(const ns_collector_t *self);
const char *ns_collector_endpoint(const ns_collector_t *self);
/* The live analyses (live.h), fed with every applied record: read them under the lock. */
const ns_live_t *ns_collector_live(const ns_collector_t *self);

/* ---- packets for the live stream ----------------------------------------------------------
 * A request for the recent frames of one flow from one agent's packet ring: the collector's
 * GetPackets path (the one alerts' evidence takes), answered asynchronously. */
typedef struct {
    char agent[NS_INV_ID_MAX]; /* the agent's id */
    uint8_t ip_ver, proto;
    uint16_t vlan;
    uint8_t iface;
    ns_addr_t addr[2];
    uint16_t port[2];
    uint64_t from_ns;          /* frames from this time on (the agent's clock) */
    uint64_t tag;              /* the caller's (below 2^62): handed back with the answer */
    uint8_t channel;           /* whose callback answers (NS_COLLECTOR_PKT_*) */
    bool whole_ring;           /* every frame of the agent's ring, any flow (the flow fields
                                  are ignored): answered in several calls */
} ns_collector_pkt_ask_t;

#define NS_COLLECTOR_PKT_STREAM 0u /* the live stream (ws.c) */
#define NS_COLLECTOR_PKT_API 1u    /* the HTTP API (filter dry runs) */
#define NS_COLLECTOR_PKT_CHANNELS 2u

/* Flags of an answer. */
#define NS_COLLECTOR_PKT_RING 1u /* one part of a whole-ring answer (the agent knows whole_ring) */
#define NS_COLLECTOR_PKT_MORE 2u /* more parts of this answer follow */

/* The answer to one request: a classic pcap (`data`, `len`, valid during the call), or data
 * NULL with a sentence in `error`. A request whose agent sent no frame gets no call at all
 * (the caller times it out). A whole_ring request is answered in parts, each its own pcap
 * (possibly of no frame) flagged NS_COLLECTOR_PKT_RING, all but the last with
 * NS_COLLECTOR_PKT_MORE; an agent that predates whole_ring answers with one flow's frames and
 * no RING flag. Called on the ingest thread with the lock held: copy, return. */
typedef void (*ns_collector_pkt_fn)(void *ud, uint64_t tag, const uint8_t *data, size_t len,
                                    const char *error, unsigned flags);

/* Set the answer callback of `channel` (under the lock, or before ns_collector_run()). */
void ns_collector_packets_fn(ns_collector_t *self, unsigned channel, ns_collector_pkt_fn fn,
                             void *ud);

/* Queue a request (under the lock); the ingest loop sends it within WAIT_MS. False when the
 * queue is full, the tag is not below 2^62 or the channel unknown. */
bool ns_collector_packets_ask(ns_collector_t *self, const ns_collector_pkt_ask_t *ask);

void ns_collector_destroy(ns_collector_t **self_p);

#endif /* NETSCOPE_COLLECTOR_H */

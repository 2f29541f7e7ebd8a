/* agent.h - netscope-agent: capture -> decode -> flows -> the collector.
 *
 * Two threads. The capture thread (the caller of ns_agent_run()) reads every capture (live
 * interfaces polled together, or a file replayed at its recorded speed or flat out), runs
 * frames through the pipeline (decode, flow engine: core/pipeline.h) and the ring of recent
 * frames, and every export interval hands the exporter, through a lock-free queue, the
 * flows that changed and those that ended, already encoded (one protobuf entry each), plus
 * interface counters. The exporter thread owns the ZeroMQ link (transport.h): it coalesces
 * updates and keeps final records until acknowledged (outq.h), builds size-capped batches
 * with per-agent sequence numbers, sends Hello on every new session, heartbeats and
 * interface counters every second, and passes the collector's SetFilter and GetPackets
 * requests to the capture thread (which owns the captures and the ring) through a second
 * queue. Neither thread waits for the other: capture never blocks on the network.
 *
 * Lifecycle: ns_agent_new() (as root or with CAP_NET_RAW: opens the captures, reads the keys),
 * then the caller drops privileges (privs.h), then ns_agent_run() until ns_agent_stop() (a
 * signal handler may call it) or the end of a replayed file: every open flow is then written
 * as a final record (end_reason shutdown, or end_of_input for a file) and the exporter waits
 * up to export.drain_ms for the collector to acknowledge every final record.
 */
#ifndef NETSCOPE_AGENT_H
#define NETSCOPE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/agent_config.h"
#include "netscope/httpd.h"

typedef struct ns_agent ns_agent_t;

/* What a run did, for the exit summary and tests. */
typedef struct {
    uint64_t frames;
    uint64_t finals_produced, finals_acked, finals_dropped;
    uint64_t updates_produced, updates_sent, updates_dropped;
    uint64_t batches_sent, batches_resent, sessions;
    uint64_t kernel_drops;
    bool drained; /* every final record was acknowledged before exit */
} ns_agent_summary_t;

/* Open the captures and read the keys of `cfg` (checked with ns_agent_config_check(); the
 * agent keeps a pointer: `cfg` must outlive it). Returns a new agent owned by the caller, or
 * NULL with a sentence in errbuf (unknown interface, no permission, unreadable file, bad
 * filter, bad or readable-by-others secret key, bad endpoint, ...). */
ns_agent_t *ns_agent_new(const ns_agent_config_t *cfg, char *errbuf, size_t errlen);

/* Run until stopped (or the replayed file is done and drained). Returns 0, or 1 when the
 * capture failed or final records could not all be delivered. */
int ns_agent_run(ns_agent_t *self);

/* Ask a running agent to stop (async-signal-safe). */
void ns_agent_stop(ns_agent_t *self);

/* Ask a running agent to re-read its configuration file (async-signal-safe). */
void ns_agent_reload(ns_agent_t *self);

/* Builds a fresh configuration (defaults, file, command line) into `out` for a reload; false
 * with a sentence in errbuf when the file no longer reads. */
typedef bool (*ns_agent_reload_fn)(void *ud, ns_agent_config_t *out, char *errbuf, size_t errlen);

/* What SIGHUP does (ns_agent_reload()): call `fn` and apply what can change while running
 * (capture filter, log level); other changes are logged as needing a restart. Without a
 * reloader SIGHUP only logs. */
void ns_agent_set_reloader(ns_agent_t *self, ns_agent_reload_fn fn, void *ud);

/* The counters of the run (valid after ns_agent_run() returned). */
void ns_agent_summary(const ns_agent_t *self, ns_agent_summary_t *out);

/* The httpd handler of the agent's /metrics (Prometheus text; `ud` is the agent): the run's
 * counters as ns_agent_summary() gives them. Caveat: they are read while the agent's threads
 * write them, without synchronisation (plain counters, aligned 64-bit loads on the platforms
 * we run on; ThreadSanitizer would report it): a value may be a moment stale, and the set is
 * not one snapshot. Publishing them atomically is left to the agent's owners. Other paths:
 * 404; other methods: 405. */
void ns_agent_metrics_handle(void *ud, const ns_httpd_req_t *req, ns_httpd_resp_t *resp);

/* Free everything and NULL the pointer. NULL-safe. */
void ns_agent_destroy(ns_agent_t **self_p);

#endif /* NETSCOPE_AGENT_H */

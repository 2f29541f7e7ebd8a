/* detect.h - anomaly detectors over the merged flow stream, and the alerts they raise.
 *
 * Fed by the collector with every record the merge applied (ns_detect_update(): the record,
 * what the merge said about it, the agent) and ticked periodically (ns_detect_tick()). Pure
 * logic: time is passed in, no clock, no I/O, no threads; the caller serialises calls (the
 * collector's ingest thread, under its lock).
 *
 * Detectors (ns_detect_kind_t), each with a threshold on a count within a sliding window:
 *   syn_flood   per victim address and port: TCP connections whose originator sent a SYN and
 *               never completed the handshake (no ACK or data from it), minus handshakes
 *               completed later; distinct sources estimated (HyperLogLog)
 *   port_scan   per (source, destination): distinct destination ports opened (TCP SYN or UDP)
 *               in the window - vertical scans, REJ and S0 alike
 *   sweep       per source: distinct destinations on one (protocol, port) probed without
 *               success - TCP SYNs not completed (a completion later takes it back), UDP
 *               without a reply in the flow's first record - and ICMP echo requests (port
 *               8): horizontal sweeps. One alert per source whatever the ports
 *   icmp_flood  per victim address: ICMP packets of flows to it (both directions)
 *   udp_flood   per victim address: UDP packets of flows to it (both directions)
 *   dns_errors  per client: DNS answers NXDOMAIN or SERVFAIL
 *   spike       per agent interface: wire bytes per second against a learned baseline (an
 *               EWMA with time constant `window`): raised when a second's rate exceeds both
 *               `factor` x the baseline and `threshold` bytes/s, after a warm-up of 30 s
 * Under a flood of many small keys each counting detector raises its threshold to 5 times
 * the sketch's current noise (sketch.h), so that random subjects do not alert; the alert's
 * `threshold` says what was in force. Connection counts use the primary observation only (a connection seen by two agents counts
 * once); the spike detector counts what each agent saw.
 *
 * Memory is fixed at ns_detect_new() and does not grow with the addresses seen. Per counting
 * detector: a count-min sketch per window bucket (10 buckets per window) plus one for the
 * window, `sketch_width` x 4 counters each (sketch.h: overestimate at most 0.07% of the
 * events in the window with width 4096, probability 98%); for the distinct counts two Bloom
 * filters of 2^20 bits (one window each: a triple is counted once per window, and once the
 * filter holds ~300,000 triples in a window, false positives make distinct counts low); and
 * a table of `max_subjects` candidates: only subjects whose estimate reached the threshold
 * get one, so under a flood from 10 million random sources the table fills only with subjects
 * that are over the threshold. When it is full a new subject takes the place of the
 * candidate with the lowest value that is not alerting, else it is dropped and counted
 * (stats.subjects_dropped). ns_detect_memory() says what each detector holds.
 *
 * Alerts: one per (detector, subject) at a time. Life: raised (the first tick at or above the
 * threshold) -> ongoing (the next tick still at or above it) -> cleared (below the threshold
 * for `clear_after`). The callback of ns_detect_tick() gets every state change once
 * (changed = true) and, while an alert is ongoing, a refreshed copy every 5 s (changed =
 * false: value and evidence updated). Severity from value / threshold: < 3 low, < 10
 * medium, else high. Evidence: up to NS_ALERT_UIDS flow uids and NS_ALERT_AGENTS agents seen
 * in the subject's events after it became a candidate (the first events of an attack, before
 * the estimate reached the threshold, leave no uid).
 *
 * Configuration (collector TOML, [detect] and [detect.NAME]; collector_config.c): enabled,
 * threshold, window, exclude (a list of "ADDR", "ADDR/LEN" or "port N": events whose source
 * or destination is in a listed network, or whose destination port is listed, are not
 * counted); spike also has factor. ns_detect_configure() applies a new configuration at any
 * time (SIGHUP): counts are kept (a changed window starts empty); a detector turned off
 * stops counting and its alerts clear at the next tick.
 */
#ifndef NETSCOPE_DETECT_H
#define NETSCOPE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/config.h"
#include "netscope/flow_rec.h"
#include "netscope/merge.h"

typedef enum {
    NS_DETECT_SYN_FLOOD = 0,
    NS_DETECT_PORT_SCAN,
    NS_DETECT_SWEEP,
    NS_DETECT_ICMP_FLOOD,
    NS_DETECT_UDP_FLOOD,
    NS_DETECT_DNS_ERRORS,
    NS_DETECT_SPIKE,
    NS_DETECT_COUNT
} ns_detect_kind_t;

/* One detector's settings (ns_detect_config_t.rule[kind]). */
typedef struct {
    bool enabled;
    uint64_t threshold;   /* count within the window (spike: bytes/s floor) */
    uint64_t window_ns;   /* the sliding window (spike: the baseline's time constant) */
    double factor;        /* spike: times the baseline */
    ns_strlist_t exclude; /* "ADDR", "ADDR/LEN", "port N" */
} ns_detect_rule_t;

typedef struct {
    bool enabled;           /* all detectors */
    uint64_t clear_ns;      /* below threshold this long -> cleared */
    uint64_t max_subjects;  /* candidate subjects per detector */
    uint64_t sketch_width;  /* count-min counters per row (a power of two) */
    ns_detect_rule_t rule[NS_DETECT_COUNT];
} ns_detect_config_t;

/* Defaults (and why) are in detect.c next to the values. Strings: none. */
void ns_detect_config_default(ns_detect_config_t *c);

/* Check `cfg` as ns_detect_new() would (exclude entries, windows, sketch width): false with
 * a sentence naming the key. */
bool ns_detect_config_check(const ns_detect_config_t *cfg, char *errbuf, size_t errlen);

/* "syn_flood", "port_scan", "sweep", "icmp_flood", "udp_flood", "dns_errors", "spike". */
const char *ns_detect_kind_name(ns_detect_kind_t k);
/* The kind named `name`; false when none is. */
bool ns_detect_kind_parse(const char *name, ns_detect_kind_t *out);

/* ---- alerts -------------------------------------------------------------------------------- */

#define NS_ALERT_UIDS 8u
#define NS_ALERT_AGENTS 4u
#define NS_ALERT_TEXT 112u
#define NS_ALERT_AGENT_MAX 65u /* agent id, NUL included */

typedef enum { NS_ALERT_RAISED = 0, NS_ALERT_ONGOING, NS_ALERT_CLEARED } ns_alert_state_t;

/* An evidence flow as its agent knows it: enough to ask that agent for its packets. */
typedef struct {
    uint8_t ip_ver, proto, iface;
    uint8_t agent;       /* index into ns_alert_t.agents; NS_ALERT_AGENTS: not kept */
    uint16_t vlan;
    uint16_t port[2];    /* originator, responder */
    ns_addr_t addr[2];
    uint64_t first_ns;   /* the flow's first packet, the agent's clock */
} ns_alert_flow_t;
typedef enum { NS_ALERT_LOW = 1, NS_ALERT_MEDIUM, NS_ALERT_HIGH } ns_alert_severity_t;

typedef struct {
    uint64_t id;                  /* unique, increasing (ns_detect_opts_t.id_base + n) */
    ns_detect_kind_t kind;
    ns_alert_state_t state;
    ns_alert_severity_t severity;
    char subject[NS_ALERT_TEXT];  /* what the alert is about, as text (dedup key) */
    char victim[NS_ALERT_TEXT];   /* address (and port) attacked; "" when not one */
    char source[NS_ALERT_TEXT];   /* address attacking; "" when not one (floods) */
    char detail[NS_ALERT_TEXT];   /* e.g. "ports 1-1024", "tcp/443" */
    uint64_t raised_ns, updated_ns, cleared_ns; /* cleared_ns 0 until cleared */
    uint64_t threshold, value, peak; /* value: the latest count (spike: bytes/s) */
    uint64_t window_ns;
    uint64_t sources;             /* distinct sources estimated (floods; 0 otherwise) */
    uint32_t n_uids, n_agents;
    char uids[NS_ALERT_UIDS][NS_FLOW_UID_LEN + 1];
    ns_alert_flow_t flows[NS_ALERT_UIDS]; /* the flow of each uid */
    char agents[NS_ALERT_AGENTS][NS_ALERT_AGENT_MAX];
    bool pcap;                    /* evidence packets are stored (set by the collector) */
} ns_alert_t;

/* "raised", "ongoing", "cleared"; "low", "medium", "high". */
const char *ns_alert_state_name(ns_alert_state_t s);
const char *ns_alert_severity_name(ns_alert_severity_t s);

/* The alert as one JSON object (no newline) into buf; returns its length, or 0 when it does
 * not fit. Times as unix seconds (float). */
size_t ns_alert_json(const ns_alert_t *a, char *buf, size_t len);

/* The alert as bytes to store (a tagged copy: magic, version, size): returns the length
 * written, 0 when `len` is too small. ns_alert_unpack() accepts only bytes of this version,
 * and checks them (strings terminated, counts and enums in range): false otherwise. */
#define NS_ALERT_PACKED (16u + sizeof(ns_alert_t))
size_t ns_alert_pack(const ns_alert_t *a, void *buf, size_t len);
bool ns_alert_unpack(const void *buf, size_t len, ns_alert_t *out);

/* ---- the detectors ------------------------------------------------------------------------- */

typedef struct ns_detect ns_detect_t;

typedef struct {
    uint64_t seed;    /* sketch hash seed: random in production, fixed in tests */
    uint64_t id_base; /* alert ids are id_base + 1, + 2, ... */
} ns_detect_opts_t;

typedef struct {
    uint64_t updates;                       /* records passed in */
    uint64_t events[NS_DETECT_COUNT];       /* counted events per detector */
    uint64_t raised[NS_DETECT_COUNT];       /* alerts raised per detector */
    uint64_t cleared[NS_DETECT_COUNT];
    uint32_t active[NS_DETECT_COUNT];       /* alerts raised or ongoing now */
    uint64_t subjects_dropped[NS_DETECT_COUNT]; /* candidate table full */
    uint64_t excluded[NS_DETECT_COUNT];     /* events left out by exclude lists */
    uint64_t threshold_raised[NS_DETECT_COUNT]; /* checks where the sketch's noise raised the
                                                 * threshold (a flood of small keys) */
} ns_detect_stats_t;

/* Detectors for config `cfg` (copied; the excludes parsed). Returns NULL with a sentence in
 * errbuf (a malformed exclude entry, out of memory). The caller owns the result. */
ns_detect_t *ns_detect_new(const ns_detect_config_t *cfg, const ns_detect_opts_t *o,
                           char *errbuf, size_t errlen);
void ns_detect_destroy(ns_detect_t **self_p);

/* Apply a new configuration (see the file comment). False with a sentence in errbuf when it
 * is malformed: the old one stays. */
bool ns_detect_configure(ns_detect_t *self, const ns_detect_config_t *cfg, char *errbuf,
                         size_t errlen);

/* One record the merge handled (rc and info from ns_merge_update_info()), received at
 * `now_ns`, from agent `agent` (its id; may be NULL). Records the merge ignored are skipped. */
void ns_detect_update(ns_detect_t *self, const char *agent, const ns_flow_rec_t *rec,
                      ns_merge_rc_t rc, const ns_merge_info_t *mi, uint64_t now_ns);

/* Receives an alert that changed (see the file comment); `a` is valid during the call. */
typedef void (*ns_detect_alert_fn)(void *ud, const ns_alert_t *a, bool changed);

/* Slide the windows to `now_ns`, evaluate every candidate and call `fn` for alerts raised,
 * going on and cleared. Call it every 250 ms or so; alerts are raised at a tick. */
void ns_detect_tick(ns_detect_t *self, uint64_t now_ns, ns_detect_alert_fn fn, void *ud);

/* Call `fn` with every alert raised or ongoing (changed = false); stops when fn returns
 * false. */
void ns_detect_active_each(const ns_detect_t *self, bool (*fn)(void *ud, const ns_alert_t *a),
                           void *ud);

void ns_detect_stats(const ns_detect_t *self, ns_detect_stats_t *out);

/* Bytes held by detector `k` (sketches, filters, candidate table). */
size_t ns_detect_memory(const ns_detect_t *self, ns_detect_kind_t k);

#endif /* NETSCOPE_DETECT_H */

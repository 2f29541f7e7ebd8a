/* merge.h - one live flow view over all agents: each connection once, with every agent's
 * observation of it, and the packets lost between two observers.
 *
 * Agents report flows as ns_flow_rec_t records (update, interim, final) carrying cumulative
 * counters. The merge keys them by the canonical flow key (flow_key.h: both directions give
 * one key; addresses, ports, protocol, IP version and VLAN, not the agent's interface) and
 * keeps, per merged flow, one OBSERVATION per agent that reported it: the agent, the agent's
 * flow uid and the scalars of its latest record (transactions are not copied; the record is
 * the caller's and may go away after ns_merge_update() returns).
 *
 * Which merged flow a record belongs to, in this order:
 *   1. the one holding the observation (agent, uid): the record updates it;
 *   2. else one with the same key, no observation from this agent, and a time span that
 *      overlaps the record's (first_ns..last_ns, both on the collector's clock, widened by
 *      opts.tolerance_ns): another agent saw the same connection, the record joins it;
 *   3. else a new merged flow. So a new connection reusing a 5-tuple (a new uid from an agent
 *      whose previous observation with that key is closed) starts a new merged flow, and so do
 *      two agents seeing one 5-tuple at times that do not overlap.
 * A new uid from an agent whose observation with the same key is still open means the agent
 * ended that flow without the collector seeing its final (dropped or still in flight): the
 * open observation is closed as SUPERSEDED (a final arriving later still applies to it).
 *
 * Applying a record replaces its observation's state, unless it is stale: last_ns older than
 * the stored one, or fewer packets in either direction (a resent batch, a reordered one).
 * Stale records are ignored and counted; so is a final for an observation already final
 * (a duplicate final). A final closes its observation.
 *
 * Totals count a connection once. Per direction, the packets and bytes of a merged flow are
 * those of ONE observation: the sender's, i.e. the observation of the agent that owns the
 * direction's source address (agents register their addresses with ns_merge_agent_add());
 * when no observing agent owns it, the observation with the most packets in that direction.
 * Loss per direction = sender's count - receiver's count (clamped at 0), where the receiver
 * is the observation of the agent owning the destination address, else (fallback, e.g. two
 * taps that own neither end) the other observation with the fewest packets. It is exact once
 * both observations are final; before that it is only as good as the two counts are
 * simultaneous, so the view gives both observations' update times (ns_merge_loss_t).
 *
 * Orientation: agents may disagree on who originated a connection (one saw the SYN, one came
 * in mid-stream). Counters are stored by canonical key side; a merged flow takes its
 * orientation from the first observation that saw the start of the connection (no
 * NS_FLOW_Q_MIDSTREAM), else from its first observation, and every observation in a view is
 * turned to it (ns_merge_obs_t.flipped says the agent saw it the other way round).
 *
 * Design: fixed memory, allocated by ns_merge_new(): `capacity` merged flows, a pool of
 * `obs_capacity` observations, a chained hash index on the key (seeded by the caller; merged
 * flows with one key share a chain, so finding the right one walks only that chain), and two
 * queues: live flows in least-recently-updated order, closed flows (every observation final
 * or superseded) in order of closing. ns_merge_expire() pops closed flows whose linger time
 * has passed (and, with opts.idle_timeout_ns, live flows not updated for that long: an agent
 * that died never sends its finals), handing each to the emit callback first. When the flows
 * or the observation pool are full, a flow is evicted to make room: the oldest closed one if
 * any (it is finished; only a late observation could still have joined it), else the least
 * recently updated live one; it goes to the callback too. Time is passed in; no clock, no
 * threads, no I/O.
 *
 * Clocks: agents' first/last times are on their own clocks. ns_merge_agent_clock() gives an
 * agent's offset (collector time - agent time, from the inventory); matching and the merged
 * first/last seen use agent time + offset. Observations keep the agent's own times.
 *
 * Caveats: an agent is a small index (the inventory's, 0 .. max_agents-1); if an index is
 * reused for another agent, observations made under the old one stay attributed to it. When
 * two observing agents registered the same address, the earlier observation owns it. At most NS_MERGE_OBS_MAX
 * agents per connection: further observers are counted (obs_dropped) and ignored. The emit
 * callback runs inside ns_merge_update() (evictions), ns_merge_expire() and ns_merge_flush();
 * it may read its argument but must not call into the merge.
 */
#ifndef NETSCOPE_MERGE_H
#define NETSCOPE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"
#include "netscope/flow_key.h"
#include "netscope/flow_rec.h"
#include "netscope/host_addr.h"

#define NS_MERGE_NONE UINT32_MAX           /* no merged flow (ids, iteration ends) */
#define NS_MERGE_OBS_MAX 4u                /* observations (agents) per merged flow */
#define NS_MERGE_AGENT_ADDRS_MAX 128u      /* addresses one agent can register */
#define NS_MERGE_MAX_AGENTS (1u << 16)
#define NS_MERGE_MAX_CAPACITY (1u << 26)   /* merged flows; observations at most 4x that */
#define NS_MERGE_TOLERANCE_DEFAULT_NS (2ull * 1000000000ull)
#define NS_MERGE_IDLE_DEFAULT_NS (600ull * 1000000000ull)

typedef struct {
    uint32_t capacity;        /* merged flows held at most (1 .. NS_MERGE_MAX_CAPACITY) */
    uint32_t obs_capacity;    /* observations held at most (0: 2 x capacity; at least
                               * NS_MERGE_OBS_MAX, at most 4 x NS_MERGE_MAX_CAPACITY) */
    uint32_t max_agents;      /* agent indexes are 0 .. max_agents-1 (1 .. NS_MERGE_MAX_AGENTS) */
    uint64_t seed;            /* hash seed: random in production, fixed in tests */
    uint64_t tolerance_ns;    /* clock slack when matching two agents' time spans */
    uint64_t idle_timeout_ns; /* ns_merge_expire() removes live flows not updated this long
                               * (0: never; keep it well above the agents' idle timeouts) */
} ns_merge_opts_t;

/* Why a merged flow leaves the view (passed to the emit callback). */
typedef enum {
    NS_MERGE_END_CLOSED = 0, /* every observation closed, linger time passed */
    NS_MERGE_END_IDLE,       /* not updated for opts.idle_timeout_ns */
    NS_MERGE_END_EVICTED,    /* room was needed */
    NS_MERGE_END_FLUSH,      /* ns_merge_flush() */
} ns_merge_end_t;

/* What ns_merge_update() did with a record. */
typedef enum {
    NS_MERGE_NEW = 0,    /* started a new merged flow */
    NS_MERGE_JOINED,     /* a new observation of an existing merged flow (a second agent) */
    NS_MERGE_APPLIED,    /* replaced the state of the agent's observation */
    NS_MERGE_STALE,      /* older than the observation's state (or after its final): ignored */
    NS_MERGE_DUP_FINAL,  /* a final for an observation already final: ignored */
    NS_MERGE_TOO_MANY,   /* the flow has NS_MERGE_OBS_MAX observations: ignored */
    NS_MERGE_INVALID,    /* agent out of range, IP version not 4/6, unknown kind: ignored */
} ns_merge_rc_t;

typedef enum {
    NS_MERGE_LIVE = 0,   /* some observation is still open */
    NS_MERGE_ALL_FINAL,  /* every observation final or superseded: lingering until expiry */
} ns_merge_state_t;

/* One agent's observation: the scalars of its latest applied record. Per-direction arrays are
 * in the MERGED flow's orientation (0: merged orig -> resp); conn_state and history are the
 * agent's strings, in the agent's own orientation (see `flipped`). */
typedef struct {
    uint32_t agent;               /* agent index */
    char uid[NS_FLOW_UID_LEN + 1]; /* the agent's flow uid */
    uint8_t kind;                 /* ns_flow_rec_kind_t of the latest record */
    uint8_t end_reason;           /* ns_flow_end_t of a final */
    uint8_t quality;              /* NS_FLOW_Q_* */
    bool final;                   /* the agent ended the flow */
    bool superseded;              /* closed without a final (see the file comment) */
    bool flipped;                 /* the agent's originator is the merged responder */
    uint64_t first_ns, last_ns;   /* first and last packet, the agent's clock */
    uint64_t update_ns;           /* collector time the latest record was applied */
    uint64_t pkts[2], wire_bytes[2], ip_bytes[2], payload_bytes[2], app_bytes[2];
    uint8_t tcp_flags[2];
    uint32_t retrans[2];
    uint64_t rtt_hs_ns;           /* handshake RTT as this agent measured it (0: none) */
    uint32_t rtt_n;               /* running RTT samples the agent took */
    char conn_state[NS_FLOW_STATE_MAX];
    char history[NS_FLOW_HISTORY_MAX];
} ns_merge_obs_t;

/* Packets lost between two observers of one direction. */
typedef struct {
    bool known;               /* two or more observations: sender and receiver chosen */
    bool sender_owned;        /* the sender's agent owns the source (else: most packets) */
    bool receiver_owned;      /* the receiver's agent owns the destination (else: fewest) */
    bool exact;               /* both observations final: the counts are complete */
    uint8_t sender, receiver; /* indexes into ns_merge_flow_t.obs */
    uint64_t pkts;            /* sender's packets - receiver's, clamped at 0 */
    uint64_t ip_bytes;        /* the same for IP bytes (wire bytes differ by link layer) */
    uint64_t sender_update_ns, receiver_update_ns; /* when each count was applied */
} ns_merge_loss_t;

/* A merged flow as readers see it: a copy, valid as long as the caller keeps it. */
typedef struct {
    uint32_t id;                 /* for ns_merge_view(); reused after the flow is removed */
    uint64_t serial;             /* 1, 2, ... per merged flow created: never reused */
    ns_flow_key_t key;
    ns_merge_state_t state;
    ns_addr_t orig_h, resp_h;    /* merged orientation */
    uint16_t orig_p, resp_p;
    char service[NS_FLOW_SERVICE_MAX];  /* the first observation's that had one */
    char community_id[NS_FLOW_CID_MAX];
    uint64_t first_ns, last_ns;  /* earliest first / latest last packet, collector clock */
    uint64_t update_ns;          /* latest applied record, collector time */
    uint64_t closed_ns;          /* when it became ALL_FINAL (0 while live) */
    /* totals, each connection counted once (see the file comment) */
    uint64_t pkts[2], wire_bytes[2], ip_bytes[2], payload_bytes[2], app_bytes[2];
    uint8_t total_from[2];       /* the observation each direction's totals come from */
    ns_merge_loss_t loss[2];
    uint32_t n_obs;
    ns_merge_obs_t obs[NS_MERGE_OBS_MAX];
} ns_merge_flow_t;

typedef struct {
    uint64_t updates;      /* records passed to ns_merge_update() */
    uint64_t applied;      /* records whose state was taken (NEW + JOINED + APPLIED) */
    uint64_t stale;        /* NS_MERGE_STALE */
    uint64_t dup_finals;   /* NS_MERGE_DUP_FINAL */
    uint64_t obs_dropped;  /* NS_MERGE_TOO_MANY */
    uint64_t invalid;      /* NS_MERGE_INVALID */
    uint64_t created;      /* merged flows created */
    uint64_t joined;       /* observations that joined another agent's merged flow */
    uint64_t superseded;   /* observations closed by a newer uid of the same agent */
    uint64_t evicted;      /* merged flows removed to make room */
    uint64_t expired_closed, expired_idle; /* removed by ns_merge_expire() */
    uint32_t flows;        /* merged flows held now */
    uint32_t flows_multi;  /* ... of which with two or more observations */
    uint32_t observations; /* observations held now */
} ns_merge_stats_t;

typedef struct ns_merge ns_merge_t;

/* Receives each merged flow leaving the view, with why. `flow` is valid during the call. */
typedef void (*ns_merge_emit_fn)(void *ud, const ns_merge_flow_t *flow, ns_merge_end_t why);

/* Defaults: 262,144 flows, observations 2 x that, 1024 agents, seed 0, 2 s tolerance,
 * 600 s idle timeout. */
void ns_merge_opts_default(ns_merge_opts_t *o);

/* A merge for options `o`. `emit` (may be NULL: flows then leave silently) is called with
 * `ud`. Returns a new merge owned by the caller, or NULL with a sentence in errbuf (an option
 * out of range, out of memory). */
ns_merge_t *ns_merge_new(const ns_merge_opts_t *o, ns_merge_emit_fn emit, void *ud,
                         char *errbuf, size_t errlen);

/* Free the merge (flows still held are not emitted: ns_merge_flush() first) and NULL the
 * pointer. NULL-safe. */
void ns_merge_destroy(ns_merge_t **self_p);

/* Register the addresses of agent `agent`'s host (replacing any it had): the agent owns them
 * when totals and loss pick sender and receiver. Returns 0, NS_EINVAL (agent out of range, an
 * address neither IPv4 nor IPv6: nothing changed) or NS_EFULL (more than
 * NS_MERGE_AGENT_ADDRS_MAX addresses: the first ones kept). */
ns_err_t ns_merge_agent_add(ns_merge_t *self, uint32_t agent, const ns_host_addr_t *addrs,
                            size_t n);

/* Forget agent `agent`'s addresses and clock offset. Its observations stay. */
void ns_merge_agent_del(ns_merge_t *self, uint32_t agent);

/* Set agent `agent`'s clock offset (collector time - agent time, ns). Returns 0 or NS_EINVAL. */
ns_err_t ns_merge_agent_clock(ns_merge_t *self, uint32_t agent, int64_t offset_ns);

/* Apply record `rec` from agent `agent`, received at collector time `now_ns` (see the file
 * comment for which flow it goes to and when it is ignored). Only the record's scalars are
 * read, during the call. When `id` is not NULL it receives the merged flow's id (NS_MERGE_NONE
 * when the record was invalid). May evict a flow, calling the emit callback. */
ns_merge_rc_t ns_merge_update(ns_merge_t *self, uint32_t agent, const ns_flow_rec_t *rec,
                              uint64_t now_ns, uint32_t *id);

/* What ns_merge_update_info() tells about the record it applied: enough for the collector to
 * store it (which connection, first observer or not) and to add what it brought to the time
 * series (counts since the observation's previous state). */
typedef struct {
    uint32_t id;             /* the merged flow (NS_MERGE_NONE when the record was invalid) */
    uint64_t serial;         /* the merged flow's serial (0 when invalid) */
    bool first_observer;     /* the record's agent made the flow's first observation */
    uint8_t n_obs;           /* observations of the flow after the update */
    uint64_t d_pkts;         /* packets added since the observation's previous state, both ways */
    uint64_t d_wire_bytes;   /* wire bytes, the same */
    uint32_t d_retrans;      /* retransmissions, the same */
    uint64_t d_pkts_dir[2];  /* d_pkts per direction, in the RECORD's orientation */
    uint64_t d_bytes_dir[2]; /* d_wire_bytes, the same */
    uint32_t d_retrans_dir[2];
    uint32_t d_rtt_n;        /* running RTT samples added */
    bool had_rtt;            /* the observation had a handshake RTT before this record */
} ns_merge_info_t;

/* ns_merge_update(), filling `info` (not NULL). Deltas are 0 for stale or ignored records. */
ns_merge_rc_t ns_merge_update_info(ns_merge_t *self, uint32_t agent, const ns_flow_rec_t *rec,
                                   uint64_t now_ns, ns_merge_info_t *info);

/* Remove, after handing each to the emit callback: closed flows that closed at least
 * `linger_ns` before `now_ns` (NS_MERGE_END_CLOSED), then, when opts.idle_timeout_ns is set,
 * live flows not updated for that long (NS_MERGE_END_IDLE). Costs O(flows removed + 1). */
void ns_merge_expire(ns_merge_t *self, uint64_t now_ns, uint64_t linger_ns);

/* Hand every flow held to the emit callback (NS_MERGE_END_FLUSH) and remove it. */
void ns_merge_flush(ns_merge_t *self);

/* Iterate over the flows held: pass NS_MERGE_NONE for the first; returns the next id, or
 * NS_MERGE_NONE at the end. Ids ascend; the merge must not change during an iteration. */
uint32_t ns_merge_next(const ns_merge_t *self, uint32_t prev);

/* Iterate over the flows held with key `key` (either direction's key: keys are canonical):
 * pass NS_MERGE_NONE for the first; returns the next id or NS_MERGE_NONE. O(1) expected. */
uint32_t ns_merge_find(const ns_merge_t *self, const ns_flow_key_t *key, uint32_t prev);

/* Fill `out` with flow `id` (totals, loss and observations computed now). Returns false when
 * no flow with that id is held. */
bool ns_merge_view(const ns_merge_t *self, uint32_t id, ns_merge_flow_t *out);

/* Fill `out` with the counters. */
void ns_merge_stats(const ns_merge_t *self, ns_merge_stats_t *out);

/* "new", "joined", "applied", "stale", "dup_final", "too_many", "invalid". */
const char *ns_merge_rc_name(ns_merge_rc_t rc);

/* "closed", "idle", "evicted", "flush". */
const char *ns_merge_end_name(ns_merge_end_t why);

#endif /* NETSCOPE_MERGE_H */

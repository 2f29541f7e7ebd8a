/* inventory.h - the agents a collector knows: who they are, what they capture, how they fare.
 *
 * One entry per agent id, made by the agent's Hello and kept up to date by every message that
 * follows: Hello (identity, interfaces), FlowBatch (sequence number, send time),
 * InterfaceStats (per-interface counters) and Heartbeat (the agent's health). Entries are
 * plain structs (ns_inventory_agent_t) the caller reads directly for its dumps.
 *
 * Identity: an id is bound to the key fingerprint of its first Hello. A Hello with the same
 * id and a DIFFERENT fingerprint is reported (NS_INV_KEY_MISMATCH) and changes nothing: two
 * machines claiming one name, or a stolen name, must not be merged into one agent. Ids and
 * fingerprints too long to store are refused, never truncated (two fingerprints that differ
 * only past the cut would compare equal).
 *
 * Sequence numbers: the inventory owns a seqtrack (seqtrack.h) per agent. A Hello with the
 * same `instance` as before is a reconnect: tracking goes on and the agent's resent batches
 * are found duplicate. A Hello whose instance differs from the one known (both non-zero) is a
 * restarted agent process (numbers start again at 1): tracking, interface counters and
 * health are reset. A Heartbeat's
 * lowest held number declares the batches below it that never arrived lost.
 *
 * Clock offset: each FlowBatch or Heartbeat with a send time gives a sample of (collector
 * receive time - agent send time) = true offset + network delay + queueing. Delay only ever
 * adds, so the estimate is the MINIMUM over the last NS_INV_CLOCK_SAMPLES samples: the one
 * least inflated by delay, while a window (not all history) lets a stepped or drifting agent
 * clock be followed. It includes the smallest one-way delay seen (sub-millisecond on a LAN).
 * Resent batches keep their original send time and so give large samples, which the minimum
 * ignores.
 *
 * Design: fixed capacity (max_agents, given at creation) with everything allocated by
 * ns_inventory_new(); ids are found through a chained hash (FNV-1a: ids come from
 * authenticated agents, not from arbitrary peers). Time is passed in.
 *
 * Caveats: `connected` is the inventory's belief: set by any message, cleared by
 * ns_inventory_disconnect() or by ns_inventory_expire() after a silence (ZeroMQ reconnects
 * on its own and does not tell). Interface counters are the agent's cumulative values as last
 * reported; a restarted agent's start from zero.
 */
#ifndef NETSCOPE_INVENTORY_H
#define NETSCOPE_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"
#include "netscope/host_addr.h"
#include "netscope/seqtrack.h"

#define NS_INV_NONE UINT32_MAX     /* no agent */
#define NS_INV_MAX_AGENTS (1u << 16)
#define NS_INV_ID_MAX 64u          /* id length, NUL included */
#define NS_INV_FPR_MAX 96u         /* key fingerprint length, NUL included */
#define NS_INV_HOST_MAX 256u       /* hostname, NUL included (longer ones are cut) */
#define NS_INV_VERSION_MAX 32u     /* version, NUL included (longer ones are cut) */
#define NS_INV_IFACES_MAX 16u      /* interfaces per agent (more are left out) */
#define NS_INV_IFNAME_MAX 16u      /* interface name, NUL included (IFNAMSIZ) */
#define NS_INV_IF_ADDRS_MAX 8u     /* addresses per interface (more are left out) */
#define NS_INV_CLOCK_SAMPLES 32u   /* clock samples the offset is the minimum of */

/* An interface as a Hello describes it (input of ns_inventory_hello()). */
typedef struct {
    const char *name;             /* NUL-terminated; cut to NS_INV_IFNAME_MAX - 1 */
    uint32_t link_type;           /* DLT_* of the capture */
    uint32_t snaplen;
    const ns_host_addr_t *addrs;  /* the interface's addresses (n_addrs of them) */
    size_t n_addrs;
} ns_inventory_iface_hello_t;

/* What a Hello says (input of ns_inventory_hello()). Strings are NUL-terminated, NULL = "". */
typedef struct {
    const char *hostname;
    const char *version;
    uint64_t instance;            /* changes when the agent process restarts (e.g. its start
                                   * time); 0 = unknown, never taken for a restart */
    uint64_t send_ns;             /* agent clock when sent; 0 = no clock sample */
    const ns_inventory_iface_hello_t *ifaces;
    size_t n_ifaces;
} ns_inventory_hello_t;

/* Latest InterfaceStats of one interface, cumulative as the agent counts them. */
typedef struct {
    uint64_t pkts, bytes;
    uint64_t kernel_drops;        /* dropped by the kernel (ring full) */
    uint64_t if_drops;            /* dropped by the interface / driver */
} ns_inventory_ifstats_t;

/* An interface of an agent (stored). */
typedef struct {
    char name[NS_INV_IFNAME_MAX];
    uint32_t link_type;
    uint32_t snaplen;
    uint32_t n_addrs;
    ns_host_addr_t addrs[NS_INV_IF_ADDRS_MAX];
    ns_inventory_ifstats_t stats;
    uint64_t stats_ns;            /* collector time of the latest stats (0: none yet) */
} ns_inventory_iface_t;

/* What a Heartbeat says (input of ns_inventory_heartbeat(), and stored as the latest). */
typedef struct {
    uint64_t send_ns;             /* agent clock when sent; 0 = no clock sample */
    uint64_t lowest_held_seq;     /* the lowest batch number the agent can still (re)send: its
                                   * oldest held batch, or its next number when it holds none;
                                   * 0 = not said */
    uint32_t queue_depth;         /* batches waiting in the agent's send queue */
    uint64_t batches_sent, batches_dropped;
    uint64_t updates_dropped, finals_dropped;
    uint64_t flows_active;
    uint64_t evictions;           /* the agent's flow-table evictions */
    double cpu_pct;               /* the agent process's CPU use, percent of one core */
} ns_inventory_health_t;

/* One agent (stored; read it through ns_inventory_get()). */
typedef struct {
    char id[NS_INV_ID_MAX];
    char fingerprint[NS_INV_FPR_MAX];
    char hostname[NS_INV_HOST_MAX];
    char version[NS_INV_VERSION_MAX];
    uint64_t instance;
    uint64_t first_seen_ns;       /* first Hello (collector time) */
    uint64_t hello_ns;            /* latest Hello */
    uint64_t last_seen_ns;        /* latest message of any kind */
    bool connected;
    uint64_t disconnected_ns;     /* when last marked disconnected (0: never) */
    uint32_t hellos;              /* Hellos accepted */
    uint32_t restarts;            /* Hellos with a new instance */
    uint32_t key_mismatches;      /* Hellos refused for a different fingerprint */
    uint32_t n_ifaces;
    bool ifaces_truncated;        /* the Hello listed more interfaces or addresses than fit */
    ns_inventory_iface_t ifaces[NS_INV_IFACES_MAX];
    ns_inventory_health_t health; /* latest Heartbeat */
    uint64_t health_ns;           /* when it arrived (0: none yet) */
    uint64_t batches;             /* FlowBatch messages seen (duplicates included) */
    ns_seqtrack_stats_t seq;      /* lost / duplicate / reordered batches, ack point */
    bool clock_known;             /* at least one clock sample */
    int64_t clock_offset_ns;      /* collector time - agent time (see the file comment) */
    /* Counts from before the collector last restarted (ns_inventory_restore()): the agent's
     * totals are these plus the ones above. */
    uint64_t prior_batches, prior_lost, prior_duplicates, prior_reordered;
} ns_inventory_agent_t;

/* What ns_inventory_hello() did. */
typedef enum {
    NS_INV_NEW = 0,      /* first Hello of this id: registered */
    NS_INV_RECONNECTED,  /* known id, same fingerprint, same instance: details refreshed,
                          * sequence tracking goes on */
    NS_INV_RESTARTED,    /* known id, same fingerprint, new instance: details refreshed,
                          * sequence tracking, interface counters and health reset */
    NS_INV_KEY_MISMATCH, /* known id, DIFFERENT fingerprint: nothing changed, refuse it */
    NS_INV_FULL,         /* new id, but max_agents agents are known: refused */
    NS_INV_INVALID,      /* id or fingerprint empty, NULL or too long: refused */
} ns_inventory_rc_t;

typedef struct ns_inventory ns_inventory_t;

/* An inventory of at most `max_agents` agents (1 .. NS_INV_MAX_AGENTS), each tracking batch
 * numbers over a window of `seq_window` (0: NS_SEQTRACK_WINDOW_DEFAULT). Returns a new
 * inventory owned by the caller, or NULL with a sentence in errbuf. */
ns_inventory_t *ns_inventory_new(uint32_t max_agents, uint32_t seq_window, char *errbuf,
                                 size_t errlen);

/* Free the inventory and NULL the pointer. NULL-safe. */
void ns_inventory_destroy(ns_inventory_t **self_p);

/* Account a Hello from agent `id` authenticated with key `fingerprint`, received at `now_ns`
 * (`hello` NULL: it said nothing more).
 * On NEW, RECONNECTED and RESTARTED, *idx (when not NULL) receives the agent's index (stable
 * until ns_inventory_del()) and the agent is marked connected; otherwise *idx is NS_INV_NONE
 * (on KEY_MISMATCH the known agent's entry counts the refusal and is otherwise untouched). */
ns_inventory_rc_t ns_inventory_hello(ns_inventory_t *self, const char *id,
                                     const char *fingerprint, const ns_inventory_hello_t *hello,
                                     uint64_t now_ns, uint32_t *idx);

/* Index of agent `id`, or NS_INV_NONE. */
uint32_t ns_inventory_find(const ns_inventory_t *self, const char *id);

/* Agent `idx`, or NULL when no agent has that index. Valid until ns_inventory_del() of it or
 * ns_inventory_destroy(); its contents change with every message accounted. */
const ns_inventory_agent_t *ns_inventory_get(const ns_inventory_t *self, uint32_t idx);

/* Account a FlowBatch numbered `seq`, sent at agent time `send_ns` (0: no clock sample),
 * received at `now_ns`. Returns the seqtrack verdict (drop duplicates and invalid ones);
 * NS_SEQ_INVALID too when `idx` is not an agent. */
ns_seq_verdict_t ns_inventory_batch(ns_inventory_t *self, uint32_t idx, uint64_t seq,
                                    uint64_t send_ns, uint64_t now_ns);

/* Account a Heartbeat: store `h` as the agent's latest health, take its clock sample and
 * declare lost the batches below h->lowest_held_seq that never came. Returns 0 or NS_EINVAL
 * (`idx` is not an agent). */
ns_err_t ns_inventory_heartbeat(ns_inventory_t *self, uint32_t idx,
                                const ns_inventory_health_t *h, uint64_t now_ns);

/* Account InterfaceStats for interface `iface` (index in the agent's Hello list). Returns 0
 * or NS_EINVAL (no such agent or interface). */
ns_err_t ns_inventory_iface_stats(ns_inventory_t *self, uint32_t idx, uint32_t iface,
                                  const ns_inventory_ifstats_t *s, uint64_t now_ns);

/* The batch number to acknowledge to agent `idx` (0: none yet or no such agent). */
uint64_t ns_inventory_ack(const ns_inventory_t *self, uint32_t idx);

/* Every address of agent `idx`'s interfaces into `out` (at most `max`), for
 * ns_merge_agent_add(). Returns how many were written. */
size_t ns_inventory_addrs(const ns_inventory_t *self, uint32_t idx, ns_host_addr_t *out,
                          size_t max);

/* Mark agent `idx` disconnected at `now_ns` (the transport saw it go). */
void ns_inventory_disconnect(ns_inventory_t *self, uint32_t idx, uint64_t now_ns);

/* Mark disconnected every connected agent silent for at least `silence_ns` at `now_ns`.
 * Returns how many were marked. */
uint32_t ns_inventory_expire(ns_inventory_t *self, uint64_t now_ns, uint64_t silence_ns);

/* Forget agent `idx`; its index may be given to another agent. Returns 0 or NS_EINVAL. */
ns_err_t ns_inventory_del(ns_inventory_t *self, uint32_t idx);

/* Iterate over the agents: pass NS_INV_NONE for the first; returns the next index or
 * NS_INV_NONE. Indexes ascend. */
uint32_t ns_inventory_next(const ns_inventory_t *self, uint32_t prev);

/* Agents known now. */
uint32_t ns_inventory_count(const ns_inventory_t *self);

/* Bring back agent `saved` as a collector that restarted kept it (its history store): a
 * disconnected entry with its identity, first-seen time, interfaces and Hello counts, and its
 * batch counters carried in prior_* (sequence tracking starts from a new baseline: the agent's
 * next batch). Every field of `saved` is checked (it comes from disk): strings must be
 * terminated and fit, counts within their bounds; addresses beyond the counts are ignored.
 * NS_OK; NS_EINVAL for a malformed entry or an id already present; NS_EFULL. */
ns_err_t ns_inventory_restore(ns_inventory_t *self, const ns_inventory_agent_t *saved);

/* "new", "reconnected", "restarted", "key_mismatch", "full", "invalid". */
const char *ns_inventory_rc_name(ns_inventory_rc_t rc);

#endif /* NETSCOPE_INVENTORY_H */

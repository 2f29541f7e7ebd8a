/* agent_int.h - what the agent's threads share (see agent.h): the agent, the chunks the
 * capture thread hands the exporter, the requests going the other way. Internal to agent/. */
#ifndef NETSCOPE_AGENT_INT_H
#define NETSCOPE_AGENT_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/agent.h"
#include "netscope/capture.h"
#include "netscope/codec.h"
#include "netscope/outq.h"
#include "netscope/pipeline.h"
#include "netscope/sdnotify.h"
#include "netscope/pktring.h"
#include "netscope/spsc.h"
#include "netscope/transport.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define QUEUE_SLOTS 256u
#define FRAMES_PER_POLL 4096 /* frames read from one capture before looking at the others */
#define MAX_ADDRS 16
#define ENTRY_MAX (256u * 1024u) /* one encoded record, transactions included */
#define GET_PACKETS_DEFAULT 1000u
#define EXPORTER_WAIT_MS 20

enum { ITEM_UPDATE = 1, ITEM_TXN, ITEM_FINAL, ITEM_MSG };

/* ---- chunks and requests ------------------------------------------------------------------ */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
    bool last;      /* the capture side is done: no chunk follows */
    bool has_stats; /* the snapshot below is filled */
    ns_msg_iface_counters_t ifs[NS_AGENT_MAX_IFACES];
    uint32_t n_ifs;
    uint64_t flows_active, evictions;
} chunk_t;

typedef enum { CTL_SET_FILTER = 1, CTL_GET_PACKETS } ctl_type_t;

typedef struct {
    ctl_type_t type;
    uint32_t request_id;
    char *filter;             /* CTL_SET_FILTER (heap) */
    ns_msg_get_packets_t get; /* CTL_GET_PACKETS */
} ctl_t;

/* ---- the agent ---------------------------------------------------------------------------- */

typedef struct {
    ns_capture_t *cap;
    char name[NS_CODEC_IFNAME_MAX + 1];
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t pkts, bytes;
    ns_capture_counters_t counters;
    ns_msg_ifaddr_t addrs[MAX_ADDRS];
    uint32_t n_addrs;
} iface_t;

struct ns_agent {
    const ns_agent_config_t *cfg;
    char id[NS_CODEC_ID_MAX + 1];
    char hostname[NS_CODEC_HOSTNAME_MAX + 1];
    uint64_t start_ns;
    bool replay;
    double replay_factor;

    /* capture thread */
    iface_t ifs[NS_AGENT_MAX_IFACES];
    uint32_t n_ifs;
    ns_pipeline_t *pipe;
    ns_decode_cfg_t dcfg; /* the pipeline's tunnel ports, also used to find a flow's frames */
    ns_pktring_t *ring;
    ns_codec_t *ccodec;
    chunk_t *cur;
    uint8_t *entry; /* ENTRY_MAX bytes: one encoded record */
    uint8_t *reply; /* batch_cap bytes: one encoded reply */
    uint64_t updates_produced, finals_produced;
    uint64_t entries_refused;

    /* exporter thread */
    ns_link_t *link;
    ns_codec_t *xcodec;
    ns_outq_t *outq;
    uint8_t *batch;
    size_t batch_cap;
    uint64_t seq;
    uint8_t *pending; /* a message that met a full link, retried first */
    size_t pending_len;
    uint64_t pending_seq;
    uint64_t batches_sent, batches_dropped;
    uint64_t sessions;
    chunk_t stats; /* the latest counter snapshot */
    bool drained;

    /* between them */
    ns_spsc_t *to_exp, *to_cap;
    atomic_bool cap_done;
    volatile sig_atomic_t stop, reload;
    pthread_t exporter;

    ns_keypair_t keys;
    ns_key_t server_key;
    ns_agent_reload_fn reloader;
    void *reloader_ud;
    ns_watchdog_t watchdog; /* systemd WatchdogSec= pings from the capture loop */
    char *filter_now; /* the filter in force (reloads and SetFilter change it) */
};

/* ---- shared helpers (agent.c) ---------------------------------------------------------------- */

uint64_t ns_agent_wall_ns(void); /* CLOCK_REALTIME, ns */
uint64_t ns_agent_mono_ns(void); /* CLOCK_MONOTONIC, ns */
chunk_t *ns_agent_chunk_new(void);
void ns_agent_chunk_free(chunk_t *c);
/* Append an item (type, the flow's uid or NULL, `len` payload bytes) to `c`; returns where the
 * payload goes, or NULL when memory ran out (the chunk is then marked oom). */
uint8_t *ns_agent_chunk_item(chunk_t *c, uint8_t type, const char *uid, size_t len);

/* ---- the capture thread (agent_capture.c) ------------------------------------------------------
 */

/* The engine's record callback: encode `rec` into the current chunk. */
void ns_agent_on_record(void *ud, const ns_flow_engine_t *eng, uint32_t idx,
                        const ns_flow_rec_t *rec);
/* Read the live captures, or replay the file, until stopped; 0 or 1 on a capture failure. */
int ns_agent_capture_live(ns_agent_t *a);
int ns_agent_capture_replay(ns_agent_t *a);
/* Counters into the current chunk; the chunk to the exporter (`last`: the final one). */
void ns_agent_snapshot(ns_agent_t *a);
void ns_agent_hand_over(ns_agent_t *a, bool last);

/* ---- the exporter thread (agent_export.c) -------------------------------------------------------
 */

void *ns_agent_exporter_main(void *arg);

#endif /* NETSCOPE_AGENT_INT_H */

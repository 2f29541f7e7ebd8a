/* store.h - the collector's history: flows, time series, alerts and the agent inventory in
 * LMDB.
 *
 * The one module that includes lmdb.h (store/store.c and its helpers in store/). Embedded, no
 * server: a directory holding LMDB's data.mdb and lock.mdb.
 *
 * Threads. One WRITER thread, started by ns_store_open() (not in read-only mode), owns every
 * write transaction: the ingest thread hands it records and samples through a bounded queue
 * (ns_store_put_*(): copy in, never block; a full queue refuses and counts) and it commits
 * them in batches every opts.commit_ms. Readers (HTTP threads, `netscope history`) open read
 * transactions with MDB_NOTLS (ns_store_read_begin()), which never block the writer and see
 * the last committed batch.
 *
 * Records. The unit stored is one agent's record of one flow (final, or an interim snapshot of
 * a long flow at an active timeout): every field of ns_flow_rec_t (encoded with the wire
 * codec, so the schema is proto/netscope.proto) and its transactions, plus the meta data of
 * ns_store_meta_t: the agent that observed it, when it was received, and `conn`, the id the
 * collector gives one connection however many agents observed it. Records of one connection
 * from two agents share `conn`; the first agent's are `primary`. Lists and aggregates count
 * primary records only unless asked for all (a connection counts once); ns_store_flow_get()
 * returns a record with every observation of its connection.
 *
 * Key layout (every integer big-endian so that keys sort by it; fid = flow record id, 8 bytes,
 * assigned by the writer, increasing; t = the record's last_ns in ns; each sub-database is
 * documented again in store.c next to its code):
 *   "flows"   fid                                  -> record value (meta + codec bytes)
 *   "by_time" t(8) fid(8)                          -> ""
 *   "by_host" minute(8) ver(1) addr(16) t(8) fid(8) -> "" (orig and resp: two entries;
 *                                                     minute = t / 60 s: minute-major, see
 *                                                     store_key.h)
 *   "by_port" minute(8) port(2) t(8) fid(8)        -> ""   (resp port, and orig port when it
 *                                                            differs: ephemeral ports too)
 *   "by_agent" agent-name-len(1) name t(8) fid(8)  -> ""
 *   "by_cid"  hour(8) community-id-string 0 fid(8) -> "" (hour = t / 3600 s: hour-major,
 *   "by_uid"  hour(8) uid-string 0 fid(8)           -> ""  schema 4, see store_key.h)
 *   "by_conn" conn(8) fid(8)                       -> ""
 *   "series"  res(1) series-name-len(1) name bucket_start_s(8) -> ns_store_point_t
 *   "agents"  agent-id string                      -> opaque bytes (the collector's)
 *   "alerts"  alert-id(8)                          -> opaque bytes (the collector's: the
 *                                                     alert's latest state, ns_alert_pack(),
 *                                                     ~1.8 KB); not aged out
 *   "alert_pcaps" alert-id(8)                      -> a pcap file: the alert's evidence
 *                                                     packets (at most NS_STORE_PCAP_MAX)
 *   "meta"    name string                          -> value (schema version, counters)
 *   "top_host" bucket_min(8) span_min(1) ver(1) addr(16) -> bytes(8) pkts(8) flows(8)
 *                                                     (schema 2-4: per-host sums of primary
 *                                                     records by last_ns minute, in buckets
 *                                                     of 1, 10 and 60 minutes; see Top-N)
 *
 * Retention. Flows received more than opts.flow_keep_s ago (the collector's clock, not the
 * flow's own times: a replayed old capture is kept like live traffic) and series points older
 * than their resolution's keep time are deleted by the writer (a little per commit, oldest
 * first). The map may grow to opts.max_size; when a commit finds it full (MDB_MAP_FULL) the
 * writer deletes the flows received first (and their index entries) until a fraction of the
 * map is free, counts the event (stats.size_evictions, stats.size_evicted_flows) and commits
 * again: ingest continues.
 *
 * Top-N. The writer adds each primary record to its hosts' "top_host" sums (the bucket of
 * each span holding its last_ns) in the transaction that stores it, and retention subtracts
 * them in the one that deletes it (an entry whose flows reach 0 is deleted). ns_store_top()
 * by host reads the buckets lying wholly inside the window (largest first) and only the
 * records of its partial minutes at both ends, so its cost follows the hosts of the window,
 * not its records; its answer is exactly a scan's.
 *
 * Schema. "meta" holds the schema version (4); a store of another version is refused at open
 * with a sentence naming both (version 1 has no "top_host"; version 2 keys it span first:
 * either's top answers would be wrong; version 3 keys by_uid and by_cid by the string alone:
 * its uid lookups would find nothing).
 *
 * Resends. A record whose agent, uid, kind, last packet and counts equal a stored record's is
 * not stored again (stats.duplicates_skipped): an agent resends what a collector killed
 * before acknowledging it had committed (the collector acknowledges at ns_store_done()).
 *
 * Crash safety. Each batch is one LMDB transaction: after a SIGKILL or a crash the database
 * reopens with every committed batch whole and nothing of the one in flight. Sync modes
 * (opts.sync): NS_STORE_SYNC_FULL fsyncs at each commit (a power loss costs nothing
 * committed); NS_STORE_SYNC_META (MDB_NOMETASYNC, the default) fsyncs data but not the meta
 * page (a power loss may cost the last committed batch, never consistency); NS_STORE_SYNC_NONE
 * (MDB_NOSYNC) leaves flushing to the OS (a power loss may cost the last seconds, and with a
 * file system that reorders writes, may corrupt the database; a process crash costs nothing).
 */
#ifndef NETSCOPE_STORE_H
#define NETSCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"
#include "netscope/flow_rec.h"

#define NS_STORE_AGENT_MAX 64u     /* agent id bytes, NUL excluded */
#define NS_STORE_SERIES_MAX 80u    /* series name bytes, NUL excluded */
#define NS_STORE_CURSOR_MAX 40u    /* a paging cursor as text, NUL included */

typedef enum {
    NS_STORE_SYNC_META = 0, /* default */
    NS_STORE_SYNC_FULL,
    NS_STORE_SYNC_NONE,
} ns_store_sync_t;

/* Time-series resolutions. */
typedef enum {
    NS_STORE_RES_1S = 0,
    NS_STORE_RES_1M,
    NS_STORE_RES_1H,
    NS_STORE_RES_COUNT,
} ns_store_res_t;

struct ns_store_point; /* ns_store_point_t, below: declared here for on_rollup */

typedef struct {
    const char *dir;          /* created (mode 0750) when missing */
    bool readonly;            /* no writer thread; MDB_RDONLY; safe while a collector runs */
    uint64_t max_size;        /* bytes the map may grow to (default 1 GiB, >= 1 MiB) */
    uint32_t commit_ms;       /* writer batch interval (default 250) */
    ns_store_sync_t sync;
    uint32_t queue_items;     /* writer queue slots (default 65536) */
    uint64_t flow_keep_s;     /* flows kept this long after arrival (default 7 days; 0: size only) */
    uint64_t series_keep_s[NS_STORE_RES_COUNT]; /* default 3600, 7 days, 365 days (0: kept) */
    /* Called by the writer thread, after the commit holding it, for each 1-minute bucket of
     * each series once the minute is over (the ClickHouse sink forwards them). NULL: none.
     * A minute is over when a later second 60 s on has been written; buckets still open at
     * ns_store_close() are reported then. Late sums for a reported minute report it again
     * with the new total. */
    void (*on_rollup)(void *ud, const char *series, const struct ns_store_point *p);
    void *rollup_ud;
} ns_store_opts_t;

void ns_store_opts_default(ns_store_opts_t *o);

typedef struct ns_store ns_store_t;

/* Open (creating when missing and not read-only) the database in o->dir. Starts the writer
 * thread unless read-only. Returns NULL with a sentence in errbuf: unreadable or unwritable
 * directory, a database of another schema version, lock file trouble, out of memory. */
ns_store_t *ns_store_open(const ns_store_opts_t *o, char *errbuf, size_t errlen);

/* Commit what is queued, stop the writer, close. NULL-safe; NULLs the pointer. */
void ns_store_close(ns_store_t **self_p);

/* ---- writing (one producer thread: the collector's ingest) ---------------------------- */

typedef struct {
    char agent[NS_STORE_AGENT_MAX + 1]; /* agent id of the observer */
    uint64_t received_ns;               /* collector time the record arrived */
    uint64_t conn;                      /* connection id (see the file comment) */
    bool primary;                       /* the connection's first observer */
    uint8_t observers;                  /* agents that observed the connection so far */
} ns_store_meta_t;

/* Queue a final or interim record (updates are not stored: they are live state) with its
 * transactions. Copied (encoded) during the call. NS_OK; NS_EFULL when the queue is full (the
 * record is counted in stats.queue_drops); NS_EINVAL for an update record or one the codec
 * refuses. */
ns_err_t ns_store_put_flow(ns_store_t *self, const ns_flow_rec_t *rec, const ns_store_meta_t *m);

/* What one applied record added to the time series, on the collector's clock. The ingest
 * thread calls ns_store_account() for each; the store sums them per second (in the producer
 * thread, no lock) and queues each finished second's sums for the writer, which adds them to
 * the 1 s, 1 min and 1 h buckets. Series fed: "all", "agent:<id>:<iface>",
 * "proto:<tcp|udp|icmp|...>", "service:<name or none>". */
typedef struct {
    uint64_t now_ns;           /* when it happened (the bucket) */
    const char *agent;         /* the observer's id */
    uint8_t iface;             /* the observer's interface index */
    uint8_t proto;             /* IP protocol */
    const char *service;       /* "" when none */
    uint64_t pkts, bytes;      /* added since the flow's previous record (wire bytes) */
    bool counted;              /* counts in the global/proto/service series (primary view) */
    bool new_flow;             /* the record started a flow (counted in "new flows") */
    bool ended;                /* the record ended a flow */
    uint32_t rtt_us;           /* a handshake RTT measured by this record (0: none) */
    uint32_t retrans;          /* retransmissions added */
} ns_store_delta_t;

void ns_store_account(ns_store_t *self, const ns_store_delta_t *d);

/* Set the gauge "active flows" (live merged flows) at `now_ns`. */
void ns_store_active(ns_store_t *self, uint64_t now_ns, uint64_t active_flows);

/* Queue the persistent state of agent `id` (opaque bytes, at most 64 KiB). NS_OK, NS_EFULL,
 * NS_EINVAL. */
ns_err_t ns_store_put_agent(ns_store_t *self, const char *id, const void *data, size_t len);

/* Queue the latest state of alert `id` (opaque bytes, at most 64 KiB), replacing what was
 * stored under that id. NS_OK, NS_EFULL, NS_EINVAL. */
ns_err_t ns_store_put_alert(ns_store_t *self, uint64_t id, const void *data, size_t len);

/* Queue the evidence pcap of alert `id` (at most NS_STORE_PCAP_MAX bytes). NS_OK, NS_EFULL,
 * NS_EINVAL. */
#define NS_STORE_PCAP_MAX (256u * 1024u)
ns_err_t ns_store_put_alert_pcap(ns_store_t *self, uint64_t id, const void *data, size_t len);

/* Wait until everything queued before this call is committed, at most timeout_ms. True when
 * it is (false too when that batch could not be committed: stats.commit_failures). Producer
 * thread only: the sums of the second being accounted are queued first (a later part of the
 * same second is added to them). */
bool ns_store_sync(ns_store_t *self, uint32_t timeout_ms);

/* Acknowledging only what is committed. ns_store_ticket() (producer thread) names everything
 * queued so far; ns_store_done() (any thread) is true once all of it is committed, or its
 * batch failed (stats.commit_failures: logged by the writer). The collector acknowledges an
 * agent's batches when their ticket is done, so an agent resends whatever a crash lost. */
uint64_t ns_store_ticket(ns_store_t *self);
bool ns_store_done(ns_store_t *self, uint64_t ticket);

/* ---- reading (any thread) --------------------------------------------------------------- */

typedef struct ns_store_read ns_store_read_t;

/* A read transaction on the last committed state; NULL with a sentence on failure. Each
 * thread may hold one at a time; end it promptly (an open reader keeps old pages alive). */
ns_store_read_t *ns_store_read_begin(ns_store_t *self, char *errbuf, size_t errlen);
void ns_store_read_end(ns_store_read_t **rd_p);

/* Call `fn` for every stored agent (id, bytes); stops when fn returns false. */
void ns_store_agents_each(ns_store_read_t *rd,
                          bool (*fn)(void *ud, const char *id, const void *data, size_t len),
                          void *ud);

/* Call `fn` for stored alerts, newest (highest id) first, starting below `before_id` (0: from
 * the newest); stops when fn returns false. `data` is valid during the call. */
void ns_store_alerts_each(ns_store_read_t *rd, uint64_t before_id,
                          bool (*fn)(void *ud, uint64_t id, const void *data, size_t len),
                          void *ud);

/* The evidence pcap of alert `id`: `fn` gets its bytes (valid during the call). False when
 * none is stored. */
bool ns_store_alert_pcap(ns_store_read_t *rd, uint64_t id,
                         void (*fn)(void *ud, const void *data, size_t len), void *ud);

/* A stored record as readers see it: valid during the callback. */
typedef struct {
    uint64_t fid;
    ns_store_meta_t meta;
    const ns_flow_rec_t *rec; /* with its transactions */
} ns_store_flow_t;

typedef enum {
    NS_STORE_SORT_TIME_DESC = 0, /* newest last_ns first (default) */
    NS_STORE_SORT_TIME_ASC,
    NS_STORE_SORT_BYTES,         /* wire bytes both ways, most first */
    NS_STORE_SORT_PACKETS,
    NS_STORE_SORT_DURATION,
} ns_store_sort_t;

/* Which index answers a query (ns_store_plan()). */
typedef enum {
    NS_STORE_IDX_UID = 0,
    NS_STORE_IDX_CID,
    NS_STORE_IDX_HOST,
    NS_STORE_IDX_PORT,
    NS_STORE_IDX_AGENT,
    NS_STORE_IDX_TIME,
} ns_store_index_t;

typedef struct {
    uint64_t from_ns, to_ns;     /* the record's last_ns in [from_ns, to_ns); to_ns 0 = now */
    bool has_host;
    uint8_t host_ver;            /* 4 or 6 */
    ns_addr_t host;              /* either end */
    int32_t port;                /* either end; -1 = any */
    int16_t proto;               /* IP protocol; -1 = any */
    const char *agent;           /* NULL = any */
    const char *conn_state;      /* NULL = any */
    const char *service;         /* NULL = any; "" = none recognised */
    const char *community_id;    /* NULL = any */
    const char *uid;             /* NULL = any */
    bool all_observations;       /* also the non-primary records */
    /* Any further condition (the API's BPF filter): NULL = none. */
    bool (*match)(void *ud, const ns_flow_rec_t *rec);
    void *match_ud;
    ns_store_sort_t sort;
    uint32_t limit;              /* 1 .. 10000 (0: 100) */
    const char *cursor;          /* from a previous page's next_cursor; NULL or "" = first */
} ns_store_query_t;

/* The index ns_store_flows() uses for `q`: uid, else community id, else host, else port, else
 * agent, else time. Pure; tested on its own. */
ns_store_index_t ns_store_plan(const ns_store_query_t *q);
const char *ns_store_index_name(ns_store_index_t i);

typedef struct {
    uint32_t returned;
    uint64_t scanned;                      /* index entries looked at */
    ns_store_index_t index;
    char next_cursor[NS_STORE_CURSOR_MAX]; /* "" when there is no next page */
} ns_store_result_t;

/* Run `q`, calling `fn` for each record in order (at most q->limit; fn returning false stops
 * early). NS_OK; NS_EINVAL for a malformed cursor or bad limit (a sentence in errbuf);
 * NS_EIO for a database error. */
ns_err_t ns_store_flows(ns_store_read_t *rd, const ns_store_query_t *q,
                        bool (*fn)(void *ud, const ns_store_flow_t *f), void *ud,
                        ns_store_result_t *res, char *errbuf, size_t errlen);

/* The record with agent uid `uid` (the newest when there are several: interims and the final)
 * first, then every other record of its connection (other agents' observations), each through
 * `fn`. Returns the number of records given (0: not found). */
uint32_t ns_store_flow_get(ns_store_read_t *rd, const char *uid,
                           bool (*fn)(void *ud, const ns_store_flow_t *f), void *ud);

/* A time-series bucket's sums. */
typedef struct ns_store_point {
    uint64_t start_s;          /* bucket start, seconds since 1970 */
    uint64_t bytes, pkts;
    uint64_t new_flows, ended_flows;
    uint64_t active_max;       /* largest active-flows gauge seen in the bucket */
    uint64_t rtt_sum_us, rtt_n;
    uint64_t retrans;
} ns_store_point_t;

/* Points of series `name` between from_s and to_s with buckets of `step_s` (0: the finest
 * resolution still holding `from_s`; else the coarsest resolution not coarser than step_s,
 * re-bucketed to step_s). At most `cap` points into out[]; returns how many. `*res_used`
 * (may be NULL) receives the resolution read. */
size_t ns_store_series(ns_store_read_t *rd, const char *name, uint64_t from_s, uint64_t to_s,
                       uint64_t step_s, ns_store_point_t *out, size_t cap,
                       ns_store_res_t *res_used);

/* Names of stored series (for /api/v1/protocols and discovery): calls fn for each name with a
 * point in [from_s, to_s) at resolution `res`. */
void ns_store_series_names(ns_store_read_t *rd, ns_store_res_t res, uint64_t from_s,
                           uint64_t to_s, bool (*fn)(void *ud, const char *name), void *ud);

typedef enum { NS_STORE_TOP_BYTES = 0, NS_STORE_TOP_PACKETS, NS_STORE_TOP_FLOWS } ns_store_top_by_t;
typedef enum {
    NS_STORE_GROUP_HOST = 0, /* a record counts for both of its hosts */
    NS_STORE_GROUP_PAIR,     /* orig_h, resp_h */
    NS_STORE_GROUP_PORT,     /* the responder's port and protocol */
    NS_STORE_GROUP_SERVICE,
} ns_store_top_group_t;

typedef struct {
    char label[64];           /* "10.0.0.1", "10.0.0.1 10.0.0.2", "tcp/80", "http" */
    uint64_t bytes, pkts, flows;
} ns_store_top_row_t;

/* The n (<= cap) largest groups of primary records with last_ns in [from_ns, to_ns), by
 * `by`; returns how many rows. */
size_t ns_store_top(ns_store_read_t *rd, ns_store_top_by_t by, ns_store_top_group_t group,
                    uint64_t from_ns, uint64_t to_ns, ns_store_top_row_t *out, size_t cap);

typedef struct {
    uint64_t map_size;          /* bytes the map may use now */
    uint64_t max_size;          /* opts.max_size */
    uint64_t used_bytes;        /* pages in use x page size */
    uint64_t file_bytes;        /* data.mdb on disk */
    uint64_t flows;             /* records stored now */
    uint64_t commits, commit_failures;
    uint64_t records_written, agents_written, points_written;
    uint64_t duplicates_skipped; /* records stored already (an agent's resend): not again */
    uint64_t queue_drops;       /* refused: queue full */
    uint64_t queue_depth;       /* items waiting now */
    uint64_t age_deleted_flows, age_deleted_points;
    uint64_t size_evictions, size_evicted_flows;
    uint64_t last_commit_ns;    /* wall time of the last commit */
} ns_store_stats_t;

/* Counters (thread-safe snapshot). */
void ns_store_stats(ns_store_t *self, ns_store_stats_t *out);

#endif /* NETSCOPE_STORE_H */

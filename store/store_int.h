/* store_int.h - what the store's files share: the ns_store struct, the LMDB handles, the
 * writer queue and the readers' codec pool. Included by the store's .c files only (it includes lmdb.h).
 *
 * Files: store.c opens and closes the environment, counts, and begins read transactions;
 * store_write.c is the producer side (queue, per-second series sums) and the writer thread;
 * store_stage.c gathers a batch's index entries and writes them in key order; store_read.c
 * answers queries.
 */
#ifndef NETSCOPE_STORE_INT_H
#define NETSCOPE_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "netscope/codec.h"
#include "netscope/store.h"
#include "netscope/store_key.h"

/* 1: until 2026-12-05; 2: adds "top_host" (a store of version 1 lacks its sums and is
 * refused rather than answered wrongly); 3 (2026-12-06): top_host keys lead with the bucket,
 * not the span (a version 2 store's sums would be read as other buckets: refused too); 4
 * (2026-12-06): by_uid and by_cid keys lead with the hour of the record's end (a version 3
 * store's uid lookups would find nothing: refused too). */
#define NS_STORE_SCHEMA 4u

/* Sub-databases, in the order store.c opens them. */
enum {
    DB_FLOWS = 0,
    DB_BY_TIME,
    DB_BY_HOST,
    DB_BY_PORT,
    DB_BY_AGENT,
    DB_BY_CID,
    DB_BY_UID,
    DB_BY_CONN,
    DB_SERIES,
    DB_AGENTS,
    DB_ALERTS,
    DB_ALERT_PCAPS,
    DB_META,
    DB_TOP_HOST,
    DB_COUNT
};

/* Queue items: a type byte, three zero bytes, the payload length (host order), the payload,
 * padding to 8 bytes. */
enum { QI_FLOW = 1, QI_POINT, QI_AGENT, QI_ALERT, QI_ALERT_PCAP };
#define QI_HDR 8u

typedef struct {
    uint8_t *b;
    size_t len, cap;
    uint32_t items;
} ns_store_qbuf_t;

/* The per-second sums of one series in the producer. */
typedef struct {
    char name[NS_STORE_SERIES_MAX + 1];
    bool used;
    ns_store_point_t p;
} ns_store_acc_t;

#define NS_STORE_ACC_SLOTS 1024u

/* A finished-or-not 1-minute bucket the writer will report through on_rollup. */
typedef struct {
    char name[NS_STORE_SERIES_MAX + 1];
    ns_store_point_t p;
} ns_store_pending_t;

/* One staged entry (store_stage.c): the key's first 16 bytes as big-endian integers (for the
 * sort), then where its key and value lie in the stage's arena. */
typedef struct {
    uint64_t p0, p1;
    uint32_t off;
    uint16_t kn, vn;
} ns_store_sent_t;

/* The entries a batch will put into one tree; memory kept from batch to batch. */
typedef struct {
    ns_store_sent_t *e, *tmp; /* tmp: the radix sort's other half, cap entries too */
    size_t n, cap;
    uint8_t *arena;
    size_t used, acap;
} ns_store_stage_t;

/* A flow item of the batch being written: where it lies in `work`, and whether it repeats a
 * stored record (then it is skipped). */
typedef struct {
    uint32_t off;
    bool dup;
} ns_store_fitem_t;

/* A reader's reusable memory, kept for the next read transaction: a decode context and the
 * top-N group table (fresh pages for every query would cost a page fault per 4 KiB). */
typedef struct ns_store_codec_slot {
    ns_codec_t *codec;
    void *groups;
    size_t groups_cap;
    struct ns_store_codec_slot *next;
} ns_store_codec_slot_t;

struct ns_store {
    ns_store_opts_t o;
    char path[4096];
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    bool has_alerts; /* false: a read-only open of a store written before alerts existed */
    size_t psize;

    /* Readers hold it shared during a transaction; the writer takes it exclusively to grow
     * the map (mdb_env_set_mapsize needs no transaction open in the process). */
    pthread_rwlock_t resize_lock;

    /* ---- producer side (the ingest thread) ---- */
    ns_codec_t *enc;       /* encodes records */
    uint8_t *scratch;      /* one value being built */
    size_t scratch_cap;
    ns_store_acc_t *acc;   /* NS_STORE_ACC_SLOTS */
    uint64_t acc_s;        /* the second being summed */
    uint32_t acc_used;

    /* ---- the queue: the producer fills `fill`, the writer swaps it with its own ---- */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;    /* to the writer: work, sync, stop */
    pthread_cond_t donecond; /* to sync(): a batch was committed */
    ns_store_qbuf_t fill;
    size_t q_bytes_max;
    uint64_t enq_seq;        /* items accepted so far */
    uint64_t done_seq;       /* items whose batch is over (committed or failed) */
    uint64_t fail_lo, fail_hi; /* the last failed batch's items (fail_lo, fail_hi] */
    uint32_t sync_waiters;
    bool stop;
    pthread_t writer;
    bool writer_started;

    /* ---- writer thread only ---- */
    ns_store_qbuf_t work;
    uint64_t next_fid;
    uint64_t map_size;
    ns_store_pending_t *pending;
    size_t n_pending, cap_pending;
    uint64_t max_point_s;
    ns_store_stage_t stage[DB_COUNT]; /* the index trees' and top_host's entries */
    ns_store_stage_t dups;            /* the batch's times, for finding repeated records */
    void *dup_sigs;                   /* find_dups()'s candidates (DUP_SIGS_MAX) */
    ns_store_fitem_t *fitems;
    size_t n_fitems, cap_fitems;

    /* ---- readers' codec pool ---- */
    pthread_mutex_t pool_lock;
    ns_store_codec_slot_t *pool;

    /* ---- counters (stats_lock) ---- */
    pthread_mutex_t stats_lock;
    ns_store_stats_t st;
    atomic_uint_fast64_t queue_drops;
};

struct ns_store_read {
    ns_store_t *s;
    MDB_txn *txn;
    ns_store_codec_slot_t *slot; /* taken from the pool at the first decode */
    ns_flow_rec_t rec;           /* the record being handed to a callback */
    MDB_cursor *flows;           /* on "flows", for reading records in fid order */
    uint64_t flows_fid;          /* where it stands (0: nowhere) */
    uint64_t corrupt;            /* values skipped as unreadable */
};

/* store.c */
void ns_store_errf(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t ns_store_wall_ns(void);
/* Pages of data (every tree's branch, leaf and overflow pages) in `txn`. */
uint64_t ns_store_data_pages(ns_store_t *s, MDB_txn *txn);

/* store_write.c */
bool ns_store_writer_start(ns_store_t *s, char *errbuf, size_t errlen);
void ns_store_writer_stop(ns_store_t *s);

/* store_stage.c */
void ns_store_stage_clear(ns_store_stage_t *st);
void ns_store_stage_fini(ns_store_stage_t *st);
/* Add key k[0..kn) with value v[0..vn) (copied). A key of length 0 (one the caller could not
 * build) adds nothing and succeeds; false when memory is short. */
bool ns_store_stage_add(ns_store_stage_t *st, const uint8_t *k, size_t kn, const void *v, size_t vn);
/* Sort the entries in LMDB's default key order (equal keys in no particular order). */
void ns_store_stage_sort(ns_store_stage_t *st);
/* How the entries of one key become the value put (store_stage_write with a merge): the
 * values of entries [from, to) of the sorted stage and the value stored under the key (NULL:
 * none) into out[NS_STORE_STAGE_VAL_MAX]; returns its length. */
#define NS_STORE_STAGE_VAL_MAX 64u
typedef size_t (*ns_store_merge_fn)(const ns_store_stage_t *st, size_t from, size_t to,
                                    const MDB_val *stored, uint8_t *out);
/* Sort the entries and put them into `dbi` through one cursor: each with its own value (merge
 * NULL: keys must be unique and not stored yet), or each key once with merge's value. Keys
 * past the tree's last key are appended. Returns an LMDB code. */
int ns_store_stage_write(ns_store_stage_t *st, MDB_txn *txn, MDB_dbi dbi, ns_store_merge_fn merge);

/* store_read.c: decode a value's record into rd->rec (false: corrupt, counted). */
bool ns_store_read_decode(ns_store_read_t *rd, const ns_store_vhdr_t *h);
/* The read's reusable memory (from the store's pool); NULL when memory is short. */
ns_store_codec_slot_t *ns_store_read_slot(ns_store_read_t *rd);

#endif /* NETSCOPE_STORE_INT_H */

/* store_write.c - the producer side (queue, per-second series sums) and the writer thread.
 *
 * Design: the queue is two byte buffers and a mutex. The producer builds each item (a record
 * value, a series point, an agent's bytes) in its own scratch without the lock, then takes
 * the lock only to append the bytes to `fill`; the writer swaps `fill` with its empty `work`
 * buffer under the lock and writes `work` in one transaction without it. So a batch is
 * exactly one swap, the producer never waits for LMDB, and the bound (opts.queue_items
 * items, and a byte bound) is a count check. The writer wakes every commit_ms, or earlier
 * when the queue is half full, a sync() waits or the store closes.
 *
 * Writes per record: "flows" fid -> value (MDB_APPEND: fids only grow), then the index
 * entries of store.h (empty values) and the record's share of its hosts' top_host sums. The
 * index entries and sums are staged (store_stage.c) and written at the end of the batch, each
 * tree in key order through one cursor, each host's bucket once per batch; repeated records
 * are found first, through the time index in time order (find_dups).
 * Deleting a record reads its value back to rebuild the same keys and subtract the same
 * sums; a value that does not decode loses only its "flows" entry and the index entry that
 * led to it (the rest become orphans, which readers skip; its top_host share stays).
 *
 * When a batch meets MDB_MAP_FULL the transaction is aborted; the map doubles (up to
 * max_size) and the batch is written again, or, at max_size, the oldest flows are deleted in
 * small transactions until 15% of the map is free, and the batch is written again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

#define AGE_DELETE_PER_COMMIT 4096u   /* flows deleted by age in one commit, at most */
#define POINT_DELETE_PER_COMMIT 4096u /* series points, likewise */
#define EVICT_CHUNK 256u              /* flows per eviction transaction */
#define EVICT_FREE_PCT 15u            /* eviction stops when this much of the map is free */
#define EVICT_HIGH_PCT 85u            /* at max_size, a batch finding more used evicts first */

static const uint64_t res_seconds[NS_STORE_RES_COUNT] = {1, 60, 3600};

/* ---- the queue (producer side) --------------------------------------------------------- */

static bool
qbuf_reserve(ns_store_qbuf_t *q, size_t need)
{
    if (q->len + need <= q->cap)
        return true;
    size_t cap = q->cap ? q->cap : 1u << 20;
    while (cap < q->len + need)
        cap *= 2;
    uint8_t *b = realloc(q->b, cap);
    if (b == NULL)
        return false;
    q->b = b;
    q->cap = cap;
    return true;
}

/* Append one item; false when the queue is full (counted by the caller). */
static bool
enqueue(ns_store_t *s, uint8_t type, const void *payload, size_t len)
{
    size_t need = QI_HDR + ((len + 7u) & ~(size_t)7u);
    bool ok = false, wake = false;
    pthread_mutex_lock(&s->qlock);
    if (!s->stop && s->fill.items < s->o.queue_items && s->fill.len + need <= s->q_bytes_max &&
        qbuf_reserve(&s->fill, need)) {
        uint8_t *p = s->fill.b + s->fill.len;
        uint32_t l32 = (uint32_t)len;
        memset(p, 0, need);
        p[0] = type;
        memcpy(p + 4, &l32, 4);
        memcpy(p + QI_HDR, payload, len);
        s->fill.len += need;
        s->fill.items++;
        s->enq_seq++;
        wake = s->fill.items == s->o.queue_items / 2;
        ok = true;
    }
    pthread_mutex_unlock(&s->qlock);
    if (wake)
        pthread_cond_signal(&s->qcond);
    if (!ok)
        atomic_fetch_add(&s->queue_drops, 1);
    return ok;
}

ns_err_t
ns_store_put_flow(ns_store_t *self, const ns_flow_rec_t *rec, const ns_store_meta_t *m)
{
    if (self == NULL || self->o.readonly || rec->kind == NS_FLOW_REC_UPDATE)
        return NS_EINVAL;
    size_t h = ns_store_vhdr_encode(self->scratch, self->scratch_cap, rec, m);
    if (h == 0)
        return NS_EINVAL;
    /* uid and community id live in the header: the codec's copy is left out. */
    ns_flow_rec_t r = *rec;
    r.uid[0] = '\0';
    r.community_id[0] = '\0';
    if (ns_codec_batch_begin(self->enc, self->scratch + h, self->scratch_cap - h, 1, 0) != NS_OK ||
        ns_codec_batch_add(self->enc, &r) != NS_OK)
        return NS_EINVAL;
    size_t n = ns_codec_batch_finish(self->enc);
    if (n == 0)
        return NS_EINVAL;
    return enqueue(self, QI_FLOW, self->scratch, h + n) ? NS_OK : NS_EFULL;
}

ns_err_t
ns_store_put_agent(ns_store_t *self, const char *id, const void *data, size_t len)
{
    size_t idn = id ? strlen(id) : 0;
    if (self == NULL || self->o.readonly || idn == 0 || idn > NS_STORE_AGENT_MAX ||
        len > 65536 || (len > 0 && data == NULL))
        return NS_EINVAL;
    uint8_t *p = self->scratch;
    p[0] = (uint8_t)idn;
    memcpy(p + 1, id, idn);
    if (len > 0)
        memcpy(p + 1 + idn, data, len);
    return enqueue(self, QI_AGENT, p, 1 + idn + len) ? NS_OK : NS_EFULL;
}

ns_err_t
ns_store_put_alert(ns_store_t *self, uint64_t id, const void *data, size_t len)
{
    if (self == NULL || self->o.readonly || id == 0 || len == 0 || len > 65536 || data == NULL)
        return NS_EINVAL;
    ns_store_be64_put(self->scratch, id);
    memcpy(self->scratch + 8, data, len);
    return enqueue(self, QI_ALERT, self->scratch, 8 + len) ? NS_OK : NS_EFULL;
}

ns_err_t
ns_store_put_alert_pcap(ns_store_t *self, uint64_t id, const void *data, size_t len)
{
    if (self == NULL || self->o.readonly || id == 0 || len == 0 || len > NS_STORE_PCAP_MAX ||
        data == NULL || 8 + len > self->scratch_cap)
        return NS_EINVAL;
    ns_store_be64_put(self->scratch, id);
    memcpy(self->scratch + 8, data, len);
    return enqueue(self, QI_ALERT_PCAP, self->scratch, 8 + len) ? NS_OK : NS_EFULL;
}

/* ---- per-second series sums (producer side) --------------------------------------------- */

/* Queue the second being summed (one item per series) and start afresh. */
static void
acc_flush(ns_store_t *s)
{
    if (s->acc_used == 0)
        return;
    uint8_t b[1 + NS_STORE_SERIES_MAX + 8 + 64];
    for (uint32_t i = 0; i < NS_STORE_ACC_SLOTS; i++) {
        ns_store_acc_t *a = &s->acc[i];
        if (!a->used)
            continue;
        size_t n = strlen(a->name);
        b[0] = (uint8_t)n;
        memcpy(b + 1, a->name, n);
        ns_store_be64_put(b + 1 + n, s->acc_s);
        ns_store_point_encode(b + 9 + n, &a->p);
        enqueue(s, QI_POINT, b, 9 + n + 64);
        a->used = false;
    }
    s->acc_used = 0;
}

/* The slot of series `name` for the current second (NULL: table full, the sample is lost). */
static ns_store_point_t *
acc_slot(ns_store_t *s, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (uint32_t i = 0; i < NS_STORE_ACC_SLOTS; i++) {
        ns_store_acc_t *a = &s->acc[(h + i) & (NS_STORE_ACC_SLOTS - 1)];
        if (!a->used) {
            if (s->acc_used >= NS_STORE_ACC_SLOTS * 3 / 4)
                return NULL;
            snprintf(a->name, sizeof(a->name), "%s", name);
            memset(&a->p, 0, sizeof(a->p));
            a->used = true;
            s->acc_used++;
            return &a->p;
        }
        if (strcmp(a->name, name) == 0)
            return &a->p;
    }
    return NULL;
}

static void
acc_second(ns_store_t *s, uint64_t now_ns)
{
    uint64_t sec = now_ns / 1000000000ull;
    if (sec != s->acc_s) {
        acc_flush(s);
        s->acc_s = sec;
    }
}

static void
acc_add(ns_store_t *s, const char *name, const ns_store_point_t *p)
{
    ns_store_point_t *slot = acc_slot(s, name);
    if (slot)
        ns_store_point_add(slot, p);
}

void
ns_store_account(ns_store_t *self, const ns_store_delta_t *d)
{
    if (self == NULL || self->o.readonly)
        return;
    acc_second(self, d->now_ns);
    ns_store_point_t p = {
        .bytes = d->bytes,
        .pkts = d->pkts,
        .new_flows = d->new_flow ? 1 : 0,
        .ended_flows = d->ended ? 1 : 0,
        .rtt_sum_us = d->rtt_us,
        .rtt_n = d->rtt_us ? 1 : 0,
        .retrans = d->retrans,
    };
    char name[NS_STORE_SERIES_MAX + 16];
    snprintf(name, sizeof(name), "agent:%s:%u", d->agent ? d->agent : "", d->iface);
    if (strlen(name) <= NS_STORE_SERIES_MAX)
        acc_add(self, name, &p);
    if (!d->counted)
        return;
    acc_add(self, "all", &p);
    char pn[8];
    ns_store_proto_name(d->proto, pn);
    snprintf(name, sizeof(name), "proto:%s", pn);
    acc_add(self, name, &p);
    snprintf(name, sizeof(name), "service:%s",
             d->service && d->service[0] ? d->service : "none");
    if (strlen(name) <= NS_STORE_SERIES_MAX)
        acc_add(self, name, &p);
}

void
ns_store_active(ns_store_t *self, uint64_t now_ns, uint64_t active_flows)
{
    if (self == NULL || self->o.readonly)
        return;
    acc_second(self, now_ns);
    ns_store_point_t p = {.active_max = active_flows};
    acc_add(self, "all", &p);
}

bool
ns_store_sync(ns_store_t *self, uint32_t timeout_ms)
{
    if (self == NULL || self->o.readonly)
        return false;
    /* The second being summed goes too: the writer adds its sums, so a later part of the
     * same second is simply added again. */
    acc_flush(self);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)timeout_ms * 1000000ull;
    until.tv_sec += (time_t)(ns / 1000000000ull);
    until.tv_nsec = (long)(ns % 1000000000ull);
    pthread_mutex_lock(&self->qlock);
    uint64_t target = self->enq_seq;
    self->sync_waiters++;
    pthread_cond_signal(&self->qcond);
    int rc = 0;
    while (self->done_seq < target && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&self->donecond, &self->qlock, &until);
    self->sync_waiters--;
    bool ok = self->done_seq >= target && !(self->fail_lo < target && target <= self->fail_hi);
    pthread_mutex_unlock(&self->qlock);
    return ok;
}

uint64_t
ns_store_ticket(ns_store_t *self)
{
    /* the second being summed is not waited for: series points are not acknowledged */
    pthread_mutex_lock(&self->qlock);
    uint64_t t = self->enq_seq;
    pthread_mutex_unlock(&self->qlock);
    return t;
}

bool
ns_store_done(ns_store_t *self, uint64_t ticket)
{
    pthread_mutex_lock(&self->qlock);
    bool done = self->done_seq >= ticket;
    pthread_mutex_unlock(&self->qlock);
    return done;
}

/* ---- the writer: top_host sums ---------------------------------------------------------- */

static const uint8_t top_spans_min[] = {1, 10, 60};

/* Stage the record of header `h` into host `a`'s sums in the bucket of each span: the value
 * staged is (bytes, pkts, flows) in host order, summed per key when the batch is written. */
static bool
top_host_stage(ns_store_stage_t *st, const ns_store_vhdr_t *h, const ns_addr_t *a)
{
    uint64_t minute = h->last_ns / NS_STORE_MINUTE_NS;
    ns_store_top_sums_t t = {h->bytes, h->pkts, 1};
    for (size_t i = 0; i < sizeof(top_spans_min); i++) {
        uint8_t k[NS_STORE_TOP_KEY_LEN];
        uint8_t span = top_spans_min[i];
        size_t kn = ns_store_key_top(k, span, minute - minute % span, h->ip_ver, a);
        if (!ns_store_stage_add(st, k, kn, &t, sizeof(t)))
            return false;
    }
    return true;
}

/* The merge of top_host entries (store_stage.c): the batch's staged sums of one host and
 * bucket added to the stored ones, so each is read and written once per batch. */
static size_t
top_host_merge(const ns_store_stage_t *st, size_t from, size_t to, const MDB_val *stored,
               uint8_t *out)
{
    ns_store_top_sums_t t = {0, 0, 0};
    if (stored && stored->mv_size == NS_STORE_TOP_VAL_LEN)
        ns_store_top_sums_decode(stored->mv_data, &t); /* another length: corrupt, replaced */
    for (size_t i = from; i < to; i++) {
        ns_store_top_sums_t one;
        memcpy(&one, st->arena + st->e[i].off + st->e[i].kn, sizeof(one));
        t.bytes += one.bytes;
        t.pkts += one.pkts;
        t.flows += one.flows;
    }
    ns_store_top_sums_encode(out, &t);
    return NS_STORE_TOP_VAL_LEN;
}

/* Subtract the record of header `h` from host `a`'s sums in the bucket of each span.
 * Subtracting stops at zero (a sum that never held the record: a store damaged by hand) and
 * deletes an entry left with no flows. Returns an LMDB code. */
static int
top_host_sub(MDB_txn *txn, MDB_dbi dbi, const ns_store_vhdr_t *h, const ns_addr_t *a)
{
    uint64_t minute = h->last_ns / NS_STORE_MINUTE_NS;
    for (size_t i = 0; i < sizeof(top_spans_min); i++) {
        uint8_t k[NS_STORE_TOP_KEY_LEN], b[NS_STORE_TOP_VAL_LEN];
        uint8_t span = top_spans_min[i];
        MDB_val key = {ns_store_key_top(k, span, minute - minute % span, h->ip_ver, a), k}, val;
        ns_store_top_sums_t t = {0, 0, 0};
        int rc = mdb_get(txn, dbi, &key, &val);
        if (rc == 0 && val.mv_size == NS_STORE_TOP_VAL_LEN)
            ns_store_top_sums_decode(val.mv_data, &t); /* another length: corrupt, replaced */
        else if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        t.bytes -= t.bytes < h->bytes ? t.bytes : h->bytes;
        t.pkts -= t.pkts < h->pkts ? t.pkts : h->pkts;
        t.flows -= t.flows > 0;
        if (t.flows == 0) {
            rc = rc == 0 ? mdb_del(txn, dbi, &key, NULL) : 0;
            if (rc != 0)
                return rc;
            continue;
        }
        ns_store_top_sums_encode(b, &t);
        val.mv_size = sizeof(b);
        val.mv_data = b;
        if ((rc = mdb_put(txn, dbi, &key, &val, 0)))
            return rc;
    }
    return 0;
}

/* The record's hosts (one when both ends are the same host), primary records only. */
static int
top_host_unrecord(ns_store_t *s, MDB_txn *txn, const ns_store_vhdr_t *h)
{
    if (!h->primary)
        return 0;
    int rc = top_host_sub(txn, s->dbi[DB_TOP_HOST], h, &h->orig_h);
    if (rc == 0 && memcmp(&h->orig_h, &h->resp_h, sizeof(h->orig_h)) != 0)
        rc = top_host_sub(txn, s->dbi[DB_TOP_HOST], h, &h->resp_h);
    return rc;
}

/* ---- the writer: deleting flows --------------------------------------------------------- */

static int
del_key(MDB_txn *txn, MDB_dbi dbi, uint8_t *k, size_t n)
{
    if (n == 0)
        return 0;
    MDB_val key = {n, k};
    int rc = mdb_del(txn, dbi, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Delete record `fid` and its index entries. `time_key` is the by_time key that led here
 * (deleted even when the value is unreadable). Returns an LMDB code. */
static int
del_flow(ns_store_t *s, MDB_txn *txn, uint64_t fid, const uint8_t *time_key, size_t tk_len)
{
    uint8_t fk[8], k[NS_STORE_KEY_MAX];
    ns_store_be64_put(fk, fid);
    MDB_val key = {8, fk}, val;
    int rc = mdb_get(txn, s->dbi[DB_FLOWS], &key, &val);
    ns_store_vhdr_t h;
    if (rc == 0 && ns_store_vhdr_decode(val.mv_data, val.mv_size, &h)) {
        uint64_t t = h.last_ns;
        if ((rc = del_key(txn, s->dbi[DB_BY_TIME], k, ns_store_key_time(k, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_HOST], k,
                          ns_store_key_host(k, h.ip_ver, &h.orig_h, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_HOST], k,
                          ns_store_key_host(k, h.ip_ver, &h.resp_h, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_PORT], k, ns_store_key_port(k, h.resp_p, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_PORT], k, ns_store_key_port(k, h.orig_p, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_AGENT], k, ns_store_key_agent(k, h.agent, t, fid))) ||
            (rc = del_key(txn, s->dbi[DB_BY_CONN], k, ns_store_key_conn(k, h.conn, fid))) ||
            (rc = top_host_unrecord(s, txn, &h)))
            return rc;
        if (h.cid[0] &&
            (rc = del_key(txn, s->dbi[DB_BY_CID], k,
                          ns_store_key_str(k, t, h.cid, NS_FLOW_CID_MAX - 1, fid))))
            return rc;
        if (h.uid[0] &&
            (rc = del_key(txn, s->dbi[DB_BY_UID], k,
                          ns_store_key_str(k, t, h.uid, NS_FLOW_UID_LEN, fid))))
            return rc;
    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    if (time_key && (rc = del_key(txn, s->dbi[DB_BY_TIME], (uint8_t *)time_key, tk_len)))
        return rc;
    return del_key(txn, s->dbi[DB_FLOWS], fk, 8);
}

/* Delete up to `max` of the flows received first (fid order is arrival order), those received
 * before `before_ns` only (UINT64_MAX: any). By arrival, not by the flows' own times: a
 * capture replayed from last year is history kept like today's traffic. Returns an LMDB
 * code; *deleted counts. */
static int
del_oldest(ns_store_t *s, MDB_txn *txn, uint64_t before_ns, uint32_t max, uint64_t *deleted)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, s->dbi[DB_FLOWS], &c);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < max; i++) {
        MDB_val k, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc != 0)
            break;
        if (k.mv_size != 8) {
            rc = mdb_cursor_del(c, 0); /* not a key of ours */
            if (rc != 0)
                break;
            continue;
        }
        uint64_t fid = ns_store_be64_get(k.mv_data);
        ns_store_vhdr_t h;
        if (ns_store_vhdr_decode(v.mv_data, v.mv_size, &h) && h.received_ns >= before_ns)
            break;
        /* del_flow deletes through keys, which leaves this cursor unpositioned: the next
         * round starts again at MDB_FIRST. */
        rc = del_flow(s, txn, fid, NULL, 0);
        if (rc != 0)
            break;
        (*deleted)++;
    }
    mdb_cursor_close(c);
    return rc;
}

/* Delete series points older than each resolution's keep time, at most `budget`. */
static int
del_old_points(ns_store_t *s, MDB_txn *txn, uint64_t now_s, uint64_t *deleted)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, s->dbi[DB_SERIES], &c);
    if (rc != 0)
        return rc;
    uint32_t budget = POINT_DELETE_PER_COMMIT;
    uint8_t seek[NS_STORE_KEY_MAX];
    size_t seek_len = 1;
    seek[0] = 0;
    MDB_val k = {seek_len, seek}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && budget > 0) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < 10 || kb[0] >= NS_STORE_RES_COUNT || k.mv_size != 10u + kb[1]) {
            rc = mdb_cursor_del(c, 0); /* not a key of ours */
            if (rc == 0)
                rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
            continue;
        }
        uint64_t keep = s->o.series_keep_s[kb[0]];
        uint64_t start = ns_store_be64_get(kb + k.mv_size - 8);
        if (keep != 0 && now_s > keep && start < now_s - keep) {
            rc = mdb_cursor_del(c, 0);
            if (rc != 0)
                break;
            (*deleted)++;
            budget--;
            rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
            continue;
        }
        /* This series is within its keep time from here on: jump to the next one. */
        seek_len = k.mv_size - 8;
        memcpy(seek, kb, seek_len);
        memset(seek + seek_len, 0xff, 8);
        MDB_val sk = {seek_len + 8, seek};
        rc = mdb_cursor_get(c, &sk, &v, MDB_SET_RANGE);
        if (rc == 0 && sk.mv_size == seek_len + 8 && memcmp(sk.mv_data, seek, seek_len + 8) == 0)
            rc = mdb_cursor_get(c, &sk, &v, MDB_NEXT);
        k = sk;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- the writer: one batch ------------------------------------------------------------- */

/* What makes two records the same record: an agent resends what a collector killed before
 * acknowledging it had committed. */
typedef struct {
    uint8_t kind;
    uint64_t last_ns, pkts, bytes;
    char agent[NS_STORE_AGENT_MAX + 1];
    char uid[NS_FLOW_UID_LEN + 1];
} dup_sig_t;

/* Records of one last packet time compared, at most: beyond, a resent record would be stored
 * twice (flows ending in the same nanosecond are rare outside hand-made tests). */
#define DUP_SIGS_MAX 256u

static void
dup_sig(dup_sig_t *d, const ns_store_vhdr_t *h)
{
    d->kind = h->kind;
    d->last_ns = h->last_ns;
    d->pkts = h->pkts;
    d->bytes = h->bytes;
    memcpy(d->agent, h->agent, sizeof(d->agent));
    memcpy(d->uid, h->uid, sizeof(d->uid));
}

static bool
dup_sig_eq(const dup_sig_t *a, const dup_sig_t *b)
{
    return a->kind == b->kind && a->last_ns == b->last_ns && a->pkts == b->pkts &&
           a->bytes == b->bytes && strcmp(a->agent, b->agent) == 0 && strcmp(a->uid, b->uid) == 0;
}

/* Note the batch's flow items in s->fitems and mark each one that repeats a record stored
 * before or earlier in the batch (same uid, agent, kind, last packet and counts). A repeat has
 * the same last packet time, so the records of that time are looked up in the time index, in
 * time order through one cursor: the lookups walk the index's newest pages instead of a
 * random page of the uid index each. Records without a uid are never repeats. Returns an LMDB
 * code (ENOMEM when memory is short). */
static int
find_dups(ns_store_t *s, MDB_txn *txn)
{
    ns_store_stage_t *u = &s->dups;
    ns_store_stage_clear(u);
    s->n_fitems = 0;
    for (size_t off = 0; off < s->work.len;) {
        const uint8_t *p = s->work.b + off;
        uint32_t len;
        memcpy(&len, p + 4, 4);
        ns_store_vhdr_t h;
        if (p[0] == QI_FLOW && ns_store_vhdr_decode(p + QI_HDR, len, &h)) {
            if (s->n_fitems == s->cap_fitems) {
                size_t cap = s->cap_fitems ? s->cap_fitems * 2 : 4096;
                ns_store_fitem_t *f = realloc(s->fitems, cap * sizeof(*f));
                if (f == NULL)
                    return ENOMEM;
                s->fitems = f;
                s->cap_fitems = cap;
            }
            /* (last_ns, the item's number): sorted by time, then by arrival */
            uint8_t k[NS_STORE_KEY_MAX];
            if (h.uid[0] &&
                !ns_store_stage_add(u, k, ns_store_key_time(k, h.last_ns, s->n_fitems), NULL, 0))
                return ENOMEM;
            s->fitems[s->n_fitems++] = (ns_store_fitem_t){(uint32_t)off, false};
        }
        off += QI_HDR + ((len + 7u) & ~(size_t)7u);
    }
    if (u->n == 0)
        return 0;
    ns_store_stage_sort(u);
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, s->dbi[DB_BY_TIME], &c);
    if (rc != 0)
        return rc;
    dup_sig_t *sigs = s->dup_sigs;
    for (size_t i = 0; i < u->n && rc == 0;) {
        /* one last packet time: its stored records first, then the batch's in arrival order */
        const uint8_t *k = u->arena + u->e[i].off;
        size_t n_sigs = 0;
        uint8_t seek[16];
        memcpy(seek, k, 8);
        memset(seek + 8, 0, 8);
        MDB_val key = {16, seek}, val;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        while (rc == 0 && n_sigs < DUP_SIGS_MAX && key.mv_size == 16 &&
               memcmp(key.mv_data, k, 8) == 0) {
            MDB_val fkey = {8, (uint8_t *)key.mv_data + 8}, fval;
            ns_store_vhdr_t o;
            if (mdb_get(txn, s->dbi[DB_FLOWS], &fkey, &fval) == 0 &&
                ns_store_vhdr_decode(fval.mv_data, fval.mv_size, &o))
                dup_sig(&sigs[n_sigs++], &o);
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            break;
        rc = 0;
        for (; i < u->n && memcmp(u->arena + u->e[i].off, k, 8) == 0; i++) {
            ns_store_fitem_t *f = &s->fitems[ns_store_be64_get(u->arena + u->e[i].off + 8)];
            const uint8_t *p = s->work.b + f->off;
            uint32_t len;
            memcpy(&len, p + 4, 4);
            ns_store_vhdr_t h;
            dup_sig_t d;
            ns_store_vhdr_decode(p + QI_HDR, len, &h); /* decoded above */
            dup_sig(&d, &h);
            for (size_t j = 0; j < n_sigs && !f->dup; j++)
                f->dup = dup_sig_eq(&d, &sigs[j]);
            if (!f->dup && n_sigs < DUP_SIGS_MAX)
                sigs[n_sigs++] = d;
        }
    }
    mdb_cursor_close(c);
    return rc;
}

/* Store one record (appended through cursor `fc`) and stage its index entries and its share
 * of its hosts' top_host sums. Returns an LMDB code (ENOMEM when memory is short). */
static int
write_flow(ns_store_t *s, MDB_cursor *fc, const uint8_t *v, size_t len)
{
    ns_store_vhdr_t h;
    if (!ns_store_vhdr_decode(v, len, &h))
        return 0; /* made by put_flow: cannot happen */
    uint64_t fid = s->next_fid++, t = h.last_ns;
    uint8_t fk[8], k[NS_STORE_KEY_MAX];
    ns_store_be64_put(fk, fid);
    MDB_val key = {8, fk}, val = {len, (void *)v};
    int rc = mdb_cursor_put(fc, &key, &val, MDB_APPEND);
    if (rc)
        return rc;
    ns_store_stage_t *st = s->stage;
    bool ok = ns_store_stage_add(&st[DB_BY_TIME], k, ns_store_key_time(k, t, fid), NULL, 0) &&
              ns_store_stage_add(&st[DB_BY_HOST], k,
                                 ns_store_key_host(k, h.ip_ver, &h.orig_h, t, fid), NULL, 0) &&
              ns_store_stage_add(&st[DB_BY_PORT], k, ns_store_key_port(k, h.resp_p, t, fid),
                                 NULL, 0) &&
              ns_store_stage_add(&st[DB_BY_AGENT], k, ns_store_key_agent(k, h.agent, t, fid),
                                 NULL, 0) &&
              ns_store_stage_add(&st[DB_BY_CONN], k, ns_store_key_conn(k, h.conn, fid), NULL, 0);
    if (ok && memcmp(&h.orig_h, &h.resp_h, sizeof(h.orig_h)) != 0)
        ok = ns_store_stage_add(&st[DB_BY_HOST], k,
                                ns_store_key_host(k, h.ip_ver, &h.resp_h, t, fid), NULL, 0);
    if (ok && h.orig_p != h.resp_p)
        ok = ns_store_stage_add(&st[DB_BY_PORT], k, ns_store_key_port(k, h.orig_p, t, fid),
                                NULL, 0);
    if (ok && h.cid[0])
        ok = ns_store_stage_add(&st[DB_BY_CID], k,
                                ns_store_key_str(k, t, h.cid, NS_FLOW_CID_MAX - 1, fid), NULL, 0);
    if (ok && h.uid[0])
        ok = ns_store_stage_add(&st[DB_BY_UID], k,
                                ns_store_key_str(k, t, h.uid, NS_FLOW_UID_LEN, fid), NULL, 0);
    if (ok && h.primary) {
        ok = top_host_stage(&st[DB_TOP_HOST], &h, &h.orig_h);
        if (ok && memcmp(&h.orig_h, &h.resp_h, sizeof(h.orig_h)) != 0)
            ok = top_host_stage(&st[DB_TOP_HOST], &h, &h.resp_h);
    }
    return ok ? 0 : ENOMEM;
}

/* The index trees a record's entries are staged for, in the order they are written. */
static const int staged_dbs[] = {DB_BY_TIME, DB_BY_HOST, DB_BY_PORT, DB_BY_AGENT,
                                 DB_BY_CONN, DB_BY_CID,  DB_BY_UID};

/* Remember a 1-minute bucket for on_rollup (the latest sums replace earlier ones). */
static void
pending_note(ns_store_t *s, const char *name, const ns_store_point_t *p)
{
    for (size_t i = 0; i < s->n_pending; i++) {
        ns_store_pending_t *e = &s->pending[i];
        if (e->p.start_s == p->start_s && strcmp(e->name, name) == 0) {
            e->p = *p;
            return;
        }
    }
    if (s->n_pending == s->cap_pending) {
        size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
        ns_store_pending_t *n = realloc(s->pending, cap * sizeof(*n));
        if (n == NULL)
            return;
        s->pending = n;
        s->cap_pending = cap;
    }
    ns_store_pending_t *e = &s->pending[s->n_pending++];
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->p = *p;
}

static int
write_point(ns_store_t *s, MDB_txn *txn, const uint8_t *v, size_t len)
{
    if (len < 1 || len != 1u + v[0] + 8u + 64u || v[0] > NS_STORE_SERIES_MAX)
        return 0;
    char name[NS_STORE_SERIES_MAX + 1];
    memcpy(name, v + 1, v[0]);
    name[v[0]] = '\0';
    uint64_t sec = ns_store_be64_get(v + 1 + v[0]);
    ns_store_point_t add;
    ns_store_point_decode(v + 9 + v[0], &add);
    if (sec > s->max_point_s)
        s->max_point_s = sec;
    for (int r = 0; r < NS_STORE_RES_COUNT; r++) {
        uint64_t start = sec - sec % res_seconds[r];
        uint8_t k[NS_STORE_KEY_MAX], b[64];
        size_t kn = ns_store_key_series(k, (ns_store_res_t)r, name, start);
        MDB_val key = {kn, k}, val;
        ns_store_point_t p = {.start_s = start};
        int rc = mdb_get(txn, s->dbi[DB_SERIES], &key, &val);
        if (rc == 0 && val.mv_size == 64)
            ns_store_point_decode(val.mv_data, &p); /* another length: corrupt, replaced */
        else if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        ns_store_point_add(&p, &add);
        p.start_s = start;
        ns_store_point_encode(b, &p);
        val.mv_size = 64;
        val.mv_data = b;
        if ((rc = mdb_put(txn, s->dbi[DB_SERIES], &key, &val, 0)))
            return rc;
        if (r == NS_STORE_RES_1M && s->o.on_rollup)
            pending_note(s, name, &p);
    }
    return 0;
}

typedef struct {
    uint64_t records, duplicates, agents, points, age_flows, age_points;
} batch_counts_t;

/* Write every item of `work`, then a little retention, in `txn`. */
static int
write_batch(ns_store_t *s, MDB_txn *txn, batch_counts_t *bc)
{
    memset(bc, 0, sizeof(*bc));
    for (int i = 0; i < DB_COUNT; i++)
        ns_store_stage_clear(&s->stage[i]);
    MDB_cursor *fc = NULL;
    int rc = find_dups(s, txn);
    if (rc == 0)
        rc = mdb_cursor_open(txn, s->dbi[DB_FLOWS], &fc);
    size_t fi = 0;
    for (size_t off = 0; off < s->work.len && rc == 0;) {
        const uint8_t *p = s->work.b + off;
        uint32_t len;
        memcpy(&len, p + 4, 4);
        const uint8_t *pl = p + QI_HDR;
        switch (p[0]) {
        case QI_FLOW:
            if (fi < s->n_fitems && s->fitems[fi].off == off && s->fitems[fi++].dup) {
                bc->duplicates++;
                break;
            }
            rc = write_flow(s, fc, pl, len);
            bc->records++;
            break;
        case QI_POINT:
            rc = write_point(s, txn, pl, len);
            bc->points++;
            break;
        case QI_AGENT: {
            if (len < 1u + pl[0])
                break; /* made by put_agent: cannot happen */
            MDB_val k = {pl[0], (void *)(pl + 1)}, v = {len - 1u - pl[0], (void *)(pl + 1 + pl[0])};
            rc = mdb_put(txn, s->dbi[DB_AGENTS], &k, &v, 0);
            bc->agents++;
            break;
        }
        case QI_ALERT: {
            /* "alerts": id(8) -> the collector's bytes (made by put_alert: len > 8) */
            MDB_val k = {8, (void *)pl}, v = {len - 8u, (void *)(pl + 8)};
            rc = mdb_put(txn, s->dbi[DB_ALERTS], &k, &v, 0);
            break;
        }
        case QI_ALERT_PCAP: {
            MDB_val k = {8, (void *)pl}, v = {len - 8u, (void *)(pl + 8)};
            rc = mdb_put(txn, s->dbi[DB_ALERT_PCAPS], &k, &v, 0);
            break;
        }
        default:
            break;
        }
        off += QI_HDR + ((len + 7u) & ~(size_t)7u);
    }
    mdb_cursor_close(fc);
    for (size_t i = 0; rc == 0 && i < sizeof(staged_dbs) / sizeof(staged_dbs[0]); i++)
        rc = ns_store_stage_write(&s->stage[staged_dbs[i]], txn, s->dbi[staged_dbs[i]], NULL);
    if (rc == 0)
        rc = ns_store_stage_write(&s->stage[DB_TOP_HOST], txn, s->dbi[DB_TOP_HOST],
                                  top_host_merge);
    uint64_t now = ns_store_wall_ns();
    if (rc == 0 && s->o.flow_keep_s > 0 && now / 1000000000ull > s->o.flow_keep_s)
        rc = del_oldest(s, txn, now - s->o.flow_keep_s * 1000000000ull, AGE_DELETE_PER_COMMIT,
                        &bc->age_flows);
    if (rc == 0)
        rc = del_old_points(s, txn, now / 1000000000ull, &bc->age_points);
    if (rc == 0) {
        uint8_t b[8];
        ns_store_be64_put(b, s->next_fid);
        MDB_val k = {8, "next_fid"}, v = {8, b};
        rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
    }
    return rc;
}

/* Grow the map towards max_size; false when it is there already. */
static bool
grow_map(ns_store_t *s)
{
    if (s->map_size >= s->o.max_size)
        return false;
    uint64_t n = s->map_size * 2;
    if (n > s->o.max_size)
        n = s->o.max_size;
    pthread_rwlock_wrlock(&s->resize_lock);
    int rc = mdb_env_set_mapsize(s->env, (size_t)n);
    pthread_rwlock_unlock(&s->resize_lock);
    if (rc != 0)
        return false;
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize;
    return true;
}

/* At max_size: delete the oldest flows in small transactions until `free_pct` of the map is
 * free (at least one transaction's worth). Returns the flows deleted (0: nothing could be
 * freed). */
static uint64_t
evict(ns_store_t *s, unsigned free_pct)
{
    uint64_t total = 0;
    uint64_t map_pages = s->map_size / s->psize;
    uint64_t want_used = map_pages * (100u - free_pct) / 100u;
    uint32_t chunk = EVICT_CHUNK;
    for (int round = 0; round < 1000000; round++) {
        MDB_txn *txn = NULL;
        if (mdb_txn_begin(s->env, NULL, 0, &txn) != 0)
            break;
        if (total > 0 && ns_store_data_pages(s, txn) <= want_used) {
            mdb_txn_abort(txn);
            break;
        }
        uint64_t n = 0;
        int rc = del_oldest(s, txn, UINT64_MAX, chunk, &n);
        if (rc == 0 && n > 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL && chunk > 1) {
            /* Deleting needs new pages too (copies of the changed ones), and the pages the
             * previous transaction freed are not reusable yet: smaller steps. */
            chunk /= 2;
            continue;
        }
        if (rc != 0 || n == 0)
            break;
        total += n;
    }
    /* LMDB reuses the pages a transaction freed only once a later one has committed (the
     * last snapshot stays intact): one small write makes the last eviction's pages usable
     * for the batch. */
    MDB_txn *txn = NULL;
    if (total > 0 && mdb_txn_begin(s->env, NULL, 0, &txn) == 0) {
        uint8_t b[8];
        ns_store_be64_put(b, total);
        MDB_val k = {11, "last_evict"}, v = {8, b};
        if (mdb_put(txn, s->dbi[DB_META], &k, &v, 0) == 0)
            mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    return total;
}

static void
rollups_report(ns_store_t *s, bool all)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->n_pending; i++) {
        ns_store_pending_t *e = &s->pending[i];
        if (all || e->p.start_s + 60 <= s->max_point_s)
            s->o.on_rollup(s->o.rollup_ud, e->name, &e->p);
        else
            s->pending[keep++] = *e;
    }
    s->n_pending = keep;
}

/* Write `work` in one transaction, growing the map or evicting as needed. */
static bool
commit_work(ns_store_t *s)
{
    uint64_t fid0 = s->next_fid, max_point0 = s->max_point_s;
    batch_counts_t bc;
    uint64_t evicted = 0, evictions = 0;
    bool ok = false;
    /* Grow the map before a batch that would likely not fit: a batch that meets MDB_MAP_FULL
     * is aborted and written again, all of it (at 100,000 records, 65% more records written
     * than stored while the map doubled from 64 MiB). Pages past the last one used, against
     * four times the batch's bytes (its records, index entries, sums and copied pages). */
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    while (s->map_size < s->o.max_size &&
           (uint64_t)(info.me_last_pgno + 1) * s->psize + 4 * (uint64_t)s->work.len > s->map_size &&
           grow_map(s))
        ;
    /* At max_size, keep some room so that deleting stays possible: above the high-water mark
     * the oldest flows go before the batch is written. */
    if (s->map_size >= s->o.max_size) {
        MDB_txn *txn = NULL;
        if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
            uint64_t used = ns_store_data_pages(s, txn);
            mdb_txn_abort(txn);
            if (used > s->map_size / s->psize * EVICT_HIGH_PCT / 100u) {
                uint64_t n = evict(s, EVICT_FREE_PCT * 2);
                evicted += n;
                evictions += n > 0;
            }
        }
    }
    /* At max_size a batch is committed only if it leaves the high-water room free: deleting
     * needs fresh pages for its copies (a few per tree: 15% of a 1 MiB map), and the pages
     * this commit frees are not reusable by the next one, so a batch that fills the map to
     * the last page would leave the next eviction nothing to work with. Dropped only when
     * nothing is left to evict (a batch bigger than the room). */
    bool keep_room = true;
    for (int attempt = 0; attempt < 64; attempt++) {
        MDB_txn *txn = NULL;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc != 0)
            break;
        rc = write_batch(s, txn, &bc);
        if (rc == 0 && keep_room && s->map_size >= s->o.max_size &&
            ns_store_data_pages(s, txn) > s->map_size / s->psize * EVICT_HIGH_PCT / 100u)
            rc = MDB_MAP_FULL;
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == 0) {
            ok = true;
            break;
        }
        s->next_fid = fid0;
        s->max_point_s = max_point0;
        if (rc != MDB_MAP_FULL)
            break;
        if (grow_map(s))
            continue;
        /* A batch needs room for its own copies of the pages it changes besides its new
         * data, so each further try frees more: 15%, 30%, 45%, ... of the map. */
        unsigned pct = EVICT_FREE_PCT * (unsigned)(evictions + 1);
        uint64_t n = evict(s, pct < 95u ? pct : 95u);
        if (n == 0 && keep_room) {
            keep_room = false;
            continue;
        }
        if (n == 0)
            break;
        evicted += n;
        evictions++;
    }
    uint64_t now = ns_store_wall_ns();
    pthread_mutex_lock(&s->stats_lock);
    s->st.size_evictions += evictions;
    s->st.size_evicted_flows += evicted;
    if (ok) {
        s->st.commits++;
        s->st.records_written += bc.records;
        s->st.duplicates_skipped += bc.duplicates;
        s->st.agents_written += bc.agents;
        s->st.points_written += bc.points;
        s->st.age_deleted_flows += bc.age_flows;
        s->st.age_deleted_points += bc.age_points;
        s->st.last_commit_ns = now;
    } else {
        s->st.commit_failures++;
    }
    pthread_mutex_unlock(&s->stats_lock);
    if (ok && s->o.on_rollup)
        rollups_report(s, false);
    return ok;
}

static void *
writer_main(void *arg)
{
    ns_store_t *s = arg;
    uint64_t last = ns_store_wall_ns();
    pthread_mutex_lock(&s->qlock);
    for (;;) {
        uint64_t deadline = last + (uint64_t)s->o.commit_ms * 1000000ull;
        while (!s->stop && s->sync_waiters == 0 && s->fill.items < s->o.queue_items / 2 &&
               ns_store_wall_ns() < deadline) {
            struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ull),
                                  .tv_nsec = (long)(deadline % 1000000000ull)};
            pthread_cond_timedwait(&s->qcond, &s->qlock, &ts);
        }
        bool stop = s->stop;
        ns_store_qbuf_t t = s->work;
        s->work = s->fill;
        s->fill = t;
        s->fill.len = 0;
        s->fill.items = 0;
        uint64_t taken = s->enq_seq, before = s->done_seq;
        pthread_mutex_unlock(&s->qlock);

        last = ns_store_wall_ns();
        bool ok = commit_work(s);
        s->work.len = 0;
        s->work.items = 0;

        pthread_mutex_lock(&s->qlock);
        if (!ok) {
            s->fail_lo = before;
            s->fail_hi = taken;
        }
        s->done_seq = taken;
        pthread_cond_broadcast(&s->donecond);
        if (stop && s->fill.items == 0)
            break;
    }
    pthread_mutex_unlock(&s->qlock);
    if (s->o.on_rollup)
        rollups_report(s, true);
    return NULL;
}

bool
ns_store_writer_start(ns_store_t *s, char *errbuf, size_t errlen)
{
    s->dup_sigs = malloc(DUP_SIGS_MAX * sizeof(dup_sig_t));
    if (s->dup_sigs == NULL) {
        ns_store_errf(errbuf, errlen, "store: out of memory");
        return false;
    }
    int rc = pthread_create(&s->writer, NULL, writer_main, s);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: cannot start the writer thread: %s", strerror(rc));
        return false;
    }
    s->writer_started = true;
    return true;
}

void
ns_store_writer_stop(ns_store_t *s)
{
    acc_flush(s);
    pthread_mutex_lock(&s->qlock);
    s->stop = true;
    pthread_cond_signal(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    pthread_join(s->writer, NULL);
    s->writer_started = false;
}

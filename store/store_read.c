/* store_read.c - queries: flow lists (planner, filters, sorts, paging), one flow with all
 * its observations, time series, top-N and the agent inventory.
 *
 * Design: the planner picks the most selective index the query names (uid, community id,
 * host, port, agent, else time). Indexes whose keys end in (time, fid) answer a time-sorted
 * query by walking the key range in order and stopping after `limit` matches, so a page
 * costs what it returns plus what the filters skip. Every other sort (and a time sort over
 * the uid and community id indexes, which are ordered by fid within an hour) keeps the best `limit`
 * candidates in a bounded heap over the whole matching range, then fetches and hands them
 * out in order. The host and port indexes are minute-major, the uid and community id indexes
 * hour-major (store_key.h): their range is one per bucket, walked bucket by bucket in the
 * query's order (each_bucket(), which jumps over buckets without entries and outside the
 * window), so a time-sorted page still stops after `limit` matches. Filters read only the
 * value's fixed header (store_key.h); the record is decoded only for the caller's `match`
 * and for the callback.
 *
 * Paging: a cursor names the last record given, as (sort value, fid), and every order is a
 * total order on (sort value, fid) (time sorts: the index order itself). The next page is
 * "strictly after the cursor", so while the data does not change no record is repeated or
 * skipped; a new record can appear on a later page only if it sorts after the cursor.
 *
 * Every value read is checked (ns_store_vhdr_decode, the codec's own checks); what does
 * not decode is skipped and counted in the read's `corrupt`.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define LIMIT_DEFAULT 100u
#define LIMIT_MAX 10000u

static const uint64_t res_seconds[NS_STORE_RES_COUNT] = {1, 60, 3600};

ns_store_codec_slot_t *
ns_store_read_slot(ns_store_read_t *rd)
{
    if (rd->slot == NULL) {
        pthread_mutex_lock(&rd->s->pool_lock);
        rd->slot = rd->s->pool;
        if (rd->slot)
            rd->s->pool = rd->slot->next;
        pthread_mutex_unlock(&rd->s->pool_lock);
        if (rd->slot == NULL) {
            rd->slot = calloc(1, sizeof(*rd->slot));
            if (rd->slot == NULL)
                return NULL;
            rd->slot->codec = ns_codec_new(NULL, NULL, 0);
        }
    }
    return rd->slot;
}

bool
ns_store_read_decode(ns_store_read_t *rd, const ns_store_vhdr_t *h)
{
    const ns_msg_t *m = NULL;
    if (ns_store_read_slot(rd) == NULL || rd->slot->codec == NULL ||
        ns_codec_decode_agent(rd->slot->codec, h->codec, h->codec_len, &m) != NS_CODEC_OK ||
        m->type != NS_MSG_BATCH || m->u.batch.n_recs != 1) {
        rd->corrupt++;
        return false;
    }
    rd->rec = m->u.batch.recs[0];
    snprintf(rd->rec.uid, sizeof(rd->rec.uid), "%s", h->uid);
    snprintf(rd->rec.community_id, sizeof(rd->rec.community_id), "%s", h->cid);
    return true;
}

/* The header of record `fid`; false when it is missing or unreadable (counted). */
static bool
get_hdr(ns_store_read_t *rd, uint64_t fid, ns_store_vhdr_t *h)
{
    uint8_t fk[8];
    ns_store_be64_put(fk, fid);
    MDB_val k = {8, fk}, v;
    if (rd->flows == NULL && mdb_cursor_open(rd->txn, rd->s->dbi[DB_FLOWS], &rd->flows) != 0) {
        rd->flows = NULL;
        return false;
    }
    /* Records of neighbouring times are mostly neighbours in fid order too (the writer
     * numbers them as they arrive): the next fid is one step on, not a search. */
    int rc = MDB_NOTFOUND;
    if (rd->flows_fid != 0 && fid == rd->flows_fid + 1) {
        rc = mdb_cursor_get(rd->flows, &k, &v, MDB_NEXT);
        if (rc == 0 && (k.mv_size != 8 || ns_store_be64_get(k.mv_data) != fid))
            rc = MDB_NOTFOUND;
    }
    if (rc != 0) {
        k.mv_size = 8;
        k.mv_data = fk;
        rc = mdb_cursor_get(rd->flows, &k, &v, MDB_SET_KEY);
    }
    rd->flows_fid = rc == 0 ? fid : 0;
    if (rc != 0)
        return false; /* an index entry whose record is gone: skipped */
    if (!ns_store_vhdr_decode(v.mv_data, v.mv_size, h)) {
        rd->corrupt++;
        return false;
    }
    return true;
}

/* Decode and hand record `fid` (header `h`) to fn. *stop when fn said so. */
static bool
give(ns_store_read_t *rd, uint64_t fid, const ns_store_vhdr_t *h,
     bool (*fn)(void *, const ns_store_flow_t *), void *ud, bool decoded, bool *stop)
{
    if (!decoded && !ns_store_read_decode(rd, h))
        return false;
    ns_store_flow_t f = {.fid = fid, .rec = &rd->rec};
    snprintf(f.meta.agent, sizeof(f.meta.agent), "%s", h->agent);
    f.meta.received_ns = h->received_ns;
    f.meta.conn = h->conn;
    f.meta.primary = h->primary;
    f.meta.observers = h->observers;
    if (!fn(ud, &f))
        *stop = true;
    return true;
}

void
ns_store_agents_each(ns_store_read_t *rd,
                     bool (*fn)(void *ud, const char *id, const void *data, size_t len), void *ud)
{
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_AGENTS], &c) != 0)
        return;
    MDB_val k, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size == 0 || k.mv_size > NS_STORE_AGENT_MAX) {
            rd->corrupt++;
            continue;
        }
        char id[NS_STORE_AGENT_MAX + 1];
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = '\0';
        if (!fn(ud, id, v.mv_data, v.mv_size))
            break;
    }
    mdb_cursor_close(c);
}

void
ns_store_alerts_each(ns_store_read_t *rd, uint64_t before_id,
                     bool (*fn)(void *ud, uint64_t id, const void *data, size_t len), void *ud)
{
    MDB_cursor *c = NULL;
    if (!rd->s->has_alerts || mdb_cursor_open(rd->txn, rd->s->dbi[DB_ALERTS], &c) != 0)
        return;
    MDB_val k, v;
    uint8_t kb[8];
    int rc;
    if (before_id == 0) {
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    } else {
        ns_store_be64_put(kb, before_id);
        k.mv_size = 8;
        k.mv_data = kb;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); /* the first >= before_id */
        rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : mdb_cursor_get(c, &k, &v, MDB_LAST);
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
        if (k.mv_size != 8) {
            rd->corrupt++;
            continue;
        }
        if (!fn(ud, ns_store_be64_get(k.mv_data), v.mv_data, v.mv_size))
            break;
    }
    mdb_cursor_close(c);
}

bool
ns_store_alert_pcap(ns_store_read_t *rd, uint64_t id,
                    void (*fn)(void *ud, const void *data, size_t len), void *ud)
{
    uint8_t kb[8];
    ns_store_be64_put(kb, id);
    MDB_val k = {8, kb}, v;
    if (!rd->s->has_alerts || mdb_get(rd->txn, rd->s->dbi[DB_ALERT_PCAPS], &k, &v) != 0)
        return false;
    fn(ud, v.mv_data, v.mv_size);
    return true;
}

/* ---- the planner ------------------------------------------------------------------------ */

ns_store_index_t
ns_store_plan(const ns_store_query_t *q)
{
    if (q->uid && q->uid[0])
        return NS_STORE_IDX_UID;
    if (q->community_id && q->community_id[0])
        return NS_STORE_IDX_CID;
    if (q->has_host)
        return NS_STORE_IDX_HOST;
    if (q->port >= 0 && q->port <= 65535)
        return NS_STORE_IDX_PORT;
    if (q->agent && q->agent[0])
        return NS_STORE_IDX_AGENT;
    return NS_STORE_IDX_TIME;
}

const char *
ns_store_index_name(ns_store_index_t i)
{
    static const char *const names[] = {"uid", "community_id", "host", "port", "agent", "time"};
    return (unsigned)i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

/* ---- flow lists ------------------------------------------------------------------------- */

typedef struct {
    ns_store_read_t *rd;
    const ns_store_query_t *q;
    uint64_t from, to;
    uint8_t prefix[NS_STORE_KEY_MAX];
    size_t plen;
    bool time_ordered; /* keys end in (t, fid) */
    bool desc;         /* the sort gives the largest first */
    bool has_cursor;
    uint64_t cur_v, cur_fid;
    /* Bucket-major indexes: prefix[0..8) is t / bucket_ns, set per bucket (by_host, by_port:
     * the minute; by_uid, by_cid: the hour). 0: one range. */
    uint64_t bucket_ns;
    /* A time-sorted walk over several ranges (minute-major: one per minute): */
    uint64_t last_t, last_fid; /* the last record given */
    bool stop;                 /* fn said stop */
    bool done;                 /* the page is full and its successor known */
} scan_t;

/* The filters on the header; *decoded when `match` needed the record. */
static bool
matches(scan_t *sc, const ns_store_vhdr_t *h, bool *decoded)
{
    const ns_store_query_t *q = sc->q;
    *decoded = false;
    if (!q->all_observations && !h->primary)
        return false;
    if (h->last_ns < sc->from || h->last_ns >= sc->to)
        return false;
    if (q->has_host &&
        (h->ip_ver != q->host_ver || (memcmp(&h->orig_h, &q->host, sizeof(q->host)) != 0 &&
                                      memcmp(&h->resp_h, &q->host, sizeof(q->host)) != 0)))
        return false;
    if (q->port >= 0 && h->orig_p != q->port && h->resp_p != q->port)
        return false;
    if (q->proto >= 0 && h->proto != q->proto)
        return false;
    if (q->agent && q->agent[0] && strcmp(h->agent, q->agent) != 0)
        return false;
    if (q->conn_state && strcmp(h->conn_state, q->conn_state) != 0)
        return false;
    if (q->service && strcmp(h->service, q->service) != 0)
        return false;
    if (q->community_id && q->community_id[0] && strcmp(h->cid, q->community_id) != 0)
        return false;
    if (q->uid && q->uid[0] && strcmp(h->uid, q->uid) != 0)
        return false;
    if (q->match) {
        if (!ns_store_read_decode(sc->rd, h))
            return false;
        *decoded = true;
        if (!q->match(q->match_ud, &sc->rd->rec))
            return false;
    }
    return true;
}

static uint64_t
sort_value(ns_store_sort_t sort, const ns_store_vhdr_t *h)
{
    switch (sort) {
    case NS_STORE_SORT_BYTES: return h->bytes;
    case NS_STORE_SORT_PACKETS: return h->pkts;
    case NS_STORE_SORT_DURATION: return h->last_ns >= h->first_ns ? h->last_ns - h->first_ns : 0;
    default: return h->last_ns;
    }
}

/* (v, fid) comes after (cv, cfid) in the query's order. */
static bool
after(const scan_t *sc, uint64_t v, uint64_t fid, uint64_t cv, uint64_t cfid)
{
    if (sc->desc)
        return v < cv || (v == cv && fid < cfid);
    return v > cv || (v == cv && fid > cfid);
}

/* The index prefix of the planned query. */
static bool
make_prefix(scan_t *sc, ns_store_index_t idx)
{
    const ns_store_query_t *q = sc->q;
    uint8_t *p = sc->prefix;
    size_t n = 0;
    sc->time_ordered = true;
    switch (idx) {
    case NS_STORE_IDX_UID:
    case NS_STORE_IDX_CID: {
        const char *s = idx == NS_STORE_IDX_UID ? q->uid : q->community_id;
        n = strlen(s);
        if (n + 17 > sizeof(sc->prefix))
            return false;
        memset(p, 0, 8); /* the hour: set per hour */
        memcpy(p + 8, s, n);
        n += 8;
        p[n++] = 0;
        sc->time_ordered = false;
        sc->bucket_ns = NS_STORE_HOUR_NS;
        break;
    }
    case NS_STORE_IDX_HOST:
        memset(p, 0, 8); /* the minute: set per minute */
        p[8] = q->host_ver;
        memcpy(p + 9, q->host.b, 16);
        n = 25;
        sc->bucket_ns = NS_STORE_MINUTE_NS;
        break;
    case NS_STORE_IDX_PORT:
        memset(p, 0, 8);
        ns_store_be16_put(p + 8, (uint16_t)q->port);
        n = 10;
        sc->bucket_ns = NS_STORE_MINUTE_NS;
        break;
    case NS_STORE_IDX_AGENT:
        n = strlen(q->agent);
        if (n > NS_STORE_AGENT_MAX)
            return false;
        p[0] = (uint8_t)n;
        memcpy(p + 1, q->agent, n);
        n++;
        break;
    case NS_STORE_IDX_TIME: break;
    }
    sc->plen = n;
    return true;
}

/* The key's (t, fid) when it belongs to the prefix and has the index's length. */
static bool
key_in(const scan_t *sc, const MDB_val *k, uint64_t *t, uint64_t *fid)
{
    if (k->mv_size != sc->plen + (sc->time_ordered ? 16u : 8u) ||
        memcmp(k->mv_data, sc->prefix, sc->plen) != 0)
        return false;
    const uint8_t *b = k->mv_data;
    *fid = ns_store_be64_get(b + k->mv_size - 8);
    *t = sc->time_ordered ? ns_store_be64_get(b + sc->plen) : 0;
    return true;
}

static MDB_dbi
index_dbi(ns_store_t *s, ns_store_index_t idx)
{
    static const int map[] = {DB_BY_UID, DB_BY_CID, DB_BY_HOST, DB_BY_PORT, DB_BY_AGENT,
                              DB_BY_TIME};
    return s->dbi[map[idx]];
}

/* Time-sorted walk of one range of a time-ordered index: the keys of sc->prefix with times
 * in [lo, hi). Continues the page of the ranges walked before (sc->last_*, stop); sets
 * sc->done when the page is full and a further match exists (next_cursor written). */
static int
walk_range(scan_t *sc, MDB_cursor *c, bool (*fn)(void *, const ns_store_flow_t *), void *ud,
           uint32_t limit, ns_store_result_t *res, uint64_t lo, uint64_t hi)
{
    uint8_t key[NS_STORE_KEY_MAX];
    memcpy(key, sc->prefix, sc->plen);
    uint64_t st, sf;
    if (sc->desc) {
        st = hi, sf = 0;
        if (sc->has_cursor && (sc->cur_v < st || (sc->cur_v == st && sc->cur_fid < sf)))
            st = sc->cur_v, sf = sc->cur_fid;
    } else {
        st = lo, sf = 0;
        if (sc->has_cursor && (sc->cur_v > st || (sc->cur_v == st && sc->cur_fid >= sf)))
            st = sc->cur_v, sf = sc->cur_fid;
    }
    ns_store_be64_put(key + sc->plen, st);
    ns_store_be64_put(key + sc->plen + 8, sf);
    MDB_val k = {sc->plen + 16, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (sc->desc) {
        /* Everything before the start key. */
        rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : mdb_cursor_get(c, &k, &v, MDB_LAST);
    } else if (rc == 0 && sc->has_cursor && k.mv_size == sc->plen + 16 &&
               memcmp(k.mv_data, key, k.mv_size) == 0) {
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* the cursor's own record: given */
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, sc->desc ? MDB_PREV : MDB_NEXT)) {
        uint64_t t, fid;
        if (!key_in(sc, &k, &t, &fid))
            break;
        if (sc->desc ? t < lo : t >= hi)
            break;
        res->scanned++;
        ns_store_vhdr_t h;
        bool decoded;
        if (!get_hdr(sc->rd, fid, &h) || h.last_ns != t || !matches(sc, &h, &decoded))
            continue;
        if (res->returned == limit || sc->stop) {
            /* One more match exists: the page has a successor. */
            ns_store_cursor_encode(res->next_cursor, sc->q->sort, sc->last_t, sc->last_fid);
            sc->done = true;
            break;
        }
        if (!give(sc->rd, fid, &h, fn, ud, decoded, &sc->stop))
            continue;
        res->returned++;
        sc->last_t = t, sc->last_fid = fid;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The nearest bucket holding any entry of a bucket-major index, from bucket m on: the first
 * >= m (ascending) or the last <= m (descending). False when there is none. */
static bool
next_bucket(MDB_cursor *c, uint64_t m, bool desc, uint64_t *out)
{
    uint8_t key[8];
    ns_store_be64_put(key, desc ? m + 1 : m);
    MDB_val k = {8, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (desc)
        rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc != 0 || k.mv_size < 8)
        return false;
    *out = ns_store_be64_get(k.mv_data);
    return true;
}

/* Call `range` for each bucket (minute or hour) of a bucket-major index that holds entries
 * and meets [lo, hi), newest first when `desc`, with the bucket's part of the window, until
 * it returns an error or sets sc->done. Other indexes: one call, [lo, hi). */
static int
each_bucket(scan_t *sc, MDB_cursor *c, uint64_t lo, uint64_t hi, bool desc,
            int (*range)(scan_t *sc, MDB_cursor *c, uint64_t lo, uint64_t hi, void *arg),
            void *arg)
{
    if (sc->bucket_ns == 0)
        return range(sc, c, lo, hi, arg);
    if (lo >= hi)
        return 0;
    const uint64_t mn = sc->bucket_ns;
    uint64_t m = desc ? (hi - 1) / mn : lo / mn;
    int rc = 0;
    while (rc == 0 && !sc->done && next_bucket(c, m, desc, &m)) {
        if (desc ? m < lo / mn : m > (hi - 1) / mn)
            break;
        ns_store_be64_put(sc->prefix, m);
        uint64_t a = m * mn, b = a <= UINT64_MAX - mn ? a + mn : UINT64_MAX;
        rc = range(sc, c, a > lo ? a : lo, b < hi ? b : hi, arg);
        if (desc ? m == 0 : m == UINT64_MAX / mn)
            break;
        m = desc ? m - 1 : m + 1;
    }
    return rc;
}

typedef struct {
    bool (*fn)(void *, const ns_store_flow_t *);
    void *ud;
    uint32_t limit;
    ns_store_result_t *res;
} walk_arg_t;

static int
walk_range_cb(scan_t *sc, MDB_cursor *c, uint64_t lo, uint64_t hi, void *arg)
{
    walk_arg_t *w = arg;
    return walk_range(sc, c, w->fn, w->ud, w->limit, w->res, lo, hi);
}

/* Time-sorted walk of a time-ordered index. */
static ns_err_t
walk_time(scan_t *sc, MDB_cursor *c, bool (*fn)(void *, const ns_store_flow_t *), void *ud,
          uint32_t limit, ns_store_result_t *res)
{
    res->next_cursor[0] = '\0';
    walk_arg_t w = {fn, ud, limit, res};
    uint64_t lo = sc->from, hi = sc->to;
    /* Minutes past the cursor hold nothing for this page: start at the cursor's. */
    if (sc->has_cursor && sc->desc && sc->cur_v < hi)
        hi = sc->cur_v + 1;
    else if (sc->has_cursor && !sc->desc && sc->cur_v > lo)
        lo = sc->cur_v;
    int rc = each_bucket(sc, c, lo, hi, sc->desc, walk_range_cb, &w);
    return rc == 0 ? NS_OK : NS_EIO;
}

typedef struct {
    uint64_t v, fid;
} cand_t;

/* The heap's root is the worst kept candidate: the one that sorts last. */
static bool
worse(const scan_t *sc, const cand_t *a, const cand_t *b)
{
    return after(sc, a->v, a->fid, b->v, b->fid);
}

static void
heap_sift_down(const scan_t *sc, cand_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(sc, &h[l], &h[m]))
            m = l;
        if (r < n && worse(sc, &h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        cand_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void
heap_push(const scan_t *sc, cand_t *h, size_t *n, size_t cap, cand_t c)
{
    if (*n < cap) {
        size_t i = (*n)++;
        h[i] = c;
        while (i > 0 && worse(sc, &h[i], &h[(i - 1) / 2])) {
            cand_t t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (worse(sc, &h[0], &c)) {
        h[0] = c;
        heap_sift_down(sc, h, *n, 0);
    }
}

typedef struct {
    cand_t *heap;
    size_t n;
    uint32_t limit;
    uint64_t total;
    ns_store_result_t *res;
} heap_arg_t;

/* Push the matches of one range (keys of sc->prefix, times in [lo, hi) when the index is
 * time-ordered) after the cursor into the heap. */
static int
heap_range(scan_t *sc, MDB_cursor *c, uint64_t lo, uint64_t hi, void *arg)
{
    heap_arg_t *ha = arg;
    uint8_t key[NS_STORE_KEY_MAX];
    memcpy(key, sc->prefix, sc->plen);
    size_t kn = sc->plen;
    if (sc->time_ordered) {
        ns_store_be64_put(key + kn, lo);
        ns_store_be64_put(key + kn + 8, 0);
        kn += 16;
    }
    MDB_val k = {kn, key}, v;
    int rc = kn ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t t, fid;
        if (!key_in(sc, &k, &t, &fid))
            break;
        if (sc->time_ordered && t >= hi)
            break;
        ha->res->scanned++;
        ns_store_vhdr_t h;
        bool decoded;
        if (!get_hdr(sc->rd, fid, &h) || !matches(sc, &h, &decoded))
            continue;
        cand_t cd = {sort_value(sc->q->sort, &h), fid};
        if (sc->has_cursor && !after(sc, cd.v, cd.fid, sc->cur_v, sc->cur_fid))
            continue;
        ha->total++;
        heap_push(sc, ha->heap, &ha->n, ha->limit, cd);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Any sort: the best `limit` after the cursor over the whole range. */
static ns_err_t
walk_heap(scan_t *sc, MDB_cursor *c, bool (*fn)(void *, const ns_store_flow_t *), void *ud,
          uint32_t limit, ns_store_result_t *res)
{
    cand_t *heap = malloc(limit * sizeof(*heap));
    if (heap == NULL)
        return NS_ENOMEM;
    heap_arg_t ha = {.heap = heap, .limit = limit, .res = res};
    int rc = each_bucket(sc, c, sc->from, sc->to, false, heap_range, &ha);
    size_t n = ha.n;
    uint64_t total = ha.total;
    ns_err_t err = rc == 0 || rc == MDB_NOTFOUND ? NS_OK : NS_EIO;
    /* Best first: pop the worst to the end. */
    for (size_t m = n; m > 1; m--) {
        cand_t t = heap[0];
        heap[0] = heap[m - 1];
        heap[m - 1] = t;
        heap_sift_down(sc, heap, m - 1, 0);
    }
    res->next_cursor[0] = '\0';
    bool stop = false;
    size_t i = 0;
    for (; i < n && !stop && err == NS_OK; i++) {
        ns_store_vhdr_t h;
        if (!get_hdr(sc->rd, heap[i].fid, &h) || !give(sc->rd, heap[i].fid, &h, fn, ud, false, &stop))
            continue;
        res->returned++;
    }
    if (i > 0 && (total > i || (stop && i < n)))
        ns_store_cursor_encode(res->next_cursor, sc->q->sort, heap[i - 1].v, heap[i - 1].fid);
    free(heap);
    return err;
}

ns_err_t
ns_store_flows(ns_store_read_t *rd, const ns_store_query_t *q,
               bool (*fn)(void *ud, const ns_store_flow_t *f), void *ud, ns_store_result_t *res,
               char *errbuf, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    uint32_t limit = q->limit ? q->limit : LIMIT_DEFAULT;
    if (limit > LIMIT_MAX || (unsigned)q->sort > NS_STORE_SORT_DURATION) {
        ns_store_errf(errbuf, errlen, "limit must be 1..%u", LIMIT_MAX);
        return NS_EINVAL;
    }
    if (q->has_host && q->host_ver != 4 && q->host_ver != 6) {
        ns_store_errf(errbuf, errlen, "host address version must be 4 or 6");
        return NS_EINVAL;
    }
    scan_t sc = {.rd = rd, .q = q, .from = q->from_ns, .to = q->to_ns ? q->to_ns : UINT64_MAX};
    sc.desc = q->sort != NS_STORE_SORT_TIME_ASC;
    if (q->cursor && q->cursor[0]) {
        if (!ns_store_cursor_decode(q->cursor, q->sort, &sc.cur_v, &sc.cur_fid)) {
            ns_store_errf(errbuf, errlen, "malformed cursor (or one from a query of another sort)");
            return NS_EINVAL;
        }
        sc.has_cursor = true;
    }
    res->index = ns_store_plan(q);
    if (!make_prefix(&sc, res->index)) {
        ns_store_errf(errbuf, errlen, "query string too long");
        return NS_EINVAL;
    }
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, index_dbi(rd->s, res->index), &c) != 0) {
        ns_store_errf(errbuf, errlen, "store: cannot read the index");
        return NS_EIO;
    }
    bool time_sort = q->sort == NS_STORE_SORT_TIME_DESC || q->sort == NS_STORE_SORT_TIME_ASC;
    ns_err_t err = time_sort && sc.time_ordered ? walk_time(&sc, c, fn, ud, limit, res)
                                                : walk_heap(&sc, c, fn, ud, limit, res);
    mdb_cursor_close(c);
    if (err != NS_OK)
        ns_store_errf(errbuf, errlen, "store: %s", ns_strerror(err));
    return err;
}

/* ---- one flow and its observations ------------------------------------------------------ */

#define GET_OBSERVERS_MAX 64u

uint32_t
ns_store_flow_get(ns_store_read_t *rd, const char *uid,
                  bool (*fn)(void *ud, const ns_store_flow_t *f), void *ud)
{
    uint8_t key[NS_STORE_KEY_MAX];
    size_t kn = uid ? ns_store_key_str(key, 0, uid, NS_FLOW_UID_LEN, 0) : 0;
    if (kn == 0 || uid[0] == '\0')
        return 0;
    size_t plen = kn - 8;
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_BY_UID], &c) != 0)
        return 0;
    /* The newest record of this uid: the latest (last_ns, fid) of the newest hour holding a
     * readable one (an older hour's records all end earlier). The hours without entries are
     * jumped over, so a uid not stored costs two seeks per stored hour. */
    uint64_t best_fid = 0, best_t = 0;
    ns_store_vhdr_t best;
    bool found = false;
    MDB_val k, v;
    for (uint64_t hour = UINT64_MAX / NS_STORE_HOUR_NS; !found && next_bucket(c, hour, true, &hour);
         hour--) {
        ns_store_be64_put(key, hour);
        k.mv_size = kn;
        k.mv_data = key;
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size != kn || memcmp(k.mv_data, key, plen) != 0)
                break;
            uint64_t fid = ns_store_be64_get((const uint8_t *)k.mv_data + plen);
            ns_store_vhdr_t h;
            if (!get_hdr(rd, fid, &h))
                continue;
            if (!found || h.last_ns > best_t || (h.last_ns == best_t && fid > best_fid)) {
                best = h, best_fid = fid, best_t = h.last_ns;
                found = true;
            }
        }
        if (hour == 0)
            break;
    }
    mdb_cursor_close(c);
    if (!found)
        return 0;
    bool stop = false;
    uint32_t given = give(rd, best_fid, &best, fn, ud, false, &stop) ? 1 : 0;
    if (stop)
        return given;
    /* The newest record of every other uid of the connection. */
    struct {
        char uid[NS_FLOW_UID_LEN + 1];
        uint64_t fid, t;
    } other[GET_OBSERVERS_MAX];
    size_t n_other = 0;
    uint64_t conn = best.conn;
    kn = ns_store_key_conn(key, conn, 0);
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_BY_CONN], &c) != 0)
        return given;
    k.mv_size = kn;
    k.mv_data = key;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16 || memcmp(k.mv_data, key, 8) != 0)
            break;
        uint64_t fid = ns_store_be64_get((const uint8_t *)k.mv_data + 8);
        ns_store_vhdr_t h;
        if (fid == best_fid || !get_hdr(rd, fid, &h) || strcmp(h.uid, best.uid) == 0)
            continue;
        size_t i = 0;
        while (i < n_other && strcmp(other[i].uid, h.uid) != 0)
            i++;
        if (i == n_other) {
            if (n_other == GET_OBSERVERS_MAX)
                continue;
            n_other++;
            snprintf(other[i].uid, sizeof(other[i].uid), "%s", h.uid);
        } else if (h.last_ns < other[i].t || (h.last_ns == other[i].t && fid < other[i].fid)) {
            continue;
        }
        other[i].fid = fid;
        other[i].t = h.last_ns;
    }
    mdb_cursor_close(c);
    for (size_t i = 0; i < n_other && !stop; i++) {
        ns_store_vhdr_t h;
        if (get_hdr(rd, other[i].fid, &h) && give(rd, other[i].fid, &h, fn, ud, false, &stop))
            given++;
    }
    return given;
}

/* ---- time series ------------------------------------------------------------------------ */

size_t
ns_store_series(ns_store_read_t *rd, const char *name, uint64_t from_s, uint64_t to_s,
                uint64_t step_s, ns_store_point_t *out, size_t cap, ns_store_res_t *res_used)
{
    if (name == NULL || strlen(name) > NS_STORE_SERIES_MAX || cap == 0 || to_s <= from_s)
        return 0;
    int r;
    if (step_s == 0) {
        uint64_t now_s = ns_store_wall_ns() / 1000000000ull;
        for (r = 0; r < NS_STORE_RES_COUNT - 1; r++) {
            uint64_t keep = rd->s->o.series_keep_s[r];
            if (keep == 0 || now_s < keep || from_s >= now_s - keep)
                break;
        }
        step_s = res_seconds[r];
    } else {
        for (r = NS_STORE_RES_COUNT - 1; r > 0 && res_seconds[r] > step_s; r--)
            ;
    }
    if (res_used)
        *res_used = (ns_store_res_t)r;
    uint8_t key[NS_STORE_KEY_MAX];
    size_t kn = ns_store_key_series(key, (ns_store_res_t)r, name, from_s - from_s % res_seconds[r]);
    size_t plen = kn - 8;
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_SERIES], &c) != 0)
        return 0;
    size_t n = 0;
    MDB_val k = {kn, key}, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != kn || memcmp(k.mv_data, key, plen) != 0)
            break;
        uint64_t start = ns_store_be64_get((const uint8_t *)k.mv_data + plen);
        if (start >= to_s)
            break;
        if (v.mv_size != 64) {
            rd->corrupt++;
            continue;
        }
        ns_store_point_t p;
        ns_store_point_decode(v.mv_data, &p);
        uint64_t b = start - start % step_s;
        if (n > 0 && out[n - 1].start_s == b) {
            ns_store_point_add(&out[n - 1], &p);
            continue;
        }
        if (n == cap)
            break;
        p.start_s = b;
        out[n++] = p;
    }
    mdb_cursor_close(c);
    return n;
}

void
ns_store_series_names(ns_store_read_t *rd, ns_store_res_t res, uint64_t from_s, uint64_t to_s,
                      bool (*fn)(void *ud, const char *name), void *ud)
{
    if ((unsigned)res >= NS_STORE_RES_COUNT)
        return;
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_SERIES], &c) != 0)
        return;
    uint8_t key[NS_STORE_KEY_MAX];
    key[0] = (uint8_t)res;
    MDB_val k = {1, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < 10 || kb[0] != res)
            break;
        size_t plen = 2u + kb[1];
        if (k.mv_size != plen + 8) {
            rd->corrupt++;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            continue;
        }
        char name[NS_STORE_SERIES_MAX + 1];
        memcpy(name, kb + 2, kb[1]);
        name[kb[1]] = '\0';
        memcpy(key, kb, plen);
        /* A point of this series in [from_s, to_s)? */
        ns_store_be64_put(key + plen, from_s);
        MDB_val sk = {plen + 8, key};
        rc = mdb_cursor_get(c, &sk, &v, MDB_SET_RANGE);
        if (rc == 0 && sk.mv_size == plen + 8 && memcmp(sk.mv_data, key, plen) == 0 &&
            ns_store_be64_get((const uint8_t *)sk.mv_data + plen) < to_s && !fn(ud, name))
            break;
        /* The next series. */
        memset(key + plen, 0xff, 8);
        sk.mv_size = plen + 8;
        sk.mv_data = key;
        rc = mdb_cursor_get(c, &sk, &v, MDB_SET_RANGE);
        if (rc == 0 && sk.mv_size == plen + 8 && memcmp(sk.mv_data, key, plen + 8) == 0)
            rc = mdb_cursor_get(c, &sk, &v, MDB_NEXT);
        k = sk;
    }
    mdb_cursor_close(c);
}

/* ---- top-N ------------------------------------------------------------------------------ */

typedef struct {
    uint8_t klen;
    uint8_t key[40];
    uint64_t bytes, pkts, flows;
} group_t;

typedef struct {
    group_t *g;
    size_t n, cap; /* cap a power of two */
} groups_t;

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    /* FNV's low bits depend on the inputs' low bits only: mix the high ones down, the table
     * index is the low bits. */
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

static bool
groups_add(groups_t *gs, const uint8_t *key, size_t klen, uint64_t bytes, uint64_t pkts,
           uint64_t flows)
{
    if (gs->n * 2 >= gs->cap) {
        size_t cap = gs->cap ? gs->cap * 2 : 1024;
        group_t *ng = calloc(cap, sizeof(*ng));
        if (ng == NULL)
            return false;
        for (size_t i = 0; i < gs->cap; i++) {
            if (gs->g[i].klen == 0)
                continue;
            size_t j = hash_bytes(gs->g[i].key, gs->g[i].klen) & (cap - 1);
            while (ng[j].klen)
                j = (j + 1) & (cap - 1);
            ng[j] = gs->g[i];
        }
        free(gs->g);
        gs->g = ng;
        gs->cap = cap;
    }
    size_t j = hash_bytes(key, klen) & (gs->cap - 1);
    while (gs->g[j].klen && (gs->g[j].klen != klen || memcmp(gs->g[j].key, key, klen) != 0))
        j = (j + 1) & (gs->cap - 1);
    group_t *g = &gs->g[j];
    if (g->klen == 0) {
        g->klen = (uint8_t)klen;
        memcpy(g->key, key, klen);
        gs->n++;
    }
    g->bytes += bytes;
    g->pkts += pkts;
    g->flows += flows;
    return true;
}

static uint64_t
group_metric(const group_t *g, ns_store_top_by_t by)
{
    return by == NS_STORE_TOP_PACKETS ? g->pkts : by == NS_STORE_TOP_FLOWS ? g->flows : g->bytes;
}

static int
group_cmp(const void *a, const void *b, void *arg)
{
    const group_t *x = a, *y = b;
    ns_store_top_by_t by = *(const ns_store_top_by_t *)arg;
    uint64_t mx = group_metric(x, by), my = group_metric(y, by);
    if (mx != my)
        return mx > my ? -1 : 1;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return memcmp(x->key, y->key, x->klen);
}

static void
addr_text(uint8_t ver, const uint8_t *a, char *out, size_t cap)
{
    if (inet_ntop(ver == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)cap) == NULL)
        snprintf(out, cap, "?");
}

static void
group_label(const group_t *g, ns_store_top_group_t group, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pn[8];
    switch (group) {
    case NS_STORE_GROUP_HOST:
        addr_text(g->key[0], g->key + 1, out, cap);
        break;
    case NS_STORE_GROUP_PAIR:
        addr_text(g->key[0], g->key + 1, a, sizeof(a));
        addr_text(g->key[0], g->key + 17, b, sizeof(b));
        /* Two long IPv6 addresses do not fit a label: cut, never overflow. */
        char both[2 * INET6_ADDRSTRLEN + 2];
        snprintf(both, sizeof(both), "%s %s", a, b);
        size_t l = strlen(both) < cap ? strlen(both) : cap - 1;
        memcpy(out, both, l);
        out[l] = '\0';
        break;
    case NS_STORE_GROUP_PORT:
        ns_store_proto_name(g->key[0], pn);
        snprintf(out, cap, "%s/%u", pn, ns_store_be16_get(g->key + 1));
        break;
    case NS_STORE_GROUP_SERVICE:
        snprintf(out, cap, "%.*s", g->klen - 1, (const char *)g->key + 1);
        break;
    }
}

/* Add the record of header `h` to its group(s). False when memory is short. */
static bool
groups_add_record(groups_t *gs, ns_store_top_group_t group, const ns_store_vhdr_t *h)
{
    uint8_t gk[40];
    size_t gn;
    bool ok = true;
    switch (group) {
    case NS_STORE_GROUP_HOST:
        gk[0] = h->ip_ver;
        memcpy(gk + 1, h->orig_h.b, 16);
        ok = groups_add(gs, gk, 17, h->bytes, h->pkts, 1);
        if (ok && memcmp(&h->orig_h, &h->resp_h, 16) != 0) {
            memcpy(gk + 1, h->resp_h.b, 16);
            ok = groups_add(gs, gk, 17, h->bytes, h->pkts, 1);
        }
        break;
    case NS_STORE_GROUP_PAIR:
        gk[0] = h->ip_ver;
        memcpy(gk + 1, h->orig_h.b, 16);
        memcpy(gk + 17, h->resp_h.b, 16);
        ok = groups_add(gs, gk, 33, h->bytes, h->pkts, 1);
        break;
    case NS_STORE_GROUP_PORT:
        gk[0] = h->proto;
        ns_store_be16_put(gk + 1, h->resp_p);
        ok = groups_add(gs, gk, 3, h->bytes, h->pkts, 1);
        break;
    case NS_STORE_GROUP_SERVICE:
        gn = (size_t)snprintf((char *)gk + 1, sizeof(gk) - 1, "%s",
                              h->service[0] ? h->service : "none");
        gk[0] = 's'; /* keeps every key at least one byte longer than empty */
        ok = groups_add(gs, gk, 1 + gn, h->bytes, h->pkts, 1);
        break;
    }
    return ok;
}

/* Add the primary records with last_ns in [from_ns, to_ns), read through the time index.
 * False when memory is short. */
static bool
top_scan(ns_store_read_t *rd, groups_t *gs, ns_store_top_group_t group, uint64_t from_ns,
         uint64_t to_ns)
{
    if (from_ns >= to_ns)
        return true;
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_BY_TIME], &c) != 0)
        return true; /* nothing readable: nothing added */
    uint8_t key[NS_STORE_KEY_MAX];
    ns_store_key_time(key, from_ns, 0);
    MDB_val k = {16, key}, v;
    bool ok = true;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && ok;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t t, fid;
        if (k.mv_size != 16 || !ns_store_key_tail(k.mv_data, 16, &t, &fid) || t >= to_ns)
            break;
        ns_store_vhdr_t h;
        if (get_hdr(rd, fid, &h) && h.primary && h.last_ns == t)
            ok = groups_add_record(gs, group, &h);
    }
    mdb_cursor_close(c);
    return ok;
}

/* Add the top_host sums of the bucket (span_min, bucket_min). False when memory is short. */
static bool
top_bucket(ns_store_read_t *rd, MDB_cursor *c, groups_t *gs, uint8_t span_min,
           uint64_t bucket_min)
{
    uint8_t key[NS_STORE_TOP_KEY_LEN];
    ns_addr_t zero;
    memset(&zero, 0, sizeof(zero));
    ns_store_key_top(key, span_min, bucket_min, 0, &zero);
    MDB_val k = {sizeof(key), key}, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != NS_STORE_TOP_KEY_LEN || memcmp(k.mv_data, key, 9) != 0)
            break;
        if (v.mv_size != NS_STORE_TOP_VAL_LEN) {
            rd->corrupt++;
            continue;
        }
        ns_store_top_sums_t t;
        ns_store_top_sums_decode(v.mv_data, &t);
        /* The group key of a host is ver(1) addr(16): the key's last 17 bytes. */
        if (!groups_add(gs, (const uint8_t *)k.mv_data + 9, 17, t.bytes, t.pkts, t.flows))
            return false;
    }
    return true;
}

/* Hosts: the buckets lying wholly inside [from_ns, to_ns), the largest that fit first, and
 * the records of the partial minutes at both ends. False when memory is short. */
static bool
top_hosts(ns_store_read_t *rd, groups_t *gs, uint64_t from_ns, uint64_t to_ns)
{
    /* No record lies outside [first, last] of the time index: a window reaching far past
     * them (to = UINT64_MAX) is cut to them, so the walk over its minutes stays short. */
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_BY_TIME], &c) != 0)
        return true;
    MDB_val k, v;
    uint64_t t, fid;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) != 0) {
        mdb_cursor_close(c);
        return true; /* no records */
    }
    if (ns_store_key_tail(k.mv_data, k.mv_size, &t, &fid) && t < to_ns)
        to_ns = t + 1;
    if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 &&
        ns_store_key_tail(k.mv_data, k.mv_size, &t, &fid) && t > from_ns)
        from_ns = t;
    mdb_cursor_close(c);
    if (from_ns >= to_ns)
        return true;
    uint64_t m_lo = from_ns / NS_STORE_MINUTE_NS + (from_ns % NS_STORE_MINUTE_NS != 0);
    uint64_t m_hi = to_ns / NS_STORE_MINUTE_NS;
    if (m_lo >= m_hi)
        return top_scan(rd, gs, NS_STORE_GROUP_HOST, from_ns, to_ns);
    if (!top_scan(rd, gs, NS_STORE_GROUP_HOST, from_ns, m_lo * NS_STORE_MINUTE_NS) ||
        !top_scan(rd, gs, NS_STORE_GROUP_HOST, m_hi * NS_STORE_MINUTE_NS, to_ns))
        return false;
    if (mdb_cursor_open(rd->txn, rd->s->dbi[DB_TOP_HOST], &c) != 0)
        return true;
    static const uint8_t spans[] = {60, 10, 1};
    bool ok = true;
    for (uint64_t m = m_lo; m < m_hi && ok;) {
        size_t i = 0;
        while (m % spans[i] != 0 || m + spans[i] > m_hi)
            i++; /* ends at span 1, which always fits */
        ok = top_bucket(rd, c, gs, spans[i], m);
        m += spans[i];
    }
    mdb_cursor_close(c);
    return ok;
}

/* Move the n (<= cap) best of g[0..total) to g[0..n), best first: a heap of the best n seen
 * (its root the worst of them), then a sort of those n only. */
static size_t
groups_select(group_t *g, size_t total, size_t cap, ns_store_top_by_t by)
{
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        if (n < cap) {
            /* sift up: the worse (greater in group_cmp) towards the root */
            size_t j = n++;
            group_t x = g[i];
            while (j > 0 && group_cmp(&x, &g[(j - 1) / 2], &by) > 0) {
                g[j] = g[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            g[j] = x;
        } else if (group_cmp(&g[i], &g[0], &by) < 0) {
            group_t x = g[i];
            size_t j = 0;
            for (;;) {
                size_t l = 2 * j + 1, r = l + 1, m = j;
                const group_t *w = &x;
                if (l < n && group_cmp(&g[l], w, &by) > 0)
                    m = l, w = &g[l];
                if (r < n && group_cmp(&g[r], w, &by) > 0)
                    m = r;
                if (m == j)
                    break;
                g[j] = g[m];
                j = m;
            }
            g[j] = x;
        }
    }
    qsort_r(g, n, sizeof(*g), group_cmp, &by);
    return n;
}

size_t
ns_store_top(ns_store_read_t *rd, ns_store_top_by_t by, ns_store_top_group_t group,
             uint64_t from_ns, uint64_t to_ns, ns_store_top_row_t *out, size_t cap)
{
    if (cap == 0 || to_ns <= from_ns)
        return 0;
    /* The group table of the previous top-N of this slot, cleared. */
    ns_store_codec_slot_t *slot = ns_store_read_slot(rd);
    if (slot == NULL)
        return 0;
    groups_t gs = {.g = slot->groups, .cap = slot->groups_cap};
    if (gs.g)
        memset(gs.g, 0, gs.cap * sizeof(*gs.g));
    if (group == NS_STORE_GROUP_HOST)
        top_hosts(rd, &gs, from_ns, to_ns);
    else
        top_scan(rd, &gs, group, from_ns, to_ns);
    /* Compact the table, then select. */
    size_t n = 0;
    for (size_t i = 0; i < gs.cap; i++)
        if (gs.g[i].klen)
            gs.g[n++] = gs.g[i];
    size_t m = groups_select(gs.g, n, cap, by);
    for (size_t i = 0; i < m; i++) {
        group_label(&gs.g[i], group, out[i].label, sizeof(out[i].label));
        out[i].bytes = gs.g[i].bytes;
        out[i].pkts = gs.g[i].pkts;
        out[i].flows = gs.g[i].flows;
    }
    slot->groups = gs.g;
    slot->groups_cap = gs.cap;
    return m;
}

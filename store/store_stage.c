/* store_stage.c - a batch's index entries, gathered, sorted, then written in key order.
 *
 * Design: the writer does not put a record's index entries as it meets the record (each put
 * a search from the root to a random leaf, and each leaf copied once the first time the
 * transaction dirties it); it adds them to one stage per tree, and at the end of the batch
 * sorts each stage in LMDB's key order and writes it through one cursor. Sorted, consecutive
 * entries mostly fall into the page the cursor already stands on (mdb_cursor_set() then
 * searches that page only), and the entries past the tree's last key - nearly all of a
 * time-ordered index - are appended (MDB_APPEND: no search, and a split leaves the full page
 * full instead of halving it). The bytes written are the same as one put per entry: the
 * stage changes the order of the puts within one transaction, not what the tree holds.
 *
 * An entry is a key and an optional value in the stage's arena; the first 16 key bytes are
 * also kept as two big-endian integers, so that most comparisons of the sort are two integer
 * compares (every key of ours is at least 16 bytes or differs within its first 16).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* A tree's last key when a batch's sorted writes began: keys past it can be appended. */
typedef struct {
    uint8_t last[NS_STORE_KEY_MAX];
    size_t n;  /* SIZE_MAX: a last key longer than ours, never append */
    bool past; /* a key past it was seen (the tree was empty: from the start) */
} tail_t;

/* LMDB's default key order (mdb_cmp_memn): bytes, then the shorter key first. */
static int
key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int d = memcmp(a, b, an < bn ? an : bn);
    if (d != 0)
        return d;
    return an < bn ? -1 : an > bn;
}

static uint64_t
be_prefix(const uint8_t *k, size_t n, size_t from)
{
    uint8_t b[8] = {0};
    if (n > from)
        memcpy(b, k + from, n - from < 8 ? n - from : 8);
    uint64_t v;
    memcpy(&v, b, 8);
    return __builtin_bswap64(v); /* little-endian hosts only, like the rest of the store */
}

static int
ent_cmp(const void *x, const void *y, void *arena)
{
    const ns_store_sent_t *a = x, *b = y;
    if (a->p0 != b->p0)
        return a->p0 < b->p0 ? -1 : 1;
    if (a->p1 != b->p1)
        return a->p1 < b->p1 ? -1 : 1;
    const uint8_t *base = arena;
    return key_cmp(base + a->off, a->kn, base + b->off, b->kn);
}

void
ns_store_stage_clear(ns_store_stage_t *st)
{
    st->n = 0;
    st->used = 0;
}

void
ns_store_stage_fini(ns_store_stage_t *st)
{
    free(st->e);
    free(st->tmp);
    free(st->arena);
    memset(st, 0, sizeof(*st));
}

bool
ns_store_stage_add(ns_store_stage_t *st, const uint8_t *k, size_t kn, const void *v, size_t vn)
{
    if (kn == 0 || kn > NS_STORE_KEY_MAX || vn > UINT16_MAX)
        return kn == 0; /* a key the caller could not build (too long) is no entry */
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 4096;
        ns_store_sent_t *e = realloc(st->e, cap * sizeof(*e));
        if (e == NULL)
            return false;
        st->e = e;
        ns_store_sent_t *t = realloc(st->tmp, cap * sizeof(*t));
        if (t == NULL)
            return false;
        st->tmp = t;
        st->cap = cap;
    }
    if (st->used + kn + vn > st->acap) {
        size_t cap = st->acap ? st->acap : 1u << 16;
        while (cap < st->used + kn + vn)
            cap *= 2;
        uint8_t *a = realloc(st->arena, cap);
        if (a == NULL)
            return false;
        st->arena = a;
        st->acap = cap;
    }
    ns_store_sent_t *e = &st->e[st->n++];
    e->p0 = be_prefix(k, kn, 0);
    e->p1 = be_prefix(k, kn, 8);
    e->off = (uint32_t)st->used;
    e->kn = (uint16_t)kn;
    e->vn = (uint16_t)vn;
    memcpy(st->arena + st->used, k, kn);
    if (vn > 0)
        memcpy(st->arena + st->used + kn, v, vn);
    st->used += kn + vn;
    return true;
}

/* Byte `d` (0: the last) of the entry's 16 prefix bytes. */
static unsigned
digit(const ns_store_sent_t *e, unsigned d)
{
    return (unsigned)((d < 8 ? e->p1 >> (8 * d) : e->p0 >> (8 * (d - 8))) & 0xffu);
}

void
ns_store_stage_sort(ns_store_stage_t *st)
{
    /* Time-ordered indexes arrive sorted or nearly: one pass finds out and spares the sort. */
    size_t n = st->n, i = 1;
    while (i < n && ent_cmp(&st->e[i - 1], &st->e[i], st->arena) <= 0)
        i++;
    if (i >= n)
        return;
    /* A least-significant-digit radix sort on the 16 prefix bytes (a comparison sort costs
     * about 20 calls of ent_cmp per entry here), on the bytes that differ only (not the high
     * bytes of a time, the minute of a batch), then the rare entries with equal prefixes put
     * in order by their whole keys. */
    static_assert(sizeof(uint32_t) * 16 * 256 <= 16384, "the histograms stay on the stack");
    uint64_t diff0 = 0, diff1 = 0; /* the bits in which some entry differs from the first */
    for (i = 1; i < n; i++) {
        diff0 |= st->e[i].p0 ^ st->e[0].p0;
        diff1 |= st->e[i].p1 ^ st->e[0].p1;
    }
    unsigned ds[16], nd = 0; /* the bytes that differ somewhere, least significant first */
    for (unsigned d = 0; d < 16; d++)
        if ((d < 8 ? diff1 >> (8 * d) : diff0 >> (8 * (d - 8))) & 0xffu)
            ds[nd++] = d;
    uint32_t cnt[16][256];
    memset(cnt, 0, nd * sizeof(cnt[0]));
    for (i = 0; i < n; i++)
        for (unsigned j = 0; j < nd; j++)
            cnt[j][digit(&st->e[i], ds[j])]++;
    ns_store_sent_t *from = st->e, *to = st->tmp;
    for (unsigned j = 0; j < nd; j++) {
        unsigned d = ds[j];
        uint32_t pos[256], sum = 0;
        for (unsigned b = 0; b < 256; b++) {
            pos[b] = sum;
            sum += cnt[j][b];
        }
        for (i = 0; i < n; i++)
            to[pos[digit(&from[i], d)]++] = from[i];
        ns_store_sent_t *t = from;
        from = to;
        to = t;
    }
    st->tmp = to;
    st->e = from;
    for (i = 1; i < n; i++) {
        ns_store_sent_t x = st->e[i];
        size_t j = i;
        while (j > 0 && st->e[j - 1].p0 == x.p0 && st->e[j - 1].p1 == x.p1 &&
               ent_cmp(&st->e[j - 1], &x, st->arena) > 0) {
            st->e[j] = st->e[j - 1];
            j--;
        }
        st->e[j] = x;
    }
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Open a cursor on `dbi` and note the tree's last key in *t. */
static int
tail_cursor(MDB_txn *txn, MDB_dbi dbi, tail_t *t, MDB_cursor **c)
{
    *c = NULL;
    int rc = mdb_cursor_open(txn, dbi, c);
    if (rc != 0) {
        *c = NULL;
        return rc;
    }
    MDB_val k, v;
    rc = mdb_cursor_get(*c, &k, &v, MDB_LAST);
    t->past = rc == MDB_NOTFOUND; /* an empty tree: everything is appended */
    t->n = 0;
    if (rc == 0 && k.mv_size <= sizeof(t->last)) {
        /* a copy: the page under k.mv_data may be copied (and this one freed) by the puts */
        memcpy(t->last, k.mv_data, k.mv_size);
        t->n = k.mv_size;
    } else if (rc == 0) {
        t->past = false; /* a key longer than ours: never append (cannot happen) */
        t->n = SIZE_MAX;
    } else if (rc != MDB_NOTFOUND) {
        mdb_cursor_close(*c);
        *c = NULL;
        return rc;
    }
    return 0;
}

/* Whether key k, one of a sorted sequence, lies past the tree's last key (may be appended). */
static bool
tail_past(tail_t *t, const uint8_t *k, size_t kn)
{
    /* Keys come sorted: once one is past the tree's last key, all later ones are. */
    if (!t->past && t->n != SIZE_MAX && key_cmp(k, kn, t->last, t->n) > 0)
        t->past = true;
    return t->past;
}

/* Put the run of entries [i, j) of one key, merged with the stored value. */
static int
put_merged(ns_store_stage_t *st, size_t i, size_t j, MDB_cursor *c, tail_t *tail,
           ns_store_merge_fn merge)
{
    const ns_store_sent_t *e = &st->e[i];
    uint8_t *k = st->arena + e->off, out[NS_STORE_STAGE_VAL_MAX];
    MDB_val key = {e->kn, k}, val = {merge(st, i, j, NULL, out), out};
    if (tail_past(tail, k, e->kn))
        return mdb_cursor_put(c, &key, &val, MDB_APPEND);
    /* One search either way: a new key is inserted; a stored one is handed back (val then
     * points at it) with the cursor on it, and rewritten in place. */
    int rc = mdb_cursor_put(c, &key, &val, MDB_NOOVERWRITE);
    if (rc != MDB_KEYEXIST)
        return rc;
    MDB_val stored = val;
    val.mv_size = merge(st, i, j, &stored, out);
    val.mv_data = out;
    return mdb_cursor_put(c, &key, &val, MDB_CURRENT);
}

int
ns_store_stage_write(ns_store_stage_t *st, MDB_txn *txn, MDB_dbi dbi, ns_store_merge_fn merge)
{
    if (st->n == 0)
        return 0;
    ns_store_stage_sort(st);
    MDB_cursor *c = NULL;
    tail_t tail;
    int rc = tail_cursor(txn, dbi, &tail, &c);
    for (size_t i = 0; rc == 0 && i < st->n;) {
        const ns_store_sent_t *e = &st->e[i];
        uint8_t *k = st->arena + e->off;
        if (merge == NULL) {
            MDB_val key = {e->kn, k}, val = {e->vn, e->vn ? k + e->kn : NULL};
            rc = mdb_cursor_put(c, &key, &val, tail_past(&tail, k, e->kn) ? MDB_APPEND : 0);
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < st->n && st->e[j].kn == e->kn && memcmp(st->arena + st->e[j].off, k, e->kn) == 0)
            j++;
        rc = put_merged(st, i, j, c, &tail, merge);
        i = j;
    }
    mdb_cursor_close(c);
    return rc;
}

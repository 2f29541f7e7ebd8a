/* outq.c - coalesced updates, bounded final records, batches kept until acknowledged
 * (see outq.h).
 *
 * Final records: a FIFO list. Updates: a FIFO list (by the time a flow first queued, so a
 * busy flow is not pushed back behind quiet ones every interval) plus a chained hash table
 * by uid for coalescing. Kept batches: a FIFO list in sequence order.
 */
#include "netscope/outq.h"

#include <stdlib.h>
#include <string.h>

#define UID_MAX 32u
#define DEFAULT_BYTES (64u << 20)
#define DEFAULT_WINDOW 64u

typedef struct final_s {
    struct final_s *next;
    bool txn; /* an update carrying transactions, not a final record */
    size_t len;
    uint8_t data[];
} final_t;

typedef struct upd_s {
    struct upd_s *prev, *next; /* queue order */
    struct upd_s *hnext;       /* hash chain */
    uint64_t hash;
    char uid[UID_MAX];
    uint8_t *data;
    size_t len;
} upd_t;

typedef struct kept_s {
    struct kept_s *next;
    uint64_t seq;
    uint64_t sent_ns;
    uint32_t finals;
    size_t len;
    uint8_t data[];
} kept_t;

struct ns_outq {
    ns_outq_opts_t o;
    final_t *f_head, *f_tail;
    upd_t *u_head, *u_tail;
    upd_t **buckets;
    uint32_t nbuckets; /* power of two */
    kept_t *k_head, *k_tail;
    ns_outq_stats_t st;
};

ns_outq_t *
ns_outq_new(const ns_outq_opts_t *opts)
{
    ns_outq_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    if (opts)
        q->o = *opts;
    if (q->o.finals_max_bytes == 0)
        q->o.finals_max_bytes = DEFAULT_BYTES;
    if (q->o.updates_max_bytes == 0)
        q->o.updates_max_bytes = DEFAULT_BYTES;
    if (q->o.window == 0)
        q->o.window = DEFAULT_WINDOW;
    q->nbuckets = 1024;
    q->buckets = calloc(q->nbuckets, sizeof(*q->buckets));
    if (q->buckets == NULL) {
        free(q);
        return NULL;
    }
    return q;
}

void
ns_outq_destroy(ns_outq_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_outq_t *q = *self_p;
    for (final_t *f = q->f_head, *n; f; f = n) {
        n = f->next;
        free(f);
    }
    for (upd_t *u = q->u_head, *n; u; u = n) {
        n = u->next;
        free(u->data);
        free(u);
    }
    for (kept_t *k = q->k_head, *n; k; k = n) {
        n = k->next;
        free(k);
    }
    free(q->buckets);
    free(q);
    *self_p = NULL;
}

/* ---- updates ------------------------------------------------------------------------------ */

static uint64_t
uid_hash(const char *uid)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: uids are random already */
    for (; *uid; uid++)
        h = (h ^ (uint8_t)*uid) * 1099511628211ull;
    return h;
}

static upd_t **
bucket_of(ns_outq_t *q, uint64_t hash)
{
    return &q->buckets[hash & (q->nbuckets - 1)];
}

static upd_t *
upd_find(ns_outq_t *q, const char *uid, uint64_t hash)
{
    for (upd_t *u = *bucket_of(q, hash); u; u = u->hnext)
        if (u->hash == hash && strcmp(u->uid, uid) == 0)
            return u;
    return NULL;
}

/* Unlink `u` from its chain and the queue, and free it. */
static void
upd_remove(ns_outq_t *q, upd_t *u)
{
    upd_t **pp = bucket_of(q, u->hash);
    while (*pp != u)
        pp = &(*pp)->hnext;
    *pp = u->hnext;
    if (u->prev)
        u->prev->next = u->next;
    else
        q->u_head = u->next;
    if (u->next)
        u->next->prev = u->prev;
    else
        q->u_tail = u->prev;
    q->st.updates_waiting--;
    q->st.updates_bytes -= u->len;
    free(u->data);
    free(u);
}

/* More updates than buckets: double the table (chains stay short). */
static void
maybe_grow(ns_outq_t *q)
{
    if (q->st.updates_waiting < q->nbuckets || q->nbuckets >= (1u << 26))
        return;
    uint32_t nb = q->nbuckets * 2;
    upd_t **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return; /* longer chains, still correct */
    for (upd_t *u = q->u_head; u; u = u->next) {
        upd_t **slot = &b[u->hash & (nb - 1)];
        u->hnext = *slot;
        *slot = u;
    }
    free(q->buckets);
    q->buckets = b;
    q->nbuckets = nb;
}

void
ns_outq_update(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n)
{
    ns_outq_t *q = self;
    q->st.updates_in++;
    uint64_t h = uid_hash(uid);
    upd_t *u = upd_find(q, uid, h);
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) {
        q->st.updates_dropped++;
        return;
    }
    memcpy(copy, entry, n);
    if (u) {
        q->st.updates_coalesced++;
        q->st.updates_bytes -= u->len;
        free(u->data);
        u->data = copy;
        u->len = n;
        q->st.updates_bytes += n;
    } else {
        u = calloc(1, sizeof(*u));
        if (u == NULL) {
            free(copy);
            q->st.updates_dropped++;
            return;
        }
        u->hash = h;
        size_t ul = strlen(uid);
        memcpy(u->uid, uid, ul < UID_MAX ? ul : UID_MAX - 1);
        u->data = copy;
        u->len = n;
        upd_t **b = bucket_of(q, h);
        u->hnext = *b;
        *b = u;
        u->prev = q->u_tail;
        if (q->u_tail)
            q->u_tail->next = u;
        else
            q->u_head = u;
        q->u_tail = u;
        q->st.updates_waiting++;
        q->st.updates_bytes += n;
        maybe_grow(q);
    }
    /* over the bound: the flows queued longest ago lose their waiting update */
    while (q->st.updates_bytes > q->o.updates_max_bytes && q->u_head) {
        upd_remove(q, q->u_head);
        q->st.updates_dropped++;
    }
}

/* ---- final records ----------------------------------------------------------------------- */

/* Remove the oldest entry of the ordered buffer; `dropped`: it was not sent. */
static void
final_pop(ns_outq_t *q, bool dropped)
{
    final_t *f = q->f_head;
    if (dropped) {
        if (f->txn)
            q->st.txn_dropped++;
        else
            q->st.finals_dropped++;
    } else if (!f->txn) {
        q->st.finals_sent++;
    }
    q->f_head = f->next;
    if (q->f_head == NULL)
        q->f_tail = NULL;
    q->st.finals_waiting--;
    q->st.finals_bytes -= f->len;
    free(f);
}

/* Append to the ordered buffer (finals and updates carrying transactions), superseding the
 * flow's waiting update; over the bound the oldest entries are dropped. */
static void
ordered_add(ns_outq_t *q, bool txn, const char *uid, const uint8_t *entry, size_t n)
{
    upd_t *u = upd_find(q, uid, uid_hash(uid));
    if (u)
        upd_remove(q, u);
    if (n > q->o.finals_max_bytes) {
        if (txn)
            q->st.txn_dropped++;
        else
            q->st.finals_dropped++;
        return;
    }
    while (q->st.finals_bytes + n > q->o.finals_max_bytes && q->f_head)
        final_pop(q, true);
    final_t *f = malloc(sizeof(*f) + n);
    if (f == NULL) {
        if (txn)
            q->st.txn_dropped++;
        else
            q->st.finals_dropped++;
        return;
    }
    f->next = NULL;
    f->txn = txn;
    f->len = n;
    memcpy(f->data, entry, n);
    if (q->f_tail)
        q->f_tail->next = f;
    else
        q->f_head = f;
    q->f_tail = f;
    q->st.finals_waiting++;
    q->st.finals_bytes += n;
}

void
ns_outq_final(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n)
{
    self->st.finals_in++;
    ordered_add(self, false, uid, entry, n);
}

void
ns_outq_txn(ns_outq_t *self, const char *uid, const uint8_t *entry, size_t n)
{
    self->st.txn_in++;
    ordered_add(self, true, uid, entry, n);
}

/* ---- batches ------------------------------------------------------------------------------- */

void
ns_outq_fill(ns_outq_t *self, ns_outq_add_fn add, void *ud, uint32_t *finals, uint32_t *txns,
             uint32_t *updates)
{
    ns_outq_t *q = self;
    *finals = *txns = *updates = 0;
    while (q->f_head && add(ud, q->f_head->data, q->f_head->len)) {
        if (q->f_head->txn)
            (*txns)++;
        else
            (*finals)++;
        final_pop(q, false);
    }
    if (q->f_head == NULL) { /* else the batch is full */
        while (q->u_head && add(ud, q->u_head->data, q->u_head->len)) {
            upd_remove(q, q->u_head);
            (*updates)++;
        }
    }
    q->st.updates_sent += *updates;
}

bool
ns_outq_idle(const ns_outq_t *self)
{
    return self->f_head == NULL && self->u_head == NULL;
}

bool
ns_outq_window_full(const ns_outq_t *self)
{
    return self->st.unacked >= self->o.window;
}

void
ns_outq_sent(ns_outq_t *self, uint64_t seq, const uint8_t *msg, size_t len, uint32_t finals,
             uint32_t txns, uint64_t now_ns)
{
    ns_outq_t *q = self;
    if (finals + txns == 0)
        return;
    kept_t *k = malloc(sizeof(*k) + len);
    if (k == NULL)
        return; /* not kept: the collector reports the batch lost if it does not arrive */
    k->next = NULL;
    k->seq = seq;
    k->sent_ns = now_ns;
    k->finals = finals;
    k->len = len;
    memcpy(k->data, msg, len);
    if (q->k_tail)
        q->k_tail->next = k;
    else
        q->k_head = k;
    q->k_tail = k;
    q->st.unacked++;
    q->st.unacked_bytes += len;
    q->st.batches_kept++;
}

void
ns_outq_ack(ns_outq_t *self, uint64_t seq)
{
    ns_outq_t *q = self;
    while (q->k_head && q->k_head->seq <= seq) {
        kept_t *k = q->k_head;
        q->k_head = k->next;
        if (q->k_head == NULL)
            q->k_tail = NULL;
        q->st.unacked--;
        q->st.unacked_bytes -= k->len;
        q->st.finals_acked += k->finals;
        q->st.batches_acked++;
        free(k);
    }
}

uint64_t
ns_outq_lowest_kept(const ns_outq_t *self)
{
    return self->k_head ? self->k_head->seq : 0;
}

bool
ns_outq_ack_overdue(const ns_outq_t *self, uint64_t now_ns, uint64_t timeout_ns)
{
    return self->k_head && now_ns >= self->k_head->sent_ns &&
           now_ns - self->k_head->sent_ns >= timeout_ns;
}

uint32_t
ns_outq_resend(ns_outq_t *self, ns_outq_send_fn send, void *ud, uint64_t now_ns)
{
    uint32_t n = 0;
    for (kept_t *k = self->k_head; k; k = k->next) {
        send(ud, k->seq, k->data, k->len);
        k->sent_ns = now_ns;
        n++;
    }
    self->st.batches_resent += n;
    return n;
}

void
ns_outq_stats(const ns_outq_t *self, ns_outq_stats_t *out)
{
    *out = self->st;
}

/* flow_table.c - fixed-capacity flow storage: open-addressing index plus LRU queues.
 *
 * Index: `slots` is a power of two >= 2 * capacity; a slot holds flow index + 1 (0 = empty),
 * so a fresh calloc'ed index needs no initialisation pass. Lookups compare the 16-byte compact
 * key stored in the record (IPv6 flows then also compare the addresses in the v6 pool). Deletion shifts
 * later members of the probe run back (Knuth's algorithm R), so lookups never wade through
 * tombstones however many flows come and go.
 *
 * Records are handed out from a free list threaded through lru_next; indexes never handed out
 * yet come from `fresh`, which keeps untouched memory untouched.
 */
#include "netscope/flow_table.h"

#include <stdlib.h>
#include <string.h>

#include "netscope/err.h"

struct ns_flow_table {
    ns_flow_t *flows;
    ns_flow_tcp_t *tcp;
    ns_addr_t (*v6)[2];               /* IPv6 address pairs; pool entry h is v6[h] */
    uint32_t v6_fresh;                /* entries never used: [v6_fresh, capacity) */
    uint32_t v6_free;                 /* free list through the first word, NS_FLOW_NONE ends */
    uint32_t (*hi)[NS_FLOW_COUNTERS]; /* high words of wrapped counters (NS_FLOW_F_WIDE) */
    ns_flow_tcp_ext_t *ext;           /* TCP extensions; handle h is ext[h - 1] */
    uint32_t ext_fresh;               /* handles never used: (ext_fresh, capacity] */
    uint32_t ext_free;                /* free list through next_free, 0 = empty */
    uint32_t ext_used, ext_peak;
    uint32_t *slots;
    uint32_t mask;
    uint32_t capacity;
    uint32_t count;
    uint32_t fresh;     /* indexes [fresh, capacity) never used */
    uint32_t free_head; /* free list through lru_next */
    uint64_t seed;
    struct {
        uint32_t head, tail; /* head = least recent */
    } q[NS_FLOW_QUEUES];
};

static uint32_t
fold16(const ns_addr_t *a)
{
    uint32_t w[4];
    memcpy(w, a->b, sizeof(w));
    return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/* The compact key. IPv6: a4[0] folds both addresses (a quick reject), a4[1] is the entry of
 * the v6 pool holding them (set by ns_flow_table_add, not compared). */
static void
compact_key(const ns_flow_key_t *key, ns_flow_t *f)
{
    if (key->ip_ver == 6) {
        f->a4[0] = fold16(&key->addr[0]) ^ (fold16(&key->addr[1]) * 0x9e3779b1u);
        f->a4[1] = 0;
    } else {
        memcpy(&f->a4[0], key->addr[0].b, 4);
        memcpy(&f->a4[1], key->addr[1].b, 4);
    }
    f->port[0] = key->port[0];
    f->port[1] = key->port[1];
    f->vlan = key->vlan;
    f->proto = key->proto;
    f->ip_ver = key->ip_ver;
}

static bool
record_matches(const ns_flow_table_t *t, uint32_t idx, const ns_flow_t *probe,
               const ns_flow_key_t *key)
{
    const ns_flow_t *f = &t->flows[idx];
    if (f->a4[0] != probe->a4[0] || memcmp(&f->port, &probe->port, 8) != 0)
        return false;
    if (key->ip_ver == 6)
        return memcmp(t->v6[f->a4[1]], key->addr, sizeof(key->addr)) == 0;
    return f->a4[1] == probe->a4[1];
}

ns_flow_table_t *
ns_flow_table_new(uint32_t capacity, uint64_t seed)
{
    if (capacity == 0 || capacity > NS_FLOW_TABLE_MAX_CAPACITY)
        return NULL;
    ns_flow_table_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    uint32_t slots = 2;
    while (slots < 2u * capacity)
        slots <<= 1;
    t->flows = calloc(capacity, sizeof(*t->flows));
    t->tcp = calloc(capacity, sizeof(*t->tcp));
    t->v6 = calloc(capacity, sizeof(*t->v6));
    t->hi = calloc(capacity, sizeof(*t->hi));
    t->ext = calloc(capacity, sizeof(*t->ext));
    t->slots = calloc(slots, sizeof(*t->slots));
    if (t->flows == NULL || t->tcp == NULL || t->v6 == NULL || t->hi == NULL ||
        t->ext == NULL || t->slots == NULL) {
        ns_flow_table_destroy(&t);
        return NULL;
    }
    t->mask = slots - 1;
    t->capacity = capacity;
    t->free_head = NS_FLOW_NONE;
    t->v6_free = NS_FLOW_NONE;
    t->seed = seed;
    for (unsigned i = 0; i < NS_FLOW_QUEUES; i++)
        t->q[i].head = t->q[i].tail = NS_FLOW_NONE;
    return t;
}

void
ns_flow_table_destroy(ns_flow_table_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_flow_table_t *t = *self_p;
    free(t->flows);
    free(t->tcp);
    free(t->v6);
    free(t->hi);
    free(t->ext);
    free(t->slots);
    free(t);
    *self_p = NULL;
}

uint64_t
ns_flow_table_hash(const ns_flow_table_t *self, const ns_flow_key_t *key)
{
    return ns_flow_key_hash(key, self->seed);
}

uint32_t
ns_flow_table_find(const ns_flow_table_t *self, const ns_flow_key_t *key, uint64_t hash)
{
    ns_flow_t probe;
    compact_key(key, &probe);
    for (uint32_t s = (uint32_t)hash & self->mask;; s = (s + 1) & self->mask) {
        uint32_t v = self->slots[s];
        if (v == 0)
            return NS_FLOW_NONE;
        if (record_matches(self, v - 1, &probe, key))
            return v - 1;
    }
}

/* ---- queues ---------------------------------------------------------------------------- */

static void
q_unlink(ns_flow_table_t *t, uint32_t idx)
{
    ns_flow_t *f = &t->flows[idx];
    unsigned q = f->queue;
    if (f->lru_prev != NS_FLOW_NONE)
        t->flows[f->lru_prev].lru_next = f->lru_next;
    else
        t->q[q].head = f->lru_next;
    if (f->lru_next != NS_FLOW_NONE)
        t->flows[f->lru_next].lru_prev = f->lru_prev;
    else
        t->q[q].tail = f->lru_prev;
}

static void
q_append(ns_flow_table_t *t, uint32_t idx, unsigned q)
{
    ns_flow_t *f = &t->flows[idx];
    f->queue = (uint8_t)q;
    f->lru_next = NS_FLOW_NONE;
    f->lru_prev = t->q[q].tail;
    if (t->q[q].tail != NS_FLOW_NONE)
        t->flows[t->q[q].tail].lru_next = idx;
    else
        t->q[q].head = idx;
    t->q[q].tail = idx;
}

void
ns_flow_table_touch(ns_flow_table_t *self, uint32_t idx, unsigned queue)
{
    if (queue >= NS_FLOW_QUEUES)
        queue = NS_FLOW_QUEUES - 1;
    if (self->q[queue].tail == idx && self->flows[idx].queue == queue)
        return; /* already the most recent: the common case of a busy flow */
    q_unlink(self, idx);
    q_append(self, idx, queue);
}

uint32_t
ns_flow_table_oldest(const ns_flow_table_t *self, unsigned queue)
{
    return queue < NS_FLOW_QUEUES ? self->q[queue].head : NS_FLOW_NONE;
}

uint32_t
ns_flow_table_lru(const ns_flow_table_t *self)
{
    uint32_t best = NS_FLOW_NONE;
    for (unsigned q = 0; q < NS_FLOW_QUEUES; q++) {
        uint32_t h = self->q[q].head;
        if (h == NS_FLOW_NONE)
            continue;
        if (best == NS_FLOW_NONE || self->flows[h].last_ns < self->flows[best].last_ns)
            best = h;
    }
    return best;
}

uint32_t
ns_flow_table_next(const ns_flow_table_t *self, uint32_t idx)
{
    return self->flows[idx].lru_next;
}

/* ---- add / delete ---------------------------------------------------------------------- */

uint32_t
ns_flow_table_add(ns_flow_table_t *self, const ns_flow_key_t *key, uint64_t hash,
                  unsigned queue, uint64_t now_ns)
{
    uint32_t idx;
    if (self->free_head != NS_FLOW_NONE) {
        idx = self->free_head;
        self->free_head = self->flows[idx].lru_next;
    } else if (self->fresh < self->capacity) {
        idx = self->fresh++;
    } else {
        return NS_FLOW_NONE;
    }
    ns_flow_t *f = &self->flows[idx];
    memset(f, 0, sizeof(*f));
    /* Only TCP flows touch their TCP record, so UDP-only pages of it stay unmapped. */
    if (key->proto == NS_FLOW_PROTO_TCP) {
        memset(&self->tcp[idx], 0, sizeof(self->tcp[idx]));
        self->tcp[idx].karn_dir = 0xff;
    }
    compact_key(key, f);
    if (key->ip_ver == 6) {
        /* From the v6 pool, most recently freed first: resident memory follows the number
         * of IPv6 flows, wherever their records are. */
        uint32_t h;
        if (self->v6_free != NS_FLOW_NONE) {
            h = self->v6_free;
            memcpy(&self->v6_free, self->v6[h], sizeof(uint32_t));
        } else {
            h = self->v6_fresh++; /* never more entries than flows */
        }
        memcpy(self->v6[h], key->addr, sizeof(key->addr));
        f->a4[1] = h;
        f->fl |= NS_FLOW_F_V6;
    }
    f->first_ns = f->last_ns = now_ns;
    uint32_t s = (uint32_t)hash & self->mask;
    while (self->slots[s] != 0)
        s = (s + 1) & self->mask;
    self->slots[s] = idx + 1;
    if (queue >= NS_FLOW_QUEUES)
        queue = NS_FLOW_QUEUES - 1;
    q_append(self, idx, queue);
    self->count++;
    return idx;
}

static uint32_t
home_slot(const ns_flow_table_t *t, uint32_t idx)
{
    ns_flow_key_t key;
    ns_flow_table_key(t, idx, &key);
    return (uint32_t)ns_flow_key_hash(&key, t->seed) & t->mask;
}

void
ns_flow_table_del(ns_flow_table_t *self, uint32_t idx)
{
    uint32_t s = home_slot(self, idx);
    /* The flow's run of slots ends at an empty one: reaching it means idx is not in the
     * table, a caller's bug that must stop here, not loop or corrupt the index. */
    while (self->slots[s] != idx + 1) {
        NS_CHECK(self->slots[s] != 0, "ns_flow_table_del: flow index not in the table");
        s = (s + 1) & self->mask;
    }
    /* Backward shift: move later members of the run into the hole when their home slot is
     * not between the hole and their position (cyclically). */
    uint32_t hole = s;
    for (uint32_t j = (hole + 1) & self->mask; self->slots[j] != 0; j = (j + 1) & self->mask) {
        uint32_t h = home_slot(self, self->slots[j] - 1);
        bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (!stays) {
            self->slots[hole] = self->slots[j];
            hole = j;
        }
    }
    self->slots[hole] = 0;
    q_unlink(self, idx);
    ns_flow_t *f = &self->flows[idx];
    if (f->fl & NS_FLOW_F_WIDE)
        memset(self->hi[idx], 0, sizeof(self->hi[idx]));
    if (f->ip_ver == 6) {
        memcpy(self->v6[f->a4[1]], &self->v6_free, sizeof(uint32_t));
        self->v6_free = f->a4[1];
    }
    if (f->proto == NS_FLOW_PROTO_TCP && self->tcp[idx].ext != 0) {
        uint32_t h = self->tcp[idx].ext;
        self->ext[h - 1].next_free = self->ext_free;
        self->ext_free = h;
        self->ext_used--;
    }
    self->flows[idx].lru_next = self->free_head;
    self->free_head = idx;
    self->count--;
}

/* ---- access ---------------------------------------------------------------------------- */

void
ns_flow_table_carry(ns_flow_table_t *self, uint32_t idx, unsigned counter)
{
    self->flows[idx].fl |= NS_FLOW_F_WIDE;
    self->hi[idx][counter % NS_FLOW_COUNTERS]++;
}

ns_flow_tcp_ext_t *
ns_flow_table_tcp_ext(ns_flow_table_t *self, uint32_t idx)
{
    ns_flow_tcp_t *t = &self->tcp[idx];
    if (t->ext != 0)
        return &self->ext[t->ext - 1];
    uint32_t h;
    if (self->ext_free != 0) {
        h = self->ext_free;
        self->ext_free = self->ext[h - 1].next_free;
    } else if (self->ext_fresh < self->capacity) {
        h = ++self->ext_fresh;
    } else {
        return NULL; /* cannot happen: one extension per flow at most */
    }
    t->ext = h;
    if (++self->ext_used > self->ext_peak)
        self->ext_peak = self->ext_used;
    ns_flow_tcp_ext_t *x = &self->ext[h - 1];
    memset(x, 0, sizeof(*x));
    return x;
}

void
ns_flow_table_view(const ns_flow_table_t *self, uint32_t idx, ns_flow_view_t *v)
{
    const ns_flow_t *f = &self->flows[idx];
    v->f = *f;
    v->is_tcp = f->proto == NS_FLOW_PROTO_TCP;
    if (v->is_tcp)
        v->tcp = self->tcp[idx];
    else
        memset(&v->tcp, 0, sizeof(v->tcp));
    if (v->is_tcp && v->tcp.ext != 0)
        v->x = self->ext[v->tcp.ext - 1];
    else
        memset(&v->x, 0, sizeof(v->x));
    const uint32_t *hi = (f->fl & NS_FLOW_F_WIDE) ? self->hi[idx] : NULL;
    for (unsigned d = 0; d < 2; d++) {
#define WIDE(k, lo) ((hi ? (uint64_t)hi[d * 4u + (k)] << 32 : 0u) | (lo))
        v->pkts[d] = WIDE(0, f->d[d].pkts);
        v->wire_bytes[d] = WIDE(1, f->d[d].wire_bytes);
        v->ip_bytes[d] = WIDE(2, f->d[d].ip_bytes);
        v->payload_bytes[d] = WIDE(3, f->d[d].payload_bytes);
#undef WIDE
    }
}

uint32_t
ns_flow_table_ext_peak(const ns_flow_table_t *self)
{
    return self->ext_peak;
}

ns_flow_t *
ns_flow_table_get(ns_flow_table_t *self, uint32_t idx)
{
    return &self->flows[idx];
}

ns_flow_tcp_t *
ns_flow_table_tcp(ns_flow_table_t *self, uint32_t idx)
{
    return &self->tcp[idx];
}

const ns_flow_t *
ns_flow_table_cget(const ns_flow_table_t *self, uint32_t idx)
{
    return &self->flows[idx];
}

const ns_flow_tcp_t *
ns_flow_table_ctcp(const ns_flow_table_t *self, uint32_t idx)
{
    return &self->tcp[idx];
}

void
ns_flow_table_key(const ns_flow_table_t *self, uint32_t idx, ns_flow_key_t *key)
{
    const ns_flow_t *f = &self->flows[idx];
    memset(key, 0, sizeof(*key));
    if (f->ip_ver == 6) {
        memcpy(key->addr, self->v6[f->a4[1]], sizeof(key->addr));
    } else {
        memcpy(key->addr[0].b, &f->a4[0], 4);
        memcpy(key->addr[1].b, &f->a4[1], 4);
    }
    key->port[0] = f->port[0];
    key->port[1] = f->port[1];
    key->vlan = f->vlan;
    key->proto = f->proto;
    key->ip_ver = f->ip_ver;
}

uint32_t
ns_flow_table_count(const ns_flow_table_t *self)
{
    return self->count;
}

uint32_t
ns_flow_table_capacity(const ns_flow_table_t *self)
{
    return self->capacity;
}

size_t
ns_flow_table_bytes(const ns_flow_table_t *self)
{
    return (size_t)self->capacity * (sizeof(ns_flow_t) + sizeof(ns_flow_tcp_t) +
                                     sizeof(*self->v6) + sizeof(*self->hi) +
                                     sizeof(*self->ext)) +
           ((size_t)self->mask + 1) * sizeof(uint32_t);
}

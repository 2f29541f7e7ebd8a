/* inventory.c - the agents a collector knows, in a fixed array found by id through a hash.
 *
 * The public part of an agent (ns_inventory_agent_t) is what readers get; what only the
 * inventory needs sits in a parallel array of slots: the agent's seqtrack (allocated for every
 * slot at creation, so a Hello never allocates), the ring of recent clock samples and the
 * hash chain link. Slots are taken lowest index first: Hellos are rare, so the scan for a free
 * one costs nothing that matters, and a dump lists agents in a stable order.
 */
#include "netscope/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    uint32_t hnext;  /* hash chain, NS_INV_NONE ends */
    ns_seqtrack_t *seq;
    int64_t clock[NS_INV_CLOCK_SAMPLES];
    uint32_t clock_n, clock_next;
} slot_t;

struct ns_inventory {
    ns_inventory_agent_t *agents;
    slot_t *slots;
    uint32_t *bucket; /* chain heads */
    uint32_t mask;
    uint32_t max, count;
};

/* FNV-1a: ids are short strings from authenticated agents (see inventory.h). */
static uint32_t
bucket_of(const ns_inventory_t *inv, const char *id)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32)) & inv->mask;
}

ns_inventory_t *
ns_inventory_new(uint32_t max_agents, uint32_t seq_window, char *errbuf, size_t errlen)
{
    if (max_agents == 0 || max_agents > NS_INV_MAX_AGENTS) {
        snprintf(errbuf, errlen, "agent count %u is out of range (1 .. %u)", max_agents,
                 NS_INV_MAX_AGENTS);
        return NULL;
    }
    ns_inventory_t *inv = calloc(1, sizeof(*inv));
    uint32_t buckets = 1;
    while (buckets < max_agents)
        buckets <<= 1;
    if (inv != NULL) {
        inv->max = max_agents;
        inv->agents = calloc(max_agents, sizeof(*inv->agents));
        inv->slots = calloc(max_agents, sizeof(*inv->slots));
        inv->bucket = malloc((size_t)buckets * sizeof(*inv->bucket));
    }
    if (inv == NULL || inv->agents == NULL || inv->slots == NULL || inv->bucket == NULL) {
        snprintf(errbuf, errlen, "out of memory for an inventory of %u agents", max_agents);
        ns_inventory_destroy(&inv);
        return NULL;
    }
    memset(inv->bucket, 0xff, (size_t)buckets * sizeof(*inv->bucket)); /* NS_INV_NONE */
    inv->mask = buckets - 1;
    for (uint32_t i = 0; i < max_agents; i++) {
        inv->slots[i].seq = ns_seqtrack_new(seq_window, errbuf, errlen);
        if (inv->slots[i].seq == NULL) {
            ns_inventory_destroy(&inv);
            return NULL;
        }
    }
    return inv;
}

void
ns_inventory_destroy(ns_inventory_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_inventory_t *inv = *self_p;
    for (uint32_t i = 0; inv->slots != NULL && i < inv->max; i++)
        ns_seqtrack_destroy(&inv->slots[i].seq);
    free(inv->agents);
    free(inv->slots);
    free(inv->bucket);
    free(inv);
    *self_p = NULL;
}

/* ---- helpers --------------------------------------------------------------------------- */

/* A string that fits in `max` bytes with its NUL, and is not empty. */
static bool
fits(const char *s, size_t max)
{
    if (s == NULL)
        return false;
    size_t n = strnlen(s, max);
    return n > 0 && n < max;
}

/* Copy `src` (NULL = "") into `dst`, cut to fit. */
static void
copy_cut(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src != NULL ? src : "");
}

static ns_inventory_agent_t *
agent_at(ns_inventory_t *inv, uint32_t idx)
{
    return idx < inv->max && inv->slots[idx].used ? &inv->agents[idx] : NULL;
}

/* Any message: the agent is there. */
static void
touch(ns_inventory_agent_t *ag, uint64_t now_ns)
{
    ag->last_seen_ns = now_ns;
    ag->connected = true;
}

/* now - send as a signed number, saturated (a hostile send time must not overflow it). */
static int64_t
clock_diff(uint64_t now_ns, uint64_t send_ns)
{
    if (now_ns >= send_ns) {
        uint64_t d = now_ns - send_ns;
        return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
    }
    uint64_t d = send_ns - now_ns;
    return d > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)d;
}

static void
clock_sample(slot_t *sl, ns_inventory_agent_t *ag, uint64_t send_ns, uint64_t now_ns)
{
    if (send_ns == 0)
        return;
    sl->clock[sl->clock_next] = clock_diff(now_ns, send_ns);
    sl->clock_next = (sl->clock_next + 1) % NS_INV_CLOCK_SAMPLES;
    if (sl->clock_n < NS_INV_CLOCK_SAMPLES)
        sl->clock_n++;
    int64_t min = sl->clock[0];
    for (uint32_t i = 1; i < sl->clock_n; i++)
        if (sl->clock[i] < min)
            min = sl->clock[i];
    ag->clock_offset_ns = min;
    ag->clock_known = true;
}

/* Forget what a previous process of the agent (or a previous agent of the slot) counted. */
static void
reset_counts(slot_t *sl, ns_inventory_agent_t *ag)
{
    ns_seqtrack_reset(sl->seq);
    ns_seqtrack_stats(sl->seq, &ag->seq);
    memset(&ag->health, 0, sizeof(ag->health));
    ag->health_ns = 0;
    ag->batches = 0;
    for (uint32_t i = 0; i < NS_INV_IFACES_MAX; i++) {
        memset(&ag->ifaces[i].stats, 0, sizeof(ag->ifaces[i].stats));
        ag->ifaces[i].stats_ns = 0;
    }
}

/* Take the interfaces of a Hello. Counters stay with an interface still at the same place
 * under the same name (a reconnect); they are zeroed otherwise. */
static void
set_ifaces(ns_inventory_agent_t *ag, const ns_inventory_hello_t *h)
{
    size_t n = h->ifaces != NULL ? h->n_ifaces : 0;
    ag->ifaces_truncated = n > NS_INV_IFACES_MAX;
    if (n > NS_INV_IFACES_MAX)
        n = NS_INV_IFACES_MAX;
    for (size_t i = 0; i < n; i++) {
        const ns_inventory_iface_hello_t *src = &h->ifaces[i];
        ns_inventory_iface_t *dst = &ag->ifaces[i];
        char name[NS_INV_IFNAME_MAX];
        copy_cut(name, sizeof(name), src->name);
        if (i >= ag->n_ifaces || strcmp(name, dst->name) != 0) {
            memset(&dst->stats, 0, sizeof(dst->stats));
            dst->stats_ns = 0;
        }
        memcpy(dst->name, name, sizeof(name));
        dst->link_type = src->link_type;
        dst->snaplen = src->snaplen;
        dst->n_addrs = 0;
        size_t na = src->addrs != NULL ? src->n_addrs : 0;
        for (size_t k = 0; k < na; k++) {
            const ns_host_addr_t *a = &src->addrs[k];
            if (a->ip_ver != 4 && a->ip_ver != 6)
                continue; /* not an address we could ever match */
            if (dst->n_addrs == NS_INV_IF_ADDRS_MAX) {
                ag->ifaces_truncated = true;
                break;
            }
            ns_host_addr_t *o = &dst->addrs[dst->n_addrs++];
            *o = *a;
            if (a->ip_ver == 4)
                memset(o->addr.b + 4, 0, sizeof(o->addr.b) - 4);
        }
        memset(&dst->addrs[dst->n_addrs], 0,
               (NS_INV_IF_ADDRS_MAX - dst->n_addrs) * sizeof(dst->addrs[0]));
    }
    memset(&ag->ifaces[n], 0, (NS_INV_IFACES_MAX - n) * sizeof(ag->ifaces[0]));
    ag->n_ifaces = (uint32_t)n;
}

/* ---- messages -------------------------------------------------------------------------- */

ns_inventory_rc_t
ns_inventory_hello(ns_inventory_t *self, const char *id, const char *fingerprint,
                   const ns_inventory_hello_t *hello, uint64_t now_ns, uint32_t *idx)
{
    static const ns_inventory_hello_t nothing;
    if (hello == NULL)
        hello = &nothing;
    if (idx != NULL)
        *idx = NS_INV_NONE;
    if (!fits(id, NS_INV_ID_MAX) || !fits(fingerprint, NS_INV_FPR_MAX))
        return NS_INV_INVALID;
    ns_inventory_rc_t rc = NS_INV_RECONNECTED;
    uint32_t i = ns_inventory_find(self, id);
    if (i == NS_INV_NONE) {
        if (self->count == self->max)
            return NS_INV_FULL;
        for (i = 0; self->slots[i].used; i++)
            ;
        slot_t *sl = &self->slots[i];
        ns_inventory_agent_t *ag = &self->agents[i];
        memset(ag, 0, sizeof(*ag));
        copy_cut(ag->id, sizeof(ag->id), id);
        copy_cut(ag->fingerprint, sizeof(ag->fingerprint), fingerprint);
        ag->first_seen_ns = now_ns;
        sl->used = true;
        sl->clock_n = sl->clock_next = 0;
        reset_counts(sl, ag);
        uint32_t b = bucket_of(self, id);
        sl->hnext = self->bucket[b];
        self->bucket[b] = i;
        self->count++;
        rc = NS_INV_NEW;
    }
    slot_t *sl = &self->slots[i];
    ns_inventory_agent_t *ag = &self->agents[i];
    if (strcmp(ag->fingerprint, fingerprint) != 0) {
        ag->key_mismatches++;
        return NS_INV_KEY_MISMATCH;
    }
    /* A restart needs two known instances that differ: an agent that did not say before is
     * not taken for a new process when it starts saying. */
    if (rc != NS_INV_NEW && hello->instance != 0 && ag->instance != 0 &&
        hello->instance != ag->instance) {
        rc = NS_INV_RESTARTED;
        ag->restarts++;
        reset_counts(sl, ag);
    }
    if (hello->instance != 0)
        ag->instance = hello->instance;
    copy_cut(ag->hostname, sizeof(ag->hostname), hello->hostname);
    copy_cut(ag->version, sizeof(ag->version), hello->version);
    set_ifaces(ag, hello);
    ag->hellos++;
    ag->hello_ns = now_ns;
    touch(ag, now_ns);
    clock_sample(sl, ag, hello->send_ns, now_ns);
    if (idx != NULL)
        *idx = i;
    return rc;
}

uint32_t
ns_inventory_find(const ns_inventory_t *self, const char *id)
{
    if (id == NULL)
        return NS_INV_NONE;
    for (uint32_t i = self->bucket[bucket_of(self, id)]; i != NS_INV_NONE;
         i = self->slots[i].hnext)
        if (strcmp(self->agents[i].id, id) == 0)
            return i;
    return NS_INV_NONE;
}

const ns_inventory_agent_t *
ns_inventory_get(const ns_inventory_t *self, uint32_t idx)
{
    return idx < self->max && self->slots[idx].used ? &self->agents[idx] : NULL;
}

ns_seq_verdict_t
ns_inventory_batch(ns_inventory_t *self, uint32_t idx, uint64_t seq, uint64_t send_ns,
                   uint64_t now_ns)
{
    ns_inventory_agent_t *ag = agent_at(self, idx);
    if (ag == NULL)
        return NS_SEQ_INVALID;
    slot_t *sl = &self->slots[idx];
    touch(ag, now_ns);
    ag->batches++;
    clock_sample(sl, ag, send_ns, now_ns);
    ns_seq_verdict_t v = ns_seqtrack_add(sl->seq, seq);
    ns_seqtrack_stats(sl->seq, &ag->seq);
    return v;
}

ns_err_t
ns_inventory_heartbeat(ns_inventory_t *self, uint32_t idx, const ns_inventory_health_t *h,
                       uint64_t now_ns)
{
    ns_inventory_agent_t *ag = agent_at(self, idx);
    if (ag == NULL)
        return NS_EINVAL;
    slot_t *sl = &self->slots[idx];
    touch(ag, now_ns);
    ag->health = *h;
    ag->health_ns = now_ns;
    clock_sample(sl, ag, h->send_ns, now_ns);
    if (h->lowest_held_seq != 0)
        ns_seqtrack_forget_below(sl->seq, h->lowest_held_seq);
    ns_seqtrack_stats(sl->seq, &ag->seq);
    return NS_OK;
}

ns_err_t
ns_inventory_iface_stats(ns_inventory_t *self, uint32_t idx, uint32_t iface,
                         const ns_inventory_ifstats_t *s, uint64_t now_ns)
{
    ns_inventory_agent_t *ag = agent_at(self, idx);
    if (ag == NULL || iface >= ag->n_ifaces)
        return NS_EINVAL;
    touch(ag, now_ns);
    ag->ifaces[iface].stats = *s;
    ag->ifaces[iface].stats_ns = now_ns;
    return NS_OK;
}

uint64_t
ns_inventory_ack(const ns_inventory_t *self, uint32_t idx)
{
    return ns_inventory_get(self, idx) != NULL ? ns_seqtrack_ack(self->slots[idx].seq) : 0;
}

size_t
ns_inventory_addrs(const ns_inventory_t *self, uint32_t idx, ns_host_addr_t *out, size_t max)
{
    const ns_inventory_agent_t *ag = ns_inventory_get(self, idx);
    size_t n = 0;
    for (uint32_t i = 0; ag != NULL && i < ag->n_ifaces; i++)
        for (uint32_t k = 0; k < ag->ifaces[i].n_addrs && n < max; k++)
            out[n++] = ag->ifaces[i].addrs[k];
    return n;
}

/* ---- presence and bookkeeping ---------------------------------------------------------- */

void
ns_inventory_disconnect(ns_inventory_t *self, uint32_t idx, uint64_t now_ns)
{
    ns_inventory_agent_t *ag = agent_at(self, idx);
    if (ag != NULL && ag->connected) {
        ag->connected = false;
        ag->disconnected_ns = now_ns;
    }
}

uint32_t
ns_inventory_expire(ns_inventory_t *self, uint64_t now_ns, uint64_t silence_ns)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->max; i++) {
        ns_inventory_agent_t *ag = agent_at(self, i);
        if (ag != NULL && ag->connected && now_ns >= ag->last_seen_ns &&
            now_ns - ag->last_seen_ns >= silence_ns) {
            ns_inventory_disconnect(self, i, now_ns);
            n++;
        }
    }
    return n;
}

ns_err_t
ns_inventory_del(ns_inventory_t *self, uint32_t idx)
{
    ns_inventory_agent_t *ag = agent_at(self, idx);
    if (ag == NULL)
        return NS_EINVAL;
    uint32_t *link = &self->bucket[bucket_of(self, ag->id)];
    while (*link != idx)
        link = &self->slots[*link].hnext;
    *link = self->slots[idx].hnext;
    self->slots[idx].used = false;
    memset(ag, 0, sizeof(*ag));
    self->count--;
    return NS_OK;
}

uint32_t
ns_inventory_next(const ns_inventory_t *self, uint32_t prev)
{
    for (uint32_t i = prev == NS_INV_NONE ? 0 : prev + 1; i < self->max; i++)
        if (self->slots[i].used)
            return i;
    return NS_INV_NONE;
}

uint32_t
ns_inventory_count(const ns_inventory_t *self)
{
    return self->count;
}

const char *
ns_inventory_rc_name(ns_inventory_rc_t rc)
{
    static const char *const names[] = {"new",          "reconnected", "restarted",
                                        "key_mismatch", "full",        "invalid"};
    return (unsigned)rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "unknown";
}

/* A string field of a saved entry: terminated within its array and, when `nonempty`, not
 * empty. */
static bool
field_ok(const char *s, size_t size, bool nonempty)
{
    size_t n = strnlen(s, size);
    return n < size && (!nonempty || n > 0);
}

ns_err_t
ns_inventory_restore(ns_inventory_t *self, const ns_inventory_agent_t *saved)
{
    const ns_inventory_agent_t *v = saved;
    if (!field_ok(v->id, sizeof(v->id), true) ||
        !field_ok(v->fingerprint, sizeof(v->fingerprint), true) ||
        !field_ok(v->hostname, sizeof(v->hostname), false) ||
        !field_ok(v->version, sizeof(v->version), false) || v->n_ifaces > NS_INV_IFACES_MAX)
        return NS_EINVAL;
    for (uint32_t k = 0; k < v->n_ifaces; k++)
        if (!field_ok(v->ifaces[k].name, sizeof(v->ifaces[k].name), false) ||
            v->ifaces[k].n_addrs > NS_INV_IF_ADDRS_MAX)
            return NS_EINVAL;
    if (ns_inventory_find(self, v->id) != NS_INV_NONE)
        return NS_EINVAL;
    if (self->count == self->max)
        return NS_EFULL;
    uint32_t i;
    for (i = 0; self->slots[i].used; i++)
        ;
    slot_t *sl = &self->slots[i];
    ns_inventory_agent_t *ag = &self->agents[i];
    memset(ag, 0, sizeof(*ag));
    memcpy(ag->id, v->id, sizeof(ag->id));
    memcpy(ag->fingerprint, v->fingerprint, sizeof(ag->fingerprint));
    memcpy(ag->hostname, v->hostname, sizeof(ag->hostname));
    memcpy(ag->version, v->version, sizeof(ag->version));
    ag->instance = v->instance;
    ag->first_seen_ns = v->first_seen_ns;
    ag->hello_ns = v->hello_ns;
    ag->last_seen_ns = v->last_seen_ns;
    ag->disconnected_ns = v->last_seen_ns;
    ag->hellos = v->hellos;
    ag->restarts = v->restarts;
    ag->key_mismatches = v->key_mismatches;
    ag->n_ifaces = v->n_ifaces;
    ag->ifaces_truncated = v->ifaces_truncated;
    for (uint32_t k = 0; k < v->n_ifaces; k++) {
        ag->ifaces[k] = v->ifaces[k];
        memset(&ag->ifaces[k].stats, 0, sizeof(ag->ifaces[k].stats));
        ag->ifaces[k].stats_ns = 0;
        for (uint32_t a = 0; a < ag->ifaces[k].n_addrs; a++)
            if (ag->ifaces[k].addrs[a].ip_ver != 4 && ag->ifaces[k].addrs[a].ip_ver != 6)
                return NS_EINVAL; /* the slot is not taken yet: nothing to undo */
    }
    ag->prior_batches = v->prior_batches + v->batches;
    ag->prior_lost = v->prior_lost + v->seq.lost;
    ag->prior_duplicates = v->prior_duplicates + v->seq.duplicates;
    ag->prior_reordered = v->prior_reordered + v->seq.reordered;
    sl->used = true;
    sl->clock_n = sl->clock_next = 0;
    reset_counts(sl, ag);
    uint32_t b = bucket_of(self, ag->id);
    sl->hnext = self->bucket[b];
    self->bucket[b] = i;
    self->count++;
    return NS_OK;
}

/* detect.c - sliding-window detectors with fixed memory, and the alert lifecycle (detect.h).
 *
 * Shape of a counting detector: an event names a COUNT KEY (what the threshold is about: a
 * victim and port, a scanner and its target, ...) and a SUBJECT (what an alert is about and
 * deduplicated on; usually the same, a sweep's is the source alone). Counts go to a count-min
 * sketch per bucket and to one for the whole window (the bucket leaving the window is
 * subtracted), so the estimate is one query. A subject gets a row in the candidate table once
 * its estimate reaches the threshold; ticks re-read the estimate of each candidate's count key
 * and move its alert through raised -> ongoing -> cleared. Distinct counts (ports, hosts) go
 * through a Bloom filter first, so a triple counts once per window.
 *
 * The spike detector is different: a small fixed table of (agent, interface) rates, each with
 * an EWMA baseline updated once per second (skipping seconds that alert, so an attack does not
 * become its own baseline).
 */
#include "netscope/detect.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/sketch.h"

#define NS_PER_S 1000000000ull
#define BUCKETS 10u             /* per window */
#define CMS_DEPTH 4u
#define BLOOM_BITS (1ull << 20) /* per generation: 128 KiB */
#define BLOOM_K 3u
#define REFRESH_NS (5ull * NS_PER_S) /* an ongoing alert is handed out again this often */
#define NOISE_SIGMAS 5.0              /* see det_threshold() */
#define EXCLUDE_MAX 64u
#define SPIKE_SLOTS 256u        /* agent interfaces followed */
#define SPIKE_WARMUP_S 30u
#define IPPROTO_ICMP_ 1u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u
#define IPPROTO_ICMPV6_ 58u

/* A count key or subject: fixed bytes, hashed whole. */
typedef struct {
    uint8_t ver, proto;
    uint16_t port;
    uint8_t a[16], b[16];
} dkey_t;

typedef struct {
    uint8_t ver, len; /* len: prefix bits; ver 0: a port entry */
    uint16_t port;
    uint8_t addr[16];
} excl_t;

typedef struct {
    bool used, alerting;
    dkey_t subj, ckey;
    uint64_t chash;
    uint64_t admitted_ns, last_above_ns, handed_ns;
    uint16_t port_lo, port_hi;
    ns_hll_t src;
    ns_alert_t a;
} cand_t;

typedef struct {
    ns_detect_kind_t kind;
    ns_detect_rule_t rule; /* exclude not owned: parsed into excl */
    excl_t excl[EXCLUDE_MAX];
    uint32_t n_excl;
    bool distinct;
    /* window */
    uint64_t bucket_ns, cur_start;
    uint32_t cur;
    ns_cms_t *b[BUCKETS], *win;
    ns_bloom_t *seen[2];
    uint64_t seen_start;
    cand_t *cand;
    uint32_t n_cand;
} det_t;

typedef struct {
    bool used, alerting, warm;
    char agent[NS_ALERT_AGENT_MAX];
    uint8_t iface;
    uint64_t sec, bytes;  /* the second being summed */
    double mean;          /* baseline, bytes/s */
    uint32_t samples;
    uint64_t last_above_ns, handed_ns, last_rate;
    bool pending; /* a change made while rolling from an update: handed out at the tick */
    ns_alert_t a;
} spike_t;

struct ns_detect {
    ns_detect_config_t cfg; /* exclude lists not owned */
    ns_detect_opts_t o;
    uint64_t next_id;
    uint32_t max_cand, width;
    det_t det[NS_DETECT_COUNT];
    spike_t spike[SPIKE_SLOTS];
    excl_t spike_excl[EXCLUDE_MAX];
    ns_detect_stats_t st;
};

static const char *const kind_names[NS_DETECT_COUNT] = {
    "syn_flood", "port_scan", "sweep", "icmp_flood", "udp_flood", "dns_errors", "spike",
};

const char *
ns_detect_kind_name(ns_detect_kind_t k)
{
    return (unsigned)k < NS_DETECT_COUNT ? kind_names[k] : "?";
}

bool
ns_detect_kind_parse(const char *name, ns_detect_kind_t *out)
{
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (ns_detect_kind_t)k;
            return true;
        }
    return false;
}

const char *
ns_alert_state_name(ns_alert_state_t s)
{
    return s == NS_ALERT_RAISED ? "raised" : s == NS_ALERT_ONGOING ? "ongoing" : "cleared";
}

const char *
ns_alert_severity_name(ns_alert_severity_t s)
{
    return s == NS_ALERT_HIGH ? "high" : s == NS_ALERT_MEDIUM ? "medium" : "low";
}

/* Defaults. The counts are per window, so a slow attack below them goes unseen: they are set
 * where ordinary traffic of a busy server stays far below, and sites tune them.
 *   syn_flood 500 half-open in 10 s (50/s): a web server sees a few per second from lossy
 *     clients; hundreds per second without completion is a flood or a dead service.
 *   port_scan 50 distinct ports on one host in 60 s: clients use one or a few ports of a
 *     server (nmap's default scan touches 1000).
 *   sweep 30 distinct hosts on one port in 60 s: tune up (or exclude) for resolvers,
 *     monitoring and proxies, which legitimately talk to many hosts.
 *   icmp_flood 5000 packets in 10 s (500/s); udp_flood 200,000 in 10 s (20,000/s): volumetric,
 *     set well above ping and bulk UDP (media, iperf -u at modest rates).
 *   dns_errors 100 NXDOMAIN/SERVFAIL in 60 s per client: a misconfigured search path gives a
 *     few per query; hundreds per minute is a DGA, tunnelling or a broken resolver.
 *   spike: 5 x the 5-minute baseline and at least 1 MB/s, so idle links do not alert on a
 *     download.
 * clear_after 10 s: long enough not to flap on a bursty attack. */
void
ns_detect_config_default(ns_detect_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->enabled = true;
    c->clear_ns = 10 * NS_PER_S;
    c->max_subjects = 1024;
    c->sketch_width = 4096;
    static const struct {
        uint64_t threshold, window_s;
    } d[NS_DETECT_COUNT] = {
        {500, 10}, {50, 60}, {30, 60}, {5000, 10}, {200000, 10}, {100, 60}, {1000000, 300},
    };
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        c->rule[k].enabled = true;
        c->rule[k].threshold = d[k].threshold;
        c->rule[k].window_ns = d[k].window_s * NS_PER_S;
        c->rule[k].factor = 5.0;
    }
}

/* ---- keys, text, exclusions ---------------------------------------------------------------- */

static void
addr_text(uint8_t ver, const uint8_t *a, char *out, size_t len)
{
    if (inet_ntop(ver == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)len) == NULL)
        snprintf(out, len, "?");
}

static const char *
proto_text(uint8_t p)
{
    return p == IPPROTO_TCP_ ? "tcp" : p == IPPROTO_UDP_ ? "udp"
         : p == IPPROTO_ICMP_ || p == IPPROTO_ICMPV6_ ? "icmp" : "ip";
}

static bool
parse_excludes(const ns_strlist_t *l, excl_t *out, uint32_t *n, char *errbuf, size_t errlen)
{
    *n = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->v[i];
        if (*n == EXCLUDE_MAX) {
            snprintf(errbuf, errlen, "more than %u exclude entries", EXCLUDE_MAX);
            return false;
        }
        excl_t e;
        memset(&e, 0, sizeof(e));
        unsigned port;
        char extra;
        if (sscanf(s, "port %u%c", &port, &extra) == 1 && port <= 65535) {
            e.port = (uint16_t)port;
            out[(*n)++] = e;
            continue;
        }
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", s);
        char *slash = strchr(buf, '/');
        long bits = -1;
        if (slash) {
            *slash = '\0';
            char *end;
            bits = strtol(slash + 1, &end, 10);
            if (*end || end == slash + 1)
                bits = -2;
        }
        if (inet_pton(AF_INET, buf, e.addr) == 1)
            e.ver = 4;
        else if (inet_pton(AF_INET6, buf, e.addr) == 1)
            e.ver = 6;
        long max = e.ver == 6 ? 128 : 32;
        if (e.ver == 0 || bits < -1 || bits > max) {
            snprintf(errbuf, errlen,
                     "exclude entry \"%s\" is not ADDR, ADDR/LEN or \"port N\"", s);
            return false;
        }
        e.len = (uint8_t)(bits < 0 ? max : bits);
        out[(*n)++] = e;
    }
    return true;
}

static bool
in_net(const excl_t *e, uint8_t ver, const uint8_t *a)
{
    if (e->ver != ver)
        return false;
    uint32_t full = e->len / 8u, rest = e->len % 8u;
    if (memcmp(e->addr, a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xffu << (8u - rest));
    return (e->addr[full] & m) == (a[full] & m);
}

static bool
excluded(const excl_t *ex, uint32_t n, uint8_t ver, const uint8_t *src, const uint8_t *dst,
         uint16_t dport, bool has_port)
{
    for (uint32_t i = 0; i < n; i++) {
        const excl_t *e = &ex[i];
        if (e->ver == 0) {
            if (has_port && e->port == dport)
                return true;
        } else if ((src && in_net(e, ver, src)) || (dst && in_net(e, ver, dst))) {
            return true;
        }
    }
    return false;
}

/* ---- one counting detector ------------------------------------------------------------------ */

static void
det_fini(det_t *d)
{
    for (uint32_t i = 0; i < BUCKETS; i++)
        ns_cms_destroy(&d->b[i]);
    ns_cms_destroy(&d->win);
    ns_bloom_destroy(&d->seen[0]);
    ns_bloom_destroy(&d->seen[1]);
    free(d->cand);
    d->cand = NULL;
    d->n_cand = 0;
}

static bool
det_init(det_t *d, uint32_t width, uint32_t max_cand, uint64_t seed)
{
    for (uint32_t i = 0; i < BUCKETS; i++)
        if ((d->b[i] = ns_cms_new(width, CMS_DEPTH, seed)) == NULL)
            return false;
    if ((d->win = ns_cms_new(width, CMS_DEPTH, seed)) == NULL)
        return false;
    if (d->distinct) {
        for (int g = 0; g < 2; g++)
            if ((d->seen[g] = ns_bloom_new(BLOOM_BITS, BLOOM_K, seed ^ 0x5bd1e995u)) == NULL)
                return false;
    }
    d->cand = calloc(max_cand, sizeof(*d->cand));
    d->cur_start = 0;
    d->cur = 0;
    d->seen_start = 0;
    return d->cand != NULL;
}

static void
det_reset_window(det_t *d, uint64_t now)
{
    for (uint32_t i = 0; i < BUCKETS; i++)
        ns_cms_clear(d->b[i]);
    ns_cms_clear(d->win);
    d->cur = 0;
    d->cur_start = now;
}

/* Slide the window to `now`: each bucket that leaves is subtracted from the window's sketch. */
static void
det_advance(det_t *d, uint64_t now)
{
    d->bucket_ns = d->rule.window_ns / BUCKETS;
    if (d->bucket_ns == 0)
        d->bucket_ns = 1;
    if (d->cur_start == 0 || now < d->cur_start) {
        if (d->cur_start == 0)
            det_reset_window(d, now);
        return; /* the clock went back: keep counting into the current bucket */
    }
    uint64_t steps = (now - d->cur_start) / d->bucket_ns;
    if (steps >= BUCKETS) {
        det_reset_window(d, now);
    } else {
        for (uint64_t s = 0; s < steps; s++) {
            d->cur = (d->cur + 1) % BUCKETS;
            ns_cms_sub(d->win, d->b[d->cur]);
            ns_cms_clear(d->b[d->cur]);
            d->cur_start += d->bucket_ns;
        }
    }
    if (d->distinct) {
        if (d->seen_start == 0 || now < d->seen_start) {
            d->seen_start = now;
        } else if (now - d->seen_start >= d->rule.window_ns) {
            ns_bloom_t *t = d->seen[1];
            d->seen[1] = d->seen[0];
            d->seen[0] = t;
            ns_bloom_clear(t);
            d->seen_start = now - d->seen_start >= 2 * d->rule.window_ns ? now
                                                                           : d->seen_start +
                                                                                 d->rule.window_ns;
            if (now - d->seen_start >= d->rule.window_ns)
                ns_bloom_clear(d->seen[1]);
        }
    }
}

/* First time in the window for this distinct triple? */
static bool
det_first_seen(det_t *d, const dkey_t *triple)
{
    if (ns_bloom_has(d->seen[1], triple, sizeof(*triple)))
        return false;
    return !ns_bloom_add(d->seen[0], triple, sizeof(*triple));
}

static cand_t *
cand_find(det_t *d, const dkey_t *subj)
{
    for (uint32_t i = 0; i < d->n_cand; i++)
        if (d->cand[i].used && memcmp(&d->cand[i].subj, subj, sizeof(*subj)) == 0)
            return &d->cand[i];
    return NULL;
}

static cand_t *
cand_add(ns_detect_t *s, det_t *d, const dkey_t *subj, uint64_t now)
{
    cand_t *c = NULL;
    for (uint32_t i = 0; i < d->n_cand && c == NULL; i++)
        if (!d->cand[i].used)
            c = &d->cand[i];
    if (c == NULL && d->n_cand < s->max_cand)
        c = &d->cand[d->n_cand++];
    if (c == NULL) {
        for (uint32_t i = 0; i < d->n_cand; i++) {
            cand_t *x = &d->cand[i];
            if (!x->alerting && (c == NULL || x->a.value < c->a.value))
                c = x;
        }
    }
    if (c == NULL) {
        s->st.subjects_dropped[d->kind]++;
        return NULL;
    }
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->subj = *subj;
    c->admitted_ns = now;
    c->port_lo = UINT16_MAX;
    ns_hll_init(&c->src);
    return c;
}

/* What one event brings: the record (evidence) and the source address (distinct sources). */
typedef struct {
    const char *agent;
    const ns_flow_rec_t *rec;
    const uint8_t *src; /* 16 bytes, or NULL */
} ev_t;

static void
evidence(cand_t *c, const ev_t *ev, uint64_t seed)
{
    ns_alert_t *a = &c->a;
    uint32_t agent = NS_ALERT_AGENTS;
    if (ev->agent && ev->agent[0]) {
        for (uint32_t i = 0; i < a->n_agents && agent == NS_ALERT_AGENTS; i++)
            if (strcmp(a->agents[i], ev->agent) == 0)
                agent = i;
        if (agent == NS_ALERT_AGENTS && a->n_agents < NS_ALERT_AGENTS) {
            agent = a->n_agents++;
            snprintf(a->agents[agent], sizeof(a->agents[0]), "%s", ev->agent);
        }
    }
    const ns_flow_rec_t *r = ev->rec;
    if (r && r->uid[0]) {
        bool have = false;
        for (uint32_t i = 0; i < a->n_uids && !have; i++)
            have = strcmp(a->uids[i], r->uid) == 0;
        if (!have && a->n_uids < NS_ALERT_UIDS) {
            ns_alert_flow_t *f = &a->flows[a->n_uids];
            *f = (ns_alert_flow_t){.ip_ver = r->ip_ver,
                                   .proto = r->proto,
                                   .iface = r->iface,
                                   .agent = (uint8_t)agent,
                                   .vlan = r->vlan,
                                   .port = {r->orig_p, r->resp_p},
                                   .addr = {r->orig_h, r->resp_h},
                                   .first_ns = r->first_ns};
            snprintf(a->uids[a->n_uids++], sizeof(a->uids[0]), "%s", r->uid);
        }
    }
    if (ev->src)
        ns_hll_add_hash(&c->src, ns_sketch_hash(ev->src, 16, seed));
}

/* The threshold in force: the configured one, raised to NOISE_SIGMAS times the sketch's
 * current noise (ns_cms_noise()). Under a flood of many small keys the estimates of
 * count-mean-min scatter by about sqrt(events in the window / width); a threshold within a
 * few of those would alert on random subjects. So a flood raises the bar for the other
 * subjects of the same detector rather than filling the table with false alerts (counted in
 * stats.threshold_raised). */
static uint64_t
det_threshold(ns_detect_t *s, const det_t *d)
{
    double floor = NOISE_SIGMAS * ns_cms_noise(d->win);
    if (floor <= (double)d->rule.threshold)
        return d->rule.threshold;
    s->st.threshold_raised[d->kind]++;
    return (uint64_t)floor;
}

/* Count `n` for `ckey`; give `subj` a candidate when the estimate reaches the threshold. */
static void
det_count(ns_detect_t *s, det_t *d, const dkey_t *ckey, const dkey_t *subj, int32_t n,
          uint16_t port, const ev_t *ev, uint64_t now)
{
    uint64_t h = ns_sketch_hash(ckey, sizeof(*ckey), ns_cms_seed(d->win));
    ns_cms_add_hash(d->b[d->cur], h, n);
    ns_cms_add_hash(d->win, h, n);
    if (n > 0)
        s->st.events[d->kind] += (uint64_t)n;
    if (n <= 0)
        return;
    uint32_t est = ns_cms_query_cmm_hash(d->win, h);
    if (est < d->rule.threshold)
        return; /* neither a new candidate nor news for one (ticks re-read the estimate) */
    cand_t *c = cand_find(d, subj);
    if (c == NULL && est < det_threshold(s, d))
        return;
    if (c == NULL && (c = cand_add(s, d, subj, now)) == NULL)
        return;
    if (est >= c->a.value || memcmp(&c->ckey, ckey, sizeof(*ckey)) == 0) {
        c->ckey = *ckey;
        c->chash = h;
        c->a.value = est;
    }
    if (port < c->port_lo)
        c->port_lo = port;
    if (port > c->port_hi)
        c->port_hi = port;
    evidence(c, ev, s->o.seed);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static ns_alert_severity_t
severity(uint64_t value, uint64_t threshold)
{
    if (threshold == 0 || value >= 10 * threshold)
        return NS_ALERT_HIGH;
    return value >= 3 * threshold ? NS_ALERT_MEDIUM : NS_ALERT_LOW;
}

static void
describe(const det_t *d, cand_t *c)
{
    ns_alert_t *a = &c->a;
    const dkey_t *k = &c->subj;
    char x[48], y[48];
    addr_text(k->ver, k->a, x, sizeof(x));
    a->victim[0] = a->source[0] = a->detail[0] = '\0';
    switch (d->kind) {
    case NS_DETECT_SYN_FLOOD:
        snprintf(a->subject, sizeof(a->subject), "%s port %u/tcp", x, k->port);
        snprintf(a->victim, sizeof(a->victim), "%s", x);
        snprintf(a->detail, sizeof(a->detail), "port %u, half-open SYNs", k->port);
        break;
    case NS_DETECT_PORT_SCAN:
        addr_text(k->ver, k->b, y, sizeof(y));
        snprintf(a->subject, sizeof(a->subject), "%s -> %s", x, y);
        snprintf(a->source, sizeof(a->source), "%s", x);
        snprintf(a->victim, sizeof(a->victim), "%s", y);
        snprintf(a->detail, sizeof(a->detail), "distinct ports, seen %u-%u", c->port_lo,
                 c->port_hi);
        break;
    case NS_DETECT_SWEEP:
        snprintf(a->subject, sizeof(a->subject), "%s", x);
        snprintf(a->source, sizeof(a->source), "%s", x);
        snprintf(a->detail, sizeof(a->detail), "distinct hosts on %s/%u",
                 proto_text(c->ckey.proto), c->ckey.port);
        break;
    case NS_DETECT_ICMP_FLOOD:
    case NS_DETECT_UDP_FLOOD:
        snprintf(a->subject, sizeof(a->subject), "%s", x);
        snprintf(a->victim, sizeof(a->victim), "%s", x);
        snprintf(a->detail, sizeof(a->detail), "%s packets", proto_text(k->proto));
        break;
    case NS_DETECT_DNS_ERRORS:
        snprintf(a->subject, sizeof(a->subject), "%s", x);
        snprintf(a->source, sizeof(a->source), "%s", x);
        snprintf(a->detail, sizeof(a->detail), "NXDOMAIN/SERVFAIL answers");
        break;
    default:
        break;
    }
}

static void
hand(ns_alert_t *a, uint64_t *handed_ns, uint64_t now, bool changed, ns_detect_alert_fn fn,
     void *ud)
{
    a->updated_ns = now;
    *handed_ns = now;
    if (fn)
        fn(ud, a, changed);
}

static void
det_tick(ns_detect_t *s, det_t *d, uint64_t now, ns_detect_alert_fn fn, void *ud)
{
    if (d->win == NULL)
        return;
    det_advance(d, now);
    uint64_t thr = det_threshold(s, d);
    for (uint32_t i = 0; i < d->n_cand; i++) {
        cand_t *c = &d->cand[i];
        if (!c->used)
            continue;
        uint64_t v = ns_cms_query_cmm_hash(d->win, c->chash);
        ns_alert_t *a = &c->a;
        a->value = v;
        if (v >= thr && d->rule.enabled && s->cfg.enabled) {
            c->last_above_ns = now;
            if (v > a->peak)
                a->peak = v;
            a->sources = (uint64_t)(ns_hll_count(&c->src) + 0.5);
            a->severity = severity(a->peak, thr);
            a->threshold = thr;
            a->window_ns = d->rule.window_ns;
            describe(d, c);
            if (!c->alerting) {
                c->alerting = true;
                a->id = s->o.id_base + ++s->next_id;
                a->kind = d->kind;
                a->state = NS_ALERT_RAISED;
                a->raised_ns = now;
                a->cleared_ns = 0;
                s->st.raised[d->kind]++;
                s->st.active[d->kind]++;
                hand(a, &c->handed_ns, now, true, fn, ud);
            } else if (a->state == NS_ALERT_RAISED) {
                a->state = NS_ALERT_ONGOING;
                hand(a, &c->handed_ns, now, true, fn, ud);
            } else if (now >= c->handed_ns + REFRESH_NS) {
                hand(a, &c->handed_ns, now, false, fn, ud);
            }
            continue;
        }
        bool off = !d->rule.enabled || !s->cfg.enabled;
        if (c->alerting && (off || now >= c->last_above_ns + s->cfg.clear_ns)) {
            a->state = NS_ALERT_CLEARED;
            a->cleared_ns = now;
            s->st.cleared[d->kind]++;
            s->st.active[d->kind]--;
            hand(a, &c->handed_ns, now, true, fn, ud);
            c->used = false;
        } else if (!c->alerting && (off || now >= c->admitted_ns + d->rule.window_ns)) {
            c->used = false;
        }
    }
}

/* ---- spike ------------------------------------------------------------------------------------ */

static spike_t *
spike_slot(ns_detect_t *s, const char *agent, uint8_t iface)
{
    spike_t *free_slot = NULL;
    for (uint32_t i = 0; i < SPIKE_SLOTS; i++) {
        spike_t *x = &s->spike[i];
        if (!x->used) {
            if (free_slot == NULL)
                free_slot = x;
            continue;
        }
        if (x->iface == iface && strcmp(x->agent, agent) == 0)
            return x;
    }
    if (free_slot == NULL) {
        s->st.subjects_dropped[NS_DETECT_SPIKE]++;
        return NULL;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = true;
    snprintf(free_slot->agent, sizeof(free_slot->agent), "%s", agent);
    free_slot->iface = iface;
    return free_slot;
}

/* Close the seconds of `x` before `sec`: update the baseline, raise, go on, clear. */
static void
spike_hand(spike_t *x, uint64_t now, ns_detect_alert_fn fn, void *ud)
{
    if (fn == NULL) {
        x->a.updated_ns = now;
        x->pending = true;
        return;
    }
    x->pending = false;
    hand(&x->a, &x->handed_ns, now, true, fn, ud);
}

static void
spike_roll(ns_detect_t *s, spike_t *x, uint64_t sec, ns_detect_alert_fn fn, void *ud)
{
    const ns_detect_rule_t *r = &s->cfg.rule[NS_DETECT_SPIKE];
    if (x->sec == 0) {
        x->sec = sec;
        return;
    }
    bool on = r->enabled && s->cfg.enabled;
    while (x->sec < sec) {
        double rate = (double)x->bytes;
        uint64_t now = (x->sec + 1) * NS_PER_S;
        double limit = x->mean * r->factor;
        bool above = on && x->warm && rate > limit && rate >= (double)r->threshold;
        ns_alert_t *a = &x->a;
        x->last_rate = x->bytes;
        if (above) {
            x->last_above_ns = now;
            a->value = x->bytes;
            if (a->value > a->peak)
                a->peak = a->value;
            a->threshold = (uint64_t)(limit > (double)r->threshold ? limit : (double)r->threshold);
            a->window_ns = r->window_ns;
            a->severity = severity(a->value, a->threshold);
            if (!x->alerting) {
                x->alerting = true;
                memset(a, 0, sizeof(*a));
                a->value = a->peak = x->bytes;
                a->threshold = (uint64_t)(limit > (double)r->threshold ? limit
                                                                        : (double)r->threshold);
                a->window_ns = r->window_ns;
                a->severity = severity(a->value, a->threshold);
                a->id = s->o.id_base + ++s->next_id;
                a->kind = NS_DETECT_SPIKE;
                a->state = NS_ALERT_RAISED;
                a->raised_ns = now;
                snprintf(a->subject, sizeof(a->subject), "%.48s/%u", x->agent, x->iface);
                snprintf(a->detail, sizeof(a->detail), "bytes/s vs baseline %.0f", x->mean);
                snprintf(a->agents[0], sizeof(a->agents[0]), "%s", x->agent);
                a->n_agents = 1;
                s->st.raised[NS_DETECT_SPIKE]++;
                s->st.active[NS_DETECT_SPIKE]++;
                spike_hand(x, now, fn, ud);
            } else if (a->state == NS_ALERT_RAISED) {
                a->state = NS_ALERT_ONGOING;
                spike_hand(x, now, fn, ud);
            } else if (fn && now >= x->handed_ns + REFRESH_NS) {
                hand(a, &x->handed_ns, now, false, fn, ud);
            }
        } else {
            if (x->alerting && (!on || now >= x->last_above_ns + s->cfg.clear_ns)) {
                x->alerting = false;
                a->state = NS_ALERT_CLEARED;
                a->cleared_ns = now;
                a->value = x->bytes;
                s->st.cleared[NS_DETECT_SPIKE]++;
                s->st.active[NS_DETECT_SPIKE]--;
                spike_hand(x, now, fn, ud);
            }
            /* the baseline learns from seconds that do not alert */
            double tc = (double)(r->window_ns / NS_PER_S);
            double alpha = tc >= 1 ? 1.0 / tc : 1.0;
            if (x->samples == 0)
                x->mean = rate;
            else
                x->mean += alpha * (rate - x->mean);
            if (++x->samples >= SPIKE_WARMUP_S)
                x->warm = true;
        }
        x->bytes = 0;
        x->sec++;
        if (sec - x->sec > 3600) /* a long silence: its seconds are zeros, summarised */
            x->sec = sec - 3600;
    }
}

/* ---- the public functions ---------------------------------------------------------------------- */

/* Parse and check `cfg` into ex/nex (per detector). */
static bool
parse_config(const ns_detect_config_t *cfg, excl_t ex[][EXCLUDE_MAX], uint32_t *nex,
             char *errbuf, size_t errlen)
{
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        char e[160];
        if (!parse_excludes(&cfg->rule[k].exclude, ex[k], &nex[k], e, sizeof(e))) {
            snprintf(errbuf, errlen, "detect.%s.exclude: %s", kind_names[k], e);
            return false;
        }
        if (cfg->rule[k].window_ns < NS_PER_S) {
            snprintf(errbuf, errlen, "detect.%s.window must be at least 1 s", kind_names[k]);
            return false;
        }
    }
    uint64_t w = cfg->sketch_width;
    if (w < 16 || w > (1u << 24) || (w & (w - 1))) {
        snprintf(errbuf, errlen, "detect.sketch_width must be a power of two, 16 .. 2^24");
        return false;
    }
    return true;
}

bool
ns_detect_config_check(const ns_detect_config_t *cfg, char *errbuf, size_t errlen)
{
    excl_t(*ex)[EXCLUDE_MAX] = malloc(NS_DETECT_COUNT * sizeof(*ex));
    uint32_t nex[NS_DETECT_COUNT];
    if (ex == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return false;
    }
    bool ok = parse_config(cfg, ex, nex, errbuf, errlen);
    free(ex);
    return ok;
}

static bool
apply_config(ns_detect_t *s, const ns_detect_config_t *cfg, char *errbuf, size_t errlen)
{
    excl_t ex[NS_DETECT_COUNT][EXCLUDE_MAX];
    uint32_t nex[NS_DETECT_COUNT];
    if (!parse_config(cfg, ex, nex, errbuf, errlen))
        return false;
    s->cfg = *cfg;
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        det_t *d = &s->det[k];
        s->cfg.rule[k].exclude.v = NULL;
        s->cfg.rule[k].exclude.n = 0;
        if (d->rule.window_ns != cfg->rule[k].window_ns && d->win)
            det_reset_window(d, d->cur_start);
        d->rule = s->cfg.rule[k];
        memcpy(d->excl, ex[k], sizeof(ex[k]));
        d->n_excl = nex[k];
    }
    return true;
}

ns_detect_t *
ns_detect_new(const ns_detect_config_t *cfg, const ns_detect_opts_t *o, char *errbuf,
              size_t errlen)
{
    ns_detect_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->max_cand = (uint32_t)(cfg->max_subjects ? cfg->max_subjects : 1024);
    s->width = (uint32_t)cfg->sketch_width; /* checked by apply_config() */
    if (!apply_config(s, cfg, errbuf, errlen)) {
        free(s);
        return NULL;
    }
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        det_t *d = &s->det[k];
        d->kind = (ns_detect_kind_t)k;
        if (k == NS_DETECT_SPIKE)
            continue;
        d->distinct = k == NS_DETECT_PORT_SCAN || k == NS_DETECT_SWEEP;
        if (!det_init(d, s->width, s->max_cand, o->seed + (uint64_t)k)) {
            snprintf(errbuf, errlen, "out of memory for the detectors' sketches");
            ns_detect_destroy(&s);
            return NULL;
        }
    }
    return s;
}

void
ns_detect_destroy(ns_detect_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        det_fini(&(*self_p)->det[k]);
    free(*self_p);
    *self_p = NULL;
}

bool
ns_detect_configure(ns_detect_t *self, const ns_detect_config_t *cfg, char *errbuf,
                    size_t errlen)
{
    return apply_config(self, cfg, errbuf, errlen);
}

static void
key_addr(dkey_t *k, const ns_flow_rec_t *r, const ns_addr_t *a)
{
    k->ver = r->ip_ver;
    memcpy(k->a, a->b, 16);
}

/* The (originator, responder, protocol, port) triple a distinct count sees once. */
static dkey_t
key_triple(const ns_flow_rec_t *r, uint16_t port)
{
    dkey_t t;
    memset(&t, 0, sizeof(t));
    key_addr(&t, r, &r->orig_h);
    memcpy(t.b, r->resp_h.b, 16);
    t.proto = r->proto;
    t.port = port;
    return t;
}

static bool
counting(const ns_detect_t *s, ns_detect_kind_t k)
{
    return s->cfg.enabled && s->cfg.rule[k].enabled;
}

/* Excluded for detector k? Counted in stats when it is. */
static bool
skip(ns_detect_t *s, ns_detect_kind_t k, const ns_flow_rec_t *r, bool has_port)
{
    const det_t *d = &s->det[k];
    if (d->n_excl == 0 ||
        !excluded(d->excl, d->n_excl, r->ip_ver, r->orig_h.b, r->resp_h.b, r->resp_p, has_port))
        return false;
    s->st.excluded[k]++;
    return true;
}

static bool
orig_completed(const ns_flow_rec_t *r)
{
    /* Zeek history: upper case is the originator; an ACK (A) or data (D) from it after its
     * SYN completes the handshake from the server's point of view */
    return strchr(r->history, 'A') != NULL || strchr(r->history, 'D') != NULL;
}

static void
new_flow(ns_detect_t *s, const ns_flow_rec_t *r, const ev_t *ev, uint64_t now)
{
    bool tcp_syn = r->proto == IPPROTO_TCP_ && r->syn[0] > 0 && !(r->quality & NS_FLOW_Q_MIDSTREAM);
    bool udp = r->proto == IPPROTO_UDP_;
    bool echo = (r->proto == IPPROTO_ICMP_ && r->orig_p == 8) ||
                (r->proto == IPPROTO_ICMPV6_ && r->orig_p == 128);
    dkey_t ck, sk;
    if (tcp_syn && !orig_completed(r) && counting(s, NS_DETECT_SYN_FLOOD) &&
        !skip(s, NS_DETECT_SYN_FLOOD, r, true)) {
        det_t *d = &s->det[NS_DETECT_SYN_FLOOD];
        det_advance(d, now);
        memset(&ck, 0, sizeof(ck));
        key_addr(&ck, r, &r->resp_h);
        ck.proto = IPPROTO_TCP_;
        ck.port = r->resp_p;
        det_count(s, d, &ck, &ck, 1, r->resp_p, ev, now);
    }
    if ((tcp_syn || udp) && counting(s, NS_DETECT_PORT_SCAN) &&
        !skip(s, NS_DETECT_PORT_SCAN, r, true)) {
        det_t *d = &s->det[NS_DETECT_PORT_SCAN];
        det_advance(d, now);
        dkey_t t = key_triple(r, r->resp_p);
        if (det_first_seen(d, &t)) {
            ck = t;
            ck.port = 0;
            ck.proto = 0;
            det_count(s, d, &ck, &ck, 1, r->resp_p, ev, now);
        }
    }
    /* a sweep counts probes that found nobody (a scanner mostly hits empty addresses and
     * closed ports; a client mostly reaches its servers: web clients touch dozens of hosts on
     * 443 a minute): TCP SYNs not completed, UDP without a reply in the first record, and
     * ICMP echo requests (answered or not: ping sweeps of live subnets count too) */
    bool probe = (tcp_syn && !orig_completed(r)) || (udp && r->pkts[1] == 0) || echo;
    if (probe && counting(s, NS_DETECT_SWEEP) && !skip(s, NS_DETECT_SWEEP, r, !echo)) {
        det_t *d = &s->det[NS_DETECT_SWEEP];
        det_advance(d, now);
        dkey_t t = key_triple(r, echo ? 8 : r->resp_p);
        if (det_first_seen(d, &t)) {
            ck = t;
            memset(ck.b, 0, 16);
            memset(&sk, 0, sizeof(sk));
            key_addr(&sk, r, &r->orig_h);
            det_count(s, d, &ck, &sk, 1, t.port, ev, now);
        }
    }
}

void
ns_detect_update(ns_detect_t *self, const char *agent, const ns_flow_rec_t *r, ns_merge_rc_t rc,
                 const ns_merge_info_t *mi, uint64_t now)
{
    ns_detect_t *s = self;
    if (rc != NS_MERGE_NEW && rc != NS_MERGE_JOINED && rc != NS_MERGE_APPLIED)
        return;
    if (r->ip_ver != 4 && r->ip_ver != 6)
        return;
    s->st.updates++;
    if (!s->cfg.enabled)
        return;
    ev_t ev = {.agent = agent, .rec = r, .src = r->orig_h.b};
    if (rc == NS_MERGE_NEW)
        new_flow(s, r, &ev, now);
    /* a handshake completed after the flow's first record: no longer half-open */
    if (rc == NS_MERGE_APPLIED && mi->first_observer && r->proto == IPPROTO_TCP_ &&
        !mi->had_rtt && (r->hs & NS_FLOW_REC_HS_TOTAL) && orig_completed(r) &&
        counting(s, NS_DETECT_SYN_FLOOD) && !skip(s, NS_DETECT_SYN_FLOOD, r, true)) {
        det_t *d = &s->det[NS_DETECT_SYN_FLOOD];
        det_advance(d, now);
        dkey_t ck;
        memset(&ck, 0, sizeof(ck));
        key_addr(&ck, r, &r->resp_h);
        ck.proto = IPPROTO_TCP_;
        ck.port = r->resp_p;
        det_count(s, d, &ck, &ck, -1, r->resp_p, &ev, now);
        if (counting(s, NS_DETECT_SWEEP) && !skip(s, NS_DETECT_SWEEP, r, true)) {
            /* nor a sweep's probe (if it was counted as one: otherwise the count of this
             * source and port comes out one low, which only errs towards no alert) */
            d = &s->det[NS_DETECT_SWEEP];
            det_advance(d, now);
            ck = key_triple(r, r->resp_p);
            memset(ck.b, 0, 16);
            det_count(s, d, &ck, &ck, -1, r->resp_p, &ev, now);
        }
    }
    if (mi->first_observer && mi->d_pkts > 0) {
        ns_detect_kind_t k = r->proto == IPPROTO_UDP_ ? NS_DETECT_UDP_FLOOD
                           : r->proto == IPPROTO_ICMP_ || r->proto == IPPROTO_ICMPV6_
                               ? NS_DETECT_ICMP_FLOOD
                               : NS_DETECT_COUNT;
        if (k != NS_DETECT_COUNT && counting(s, k) && !skip(s, k, r, k == NS_DETECT_UDP_FLOOD)) {
            det_t *d = &s->det[k];
            det_advance(d, now);
            dkey_t ck;
            memset(&ck, 0, sizeof(ck));
            key_addr(&ck, r, &r->resp_h);
            ck.proto = r->proto;
            int32_t n = mi->d_pkts > INT32_MAX ? INT32_MAX : (int32_t)mi->d_pkts;
            det_count(s, d, &ck, &ck, n, r->resp_p, &ev, now);
        }
    }
    if (mi->first_observer && r->n_dns > 0 && r->dns && counting(s, NS_DETECT_DNS_ERRORS) &&
        !skip(s, NS_DETECT_DNS_ERRORS, r, true)) {
        int32_t n = 0;
        for (uint32_t i = 0; i < r->n_dns; i++)
            if (r->dns[i].answered && (r->dns[i].rcode == 2 || r->dns[i].rcode == 3))
                n++;
        if (n > 0) {
            det_t *d = &s->det[NS_DETECT_DNS_ERRORS];
            det_advance(d, now);
            dkey_t ck;
            memset(&ck, 0, sizeof(ck));
            key_addr(&ck, r, &r->orig_h);
            det_count(s, d, &ck, &ck, n, r->resp_p, &ev, now);
        }
    }
    if (mi->d_wire_bytes > 0 && counting(s, NS_DETECT_SPIKE)) {
        spike_t *x = spike_slot(s, agent ? agent : "?", r->iface);
        if (x) {
            uint64_t sec = now / NS_PER_S;
            if (sec > x->sec && x->sec != 0)
                spike_roll(s, x, sec, NULL, NULL); /* alerts are handed out at the tick */
            if (x->sec == 0)
                x->sec = sec;
            if (sec == x->sec) {
                x->bytes += mi->d_wire_bytes;
                s->st.events[NS_DETECT_SPIKE]++;
            }
        }
    }
}

void
ns_detect_tick(ns_detect_t *self, uint64_t now, ns_detect_alert_fn fn, void *ud)
{
    for (int k = 0; k < NS_DETECT_COUNT; k++)
        if (k != NS_DETECT_SPIKE)
            det_tick(self, &self->det[k], now, fn, ud);
    uint64_t sec = now / NS_PER_S;
    for (uint32_t i = 0; i < SPIKE_SLOTS; i++) {
        spike_t *x = &self->spike[i];
        if (x->used && x->pending)
            spike_hand(x, x->a.updated_ns, fn, ud);
        if (x->used && x->sec && x->sec < sec)
            spike_roll(self, x, sec, fn, ud);
    }
}

void
ns_detect_active_each(const ns_detect_t *self, bool (*fn)(void *ud, const ns_alert_t *a),
                      void *ud)
{
    for (int k = 0; k < NS_DETECT_COUNT; k++) {
        const det_t *d = &self->det[k];
        for (uint32_t i = 0; i < d->n_cand; i++)
            if (d->cand[i].used && d->cand[i].alerting && !fn(ud, &d->cand[i].a))
                return;
    }
    for (uint32_t i = 0; i < SPIKE_SLOTS; i++)
        if (self->spike[i].used && self->spike[i].alerting && !fn(ud, &self->spike[i].a))
            return;
}

void
ns_detect_stats(const ns_detect_t *self, ns_detect_stats_t *out)
{
    *out = self->st;
}

size_t
ns_detect_memory(const ns_detect_t *self, ns_detect_kind_t k)
{
    if (k == NS_DETECT_SPIKE)
        return sizeof(self->spike);
    const det_t *d = &self->det[k];
    size_t n = 0;
    for (uint32_t i = 0; i < BUCKETS; i++)
        n += d->b[i] ? ns_cms_bytes(d->b[i]) : 0;
    n += d->win ? ns_cms_bytes(d->win) : 0;
    for (int g = 0; g < 2; g++)
        n += d->seen[g] ? ns_bloom_bytes(d->seen[g]) : 0;
    return n + (size_t)self->max_cand * sizeof(cand_t);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Appends with bounds; `ok` goes false when the buffer is too small. */
typedef struct {
    char *b;
    size_t len, cap;
    bool ok;
} jbuf_t;

static void jput(jbuf_t *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
jput(jbuf_t *j, const char *fmt, ...)
{
    if (!j->ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->b + j->len, j->cap - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->cap - j->len)
        j->ok = false;
    else
        j->len += (size_t)n;
}

/* A JSON string; our strings are addresses, names and uids, but agent ids come from agents. */
static void
jstr(jbuf_t *j, const char *s)
{
    jput(j, "\"");
    for (; *s && j->ok; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            jput(j, "\\%c", ch);
        else if (ch < 0x20)
            jput(j, "\\u%04x", ch);
        else
            jput(j, "%c", ch);
    }
    jput(j, "\"");
}

static void
jtime(jbuf_t *j, const char *name, uint64_t ns)
{
    if (ns == 0)
        jput(j, ",\"%s\":null", name);
    else
        jput(j, ",\"%s\":%llu.%06llu", name, (unsigned long long)(ns / NS_PER_S),
             (unsigned long long)(ns % NS_PER_S / 1000u));
}

size_t
ns_alert_json(const ns_alert_t *a, char *buf, size_t len)
{
    jbuf_t j = {buf, 0, len, len > 0};
    jput(&j, "{\"id\":%llu,\"detector\":", (unsigned long long)a->id);
    jstr(&j, ns_detect_kind_name(a->kind));
    jput(&j, ",\"state\":\"%s\",\"severity\":\"%s\",\"subject\":", ns_alert_state_name(a->state),
         ns_alert_severity_name(a->severity));
    jstr(&j, a->subject);
    jput(&j, ",\"victim\":");
    jstr(&j, a->victim);
    jput(&j, ",\"source\":");
    jstr(&j, a->source);
    jput(&j, ",\"detail\":");
    jstr(&j, a->detail);
    jtime(&j, "raised", a->raised_ns);
    jtime(&j, "updated", a->updated_ns);
    jtime(&j, "cleared", a->cleared_ns);
    jput(&j, ",\"threshold\":%llu,\"value\":%llu,\"peak\":%llu,\"window\":%.3f",
         (unsigned long long)a->threshold, (unsigned long long)a->value,
         (unsigned long long)a->peak, (double)a->window_ns / 1e9);
    jput(&j, ",\"distinct_sources\":%llu,\"evidence\":{\"uids\":[", (unsigned long long)a->sources);
    for (uint32_t i = 0; i < a->n_uids; i++) {
        jput(&j, i ? "," : "");
        jstr(&j, a->uids[i]);
    }
    jput(&j, "],\"agents\":[");
    for (uint32_t i = 0; i < a->n_agents; i++) {
        jput(&j, i ? "," : "");
        jstr(&j, a->agents[i]);
    }
    jput(&j, "]},\"pcap\":%s}", a->pcap ? "true" : "false");
    return j.ok ? j.len : 0;
}

/* ---- stored form ----------------------------------------------------------------------------- */

#define ALERT_MAGIC 0x4c41534eu /* "NSAL" */
#define ALERT_VERSION 1u

size_t
ns_alert_pack(const ns_alert_t *a, void *buf, size_t len)
{
    if (len < NS_ALERT_PACKED)
        return 0;
    uint32_t h[4] = {ALERT_MAGIC, ALERT_VERSION, (uint32_t)sizeof(*a), 0};
    memcpy(buf, h, sizeof(h));
    memcpy((uint8_t *)buf + sizeof(h), a, sizeof(*a));
    return NS_ALERT_PACKED;
}

static bool
terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

bool
ns_alert_unpack(const void *buf, size_t len, ns_alert_t *out)
{
    uint32_t h[4];
    if (len != NS_ALERT_PACKED)
        return false;
    memcpy(h, buf, sizeof(h));
    if (h[0] != ALERT_MAGIC || h[1] != ALERT_VERSION || h[2] != sizeof(*out))
        return false;
    memcpy(out, (const uint8_t *)buf + sizeof(h), sizeof(*out));
    if ((unsigned)out->kind >= NS_DETECT_COUNT || (unsigned)out->state > NS_ALERT_CLEARED ||
        out->severity < NS_ALERT_LOW || out->severity > NS_ALERT_HIGH ||
        out->n_uids > NS_ALERT_UIDS || out->n_agents > NS_ALERT_AGENTS ||
        !terminated(out->subject, sizeof(out->subject)) ||
        !terminated(out->victim, sizeof(out->victim)) ||
        !terminated(out->source, sizeof(out->source)) ||
        !terminated(out->detail, sizeof(out->detail)))
        return false;
    for (uint32_t i = 0; i < out->n_uids; i++)
        if (!terminated(out->uids[i], sizeof(out->uids[i])) ||
            out->flows[i].agent > NS_ALERT_AGENTS)
            return false;
    for (uint32_t i = 0; i < out->n_agents; i++)
        if (!terminated(out->agents[i], sizeof(out->agents[i])))
            return false;
    return true;
}

/* agent.c - the agent's setup and lifecycle, and what both its threads use (see agent.h).
 *
 * Capture thread -> exporter: `chunk_t`s through the `to_exp` queue. A chunk holds items
 * (an update or a final record as one encoded protobuf entry with its flow's uid, or a whole
 * encoded message to send as it is: replies to the collector's requests) and, once a second,
 * a snapshot of counters. The capture thread fills one chunk per export interval; when the
 * queue is full it keeps filling the same chunk (its memory grows, capture never waits).
 * Exporter -> capture thread: `ctl_t` requests through the `to_cap` queue.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"
#include "netscope/log.h"

uint64_t
ns_agent_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
ns_agent_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- chunks ---------------------------------------------------------------------------------- */

chunk_t *
ns_agent_chunk_new(void)
{
    return calloc(1, sizeof(chunk_t));
}

void
ns_agent_chunk_free(chunk_t *c)
{
    if (c) {
        free(c->buf);
        free(c);
    }
}

static bool
chunk_reserve(chunk_t *c, size_t n)
{
    if (c->cap - c->len >= n)
        return true;
    size_t cap = c->cap ? c->cap : 64 * 1024;
    while (cap - c->len < n)
        cap *= 2;
    uint8_t *p = realloc(c->buf, cap);
    if (p == NULL) {
        c->oom = true;
        return false;
    }
    c->buf = p;
    c->cap = cap;
    return true;
}

/* Item layout: type (1), uid length (1), uid, payload length (4, host order), payload. */
uint8_t *
ns_agent_chunk_item(chunk_t *c, uint8_t type, const char *uid, size_t len)
{
    size_t ul = uid ? strlen(uid) : 0;
    if (ul > 255 || !chunk_reserve(c, 6 + ul + len))
        return NULL;
    uint8_t *p = c->buf + c->len;
    p[0] = type;
    p[1] = (uint8_t)ul;
    if (ul)
        memcpy(p + 2, uid, ul);
    uint32_t l32 = (uint32_t)len;
    memcpy(p + 2 + ul, &l32, 4);
    c->len += 6 + ul + len;
    return p + 6 + ul;
}

/* ---- setup -------------------------------------------------------------------------------------
 */

/* The IPv4/IPv6 addresses of interface `name` (the collector learns from them which agent
 * sits at which end of a connection). */
static void
iface_addrs(iface_t *f)
{
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return;
    for (struct ifaddrs *i = all; i && f->n_addrs < MAX_ADDRS; i = i->ifa_next) {
        if (i->ifa_addr == NULL || strcmp(i->ifa_name, f->name) != 0)
            continue;
        ns_msg_ifaddr_t *a = &f->addrs[f->n_addrs];
        memset(a, 0, sizeof(*a));
        if (i->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *s = (const void *)i->ifa_addr;
            a->ip_ver = 4;
            memcpy(a->addr.b, &s->sin_addr, 4);
            a->prefix_len = 32;
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const void *)i->ifa_addr;
            a->ip_ver = 6;
            memcpy(a->addr.b, &s->sin6_addr, 16);
            a->prefix_len = 128;
        } else {
            continue;
        }
        f->n_addrs++;
    }
    freeifaddrs(all);
}

static bool
open_captures(ns_agent_t *a, char *errbuf, size_t errlen)
{
    const ns_agent_config_t *c = a->cfg;
    ns_capture_opts_t co = {.filter = c->filter,
                            .snaplen = (int)c->snaplen,
                            .promisc = c->promisc,
                            .timeout_ms = (int)c->poll_ms,
                            .buffer_mb = (int)c->buffer_mb};
    char err[512];
    size_t n = a->replay ? 1 : c->interfaces.n;
    for (size_t i = 0; i < n; i++) {
        iface_t *f = &a->ifs[i];
        if (a->replay)
            co.file = c->replay;
        else
            co.iface = c->interfaces.v[i];
        snprintf(f->name, sizeof(f->name), "%s", a->replay ? "replay" : co.iface);
        f->cap = ns_capture_open(&co, err, sizeof(err));
        if (f->cap == NULL) {
            snprintf(errbuf, errlen, "%s", err);
            return false;
        }
        a->n_ifs++;
        f->linktype = ns_capture_linktype(f->cap);
        f->snaplen = (uint32_t)ns_capture_snaplen(f->cap);
        if (!ns_decode_linktype_supported(f->linktype)) {
            snprintf(errbuf, errlen, "%s: link type %u is not supported", f->name, f->linktype);
            return false;
        }
        if (!a->replay) {
            if (!ns_capture_set_nonblock(f->cap, err, sizeof(err))) {
                snprintf(errbuf, errlen, "%s: %s", f->name, err);
                return false;
            }
            if (ns_capture_fd(f->cap) < 0) {
                snprintf(errbuf, errlen, "%s: the capture cannot be polled", f->name);
                return false;
            }
            if (!ns_capture_nano(f->cap))
                ns_log_info("%s stamps packets in microseconds", f->name);
            iface_addrs(f);
        }
    }
    return true;
}

static bool
load_keys(ns_agent_t *a, char *errbuf, size_t errlen)
{
    const ns_agent_config_t *c = a->cfg;
    if (c->insecure)
        return true;
    char err[512];
    if (ns_keypair_load(c->key, &a->keys, err, sizeof(err)) != NS_OK) {
        snprintf(errbuf, errlen, "%s", err);
        return false;
    }
    if (ns_key_load(c->collector_key, &a->server_key, err, sizeof(err)) != NS_OK) {
        snprintf(errbuf, errlen, "%s", err);
        return false;
    }
    return true;
}

ns_agent_t *
ns_agent_new(const ns_agent_config_t *cfg, char *errbuf, size_t errlen)
{
    ns_agent_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->start_ns = ns_agent_wall_ns();
    a->replay = cfg->replay && cfg->replay[0];
    (void)ns_agent_replay_speed(cfg->replay_speed, &a->replay_factor);
    if (gethostname(a->hostname, sizeof(a->hostname) - 1) != 0)
        snprintf(a->hostname, sizeof(a->hostname), "unknown");
    snprintf(a->id, sizeof(a->id), "%.*s", (int)sizeof(a->id) - 1,
             cfg->id && cfg->id[0] ? cfg->id : a->hostname);
    atomic_init(&a->cap_done, false);
    a->batch_cap = (size_t)cfg->batch_kb * 1024u;

    if (!load_keys(a, errbuf, errlen) || !open_captures(a, errbuf, errlen))
        goto fail;
    if (cfg->filter && cfg->filter[0] && (a->filter_now = strdup(cfg->filter)) == NULL)
        goto fail;

    ns_flow_engine_opts_t eo;
    ns_flow_engine_opts_default(&eo);
    eo.max_flows = (uint32_t)cfg->max_flows;
    ns_flow_expire_set_idle(&eo.expire, cfg->idle_ns);
    eo.expire.idle_ns[NS_FLOWQ_TCP_CLOSED] = cfg->linger_ns;
    eo.expire.active_ns = cfg->active_ns;
    eo.app = cfg->app;
    eo.export_live = true;
    if (getrandom(&eo.seed, sizeof(eo.seed), 0) != (ssize_t)sizeof(eo.seed)) {
        snprintf(errbuf, errlen, "no random seed: %s", strerror(errno));
        goto fail;
    }
    a->pipe = ns_pipeline_new(&eo, ns_agent_on_record, a);
    a->ring = ns_pktring_new((size_t)cfg->ring_mb << 20);
    ns_codec_opts_t xo;
    ns_codec_opts_default(&xo);
    xo.max_msg_bytes = (uint32_t)a->batch_cap;
    a->ccodec = ns_codec_new(&xo, errbuf, errlen);
    a->xcodec = a->ccodec ? ns_codec_new(&xo, errbuf, errlen) : NULL;
    ns_outq_opts_t qo = {.finals_max_bytes = (size_t)cfg->queue_mb << 20,
                         .updates_max_bytes = (size_t)cfg->updates_mb << 20,
                         .window = (uint32_t)cfg->window};
    a->outq = ns_outq_new(&qo);
    a->to_exp = ns_spsc_new(QUEUE_SLOTS);
    a->to_cap = ns_spsc_new(QUEUE_SLOTS);
    a->cur = ns_agent_chunk_new();
    a->entry = malloc(ENTRY_MAX);
    a->reply = malloc(a->batch_cap);
    a->batch = malloc(a->batch_cap);
    if (a->pipe == NULL || a->ring == NULL || a->ccodec == NULL || a->xcodec == NULL ||
        a->outq == NULL || a->to_exp == NULL || a->to_cap == NULL || a->cur == NULL ||
        a->entry == NULL || a->reply == NULL || a->batch == NULL) {
        if (a->ccodec && a->xcodec)
            snprintf(errbuf, errlen, "not enough memory for %llu flows and a %llu MB ring",
                     (unsigned long long)cfg->max_flows, (unsigned long long)cfg->ring_mb);
        goto fail;
    }
    a->dcfg.vxlan_port = (uint16_t)cfg->vxlan_port;
    a->dcfg.geneve_port = (uint16_t)cfg->geneve_port;
    ns_pipeline_set_decode_cfg(a->pipe, &a->dcfg);
    return a;
fail:
    ns_agent_destroy(&a);
    return NULL;
}

/* The link is made in ns_agent_run(), after privileges are dropped. */
static bool
open_link(ns_agent_t *a)
{
    const ns_agent_config_t *c = a->cfg;
    ns_link_opts_t lo = {.keys = c->insecure ? NULL : &a->keys,
                         .server_key = c->insecure ? NULL : &a->server_key,
                         /* no routing id of our own: libzmq gives each connection a
                          * fresh one, so an agent that claims another's id cannot take
                          * over its route (and its acknowledgements); the id travels in
                          * Hello, bound to our key */
                         .reconnect_ivl_ms = 100,
                         .reconnect_ivl_max_ms = 5000,
                         .max_msg_bytes = (int64_t)a->batch_cap,
                         .linger_ms = 0};
    char err[512];
    a->link = ns_link_dealer_new(c->collector, &lo, err, sizeof(err));
    ns_keypair_wipe(&a->keys);
    if (a->link == NULL) {
        ns_log_error("%s", err);
        return false;
    }
    if (c->insecure)
        ns_log_warn("sending to %s in PLAIN TEXT (--insecure): anyone on the path can read "
                    "and forge these records",
                    c->collector);
    return true;
}

int
ns_agent_run(ns_agent_t *self)
{
    ns_agent_t *a = self;
    if (!open_link(a))
        return 1;
    if (pthread_create(&a->exporter, NULL, ns_agent_exporter_main, a) != 0) {
        ns_log_error("cannot start the exporter thread");
        return 1;
    }
    /* the capture is open (ns_agent_new) and the link made: ready */
    ns_watchdog_init(&a->watchdog, ns_agent_mono_ns());
    if (a->replay)
        (void)ns_sdnotifyf("READY=1\nSTATUS=replaying %s to %s", a->cfg->replay,
                           a->cfg->collector);
    else
        (void)ns_sdnotifyf("READY=1\nSTATUS=capturing on %u interface(s) to %s", a->n_ifs,
                           a->cfg->collector);
    if (a->replay)
        ns_log_info("replaying %s (%s) to %s", a->cfg->replay, a->cfg->replay_speed,
                    a->cfg->collector);
    else
        ns_log_info("capturing on %u interface(s) to %s", a->n_ifs, a->cfg->collector);
    int rc = a->replay ? ns_agent_capture_replay(a) : ns_agent_capture_live(a);
    (void)ns_sdnotify("STOPPING=1\nSTATUS=stopping: sending the final records");
    /* every open flow becomes a final record */
    bool eof = a->replay && !a->stop;
    ns_pipeline_finish(a->pipe, eof ? NS_FLOW_END_END_OF_INPUT : NS_FLOW_END_SHUTDOWN,
                       a->replay ? 0 : ns_agent_wall_ns());
    ns_agent_snapshot(a);
    ns_agent_hand_over(a, true);
    pthread_join(a->exporter, NULL);
    ns_agent_summary_t s;
    ns_agent_summary(a, &s);
    ns_log_info("final records: %llu produced, %llu acknowledged by the collector, %llu "
                "dropped%s; updates: %llu produced, %llu sent, %llu dropped; %llu batches "
                "sent (%llu resent), %llu frames",
                (unsigned long long)s.finals_produced, (unsigned long long)s.finals_acked,
                (unsigned long long)s.finals_dropped,
                s.drained ? "" : " (the rest was not acknowledged in time)",
                (unsigned long long)s.updates_produced, (unsigned long long)s.updates_sent,
                (unsigned long long)s.updates_dropped, (unsigned long long)s.batches_sent,
                (unsigned long long)s.batches_resent, (unsigned long long)s.frames);
    if (!s.drained)
        rc = 1;
    return rc;
}

void
ns_agent_set_reloader(ns_agent_t *self, ns_agent_reload_fn fn, void *ud)
{
    self->reloader = fn;
    self->reloader_ud = ud;
}

void
ns_agent_stop(ns_agent_t *self)
{
    self->stop = 1;
}

void
ns_agent_reload(ns_agent_t *self)
{
    self->reload = 1;
}

void
ns_agent_summary(const ns_agent_t *self, ns_agent_summary_t *out)
{
    memset(out, 0, sizeof(*out));
    ns_outq_stats_t q;
    ns_outq_stats(self->outq, &q);
    out->frames = self->pipe ? ns_pipeline_stats(self->pipe)->frames : 0;
    out->finals_produced = self->finals_produced;
    out->finals_acked = q.finals_acked;
    out->finals_dropped = q.finals_dropped;
    out->updates_produced = self->updates_produced;
    out->updates_sent = q.updates_sent;
    out->updates_dropped = q.updates_dropped;
    out->batches_sent = self->batches_sent;
    out->batches_resent = q.batches_resent;
    out->sessions = self->sessions;
    for (uint32_t i = 0; i < self->n_ifs; i++)
        out->kernel_drops += self->ifs[i].counters.kernel_drops;
    out->drained = self->drained;
}

void
ns_agent_destroy(ns_agent_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_agent_t *a = *self_p;
    for (uint32_t i = 0; i < NS_AGENT_MAX_IFACES; i++)
        ns_capture_destroy(&a->ifs[i].cap);
    ns_pipeline_destroy(&a->pipe);
    ns_pktring_destroy(&a->ring);
    ns_codec_destroy(&a->ccodec);
    ns_codec_destroy(&a->xcodec);
    ns_outq_destroy(&a->outq);
    ns_link_destroy(&a->link);
    chunk_t *c;
    while (a->to_exp && (c = ns_spsc_pop(a->to_exp)) != NULL)
        ns_agent_chunk_free(c);
    ctl_t *r;
    while (a->to_cap && (r = ns_spsc_pop(a->to_cap)) != NULL) {
        free(r->filter);
        free(r);
    }
    ns_spsc_destroy(&a->to_exp);
    ns_spsc_destroy(&a->to_cap);
    ns_agent_chunk_free(a->cur);
    free(a->stats.buf);
    free(a->entry);
    free(a->reply);
    free(a->batch);
    free(a->pending);
    free(a->filter_now);
    ns_keypair_wipe(&a->keys);
    free(a);
    *self_p = NULL;
}

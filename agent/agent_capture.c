/* agent_capture.c - the agent's capture thread: frames in through the pipeline and the ring,
 * encoded records and replies out to the exporter, requests from it served (see agent.h and
 * agent_int.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "netscope/decode.h"
#include "netscope/flow_key.h"
#include "netscope/log.h"

/* ---- records out of the engine (capture thread) --------------------------------------------- */

void
ns_agent_on_record(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    (void)eng;
    (void)idx;
    ns_agent_t *a = ud;
    bool final = rec->kind == NS_FLOW_REC_FINAL;
    size_t len;
    if (ns_codec_rec_encode(a->ccodec, rec, a->entry, ENTRY_MAX, &len) != NS_OK) {
        a->entries_refused++;
        ns_log_debug("record %s not exported: %s", rec->uid, ns_codec_error(a->ccodec));
        return;
    }
    if (final)
        a->finals_produced++;
    else
        a->updates_produced++;
    /* an update carrying transactions must not be coalesced away: they travel once */
    uint8_t type = final ? ITEM_FINAL : rec->n_http + rec->n_dns > 0 ? ITEM_TXN : ITEM_UPDATE;
    uint8_t *p = ns_agent_chunk_item(a->cur, type, rec->uid, len);
    if (p)
        memcpy(p, a->entry, len);
}

/* Hand the current chunk to the exporter when the queue takes it (else keep filling it). */
void
ns_agent_hand_over(ns_agent_t *a, bool last)
{
    a->cur->last = last;
    if (a->cur->oom)
        ns_log_error("out of memory: %zu bytes of records lost", a->cur->len);
    for (;;) {
        if (ns_spsc_push(a->to_exp, a->cur)) {
            a->cur = ns_agent_chunk_new();
            if (a->cur == NULL) {
                ns_log_error("out of memory for the export queue");
                abort();
            }
            return;
        }
        if (!last)
            return; /* the exporter is behind: this chunk keeps growing */
        usleep(1000);
    }
}

void
ns_agent_snapshot(ns_agent_t *a)
{
    chunk_t *c = a->cur;
    c->has_stats = true;
    c->n_ifs = a->n_ifs;
    for (uint32_t i = 0; i < a->n_ifs; i++) {
        iface_t *f = &a->ifs[i];
        if (!a->replay)
            (void)ns_capture_counters(f->cap, &f->counters);
        c->ifs[i] = (ns_msg_iface_counters_t){.index = i,
                                              .packets = a->replay ? f->pkts : f->counters.received,
                                              .bytes = f->bytes,
                                              .kernel_drops = f->counters.kernel_drops,
                                              .iface_drops = f->counters.if_drops};
    }
    const ns_flow_engine_t *eng = ns_pipeline_engine(a->pipe);
    c->flows_active = ns_flow_table_count(ns_flow_engine_table(eng));
    c->evictions = ns_flow_engine_stats(eng)->records[NS_FLOW_END_EVICTED];
}

/* ---- requests from the collector (capture thread) ------------------------------------------ */

static void
reply(ns_agent_t *a, const ns_msg_t *m)
{
    size_t len;
    if (ns_codec_encode(a->ccodec, m, a->reply, a->batch_cap, &len) != NS_OK) {
        ns_log_warn("cannot encode a %s reply: %s", ns_msg_type_name(m->type),
                    ns_codec_error(a->ccodec));
        return;
    }
    uint8_t *p = ns_agent_chunk_item(a->cur, ITEM_MSG, NULL, len);
    if (p)
        memcpy(p, a->reply, len);
}

static void
set_filter(ns_agent_t *a, uint32_t request_id, const char *filter)
{
    char err[512] = "";
    bool ok = true;
    /* all or nothing: check against every link type before installing anywhere */
    for (uint32_t i = 0; i < a->n_ifs && ok; i++)
        ok = ns_capture_filter_check(filter, a->ifs[i].linktype, err, sizeof(err));
    for (uint32_t i = 0; i < a->n_ifs && ok; i++)
        ok = ns_capture_set_filter(a->ifs[i].cap, filter, err, sizeof(err));
    if (ok) {
        ns_log_info("capture filter set by the collector: '%s'", filter);
        free(a->filter_now);
        a->filter_now = strdup(filter);
    } else
        ns_log_warn("capture filter '%s' from the collector refused: %s", filter, err);
    ns_msg_t m = {.type = NS_MSG_FILTER_RESULT};
    m.u.filter_result =
        (ns_msg_filter_result_t){.request_id = request_id, .ok = ok, .error = ok ? "" : err};
    reply(a, &m);
}

/* The ring's tag of a flow key: the low bits of the engine's hash of it (canonical: the
 * same for both directions), which the engine computed for each packet anyway. */
static uint32_t
key_tag(const ns_agent_t *a, const ns_flow_key_t *k)
{
    const ns_flow_table_t *t = ns_flow_engine_table(ns_pipeline_engine(a->pipe));
    return (uint32_t)ns_flow_table_hash(t, k);
}

typedef struct {
    const ns_flow_key_t *key;
    ns_msg_frame_t *frames;
    uint32_t n, max;
    size_t bytes, budget; /* frame bytes so far, and what fits in a reply */
    bool cut;             /* stopped by the byte budget */
    ns_pkt_t *pkt;
    const ns_decode_cfg_t *dcfg;
    uint32_t linktype; /* of the frames taken: the first one's (a reply has one link type) */
} find_t;

static bool
frame_matches(void *ud, const ns_pktring_frame_t *f, bool take)
{
    find_t *q = ud;
    ns_decode_frame_cfg(q->dcfg, f->linktype, f->data, f->cap_len, f->wire_len, q->pkt, NULL,
                        NULL);
    if (q->pkt->ip_ver != 4 && q->pkt->ip_ver != 6)
        return false;
    q->pkt->iface = f->iface;
    ns_flow_key_t k;
    ns_flow_key_from_pkt(q->pkt, &k);
    if (!ns_flow_key_eq(&k, q->key))
        return false;
    if (take) {
        /* A GetPackets reply names one link type: a flow seen on interfaces of different link
         * types (a pcapng replay) gets the frames of its first frame's. */
        if (q->n > 0 && f->linktype != q->linktype)
            return false;
        if (q->bytes + f->cap_len + 32 > q->budget) {
            q->cut = true;
            return false;
        }
        uint8_t *copy = malloc(f->cap_len ? f->cap_len : 1);
        if (copy == NULL)
            return false;
        memcpy(copy, f->data, f->cap_len);
        if (q->n == 0)
            q->linktype = f->linktype;
        q->frames[q->n++] = (ns_msg_frame_t){
            .ts_ns = f->ts_ns, .wire_len = f->wire_len, .cap_len = f->cap_len, .data = copy};
        q->bytes += f->cap_len + 32;
    }
    return true;
}

/* ---- every frame of the ring (GetPackets whole_ring: a capture filter's dry run) ---------- */

typedef struct {
    ns_agent_t *a;
    ns_msg_t m;
    ns_msg_frame_t *frames;
    uint32_t n, max;
    size_t bytes, budget;
    uint16_t linktype;
} ring_walk_t;

static void
ring_reply(ring_walk_t *q, bool last)
{
    q->m.u.packets.link_type = q->linktype;
    q->m.u.packets.frames = q->frames;
    q->m.u.packets.n_frames = q->n;
    q->m.u.packets.last_chunk = last;
    reply(q->a, &q->m);
    q->n = 0;
    q->bytes = 0;
}

/* Frames go out as they are walked (the reply is encoded from the ring's own bytes, before
 * the walk moves on): a reply is sent whenever the next frame would not fit in a batch, or
 * comes from an interface of another link type (a reply has one). */
static bool
ring_frame(void *ud, const ns_pktring_frame_t *f)
{
    ring_walk_t *q = ud;
    if (q->n > 0 &&
        (q->n == q->max || q->bytes + f->cap_len + 32 > q->budget || f->linktype != q->linktype))
        ring_reply(q, false);
    q->linktype = f->linktype;
    q->frames[q->n++] = (ns_msg_frame_t){
        .ts_ns = f->ts_ns, .wire_len = f->wire_len, .cap_len = f->cap_len, .data = f->data};
    q->bytes += f->cap_len + 32;
    return true;
}

static void
get_whole_ring(ns_agent_t *a, const ctl_t *r)
{
    ring_walk_t q = {
        .a = a, .budget = a->batch_cap - 1024, .linktype = (uint16_t)a->ifs[0].linktype};
    q.max = (uint32_t)(q.budget / 32 < NS_CODEC_MAX_FRAMES ? q.budget / 32 : NS_CODEC_MAX_FRAMES);
    q.m.type = NS_MSG_PACKETS;
    q.m.u.packets.request_id = r->request_id;
    q.m.u.packets.whole_ring = true;
    q.m.u.packets.error = "";
    q.frames = calloc(q.max, sizeof(*q.frames));
    if (q.frames == NULL) {
        q.m.u.packets.error = "out of memory";
        reply(a, &q.m);
        return;
    }
    ns_pktring_each(a->ring, ring_frame, &q);
    ring_reply(&q, true);
    free(q.frames);
}

/* netscope-agent-pre-ring (tests/ only) plays an agent from before whole_ring, to which
 * GetPackets field 13 is unknown: a whole-ring request is one for the flow of the request's
 * other (zero) fields, answered with no frame. */
#ifdef NS_AGENT_PRE_WHOLE_RING
#define KNOWS_WHOLE_RING false
#else
#define KNOWS_WHOLE_RING true
#endif

static void
get_packets(ns_agent_t *a, const ctl_t *r)
{
    const ns_msg_get_packets_t *g = &r->get;
    if (g->whole_ring && KNOWS_WHOLE_RING) {
        get_whole_ring(a, r);
        return;
    }
    ns_flow_key_t key;
    ns_flow_key_make(&key, g->ip_ver, g->proto, ns_flow_key_vlan(g->vlan, g->iface), &g->addr[0],
                     g->port[0], &g->addr[1], g->port[1]);
    uint32_t max = g->max_frames ? g->max_frames : GET_PACKETS_DEFAULT;
    find_t q = {.key = &key, .max = max, .budget = a->batch_cap - 1024, .dcfg = &a->dcfg};
    q.frames = calloc(max, sizeof(*q.frames));
    q.pkt = malloc(sizeof(*q.pkt));
    ns_msg_t m = {.type = NS_MSG_PACKETS};
    m.u.packets.request_id = r->request_id;
    m.u.packets.error = "";
    if (q.frames == NULL || q.pkt == NULL) {
        m.u.packets.error = "out of memory";
    } else {
        bool more = false;
        ns_pktring_find(a->ring, key_tag(a, &key), g->from_ns, g->to_ns, max, frame_matches, &q,
                        &more);
        uint32_t iface = g->iface < a->n_ifs ? g->iface : 0;
        m.u.packets.link_type = q.n > 0 ? q.linktype : a->ifs[iface].linktype;
        m.u.packets.truncated = more || q.cut;
        m.u.packets.frames = q.frames;
        m.u.packets.n_frames = q.n;
    }
    reply(a, &m);
    for (uint32_t i = 0; i < q.n; i++)
        free((void *)q.frames[i].data);
    free(q.frames);
    free(q.pkt);
}

static void
serve_requests(ns_agent_t *a)
{
    ctl_t *r;
    while ((r = ns_spsc_pop(a->to_cap)) != NULL) {
        if (r->type == CTL_SET_FILTER)
            set_filter(a, r->request_id, r->filter);
        else
            get_packets(a, r);
        free(r->filter);
        free(r);
    }
}

/* ---- the capture thread ---------------------------------------------------------------------- */

static void
take_frame(ns_agent_t *a, uint8_t i, const ns_frame_t *fr)
{
    iface_t *f = &a->ifs[i];
    f->pkts++;
    f->bytes += fr->wire_len;
    /* The frame's own link type: a pcapng replay's interfaces may each have another. */
    ns_pipeline_frame(a->pipe, i, fr->linktype, fr->data, fr->cap_len, fr->wire_len, fr->ts_ns);
    uint32_t tag = (uint32_t)ns_flow_engine_last_hash(ns_pipeline_engine(a->pipe));
    ns_pktring_add(a->ring, i, (uint16_t)fr->linktype, fr->ts_ns, fr->wire_len, fr->data,
                   fr->cap_len, tag);
}

static bool
same_str(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

static void do_reload_config(ns_agent_t *a);

/* SIGHUP: read the configuration again; apply the filter and the log level, name the rest. */
static void
do_reload(ns_agent_t *a)
{
    a->reload = 0;
    (void)ns_sdnotify("RELOADING=1\nSTATUS=reloading (SIGHUP)");
    do_reload_config(a);
    (void)ns_sdnotify("READY=1\nSTATUS=capturing");
}

/* Read the configuration again; apply what can change while running. */
static void
do_reload_config(ns_agent_t *a)
{
    if (a->reloader == NULL) {
        ns_log_info("SIGHUP: no configuration to reload");
        return;
    }
    ns_agent_config_t fresh;
    char err[1024];
    if (!a->reloader(a->reloader_ud, &fresh, err, sizeof(err))) {
        ns_log_error("SIGHUP: configuration not reloaded, the running one stays: %s", err);
        return;
    }
    ns_log_level_t lvl;
    if (ns_log_level_parse(fresh.log_level, &lvl))
        ns_log_set_level(lvl);
    if (!same_str(fresh.filter, a->filter_now)) {
        bool ok = true;
        for (uint32_t i = 0; i < a->n_ifs && ok; i++)
            ok = ns_capture_set_filter(a->ifs[i].cap, fresh.filter, err, sizeof(err));
        if (ok) {
            free(a->filter_now);
            a->filter_now = fresh.filter ? strdup(fresh.filter) : NULL;
            ns_log_info("SIGHUP: capture filter now '%s'", fresh.filter ? fresh.filter : "");
        } else {
            ns_log_error("SIGHUP: capture filter '%s' refused, the old one stays: %s", fresh.filter,
                         err);
        }
    }
    /* everything else is read at start */
    const ns_agent_config_t *c = a->cfg;
    for (size_t i = 0; i < ns_agent_nopts; i++) {
        const ns_opt_t *o = &ns_agent_opts[i];
        if (strcmp(o->key, "capture.filter") == 0 || strcmp(o->key, "agent.log_level") == 0)
            continue;
        const char *x = (const char *)c + o->offset, *y = (const char *)&fresh + o->offset;
        bool differs;
        if (o->type == NS_OPT_STRING)
            differs = !same_str(*(char *const *)x, *(char *const *)y);
        else if (o->type == NS_OPT_STRLIST) {
            const ns_strlist_t *l1 = (const void *)x, *l2 = (const void *)y;
            differs = l1->n != l2->n;
            for (size_t k = 0; k < l1->n && !differs; k++)
                differs = !same_str(l1->v[k], l2->v[k]);
        } else if (o->type == NS_OPT_BOOL)
            differs = *(const bool *)x != *(const bool *)y;
        else if (o->type == NS_OPT_DOUBLE)
            differs = *(const double *)x != *(const double *)y;
        else
            differs = *(const uint64_t *)x != *(const uint64_t *)y;
        if (differs)
            ns_log_warn("SIGHUP: %s changed: it takes effect when the agent restarts", o->key);
    }
    ns_agent_config_free(&fresh);
}

/* Export interval and counters, by the monotonic clock; `now` is the record time. */
static void
periodic(ns_agent_t *a, uint64_t *next_export, uint64_t *next_stats, uint64_t now)
{
    uint64_t m = ns_agent_mono_ns();
    (void)ns_watchdog_poll(&a->watchdog, m);
    if (m < *next_export)
        return;
    if (!a->replay)
        ns_pipeline_tick(a->pipe, now);
    ns_pipeline_export(a->pipe, now);
    serve_requests(a);
    if (m >= *next_stats) {
        ns_agent_snapshot(a);
        *next_stats = m + a->cfg->heartbeat_ms * NS_PER_MS;
    }
    ns_agent_hand_over(a, false);
    *next_export = m + a->cfg->interval_ms * NS_PER_MS;
}

/* Wait up to `wait_ms` for frames, then read up to FRAMES_PER_POLL from each capture; false
 * when a capture failed. */
static bool
read_captures(ns_agent_t *a, int wait_ms)
{
    struct pollfd pfd[NS_AGENT_MAX_IFACES];
    for (uint32_t i = 0; i < a->n_ifs; i++)
        pfd[i] = (struct pollfd){.fd = ns_capture_fd(a->ifs[i].cap), .events = POLLIN};
    if (poll(pfd, a->n_ifs, wait_ms) < 0 && errno != EINTR) {
        ns_log_error("poll: %s", strerror(errno));
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < a->n_ifs; i++) {
        ns_frame_t fr;
        int r = NS_CAPTURE_AGAIN;
        for (int k = 0; k < FRAMES_PER_POLL; k++) {
            r = ns_capture_next(a->ifs[i].cap, &fr);
            if (r != NS_CAPTURE_FRAME)
                break;
            take_frame(a, (uint8_t)i, &fr);
        }
        if (r == NS_CAPTURE_ERROR) {
            ns_log_error("capture on %s failed: %s", a->ifs[i].name,
                         ns_capture_error(a->ifs[i].cap));
            ok = false;
        }
    }
    return ok;
}

int
ns_agent_capture_live(ns_agent_t *a)
{
    uint64_t next_export = ns_agent_mono_ns(), next_stats = next_export;
    while (!a->stop) {
        if (a->reload)
            do_reload(a);
        int wait = (int)a->cfg->poll_ms;
        uint64_t m = ns_agent_mono_ns();
        if (next_export > m && (next_export - m) / NS_PER_MS < (uint64_t)wait)
            wait = (int)((next_export - m) / NS_PER_MS) + 1;
        if (!read_captures(a, wait))
            return 1;
        periodic(a, &next_export, &next_stats, ns_agent_wall_ns());
    }
    /* Stopped: what the kernel already captured still counts. A partly filled ring block is
     * handed over when its timeout (poll_ms) passes, so wait that long once more. */
    return read_captures(a, (int)a->cfg->poll_ms + 1) ? 0 : 1;
}

int
ns_agent_capture_replay(ns_agent_t *a)
{
    uint64_t next_export = ns_agent_mono_ns(), next_stats = next_export;
    uint64_t first_ts = 0, start = 0;
    ns_frame_t fr;
    int r;
    unsigned n = 0;
    ns_capture_t *cap = a->ifs[0].cap;
    while (!a->stop && (r = ns_capture_next(cap, &fr)) != NS_CAPTURE_END) {
        if (r == NS_CAPTURE_ERROR) {
            ns_log_error("reading %s failed: %s", a->cfg->replay, ns_capture_error(cap));
            return 1;
        }
        if (first_ts == 0) {
            first_ts = fr.ts_ns;
            start = ns_agent_mono_ns();
        }
        if (a->replay_factor > 0 && fr.ts_ns > first_ts) {
            /* the recorded gaps, divided by the factor; wake up for exports meanwhile */
            uint64_t due = start + (uint64_t)((double)(fr.ts_ns - first_ts) / a->replay_factor);
            for (uint64_t m = ns_agent_mono_ns(); m < due && !a->stop; m = ns_agent_mono_ns()) {
                uint64_t nap = due - m < 10 * NS_PER_MS ? due - m : 10 * NS_PER_MS;
                struct timespec ts = {0, (long)nap};
                nanosleep(&ts, NULL);
                periodic(a, &next_export, &next_stats, fr.ts_ns);
            }
        }
        take_frame(a, 0, &fr);
        if ((++n & 255u) == 0)
            periodic(a, &next_export, &next_stats,
                     ns_flow_engine_clock(ns_pipeline_engine(a->pipe)));
    }
    if (ns_capture_warning(cap))
        ns_log_warn("%s ends early (%s)", a->cfg->replay, ns_capture_warning(cap));
    return 0;
}

/* agent_export.c - the agent's exporter thread: the one owner of the link to the collector
 * (see agent.h and agent_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent_int.h"
#include "netscope/log.h"

/* ---- the exporter thread ----------------------------------------------------------------------
 */

static bool
send_msg(ns_agent_t *a, const uint8_t *msg, size_t len)
{
    ns_link_rc_t rc = ns_link_send(a->link, msg, len);
    if (rc == NS_LINK_OK)
        return true;
    if (rc == NS_LINK_TOOBIG || rc == NS_LINK_ERROR) {
        a->batches_dropped++;
        ns_log_warn("message of %zu bytes not sent: %s", len, ns_link_error(a->link));
        return true; /* it will never go: do not retry */
    }
    return false;
}

static void
send_hello(ns_agent_t *a)
{
    ns_msg_iface_t ifs[NS_AGENT_MAX_IFACES];
    for (uint32_t i = 0; i < a->n_ifs; i++)
        ifs[i] = (ns_msg_iface_t){.index = i,
                                  .name = a->ifs[i].name,
                                  .link_type = a->ifs[i].linktype,
                                  .snaplen = a->ifs[i].snaplen,
                                  .addrs = a->ifs[i].addrs,
                                  .n_addrs = a->ifs[i].n_addrs};
    const ns_agent_config_t *c = a->cfg;
    ns_msg_t m = {.type = NS_MSG_HELLO};
    m.u.hello = (ns_msg_hello_t){.agent_id = a->id,
                                 .hostname = a->hostname,
                                 .agent_version = NS_VERSION,
                                 .clock_ns = ns_agent_wall_ns(),
                                 .start_ns = a->start_ns,
                                 .ifaces = ifs,
                                 .n_ifaces = a->n_ifs,
                                 .promisc = c->promisc,
                                 .buffer_bytes = (uint32_t)(c->buffer_mb << 20),
                                 .export_interval_ms = (uint32_t)c->interval_ms,
                                 .bpf_filter = c->filter ? c->filter : "",
                                 .replay_file = a->replay ? c->replay : "",
                                 .replay_speed = a->replay_factor};
    size_t len;
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
    else
        ns_log_error("cannot encode Hello: %s", ns_codec_error(a->xcodec));
}

static uint64_t
cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * NS_PER_S +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static uint64_t
rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The lowest batch seq this agent can still send: its oldest kept batch, else the next. */
static uint64_t
lowest_held(const ns_agent_t *a)
{
    uint64_t low = ns_outq_lowest_kept(a->outq);
    if (a->pending && (low == 0 || a->pending_seq < low))
        low = a->pending_seq;
    return low ? low : a->seq + 1;
}

static void
send_heartbeat(ns_agent_t *a)
{
    ns_outq_stats_t q;
    ns_outq_stats(a->outq, &q);
    ns_msg_t m = {.type = NS_MSG_HEARTBEAT};
    m.u.heartbeat = (ns_msg_heartbeat_t){.send_ns = ns_agent_wall_ns(),
                                         .queue_depth = q.finals_waiting + q.updates_waiting,
                                         .batches_sent = a->batches_sent,
                                         .batches_dropped = a->batches_dropped,
                                         .updates_dropped = q.updates_dropped,
                                         .finals_dropped = q.finals_dropped,
                                         .flows_active = a->stats.flows_active,
                                         .evictions = a->stats.evictions,
                                         .cpu_ns = cpu_ns(),
                                         .rss_bytes = rss_bytes(),
                                         .lowest_held_seq = lowest_held(a)};
    size_t len;
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
    if (!a->stats.has_stats)
        return;
    m = (ns_msg_t){.type = NS_MSG_IFACE_STATS};
    m.u.iface_stats = (ns_msg_iface_stats_t){
        .send_ns = ns_agent_wall_ns(), .ifaces = a->stats.ifs, .n_ifaces = a->stats.n_ifs};
    if (ns_codec_encode(a->xcodec, &m, a->batch, a->batch_cap, &len) == NS_OK)
        (void)send_msg(a, a->batch, len);
}

static bool
batch_take(void *ud, const uint8_t *entry, size_t n)
{
    ns_agent_t *a = ud;
    return ns_codec_batch_add_encoded(a->xcodec, entry, n) == NS_OK;
}

static void
resend_one(void *ud, uint64_t seq, const uint8_t *msg, size_t len)
{
    (void)seq;
    ns_agent_t *a = ud;
    (void)send_msg(a, msg, len); /* a full link: the ack timeout resends it again */
}

/* Build and send batches while there is something to send, room in the window and the link
 * takes them. */
static void
flush_batches(ns_agent_t *a)
{
    if (a->pending) {
        if (!send_msg(a, a->pending, a->pending_len))
            return;
        free(a->pending);
        a->pending = NULL;
    }
    while (!ns_outq_idle(a->outq) && !ns_outq_window_full(a->outq)) {
        uint64_t now = ns_agent_wall_ns();
        if (ns_codec_batch_begin(a->xcodec, a->batch, a->batch_cap, a->seq + 1, now) != NS_OK)
            return;
        uint32_t finals, txns, updates;
        ns_outq_fill(a->outq, batch_take, a, &finals, &txns, &updates);
        if (finals + txns + updates == 0) {
            /* an entry bigger than a batch: cannot happen, the codec refused such records */
            ns_log_error("export queue stuck: an entry does not fit an empty batch");
            return;
        }
        size_t len = ns_codec_batch_finish(a->xcodec);
        a->seq++;
        a->batches_sent++;
        ns_outq_sent(a->outq, a->seq, a->batch, len, finals, txns, now);
        if (!send_msg(a, a->batch, len)) {
            a->pending = malloc(len);
            if (a->pending) {
                memcpy(a->pending, a->batch, len);
                a->pending_len = len;
                a->pending_seq = a->seq;
            }
            return;
        }
    }
}

static void
take_chunk(ns_agent_t *a, chunk_t *c)
{
    size_t at = 0;
    while (at + 6 <= c->len) {
        uint8_t type = c->buf[at], ul = c->buf[at + 1];
        char uid[256];
        memcpy(uid, c->buf + at + 2, ul);
        uid[ul] = '\0';
        uint32_t len;
        memcpy(&len, c->buf + at + 2 + ul, 4);
        const uint8_t *p = c->buf + at + 6 + ul;
        if (type == ITEM_UPDATE)
            ns_outq_update(a->outq, uid, p, len);
        else if (type == ITEM_TXN)
            ns_outq_txn(a->outq, uid, p, len);
        else if (type == ITEM_FINAL)
            ns_outq_final(a->outq, uid, p, len);
        else
            (void)send_msg(a, p, len); /* replies are best effort */
        at += 6 + ul + len;
    }
    if (c->has_stats) {
        free(a->stats.buf);
        a->stats = *c;
        a->stats.buf = NULL;
        a->stats.len = a->stats.cap = 0;
    }
    if (c->last)
        atomic_store(&a->cap_done, true);
    ns_agent_chunk_free(c);
}

static void
take_request(ns_agent_t *a, const uint8_t *data, size_t len)
{
    const ns_msg_t *m;
    if (ns_codec_decode_collector(a->xcodec, data, len, &m) != NS_CODEC_OK) {
        ns_log_warn("message from the collector refused: %s", ns_codec_error(a->xcodec));
        return;
    }
    if (m->type == NS_MSG_ACK) {
        ns_outq_ack(a->outq, m->u.ack.seq);
        return;
    }
    ctl_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return;
    if (m->type == NS_MSG_SET_FILTER) {
        r->type = CTL_SET_FILTER;
        r->request_id = m->u.set_filter.request_id;
        r->filter = strdup(m->u.set_filter.bpf_filter);
    } else if (m->type == NS_MSG_GET_PACKETS) {
        r->type = CTL_GET_PACKETS;
        r->request_id = m->u.get_packets.request_id;
        r->get = m->u.get_packets;
    }
    if (r->type == 0 || (r->type == CTL_SET_FILTER && r->filter == NULL) ||
        !ns_spsc_push(a->to_cap, r)) {
        free(r->filter);
        free(r);
    }
}

void *
ns_agent_exporter_main(void *arg)
{
    ns_agent_t *a = arg;
    uint64_t hb_every = a->cfg->heartbeat_ms * NS_PER_MS;
    uint64_t next_hb = ns_agent_mono_ns() + hb_every, drain_until = 0;
    uint64_t ack_timeout = a->cfg->ack_timeout_ms * NS_PER_MS;
    ns_link_msg_t msg;
    for (;;) {
        if (ns_link_recv(a->link, &msg, EXPORTER_WAIT_MS) == NS_LINK_OK)
            take_request(a, msg.data, msg.len);
        chunk_t *c;
        while ((c = ns_spsc_pop(a->to_exp)) != NULL)
            take_chunk(a, c);

        ns_link_stats_t ls;
        ns_link_stats(a->link, &ls);
        uint64_t now = ns_agent_wall_ns();
        if (ls.sessions != a->sessions) {
            a->sessions = ls.sessions;
            ns_log_info("connected to the collector %s (session %llu)", a->cfg->collector,
                        (unsigned long long)ls.sessions);
            send_hello(a);
            uint32_t n = ns_outq_resend(a->outq, resend_one, a, now);
            if (n)
                ns_log_info("resent %u unacknowledged batches", n);
        } else if (ls.connected && ns_outq_ack_overdue(a->outq, now, ack_timeout)) {
            uint32_t n = ns_outq_resend(a->outq, resend_one, a, now);
            ns_log_info("no acknowledgement for %llu ms: resent %u batches",
                        (unsigned long long)a->cfg->ack_timeout_ms, n);
        }
        if (ls.connected)
            flush_batches(a);
        uint64_t m = ns_agent_mono_ns();
        if (m >= next_hb) {
            if (ls.connected)
                send_heartbeat(a);
            next_hb = m + hb_every;
        }
        if (atomic_load(&a->cap_done)) {
            ns_outq_stats_t q;
            ns_outq_stats(a->outq, &q);
            if (ns_outq_idle(a->outq) && q.unacked == 0 && a->pending == NULL) {
                a->drained = true;
                break;
            }
            if (drain_until == 0)
                drain_until = m + a->cfg->drain_ms * NS_PER_MS;
            if (m >= drain_until)
                break;
        }
    }
    send_heartbeat(a); /* the final counters (dropped records) */
    return NULL;
}

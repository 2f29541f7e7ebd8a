/* fuzz_codec.c - libFuzzer target for the wire codec: the bytes a peer sends.
 *
 * Every input is decoded as an AgentMessage (what the collector does with what agents send)
 * and as a CollectorMessage (what the agent does with what the collector sends). Each
 * accepted message is read whole: every field, every string to its NUL, every frame byte,
 * folded into a digest. It is then encoded again, which must succeed (the encoder refuses
 * only what the decoder rejects), and decoded again, which must give the same digest.
 *
 * Agent messages are decoded twice, by a context using the codec's own batch reader and
 * writer and by one using protobuf-c's generic unpack and pack: both must accept the same
 * inputs with the same digest and re-encode them to the same bytes, and reject the same
 * inputs for the same reason, except that either may run out of arena where the other does
 * not (they allocate differently).
 *
 * Seed corpus: corpus/codec/, one valid message of every type, written by test_codec with
 * NS_CODEC_SEED_DIR set.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSG (1u << 20)

/* ---- a digest of everything a decoded message holds ------------------------------------- */

static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

#define MIXV(h, v) ((h) = mix((h), &(v), sizeof(v)))

static uint64_t
mix_str(uint64_t h, const char *s)
{
    if (s == NULL)
        abort(); /* decoded strings are never NULL */
    return mix(h, s, strlen(s) + 1);
}

static uint64_t
http_digest(uint64_t h, const ns_app_http_tx_t *t)
{
    h = mix_str(h, t->method);
    h = mix_str(h, t->host);
    h = mix_str(h, t->uri);
    h = mix_str(h, t->user_agent);
    MIXV(h, t->seq);
    MIXV(h, t->truncated);
    MIXV(h, t->has_request);
    MIXV(h, t->has_response);
    MIXV(h, t->chunked_req);
    MIXV(h, t->chunked_resp);
    MIXV(h, t->status);
    MIXV(h, t->req_body_len);
    MIXV(h, t->resp_body_len);
    MIXV(h, t->req_ts_ns);
    MIXV(h, t->resp_ts_ns);
    MIXV(h, t->latency_ns);
    return h;
}

static uint64_t
dns_digest(uint64_t h, const ns_app_dns_tx_t *t)
{
    h = mix_str(h, t->qname);
    MIXV(h, t->id);
    MIXV(h, t->qtype);
    MIXV(h, t->truncated);
    MIXV(h, t->has_query);
    MIXV(h, t->answered);
    MIXV(h, t->tcp);
    MIXV(h, t->rcode);
    MIXV(h, t->n_answers);
    MIXV(h, t->retries);
    MIXV(h, t->ancount);
    MIXV(h, t->query_ts_ns);
    MIXV(h, t->resp_ts_ns);
    MIXV(h, t->latency_ns);
    if (t->n_answers > NS_APP_DNS_ANSWERS)
        abort();
    for (unsigned i = 0; i < t->n_answers; i++) {
        if (t->answers[i].data_len > NS_DNS_RDATA_MAX)
            abort();
        h = mix(h, &t->answers[i], sizeof(t->answers[i])); /* zeroed past data_len */
    }
    return h;
}

static uint64_t
rec_digest(uint64_t h, const ns_flow_rec_t *r)
{
    /* The decoder zeroes a record before filling it, so its bytes (padding included) are a
     * function of its fields; the pointers are replaced by what they point to. */
    ns_flow_rec_t x = *r;
    x.http = NULL;
    x.dns = NULL;
    h = mix(h, &x, sizeof(x));
    if (r->n_http > NS_APP_MAX_TX || r->n_dns > NS_APP_MAX_TX)
        abort();
    for (uint32_t i = 0; i < r->n_http; i++)
        h = http_digest(h, &r->http[i]);
    for (uint32_t i = 0; i < r->n_dns; i++)
        h = dns_digest(h, &r->dns[i]);
    return h;
}

static uint64_t
hello_digest(uint64_t h, const ns_msg_hello_t *m)
{
    h = mix_str(h, m->agent_id);
    h = mix_str(h, m->hostname);
    h = mix_str(h, m->agent_version);
    h = mix_str(h, m->bpf_filter);
    h = mix_str(h, m->replay_file);
    MIXV(h, m->clock_ns);
    MIXV(h, m->start_ns);
    MIXV(h, m->promisc);
    MIXV(h, m->buffer_bytes);
    MIXV(h, m->export_interval_ms);
    MIXV(h, m->replay_speed);
    for (uint32_t i = 0; i < m->n_ifaces; i++) {
        const ns_msg_iface_t *f = &m->ifaces[i];
        h = mix_str(h, f->name);
        MIXV(h, f->index);
        MIXV(h, f->link_type);
        MIXV(h, f->snaplen);
        for (uint32_t k = 0; k < f->n_addrs; k++) {
            MIXV(h, f->addrs[k].ip_ver);
            MIXV(h, f->addrs[k].prefix_len);
            MIXV(h, f->addrs[k].addr);
        }
    }
    return h;
}

static uint64_t
msg_digest(const ns_msg_t *m)
{
    uint64_t h = 0xcbf29ce484222325ull;
    MIXV(h, m->type);
    MIXV(h, m->version);
    switch (m->type) {
    case NS_MSG_HELLO:
        return hello_digest(h, &m->u.hello);
    case NS_MSG_BATCH:
        MIXV(h, m->u.batch.seq);
        MIXV(h, m->u.batch.send_ns);
        for (uint32_t i = 0; i < m->u.batch.n_recs; i++)
            h = rec_digest(h, &m->u.batch.recs[i]);
        return h;
    case NS_MSG_IFACE_STATS:
        MIXV(h, m->u.iface_stats.send_ns);
        for (uint32_t i = 0; i < m->u.iface_stats.n_ifaces; i++) {
            const ns_msg_iface_counters_t *f = &m->u.iface_stats.ifaces[i];
            MIXV(h, f->index);
            MIXV(h, f->packets);
            MIXV(h, f->bytes);
            MIXV(h, f->kernel_drops);
            MIXV(h, f->iface_drops);
        }
        return h;
    case NS_MSG_HEARTBEAT:
        return mix(h, &m->u.heartbeat, sizeof(m->u.heartbeat)); /* in the zeroed ns_msg_t */
    case NS_MSG_FILTER_RESULT:
        MIXV(h, m->u.filter_result.request_id);
        MIXV(h, m->u.filter_result.ok);
        return mix_str(h, m->u.filter_result.error);
    case NS_MSG_PACKETS:
        MIXV(h, m->u.packets.request_id);
        MIXV(h, m->u.packets.link_type);
        MIXV(h, m->u.packets.truncated);
        h = mix_str(h, m->u.packets.error);
        for (uint32_t i = 0; i < m->u.packets.n_frames; i++) {
            const ns_msg_frame_t *f = &m->u.packets.frames[i];
            if (f->cap_len > f->wire_len || f->cap_len > NS_CODEC_FRAME_MAX)
                abort();
            MIXV(h, f->ts_ns);
            MIXV(h, f->wire_len);
            h = mix(h, f->data, f->cap_len);
        }
        return h;
    case NS_MSG_ACK:
        return mix(h, &m->u.ack, sizeof(m->u.ack));
    case NS_MSG_SET_FILTER:
        MIXV(h, m->u.set_filter.request_id);
        return mix_str(h, m->u.set_filter.bpf_filter);
    case NS_MSG_GET_PACKETS:
        return mix(h, &m->u.get_packets, sizeof(m->u.get_packets)); /* zeroed, then filled */
    default:
        abort(); /* no other type comes out of a decode */
    }
}

/* ---- the target --------------------------------------------------------------------------- */

typedef ns_codec_reject_t (*decode_fn)(ns_codec_t *, const uint8_t *, size_t, const ns_msg_t **);

/* Decode; when accepted, return true with the digest, re-encoded into out[0..*len). */
static bool
decode_one(ns_codec_t *c, decode_fn decode, const uint8_t *data, size_t size,
           ns_codec_reject_t *why, uint64_t *digest, uint8_t *out, size_t *len)
{
    const ns_msg_t *m = NULL;
    uint64_t before = ns_codec_stats(c)->messages + ns_codec_stats(c)->rejected;
    *why = decode(c, data, size, &m);
    if (ns_codec_stats(c)->messages + ns_codec_stats(c)->rejected != before + 1)
        abort(); /* every decode is counted once */
    if (*why != NS_CODEC_OK) {
        if (m != NULL || *why >= NS_CODEC_REJECT_COUNT || ns_codec_error(c)[0] == '\0')
            abort();
        return false;
    }
    *digest = msg_digest(m);
    /* Re-encoding can grow a message only by an empty submessage or two. */
    if (ns_codec_encode(c, m, out, 2 * MAX_MSG, len) != NS_OK)
        abort();
    /* What was encoded decodes to the same message. */
    if (decode(c, out, *len, &m) != NS_CODEC_OK || msg_digest(m) != *digest)
        abort();
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Contexts for the whole run, as a collector or agent thread keeps one: the arenas are
     * reused input after input. They are small so that running out is explored too. */
    static ns_codec_t *own, *ref;
    static uint8_t *out_own, *out_ref;
    if (own == NULL) {
        ns_codec_opts_t o = {MAX_MSG, (size_t)8 * MAX_MSG, false};
        own = ns_codec_new(&o, NULL, 0);
        o.generic = true;
        ref = ns_codec_new(&o, NULL, 0);
        out_own = malloc(2 * MAX_MSG);
        out_ref = malloc(2 * MAX_MSG);
        if (own == NULL || ref == NULL || out_own == NULL || out_ref == NULL)
            abort();
    }
    ns_codec_reject_t why_own, why_ref;
    uint64_t d_own = 0, d_ref = 0;
    size_t l_own = 0, l_ref = 0;
    bool ok_own =
        decode_one(own, ns_codec_decode_agent, data, size, &why_own, &d_own, out_own, &l_own);
    bool ok_ref =
        decode_one(ref, ns_codec_decode_agent, data, size, &why_ref, &d_ref, out_ref, &l_ref);
    if (ok_own && ok_ref) {
        if (d_own != d_ref || l_own != l_ref || memcmp(out_own, out_ref, l_own) != 0)
            abort();
    } else if (why_own != why_ref && why_own != NS_CODEC_E_ARENA && why_ref != NS_CODEC_E_ARENA) {
        abort();
    }
    (void)decode_one(own, ns_codec_decode_collector, data, size, &why_own, &d_own, out_own, &l_own);
    return 0;
}

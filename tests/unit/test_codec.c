/* test_codec.c - the wire codec: round trips, the batch size cap, and hostile bytes.
 *
 * Valid messages go through ns_codec_encode()/the batch builder and back; every field is set
 * to a value of its own and compared after decoding. Invalid messages cannot come from the
 * encoder (it refuses them), so they are written here byte by byte with a small protobuf
 * writer (pbw_*) that knows only the wire format: the field numbers below are those of
 * proto/netscope.proto, an independent statement of the schema.
 *
 * With NS_CODEC_SEED_DIR set, every valid message a round trip encodes is also written to
 * that directory: that is how tests/fuzz/corpus/codec/ was made.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/codec.h"
#include "runner.h"

#define T0 1700000000123456789ull /* an arbitrary time, ns */

/* ---- a protobuf writer that knows nothing of the codec ------------------------------------ */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct {
    uint8_t *b;
    size_t n, cap;
} pbw_t;

static void
pbw_raw(pbw_t *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->b = realloc(w->b, w->cap);
        ck_assert_ptr_nonnull(w->b);
    }
    if (n > 0)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void
pbw_varint(pbw_t *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    pbw_raw(w, tmp, n);
}

static void
pbw_tag(pbw_t *w, uint32_t field, uint32_t wt)
{
    pbw_varint(w, (uint64_t)field << 3 | wt);
}

static void
pbw_uint(pbw_t *w, uint32_t field, uint64_t v)
{
    pbw_tag(w, field, WT_VARINT);
    pbw_varint(w, v);
}

static void
pbw_bytes(pbw_t *w, uint32_t field, const void *p, size_t n)
{
    pbw_tag(w, field, WT_LEN);
    pbw_varint(w, n);
    pbw_raw(w, p, n);
}

static void
pbw_str(pbw_t *w, uint32_t field, const char *s)
{
    pbw_bytes(w, field, s, strlen(s));
}

static void
pbw_fixed64(pbw_t *w, uint32_t field, uint64_t v)
{
    uint8_t le[8];
    for (unsigned i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    pbw_tag(w, field, WT_I64);
    pbw_raw(w, le, 8);
}

/* Append `inner` as a length-delimited field and empty it. */
static void
pbw_msg(pbw_t *w, uint32_t field, pbw_t *inner)
{
    pbw_bytes(w, field, inner->b, inner->n);
    inner->n = 0;
}

static void
pbw_free(pbw_t *w)
{
    free(w->b);
    memset(w, 0, sizeof(*w));
}

/* Field numbers of netscope.proto used by the hand-built messages. */
enum {
    F_ENV_VERSION = 1,
    F_ENV_HELLO = 2,
    F_ENV_BATCH = 3,
    F_BATCH_SEQ = 1,
    F_BATCH_SEND = 2,
    F_BATCH_RECORDS = 3,
    F_REC_UID = 1,
    F_REC_IP_VER = 2,
    F_REC_PROTO = 3,
    F_REC_ORIG_H = 4,
    F_REC_RESP_H = 5,
    F_REC_ORIG_P = 6,
    F_REC_FIRST = 8,
    F_REC_ORIG_PKTS = 11,
    F_REC_KIND = 17,
    F_REC_END_REASON = 18,
    F_REC_VLAN = 19,
    F_REC_ORIG_TCP_STATE = 49,
    F_REC_BPS = 81,
    F_REC_HTTP = 93,
    F_REC_DNS = 94,
    F_HTTP_HOST = 3,
    F_HTTP_HAS_REQUEST = 13,
    F_DNS_QNAME = 2,
    F_DNS_ANSWERS = 6,
    F_DNS_HAS_QUERY = 12,
    F_ANS_TYPE = 1,
    F_ANS_DATA = 4,
    F_HELLO_AGENT_ID = 1,
};

static const uint8_t V4_A[4] = {192, 0, 2, 1}, V4_B[4] = {198, 51, 100, 7};

/* A minimal valid IPv4 record, field by field, into `w`. */
static void
pbw_min_rec(pbw_t *w)
{
    pbw_str(w, F_REC_UID, "CmInImAl");
    pbw_uint(w, F_REC_IP_VER, 4);
    pbw_uint(w, F_REC_PROTO, 17);
    pbw_bytes(w, F_REC_ORIG_H, V4_A, 4);
    pbw_bytes(w, F_REC_RESP_H, V4_B, 4);
    pbw_fixed64(w, F_REC_FIRST, T0);
    pbw_uint(w, F_REC_ORIG_PKTS, 3);
}

/* AgentMessage{version, batch: FlowBatch{seq 1, records: each of recs[0..n)}}. */
static void
pbw_batch(pbw_t *out, uint32_t version, pbw_t *recs, size_t n)
{
    pbw_t batch = {0};
    pbw_uint(&batch, F_BATCH_SEQ, 1);
    pbw_fixed64(&batch, F_BATCH_SEND, T0);
    for (size_t i = 0; i < n; i++)
        pbw_bytes(&batch, F_BATCH_RECORDS, recs[i].b, recs[i].n);
    pbw_uint(out, F_ENV_VERSION, version);
    pbw_msg(out, F_ENV_BATCH, &batch);
    pbw_free(&batch);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static ns_codec_t *
codec_new(uint32_t max_msg, size_t arena)
{
    ns_codec_opts_t o = {max_msg, arena};
    char err[256] = "";
    ns_codec_t *c = ns_codec_new(&o, err, sizeof(err));
    ck_assert_msg(c != NULL, "ns_codec_new: %s", err);
    return c;
}

/* Write an encoded valid message to $NS_CODEC_SEED_DIR/<name> when that is set. */
static void
seed(const char *name, const uint8_t *buf, size_t len)
{
    const char *dir = getenv("NS_CODEC_SEED_DIR");
    if (dir == NULL)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
    fclose(fp);
}

/* Decode `len` bytes as an AgentMessage from an exact-size heap copy (ASan sees over-reads). */
static ns_codec_reject_t
decode_agent(ns_codec_t *c, const uint8_t *buf, size_t len, const ns_msg_t **m)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len > 0)
        memcpy(copy, buf, len);
    ns_codec_reject_t why = ns_codec_decode_agent(c, copy, len, m);
    free(copy);
    return why;
}

static ns_codec_reject_t
decode_collector(ns_codec_t *c, const uint8_t *buf, size_t len, const ns_msg_t **m)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len > 0)
        memcpy(copy, buf, len);
    ns_codec_reject_t why = ns_codec_decode_collector(c, copy, len, m);
    free(copy);
    return why;
}

/* Expect a rejection for `why` whose sentence mentions `word`. */
static void
expect_reject(ns_codec_t *c, const pbw_t *w, ns_codec_reject_t why, const char *word)
{
    const ns_msg_t *m = (const ns_msg_t *)&m; /* must be set to NULL */
    uint64_t before = ns_codec_stats(c)->by_reason[why];
    ns_codec_reject_t got = decode_agent(c, w->b, w->n, &m);
    ck_assert_msg(got == why, "expected %s, got %s (%s)", ns_codec_reject_name(why),
                  ns_codec_reject_name(got), ns_codec_error(c));
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(ns_codec_stats(c)->by_reason[why], before + 1);
    ck_assert_msg(strstr(ns_codec_error(c), word) != NULL, "\"%s\" does not mention %s",
                  ns_codec_error(c), word);
}

/* ---- a record with every field set to a value of its own --------------------------------- */

static ns_dns_answer_t answers[2][3];
static ns_app_dns_tx_t dns_tx[2];
static ns_app_http_tx_t http_tx[2];

static void
fill_tx(void)
{
    memset(http_tx, 0, sizeof(http_tx));
    http_tx[0] = (ns_app_http_tx_t){
        .seq = 1,
        .method = "GET",
        .host = "example.org",
        .uri = "/index.html?q=1",
        .user_agent = "curl/8.0",
        .truncated = false,
        .has_request = true,
        .has_response = true,
        .chunked_req = false,
        .chunked_resp = true,
        .status = 200,
        .req_body_len = 0,
        .resp_body_len = 0x1234567890ull,
        .req_ts_ns = T0 + 10,
        .resp_ts_ns = T0 + 2010,
        .latency_ns = 2000,
    };
    http_tx[1] = (ns_app_http_tx_t){
        .seq = 2,
        .method = "POST",
        .host = "",
        .uri = "/\xff\xfe binary",
        .user_agent = "",
        .truncated = true,
        .has_request = true,
        .has_response = false,
        .chunked_req = true,
        .chunked_resp = false,
        .status = 0,
        .req_body_len = 77,
        .resp_body_len = 0,
        .req_ts_ns = T0 + 20,
        .resp_ts_ns = 0,
        .latency_ns = -1,
    };
    memset(answers, 0, sizeof(answers));
    answers[0][0] = (ns_dns_answer_t){.type = 5, .rclass = 1, .ttl = 300, .data_len = 15};
    memcpy(answers[0][0].data, "www.example.org", 15);
    answers[0][1] = (ns_dns_answer_t){.type = 1, .rclass = 1, .ttl = 60, .data_len = 4};
    memcpy(answers[0][1].data, V4_B, 4);
    answers[0][2] = (ns_dns_answer_t){
        .type = 16, .rclass = 3, .ttl = 0xffffffffu, .data_len = NS_DNS_RDATA_MAX};
    memset(answers[0][2].data, 'x', NS_DNS_RDATA_MAX);
    dns_tx[0] = (ns_app_dns_tx_t){
        .id = 0xbeef,
        .qname = "example.org",
        .qtype = 1,
        .truncated = false,
        .has_query = true,
        .answered = true,
        .tcp = true,
        .rcode = 0x123,
        .n_answers = 3,
        .retries = 2,
        .ancount = 9,
        .answers = answers[0],
        .query_ts_ns = T0 + 30,
        .resp_ts_ns = T0 + 530,
        .latency_ns = 500,
    };
    dns_tx[1] = (ns_app_dns_tx_t){
        .id = 7,
        .qname = "",
        .qtype = 28,
        .truncated = true,
        .has_query = true,
        .answered = false,
        .tcp = false,
        .rcode = 0,
        .n_answers = 0,
        .retries = 255,
        .ancount = 0,
        .answers = NULL,
        .query_ts_ns = T0 + 40,
        .resp_ts_ns = 0,
        .latency_ns = -1,
    };
}

static void
fill_rec(ns_flow_rec_t *r, uint8_t ip_ver, bool with_tx)
{
    memset(r, 0, sizeof(*r));
    strcpy(r->uid, "CAbCdEfGhIjKlMnOpQ"); /* all 18 characters */
    r->ip_ver = ip_ver;
    r->proto = 6;
    r->vlan = 4001;
    r->iface = 7;
    r->kind = NS_FLOW_REC_FINAL;
    r->end_reason = NS_FLOW_END_RST;
    for (unsigned i = 0; i < (ip_ver == 4 ? 4u : 16u); i++) {
        r->orig_h.b[i] = (uint8_t)(0x20 + i);
        r->resp_h.b[i] = (uint8_t)(0x40 + i);
    }
    r->orig_p = 40001;
    r->resp_p = 65535;
    strcpy(r->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="); /* 30 of 31 */
    strcpy(r->tunnel_parent, "CabcdefghiJKLMNOPQ"); /* NS_FLOW_UID_LEN */
    r->first_ns = T0 + 1;
    r->last_ns = T0 + 2;
    r->emit_ns = UINT64_MAX;
    strcpy(r->service, "http");
    strcpy(r->conn_state, "RSTOS0x");      /* 7 of 7 */
    strcpy(r->history, "ShADadFfRrTtWwC"); /* 15 of 15 */
    r->app_bytes[0] = 0x100000001ull;
    r->app_bytes[1] = 0x100000002ull;
    r->missed_bytes = 0x100000003ull;
    r->pkts[0] = 1004;
    r->pkts[1] = 1005;
    r->ip_bytes[0] = 1006;
    r->ip_bytes[1] = 1007;
    r->wire_bytes[0] = 1008;
    r->wire_bytes[1] = 1009;
    r->payload_bytes[0] = 1010;
    r->payload_bytes[1] = UINT64_MAX - 1;
    r->is_tcp = true;
    r->tcp_flags[0] = 0x1b;
    r->tcp_flags[1] = 0xd4;
    r->syn[0] = 1;
    r->syn[1] = 2;
    r->fin[0] = 3;
    r->fin[1] = 4;
    r->rst[0] = 5;
    r->rst[1] = 255;
    r->tcp_state[0] = NS_TCP_EP_ESTABLISHED;
    r->tcp_state[1] = NS_TCP_EP_RESET;
    r->hs = NS_FLOW_REC_HS_TOTAL | NS_FLOW_REC_HS_SERVER | NS_FLOW_REC_HS_CLIENT;
    r->rtt_hs_ns = 2001;
    r->rtt_hs_server_ns = 2002;
    r->rtt_hs_client_ns = 2003;
    r->rtt_n = 2004;
    r->rtt_min_us = 2005;
    r->rtt_mean_us = 2006;
    r->rtt_max_us = 2007;
    r->rtt_last_us = 2008;
    r->retrans[0] = 3001;
    r->retrans[1] = 3002;
    r->ooo[0] = 3003;
    r->ooo[1] = 3004;
    r->dup_ack[0] = 3005;
    r->dup_ack[1] = 3006;
    r->zero_win[0] = 3007;
    r->zero_win[1] = 3008;
    r->gaps[0] = 3009;
    r->gaps[1] = 3010;
    r->missed[0] = 3011;
    r->missed[1] = UINT32_MAX;
    r->quality = 0x0f;
    r->bps = 12345.5;
    r->pps = 67.25;
    r->interim = 4001;
    r->http_total = 5001;
    r->dns_total = 5002;
    r->dns_unanswered = 5003;
    if (with_tx) {
        fill_tx();
        r->n_http = 2;
        r->http = http_tx;
        r->n_dns = 2;
        r->dns = dns_tx;
    }
}

static void
assert_http_eq(const ns_app_http_tx_t *a, const ns_app_http_tx_t *b)
{
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_str_eq(a->method, b->method);
    ck_assert_str_eq(a->host, b->host);
    ck_assert_str_eq(a->uri, b->uri);
    ck_assert_str_eq(a->user_agent, b->user_agent);
    ck_assert_int_eq(a->truncated, b->truncated);
    ck_assert_int_eq(a->has_request, b->has_request);
    ck_assert_int_eq(a->has_response, b->has_response);
    ck_assert_int_eq(a->chunked_req, b->chunked_req);
    ck_assert_int_eq(a->chunked_resp, b->chunked_resp);
    ck_assert_uint_eq(a->status, b->status);
    ck_assert_uint_eq(a->req_body_len, b->req_body_len);
    ck_assert_uint_eq(a->resp_body_len, b->resp_body_len);
    ck_assert_uint_eq(a->req_ts_ns, b->req_ts_ns);
    ck_assert_uint_eq(a->resp_ts_ns, b->resp_ts_ns);
    ck_assert_int_eq(a->latency_ns, b->latency_ns);
}

static void
assert_dns_eq(const ns_app_dns_tx_t *a, const ns_app_dns_tx_t *b)
{
    ck_assert_uint_eq(a->id, b->id);
    ck_assert_str_eq(a->qname, b->qname);
    ck_assert_uint_eq(a->qtype, b->qtype);
    ck_assert_int_eq(a->truncated, b->truncated);
    ck_assert_int_eq(a->has_query, b->has_query);
    ck_assert_int_eq(a->answered, b->answered);
    ck_assert_int_eq(a->tcp, b->tcp);
    ck_assert_uint_eq(a->rcode, b->rcode);
    ck_assert_uint_eq(a->n_answers, b->n_answers);
    ck_assert_uint_eq(a->retries, b->retries);
    ck_assert_uint_eq(a->ancount, b->ancount);
    ck_assert_uint_eq(a->query_ts_ns, b->query_ts_ns);
    ck_assert_uint_eq(a->resp_ts_ns, b->resp_ts_ns);
    ck_assert_int_eq(a->latency_ns, b->latency_ns);
    for (unsigned i = 0; i < a->n_answers; i++) {
        ck_assert_uint_eq(a->answers[i].type, b->answers[i].type);
        ck_assert_uint_eq(a->answers[i].rclass, b->answers[i].rclass);
        ck_assert_uint_eq(a->answers[i].ttl, b->answers[i].ttl);
        ck_assert_uint_eq(a->answers[i].data_len, b->answers[i].data_len);
        ck_assert_mem_eq(a->answers[i].data, b->answers[i].data, a->answers[i].data_len);
    }
}

/* Field by field, in the order of flow_rec.h; then the whole struct with the transaction
 * pointers equalised (both sides start from zeroed memory, so a field the codec forgot shows
 * up even if this list forgot it too). */
static void
assert_rec_eq(const ns_flow_rec_t *a, const ns_flow_rec_t *b)
{
    ck_assert_str_eq(a->uid, b->uid);
    ck_assert_uint_eq(a->ip_ver, b->ip_ver);
    ck_assert_uint_eq(a->proto, b->proto);
    ck_assert_uint_eq(a->vlan, b->vlan);
    ck_assert_uint_eq(a->iface, b->iface);
    ck_assert_uint_eq(a->kind, b->kind);
    ck_assert_uint_eq(a->end_reason, b->end_reason);
    ck_assert_mem_eq(a->orig_h.b, b->orig_h.b, 16);
    ck_assert_mem_eq(a->resp_h.b, b->resp_h.b, 16);
    ck_assert_uint_eq(a->orig_p, b->orig_p);
    ck_assert_uint_eq(a->resp_p, b->resp_p);
    ck_assert_str_eq(a->community_id, b->community_id);
    ck_assert_str_eq(a->tunnel_parent, b->tunnel_parent);
    ck_assert_uint_eq(a->first_ns, b->first_ns);
    ck_assert_uint_eq(a->last_ns, b->last_ns);
    ck_assert_uint_eq(a->emit_ns, b->emit_ns);
    ck_assert_str_eq(a->service, b->service);
    ck_assert_str_eq(a->conn_state, b->conn_state);
    ck_assert_str_eq(a->history, b->history);
    for (unsigned d = 0; d < 2; d++) {
        ck_assert_uint_eq(a->app_bytes[d], b->app_bytes[d]);
        ck_assert_uint_eq(a->pkts[d], b->pkts[d]);
        ck_assert_uint_eq(a->ip_bytes[d], b->ip_bytes[d]);
        ck_assert_uint_eq(a->wire_bytes[d], b->wire_bytes[d]);
        ck_assert_uint_eq(a->payload_bytes[d], b->payload_bytes[d]);
        ck_assert_uint_eq(a->tcp_flags[d], b->tcp_flags[d]);
        ck_assert_uint_eq(a->syn[d], b->syn[d]);
        ck_assert_uint_eq(a->fin[d], b->fin[d]);
        ck_assert_uint_eq(a->rst[d], b->rst[d]);
        ck_assert_uint_eq(a->tcp_state[d], b->tcp_state[d]);
        ck_assert_uint_eq(a->retrans[d], b->retrans[d]);
        ck_assert_uint_eq(a->ooo[d], b->ooo[d]);
        ck_assert_uint_eq(a->dup_ack[d], b->dup_ack[d]);
        ck_assert_uint_eq(a->zero_win[d], b->zero_win[d]);
        ck_assert_uint_eq(a->gaps[d], b->gaps[d]);
        ck_assert_uint_eq(a->missed[d], b->missed[d]);
    }
    ck_assert_uint_eq(a->missed_bytes, b->missed_bytes);
    ck_assert_int_eq(a->is_tcp, b->is_tcp);
    ck_assert_uint_eq(a->hs, b->hs);
    ck_assert_uint_eq(a->rtt_hs_ns, b->rtt_hs_ns);
    ck_assert_uint_eq(a->rtt_hs_server_ns, b->rtt_hs_server_ns);
    ck_assert_uint_eq(a->rtt_hs_client_ns, b->rtt_hs_client_ns);
    ck_assert_uint_eq(a->rtt_n, b->rtt_n);
    ck_assert_uint_eq(a->rtt_min_us, b->rtt_min_us);
    ck_assert_uint_eq(a->rtt_mean_us, b->rtt_mean_us);
    ck_assert_uint_eq(a->rtt_max_us, b->rtt_max_us);
    ck_assert_uint_eq(a->rtt_last_us, b->rtt_last_us);
    ck_assert_uint_eq(a->quality, b->quality);
    ck_assert_double_eq(a->bps, b->bps);
    ck_assert_double_eq(a->pps, b->pps);
    ck_assert_uint_eq(a->interim, b->interim);
    ck_assert_uint_eq(a->http_total, b->http_total);
    ck_assert_uint_eq(a->dns_total, b->dns_total);
    ck_assert_uint_eq(a->dns_unanswered, b->dns_unanswered);
    ck_assert_uint_eq(a->n_http, b->n_http);
    ck_assert_uint_eq(a->n_dns, b->n_dns);
    for (unsigned i = 0; i < a->n_http; i++)
        assert_http_eq(&a->http[i], &b->http[i]);
    for (unsigned i = 0; i < a->n_dns; i++)
        assert_dns_eq(&a->dns[i], &b->dns[i]);

    ns_flow_rec_t x = *a, y = *b;
    x.http = y.http = NULL;
    x.dns = y.dns = NULL;
    ck_assert_mem_eq(&x, &y, sizeof(x));
}

/* Encode `n` records as one batch with the builder, decode, compare; returns the length. */
static size_t
batch_round_trip(const ns_flow_rec_t *recs, uint32_t n, const char *seed_name)
{
    ns_codec_t *c = codec_new(0, 0);
    size_t cap = NS_CODEC_DEFAULT_MAX_MSG;
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, cap, 42, T0 + 99), NS_OK);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(ns_codec_batch_add(c, &recs[i]) == NS_OK, "%s", ns_codec_error(c));
    ck_assert_uint_eq(ns_codec_batch_count(c), n);
    size_t len = ns_codec_batch_finish(c);
    ck_assert_uint_gt(len, 0);
    if (seed_name != NULL)
        seed(seed_name, buf, len);

    const ns_msg_t *m;
    ck_assert_msg(decode_agent(c, buf, len, &m) == NS_CODEC_OK, "%s", ns_codec_error(c));
    ck_assert_int_eq(m->type, NS_MSG_BATCH);
    ck_assert_uint_eq(m->version, NS_CODEC_VERSION);
    ck_assert_uint_eq(m->u.batch.seq, 42);
    ck_assert_uint_eq(m->u.batch.send_ns, T0 + 99);
    ck_assert_uint_eq(m->u.batch.n_recs, n);
    for (uint32_t i = 0; i < n; i++)
        assert_rec_eq(&recs[i], &m->u.batch.recs[i]);
    ck_assert_uint_eq(ns_codec_stats(c)->messages, 1);
    ck_assert_uint_eq(ns_codec_stats(c)->records, n);
    ck_assert_uint_eq(ns_codec_stats(c)->bytes, len);

    /* The one-shot encoder writes the same bytes as the builder. */
    uint8_t *again = malloc(cap);
    ck_assert_ptr_nonnull(again);
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 42, .send_ns = T0 + 99, .recs = recs, .n_recs = n};
    size_t len2 = 0;
    ck_assert_int_eq(ns_codec_encode(c, &in, again, cap, &len2), NS_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(again, buf, len);
    free(again);
    free(buf);
    ns_codec_destroy(&c);
    return len;
}

/* ---- valid: flow records ----------------------------------------------------------------- */

START_TEST(record_every_field_v4)
{
    ns_flow_rec_t r;
    fill_rec(&r, 4, false);
    batch_round_trip(&r, 1, "batch_v4");
}
END_TEST

START_TEST(record_every_field_v6)
{
    ns_flow_rec_t r;
    fill_rec(&r, 6, false);
    batch_round_trip(&r, 1, "batch_v6");
}
END_TEST

START_TEST(record_with_transactions)
{
    ns_flow_rec_t r[2];
    fill_rec(&r[0], 4, true);
    fill_rec(&r[1], 6, true);
    batch_round_trip(r, 2, "batch_tx");
}
END_TEST

/* A record left at zero except what validity needs: zero values are not sent (proto3) and
 * must come back as zeros, strings as "". */
START_TEST(record_mostly_zero)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    r.ip_ver = 4;
    size_t len = batch_round_trip(&r, 1, "batch_zero");
    ck_assert_uint_lt(len, 40); /* header + uid-less record: ip_ver and two addresses */
}
END_TEST

START_TEST(empty_batch)
{
    batch_round_trip(NULL, 0, "batch_empty");
}
END_TEST

/* The codec's own batch writer and reader against protobuf-c's generic pack and unpack: the
 * same bytes out, the same records back. */
START_TEST(own_reader_and_writer_match_protobuf_c)
{
    ns_codec_t *own = codec_new(0, 0);
    ns_codec_opts_t o = {0, 0, true};
    ns_codec_t *ref = ns_codec_new(&o, NULL, 0);
    ck_assert_ptr_nonnull(ref);
    ns_flow_rec_t r[4];
    fill_rec(&r[0], 4, false);
    fill_rec(&r[1], 6, true);
    memset(&r[2], 0, sizeof(r[2]));
    r[2].ip_ver = 6;
    r[2].bps = -0.0; /* left out like 0.0 */
    fill_rec(&r[3], 4, true);
    r[3].http_total = 0;
    r[3].pps = 1e300;
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = UINT64_MAX, .send_ns = T0, .recs = r, .n_recs = 4};
    uint8_t a[16384], b[16384];
    size_t la = 0, lb = 0;
    ck_assert_int_eq(ns_codec_encode(own, &in, a, sizeof(a), &la), NS_OK);
    ck_assert_int_eq(ns_codec_encode(ref, &in, b, sizeof(b), &lb), NS_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(a, b, la);

    const ns_msg_t *ma, *mb;
    ck_assert_int_eq(decode_agent(own, a, la, &ma), NS_CODEC_OK);
    ck_assert_int_eq(decode_agent(ref, a, la, &mb), NS_CODEC_OK);
    ck_assert_uint_eq(ns_codec_stats(own)->fast_batches, 1);
    ck_assert_uint_eq(ns_codec_stats(ref)->fast_batches, 0);
    ck_assert_uint_eq(ma->u.batch.seq, UINT64_MAX);
    ck_assert_uint_eq(mb->u.batch.n_recs, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_rec_eq(&ma->u.batch.recs[i], &mb->u.batch.recs[i]);
    r[2].bps = 0.0;
    for (unsigned i = 0; i < 4; i++)
        assert_rec_eq(&r[i], &ma->u.batch.recs[i]);
    ns_codec_destroy(&own);
    ns_codec_destroy(&ref);
}
END_TEST

/* Corners of the wire format where protobuf-c has its own reading, which the codec's batch
 * reader copies: both contexts must agree on each input, and a few outcomes are pinned. */
START_TEST(reader_copies_protobuf_c_corners)
{
    ns_codec_t *own = codec_new(0, 0);
    ns_codec_opts_t o = {0, 0, true};
    ns_codec_t *ref = ns_codec_new(&o, NULL, 0);
    ck_assert_ptr_nonnull(ref);
    static const struct {
        const char *what;
        const char *bytes; /* a record's extra fields, appended to pbw_min_rec() */
        size_t len;
        ns_codec_reject_t want;
    } cases[] = {
        {"field 0 in one byte", "\x00\x01", 2, NS_CODEC_E_MALFORMED},
        {"field 0 in two bytes", "\x80\x00\x01", 3, NS_CODEC_OK},
        {"is_tcp as fixed64", "\xc1\x02\x00\x00\x00\x00\x00\x00\x00\x02", 10, NS_CODEC_OK},
        {"is_tcp as a length", "\xc2\x02\x01\x80", 4, NS_CODEC_OK},
        {"proto as 6 + 2^32", "\x18\x86\x80\x80\x80\x10", 6, NS_CODEC_OK},
        {"a 10-byte varint", "\x58\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, NS_CODEC_OK},
        {"an 11-byte varint", "\x58\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12,
         NS_CODEC_E_MALFORMED},
        {"a 6-byte length", "\xaa\x01\x80\x80\x80\x80\x80\x00", 8, NS_CODEC_E_MALFORMED},
        {"a 5-byte length of 0", "\xaa\x01\x80\x80\x80\x80\x00", 7, NS_CODEC_OK},
        {"a length of 2^32", "\xaa\x01\x80\x80\x80\x80\x10", 7, NS_CODEC_E_MALFORMED},
        {"a group", "\xfb\x0f\xfc\x0f", 4, NS_CODEC_E_MALFORMED},
        {"kind with wire type fixed32", "\x8d\x01\x00\x00\x00\x00", 6, NS_CODEC_E_MALFORMED},
        {"a record cut inside a value", "\x58", 1, NS_CODEC_E_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pbw_t rec = {0}, env = {0};
        pbw_min_rec(&rec);
        pbw_raw(&rec, cases[i].bytes, cases[i].len);
        pbw_batch(&env, NS_CODEC_VERSION, &rec, 1);
        const ns_msg_t *ma, *mb;
        ns_codec_reject_t a = decode_agent(own, env.b, env.n, &ma);
        ns_codec_reject_t b = decode_agent(ref, env.b, env.n, &mb);
        ck_assert_msg(a == cases[i].want && b == cases[i].want, "%s: own %s, protobuf-c %s",
                      cases[i].what, ns_codec_reject_name(a), ns_codec_reject_name(b));
        if (a == NS_CODEC_OK) {
            assert_rec_eq(&ma->u.batch.recs[0], &mb->u.batch.recs[0]);
            if (i == 2 || i == 3)
                ck_assert(ma->u.batch.recs[0].is_tcp);
            if (i == 4)
                ck_assert_uint_eq(ma->u.batch.recs[0].proto, 6);
            if (i == 5)
                ck_assert_uint_eq(ma->u.batch.recs[0].pkts[0], UINT64_MAX);
        }
        pbw_free(&rec);
        pbw_free(&env);
    }
    ck_assert_uint_eq(ns_codec_stats(own)->fast_batches, sizeof(cases) / sizeof(cases[0]));
    ns_codec_destroy(&own);
    ns_codec_destroy(&ref);
}
END_TEST

/* Decode the same bytes with the batch reader and with protobuf-c: both must give `want`
 * (and, when accepted, the same records). Returns the batch reader's message. */
static const ns_msg_t *
decode_both(ns_codec_t *own, ns_codec_t *ref, const pbw_t *env, ns_codec_reject_t want,
            const char *what)
{
    const ns_msg_t *ma, *mb;
    ns_codec_reject_t b = decode_agent(ref, env->b, env->n, &mb);
    ns_codec_reject_t a = decode_agent(own, env->b, env->n, &ma);
    ck_assert_msg(a == want && b == want, "%s: own %s (%s), protobuf-c %s", what,
                  ns_codec_reject_name(a), ns_codec_error(own), ns_codec_reject_name(b));
    if (a == NS_CODEC_OK) {
        ck_assert_uint_eq(ma->u.batch.n_recs, mb->u.batch.n_recs);
        for (uint32_t i = 0; i < ma->u.batch.n_recs; i++)
            assert_rec_eq(&ma->u.batch.recs[i], &mb->u.batch.recs[i]);
    }
    return ma;
}

/* The record reader's edges: a field given twice, strings at their limit and one byte over,
 * a record cut inside its last value, unknown fields of every wire type, and which of two
 * faults of a batch is reported. */
START_TEST(record_reader_edges)
{
    ns_codec_t *own = codec_new(0, 0);
    ns_codec_opts_t o = {0, 0, true};
    ns_codec_t *ref = ns_codec_new(&o, NULL, 0);
    ck_assert_ptr_nonnull(ref);
    static const struct {
        const char *what;
        const char *bytes; /* appended to pbw_min_rec() */
        size_t len;
        ns_codec_reject_t want;
    } cases[] = {
        {"uid twice: the last wins", "\x0a\x03" "Cab", 5, NS_CODEC_OK},
        {"uid with a NUL, longer after it", "\x0a\x16" "Cab\0" "xxxxxxxxxxxxxxxxxx", 24,
         NS_CODEC_OK},
        {"proto twice", "\x18\x06", 2, NS_CODEC_OK},
        {"orig_h twice", "\x22\x04\x0a\x00\x00\x01", 6, NS_CODEC_OK},
        {"ip_ver 6 with IPv4 addresses", "\x10\x06", 2, NS_CODEC_E_ADDR},
        {"a varint cut at the end", "\x58\x80", 2, NS_CODEC_E_MALFORMED},
        {"a tag cut at the end", "\x80", 1, NS_CODEC_E_MALFORMED},
        {"a fixed64 cut at the end", "\x41\x01\x02", 3, NS_CODEC_E_MALFORMED},
        {"a string cut at the end", "\x0a\x05" "ab", 4, NS_CODEC_E_MALFORMED},
        {"unknown 35, varint", "\x98\x02\x96\x01", 4, NS_CODEC_OK},
        {"unknown 35, fixed64", "\x99\x02\x01\x02\x03\x04\x05\x06\x07\x08", 10, NS_CODEC_OK},
        {"unknown 35, length", "\x9a\x02\x03" "abc", 6, NS_CODEC_OK},
        {"unknown 35, fixed32", "\x9d\x02\x01\x02\x03\x04", 6, NS_CODEC_OK},
        {"unknown 35, group start", "\x9b\x02", 2, NS_CODEC_E_MALFORMED},
        {"unknown 35, group end", "\x9c\x02", 2, NS_CODEC_E_MALFORMED},
        {"unknown 35, wire type 6", "\x9e\x02\x00", 3, NS_CODEC_E_MALFORMED},
        {"unknown 35, wire type 7", "\x9f\x02\x00", 3, NS_CODEC_E_MALFORMED},
        {"unknown 1000, varint", "\xc0\x3e\x01", 3, NS_CODEC_OK},
        {"unknown 35, fixed32 cut", "\x9d\x02\x01\x02", 4, NS_CODEC_E_MALFORMED},
        {"uid as a varint", "\x08\x01", 2, NS_CODEC_E_MALFORMED},
        {"bps as a varint", "\x88\x05\x01", 3, NS_CODEC_E_MALFORMED},
        {"first_ns as fixed32", "\x45\x01\x02\x03\x04", 5, NS_CODEC_E_MALFORMED},
        {"http as a varint", "\xe8\x05\x01", 3, NS_CODEC_E_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pbw_t rec = {0}, env = {0};
        pbw_min_rec(&rec);
        pbw_raw(&rec, cases[i].bytes, cases[i].len);
        pbw_batch(&env, NS_CODEC_VERSION, &rec, 1);
        const ns_msg_t *m = decode_both(own, ref, &env, cases[i].want, cases[i].what);
        if (i <= 1)
            ck_assert_str_eq(m->u.batch.recs[0].uid, "Cab");
        if (i == 2)
            ck_assert_uint_eq(m->u.batch.recs[0].proto, 6);
        if (i == 3)
            ck_assert_uint_eq(m->u.batch.recs[0].orig_h.b[0], 10);
        pbw_free(&rec);
        pbw_free(&env);
    }

    /* Each string field at its limit, one byte over, and over then at it (the last wins). */
    static const struct {
        uint32_t field;
        size_t max;
        const char *name;
    } strs[] = {
        {1, NS_FLOW_UID_LEN, "uid"},           {21, NS_FLOW_CID_MAX - 1, "community_id"},
        {30, NS_FLOW_UID_LEN, "tunnel_parent"}, {22, NS_FLOW_SERVICE_MAX - 1, "service"},
        {15, NS_FLOW_STATE_MAX - 1, "conn_state"}, {16, NS_FLOW_HISTORY_MAX - 1, "history"},
    };
    char text[64];
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        for (int variant = 0; variant < 3; variant++) {
            pbw_t rec = {0}, env = {0};
            pbw_min_rec(&rec);
            size_t len = strs[i].max + (variant == 0 ? 0 : 1);
            memset(text, 'a' + (int)i, len);
            text[len] = '\0';
            pbw_str(&rec, strs[i].field, text);
            if (variant == 2) {
                text[strs[i].max] = '\0';
                pbw_str(&rec, strs[i].field, text);
            }
            pbw_batch(&env, NS_CODEC_VERSION, &rec, 1);
            decode_both(own, ref, &env, variant == 1 ? NS_CODEC_E_STRING : NS_CODEC_OK,
                        strs[i].name);
            if (variant == 1)
                ck_assert_msg(strstr(ns_codec_error(own), strs[i].name) != NULL, "%s",
                              ns_codec_error(own));
            pbw_free(&rec);
            pbw_free(&env);
        }
    }

    /* Two faults in one batch: malformed bytes win over a broken limit in an earlier record;
     * of two broken limits, the first record's is reported. */
    static const struct {
        const char *a, *b;
        size_t alen, blen;
        ns_codec_reject_t want;
        const char *word;
    } pairs[] = {
        {"\x18\x80\x02", "\x58\x80", 3, 2, NS_CODEC_E_MALFORMED, "not a valid"},
        {"", "\x18\x80\x02", 0, 3, NS_CODEC_E_RANGE, "record 1: proto is 256"},
        {"\x88\x01\x04", "\x18\x80\x02", 3, 3, NS_CODEC_E_RANGE, "record 0: kind is 4"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        pbw_t recs[2] = {{0}, {0}}, env = {0};
        pbw_min_rec(&recs[0]);
        pbw_raw(&recs[0], pairs[i].a, pairs[i].alen);
        pbw_min_rec(&recs[1]);
        pbw_raw(&recs[1], pairs[i].b, pairs[i].blen);
        pbw_batch(&env, NS_CODEC_VERSION, recs, 2);
        decode_both(own, ref, &env, pairs[i].want, pairs[i].word);
        ck_assert_msg(strstr(ns_codec_error(own), pairs[i].word) != NULL, "%s",
                      ns_codec_error(own));
        pbw_free(&recs[0]);
        pbw_free(&recs[1]);
        pbw_free(&env);
    }
    ns_codec_destroy(&own);
    ns_codec_destroy(&ref);
}
END_TEST

/* ---- valid: the other messages ----------------------------------------------------------- */

/* Encode `in`, decode it in its direction, return the decoded message (valid until the next
 * decode on `c`). */
static const ns_msg_t *
msg_round_trip(ns_codec_t *c, const ns_msg_t *in, const char *seed_name)
{
    static uint8_t buf[1 << 16];
    size_t len = 0;
    ck_assert_msg(ns_codec_encode(c, in, buf, sizeof(buf), &len) == NS_OK, "%s", ns_codec_error(c));
    seed(seed_name, buf, len);
    const ns_msg_t *m = NULL;
    bool to_agent = in->type >= NS_MSG_ACK;
    ns_codec_reject_t why =
        to_agent ? decode_collector(c, buf, len, &m) : decode_agent(c, buf, len, &m);
    ck_assert_msg(why == NS_CODEC_OK, "%s", ns_codec_error(c));
    ck_assert_int_eq(m->type, in->type);
    ck_assert_uint_eq(m->version, NS_CODEC_VERSION);
    return m;
}

START_TEST(hello_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_msg_ifaddr_t a0[2] = {{4, 24, {{10, 1, 2, 3}}}, {6, 64, {{0x20, 0x01, 0x0d, 0xb8, 9}}}};
    ns_msg_ifaddr_t a1[1] = {{4, 32, {{127, 0, 0, 1}}}};
    ns_msg_iface_t ifs[2] = {
        {.index = 0, .name = "eth0", .link_type = 1, .snaplen = 262144, .addrs = a0, .n_addrs = 2},
        {.index = 255, .name = "lo", .link_type = 113, .snaplen = 96, .addrs = a1, .n_addrs = 1},
    };
    ns_msg_t in = {.type = NS_MSG_HELLO};
    in.u.hello = (ns_msg_hello_t){
        .agent_id = "agent-7",
        .hostname = "host.example.org",
        .agent_version = "0.1.0",
        .clock_ns = T0 + 5,
        .start_ns = T0 - 5,
        .ifaces = ifs,
        .n_ifaces = 2,
        .promisc = true,
        .buffer_bytes = 1u << 26,
        .export_interval_ms = 250,
        .bpf_filter = "tcp port 80",
        .replay_file = "/tmp/x.pcap",
        .replay_speed = 2.5,
    };
    const ns_msg_hello_t *h = &msg_round_trip(c, &in, "hello")->u.hello;
    ck_assert_str_eq(h->agent_id, "agent-7");
    ck_assert_str_eq(h->hostname, "host.example.org");
    ck_assert_str_eq(h->agent_version, "0.1.0");
    ck_assert_uint_eq(h->clock_ns, T0 + 5);
    ck_assert_uint_eq(h->start_ns, T0 - 5);
    ck_assert(h->promisc);
    ck_assert_uint_eq(h->buffer_bytes, 1u << 26);
    ck_assert_uint_eq(h->export_interval_ms, 250);
    ck_assert_str_eq(h->bpf_filter, "tcp port 80");
    ck_assert_str_eq(h->replay_file, "/tmp/x.pcap");
    ck_assert_double_eq(h->replay_speed, 2.5);
    ck_assert_uint_eq(h->n_ifaces, 2);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_uint_eq(h->ifaces[i].index, ifs[i].index);
        ck_assert_str_eq(h->ifaces[i].name, ifs[i].name);
        ck_assert_uint_eq(h->ifaces[i].link_type, ifs[i].link_type);
        ck_assert_uint_eq(h->ifaces[i].snaplen, ifs[i].snaplen);
        ck_assert_uint_eq(h->ifaces[i].n_addrs, ifs[i].n_addrs);
        for (unsigned k = 0; k < ifs[i].n_addrs; k++) {
            ck_assert_uint_eq(h->ifaces[i].addrs[k].ip_ver, ifs[i].addrs[k].ip_ver);
            ck_assert_uint_eq(h->ifaces[i].addrs[k].prefix_len, ifs[i].addrs[k].prefix_len);
            ck_assert_mem_eq(h->ifaces[i].addrs[k].addr.b, ifs[i].addrs[k].addr.b, 16);
        }
    }

    /* Unset strings and capture settings decode as "" and zero. */
    in.u.hello = (ns_msg_hello_t){.agent_id = "a"};
    h = &msg_round_trip(c, &in, "hello_min")->u.hello;
    ck_assert_str_eq(h->hostname, "");
    ck_assert_str_eq(h->bpf_filter, "");
    ck_assert_str_eq(h->replay_file, "");
    ck_assert_uint_eq(h->n_ifaces, 0);
    ck_assert(!h->promisc);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(iface_stats_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_msg_iface_counters_t ifs[2] = {{0, 1, 2, 3, 4}, {9, UINT64_MAX, 1ull << 40, 0, 7}};
    ns_msg_t in = {.type = NS_MSG_IFACE_STATS};
    in.u.iface_stats = (ns_msg_iface_stats_t){.send_ns = T0, .ifaces = ifs, .n_ifaces = 2};
    const ns_msg_iface_stats_t *s = &msg_round_trip(c, &in, "iface_stats")->u.iface_stats;
    ck_assert_uint_eq(s->send_ns, T0);
    ck_assert_uint_eq(s->n_ifaces, 2);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_uint_eq(s->ifaces[i].index, ifs[i].index);
        ck_assert_uint_eq(s->ifaces[i].packets, ifs[i].packets);
        ck_assert_uint_eq(s->ifaces[i].bytes, ifs[i].bytes);
        ck_assert_uint_eq(s->ifaces[i].kernel_drops, ifs[i].kernel_drops);
        ck_assert_uint_eq(s->ifaces[i].iface_drops, ifs[i].iface_drops);
    }
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(heartbeat_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_msg_t in = {.type = NS_MSG_HEARTBEAT};
    in.u.heartbeat = (ns_msg_heartbeat_t){
        .send_ns = T0,
        .queue_depth = 3,
        .batches_sent = 4,
        .batches_dropped = 5,
        .updates_dropped = 6,
        .finals_dropped = 7,
        .flows_active = 8,
        .evictions = 9,
        .cpu_ns = 10,
        .rss_bytes = UINT64_MAX,
    };
    const ns_msg_heartbeat_t *h = &msg_round_trip(c, &in, "heartbeat")->u.heartbeat;
    ck_assert_uint_eq(h->send_ns, T0);
    ck_assert_uint_eq(h->queue_depth, 3);
    ck_assert_uint_eq(h->batches_sent, 4);
    ck_assert_uint_eq(h->batches_dropped, 5);
    ck_assert_uint_eq(h->updates_dropped, 6);
    ck_assert_uint_eq(h->finals_dropped, 7);
    ck_assert_uint_eq(h->flows_active, 8);
    ck_assert_uint_eq(h->evictions, 9);
    ck_assert_uint_eq(h->cpu_ns, 10);
    ck_assert_uint_eq(h->rss_bytes, UINT64_MAX);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(filter_messages_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_msg_t in = {.type = NS_MSG_SET_FILTER};
    in.u.set_filter = (ns_msg_set_filter_t){.request_id = 77, .bpf_filter = "udp and port 53"};
    const ns_msg_t *m = msg_round_trip(c, &in, "set_filter");
    ck_assert_uint_eq(m->u.set_filter.request_id, 77);
    ck_assert_str_eq(m->u.set_filter.bpf_filter, "udp and port 53");

    in = (ns_msg_t){.type = NS_MSG_FILTER_RESULT};
    in.u.filter_result = (ns_msg_filter_result_t){77, false, "syntax error"};
    m = msg_round_trip(c, &in, "filter_result");
    ck_assert_uint_eq(m->u.filter_result.request_id, 77);
    ck_assert(!m->u.filter_result.ok);
    ck_assert_str_eq(m->u.filter_result.error, "syntax error");
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(packets_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    static const uint8_t f0[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
    ns_msg_frame_t frames[3] = {
        {T0, 60, sizeof(f0), f0}, {T0 + 1, 1514, 4, f0}, {T0 + 2, 0, 0, NULL}};
    ns_msg_t in = {.type = NS_MSG_PACKETS};
    in.u.packets = (ns_msg_packets_t){.request_id = 5,
                                      .error = "",
                                      .link_type = 1,
                                      .truncated = true,
                                      .frames = frames,
                                      .n_frames = 3};
    const ns_msg_packets_t *p = &msg_round_trip(c, &in, "packets")->u.packets;
    ck_assert_uint_eq(p->request_id, 5);
    ck_assert_str_eq(p->error, "");
    ck_assert_uint_eq(p->link_type, 1);
    ck_assert(p->truncated);
    ck_assert_uint_eq(p->n_frames, 3);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(p->frames[i].ts_ns, frames[i].ts_ns);
        ck_assert_uint_eq(p->frames[i].wire_len, frames[i].wire_len);
        ck_assert_uint_eq(p->frames[i].cap_len, frames[i].cap_len);
        if (frames[i].cap_len > 0)
            ck_assert_mem_eq(p->frames[i].data, frames[i].data, frames[i].cap_len);
    }
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(ack_and_get_packets_round_trip)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_msg_t in = {.type = NS_MSG_ACK};
    in.u.ack.seq = 1ull << 50;
    ck_assert_uint_eq(msg_round_trip(c, &in, "ack")->u.ack.seq, 1ull << 50);

    in = (ns_msg_t){.type = NS_MSG_GET_PACKETS};
    ns_msg_get_packets_t *g = &in.u.get_packets;
    *g = (ns_msg_get_packets_t){.request_id = 9,
                                .ip_ver = 6,
                                .proto = 17,
                                .vlan = 4095,
                                .iface = 3,
                                .from_ns = T0,
                                .to_ns = T0 + 1000,
                                .max_frames = 500};
    for (unsigned i = 0; i < 16; i++) {
        g->addr[0].b[i] = (uint8_t)(i + 1);
        g->addr[1].b[i] = (uint8_t)(0xf0 + i);
    }
    g->port[0] = 53;
    g->port[1] = 65535;
    const ns_msg_get_packets_t *o = &msg_round_trip(c, &in, "get_packets")->u.get_packets;
    ck_assert_uint_eq(o->request_id, 9);
    ck_assert_uint_eq(o->ip_ver, 6);
    ck_assert_uint_eq(o->proto, 17);
    ck_assert_uint_eq(o->vlan, 4095);
    ck_assert_uint_eq(o->iface, 3);
    ck_assert_mem_eq(o->addr[0].b, g->addr[0].b, 16);
    ck_assert_mem_eq(o->addr[1].b, g->addr[1].b, 16);
    ck_assert_uint_eq(o->port[0], 53);
    ck_assert_uint_eq(o->port[1], 65535);
    ck_assert_uint_eq(o->from_ns, T0);
    ck_assert_uint_eq(o->to_ns, T0 + 1000);
    ck_assert_uint_eq(o->max_frames, 500);
    ns_codec_destroy(&c);
}
END_TEST

/* Fields a newer peer adds (numbers this build does not know) are skipped, at every level. */
START_TEST(unknown_fields_ignored)
{
    ns_codec_t *c = codec_new(0, 0);
    pbw_t rec = {0}, http = {0}, batch = {0}, env = {0};
    pbw_min_rec(&rec);
    pbw_uint(&rec, 200, 12345);        /* unknown varint */
    pbw_str(&rec, 201, "future text"); /* unknown length-delimited */
    pbw_fixed64(&rec, 202, 0xfeedfacecafebeefull);
    pbw_tag(&rec, 203, WT_I32); /* unknown fixed32 */
    pbw_raw(&rec, "\x01\x02\x03\x04", 4);
    pbw_str(&http, F_HTTP_HOST, "h");
    pbw_uint(&http, F_HTTP_HAS_REQUEST, 1);
    pbw_uint(&http, 99, 1);
    pbw_msg(&rec, F_REC_HTTP, &http);
    pbw_uint(&batch, F_BATCH_SEQ, 8);
    pbw_uint(&batch, 77, 1);
    pbw_msg(&batch, F_BATCH_RECORDS, &rec);
    pbw_uint(&env, F_ENV_VERSION, NS_CODEC_VERSION);
    pbw_str(&env, 1000, "an envelope field from the future");
    pbw_msg(&env, F_ENV_BATCH, &batch);
    seed("unknown_fields", env.b, env.n);

    const ns_msg_t *m;
    ck_assert_msg(decode_agent(c, env.b, env.n, &m) == NS_CODEC_OK, "%s", ns_codec_error(c));
    ck_assert_uint_eq(m->u.batch.seq, 8);
    ck_assert_uint_eq(m->u.batch.n_recs, 1);
    const ns_flow_rec_t *r = &m->u.batch.recs[0];
    ck_assert_str_eq(r->uid, "CmInImAl");
    ck_assert_uint_eq(r->ip_ver, 4);
    ck_assert_uint_eq(r->proto, 17);
    ck_assert_mem_eq(r->orig_h.b, V4_A, 4);
    ck_assert_mem_eq(r->resp_h.b, V4_B, 4);
    ck_assert_uint_eq(r->first_ns, T0);
    ck_assert_uint_eq(r->pkts[0], 3);
    ck_assert_uint_eq(r->n_http, 1);
    ck_assert_str_eq(r->http[0].host, "h");
    ck_assert(r->http[0].has_request);
    pbw_free(&rec);
    pbw_free(&http);
    pbw_free(&batch);
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

/* ---- size cap ----------------------------------------------------------------------------- */

START_TEST(oversize_rejected_unread)
{
    ns_codec_t *c = codec_new(1024, 0);
    ns_flow_rec_t r[8];
    for (unsigned i = 0; i < 8; i++)
        fill_rec(&r[i], 6, true);
    uint8_t buf[16384];
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 1, .recs = r, .n_recs = 8};
    size_t len = 0;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_OK);
    ck_assert_uint_gt(len, 1024);
    const ns_msg_t *m;
    ck_assert_int_eq(decode_agent(c, buf, len, &m), NS_CODEC_E_OVERSIZE);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(ns_codec_stats(c)->by_reason[NS_CODEC_E_OVERSIZE], 1);
    ck_assert_uint_eq(ns_codec_stats(c)->rejected, 1);
    ck_assert_uint_eq(ns_codec_stats(c)->arena_peak, 0); /* never unpacked */
    ns_codec_destroy(&c);
}
END_TEST

/* Records go in until the next would cross the cap; the batch is <= cap, holds them all, and
 * stops no earlier than it must. */
START_TEST(builder_stops_before_cap)
{
    const size_t cap = 4000;
    ns_codec_t *c = codec_new((uint32_t)cap, 0);
    ns_flow_rec_t r;
    fill_rec(&r, 6, true);
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);

    /* One record alone: its framed size on the wire. */
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, cap, 1, T0), NS_OK);
    size_t empty = ns_codec_batch_finish(c);
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, cap, 1, T0), NS_OK);
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_OK);
    size_t one = ns_codec_batch_finish(c);
    size_t per_rec = one - empty;

    ck_assert_int_eq(ns_codec_batch_begin(c, buf, cap, 2, T0), NS_OK);
    uint32_t n = 0;
    ns_err_t err;
    while ((err = ns_codec_batch_add(c, &r)) == NS_OK)
        n++;
    ck_assert_int_eq(err, NS_EFULL);
    ck_assert_uint_eq(ns_codec_batch_count(c), n);
    ck_assert_uint_gt(n, 1);
    size_t len = ns_codec_batch_finish(c);
    ck_assert_uint_le(len, cap);
    ck_assert_uint_gt(len + per_rec + NS_CODEC_BATCH_OVERHEAD, cap);

    const ns_msg_t *m;
    ck_assert_msg(decode_agent(c, buf, len, &m) == NS_CODEC_OK, "%s", ns_codec_error(c));
    ck_assert_uint_eq(m->u.batch.n_recs, n);
    ck_assert_uint_eq(m->u.batch.seq, 2);

    /* A record bigger than the whole cap is refused, not reported as "full". */
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, 100, 3, T0), NS_OK);
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "does not fit"));
    ck_assert_uint_eq(ns_codec_batch_count(c), 0);

    /* The one-shot encoder says full when the buffer is too small. */
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 1, .send_ns = T0, .recs = &r, .n_recs = 1};
    size_t l2;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, one - 1, &l2), NS_EFULL);
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, one + NS_CODEC_BATCH_OVERHEAD, &l2), NS_OK);
    ck_assert_uint_eq(l2, one);
    ns_msg_t hb = {.type = NS_MSG_HEARTBEAT};
    hb.u.heartbeat.send_ns = T0;
    ck_assert_int_eq(ns_codec_encode(c, &hb, buf, 5, &l2), NS_EFULL);
    free(buf);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(builder_refuses_invalid_records)
{
    ns_codec_t *c = codec_new(0, 0);
    uint8_t buf[4096];
    ns_flow_rec_t r;
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, sizeof(buf), 0, T0), NS_EINVAL);
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, NS_CODEC_BATCH_OVERHEAD, 1, T0), NS_EINVAL);
    ck_assert_int_eq(ns_codec_batch_begin(c, buf, sizeof(buf), 1, T0), NS_OK);

    fill_rec(&r, 5, false);
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "ip_ver"));
    fill_rec(&r, 4, false);
    r.kind = 3;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "kind"));
    fill_rec(&r, 4, false);
    r.vlan = 4096;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    fill_rec(&r, 4, false);
    memset(r.history, 'S', sizeof(r.history)); /* no NUL */
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "history"));
    fill_rec(&r, 4, false);
    r.bps = NAN;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    fill_rec(&r, 4, true);
    r.n_dns = 1;
    answers[0][0].data_len = NS_DNS_RDATA_MAX + 1;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "dns 0: answer 0"));
    fill_rec(&r, 4, true);
    r.http = NULL;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);
    fill_rec(&r, 4, true);
    r.n_http = NS_APP_MAX_TX + 1;
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL);

    /* None of them reached the batch; a valid record still goes in. */
    ck_assert_uint_eq(ns_codec_batch_count(c), 0);
    fill_rec(&r, 4, true);
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_OK);
    size_t len = ns_codec_batch_finish(c);
    const ns_msg_t *m;
    ck_assert_int_eq(decode_agent(c, buf, len, &m), NS_CODEC_OK);
    ck_assert_uint_eq(m->u.batch.n_recs, 1);
    ck_assert_int_eq(ns_codec_batch_add(c, &r), NS_EINVAL); /* closed */
    ns_codec_destroy(&c);
}
END_TEST

/* ---- invalid: hostile bytes ----------------------------------------------------------------- */

/* A batch of one hand-built record: pbw_min_rec() then `extra` fields. */
typedef void (*rec_patch_fn)(pbw_t *rec);

static void
expect_rec_reject(rec_patch_fn patch, ns_codec_reject_t why, const char *word)
{
    ns_codec_t *c = codec_new(0, 0);
    pbw_t rec = {0}, env = {0};
    pbw_min_rec(&rec);
    patch(&rec);
    pbw_batch(&env, NS_CODEC_VERSION, &rec, 1);
    expect_reject(c, &env, why, word);
    pbw_free(&rec);
    pbw_free(&env);
    ns_codec_destroy(&c);
}

static void
patch_none(pbw_t *w)
{
    (void)w;
}

static void
patch_addr5(pbw_t *w)
{
    pbw_bytes(w, F_REC_ORIG_H, "\x01\x02\x03\x04\x05", 5); /* last one wins */
}

static void
patch_v4_addr16(pbw_t *w)
{
    pbw_bytes(w, F_REC_RESP_H, "0123456789abcdef", 16);
}

static void
patch_ip_ver5(pbw_t *w)
{
    pbw_uint(w, F_REC_IP_VER, 5);
}

static void
patch_kind3(pbw_t *w)
{
    pbw_uint(w, F_REC_KIND, 3);
}

static void
patch_end_reason(pbw_t *w)
{
    pbw_uint(w, F_REC_END_REASON, NS_FLOW_END_COUNT);
}

static void
patch_tcp_state_negative(pbw_t *w)
{
    pbw_uint(w, F_REC_ORIG_TCP_STATE, UINT64_MAX); /* int32 -1, sign-extended */
}

static void
patch_proto256(pbw_t *w)
{
    pbw_uint(w, F_REC_PROTO, 256);
}

static void
patch_port(pbw_t *w)
{
    pbw_uint(w, F_REC_ORIG_P, 65536);
}

static void
patch_vlan(pbw_t *w)
{
    pbw_uint(w, F_REC_VLAN, 4096);
}

static void
patch_uid19(pbw_t *w)
{
    pbw_str(w, F_REC_UID, "C123456789012345678");
}

static void
patch_bps_nan(pbw_t *w)
{
    union {
        double d;
        uint64_t u;
    } v = {.d = NAN};
    pbw_fixed64(w, F_REC_BPS, v.u);
}

static void
patch_answer_too_long(pbw_t *w)
{
    pbw_t dns = {0}, ans = {0};
    uint8_t data[NS_DNS_RDATA_MAX + 1];
    memset(data, 'a', sizeof(data));
    pbw_uint(&ans, F_ANS_TYPE, 16);
    pbw_bytes(&ans, F_ANS_DATA, data, sizeof(data));
    pbw_uint(&dns, F_DNS_HAS_QUERY, 1);
    pbw_msg(&dns, F_DNS_ANSWERS, &ans);
    pbw_msg(w, F_REC_DNS, &dns);
    pbw_free(&dns);
    pbw_free(&ans);
}

static void
patch_too_many_answers(pbw_t *w)
{
    pbw_t dns = {0}, ans = {0};
    pbw_uint(&dns, F_DNS_HAS_QUERY, 1);
    for (unsigned i = 0; i <= NS_APP_DNS_ANSWERS; i++) {
        pbw_uint(&ans, F_ANS_TYPE, 1);
        pbw_msg(&dns, F_DNS_ANSWERS, &ans);
    }
    pbw_msg(w, F_REC_DNS, &dns);
    pbw_free(&dns);
    pbw_free(&ans);
}

static void
patch_qname_nul(pbw_t *w)
{
    pbw_t dns = {0};
    pbw_uint(&dns, F_DNS_HAS_QUERY, 1);
    pbw_bytes(&dns, F_DNS_QNAME, "evil\0.example", 13);
    pbw_msg(w, F_REC_DNS, &dns);
    pbw_free(&dns);
}

static void
patch_http_host_long(pbw_t *w)
{
    pbw_t http = {0};
    char *host = malloc(NS_APP_MAX_STR_LEN + 2);
    ck_assert_ptr_nonnull(host);
    memset(host, 'h', NS_APP_MAX_STR_LEN + 1);
    host[NS_APP_MAX_STR_LEN + 1] = '\0';
    pbw_uint(&http, F_HTTP_HAS_REQUEST, 1);
    pbw_str(&http, F_HTTP_HOST, host);
    pbw_msg(w, F_REC_HTTP, &http);
    free(host);
    pbw_free(&http);
}

static void
patch_too_many_http(pbw_t *w)
{
    pbw_t http = {0};
    for (unsigned i = 0; i <= NS_APP_MAX_TX; i++) {
        pbw_uint(&http, F_HTTP_HAS_REQUEST, 1);
        pbw_msg(w, F_REC_HTTP, &http);
    }
    pbw_free(&http);
}

static void
patch_empty_http(pbw_t *w)
{
    pbw_t http = {0};
    pbw_msg(w, F_REC_HTTP, &http);
    pbw_free(&http);
}

START_TEST(hand_built_valid_record)
{
    /* The baseline every patch below breaks: accepted as is. */
    ns_codec_t *c = codec_new(0, 0);
    pbw_t rec = {0}, env = {0};
    pbw_min_rec(&rec);
    patch_none(&rec);
    pbw_batch(&env, NS_CODEC_VERSION, &rec, 1);
    const ns_msg_t *m;
    ck_assert_msg(decode_agent(c, env.b, env.n, &m) == NS_CODEC_OK, "%s", ns_codec_error(c));
    pbw_free(&rec);
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(bad_addresses)
{
    expect_rec_reject(patch_addr5, NS_CODEC_E_ADDR, "record 0: orig_h is 5 bytes");
    expect_rec_reject(patch_v4_addr16, NS_CODEC_E_ADDR, "resp_h is 16 bytes");
    expect_rec_reject(patch_ip_ver5, NS_CODEC_E_RANGE, "ip_ver");
}
END_TEST

START_TEST(bad_numbers_and_enums)
{
    expect_rec_reject(patch_kind3, NS_CODEC_E_RANGE, "kind is 3");
    expect_rec_reject(patch_end_reason, NS_CODEC_E_RANGE, "end_reason");
    expect_rec_reject(patch_tcp_state_negative, NS_CODEC_E_RANGE, "orig_tcp_state");
    expect_rec_reject(patch_proto256, NS_CODEC_E_RANGE, "proto is 256");
    expect_rec_reject(patch_port, NS_CODEC_E_RANGE, "orig_p");
    expect_rec_reject(patch_vlan, NS_CODEC_E_RANGE, "vlan");
    expect_rec_reject(patch_bps_nan, NS_CODEC_E_RANGE, "bps");
    expect_rec_reject(patch_empty_http, NS_CODEC_E_RANGE, "http 0");
}
END_TEST

START_TEST(bad_strings_and_counts)
{
    expect_rec_reject(patch_uid19, NS_CODEC_E_STRING, "uid");
    expect_rec_reject(patch_answer_too_long, NS_CODEC_E_STRING, "dns 0: answer 0: data is 65");
    expect_rec_reject(patch_too_many_answers, NS_CODEC_E_COUNT, "answers");
    expect_rec_reject(patch_qname_nul, NS_CODEC_E_STRING, "NUL");
    expect_rec_reject(patch_http_host_long, NS_CODEC_E_STRING, "host");
    expect_rec_reject(patch_too_many_http, NS_CODEC_E_COUNT, "HTTP transactions");
}
END_TEST

/* NS_CODEC_MAX_RECS records are accepted, one more is not. */
START_TEST(too_many_records)
{
    ns_codec_t *c = codec_new(NS_CODEC_MAX_MSG_LIMIT, (size_t)256 << 20);
    pbw_t one = {0};
    pbw_min_rec(&one);
    pbw_t *recs = calloc(NS_CODEC_MAX_RECS + 1, sizeof(*recs));
    ck_assert_ptr_nonnull(recs);
    for (uint32_t i = 0; i <= NS_CODEC_MAX_RECS; i++)
        recs[i] = one; /* shared bytes, written once */
    pbw_t env = {0};
    pbw_batch(&env, NS_CODEC_VERSION, recs, NS_CODEC_MAX_RECS);
    const ns_msg_t *m;
    ck_assert_msg(decode_agent(c, env.b, env.n, &m) == NS_CODEC_OK, "%s", ns_codec_error(c));
    ck_assert_uint_eq(m->u.batch.n_recs, NS_CODEC_MAX_RECS);
    env.n = 0;
    pbw_batch(&env, NS_CODEC_VERSION, recs, NS_CODEC_MAX_RECS + 1);
    expect_reject(c, &env, NS_CODEC_E_COUNT, "65537 records");
    free(recs);
    pbw_free(&one);
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

/* A message that expands past the arena is rejected while unpacking. */
START_TEST(arena_bound)
{
    ns_codec_t *c = codec_new(4096, 8192);
    pbw_t rec = {0}, env = {0};
    pbw_t recs[100];
    pbw_min_rec(&rec);
    for (unsigned i = 0; i < 100; i++)
        recs[i] = rec;
    pbw_batch(&env, NS_CODEC_VERSION, recs, 100);
    ck_assert_uint_le(env.n, 4096);
    expect_reject(c, &env, NS_CODEC_E_ARENA, "arena");
    ck_assert_uint_le(ns_codec_stats(c)->arena_peak, 8192);
    pbw_free(&rec);
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(version_mismatch)
{
    ns_codec_t *c = codec_new(0, 0);
    pbw_t rec = {0}, env = {0};
    pbw_min_rec(&rec);
    pbw_batch(&env, NS_CODEC_VERSION + 1, &rec, 1);
    expect_reject(c, &env, NS_CODEC_E_VERSION, "version 2");
    env.n = 0;
    pbw_batch(&env, 0, &rec, 1); /* proto3 writes no zero; a present 0 reads the same */
    expect_reject(c, &env, NS_CODEC_E_VERSION, "version 0");

    /* A collector message of another version too. */
    env.n = 0;
    pbw_uint(&env, F_ENV_VERSION, 9);
    const ns_msg_t *m;
    ck_assert_int_eq(decode_collector(c, env.b, env.n, &m), NS_CODEC_E_VERSION);
    pbw_free(&rec);
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(unknown_or_missing_body)
{
    ns_codec_t *c = codec_new(0, 0);
    pbw_t env = {0}, body = {0};
    pbw_uint(&env, F_ENV_VERSION, NS_CODEC_VERSION);
    expect_reject(c, &env, NS_CODEC_E_TYPE, "body");
    pbw_uint(&body, 1, 5);
    pbw_msg(&env, 40, &body); /* a message type from the future */
    expect_reject(c, &env, NS_CODEC_E_TYPE, "body");
    /* A Hello without an agent id. */
    env.n = 0;
    pbw_uint(&env, F_ENV_VERSION, NS_CODEC_VERSION);
    pbw_str(&body, 2, "hostname-only");
    pbw_msg(&env, F_ENV_HELLO, &body);
    expect_reject(c, &env, NS_CODEC_E_STRING, "agent_id");
    pbw_free(&env);
    pbw_free(&body);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(wrong_wire_type)
{
    ns_codec_t *c = codec_new(0, 0);
    pbw_t env = {0};
    pbw_str(&env, F_ENV_VERSION, "1"); /* version as a string */
    expect_reject(c, &env, NS_CODEC_E_MALFORMED, "AgentMessage");
    pbw_free(&env);
    ns_codec_destroy(&c);
}
END_TEST

/* Every strict prefix of a valid batch, each an exact-size heap copy, is rejected. */
START_TEST(truncation_sweep)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_flow_rec_t r[2];
    fill_rec(&r[0], 4, true);
    fill_rec(&r[1], 6, true);
    uint8_t buf[8192];
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 1, .recs = r, .n_recs = 2};
    size_t len = 0;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_OK);
    for (size_t cut = 0; cut < len; cut++) {
        const ns_msg_t *m;
        ns_codec_reject_t why = decode_agent(c, buf, cut, &m);
        ck_assert_msg(why == NS_CODEC_E_MALFORMED || why == NS_CODEC_E_VERSION ||
                          why == NS_CODEC_E_TYPE,
                      "prefix %zu: %s", cut, ns_codec_reject_name(why));
    }
    ck_assert_uint_eq(ns_codec_stats(c)->rejected, len);
    ck_assert_uint_eq(ns_codec_stats(c)->messages, 0);
    ns_codec_destroy(&c);
}
END_TEST

/* Random bytes, and random corruptions of a valid batch: never a crash; every input is
 * either accepted or rejected and counted once. */
START_TEST(garbage)
{
    ns_codec_t *c = codec_new(0, 0);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t buf[2048];
    ns_flow_rec_t r;
    fill_rec(&r, 6, true);
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 1, .recs = &r, .n_recs = 1};
    size_t valid_len = 0;
    uint8_t valid[2048];
    ck_assert_int_eq(ns_codec_encode(c, &in, valid, sizeof(valid), &valid_len), NS_OK);
    const unsigned rounds = 3000;
    for (unsigned i = 0; i < rounds; i++) {
        size_t len;
        if (i % 2 == 0) {
            len = (size_t)(x % sizeof(buf));
            for (size_t k = 0; k < len; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf[k] = (uint8_t)x;
            }
        } else {
            len = valid_len;
            memcpy(buf, valid, len);
            for (unsigned k = 0; k < 4; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf[x % len] ^= (uint8_t)(x >> 32);
            }
        }
        const ns_msg_t *m;
        if (i % 3 == 0)
            (void)decode_collector(c, buf, len, &m);
        else
            (void)decode_agent(c, buf, len, &m);
    }
    const ns_codec_stats_t *s = ns_codec_stats(c);
    ck_assert_uint_eq(s->messages + s->rejected, rounds);
    uint64_t sum = 0;
    for (unsigned k = 0; k < NS_CODEC_REJECT_COUNT; k++)
        sum += s->by_reason[k];
    ck_assert_uint_eq(sum, s->rejected);
    ck_assert_uint_eq(s->by_reason[NS_CODEC_OK], 0);
    ck_assert_uint_gt(s->rejected, rounds / 2);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(other_messages_invalid)
{
    ns_codec_t *c = codec_new(0, 0);
    uint8_t buf[4096];
    size_t len;
    ns_msg_ifaddr_t bad_prefix = {4, 33, {{10, 0, 0, 1}}};
    ns_msg_iface_t ifs[2] = {{.index = 1, .name = "a"}, {.index = 1, .name = "b"}};
    ns_msg_t in = {.type = NS_MSG_HELLO};
    in.u.hello = (ns_msg_hello_t){.agent_id = "x", .ifaces = ifs, .n_ifaces = 2};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "appears twice"));
    ifs[1].index = 2;
    ifs[1].addrs = &bad_prefix;
    ifs[1].n_addrs = 1;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(ns_codec_error(c), "interface 1: address 0: prefix_len"));
    in.u.hello = (ns_msg_hello_t){.agent_id = ""};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);

    static const uint8_t data[8] = {0};
    ns_msg_frame_t fr = {T0, 4, 8, data}; /* more captured than on the wire */
    in = (ns_msg_t){.type = NS_MSG_PACKETS};
    in.u.packets = (ns_msg_packets_t){.frames = &fr, .n_frames = 1};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);

    in = (ns_msg_t){.type = NS_MSG_GET_PACKETS};
    in.u.get_packets = (ns_msg_get_packets_t){.ip_ver = 4, .from_ns = 10, .to_ns = 5};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    in.u.get_packets = (ns_msg_get_packets_t){.ip_ver = 0};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    in.u.get_packets = (ns_msg_get_packets_t){.ip_ver = 4, .max_frames = NS_CODEC_MAX_FRAMES + 1};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);

    in = (ns_msg_t){.type = NS_MSG_NONE};
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    in.type = NS_MSG_TYPE_COUNT;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_EINVAL);
    ns_codec_destroy(&c);
}
END_TEST

/* ---- lifecycle ----------------------------------------------------------------------------- */

START_TEST(new_and_destroy)
{
    char err[256] = "";
    ns_codec_opts_t o = {NS_CODEC_MAX_MSG_LIMIT + 1, 0};
    ck_assert_ptr_null(ns_codec_new(&o, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "above"));
    o = (ns_codec_opts_t){4096, 1024};
    ck_assert_ptr_null(ns_codec_new(&o, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "smaller"));
    ck_assert_ptr_null(ns_codec_new(&o, NULL, 0));

    ns_codec_t *c = ns_codec_new(NULL, NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(ns_codec_opts(c)->max_msg_bytes, NS_CODEC_DEFAULT_MAX_MSG);
    ck_assert_uint_eq(ns_codec_opts(c)->arena_bytes, 32u * NS_CODEC_DEFAULT_MAX_MSG);
    ck_assert_str_eq(ns_codec_error(c), "");
    ck_assert_uint_eq(ns_codec_batch_finish(c), 0);
    ns_codec_destroy(&c);
    ck_assert_ptr_null(c);
    ns_codec_destroy(&c);
    ns_codec_destroy(NULL);

    o = (ns_codec_opts_t){8192, 0};
    c = ns_codec_new(&o, err, sizeof(err));
    ck_assert_uint_eq(ns_codec_opts(c)->arena_bytes, 32u * 8192);
    ns_codec_destroy(&c);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(ns_codec_reject_name(NS_CODEC_OK), "ok");
    ck_assert_str_eq(ns_codec_reject_name(NS_CODEC_E_RANGE), "range");
    ck_assert_str_eq(ns_codec_reject_name(NS_CODEC_REJECT_COUNT), "?");
    ck_assert_str_eq(ns_msg_type_name(NS_MSG_BATCH), "batch");
    ck_assert_str_eq(ns_msg_type_name(NS_MSG_GET_PACKETS), "get_packets");
    ck_assert_str_eq(ns_msg_type_name(NS_MSG_TYPE_COUNT), "?");
}
END_TEST

/* A decoded message stays valid through encodes, and is replaced by the next decode. */
START_TEST(decoded_lifetime)
{
    ns_codec_t *c = codec_new(0, 0);
    ns_flow_rec_t r;
    fill_rec(&r, 4, true);
    uint8_t buf[8192], out[8192];
    ns_msg_t in = {.type = NS_MSG_BATCH};
    in.u.batch = (ns_msg_batch_t){.seq = 3, .recs = &r, .n_recs = 1};
    size_t len, olen;
    ck_assert_int_eq(ns_codec_encode(c, &in, buf, sizeof(buf), &len), NS_OK);
    const ns_msg_t *m;
    ck_assert_int_eq(decode_agent(c, buf, len, &m), NS_CODEC_OK);
    /* Re-encode what was decoded: the same bytes, and the decoded message is untouched. */
    ck_assert_int_eq(ns_codec_encode(c, m, out, sizeof(out), &olen), NS_OK);
    ck_assert_uint_eq(olen, len);
    ck_assert_mem_eq(out, buf, len);
    assert_rec_eq(&r, &m->u.batch.recs[0]);
    ns_codec_destroy(&c);
}
END_TEST

static Suite *
codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, record_every_field_v4);
    tcase_add_test(tc, record_every_field_v6);
    tcase_add_test(tc, record_with_transactions);
    tcase_add_test(tc, record_mostly_zero);
    tcase_add_test(tc, empty_batch);
    tcase_add_test(tc, own_reader_and_writer_match_protobuf_c);
    tcase_add_test(tc, reader_copies_protobuf_c_corners);
    tcase_add_test(tc, record_reader_edges);
    tcase_add_test(tc, hello_round_trip);
    tcase_add_test(tc, iface_stats_round_trip);
    tcase_add_test(tc, heartbeat_round_trip);
    tcase_add_test(tc, filter_messages_round_trip);
    tcase_add_test(tc, packets_round_trip);
    tcase_add_test(tc, ack_and_get_packets_round_trip);
    tcase_add_test(tc, unknown_fields_ignored);
    tcase_add_test(tc, hand_built_valid_record);
    suite_add_tcase(s, tc);

    tc = tcase_create("cap");
    tcase_add_test(tc, oversize_rejected_unread);
    tcase_add_test(tc, builder_stops_before_cap);
    tcase_add_test(tc, builder_refuses_invalid_records);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_addresses);
    tcase_add_test(tc, bad_numbers_and_enums);
    tcase_add_test(tc, bad_strings_and_counts);
    tcase_add_test(tc, too_many_records);
    tcase_add_test(tc, arena_bound);
    tcase_add_test(tc, version_mismatch);
    tcase_add_test(tc, unknown_or_missing_body);
    tcase_add_test(tc, wrong_wire_type);
    tcase_add_test(tc, other_messages_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    tcase_add_test(tc, garbage);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_test(tc, new_and_destroy);
    tcase_add_test(tc, names);
    tcase_add_test(tc, decoded_lifetime);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(codec_suite)

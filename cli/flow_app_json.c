/* flow_app_json.c - a flow's HTTP and DNS transactions as JSON arrays (jansson).
 *
 * Field names follow Zeek's http.log and dns.log where Zeek has the field (trans_depth,
 * method, host, uri, user_agent, status_code, request_body_len, response_body_len; trans_id,
 * query, qtype, qtype_name, rcode, rcode_name, rtt), so queries written against Zeek logs
 * carry over; ours are marked in the header. Times are seconds as JSON numbers, like Zeek's
 * intervals. Text from the pool is valid UTF-8 already (flow_app.c sanitises it).
 */
#include "flow_app_json.h"

#include <jansson.h>
#include <stdio.h>

#include "pktfmt.h"

static void
set_str(json_t *o, const char *key, const char *s)
{
    if (s && s[0])
        json_object_set_new(o, key, json_string(s));
}

static double
ns_to_s(int64_t ns)
{
    return (double)ns / 1e9;
}

/* The answer's data as text: addresses for A/AAAA, the decoder's text for names and TXT. */
static json_t *
answer_json(const ns_dns_answer_t *a)
{
    json_t *o = json_object();
    const char *tn = ns_pktfmt_dns_type(a->type);
    char tbuf[16];
    if (tn == NULL) { /* RFC 3597 generic name, so "type" is always a string */
        snprintf(tbuf, sizeof(tbuf), "TYPE%u", (unsigned)a->type);
        tn = tbuf;
    }
    json_object_set_new(o, "type", json_string(tn));
    json_object_set_new(o, "ttl", json_integer(a->ttl));
    char text[NS_DNS_RDATA_MAX + 64];
    ns_addr_t addr = {{0}};
    if (a->type == 1 && a->data_len == 4) {
        for (unsigned i = 0; i < 4; i++)
            addr.b[i] = a->data[i];
        ns_pktfmt_addr(text, &addr, 4);
        json_object_set_new(o, "data", json_string(text));
    } else if (a->type == 28 && a->data_len == 16) {
        for (unsigned i = 0; i < 16; i++)
            addr.b[i] = a->data[i];
        ns_pktfmt_addr(text, &addr, 6);
        json_object_set_new(o, "data", json_string(text));
    } else if (a->data_len > 0 && a->data_len <= NS_DNS_RDATA_MAX) {
        /* The decoder's presentation text; invalid UTF-8 is dropped rather than emitted. */
        json_t *s = json_stringn((const char *)a->data, a->data_len);
        if (s)
            json_object_set_new(o, "data", s);
    }
    return o;
}

static json_t *
http_json(const ns_app_http_tx_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "trans_depth", json_integer(t->seq));
    set_str(o, "method", t->method);
    set_str(o, "host", t->host);
    set_str(o, "uri", t->uri);
    set_str(o, "user_agent", t->user_agent);
    if (t->has_response)
        json_object_set_new(o, "status_code", json_integer(t->status));
    json_object_set_new(o, "request_body_len", json_integer((json_int_t)t->req_body_len));
    json_object_set_new(o, "response_body_len", json_integer((json_int_t)t->resp_body_len));
    if (t->has_request)
        json_object_set_new(o, "ts", json_real(ns_to_s((int64_t)t->req_ts_ns)));
    if (t->latency_ns >= 0)
        json_object_set_new(o, "latency", json_real(ns_to_s(t->latency_ns)));
    if (t->chunked_req)
        json_object_set_new(o, "request_chunked", json_true());
    if (t->chunked_resp)
        json_object_set_new(o, "response_chunked", json_true());
    if (!t->has_request)
        json_object_set_new(o, "request_missing", json_true());
    if (t->truncated)
        json_object_set_new(o, "truncated", json_true());
    return o;
}

static json_t *
dns_json(const ns_app_dns_tx_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "trans_id", json_integer(t->id));
    set_str(o, "query", t->qname);
    if (t->qtype) {
        json_object_set_new(o, "qtype", json_integer(t->qtype));
        const char *tn = ns_pktfmt_dns_type(t->qtype);
        if (tn)
            json_object_set_new(o, "qtype_name", json_string(tn));
    }
    if (t->has_query)
        json_object_set_new(o, "ts", json_real(ns_to_s((int64_t)t->query_ts_ns)));
    if (t->answered) {
        json_object_set_new(o, "rcode", json_integer(t->rcode));
        const char *rn = ns_pktfmt_dns_rcode_zeek(t->rcode);
        if (rn)
            json_object_set_new(o, "rcode_name", json_string(rn));
        json_t *ans = json_array();
        for (unsigned i = 0; i < t->n_answers; i++)
            json_array_append_new(ans, answer_json(&t->answers[i]));
        json_object_set_new(o, "answers", ans);
        if (t->ancount > t->n_answers)
            json_object_set_new(o, "answers_total", json_integer(t->ancount));
    } else {
        json_object_set_new(o, "unanswered", json_true());
    }
    if (t->latency_ns >= 0)
        json_object_set_new(o, "rtt", json_real(ns_to_s(t->latency_ns)));
    if (t->retries)
        json_object_set_new(o, "retries", json_integer(t->retries));
    if (t->tcp)
        json_object_set_new(o, "tcp", json_true());
    if (!t->has_query)
        json_object_set_new(o, "query_missing", json_true());
    if (t->truncated)
        json_object_set_new(o, "truncated", json_true());
    return o;
}

void
ns_app_to_json(const ns_flow_rec_t *r, struct json_t *record)
{
    if (r == NULL || record == NULL)
        return;
    if (r->n_http > 0) {
        json_t *arr = json_array();
        for (uint32_t i = 0; i < r->n_http; i++)
            json_array_append_new(arr, http_json(&r->http[i]));
        json_object_set_new(record, "http", arr);
        if (r->http_total > r->n_http)
            json_object_set_new(record, "http_tx_total", json_integer(r->http_total));
    }
    if (r->n_dns > 0) {
        json_t *arr = json_array();
        for (uint32_t i = 0; i < r->n_dns; i++)
            json_array_append_new(arr, dns_json(&r->dns[i]));
        json_object_set_new(record, "dns", arr);
        if (r->dns_total > r->n_dns)
            json_object_set_new(record, "dns_tx_total", json_integer(r->dns_total));
        if (r->dns_unanswered)
            json_object_set_new(record, "dns_unanswered", json_integer(r->dns_unanswered));
    }
}

/* test_flow_app.c - per-flow HTTP/DNS state: transactions, reassembly, pool bounds.
 *
 * Every packet is a real frame: a raw IPv4 packet (LINKTYPE_RAW) built below, decoded with
 * ns_decode_frame() from an exact-size heap copy, then fed to ns_app_update() as the flow
 * table would. The client 10.0.0.1:40000 talks to 10.0.0.2 (port 80 for HTTP, 53 for DNS);
 * direction 0 is client -> server. TCP sequence numbers are tracked per direction by the
 * harness (client ISN 1000, server ISN 5000) unless a test places a segment itself.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_app_json.h"
#include "ipframe.h"
#include "netscope/decode.h"
#include "netscope/flow_app.h"
#include "runner.h"

#define MS 1000000ull
#define T0 1700000000000000000ull /* an arbitrary capture time, ns */

/* ---- frames: ipframe.h ------------------------------------------------------------- */

typedef struct {
    ns_app_pool_t *p;
    uint32_t h;
    uint32_t seq[2];
    uint16_t port; /* server port */
    ns_pkt_t pkt;
} flow_t;

static void
flow_init(flow_t *x, ns_app_pool_t *p, uint16_t port)
{
    memset(x, 0, sizeof(*x));
    x->p = p;
    x->seq[0] = 1000;
    x->seq[1] = 5000;
    x->port = port;
}

/* Decode `f` and feed it to the pool. */
static void
decode_and_feed(flow_t *x, uint8_t *f, uint32_t flen, unsigned dir, uint64_t t)
{
    memset(&x->pkt, 0, sizeof(x->pkt));
    (void)ns_decode_frame(NS_LINKTYPE_RAW, f, flen, flen, &x->pkt, NULL, NULL);
    ck_assert(x->pkt.ip_ver == 4);
    ns_app_update(x->p, &x->h, &x->pkt, f, dir, t);
    free(f);
}

/* A TCP segment with `len` payload bytes at sequence number `seq`. */
static void
tcp_at(flow_t *x, unsigned dir, uint32_t seq, const void *data, size_t len, uint64_t t)
{
    uint8_t tcp[TCP_HDR] = {0};
    put16(tcp + 0, dir == 0 ? 40000u : x->port); /* source port */
    put16(tcp + 2, dir == 0 ? x->port : 40000u); /* destination port */
    put32(tcp + 4, seq);                         /* sequence number */
    put32(tcp + 8, x->seq[dir ^ 1u]);            /* acknowledgment number */
    tcp[12] = 0x50;                              /* data offset 5 words */
    tcp[13] = 0x18;                              /* PSH ACK */
    put16(tcp + 14, 65535);                      /* window */
    uint32_t flen;
    uint8_t *f = ipv4_frame(dir, 6, tcp, TCP_HDR, data, (uint32_t)len, &flen);
    decode_and_feed(x, f, flen, dir, t);
}

/* The next in-order segment of direction `dir`. */
static void
tcp_send(flow_t *x, unsigned dir, const char *s, uint64_t t)
{
    size_t len = strlen(s);
    tcp_at(x, dir, x->seq[dir], s, len, t);
    x->seq[dir] += (uint32_t)len;
}

static void
udp_send(flow_t *x, unsigned dir, const uint8_t *data, size_t len, uint64_t t)
{
    uint8_t udp[UDP_HDR] = {0};
    put16(udp + 0, dir == 0 ? 40000u : x->port);
    put16(udp + 2, dir == 0 ? x->port : 40000u);
    put16(udp + 4, (uint32_t)(UDP_HDR + len));
    uint32_t flen;
    uint8_t *f = ipv4_frame(dir, 17, udp, UDP_HDR, data, (uint32_t)len, &flen);
    decode_and_feed(x, f, flen, dir, t);
}

static ns_app_pool_t *
pool(uint32_t flows, uint16_t http_tx, uint16_t dns_tx, uint16_t str, uint32_t reasm)
{
    ns_app_limits_t lim;
    ns_app_limits_default(&lim);
    if (flows)
        lim.max_flows = flows;
    if (http_tx)
        lim.max_http_tx = http_tx;
    if (dns_tx)
        lim.max_dns_tx = dns_tx;
    if (str)
        lim.max_str_len = str;
    if (reasm)
        lim.reasm_bytes = reasm;
    ns_app_pool_t *p = ns_app_pool_new(&lim);
    ck_assert_ptr_nonnull(p);
    return p;
}

static ns_app_http_tx_t
http_tx(const flow_t *x, uint32_t i)
{
    ns_app_http_tx_t t;
    ck_assert_msg(ns_app_http_get(x->p, x->h, i, &t), "no HTTP transaction %u", i);
    return t;
}

static ns_app_dns_tx_t
dns_tx(const flow_t *x, uint32_t i)
{
    ns_app_dns_tx_t t;
    ck_assert_msg(ns_app_dns_get(x->p, x->h, i, &t), "no DNS transaction %u", i);
    return t;
}

static ns_app_stats_t
stats(const ns_app_pool_t *p)
{
    ns_app_stats_t s;
    ns_app_pool_stats(p, &s);
    return s;
}

/* ---- DNS fixtures ----------------------------------------------------------------------- */

/* Query: example.com A, id 0x1234, RD. */
static const uint8_t dns_query[] = {
    0x12, 0x34,                                     /* id */
    0x01, 0x00,                                     /* flags: RD */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* qd 1, an 0, ns 0, ar 0 */
    0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',  /* qname */
    0x03, 'c',  'o',  'm',  0x00,                   /*   .com. */
    0x00, 0x01, 0x00, 0x01,                         /* qtype A, qclass IN */
};

/* Response: example.com A 93.184.216.34, TTL 3600. */
static const uint8_t dns_response[] = {
    0x12, 0x34,                                     /* id */
    0x81, 0x80,                                     /* flags: QR RD RA, rcode 0 */
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* qd 1, an 1, ns 0, ar 0 */
    0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',  /* qname */
    0x03, 'c',  'o',  'm',  0x00,                   /*   .com. */
    0x00, 0x01, 0x00, 0x01,                         /* qtype A, qclass IN */
    0xc0, 0x0c,                                     /* answer name: pointer to the qname */
    0x00, 0x01, 0x00, 0x01,                         /* type A, class IN */
    0x00, 0x00, 0x0e, 0x10,                         /* TTL 3600 */
    0x00, 0x04,                                     /* rdlength */
    93,   184,  216,  34,                           /* address */
};

/* A copy of `m` with another id. */
static void
with_id(uint8_t *dst, const uint8_t *m, size_t len, uint16_t id)
{
    memcpy(dst, m, len);
    dst[0] = (uint8_t)(id >> 8);
    dst[1] = (uint8_t)id;
}

/* `m` with the DNS-over-TCP length prefix. */
static size_t
tcp_framed(uint8_t *dst, const uint8_t *m, size_t len)
{
    dst[0] = (uint8_t)(len >> 8);
    dst[1] = (uint8_t)len;
    memcpy(dst + 2, m, len);
    return len + 2;
}

/* ---- HTTP: valid ------------------------------------------------------------------------ */

static const char req1[] = "GET /index.html HTTP/1.1\r\n"
                           "Host: example.com\r\n"
                           "User-Agent: curl/8.0\r\n"
                           "Accept: */*\r\n"
                           "\r\n";

START_TEST(http_request_response)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, req1, T0);
    ck_assert_uint_ne(x.h, 0);
    tcp_send(&x, 1,
             "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\n01234",
             T0 + 20 * MS);
    tcp_send(&x, 1, "56789", T0 + 21 * MS);

    ck_assert_str_eq(ns_app_service(p, x.h), "http");
    ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 0);
    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert_uint_eq(t.seq, 1);
    ck_assert_str_eq(t.method, "GET");
    ck_assert_str_eq(t.host, "example.com");
    ck_assert_str_eq(t.uri, "/index.html");
    ck_assert_str_eq(t.user_agent, "curl/8.0");
    ck_assert(t.has_request && t.has_response && !t.truncated);
    ck_assert_uint_eq(t.status, 200);
    ck_assert_uint_eq(t.req_body_len, 0);
    ck_assert_uint_eq(t.resp_body_len, 10);
    ck_assert_int_eq(t.latency_ns, (int64_t)(20 * MS));
    ck_assert_uint_eq(t.req_ts_ns, T0);
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.slots_in_use, 1);
    ck_assert_uint_eq(st.bytes_dup + st.bytes_gap + st.bytes_overflow + st.parse_errors, 0);
    ns_app_release(p, &x.h);
    ck_assert_uint_eq(x.h, 0);
    ck_assert_uint_eq(stats(p).slots_in_use, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(http_keep_alive_two_transactions)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 8080);
    tcp_send(&x, 0, req1, T0);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", T0 + 10 * MS);
    tcp_send(&x, 0, "POST /api HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n",
             T0 + 1000 * MS);
    tcp_send(&x, 0, "hello", T0 + 1001 * MS);
    tcp_send(&x, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", T0 + 1050 * MS);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 2);
    ns_app_http_tx_t a = http_tx(&x, 0), b = http_tx(&x, 1);
    ck_assert_uint_eq(a.seq, 1);
    ck_assert_uint_eq(a.status, 200);
    ck_assert_uint_eq(a.resp_body_len, 3);
    ck_assert_int_eq(a.latency_ns, (int64_t)(10 * MS));
    ck_assert_uint_eq(b.seq, 2);
    ck_assert_str_eq(b.method, "POST");
    ck_assert_str_eq(b.uri, "/api");
    ck_assert_uint_eq(b.req_body_len, 5);
    ck_assert_uint_eq(b.status, 201);
    ck_assert_uint_eq(b.resp_body_len, 0);
    ck_assert_int_eq(b.latency_ns, (int64_t)(50 * MS));
    ns_app_pool_destroy(&p);
}
END_TEST

/* Two requests in one segment, both responses in one segment (pipelining). */
START_TEST(http_pipelined)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\n", T0);
    tcp_send(&x, 1,
             "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
             "HTTP/1.1 404 Not Found\r\nContent-Length: 1234\r\n\r\n" /* HEAD: no body */,
             T0 + 5 * MS);
    tcp_send(&x, 0, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n", T0 + 6 * MS);
    tcp_send(&x, 1, "HTTP/1.1 304 Not Modified\r\n\r\n", T0 + 7 * MS);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 3);
    ck_assert_uint_eq(http_tx(&x, 0).status, 200);
    ck_assert_uint_eq(http_tx(&x, 0).resp_body_len, 3);
    ck_assert_str_eq(http_tx(&x, 1).method, "HEAD");
    ck_assert_uint_eq(http_tx(&x, 1).status, 404);
    ck_assert_uint_eq(http_tx(&x, 1).resp_body_len, 0);
    ck_assert_str_eq(http_tx(&x, 2).uri, "/c");
    ck_assert_uint_eq(http_tx(&x, 2).status, 304);
    ck_assert_uint_eq(stats(p).parse_errors, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(http_header_split_across_segments)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, "GET / HTTP/1.1\r\nHo", T0);
    tcp_send(&x, 0, "st: split.example\r\nUser-Ag", T0 + 100 * MS);
    tcp_send(&x, 0, "ent: Mozilla/5.0 (X11)\r\n\r\n", T0 + 200 * MS);
    tcp_send(&x, 1, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", T0 + 500 * MS);

    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert_str_eq(t.host, "split.example");
    ck_assert_str_eq(t.user_agent, "Mozilla/5.0 (X11)");
    ck_assert_uint_eq(t.req_ts_ns, T0); /* the request started with its first byte */
    ck_assert_int_eq(t.latency_ns, (int64_t)(500 * MS));
    ns_app_pool_destroy(&p);
}
END_TEST

/* Every split of a request and of a response into two segments gives the same result. */
START_TEST(http_every_split_point)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
    size_t rl = strlen(req1), sl = strlen(resp);
    for (size_t cut = 1; cut < rl + sl; cut++) {
        ns_app_pool_t *p = pool(4, 0, 0, 0, 0);
        flow_t x;
        flow_init(&x, p, 80);
        size_t qc = cut < rl ? cut : rl / 2, sc = cut < sl ? cut : sl / 2;
        tcp_at(&x, 0, 1000, req1, qc, T0);
        tcp_at(&x, 0, 1000 + (uint32_t)qc, req1 + qc, rl - qc, T0 + 1);
        tcp_at(&x, 1, 5000, resp, sc, T0 + 2);
        tcp_at(&x, 1, 5000 + (uint32_t)sc, resp + sc, sl - sc, T0 + 3);
        ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
        ns_app_http_tx_t t = http_tx(&x, 0);
        ck_assert_str_eq(t.host, "example.com");
        ck_assert_str_eq(t.user_agent, "curl/8.0");
        ck_assert_uint_eq(t.status, 200);
        ck_assert_uint_eq(t.resp_body_len, 4);
        ns_app_pool_destroy(&p);
    }
}
END_TEST

START_TEST(http_chunked)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, req1, T0);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", T0 + 1);
    tcp_send(&x, 1, "6;ext=1\r\n world\r\n0\r\n", T0 + 2);
    tcp_send(&x, 1, "\r\n", T0 + 3);
    /* second transaction: the chunk-size line split in the middle, a trailer field */
    tcp_send(&x, 0, "GET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n", T0 + 4);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, CHUNKED\r\n\r\n1", T0 + 5);
    tcp_send(&x, 1, "0\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n", T0 + 6);
    tcp_send(&x, 0, "GET /3 HTTP/1.1\r\nHost: example.com\r\n\r\n", T0 + 7);
    tcp_send(&x, 1, "HTTP/1.1 204 No Content\r\n\r\n", T0 + 8);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 3);
    ns_app_http_tx_t a = http_tx(&x, 0), b = http_tx(&x, 1), c = http_tx(&x, 2);
    ck_assert(a.chunked_resp && !a.chunked_req);
    ck_assert_uint_eq(a.resp_body_len, 11);
    ck_assert(b.chunked_resp);
    ck_assert_uint_eq(b.resp_body_len, 16);
    ck_assert_uint_eq(c.status, 204);
    ck_assert_uint_eq(stats(p).parse_errors, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* A response without a length runs to the close; a midstream start opens on a response. */
START_TEST(http_until_close_and_midstream)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 1, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome", T0);
    tcp_send(&x, 1, " more bytes", T0 + 1);
    ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert(!t.has_request && t.has_response);
    ck_assert_uint_eq(t.resp_body_len, 15);
    ck_assert_int_eq(t.latency_ns, -1);
    ns_app_pool_destroy(&p);
}
END_TEST

/* ---- HTTP: reassembly faults ------------------------------------------------------------ */

START_TEST(http_retransmission_not_duplicated)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    static const char full[] = "GET / HTTP/1.1\r\nHost: aaa.example\r\n\r\n";
    tcp_at(&x, 0, 1000, full, 20, T0);                         /* "GET / HTTP/1.1\r\nHost" */
    tcp_at(&x, 0, 1000, full, 20, T0 + 1);                     /* retransmitted whole */
    tcp_at(&x, 0, 1015, full + 15, strlen(full) - 15, T0 + 2); /* overlaps 5 bytes */
    tcp_at(&x, 0, 1015, full + 15, strlen(full) - 15, T0 + 3); /* and again */
    x.seq[0] = 1000 + (uint32_t)strlen(full);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", T0 + 4);
    tcp_at(&x, 0, 1000, full, strlen(full), T0 + 5); /* late copy of the request */

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert_str_eq(t.host, "aaa.example");
    ck_assert_uint_eq(t.resp_body_len, 2);
    ck_assert_uint_eq(t.req_ts_ns, T0);
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.bytes_dup, 20 + 5 + (strlen(full) - 15) + strlen(full));
    ck_assert_uint_eq(st.bytes_gap, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* A lost segment inside a body of known length: counted, and the stream stays in step. */
START_TEST(http_gap_in_body_stays_in_step)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, req1, T0);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", T0 + 1);
    x.seq[1] += 40; /* 40 body bytes lost */
    char body[51];
    memset(body, 'b', 50);
    body[50] = '\0';
    tcp_send(&x, 1, body, T0 + 2);
    tcp_send(&x, 0, "GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n", T0 + 3);
    tcp_send(&x, 1, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", T0 + 4);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 2);
    ck_assert_uint_eq(http_tx(&x, 0).resp_body_len, 100);
    ck_assert_uint_eq(http_tx(&x, 1).status, 302);
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.bytes_gap, 40);
    ck_assert_uint_eq(st.bytes_resync, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* A lost segment inside a head: that message is given up, the next one is found. */
START_TEST(http_gap_in_head_resyncs)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, "GET /lost HTTP/1.1\r\nHo", T0);
    x.seq[0] += (uint32_t)strlen("st: x\r\n\r\n"); /* lost */
    tcp_send(&x, 0, "GET /next HTTP/1.1\r\nHost: y\r\n\r\n", T0 + 1);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", T0 + 2);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert_str_eq(t.uri, "/next");
    ck_assert_str_eq(t.host, "y");
    ck_assert_uint_eq(t.status, 200);
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.bytes_gap, strlen("st: x\r\n\r\n"));
    ck_assert_uint_eq(st.bytes_resync, strlen("GET /lost HTTP/1.1\r\nHo"));
    ns_app_pool_destroy(&p);
}
END_TEST

/* A segment that does not start a message after a gap is skipped until one does. */
START_TEST(http_gap_then_continuation_skipped)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, "GET /a HTTP/1.1\r\n", T0);
    x.seq[0] += 5;
    tcp_send(&x, 0, "ost: lost\r\n\r\n", T0 + 1); /* the rest of a head: no message start */
    tcp_send(&x, 0, "GET /b HTTP/1.1\r\nHost: b\r\n\r\n", T0 + 2);
    ck_assert_uint_eq(ns_app_http_count(p, x.h), 1);
    ck_assert_str_eq(http_tx(&x, 0).uri, "/b");
    ck_assert_uint_eq(stats(p).bytes_resync,
                      strlen("GET /a HTTP/1.1\r\n") + strlen("ost: lost\r\n\r\n"));
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(http_out_of_window_ignored)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    tcp_send(&x, 0, req1, T0);
    static const char bogus[] = "GET /bogus HTTP/1.1\r\nHost: evil\r\n\r\n";
    tcp_at(&x, 0, x.seq[0] + 200u * 1024u * 1024u, bogus, strlen(bogus), T0 + 1);
    tcp_at(&x, 0, x.seq[0] - 0x70000000u, bogus, strlen(bogus), T0 + 2); /* far behind */
    tcp_send(&x, 0, "GET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n", T0 + 3);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 2);
    ck_assert_str_eq(http_tx(&x, 1).uri, "/2");
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.segments_oow, 1);
    ck_assert_uint_eq(st.bytes_dup, strlen(bogus));
    ck_assert_uint_eq(st.bytes_gap, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* Sequence numbers wrap around 2^32 in the middle of a head. */
START_TEST(http_sequence_wrap)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 80);
    x.seq[0] = 0xfffffff0u;
    tcp_send(&x, 0, "GET /wrap HTTP/1.1\r\nHo", T0);
    tcp_send(&x, 0, "st: w\r\n\r\n", T0 + 1);
    ck_assert_uint_lt(x.seq[0], 0x100u);
    ck_assert_str_eq(http_tx(&x, 0).host, "w");
    ck_assert_uint_eq(stats(p).bytes_gap, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* A head larger than the reassembly buffer: what was seen is kept, flagged, then resync. */
START_TEST(http_head_overflow)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 128);
    flow_t x;
    flow_init(&x, p, 80);
    char cookie[300];
    memset(cookie, 'c', sizeof(cookie) - 1);
    cookie[sizeof(cookie) - 1] = '\0';
    tcp_send(&x, 0, "GET /big HTTP/1.1\r\nHost: big.example\r\nCookie: ", T0);
    tcp_send(&x, 0, cookie, T0 + 1);
    tcp_send(&x, 0, "\r\n\r\n", T0 + 2);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", T0 + 3);
    tcp_send(&x, 0, "GET /two HTTP/1.1\r\nHost: big.example\r\n\r\n", T0 + 4);
    tcp_send(&x, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", T0 + 5);

    ck_assert_uint_eq(ns_app_http_count(p, x.h), 2);
    ns_app_http_tx_t a = http_tx(&x, 0), b = http_tx(&x, 1);
    ck_assert(a.truncated);
    ck_assert_str_eq(a.uri, "/big");
    ck_assert_str_eq(a.host, "big.example");
    ck_assert_uint_eq(a.status, 200);
    ck_assert_str_eq(b.uri, "/two");
    ck_assert_uint_eq(b.status, 201);
    ck_assert_uint_gt(stats(p).bytes_overflow, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* ---- HTTP: bounds ----------------------------------------------------------------------- */

START_TEST(http_string_and_tx_bounds)
{
    ns_app_pool_t *p = pool(0, 2, 0, 16, 0);
    flow_t x;
    flow_init(&x, p, 80);
    /* host: 15 ASCII bytes then a 2-byte UTF-8 character across the 16-byte bound;
     * user agent: a control byte */
    tcp_send(&x, 0,
             "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"
             "Host: abcdefghijklmno\xc3\xa9.example\r\nUser-Agent: a\x01z\r\n\r\n",
             T0);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", T0 + 1);
    for (int i = 0; i < 2; i++) {
        tcp_send(&x, 0, "GET /more HTTP/1.1\r\nHost: m\r\n\r\n", T0 + 2);
        tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", T0 + 3);
    }
    ck_assert_uint_eq(ns_app_http_count(p, x.h), 3);
    ck_assert_uint_eq(ns_app_http_kept(p, x.h), 2);
    ns_app_http_tx_t t = http_tx(&x, 0);
    ck_assert(t.truncated);
    ck_assert_uint_eq(strlen(t.uri), 16);
    ck_assert_str_eq(t.host, "abcdefghijklmno"); /* the character is not split */
    ck_assert_str_eq(t.user_agent, "a.z");
    ns_app_http_tx_t out;
    ck_assert(!ns_app_http_get(p, x.h, 2, &out));
    ck_assert_uint_eq(stats(p).http_tx_dropped, 1);
    ns_app_pool_destroy(&p);
}
END_TEST

/* Binary TCP payload never takes a slot. */
START_TEST(tcp_not_http_takes_no_slot)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 443);
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
    tcp_at(&x, 0, 1000, tls, sizeof(tls), T0);
    tcp_at(&x, 0, 1010, "Hello there", 11, T0 + 1);
    ck_assert_uint_eq(x.h, 0);
    ck_assert_ptr_null(ns_app_service(p, x.h));
    ck_assert_uint_eq(stats(p).slots_in_use, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* ---- DNS -------------------------------------------------------------------------------- */

START_TEST(dns_query_answer_latency)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 53);
    udp_send(&x, 0, dns_query, sizeof(dns_query), T0);
    ck_assert_uint_ne(x.h, 0);
    udp_send(&x, 1, dns_response, sizeof(dns_response), T0 + 12 * MS);

    ck_assert_str_eq(ns_app_service(p, x.h), "dns");
    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 1);
    ck_assert_uint_eq(ns_app_dns_unanswered(p, x.h), 0);
    ns_app_dns_tx_t t = dns_tx(&x, 0);
    ck_assert_uint_eq(t.id, 0x1234);
    ck_assert_str_eq(t.qname, "example.com");
    ck_assert_uint_eq(t.qtype, 1);
    ck_assert(t.has_query && t.answered && !t.tcp);
    ck_assert_uint_eq(t.rcode, 0);
    ck_assert_int_eq(t.latency_ns, (int64_t)(12 * MS));
    ck_assert_uint_eq(t.n_answers, 1);
    ck_assert_uint_eq(t.ancount, 1);
    ck_assert_uint_eq(t.answers[0].type, 1);
    ck_assert_uint_eq(t.answers[0].ttl, 3600);
    ck_assert_uint_eq(t.answers[0].data_len, 4);
    ck_assert_mem_eq(t.answers[0].data, "\x5d\xb8\xd8\x22", 4);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(dns_unanswered_and_resend)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 53);
    uint8_t q2[sizeof(dns_query)], r2[sizeof(dns_response)], r9[sizeof(dns_response)];
    with_id(q2, dns_query, sizeof(dns_query), 0x0002);
    with_id(r2, dns_response, sizeof(dns_response), 0x0002);
    with_id(r9, dns_response, sizeof(dns_response), 0x0009);
    udp_send(&x, 0, dns_query, sizeof(dns_query), T0);             /* id 0x1234 */
    udp_send(&x, 0, dns_query, sizeof(dns_query), T0 + 1000 * MS); /* resent */
    udp_send(&x, 0, q2, sizeof(q2), T0 + 2000 * MS);
    udp_send(&x, 1, r2, sizeof(r2), T0 + 2003 * MS);
    udp_send(&x, 1, r2, sizeof(r2), T0 + 2004 * MS); /* duplicate answer: ignored */
    udp_send(&x, 1, r9, sizeof(r9), T0 + 2005 * MS); /* answers nothing we saw */

    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 3);
    ck_assert_uint_eq(ns_app_dns_unanswered(p, x.h), 1);
    ns_app_dns_tx_t a = dns_tx(&x, 0), b = dns_tx(&x, 1), c = dns_tx(&x, 2);
    ck_assert(a.has_query && !a.answered);
    ck_assert_uint_eq(a.retries, 1);
    ck_assert_int_eq(a.latency_ns, -1);
    ck_assert_uint_eq(b.id, 2);
    ck_assert_int_eq(b.latency_ns, (int64_t)(3 * MS));
    ck_assert(!c.has_query && c.answered);
    ck_assert_uint_eq(c.id, 9);
    ck_assert_int_eq(c.latency_ns, -1);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(dns_over_tcp_split)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x;
    flow_init(&x, p, 53);
    uint8_t q[64], r[128];
    size_t ql = tcp_framed(q, dns_query, sizeof(dns_query));
    size_t rl = tcp_framed(r, dns_response, sizeof(dns_response));
    /* the query in three segments: half of the length prefix, 10 bytes, the rest */
    tcp_at(&x, 0, 1000, q, 1, T0);
    tcp_at(&x, 0, 1001, q + 1, 10, T0 + 1 * MS);
    tcp_at(&x, 0, 1011, q + 11, ql - 11, T0 + 2 * MS);
    tcp_at(&x, 0, 1011, q + 11, ql - 11, T0 + 3 * MS); /* retransmitted */
    /* the response in two segments, split inside the answer */
    tcp_at(&x, 1, 5000, r, 40, T0 + 30 * MS);
    tcp_at(&x, 1, 5040, r + 40, rl - 40, T0 + 31 * MS);

    ck_assert_str_eq(ns_app_service(p, x.h), "dns");
    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 1);
    ns_app_dns_tx_t t = dns_tx(&x, 0);
    ck_assert(t.tcp && t.answered);
    ck_assert_str_eq(t.qname, "example.com");
    ck_assert_int_eq(t.latency_ns, (int64_t)(30 * MS));
    ck_assert_uint_eq(t.answers[0].ttl, 3600);

    /* two queries in one segment, both answers in one segment */
    uint8_t m1[sizeof(dns_query)], m2[sizeof(dns_query)], a1[sizeof(dns_response)],
        a2[sizeof(dns_response)];
    with_id(m1, dns_query, sizeof(dns_query), 0x1111);
    with_id(m2, dns_query, sizeof(dns_query), 0x2222);
    with_id(a1, dns_response, sizeof(dns_response), 0x1111);
    with_id(a2, dns_response, sizeof(dns_response), 0x2222);
    uint8_t two[256];
    size_t n = tcp_framed(two, m1, sizeof(m1));
    n += tcp_framed(two + n, m2, sizeof(m2));
    tcp_at(&x, 0, 1000 + (uint32_t)ql, two, n, T0 + 100 * MS);
    size_t k = tcp_framed(two, a2, sizeof(a2));
    k += tcp_framed(two + k, a1, sizeof(a1));
    tcp_at(&x, 1, 5000 + (uint32_t)rl, two, k, T0 + 140 * MS);

    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 3);
    ck_assert_uint_eq(ns_app_dns_unanswered(p, x.h), 0);
    ck_assert_uint_eq(dns_tx(&x, 1).id, 0x1111);
    ck_assert_int_eq(dns_tx(&x, 1).latency_ns, (int64_t)(40 * MS));
    ck_assert_uint_eq(dns_tx(&x, 2).id, 0x2222);
    ck_assert_uint_eq(stats(p).bytes_dup, ql - 11);
    ck_assert_uint_eq(stats(p).parse_errors, 0);
    ns_app_pool_destroy(&p);
}
END_TEST

/* A DNS-over-TCP message larger than the buffer is skipped; the next one parses. */
START_TEST(dns_over_tcp_oversize_skipped)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 64);
    flow_t x;
    flow_init(&x, p, 53);
    uint8_t big[202];
    memset(big, 0, sizeof(big));
    big[0] = 0;
    big[1] = 200; /* length prefix: 200 > 64-byte buffer */
    tcp_at(&x, 0, 1000, big, sizeof(big), T0);
    uint8_t q[64];
    size_t ql = tcp_framed(q, dns_query, sizeof(dns_query));
    tcp_at(&x, 0, 1000 + sizeof(big), q, ql, T0 + 1);
    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 1);
    ck_assert_str_eq(dns_tx(&x, 0).qname, "example.com");
    ck_assert_uint_eq(stats(p).bytes_overflow, 200);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(dns_bounds)
{
    ns_app_pool_t *p = pool(0, 0, 2, 8, 0);
    flow_t x;
    flow_init(&x, p, 53);
    for (uint16_t id = 1; id <= 4; id++) {
        uint8_t q[sizeof(dns_query)];
        with_id(q, dns_query, sizeof(q), id);
        udp_send(&x, 0, q, sizeof(q), T0 + id);
    }
    uint8_t r[sizeof(dns_response)];
    with_id(r, dns_response, sizeof(r), 4); /* answers a query beyond the limit */
    udp_send(&x, 1, r, sizeof(r), T0 + 10);
    ck_assert_uint_eq(ns_app_dns_count(p, x.h), 4);
    ck_assert_uint_eq(ns_app_dns_kept(p, x.h), 2);
    ck_assert_uint_eq(ns_app_dns_unanswered(p, x.h), 3);
    ns_app_dns_tx_t t = dns_tx(&x, 0);
    ck_assert_str_eq(t.qname, "example.");
    ck_assert(t.truncated);
    ck_assert_uint_eq(stats(p).dns_tx_dropped, 2);
    ns_app_pool_destroy(&p);
}
END_TEST

/* Hostile streams: random cuts, reorderings, retransmissions and garbage over HTTP and DNS
 * flows with a small buffer. Nothing may crash or read out of bounds (run under ASan), and
 * the pool must stay consistent. A fixed LCG keeps the run reproducible. */
static uint32_t
lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

START_TEST(random_streams)
{
    static const char *const pieces[] = {
        "GET / HTTP/1.1\r\nHost: r\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "4\r\nabcd\r\n",
        "0\r\n\r\n",
        "zz\r\n",
        "\r\n",
        "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 101 Switching\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HEAD / HTTP/1.0\r\n\r\n",
        "\x00\x1d\x12\x34\x01\x00",
        "\xff\xff",
        "CONNECT h:443 HTTP/1.1\r\n\r\n",
    };
    uint32_t rnd = 12345;
    ns_app_pool_t *p = pool(8, 4, 4, 12, 64);
    for (unsigned round = 0; round < 400; round++) {
        flow_t x;
        flow_init(&x, p, (round & 1u) ? 80 : 53);
        uint8_t stream[2][1024];
        uint32_t len[2] = {0, 0};
        for (unsigned dir = 0; dir < 2; dir++) {
            while (len[dir] < 900) {
                const char *pc = pieces[lcg(&rnd) % (sizeof(pieces) / sizeof(pieces[0]))];
                size_t n = strlen(pc) + (pc[0] == '\0' ? 6 : 0);
                if (lcg(&rnd) % 5 == 0) { /* raw garbage */
                    n = lcg(&rnd) % 40;
                    for (size_t i = 0; i < n && len[dir] + i < sizeof(stream[dir]); i++)
                        stream[dir][len[dir] + i] = (uint8_t)lcg(&rnd);
                } else {
                    memcpy(stream[dir] + len[dir], pc, n);
                }
                len[dir] += (uint32_t)n;
            }
        }
        for (unsigned i = 0; i < 60; i++) {
            unsigned dir = lcg(&rnd) & 1u;
            uint32_t at = lcg(&rnd) % len[dir];
            uint32_t n = 1 + lcg(&rnd) % 90;
            if (at + n > len[dir])
                n = len[dir] - at;
            uint32_t base = dir ? 5000u : 1000u;
            tcp_at(&x, dir, base + at, stream[dir] + at, n, T0 + i);
        }
        ns_app_http_tx_t t;
        for (uint32_t i = 0; ns_app_http_get(p, x.h, i, &t); i++)
            ck_assert_uint_le(strlen(t.uri), 12);
        ns_app_dns_tx_t d;
        for (uint32_t i = 0; ns_app_dns_get(p, x.h, i, &d); i++)
            ck_assert_uint_le(strlen(d.qname), 12);
        ns_app_release(p, &x.h);
    }
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.slots_in_use, 0);
    ck_assert_uint_le(st.slots_peak, 1);
    ns_app_pool_destroy(&p);
}
END_TEST

/* ---- pool ------------------------------------------------------------------------------- */

START_TEST(pool_full_refuses)
{
    ns_app_pool_t *p = pool(2, 0, 0, 0, 0);
    flow_t a, b, c;
    flow_init(&a, p, 53);
    flow_init(&b, p, 53);
    flow_init(&c, p, 53);
    udp_send(&a, 0, dns_query, sizeof(dns_query), T0);
    udp_send(&b, 0, dns_query, sizeof(dns_query), T0);
    udp_send(&c, 0, dns_query, sizeof(dns_query), T0);
    ck_assert_uint_ne(a.h, 0);
    ck_assert_uint_ne(b.h, 0);
    ck_assert_uint_ne(a.h, b.h);
    ck_assert_uint_eq(c.h, 0);
    ns_app_stats_t st = stats(p);
    ck_assert_uint_eq(st.slots_total, 2);
    ck_assert_uint_eq(st.slots_in_use, 2);
    ck_assert_uint_eq(st.flows_refused, 1);

    uint32_t old = a.h;
    ns_app_release(p, &a.h);
    ck_assert_uint_eq(a.h, 0);
    ck_assert_ptr_null(ns_app_service(p, old)); /* a released handle reads as none */
    udp_send(&c, 1, dns_response, sizeof(dns_response), T0 + 1);
    ck_assert_uint_ne(c.h, 0);
    ck_assert_uint_eq(ns_app_dns_count(p, c.h), 1); /* fresh state, not a's */
    ck_assert(!dns_tx(&c, 0).has_query);
    st = stats(p);
    ck_assert_uint_eq(st.slots_in_use, 2);
    ck_assert_uint_eq(st.slots_peak, 2);
    ns_app_pool_destroy(&p);
}
END_TEST

START_TEST(pool_lifecycle)
{
    ns_app_limits_t lim;
    ns_app_limits_default(&lim);
    ck_assert_uint_eq(lim.max_flows, NS_APP_DEFAULT_MAX_FLOWS);
    ns_app_pool_t *p = ns_app_pool_new(NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(ns_app_pool_limits(p)->reasm_bytes, NS_APP_DEFAULT_REASM_BYTES);
    ck_assert_uint_gt(ns_app_pool_bytes(p), (size_t)NS_APP_DEFAULT_MAX_FLOWS * 4096u);
    uint32_t h = 0;
    ns_app_release(p, &h);
    ns_app_release(p, NULL);
    ck_assert_uint_eq(ns_app_http_count(p, 0), 0);
    ck_assert_uint_eq(ns_app_dns_unanswered(p, 12345678), 0);
    ck_assert_ptr_null(ns_app_service(p, 0));
    ns_app_update(p, &h, NULL, NULL, 0, 0);
    ns_app_pool_destroy(&p);
    ck_assert_ptr_null(p);
    ns_app_pool_destroy(&p);
    ns_app_pool_destroy(NULL);

    /* zero limits take the defaults, absurd ones are clamped */
    memset(&lim, 0, sizeof(lim));
    lim.max_flows = 1;
    lim.max_str_len = 65535;
    lim.reasm_bytes = 1;
    p = ns_app_pool_new(&lim);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(ns_app_pool_limits(p)->max_str_len, NS_APP_MAX_STR_LEN);
    ck_assert_uint_eq(ns_app_pool_limits(p)->reasm_bytes, NS_APP_MIN_REASM_BYTES);
    ck_assert_uint_eq(ns_app_pool_limits(p)->max_http_tx, NS_APP_DEFAULT_MAX_HTTP_TX);
    ns_app_pool_destroy(&p);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------------------- */

/* The JSON of a record carrying every kept transaction of flow `h`, as the engine makes it for
 * `netscope flows`. */
static void
app_json(const ns_app_pool_t *p, uint32_t h, json_t *out)
{
    static ns_app_http_tx_t ht[NS_APP_DEFAULT_MAX_HTTP_TX];
    static ns_app_dns_tx_t dt[NS_APP_DEFAULT_MAX_DNS_TX];
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    for (uint32_t i = 0; i < ns_app_http_kept(p, h) && i < NS_APP_DEFAULT_MAX_HTTP_TX; i++)
        if (ns_app_http_get(p, h, i, &ht[r.n_http]))
            r.n_http++;
    for (uint32_t i = 0; i < ns_app_dns_kept(p, h) && i < NS_APP_DEFAULT_MAX_DNS_TX; i++)
        if (ns_app_dns_get(p, h, i, &dt[r.n_dns]))
            r.n_dns++;
    r.http = ht;
    r.dns = dt;
    r.http_total = ns_app_http_count(p, h);
    r.dns_total = ns_app_dns_count(p, h);
    r.dns_unanswered = ns_app_dns_unanswered(p, h);
    ns_app_to_json(&r, out);
}

START_TEST(json_records)
{
    ns_app_pool_t *p = pool(0, 0, 0, 0, 0);
    flow_t x, y;
    flow_init(&x, p, 80);
    flow_init(&y, p, 53);
    tcp_send(&x, 0, req1, T0);
    tcp_send(&x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", T0 + 250 * MS);
    udp_send(&y, 0, dns_query, sizeof(dns_query), T0);
    udp_send(&y, 1, dns_response, sizeof(dns_response), T0 + 12 * MS);

    json_t *rec = json_object();
    app_json(p, x.h, rec);
    json_t *h = json_array_get(json_object_get(rec, "http"), 0);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(json_string_value(json_object_get(h, "method")), "GET");
    ck_assert_str_eq(json_string_value(json_object_get(h, "host")), "example.com");
    ck_assert_int_eq(json_integer_value(json_object_get(h, "status_code")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(h, "response_body_len")), 2);
    ck_assert_double_eq_tol(json_real_value(json_object_get(h, "latency")), 0.25, 1e-9);
    ck_assert_ptr_null(json_object_get(rec, "dns"));
    json_decref(rec);

    rec = json_object();
    app_json(p, y.h, rec);
    json_t *d = json_array_get(json_object_get(rec, "dns"), 0);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(json_string_value(json_object_get(d, "query")), "example.com");
    ck_assert_str_eq(json_string_value(json_object_get(d, "rcode_name")), "NOERROR");
    json_t *an = json_array_get(json_object_get(d, "answers"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(an, "data")), "93.184.216.34");
    ck_assert_int_eq(json_integer_value(json_object_get(an, "ttl")), 3600);
    ck_assert_double_eq_tol(json_real_value(json_object_get(d, "rtt")), 0.012, 1e-9);
    json_decref(rec);

    rec = json_object();
    app_json(p, 0, rec);
    ck_assert_uint_eq(json_object_size(rec), 0);
    json_decref(rec);
    ns_app_pool_destroy(&p);
}
END_TEST

static Suite *
flow_app_suite(void)
{
    Suite *s = suite_create("flow_app");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, http_request_response);
    tcase_add_test(tc, http_keep_alive_two_transactions);
    tcase_add_test(tc, http_pipelined);
    tcase_add_test(tc, http_header_split_across_segments);
    tcase_add_test(tc, http_every_split_point);
    tcase_add_test(tc, http_chunked);
    tcase_add_test(tc, http_until_close_and_midstream);
    tcase_add_test(tc, dns_query_answer_latency);
    tcase_add_test(tc, dns_unanswered_and_resend);
    tcase_add_test(tc, dns_over_tcp_split);
    tcase_add_test(tc, json_records);
    suite_add_tcase(s, tc);

    tc = tcase_create("reassembly");
    tcase_add_test(tc, http_retransmission_not_duplicated);
    tcase_add_test(tc, http_gap_in_body_stays_in_step);
    tcase_add_test(tc, http_gap_in_head_resyncs);
    tcase_add_test(tc, http_gap_then_continuation_skipped);
    tcase_add_test(tc, http_out_of_window_ignored);
    tcase_add_test(tc, http_sequence_wrap);
    tcase_add_test(tc, http_head_overflow);
    tcase_add_test(tc, dns_over_tcp_oversize_skipped);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, http_string_and_tx_bounds);
    tcase_add_test(tc, dns_bounds);
    tcase_add_test(tc, tcp_not_http_takes_no_slot);
    tcase_add_test(tc, pool_full_refuses);
    tcase_add_test(tc, random_streams);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_test(tc, pool_lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(flow_app_suite)

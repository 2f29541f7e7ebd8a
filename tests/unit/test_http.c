/* test_http.c - unit tests for the HTTP/1.x decoder (core/decode/http.c). */
#include "testutil_l4.h"

#include <stdio.h>
#include "runner.h"

/* ---- fixtures --------------------------------------------------------------------------- */

static const char req[] = "GET /index.html?q=1 HTTP/1.1\r\n"      /* request line */
                          "host:  www.example.com \r\n"           /* lower-case name, OWS */
                          "User-Agent: curl/7.88.1\r\n"           /* */
                          "Accept: */*\r\n"                       /* not kept */
                          "CONTENT-LENGTH: 42\r\n"                /* upper-case name */
                          "\r\n"                                  /* end of the head */
                          "body";                                 /* not examined */

static const char resp[] = "HTTP/1.1 404 Not Found\r\n"            /* status line */
                           "Content-Type: text/html; charset=utf-8\r\n"
                           "Content-Length: 0\r\n"
                           "\r\n";

/* Ethernet + IPv4 + TCP 80 -> 49153 carrying the response above (89 bytes). */
static uint8_t frame_resp[14 + 20 + 20 + sizeof(resp) - 1];

static void
build_frame_resp(void)
{
    static const uint8_t hdr[] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth */
        0x08, 0x00,                                                             /* IPv4 */
        0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00, /* IPv4, total length set below */
        0x40, 0x06, 0x00, 0x00,                         /* TTL 64, TCP */
        0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, /* 10.0.0.2 -> 10.0.0.1 */
        0x00, 0x50, 0xc0, 0x01, 0x00, 0x00, 0x00, 0x01, /* TCP 80 -> 49153, seq 1 */
        0x00, 0x00, 0x04, 0x04, 0x50, 0x18, 0x01, 0x00, /* ack, doff 5, PSH|ACK */
        0x00, 0x00, 0x00, 0x00,                         /* checksum, urgent pointer */
    };
    memcpy(frame_resp, hdr, sizeof(hdr));
    memcpy(frame_resp + sizeof(hdr), resp, sizeof(resp) - 1);
    uint16_t ip_len = (uint16_t)(sizeof(frame_resp) - 14);
    frame_resp[16] = (uint8_t)(ip_len >> 8);
    frame_resp[17] = (uint8_t)ip_len;
}

/* Ethernet + IPv4 + UDP 1900: an SSDP M-SEARCH. */
static const char ssdp[] = "M-SEARCH * HTTP/1.1\r\n"
                           "HOST: 239.255.255.250:1900\r\n"
                           "MAN: \"ssdp:discover\"\r\n"
                           "MX: 1\r\n"
                           "ST: ssdp:all\r\n"
                           "\r\n";

/* Run ns_decode_http over `s` as a TCP payload of `declared` bytes (strlen when 0). */
static tl4_result_t *
run_http(const char *s, size_t cap, size_t declared)
{
    return tl4_run_ex(ns_decode_http, 4, NS_IPPROTO_TCP, 0, (const uint8_t *)s, cap,
                      (uint32_t)(declared ? declared : cap), true);
}

static bool
span_is(const tl4_result_t *r, ns_span_t sp, const char *want)
{
    return sp.len == strlen(want) && memcmp(r->copy + sp.off, want, sp.len) == 0;
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(request)
{
    tl4_result_t *r = run_http(req, strlen(req), 0);
    const ns_http_t *h = &r->pkt.http;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_HTTP);
    ck_assert_uint_eq(h->kind, NS_HTTP_REQUEST);
    ck_assert(span_is(r, h->method, "GET"));
    ck_assert(span_is(r, h->uri, "/index.html?q=1"));
    ck_assert(span_is(r, h->version, "HTTP/1.1"));
    ck_assert(span_is(r, h->host, "www.example.com"));
    ck_assert(span_is(r, h->user_agent, "curl/7.88.1"));
    ck_assert_uint_eq(h->content_type.len, 0);
    ck_assert_int_eq(h->content_length, 42);
    ck_assert(h->headers_complete);
    ck_assert_uint_eq(h->header_len, strlen(req) - 4);
    ck_assert_uint_eq(r->cur.off, strlen(req) - 4); /* the cursor is left at the body */
    ck_assert_uint_eq(tl4_uint(r, "http.request", 0), 1);
    ck_assert(tl4_str_is(r, "http.request.method", 0, "GET"));
    ck_assert(tl4_str_is(r, "http.request.uri", 0, "/index.html?q=1"));
    ck_assert(tl4_str_is(r, "http.request.version", 0, "HTTP/1.1"));
    ck_assert(tl4_str_is(r, "http.host", 0, "www.example.com"));
    ck_assert(tl4_str_is(r, "http.user_agent", 0, "curl/7.88.1"));
    ck_assert_uint_eq(tl4_uint(r, "http.content_length", 0), 42);
    ck_assert_ptr_null(tl4_field(r, "http.content_type", 0));
    ck_assert_ptr_null(tl4_field(r, "http.response", 0));
    tl4_free(r);
}
END_TEST

START_TEST(response)
{
    tl4_result_t *r = run_http(resp, strlen(resp), 0);
    const ns_http_t *h = &r->pkt.http;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(h->kind, NS_HTTP_RESPONSE);
    ck_assert_uint_eq(h->status, 404);
    ck_assert(span_is(r, h->version, "HTTP/1.1"));
    ck_assert(span_is(r, h->reason, "Not Found"));
    ck_assert(span_is(r, h->content_type, "text/html; charset=utf-8"));
    ck_assert_int_eq(h->content_length, 0);
    ck_assert_uint_eq(h->method.len, 0);
    ck_assert_uint_eq(tl4_uint(r, "http.response", 0), 1);
    ck_assert(tl4_str_is(r, "http.response.version", 0, "HTTP/1.1"));
    ck_assert_uint_eq(tl4_uint(r, "http.response.code", 0), 404);
    ck_assert(tl4_str_is(r, "http.response.phrase", 0, "Not Found"));
    ck_assert(tl4_str_is(r, "http.content_type", 0, "text/html; charset=utf-8"));
    ck_assert_uint_eq(tl4_uint(r, "http.content_length", 0), 0);
    tl4_free(r);
}
END_TEST

START_TEST(extra_spaces_in_request_line)
{
    static const char s[] = "GET    /a   HTTP/1.1 \r\nHost: h\r\n\r\n";
    tl4_result_t *r = run_http(s, strlen(s), 0);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(span_is(r, r->pkt.http.uri, "/a"));
    ck_assert(span_is(r, r->pkt.http.version, "HTTP/1.1"));
    ck_assert(span_is(r, r->pkt.http.host, "h"));
    tl4_free(r);
}
END_TEST

START_TEST(bare_lf_and_empty_reason)
{
    static const char s[] = "HTTP/1.0 204\nServer: x\n\n";
    tl4_result_t *r = run_http(s, strlen(s), 0);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.http.status, 204);
    ck_assert_uint_eq(r->pkt.http.reason.len, 0);
    ck_assert(r->pkt.http.headers_complete);
    ck_assert_uint_eq(r->pkt.http.header_len, strlen(s));
    tl4_free(r);
}
END_TEST

START_TEST(methods)
{
    /* Every method http.c knows. */
    static const char *const ok[] = {"GET",      "POST",      "HEAD",        "PUT",
                                     "DELETE",   "OPTIONS",   "CONNECT",     "PATCH",
                                     "TRACE",    "NOTIFY",    "M-SEARCH",    "SUBSCRIBE",
                                     "UNSUBSCRIBE", "PROPFIND", "PROPPATCH", "MKCOL",
                                     "COPY",     "MOVE",      "LOCK",        "UNLOCK",
                                     "REPORT",   "SEARCH",    "MKCALENDAR"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char s[128];
        int n = snprintf(s, sizeof(s), "%s /x HTTP/1.1\r\n\r\n", ok[i]);
        tl4_result_t *r = run_http(s, (size_t)n, 0);
        ck_assert_msg(r->rc == NS_PARSE_OK, "%s", ok[i]);
        ck_assert(span_is(r, r->pkt.http.method, ok[i]));
        tl4_free(r);
    }
}
END_TEST

START_TEST(head_split_across_segments)
{
    /* The first segment ends inside the headers: ns_http_parse says TRUNCATED and fills in
     * what it saw; per packet that is ordinary TCP segmentation, so OK. */
    size_t cut = strlen("GET /index.html?q=1 HTTP/1.1\r\nhost:  www.example.com \r\nUser-Ag");
    tl4_result_t *r = run_http(req, cut, 0);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_HTTP);
    ck_assert(!r->pkt.http.headers_complete);
    ck_assert(span_is(r, r->pkt.http.uri, "/index.html?q=1"));
    ck_assert(span_is(r, r->pkt.http.host, "www.example.com"));
    ck_assert_uint_eq(r->pkt.http.user_agent.len, 0);
    ck_assert_int_eq(r->pkt.http.content_length, -1);
    tl4_free(r);

    uint8_t *b = malloc(cut);
    memcpy(b, req, cut);
    ns_cur_t c;
    ns_cur_init(&c, b, (uint32_t)cut);
    ns_http_t h;
    ck_assert_int_eq(ns_http_parse(&c, &h, NULL), NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(h.kind, NS_HTTP_REQUEST);
    free(b);

    /* The same bytes cut by the snaplen: TRUNCATED. */
    r = run_http(req, cut, strlen(req));
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    tl4_free(r);
}
END_TEST

START_TEST(content_length_values)
{
    static const struct {
        const char *hdrs;
        int64_t want;
    } cases[] = {
        {"Content-Length: 123\r\n", 123},
        {"Content-Length:7\r\n", 7},
        {"Content-Length: -1\r\n", -1},
        {"Content-Length: +5\r\n", -1},
        {"Content-Length: 99999999999999999999999\r\n", -1},
        {"Content-Length: 12ab\r\n", -1},
        {"Content-Length: \r\n", -1},
        {"Content-Length: 5\r\nContent-Length: 5\r\n", 5},
        {"Content-Length: 5\r\nContent-Length: 6\r\n", -1},
        {"X-Content-Length: 5\r\n", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char s[256];
        int n = snprintf(s, sizeof(s), "POST / HTTP/1.1\r\n%s\r\n", cases[i].hdrs);
        tl4_result_t *r = run_http(s, (size_t)n, 0);
        ck_assert_int_eq(r->rc, NS_PARSE_OK);
        ck_assert_msg(r->pkt.http.content_length == cases[i].want, "case %zu", i);
        tl4_free(r);
    }
}
END_TEST

START_TEST(header_lines_bounded)
{
    /* 1000 header lines and no end: examined up to a cap, no hang, not an error. */
    size_t n = 0, cap = 1000 * 8 + 64;
    char *s = malloc(cap);
    n += (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(s + n, cap - n, "X: %03d\r\n", i);
    tl4_result_t *r = run_http(s, n, 0);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(!r->pkt.http.headers_complete);
    tl4_free(r);
    free(s);
}
END_TEST

/* Header names against a reference: each kept name with every letter's case chosen at random,
 * and with one byte replaced by a look-alike (the neighbours of 'A'..'Z' and 'a'..'z', the
 * byte with bit 7 or bit 5 flipped); only exact case-insensitive matches are kept. The names
 * sit at every offset of an 8-byte word (the compare reads them a word at a time), near the
 * end of the buffer and far from it (two ways of comparing), and some colons are 0x1a. */
START_TEST(header_name_case)
{
    static const char *const names[] = {"host", "user-agent", "content-type", "content-length"};
    uint64_t seed = 7;
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t n = strlen(names[k]);
        for (uint32_t trial = 0; trial < 400; trial++) {
            char name[32];
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                char ch = names[k][i];
                name[i] = (ch >= 'a' && ch <= 'z' && (seed >> 40) & 1) ? (char)(ch - 32) : ch;
            }
            bool same = true;
            if (trial % 2) { /* a look-alike at one position */
                static const uint8_t swaps[] = {'@', '[', '`', '{', 0x80, 0x20};
                size_t at = (size_t)(seed >> 20) % n;
                uint8_t sw = swaps[(seed >> 12) % sizeof(swaps)];
                uint8_t b = (uint8_t)name[at];
                name[at] = (char)(sw >= 0x80 ? b ^ 0x80 : sw == 0x20 ? b ^ 0x20 : sw);
                uint8_t lo = (uint8_t)name[at] >= 'A' && (uint8_t)name[at] <= 'Z'
                                 ? (uint8_t)(name[at] + 32)
                                 : (uint8_t)name[at];
                same = lo == (uint8_t)names[k][at];
            }
            /* The colon, or its look-alike with bit 5 clear (0x1a). */
            char colon = trial % 5 == 4 ? '\x1a' : ':';
            bool want = same && colon == ':';
            /* The line near the end of the buffer (names compared byte by byte), and with
             * another line after it (compared a word at a time). */
            for (int more = 0; more < 2; more++) {
                char req_s[160];
                uint32_t pad = trial % 8; /* where the name starts within a word */
                int len = snprintf(req_s, sizeof(req_s),
                                   "GET /%.*s HTTP/1.1\r\n%.*s%c 7\r\n%s\r\n", (int)pad,
                                   "abcdefgh", (int)n, name, colon,
                                   more ? "X-Padding: 0123456789abcdef\r\n" : "");
                tl4_result_t *r = run_http(req_s, (size_t)len, 0);
                ck_assert_int_eq(r->rc, NS_PARSE_OK);
                const ns_http_t *h = &r->pkt.http;
                bool kept = k == 0   ? h->host.len == 1
                            : k == 1 ? h->user_agent.len == 1
                            : k == 2 ? h->content_type.len == 1
                                     : h->content_length == 7;
                ck_assert_msg(kept == want, "%s as \"%.*s%c\" (more %d): kept %d", names[k],
                              (int)n, name, colon, more, kept);
                tl4_free(r);
            }
        }
    }
}
END_TEST

START_TEST(frame_response)
{
    build_frame_resp();
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_resp, sizeof(frame_resp));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_HTTP);
    ck_assert_uint_eq(r->pkt.http.status, 404);
    ck_assert_uint_eq(r->pkt.http.reason.off, 54 + 13);
    ck_assert(tu_str_is(r, "http.response.phrase", 0, "Not Found"));
    tu_free(r);
}
END_TEST

START_TEST(frame_ssdp)
{
    uint8_t f[14 + 20 + 8 + sizeof(ssdp) - 1];
    static const uint8_t hdr[] = {
        0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth */
        0x08, 0x00,                                                             /* IPv4 */
        0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* IPv4, length set below */
        0x01, 0x11, 0x00, 0x00,                         /* TTL 1, UDP */
        0x0a, 0x00, 0x00, 0x02, 0xef, 0xff, 0xff, 0xfa, /* -> 239.255.255.250 */
        0xc0, 0x02, 0x07, 0x6c, 0x00, 0x00, 0x00, 0x00, /* UDP 49154 -> 1900, length below */
    };
    memcpy(f, hdr, sizeof(hdr));
    memcpy(f + sizeof(hdr), ssdp, sizeof(ssdp) - 1);
    uint16_t ip_len = (uint16_t)(sizeof(f) - 14), udp_len = (uint16_t)(ip_len - 20);
    f[16] = (uint8_t)(ip_len >> 8), f[17] = (uint8_t)ip_len;
    f[38] = (uint8_t)(udp_len >> 8), f[39] = (uint8_t)udp_len;
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f, sizeof(f));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_HTTP);
    ck_assert(tu_str_is(r, "http.request.method", 0, "M-SEARCH"));
    ck_assert(tu_str_is(r, "http.request.uri", 0, "*"));
    ck_assert(tu_str_is(r, "http.host", 0, "239.255.255.250:1900"));
    tu_free(r);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncation_sweep)
{
    build_frame_resp();
    /* From 55 bytes on (one payload byte): TRUNCATED until the empty line is in. At 54 the
     * dispatcher offers no decoder a payload of which nothing was captured: OK. */
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_resp, sizeof(frame_resp), 54);
    for (size_t n = 55; n < sizeof(frame_resp); n++) {
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_resp, n);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        ck_assert_uint_eq(r->pkt.err_layer, NS_LAYER_HTTP);
        tu_free(r);
    }
    tl4_truncation_sweep(ns_decode_http, 4, NS_IPPROTO_TCP, (const uint8_t *)req, strlen(req),
                         strlen(req) - 4);
}
END_TEST

/* ---- invalid and unsupported ------------------------------------------------------------ */

START_TEST(not_http)
{
    static const char *const no[] = {"Hello world\r\n", "GETX / HTTP/1.1\r\n",
                                     "RTSP/1.0 200 OK\r\n", "get / HTTP/1.1\r\n",
                                     "\x16\x03\x01\x02\x00"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        tl4_result_t *r = run_http(no[i], strlen(no[i]), 0);
        ck_assert_msg(r->rc == NS_PARSE_UNSUPPORTED, "case %zu", i);
        ck_assert_uint_eq(r->pkt.app, NS_APP_NONE);
        ck_assert_uint_eq(r->f.n, 0);
        tl4_free(r);
    }
}
END_TEST

START_TEST(too_short_to_tell)
{
    tl4_result_t *r = run_http("GE", 2, 0);
    ck_assert_int_eq(r->rc, NS_PARSE_OK); /* might be a GET continuing in the next segment */
    ck_assert_uint_eq(r->pkt.app, NS_APP_NONE);
    tl4_free(r);
}
END_TEST

START_TEST(malformed_start_lines)
{
    static const char *const bad[] = {
        "GET /\r\n\r\n",                  /* HTTP/0.9 style: no version */
        "GET  HTTP/1.1\r\n\r\n",          /* no target */
        "GET / HTTP/1.1 extra\r\n\r\n",   /* trailing garbage */
        "GET / HTTP/2.0\r\n\r\n",         /* not HTTP/1.x */
        "GET /a\x01z HTTP/1.1\r\n\r\n",   /* control byte in the target */
        "HTTP/1.1 20 OK\r\n\r\n",         /* two-digit status */
        "HTTP/1.1 2000 OK\r\n\r\n",       /* four-digit status */
        "HTTP/1.1 abc OK\r\n\r\n",        /* not a number */
        "HTTP/1.1\r\n\r\n",               /* no status at all */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl4_result_t *r = run_http(bad[i], strlen(bad[i]), 0);
        ck_assert_msg(r->rc == NS_PARSE_INVALID, "case %zu: rc %d", i, r->rc);
        tl4_free(r);
    }
}
END_TEST

/* The request target against a plain reference: for targets of 1..40 bytes at two
 * alignments, a probe byte at each position leaves the line OK (the target kept whole)
 * unless it is a control byte or DEL, which makes it INVALID; bytes from 0x80 up pass (spaces:
 * extra_spaces_in_request_line). RTSP keeps its answer, UNSUPPORTED, with a control byte in
 * its target. */
START_TEST(request_target_bytes)
{
    static const uint8_t probes[] = {0x00, 0x01, 0x09, 0x0d, 0x1f, 0x21, 0x2f, 0x41,
                                     0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xa1, 0xfe, 0xff};
    for (uint32_t lead = 0; lead < 2; lead++) {
        for (uint32_t n = 1; n <= 40; n++) {
            for (uint32_t at = 0; at < n; at++) {
                for (size_t k = 0; k < sizeof(probes); k++) {
                    uint8_t b = probes[k];
                    char s[128];
                    uint32_t len = 0;
                    memcpy(s, lead ? "POST " : "GET ", lead ? 5 : 4);
                    len += lead ? 5 : 4;
                    uint32_t target = len;
                    for (uint32_t i = 0; i < n; i++)
                        s[len++] = i == at ? (char)b : (char)('a' + i % 26);
                    static const char tail[] = " HTTP/1.1\r\n\r\n";
                    memcpy(s + len, tail, sizeof(tail) - 1);
                    len += (uint32_t)sizeof(tail) - 1;
                    tl4_result_t *r = run_http(s, len, 0);
                    bool bad = b < 0x21 || b == 0x7f;
                    if (!bad) {
                        ck_assert_msg(r->rc == NS_PARSE_OK, "n %u at %u byte %02x: rc %d", n,
                                      at, b, r->rc);
                        ck_assert_uint_eq(r->pkt.http.uri.off, target);
                        ck_assert_uint_eq(r->pkt.http.uri.len, n);
                    } else {
                        ck_assert_msg(r->rc == NS_PARSE_INVALID, "n %u at %u byte %02x: rc %d",
                                      n, at, b, r->rc);
                    }
                    tl4_free(r);
                }
            }
        }
    }
    static const char rtsp[] = "OPTIONS rtsp://h/a\x01b RTSP/1.0\r\n\r\n";
    tl4_result_t *r = run_http(rtsp, strlen(rtsp), 0);
    ck_assert_int_eq(r->rc, NS_PARSE_UNSUPPORTED);
    tl4_free(r);
}
END_TEST

static Suite *
http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, request);
    tcase_add_test(tc, response);
    tcase_add_test(tc, bare_lf_and_empty_reason);
    tcase_add_test(tc, extra_spaces_in_request_line);
    tcase_add_test(tc, methods);
    tcase_add_test(tc, request_target_bytes);
    tcase_add_test(tc, head_split_across_segments);
    tcase_add_test(tc, content_length_values);
    tcase_add_test(tc, header_lines_bounded);
    tcase_add_test(tc, header_name_case);
    tcase_add_test(tc, frame_response);
    tcase_add_test(tc, frame_ssdp);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, not_http);
    tcase_add_test(tc, too_short_to_tell);
    tcase_add_test(tc, malformed_start_lines);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(http_suite)

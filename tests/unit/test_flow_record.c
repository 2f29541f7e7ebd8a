/* test_flow_record.c - flow_record.c: the HTTP and DNS arrays of a JSON record are the bytes
 * the jansson path wrote.
 *
 * ns_flow_record_write() writes a record's transactions directly. The reference is the path
 * it replaced: the object ns_app_to_json() builds (flow_app_json.c, jansson), dumped with
 * JSON_COMPACT | JSON_REAL_PRECISION(16) and spliced in after the flat members. Every test
 * builds records, writes them both ways and compares the lines byte for byte: fixed records
 * for each member and each branch (escapes, Unicode, text that is not UTF-8, empty and
 * missing strings, numbers at their limits), the largest record the codec accepts, and
 * random records.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_app_json.h"
#include "flow_record.h"
#include "runner.h"

#define T0 1700000000123456789ull

/* The line the jansson path wrote for `r`, in `out` (the caller frees out->buf). */
static void
reference_line(const ns_flow_record_extra_t *extra, const ns_flow_rec_t *r,
               ns_flow_record_buf_t *out)
{
    memset(out, 0, sizeof(*out));
    ck_assert_int_eq(ns_flow_record_write(out, r, extra, 0, 0), 0);
    ck_assert_uint_ge(out->len, 2);
    out->len -= 2; /* "}\n" */
    json_t *o = json_object();
    ns_app_to_json(r, o);
    char *dump = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(16));
    ck_assert_ptr_nonnull(dump);
    size_t n = strlen(dump);
    if (n > 2) { /* "{...}" -> ",..." */
        char *p = realloc(out->buf, out->len + n + 2);
        ck_assert_ptr_nonnull(p);
        out->buf = p;
        out->buf[out->len++] = ',';
        memcpy(out->buf + out->len, dump + 1, n - 2);
        out->len += n - 2;
    } else {
        char *p = realloc(out->buf, out->len + 2);
        ck_assert_ptr_nonnull(p);
        out->buf = p;
    }
    out->buf[out->len++] = '}';
    out->buf[out->len++] = '\n';
    free(dump);
    json_decref(o);
}

/* Write `r` both ways and compare; returns the new line's length. */
static size_t
check_same(const ns_flow_rec_t *r)
{
    ns_flow_record_extra_t extra = {.agent = "ag0", .received_ns = T0};
    ns_flow_record_buf_t want, got = {0};
    reference_line(&extra, r, &want);
    ck_assert_int_eq(ns_flow_record_write(&got, r, &extra, 0, 1), 0);
    size_t at = 0;
    while (at < got.len && at < want.len && got.buf[at] == want.buf[at])
        at++;
    if (at < got.len || at < want.len) { /* show the first difference, from 60 bytes before */
        size_t from = at > 60 ? at - 60 : 0;
        int wn = (int)(want.len - from < 120 ? want.len - from : 120);
        int gn = (int)(got.len - from < 120 ? got.len - from : 120);
        ck_abort_msg("differs at byte %zu:\n want ...%.*s\n got  ...%.*s", at, wn, want.buf + from,
                     gn, got.buf + from);
    }
    size_t len = got.len;
    ns_flow_record_buf_fini(&want);
    ns_flow_record_buf_fini(&got);
    return len;
}

static void
base_rec(ns_flow_rec_t *r)
{
    memset(r, 0, sizeof(*r));
    strcpy(r->uid, "CAbCdEfGhIjKlMnOp");
    r->ip_ver = 4;
    r->proto = 6;
    r->is_tcp = true;
    r->orig_h.b[0] = 10;
    r->orig_h.b[3] = 1;
    r->resp_h.b[0] = 10;
    r->resp_h.b[3] = 2;
    r->orig_p = 40000;
    r->resp_p = 80;
    r->first_ns = T0;
    r->last_ns = T0 + 250000000;
    r->kind = NS_FLOW_REC_FINAL;
    strcpy(r->conn_state, "SF");
    strcpy(r->history, "ShADadFf");
}

static ns_app_http_tx_t
http_tx(uint32_t seq)
{
    ns_app_http_tx_t t = {.seq = seq,
                          .method = "GET",
                          .host = "example.com",
                          .uri = "/index.html?a=1&b=2",
                          .user_agent = "curl/8.0",
                          .has_request = true,
                          .has_response = true,
                          .status = 200,
                          .req_body_len = 0,
                          .resp_body_len = 1234,
                          .req_ts_ns = T0 + 1000,
                          .resp_ts_ns = T0 + 251000,
                          .latency_ns = 250000};
    return t;
}

static ns_app_dns_tx_t
dns_tx(uint16_t id, const ns_dns_answer_t *answers, uint8_t n)
{
    ns_app_dns_tx_t t = {.id = id,
                         .qname = "www.example.com",
                         .qtype = 1,
                         .has_query = true,
                         .answered = true,
                         .rcode = 0,
                         .n_answers = n,
                         .ancount = n,
                         .answers = answers,
                         .query_ts_ns = T0 + 5,
                         .resp_ts_ns = T0 + 12000005,
                         .latency_ns = 12000000};
    return t;
}

static ns_dns_answer_t
answer(uint16_t type, uint32_t ttl, const void *data, uint8_t len)
{
    ns_dns_answer_t a = {.type = type, .rclass = 1, .ttl = ttl, .data_len = len};
    memcpy(a.data, data, len);
    return a;
}

/* ---- valid --------------------------------------------------------------------------------- */

START_TEST(no_transactions)
{
    ns_flow_rec_t r;
    base_rec(&r);
    check_same(&r);
    r.http_total = 3; /* counted, none carried: nothing is written */
    check_same(&r);
}
END_TEST

START_TEST(http_members)
{
    ns_flow_rec_t r;
    base_rec(&r);
    ns_app_http_tx_t h[6];
    for (uint32_t i = 0; i < 6; i++)
        h[i] = http_tx(i + 1);
    h[1].has_response = false; /* no status_code */
    h[1].latency_ns = -1;
    h[2].has_request = false; /* no ts, request_missing */
    h[2].method = NULL;
    h[2].uri = "";
    h[3].chunked_req = h[3].chunked_resp = h[3].truncated = true;
    h[3].req_body_len = UINT64_MAX; /* json_int_t: -1 */
    h[3].resp_body_len = (uint64_t)INT64_MAX + 1;
    h[4].req_ts_ns = UINT64_MAX - 5; /* a negative time */
    h[4].latency_ns = 0;
    h[5].latency_ns = 10000; /* 1e-05 s: an exponent */
    h[5].req_ts_ns = 0;
    h[5].status = 999;
    r.http = h;
    r.n_http = 6;
    check_same(&r);
    r.http_total = 9; /* http_tx_total */
    check_same(&r);
}
END_TEST

START_TEST(dns_members)
{
    ns_flow_rec_t r;
    base_rec(&r);
    r.is_tcp = false;
    r.proto = 17;
    static const uint8_t v4[4] = {93, 184, 216, 34};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const char cname[] = "edge.example.net";
    static const uint8_t nul[5] = {'a', 0, 'b', 0x1f, '"'};
    ns_dns_answer_t an[4] = {answer(1, 3600, v4, 4), answer(28, 60, v6, 16),
                             answer(5, 0xffffffffu, cname, sizeof(cname) - 1),
                             answer(65000, 1, nul, sizeof(nul))};
    ns_dns_answer_t odd[4] = {answer(1, 1, v6, 16), /* A with 16 bytes: text, not UTF-8 */
                              answer(28, 1, v4, 4), answer(16, 1, "", 0),
                              answer(99, 7, "\xe6\x97\xa5", 3)};
    ns_app_dns_tx_t d[7];
    d[0] = dns_tx(1, an, 4);
    d[1] = dns_tx(2, odd, 4);
    d[1].ancount = 9; /* answers_total */
    d[1].rcode = 3;
    d[2] = dns_tx(3, NULL, 0); /* answered, no answers: "answers":[] */
    d[2].rcode = 4000;         /* no rcode_name */
    d[2].qtype = 0;            /* no qtype */
    d[3] = dns_tx(4, NULL, 0);
    d[3].answered = false; /* unanswered */
    d[3].latency_ns = -1;
    d[3].retries = 255;
    d[3].tcp = true;
    d[4] = dns_tx(65535, an, 1);
    d[4].has_query = false; /* no ts, query_missing */
    d[4].qname = "";
    d[4].truncated = true;
    d[5] = dns_tx(6, an, 2);
    d[5].qtype = 65535; /* qtype without a name */
    d[5].qname = NULL;
    d[6] = dns_tx(7, an, 3);
    d[6].query_ts_ns = UINT64_MAX;
    r.dns = d;
    r.n_dns = 7;
    check_same(&r);
    r.dns_total = 12;
    r.dns_unanswered = 4;
    check_same(&r);
    /* both arrays in one record, with an HTTP transaction first */
    ns_app_http_tx_t h = http_tx(1);
    r.http = &h;
    r.n_http = 1;
    r.http_total = 2;
    check_same(&r);
}
END_TEST

/* Quote, backslash, every control character, DEL, '/', multi-byte UTF-8, and text that is
 * not UTF-8 (jansson leaves such a member out). */
START_TEST(escapes_and_unicode)
{
    static const char *const texts[] = {
        "plain",
        "a\"quoted\" \\back\\slash/",
        "\b\f\n\r\t",
        "\x01\x02\x1e\x1f\x7f end",
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
        "\xef\xbf\xbf \xf4\x8f\xbf\xbf", /* U+FFFF, U+10FFFF */
        "\xff",                          /* not UTF-8 from here on */
        "\xc0\x80",                      /* overlong NUL */
        "\xe0\x80\xaf",                  /* overlong '/' */
        "\xed\xa0\x80",                  /* a surrogate */
        "\xf4\x90\x80\x80",              /* above U+10FFFF */
        "\xe6\x97",                      /* cut short */
        "ok \x80",                       /* a lone continuation byte */
        "\xc3\x28",                      /* a lead byte without its continuation */
    };
    size_t nt = sizeof(texts) / sizeof(texts[0]);
    ns_flow_rec_t r;
    base_rec(&r);
    ns_app_http_tx_t h[sizeof(texts) / sizeof(texts[0])];
    ns_app_dns_tx_t d[sizeof(texts) / sizeof(texts[0])];
    ns_dns_answer_t a[sizeof(texts) / sizeof(texts[0])];
    for (size_t i = 0; i < nt; i++) {
        h[i] = http_tx((uint32_t)i);
        h[i].method = texts[i];
        h[i].host = texts[(i + 1) % nt];
        h[i].uri = texts[(i + 2) % nt];
        h[i].user_agent = texts[(i + 3) % nt];
        a[i] = answer(16, 1, texts[i], (uint8_t)strlen(texts[i]));
        d[i] = dns_tx((uint16_t)i, &a[i], 1);
        d[i].qname = texts[i];
    }
    r.http = h;
    r.n_http = (uint32_t)nt;
    r.dns = d;
    r.n_dns = (uint32_t)nt;
    check_same(&r);
}
END_TEST

/* The largest record the codec accepts: NS_APP_MAX_TX transactions of each kind, strings of
 * NS_APP_MAX_STR_LEN bytes, every answer full. */
START_TEST(maximal_record)
{
    static char str[NS_APP_MAX_STR_LEN + 1];
    for (size_t i = 0; i < NS_APP_MAX_STR_LEN; i++)
        str[i] = (char)(i % 10 == 9 ? '"' : 'a' + (int)(i % 26));
    ns_app_http_tx_t *h = calloc(NS_APP_MAX_TX, sizeof(*h));
    ns_app_dns_tx_t *d = calloc(NS_APP_MAX_TX, sizeof(*d));
    ns_dns_answer_t *a = calloc(NS_APP_DNS_ANSWERS, sizeof(*a));
    ck_assert(h && d && a);
    for (unsigned i = 0; i < NS_APP_DNS_ANSWERS; i++)
        a[i] = answer(16, 86400, str, NS_DNS_RDATA_MAX);
    for (uint32_t i = 0; i < NS_APP_MAX_TX; i++) {
        h[i] = http_tx(i);
        h[i].method = h[i].host = h[i].uri = h[i].user_agent = str;
        d[i] = dns_tx((uint16_t)i, a, NS_APP_DNS_ANSWERS);
        d[i].qname = str;
    }
    ns_flow_rec_t r;
    base_rec(&r);
    r.http = h;
    r.n_http = NS_APP_MAX_TX;
    r.dns = d;
    r.n_dns = NS_APP_MAX_TX;
    r.http_total = r.dns_total = UINT32_MAX;
    r.dns_unanswered = UINT32_MAX;
    ck_assert_uint_gt(check_same(&r), (size_t)NS_APP_MAX_TX * 5 * NS_APP_MAX_STR_LEN);
    free(h);
    free(d);
    free(a);
}
END_TEST

/* ---- random records --------------------------------------------------------------------- */

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A number that is often at an edge: 0, 1, a power of ten, near a type's limit. */
static uint64_t
rnd_num(uint64_t *s)
{
    static const uint64_t edges[] = {0,          1,         9,          10,
                                     999,        1000,      999999999,  1000000000,
                                     UINT32_MAX, INT64_MAX, UINT64_MAX, (uint64_t)INT64_MAX + 1,
                                     T0,         T0 + 1,    1ull << 53, (1ull << 53) + 1};
    uint64_t k = rnd(s);
    switch (k % 4) {
    case 0:
        return edges[(k >> 8) % (sizeof(edges) / sizeof(edges[0]))];
    case 1:
        return rnd(s) % 100000000000ull; /* up to 100 s in ns */
    case 2:
        return T0 + rnd(s) % 1000000000000ull;
    default:
        return rnd(s);
    }
}

/* Text of up to `max` bytes drawn mostly from ASCII, with escapes and UTF-8 (valid or not). */
static void
rnd_text(uint64_t *s, char *out, size_t max)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         "/",
                                         " ",
                                         "\"",
                                         "\\",
                                         "\n",
                                         "\x01",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x8d\x95",
                                         "\xff",
                                         "\xc3",
                                         "\xed\xa0\x80"};
    size_t n = 0, want = rnd(s) % (max + 1);
    /* most texts are valid: invalid pieces only in one text of four */
    size_t np = rnd(s) % 4 == 0 ? sizeof(pieces) / sizeof(pieces[0]) : 13;
    while (n < want) {
        const char *p = pieces[rnd(s) % np];
        size_t len = strlen(p);
        if (n + len > max)
            break;
        memcpy(out + n, p, len);
        n += len;
    }
    out[n] = '\0';
}

START_TEST(random_records)
{
    enum { RECORDS = 3000, TX = 6, TEXT = 24 };
    static char text[RECORDS][TX * 5][TEXT + 1];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (unsigned k = 0; k < RECORDS; k++) {
        ns_flow_rec_t r;
        ns_app_http_tx_t h[TX];
        ns_app_dns_tx_t d[TX];
        ns_dns_answer_t a[TX][NS_APP_DNS_ANSWERS];
        base_rec(&r);
        unsigned t = 0;
        r.n_http = (uint32_t)(rnd(&seed) % (TX + 1));
        r.n_dns = (uint32_t)(rnd(&seed) % (TX + 1));
        for (uint32_t i = 0; i < r.n_http; i++) {
            uint64_t f = rnd(&seed);
            h[i] = (ns_app_http_tx_t){.seq = (uint32_t)rnd_num(&seed),
                                      .truncated = f & 1,
                                      .has_request = f & 2,
                                      .has_response = f & 4,
                                      .chunked_req = f & 8,
                                      .chunked_resp = f & 16,
                                      .status = (uint16_t)(rnd(&seed) % 1000),
                                      .req_body_len = rnd_num(&seed),
                                      .resp_body_len = rnd_num(&seed),
                                      .req_ts_ns = rnd_num(&seed),
                                      .latency_ns = f & 32 ? -1 : (int64_t)(rnd_num(&seed) >> 1)};
            const char **strs[4] = {&h[i].method, &h[i].host, &h[i].uri, &h[i].user_agent};
            for (unsigned j = 0; j < 4; j++) {
                rnd_text(&seed, text[k][t], TEXT);
                *strs[j] = f & (64u << j) ? NULL : text[k][t];
                t++;
            }
        }
        for (uint32_t i = 0; i < r.n_dns; i++) {
            uint64_t f = rnd(&seed);
            uint8_t na = (uint8_t)(rnd(&seed) % (NS_APP_DNS_ANSWERS + 1));
            for (unsigned j = 0; j < na; j++) {
                static const uint16_t types[] = {1, 28, 5, 2, 12, 15, 16, 33, 6, 0, 65535, 255};
                uint16_t type = types[rnd(&seed) % (sizeof(types) / sizeof(types[0]))];
                uint8_t len = (uint8_t)(rnd(&seed) % 3 == 0 ? (type == 28 ? 16 : 4)
                                                            : rnd(&seed) % (NS_DNS_RDATA_MAX + 1));
                a[i][j] = (ns_dns_answer_t){
                    .type = type, .ttl = (uint32_t)rnd_num(&seed), .data_len = len};
                for (unsigned b = 0; b < len; b++)
                    a[i][j].data[b] = (uint8_t)(rnd(&seed) % 5 == 0 ? rnd(&seed) : 'a' + b % 26);
            }
            rnd_text(&seed, text[k][t], TEXT);
            d[i] = (ns_app_dns_tx_t){.id = (uint16_t)rnd(&seed),
                                     .qname = f & 1 ? NULL : text[k][t],
                                     .qtype = (uint16_t)(f & 2 ? rnd(&seed) : rnd(&seed) % 40),
                                     .truncated = f & 4,
                                     .has_query = f & 8,
                                     .answered = f & 16,
                                     .tcp = f & 32,
                                     .rcode = (uint16_t)(rnd(&seed) % 20),
                                     .n_answers = na,
                                     .retries = (uint8_t)(f & 64 ? rnd(&seed) : 0),
                                     .ancount = (uint16_t)(rnd(&seed) % 8),
                                     .answers = na ? a[i] : NULL,
                                     .query_ts_ns = rnd_num(&seed),
                                     .latency_ns = f & 128 ? -1 : (int64_t)(rnd_num(&seed) >> 1)};
            t++;
        }
        r.http = h;
        r.dns = d;
        r.http_total = (uint32_t)(r.n_http + rnd(&seed) % 3);
        r.dns_total = (uint32_t)(r.n_dns + rnd(&seed) % 3);
        r.dns_unanswered = (uint32_t)(rnd(&seed) % 3);
        check_same(&r);
    }
}
END_TEST

/* ---- reals ----------------------------------------------------------------------------- */

/* The value of member `name` in a JSON line, as text. */
static void
member_text(const ns_flow_record_buf_t *b, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = memmem(b->buf, b->len, key, strlen(key));
    ck_assert_ptr_nonnull(p);
    p += strlen(key);
    size_t n = strcspn(p, ",}");
    ck_assert_uint_lt(n, cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* What jansson wrote for json_real(v) with JSON_REAL_PRECISION(16). */
static void
jansson_real(double v, char *out, size_t cap)
{
    json_t *j = json_real(v);
    ck_assert_ptr_nonnull(j);
    char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(16));
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_lt(strlen(d), cap);
    strcpy(out, d);
    free(d);
    json_decref(j);
}

static void
check_real(double bps, uint64_t first_ns)
{
    ns_flow_rec_t r;
    base_rec(&r);
    r.bps = bps;
    r.pps = bps / 8;
    r.first_ns = first_ns;
    r.last_ns = first_ns + 1000;
    ns_flow_record_buf_t b = {0};
    ck_assert_int_eq(ns_flow_record_write(&b, &r, NULL, 0, 0), 0);
    char got[64], want[64];
    member_text(&b, "bps", got, sizeof(got));
    jansson_real(bps, want, sizeof(want));
    ck_assert_msg(strcmp(got, want) == 0, "bps %.17g: %s, jansson %s", bps, got, want);
    member_text(&b, "pps", got, sizeof(got));
    jansson_real(bps / 8, want, sizeof(want));
    ck_assert_msg(strcmp(got, want) == 0, "pps %.17g: %s, jansson %s", bps / 8, got, want);
    member_text(&b, "ts", got, sizeof(got));
    jansson_real((double)first_ns / 1e9, want, sizeof(want));
    ck_assert_msg(strcmp(got, want) == 0, "ts %llu: %s, jansson %s", (unsigned long long)first_ns,
                  got, want);
    ns_flow_record_buf_fini(&b);
}

/* Rates and times as jansson prints them ("%.16g" and its touches): random bit patterns over
 * every exponent, rates as byte counts over durations, times in ns since 1970 (19 digits),
 * values at and next to powers of ten, and 17-digit decimals that end in 5 (ties). */
START_TEST(reals_as_jansson)
{
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (int i = 0; i < 50000; i++) {
        uint64_t bits = rnd(&seed);
        double v;
        memcpy(&v, &bits, sizeof(v));
        if (!isfinite(v))
            continue;
        check_real(v, T0 + rnd(&seed) % 100000000000000000ull);
        double rate = (double)(rnd(&seed) % 10000000000ull) * 8e9 /
                      (double)(1 + rnd(&seed) % 100000000000ull);
        check_real(rate, rnd(&seed));
    }
    for (int k = -8; k <= 22; k++) {
        double p = pow(10, k);
        check_real(p, (uint64_t)k);
        check_real(nextafter(p, 0), 999999999ull);
        check_real(nextafter(p, INFINITY), 1000000000ull);
        check_real(p * 0.99999999999999995, 1ull << 63);
        check_real(p * 1.00000000000000005, UINT64_MAX);
    }
    for (uint64_t d = 1; d < 5000; d++) { /* 1.000000000000000d5 and friends */
        check_real((double)(10000000000000000ull + d * 10 + 5) / 1e16, d);
        check_real((double)d + 0.5, d * 1000000007ull);
        check_real((double)(1ull << 52) + (double)d + 0.5, d);
    }
}
END_TEST

static Suite *
flow_record_suite(void)
{
    Suite *s = suite_create("flow_record");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, no_transactions);
    tcase_add_test(tc, http_members);
    tcase_add_test(tc, dns_members);
    tcase_add_test(tc, escapes_and_unicode);
    tcase_add_test(tc, maximal_record);
    tcase_add_test(tc, random_records);
    tcase_add_test(tc, reals_as_jansson);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(flow_record_suite)

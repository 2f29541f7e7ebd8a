/* flow_record.c - flow records as JSON Lines (Zeek conn.log names first, then ours) and as
 * CSV lines, written directly into a reused buffer (see flow_record.h).
 *
 * One sequence of put_*() calls describes a record; the writer turns it into JSON members or
 * into CSV cells (a member absent from a record leaves its cell empty). The application-layer
 * arrays (the HTTP and DNS transactions) are written here too, byte for byte as jansson
 * dumps the object flow_app_json.c builds (that file stays the reference, and
 * test_flow_record compares the two): a collector writes them for every final record that
 * carries transactions, and building and dumping a jansson tree cost ten times the rest.
 */
#include "flow_record.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktfmt.h"

/* Flat columns, in CSV order (every scalar member a record may have, in the order the JSON
 * members are written). */
static const char *const columns[] = {"ts",
                                      "uid",
                                      "id.orig_h",
                                      "id.orig_p",
                                      "id.resp_h",
                                      "id.resp_p",
                                      "proto",
                                      "service",
                                      "duration",
                                      "orig_bytes",
                                      "resp_bytes",
                                      "conn_state",
                                      "missed_bytes",
                                      "history",
                                      "orig_pkts",
                                      "orig_ip_bytes",
                                      "resp_pkts",
                                      "resp_ip_bytes",
                                      "community_id",
                                      "ip_proto",
                                      "vlan",
                                      "orig_wire_bytes",
                                      "resp_wire_bytes",
                                      "orig_payload_bytes",
                                      "resp_payload_bytes",
                                      "flags_orig",
                                      "flags_resp",
                                      "syn_orig",
                                      "syn_resp",
                                      "fin_orig",
                                      "fin_resp",
                                      "rst_orig",
                                      "rst_resp",
                                      "tcp_state_orig",
                                      "tcp_state_resp",
                                      "rtt_handshake_us",
                                      "rtt_handshake_server_us",
                                      "rtt_handshake_client_us",
                                      "rtt_samples",
                                      "rtt_min_us",
                                      "rtt_mean_us",
                                      "rtt_max_us",
                                      "rtt_last_us",
                                      "retrans_orig",
                                      "retrans_resp",
                                      "ooo_orig",
                                      "ooo_resp",
                                      "dup_ack_orig",
                                      "dup_ack_resp",
                                      "zero_win_orig",
                                      "zero_win_resp",
                                      "gaps_orig",
                                      "gaps_resp",
                                      "missed_bytes_orig",
                                      "missed_bytes_resp",
                                      "midstream",
                                      "seq_gaps",
                                      "truncated",
                                      "fragments",
                                      "bps",
                                      "pps",
                                      "avg_bps",
                                      "avg_pps",
                                      "interim",
                                      "end_reason"};

#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* ---- buffer ---------------------------------------------------------------------------- */

void
ns_flow_record_buf_fini(ns_flow_record_buf_t *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}

static bool
grow(ns_flow_record_buf_t *b, size_t n)
{
    if (b->oom)
        return false;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    char *p = realloc(b->buf, cap);
    if (p == NULL) {
        b->oom = 1;
        return false;
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

static inline bool
reserve(ns_flow_record_buf_t *b, size_t n)
{
    return b->cap - b->len >= n || grow(b, n);
}

static inline void
put_mem(ns_flow_record_buf_t *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static inline void
put_ch(ns_flow_record_buf_t *b, char c)
{
    if (reserve(b, 1))
        b->buf[b->len++] = c;
}

/* ---- values ---------------------------------------------------------------------------- */

static size_t
fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* "%.16g" of v without printf, for |v| in [1e-4, 1e16) (where %.16g writes no exponent);
 * 0 otherwise, and the caller asks printf. v is m * 2^e exactly (m below 2^53); its 16
 * significant digits are q = v * 10^(15 - k) rounded to the nearest integer, ties to even as
 * glibc's printf rounds, where 10^k <= v < 10^(k+1). With k in [-4, 15], 10^(15 - k) is below
 * 2^64 and m * 10^(15 - k) below 2^117, so q and its rounding are computed exactly in 128
 * bits. */
__extension__ typedef unsigned __int128 u128_t; /* gcc and clang on 64-bit targets */

static size_t
fmt_g16(char *out, double v)
{
    static const uint64_t pow10u[] = {1ull,
                                      10ull,
                                      100ull,
                                      1000ull,
                                      10000ull,
                                      100000ull,
                                      1000000ull,
                                      10000000ull,
                                      100000000ull,
                                      1000000000ull,
                                      10000000000ull,
                                      100000000000ull,
                                      1000000000000ull,
                                      10000000000000ull,
                                      100000000000000ull,
                                      1000000000000000ull,
                                      10000000000000000ull,
                                      100000000000000000ull,
                                      1000000000000000000ull,
                                      10000000000000000000ull};
    if (!(v < 0 ? -v >= 1e-4 && -v < 1e16 : v >= 1e-4 && v < 1e16))
        return 0; /* also NaN */
    if (v < 0) {
        size_t n = fmt_g16(out + 1, -v);
        if (n == 0)
            return 0;
        out[0] = '-';
        return n + 1;
    }
    int ex;
    double f = frexp(v, &ex); /* v = f * 2^ex, f in [0.5, 1) */
    uint64_t m = (uint64_t)ldexp(f, 53);
    int e = ex - 53; /* v < 2^54: e <= 1 */
    int k = (int)floor(log10(v));
    uint64_t q;
    for (int tries = 0;; tries++) {
        if (k < -4 || k > 15 || tries > 2)
            return 0;
        u128_t num = (u128_t)m * pow10u[15 - k];
        if (e >= 0) {
            num <<= e;
            q = (uint64_t)num;
            if (num < pow10u[15]) {
                k--;
                continue;
            }
            if (num >= pow10u[16]) {
                k++;
                continue;
            }
            break;
        }
        unsigned s = (unsigned)-e; /* <= 67 for v >= 1e-4 */
        u128_t qq = num >> s, rem = num - (qq << s), half = (u128_t)1 << (s - 1);
        if (qq < pow10u[15]) {
            k--;
            continue;
        }
        if (qq >= pow10u[16]) {
            k++;
            continue;
        }
        q = (uint64_t)qq;
        if (rem > half || (rem == half && (q & 1)))
            q++;
        break;
    }
    if (q == pow10u[16]) { /* rounded up to the next power of ten */
        q = pow10u[15];
        if (++k > 15)
            return 0;
    }
    char dig[20];
    size_t nd = fmt_u64(dig, q); /* 16 digits: q * 10^(k - 15) */
    size_t last = nd;
    while (last > 0 && dig[last - 1] == '0')
        last--;
    size_t n = 0;
    if (k >= 0) {
        size_t ip = (size_t)k + 1;
        memcpy(out, dig, ip);
        n = ip;
        if (last > ip) {
            out[n++] = '.';
            memcpy(out + n, dig + ip, last - ip);
            n += last - ip;
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = -1; i > k; i--)
            out[n++] = '0';
        memcpy(out + n, dig, last);
        n += last;
    }
    return n;
}

/* "%.16g", and for JSON jansson's touches: a ".0" when there is neither '.' nor 'e', and no
 * '+' or leading zeros in the exponent. Integral values below 2^53 take a fast path, the
 * others in [1e-4, 1e16) fmt_g16(). */
static size_t
fmt_real(char *out, double v, bool json)
{
    size_t n;
    if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v) {
        n = fmt_u64(out, (uint64_t)v);
        if (n <= 16) { /* %.16g prints up to 16 digits without an exponent */
            if (json) {
                out[n++] = '.';
                out[n++] = '0';
            }
            return n;
        }
    }
    n = fmt_g16(out, v);
    if (n == 0) {
        int r = snprintf(out, 40, "%.16g", v);
        n = r > 0 ? (size_t)r : 0;
    }
    if (!json)
        return n;
    out[n] = '\0';
    char *e = strchr(out, 'e');
    if (strchr(out, '.') == NULL && e == NULL) {
        out[n++] = '.';
        out[n++] = '0';
    } else if (e != NULL) {
        /* jansson's jsonp_dtostr, step for step */
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(out + n - end) + 1);
            n -= (size_t)(end - start);
        }
    }
    return n;
}

/* num / 10^p (p <= 9) as "%.16g" would print the double d nearest to it, without printf,
 * when that is certain: num has at most 16 digits (so the quotient is itself a 16-digit
 * decimal), printf would not use an exponent, and half a unit in the last place of d is less
 * than half the spacing of 16-digit decimals there (so no other 16-digit decimal is nearer to
 * d). Returns 0 when not certain: the caller falls back to printf. */
static size_t
fmt_fixed(char *out, uint64_t num, unsigned p, double d, bool json)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                   1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25};
    if (num == 0 || num >= 10000000000000000ull || p > 9)
        return 0;
    char dig[20];
    size_t nd = fmt_u64(dig, num);
    int e = (int)nd - 1 - (int)p; /* decimal exponent of the leading digit */
    if (e < -4)
        return 0;
    int k;
    (void)frexp(d, &k); /* d = f * 2^k, f in [0.5, 1): ulp = 2^(k - 53) */
    /* ulp < 0.9 * 10^(e - 15), compared as ulp * 10^(15 - e) < 0.9 (15 - e is 0..19) */
    if (ldexp(1.0, k - 53) * pow10[15 - e] >= 0.9)
        return 0;
    size_t n = 0, ip = nd > p ? nd - p : 0; /* digits before the point */
    if (ip == 0) {
        out[n++] = '0';
    } else {
        memcpy(out, dig, ip);
        n = ip;
    }
    size_t fd = nd - ip; /* fraction digits present in dig (after leading zeros) */
    size_t lz = p - fd;  /* leading zeros of the fraction */
    size_t last = nd;
    while (last > ip && dig[last - 1] == '0')
        last--;
    if (last > ip) {
        out[n++] = '.';
        for (size_t i = 0; i < lz; i++)
            out[n++] = '0';
        memcpy(out + n, dig + ip, last - ip);
        n += last - ip;
    } else if (json) {
        out[n++] = '.';
        out[n++] = '0';
    }
    return n;
}

/* `len` bytes as a JSON string: quote, backslash and the control characters escaped (\b \f
 * \n \r \t by name, the others as \u00XX with the digits of `hex`), everything else as it
 * is. The flat members use lower-case digits, the transactions jansson's capitals. */
static void
json_escaped_n(ns_flow_record_buf_t *b, const char *s, size_t len, const char hex[16])
{
    put_ch(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put_mem(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        put_mem(b, esc, n);
    }
    put_mem(b, s + run, len - run);
    put_ch(b, '"');
}

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static void
json_escaped(ns_flow_record_buf_t *b, const char *s)
{
    json_escaped_n(b, s, strlen(s), hex_lower);
}

static void
csv_quoted(ns_flow_record_buf_t *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        put_mem(b, s, strlen(s));
        return;
    }
    put_ch(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            put_ch(b, '"');
        put_ch(b, *s);
    }
    put_ch(b, '"');
}

/* ---- the record writer ----------------------------------------------------------------- */

typedef struct {
    ns_flow_record_buf_t *b;
    bool csv;
    bool first;    /* JSON: no member written yet */
    size_t commas; /* CSV: separators written so far */
} writer_t;

/* Start member `name`: JSON writes its key; CSV moves to its cell. False when CSV has no
 * such column (the value is then not written). */
static inline bool
key(writer_t *w, const char *name, size_t nlen)
{
    if (!w->csv) {
        if (!reserve(w->b, nlen + 4))
            return false;
        char *p = w->b->buf + w->b->len;
        if (!w->first)
            *p++ = ',';
        w->first = false;
        *p++ = '"';
        memcpy(p, name, nlen);
        p += nlen;
        *p++ = '"';
        *p++ = ':';
        w->b->len = (size_t)(p - w->b->buf);
        return true;
    }
    for (size_t i = w->commas; i < NCOLS; i++) {
        if (strcmp(columns[i], name) == 0) {
            for (; w->commas < i; w->commas++)
                put_ch(w->b, ',');
            return true;
        }
    }
    return false;
}

/* Members are named by string literals: their length is a constant. */
#define put_u(w, name, v) put_u_(w, name, sizeof(name) - 1, v)
#define put_real(w, name, v) put_real_(w, name, sizeof(name) - 1, v)
#define put_ratio(w, name, num, p, v) put_ratio_(w, name, sizeof(name) - 1, num, p, v)
#define put_str(w, name, s) put_str_(w, name, sizeof(name) - 1, s)
#define put_bool(w, name, v) put_bool_(w, name, sizeof(name) - 1, v)

static inline void
put_u_(writer_t *w, const char *name, size_t nlen, uint64_t v)
{
    if (!key(w, name, nlen) || !reserve(w->b, 20))
        return;
    w->b->len += fmt_u64(w->b->buf + w->b->len, v);
}

static void
put_real_(writer_t *w, const char *name, size_t nlen, double v)
{
    if (!key(w, name, nlen))
        return;
    char tmp[48];
    put_mem(w->b, tmp, fmt_real(tmp, v, !w->csv));
}

/* A real that is num / 10^p (times, durations): printed without printf when possible. */
static void
put_ratio_(writer_t *w, const char *name, size_t nlen, uint64_t num, unsigned p, double v)
{
    if (!key(w, name, nlen))
        return;
    char tmp[48];
    size_t n = fmt_fixed(tmp, num, p, v, !w->csv);
    if (n == 0)
        n = fmt_real(tmp, v, !w->csv);
    put_mem(w->b, tmp, n);
}

static void
put_str_(writer_t *w, const char *name, size_t nlen, const char *s)
{
    if (!key(w, name, nlen))
        return;
    if (w->csv)
        csv_quoted(w->b, s);
    else
        json_escaped(w->b, s);
}

static void
put_bool_(writer_t *w, const char *name, size_t nlen, bool v)
{
    if (!key(w, name, nlen))
        return;
    if (v)
        put_mem(w->b, "true", 4);
    else
        put_mem(w->b, "false", 5);
}

/* ---- the application-layer arrays, as jansson would dump them ----------------------------- *
 *
 * flow_app_json.c builds {"http": [...], "http_tx_total", "dns": [...], "dns_tx_total",
 * "dns_unanswered"} with jansson, and the JSON record used to splice in its compact dump
 * (JSON_COMPACT | JSON_REAL_PRECISION(16)). These functions write the same bytes directly:
 * members in insertion order; integers as json_int_t ("%lld", so a uint64 above INT64_MAX
 * is negative, as json_integer((json_int_t)x) makes it); reals as jansson prints them
 * (fmt_real); strings escaped as jansson escapes them (quote, backslash, \b \f \n \r \t, the
 * other control characters as \u00XX in capitals, everything else as it is); and a string
 * that is not valid UTF-8 is left out with its key, because json_string() refuses it and
 * json_object_set_new() then sets nothing. */

/* jansson's utf8_check_string(): well-formed UTF-8, no overlong forms, no surrogates, nothing
 * above U+10FFFF. A NUL is a character like any other (json_stringn() takes it). */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char u = s[i];
        size_t n;
        uint32_t cp;
        if (u < 0x80) {
            i++;
            continue;
        }
        if (u >= 0xc2 && u <= 0xdf) {
            n = 2;
            cp = u & 0x1fu;
        } else if (u >= 0xe0 && u <= 0xef) {
            n = 3;
            cp = u & 0x0fu;
        } else if (u >= 0xf0 && u <= 0xf4) {
            n = 4;
            cp = u & 0x07u;
        } else {
            return false; /* a continuation byte, 0xc0, 0xc1 or above 0xf4 */
        }
        if (n > len - i)
            return false;
        for (size_t k = 1; k < n; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (n == 3 && cp < 0x800) ||
            (n == 4 && cp < 0x10000))
            return false;
        i += n;
    }
    return true;
}

#define app_str(w, name, s, len) app_str_(w, name, sizeof(name) - 1, s, len)
#define app_int(w, name, v) app_int_(w, name, sizeof(name) - 1, v)
#define app_secs(w, name, ns) app_secs_(w, name, sizeof(name) - 1, ns)
#define app_text(w, name, s) app_text_(w, name, sizeof(name) - 1, s)
#define app_true(w, name) app_true_(w, name, sizeof(name) - 1)

/* A string member; left out when the text is not valid UTF-8. */
static void
app_str_(writer_t *w, const char *name, size_t nlen, const char *s, size_t len)
{
    if (!utf8_valid((const unsigned char *)s, len) || !key(w, name, nlen))
        return;
    json_escaped_n(w->b, s, len, hex_upper); /* jansson's dump_string() */
}

/* set_str() of flow_app_json.c: only a non-empty string. */
static void
app_text_(writer_t *w, const char *name, size_t nlen, const char *s)
{
    if (s != NULL && s[0])
        app_str_(w, name, nlen, s, strlen(s));
}

static void
app_int_(writer_t *w, const char *name, size_t nlen, int64_t v)
{
    if (!key(w, name, nlen) || !reserve(w->b, 21))
        return;
    char *p = w->b->buf + w->b->len;
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        p[n++] = '-';
        u = 0 - u;
    }
    w->b->len += n + fmt_u64(p + n, u);
}

/* Nanoseconds as seconds: json_real((double)ns / 1e9). */
static void
app_secs_(writer_t *w, const char *name, size_t nlen, int64_t ns)
{
    double v = (double)ns / 1e9;
    if (ns >= 0)
        put_ratio_(w, name, nlen, (uint64_t)ns, 9, v);
    else
        put_real_(w, name, nlen, v);
}

static void
app_true_(writer_t *w, const char *name, size_t nlen)
{
    if (key(w, name, nlen))
        put_mem(w->b, "true", 4);
}

static void
app_http(ns_flow_record_buf_t *b, const ns_app_http_tx_t *t)
{
    writer_t w = {.b = b, .first = true};
    put_ch(b, '{');
    app_int(&w, "trans_depth", t->seq);
    app_text(&w, "method", t->method);
    app_text(&w, "host", t->host);
    app_text(&w, "uri", t->uri);
    app_text(&w, "user_agent", t->user_agent);
    if (t->has_response)
        app_int(&w, "status_code", t->status);
    app_int(&w, "request_body_len", (int64_t)t->req_body_len);
    app_int(&w, "response_body_len", (int64_t)t->resp_body_len);
    if (t->has_request)
        app_secs(&w, "ts", (int64_t)t->req_ts_ns);
    if (t->latency_ns >= 0)
        app_secs(&w, "latency", t->latency_ns);
    if (t->chunked_req)
        app_true(&w, "request_chunked");
    if (t->chunked_resp)
        app_true(&w, "response_chunked");
    if (!t->has_request)
        app_true(&w, "request_missing");
    if (t->truncated)
        app_true(&w, "truncated");
    put_ch(b, '}');
}

/* The answer's data as text: addresses for A/AAAA, the decoder's text for names and TXT. */
static void
app_answer(ns_flow_record_buf_t *b, const ns_dns_answer_t *a)
{
    writer_t w = {.b = b, .first = true};
    char text[NS_DNS_RDATA_MAX + 64];
    const char *tn = ns_pktfmt_dns_type(a->type);
    if (tn == NULL) { /* RFC 3597 generic name, so "type" is always a string */
        snprintf(text, sizeof(text), "TYPE%u", (unsigned)a->type);
        tn = text;
    }
    put_ch(b, '{');
    app_str(&w, "type", tn, strlen(tn));
    app_int(&w, "ttl", a->ttl);
    ns_addr_t addr = {{0}};
    if ((a->type == 1 && a->data_len == 4) || (a->type == 28 && a->data_len == 16)) {
        memcpy(addr.b, a->data, a->data_len);
        size_t n = ns_pktfmt_addr(text, &addr, a->data_len == 4 ? 4 : 6);
        app_str(&w, "data", text, n);
    } else if (a->data_len > 0 && a->data_len <= NS_DNS_RDATA_MAX) {
        app_str(&w, "data", (const char *)a->data, a->data_len);
    }
    put_ch(b, '}');
}

static void
app_dns(ns_flow_record_buf_t *b, const ns_app_dns_tx_t *t)
{
    writer_t w = {.b = b, .first = true};
    put_ch(b, '{');
    app_int(&w, "trans_id", t->id);
    app_text(&w, "query", t->qname);
    if (t->qtype) {
        app_int(&w, "qtype", t->qtype);
        const char *tn = ns_pktfmt_dns_type(t->qtype);
        if (tn)
            app_str(&w, "qtype_name", tn, strlen(tn));
    }
    if (t->has_query)
        app_secs(&w, "ts", (int64_t)t->query_ts_ns);
    if (t->answered) {
        app_int(&w, "rcode", t->rcode);
        const char *rn = ns_pktfmt_dns_rcode_zeek(t->rcode);
        if (rn)
            app_str(&w, "rcode_name", rn, strlen(rn));
        if (key(&w, "answers", sizeof("answers") - 1)) {
            put_ch(b, '[');
            for (unsigned i = 0; i < t->n_answers; i++) {
                if (i > 0)
                    put_ch(b, ',');
                app_answer(b, &t->answers[i]);
            }
            put_ch(b, ']');
        }
        if (t->ancount > t->n_answers)
            app_int(&w, "answers_total", t->ancount);
    } else {
        app_true(&w, "unanswered");
    }
    if (t->latency_ns >= 0)
        app_secs(&w, "rtt", t->latency_ns);
    if (t->retries)
        app_int(&w, "retries", t->retries);
    if (t->tcp)
        app_true(&w, "tcp");
    if (!t->has_query)
        app_true(&w, "query_missing");
    if (t->truncated)
        app_true(&w, "truncated");
    put_ch(b, '}');
}

/* The application-layer members, after the flat ones (w has written at least one). */
static void
put_app(writer_t *w, const ns_flow_rec_t *r)
{
    if (r->n_http > 0 && key(w, "http", sizeof("http") - 1)) {
        put_ch(w->b, '[');
        for (uint32_t i = 0; i < r->n_http; i++) {
            if (i > 0)
                put_ch(w->b, ',');
            app_http(w->b, &r->http[i]);
        }
        put_ch(w->b, ']');
        if (r->http_total > r->n_http)
            app_int(w, "http_tx_total", r->http_total);
    }
    if (r->n_dns > 0 && key(w, "dns", sizeof("dns") - 1)) {
        put_ch(w->b, '[');
        for (uint32_t i = 0; i < r->n_dns; i++) {
            if (i > 0)
                put_ch(w->b, ',');
            app_dns(w->b, &r->dns[i]);
        }
        put_ch(w->b, ']');
        if (r->dns_total > r->n_dns)
            app_int(w, "dns_tx_total", r->dns_total);
        if (r->dns_unanswered)
            app_int(w, "dns_unanswered", r->dns_unanswered);
    }
}

/* ---- the record -------------------------------------------------------------------------- */

static const char *
proto_name(uint8_t proto)
{
    switch (proto) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
    case 58:
        return "icmp";
    default:
        return "unknown_transport";
    }
}

static const char *
ep_name(uint8_t s)
{
    static const char *const n[] = {"inactive",    "syn_sent", "syn_ack_sent", "partial",
                                    "established", "closed",   "reset"};
    return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static void
flags_str(uint8_t fl, char out[10])
{
    static const char letters[] = "FSRPAUEC";
    size_t n = 0;
    for (unsigned i = 0; i < 8; i++)
        if (fl & (1u << i))
            out[n++] = letters[i];
    out[n] = '\0';
}

static void
put_tcp(writer_t *w, const ns_flow_rec_t *r)
{
    char fl[10];
    flags_str(r->tcp_flags[0], fl);
    put_str(w, "flags_orig", fl);
    flags_str(r->tcp_flags[1], fl);
    put_str(w, "flags_resp", fl);
    put_u(w, "syn_orig", r->syn[0]);
    put_u(w, "syn_resp", r->syn[1]);
    put_u(w, "fin_orig", r->fin[0]);
    put_u(w, "fin_resp", r->fin[1]);
    put_u(w, "rst_orig", r->rst[0]);
    put_u(w, "rst_resp", r->rst[1]);
    put_str(w, "tcp_state_orig", ep_name(r->tcp_state[0]));
    put_str(w, "tcp_state_resp", ep_name(r->tcp_state[1]));
    if (r->hs & NS_FLOW_REC_HS_TOTAL)
        put_ratio(w, "rtt_handshake_us", r->rtt_hs_ns, 3,
                  (r->hs & NS_FLOW_REC_HS_SERVER)
                      ? ((double)r->rtt_hs_server_ns + (double)r->rtt_hs_client_ns) / 1e3
                      : (double)r->rtt_hs_ns / 1e3);
    if (r->hs & NS_FLOW_REC_HS_SERVER)
        put_ratio(w, "rtt_handshake_server_us", r->rtt_hs_server_ns, 3,
                  (double)r->rtt_hs_server_ns / 1e3);
    if (r->hs & NS_FLOW_REC_HS_CLIENT)
        put_ratio(w, "rtt_handshake_client_us", r->rtt_hs_client_ns, 3,
                  (double)r->rtt_hs_client_ns / 1e3);
    put_u(w, "rtt_samples", r->rtt_n);
    if (r->rtt_n > 0) {
        put_u(w, "rtt_min_us", r->rtt_min_us);
        put_u(w, "rtt_mean_us", r->rtt_mean_us);
        put_u(w, "rtt_max_us", r->rtt_max_us);
        put_u(w, "rtt_last_us", r->rtt_last_us);
    }
    put_u(w, "retrans_orig", r->retrans[0]);
    put_u(w, "retrans_resp", r->retrans[1]);
    put_u(w, "ooo_orig", r->ooo[0]);
    put_u(w, "ooo_resp", r->ooo[1]);
    put_u(w, "dup_ack_orig", r->dup_ack[0]);
    put_u(w, "dup_ack_resp", r->dup_ack[1]);
    put_u(w, "zero_win_orig", r->zero_win[0]);
    put_u(w, "zero_win_resp", r->zero_win[1]);
    put_u(w, "gaps_orig", r->gaps[0]);
    put_u(w, "gaps_resp", r->gaps[1]);
    put_u(w, "missed_bytes_orig", r->missed[0]);
    put_u(w, "missed_bytes_resp", r->missed[1]);
    put_bool(w, "midstream", r->quality & NS_FLOW_Q_MIDSTREAM);
    put_bool(w, "seq_gaps", r->quality & NS_FLOW_Q_GAP);
}

int
ns_flow_record_write(ns_flow_record_buf_t *b, const ns_flow_rec_t *r,
                     const ns_flow_record_extra_t *extra, int csv, int with_app)
{
    char ob[64], rb[64];
    writer_t w = {.b = b, .csv = csv != 0, .first = true, .commas = 0};

    if (!w.csv)
        put_ch(b, '{');
    put_ratio(&w, "ts", r->first_ns, 9, (double)r->first_ns / 1e9);
    put_str(&w, "uid", r->uid);
    ns_pktfmt_addr(ob, &r->orig_h, r->ip_ver);
    ns_pktfmt_addr(rb, &r->resp_h, r->ip_ver);
    put_str(&w, "id.orig_h", ob);
    put_u(&w, "id.orig_p", r->orig_p);
    put_str(&w, "id.resp_h", rb);
    put_u(&w, "id.resp_p", r->resp_p);
    put_str(&w, "proto", proto_name(r->proto));
    if (r->service[0])
        put_str(&w, "service", r->service);
    uint64_t dur_ns = r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
    put_ratio(&w, "duration", dur_ns, 9, (double)dur_ns / 1e9);
    put_u(&w, "orig_bytes", r->app_bytes[0]);
    put_u(&w, "resp_bytes", r->app_bytes[1]);
    put_str(&w, "conn_state", r->conn_state);
    put_u(&w, "missed_bytes", r->missed_bytes);
    put_str(&w, "history", r->history);
    put_u(&w, "orig_pkts", r->pkts[0]);
    put_u(&w, "orig_ip_bytes", r->ip_bytes[0]);
    put_u(&w, "resp_pkts", r->pkts[1]);
    put_u(&w, "resp_ip_bytes", r->ip_bytes[1]);
    if (r->community_id[0])
        put_str(&w, "community_id", r->community_id);
    /* Zeek's tunnel_parents, a set of uids (JSON only: not a CSV column); a uid is base-62
     * digits, nothing to escape */
    if (r->tunnel_parent[0] && key(&w, "tunnel_parents", sizeof("tunnel_parents") - 1)) {
        put_mem(w.b, "[\"", 2);
        put_mem(w.b, r->tunnel_parent, strnlen(r->tunnel_parent, sizeof(r->tunnel_parent)));
        put_mem(w.b, "\"]", 2);
    }
    put_u(&w, "ip_proto", r->proto);
    put_u(&w, "vlan", r->vlan);
    put_u(&w, "orig_wire_bytes", r->wire_bytes[0]);
    put_u(&w, "resp_wire_bytes", r->wire_bytes[1]);
    put_u(&w, "orig_payload_bytes", r->payload_bytes[0]);
    put_u(&w, "resp_payload_bytes", r->payload_bytes[1]);
    if (r->is_tcp)
        put_tcp(&w, r);
    put_bool(&w, "truncated", r->quality & NS_FLOW_Q_TRUNCATED);
    put_bool(&w, "fragments", r->quality & NS_FLOW_Q_FRAGMENTS);
    put_real(&w, "bps", r->bps);
    put_real(&w, "pps", r->pps);
    double abps, apps;
    ns_flow_rec_avg_rate(r, &abps, &apps);
    put_real(&w, "avg_bps", abps);
    put_real(&w, "avg_pps", apps);
    put_u(&w, "interim", r->interim);
    if (r->kind == NS_FLOW_REC_UPDATE)
        put_str(&w, "record", ns_flow_rec_kind_name((ns_flow_rec_kind_t)r->kind));
    else
        put_str(&w, "end_reason", ns_flow_end_name((ns_flow_end_t)r->end_reason));
    if (extra && extra->agent)
        put_str(&w, "agent", extra->agent);
    if (extra && extra->iface)
        put_str(&w, "iface", extra->iface);
    if (extra && extra->received_ns)
        put_ratio(&w, "received", extra->received_ns, 9, (double)extra->received_ns / 1e9);
    if (w.csv) {
        for (; w.commas < NCOLS - 1; w.commas++)
            put_ch(b, ',');
    } else {
        if (with_app && (r->n_http > 0 || r->n_dns > 0))
            put_app(&w, r);
        put_ch(b, '}');
    }
    put_ch(b, '\n');
    return b->oom ? -1 : 0;
}

void
ns_flow_record_csv_header(FILE *out)
{
    for (size_t i = 0; i < NCOLS; i++)
        fprintf(out, "%s%s", i ? "," : "", columns[i]);
    fputc('\n', out);
}

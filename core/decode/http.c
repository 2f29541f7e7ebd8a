/* http.c - HTTP/1.x message head decoder: start line and the headers NetScope keeps.
 *
 * Spec: RFC 9110 (semantics), RFC 9112 (HTTP/1.1 message syntax); SSDP (UPnP Device
 * Architecture 2.0, HTTP over UDP) and WebDAV (RFC 4918) methods are recognised too.
 *
 *   request:   method SP request-target SP HTTP/1.x CRLF      GET /index.html HTTP/1.1
 *   response:  HTTP/1.x SP 3DIGIT SP [reason-phrase] CRLF     HTTP/1.1 200 OK
 *              *( field-name ":" OWS field-value OWS CRLF )   Host: example.com
 *              CRLF                                           (end of the head)
 *
 * The parser never copies: method, target, version, reason and the Host, User-Agent and
 * Content-Type values are spans (offsets into the cursor's buffer). Bare LF line ends are
 * accepted (RFC 9112 section 2.2). At most HTTP_MAX_LINES header lines are examined; header
 * lines without a colon and obsolete line folding are skipped, not rejected. Content-Length
 * is -1 when absent, not all digits, over HTTP_MAX_CLEN, or given twice with different values.
 *
 * Outcomes of ns_http_parse: UNSUPPORTED when the bytes do not start an HTTP message (the
 * dispatcher offers us any TCP payload starting with an upper-case letter), INVALID for a
 * malformed start line, TRUNCATED when the head does not end in the buffer (what was found is
 * still filled in, the last value possibly cut short, as tshark shows it). ns_decode_http turns
 * TRUNCATED into OK (the head continues in the next segment) unless the capture's snaplen cut
 * the payload.
 */
#include "decode_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HTTP_MAX_LINES 128u /* header lines examined per message */
/* 2^55 - 1: far above any real body, far from int64_t overflow. */
#define HTTP_MAX_CLEN 0x7fffffffffffffll

typedef struct {
    const char *name;
    uint8_t len;
} http_token_t;

/* Methods: RFC 9110, RFC 5789 (PATCH), SSDP/GENA, WebDAV (RFC 4918, 3253), CalDAV. */
static const http_token_t methods[] = {
    {"GET", 3},      {"POST", 4},      {"HEAD", 4},         {"PUT", 3},      {"DELETE", 6},
    {"OPTIONS", 7},  {"CONNECT", 7},   {"PATCH", 5},        {"TRACE", 5},    {"NOTIFY", 6},
    {"M-SEARCH", 8}, {"SUBSCRIBE", 9}, {"UNSUBSCRIBE", 11}, {"PROPFIND", 8}, {"PROPPATCH", 9},
    {"MKCOL", 5},    {"COPY", 4},      {"MOVE", 4},         {"LOCK", 4},     {"UNLOCK", 6},
    {"REPORT", 6},   {"SEARCH", 6},    {"MKCALENDAR", 10},
};

/* Bit (letter - 'A') for each letter a method above starts with: most payloads the dispatcher
 * offers (any TCP payload starting with an upper-case letter) are turned away by this one
 * test. tests/unit/test_http.c recognises every method, so a letter missing here fails it. */
#define METHOD_INITIALS                                                                            \
    (1u << ('C' - 'A') | 1u << ('D' - 'A') | 1u << ('G' - 'A') | 1u << ('H' - 'A') |               \
     1u << ('L' - 'A') | 1u << ('M' - 'A') | 1u << ('N' - 'A') | 1u << ('O' - 'A') |               \
     1u << ('P' - 'A') | 1u << ('R' - 'A') | 1u << ('S' - 'A') | 1u << ('T' - 'A') |               \
     1u << ('U' - 'A'))

/* ---- byte helpers (freestanding) -------------------------------------------------------- */

static uint8_t
lower(uint8_t b)
{
    return b >= 'A' && b <= 'Z' ? (uint8_t)(b + ('a' - 'A')) : b;
}

static bool
is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

/* The bytes of `w` with ASCII upper-case letters made lower-case, 8 at a time: per byte, bit 7
 * of h + (0x80 - 'A') says ">= 'A'" and of h + (0x7f - 'Z') says "> 'Z'" (h: the low 7 bits,
 * so no sum carries into the next byte); bytes from 0x80 up are left alone. */
static NS_ALWAYS_INLINE uint64_t
lower8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t h = w & ~highs;
    uint64_t upper = (h + (0x80u - 'A') * ones) & ~(h + (0x7fu - 'Z') * ones) & ~w & highs;
    return w | (upper >> 2);
}

/* True when the `n` bytes at `at` equal lower-case `s` (`slen` bytes), ignoring case. From 4
 * bytes on, two overlapping words cover them (the first and last 4 or 8 bytes). */
static NS_ALWAYS_INLINE bool
eq_nocase(const ns_cur_t *c, uint32_t at, uint32_t n, const char *s, uint32_t slen)
{
    if (n != slen || at > c->end || c->end - at < n)
        return false;
    const uint8_t *p = c->base + at;
    if (n >= 4) {
        uint32_t w = n >= 8 ? 8 : 4; /* a constant where slen is one */
        uint64_t a = 0, b = 0, x = 0, y = 0;
        __builtin_memcpy(&a, p, w);
        __builtin_memcpy(&b, p + n - w, w);
        __builtin_memcpy(&x, s, w);
        __builtin_memcpy(&y, s + n - w, w);
        return lower8(a) == x && lower8(b) == y;
    }
    for (uint32_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)s[i])
            return false;
    return true;
}

/* Length of a line [at, lf) without its CR. */
static uint32_t
line_len(const ns_cur_t *c, uint32_t at, uint32_t lf)
{
    return lf > at && lf <= c->end && c->base[lf - 1] == '\r' ? lf - 1 - at : lf - at;
}

/* "HTTP/1.x" at `at` (8 bytes, all present). */
static bool
is_version(const ns_cur_t *c, uint32_t at)
{
    return ns_cur_at(c, at) == 'H' && ns_cur_at(c, at + 1) == 'T' && ns_cur_at(c, at + 2) == 'T' &&
           ns_cur_at(c, at + 3) == 'P' && ns_cur_at(c, at + 4) == '/' &&
           ns_cur_at(c, at + 5) == '1' && ns_cur_at(c, at + 6) == '.' &&
           is_digit(ns_cur_at(c, at + 7));
}

static ns_span_t
span(uint32_t off, uint32_t len)
{
    ns_span_t s = {off, len};
    return s;
}

static void
field_span(ns_fields_t *f, const ns_cur_t *c, const char *name, ns_span_t s)
{
    ns_field_str(f, name, s.off, s.len, (const char *)c->base + s.off, s.len);
}

/* ---- line ends -------------------------------------------------------------------------
 *
 * A head is a run of short lines; finding each '\n' with its own scan costs a mispredicted
 * loop exit per line. Instead the '\n' bytes are marked 64 at a time in a bit map (with SSE2:
 * four compares), and each line end is the map's next set bit. Without SSE2 (the wasm build)
 * the map is not used and each line is found by ns_cur_find(). */
typedef struct {
    uint32_t at;   /* offset of the byte bit 0 of `bits` stands for */
    uint64_t bits; /* bit i set: byte at + i is a '\n' not handed out yet */
} lf_map_t;

#if defined(__SSE2__)
/* The '\n' bytes of [at, min(at + 16, end)) as bits 0..15; at < end. Sixteen bytes are read
 * at once, none past the end: the last 16 bytes of the buffer when fewer remain. */
static NS_ALWAYS_INLINE uint32_t
lf_mask16(const ns_cur_t *c, uint32_t at)
{
    const __m128i nl = _mm_set1_epi8('\n');
    uint32_t left = c->end - at;
    if (left >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c->base + at));
        return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
    }
    if (c->end >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c->base + c->end - 16));
        return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) >> (16u - left);
    }
    uint32_t bits = 0;
    for (uint32_t i = 0; i < left; i++)
        bits |= (uint32_t)(c->base[at + i] == '\n') << i;
    return bits;
}

/* The '\n' bytes of [at, min(at + 64, end)); at < end. */
static NS_ALWAYS_INLINE uint64_t
lf_block(const ns_cur_t *c, uint32_t at)
{
    uint64_t bits = 0;
    if (c->end - at >= 64) { /* the common case, with no test per 16 bytes */
        for (uint32_t k = 0; k < 64; k += 16)
            bits |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
                        _mm_loadu_si128((const __m128i *)(const void *)(c->base + at + k)),
                        _mm_set1_epi8('\n')))
                    << k;
        return bits;
    }
    for (uint32_t k = 0; k < 64 && at + k < c->end; k += 16)
        bits |= (uint64_t)lf_mask16(c, at + k) << k;
    return bits;
}

/* A map of the line ends from `at` on. */
static NS_ALWAYS_INLINE lf_map_t
lf_map(const ns_cur_t *c, uint32_t at)
{
    lf_map_t m = {at, at < c->end ? lf_block(c, at) : 0};
    return m;
}

/* The next line end in the map (the first not handed out yet), or the end of the buffer. */
static NS_ALWAYS_INLINE uint32_t
lf_next(lf_map_t *m, const ns_cur_t *c)
{
    while (m->bits == 0) {
        if (c->end - m->at <= 64)
            return c->end;
        m->at += 64;
        m->bits = lf_block(c, m->at);
    }
    uint32_t lf = m->at + (uint32_t)__builtin_ctzll(m->bits);
    m->bits &= m->bits - 1;
    return lf;
}
#else
static NS_ALWAYS_INLINE lf_map_t
lf_map(const ns_cur_t *c, uint32_t at)
{
    (void)c;
    lf_map_t m = {at, 0};
    return m;
}

static NS_ALWAYS_INLINE uint32_t
lf_next(lf_map_t *m, const ns_cur_t *c)
{
    uint32_t lf = ns_cur_find(c, m->at, '\n');
    m->at = lf + 1;
    return lf;
}
#endif

/* ---- start line ------------------------------------------------------------------------- */

/* Which message the bytes at the cursor start, without looking past the first SP of a
 * request or the version of a response. UNSUPPORTED: not HTTP; TRUNCATED: the bytes end before
 * it can be told. On OK, out->kind and out->method (requests) are set. */
static ns_parse_rc_t
recognise(const ns_cur_t *c, ns_http_t *out)
{
    uint32_t at = c->off, left = ns_cur_left(c);
    static const char resp[] = "HTTP/";
    uint32_t k = 0;
    while (k < 5 && k < left && ns_cur_at(c, at + k) == (uint8_t)resp[k])
        k++;
    if (k == 5) {
        out->kind = NS_HTTP_RESPONSE;
        return NS_PARSE_OK;
    }
    bool maybe = k == left; /* every byte there matches: could still be a response */
    uint8_t b0 = ns_cur_at(c, at);
    uint32_t letter = (uint32_t)b0 - 'A';
    if (letter >= 26u || ((METHOD_INITIALS >> letter) & 1u) == 0)
        return maybe ? NS_PARSE_TRUNCATED : NS_PARSE_UNSUPPORTED; /* no method starts so */
    for (uint32_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        if ((uint8_t)methods[m].name[0] != b0)
            continue;
        uint32_t n = methods[m].len;
        k = 0;
        while (k < n && k < left && ns_cur_at(c, at + k) == (uint8_t)methods[m].name[k])
            k++;
        if (k < n) {
            maybe |= k == left;
            continue;
        }
        if (left == n) {
            maybe = true;
            continue;
        }
        if (ns_cur_at(c, at + n) == ' ') {
            out->kind = NS_HTTP_REQUEST;
            out->method = span(at, n);
            return NS_PARSE_OK;
        }
    }
    return maybe ? NS_PARSE_TRUNCATED : NS_PARSE_UNSUPPORTED;
}

/* True when [at, end) begins with the text `p`. */
static bool
starts_with(const ns_cur_t *c, uint32_t at, uint32_t end, const char *p)
{
    for (uint32_t i = 0; p[i] != '\0'; i++)
        if (at + i >= end || ns_cur_at(c, at + i) != (uint8_t)p[i])
            return false;
    return true;
}

/* The rest of the request line [at, end) after "METHOD SP". Runs of spaces between the parts
 * are accepted (RFC 9112 section 3 lets a recipient split on whitespace). */
static ns_parse_rc_t
request_line(const ns_cur_t *c, uint32_t at, uint32_t end, ns_http_t *out)
{
    while (at < end && ns_cur_at(c, at) == ' ')
        at++;
    /* The target ends at the first space; one scan finds it and tells whether a control
     * byte or DEL comes before it (such a target is INVALID, after the checks below). */
    uint32_t sp = ns_cur_find_ctl_to(c, at, end);
    bool clean = sp == end || ns_cur_at(c, sp) == ' ';
    if (!clean)
        sp = ns_cur_find_to(c, sp, end, ' ');
    uint32_t v = sp;
    while (v < end && ns_cur_at(c, v) == ' ')
        v++;
    uint32_t ve = end;
    while (ve > v && ns_cur_at(c, ve - 1) == ' ')
        ve--;
    /* RTSP and SIP borrow HTTP's request syntax (and method names): not ours to decode. */
    if (v < ve && (starts_with(c, v, ve, "RTSP/") || starts_with(c, v, ve, "SIP/")))
        return NS_PARSE_UNSUPPORTED;
    if (sp == at || v == sp || ve - v != 8 || !is_version(c, v))
        return NS_PARSE_INVALID; /* no target, no version, or trailing garbage */
    if (!clean)
        return NS_PARSE_INVALID;
    out->uri = span(at, sp - at);
    out->version = span(v, 8);
    return NS_PARSE_OK;
}

/* A request line cut by the end of the buffer at `end`: the target as far as it goes and,
 * when it ended, the version if complete (tshark shows the same for a split request line). */
static void
partial_request_line(const ns_cur_t *c, uint32_t at, uint32_t end, ns_http_t *out)
{
    uint32_t sp = at;
    while (sp < end && ns_cur_at(c, sp) != ' ')
        sp++;
    if (sp > at)
        out->uri = span(at, sp - at);
    if (sp < end && end - sp >= 9 && is_version(c, sp + 1))
        out->version = span(sp + 1, 8);
}

/* A status line [at, end): "HTTP/1.x SP 3DIGIT [SP reason]". */
static ns_parse_rc_t
status_line(const ns_cur_t *c, uint32_t at, uint32_t end, ns_http_t *out)
{
    if (end - at < 12 || !is_version(c, at) || ns_cur_at(c, at + 8) != ' ')
        return NS_PARSE_INVALID;
    uint32_t code = 0;
    for (uint32_t i = 9; i < 12; i++) {
        uint8_t b = ns_cur_at(c, at + i);
        if (!is_digit(b))
            return NS_PARSE_INVALID;
        code = code * 10u + (uint32_t)(b - '0');
    }
    if (end - at > 12 && ns_cur_at(c, at + 12) != ' ')
        return NS_PARSE_INVALID; /* a 4-digit code, or no space before the reason */
    out->version = span(at, 8);
    out->status = (uint16_t)code;
    out->reason = end - at > 13 ? span(at + 13, end - at - 13) : span(at + 12, 0);
    return NS_PARSE_OK;
}

/* ---- header lines ----------------------------------------------------------------------- */

/* Content-Length value [at, at+n): digits only, bounded; -1 otherwise. */
static int64_t
parse_clen(const ns_cur_t *c, uint32_t at, uint32_t n)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b = ns_cur_at(c, at + i);
        if (!is_digit(b) || v > (HTTP_MAX_CLEN - 9) / 10)
            return -1; /* a sign, a list ("5, 5"), garbage, or an absurd size */
        v = v * 10 + (b - '0');
    }
    return v;
}

/* The headers NetScope keeps. */
enum { H_OTHER, H_HOST, H_USER_AGENT, H_CONTENT_TYPE, H_CONTENT_LENGTH };

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight bytes of text as a little-endian word, and the mask of its first `n` bytes. */
static NS_ALWAYS_INLINE uint64_t
text8(const char s[8])
{
    uint64_t w;
    __builtin_memcpy(&w, s, 8);
    return w;
}

#define LOW_BYTES(n) ((n) >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8u * (n))) - 1u)

/* Which kept header the line at `at` names, from its first 16 bytes (all in the buffer):
 * the name, in any case, and its colon. Sets *colon. Case is folded by setting bit 5 of the
 * bytes where the name has a letter (which maps 'A'..'Z' and nothing else onto 'a'..'z');
 * the '-' and ':' are compared as they are. A line shorter than its match would have its CR
 * or LF where the match needs a letter or the colon, so a match lies inside the line. */
static NS_ALWAYS_INLINE uint32_t
header_kind16(const ns_cur_t *c, uint32_t at, uint32_t *colon)
{
    uint64_t w0, w1;
    __builtin_memcpy(&w0, c->base + at, 8);
    if (((w0 | UINT64_C(0x20202020)) & LOW_BYTES(5)) == text8("host:\0\0")) {
        *colon = at + 4;
        return H_HOST;
    }
    bool user = (w0 | UINT64_C(0x2020200020202020)) == text8("user-age");
    bool content = (w0 | UINT64_C(0x0020202020202020)) == text8("content-");
    if (!user && !content)
        return H_OTHER;
    __builtin_memcpy(&w1, c->base + at + 8, 8);
    if (user) {
        if (((w1 | UINT64_C(0x2020)) & LOW_BYTES(3)) != text8("nt:\0\0\0\0"))
            return H_OTHER;
        *colon = at + 10;
        return H_USER_AGENT;
    }
    if (((w1 | UINT64_C(0x20202020)) & LOW_BYTES(5)) == text8("type:\0\0\0")) {
        *colon = at + 12;
        return H_CONTENT_TYPE;
    }
    if (((w1 | UINT64_C(0x202020202020)) & LOW_BYTES(7)) == text8("length:\0")) {
        *colon = at + 14;
        return H_CONTENT_LENGTH;
    }
    return H_OTHER;
}
#endif

/* Which kept header the line [at, end) names, byte by byte (near the end of the buffer).
 * Sets *colon. */
static uint32_t
header_kind(const ns_cur_t *c, uint32_t at, uint32_t end, uint32_t *colon)
{
    uint8_t b0 = ns_cur_at(c, at);
    if (b0 == ' ' || b0 == '\t')
        return H_OTHER; /* obsolete line folding: a continuation of the previous value */
    *colon = ns_cur_find_to(c, at, end, ':');
    if (*colon >= end)
        return H_OTHER; /* not a field line: skipped */
    uint32_t n = *colon - at;
    if (eq_nocase(c, at, n, "host", 4))
        return H_HOST;
    if (eq_nocase(c, at, n, "user-agent", 10))
        return H_USER_AGENT;
    if (eq_nocase(c, at, n, "content-type", 12))
        return H_CONTENT_TYPE;
    if (eq_nocase(c, at, n, "content-length", 14))
        return H_CONTENT_LENGTH;
    return H_OTHER;
}

/* One header line [at, end); `cut` when the buffer ended inside it (a value is then kept as
 * far as it goes, as tshark shows it, except a length, which would be wrong). Lines with no
 * colon, folded lines and the headers not kept are skipped. */
static NS_ALWAYS_INLINE void
header_line(const ns_cur_t *c, uint32_t at, uint32_t end, ns_http_t *out, bool *clen_seen, bool cut)
{
    uint32_t colon = 0, kind;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (c->end - at >= 16)
        kind = header_kind16(c, at, &colon);
    else
#endif
        kind = header_kind(c, at, end, &colon);
    if (kind == H_OTHER)
        return;
    uint32_t v = colon + 1, ve = end;
    while (v < ve && (ns_cur_at(c, v) == ' ' || ns_cur_at(c, v) == '\t'))
        v++;
    while (ve > v && (ns_cur_at(c, ve - 1) == ' ' || ns_cur_at(c, ve - 1) == '\t'))
        ve--;
    if (kind == H_HOST) {
        out->host = span(v, ve - v);
    } else if (kind == H_USER_AGENT) {
        out->user_agent = span(v, ve - v);
    } else if (kind == H_CONTENT_TYPE) {
        out->content_type = span(v, ve - v);
    } else if (!cut) {
        int64_t len = parse_clen(c, v, ve - v);
        /* RFC 9112 6.3: differing values make the length unknowable. */
        out->content_length = *clen_seen && out->content_length != len ? -1 : len;
        *clen_seen = true;
    }
}

/* ---- entry points ----------------------------------------------------------------------- */

static void
http_reset(ns_http_t *out)
{
    ns_span_t none = {0, 0};
    out->kind = NS_HTTP_NONE;
    out->headers_complete = false;
    out->status = 0;
    out->method = out->uri = out->version = out->reason = none;
    out->host = out->user_agent = out->content_type = none;
    out->content_length = -1;
    out->header_len = 0;
}

static void
emit_fields(ns_fields_t *f, const ns_cur_t *c, const ns_http_t *out, uint32_t start)
{
    if (out->kind == NS_HTTP_REQUEST) {
        ns_field_bool(f, "http.request", start, 0, true);
        field_span(f, c, "http.request.method", out->method);
        if (out->uri.len)
            field_span(f, c, "http.request.uri", out->uri);
        if (out->version.len)
            field_span(f, c, "http.request.version", out->version);
    } else {
        ns_field_bool(f, "http.response", start, 0, true);
        if (out->version.len) {
            field_span(f, c, "http.response.version", out->version);
            ns_field_uint(f, "http.response.code", out->version.off + 9, 3, out->status);
            field_span(f, c, "http.response.phrase", out->reason);
        }
    }
    if (out->host.off)
        field_span(f, c, "http.host", out->host);
    if (out->user_agent.off)
        field_span(f, c, "http.user_agent", out->user_agent);
    if (out->content_type.off)
        field_span(f, c, "http.content_type", out->content_type);
    if (out->content_length >= 0)
        ns_field_uint(f, "http.content_length", start, 0, (uint64_t)out->content_length);
}

ns_parse_rc_t
ns_http_parse(ns_cur_t *c, ns_http_t *out, ns_fields_t *fields)
{
    uint32_t start = c->off;
    http_reset(out);
    ns_parse_rc_t rc = recognise(c, out);
    if (rc != NS_PARSE_OK)
        return rc;
    int32_t node = ns_field_open(fields, "http", start);

    lf_map_t lines = lf_map(c, start);
    uint32_t lf = lf_next(&lines, c);
    if (lf == c->end) {
        rc = NS_PARSE_TRUNCATED;
        if (out->kind == NS_HTTP_REQUEST)
            partial_request_line(c, start + out->method.len + 1, c->end, out);
    } else {
        uint32_t end = start + line_len(c, start, lf);
        rc = out->kind == NS_HTTP_REQUEST ? request_line(c, start + out->method.len + 1, end, out)
                                          : status_line(c, start, end, out);
        if (rc == NS_PARSE_UNSUPPORTED) {
            /* Another protocol after all: take back the node opened above. */
            ns_field_close(fields, node, start);
            if (fields && node >= 0 && (uint32_t)node + 1 == fields->n)
                fields->n--;
            http_reset(out);
            c->off = start;
            return rc;
        }
    }
    bool clen_seen = false;
    uint32_t at = lf + 1;
    for (uint32_t n = 0; rc == NS_PARSE_OK && n < HTTP_MAX_LINES; n++) {
        lf = lf_next(&lines, c);
        if (lf == c->end) {
            rc = NS_PARSE_TRUNCATED;
            uint32_t end = c->end;
            if (end > at && ns_cur_at(c, end - 1) == '\r')
                end--;
            if (end > at)
                header_line(c, at, end, out, &clen_seen, true);
            break;
        }
        uint32_t len = line_len(c, at, lf);
        if (len == 0) {
            out->headers_complete = true;
            out->header_len = lf + 1 - start;
            break;
        }
        header_line(c, at, at + len, out, &clen_seen, false);
        at = lf + 1;
    }
    c->off = out->headers_complete ? start + out->header_len : c->end;
    /* Spans are offsets, so offset 0 never holds a header value (the start line is there). */
    if (fields)
        emit_fields(fields, c, out, start);
    ns_field_close(fields, node, c->off);
    return rc;
}

ns_parse_rc_t
ns_decode_http(ns_cur_t *c, ns_dec_t *d)
{
    ns_pkt_t *pkt = d->pkt;
    ns_parse_rc_t rc = ns_http_parse(c, &pkt->http, d->f);
    if (pkt->http.kind != NS_HTTP_NONE)
        pkt->app = NS_APP_HTTP;
    if (rc == NS_PARSE_TRUNCATED && pkt->payload_cap >= pkt->payload_len)
        rc = NS_PARSE_OK; /* the head continues in the next segment */
    return rc;
}

/* dns.c - DNS message decoder (over UDP, and over TCP with its 2-byte length prefix).
 *
 * Spec: RFC 1035 (message format, name compression), RFC 3596 (AAAA), RFC 2782 (SRV),
 * RFC 6891 (EDNS OPT), RFC 7766 (DNS over TCP); mDNS (RFC 6762) and LLMNR (RFC 4795) share
 * the wire format.
 *
 *    0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                      ID                       |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |            QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT (4 x 16 bits)
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |  questions:  NAME | TYPE | CLASS                |
 *   |  RRs:        NAME | TYPE | CLASS | TTL (32) | RDLENGTH | RDATA
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 *   NAME: labels (length 0..63, then the bytes) ending in a zero byte, or in a compression
 *   pointer (two bytes 11pppppp pppppppp: offset from the start of the message).
 *
 * Every count is hostile: the record loop stops at the end of the bytes and after
 * DNS_MAX_RECORDS records. Names are followed through at most DNS_MAX_JUMPS pointers, each of
 * which must point strictly before the segment it was read from, and may not exceed 255 wire
 * octets: a pointer loop, a forward pointer or an overlong name is INVALID, never a hang.
 * Label types 01 and 10 (RFC 6891 section 5) are INVALID.
 *
 * Names are shown as tshark 4.0 shows them (its format_text()): printable ASCII as is
 * (including '.' and '\' inside a label, so two names can look alike, exactly as in
 * tshark), C escapes (\n, \t, \ooo) for ASCII controls, UTF-8 passed through, invalid UTF-8 as
 * U+FFFD and non-printable code points as \uXXXX. "Non-printable" follows GLib only as far as
 * controls, format characters, surrogates and non-characters; unassigned code points print.
 *
 * Outcomes: ns_dns_parse() returns TRUNCATED when the bytes end before the counts are
 * satisfied; the per-packet wrappers turn that into INVALID when the whole message was
 * captured (the message contradicts itself), keep it TRUNCATED when the snaplen cut it, and
 * into OK for a DNS-over-TCP message that continues in the next segment.
 *
 * Fast path (no field list): names are still followed (so that the outcome never depends on
 * the field list), but only the strings the summary keeps are built, and an owner name that
 * is just a pointer to a name already read whole (the question's, a CNAME's target) is
 * settled from what that read found (name_seen()).
 */
#include "decode_int.h"

#define DNS_HDR_LEN 12u
#define DNS_FIXED_RR 10u       /* TYPE, CLASS, TTL, RDLENGTH */
#define DNS_MAX_RECORDS 512u   /* questions + RRs examined per message */
#define DNS_MAX_JUMPS 64u      /* compression pointers followed per name */
#define DNS_MAX_WIRE_NAME 255u /* RFC 1035 2.3.4: label and length octets */
#define DNS_MAX_TXT 64u        /* TXT strings reported per RR */
#define DNS_TEXT_CAP 1024u     /* a 255-octet name shown with \ooo escapes: < 4 x 255 */

#define T_A 1u
#define T_NS 2u
#define T_CNAME 5u
#define T_SOA 6u
#define T_PTR 12u
#define T_MX 15u
#define T_TXT 16u
#define T_AAAA 28u
#define T_SRV 33u
#define T_OPT 41u

#define SECTION_AN 1u

/* ---- presentation text ------------------------------------------------------------------ */

/* Bounded output to up to two buffers: the field text and the summary's (shorter) copy. An
 * append that does not fit a buffer marks it full and writes nothing more to it, so a clipped
 * name never ends in half an escape, and the summary reads the same with or without a field
 * list. A NULL buffer is skipped. */
typedef struct {
    char *buf;
    uint32_t cap, len;
    bool full;
    char *keep;
    uint32_t kcap, klen;
    bool kfull;
    bool bad; /* the name had a label type we cannot read (see dns_name) */
} dns_text_t;

static NS_ALWAYS_INLINE void
text_put(dns_text_t *t, const char *s, uint32_t n)
{
    if (t->buf && !t->full) {
        if (t->cap - t->len < n) {
            t->full = true;
        } else {
            for (uint32_t i = 0; i < n; i++)
                t->buf[t->len + i] = s[i];
            t->len += n;
        }
    }
    if (t->keep && !t->kfull) {
        if (t->kcap - t->klen < n) {
            t->kfull = true;
        } else {
            for (uint32_t i = 0; i < n; i++)
                t->keep[t->klen + i] = s[i];
            t->klen += n;
        }
    }
}

static NS_ALWAYS_INLINE bool
text_wanted(const dns_text_t *t)
{
    return (t->buf && !t->full) || (t->keep && !t->kfull);
}

static NS_ALWAYS_INLINE void
text_putc(dns_text_t *t, char ch)
{
    text_put(t, &ch, 1);
}

/* Code points GLib's g_unichar_isprint() rejects that a DNS label may plausibly carry:
 * controls (Cc), format characters (Cf) and non-characters. Surrogates never get here. */
static bool
uc_printable(uint32_t uc)
{
    static const uint32_t bad[][2] = {
        {0x0000, 0x001f},   {0x007f, 0x009f},   {0x00ad, 0x00ad},   {0x0600, 0x0605},
        {0x061c, 0x061c},   {0x06dd, 0x06dd},   {0x070f, 0x070f},   {0x0890, 0x0891},
        {0x08e2, 0x08e2},   {0x180e, 0x180e},   {0x200b, 0x200f},   {0x202a, 0x202e},
        {0x2060, 0x2064},   {0x2066, 0x206f},   {0xfdd0, 0xfdef},   {0xfeff, 0xfeff},
        {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
        {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
    };
    if ((uc & 0xfffeu) == 0xfffeu)
        return false; /* U+xFFFE, U+xFFFF: non-characters in every plane */
    for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (uc >= bad[i][0] && uc <= bad[i][1])
            return false;
    return true;
}

/* \ooo for byte `b` into `e`. */
static void
octal_text(uint8_t b, char e[4])
{
    e[0] = '\\';
    e[1] = (char)('0' + ((b >> 6) & 7));
    e[2] = (char)('0' + ((b >> 3) & 7));
    e[3] = (char)('0' + (b & 7));
}

/* Code point `uc` as tshark shows it, into `out`: UTF-8 when printable, else \u and 4 hex
 * digits or \U and 8. Returns the length. (The text helpers take no dns_text_t: a sink whose
 * address never leaves the inlined walk stays in registers.) */
static uint32_t
uc_text(uint32_t uc, char out[10])
{
    static const char hex[] = "0123456789abcdef";
    if (uc_printable(uc)) {
        uint32_t n = uc < 0x80 ? 1 : uc < 0x800 ? 2 : uc < 0x10000 ? 3 : 4;
        static const uint8_t first[] = {0, 0, 0xc0, 0xe0, 0xf0};
        for (uint32_t i = n - 1; i > 0; i--) {
            out[i] = (char)((uc & 0x3fu) | 0x80u);
            uc >>= 6;
        }
        out[0] = (char)(uc | first[n]);
        return n;
    }
    uint32_t digits = uc <= 0xffffu ? 4 : 8;
    out[0] = '\\';
    out[1] = digits == 4 ? 'u' : 'U';
    for (uint32_t i = 0; i < digits; i++)
        out[2 + i] = hex[(uc >> (4 * (digits - 1 - i))) & 0xfu];
    return 2 + digits;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Nonzero when any byte of `w` is outside printable ASCII (0x20..0x7e): a byte below 0x20
 * borrows in w - 0x20.., one at 0x7f carries into bit 7 in w + 0x01.., and 0x80 and up have
 * bit 7 already. A borrow or carry can only spill into bytes above one that is flagged itself,
 * so the answer for the word as a whole is exact. */
static NS_ALWAYS_INLINE uint64_t
unprintable8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    return (((w - 0x20u * ones) & ~w) | (w + ones) | w) & high;
}

/* Can a buffer (NULL or full: nothing to write) take the label as 8-byte stores? When not,
 * the byte walk decides between copying and marking the buffer full. */
static NS_ALWAYS_INLINE bool
label_room(const char *buf, bool full, uint32_t cap, uint32_t len, uint32_t n)
{
    return buf == NULL || full || cap - len >= (n > 8 ? n : 8);
}

/* One 8-byte store at `at` past the buffer's text, when the buffer is wanted. */
static NS_ALWAYS_INLINE void
label_store(char *buf, bool full, uint32_t len, uint32_t at, uint64_t w)
{
    if (buf && !full)
        __builtin_memcpy(buf + len + at, &w, 8);
}

/* The common label, every byte printable ASCII, copied 8 bytes at a time: words over the
 * label, the last one ending at its last byte (overlapping the one before, or for a label
 * shorter than 8 reaching back over bytes already read, then shifted down). Reads stay within
 * [0, at + n), bounds-checked by the caller. Returns false, having changed nothing the caller
 * keeps, when a byte needs escaping, a buffer lacks room for whole words, or a short label
 * sits in the first 8 bytes of the buffer. */
static NS_ALWAYS_INLINE bool
text_label_fast(dns_text_t *t, const uint8_t *base, uint32_t at, uint32_t n)
{
    if (!label_room(t->buf, t->full, t->cap, t->len, n) ||
        !label_room(t->keep, t->kfull, t->kcap, t->klen, n))
        return false;
    const uint8_t *s = base + at;
    uint64_t w, bad = 0;
    if (n < 8) {
        if (at + n < 8)
            return false;
        __builtin_memcpy(&w, s + n - 8, 8);
        w >>= 8u * (8u - n);
        bad = unprintable8(w) & ((UINT64_C(1) << (8u * n)) - 1u);
        label_store(t->buf, t->full, t->len, 0, w);
        label_store(t->keep, t->kfull, t->klen, 0, w);
    } else {
        for (uint32_t i = 0;; i += 8) {
            if (i + 8 > n)
                i = n - 8;
            __builtin_memcpy(&w, s + i, 8);
            bad |= unprintable8(w);
            label_store(t->buf, t->full, t->len, i, w);
            label_store(t->keep, t->kfull, t->klen, i, w);
            if (i + 8 == n)
                break;
        }
    }
    if (bad)
        return false;
    if (t->buf && !t->full)
        t->len += n;
    if (t->keep && !t->kfull)
        t->klen += n;
    return true;
}
#else
static NS_ALWAYS_INLINE bool
text_label_fast(dns_text_t *t, const uint8_t *base, uint32_t at, uint32_t n)
{
    (void)t, (void)base, (void)at, (void)n;
    return false;
}
#endif

/* Append label bytes [at, at+n) of `c` (already bounds-checked) escaped as tshark 4.0. */
static NS_ALWAYS_INLINE void
text_label(dns_text_t *t, const ns_cur_t *c, uint32_t at, uint32_t n)
{
    if (text_label_fast(t, c->base, at, n))
        return;
    uint32_t i = at, end = at + n;
    while (i < end && text_wanted(t)) {
        /* A run of printable ASCII (nearly every name is one) goes in one piece; the bytes
         * were bounds-checked by the caller. */
        uint32_t j = i;
        while (j < end && (uint8_t)(c->base[j] - 0x20u) < 0x5fu)
            j++;
        if (j > i) {
            text_put(t, (const char *)c->base + i, j - i);
            i = j;
            continue;
        }
        uint8_t b = ns_cur_at(c, i++); /* not printable ASCII: escaped or UTF-8 */
        if (b < 0x80) {
            static const char esc[] = "abtnvfr"; /* \a..\r are 7..13 */
            if (b >= 7 && b <= 13) {
                char e[2] = {'\\', esc[b - 7]};
                text_put(t, e, 2);
            } else {
                char e[4];
                octal_text(b, e);
                text_put(t, e, 4);
            }
            continue;
        }
        uint32_t more, uc;
        if ((b & 0xe0u) == 0xc0u)
            more = 1, uc = b & 0x1fu;
        else if ((b & 0xf0u) == 0xe0u)
            more = 2, uc = b & 0x0fu;
        else if ((b & 0xf8u) == 0xf0u)
            more = 3, uc = b & 0x07u;
        else if ((b & 0xfcu) == 0xf8u)
            more = 4, uc = b & 0x03u;
        else if ((b & 0xfeu) == 0xfcu)
            more = 5, uc = b & 0x01u;
        else
            more = 0, uc = 0xfffdu; /* a continuation byte, 0xfe or 0xff */
        for (uint32_t k = 0; k < more; k++) {
            uint8_t cb = i < end ? ns_cur_at(c, i) : 0;
            if (i >= end || (cb & 0xc0u) != 0x80u) {
                uc = 0xfffdu; /* incomplete: the byte that broke it starts the next one */
                break;
            }
            i++;
            uc = (uc << 6) | (cb & 0x3fu);
        }
        if (uc >= 0x110000u || (uc & 0xfffff800u) == 0xd800u)
            uc = 0xfffdu;
        char u[10];
        text_put(t, u, uc_text(uc, u));
    }
}

/* ---- names ------------------------------------------------------------------------------ */

/* Read the name at the cursor; the cursor moves past its in-place part (up to its zero byte or
 * its first pointer). Pointers are offsets from `msg`, the message's first byte. The name in
 * presentation form goes to `t` (which may have no buffer) when `text` is set (a constant at
 * each call: the walk without text is its own, smaller copy). Returns TRUNCATED when the name
 * runs past the end of `c`, INVALID for a loop, a forward pointer, a reserved label type or
 * an overlong name. */
static NS_ALWAYS_INLINE ns_parse_rc_t
dns_name(ns_cur_t *c, uint32_t msg, dns_text_t *t, bool text, uint32_t *jumps_out)
{
    uint32_t pos = c->off;
    uint32_t seg = pos; /* start of the run of labels being read */
    uint32_t after = 0; /* where the cursor resumes: set at the first pointer or the end */
    uint32_t wire = 0;  /* wire octets so far */
    uint32_t jumps = 0;
    bool labels = false;
    for (;;) { /* each turn adds a label (wire <= 255) or a jump (jumps <= 64) */
        if (pos >= c->end)
            goto truncated;
        uint8_t len = ns_cur_at(c, pos);
        if (len == 0) {
            if (after == 0)
                after = pos + 1;
            break;
        }
        if ((len & 0xc0u) == 0xc0u) {
            if (pos + 1 >= c->end)
                goto truncated;
            uint32_t target = msg + ((uint32_t)(len & 0x3fu) << 8 | ns_cur_at(c, pos + 1));
            if (after == 0)
                after = pos + 2;
            if (target >= seg || ++jumps > DNS_MAX_JUMPS)
                return NS_PARSE_INVALID;
            pos = seg = target;
            continue;
        }
        if ((len & 0xc0u) == 0x80u)
            return NS_PARSE_INVALID; /* label type 10: unallocated */
        if ((len & 0xc0u) == 0x40u) {
            /* Label type 01: extended (RFC 6891 section 5). The one ever defined, 0x41, is
             * RFC 2673's bit-string label; we show it as Wireshark does, \[x<hex>/<bits>].
             * Any other cannot be read past: like Wireshark, the name is reported as
             * unreadable and ends at that byte; the message as a whole is INVALID. */
            if (len != 0x41u) {
                static const char unknown[] = "<Unknown extended label>";
                if (text) {
                    t->len = 0;
                    t->klen = 0;
                    text_put(t, unknown, sizeof(unknown) - 1);
                }
                t->bad = true;
                c->off = after ? after : pos + 1;
                return NS_PARSE_OK;
            }
            if (pos + 1 >= c->end)
                goto truncated;
            uint32_t bits = ns_cur_at(c, pos + 1);
            if (bits == 0)
                bits = 256;
            uint32_t nbytes = (bits + 7u) / 8u;
            wire += 2u + nbytes;
            if (wire + 1u > DNS_MAX_WIRE_NAME)
                return NS_PARSE_INVALID;
            if (c->end - pos - 2u < nbytes)
                goto truncated;
            static const char hex[] = "0123456789abcdef";
            if (!text) {
                labels = true;
                pos += 2u + nbytes;
                continue;
            }
            if (labels)
                text_putc(t, '.');
            text_put(t, "\\[x", 3);
            for (uint32_t i = 0; i < nbytes; i++) {
                uint8_t b = ns_cur_at(c, pos + 2 + i);
                text_putc(t, hex[b >> 4]);
                text_putc(t, hex[b & 15u]);
            }
            text_putc(t, '/');
            char num[4];
            uint32_t nd = 0;
            for (uint32_t v = bits; v > 0; v /= 10)
                num[nd++] = (char)('0' + v % 10);
            while (nd > 0)
                text_putc(t, num[--nd]);
            text_putc(t, ']');
            labels = true;
            pos += 2u + nbytes;
            continue;
        }
        wire += 1u + len;
        if (wire + 1u > DNS_MAX_WIRE_NAME)
            return NS_PARSE_INVALID;
        if (c->end - pos - 1u < len)
            goto truncated;
        if (text) {
            if (labels)
                text_putc(t, '.');
            text_label(t, c, pos + 1, len);
        }
        labels = true;
        pos += 1u + len;
    }
    if (!labels && text)
        text_put(t, "<Root>", 6);
    c->off = after;
    *jumps_out = jumps;
    return NS_PARSE_OK;
truncated:
    c->short_read = true;
    c->off = c->end;
    return NS_PARSE_TRUNCATED;
}

/* Report the name read from [at, c->off) as field `name`, its text kept in the arena. */
static void
field_name(ns_fields_t *f, const char *name, uint32_t at, const ns_cur_t *c, const char *text,
           uint32_t len)
{
    const char *s = ns_fields_keep(f, text, len);
    if (s)
        ns_field_str(f, name, at, c->off - at, s, len);
}

/* A name read whole: where it starts, the end of the bytes it was read within, and the
 * pointers followed. */
typedef struct {
    uint32_t at, end;
    uint32_t jumps;
} dns_seen_t;

#define DNS_SEEN 4u /* names remembered per message (a power of two) */

typedef struct {
    ns_dns_t *out;
    ns_fields_t *f;
    uint32_t msg; /* offset of the message's first byte */
    bool bad;     /* a name was unreadable: the message is INVALID once parsed */
    uint32_t n_seen;
    dns_seen_t seen[DNS_SEEN]; /* the last names read whole (n_seen of them, at most 4) */
} dns_ctx_t;

/* An owner name that is only a pointer to a name already read whole (in answers nearly
 * always: to the question's name) needs no second walk. Reading from the pointer would go
 * exactly as reading from its target did, one jump further: the same bytes, all below that
 * read's end (so below this cursor's, which is no shorter), the same wire octets (none come
 * before the pointer). So it is OK unless that one more jump is one too many. Returns
 * false when that is not the case here (the full walk then decides); else sets *rc and moves
 * the cursor past the pointer, as the walk would. */
static NS_ALWAYS_INLINE bool
name_seen(ns_cur_t *c, const dns_ctx_t *x, ns_parse_rc_t *rc)
{
    uint32_t pos = c->off;
    if (pos >= c->end || c->end - pos < 2 || (ns_cur_at(c, pos) & 0xc0u) != 0xc0u)
        return false;
    uint32_t target = x->msg + ((uint32_t)(ns_cur_at(c, pos) & 0x3fu) << 8 | ns_cur_at(c, pos + 1));
    if (target >= pos)
        return false; /* a forward pointer: the walk reports it */
    uint32_t n = x->n_seen < DNS_SEEN ? x->n_seen : DNS_SEEN;
    for (uint32_t i = 0; i < n; i++) {
        const dns_seen_t *e = &x->seen[i];
        if (e->at == target && e->end <= c->end) {
            *rc = e->jumps + 1u > DNS_MAX_JUMPS ? NS_PARSE_INVALID : NS_PARSE_OK;
            if (*rc == NS_PARSE_OK)
                c->off = pos + 2;
            return true;
        }
    }
    return false;
}

/* Remember a name read whole from `at` within `end`. */
static NS_ALWAYS_INLINE void
name_remember(dns_ctx_t *x, uint32_t at, uint32_t end, uint32_t jumps)
{
    dns_seen_t *e = &x->seen[x->n_seen++ & (DNS_SEEN - 1u)];
    e->at = at;
    e->end = end;
    e->jumps = jumps;
}

/* Read a name and report it as field `fname`; `keep` (may be NULL, with keep_cap 0) also gets
 * the text, clipped to keep_cap bytes. With neither a field list nor `keep`, the name is only
 * validated. */
static ns_parse_rc_t
name_field(ns_cur_t *c, uint32_t msg, ns_fields_t *f, const char *fname, char *keep,
           uint32_t keep_cap, uint32_t *keep_len, bool *bad, uint32_t *jumps)
{
    uint32_t at = c->off;
    char buf[DNS_TEXT_CAP];
    dns_text_t t = {.buf = f ? buf : NULL, .cap = sizeof(buf), .keep = keep, .kcap = keep_cap};
    /* Three copies of the walk: for the protocol tree, for the summary alone (no field text
     * buffer: every test of it folds away) and validation only (most RR owner names). */
    ns_parse_rc_t rc;
    if (f) {
        rc = dns_name(c, msg, &t, true, jumps);
    } else if (keep) {
        dns_text_t k = {.keep = keep, .kcap = keep_cap};
        rc = dns_name(c, msg, &k, true, jumps);
        t.klen = k.klen;
        t.bad = k.bad;
    } else {
        rc = dns_name(c, msg, &t, false, jumps);
    }
    if (rc != NS_PARSE_OK)
        return rc;
    if (t.bad)
        *bad = true;
    if (f)
        field_name(f, fname, at, c, t.buf, t.len);
    if (keep)
        *keep_len = t.klen;
    return NS_PARSE_OK;
}

/* ---- records ---------------------------------------------------------------------------- */

static ns_parse_rc_t
question(ns_cur_t *c, dns_ctx_t *x, bool first)
{
    ns_dns_t *out = x->out;
    uint32_t qlen = 0;
    uint32_t at_name = c->off, jumps = 0;
    ns_parse_rc_t rc = name_field(c, x->msg, x->f, "dns.qry.name", first ? out->qname : NULL,
                                  first ? NS_DNS_NAME_MAX : 0, &qlen, &x->bad, &jumps);
    if (rc == NS_PARSE_OK && first && !x->bad)
        name_remember(x, at_name, c->end, jumps); /* what answers' owner names point to */
    uint32_t at = c->off;
    uint16_t qtype = ns_cur_be16(c);
    uint16_t qclass = ns_cur_be16(c);
    if (rc == NS_PARSE_OK && !ns_cur_ok(c))
        rc = NS_PARSE_TRUNCATED;
    if (rc != NS_PARSE_OK) {
        if (first)
            out->qname[0] = '\0'; /* a question cut short is not kept, not even its name */
        return rc;
    }
    ns_field_uint(x->f, "dns.qry.type", at, 2, qtype);
    ns_field_hex(x->f, "dns.qry.class", at + 2, 2, qclass);
    if (first) {
        out->qname[qlen] = '\0';
        out->qname_len = (uint16_t)qlen;
        out->qtype = qtype;
        out->qclass = qclass;
        out->has_question = true;
    }
    return NS_PARSE_OK;
}

/* A name inside RDATA, reported as `fname` and kept in `a` (may be NULL). */
static ns_parse_rc_t
rdata_name(ns_cur_t *rd, dns_ctx_t *x, const char *fname, ns_dns_answer_t *a)
{
    uint32_t n = 0;
    uint32_t at = rd->off, jumps = 0;
    ns_parse_rc_t rc = name_field(rd, x->msg, x->f, fname, a ? (char *)a->data : NULL,
                                  a ? NS_DNS_RDATA_MAX : 0, &n, &x->bad, &jumps);
    if (rc == NS_PARSE_OK && !x->bad)
        name_remember(x, at, rd->end, jumps); /* a CNAME's target: the next owner name */
    if (a && rc == NS_PARSE_OK)
        a->data_len = (uint8_t)n;
    return rc;
}

/* RDATA of the types we show; `rd` covers exactly RDLENGTH captured bytes, so running out of
 * bytes here means the RDATA is malformed (INVALID). `a` is the summary slot or NULL. */
static ns_parse_rc_t
rdata(ns_cur_t *rd, dns_ctx_t *x, uint16_t type, ns_dns_answer_t *a)
{
    ns_fields_t *f = x->f;
    uint32_t at = rd->off;
    uint32_t rdlen = ns_cur_left(rd);
    ns_parse_rc_t rc = NS_PARSE_OK;
    switch (type) {
    case T_A:
    case T_AAAA: {
        uint32_t alen = type == T_A ? 4u : 16u;
        if (rdlen != alen)
            return NS_PARSE_INVALID;
        if (a) {
            ns_cur_copy(rd, a->data, alen);
            a->data_len = (uint8_t)alen;
        }
        ns_field_raw(f, type == T_A ? "dns.a" : "dns.aaaa", at, alen,
                     type == T_A ? NS_FT_IPV4 : NS_FT_IPV6);
        return NS_PARSE_OK;
    }
    case T_CNAME:
        rc = rdata_name(rd, x, "dns.cname", a);
        break;
    case T_NS:
        rc = rdata_name(rd, x, "dns.ns", a);
        break;
    case T_PTR:
        rc = rdata_name(rd, x, "dns.ptr.domain_name", a);
        break;
    case T_MX: {
        uint16_t pref = ns_cur_be16(rd);
        if (!ns_cur_ok(rd))
            return NS_PARSE_INVALID;
        ns_field_uint(f, "dns.mx.preference", at, 2, pref);
        rc = rdata_name(rd, x, "dns.mx.mail_exchange", a);
        break;
    }
    case T_SRV: {
        uint16_t prio = ns_cur_be16(rd);
        uint16_t weight = ns_cur_be16(rd);
        uint16_t port = ns_cur_be16(rd);
        if (!ns_cur_ok(rd))
            return NS_PARSE_INVALID;
        ns_field_uint(f, "dns.srv.priority", at, 2, prio);
        ns_field_uint(f, "dns.srv.weight", at + 2, 2, weight);
        ns_field_uint(f, "dns.srv.port", at + 4, 2, port);
        rc = rdata_name(rd, x, "dns.srv.target", a);
        break;
    }
    case T_SOA: {
        rc = rdata_name(rd, x, "dns.soa.mname", a);
        if (rc == NS_PARSE_OK)
            rc = rdata_name(rd, x, "dns.soa.rname", NULL);
        if (rc != NS_PARSE_OK)
            break;
        static const char *const names[5] = {"dns.soa.serial_number", "dns.soa.refresh_interval",
                                             "dns.soa.retry_interval", "dns.soa.expire_limit",
                                             "dns.soa.minimum_ttl"};
        uint32_t v[5];
        uint32_t vat = rd->off;
        for (uint32_t i = 0; i < 5; i++)
            v[i] = ns_cur_be32(rd);
        if (!ns_cur_ok(rd))
            return NS_PARSE_INVALID;
        for (uint32_t i = 0; i < 5; i++)
            ns_field_uint(f, names[i], vat + 4 * i, 4, v[i]);
        break;
    }
    case T_TXT:
        /* <length><bytes>, repeated; each string takes at least one byte. */
        for (uint32_t i = 0; i < DNS_MAX_TXT && ns_cur_left(rd) > 0; i++) {
            uint32_t sat = rd->off;
            uint8_t slen = ns_cur_u8(rd);
            ns_cur_skip(rd, slen);
            if (!ns_cur_ok(rd))
                return NS_PARSE_INVALID;
            if (a && i == 0) {
                uint32_t n = slen < NS_DNS_RDATA_MAX ? slen : NS_DNS_RDATA_MAX;
                for (uint32_t k = 0; k < n; k++)
                    a->data[k] = ns_cur_at(rd, sat + 1 + k);
                a->data_len = (uint8_t)n;
            }
            if (f)
                ns_field_str(f, "dns.txt", sat + 1, slen, (const char *)rd->base + sat + 1, slen);
        }
        return NS_PARSE_OK;
    default:
        return NS_PARSE_OK; /* shown as its length only */
    }
    /* A name that runs past RDLENGTH contradicts it. */
    return rc == NS_PARSE_TRUNCATED ? NS_PARSE_INVALID : rc;
}

static ns_parse_rc_t
resource_record(ns_cur_t *c, dns_ctx_t *x, uint32_t section)
{
    ns_dns_t *out = x->out;
    ns_fields_t *f = x->f;
    ns_parse_rc_t rc;
    uint32_t jumps = 0;
    if (f || !name_seen(c, x, &rc))
        rc = name_field(c, x->msg, f, "dns.resp.name", NULL, 0, NULL, &x->bad, &jumps);
    if (rc != NS_PARSE_OK)
        return rc;
    uint32_t at = c->off;
    ns_view_t h;
    if (!ns_cur_view(c, DNS_FIXED_RR, &h))
        return NS_PARSE_TRUNCATED;
    uint16_t type = ns_view_be16(&h, 0);
    uint16_t rclass = ns_view_be16(&h, 2);
    uint32_t ttl = ns_view_be32(&h, 4);
    uint16_t rdlen = ns_view_be16(&h, 8);
    if (!ns_cur_has(c, rdlen)) {
        ns_cur_skip(c, rdlen); /* sets the short read */
        return NS_PARSE_TRUNCATED;
    }
    ns_cur_t rd = ns_cur_sub(c, rdlen);
    ns_field_uint(f, "dns.resp.type", at, 2, type);
    if (type == T_OPT) {
        /* CLASS is the requestor's UDP payload size; TTL is ext-rcode, version, DO, Z. */
        uint8_t ext = (uint8_t)(ttl >> 24);
        ns_field_uint(f, "dns.rr.udp_payload_size", at + 2, 2, rclass);
        ns_field_hex(f, "dns.resp.ext_rcode", at + 4, 1, ext);
        ns_field_uint(f, "dns.resp.edns0_version", at + 5, 1, (ttl >> 16) & 0xffu);
        ns_field_uint(f, "dns.resp.len", at + 8, 2, rdlen);
        if (!out->edns) {
            out->edns = true;
            out->edns_udp_size = rclass;
            out->rcode = (uint16_t)((out->flags & 0xfu) | (uint32_t)ext << 4);
        }
        return NS_PARSE_OK; /* options are not decoded */
    }
    ns_field_hex(f, "dns.resp.class", at + 2, 2, rclass);
    ns_field_uint(f, "dns.resp.ttl", at + 4, 4, ttl);
    ns_field_uint(f, "dns.resp.len", at + 8, 2, rdlen);
    ns_dns_answer_t *a = NULL;
    if (section == SECTION_AN && out->n_answers < NS_DNS_MAX_ANSWERS) {
        a = &out->answers[out->n_answers++];
        a->type = type;
        a->rclass = rclass;
        a->ttl = ttl;
        a->data_len = 0;
    }
    return rdata(&rd, x, type, a);
}

/* The header's values into the summary, through a view: inlined for the whole header (its
 * length is then the constant 12 and every check folds away) and for one cut short (zeros
 * where it ends). */
static NS_ALWAYS_INLINE void
read_header(ns_dns_t *out, const ns_view_t *h)
{
    out->id = ns_view_be16(h, 0);
    out->flags = ns_view_be16(h, 2);
    out->qdcount = ns_view_be16(h, 4);
    out->ancount = ns_view_be16(h, 6);
    out->nscount = ns_view_be16(h, 8);
    out->arcount = ns_view_be16(h, 10);
    out->rcode = out->flags & 0xfu;
}

/* The header's fields, those of its first `have` bytes only (a header cut short shows the
 * words that are there, as tshark does before it calls the rest malformed). */
static NS_OUT_OF_LINE void
header_fields(ns_fields_t *f, const ns_dns_t *out, uint32_t msg, uint32_t have)
{
    static const char *const counts[] = {"dns.count.queries", "dns.count.answers",
                                         "dns.count.auth_rr", "dns.count.add_rr"};
    const uint16_t values[] = {out->qdcount, out->ancount, out->nscount, out->arcount};
    if (have < 2)
        return;
    ns_field_hex(f, "dns.id", msg, 2, out->id);
    if (have < 4)
        return;
    uint16_t fl = out->flags;
    bool resp = (fl & 0x8000u) != 0;
    uint32_t fo = msg + 2;
    ns_field_hex(f, "dns.flags", fo, 2, fl);
    ns_field_bool(f, "dns.flags.response", fo, 2, resp);
    ns_field_uint(f, "dns.flags.opcode", fo, 2, (fl >> 11) & 0xfu);
    if (resp) /* tshark shows AA, RA and RCODE in responses only */
        ns_field_bool(f, "dns.flags.authoritative", fo, 2, (fl & 0x0400u) != 0);
    ns_field_bool(f, "dns.flags.truncated", fo, 2, (fl & 0x0200u) != 0);
    ns_field_bool(f, "dns.flags.recdesired", fo, 2, (fl & 0x0100u) != 0);
    if (resp)
        ns_field_bool(f, "dns.flags.recavail", fo, 2, (fl & 0x0080u) != 0);
    ns_field_bool(f, "dns.flags.z", fo, 2, (fl & 0x0040u) != 0);
    ns_field_bool(f, "dns.flags.authenticated", fo, 2, (fl & 0x0020u) != 0);
    ns_field_bool(f, "dns.flags.checkdisable", fo, 2, (fl & 0x0010u) != 0);
    if (resp)
        ns_field_uint(f, "dns.flags.rcode", fo, 2, fl & 0xfu);
    for (uint32_t i = 0; i < 4 && 6 + 2 * i <= have; i++)
        ns_field_uint(f, counts[i], msg + 4 + 2 * i, 2, values[i]);
}

/* A header cut short (by the capture, or by the end of a first IP fragment): the fields that
 * are there, and TRUNCATED. */
static NS_COLD ns_parse_rc_t
dns_header_cut(ns_cur_t *c, ns_dns_t *out, ns_fields_t *f)
{
    ns_view_t part = ns_cur_view_from(c, c->off);
    read_header(out, &part);
    if (f)
        header_fields(f, out, c->off, ns_cur_left(c));
    c->short_read = true;
    c->off = c->end;
    return NS_PARSE_TRUNCATED;
}

/* The header, the questions and the RRs of all sections, without opening a field node. */
static ns_parse_rc_t
dns_message(ns_cur_t *c, ns_dns_t *out, ns_fields_t *f)
{
    uint32_t msg = c->off;
    out->has_question = false;
    out->qname_len = 0;
    out->qname[0] = '\0';
    out->n_answers = 0;
    out->edns = false;
    out->edns_udp_size = 0;
    out->tcp = false;
    if (!ns_cur_has(c, DNS_HDR_LEN))
        return dns_header_cut(c, out, f);
    ns_view_t h;
    (void)ns_cur_view(c, DNS_HDR_LEN, &h);
    read_header(out, &h);
    if (f)
        header_fields(f, out, msg, DNS_HDR_LEN);

    dns_ctx_t x; /* seen[] is read only as far as n_seen has filled it */
    x.out = out;
    x.f = f;
    x.msg = msg;
    x.bad = false;
    x.n_seen = 0;
    uint32_t q_end = out->qdcount;
    uint32_t an_end = q_end + out->ancount;
    uint32_t total = an_end + out->nscount + out->arcount;
    ns_parse_rc_t rc = NS_PARSE_OK;
    for (uint32_t i = 0; i < total && i < DNS_MAX_RECORDS && rc == NS_PARSE_OK; i++) {
        if (i < q_end)
            rc = question(c, &x, i == 0);
        else
            rc = resource_record(c, &x, i < an_end ? SECTION_AN : 0);
    }
    if (rc == NS_PARSE_OK && x.bad)
        rc = NS_PARSE_INVALID;
    return rc;
}

ns_parse_rc_t
ns_dns_parse(ns_cur_t *c, ns_dns_t *out, ns_fields_t *fields)
{
    int32_t node = ns_field_open(fields, "dns", c->off);
    ns_parse_rc_t rc = dns_message(c, out, fields);
    ns_field_close(fields, node, c->off);
    return rc;
}

ns_parse_rc_t
ns_decode_dns(ns_cur_t *c, ns_dec_t *d)
{
    ns_pkt_t *pkt = d->pkt;
    bool header = ns_cur_has(c, DNS_HDR_LEN);
    ns_parse_rc_t rc = ns_dns_parse(c, &pkt->dns, d->f);
    if (header)
        pkt->app = NS_APP_DNS;
    if (rc == NS_PARSE_TRUNCATED && pkt->payload_cap >= pkt->payload_len)
        rc = NS_PARSE_INVALID; /* all of the datagram is here: it contradicts its counts */
    return rc;
}

ns_parse_rc_t
ns_decode_dns_tcp(ns_cur_t *c, ns_dec_t *d)
{
    ns_pkt_t *pkt = d->pkt;
    bool snaplen_cut = pkt->payload_cap < pkt->payload_len;
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "dns", start);
    uint16_t len = ns_cur_be16(c);
    ns_parse_rc_t rc = NS_PARSE_OK;
    if (!ns_cur_ok(c)) {
        rc = snaplen_cut ? NS_PARSE_TRUNCATED : NS_PARSE_OK; /* prefix split by TCP */
        goto out;
    }
    ns_field_uint(d->f, "dns.length", start, 2, len);
    ns_cur_t m = *c;
    bool complete = ns_cur_narrow(&m, len);
    bool header = ns_cur_has(&m, DNS_HDR_LEN);
    rc = dns_message(&m, &pkt->dns, d->f);
    pkt->dns.tcp = true;
    if (header)
        pkt->app = NS_APP_DNS;
    ns_cur_skip(c, ns_cur_left(c) < len ? ns_cur_left(c) : len);
    if (rc == NS_PARSE_TRUNCATED) {
        if (complete)
            rc = NS_PARSE_INVALID; /* the whole message is here: it contradicts its counts */
        else if (!snaplen_cut)
            rc = NS_PARSE_OK; /* the rest is in the next segment: normal TCP segmentation */
    }
out:
    ns_field_close(d->f, node, c->off);
    return rc;
}

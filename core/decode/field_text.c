/* field_text.c - one field's value as text (the formatter behind the WebAssembly API).
 *
 * The protocol tree's values are typed (fields.h); a viewer wants them as text. This is the one
 * place that turns a field into text for the browser's inspector (through wasm_api.c) and for
 * the native reference the wasm test compares against, so the two cannot drift. Freestanding:
 * no libc, numbers and addresses are formatted here by hand.
 *
 * Design: every value is written as printable ASCII (0x20-0x7e) and never contains a NUL, so a
 * caller can show it as is, put it in JSON with only `"` and `\` escaped, and decode it as UTF-8
 * without surprises. Packet text (NS_FT_STR) keeps its printable bytes; a backslash becomes
 * "\\" and every other byte "\xNN". Output is cut at the caller's capacity and then ends in
 * "...". Bytes are read only inside [0, buf_len) of the frame.
 */
#include "netscope/fields.h"

typedef struct {
    char *p;
    size_t n;
    size_t cap; /* room for text before the "..." reserve */
    bool cut;
} tbuf_t;

/* Append `n` bytes, or nothing when they do not all fit (an item is never split). */
static void
put_mem(tbuf_t *b, const char *s, size_t n)
{
    if (b->cut || n > b->cap - b->n) {
        b->cut = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        b->p[b->n++] = s[i];
}

static void
put_c(tbuf_t *b, char c)
{
    put_mem(b, &c, 1);
}

static void
put_s(tbuf_t *b, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    put_mem(b, s, n);
}

static void
put_u64(tbuf_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(b, tmp + i, sizeof(tmp) - i);
}

static const char hexdig[] = "0123456789abcdef";

/* At least `width` (at most 16) lower-case hex digits, no prefix. */
static void
put_hex(tbuf_t *b, uint64_t v, unsigned width)
{
    char tmp[16];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = hexdig[v & 15];
        v >>= 4;
    } while (i > 0 && (v || sizeof(tmp) - i < width));
    put_mem(b, tmp + i, sizeof(tmp) - i);
}

/* Two hex digits, after a `sep` unless it is 0. */
static void
put_byte_hex(tbuf_t *b, char sep, uint8_t v)
{
    char tmp[3] = {sep, hexdig[v >> 4], hexdig[v & 15]};
    if (sep)
        put_mem(b, tmp, 3);
    else
        put_mem(b, tmp + 1, 2);
}

static void
put_ipv4(tbuf_t *b, const uint8_t *a)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            put_c(b, '.');
        put_u64(b, a[i]);
    }
}

/* RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of two or more zero
 * groups as "::"; an IPv4-mapped or -compatible address ends in dotted quad. The same choices as
 * glibc's inet_ntop, which `netscope print` uses, so both show an address the same way. */
static void
put_ipv6(tbuf_t *b, const uint8_t *a)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                put_c(b, ':');
            continue;
        }
        if (i)
            put_c(b, ':');
        if (i == 6 && best == 0 &&
            (best_len == 6 || (best_len == 7 && w[7] != 1) || (best_len == 5 && w[5] == 0xffff))) {
            put_ipv4(b, a + 12);
            return;
        }
        put_hex(b, w[i], 1);
    }
    if (best >= 0 && best + best_len == 8)
        put_c(b, ':');
}

size_t
ns_field_text(const ns_field_t *x, const uint8_t *buf, uint32_t buf_len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    /* Keep room for "..." and the NUL so a cut can always be marked. */
    tbuf_t b = {out, 0, cap > 4 ? cap - 4 : 0, false};
    bool in_buf = buf != NULL && x->off <= buf_len && x->len <= buf_len - x->off;
    switch ((ns_ftype_t)x->type) {
    case NS_FT_PROTO:
    case NS_FT_COUNT:
        break;
    case NS_FT_UINT:
        put_u64(&b, x->u);
        break;
    case NS_FT_INT:
        if (x->i < 0) {
            put_c(&b, '-');
            put_u64(&b, 0 - (uint64_t)x->i);
        } else {
            put_u64(&b, (uint64_t)x->i);
        }
        break;
    case NS_FT_BOOL:
        put_s(&b, x->u ? "true" : "false");
        break;
    case NS_FT_HEX:
        put_s(&b, "0x");
        put_hex(&b, x->u, x->len && x->len <= 8 ? x->len * 2 : 1);
        break;
    case NS_FT_MAC:
        for (uint32_t i = 0; in_buf && x->len == 6 && i < 6; i++)
            put_byte_hex(&b, i ? ':' : 0, buf[x->off + i]);
        break;
    case NS_FT_IPV4:
        if (in_buf && x->len == 4)
            put_ipv4(&b, buf + x->off);
        break;
    case NS_FT_IPV6:
        if (in_buf && x->len == 16)
            put_ipv6(&b, buf + x->off);
        break;
    case NS_FT_BYTES:
        for (uint32_t i = 0; in_buf && i < x->len && !b.cut; i++) {
            put_byte_hex(&b, i ? ':' : 0, buf[x->off + i]);
        }
        break;
    case NS_FT_STR:
        for (uint32_t i = 0; x->str != NULL && i < x->str_len && !b.cut; i++) {
            uint8_t ch = (uint8_t)x->str[i];
            if (ch == '\\') {
                put_s(&b, "\\\\");
            } else if (ch >= 0x20 && ch < 0x7f) {
                put_c(&b, (char)ch);
            } else {
                char esc[4] = {'\\', 'x', hexdig[ch >> 4], hexdig[ch & 15]};
                put_mem(&b, esc, sizeof(esc));
            }
        }
        break;
    }
    if (b.cut) /* the reserve holds it: cap - 4 + 3 < cap */
        for (size_t i = 0; i < 3 && b.n < cap - 1; i++)
            b.p[b.n++] = '.';
    if (b.n < cap)
        out[b.n] = '\0';
    return b.n;
}

const char *
ns_field_type_name(uint32_t type)
{
    static const char *const names[] = {"proto", "uint", "int",  "bool",  "hex",
                                        "mac",   "ipv4", "ipv6", "bytes", "str"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == NS_FT_COUNT, "one name per type");
    return type < NS_FT_COUNT ? names[type] : "?";
}

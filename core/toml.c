/* toml.c - NetScope's TOML reader: a recursive-descent parser of the subset described in toml.h.
 *
 * One pass over the bytes. The read position (offset, line, column) moves only through step(),
 * so every value and every error knows its line and column; the first error ends the parse.
 * Keys and strings are decoded into one scratch buffer reused for the whole parse and copied
 * out at their exact size.
 *
 * Tables follow TOML 1.0, and Python's tomllib where the spec leaves room (the agreement test
 * runs both). A table remembers how it came to be, because that decides what may happen to it
 * later: a prefix of a [header] (implicit) may still get its own header once; a table opened
 * by a header cannot be opened again nor extended by dotted keys from another table; a table
 * made by dotted keys never gets a header.
 *
 * Memory: every value is a heap node on the document's list, so destroy is a loop (no
 * recursion on input-controlled depth). A table keeps its members in a vector (definition
 * order); all (table, key) pairs are also in one document-wide hash index, so a table with
 * 100,000 keys costs no quadratic time.
 */
#include "netscope/toml.h"

#include <assert.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a table came to be (see the file comment). */
enum origin {
    ORIGIN_NONE,     /* the top-level table, and every value that is not a table */
    ORIGIN_IMPLICIT, /* a prefix of a [header] only */
    ORIGIN_HEADER,   /* opened by its own [header] */
    ORIGIN_DOTTED,   /* made (or extended) by a dotted key */
};

struct ns_toml_value {
    ns_toml_type_t type;
    enum origin origin;
    uint32_t line, col;         /* where the value starts (tables: their key) */
    uint32_t key_line, key_col; /* where its key is (0:0 without a key) */
    const ns_toml_t *doc;
    const ns_toml_value_t *parent; /* the table or array holding it; NULL for the root */
    char *key;                     /* NUL-terminated; NULL for the root and array elements */
    size_t key_len;
    ns_toml_value_t *next_alloc; /* the document's list of every value */
    union {
        struct {
            char *s;
            size_t len;
        } str;
        int64_t i;
        double d;
        bool b;
        struct {
            ns_toml_value_t **v;
            size_t n, cap;
        } kids; /* table members or array elements */
    } u;
};

struct ns_toml {
    ns_toml_value_t *root;
    ns_toml_value_t *all;    /* every value, newest first */
    ns_toml_value_t **index; /* table members by (table, key); open addressing, NULL = empty */
    size_t index_cap, index_used;
};

typedef struct {
    uint32_t line, col;
} where_t;

typedef struct {
    const uint8_t *s;
    size_t len, pos;
    where_t at; /* line and column of s[pos] */
    ns_toml_t *doc;
    ns_toml_value_t *section; /* the table of the last [header] */
    unsigned section_depth;
    char *scratch; /* the key or string being decoded */
    size_t scratch_len, scratch_cap;
    locale_t c_locale; /* for strtod_l: a float is read the same in every locale */
    char *errbuf;
    size_t errlen;
} parser_t;

static const char unsupported[] = "not supported by NetScope's configuration reader";

/* ---- errors ------------------------------------------------------------------------------ */

/* The caller's error buffer gets the message, when there is a buffer. */
static void __attribute__((format(printf, 3, 4)))
set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* "LINE:COLUMN: message" into the caller's buffer; returns false for `return fail(...)`. */
static bool __attribute__((format(printf, 3, 4)))
fail_at(parser_t *p, where_t at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    set_error(p->errbuf, p->errlen, "%u:%u: %s", at.line, at.col, msg);
    return false;
}

#define fail(p, ...) fail_at((p), (p)->at, __VA_ARGS__)

/* The dotted path of table member `v` for a message: keys joined by '.', control characters
 * (which escapes can put in a key) shown as '?', whole characters only, cut to fit `n` bytes. */
static const char *
path_text(const ns_toml_value_t *v, char *out, size_t n)
{
    const ns_toml_value_t *chain[NS_TOML_MAX_DEPTH + 1];
    size_t depth = 0, o = 0;
    for (; v != NULL && v->key != NULL && depth < NS_TOML_MAX_DEPTH + 1; v = v->parent)
        chain[depth++] = v;
    while (depth > 0) {
        const ns_toml_value_t *k = chain[--depth];
        for (size_t i = 0; i < k->key_len;) {
            unsigned char c = (unsigned char)k->key[i];
            size_t w = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; /* keys are UTF-8 */
            if (o + w >= n)
                goto out;
            if (c < 0x20 || c == 0x7f)
                out[o] = '?';
            else
                memcpy(out + o, k->key + i, w);
            o += w;
            i += w;
        }
        if (depth > 0 && o + 1 < n)
            out[o++] = '.';
    }
out:
    out[o] = '\0';
    return out;
}

/* ---- reading bytes ----------------------------------------------------------------------- */

/* The byte `ahead` positions after the read position, or -1 past the end. */
static int
peek(const parser_t *p, size_t ahead)
{
    return p->len - p->pos > ahead ? p->s[p->pos + ahead] : -1;
}

/* Consume one byte: a '\n' starts a line; a UTF-8 continuation byte is not a new column. */
static void
step(parser_t *p)
{
    uint8_t c = p->s[p->pos++];
    if (c == '\n') {
        p->at.line++;
        p->at.col = 1;
    } else if ((c & 0xc0) != 0x80) {
        p->at.col++;
    }
}

static void
step_n(parser_t *p, size_t n)
{
    while (n-- > 0)
        step(p);
}

static bool
at_newline(const parser_t *p)
{
    return peek(p, 0) == '\n' || (peek(p, 0) == '\r' && peek(p, 1) == '\n');
}

/* Consume a LF or CRLF; false (nothing consumed) when there is none. */
static bool
eat_newline(parser_t *p)
{
    if (!at_newline(p))
        return false;
    step_n(p, peek(p, 0) == '\r' ? 2 : 1);
    return true;
}

static void
skip_ws(parser_t *p)
{
    while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
        step(p);
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when it is not one: no
 * overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629, section 4). */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t need = b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
    if (need == 0 || need > n)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((b == 0xe0 && s[1] < 0xa0) || (b == 0xed && s[1] >= 0xa0) || (b == 0xf0 && s[1] < 0x90) ||
        (b == 0xf4 && s[1] >= 0x90))
        return 0;
    return need;
}

static bool
scratch_put(parser_t *p, const void *bytes, size_t n)
{
    if (p->scratch_cap - p->scratch_len <= n) { /* <=: room for the NUL too */
        size_t cap = p->scratch_cap ? p->scratch_cap : 64;
        while (cap - p->scratch_len <= n)
            cap *= 2;
        char *s = realloc(p->scratch, cap);
        if (s == NULL)
            return fail(p, "out of memory");
        p->scratch = s;
        p->scratch_cap = cap;
    }
    memcpy(p->scratch + p->scratch_len, bytes, n);
    p->scratch_len += n;
    p->scratch[p->scratch_len] = '\0';
    return true;
}

/* Consume one character of a comment or a string body that is not a delimiter, a newline or
 * an escape: tabs and printable ASCII as they are, other characters after UTF-8 validation.
 * Control characters are an error (TOML 1.0: they must be escaped); `in` names the context.
 * The bytes are appended to the scratch buffer when `keep`. */
static bool
take_char(parser_t *p, const char *in, bool keep)
{
    uint8_t c = p->s[p->pos];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return fail(p, "control character U+%04X is not allowed in %s", c, in);
    size_t n = utf8_len(p->s + p->pos, p->len - p->pos);
    if (n == 0)
        return fail(p, "invalid UTF-8 in %s", in);
    if (keep && !scratch_put(p, p->s + p->pos, n))
        return false;
    step_n(p, n);
    return true;
}

/* Skip a comment, if there is one, up to (not including) the end of its line. */
static bool
skip_comment(parser_t *p)
{
    if (peek(p, 0) != '#')
        return true;
    step(p);
    while (peek(p, 0) >= 0 && !at_newline(p))
        if (!take_char(p, "a comment", false))
            return false;
    return true;
}

/* Skip whitespace, newlines and comments: what may stand between array elements. */
static bool
skip_blank(parser_t *p)
{
    for (;;) {
        skip_ws(p);
        if (!skip_comment(p))
            return false;
        if (!eat_newline(p))
            return true;
    }
}

/* ---- strings ----------------------------------------------------------------------------- */

static unsigned
digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A' + 10);
    return 99;
}

/* Append code point `cp` (a Unicode scalar value) as UTF-8. */
static bool
put_utf8(parser_t *p, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return scratch_put(p, b, n);
}

/* An escape sequence at the backslash of a basic string. */
static bool
take_escape(parser_t *p)
{
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    where_t at = p->at;
    int c = peek(p, 1);
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    if (hit != NULL) {
        step_n(p, 2);
        return scratch_put(p, &to[hit - from], 1);
    }
    if (c != 'u' && c != 'U') {
        if (c > 0x20 && c < 0x7f)
            return fail(p, "invalid escape sequence \\%c in a string", c);
        return fail(p, "a backslash in a string must start an escape sequence");
    }
    unsigned digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (unsigned i = 0; i < digits; i++) {
        unsigned d = digit_value(peek(p, 2 + i));
        if (d > 15)
            return fail(p, "\\%c must be followed by %u hexadecimal digits", c, digits);
        cp = cp << 4 | d;
    }
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return fail_at(p, at, "\\%c%0*X is not a Unicode scalar value", c, (int)digits, cp);
    step_n(p, 2 + digits);
    return put_utf8(p, cp);
}

/* In a multi-line basic string, at a backslash: when only whitespace follows it on its line
 * (a line-ending backslash), consume it and all whitespace and newlines after it, and return
 * true; otherwise consume nothing and return false. */
static bool
skip_line_ending_backslash(parser_t *p)
{
    size_t j = 1;
    while (peek(p, j) == ' ' || peek(p, j) == '\t')
        j++;
    if (peek(p, j) != '\n' && !(peek(p, j) == '\r' && peek(p, j + 1) == '\n'))
        return false;
    step_n(p, j);
    while (eat_newline(p) || peek(p, 0) == ' ' || peek(p, 0) == '\t')
        skip_ws(p);
    return true;
}

/* The string at the read position (a quote or an apostrophe) into the scratch buffer. A
 * multi-line string (three quotes) is taken only when `multiline` (values; keys may not be
 * multi-line). */
static bool
parse_string(parser_t *p, bool multiline)
{
    where_t start = p->at;
    int q = peek(p, 0);
    bool literal = q == '\'';
    bool multi = multiline && peek(p, 1) == q && peek(p, 2) == q;
    p->scratch_len = 0;
    if (!scratch_put(p, "", 0))
        return false;
    step_n(p, multi ? 3 : 1);
    if (multi)
        (void)eat_newline(p); /* a newline right after the opening quotes is not content */
    for (;;) {
        int c = peek(p, 0);
        if (c < 0)
            return fail_at(p, start, "this string is not closed");
        if (c == q && !multi) {
            step(p);
            return true;
        }
        if (c == q && peek(p, 1) == q && peek(p, 2) == q) {
            /* Up to two quotes right before the closing three belong to the string. */
            size_t run = 3;
            while (run < 6 && peek(p, run) == q)
                run++;
            if (run == 6)
                return fail(p, "too many quotes at the end of a multi-line string");
            for (size_t i = 3; i < run; i++)
                if (!scratch_put(p, &q, 1))
                    return false;
            step_n(p, run);
            return true;
        }
        if (at_newline(p)) {
            if (!multi)
                return fail(p, "a single-line string must end on its line (use \"\"\" or ''' "
                               "for a multi-line string)");
            (void)eat_newline(p);
            if (!scratch_put(p, "\n", 1))
                return false;
        } else if (c == '\\' && !literal) {
            if (!(multi && skip_line_ending_backslash(p)) && !take_escape(p))
                return false;
        } else if (c == q) {
            step(p);
            if (!scratch_put(p, &q, 1))
                return false;
        } else if (!take_char(p, "a string", true)) {
            return false;
        }
    }
}

/* ---- the document tree ------------------------------------------------------------------- */

static uint64_t
member_hash(const ns_toml_value_t *table, const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)table; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static ns_toml_value_t *
find_member(const ns_toml_t *doc, const ns_toml_value_t *table, const char *key, size_t len)
{
    if (doc->index_cap == 0)
        return NULL;
    size_t mask = doc->index_cap - 1;
    for (size_t s = member_hash(table, key, len) & mask;; s = (s + 1) & mask) {
        ns_toml_value_t *m = doc->index[s];
        if (m == NULL)
            return NULL;
        if (m->parent == table && m->key_len == len && memcmp(m->key, key, len) == 0)
            return m;
    }
}

static void
index_put(ns_toml_value_t **slots, size_t cap, ns_toml_value_t *m)
{
    size_t s = member_hash(m->parent, m->key, m->key_len) & (cap - 1);
    while (slots[s] != NULL)
        s = (s + 1) & (cap - 1);
    slots[s] = m;
}

/* Add table member `m` to the index, which stays at most half full. */
static bool
index_add(ns_toml_t *doc, ns_toml_value_t *m)
{
    if (2 * (doc->index_used + 1) > doc->index_cap) {
        size_t cap = doc->index_cap ? doc->index_cap * 2 : 64;
        ns_toml_value_t **slots = calloc(cap, sizeof(*slots));
        if (slots == NULL)
            return false;
        for (size_t i = 0; i < doc->index_cap; i++)
            if (doc->index[i] != NULL)
                index_put(slots, cap, doc->index[i]);
        free(doc->index);
        doc->index = slots;
        doc->index_cap = cap;
    }
    index_put(doc->index, doc->index_cap, m);
    doc->index_used++;
    return true;
}

static bool
push_kid(ns_toml_value_t *parent, ns_toml_value_t *kid)
{
    if (parent->u.kids.n == parent->u.kids.cap) {
        size_t cap = parent->u.kids.cap ? parent->u.kids.cap * 2 : 4;
        ns_toml_value_t **v = realloc(parent->u.kids.v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        parent->u.kids.v = v;
        parent->u.kids.cap = cap;
    }
    parent->u.kids.v[parent->u.kids.n++] = kid;
    return true;
}

/* A new value of `type` at `at` on the document's list, not yet in any table or array. */
static ns_toml_value_t *
new_value(parser_t *p, ns_toml_type_t type, where_t at)
{
    ns_toml_value_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        fail(p, "out of memory");
        return NULL;
    }
    v->type = type;
    v->line = at.line;
    v->col = at.col;
    v->doc = p->doc;
    v->next_alloc = p->doc->all;
    p->doc->all = v;
    return v;
}

/* A new member of `table` under the key in the scratch buffer, written at `key_at`. */
static ns_toml_value_t *
add_member(parser_t *p, ns_toml_value_t *table, ns_toml_type_t type, where_t key_at)
{
    ns_toml_value_t *m = new_value(p, type, key_at);
    if (m == NULL)
        return NULL;
    m->key = malloc(p->scratch_len + 1);
    if (m->key == NULL || !push_kid(table, m)) {
        fail(p, "out of memory");
        return NULL;
    }
    memcpy(m->key, p->scratch, p->scratch_len + 1);
    m->key_len = p->scratch_len;
    m->key_line = key_at.line;
    m->key_col = key_at.col;
    m->parent = table;
    if (!index_add(p->doc, m)) {
        fail(p, "out of memory");
        return NULL;
    }
    return m;
}

/* ---- keys and tables --------------------------------------------------------------------- */

static bool
is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* One part of a key (bare or quoted) into the scratch buffer. */
static bool
parse_key_part(parser_t *p)
{
    int c = peek(p, 0);
    if (c == '"' || c == '\'')
        return parse_string(p, false);
    if (!is_bare_key_char(c))
        return fail(p, "expected a key (letters, digits, '_' and '-', or a quoted string)");
    size_t start = p->pos;
    while (is_bare_key_char(peek(p, 0)))
        step(p);
    p->scratch_len = 0;
    return scratch_put(p, p->s + start, p->pos - start);
}

/* One more level of nesting for the table or array at `at`; an error past the limit. */
static bool
nest(parser_t *p, unsigned *depth, where_t at)
{
    if (++*depth > NS_TOML_MAX_DEPTH)
        return fail_at(p, at, "tables and arrays are nested deeper than %d levels",
                       NS_TOML_MAX_DEPTH);
    return true;
}

/* Parse one key part and the whitespace after it; *last tells whether a '.' follows (which
 * is consumed with the whitespace after it). */
static bool
next_key_part(parser_t *p, bool *last)
{
    if (!parse_key_part(p))
        return false;
    skip_ws(p);
    *last = peek(p, 0) != '.';
    if (!*last) {
        step(p);
        skip_ws(p);
    }
    return true;
}

/* A [header] at its '[': opens the table that the following keys go into. */
static bool
parse_header(parser_t *p)
{
    char path[128];
    if (peek(p, 1) == '[')
        return fail(p, "arrays of tables ([[...]]) are %s", unsupported);
    step(p);
    skip_ws(p);
    ns_toml_value_t *t = p->doc->root;
    unsigned depth = 0;
    for (bool last = false; !last;) {
        where_t at = p->at;
        if (!next_key_part(p, &last) || !nest(p, &depth, at))
            return false;
        ns_toml_value_t *m = find_member(p->doc, t, p->scratch, p->scratch_len);
        if (m == NULL) {
            m = add_member(p, t, NS_TOML_TABLE, at);
            if (m == NULL)
                return false;
            m->origin = last ? ORIGIN_HEADER : ORIGIN_IMPLICIT;
        } else if (m->type != NS_TOML_TABLE) {
            return fail_at(p, at, "key %s already holds a value of type %s (line %u), not a table",
                           path_text(m, path, sizeof(path)), ns_toml_type_name(m->type), m->line);
        } else if (last && m->origin == ORIGIN_HEADER) {
            return fail_at(p, at, "table [%s] is defined twice (first at line %u)",
                           path_text(m, path, sizeof(path)), m->line);
        } else if (last && m->origin == ORIGIN_DOTTED) {
            return fail_at(p, at, "table [%s] was already defined by dotted keys (line %u)",
                           path_text(m, path, sizeof(path)), m->line);
        } else if (last) { /* an implicit table gets its own header, once */
            m->origin = ORIGIN_HEADER;
            m->line = m->key_line = at.line;
            m->col = m->key_col = at.col;
        }
        t = m;
    }
    if (peek(p, 0) != ']')
        return fail(p, "expected ']' at the end of the table header");
    step(p);
    p->section = t;
    p->section_depth = depth;
    return true;
}

static bool parse_value(parser_t *p, ns_toml_value_t *v, unsigned depth);

/* A `key = value` line, at its key: the value goes into the current section. */
static bool
parse_keyval(parser_t *p)
{
    char path[128];
    ns_toml_value_t *t = p->section;
    unsigned depth = p->section_depth;
    where_t at = p->at;
    for (bool last = false;;) {
        at = p->at;
        if (!next_key_part(p, &last))
            return false;
        if (last)
            break;
        if (!nest(p, &depth, at))
            return false;
        ns_toml_value_t *m = find_member(p->doc, t, p->scratch, p->scratch_len);
        if (m == NULL) {
            m = add_member(p, t, NS_TOML_TABLE, at);
            if (m == NULL)
                return false;
        } else if (m->type != NS_TOML_TABLE) {
            return fail_at(p, at, "key %s already holds a value of type %s (line %u), not a table",
                           path_text(m, path, sizeof(path)), ns_toml_type_name(m->type), m->line);
        } else if (m->origin == ORIGIN_HEADER) {
            return fail_at(p, at,
                           "table [%s] has its own header (line %u); dotted keys from another "
                           "table cannot add to it",
                           path_text(m, path, sizeof(path)), m->line);
        }
        m->origin = ORIGIN_DOTTED;
        t = m;
    }
    ns_toml_value_t *dup = find_member(p->doc, t, p->scratch, p->scratch_len);
    if (dup != NULL)
        return fail_at(p, at, "duplicate key %s (first defined at line %u)",
                       path_text(dup, path, sizeof(path)), dup->key_line);
    if (peek(p, 0) != '=')
        return fail(p, "expected '=' after the key");
    step(p);
    skip_ws(p);
    ns_toml_value_t *v = add_member(p, t, NS_TOML_BOOL, at);
    return v != NULL && parse_value(p, v, depth);
}

/* ---- values ------------------------------------------------------------------------------ */

/* Length of a run of digits in `radix` with single underscores between digits, from tok[i];
 * 0 when tok[i] is not such a digit or an underscore is not followed by one. */
static size_t
digit_run(const char *tok, size_t n, size_t i, unsigned radix)
{
    size_t j = i;
    for (;;) {
        if (j >= n || digit_value(tok[j]) >= radix)
            return 0;
        while (j < n && digit_value(tok[j]) < radix)
            j++;
        if (j >= n || tok[j] != '_')
            return j - i;
        j++;
    }
}

/* The integer in the `n` digits (and underscores) at `digits`, negated when `neg`; values
 * outside int64_t are an error at `at`. */
static bool
to_int(parser_t *p, where_t at, const char *digits, size_t n, unsigned radix, bool neg,
       int64_t *out)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (size_t i = 0; i < n; i++) {
        if (digits[i] == '_')
            continue;
        unsigned d = digit_value(digits[i]);
        if (v > (limit - d) / radix)
            return fail_at(p, at, "integer does not fit in 64 bits (-2^63 to 2^63-1)");
        v = v * radix + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return true;
}

/* A float token already checked against the TOML grammar (digits, '_', '.', 'e', signs). */
static bool
to_double(parser_t *p, const char *tok, size_t n, double *out)
{
    p->scratch_len = 0;
    for (size_t i = 0; i < n; i++)
        if (tok[i] != '_' && !scratch_put(p, &tok[i], 1))
            return false;
    if (p->c_locale == (locale_t)0) {
        p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (p->c_locale == (locale_t)0)
            return fail(p, "out of memory");
    }
    /* Past the range strtod gives +-HUGE_VAL (inf) or 0 with ERANGE: the values tomllib
     * reads too (1e400 is inf), so ERANGE is not an error. */
    *out = strtod_l(p->scratch, NULL, p->c_locale);
    return true;
}

/* A number (the `n` characters at tok, a maximal run of token characters) into `v`. */
static bool
parse_number(parser_t *p, ns_toml_value_t *v, const char *tok, size_t n)
{
    where_t at = {v->line, v->col};
    size_t i = tok[0] == '+' || tok[0] == '-' ? 1 : 0;
    bool neg = tok[0] == '-';
    if (n - i == 3 && (memcmp(tok + i, "inf", 3) == 0 || memcmp(tok + i, "nan", 3) == 0)) {
        v->type = NS_TOML_FLOAT;
        v->u.d = copysign(tok[i] == 'i' ? INFINITY : NAN, neg ? -1.0 : 1.0);
        return true;
    }
    if (n - i > 2 && tok[i] == '0' && strchr("xob", tok[i + 1]) != NULL) {
        unsigned radix = tok[i + 1] == 'x' ? 16 : tok[i + 1] == 'o' ? 8 : 2;
        if (i > 0)
            return fail_at(p, at, "a hexadecimal, octal or binary integer cannot have a sign");
        if (digit_run(tok, n, 2, radix) != n - 2)
            return fail_at(p, at, "invalid base-%u integer '%.*s'", radix, (int)n, tok);
        v->type = NS_TOML_INT;
        return to_int(p, at, tok + 2, n - 2, radix, false, &v->u.i);
    }
    size_t run = digit_run(tok, n, i, 10), j = i + run;
    if (run == 0)
        return fail_at(p, at, "invalid value '%.*s'", (int)n, tok);
    if (tok[i] == '0' && run > 1)
        return fail_at(p, at, "leading zeros are not allowed in a number");
    if (j == n) {
        v->type = NS_TOML_INT;
        return to_int(p, at, tok + i, run, 10, neg, &v->u.i);
    }
    if (tok[j] == '.') {
        size_t fraction = digit_run(tok, n, j + 1, 10);
        if (fraction == 0)
            return fail_at(p, at, "a decimal point must have digits on both sides");
        j += 1 + fraction;
    }
    if (j < n && (tok[j] == 'e' || tok[j] == 'E')) {
        j += j + 1 < n && (tok[j + 1] == '+' || tok[j + 1] == '-') ? 2 : 1;
        size_t exponent = digit_run(tok, n, j, 10);
        if (exponent == 0)
            return fail_at(p, at, "an exponent must have digits");
        j += exponent;
    }
    if (j != n)
        return fail_at(p, at, "invalid number '%.*s'", (int)n, tok);
    v->type = NS_TOML_FLOAT;
    return to_double(p, tok, n, &v->u.d);
}

static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool
is_token_char(int c)
{
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

/* A boolean or a number: the run of token characters at the read position. Tokens that look
 * like a date (1979-05-27) or a time (07:32:00) are refused as unsupported, not as invalid. */
static bool
parse_scalar(parser_t *p, ns_toml_value_t *v)
{
    size_t start = p->pos;
    while (is_token_char(peek(p, 0)))
        step(p);
    const char *tok = (const char *)p->s + start;
    size_t n = p->pos - start;
    where_t at = {v->line, v->col};
    if (n == 0)
        return fail(p, "expected a value (a string, a number, true, false or an array)");
    if ((n == 4 && memcmp(tok, "true", 4) == 0) || (n == 5 && memcmp(tok, "false", 5) == 0)) {
        v->type = NS_TOML_BOOL;
        v->u.b = n == 4;
        return true;
    }
    if ((n > 4 && all_digits(tok, 4) && tok[4] == '-') ||
        (n > 2 && all_digits(tok, 2) && tok[2] == ':'))
        return fail_at(p, at, "dates and times are %s", unsupported);
    return parse_number(p, v, tok, n);
}

/* An array at its '[': elements separated by commas, a trailing comma allowed, newlines and
 * comments anywhere between elements. */
static bool
parse_array(parser_t *p, ns_toml_value_t *v, unsigned depth)
{
    if (!nest(p, &depth, p->at))
        return false;
    v->type = NS_TOML_ARRAY;
    step(p);
    for (;;) {
        if (!skip_blank(p))
            return false;
        if (peek(p, 0) == ']')
            break;
        ns_toml_value_t *e = new_value(p, NS_TOML_BOOL, p->at);
        if (e == NULL)
            return false;
        e->parent = v;
        if (!push_kid(v, e))
            return fail(p, "out of memory");
        if (!parse_value(p, e, depth) || !skip_blank(p))
            return false;
        if (peek(p, 0) == ']')
            break;
        if (peek(p, 0) != ',')
            return fail(p, "expected ',' or ']' after an array element");
        step(p);
    }
    step(p);
    return true;
}

/* The value at the read position into `v` (whose position is set here). */
static bool
parse_value(parser_t *p, ns_toml_value_t *v, unsigned depth)
{
    v->line = p->at.line;
    v->col = p->at.col;
    int c = peek(p, 0);
    if (c == '[')
        return parse_array(p, v, depth);
    if (c == '{')
        return fail(p, "inline tables ({...}) are %s; write a [table] section", unsupported);
    if (c != '"' && c != '\'')
        return parse_scalar(p, v);
    if (!parse_string(p, true))
        return false;
    v->type = NS_TOML_STRING;
    v->u.str.s = malloc(p->scratch_len + 1);
    if (v->u.str.s == NULL)
        return fail(p, "out of memory");
    memcpy(v->u.str.s, p->scratch, p->scratch_len + 1);
    v->u.str.len = p->scratch_len;
    return true;
}

/* ---- the document ------------------------------------------------------------------------ */

/* Line after line: blank, a comment, a [header] or a key = value, each optionally followed by
 * a comment, then a newline or the end. */
static bool
parse_document(parser_t *p)
{
    while (p->pos < p->len) {
        skip_ws(p);
        int c = peek(p, 0);
        if (c == '[') {
            if (!parse_header(p))
                return false;
        } else if (c == '"' || c == '\'' || is_bare_key_char(c)) {
            if (!parse_keyval(p))
                return false;
        } else if (c >= 0 && c != '#' && !at_newline(p)) {
            return fail(p, "expected a key, a [table] header or a comment");
        }
        skip_ws(p);
        if (!skip_comment(p))
            return false;
        if (p->pos < p->len && !eat_newline(p))
            return fail(p, "expected the end of the line (or a comment)");
    }
    return true;
}

ns_toml_t *
ns_toml_parse(const char *buf, size_t len, char *errbuf, size_t errlen)
{
    assert(buf != NULL || len == 0);
    parser_t p = {.s = (const uint8_t *)buf, .len = len, .at = {1, 1}};
    p.errbuf = errbuf;
    p.errlen = errlen;
    set_error(errbuf, errlen, "%s", "");
    if (len > NS_TOML_MAX_BYTES) {
        fail(&p, "the document is larger than %u bytes", NS_TOML_MAX_BYTES);
        return NULL;
    }
    ns_toml_t *doc = calloc(1, sizeof(*doc));
    if (doc == NULL) {
        fail(&p, "out of memory");
        return NULL;
    }
    p.doc = doc;
    doc->root = new_value(&p, NS_TOML_TABLE, p.at);
    p.section = doc->root;
    bool ok = doc->root != NULL && parse_document(&p);
    free(p.scratch);
    if (p.c_locale != (locale_t)0)
        freelocale(p.c_locale);
    if (!ok)
        ns_toml_destroy(&doc);
    return doc;
}

ns_toml_t *
ns_toml_parse_file(const char *path, char *errbuf, size_t errlen)
{
    ns_toml_t *doc = NULL;
    char *buf = NULL, inner[320];
    int err = 0;
    FILE *fp = fopen(path, "rb");
    /* One byte past the limit tells a file that is too big from one that just fits. */
    if (fp == NULL || (buf = malloc(NS_TOML_MAX_BYTES + 1)) == NULL) {
        err = errno;
        goto out;
    }
    size_t len = fread(buf, 1, NS_TOML_MAX_BYTES + 1, fp);
    if (ferror(fp)) {
        err = errno;
        goto out;
    }
    if (len > NS_TOML_MAX_BYTES) {
        set_error(errbuf, errlen, "%s: the file is larger than %u bytes", path, NS_TOML_MAX_BYTES);
        goto out;
    }
    doc = ns_toml_parse(buf, len, inner, sizeof(inner));
    if (doc == NULL)
        set_error(errbuf, errlen, "%s:%s", path, inner);
out:
    if (err != 0)
        set_error(errbuf, errlen, "cannot read %s: %s", path, strerror(err));
    free(buf);
    if (fp != NULL)
        fclose(fp);
    return doc;
}

void
ns_toml_destroy(ns_toml_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_toml_t *doc = *self_p;
    for (ns_toml_value_t *v = doc->all, *next; v != NULL; v = next) {
        next = v->next_alloc;
        free(v->key);
        if (v->type == NS_TOML_STRING)
            free(v->u.str.s);
        else if (v->type == NS_TOML_TABLE || v->type == NS_TOML_ARRAY)
            free(v->u.kids.v);
        free(v);
    }
    free(doc->index);
    free(doc);
    *self_p = NULL;
}

/* ---- reading ----------------------------------------------------------------------------- */

const ns_toml_value_t *
ns_toml_root(const ns_toml_t *self)
{
    return self->root;
}

const ns_toml_value_t *
ns_toml_get(const ns_toml_t *self, const char *path)
{
    return ns_toml_table_get(self->root, path);
}

const ns_toml_value_t *
ns_toml_table_get(const ns_toml_value_t *table, const char *path)
{
    const ns_toml_value_t *v = table;
    for (const char *part = path;; part++) {
        size_t n = strcspn(part, ".");
        if (v == NULL || v->type != NS_TOML_TABLE || n == 0)
            return NULL;
        v = find_member(v->doc, v, part, n);
        part += n;
        if (*part == '\0')
            return v;
    }
}

ns_toml_type_t
ns_toml_type(const ns_toml_value_t *v)
{
    return v->type;
}

const char *
ns_toml_type_name(ns_toml_type_t type)
{
    switch (type) {
    case NS_TOML_TABLE:
        return "table";
    case NS_TOML_ARRAY:
        return "array";
    case NS_TOML_STRING:
        return "string";
    case NS_TOML_INT:
        return "integer";
    case NS_TOML_FLOAT:
        return "float";
    case NS_TOML_BOOL:
        return "boolean";
    }
    return "value";
}

void
ns_toml_where(const ns_toml_value_t *v, uint32_t *line, uint32_t *col)
{
    *line = v->line;
    *col = v->col;
}

const char *
ns_toml_key(const ns_toml_value_t *v, size_t *len)
{
    if (len != NULL)
        *len = v->key_len;
    return v->key;
}

void
ns_toml_key_where(const ns_toml_value_t *v, uint32_t *line, uint32_t *col)
{
    *line = v->key_line;
    *col = v->key_col;
}

bool
ns_toml_string(const ns_toml_value_t *v, const char **out, size_t *len)
{
    if (v == NULL || v->type != NS_TOML_STRING)
        return false;
    *out = v->u.str.s;
    if (len != NULL)
        *len = v->u.str.len;
    return true;
}

bool
ns_toml_int(const ns_toml_value_t *v, int64_t *out)
{
    if (v == NULL || v->type != NS_TOML_INT)
        return false;
    *out = v->u.i;
    return true;
}

bool
ns_toml_double(const ns_toml_value_t *v, double *out)
{
    if (v == NULL || (v->type != NS_TOML_FLOAT && v->type != NS_TOML_INT))
        return false;
    *out = v->type == NS_TOML_FLOAT ? v->u.d : (double)v->u.i;
    return true;
}

bool
ns_toml_bool(const ns_toml_value_t *v, bool *out)
{
    if (v == NULL || v->type != NS_TOML_BOOL)
        return false;
    *out = v->u.b;
    return true;
}

/* Child `i` of `v` when it is of `type` (table or array). */
static const ns_toml_value_t *
kid_at(const ns_toml_value_t *v, ns_toml_type_t type, size_t i)
{
    if (v == NULL || v->type != type || i >= v->u.kids.n)
        return NULL;
    return v->u.kids.v[i];
}

size_t
ns_toml_array_len(const ns_toml_value_t *v)
{
    return v != NULL && v->type == NS_TOML_ARRAY ? v->u.kids.n : 0;
}

const ns_toml_value_t *
ns_toml_array_at(const ns_toml_value_t *v, size_t i)
{
    return kid_at(v, NS_TOML_ARRAY, i);
}

size_t
ns_toml_table_len(const ns_toml_value_t *t)
{
    return t != NULL && t->type == NS_TOML_TABLE ? t->u.kids.n : 0;
}

const ns_toml_value_t *
ns_toml_table_at(const ns_toml_value_t *t, size_t i)
{
    return kid_at(t, NS_TOML_TABLE, i);
}

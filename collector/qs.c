/* qs.c - query strings, paths, numbers and times of API requests (see qs.h).
 *
 * Decoding never makes text longer, so each pair decodes into the fixed buffer in place of
 * its raw bytes plus two NULs: the buffer is sized for the longest query accepted.
 */
#include "netscope/qs.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define MAX_UNIX_S 9223372035ull /* the last whole second before 2^63 ns (2262) */

static bool
fail(ns_qs_t *qs, const char *param, const char *msg)
{
    snprintf(qs->err, sizeof(qs->err), "%s", msg);
    snprintf(qs->err_param, sizeof(qs->err_param), "%s", param ? param : "");
    return false;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode src[0..len) into dst (NUL-terminated). False on a bad escape or a control byte. */
static bool
decode(const char *src, size_t len, char *dst, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (len - i < 3)
                return false;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return false;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    *out_len = o;
    return true;
}

static bool
name_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

bool
ns_qs_parse(ns_qs_t *qs, const char *query, size_t len)
{
    qs->n = 0;
    qs->err[0] = qs->err_param[0] = '\0';
    if (len > NS_QS_MAX_LEN)
        return fail(qs, NULL, "query string too long");
    size_t out = 0, i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && query[end] != '&')
            end++;
        if (end == i) { /* "a=1&&b=2" or a trailing '&': nothing there */
            i = end + 1;
            continue;
        }
        if (qs->n == NS_QS_MAX_PARAMS)
            return fail(qs, NULL, "too many query parameters");
        size_t eq = i;
        while (eq < end && query[eq] != '=')
            eq++;
        char *name = qs->buf + out;
        size_t nl, vl;
        if (!decode(query + i, eq - i, name, &nl))
            return fail(qs, NULL, "malformed percent-encoding in a parameter name");
        out += nl + 1;
        if (nl > NS_QS_NAME_MAX || !name_ok(name))
            return fail(qs, NULL, "parameter names are lower-case letters, digits and '_'");
        char *value = qs->buf + out;
        size_t vstart = eq < end ? eq + 1 : end;
        if (!decode(query + vstart, end - vstart, value, &vl))
            return fail(qs, name, "malformed percent-encoding or a control character");
        out += vl + 1;
        for (size_t k = 0; k < qs->n; k++)
            if (strcmp(qs->p[k].name, name) == 0)
                return fail(qs, name, "parameter given twice");
        qs->p[qs->n].name = name;
        qs->p[qs->n].value = value;
        qs->n++;
        i = end + 1;
    }
    return true;
}

const char *
ns_qs_get(const ns_qs_t *qs, const char *name)
{
    for (size_t k = 0; k < qs->n; k++)
        if (strcmp(qs->p[k].name, name) == 0)
            return qs->p[k].value;
    return NULL;
}

const char *
ns_qs_unknown(const ns_qs_t *qs, const char *const *known)
{
    for (size_t k = 0; k < qs->n; k++) {
        bool found = false;
        for (const char *const *w = known; *w && !found; w++)
            found = strcmp(*w, qs->p[k].name) == 0;
        if (!found)
            return qs->p[k].name;
    }
    return NULL;
}

bool
ns_qs_path_ok(const char *path)
{
    if (path == NULL || path[0] != '/')
        return false;
    const char *seg = path + 1;
    for (const char *p = path + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            size_t sl = (size_t)(p - seg);
            if (c == '/' && sl == 0)
                return false; /* "//" */
            if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (c == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
}

bool
ns_qs_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Read exactly `n` digits at *p. */
static bool
digits(const char **p, unsigned n, unsigned *out)
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Fraction ".ddd" at *p (up to 9 digits kept, more read and ignored) as ns. */
static bool
fraction(const char **p, uint64_t *ns)
{
    *ns = 0;
    if (**p != '.')
        return true;
    (*p)++;
    unsigned n = 0;
    uint64_t scale = 100000000ull;
    while (**p >= '0' && **p <= '9') {
        if (n < 9) {
            *ns += (uint64_t)(**p - '0') * scale;
            scale /= 10;
        }
        n++;
        (*p)++;
        if (n > 32)
            return false;
    }
    return n > 0;
}

static bool
rfc3339(const char *s, uint64_t *out_ns)
{
    const char *p = s;
    unsigned y, mo, d, h, mi, sec;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return false;
    uint64_t frac;
    if (!fraction(&p, &frac))
        return false;
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        unsigned oh, om;
        p++;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        off_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return false;
    if (sec == 60)
        sec = 59; /* a leap second: the last second of its minute on a POSIX clock */
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s;
    if (t < 0 || (uint64_t)t > MAX_UNIX_S)
        return false;
    *out_ns = (uint64_t)t * NS_PER_S + frac;
    return true;
}

/* Digits at *p (at least one) as a count of seconds no larger than MAX_UNIX_S. */
static bool
seconds(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    if (**p < '0' || **p > '9')
        return false;
    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (uint64_t)(**p - '0');
        if (v > MAX_UNIX_S)
            return false;
        (*p)++;
    }
    *out = v;
    return true;
}

/* "<n><unit>" with unit s, m, h, d, w, or none (seconds) when `bare` is allowed. */
static bool
span_s(const char *s, bool bare, uint64_t *out_s)
{
    uint64_t v;
    const char *p = s;
    if (!seconds(&p, &v))
        return false;
    uint64_t mul;
    switch (*p) {
    case 's':
        mul = 1;
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = 86400;
        break;
    case 'w':
        mul = 7 * 86400;
        break;
    case '\0':
        if (!bare)
            return false;
        mul = 1;
        p--; /* no unit to skip */
        break;
    default:
        return false;
    }
    if (p[1] != '\0' || v > MAX_UNIX_S / mul)
        return false;
    *out_s = v * mul;
    return true;
}

bool
ns_qs_time(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64)
        return false;
    if (strcmp(s, "now") == 0) {
        *out_ns = now_ns;
        return true;
    }
    if (s[0] == '-') {
        uint64_t back;
        if (!span_s(s + 1, false, &back))
            return false;
        *out_ns = back * NS_PER_S >= now_ns ? 0 : now_ns - back * NS_PER_S;
        return true;
    }
    if (strlen(s) >= 10 && s[4] == '-')
        return rfc3339(s, out_ns);
    const char *p = s;
    uint64_t v;
    if (!seconds(&p, &v))
        return false;
    uint64_t frac;
    if (!fraction(&p, &frac) || *p != '\0')
        return false;
    *out_ns = v * NS_PER_S + frac;
    return true;
}

bool
ns_qs_duration(const char *s, uint64_t max_s, uint64_t *out_s)
{
    uint64_t v;
    if (s == NULL || !span_s(s, true, &v) || v < 1 || v > max_s)
        return false;
    *out_s = v;
    return true;
}

/* qs.c - query strings, paths, numbers and times of API requests (see qs.h).
 *
 * Decoding never makes text longer, so each pair decodes into the fixed buffer in place of
 * its raw bytes plus two NULs: the buffer is sized for the longest query accepted.
 */
#include "netscope/qs.h"
#include "netscope/timeparse.h"

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
    char err[128];
    if (s == NULL || strlen(s) > 64)
        return false;
    return ns_time_parse(s, now_ns, out_ns, err, sizeof(err));
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

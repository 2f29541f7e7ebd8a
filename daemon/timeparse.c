/* timeparse.c - times and addresses from user input (see timeparse.h). */
#include "netscope/timeparse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define LAST_S 9223372036ull /* refuse past 2262: signed 64-bit ns elsewhere (JSON, CSV) */

/* Digits [p, p+n) as a number; false unless all n are digits. */
static bool
digits(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* A fraction ".ddd" at *pp (advanced past it) as ns; true when there is none. */
static bool
fraction(const char **pp, uint64_t *ns)
{
    const char *p = *pp;
    *ns = 0;
    if (*p != '.')
        return true;
    p++;
    uint64_t scale = 100000000ull;
    size_t n = 0;
    while (*p >= '0' && *p <= '9') {
        if (n == 9)
            return false;
        *ns += (uint64_t)(*p - '0') * scale;
        scale /= 10;
        p++, n++;
    }
    if (n == 0)
        return false;
    *pp = p;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; y >= 1970). */
static uint64_t
days_from_civil(uint64_t y, uint64_t m, uint64_t d)
{
    static const uint16_t before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    uint64_t days = 0;
    for (uint64_t yy = 1970; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    bool leap = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    days += before[m - 1] + (leap && m > 2 ? 1u : 0u) + d - 1;
    return days;
}

static bool
rfc3339(const char *s, uint64_t *out, char *errbuf, size_t errlen)
{
    uint64_t y, mo, d, h, mi, se, frac;
    if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se)) {
        snprintf(errbuf, errlen, "\"%.64s\" is not a time (unix seconds, RFC 3339 such as "
                 "2026-12-05T10:00:00Z, or -15m/-2h/-7d)", s);
        return false;
    }
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 2262 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || se > 60) {
        snprintf(errbuf, errlen, "\"%.64s\": a field is out of range (or before 1970)", s);
        return false;
    }
    bool leap = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    if (mo == 2 && d == 29 && !leap) {
        snprintf(errbuf, errlen, "\"%.64s\": %llu has no 29 February", s, (unsigned long long)y);
        return false;
    }
    const char *p = s + 19;
    if (!fraction(&p, &frac)) {
        snprintf(errbuf, errlen, "\"%.64s\": a bad fraction of a second", s);
        return false;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        uint64_t oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
            om > 59) {
            snprintf(errbuf, errlen, "\"%.64s\": a bad UTC offset (+hh:mm)", s);
            return false;
        }
        off_s = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        snprintf(errbuf, errlen, "\"%.64s\": no time zone (end with Z or +hh:mm)", s);
        return false;
    }
    if (*p != '\0') {
        snprintf(errbuf, errlen, "\"%.64s\": unexpected characters after the time", s);
        return false;
    }
    int64_t secs = (int64_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
    secs -= off_s;
    if (secs < 0 || (uint64_t)secs > LAST_S) {
        snprintf(errbuf, errlen, "\"%.64s\" is before 1970 or after 2262", s);
        return false;
    }
    *out = (uint64_t)secs * NS_PER_S + frac;
    return true;
}

bool
ns_time_parse(const char *s, uint64_t now_ns, uint64_t *out, char *errbuf, size_t errlen)
{
    if (s == NULL || s[0] == '\0') {
        snprintf(errbuf, errlen, "an empty time");
        return false;
    }
    if (strcmp(s, "now") == 0) {
        *out = now_ns;
        return true;
    }
    if (s[0] == '-') { /* relative: -N<unit> */
        const char *p = s + 1;
        size_t n = strspn(p, "0123456789");
        uint64_t v;
        static const struct {
            char unit;
            uint64_t s;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
        if (n == 0 || n > 9 || !digits(p, n, &v) || p[n] == '\0' || p[n + 1] != '\0') {
            snprintf(errbuf, errlen, "\"%.64s\" is not a relative time (-90s, -15m, -2h, -7d, -1w)",
                     s);
            return false;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (p[n] != units[i].unit)
                continue;
            uint64_t back = v * units[i].s; /* < 10^9 * 604800: no overflow */
            if (back > now_ns / NS_PER_S) {
                snprintf(errbuf, errlen, "\"%.64s\" reaches before 1970", s);
                return false;
            }
            *out = now_ns - back * NS_PER_S;
            return true;
        }
        snprintf(errbuf, errlen, "\"%.64s\": unknown unit '%c' (s, m, h, d or w)", s, p[n]);
        return false;
    }
    size_t n = strspn(s, "0123456789");
    if (n > 0 && (s[n] == '\0' || s[n] == '.')) { /* unix seconds */
        uint64_t secs, frac;
        const char *p = s + n;
        if (n > 11 || !digits(s, n, &secs) || !fraction(&p, &frac) || *p != '\0') {
            snprintf(errbuf, errlen, "\"%.64s\" is not a time in unix seconds", s);
            return false;
        }
        if (secs > LAST_S) {
            snprintf(errbuf, errlen, "\"%.64s\" is after 2262", s);
            return false;
        }
        *out = secs * NS_PER_S + frac;
        return true;
    }
    return rfc3339(s, out, errbuf, errlen);
}

bool
ns_addr_parse(const char *s, ns_addr_t *out, uint8_t *ver)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return false;
    if (inet_pton(AF_INET, s, out->b) == 1) {
        *ver = 4;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->b) == 1) {
        *ver = 6;
        return true;
    }
    memset(out, 0, sizeof(*out));
    return false;
}

/* qs.h - the API's request parsing: query strings, request paths, numbers and times.
 *
 * Pure functions over untrusted text (no allocation, no clock: "now" is passed in), with a
 * fuzz target (tests/fuzz/fuzz_qs.c). A query string is split at '&' into name=value pairs,
 * each percent-decoded ('+' is a space) into the parser's own fixed buffer. Refused: more
 * than NS_QS_MAX_PARAMS pairs, a query longer than NS_QS_MAX_LEN, a malformed escape, an
 * encoded NUL or control character, an empty or non-[a-z0-9_] name, a name given twice.
 *
 * Paths are never decoded: the API's routes contain only [A-Za-z0-9_./-], so a path holding
 * '%', "//", a "." or ".." segment, a backslash or a control character is refused before
 * routing: no encoding trick can reach a route, let alone a file.
 */
#ifndef NETSCOPE_QS_H
#define NETSCOPE_QS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_QS_MAX_PARAMS 32u
#define NS_QS_MAX_LEN 8192u   /* raw query string bytes */
#define NS_QS_NAME_MAX 32u    /* decoded name bytes, NUL excluded */

typedef struct {
    const char *name;  /* decoded, NUL-terminated, in the parser's buffer */
    const char *value; /* decoded, NUL-terminated ("" for "name" or "name=") */
} ns_qs_param_t;

typedef struct {
    size_t n;
    ns_qs_param_t p[NS_QS_MAX_PARAMS];
    char buf[NS_QS_MAX_LEN + 2 * NS_QS_MAX_PARAMS];
    /* On failure: a sentence, and the parameter it concerns ("" when none). */
    char err[128];
    char err_param[NS_QS_NAME_MAX + 1];
} ns_qs_t;

/* Parse the `len` bytes of `query` (without the '?') into `qs`. True on success; false with
 * qs->err (and qs->err_param when a parameter is to blame). */
bool ns_qs_parse(ns_qs_t *qs, const char *query, size_t len);

/* The value of parameter `name`, or NULL when absent. */
const char *ns_qs_get(const ns_qs_t *qs, const char *name);

/* The first parameter whose name is not in the NULL-terminated list `known`, or NULL. */
const char *ns_qs_unknown(const ns_qs_t *qs, const char *const *known);

/* True when `path` is a clean path (see the file comment). */
bool ns_qs_path_ok(const char *path);

/* Parse a decimal integer in [min, max] (no sign, no spaces, no leading '+'). */
bool ns_qs_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a time as ns since 1970: RFC 3339 ("2026-12-05T02:00:00Z", fractions and "+01:00"
 * offsets accepted), unix seconds ("1764900000", "1764900000.5"), "now", or relative to
 * `now_ns` ("-1h", "-30m", "-45s", "-2d", "-1w"). False for anything else, a date that does
 * not exist, or a time before 1970 or after 2262. */
bool ns_qs_time(const char *s, uint64_t now_ns, uint64_t *out_ns);

/* Parse a duration ("60", "60s", "5m", "1h", "1d") as seconds, in [1, max_s]. */
bool ns_qs_duration(const char *s, uint64_t max_s, uint64_t *out_s);

#endif /* NETSCOPE_QS_H */

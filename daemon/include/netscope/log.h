/* log.h - what the daemons say happened: one line per event on stderr.
 *
 * The agent and the collector log through this module only. A line is
 *   2026-12-04T17:01:02.123Z netscope-agent[4242]: warning: collector unreachable ...
 * written with one write(2) (lines are at most NS_LOG_LINE_MAX bytes, so lines of several
 * threads never interleave), to stderr, which systemd's journal or a container runtime
 * collects. No logging per packet anywhere: counters say that.
 */
#ifndef NETSCOPE_LOG_H
#define NETSCOPE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define NS_LOG_LINE_MAX 1024

typedef enum {
    NS_LOG_ERROR = 0,
    NS_LOG_WARN,
    NS_LOG_INFO,
    NS_LOG_DEBUG,
} ns_log_level_t;

/* Name the program (for every line) and set the most verbose level written (default info).
 * Call once, before threads start. `prog` must stay valid. */
void ns_log_init(const char *prog, ns_log_level_t level);

/* Change the level (SIGHUP reload). */
void ns_log_set_level(ns_log_level_t level);

/* "error", "warn", "info", "debug" -> level; false when the name is none of them. */
bool ns_log_level_parse(const char *name, ns_log_level_t *level);

/* The same as a configuration check: false with "log level 'X' is not ..." in errbuf when
 * `name` (NULL: "") names no level. */
bool ns_log_level_check(const char *name, char *errbuf, size_t errlen);

/* Write one line at `level` (dropped when more verbose than the set level). Thread-safe. */
void ns_log(ns_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ns_log_error(...) ns_log(NS_LOG_ERROR, __VA_ARGS__)
#define ns_log_warn(...) ns_log(NS_LOG_WARN, __VA_ARGS__)
#define ns_log_info(...) ns_log(NS_LOG_INFO, __VA_ARGS__)
#define ns_log_debug(...) ns_log(NS_LOG_DEBUG, __VA_ARGS__)

#endif /* NETSCOPE_LOG_H */

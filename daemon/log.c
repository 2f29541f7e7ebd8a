/* log.c - timestamped lines on stderr, one write(2) each (see log.h). */
#include "netscope/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *g_prog = "netscope";
static atomic_int g_level = NS_LOG_INFO;

void
ns_log_init(const char *prog, ns_log_level_t level)
{
    g_prog = prog;
    atomic_store(&g_level, (int)level);
}

void
ns_log_set_level(ns_log_level_t level)
{
    atomic_store(&g_level, (int)level);
}

bool
ns_log_level_parse(const char *name, ns_log_level_t *level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *level = (ns_log_level_t)i;
            return true;
        }
    }
    return false;
}

bool
ns_log_level_check(const char *name, char *errbuf, size_t errlen)
{
    ns_log_level_t lvl;
    if (ns_log_level_parse(name ? name : "", &lvl))
        return true;
    snprintf(errbuf, errlen, "log level '%s' is not error, warn, info or debug",
             name ? name : "");
    return false;
}

void
ns_log(ns_log_level_t level, const char *fmt, ...)
{
    static const char *const tags[] = {"error: ", "warning: ", "", "debug: "};
    if ((int)level > atomic_load(&g_level))
        return;
    char line[NS_LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld]: %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, g_prog, (long)getpid(), tags[(unsigned)level & 3u]);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (m > 0)
        len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    /* control characters from peers (names, keys) must not forge lines */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = '?';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

/* sdnotify.c - the systemd notify protocol without libsystemd (sdnotify.h).
 *
 * $NOTIFY_SOCKET is a filesystem path ("/run/systemd/notify") or an abstract socket name
 * ("@name": the '@' becomes the leading NUL of sun_path, and the address length counts only
 * the name's bytes, not a terminator). The message goes in one sendto() on a fresh
 * SOCK_DGRAM socket, non-blocking and close-on-exec, so a supervisor that is gone or slow
 * never stalls a daemon's main loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netscope/sdnotify.h"

#define NS_PER_US 1000ull

bool
ns_sdnotify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0' || state == NULL)
        return false;
    size_t n = strlen(path);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return false;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (path[0] == '/')
        len++; /* the terminating NUL of a path */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    size_t sl = strlen(state);
    ssize_t w;
    do
        w = sendto(fd, state, sl, MSG_NOSIGNAL, (const struct sockaddr *)&sa, len);
    while (w < 0 && errno == EINTR);
    close(fd);
    return w >= 0 && (size_t)w == sl;
}

bool
ns_sdnotifyf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return n >= 0 && ns_sdnotify(buf);
}

/* An unsigned decimal environment value; false when unset or not a number. */
static bool
env_u64(const char *name, unsigned long long *out)
{
    const char *s = getenv(name);
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return false;
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

void
ns_watchdog_init(ns_watchdog_t *w, uint64_t now_ns)
{
    w->interval_ns = 0;
    w->next_ns = 0;
    unsigned long long usec, pid;
    if (!env_u64("WATCHDOG_USEC", &usec) || usec == 0)
        return;
    if (env_u64("WATCHDOG_PID", &pid) && pid != (unsigned long long)getpid())
        return;
    w->interval_ns = (uint64_t)usec * NS_PER_US / 2;
    if (w->interval_ns == 0)
        w->interval_ns = 1;
    w->next_ns = now_ns; /* the first ping at the first poll */
}

bool
ns_watchdog_poll(ns_watchdog_t *w, uint64_t now_ns)
{
    if (w->interval_ns == 0 || now_ns < w->next_ns)
        return false;
    w->next_ns = now_ns + w->interval_ns;
    return ns_sdnotify("WATCHDOG=1");
}

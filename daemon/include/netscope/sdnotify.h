/* sdnotify.h - telling systemd (or any supervisor speaking its protocol) how a daemon is.
 *
 * The notify protocol is one datagram of "KEY=VALUE\n" lines sent to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Written here by
 * hand so that the daemons do not need libsystemd. The agent and the collector send
 *   READY=1 + STATUS=...   once their sockets are bound and the capture is open
 *   RELOADING=1            while a SIGHUP reload runs (READY=1 after it)
 *   WATCHDOG=1             every half $WATCHDOG_USEC from their main loops
 *   STOPPING=1             when they start to shut down
 * Without $NOTIFY_SOCKET every call does nothing and returns false.
 */
#ifndef NETSCOPE_SDNOTIFY_H
#define NETSCOPE_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Send `state` (lines of KEY=VALUE) to $NOTIFY_SOCKET in one datagram. False when the variable
 * is unset or empty, names no usable socket, or the send failed; never blocks. */
bool ns_sdnotify(const char *state);

/* The same with a printf format; the message is cut at 1024 bytes. */
bool ns_sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Watchdog pings: systemd sets $WATCHDOG_USEC (and $WATCHDOG_PID, the process it is meant
 * for) when the unit has WatchdogSec=. A ping goes out every half of that interval. */
typedef struct {
    uint64_t interval_ns; /* 0: no watchdog asked for */
    uint64_t next_ns;
} ns_watchdog_t;

/* Read the environment; `now_ns` is a monotonic time. A $WATCHDOG_PID other than getpid()
 * means no watchdog. */
void ns_watchdog_init(ns_watchdog_t *w, uint64_t now_ns);

/* Send WATCHDOG=1 when a ping is due at `now_ns` (monotonic); true when one was sent. */
bool ns_watchdog_poll(ns_watchdog_t *w, uint64_t now_ns);

#endif /* NETSCOPE_SDNOTIFY_H */

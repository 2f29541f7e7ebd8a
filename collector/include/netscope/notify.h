/* notify.h - alert notifications: a webhook (JSON POST) and syslog, once per state change.
 *
 * ns_notify_alert() is called by the ingest thread for each alert state change (raised,
 * ongoing, cleared; detect.h); it never blocks: the JSON goes into a bounded queue that one
 * background thread sends to the webhook, and a syslog line is written at once (LOG_DAEMON;
 * LOG_WARNING when raised, LOG_NOTICE otherwise).
 *
 * Webhook: `POST PATH HTTP/1.1` with Content-Type application/json, the alert object as the
 * body (ns_alert_json()), Connection: close; any 2xx answer is success. A failure (connect,
 * timeout, other status) is tried again `retries` times with backoff (0.5 s doubling, at most
 * 30 s), then dropped and counted. When the queue holds `queue` notifications the oldest is
 * dropped and counted. Plain http only (a TLS proxy or a local relay for https).
 */
#ifndef NETSCOPE_NOTIFY_H
#define NETSCOPE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/detect.h"

typedef struct {
    const char *webhook;  /* http://HOST[:PORT]/PATH; NULL or "" = none */
    bool syslog;
    uint32_t queue;       /* notifications waiting at most (>= 1) */
    uint32_t retries;
    uint32_t timeout_ms;
} ns_notify_opts_t;

typedef struct {
    uint64_t queued, sent, failed, dropped, retries, syslogged;
} ns_notify_stats_t;

typedef struct ns_notify ns_notify_t;

/* Start notifications for `o` (strings copied). NULL with a sentence in errbuf (a webhook URL
 * that is not http://HOST[:PORT][/PATH], out of memory, no thread). */
ns_notify_t *ns_notify_new(const ns_notify_opts_t *o, char *errbuf, size_t errlen);

/* Send what is queued (at most wait_ms more), stop the thread, free, NULL the pointer. */
void ns_notify_destroy(ns_notify_t **self_p, uint32_t wait_ms);

/* Notify state change of `a` (see the file comment). */
void ns_notify_alert(ns_notify_t *self, const ns_alert_t *a);

/* Any thread. */
void ns_notify_stats(ns_notify_t *self, ns_notify_stats_t *out);

#endif /* NETSCOPE_NOTIFY_H */

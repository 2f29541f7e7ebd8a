/* chsink.h - the collector's optional ClickHouse export: finished flows and 1-minute roll-ups,
 * sent in batches over ClickHouse's HTTP interface.
 *
 * Threads. Producers copy rows in and never block: ns_chsink_put_flow() (the ingest thread)
 * and ns_chsink_put_rollup() (the store's writer thread, from its on_rollup hook) each format
 * their row as one line of JSON (ClickHouse's JSONEachRow) and append it to that table's
 * queue under a mutex held for the copy only. One SENDER thread, started by ns_chsink_new(),
 * owns every socket: it takes up to opts.batch_rows rows of a table (when that many are
 * queued, or opts.batch_ms after the last send, or on a flush) and POSTs them as one INSERT.
 *
 * Queues. Bounded in bytes (opts.queue_bytes: 7/8 for flows, 1/8 for roll-ups). When a
 * queue is full the NEWEST row (the one being put) is refused and counted in stats.drops:
 * what is queued stays in order, and a batch being sent or retried is never cut. A batch stays
 * queued until ClickHouse answered 2xx; a failure (no connection, timeout, non-2xx: its message
 * is logged) is retried after a backoff that doubles from opts.retry_min_ms to
 * opts.retry_max_ms, with the same rows first. ClickHouse's HTTP INSERT of one batch is
 * atomic for batches below its max_insert_block_size (1 048 576 rows), so a retried batch is
 * not half in twice; a batch whose 2xx was lost on the way back is (at-least-once).
 *
 * Schema. Before the first INSERT, and again after any failed request (the server may have
 * restarted, or the table been dropped), the sender runs CREATE DATABASE IF NOT EXISTS and
 * CREATE TABLE IF NOT EXISTS for `flows` and `rollups_1m` (MergeTree, syntax ClickHouse 18.16
 * accepts; README.md shows the statements). `flows` has one column per scalar member of
 * `netscope flows` under the same name ("id.orig_h", "orig_bytes", ...), plus agent, received,
 * conn, primary and observers; a member a record lacks (service, the TCP members of a UDP flow)
 * takes the column's default ('' or 0). Rows are written by cli/flow_record.c, the writer of
 * `netscope flows`, so names and values cannot drift; members the table lacks are skipped by
 * ClickHouse (input_format_skip_unknown_fields=1), so a newer collector can feed an older
 * table.
 *
 * HTTP. A minimal HTTP/1.1 client over POSIX sockets: one connection per request
 * ("Connection: close": a request every batch_ms does not need keep-alive), Content-Length
 * bodies, the status line read and a chunked or plain body kept (64 KiB at most) for the log.
 * Plain http:// only; put a TLS proxy on localhost for https. The host name is resolved
 * (getaddrinfo) at each connection, without a timeout of its own.
 *
 * Caveats: each put function must be called from one thread at a time (each has its own
 * scratch buffer; the two may run concurrently). Rows are not deduplicated.
 */
#ifndef NETSCOPE_CHSINK_H
#define NETSCOPE_CHSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"
#include "netscope/flow_rec.h"
/* store.h names struct ns_store_point in ns_store_opts_t before it defines it: declared here
 * first, so that both mean the same type. */
struct ns_store_point;
#include "netscope/store.h"

#define NS_CHSINK_DB_MAX 64u /* database name bytes, NUL excluded */

typedef struct {
    const char *url;       /* "http://HOST[:PORT][/]" (port default 8123); required */
    const char *database;  /* [A-Za-z_][A-Za-z0-9_]*, default "netscope" */
    const char *user;      /* NULL or "": ClickHouse's default user */
    const char *password;  /* NULL or "": none */
    uint32_t batch_rows;   /* rows per INSERT at most, and a send as soon as that many wait
                              (default 10000) */
    uint32_t batch_ms;     /* send what waits at least this often (default 1000) */
    uint64_t queue_bytes;  /* both queues together (default 64 MiB, at least 64 KiB) */
    uint32_t timeout_ms;   /* connect, send and receive, each (default 10000) */
    uint32_t retry_min_ms; /* first backoff after a failure (default 500) */
    uint32_t retry_max_ms; /* backoff cap (default 30000) */
    uint32_t flush_ms;     /* ns_chsink_destroy() waits this long to send what is queued
                              (default 5000) */
} ns_chsink_opts_t;

void ns_chsink_opts_default(ns_chsink_opts_t *o);

typedef struct ns_chsink ns_chsink_t;

/* Check `o`, allocate the queues and start the sender. Nothing is sent before the first row
 * (an unreachable server is not an error here: rows wait and are retried). Returns a new sink,
 * or NULL with a sentence in errbuf: a URL that is not http://HOST[:PORT], a database name
 * that is not an identifier, out of memory, no thread. The strings of `o` are copied. */
ns_chsink_t *ns_chsink_new(const ns_chsink_opts_t *o, char *errbuf, size_t errlen);

/* Send what is queued (at most the sink's flush_ms), stop the sender, free. Rows still queued
 * then are lost: counted in stats.drops and logged. NULL-safe; NULLs the pointer. */
void ns_chsink_destroy(ns_chsink_t **self_p);

/* Queue final or interim record `rec` observed by meta->agent (its scalar members; the
 * transactions are not exported). Formatted during the call; never blocks on the network.
 * NS_OK; NS_EFULL when the flows queue is full (counted in stats.drops); NS_EINVAL for an
 * update record; NS_ENOMEM. One thread at a time. */
ns_err_t ns_chsink_put_flow(ns_chsink_t *self, const ns_flow_rec_t *rec,
                            const ns_store_meta_t *meta);

/* Queue the finished 1-minute bucket `p` of series `series` (at most NS_STORE_SERIES_MAX
 * bytes; longer names are refused with NS_EINVAL). NS_OK; NS_EFULL (counted in stats.drops).
 * One thread at a time. */
ns_err_t ns_chsink_put_rollup(ns_chsink_t *self, const char *series, const ns_store_point_t *p);

/* ns_chsink_put_rollup() in the shape of ns_store_opts_t.on_rollup: set
 *   opts.on_rollup = ns_chsink_on_rollup; opts.rollup_ud = sink;
 * (a refused bucket is counted in the sink's stats). */
void ns_chsink_on_rollup(void *sink, const char *series, const struct ns_store_point *p);

/* Ask the sender to send everything queued now and wait until the queues are empty, at most
 * timeout_ms. True when they are. (Tests; the collector relies on batch_ms.) */
bool ns_chsink_flush(ns_chsink_t *self, uint32_t timeout_ms);

typedef struct {
    uint64_t flows_queued, rollups_queued; /* rows accepted by the put functions */
    uint64_t flows_sent, rollups_sent;     /* rows ClickHouse acknowledged */
    uint64_t batches_sent;                 /* INSERTs acknowledged */
    uint64_t failures;                     /* requests that failed (INSERT or CREATE) */
    uint64_t retries;                      /* INSERTs of a batch that waited through a failure */
    uint64_t drops;                        /* rows refused (queue full) or lost at destroy */
    uint64_t schema_created;               /* times the CREATE statements all succeeded */
    uint64_t queue_rows, queue_bytes;      /* waiting now */
    bool connected; /* the last INSERT succeeded and no request failed since */
} ns_chsink_stats_t;

/* Counters, copied under the sink's lock (any thread). */
void ns_chsink_stats(ns_chsink_t *self, ns_chsink_stats_t *out);

/* The statements the sender runs before inserting, for `database` (README.md, tests): the
 * i-th of ns_chsink_schema_count(), written into out (NUL-terminated). Returns its length, or
 * 0 when it did not fit or i is out of range. */
size_t ns_chsink_schema(const char *database, size_t i, char *out, size_t cap);
size_t ns_chsink_schema_count(void);

#endif /* NETSCOPE_CHSINK_H */
